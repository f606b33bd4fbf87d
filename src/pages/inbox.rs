//! The inbox: filters (kept in the URL), the conversation list, and the open thread beside it on
//! wide screens (alone on narrow ones).

use crate::api::retry::RateWait;
use crate::api::{ApiError, Client, ListPage};
use crate::components::announcer::use_announcer;
use crate::components::conversation_list::{ConversationList, TAB_STOP};
use crate::components::error_banner::ErrorBanner;
use crate::components::export_panel::{AgentOptions, ExportPanel};
use crate::components::focus::{focus_within, refocus_if_lost};
use crate::components::notice::Notice;
use crate::model::inbox::{
    agent_number, agent_numbers, title, with_agent, Cursor, Filters, Inbox, Unread, PAGE_SIZE,
};
use crate::model::{AgentId, Channel, ConversationId, ConversationSummary};
use crate::pages::thread_chunk::ThreadPane;
use crate::state::browser::is_hidden;
use crate::state::embed::{ConsoleMessage, EmbedHost};
use crate::state::notify::NotifyToggle;
use crate::state::session::use_session;
use crate::state::tabs::{use_tabs, PollLease, TabMessage};
use crate::state::warm_start::WarmStart;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate, use_params_map};

/// Lent to the open thread: what it learns live of its conversation (a message, a reopened
/// window, an opt-out) reaches the conversation's row at once, not at the next poll; and the
/// operator's reply is not news of it.
#[derive(Clone, Copy)]
pub struct ListedRows {
    inbox: RwSignal<Inbox>,
    unread: RwSignal<Unread>,
}

impl ListedRows {
    pub fn refresh(self, summary: &ConversationSummary) {
        self.inbox.maybe_update(|i| i.refresh(summary));
    }

    /// The operator's own reply to `id` went, made at `at` (also once its view has gone).
    pub fn replied(self, id: &ConversationId, at: DateTime<Utc>) {
        self.unread.try_update(|u| u.replied(id, at));
    }
}

/// Changes of one filter this close together are a run (`set_filters`).
const FILTER_RUN_MS: f64 = 2_000.0;

