//! The handoff state machine as the operator sees it: which buttons exist for a mode.
//! `ai → human → ai`, and any mode → `closed`, which is terminal.

use super::conversation::AiMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffAction {
    TakeOver,
    ReturnToAi,
    Close,
}

impl HandoffAction {
    pub fn target(self) -> AiMode {
        match self {
            HandoffAction::TakeOver => AiMode::Human,
            HandoffAction::ReturnToAi => AiMode::Ai,
            HandoffAction::Close => AiMode::Closed,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            HandoffAction::TakeOver => "Take over",
            HandoffAction::ReturnToAi => "Return to AI",
            HandoffAction::Close => "Close",
        }
    }

    /// Keyboard shortcut (with Alt), shown next to the button.
    pub fn shortcut(self) -> char {
        match self {
            HandoffAction::TakeOver => 't',
            HandoffAction::ReturnToAi => 'r',
            HandoffAction::Close => 'c',
        }
    }

    /// The physical key (`KeyboardEvent.code`) of the Alt shortcut.
    fn shortcut_code(self) -> &'static str {
        match self {
            HandoffAction::TakeOver => "KeyT",
            HandoffAction::ReturnToAi => "KeyR",
            HandoffAction::Close => "KeyC",
        }
    }

    /// The action an Alt key press asks for, if any. `key` and `code` are the event's;
    /// `typing`: the focus is in a text field. Alt+letter types the letter on most keyboards
    /// (`key` "t", on any layout); a Mac's Option types another character ("†" for T), and
    /// then the physical key decides, unless the operator is typing, where Option+C is how a
    /// "ç" is written. A named key ("Tab") is never a shortcut.
    pub fn from_shortcut(key: &str, code: &str, typing: bool) -> Option<HandoffAction> {
        let mut chars = key.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return None;
        };
        HandoffAction::ALL.into_iter().find(|a| {
            if c.is_ascii_alphabetic() {
                c.eq_ignore_ascii_case(&a.shortcut())
            } else {
                !typing && code == a.shortcut_code()
            }
        })
    }

    /// The mode a 2xx answer to this action's PATCH leaves: the answer's own, or the one asked
    /// for when the answer names none the console knows (one in a list item's shape, without
    /// `ai_mode`): "Unknown" in place of the change just made would bring back every button.
    pub fn made(self, answered: AiMode) -> AiMode {
        if answered == AiMode::Unknown {
            self.target()
        } else {
            answered
        }
    }

    /// Whether the action makes sense from `mode`. Repeating the current mode would be harmless
    /// (the PATCH is idempotent) but a button for it would only confuse.
    pub fn available_from(self, mode: AiMode) -> bool {
        match (self, mode) {
            (_, AiMode::Closed) => false,
            (HandoffAction::TakeOver, m) => m != AiMode::Human,
            (HandoffAction::ReturnToAi, m) => m != AiMode::Ai,
            (HandoffAction::Close, _) => true,
        }
    }

    pub const ALL: [HandoffAction; 3] = [
        HandoffAction::TakeOver,
        HandoffAction::ReturnToAi,
        HandoffAction::Close,
    ];
}

/// How a handoff was asked for: a pointer's click, which may be a stray second click landing on
/// the button that moved into place, or a key (Enter or Space on a button, a shortcut), which
/// is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Press {
    Pointer,
    Key,
}

/// Quiet time after a PATCH answers during which further clicks are ignored.
pub const QUIET_MS: f64 = 800.0;

/// Debounce for the handoff buttons: the first click goes out at once, clicks while it is in
/// flight and for a short quiet time after are swallowed. Times are milliseconds from any clock.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Debounce {
    #[default]
    Idle,
    InFlight,
    Quiet {
        until_ms: f64,
    },
}

impl Debounce {
    /// A click at `now_ms`: returns whether to send the request (and moves to in-flight). A
    /// `deliberate` one (Close, answered in its own dialog; a key's) is no stray repeat of the
    /// click before: only a request in flight holds it back.
    pub fn click(&mut self, now_ms: f64, deliberate: bool) -> bool {
        let free = match *self {
            Debounce::Idle => true,
            Debounce::InFlight => false,
            Debounce::Quiet { until_ms } => deliberate || now_ms >= until_ms,
        };
        if free {
            *self = Debounce::InFlight;
        }
        free
    }

