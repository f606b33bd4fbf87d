//! Coordination between several tabs of the console: a `BroadcastChannel` carries mode changes
//! and refreshed inbox pages, and a lease in `localStorage` picks the one tab that polls. Both
//! are per workspace (the API and key a tab is signed in with, [`Client::workspace`]): a tab
//! on a sandbox key and one on a live key neither merge each other's pages nor wait for each
//! other's polls.

use super::embed::is_embedded;
use super::session::{Session, SIGNED_OUT_ELSEWHERE};
use super::storage::{self, Area};
use crate::api::Client;
use crate::model::{AiMode, ConversationId, ConversationSummary};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

const CHANNEL: &str = "voicebip-console";
const LEASE_ITEM: &str = "voicebip.poll-leader";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "WireTabMessage")]
pub enum TabMessage {
    ModeChanged {
        conversation_id: ConversationId,
        ai_mode: AiMode,
    },
    InboxPage {
        /// The filters' query string, so only tabs showing the same list merge it.
        query: String,
        conversations: Vec<ConversationSummary>,
        next_page_token: Option<String>,
        /// Rows the page held that could not be read, and are not in `conversations`.
        unreadable: usize,
        /// How many of `conversations` the first page's own answer held, when the pages after
        /// it were polled with it (`Inbox::merge_polled`).
        first_answer: Option<usize>,
    },
    /// The poll of a list failed: the tabs showing it, which wait for its pages, are out of
    /// date too (until a page comes).
    InboxStale { query: String },
    /// The operator signed out: the key and drafts the workspace's tabs shared are gone.
    SignedOut,
    /// The operator's reply or template went to the conversation, made at `at`: its row's move
    /// is theirs, not news (`Unread::replied`).
    Replied {
        conversation_id: ConversationId,
        at: DateTime<Utc>,
    },
}

/// [`TabMessage`] as JSON: read flat rather than as an internally tagged enum, which serde reads
/// by buffering the object (its `Content`), a second deserialiser for every summary in the wasm.
#[derive(Deserialize)]
struct WireTabMessage {
    #[serde(rename = "type")]
    kind: String,
    conversation_id: Option<ConversationId>,
    ai_mode: Option<AiMode>,
    query: Option<String>,
    conversations: Option<Vec<ConversationSummary>>,
    next_page_token: Option<String>,
    // (An older console's page says nothing of them.)
    #[serde(default)]
    unreadable: usize,
    #[serde(default)]
    first_answer: Option<usize>,
    #[serde(default, deserialize_with = "crate::model::time::rfc3339::optional")]
    at: Option<DateTime<Utc>>,
}

impl TryFrom<WireTabMessage> for TabMessage {
    type Error = &'static str;

    fn try_from(w: WireTabMessage) -> Result<Self, Self::Error> {
        match (
            w.kind.as_str(),
            w.conversation_id,
            w.ai_mode,
            w.query,
            w.conversations,
        ) {
            ("mode_changed", Some(conversation_id), Some(ai_mode), _, _) => {
                Ok(TabMessage::ModeChanged {
                    conversation_id,
                    ai_mode,
                })
            }
            ("inbox_page", _, _, Some(query), Some(conversations)) => Ok(TabMessage::InboxPage {
                query,
                conversations,
                next_page_token: w.next_page_token,
                unreadable: w.unreadable,
                first_answer: w.first_answer,
            }),
            ("inbox_stale", _, _, Some(query), _) => Ok(TabMessage::InboxStale { query }),
            ("signed_out", ..) => Ok(TabMessage::SignedOut),
            ("replied", Some(conversation_id), ..) => {
                w.at.map(|at| TabMessage::Replied {
                    conversation_id,
                    at,
                })
                .ok_or("a reply's news without its time")
            }
            _ => Err("not a tab message"),
        }
    }
}

#[derive(Clone, Copy)]
pub struct Tabs {
    /// The latest message from another tab.
    received: RwSignal<Option<TabMessage>>,
    id: StoredValue<String>,
    channel: StoredValue<Option<web_sys::BroadcastChannel>, LocalStorage>,
    session: Session,
    /// The poll leases this tab holds (their storage items).
    leases: StoredValue<Vec<String>>,
}

/// A message as posted: its workspace on the first line, then its JSON.
fn frame(workspace: &str, json: &str) -> String {
    format!("{workspace}\n{json}")
}

/// The JSON of a message posted in `workspace`; `None` for any other (or an older console's).
fn unframe<'a>(workspace: &str, text: &'a str) -> Option<&'a str> {
    text.split_once('\n')
        .and_then(|(w, json)| (w == workspace).then_some(json))
}

/// The workspace `session` is signed in to, if it is.
fn workspace_of(session: Session) -> Option<String> {
    session
        .client
        .with_untracked(|c| c.as_ref().map(Client::workspace))
}

