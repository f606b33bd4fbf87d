//! Composer drafts per conversation, kept so they survive switching conversations, reloads and
//! a session the API ended (a refused key). They are kept where the key is, under its
//! workspace's name ([`Shelf`]): on this device only when the operator asked to be remembered,
//! else for the tab; signing out forgets that workspace's.

use super::storage::{self, Area};
use crate::components::composer::TemplateForm;
use crate::model::thread::UnconfirmedSend;
use crate::model::ConversationId;

pub(crate) const PREFIX: &str = "voicebip.draft.";

/// Where one workspace's drafts are kept: the store its key is in, under the workspace's name.
/// Named, so that signing out of one forgets its own and not those of another signed in on the
/// device meanwhile (a sandbox's and a live key's tabs side by side), nor leaves its own there
/// while that one stays.
#[derive(Clone, Debug, PartialEq)]
pub struct Shelf {
    pub area: Area,
    /// (`Client::workspace`: the API's and the key's, not the key.)
    workspace: String,
}

impl Shelf {
    pub fn new(area: Area, workspace: String) -> Self {
        Shelf { area, workspace }
    }

    fn prefix(&self) -> String {
        format!("{PREFIX}{}.", self.workspace)
    }

    /// The item of conversation `id`'s draft (`what`: "" for the reply's, else its suffix).
    fn item(&self, id: &ConversationId, what: &str) -> String {
        format!("{PREFIX}{}.{id}{what}", self.workspace)
    }

    /// Moves here the drafts the tab kept before: `from`'s (the tab's last shelf: its key moved
    /// to the other store, or another key was signed in after that one was refused), every
    /// draft in the tab's own store not here already (a refused key's, whatever the tab signed
    /// in with since: the store is the tab's alone, and a sign-out empties it), and those an earlier
    /// build kept under no workspace's name in this store. What the operator wrote stays
    /// theirs: a workspace's conversations are its own, so another's drafts show on none.
    pub fn take_in(&self, from: &Shelf) {
        let mine = self.prefix();
        let here = |item: &str| self.area == Area::Session && item.starts_with(&mine);
        let mut moved = storage::take_where(Area::Session, |i| i.starts_with(PREFIX) && !here(i));
        let from_device = (from.area == Area::Local && from != self).then(|| from.prefix());
        let earlier_build = |i: &str| {
            self.area == Area::Local && i.strip_prefix(PREFIX).is_some_and(|rest| !named(rest))
        };
        moved.extend(storage::take_where(Area::Local, |i| {
            from_device.as_ref().is_some_and(|p| i.starts_with(p)) || earlier_build(i)
        }));
        for (item, text) in moved {
            let rest = &item[PREFIX.len()..];
            let rest = if named(rest) { &rest[17..] } else { rest };
            storage::set(self.area, &format!("{mine}{rest}"), &text);
        }
    }

    /// Forgets the workspace's drafts on the device: what the operator wrote stays with the
    /// operator.
    pub fn forget_on_device(&self) {
        storage::take_prefixed(Area::Local, &self.prefix());
    }

    /// As kept in the tab's storage ([`Shelf::read`]), for its next sign-in after a reload.
    pub fn written(&self) -> String {
        let area = match self.area {
            Area::Local => 'L',
            Area::Session => 'S',
        };
        format!("{area}{}", self.workspace)
    }

    pub fn read(written: &str) -> Option<Shelf> {
        let area = match written.chars().next()? {
            'L' => Area::Local,
            'S' => Area::Session,
            _ => return None,
        };
        Some(Shelf::new(area, written[1..].to_owned()))
    }
}

/// Every draft the tab keeps in its own storage, whoever's: what a sign-out there forgets (a
/// refused key's, kept for the next sign-in, among them).
pub fn forget_the_tabs() {
    storage::take_prefixed(Area::Session, PREFIX);
}

/// Sends whose answers have not come, kept as `from`'s, are `to`'s now, as their drafts are
/// ([`Shelf::take_in`]): a page going meanwhile keeps their text where the operator is.
pub fn out_moved(from: &Shelf, to: &Shelf) {
    OUT.with_borrow_mut(|out| {
        for o in out.iter_mut().filter(|o| o.shelf == *from) {
            o.shelf = to.clone();
        }
    });
}

