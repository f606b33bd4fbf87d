//! Component tests: real components mounted in headless Chromium (wasm-bindgen-test), asserting
//! on the DOM they produce.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use voicebip_console::api::Client;
use voicebip_console::components::announcer::{Announcer, LiveRegion};
use voicebip_console::components::badges::{ModeBadge, WindowBadge};
use voicebip_console::components::clock::Clock;
use voicebip_console::components::composer::{Composer, TemplateDraft, TemplateForm};
use voicebip_console::components::handoff_bar::HandoffBar;
use voicebip_console::components::message_list::MessageList;
use voicebip_console::live::frame_batch::{FrameBatch, FALLBACK_MS};
use voicebip_console::model::handoff::{HandoffAction, Press};
use voicebip_console::model::thread::Thread;
use voicebip_console::model::{AiMode, Channel, Conversation};
use voicebip_console::state::drafts::{self, Shelf};
use voicebip_console::state::session::Session;
use voicebip_console::state::storage::Area;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts `view` in a fresh container with the app's shared context, returning the container.
fn mount<V: IntoView + 'static>(view: impl FnOnce() -> V + 'static) -> web_sys::HtmlElement {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("document");
    let container: web_sys::HtmlElement = document
        .create_element("div")
        .expect("div")
        .unchecked_into();
    document
        .body()
        .expect("body")
        .append_child(&container)
        .expect("append");
    let handle = leptos::mount::mount_to(container.clone(), move || {
        provide_context(Clock::start());
        provide_context(Announcer::new());
        view()
    });
    // Keep the view alive for the rest of the test run.
    handle.forget();
    container
}

async fn settle() {
    gloo_timers::future::TimeoutFuture::new(20).await;
}

fn text(root: &web_sys::HtmlElement, css: &str) -> String {
    root.query_selector(css)
        .expect("valid selector")
        .unwrap_or_else(|| panic!("{css} not found"))
        .text_content()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn mode_badge_follows_its_signal() {
    let mode = RwSignal::new(AiMode::Ai);
    let root = mount(move || view! { <ModeBadge mode=mode/> });
    assert_eq!(text(&root, ".ai-mode-badge"), "Answered by: AI");
    mode.set(AiMode::Human);
    settle().await;
    assert_eq!(text(&root, ".ai-mode-badge"), "Answered by: Human");
    // Closed is no one: not someone named "Closed" answering.
    mode.set(AiMode::Closed);
    settle().await;
    assert_eq!(text(&root, ".ai-mode-badge"), "Closed: no one answers");
    mode.set(AiMode::Human);
    settle().await;
    let badge = root
        .query_selector(".ai-mode-badge")
        .ok()
        .flatten()
        .expect("badge");
    assert_eq!(badge.get_attribute("data-mode").as_deref(), Some("human"));
}

/// Enter held down clicks the focused button at each repeat: on the Close question, which takes
/// the focus to its Cancel, that would withdraw the question as it is asked.
#[wasm_bindgen_test]
async fn enter_held_on_close_leaves_its_question_asked() {
    let confirming = RwSignal::new(false);
    // (Dispatched keys click nothing: whether a repeat would is its default, prevented or not.)
    let on_action = Callback::new(|_: (HandoffAction, Press)| {});
    let root = mount(move || {
        view! {
            <HandoffBar mode=Signal::stored(AiMode::Human) busy=Signal::stored(false)
                quiet=Signal::stored(false) on_action confirming/>
        }
    });
    let button = |css: &str| -> web_sys::HtmlElement {
        root.query_selector(css)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("{css} not found"))
            .unchecked_into()
    };
    button("#close-conversation").click();
    settle().await;
    let cancel = button("#confirm-close-no");
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("document");
    assert_eq!(document.active_element(), Some(cancel.clone().into()));
    let enter = |repeat: bool| {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key("Enter");
        init.set_repeat(repeat);
        init.set_bubbles(true);
        init.set_cancelable(true);
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event")
    };
    let repeated = enter(true);
    cancel.dispatch_event(&repeated).expect("dispatch");
    assert!(repeated.default_prevented(), "a repeat would click Cancel");
    // A press of its own still answers it.
    let pressed = enter(false);
    cancel.dispatch_event(&pressed).expect("dispatch");
    assert!(
        !pressed.default_prevented(),
        "Enter pressed anew clicks Cancel"
    );
}

fn key(kind: &str, shift: bool) -> web_sys::KeyboardEvent {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(kind);
    init.set_shift_key(shift);
    init.set_bubbles(true);
    init.set_cancelable(true);
    web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event")
}

#[wasm_bindgen_test]
async fn composer_explains_why_it_is_disabled_and_sends_on_enter() {
    let mode = RwSignal::new(AiMode::Ai);
    let draft = RwSignal::new(String::new());
    let sent = RwSignal::new(Vec::<String>::new());
    let root = mount(move || {
        view! {
            <Composer
                channel=Channel::Sms
                mode=mode
                opt_out=Signal::stored(false)
                expires_at=Signal::stored(None)
                draft=draft
                template_draft=TemplateDraft::default()
                on_send=Callback::new(move |t: String| sent.update(|s| s.push(t)))
                on_template=Callback::new(|_: TemplateForm| {})
            />
        }
    });
    assert!(text(&root, "#composer-disabled-reason").contains("Take over"));
    let textarea: web_sys::HtmlTextAreaElement = root
        .query_selector("#composer-text")
        .ok()
        .flatten()
        .expect("textarea")
        .unchecked_into();
    assert!(textarea.read_only(), "read-only, its text still selectable");

    mode.set(AiMode::Human);
    draft.set("hello".into());
    settle().await;
    assert!(root
        .query_selector("#composer-disabled-reason")
        .ok()
        .flatten()
        .is_none());
    assert!(!textarea.read_only());
    // What the box says of itself names every element it points to, and says that Enter sends.
    let described = textarea
        .get_attribute("aria-describedby")
        .unwrap_or_default();
    let said: Vec<String> = described
        .split_whitespace()
        .map(|id| text(&root, &format!("#{id}")))
        .collect();
    assert!(
        said.iter().any(|t| t.contains("Enter sends")),
        "{described}: {said:?}"
    );
    assert_eq!(
        text(&root, "#segment-counter"),
        "GSM-7 · 1 segment · 155 left"
    );

    textarea
        .dispatch_event(&key("Enter", true))
        .expect("dispatch");
    settle().await;
    assert!(sent.get_untracked().is_empty(), "Shift+Enter must not send");
    // The Enter that confirms an input method's word, as Safari sends it (after the
    // composition's end, so not marked composing): keyCode 229.
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_key_code(229);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let ime =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    assert_eq!(ime.key_code(), 229, "the browser keeps the keyCode given");
    textarea.dispatch_event(&ime).expect("dispatch");
    settle().await;
    assert!(
        sent.get_untracked().is_empty(),
        "confirming a word must not send"
    );
    textarea
        .dispatch_event(&key("Enter", false))
        .expect("dispatch");
    settle().await;
    assert_eq!(sent.get_untracked(), vec!["hello".to_owned()]);

    // On Send, the box emptied (by a send from another tab): Send says it has nothing to send,
    // and keeps the focus, which a disabled button dropped to the page's start.
    let send: web_sys::HtmlButtonElement = root
        .query_selector("#composer-send")
        .ok()
        .flatten()
        .expect("send")
        .unchecked_into();
    send.focus().expect("focus");
    draft.set(String::new());
    settle().await;
    assert_eq!(send.get_attribute("aria-disabled").as_deref(), Some("true"));
    let document = web_sys::window().and_then(|w| w.document()).expect("doc");
    assert_eq!(
        document.active_element().map(|e| e.id()).as_deref(),
        Some("composer-send")
    );
    send.click();
    settle().await;
    assert_eq!(sent.get_untracked().len(), 1, "nothing sent");
}

