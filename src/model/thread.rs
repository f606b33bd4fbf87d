//! The state of one open thread and the reducer that applies fetched pages, stream events and the
//! operator's own sends to it. Every input is applied idempotently: a message is keyed by its
//! `message_id`, and a status only moves forward.

use super::blocked::Blocked;
use super::conversation::{
    AiMode, Channel, Conversation, ConversationSummary, ModeAnswer, ModeChange,
};
use super::events::StreamEvent;
use super::ids::MessageId;
use super::message::{Direction, Message, MessageStatus};
use super::short_sort::sort_short_by_key;
use super::window::WindowState;
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::{BTreeMap, HashMap};

type SortKey = (DateTime<Utc>, MessageId);

fn key_of(m: &Message) -> SortKey {
    (m.created_at, m.message_id.clone())
}

/// The gap a page of newer messages leaves above `floor`: none once it reaches back to it, or
/// when there is no older page. (An empty page with one after it reaches nothing: none of its
/// messages could be read.)
fn gap_below(page: &[Message], next: Option<String>, floor: SortKey) -> Option<Gap> {
    let reached = page.iter().any(|m| key_of(m) <= floor);
    match (reached, next) {
        (false, Some(token)) => Some(Gap {
            token,
            floor,
            resume: None,
            holds: 0,
        }),
        _ => None,
    }
}

/// Where the messages shown end (the newest of them), taken when a refetch starts: messages the
/// stream brings while it is out are newer, and do not count as reached. With the stream's
/// returns so far: an answer asked for before the last one may have been made while it was
/// down, and vouches for nothing said after it. And with the frames missed so far
/// ([`Thread::missed`]): an answer asked for before one was missed has not brought it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark(SortKey, u32, u32);

/// Messages between a refetched newest page and those shown before it, still to fetch: the
/// token of the next older page, and the [`Mark`] where filling stops.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    pub token: String,
    floor: SortKey,
    /// Where the thread is known complete once filled, when not up to what is shown: the
    /// refetch's newest message, the stream being down (or down when it was asked for).
    resume: Option<SortKey>,
    /// [`Thread::hold_unfilled`]'s count when it was left: one since (the stream lost again,
    /// a frame missed, while it was filled) holds what came then for the next refetch.
    holds: u32,
}

/// A message the operator sent that the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingSend {
    pub local_id: u64,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub state: SendState,
    /// No message made before this is its own: the newest shown when it began (the server's
    /// time, unlike `created_at`, to the second, as timestamps come with or without their
    /// milliseconds), else when it began by the browser's clock, less [`CLOCK_SKEW`].
    pub not_before: DateTime<Utc>,
    /// The newest message shown when it began: not its own, whatever its text.
    pub newest_then: Option<MessageId>,
}

impl PendingSend {
    /// This send as kept beyond its view, as one that may have gone out for `reason`.
    pub fn kept_as(&self, reason: String) -> UnconfirmedSend {
        UnconfirmedSend {
            text: self.body.clone(),
            sent_at: self.created_at,
            not_before: self.not_before,
            newest_then: self.newest_then.clone(),
            reason,
        }
    }

    /// Whether `m` may be this send's message: ours, with its text, and not made before the
    /// send could have been (an older page's message with the same text is not it).
    fn may_be(&self, m: &Message) -> bool {
        m.direction == Direction::Outbound
            && m.body.as_deref().is_some_and(|b| same_text(b, &self.body))
            && m.created_at >= self.not_before
    }
}

/// Whether a message's text is what was typed, as a server may store it: without white space
/// at its ends (a Shift+Enter left at the end), its line ends written `\r\n` or `\n`. (Unmatched,
/// the send stayed "may not have been sent", with a Retry that sent it twice.)
fn same_text(stored: &str, typed: &str) -> bool {
    stored.trim().lines().eq(typed.trim().lines())
}

/// A send that may not have gone out (its answer was lost), as kept beyond its view: it comes
/// back as one, not as the reply box's text, which the next Enter would send a second time.
#[derive(Debug, Clone, PartialEq)]
pub struct UnconfirmedSend {
    pub text: String,
    pub sent_at: DateTime<Utc>,
    pub not_before: DateTime<Utc>,
    pub newest_then: Option<MessageId>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SendState {
    Sending,
    /// Kept with the reason so the operator can retry without retyping.
    Failed(String),
    /// No answer came, or none to be read: it may have gone out all the same. Kept as a
    /// failure is, until a message with its text turns up and settles it as sent.
    Unconfirmed(String),
    /// An [`SendState::Unconfirmed`] send whose Retry first looks among the conversation's
    /// newest messages for it (the API takes no key that would make a second send harmless):
    /// kept as it was, with its reason, until that says.
    Checking(String),
}

impl SendState {
    /// Settled without a message: its text is the operator's to retry or edit.
    pub fn is_unsent(&self) -> bool {
        matches!(self, SendState::Failed(_) | SendState::Unconfirmed(_))
    }

    /// Settled by a message of its text, should one turn up: it may have gone out.
    fn in_question(&self) -> Option<&String> {
        match self {
            SendState::Unconfirmed(reason) | SendState::Checking(reason) => Some(reason),
            _ => None,
        }
    }
}

/// What a new message of ours settles of the sends shown ([`Thread::settle_unconfirmed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settles {
    /// A send whose answer was lost, else failed sends whose text it holds.
    All,
    /// A send whose answer was lost only: not a message kept back while a send of its text
    /// was out, and refused since.
    InQuestion,
    /// Failed sends whose text it holds only: the message of a send of this view, which is
    /// not that of a send in question.
    Failed,
    /// Nothing: it is the message of a send it was found for.
    Nothing,
}

/// What [`Thread::look_for`] found of a send being checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Looked {
    /// Its message: it went out.
    Found(Box<Message>),
    /// Not among the messages made since it began: it did not go out (yet).
    NotThere,
    /// Not in this page, which does not go back far enough.
    Older,
    /// It is no longer shown: settled meanwhile, or given up.
    Gone,
    /// A message of its text that a send of that text still on its way may have made.
    Unsure,
}

/// How far the server's clock may run behind the browser's: a message stamped this much before
/// a send began may still be that send.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Who sends to whom on a reply: the fields `POST /v1/messages` and `/messages/template` share
/// (the second without `channel`; `api::types` writes them).
#[derive(Debug, Clone, PartialEq)]
pub struct Addressing {
    pub agent_id: super::AgentId,
    pub channel: super::Channel,
    /// The agent's number.
    pub from_number: String,
    /// The remote party.
    pub to_number: String,
}

/// What happened to the thread, for announcements and notifications.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    None,
    NewInbound(Message),
    NewOutbound,
    StatusChanged,
    /// A message to the customer was not delivered (its status became `failed`).
    Undelivered(Message),
    /// The conversation moved to another mode (reported once, whether the PATCH answer or the
    /// stream event arrives first).
    ModeChanged(ModeChange),
    WindowClosing,
    /// A receipt for a message this thread has not seen, and no send of its own is out that
    /// it could be: one the AI or another tab sent, whose receipts say too little to show it
    /// (API.md names no `created_at` in them). The conversation is to be fetched for it.
    Unseen,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    pub conversation: Conversation,
    messages: BTreeMap<SortKey, Message>,
    keys: HashMap<MessageId, SortKey>,
    /// Status events that arrived before the message they describe (e.g. before the POST answer).
    early_status: HashMap<MessageId, (MessageStatus, Option<String>)>,
    /// Messages the stream showed for a send still waiting for its answer (`may_be_pending`):
    /// proof that it went out should that answer be lost (`fail_send`).
    outran: Vec<Message>,
    pending: Vec<PendingSend>,
    /// Token for the next older page; `None` once the oldest message is loaded.
    pub older_token: Option<String>,
    /// A page of this thread held messages that could not be read, which are not shown.
    pub unreadable: bool,
    /// Customer messages a refetch brought that the stream had not (it was down): heard of
    /// through [`Thread::take_recovered`], as the stream's would be.
    recovered: Vec<Message>,
    /// A receipt for a message not seen came while a send of the operator's was out, which
    /// it may have been for: asked about once no send is out ([`Thread::take_unseen`]).
    unseen_while_sending: bool,
    /// Where the thread is known complete, while what came after may be missing: the stream
    /// went down, or a gap was left unfilled (its fetch failed, or the refetch was dropped for
    /// a newer one). The next refetch reaches down to it, whatever has been shown since (the
    /// operator's own sends among it).
    unfilled: Option<SortKey>,
    /// How many times `unfilled` was held ([`Thread::hold_unfilled`]).
    holds: u32,
    /// Where the first page ended: a refetch asked for before there was a thread (the view's
    /// first request and the stream's, both out) brings what came after it as news, heard of
    /// as the stream's would be, rather than merged without a word.
    first_page_end: Option<SortKey>,
    stream_down: bool,
    /// Times the stream came back after going down.
    stream_returns: u32,
    /// Times the stream brought what could not be read ([`Thread::missed`]).
    misses: u32,
    /// A reply was refused for the WhatsApp window (`WINDOW_CLOSED`): the window's end then
    /// known, and when. By the server's clock that end has passed, whatever this device's says:
    /// one running behind kept offering replies the server refuses, and no template form. Until
    /// a customer's message moves the end.
    window_shut: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The window's end the server warned of (`window.closing`): it is in its last hour by the
    /// server's clock, whatever this device's says (one running behind showed no warning).
    window_warned: Option<DateTime<Utc>>,
    /// An opt-out known here (an answer said so, or a reply was refused for it): the
    /// customer's newest message's time then. It stands through answers that say nothing of it
    /// (a thread's body is API.md's choice) until the customer opts back in (START).
    opt_out_known: Option<Option<DateTime<Utc>>>,
    /// Messages not delivered while the thread was open: the ones still to act on (Edit);
    /// older failures are history, and an Edit on each would stand in the keyboard's way.
    undelivered_here: Vec<MessageId>,
    /// Of those, the ones a refetch brought (their failure came while the stream was down, or
    /// without one): told once, as the stream's are ([`Thread::take_undelivered`]).
    undelivered_recovered: Vec<Message>,
}

impl Thread {
    /// A thread from the first fetched page (newest messages).
    pub fn new(mut conversation: Conversation) -> Self {
        let first_page = std::mem::take(&mut conversation.messages);
        let older_token = conversation.next_page_token.take();
        let unreadable = conversation.unreadable_messages > 0;
        let mut thread = Thread {
            conversation,
            messages: BTreeMap::new(),
            keys: HashMap::new(),
            early_status: HashMap::new(),
            outran: Vec::new(),
            pending: Vec::new(),
            older_token,
            unreadable,
            recovered: Vec::new(),
            unseen_while_sending: false,
            unfilled: None,
            holds: 0,
            first_page_end: None,
            stream_down: false,
            misses: 0,
            stream_returns: 0,
            window_shut: None,
            window_warned: None,
            opt_out_known: None,
            undelivered_here: Vec::new(),
            undelivered_recovered: Vec::new(),
        };
        thread.merge_messages(first_page);
        thread.first_page_end = thread.messages.keys().next_back().cloned();
        if thread.conversation.summary.opt_out == Some(true) {
            thread.opt_out_known = Some(thread.newest_inbound_at());
        }
        thread
    }

    /// `(agent's number, remote party's number)`: learned from the messages when there are any
    /// (an inbound message is addressed to the agent), else the contract's example layout where
    /// `from_number` is the remote party.
    pub fn parties(&self) -> (String, String) {
        let s = &self.conversation.summary;
        let agent = self.messages().find_map(|m| match m.direction {
            Direction::Inbound => m.to_number.clone(),
            Direction::Outbound => m.from_number.clone(),
            Direction::Unknown => None,
        });
        let remote = s.remote_number(agent.as_deref()).to_owned();
        let agent = agent.unwrap_or_else(|| {
            if remote == s.from_number {
                s.to_number.clone()
            } else {
                s.from_number.clone()
            }
        });
        (agent, remote)
    }

    /// How a reply in this thread is addressed.
    pub fn addressing(&self) -> Addressing {
        let (agent, remote) = self.parties();
        Addressing {
            agent_id: self.conversation.summary.agent_id.clone(),
            channel: self.conversation.summary.channel,
            from_number: agent,
            to_number: remote,
        }
    }

    pub fn mode(&self) -> AiMode {
        self.conversation.ai_mode
    }

    /// The change that brought the mode the thread is in, when its history has it.
    pub fn latest_change(&self) -> Option<&ModeChange> {
        self.conversation
            .mode_history
            .iter()
            .max_by_key(|r| r.timestamp)
            .filter(|r| r.to_mode == self.mode())
    }

    /// Why a free-form reply would not go out now, if it would not.
    pub fn blocked(&self, now: DateTime<Utc>) -> Option<Blocked> {
        let s = &self.conversation.summary;
        let window = WindowState::of(s.channel, self.window_expires_at(), now);
        Blocked::of(self.mode(), s.opted_out(), s.channel, window)
    }

    /// When the WhatsApp window closes, as far as the console can tell: the server's time,
    /// unless the server has since refused a reply for it.
    pub fn window_expires_at(&self) -> Option<DateTime<Utc>> {
        let known = self.window_end();
        match (self.window_shut, known) {
            // The refused window, however its end is written now: without the milliseconds the
            // console's copy had, or minutes later for a message the console missed before the
            // refusal. A customer's message since ends a window a day after the refused end at
            // least. (Both ends are the server's reckoning: the device's clock plays no part.)
            (Some((refused, at)), Some(end)) if end < refused + super::window::LENGTH / 2 => {
                Some(end.min(at))
            }
            _ => known,
        }
    }

    /// Whether the server warned that the window's end, as known now, is within the hour
    /// (`window.closing`): not one a customer's message has moved since.
    pub fn closing_warned(&self) -> bool {
        self.window_warned
            .zip(self.window_expires_at())
            .is_some_and(|(warned, end)| (end - warned).abs() <= chrono::TimeDelta::minutes(1))
    }

    /// An answer that says nothing of the opt-out keeps the one known here, until the customer
    /// opts back in (the reply box stayed unlocked, and "opted back in" was read out, for a
    /// number the server had just refused); one that says is taken, and known.
    fn keep_known_opt_out(&mut self, fresh: &mut ConversationSummary) {
        match fresh.opt_out {
            Some(true) => self.opt_out_known = Some(self.newest_inbound_at()),
            Some(false) => self.opt_out_known = None,
            None => {
                if self
                    .opt_out_known
                    .is_some_and(|then| !self.opted_back_in_since(then))
                {
                    fresh.opt_out = Some(true);
                } else {
                    self.opt_out_known = None;
                }
            }
        }
    }

    /// Whether the customer wrote START (or SUBSCRIBE) after `then`: only those undo an
    /// opt-out (a STOP's own message, or any other, does not).
    fn opted_back_in_since(&self, then: Option<DateTime<Utc>>) -> bool {
        self.messages
            .values()
            .rev()
            .take_while(|m| Some(m.created_at) > then)
            .any(|m| {
                m.direction == Direction::Inbound
                    && m.body.as_deref().is_some_and(super::message::opts_back_in)
            })
    }

    /// The server refused a reply at `now` for the window: it is shut.
    pub fn window_refused(&mut self, now: DateTime<Utc>) {
        self.window_shut = self.window_end().map(|end| (end, now));
    }

    /// The server refused a send at `now` with `code` (API.md's 422s) for what the thread did not
    /// know yet: the reply box takes its word at once, not only at the refetch that follows,
    /// which may fail or wait out a rate limit (and Retry meanwhile sent into the same refusal).
    /// (Not a close: the refetch brings it as a change of mode, told to the operator and to a
    /// host page, which a close taken here would leave unsaid.)
    pub fn refused_for(&mut self, code: &str, now: DateTime<Utc>) {
        match code {
            "WINDOW_CLOSED" => self.window_refused(now),
            "RECIPIENT_OPTED_OUT" => {
                self.conversation.summary.opt_out = Some(true);
                self.opt_out_known = Some(self.newest_inbound_at());
            }
            _ => {}
        }
    }

    /// The server's end of the window; where the answer leaves it out (the thread's body is
    /// API.md's choice, and WhatsApp's is `null` only for SMS), its own definition: the
    /// customer's newest WhatsApp message shown, and a day.
    fn window_end(&self) -> Option<DateTime<Utc>> {
        let s = &self.conversation.summary;
        // (Read on every clock tick: not worked out where no window applies, on SMS.)
        if s.window_expires_at.is_some() || s.channel != Channel::Whatsapp {
            return s.window_expires_at;
        }
        let whatsapp = |m: &&Message| m.channel.unwrap_or(s.channel) == Channel::Whatsapp;
        self.messages
            .values()
            .rev()
            .filter(|m| m.direction == Direction::Inbound)
            .find(whatsapp)
            .map(|m| m.created_at + super::window::LENGTH)
    }

    /// Messages oldest first, as the thread shows them (newest at the bottom).
    pub fn messages(&self) -> impl DoubleEndedIterator<Item = &Message> + ExactSizeIterator {
        self.messages.values()
    }

    /// When the customer's newest message the thread holds was created.
    fn newest_inbound_at(&self) -> Option<DateTime<Utc>> {
        self.messages
            .values()
            .rev()
            .find(|m| m.direction == Direction::Inbound)
            .map(|m| m.created_at)
    }

