//! The path the console is served under (`trunk build --public-url /console/` writes it into
//! `<base href>`), so its routes and links keep the sub-path a build was made for: one build
//! per sub-path (`cargo xtask dist --public-url` takes an absolute one only).

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

/// The app address (path and query) of a location's `pathname` and raw `search` (without `?`).
pub fn app_address(pathname: &str, search: &str) -> String {
    match search {
        "" => app_path(pathname),
        query => format!("{}?{query}", app_path(pathname)),
    }
}

/// The app path of the address the page is at now, e.g. `"/conversations"`.
pub fn current_app_path() -> String {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    app_path(&path)
}

/// The connect screen's address, with `back_to`, the inbox address to go back to once signed
/// in (`next`), when it is one a sign-in may go back to and more than the inbox's start.
pub fn connect_path(back_to: Option<&str>) -> String {
    match back_to.and_then(return_path) {
        Some(path) if path != "/conversations" => format!(
            "/connect?next={}",
            crate::model::inbox::encode_component(path)
        ),
        _ => "/connect".to_owned(),
    }
}

/// `next` when it is an address in the inbox (the list, a conversation, with their filters),
/// the only screens a sign-in goes back to: not another site's (`//host`), nor a script's, nor
/// one that climbs out of the inbox (`/conversations/../x`).
pub fn return_path(next: &str) -> Option<&str> {
    let rest = next.strip_prefix("/conversations")?;
    let inbox = rest.is_empty() || rest.starts_with('/') || rest.starts_with('?');
    let path = next.split('?').next().unwrap_or_default();
    let odd = next.contains("//")
        || next.contains('\\')
        || next.chars().any(char::is_control)
        || path
            .split('/')
            .map(crate::model::inbox::decode_component)
            .any(|s| matches!(s.as_deref(), Some(".." | ".")));
    (inbox && !odd).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_goes_back_to_inbox_addresses_only() {
        for kept in [
            "/conversations",
            "/conversations?channel=sms",
            "/conversations/conv_1?agent=agt%201&channel=whatsapp",
        ] {
            assert_eq!(return_path(kept), Some(kept));
        }
        for refused in [
            "",
            "/connect",
            "/conversationsX",
            "//evil.example/conversations",
            "/conversations//evil.example",
            "/conversations/\\evil.example",
            "/conversations/a\nb",
            "/conversations/../connect",
            "/conversations/./x",
            "/conversations/%2e%2e/x",
            "https://evil.example/conversations",
            "javascript:alert(1)",
        ] {
            assert_eq!(return_path(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn the_connect_address_carries_where_to_go_back() {
        assert_eq!(connect_path(None), "/connect");
        assert_eq!(connect_path(Some("/conversations")), "/connect");
        assert_eq!(connect_path(Some("//evil.example")), "/connect");
        assert_eq!(
            connect_path(Some("/conversations/conv_1?channel=sms")),
            "/connect?next=%2Fconversations%2Fconv_1%3Fchannel%3Dsms"
        );
    }
}
