//! The one error type of the client, mapped once to what the operator reads.

use chrono::Datelike;
use serde::Deserialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 401: the key is missing, wrong, revoked or expired.
    Unauthenticated(String),
    /// 404 on the resource asked for.
    NotFound(String),
    /// 429: wait this many seconds before retrying.
    RateLimited { retry_after_secs: u32 },
    /// Any other 4xx the server explained with an `error_code`.
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// 5xx.
    Server { status: u16 },
    /// The request never got an answer (offline, DNS, CORS, connection reset).
    Network(String),
    /// No answer within the request's limit (`deadline::SILENCE_LIMIT_MS`; an export's first
    /// byte, twice that), or a gateway's 408 saying so of its own: the server may be slow rather
    /// than out of reach, and may have carried the request out.
    TimedOut,
    /// An answer that is not the JSON the contract describes.
    Malformed(String),
}

/// The error body of the contract. Every field is optional here so a bare 500 page still maps.
#[derive(Deserialize, Default)]
pub(crate) struct ErrorBody {
    #[serde(default, deserialize_with = "crate::model::readable::code")]
    pub error_code: Option<String>,
    #[serde(default, deserialize_with = "crate::model::readable::text")]
    pub message: Option<String>,
}

/// What begins the code of a refusal that came without one: the status's digits follow.
const STATUS_CODE_PREFIX: &str = "HTTP_";

/// Fallback wait when a 429 comes without a usable `Retry-After`.
const DEFAULT_RETRY_AFTER_SECS: u32 = 5;

/// A `Retry-After` value in seconds from `now`: API.md's delay in seconds, or the HTTP date
/// that HTTP allows in its place (a proxy's or a gateway's 429), rounded up to a whole second.
/// At least one (`0`, or a date passed already, is no reason to ask again at once), and a delay
/// too long to count is the longest there is, not the 5 s a value not read gets.
fn retry_after_secs(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<u32> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let secs = value
            .parse::<u64>()
            .map_or(u32::MAX, |s| u32::try_from(s).unwrap_or(u32::MAX));
        return Some(secs.max(1));
    }
    // The three forms of an HTTP date, by hand: chrono's RFC 2822 parser is its generic one,
    // kilobytes of wasm for one header.
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let words: Vec<&str> = value.split_whitespace().collect();
    let (day, month, year, time, two_digit_year) = match words[..] {
        // IMF-fixdate, the one HTTP sends: `Sun, 06 Nov 1994 08:49:37 GMT`.
        [_weekday, day, month, year, time, "GMT"] => (day, month, year, time, false),
        // The two obsolete ones, which a recipient must still read: RFC 850's
        // `Sunday, 06-Nov-94 08:49:37 GMT`,
        [_weekday, date, time, "GMT"] => {
            let [day, month, yy] = date.split('-').collect::<Vec<_>>().try_into().ok()?;
            (day, month, yy, time, true)
        }
        // and C's asctime: `Sun Nov  6 08:49:37 1994`.
        [_weekday, month, day, time, year] => (day, month, year, time, false),
        _ => return None,
    };
    let number = |n: &str| {
        n.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| n.parse().ok())?
    };
    let year: i32 = match number(year)? {
        // In this century; a time that this makes more than 50 years ahead is the century
        // before's (RFC 9110, 5.6.7).
        yy if two_digit_year && year.len() == 2 => now.year() - now.year() % 100 + yy as i32,
        _ if two_digit_year => return None,
        y => i32::try_from(y).ok()?,
    };
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let date = chrono::NaiveDate::from_ymd_opt(year, month, number(day)?)?;
    let [h, m, s] = time
        .split(':')
        .map(number)
        .collect::<Option<Vec<u32>>>()?
        .try_into()
        .ok()?;
    let mut at = date
        .and_time(chrono::NaiveTime::from_hms_opt(h, m, s)?)
        .and_utc();
    if two_digit_year
        && now
            .with_year(now.year() + 50)
            .is_some_and(|limit| at > limit)
    {
        at = at.with_year(year - 100)?;
    }
    let millis = u64::try_from((at - now).num_milliseconds());
    let secs = millis.map_or(0, |ms| ms.div_ceil(1000));
    Some(u32::try_from(secs).unwrap_or(u32::MAX).max(1))
}

