//! The conversation list: filters, pages merged without duplicates, a refreshed first page merged
//! in place.

use super::conversation::{Channel, ConversationSummary};
use super::ids::{AgentId, ConversationId};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

/// Conversations asked for per page of the list.
pub const PAGE_SIZE: u32 = 50;

/// The list's filters, mirrored in the URL query (`?agent=…&channel=…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub agent: Option<AgentId>,
    pub channel: Option<Channel>,
}

impl Filters {
    pub fn from_query(agent: Option<String>, channel: Option<String>) -> Self {
        Filters {
            agent: agent.filter(|a| !a.is_empty()).map(AgentId),
            channel: channel.as_deref().and_then(Channel::from_param),
        }
    }

    /// Whether a conversation, as it now is, belongs in a list with these filters (its channel
    /// is the one the customer last wrote on, and moves).
    pub fn admit(&self, c: &ConversationSummary) -> bool {
        self.agent.as_ref().is_none_or(|a| *a == c.agent_id)
            && self.channel.is_none_or(|ch| ch == c.channel)
    }

    /// The URL query for these filters, `""` when none are set.
    pub fn to_query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = &self.agent {
            parts.push(format!("agent={}", encode_component(a.as_str())));
        }
        if let Some(c) = self.channel.and_then(Channel::as_param) {
            parts.push(format!("channel={c}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// Reads a percent-encoded component back; `None` for an escape that is not one, or bytes that
/// are not UTF-8.
pub fn decode_component(s: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let [b, tail @ ..] = rest {
        rest = tail;
        if *b != b'%' {
            bytes.push(*b);
            continue;
        }
        let hex = rest
            .get(..2)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
        bytes.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
        rest = &rest[2..];
    }
    String::from_utf8(bytes).ok()
}

/// Percent-encodes a query component (IDs are opaque: never assume they are URL-safe).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Where the list's pagination stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Nothing loaded yet.
    Start,
    More(String),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Inbox {
    pub filters: Filters,
    items: Vec<ConversationSummary>,
    /// Position of each conversation in `items`: paging 10,000 in stays linear.
    index: HashMap<ConversationId, usize>,
    pub cursor: Cursor,
    /// A page held conversations that could not be read, which are not listed.
    pub unreadable: bool,
    /// The newest activity the API's pages have listed: what a polled first page must reach
    /// down to (`merge_first_page`). Not moved by the open thread's news (`refresh`), which
    /// says nothing of the rows below it.
    listed_up_to: Option<DateTime<Utc>>,
    /// Every page so far came in API.md's order, newest activity first, each below the rows
    /// before it. An API that orders by another field (when each conversation began, say)
    /// tells neither of a gap nor of a row that left (`merge_first_page`).
    by_activity: bool,
    /// The oldest activity the pages appended have listed (`by_activity`).
    listed_down_to: Option<DateTime<Utc>>,
    /// How often a polled page has started the list over (`merge_first_page`): the view goes
    /// back to its top each time.
    pub starts: u32,
}

impl Inbox {
    pub fn new(filters: Filters) -> Self {
        Inbox {
            filters,
            items: Vec::new(),
            index: HashMap::new(),
            cursor: Cursor::Start,
            unreadable: false,
            listed_up_to: None,
            by_activity: true,
            listed_down_to: None,
            starts: 0,
        }
    }

    pub fn items(&self) -> &[ConversationSummary] {
        &self.items
    }

    /// Appends the next page; a conversation already listed is updated, not repeated.
    pub fn append_page(&mut self, page: Vec<ConversationSummary>, next: Option<String>) {
        let below = page
            .first()
            .zip(self.listed_down_to)
            .is_none_or(|(first, oldest)| first.activity_at() <= oldest);
        self.by_activity &= below && by_activity(&page);
        self.note_listed(&page);
        let oldest = page.iter().map(ConversationSummary::activity_at).min();
        self.listed_down_to = match (self.listed_down_to, oldest) {
            (Some(was), Some(now)) => Some(was.min(now)),
            (was, now) => was.or(now),
        };
        for item in page {
            self.upsert(item);
        }
        // (A token that asks for this same page again would page for ever.)
        self.cursor = match next {
            Some(token) if self.cursor != Cursor::More(token.clone()) => Cursor::More(token),
            _ => Cursor::End,
        };
    }

    /// A first page polled (here or by another tab) that left out `unreadable` rows it could
    /// not read: merged ([`Inbox::merge_first_page`]), and the notice of rows left out kept,
    /// or, once the list has started over from it, said of it alone. Returns whether it started
    /// over.
    /// `first_answer`: how many of the rows the first page's own answer held, when the pages
    /// after it were polled with it (`reaches_listed`).
    pub fn merge_polled(
        &mut self,
        page: Vec<ConversationSummary>,
        next: Option<String>,
        unreadable: usize,
        first_answer: Option<usize>,
    ) -> bool {
        let restarted = self.merge_top(page, next, first_answer);
        self.unreadable = unreadable > 0 || (self.unreadable && !restarted);
        restarted
    }

    /// Whether a polled first page (or the pages polled together from the top) reaches down to
    /// the rows listed: one that does not, with pages after it, starts the list over
    /// ([`Inbox::merge_first_page`]). Nothing listed yet, or a list in another order than
    /// API.md's, any does.
    pub fn reaches_listed(&self, page: &[ConversationSummary]) -> bool {
        self.cursor == Cursor::Start
            || !(self.by_activity && by_activity(page))
            || page
                .iter()
                .map(ConversationSummary::activity_at)
                .min()
                .zip(self.listed_up_to)
                .is_some_and(|(oldest, newest)| oldest <= newest)
    }

    /// Merges a refetched first page (`next`: the token of the page after it): changed
    /// conversations move to their new place at the top, new ones appear, the rest (and the
    /// cursor) stay where the operator left them.
    ///
    /// Whatever changed since the rows were listed is newer than all of them (than the newest
    /// a page listed), so a page that reaches down to them holds all of it. One that does not (more news than a page, while the
    /// tab was hidden, say) and has pages after it would leave a gap that no page fills, the
    /// cursor being below the old rows: then the list starts over from this page.
    ///
    /// Nothing listed yet (the first page failed, or is still on its way): this page is the
    /// list's first, and starts it.
    ///
    /// Returns whether it started over, so that a page asked for below the old rows, still on
    /// its way, is not appended to the new list.
    pub fn merge_first_page(
        &mut self,
        page: Vec<ConversationSummary>,
        next: Option<String>,
    ) -> bool {
        self.merge_top(page, next, None)
    }

    /// [`Inbox::merge_first_page`] of the pages polled from the top together, the first
    /// `first_answer` rows from the first page's own answer.
    fn merge_top(
        &mut self,
        page: Vec<ConversationSummary>,
        next: Option<String>,
        first_answer: Option<usize>,
    ) -> bool {
        if self.cursor == Cursor::Start {
            self.append_page(page, next);
            return true;
        }
        // Empty, with pages after it (none of its rows could be read, or a server's empty
        // page): it says nothing of the rows listed, which would otherwise all go, the list
        // started over from nothing.
        if page.is_empty() && next.is_some() {
            return false;
        }
        let page = Self::without_repeats(page);
        // The rows one answer vouches for: pages polled after the first were asked for apart,
        // and a row that moved up between them is in neither, not gone from these filters.
        let first = first_answer.map_or(page.len(), |n| n.min(page.len()));
        let answered: HashSet<ConversationId> = page[..first]
            .iter()
            .map(|c| c.conversation_id.clone())
            .collect();
        // No page after it: it is the whole list under these filters.
        let whole = next.is_none() && first == page.len();
        // What follows reads the pages in API.md's order; in another (`by_activity`), the page
        // is merged in, nothing taken out.
        let by_activity = self.by_activity && by_activity(&page);
        let reaches = self.reaches_listed(&page);
        if let (false, Some(token)) = (reaches, next) {
            self.listed_up_to = None;
            self.note_listed(&page);
            self.listed_down_to = page.iter().map(ConversationSummary::activity_at).min();
            self.items = page;
            self.cursor = Cursor::More(token);
            self.starts += 1;
            self.reindex();
            return true;
        }
        let listed_before = self.listed_up_to;
        self.note_listed(&page);
        // An answer made before news the list already shows (the open thread's, through
        // `refresh`) does not take it back: the newer row stays, in its place by activity.
        let mut page = page;
        for i in 0..page.len() {
            match self.get(&page[i].conversation_id) {
                Some(listed) if listed.activity_at() > page[i].activity_at() => {
                    page[i] = listed.clone();
                    rise(&mut page, i);
                }
                _ => {}
            }
        }
        let fresh: HashSet<ConversationId> =
            page.iter().map(|c| c.conversation_id.clone()).collect();
        // A row the page leaves out though its news is within the page's span, or older when
        // the page is the whole list, has left these filters (the customer wrote on the other
        // channel). Not one with news newer than the page: the open thread's (`refresh`),
        // which the answer was made before.
        let in_answer = || {
            page.iter()
                .filter(|c| answered.contains(&c.conversation_id))
        };
        let span = in_answer()
            .map(ConversationSummary::activity_at)
            .min()
            .zip(in_answer().map(ConversationSummary::activity_at).max())
            // The whole list, and empty: every row a page listed has left.
            .or_else(|| listed_before.filter(|_| whole).map(|up_to| (up_to, up_to)));
        let left = |c: &ConversationSummary| {
            by_activity
                && span.is_some_and(|(oldest, newest)| {
                    let at = c.activity_at();
                    // A first page has the newest rows: one missing that a page listed newer
                    // than it has left too (only the open thread's news is newer than that).
                    let newest = listed_before.map_or(newest, |listed| newest.max(listed));
                    (whole || oldest < at) && at <= newest
                })
        };
        let mut rest: Vec<ConversationSummary> = std::mem::take(&mut self.items)
            .into_iter()
            .filter(|c| !fresh.contains(&c.conversation_id) && !left(c))
            .collect();
        let mut merged = page;
        let below = merged.len();
        merged.append(&mut rest);
        // Those newer than the page (the open thread's news) go up to their place by activity.
        for i in below..merged.len() {
            if span.is_some_and(|(_, newest)| merged[i].activity_at() > newest) {
                rise(&mut merged, i);
            }
        }
        self.items = merged;
        self.reindex();
        // (The cursor stays: a Load more under way, or failed and to be tried again, goes on
        // with it; what it brings that has left goes at the next poll.)
        false
    }

    /// A conversation a page lists twice (a server's fault) is one row, with its newer news, in
    /// its first place: as `append_page` lists it.
    fn without_repeats(page: Vec<ConversationSummary>) -> Vec<ConversationSummary> {
        let mut at: HashMap<ConversationId, usize> = HashMap::new();
        let mut once: Vec<ConversationSummary> = Vec::with_capacity(page.len());
        for c in page {
            match at.get(&c.conversation_id) {
                Some(&i) if c.activity_at() > once[i].activity_at() => once[i] = c,
                Some(_) => {}
                None => {
                    at.insert(c.conversation_id.clone(), once.len());
                    once.push(c);
                }
            }
        }
        once
    }

    fn note_listed(&mut self, page: &[ConversationSummary]) {
        let newest = page.iter().map(ConversationSummary::activity_at).max();
        self.listed_up_to = self.listed_up_to.max(newest);
    }

    fn reindex(&mut self) {
        self.index = self
            .items
            .iter()
            .enumerate()
            .map(|(i, c)| (c.conversation_id.clone(), i))
            .collect();
    }

    fn upsert(&mut self, item: ConversationSummary) {
        match self.index.get(&item.conversation_id) {
            // (Not back to older news than the row has: see `merge_first_page`.)
            Some(&i) if self.items[i].activity_at() > item.activity_at() => {}
            Some(&i) => self.items[i] = item,
            None => {
                self.index
                    .insert(item.conversation_id.clone(), self.items.len());
                self.items.push(item);
            }
        }
    }

    /// Puts what the open thread knows of its conversation into its row, so that a message or a
    /// reopened window shows in the list at once rather than at the next poll. A conversation
    /// that moved on goes up past those with older activity (the API's order); a summary older
    /// than the row (the list polled since) changes nothing. Returns whether the row changed.
    pub fn refresh(&mut self, fresh: &ConversationSummary) -> bool {
        let Some(&i) = self.index.get(&fresh.conversation_id) else {
            return false;
        };
        let (was, now) = (self.items[i].activity_at(), fresh.activity_at());
        if now < was || self.items[i] == *fresh {
            return false;
        }
        if !self.filters.admit(fresh) {
            self.items.remove(i);
            self.reindex();
            return true;
        }
        self.items[i] = fresh.clone();
        let to = rise(&mut self.items, i);
        for (k, c) in self.items[to..=i].iter().enumerate() {
            self.index.insert(c.conversation_id.clone(), to + k);
        }
        true
    }

    /// Where a conversation is in the list.
    pub fn position(&self, id: &ConversationId) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn get(&self, id: &ConversationId) -> Option<&ConversationSummary> {
        self.index.get(id).map(|&i| &self.items[i])
    }

    /// Adds the agents of the rows loaded to `known`, sorted, each once (the API has no agent
    /// list): the inbox offers every agent seen under any filters. Whether any was new.
    pub fn learn_agents(&self, known: &mut Vec<AgentId>) -> bool {
        let before = known.len();
        for a in self.items.iter().map(|c| &c.agent_id) {
            insert_sorted(known, a);
        }
        known.len() != before
    }
}

/// The agents `known`, with `filter`'s: a link's agent the list has no rows of (a typo, say) is
/// the filter's to show while it is, not one to keep offering.
pub fn with_agent(known: &[AgentId], filter: Option<&AgentId>) -> Vec<AgentId> {
    let mut agents = known.to_vec();
    if let Some(a) = filter {
        insert_sorted(&mut agents, a);
    }
    agents
}

/// Each agent's own number, where the loaded list tells it: the one number all of the agent's
/// conversations share, three at least. API.md leaves which side of a conversation is the
/// customer to the data (`ConversationSummary::remote_number`). A guess, though: the only
/// conversations loaded of an agent of several numbers may all be one customer's (closed, then
/// the next), whose number they then share; so two tell nothing, and an agent not told falls
/// back to the contract's example.
pub fn agent_numbers(items: &[ConversationSummary]) -> Vec<(AgentId, String)> {
    // Per agent: the numbers of its first conversation still shared by all seen, and how many.
    let mut seen: Vec<(&AgentId, [Option<&str>; 2], usize)> = Vec::new();
    for c in items {
        let numbers = [c.from_number.as_str(), c.to_number.as_str()];
        match seen.iter_mut().find(|(a, ..)| **a == c.agent_id) {
            Some((_, shared, count)) => {
                for n in shared.iter_mut() {
                    *n = n.filter(|n| numbers.contains(n));
                }
                *count += 1;
            }
            None => seen.push((&c.agent_id, numbers.map(Some), 1)),
        }
    }
    seen.into_iter()
        .filter_map(|(agent, shared, count)| match shared {
            [Some(n), None] | [None, Some(n)] if count >= 3 => Some((agent.clone(), n.to_owned())),
            _ => None,
        })
        .collect()
}

/// The number [`agent_numbers`] found for `agent`.
pub fn agent_number<'a>(numbers: &'a [(AgentId, String)], agent: &AgentId) -> Option<&'a str> {
    numbers
        .iter()
        .find(|(a, _)| a == agent)
        .map(|(_, n)| n.as_str())
}

/// Sorted insertion rather than `sort` + `dedup`: the list is short, and it spares the wasm a
/// sort instantiation for `AgentId`.
fn insert_sorted(agents: &mut Vec<AgentId>, a: &AgentId) {
    if let Err(i) = agents.binary_search(a) {
        agents.insert(i, a.clone());
    }
}

/// Whether `page` is in API.md's order: newest activity first.
fn by_activity(page: &[ConversationSummary]) -> bool {
    page.windows(2)
        .all(|w| w[0].activity_at() >= w[1].activity_at())
}

/// Moves `items[i]` up past the items with older activity (the API's order, most recent first;
/// ties keep their order) and returns where it went.
fn rise(items: &mut [ConversationSummary], i: usize) -> usize {
    let now = items[i].activity_at();
    let to = items[..i]
        .iter()
        .position(|c| c.activity_at() < now)
        .unwrap_or(i);
    items[to..=i].rotate_right(1);
    to
}

/// Which conversations moved since the operator last looked. The first page listed for a set of
/// filters is the baseline, so a fresh console (or a new filter) doesn't mark the whole history
/// unread, and so are older conversations paged in later; but a conversation first seen with
/// activity newer than anything in the baseline (a customer who writes in for the first time,
/// or after a close) is unread.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unread {
    seen: HashMap<ConversationId, DateTime<Utc>>,
    /// Per set of filters listed so far, the newest activity of its first page (or, if that
    /// was empty, of the first rows listed since): a row first listed with news after it is
    /// unread, wherever it comes in (on top, or further down once the list has started over,
    /// `merge_first_page`). Kept per filters, so that one chosen again does not take the news
    /// that came in meanwhile as its baseline.
    baselines: Vec<(Filters, Option<DateTime<Utc>>)>,
    /// The unread conversations told of (`take_news`), until read, with their news then.
    told: HashMap<ConversationId, DateTime<Utc>>,
}

impl Unread {
    pub fn observe(&mut self, inbox: &Inbox) {
        // (An empty page with pages after it, of rows none of which could be read, lists
        // nothing yet: the rows after it are as old as any, not news.)
        let listed = inbox.cursor == Cursor::End || !inbox.items().is_empty();
        let newest_listed = || inbox.items().iter().map(|c| c.activity_at()).max();
        let k = match self.baselines.iter().position(|(f, _)| *f == inbox.filters) {
            Some(k) => k,
            None if !listed => return,
            // The first page for these filters: everything on it is as the operator found it.
            None => {
                self.baselines
                    .push((inbox.filters.clone(), newest_listed()));
                self.baselines.len() - 1
            }
        };
        let before = self.baselines[k].1;
        for c in inbox.items() {
            let at = c.activity_at();
            self.seen
                .entry(c.conversation_id.clone())
                .or_insert(match before {
                    // Not newer than the baseline: seen as it was.
                    Some(before) if at <= before => at,
                    _ => DateTime::<Utc>::MIN_UTC,
                });
        }
        if before.is_none() {
            self.baselines[k].1 = newest_listed();
        }
    }

