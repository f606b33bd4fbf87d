//! The WhatsApp 24-hour window for free-form replies.

use super::conversation::Channel;
use chrono::{DateTime, Duration, Utc};

/// The server warns (`window.closing`) an hour ahead; the console uses the same threshold.
pub const CLOSING_SOON: Duration = Duration::minutes(60);

/// How long a customer's message keeps the window open: `window_expires_at` is the last inbound
/// message's time plus this (API.md, "Messages").
pub const LENGTH: Duration = Duration::hours(24);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    /// SMS has no window.
    NotApplicable,
    Open {
        remaining: Duration,
    },
    ClosingSoon {
        remaining: Duration,
    },
    /// Expired, or WhatsApp without any inbound message yet: only templates can be sent.
    Expired,
}

impl WindowState {
    pub fn of(channel: Channel, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        if channel != Channel::Whatsapp {
            return WindowState::NotApplicable;
        }
        let Some(expires_at) = expires_at else {
            return WindowState::Expired;
        };
        let remaining = expires_at.signed_duration_since(now);
        if remaining <= Duration::zero() {
            WindowState::Expired
        } else if remaining <= CLOSING_SOON {
            WindowState::ClosingSoon { remaining }
        } else {
            WindowState::Open { remaining }
        }
    }

    /// As the server's `window.closing` has it (`warned`): in its last hour, whatever this
    /// device's clock says (one running behind showed it open for that much longer).
    pub fn warned(self, warned: bool) -> Self {
        match self {
            WindowState::Open { remaining } if warned => WindowState::ClosingSoon { remaining },
            s => s,
        }
    }

    /// Whether a free-form message may be sent now.
    pub fn allows_free_form(self) -> bool {
        !matches!(self, WindowState::Expired)
    }

    /// A short machine-readable name, used as a CSS hook and in tests.
    pub fn key(self) -> &'static str {
        match self {
            WindowState::NotApplicable => "none",
            WindowState::Open { .. } => "open",
            WindowState::ClosingSoon { .. } => "closing",
            WindowState::Expired => "expired",
        }
    }

    pub fn describe(self) -> String {
        match self {
            WindowState::NotApplicable => String::new(),
            WindowState::Open { remaining } | WindowState::ClosingSoon { remaining } => {
                format!("Window closes in {}", super::time::countdown(remaining))
            }
            WindowState::Expired => "Window expired".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 15, 12, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn the_servers_warning_puts_an_open_window_in_its_last_hour() {
        let open = WindowState::of(Channel::Whatsapp, Some(now() + Duration::hours(2)), now());
        assert_eq!(open.warned(false), open);
        assert_eq!(
            open.warned(true),
            WindowState::ClosingSoon {
                remaining: Duration::hours(2)
            }
        );
        // Not a window shut, nor SMS.
        let expired = WindowState::of(Channel::Whatsapp, Some(now()), now());
        assert_eq!(expired.warned(true), WindowState::Expired);
        let sms = WindowState::of(Channel::Sms, None, now());
        assert_eq!(sms.warned(true), WindowState::NotApplicable);
    }

    #[test]
    fn sms_has_no_window() {
        assert_eq!(
            WindowState::of(Channel::Sms, Some(now()), now()),
            WindowState::NotApplicable
        );
    }

    #[test]
    fn whatsapp_window_states() {
        let open = WindowState::of(Channel::Whatsapp, Some(now() + Duration::hours(5)), now());
        assert_eq!(open.key(), "open");
        assert!(open.allows_free_form());
        assert_eq!(open.describe(), "Window closes in 5 h 0 min");

        let closing = WindowState::of(
            Channel::Whatsapp,
            Some(now() + Duration::minutes(59)),
            now(),
        );
        assert_eq!(closing.key(), "closing");
        // The hour is the edge: `window.closing` comes 60 minutes before the end (API.md).
        let at = |mins| {
            WindowState::of(
                Channel::Whatsapp,
                Some(now() + Duration::minutes(mins)),
                now(),
            )
            .key()
        };
        assert_eq!((at(60), at(61)), ("closing", "open"));

        let expired = WindowState::of(Channel::Whatsapp, Some(now()), now());
        assert_eq!(expired, WindowState::Expired);
        assert!(!expired.allows_free_form());

        assert_eq!(
            WindowState::of(Channel::Whatsapp, None, now()),
            WindowState::Expired
        );
    }
}
