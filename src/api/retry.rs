//! When to retry. Reads retry a bounded number of times on 429 (after `Retry-After`), 5xx and
//! network failures (with backoff); writes are never resent automatically, since a POST that timed
//! out may have gone through.

use super::ApiError;

/// Attempts after the first one.
pub const MAX_RETRIES: u32 = 3;
const BASE_BACKOFF_MS: u32 = 500;
const MAX_BACKOFF_MS: u32 = 8_000;
/// The longest `Retry-After` waited out by itself. A longer one is the operator's to wait
/// (the screen says how long, with its own way to try again), rather than a send showing
/// "Sending…", or a handoff busy, for as long as the server asks.
const MAX_AUTO_WAIT_SECS: u32 = 60;
/// The longest a rate limit is waited out before asking again, whatever `Retry-After` says (a
/// gateway's can be any number, and a timer takes no more than 24 days): the stream's
/// reconnect, the inbox's poll, and what the screen says.
pub const LONGEST_WAIT_SECS: u32 = 3_600;

/// How often a wait asks whether what it waits for is still wanted.
const WANTED_CHECK_MS: f64 = 250.0;

/// Waits until `until_ms`, asking every moment whether to go on: `false` as soon as `wanted`
/// says no (a cancelled export, a reply to a conversation handed back meanwhile, a session
/// ended), `true` at the end, or sooner once `sooner` says so. By the clock, not by the steps:
/// a hidden tab's timers fire late, a second apart.
pub async fn wait_while(
    until_ms: f64,
    wanted: &dyn Fn() -> bool,
    sooner: &dyn Fn() -> bool,
) -> bool {
    loop {
        if !wanted() {
            return false;
        }
        let left = until_ms - js_sys::Date::now();
        if left <= 0.0 || sooner() {
            return true;
        }
        gloo_timers::future::TimeoutFuture::new(left.min(WANTED_CHECK_MS).ceil() as u32).await;
    }
}

/// The end of the wait a 429 asked for (its `Retry-After`, up to [`LONGEST_WAIT_SECS`]), for a
/// request no one else waits out: the inbox's poll, and the operator's Try again of a list, a
/// thread or an export whose wait was longer than the client's own ([`MAX_AUTO_WAIT_SECS`]).
/// Pressed before then, Try again would only be refused again: it says how long is left.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateWait {
    until_ms: f64,
}

impl RateWait {
    /// How a request ended (`None`: answered): a 429 starts the wait from `now_ms`; any other
    /// end ends it.
    pub fn heard(&mut self, error: Option<&ApiError>, now_ms: f64) {
        self.until_ms = match error {
            Some(ApiError::RateLimited { retry_after_secs }) => {
                now_ms + f64::from((*retry_after_secs).min(LONGEST_WAIT_SECS)) * 1000.0
            }
            _ => 0.0,
        };
    }

    /// When the wait ends (ms since the epoch; 0 for none).
    pub fn until_ms(&self) -> f64 {
        self.until_ms
    }

    /// What a Try again pressed at `now_ms` is told instead of asking, while the wait lasts.
    pub fn refusal(&self, now_ms: f64) -> Option<String> {
        let left = self.until_ms - now_ms;
        (left > 0.0).then(|| {
            format!(
                "Too many requests right now: wait {} s more, then try again.",
                (left / 1000.0).ceil() as u32
            )
        })
    }
}

