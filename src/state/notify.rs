//! Optional desktop notification and sound for customer messages in conversations the operator
//! has taken over. Off by default; the browser's permission is asked for only after a click.

use super::storage::{self, Area};
use crate::model::{ConversationId, Message};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

const PREF_ITEM: &str = "voicebip.notify";

/// What a notification is of: its conversation, and the workspace it came in.
pub type Of = (ConversationId, String);

#[derive(Clone, Copy)]
pub struct Notifier {
    pub enabled: RwSignal<bool>,
    /// The browser refused the permission when asked (or had been told to): the button says
    /// so, rather than staying "off" as if the press had not been heard.
    pub blocked: RwSignal<bool>,
    /// The browser shows none from a page, whatever its permission (Chrome on Android shows
    /// them only from a service worker): found at the first one tried.
    pub unsupported: RwSignal<bool>,
    /// The notification last clicked: its conversation, and the workspace it came in, which the
    /// app opens while it is still the one signed in (the tab may show another conversation
    /// by then).
    pub clicked: RwSignal<Option<Of>>,
}

impl Notifier {
    pub fn new() -> Self {
        let stored = storage::get(Area::Local, PREF_ITEM).as_deref() == Some("on");
        let enabled = RwSignal::new(stored && permission_granted());
        let blocked = RwSignal::new(false);
        // Turned on or off in another tab: here too (one setting for the device), where this
        // one went on notifying, and its button said otherwise, until it was reloaded. (And
        // allowed there since this one was refused: no longer blocked here either.)
        let other_tab = window_event_listener(leptos::ev::storage, move |ev| {
            if ev.key().as_deref() == Some(PREF_ITEM) {
                let granted = permission_granted();
                enabled.set(ev.new_value().as_deref() == Some("on") && granted);
                if granted && blocked.get_untracked() {
                    blocked.set(false);
                }
            }
        });
        // (For the app's life, as the notifier's.)
        std::mem::forget(other_tab);
        let clicked = RwSignal::new(None);
        CLICKED.set(Some(clicked));
        Notifier {
            enabled,
            blocked,
            unsupported: RwSignal::new(false),
            clicked,
        }
    }

    /// Called from the toggle's click handler: the only place the permission prompt may appear.
    /// Whether notifications are on now.
    pub async fn toggle(&self) -> bool {
        if self.enabled.get_untracked() {
            self.enabled.set(false);
            storage::set(Area::Local, PREF_ITEM, "off");
            return false;
        }
        if self.unsupported.get_untracked() {
            return false;
        }
        let answer = match web_sys::Notification::request_permission() {
            Ok(promise) => JsFuture::from(promise)
                .await
                .ok()
                .and_then(|v| v.as_string()),
            // No way to ask at all (Safari's tabs on iPhone and iPad, in-app browsers): none
            // can be shown, where the button sent the operator to settings that do not exist.
            Err(_) => {
                self.unsupported.set(true);
                return false;
            }
        };
        let granted = answer.as_deref() == Some("granted");
        self.enabled.set(granted);
        // A prompt closed unanswered ("default") is asked again at the next press, where the
        // browser's settings are no concern of the operator's. Anything else not granted (a
        // refusal, or a browser with no way to ask) blocks.
        self.blocked
            .set(!granted && answer.as_deref() != Some("default"));
        storage::set(Area::Local, PREF_ITEM, if granted { "on" } else { "off" });
        granted
    }