    pub fn pending(&self) -> &[PendingSend] {
        &self.pending
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Merges a refetch of the newest page (after a reconnect): new messages appear once, known
    /// ones keep their most advanced status, and metadata (mode, window) takes the fresh value.
    /// When more came in since `mark` than the page holds, it does not reach back to it: the
    /// [`Gap`] says which page to fetch next ([`Thread::fill_gap`]).
    pub fn merge_latest(&mut self, mut fresh: Conversation, mark: Option<Mark>) -> Option<Gap> {
        self.unreadable |= fresh.unreadable_messages > 0;
        let page = std::mem::take(&mut fresh.messages);
        let next = fresh.next_page_token.take();
        let newest_listed = page.iter().map(key_of).max();
        let outdated = mark.as_ref().is_some_and(|m| self.came_back_since(m));
        // A frame missed after this was asked for: this answer may not hold what it brought,
        // which stays the next refetch's to tell, down to where the thread ended then.
        let missed_since = mark.as_ref().is_some_and(|m| m.2 != self.misses);
        let missed_floor = self.unfilled.clone().filter(|_| missed_since);
        let mark = mark
            .map(|Mark(m, ..)| m)
            .or_else(|| self.first_page_end.clone());
        let floor = match (self.unfilled.take(), mark) {
            (Some(unfilled), Some(mark)) => Some(unfilled.min(mark)),
            (unfilled, mark) => unfilled.or(mark),
        };
        let gap = match &floor {
            Some(floor) => {
                let gap = gap_below(&page, next, floor.clone());
                self.merge_newer(page, floor);
                gap
            }
            None => {
                // Nothing was shown: older messages are the next page's, as for a first page.
                if self.messages.is_empty() {
                    self.older_token = self.older_token.take().or(next);
                }
                self.merge_messages(page);
                None
            }
        };
        // Complete up to the newest listed; with the stream down (or down when this was asked
        // for), not beyond.
        // A frame missed since this was asked for: complete only down to where the thread ended
        // then, filled or not (this answer, and a gap's pages, hold only what it knew of).
        let resume = (self.stream_down || outdated)
            .then(|| newest_listed.max(floor))
            .flatten();
        let resume = match (resume, missed_floor) {
            (Some(resume), Some(kept)) => Some(resume.min(kept)),
            (resume, kept) => resume.or(kept),
        };
        let gap = gap.map(|g| Gap {
            resume: resume.clone(),
            holds: self.holds,
            ..g
        });
        self.unfilled = match &gap {
            Some(gap) => Some(gap.floor.clone()),
            None => resume,
        };
        keep_newer_activity(
            &self.conversation.summary,
            self.newest_inbound_at(),
            &mut fresh.summary,
        );
        if let Some(mode) = self.newer_known_mode(&fresh.mode_history, fresh.summary.updated_at) {
            fresh.ai_mode = mode;
        }
        // An answer that leaves the mode out (the body is API.md's choice) says nothing of it:
        // the known one stays, rather than all three handoffs coming back.
        if fresh.ai_mode == AiMode::Unknown {
            fresh.ai_mode = self.conversation.ai_mode;
        }
        fresh.ai_mode = self.after_closed(fresh.ai_mode);
        fresh.mode_history = merge_history(&self.conversation.mode_history, fresh.mode_history);
        self.keep_known_opt_out(&mut fresh.summary);
        self.conversation = fresh;
        gap
    }

    /// `mode`, unless the thread is closed: closed is terminal (API.md refuses leaving it), so
    /// another mode told after it is older news (an answer made before the close, late), which
    /// would bring the handoffs and the reply box back.
    fn after_closed(&self, mode: AiMode) -> AiMode {
        if self.conversation.ai_mode == AiMode::Closed {
            AiMode::Closed
        } else {
            mode
        }
    }

    /// The mode of a change the stream or a PATCH brought that an answer from the server, with
    /// `history` and `updated_at`, has not heard of (none of its rows is that change, and the
    /// answer is older: its newest row, else its `updated_at`): the answer's mode is older than
    /// the console's, and taking it would undo a take-over on screen. An answer that says
    /// nothing of its time is taken.
    fn newer_known_mode(
        &self,
        history: &[ModeChange],
        updated_at: Option<DateTime<Utc>>,
    ) -> Option<AiMode> {
        let newest = self
            .conversation
            .mode_history
            .iter()
            .max_by_key(|r| r.timestamp)?;
        let answered = history.iter().map(|r| r.timestamp).max().or(updated_at)?;
        let seen: &[&[ModeChange]] = &[&self.conversation.mode_history, history];
        // In the same second (the API's times may be whole seconds): a history that has not
        // got the change (the row itself, or the same change told a moment apart) was written
        // before it.
        let older =
            answered < newest.timestamp || (answered == newest.timestamp && !history.is_empty());
        (older
            && !history
                .iter()
                .any(|f| f == newest || same_change(f, newest, seen)))
        .then_some(newest.to_mode)
    }

    /// Merges a page fetched to fill a [`Gap`]; the gap that is left, if any.
    pub fn fill_gap(&mut self, gap: Gap, page: Conversation) -> Option<Gap> {
        self.unreadable |= page.unreadable_messages > 0;
        let left =
            gap_below(&page.messages, page.next_page_token, gap.floor.clone()).map(|l| Gap {
                resume: gap.resume.clone(),
                holds: gap.holds,
                ..l
            });
        self.merge_newer(page.messages, &gap.floor);
        // A page that offers its own token again (a gateway ignoring `page_token`, say) would
        // be asked for without end: filling stops, and the gap stays for the next refetch.
        if left.as_ref().is_some_and(|l| l.token == gap.token) {
            return None;
        }
        if left.is_none() && self.unfilled.as_ref() == Some(&gap.floor) && gap.holds == self.holds {
            self.unfilled = gap.resume;
        }
        left
    }

    /// A gap deeper than a walk of its pages reached ([`Thread::fill_gap`] stopped at their
    /// limit): left as it is. Held for the next refetch, as a gap whose fetch failed is, each
    /// refetch walked the same pages again, for as long as the thread was shown.
    pub fn leave_gap(&mut self, gap: Gap) {
        if self.unfilled.as_ref() == Some(&gap.floor) && gap.holds == self.holds {
            self.unfilled = gap.resume;
        }
    }

    /// The stream went down: what comes meanwhile is the next refetch's to bring, down to
    /// where the thread ends now.
    pub fn stream_lost(&mut self) {
        self.stream_down = true;
        self.hold_unfilled();
    }

    /// The stream brought what could not be read (a mangled frame, an event of a type not
    /// known here): what it was is the next refetch's to bring and tell, down to where the
    /// thread ends now. Measured from where it ends when that refetch leaves, a customer's
    /// message the stream brought readably meanwhile would put the unread one below it, merged
    /// without a word.
    pub fn missed(&mut self) {
        self.misses = self.misses.wrapping_add(1);
        self.hold_unfilled();
    }

    /// What comes from now is the next refetch's to tell, down to where the thread ends now
    /// (unless a lower point is already held).
    fn hold_unfilled(&mut self) {
        self.holds = self.holds.wrapping_add(1);
        if self.unfilled.is_none() {
            self.unfilled = self.messages.keys().next_back().cloned();
        }
    }

    /// The stream is live again (its refetch follows).
    pub fn stream_back(&mut self) {
        if self.stream_down {
            self.stream_returns += 1;
        }
        self.stream_down = false;
    }

    /// Where the messages shown now end; `None` while there are none.
    pub fn mark(&self) -> Option<Mark> {
        let (returns, misses) = (self.stream_returns, self.misses);
        self.messages
            .keys()
            .next_back()
            .cloned()
            .map(|k| Mark(k, returns, misses))
    }

    /// Whether the stream has come back since `mark` was taken: the answer to the request that
    /// took it may be older than the reconnection's refetch, and not bring what that would.
    pub fn came_back_since(&self, mark: &Mark) -> bool {
        mark.1 != self.stream_returns
    }

    /// The oldest and the newest message shown: where a walk from the newest page must reach
    /// again once the older pages' token was refused, and what it leaves to the refetches
    /// ([`Thread::merge_rewalk`]).
    pub fn shown_span(&self) -> Option<(SortKey, SortKey)> {
        let oldest = self.messages.keys().next()?.clone();
        let newest = self.messages.keys().next_back()?.clone();
        Some((oldest, newest))
    }

    /// Appends a page of a walk from the newest, made because the older pages' token was
    /// refused: whether it reaches below the oldest of `shown` (the messages shown when the
    /// walk started) or the history's start, so that its next page, kept as `older_token`, is
    /// older than anything shown. Messages newer than those shown are left to the stream and
    /// the refetches, which tell of them (merged here, they would go unsaid).
    pub fn merge_rewalk(&mut self, mut page: Conversation, shown: &(SortKey, SortKey)) -> bool {
        let (floor, ceiling) = shown;
        let next = page.next_page_token.take();
        let reached = next.is_none() || page.messages.iter().any(|m| key_of(m) < *floor);
        page.messages.retain(|m| key_of(m) <= *ceiling);
        self.merge_older(page);
        // (Also the very token refused: a server may make the same one for the same place, and
        // refused it once only.)
        self.older_token = next;
        reached
    }

    /// Appends an older page fetched with `older_token`.
    pub fn merge_older(&mut self, page: Conversation) {
        self.unreadable |= page.unreadable_messages > 0;
        self.merge_messages(page.messages);
        // (A token that asks for this same page again would offer it for ever.)
        self.older_token = page
            .next_page_token
            .filter(|t| Some(t) != self.older_token.as_ref());
    }

    fn merge_messages(&mut self, page: Vec<Message>) {
        for m in page {
            self.retime(&m);
            if self.may_be_pending(&m) {
                self.hold_for_pending(m);
            } else {
                self.upsert(m);
            }
        }
    }

    /// A message shown at another time than a page's copy of it says: at the page's, the API's
    /// own, so it sorts where it belongs. (A `message.received` that left its time out was
    /// shown at the event's, or at this device's clock, which may be minutes off.)
    fn retime(&mut self, m: &Message) {
        let Some(key) = self.keys.get(&m.message_id).cloned() else {
            return;
        };
        // (Not for a difference within the second: a page may write times without the
        // milliseconds the stream gave, and messages of one second would swap places.)
        if (key.0 - m.created_at).num_milliseconds().abs() < 1000 {
            return;
        }
        if let Some(mut known) = self.messages.remove(&key) {
            known.created_at = m.created_at;
            let moved = key_of(&known);
            self.keys.insert(m.message_id.clone(), moved.clone());
            self.messages.insert(moved, known);
        }
    }

    /// A message of what the operator is sending, ahead of the POST's answer (from the stream,
    /// or a page fetched meanwhile): the pending copy stands for it until that answer names it
    /// (`confirm_send`), and it is the proof that the send went out should that answer be lost
    /// (`fail_send`).
    fn hold_for_pending(&mut self, m: Message) {
        // A page fetched before a receipt the stream brought holds an earlier status.
        self.note_early(m.message_id.clone(), m.status, m.error_code.clone());
        if !self.outran.iter().any(|o| o.message_id == m.message_id) {
            self.outran.push(m);
        }
    }

    /// [`Thread::merge_messages`] for a page that may hold messages newer than `floor`, the
    /// thread's end when the refetch started: the customer's among those, new here, are kept
    /// for [`Thread::take_recovered`].
    fn merge_newer(&mut self, page: Vec<Message>, floor: &SortKey) {
        for m in page {
            self.retime(&m);
            if self.may_be_pending(&m) {
                self.hold_for_pending(m);
                continue;
            }
            let newer = key_of(&m) > *floor;
            let heard = (m.direction == Direction::Inbound && newer).then(|| m.clone());
            let id = m.message_id.clone();
            let news = match self.upsert(m) {
                Merged::New => {
                    self.recovered.extend(heard);
                    newer
                }
                Merged::Moved => true,
                Merged::Same => false,
            };
            // A failure told by the refetch alone: announced, and open to Edit, as the
            // stream's are. (An older page's failures below the thread's end are history.)
            let failed = self
                .keys
                .get(&id)
                .and_then(|k| self.messages.get(k))
                .filter(|m| news && m.status == MessageStatus::Failed);
            if let Some(m) = failed.cloned() {
                if !self.undelivered_here.contains(&id) {
                    self.undelivered_here.push(id);
                    self.undelivered_recovered.push(m);
                }
            }
        }
    }

    /// The messages a refetch found not delivered since last asked (see `merge_newer`),
    /// oldest first, as they would have been told.
    pub fn take_undelivered(&mut self) -> Vec<Message> {
        let mut taken = std::mem::take(&mut self.undelivered_recovered);
        sort_short_by_key(&mut taken, key_of);
        taken
    }

    /// The customer's messages that arrived through a refetch since last asked: how many, and
    /// the newest of them.
    pub fn take_recovered(&mut self) -> Option<(usize, Message)> {
        let recovered = std::mem::take(&mut self.recovered);
        let count = recovered.len();
        let newest = recovered.into_iter().max_by_key(|m| m.created_at)?;
        Some((count, newest))
    }

    /// Inserts a message or, if known, advances its status.
    fn upsert(&mut self, m: Message) -> Merged {
        self.upsert_as(m, Settles::All)
    }

    /// [`Thread::upsert`], with what a new message of ours settles of the sends shown.
    fn upsert_as(&mut self, mut m: Message, settles: Settles) -> Merged {
        if let Some(key) = self.keys.get(&m.message_id).cloned() {
            self.fill_known(&m, settles);
            let moved = self
                .messages
                .get_mut(&key)
                .is_some_and(|existing| advance(existing, m.status, m.error_code));
            return if moved { Merged::Moved } else { Merged::Same };
        }
        if let Some((status, error)) = self.early_status.remove(&m.message_id) {
            advance(&mut m, status, error);
        }
        if m.direction == Direction::Outbound {
            self.settle_unconfirmed(&m, settles);
        }
        let key = key_of(&m);
        self.keys.insert(m.message_id.clone(), key.clone());
        self.messages.insert(key, m);
        Merged::New
    }

    /// Fills in what the known copy of `later`'s message left out. A text of ours learned only
    /// now settles what a new message with it would have (a send whose answer was lost meanwhile
    /// would otherwise be looked for, not found among the messages shown, and sent twice).
    fn fill_known(&mut self, later: &Message, settles: Settles) {
        let Some(key) = self.keys.get(&later.message_id) else {
            return;
        };
        let Some(known) = self.messages.get_mut(key) else {
            return;
        };
        let had_text = known.body.is_some();
        fill_in(known, later);
        if !had_text && known.body.is_some() && known.direction == Direction::Outbound {
            let now_whole = known.clone();
            self.settle_unconfirmed(&now_whole, settles);
        }
    }

    /// A new message of ours with the text of a send whose answer was lost, made no earlier
    /// than that send began: the send went out after all, and the message stands for it
    /// (a Retry would send it twice); one send for a message, the one whose answer was lost
    /// first, which it most likely is. Else, the sends that failed whose text it holds, one for
    /// each time it holds it (all of it, or a paragraph of it): their text went out since,
    /// from another tab (which took it in with the draft, maybe with more typed after it) or
    /// again from here. As far as `settles` says.
    fn settle_unconfirmed(&mut self, m: &Message, settles: Settles) {
        let in_question = matches!(settles, Settles::All | Settles::InQuestion);
        let unconfirmed = self
            .pending
            .iter()
            .position(|p| in_question && p.state.in_question().is_some() && p.may_be(m));
        if let Some(i) = unconfirmed {
            self.pending.remove(i);
            return;
        }
        let failed_too = matches!(settles, Settles::All | Settles::Failed);
        let Some(body) = m.body.as_deref().filter(|_| failed_too) else {
            return;
        };
        if m.direction != Direction::Outbound {
            return;
        }
        // (As a server may store it: line ends written `\r\n`, white space at its ends gone.)
        let mut left = body.replace("\r\n", "\n").trim().to_owned();
        self.pending.retain(|p| {
            let failed = matches!(p.state, SendState::Failed(_)) && m.created_at >= p.not_before;
            !(failed && super::message::take_paragraph(&mut left, p.body.trim()))
        });
    }

    /// Keeps what a receipt said of a message not shown yet, for when it is.
    fn note_early(&mut self, id: MessageId, status: MessageStatus, error_code: Option<String>) {
        let (known, code) = self
            .early_status
            .entry(id)
            .or_insert((MessageStatus::Unknown, None));
        advance_status(known, code, status, error_code);
    }

    /// Whether `m`, not shown, is older than every message shown while there are older pages
    /// to load: one of theirs.
    fn belongs_to_older_page(&self, m: &Message) -> bool {
        self.older_token.is_some()
            && self
                .messages
                .keys()
                .next()
                .is_some_and(|oldest| key_of(m) < *oldest)
    }

    /// Applies one decoded stream event.
    pub fn apply(&mut self, event: StreamEvent) -> Change {
        let change = self.apply_event(event);
        if let Change::Undelivered(m) = &change {
            self.undelivered_here.push(m.message_id.clone());
        }
        change
    }

    /// Whether `id` was not delivered while the thread was open.
    pub fn undelivered_here(&self, id: &MessageId) -> bool {
        self.undelivered_here.contains(id)
    }

    fn apply_event(&mut self, event: StreamEvent) -> Change {
        match event {
            StreamEvent::Message(m) if self.may_be_pending(&m) => {
                self.hold_for_pending(m);
                Change::None
            }
            // One the thread has: only its status may move, as by a status event.
            StreamEvent::Message(m) if self.keys.contains_key(&m.message_id) => {
                // (A receipt's payload may be the whole message its first one was not.)
                self.fill_known(&m, Settles::All);
                self.apply_event(StreamEvent::Status {
                    message_id: m.message_id,
                    status: m.status,
                    error_code: m.error_code,
                })
            }
            // Older than the oldest shown, while older pages remain: its place is on a page not
            // loaded yet (a receipt for an old message, say). Shown now, it sat above a hole in
            // the history, and a failure's Edit with it. Taken as a receipt for a message not
            // seen: its status waits for it, and the newest page is asked for, which shows it if
            // it is new after all (its time implied by a clock that is off).
            StreamEvent::Message(m) if self.belongs_to_older_page(&m) => {
                self.apply_event(StreamEvent::Status {
                    message_id: m.message_id,
                    status: m.status,
                    error_code: m.error_code,
                })
            }
            StreamEvent::Message(m) => {
                let (direction, at, channel) = (m.direction, m.created_at, m.channel);
                let id = m.message_id.clone();
                let inbound = (direction == Direction::Inbound).then(|| m.clone());
                if self.upsert(m) != Merged::New {
                    return Change::None;
                }
                self.note_live(direction, at, channel);
                if let Some(m) = inbound {
                    return Change::NewInbound(m);
                }
                // As it is now shown: with a failure a receipt told before it came.
                let failed = self
                    .keys
                    .get(&id)
                    .and_then(|k| self.messages.get(k))
                    .filter(|m| m.status == MessageStatus::Failed)
                    .cloned();
                match failed {
                    Some(m) => Change::Undelivered(m),
                    None => Change::NewOutbound,
                }
            }
            StreamEvent::Status {
                message_id,
                status,
                error_code,
            } => match self
                .keys
                .get(&message_id)
                .and_then(|k| self.messages.get_mut(k))
            {
                Some(m) => match advance(m, status, error_code) {
                    true if m.status == MessageStatus::Failed => Change::Undelivered(m.clone()),
                    true => Change::StatusChanged,
                    false => Change::None,
                },
                None => {
                    self.note_early(message_id, status, error_code);
                    if self.sending() {
                        self.unseen_while_sending = true;
                        Change::None
                    } else {
                        Change::Unseen
                    }
                }
            },
            StreamEvent::ModeChanged {
                from_mode,
                to_mode,
                actor_user_id,
                timestamp,
            } => {
                let row = ModeChange {
                    actor_user_id,
                    from_mode,
                    to_mode,
                    timestamp,
                };
                let history = &self.conversation.mode_history;
                let known = history.iter().find(|r| same_change(r, &row, &[history]));
                // Told already, and changed again since (a page that came after the event,
                // held back until the thread's first page was in, has both): old news, whose
                // mode would undo the later change on screen.
                if known.is_some_and(|k| {
                    history
                        .iter()
                        .any(|r| r.timestamp > k.timestamp && !same_change(r, k, &[history]))
                }) {
                    return Change::None;
                }
                if known.is_none() {
                    self.conversation.mode_history.push(row.clone());
                }
                let to_mode = self.after_closed(to_mode);
                let moved = self.conversation.ai_mode != to_mode;
                self.conversation.ai_mode = to_mode;
                if moved {
                    Change::ModeChanged(row)
                } else {
                    Change::None
                }
            }
            // Replies here go by SMS (the customer last wrote so), which has no window: a
            // server that warns of one anyway (API.md does not say it won't) warns of nothing.
            StreamEvent::WindowClosing { .. }
                if self.conversation.summary.channel != Channel::Whatsapp =>
            {
                Change::None
            }
            StreamEvent::WindowClosing { expires_at } => {
                let known = &mut self.conversation.summary.window_expires_at;
                // A warning for a window that a customer's message has since reopened (it was
                // sent just before that message) is out of date.
                // (By more than a minute: a window worked out here from a message's time may
                // carry its milliseconds, where the server's warning does not.)
                if expires_at
                    .zip(*known)
                    .is_some_and(|(at, known)| at + chrono::TimeDelta::minutes(1) < known)
                {
                    return Change::None;
                }
                *known = expires_at.or(*known);
                // (Not a warning that names no end: it may be of a window since reopened.)
                if expires_at.is_some() {
                    self.window_warned = expires_at;
                }
                Change::WindowClosing
            }
        }
    }

    /// Whether an answer's mode `history` tells of a change newer than any the thread knows:
    /// made after them all, its mode is newer too (an answer asked for before a handoff of
    /// this console's came back, answered after another's change).
    pub fn tells_newer_change(&self, history: &[ModeChange]) -> bool {
        let known = self.newest_change_at();
        history.iter().any(|r| Some(r.timestamp) > known)
    }

    /// When the newest change of mode known here was made: taken as a PATCH goes out, for
    /// [`Thread::apply_mode_response`].
    pub fn newest_change_at(&self) -> Option<DateTime<Utc>> {
        self.conversation
            .mode_history
            .iter()
            .map(|r| r.timestamp)
            .max()
    }

    /// Whether a handoff asked for when the mode was `from` and the newest change known was
    /// `known_then` is still to be made, as its request waits to be tried again: not once the
    /// mode has moved, nor once it has moved and come back (the request's own change made though
    /// its answer was lost, then another operator's the other way: trying again would undo
    /// theirs).
    pub fn handoff_still_wanted(&self, from: AiMode, known_then: Option<DateTime<Utc>>) -> bool {
        self.mode() == from && self.newest_change_at() <= known_then
    }

    /// Records the answer to a PATCH (`changed: false` still carries the current state), which
    /// went out when the newest change known was `known_then`. Returns whether the mode moved,
    /// i.e. the stream had not already told.
    pub fn apply_mode_response(
        &mut self,
        fresh: ModeAnswer,
        known_then: Option<DateTime<Utc>>,
    ) -> bool {
        // (Answered late, after the stream told of a later change: that change stands.)
        let updated_at = fresh.summary.as_ref().and_then(|s| s.updated_at);
        // An answer that says nothing of its time (the mode alone) is older than a change the
        // stream told since the PATCH went out away from the answer's mode (another operator's
        // close after this take-over). Not one into another mode, made before the PATCH and
        // told late: the PATCH then moved the conversation on from it.
        let told_since = || {
            let newest = self
                .conversation
                .mode_history
                .iter()
                .max_by_key(|r| r.timestamp)?;
            (fresh.mode_history.is_empty()
                && updated_at.is_none()
                && Some(newest.timestamp) > known_then
                && newest.from_mode == fresh.ai_mode
                && newest.to_mode != fresh.ai_mode)
                .then_some(newest.to_mode)
        };
        let mode = self
            .newer_known_mode(&fresh.mode_history, updated_at)
            .or_else(told_since)
            .unwrap_or(fresh.ai_mode);
        let mode = self.after_closed(mode);
        let moved = self.conversation.ai_mode != mode;
        let history = merge_history(&self.conversation.mode_history, fresh.mode_history);
        self.conversation.ai_mode = mode;
        self.conversation.mode_history = history;
        // Made when the PATCH was, it may be older than a refetch answered meanwhile (a STOP's,
        // say): then it says nothing new of the conversation but its mode. (An answer of the
        // mode alone says nothing of the rest.)
        if let Some(mut summary) = fresh
            .summary
            .filter(|s| s.last_message_at >= self.conversation.summary.last_message_at)
        {
            self.keep_known_opt_out(&mut summary);
            self.conversation.summary = summary;
        }
        moved
    }

    fn sending(&self) -> bool {
        self.pending.iter().any(|p| p.state == SendState::Sending)
    }

    /// Whether the conversation is to be fetched, now that no send is out, for a receipt that
    /// came meanwhile and was none of the sends' (`Change::Unseen`, held back). Once.
    pub fn take_unseen(&mut self) -> bool {
        if self.sending() {
            return false;
        }
        std::mem::take(&mut self.unseen_while_sending) && !self.early_status.is_empty()
    }

    /// Starts a send: the text shows at once as pending.
    pub fn begin_send(&mut self, local_id: u64, body: String, now: DateTime<Utc>) {
        self.pending.retain(|p| p.local_id != local_id);
        self.pending.push(PendingSend {
            local_id,
            body,
            created_at: now,
            state: SendState::Sending,
            not_before: self
                .messages
                .keys()
                .next_back()
                .map_or(now - CLOCK_SKEW, |(newest, _)| newest.trunc_subsecs(0)),
            newest_then: self.messages.keys().next_back().map(|(_, id)| id.clone()),
        });
    }

    /// A send whose answer was lost after its view had gone (kept with the drafts): shown as
    /// [`SendState::Unconfirmed`] again, with its Retry, unless a message shown is it (it went
    /// out after all). Returns whether it is shown.
    pub fn restore_unconfirmed(&mut self, local_id: u64, send: UnconfirmedSend) -> bool {
        let state = SendState::Unconfirmed(send.reason.clone());
        self.restore_send(local_id, send, state)
    }

    /// A send still waiting for its answer, begun in an earlier view of this conversation:
    /// shown as [`SendState::Sending`] until that answer settles it here, unless a message shown
    /// is it already. Returns whether it is shown.
    pub fn resume_send(&mut self, local_id: u64, send: UnconfirmedSend) -> bool {
        self.restore_send(local_id, send, SendState::Sending)
    }

    fn restore_send(&mut self, local_id: u64, send: UnconfirmedSend, state: SendState) -> bool {
        if self.pending.iter().any(|p| p.local_id == local_id) {
            return true;
        }
        let pending = PendingSend {
            local_id,
            body: send.text,
            created_at: send.sent_at,
            state,
            not_before: send.not_before,
            newest_then: send.newest_then,
        };
        // Not the newest shown when it began, whose words it may repeat (the same words sent
        // twice); older ones are before `not_before`. (Not by sort key: a message in the same
        // second may sort either side of it, ids being unordered.)
        let went = self
            .messages
            .values()
            .any(|m| pending.may_be(m) && pending.newest_then.as_ref() != Some(&m.message_id));
        if went {
            return false;
        }
        self.pending.push(pending);
        true
    }

    /// The sends shown as [`SendState::Unconfirmed`] (or being checked), oldest first: what is
    /// kept of them should this view go.
    pub fn unconfirmed(&self) -> Vec<UnconfirmedSend> {
        self.pending
            .iter()
            .filter_map(|p| p.state.in_question().map(|r| p.kept_as(r.clone())))
            .collect()
    }

    /// Retry on a send that may have gone out: it is looked for before it is sent again
    /// ([`SendState::Checking`]). Whether it was in question.
    pub fn begin_check(&mut self, local_id: u64) -> bool {
        let send = self.pending.iter_mut().find(|p| p.local_id == local_id);
        match send {
            Some(p) if matches!(p.state, SendState::Unconfirmed(_)) => {
                let reason = p.state.in_question().cloned().unwrap_or_default();
                p.state = SendState::Checking(reason);
                true
            }
            _ => false,
        }
    }

    /// A check that could not tell: the send is in question again, with its Retry, for
    /// `reason` (not settled by a message kept back for another send of its words, as a
    /// failure's may be). Whether it was still being checked.
    pub fn uncheck(&mut self, local_id: u64, reason: String) -> bool {
        let send = self.pending.iter_mut().find(|p| p.local_id == local_id);
        match send {
            Some(p) if matches!(p.state, SendState::Checking(_)) => {
                p.state = SendState::Unconfirmed(reason);
                true
            }
            _ => false,
        }
    }

    /// What a page of the conversation's messages (newest first) says of a send being checked:
    /// the message that is it, if one is; else whether the page went back far enough to tell
    /// (to before the send began), or an older page is to be looked at.
    /// Not a message shown already: it settled another send of the same text, or was there
    /// before this one began.
    pub fn look_for(&self, local_id: u64, page: &[Message], older: bool) -> Looked {
        let Some(p) = self.pending.iter().find(|p| p.local_id == local_id) else {
            return Looked::Gone;
        };
        let theirs: Vec<&Message> = page
            .iter()
            .filter(|m| {
                p.may_be(m)
                    && p.newest_then.as_ref() != Some(&m.message_id)
                    && !self.keys.contains_key(&m.message_id)
            })
            .collect();
        // The oldest, as the sends of one text go out oldest first; unless sends of its text
        // still on their way may have made each of them (this one's went out first, or not at
        // all: their answers tell). (The first of equal keys, as a stable sort would put first,
        // without one's code.)
        let oldest = theirs.iter().min_by_key(|m| key_of(m));
        let on_their_way = self
            .pending
            .iter()
            .filter(|q| q.state == SendState::Sending && theirs.iter().any(|m| q.may_be(m)))
            .count();
        match oldest {
            Some(m) if theirs.len() > on_their_way => return Looked::Found(Box::new((*m).clone())),
            Some(_) => return Looked::Unsure,
            None => {}
        }
        let before_it = page.iter().any(|m| m.created_at < p.not_before);
        match older && !before_it {
            true => Looked::Older,
            false => Looked::NotThere,
        }
    }

    /// The server accepted the send: the pending entry becomes a real message (unless the stream
    /// delivered it first). `Change::Undelivered` when its failure came before this answer
    /// (a receipt the stream brought first): told now, as the stream's would have been.
    pub fn confirm_send(&mut self, local_id: u64, message: Message) -> Change {
        // (Its words sent again: a failed send of them is no longer to retry. Not a send in
        // question: this message is this send's, not that one's.)
        self.confirm(local_id, message, Settles::Failed)
    }

    /// A send checked ([`Thread::look_for`]) went out: its message stands for it, and for no
    /// other send of its text. Not shown when older than the oldest shown while older pages
    /// are still to come (Load older brings it, in its place, not above a hole).
    pub fn confirm_found(&mut self, local_id: u64, message: Message) -> Change {
        let beyond = self.older_token.is_some()
            && self
                .messages
                .keys()
                .next()
                .is_some_and(|oldest| key_of(&message) < *oldest);
        if beyond {
            self.discard_send(local_id);
            return Change::None;
        }
        self.confirm(local_id, message, Settles::Nothing)
    }

    fn confirm(&mut self, local_id: u64, message: Message, settles: Settles) -> Change {
        let id = message.message_id.clone();
        let shown_before = self.keys.contains_key(&id);
        self.pending.retain(|p| p.local_id != local_id);
        self.outran.retain(|m| m.message_id != id);
        self.show(message, settles);
        self.release_outran();
        let failed = self
            .keys
            .get(&id)
            .and_then(|k| self.messages.get(k))
            .filter(|m| !shown_before && m.status == MessageStatus::Failed)
            .cloned();
        match failed {
            Some(m) => {
                self.undelivered_here.push(id);
                Change::Undelivered(m)
            }
            None => Change::None,
        }
    }

    /// Inserts a message the operator's send or the stream brought, with what it says of the
    /// conversation (`note_live`).
    fn show(&mut self, message: Message, settles: Settles) {
        let (direction, at, channel) = (message.direction, message.created_at, message.channel);
        if self.upsert_as(message, settles) == Merged::New {
            self.note_live(direction, at, channel);
        }
    }

    /// Messages kept back for sends that have since settled were other sends of the same text
    /// (another tab's, the AI's): they are shown now, and no longer taken as proof that a later
    /// send of that text went out.
    fn release_outran(&mut self) {
        let (kept, released): (Vec<Message>, Vec<Message>) =
            std::mem::take(&mut self.outran).into_iter().partition(|m| {
                self.pending
                    .iter()
                    .any(|p| p.state == SendState::Sending && p.may_be(m))
            });
        self.outran = kept;
        for m in released {
            self.show(m, Settles::InQuestion);
        }
    }

    /// What a new message says of its conversation, by the contract, without waiting for the
    /// next fetch: it is the latest activity (the inbox orders by it), and a customer's message
    /// on WhatsApp keeps the window open for another 24 hours (the reply box opens at once).
    /// An outbound message not seen yet whose text is that of a send still waiting for its
    /// answer: most likely that send, whose receipt outran the answer.
    fn may_be_pending(&self, m: &Message) -> bool {
        !self.keys.contains_key(&m.message_id)
            && self
                .pending
                .iter()
                .any(|p| p.state == SendState::Sending && p.may_be(m))
    }

    /// A conversation spans both channels: an SMS from the customer opens no WhatsApp window,
    /// and the customer's latest message is on the channel a reply goes out on.
    /// (Called once the message is in the thread.) The channel is the customer's newest
    /// message's, not the newest activity's: a reply confirmed before the customer's earlier
    /// message came through the stream must not keep the reply on the old channel.
    fn note_live(&mut self, direction: Direction, at: DateTime<Utc>, channel: Option<Channel>) {
        let newest_inbound =
            direction == Direction::Inbound && self.newest_inbound_at() == Some(at);
        let s = &mut self.conversation.summary;
        s.last_message_at = s.last_message_at.max(Some(at));
        if let Some(channel) = channel.filter(|_| newest_inbound) {
            s.channel = channel;
        }
        if direction == Direction::Inbound && channel.unwrap_or(s.channel) == Channel::Whatsapp {
            let until = at + super::window::LENGTH;
            s.window_expires_at = s.window_expires_at.max(Some(until));
        }
    }

    /// The send failed, for `reason`. When its answer was lost (`answer_lost`: none came, or
    /// one that could not be read) it may still have gone out: if the stream has shown a
    /// message with its text meanwhile, it did, and that message takes its place rather than a
    /// "Not sent" whose Retry would send it twice; else it stays [`SendState::Unconfirmed`]
    /// until such a message comes. Returns whether it went out.
    pub fn fail_send(&mut self, local_id: u64, reason: String, answer_lost: bool) -> bool {
        let Some(i) = self.pending.iter().position(|p| p.local_id == local_id) else {
            return false;
        };
        let send = &self.pending[i];
        let shown = answer_lost
            .then(|| self.outran.iter().position(|m| send.may_be(m)))
            .flatten();
        let Some(j) = shown else {
            self.pending[i].state = if answer_lost {
                SendState::Unconfirmed(reason)
            } else {
                SendState::Failed(reason)
            };
            self.release_outran();
            return false;
        };
        self.pending.remove(i);
        let message = self.outran.remove(j);
        // (It is this send's: not another's of its text.)
        self.show(message, Settles::Nothing);
        self.release_outran();
        true
    }

    /// The text of every send refused outright, oldest first: what goes into the draft with
    /// the reply box's. Not a send whose answer was lost: it may have gone out, and kept there
    /// it would go out twice at the next Enter (it is kept apart, `UnconfirmedSend`).
    pub fn failed_texts(&self) -> Vec<String> {
        self.pending
            .iter()
            .filter(|p| matches!(p.state, SendState::Failed(_)))
            .map(|p| p.body.clone())
            .collect()
    }

    /// The text of every send that failed or may have, oldest first: what the operator would
    /// lose with this view.
    pub fn unsent(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.pending
            .iter()
            .filter(|p| p.state.is_unsent())
            .map(|p| p.body.as_str())
    }

    /// A send given up before it went out: a message of the same text held back as maybe its
    /// own (another's, the AI's) is shown now.
    pub fn discard_send(&mut self, local_id: u64) -> Option<PendingSend> {
        let i = self.pending.iter().position(|p| p.local_id == local_id)?;
        let discarded = self.pending.remove(i);
        self.release_outran();
        Some(discarded)
    }
}

/// What [`Thread::upsert`] did with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Merged {
    New,
    /// Known, and its status moved on.
    Moved,
    Same,
}

