//! The thread's messages, newest at the bottom, with mode changes as system lines between them.
//! Only a window of the lines is rendered (`model::thread_lines`): scrolling past its top moves it
//! up, then loads older pages; scrolling past its bottom moves it down. Whatever changes above,
//! the line being read stays where it is on screen.

use crate::components::announcer::use_announcer;
use crate::components::focus::{
    focused_element, hand_on, refocus_if_lost, refocus_in_place_if_lost,
};
use crate::model::thread::{PendingSend, SendState, Thread};
use crate::model::thread_lines::{line_refs, to_lines, Line, LineRef, Window};
use crate::model::{AiMode, Direction, Message, MessageId, MessageStatus, ModeChange};
use chrono::{DateTime, Local, Utc};
use gloo_timers::callback::Timeout;
use leptos::html;
use leptos::prelude::*;
use std::ops::Range;
use wasm_bindgen::JsCast;

/// The lines rendered now, and where they sit among all the loaded ones.
#[derive(Clone, Default, PartialEq)]
struct Shown {
    lines: Vec<Line>,
    span: Range<usize>,
    total: usize,
}

impl Shown {
    fn at_newest(&self) -> bool {
        self.span.end == self.total
    }
}

/// Within this many px of the bottom, the view follows new messages.
const STICK_PX: f64 = 48.0;
/// Within this many px of the top, the view is at the top of the window: it moves up, or the
/// next older page is loaded.
const NEAR_TOP_PX: i32 = 40;
/// Without `scrollend`: how long after the last scroll event a scroll counts as ended.
const QUIET_MS: u32 = 150;

pub fn local_time(at: DateTime<Utc>) -> String {
    use chrono::Datelike;
    crate::model::time::day_month_time(at.with_timezone(&Local).naive_local(), Local::now().year())
}

/// "Taken over by usr_x" / "Returned to AI by usr_x" / "Closed by usr_x".
pub fn describe_mode_change(r: &ModeChange) -> String {
    let who = r.actor_user_id.as_deref().unwrap_or("someone");
    match r.to_mode {
        AiMode::Human => format!("Taken over by {who}"),
        AiMode::Ai => format!("Returned to AI by {who}"),
        AiMode::Closed => format!("Closed by {who}"),
        AiMode::Unknown => format!("Mode changed by {who}"),
    }
}

/// The controls a message's line can hold, by class: an undelivered message's Edit, a file's
/// link.
const LINE_CONTROLS: [&str; 2] = ["edit-undelivered", "media-link"];

/// A control of a message's line that has the focus keeps it: the line is built again when its
/// status or its failure's code moves (`LineKey`; the code may come with a refetch after the
/// receipt), which would drop the focus to the page's start. Gone from the line built again
/// (a delivery reported after its failure takes the Edit away), or the line gone from the
/// window of lines, the focus goes to the thread.
fn keep_focus_in_line() {
    let Some(focused) = focused_element() else {
        return;
    };
    let Some(class) = LINE_CONTROLS
        .into_iter()
        .find(|c| focused.class_list().contains(c))
    else {
        return;
    };
    let id = focused
        .closest("li[data-message-id]")
        .ok()
        .flatten()
        .and_then(|li| li.get_attribute("data-message-id"));
    if let Some(id) = id {
        refocus_in_place_if_lost(vec![
            MessageId(id).control_selector(class),
            ".message-scroller".to_owned(),
        ]);
    }
}

