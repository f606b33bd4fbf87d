//! A log of the `/v1` requests the simulator answered (`GET /sim/requests`), so browser tests
//! can check how the console talks to the API: which auth it used, how many requests a screen
//! costs. Keys are never recorded: neither the `token` value nor any other that holds one.

use crate::auth::holds_key;
use crate::clock::format_ts;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;

const MAX_ENTRIES: usize = 20_000;

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub method: String,
    pub path: String,
    /// The query string with the `token` value, and any other that holds a key, replaced by
    /// `REDACTED`.
    pub query: Option<String>,
    pub query_has_token: bool,
    pub has_authorization: bool,
    pub status: u16,
    pub at: String,
}

#[derive(Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<Entry>>,
}

impl RequestLog {
    pub fn push(&self, entry: Entry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() == MAX_ENTRIES {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    pub fn entries(&self) -> Vec<Entry> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.iter().cloned().collect()
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// The query string with every `token` parameter's value, and any parameter that holds a key,
/// redacted; and whether there was a `token` parameter.
pub fn redact_query(query: &str) -> (String, bool) {
    let mut has_token = false;
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            // Decoded, as the key's check reads it (`%74oken` is `token`).
            if crate::auth::percent_decode(name) == "token" {
                has_token = true;
                "token=REDACTED".to_string()
            } else if holds_key(pair) {
                "REDACTED".to_string()
            } else {
                pair.to_string()
            }
        })
        .collect();
    (parts.join("&"), has_token)
}

pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if !(path == "/v1" || path.starts_with("/v1/")) {
        return next.run(req).await;
    }
    let path = if holds_key(&path) {
        "/v1/REDACTED".to_string()
    } else {
        path
    };
    let method = req.method().to_string();
    let (query, query_has_token) = match req.uri().query() {
        Some(q) => {
            let (redacted, has_token) = redact_query(q);
            (Some(redacted), has_token)
        }
        None => (None, false),
    };
    let has_authorization = req.headers().contains_key(header::AUTHORIZATION);
    let response = next.run(req).await;
    state.log.push(Entry {
        method,
        path,
        query,
        query_has_token,
        has_authorization,
        status: response.status().as_u16(),
        at: format_ts(state.clock.now()),
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_values_are_redacted() {
        assert_eq!(
            redact_query("token=pk_test_x&a=1"),
            ("token=REDACTED&a=1".to_string(), true)
        );
        assert_eq!(
            redact_query("page_size=20"),
            ("page_size=20".to_string(), false)
        );
        assert_eq!(redact_query("tokens=1"), ("tokens=1".to_string(), false));
        assert_eq!(
            redact_query("%74oken=abc"),
            ("token=REDACTED".to_string(), true),
            "a name written encoded is the same name"
        );
        assert_eq!(
            redact_query("a=1&api_key=pk%5Ftest%5Fx"),
            ("a=1&REDACTED".to_string(), false)
        );
    }
}
