//! One `EventSource` per open thread, authenticated with `?token=` (browsers cannot set headers on
//! it). On failure it reconnects with capped, jittered backoff and asks the page to refetch the
//! newest messages, since the stream promises no replay. Dropping the handle closes it.

use super::frame_batch::FrameBatch;
use super::status::LinkState;
use crate::api::retry::{
    jittered_ms, next_attempt, next_unopened, StreamRefusal, BILLING_RECHECK_SECS,
    LONGEST_WAIT_SECS,
};
use crate::api::ApiError;
use crate::model::events::{decode_named, Skipped, StreamEvent};
use crate::model::ConversationId;
use crate::state::browser::{is_hidden, is_online};
use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent, RequestMode};

/// What the stream reports to the page.
pub struct Handlers {
    /// Decoded events, delivered in batches (one per frame, see [`FrameBatch`]) so that a burst
    /// costs one update of the thread per frame rather than one per event.
    pub on_events: Box<dyn Fn(Vec<StreamEvent>)>,
    /// The stream (re)opened: fetch the newest page and merge it to fill any gap.
    pub on_open: Box<dyn Fn()>,
    pub on_skipped: Box<dyn Fn(Skipped)>,
    /// The stream refused the key and has stopped. The page asks the rest of the API before
    /// ending the session: a gateway may refuse `?token=` alone.
    pub on_unauthorized: Box<dyn Fn()>,
    /// A try failed in a way the rest of the API may well not share: the endpoint answered so
    /// that the page may not read it (without CORS headers: a gateway's refusal, say, so the
    /// stream cannot tell why it fails), or with a server error, or with a page that is not a
    /// stream, or not at all within [`OPEN_WITHIN_MS`], or could not be reached (refused, reset,
    /// before it opened). It keeps trying, and says so at each try; the page refreshes the thread the
    /// usual way meanwhile (which also asks about the key), or it would stand still for as
    /// long as the stream fails.
    pub on_failed_try: Box<dyn Fn()>,
    pub on_state: Box<dyn Fn(LinkState)>,
}

type Listener = Closure<dyn FnMut(web_sys::Event)>;

struct SourceCallbacks {
    _open: Listener,
    /// Also listens for [`NAMED_EVENTS`].
    message: Listener,
    _error: Listener,
}

struct Inner {
    url: String,
    id: ConversationId,
    handlers: Rc<Handlers>,
    source: Option<EventSource>,
    // Kept alive as long as the source uses them.
    callbacks: Option<SourceCallbacks>,
    window_callbacks: Vec<(&'static str, Listener)>,
    retry: Option<Timeout>,
    /// Events waiting for the next frame.
    batch: FrameBatch<StreamEvent>,
    countdown: Option<gloo_timers::callback::Interval>,
    attempt: u32,
    /// Tries in a row that brought nothing, for [`jittered_ms`].
    unopened: u32,
    /// The stream open now has brought an event it could read.
    brought: bool,
    /// When the current stream opened, for [`next_attempt`].
    opened_at: Option<f64>,
    /// Counts [`open`]s: a probe answering after the stream was opened again (coming back
    /// online) is about a source that is gone, and must not tear down the new one.
    generation: u32,
    /// When the stream last opened or brought a frame, and when it was last asked to open, for
    /// [`watch_silence`].
    heard_at: f64,
    opening_since: f64,
    watchdog: Option<gloo_timers::callback::Interval>,
    closed: bool,
    /// The stream's answers could not be read (no CORS headers) since it last opened or
    /// answered readably: an answer hidden again is not asked about again without CORS.
    unreadable: bool,
    /// What the indicator says while the stream is opened again, until it is live: the words of
    /// the wait before (a rate limit's, billing's, a lost connection's), so that an outage is
    /// said once, however many attempts it takes (the indicator is a live region).
    down_as: LinkState,
    /// The end of the last wait the server asked for (a rate limit's, billing's), which going
    /// offline and back does not cut short (`watch_network`).
    held_until: Option<(f64, Hold)>,
}

/// Closes the stream when dropped.
pub struct StreamHandle(Rc<RefCell<Inner>>);

impl StreamHandle {
    pub fn close(&self) {
        let window_callbacks = {
            let mut inner = self.0.borrow_mut();
            inner.halt();
            inner.batch.clear();
            std::mem::take(&mut inner.window_callbacks)
        };
        if let Some(w) = web_sys::window() {
            for (name, cb) in &window_callbacks {
                let _ = w.remove_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
            }
        }
    }
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        self.close();
    }
}

