//! Fault injection for `/v1` (`POST /sim/faults`): latency, 5xx, forced 429 with
//! `Retry-After`, and stream faults (dropped streams, a malformed frame, a refused stream), so
//! tests can prove the console survives them.
//!
//! A rule names a route (`"GET /v1/conversations/{id}"`, `"/v1/messages"` for any method, or
//! `"*"`). Every matching rule applies: latencies add up, the first rule that fails the request
//! answers it. `count` limits a rule to that many applicable requests; then it is removed.

use crate::auth::{full_path, is_stream_path};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub route: String,
    pub latency_ms: Option<u64>,
    /// Share of matching requests answered with `status` (default 503), spread evenly.
    pub error_rate: Option<f64>,
    pub status: Option<u16>,
    /// With `status` (or `error_rate`): the request is carried out first, and its answer
    /// replaced by the error: a gateway that gave up on an answer the API then gave (a send
    /// that went out, reported as failed).
    pub carried_out: Option<bool>,
    pub force_429_retry_after: Option<u64>,
    pub count: Option<u32>,
    pub drop_stream_after: Option<u32>,
    pub malformed_frame: Option<bool>,
    /// Streams open, then go silent (no frames, no keepalives) without ending: a connection
    /// that died without a word, as after a laptop's sleep.
    pub stall_stream: Option<bool>,
    pub stream_status: Option<u16>,
    /// Streams open, send a terminal `event: error` frame with this `error_code` (API.md's
    /// table), and end: a refusal told the way API.md's convention tells it, not by a status.
    pub stream_error_frame: Option<String>,
    /// Streamed bodies (the export) wait this long before each chunk after the first, so a
    /// client sees a long download progress and can cancel it half-way.
    pub chunk_delay_ms: Option<u64>,
    /// Streamed bodies wait this long before their first chunk, the headers sent: a server
    /// gathering the file after it has answered.
    pub first_chunk_delay_ms: Option<u64>,
    /// Streamed bodies end, cleanly, after this many chunks: a proxy that cut the download
    /// short and closed it as if it were whole.
    pub cut_body_after_chunks: Option<u32>,
    /// Streamed bodies break off after this many chunks, the connection lost without an end:
    /// a network that failed mid-download.
    pub break_body_after_chunks: Option<u32>,
    /// Answers come without CORS headers, as from a gateway in front of the API that adds
    /// none (to a refusal, say): a browser on another origin cannot read them.
    pub omit_cors: Option<bool>,
    /// Answered `200 OK` with an HTML page in place of the API's answer: the sign-in page of a
    /// gateway or proxy in front of the API, which a client must not take for the answer.
    pub html_page: Option<bool>,
    /// With `html_page`: the page's `Content-Type` (default `text/html; charset=utf-8`), as a
    /// proxy may label it wrong (`application/json`, or none a client can go by).
    pub html_page_type: Option<String>,
    /// Only requests whose query string holds this text (`page_token`: a list's later pages,
    /// not its first).
    pub query_contains: Option<String>,
}

/// How a streamed body is sent wrong (`chunk_delay_ms`, `cut_body_after_chunks`,
/// `break_body_after_chunks`); in the
/// request's extensions.
#[derive(Debug, Clone, Copy, Default)]
pub struct BodyFault {
    pub pace: Duration,
    /// Before the first chunk (`first_chunk_delay_ms`).
    pub head_start: Duration,
    pub cut_after_chunks: Option<u32>,
    /// Whether the body breaks off where it is cut, rather than ending.
    pub broken: bool,
}

/// What the stream handler must do wrong.
#[derive(Debug, Clone, Default)]
pub struct StreamFault {
    /// End the stream after this many data frames.
    pub drop_after: Option<u32>,
    /// Send one non-JSON data frame first.
    pub malformed_frame: bool,
    /// Send nothing after opening, and stay open.
    pub stalled: bool,
    /// Send a terminal `event: error` frame with this code after opening, and end.
    pub error_frame: Option<String>,
}

