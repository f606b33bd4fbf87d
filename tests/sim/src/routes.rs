//! The HTTP surface: `/v1` (the API), `/sim` (control), everything else (the console).

use crate::state::AppState;
use crate::{auth, conversations, cors, error, export, faults, limits, messages, ratelimit};
use crate::{control, request_log, serve_console, sse};
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;

pub fn router(state: AppState) -> Router {
    // Layers run outermost-last: CORS → auth → the declared body size → the body limit → rate
    // limit → faults → handler.
    let v1 = Router::new()
        .route("/conversations", get(conversations::list))
        .route(
            "/conversations/{id}",
            get(conversations::get).patch(conversations::patch),
        )
        .route("/conversations/{id}/stream", get(sse::stream))
        .route("/messages", post(messages::send))
        .route("/messages/template", post(messages::send_template))
        .route(
            "/agents/{agent_id}/conversations/export",
            get(export::export),
        )
        .fallback(|| async { error::ApiError::not_found("no such API route") })
        .layer(from_fn_with_state(state.clone(), faults::middleware))
        .layer(from_fn_with_state(state.clone(), ratelimit::middleware))
        // The body's size is checked once the key is: a request without a valid key is a 401
        // whatever it carries (API.md), and a large one from a stranger is not read.
        .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
        .layer(from_fn(limits::body_size))
        .layer(from_fn_with_state(state.clone(), auth::middleware))
        .layer(from_fn(cors::middleware));

    Router::new()
        .nest("/v1", v1)
        .nest("/sim", control::router())
        .fallback(serve_console::fallback)
        .layer(from_fn_with_state(state.clone(), error::error_shape))
        .layer(from_fn_with_state(state.clone(), request_log::middleware))
        .with_state(state)
}