/// When an embedded console's key check, failed for a reason of its own (the network, a 5xx,
/// a rate limit; not the key's), is tried again by itself: the host hands a key over once. As
/// the stream's reconnects, with growing, jittered waits that slow down after a while; after a
/// 429, at its `Retry-After` (up to [`LONGEST_WAIT_SECS`]); refused for the workspace's
/// billing, after [`BILLING_RECHECK_SECS`], as the stream is (settled while the tool stays open,
/// the frame stayed signed out until the host handed the key over again). `None`: not at all
/// (the key refused, or another refusal that asking again would only repeat).
pub fn recheck_ms(error: &ApiError, rechecks: u32, random: f64) -> Option<u32> {
    // (2 to 4 s, then up to 8 s, then 15 to 30 s: after the check's own retries, for what the
    // client retries; a gateway's 425, which it does not, gets the same waits.)
    let backoff = || Some(jittered_ms(rechecks + 4, rechecks, random));
    match error {
        ApiError::RateLimited { retry_after_secs } => {
            Some((*retry_after_secs).clamp(1, LONGEST_WAIT_SECS) * 1000)
        }
        ApiError::Network(_) | ApiError::Server { .. } | ApiError::TimedOut => backoff(),
        ApiError::Rejected { status, .. } => match StreamRefusal::of_status(*status) {
            StreamRefusal::Billing => Some(BILLING_RECHECK_SECS * 1000),
            // (A gateway's "too early"; its timeout, a 408, is read as one of the console's.)
            StreamRefusal::Transient => backoff(),
            _ => None,
        },
        _ => None,
    }
}

/// How long to wait before retry number `attempt` (1-based), or `None` to give up.
pub fn delay_ms(error: &ApiError, attempt: u32, idempotent: bool) -> Option<u32> {
    if attempt > MAX_RETRIES {
        return None;
    }
    match error {
        // The server said when: honour it, for writes too, since a 429 was not processed.
        ApiError::RateLimited { retry_after_secs } if *retry_after_secs <= MAX_AUTO_WAIT_SECS => {
            Some(retry_after_secs * 1000)
        }
        ApiError::Server { .. } | ApiError::Network(_) | ApiError::TimedOut if idempotent => {
            Some(backoff_ms(attempt))
        }
        _ => None,
    }
}

/// Exponential backoff, capped. Shared with the stream's reconnects.
pub fn backoff_ms(attempt: u32) -> u32 {
    BASE_BACKOFF_MS
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF_MS)
}

/// Tries in a row that brought nothing (never opened, or ended within [`BRIEFLY_OPEN_MS`]
/// without a frame: 20 to 40 s of them when they fail at once, with the jitter), after which
/// the stream is asked for less often: one that a gateway keeps refusing would otherwise cost
/// each open thread some ten requests a minute for as long as it stays open, from the
/// workspace's rate limit. The thread is refreshed meanwhile. (Not a stream that opens and is
/// ended later, by a gateway's longest response time, say, or that brought a frame: it brings
/// news while open.)
const STREAM_SLOWS_AFTER: u32 = 8;
/// A stream open for less than this, and ended, counts as one that never opened: a server or
/// gateway that accepts each stream and ends it at once brings nothing either.
const BRIEFLY_OPEN_MS: f64 = 5_000.0;

/// The tries in a row that brought nothing (for [`jittered_ms`]), after one that was open for
/// `open_for_ms` (`None`: it never opened) and `brought` an event it could read (of use,
/// however briefly it was open).
pub fn next_unopened(unopened: u32, open_for_ms: Option<f64>, brought: bool) -> u32 {
    if brought || open_for_ms.is_some_and(|ms| ms >= BRIEFLY_OPEN_MS) {
        0
    } else {
        unopened.saturating_add(1)
    }
}
const STREAM_SLOW_BACKOFF_MS: u32 = 30_000;

/// A reconnect delay: the capped backoff for reconnect number `attempt` (slower after
/// [`STREAM_SLOWS_AFTER`] tries in a row, `unopened`, that brought nothing), spread by `random` in
/// `[0, 1)` over its upper half so that many consoles dropped at once don't all come back in
/// the same instant.
pub fn jittered_ms(attempt: u32, unopened: u32, random: f64) -> u32 {
    let base = if unopened > STREAM_SLOWS_AFTER {
        STREAM_SLOW_BACKOFF_MS
    } else {
        backoff_ms(attempt)
    } as f64;
    (base * (0.5 + 0.5 * random.clamp(0.0, 1.0))) as u32
}

/// How long a stream must have stayed open for its end to count as a first failure again.
const STABLE_STREAM_MS: f64 = 30_000.0;