/// Whether an item's name after [`PREFIX`] begins with a workspace's (`Client::workspace`: 16 hex
/// digits), not with a conversation's, as an earlier build named them.
fn named(rest: &str) -> bool {
    rest.as_bytes()
        .get(..17)
        .is_some_and(|b| b[16] == b'.' && b[..16].iter().all(u8::is_ascii_hexdigit))
}

/// What another tab (or frame) of this device wrote as `id`'s reply draft, from its `storage`
/// event: `None` unless the event is about that draft in the device's storage, where the
/// drafts are when the key is remembered (`shelf`'s area; a tab's own storage is its alone). Not
/// a removal: a sign-out elsewhere removes the workspace's drafts, and a draft sent is emptied
/// ([`save_emptied`]).
pub fn written_elsewhere(
    shelf: &Shelf,
    id: &ConversationId,
    ev: &web_sys::StorageEvent,
) -> Option<String> {
    let on_device = shelf.area == Area::Local && storage::is_about(Area::Local, ev);
    (on_device && ev.key().as_deref() == Some(shelf.item(id, "").as_str()))
        .then(|| ev.new_value())
        .flatten()
}

pub fn load(shelf: &Shelf, id: &ConversationId) -> String {
    storage::get(shelf.area, &shelf.item(id, "")).unwrap_or_default()
}

pub fn save(shelf: &Shelf, id: &ConversationId, text: &str) {
    if text.is_empty() {
        storage::remove(shelf.area, &shelf.item(id, ""));
    } else {
        storage::set(shelf.area, &shelf.item(id, ""), text);
    }
}

/// The reply draft that held text emptied (sent, or deleted): on the device it is kept empty
/// rather than removed, so that another tab showing the conversation empties its box too
/// ([`written_elsewhere`]). (The next view of it that finds it empty removes it.)
pub fn save_emptied(shelf: &Shelf, id: &ConversationId) {
    match shelf.area {
        Area::Local => {
            storage::set(shelf.area, &shelf.item(id, ""), "");
        }
        Area::Session => storage::remove(shelf.area, &shelf.item(id, "")),
    }
}

/// The template form's draft beside the reply's (under the same prefix, so it moves and goes
/// with them): its name, language and parameters, joined by a separator ([`join_fields`]).
const TEMPLATE: &str = "#template";

const FIELD_SEPARATOR: char = '\u{1f}';
/// Stands before a separator, or itself, found in what was typed (pasted from a terminal or
/// an export, say): unescaped, it cut the record in the wrong places, and it was dropped.
const ESCAPE: char = '\u{1b}';

/// `fields` joined by `separator`, each escaped so that no separator is left in it.
fn join_fields(fields: &[&str], separator: char) -> String {
    let escaped: Vec<String> = fields
        .iter()
        .map(|f| {
            let mut out = String::with_capacity(f.len());
            for c in f.chars() {
                if matches!(c, ESCAPE | FIELD_SEPARATOR | RECORD_SEPARATOR) {
                    out.push(ESCAPE);
                }
                out.push(c);
            }
            out
        })
        .collect();
    escaped.join(&separator.to_string())
}

/// `text` split at each `separator`: as [`join_fields`] joined it when `escaped` (the escapes
/// taken out when `unescape`, else kept, for records whose fields are split next), or plainly,
/// as an earlier build joined it.
fn split_kept(text: &str, separator: char, escaped: bool, unescape: bool) -> Vec<String> {
    if !escaped {
        return text.split(separator).map(str::to_owned).collect();
    }
    let (mut parts, mut part, mut escaped) = (Vec::new(), String::new(), false);
    for c in text.chars() {
        match c {
            _ if escaped => {
                if !unescape {
                    part.push(ESCAPE);
                }
                part.push(c);
                escaped = false;
            }
            ESCAPE => escaped = true,
            _ if c == separator => parts.push(std::mem::take(&mut part)),
            _ => part.push(c),
        }
    }
    parts.push(part);
    parts
}

/// Begins a record whose fields are escaped ([`join_fields`]): one kept by an earlier build is
/// read as it was written, its escape characters (from a terminal's paste) as typed.
const ESCAPED: char = '\u{2}';

/// A record as kept: marked as escaped.
fn escaped_record(text: String) -> String {
    format!("{ESCAPED}{text}")
}

