//! The conversation list: virtualised (only visible rows plus a margin exist in the DOM), with
//! infinite scroll, a keyboard-reachable "Load more", and j/k or arrow-key navigation.

use super::badges::{ChannelBadge, WindowBadge};
use super::clock::use_clock;
use super::focus::{focus_after_render, focus_within, refocus_if_lost, refocus_in_place_if_lost};
use crate::model::inbox::{
    agent_number, agent_numbers, measured_viewport, visible_range, Cursor, Inbox, ListFooter,
    Unread,
};
use crate::model::{time, AgentId, ConversationId, ConversationSummary};
use leptos::html;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

/// The list's one row in the tab order: the keyboard's row.
pub const TAB_STOP: &str = "#conversation-list a[tabindex='0']";

/// Must match `.conversation-row { height }` in the stylesheet.
const ROW_PX: usize = 72;
pub const ROW_HEIGHT: f64 = ROW_PX as f64;

/// The CSS length of `rows` rows, in whole pixels (no float formatting in the wasm).
fn rows_px(rows: usize) -> String {
    format!("{}px", rows * ROW_PX)
}
const OVERSCAN: usize = 6;
/// Start fetching the next page this many rows before the end.
const PREFETCH_ROWS: usize = 10;

#[component]
pub fn ConversationList(
    inbox: RwSignal<Inbox>,
    unread: RwSignal<Unread>,
    #[prop(into)] selected: Signal<Option<ConversationId>>,
    #[prop(into)] loading: Signal<bool>,
    /// A page failed and the page says so: scrolling asks for no more until the operator does
    /// (Try again, or Load more), or a failing request would be sent again and again.
    #[prop(into)]
    failed: Signal<bool>,
    /// The URL query to keep on row links (the filters).
    #[prop(into)]
    query: Signal<String>,
    on_load_more: Callback<()>,
) -> impl IntoView {
    let scroller = NodeRef::<html::Div>::new();
    let scroll_top = RwSignal::new(0.0);
    let viewport = RwSignal::new(first_viewport_guess());
    let active = RwSignal::new(0usize);
    let total = Memo::new(move |_| inbox.with(|i| i.items().len()));
    // Which side of each row is the customer (API.md leaves it to the data).
    let agent_numbers = Memo::new(move |_| inbox.with(|i| agent_numbers(i.items())));
    let has_more = Memo::new(move |_| inbox.with(|i| matches!(i.cursor, Cursor::More(_))));
    // The list's size for assistive technology: -1 ("unknown") while pages are still to come,
    // not the rows loaded so far ("1 of 50" in a list of 300).
    let set_size = Memo::new(move |_| {
        if has_more.get() {
            -1
        } else {
            total.get() as i64
        }
    });
    let footer = Memo::new(move |_| {
        let loading = loading.get();
        let failed = failed.get();
        inbox.with(|i| ListFooter::of(loading, failed, &i.cursor, i.items().len()))
    });
    let range = Memo::new(move |_| {
        visible_range(
            scroll_top.get(),
            viewport.get(),
            ROW_HEIGHT,
            total.get(),
            OVERSCAN,
        )
    });

    // The keyboard's row is a conversation, not a place: when a refresh moves it (news above
    // it), the index follows it, so that Tab and Enter find the same conversation.
    let active_id = StoredValue::new(None::<ConversationId>);
    crate::state::effect(move || {
        let i = active.get();
        let id = inbox.with_untracked(|b| b.items().get(i).map(|c| c.conversation_id.clone()));
        active_id.set_value(id);
    });
    crate::state::effect(move || {
        let moved_to =
            inbox.with(|b| active_id.with_value(|id| id.as_ref().and_then(|id| b.position(id))));
        if let Some(p) = moved_to.filter(|&p| p != active.get_untracked()) {
            active.set(p);
        }
    });

    // The one row in the tab order (the roving tabindex): the keyboard's, or the rendered row
    // nearest it when the list has scrolled it away or a filter has left fewer rows, so that
    // Tab always finds the list.
    let tab_stop = Memo::new(move |_| {
        let r = range.get();
        active.get().min(r.end.saturating_sub(1)).max(r.start)
    });
    // The keys' help, described on the row the Tab key lands on (a description on the list,
    // which never has the focus, is not read), until a key has moved in the list: read once on
    // the way in, not at every row after.
    let keyed = RwSignal::new(false);

    // A refresh that moves the keyboard's row in the page (a conversation written to goes to
    // the top, and the rows it passes are moved), or takes it out of the rows drawn, drops the
    // focus to the page's start. The row last focused is kept here, and when a refresh has
    // moved or removed it with the focus on it, its conversation's row takes the focus back
    // (and, through its on:focus, the roving index), without scrolling: the operator may have
    // scrolled the list meanwhile.
    let focused_row = StoredValue::new_local(None::<(ConversationId, web_sys::Element)>);
    // The list (its filters' query) the row was focused in.
    let focused_in = StoredValue::new(String::new());
    // Where that row was as the list last changed: its `data-index` may show where it is now
    // already (it follows the row), before the row leaves the rows drawn.
    let focused_at = StoredValue::new(None::<usize>);
    crate::state::effect(move || {
        inbox.track();
        range.track();
        let Some((id, el)) = focused_row.try_get_value().flatten() else {
            return;
        };
        let now_at = inbox.with_untracked(|b| b.position(&id));
        let was_at = focused_at.try_get_value().flatten();
        focused_at.set_value(now_at);
        // Rebuilt, or moved (news brought it up among the rows drawn), which takes the focus
        // off an element as well.
        if !el.is_connected() || document().active_element().as_ref() != Some(&el) {
            // Moved out of the rows drawn by a refresh, in the same list: up (its customer
            // wrote, and it went to the top while the list was scrolled down), the list goes to
            // it; down (news above pushed it past the rows drawn below the screen), the list
            // moves with the rows, so the screen shows what it showed. Either way the focus stays
            // on its conversation, where it fell on another's row out of sight, which Enter then
            // opened. Not a row the operator scrolled away from (still in its place), nor one of
            // a list started over (other filters, or the same again), which starts at its top.
            let same_list = focused_in.with_value(|q| *q == query.get_untracked());
            let top = match (was_at, now_at) {
                (Some(w), Some(p)) if same_list && !range.get_untracked().contains(&p) => {
                    match p.cmp(&w) {
                        std::cmp::Ordering::Less => Some(p as f64 * ROW_HEIGHT),
                        std::cmp::Ordering::Greater => {
                            Some(scroll_top.get_untracked() + (p - w) as f64 * ROW_HEIGHT)
                        }
                        std::cmp::Ordering::Equal => None,
                    }
                }
                _ => None,
            };
            if let Some(top) = top {
                scroll_top.set(top);
                if let Some(s) = scroller.get_untracked() {
                    s.set_scroll_top(top as i32);
                }
            }
            refocus_in_place_if_lost(vec![id.row_link_selector(), TAB_STOP.to_owned()]);
        }
    });
    let on_focusin = move |ev: web_sys::FocusEvent| {
        let el = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        let row = el.and_then(|el| {
            let li = el.closest("li[data-conversation-id]").ok().flatten()?;
            Some((
                ConversationId(li.get_attribute("data-conversation-id")?),
                el,
            ))
        });
        let at = row
            .as_ref()
            .and_then(|(id, _)| inbox.with_untracked(|b| b.position(id)));
        focused_row.set_value(row);
        focused_at.set_value(at);
        focused_in.set_value(query.get_untracked());
    };
    // Focus leaving for another element, or for the page itself (a click outside: the row is
    // still there a frame later), is the operator's doing: no refresh brings it back. Not the
    // window losing the focus (another app, another tab): the row is still the page's focused
    // element, and gets the focus back with the window.
    let on_focusout = move |ev: web_sys::FocusEvent| {
        if ev.related_target().is_some() {
            focused_row.set_value(None);
            return;
        }
        // Only if the row kept is still the one that lost the focus: Home or End takes the
        // focused row out (a focusout with nothing related, too) and has focused another by then.
        let left = ev.target();
        request_animation_frame(move || {
            let active = document().active_element();
            let lost = |r: &Option<(ConversationId, web_sys::Element)>| {
                r.as_ref().is_some_and(|(_, el)| {
                    el.is_connected()
                        && left.as_deref() == Some(el.as_ref())
                        && active.as_ref() != Some(el)
                })
            };
            if focused_row.try_with_value(lost) == Some(true) {
                focused_row.set_value(None);
            }
        });
    };

    // The viewport's height is the resize observer's (below); scrolling moves only its top.
    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            scroll_top.set(el.scroll_top() as f64);
        }
    };
    // Measured after layout, and again whenever the list is resized (a taller window shows more
    // rows at once). A new list is scrolled to the top, so there is nothing else to read.
    super::observe::on_resize(scroller, move |el| {
        // A hidden list (the conversation's pane in its place) measures 0: keep its rows for
        // when it is shown again.
        if el.client_height() == 0 {
            return;
        }
        let current = viewport.get_untracked();
        let next = measured_viewport(current, el.client_height() as f64, ROW_HEIGHT, OVERSCAN);
        if next != current {
            viewport.set(next);
        }
    });
    // A list started over (other filters, a refused page token) starts at its top: the old
    // list's scroll position, kept here, put the new first page's end in view, and so asked for
    // the page after it at once. The keyboard's row too: Tab went to the old one's place, below
    // the new first screen.
    let to_top = move || {
        // (No row kept is of this list any more.)
        focused_in.set_value(String::from("\u{0}"));
        active.set(0);
        scroll_top.set(0.0);
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(0);
        }
    };
    crate::state::effect(move || {
        if total.get() == 0 {
            to_top();
        }
    });
    // So does a list a poll started over (more news than a page): the news is at its top.
    let starts = Memo::new(move |_| inbox.with(|i| i.starts));
    crate::state::effect(move || {
        if starts.get() > 0 {
            to_top();
        }
    });
    // Infinite scroll: near the end of what is loaded, fetch the next page.
    crate::state::effect(move || {
        if has_more.get()
            && !loading.get()
            && !failed.get()
            && range.get().end + PREFETCH_ROWS >= total.get()
        {
            on_load_more.run(());
        }
    });

    let navigate = use_navigate();
    let prefix = crate::state::embed::inbox_path();
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        // (Shift+Enter too: the browser's "open in a new window" on the row's link.)
        if ev.alt_key() || ev.ctrl_key() || ev.meta_key() || ev.shift_key() && ev.key() == "Enter" {
            return;
        }
        let n = total.get_untracked();
        if n == 0 {
            return;
        }
        let current = active.get_untracked().min(n - 1);
        // A screen's worth of rows: the browser would scroll the list alone, leaving the
        // focus on a row out of sight.
        let page = scroller.get_untracked().map_or(1, |el| {
            ((f64::from(el.client_height()) / ROW_HEIGHT) as usize).max(1)
        });
        let next = match ev.key().as_str() {
            "ArrowDown" | "j" => (current + 1).min(n - 1),
            "ArrowUp" | "k" => current.saturating_sub(1),
            "PageDown" => (current + page).min(n - 1),
            "PageUp" => current.saturating_sub(page),
            "Home" => 0,
            "End" => n - 1,
            "Enter" => {
                if let Some(id) =
                    inbox.with_untracked(|i| Some(i.items().get(current)?.conversation_id.clone()))
                {
                    ev.prevent_default();
                    navigate(
                        &row_href(prefix, &id, &query.get_untracked()),
                        Default::default(),
                    );
                }
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        active.set(next);
        if !keyed.get_untracked() {
            keyed.set(true);
        }
        if let Some(el) = scroller.get_untracked() {
            let top = next as f64 * ROW_HEIGHT;
            let bottom = top + ROW_HEIGHT;
            let view_top = el.scroll_top() as f64;
            let view_bottom = view_top + el.client_height() as f64;
            if top < view_top {
                el.set_scroll_top(top as i32);
            } else if bottom > view_bottom {
                el.set_scroll_top((bottom - el.client_height() as f64) as i32);
            }
            measure();
        }
        focus_row(next);
    };

    view! {
        <div
            class="conversation-scroller"
            node_ref=scroller
            on:scroll=move |_| measure()
        >
            <ul
                id="conversation-list"
                aria-label="Conversations"
                style:height=move || rows_px(total.get())
                on:keydown=on_keydown
                on:focusin=on_focusin
                on:focusout=on_focusout
            >
                <For
                    each=move || {
                        let r = range.get();
                        inbox.with(|i| {
                            i.items()[r.clone()]
                                .iter()
                                .cloned()
                                .zip(r)
                                .collect::<Vec<_>>()
                        })
                    }
                    // By conversation alone, its row following its news and its place: a row
                    // rebuilt with the focus on it lost the focus, and taking it back had a
                    // screen reader read the row out again, pulled away from the thread it was
                    // reading, at each message of the conversation open.
                    key=|(c, _)| c.conversation_id.clone()
                    children=move |(c, index)| {
                        view! {
                            <ConversationRow
                                conversation=c
                                inbox=inbox
                                agent_numbers=agent_numbers
                                index=index
                                set_size=set_size
                                unread=unread
                                selected=selected
                                active=active
                                tab_stop=tab_stop
                                keyed=keyed
                                query=query
                            />
                        }
                    }
                />
            </ul>
            <p id="list-help" class="visually-hidden">
                "Use the arrow keys or j and k to move, Page Up and Page Down a screen at a time, Enter to open."
            </p>
            <div class="list-footer">
                {move || {
                    // Where the button goes while it has focus, focus follows: a keyboard user who
                    // pressed it (or tabbed onto it, which scrolls it into view and loads) is not
                    // dropped to the page's start.
                    let footer = footer.get();
                    // (This runs before the old footer leaves the page.) So does the list's end,
                    // where Load more hands it on.
                    let on_button = focus_within("#load-more");
                    if on_button || focus_within(".list-footer .end") {
                        match footer {
                            ListFooter::End if on_button => {
                                focus_after_render(".list-footer .end".to_owned())
                            }
                            ListFooter::More if on_button => {}
                            // Another list (Back to other filters): its first row, or the
                            // screen's content while it loads.
                            _ => refocus_if_lost(vec![TAB_STOP.into(), "#main".into()]),
                        }
                    }
                    match footer {
                        ListFooter::FirstPage => {
                            view! { <p role="status">"Loading conversations…"</p> }.into_any()
                        }
                        // One button while pages load, so it keeps its focus: the next page
                        // changes its label, not the element.
                        ListFooter::More => view! {
                            <button
                                type="button"
                                id="load-more"
                                aria-disabled=move || loading.get().to_string()
                                // A press while a page loads is ignored by the loader.
                                on:click=move |_| on_load_more.run(())
                            >
                                {move || match loading.get() {
                                    true => "Loading conversations…",
                                    false => "Load more",
                                }}
                            </button>
                            // A label change is not announced; a status is.
                            <span role="status" class="visually-hidden">
                                {move || match loading.get() {
                                    true => "Loading conversations…",
                                    false => "",
                                }}
                            </span>
                        }
                            .into_any(),
                        ListFooter::Empty => {
                            view! { <p class="empty">"No conversations match these filters."</p> }
                                .into_any()
                        }
                        ListFooter::End => {
                            view! { <p class="end" tabindex="-1">"That's all of them."</p> }
                                .into_any()
                        }
                        ListFooter::Unknown => ().into_any(),
                    }
                }}
            </div>
        </div>
    }
}

