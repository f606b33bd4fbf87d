//! Keeping the keyboard's place when the element that has focus is replaced, disabled or
//! hidden: the browser would otherwise drop the focus to the page's start.

use wasm_bindgen::JsCast;

/// Whether the focus is on or inside what `selector` finds.
pub fn focus_within(selector: &str) -> bool {
    focused().is_some_and(|el| el.closest(selector).ok().flatten().is_some())
}

/// The focus in what `going` finds, which the next render takes away, goes to what `to` finds
/// once that render is done (call it before the render).
pub fn hand_on(going: &str, to: &str) {
    if focus_within(going) {
        focus_after_render(to.to_owned());
    }
}

/// Focuses what `selector` finds once the next render has made it.
pub fn focus_after_render(selector: String) {
    focus_first_after_render(vec![selector]);
}

/// Focuses what the first of `selectors` that finds something finds, once the next render has
/// made it.
pub fn focus_first_after_render(selectors: Vec<String>) {
    after_render(selectors, false);
}

/// What has the focus now, to give it back later with [`return_focus`].
pub fn focused_element() -> Option<web_sys::HtmlElement> {
    focused().and_then(|el| el.dyn_into().ok())
}

/// Once the next render is done, gives the focus back to `element` if it is still on the page,
/// else to what `fallback` finds.
pub fn return_focus(element: Option<web_sys::HtmlElement>, fallback: &'static str) {
    leptos::prelude::request_animation_frame(move || match element {
        Some(el) if el.is_connected() => {
            let _ = el.focus();
        }
        _ => focus_first(&[fallback]),
    });
}

/// Once the next render is done, focuses what the first of `selectors` that finds something
/// finds, if the focus was lost by then: on the page's body, or on an element a layout change
/// hid.
pub fn refocus_if_lost(selectors: Vec<String>) {
    after_render(selectors, true);
}

/// [`refocus_if_lost`], without scrolling to what takes the focus: for a list the operator may
/// have scrolled meanwhile, which must not jump back.
pub fn refocus_in_place_if_lost(selectors: Vec<String>) {
    leptos::prelude::request_animation_frame(move || {
        if focus_is_lost() {
            if let Some(el) = first(&selectors) {
                let options = web_sys::FocusOptions::new();
                options.set_prevent_scroll(true);
                let _ = el.focus_with_options(&options);
            }
        }
    });
}

fn after_render(selectors: Vec<String>, only_if_lost: bool) {
    leptos::prelude::request_animation_frame(move || {
        if !only_if_lost || focus_is_lost() {
            focus_first(&selectors);
        }
    });
}

/// Focuses what the first of `selectors` that finds something finds.
fn focus_first(selectors: &[impl AsRef<str>]) {
    if let Some(el) = first(selectors) {
        let _ = el.focus();
    }
}

/// What the first of `selectors` that finds something finds.
fn first(selectors: &[impl AsRef<str>]) -> Option<web_sys::HtmlElement> {
    let doc = web_sys::window().and_then(|w| w.document())?;
    selectors
        .iter()
        .find_map(|s| doc.query_selector(s.as_ref()).ok().flatten())
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
}

/// No element has focus but the body, or the one that has it is not rendered (`offsetParent`
/// is null for both).
fn focus_is_lost() -> bool {
    focused()
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        .is_none_or(|el| el.offset_parent().is_none())
}

fn focused() -> Option<web_sys::Element> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
}