fn type_into(root: &web_sys::HtmlElement, css: &str, value: &str) {
    let input: web_sys::HtmlInputElement = root
        .query_selector(css)
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{css} not found"))
        .unchecked_into();
    input.set_value(value);
    let event = web_sys::Event::new_with_event_init_dict("input", &{
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        init
    })
    .expect("event");
    input.dispatch_event(&event).expect("dispatch");
}

/// The reply box of a WhatsApp conversation the operator has taken over, its window's end
/// given by the test.
fn mount_whatsapp_composer(
    expires_at: RwSignal<Option<chrono::DateTime<chrono::Utc>>>,
    template: TemplateDraft,
    on_template: Callback<TemplateForm>,
) -> web_sys::HtmlElement {
    mount(move || {
        view! {
            <LiveRegion/>
            <Composer
                channel=Channel::Whatsapp
                mode=Signal::stored(AiMode::Human)
                opt_out=Signal::stored(false)
                expires_at=expires_at
                draft=RwSignal::new(String::new())
                template_draft=template
                on_send=Callback::new(|_: String| {})
                on_template=on_template
            />
        }
    })
}

/// Where the AI answers, a shut window offers no template form: a template is a reply too, and
/// the reason given is the AI's. Taken over, the form is what is left; closed, what was typed
/// in it is still shown.
#[wasm_bindgen_test]
async fn no_template_form_while_the_ai_answers() {
    let mode = RwSignal::new(AiMode::Ai);
    let shut = Some(chrono::Utc::now() - chrono::Duration::hours(2));
    let root = mount(move || {
        view! {
            <Composer
                channel=Channel::Whatsapp
                mode=mode
                opt_out=Signal::stored(false)
                expires_at=Signal::stored(shut)
                draft=RwSignal::new(String::new())
                template_draft=TemplateDraft::default()
                on_send=Callback::new(|_: String| {})
                on_template=Callback::new(|_: TemplateForm| {})
            />
        }
    });
    settle().await;
    assert!(text(&root, "#composer-disabled-reason").contains("Take over"));
    assert!(root
        .query_selector("#template-form")
        .ok()
        .flatten()
        .is_none());
    mode.set(AiMode::Human);
    settle().await;
    assert!(text(&root, "#composer-disabled-reason").contains("template"));
    let send = root
        .query_selector("#template-send")
        .ok()
        .flatten()
        .expect("the form");
    assert_eq!(
        send.get_attribute("aria-describedby"),
        None,
        "not locked: the reason is the reply box's"
    );
    // Typed into, then closed elsewhere: what was typed stays, to be read and copied, and
    // nothing can be sent from it.
    type_into(&root, "#template-name", "order_update");
    mode.set(AiMode::Closed);
    settle().await;
    assert!(text(&root, "#composer-disabled-reason").contains("closed"));
    let name: web_sys::HtmlInputElement = root
        .query_selector("#template-name")
        .ok()
        .flatten()
        .expect("the typed form stays")
        .unchecked_into();
    assert_eq!(
        (name.value(), name.read_only()),
        ("order_update".into(), true)
    );
    let send = root
        .query_selector("#template-send")
        .ok()
        .flatten()
        .expect("send");
    assert_eq!(send.get_attribute("aria-disabled").as_deref(), Some("true"));
    // Each says why, as it is reached: the reason sits before the form, out of the tab order.
    assert_eq!(
        send.get_attribute("aria-describedby").as_deref(),
        Some("composer-disabled-reason")
    );
    assert_eq!(
        name.get_attribute("aria-describedby").as_deref(),
        Some("composer-disabled-reason")
    );
}

#[wasm_bindgen_test]
async fn a_template_being_typed_outlives_the_window_reopening() {
    let expires_at = RwSignal::new(None::<chrono::DateTime<chrono::Utc>>);
    let template = TemplateDraft::default();
    let sent = RwSignal::new(Vec::<TemplateForm>::new());
    let on_template = Callback::new(move |f: TemplateForm| sent.update(|s| s.push(f)));
    let root = mount_whatsapp_composer(expires_at, template, on_template);
    let form = |root: &web_sys::HtmlElement| root.query_selector("#template-form").ok().flatten();
    assert!(
        form(&root).is_some(),
        "no window: a template is the one way to write"
    );
    type_into(&root, "#template-name", "order_update");
    type_into(&root, "#template-parameters", "A-1042");

    // The customer writes in: the reply box opens, and what was typed stays on screen.
    expires_at.set(Some(chrono::Utc::now() + chrono::Duration::hours(24)));
    settle().await;
    assert!(root
        .query_selector("#composer-disabled-reason")
        .ok()
        .flatten()
        .is_none());
    let name: web_sys::HtmlInputElement = form(&root)
        .expect("the form stays while it holds text")
        .query_selector("#template-name")
        .ok()
        .flatten()
        .expect("name")
        .unchecked_into();
    assert_eq!(name.value(), "order_update");

    let submit = web_sys::Event::new_with_event_init_dict("submit", &{
        let init = web_sys::EventInit::new();
        init.set_cancelable(true);
        init
    })
    .expect("event");
    form(&root)
        .expect("form")
        .dispatch_event(&submit)
        .expect("submit");
    assert_eq!(
        sent.get_untracked(),
        vec![TemplateForm {
            name: "order_update".into(),
            language: "en".into(),
            parameters: vec!["A-1042".into()],
        }]
    );
    // Emptied to type another: it stays, though blank.
    type_into(&root, "#template-name", "");
    type_into(&root, "#template-parameters", "");
    settle().await;
    assert!(
        form(&root).is_some(),
        "emptying the fields does not take the form away"
    );
    // Sent (the page clears it on success): with the window open, the form goes.
    template.sent(&sent.get_untracked()[0]);
    settle().await;
    assert!(form(&root).is_none());
}

