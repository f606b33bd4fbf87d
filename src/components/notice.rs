//! A warning banner that is said as it comes, not only shown.

use super::announcer::use_announcer;
use leptos::prelude::*;

/// A warning (the list may be out of date, some rows could not be read) shown as a banner and
/// said once, through the announcer. Not a live region of its own: one inserted with its words
/// already in it is left unread by some screen readers (the announcer's region is there from
/// the start, and only its words change).
#[component]
pub fn Notice(id: &'static str, #[prop(into)] text: String) -> impl IntoView {
    use_announcer().announce(text.clone());
    view! { <p class="banner warn" id=id>{text}</p> }
}