/// A kept record's fields: unescaped, or (unmarked, from an earlier build) split as they were
/// joined.
fn record_fields(kept: &str, separator: char, unescape: bool) -> Vec<String> {
    match kept.strip_prefix(ESCAPED) {
        Some(escaped) => split_kept(escaped, separator, true, unescape),
        None => split_kept(kept, separator, false, unescape),
    }
}

pub fn load_template(shelf: &Shelf, id: &ConversationId) -> Option<[String; 3]> {
    let text = storage::get(shelf.area, &shelf.item(id, TEMPLATE))?;
    record_fields(&text, FIELD_SEPARATOR, true).try_into().ok()
}

/// Kept while its name or parameters hold something; else forgotten.
pub fn save_template(shelf: &Shelf, id: &ConversationId, [name, language, parameters]: [&str; 3]) {
    let item = shelf.item(id, TEMPLATE);
    if name.trim().is_empty() && parameters.trim().is_empty() {
        storage::remove(shelf.area, &item);
    } else {
        let text = escaped_record(join_fields(&[name, language, parameters], FIELD_SEPARATOR));
        storage::set(shelf.area, &item, &text);
    }
}

/// `sent` has gone out: its form is forgotten, unless it holds something else by now (typed
/// while it was on its way), which is kept.
pub fn forget_template_sent(shelf: &Shelf, id: &ConversationId, sent: &TemplateForm) {
    let kept = load_template(shelf, id);
    let kept = kept
        .as_ref()
        .map(|[n, l, p]| [n.as_str(), l.as_str(), p.as_str()]);
    if kept.and_then(TemplateForm::of_fields).as_ref() == Some(sent) {
        storage::remove(shelf.area, &shelf.item(id, TEMPLATE));
    }
}

/// A template on its way from the conversation, beside its form: kept until a sure answer, so
/// that should the page go first (a reload, a closed tab, a crash) or the answer be lost, a
/// view of the conversation opened later says it may have been sent, where its form, kept,
/// looked ready to send (and bill) it again. Holds when it went (ms since the epoch).
const TEMPLATE_OUT: &str = "#template-out";

/// How long a template whose answer never came is said to be in question: by a day later the
/// operator has seen the thread (and a template's window is a day's).
const TEMPLATE_IN_QUESTION_MS: u64 = 24 * 60 * 60 * 1000;

pub fn template_going(shelf: &Shelf, id: &ConversationId, now_ms: u64) {
    storage::set(
        shelf.area,
        &shelf.item(id, TEMPLATE_OUT),
        &now_ms.to_string(),
    );
}

/// Its answer came, and says whether it went.
pub fn template_answered(shelf: &Shelf, id: &ConversationId) {
    storage::remove(shelf.area, &shelf.item(id, TEMPLATE_OUT));
}

/// Whether a template went from the conversation in the last day whose answer never came.
pub fn template_in_question(shelf: &Shelf, id: &ConversationId, now_ms: u64) -> bool {
    let went =
        storage::get(shelf.area, &shelf.item(id, TEMPLATE_OUT)).and_then(|t| t.parse::<u64>().ok());
    let recent = went.is_some_and(|at| now_ms.saturating_sub(at) < TEMPLATE_IN_QUESTION_MS);
    if !recent {
        template_answered(shelf, id);
    }
    recent
}

/// The sends that may not have gone out beside the reply's draft (under the same prefix, so
/// they move and go with it).
const UNCONFIRMED: &str = "#unconfirmed";

pub fn load_unconfirmed(shelf: &Shelf, id: &ConversationId) -> Vec<UnconfirmedSend> {
    storage::get(shelf.area, &shelf.item(id, UNCONFIRMED))
        .map(|kept| decode_unconfirmed(&kept))
        .unwrap_or_default()
}

pub fn save_unconfirmed(shelf: &Shelf, id: &ConversationId, sends: &[UnconfirmedSend]) {
    let item = shelf.item(id, UNCONFIRMED);
    if sends.is_empty() {
        storage::remove(shelf.area, &item);
    } else {
        storage::set(shelf.area, &item, &encode_unconfirmed(sends));
    }
}

