//! Messages of a thread.

use super::conversation::Channel;
use super::ids::{ConversationId, MessageId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
    #[serde(other)]
    Unknown,
}

/// Delivery status. Outbound goes `queued → sent → delivered → read` or ends `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Received,
    Queued,
    Sent,
    Delivered,
    Read,
    Failed,
    #[serde(other)]
    Unknown,
}

impl MessageStatus {
    /// Position in the lifecycle: a status only ever replaces one of a lower rank, so an event
    /// that arrives late (or twice) can't move a message backwards. A failure ends a message
    /// not yet delivered; a delivery or a read is the customer's handset's word, which a
    /// failure reported out of order (or late, by a carrier) does not undo: "Not delivered",
    /// with Edit, on a message the customer read invited sending it again.
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Unknown => 0,
            MessageStatus::Queued => 1,
            MessageStatus::Sent => 2,
            MessageStatus::Failed => 3,
            MessageStatus::Delivered => 4,
            MessageStatus::Read => 5,
            MessageStatus::Received => 6,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MessageStatus::Received => "received",
            MessageStatus::Queued => "queued",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Failed => "failed",
            MessageStatus::Unknown => "unknown",
        }
    }

    /// Delivery ticks as operators know them from messaging apps.
    pub fn ticks(self) -> &'static str {
        match self {
            MessageStatus::Queued => "🕓",
            MessageStatus::Sent => "✓",
            MessageStatus::Delivered => "✓✓",
            MessageStatus::Read => "✓✓ read",
            MessageStatus::Failed => "failed",
            MessageStatus::Received | MessageStatus::Unknown => "",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WireMessage")]
pub struct Message {
    pub message_id: MessageId,
    #[serde(default)]
    pub conversation_id: Option<ConversationId>,
    pub direction: Direction,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub message_type: Option<String>,
    /// Requests and webhooks call the text `body`, stream payloads call it `text` (the simulator
    /// sends both): `body` first, `text` as the fallback.
    pub body: Option<String>,
    pub status: MessageStatus,
    #[serde(default)]
    pub from_number: Option<String>,
    #[serde(default)]
    pub to_number: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub error_code: Option<String>,
    /// A WhatsApp file's address (API.md's `media_url`), when it is a web address to open.
    #[serde(default)]
    pub media_url: Option<String>,
}

impl Message {
    /// What the thread shows and the screen reader reads: the text, or for a file without a
    /// caption what it is (an empty bubble, and "New message from the customer: " said nothing).
    pub fn shown_text(&self) -> String {
        let file = match self.message_type.as_deref() {
            Some("image") => Some("[Image]"),
            Some("audio") => Some("[Audio]"),
            Some("video") => Some("[Video]"),
            Some("document") => Some("[Document]"),
            _ => None,
        };
        match (file, self.body.as_deref().filter(|b| !b.trim().is_empty())) {
            // A file with a caption: both, as the customer's app shows them.
            (Some(file), Some(caption)) => format!("{file} {caption}"),
            (None, Some(body)) => body.to_owned(),
            (file, None) => file.unwrap_or("[No text]").to_owned(),
        }
    }
}

impl WireMessage {
    /// The conversation it says it is in, if it says.
    pub(crate) fn conversation_id(&self) -> Option<&ConversationId> {
        self.conversation_id.as_ref()
    }
}

/// A message as it arrives, where the text may be under either name, or both. The API always
/// sends the direction and the time; a stream event may leave out what it implies
/// ([`WireMessage::received_at`]).
#[derive(Deserialize)]
pub(crate) struct WireMessage {
    message_id: MessageId,
    #[serde(default)]
    conversation_id: Option<ConversationId>,
    #[serde(default)]
    direction: Option<Direction>,
    #[serde(default)]
    channel: Option<Channel>,
    #[serde(default)]
    message_type: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    status: Option<MessageStatus>,
    #[serde(default)]
    from_number: Option<String>,
    #[serde(default)]
    to_number: Option<String>,
    #[serde(default, deserialize_with = "crate::model::time::rfc3339::optional")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::model::readable::code")]
    error_code: Option<String>,
    #[serde(default)]
    media_url: Option<String>,
    #[serde(default)]
    media_caption: Option<String>,
}

impl WireMessage {
    /// What a `message.received` event at `at` implies where its payload is silent.
    pub(crate) fn received_at(mut self, at: DateTime<Utc>) -> Self {
        let direction = *self.direction.get_or_insert(Direction::Inbound);
        // `received` is the customer's status, and final: an outbound message's (the AI's
        // reply) is not known yet, and its receipts move it on from there.
        self.status.get_or_insert(match direction {
            Direction::Outbound => MessageStatus::Unknown,
            _ => MessageStatus::Received,
        });
        self.created_at.get_or_insert(at);
        self
    }
}

impl WireMessage {
    /// A status event's payload (`message.sent` and the like), which is the message itself:
    /// whole, when it says enough to show it (a reply the AI or another tab sent arrives only
    /// this way), else the id and error that move a known message forward.
    pub(crate) fn with_status(
        self,
        status: MessageStatus,
    ) -> Result<Message, (MessageId, Option<String>)> {
        let (id, error) = (self.message_id.clone(), self.error_code.clone());
        Message::try_from(self)
            .map(|m| Message { status, ..m })
            .map_err(|_| (id, error))
    }
}

impl TryFrom<WireMessage> for Message {
    type Error = &'static str;

    fn try_from(w: WireMessage) -> Result<Self, Self::Error> {
        let (Some(direction), Some(created_at)) = (w.direction, w.created_at) else {
            return Err("a message needs its direction and created_at");
        };
        Ok(Message {
            message_id: w.message_id,
            conversation_id: w.conversation_id,
            direction,
            channel: w.channel,
            message_type: w.message_type,
            // A file's caption is its text (where the body is left empty).
            body: [w.body, w.text, w.media_caption]
                .into_iter()
                .flatten()
                .find(|t| !t.trim().is_empty()),
            status: w.status.unwrap_or(MessageStatus::Unknown),
            from_number: w.from_number,
            to_number: w.to_number,
            created_at,
            error_code: w.error_code,
            // (Only a web address is a link: not `javascript:` or the like.)
            media_url: w
                .media_url
                .map(|u| u.trim().to_owned())
                .filter(|u| is_web_address(u)),
        })
    }
}

/// Whether `url` is an `http(s)` address, which a link may open.
fn is_web_address(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Takes `part` out of `text` once where it stands whole (bounded by the text's ends or by
/// blank lines, as the reply box puts a failed send's text ahead of what was typed after it),
/// with the blank line that joined it; whether it was there. Not within a paragraph: "Refund
/// sent today" does not hold "Refund sent".
pub fn take_paragraph(text: &mut String, part: &str) -> bool {
    const BREAK: &str = "\n\n";
    if part.is_empty() {
        return false;
    }
    let whole = text.match_indices(part).map(|(at, _)| at).find(|&at| {
        let end = at + part.len();
        (at == 0 || text[..at].ends_with(BREAK))
            && (end == text.len() || text[end..].starts_with(BREAK))
    });
    let Some(at) = whole else {
        return false;
    };
    let end = at + part.len();
    // With the break after it, or else the one before it.
    let (from, to) = if text[end..].starts_with(BREAK) {
        (at, end + BREAK.len())
    } else {
        (at.saturating_sub(BREAK.len()), end)
    };
    text.replace_range(from..to, "");
    true
}

/// Whether a customer's text opts their number back in (API.md: `START`, `SUBSCRIBE`, any
/// case): after an opt-out, only these do. Read as the simulator reads a keyword (the whole
/// message, a `.` or `!` after it): read more loosely, a `start?` here unblocked the reply box,
/// for a send the API then refused.
pub fn opts_back_in(body: &str) -> bool {
    let word = body.trim().trim_end_matches(['.', '!']);
    ["START", "SUBSCRIBE"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

/// Whether a customer's text may be an opt-out or opt-in keyword (API.md: `STOP`,
/// `UNSUBSCRIBE`, `CANCEL`, `END`, `QUIT`, `START`, `SUBSCRIBE`, any case). Loose on purpose:
/// the server decides whether it was one, and the console only asks it again when this says yes.
pub fn may_change_opt_out(body: &str) -> bool {
    let word = body.trim_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation());
    const KEYWORDS: [&str; 7] = [
        "STOP",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "START",
        "SUBSCRIBE",
    ];
    KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_start_or_subscribe_themselves_opt_back_in() {
        for yes in ["START", " start\n", "Subscribe!", "START."] {
            assert!(opts_back_in(yes), "{yes:?}");
        }
        for no in ["start?", "(start)", "start, please", "restart"] {
            assert!(!opts_back_in(no), "{no:?}");
        }
    }

    #[test]
    fn a_file_without_a_caption_shows_what_it_is() {
        let json = |extra: serde_json::Value| {
            let mut m = serde_json::json!({
                "message_id": "msg_1", "direction": "inbound", "status": "received",
                "created_at": "2026-05-15T12:00:00Z",
            });
            m.as_object_mut()
                .expect("object")
                .extend(extra.as_object().expect("object").clone());
            serde_json::from_value::<Message>(m).expect("message")
        };
        assert_eq!(json(serde_json::json!({"body": "Hi"})).shown_text(), "Hi");
        assert_eq!(
            json(serde_json::json!({"message_type": "image"})).shown_text(),
            "[Image]"
        );
        assert_eq!(
            json(serde_json::json!({"message_type": "sticker", "body": " "})).shown_text(),
            "[No text]"
        );
        // A file with a caption (API.md's `media_caption`, the body left empty) shows both,
        // and its address is a link only when it is a web address.
        let invoice = json(serde_json::json!({
            "message_type": "image", "body": "", "media_caption": "Your invoice",
            "media_url": "https://files.example.com/invoice.png",
        }));
        assert_eq!(invoice.shown_text(), "[Image] Your invoice");
        assert_eq!(
            invoice.media_url.as_deref(),
            Some("https://files.example.com/invoice.png")
        );
        let script = json(serde_json::json!({
            "message_type": "document", "media_url": " JavaScript:alert(1)",
        }));
        assert_eq!(
            (script.shown_text().as_str(), script.media_url),
            ("[Document]", None)
        );
        // Linked as it was checked: without the white space around it (a browser takes a
        // no-break space before `https` for a path on the console's own site).
        let spaced = json(serde_json::json!({
            "message_type": "image", "media_url": "\u{a0}https://files.example.com/a.png ",
        }));
        assert_eq!(
            spaced.media_url.as_deref(),
            Some("https://files.example.com/a.png")
        );
    }

    #[test]
    fn opt_keywords_are_recognised_loosely() {
        for body in [
            "STOP",
            "stop",
            " Stop! ",
            "unsubscribe.",
            "START",
            "Subscribe",
        ] {
            assert!(may_change_opt_out(body), "{body:?}");
        }
        for body in ["Please stop", "stopped", "", "ok", "the end"] {
            assert!(!may_change_opt_out(body), "{body:?}");
        }
    }

    #[test]
    fn status_rank_orders_the_lifecycle() {
        use MessageStatus::*;
        assert!(Queued.rank() < Sent.rank());
        assert!(Sent.rank() < Failed.rank());
        assert!(Failed.rank() < Delivered.rank());
        assert!(Delivered.rank() < Read.rank());
    }

    #[test]
    fn accepts_text_for_body_and_unknown_status() {
        let m: Message = serde_json::from_str(
            r#"{"message_id":"m1","direction":"inbound","text":"hi","status":"bounced",
                "created_at":"2026-05-15T10:15:00Z"}"#,
        )
        .expect("parses");
        assert_eq!(m.body.as_deref(), Some("hi"));
        assert_eq!(m.status, MessageStatus::Unknown);
    }

    #[test]
    fn a_message_from_the_api_needs_its_direction_and_time() {
        let without = |field: &str| {
            let full = r#"{"message_id":"m1","direction":"inbound","body":"hi","created_at":"2026-05-15T10:15:00Z"}"#;
            let json = match field {
                "direction" => full.replace(r#""direction":"inbound","#, ""),
                _ => full.replace(r#","created_at":"2026-05-15T10:15:00Z""#, ""),
            };
            serde_json::from_str::<Message>(&json)
        };
        assert!(without("direction").is_err());
        assert!(without("created_at").is_err());
    }

    #[test]
    fn accepts_body_and_text_together_preferring_body() {
        let m: Message = serde_json::from_str(
            r#"{"message_id":"m1","direction":"inbound","text":"from text","body":"from body",
                "created_at":"2026-05-15T10:15:00Z"}"#,
        )
        .expect("both names at once parse");
        assert_eq!(m.body.as_deref(), Some("from body"));
    }
}
