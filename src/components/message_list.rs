//! The thread's messages, newest at the bottom, with mode changes as system lines between them.
//! Older pages load when the operator scrolls to the top, without the view jumping.

use crate::model::thread::{PendingSend, SendState, Thread};
use crate::model::{AiMode, Direction, Message, ModeChange};
use chrono::{DateTime, Local, Utc};
use leptos::html;
use leptos::prelude::*;

/// One line of the thread.
#[derive(Clone, PartialEq)]
enum Line {
    Message(Message),
    Mode(ModeChange),
}

/// Identity of a rendered line: a message is re-rendered when its status moves, nothing else.
#[derive(Clone, PartialEq, Eq, Hash)]
enum LineKey {
    Message(crate::model::MessageId, crate::model::MessageStatus),
    Mode(i64, AiMode),
}

impl Line {
    fn key(&self) -> LineKey {
        match self {
            Line::Message(m) => LineKey::Message(m.message_id.clone(), m.status),
            Line::Mode(r) => LineKey::Mode(r.timestamp.timestamp_millis(), r.to_mode),
        }
    }
}

fn lines(thread: &Thread) -> Vec<Line> {
    // History older than the oldest loaded message belongs to pages not fetched yet.
    let oldest = thread.messages().next().map(|m| m.created_at);
    let cutoff = if thread.older_token.is_some() {
        oldest
    } else {
        None
    };
    let mut lines: Vec<(DateTime<Utc>, Line)> = thread
        .messages()
        .map(|m| (m.created_at, Line::Message(m.clone())))
        .chain(
            thread
                .conversation
                .mode_history
                .iter()
                .filter(|r| cutoff.is_none_or(|c| r.timestamp >= c))
                .map(|r| (r.timestamp, Line::Mode(r.clone()))),
        )
        .collect();
    lines.sort_by_key(|(at, _)| *at);
    lines.into_iter().map(|(_, l)| l).collect()
}

pub fn local_time(at: DateTime<Utc>) -> String {
    crate::model::time::day_month_time(at.with_timezone(&Local).naive_local())
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

#[component]
pub fn MessageList(
    thread: RwSignal<Option<Thread>>,
    #[prop(into)] loading_older: Signal<bool>,
    on_load_older: Callback<()>,
    on_retry: Callback<u64>,
    on_edit: Callback<u64>,
) -> impl IntoView {
    let scroller = NodeRef::<html::Div>::new();
    let all_lines = Memo::new(move |_| thread.with(|t| t.as_ref().map(lines).unwrap_or_default()));
    let pending = Memo::new(move |_| {
        thread.with(|t| t.as_ref().map(|t| t.pending().to_vec()).unwrap_or_default())
    });
    let has_older =
        Memo::new(move |_| thread.with(|t| t.as_ref().is_some_and(|t| t.older_token.is_some())));
    // Distance from the bottom before the last change, so an older page prepended above keeps the
    // operator's place, and a new message at the bottom follows only if they were at the bottom.
    let from_bottom = StoredValue::new(0.0f64);

    crate::state::effect(move || {
        all_lines.track();
        pending.track();
        if let Some(el) = scroller.get() {
            let target =
                el.scroll_height() as f64 - el.client_height() as f64 - from_bottom.get_value();
            let stick = from_bottom.get_value() < 48.0;
            el.set_scroll_top(if stick {
                el.scroll_height()
            } else {
                target.max(0.0) as i32
            });
        }
    });

    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            let fb = el.scroll_height() as f64 - el.client_height() as f64 - el.scroll_top() as f64;
            from_bottom.set_value(fb.max(0.0));
            if el.scroll_top() < 40 && has_older.get_untracked() && !loading_older.get_untracked() {
                on_load_older.run(());
            }
        }
    };

    view! {
        <div class="message-scroller" node_ref=scroller on:scroll=on_scroll tabindex="0" role="region" aria-label="Message history">
            <div class="older">
                {move || {
                    if loading_older.get() {
                        view! { <p role="status">"Loading older messages…"</p> }.into_any()
                    } else if has_older.get() {
                        view! {
                            <button type="button" id="load-older" on:click=move |_| on_load_older.run(())>
                                "Load older messages"
                            </button>
                        }
                            .into_any()
                    } else {
                        view! { <p class="start">"Start of the conversation"</p> }.into_any()
                    }
                }}
            </div>
            <ol id="messages" aria-label="Messages">
                <For each=move || all_lines.get() key=Line::key let:line>
                    {match line {
                        Line::Message(m) => view! { <MessageItem message=m/> }.into_any(),
                        Line::Mode(r) => view! {
                            <li class="mode-change" data-to-mode=r.to_mode.as_param()>
                                {describe_mode_change(&r)}" · "
                                <time datetime=r.timestamp.to_rfc3339()>{local_time(r.timestamp)}</time>
                            </li>
                        }.into_any(),
                    }}
                </For>
                <For each=move || pending.get() key=|p| (p.local_id, p.state.clone()) let:p>
                    <PendingItem pending=p on_retry=on_retry on_edit=on_edit/>
                </For>
            </ol>
        </div>
    }
}

#[component]
fn MessageItem(message: Message) -> impl IntoView {
    let direction = match message.direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
        Direction::Unknown => "unknown",
    };
    let who = match message.direction {
        Direction::Inbound => "Customer",
        _ => "Agent",
    };
    let status = message.status;
    // Text only: Leptos renders strings as text nodes, so markup in a body shows literally.
    let body = message.body.clone().unwrap_or_default();
    view! {
        <li
            class=format!("message {direction} status-{}", status.label())
            data-message-id=message.message_id.to_string()
            data-direction=direction
            data-status=status.label()
        >
            <span class="visually-hidden">{who}": "</span>
            <p class="message-body">{body}</p>
            <p class="message-meta">
                <time datetime=message.created_at.to_rfc3339()>{local_time(message.created_at)}</time>
                {(message.direction == Direction::Outbound).then(|| view! {
                    <span class="message-status" title=status.label()>
                        <span aria-hidden="true">{status.ticks()}</span>
                        <span class="visually-hidden">{status.label()}</span>
                    </span>
                })}
                {message.error_code.clone().map(|code| view! {
                    <span class="message-error">{format!("Not delivered: {code}")}</span>
                })}
            </p>
        </li>
    }
}

#[component]
fn PendingItem(
    pending: PendingSend,
    on_retry: Callback<u64>,
    on_edit: Callback<u64>,
) -> impl IntoView {
    let id = pending.local_id;
    let failed = match &pending.state {
        SendState::Sending => None,
        SendState::Failed(reason) => Some(reason.clone()),
    };
    let state = if failed.is_some() {
        "failed"
    } else {
        "pending"
    };
    view! {
        <li class=format!("message outbound local {state}") data-status=state data-local-id=id>
            <p class="message-body">{pending.body.clone()}</p>
            <p class="message-meta">
                {match failed {
                    None => view! { <span class="message-status" role="status">"Sending…"</span> }.into_any(),
                    Some(reason) => view! {
                        <span class="message-error" role="alert">{format!("Not sent: {reason}")}</span>
                        <button type="button" class="retry-send" on:click=move |_| on_retry.run(id)>"Retry"</button>
                        <button type="button" class="edit-send" on:click=move |_| on_edit.run(id)>"Edit"</button>
                    }.into_any(),
                }}
            </p>
        </li>
    }
}