#[component]
pub fn MessageList(
    thread: RwSignal<Option<Thread>>,
    #[prop(into)] loading_older: Signal<bool>,
    on_load_older: Callback<()>,
    on_retry: Callback<u64>,
    on_edit: Callback<u64>,
    /// The text of a message the carrier did not deliver, to write again in the reply box.
    on_reuse: Callback<String>,
) -> impl IntoView {
    let scroller = NodeRef::<html::Div>::new();
    let list = NodeRef::<html::Ol>::new();
    let window = RwSignal::new(Window::Live);
    let shown = Memo::new(move |_| {
        thread.with(|t| {
            let Some(t) = t else {
                return Shown::default();
            };
            let all = line_refs(t);
            let span = window.with(|w| w.span(&all));
            Shown {
                lines: to_lines(&all, span.clone()),
                span,
                total: all.len(),
            }
        })
    });
    let pending = Memo::new(move |_| {
        thread.with(|t| t.as_ref().map(|t| t.pending().to_vec()).unwrap_or_default())
    });
    // The operator's sends show below the newest lines only. Away from them (a message came
    // while the window is held), one that had the focus (a failed send's Retry) hands it to the
    // thread, where it went to the page's start.
    // The failed sends whose failure has been said (an alert): shown again once the operator
    // has scrolled back down to them, they are not said again, each of them, as news.
    let alerted = StoredValue::new(Vec::<u64>::new());
    let pending_shown = move |at_newest: bool| {
        if at_newest {
            return pending.get();
        }
        hand_on("#messages .local", ".message-scroller");
        Vec::new()
    };
    // A failed send settled by the stream or a refetch (it went out after all) goes, with the
    // Retry or Edit that may have had the focus: the operator goes on in the reply box.
    let mut pending_before = 0;
    crate::state::effect(move || {
        let now = pending.with(Vec::len);
        if now < std::mem::replace(&mut pending_before, now) {
            refocus_if_lost(vec![
                "#composer-text:not([readonly])".into(),
                ".message-scroller".into(),
            ]);
        }
    });
    let has_older =
        Memo::new(move |_| thread.with(|t| t.as_ref().is_some_and(|t| t.older_token.is_some())));
    let more_above = Memo::new(move |_| shown.with(|s| s.span.start > 0) || has_older.get());
    let at_newest = Memo::new(move |_| shown.with(Shown::at_newest));
    let older_button = Memo::new(move |_| more_above.get() || loading_older.get());
    // Distance from the bottom at the last scroll: near it, new messages are followed.
    let from_bottom = StoredValue::new(0.0f64);
    // The first line in view at the last scroll: its `data-line`, its offset in the thread and
    // its offset from the top of the view. Lines added or removed above it (an older page, the
    // window moving) must not move it on screen. By its `data-line`, not its element: a status
    // update renders a message's element anew.
    let anchor = StoredValue::new(None::<(String, i32, i32)>);

    let move_window = move |to: fn(Range<usize>, &[LineRef<'_>]) -> Window| {
        let span = shown.with_untracked(|s| s.span.clone());
        if let Some(w) = thread.with_untracked(|t| t.as_ref().map(|t| to(span, &line_refs(t)))) {
            window.set(w);
        }
    };
    // The first line in view now, as the anchor: lines added above it stay above it.
    let note_anchor = move || {
        let (Some(el), Some(ol)) = (scroller.get_untracked(), list.get_untracked()) else {
            return;
        };
        let top = el.scroll_top();
        anchor.set_value(first_in_view(&ol, top).and_then(|line| {
            let key = line.get_attribute("data-line")?;
            Some((key, line.offset_top(), line.offset_top() - top))
        }));
    };
    let older = move || {
        if shown.with_untracked(|s| s.span.start > 0) {
            move_window(Window::earlier);
            return;
        }
        let loading = loading_older.get_untracked();
        let loads = has_older.get_untracked() && !loading;
        // Only for a page that comes: a thread shown whole (Home in one that fits the view)
        // stays followed. Its window set to its start stopped following what came below, and
        // no way down said so. And the line in view is held where it is as the page comes
        // (in a view never scrolled, no scroll had noted it).
        if loads || loading {
            // (Not from the focused button: the line held in place would push it out of view
            // above the page. The view stays at the top, the page below the button.)
            let keyboard = super::focus::focus_within("#load-older:focus-visible");
            if keyboard {
                anchor.set_value(None);
            }
            if window.get_untracked() != Window::Oldest {
                if !keyboard {
                    note_anchor();
                }
                window.set(Window::Oldest);
            }
        }
        if loads {
            on_load_older.run(());
        }
    };
    // A message come below while the operator reads back, in a window that holds the newest
    // already (a thread short enough to be rendered whole): the way down says so, as it does
    // when the window holds older lines.
    let unseen_below = RwSignal::new(false);
    let newest_id = Memo::new(move |_| {
        thread.with(|t| {
            t.as_ref()
                .and_then(|t| t.messages().next_back().map(|m| m.message_id.clone()))
        })
    });
    let newest_before = StoredValue::new(None::<MessageId>);
    crate::state::effect(move || {
        let newest = newest_id.get();
        let before = newest_before
            .try_update_value(|b| std::mem::replace(b, newest.clone()))
            .flatten();
        // (A window that holds older lines says so by itself, and its way down goes once it
        // is back at the newest, their lines below.)
        if before.is_some()
            && newest != before
            && from_bottom.get_value() >= STICK_PX
            && at_newest.get_untracked()
        {
            unseen_below.set(true);
        }
    });
    let jump_to_newest = move || {
        from_bottom.set_value(0.0);
        unseen_below.set(false);
        window.set(Window::Live);
        // (A window that holds every line already changes none: no line moves to follow.)
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    };
    // The operator's own message shows at once, wherever they had scrolled to. If it then fails
    // while they read back, its alert is not rendered: say so.
    let announcer = use_announcer();
    let sent = StoredValue::new((0usize, 0usize));
    crate::state::effect(move || {
        let (n, failed) = pending.with(|p| {
            let failed = p.iter().filter(|p| p.state.is_unsent());
            (p.len(), failed.count())
        });
        let (n_before, failed_before) = sent.get_value();
        if n > n_before {
            jump_to_newest();
        } else if failed > failed_before && !at_newest.get_untracked() {
            announcer.announce("A message was not sent: jump to the newest messages to retry it");
        }
        sent.set_value((n, failed));
    });
    // An older page loaded says what it brought: it comes above, out of view, and the change of
    // the focused button's text is not read by every screen reader.
    // (Counted above the line that was the oldest: a message come below meanwhile is not one.)
    let oldest = move || {
        thread.with_untracked(|t| {
            t.as_ref()
                .and_then(|t| t.messages().next().map(|m| m.message_id.clone()))
        })
    };
    let above = move |line: &MessageId| {
        thread.with_untracked(|t| {
            t.as_ref()
                .and_then(|t| t.messages().position(|m| m.message_id == *line))
        })
    };
    let before_load = StoredValue::new(None::<MessageId>);
    crate::state::effect(move || {
        if loading_older.get() {
            before_load.set_value(oldest());
            return;
        }
        // (A load that failed says so itself.)
        let Some(was_oldest) = before_load.try_update_value(Option::take).flatten() else {
            return;
        };
        if let Some(n) = above(&was_oldest).filter(|n| *n > 0) {
            let s = if n == 1 { "" } else { "s" };
            announcer.announce(format!("{n} older message{s} loaded"));
        }
    });

    // After the lines in the DOM change, or the view changes size (a banner above it, a resized
    // window): follow the newest, or keep the line being read in place. Observers, not an
    // effect, because they run once the DOM has been updated, always.
    let keep_place = move |_: &web_sys::Element| {
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        if window.get_untracked() == Window::Live && from_bottom.get_value() < STICK_PX {
            el.set_scroll_top(el.scroll_height());
        } else if let Some((key, was, in_view)) = anchor.get_value() {
            // Only when the line itself moved: a scroll since the last scroll event (a Home
            // still under way) is the operator's, and a scroll set here would undo and cancel
            // it (Home would never reach the top).
            let Some(line) = list.get_untracked().and_then(|ol| line_with_key(&ol, &key)) else {
                return;
            };
            let now = line.offset_top();
            if now != was {
                el.set_scroll_top(now - in_view);
                anchor.set_value(Some((key, now, in_view)));
            }
        }
    };
    super::observe::on_children_change(list, keep_place);
    super::observe::on_resize(scroller, keep_place);

    let at_an_edge = move || {
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let top = el.scroll_top();
        // (At the newest, the scroll event has made the window live.)
        if distance_from_bottom(&el) < STICK_PX && !at_newest.get_untracked() {
            move_window(Window::later);
            // Not following yet, even if the window is live again: the lines it brought in are
            // below, unread. Following resumes at the real bottom.
            from_bottom.set_value(f64::INFINITY);
        }
        // (Not while the keyboard is on "Load older messages": tabbing to it scrolled the top
        // into view, and a page that loaded by itself then pushed the focused button out of
        // view above the lines it kept in place. Its press loads. A click's focus, which the
        // browser does not show, is no keyboard's: the wheel still loads at the top.)
        if top < NEAR_TOP_PX && !super::focus::focus_within("#load-older:focus-visible") {
            older();
        }
    };
    // Where the browser has no `scrollend` event, a scroll has ended once no scroll event has
    // come for a while.
    let quiet = (!reports_scroll_end()).then(|| StoredValue::new_local(None::<Timeout>));

    // Each scroll event notes where the view is. What the view reaching an edge of the window
    // asks for (the window moved, an older page) waits for the scroll to end: it changes the
    // lines, and the scroll that keeps the place after that change, set while the browser still
    // animates a scroll (Home, End, a fling), cancels it badly in Chromium: the animation's rest
    // is applied on top, and the next Home or End does nothing.
    let on_scroll = move |_| {
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let top = el.scroll_top();
        let fb = distance_from_bottom(&el);
        from_bottom.set_value(fb);
        if fb < STICK_PX && at_newest.get_untracked() {
            if unseen_below.get_untracked() {
                unseen_below.set(false);
            }
            // Back at the newest: followed from now on, not from the scroll's end (a message
            // arriving meanwhile would be left below). The window's lines are the newest
            // already, so this moves none.
            if window.get_untracked() != Window::Live {
                window.set(Window::Live);
            }
        } else {
            note_anchor();
            // Away from the newest, the window holds on its lines; away from the top, an older
            // page arriving stays above it instead of pushing the lines being read out below.
            match window.get_untracked() {
                Window::Live => move_window(Window::hold),
                Window::Oldest if top >= NEAR_TOP_PX => move_window(Window::hold),
                _ => {}
            }
        }
        if let Some(quiet) = quiet {
            quiet.set_value(Some(Timeout::new(QUIET_MS, at_an_edge)));
        }
    };

    // Home at the very top scrolls nothing, so no scroll event asks for what is above (after a
    // page that failed to load, say): asked here. (Below the top, the end of its scroll asks.)
    let on_home = move |ev: web_sys::KeyboardEvent| {
        if ev.key() == "Home"
            && scroller
                .get_untracked()
                .is_some_and(|el| el.scroll_top() == 0)
        {
            older();
        }
    };

    view! {
        <div class="message-scroller" node_ref=scroller on:scroll=on_scroll on:scrollend=move |_| at_an_edge() on:keydown=on_home tabindex="0" role="region" aria-label="Message history">
            <div class="older">
                {move || if older_button.get() {
                    // One button throughout a load, so keyboard focus stays on it.
                    view! {
                        <button type="button" id="load-older" aria-disabled=move || loading_older.get().to_string() on:click=move |_| older()>
                            {move || if loading_older.get() { "Loading older messages…" } else { "Load older messages" }}
                        </button>
                    }.into_any()
                } else {
                    // The button the focus was on has loaded the last page: the focus stays in
                    // the history it scrolls.
                    hand_on("#load-older", ".message-scroller");
                    view! { <p class="start">"Start of the conversation"</p> }.into_any()
                }}
            </div>
            <ol id="messages" aria-label="Messages" node_ref=list>
                <For each=move || { keep_focus_in_line(); shown.with(|s| s.lines.clone()) } key=Line::key let:line>
                    {match line {
                        Line::Message(m) => {
                            let editable = thread.with_untracked(|t| {
                                t.as_ref().is_some_and(|t| t.undelivered_here(&m.message_id))
                            });
                            view! { <MessageItem message=m editable=editable on_reuse=on_reuse/> }.into_any()
                        }
                        Line::Mode(r, nth) => view! {
                            <li class="mode-change" data-to-mode=r.to_mode.as_param() data-line=format!("mode-{}-{nth}", r.timestamp.timestamp_millis())>
                                {describe_mode_change(&r)}" · "
                                <time datetime=r.timestamp.to_rfc3339()>{local_time(r.timestamp)}</time>
                            </li>
                        }.into_any(),
                    }}
                </For>
                <For each=move || pending_shown(at_newest.get()) key=|p| (p.local_id, p.state.clone()) let:p>
                    <PendingItem pending=p alerted=alerted on_retry=on_retry on_edit=on_edit/>
                </For>
            </ol>
            {move || {
                let newest = at_newest.get() && !unseen_below.get();
                // Scrolled down to the newest (End, a swipe), the way there goes, and with it
                // the focus it had: the keyboard goes on in the thread.
                if newest {
                    hand_on("#jump-newest", ".message-scroller");
                }
                (!newest).then(|| view! {
                <button type="button" id="jump-newest" on:click=move |_| {
                    jump_to_newest();
                    if let Some(el) = scroller.get_untracked() {
                        let _ = el.focus();
                    }
                }>
                    "Newer messages below: jump to the newest"
                </button>
            })}}
        </div>
    }
}

fn reports_scroll_end() -> bool {
    web_sys::window()
        .is_some_and(|w| js_sys::Reflect::has(&w, &"onscrollend".into()).unwrap_or(false))
}

fn distance_from_bottom(el: &web_sys::Element) -> f64 {
    (el.scroll_height() - el.client_height() - el.scroll_top()).max(0) as f64
}

/// The thread's lines as rendered, top to bottom.
fn lines_in(list: &web_sys::HtmlOListElement) -> impl Iterator<Item = web_sys::HtmlElement> {
    std::iter::successors(list.first_element_child(), |el| el.next_element_sibling())
        .map(JsCast::unchecked_into)
}

/// The line rendered with `data-line` = `key`.
fn line_with_key(list: &web_sys::HtmlOListElement, key: &str) -> Option<web_sys::HtmlElement> {
    lines_in(list).find(|el| el.get_attribute("data-line").as_deref() == Some(key))
}

/// The first line whose bottom is below `top`, the scroll offset of the thread (lines are laid
/// out relative to the scroller, its offset parent).
fn first_in_view(list: &web_sys::HtmlOListElement, top: i32) -> Option<web_sys::HtmlElement> {
    lines_in(list).find(|line| line.offset_top() + line.offset_height() > top)
}

#[component]
fn MessageItem(
    message: Message,
    /// Not delivered while the thread was open: offers Edit.
    editable: bool,
    on_reuse: Callback<String>,
) -> impl IntoView {
    let direction = match message.direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
        Direction::Unknown => "unknown",
    };
    // As it is shown: a direction the console does not know sits on the customer's side.
    let who = match message.direction {
        Direction::Inbound => "Customer",
        Direction::Outbound => "Agent",
        Direction::Unknown => "Unknown sender",
    };
    let status = message.status;
    // Text only: Leptos renders strings as text nodes, so markup in a body shows literally.
    let body = message.shown_text();
    let body_id = message.message_id.body_element_id();
    view! {
        <li
            class=format!("message {direction} status-{}", status.label())
            data-message-id=message.message_id.to_string()
            data-line=message.message_id.to_string()
            data-direction=direction
            data-status=status.label()
        >
            <span class="visually-hidden">{who}": "</span>
            // `dir="auto"`: a message in Arabic or Hebrew reads right to left, its punctuation
            // and numbers in their places.
            <p class="message-body" id=body_id.clone() dir="auto">{body}</p>
            // A file's own address, opened apart from the console (an embedding page's frame
            // included), and telling it nothing of the console (`noopener`, no referrer).
            {message.media_url.clone().map(|url| view! {
                <a class="media-link" href=url target="_blank" rel="noopener noreferrer" aria-describedby=body_id.clone()>
                    "Open the file"
                </a>
            })}
            <p class="message-meta">
                <time datetime=message.created_at.to_rfc3339()>{local_time(message.created_at)}</time>
                // (No status known yet, as for an AI reply heard from the stream: none said.)
                {(message.direction == Direction::Outbound && status != MessageStatus::Unknown).then(|| view! {
                    <span class="message-status" title=status.label()>
                        <span aria-hidden="true">{status.ticks()}</span>
                        <span class="visually-hidden">{status.label()}</span>
                    </span>
                })}
                // Not delivered (the carrier's or WhatsApp's refusal): Edit puts the text back in
                // the reply box, to send again, changed or as it was.
                {(status == MessageStatus::Failed && message.direction == Direction::Outbound).then(|| {
                    let text = message.body.clone().unwrap_or_default();
                    view! {
                        <span class="message-error">{undelivered(message.error_code.as_deref())}</span>
                        {(editable && !text.is_empty()).then(|| view! {
                            <button type="button" class="edit-undelivered" aria-describedby=body_id.clone() on:click=move |_| on_reuse.run(text.clone())>"Edit"</button>
                        })}
                    }
                })}
            </p>
        </li>
    }
}

