//! A polite live region: screen readers hear new inbound messages without losing their place.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Announcer {
    text: RwSignal<String>,
    /// When the region last changed (ms since the epoch).
    last_at: StoredValue<f64>,
}

/// Announcements closer together than this are said together: a batch of stream events makes
/// several in one go, and each would replace the one before before it is read.
const TOGETHER_MS: f64 = 250.0;

impl Announcer {
    pub fn new() -> Self {
        Announcer {
            text: RwSignal::new(String::new()),
            last_at: StoredValue::new(f64::MIN),
        }
    }

    pub fn announce(&self, message: impl Into<String>) {
        let now = js_sys::Date::now();
        let together = now - self.last_at.get_value() < TOGETHER_MS;
        self.last_at.set_value(now);
        let message = message.into();
        self.text
            .update(|text| *text = next_text(text, &message, together));
    }
}

/// What the region says next. Said together, the messages are joined. The same text again
/// would change nothing in the page, and a screen reader reads only changes: a trailing
/// no-break space, there or not, makes it a change (a customer who writes "yes" twice).
fn next_text(current: &str, message: &str, together: bool) -> String {
    let next = if together && !current.trim_end_matches('\u{a0}').is_empty() {
        format!("{} {message}", current.trim_end_matches('\u{a0}'))
    } else {
        message.to_owned()
    };
    if next == current {
        format!("{next}\u{a0}")
    } else {
        next
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

#[cfg(test)]
mod tests {
    use super::next_text;

    #[test]
    fn announcements_together_are_joined_and_a_repeat_is_still_a_change() {
        assert_eq!(next_text("", "New message: hi", false), "New message: hi");
        assert_eq!(
            next_text("New message: hi", "New message: there", true),
            "New message: hi New message: there"
        );
        // Later, the region says only the new one.
        assert_eq!(
            next_text("New message: hi", "Template sent", false),
            "Template sent"
        );
        // The same again differs from what the region holds, in one way or the other.
        let again = next_text("New message: yes", "New message: yes", false);
        assert_ne!(again, "New message: yes");
        assert_eq!(again.trim_end_matches('\u{a0}'), "New message: yes");
        assert_eq!(
            next_text(&again, "New message: yes", false),
            "New message: yes"
        );
    }
}