/// A view's sends that may not have gone out, changed from `was` to `now`, written to what is kept
/// for the conversation: another tab's kept beside them stay (a whole list written over them
/// lost them: a text no one is told may not have gone out).
pub fn update_unconfirmed(
    shelf: &Shelf,
    id: &ConversationId,
    was: &[UnconfirmedSend],
    now: &[UnconfirmedSend],
) {
    let kept = load_unconfirmed(shelf, id);
    save_unconfirmed(shelf, id, &merged_unconfirmed(kept, was, now));
}

/// `kept` with a view's change from `was` to `now`: those it settled taken out, those it began
/// added, those it still has as it has them now. One it never had is another tab's, and stays;
/// one another tab settled is not added back by a view that still shows it.
fn merged_unconfirmed(
    kept: Vec<UnconfirmedSend>,
    was: &[UnconfirmedSend],
    now: &[UnconfirmedSend],
) -> Vec<UnconfirmedSend> {
    // (By text and time, as kept: its reason changes with each check.)
    let same = |a: &UnconfirmedSend, b: &UnconfirmedSend| {
        a.text == b.text && a.sent_at.timestamp_millis() == b.sent_at.timestamp_millis()
    };
    let mut merged: Vec<UnconfirmedSend> = kept
        .into_iter()
        .filter_map(|k| match now.iter().find(|n| same(n, &k)) {
            Some(n) => Some(n.clone()),
            None if was.iter().any(|w| same(w, &k)) => None,
            None => Some(k),
        })
        .collect();
    for n in now {
        if !was.iter().any(|w| same(w, n)) && !merged.iter().any(|m| same(m, n)) {
            merged.push(n.clone());
        }
    }
    merged
}

/// Keeps `send` after those kept for the conversation already.
pub fn add_unconfirmed(shelf: &Shelf, id: &ConversationId, send: UnconfirmedSend) {
    update_unconfirmed(shelf, id, &[], &[send]);
}

/// Between the sends kept: another separator no one types. (Joined by hand, as the template's
/// fields are: with serde, chrono's (de)serialisers for its times cost the thread's chunk 6 KiB
/// gzip, and JSON 0.7 KiB more.)
const RECORD_SEPARATOR: char = '\u{1e}';

fn encode_unconfirmed(sends: &[UnconfirmedSend]) -> String {
    let records: Vec<String> = sends
        .iter()
        .map(|s| {
            join_fields(
                &[
                    s.text.as_str(),
                    &s.sent_at.timestamp_millis().to_string(),
                    &s.not_before.timestamp_millis().to_string(),
                    s.newest_then.as_ref().map_or("", |id| id.as_str()),
                    &s.reason,
                ],
                FIELD_SEPARATOR,
            )
        })
        .collect();
    // (Each record's fields are escaped already: what stands escaped stays so.)
    escaped_record(records.join(&RECORD_SEPARATOR.to_string()))
}

/// (A record that cannot be read, as from another build, is none rather than a view that fails.)
fn decode_unconfirmed(kept: &str) -> Vec<UnconfirmedSend> {
    let time = |ms: &str| {
        ms.parse()
            .ok()
            .and_then(chrono::DateTime::from_timestamp_millis)
    };
    let escaped = kept.starts_with(ESCAPED);
    record_fields(kept, RECORD_SEPARATOR, false)
        .into_iter()
        .filter_map(|record| {
            let [text, sent_at, not_before, newest_then, reason]: [String; 5] =
                split_kept(&record, FIELD_SEPARATOR, escaped, true)
                    .try_into()
                    .ok()?;
            Some(UnconfirmedSend {
                text,
                sent_at: time(&sent_at)?,
                not_before: time(&not_before)?,
                newest_then: (!newest_then.is_empty()).then(|| newest_then.as_str().into()),
                reason,
            })
        })
        .collect()
}

/// The reply box after "Edit" on a failed send: the failed text, then (after a blank line)
/// whatever was being typed meanwhile, which is not lost.
pub fn with_failed(failed: &str, typing: &str) -> String {
    if typing.trim().is_empty() {
        failed.to_owned()
    } else {
        format!("{failed}\n\n{typing}")
    }
}