#[wasm_bindgen_test]
async fn the_closing_warning_lasts_only_as_long_as_the_last_hour() {
    let soon = chrono::Utc::now() + chrono::Duration::minutes(30);
    let expires_at = RwSignal::new(Some(soon));
    let root = mount_whatsapp_composer(
        expires_at,
        TemplateDraft::default(),
        Callback::new(|_: TemplateForm| {}),
    );
    let warned = |root: &web_sys::HtmlElement| {
        root.query_selector("#window-closing")
            .ok()
            .flatten()
            .is_some()
    };
    assert!(
        warned(&root),
        "within the last hour, whether or not the server's warning came (it comes once, and not \
         to a conversation opened later)"
    );
    // Closed: the reply box says so, and "reply now" would contradict it. It is said, too:
    // the operator may be reading the history, away from the reply box.
    expires_at.set(Some(chrono::Utc::now() - chrono::Duration::minutes(1)));
    settle().await;
    assert!(!warned(&root));
    assert!(
        text(&root, "#live-announcer").contains("window has closed"),
        "{}",
        text(&root, "#live-announcer")
    );
    // Reopened (a refetch after the customer wrote): no warning either.
    expires_at.set(Some(chrono::Utc::now() + chrono::Duration::hours(24)));
    settle().await;
    assert!(!warned(&root));
}

/// The window's last hour coming is said, not only shown: the warning is inserted with its
/// words, which some screen readers leave unread.
#[wasm_bindgen_test]
async fn the_windows_last_hour_coming_is_said() {
    let expires_at = RwSignal::new(Some(chrono::Utc::now() + chrono::Duration::hours(2)));
    let root = mount_whatsapp_composer(
        expires_at,
        TemplateDraft::default(),
        Callback::new(|_: TemplateForm| {}),
    );
    settle().await;
    assert!(!text(&root, "#live-announcer").contains("closes within the hour"));
    expires_at.set(Some(chrono::Utc::now() + chrono::Duration::minutes(30)));
    settle().await;
    assert!(root
        .query_selector("#window-closing")
        .ok()
        .flatten()
        .is_some());
    assert!(
        text(&root, "#live-announcer").contains("closes within the hour"),
        "{}",
        text(&root, "#live-announcer")
    );
}

/// A thread's message list, with callbacks that do nothing.
fn mount_thread(thread: RwSignal<Option<Thread>>) -> web_sys::HtmlElement {
    mount(move || {
        view! {
            <MessageList
                thread=thread
                loading_older=Signal::stored(false)
                on_load_older=Callback::new(|_| {})
                on_retry=Callback::new(|_: u64| {})
                on_edit=Callback::new(|_: u64| {})
                on_reuse=Callback::new(|_: String| {})
            />
        }
    })
}

/// A thread of one message, of `direction` and `body`, mounted and rendered.
async fn one_message_thread(direction: &str, body: &str) -> web_sys::HtmlElement {
    thread_of(serde_json::json!({
        "message_id": "msg_1", "direction": direction, "status": "received",
        "body": body, "created_at": "2026-05-15T10:01:00Z"
    }))
    .await
}

/// A thread of `message` alone, mounted and rendered.
async fn thread_of(message: serde_json::Value) -> web_sys::HtmlElement {
    let conversation: Conversation = serde_json::from_value(serde_json::json!({
        "conversation_id": "conv_x", "agent_id": "agt_x", "channel": "sms",
        "from_number": "+2348031234567", "to_number": "+2349012345678",
        "created_at": "2026-05-15T10:00:00Z", "ai_mode": "human",
        "messages": [message]
    }))
    .expect("conversation");
    let root = mount_thread(RwSignal::new(Some(Thread::new(conversation))));
    settle().await;
    root
}

#[wasm_bindgen_test]
async fn message_text_is_rendered_as_text_not_html() {
    let root = one_message_thread("inbound", "<img src=x onerror=alert(1)>").await;
    assert!(root
        .query_selector("#messages img")
        .ok()
        .flatten()
        .is_none());
    assert_eq!(text(&root, ".message-body"), "<img src=x onerror=alert(1)>");
}

/// A message reads in its own direction (Arabic right to left, its punctuation in place), and
/// one from a sender the console does not know, shown on the customer's side, is not read out
/// as the agent's.
#[wasm_bindgen_test]
async fn a_message_reads_in_its_direction_and_an_unknown_sender_is_not_the_agent() {
    let root = one_message_thread("system", "مرحبا!").await;
    let body = root
        .query_selector(".message-body")
        .ok()
        .flatten()
        .expect("a body");
    assert_eq!(body.get_attribute("dir").as_deref(), Some("auto"));
    assert_eq!(
        text(&root, "li.message .visually-hidden"),
        "Unknown sender: "
    );
}

/// A reply whose status is not known yet (an AI reply heard from the stream) says none: a
/// screen reader read "unknown" after each.
#[wasm_bindgen_test]
async fn a_reply_of_no_known_status_says_none() {
    let message = |status: Option<&str>| {
        serde_json::json!({
            "message_id": "msg_1", "direction": "outbound", "status": status,
            "body": "Hello", "created_at": "2026-05-15T10:01:00Z"
        })
    };
    let root = thread_of(message(None)).await;
    assert!(root
        .query_selector(".message-status")
        .expect("selector")
        .is_none());
    let root = thread_of(message(Some("delivered"))).await;
    assert_eq!(text(&root, ".message-status .visually-hidden"), "delivered");
}

/// Resolves inside the next animation frame callback.
async fn next_frame() {
    let frame = js_sys::Promise::new(&mut |resolve, _| {
        let window = web_sys::window().expect("window");
        window.request_animation_frame(&resolve).expect("rAF");
    });
    wasm_bindgen_futures::JsFuture::from(frame)
        .await
        .expect("frame");
}

#[wasm_bindgen_test]
async fn stream_events_wait_for_the_next_frame_and_arrive_in_one_batch() {
    let got = Rc::new(RefCell::new(Vec::<Vec<u32>>::new()));
    let sink = got.clone();
    let batch = FrameBatch::new(move |items| sink.borrow_mut().push(items));
    batch.push(1);
    batch.push(2);
    assert!(
        got.borrow().is_empty(),
        "nothing is delivered before the frame"
    );
    next_frame().await;
    assert_eq!(*got.borrow(), vec![vec![1, 2]]);

    // Cleared before its frame: nothing arrives, neither at the frame nor from the backup timer.
    batch.push(3);
    batch.clear();
    next_frame().await;
    gloo_timers::future::TimeoutFuture::new(FALLBACK_MS + 20).await;
    assert_eq!(got.borrow().len(), 1);
}

#[wasm_bindgen_test]
async fn stream_events_still_arrive_when_no_frame_comes() {
    // A hidden tab runs no animation frames: stand in for one with a requestAnimationFrame that
    // never calls back.
    let window = web_sys::window().expect("window");
    let real = js_sys::Reflect::get(&window, &"requestAnimationFrame".into()).expect("rAF");
    let never = js_sys::Function::new_no_args("return 1;");
    js_sys::Reflect::set(&window, &"requestAnimationFrame".into(), &never).expect("stub");

    let got = Rc::new(RefCell::new(Vec::<Vec<u32>>::new()));
    let sink = got.clone();
    let batch = FrameBatch::new(move |items| sink.borrow_mut().push(items));
    batch.push(7);
    gloo_timers::future::TimeoutFuture::new(FALLBACK_MS / 2).await;
    let early = got.borrow().clone();
    gloo_timers::future::TimeoutFuture::new(FALLBACK_MS).await;
    let late = got.borrow().clone();
    js_sys::Reflect::set(&window, &"requestAnimationFrame".into(), &real).expect("restore");

    assert!(early.is_empty(), "the backup timer waits for a frame first");
    assert_eq!(late, vec![vec![7]]);
}