impl Inner {
    /// Stopped for good: no source, and no reconnect or countdown left to run.
    fn halt(&mut self) {
        self.closed = true;
        self.shutdown_source();
        self.retry = None;
        self.countdown = None;
        self.watchdog = None;
    }

    fn shutdown_source(&mut self) {
        if let Some(es) = self.source.take() {
            es.set_onopen(None);
            es.set_onmessage(None);
            es.set_onerror(None);
            if let Some(callbacks) = &self.callbacks {
                for name in NAMED_EVENTS {
                    let _ = es.remove_event_listener_with_callback(
                        name,
                        callbacks.message.as_ref().unchecked_ref(),
                    );
                }
            }
            es.close();
        }
        // One of these closures may be running right now (closing from inside a handler):
        // dropping it mid-call is an error, so drop them after the current task.
        if let Some(callbacks) = self.callbacks.take() {
            Timeout::new(0, move || drop(callbacks)).forget();
        }
    }

    /// Open, or opening, with no reconnect waiting.
    fn is_live(&self) -> bool {
        self.source.is_some() && self.retry.is_none()
    }

    fn handlers(inner: &Rc<RefCell<Inner>>) -> Rc<Handlers> {
        // Handlers run without a borrow held: they may close this very stream.
        inner.borrow().handlers.clone()
    }
}

pub fn follow(url: String, id: ConversationId, handlers: Handlers) -> StreamHandle {
    let inner = Rc::new_cyclic(|weak: &Weak<RefCell<Inner>>| {
        let weak = weak.clone();
        RefCell::new(Inner {
            url,
            id,
            handlers: Rc::new(handlers),
            source: None,
            callbacks: None,
            window_callbacks: Vec::new(),
            retry: None,
            batch: FrameBatch::new(move |events| {
                let Some(inner) = weak.upgrade() else { return };
                if !inner.borrow().closed {
                    (Inner::handlers(&inner).on_events)(events);
                }
            }),
            countdown: None,
            attempt: 0,
            unopened: 0,
            brought: false,
            opened_at: None,
            unreadable: false,
            down_as: LinkState::Reconnecting { in_secs: 0 },
            held_until: None,
            generation: 0,
            heard_at: 0.0,
            opening_since: 0.0,
            watchdog: None,
            closed: false,
        })
    });
    watch_network(&inner);
    watch_silence(&inner);
    if is_online() {
        open(&inner, LinkState::Connecting);
    } else {
        (Inner::handlers(&inner).on_state)(LinkState::Offline);
    }
    StreamHandle(inner)
}

/// Opens the stream at once, not after the backoff, which starts over: nothing was known to
/// fail (the network came back, the tab was shown again, a silent stream is renewed).
fn open_afresh(inner: &Rc<RefCell<Inner>>, meanwhile: LinkState) {
    {
        let mut me = inner.borrow_mut();
        me.attempt = 0;
        me.unopened = 0;
        // (No wait before it: a failure is a lost connection's, not an earlier wait's.)
        me.down_as = LinkState::Reconnecting { in_secs: 0 };
    }
    open(inner, meanwhile);
}

