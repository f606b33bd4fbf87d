//! `GET /v1/conversations`, `GET /v1/conversations/{id}`, `PATCH /v1/conversations/{id}`.

use crate::auth::Actor;
use crate::engine;
use crate::error::ApiError;
use crate::extract::{ApiJson, PathId, QueryMap};
use crate::model::{AiMode, Channel, MessageView};
use crate::pagination::{self, ConversationCursor, MessageCursor, DEFAULT_PAGE_SIZE};
use crate::state::AppState;
use crate::store::{message_page, ListFilter, Store};
use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn list(State(state): State<AppState>, query: QueryMap) -> Result<Json<Value>, ApiError> {
    let agent_id = query.get("agent_id");
    let channel_raw = query.get("channel");
    let channel = channel_raw
        .map(|c| {
            Channel::parse(c).ok_or_else(|| {
                ApiError::invalid_argument(format!("channel must be sms or whatsapp, got {c:?}"))
            })
        })
        .transpose()?;
    let cursor = query
        .get("page_token")
        .map(pagination::decode::<ConversationCursor>)
        .transpose()?;
    // Left out, it is the default, on a follow-up request too: a token made with another size
    // is then refused like any change of size (API.md: "start over").
    let page_size = pagination::page_size(
        query.0.get("page_size").map(String::as_str),
        DEFAULT_PAGE_SIZE,
    )?;
    if let Some(c) = &cursor {
        if c.agent_id.as_deref() != agent_id
            || c.channel.as_deref() != channel_raw
            || c.page_size != page_size
        {
            return Err(pagination::reuse_refused());
        }
    }
    let after = cursor.as_ref().map(ConversationCursor::key).transpose()?;

    let filter = ListFilter { agent_id, channel };
    let (items, more) = state
        .store()
        .list(&filter, after.as_ref(), page_size as usize);
    let mut body = json!({ "conversations": items });
    if let (true, Some(last)) = (more, items.last()) {
        let ts = |t: &str| crate::clock::parse_ts(t).unwrap_or_default();
        body["next_page_token"] = pagination::conversation_cursor(
            (
                ts(&last.created_at),
                ts(&last.last_message_at),
                &last.conversation_id,
            ),
            agent_id,
            channel_raw,
            page_size,
        )
        .into();
    }
    Ok(Json(body))
}

/// The conversation's fields plus `ai_mode` and `mode_history` (no messages).
pub(crate) fn conversation_view(store: &Store, id: &str) -> Result<Value, ApiError> {
    let c = store
        .conversation(id)
        .ok_or_else(|| ApiError::not_found(format!("conversation {id} not found")))?;
    let mut view = serde_json::to_value(store.item(c)).unwrap_or_default();
    view["ai_mode"] = serde_json::to_value(c.ai_mode).unwrap_or_default();
    view["mode_history"] = serde_json::to_value(&c.mode_history).unwrap_or_default();
    Ok(view)
}

pub async fn get(
    State(state): State<AppState>,
    PathId(id): PathId,
    query: QueryMap,
) -> Result<Json<Value>, ApiError> {
    let cursor = query
        .get("page_token")
        .map(pagination::decode::<MessageCursor>)
        .transpose()?;
    // Left out, it is the default, on a follow-up request too: a token made with another size
    // is then refused like any change of size (API.md: "start over").
    let page_size = pagination::page_size(
        query.0.get("page_size").map(String::as_str),
        DEFAULT_PAGE_SIZE,
    )?;
    if let Some(c) = &cursor {
        if c.conversation_id != id || c.page_size != page_size {
            return Err(pagination::reuse_refused());
        }
    }
    let before = cursor.as_ref().map(MessageCursor::key).transpose()?;

    let store = state.store();
    let mut view = conversation_view(&store, &id)?;
    let Some(c) = store.conversation(&id) else {
        return Err(ApiError::not_found(format!("conversation {id} not found")));
    };
    let (page, more) = message_page(c, before.as_ref(), page_size as usize);
    let messages: Vec<MessageView<'_>> = page
        .iter()
        .map(|m| MessageView::new(m, &c.conversation_id))
        .collect();
    view["messages"] = serde_json::to_value(&messages).unwrap_or_default();
    if let (true, Some(last)) = (more, page.last()) {
        view["next_page_token"] = pagination::message_cursor(
            (last.created_at, &last.message_id),
            &c.conversation_id,
            page_size,
        )
        .into();
    }
    Ok(Json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModePatch {
    ai_mode: AiMode,
}

pub async fn patch(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    PathId(id): PathId,
    ApiJson(patch): ApiJson<ModePatch>,
) -> Result<Json<Value>, ApiError> {
    let (changed, mut view) = engine::set_mode(&state, &id, patch.ai_mode, &actor.user_id)?;
    view["changed"] = changed.into();
    Ok(Json(view))
}