/// A conversation holding messages `range` (message n sent n seconds in), newest first as the API
/// sends them, and no older page.
fn conversation_with(range: std::ops::Range<u32>) -> Conversation {
    let messages: Vec<_> = range
        .rev()
        .map(|n| {
            serde_json::json!({
                "message_id": format!("msg_{n:04}"), "direction": "inbound", "status": "received",
                "body": format!("line {n}"),
                "created_at": format!("2026-05-15T10:{:02}:{:02}Z", n / 60, n % 60),
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "conversation_id": "conv_w", "agent_id": "agt_x", "channel": "sms",
        "from_number": "+2348031234567", "to_number": "+2349012345678",
        "created_at": "2026-05-15T10:00:00Z", "ai_mode": "human", "messages": messages,
    }))
    .expect("conversation")
}

/// A thread's history 300 px tall, of lines 40 px tall each (once per page is enough).
fn style_threads() {
    let document = web_sys::window().and_then(|w| w.document()).expect("doc");
    if document.get_element_by_id("thread-test-style").is_some() {
        return;
    }
    let style = document.create_element("style").expect("style");
    style.set_id("thread-test-style");
    style.set_text_content(Some(
        ".message-scroller { height: 300px; overflow-y: auto; position: relative; }
         #messages li { height: 40px; margin: 0; }",
    ));
    document
        .head()
        .expect("head")
        .append_child(&style)
        .expect("append");
}

fn message_ids(root: &web_sys::HtmlElement) -> Vec<String> {
    let list = root
        .query_selector("#messages")
        .expect("selector")
        .expect("list");
    std::iter::successors(list.first_element_child(), |e| e.next_element_sibling())
        .filter_map(|e| e.get_attribute("data-message-id"))
        .collect()
}

/// Where message `id` is on screen, relative to the top of the scroller's view.
fn on_screen(root: &web_sys::HtmlElement, id: &str) -> i32 {
    let line: web_sys::HtmlElement = root
        .query_selector(&format!("li[data-message-id='{id}']"))
        .expect("selector")
        .unwrap_or_else(|| panic!("{id} is not rendered"))
        .unchecked_into();
    line.offset_top() - scroller(root).scroll_top()
}

fn scroller(root: &web_sys::HtmlElement) -> web_sys::HtmlElement {
    root.query_selector(".message-scroller")
        .expect("selector")
        .expect("scroller")
        .unchecked_into()
}

/// Scrolls the thread and lets the page handle the scroll event and re-render.
async fn scroll_to(root: &web_sys::HtmlElement, top: i32) {
    scroller(root).set_scroll_top(top);
    next_frame().await;
    next_frame().await;
    settle().await;
}

fn at_bottom(root: &web_sys::HtmlElement) -> bool {
    let s = scroller(root);
    s.scroll_height() - s.client_height() - s.scroll_top() <= 1
}

#[wasm_bindgen_test]
async fn a_long_thread_renders_a_window_of_lines_that_keeps_the_reading_place() {
    use voicebip_console::model::thread_lines::{STEP, WINDOW};
    style_threads();
    let thread = RwSignal::new(Some(Thread::new(conversation_with(0..400))));
    let root = mount_thread(thread);
    settle().await;
    next_frame().await;
    let ids = message_ids(&root);
    assert_eq!(
        ids.len(),
        WINDOW,
        "only a window of the 400 lines is rendered"
    );
    assert_eq!(ids.last().map(String::as_str), Some("msg_0399"));
    assert!(at_bottom(&root), "a thread opens at its newest line");

    // New messages at the bottom are followed; the window slides with them.
    thread.update(|t| {
        let t = t.as_mut().expect("thread");
        let mark = t.mark();
        // (No gap to fill: these pages follow what is shown.)
        let _ = t.merge_latest(conversation_with(400..460), mark);
    });
    settle().await;
    let ids = message_ids(&root);
    assert_eq!(ids.len(), WINDOW);
    assert_eq!(ids.last().map(String::as_str), Some("msg_0459"));
    assert!(at_bottom(&root), "the view follows new messages");

    // Scrolled up to read: new messages neither move the view nor enter the DOM, and a button
    // offers the way back.
    let middle = scroller(&root).scroll_top() - 3000;
    scroll_to(&root, middle).await;
    let reading = message_ids(&root)[WINDOW / 2].clone();
    let place = on_screen(&root, &reading);
    thread.update(|t| {
        let t = t.as_mut().expect("thread");
        let mark = t.mark();
        // (No gap to fill: these pages follow what is shown.)
        let _ = t.merge_latest(conversation_with(460..470), mark);
    });
    settle().await;
    assert_eq!(
        on_screen(&root, &reading),
        place,
        "the line being read stays put"
    );
    assert!(!message_ids(&root).contains(&"msg_0469".to_owned()));
    assert!(root
        .query_selector("#jump-newest")
        .expect("selector")
        .is_some());

    // Reading down past the window's bottom: the window moves down (here, back to the newest
    // lines), and the lines it brings in are below, unread: the view stays where it was.
    let view = scroller(&root);
    let bottom = view.scroll_height() - view.client_height();
    let ids = message_ids(&root);
    let last = ids[ids.len() - 3].clone();
    let last_place = on_screen(&root, &last) - (bottom - view.scroll_top());
    // (From the way to the newest, which goes once they are in: the focus stays in the thread.)
    root.query_selector("#jump-newest")
        .ok()
        .flatten()
        .expect("the way to the newest")
        .unchecked_into::<web_sys::HtmlElement>()
        .focus()
        .expect("focus");
    scroll_to(&root, bottom).await;
    let focused = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element());
    assert_eq!(
        focused.map(|e| e.class_name()).as_deref(),
        Some("message-scroller"),
        "the focus the way to the newest had"
    );
    assert!(
        message_ids(&root).contains(&"msg_0469".to_owned()),
        "the newest lines came in"
    );
    assert!(
        (on_screen(&root, &last) - last_place).abs() <= 1,
        "the line read last stays in view: {}px, not {last_place}px",
        on_screen(&root, &last)
    );
    assert!(!at_bottom(&root), "no jump past the lines just brought in");

    // At the top of the window, the window moves up a step, and the first line stays put.
    scroll_to(&root, 45).await;
    let first = message_ids(&root)[0].clone();
    let first_top = on_screen(&root, &first) + 45;
    scroll_to(&root, 0).await;
    let ids = message_ids(&root);
    assert_eq!(ids.len(), WINDOW);
    assert_eq!(
        ids.iter().position(|id| *id == first),
        Some(STEP),
        "a step of earlier lines above the first one"
    );
    assert!(
        (on_screen(&root, &first) - first_top).abs() <= 1,
        "the first line stays where it was ({first_top}px), not pushed down by the lines above \
         it: {}px",
        on_screen(&root, &first)
    );

    // Back to the newest.
    let jump: web_sys::HtmlElement = root
        .query_selector("#jump-newest")
        .expect("selector")
        .expect("jump button")
        .unchecked_into();
    jump.click();
    settle().await;
    next_frame().await;
    assert_eq!(
        message_ids(&root).last().map(String::as_str),
        Some("msg_0469")
    );
    assert!(at_bottom(&root));
    assert!(root
        .query_selector("#jump-newest")
        .expect("selector")
        .is_none());

    // Something above takes room from the view (a banner): the newest line stays in sight.
    scroller(&root)
        .style()
        .set_property("height", "200px")
        .expect("style");
    next_frame().await;
    next_frame().await;
    assert!(
        at_bottom(&root),
        "still at the newest after the view shrank"
    );
}

