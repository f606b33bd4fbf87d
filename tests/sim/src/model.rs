//! The simulator's records and their JSON views (the shapes of API.md).

use crate::clock::{format_ts, Millis};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Whatsapp,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Whatsapp => "whatsapp",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "sms" => Some(Channel::Sms),
            "whatsapp" => Some(Channel::Whatsapp),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AiMode {
    Ai,
    Human,
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Received,
    Queued,
    Sent,
    Delivered,
    Read,
    Failed,
}

impl MessageStatus {
    /// The stream event announcing that a message reached this status.
    pub fn event_type(self) -> &'static str {
        match self {
            MessageStatus::Received => "message.received",
            MessageStatus::Queued => "message.queued",
            MessageStatus::Sent => "message.sent",
            MessageStatus::Delivered => "message.delivered",
            MessageStatus::Read => "message.read",
            MessageStatus::Failed => "message.failed",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Agent {
    pub agent_id: String,
    pub name: String,
    /// The agent's sender number, used on both channels.
    pub number: String,
}

#[derive(Clone, Debug)]
pub struct Message {
    pub message_id: String,
    pub direction: Direction,
    pub channel: Channel,
    pub message_type: String,
    pub body: String,
    pub status: MessageStatus,
    pub from_number: String,
    pub to_number: String,
    pub created_at: Millis,
    pub error_code: Option<String>,
    pub media_url: Option<String>,
    pub media_caption: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModeChange {
    pub actor_user_id: String,
    pub from_mode: AiMode,
    pub to_mode: AiMode,
    #[serde(serialize_with = "ser_ts")]
    pub timestamp: Millis,
}

#[derive(Clone, Debug)]
pub struct Conversation {
    pub conversation_id: String,
    pub agent_id: String,
    /// The channel the customer last wrote on (where a reply goes).
    pub channel: Channel,
    /// The remote party (the customer): `from_number` in API.md's example.
    pub customer_number: String,
    /// The agent's number: `to_number` in API.md's example.
    pub agent_number: String,
    /// Last WhatsApp inbound + 24 h, kept even while the channel is SMS.
    pub window_expires_at: Option<Millis>,
    /// `window.closing` was already published for the current `window_expires_at`.
    pub window_closing_sent: bool,
    pub ai_mode: AiMode,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub last_message_at: Millis,
    /// Oldest first, ordered by (created_at, message_id): the keyset of message pages.
    pub messages: Vec<Message>,
    pub mode_history: Vec<ModeChange>,
}

impl Conversation {
    pub fn window_open(&self, now: Millis) -> bool {
        self.window_expires_at.is_some_and(|exp| exp > now)
    }
}

fn ser_ts<S: serde::Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_ts(*ms))
}

/// A list item (`GET /v1/conversations`, exports): no `ai_mode`, as API.md says.
#[derive(Clone, Debug, Serialize)]
pub struct ConversationItem {
    pub conversation_id: String,
    pub agent_id: String,
    pub channel: Channel,
    pub from_number: String,
    pub to_number: String,
    pub window_expires_at: Option<String>,
    pub opt_out: bool,
    pub created_at: String,
    pub updated_at: String,
    pub last_message_at: String,
}

impl ConversationItem {
    pub fn new(c: &Conversation, opt_out: bool) -> Self {
        ConversationItem {
            conversation_id: c.conversation_id.clone(),
            agent_id: c.agent_id.clone(),
            channel: c.channel,
            from_number: c.customer_number.clone(),
            to_number: c.agent_number.clone(),
            // API.md: null for SMS conversations.
            window_expires_at: match c.channel {
                Channel::Whatsapp => c.window_expires_at.map(format_ts),
                Channel::Sms => None,
            },
            opt_out,
            created_at: format_ts(c.created_at),
            updated_at: format_ts(c.updated_at),
            last_message_at: format_ts(c.last_message_at),
        }
    }
}

#[derive(Serialize)]
pub struct MessageView<'a> {
    pub message_id: &'a str,
    pub conversation_id: &'a str,
    pub direction: Direction,
    pub channel: Channel,
    pub message_type: &'a str,
    pub body: &'a str,
    pub status: MessageStatus,
    pub from_number: &'a str,
    pub to_number: &'a str,
    pub created_at: String,
    pub error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_caption: Option<&'a str>,
}

impl<'a> MessageView<'a> {
    pub fn new(m: &'a Message, conversation_id: &'a str) -> Self {
        MessageView {
            message_id: &m.message_id,
            conversation_id,
            direction: m.direction,
            channel: m.channel,
            message_type: &m.message_type,
            body: &m.body,
            status: m.status,
            from_number: &m.from_number,
            to_number: &m.to_number,
            created_at: format_ts(m.created_at),
            error_code: m.error_code.as_deref(),
            media_url: m.media_url.as_deref(),
            media_caption: m.media_caption.as_deref(),
        }
    }
}

/// Stream payload of a message event: the message, with its text under both `text` (the
/// stream's documented name) and `body` (the REST name), per API.md's [conflict] note.
pub fn message_event_payload(m: &Message, conversation_id: &str) -> Value {
    let mut v = serde_json::to_value(MessageView::new(m, conversation_id)).unwrap_or(json!({}));
    if let Value::Object(map) = &mut v {
        map.insert("text".into(), Value::String(m.body.clone()));
    }
    v
}