    pub fn mark_seen(&mut self, c: &ConversationSummary) {
        // (Not back: seen up to the operator's reply the list has not caught up with.)
        let seen = self
            .seen
            .entry(c.conversation_id.clone())
            .or_insert(c.activity_at());
        *seen = (*seen).max(c.activity_at());
        self.told.remove(&c.conversation_id);
    }

    /// The operator's own reply (or template) to `id`, made at `at` (the API's time): not news,
    /// nor is what came before it, which they read in the conversation they replied from. A
    /// summary does not say whose its last message is, and theirs was marked unread and told as
    /// news ("New message from …") in the tabs that had not opened the conversation since.
    pub fn replied(&mut self, id: &ConversationId, at: DateTime<Utc>) {
        // (Within the second: a list may write the reply's time with milliseconds the send's
        // answer left out. A customer's message in that second is taken for it.)
        let upto = at + chrono::TimeDelta::milliseconds(999);
        let seen = self.seen.entry(id.clone()).or_insert(upto);
        *seen = (*seen).max(upto);
        // (What was told of it is answered.)
        if self.told.get(id).is_some_and(|told| *told <= upto) {
            self.told.remove(id);
        }
    }

    pub fn is_unread(&self, c: &ConversationSummary) -> bool {
        self.seen
            .get(&c.conversation_id)
            .is_some_and(|seen| c.activity_at() > *seen)
    }

