//! Simulated time. Everything that depends on "now" (windows, timestamps, the window.closing
//! tick) reads this clock, so `POST /sim/clock` can move time forward without waiting.

use chrono::{DateTime, SecondsFormat, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, in simulated time. Millisecond precision keeps
/// timestamps exact through a JSON round trip (page tokens carry them as strings).
pub type Millis = i64;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

#[derive(Debug, Default)]
pub struct SimClock {
    offset_ms: AtomicI64,
}

impl SimClock {
    pub fn now(&self) -> Millis {
        Utc::now().timestamp_millis() + self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn advance(&self, by: Millis) {
        self.offset_ms.fetch_add(by, Ordering::Relaxed);
    }

    pub fn offset(&self) -> Millis {
        self.offset_ms.load(Ordering::Relaxed)
    }
}

/// ISO 8601 UTC with a `Z`, milliseconds only when they are not zero
/// (`2026-05-15T14:32:01Z`, `2026-05-15T14:32:01.250Z`).
pub fn format_ts(ms: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub fn parse_ts(s: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc).timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_at_millisecond_precision() {
        for ms in [0, 1_747_319_521_000, 1_747_319_521_250, 1_747_319_521_001] {
            assert_eq!(parse_ts(&format_ts(ms)), Some(ms));
        }
        assert_eq!(format_ts(1_747_319_521_000), "2025-05-15T14:32:01Z");
        assert_eq!(format_ts(1_747_319_521_250), "2025-05-15T14:32:01.250Z");
    }

    #[test]
    fn advancing_moves_now_forward() {
        let clock = SimClock::default();
        let before = clock.now();
        clock.advance(HOUR);
        assert!(clock.now() - before >= HOUR);
        assert_eq!(clock.offset(), HOUR);
    }
}