    /// A customer wrote (`message`, in `conversation` of `workspace`, which this operator
    /// answers): notified once on the device, whichever of its tabs show the conversation, and
    /// not while the operator is looking at one of them, which shows (and reads out) the
    /// message itself. A click on the notification brings the console's tab forward, on the
    /// conversation.
    pub fn inbound(
        &self,
        conversation: &ConversationId,
        workspace: String,
        message: &Message,
        from: &str,
        body: &str,
    ) {
        // (Not in a frame, which offers no way to turn them off: the host page's to tell.)
        if !self.enabled.get_untracked() || super::embed::is_embedded() {
            return;
        }
        let notifier = *self;
        let session = ENDS.get();
        let (from, body) = (from.to_owned(), body.to_owned());
        let shown_for = (conversation.clone(), workspace);
        let entry = format!("{conversation} {}", message.message_id);
        // Looked at (or off) by the time the message is claimed: claimed, not shown.
        let claim = move || {
            once_on_the_device(entry, move || {
                // (Not once the session has ended meanwhile: its notifications are gone.)
                let shown_here = notifier.enabled.try_get_untracked() == Some(true)
                    && !super::browser::is_looked_at()
                    && ENDS.get() == session;
                if shown_here {
                    notifier.notify(shown_for, &from, &body)
                }
            })
        };
        // The tab looked at claims the message first: the others, hearing of it as it does,
        // give it that moment.
        if super::browser::is_looked_at() {
            claim();
        } else {
            set_timeout(claim, std::time::Duration::from_millis(LOOKED_AT_FIRST_MS));
        }
    }

    fn notify(&self, (conversation, workspace): Of, from: &str, body: &str) {
        // Taken back in the browser's settings during the shift: the button says so, where it
        // went on saying "on" over a tone alone.
        if !permission_granted() {
            self.off_for_the_browser(
                web_sys::Notification::permission() == web_sys::NotificationPermission::Denied,
            );
            return;
        }
        let options = web_sys::NotificationOptions::new();
        options.set_body(body);
        // One notification per conversation on screen, and each new message in it shown
        // again: without `renotify` it took the old one's place unseen. (Its id, never empty:
        // `renotify` with an empty tag throws, which read as a browser that shows none.)
        options.set_tag(conversation.as_str());
        options.set_renotify(true);
        let title = match from.trim() {
            "" => "Message from a customer".to_owned(),
            from => format!("Message from {from}"),
        };
        match web_sys::Notification::new_with_options(&title, &options) {
            Ok(shown) => {
                ON_CLICK
                    .with(|on_click| shown.set_onclick(Some(on_click.as_ref().unchecked_ref())));
                SHOWN.with_borrow_mut(|all| {
                    // (The one it replaces on screen, by its tag, is gone.)
                    all.retain(|(_, c, _)| *c != conversation);
                    all.push((shown, conversation, workspace));
                    let over = all.len().saturating_sub(SHOWN_KEPT);
                    all.drain(..over);
                });
            }
            // A browser that shows them only from a service worker (Chrome on Android): none
            // can be shown, whatever the permission says, and asking again would not change it.
            Err(_) => {
                self.enabled.set(false);
                self.unsupported.set(true);
                storage::set(Area::Local, PREF_ITEM, "off");
            }
        }
        beep();
    }

    /// The browser no longer lets notifications through: off, and `blocked` when pressing
    /// again would not ask (a permission reset to "ask" is asked again).
    fn off_for_the_browser(&self, blocked: bool) {
        self.enabled.set(false);
        self.blocked.set(blocked);
    }
}

impl Default for Notifier {
    fn default() -> Self {
        Self::new()
    }
}

/// The messages last claimed on the device (`conversation message` a line, newest last): by
/// their ids, as times may be equal (whole seconds) or come out of order, and a tab that had
/// none from the stream guesses one.
const NOTIFIED_ITEM: &str = "voicebip.notified";
/// Enough for the messages every open tab may still hear of (a refresh's, a slow reconnect's).
const NOTIFIED_KEPT: usize = 50;
/// The name of the lock the record is read and written under.
const NOTIFIED_LOCK: &str = "voicebip.notified.lock";
/// How long a tab waits for the lock (one frozen holding it would hold up every other).
const LOCK_WAIT_MS: u32 = 2_000;

/// `entry` added to the record `kept`, unless it is there: the record then, or `None`.
fn claimed(kept: &str, entry: &str) -> Option<String> {
    if kept.lines().any(|l| l == entry) {
        return None;
    }
    let mut lines: Vec<&str> = kept.lines().collect();
    lines.push(entry);
    let from = lines.len().saturating_sub(NOTIFIED_KEPT);
    Some(lines[from..].join("\n"))
}