    pub fn count(&self, items: &[ConversationSummary]) -> usize {
        items.iter().filter(|c| self.is_unread(c)).count()
    }

    /// The rows newly unread, or with news a while after what was told of them, now told:
    /// what is read out of the other conversations, as a sighted operator sees their markers
    /// come. Not news within [`RETELL_AFTER`] of the last told (the AI's reply to the
    /// customer's message moves the row again, but is not the customer's news: a summary does
    /// not say whose news it is). Not the open one (`open`), whose thread tells its own.
    pub fn take_news<'a>(
        &mut self,
        items: &'a [ConversationSummary],
        open: Option<&ConversationId>,
    ) -> Vec<&'a ConversationSummary> {
        let mut news = Vec::new();
        for c in items {
            let at = c.activity_at();
            let due = self
                .told
                .get(&c.conversation_id)
                .is_none_or(|told| at > *told + RETELL_AFTER);
            if due && self.is_unread(c) && Some(&c.conversation_id) != open {
                self.told.insert(c.conversation_id.clone(), at);
                news.push(c);
            }
        }
        news
    }
}

/// How long after the news last told of a conversation more of it is told again.
const RETELL_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

const APP_TITLE: &str = "Voicebip console";

/// The inbox's document title, with the unread count first so it shows in a crowded tab bar.
pub fn title(unread: usize) -> String {
    match unread {
        0 => APP_TITLE.to_owned(),
        n => format!("({n}) {APP_TITLE}"),
    }
}

