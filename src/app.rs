//! Router, top-level layout and the context every screen shares.

use crate::components::announcer::{Announcer, LiveRegion};
use crate::components::clock::Clock;
use crate::components::notice::Notice;
use crate::pages::connect::ConnectPage;
use crate::pages::embed::EmbedRoutes;
use crate::pages::inbox::InboxPage;
use crate::pages::not_found::NotFoundPage;
use crate::state::warm_start::WarmStart;
use crate::state::{Config, Session};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{FlatRoutes, Redirect, Route, Router};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;

#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    provide_context(session);
    // Listening to the other tabs before a key is restored: a sign-out one of them tells while
    // this tab restores (after it found the device still signed in, and marked it so again) was
    // heard by no one here, and the tab stayed signed in with the key signed out of.
    provide_context(crate::state::tabs::Tabs::start(session));
    // Then at once, so that the inbox's first page is on its way while everything else starts.
    let restore_with_config = session.restore(None);
    let warm_start = WarmStart::begin(&session);
    provide_context(warm_start);
    provide_context(Announcer::new());
    provide_context(Clock::start());
    provide_context(crate::state::notify::Notifier::new());
    // Above every screen: an answer that comes after its thread's view (or the page around it,
    // as when the embedded console goes from a conversation to its inbox) has gone still finds
    // the conversation's view shown now.
    crate::state::drafts::OpenDraft::provide();
    // A restored session needs no configuration to show its screen (the base URL was stored with
    // the key), so it does not wait for config.json; it waits (briefly) for its first page, so
    // that the first frame holds the list. The embedded console does wait for config.json: which
    // parent origins may hand it a key is the configuration's to say.
    let embedded = crate::state::embed::is_embedded();
    // A memo, so the app is rebuilt only when the answer changes. Once shown, the app stays: a
    // sign-out before config.json arrived must go to the connect screen, not back to "Loading…".
    let ready = Memo::new(move |was: Option<&bool>| {
        let known = session.config.with(Option::is_some)
            || (!embedded && session.client.with(Option::is_some));
        was == Some(&true) || (known && warm_start.settled())
    });
    let config_warning = RwSignal::new(None::<String>);
    spawn_local(async move {
        let (config, warning) = Config::load().await;
        // Only a key that waited for it: a session restored at start may have ended since (a
        // key refused before this came), and the device's key is then another tab's.
        if restore_with_config && session.client.with_untracked(Option::is_none) {
            session.restore(Some(&config.api_base_url));
        }
        config_warning.set(warning);
        session.config.set(Some(config));
    });

    view! {
        <Router base=crate::state::base::base_path()>
            // Not the router's (`rel="external"`), nor the browser's: `#main` resolves against
            // the page's `<base>`, so either would go to the app's root, away from the open
            // conversation (or the embed).
            <a
                class="skip-link"
                href="#main"
                rel="external"
                on:click=|ev: leptos::ev::MouseEvent| {
                    ev.prevent_default();
                    // Past the top bar and the filters: to the open conversation, else to the
                    // list's row (`#main` held them all, and Tab went on through them).
                    crate::components::focus::focus_first_after_render(vec![
                        ".thread-pane:not(:has(.no-thread))".into(),
                        crate::components::conversation_list::TAB_STOP.into(),
                        "#main".into(),
                    ]);
                }
            >
                "Skip to content"
            </a>
            <LiveRegion/>
            {move || if ready.get() {
                view! {
                    <SessionGuard/>
                    <main id="main" tabindex="-1">
                        // (Within the page's landmarks, as all its content is.)
                        <RetryNotice/>
                        {move || config_warning.get().map(|w| view! { <Notice id="config-warning" text=w/> })}
                        // Flat: a conversation is a parameter of the inbox's route, so switching
                        // conversations keeps the inbox (and its list) mounted.
                        <FlatRoutes fallback=NotFoundPage>
                            <Route path=path!("/") view=Home/>
                            <Route path=path!("/connect") view=ConnectPage/>
                            <Route path=path!("/conversations/:id?") view=InboxPage/>
                            <Route path=path!("/embed/:screen/:id?") view=EmbedRoutes/>
                        </FlatRoutes>
                    </main>
                }.into_any()
            } else {
                view! { <p class="loading" role="status">"Loading…"</p> }.into_any()
            }}
        </Router>
    }
}

/// `/` goes to the inbox when signed in, else to the connect screen.
#[component]
fn Home() -> impl IntoView {
    let session = crate::state::session::use_session();
    move || {
        let options = crate::state::base::replacing();
        if session.client.with(Option::is_some) {
            view! { <Redirect path="/conversations" options/> }
        } else {
            view! { <Redirect path="/connect" options/> }
        }
    }
}

