//! A polite live region: screen readers hear new inbound messages without losing their place.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Announcer {
    text: RwSignal<String>,
}

impl Announcer {
    pub fn new() -> Self {
        Announcer {
            text: RwSignal::new(String::new()),
        }
    }

    pub fn announce(&self, message: impl Into<String>) {
        self.text.set(message.into());
    }
}

impl Default for Announcer {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_announcer() -> Announcer {
    expect_context::<Announcer>()
}

#[component]
pub fn LiveRegion() -> impl IntoView {
    let announcer = use_announcer();
    view! {
        <div id="live-announcer" class="visually-hidden" aria-live="polite" aria-atomic="true">
            {move || announcer.text.get()}
        </div>
    }
}
