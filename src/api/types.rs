//! Request and response bodies that are not model types.

use crate::model::{
    AgentId, Channel, ConversationId, ConversationSummary, Direction, Message, MessageId,
    MessageStatus,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `GET /v1/conversations`.
#[derive(Debug, Clone, Deserialize)]
pub struct ListPage {
    #[serde(default)]
    pub conversations: Vec<ConversationSummary>,
    /// Absent on the last page (tolerate `null` too).
    #[serde(default)]
    pub next_page_token: Option<String>,
}

/// `POST /v1/messages`.
#[derive(Debug, Clone, Serialize)]
pub struct SendMessage {
    pub agent_id: AgentId,
    pub channel: Channel,
    pub from_number: String,
    pub to_number: String,
    pub body: String,
}

/// `POST /v1/messages/template`.
#[derive(Debug, Clone, Serialize)]
pub struct SendTemplate {
    pub agent_id: AgentId,
    pub channel: Channel,
    pub from_number: String,
    pub to_number: String,
    pub template_name: String,
    pub language_code: String,
    pub parameters: Vec<String>,
}

/// The answer to either send.
#[derive(Debug, Clone, Deserialize)]
pub struct SentMessage {
    pub message_id: MessageId,
    #[serde(default)]
    pub conversation_id: Option<ConversationId>,
    #[serde(default)]
    pub status: Option<MessageStatus>,
    #[serde(default)]
    pub segments: Option<u32>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

impl SentMessage {
    /// The message as the thread shows it, with the text the operator typed.
    pub fn into_message(self, body: String, from: String, to: String) -> Message {
        Message {
            message_id: self.message_id,
            conversation_id: self.conversation_id,
            direction: Direction::Outbound,
            channel: None,
            message_type: None,
            body: Some(body),
            status: self.status.unwrap_or(MessageStatus::Queued),
            from_number: Some(from),
            to_number: Some(to),
            created_at: self.created_at.unwrap_or_else(Utc::now),
            error_code: None,
        }
    }
}
