//! The embedded console (`/embed/...`): a compact layout inside another tool's iframe, signed in by
//! the host page through `postMessage`.

use crate::api::{ApiError, Client};
use crate::model::inbox::Filters;
use crate::pages::inbox::InboxPage;
use crate::pages::not_found::NotFoundPage;
use crate::pages::thread_chunk::ThreadPane;
use crate::state::embed::{parse_host_message, ConsoleMessage, EmbedHost, HostMessage};
use crate::state::session::use_session;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

/// The API's "enter it again" is not the operator's to do here: the host page holds the key.
const KEY_REFUSED: &str =
    "The key the host page handed over was not accepted: it may be wrong, revoked or expired.";

const CHECKING: &str = "Checking the key the host page handed over…";
const NO_KEY: &str = "The host page asked to connect without a key: its message needs a \"key\" \
     with the API key as text.";

#[derive(Clone, Copy, PartialEq)]
enum EmbedScreen {
    /// `/embed/inbox[/:id]`
    Inbox,
    /// `/embed/conversations/:id`
    Conversation,
}

/// The embedded screens, as one route so that moving between them keeps the shell (and the
/// host's connection) in place.
#[component]
pub fn EmbedRoutes() -> impl IntoView {
    let params = use_params_map();
    let screen = Memo::new(move |_| {
        params.with(|p| match (p.get_str("screen"), p.get_str("id")) {
            (Some("inbox"), _) => Some(EmbedScreen::Inbox),
            (Some("conversations"), Some(_)) => Some(EmbedScreen::Conversation),
            _ => None,
        })
    });
    let known = Memo::new(move |_| screen.with(Option::is_some));
    move || {
        if known.get() {
            view! {
                <EmbedShell>
                    {move || match screen.get() {
                        Some(EmbedScreen::Inbox) => view! { <InboxPage/> }.into_any(),
                        _ => view! { <ThreadPane/> }.into_any(),
                    }}
                </EmbedShell>
            }
            .into_any()
        } else {
            view! { <NotFoundPage/> }.into_any()
        }
    }
}

