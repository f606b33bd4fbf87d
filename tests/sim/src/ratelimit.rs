//! The workspace's per-minute request budget. All keys share one workspace, so one budget.
//!
//! A fixed one-minute window: simple, and `Retry-After` is exactly the time to the window's end.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

pub struct RateLimiter {
    limit: AtomicU32,
    window: Mutex<(Instant, u32)>,
}

impl RateLimiter {
    pub fn new(limit_per_minute: u32) -> Self {
        RateLimiter {
            limit: AtomicU32::new(limit_per_minute),
            window: Mutex::new((Instant::now(), 0)),
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Changing the limit also starts a fresh window, so a test's budget is predictable.
    pub fn set_limit(&self, limit_per_minute: u32) {
        self.limit.store(limit_per_minute, Ordering::Relaxed);
        *self.window.lock().unwrap_or_else(|e| e.into_inner()) = (Instant::now(), 0);
    }

    /// Counts one request; `Err(seconds)` when over budget, with the wait until the window ends.
    pub fn check(&self, now: Instant) -> Result<(), u64> {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if now.duration_since(window.0) >= WINDOW {
            *window = (now, 0);
        }
        if window.1 >= self.limit() {
            let left = WINDOW.saturating_sub(now.duration_since(window.0));
            return Err(left.as_secs_f64().ceil().max(1.0) as u64);
        }
        window.1 += 1;
        Ok(())
    }
}

pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match state.rate.check(Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(retry_after) => ApiError::rate_limited(retry_after).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_then_retry_after_then_new_window() {
        let limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(t0).is_ok());
        }
        assert_eq!(limiter.check(t0), Err(60));
        assert_eq!(limiter.check(t0 + Duration::from_millis(59_500)), Err(1));
        assert!(limiter.check(t0 + Duration::from_secs(61)).is_ok());
    }
}
