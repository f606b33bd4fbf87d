//! Small status markers: channel, mode, WhatsApp window.

use super::clock::use_clock;
use crate::model::window::WindowState;
use crate::model::{AiMode, Channel};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

#[component]
pub fn ChannelBadge(channel: Channel) -> impl IntoView {
    let class = format!(
        "badge channel-badge channel-{}",
        channel.as_param().unwrap_or("other")
    );
    view! { <span class=class>{channel.label()}</span> }
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
    channel: Channel,
    #[prop(into)] expires_at: Signal<Option<DateTime<Utc>>>,
) -> impl IntoView {
    let clock = use_clock();
    let state = Memo::new(move |_| WindowState::of(channel, expires_at.get(), clock.now()));
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