/// Another screen's document title: the screen first, as the inbox's count is.
pub fn screen_title(screen: &str) -> String {
    format!("{screen} – {APP_TITLE}")
}

/// The rows to render for a scroll position: what is visible plus `overscan` on each side, so
/// the number of row elements stays bounded however long the list grows.
pub fn visible_range(
    scroll_top: f64,
    viewport_height: f64,
    row_height: f64,
    total: usize,
    overscan: usize,
) -> std::ops::Range<usize> {
    if total == 0 || row_height <= 0.0 {
        return 0..0;
    }
    let first = (scroll_top.max(0.0) / row_height).floor() as usize;
    let visible = (viewport_height.max(0.0) / row_height).ceil() as usize + 1;
    let start = first.saturating_sub(overscan).min(total);
    let end = (first + visible + overscan).min(total);
    start..end
}

/// The viewport height the rows follow once the list is measured. A taller list takes effect at
/// once (rows would be missing); a shorter one only when it drops by at least `overscan` rows,
/// since until then the rows already built are only a little more overscan. So a first guess
/// from the window's height, which the list never exceeds, is corrected without rebuilding the
/// first screen's rows in the frame that paints them.
pub fn measured_viewport(current: f64, measured: f64, row_height: f64, overscan: usize) -> f64 {
    if measured > current || current - measured >= row_height * overscan as f64 {
        measured
    } else {
        current
    }
}

/// What the end of the conversation list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFooter {
    /// Nothing listed yet: the first page is on its way.
    FirstPage,
    /// More pages to fetch, one of which may be loading.
    More,
    /// Nothing to list.
    Empty,
    /// The first page failed: whether anything matches is unknown (the error says so).
    Unknown,
    /// Every page is listed.
    End,
}

