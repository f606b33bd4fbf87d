//! `GET /v1/conversations/{id}/stream`: Server-Sent Events for one conversation.
//!
//! Frames are `id: evt_...` + `data: {event_type, conversation_id, timestamp, payload}` with no
//! `event:` line (the console uses `onmessage`), a `: keepalive` comment every 15 s, and a
//! terminal `event: error` frame when the stream ends on the server's side (lagging too far
//! behind, shutdown). The subscription is dropped with the response body, so a client that
//! goes away stops counting as a subscriber.

use crate::error::ApiError;
use crate::events::{error_frame, Subscription};
use crate::extract::PathId;
use crate::faults::StreamFault;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Extensions, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};

/// Frames already queued are written together, to save syscalls when events come fast.
const MAX_BATCH: usize = 64;
const MALFORMED_FRAME: &[u8] =
    b"id: evt_malformed\ndata: {\"event_type\":\"message.received\",\"payload\":{\"message_id\n\n";

pub async fn stream(
    State(state): State<AppState>,
    PathId(id): PathId,
    extensions: Extensions,
) -> Result<Response, ApiError> {
    if state.store().conversation(&id).is_none() {
        return Err(ApiError::not_found(format!("conversation {id} not found")));
    }
    let fault = extensions.get::<StreamFault>().cloned().unwrap_or_default();
    let period = state.settings.keepalive();
    let frames = Frames {
        subscription: state.hub.subscribe(&id),
        keepalive: {
            // Ticks missed while frames were flowing are not made up in a burst afterwards.
            let mut keepalive = interval_at(Instant::now() + period, period);
            keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
            keepalive
        },
        stop: Box::pin(state.shutdown_signal()),
        fault,
        data_frames: 0,
        started: false,
        done: false,
    };
    let body = futures_util::stream::unfold(frames, |mut frames| async move {
        let chunk = frames.next_chunk().await?;
        Some((Ok::<Bytes, Infallible>(chunk), frames))
    });
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tells buffering proxies (nginx) to pass frames through at once.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

struct Frames {
    subscription: Subscription,
    keepalive: Interval,
    stop: Pin<Box<dyn Future<Output = ()> + Send>>,
    fault: StreamFault,
    data_frames: u32,
    started: bool,
    done: bool,
}

impl Frames {
    fn quota_left(&self) -> bool {
        self.fault.drop_after.is_none_or(|n| self.data_frames < n)
    }

    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        if !self.started {
            self.started = true;
            // A first chunk right away, so clients see the stream open before any event.
            let mut first = BytesMut::from(&b": connected\n\n"[..]);
            if self.fault.malformed_frame && self.quota_left() {
                first.extend_from_slice(MALFORMED_FRAME);
                self.data_frames += 1;
            }
            if let Some(code) = &self.fault.error_frame {
                first.extend_from_slice(&error_frame(code, "refused by an injected fault"));
                self.done = true;
            }
            return Some(first.freeze());
        }
        if !self.quota_left() {
            // Injected fault: drop the stream without a goodbye, like a broken proxy would.
            return None;
        }
        if self.fault.stalled {
            // Injected fault: silent until the simulator stops, like a dead connection.
            (&mut self.stop).await;
            self.done = true;
            return None;
        }
        tokio::select! {
            biased;
            _ = &mut self.stop => {
                self.done = true;
                Some(error_frame("UNAVAILABLE", "the simulator is shutting down"))
            }
            received = self.subscription.receiver().recv() => match received {
                Ok(frame) => {
                    let mut batch = BytesMut::from(&frame.bytes[..]);
                    self.data_frames += 1;
                    let mut batched = 1;
                    while batched < MAX_BATCH && self.quota_left() {
                        match self.subscription.receiver().try_recv() {
                            Ok(frame) => {
                                batch.extend_from_slice(&frame.bytes);
                                self.data_frames += 1;
                                batched += 1;
                            }
                            Err(TryRecvError::Lagged(_)) => {
                                batch.extend_from_slice(&lagged());
                                self.done = true;
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    Some(batch.freeze())
                }
                Err(RecvError::Lagged(_)) => {
                    self.done = true;
                    Some(lagged())
                }
                Err(RecvError::Closed) => None,
            },
            _ = self.keepalive.tick() => Some(Bytes::from_static(b": keepalive\n\n")),
        }
    }
}

fn lagged() -> Bytes {
    error_frame(
        "STREAM_LAGGED",
        "the client fell too far behind; reconnect and re-fetch the conversation",
    )
}
