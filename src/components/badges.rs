//! Small status markers: channel, mode, WhatsApp window.

use super::clock::use_clock;
use crate::model::window::WindowState;
use crate::model::{AiMode, Channel};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// (A conversation spans both channels: an open one's is the channel the customer last wrote
/// on, which may change while it is shown.)
#[component]
pub fn ChannelBadge(#[prop(into)] channel: Signal<Channel>) -> impl IntoView {
    let class = move || {
        format!(
            "badge channel-badge channel-{}",
            channel.get().as_param().unwrap_or("other")
        )
    };
    view! { <span class=class>{move || channel.get().label()}</span> }
}

#[component]
pub fn ModeBadge(#[prop(into)] mode: Signal<AiMode>) -> impl IntoView {
    view! {
        <span
            class=move || format!("badge ai-mode-badge mode-{}", mode.get().as_param())
            data-mode=move || mode.get().as_param()
            title="Who answers this conversation"
        >
            {move || mode.get().who_answers()}
        </span>
    }
}

/// The WhatsApp window as a live countdown; nothing for SMS.
#[component]
pub fn WindowBadge(
    #[prop(into)] channel: Signal<Channel>,
    #[prop(into)] expires_at: Signal<Option<DateTime<Utc>>>,
    /// The server warned that the window is in its last hour (`Thread::closing_warned`).
    #[prop(optional, into)]
    closing_warned: Signal<bool>,
) -> impl IntoView {
    let clock = use_clock();
    let state = Memo::new(move |_| {
        WindowState::of(channel.get(), expires_at.get(), clock.now()).warned(closing_warned.get())
    });
    // The window shuts on time, not at the clock's next tick (while this badge shows it).
    let shut = StoredValue::new_local(None);
    crate::state::effect(move || {
        let timer = expires_at.get().and_then(|at| clock.wake_at(at));
        shut.set_value(timer);
    });
    move || {
        let s = state.get();
        (s != WindowState::NotApplicable).then(|| {
            view! {
                <span class=format!("badge window-state window-{}", s.key()) data-window=s.key()>
                    {s.describe()}
                </span>
            }
        })
    }
}