/// The list's height before it is measured: the window's, which the list never exceeds and
/// which needs no layout to read (see [`measured_viewport`]).
fn first_viewport_guess() -> f64 {
    web_sys::window()
        .and_then(|w| w.inner_height().ok())
        .and_then(|h| h.as_f64())
        .filter(|h| *h > 0.0)
        .unwrap_or(800.0)
}

fn row_href(prefix: &str, id: &ConversationId, query: &str) -> String {
    format!("{prefix}/{}{}", id.path_segment(), query)
}

fn focus_row(index: usize) {
    focus_after_render(format!("li[data-index='{index}'] a"));
}

#[component]
fn ConversationRow(
    /// The row as listed when it was made; from then on, as `inbox` has it.
    conversation: ConversationSummary,
    inbox: RwSignal<Inbox>,
    agent_numbers: Memo<Vec<(AgentId, String)>>,
    index: usize,
    set_size: Memo<i64>,
    unread: RwSignal<Unread>,
    selected: Signal<Option<ConversationId>>,
    active: RwSignal<usize>,
    tab_stop: Memo<usize>,
    /// A key has moved in the list: the tab stop no longer carries the keys' help.
    keyed: RwSignal<bool>,
    query: Signal<String>,
) -> impl IntoView {
    let clock = use_clock();
    let id = conversation.conversation_id.clone();
    // (Until the list drops the row, which may come just after the conversation has left it.)
    let row = {
        let id = id.clone();
        Memo::new(move |was: Option<&(ConversationSummary, usize)>| {
            inbox
                .with(|i| i.position(&id).map(|p| (i.items()[p].clone(), p)))
                .or_else(|| was.cloned())
                .unwrap_or_else(|| (conversation.clone(), index))
        })
    };
    let index = Memo::new(move |_| row.with(|(_, index)| *index));
    let is_selected = {
        let id = id.clone();
        Signal::derive(move || selected.with(|s| s.as_ref() == Some(&id)))
    };
    // (Followed: a later page may tell the agent's number.)
    let remote = move || {
        row.with(|(c, _)| {
            agent_numbers.with(|numbers| {
                c.remote_number(agent_number(numbers, &c.agent_id))
                    .to_owned()
            })
        })
    };
    // (Memos: what each shows is made again only when it changes, not at each of the row's.)
    let is_unread = Memo::new(move |_| row.with(|(c, _)| unread.with(|u| u.is_unread(c))));
    let activity = Memo::new(move |_| row.with(|(c, _)| c.activity_at()));
    let channel = Memo::new(move |_| row.with(|(c, _)| c.channel));
    let expires = Memo::new(move |_| row.with(|(c, _)| c.window_expires_at));
    let opt_out = Memo::new(move |_| row.with(|(c, _)| c.opted_out()));
    let prefix = crate::state::embed::inbox_path();
    let href = {
        let id = id.clone();
        move || row_href(prefix, &id, &query.get())
    };
    view! {
        <li
            class="conversation-row"
            class:selected=is_selected
            data-conversation-id=id.to_string()
            data-index=move || index.get()
            aria-posinset=move || index.get() + 1
            aria-setsize=move || set_size.get()
            style:top=move || rows_px(index.get())
        >
            <a
                href=move || crate::state::base::href(&href())
                aria-current=move || is_selected.get().then_some("page")
                tabindex=move || if tab_stop.get() == index.get() { "0" } else { "-1" }
                aria-describedby=move || (tab_stop.get() == index.get() && !keyed.get()).then_some("list-help")
                on:focus=move |_| active.set(index.get_untracked())
            >
                <span class="row-main">
                    {move || is_unread.get().then(|| view! {
                        <span class="unread-marker" title="New messages">
                            <span class="visually-hidden">"New messages"</span>
                        </span>
                    })}
                    <span class="remote-number">{remote}</span>
                    <ChannelBadge channel=channel/>
                    {move || opt_out.get().then(|| view! { <span class="badge opt-out-marker">"Opted out"</span> })}
                </span>
                <span class="row-meta">
                    <time class="last-message-time" datetime=move || activity.get().to_rfc3339()>
                        {move || time::relative(activity.get(), clock.now(), &chrono::Local)}
                    </time>
                    <WindowBadge channel=channel expires_at=expires/>
                </span>
            </a>
        </li>
    }
}
