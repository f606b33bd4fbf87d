//! Waits with a limit, where a request's timeout signal cannot serve: an export's body, read
//! chunk by chunk for as long as it rightly takes, may still stop coming.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

/// How long a request may go unanswered before it counts as lost, and an export's body between
/// two chunks: a host that drops packets would otherwise keep "Checking…", "Sending…" or
/// "Exporting…" on screen for as long as the system waits (minutes). A lost send may have gone
/// out: it says so, with Retry (`SendState::Unconfirmed`).
pub const SILENCE_LIMIT_MS: u32 = 30_000;

/// Whichever of two futures ends first: `Ok` with `a`'s output, `Err` with `b`'s (`a` wins a
/// tie). The other is dropped, which does not cancel a fetch under it: its signal does.
pub async fn first<A: Future, B: Future>(a: A, b: B) -> Result<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| match a.as_mut().poll(cx) {
        Poll::Ready(v) => Poll::Ready(Ok(v)),
        Poll::Pending => b.as_mut().poll(cx).map(Err),
    })
    .await
}

/// `work`'s output, or `None` once `ms` have passed without it.
pub async fn within<F: Future>(ms: u32, work: F) -> Option<F::Output> {
    first(work, gloo_timers::future::TimeoutFuture::new(ms))
        .await
        .ok()
}

#[cfg(test)]
mod tests {
    use super::first;
    use std::future::{pending, ready, Future};
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
        pin!(f).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn the_first_to_end_is_the_answer() {
        assert_eq!(
            poll_once(first(ready(1), pending::<()>())),
            Poll::Ready(Ok(1))
        );
        assert_eq!(
            poll_once(first(pending::<u8>(), ready("late"))),
            Poll::Ready(Err("late"))
        );
        assert_eq!(poll_once(first(ready(1), ready(2))), Poll::Ready(Ok(1)));
        assert_eq!(
            poll_once(first(pending::<u8>(), pending::<u8>())),
            Poll::Pending
        );
    }
}