/// The reconnect attempt after a stream ended, having been open `open_for_ms` (`None`: it never
/// opened). Only a stream that stayed up a while starts the backoff over: one that a server or
/// proxy accepts and at once ends would otherwise be asked for again every few hundred ms, each
/// time with a refetch of the conversation, against the workspace's shared rate limit.
pub fn next_attempt(attempt: u32, open_for_ms: Option<f64>) -> u32 {
    if open_for_ms.is_some_and(|ms| ms >= STABLE_STREAM_MS) {
        1
    } else {
        attempt.saturating_add(1)
    }
}

/// What "retrying in N s" says while requests wait (`waits`: when each wait ends): the whole
/// seconds, rounded up, until the soonest wait still ahead ends; 0 once none is (its retry is
/// on its way). The soonest, as a later one's seconds would be a retry too late to be true.
pub fn seconds_left(waits: &[f64], now_ms: f64) -> u32 {
    waits
        .iter()
        .map(|until| until - now_ms)
        .filter(|left| *left > 0.0)
        .min_by(f64::total_cmp)
        .map_or(0, |left| (left / 1000.0).ceil() as u32)
}

/// Why a stream was refused, from its answer's status or its terminal frame's `error_code`,
/// as what the console does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamRefusal {
    /// The key: the session ends.
    Unauthenticated,
    /// No retry would change it: an unknown conversation, another workspace's, a request the
    /// API calls bad. Asked again every few seconds, it would only spend the rate limit.
    Final,
    /// The workspace's billing (quota, balance, a block): asked again after a long while
    /// ([`BILLING_RECHECK_SECS`]), as it may be settled while the console stays open.
    Billing,
    /// The workspace's rate limit: not before its `Retry-After`.
    RateLimited,
    /// The connection, a server error, a server going away or a client lagging behind: the
    /// backoff.
    Transient,
}

/// How long a stream refused for the workspace's billing waits before it asks again.
pub const BILLING_RECHECK_SECS: u32 = 300;

impl StreamRefusal {
    /// Of an HTTP status (0: an answer the browser hides).
    pub fn of_status(status: u16) -> Self {
        match status {
            401 => StreamRefusal::Unauthenticated,
            402 => StreamRefusal::Billing,
            429 => StreamRefusal::RateLimited,
            // A timeout, or "too early": another try may well be answered.
            408 | 425 => StreamRefusal::Transient,
            400..=499 => StreamRefusal::Final,
            _ => StreamRefusal::Transient,
        }
    }

