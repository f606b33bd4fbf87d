//! API-key authentication for `/v1`.
//!
//! `Authorization: Bearer <key>` everywhere. `?token=<key>` only on
//! `GET /v1/conversations/{id}/stream` (browsers cannot set headers on an EventSource, API.md
//! follows the Conversations guide); a `token` query parameter anywhere else is refused with
//! 401 even when its key is valid, and so is any other URL that holds a key (in any parameter,
//! percent-encoded or not, or in the path), so a client leaking keys into URLs is caught.

use crate::error::ApiError;
use crate::ids::splitmix64;
use crate::state::AppState;
use crate::DEMO_KEY;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Lets tests act as another operator: its value becomes `actor_user_id` in the audit trail.
pub const USER_HEADER: &str = "x-voicebip-user";

/// Who made the request, for audit rows.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
}

/// The path as the client sent it (nested routers see it without `/v1`).
pub fn full_path(req: &Request) -> String {
    req.extensions()
        .get::<OriginalUri>()
        .map(|u| u.0.path().to_string())
        .unwrap_or_else(|| req.uri().path().to_string())
}

pub fn is_stream_path(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    matches!(segments.as_slice(), ["v1", "conversations", id, "stream"] if !id.is_empty())
}

/// A stable user id per key: the demo key is the demo operator.
pub fn user_for_key(key: &str) -> String {
    if key == DEMO_KEY {
        return "usr_demo_operator".to_string();
    }
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("usr_{:012x}", splitmix64(hash) >> 16)
}

/// The request's query parameters as sent, `(name, value)` (a name without `=` has an empty
/// value); and whether a name, decoded, is `token`.
fn query_pairs(req: &Request) -> impl Iterator<Item = (&str, &str, bool)> {
    let query = req.uri().query().unwrap_or("");
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (name, value, percent_decode(name) == "token")
    })
}

fn query_token(req: &Request) -> Option<String> {
    query_pairs(req).find_map(|(_, value, token)| token.then(|| percent_decode(value)))
}

/// Whether the text, percent-decoded, holds something shaped like an API key.
pub fn holds_key(text: &str) -> bool {
    let decoded = percent_decode(text);
    decoded.contains("pk_live_") || decoded.contains("pk_test_")
}

/// Whether the URL carries a key anywhere but the one place the contract allows: the `token`
/// parameter of the stream path.
fn key_elsewhere_in_url(req: &Request, on_stream: bool) -> bool {
    let in_query = query_pairs(req)
        .any(|(name, value, token)| holds_key(name) || (!(on_stream && token) && holds_key(value)));
    in_query || holds_key(req.uri().path())
}

/// Enough percent-decoding for API keys in a query string.
pub(crate) fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match bytes[i] {
            b'%' if i + 2 < bytes.len() => hex(bytes[i + 1])
                .zip(hex(bytes[i + 2]))
                .map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match (decoded, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn bearer(req: &Request) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthenticated("malformed Authorization header"))?;
    match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty() => {
            Ok(Some(key.trim().to_string()))
        }
        _ => Err(ApiError::unauthenticated(
            "malformed Authorization header; expected `Bearer <key>`",
        )),
    }
}

fn authenticate(state: &AppState, req: &Request) -> Result<Actor, ApiError> {
    let path = full_path(req);
    let on_stream = req.method() == Method::GET && is_stream_path(&path);
    let from_query = query_token(req);
    if from_query.is_some() && !on_stream {
        return Err(ApiError::unauthenticated(
            "the token query parameter is accepted only on GET /v1/conversations/{id}/stream; \
             use Authorization: Bearer <key>",
        ));
    }
    if key_elsewhere_in_url(req, on_stream) {
        return Err(ApiError::unauthenticated(
            "an API key was sent in the URL; send it as Authorization: Bearer <key>",
        ));
    }
    let key = match bearer(req)? {
        Some(key) => key,
        None => from_query.ok_or_else(|| {
            ApiError::unauthenticated("missing API key; send Authorization: Bearer <key>")
        })?,
    };
    // API.md: keys start with `pk_live_` or `pk_test_`; a malformed one is a 401 like any other.
    if !(key.starts_with("pk_live_") || key.starts_with("pk_test_")) {
        return Err(ApiError::unauthenticated(
            "malformed API key: keys start with pk_live_ or pk_test_",
        ));
    }
    if !state.api_keys.contains(&key) {
        return Err(ApiError::unauthenticated(
            "invalid, revoked or expired API key",
        ));
    }
    let user_id = req
        .headers()
        .get(USER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 100)
        .map(str::to_string)
        .unwrap_or_else(|| user_for_key(&key));
    Ok(Actor { user_id })
}

pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match authenticate(&state, &req) {
        Ok(actor) => {
            req.extensions_mut().insert(actor);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_stream_path_is_a_stream_path() {
        assert!(is_stream_path("/v1/conversations/conv_1/stream"));
        assert!(!is_stream_path("/v1/conversations/conv_1"));
        assert!(!is_stream_path("/v1/conversations//stream"));
        assert!(!is_stream_path("/v1/conversations/conv_1/stream/x"));
        assert!(!is_stream_path("/v1/agents/a/stream"));
    }

    #[test]
    fn user_ids_are_stable_per_key() {
        assert_eq!(user_for_key(DEMO_KEY), "usr_demo_operator");
        assert_eq!(user_for_key("pk_test_other"), user_for_key("pk_test_other"));
        assert_ne!(user_for_key("pk_test_other"), user_for_key("pk_test_third"));
        assert!(user_for_key("pk_live_x").starts_with("usr_"));
    }

    #[test]
    fn a_key_anywhere_in_the_url_but_the_streams_token_is_found() {
        let url = |uri: &str| {
            Request::builder()
                .uri(uri)
                .body(Default::default())
                .unwrap()
        };
        let stream = "/v1/conversations/conv_1/stream";
        assert!(!key_elsewhere_in_url(
            &url(&format!("{stream}?token=pk_test_a")),
            true
        ));
        assert!(!key_elsewhere_in_url(
            &url(&format!("{stream}?%74oken=pk_test_a")),
            true
        ));
        assert!(key_elsewhere_in_url(
            &url(&format!("{stream}?key=pk_test_a")),
            true
        ));
        assert!(key_elsewhere_in_url(
            &url("/v1/conversations?token=pk_test_a"),
            false
        ));
        assert!(key_elsewhere_in_url(
            &url("/v1/conversations?api_key=pk%5Flive%5Fa"),
            false
        ));
        assert!(key_elsewhere_in_url(
            &url("/v1/conversations?pk_test_a"),
            false
        ));
        assert!(key_elsewhere_in_url(
            &url("/v1/conversations/pk_test_a"),
            false
        ));
        assert!(!key_elsewhere_in_url(
            &url("/v1/conversations?page_size=20"),
            false
        ));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("pk_test_a%2Bb"), "pk_test_a+b");
        assert_eq!(percent_decode("a%zz"), "a%zz");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
