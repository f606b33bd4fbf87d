//! The in-memory data: agents, conversations with their messages, opt-outs, and the indexes
//! that keep listing and paging cheap at 10,000 conversations.
//!
//! The store only keeps data consistent; the product rules (windows, opt-out keywords, closed
//! conversations, events) live in `engine`.

use crate::clock::Millis;
use crate::model::{
    Agent, AiMode, Channel, Conversation, ConversationItem, Message, MessageStatus,
};
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Default)]
pub struct Store {
    pub agents: Vec<Agent>,
    conversations: HashMap<String, Conversation>,
    /// (last_message_at, conversation_id), ascending; lists walk it backwards.
    order: BTreeSet<(Millis, String)>,
    /// (agent_id, customer number) → the pair's most recent conversation.
    current: HashMap<(String, String), String>,
    opted_out: HashSet<(String, String)>,
    /// message_id → conversation_id, for status updates.
    message_owner: HashMap<String, String>,
    /// Conversation ids in creation order, for picking one at random (traffic generator).
    pub ids_in_creation_order: Vec<String>,
    /// The Large seed's 5,000-message conversation.
    pub big_thread_id: Option<String>,
}

pub struct ListFilter<'a> {
    pub agent_id: Option<&'a str>,
    pub channel: Option<Channel>,
}

impl ListFilter<'_> {
    fn matches(&self, c: &Conversation) -> bool {
        self.agent_id.is_none_or(|a| a == c.agent_id)
            && self.channel.is_none_or(|ch| ch == c.channel)
    }
}

impl Store {
    pub fn agent(&self, agent_id: &str) -> Option<&Agent> {
        self.agents.iter().find(|a| a.agent_id == agent_id)
    }

    pub fn conversation(&self, id: &str) -> Option<&Conversation> {
        self.conversations.get(id)
    }

    /// The time a message added to `conversation_id` now takes: `now`, or a millisecond after
    /// the conversation's newest message. Times within a conversation strictly increase, so a
    /// reply made in the same millisecond as the message it answers (an AI reply without a
    /// delay) is not ordered before it by its random-looking id.
    pub fn message_time(&self, conversation_id: &str, now: Millis) -> Millis {
        self.conversation(conversation_id)
            .and_then(|c| c.messages.last())
            .map_or(now, |newest| now.max(newest.created_at + 1))
    }

    pub fn conversation_count(&self) -> usize {
        self.conversations.len()
    }

    pub fn message_count(&self) -> usize {
        self.message_owner.len()
    }

    pub fn is_opted_out(&self, agent_id: &str, customer: &str) -> bool {
        self.opted_out
            .contains(&(agent_id.to_string(), customer.to_string()))
    }

    pub fn set_opt_out(&mut self, agent_id: &str, customer: &str, opted_out: bool) {
        let key = (agent_id.to_string(), customer.to_string());
        if opted_out {
            self.opted_out.insert(key);
        } else {
            self.opted_out.remove(&key);
        }
    }

    pub fn item(&self, c: &Conversation) -> ConversationItem {
        ConversationItem::new(c, self.is_opted_out(&c.agent_id, &c.customer_number))
    }

    /// The pair's most recent conversation, closed or not.
    pub fn current_for(&self, agent_id: &str, customer: &str) -> Option<&Conversation> {
        self.current
            .get(&(agent_id.to_string(), customer.to_string()))
            .and_then(|id| self.conversations.get(id))
    }

    /// Adds a conversation (its messages must already be ordered) and makes it the pair's
    /// current one.
    pub fn insert(&mut self, c: Conversation) {
        for m in &c.messages {
            self.message_owner
                .insert(m.message_id.clone(), c.conversation_id.clone());
        }
        self.order
            .insert((c.last_message_at, c.conversation_id.clone()));
        self.current.insert(
            (c.agent_id.clone(), c.customer_number.clone()),
            c.conversation_id.clone(),
        );
        self.ids_in_creation_order.push(c.conversation_id.clone());
        self.conversations.insert(c.conversation_id.clone(), c);
    }

