//! Control endpoints under `/sim` (no auth): inspect the simulator, inject inbound messages,
//! move time, drive traffic, inject faults, read the request log. Documented in README.md.

use crate::clock::{format_ts, parse_ts, Millis, DAY, SECOND};
use crate::engine::{self, InboundTarget};
use crate::error::ApiError;
use crate::extract::{ApiJson, PathId, QueryMap};
use crate::faults::FaultSpec;
use crate::model::{Channel, Direction, Message, MessageStatus};
use crate::state::{AppState, SettingsPatch};
use crate::{SeedSize, DEMO_KEY};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

type JsonResult = Result<Json<Value>, ApiError>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/info", get(info))
        .route("/inbound", post(inbound))
        .route("/bulk", post(bulk))
        .route("/clock", get(clock).post(advance_clock))
        .route("/traffic", get(traffic).post(set_traffic))
        .route("/settings", get(settings).post(set_settings))
        .route("/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/events", get(events).delete(clear_events))
        .route("/stats", get(stats))
        .route("/conversations/{id}/window", post(set_window))
        .route("/conversations/{id}/audit", get(audit))
        .route("/conversations/{id}/subscribers", get(subscribers))
        .route("/conversations/{id}/events", post(publish_event))
        .fallback(|| async {
            ApiError::not_found("no such /sim endpoint; see tests/sim/README.md")
        })
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("conversation {id} not found"))
}

