//! One conversation: header, handoff, messages, composer.

use crate::api::retry::RateWait;
use crate::api::{ApiError, Client, SendTemplate};
use crate::components::announcer::use_announcer;
use crate::components::badges::{ChannelBadge, ModeBadge, WindowBadge};
use crate::components::clock::use_clock;
use crate::components::composer::{Composer, TemplateDraft, TemplateForm};
use crate::components::error_banner::ErrorBanner;
use crate::components::focus::{focus_first_after_render, focus_within, refocus_if_lost};
use crate::components::handoff_bar::HandoffBar;
use crate::components::message_list::{describe_mode_change, MessageList};
use crate::components::notice::Notice;
use crate::live::{follow, ConnectionStatus, Handlers, LinkState, StreamHandle};
use crate::model::blocked::Blocked;
use crate::model::events::{Skipped, StreamEvent};
use crate::model::handoff::{Debounce, HandoffAction, Press, QUIET_MS};
use crate::model::latest::Latest;
use crate::model::message::{may_change_opt_out, Message};
use crate::model::thread::Thread;
use crate::model::thread::{Change, Looked, SendState, UnconfirmedSend};
use crate::model::{AiMode, Channel, Conversation, ConversationId, ModeChange};
use crate::pages::inbox::ListedRows;
use crate::state::drafts::{self, OpenDraft, Shown, TemplatesOut};
use crate::state::embed::{ConsoleMessage, EmbedHost};
use crate::state::send_order;
use crate::state::session::use_session;
use crate::state::tabs::{use_tabs, TabMessage};
use crate::state::warm_start::WarmStart;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use std::rc::Rc;

/// What a failure shown in the thread's banner came from: the banner names it ("Take over
/// failed: …"), and offers it again where that is safe.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Attempt {
    Handoff(HandoffAction),
    LoadOlder,
}

impl Attempt {
    fn failed(self, e: &ApiError) -> String {
        let what = match self {
            Attempt::Handoff(action) => action.label(),
            Attempt::LoadOlder => "Loading older messages",
        };
        format!("{what} failed: {}", e.user_message())
    }
}

/// What a send that may have gone out becomes once it is looked for and not found: sent again
/// (Retry), or its text back in the reply box (Edit).
#[derive(Clone, Copy, PartialEq)]
enum ThenIfNotThere {
    Send,
    Edit,
}

/// What the template's banner says, apart from the other actions': a template that may have
/// gone out must stay in sight while the operator hands the conversation over and back, or its
/// form, which keeps its fields, looks ready to send (and bill) it again.
#[derive(Clone)]
enum TemplateTrouble {
    Failed(ApiError),
    /// One sent from here earlier whose answer never came: the page went first, or it was
    /// lost (`drafts::template_in_question`).
    InQuestion,
}

fn template_failed(trouble: &TemplateTrouble) -> String {
    let e = match trouble {
        TemplateTrouble::Failed(e) => e,
        TemplateTrouble::InQuestion => {
            return "A template sent from this conversation earlier may have gone out: its answer \
                    was not seen here. Check the conversation before sending it again."
                .to_owned()
        }
    };
    if e.answer_lost() {
        format!(
            "The template may have been sent: {} Check the conversation before sending it again.",
            e.user_message()
        )
    } else {
        format!("Sending the template failed: {}", e.user_message())
    }
}

/// What the live region says of a send that failed once the operator had left its conversation
/// (`what`: "reply" or "template"), to `to`.
fn failed_elsewhere(what: &str, to: &str, e: &ApiError) -> String {
    if e.answer_lost() {
        format!(
            "Your {what} to {to} may not have been sent: {} Check that conversation before sending it again.",
            e.user_message()
        )
    } else {
        format!("Your {what} to {to} was not sent: {}", e.user_message())
    }
}

const OPTED_OUT: &str =
    "This number has opted out: messages to it are refused until the customer sends START.";
const OPTED_IN: &str = "This number has opted back in: messages to it can be sent again.";

/// Frames in a row the stream could not read (a gateway mangling them, say) before the operator
/// is told: the indicator still says live, and news comes only by the refetches they bring.
const UNREAD_RUN: u32 = 3;
const FRAMES_UNREAD: &str = "Live updates are arriving that cannot be read: this conversation is refreshed instead, at most every 15 s, while they go on.";

/// How often a thread whose stream refused the key is refreshed instead (`LinkState::Polling`).
const POLL_WITHOUT_STREAM_MS: u32 = 15_000;

/// What a conversation's view shows, whichever state it is in: the conversation, its failure
/// (with its way back) or its "not found".
const THREAD_VIEW: &str = "#thread, #thread-error, #not-found, .back-link";

/// How many pages of a conversation's messages a Retry looks through for a send that may have
/// gone out, before it says it cannot tell.
const CHECK_PAGES: usize = 5;

/// A page of what was said while the stream was down, refused by its token.
const GAP_PAGE_REFUSED: &str =
    "Voicebip refused the page of messages said while the connection was down: Try again fetches them afresh";

#[component]
pub fn ThreadPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").map(ConversationId)));
    move || {
        let id = id.get()?;
        // One conversation replacing another ("Open it" under a reply that went to a newer
        // one, Back between two): the focus the old one had goes on to the new one, not to the
        // page's start. (One left for the list is the list's to place.)
        if focus_within(THREAD_VIEW) {
            refocus_if_lost(vec![".thread-pane".into(), "#main".into()]);
        }
        Some(view! { <ThreadView id=id/> })
    }
}

/// What keeps the conversation shown by `thread` from taking a reply now (`Some(None)`: nothing).
/// `None` before it has loaded, and once its view has gone (an answer may come after the
/// operator has moved on).
fn blocked_in(thread: RwSignal<Option<Thread>>) -> Option<Option<Blocked>> {
    thread
        .try_with_untracked(|t| t.as_ref().map(|t| t.blocked(Utc::now())))
        .flatten()
}

/// How many pages a walk from the newest may take ([`walk_again`]), and a refetch's gap fill.
const REWALK_PAGES: usize = 20;

