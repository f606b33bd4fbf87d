//! Permissive CORS for `/v1`: the console may be served from another origin than the API.
//! Keys travel in the `Authorization` header (no cookies), so any origin may call.
//! Preflights are answered here, before authentication, as browsers send them without keys.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

const ALLOW_METHODS: &str = "GET, POST, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS: &str = "Authorization, Content-Type, X-Voicebip-User, Last-Event-ID";
const EXPOSE_HEADERS: &str = "Retry-After, X-Request-Id, Content-Disposition";

pub async fn middleware(req: Request, next: Next) -> Response {
    if req.method() == Method::OPTIONS {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        add_common(headers);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        // Echo what the browser asked for, so custom headers a client adds keep working.
        let requested = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
            .unwrap_or(HeaderValue::from_static(ALLOW_HEADERS));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return response;
    }
    let mut response = next.run(req).await;
    if response.extensions().get::<Omit>().is_none() {
        add_common(response.headers_mut());
    }
    response
}

/// Marks a response to go out without CORS headers (the `omit_cors` fault).
#[derive(Debug, Clone, Copy)]
pub struct Omit;

fn add_common(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}
