//! Keyset page tokens: unpadded base64url JSON naming the last item of the page (its
//! `created_at` and id, the shape API.md gives, and for the list the `last_message_at` it is
//! ordered by), plus the filters and page size it was issued for, so a token reused with other
//! ones is refused.

use crate::clock::{format_ts, parse_ts, Millis};
use crate::error::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;

/// Position after the last conversation of a page (list order: `last_message_at` descending,
/// then `conversation_id` descending).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationCursor {
    pub created_at: String,
    pub last_message_at: String,
    pub conversation_id: String,
    pub agent_id: Option<String>,
    pub channel: Option<String>,
    pub page_size: u32,
}

/// Position after the last message of a page (newest first: `created_at` descending, then
/// `message_id` descending), within one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageCursor {
    pub created_at: String,
    pub message_id: String,
    pub conversation_id: String,
    pub page_size: u32,
}

impl ConversationCursor {
    pub fn key(&self) -> Result<(Millis, String), ApiError> {
        let at = parse_ts(&self.last_message_at).ok_or_else(bad_token)?;
        Ok((at, self.conversation_id.clone()))
    }
}

impl MessageCursor {
    pub fn key(&self) -> Result<(Millis, String), ApiError> {
        let at = parse_ts(&self.created_at).ok_or_else(bad_token)?;
        Ok((at, self.message_id.clone()))
    }
}

/// `last`: the page's last conversation, as `(created_at, last_message_at, id)`.
pub fn conversation_cursor(
    last: (Millis, Millis, &str),
    agent_id: Option<&str>,
    channel: Option<&str>,
    page_size: u32,
) -> String {
    encode(&ConversationCursor {
        created_at: format_ts(last.0),
        last_message_at: format_ts(last.1),
        conversation_id: last.2.to_string(),
        agent_id: agent_id.map(str::to_string),
        channel: channel.map(str::to_string),
        page_size,
    })
}

pub fn message_cursor(last: (Millis, &str), conversation_id: &str, page_size: u32) -> String {
    encode(&MessageCursor {
        created_at: format_ts(last.0),
        message_id: last.1.to_string(),
        conversation_id: conversation_id.to_string(),
        page_size,
    })
}

pub fn encode<T: Serialize>(cursor: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

pub fn decode<T: DeserializeOwned>(token: &str) -> Result<T, ApiError> {
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad_token())?;
    serde_json::from_slice(&bytes).map_err(|_| bad_token())
}

fn bad_token() -> ApiError {
    ApiError::invalid_argument("page_token is not a token issued by this endpoint")
}

pub fn reuse_refused() -> ApiError {
    ApiError::invalid_argument(
        "page_token was issued for other filters or another page_size; start over without page_token",
    )
}

/// `page_size` from the query: 1 to 100; absent means `default`.
pub fn page_size(raw: Option<&str>, default: u32) -> Result<u32, ApiError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    match raw.parse::<u32>() {
        Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid_argument(format!(
            "page_size must be an integer from 1 to {MAX_PAGE_SIZE}, got {raw:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_token_is_unpadded_base64url_json() {
        let token = conversation_cursor(
            (1_747_300_000_000, 1_747_319_521_250, "conv_abc"),
            Some("agt_X"),
            None,
            20,
        );
        assert!(!token.contains('=') && !token.contains('+') && !token.contains('/'));
        let json: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&token).unwrap()).unwrap();
        assert_eq!(json["created_at"], "2025-05-15T09:06:40Z");
        assert_eq!(json["last_message_at"], "2025-05-15T14:32:01.250Z");
        assert_eq!(json["conversation_id"], "conv_abc");
        assert_eq!(json["agent_id"], "agt_X");
        assert_eq!(json["page_size"], 20);
        let back: ConversationCursor = decode(&token).unwrap();
        assert_eq!(
            back.key().unwrap(),
            (1_747_319_521_250, "conv_abc".to_string())
        );
    }

    #[test]
    fn message_token_round_trips() {
        let token = message_cursor((1_000, "msg_1"), "conv_1", 5);
        let back: MessageCursor = decode(&token).unwrap();
        assert_eq!(back.key().unwrap(), (1_000, "msg_1".to_string()));
        assert_eq!(back.conversation_id, "conv_1");
    }

    #[test]
    fn garbage_tokens_are_invalid_arguments() {
        for token in [
            "",
            "!!!",
            "eyJ",
            "bm90IGpzb24",
            &URL_SAFE_NO_PAD.encode(b"{\"x\":1}"),
        ] {
            let err = decode::<ConversationCursor>(token).unwrap_err();
            assert_eq!(err.code, "INVALID_ARGUMENT", "{token}");
        }
        // A message token is not a conversation token.
        let token = message_cursor((1_000, "msg_1"), "conv_1", 5);
        assert!(decode::<ConversationCursor>(&token).is_err());
    }

    #[test]
    fn page_size_bounds() {
        assert_eq!(page_size(None, 20).unwrap(), 20);
        assert_eq!(page_size(Some("1"), 20).unwrap(), 1);
        assert_eq!(page_size(Some("100"), 20).unwrap(), 100);
        for bad in ["0", "101", "-1", "abc", "2.5", ""] {
            assert!(page_size(Some(bad), 20).is_err(), "{bad}");
        }
    }
}
