//! A failure the operator can act on: what went wrong and a way to try again.

use super::focus::{focus_within, refocus_if_lost};
use leptos::prelude::*;

#[component]
pub fn ErrorBanner(
    /// Distinct per place (the list and the thread can both fail at once); the retry button's id
    /// is this plus `-retry`.
    id: &'static str,
    /// What went wrong, in the operator's words (`ApiError::user_message` for the API's).
    message: String,
    on_retry: Callback<()>,
    /// Where the focus goes when the banner leaves while its button has the focus (the first of
    /// these found): the place being retried, whether by the operator's Try again or by a load
    /// that succeeded meanwhile. (Should the retry fail, the new banner is announced.)
    refocus: &'static [&'static str],
) -> impl IntoView {
    // (Cleaned up before what showed it renders again: the focus is still in the banner then.
    // Rebuilt in place instead, the button keeps the focus, and nothing is done. Left with its
    // screen, the banner is gone first, and the screen's change moves the focus.)
    on_cleanup(move || {
        if focus_within(&format!("#{id}")) {
            refocus_if_lost(refocus.iter().map(|s| s.to_string()).collect());
        }
    });
    view! {
        <div class="banner error" id=id role="alert">
            <span id=format!("{id}-message")>{message}</span>
            <button
                type="button"
                id=format!("{id}-retry")
                // Two banners may be up at once: each "Try again" says what it tries again.
                aria-describedby=format!("{id}-message")
                on:click=move |_| on_retry.run(())
            >
                "Try again"
            </button>
        </div>
    }
}