    /// Changes a conversation through `f`, keeping the list order index in step with
    /// `last_message_at`.
    pub fn update<R>(&mut self, id: &str, f: impl FnOnce(&mut Conversation) -> R) -> Option<R> {
        let c = self.conversations.get_mut(id)?;
        let before = c.last_message_at;
        let result = f(c);
        if c.last_message_at != before {
            self.order.remove(&(before, id.to_string()));
            self.order.insert((c.last_message_at, id.to_string()));
        }
        Some(result)
    }

    /// Appends a message in keyset order and moves the conversation's activity timestamps.
    pub fn add_message(&mut self, conversation_id: &str, m: Message, now: Millis) -> bool {
        let message_id = m.message_id.clone();
        let added = self.update(conversation_id, |c| {
            let key = (m.created_at, m.message_id.as_str());
            let at = c
                .messages
                .partition_point(|x| (x.created_at, x.message_id.as_str()) < key);
            c.last_message_at = c.last_message_at.max(m.created_at);
            c.updated_at = c.updated_at.max(now);
            c.messages.insert(at, m);
        });
        if added.is_some() {
            self.message_owner
                .insert(message_id, conversation_id.to_string());
        }
        added.is_some()
    }

    /// Sets a message's status; returns the updated message and its conversation id.
    pub fn set_message_status(
        &mut self,
        message_id: &str,
        status: MessageStatus,
        error_code: Option<&str>,
    ) -> Option<(String, Message)> {
        let conversation_id = self.message_owner.get(message_id)?.clone();
        let c = self.conversations.get_mut(&conversation_id)?;
        // Recent messages sit at the end: search from there.
        let m = c
            .messages
            .iter_mut()
            .rev()
            .find(|m| m.message_id == message_id)?;
        m.status = status;
        m.error_code = error_code.map(str::to_string);
        Some((conversation_id, m.clone()))
    }

    /// One page of the list after `after` (exclusive), most recent first. Returns the items and
    /// whether more follow.
    pub fn list(
        &self,
        filter: &ListFilter<'_>,
        after: Option<&(Millis, String)>,
        limit: usize,
    ) -> (Vec<ConversationItem>, bool) {
        let mut out = Vec::with_capacity(limit.min(self.conversations.len()));
        let mut more = false;
        let range: Box<dyn DoubleEndedIterator<Item = &(Millis, String)>> = match after {
            Some(key) => Box::new(self.order.range(..key.clone())),
            None => Box::new(self.order.iter()),
        };
        for (_, id) in range.rev() {
            let Some(c) = self.conversations.get(id) else {
                continue;
            };
            if !filter.matches(c) {
                continue;
            }
            if out.len() == limit {
                more = true;
                break;
            }
            out.push(self.item(c));
        }
        (out, more)
    }

    /// Conversations whose WhatsApp window closes within `lead` and was not announced yet;
    /// marks them announced.
    pub fn take_closing_windows(&mut self, now: Millis, lead: Millis) -> Vec<(String, Millis)> {
        let mut due = Vec::new();
        for c in self.conversations.values_mut() {
            let Some(expires) = c.window_expires_at else {
                continue;
            };
            if c.window_closing_sent
                || c.ai_mode == AiMode::Closed
                || c.channel != Channel::Whatsapp
            {
                continue;
            }
            if expires > now && expires - lead <= now {
                c.window_closing_sent = true;
                due.push((c.conversation_id.clone(), expires));
            }
        }
        due
    }
}

/// The messages of `c` before `before` (exclusive), newest first; and whether more follow.
pub fn message_page<'a>(
    c: &'a Conversation,
    before: Option<&(Millis, String)>,
    limit: usize,
) -> (Vec<&'a Message>, bool) {
    let end = match before {
        Some((at, id)) => c
            .messages
            .partition_point(|m| (m.created_at, m.message_id.as_str()) < (*at, id.as_str())),
        None => c.messages.len(),
    };
    let start = end.saturating_sub(limit);
    let page = c.messages[start..end].iter().rev().collect();
    (page, start > 0)
}
