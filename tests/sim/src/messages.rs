//! `POST /v1/messages` and `POST /v1/messages/template`.

use crate::engine::{self, is_e164, Outbound};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::model::{Channel, Message};
use crate::segments;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

const WHATSAPP_TYPES: &[&str] = &["text", "image", "audio", "document", "video", "interactive"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    agent_id: String,
    channel: Channel,
    from_number: String,
    to_number: String,
    body: Option<String>,
    message_type: Option<String>,
    media_url: Option<String>,
    media_caption: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    agent_id: String,
    from_number: String,
    to_number: String,
    template_name: String,
    language_code: String,
    #[serde(default)]
    parameters: Vec<Value>,
}

fn check_numbers(from: &str, to: &str) -> Result<(), ApiError> {
    for (field, value) in [("from_number", from), ("to_number", to)] {
        if !is_e164(value) {
            return Err(ApiError::invalid_argument(format!(
                "{field} must be an E.164 number like +2348031234567, got {value:?}"
            )));
        }
    }
    Ok(())
}

fn created(conversation_id: &str, m: &Message) -> (StatusCode, Json<Value>) {
    let segments = match m.channel {
        Channel::Sms => segments::count(&m.body),
        Channel::Whatsapp => 1,
    };
    (
        StatusCode::CREATED,
        Json(json!({
            "message_id": m.message_id,
            "conversation_id": conversation_id,
            "channel": m.channel,
            "message_type": m.message_type,
            "status": m.status,
            "from_number": m.from_number,
            "to_number": m.to_number,
            "segments": segments,
            "created_at": crate::clock::format_ts(m.created_at),
        })),
    )
}

pub async fn send(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SendRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    check_numbers(&req.from_number, &req.to_number)?;
    let message_type = req.message_type.unwrap_or_else(|| "text".into());
    let allowed = match req.channel {
        Channel::Sms => message_type == "text",
        Channel::Whatsapp => WHATSAPP_TYPES.contains(&message_type.as_str()),
    };
    if !allowed {
        return Err(ApiError::invalid_argument(format!(
            "message_type {message_type:?} is not valid on {}",
            req.channel.as_str()
        )));
    }
    // SMS carries text only: a file on it is refused, not dropped unseen.
    if req.channel == Channel::Sms && (req.media_url.is_some() || req.media_caption.is_some()) {
        return Err(ApiError::invalid_argument(
            "media_url and media_caption are WhatsApp's; SMS carries text only",
        ));
    }
    let body = req.body.unwrap_or_default();
    if matches!(message_type.as_str(), "text" | "interactive") && body.trim().is_empty() {
        return Err(ApiError::invalid_argument("body must not be empty"));
    }
    // The media types carry a file; `interactive` (buttons, lists) is text like `text`.
    let media = matches!(
        message_type.as_str(),
        "image" | "audio" | "document" | "video"
    );
    if media && req.media_url.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::invalid_argument(format!(
            "media_url is required for message_type {message_type:?}"
        )));
    }
    let (conversation_id, message) = engine::send_outbound(
        &state,
        Outbound {
            agent_id: req.agent_id,
            channel: req.channel,
            from_number: req.from_number,
            to_number: req.to_number,
            body,
            message_type,
            media_url: req.media_url,
            media_caption: req.media_caption,
            template: false,
        },
    )?;
    Ok(created(&conversation_id, &message))
}

pub async fn send_template(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TemplateRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    check_numbers(&req.from_number, &req.to_number)?;
    if req.template_name.trim().is_empty() {
        return Err(ApiError::invalid_argument(
            "template_name must not be empty",
        ));
    }
    if req.language_code.trim().is_empty() {
        return Err(ApiError::invalid_argument(
            "language_code must not be empty",
        ));
    }
    let parameters: Vec<String> = req
        .parameters
        .iter()
        .map(|p| match p {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    // The stored text: what an operator reading the thread needs to know was sent.
    let body = if parameters.is_empty() {
        format!("[template {}]", req.template_name)
    } else {
        format!(
            "[template {}] {}",
            req.template_name,
            parameters.join(" | ")
        )
    };
    let (conversation_id, message) = engine::send_outbound(
        &state,
        Outbound {
            agent_id: req.agent_id,
            // Templates are WhatsApp's: the body names no channel.
            channel: Channel::Whatsapp,
            from_number: req.from_number,
            to_number: req.to_number,
            body,
            message_type: "template".into(),
            media_url: None,
            media_caption: None,
            template: true,
        },
    )?;
    Ok(created(&conversation_id, &message))
}
