//! The product rules: inbound messages (threading, opt-out keywords, WhatsApp windows, closed
//! conversations, the hosted-AI stand-in), outbound sends (opt-out, window and closed checks,
//! status progression), mode changes (idempotency, audit rows, events) and window.closing.
//!
//! Store changes happen under the store lock; events are published after it is released.

use crate::clock::{Millis, DAY, HOUR};
use crate::conversations::conversation_view;
use crate::error::ApiError;
use crate::model::{
    message_event_payload, AiMode, Channel, Conversation, Direction, Message, MessageStatus,
    ModeChange,
};
use crate::phrases;
use crate::state::AppState;
use crate::store::Store;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// `window.closing` is published this long before a WhatsApp window expires.
pub const WINDOW_CLOSING_LEAD: Millis = HOUR;
/// An outbound body containing this always fails delivery (documented, so tests can force it).
pub const FORCE_FAILURE_MARKER: &str = "FAIL";
/// One in this many simulator-written messages (AI replies) fails delivery.
const GENERATED_FAILURE_EVERY: u64 = 20;

pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    OptIn,
}

/// Opt-out / opt-in keywords: the whole message, any case, trailing punctuation ignored.
pub fn keyword(body: &str) -> Option<Keyword> {
    let word = body
        .trim()
        .trim_end_matches(['.', '!'])
        .to_ascii_uppercase();
    match word.as_str() {
        "STOP" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" => Some(Keyword::OptOut),
        "START" | "SUBSCRIBE" => Some(Keyword::OptIn),
        _ => None,
    }
}

pub fn new_conversation(
    conversation_id: String,
    agent_id: &str,
    agent_number: &str,
    customer: &str,
    channel: Channel,
    now: Millis,
) -> Conversation {
    Conversation {
        conversation_id,
        agent_id: agent_id.to_string(),
        channel,
        customer_number: customer.to_string(),
        agent_number: agent_number.to_string(),
        window_expires_at: None,
        window_closing_sent: false,
        ai_mode: AiMode::Ai,
        created_at: now,
        updated_at: now,
        last_message_at: now,
        messages: Vec::new(),
        mode_history: Vec::new(),
    }
}

/// Where an inbound message goes.
pub enum InboundTarget {
    /// A customer writing to an agent on a channel.
    Pair {
        agent_id: String,
        channel: Channel,
        customer: String,
    },
    /// The customer of an existing conversation, on its current channel.
    Conversation(String),
}

#[derive(Debug, Clone)]
pub struct InboundOutcome {
    pub conversation_id: String,
    pub message_id: String,
    pub new_conversation: bool,
}

pub fn receive_inbound(
    state: &AppState,
    target: InboundTarget,
    body: &str,
) -> Result<InboundOutcome, ApiError> {
    // The time is read under the lock: two messages that race take their places, and the
    // window its newest inbound's, in the order of their times.
    let mut store = state.store();
    let now = state.clock.now();
    let (agent_id, channel, customer) = match target {
        InboundTarget::Pair {
            agent_id,
            channel,
            customer,
        } => {
            if !is_e164(&customer) {
                return Err(ApiError::invalid_argument(
                    "from_number must be an E.164 number",
                ));
            }
            (agent_id, channel, customer)
        }
        InboundTarget::Conversation(id) => {
            let c = store
                .conversation(&id)
                .ok_or_else(|| ApiError::not_found(format!("conversation {id} not found")))?;
            (c.agent_id.clone(), c.channel, c.customer_number.clone())
        }
    };
    let agent_number = store
        .agent(&agent_id)
        .map(|a| a.number.clone())
        .ok_or_else(|| ApiError::not_found(format!("agent {agent_id} not found")))?;

    // Closed is terminal: the next inbound of the pair starts a new conversation.
    let open = store
        .current_for(&agent_id, &customer)
        .filter(|c| c.ai_mode != AiMode::Closed)
        .map(|c| c.conversation_id.clone());
    let (conversation_id, new_conversation) = match open {
        Some(id) => (id, false),
        None => {
            // The WhatsApp window is the customer's (24 hours from their last inbound), not
            // the closed conversation's: it carries over, for an SMS that starts the new one.
            let window = store
                .current_for(&agent_id, &customer)
                .and_then(|c| c.window_expires_at);
            let id = state.ids.next("conv_");
            let mut fresh = new_conversation(
                id.clone(),
                &agent_id,
                &agent_number,
                &customer,
                channel,
                now,
            );
            fresh.window_expires_at = window;
            store.insert(fresh);
            (id, true)
        }
    };

    let keyword = keyword(body);
    match keyword {
        Some(Keyword::OptOut) => store.set_opt_out(&agent_id, &customer, true),
        Some(Keyword::OptIn) => store.set_opt_out(&agent_id, &customer, false),
        None => {}
    }
    // The message's time may be a little after the clock's (it follows the conversation's
    // newest): the window is 24 hours from the message, as API.md has it.
    let created_at = store.message_time(&conversation_id, now);
    store.update(&conversation_id, |c| {
        c.channel = channel;
        if channel == Channel::Whatsapp {
            c.window_expires_at = Some(created_at + DAY);
            c.window_closing_sent = false;
        }
    });
    let message = Message {
        message_id: state.ids.next("msg_"),
        direction: Direction::Inbound,
        channel,
        message_type: "text".into(),
        body: body.to_string(),
        status: MessageStatus::Received,
        from_number: customer.clone(),
        to_number: agent_number,
        created_at,
        error_code: None,
        media_url: None,
        media_caption: None,
    };
    let payload = message_event_payload(&message, &conversation_id);
    let message_id = message.message_id.clone();
    store.add_message(&conversation_id, message, now);
    let ai_answers = keyword.is_none()
        && !store.is_opted_out(&agent_id, &customer)
        && store
            .conversation(&conversation_id)
            .is_some_and(|c| c.ai_mode == AiMode::Ai);
    // Told before the lock goes: a change made after this one is told after it too.
    state.publish(&conversation_id, "message.received", payload);
    drop(store);
    if ai_answers {
        spawn_ai_reply(state, conversation_id.clone(), body.to_string());
    }
    Ok(InboundOutcome {
        conversation_id,
        message_id,
        new_conversation,
    })
}

