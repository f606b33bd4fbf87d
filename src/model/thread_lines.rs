//! The thread as the operator reads it: messages and mode changes merged into lines in time
//! order, and the window of them that is rendered.
//!
//! A conversation can hold thousands of messages, and a live burst adds hundreds a minute. With
//! every line in the DOM, each new message makes the browser lay out the whole history again, so
//! only `WINDOW` lines are rendered and the window moves as the operator scrolls. It is anchored on
//! a line, not an index, so pages loaded above and messages arriving below leave what the operator
//! is reading where it is.

use super::short_sort::sort_short_by_key;
use super::thread::Thread;
use super::{AiMode, Message, MessageId, MessageStatus, ModeChange};
use std::ops::Range;

/// Lines in the DOM at most: many screens' worth, and small enough to lay out in a frame.
pub const WINDOW: usize = 150;
/// Lines the window moves by when the operator scrolls past its top or bottom: one API page.
pub const STEP: usize = 50;

/// One line of the thread, as rendered.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    Message(Message),
    /// With its place among the mode changes of the same instant (three quick handoffs within a
    /// whole second), so that each has a key of its own.
    Mode(ModeChange, u32),
}

/// Identity of a rendered line: a message is rendered again when its status moves, its
/// failure's code comes (a receipt may come without it, a refetch with it) or what it shows
/// does (a stream's payload without its text or file, a refetch with them), nothing else.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum LineKey {
    /// The id, the status, whether the code, the text, the file and the type are known, and
    /// the time (the API's, come with a page, where the stream's was implied).
    Message(MessageId, MessageStatus, [bool; 4], i64),
    Mode(i64, u32, AiMode),
}

/// A line borrowed from the thread: the whole history is ordered without copying it.
#[derive(Clone, Copy)]
pub enum LineRef<'a> {
    Message(&'a Message),
    Mode(&'a ModeChange),
}

impl Line {
    pub fn key(&self) -> LineKey {
        match self {
            Line::Message(m) => {
                let known = [
                    m.error_code.is_some(),
                    m.body.is_some(),
                    m.media_url.is_some(),
                    m.message_type.is_some(),
                ];
                LineKey::Message(
                    m.message_id.clone(),
                    m.status,
                    known,
                    m.created_at.timestamp_millis(),
                )
            }
            Line::Mode(r, nth) => LineKey::Mode(r.timestamp.timestamp_millis(), *nth, r.to_mode),
        }
    }
}

impl<'a> LineRef<'a> {
    /// The message on this line, if it is one. Windows start on messages: their ids are stable,
    /// where a mode change's record can be replaced by the server's, with another timestamp.
    fn message_id(self) -> Option<&'a MessageId> {
        match self {
            LineRef::Message(m) => Some(&m.message_id),
            LineRef::Mode(_) => None,
        }
    }
}

/// The lines to render: those of `all` in `span`.
pub fn to_lines(all: &[LineRef<'_>], span: Range<usize>) -> Vec<Line> {
    // A mode change's place among those of its instant counts from the first of them, which
    // may lie above the window (its key must not change as the window moves).
    let instant = |l: &LineRef<'_>| match l {
        LineRef::Mode(r) => Some(r.timestamp),
        LineRef::Message(_) => None,
    };
    let first = all.get(span.start).and_then(instant);
    let above = all[..span.start]
        .iter()
        .rev()
        .take_while(|l| first.is_some() && instant(l) == first)
        .count();
    let mut last_mode = None;
    let mut nth = 0;
    all[span.start - above..span.end]
        .iter()
        .map(|l| match *l {
            LineRef::Message(m) => Line::Message(m.clone()),
            LineRef::Mode(r) => {
                nth = if last_mode == Some(r.timestamp) {
                    nth + 1
                } else {
                    0
                };
                last_mode = Some(r.timestamp);
                Line::Mode(r.clone(), nth)
            }
        })
        .skip(above)
        .collect()
}

/// Every loaded line, oldest first. A message and a mode change at the same instant: the message
/// first. Mode changes older than the oldest loaded message wait for the page they belong to.
pub fn line_refs(thread: &Thread) -> Vec<LineRef<'_>> {
    let oldest = thread.messages().next().map(|m| m.created_at);
    let cutoff = thread.older_token.as_ref().and(oldest);
    let mut modes: Vec<&ModeChange> = thread
        .conversation
        .mode_history
        .iter()
        .filter(|r| cutoff.is_none_or(|c| r.timestamp >= c))
        .collect();
    sort_short_by_key(&mut modes, |r| r.timestamp);
    let mut modes = modes.into_iter().peekable();
    let mut lines = Vec::with_capacity(thread.len() + modes.len());
    for m in thread.messages() {
        while let Some(r) = modes.next_if(|r| r.timestamp < m.created_at) {
            lines.push(LineRef::Mode(r));
        }
        lines.push(LineRef::Message(m));
    }
    lines.extend(modes.map(LineRef::Mode));
    lines
}