async fn info(State(state): State<AppState>) -> Json<Value> {
    let store = state.store();
    let agents: Vec<Value> = store
        .agents
        .iter()
        .map(|a| {
            json!({
                "agent_id": a.agent_id,
                "name": a.name,
                "number": a.number,
                "numbers": [a.number],
                "channels": ["sms", "whatsapp"],
            })
        })
        .collect();
    Json(json!({
        "demo_key": DEMO_KEY,
        "api_keys": state.api_keys,
        "base_url": state.base_url,
        "api_base_url": format!("{}/v1", state.base_url),
        "agents": agents,
        "big_thread_id": store.big_thread_id,
        "seed": state.seed,
        "size": match state.size { SeedSize::Demo => "demo", SeedSize::Large => "large" },
        "conversations": store.conversation_count(),
        "now": format_ts(state.clock.now()),
        "embed_host_url": state.embed.as_ref().map(|e| format!("{}/", e.allowed_origin)),
        "foreign_host_url": state.embed.as_ref().map(|e| format!("{}/", e.foreign_origin)),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InboundRequest {
    agent_id: Option<String>,
    channel: Option<Channel>,
    from_number: Option<String>,
    conversation_id: Option<String>,
    body: String,
}

async fn inbound(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<InboundRequest>,
) -> JsonResult {
    if req.body.is_empty() {
        return Err(ApiError::invalid_argument("body must not be empty"));
    }
    let target = match (
        req.conversation_id,
        req.agent_id,
        req.channel,
        req.from_number,
    ) {
        (Some(id), None, None, None) => InboundTarget::Conversation(id),
        (None, Some(agent_id), Some(channel), Some(customer)) => InboundTarget::Pair {
            agent_id,
            channel,
            customer,
        },
        _ => {
            return Err(ApiError::invalid_argument(
                "give either {conversation_id, body} or {agent_id, channel, from_number, body}",
            ))
        }
    };
    let outcome = engine::receive_inbound(&state, target, &req.body)?;
    Ok(Json(json!({
        "conversation_id": outcome.conversation_id,
        "message_id": outcome.message_id,
        "new_conversation": outcome.new_conversation,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkRequest {
    agent_id: String,
    count: u32,
    channel: Option<Channel>,
}

/// Many conversations at once (one inbound message each, no events, no AI replies), all more
/// recent than anything before: for export limits and long-list tests.
async fn bulk(State(state): State<AppState>, ApiJson(req): ApiJson<BulkRequest>) -> JsonResult {
    const MAX_BULK: u32 = 50_000;
    if req.count == 0 || req.count > MAX_BULK {
        return Err(ApiError::invalid_argument(format!(
            "count must be 1 to {MAX_BULK}"
        )));
    }
    let now = state.clock.now();
    let mut store = state.store();
    let agent_number = store
        .agent(&req.agent_id)
        .map(|a| a.number.clone())
        .ok_or_else(|| ApiError::not_found(format!("agent {} not found", req.agent_id)))?;
    let mut created = Vec::with_capacity(req.count as usize);
    let mut serial: u64 = 0;
    while created.len() < req.count as usize {
        serial += 1;
        let customer = format!(
            "+2347{:09}",
            (crate::ids::splitmix64(serial ^ now as u64)) % 1_000_000_000
        );
        if store.current_for(&req.agent_id, &customer).is_some() {
            continue;
        }
        let at: Millis = now - i64::from(req.count) + created.len() as Millis;
        let channel = req.channel.unwrap_or(if created.len() % 2 == 0 {
            Channel::Sms
        } else {
            Channel::Whatsapp
        });
        let id = state.ids.next("conv_");
        let mut c = engine::new_conversation(
            id.clone(),
            &req.agent_id,
            &agent_number,
            &customer,
            channel,
            at,
        );
        if channel == Channel::Whatsapp {
            c.window_expires_at = Some(at + DAY);
        }
        c.messages.push(Message {
            message_id: state.ids.next("msg_"),
            direction: Direction::Inbound,
            channel,
            message_type: "text".into(),
            body: format!("Bulk message {}", created.len() + 1),
            status: MessageStatus::Received,
            from_number: customer.clone(),
            to_number: agent_number.clone(),
            created_at: at,
            error_code: None,
            media_url: None,
            media_caption: None,
        });
        store.insert(c);
        created.push(id);
    }
    Ok(Json(json!({
        "created": created.len(),
        "first_conversation_id": created.first(),
        "last_conversation_id": created.last(),
    })))
}

fn clock_view(state: &AppState) -> Value {
    json!({
        "now": format_ts(state.clock.now()),
        "offset_seconds": state.clock.offset() as f64 / 1000.0,
    })
}

async fn clock(State(state): State<AppState>) -> Json<Value> {
    Json(clock_view(&state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRequest {
    advance_seconds: f64,
}

async fn advance_clock(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ClockRequest>,
) -> JsonResult {
    // (Bounded: the clock's milliseconds would overflow, and every handler reads them.)
    const CENTURY_SECS: f64 = 100.0 * 366.0 * 86_400.0;
    if !req.advance_seconds.is_finite() || req.advance_seconds.abs() > CENTURY_SECS {
        return Err(ApiError::invalid_argument(
            "advance_seconds must be a number of at most a century either way",
        ));
    }
    state
        .clock
        .advance((req.advance_seconds * 1000.0) as Millis);
    // Time-driven events are due now, not at the next tick.
    engine::announce_closing_windows(&state);
    Ok(Json(clock_view(&state)))
}

async fn traffic(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "per_minute": *state.traffic.borrow() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrafficRequest {
    per_minute: f64,
}

async fn set_traffic(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TrafficRequest>,
) -> JsonResult {
    // (Under one a thousand minutes, the wait between messages is longer than a timer holds.)
    if !(req.per_minute == 0.0 || req.per_minute >= 0.001) {
        return Err(ApiError::invalid_argument(
            "per_minute must be 0 or a number >= 0.001",
        ));
    }
    state.traffic.send_replace(req.per_minute);
    Ok(Json(json!({ "per_minute": req.per_minute })))
}

async fn settings(State(state): State<AppState>) -> Json<Value> {
    Json(serde_json::to_value(state.current_settings()).unwrap_or_default())
}

async fn set_settings(
    State(state): State<AppState>,
    ApiJson(patch): ApiJson<SettingsPatch>,
) -> Json<Value> {
    state.apply_settings(&patch);
    Json(serde_json::to_value(state.current_settings()).unwrap_or_default())
}

async fn faults(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "faults": state.faults.list() }))
}

async fn add_fault(
    State(state): State<AppState>,
    ApiJson(spec): ApiJson<FaultSpec>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let view = state.faults.add(spec).map_err(ApiError::invalid_argument)?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

async fn requests(State(state): State<AppState>) -> Json<Value> {
    Json(serde_json::to_value(state.log.entries()).unwrap_or_default())
}

async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.log.clear();
    StatusCode::NO_CONTENT
}

async fn events(State(state): State<AppState>, query: QueryMap) -> Json<Value> {
    Json(json!({ "events": state.hub.recent_events(query.get("conversation_id")) }))
}

async fn clear_events(State(state): State<AppState>) -> StatusCode {
    state.hub.clear_recent();
    StatusCode::NO_CONTENT
}

async fn stats(State(state): State<AppState>) -> Json<Value> {
    let counts = state.hub.subscriber_counts();
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    let per_conversation: serde_json::Map<String, Value> = counts
        .into_iter()
        .map(|(id, n)| (id, Value::from(n)))
        .collect();
    let store = state.store();
    Json(json!({
        "subscribers_total": total,
        "subscribers": per_conversation,
        "conversations": store.conversation_count(),
        "messages": store.message_count(),
        "requests_logged": state.log.entries().len(),
        "faults_active": state.faults.list().len(),
        "traffic_per_minute": *state.traffic.borrow(),
        "clock_offset_seconds": state.clock.offset() as f64 / 1000.0,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowRequest {
    expires_at: Option<String>,
    expired: Option<bool>,
}

async fn set_window(
    State(state): State<AppState>,
    PathId(id): PathId,
    ApiJson(req): ApiJson<WindowRequest>,
) -> JsonResult {
    let now = state.clock.now();
    let expires = match (req.expires_at, req.expired) {
        (Some(at), None) => Some(parse_ts(&at).ok_or_else(|| {
            ApiError::invalid_argument("expires_at must be an ISO 8601 timestamp")
        })?),
        (None, Some(true)) => Some(now - SECOND),
        // "Not expired": as if the customer had just written.
        (None, Some(false)) => Some(now + DAY),
        _ => {
            return Err(ApiError::invalid_argument(
                "give either {\"expires_at\": \"...\"} or {\"expired\": true|false}",
            ))
        }
    };
    let item = {
        let mut store = state.store();
        store
            .update(&id, |c| {
                c.window_expires_at = expires;
                c.window_closing_sent = false;
            })
            .ok_or_else(|| not_found(&id))?;
        let c = store.conversation(&id).ok_or_else(|| not_found(&id))?;
        let mut item = serde_json::to_value(store.item(c)).unwrap_or_default();
        // The window as stored, also while the conversation's channel is SMS.
        item["window"] = expires.map(format_ts).into();
        item
    };
    engine::announce_closing_windows(&state);
    Ok(Json(item))
}

async fn audit(State(state): State<AppState>, PathId(id): PathId) -> JsonResult {
    let store = state.store();
    let c = store.conversation(&id).ok_or_else(|| not_found(&id))?;
    Ok(Json(
        serde_json::to_value(&c.mode_history).unwrap_or_default(),
    ))
}

async fn subscribers(State(state): State<AppState>, PathId(id): PathId) -> Json<Value> {
    Json(json!({ "conversation_id": id, "count": state.hub.subscriber_count(&id) }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventRequest {
    event_type: String,
    #[serde(default)]
    payload: Value,
}

async fn publish_event(
    State(state): State<AppState>,
    PathId(id): PathId,
    ApiJson(req): ApiJson<EventRequest>,
) -> JsonResult {
    if state.store().conversation(&id).is_none() {
        return Err(not_found(&id));
    }
    let payload = if req.payload.is_null() {
        json!({})
    } else {
        req.payload
    };
    let delivered = state.publish(&id, &req.event_type, payload);
    Ok(Json(json!({ "delivered_to": delivered })))
}
