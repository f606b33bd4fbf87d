//! Why the operator cannot write to the customer right now, if they cannot: shared by the reply
//! box, which says why, and a failed send's Retry, which must not send past it.

use super::conversation::Channel;
use super::window::WindowState;
use super::AiMode;

/// Why free-form replies are not possible right now, if they aren't.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    Closed,
    OptedOut,
    WindowExpired,
    AiAnswering,
    /// The customer last wrote on a channel this console does not know (a newer API's): a
    /// reply would name none the API takes, and be refused each time.
    UnknownChannel,
}

impl Blocked {
    pub fn of(
        mode: AiMode,
        opt_out: bool,
        channel: Channel,
        window: WindowState,
    ) -> Option<Blocked> {
        if mode == AiMode::Closed {
            Some(Blocked::Closed)
        } else if opt_out {
            Some(Blocked::OptedOut)
        } else if mode == AiMode::Ai {
            // Before the window: a template is a reply too, and the AI's to send.
            Some(Blocked::AiAnswering)
        } else if channel == Channel::Unknown {
            Some(Blocked::UnknownChannel)
        } else if !window.allows_free_form() {
            Some(Blocked::WindowExpired)
        } else {
            None
        }
    }

    /// Whether an approved template cannot be sent either: templates bypass only the window.
    pub fn stops_templates(self) -> bool {
        self != Blocked::WindowExpired
    }

    pub fn explain(self) -> &'static str {
        match self {
            Blocked::Closed => "This conversation is closed. The customer's next message will start a new one.",
            Blocked::OptedOut => "This number has opted out of messages. It can't be messaged until the customer sends START.",
            Blocked::WindowExpired => "The WhatsApp 24-hour window has closed. Only an approved template can be sent.",
            Blocked::AiAnswering => "The AI is answering this conversation. Take over to reply yourself.",
            Blocked::UnknownChannel => "The customer last wrote on a channel this console does not know yet, so it cannot reply here.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn the_most_final_reason_wins() {
        let open = WindowState::Open {
            remaining: Duration::hours(3),
        };
        assert_eq!(
            Blocked::of(
                AiMode::Closed,
                true,
                Channel::Whatsapp,
                WindowState::Expired
            ),
            Some(Blocked::Closed)
        );
        assert_eq!(
            Blocked::of(AiMode::Human, true, Channel::Whatsapp, open),
            Some(Blocked::OptedOut)
        );
        assert_eq!(
            Blocked::of(
                AiMode::Human,
                false,
                Channel::Whatsapp,
                WindowState::Expired
            ),
            Some(Blocked::WindowExpired)
        );
        assert_eq!(
            Blocked::of(AiMode::Ai, false, Channel::Whatsapp, open),
            Some(Blocked::AiAnswering)
        );
        // The AI's conversation is not the operator's to send a template to either.
        let ai_after_window =
            Blocked::of(AiMode::Ai, false, Channel::Whatsapp, WindowState::Expired);
        assert_eq!(ai_after_window, Some(Blocked::AiAnswering));
        assert!(ai_after_window.is_some_and(Blocked::stops_templates));
        assert!(!Blocked::WindowExpired.stops_templates());
        assert_eq!(
            Blocked::of(
                AiMode::Human,
                false,
                Channel::Whatsapp,
                WindowState::NotApplicable
            ),
            None
        );
        // An unknown mode from a newer server doesn't lock the operator out.
        assert_eq!(
            Blocked::of(AiMode::Unknown, false, Channel::Whatsapp, open),
            None
        );
        // A channel it does not know: no reply it could send would be taken.
        let unknown = Blocked::of(
            AiMode::Human,
            false,
            Channel::Unknown,
            WindowState::NotApplicable,
        );
        assert_eq!(unknown, Some(Blocked::UnknownChannel));
        assert!(unknown.is_some_and(Blocked::stops_templates));
        assert_eq!(
            Blocked::of(
                AiMode::Human,
                true,
                Channel::Unknown,
                WindowState::NotApplicable
            ),
            Some(Blocked::OptedOut)
        );
    }
}