struct Rule {
    id: String,
    spec: FaultSpec,
    method: Option<Method>,
    /// Path segments; `None` matches every `/v1` route.
    pattern: Option<Vec<String>>,
    remaining: Option<u32>,
    applied: u64,
}

impl Rule {
    fn matches(&self, method: &Method, segments: &[&str], query: &str) -> bool {
        if self.method.as_ref().is_some_and(|m| m != method) {
            return false;
        }
        if self
            .spec
            .query_contains
            .as_ref()
            .is_some_and(|q| !query.contains(q.as_str()))
        {
            return false;
        }
        let Some(pattern) = &self.pattern else {
            return true;
        };
        pattern.len() == segments.len()
            && pattern
                .iter()
                .zip(segments)
                .all(|(p, s)| p == s || p == "*" || (p.starts_with('{') && p.ends_with('}')))
    }

    fn affects_plain_requests(&self) -> bool {
        let s = &self.spec;
        s.latency_ms.is_some()
            || s.chunk_delay_ms.is_some()
            || s.first_chunk_delay_ms.is_some()
            || s.cut_body_after_chunks.is_some()
            || s.break_body_after_chunks.is_some()
            || s.error_rate.is_some()
            || s.status.is_some()
            || s.force_429_retry_after.is_some()
            || s.omit_cors == Some(true)
            || s.html_page == Some(true)
    }

    fn affects_streams(&self) -> bool {
        let s = &self.spec;
        self.affects_plain_requests()
            || s.drop_stream_after.is_some()
            || s.malformed_frame == Some(true)
            || s.stall_stream == Some(true)
            || s.stream_status.is_some()
            || s.stream_error_frame.is_some()
    }

    fn view(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.spec).unwrap_or_default();
        v["fault_id"] = self.id.clone().into();
        v["applied"] = self.applied.into();
        v["remaining"] = self.remaining.into();
        v
    }
}

#[derive(Default)]
pub struct Faults {
    rules: Mutex<Vec<Rule>>,
    next_id: Mutex<u64>,
}

pub struct Decision {
    pub latency: Duration,
    pub body: BodyFault,
    pub respond: Option<ApiError>,
    pub stream: Option<StreamFault>,
    pub omit_cors: bool,
    /// The `html_page` fault's answer, with this `Content-Type`.
    pub html_page: Option<String>,
    /// `respond` comes after the request is carried out (`carried_out`).
    pub carried_out: bool,
}

fn error_status(code: u16, field: &str) -> Result<StatusCode, String> {
    match StatusCode::from_u16(code) {
        Ok(s) if (400..=599).contains(&code) => Ok(s),
        _ => Err(format!("{field} must be an HTTP error status (400-599)")),
    }
}