/// Sends the operator to the connect screen whenever the session ends (sign-out, or a 401 from
/// any request), keeping no screen that needs a key on display.
#[component]
fn SessionGuard() -> impl IntoView {
    let session = crate::state::session::use_session();
    let location = use_location();
    let navigate = use_navigate();
    let open = navigate.clone();
    // The drafts' count of forgettings (`drafts_now`, a sign-out's doing) as the session shown
    // last began: none before a first sign-in, unless a sign-out this tab missed is found at
    // its start.
    let began = StoredValue::new(0);
    crate::state::effect(move || {
        let signed_in = session.client.with(Option::is_some);
        let pathname = location.pathname.get();
        let path = crate::state::base::app_path(&pathname);
        if signed_in {
            began.set_value(session.drafts_now());
        } else if path.starts_with("/conversations") {
            // Back there once signed in: a link opened signed out, or a session a refused key
            // ended mid-work (whose drafts are kept too). Not after a sign-out, here or in
            // another tab, when the next to sign in may be someone else.
            let signed_out = !session.drafts_kept_since(began.get_value());
            let here = crate::state::base::app_address(&pathname, &location.search.get_untracked());
            navigate(
                &crate::state::base::connect_path((!signed_out).then_some(&here)),
                crate::state::base::replacing(),
            );
        }
    });
    // A notification clicked opens its conversation, while its workspace is the one signed in
    // (the tab may show another conversation by then). (None in a frame, which shows none.)
    let notifier = crate::state::notify::use_notifier();
    crate::state::effect(move || {
        let Some((conversation, workspace)) = notifier.clicked.get() else {
            return;
        };
        if session.signed_in_to(&workspace) {
            // With the list's filters, as a row's link keeps them.
            let path = format!("/conversations/{}", conversation.path_segment());
            let path = match location.search.get_untracked().as_str() {
                "" => path,
                query => format!("{path}?{query}"),
            };
            open(&path, Default::default());
        }
    });
    // Another screen (signed in, signed out, a link to an unknown address; the embedded
    // console's inbox and its conversation) has replaced the control that had the focus: the
    // keyboard goes on at the new screen's content, not at the page's start. Not at the first
    // screen, nor `/`'s redirect.
    let screen = StoredValue::new(String::new());
    crate::state::effect(move || {
        let path = crate::state::base::app_path(&location.pathname.get());
        let mut segments = path.split('/').skip(1);
        let now = match segments.next().unwrap_or_default() {
            "embed" => format!("embed/{}", segments.next().unwrap_or_default()),
            first => first.to_owned(),
        };
        let before = screen.get_value();
        if !before.is_empty() && before != now {
            crate::components::focus::refocus_if_lost(vec!["#main".into()]);
        }
        screen.set_value(now);
    });
}

/// "Retrying in N s" while the client waits out a 429 or a failed read.
#[component]
fn RetryNotice() -> impl IntoView {
    let session = crate::state::session::use_session();
    let waiting = Memo::new(move |_| session.retry_waits.with(|w| !w.is_empty()));
    // The device's clock, read twice a second while something waits: the seconds shown are
    // counted from the waits' ends, so a wait added or ended shows at the next tick.
    let now = RwSignal::new(js_sys::Date::now());
    let ticker = StoredValue::new_local(None::<gloo_timers::callback::Interval>);
    crate::state::effect(move || {
        let on = waiting.get();
        now.set(js_sys::Date::now());
        ticker.set_value(on.then(|| {
            gloo_timers::callback::Interval::new(500, move || now.set(js_sys::Date::now()))
        }));
    });
    let left = move || crate::api::retry::seconds_left(&session.retry_waits.read(), now.get());
    let announcer = crate::components::announcer::use_announcer();
    // Built once for a wait, and said once as it begins (not a live region of its own, which
    // some screen readers leave unread when it comes with its words). Its seconds can be read
    // on the page, and are not read out at each one.
    move || {
        waiting.get().then(|| {
            // Counted from now, not from `now`, which the ticker has not moved yet (it read
            // the end of the last wait); and untracked, so that the banner is not rebuilt, nor
            // said again, at every second.
            let secs = crate::api::retry::seconds_left(
                &session.retry_waits.read_untracked(),
                js_sys::Date::now(),
            );
            announcer.announce(match secs {
                0 => "Voicebip is busy; retrying now.".to_owned(),
                secs => format!("Voicebip is busy; retrying in {secs} s."),
            });
            view! {
                // One line in the banner's flex row.
                <p class="banner warn" id="retry-notice">
                    <span>
                        "Voicebip is busy; retrying"
                        {move || match left() {
                            0 => " now…".to_owned(),
                            secs => format!(" in {secs} s…"),
                        }}
                    </span>
                </p>
            }
        })
    }
}