/// What a known message's copy did not say, from a later one: a stream's payload may leave out
/// the text, the file or the channel (API.md promises only a few of its fields), which the
/// conversation's page then has. (Filled in silently: no news to tell.)
fn fill_in(known: &mut Message, later: &Message) {
    let fill = |field: &mut Option<String>, from: &Option<String>| {
        if field.is_none() {
            field.clone_from(from);
        }
    };
    fill(&mut known.body, &later.body);
    fill(&mut known.media_url, &later.media_url);
    fill(&mut known.message_type, &later.message_type);
    if known.channel.is_none() {
        known.channel = later.channel;
    }
}

/// Moves `m` forward to `status`; returns whether it moved (a code filled in alone is no news).
fn advance(m: &mut Message, status: MessageStatus, error_code: Option<String>) -> bool {
    advance_status(&mut m.status, &mut m.error_code, status, error_code)
}

/// [`advance`], of a status and its code held apart from their message.
fn advance_status(
    known: &mut MessageStatus,
    code: &mut Option<String>,
    status: MessageStatus,
    error_code: Option<String>,
) -> bool {
    if status.rank() <= known.rank() || *known == MessageStatus::Received {
        // A later word on the same status may say why (a receipt without the code, then a
        // page with it): not news to tell again.
        if status == *known && code.is_none() {
            *code = error_code;
        }
        return false;
    }
    *known = status;
    // (A failure's code goes with it, when a delivery reported after it undoes it.)
    if error_code.is_some() || status != MessageStatus::Failed {
        *code = error_code;
    }
    true
}

