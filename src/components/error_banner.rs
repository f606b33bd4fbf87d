//! A failure the operator can act on: what went wrong and a way to try again.

use super::focus::refocus_if_lost;
use leptos::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[component]
pub fn ErrorBanner(
    /// Distinct per place (the list and the thread can both fail at once); the retry button's id
    /// is this plus `-retry`.
    id: &'static str,
    /// What went wrong, in the operator's words (`ApiError::user_message` for the API's).
    message: String,
    on_retry: Callback<()>,
    /// Where the focus goes when the banner leaves, for the retry or by itself (a load that
    /// succeeded meanwhile) while its button had the focus (the first of these found): the
    /// place being retried. (Should the retry fail, the new banner is announced.)
    refocus: &'static [&'static str],
) -> impl IntoView {
    let refocus = move || refocus_if_lost(refocus.iter().map(|s| s.to_string()).collect());
    // Whether the focus is in the banner: it leaves the banner for another element (which then
    // is its `relatedTarget`), or is dropped with it when it goes, which the browser does not
    // always tell.
    let focused = Arc::new(AtomicBool::new(false));
    let (on_in, on_out, on_gone) = (focused.clone(), focused.clone(), focused);
    on_cleanup(move || {
        if on_gone.load(Ordering::Relaxed) {
            refocus();
        }
    });
    view! {
        <div
            class="banner error"
            id=id
            role="alert"
            on:focusin=move |_| on_in.store(true, Ordering::Relaxed)
            on:focusout=move |ev: web_sys::FocusEvent| {
                if ev.related_target().is_some() {
                    on_out.store(false, Ordering::Relaxed);
                }
            }
        >
            <span id=format!("{id}-message")>{message}</span>
            <button
                type="button"
                id=format!("{id}-retry")
                // Two banners may be up at once: each "Try again" says what it tries again.
                aria-describedby=format!("{id}-message")
                on:click=move |_| {
                    on_retry.run(());
                    refocus();
                }
            >
                "Try again"
            </button>
        </div>
    }
}