impl ApiError {
    /// Whether asking again could not change the answer: the conversation is gone, or is not
    /// the workspace's.
    pub fn is_for_good(&self) -> bool {
        matches!(
            self,
            ApiError::NotFound(_) | ApiError::Rejected { status: 403, .. }
        )
    }

    /// Whether the answer refuses a page token (expired, say): asking with it again would be
    /// refused again, for good. API.md's `400 INVALID_ARGUMENT` for it is a choice: a `410 Gone`,
    /// a `422` or a gateway's `404` for a token that was taken before refuse it alike. (Asked
    /// for from the start instead, a conversation that is gone says so then.)
    pub fn refuses_page_token(&self) -> bool {
        matches!(
            self,
            ApiError::NotFound(_)
                | ApiError::Rejected {
                    status: 400 | 410 | 422,
                    ..
                }
        )
    }

    /// Builds the error for a non-2xx answer from its status, `Retry-After` header and body.
    pub fn from_response(status: u16, retry_after: Option<&str>, body: &str) -> ApiError {
        let parsed: ErrorBody = serde_json::from_str(body).unwrap_or_default();
        let message = parsed.message.unwrap_or_default();
        match status {
            401 => ApiError::Unauthenticated(message),
            404 => ApiError::NotFound(message),
            // A gateway's "request timeout": no refusal of the request, but no answer to it, as
            // the console's own limit has it (a read is asked again; a send may have gone out).
            408 => ApiError::TimedOut,
            429 => ApiError::RateLimited {
                retry_after_secs: retry_after
                    .and_then(|v| retry_after_secs(v, chrono::Utc::now()))
                    .unwrap_or(DEFAULT_RETRY_AFTER_SECS),
            },
            s if s >= 500 => ApiError::Server { status: s },
            s => ApiError::Rejected {
                status: s,
                // (A code that is the status's digits, as a gateway may write it, says no more
                // than the status: read as none, so that a 409's is a duplicate's.)
                code: parsed
                    .error_code
                    .filter(|c| *c != s.to_string())
                    .unwrap_or_else(|| format!("{STATUS_CODE_PREFIX}{s}")),
                message,
            },
        }
    }

    /// A 4xx that came with no code of its own (its code made from the status): no error body of
    /// API.md's, as from a gateway, a web server or a storage bucket in front of it.
    pub fn is_unexplained_refusal(&self) -> bool {
        matches!(self, ApiError::Rejected { code, .. } if code.starts_with(STATUS_CODE_PREFIX))
    }

    /// No answer came, or one not to be read: the request may have been carried out all the
    /// same, and a send made again may go out twice. So too a `409` duplicate (API.md's
    /// `ALREADY_EXISTS`, or no code): what was sent is there already, maybe from a first try
    /// whose answer was lost. (Not a 409 that names another conflict.)
    pub fn answer_lost(&self) -> bool {
        matches!(
            self,
            ApiError::Network(_)
                | ApiError::TimedOut
                | ApiError::Malformed(_)
                | ApiError::Server { .. }
        ) || matches!(self, ApiError::Rejected { status: 409, code, .. }
                if code == "ALREADY_EXISTS" || code == "HTTP_409")
    }

    /// A request that got no answer, from what the browser said of it (`name: message`): its
    /// limit passed (a `TimeoutError`, which a request's timeout signal, or an export's limit,
    /// ends it with), or it could not reach the API at all.
    pub fn unanswered(said: String) -> ApiError {
        if said.starts_with("TimeoutError") {
            ApiError::TimedOut
        } else {
            ApiError::Network(said)
        }
    }