/// The audit row and the stream event for one transition may carry timestamps a moment apart
/// (the event is stamped when published): within this window, same modes and actor are one change.
const SAME_CHANGE_WINDOW_MS: i64 = 5_000;

/// Whether `a` and `b` are one change, told twice: same modes and actor, a moment apart, and no
/// other change between them in any of the histories `seen` (taken over, handed back and taken
/// over again within seconds is three changes). Between, or at the same time as either: stamps
/// may be whole seconds, and a change seen twice is a lesser harm than a change lost.
fn same_change(a: &ModeChange, b: &ModeChange, seen: &[&[ModeChange]]) -> bool {
    let (first, last) = (a.timestamp.min(b.timestamp), a.timestamp.max(b.timestamp));
    a.from_mode == b.from_mode
        && a.to_mode == b.to_mode
        && a.actor_user_id == b.actor_user_id
        && (last - first).num_milliseconds() < SAME_CHANGE_WINDOW_MS
        && !seen.iter().flat_map(|rows| rows.iter()).any(|r| {
            first <= r.timestamp
                && r.timestamp <= last
                && (r.from_mode, r.to_mode) != (a.from_mode, a.to_mode)
        })
}

fn merge_history(known: &[ModeChange], fresh: Vec<ModeChange>) -> Vec<ModeChange> {
    // The server's rows are authoritative; known rows it doesn't have yet (from the stream) stay.
    let mut all = fresh.clone();
    for row in known {
        if !all
            .iter()
            .any(|r| r == row || same_change(r, row, &[known, &fresh]))
        {
            all.push(row.clone());
        }
    }
    sort_short_by_key(&mut all, |r| r.timestamp);
    all
}