/// A scroll the page has not reported yet (a Home under way) is the operator's: a line below
/// that changes meanwhile does not put the view back where the last scroll event left it (which
/// also cancelled the scroll, and Home never reached the top).
#[wasm_bindgen_test]
async fn a_scroll_under_way_is_not_undone_by_a_change_below() {
    use voicebip_console::model::events::StreamEvent;
    use voicebip_console::model::message::{Direction, MessageStatus};
    style_threads();
    let mut conversation = conversation_with(0..100);
    let newest = &mut conversation.messages[0];
    (newest.direction, newest.status) = (Direction::Outbound, MessageStatus::Sent);
    let newest = newest.message_id.clone();
    let thread = RwSignal::new(Some(Thread::new(conversation)));
    let root = mount_thread(thread);
    settle().await;
    next_frame().await;
    let view = scroller(&root);
    let reading = view.scroll_top() / 2;
    scroll_to(&root, reading).await;

    // Scrolled up further, and before the scroll event comes, the newest line's receipt.
    view.set_scroll_top(reading - 400);
    thread.update(|t| {
        let _ = t.as_mut().expect("thread").apply(StreamEvent::Status {
            message_id: newest,
            status: MessageStatus::Delivered,
            error_code: None,
        });
    });
    settle().await;
    assert_eq!(
        root.query_selector("li.message[data-status='delivered']")
            .expect("selector")
            .map(|_| ()),
        Some(()),
        "the receipt was rendered"
    );
    assert_eq!(view.scroll_top(), reading - 400, "the scroll stands");
}

/// A thread of three messages with an older page to load: the view, and how often the page was
/// asked for (each ask marks it loading when `loading` is given, as the page's loader does).
fn mount_with_an_older_page(
    loading: Option<RwSignal<bool>>,
) -> (web_sys::HtmlElement, RwSignal<u32>) {
    let (root, asked, _) = mount_lines_with_an_older_page(0..3, loading);
    (root, asked)
}

/// [`mount_with_an_older_page`] of messages `lines`, and the thread.
fn mount_lines_with_an_older_page(
    lines: std::ops::Range<u32>,
    loading: Option<RwSignal<bool>>,
) -> (
    web_sys::HtmlElement,
    RwSignal<u32>,
    RwSignal<Option<Thread>>,
) {
    let mut conversation = conversation_with(lines);
    conversation.next_page_token = Some("older".to_owned());
    let thread = RwSignal::new(Some(Thread::new(conversation)));
    let asked = RwSignal::new(0);
    let on_load_older = Callback::new(move |_| {
        asked.update(|n| *n += 1);
        if let Some(loading) = loading {
            loading.set(true);
        }
    });
    let loading_older = loading.map_or(Signal::stored(false), Signal::from);
    let root = mount(move || {
        view! {
            <MessageList
                thread=thread
                loading_older=loading_older
                on_load_older=on_load_older
                on_retry=Callback::new(|_: u64| {})
                on_edit=Callback::new(|_: u64| {})
                on_reuse=Callback::new(|_: String| {})
            />
        }
    });
    (root, asked, thread)
}

/// Dispatches a bare event named `name` (`scroll`, `scrollend`) at `target`.
fn fire(target: &web_sys::HtmlElement, name: &str) {
    target
        .dispatch_event(&web_sys::Event::new(name).expect("event"))
        .expect("dispatch");
}

fn load_older_button(root: &web_sys::HtmlElement) -> web_sys::HtmlElement {
    root.query_selector("#load-older")
        .expect("selector")
        .expect("button")
        .unchecked_into()
}

/// What a scroll to the top asks for (here, the older page) waits for the scroll's end: the
/// lines it brings, and the scroll that keeps the place after them, would cut short a Home still
/// under way, and Chromium then ignores the next Home or End.
#[wasm_bindgen_test]
async fn the_top_is_acted_on_when_the_scroll_ends() {
    let (root, asked) = mount_with_an_older_page(None);
    settle().await;
    // (Three lines fit: the view is at the top, and a scroll event says so.)
    let view = scroller(&root);
    assert_eq!(view.scroll_top(), 0);
    fire(&view, "scroll");
    settle().await;
    assert_eq!(
        asked.get_untracked(),
        0,
        "not while the scroll is under way"
    );
    fire(&view, "scrollend");
    settle().await;
    assert_eq!(asked.get_untracked(), 1, "the older page, once it ended");
}

/// Tabbing to "Load older messages" scrolls the top into view: the page is the button's to
/// load. It loaded by itself, and the lines kept in place pushed the focused button out of view.
#[wasm_bindgen_test]
async fn the_top_reached_by_tabbing_to_load_older_waits_for_its_press() {
    let (root, asked) = mount_with_an_older_page(None);
    settle().await;
    let view = scroller(&root);
    let button = load_older_button(&root);
    button.focus().expect("focus");
    fire(&view, "scrollend");
    settle().await;
    assert_eq!(asked.get_untracked(), 0, "not by itself");
    button.click();
    settle().await;
    assert_eq!(asked.get_untracked(), 1, "at its press");
    // Scrolled to the top with the focus elsewhere, it loads by itself.
    view.focus().expect("focus");
    fire(&view, "scrollend");
    settle().await;
    assert_eq!(asked.get_untracked(), 2);
}

#[wasm_bindgen_test]
async fn load_older_keeps_keyboard_focus_while_the_page_loads() {
    let (root, asked) = mount_with_an_older_page(Some(RwSignal::new(false)));
    settle().await;
    let button = load_older_button(&root);
    button.focus().expect("focus");
    button.click();
    settle().await;
    assert_eq!(asked.get_untracked(), 1);
    let document = web_sys::window().and_then(|w| w.document()).expect("doc");
    let focused = document.active_element().expect("focus somewhere");
    assert_eq!(focused.id(), "load-older", "focus stays on the button");
    assert_eq!(
        focused.get_attribute("aria-disabled").as_deref(),
        Some("true")
    );
    assert_eq!(text(&root, "#load-older"), "Loading older messages…");
    button.click();
    settle().await;
    assert_eq!(asked.get_untracked(), 1, "no second load while one runs");
}

