//! Replies to one conversation leave in the order the operator sent them. Each send takes its
//! turn as it is sent and waits, before its request, for the sends before it to that
//! conversation to be answered: one held back by a 429 was otherwise overtaken by the next,
//! and the customer read the second reply first. (The page outlives a view: a send still out
//! when its conversation is left keeps its turn.)

use crate::model::ConversationId;
use std::cell::RefCell;

thread_local! {
    /// The sends waiting or out, in the order they were sent: (conversation, local id).
    static QUEUE: RefCell<Vec<(ConversationId, u64)>> = const { RefCell::new(Vec::new()) };
}

/// A send's place in its conversation's queue, given up when dropped (answered, or given up on
/// any path).
pub struct Turn {
    conversation: ConversationId,
    local_id: u64,
}

/// Takes the next turn for `conversation`, as a send is sent.
pub fn take(conversation: ConversationId, local_id: u64) -> Turn {
    QUEUE.with_borrow_mut(|q| q.push((conversation.clone(), local_id)));
    Turn {
        conversation,
        local_id,
    }
}

impl Turn {
    /// Whether no send to the same conversation taken before this one is still waiting or out.
    fn is_first(&self) -> bool {
        QUEUE.with_borrow(|q| {
            q.iter()
                .find(|(c, _)| *c == self.conversation)
                .is_none_or(|(_, id)| *id == self.local_id)
        })
    }

    /// Waits until the sends before it to its conversation have been answered.
    pub async fn come(&self) {
        while !self.is_first() {
            gloo_timers::future::TimeoutFuture::new(50).await;
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let me = (self.conversation.clone(), self.local_id);
        QUEUE.with_borrow_mut(|q| q.retain(|t| *t != me));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_waits_for_those_before_it_to_its_conversation_only() {
        let (a, b) = (
            ConversationId::from("conv_a"),
            ConversationId::from("conv_b"),
        );
        let first = take(a.clone(), 1);
        let second = take(a.clone(), 2);
        let elsewhere = take(b, 3);
        assert!(first.is_first());
        assert!(!second.is_first(), "behind the first");
        assert!(elsewhere.is_first(), "another conversation's goes at once");
        drop(first);
        assert!(second.is_first());
        let third = take(a, 4);
        assert!(!third.is_first());
        drop(second);
        assert!(third.is_first());
    }
}
