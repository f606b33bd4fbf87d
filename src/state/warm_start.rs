//! The inbox's first page, asked for the moment the app starts. Otherwise a signed-in operator
//! opening the inbox waits for the configuration, the router and the whole shell to render before
//! the request even leaves; started here, it overlaps them (the README's cold-load stages show it
//! leaving before `main` returns).
//! An address with a conversation in it also starts fetching the thread's code (its own wasm
//! chunk in release builds) now rather than once the first render asks for it.

use super::session::Session;
use crate::api::{ApiError, ListPage};
use crate::model::inbox::{Filters, PAGE_SIZE};
use crate::model::{Conversation, ConversationId};
use futures_channel::oneshot;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;
use std::task::{Context, Waker};
use std::time::Duration;

/// How long the first render waits for the early answer. One render of shell and rows together
/// is quicker than the shell first and its rows after, but only while the answer comes soon:
/// with the API 40 ms away the two were even, and with it 100 ms away rendering the shell while
/// the request was out painted the rows 13 ms sooner (tests/bench/FINDINGS.md, "The first
/// page's early request").
const WAIT_FOR_ANSWER_MS: u64 = 40;

/// An early answer not taken by then is stale (the app opened elsewhere, e.g. a page not found):
/// the inbox, when it comes, asks again.
const FRESH_FOR_MS: f64 = 5_000.0;

/// A request that left at start-up for `key`, with the session's key then (its workspace), its
/// answer to come.
struct Early<K, T> {
    key: K,
    workspace: String,
    answer: oneshot::Receiver<Result<T, ApiError>>,
}

type Slot<K, T> = StoredValue<Option<Early<K, T>>, LocalStorage>;

/// Sends `request` now; `then` runs once it is answered.
fn ask<K, T: 'static>(
    key: K,
    workspace: String,
    request: impl Future<Output = Result<T, ApiError>> + 'static,
    then: impl FnOnce() + 'static,
) -> Early<K, T> {
    let (tx, answer) = oneshot::channel();
    start_now(async move {
        // Nobody waiting (the operator moved on) is fine: the answer is dropped.
        let _ = tx.send(request.await);
        then();
    });
    Early {
        key,
        workspace,
        answer,
    }
}

#[derive(Clone, Copy)]
pub struct WarmStart {
    inbox: Slot<Filters, ListPage>,
    /// The open conversation's newest page, when the address has one.
    thread: Slot<ConversationId, Conversation>,
    settled: RwSignal<bool>,
    /// `Date.now()` when the requests left.
    asked_at: f64,
    session: Session,
}

impl WarmStart {
    /// Starts the requests if the app opens on the (standalone) inbox with a session restored.
    pub fn begin(session: &Session) -> Self {
        let opens = opens(&super::base::current_app_path());
        let client = session.client.get_untracked();
        // Signed out, the address leads to the connect screen first: no thread yet.
        if let (Some(_), Some(Opens::Conversation(_))) = (&client, &opens) {
            crate::pages::thread_chunk::preload();
        }
        let settled = RwSignal::new(true);
        let inbox = client
            .clone()
            .zip(opens.as_ref().and_then(|_| filters_in_address()))
            .map(|(client, filters)| {
                settled.set(false);
                set_timeout(
                    move || settled.set(true),
                    Duration::from_millis(WAIT_FOR_ANSWER_MS),
                );
                let asked = filters.clone();
                ask(
                    filters,
                    client.workspace(),
                    async move {
                        // Asked again after a 429's wait only while the address still shows
                        // this list: not once the operator picked other filters, or left.
                        let shown = || shows_list(&asked);
                        client
                            .list_conversations_while(&asked, None, PAGE_SIZE, &shown)
                            .await
                    },
                    move || settled.set(true),
                )
            });
        // Not waited for by the first render: the thread shows its own loading state.
        let thread = match (client, opens) {
            (Some(client), Some(Opens::Conversation(id))) => {
                let asked = id.clone();
                Some(ask(
                    id,
                    client.workspace(),
                    async move {
                        // Asked again after a 429's wait only while the address still shows it:
                        // not once the operator opened another conversation, or left.
                        let shown = || shows_conversation(&asked);
                        client.get_conversation(&asked, None, &shown).await
                    },
                    || (),
                ))
            }
            _ => None,
        };
        WarmStart {
            inbox: StoredValue::new_local(inbox),
            thread: StoredValue::new_local(thread),
            settled,
            asked_at: js_sys::Date::now(),
            session: *session,
        }
    }

