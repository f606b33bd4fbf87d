use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    crate::state::browser::set_title(&crate::model::inbox::screen_title("Page not found"));
    let inbox = if crate::state::embed::is_embedded() {
        "/embed/inbox"
    } else {
        "/conversations"
    };
    view! {
        <section id="not-found" class="centered">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            // Under `/embed`, to the embedded inbox: the standalone one would ask for a key in
            // the host's frame, and keep it.
            <A href=crate::state::base::href(inbox) attr:id="back-to-inbox">"Back to the inbox"</A>
        </section>
    }
}
