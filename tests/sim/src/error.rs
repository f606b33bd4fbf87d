//! The API's error shape: `{error_code, message, request_id, documentation_url}`.
//!
//! Every error leaves through [`ApiError`], and [`error_shape`] (the outermost middleware) gives
//! each request its `req_` id, adds `X-Request-Id`, and rewrites any bare error response that
//! did not come from `ApiError` (axum's own 405, a body-limit 413) into the same shape, so
//! clients can always branch on `error_code`.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

const DOCS_BASE: &str = "https://docs.voicebip.com/errors#";

tokio::task_local! {
    static REQUEST_ID: String;
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                "workspace rate limit exceeded; retry after the Retry-After delay",
            )
        }
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "request body exceeds 64 KiB",
        )
    }

    /// An error for a status with no more specific cause (fault injection, axum's own errors).
    pub fn from_status(status: StatusCode) -> Self {
        // API.md: every 429 carries Retry-After, an injected one too.
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Self::rate_limited(1);
        }
        let (code, message) = match status.as_u16() {
            400 => ("INVALID_ARGUMENT", "invalid request"),
            401 => ("UNAUTHENTICATED", "missing or invalid API key"),
            402 => ("QUOTA_EXCEEDED", "quota exceeded"),
            403 => ("PERMISSION_DENIED", "permission denied"),
            404 => ("NOT_FOUND", "no such resource"),
            405 => ("METHOD_NOT_ALLOWED", "method not allowed on this resource"),
            409 => ("ALREADY_EXISTS", "already exists"),
            413 => ("PAYLOAD_TOO_LARGE", "request body exceeds 64 KiB"),
            415 => ("INVALID_ARGUMENT", "unsupported content type"),
            422 => ("FAILED_PRECONDITION", "request cannot be processed"),
            502 => ("BAD_GATEWAY", "upstream error"),
            503 => ("UNAVAILABLE", "service temporarily unavailable"),
            504 => ("DEADLINE_EXCEEDED", "upstream timed out"),
            s if s >= 500 => ("INTERNAL", "internal error"),
            _ => ("INVALID_ARGUMENT", "request failed"),
        };
        Self::new(status, code, message)
    }
}

/// Marks a response whose body is already in the error shape.
#[derive(Clone, Copy)]
struct Shaped;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error_code: &'a str,
    message: &'a str,
    request_id: &'a str,
    documentation_url: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = current_request_id();
        let body = ErrorBody {
            error_code: self.code,
            message: &self.message,
            request_id: &request_id,
            documentation_url: format!("{DOCS_BASE}{}", self.code.to_ascii_lowercase()),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(Shaped);
        response
    }
}

static FALLBACK_COUNTER: AtomicU64 = AtomicU64::new(1);

/// The id of the request being handled (set by [`error_shape`]); a fresh one outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(|id| id.clone()).unwrap_or_else(|_| {
        let n = FALLBACK_COUNTER.fetch_add(1, Ordering::Relaxed);
        format!("req_x{:015x}", crate::ids::splitmix64(n) >> 4)
    })
}

pub async fn error_shape(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    req: Request,
    next: Next,
) -> Response {
    let id = state.ids.next("req_");
    let mut response = REQUEST_ID.scope(id.clone(), next.run(req)).await;
    let bare_error =
        response.status().as_u16() >= 400 && response.extensions().get::<Shaped>().is_none();
    if bare_error {
        // Keep the original headers (Allow, Retry-After, CORS), replace the body.
        let status = response.status();
        let mut kept = std::mem::take(response.headers_mut());
        kept.remove(header::CONTENT_TYPE);
        kept.remove(header::CONTENT_LENGTH);
        response = REQUEST_ID
            .scope(id.clone(), async {
                ApiError::from_status(status).into_response()
            })
            .await;
        response.headers_mut().extend(kept);
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
