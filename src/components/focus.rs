//! Keeping the keyboard's place when the element that has focus is replaced or disabled: the
//! browser would otherwise drop the focus to the page's start.

use wasm_bindgen::JsCast;

/// Whether the element with this id has focus.
pub fn has_focus(id: &str) -> bool {
    focused().is_some_and(|el| el.id() == id)
}

/// Whether the focus is on or inside what `selector` finds.
pub fn focus_within(selector: &str) -> bool {
    focused().is_some_and(|el| el.closest(selector).ok().flatten().is_some())
}

fn focused() -> Option<web_sys::Element> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
}

/// Focuses what `selector` finds once the next render has made it.
pub fn focus_after_render(selector: String) {
    leptos::prelude::request_animation_frame(move || {
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if let Ok(Some(el)) = doc.query_selector(&selector) {
            if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    });
}