/// Opens the stream afresh, showing `meanwhile` until it is live.
fn open(inner: &Rc<RefCell<Inner>>, meanwhile: LinkState) {
    let url = {
        let mut me = inner.borrow_mut();
        if me.closed {
            return;
        }
        me.shutdown_source();
        me.retry = None;
        me.countdown = None;
        me.opened_at = None;
        me.opening_since = js_sys::Date::now();
        me.generation = me.generation.wrapping_add(1);
        me.url.clone()
    };
    (Inner::handlers(inner).on_state)(meanwhile);
    let Ok(es) = EventSource::new(&url) else {
        schedule_reconnect(inner, None);
        return;
    };

    let weak = Rc::downgrade(inner);
    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        let Some(inner) = weak.upgrade() else { return };
        {
            let mut me = inner.borrow_mut();
            let now = js_sys::Date::now();
            me.opened_at = Some(now);
            me.heard_at = now;
            me.brought = false;
            me.unreadable = false;
            me.down_as = LinkState::Reconnecting { in_secs: 0 };
        }
        let h = Inner::handlers(&inner);
        (h.on_state)(LinkState::Live);
        (h.on_open)();
    });
    let weak = Rc::downgrade(inner);
    let on_message = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let Some(inner) = weak.upgrade() else { return };
        inner.borrow_mut().heard_at = js_sys::Date::now();
        let Some(data) = ev
            .dyn_ref::<MessageEvent>()
            .and_then(|m| m.data().as_string())
        else {
            return;
        };
        // A frame an `event:` line named (not `onmessage`'s "message") is of that type.
        let name = ev.type_();
        let named = (name != "message").then_some(name.as_str());
        let decoded = decode_named(&data, named, &inner.borrow().id);
        match decoded {
            Ok(event) => {
                inner.borrow_mut().brought = true;
                inner.borrow().batch.push(event)
            }
            Err(skipped) => (Inner::handlers(&inner).on_skipped)(skipped),
        }
    });
    let weak = Rc::downgrade(inner);
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let Some(inner) = weak.upgrade() else { return };
        // An `event: error` frame from the server carries data; a connection failure does not.
        let frame = ev
            .dyn_ref::<MessageEvent>()
            .and_then(|m| m.data().as_string());
        // (One that cannot be read is taken as the connection's end: the backoff.)
        let refusal = frame
            .as_deref()
            .and_then(error_code)
            .map(|code| StreamRefusal::of_code(&code));
        if let Some(refusal) = refusal.filter(|r| *r != StreamRefusal::Transient) {
            inner.borrow_mut().shutdown_source();
            refused(&inner, refusal, None);
            return;
        }
        let closed_for_good = inner
            .borrow()
            .source
            .as_ref()
            .is_some_and(|es| es.ready_state() == EventSource::CLOSED);
        inner.borrow_mut().shutdown_source();
        if closed_for_good {
            // The browser gave up (an HTTP error status, which EventSource hides): ask the same URL
            // what the status was, so a refused key ends the session, and an unknown
            // conversation stops the stream, instead of retrying forever. Not live meanwhile
            // (the probe may take a minute): after a renewal, the state still said so.
            let down_as = inner.borrow().down_as;
            (Inner::handlers(&inner).on_state)(down_as);
            probe_then_reconnect(inner);
        } else {
            // Failed before it opened, at the network's level (refused, reset: the browser
            // leaves such a source connecting): the thread is refreshed meanwhile, as for a
            // status a probe found passing. (A stream host down while the API answers brought
            // nothing, the indicator saying so, until it came back.)
            let unopened = inner.borrow().opened_at.is_none();
            schedule_reconnect(&inner, None);
            if unopened && is_online() {
                (Inner::handlers(&inner).on_failed_try)();
            }
        }
    });

    es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    es.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    // Named `error` frames arrive as events of type "error" too, via the same handler.
    // A frame named for its event type (`event: message.received`, as a gateway or a later
    // server may write) reaches no `onmessage`: the same handler reads it, with its name for
    // its type where its data leaves the type out.
    for name in NAMED_EVENTS {
        let _ = es.add_event_listener_with_callback(name, on_message.as_ref().unchecked_ref());
    }
    let mut me = inner.borrow_mut();
    me.callbacks = Some(SourceCallbacks {
        _open: on_open,
        message: on_message,
        _error: on_error,
    });
    me.source = Some(es);
}

/// The event types API.md names, as a frame's `event:` line may name them.
const NAMED_EVENTS: [&str; 7] = [
    "message.received",
    "message.sent",
    "message.delivered",
    "message.read",
    "message.failed",
    "conversation.mode_changed",
    "window.closing",
];

