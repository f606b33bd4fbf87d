//! Times as an operator reads them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};

// Dates are written by hand rather than with `format("%…")`: chrono's format-string machinery
// (a strftime parser and a generic formatter) costs the wasm about 10 KB for three fixed layouts.

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "2026-05-15" (ISO 8601).
pub fn iso_date(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

/// "15 May 10:05", in whatever zone `at` was taken in.
pub fn day_month_time(at: NaiveDateTime) -> String {
    format!(
        "{:02} {} {:02}:{:02}",
        at.day(),
        MONTHS[at.month0() as usize],
        at.hour(),
        at.minute()
    )
}

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
        iso_date(at.date_naive())
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
    fn fixed_layouts_match_strftime() {
        for at in [
            t(0, 0),
            t(9, 5),
            t(23, 59),
            Utc.with_ymd_and_hms(999, 12, 1, 7, 8, 0).unwrap(),
        ] {
            assert_eq!(iso_date(at.date_naive()), at.format("%Y-%m-%d").to_string());
            assert_eq!(
                day_month_time(at.naive_utc()),
                at.format("%d %b %H:%M").to_string()
            );
        }
        for month in 1..=12 {
            let at = Utc.with_ymd_and_hms(2026, month, 3, 4, 5, 6).unwrap();
            assert_eq!(
                day_month_time(at.naive_utc()),
                at.format("%d %b %H:%M").to_string()
            );
        }
    }

    #[test]
    fn countdowns() {
        assert_eq!(countdown(Duration::minutes(23 * 60 + 5)), "23 h 5 min");
        assert_eq!(countdown(Duration::minutes(4)), "4 min");
        assert_eq!(countdown(Duration::seconds(30)), "less than a minute");
        assert_eq!(countdown(Duration::minutes(-5)), "less than a minute");
    }
}
