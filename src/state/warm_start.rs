//! The inbox's first page, asked for the moment the app starts. Otherwise a signed-in operator
//! opening the inbox waits for the configuration, the router and the whole shell to render before
//! the request even leaves; started here, it overlaps them (the cold-load benchmark, README).

use super::session::Session;
use crate::api::{ApiError, ListPage};
use crate::model::inbox::{Filters, PAGE_SIZE};
use futures_channel::oneshot;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;
use std::task::{Context, Waker};
use std::time::Duration;

type Answer = Result<ListPage, ApiError>;

/// How long the first render waits for the early answer: long enough for a local or nearby API,
/// short enough that a slow one still gets the shell (and its loading state) on screen at once.
const WAIT_FOR_ANSWER_MS: u64 = 250;

/// An early answer not taken by then is stale (the app opened elsewhere, e.g. a page not found):
/// the inbox, when it comes, asks again.
const FRESH_FOR_MS: f64 = 5_000.0;

#[derive(Clone, Copy)]
pub struct WarmStart {
    early: StoredValue<Option<(Filters, oneshot::Receiver<Answer>)>, LocalStorage>,
    settled: RwSignal<bool>,
    /// `Date.now()` when the request left.
    asked_at: f64,
}

impl WarmStart {
    /// Starts the request if the app opens on the (standalone) inbox with a session restored.
    pub fn begin(session: &Session) -> Self {
        let settled = RwSignal::new(true);
        let early = session
            .client
            .get_untracked()
            .zip(filters_in_address())
            .map(|(client, filters)| {
                let (tx, rx) = oneshot::channel();
                let asked = filters.clone();
                settled.set(false);
                start_now(async move {
                    let answer = client.list_conversations(&asked, None, PAGE_SIZE).await;
                    // Nobody waiting (the operator moved on) is fine: the answer is dropped.
                    let _ = tx.send(answer);
                    settled.set(true);
                });
                set_timeout(
                    move || settled.set(true),
                    Duration::from_millis(WAIT_FOR_ANSWER_MS),
                );
                (filters, rx)
            });
        WarmStart {
            early: StoredValue::new_local(early),
            settled,
            asked_at: js_sys::Date::now(),
        }
    }

    /// Whether the first render may go ahead: the early answer is in (so the inbox can show it in
    /// its very first frame), none was asked for, or it took too long to wait for.
    pub fn settled(&self) -> bool {
        self.settled.get()
    }

    /// The early answer's receiver for the first page of `filters`, at most once and while fresh:
    /// any later load, or one for other filters, asks the API itself.
    pub fn take(&self, filters: &Filters) -> Option<oneshot::Receiver<Answer>> {
        let (asked, rx) = self.early.try_update_value(Option::take).flatten()?;
        let fresh = js_sys::Date::now() - self.asked_at < FRESH_FOR_MS;
        (fresh && &asked == filters).then_some(rx)
    }
}

/// Runs `task` up to its first wait at once, so that the request inside it leaves now, before the
/// app renders, rather than from the task queue afterwards; the rest runs as a task. (A future
/// accepts a new waker on each poll, so the throwaway one here is replaced by the task's.)
fn start_now(task: impl Future<Output = ()> + 'static) {
    let mut task = Box::pin(task);
    if task
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending()
    {
        spawn_local(task);
    }
}

/// The filters of the inbox the address opens (`/conversations` or `/conversations/{id}`), or
/// `None` when it opens something else.
fn filters_in_address() -> Option<Filters> {
    let path = super::base::current_app_path();
    let inbox = match path.strip_prefix("/conversations") {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('/')
            .is_some_and(|id| !id.is_empty() && !id.contains('/')),
        None => false,
    };
    if !inbox {
        return None;
    }
    let search = web_sys::window()?.location().search().ok()?;
    let query = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    Some(Filters::from_query(
        query.get("agent"),
        query.get("channel"),
    ))
}