impl Faults {
    pub fn add(&self, spec: FaultSpec) -> Result<serde_json::Value, String> {
        if let Some(rate) = spec.error_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err("error_rate must be between 0.0 and 1.0".into());
            }
        }
        // (A rule for no request would still apply once: it is only removed once used.)
        if spec.count == Some(0) {
            return Err("count must be at least 1 (leave it out for until cleared)".into());
        }
        if let Some(s) = spec.status {
            error_status(s, "status")?;
        }
        if spec.carried_out == Some(true) && spec.status.is_none() && spec.error_rate.is_none() {
            return Err("carried_out needs a status or an error_rate to answer with".into());
        }
        if let Some(s) = spec.stream_status {
            error_status(s, "stream_status")?;
        }
        if let Some(kind) = &spec.html_page_type {
            if spec.html_page != Some(true) || axum::http::HeaderValue::from_str(kind).is_err() {
                return Err("html_page_type must be a header value, with html_page: true".into());
            }
        }
        if let Some(code) = &spec.stream_error_frame {
            if code.is_empty() || !code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                return Err("stream_error_frame must be an error code, e.g. NOT_FOUND".into());
            }
        }
        let (method, pattern) = parse_route(&spec.route)?;
        let id = {
            let mut n = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            format!("flt_{n}")
        };
        let rule = Rule {
            id,
            remaining: spec.count,
            spec,
            method,
            pattern,
            applied: 0,
        };
        let view = rule.view();
        self.rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(rule);
        Ok(view)
    }

    pub fn clear(&self) {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub fn list(&self) -> Vec<serde_json::Value> {
        let rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        rules.iter().map(Rule::view).collect()
    }

    pub fn decide(&self, method: &Method, path: &str, query: &str) -> Decision {
        let on_stream = *method == Method::GET && is_stream_path(path);
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut decision = Decision {
            latency: Duration::ZERO,
            body: BodyFault::default(),
            respond: None,
            stream: None,
            omit_cors: false,
            html_page: None,
            carried_out: false,
        };
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        for rule in rules.iter_mut() {
            let relevant = if on_stream {
                rule.affects_streams()
            } else {
                rule.affects_plain_requests()
            };
            if !relevant || !rule.matches(method, &segments, query) {
                continue;
            }
            let n = rule.applied;
            rule.applied += 1;
            if let Some(left) = rule.remaining.as_mut() {
                *left = left.saturating_sub(1);
            }
            let s = &rule.spec;
            decision.latency += Duration::from_millis(s.latency_ms.unwrap_or(0));
            decision.body.pace += Duration::from_millis(s.chunk_delay_ms.unwrap_or(0));
            decision.body.head_start += Duration::from_millis(s.first_chunk_delay_ms.unwrap_or(0));
            if decision.body.cut_after_chunks.is_none() {
                decision.body.cut_after_chunks =
                    s.break_body_after_chunks.or(s.cut_body_after_chunks);
                decision.body.broken = s.break_body_after_chunks.is_some();
            }
            if decision.respond.is_none() {
                decision.respond = respond(s, n, on_stream);
                decision.carried_out = decision.respond.is_some() && s.carried_out == Some(true);
            }
            decision.omit_cors |= s.omit_cors == Some(true);
            if decision.html_page.is_none() && s.html_page == Some(true) {
                decision.html_page = Some(
                    s.html_page_type
                        .clone()
                        .unwrap_or_else(|| "text/html; charset=utf-8".into()),
                );
            }
            let stalls = s.stall_stream == Some(true);
            if on_stream
                && (s.drop_stream_after.is_some()
                    || s.malformed_frame == Some(true)
                    || stalls
                    || s.stream_error_frame.is_some())
            {
                let fault = decision.stream.get_or_insert_with(StreamFault::default);
                fault.drop_after = fault.drop_after.or(s.drop_stream_after);
                fault.malformed_frame |= s.malformed_frame == Some(true);
                fault.stalled |= stalls;
                if fault.error_frame.is_none() {
                    fault.error_frame = s.stream_error_frame.clone();
                }
            }
        }
        rules.retain(|r| r.remaining != Some(0));
        decision
    }
}

/// The error a rule answers its `n`-th applicable request with, if any.
fn respond(s: &FaultSpec, n: u64, on_stream: bool) -> Option<ApiError> {
    if let Some(secs) = s.force_429_retry_after {
        return Some(ApiError::rate_limited(secs));
    }
    if on_stream {
        if let Some(code) = s.stream_status {
            return error_status(code, "").ok().map(ApiError::from_status);
        }
    }
    if s.error_rate.is_none() && s.status.is_none() {
        return None;
    }
    let rate = s.error_rate.unwrap_or(1.0);
    // Fails exactly `rate` of the requests, evenly spread: the k-th fails when the running
    // total of `rate` crosses an integer.
    let fails = ((n + 1) as f64 * rate).floor() > (n as f64 * rate).floor();
    fails.then(|| {
        let status =
            error_status(s.status.unwrap_or(503), "").unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        ApiError::from_status(status)
    })
}