thread_local! {
    /// Per conversation, the texts of its sends last put back into its reply box, in the order
    /// they were sent, as they head it.
    static PUT_BACK: std::cell::RefCell<Vec<(ConversationId, String)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The reply box `draft` of `conversation` with the text of a send not sent (or failed) put
/// back: after those put back before it that still head it, which were sent before it (the
/// sends waiting behind one held back by a 429 are put back after it), else ahead of all
/// ([`with_failed`]).
pub fn with_put_back(conversation: &ConversationId, text: &str, draft: &str) -> String {
    PUT_BACK.with_borrow_mut(|heads| {
        let at = heads.iter().position(|(c, _)| c == conversation);
        // (Heading it whole: followed by the blank line that ends it, or by nothing.)
        let rest = at.and_then(|i| {
            let rest = draft.strip_prefix(heads[i].1.as_str())?;
            let rest = match rest.is_empty() {
                true => rest,
                false => rest.strip_prefix("\n\n")?,
            };
            Some((i, rest))
        });
        let (head, rest) = match rest {
            Some((i, rest)) => (format!("{}\n\n{text}", heads[i].1), rest),
            None => (text.to_owned(), draft),
        };
        let put_back = with_failed(&head, rest);
        match at {
            Some(i) => heads[i].1 = head,
            None => heads.push((conversation.clone(), head)),
        }
        put_back
    })
}

/// The reply box of `conversation` was sent and emptied: what was put back into it has gone.
pub fn forget_put_back(conversation: &ConversationId) {
    PUT_BACK.with_borrow_mut(|heads| heads.retain(|(c, _)| c != conversation));
}

/// What another tab wrote as the reply draft, as this view's text: without the texts of this
/// view's failed sends (`unsent`), each taken out once where it stands whole (its own
/// paragraphs) in it, as this view keeps them ahead of its text ([`with_unsent`]) and that tab
/// took them in. (Left in, each tab with failed sends would bring its own back to the other,
/// one more time at each turn.)
pub fn typing_after(unsent: &[String], written: &str) -> String {
    let mut text = written.to_owned();
    for failed in unsent {
        crate::model::message::take_paragraph(&mut text, failed);
    }
    text
}

/// What is kept of a conversation's reply box: the text of its sends that failed, oldest first,
/// ahead of what is being typed. Failed sends show in the open thread only, so the kept draft
/// holds them too: leaving the conversation (for another, or on a refused key) loses nothing.
pub fn with_unsent<'a>(unsent: impl DoubleEndedIterator<Item = &'a str>, typing: String) -> String {
    unsent
        .rev()
        .fold(typing, |draft, text| with_failed(text, &draft))
}

/// A send whose answer has not come. Should the page go meanwhile (a reload, a closed tab), its
/// answer goes with it, whichever conversation is shown: one waiting out a 429, never sent,
/// goes back into its conversation's draft; one on its way may have gone out, and is kept as
/// such (the reply box's text would be sent twice by the next Enter).
struct Out {
    serial: u64,
    /// The send's id in its view, and in a view of its conversation opened before its answer
    /// comes (ids are the page's, not a view's: [`next_local_id`]).
    local_id: u64,
    shelf: Shelf,
    conversation: ConversationId,
    send: UnconfirmedSend,
    /// Whether it is on its way now (not waiting to be sent again).
    on_its_way: std::rc::Rc<std::cell::Cell<bool>>,
    /// Whether its drafts are still kept (not forgotten by a sign-out since, nor another
    /// operator's key's handed over to an embedded console).
    drafts_kept: Box<dyn Fn() -> bool>,
}

