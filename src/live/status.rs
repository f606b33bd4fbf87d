//! The connection indicator: live, reconnecting in N s, offline, stopped.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Live,
    Reconnecting {
        in_secs: u32,
    },
    Offline,
    /// Refused for good (an unknown conversation, or another workspace's): no retry would help.
    Stopped,
}

impl LinkState {
    pub fn describe(self) -> String {
        match self {
            LinkState::Connecting => "Connecting…".into(),
            LinkState::Live => "Live".into(),
            LinkState::Reconnecting { in_secs: 0 } => "Reconnecting…".into(),
            LinkState::Reconnecting { in_secs } => {
                format!("Connection lost; reconnecting in {in_secs} s")
            }
            LinkState::Offline => "Offline: updates resume when the connection returns".into(),
            LinkState::Stopped => "Not live: Voicebip refused this conversation's updates".into(),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            LinkState::Connecting => "connecting",
            LinkState::Live => "live",
            LinkState::Reconnecting { .. } => "reconnecting",
            LinkState::Offline => "offline",
            LinkState::Stopped => "stopped",
        }
    }
}

#[component]
pub fn ConnectionStatus(#[prop(into)] state: Signal<LinkState>) -> impl IntoView {
    view! {
        <span
            id="connection-status"
            class=move || format!("badge link-{}", state.get().key())
            data-state=move || state.get().key()
            role="status"
        >
            {move || state.get().describe()}
        </span>
    }
}