/// Runs `show` for `entry` (a conversation's message) unless a tab of the device has claimed
/// it already ([`NOTIFIED_ITEM`]): every tab showing the conversation hears of it, at its own
/// time (a stream's, a refresh's). The record is read and written under a Web Lock, which the
/// origin's tabs and frames share and take in turn; without Web Locks (an older browser, a
/// page not served over https), or when the lock is refused or not had in time, it is read
/// and written all the same.
fn once_on_the_device(entry: String, show: impl FnOnce() + 'static) {
    use js_sys::{Function, Object, Reflect};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsValue;
    let claim = std::rc::Rc::new(std::cell::Cell::new(Some(Box::new(move || {
        let kept = storage::get(Area::Local, NOTIFIED_ITEM).unwrap_or_default();
        if let Some(record) = claimed(&kept, &entry) {
            storage::set(Area::Local, NOTIFIED_ITEM, &record);
            show();
        }
    }) as Box<dyn FnOnce()>)));
    let run = {
        let claim = claim.clone();
        move || {
            if let Some(claim) = claim.take() {
                claim();
            }
        }
    };
    let locks = web_sys::window()
        .and_then(|w| Reflect::get(&w.navigator(), &"locks".into()).ok())
        .filter(JsValue::is_object);
    let request = locks
        .as_ref()
        .and_then(|l| Reflect::get(l, &"request".into()).ok())
        .and_then(|r| r.dyn_into::<Function>().ok());
    let (Some(locks), Some(request)) = (locks, request) else {
        return run();
    };
    let held = {
        let run = run.clone();
        // (Called once the lock is this tab's, which frees it; it is let go as it returns.)
        Closure::once_into_js(move |_lock: JsValue| run())
    };
    let options = Object::new();
    let wait = web_sys::AbortSignal::timeout_with_u32(LOCK_WAIT_MS);
    let _ = Reflect::set(&options, &"signal".into(), &wait);
    let name = JsValue::from(NOTIFIED_LOCK);
    match request.call3(&locks, &name, &options, &held) {
        Ok(asked) => leptos::task::spawn_local(async move {
            if JsFuture::from(js_sys::Promise::from(asked)).await.is_err() {
                run();
            }
        }),
        Err(_) => run(),
    }
}

/// How long a tab not looked at waits before claiming a message, for the one looked at.
const LOOKED_AT_FIRST_MS: u64 = 500;

fn permission_granted() -> bool {
    web_sys::Notification::permission() == web_sys::NotificationPermission::Granted
}

/// Enough for every conversation an operator answers at once.
const SHOWN_KEPT: usize = 20;

thread_local! {
    /// A notification's click: the console's tab comes forward, on its conversation, and the
    /// notification goes. One handler for the page's life (one made per notification lived
    /// until clicked, which most never are).
    static ON_CLICK: wasm_bindgen::closure::Closure<dyn Fn(web_sys::Event)> =
        wasm_bindgen::closure::Closure::new(|ev: web_sys::Event| {
            if let Some(w) = web_sys::window() {
                let _ = w.focus();
            }
            let Some(clicked) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Notification>().ok())
            else {
                return;
            };
            clicked.close();
            let of = SHOWN.with_borrow_mut(|all| {
                let i = all.iter().position(|(n, _, _)| js_sys::Object::is(n, &clicked))?;
                let (_, conversation, workspace) = all.remove(i);
                Some((conversation, workspace))
            });
            if let Some(of) = of {
                CLICKED.with(|c| c.get().map(|c| c.try_set(Some(of))));
            }
        });

    /// The notifications shown, with their conversation and workspace, newest last (one per
    /// conversation, as on screen): what a click opens, and what the session's end takes away
    /// ([`close_all`]).
    static SHOWN: std::cell::RefCell<Vec<(web_sys::Notification, ConversationId, String)>> =
        const { std::cell::RefCell::new(Vec::new()) };
    /// Counts the sessions ended ([`close_all`]): a message claimed after its session ended
    /// (it waits for the tab looked at, and for the lock) is not shown.
    static ENDS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// The page's [`Notifier::clicked`], for the click handler.
    static CLICKED: std::cell::Cell<Option<RwSignal<Option<Of>>>> =
        const { std::cell::Cell::new(None) };

    /// One audio context for the page's life: each holds an audio stream of the browser's, and
    /// one made per message (never closed) piled up over a shift.
    static AUDIO: Option<web_sys::AudioContext> = web_sys::AudioContext::new().ok();
}

