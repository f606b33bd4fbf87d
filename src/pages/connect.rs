//! The connect screen: API base URL (from `config.json`, editable) and the key, checked with a
//! real request before it is kept.

use crate::api::ApiError;
use crate::components::announcer::said_anew;
use crate::model::inbox::Filters;
use crate::state::session::use_session;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn ConnectPage() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let configured = session
        .config
        .with_untracked(|c| c.as_ref().map(|c| c.api_base_url.clone()))
        .unwrap_or_default();
    let base = RwSignal::new(session.remembered_base().unwrap_or(configured));
    let key = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let checking = RwSignal::new(false);
    // Counts the checks begun or given up: a check's answer is taken only while it is the
    // newest (the operator corrects a field while one waits, and the next Connect is theirs).
    let checks = StoredValue::new(0u64);
    let announcer = use_context::<crate::components::announcer::Announcer>();
    let give_up_check = move || {
        if checking.get_untracked() {
            checks.update_value(|n| *n += 1);
            checking.set(false);
        }
    };
    let error = RwSignal::new(session.notice.get_untracked());
    // The field a refusal is about, and how many refusals were said: the same words again
    // change the alert all the same (a nothing-changed alert is not read), by a no-break space.
    let invalid = RwSignal::new(None::<Field>);
    let refusals = RwSignal::new(0u32);
    let refuse = move |text: String, field: Option<Field>| {
        error.set(Some(text));
        invalid.set(field);
        refusals.update(|n| *n = n.wrapping_add(1));
        if let Some(field) = field {
            crate::components::focus::focus_after_render(format!("#{}", field.id()));
        }
    };
    let invalid_attr = move |field: Field| move || (invalid.get() == Some(field)).then_some("true");
    let described_attr =
        move |field: Field| move || (invalid.get() == Some(field)).then_some("connect-error");

    crate::state::browser::set_title(&crate::model::inbox::screen_title("Connect"));
    // Where the sign-in goes: the inbox, or the inbox address the operator was sent here from.
    let query = use_query_map();
    let back_to = move || {
        query
            .with_untracked(|q| q.get("next"))
            .and_then(|next| crate::state::base::return_path(&next).map(str::to_owned))
            .unwrap_or_else(|| "/conversations".to_owned())
    };
    // Already signed in (e.g. a restored key): straight there.
    if session.client.with_untracked(Option::is_some) {
        navigate(&back_to(), crate::state::base::replacing());
    }

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if checking.get_untracked() {
            return;
        }
        let (b, k) = (base.get_untracked(), key.get_untracked());
        if k.trim().is_empty() {
            refuse("Enter your API key.".into(), Some(Field::Key));
            return;
        }
        if b.trim().is_empty() {
            refuse("Enter the API base URL.".into(), Some(Field::Base));
            return;
        }
        // (Else the key would go to this site's own address.)
        if !crate::state::config::is_api_base(b.trim()) {
            refuse(
                "The API base URL begins with https:// (http:// only on this machine), or is a path on this site, like /v1."
                    .into(),
                Some(Field::Base),
            );
            return;
        }
        if !crate::api::key_is_well_formed(k.trim()) {
            refuse(
                "That key has a character no API key has: a space, or an invisible one copied \
                 with it. Paste it again."
                    .into(),
                Some(Field::Key),
            );
            return;
        }
        checking.set(true);
        // (The focused button's new words may go unread: a check can take 30 s.)
        if let Some(a) = announcer {
            a.announce("Checking the key…");
        }
        error.set(None);
        invalid.set(None);
        let client = session.make_client(b.trim(), &k);
        checks.update_value(|n| *n += 1);
        let this = checks.get_value();
        let begun = js_sys::Date::now();
        // Tried again within the one request's limit only (a 5xx, a dropped connection): a
        // base that drops what is sent to it says so after 30 s, where three more tries kept
        // "Checking…" for two minutes.
        let still_wanted = move || {
            checks.try_get_value() == Some(this)
                && js_sys::Date::now() - begun < f64::from(crate::api::deadline::SILENCE_LIMIT_MS)
        };
        let navigate = navigate.clone();
        // Read when the answer comes, as the box is then (unticked while "Checking…", the key
        // is not kept on the device); as it was now, should this page be gone by then.
        let remember_then = remember.get_untracked();
        let back_to = back_to();
        spawn_local(async move {
            let result = client
                .list_conversations_while(&Filters::default(), None, 1, &still_wanted)
                .await;
            // Given up for a corrected field: the operator's next Connect is the one that counts.
            if checks.try_get_value() != Some(this) {
                return;
            }
            checking.set(false);
            match result {
                Ok(_) => {
                    let remember = remember.try_get_untracked().unwrap_or(remember_then);
                    session.sign_in(client, k.trim(), remember);
                    key.set(String::new());
                    // The connect screen is done with: Back does not come back to it.
                    navigate(&back_to, crate::state::base::replacing());
                }
                Err(e) => {
                    let (said, field) = check_refused(&e);
                    refuse(said, field);
                }
            }
        });
    };

    view! {
        <section class="connect centered">
            <h1>"Voicebip operator console"</h1>
            <form id="connect-form" on:submit=submit>
                <label for="api-base-url">"API base URL"</label>
                // Text, not `url`: a path on this site (`/v1`) is a base, and the browser would
                // refuse it before the form's own check, which says what a base may be.
                <input
                    id="api-base-url"
                    type="text"
                    inputmode="url"
                    autocapitalize="none"
                    spellcheck="false"
                    autocomplete="url"
                    aria-invalid=invalid_attr(Field::Base)
                    aria-describedby=described_attr(Field::Base)
                    prop:value=move || base.get()
                    on:input=move |ev| {
                        give_up_check();
                        base.set(event_target_value(&ev))
                    }
                />
                <label for="api-key">"API key"</label>
                <input
                    id="api-key"
                    type="password"
                    autocomplete="current-password"
                    placeholder="pk_live_… or pk_test_…"
                    aria-invalid=invalid_attr(Field::Key)
                    aria-describedby=described_attr(Field::Key)
                    prop:value=move || key.get()
                    on:input=move |ev| {
                        give_up_check();
                        key.set(event_target_value(&ev))
                    }
                />
                <div class="checkbox">
                    <input
                        id="remember"
                        type="checkbox"
                        prop:checked=move || remember.get()
                        on:change=move |ev| remember.set(event_target_checked(&ev))
                    />
                    <label for="remember">"Remember on this device"</label>
                </div>
                <p id="connect-error" role="alert">
                    {move || error.get().map(|e| said_anew(e, refusals.get()))}
                </p>
                // `aria-disabled`, not `disabled`: a disabled button loses the focus it has, and
                // a refused key would leave the operator at the page's start.
                <button type="submit" id="connect-submit" aria-disabled=move || checking.get().to_string()>
                    {move || if checking.get() { "Checking…" } else { "Connect" }}
                </button>
            </form>
        </section>
    }
}