/// An outbound send, validated for shape by the handler.
pub struct Outbound {
    pub agent_id: String,
    pub channel: Channel,
    pub from_number: String,
    pub to_number: String,
    pub body: String,
    pub message_type: String,
    pub media_url: Option<String>,
    pub media_caption: Option<String>,
    /// Approved templates bypass the WhatsApp window.
    pub template: bool,
}

pub fn send_outbound(state: &AppState, out: Outbound) -> Result<(String, Message), ApiError> {
    let mut store = state.store();
    let now = state.clock.now();
    // An unknown id is 404 NOT_FOUND, as in the export and everywhere else.
    if store.agent(&out.agent_id).is_none() {
        return Err(ApiError::not_found(format!(
            "unknown agent_id {:?}",
            out.agent_id
        )));
    }
    let current = store.current_for(&out.agent_id, &out.to_number);
    if current.is_some_and(|c| c.ai_mode == AiMode::Closed) {
        return Err(ApiError::unprocessable(
            "CONVERSATION_CLOSED",
            "the conversation with this number is closed; it reopens when the customer writes in",
        ));
    }
    if store.is_opted_out(&out.agent_id, &out.to_number) {
        return Err(ApiError::unprocessable(
            "RECIPIENT_OPTED_OUT",
            "the recipient opted out (STOP); they can opt back in by sending START",
        ));
    }
    if out.channel == Channel::Whatsapp
        && !out.template
        && !current.is_some_and(|c| c.window_open(now))
    {
        return Err(ApiError::unprocessable(
            "WINDOW_CLOSED",
            "the 24-hour WhatsApp window is closed; send an approved template instead",
        ));
    }
    let conversation_id = match current {
        Some(c) => c.conversation_id.clone(),
        None => {
            let id = state.ids.next("conv_");
            let agent_number = store
                .agent(&out.agent_id)
                .map(|a| a.number.clone())
                .unwrap_or_default();
            store.insert(new_conversation(
                id.clone(),
                &out.agent_id,
                &agent_number,
                &out.to_number,
                out.channel,
                now,
            ));
            id
        }
    };
    let failure = out
        .body
        .contains(FORCE_FAILURE_MARKER)
        .then_some(phrases::FAILURE_CODES[0]);
    let message = Message {
        message_id: state.ids.next("msg_"),
        direction: Direction::Outbound,
        channel: out.channel,
        message_type: out.message_type,
        body: out.body,
        status: MessageStatus::Queued,
        from_number: out.from_number,
        to_number: out.to_number,
        created_at: store.message_time(&conversation_id, now),
        error_code: None,
        media_url: out.media_url,
        media_caption: out.media_caption,
    };
    store.add_message(&conversation_id, message.clone(), now);
    drop(store);
    spawn_delivery(state, message.message_id.clone(), message.channel, failure);
    Ok((conversation_id, message))
}

/// queued → sent → delivered → read (WhatsApp), or queued → sent → failed; one step per
/// `status_step`, each stored and published.
pub fn spawn_delivery(
    state: &AppState,
    message_id: String,
    channel: Channel,
    failure: Option<&'static str>,
) {
    let mut steps = vec![MessageStatus::Sent];
    match failure {
        Some(_) => steps.push(MessageStatus::Failed),
        None => {
            steps.push(MessageStatus::Delivered);
            if channel == Channel::Whatsapp {
                steps.push(MessageStatus::Read);
            }
        }
    }
    let st = state.clone();
    state.spawn(async move {
        for status in steps {
            tokio::time::sleep(st.settings.status_step()).await;
            let error = (status == MessageStatus::Failed)
                .then_some(failure)
                .flatten();
            let mut store = st.store();
            let updated = store.set_message_status(&message_id, status, error);
            let Some((conversation_id, message)) = updated else {
                return;
            };
            st.publish(
                &conversation_id,
                status.event_type(),
                message_event_payload(&message, &conversation_id),
            );
            drop(store);
        }
    });
}

