//! Request and response bodies that are not model types.

use crate::model::readable::Readable;
use crate::model::thread::Addressing;
use crate::model::{
    Channel, ConversationId, ConversationSummary, Direction, Message, MessageId, MessageStatus,
};
use chrono::{DateTime, Utc};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

/// `GET /v1/conversations`.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "WireListPage")]
pub struct ListPage {
    pub conversations: Vec<ConversationSummary>,
    /// Absent on the last page (tolerate `null` too).
    pub next_page_token: Option<String>,
    /// Items left out because they could not be read (`model::readable`).
    pub unreadable: usize,
}

#[derive(Deserialize)]
struct WireListPage {
    // Required: an answer without it (another API's, at a wrong base URL) is not an empty list.
    // `null` is one (as some servers write an empty list); `deserialize_with` keeps it required.
    #[serde(deserialize_with = "Option::deserialize")]
    conversations: Option<Readable<ConversationSummary>>,
    #[serde(default)]
    next_page_token: Option<String>,
}

impl From<WireListPage> for ListPage {
    fn from(w: WireListPage) -> Self {
        let conversations = w.conversations.unwrap_or_default();
        ListPage {
            conversations: conversations.items,
            next_page_token: crate::model::conversation::non_empty(w.next_page_token),
            unreadable: conversations.unreadable,
        }
    }
}

/// `POST /v1/messages`.
#[derive(Debug, Clone)]
pub struct SendMessage {
    pub to: Addressing,
    pub body: String,
}

/// `POST /v1/messages/template`. Its body, as the contract writes it, has no `channel`:
/// templates are WhatsApp's.
#[derive(Debug, Clone)]
pub struct SendTemplate {
    pub to: Addressing,
    pub template_name: String,
    pub language_code: String,
    pub parameters: Vec<String>,
}

/// The addressing's fields, flat in a request body; `channel` only where that body has one.
fn address<S: SerializeStruct>(
    body: &mut S,
    to: &Addressing,
    channel: bool,
) -> Result<(), S::Error> {
    body.serialize_field("agent_id", &to.agent_id)?;
    if channel {
        body.serialize_field("channel", &to.channel)?;
    }
    body.serialize_field("from_number", &to.from_number)?;
    body.serialize_field("to_number", &to.to_number)
}

impl Serialize for SendMessage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let whatsapp = self.to.channel == Channel::Whatsapp;
        let mut body = s.serialize_struct("SendMessage", 5 + usize::from(whatsapp))?;
        address(&mut body, &self.to, true)?;
        // API.md: "WhatsApp adds `message_type`"; the reply box sends text only.
        if whatsapp {
            body.serialize_field("message_type", "text")?;
        }
        body.serialize_field("body", &self.body)?;
        body.end()
    }
}

impl Serialize for SendTemplate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut body = s.serialize_struct("SendTemplate", 6)?;
        address(&mut body, &self.to, false)?;
        body.serialize_field("template_name", &self.template_name)?;
        body.serialize_field("language_code", &self.language_code)?;
        body.serialize_field("parameters", &self.parameters)?;
        body.end()
    }
}

/// The answer to either send. (Its `segments` are not read: the composer counts them as typed,
/// and a count written otherwise than as a number made a message sent look lost.)
#[derive(Debug, Clone, Deserialize)]
pub struct SentMessage {
    pub message_id: MessageId,
    /// (Empty, as some servers write what they have not: none, not another conversation the
    /// reply would be taken away to.)
    #[serde(default, deserialize_with = "named_conversation")]
    pub conversation_id: Option<ConversationId>,
    #[serde(default)]
    pub status: Option<MessageStatus>,
    #[serde(default, deserialize_with = "crate::model::time::rfc3339::optional")]
    pub created_at: Option<DateTime<Utc>>,
}

fn named_conversation<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<ConversationId>, D::Error> {
    let id = Option::<String>::deserialize(d)?;
    Ok(crate::model::conversation::non_empty(id).map(ConversationId))
}