impl ListFooter {
    /// A list that can grow keeps its footer while the next page loads, so the "Load more"
    /// button that asked for it keeps its focus. Conversations another tab shared before the
    /// first page came are a list that can grow (by that first page).
    pub fn of(loading: bool, failed: bool, cursor: &Cursor, total: usize) -> Self {
        match (cursor, total) {
            (Cursor::More(_), _) => ListFooter::More,
            (Cursor::Start, 0) if loading => ListFooter::FirstPage,
            (Cursor::Start, 0) if failed => ListFooter::Unknown,
            (Cursor::Start, 0) | (Cursor::End, 0) => ListFooter::Empty,
            (Cursor::Start, _) => ListFooter::More,
            (Cursor::End, _) => ListFooter::End,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_whose_next_token_is_its_own_ends_the_list() {
        let mut inbox = Inbox::new(Filters::default());
        inbox.append_page(vec![item("c1", "a")], Some("p2".into()));
        assert_eq!(inbox.cursor, Cursor::More("p2".into()));
        // The page asked for with "p2" says the next is "p2" again: asked for, it would be
        // asked for for ever.
        inbox.append_page(vec![item("c2", "a")], Some("p2".into()));
        assert_eq!(inbox.cursor, Cursor::End);
        assert_eq!(inbox.items().len(), 2);
    }

    #[test]
    fn a_component_is_read_back_as_it_was_encoded() {
        for id in ["conv_1", "conv?a/b#c %'", "Ẹ ku ọjọ", ""] {
            assert_eq!(decode_component(&encode_component(id)).as_deref(), Some(id));
        }
        assert_eq!(decode_component("a%2fb").as_deref(), Some("a/b"));
        for broken in ["%", "%2", "%zz", "%+5", "%C3%28"] {
            assert_eq!(decode_component(broken), None, "{broken}");
        }
    }

    #[test]
    fn unread_means_moved_since_last_seen() {
        let mut a = item("c1", "a");
        let mut unread = Unread::default();
        let all = Filters::default();
        unread.observe(&listed(&all, std::slice::from_ref(&a), true));
        assert!(!unread.is_unread(&a));
        a.last_message_at = Some(a.created_at + chrono::Duration::minutes(5));
        unread.observe(&listed(&all, std::slice::from_ref(&a), true));
        assert!(unread.is_unread(&a));
        assert_eq!(unread.count(std::slice::from_ref(&a)), 1);
        assert_eq!(title(1), "(1) Voicebip console");
        unread.mark_seen(&a);
        assert!(!unread.is_unread(&a));
        assert_eq!(title(0), "Voicebip console");
    }

    #[test]
    fn the_operators_own_reply_is_not_news() {
        let secs = |c: &ConversationSummary, s: i64| {
            let mut c = c.clone();
            c.last_message_at = Some(c.created_at + chrono::Duration::seconds(s));
            c
        };
        let a = item("c1", "a");
        let id = &a.conversation_id;
        let mut unread = Unread::default();
        let all = Filters::default();
        unread.observe(&listed(&all, std::slice::from_ref(&a), true));
        // The customer writes, and is told of; the operator replies from another tab.
        let customer = secs(&a, 10);
        assert_eq!(
            unread
                .take_news(std::slice::from_ref(&customer), None)
                .len(),
            1
        );
        let reply = secs(&a, 30);
        unread.replied(id, reply.activity_at());
        // The reply, listed with milliseconds its answer left out, is not news.
        let mut listed_reply = reply.clone();
        listed_reply.last_message_at =
            Some(reply.activity_at() + chrono::Duration::milliseconds(250));
        assert!(!unread.is_unread(&listed_reply), "their own reply");
        assert!(unread
            .take_news(std::slice::from_ref(&listed_reply), None)
            .is_empty());
        // Opening it before the list caught up does not bring the reply back as news.
        unread.mark_seen(&customer);
        assert!(!unread.is_unread(&listed_reply));
        // The customer's next message, a moment later, is news at once (what was told is
        // answered).
        let next = secs(&a, 40);
        assert!(unread.is_unread(&next));
        assert_eq!(unread.take_news(std::slice::from_ref(&next), None).len(), 1);
        // A reply to a conversation not listed yet: listed later, it is not news either.
        let b = secs(&item("c2", "a"), 1200);
        unread.replied(&b.conversation_id, b.activity_at());
        unread.observe(&listed(&all, &[a.clone(), b.clone()], true));
        assert!(!unread.is_unread(&b));
    }

    /// An inbox for `filters` listing `items`, or with no page listed yet.
    fn listed(filters: &Filters, items: &[ConversationSummary], listed: bool) -> Inbox {
        let mut inbox = Inbox::new(filters.clone());
        if listed {
            inbox.append_page(items.to_vec(), Some("more".into()));
        }
        inbox
    }

    fn at(c: &ConversationSummary, minutes: i64) -> ConversationSummary {
        let mut c = c.clone();
        c.last_message_at = Some(c.created_at + chrono::Duration::minutes(minutes));
        c
    }

    #[test]
    fn the_open_threads_news_reaches_its_row_and_moves_it_up() {
        let (a, b, c) = (
            at(&item("a", "x"), 30),
            at(&item("b", "x"), 20),
            at(&item("c", "x"), 10),
        );
        let mut inbox = listed(&Filters::default(), &[a.clone(), b, c.clone()], true);

        // A message in c, newer than b but not than a: c moves up to second place.
        let c_moved = at(&c, 25);
        assert!(inbox.refresh(&c_moved));
        assert_eq!(ids(&inbox), ["a", "c", "b"]);
        assert_eq!(
            inbox.get(&c.conversation_id),
            Some(&c_moved),
            "found by its id"
        );
        // Newer than everything: to the top. The same again changes nothing.
        let c_top = at(&c, 40);
        assert!(inbox.refresh(&c_top));
        assert!(!inbox.refresh(&c_top));
        assert_eq!(ids(&inbox), ["c", "a", "b"]);

        // What changes no activity (an opt-out, a window) stays in place; an older summary than
        // the row's (a poll came in since) is ignored.
        let mut opted_out = a.clone();
        opted_out.opt_out = Some(true);
        assert!(inbox.refresh(&opted_out));
        assert_eq!(ids(&inbox), ["c", "a", "b"]);
        assert!(!inbox.refresh(&at(&a, 1)));
        assert!(inbox.get(&a.conversation_id).is_some_and(|r| r.opted_out()));

        // Tied with the row above it: it stays below (it did not move on past it).
        let b_tied = at(&item("b", "x"), 30);
        assert!(inbox.refresh(&b_tied));
        assert_eq!(ids(&inbox), ["c", "a", "b"]);
        // A conversation the list does not show is not added: the list's filters decide that.
        assert!(!inbox.refresh(&at(&item("d", "y"), 50)));
        assert_eq!(ids(&inbox), ["c", "a", "b"]);

        // A poll answered after c's news, but made before it: c keeps its news and its place.
        inbox.merge_first_page(vec![a.clone(), at(&c, 25)], Some("more".into()));
        assert_eq!(ids(&inbox), ["c", "a", "b"]);
        assert_eq!(inbox.get(&c.conversation_id), Some(&c_top));
        // A later page with an old copy of it changes nothing either.
        inbox.append_page(vec![c.clone()], None);
        assert_eq!(inbox.get(&c.conversation_id), Some(&c_top));
    }

    #[test]
    fn a_conversation_new_since_the_first_page_is_unread_an_older_one_paged_in_is_not() {
        let all = Filters::default();
        let (a, b) = (at(&item("a", "x"), 10), at(&item("b", "x"), 20));
        let (new, old) = (at(&item("new", "x"), 30), at(&item("old", "x"), 5));
        let mut unread = Unread::default();
        unread.observe(&listed(&all, &[], false));
        unread.observe(&listed(&all, &[b.clone(), a.clone()], true));
        assert_eq!(
            unread.count(&[b.clone(), a.clone()]),
            0,
            "the first page is the baseline"
        );

        let polled = [new.clone(), b.clone(), a.clone()];
        unread.observe(&listed(&all, &polled, true));
        assert!(unread.is_unread(&new), "a customer who wrote in since");
        unread.observe(&listed(&all, &[new.clone(), b, a, old.clone()], true));
        assert!(!unread.is_unread(&old), "an older conversation paged in");
        assert_eq!(unread.count(&polled), 1);
        unread.mark_seen(&new);
        assert!(!unread.is_unread(&new));

        // More news than a page while the tab was hidden: the list started over from the
        // newest, and a conversation with news since the baseline comes in from below.
        let (newer, paged) = (at(&item("newer", "x"), 50), at(&item("paged", "x"), 40));
        unread.observe(&listed(&all, std::slice::from_ref(&newer), true));
        unread.observe(&listed(&all, &[newer.clone(), paged.clone()], true));
        assert!(unread.is_unread(&newer) && unread.is_unread(&paged));
    }

    #[test]
    fn a_new_filter_has_its_own_baseline_and_an_empty_one_marks_what_comes() {
        let sms = Filters {
            channel: Some(Channel::Sms),
            ..Filters::default()
        };
        let (old, today) = (at(&item("old", "x"), 10), at(&item("today", "x"), 600));
        let mut unread = Unread::default();
        unread.observe(&listed(&sms, std::slice::from_ref(&old), true));
        // Another filter lists a conversation busier than anything the first one showed: it
        // is that filter's baseline, not news.
        let all = Filters::default();
        unread.observe(&listed(&all, &[], false));
        unread.observe(&listed(&all, &[today.clone(), old.clone()], true));
        assert_eq!(unread.count(&[today.clone(), old]), 0);

        // A filter with nothing in it yet: whatever comes is new.
        let other = Filters {
            agent: Some(AgentId("y".into())),
            ..Filters::default()
        };
        let mut empty = Inbox::new(other.clone());
        empty.append_page(vec![], None);
        unread.observe(&empty);
        let first = at(&item("first", "y"), 1);
        unread.observe(&listed(&other, std::slice::from_ref(&first), true));
        assert!(
            unread.is_unread(&first),
            "a first conversation where there was none"
        );

        // An empty first page with pages after it (its rows unreadable): the next page's rows
        // are the baseline, not news.
        let third = Filters {
            agent: Some(AgentId("z".into())),
            ..Filters::default()
        };
        let mut paged = listed(&third, &[], true);
        unread.observe(&paged);
        let older = at(&item("older", "z"), 1);
        paged.append_page(vec![older.clone()], None);
        unread.observe(&paged);
        assert!(!unread.is_unread(&older), "an old conversation paged in");
    }

    #[test]
    fn a_filter_chosen_again_keeps_its_baseline() {
        let all = Filters::default();
        let agent_a = Filters {
            agent: Some(AgentId("a".into())),
            ..Filters::default()
        };
        let (old, theirs) = (at(&item("old", "a"), 10), at(&item("new", "b"), 30));
        let mut unread = Unread::default();
        unread.observe(&listed(&all, std::slice::from_ref(&old), true));
        unread.observe(&listed(&agent_a, std::slice::from_ref(&old), true));
        // A first-time customer writes to agent b while agent a's list is shown.
        unread.observe(&listed(&all, &[theirs.clone(), old.clone()], true));
        assert!(
            unread.is_unread(&theirs),
            "news since the list of all was first shown"
        );
        assert!(!unread.is_unread(&old));
    }

    #[test]
    fn the_list_footer_stays_more_while_the_next_page_loads() {
        let more = Cursor::More("t".into());
        assert_eq!(
            ListFooter::of(true, false, &Cursor::Start, 0),
            ListFooter::FirstPage
        );
        assert_eq!(
            ListFooter::of(false, false, &Cursor::Start, 0),
            ListFooter::Empty
        );
        // The first page failed: not "no conversations match".
        assert_eq!(
            ListFooter::of(false, true, &Cursor::Start, 0),
            ListFooter::Unknown
        );
        assert_eq!(
            ListFooter::of(true, false, &Cursor::Start, 3),
            ListFooter::More
        );
        assert_eq!(ListFooter::of(false, true, &more, 50), ListFooter::More);
        assert_eq!(ListFooter::of(true, false, &more, 50), ListFooter::More);
        assert_eq!(
            ListFooter::of(false, false, &Cursor::End, 50),
            ListFooter::End
        );
        assert_eq!(
            ListFooter::of(false, false, &Cursor::End, 0),
            ListFooter::Empty
        );
    }

    #[test]
    fn a_measured_viewport_grows_at_once_and_shrinks_only_by_whole_overscans() {
        let m = |current, measured| measured_viewport(current, measured, 72.0, 6);
        assert_eq!(m(800.0, 900.0), 900.0, "taller: rows would be missing");
        assert_eq!(
            m(900.0, 800.0),
            900.0,
            "a little shorter: keep the rows built"
        );
        assert_eq!(m(900.0, 900.0 - 431.0), 900.0);
        assert_eq!(
            m(900.0, 900.0 - 432.0),
            468.0,
            "shorter by six rows: follow it"
        );
        assert_eq!(m(900.0, 0.0), 0.0, "hidden");
    }

    #[test]
    fn visible_range_is_bounded() {
        assert_eq!(visible_range(0.0, 700.0, 70.0, 10_000, 5), 0..16);
        assert_eq!(visible_range(70_000.0, 700.0, 70.0, 10_000, 5), 995..1016);
        assert_eq!(
            visible_range(699_999.0, 700.0, 70.0, 10_000, 5),
            9994..10_000
        );
        assert_eq!(visible_range(0.0, 700.0, 70.0, 3, 5), 0..3);
        assert_eq!(visible_range(0.0, 700.0, 70.0, 0, 5), 0..0);
        let r = visible_range(123_456.0, 900.0, 70.0, 10_000, 8);
        assert!(r.len() <= 900 / 70 + 2 + 16);
    }

    #[test]
    fn news_of_other_conversations_is_told_but_not_echoed() {
        let all = Filters::default();
        let (a, b) = (at(&item("a", "x"), 10), at(&item("b", "x"), 20));
        let mut unread = Unread::default();
        unread.observe(&listed(&all, &[b.clone(), a.clone()], true));
        assert!(unread.take_news(&[b.clone(), a.clone()], None).is_empty());

        let (a2, c) = (at(&a, 30), at(&item("c", "y"), 25));
        let rows = [a2.clone(), c.clone(), b.clone()];
        unread.observe(&listed(&all, &rows, true));
        let told = |news: Vec<&ConversationSummary>| {
            news.iter()
                .map(|c| c.conversation_id.to_string())
                .collect::<Vec<_>>()
        };
        let open = c.conversation_id.clone();
        assert_eq!(
            told(unread.take_news(&rows, Some(&open))),
            ["a"],
            "not the open one"
        );
        assert!(unread.take_news(&rows, Some(&open)).is_empty(), "told once");

        // The AI's reply a minute on, still unread: no news again; c, no longer open, is.
        let rows = [at(&a, 31), c.clone(), b.clone()];
        assert_eq!(told(unread.take_news(&rows, None)), ["c"]);
        // The customer again, ten minutes on: news again.
        let rows = [at(&a, 41), c.clone(), b.clone()];
        assert_eq!(told(unread.take_news(&rows, None)), ["a"]);
        // Read, then written in again at once: news again.
        unread.mark_seen(&rows[0]);
        let rows = [at(&a, 42), c, b];
        assert_eq!(told(unread.take_news(&rows, None)), ["a"]);
    }

    #[test]
    fn rows_left_out_are_said_until_the_list_starts_over_without_them() {
        let a = at(&item("a", "x"), 10);
        let mut inbox = Inbox::new(Filters::default());
        inbox.append_page(vec![a.clone()], Some("t".into()));
        // A poll (here, or another tab's) that could not read a row of the first page.
        assert!(!inbox.merge_polled(vec![a.clone()], Some("t".into()), 1, None));
        assert!(inbox.unreadable);
        // Read on a later poll: the rows listed before it may still lack one.
        assert!(!inbox.merge_polled(vec![a], Some("t".into()), 0, None));
        assert!(inbox.unreadable);
        // More news than a page: started over from a page that held none, none are left out.
        let far = vec![at(&item("b", "x"), 600)];
        assert!(inbox.merge_polled(far, Some("t2".into()), 0, None));
        assert!(!inbox.unreadable);
    }

    #[test]
    fn pages_polled_after_the_first_vouch_for_no_row_leaving() {
        let mut inbox = Inbox::new(Filters::default());
        let x = at(&item("x", "a"), 30);
        inbox.append_page(
            vec![x.clone(), at(&item("y", "a"), 20), at(&item("z", "a"), 10)],
            Some("t".into()),
        );
        // Three new conversations, then the page after them: x moved up between the two
        // requests, and is in neither.
        let polled = vec![
            at(&item("n3", "a"), 60),
            at(&item("n2", "a"), 55),
            at(&item("n1", "a"), 50),
            at(&item("y", "a"), 20),
            at(&item("z", "a"), 10),
        ];
        assert!(!inbox.merge_polled(polled.clone(), None, 0, Some(3)));
        assert!(inbox.get(&x.conversation_id).is_some(), "x is still listed");
        assert_eq!(inbox.items().len(), 6);
        // The same rows as one answer: x, within its span, has left these filters.
        let mut one = Inbox::new(Filters::default());
        one.append_page(
            vec![x.clone(), at(&item("y", "a"), 20), at(&item("z", "a"), 10)],
            Some("t".into()),
        );
        one.merge_polled(polled, Some("more".into()), 0, None);
        assert!(one.get(&x.conversation_id).is_none());
    }

    #[test]
    fn an_empty_polled_page_with_pages_after_it_changes_nothing() {
        let mut inbox = Inbox::new(Filters::default());
        inbox.append_page(
            vec![at(&item("a", "x"), 20), at(&item("b", "x"), 10)],
            Some("t".into()),
        );
        assert!(!inbox.merge_polled(vec![], Some("t2".into()), 3, None));
        assert_eq!(ids(&inbox), ["a", "b"]);
        assert_eq!(inbox.cursor, Cursor::More("t".into()));
        assert!(inbox.unreadable, "what could not be read is said");
        // The whole list, and empty: every row has left these filters.
        assert!(!inbox.merge_polled(vec![], None, 0, None));
        assert!(ids(&inbox).is_empty());
    }

    #[test]
    fn a_page_polled_before_the_first_one_came_starts_the_list() {
        let mut inbox = Inbox::new(Filters::default());
        assert!(inbox.merge_first_page(vec![item("a", "x")], Some("t".into())));
        assert_eq!(ids(&inbox), ["a"]);
        assert_eq!(inbox.cursor, Cursor::More("t".into()));
        let mut inbox = Inbox::new(Filters::default());
        assert!(inbox.merge_first_page(vec![item("a", "x")], None));
        assert_eq!(inbox.cursor, Cursor::End, "no first page asked for again");
    }

    /// API.md's order is a choice: an API that lists conversations by when they began keeps a
    /// busy older one on a later page, and a polled first page, which does not hold it, says
    /// nothing of it.
    #[test]
    fn a_list_in_another_order_loses_no_row_to_a_poll() {
        let (c1, c2, c3) = (
            at(&item("c1", "x"), 50),
            at(&item("c2", "x"), 41),
            at(&item("c3", "x"), 45),
        );
        let mut inbox = Inbox::new(Filters::default());
        inbox.append_page(vec![c1.clone(), c2.clone()], Some("p2".into()));
        inbox.append_page(vec![c3.clone()], Some("p3".into()));
        assert!(!inbox.merge_first_page(vec![c1.clone(), c2.clone()], Some("p2".into())));
        assert!(
            inbox.get(&c3.conversation_id).is_some(),
            "{:?}",
            ids(&inbox)
        );
        // Nor is more news than a page taken for a gap: the list is not started over.
        let c4 = at(&item("c4", "x"), 60);
        assert!(!inbox.merge_first_page(vec![c4], Some("p2".into())));
        assert_eq!(inbox.items().len(), 4);

        // In API.md's order, the same poll takes out a row that left (as below).
        let mut ordered = Inbox::new(Filters::default());
        ordered.append_page(vec![c1.clone(), c3.clone()], Some("p2".into()));
        ordered.append_page(vec![c2.clone()], Some("p3".into()));
        ordered.merge_first_page(vec![c1, c2], Some("p2".into()));
        assert_eq!(ids(&ordered), ["c1", "c2"]);
    }

    #[test]
    fn a_conversation_that_left_the_channel_filter_leaves_the_list() {
        let whatsapp = Filters {
            agent: None,
            channel: Some(Channel::Whatsapp),
        };
        let on_whatsapp = |id: &str, minutes| {
            let mut c = at(&item(id, "x"), minutes);
            c.channel = Channel::Whatsapp;
            c
        };
        let (a, b, c, d) = (
            on_whatsapp("a", 40),
            on_whatsapp("b", 30),
            on_whatsapp("c", 20),
            on_whatsapp("d", 10),
        );
        let mut inbox = listed(
            &whatsapp,
            &[a.clone(), b.clone(), c.clone(), d.clone()],
            true,
        );
        // The open thread hears d's customer write again, on WhatsApp: news the next page's
        // answer was made before.
        assert!(inbox.refresh(&on_whatsapp("d", 60)));
        // b's customer wrote by SMS: the polled page, within whose span b's news falls, no
        // longer has it. d's news is newer than the page: it stays, on top.
        inbox.merge_first_page(vec![a.clone(), at(&c, 25)], Some("more".into()));
        assert_eq!(ids(&inbox), ["d", "a", "c"]);

        // c's customer writes by SMS while c is open: its row goes at once.
        let mut moved = at(&c, 70);
        moved.channel = Channel::Sms;
        assert!(inbox.refresh(&moved));
        assert_eq!(ids(&inbox), ["d", "a"]);
        assert_eq!(inbox.position(&a.conversation_id), Some(1));
        // In a list of every channel it stays, and goes up.
        let mut all = listed(
            &Filters::default(),
            &[a.clone(), b.clone(), c.clone(), d.clone()],
            true,
        );
        assert!(all.refresh(&moved));
        assert_eq!(ids(&all), ["c", "a", "b", "d"]);

        // The last of the list moves to SMS: older than the page, it is left out of a page
        // with more after it (it may be on the next), not of the whole list.
        let mut inbox = listed(&whatsapp, &[a.clone(), b.clone(), c.clone(), d], true);
        inbox.merge_first_page(vec![a.clone(), b.clone(), c.clone()], Some("more".into()));
        assert_eq!(ids(&inbox), ["a", "b", "c", "d"]);
        inbox.merge_first_page(vec![a.clone(), b.clone(), c.clone()], None);
        assert_eq!(ids(&inbox), ["a", "b", "c"]);
        // (A Load more under way, or failed and to be tried again, goes on with its place.)
        assert_eq!(inbox.cursor, Cursor::More("more".into()));
        // Then all of them: the list is empty, but for news newer than any page listed.
        inbox.refresh(&at(&a, 90));
        inbox.merge_first_page(vec![], None);
        assert_eq!(ids(&inbox), ["a"]);

        // The top of the list moves to SMS, unopened: a first page, which has the newest rows
        // and no longer has it, takes it out, whether the whole list or not. (Newer than the
        // page, but a page listed it: not the open thread's news.)
        for next in [None, Some("more".to_owned())] {
            let mut inbox = listed(&whatsapp, &[a.clone(), b.clone(), c.clone()], true);
            inbox.merge_first_page(vec![b.clone(), c.clone()], next);
            assert_eq!(ids(&inbox), ["b", "c"]);
        }
    }

    #[test]
    fn a_conversation_a_page_lists_twice_is_one_row() {
        let (a, b) = (at(&item("a", "x"), 20), at(&item("b", "x"), 10));
        let mut inbox = listed(&Filters::default(), &[a.clone(), b.clone()], true);
        let newer = at(&b, 30);
        inbox.merge_first_page(
            vec![newer.clone(), a.clone(), b.clone()],
            Some("more".into()),
        );
        assert_eq!(ids(&inbox), ["b", "a"]);
        assert_eq!(inbox.items()[0], newer, "with its newer news");
        assert_eq!(inbox.position(&a.conversation_id), Some(1));
    }

    fn item(id: &str, agent: &str) -> ConversationSummary {
        serde_json::from_value(serde_json::json!({
            "conversation_id": id, "agent_id": agent, "channel": "sms",
            "from_number": "+2348031234567", "to_number": "+2349012345678",
            "created_at": "2026-05-15T10:00:00Z",
        }))
        .expect("item")
    }

    #[test]
    fn an_agents_number_is_the_one_its_conversations_share() {
        let with = |id: &str, agent: &str, from: &str, to: &str| {
            let mut c = item(id, agent);
            (c.from_number, c.to_number) = (from.into(), to.into());
            c
        };
        let items = [
            // Agent A's number is the `to_number` (the guide's layout)...
            with("a1", "agt_A", "+1001", "+2000"),
            with("a2", "agt_A", "+1002", "+2000"),
            with("a3", "agt_A", "+1010", "+2000"),
            // ...B's the `from_number` (a conversation the business began, say).
            with("b1", "agt_B", "+3000", "+1003"),
            with("b2", "agt_B", "+3000", "+1004"),
            with("b3", "agt_B", "+3000", "+1005"),
            // C has two: either side could be the agent's.
            with("c1", "agt_C", "+1006", "+4000"),
            with("c2", "agt_C", "+1011", "+4000"),
            // D's share no one number.
            with("d1", "agt_D", "+1007", "+5000"),
            with("d2", "agt_D", "+1008", "+5001"),
            // E's three are one customer's, to one of E's numbers: both numbers shared.
            with("e1", "agt_E", "+1009", "+6000"),
            with("e2", "agt_E", "+1009", "+6000"),
            with("e3", "agt_E", "+1009", "+6000"),
        ];
        let numbers = agent_numbers(&items);
        let of = |agent: &str| agent_number(&numbers, &AgentId::from(agent));
        assert_eq!(
            [
                of("agt_A"),
                of("agt_B"),
                of("agt_C"),
                of("agt_D"),
                of("agt_E")
            ],
            [Some("+2000"), Some("+3000"), None, None, None]
        );
        // So the remote party of B's conversations is their `to_number`.
        let row = |id: &str| {
            let found = items.iter().find(|c| c.conversation_id.as_str() == id);
            found.expect("listed")
        };
        assert_eq!(row("b1").remote_number(of("agt_B")), "+1003");
        assert_eq!(row("a1").remote_number(of("agt_A")), "+1001");
    }

    fn ids(inbox: &Inbox) -> Vec<&str> {
        inbox
            .items()
            .iter()
            .map(|c| c.conversation_id.as_str())
            .collect()
    }

    #[test]
    fn filters_round_trip_through_the_query() {
        let f = Filters::from_query(Some("agt_A b".into()), Some("whatsapp".into()));
        assert_eq!(f.to_query(), "?agent=agt_A%20b&channel=whatsapp");
        assert_eq!(
            Filters::from_query(Some(String::new()), Some("fax".into())),
            Filters::default()
        );
        assert_eq!(Filters::default().to_query(), "");
    }

    #[test]
    fn pages_append_without_duplicates() {
        let mut inbox = Inbox::new(Filters::default());
        inbox.append_page(vec![item("c1", "a"), item("c2", "b")], Some("t".into()));
        assert_eq!(inbox.cursor, Cursor::More("t".into()));
        inbox.append_page(vec![item("c2", "b"), item("c3", "a")], None);
        assert_eq!(ids(&inbox), ["c1", "c2", "c3"]);
        assert_eq!(inbox.cursor, Cursor::End);
        let mut known = Vec::new();
        assert!(inbox.learn_agents(&mut known));
        assert_eq!(known, [AgentId::from("a"), AgentId::from("b")]);
        assert!(!inbox.learn_agents(&mut known), "nothing new");
    }

    #[test]
    fn agents_seen_under_other_filters_stay_offered_and_a_filters_own_does_not() {
        let mut known = Vec::new();
        let mut all = Inbox::new(Filters::default());
        all.append_page(vec![item("c1", "b"), item("c2", "c")], None);
        all.learn_agents(&mut known);
        let typo = Filters {
            agent: Some(AgentId::from("zz")),
            channel: None,
        };
        let narrowed = Inbox::new(typo.clone());
        assert!(!narrowed.learn_agents(&mut known));
        assert_eq!(known, [AgentId::from("b"), AgentId::from("c")]);
        assert_eq!(
            with_agent(&known, typo.agent.as_ref()),
            [AgentId::from("b"), AgentId::from("c"), AgentId::from("zz")]
        );
        assert_eq!(with_agent(&known, Some(&AgentId::from("b"))), known);
    }

    #[test]
    fn a_first_page_that_does_not_reach_the_listed_rows_starts_the_list_over() {
        let (a, b, c) = (
            at(&item("a", "x"), 30),
            at(&item("b", "x"), 20),
            at(&item("c", "x"), 10),
        );
        let listed = || {
            let mut inbox = Inbox::new(Filters::default());
            inbox.append_page(vec![a.clone(), b.clone(), c.clone()], None);
            inbox
        };
        let (x, y) = (at(&item("x", "x"), 60), at(&item("y", "x"), 50));

        // More news than a page while the tab was hidden: what lies between the page and the
        // old rows is on the next pages, which the list now walks from the top.
        let mut inbox = listed();
        inbox.merge_first_page(vec![x.clone(), y.clone()], Some("t".into()));
        assert_eq!(ids(&inbox), ["x", "y"]);
        assert_eq!(inbox.cursor, Cursor::More("t".into()));
        assert_eq!(inbox.get(&ConversationId::from("c")), None);

        // The page reaches an old row (a, unchanged): everything new is on it.
        let mut inbox = listed();
        inbox.merge_first_page(vec![x.clone(), a.clone()], Some("t".into()));
        assert_eq!(ids(&inbox), ["x", "a", "b", "c"]);
        assert_eq!(inbox.cursor, Cursor::End);
        // No page after it: it is all there is (the old rows have left these filters).
        let mut inbox = listed();
        inbox.merge_first_page(vec![x.clone(), y.clone()], None);
        assert_eq!(ids(&inbox), ["x", "y"]);
        assert_eq!(inbox.cursor, Cursor::End);
        // The open thread raised its row (a) past the page's news meanwhile: the page still
        // does not reach the other rows.
        let mut inbox = listed();
        assert!(inbox.refresh(&at(&a, 100)));
        assert!(inbox.merge_first_page(vec![at(&a, 100), x.clone(), y.clone()], Some("t".into())));
        assert_eq!(ids(&inbox), ["a", "x", "y"]);
        assert_eq!(inbox.cursor, Cursor::More("t".into()));
        // Every listed row changed and moved onto the page: the rest is below them.
        let mut inbox = listed();
        let moved = [at(&a, 40), at(&b, 40), at(&c, 40)];
        inbox.merge_first_page(moved.to_vec(), Some("t".into()));
        assert_eq!(ids(&inbox), ["a", "b", "c"]);
        assert_eq!(inbox.cursor, Cursor::More("t".into()));
    }

    #[test]
    fn refreshed_first_page_moves_active_conversations_up() {
        let mut inbox = Inbox::new(Filters::default());
        inbox.append_page(
            vec![item("c1", "a"), item("c2", "a"), item("c3", "a")],
            Some("t".into()),
        );
        inbox.merge_first_page(vec![item("c3", "a"), item("c4", "a")], Some("t2".into()));
        assert_eq!(ids(&inbox), ["c3", "c4", "c1", "c2"]);
        assert_eq!(inbox.cursor, Cursor::More("t".into()));
        // The index follows the new order: a later page updates in place.
        inbox.append_page(vec![item("c1", "b")], None);
        assert_eq!(ids(&inbox), ["c3", "c4", "c1", "c2"]);
        assert_eq!(
            inbox
                .get(&ConversationId::from("c1"))
                .map(|c| c.agent_id.as_str()),
            Some("b")
        );
    }
}
