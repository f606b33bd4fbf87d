//! Conversations as the list and the single-conversation endpoints return them.

use super::ids::{AgentId, ConversationId};
use super::message::Message;
use super::readable::Readable;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The channel a conversation runs on. `Unknown` keeps rendering alive if the server adds one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Whatsapp,
    #[serde(other)]
    Unknown,
}

impl Channel {
    pub fn label(self) -> &'static str {
        match self {
            Channel::Sms => "SMS",
            Channel::Whatsapp => "WhatsApp",
            Channel::Unknown => "Other",
        }
    }

    /// The value the API takes in `channel=` filters and request bodies.
    pub fn as_param(self) -> Option<&'static str> {
        match self {
            Channel::Sms => Some("sms"),
            Channel::Whatsapp => Some("whatsapp"),
            Channel::Unknown => None,
        }
    }

    pub fn from_param(s: &str) -> Option<Channel> {
        match s {
            "sms" => Some(Channel::Sms),
            "whatsapp" => Some(Channel::Whatsapp),
            _ => None,
        }
    }
}

/// Who answers the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AiMode {
    Ai,
    Human,
    Closed,
    #[serde(other)]
    Unknown,
}

impl AiMode {
    pub fn label(self) -> &'static str {
        match self {
            AiMode::Ai => "AI",
            AiMode::Human => "Human",
            AiMode::Closed => "Closed",
            AiMode::Unknown => "Unknown",
        }
    }

    /// Who answers, as the badge and the announcements say it: "Closed" is no one, not a
    /// name to be answered by.
    pub fn who_answers(self) -> &'static str {
        match self {
            AiMode::Ai => "Answered by: AI",
            AiMode::Human => "Answered by: Human",
            AiMode::Closed => "Closed: no one answers",
            AiMode::Unknown => "Answered by: unknown",
        }
    }

    pub fn as_param(self) -> &'static str {
        match self {
            AiMode::Ai => "ai",
            AiMode::Human => "human",
            AiMode::Closed => "closed",
            AiMode::Unknown => "unknown",
        }
    }
}

/// A list item of `GET /v1/conversations`. The list omits `ai_mode` by design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WireConversation")]
pub struct ConversationSummary {
    pub conversation_id: ConversationId,
    pub agent_id: AgentId,
    pub channel: Channel,
    pub from_number: String,
    pub to_number: String,
    pub window_expires_at: Option<DateTime<Utc>>,
    /// `None` when the answer says nothing of it: a thread's body is API.md's choice, and one
    /// that leaves it out does not undo an opt-out known before (see `Thread`).
    pub opt_out: Option<bool>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    pub last_message_at: Option<DateTime<Utc>>,
}

impl ConversationSummary {
    /// The remote party. The contract's example puts the customer in `from_number`, but tells us to
    /// treat that as data: a number known to belong to the agent is never the remote party.
    pub fn remote_number<'a>(&'a self, agent_number: Option<&str>) -> &'a str {
        match agent_number {
            Some(n) if n == self.from_number => &self.to_number,
            _ => &self.from_number,
        }
    }

    pub fn opted_out(&self) -> bool {
        self.opt_out == Some(true)
    }

    /// When the conversation last moved, for ordering and the relative time in the list.
    pub fn activity_at(&self) -> DateTime<Utc> {
        self.last_message_at
            .or(self.updated_at)
            .unwrap_or(self.created_at)
    }
}

/// One row of the audit trail of mode changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeChange {
    #[serde(default)]
    pub actor_user_id: Option<String>,
    pub from_mode: AiMode,
    pub to_mode: AiMode,
    #[serde(deserialize_with = "crate::model::time::rfc3339::required")]
    pub timestamp: DateTime<Utc>,
}

/// `GET /v1/conversations/{id}` (and the PATCH response, which carries no messages).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "WireConversation")]
pub struct Conversation {
    pub summary: ConversationSummary,
    pub ai_mode: AiMode,
    pub messages: Vec<Message>,
    /// Messages of this page left out because they could not be read (`model::readable`).
    pub unreadable_messages: usize,
    pub next_page_token: Option<String>,
    pub mode_history: Vec<ModeChange>,
    /// Only on PATCH responses.
    pub changed: Option<bool>,
}

/// The answer to `PATCH /v1/conversations/{id}`. API.md has it as the conversation (without
/// messages) plus `changed`, a choice: an answer of the mode and `changed` alone is taken too
/// (the handoff was made), and the conversation the console has then stays as it is.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "WireConversation")]
pub struct ModeAnswer {
    /// `Unknown` when the answer names none (see `HandoffAction::made`).
    pub ai_mode: AiMode,
    pub changed: Option<bool>,
    pub mode_history: Vec<ModeChange>,
    /// None when the answer leaves out a field a conversation cannot do without.
    pub summary: Option<ConversationSummary>,
}