/// Load older pressed from the keyboard at the top of a thread read back to it: the view stays
/// at the top, the page below the focused button, which the line held in place pushed out of
/// view above.
#[wasm_bindgen_test]
async fn load_older_from_the_keyboard_keeps_its_button_in_view() {
    style_threads();
    let loading = RwSignal::new(false);
    let (root, asked, thread) = mount_lines_with_an_older_page(20..40, Some(loading));
    settle().await;
    let button = load_older_button(&root);
    button.focus().expect("focus");
    scroll_to(&root, 0).await;
    assert_eq!(asked.get_untracked(), 0, "the press loads");
    button.click();
    settle().await;
    assert_eq!(asked.get_untracked(), 1);
    thread.update(|t| {
        t.as_mut()
            .expect("thread")
            .merge_older(conversation_with(0..20))
    });
    loading.set(false);
    settle().await;
    next_frame().await;
    assert_eq!(
        message_ids(&root).first().map(String::as_str),
        Some("msg_0000")
    );
    assert_eq!(scroller(&root).scroll_top(), 0, "the button in view");
}

/// An older page loaded says how many messages it brought (above, out of view; a message come
/// below meanwhile is not one of them).
#[wasm_bindgen_test]
async fn an_older_page_loaded_says_how_many_messages_it_brought() {
    let mut conversation = conversation_with(10..13);
    conversation.next_page_token = Some("older".to_owned());
    let thread = RwSignal::new(Some(Thread::new(conversation)));
    let loading = RwSignal::new(false);
    let root = mount(move || {
        view! {
            <LiveRegion/>
            <MessageList
                thread=thread
                loading_older=Signal::from(loading)
                on_load_older=Callback::new(move |_| loading.set(true))
                on_retry=Callback::new(|_: u64| {})
                on_edit=Callback::new(|_: u64| {})
                on_reuse=Callback::new(|_: String| {})
            />
        }
    });
    settle().await;
    load_older_button(&root).click();
    settle().await;
    assert!(loading.get_untracked(), "asked for");
    thread.update(|t| {
        let t = t.as_mut().expect("thread");
        let mark = t.mark();
        let _ = t.merge_latest(conversation_with(13..14), mark);
    });
    thread.update(|t| {
        t.as_mut()
            .expect("thread")
            .merge_older(conversation_with(0..10))
    });
    loading.set(false);
    settle().await;
    assert_eq!(said(&root), ["10 older messages loaded"]);
}

/// Home in a thread that fits the view, nothing older to load: the thread is still followed as
/// it grows past the view (its window was set to its start, and what came below was neither
/// followed nor said).
#[wasm_bindgen_test]
async fn home_in_a_thread_shown_whole_leaves_it_followed() {
    style_threads();
    let thread = RwSignal::new(Some(Thread::new(conversation_with(0..3))));
    let root = mount_thread(thread);
    settle().await;
    let view = scroller(&root);
    assert_eq!(view.scroll_top(), 0, "three lines fit");
    view.dispatch_event(&key("Home", false)).expect("dispatch");
    settle().await;
    thread.update(|t| {
        let t = t.as_mut().expect("thread");
        let mark = t.mark();
        let _ = t.merge_latest(conversation_with(3..20), mark);
    });
    settle().await;
    next_frame().await;
    assert!(view.scroll_top() > 0, "the thread outgrew the view");
    assert!(at_bottom(&root), "the newest line is followed");
}

/// A row's link is found by its conversation's id whatever the id holds: ids are opaque.
#[wasm_bindgen_test]
fn a_row_is_found_by_any_id() {
    use voicebip_console::model::ConversationId;
    let document = web_sys::window().and_then(|w| w.document()).expect("doc");
    for id in ["conv_1", "it's", "back\\slash", "line\nbreak", "a'] b"] {
        let row = document.create_element("li").expect("li");
        row.set_attribute("data-conversation-id", id).expect("attr");
        row.append_child(&document.create_element("a").expect("a"))
            .expect("append");
        document
            .body()
            .expect("body")
            .append_child(&row)
            .expect("append");
        let selector = ConversationId(id.to_owned()).row_link_selector();
        let found = document
            .query_selector(&selector)
            .unwrap_or_else(|e| panic!("{selector} is not a selector: {e:?}"));
        assert_eq!(
            found.and_then(|a| a.parent_element()),
            Some(row.clone()),
            "{id}"
        );
        row.remove();
    }
}

/// The origins an embedding page may hand over a key from are read as the browser writes an
/// origin: an explicit default port, a path, capitals or spaces in the configuration still match
/// the host's messages; `*` and `null` never do.
#[wasm_bindgen_test]
fn configured_origins_are_read_as_the_browser_writes_them() {
    use voicebip_console::state::embed::EmbedHost;
    let host = EmbedHost::new(vec![
        " https://Support.example.com:443/inbox ".into(),
        "http://127.0.0.1:8080/".into(),
        "*".into(),
        "null".into(),
        "not a url".into(),
    ]);
    assert!(host.allows("https://support.example.com"));
    assert!(host.allows("http://127.0.0.1:8080"));
    assert!(!host.allows("http://127.0.0.1:8081"));
    assert!(!host.allows("https://support.example.com:8443"));
    assert!(!host.allows("null"));
    assert!(!host.allows("*"));
}

/// The warning names exactly the configured origins the console drops, by the same rule: what
/// the browser takes as an origin (an empty port, capitals) is kept and not named; what it
/// cannot (no scheme, a wildcard, a port out of range, a space, a user name) is named.
#[wasm_bindgen_test]
fn origins_that_no_page_can_have_are_named() {
    use voicebip_console::state::config::Config;
    use voicebip_console::state::embed::EmbedHost;
    // Configured, and the origin of the page each one is.
    let kept = [
        ("https://support.example.com", "https://support.example.com"),
        (" http://localhost:3000/ ", "http://localhost:3000"),
        ("HTTPS://Tools.Example.com", "https://tools.example.com"),
        ("https://[::1]:8080", "https://[::1]:8080"),
        ("https://host:", "https://host"),
    ];
    let odd = [
        "support.example.com",
        "localhost:3000",
        "*",
        "https://*.example.com",
        "null",
        "https://host:99999",
        "https://exa mple.com",
        "https://support.example.com@elsewhere.example",
        "https://user:pass@support.example.com",
    ];
    let configured: Vec<&str> = kept.iter().map(|(c, _)| *c).chain(odd).collect();
    let json = serde_json::json!({ "embed_allowed_origins": configured }).to_string();
    let (c, _) = Config::parse(&json).expect("parses");
    assert_eq!(c.odd_origins(), odd);
    // Kept, but said: on plain http off this machine.
    let plain = serde_json::json!({ "embed_allowed_origins": [
        "http://support.example.com/", "http://localhost:3000", "http://127.0.0.1:9", "https://a.example"
    ] });
    let (c, _) = Config::parse(&plain.to_string()).expect("parses");
    assert_eq!(c.plain_http_origins(), ["http://support.example.com"]);
    let host = EmbedHost::new(configured.iter().map(|o| o.to_string()).collect());
    for (configured, origin) in kept {
        assert!(host.allows(origin), "{configured:?} is kept as {origin}");
    }
    assert!(!host.allows("https://*.example.com"));
    assert!(!host.allows("https://elsewhere.example"));
}

