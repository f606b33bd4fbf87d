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

#[cfg(test)]
mod tests {
    use super::*;

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
