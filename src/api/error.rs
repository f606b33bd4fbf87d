//! The one error type of the client, mapped once to what the operator reads.

use serde::Deserialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 401: the key is missing, wrong, revoked or expired.
    Unauthenticated(String),
    /// 404 on the resource asked for.
    NotFound(String),
    /// 429: wait this many seconds before retrying.
    RateLimited { retry_after_secs: u32 },
    /// Any other 4xx the server explained with an `error_code`.
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// 5xx.
    Server { status: u16 },
    /// The request never got an answer (offline, DNS, CORS, connection reset).
    Network(String),
    /// An answer that is not the JSON the contract describes.
    Malformed(String),
}

/// The error body of the contract. Every field is optional here so a bare 500 page still maps.
#[derive(Deserialize, Default)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// Fallback wait when a 429 comes without a usable `Retry-After`.
const DEFAULT_RETRY_AFTER_SECS: u32 = 5;

impl ApiError {
    /// Builds the error for a non-2xx answer from its status, `Retry-After` header and body.
    pub fn from_response(status: u16, retry_after: Option<&str>, body: &str) -> ApiError {
        let parsed: ErrorBody = serde_json::from_str(body).unwrap_or_default();
        let message = parsed.message.unwrap_or_default();
        match status {
            401 => ApiError::Unauthenticated(message),
            404 => ApiError::NotFound(message),
            429 => ApiError::RateLimited {
                retry_after_secs: retry_after
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(DEFAULT_RETRY_AFTER_SECS),
            },
            s if s >= 500 => ApiError::Server { status: s },
            s => ApiError::Rejected {
                status: s,
                code: parsed.error_code.unwrap_or_else(|| format!("HTTP_{s}")),
                message,
            },
        }
    }

    /// No answer came, or one not to be read: the request may have been carried out all the
    /// same, and a send made again may go out twice.
    pub fn answer_lost(&self) -> bool {
        matches!(
            self,
            ApiError::Network(_) | ApiError::Malformed(_) | ApiError::Server { .. }
        )
    }

    /// What the operator reads.
    pub fn user_message(&self) -> String {
        match self {
            ApiError::Unauthenticated(_) => {
                "The API key was not accepted. It may be wrong, revoked or expired: enter it again."
                    .into()
            }
            ApiError::NotFound(_) => {
                "Not found: it may have been removed, or the link is wrong.".into()
            }
            ApiError::RateLimited { retry_after_secs } => {
                // Said once the client's own retries are spent: nothing retries after this.
                format!("Too many requests right now: wait {retry_after_secs} s, then try again.")
            }
            ApiError::Rejected { code, message, .. } => match code.as_str() {
                "RECIPIENT_OPTED_OUT" => "This number has opted out; it can't be messaged.".into(),
                "WINDOW_CLOSED" => {
                    "The WhatsApp 24-hour window has closed: send an approved template instead."
                        .into()
                }
                "CONVERSATION_CLOSED" => "This conversation is closed.".into(),
                _ if message.is_empty() => format!("The request was refused ({code})."),
                _ => format!("{message} ({code})"),
            },
            ApiError::Server { status } => {
                format!("Voicebip had a problem answering (HTTP {status}). Try again in a moment.")
            }
            ApiError::Network(_) => {
                "Could not reach Voicebip. Check the connection and the API URL.".into()
            }
            ApiError::Malformed(_) => "Voicebip sent an answer the console could not read.".into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.user_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_statuses_and_bodies() {
        let body =
            r#"{"error_code":"WINDOW_CLOSED","message":"window closed","request_id":"req_1"}"#;
        assert!(matches!(
            ApiError::from_response(422, None, body),
            ApiError::Rejected { ref code, .. } if code == "WINDOW_CLOSED"
        ));
        assert_eq!(
            ApiError::from_response(429, Some(" 7 "), ""),
            ApiError::RateLimited {
                retry_after_secs: 7
            }
        );
        assert_eq!(
            ApiError::from_response(429, Some("soon"), "<html>"),
            ApiError::RateLimited {
                retry_after_secs: DEFAULT_RETRY_AFTER_SECS
            }
        );
        assert_eq!(
            ApiError::from_response(503, None, "<html>"),
            ApiError::Server { status: 503 }
        );
        assert!(matches!(
            ApiError::from_response(401, None, "{}"),
            ApiError::Unauthenticated(_)
        ));
        assert!(matches!(
            ApiError::from_response(400, None, "not json"),
            ApiError::Rejected { ref code, .. } if code == "HTTP_400"
        ));
    }

    #[test]
    fn messages_never_leak_raw_bodies() {
        let e = ApiError::from_response(500, None, "<script>secret</script>");
        assert!(!e.user_message().contains("script"));
    }
}