/// A window that ended after the shared clock's last tick, and comes (a refetch) once it has
/// ended, shows as shut at once: the clock, up to 15 s behind, showed it open until its next
/// tick, and the reply box with it.
#[wasm_bindgen_test]
async fn a_window_already_ended_shows_shut_before_the_clocks_next_tick() {
    // Open at first (hours left), so the badge is seen to change, not to show what it showed.
    let expires_at = RwSignal::new(Some(chrono::Utc::now() + chrono::Duration::hours(2)));
    let root =
        mount(move || view! { <WindowBadge channel=Channel::Whatsapp expires_at=expires_at/> });
    let shown = || {
        root.query_selector(".window-state")
            .ok()
            .flatten()
            .and_then(|b| b.get_attribute("data-window"))
    };
    // The clock read the time at mount; the window ends after that, and comes after its end.
    gloo_timers::future::TimeoutFuture::new(300).await;
    assert_eq!(shown().as_deref(), Some("open"), "open at mount");
    expires_at.set(Some(
        chrono::Utc::now() - chrono::Duration::milliseconds(100),
    ));
    // Long before the clock's next tick (15 s after mount).
    gloo_timers::future::TimeoutFuture::new(200).await;
    assert_eq!(shown().as_deref(), Some("expired"));
}

/// A store that refuses a write (full, here) does not lose it for the page's life: a draft
/// typed, or a failed send's text put back, is there when its conversation is shown again.
#[wasm_bindgen_test]
fn what_a_full_store_refuses_is_kept_for_the_page() {
    use voicebip_console::state::storage;
    let session = web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .expect("sessionStorage");
    // Emptied however the test ends: a full store would fail the tests after it.
    struct Emptied(web_sys::Storage);
    impl Drop for Emptied {
        fn drop(&mut self) {
            let _ = self.0.clear();
        }
    }
    let _emptied = Emptied(session.clone());
    // Filled to its quota, in ever smaller pieces.
    let mut n = 0;
    for size in [512 * 1024, 16 * 1024, 512, 16, 1] {
        let chunk = "x".repeat(size);
        while n < 100_000 && session.set_item(&format!("f{n}"), &chunk).is_ok() {
            n += 1;
        }
    }
    let draft = "voicebip.draft.conv_full";
    storage::set(
        Area::Session,
        draft,
        "Half a reply, typed into a full store",
    );
    assert!(
        session.get_item(draft).ok().flatten().is_none(),
        "the store is full"
    );
    assert_eq!(
        storage::get(Area::Session, draft).as_deref(),
        Some("Half a reply, typed into a full store")
    );
    let taken = storage::take_prefixed(Area::Session, "voicebip.draft.");
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(storage::get(Area::Session, draft), None);
}

/// Both of the browser's stores, emptied now and however the test ends.
struct BothStoresEmptied;

impl BothStoresEmptied {
    fn new() -> Self {
        Self::empty();
        BothStoresEmptied
    }

    fn empty() {
        let window = web_sys::window().expect("window");
        for store in [window.session_storage(), window.local_storage()] {
            let _ = store.ok().flatten().map(|s| s.clear());
        }
    }
}

impl Drop for BothStoresEmptied {
    fn drop(&mut self) {
        Self::empty();
    }
}

fn stored(area: &str, item: &str) -> Option<String> {
    let window = web_sys::window().expect("window");
    let store = match area {
        "local" => window.local_storage(),
        _ => window.session_storage(),
    };
    store
        .ok()
        .flatten()
        .and_then(|s| s.get_item(item).ok().flatten())
}

/// Runs `test` with both of the browser's stores emptied (and emptied again however it ends),
/// under a reactive owner of its own.
fn in_emptied_stores(test: impl FnOnce()) {
    let _emptied = BothStoresEmptied::new();
    Owner::new().with(test);
}

/// A key the API refused in one tab: another tab holding it, reloaded (or brought back by the
/// browser), finds out for itself and keeps its drafts. It took the refusal for a sign-out it
/// had missed, and forgot them. A sign-out is one, and they go.
#[wasm_bindgen_test]
fn a_key_refused_in_one_tab_leaves_another_tabs_drafts() {
    in_emptied_stores(|| {
        let base = "https://api.example.com/v1";
        let shelf = Shelf::new(
            Area::Session,
            Client::new(base, "pk_test_shared").workspace(),
        );
        let conversation = "conv_1".into();
        let tab_items = ["voicebip.key", "voicebip.base", "voicebip.marked"];
        // `end` ends the first tab's session; then the other tab, holding the same key and a
        // draft in its own storage, is reloaded. Whether it restored its key.
        let other_tab_reloaded_after = |end: &dyn Fn(&Session)| {
            let first = Session::new();
            first.sign_in(Client::new(base, "pk_test_shared"), "pk_test_shared", false);
            let other_tab: Vec<(&str, String)> = tab_items
                .iter()
                .map(|i| (*i, stored("session", i).expect("kept for the tab")))
                .collect();
            end(&first);
            let session = web_sys::window()
                .and_then(|w| w.session_storage().ok().flatten())
                .expect("sessionStorage");
            for (item, value) in &other_tab {
                session.set_item(item, value).expect("set");
            }
            drafts::save(&shelf, &conversation, "Half a reply");
            let reloaded = Session::new();
            assert!(!reloaded.restore(None), "its base was kept with it");
            reloaded.signed_in()
        };
        assert!(other_tab_reloaded_after(
            &|s| s.sign_out(Some("Refused".into()))
        ));
        assert_eq!(drafts::load(&shelf, &conversation), "Half a reply");
        assert!(!other_tab_reloaded_after(&|s| s.leave(None)));
        assert_eq!(drafts::load(&shelf, &conversation), "");
    });
}

