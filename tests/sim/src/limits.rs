//! Request body limit for `/v1`: 64 KiB. A declared `Content-Length` over the limit is refused
//! before the body is read; a chunked body is cut off by axum's `DefaultBodyLimit`, which the
//! JSON extractor reports as the same 413.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub async fn body_size(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return ApiError::payload_too_large().into_response();
    }
    next.run(req).await
}
