//! Decoding of the conversation stream's frames. Anything the console doesn't understand becomes
//! a value to skip and count, never an error that stops the stream.

use super::conversation::AiMode;
use super::ids::{ConversationId, MessageId};
use super::message::{Message, MessageStatus, WireMessage};
use chrono::{DateTime, Utc};
use serde::Deserialize;

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
    /// An event (named, or with a type or a payload) that cannot be read: mangled, cut short.
    Malformed(String),
    /// Data that is no event: a gateway's heartbeat written as data (`ping`, `{}`), say.
    NotAnEvent,
    UnknownType(String),
    OtherConversation,
}

/// What a frame of JSON without a type holds when it is an event all the same: a gateway that
/// flattened the envelope sends the message's own fields. (Not a conversation's id alone, which
/// a heartbeat of a conversation's stream may carry.)
const EVENT_FIELDS: [&str; 2] = ["\"payload\"", "\"message_id\""];

/// Why `data` (named `named`) was not read, `json`: whether it is JSON (without a type). A
/// gateway's heartbeat (a bare word such as `ping`, nothing, or JSON without a payload or a
/// message) is no event; anything else is one that could not be read (cut
/// short anywhere, mangled, flattened), and brings a refetch.
fn unreadable(data: &str, named: Option<&str>, json: bool, why: String) -> Skipped {
    let bare_word = data
        .trim()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let heartbeat = named.is_none()
        && if json {
            !EVENT_FIELDS.iter().any(|field| data.contains(field))
        } else {
            bare_word
        };
    if heartbeat {
        Skipped::NotAnEvent
    } else {
        Skipped::Malformed(why)
    }
}

/// The envelope without its payload: read first, to know what the payload is.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    event_type: Option<String>,
    #[serde(default)]
    conversation_id: Option<ConversationId>,
    #[serde(default, deserialize_with = "crate::model::time::rfc3339::optional")]
    timestamp: Option<DateTime<Utc>>,
}

/// The same frame read again for its payload, as the type its event carries. Twice through a
/// small frame costs less than a `serde_json::Value` and its own deserialiser in the wasm.
#[derive(Deserialize)]
#[serde(bound = "P: serde::de::DeserializeOwned")]
struct WithPayload<P> {
    payload: Option<P>,
}

fn payload<P: serde::de::DeserializeOwned>(data: &str) -> Result<P, Skipped> {
    serde_json::from_str::<WithPayload<P>>(data)
        .map_err(|e| Skipped::Malformed(e.to_string()))?
        .payload
        .ok_or_else(|| Skipped::Malformed("the event has no payload".into()))
}

/// Decodes one `data:` payload for the conversation `expected`.
pub fn decode(data: &str, expected: &ConversationId) -> Result<StreamEvent, Skipped> {
    decode_named(data, None, expected)
}

/// [`decode`], of a frame whose `event:` line named it `named`: its type where its data leaves
/// it out (a gateway's framing; the data's own wins).
pub fn decode_named(
    data: &str,
    named: Option<&str>,
    expected: &ConversationId,
) -> Result<StreamEvent, Skipped> {
    let env: Envelope =
        serde_json::from_str(data).map_err(|e| unreadable(data, named, false, e.to_string()))?;
    let event_type = env
        .event_type
        .or_else(|| named.map(str::to_owned))
        .ok_or_else(|| unreadable(data, named, true, "the event has no type".into()))?;
    of_this(env.conversation_id.as_ref(), expected)?;
    let timestamp = env.timestamp.unwrap_or_else(Utc::now);
    let status_of = |t: &str| match t {
        "message.sent" => Some(MessageStatus::Sent),
        "message.delivered" => Some(MessageStatus::Delivered),
        "message.read" => Some(MessageStatus::Read),
        "message.failed" => Some(MessageStatus::Failed),
        _ => None,
    };
    match event_type.as_str() {
        "message.received" => {
            // The stream may leave out what the event itself implies.
            let wire: WireMessage = payload(data)?;
            of_this(wire.conversation_id(), expected)?;
            Message::try_from(wire.received_at(timestamp))
                .map(StreamEvent::Message)
                .map_err(|e| Skipped::Malformed(e.into()))
        }
        t @ ("message.sent" | "message.delivered" | "message.read" | "message.failed") => {
            let wire: WireMessage = payload(data)?;
            of_this(wire.conversation_id(), expected)?;
            let status = status_of(t).unwrap_or(MessageStatus::Unknown);
            Ok(match wire.with_status(status) {
                Ok(m) => StreamEvent::Message(m),
                Err((message_id, error_code)) => StreamEvent::Status {
                    message_id,
                    status,
                    error_code,
                },
            })
        }
        "conversation.mode_changed" => {
            #[derive(Deserialize)]
            struct P {
                from_mode: AiMode,
                to_mode: AiMode,
                #[serde(default)]
                actor_user_id: Option<String>,
                #[serde(default)]
                conversation_id: Option<ConversationId>,
            }
            let p: P = payload(data)?;
            of_this(p.conversation_id.as_ref(), expected)?;
            Ok(StreamEvent::ModeChanged {
                from_mode: p.from_mode,
                to_mode: p.to_mode,
                actor_user_id: p.actor_user_id,
                timestamp,
            })
        }
        "window.closing" => {
            // Either name; a time the console cannot read is no time, not a lost warning.
            #[derive(Deserialize, Default)]
            struct P {
                #[serde(default)]
                window_expires_at: Option<String>,
                #[serde(default)]
                expires_at: Option<String>,
            }
            let p: P = payload(data).unwrap_or_default();
            Ok(StreamEvent::WindowClosing {
                expires_at: p
                    .window_expires_at
                    .or(p.expires_at)
                    .and_then(|at| crate::model::time::rfc3339::parse(&at).ok()),
            })
        }
        other => Err(Skipped::UnknownType(other.to_owned())),
    }
}