    /// What the operator reads.
    pub fn user_message(&self) -> String {
        match self {
            ApiError::Unauthenticated(_) => {
                "The API key was not accepted. It may be wrong, revoked or expired: enter it again."
                    .into()
            }
            // The server's words, as for any refusal it explains (a send to an agent removed
            // since: "the link is wrong" named no link).
            ApiError::NotFound(message) if !message.trim().is_empty() => {
                format!("{} (NOT_FOUND)", message.trim())
            }
            ApiError::NotFound(_) => {
                "Not found: it may have been removed, or the link is wrong.".into()
            }
            // Said once the client's own retries are spent: nothing retries after this.
            ApiError::RateLimited { retry_after_secs }
                if *retry_after_secs > super::retry::LONGEST_WAIT_SECS =>
            {
                "Too many requests right now: wait over an hour, then try again.".into()
            }
            ApiError::RateLimited { retry_after_secs } => {
                format!("Too many requests right now: wait {retry_after_secs} s, then try again.")
            }
            ApiError::Rejected { code, message, .. } => match code.as_str() {
                "RECIPIENT_OPTED_OUT" => {
                    "This number has opted out; it can't be messaged until the customer sends START."
                        .into()
                }
                "WINDOW_CLOSED" => {
                    "The WhatsApp 24-hour window has closed: send an approved template instead."
                        .into()
                }
                "CONVERSATION_CLOSED" => "This conversation is closed.".into(),
                "ALREADY_EXISTS" => "Voicebip says it has this already.".into(),
                // Unexplained (an empty message): what API.md's code stands for, and who can
                // settle it, as asking again only repeats it. (Not a status's alone, which a
                // gateway or a CDN in front of the API may have answered with.)
                "QUOTA_EXCEEDED" | "INSUFFICIENT_BALANCE" | "WORKSPACE_BLOCKED"
                    if message.is_empty() =>
                {
                    format!(
                        "Voicebip refused this for the workspace's billing (quota, balance or a \
                         block): ask the workspace's admin ({code})."
                    )
                }
                "PERMISSION_DENIED" if message.is_empty() => format!(
                    "Voicebip refused this: it belongs to another workspace, or this key may not \
                     do it ({code})."
                ),
                _ if message.is_empty() => format!("The request was refused ({code})."),
                _ => format!("{message} ({code})"),
            },
            ApiError::Server { status } => {
                format!("Voicebip had a problem answering (HTTP {status}). Try again in a moment.")
            }
            ApiError::Network(_) => {
                "Could not reach Voicebip. Check the connection and the API URL.".into()
            }
            ApiError::TimedOut => {
                "Voicebip did not answer in time. Try again in a moment; if it keeps happening, \
                 check the connection."
                    .into()
            }
            ApiError::Malformed(_) => "Voicebip sent an answer the console could not read.".into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.user_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_ended_by_its_limit_timed_out() {
        assert_eq!(
            ApiError::unanswered("TimeoutError: signal timed out".into()),
            ApiError::TimedOut
        );
        assert_eq!(
            ApiError::unanswered("TypeError: Failed to fetch".into()),
            ApiError::Network("TypeError: Failed to fetch".into())
        );
        // (A cancel is not a timeout: its caller knows it cancelled.)
        assert!(matches!(
            ApiError::unanswered("AbortError: signal is aborted without reason".into()),
            ApiError::Network(_)
        ));
        assert!(ApiError::TimedOut
            .user_message()
            .contains("did not answer in time"));
    }

    #[test]
    fn what_each_answer_means_for_asking_again() {
        // (answer lost: a send may have gone out; for good: asking again cannot help; refuses
        // the page token: the walk starts again from the newest page.)
        let cases = [
            (
                ApiError::from_response(401, None, ""),
                (false, false, false),
            ),
            (ApiError::from_response(403, None, ""), (false, true, false)),
            (ApiError::from_response(404, None, ""), (false, true, true)),
            (ApiError::from_response(400, None, ""), (false, false, true)),
            (ApiError::from_response(410, None, ""), (false, false, true)),
            (ApiError::from_response(422, None, ""), (false, false, true)),
            // A duplicate: there already, maybe from a first try whose answer was lost.
            (ApiError::from_response(409, None, ""), (true, false, false)),
            (
                ApiError::from_response(409, None, r#"{"error_code":"ALREADY_EXISTS"}"#),
                (true, false, false),
            ),
            (
                ApiError::from_response(409, None, r#"{"error_code":"CONVERSATION_CLOSED"}"#),
                (false, false, false),
            ),
            (
                ApiError::from_response(429, Some("3"), ""),
                (false, false, false),
            ),
            (ApiError::from_response(500, None, ""), (true, false, false)),
            (ApiError::from_response(502, None, ""), (true, false, false)),
            (ApiError::Network("reset".into()), (true, false, false)),
            (ApiError::TimedOut, (true, false, false)),
            (
                ApiError::Malformed("half a body".into()),
                (true, false, false),
            ),
        ];
        for (e, expected) in cases {
            let got = (e.answer_lost(), e.is_for_good(), e.refuses_page_token());
            assert_eq!(got, expected, "{e:?}");
        }
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-05T08:49:30.500Z")
            .expect("a time")
            .to_utc();
        let read = |v| retry_after_secs(v, now);
        assert_eq!(read(" 7 "), Some(7));
        assert_eq!(read("0"), Some(1));
        assert_eq!(read("99999999999"), Some(u32::MAX), "longer than any wait");
        let limited = |secs| ApiError::RateLimited {
            retry_after_secs: secs,
        };
        assert!(limited(120).user_message().contains("wait 120 s"));
        assert!(limited(u32::MAX)
            .user_message()
            .contains("wait over an hour"));
        assert_eq!(read("+7"), None);
        assert_eq!(
            read("Sat, 05 Dec 2026 08:49:37 GMT"),
            Some(7),
            "6.5 s rounded up"
        );
        assert_eq!(read("Sat, 05 Dec 2026 08:51:30 GMT"), Some(120));
        assert_eq!(
            read("Saturday, 05-Dec-26 08:51:30 GMT"),
            Some(120),
            "RFC 850"
        );
        assert_eq!(read("Sat Dec  5 08:51:30 2026"), Some(120), "asctime");
        assert_eq!(
            read("Monday, 05-Dec-77 08:51:30 GMT"),
            Some(1),
            "1977: 2077 is more than 50 years ahead"
        );
        assert_eq!(
            read("Sunday, 06-Dec-76 08:51:30 GMT"),
            Some(1),
            "1976: 2076-12-06 is more than 50 years ahead by a day"
        );
        assert_eq!(
            read("Tuesday, 05-Dec-73 08:51:30 GMT"),
            Some(1_483_228_920),
            "2073: less than 50 years ahead"
        );
        assert_eq!(
            read("Sat, 05 Dec 2026 08:00:00 GMT"),
            Some(1),
            "a date passed"
        );
        for unread in [
            "soon",
            "-3",
            "Sat, 05 Dec 2026 08:49:37",
            "Sat, 05 Dek 2026 08:49:37 GMT",
            "Sat, 32 Dec 2026 08:49:37 GMT",
            "Sat, 05 Dec 2026 25:49:37 GMT",
            "Saturday, 05-Dec-2026 08:51:30 GMT",
            "Saturday, 05-Dec 08:51:30 GMT",
            "Sat Dec 5 08:51:30",
            "Saturday, 05-Dec-+6 08:51:30 GMT",
            "Sat, +5 Dec 2026 08:49:37 GMT",
        ] {
            assert_eq!(read(unread), None, "{unread}");
        }
    }

    #[test]
    fn maps_statuses_and_bodies() {
        let body =
            r#"{"error_code":"WINDOW_CLOSED","message":"window closed","request_id":"req_1"}"#;
        assert!(matches!(
            ApiError::from_response(422, None, body),
            ApiError::Rejected { ref code, .. } if code == "WINDOW_CLOSED"
        ));
        assert_eq!(
            ApiError::from_response(429, Some(" 7 "), ""),
            ApiError::RateLimited {
                retry_after_secs: 7
            }
        );
        assert_eq!(
            ApiError::from_response(429, Some("soon"), "<html>"),
            ApiError::RateLimited {
                retry_after_secs: DEFAULT_RETRY_AFTER_SECS
            }
        );
        assert_eq!(
            ApiError::from_response(503, None, "<html>"),
            ApiError::Server { status: 503 }
        );
        assert_eq!(
            ApiError::from_response(408, None, "<html>"),
            ApiError::TimedOut
        );
        assert!(matches!(
            ApiError::from_response(401, None, "{}"),
            ApiError::Unauthenticated(_)
        ));
        assert!(matches!(
            ApiError::from_response(400, None, "not json"),
            ApiError::Rejected { ref code, .. } if code == "HTTP_400"
        ));
    }

    #[test]
    fn messages_never_leak_raw_bodies() {
        // A 404 the API explains says what is not there; one it does not, what may be why.
        let gone = r#"{"error_code":"NOT_FOUND","message":"agent agt_1 not found"}"#;
        assert_eq!(
            ApiError::from_response(404, None, gone).user_message(),
            "agent agt_1 not found (NOT_FOUND)"
        );
        assert!(ApiError::from_response(404, None, "")
            .user_message()
            .starts_with("Not found"));
        // (A page a gateway answered with, for a status whose message the console words.)
        for status in [400, 404, 409, 410, 422, 429, 500, 502] {
            let e = ApiError::from_response(status, None, "<p>secret</p>");
            assert!(!e.user_message().contains("secret"), "{status}: {e:?}");
        }
        // A refusal is the one error that shows the server's words: those of its error body
        // alone, never a page a gateway answered with.
        let page = "<html><body>Forbidden <script>secret</script></body></html>";
        assert_eq!(
            ApiError::from_response(403, None, page).user_message(),
            "The request was refused (HTTP_403)."
        );
        // Unexplained, a code of API.md's says what it stands for, and who can settle it.
        assert!(
            ApiError::from_response(402, None, r#"{"error_code":"QUOTA_EXCEEDED"}"#)
                .user_message()
                .contains("billing")
        );
        assert!(
            ApiError::from_response(403, None, r#"{"error_code":"PERMISSION_DENIED"}"#)
                .user_message()
                .contains("another workspace")
        );
        // Words of another shape than text say nothing, but leave the code read.
        let listed = r#"{"error_code":"WINDOW_CLOSED","message":["window closed"]}"#;
        assert!(matches!(
            ApiError::from_response(422, None, listed),
            ApiError::Rejected { ref code, ref message, .. }
                if code == "WINDOW_CLOSED" && message.is_empty()
        ));
        let body = r#"{"error_code":"PERMISSION_DENIED","message":"not yours"}"#;
        assert_eq!(
            ApiError::from_response(403, None, body).user_message(),
            "not yours (PERMISSION_DENIED)"
        );
        // A 409 whose code is its status's digits is a duplicate's (the send went out).
        let duplicate = ApiError::from_response(409, None, r#"{"error_code":409}"#);
        assert!(duplicate.answer_lost());
        // A gateway's code as a number: its words are still shown.
        let body = r#"{"error_code":131047,"message":"re-engagement message"}"#;
        assert_eq!(
            ApiError::from_response(422, None, body).user_message(),
            "re-engagement message (131047)"
        );
    }
}
