//! The signed-in session: configuration, the API client with the operator's key, and what the
//! connect screen should say after the session ended.

use super::config::Config;
use super::drafts::Shelf;
use super::storage::{self, Area};
use crate::api::{ApiError, Client, Wait};
use leptos::prelude::*;
use std::sync::Arc;

const KEY_ITEM: &str = "voicebip.key";
const BASE_ITEM: &str = "voicebip.base";
/// What a tab signed out because another tab signed out says.
pub const SIGNED_OUT_ELSEWHERE: &str = "Signed out in another tab.";
/// In the tab's storage, with its key: that key was remembered on the device too.
const REMEMBERED_ITEM: &str = "voicebip.remembered";
/// In the tab: the workspace whose key it signed in while the device kept the mark that it is
/// (see [`signed_in_mark`]). Only such a copy needs the mark to be restored: a tab of an older
/// build, or whose mark the store refused, restores as before.
const MARKED_ITEM: &str = "voicebip.marked";
/// In the tab: where its drafts were last kept ([`Shelf::written`]), for the sign-in after a
/// reload to take them in (a key refused, then the page reloaded).
const SHELF_ITEM: &str = "voicebip.drafts.shelf";

/// Where the tab kept its drafts last; before any sign-in, its own store, of no workspace
/// (nothing is written there).
fn kept_shelf() -> Shelf {
    storage::get(Area::Session, SHELF_ITEM)
        .and_then(|s| Shelf::read(&s))
        .unwrap_or_else(|| Shelf::new(Area::Session, String::new()))
}

#[derive(Clone, Copy)]
pub struct Session {
    pub config: RwSignal<Option<Config>>,
    pub client: RwSignal<Option<Client>>,
    /// Shown on the connect screen: why the operator is there (e.g. the key was refused).
    pub notice: RwSignal<Option<String>>,
    /// When each request waiting out a 429 or a failed read is retried (ms since the epoch):
    /// several may wait at once, a list the operator left and the one shown since, say.
    pub retry_waits: RwSignal<Vec<f64>>,
    /// Where the operator's drafts are kept: where the key is (the tab's storage for a key the
    /// host of an embedded console holds in memory), under its workspace's name.
    pub drafts: StoredValue<Shelf>,
    /// Counts the times the tab's drafts were forgotten: a sign-out, or a host handing over
    /// another operator's key. (A refused key keeps them, for the next sign-in, whatever its
    /// key.)
    drafts_forgotten: StoredValue<u64>,
    /// Counts the sessions ended: a request of one that ended (still retrying with its key)
    /// shows no wait on the connect screen.
    ended: StoredValue<u64>,
}

impl Session {
    pub fn new() -> Self {
        Session {
            config: RwSignal::new(None),
            client: RwSignal::new(None),
            notice: RwSignal::new(None),
            retry_waits: RwSignal::new(Vec::new()),
            drafts: StoredValue::new(kept_shelf()),
            drafts_forgotten: StoredValue::new(0),
            ended: StoredValue::new(0),
        }
    }

    /// The API base URL: what the operator last used on this device, else the configuration's.
    pub fn remembered_base(&self) -> Option<String> {
        stored_base(Area::Session).or_else(|| stored_base(Area::Local))
    }

    /// The drafts' count of forgettings now, for [`Session::drafts_kept_since`].
    pub fn drafts_now(&self) -> u64 {
        self.drafts_forgotten.get_value()
    }

    /// Whether a reply sent at `then` (`drafts_now`) that comes back (refused, or out at a
    /// reload) goes into the drafts: it does after its key was refused, also once another key
    /// is signed in since, not after a sign-out.
    pub fn drafts_kept_since(&self, then: u64) -> bool {
        self.drafts_forgotten.try_get_value() == Some(then)
    }

    /// Whether anyone is signed in now.
    pub fn signed_in(&self) -> bool {
        self.client
            .try_with_untracked(Option::is_some)
            .unwrap_or(false)
    }

    /// Whether `workspace` is signed in now.
    pub fn signed_in_to(&self, workspace: &str) -> bool {
        self.client
            .try_with_untracked(|c| c.as_ref().map(Client::workspace))
            .flatten()
            .is_some_and(|w| w == workspace)
    }