/// What a key's check that failed says, and the field it is about (none: the focus stays on
/// Connect, to try again).
fn check_refused(e: &ApiError) -> (String, Option<Field>) {
    match e {
        ApiError::Unauthenticated(_) => (
            "That key was not accepted. Check that it is complete and not revoked.".into(),
            None,
        ),
        // Here a base that drops what is sent to it (a wrong address, a closed port) is as
        // likely as a slow server.
        ApiError::TimedOut => (
            "Voicebip did not answer in time. Check the API base URL, and the connection.".into(),
            None,
        ),
        // Something answered, but not as the API would: a base without its `/v1`, a web site's
        // page, a storage bucket's refusal with no error body (a 403 of a CDN's). The base is
        // what to look at, not the conversation or answer the general words would name.
        ApiError::NotFound(_) | ApiError::Malformed(_) => (NOT_THE_API.into(), Some(Field::Base)),
        e if e.is_unexplained_refusal() => (NOT_THE_API.into(), Some(Field::Base)),
        e => (e.user_message(), None),
    }
}

const NOT_THE_API: &str =
    "Nothing at this API base URL answered as Voicebip's API does. Check it: it usually ends in /v1.";

/// A field of the form a refusal can be about.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Field {
    Base,
    Key,
}

impl Field {
    fn id(self) -> &'static str {
        match self {
            Field::Base => "api-base-url",
            Field::Key => "api-key",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_not_the_apis_names_the_base_to_check() {
        // A storage bucket's or a web server's refusal, with no error body of the API's.
        for not_the_api in [
            ApiError::from_response(403, None, "<Error><Code>AccessDenied</Code></Error>"),
            ApiError::from_response(405, None, ""),
            ApiError::from_response(404, None, ""),
            ApiError::Malformed("<html>".into()),
        ] {
            let (said, field) = check_refused(&not_the_api);
            assert_eq!((said.as_str(), field), (NOT_THE_API, Some(Field::Base)));
        }
        // The API's own refusal says what it says, about no field.
        let denied = r#"{"error_code":"PERMISSION_DENIED","message":"not this key"}"#;
        let (said, field) = check_refused(&ApiError::from_response(403, None, denied));
        assert_eq!(
            (said.as_str(), field),
            ("not this key (PERMISSION_DENIED)", None)
        );
        let (said, field) = check_refused(&ApiError::from_response(401, None, ""));
        assert!(said.contains("not accepted") && field.is_none(), "{said}");
    }
}