/// The session has ended: its notifications go too, where a customer's words stayed on the
/// device's screen after a sign-out, and a click opened the connect screen.
pub fn close_all() {
    ENDS.set(ENDS.get() + 1);
    for (shown, _, _) in SHOWN.take() {
        shown.close();
    }
}

/// A short, quiet tone; no audio file to ship.
fn beep() {
    let Some(ctx) = AUDIO.with(Clone::clone) else {
        return;
    };
    // Suspended until the page has had a user gesture (made before one, say).
    let _ = ctx.resume();
    let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else {
        return;
    };
    gain.gain().set_value(0.05);
    let _ = osc.connect_with_audio_node(&gain);
    let _ = gain.connect_with_audio_node(&ctx.destination());
    osc.frequency().set_value(880.0);
    let now = ctx.current_time();
    let _ = osc.start_with_when(now);
    let _ = osc.stop_with_when(now + 0.15);
}

pub fn use_notifier() -> Notifier {
    expect_context::<Notifier>()
}

#[component]
pub fn NotifyToggle() -> impl IntoView {
    let notifier = use_notifier();
    let announcer = crate::components::announcer::use_announcer();
    let on_click = move |_| {
        leptos::task::spawn_local(async move {
            let was_on = notifier.enabled.get_untracked();
            if !notifier.toggle().await && !was_on {
                announcer.announce(if notifier.unsupported.get_untracked() {
                    UNSUPPORTED
                } else if notifier.blocked.get_untracked() {
                    BLOCKED
                } else {
                    NOT_ALLOWED_YET
                });
            }
        })
    };
    view! {
        <button
            type="button"
            id="notify-toggle"
            aria-pressed=move || notifier.enabled.get().to_string()
            title=move || {
                if notifier.unsupported.get() {
                    Some(UNSUPPORTED)
                } else {
                    notifier.blocked.get().then_some(BLOCKED)
                }
            }
            on:click=on_click
        >
            "Notifications"
            // Shown for the eye; a screen reader hears the state from aria-pressed (and why
            // from the title) under a name that stays the same, as a toggle's should.
            <span aria-hidden="true">
                {move || match (notifier.enabled.get(), notifier.blocked.get()) {
                    (true, _) => ": on",
                    _ if notifier.unsupported.get() => ": unavailable",
                    (false, true) => ": blocked",
                    (false, false) => ": off",
                }}
            </span>
        </button>
    }
}

const BLOCKED: &str =
    "Notifications are blocked by the browser: allow them for this site in its settings.";
const UNSUPPORTED: &str =
    "This browser shows no notifications from a web page: new messages are only read out and shown in the list.";
const NOT_ALLOWED_YET: &str =
    "Notifications stay off: the browser's question was not answered. Press again to be asked.";

#[cfg(test)]
mod tests {
    use super::{claimed, NOTIFIED_KEPT};

    #[test]
    fn a_message_is_claimed_once_and_the_record_keeps_the_newest() {
        let first = claimed("", "conv_1 msg_1").expect("new");
        assert_eq!(first, "conv_1 msg_1");
        assert_eq!(claimed(&first, "conv_1 msg_1"), None, "claimed already");
        // Another message of the same time, or an older one heard later: its own.
        let second = claimed(&first, "conv_1 msg_0").expect("another message");
        assert_eq!(second, "conv_1 msg_1\nconv_1 msg_0");
        let mut kept = String::new();
        for n in 0..NOTIFIED_KEPT + 10 {
            kept = claimed(&kept, &format!("conv_2 msg_{n}")).expect("new");
        }
        assert_eq!(kept.lines().count(), NOTIFIED_KEPT);
        assert!(kept.ends_with(&format!("msg_{}", NOTIFIED_KEPT + 9)));
        assert!(claimed(&kept, "conv_2 msg_0").is_some(), "forgotten since");
    }
}