    /// The session is `client`'s from now on.
    fn begin(&self, client: Client) {
        let client = match self.client.get_untracked() {
            // The same key again (a host handing it over again): the same session, whose
            // requests end with it.
            Some(current) if current == client => client.continuing(&current),
            // Another workspace's (a host handing over another key): the last one's waits go,
            // and its requests waiting to be tried again are not, with its key.
            Some(current) => {
                self.retry_waits.set(Vec::new());
                current.end_session();
                client
            }
            None => client,
        };
        self.client.set(Some(client));
    }

    pub fn make_client(&self, base: &str, key: &str) -> Client {
        let (waits, ended, current) = (self.retry_waits, self.ended, self.client);
        let made_in = ended.get_value();
        let client = Client::new(base, key);
        let workspace = client.workspace();
        client.with_wait_notifier(Arc::new(move |wait| match wait {
            Wait::Until(until) => {
                // Its session's, to show: while it is the one signed in, or (checking a key)
                // while no session has ended since it was made. Not an ended session's
                // request, still retrying with its key, nor the key a host replaced.
                let ours = current
                    .try_with_untracked(|c| match c {
                        Some(c) => c.workspace() == workspace,
                        None => ended.try_get_value() == Some(made_in),
                    })
                    .unwrap_or(false);
                if ours {
                    waits.update(|w| w.push(until));
                }
            }
            // One of them: two requests may wait until the same moment.
            Wait::Over(until) => waits.update(|w| {
                if let Some(i) = w.iter().position(|u| *u == until) {
                    w.swap_remove(i);
                }
            }),
        }))
    }

    /// Restores a stored key at start-up: at once when its base URL was stored with it (always,
    /// since `sign_in` stores both), else once the configuration gives `fallback_base`. Whether
    /// it waits for that: a key was found without its base.
    pub fn restore(&self, fallback_base: Option<&str>) -> bool {
        // Not the key this device keeps for the console itself: embedding accepts credentials
        // from the configured host only.
        if super::embed::is_embedded() {
            return false;
        }
        // The tab's own key first: the device's may since be another tab's, remembered there
        // (a reload would otherwise switch this tab to that tab's workspace without a word).
        let local = storage::get(Area::Local, KEY_ITEM);
        let from_tab = storage::get(Area::Session, KEY_ITEM);
        let from_device = from_tab.is_none();
        let (key, base, drafts) = match from_tab {
            Some(key) => {
                let drafts = if storage::get(Area::Session, REMEMBERED_ITEM).is_some() {
                    Area::Local
                } else {
                    Area::Session
                };
                (key, stored_base(Area::Session), drafts)
            }
            None => match local {
                Some(key) => (key, stored_base(Area::Local), Area::Local),
                None => return false,
            },
        };
        let Some(base) = base.or_else(|| fallback_base.map(str::to_owned)) else {
            return true;
        };
        let client = self.make_client(&base, &key);
        // Signed out on the device since: in a tab while this one missed it (asleep, discarded
        // by the browser, or closed and brought back with its storage), whatever key was
        // signed in after. Not restored from the tab's copy either. (A device still holding a
        // remembered key itself remembers it: a tab signed in before the device kept its
        // mark; and a device without Web Storage keeps no mark.)
        if signed_out_since(&client, drafts) {
            for item in [KEY_ITEM, REMEMBERED_ITEM, MARKED_ITEM] {
                storage::remove(Area::Session, item);
            }
            // Its drafts go with the key, as at the sign-out it missed.
            self.forget_drafts(&Shelf::new(drafts, client.workspace()));
            self.drafts_forgotten.update_value(|n| *n += 1);
            return false;
        }
        // The device's key with a base that was none: the device's next tab finds the one used.
        if from_device && stored_base(Area::Local).is_none() {
            storage::set(Area::Local, BASE_ITEM, &base);
        }
        // The tab keeps what it restored, as a tab that signed in does.
        keep_for_tab(&client, &key, &base, drafts == Area::Local);
        self.keep_drafts(Shelf::new(drafts, client.workspace()));
        self.begin(client);
        false
    }