#[component]
pub fn EmbedShell(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let allowed = session
        .config
        .with_untracked(|c| c.as_ref().map(|c| c.embed_allowed_origins.clone()))
        .unwrap_or_default();
    let host = EmbedHost::new(allowed);
    provide_context(host);
    // Inside a page not allowed (above the host page): no key is taken, and the host and the
    // operator are told why.
    let framed_by_stranger = StoredValue::new(host.framed_by_stranger());
    let root = NodeRef::<leptos::html::Div>::new();

    // Each key handed over supersedes the one before: only the latest one's check counts.
    let connects = StoredValue::new(0u32);
    // Why the console waits for a key, when it is not the first: the operator in the frame is
    // told, not only the host page.
    let why = RwSignal::new(None::<String>);
    // A key handed over is being checked: the session it may replace ending meanwhile on a
    // refusal of the old key is the check's to tell, when it has an answer.
    let checking = StoredValue::new(false);
    let listener = window_event_listener(leptos::ev::message, move |ev: web_sys::MessageEvent| {
        let origin = ev.origin();
        // From the page that embeds this one, not another frame of an allowed origin in it.
        let parent = web_sys::window().and_then(|w| w.parent().ok().flatten());
        let from_parent = ev
            .source()
            .zip(parent)
            .is_some_and(|(source, parent)| js_sys::Object::is(&source, &parent));
        if !from_parent || !host.allows(&origin) {
            host.rejected.update(|n| *n += 1);
            return;
        }
        let asked = parse_host_message(&ev.data());
        if let Some(message) = framed_by_stranger.get_value().filter(|_| asked.is_some()) {
            host.rejected.update(|n| *n += 1);
            host.send(&ConsoleMessage::Error { message });
            return;
        }
        let key = match asked {
            Some(HostMessage::Connect { key }) => key,
            Some(HostMessage::ConnectWithoutKey) => {
                // (The key connected with, if any, goes on: nothing replaced it.)
                host.send(&ConsoleMessage::Error {
                    message: NO_KEY.to_owned(),
                });
                if session.client.with_untracked(Option::is_none) {
                    why.set(Some(NO_KEY.to_owned()));
                }
                return;
            }
            None => return,
        };
        connects.update_value(|n| *n += 1);
        let this = connects.get_value();
        let base = session
            .config
            .with_untracked(|c| c.as_ref().map(|c| c.api_base_url.clone()))
            .unwrap_or_default();
        let client = session.make_client(&base, &key);
        let wanted = move || connects.try_get_value() == Some(this);
        // Another key than the one connected with (another operator signed in to the tool):
        // the session of the one before ends now, not once this one's check answers, minutes
        // later on a slow API, while its conversations stayed on screen and its key went on
        // acting for a host that had moved on from it.
        if session
            .client
            .with_untracked(|c| c.as_ref().is_some_and(|c| *c != client))
        {
            why.set(Some(CHECKING.to_owned()));
            session.sign_out(None);
        }
        checking.set_value(true);
        spawn_local(async move {
            // A check that failed for a reason of its own (the network, a 5xx, a rate limit),
            // not the key's, is tried again by itself: the host hands a key over once, and the
            // frame waited for good.
            let mut rechecks = 0;
            // What the host was last told of this key's check: the failure's kind (a 429's
            // seconds, say, may change from one check to the next).
            let mut told = None;
            loop {
                // (Not once the host has handed over another key: a wait for the rate limit
                // ends there, rather than ask again with a key the host has moved on from.)
                let result = client
                    .list_conversations_while(&Filters::default(), None, 1, &wanted)
                    .await;
                if !wanted() {
                    return;
                }
                let Err(e) = result else {
                    checking.set_value(false);
                    host.host_origin.set(Some(origin));
                    why.set(None);
                    session.sign_in_ephemeral(client);
                    host.send(&ConsoleMessage::Connected);
                    return;
                };
                let connected_as = session.client.get_untracked();
                // The key it holds, handed over again: it goes on as it was, unless it is
                // refused (revoked since), which no request of the hidden frame may find out
                // for a long while. The host hears that it is connected: a failure of the
                // check's own (a gateway's error, the network) says nothing of the key, and a
                // host told of an error would take the console for stopped.
                let refused = matches!(e, ApiError::Unauthenticated(_));
                if connected_as.as_ref() == Some(&client) && !refused {
                    checking.set_value(false);
                    host.host_origin.set(Some(origin.clone()));
                    host.send(&ConsoleMessage::Connected);
                    return;
                }
                let again_in = crate::api::retry::recheck_ms(&e, rechecks, js_sys::Math::random());
                // The host page, as the operator, is told what they can act on: the page
                // holds the key, and "enter it again" is not theirs to do.
                let said = if refused {
                    KEY_REFUSED.to_owned()
                } else {
                    e.user_message()
                };
                let why_now = match again_in {
                    Some(_) => format!("{said} Trying again by itself."),
                    None => said.clone(),
                };
                if why.with_untracked(|w| w.as_ref() != Some(&why_now)) {
                    why.set(Some(why_now));
                }
                // Once for a run of the same failure, not at each check tried again; again for
                // another (the key refused at last, say), which the host can act on.
                let kind = Some(std::mem::discriminant(&e));
                if told != kind {
                    told = kind;
                    host.host_origin.set(Some(origin.clone()));
                    host.send(&ConsoleMessage::Error {
                        message: said.clone(),
                    });
                }
                // The host has moved on from the key before (another operator signed in to the
                // tool, say): that one does not go on acting for it, whatever became of the new
                // one.
                if connected_as.is_some() {
                    session.sign_out(Some(said));
                }
                let Some(again_in) = again_in else {
                    checking.set_value(false);
                    return;
                };
                rechecks += 1;
                // Sooner once the device is back online: the network was the likely cause.
                let offline = !crate::state::browser::is_online();
                let until = js_sys::Date::now() + f64::from(again_in);
                let online_again = || offline && crate::state::browser::is_online();
                if !crate::api::retry::wait_while(until, &wanted, &online_again).await {
                    return;
                }
            }
        });
    });
    on_cleanup(move || listener.remove());
    host.send(&match framed_by_stranger.get_value() {
        Some(message) => ConsoleMessage::Error { message },
        None => ConsoleMessage::Ready { version: 1 },
    });

    // The host sizes the iframe to the content.
    crate::components::observe::on_resize(root, move |el| {
        host.send(&ConsoleMessage::Height {
            height: el.scroll_height(),
        })
    });

    // Which key the console is connected with: a memo, so the screens are rebuilt only when
    // it changes. A new key from the host (rotated, another workspace) starts them afresh:
    // the old key's rows, cursors and stream are not carried over to it.
    let workspace = Memo::new(move |_| session.client.with(|c| c.as_ref().map(Client::workspace)));
    let connected = Memo::new(move |_| workspace.with(Option::is_some));
    // The session ended (the API refused the key): the host hears why, and may hand over
    // another key; it would otherwise wait for news of a console that waits for it.
    let mut was_connected = false;
    crate::state::effect(move || {
        let now = connected.get();
        // (Not when a new key's failed check ended it: that has said why already.)
        // (Only a refused key ends an embedded session without the operator.)
        let refused = session.notice.with_untracked(Option::is_some);
        if std::mem::replace(&mut was_connected, now)
            && !now
            && why.with_untracked(Option::is_none)
            && !(refused && checking.get_value())
        {
            why.set(Some(
                if refused { KEY_REFUSED } else { "Signed out." }.to_owned(),
            ));
            let message = if refused {
                KEY_REFUSED
            } else {
                "The console was disconnected: connect it again."
            };
            host.send(&ConsoleMessage::Error {
                message: message.to_owned(),
            });
        }
    });
    // Why the console waits, said through the page's live region: the waiting screen is built
    // with its text in it (the screens rebuilt), and a live region made with its text is not
    // read out. (After the effects of the session's end have run, which empty that region.)
    let announcer = crate::components::announcer::use_announcer();
    crate::state::effect(move || {
        if let Some(why) = why.get() {
            set_timeout(move || announcer.announce(why), std::time::Duration::ZERO);
        }
    });
    view! {
        <div class="embed" node_ref=root>
            <h1 class="visually-hidden">"Voicebip conversations"</h1>
            <span id="embed-rejected" class="visually-hidden" aria-hidden="true" data-count=move || host.rejected.get()>
                {move || format!("{} messages from other origins ignored", host.rejected.get())}
            </span>
            {move || {
                // The screens rebuilt (a key refused mid-work, a new one handed over): the
                // control that had the focus is gone with them, and the keyboard goes on at the
                // new screen, not at the page's start.
                if crate::components::focus::focus_within(".embed") {
                    crate::components::focus::refocus_if_lost(vec!["#main".into()]);
                }
                if workspace.with(Option::is_some) {
                    return children().into_any();
                }
                // Configured for no host page, it would wait for good: it says so, for whoever
                // is setting the embedding up.
                let waiting = match (host.allows_none(), framed_by_stranger.get_value()) {
                    (true, _) => "No host page can connect this console: config.json's \
                                  embed_allowed_origins lists none it accepts."
                        .to_owned(),
                    (false, Some(stranger)) => stranger,
                    (false, None) => "Waiting for the host page to connect this console…".to_owned(),
                };
                // (A key being checked is not waited for: it is here.)
                let checking_key = move || why.with(|w| w.as_deref() == Some(CHECKING));
                view! {
                    <p id="embed-waiting" class="centered">
                        {move || why.get().map(|why| format!("{why} "))}
                        {move || (!checking_key()).then(|| waiting.clone())}
                    </p>
                }.into_any()
            }}
        </div>
    }
}