impl Tabs {
    pub fn start(session: Session) -> Self {
        let received = RwSignal::new(None);
        // What another session (signed out since, or another key) received is not this one's.
        crate::state::effect(move || {
            session.client.track();
            received.set(None);
        });
        let channel = web_sys::BroadcastChannel::new(CHANNEL).ok();
        if let Some(ch) = &channel {
            let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |ev: web_sys::MessageEvent| {
                    // Anything unreadable (an older or newer console) is ignored.
                    let (Some(text), Some(workspace)) =
                        (ev.data().as_string(), workspace_of(session))
                    else {
                        return;
                    };
                    match unframe(&workspace, &text)
                        .and_then(|json| serde_json::from_str::<TabMessage>(json).ok())
                    {
                        // (Not an embedded console's session: its key is its host's.)
                        Some(TabMessage::SignedOut) if !is_embedded() => {
                            session.leave(Some(SIGNED_OUT_ELSEWHERE.into()))
                        }
                        Some(TabMessage::SignedOut) => {}
                        Some(msg) => received.set(Some(msg)),
                        None => {}
                    }
                },
            );
            ch.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            // The channel lives as long as the app.
            on_message.forget();
        }
        // A page brought back from the browser's memory (Back) heard none of it meanwhile. (After
        // the page's other `pageshow` handlers: the drafts they put back go with a sign-out.)
        window_event_listener(leptos::ev::pageshow, move |ev| {
            if ev.persisted() {
                set_timeout(
                    move || session.recheck_on_return(),
                    std::time::Duration::ZERO,
                );
            }
        });
        let tabs = Tabs {
            received,
            id: StoredValue::new(format!("{:x}", (js_sys::Math::random() * 1e15) as u64)),
            channel: StoredValue::new_local(channel),
            session,
            leases: StoredValue::new(Vec::new()),
        };
        // A tab closed or reloaded hands its polls over at once: a reload is a new tab to the
        // lease, which would otherwise wait for the old one to lapse (2.5 polls).
        if let Some(window) = web_sys::window() {
            let on_pagehide = Closure::<dyn FnMut()>::new(move || {
                for item in tabs.leases.try_get_value().unwrap_or_default() {
                    tabs.release_item(&item);
                }
            });
            let _ = window
                .add_event_listener_with_callback("pagehide", on_pagehide.as_ref().unchecked_ref());
            on_pagehide.forget();
        }
        tabs
    }

    /// Calls `f` with each message another tab posts from now on: not the one received
    /// before, which may be minutes old, and which what the caller shows was loaded after.
    pub fn on_news(&self, mut f: impl FnMut(TabMessage) + 'static) {
        let received = self.received;
        let mut first_run = true;
        crate::state::effect(move || {
            let news = received.get();
            if std::mem::take(&mut first_run) {
                return;
            }
            if let Some(news) = news {
                f(news);
            }
        });
    }

    fn workspace(&self) -> Option<String> {
        workspace_of(self.session)
    }

    /// The operator signs out, and the workspace's other tabs on this device with them: the key
    /// and drafts they share are forgotten here. An embedded console signs out alone.
    pub fn sign_out_everywhere(&self) {
        if !is_embedded() {
            self.post(&TabMessage::SignedOut);
        }
        self.session.leave(None);
    }

    pub fn post(&self, msg: &TabMessage) {
        let (Some(workspace), Ok(json)) = (self.workspace(), serde_json::to_string(msg)) else {
            return;
        };
        let text = frame(&workspace, &json);
        self.channel.with_value(|ch| {
            if let Some(ch) = ch {
                let _ = ch.post_message(&JsValue::from_str(&text));
            }
        });
    }

    /// One lease per list (workspace and filters, `query`): tabs showing the same list share
    /// its poll; a tab showing another list polls its own, which no other tab's pages serve.
    fn lease_item(&self, query: &str) -> Option<String> {
        self.workspace().map(|w| format!("{LEASE_ITEM}.{w}{query}"))
    }

    /// Whether this tab should poll the list `query` now: it holds the lease, or the lease
    /// lapsed (the leader closed or went to sleep) and this tab takes it over for `lease_ms`.
    /// The lease held, to be released by [`Tabs::release_poll_lease`].
    pub fn claim_poll_lease(&self, query: &str, lease_ms: f64) -> Option<PollLease> {
        let item = self.lease_item(query)?;
        // Whole milliseconds: formatting and parsing floats would pull a few dozen KB of float
        // tables into the wasm for no gain in precision.
        let now = js_sys::Date::now() as u64;
        let me = self.id.get_value();
        let lease_ms = lease_ms as u64;
        let current = storage::get(Area::Local, &item);
        if !lease_free(current.as_deref(), &me, now, lease_ms) {
            return None;
        }
        let until = now + lease_ms;
        storage::set(Area::Local, &item, &format!("{me}|{until}"));
        self.leases.update_value(|held| {
            if !held.contains(&item) {
                held.push(item.clone());
            }
        });
        Some(PollLease(item))
    }

    /// A tab hidden, showing another list or none, hands polling over at once instead of
    /// holding the lease until it lapses.
    pub fn release_poll_lease(&self, PollLease(item): PollLease) {
        self.leases.update_value(|held| held.retain(|h| *h != item));
        self.release_item(&item);
    }

    fn release_item(&self, item: &str) {
        let me = self.id.get_value();
        let held = storage::get(Area::Local, item)
            .is_some_and(|v| v.split_once('|').is_some_and(|(holder, _)| holder == me));
        if held {
            storage::remove(Area::Local, item);
        }
    }
}