/// A terminal frame's `error_code`: at the top, as API.md's error body has it, or one level
/// down (`{"error": {"error_code": …}}`), as a gateway may wrap it; read as a dropped stream,
/// a refusal for good was asked again without end.
fn error_code(data: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Code {
        #[serde(default, deserialize_with = "crate::model::readable::code")]
        error_code: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Wrapped {
        error: Code,
    }
    // (Read apart: an `error` of another shape beside a top-level code must not hide it.)
    let code = |data| {
        serde_json::from_str::<Code>(data)
            .ok()
            .and_then(|c| c.error_code)
    };
    code(data).or_else(|| {
        serde_json::from_str::<Wrapped>(data)
            .ok()
            .and_then(|w| w.error.error_code)
    })
}

/// What a refusal leads to; `retry_after`: the answer's header, for the rate limit.
fn refused(inner: &Rc<RefCell<Inner>>, refusal: StreamRefusal, retry_after: Option<&str>) {
    match refusal {
        StreamRefusal::Unauthenticated => unauthorized(inner),
        StreamRefusal::Final => stop(inner),
        StreamRefusal::Billing => schedule_reconnect(inner, Some(Hold::Billing)),
        // Over the workspace's rate limit: not before the server says (the workspace's other
        // requests share that budget; a frame, which says no time, as a header without one).
        StreamRefusal::RateLimited => {
            let wait = match ApiError::from_response(429, retry_after, "") {
                ApiError::RateLimited { retry_after_secs } => retry_after_secs,
                _ => 0,
            };
            // (At most `LONGEST_WAIT_SECS`.)
            let ms = wait.min(LONGEST_WAIT_SECS) * 1000;
            schedule_reconnect(inner, Some(Hold::RateLimit { ms }))
        }
        StreamRefusal::Transient => schedule_reconnect(inner, None),
    }
}

/// Stops for good, and says so: retrying an unknown conversation every few seconds would only
/// spend the workspace's shared rate limit.
fn stop(inner: &Rc<RefCell<Inner>>) {
    inner.borrow_mut().halt();
    (Inner::handlers(inner).on_state)(LinkState::Stopped);
}

fn unauthorized(inner: &Rc<RefCell<Inner>>) {
    inner.borrow_mut().halt();
    (Inner::handlers(inner).on_unauthorized)();
}

fn probe_then_reconnect(inner: Rc<RefCell<Inner>>) {
    let (url, generation) = {
        let me = inner.borrow();
        (me.url.clone(), me.generation)
    };
    let current = move |inner: &Rc<RefCell<Inner>>| {
        let me = inner.borrow();
        !me.closed && me.generation == generation
    };
    wasm_bindgen_futures::spawn_local(async move {
        let answer = ask(&url, RequestMode::Cors).await;
        if !current(&inner) {
            return;
        }
        // No answer to read: the network failed, or the answer came without CORS headers,
        // which the browser hides alike. A request that asks for no CORS tells them apart:
        // it gets an (opaque) answer if there was one. (Asked once: until the stream opens
        // or an answer can be read, the unreadable ones are taken as the same.)
        if answer.is_none() {
            let unreadable =
                inner.borrow().unreadable || ask(&url, RequestMode::NoCors).await.is_some();
            if !current(&inner) {
                return;
            }
            if unreadable {
                inner.borrow_mut().unreadable = true;
                (Inner::handlers(&inner).on_failed_try)();
            }
        } else {
            inner.borrow_mut().unreadable = false;
        }
        match answer {
            Some((status, retry_after)) => {
                let refusal = StreamRefusal::of_status(status);
                if refusal == StreamRefusal::Transient {
                    (Inner::handlers(&inner).on_failed_try)();
                }
                refused(&inner, refusal, retry_after.as_deref());
            }
            None => schedule_reconnect(&inner, None),
        }
    });
}

/// The status and `Retry-After` of `url`'s answer (0 and none when opaque, `mode` asking for
/// no CORS); `None` without one the page may have.
async fn ask(url: &str, mode: RequestMode) -> Option<(u16, Option<String>)> {
    let abort = web_sys::AbortController::new().ok();
    // Given up after 30 s unanswered: a probe that hung would leave the stream never
    // reconnected.
    let give_up = abort
        .clone()
        .map(|a| Timeout::new(30_000, move || a.abort()));
    // (Never from the cache: a refusal cached there, a 410 say, would answer every later probe;
    // and the URL holds the key.)
    let answer = gloo_net::http::Request::get(url)
        .mode(mode)
        .cache(web_sys::RequestCache::NoStore)
        .abort_signal(abort.as_ref().map(|a| a.signal()).as_ref())
        .send()
        .await
        .map(|r| (r.status(), r.headers().get("Retry-After")))
        .ok();
    drop(give_up);
    if let Some(a) = abort {
        // Only the status was wanted; don't hold a second stream open.
        a.abort();
    }
    answer
}

/// Reconnects after the backoff, and no sooner than `rate_limited_ms`, the wait a 429 asked
/// for, which the indicator names (the connection is fine; retrying sooner would only be
/// refused again).
/// A wait the server asked for, and how the indicator shows it.
#[derive(Clone, Copy)]
enum Hold {
    RateLimit { ms: u32 },
    Billing,
}

impl Hold {
    /// What the indicator says while waiting `in_secs` more on `hold` (none: a lost
    /// connection's backoff).
    fn state(hold: Option<Hold>, in_secs: u32) -> LinkState {
        match hold {
            Some(Hold::RateLimit { .. }) => LinkState::RateLimited { in_secs },
            Some(Hold::Billing) => LinkState::Billing { in_secs },
            None => LinkState::Reconnecting { in_secs },
        }
    }

    fn ms(self) -> u32 {
        match self {
            Hold::RateLimit { ms } => ms,
            Hold::Billing => BILLING_RECHECK_SECS * 1000,
        }
    }
}

fn schedule_reconnect(inner: &Rc<RefCell<Inner>>, hold: Option<Hold>) {
    if inner.borrow().closed {
        return;
    }
    if let Some(hold) = hold {
        inner.borrow_mut().held_until = Some((js_sys::Date::now() + f64::from(hold.ms()), hold));
    }
    if !is_online() {
        (Inner::handlers(inner).on_state)(LinkState::Offline);
        return;
    }
    let delay = {
        let mut me = inner.borrow_mut();
        let opened_at = me.opened_at.take();
        let open_for = opened_at.map(|at| js_sys::Date::now() - at);
        me.attempt = next_attempt(me.attempt, open_for);
        let brought = opened_at.is_some() && me.brought;
        me.unopened = next_unopened(me.unopened, open_for, brought);
        jittered_ms(me.attempt, me.unopened, js_sys::Math::random()).max(hold.map_or(0, Hold::ms))
    };
    reopen_after(inner, hold, delay);
}

/// Opens the stream again in `delay` ms, the indicator counting down the wait.
fn reopen_after(inner: &Rc<RefCell<Inner>>, hold: Option<Hold>, delay: u32) {
    inner.borrow_mut().down_as = Hold::state(hold, 0);
    let deadline = js_sys::Date::now() + delay as f64;
    let report = {
        let weak = Rc::downgrade(inner);
        move || {
            if let Some(inner) = weak.upgrade() {
                let left = ((deadline - js_sys::Date::now()) / 1000.0).ceil().max(0.0) as u32;
                (Inner::handlers(&inner).on_state)(Hold::state(hold, left));
            }
        }
    };
    report();
    let weak = Rc::downgrade(inner);
    let timeout = Timeout::new(delay, move || {
        if let Some(inner) = weak.upgrade() {
            // In the wait's words: each attempt of an outage was read out as news
            // ("Connecting…", then "lost" again).
            let down_as = inner.borrow().down_as;
            open(&inner, down_as);
        }
    });
    let mut me = inner.borrow_mut();
    me.countdown = Some(gloo_timers::callback::Interval::new(1000, report));
    me.retry = Some(timeout);
}

/// How long a tab is hidden before, shown again, its stream is opened afresh.
const RECHECK_AFTER_HIDDEN_MS: f64 = 60_000.0;

/// Going offline shows it at once; coming back online reconnects at once, without waiting for
/// the backoff, but not before the end of a wait the server asked for: the stream would only be
/// refused again, on the workspace's shared budget.
fn watch_network(inner: &Rc<RefCell<Inner>>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let weak = Rc::downgrade(inner);
    // A stream stopped for good (`stop`, `unauthorized`) stays stopped, and says so.
    let online = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        if let Some(inner) = weak.upgrade().filter(|i| !i.borrow().closed) {
            let now = js_sys::Date::now();
            let held = inner.borrow().held_until.filter(|(until, _)| *until > now);
            match held {
                Some((until, hold)) => reopen_after(&inner, Some(hold), (until - now) as u32),
                None => open_afresh(&inner, LinkState::Connecting),
            }
        }
    });
    let weak = Rc::downgrade(inner);
    let offline = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        if let Some(inner) = weak.upgrade().filter(|i| !i.borrow().closed) {
            {
                let mut me = inner.borrow_mut();
                me.shutdown_source();
                me.retry = None;
                me.countdown = None;
            }
            (Inner::handlers(&inner).on_state)(LinkState::Offline);
        }
    });
    // A connection can die without a word (a laptop asleep, a NAT that forgot it): the
    // browser's `EventSource` then waits on it, "Live", for as long as the system does. A tab
    // shown again after a while away reconnects, and its refetch brings what was missed.
    let weak = Rc::downgrade(inner);
    let hidden_since = std::cell::Cell::new(None::<f64>);
    let visibility = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        let Some(inner) = weak.upgrade().filter(|i| !i.borrow().closed) else {
            return;
        };
        let now = js_sys::Date::now();
        if is_hidden() {
            hidden_since.set(Some(now));
            return;
        }
        let away = hidden_since.take().map(|since| now - since);
        if inner.borrow().is_live()
            && is_online()
            && away.is_some_and(|ms| ms >= RECHECK_AFTER_HIDDEN_MS)
        {
            // A check, not a known drop, so shown as live (an operator back from another tool
            // would otherwise hear of an outage each time); what came meanwhile is the next
            // refetch's to bring in full all the same (`Renewing` is down).
            open_afresh(&inner, LinkState::Renewing);
        }
    });
    let callbacks = vec![
        ("online", online),
        ("offline", offline),
        // (Fired at the document; it reaches the window too.)
        ("visibilitychange", visibility),
    ];
    for (name, callback) in &callbacks {
        let _ = window.add_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
    }
    inner.borrow_mut().window_callbacks = callbacks;
}