impl From<WireConversation> for ModeAnswer {
    fn from(w: WireConversation) -> Self {
        let mut w = w.unnested();
        ModeAnswer {
            ai_mode: w.ai_mode.take().unwrap_or(AiMode::Unknown),
            changed: w.changed.take(),
            mode_history: w.mode_history.take().unwrap_or_default().items,
            summary: w.try_into().ok(),
        }
    }
}

impl From<Conversation> for ModeAnswer {
    fn from(c: Conversation) -> Self {
        ModeAnswer {
            ai_mode: c.ai_mode,
            changed: c.changed,
            mode_history: c.mode_history,
            summary: Some(c.summary),
        }
    }
}

/// A conversation as the API sends it, a list item or a whole thread: every field side by
/// side. Both types read through this one struct, so the wasm holds one deserialiser for them,
/// and the thread's fields need no `#[serde(flatten)]` (which buffers the whole object in
/// serde's `Content` first, a second deserialiser of every field). The fields a conversation
/// cannot do without are checked after it is read, as they may come one level down.
#[derive(Deserialize)]
struct WireConversation {
    #[serde(default)]
    conversation_id: Option<ConversationId>,
    #[serde(default)]
    agent_id: Option<AgentId>,
    #[serde(default)]
    channel: Option<Channel>,
    #[serde(default)]
    from_number: Option<String>,
    #[serde(default)]
    to_number: Option<String>,
    #[serde(default, deserialize_with = "crate::model::time::rfc3339::optional")]
    window_expires_at: Option<DateTime<Utc>>,
    // (`null` as absent, as for the fields below: it made the whole conversation unreadable.)
    #[serde(default)]
    opt_out: Option<bool>,
    #[serde(default, deserialize_with = "crate::model::time::rfc3339::optional")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::model::time::rfc3339::optional")]
    updated_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::model::time::rfc3339::optional")]
    last_message_at: Option<DateTime<Utc>>,
    // Only in a whole thread (`null` reads as absent). A list item has none of these.
    #[serde(default)]
    ai_mode: Option<AiMode>,
    #[serde(default)]
    messages: Option<Readable<Message>>,
    #[serde(default)]
    next_page_token: Option<String>,
    // An audit row that cannot be read is left out, not the whole conversation with it.
    #[serde(default)]
    mode_history: Option<Readable<ModeChange>>,
    #[serde(default)]
    changed: Option<bool>,
    /// The conversation one level down, beside its messages or a PATCH's `changed`
    /// (`{"conversation": {…}, "messages": […]}`): API.md's body is a choice, and the console
    /// takes the obvious alternatives.
    #[serde(default)]
    conversation: Option<Box<WireConversation>>,
}

/// A field a conversation cannot do without, missing at its level and below.
#[derive(Debug)]
pub struct MissingField(&'static str);

impl std::fmt::Display for MissingField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "missing field `{}`", self.0)
    }
}

impl WireConversation {
    /// The conversation's fields: those one level down where there is one, the fields beside
    /// it filling what it lacks. (Also beside an id at the top: taken alone, the top's fields
    /// lacked the rest, and the whole answer was unreadable.)
    fn unnested(mut self) -> WireConversation {
        let Some(inner) = self.conversation.take() else {
            return self;
        };
        let top = self;
        WireConversation {
            conversation_id: inner.conversation_id.or(top.conversation_id),
            agent_id: inner.agent_id.or(top.agent_id),
            channel: inner.channel.or(top.channel),
            from_number: inner.from_number.or(top.from_number),
            to_number: inner.to_number.or(top.to_number),
            window_expires_at: inner.window_expires_at.or(top.window_expires_at),
            opt_out: inner.opt_out.or(top.opt_out),
            created_at: inner.created_at.or(top.created_at),
            updated_at: inner.updated_at.or(top.updated_at),
            last_message_at: inner.last_message_at.or(top.last_message_at),
            ai_mode: inner.ai_mode.or(top.ai_mode),
            messages: inner.messages.or(top.messages),
            next_page_token: inner.next_page_token.or(top.next_page_token),
            mode_history: inner.mode_history.or(top.mode_history),
            changed: inner.changed.or(top.changed),
            conversation: None,
        }
    }
}

impl TryFrom<WireConversation> for ConversationSummary {
    type Error = MissingField;

