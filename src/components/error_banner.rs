//! A failure the operator can act on: what went wrong and a way to try again.

use crate::api::ApiError;
use leptos::prelude::*;

#[component]
pub fn ErrorBanner(error: ApiError, on_retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="banner error" id="error-banner" role="alert">
            <span>{error.user_message()}</span>
            <button type="button" id="error-retry" on:click=move |_| on_retry.run(())>
                "Try again"
            </button>
        </div>
    }
}