/// Whether the conversation an event names (its envelope, or its payload: either may leave it
/// out) is the stream's: another's is skipped, not shown in this one.
fn of_this(named: Option<&ConversationId>, expected: &ConversationId) -> Result<(), Skipped> {
    match named.is_some_and(|c| c != expected) {
        true => Err(Skipped::OtherConversation),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Direction;

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
        // A carrier's error code as a number.
        let failed = r#"{"event_type":"message.failed","conversation_id":"conv_1",
            "payload":{"message_id":"msg_9","error_code":30007}}"#;
        assert!(matches!(
            decode(failed, &conv()),
            Ok(StreamEvent::Status {
                status: MessageStatus::Failed,
                error_code: Some(code),
                ..
            }) if code == "30007"
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
    fn a_status_event_carrying_the_whole_message_brings_it() {
        // The AI's reply reaches the stream only as `message.sent` and what follows it.
        let sent = r#"{"event_type":"message.sent","conversation_id":"conv_1",
            "timestamp":"2026-05-15T14:32:03Z","payload":{"message_id":"msg_7",
            "direction":"outbound","text":"Your order ships today","body":"Your order ships today",
            "status":"sent","created_at":"2026-05-15T14:32:02Z"}}"#;
        match decode(sent, &conv()) {
            Ok(StreamEvent::Message(m)) => {
                assert_eq!(m.direction, Direction::Outbound);
                assert_eq!(m.status, MessageStatus::Sent);
                assert_eq!(m.body.as_deref(), Some("Your order ships today"));
            }
            other => panic!("unexpected {other:?}"),
        }
        // The event's type is the status, whatever the payload's copy says; without its
        // direction and time the payload only moves a known message on.
        let failed = sent.replace("message.sent", "message.failed").replace(
            "\"created_at\":\"2026-05-15T14:32:02Z\"",
            "\"error_code\":\"UNDELIVERABLE\"",
        );
        assert!(matches!(
            decode(&failed, &conv()),
            Ok(StreamEvent::Status {
                status: MessageStatus::Failed,
                error_code: Some(code),
                ..
            }) if code == "UNDELIVERABLE"
        ));
    }

    #[test]
    fn a_frame_named_by_its_event_line_needs_no_type_in_its_data() {
        let frame = r#"{"conversation_id":"conv_1","payload":{"message_id":"msg_7",
            "error_code":"UNDELIVERABLE"}}"#;
        assert!(matches!(
            decode_named(frame, Some("message.failed"), &conv()),
            Ok(StreamEvent::Status {
                status: MessageStatus::Failed,
                ..
            })
        ));
        assert!(matches!(decode(frame, &conv()), Err(Skipped::Malformed(_))));
        // The data's own type wins.
        let typed = frame.replacen('{', r#"{"event_type":"message.read","#, 1);
        assert!(matches!(
            decode_named(&typed, Some("message.failed"), &conv()),
            Ok(StreamEvent::Status {
                status: MessageStatus::Read,
                ..
            })
        ));
    }

    #[test]
    fn a_received_message_takes_what_its_event_implies_unless_it_says_otherwise() {
        let event = |payload: &str| {
            format!(
                r#"{{"event_type":"message.received","conversation_id":"conv_1",
                    "timestamp":"2026-05-15T14:32:01Z","payload":{payload}}}"#
            )
        };
        let Ok(StreamEvent::Message(implied)) =
            decode(&event(r#"{"message_id":"msg_1","text":"hi"}"#), &conv())
        else {
            panic!("a minimal payload is a message");
        };
        assert_eq!(implied.direction, Direction::Inbound);
        assert_eq!(implied.status, MessageStatus::Received);
        assert_eq!(implied.created_at.to_rfc3339(), "2026-05-15T14:32:01+00:00");
        let nulls = r#"{"message_id":"msg_1","text":"hi","direction":null,"status":null,"created_at":null}"#;
        assert_eq!(
            decode(&event(nulls), &conv()),
            Ok(StreamEvent::Message(implied)),
            "null reads as left out"
        );
        let said = r#"{"message_id":"msg_2","text":"on my way","direction":"outbound",
            "status":"sent","created_at":"2026-05-15T14:30:00Z","unknown_field":[1,{"a":null}]}"#;
        let Ok(StreamEvent::Message(said)) = decode(&event(said), &conv()) else {
            panic!("a full payload is a message");
        };
        assert_eq!(said.direction, Direction::Outbound);
        assert_eq!(said.status, MessageStatus::Sent);
        assert_eq!(said.created_at.to_rfc3339(), "2026-05-15T14:30:00+00:00");
        // An outbound one whose status is left out is not taken as received, which no receipt
        // could move on (its failure would go untold).
        let Ok(StreamEvent::Message(reply)) = decode(
            &event(r#"{"message_id":"msg_3","text":"ok","direction":"outbound"}"#),
            &conv(),
        ) else {
            panic!("an outbound payload is a message");
        };
        assert_eq!(reply.status, MessageStatus::Unknown);
        for broken in [r#"{"text":"no id"}"#, r#"{"message_id":7}"#, "null", "[]"] {
            assert!(
                matches!(decode(&event(broken), &conv()), Err(Skipped::Malformed(_))),
                "{broken}"
            );
        }
    }

    #[test]
    fn window_closing_reads_either_name_and_survives_a_time_it_cannot_read() {
        let event = |payload: &str| {
            format!(
                r#"{{"event_type":"window.closing","conversation_id":"conv_1","payload":{payload}}}"#
            )
        };
        let expires = |payload: &str| match decode(&event(payload), &conv()) {
            Ok(StreamEvent::WindowClosing { expires_at }) => expires_at.map(|t| t.to_rfc3339()),
            other => panic!("{payload}: {other:?}"),
        };
        let at = Some("2026-05-16T09:00:00+00:00".to_string());
        assert_eq!(
            expires(r#"{"window_expires_at":"2026-05-16T09:00:00Z"}"#),
            at
        );
        assert_eq!(expires(r#"{"expires_at":"2026-05-16T09:00:00Z"}"#), at);
        assert_eq!(expires(r#"{"expires_at":"soon"}"#), None);
        assert_eq!(expires(r#"{"expires_at":12}"#), None);
        assert_eq!(expires("{}"), None);
    }

    #[test]
    fn bad_frames_are_skipped_not_fatal() {
        // A gateway's heartbeat written as data is no event.
        for heartbeat in [
            "ping",
            "keep-alive",
            "",
            "{}",
            "[]",
            r#"{"type":"heartbeat"}"#,
            r#"{"type":"ping","conversation_id":"conv_1"}"#,
        ] {
            assert_eq!(
                decode(heartbeat, &conv()),
                Err(Skipped::NotAnEvent),
                "{heartbeat}"
            );
        }
        // An event cut short, named but unreadable, or flattened by a gateway (the message's
        // fields without the envelope) is one that could not be read.
        for cut in [
            r#"{"event_type":"message.received","payload":{"mess"#,
            r#"{"conversation_id":"conv_1","ev"#,
            r#"{"message_id":"msg_1","direction":"inbound","text":"Where is my order?"}"#,
        ] {
            assert!(
                matches!(decode(cut, &conv()), Err(Skipped::Malformed(_))),
                "{cut}"
            );
        }
        assert!(matches!(
            decode_named("{not json", Some("message.received"), &conv()),
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
        // Named by the payload alone, the envelope leaving it out: another's still.
        for other in [
            r#"{"event_type":"message.received","payload":{"message_id":"m","conversation_id":"conv_2","direction":"inbound","text":"hi","created_at":"2026-05-15T14:32:01Z"}}"#,
            r#"{"event_type":"message.read","payload":{"message_id":"m","conversation_id":"conv_2"}}"#,
            r#"{"event_type":"conversation.mode_changed","payload":{"conversation_id":"conv_2","from_mode":"ai","to_mode":"human"}}"#,
        ] {
            assert_eq!(
                decode(other, &conv()),
                Err(Skipped::OtherConversation),
                "{other}"
            );
            let ours = other.replace("conv_2", "conv_1");
            assert!(decode(&ours, &conv()).is_ok(), "{ours}");
        }
        assert!(matches!(
            decode(r#"{"event_type":"message.read","payload":{}}"#, &conv()),
            Err(Skipped::Malformed(_))
        ));
    }
}