    /// Keeps a checked key: for the tab only, or on this device when the operator asked.
    pub fn sign_in(&self, client: Client, key: &str, remember: bool) {
        let area = if remember { Area::Local } else { Area::Session };
        // The tab keeps its key (a reload restores this one, whatever another tab remembers
        // since), and the device too when asked; a key another tab keeps on the device stays
        // theirs unless this one replaces it.
        keep_for_tab(&client, key, client.base(), remember);
        if remember {
            storage::set(Area::Local, KEY_ITEM, key);
            storage::set(Area::Local, BASE_ITEM, client.base());
        }
        self.keep_drafts(Shelf::new(area, client.workspace()));
        self.notice.set(None);
        self.begin(client);
    }

    /// An embedded console keeps the key the host handed over in memory only: the host owns it.
    pub fn sign_in_ephemeral(&self, client: Client) {
        // Another key's (another operator signed in to the tool): the drafts before are
        // forgotten, not handed on, a failed send's text among them, to be sent under the new
        // name. (Also when the store kept no mark of whose they were: in memory, where a
        // sandboxed frame without Web Storage keeps them.)
        let shelf = Shelf::new(Area::Session, client.workspace());
        if self.drafts.get_value() != shelf {
            super::drafts::forget_the_tabs();
            self.drafts_forgotten.update_value(|n| *n += 1);
        }
        self.shelve(shelf);
        self.notice.set(None);
        self.begin(client);
    }

    /// A page brought back from the browser's memory (Back, after leaving it) heard nothing the
    /// other tabs said meanwhile: signed out in one since, it is signed out here too, rather
    /// than go on with the key signed out of.
    pub fn recheck_on_return(&self) {
        if super::embed::is_embedded() {
            return;
        }
        let Some(client) = self.client.get_untracked() else {
            return;
        };
        if signed_out_since(&client, self.drafts.get_value().area) {
            self.leave(Some(SIGNED_OUT_ELSEWHERE.into()));
        }
    }

    /// The drafts are kept on `shelf` from now on, with those the tab kept before, on its last
    /// shelf (kept in the tab's storage, for a reload) and beside it ([`Shelf::take_in`]).
    fn keep_drafts(&self, shelf: Shelf) {
        let before = self.drafts.get_value();
        shelf.take_in(&before);
        super::drafts::out_moved(&before, &shelf);
        self.shelve(shelf);
    }

    /// What a sign-out of `shelf`'s workspace forgets: every draft the tab keeps (a key's refused
    /// before among them), and the workspace's on the device (not from an embedded console: the
    /// device's are the standalone console's). The tab keeps none of its drafts now: the next
    /// sign-in takes none in from the device (another tab's of the workspace, signed in since).
    fn forget_drafts(&self, shelf: &Shelf) {
        super::drafts::forget_the_tabs();
        if !super::embed::is_embedded() {
            shelf.forget_on_device();
        }
        self.shelve(Shelf::new(Area::Session, String::new()));
    }

    fn shelve(&self, shelf: Shelf) {
        storage::set(Area::Session, SHELF_ITEM, &shelf.written());
        self.drafts.set_value(shelf);
    }

    /// The operator signs out (here, or in another tab of the same workspace, `notice` says):
    /// the session ends, and the workspace's drafts are forgotten with the key, in the tab and
    /// on the device (an embedded console's are the tab's only: the device's are the
    /// standalone console's).
    pub fn leave(&self, notice: Option<String>) {
        self.forget_drafts(&self.drafts.get_value());
        self.drafts_forgotten.update_value(|n| *n += 1);
        self.end(notice, Ending::SignedOut);
    }

    /// The session ends without the operator's word: the key was refused, or (embedded) the
    /// host handed over another that failed its check. The drafts are kept for when the
    /// operator signs in again.
    pub fn sign_out(&self, notice: Option<String>) {
        self.end(notice, Ending::Refused);
    }