/// The hosted-AI stand-in: answers after `ai_reply_delay` if the conversation is still in
/// `ai` mode then (an operator may have taken over meanwhile).
fn spawn_ai_reply(state: &AppState, conversation_id: String, inbound: String) {
    let st = state.clone();
    state.spawn(async move {
        tokio::time::sleep(st.settings.ai_reply_delay()).await;
        let message = {
            let mut store = st.store();
            let now = st.clock.now();
            let Some(reply) = ai_reply_message(&store, &st, &conversation_id, &inbound, now) else {
                return;
            };
            store.add_message(&conversation_id, reply.clone(), now);
            reply
        };
        let n = st.generated_sends.fetch_add(1, Ordering::Relaxed) + 1;
        let failure = n
            .is_multiple_of(GENERATED_FAILURE_EVERY)
            .then_some(phrases::FAILURE_CODES[1]);
        spawn_delivery(&st, message.message_id, message.channel, failure);
    });
}

fn ai_reply_message(
    store: &Store,
    state: &AppState,
    conversation_id: &str,
    inbound: &str,
    now: Millis,
) -> Option<Message> {
    let c = store.conversation(conversation_id)?;
    let allowed = c.ai_mode == AiMode::Ai
        && !store.is_opted_out(&c.agent_id, &c.customer_number)
        && (c.channel == Channel::Sms || c.window_open(now));
    allowed.then(|| Message {
        message_id: state.ids.next("msg_"),
        direction: Direction::Outbound,
        channel: c.channel,
        message_type: "text".into(),
        body: phrases::ai_reply(inbound).to_string(),
        status: MessageStatus::Queued,
        from_number: c.agent_number.clone(),
        to_number: c.customer_number.clone(),
        created_at: store.message_time(conversation_id, now),
        error_code: None,
        media_url: None,
        media_caption: None,
    })
}

/// Applies a PATCH of `ai_mode`. `Ok(false)`: already in that mode (no event, no audit row).
pub fn set_mode(
    state: &AppState,
    conversation_id: &str,
    to: AiMode,
    actor_user_id: &str,
) -> Result<(bool, Value), ApiError> {
    let mut store = state.store();
    let now = state.clock.now();
    let from = store
        .conversation(conversation_id)
        .map(|c| c.ai_mode)
        .ok_or_else(|| ApiError::not_found(format!("conversation {conversation_id} not found")))?;
    // The answer is read under the same lock as the change, so a PATCH racing another answers
    // with the mode it set (or found), never the other's.
    if from == to {
        return Ok((false, conversation_view(&store, conversation_id)?));
    }
    if from == AiMode::Closed {
        return Err(ApiError::unprocessable(
            "CONVERSATION_CLOSED",
            "the conversation is closed; closed is terminal",
        ));
    }
    store.update(conversation_id, |c| {
        c.ai_mode = to;
        c.updated_at = now;
        c.mode_history.push(ModeChange {
            actor_user_id: actor_user_id.to_string(),
            from_mode: from,
            to_mode: to,
            timestamp: now,
        });
    });
    let view = conversation_view(&store, conversation_id)?;
    // Told before the lock goes: two operators' changes are told in the order they were made.
    state.publish(
        conversation_id,
        "conversation.mode_changed",
        json!({ "from_mode": from, "to_mode": to, "actor_user_id": actor_user_id,
                "conversation_id": conversation_id }),
    );
    drop(store);
    Ok((true, view))
}

/// Publishes `window.closing` for windows that now close within the hour.
pub fn announce_closing_windows(state: &AppState) {
    let mut store = state.store();
    let now = state.clock.now();
    // Told under the lock: a message that renews a window is not told before its closing.
    let due = store.take_closing_windows(now, WINDOW_CLOSING_LEAD);
    for (conversation_id, expires) in due {
        state.publish(
            &conversation_id,
            "window.closing",
            json!({
                "conversation_id": conversation_id,
                "window_expires_at": crate::clock::format_ts(expires),
                "minutes_remaining": (expires - now).max(0) / 60_000,
            }),
        );
    }
}

/// Checks windows every second of real time (and right after the clock moves).
pub async fn window_ticker(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        announce_closing_windows(&state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164() {
        for ok in ["+2348031234567", "+1234567", "+123456789012345"] {
            assert!(is_e164(ok), "{ok}");
        }
        for bad in [
            "2348031234567",
            "+0348031234567",
            "+123456",
            "+1234567890123456",
            "+234 803",
            "+",
            "",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn keywords() {
        for w in [
            "STOP",
            "stop",
            " Stop ",
            "unsubscribe",
            "CANCEL",
            "end",
            "Quit",
            "stop!",
        ] {
            assert_eq!(keyword(w), Some(Keyword::OptOut), "{w}");
        }
        for w in ["START", "subscribe", "Start."] {
            assert_eq!(keyword(w), Some(Keyword::OptIn), "{w}");
        }
        for w in ["please stop calling", "STOPPED", "start over", ""] {
            assert_eq!(keyword(w), None, "{w}");
        }
    }
}
