//! The path the console is served under (`trunk build --public-url /console/` writes it into
//! `<base href>`), so one build works at any sub-path of a CDN.

/// `""` at the root, else e.g. `"/console"`.
pub fn base_path() -> String {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .and_then(|uri| web_sys::Url::new(&uri).ok())
        .map(|u| u.pathname().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

/// A navigation that takes the current entry's place in the history: a redirect (`/` to the
/// inbox, a signed-out screen to the connect screen), where Back to the address redirected from
/// would redirect forward again, and the operator could never leave the console by Back.
pub fn replacing() -> leptos_router::NavigateOptions {
    leptos_router::NavigateOptions {
        replace: true,
        ..Default::default()
    }
}

/// An app path as a link target. The router's `navigate` adds the base itself; plain links and
/// `<A>` with absolute paths do not, so they go through this.
pub fn href(path: &str) -> String {
    format!("{}{}", base_path(), path)
}

/// An app path from a location path (the inverse of [`href`]).
pub fn app_path(location_path: &str) -> String {
    let base = base_path();
    location_path
        .strip_prefix(base.as_str())
        .unwrap_or(location_path)
        .to_owned()
}

/// The app path of the address the page is at now, e.g. `"/conversations"`.
pub fn current_app_path() -> String {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    app_path(&path)
}
