//! Replies to one conversation leave in the order the operator sent them. Each send takes its
//! turn as it is sent and waits, before its request, for the sends before it to that
//! conversation to be answered: one held back by a 429 was otherwise overtaken by the next,
//! and the customer read the second reply first. (The page outlives a view: a send still out
//! when its conversation is left keeps its turn.)

use crate::model::ConversationId;
use std::cell::RefCell;
use std::task::{Poll, Waker};

/// A send waiting or out: its conversation, its local id, and what wakes it when its turn
/// comes (woken, not polled for: a hidden tab's timers are held back up to a minute).
type Entry = (ConversationId, u64, Option<Waker>);

thread_local! {
    /// The sends waiting or out, in the order they were sent.
    static QUEUE: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// A send's place in its conversation's queue, given up when dropped (answered, or given up on
/// any path).
pub struct Turn {
    conversation: ConversationId,
    local_id: u64,
}

/// Takes the next turn for `conversation`, as a send is sent.
pub fn take(conversation: ConversationId, local_id: u64) -> Turn {
    QUEUE.with_borrow_mut(|q| q.push((conversation.clone(), local_id, None)));
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
                .find(|(c, ..)| *c == self.conversation)
                .is_none_or(|(_, id, _)| *id == self.local_id)
        })
    }

    /// Waits until the sends before it to its conversation have been answered.
    pub async fn come(&self) {
        std::future::poll_fn(|cx| {
            if self.is_first() {
                return Poll::Ready(());
            }
            QUEUE.with_borrow_mut(|q| {
                if let Some(entry) = q.iter_mut().find(|(_, id, _)| *id == self.local_id) {
                    entry.2 = Some(cx.waker().clone());
                }
            });
            Poll::Pending
        })
        .await
    }
}

impl Drop for Turn {
    /// Gives up the turn, and wakes the next send to the same conversation.
    fn drop(&mut self) {
        let next = QUEUE.with_borrow_mut(|q| {
            q.retain(|(_, id, _)| *id != self.local_id);
            q.iter_mut()
                .find(|(c, ..)| *c == self.conversation)
                .and_then(|entry| entry.2.take())
        });
        if let Some(waker) = next {
            waker.wake();
        }
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

    #[test]
    fn the_next_send_is_woken_when_the_one_before_it_is_answered() {
        use std::future::Future;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        use std::task::{Context, Wake};
        struct Flag(AtomicBool);
        impl Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let conv = ConversationId::from("conv_w");
        let (first, second) = (take(conv.clone(), 11), take(conv, 12));
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut waiting = std::pin::pin!(second.come());
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        assert!(!flag.0.load(Ordering::SeqCst));
        drop(first);
        assert!(flag.0.load(Ordering::SeqCst), "woken");
        assert!(waiting.as_mut().poll(&mut cx).is_ready());
    }
}
