//! What the browser says of the page: whether it is online, and whether it is in view; and the
//! tab's title.

/// Online as far as the browser knows (and assumed so where it cannot say).
pub fn is_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// The page is out of view (another tab, a minimised window).
pub fn is_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// The page is in view and has the keyboard: the operator is looking at it.
pub fn is_looked_at() -> bool {
    !is_hidden()
        && web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.has_focus().unwrap_or(false))
}

/// Sets the tab's title: what the tab strip shows, and what a screen reader says of the page.
pub fn set_title(title: &str) {
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        doc.set_title(title);
    }
}