    fn try_from(w: WireConversation) -> Result<Self, MissingField> {
        let w = w.unnested();
        Ok(ConversationSummary {
            conversation_id: w.conversation_id.ok_or(MissingField("conversation_id"))?,
            agent_id: w.agent_id.ok_or(MissingField("agent_id"))?,
            channel: w.channel.ok_or(MissingField("channel"))?,
            from_number: w.from_number.ok_or(MissingField("from_number"))?,
            to_number: w.to_number.ok_or(MissingField("to_number"))?,
            window_expires_at: w.window_expires_at,
            opt_out: w.opt_out,
            created_at: w.created_at.ok_or(MissingField("created_at"))?,
            updated_at: w.updated_at,
            last_message_at: w.last_message_at,
        })
    }
}

/// A string as the wire has it: an empty one is none (some APIs end a list with an empty next
/// page token, or leave an id they have not so).
pub fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.is_empty())
}

impl TryFrom<WireConversation> for Conversation {
    type Error = MissingField;

    fn try_from(w: WireConversation) -> Result<Self, MissingField> {
        let mut w = w.unnested();
        let messages = w.messages.take().unwrap_or_default();
        let (messages, unreadable_messages) = (messages.items, messages.unreadable);
        let mode_history = w.mode_history.take().unwrap_or_default().items;
        let (ai_mode, next_page_token, changed) = (
            w.ai_mode.take(),
            non_empty(w.next_page_token.take()),
            w.changed.take(),
        );
        Ok(Conversation {
            summary: w.try_into()?,
            ai_mode: ai_mode.unwrap_or(AiMode::Unknown),
            messages,
            unreadable_messages,
            next_page_token,
            mode_history,
            changed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEM: &str = r#"{ "conversation_id": "conv_abc123", "agent_id": "agt_PAEZ_njcfm2kycpjs",
        "channel": "whatsapp", "from_number": "+2348031234567", "to_number": "+2349012345678",
        "window_expires_at": "2026-05-16T14:32:01Z", "opt_out": false,
        "created_at": "2026-05-15T10:15:00Z", "updated_at": "2026-05-15T14:32:01Z",
        "last_message_at": "2026-05-15T14:32:01Z" }"#;

    #[test]
    fn parses_the_documented_list_item() {
        let c: ConversationSummary = serde_json::from_str(ITEM).expect("documented item parses");
        assert_eq!(c.channel, Channel::Whatsapp);
        assert_eq!(c.remote_number(None), "+2348031234567");
        assert_eq!(c.remote_number(Some("+2348031234567")), "+2349012345678");
    }

    #[test]
    fn a_null_flag_or_an_empty_time_reads_as_absent() {
        let item = ITEM
            .replace(r#""opt_out": false"#, r#""opt_out": null"#)
            .replace(
                r#""window_expires_at": "2026-05-16T14:32:01Z""#,
                r#""window_expires_at": """#,
            )
            .replace(
                r#""updated_at": "2026-05-15T14:32:01Z""#,
                r#""updated_at": " ""#,
            );
        let c: ConversationSummary = serde_json::from_str(&item).expect("still a conversation");
        assert!(!c.opted_out());
        assert_eq!((c.window_expires_at, c.updated_at), (None, None));
        assert!(c.last_message_at.is_some());
        // A time that is there but no time is still refused.
        let wrong = ITEM.replace("2026-05-15T10:15:00Z", "yesterday");
        assert!(serde_json::from_str::<ConversationSummary>(&wrong).is_err());
    }

    #[test]
    fn a_whole_thread_reads_the_summary_and_the_thread_side_by_side() {
        let thread = ITEM.replacen(
            '{',
            r#"{ "ai_mode": "human", "next_page_token": "p2", "changed": false,
                "messages": [{"message_id":"m1","direction":"inbound","body":"hi",
                              "created_at":"2026-05-15T14:32:01Z"}],
                "mode_history": [{"from_mode":"ai","to_mode":"human","actor_user_id":"usr_1",
                                  "timestamp":"2026-05-15T14:33:00Z"},
                                 {"from_mode":null,"to_mode":"ai","timestamp":"2026-05-15"}],"#,
            1,
        );
        let c: Conversation = serde_json::from_str(&thread).expect("a whole thread parses");
        assert_eq!(
            c.summary,
            serde_json::from_str(ITEM).expect("the list item parses")
        );
        assert_eq!(c.ai_mode, AiMode::Human);
        assert_eq!(c.messages.len(), 1);
        assert_eq!(c.next_page_token.as_deref(), Some("p2"));
        // An audit row it cannot read is left out, not the thread.
        assert_eq!(c.mode_history.len(), 1);
        assert_eq!(c.mode_history[0].to_mode, AiMode::Human);
        assert_eq!(c.changed, Some(false));
        // The list item's own fields are what it cannot do without.
        let without_time = ITEM.replace(r#""created_at": "2026-05-15T10:15:00Z","#, "");
        assert!(serde_json::from_str::<ConversationSummary>(&without_time).is_err());
        assert!(serde_json::from_str::<Conversation>(&without_time).is_err());
        // A thread's lists given as null are empty, in a list item and in a whole thread.
        let nulls = ITEM.replacen('{', r#"{ "messages": null, "mode_history": null,"#, 1);
        assert_eq!(
            serde_json::from_str::<ConversationSummary>(&nulls).expect("a list item with nulls"),
            c.summary
        );
        let empty: Conversation = serde_json::from_str(&nulls).expect("a thread with nulls");
        assert!(empty.messages.is_empty() && empty.mode_history.is_empty());
    }

    /// A PATCH's answer of the mode and `changed` alone (API.md's "the conversation plus
    /// changed" is a choice) is read, without a conversation; a whole one with it.
    #[test]
    fn a_mode_answer_without_the_conversation_is_read() {
        let bare: ModeAnswer = serde_json::from_str(
            r#"{"conversation_id":"conv_x","ai_mode":"human","changed":true}"#,
        )
        .expect("a bare answer parses");
        assert_eq!(
            (bare.ai_mode, bare.changed, bare.summary),
            (AiMode::Human, Some(true), None)
        );
        let nothing: ModeAnswer = serde_json::from_str("{}").expect("an empty answer parses");
        assert_eq!((nothing.ai_mode, nothing.changed), (AiMode::Unknown, None));
        let whole = ITEM.replacen('{', r#"{ "ai_mode": "ai", "changed": false,"#, 1);
        let whole: ModeAnswer = serde_json::from_str(&whole).expect("a whole answer parses");
        assert_eq!((whole.ai_mode, whole.changed), (AiMode::Ai, Some(false)));
        assert_eq!(
            whole.summary,
            Some(serde_json::from_str(ITEM).expect("the list item parses"))
        );
    }

    /// API.md's body is a choice: the conversation one level down, beside its messages (or a
    /// PATCH's `changed`), reads as the same conversation; its own fields win.
    #[test]
    fn a_conversation_nested_one_level_down_is_read_alike() {
        let nested = format!(
            r#"{{ "conversation": {ITEM}, "changed": true, "next_page_token": "p2",
                 "messages": [{{"message_id":"m1","direction":"inbound","body":"hi",
                               "created_at":"2026-05-15T14:32:01Z"}}] }}"#
        );
        let c: Conversation = serde_json::from_str(&nested).expect("a nested thread parses");
        assert_eq!(
            c.summary,
            serde_json::from_str(ITEM).expect("the list item parses")
        );
        assert_eq!(
            (c.messages.len(), c.next_page_token.as_deref(), c.changed),
            (1, Some("p2"), Some(true))
        );
        let inner_wins = ITEM.replacen('{', r#"{ "ai_mode": "human","#, 1);
        let both = format!(r#"{{ "conversation": {inner_wins}, "ai_mode": "ai" }}"#);
        let c: Conversation = serde_json::from_str(&both).expect("parses");
        assert_eq!(c.ai_mode, AiMode::Human);
        // Beside its id at the top (an envelope that names what it holds).
        let beside_id = format!(
            r#"{{ "conversation_id": "conv_abc123", "conversation": {ITEM}, "messages": [] }}"#
        );
        let c: Conversation = serde_json::from_str(&beside_id).expect("an id beside it");
        assert_eq!(
            c.summary,
            serde_json::from_str(ITEM).expect("the list item parses")
        );
        // Missing at both levels, it is still missing.
        let without_id = ITEM.replace(r#""conversation_id": "conv_abc123","#, "");
        let err =
            serde_json::from_str::<Conversation>(&format!(r#"{{ "conversation": {without_id} }}"#))
                .expect_err("no id anywhere");
        assert!(err.to_string().contains("conversation_id"), "{err}");
    }

    #[test]
    fn tolerates_unknown_values_and_extra_fields() {
        let json = r#"{ "conversation_id": "c1", "agent_id": "a", "channel": "telegram",
            "from_number": "+1", "to_number": "+2", "created_at": "2026-05-15T10:15:00.123Z",
            "ai_mode": "supervisor", "brand_new_field": {"x": 1} }"#;
        let c: Conversation = serde_json::from_str(json).expect("tolerant parse");
        assert_eq!(c.summary.channel, Channel::Unknown);
        assert_eq!(c.ai_mode, AiMode::Unknown);
        assert!(c.messages.is_empty());
        assert!(c.summary.window_expires_at.is_none());
    }
}