/// Which lines are rendered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Window {
    /// The newest lines, following new ones as they arrive.
    #[default]
    Live,
    /// From the oldest loaded line down, while the operator is at the top: an older page loaded
    /// above shows at the top.
    Oldest,
    /// From this message down: lines arriving above or below do not move it.
    From(MessageId),
}

impl Window {
    /// The indexes into `lines` that are rendered. A message that is gone (the thread was
    /// replaced) falls back to the newest lines.
    pub fn span(&self, lines: &[LineRef<'_>]) -> Range<usize> {
        let total = lines.len();
        let last_full = total.saturating_sub(WINDOW);
        let start = match self {
            Window::Live => last_full,
            Window::Oldest => 0,
            Window::From(id) => lines
                .iter()
                .position(|l| l.message_id() == Some(id))
                .map_or(last_full, |i| i.min(last_full)),
        };
        start..(start + WINDOW).min(total)
    }

    /// The window `STEP` lines earlier than `span`: `Oldest` once it reaches the oldest line.
    pub fn earlier(span: Range<usize>, lines: &[LineRef<'_>]) -> Window {
        match span.start.saturating_sub(STEP) {
            0 => Window::Oldest,
            start => Window::starting_at(start, lines),
        }
    }

    /// The window `STEP` lines later than `span`: live once it would reach the newest line.
    pub fn later(span: Range<usize>, lines: &[LineRef<'_>]) -> Window {
        let start = span.start + STEP;
        if start + WINDOW >= lines.len() {
            Window::Live
        } else {
            Window::starting_at(start, lines)
        }
    }

    /// The same lines as `span`, held: neither new lines below nor an older page above move it.
    pub fn hold(span: Range<usize>, lines: &[LineRef<'_>]) -> Window {
        Window::starting_at(span.start, lines)
    }

    /// Starting at the message at or just before `start` (or the first one after it, when only
    /// mode changes come before).
    fn starting_at(start: usize, lines: &[LineRef<'_>]) -> Window {
        let before = lines.get(..=start).unwrap_or(lines).iter().rev();
        let after = lines.iter().skip(start + 1);
        match before.chain(after).find_map(|l| l.message_id()) {
            Some(id) => Window::From(id.clone()),
            None => Window::Live,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::conversation::Conversation;
    use chrono::{DateTime, TimeZone, Utc};
    use serde_json::json;

    fn at(second: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + second, 0).unwrap()
    }

    fn message(n: i64) -> serde_json::Value {
        json!({
            "message_id": format!("msg_{n:05}"),
            "direction": "inbound",
            "body": format!("m{n}"),
            "status": "received",
            "created_at": at(n).to_rfc3339(),
        })
    }

    /// A thread holding messages `range` (message n sent at second n), with mode changes at
    /// `modes` seconds, and an older page still to load if `older`.
    fn thread(range: Range<i64>, modes: &[i64], older: bool) -> Thread {
        let messages: Vec<_> = range.rev().map(message).collect();
        let history: Vec<_> = modes
            .iter()
            .map(|s| {
                json!({"from_mode": "ai", "to_mode": "human", "actor_user_id": "usr_1",
                       "timestamp": at(*s).to_rfc3339()})
            })
            .collect();
        let conversation: Conversation = serde_json::from_value(json!({
            "conversation_id": "conv_1", "agent_id": "agt_1", "channel": "sms",
            "from_number": "+15550001", "to_number": "+15550002", "ai_mode": "human",
            "created_at": at(0).to_rfc3339(),
            "mode_history": history, "messages": messages,
            "next_page_token": older.then_some("tok"),
        }))
        .unwrap();
        Thread::new(conversation)
    }

    fn labels(lines: &[LineRef<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| match l {
                LineRef::Message(m) => m.body.clone().unwrap(),
                LineRef::Mode(r) => format!("mode@{}", r.timestamp.timestamp() - 1_700_000_000),
            })
            .collect()
    }

    #[test]
    fn lines_merge_in_time_order_message_first_on_a_tie() {
        let t = thread(1..4, &[2, 0, 9], false);
        assert_eq!(
            labels(&line_refs(&t)),
            ["mode@0", "m1", "m2", "mode@2", "m3", "mode@9"]
        );
    }

    #[test]
    fn every_line_has_a_key_of_its_own_and_a_new_one_when_its_words_change() {
        // Three handoffs within one whole second.
        let t = thread(0..3, &[1, 1, 1], false);
        let refs = line_refs(&t);
        let lines = to_lines(&refs, 0..refs.len());
        let keys: std::collections::HashSet<_> = lines.iter().map(Line::key).collect();
        assert_eq!((lines.len(), keys.len()), (6, 6));
        // A window that starts among them gives them the keys they have in the whole.
        let from_third: Vec<_> = to_lines(&refs, 3..6).iter().map(Line::key).collect();
        let whole: Vec<_> = lines[3..].iter().map(Line::key).collect();
        assert!(from_third == whole);
        // A failure's code that comes after the failure.
        let Some(Line::Message(mut m)) = lines.into_iter().next() else {
            panic!("the first line is a message");
        };
        m.status = MessageStatus::Failed;
        let failed = Line::Message(m.clone()).key();
        m.error_code = Some("CARRIER_REJECTED".into());
        assert!(Line::Message(m).key() != failed);
    }

    #[test]
    fn mode_changes_older_than_the_loaded_history_wait_for_their_page() {
        let t = thread(5..8, &[2, 6], true);
        assert_eq!(labels(&line_refs(&t)), ["m5", "m6", "mode@6", "m7"]);
        let all = thread(5..8, &[2, 6], false);
        assert_eq!(labels(&line_refs(&all))[0], "mode@2");
    }

    #[test]
    fn live_renders_the_newest_lines_and_follows_new_ones() {
        let t = thread(0..40, &[], true);
        assert_eq!(Window::Live.span(&line_refs(&t)), 0..40);
        let t = thread(0..1000, &[], true);
        assert_eq!(Window::Live.span(&line_refs(&t)), 850..1000);
        let t = thread(0..1010, &[], true);
        assert_eq!(Window::Live.span(&line_refs(&t)), 860..1010);
    }

    #[test]
    fn a_held_window_stays_on_its_lines_as_new_ones_arrive() {
        let t = thread(0..1000, &[], true);
        let lines = line_refs(&t);
        let held = Window::hold(Window::Live.span(&lines), &lines);
        assert_eq!(held, Window::From(id(&lines[850])));
        let t = thread(0..1200, &[], true);
        assert_eq!(held.span(&line_refs(&t)), 850..1000);
    }

    #[test]
    fn a_window_anchored_on_a_line_stays_on_it_when_an_older_page_loads() {
        let t = thread(500..1000, &[], true);
        let lines = line_refs(&t);
        let w = Window::earlier(Window::Live.span(&lines), &lines);
        assert_eq!(w.span(&lines), 300..450);
        let t = thread(450..1000, &[], true);
        assert_eq!(
            w.span(&line_refs(&t)),
            350..500,
            "the same lines, 50 further down"
        );
    }

    fn id(line: &LineRef<'_>) -> MessageId {
        line.message_id().expect("a message line").clone()
    }

    #[test]
    fn an_older_page_shows_at_the_top_only_when_the_window_is_at_the_oldest_line() {
        let t = thread(700..1000, &[], true);
        let lines = line_refs(&t);
        let held = Window::hold(0..WINDOW, &lines);
        assert_eq!(held, Window::From(id(&lines[0])));
        let t = thread(650..1000, &[], true);
        let lines = line_refs(&t);
        assert_eq!(
            labels(&lines[held.span(&lines)])[0],
            "m700",
            "held: the page stays above"
        );
        assert_eq!(labels(&lines[Window::Oldest.span(&lines)])[0], "m650");
    }

    #[test]
    fn a_window_starts_on_a_message_not_on_a_mode_change() {
        // Line 250 is the mode change at second 250 (after m249, before m250... by time order).
        let t = thread(0..400, &[249], false);
        let lines = line_refs(&t);
        assert_eq!(labels(&lines[249..251]), ["m249", "mode@249"]);
        let held = Window::hold(250..400, &lines);
        assert_eq!(held, Window::From(MessageId::from("msg_00249")));
        assert_eq!(held.span(&lines), 249..399);
        let only_modes = thread(0..0, &[1, 2], false);
        assert_eq!(
            Window::hold(0..2, &line_refs(&only_modes)),
            Window::Live,
            "nothing to hold on to"
        );
    }

    #[test]
    fn earlier_and_later_move_by_a_step_and_later_returns_to_live() {
        let t = thread(0..400, &[], false);
        let lines = line_refs(&t);
        let mut w = Window::Live;
        let mut starts = vec![];
        for _ in 0..6 {
            w = Window::earlier(w.span(&lines), &lines);
            starts.push(w.span(&lines).start);
        }
        assert_eq!(starts, [200, 150, 100, 50, 0, 0]);
        assert_eq!(w, Window::Oldest);
        let mut ends = vec![];
        while w != Window::Live {
            w = Window::later(w.span(&lines), &lines);
            ends.push(w.span(&lines).end);
        }
        assert_eq!(ends, [200, 250, 300, 350, 400]);
    }

    #[test]
    fn a_line_that_is_gone_falls_back_to_the_newest() {
        let t = thread(0..300, &[], false);
        let gone = Window::From(MessageId::from("msg_elsewhere"));
        assert_eq!(gone.span(&line_refs(&t)), 150..300);
    }

    #[test]
    fn a_window_anchored_near_the_end_is_still_full() {
        let t = thread(0..300, &[], false);
        let lines = line_refs(&t);
        let near_end = Window::From(id(&lines[280]));
        assert_eq!(near_end.span(&lines), 150..300);
    }
}
