//! The connection indicator: live, reconnecting in N s, offline, stopped.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Live,
    /// A long-silent stream opened afresh in case it had died unnoticed: shown as live, since
    /// nothing is known to be wrong (see `stream::watch_silence`).
    Renewing,
    Reconnecting {
        in_secs: u32,
    },
    /// Refused for the workspace's rate limit: back when the server said, with no sooner try.
    RateLimited {
        in_secs: u32,
    },
    Offline,
    /// Refused for the workspace's billing (quota, balance, a block): asked again after a long
    /// while, as it may be settled meanwhile.
    Billing {
        in_secs: u32,
    },
    /// Refused for good (an unknown conversation, or another workspace's, or a bad request by a
    /// gateway's measure): no retry would help; the thread is refreshed on a timer instead.
    Stopped,
    /// The stream refused the key the rest of the API takes (a gateway that refuses `?token=`):
    /// the thread is refreshed on a timer instead.
    Polling,
}

impl LinkState {
    /// Whether the stream is not bringing what happens now (its news is then a refetch's to
    /// bring, and heard as such).
    pub fn is_down(self) -> bool {
        // (Every state named, so that a new one is placed here by the compiler's asking.)
        match self {
            LinkState::Connecting | LinkState::Live => false,
            LinkState::Renewing
            | LinkState::Reconnecting { .. }
            | LinkState::RateLimited { .. }
            | LinkState::Billing { .. }
            | LinkState::Offline
            | LinkState::Stopped
            | LinkState::Polling => true,
        }
    }

    /// What the live region reads: the same words throughout a wait, so that the seconds
    /// counting down ([`LinkState::countdown`], kept out of it) are not read out every second.
    pub fn describe(self) -> &'static str {
        match self {
            LinkState::Connecting => "Connecting…",
            LinkState::Live | LinkState::Renewing => "Live",
            LinkState::Reconnecting { .. } => "Connection lost; reconnecting",
            // Not a lost connection: nothing for the operator to check on their side.
            LinkState::RateLimited { .. } => "Paused by Voicebip's rate limit; reconnecting",
            LinkState::Offline => "Offline: updates resume when the connection returns",
            LinkState::Billing { .. } => {
                "Not live: Voicebip refused updates for the workspace's billing (quota, balance or a block); trying again"
            }
            LinkState::Stopped => {
                "Not live: Voicebip refused this conversation's updates, so it is refreshed every 15 s"
            }
            LinkState::Polling => {
                "Not live: the live stream refused the key, so this conversation is refreshed every 15 s"
            }
        }
    }

    pub fn countdown(self) -> Option<String> {
        match self {
            LinkState::Reconnecting { in_secs }
            | LinkState::RateLimited { in_secs }
            | LinkState::Billing { in_secs }
                if in_secs > 0 =>
            {
                Some(format!(" in {in_secs} s"))
            }
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            LinkState::Connecting => "connecting",
            LinkState::Live | LinkState::Renewing => "live",
            LinkState::Reconnecting { .. } => "reconnecting",
            LinkState::RateLimited { .. } => "rate-limited",
            LinkState::Offline => "offline",
            LinkState::Billing { .. } => "billing",
            LinkState::Stopped => "stopped",
            LinkState::Polling => "polling",
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
            <span aria-hidden="true">{move || state.get().countdown()}</span>
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::LinkState;

    #[test]
    fn only_a_stream_that_is_connecting_or_live_is_up() {
        // A state wrongly counted as up leaves the outage's missed messages unfetched and
        // unannounced (`Thread::stream_lost`).
        for up in [LinkState::Connecting, LinkState::Live] {
            assert!(!up.is_down(), "{up:?}");
        }
        for down in [
            LinkState::Renewing,
            LinkState::Reconnecting { in_secs: 3 },
            LinkState::RateLimited { in_secs: 3 },
            LinkState::Offline,
            LinkState::Billing { in_secs: 3 },
            LinkState::Stopped,
            LinkState::Polling,
        ] {
            assert!(down.is_down(), "{down:?}");
        }
    }
}
