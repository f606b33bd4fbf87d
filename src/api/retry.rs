//! When to retry. Reads retry a bounded number of times on 429 (after `Retry-After`), 5xx and
//! network failures (with backoff); writes are never resent automatically, since a POST that timed
//! out may have gone through.

use super::ApiError;

/// Attempts after the first one.
pub const MAX_RETRIES: u32 = 3;
const BASE_BACKOFF_MS: u32 = 500;
const MAX_BACKOFF_MS: u32 = 8_000;

/// How long to wait before retry number `attempt` (1-based), or `None` to give up.
pub fn delay_ms(error: &ApiError, attempt: u32, idempotent: bool) -> Option<u32> {
    if attempt > MAX_RETRIES {
        return None;
    }
    match error {
        // The server said when: honour it, for writes too, since a 429 was not processed.
        ApiError::RateLimited { retry_after_secs } => Some(retry_after_secs.saturating_mul(1000)),
        ApiError::Server { .. } | ApiError::Network(_) if idempotent => Some(backoff_ms(attempt)),
        _ => None,
    }
}

/// Exponential backoff, capped. Shared with the stream's reconnects.
pub fn backoff_ms(attempt: u32) -> u32 {
    BASE_BACKOFF_MS
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF_MS)
}

/// A reconnect delay: the capped backoff, spread by `random` in `[0, 1)` over its upper half so
/// that many consoles dropped at once don't all come back in the same instant.
pub fn jittered_ms(attempt: u32, random: f64) -> u32 {
    let base = backoff_ms(attempt) as f64;
    (base * (0.5 + 0.5 * random.clamp(0.0, 1.0))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_half_to_full_backoff() {
        assert_eq!(jittered_ms(3, 0.0), 1000);
        assert_eq!(jittered_ms(3, 0.999_999), 1999);
        assert_eq!(jittered_ms(40, 1.0), MAX_BACKOFF_MS);
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