/// A refetch made before messages the console has since seen: what those imply (see
/// `note_live`) stays until an answer made after them. (Its opt-out is the server's: a STOP
/// or START brings a refetch of its own.)
fn keep_newer_activity(
    ours: &ConversationSummary,
    ours_newest_inbound: Option<DateTime<Utc>>,
    fresh: &mut ConversationSummary,
) {
    // The channel is the customer's newest message's: ours only if the answer was made before
    // it (a reply shown since is no reason to take back the channel the answer has).
    if ours_newest_inbound > fresh.last_message_at {
        fresh.channel = ours.channel;
    }
    if ours.last_message_at > fresh.last_message_at {
        fresh.last_message_at = ours.last_message_at;
        fresh.window_expires_at = fresh.window_expires_at.max(ours.window_expires_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::decode;
    use crate::model::ids::ConversationId;
    use chrono::{Duration, TimeZone};

    fn at(min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 15, 12, min, 0)
            .single()
            .expect("valid")
    }

    fn msg(id: &str, min: u32, direction: Direction, status: MessageStatus) -> Message {
        Message {
            message_id: MessageId::from(id),
            conversation_id: None,
            direction,
            channel: None,
            message_type: None,
            body: Some(format!("body of {id}")),
            status,
            from_number: None,
            to_number: None,
            created_at: at(min),
            error_code: None,
            media_url: None,
        }
    }

    fn conversation(messages: Vec<Message>, token: Option<&str>) -> Conversation {
        let json = serde_json::json!({
            "conversation_id": "conv_1", "agent_id": "agt_1", "channel": "sms",
            "from_number": "+2348031234567", "to_number": "+2349012345678",
            "created_at": "2026-05-15T10:00:00Z", "ai_mode": "human",
        });
        let mut c: Conversation = serde_json::from_value(json).expect("conversation");
        c.messages = messages;
        c.next_page_token = token.map(str::to_owned);
        c
    }

    impl Thread {
        /// A refetch started and answered with nothing in between.
        fn merge_latest_now(&mut self, fresh: Conversation) -> Option<Gap> {
            let mark = self.mark();
            self.merge_latest(fresh, mark)
        }
    }

    fn ids(t: &Thread) -> Vec<&str> {
        t.messages().map(|m| m.message_id.as_str()).collect()
    }

    #[test]
    fn pages_arrive_newest_first_and_show_oldest_first() {
        let page = vec![
            msg("m3", 3, Direction::Inbound, MessageStatus::Received),
            msg("m2", 2, Direction::Outbound, MessageStatus::Sent),
        ];
        let mut t = Thread::new(conversation(page, Some("older")));
        assert_eq!(ids(&t), ["m2", "m3"]);
        assert_eq!(t.older_token.as_deref(), Some("older"));
        t.merge_older(conversation(
            vec![msg("m1", 1, Direction::Inbound, MessageStatus::Received)],
            None,
        ));
        assert_eq!(ids(&t), ["m1", "m2", "m3"]);
        assert_eq!(t.older_token, None);

        // A page whose next token is the one it was asked for with is the last.
        let mut t = Thread::new(conversation(vec![], Some("older")));
        t.merge_older(conversation(vec![], Some("older")));
        assert_eq!(t.older_token, None);
    }

    #[test]
    fn a_walk_again_from_the_newest_ends_past_the_oldest_shown() {
        let m = |id: &str, at: u32| msg(id, at, Direction::Inbound, MessageStatus::Received);
        // m3 and m4 shown, with a token the server then refuses.
        let mut t = Thread::new(conversation(vec![m("m4", 4), m("m3", 3)], Some("expired")));
        let floor = t.shown_span().expect("messages shown");
        // A page that only reaches the oldest shown does not end the walk: its next is. What
        // is newer than the messages shown (m5) is the refetches' to bring, and tell.
        let first = conversation(vec![m("m5", 5), m("m4", 4)], Some("expired"));
        assert!(!t.merge_rewalk(first, &floor));
        assert_eq!(t.older_token.as_deref(), Some("expired"), "made again");
        let first = conversation(vec![m("m3", 3)], Some("p2"));
        assert!(!t.merge_rewalk(first, &floor));
        assert_eq!(t.older_token.as_deref(), Some("p2"));
        let second = conversation(vec![m("m2", 2), m("m1", 1)], Some("p3"));
        assert!(t.merge_rewalk(second, &floor));
        assert_eq!(ids(&t), ["m1", "m2", "m3", "m4"]);
        assert_eq!(
            t.older_token.as_deref(),
            Some("p3"),
            "older than anything shown"
        );
        // The history's start ends it too.
        let mut t = Thread::new(conversation(vec![m("m3", 3)], Some("expired")));
        let floor = t.shown_span().expect("messages shown");
        assert!(t.merge_rewalk(conversation(vec![m("m3", 3)], None), &floor));
        assert_eq!(t.older_token, None);
    }

    #[test]
    fn parties_come_from_the_messages_when_known() {
        let t = Thread::new(conversation(vec![], None));
        assert_eq!(
            t.parties(),
            ("+2349012345678".into(), "+2348031234567".into())
        );
        // Here the agent's number is in `from_number`: an inbound message tells.
        let mut inbound = msg("m1", 1, Direction::Inbound, MessageStatus::Received);
        inbound.from_number = Some("+2349012345678".into());
        inbound.to_number = Some("+2348031234567".into());
        let t = Thread::new(conversation(vec![inbound], None));
        assert_eq!(
            t.parties(),
            ("+2348031234567".into(), "+2349012345678".into())
        );
    }

    #[test]
    fn the_same_message_twice_shows_once() {
        let mut t = Thread::new(conversation(vec![], None));
        let m = msg("m1", 1, Direction::Inbound, MessageStatus::Received);
        assert!(matches!(
            t.apply(StreamEvent::Message(m.clone())),
            Change::NewInbound(_)
        ));
        assert_eq!(t.apply(StreamEvent::Message(m.clone())), Change::None);
        t.merge_latest_now(conversation(vec![m], None));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn a_message_not_delivered_is_told_once() {
        let mut t = Thread::new(conversation(
            vec![msg("m1", 1, Direction::Outbound, MessageStatus::Sent)],
            None,
        ));
        let failed = StreamEvent::Status {
            message_id: MessageId::from("m1"),
            status: MessageStatus::Failed,
            error_code: Some("UNDELIVERABLE".into()),
        };
        assert!(matches!(
            t.apply(failed.clone()),
            Change::Undelivered(m) if m.error_code.as_deref() == Some("UNDELIVERABLE")
        ));
        assert_eq!(t.apply(failed), Change::None);
        assert!(t.undelivered_here(&MessageId::from("m1")));
        // Also when the event carries the whole message, of one shown or new.
        let mut t = Thread::new(conversation(
            vec![msg("m1", 1, Direction::Outbound, MessageStatus::Sent)],
            None,
        ));
        let failed = msg("m1", 1, Direction::Outbound, MessageStatus::Failed);
        assert!(matches!(
            t.apply(StreamEvent::Message(failed.clone())),
            Change::Undelivered(_)
        ));
        assert_eq!(t.apply(StreamEvent::Message(failed)), Change::None);
        let mut whole = msg("m2", 2, Direction::Outbound, MessageStatus::Failed);
        whole.error_code = Some("CARRIER_REJECTED".into());
        assert!(matches!(
            t.apply(StreamEvent::Message(whole.clone())),
            Change::Undelivered(_)
        ));
        assert_eq!(t.apply(StreamEvent::Message(whole)), Change::None);
        // Its failure told before the message itself (the AI's reply): told as it comes.
        let early = StreamEvent::Status {
            message_id: MessageId::from("m3"),
            status: MessageStatus::Failed,
            error_code: Some("UNDELIVERABLE".into()),
        };
        assert!(!matches!(t.apply(early), Change::Undelivered(_)));
        let sent = msg("m3", 3, Direction::Outbound, MessageStatus::Sent);
        assert!(matches!(
            t.apply(StreamEvent::Message(sent)),
            Change::Undelivered(m) if m.status == MessageStatus::Failed
        ));
        assert!(t.undelivered_here(&MessageId::from("m3")));
    }

    #[test]
    fn a_failure_a_refetch_brings_is_told_once_and_open_to_edit() {
        let sent = |id, secs| msg(id, secs, Direction::Outbound, MessageStatus::Sent);
        let failed = |id, secs| {
            let mut m = msg(id, secs, Direction::Outbound, MessageStatus::Failed);
            m.error_code = Some("UNDELIVERABLE".into());
            m
        };
        let mut t = Thread::new(conversation(vec![failed("m0", 1), sent("m1", 2)], None));
        // The stream down while m1 failed and the AI's m2 was sent and failed.
        t.stream_lost();
        let mark = t.mark();
        t.stream_back();
        let page = vec![failed("m2", 3), failed("m1", 2), failed("m0", 1)];
        t.merge_latest(conversation(page.clone(), None), mark);
        let told: Vec<_> = t
            .take_undelivered()
            .into_iter()
            .map(|m| m.message_id)
            .collect();
        assert_eq!(told, [MessageId::from("m1"), MessageId::from("m2")]);
        assert!(t.undelivered_here(&MessageId::from("m1")));
        assert!(t.undelivered_here(&MessageId::from("m2")));
        // m0 failed before the thread was opened: history, not news.
        assert!(!t.undelivered_here(&MessageId::from("m0")));
        // The next refetch tells nothing again, nor does the stream.
        let mark = t.mark();
        t.merge_latest(conversation(page, None), mark);
        assert!(t.take_undelivered().is_empty());
        assert_eq!(t.apply(StreamEvent::Message(failed("m2", 3))), Change::None);
    }

    #[test]
    fn a_later_copy_fills_in_what_a_streamed_message_left_out() {
        let mut t = Thread::new(conversation(vec![], None));
        // A customer's picture, its payload without the file, the text or the channel.
        let mut lean = msg("m1", 1, Direction::Inbound, MessageStatus::Received);
        lean.body = None;
        assert!(matches!(
            t.apply(StreamEvent::Message(lean)),
            Change::NewInbound(_)
        ));
        let mut whole = msg("m1", 1, Direction::Inbound, MessageStatus::Received);
        whole.body = Some("My receipt".into());
        whole.media_url = Some("https://cdn.example/r.jpg".into());
        whole.message_type = Some("image".into());
        whole.channel = Some(Channel::Whatsapp);
        let mark = t.mark();
        t.merge_latest(conversation(vec![whole.clone()], None), mark);
        let shown = t.messages().next().expect("the message");
        assert_eq!(shown, &whole);
        // Nothing said again of it, and what was known stays.
        assert!(t.take_recovered().is_none());
        let mut other = whole.clone();
        other.body = Some("another text".into());
        let mark = t.mark();
        t.merge_latest(conversation(vec![other], None), mark);
        assert_eq!(t.messages().next(), Some(&whole));
        // A send whose answer was lost, its message first told without its text: settled once
        // the text comes (its Retry would find nothing new to match, and send it twice).
        let mut sent = Thread::new(conversation(vec![], None));
        sent.begin_send(1, "OK".into(), at(6));
        let mut receipt = msg("m7", 7, Direction::Outbound, MessageStatus::Sent);
        receipt.body = None;
        sent.apply(StreamEvent::Message(receipt));
        sent.fail_send(1, "No answer".into(), true);
        assert_eq!(sent.pending().len(), 1, "in question");
        let mut delivered = msg("m7", 7, Direction::Outbound, MessageStatus::Delivered);
        delivered.body = Some("OK".into());
        sent.apply(StreamEvent::Message(delivered));
        assert!(sent.pending().is_empty(), "settled by its message");
        // The AI's reply, its first receipt without its text, its next with it.
        let mut reply = msg("m2", 2, Direction::Outbound, MessageStatus::Sent);
        reply.body = None;
        t.apply(StreamEvent::Message(reply));
        let mut delivered = msg("m2", 2, Direction::Outbound, MessageStatus::Delivered);
        delivered.body = Some("Your refund is on its way".into());
        t.apply(StreamEvent::Message(delivered.clone()));
        assert_eq!(t.messages().last(), Some(&delivered));
    }

    #[test]
    fn a_change_told_after_a_later_one_is_old_news() {
        let row = |from_mode, to_mode, secs| ModeChange {
            actor_user_id: Some("usr_1".into()),
            from_mode,
            to_mode,
            timestamp: at(secs),
        };
        let mut c = conversation(vec![], None);
        c.ai_mode = AiMode::Ai;
        c.mode_history = vec![
            row(AiMode::Ai, AiMode::Human, 10),
            row(AiMode::Human, AiMode::Ai, 20),
        ];
        let mut t = Thread::new(c);
        let event = |from_mode, to_mode, secs| StreamEvent::ModeChanged {
            from_mode,
            to_mode,
            actor_user_id: Some("usr_1".into()),
            timestamp: at(secs),
        };
        // The take-over at 10, held back while the first page was out: that page has it, and
        // the hand-back at 20 after it.
        assert_eq!(t.apply(event(AiMode::Ai, AiMode::Human, 10)), Change::None);
        assert_eq!(t.mode(), AiMode::Ai);
        assert_eq!(t.conversation.mode_history.len(), 2);
        // The newest change told again is no news either; a new one is.
        assert_eq!(t.apply(event(AiMode::Human, AiMode::Ai, 20)), Change::None);
        assert!(matches!(
            t.apply(event(AiMode::Ai, AiMode::Human, 30)),
            Change::ModeChanged(_)
        ));
        assert_eq!(t.mode(), AiMode::Human);
    }

    #[test]
    fn a_retry_looks_for_a_send_that_may_have_gone_out_before_sending_it_again() {
        let first = msg("m1", 5, Direction::Outbound, MessageStatus::Sent);
        let mut t = Thread::new(conversation(vec![first.clone()], None));
        t.begin_send(1, "body of m2".into(), at(6));
        t.fail_send(1, "No answer".into(), false);
        assert!(!t.begin_check(1), "refused outright: sent again at once");
        t.begin_send(2, "body of m1".into(), at(6));
        t.fail_send(2, "No answer".into(), true);
        assert!(t.begin_check(2));
        assert!(!t.begin_check(2), "a second click checks nothing more");
        assert!(
            !t.pending()[1].state.is_unsent(),
            "no Retry while it is checked"
        );
        assert_eq!(t.unconfirmed().len(), 1, "kept as in question meanwhile");
        // The first "body of m1", shown before it began, is not it; nor is one older.
        let older = msg("m0", 4, Direction::Outbound, MessageStatus::Sent);
        let page = [first.clone(), older];
        assert_eq!(t.look_for(2, &page, false), Looked::NotThere);
        // A page that does not go back to when it began: the next one is to be looked at.
        let later = msg("m7", 7, Direction::Inbound, MessageStatus::Received);
        assert_eq!(
            t.look_for(2, std::slice::from_ref(&later), true),
            Looked::Older
        );
        assert_eq!(
            t.look_for(2, std::slice::from_ref(&later), false),
            Looked::NotThere
        );
        // Its own message, made since: found, the oldest of two.
        let mut again = msg("m8", 8, Direction::Outbound, MessageStatus::Sent);
        again.body = Some("body of m1".into());
        let mut its = msg("m6", 6, Direction::Outbound, MessageStatus::Delivered);
        its.body = Some("body of m1\n".into());
        let page = [again, later, its.clone(), first];
        assert_eq!(
            t.look_for(2, &page, true),
            Looked::Found(Box::new(its.clone()))
        );
        // Shown already (it settled another send of the text): not it.
        t.apply(StreamEvent::Message(its.clone()));
        assert_eq!(
            t.pending().len(),
            1,
            "a message shown settles the send checked"
        );
        assert_eq!(t.look_for(2, &[its], false), Looked::Gone);
        assert!(t.pending().iter().all(|p| p.local_id == 1));
        // "Yes" twice, both in question: the message that settled the first is not the second.
        let yes_twice = || {
            let mut t = Thread::new(conversation(vec![], None));
            for local_id in [1, 2] {
                t.begin_send(local_id, "Yes".into(), at(6));
                t.fail_send(local_id, "No answer".into(), true);
            }
            t
        };
        let mut t = yes_twice();
        let mut yes = msg("m6", 6, Direction::Outbound, MessageStatus::Sent);
        yes.body = Some("Yes".into());
        t.apply(StreamEvent::Message(yes.clone()));
        assert!(t.begin_check(2));
        assert_eq!(
            t.look_for(2, std::slice::from_ref(&yes), false),
            Looked::NotThere
        );

        // Found for the first of two in question: the second stays (it was not its message).
        let mut t = yes_twice();
        assert!(t.begin_check(1));
        assert_eq!(
            t.look_for(1, std::slice::from_ref(&yes), false),
            Looked::Found(Box::new(yes.clone()))
        );
        t.confirm_found(1, yes.clone());
        assert_eq!(t.pending().len(), 1, "the second is still in question");
        assert_eq!(t.pending()[0].local_id, 2);

        // A send of its words on its way may have made the one message there: unsure, and in
        // question again, not settled by that message (held back for the send on its way);
        // that send's answer settles that send only.
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(1, "Yes".into(), at(6));
        t.fail_send(1, "No answer".into(), true);
        t.begin_send(2, "Yes".into(), at(6));
        t.apply(StreamEvent::Message(yes.clone()));
        assert!(t.begin_check(1));
        assert_eq!(
            t.look_for(1, std::slice::from_ref(&yes), false),
            Looked::Unsure
        );
        assert!(t.uncheck(1, "Unsure".into()));
        assert!(!t.uncheck(1, "Unsure".into()), "checked no more");
        t.confirm_send(2, yes.clone());
        assert_eq!(t.pending().len(), 1, "the first still in question");
        assert_eq!(
            t.pending()[0].state,
            SendState::Unconfirmed("Unsure".into())
        );

        // Found further back than the thread shows, with older pages to come: not put above
        // a hole, but the send is settled.
        let newer = msg("m9", 9, Direction::Inbound, MessageStatus::Received);
        let mut t = Thread::new(conversation(vec![newer], Some("older")));
        t.restore_unconfirmed(
            1,
            UnconfirmedSend {
                text: "Yes".into(),
                sent_at: at(5),
                not_before: at(5),
                newest_then: None,
                reason: "No answer".into(),
            },
        );
        assert!(t.begin_check(1));
        t.confirm_found(1, yes);
        assert!(t.pending().is_empty());
        assert_eq!(ids(&t), ["m9"]);
    }

    #[test]
    fn a_kept_unconfirmed_send_comes_back_unless_its_message_is_shown() {
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(1, "On my way".into(), at(5));
        t.fail_send(1, "No answer".into(), true);
        t.begin_send(2, "Refused".into(), at(6));
        t.fail_send(2, "Refused".into(), false);
        let kept = t.unconfirmed();
        assert_eq!(
            kept.len(),
            1,
            "only the one that may have gone out: {kept:?}"
        );
        assert_eq!(kept[0].text, "On my way");
        // Shown again, with the message that was it: settled.
        let went = msg("m9", 5, Direction::Outbound, MessageStatus::Sent);
        let mut shown = Thread::new(conversation(vec![went], None));
        let mut sent = kept[0].clone();
        sent.text = "Hello".into();
        assert!(shown.restore_unconfirmed(1, sent), "another text is not it");
        let mut it = kept[0].clone();
        it.text = "body of m9".into();
        assert!(!shown.restore_unconfirmed(2, it));
        assert_eq!(shown.unconfirmed().len(), 1);
        // A message older than the send could be is not it.
        let old = msg("m1", 1, Direction::Outbound, MessageStatus::Sent);
        let mut shown = Thread::new(conversation(vec![old], None));
        let mut older = kept[0].clone();
        older.text = "body of m1".into();
        assert!(shown.restore_unconfirmed(1, older));
        // The same words sent again: the first, shown when the second began, is not it.
        let first = msg("m1", 5, Direction::Outbound, MessageStatus::Sent);
        let mut t = Thread::new(conversation(vec![first.clone()], None));
        t.begin_send(1, "body of m1".into(), at(6));
        t.fail_send(1, "No answer".into(), true);
        let again = t.unconfirmed().remove(0);
        let mut back = Thread::new(conversation(vec![first.clone()], None));
        assert!(
            back.restore_unconfirmed(1, again.clone()),
            "m1 was there before"
        );
        // Its own message, after it: settled.
        let own = msg("m2", 6, Direction::Outbound, MessageStatus::Sent);
        let mut own_body = own.clone();
        own_body.body = first.body.clone();
        let mut back = Thread::new(conversation(vec![own_body, first], None));
        assert!(!back.restore_unconfirmed(1, again));
        // Its own message in the same second as the newest shown, and sorted before it.
        let mut newest = msg("msg_z", 5, Direction::Inbound, MessageStatus::Received);
        newest.created_at = at(5).trunc_subsecs(0);
        let mut t = Thread::new(conversation(vec![newest.clone()], None));
        t.begin_send(1, "Hi".into(), at(5));
        t.fail_send(1, "No answer".into(), true);
        let kept = t.unconfirmed().remove(0);
        let mut own = msg("msg_a", 5, Direction::Outbound, MessageStatus::Sent);
        own.body = Some("Hi".into());
        let mut back = Thread::new(conversation(vec![newest, own], None));
        assert!(!back.restore_unconfirmed(1, kept), "its message is shown");
    }

    #[test]
    fn a_send_still_out_shows_as_sending_in_a_new_view_until_its_answer() {
        let mut left = Thread::new(conversation(vec![], None));
        left.begin_send(7, "Refund approved".into(), at(5));
        let out = left.pending()[0].kept_as(String::new());
        // The conversation opened again before the answer: sending, not an empty box.
        let mut back = Thread::new(conversation(vec![], None));
        assert!(back.resume_send(7, out.clone()));
        assert!(back.resume_send(7, out.clone()), "taken once");
        assert_eq!(back.pending().len(), 1);
        assert_eq!(back.pending()[0].state, SendState::Sending);
        assert!(back.unsent().next().is_none(), "nothing to retry yet");
        // Its answer settles it there.
        let mut sent = msg("m2", 6, Direction::Outbound, MessageStatus::Queued);
        sent.body = Some("Refund approved".into());
        assert_eq!(back.confirm_send(7, sent), Change::None);
        assert!(back.pending().is_empty());
        assert_eq!(back.len(), 1);
        // Its message shown already (the answer is still on its way): not shown twice.
        let mut own = msg("m2", 6, Direction::Outbound, MessageStatus::Queued);
        own.body = Some("Refund approved".into());
        let mut shown = Thread::new(conversation(vec![own], None));
        assert!(!shown.resume_send(7, out.clone()));
        assert!(shown.pending().is_empty());
        // Its answer lost: it may have gone out, and shows so, with its Retry.
        let mut lost = Thread::new(conversation(vec![], None));
        lost.resume_send(7, out);
        lost.fail_send(7, "No answer".into(), true);
        assert_eq!(lost.unconfirmed().len(), 1);
    }

    #[test]
    fn status_never_moves_backwards() {
        let mut t = Thread::new(conversation(
            vec![msg("m1", 1, Direction::Outbound, MessageStatus::Queued)],
            None,
        ));
        let status = |s| StreamEvent::Status {
            message_id: MessageId::from("m1"),
            status: s,
            error_code: None,
        };
        assert_eq!(t.apply(status(MessageStatus::Read)), Change::StatusChanged);
        assert_eq!(t.apply(status(MessageStatus::Delivered)), Change::None);
        // A refetch with an older status keeps the newer one.
        t.merge_latest_now(conversation(
            vec![msg("m1", 1, Direction::Outbound, MessageStatus::Sent)],
            None,
        ));
        assert_eq!(
            t.messages().next().map(|m| m.status),
            Some(MessageStatus::Read)
        );
    }

    #[test]
    fn pending_send_is_confirmed_once_even_if_the_stream_was_first() {
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(7, "hello".into(), at(5));
        assert_eq!(t.pending().len(), 1);
        // The stream reports delivery before the POST's answer arrives.
        let early = StreamEvent::Status {
            message_id: MessageId::from("m9"),
            status: MessageStatus::Delivered,
            error_code: None,
        };
        assert_eq!(t.apply(early), Change::None);
        t.confirm_send(7, msg("m9", 5, Direction::Outbound, MessageStatus::Queued));
        assert!(t.pending().is_empty());
        assert_eq!(
            t.messages().next().map(|m| m.status),
            Some(MessageStatus::Delivered)
        );
    }

    #[test]
    fn a_send_that_failed_before_its_answer_came_is_told_and_editable() {
        let failed = || StreamEvent::Status {
            message_id: MessageId::from("m9"),
            status: MessageStatus::Failed,
            error_code: Some("UNDELIVERABLE".into()),
        };
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(7, "hello".into(), at(5));
        assert_eq!(t.apply(failed()), Change::None);
        assert!(matches!(
            t.confirm_send(7, msg("m9", 5, Direction::Outbound, MessageStatus::Queued)),
            Change::Undelivered(m) if m.error_code.as_deref() == Some("UNDELIVERABLE")
        ));
        assert!(t.undelivered_here(&MessageId::from("m9")));
        assert_eq!(t.apply(failed()), Change::None, "told once");
        // The same when the stream's receipt carried the whole message.
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(7, "hello".into(), at(5));
        let mut whole = msg("m9", 5, Direction::Outbound, MessageStatus::Failed);
        whole.body = Some("hello".into());
        assert_eq!(t.apply(StreamEvent::Message(whole)), Change::None);
        assert!(matches!(
            t.confirm_send(7, msg("m9", 5, Direction::Outbound, MessageStatus::Queued)),
            Change::Undelivered(_)
        ));
        // Not one the answer finds delivered.
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(7, "hello".into(), at(5));
        assert_eq!(
            t.confirm_send(7, msg("m9", 5, Direction::Outbound, MessageStatus::Queued)),
            Change::None
        );
    }

    #[test]
    fn a_failures_code_that_comes_later_is_kept() {
        let sent = msg("m1", 1, Direction::Outbound, MessageStatus::Sent);
        let mut t = Thread::new(conversation(vec![sent], None));
        let failed = StreamEvent::Status {
            message_id: MessageId::from("m1"),
            status: MessageStatus::Failed,
            error_code: None,
        };
        assert!(matches!(t.apply(failed), Change::Undelivered(_)));
        let mut with_code = msg("m1", 1, Direction::Outbound, MessageStatus::Failed);
        with_code.error_code = Some("CARRIER_REJECTED".into());
        t.merge_latest_now(conversation(vec![with_code.clone()], None));
        let code = || t.messages().next().and_then(|m| m.error_code.clone());
        assert_eq!(code().as_deref(), Some("CARRIER_REJECTED"));
        // Told once: the code is no news of its own.
        assert_eq!(
            t.apply(StreamEvent::Message(with_code.clone())),
            Change::None
        );

        // The same while the send is out: a receipt without the code, then the whole message.
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(1, "body of m1".into(), at(1));
        let bare = StreamEvent::Status {
            message_id: MessageId::from("m1"),
            status: MessageStatus::Failed,
            error_code: None,
        };
        assert_eq!(t.apply(bare), Change::None);
        assert_eq!(t.apply(StreamEvent::Message(with_code)), Change::None);
        t.confirm_send(1, msg("m1", 1, Direction::Outbound, MessageStatus::Queued));
        let code = t.messages().next().and_then(|m| m.error_code.clone());
        assert_eq!(code.as_deref(), Some("CARRIER_REJECTED"));
    }

    #[test]
    fn a_send_is_matched_by_its_text_as_a_server_may_store_it() {
        assert!(same_text("Thanks!", "Thanks!\n"));
        assert!(same_text("Line one\r\nline two", " Line one\nline two "));
        assert!(!same_text("Thanks!", "Thanks"));
        assert!(!same_text("Line one line two", "Line one\nline two"));
        // The stream's copy of a reply typed with a new line at its end settles its send.
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(1, "See you soon\n".into(), at(6));
        let mut m = msg("m7", 7, Direction::Outbound, MessageStatus::Sent);
        m.body = Some("See you soon".into());
        assert!(
            !t.fail_send(1, "No answer".into(), true),
            "nothing shown yet"
        );
        assert_eq!(t.pending().len(), 1);
        t.apply(StreamEvent::Message(m));
        assert!(t.pending().is_empty(), "settled by its message");
    }

    #[test]
    fn a_failure_reported_after_a_delivery_does_not_undo_it() {
        let receipt = |id: &str, status| StreamEvent::Status {
            message_id: MessageId::from(id),
            status,
            error_code: (status == MessageStatus::Failed).then(|| "CARRIER_REJECTED".into()),
        };
        let mut t = Thread::new(conversation(
            vec![
                msg("m1", 1, Direction::Outbound, MessageStatus::Read),
                msg("m2", 2, Direction::Outbound, MessageStatus::Sent),
            ],
            None,
        ));
        assert_eq!(t.apply(receipt("m1", MessageStatus::Failed)), Change::None);
        assert!(matches!(
            t.apply(receipt("m2", MessageStatus::Failed)),
            Change::Undelivered(_)
        ));
        // The handset's word after all: read.
        assert_eq!(
            t.apply(receipt("m2", MessageStatus::Read)),
            Change::StatusChanged
        );
        let shown: Vec<_> = t
            .messages()
            .map(|m| (m.status, m.error_code.clone()))
            .collect();
        assert_eq!(
            shown,
            [(MessageStatus::Read, None), (MessageStatus::Read, None)]
        );
    }

    #[test]
    fn a_message_shown_at_an_implied_time_moves_to_the_apis() {
        let reply = msg("m2", 10, Direction::Outbound, MessageStatus::Sent);
        let mut t = Thread::new(conversation(vec![reply.clone()], None));
        // Its time left out by the stream: the device's clock, minutes fast, stood for it.
        let mut heard = msg("m1", 14, Direction::Inbound, MessageStatus::Received);
        assert!(matches!(
            t.apply(StreamEvent::Message(heard.clone())),
            Change::NewInbound(_)
        ));
        assert_eq!(ids(&t), ["m2", "m1"]);
        // (Within the second, it stays: a page may leave the milliseconds out.)
        let mut same = heard.clone();
        same.created_at += Duration::milliseconds(400);
        t.merge_latest_now(conversation(vec![same], None));
        assert_eq!(ids(&t), ["m2", "m1"]);
        assert_eq!(t.messages().last().map(|m| m.created_at), Some(at(14)));
        heard.created_at = at(9);
        t.merge_latest_now(conversation(vec![reply, heard], None));
        assert_eq!(
            ids(&t),
            ["m1", "m2"],
            "the customer's message before the reply"
        );
        assert_eq!(t.messages().next().map(|m| m.created_at), Some(at(9)));
    }

    #[test]
    fn a_receipt_for_a_message_on_a_page_not_loaded_waits_for_that_page() {
        let shown = vec![msg("m5", 50, Direction::Inbound, MessageStatus::Received)];
        let mut t = Thread::new(conversation(shown, Some("older")));
        let mut old = msg("m1", 10, Direction::Outbound, MessageStatus::Failed);
        old.error_code = Some("30003".into());
        assert_eq!(
            t.apply(StreamEvent::Message(old.clone())),
            Change::Unseen,
            "the newest page asked for, should it be new after all"
        );
        assert_eq!(t.messages().count(), 1, "not shown above the hole");
        assert!(!t.undelivered_here(&old.message_id));
        // Its page brings it, with the receipt's news.
        old.status = MessageStatus::Sent;
        old.error_code = None;
        t.merge_older(conversation(vec![old], None));
        let first = t.messages().next().expect("loaded");
        assert_eq!(
            (first.status, first.error_code.as_deref()),
            (MessageStatus::Failed, Some("30003"))
        );
        // With no older page left, a message older than the rest is shown: it is news.
        let older = msg("m0", 5, Direction::Inbound, MessageStatus::Received);
        assert!(matches!(
            t.apply(StreamEvent::Message(older)),
            Change::NewInbound(_)
        ));
    }

    #[test]
    fn a_receipt_for_a_message_not_seen_asks_for_the_conversation() {
        let receipt = |id: &str| StreamEvent::Status {
            message_id: MessageId::from(id),
            status: MessageStatus::Delivered,
            error_code: None,
        };
        let mut t = Thread::new(conversation(vec![], None));
        assert_eq!(t.apply(receipt("m9")), Change::Unseen);
        // The conversation fetched for it shows it, with the receipt's status.
        t.merge_latest_now(conversation(
            vec![msg("m9", 5, Direction::Outbound, MessageStatus::Sent)],
            None,
        ));
        assert_eq!(
            t.messages().next().map(|m| m.status),
            Some(MessageStatus::Delivered)
        );
        assert_eq!(t.apply(receipt("m9")), Change::None);
        // While a send of its own is out, it may be that one's: the send's answer tells.
        t.begin_send(1, "hello".into(), at(6));
        assert_eq!(t.apply(receipt("m10")), Change::None);
        assert!(!t.take_unseen(), "not while the send is out");
        t.confirm_send(1, msg("m10", 6, Direction::Outbound, MessageStatus::Queued));
        assert!(!t.take_unseen(), "it was the send's");
        // One that was not: fetched for once the send is settled.
        t.begin_send(2, "again".into(), at(7));
        assert_eq!(t.apply(receipt("m12")), Change::None);
        t.confirm_send(2, msg("m11", 7, Direction::Outbound, MessageStatus::Queued));
        assert!(t.take_unseen());
        assert!(!t.take_unseen(), "once");
    }

    #[test]
    fn a_send_is_its_message_with_the_seconds_milliseconds_left_out() {
        // The newest message shown has milliseconds; the send's own message, none.
        let mut newest = msg("m1", 5, Direction::Inbound, MessageStatus::Received);
        newest.created_at += Duration::milliseconds(523);
        let mut t = Thread::new(conversation(vec![newest], None));
        t.begin_send(1, "ok".into(), at(5));
        let mut mine = msg("m2", 5, Direction::Outbound, MessageStatus::Sent);
        mine.body = Some("ok".into());
        assert_eq!(
            t.apply(StreamEvent::Message(mine)),
            Change::None,
            "held for the send"
        );
        assert!(t.fail_send(1, "Could not reach Voicebip".into(), true));
        assert!(t.unsent().next().is_none(), "no Retry to send it twice");
    }

    #[test]
    fn a_send_whose_answer_was_lost_but_which_the_stream_showed_went_out() {
        let shown = |t: &mut Thread, id: &str, body: &str| {
            let mut m = msg(id, 5, Direction::Outbound, MessageStatus::Sent);
            m.body = Some(body.into());
            t.apply(StreamEvent::Message(m))
        };
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(1, "ok".into(), at(5));
        assert_eq!(shown(&mut t, "m1", "ok"), Change::None);
        // No answer came: the stream's message is the send, with no "Not sent" to retry.
        assert!(t.fail_send(1, "Could not reach Voicebip".into(), true));
        assert!(t.pending().is_empty());
        assert_eq!(
            t.messages()
                .map(|m| m.message_id.as_str())
                .collect::<Vec<_>>(),
            ["m1"]
        );

        // A refusal is the server's word: the send did not go out, whatever the stream showed.
        t.begin_send(2, "again".into(), at(6));
        shown(&mut t, "m2", "again");
        assert!(!t.fail_send(2, "Refused".into(), false));
        assert_eq!(t.pending()[0].state, SendState::Failed("Refused".into()));
        // Nor does a lost answer prove anything when the stream showed no such text.
        // (m2, kept back while "again" was being sent, is shown once that send failed.)
        assert!(t.messages().any(|m| m.message_id.as_str() == "m2"));
        t.begin_send(3, "third".into(), at(7));
        assert!(!t.fail_send(3, "Could not reach Voicebip".into(), true));
        assert_eq!(t.unsent().collect::<Vec<_>>(), ["again", "third"]);

        // Another tab sends the same text while this one's is out: once this one is confirmed,
        // the other is shown, and is no proof for a later send of that text.
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(1, "Thanks!".into(), at(5));
        shown(&mut t, "m_other", "Thanks!");
        let mut mine = msg("m_mine", 5, Direction::Outbound, MessageStatus::Queued);
        mine.body = Some("Thanks!".into());
        t.confirm_send(1, mine);
        let ids: Vec<&str> = t.messages().map(|m| m.message_id.as_str()).collect();
        assert!(
            ids.contains(&"m_other") && ids.contains(&"m_mine"),
            "{ids:?}"
        );
        t.begin_send(2, "Thanks!".into(), at(6));
        assert!(!t.fail_send(2, "Could not reach Voicebip".into(), true));
    }

    #[test]
    fn a_send_whose_answer_was_lost_is_settled_by_its_message_coming_later() {
        let ours = |id: &str, min: u32, body: &str| {
            let mut m = msg(id, min, Direction::Outbound, MessageStatus::Sent);
            m.body = Some(body.into());
            m
        };
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(1, "On my way".into(), at(30));
        t.begin_send(2, "On my way".into(), at(30));
        assert!(!t.fail_send(1, "Could not reach Voicebip".into(), true));
        assert!(!t.fail_send(2, "Refused".into(), false));
        // An older page's message with the same text, from before the send: not it.
        t.merge_older(conversation(vec![ours("m_old", 20, "On my way")], None));
        // The customer's words are never ours.
        let mut theirs = msg("m_in", 31, Direction::Inbound, MessageStatus::Received);
        theirs.body = Some("On my way".into());
        t.apply(StreamEvent::Message(theirs));
        assert_eq!(t.unsent().count(), 2);

        // The stream shows it going out, after the failure (the server's clock a minute behind):
        // that send went out, the refused one did not.
        assert_eq!(
            t.apply(StreamEvent::Message(ours("m_late", 29, "On my way"))),
            Change::NewOutbound
        );
        assert_eq!(t.pending().len(), 1);
        assert_eq!(t.pending()[0].state, SendState::Failed("Refused".into()));

        // A refetch after a reconnect settles it as well.
        t.begin_send(3, "Noted".into(), at(40));
        t.fail_send(3, "Voicebip had a problem answering".into(), true);
        let latest = conversation(vec![ours("m_noted", 40, "Noted")], None);
        t.merge_latest(latest, t.mark());
        assert_eq!(t.unsent().collect::<Vec<_>>(), ["On my way"]);

        // The refused one's text sent since (from another tab, which took it in with the
        // draft): its Retry would send it again.
        t.begin_send(4, "Noted".into(), at(41));
        t.fail_send(4, "Refused".into(), false);
        t.begin_send(5, "Noted".into(), at(41));
        t.fail_send(5, "Could not reach Voicebip".into(), true);
        t.apply(StreamEvent::Message(ours("m_noted_again", 42, "Noted")));
        assert_eq!(
            t.pending().iter().map(|p| p.local_id).collect::<Vec<_>>(),
            [2, 4],
            "the lost answer's send, rather than the older refused one"
        );
        t.apply(StreamEvent::Message(ours("m_again", 43, "On my way")));
        t.apply(StreamEvent::Message(ours("m_noted_third", 43, "Noted")));
        assert!(t.pending().is_empty());

        // One message settles one failed send of its text, however many there are.
        for id in [7, 8] {
            t.begin_send(id, "Yes".into(), at(44));
            t.fail_send(id, "Refused".into(), false);
        }
        t.apply(StreamEvent::Message(ours("m_yes", 45, "Yes")));
        assert_eq!(t.unsent().collect::<Vec<_>>(), ["Yes"]);
        t.apply(StreamEvent::Message(ours("m_yes_again", 45, "Yes")));
        assert!(t.pending().is_empty());

        // Sent with more typed after it, as a paragraph of its own; not within another.
        t.begin_send(6, "Refund approved".into(), at(44));
        t.fail_send(6, "Refused".into(), false);
        t.apply(StreamEvent::Message(ours(
            "m_within",
            45,
            "Refund approved today",
        )));
        assert_eq!(t.pending().len(), 1);
        t.apply(StreamEvent::Message(ours(
            "m_with_more",
            46,
            "Refund approved\r\n\r\nAnything else?",
        )));
        assert!(t.pending().is_empty());
    }

    #[test]
    fn a_refetch_while_a_send_is_out_holds_its_copy_like_the_stream() {
        let mut copy = msg("m1", 5, Direction::Outbound, MessageStatus::Sent);
        copy.body = Some("hi".into());
        let before = msg("m0", 1, Direction::Inbound, MessageStatus::Received);
        // Into an empty thread, and below what is shown.
        for shown in [vec![], vec![before.clone()]] {
            let mut t = Thread::new(conversation(shown.clone(), None));
            t.begin_send(1, "hi".into(), at(5));
            let mut page = vec![copy.clone()];
            page.extend(shown.clone());
            assert_eq!(t.merge_latest_now(conversation(page, None)), None);
            assert_eq!(t.len(), shown.len(), "shown once, as the pending send");
            assert!(t.fail_send(1, "Could not reach Voicebip".into(), true));
            assert_eq!(t.len(), shown.len() + 1);
            assert!(t.pending().is_empty());
        }
    }

    #[test]
    fn an_older_message_with_the_same_text_is_not_the_send() {
        let mut t = Thread::new(conversation(
            vec![msg("m5", 50, Direction::Inbound, MessageStatus::Received)],
            None,
        ));
        // The browser's clock runs behind the server's: by it, the old message is newer.
        t.begin_send(1, "Thank you".into(), at(0));
        let mut old = msg("m_old", 10, Direction::Outbound, MessageStatus::Read);
        old.body = Some("Thank you".into());
        t.merge_older(conversation(vec![old], None));
        assert!(
            t.messages().any(|m| m.message_id.as_str() == "m_old"),
            "shown"
        );
        assert!(!t.fail_send(1, "Could not reach Voicebip".into(), true));
        assert_eq!(t.unsent().collect::<Vec<_>>(), ["Thank you"]);
        // Its own message, newer than what was shown, settles it, whatever the clocks say.
        let mut mine = msg("m_mine", 55, Direction::Outbound, MessageStatus::Sent);
        mine.body = Some("Thank you".into());
        t.apply(StreamEvent::Message(mine));
        assert!(t.pending().is_empty());
        // Made in the same second as the newest shown (timestamps to the second), with an id
        // that sorts before it: still its message.
        t.begin_send(2, "Noted".into(), at(0));
        assert!(!t.fail_send(2, "Could not reach Voicebip".into(), true));
        let mut same_second = msg("a_noted", 55, Direction::Outbound, MessageStatus::Sent);
        same_second.body = Some("Noted".into());
        t.apply(StreamEvent::Message(same_second));
        assert!(t.pending().is_empty());
    }

    #[test]
    fn failed_send_keeps_the_text() {
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(1, "keep me".into(), at(1));
        t.begin_send(2, "lost answer".into(), at(2));
        assert!(t.unsent().next().is_none(), "nothing failed yet");
        assert!(!t.fail_send(1, "Refused".into(), false));
        assert_eq!(t.pending()[0].state, SendState::Failed("Refused".into()));
        t.fail_send(2, "Network error".into(), true);
        assert_eq!(
            t.pending()[1].state,
            SendState::Unconfirmed("Network error".into())
        );
        // Both are kept from being lost, oldest first; only the refused one goes into the
        // draft (the other may have gone out, and the next Enter would send it twice).
        assert_eq!(t.unsent().collect::<Vec<_>>(), ["keep me", "lost answer"]);
        assert_eq!(t.failed_texts(), ["keep me"]);
        assert_eq!(
            t.discard_send(1).map(|p| p.body),
            Some("keep me".to_owned())
        );
    }

    #[test]
    fn mode_change_events_update_badge_and_history_once() {
        let mut t = Thread::new(conversation(vec![], None));
        let frame = r#"{"event_type":"conversation.mode_changed","conversation_id":"conv_1",
            "timestamp":"2026-05-15T12:00:00Z",
            "payload":{"from_mode":"human","to_mode":"ai","actor_user_id":"usr_2"}}"#;
        let ev = decode(frame, &ConversationId::from("conv_1")).expect("decodes");
        assert!(matches!(t.apply(ev.clone()), Change::ModeChanged(_)));
        assert_eq!(t.apply(ev), Change::None);
        assert_eq!(t.mode(), AiMode::Ai);
        assert_eq!(t.conversation.mode_history.len(), 1);
    }

    #[test]
    fn a_handoff_is_not_tried_again_once_the_mode_has_moved_and_come_back() {
        let secs = |n| at(10) + Duration::seconds(n);
        let mut c = conversation(vec![], None);
        c.ai_mode = AiMode::Ai;
        let mut t = Thread::new(c);
        let known_then = t.newest_change_at();
        assert!(t.handoff_still_wanted(AiMode::Ai, known_then));
        // Taken over (the request's own change, its answer lost), then handed back by another
        // operator: the mode is as it was, but trying again would undo the hand-back.
        for (from_mode, to_mode, n) in [
            (AiMode::Ai, AiMode::Human, 1),
            (AiMode::Human, AiMode::Ai, 2),
        ] {
            t.apply(StreamEvent::ModeChanged {
                from_mode,
                to_mode,
                actor_user_id: Some(format!("usr_{n}")),
                timestamp: secs(n),
            });
            assert!(!t.handoff_still_wanted(AiMode::Ai, known_then));
        }
        assert_eq!(t.mode(), AiMode::Ai);
        // Asked for now, it is wanted.
        assert!(t.handoff_still_wanted(AiMode::Ai, t.newest_change_at()));
    }

    #[test]
    fn a_quick_take_over_again_is_a_change_of_its_own() {
        let secs = |n| at(10) + Duration::seconds(n);
        let change = |from_mode, to_mode, at| ModeChange {
            actor_user_id: Some("usr_1".into()),
            from_mode,
            to_mode,
            timestamp: at,
        };
        let taken = change(AiMode::Ai, AiMode::Human, secs(0));
        let returned = change(AiMode::Human, AiMode::Ai, secs(1));
        let mut c = conversation(vec![], None);
        c.ai_mode = AiMode::Ai;
        c.mode_history = vec![taken.clone(), returned.clone()];
        let mut t = Thread::new(c);
        // Taken over again two seconds after the first take-over, by the same operator.
        let again = change(AiMode::Ai, AiMode::Human, secs(2));
        let told = t.apply(StreamEvent::ModeChanged {
            from_mode: again.from_mode,
            to_mode: again.to_mode,
            actor_user_id: again.actor_user_id.clone(),
            timestamp: again.timestamp,
        });
        assert_eq!(told, Change::ModeChanged(again.clone()));
        assert_eq!(t.conversation.mode_history.len(), 3);
        assert_eq!(t.latest_change(), Some(&again));

        // A refetch made before it does not undo it, nor drop its row.
        let answer = |mode, history: Vec<ModeChange>| {
            let mut c = conversation(vec![], None);
            c.ai_mode = mode;
            c.mode_history = history;
            c.summary.updated_at = Some(secs(1));
            c
        };
        t.merge_latest_now(answer(AiMode::Ai, vec![taken.clone(), returned.clone()]));
        assert_eq!(t.mode(), AiMode::Human);
        assert_eq!(t.conversation.mode_history.len(), 3);
        assert_eq!(t.latest_change(), Some(&again));

        // The server's own row for it, stamped a moment before the event, is the same change.
        let audited = change(
            AiMode::Ai,
            AiMode::Human,
            secs(2) - Duration::milliseconds(300),
        );
        t.merge_latest_now(answer(
            AiMode::Human,
            vec![taken, returned, audited.clone()],
        ));
        assert_eq!(t.conversation.mode_history.len(), 3);
        assert_eq!(t.latest_change(), Some(&audited));

        // Stamped in whole seconds, all three within one.
        let taken = change(AiMode::Ai, AiMode::Human, secs(0));
        let returned = change(AiMode::Human, AiMode::Ai, secs(0));
        let mut c = conversation(vec![], None);
        c.mode_history = vec![taken.clone(), returned.clone()];
        let mut t = Thread::new(c);
        t.apply(StreamEvent::ModeChanged {
            from_mode: AiMode::Ai,
            to_mode: AiMode::Human,
            actor_user_id: taken.actor_user_id.clone(),
            timestamp: secs(0),
        });
        assert_eq!(t.conversation.mode_history.len(), 3);
        assert_eq!(t.mode(), AiMode::Human);
    }

    #[test]
    fn the_latest_change_is_the_one_that_brought_the_mode() {
        let change = |to_mode, secs| ModeChange {
            actor_user_id: Some("usr_1".into()),
            from_mode: AiMode::Ai,
            to_mode,
            timestamp: at(secs),
        };
        let mut c = conversation(vec![], None);
        c.ai_mode = AiMode::Closed;
        c.mode_history = vec![change(AiMode::Closed, 20), change(AiMode::Human, 10)];
        let t = Thread::new(c.clone());
        assert_eq!(t.latest_change().map(|r| r.timestamp), Some(at(20)));
        // A history that does not have it (cut short, or not exposed) names no one.
        c.mode_history = vec![change(AiMode::Human, 10)];
        assert_eq!(Thread::new(c).latest_change(), None);
    }

    #[test]
    fn a_patch_answered_after_a_later_change_does_not_undo_it() {
        // Also in the same second, as whole-second times have it.
        for closed_at in [20, 10] {
            a_patch_answered_after_a_change_at(closed_at);
        }
    }

    /// The stream's event for the change `row`.
    fn told(row: &ModeChange) -> StreamEvent {
        StreamEvent::ModeChanged {
            from_mode: row.from_mode,
            to_mode: row.to_mode,
            actor_user_id: row.actor_user_id.clone(),
            timestamp: row.timestamp,
        }
    }

    fn a_patch_answered_after_a_change_at(closed_at: u32) {
        let mut t = Thread::new(conversation(vec![], None));
        let taken = ModeChange {
            actor_user_id: Some("usr_1".into()),
            from_mode: AiMode::Ai,
            to_mode: AiMode::Human,
            timestamp: at(10),
        };
        // The stream told of the take-over, then of another operator's close.
        for row in [
            taken.clone(),
            ModeChange {
                actor_user_id: Some("usr_2".into()),
                from_mode: AiMode::Human,
                to_mode: AiMode::Closed,
                timestamp: at(closed_at),
            },
        ] {
            t.apply(told(&row));
        }
        // The take-over's own answer, late.
        let mut answer = conversation(vec![], None);
        answer.ai_mode = AiMode::Human;
        answer.mode_history = vec![taken];
        answer.summary.updated_at = Some(at(10));
        assert!(
            !t.apply_mode_response(answer.into(), None),
            "closed at {closed_at}"
        );
        assert_eq!(t.mode(), AiMode::Closed, "closed at {closed_at}");
    }

    /// In the same second, an answer with news of its own (the change the console knows, and a
    /// later one) is the newer, and stays so at the next refetch.
    #[test]
    fn an_answer_with_news_in_the_same_second_is_taken() {
        let change = |actor: &str, from_mode, to_mode| ModeChange {
            actor_user_id: Some(actor.into()),
            from_mode,
            to_mode,
            timestamp: at(10),
        };
        let taken = change("usr_1", AiMode::Ai, AiMode::Human);
        let closed = change("usr_2", AiMode::Human, AiMode::Closed);
        let mut t = Thread::new(conversation(vec![], None));
        t.apply(told(&taken));
        let mut fresh = conversation(vec![], None);
        fresh.ai_mode = AiMode::Closed;
        fresh.mode_history = vec![taken, closed];
        for _ in 0..2 {
            t.merge_latest(fresh.clone(), None);
            assert_eq!(t.mode(), AiMode::Closed);
            assert_eq!(t.conversation.mode_history.len(), 2, "no row twice");
        }

        // An answer without the change the console was told, in the same second (made before
        // it, with a change of its own the stream missed): the console's change stands.
        let handed = change("usr_2", AiMode::Human, AiMode::Ai);
        let retaken = change("usr_3", AiMode::Ai, AiMode::Human);
        let mut t = Thread::new(conversation(vec![], None));
        t.apply(told(&retaken));
        let mut fresh = conversation(vec![], None);
        fresh.ai_mode = AiMode::Ai;
        fresh.mode_history = vec![handed];
        t.merge_latest(fresh, None);
        assert_eq!(t.mode(), AiMode::Human);
    }

    #[test]
    fn audit_row_and_event_a_moment_apart_are_one_change() {
        let mut t = Thread::new(conversation(vec![], None));
        let row = |ms: i64| ModeChange {
            actor_user_id: Some("usr_1".into()),
            from_mode: AiMode::Human,
            to_mode: AiMode::Ai,
            timestamp: at(1) + chrono::Duration::milliseconds(ms),
        };
        let mut fresh = conversation(vec![], None);
        fresh.ai_mode = AiMode::Ai;
        fresh.mode_history = vec![row(519)];
        assert!(t.apply_mode_response(fresh.clone().into(), None));
        assert!(
            !t.apply_mode_response(fresh.into(), None),
            "a repeat PATCH moves nothing"
        );
        let event = StreamEvent::ModeChanged {
            from_mode: AiMode::Human,
            to_mode: AiMode::Ai,
            actor_user_id: Some("usr_1".into()),
            timestamp: row(520).timestamp,
        };
        assert_eq!(t.apply(event), Change::None);
        assert_eq!(t.conversation.mode_history.len(), 1);
        // Another operator's later change shows as its own line and is reported.
        let later = StreamEvent::ModeChanged {
            from_mode: AiMode::Ai,
            to_mode: AiMode::Human,
            actor_user_id: Some("usr_2".into()),
            timestamp: at(30),
        };
        assert!(matches!(t.apply(later), Change::ModeChanged(_)));
        assert_eq!(t.conversation.mode_history.len(), 2);
    }

    fn whatsapp(window: Option<DateTime<Utc>>, last: Option<DateTime<Utc>>) -> Thread {
        let mut c = conversation(vec![], None);
        c.summary.channel = Channel::Whatsapp;
        c.summary.window_expires_at = window;
        c.summary.last_message_at = last;
        Thread::new(c)
    }

    /// The thread's body is API.md's choice: one that leaves the window out is read by the
    /// window's definition (the customer's newest WhatsApp message, and a day), not as shut;
    /// and a refetch that leaves the mode out keeps the known one.
    #[test]
    fn an_answer_without_the_window_or_the_mode_is_read_by_what_it_has() {
        let mut sms = msg("m3", 3, Direction::Inbound, MessageStatus::Received);
        sms.channel = Some(Channel::Sms);
        let mut c = conversation(
            vec![
                msg("m1", 1, Direction::Inbound, MessageStatus::Received),
                msg("m2", 2, Direction::Outbound, MessageStatus::Delivered),
                sms,
            ],
            None,
        );
        c.summary.channel = Channel::Whatsapp;
        let mut t = Thread::new(c.clone());
        let end = at(1) + Duration::hours(24);
        assert_eq!(t.window_expires_at(), Some(end), "an SMS opens none");
        assert_eq!(t.blocked(at(4)), None);
        assert_eq!(
            t.blocked(end + Duration::minutes(1)),
            Some(Blocked::WindowExpired)
        );
        // Refused for the window all the same: shut.
        t.window_refused(at(4));
        assert_eq!(t.blocked(at(5)), Some(Blocked::WindowExpired));

        let mut t = Thread::new(c.clone());
        let mut fresh = c;
        fresh.ai_mode = AiMode::Unknown;
        t.merge_latest(fresh, None);
        assert_eq!(t.mode(), AiMode::Human);
        assert_eq!(t.blocked(at(4)), None);
    }

    #[test]
    fn a_reply_refused_for_the_window_shuts_it_until_the_customer_writes() {
        // This device's clock runs behind the server's: the window looks open for an hour more.
        let mut t = whatsapp(Some(at(59)), Some(at(0)));
        t.conversation.ai_mode = AiMode::Human;
        assert_eq!(t.blocked(at(1)), None);
        t.window_refused(at(1));
        assert_eq!(t.blocked(at(1)), Some(Blocked::WindowExpired));
        assert_eq!(t.window_expires_at(), Some(at(1)));
        // The refetch that follows brings the same end: still shut. Also when it is written
        // without the milliseconds the console's had.
        t.merge_latest(t.conversation.clone(), None);
        assert_eq!(t.blocked(at(2)), Some(Blocked::WindowExpired));
        let mut fresh = t.conversation.clone();
        fresh.summary.window_expires_at = Some(at(59) - Duration::milliseconds(250));
        t.merge_latest(fresh, None);
        assert_eq!(t.blocked(at(2)), Some(Blocked::WindowExpired));
        // Or a few minutes later, for a customer's message the console missed before it.
        let mut fresh = t.conversation.clone();
        fresh.summary.window_expires_at = Some(at(59) + Duration::minutes(5));
        t.merge_latest(fresh, None);
        assert_eq!(t.blocked(at(2)), Some(Blocked::WindowExpired));
        // The customer writes: a new window, by the server's reckoning.
        let m = msg("m1", 3, Direction::Inbound, MessageStatus::Received);
        t.apply(StreamEvent::Message(m));
        assert_eq!(t.blocked(at(4)), None);
        assert_eq!(t.window_expires_at(), Some(at(3) + Duration::hours(24)));
    }

    #[test]
    fn the_customers_latest_message_sets_the_channel_of_the_reply() {
        // The WhatsApp window closed long ago: only a template could go out there.
        let mut t = whatsapp(Some(at(0) - Duration::hours(23)), Some(at(0)));
        t.conversation.ai_mode = AiMode::Human;
        assert_eq!(t.blocked(at(1)), Some(Blocked::WindowExpired));
        let mut sms = msg("m1", 30, Direction::Inbound, MessageStatus::Received);
        sms.channel = Some(Channel::Sms);
        t.apply(StreamEvent::Message(sms));
        assert_eq!(t.conversation.summary.channel, Channel::Sms);
        assert_eq!(t.addressing().channel, Channel::Sms);
        assert_eq!(t.blocked(at(31)), None, "an SMS reply needs no window");
        // An older WhatsApp message brought late changes nothing.
        let mut old = msg("m0", 10, Direction::Inbound, MessageStatus::Received);
        old.channel = Some(Channel::Whatsapp);
        t.apply(StreamEvent::Message(old));
        assert_eq!(t.conversation.summary.channel, Channel::Sms);
        // Nor does a refetch made before the SMS came.
        let mut before = t.conversation.clone();
        before.summary.channel = Channel::Whatsapp;
        before.summary.last_message_at = Some(at(0));
        t.merge_latest(before, None);
        assert_eq!(t.conversation.summary.channel, Channel::Sms);
        assert_eq!(t.blocked(at(31)), None);
    }

    #[test]
    fn the_channel_is_the_customers_newest_messages_not_the_newest_replys() {
        let sms_at = |min| {
            let mut m = msg("m1", min, Direction::Inbound, MessageStatus::Received);
            m.channel = Some(Channel::Sms);
            m
        };
        let reply = || msg("r1", 31, Direction::Outbound, MessageStatus::Sent);
        // A reply at minute 31 shown first, then the customer's SMS of minute 30 by the stream.
        let mut t = whatsapp(Some(at(0) + Duration::hours(20)), Some(at(0)));
        t.apply(StreamEvent::Message(reply()));
        t.apply(StreamEvent::Message(sms_at(30)));
        assert_eq!(t.conversation.summary.channel, Channel::Sms);
        assert_eq!(t.conversation.summary.last_message_at, Some(at(31)));
        // A refetch's answer that holds the SMS, made before a reply shown live since: its
        // channel stands.
        let mut t = whatsapp(Some(at(0) + Duration::hours(20)), Some(at(0)));
        t.apply(StreamEvent::Message(reply()));
        let mut fresh = conversation(vec![sms_at(30)], None);
        fresh.summary.channel = Channel::Sms;
        fresh.summary.last_message_at = Some(at(30));
        t.merge_latest(fresh, None);
        assert_eq!(t.conversation.summary.channel, Channel::Sms);
        assert_eq!(t.conversation.summary.last_message_at, Some(at(31)));
    }

    #[test]
    fn a_live_inbound_message_reopens_the_window_and_is_the_latest_activity() {
        // The window closed an hour after the last message (at minute 0).
        let mut t = whatsapp(Some(at(0) - Duration::hours(23)), Some(at(0)));
        let m = msg("m1", 30, Direction::Inbound, MessageStatus::Received);
        assert!(matches!(
            t.apply(StreamEvent::Message(m)),
            Change::NewInbound(_)
        ));
        let s = &t.conversation.summary;
        assert_eq!(s.window_expires_at, Some(at(30) + Duration::hours(24)));
        assert_eq!(s.last_message_at, Some(at(30)));

        // The operator's reply moves the activity, not the window; an older message neither.
        let reply = msg("m2", 40, Direction::Outbound, MessageStatus::Queued);
        t.confirm_send(1, reply);
        t.apply(StreamEvent::Message(msg(
            "m0",
            10,
            Direction::Inbound,
            MessageStatus::Received,
        )));
        let s = &t.conversation.summary;
        assert_eq!(s.last_message_at, Some(at(40)));
        assert_eq!(s.window_expires_at, Some(at(30) + Duration::hours(24)));
    }

    #[test]
    fn a_receipt_that_outruns_the_sends_answer_does_not_show_it_twice() {
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(1, "body of m1".into(), at(5));
        let mut sent = msg("m1", 5, Direction::Outbound, MessageStatus::Sent);
        assert_eq!(t.apply(StreamEvent::Message(sent.clone())), Change::None);
        assert!(t.is_empty(), "the pending copy stands for it");
        assert_eq!(t.pending().len(), 1);
        // The answer names it: one message, at the receipt's status.
        sent.status = MessageStatus::Queued;
        t.confirm_send(1, sent);
        assert_eq!(ids(&t), ["m1"]);
        assert!(t.pending().is_empty());
        assert_eq!(
            t.messages().next().map(|m| m.status),
            Some(MessageStatus::Sent)
        );
        // Another's message (the AI's) with no send waiting shows at once.
        let ai = msg("m2", 6, Direction::Outbound, MessageStatus::Sent);
        assert_eq!(t.apply(StreamEvent::Message(ai)), Change::NewOutbound);
    }

    #[test]
    fn a_message_held_as_maybe_a_sends_shows_once_that_send_is_given_up() {
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(1, "Thanks!".into(), at(5));
        // Another's message of the same text (the AI's, after a hand-back) while it waits.
        let mut theirs = msg("m1", 6, Direction::Outbound, MessageStatus::Sent);
        theirs.body = Some("Thanks!".into());
        assert_eq!(t.apply(StreamEvent::Message(theirs)), Change::None);
        assert!(t.is_empty(), "held: it may be the send's own");
        assert!(
            t.discard_send(1).is_some(),
            "never sent (the wait outlasted the mode)"
        );
        assert_eq!(ids(&t), ["m1"]);
    }

    #[test]
    fn a_page_fetched_before_a_receipt_does_not_take_the_send_back() {
        let mut t = Thread::new(conversation(vec![], None));
        t.begin_send(1, "body of m1".into(), at(5));
        let delivered = msg("m1", 5, Direction::Outbound, MessageStatus::Delivered);
        assert_eq!(t.apply(StreamEvent::Message(delivered)), Change::None);
        // A refetch answered before that receipt still says sent.
        let page = vec![msg("m1", 5, Direction::Outbound, MessageStatus::Sent)];
        t.merge_latest_now(conversation(page, None));
        t.confirm_send(1, msg("m1", 5, Direction::Outbound, MessageStatus::Queued));
        assert_eq!(
            t.messages().map(|m| m.status).collect::<Vec<_>>(),
            [MessageStatus::Delivered]
        );
    }

    #[test]
    fn a_patch_answered_before_a_refetch_does_not_undo_what_it_brought() {
        let mut t = Thread::new(conversation(vec![], None));
        // While the take-over is out, the customer sends STOP; its refetch says so.
        let mut stop = conversation(
            vec![msg("m1", 10, Direction::Inbound, MessageStatus::Received)],
            None,
        );
        stop.summary.opt_out = Some(true);
        stop.summary.last_message_at = Some(at(10));
        stop.summary.window_expires_at = Some(at(10) + Duration::hours(24));
        t.merge_latest_now(stop);
        // The PATCH's answer was made before that message.
        let mut patched = conversation(vec![], None);
        patched.ai_mode = AiMode::Human;
        patched.summary.opt_out = Some(false);
        patched.summary.last_message_at = Some(at(1));
        patched.summary.window_expires_at = Some(at(1) + Duration::hours(24));
        t.apply_mode_response(patched.clone().into(), None);
        let s = &t.conversation.summary;
        assert!(s.opted_out(), "the opt-out stays");
        assert_eq!(s.last_message_at, Some(at(10)));
        assert_eq!(s.window_expires_at, Some(at(10) + Duration::hours(24)));
        // One made after it is taken whole.
        patched.summary.last_message_at = Some(at(12));
        t.apply_mode_response(patched.into(), None);
        assert!(!t.conversation.summary.opted_out());
        // One of the mode alone moves the mode and leaves the conversation as it is.
        let before = t.conversation.summary.clone();
        let bare = ModeAnswer {
            ai_mode: AiMode::Ai,
            changed: Some(true),
            mode_history: vec![],
            summary: None,
        };
        assert!(t.apply_mode_response(bare.clone(), t.newest_change_at()));
        assert_eq!((t.mode(), &t.conversation.summary), (AiMode::Ai, &before));
        // Answered after the stream told of the PATCH's own change (human to AI) and then of
        // another's close: the close stands (the answer says nothing of when it was made).
        let sent_then = t.newest_change_at();
        let row = |from_mode, to_mode, min| ModeChange {
            actor_user_id: None,
            from_mode,
            to_mode,
            timestamp: at(min),
        };
        let history = t.conversation.mode_history.clone();
        t.conversation
            .mode_history
            .push(row(AiMode::Human, AiMode::Ai, 20));
        t.conversation
            .mode_history
            .push(row(AiMode::Ai, AiMode::Closed, 21));
        t.conversation.ai_mode = AiMode::Closed;
        assert!(!t.apply_mode_response(bare.clone(), sent_then));
        assert_eq!(t.mode(), AiMode::Closed);
        // Another's take-over, made before this operator's close reached the server and told
        // after it went out: the close moved the conversation on from it.
        t.conversation.mode_history = history;
        t.conversation
            .mode_history
            .push(row(AiMode::Ai, AiMode::Human, 20));
        t.conversation.ai_mode = AiMode::Human;
        let closed = ModeAnswer {
            ai_mode: AiMode::Closed,
            ..bare
        };
        assert!(t.apply_mode_response(closed, sent_then));
        assert_eq!(t.mode(), AiMode::Closed);
    }

    #[test]
    fn a_stream_lost_while_a_gap_is_filled_is_the_next_refetchs_to_bring() {
        let page = |ids: &[(&str, u32)]| {
            ids.iter()
                .map(|&(id, min)| msg(id, min, Direction::Inbound, MessageStatus::Received))
                .collect::<Vec<_>>()
        };
        let mut t = Thread::new(conversation(page(&[("m1", 1)]), None));
        t.stream_lost();
        t.stream_back();
        let mark = t.mark();
        let gap = t
            .merge_latest(
                conversation(page(&[("m4", 4), ("m3", 3)]), Some("p2")),
                mark,
            )
            .expect("a gap");
        // Lost again while the gap's page is out: m5 comes meanwhile, unseen, and the
        // operator's reply m6 shows, as its answer confirms it.
        t.stream_lost();
        t.begin_send(1, "On my way".into(), at(6));
        let mut reply = msg("m6", 6, Direction::Outbound, MessageStatus::Sent);
        reply.body = Some("On my way".into());
        t.confirm_send(1, reply);
        assert_eq!(
            t.fill_gap(gap, conversation(page(&[("m2", 2), ("m1", 1)]), None)),
            None
        );
        t.stream_back();
        // The next refetch's newest page holds m7 and m6 only: it reaches back for m5, below
        // the reply shown.
        let mark = t.mark();
        let gap = t.merge_latest(
            conversation(page(&[("m7", 7), ("m6", 6)]), Some("q2")),
            mark,
        );
        assert!(gap.is_some(), "m5 is fetched, not lost");
    }

    #[test]
    fn a_refetch_that_does_not_reach_back_leaves_a_gap_to_fill() {
        let mut t = Thread::new(conversation(
            vec![msg("m1", 1, Direction::Inbound, MessageStatus::Received)],
            None,
        ));
        // Five came in while the stream was down; the newest page holds two of them.
        let page = |ids: &[(&str, u32)]| {
            ids.iter()
                .map(|&(id, min)| msg(id, min, Direction::Inbound, MessageStatus::Received))
                .collect::<Vec<_>>()
        };
        // The refetch starts; m6 comes live while it is out.
        let mark = t.mark();
        t.apply(StreamEvent::Message(msg(
            "m6",
            6,
            Direction::Inbound,
            MessageStatus::Received,
        )));
        let gap = t
            .merge_latest(
                conversation(page(&[("m6", 6), ("m5", 5)]), Some("p2")),
                mark,
            )
            .expect("a gap below the newest page");
        assert_eq!(gap.token, "p2");
        // A page none of whose messages could be read goes on to the next.
        let gap = t
            .fill_gap(gap, conversation(vec![], Some("p2b")))
            .expect("an unreadable page reaches nothing");
        assert_eq!(gap.token, "p2b");
        let gap = t
            .fill_gap(gap, conversation(page(&[("m4", 4), ("m3", 3)]), Some("p3")))
            .expect("still a gap");
        assert_eq!(gap.token, "p3");
        // This page reaches m1, which was known: filled.
        assert_eq!(
            t.fill_gap(gap, conversation(page(&[("m2", 2), ("m1", 1)]), Some("p4"))),
            None
        );
        assert_eq!(ids(&t), ["m1", "m2", "m3", "m4", "m5", "m6"]);
        // What the stream brought (m6) was heard then; m2 to m5 are heard now.
        let (count, newest) = t.take_recovered().expect("recovered");
        assert_eq!((count, newest.message_id), (4, MessageId::from("m5")));
        assert_eq!(t.take_recovered(), None);

        // A refetch that overlaps what is known, or has no older page, leaves none.
        assert_eq!(
            t.merge_latest_now(conversation(page(&[("m7", 7), ("m6", 6)]), Some("q"))),
            None
        );
        assert_eq!(
            t.merge_latest_now(conversation(page(&[("m9", 9), ("m8", 8)]), None)),
            None
        );
        // Nor does the first page of an empty thread.
        let mut empty = Thread::new(conversation(vec![], None));
        assert_eq!(
            empty.merge_latest_now(conversation(page(&[("m1", 1)]), Some("x"))),
            None
        );
    }

    #[test]
    fn an_answer_asked_for_before_the_stream_came_back_vouches_for_nothing_after_it() {
        let inbound =
            |id: &str, min: u32| msg(id, min, Direction::Inbound, MessageStatus::Received);
        let mut t = Thread::new(conversation(vec![inbound("m1", 1)], None));
        // A refetch leaves (for a receipt, say), and is held; the stream drops and comes back.
        let early = t.mark();
        t.stream_lost();
        t.stream_back();
        // Its answer, made early in the outage, holds m2 (m3 to m8 came after it).
        let answer = conversation(vec![inbound("m2", 2), inbound("m1", 1)], None);
        assert_eq!(t.merge_latest(answer, early), None);
        // The stream, back, brings m9: the next refetch still reaches down to m2.
        t.apply(StreamEvent::Message(inbound("m9", 9)));
        let newest = conversation(vec![inbound("m9", 9), inbound("m8", 8)], Some("p2"));
        let gap = t.merge_latest_now(newest).expect("m3 to m7 still to fetch");
        assert_eq!(gap.token, "p2");

        // So too when that answer's page does not reach what was shown, and its gap is filled.
        let mut t = Thread::new(conversation(vec![inbound("m1", 1)], None));
        let early = t.mark();
        t.stream_lost();
        t.stream_back();
        let answer = conversation(vec![inbound("m4", 4), inbound("m3", 3)], Some("p2"));
        let gap = t.merge_latest(answer, early).expect("m2 to fetch");
        assert_eq!(
            t.fill_gap(gap, conversation(vec![inbound("m2", 2)], None)),
            None
        );
        t.apply(StreamEvent::Message(inbound("m9", 9)));
        let newest = conversation(vec![inbound("m9", 9), inbound("m8", 8)], Some("p3"));
        let gap = t.merge_latest_now(newest).expect("m5 to m7 still to fetch");
        assert_eq!(gap.token, "p3");
    }

    #[test]
    fn what_an_unreadable_frame_brought_is_told_though_the_stream_brought_more_since() {
        let inbound =
            |id: &str, min: u32| msg(id, min, Direction::Inbound, MessageStatus::Received);
        let mut t = Thread::new(conversation(vec![inbound("m1", 1)], None));
        // m2's frame cannot be read; m3's comes readably before the refetch leaves.
        t.missed();
        t.apply(StreamEvent::Message(inbound("m3", 3)));
        let newest = conversation(
            vec![inbound("m3", 3), inbound("m2", 2), inbound("m1", 1)],
            None,
        );
        assert_eq!(t.merge_latest_now(newest), None);
        assert_eq!(ids(&t), ["m1", "m2", "m3"]);
        let (count, newest) = t.take_recovered().expect("m2 is news");
        assert_eq!((count, newest.message_id.as_str()), (1, "m2"));
        // Told once: the next refetch measures from the thread's end again.
        let again = conversation(vec![inbound("m3", 3), inbound("m2", 2)], Some("p"));
        assert_eq!(t.merge_latest_now(again), None);
        assert_eq!(t.take_recovered(), None);

        // A second frame missed while the first one's refetch is out: that answer, asked for
        // before it, does not use up where the second one's refetch must reach down to.
        t.missed();
        let asked = t.mark();
        t.missed();
        let answer = conversation(vec![inbound("m3", 3), inbound("m2", 2)], None);
        assert_eq!(t.merge_latest(answer, asked), None);
        t.apply(StreamEvent::Message(inbound("m5", 5)));
        let newest = conversation(
            vec![inbound("m5", 5), inbound("m4", 4), inbound("m3", 3)],
            None,
        );
        assert_eq!(t.merge_latest_now(newest), None);
        let (count, newest) = t.take_recovered().expect("m4 is news");
        assert_eq!((count, newest.message_id.as_str()), (1, "m4"));

        // A frame missed while a refetch with a gap below it is out: filling that gap does
        // not use up where the frame's own refetch must reach down to.
        let mut t = Thread::new(conversation(vec![inbound("m1", 1)], None));
        t.stream_lost();
        t.stream_back();
        let asked = t.mark();
        t.missed();
        let answer = conversation(vec![inbound("m5", 5), inbound("m4", 4)], Some("p2"));
        let gap = t.merge_latest(answer, asked).expect("m2 and m3 to fetch");
        t.apply(StreamEvent::Message(inbound("m7", 7)));
        let below = conversation(vec![inbound("m3", 3), inbound("m2", 2)], None);
        assert_eq!(t.fill_gap(gap, below), None);
        t.take_recovered();
        let newest = conversation(
            vec![inbound("m7", 7), inbound("m6", 6), inbound("m5", 5)],
            None,
        );
        assert_eq!(t.merge_latest_now(newest), None);
        let (count, newest) = t.take_recovered().expect("m6, the missed frame's, is news");
        assert_eq!((count, newest.message_id.as_str()), (1, "m6"));
    }

    #[test]
    fn a_refetch_asked_for_before_the_first_page_came_tells_what_came_after_it() {
        let inbound =
            |id: &str, min: u32| msg(id, min, Direction::Inbound, MessageStatus::Received);
        // The view's first request answers first; the one asked for as the stream opened
        // (before there was a thread, so without a mark) holds m2, written in between.
        let mut t = Thread::new(conversation(vec![inbound("m1", 1)], None));
        let later = conversation(vec![inbound("m2", 2), inbound("m1", 1)], None);
        assert_eq!(t.merge_latest(later, None), None);
        assert_eq!(ids(&t), ["m1", "m2"]);
        let (count, newest) = t.take_recovered().expect("m2 is news");
        assert_eq!((count, newest.message_id.as_str()), (1, "m2"));
        // Told once.
        let again = conversation(vec![inbound("m2", 2), inbound("m1", 1)], None);
        assert_eq!(t.merge_latest(again, None), None);
        assert_eq!(t.take_recovered(), None);
    }

    #[test]
    fn a_gap_left_unfilled_is_fetched_by_the_next_refetch() {
        let inbound =
            |id: &str, min: u32| msg(id, min, Direction::Inbound, MessageStatus::Received);
        let mut t = Thread::new(conversation(vec![inbound("m1", 1)], None));
        // The stream goes down; meanwhile the operator's send is confirmed (it is the newest
        // shown now), and customers write m2 to m9.
        t.stream_lost();
        t.begin_send(1, "hi".into(), at(10));
        let mut sent = msg("s1", 10, Direction::Outbound, MessageStatus::Queued);
        sent.body = Some("hi".into());
        t.confirm_send(1, sent);
        t.stream_back();
        let newest = || conversation(vec![inbound("m9", 9), inbound("s1", 10)], Some("p2"));
        // The refetch's page reaches the send but not m1: a gap, whose fetch then fails.
        assert!(t.merge_latest_now(newest()).is_some());
        // Retried: the gap is still there, though the page reaches what is shown now.
        let gap = t.merge_latest_now(newest()).expect("the gap again");
        assert_eq!(gap.token, "p2");
        let page = conversation(
            (1..=8)
                .rev()
                .map(|n| inbound(&format!("m{n}"), n))
                .collect(),
            Some("p3"),
        );
        let left = t.fill_gap(gap, page);
        assert_eq!(left, None, "the page reaches down to m1");
        assert_eq!(t.len(), 10);
        // Filled: the next refetch starts from what is shown.
        assert_eq!(t.merge_latest_now(newest()), None);

        // A gap's page that offers the same token again ends the filling, not the gap: the
        // next refetch asks for it again.
        let mut t = Thread::new(conversation(vec![inbound("m1", 1)], None));
        t.stream_lost();
        t.stream_back();
        let newest = || conversation(vec![inbound("m9", 9), inbound("m8", 8)], Some("p2"));
        let gap = t.merge_latest_now(newest()).expect("m2 to m7 to fetch");
        let again = conversation(vec![inbound("m9", 9), inbound("m8", 8)], Some("p2"));
        assert_eq!(
            t.fill_gap(gap, again),
            None,
            "p2 is not asked for again now"
        );
        assert_eq!(t.len(), 3);
        let gap = t
            .merge_latest_now(newest())
            .expect("the gap, for the next refetch");
        assert_eq!(gap.token, "p2");

        // A gap left where a walk of its pages stopped is not walked again by the next
        // refetch (the walk's limit would only be reached again).
        let mut t = Thread::new(conversation(vec![inbound("m1", 1)], None));
        t.stream_lost();
        t.stream_back();
        let gap = t.merge_latest_now(newest()).expect("m2 to m7 to fetch");
        let deeper = t
            .fill_gap(gap, conversation(vec![inbound("m7", 7)], Some("p3")))
            .expect("m2 to m6 still to fetch");
        t.leave_gap(deeper);
        assert_eq!(t.merge_latest_now(newest()), None, "not walked again");
        assert_eq!(t.len(), 4, "m1, m7, m8, m9: the hole stays");

        // A thread empty when shown learns its older pages from a refetch.
        let mut empty = Thread::new(conversation(vec![], None));
        empty.merge_latest_now(conversation(vec![inbound("m1", 1)], Some("older")));
        assert_eq!(empty.older_token.as_deref(), Some("older"));
    }

    #[test]
    fn an_answer_made_before_a_mode_change_does_not_undo_it() {
        let mut t = Thread::new(conversation(vec![], None));
        t.conversation.ai_mode = AiMode::Ai;
        let take_over = ModeChange {
            actor_user_id: Some("usr_1".into()),
            from_mode: AiMode::Ai,
            to_mode: AiMode::Human,
            timestamp: at(10),
        };
        t.apply(StreamEvent::ModeChanged {
            from_mode: take_over.from_mode,
            to_mode: take_over.to_mode,
            actor_user_id: take_over.actor_user_id.clone(),
            timestamp: take_over.timestamp,
        });
        let answer = |mode: AiMode, history: Vec<ModeChange>, updated: Option<u32>| {
            let mut c = conversation(vec![], None);
            c.ai_mode = mode;
            c.mode_history = history;
            c.summary.updated_at = updated.map(at);
            c
        };
        // Made before the take-over: it knows no change, and says the AI answers.
        t.merge_latest_now(answer(AiMode::Ai, vec![], Some(5)));
        assert_eq!(t.mode(), AiMode::Human);
        // Made after it: it agrees.
        t.merge_latest_now(answer(AiMode::Human, vec![take_over.clone()], Some(10)));
        assert_eq!(t.mode(), AiMode::Human);
        // Without its history, an answer made after it, or one that does not say when it was
        // made, is the server's word (closed by another operator meanwhile, say).
        let mut later = t.clone();
        later.merge_latest_now(answer(AiMode::Closed, vec![], Some(15)));
        assert_eq!(later.mode(), AiMode::Closed);
        let mut untimed = t.clone();
        untimed.merge_latest_now(answer(AiMode::Closed, vec![], None));
        assert_eq!(untimed.mode(), AiMode::Closed);
        // Made after a later change the console missed (its stream was down): the server's.
        let returned = ModeChange {
            actor_user_id: Some("usr_2".into()),
            from_mode: AiMode::Human,
            to_mode: AiMode::Ai,
            timestamp: at(20),
        };
        t.merge_latest_now(answer(AiMode::Ai, vec![take_over, returned], None));
        assert_eq!(t.mode(), AiMode::Ai);
        assert_eq!(t.conversation.mode_history.len(), 2);
    }

    #[test]
    fn an_answer_tells_of_a_newer_change_by_a_row_the_thread_has_not_got() {
        let row = |from_mode, to_mode, min| ModeChange {
            actor_user_id: None,
            from_mode,
            to_mode,
            timestamp: at(min),
        };
        let mut t = Thread::new(conversation(vec![], None));
        // Knowing no change, any row is newer.
        assert!(!t.tells_newer_change(&[]));
        assert!(t.tells_newer_change(&[row(AiMode::Ai, AiMode::Human, 1)]));
        t.conversation.mode_history = vec![row(AiMode::Ai, AiMode::Human, 5)];
        // Rows it has, or older: an answer that may have been made before what it knows.
        assert!(!t.tells_newer_change(&[row(AiMode::Ai, AiMode::Human, 5)]));
        assert!(!t.tells_newer_change(&[row(AiMode::Human, AiMode::Ai, 3)]));
        // Another's close since: newer.
        assert!(t.tells_newer_change(&[
            row(AiMode::Ai, AiMode::Human, 5),
            row(AiMode::Human, AiMode::Closed, 7)
        ]));
    }

    #[test]
    fn a_closed_conversation_stays_closed_whatever_older_news_says() {
        let mut t = Thread::new(conversation(vec![], None));
        t.conversation.ai_mode = AiMode::Closed;
        // A refetch made before the close, which says nothing of when it was made.
        let mut before = conversation(vec![], None);
        before.ai_mode = AiMode::Human;
        t.merge_latest_now(before.clone());
        assert_eq!(t.mode(), AiMode::Closed);
        // A handoff's answer made before it, late.
        assert!(!t.apply_mode_response(before.into(), None));
        assert_eq!(t.mode(), AiMode::Closed);
        // A stream frame held up, of a change made before it.
        let told = t.apply(StreamEvent::ModeChanged {
            from_mode: AiMode::Ai,
            to_mode: AiMode::Human,
            actor_user_id: None,
            timestamp: at(1),
        });
        assert_eq!((told, t.mode()), (Change::None, AiMode::Closed));
    }

    #[test]
    fn a_closing_warning_for_a_window_since_reopened_is_out_of_date() {
        let mut t = whatsapp(Some(at(0) + Duration::hours(1)), Some(at(0)));
        let m = msg("m1", 30, Direction::Inbound, MessageStatus::Received);
        t.apply(StreamEvent::Message(m));
        let reopened = Some(at(30) + Duration::hours(24));
        assert_eq!(t.conversation.summary.window_expires_at, reopened);
        let stale = StreamEvent::WindowClosing {
            expires_at: Some(at(0) + Duration::hours(1)),
        };
        assert_eq!(t.apply(stale), Change::None);
        assert_eq!(t.conversation.summary.window_expires_at, reopened);
        assert!(!t.closing_warned());
        // The warning for the window as it stands is given, and holds (by the server's clock,
        // whatever the device's) until a customer's message moves its end.
        let due = StreamEvent::WindowClosing {
            expires_at: reopened,
        };
        assert_eq!(t.apply(due), Change::WindowClosing);
        assert!(t.closing_warned());
        // (One that names no end may be of a window since reopened: it takes back no warning
        // given for the window as it stands.)
        t.apply(StreamEvent::WindowClosing { expires_at: None });
        assert!(t.closing_warned(), "a nameless warning keeps the one given");
        // Nor does one warn of the window known here, where none was given.
        let mut unnamed = whatsapp(Some(at(0) + Duration::hours(1)), Some(at(0)));
        unnamed.apply(StreamEvent::WindowClosing { expires_at: None });
        assert!(!unnamed.closing_warned());
        t.apply(StreamEvent::Message(msg(
            "m2",
            40,
            Direction::Inbound,
            MessageStatus::Received,
        )));
        assert!(!t.closing_warned(), "reopened");
        // The same window, known here with the milliseconds its warning leaves out: given.
        let mut t = whatsapp(Some(at(0) + Duration::milliseconds(523)), Some(at(0)));
        let whole_seconds = StreamEvent::WindowClosing {
            expires_at: Some(at(0)),
        };
        assert_eq!(t.apply(whole_seconds), Change::WindowClosing);
    }

    #[test]
    fn an_sms_from_the_customer_opens_no_whatsapp_window() {
        let closed = Some(at(0) - Duration::hours(23));
        let mut t = whatsapp(closed, Some(at(0)));
        let mut m = msg("m1", 30, Direction::Inbound, MessageStatus::Received);
        m.channel = Some(Channel::Sms);
        t.apply(StreamEvent::Message(m));
        assert_eq!(t.conversation.summary.window_expires_at, closed);
        assert_eq!(t.conversation.summary.last_message_at, Some(at(30)));
    }

    #[test]
    fn a_send_refused_for_an_opt_out_blocks_replies_at_once() {
        let mut t = Thread::new(conversation(vec![], None));
        assert_eq!(t.blocked(at(1)), None);
        t.refused_for("SOMETHING_NEW", at(1));
        assert_eq!(t.blocked(at(1)), None);
        t.refused_for("RECIPIENT_OPTED_OUT", at(1));
        assert_eq!(t.blocked(at(1)), Some(Blocked::OptedOut));
        // A refetch, or a handoff's answer, that says nothing of the opt-out leaves it.
        t.merge_latest_now(conversation(vec![], None));
        assert_eq!(t.blocked(at(1)), Some(Blocked::OptedOut), "after a refetch");
        t.apply_mode_response(conversation(vec![], None).into(), None);
        assert_eq!(t.blocked(at(1)), Some(Blocked::OptedOut), "after a handoff");
        // One that says the number opted back in is taken.
        let mut back_in = conversation(vec![], None);
        back_in.summary.opt_out = Some(false);
        t.merge_latest_now(back_in);
        assert_eq!(t.blocked(at(1)), None);
        // Refused again, before the STOP that caused it came: that STOP, and anything else
        // but a START, leaves it.
        t.refused_for("RECIPIENT_OPTED_OUT", at(2));
        let inbound = |id: &str, min: u32, body: &str| {
            let mut m = msg(id, min, Direction::Inbound, MessageStatus::Received);
            m.body = Some(body.into());
            StreamEvent::Message(m)
        };
        t.apply(inbound("m_stop", 3, "STOP"));
        t.apply(inbound("m_thanks", 4, "thanks"));
        t.merge_latest_now(conversation(vec![], None));
        assert_eq!(t.blocked(at(5)), Some(Blocked::OptedOut), "after its STOP");
        // The customer writes START since: a silent answer is as it says.
        t.apply(inbound("m_start", 6, "Start"));
        t.merge_latest_now(conversation(vec![], None));
        assert_eq!(t.blocked(at(7)), None, "after START");
        // An opt-out an answer told of stands as well through a handoff's silent answer.
        let mut told = conversation(vec![], None);
        told.summary.opt_out = Some(true);
        t.merge_latest_now(told);
        t.apply_mode_response(conversation(vec![], None).into(), None);
        assert_eq!(
            t.blocked(at(8)),
            Some(Blocked::OptedOut),
            "told, then silent"
        );
    }

    #[test]
    fn a_closing_warning_in_a_thread_answered_by_sms_is_no_change() {
        let mut t = Thread::new(conversation(vec![], None));
        let warning = StreamEvent::WindowClosing {
            expires_at: Some(at(59)),
        };
        assert_eq!(t.apply(warning), Change::None);
        assert_eq!(t.conversation.summary.window_expires_at, None);
    }

    #[test]
    fn sms_has_no_window_to_reopen() {
        let mut t = Thread::new(conversation(vec![], None));
        let m = msg("m1", 30, Direction::Inbound, MessageStatus::Received);
        t.apply(StreamEvent::Message(m));
        assert_eq!(t.conversation.summary.window_expires_at, None);
        assert_eq!(t.conversation.summary.last_message_at, Some(at(30)));
    }

    #[test]
    fn a_refetch_made_before_live_messages_does_not_close_the_window_again() {
        let closed = Some(at(0) - Duration::hours(23));
        let mut t = whatsapp(closed, Some(at(0)));
        let m = msg("m1", 30, Direction::Inbound, MessageStatus::Received);
        t.apply(StreamEvent::Message(m.clone()));
        let reopened = Some(at(30) + Duration::hours(24));

        // An answer older than the message keeps what the message implies.
        let mut stale = whatsapp(closed, Some(at(0))).conversation;
        stale.summary.opt_out = Some(true);
        t.merge_latest_now(stale);
        assert_eq!(t.conversation.summary.window_expires_at, reopened);
        assert_eq!(t.conversation.summary.last_message_at, Some(at(30)));
        assert!(
            t.conversation.summary.opted_out(),
            "the rest is the server's"
        );

        // An answer made after it is the server's word, even a shorter window.
        let mut fresh = whatsapp(Some(at(31)), Some(at(30))).conversation;
        fresh.messages = vec![m];
        t.merge_latest_now(fresh);
        assert_eq!(t.conversation.summary.window_expires_at, Some(at(31)));
    }
}
