//! Times as an operator reads them.

use chrono::{DateTime, Duration, Utc};

/// "just now", "5 min ago", "3 h ago", "2 d ago"; future times (clock skew) read as "just now".
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let age = now.signed_duration_since(at);
    if age < Duration::minutes(1) {
        "just now".to_owned()
    } else if age < Duration::hours(1) {
        format!("{} min ago", age.num_minutes())
    } else if age < Duration::days(1) {
        format!("{} h ago", age.num_hours())
    } else if age < Duration::days(30) {
        format!("{} d ago", age.num_days())
    } else {
        at.format("%Y-%m-%d").to_string()
    }
}

/// A countdown such as "23 h 5 min" or "4 min"; never negative.
pub fn countdown(remaining: Duration) -> String {
    let minutes = remaining.num_minutes().max(0);
    let (h, m) = (minutes / 60, minutes % 60);
    if h > 0 {
        format!("{h} h {m} min")
    } else if m > 0 {
        format!("{m} min")
    } else {
        "less than a minute".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 15, h, m, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn relative_times() {
        assert_eq!(relative(t(10, 0), t(10, 0)), "just now");
        assert_eq!(relative(t(10, 5), t(10, 0)), "just now");
        assert_eq!(relative(t(9, 55), t(10, 0)), "5 min ago");
        assert_eq!(relative(t(7, 0), t(10, 0)), "3 h ago");
        assert_eq!(relative(t(10, 0) - Duration::days(2), t(10, 0)), "2 d ago");
        assert_eq!(
            relative(t(10, 0) - Duration::days(40), t(10, 0)),
            "2026-04-05"
        );
    }

    #[test]
    fn countdowns() {
        assert_eq!(countdown(Duration::minutes(23 * 60 + 5)), "23 h 5 min");
        assert_eq!(countdown(Duration::minutes(4)), "4 min");
        assert_eq!(countdown(Duration::seconds(30)), "less than a minute");
        assert_eq!(countdown(Duration::minutes(-5)), "less than a minute");
    }
}