    /// Of a terminal `event: error` frame's `error_code` (API.md's table).
    pub fn of_code(code: &str) -> Self {
        match code {
            "UNAUTHENTICATED" => StreamRefusal::Unauthenticated,
            "QUOTA_EXCEEDED" | "INSUFFICIENT_BALANCE" | "WORKSPACE_BLOCKED" => {
                StreamRefusal::Billing
            }
            "RATE_LIMITED" => StreamRefusal::RateLimited,
            // (Each code of API.md's table a status of 4xx stands for: a conversation closed
            // elsewhere may end its stream so, which asking again would only have said again.)
            "NOT_FOUND"
            | "PERMISSION_DENIED"
            | "INVALID_ARGUMENT"
            | "ALREADY_EXISTS"
            | "RECIPIENT_OPTED_OUT"
            | "WINDOW_CLOSED"
            | "CONVERSATION_CLOSED" => StreamRefusal::Final,
            _ => StreamRefusal::Transient,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_check_that_failed_for_itself_is_tried_again_more_and_more_slowly() {
        let server = ApiError::Server { status: 503 };
        let waits: Vec<_> = (0..12).map(|n| recheck_ms(&server, n, 0.5)).collect();
        assert_eq!(waits[0], Some(3_000));
        assert_eq!(waits[1], Some(6_000));
        assert_eq!(waits[8], Some(6_000));
        assert_eq!(waits[11], Some(22_500), "slower after a while");
        assert_eq!(recheck_ms(&ApiError::TimedOut, 0, 0.0), Some(2_000));
        let limited = |secs| ApiError::RateLimited {
            retry_after_secs: secs,
        };
        assert_eq!(recheck_ms(&limited(90), 3, 0.5), Some(90_000));
        assert_eq!(
            recheck_ms(&limited(0), 0, 0.5),
            Some(1_000),
            "never at once"
        );
        assert_eq!(
            recheck_ms(&limited(u32::MAX), 0, 0.5),
            Some(LONGEST_WAIT_SECS * 1000)
        );
        // Not the key refused, nor a refusal asking again would only repeat.
        assert_eq!(
            recheck_ms(&ApiError::Unauthenticated(String::new()), 0, 0.5),
            None
        );
        assert_eq!(recheck_ms(&ApiError::NotFound(String::new()), 0, 0.5), None);
        let rejected = |status, code: &str| ApiError::Rejected {
            status,
            code: code.to_owned(),
            message: String::new(),
        };
        assert_eq!(
            recheck_ms(&rejected(403, "PERMISSION_DENIED"), 0, 0.5),
            None
        );
        // The workspace's billing, settled meanwhile, as the stream asks again; a gateway's
        // "too early" as a server's error.
        assert_eq!(
            recheck_ms(&rejected(402, "QUOTA_EXCEEDED"), 0, 0.5),
            Some(BILLING_RECHECK_SECS * 1000)
        );
        assert_eq!(recheck_ms(&rejected(425, "HTTP_425"), 0, 0.5), Some(3_000));
    }

    #[test]
    fn a_rate_limits_wait_is_told_until_its_end_and_ended_by_any_other_answer() {
        let mut wait = RateWait::default();
        assert_eq!(wait.refusal(0.0), None);
        let limited = |secs| ApiError::RateLimited {
            retry_after_secs: secs,
        };
        wait.heard(Some(&limited(120)), 1_000.0);
        assert_eq!(wait.until_ms(), 121_000.0);
        let said = wait.refusal(2_500.0).expect("still waiting");
        assert!(said.contains("wait 119 s more"), "{said}");
        assert_eq!(wait.refusal(121_000.0), None, "over at its end");
        // A gateway's days-long `Retry-After` is waited out for an hour at most.
        wait.heard(Some(&limited(u32::MAX)), 0.0);
        assert_eq!(wait.until_ms(), f64::from(LONGEST_WAIT_SECS) * 1000.0);
        // Another failure, or an answer, ends it: the limit was lifted.
        wait.heard(Some(&ApiError::TimedOut), 1.0);
        assert_eq!(wait.refusal(1.0), None);
        wait.heard(Some(&limited(30)), 0.0);
        wait.heard(None, 1.0);
        assert_eq!(wait.refusal(1.0), None);
    }

    #[test]
    fn a_long_retry_after_is_left_to_the_operator() {
        let limited = |secs| ApiError::RateLimited {
            retry_after_secs: secs,
        };
        assert_eq!(delay_ms(&limited(7), 1, false), Some(7_000));
        assert_eq!(delay_ms(&limited(60), 3, true), Some(60_000));
        assert_eq!(delay_ms(&limited(61), 1, true), None);
        assert_eq!(delay_ms(&limited(u32::MAX), 1, true), None);
    }

    #[test]
    fn the_notice_counts_down_to_the_soonest_retry_still_ahead() {
        assert_eq!(seconds_left(&[], 0.0), 0);
        // A long wait and a short one since: the short one's seconds, then the long one's.
        let waits = [40_000.0, 9_500.0];
        assert_eq!(seconds_left(&waits, 5_000.0), 5);
        assert_eq!(seconds_left(&waits, 9_400.0), 1);
        assert_eq!(seconds_left(&waits, 9_600.0), 31);
        // Both ends passed, their retries not yet out of the list: no negative seconds.
        assert_eq!(seconds_left(&waits, 41_000.0), 0);
    }

    #[test]
    fn a_stream_refusal_is_retried_only_where_a_retry_may_help() {
        use StreamRefusal::*;
        let by_status = [
            (401, Unauthenticated),
            (402, Billing),
            (400, Final),
            (403, Final),
            (404, Final),
            (409, Final),
            (422, Final),
            (408, Transient),
            (429, RateLimited),
            (500, Transient),
            (503, Transient),
            (0, Transient),
        ];
        for (status, next) in by_status {
            assert_eq!(StreamRefusal::of_status(status), next, "{status}");
        }
        let by_code = [
            ("UNAUTHENTICATED", Unauthenticated),
            ("WORKSPACE_BLOCKED", Billing),
            ("INSUFFICIENT_BALANCE", Billing),
            ("NOT_FOUND", Final),
            ("CONVERSATION_CLOSED", Final),
            ("RATE_LIMITED", RateLimited),
            ("STREAM_LAGGED", Transient),
            ("UNAVAILABLE", Transient),
            ("SOMETHING_NEW", Transient),
        ];
        for (code, next) in by_code {
            assert_eq!(StreamRefusal::of_code(code), next, "{code}");
        }
    }

    #[test]
    fn only_a_stream_that_stayed_up_starts_the_backoff_over() {
        assert_eq!(next_attempt(0, None), 1);
        assert_eq!(next_attempt(3, None), 4, "refused again");
        assert_eq!(next_attempt(3, Some(200.0)), 4, "opened, and ended at once");
        assert_eq!(next_attempt(5, Some(60_000.0)), 1, "up for a minute");
        assert_eq!(backoff_ms(next_attempt(9, Some(10.0))), MAX_BACKOFF_MS);
    }

    #[test]
    fn jitter_stays_within_half_to_full_backoff() {
        assert_eq!(jittered_ms(3, 3, 0.0), 1000);
        assert_eq!(jittered_ms(3, 3, 0.999_999), 1999);
        let slows = STREAM_SLOWS_AFTER;
        assert_eq!(jittered_ms(slows, slows, 1.0), MAX_BACKOFF_MS);
        // Never opening for longer: asked for less often.
        assert_eq!(jittered_ms(slows + 1, slows + 1, 0.0), 15_000);
        assert_eq!(jittered_ms(40, 40, 1.0), STREAM_SLOW_BACKOFF_MS);
        // Opening each time, and ended early (by a gateway's longest response, say): not.
        assert_eq!(jittered_ms(40, 0, 1.0), MAX_BACKOFF_MS);
        assert_eq!(next_unopened(3, Some(20_000.0), false), 0);
        // Open briefly but bringing an event: of use, not counted.
        assert_eq!(next_unopened(3, Some(50.0), true), 0);
        // Opened and ended at once, or never opened: counted.
        assert_eq!(next_unopened(3, Some(50.0), false), 4);
        assert_eq!(next_unopened(3, None, false), 4);
        let first_eight: u32 = (1..=STREAM_SLOWS_AFTER).map(backoff_ms).sum();
        assert!((30_000..60_000).contains(&first_eight), "{first_eight}");
    }

    #[test]
    fn honours_retry_after_then_gives_up() {
        let e = ApiError::RateLimited {
            retry_after_secs: 2,
        };
        assert_eq!(delay_ms(&e, 1, false), Some(2000));
        assert_eq!(delay_ms(&e, MAX_RETRIES, true), Some(2000));
        assert_eq!(delay_ms(&e, MAX_RETRIES + 1, true), None);
    }

    #[test]
    fn never_resends_a_write_after_a_server_or_network_error() {
        assert_eq!(delay_ms(&ApiError::Server { status: 503 }, 1, false), None);
        assert_eq!(delay_ms(&ApiError::Network("x".into()), 1, false), None);
        assert_eq!(
            delay_ms(&ApiError::Server { status: 503 }, 1, true),
            Some(500)
        );
        assert_eq!(
            delay_ms(&ApiError::Network("x".into()), 2, true),
            Some(1000)
        );
        // A read that timed out is asked again; a send that did may have gone out.
        assert_eq!(delay_ms(&ApiError::TimedOut, 1, true), Some(500));
        assert_eq!(delay_ms(&ApiError::TimedOut, 1, false), None);
    }

    #[test]
    fn client_errors_are_not_retried() {
        assert_eq!(delay_ms(&ApiError::NotFound(String::new()), 1, true), None);
        assert_eq!(delay_ms(&ApiError::Malformed(String::new()), 1, true), None);
    }

    #[test]
    fn backoff_is_capped() {
        assert_eq!(backoff_ms(1), 500);
        assert_eq!(backoff_ms(4), 4000);
        assert_eq!(backoff_ms(30), MAX_BACKOFF_MS);
    }
}