    fn end(&self, notice: Option<String>, ending: Ending) {
        // The embedded console stored nothing, and the key stored here is the standalone
        // console's (a refused host key must not sign that one out).
        if !super::embed::is_embedded() {
            self.client
                .with_untracked(|c| c.as_ref().map(|c| forget_key(c, ending)));
        }
        // Nor are its requests tried again, with its key.
        self.client
            .with_untracked(|c| c.as_ref().map(Client::end_session));
        self.client.set(None);
        // Its requests' waits end with it: the connect screen is not retrying anything.
        self.ended.update_value(|n| *n += 1);
        super::notify::close_all();
        self.retry_waits.set(Vec::new());
        self.notice.set(notice);
    }

    /// The one place a refused key ends the session, whichever request found out. `by` made
    /// the request: a key since replaced (a host page handing the embed a new one) was
    /// refused, not this session's.
    pub fn check(&self, by: &Client, error: &ApiError) {
        let current = self
            .client
            .with_untracked(|c| c.as_ref().map(Client::workspace));
        if matches!(error, ApiError::Unauthenticated(_)) && current == Some(by.workspace()) {
            self.sign_out(Some(error.user_message()));
        }
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

/// The tab's own key, restored by its reload; `remembered`: kept on the device too, with the
/// drafts. The device is marked as signed in with it.
/// The API base stored in `area`, if it is one as a typed one must be (`config::is_api_base`):
/// a value kept by an older build, or tampered with, would send the key to the console's own
/// host, or another.
fn stored_base(area: Area) -> Option<String> {
    storage::get(area, BASE_ITEM)
        .map(|b| b.trim().to_owned())
        .filter(|b| super::config::is_api_base(b))
}

fn keep_for_tab(client: &Client, key: &str, base: &str, remembered: bool) {
    storage::set(Area::Session, KEY_ITEM, key);
    storage::set(Area::Session, BASE_ITEM, base);
    if storage::set(Area::Local, &signed_in_mark(client), "1") {
        storage::set(Area::Session, MARKED_ITEM, &client.workspace());
    } else {
        storage::remove(Area::Session, MARKED_ITEM);
    }
    if remembered {
        storage::set(Area::Session, REMEMBERED_ITEM, "1");
    } else {
        storage::remove(Area::Session, REMEMBERED_ITEM);
    }
}

/// Whether `client`'s workspace was signed out of on this device since the tab knew (its mark
/// is gone: any tab's sign-out removes it). A key the device keeps is still its own; a tab's
/// own copy was marked by that tab.
fn signed_out_since(client: &Client, drafts: Area) -> bool {
    let marked = storage::get(Area::Local, &signed_in_mark(client)).is_some();
    !marked
        && match drafts {
            Area::Local => {
                !storage::get(Area::Local, KEY_ITEM).is_some_and(|k| client.holds_key(&k))
            }
            Area::Session => storage::get(Area::Session, MARKED_ITEM) == Some(client.workspace()),
        }
}

/// On the device, while a workspace's key is signed in there (remembered on it or not): every
/// tab holding a copy of it restores that copy only while the mark is there, and any tab's
/// sign-out removes it. (The name is older than keys kept for a tab only.)
fn signed_in_mark(client: &Client) -> String {
    format!("voicebip.remembered.{}", client.workspace())
}

/// How a session ended.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    /// The operator signed out: every tab of the workspace is signed out, its drafts with it.
    SignedOut,
    /// The API refused the key: other tabs holding it find out for themselves, and keep their
    /// drafts.
    Refused,
}

/// Forgets `client`'s key wherever it is stored, and only that key: another tab signed in on
/// this device with another key keeps it. The device's mark that the workspace is signed in
/// stays for a refusal: without it, another tab holding the key, reloaded, would take the
/// refusal for a sign-out it missed, and forget its drafts.
fn forget_key(client: &Client, ending: Ending) {
    for area in [Area::Session, Area::Local] {
        if storage::get(area, KEY_ITEM).is_some_and(|k| client.holds_key(&k)) {
            storage::remove(area, KEY_ITEM);
        }
    }
    storage::remove(Area::Session, REMEMBERED_ITEM);
    storage::remove(Area::Session, MARKED_ITEM);
    if ending == Ending::SignedOut {
        storage::remove(Area::Local, &signed_in_mark(client));
    }
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