thread_local! {
    /// Oldest first: several sends out to one conversation go back in the order they were sent.
    static OUT: std::cell::RefCell<Vec<Out>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The drafts as they were before the page went, while it is in the back/forward cache: a
    /// page restored from there takes its sends' answers itself, and its drafts are as they
    /// were.
    static BEFORE: std::cell::RefCell<Vec<Before>> = const { std::cell::RefCell::new(Vec::new()) };
    static SERIAL: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static LOCAL_ID: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A new id for a send: unique in the page, so that a send still out when its conversation is
/// opened again has the same id in the new view as in the one it left from.
pub fn next_local_id() -> u64 {
    LOCAL_ID.with(|n| {
        n.set(n.get() + 1);
        n.get()
    })
}

/// A conversation's draft as it was before the page went, and the sends it kept as not confirmed
/// then.
struct Before {
    shelf: Shelf,
    conversation: ConversationId,
    typing: String,
    /// The sends on their way, kept as in question at the hide: taken out again at the show,
    /// and only they (another tab may have kept or settled its own meanwhile).
    added: Vec<UnconfirmedSend>,
}

/// Keeps `send`, to `conversation`, should the page go before its answer comes (`on_its_way`:
/// whether it is on its way then, or waiting to be sent again). Call what it returns when the
/// answer has come.
pub fn keep_while_out(
    shelf: Shelf,
    conversation: ConversationId,
    local_id: u64,
    send: UnconfirmedSend,
    on_its_way: std::rc::Rc<std::cell::Cell<bool>>,
    drafts_kept: impl Fn() -> bool + 'static,
) -> impl FnOnce() {
    let serial = SERIAL.with(|n| {
        if n.get() == 0 {
            listen_for_the_page_going();
        }
        n.set(n.get() + 1);
        n.get()
    });
    OUT.with_borrow_mut(|out| {
        out.push(Out {
            serial,
            local_id,
            shelf,
            conversation,
            send,
            on_its_way,
            drafts_kept: Box::new(drafts_kept),
        })
    });
    move || OUT.with_borrow_mut(|out| out.retain(|o| o.serial != serial))
}

/// The sends to `conversation` whose answers have not come, oldest first, with their ids: a view
/// of it opened meanwhile shows them as sending (not an empty box that invites typing the reply
/// again), and their answers settle them there.
pub fn out_to(shelf: &Shelf, conversation: &ConversationId) -> Vec<(u64, UnconfirmedSend)> {
    OUT.with_borrow(|out| {
        out.iter()
            .filter(|o| o.shelf == *shelf && o.conversation == *conversation && (o.drafts_kept)())
            .map(|o| (o.local_id, o.send.clone()))
            .collect()
    })
}

/// For the page's life: the listeners outlive every view.
fn listen_for_the_page_going() {
    use leptos::prelude::window_event_listener;
    window_event_listener(leptos::ev::pagehide, |_| {
        OUT.with_borrow(|out| {
            let out: Vec<&Out> = out.iter().filter(|o| (o.drafts_kept)()).collect();
            let mut kept: Vec<Before> = Vec::new();
            for o in &out {
                if kept
                    .iter()
                    .any(|b| b.shelf == o.shelf && b.conversation == o.conversation)
                {
                    continue;
                }
                let (on_its_way, held): (Vec<&&Out>, Vec<&&Out>) = out
                    .iter()
                    .filter(|p| p.shelf == o.shelf && p.conversation == o.conversation)
                    .partition(|p| p.on_its_way.get());
                let before = Before {
                    shelf: o.shelf.clone(),
                    conversation: o.conversation.clone(),
                    typing: load(&o.shelf, &o.conversation),
                    added: on_its_way.iter().map(|p| p.send.clone()).collect(),
                };
                let texts = held.iter().map(|p| p.send.text.as_str());
                save(
                    &o.shelf,
                    &o.conversation,
                    &with_unsent(texts, before.typing.clone()),
                );
                if !before.added.is_empty() {
                    update_unconfirmed(&o.shelf, &o.conversation, &[], &before.added);
                }
                kept.push(before);
            }
            BEFORE.set(kept);
        })
    });
    window_event_listener(leptos::ev::pageshow, |ev| {
        let before = BEFORE.take();
        if ev.persisted() {
            for b in before {
                save(&b.shelf, &b.conversation, &b.typing);
                update_unconfirmed(&b.shelf, &b.conversation, &b.added, &[]);
            }
        }
    });
}

/// The conversation shown, for an answer that comes after the view that asked has gone and the
/// operator is back on that conversation: the text of a failed send goes into its reply box, and
/// a template sent empties its template form. Provided by the app, which outlives every
/// screen.
#[derive(Clone, Copy)]
pub struct OpenDraft(pub leptos::prelude::StoredValue<Option<Shown>>);

#[derive(Clone)]
pub struct Shown {
    pub conversation: ConversationId,
    /// The conversation as this view shows it: what a send or a handoff that outlived an
    /// earlier view of it checks before it goes.
    pub thread: leptos::prelude::RwSignal<Option<crate::model::thread::Thread>>,
    pub reply: leptos::prelude::RwSignal<String>,
    pub template_sent: leptos::prelude::Callback<TemplateForm>,
    /// A template of the conversation's failed, or its answer was lost, after its own view had
    /// gone: said here, as that view would have.
    pub template_failed: leptos::prelude::Callback<crate::api::ApiError>,
    /// Fetches the conversation again: what a send settled here after its own view had gone
    /// asks for, as that view would have (a receipt not its own came while it was out, say).
    pub refetch: leptos::prelude::Callback<()>,
    /// A send of the conversation's whose answer was lost after its view had gone; whether it
    /// is shown as such (not when its message is shown already).
    pub unconfirmed: leptos::prelude::Callback<UnconfirmedSend, bool>,
}

impl OpenDraft {
    /// Provides it, and [`TemplatesOut`] with it.
    pub fn provide() {
        leptos::prelude::provide_context(OpenDraft(leptos::prelude::StoredValue::new(None)));
        leptos::prelude::provide_context(TemplatesOut(leptos::prelude::RwSignal::new(Vec::new())));
    }
}

/// The conversations with a template on its way. Its form is kept until the answer comes, and a
/// view of the conversation opened meanwhile must not send it (billed) a second time, and
/// shows it as sending.
#[derive(Clone, Copy)]
pub struct TemplatesOut(pub leptos::prelude::RwSignal<Vec<ConversationId>>);

#[cfg(test)]
mod tests {
    use super::{
        decode_unconfirmed, encode_unconfirmed, merged_unconfirmed, typing_after, with_failed,
        with_put_back, with_unsent,
    };
    use crate::model::thread::UnconfirmedSend;
    use crate::model::ConversationId;

    #[test]
    fn a_views_sends_in_question_are_kept_beside_another_tabs() {
        let send = |text: &str, ms: i64| UnconfirmedSend {
            text: text.into(),
            sent_at: chrono::DateTime::from_timestamp_millis(ms).expect("a time"),
            not_before: chrono::DateTime::from_timestamp_millis(ms).expect("a time"),
            newest_then: None,
            reason: "lost".into(),
        };
        let texts =
            |sends: &[UnconfirmedSend]| sends.iter().map(|s| s.text.clone()).collect::<Vec<_>>();
        let (x, y) = (send("X", 1), send("Y", 2));
        // This tab's X is kept; the other tab's Y comes beside it, and stays there.
        let kept = merged_unconfirmed(vec![x.clone()], &[], std::slice::from_ref(&y));
        assert_eq!(texts(&kept), ["X", "Y"]);
        // Y settled here: taken out, X left.
        let kept = merged_unconfirmed(kept, std::slice::from_ref(&y), &[]);
        assert_eq!(texts(&kept), ["X"]);
        // X settled in its own tab: this view, which still shows it (loaded at its start), and
        // begins Z, does not add it back.
        let z = send("Z", 3);
        let kept = merged_unconfirmed(vec![], std::slice::from_ref(&x), &[x.clone(), z]);
        assert_eq!(texts(&kept), ["Z"]);
        // Checked again, with another reason: one record, as it is now.
        let mut rechecked = y.clone();
        rechecked.reason = "still lost".into();
        let kept = merged_unconfirmed(vec![x, y.clone()], &[y], &[rechecked.clone()]);
        assert_eq!(texts(&kept), ["X", "Y"]);
        assert_eq!(kept[1], rechecked);
    }

    #[test]
    fn another_tabs_draft_is_its_text_without_this_views_failed_sends() {
        let failed = vec!["Refund sent".to_owned(), "Anything else?".to_owned()];
        let mine = with_unsent(failed.iter().map(String::as_str), "Hi".to_owned());
        // The other tab took them in, and typed on (or deleted what it typed).
        assert_eq!(typing_after(&failed, &mine), "Hi");
        let bare = with_unsent(failed.iter().map(String::as_str), String::new());
        assert_eq!(typing_after(&failed, &bare), "");
        // Without failed sends here, whatever it wrote.
        assert_eq!(typing_after(&[], "x"), "x");
        // Behind its own failed sends, or after what it typed: taken out there.
        assert_eq!(
            typing_after(&failed, "Mine\n\nRefund sent\n\nAnything else?\n\nHi"),
            "Mine\n\nHi"
        );
        assert_eq!(typing_after(&failed, "Hi\n\nRefund sent"), "Hi");
        // Only where it stands whole: edited there, it is that tab's text.
        assert_eq!(
            typing_after(&failed, "Refund sent today"),
            "Refund sent today"
        );
        assert_eq!(
            typing_after(&failed, "Refund sent\n\nAnything else?!"),
            "Anything else?!"
        );
        // Once: the same text typed again there stays.
        assert_eq!(
            typing_after(&failed[..1], "Refund sent\n\nRefund sent"),
            "Refund sent"
        );
    }

    #[test]
    fn sends_put_back_one_after_another_keep_the_order_they_were_sent_in() {
        let (a, b) = (
            ConversationId::from("conv_pa"),
            ConversationId::from("conv_pb"),
        );
        let draft = with_put_back(&a, "First", "Typing");
        assert_eq!(draft, "First\n\nTyping");
        let draft = with_put_back(&a, "Second", &draft);
        assert_eq!(draft, "First\n\nSecond\n\nTyping");
        let draft = with_put_back(&a, "Third", &draft);
        assert_eq!(draft, "First\n\nSecond\n\nThird\n\nTyping");
        // Another conversation's are its own.
        assert_eq!(with_put_back(&b, "Elsewhere", ""), "Elsewhere");
        // Once the box no longer starts with them (sent, edited), a text put back heads it.
        assert_eq!(with_put_back(&a, "Later", "Firstly"), "Later\n\nFirstly");
        assert_eq!(with_put_back(&a, "After", "Later"), "Later\n\nAfter");
        // Sent and emptied: a box that happens to start the same way is not that chain.
        super::forget_put_back(&a);
        assert_eq!(
            with_put_back(&a, "New", "Later\n\nAfter"),
            "New\n\nLater\n\nAfter"
        );
    }

    #[test]
    fn unconfirmed_sends_are_kept_as_they_were() {
        let at = |ms| chrono::DateTime::from_timestamp_millis(ms).expect("a time");
        let sends = [
            UnconfirmedSend {
                text: "On my way,\nsoon".into(),
                sent_at: at(1_764_950_400_123),
                not_before: at(1_764_950_280_000),
                newest_then: Some("msg_1".into()),
                reason: "No answer".into(),
            },
            UnconfirmedSend {
                // Pasted with the separators the record uses, and the escape.
                text: "Second\u{1e}\u{1f}\u{1b}x\u{1b}".into(),
                sent_at: at(1_764_950_401_000),
                not_before: at(1_764_950_281_000),
                newest_then: None,
                reason: "The page was left before Voicebip answered.".into(),
            },
        ];
        assert_eq!(decode_unconfirmed(&encode_unconfirmed(&sends)), sends);
        // Kept by an earlier build, unescaped: its escape characters are read as typed.
        let earlier =
            "\u{1b}[1mBold\u{1b}\u{1f}1764950400123\u{1f}1764950280000\u{1f}\u{1f}No answer";
        let read = decode_unconfirmed(earlier);
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].text, "\u{1b}[1mBold\u{1b}");
        // And a template's fields.
        let fields = ["order\u{1f}update", "en", "A-1042\u{1e}\n\u{1b}"];
        let joined = super::join_fields(&fields, super::FIELD_SEPARATOR);
        assert_eq!(
            super::split_kept(&joined, super::FIELD_SEPARATOR, true, true),
            fields
        );
        // Another build's record, or a cut one: none.
        assert!(decode_unconfirmed("[{\"text\":\"x\"}]").is_empty());
        assert!(decode_unconfirmed("").is_empty());
    }

    #[test]
    fn edit_puts_the_failed_text_back_ahead_of_what_is_being_typed() {
        assert_eq!(
            with_failed("Your refund is on its way", ""),
            "Your refund is on its way"
        );
        assert_eq!(
            with_failed("Your refund is on its way", " \n"),
            "Your refund is on its way"
        );
        assert_eq!(
            with_failed("Your refund is on its way", "Anything else?"),
            "Your refund is on its way\n\nAnything else?"
        );
    }

    #[test]
    fn the_kept_draft_holds_failed_sends_oldest_first_then_what_is_typed() {
        let failed = ["First", "Second"];
        assert_eq!(
            with_unsent(failed.into_iter(), "Typing".into()),
            "First\n\nSecond\n\nTyping"
        );
        assert_eq!(
            with_unsent(failed.into_iter(), String::new()),
            "First\n\nSecond"
        );
        assert_eq!(with_unsent([].into_iter(), "Typing".into()), "Typing");
    }
}