    /// Whether the first render may go ahead: the early answer is in (so the inbox can show it in
    /// its very first frame), none was asked for, or it took too long to wait for.
    pub fn settled(&self) -> bool {
        self.settled.get()
    }

    /// The early answer's receiver for the first page of `filters`, at most once and while fresh:
    /// any later load, or one for other filters, asks the API itself.
    pub fn take(&self, filters: &Filters) -> Option<oneshot::Receiver<Result<ListPage, ApiError>>> {
        self.take_from(self.inbox, filters)
    }

    /// The same for conversation `id`'s newest page.
    pub fn take_thread(
        &self,
        id: &ConversationId,
    ) -> Option<oneshot::Receiver<Result<Conversation, ApiError>>> {
        self.take_from(self.thread, id)
    }

    fn take_from<K: PartialEq + 'static, T: 'static>(
        &self,
        slot: Slot<K, T>,
        key: &K,
    ) -> Option<oneshot::Receiver<Result<T, ApiError>>> {
        let early = slot.try_update_value(Option::take).flatten()?;
        let fresh = js_sys::Date::now() - self.asked_at < FRESH_FOR_MS;
        // (Not once another key has signed in since, the restored one refused, say: its
        // answer is not that key's to show.)
        let same_key = self.session.signed_in_to(&early.workspace);
        (fresh && same_key && &early.key == key).then_some(early.answer)
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

/// What an app path opens of the standalone inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Opens {
    /// `/conversations`
    Inbox,
    /// `/conversations/{id}`: the inbox with a conversation beside it.
    Conversation(ConversationId),
}

fn opens(path: &str) -> Option<Opens> {
    match path.strip_prefix("/conversations")? {
        "" => Some(Opens::Inbox),
        rest => rest
            .strip_prefix('/')
            .filter(|id| !id.is_empty() && !id.contains('/'))
            .and_then(crate::model::inbox::decode_component)
            .map(|id| Opens::Conversation(ConversationId(id))),
    }
}

/// Whether the address still shows conversation `id`.
fn shows_conversation(id: &ConversationId) -> bool {
    opens(&super::base::current_app_path()) == Some(Opens::Conversation(id.clone()))
}

/// Whether the address still shows the inbox's list of `filters`.
fn shows_list(filters: &Filters) -> bool {
    opens(&super::base::current_app_path()).is_some()
        && filters_in_address().as_ref() == Some(filters)
}

/// The filters in the address's query.
fn filters_in_address() -> Option<Filters> {
    let search = web_sys::window()?.location().search().ok()?;
    let query = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    Some(Filters::from_query(
        query.get("agent"),
        query.get("channel"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inbox_and_a_conversation_in_it_are_told_apart() {
        assert_eq!(opens("/conversations"), Some(Opens::Inbox));
        assert_eq!(
            opens("/conversations/conv_1"),
            Some(Opens::Conversation(ConversationId("conv_1".into())))
        );
        // An id is opaque, and its segment encoded.
        let odd = ConversationId("conv?a/b#c %'".into());
        assert_eq!(
            opens(&format!("/conversations/{}", odd.path_segment())),
            Some(Opens::Conversation(odd))
        );
        for other in [
            "/",
            "/connect",
            "/conversations/",
            "/conversations/conv_1/x",
            "/conversations/conv%2",
            "/conversations/conv%zz",
            "/conversationsx",
            "/embed/conversations/conv_1",
        ] {
            assert_eq!(opens(other), None, "{other}");
        }
    }
}
