use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section id="not-found" class="centered">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <A href=crate::state::base::href("/conversations") attr:id="back-to-inbox">"Back to the inbox"</A>
        </section>
    }
}