/// Two keys remembered on the device, in two tabs (a sandbox's and a live one's): signing out
/// of one forgets its own drafts and not the other's, whichever key the device keeps now. It
/// forgot every draft on the device when it kept its own key, and none of its own when it kept
/// the other's.
#[wasm_bindgen_test]
fn signing_out_forgets_its_own_workspaces_drafts_only() {
    in_emptied_stores(|| {
        let base = "https://api.example.com/v1";
        // (Each tab has a storage of its own: the page's, emptied for each.)
        let signed_in = |key: &str| {
            new_tabs_storage();
            let tab = Session::new();
            tab.sign_in(Client::new(base, key), key, true);
            let shelf = Shelf::new(Area::Local, Client::new(base, key).workspace());
            let conversation = format!("conv_of_{key}").as_str().into();
            drafts::save(&shelf, &conversation, "Half a reply");
            (tab, move || drafts::load(&shelf, &conversation))
        };
        let (live, live_draft) = signed_in("pk_live_1");
        let (sandbox, sandbox_draft) = signed_in("pk_test_1");
        // The device keeps the sandbox's key, remembered last.
        sandbox.leave(None);
        assert_eq!(sandbox_draft(), "", "its own are forgotten");
        assert_eq!(live_draft(), "Half a reply", "the live tab's are not");
        let (sandbox, sandbox_draft) = signed_in("pk_test_1");
        // Now the device keeps the sandbox's key again, not the live one's.
        live.leave(None);
        assert_eq!(live_draft(), "", "its own are forgotten");
        assert_eq!(sandbox_draft(), "Half a reply", "the sandbox tab's are not");
        sandbox.leave(None);
    });
}

/// A tab signed out of a workspace, then signed in with another key: the drafts of its last
/// workspace on the device, written since by another tab signed in to it again, stay that
/// tab's. The signed-out tab took them in, under the other key's name.
#[wasm_bindgen_test]
fn a_tab_signed_out_takes_no_drafts_in_at_its_next_sign_in() {
    in_emptied_stores(|| {
        let base = "https://api.example.com/v1";
        let first = Session::new();
        first.sign_in(Client::new(base, "pk_live_1"), "pk_live_1", true);
        first.leave(None);
        new_tabs_storage();
        let second = Session::new();
        second.sign_in(Client::new(base, "pk_live_1"), "pk_live_1", true);
        let shelf = Shelf::new(Area::Local, Client::new(base, "pk_live_1").workspace());
        drafts::save(&shelf, &"conv_1".into(), "The second tab's");
        first.sign_in(Client::new(base, "pk_test_1"), "pk_test_1", false);
        assert_eq!(drafts::load(&shelf, &"conv_1".into()), "The second tab's");
    });
}

/// A new tab's own storage: the page's, emptied (every tab of a test shares the page's).
fn new_tabs_storage() {
    let _ = web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .map(|s| s.clear());
}

/// A tab's drafts go with it to the key it signs in with after its own was refused (a key
/// replaced), also after a reload between (kept on the device with the key, they stayed under
/// the refused key's name, which no sign-out forgot); drafts an earlier build kept under no
/// workspace's name are taken in; another tab's on the device stay where they are.
#[wasm_bindgen_test]
fn a_tabs_drafts_follow_it_to_its_next_key() {
    in_emptied_stores(|| {
        let base = "https://api.example.com/v1";
        let shelf = |key: &str| Shelf::new(Area::Session, Client::new(base, key).workspace());
        let (old, new) = (shelf("pk_live_old"), shelf("pk_live_new"));
        let other = Shelf::new(Area::Local, Client::new(base, "pk_x").workspace());
        let tab = Session::new();
        tab.sign_in(Client::new(base, "pk_live_old"), "pk_live_old", false);
        drafts::save(&old, &"conv_1".into(), "Half a reply");
        drafts::save(&other, &"conv_2".into(), "Another's");
        web_sys::window()
            .and_then(|w| w.session_storage().ok().flatten())
            .expect("sessionStorage")
            .set_item("voicebip.draft.conv_3", "From an earlier build")
            .expect("set");
        tab.sign_out(Some("Refused".into()));
        tab.sign_in(Client::new(base, "pk_live_new"), "pk_live_new", false);
        assert_eq!(drafts::load(&new, &"conv_1".into()), "Half a reply");
        assert_eq!(
            drafts::load(&new, &"conv_3".into()),
            "From an earlier build"
        );
        assert_eq!(
            drafts::load(&old, &"conv_1".into()),
            "",
            "moved, not copied"
        );
        assert_eq!(drafts::load(&other, &"conv_2".into()), "Another's");
        assert_eq!(drafts::load(&new, &"conv_2".into()), "");

        // Remembered on the device, refused, and the page reloaded before the next sign-in.
        new_tabs_storage();
        let tab = Session::new();
        tab.sign_in(Client::new(base, "pk_live_old"), "pk_live_old", true);
        let old = Shelf::new(Area::Local, Client::new(base, "pk_live_old").workspace());
        drafts::save(&old, &"conv_4".into(), "Kept on the device");
        tab.sign_out(Some("Refused".into()));
        let reloaded = Session::new();
        reloaded.sign_in(Client::new(base, "pk_live_new"), "pk_live_new", false);
        assert_eq!(drafts::load(&new, &"conv_4".into()), "Kept on the device");
        assert_eq!(drafts::load(&old, &"conv_4".into()), "");
        assert_eq!(drafts::load(&other, &"conv_2".into()), "Another's");
    });
}

/// What the page's live region holds, each thing said.
fn said(root: &web_sys::HtmlElement) -> Vec<String> {
    let children = root
        .query_selector("#live-announcer")
        .ok()
        .flatten()
        .expect("the region")
        .children();
    (0..children.length())
        .filter_map(|i| children.item(i))
        .filter_map(|c| c.text_content())
        .collect()
}

/// Two messages a moment apart, after the first was shown: the second is added as an element of
/// its own, which is what a screen reader reads. Joined to the first in one text read whole,
/// the first was read again.
#[wasm_bindgen_test]
async fn news_a_moment_after_other_news_is_said_alone() {
    let announcer = StoredValue::new(None::<Announcer>);
    let root = mount(move || {
        announcer.set_value(Some(expect_context::<Announcer>()));
        view! { <LiveRegion/> }
    });
    let announcer = announcer.get_value().expect("the announcer");
    announcer.announce_news("New message from the customer: Hi");
    settle().await;
    announcer.announce_news("New message from the customer: Are you there?");
    settle().await;
    let region = root
        .query_selector("#live-announcer")
        .ok()
        .flatten()
        .expect("the region");
    assert_eq!(
        region.get_attribute("aria-atomic").as_deref(),
        Some("false")
    );
    assert_eq!(
        said(&root),
        [
            "New message from the customer: Hi",
            "New message from the customer: Are you there?"
        ]
    );
}

/// A burst of news says a few, and then, as its group ends, the last one left out: the newest
/// message of the burst was not heard at all.
#[wasm_bindgen_test]
async fn the_newest_news_of_a_burst_is_said_as_it_ends() {
    let root = mount(move || {
        let announcer = expect_context::<Announcer>();
        for n in 1..=6 {
            announcer.announce_news(format!("Message {n}."));
        }
        view! { <LiveRegion/> }
    });
    settle().await;
    let said = text(&root, "#live-announcer");
    assert!(
        said.contains("Message 3.") && !said.contains("Message 6."),
        "{said}"
    );
    gloo_timers::future::TimeoutFuture::new(400).await;
    let said = text(&root, "#live-announcer");
    assert!(
        said.contains("2 more came before this one. Message 6."),
        "{said}"
    );
}