impl SentMessage {
    /// The message as the thread shows it, with the text the operator typed.
    pub fn into_message(self, body: String, to: &Addressing) -> Message {
        Message {
            message_id: self.message_id,
            conversation_id: self.conversation_id,
            direction: Direction::Outbound,
            channel: None,
            message_type: None,
            body: Some(body),
            status: self.status.unwrap_or(MessageStatus::Queued),
            from_number: Some(to.from_number.clone()),
            to_number: Some(to.to_number.clone()),
            created_at: self.created_at.unwrap_or_else(Utc::now),
            error_code: None,
            media_url: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AgentId;

    #[test]
    fn send_bodies_are_flat_as_the_contract_shows() {
        let req = SendMessage {
            to: Addressing {
                agent_id: AgentId::from("agt_1"),
                channel: Channel::Sms,
                from_number: "+2349012345678".into(),
                to_number: "+2348031234567".into(),
            },
            body: "hi".into(),
        };
        assert_eq!(
            serde_json::to_value(&req).expect("json"),
            serde_json::json!({"agent_id": "agt_1", "channel": "sms",
                "from_number": "+2349012345678", "to_number": "+2348031234567", "body": "hi"})
        );
    }

    #[test]
    fn a_whatsapp_reply_says_it_is_text() {
        let req = SendMessage {
            to: Addressing {
                agent_id: AgentId::from("agt_1"),
                channel: Channel::Whatsapp,
                from_number: "+2349012345678".into(),
                to_number: "+2348031234567".into(),
            },
            body: "hi".into(),
        };
        assert_eq!(
            serde_json::to_value(&req).expect("json"),
            serde_json::json!({"agent_id": "agt_1", "channel": "whatsapp",
                "from_number": "+2349012345678", "to_number": "+2348031234567",
                "message_type": "text", "body": "hi"})
        );
    }

    #[test]
    fn a_template_body_has_no_channel_as_the_contract_shows() {
        let req = SendTemplate {
            to: Addressing {
                agent_id: AgentId::from("agt_1"),
                channel: Channel::Whatsapp,
                from_number: "+2349012345678".into(),
                to_number: "+2348031234567".into(),
            },
            template_name: "order_update".into(),
            language_code: "en".into(),
            parameters: vec!["A-1".into()],
        };
        assert_eq!(
            serde_json::to_value(&req).expect("json"),
            serde_json::json!({"agent_id": "agt_1", "from_number": "+2349012345678",
                "to_number": "+2348031234567", "template_name": "order_update",
                "language_code": "en", "parameters": ["A-1"]})
        );
    }

    #[test]
    fn list_page_tolerates_null_absent_or_empty_token() {
        for last in [
            r#"{"conversations": []}"#,
            r#"{"conversations": [], "next_page_token": null}"#,
            r#"{"conversations": [], "next_page_token": ""}"#,
            r#"{"conversations": null}"#,
        ] {
            let page: ListPage = serde_json::from_str(last).expect(last);
            assert_eq!(page.next_page_token, None, "{last}");
            assert!(page.conversations.is_empty(), "{last}");
        }
        // Not a list at all: unread, not an empty list.
        assert!(serde_json::from_str::<ListPage>(r#"{"data": []}"#).is_err());
    }

    #[test]
    fn a_send_is_answered_by_its_id_whatever_its_segments_say() {
        let sent: SentMessage = serde_json::from_str(
            r#"{"message_id":"msg_1","status":"queued","segments":"2","created_at":""}"#,
        )
        .expect("a message sent");
        assert_eq!(sent.message_id, MessageId::from("msg_1"));
        assert_eq!(sent.created_at, None);
        assert!(serde_json::from_str::<SentMessage>(r#"{"status":"queued"}"#).is_err());
        // An empty conversation id is none: not another conversation the reply went to.
        let sent: SentMessage =
            serde_json::from_str(r#"{"message_id":"msg_1","conversation_id":""}"#).expect("sent");
        assert_eq!(sent.conversation_id, None);
    }
}