#[component]
pub fn InboxPage() -> impl IntoView {
    let session = use_session();
    let tabs = use_tabs();
    let location = use_location();
    let params = use_params_map();
    let navigate = use_navigate();
    let inbox_path = crate::state::embed::inbox_path();
    let embed = use_context::<EmbedHost>();

    // From the router's location: `<FlatRoutes>` does not update a route's own URL when only its
    // params change. Addresses outside the inbox (while leaving it) keep the filters as they were.
    let filters = Memo::new(move |prev: Option<&Filters>| {
        let path = location.pathname.get();
        match prev {
            Some(f) if !crate::state::base::app_path(&path).starts_with(inbox_path) => f.clone(),
            _ => location
                .query
                .with(|q| Filters::from_query(q.get("agent"), q.get("channel"))),
        }
    });
    let query_string = Signal::derive(move || filters.with(Filters::to_query));
    let selected = Signal::derive(move || params.with(|p| p.get("id").map(ConversationId)));
    let thread_open = Memo::new(move |_| selected.with(Option::is_some));
    // The conversation last opened, whose row takes the focus back when it is left.
    let left = StoredValue::new(None::<ConversationId>);
    crate::state::effect(move || {
        if let Some(id) = selected.get() {
            left.set_value(Some(id));
        }
    });

    let inbox = RwSignal::new(Inbox::new(filters.get_untracked()));
    let unread = RwSignal::new(Unread::default());
    provide_context(ListedRows { inbox, unread });
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    // The wait the rate limit that failed the last page asked for.
    let rate_wait = StoredValue::new(RateWait::default());
    // This tab's last poll of the list shown failed: it may be behind (the operator would not
    // know, as polls are quiet).
    let stale = RwSignal::new(false);
    // Answers to requests made for earlier filters are dropped.
    let generation = StoredValue::new(0u64);
    // Bumped to start the list over under the same filters (see `load_next`), once per filters.
    let restarts = RwSignal::new(0u32);
    let restarted_for = StoredValue::new(None::<Filters>);
    let announcer = use_announcer();

    // The operator chose other filters: what the new list holds is read out once its first
    // page comes, asked for or polled (the footer that shows it is not a live region a screen
    // reader reliably reads).
    let tell_count = StoredValue::new(false);
    let tell_list = move || {
        if tell_count.try_update_value(std::mem::take) != Some(true) {
            return;
        }
        let (n, more) = inbox.with_untracked(|i| (i.items().len(), i.cursor != Cursor::End));
        announcer.announce(match (n, more) {
            (0, _) => "No conversations match these filters.".to_owned(),
            (1, false) => "1 conversation.".to_owned(),
            (n, false) => format!("{n} conversations."),
            (n, true) => format!("{n} conversations shown, more as the list scrolls."),
        });
    };
    // `by`: the client that asked, whose key a 401 refused (a host may have handed over
    // another since, which it does not sign out).
    let apply = move |by: Option<Client>, result: Result<ListPage, ApiError>| match result {
        Ok(page) => {
            rate_wait.set_value(RateWait::default());
            let first = inbox.with_untracked(|i| i.cursor == Cursor::Start);
            inbox.update(|i| {
                i.unreadable |= page.unreadable > 0;
                i.append_page(page.conversations, page.next_page_token)
            });
            if first {
                tell_list();
            }
        }
        Err(e) => {
            // (Only answers to this list's requests come here: see `generation`.)
            if let Some(client) = by {
                session.check(&client, &e);
            }
            rate_wait.update_value(|w| w.heard(Some(&e), js_sys::Date::now()));
            error.set(Some(e));
        }
    };
    // The first page the app asked for at start-up: shown in the first render when it is already
    // here, else awaited by the first load instead of asking again.
    let mut early = use_context::<WarmStart>().and_then(|w| w.take(&filters.get_untracked()));
    let first_page_shown = match early.as_mut().map(|answer| answer.try_recv()) {
        Some(Ok(Some(result))) => {
            early = None;
            apply(session.client.get_untracked(), result);
            true
        }
        _ => false,
    };
    let early = StoredValue::new_local(early);

    let load_next = move || {
        let Some(client) = session.client.get_untracked() else {
            return;
        };
        let (f, token) = inbox.with_untracked(|i| (i.filters.clone(), i.cursor.clone()));
        let token = match token {
            Cursor::Start => None,
            Cursor::More(t) => Some(t),
            Cursor::End => return,
        };
        if loading.get_untracked() {
            return;
        }
        loading.set(true);
        error.set(None);
        let gen = generation.get_value();
        let early = match token {
            None => early.try_update_value(Option::take).flatten(),
            Some(_) => None,
        };
        spawn_local(async move {
            let prefetched = match early {
                Some(answer) => answer.await.ok(),
                None => None,
            };
            let result = match prefetched {
                Some(result) => result,
                None => {
                    let wanted = move || generation.try_get_value() == Some(gen);
                    client
                        .list_conversations_while(&f, token.as_deref(), PAGE_SIZE, &wanted)
                        .await
                }
            };
            // `try_`: the inbox may be gone by now (signed out meanwhile).
            if generation.try_get_value() != Some(gen) {
                return;
            }
            // The list's place was refused (a token expired, say). The list starts over from
            // the newest instead, once: a server refusing every token would send it back to its
            // top at each page.
            let first_time = restarted_for.with_value(|r| r.as_ref() != Some(&f));
            let refused = result
                .as_ref()
                .err()
                .is_some_and(ApiError::refuses_page_token);
            if token.is_some() && first_time && refused {
                restarted_for.set_value(Some(f));
                announcer.announce(
                    "The list started again from the newest: Voicebip no longer took its place.",
                );
                // (Load more, which may have had the focus, goes with the old list: the
                // list's footer hands its focus on.)
                restarts.update(|n| *n += 1);
                return;
            }
            // A place taken since: a later refusal (hours on, in a console kept open all day)
            // is a new one, and starts the list over again.
            if token.is_some() && result.is_ok() {
                restarted_for.set_value(None);
            }
            loading.set(false);
            apply(Some(client), result);
        });
    };

    let unreadable = Memo::new(move |_| inbox.with(|i| i.unreadable));
    // A memo: `stale` and `error` are written at each poll and page, and the warning, rebuilt,
    // would be said again each time.
    let show_stale = Memo::new(move |_| stale.get() && error.with(Option::is_none));
    crate::state::effect(move || inbox.with(|i| unread.update(|u| u.observe(i))));
    // The operator's reply from another tab.
    tabs.on_news(move |news| {
        if let TabMessage::Replied {
            conversation_id,
            at,
        } = news
        {
            ListedRows { inbox, unread }.replied(&conversation_id, at);
        }
    });
    // The open conversation is being read while the page is in view: never unread then. What
    // its stream brings while the tab is hidden counts (in the title, for the operator away
    // in another tab) until the tab is shown again.
    let in_view = RwSignal::new(!is_hidden());
    let shown_again =
        window_event_listener_untyped("visibilitychange", move |_| in_view.set(!is_hidden()));
    on_cleanup(move || shown_again.remove());
    crate::state::effect(move || {
        if !in_view.get() {
            return;
        }
        let Some(id) = selected.get() else { return };
        inbox.with(|i| {
            if let Some(c) = i.get(&id) {
                unread.update(|u| u.mark_seen(c));
            }
        });
    });
    // The other conversations' news is read out, as their markers show it to the eye.
    crate::state::effect(move || {
        unread.track();
        let open = selected.get_untracked();
        let said = inbox.with_untracked(|i| {
            unread
                .try_update_untracked(|u| match u.take_news(i.items(), open.as_ref())[..] {
                    [] => None,
                    [c] => {
                        let numbers = agent_numbers(i.items());
                        let remote = c.remote_number(agent_number(&numbers, &c.agent_id));
                        Some(format!("New message from {remote}"))
                    }
                    ref news => Some(format!("New messages in {} conversations", news.len())),
                })
                .flatten()
        });
        if let Some(said) = said {
            announcer.announce_news(said);
        }
    });
    // A memo, so the title and the host hear of the count only when it changes.
    let unread_count = Memo::new(move |_| unread.with(|u| inbox.with(|i| u.count(i.items()))));
    // (Every other screen names itself in the title as it comes, so the count goes with the
    // inbox; a reset here, at its cleanup, could come after the next screen's title.)
    let set_title = |n| crate::state::browser::set_title(&title(n));
    crate::state::effect(move || {
        let n = unread_count.get();
        set_title(n);
        if let Some(host) = embed {
            host.send(&ConsoleMessage::Unread { count: n });
        }
    });
    // A polled page started the list (over): what was being loaded, and its failure, are moot.
    start_polling(inbox, query_string, stale, move || {
        generation.update_value(|g| *g += 1);
        loading.set(false);
        error.set(None);
        rate_wait.set_value(RateWait::default());
        tell_list();
    });

    // Once rows are on screen, the thread's code is fetched, so that opening one does not wait.
    let chunk_asked = StoredValue::new(false);
    crate::state::effect(move || {
        if !chunk_asked.get_value() && inbox.with(|i| !i.items().is_empty()) {
            chunk_asked.set_value(true);
            crate::pages::thread_chunk::preload_after_paint();
        }
    });

    // The operator's Try again (or Load more) after a failed page. A place refused again, after
    // the list started over once, is refused for good: asked for again, the list starts over
    // (the operator's choice, where scrolling would have sent it back to its top at each page).
    // (Scrolling asks for no page while the failure shows: only the operator comes here then.)
    let try_again = move || {
        if let Some(said) = rate_wait.with_value(|w| w.refusal(js_sys::Date::now())) {
            announcer.announce(said);
            return;
        }
        if error.with_untracked(Option::is_some) {
            restarted_for.set_value(None);
        }
        load_next()
    };

    // A filter change starts over: new list, no old token; so does a token refused. The first
    // run loads the first page, unless the first render already had it.
    let skip_first_load = StoredValue::new(first_page_shown);
    let mut shown = None::<Filters>;
    crate::state::effect(move || {
        let f = filters.get();
        restarts.track();
        if shown.replace(f.clone()).is_some_and(|was| was != f) {
            tell_count.set_value(true);
            // A list of other filters is a new list: its first refused place starts it over.
            restarted_for.set_value(None);
        }
        if skip_first_load.try_update_value(std::mem::take) == Some(true) {
            return;
        }
        generation.update_value(|g| *g += 1);
        loading.set(false);
        stale.set(false);
        inbox.set(Inbox::new(f));
        load_next();
    });

    // Which select last changed the filters, when, and the address it went to: a run of
    // changes of one select is one step in the history. Arrowing through a closed select fires
    // `change` at each option passed, and Back went through each of them. Any other step (Back,
    // a conversation opened) ends the run: the address is no longer the run's.
    let run = StoredValue::new(None::<(&'static str, f64, String)>);
    let set_filters = move |by: &'static str, f: Filters| {
        let inbox = inbox_path;
        let path = match selected.get_untracked() {
            Some(id) => format!("{inbox}/{}{}", id.path_segment(), f.to_query()),
            None => format!("{inbox}{}", f.to_query()),
        };
        let now = js_sys::Date::now();
        let here = crate::state::base::app_address(
            &location.pathname.get_untracked(),
            &location.search.get_untracked(),
        );
        let replace = run.with_value(|r| {
            r.as_ref().is_some_and(|(last_by, at, address)| {
                *last_by == by && now - at < FILTER_RUN_MS && *address == here
            })
        });
        run.set_value(Some((by, now, path.clone())));
        navigate(
            &path,
            leptos_router::NavigateOptions {
                replace,
                ..Default::default()
            },
        );
    };
    // Every agent seen since the inbox opened, under any filters (the API lists none): a filter
    // that narrowed the list took the others out of both selects, and the export's choice with
    // them, which fell back to the first agent without a word.
    let agents = RwSignal::new(Vec::<AgentId>::new());
    crate::state::effect(move || {
        inbox.with(|inbox| agents.maybe_update(|known| inbox.learn_agents(known)));
    });
    // The agent listed, and every agent either select offers: with it, though none of its
    // conversations is loaded (a link to an agent's WhatsApp list, where it has none).
    let listed_agent = Memo::new(move |_| filters.with(|f| f.agent.clone()));
    let filter_agents =
        Memo::new(move |_| agents.with(|k| listed_agent.with(|a| with_agent(k, a.as_ref()))));
    let on_agent = {
        let set_filters = set_filters.clone();
        move |ev| {
            let v = event_target_value(&ev);
            let mut f = filters.get_untracked();
            f.agent = (!v.is_empty()).then(|| v.as_str().into());
            set_filters("agent", f);
        }
    };
    let on_channel = move |ev| {
        let mut f = filters.get_untracked();
        f.channel = Channel::from_param(&event_target_value(&ev));
        set_filters("channel", f);
    };

    view! {
        <div class="inbox" class:embedded=embed.is_some() class:thread-open=thread_open>
            <header class="topbar">
                <h1>"Conversations"</h1>
                <ExportPanel agents=filter_agents listed=listed_agent.into()/>
                // Not in a frame: browsers refuse notifications to a frame of another site,
                // whatever the operator allows.
                {embed.is_none().then(|| view! { <NotifyToggle/> })}
                <button type="button" id="sign-out" on:click=move |_| tabs.sign_out_everywhere()>
                    "Sign out"
                </button>
            </header>
            <section class="list-pane" aria-label="Conversation list">
                <div class="filters" role="group" aria-label="Filters">
                    // Each control inside its label, so that a narrow row wraps between fields.
                    <label for="filter-agent">
                        "Agent"
                        <select id="filter-agent" on:change=on_agent>
                            <option value="" prop:selected=move || filters.with(|f| f.agent.is_none())>"All agents"</option>
                            <AgentOptions
                                agents=filter_agents.into()
                                selected=listed_agent.into()
                            />
                        </select>
                    </label>
                    <label for="filter-channel">
                        "Channel"
                        <select id="filter-channel" on:change=on_channel>
                            <option value="" prop:selected=move || filters.with(|f| f.channel.is_none())>"All channels"</option>
                            <option value="sms" prop:selected=move || filters.with(|f| f.channel == Some(Channel::Sms))>"SMS"</option>
                            <option value="whatsapp" prop:selected=move || filters.with(|f| f.channel == Some(Channel::Whatsapp))>"WhatsApp"</option>
                        </select>
                    </label>
                </div>
                {move || error.get().map(|e| view! {
                    <ErrorBanner
                        id="error-banner"
                        message=e.user_message()
                        on_retry=Callback::new(move |_| try_again())
                        refocus=&[TAB_STOP, "#main"]
                    />
                })}
                {move || show_stale.get().then(|| view! {
                    <Notice
                        id="list-stale"
                        text="This list may be out of date: refreshing it failed. Trying again."
                    />
                })}
                {move || unreadable.get().then(|| view! {
                    <Notice
                        id="unreadable-rows"
                        text="Some conversations could not be read and are not listed."
                    />
                })}
                <ConversationList
                    inbox=inbox
                    unread=unread
                    selected=selected
                    loading=loading
                    failed=Signal::derive(move || error.with(Option::is_some))
                    query=query_string
                    on_load_more=Callback::new(move |_| try_again())
                />
            </section>
            // Where one pane hides the other (a narrow window or frame), the focus the hidden
            // pane had goes to the one shown: the conversation opened from a row, and that row
            // (else the list's current one) when the conversation is left. Whether the focus
            // was in a pane is read here, as the panes start to change; whether it was lost,
            // after the render, once the browser has moved it off what it hid.
            <section class="thread-pane" aria-label="Conversation" tabindex="-1">
                {move || if thread_open.get() {
                    if focus_within(".list-pane") {
                        refocus_if_lost(vec![".thread-pane".to_owned()]);
                    }
                    view! { <ThreadPane/> }.into_any()
                } else {
                    if focus_within(".thread-pane") {
                        let row = left.get_value().map(|id| id.row_link_selector());
                        let current = TAB_STOP.to_owned();
                        refocus_if_lost(row.into_iter().chain([current]).collect());
                    }
                    view! { <NoThreadSelected/> }.into_any()
                }}
            </section>
        </div>
    }
}

#[component]
pub fn NoThreadSelected() -> impl IntoView {
    view! { <p class="no-thread">"Select a conversation to read it."</p> }
}

/// The most pages after the first a poll asks for to reach the rows listed.
const POLL_FOLLOWS: usize = 3;

/// The list's first page, polled; with more news than a page (a busy workspace, a tab hidden a
/// while), the pages after it too, a few, down to the rows listed, as one page: a first page
/// that does not reach them starts the list over from the newest, and a workspace that busy
/// would send the operator back to the top at each poll. With how many rows the first page's
/// own answer held, when pages were followed. A page after the first that fails fails the
/// poll (its 429 waited out, its 401 ending the session, as the first's): what came before it
/// would start the list over.
async fn poll_down_to_the_list(
    inbox: RwSignal<Inbox>,
    client: &Client,
    filters: &Filters,
) -> Result<(ListPage, Option<usize>), ApiError> {
    let mut page = client
        .quiet()
        .list_conversations(filters, None, PAGE_SIZE)
        .await?;
    let first_answer = page.conversations.len();
    // (An empty first page, none of its rows readable, says nothing of the rows listed: it
    // leaves them as they are, rather than follow on to pages that would start the list over.)
    let mut followed = false;
    for _ in 0..POLL_FOLLOWS {
        let reaches = page.conversations.is_empty()
            || inbox
                .try_with_untracked(|i| {
                    i.filters != *filters || i.reaches_listed(&page.conversations)
                })
                .unwrap_or(true);
        let Some(token) = page.next_page_token.clone().filter(|_| !reaches) else {
            break;
        };
        let next = client
            .quiet()
            .list_conversations(filters, Some(&token), PAGE_SIZE)
            .await?;
        followed = true;
        page.conversations.extend(next.conversations);
        page.next_page_token = next.next_page_token;
        page.unreadable += next.unreadable;
    }
    Ok((page, followed.then_some(first_answer)))
}

/// Keeps the first page fresh while the tab is visible. The contract has no list-wide stream, so
/// one tab (holding the lease) polls and shares what it got with the others; a hidden tab waits
/// and refreshes as soon as it is shown again. A 429 pushes the next poll past `Retry-After`.
/// `stale`: whether the list's last poll failed, this tab's or the one polling it (cleared by
/// the next page, polled here or there).
/// `restarted`: the list started over from a polled page (`Inbox::merge_first_page`), and an
/// answer to a page asked for below its old rows must be dropped.
fn start_polling(
    inbox: RwSignal<Inbox>,
    query: Signal<String>,
    stale: RwSignal<bool>,
    restarted: impl Fn() + Copy + 'static,
) {
    let session = use_session();
    let tabs = use_tabs();
    let alive = StoredValue::new(true);
    on_cleanup(move || alive.set_value(false));

    // Pages another tab fetched for the same filters (the inbox asks for its own first page),
    // or its failure to.
    tabs.on_news(move |news| match news {
        TabMessage::InboxPage {
            query: q,
            conversations,
            next_page_token,
            unreadable,
            first_answer,
        } if q == query.get_untracked() => {
            stale.try_set(false);
            if inbox
                .try_update(|i| {
                    i.merge_polled(conversations, next_page_token, unreadable, first_answer)
                })
                .unwrap_or(false)
            {
                restarted();
            }
        }
        TabMessage::InboxStale { query: q } if q == query.get_untracked() => {
            stale.try_set(true);
        }
        _ => {}
    });

    spawn_local(async move {
        // Read each time: the inbox may be on screen before config.json has been read.
        let interval_ms = || {
            session
                .config
                .with_untracked(|c| c.as_ref().map(|c| c.inbox_poll_seconds))
                .unwrap_or(10)
                .max(2) as f64
                * 1000.0
        };
        // The first poll is one interval after the start, in the configuration's interval even
        // when config.json arrives after the loop started; later ones are set as they go.
        let started = js_sys::Date::now();
        let mut next_at = None::<f64>;
        // What a 429 asked this list to wait: a tab shown again polls at once, but not before
        // its end.
        let mut rate_wait = RateWait::default();
        let mut was_hidden = false;
        // The list whose poll lease this tab may hold, and the lease.
        let mut leased = None::<(String, PollLease)>;
        loop {
            gloo_timers::future::TimeoutFuture::new(1000).await;
            if !alive.try_get_value().unwrap_or(false) {
                break;
            }
            let query = inbox.with_untracked(|i| i.filters.to_query());
            // Another list now (or none shown): the old one's poll is another tab's to take.
            let hidden = is_hidden();
            if let Some((_, old)) = leased.take_if(|(old, _)| hidden || *old != query) {
                tabs.release_poll_lease(old);
            }
            if hidden {
                was_hidden = true;
                continue;
            }
            let now = js_sys::Date::now();
            if now < rate_wait.until_ms()
                || !was_hidden && now < next_at.unwrap_or_else(|| started + interval_ms())
            {
                continue;
            }
            was_hidden = false;
            next_at = Some(now + interval_ms());
            let Some(lease) = tabs.claim_poll_lease(&query, interval_ms() * 2.5) else {
                continue;
            };
            leased = Some((query.clone(), lease));
            let Some(client) = session.client.get_untracked() else {
                continue;
            };
            let filters = inbox.with_untracked(|i| i.filters.clone());
            // Held while the poll is out: a slow API's (pages followed, each read tried again
            // after 30 s unanswered) outlasts the lease, and another tab would poll alongside.
            // Only while the list is still this tab's to poll: shown, with these filters, in
            // this workspace (the lease's item is named by the session's workspace).
            let workspace = client.workspace();
            let renewed = async {
                loop {
                    gloo_timers::future::TimeoutFuture::new(interval_ms() as u32).await;
                    let ours = alive.try_get_value() == Some(true)
                        && !is_hidden()
                        && session.signed_in_to(&workspace)
                        && inbox.try_with_untracked(|i| i.filters.to_query()).as_ref()
                            == Some(&query);
                    // (Asked again at the next: a tab hidden a moment is shown again.)
                    if ours {
                        let _ = tabs.claim_poll_lease(&query, interval_ms() * 2.5);
                    }
                }
            };
            let polled = poll_down_to_the_list(inbox, &client, &filters);
            // (The renewal never ends: the poll does.)
            let Ok(polled) = crate::api::deadline::first(polled, renewed).await else {
                continue;
            };
            match polled {
                Ok((page, first_answer)) => {
                    if !alive.try_get_value().unwrap_or(false) {
                        break;
                    }
                    stale.try_set(false);
                    // The filters may have changed while the request was out.
                    if inbox.with_untracked(|i| i.filters != filters) {
                        continue;
                    }
                    tabs.post(&TabMessage::InboxPage {
                        query: filters.to_query(),
                        conversations: page.conversations.clone(),
                        next_page_token: page.next_page_token.clone(),
                        unreadable: page.unreadable,
                        first_answer,
                    });
                    let restart = inbox.try_update(|i| {
                        i.merge_polled(
                            page.conversations,
                            page.next_page_token,
                            page.unreadable,
                            first_answer,
                        )
                    });
                    if restart == Some(true) {
                        restarted();
                    }
                }
                // (Never sooner than the usual poll, nor later than `LONGEST_WAIT_SECS`.)
                Err(e @ ApiError::RateLimited { .. }) => {
                    let now = js_sys::Date::now();
                    rate_wait.heard(Some(&e), now);
                    let next = rate_wait.until_ms().max(now + interval_ms());
                    next_at = Some(next);
                    // The limit is the key's: the lease is held through the wait, which
                    // another tab, taking it over once it lapsed, would ask into again.
                    if let Some((query, _)) = &leased {
                        let _ = tabs.claim_poll_lease(query, next - now + interval_ms() * 2.5);
                    }
                    // A wait longer than a poll leaves the list behind: said, as for a refresh
                    // that failed.
                    if rate_wait.until_ms() > now + interval_ms()
                        && inbox.try_with_untracked(|i| i.filters == filters) == Some(true)
                    {
                        stale.try_set(true);
                        tabs.post(&TabMessage::InboxStale {
                            query: filters.to_query(),
                        });
                    }
                }
                Err(e) => {
                    session.check(&client, &e);
                    // (Not of a list no longer shown, nor once the session has ended with a
                    // refused key: the list goes, and its warning would be said on the
                    // connect screen.)
                    if client.in_session()
                        && inbox.try_with_untracked(|i| i.filters == filters) == Some(true)
                    {
                        stale.try_set(true);
                        tabs.post(&TabMessage::InboxStale {
                            query: filters.to_query(),
                        });
                    }
                }
            }
        }
        // The list is gone (signed out, another screen): its poll is another tab's to take.
        if let Some((_, lease)) = leased {
            tabs.release_poll_lease(lease);
        }
    });
}
