//! A failure the operator can act on: what went wrong and a way to try again.

use super::focus::refocus_if_lost;
use leptos::prelude::*;

#[component]
pub fn ErrorBanner(
    /// Distinct per place (the list and the thread can both fail at once); the retry button's id
    /// is this plus `-retry`.
    id: &'static str,
    /// What went wrong, in the operator's words (`ApiError::user_message` for the API's).
    message: String,
    on_retry: Callback<()>,
    /// Where the focus goes when the banner leaves for the retry (the first of these found):
    /// the place being retried. (Should the retry fail, the new banner is announced.)
    refocus: &'static [&'static str],
) -> impl IntoView {
    let retry_id = format!("{id}-retry");
    view! {
        <div class="banner error" id=id role="alert">
            <span>{message}</span>
            <button
                type="button"
                id=retry_id
                on:click=move |_| {
                    on_retry.run(());
                    refocus_if_lost(refocus.iter().map(|s| s.to_string()).collect());
                }
            >
                "Try again"
            </button>
        </div>
    }
}