    /// The request answered at `now_ms`. After a failure there is no quiet time: the next
    /// click is a try again (from the button, or the failure's banner), not a stray repeat,
    /// and the PATCH is idempotent should it be one.
    pub fn settled(&mut self, now_ms: f64, succeeded: bool) {
        *self = if succeeded {
            Debounce::Quiet {
                until_ms: now_ms + QUIET_MS,
            }
        } else {
            Debounce::Idle
        };
    }

    pub fn in_flight(self) -> bool {
        self == Debounce::InFlight
    }

    /// Whether a click at `now_ms` would be swallowed as a stray repeat of the change just made
    /// (the buttons say so meanwhile).
    pub fn quiet_at(self, now_ms: f64) -> bool {
        matches!(self, Debounce::Quiet { until_ms } if now_ms < until_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debounce_lets_one_click_through() {
        let mut d = Debounce::default();
        assert!(d.click(0.0, false));
        assert!(d.in_flight());
        assert!(!d.click(10.0, false));
        assert!(!d.click(20.0, true));
        d.settled(100.0, true);
        assert!(d.quiet_at(100.0 + QUIET_MS - 1.0) && !d.quiet_at(100.0 + QUIET_MS));
        assert!(!d.click(100.0 + QUIET_MS - 1.0, false));
        assert!(d.click(100.0 + QUIET_MS, false));
        // A close confirmed in its dialog, just after a take-over answered, goes out.
        d.settled(2_000.0, true);
        assert!(d.click(2_100.0, true));
        // Tried again at once after a failure: it goes out.
        d.settled(3_000.0, false);
        assert!(d.click(3_001.0, false));
    }

    #[test]
    fn a_shortcut_is_the_letter_typed_or_on_a_mac_the_key() {
        use HandoffAction::*;
        assert_eq!(
            HandoffAction::from_shortcut("t", "KeyT", true),
            Some(TakeOver)
        );
        assert_eq!(
            HandoffAction::from_shortcut("R", "KeyR", false),
            Some(ReturnToAi)
        );
        // Dvorak: the letter printed on the key is what counts.
        assert_eq!(
            HandoffAction::from_shortcut("c", "KeyI", false),
            Some(Close)
        );
        assert_eq!(HandoffAction::from_shortcut("x", "KeyT", false), None);
        // A Mac's Option+T types a dagger: the key decides, outside a text field.
        assert_eq!(
            HandoffAction::from_shortcut("†", "KeyT", false),
            Some(TakeOver)
        );
        assert_eq!(
            HandoffAction::from_shortcut("ç", "KeyC", true),
            None,
            "typing a ç"
        );
        assert_eq!(HandoffAction::from_shortcut("Tab", "Tab", false), None);
    }

    #[test]
    fn an_answer_without_its_mode_made_the_change_asked_for() {
        let lean = r#"{"conversation_id":"conv_1","agent_id":"agt_1","channel":"sms",
            "from_number":"+2348000000001","to_number":"+2348000000002",
            "created_at":"2025-05-15T14:32:01Z","changed":true}"#;
        let answer: crate::model::Conversation = serde_json::from_str(lean).unwrap();
        assert_eq!(HandoffAction::Close.made(answer.ai_mode), AiMode::Closed);
        assert_eq!(HandoffAction::TakeOver.made(answer.ai_mode), AiMode::Human);
        // One that names its mode is the server's word.
        assert_eq!(HandoffAction::TakeOver.made(AiMode::Closed), AiMode::Closed);
    }

    fn available(mode: AiMode) -> Vec<HandoffAction> {
        HandoffAction::ALL
            .into_iter()
            .filter(|a| a.available_from(mode))
            .collect()
    }

    #[test]
    fn buttons_per_mode() {
        use HandoffAction::*;
        assert_eq!(available(AiMode::Ai), [TakeOver, Close]);
        assert_eq!(available(AiMode::Human), [ReturnToAi, Close]);
        assert!(available(AiMode::Closed).is_empty());
        assert_eq!(available(AiMode::Unknown), [TakeOver, ReturnToAi, Close]);
    }
}