/// `"*"`, `"GET /v1/conversations/{id}"`, or a path alone (any method). A path without the
/// `/v1` prefix gets it.
fn parse_route(route: &str) -> Result<(Option<Method>, Option<Vec<String>>), String> {
    let route = route.trim();
    if route == "*" {
        return Ok((None, None));
    }
    let (method, path) = match route.split_once(' ') {
        Some((m, p)) => {
            let method = Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes())
                .map_err(|_| format!("bad method in route {route:?}"))?;
            (Some(method), p.trim())
        }
        None => (None, route),
    };
    if !path.starts_with('/') {
        return Err(format!(
            "route must be \"*\", \"METHOD /path\" or \"/path\", got {route:?}"
        ));
    }
    let path = if path == "/v1" || path.starts_with("/v1/") {
        path.to_string()
    } else {
        format!("/v1{path}")
    };
    let segments = path
        .trim_start_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    Ok((method, Some(segments)))
}

/// The `html_page` fault's answer.
const SIGN_IN_PAGE: &str =
    "<!doctype html>\n<html lang=\"en\"><head><title>Sign in</title></head>\n\
    <body><form method=\"post\"><label>Email <input name=\"email\"></label>\n\
    <button>Sign in</button></form></body></html>\n";

pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = full_path(&req);
    let query = req.uri().query().unwrap_or_default().to_owned();
    let decision = state.faults.decide(req.method(), &path, &query);
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    let mut response = match decision.respond {
        Some(error) if decision.carried_out => {
            drop(next.run(req).await);
            error.into_response()
        }
        Some(error) => error.into_response(),
        None if decision.html_page.is_some() => (
            [(
                axum::http::header::CONTENT_TYPE,
                decision.html_page.clone().unwrap_or_default(),
            )],
            SIGN_IN_PAGE,
        )
            .into_response(),
        None => {
            if let Some(stream) = decision.stream {
                req.extensions_mut().insert(stream);
            }
            let body = decision.body;
            if !body.pace.is_zero() || !body.head_start.is_zero() || body.cut_after_chunks.is_some()
            {
                req.extensions_mut().insert(decision.body);
            }
            next.run(req).await
        }
    };
    if decision.omit_cors {
        response.extensions_mut().insert(crate::cors::Omit);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(route: &str) -> FaultSpec {
        FaultSpec {
            route: route.into(),
            latency_ms: None,
            error_rate: None,
            status: None,
            carried_out: None,
            force_429_retry_after: None,
            count: None,
            drop_stream_after: None,
            malformed_frame: None,
            stall_stream: None,
            stream_status: None,
            stream_error_frame: None,
            chunk_delay_ms: None,
            first_chunk_delay_ms: None,
            cut_body_after_chunks: None,
            break_body_after_chunks: None,
            omit_cors: None,
            html_page: None,
            html_page_type: None,
            query_contains: None,
        }
    }

    #[test]
    fn routes_match_by_method_and_pattern() {
        let faults = Faults::default();
        faults
            .add(FaultSpec {
                status: Some(500),
                ..spec("GET /v1/conversations/{id}")
            })
            .unwrap();
        let get = |p: &str| faults.decide(&Method::GET, p, "").respond.map(|e| e.status);
        assert_eq!(
            get("/v1/conversations/conv_1"),
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
        assert_eq!(get("/v1/conversations"), None);
        assert_eq!(get("/v1/conversations/conv_1/stream"), None);
        assert!(faults
            .decide(&Method::PATCH, "/v1/conversations/conv_1", "")
            .respond
            .is_none());
    }

    #[test]
    fn a_rule_may_ask_for_a_query() {
        let faults = Faults::default();
        faults
            .add(FaultSpec {
                status: Some(400),
                count: Some(1),
                query_contains: Some("page_token".into()),
                ..spec("GET /v1/conversations")
            })
            .unwrap();
        let status = |query: &str| {
            faults
                .decide(&Method::GET, "/v1/conversations", query)
                .respond
                .map(|e| e.status)
        };
        assert_eq!(
            status("page_size=50"),
            None,
            "a first page, and not used up"
        );
        assert_eq!(
            status("page_size=50&page_token=abc"),
            Some(StatusCode::BAD_REQUEST)
        );
        assert_eq!(status("page_size=50&page_token=abc"), None, "used up");
    }

    #[test]
    fn error_rate_is_an_even_deterministic_share() {
        let faults = Faults::default();
        faults
            .add(FaultSpec {
                error_rate: Some(0.25),
                ..spec("*")
            })
            .unwrap();
        let failed = (0..100)
            .filter(|_| {
                faults
                    .decide(&Method::GET, "/v1/conversations", "")
                    .respond
                    .is_some()
            })
            .count();
        assert_eq!(failed, 25);
    }

    #[test]
    fn count_limits_a_rule() {
        let faults = Faults::default();
        faults
            .add(FaultSpec {
                force_429_retry_after: Some(7),
                count: Some(2),
                ..spec("/conversations")
            })
            .unwrap();
        for _ in 0..2 {
            let e = faults
                .decide(&Method::GET, "/v1/conversations", "")
                .respond
                .unwrap();
            assert_eq!((e.status.as_u16(), e.retry_after), (429, Some(7)));
        }
        assert!(faults
            .decide(&Method::GET, "/v1/conversations", "")
            .respond
            .is_none());
        assert!(faults.list().is_empty());
    }

    #[test]
    fn a_429_by_status_carries_retry_after_as_every_429_must() {
        let faults = Faults::default();
        faults
            .add(FaultSpec {
                status: Some(429),
                ..spec("/conversations")
            })
            .unwrap();
        let e = faults
            .decide(&Method::GET, "/v1/conversations", "")
            .respond
            .unwrap();
        assert_eq!((e.status.as_u16(), e.retry_after), (429, Some(1)));
        let e = respond(
            &FaultSpec {
                stream_status: Some(429),
                ..spec("*")
            },
            0,
            true,
        )
        .unwrap();
        assert_eq!((e.status.as_u16(), e.retry_after), (429, Some(1)));
    }

    #[test]
    fn stream_only_rules_leave_other_requests_alone() {
        let faults = Faults::default();
        faults
            .add(FaultSpec {
                drop_stream_after: Some(1),
                count: Some(1),
                ..spec("*")
            })
            .unwrap();
        let plain = faults.decide(&Method::GET, "/v1/conversations/c1", "");
        assert!(plain.stream.is_none() && plain.respond.is_none());
        let stream = faults.decide(&Method::GET, "/v1/conversations/c1/stream", "");
        assert_eq!(stream.stream.unwrap().drop_after, Some(1));
        assert!(faults.list().is_empty());
    }

    #[test]
    fn chunk_delays_add_up_and_touch_no_status() {
        let faults = Faults::default();
        for ms in [100, 50] {
            faults
                .add(FaultSpec {
                    chunk_delay_ms: Some(ms),
                    ..spec("GET /v1/agents/{id}/conversations/export")
                })
                .unwrap();
        }
        faults
            .add(FaultSpec {
                first_chunk_delay_ms: Some(70),
                ..spec("GET /v1/agents/{id}/conversations/export")
            })
            .unwrap();
        let d = faults.decide(&Method::GET, "/v1/agents/agt_1/conversations/export", "");
        assert_eq!(d.body.pace, Duration::from_millis(150));
        assert_eq!(d.body.head_start, Duration::from_millis(70));
        assert!(d.latency.is_zero() && d.respond.is_none());
        let other = faults.decide(&Method::GET, "/v1/conversations", "");
        assert!(other.body.pace.is_zero());
    }

    #[test]
    fn bad_specs_are_refused() {
        let faults = Faults::default();
        assert!(faults.add(spec("conversations")).is_err());
        assert!(faults
            .add(FaultSpec {
                error_rate: Some(1.5),
                ..spec("*")
            })
            .is_err());
        assert!(faults
            .add(FaultSpec {
                status: Some(200),
                ..spec("*")
            })
            .is_err());
    }
}