/// How long a stream may bring nothing before it is opened afresh. The server's keepalives
/// (every 15 s) would tell a quiet stream from a dead one, but `EventSource` hides them: so a
/// tab kept in view all day, its connection dead without a word, would show "Live" and miss
/// every message. Opened afresh, its refetch brings what the dead one held back.
const RENEW_AFTER_SILENT_MS: f64 = 120_000.0;
/// How long a stream may take to open before it counts as failed. The browser would wait on it
/// as long as the connection lasts: a request on a dead connection, or held by a proxy, would
/// show "Connecting…" (or, renewing, "Live"; reconnecting, the outage's words) and bring nothing.
const OPEN_WITHIN_MS: f64 = 20_000.0;
const SILENCE_CHECK_EVERY_MS: u32 = 5_000;

/// Renews a stream silent for [`RENEW_AFTER_SILENT_MS`] while online, and gives one that has
/// not opened within [`OPEN_WITHIN_MS`] up as failed. A hidden tab too: it is where the
/// operator's notifications come from, which a dead stream would silence (one request every two
/// quiet minutes). Renewing is not news to the operator: the indicator stays "Live" unless the
/// new stream fails.
fn watch_silence(inner: &Rc<RefCell<Inner>>) {
    let weak = Rc::downgrade(inner);
    let check = gloo_timers::callback::Interval::new(SILENCE_CHECK_EVERY_MS, move || {
        let Some(inner) = weak.upgrade().filter(|i| !i.borrow().closed) else {
            return;
        };
        let now = js_sys::Date::now();
        let (opened, waited) = {
            let me = inner.borrow();
            if !me.is_live() {
                return;
            }
            match me.opened_at {
                Some(_) => (true, now - me.heard_at),
                None => (false, now - me.opening_since),
            }
        };
        if !opened && waited >= OPEN_WITHIN_MS {
            inner.borrow_mut().shutdown_source();
            // (Held by a proxy, say, while the rest of the API answers.)
            (Inner::handlers(&inner).on_failed_try)();
            schedule_reconnect(&inner, None);
        } else if opened && waited >= RENEW_AFTER_SILENT_MS && is_online() {
            open_afresh(&inner, LinkState::Renewing);
        }
    });
    inner.borrow_mut().watchdog = Some(check);
}

#[cfg(test)]
mod tests {
    use super::error_code;

    #[test]
    fn a_terminal_frames_code_is_read_at_the_top_or_one_level_down() {
        let code = |data| error_code(data);
        assert_eq!(
            code(r#"{"error_code":"NOT_FOUND","message":"no such conversation"}"#).as_deref(),
            Some("NOT_FOUND")
        );
        assert_eq!(
            code(r#"{"error":{"error_code":"QUOTA_EXCEEDED","message":"…"}}"#).as_deref(),
            Some("QUOTA_EXCEEDED")
        );
        assert_eq!(
            code(r#"{"error":"Not Found","error_code":"NOT_FOUND"}"#).as_deref(),
            Some("NOT_FOUND")
        );
        assert_eq!(code(r#"{"error":"bad"}"#), None);
        assert_eq!(code("not json"), None);
        assert_eq!(code(r#"{"error_code":401}"#).as_deref(), Some("401"));
    }
}