/// Asks for a conversation's pages one after another, from `token` down, while `take` hands
/// back the token of the page after the one it was given, and at most `limit` of them: a
/// gateway answering each page with a fresh token would be asked without end. (One walker for
/// the three walks, `dyn` so that its future is built once.)
async fn walk_pages(
    client: &Client,
    conv: &ConversationId,
    mut token: Option<String>,
    limit: usize,
    shown: &dyn Fn() -> bool,
    take: &mut dyn FnMut(Conversation) -> Option<String>,
) -> Result<(), ApiError> {
    for _ in 0..limit {
        let page = client
            .get_conversation(conv, token.as_deref(), shown)
            .await?;
        match take(page) {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    Ok(())
}

/// The older pages' token was refused (expired, in a thread kept open for hours), and would be
/// for good: the pages are walked again from the newest, down past the oldest message shown,
/// whose next page's token takes its place. At most [`REWALK_PAGES`] pages: short of that,
/// Load older goes on from where the walk stopped.
async fn walk_again(
    client: &Client,
    conv: &ConversationId,
    thread: RwSignal<Option<Thread>>,
    refused: ApiError,
) -> Result<(), ApiError> {
    // (Nothing shown to walk down to: the refusal stands, with its Try again.)
    let Some(span) = thread
        .try_with_untracked(|t| t.as_ref().and_then(Thread::shown_span))
        .flatten()
    else {
        return Err(refused);
    };
    let shown = || thread.try_with_untracked(|_| ()).is_some();
    walk_pages(client, conv, None, REWALK_PAGES, &shown, &mut |page| {
        thread
            .try_update(|t| {
                let t = t.as_mut()?;
                let reached = t.merge_rewalk(page, &span);
                (!reached).then(|| t.older_token.clone()).flatten()
            })
            .flatten()
    })
    .await
}

/// Keyed by conversation: switching conversations builds a fresh view, so no state leaks across.
#[component]
fn ThreadView(id: ConversationId) -> impl IntoView {
    let session = use_session();
    let announcer = use_announcer();
    let clock = use_clock();
    let tabs = use_tabs();
    let notifier = crate::state::notify::use_notifier();
    let embed = use_context::<EmbedHost>();
    let thread = RwSignal::new(None::<Thread>);
    // What keeps the conversation from taking a reply now (`Some(None)`: nothing). `None`
    // before it has loaded, and once the view has gone (an answer may come after the operator
    // has moved on).
    let blocked_now = move || blocked_in(thread);
    let error = RwSignal::new(None::<ApiError>);
    // The wait the rate limit behind `error` asked for, if it is one.
    let rate_wait = StoredValue::new(RateWait::default());
    // A read's failure: shown (once), and its rate limit's wait kept.
    let failed = move |e: ApiError| {
        rate_wait.try_update_value(|w| w.heard(Some(&e), js_sys::Date::now()));
        set_if_new(error, e);
    };
    let action_error = RwSignal::new(None::<(Attempt, ApiError)>);
    let template_error = RwSignal::new(None::<TemplateTrouble>);
    // The operator's last reply or template went to the customer's newer conversation: this
    // one had been closed (elsewhere, unheard) and the customer has written since.
    let sent_elsewhere = RwSignal::new(None::<ConversationId>);
    let loading_older = RwSignal::new(false);
    let draft = RwSignal::new(drafts::load(&session.drafts.get_value(), &id));
    // Numbers the operator's sends (`None` once this view has gone).
    let alive = StoredValue::new(());
    let new_local_id = move || alive.try_get_value().map(|()| drafts::next_local_id());
    // Reads are tried again (a 429's wait, a 5xx) only while the conversation is shown.
    let shown = move || alive.try_get_value().is_some();
    // Kept as the reply's draft is: a template half typed survives switching conversations,
    // a reload, and a session the API ended.
    let template_draft =
        TemplateDraft::new(drafts::load_template(&session.drafts.get_value(), &id));
    // A template sent from here whose answer never came (the page went first, or it was lost),
    // unless this page has it on its way still (shown as sending).
    let out_here = use_context::<TemplatesOut>()
        .is_some_and(|TemplatesOut(out)| out.with_untracked(|out| out.contains(&id)));
    let now_ms = js_sys::Date::now() as u64;
    if !out_here && drafts::template_in_question(&session.drafts.get_value(), &id, now_ms) {
        template_error.set(Some(TemplateTrouble::InQuestion));
    }
    {
        let id = id.clone();
        template_draft.keep_with(move |fields| {
            drafts::save_template(&session.drafts.get_value(), &id, fields)
        });
    }
    let open_draft = use_context::<OpenDraft>();
    // The conversation's view shown now, if it is another than this one (the operator left it
    // and came back).
    let reopened = move |conversation: &ConversationId| {
        open_draft
            .and_then(|OpenDraft(o)| o.try_get_value().flatten())
            .filter(|s| s.conversation == *conversation && s.reply != draft)
    };
    // Whether this view has gone (an answer may come after the operator has moved on).
    let gone = move || thread.try_with_untracked(|_| ()).is_none();
    // The conversation as shown now: by this view while it is there; once it has gone, by the
    // conversation's view shown now, if the operator came back to it. A send or a handoff held
    // by a 429's wait checks it before it goes.
    let thread_now = move |conversation: &ConversationId| {
        if gone() {
            reopened(conversation).map_or(thread, |s| s.thread)
        } else {
            thread
        }
    };
    // A handoff's failure goes once its action no longer applies (the conversation changed
    // hands, or closed): only hidden, it came back, and was read out again, with the mode.
    let mode_now = Memo::new(move |_| thread.with(|t| t.as_ref().map(Thread::mode)));
    // (Also a failure that comes after the mode moved: its retries given up, say.)
    crate::state::effect(move || {
        let Some(mode) = mode_now.get() else {
            return;
        };
        let moot = action_error
            .with(|e| matches!(e, Some((Attempt::Handoff(a), _)) if !a.available_from(mode)));
        if moot {
            action_error.set(None);
        }
    });
    let debounce = StoredValue::new(Debounce::default());
    let busy = RwSignal::new(false);
    // The quiet time after a handoff answered (`Debounce::quiet_at`): the buttons, which
    // swallow presses then, say so, rather than look ready and ignore a press without a sign.
    let quiet = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    // Read with `try_get_value` wherever an answer may come after the operator has moved on to
    // another conversation: this view and its values are gone then, and `get_value` would panic,
    // which ends the app.
    let id = StoredValue::new(id);
    let report_mode = move |mode: AiMode| {
        if let (Some(host), Some(id)) = (embed, id.try_get_value()) {
            host.send(&ConsoleMessage::ModeChanged {
                conversation_id: id.to_string(),
                ai_mode: mode.as_param().to_owned(),
            });
        }
    };

    // A change of who answers, as the stream or a refetch brought it: the host page and the
    // operator are told (by whom, when the history says).
    let tell_mode = move |mode: AiMode, row: Option<&ModeChange>| {
        report_mode(mode);
        announcer.announce(match row {
            Some(row) => format!("{}. {}", describe_mode_change(row), mode.who_answers()),
            None => mode.who_answers().to_owned(),
        });
    };

    // Opened from the address, the first page may already be on its way (state/warm_start.rs).
    let early = StoredValue::new_local(
        use_context::<WarmStart>().and_then(|w| w.take_thread(&id.get_value())),
    );
    let order = StoredValue::new(Latest::default());
    // The sends that may not have gone out as this view last wrote them (from its first page on,
    // as it found them kept): its changes alone are written, beside another tab's.
    let unconfirmed_written = StoredValue::new(Vec::new());
    // Loads numbered up to this one were asked for before a handoff's answer came: an answer
    // to one that tells of no change newer than the thread knows may have been made before
    // the handoff, and its mode is not taken. (Their times tell that only where the handoff's
    // answer had a history row, in another second; else a take-over was undone on screen
    // until the next load, 15 s away with the stream down.)
    let mode_set_after = StoredValue::new(0_u64);
    // A reply of the operator's, or the AI's, that did not reach the customer.
    let tell_undelivered = move |failed: &[Message]| {
        if let Some(said) = not_delivered(failed) {
            announcer.announce(said);
        }
    };
    // The customer's messages, from the stream or recovered by a refetch (`count` of them, the
    // last saying `body`): said to screen readers, and notified when the operator is the one
    // answering.
    let hear = move |newest: &Message, count: usize| {
        let body = &newest.shown_text();
        let taken_over = thread
            .try_with_untracked(|t| t.as_ref().map(|t| (t.mode(), t.parties().1)))
            .flatten();
        let workspace = session
            .client
            .try_with_untracked(|c| c.as_ref().map(Client::workspace))
            .flatten();
        if let (Some((AiMode::Human, from)), Some(workspace)) = (taken_over, workspace) {
            notifier.inbound(&id.get_value(), workspace, newest, &from, body);
        }
        announcer.announce_news(if count == 1 {
            format!("New message from the customer: {body}")
        } else {
            format!("{count} new messages from the customer. The last: {body}")
        });
    };
    // What the stream brings before the first page is shown (it opened first, or that page's
    // answer was made before it): kept for that page, or it would be lost until a reconnect,
    // and handled as the stream's events are (`replay`, set below) once that page is in.
    let before_first = StoredValue::new(Vec::<StreamEvent>::new());
    let replay = StoredValue::new_local(None::<Rc<dyn Fn(Vec<StreamEvent>)>>);
    // The stream's state (the indicator's).
    let link = RwSignal::new(LinkState::Connecting);
    // `load`, for its own timer (set below): a load held back by a rate limit's wait.
    let load_later = StoredValue::new_local(None::<Rc<dyn Fn()>>);
    let held_for_wait = StoredValue::new(false);
    let load = move || {
        let (Some(client), Some(conv)) = (session.client.get_untracked(), id.try_get_value())
        else {
            return;
        };
        // Not within a long rate limit's wait (the refreshes of a timer, of the stream's tries):
        // each would be refused, and its banner said, again. (Try again says how long is left.)
        // Asked once it is over: what the stream missed meanwhile (its reconnect's load, held
        // back here) came by no other way, while it showed live.
        let until = rate_wait.with_value(RateWait::until_ms);
        let left = until - js_sys::Date::now();
        if left > 0.0 {
            if !held_for_wait.get_value() {
                held_for_wait.set_value(true);
                gloo_timers::callback::Timeout::new(left.ceil() as u32 + 50, move || {
                    // (Unless the view has gone meanwhile.)
                    if held_for_wait.try_set_value(false).is_none() {
                        if let Some(load) = load_later.try_with_value(Clone::clone).flatten() {
                            load();
                        }
                    }
                })
                .forget();
            }
            return;
        }
        let early = early.try_update_value(Option::take).flatten();
        let n = order.try_update_value(Latest::send).unwrap_or_default();
        // Where the thread shown ends now, before the stream brings more while this is out.
        let mark = thread
            .try_with_untracked(|t| t.as_ref().and_then(Thread::mark))
            .flatten();
        spawn_local(async move {
            // An early failure (offline at start, say) is asked again: this load may be a retry.
            let early = match early {
                Some(answer) => answer.await.ok().and_then(Result::ok),
                None => None,
            };
            let answer = match early {
                Some(conversation) => Ok(conversation),
                // (Not once its session has ended: the early request gave up then. Nor once
                // the view has gone while it waited: it gave up then too.)
                None if !client.in_session() || !shown() => return,
                None => client.get_conversation(&conv, None, &shown).await,
            };
            // (A failure does not count as the newest answer: an older request's, coming
            // after it, brings what it missed, where it would otherwise wait for Try again.)
            let fresh = match &answer {
                Ok(_) => order.try_update_value(|o| o.accept(n)),
                Err(_) => order.try_with_value(|o| o.is_fresh(n)),
            };
            if fresh != Some(true) {
                return;
            }
            // A failure stays up until a load succeeds: the stream's reopenings load again, and a
            // banner (an alert) taken down and put back each time would be read out each time.
            // Not for an answer asked for before the stream came back: it may have been made
            // while it was down, and the failure of a later request (its Try again) stands.
            let outdated = mark.as_ref().is_some_and(|m| {
                thread
                    .try_with_untracked(|t| t.as_ref().is_some_and(|t| t.came_back_since(m)))
                    .unwrap_or(false)
            });
            if answer.is_ok() && !outdated {
                error.set(None);
                rate_wait.set_value(RateWait::default());
            }
            let (gap, news) = match answer {
                Ok(mut c) => thread
                    .try_update(|t| match t {
                        Some(t) => {
                            let was = t.mode();
                            // (Its mode left out: the known one stays.)
                            if !t.tells_newer_change(&c.mode_history)
                                && mode_set_after.try_get_value().is_some_and(|m| n <= m)
                            {
                                c.ai_mode = AiMode::Unknown;
                            }
                            let gap = t.merge_latest(c, mark);
                            let news =
                                (t.mode() != was).then(|| (t.mode(), t.latest_change().cloned()));
                            (gap, news)
                        }
                        None => {
                            let mut fresh = Thread::new(c);
                            let shelf = session.drafts.get_value();
                            let kept = drafts::load_unconfirmed(&shelf, &conv);
                            // (One not taken, its message shown already, is settled here.)
                            unconfirmed_written.set_value(kept.clone());
                            for send in kept {
                                if let Some(local_id) = new_local_id() {
                                    fresh.restore_unconfirmed(local_id, send);
                                }
                            }
                            // Sends from an earlier view of it, still out: "Sending…" here
                            // too, until their answers settle them in this view.
                            for (local_id, send) in drafts::out_to(&shelf, &conv) {
                                fresh.resume_send(local_id, send);
                            }
                            // (The stream may have failed before this first answer came.)
                            if link.try_get_untracked().is_some_and(LinkState::is_down) {
                                fresh.stream_lost();
                            }
                            *t = Some(fresh);
                            (None, None)
                        }
                    })
                    .unwrap_or_default(),
                Err(e) => {
                    session.check(&client, &e);
                    failed(e);
                    (None, None)
                }
            };
            // Changed elsewhere while the stream was down, or by a handoff whose answer was
            // lost (its failure is then no longer so).
            if let Some((mode, row)) = news {
                tell_mode(mode, row.as_ref());
                if action_error.with_untracked(
                    |e| matches!(e, Some((Attempt::Handoff(a), _)) if a.target() == mode),
                ) {
                    action_error.set(None);
                }
            }
            // What the stream brought before this first page goes through as it would have,
            // now that there is a thread for it (a STOP refetches, a mode change is reported).
            let early_events = before_first.try_update_value(std::mem::take);
            if let Some(replay) = replay.try_with_value(Clone::clone).flatten() {
                if let Some(events) = early_events.filter(|e| !e.is_empty()) {
                    replay(events);
                }
            }
            // More came in while the stream was down than the newest page holds: the pages
            // between it and what was shown, so that nothing said meanwhile is missing.
            // (At most `REWALK_PAGES` of them. A gap deeper than that, some thousand messages
            // said while the stream was down, is left unfilled.)
            if let Some(g) = gap {
                let first = g.token.clone();
                let mut left = Some(g);
                let filled = walk_pages(
                    &client,
                    &conv,
                    Some(first),
                    REWALK_PAGES,
                    &shown,
                    &mut |page| {
                        let next = thread
                            .try_update(|t| t.as_mut()?.fill_gap(left.take()?, page))
                            .flatten()?;
                        let token = next.token.clone();
                        left = Some(next);
                        Some(token)
                    },
                )
                .await;
                match filled {
                    // (Deeper than the walk went: left, not walked again by each refresh.)
                    Ok(()) => {
                        if let Some(g) = left {
                            thread.try_update_untracked(|t| t.as_mut().map(|t| t.leave_gap(g)));
                        }
                    }
                    Err(e) => {
                        session.check(&client, &e);
                        // A gateway's 404 for a page token used up (as a retry of an answer
                        // that was lost spends it) is not the conversation gone: it stays on
                        // screen, the gap unfilled, and Try again walks it afresh.
                        failed(match e {
                            ApiError::NotFound(_) => ApiError::Rejected {
                                status: 404,
                                code: "NOT_FOUND".to_owned(),
                                message: GAP_PAGE_REFUSED.to_owned(),
                            },
                            e => e,
                        });
                    }
                }
            }
            let recovered = thread
                .try_update_untracked(|t| t.as_mut().and_then(Thread::take_recovered))
                .flatten();
            if let Some((count, newest)) = recovered {
                hear(&newest, count);
            }
            let undelivered = thread
                .try_update_untracked(|t| t.as_mut().map(Thread::take_undelivered))
                .unwrap_or_default()
                .unwrap_or_default();
            tell_undelivered(&undelivered);
        });
    };
    load_later.set_value(Some(Rc::new(load)));
    load();
    // Fetches the conversation again as shown now: by this view, or, once it has gone, by the
    // view of it opened since (an answer that came after the operator left and came back).
    let load_shown = move |conversation: &ConversationId| match reopened(conversation) {
        Some(shown) if gone() => shown.refetch.run(()),
        _ => load(),
    };
    // This view, as an answer that comes after an earlier view of the conversation had gone
    // finds it.
    if let Some(OpenDraft(open)) = open_draft {
        let conversation = id.get_value();
        open.set_value(Some(Shown {
            conversation: conversation.clone(),
            thread,
            reply: draft,
            template_sent: Callback::new(move |form: TemplateForm| template_draft.sent(&form)),
            template_failed: Callback::new(move |e: ApiError| {
                template_error.set(Some(TemplateTrouble::Failed(e)))
            }),
            refetch: Callback::new(move |()| load()),
            unconfirmed: Callback::new(move |send: UnconfirmedSend| -> bool {
                let local_id = new_local_id();
                let restored = thread
                    .try_update(|t| {
                        let t = t.as_mut()?;
                        local_id.map(|local_id| t.restore_unconfirmed(local_id, send.clone()))
                    })
                    .flatten();
                // Not loaded yet: its first page takes it from the drafts.
                restored.unwrap_or_else(|| {
                    drafts::add_unconfirmed(&session.drafts.get_value(), &conversation, send);
                    true
                })
            }),
        }));
        // Unless the next conversation's view has already taken the place.
        on_cleanup(move || {
            open.try_update_value(|o| {
                if o.as_ref().is_some_and(|s| s.reply == draft) {
                    *o = None;
                }
            });
        });
    }

    // Exactly one stream per open thread; it closes when this view goes away.
    let skipped = RwSignal::new(0u32);
    // Frames not read since the last that was (`UNREAD_RUN`).
    let unread_run = RwSignal::new(0u32);
    let frames_unread = Memo::new(move |_| unread_run.get() >= UNREAD_RUN);
    crate::state::effect(move || {
        if frames_unread.get() {
            announcer.announce(FRAMES_UNREAD);
        }
    });
    let refetch_due = StoredValue::new(false);
    let stream = StoredValue::new_local(None::<StreamHandle>);
    let poll = StoredValue::new_local(None::<gloo_timers::callback::Interval>);
    // When the thread was last refreshed for a stream that keeps failing, and for a frame
    // that was skipped.
    let failed_try_refreshed = StoredValue::new(f64::MIN);
    let skipped_refreshed = StoredValue::new(f64::MIN);
    // Whether `last` was as long ago as a refresh without the stream (or is ahead of a clock
    // put back since); if so, it is now.
    let refresh_due = move |last: StoredValue<f64>| {
        let now = js_sys::Date::now();
        let due = last
            .try_get_value()
            .is_some_and(|at| !(0.0..f64::from(POLL_WITHOUT_STREAM_MS)).contains(&(now - at)));
        if due {
            last.set_value(now);
        }
        due
    };
    // News the stream told of without bringing it (a frame that could not be read, a receipt
    // for a message not shown): the newest page brings it, a second after the first of a run,
    // then at most every 15 s, the last of a run still brought. (Each refetch spends the
    // shared rate limit: a newer API may stream a frequent kind, typing indicators say, and a
    // customer reading a long thread's older replies sends a receipt for each, which no
    // refetch of the newest page finds.)
    let refetch_soon = move || {
        if refetch_due.get_value() {
            return;
        }
        refetch_due.set_value(true);
        let since = js_sys::Date::now() - skipped_refreshed.get_value();
        // (At most the full interval: a clock put back must not hold it up.)
        let wait = (f64::from(POLL_WITHOUT_STREAM_MS) - since)
            .clamp(1_000.0, f64::from(POLL_WITHOUT_STREAM_MS));
        gloo_timers::callback::Timeout::new(wait as u32, move || {
            // (Unless the view has gone meanwhile.)
            if refetch_due.try_set_value(false).is_none() {
                skipped_refreshed.set_value(js_sys::Date::now());
                load();
            }
        })
        .forget();
    };
    // Without a stream: the thread refreshed on a timer, what each refresh brings that it did
    // not show heard as the stream's would be. Not a conversation that never loaded, or that
    // the API has since said is gone or not the workspace's: asking again every 15 s would only
    // spend the workspace's rate limit (its banner has Try again). A hidden tab asks too, as a
    // stream would bring its news: a customer's message there is what a notification is for.
    let poll_instead = move || {
        thread.try_update_untracked(|t| t.as_mut().map(Thread::stream_lost));
        load();
        let worth_asking = move || {
            thread.try_with_untracked(Option::is_some) == Some(true)
                && error.with_untracked(|e| !e.as_ref().is_some_and(ApiError::is_for_good))
        };
        poll.set_value(Some(gloo_timers::callback::Interval::new(
            POLL_WITHOUT_STREAM_MS,
            move || {
                if crate::state::browser::is_online() && worth_asking() {
                    load();
                }
            },
        )));
    };
    if let Some(client) = session.client.get_untracked() {
        let on_events: Rc<dyn Fn(Vec<StreamEvent>)> = Rc::new(move |events| {
            if thread.try_with_untracked(Option::is_none) == Some(true) {
                before_first.try_update_value(|b| b.extend(events));
                return;
            }
            let changes = thread
                .try_update(|t| {
                    t.as_mut()
                        .map(|t| events.into_iter().map(|e| t.apply(e)).collect())
                })
                .flatten()
                .unwrap_or_else(Vec::new);
            // The customer's messages of the batch (one frame's) are heard as one: said one
            // by one, a burst's fourth and later went unsaid (the announcer says at most three
            // together), and each one notified.
            let mut heard = (0, None::<Message>);
            let mut unseen = false;
            let mut undelivered = Vec::new();
            for change in changes {
                match change {
                    Change::NewInbound(m) => {
                        // STOP or START: the opt-out, which the reply box and its
                        // banner follow, is the server's to tell.
                        if may_change_opt_out(m.body.as_deref().unwrap_or_default()) {
                            load();
                        }
                        // (Said by the newest.)
                        let newer = heard
                            .1
                            .as_ref()
                            .is_none_or(|h| m.created_at >= h.created_at);
                        heard = (heard.0 + 1, if newer { Some(m) } else { heard.1 });
                    }
                    Change::ModeChanged(row) => tell_mode(row.to_mode, Some(&row)),
                    Change::Undelivered(m) => undelivered.push(m),
                    // The reply box shows and says it, where a reply could be sent: now, not at
                    // the clock's next tick (up to 15 s behind, it may not be in the last hour
                    // yet), and whatever this device's clock says (`Thread::closing_warned`).
                    Change::WindowClosing => {
                        clock.0.try_set(Utc::now());
                    }
                    Change::Unseen => unseen = true,
                    _ => {}
                }
            }
            // (What it brings is news down to where the thread ends now, as for a frame that
            // could not be read.)
            if unseen {
                thread.update_untracked(|t| t.as_mut().map(Thread::missed));
                refetch_soon();
            }
            if let (count, Some(last)) = heard {
                hear(&last, count);
            }
            tell_undelivered(&undelivered);
        });
        replay.set_value(Some(on_events.clone()));
        let handle = follow(
            client.stream_url(&id.get_value()),
            id.get_value(),
            Handlers {
                on_events: Box::new(move |events| {
                    if unread_run.get_untracked() != 0 {
                        unread_run.set(0);
                    }
                    on_events(events)
                }),
                // No replay after a reconnect: refetch the newest page and merge it.
                on_open: Box::new(load),
                on_skipped: Box::new(move |why| {
                    skipped.update(|n| *n += 1);
                    if matches!(why, Skipped::Malformed(_)) {
                        unread_run.update(|n| *n += 1);
                    }
                    // A frame that could not be read may have been a customer's message, and
                    // one of a type the console does not know (an API newer than it) may have
                    // changed what it shows: the newest page brings either, as after a
                    // reconnect. Not for another conversation's, nor for a heartbeat written
                    // as data.
                    if !matches!(why, Skipped::OtherConversation | Skipped::NotAnEvent) {
                        thread.update_untracked(|t| t.as_mut().map(Thread::missed));
                        refetch_soon();
                    }
                }),
                // The key may be refused by the stream alone (a gateway that refuses `?token=`,
                // which the contract's own references disagree on): asked the usual way, a key
                // that is refused there too ends the session (`load`'s `Session::check`), and
                // one that is taken keeps the operator in, the thread refreshed on a timer.
                on_unauthorized: Box::new(move || {
                    link.set(LinkState::Polling);
                    poll_instead();
                }),
                // At each failed try: the thread refreshed as often as without the stream.
                on_failed_try: Box::new(move || {
                    if refresh_due(failed_try_refreshed) {
                        load();
                    }
                }),
                on_state: Box::new(move |s| {
                    link.set(s);
                    // What comes while the stream is down is the next refetch's to bring.
                    thread.try_update_untracked(|t| match t {
                        Some(t) if s == LinkState::Live => t.stream_back(),
                        Some(t) if s.is_down() => t.stream_lost(),
                        _ => {}
                    });
                    // Refused for good (a gateway's 400 on the stream alone, say): the thread
                    // would otherwise stand still with no way to bring it up to date.
                    if s == LinkState::Stopped {
                        poll_instead();
                    }
                    // Held for the rate limit or the billing (up to an hour, where a gateway
                    // caps streams alone): refreshed as without the stream meanwhile, at each
                    // second of the countdown that is due. (A refresh the API holds too waits
                    // its own turn, and is not asked again while it does.)
                    let held =
                        matches!(s, LinkState::RateLimited { .. } | LinkState::Billing { .. });
                    if held && refresh_due(failed_try_refreshed) {
                        load();
                    }
                }),
            },
        );
        stream.set_value(Some(handle));
    }
    on_cleanup(move || {
        stream.update_value(|s| drop(s.take()));
        poll.update_value(|p| drop(p.take()));
    });

    // Another tab changed this conversation's mode: take the fresh state.
    tabs.on_news(move |news| {
        if let TabMessage::ModeChanged {
            conversation_id, ..
        } = news
        {
            if conversation_id == id.get_value() {
                load();
            }
        }
    });

    // Sends not sent go with the draft's text; those that may have gone out, apart (the next
    // Enter would send such a text a second time).
    let failed =
        Memo::new(move |_| thread.with(|t| t.as_ref().map_or_else(Vec::new, Thread::failed_texts)));
    // The draft last taken from another tab: not written back, which, that tab having typed
    // on meanwhile, would put an older text in its box.
    let adopted = StoredValue::new(None::<String>);
    let held_text = StoredValue::new(false);
    crate::state::effect(move || {
        let typing = draft.get();
        let kept = failed.with(|f| drafts::with_unsent(f.iter().map(String::as_str), typing));
        let taken = adopted.try_update_value(|a| a.take()).flatten();
        let emptied = kept.is_empty() && held_text.get_value();
        held_text.set_value(!kept.is_empty());
        session.drafts.with_value(|shelf| {
            if emptied {
                drafts::save_emptied(shelf, &id.get_value());
            } else if taken.as_deref() != Some(kept.as_str()) {
                drafts::save(shelf, &id.get_value(), &kept)
            }
        });
    });
    // The conversation open in another tab too: what is typed there is this reply box's text
    // too, and a reply sent there empties it (its next Enter here would send that text again).
    // Also with failed sends of this view's own, which its kept draft holds ahead of the text:
    // its next write (a Retry, an Edit) put its older text over that tab's. (A failed send's
    // text sent from there settles it here, as the message comes: `Thread`.)
    let typed_elsewhere = window_event_listener(leptos::ev::storage, move |ev| {
        let written = session
            .drafts
            .with_value(|shelf| drafts::written_elsewhere(shelf, &id.get_value(), &ev));
        let Some(written) = written else {
            return;
        };
        let text = failed.with_untracked(|f| drafts::typing_after(f, &written));
        if draft.get_untracked() != text {
            // (Sent from there: what was put back here went with it, as after a send here.)
            if written.is_empty() {
                drafts::forget_put_back(&id.get_value());
            }
            // What this view would write now, its failed sends ahead of that text, is not
            // written back: two tabs with failed sends would go back and forth for ever.
            let kept = failed.with_untracked(|f| {
                drafts::with_unsent(f.iter().map(String::as_str), text.clone())
            });
            adopted.set_value(Some(kept));
            draft.set(text);
        }
    });
    on_cleanup(move || typed_elsewhere.remove());
    let unconfirmed = Memo::new(move |_| thread.with(|t| t.as_ref().map(Thread::unconfirmed)));
    crate::state::effect(move || {
        // (Before the first page, what is kept waits for it.)
        if let Some(sends) = unconfirmed.get() {
            let was = unconfirmed_written.try_update_value(|w| std::mem::replace(w, sends.clone()));
            drafts::update_unconfirmed(
                &session.drafts.get_value(),
                &id.get_value(),
                &was.unwrap_or_default(),
                &sends,
            );
        }
    });

    let rows = use_context::<ListedRows>();
    // The operator's reply or template went: the inbox here and in the other tabs takes its
    // row's move as theirs, not as news (also once this view has gone). Not without the API's
    // time for it (this device's clock may be minutes off), nor once the session it went in
    // has ended (the tabs are another workspace's).
    let replied = move |to: ConversationId, at: Option<DateTime<Utc>>, workspace: &str| {
        let Some(at) = at.filter(|_| session.signed_in_to(workspace)) else {
            return;
        };
        if let Some(rows) = rows {
            rows.replied(&to, at);
        }
        tabs.post(&TabMessage::Replied {
            conversation_id: to,
            at,
        });
    };
    if let Some(rows) = rows {
        crate::state::effect(move || {
            thread.with(|t| {
                if let Some(t) = t {
                    rows.refresh(&t.conversation.summary);
                }
            })
        });
    }

    let load_older = Callback::new(move |_| {
        let (Some(client), Some(conv)) = (session.client.get_untracked(), id.try_get_value())
        else {
            return;
        };
        let Some(token) = thread.with_untracked(|t| t.as_ref().and_then(|t| t.older_token.clone()))
        else {
            return;
        };
        if loading_older.get_untracked() {
            return;
        }
        // Its last failure goes as it is tried again (its Try again hands the focus on).
        if action_error.with_untracked(|e| matches!(e, Some((Attempt::LoadOlder, _)))) {
            action_error.set(None);
        }
        loading_older.set(true);
        spawn_local(async move {
            let mut result = client
                .get_conversation(&conv, Some(&token), &shown)
                .await
                .map(|page| {
                    thread.try_update(|t| t.as_mut().map(|t| t.merge_older(page)));
                });
            if let Some(e) = result.as_ref().err().filter(|e| e.refuses_page_token()) {
                result = walk_again(&client, &conv, thread, e.clone()).await;
            }
            loading_older.try_set(false);
            if let Err(e) = result {
                session.check(&client, &e);
                action_error.try_set(Some((Attempt::LoadOlder, e)));
            }
        });
    });

    let act = Callback::new(move |(action, press): (HandoffAction, Press)| {
        let (Some(client), Some(conv)) = (session.client.get_untracked(), id.try_get_value())
        else {
            return;
        };
        let now = js_sys::Date::now();
        let mut go = false;
        // Close comes from its confirmation only. A key pressed is no stray second click
        // landing on the button that moved into place: the quiet time after a change is for
        // the mouse. (Nothing is in flight then: `busy` says so.)
        let confirmed = action == HandoffAction::Close;
        debounce.update_value(|d| go = d.click(now, confirmed || press == Press::Key));
        if !go {
            // Another handoff is still out: the question stays, to be answered again once it
            // is back, rather than go with nothing sent.
            if confirmed {
                confirming.set(true);
            }
            return;
        }
        busy.set(true);
        action_error.set(None);
        // A 429's wait may outlast the mode the operator decided on: another operator takes
        // the conversation over meanwhile, and a close would end their exchange; or the first
        // try went through unanswered and another operator has changed it back since. Then it
        // is not made. (When no view shows the conversation any more, that can't be told: it is
        // made, as asked.)
        let from = thread.with_untracked(|t| t.as_ref().map(Thread::mode));
        let known_then = thread
            .with_untracked(|t| t.as_ref().map(Thread::newest_change_at))
            .flatten();
        let still_wanted = {
            let conv = conv.clone();
            move || {
                thread_now(&conv)
                    .try_with_untracked(|t| {
                        t.as_ref().map(|t| {
                            from.is_some_and(|from| t.handoff_still_wanted(from, known_then))
                        })
                    })
                    .flatten()
                    .unwrap_or(true)
            }
        };
        spawn_local(async move {
            let result = client.set_mode(&conv, action.target(), &still_wanted).await;
            debounce.update_value(|d| d.settled(js_sys::Date::now(), result.is_ok()));
            busy.set(false);
            // Read from the debounce, at the answer and once its quiet time is over (a later
            // answer's, begun meanwhile, keeps it).
            let quiet_now = move || {
                let now = js_sys::Date::now();
                quiet.try_set(debounce.try_with_value(|d| d.quiet_at(now)) == Some(true));
            };
            quiet_now();
            if result.is_ok() {
                // (A millisecond past it: the timer and the clock round apart.)
                gloo_timers::callback::Timeout::new(QUIET_MS as u32 + 1, quiet_now).forget();
            }
            match result {
                // `changed: false` is the idempotent answer to a repeat: just take the state.
                Ok(mut c) => {
                    if let Some(sent) = order.try_with_value(Latest::last_sent) {
                        mode_set_after.try_set_value(sent);
                    }
                    c.ai_mode = action.made(c.ai_mode);
                    let to = c.ai_mode;
                    let unchanged = c.changed == Some(false);
                    if !unchanged {
                        // Even when the operator has moved on: the other tabs show it too.
                        tabs.post(&TabMessage::ModeChanged {
                            conversation_id: conv,
                            ai_mode: to,
                        });
                    }
                    let moved = thread
                        .try_update(|t| t.as_mut().map(|t| t.apply_mode_response(c, known_then)))
                        .flatten()
                        .unwrap_or(false);
                    // Unless the stream already told (it reports the same change once). Already
                    // so, though the screen said otherwise: another operator's doing, whom the
                    // operator is told of, not that they have it now.
                    if moved {
                        let by = unchanged
                            .then(|| {
                                thread.try_with_untracked(|t| t.as_ref()?.latest_change().cloned())
                            })
                            .flatten()
                            .flatten();
                        tell_mode(to, by.as_ref());
                    }
                }
                // Held by a 429 until its session ended (signed out, the key refused or
                // replaced): not made, and no one there to tell.
                Err(_) if !client.in_session() => {}
                Err(ApiError::RateLimited { .. }) if !still_wanted() => {
                    announcer.announce(format!(
                        "{} not done: the conversation changed while it waited.",
                        action.label()
                    ));
                }
                Err(e) => {
                    session.check(&client, &e);
                    // Refused for the conversation's state (closed elsewhere while the stream
                    // was down, say), or not answered (the change may have been made): the
                    // thread and its buttons take the server's view, as after a refused send.
                    // (Not under the rate limit, which another request would only spend, nor
                    // offline, where it would only fail with a second alert.)
                    if crate::state::browser::is_online()
                        && !matches!(
                            e,
                            ApiError::Unauthenticated(_) | ApiError::RateLimited { .. }
                        )
                    {
                        load_shown(&conv);
                    }
                    action_error.set(Some((Attempt::Handoff(action), e)));
                }
            }
        });
    });

    // Alt+T / Alt+R / Alt+C, as shown on the buttons.
    let shortcuts = window_event_listener(leptos::ev::keydown, move |ev| {
        // (A key held down is one press: the handoff is debounced, the close dialog is not.)
        if !ev.alt_key() || ev.ctrl_key() || ev.meta_key() || ev.repeat() {
            return;
        }
        let Some(mode) = thread.with_untracked(|t| t.as_ref().map(Thread::mode)) else {
            return;
        };
        let typing = focus_within("textarea, input");
        let Some(action) = HandoffAction::from_shortcut(&ev.key(), &ev.code(), typing)
            .filter(|a| a.available_from(mode))
        else {
            return;
        };
        ev.prevent_default();
        if action == HandoffAction::Close {
            confirming.set(true);
            return;
        }
        // Not behind the question whether to close: its answer would then close the mode the
        // shortcut had just set, which the operator never saw.
        if confirming.get_untracked() {
            announcer.announce("Answer the question whether to close first: Close or Cancel.");
            return;
        }
        // Held back, it is said: the focus is elsewhere, and no button tells.
        if busy.get_untracked() {
            announcer.announce(crate::components::handoff_bar::CHANGE_UNDER_WAY);
            return;
        }
        act.run((action, Press::Key));
    });
    on_cleanup(move || shortcuts.remove());

    // Back into the reply box, ahead of whatever is being typed there now; the focus into it,
    // or, if the conversation's state has disabled it, to why.
    let put_back = move |text: &str| draft.update(|d| *d = drafts::with_failed(text, d));
    // A send taken off the thread as the conversation no longer takes it, once a wait or a
    // check is over: its text back into the reply box, and said.
    let put_back_unsent = move |conversation: &ConversationId, text: &str| {
        // (The operator may be elsewhere by now: the focus stays where it is.)
        draft.update(|d| *d = drafts::with_put_back(conversation, text, d));
        // The reason shows now, not at the clock's next tick (a window shut since).
        clock.0.try_set(Utc::now());
        announcer.announce("Not sent: the text is back in the reply box.");
    };
    // Where the operator goes on writing: the reply box, or why it takes nothing.
    let reply_places = || {
        vec![
            "#composer-text:not([readonly])".to_owned(),
            "#composer-disabled-reason".to_owned(),
            ".message-scroller".to_owned(),
        ]
    };
    let focus_reply = move || focus_first_after_render(reply_places());
    // The same, once a control that had the focus has gone, and only then.
    let refocus_reply = move || refocus_if_lost(reply_places());
    // A send not (or no longer) in flight taken off the thread: for Edit, Retry, or as not to go
    // out.
    // (From `shown`: this view's thread, or the one of a view opened since.)
    let take_from = move |shown: RwSignal<Option<Thread>>, local_id: u64| {
        shown
            .try_update(|t| t.as_mut().and_then(|t| t.discard_send(local_id)))
            .flatten()
    };
    let take_send = move |local_id: u64| take_from(thread, local_id);
    // Said, naming the customer (the operator may be on another conversation by then), and
    // shown with a link to where it went; this conversation is fetched again (it shows
    // closed).
    let went_elsewhere = move |newer: ConversationId, to: &str| {
        announcer.announce(format!(
            "Your message to {to} went to their newer conversation: the one it was written in was closed."
        ));
        sent_elsewhere.try_set(Some(newer));
    };
    let send = move |local_id: u64, text: String| {
        let Some(client) = session.client.get_untracked() else {
            return;
        };
        let Some(first_to) = thread.with_untracked(|t| t.as_ref().map(Thread::addressing)) else {
            return;
        };
        // Addressed as the conversation is at each attempt: the customer may write from the
        // other channel while a 429 is waited out. Once the view has gone, as it was last seen
        // (the wait looks at it every moment).
        let first_channel = first_to.channel;
        let last_to = Rc::new(std::cell::RefCell::new(first_to));
        let to_now = {
            let last_to = last_to.clone();
            move || {
                if let Some(now) = thread
                    .try_with_untracked(|t| t.as_ref().map(Thread::addressing))
                    .flatten()
                {
                    last_to.replace(now);
                }
            }
        };
        // On its way from when its request is addressed (the client asks `to` as each attempt
        // leaves) until the client asks whether it is still wanted (which it does only while
        // it waits to send it again): what a reload makes of it (`drafts::keep_while_out`).
        let on_its_way = Rc::new(std::cell::Cell::new(false));
        let to = {
            let (to_now, last_to, on_its_way) =
                (to_now.clone(), last_to.clone(), on_its_way.clone());
            move || {
                on_its_way.set(true);
                to_now();
                last_to.borrow().clone()
            }
        };
        // As it is kept should its view or the page go before the answer.
        let reason = "The page was left before Voicebip answered.".to_owned();
        let sent_at = Utc::now();
        let kept_as = thread
            .try_update(|t| {
                let t = t.as_mut()?;
                t.begin_send(local_id, text.clone(), sent_at);
                t.pending()
                    .iter()
                    .find(|p| p.local_id == local_id)
                    .map(|p| p.kept_as(reason.clone()))
            })
            .flatten()
            .unwrap_or_else(|| UnconfirmedSend {
                text: text.clone(),
                sent_at,
                not_before: sent_at,
                newest_then: None,
                reason,
            });
        let conversation = id.get_value();
        let workspace = client.workspace();
        // Where its text goes, should it come back: a key refused meanwhile keeps its drafts.
        let drafts_then = session.drafts_now();
        let drafts_kept = move || session.drafts_kept_since(drafts_then);
        let going = drafts::keep_while_out(
            session.drafts.get_value(),
            conversation.clone(),
            local_id,
            kept_as.clone(),
            on_its_way.clone(),
            drafts_kept,
        );
        // A 429's wait may outlast the conversation taking replies (handed back to the AI,
        // closed, its window shut): then it is not sent, also when the operator left and came
        // back meanwhile. (When no view shows the conversation any more, that can't be told: it
        // is sent, as the operator asked, and a refusal for the state says so.) Nor once its
        // session has ended: not with a key the operator signed out of.
        let still_open = {
            let (workspace, on_its_way) = (workspace.clone(), on_its_way.clone());
            let conversation = conversation.clone();
            move || {
                on_its_way.set(false);
                to_now();
                blocked_in(thread_now(&conversation)).is_none_or(|b| b.is_none())
                    && session.signed_in_to(&workspace)
            }
        };
        let turn = send_order::take(conversation.clone(), local_id);
        spawn_local(async move {
            turn.come().await;
            // Waited behind a send held back by the rate limit: no longer to be sent once the
            // conversation no longer takes it (or the session has ended), as that send was not.
            let result = match still_open() {
                true => client.send_message(&text, &to, &still_open).await,
                false => Err(ApiError::RateLimited {
                    retry_after_secs: 0,
                }),
            };
            drop(turn);
            going();
            // Settled where it shows: in this view, or, once it has gone, in the view of the
            // conversation opened since, which took it from `drafts::out_to` as sending.
            let here = thread_now(&conversation);
            // Refused for the conversation's state (closed, opted out, the window closed while
            // the operator typed): the reply box takes the server's view, and says why.
            let refused = matches!(result, Err(ApiError::Rejected { .. }));
            // Its answer lost, it may have gone out: the API's newest page says (on the API,
            // unlike the simulator, no stream event need bring an outbound message soon), and
            // settles it before a Retry would send it twice.
            // (Not offline, where the refetch would only fail with a second alert: the stream's
            // return brings the thread up to date.)
            let lost = result.as_ref().is_err_and(ApiError::answer_lost)
                && crate::state::browser::is_online();
            if let Err(ApiError::Rejected { code, .. }) = &result {
                here.try_update(|t| t.as_mut().map(|t| t.refused_for(code, Utc::now())));
                // The views read the time on the clock's tick, up to 15 s behind: they see the
                // window shut now, not at the next tick.
                clock.0.try_set(Utc::now());
            }
            // Not this conversation's message: it went to the customer's newer one.
            let elsewhere = result
                .as_ref()
                .ok()
                .and_then(|(sent, _)| sent.conversation_id.clone())
                .filter(|c| *c != conversation);
            // (Not to the customer's newer conversation: its news, why it is there, is theirs.)
            if let (Ok((sent, _)), None) = (&result, &elsewhere) {
                replied(conversation.clone(), sent.created_at, &workspace);
            }
            match result {
                Ok((sent, to)) => match elsewhere.clone() {
                    // Shown in the newer conversation, not here.
                    Some(newer) => {
                        take_from(here, local_id);
                        went_elsewhere(newer, &to.to_number);
                    }
                    None => {
                        // Written for the other channel, and sent as the customer wrote since.
                        if to.channel != first_channel {
                            announcer.announce(format!(
                                "Your message to {} was sent by {}: the customer wrote by {} meanwhile.",
                                to.to_number,
                                to.channel.label(),
                                to.channel.label()
                            ));
                        }
                        let message = sent.into_message(text, &to);
                        let change = here
                            .try_update(|t| t.as_mut().map(|t| t.confirm_send(local_id, message)))
                            .flatten();
                        match change {
                            // Its failure came first, while it was still "Sending…".
                            Some(Change::Undelivered(m)) => tell_undelivered(&[m]),
                            // Said, as a template's is: "Sending…" came into the list with
                            // its words, which a live region may not read, and goes unsaid.
                            // (Not once the view is gone: the operator, elsewhere, would not
                            // know which reply it was.)
                            Some(_) if to.channel == first_channel => announcer.announce("Sent"),
                            _ => {}
                        }
                    }
                },
                // Held back by the rate limit, and no longer to be sent: nothing went out, and
                // the text goes back into the reply box, where its reason shows.
                Err(ApiError::RateLimited { .. })
                    if !still_open() && take_send(local_id).is_some() =>
                {
                    put_back_unsent(&conversation, &text)
                }
                // The same once the operator has left the conversation and come back to it:
                // into the reply box shown now, for the same reason (not the rate limit's).
                Err(ApiError::RateLimited { .. })
                    if session.signed_in_to(&workspace)
                        && !still_open()
                        && reopened(&conversation).is_some() =>
                {
                    if let Some(shown) = reopened(&conversation) {
                        take_from(here, local_id);
                        shown
                            .reply
                            .try_update(|d| *d = drafts::with_put_back(&conversation, &text, d));
                        clock.0.try_set(Utc::now());
                    }
                    announcer.announce("Not sent: the text is back in the reply box.");
                }
                Err(e) => {
                    let answer_lost = e.answer_lost();
                    let reason = e.user_message();
                    let kept_as = UnconfirmedSend {
                        reason: reason.clone(),
                        ..kept_as
                    };
                    // This view has gone: the one opened since shows it as sending no more,
                    // and takes it as a send that failed after its view had gone (below).
                    if gone() {
                        take_from(here, local_id);
                    }
                    let shown = thread
                        .try_update(|t| {
                            t.as_mut()
                                .map(|t| t.fail_send(local_id, reason, answer_lost))
                        })
                        .flatten()
                        .is_some();
                    // The operator has left the conversation (and the drafts are kept): the
                    // text goes back into its reply box if the operator is back on it, else
                    // into its kept draft; one that may have gone out is kept as such, not as
                    // the box's text.
                    if !shown && drafts_kept() {
                        let shelf = session.drafts.get_value();
                        // (Whether it is still in question: the conversation shown again may
                        // show its message already.)
                        let in_question = match reopened(&conversation) {
                            Some(s) if answer_lost => s.unconfirmed.run(kept_as),
                            Some(s) => {
                                s.reply.try_update(|d| {
                                    *d = drafts::with_put_back(&conversation, &text, d)
                                });
                                true
                            }
                            None if answer_lost => {
                                drafts::add_unconfirmed(&shelf, &conversation, kept_as);
                                true
                            }
                            None => {
                                let typing = drafts::load(&shelf, &conversation);
                                let kept = drafts::with_put_back(&conversation, &text, &typing);
                                drafts::save(&shelf, &conversation, &kept);
                                true
                            }
                        };
                        // Nothing on screen says so any more: the operator last saw "Sending…".
                        // (A refused key's sign-in screen says why itself.)
                        if in_question && session.signed_in() {
                            let to = last_to.borrow().to_number.clone();
                            let where_now = if answer_lost {
                                "It shows in that conversation as possibly not sent, with Retry."
                            } else {
                                "Its text is back in that conversation's reply box."
                            };
                            announcer.announce(format!(
                                "{} {where_now}",
                                failed_elsewhere("reply", &to, &e)
                            ));
                        }
                    }
                    session.check(&client, &e);
                }
            }
            // (A receipt that came while it was out, and was not its own, is asked about now.)
            let unseen = here.try_update(|t| t.as_mut().is_some_and(Thread::take_unseen));
            if refused || lost || elsewhere.is_some() || unseen == Some(true) {
                load_shown(&conversation);
            }
        });
    };
    let on_send = Callback::new(move |text: String| {
        if let Some(local_id) = new_local_id() {
            draft.set(String::new());
            // (What was put back has gone with the box's text: a text put back later heads it.)
            if let Some(id) = id.try_get_value() {
                drafts::forget_put_back(&id);
            }
            send(local_id, text);
        }
    });
    // Edit on an undelivered message: the message stays, and Edit may be pressed twice.
    let on_reuse = Callback::new(move |text: String| {
        if !draft.with_untracked(|d| d.starts_with(&text)) {
            put_back(&text);
        }
        focus_reply();
    });
    // A send taken off the thread, and sent again as a new one.
    let resend = move |local_id: u64| {
        if let Some(p) = take_send(local_id) {
            if let Some(local_id) = new_local_id() {
                send(local_id, p.body);
            }
        }
    };
    // A send that may have gone out (its answer lost, and no message of it shown since) is
    // looked for among the conversation's messages made since it began, and sent again only
    // if it is not there: the API takes no key that would make a second send harmless.
    let check_then_send = move |local_id: u64, then: ThenIfNotThere| {
        let (Some(client), Some(conversation)) =
            (session.client.get_untracked(), id.try_get_value())
        else {
            return;
        };
        let checking = thread
            .try_update(|t| t.as_mut().is_some_and(|t| t.begin_check(local_id)))
            .unwrap_or(false);
        if !checking {
            return;
        }
        // (Its bubble's "Checking…", inserted with its words, may go unread.)
        announcer.announce("Checking whether it went out…");
        spawn_local(async move {
            // (Still `Older` once the pages run out: too many came since to tell.)
            let mut looked = Looked::Older;
            let walked = walk_pages(
                &client,
                &conversation,
                None,
                CHECK_PAGES,
                &shown,
                &mut |page| {
                    let older = page.next_page_token;
                    looked = thread
                        .try_with_untracked(|t| {
                            t.as_ref()
                                .map(|t| t.look_for(local_id, &page.messages, older.is_some()))
                        })
                        .flatten()
                        .unwrap_or(Looked::Gone);
                    older.filter(|_| matches!(looked, Looked::Older))
                },
            )
            .await;
            let looked = walked.map(|()| looked);
            // In question again, with its Retry, and said: the focus has gone on to the reply
            // box, and its alert was said the first time it failed.
            let still_in_question = move |reason: String| {
                let shown = thread
                    .try_update(|t| {
                        t.as_mut()
                            .is_some_and(|t| t.uncheck(local_id, reason.clone()))
                    })
                    .unwrap_or(false);
                if shown {
                    announcer.announce(format!("May not have been sent: {reason}"));
                }
            };
            match looked {
                Ok(Looked::Found(message)) => {
                    let change = thread
                        .try_update(|t| t.as_mut().map(|t| t.confirm_found(local_id, *message)))
                        .flatten();
                    if let Some(Change::Undelivered(m)) = change {
                        tell_undelivered(&[m]);
                    }
                    announcer.announce("It had gone out already: it was not sent again.");
                    // (What else came meanwhile.)
                    load();
                }
                // Edit's: the box gets it back, to be changed and sent by the operator; also
                // where the check never could tell, said so, or the words stayed out of reach.
                Ok(looked @ (Looked::NotThere | Looked::Older))
                    if then == ThenIfNotThere::Edit =>
                {
                    if let Some(p) = take_send(local_id) {
                        put_back(&p.body);
                        announcer.announce(if looked == Looked::NotThere {
                            "It had not gone out: the text is back in the reply box."
                        } else {
                            "Too many messages came since to tell whether it went out: the text is back in the reply box, so check the thread before sending it."
                        });
                        refocus_reply();
                    }
                }
                // Not among the messages since: sent now, or, where the conversation no longer
                // takes replies, back into the reply box, where the reason shows.
                Ok(Looked::NotThere) if blocked_now().flatten().is_some() => {
                    if let Some(p) = take_send(local_id) {
                        put_back_unsent(&conversation, &p.body);
                    }
                }
                Ok(Looked::NotThere) => resend(local_id),
                // (Settled meanwhile, by its message the stream brought, or the view has gone:
                // kept with the drafts, it comes back in question.)
                Ok(Looked::Gone) => {}
                Ok(Looked::Older) => still_in_question(
                    "Too many messages came since to tell whether it went out.".to_owned(),
                ),
                Ok(Looked::Unsure) => still_in_question(
                    "A reply of the same words is on its way: Retry once it is answered, to tell which went out.".to_owned(),
                ),
                Err(e) => {
                    session.check(&client, &e);
                    still_in_question(format!(
                        "Could not check whether it went out: {}",
                        e.user_message()
                    ));
                }
            }
        });
    };
    let send_state = move |local_id: u64| {
        thread.with_untracked(|t| {
            t.as_ref().and_then(|t| {
                t.pending()
                    .iter()
                    .find(|p| p.local_id == local_id)
                    .map(|p| p.state.clone())
            })
        })
    };
    let on_edit = Callback::new(move |local_id: u64| {
        match send_state(local_id) {
            // Looked for first, as for Retry: put back unchecked, a text that went out would
            // be sent twice at the next Enter.
            Some(SendState::Unconfirmed(_)) => {
                check_then_send(local_id, ThenIfNotThere::Edit);
                // (Its Edit, which had the focus, has gone with its "Checking…".)
                refocus_reply();
            }
            // (Being checked: a second click.)
            Some(SendState::Checking(_)) => {}
            _ => {
                if let Some(p) = take_send(local_id) {
                    put_back(&p.body);
                    focus_reply();
                }
            }
        }
    });
    let on_retry = Callback::new(move |local_id: u64| {
        match send_state(local_id) {
            // Looked for first, whether or not the conversation still takes replies: put back
            // into the box unchecked, a text that went out would be sent twice at the next
            // take-over.
            Some(SendState::Unconfirmed(_)) => check_then_send(local_id, ThenIfNotThere::Send),
            // The conversation no longer takes replies (handed back to the AI, closed, opted
            // out, its window shut since): the text goes back into the reply box, where the
            // reason shows, rather than out to the customer.
            Some(SendState::Failed(_)) if blocked_now().flatten().is_some() => {
                on_edit.run(local_id)
            }
            Some(SendState::Failed(_)) => resend(local_id),
            // (On its way, or being checked: a second click.)
            _ => return,
        }
        // Its bubble, which had the focus, is gone: the operator goes on in the reply box, as
        // after a send.
        refocus_reply();
    });
    // A template is billed: a second Enter or click while one is out sends nothing.
    let templates_out = use_context::<TemplatesOut>()
        .map(|TemplatesOut(out)| out)
        .unwrap_or_else(|| RwSignal::new(Vec::new()));
    let on_template = Callback::new(move |form: TemplateForm| {
        let Some(client) = session.client.get_untracked() else {
            return;
        };
        let conversation = id.get_value();
        if templates_out.with_untracked(|out| out.contains(&conversation)) {
            return;
        }
        // Not where the AI answers (or the conversation is closed, or opted out): the form sends
        // nothing by then (read-only, kept for what was typed), but a press may have been on
        // its way. (Once no view shows the conversation, as asked: a refusal for the state says
        // so.)
        let templates_allowed = {
            let conversation = conversation.clone();
            move || {
                blocked_in(thread_now(&conversation))
                    .is_none_or(|b| !b.is_some_and(Blocked::stops_templates))
            }
        };
        if !templates_allowed() {
            return;
        }
        let Some(mut to) = thread.with_untracked(|t| t.as_ref().map(Thread::addressing)) else {
            return;
        };
        // Templates exist for WhatsApp only.
        to.channel = Channel::Whatsapp;
        let req = SendTemplate {
            to,
            template_name: form.name.clone(),
            language_code: form.language.clone(),
            parameters: form.parameters.clone(),
        };
        template_error.set(None);
        templates_out.update(|out| out.push(conversation.clone()));
        drafts::template_going(
            &session.drafts.get_value(),
            &conversation,
            js_sys::Date::now() as u64,
        );
        spawn_local(async move {
            let result = client.send_template(&req, &templates_allowed).await;
            templates_out.try_update(|out| out.retain(|c| *c != conversation));
            // (A lost answer keeps it in question, as does the page's going first: a reload
            // settles the fetch it aborts, as a lost answer, before the page goes.)
            // (Where its mark is now: another key signed in after a refusal took it in.)
            if !result.as_ref().is_err_and(ApiError::answer_lost) {
                drafts::template_answered(&session.drafts.get_value(), &conversation);
            }
            match result {
                // The server composes a template's text: show its copy, not a guess.
                Ok(sent) => {
                    if sent
                        .conversation_id
                        .as_ref()
                        .is_none_or(|c| *c == conversation)
                    {
                        replied(conversation.clone(), sent.created_at, &client.workspace());
                    }
                    template_draft.sent(&form);
                    // Also when this view has gone meanwhile: a template sent is not kept to
                    // be sent (and billed) again. (What was typed since it went is kept.)
                    drafts::forget_template_sent(&session.drafts.get_value(), &conversation, &form);
                    if let Some(shown) = reopened(&conversation) {
                        shown.template_sent.run(form);
                    }
                    load_shown(&conversation);
                    let here = !gone() || reopened(&conversation).is_some();
                    match sent.conversation_id.filter(|c| *c != conversation) {
                        Some(newer) => went_elsewhere(newer, &req.to.to_number),
                        None if here => announcer.announce("Template sent"),
                        // The operator is elsewhere by now: which template it was, by its number.
                        None => announcer
                            .announce(format!("Your template to {} was sent.", req.to.to_number)),
                    }
                }
                // Held back by the rate limit until its session ended: not sent, as a reply.
                Err(_) if !client.in_session() => {}
                // Held back by the rate limit until the conversation was no longer the
                // operator's: nothing went out, and the form (with its draft) stays, read-only.
                Err(ApiError::RateLimited { .. }) if !templates_allowed() => {
                    announcer.announce("Template not sent: the conversation no longer takes it.")
                }
                Err(e) => {
                    session.check(&client, &e);
                    // It may have gone out: the thread shows it if it did. Or it was refused
                    // for the conversation's state (closed or opted out while the stream was
                    // down): the thread and its form take the server's view, as after a reply.
                    if let ApiError::Rejected { code, .. } = &e {
                        thread_now(&conversation)
                            .try_update(|t| t.as_mut().map(|t| t.refused_for(code, Utc::now())));
                    }
                    if e.answer_lost() || matches!(e, ApiError::Rejected { .. }) {
                        load_shown(&conversation);
                    }
                    // Its view has gone, and with it the banner that would have said so: the
                    // conversation's view opened since shows it (its form, kept, looked ready
                    // to send the template again), its banner an alert; else the live region
                    // says it.
                    let said = failed_elsewhere("template", &req.to.to_number, &e);
                    let signed_in = session.signed_in_to(&client.workspace());
                    let trouble = Some(TemplateTrouble::Failed(e));
                    if let Some(Some(TemplateTrouble::Failed(e))) = template_error.try_set(trouble)
                    {
                        match reopened(&conversation) {
                            Some(shown) => shown.template_failed.run(e),
                            None if signed_in => announcer.announce(said),
                            None => {}
                        }
                    }
                }
            }
        });
    });

    // What decides the layout: loaded or not, and an error only while nothing is loaded (or
    // when the conversation is gone). A memo, so that no thread update, refresh (every stream
    // reconnect makes one) or failed refresh rebuilds the view: that would reset the scroll
    // position, the focus and whatever is typed in the template form.
    // The operator's Try again: the banner leaves as it is tried, and is back, announced,
    // should that fail too. Within a rate limit's wait, it says how long is left instead.
    let retry = move || {
        if let Some(said) = rate_wait.with_value(|w| w.refusal(js_sys::Date::now())) {
            announcer.announce(said);
            return;
        }
        error.set(None);
        load()
    };
    let screen = Memo::new(move |_| {
        let loaded = thread.with(Option::is_some);
        let error = error
            .get()
            .filter(|e| !loaded || matches!(e, ApiError::NotFound(_)));
        (error, loaded)
    });
    view! {
        {move || match screen.get() {
            (Some(ApiError::NotFound(_)), _) => view! {
                <section id="not-found" class="centered">
                    <h2>"Conversation not found"</h2>
                    <p>"It may have been removed, or the link is wrong."</p>
                    <A href=inbox_href() attr:id="back-to-inbox">"Back to the inbox"</A>
                </section>
            }.into_any(),
            // Where the list is hidden (a narrow window, the embed), with a way back to it: a
            // failure that Try again cannot mend (a conversation of another workspace) would
            // leave the operator on it.
            (Some(e), false) => view! {
                <A href=inbox_href() attr:class="back-link">"← All conversations"</A>
                <ErrorBanner
                    id="thread-error"
                    message=e.user_message()
                    on_retry=Callback::new(move |_| retry())
                    refocus=&[".thread-pane", "#main"]
                />
            }.into_any(),
            (_, false) => view! { <p class="loading" role="status">"Loading conversation…"</p> }.into_any(),
            (_, true) => view! {
                <ThreadLoaded
                    thread=thread
                    link=link
                    skipped=skipped
                    frames_unread=frames_unread
                    action_error=action_error
                    template_error=template_error
                    sent_elsewhere=sent_elsewhere
                    refresh_error=error
                    on_reload=Callback::new(move |_| retry())
                    busy=busy
                    quiet=quiet
                    confirming=confirming
                    draft=draft
                    template_draft=template_draft
                    template_sending=Signal::derive(move || {
                        id.try_get_value()
                            .is_some_and(|id| templates_out.with(|out| out.contains(&id)))
                    })
                    loading_older=loading_older
                    act=act
                    load_older=load_older
                    on_send=on_send
                    on_retry=on_retry
                    on_edit=on_edit
                    on_reuse=on_reuse
                    on_template=on_template
                    on_template_checked=Callback::new(move |()| {
                        // Checked by the operator: not said again at the next visit.
                        drafts::template_answered(&session.drafts.get_value(), &id.get_value());
                        template_error.set(None);
                        refocus_if_lost(vec![
                            "#template-name:not([readonly])".into(),
                            ".message-scroller".into(),
                        ]);
                    })
                />
            }.into_any(),
        }}
    }
}

#[component]
fn ThreadLoaded(
    thread: RwSignal<Option<Thread>>,
    link: RwSignal<LinkState>,
    skipped: RwSignal<u32>,
    /// Frames keep coming that cannot be read (`UNREAD_RUN`).
    frames_unread: Memo<bool>,
    action_error: RwSignal<Option<(Attempt, ApiError)>>,
    template_error: RwSignal<Option<TemplateTrouble>>,
    sent_elsewhere: RwSignal<Option<ConversationId>>,
    /// A refresh of the loaded thread failed (after a reconnect, say): what the stream said
    /// meanwhile may be missing until it is tried again.
    refresh_error: RwSignal<Option<ApiError>>,
    on_reload: Callback<()>,
    busy: RwSignal<bool>,
    quiet: RwSignal<bool>,
    confirming: RwSignal<bool>,
    draft: RwSignal<String>,
    template_draft: TemplateDraft,
    template_sending: Signal<bool>,
    loading_older: RwSignal<bool>,
    act: Callback<(HandoffAction, Press)>,
    load_older: Callback<()>,
    on_send: Callback<String>,
    on_retry: Callback<u64>,
    on_edit: Callback<u64>,
    on_reuse: Callback<String>,
    on_template: Callback<TemplateForm>,
    /// The operator has checked whether a template in question went out.
    on_template_checked: Callback<()>,
) -> impl IntoView {
    // A memo: what shows the mode is rebuilt when it changes, not at every message.
    let mode =
        Memo::new(move |_| thread.with(|t| t.as_ref().map_or(AiMode::Unknown, Thread::mode)));
    let summary = thread.with_untracked(|t| t.as_ref().map(|t| t.conversation.summary.clone()));
    let Some(summary) = summary else {
        return ().into_any();
    };
    let channel = Memo::new(move |_| {
        thread.with(|t| {
            t.as_ref()
                .map_or(summary.channel, |t| t.conversation.summary.channel)
        })
    });
    let remote = thread
        .with_untracked(|t| t.as_ref().map(|t| t.parties().1))
        .unwrap_or_default();
    let expires_at =
        Signal::derive(move || thread.with(|t| t.as_ref().and_then(Thread::window_expires_at)));
    let closing_warned =
        Signal::derive(move || thread.with(|t| t.as_ref().is_some_and(Thread::closing_warned)));
    let opt_out = Memo::new(move |_| {
        thread.with(|t| {
            t.as_ref()
                .is_some_and(|t| t.conversation.summary.opted_out())
        })
    });
    // Said as well as shown: the customer's STOP is heard as a message, which does not say that
    // replies are refused from now on (nor a START that they are no longer).
    let announcer = use_announcer();
    let mut was = opt_out.get_untracked();
    crate::state::effect(move || {
        let now = opt_out.get();
        // (Not to an operator writing a reply: the focus goes to why it can no longer be sent,
        // which is read out; unless that was already that it is closed.)
        let read_as_reason =
            now && mode.get_untracked() != AiMode::Closed && focus_within("#composer");
        if now != was && !read_as_reason {
            announcer.announce(if now { OPTED_OUT } else { OPTED_IN });
        }
        was = now;
    });
    // A memo: the notice is built once, not again (and announced again) at every message.
    let unreadable = Memo::new(move |_| thread.with(|t| t.as_ref().is_some_and(|t| t.unreadable)));

    view! {
        <article id="thread" data-conversation-id=summary.conversation_id.to_string()>
            <header class="thread-header">
                <A href=inbox_href() attr:class="back-link">"← All conversations"</A>
                <h2 class="remote-number">{remote}</h2>
                <ChannelBadge channel=channel/>
                <ModeBadge mode=mode/>
                <WindowBadge channel=channel expires_at=expires_at closing_warned=closing_warned/>
                <span class="agent">{format!("Agent {}", summary.agent_id)}</span>
                <ConnectionStatus state=link/>
                <span class="visually-hidden" id="skipped-frames" aria-hidden="true" data-count=move || skipped.get()>
                    {move || format!("{} stream frames skipped", skipped.get())}
                </span>
            </header>
            {move || opt_out.get().then(|| view! {
                <p class="banner warn" id="opt-out-banner">{OPTED_OUT}</p>
            })}
            {move || frames_unread.get().then(|| view! {
                <p class="banner warn" id="frames-unread">{FRAMES_UNREAD}</p>
            })}
            <HandoffBar mode=mode busy=busy quiet=quiet on_action=act confirming=confirming/>
            {move || refresh_error.get().map(|e| view! {
                <ErrorBanner
                    id="refresh-error"
                    message=format!("This conversation could not be brought up to date, so recent messages may be missing. {}", e.user_message())
                    on_retry=on_reload
                    refocus=&[".message-scroller"]
                />
            })}
            {move || action_error.get().map(|(attempt, e)| {
                let message = attempt.failed(&e);
                // Over the rate limit, a Try again at once would only be refused again: the
                // message says how long to wait, and the action's own button is there after.
                let limited = matches!(e, ApiError::RateLimited { .. });
                match attempt {
                    // Only while it can still be made (a refetch may show it made after all, or
                    // the conversation closed, or changed hands); a close is asked again, not
                    // made unasked.
                    Attempt::Handoff(action) if !action.available_from(mode.get()) => ().into_any(),
                    _ if limited => view! {
                        <p class="banner error" id="action-error" role="alert">{message}</p>
                    }.into_any(),
                    Attempt::Handoff(action) => {
                        let again = move |_| match action {
                            HandoffAction::Close => confirming.set(true),
                            _ => act.run((action, Press::Pointer)),
                        };
                        view! {
                            <ErrorBanner id="action-error" message=message on_retry=Callback::new(again) refocus=&[".handoff-bar button", ".message-scroller"]/>
                        }.into_any()
                    }
                    Attempt::LoadOlder => view! {
                        <ErrorBanner id="action-error" message=message on_retry=load_older refocus=&[".message-scroller"]/>
                    }.into_any(),
                }
            })}
            // No Try again: a template is sent again from its form, which keeps it; one here
            // would be a second, billed, send the operator did not look at.
            {move || template_error.get().map(|e| {
                let in_question = matches!(e, TemplateTrouble::InQuestion);
                view! {
                    <p class="banner error" id="template-error" role="alert">
                        {template_failed(&e)}
                        // (Else it is said at every visit for a day.)
                        {in_question.then(|| view! {
                            " "
                            <button type="button" id="template-checked" on:click=move |_| on_template_checked.run(())>
                                "Dismiss"
                            </button>
                        })}
                    </p>
                }
            })}
            {move || sent_elsewhere.get().map(|newer| view! {
                <p class="banner warn" id="sent-elsewhere" role="status">
                    "This conversation was closed, and the customer has written since: your message went to their newer conversation. "
                    <A href=conversation_href(newer)>"Open it"</A>
                </p>
            })}
            {move || unreadable.get().then(|| view! {
                <Notice
                    id="unreadable-messages"
                    text="Some messages in this conversation could not be read and are not shown."
                />
            })}
            <MessageList
                thread=thread
                loading_older=loading_older
                on_load_older=load_older
                on_retry=on_retry
                on_edit=on_edit
                on_reuse=on_reuse
            />
            <Composer
                channel=channel
                mode=mode
                opt_out=opt_out
                expires_at=expires_at
                closing_warned=closing_warned
                draft=draft
                template_draft=template_draft
                template_sending=template_sending
                on_send=on_send
                on_template=on_template
            />
        </article>
    }
    .into_any()
}

/// The inbox's address under the filters the thread was opened with: going back keeps them (and
/// so the list, and the row that takes the focus back).
pub(crate) fn inbox_href() -> impl Fn() -> String + Clone {
    under_inbox(String::new())
}

/// Conversation `id`'s address, under the same filters.
fn conversation_href(id: ConversationId) -> impl Fn() -> String {
    under_inbox(format!("/{}", id.path_segment()))
}

fn under_inbox(rest: String) -> impl Fn() -> String + Clone {
    let location = leptos_router::hooks::use_location();
    let inbox = crate::state::embed::inbox_path();
    move || {
        let query = location.search.get();
        let mark = if query.is_empty() { "" } else { "?" };
        crate::state::base::href(&format!("{inbox}{rest}{mark}{query}"))
    }
}

/// Sets `error` unless it already holds that failure, which would put the same alert back.
/// (Answers may come after the view has gone: `try_`, as a disposed signal panics.)
fn set_if_new(error: RwSignal<Option<ApiError>>, e: ApiError) {
    if error.try_with_untracked(|shown| shown.as_ref() != Some(&e)) == Some(true) {
        error.set(Some(e));
    }
}

/// What is said of messages found not delivered at once (a batch of receipts, a refetch after a
/// reconnect): one sentence, not one with each text in turn, which every failure is said as
/// (never left out of a burst, as a customer's message is).
fn not_delivered(failed: &[Message]) -> Option<String> {
    let newest = failed.iter().max_by_key(|m| m.created_at)?;
    Some(match failed.len() {
        1 => format!("Not delivered: {}", newest.shown_text()),
        n => format!(
            "{n} messages were not delivered. The last: {}",
            newest.shown_text()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::not_delivered;
    use crate::model::Message;

    #[test]
    fn failures_found_together_are_said_as_one() {
        let failed = |id: &str, at: &str, text: &str| -> Message {
            serde_json::from_str(&format!(
                r#"{{"message_id":"{id}","direction":"outbound","status":"failed","text":"{text}","created_at":"{at}"}}"#
            ))
            .expect("a message")
        };
        assert_eq!(not_delivered(&[]), None);
        let first = failed("m1", "2026-05-15T14:00:00Z", "Your order");
        assert_eq!(
            not_delivered(std::slice::from_ref(&first)).as_deref(),
            Some("Not delivered: Your order")
        );
        let newer = failed("m2", "2026-05-15T14:05:00Z", "Your refund");
        assert_eq!(
            not_delivered(&[newer, first]).as_deref(),
            Some("2 messages were not delivered. The last: Your refund")
        );
    }
}