/// A list's poll lease, as claimed: its storage item names the workspace it was claimed in,
/// which may no longer be the session's when it is released.
#[derive(Debug, Clone, PartialEq)]
pub struct PollLease(String);

pub fn use_tabs() -> Tabs {
    expect_context::<Tabs>()
}

/// The longest a lease is held through a 429's wait.
const LONGEST_HOLD_MS: u64 = crate::api::retry::LONGEST_WAIT_SECS as u64 * 1000;

/// Whether the lease kept as `current` (`holder|until`) is free for `me` at `now`: mine, lapsed,
/// unreadable, or longer than a lease held through a 429's longest wait can be (written under
/// another interval, or by another build: one of a tab that died holding it would stand for as
/// long).
fn lease_free(current: Option<&str>, me: &str, now: u64, lease_ms: u64) -> bool {
    match current.and_then(|v| v.split_once('|')) {
        Some((holder, until)) => {
            holder == me
                || until
                    .parse::<u64>()
                    .map_or(true, |u| u < now || u > now + lease_ms + LONGEST_HOLD_MS)
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_free_when_mine_lapsed_or_longer_than_a_lease() {
        let (now, lease) = (1_000_000, 25_000);
        assert!(lease_free(None, "me", now, lease));
        assert!(lease_free(Some("me|1010000"), "me", now, lease));
        assert!(!lease_free(Some("you|1010000"), "me", now, lease));
        assert!(!lease_free(Some("you|1025000"), "me", now, lease));
        assert!(lease_free(Some("you|999999"), "me", now, lease), "lapsed");
        // Held through a 429's longest wait.
        assert!(!lease_free(Some("you|4625000"), "me", now, lease));
        // Longer: written under a far longer interval (a config since corrected), by a tab
        // that may have died holding it.
        assert!(lease_free(Some("you|4625001"), "me", now, lease));
        assert!(lease_free(Some("you|11000000000000"), "me", now, lease));
        assert!(lease_free(Some("you|soon"), "me", now, lease));
        assert!(lease_free(Some("you"), "me", now, lease), "no end at all");
    }

    #[test]
    fn messages_round_trip_in_the_tagged_form() {
        let summary: ConversationSummary = serde_json::from_value(serde_json::json!({
            "conversation_id": "c1", "agent_id": "a", "channel": "sms", "from_number": "+1",
            "to_number": "+2", "created_at": "2026-05-15T10:15:00Z"
        }))
        .expect("summary");
        for msg in [
            TabMessage::ModeChanged {
                conversation_id: ConversationId::from("c1"),
                ai_mode: AiMode::Human,
            },
            TabMessage::InboxPage {
                query: "?agent=a".into(),
                conversations: vec![summary],
                next_page_token: Some("t".into()),
                unreadable: 2,
                first_answer: Some(1),
            },
            TabMessage::InboxStale {
                query: "?channel=sms".into(),
            },
            TabMessage::SignedOut,
            TabMessage::Replied {
                conversation_id: ConversationId::from("c1"),
                at: "2026-05-15T10:16:00.250Z".parse().expect("time"),
            },
        ] {
            let text = serde_json::to_string(&msg).expect("json");
            assert!(text.starts_with(r#"{"type":""#), "{text}");
            assert_eq!(serde_json::from_str::<TabMessage>(&text).ok(), Some(msg));
        }
        // An older console's page, which says nothing of rows it could not read.
        let older = r#"{"type":"inbox_page","query":"","conversations":[]}"#;
        assert!(matches!(
            serde_json::from_str::<TabMessage>(older),
            Ok(TabMessage::InboxPage { unreadable: 0, .. })
        ));
        let wrong = r#"{"type":"inbox_page","conversation_id":"c1","ai_mode":"human"}"#;
        assert!(serde_json::from_str::<TabMessage>(wrong).is_err());
        let timeless = r#"{"type":"replied","conversation_id":"c1"}"#;
        assert!(serde_json::from_str::<TabMessage>(timeless).is_err());
    }

    #[test]
    fn a_tab_reads_only_its_own_workspaces_messages() {
        let sandbox = Client::new("https://api.voicebip.com/v1", "pk_test_1").workspace();
        let live = Client::new("https://api.voicebip.com/v1", "pk_live_1").workspace();
        let elsewhere = Client::new("http://127.0.0.1:8080/v1", "pk_test_1").workspace();
        assert_ne!(sandbox, live);
        assert_ne!(sandbox, elsewhere);
        assert!(!sandbox.contains("pk_"), "the key is not in it: {sandbox}");
        let text = frame(&sandbox, r#"{"type":"mode_changed"}"#);
        assert_eq!(unframe(&sandbox, &text), Some(r#"{"type":"mode_changed"}"#));
        assert_eq!(unframe(&live, &text), None);
        // What an older console posts (bare JSON) is nobody's.
        assert_eq!(unframe(&sandbox, r#"{"type":"mode_changed"}"#), None);
    }
}