#[component]
fn PendingItem(
    pending: PendingSend,
    alerted: StoredValue<Vec<u64>>,
    on_retry: Callback<u64>,
    on_edit: Callback<u64>,
) -> impl IntoView {
    let id = pending.local_id;
    let failed = match &pending.state {
        SendState::Sending | SendState::Checking(_) => None,
        SendState::Failed(reason) => Some(format!("Not sent: {reason}")),
        SendState::Unconfirmed(reason) => Some(format!("May not have been sent: {reason}")),
    };
    let on_its_way = match pending.state {
        SendState::Checking(_) => "Checking whether it went out…",
        _ => "Sending…",
    };
    let state = if failed.is_some() {
        "failed"
    } else {
        "pending"
    };
    // An alert the first time this failure shows, a plain line after.
    let first_shown = failed.is_some()
        && alerted
            .try_update_value(|ids| {
                !ids.contains(&id) && {
                    ids.push(id);
                    true
                }
            })
            .unwrap_or(false);
    view! {
        <li class=format!("message outbound local {state}") data-status=state data-local-id=id data-line=format!("local-{id}")>
            <p class="message-body" id=format!("local-body-{id}") dir="auto">{pending.body.clone()}</p>
            <p class="message-meta">
                {match failed {
                    None => view! { <span class="message-status" role="status">{on_its_way}</span> }.into_any(),
                    // Described by their message: with several failed, "Retry" alone says not which.
                    Some(reason) => view! {
                        <span class="message-error" role=first_shown.then_some("alert")>{reason}</span>
                        <button type="button" class="retry-send" aria-describedby=format!("local-body-{id}") on:click=move |_| on_retry.run(id)>"Retry"</button>
                        <button type="button" class="edit-send" aria-describedby=format!("local-body-{id}") on:click=move |_| on_edit.run(id)>"Edit"</button>
                    }.into_any(),
                }}
            </p>
        </li>
    }
}

/// What an undelivered message says: the code, when there is one, for whoever looks it up.
fn undelivered(code: Option<&str>) -> String {
    match code {
        Some(code) => format!("Not delivered ({code})"),
        None => "Not delivered".to_owned(),
    }
}
