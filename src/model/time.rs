//! Times as an operator reads them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

// Dates are written by hand rather than with `format("%…")`: chrono's format-string machinery
// (a strftime parser and a generic formatter) costs the wasm about 10 KB for three fixed layouts.

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "2026-05-15" (ISO 8601).
pub fn iso_date(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

/// "15 May 10:05", in whatever zone `at` was taken in; "15 May 2025 10:05" in another year than
/// `this_year` (a conversation runs until it is closed, which may be years: two of its
/// messages a year apart read alike).
pub fn day_month_time(at: NaiveDateTime, this_year: i32) -> String {
    let year = if at.year() == this_year {
        String::new()
    } else {
        format!(" {:04}", at.year())
    };
    format!(
        "{:02} {}{year} {:02}:{:02}",
        at.day(),
        MONTHS[at.month0() as usize],
        at.hour(),
        at.minute()
    )
}

/// "just now", "5 min ago", "3 h ago", "2 d ago"; future times (clock skew) read as "just now".
/// Older than 30 days, the date in `zone` (the operator's), not in UTC.
pub fn relative<Tz: TimeZone>(at: DateTime<Utc>, now: DateTime<Utc>, zone: &Tz) -> String {
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
        iso_date(at.with_timezone(zone).date_naive())
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

/// Serde helpers for the API's timestamps (RFC 3339). chrono's own `Deserialize` goes through its
/// generic, item-driven parser (about 8 KB of wasm); `parse_from_rfc3339` is a small hand-written one.
pub mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::de::{self, Deserializer, Visitor};
    use std::fmt;

    /// One timestamp, in any offset, as UTC. Besides RFC 3339 it takes the ISO 8601 spellings
    /// chrono's own (larger) parser took: `UTC` for `Z`, `+0000` for `+00:00`, a space before
    /// the offset.
    pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
        DateTime::parse_from_rfc3339(s)
            .or_else(|e| match loosened(s) {
                Some(t) => DateTime::parse_from_rfc3339(&t),
                None => Err(e),
            })
            .map(|t| t.with_timezone(&Utc))
    }

    /// `s` rewritten to RFC 3339's spelling of its offset, or `None` when there is nothing to
    /// rewrite.
    fn loosened(s: &str) -> Option<String> {
        let s = s.trim();
        let (stamp, offset) = match s.strip_suffix("UTC") {
            Some(stamp) => (stamp, "Z".to_owned()),
            None => {
                let at = s.rfind(['+', '-', 'Z'])?;
                let offset = &s[at..];
                let digits = offset.get(1..).unwrap_or("");
                let offset = if digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()) {
                    format!("{}{}:{}", &offset[..1], &digits[..2], &digits[2..])
                } else {
                    offset.to_owned()
                };
                (&s[..at], offset)
            }
        };
        let loosened = format!("{}{offset}", stamp.trim_end());
        (loosened != s).then_some(loosened)
    }

    struct Rfc3339;

    impl Visitor<'_> for Rfc3339 {
        type Value = DateTime<Utc>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an RFC 3339 date and time")
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            parse(s).map_err(E::custom)
        }
    }

    struct OptRfc3339;

    impl<'de> Visitor<'de> for OptRfc3339 {
        type Value = Option<DateTime<Utc>>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an RFC 3339 date and time or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }

        /// (An empty text, as some serialisers write a time not set, is none either: it made
        /// the whole conversation unreadable.)
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            match s.trim() {
                "" => Ok(None),
                s => parse(s).map(Some).map_err(E::custom),
            }
        }
    }

    /// `#[serde(deserialize_with = "crate::model::time::rfc3339::required")]`
    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        d.deserialize_str(Rfc3339)
    }

    /// For an `Option` field; pair it with `#[serde(default)]`.
    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        d.deserialize_option(OptRfc3339)
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
    fn rfc3339_fields_read_as_chrono_did() {
        #[derive(serde::Deserialize)]
        struct T {
            #[serde(deserialize_with = "rfc3339::required")]
            at: DateTime<Utc>,
            #[serde(default, deserialize_with = "rfc3339::optional")]
            maybe: Option<DateTime<Utc>>,
        }
        let read = |json: &str| serde_json::from_str::<T>(json).map(|t| (t.at, t.maybe));
        let at = t(10, 5);
        assert_eq!(
            read(r#"{"at":"2026-05-15T10:05:00Z"}"#).unwrap(),
            (at, None)
        );
        assert_eq!(
            read(r#"{"at":"2026-05-15T12:05:00+02:00","maybe":null}"#).unwrap(),
            (at, None)
        );
        let (_, maybe) =
            read(r#"{"at":"2026-05-15T10:05:00Z","maybe":"2026-05-15T10:05:00.250Z"}"#).unwrap();
        assert_eq!(maybe, Some(at + Duration::milliseconds(250)));
        assert!(read(r#"{"at":"yesterday"}"#).is_err());
        assert!(read(r#"{}"#).is_err());
        for s in [
            "2026-05-15T10:05:00+0000",
            "2026-05-15T10:05:00 UTC",
            "2026-05-15T10:05:00UTC",
            "2026-05-15T10:05:00 +00:00",
            "2026-05-15T15:35:00+0530",
        ] {
            assert_eq!(rfc3339::parse(s).ok(), Some(at), "{s}");
        }
        for s in [
            "2026-05-15",
            "2026-05-15T10:05:00",
            "10:05 UTC",
            "2026-05-15T10:05:00+05",
        ] {
            assert!(rfc3339::parse(s).is_err(), "{s}");
        }
        for s in ["2026-05-15T10:05:00Z", "2026-05-15T10:05:00.123456+05:30"] {
            assert_eq!(rfc3339::parse(s).ok(), s.parse::<DateTime<Utc>>().ok());
        }
    }

    #[test]
    fn relative_times() {
        assert_eq!(relative(t(10, 0), t(10, 0), &Utc), "just now");
        assert_eq!(relative(t(10, 5), t(10, 0), &Utc), "just now");
        assert_eq!(relative(t(9, 55), t(10, 0), &Utc), "5 min ago");
        assert_eq!(relative(t(7, 0), t(10, 0), &Utc), "3 h ago");
        assert_eq!(
            relative(t(10, 0) - Duration::days(2), t(10, 0), &Utc),
            "2 d ago"
        );
        let old = t(23, 30) - Duration::days(40);
        assert_eq!(relative(old, t(10, 0), &Utc), "2026-04-05");
        // In Lagos (UTC+1) that was already the next day.
        let lagos = chrono::FixedOffset::east_opt(3600).expect("offset");
        assert_eq!(relative(old, t(10, 0), &lagos), "2026-04-06");
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
                day_month_time(at.naive_utc(), at.year()),
                at.format("%d %b %H:%M").to_string()
            );
            assert_eq!(
                day_month_time(at.naive_utc(), at.year() + 1),
                at.format("%d %b %Y %H:%M").to_string(),
                "another year's"
            );
        }
        for month in 1..=12 {
            let at = Utc.with_ymd_and_hms(2026, month, 3, 4, 5, 6).unwrap();
            assert_eq!(
                day_month_time(at.naive_utc(), 2026),
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
