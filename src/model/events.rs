//! Decoding of the conversation stream's frames. Anything the console doesn't understand becomes
//! a value to skip and count, never an error that stops the stream.

use super::conversation::AiMode;
use super::ids::{ConversationId, MessageId};
use super::message::{Message, MessageStatus};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// A new message; `message.received` for inbound, also used for outbound messages the
    /// console didn't send itself (the AI's replies).
    Message(Message),
    /// `message.sent|delivered|read|failed`.
    Status {
        message_id: MessageId,
        status: MessageStatus,
        error_code: Option<String>,
    },
    ModeChanged {
        from_mode: AiMode,
        to_mode: AiMode,
        actor_user_id: Option<String>,
        timestamp: DateTime<Utc>,
    },
    WindowClosing {
        expires_at: Option<DateTime<Utc>>,
    },
}

/// Why a frame was skipped.
#[derive(Debug, Clone, PartialEq)]
pub enum Skipped {
    Malformed(String),
    UnknownType(String),
    OtherConversation,
}

#[derive(Deserialize)]
struct Envelope {
    event_type: String,
    #[serde(default)]
    conversation_id: Option<ConversationId>,
    #[serde(default, deserialize_with = "crate::model::time::rfc3339::optional")]
    timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    payload: Value,
}

/// The payload as the type its event carries.
fn payload_as<T: serde::de::DeserializeOwned>(payload: Value) -> Result<T, Skipped> {
    serde_json::from_value(payload).map_err(|e| Skipped::Malformed(e.to_string()))
}

/// Decodes one `data:` payload for the conversation `expected`.
pub fn decode(data: &str, expected: &ConversationId) -> Result<StreamEvent, Skipped> {
    let env: Envelope =
        serde_json::from_str(data).map_err(|e| Skipped::Malformed(e.to_string()))?;
    if env.conversation_id.as_ref().is_some_and(|c| c != expected) {
        return Err(Skipped::OtherConversation);
    }
    let timestamp = env.timestamp.unwrap_or_else(Utc::now);
    let mut payload = env.payload;
    let status_of = |t: &str| match t {
        "message.sent" => Some(MessageStatus::Sent),
        "message.delivered" => Some(MessageStatus::Delivered),
        "message.read" => Some(MessageStatus::Read),
        "message.failed" => Some(MessageStatus::Failed),
        _ => None,
    };
    match env.event_type.as_str() {
        "message.received" => {
            if let Value::Object(map) = &mut payload {
                // The stream may leave out what the event itself implies.
                map.entry("created_at")
                    .or_insert_with(|| Value::String(timestamp.to_rfc3339()));
                map.entry("direction")
                    .or_insert_with(|| Value::String("inbound".into()));
                map.entry("status")
                    .or_insert_with(|| Value::String("received".into()));
            }
            payload_as(payload).map(StreamEvent::Message)
        }
        t @ ("message.sent" | "message.delivered" | "message.read" | "message.failed") => {
            #[derive(Deserialize)]
            struct P {
                message_id: MessageId,
                #[serde(default)]
                error_code: Option<String>,
            }
            let p: P = payload_as(payload)?;
            Ok(StreamEvent::Status {
                message_id: p.message_id,
                status: status_of(t).unwrap_or(MessageStatus::Unknown),
                error_code: p.error_code,
            })
        }
        "conversation.mode_changed" => {
            #[derive(Deserialize)]
            struct P {
                from_mode: AiMode,
                to_mode: AiMode,
                #[serde(default)]
                actor_user_id: Option<String>,
            }
            let p: P = payload_as(payload)?;
            Ok(StreamEvent::ModeChanged {
                from_mode: p.from_mode,
                to_mode: p.to_mode,
                actor_user_id: p.actor_user_id,
                timestamp,
            })
        }
        "window.closing" => Ok(StreamEvent::WindowClosing {
            expires_at: payload
                .get("window_expires_at")
                .or_else(|| payload.get("expires_at"))
                .and_then(|v| crate::model::time::rfc3339::parse(v.as_str()?).ok()),
        }),
        other => Err(Skipped::UnknownType(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv() -> ConversationId {
        ConversationId::from("conv_1")
    }

    #[test]
    fn message_received_reads_text_or_body() {
        let with_text = r#"{"event_type":"message.received","conversation_id":"conv_1",
            "timestamp":"2026-05-15T14:32:01Z","payload":{"message_id":"msg_1","text":"hi"}}"#;
        match decode(with_text, &conv()) {
            Ok(StreamEvent::Message(m)) => {
                assert_eq!(m.body.as_deref(), Some("hi"));
                assert_eq!(m.status, MessageStatus::Received);
            }
            other => panic!("unexpected {other:?}"),
        }
        let with_both = with_text.replace("\"text\":\"hi\"", "\"text\":\"hi\",\"body\":\"hi\"");
        assert!(matches!(
            decode(&with_both, &conv()),
            Ok(StreamEvent::Message(m)) if m.body.as_deref() == Some("hi")
        ));
        let with_body = with_text.replace("\"text\"", "\"body\"");
        assert!(matches!(
            decode(&with_body, &conv()),
            Ok(StreamEvent::Message(m)) if m.body.as_deref() == Some("hi")
        ));
    }

    #[test]
    fn status_and_mode_events() {
        let read = r#"{"event_type":"message.read","conversation_id":"conv_1","payload":{"message_id":"msg_9"}}"#;
        assert!(matches!(
            decode(read, &conv()),
            Ok(StreamEvent::Status {
                status: MessageStatus::Read,
                ..
            })
        ));
        let mode = r#"{"event_type":"conversation.mode_changed","conversation_id":"conv_1",
            "timestamp":"2026-05-15T14:32:01Z",
            "payload":{"from_mode":"ai","to_mode":"human","actor_user_id":"usr_2"}}"#;
        assert!(matches!(
            decode(mode, &conv()),
            Ok(StreamEvent::ModeChanged {
                to_mode: AiMode::Human,
                ..
            })
        ));
    }

    #[test]
    fn bad_frames_are_skipped_not_fatal() {
        assert!(matches!(
            decode("not json", &conv()),
            Err(Skipped::Malformed(_))
        ));
        assert_eq!(
            decode(r#"{"event_type":"agent.mood","payload":{}}"#, &conv()),
            Err(Skipped::UnknownType("agent.mood".into()))
        );
        assert_eq!(
            decode(
                r#"{"event_type":"message.read","conversation_id":"conv_2","payload":{}}"#,
                &conv()
            ),
            Err(Skipped::OtherConversation)
        );
        assert!(matches!(
            decode(r#"{"event_type":"message.read","payload":{}}"#, &conv()),
            Err(Skipped::Malformed(_))
        ));
    }
}
