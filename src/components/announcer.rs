//! A polite live region: screen readers hear new inbound messages without losing their place.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Announcer {
    /// What the region says: the current group's announcements, oldest first, each with its
    /// number. Each is added as its own element, which is all a screen reader reads of a
    /// change (see [`LiveRegion`]).
    said: RwSignal<Vec<(u64, String)>>,
    /// The next announcement's number: never one the region held (an element of the same key
    /// would be kept, and not read).
    next: StoredValue<u64>,
    group: StoredValue<Group>,
    /// The news left out of the current group: how many, and the last.
    left_out: StoredValue<Option<(u32, String)>>,
}

/// Announcements within this long of the first of their group are a group, of which at most
/// [`MOST_TOGETHER`] are news.
const TOGETHER_MS: f64 = 250.0;
/// At most this many are said together; the rest of a burst of news (the stream can bring
/// hundreds of messages a second) is left out, as no one could hear it. What the operator must
/// hear (a failure, a handoff, an opt-out) is never left out for news, and the last news left
/// out is said as its group ends, so the newest message of a burst is heard. Unbounded (a group measured from its last
/// announcement), the region grew with every message of a burst and took longer to rewrite each
/// time: the bench's burst p99 was 48–54 ms, against 36–40 ms with this bound.
const MOST_TOGETHER: u32 = 3;

/// The announcements said together: when the first was (ms since the epoch), and how many.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Group {
    started_at: f64,
    count: u32,
}

/// What to do with an announcement, by its place in its group.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Say {
    /// The first of its group: the group before goes from the region (read when it came; a
    /// removal is not read), and what it left out is said with this.
    Alone,
    /// Said after the group's earlier ones.
    Together,
    /// News past [`MOST_TOGETHER`]: left out.
    Not,
}

/// Whether an announcement may be left out of a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A customer's message: the thread shows it, and the next of a burst says as much.
    News,
    /// A state or a failure the operator acts on.
    Must,
}

impl Group {
    /// The group after an announcement at `now`, and what to do with that announcement.
    fn next(self, now: f64, kind: Kind) -> (Group, Say) {
        // (A clock put back starts a group too: measured from a start in the future, the
        // group never ended, and every message after its third was left out.)
        if !(0.0..TOGETHER_MS).contains(&(now - self.started_at)) {
            let first = Group {
                started_at: now,
                count: 1,
            };
            return (first, Say::Alone);
        }
        let count = self.count.saturating_add(1);
        let say = match count > MOST_TOGETHER && kind == Kind::News {
            true => Say::Not,
            false => Say::Together,
        };
        (Group { count, ..self }, say)
    }
}

impl Announcer {
    pub fn new() -> Self {
        Announcer {
            said: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
            group: StoredValue::new(Group {
                started_at: f64::MIN,
                count: 0,
            }),
            left_out: StoredValue::new(None),
        }
    }

    /// Says `message`, whatever came just before it.
    pub fn announce(&self, message: impl Into<String>) {
        self.say(message.into(), Kind::Must);
    }

    /// Says a customer's message, unless a burst of them is already being said.
    pub fn announce_news(&self, message: impl Into<String>) {
        self.say(message.into(), Kind::News);
    }

    fn say(&self, message: String, kind: Kind) {
        let now = js_sys::Date::now();
        let (group, say) = self.group.get_value().next(now, kind);
        self.group.set_value(group);
        let message = match say {
            Say::Not => return self.leave_out(message, group.started_at + TOGETHER_MS - now),
            // What the group before left out comes first, where the group ending would say it
            // after this newer one.
            Say::Alone => match self.left_out.try_update_value(Option::take).flatten() {
                Some((count, last)) => format!("{} {message}", left_out_text(count, last)),
                None => message,
            },
            Say::Together => message,
        };
        let number = self.next.get_value();
        self.next.set_value(number + 1);
        self.said
            .update(|said| add_said(said, (number, message), say == Say::Alone));
    }
}

impl Announcer {
    /// Keeps news left out of a burst; the first left out of its group sets the last to be said
    /// in `wait_ms`, as the group ends (or before the next group's first, should that come
    /// sooner): without it the burst's newest went unheard.
    fn leave_out(&self, message: String, wait_ms: f64) {
        let first = self.left_out.with_value(Option::is_none);
        self.left_out.update_value(|left| {
            let count = left.as_ref().map_or(0, |(n, _)| *n) + 1;
            *left = Some((count, message));
        });
        if !first {
            return;
        }
        let this = *self;
        gloo_timers::callback::Timeout::new(
            wait_ms.clamp(0.0, TOGETHER_MS) as u32 + 1,
            move || {
                // (Not after a sign-out cleared the region, nor once the page has gone.)
                if let Some(Some((count, last))) = this.left_out.try_update_value(Option::take) {
                    this.say(left_out_text(count, last), Kind::Must);
                }
            },
        )
        .forget();
    }
}

/// What is said for the news a group left out: how many came before the last of it (its own
/// sentence, not run into a customer's words), and the last.
fn left_out_text(count: u32, last: String) -> String {
    match count {
        0 | 1 => last,
        n => format!("{} more came before this one. {last}", n - 1),
    }
}

/// A region's text for the `nth` time it is said: the same words again would change nothing in
/// the page, and a screen reader reads only changes, so every other time they end in a no-break
/// space (a refusal said again on the same press: the connect screen's, the export's).
pub fn said_anew(text: String, nth: u32) -> String {
    if nth % 2 == 1 {
        text + "\u{a0}"
    } else {
        text
    }
}

/// The region's announcements with `message` (numbered) added: its own element,
/// so that a screen reader reads it alone. (Joined to the text said a moment before, in one
/// element read whole, the earlier words were read again; and the same words again, a customer
/// who writes "yes" twice, are an element added all the same.) The first of a group
/// (`starts_group`) takes the last group's place.
fn add_said(said: &mut Vec<(u64, String)>, message: (u64, String), starts_group: bool) {
    if starts_group {
        said.clear();
    }
    said.push(message);
}

impl Announcer {
    /// Says nothing more: what it said (a customer's message) is not left in the page for the
    /// next screen (the connect screen, after a sign-out) to be read there.
    pub fn clear(&self) {
        self.left_out.set_value(None);
        self.said.set(Vec::new());
    }
}

impl Default for Announcer {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_announcer() -> Announcer {
    expect_context::<Announcer>()
}

#[component]
pub fn LiveRegion() -> impl IntoView {
    let announcer = use_announcer();
    if let Some(session) = use_context::<crate::state::session::Session>() {
        let signed_in = Memo::new(move |_| session.client.with(Option::is_some));
        crate::state::effect(move || {
            if !signed_in.get() {
                announcer.clear();
            }
        });
    }
    // Each announcement its own element, of which a screen reader reads what is added: not
    // the whole region again (`aria-atomic`), nor what is taken out. (Kept by hand: a keyed
    // `For` of its own cost the start 3 KiB gzip, for a list of a few texts.)
    let region = NodeRef::<leptos::html::Div>::new();
    crate::state::effect(move || {
        announcer.said.track();
        if let Some(region) = region.get() {
            announcer.said.with(|said| show_said(&region, said));
        }
    });
    view! {
        <div id="live-announcer" class="visually-hidden" aria-live="polite" aria-atomic="false" aria-relevant="additions" node_ref=region></div>
    }
}

/// The region's elements made what `said` holds: those it no longer holds taken out, those it
/// holds newly added after the rest (each named by its number), none made again.
fn show_said(region: &web_sys::HtmlElement, said: &[(u64, String)]) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let children = region.children();
    let mut shown = Vec::new();
    for i in (0..children.length()).rev() {
        let Some(child) = children.item(i) else {
            continue;
        };
        match said.iter().find(|(n, _)| child.id() == said_id(*n)) {
            Some((n, _)) => shown.push(*n),
            None => child.remove(),
        }
    }
    for (n, text) in said.iter().filter(|(n, _)| !shown.contains(n)) {
        if let Ok(p) = document.create_element("p") {
            p.set_id(&said_id(*n));
            p.set_text_content(Some(text));
            let _ = region.append_child(&p);
        }
    }
}

fn said_id(n: u64) -> String {
    format!("said-{n}")
}

#[cfg(test)]
mod tests {
    use super::{add_said, Group, Kind, Say, MOST_TOGETHER, TOGETHER_MS};

    #[test]
    fn a_group_lasts_from_its_first_announcement_and_says_at_most_a_few() {
        let mut group = Group {
            started_at: f64::MIN,
            count: 0,
        };
        let mut said = Vec::new();
        // A burst: one every 5 ms for a second.
        for i in 0..200 {
            let (next, say) = group.next(1_000.0 + f64::from(i) * 5.0, Kind::News);
            group = next;
            said.push(say);
        }
        // A new group every 250 ms, each counted from its start, however many follow.
        let starts = said.iter().filter(|s| **s == Say::Alone).count();
        assert_eq!(starts, (1_000.0 / TOGETHER_MS) as usize);
        assert_eq!(said[50], Say::Alone);
        // Of each group, the first and the next few are said; the rest are left out.
        let joined = said.iter().filter(|s| **s == Say::Together).count();
        assert_eq!(joined, starts * (MOST_TOGETHER as usize - 1));
        assert_eq!(
            said[1..MOST_TOGETHER as usize],
            [Say::Together, Say::Together]
        );
        assert_eq!(said[MOST_TOGETHER as usize], Say::Not);
        // What the operator must hear is said past them, joined to the group.
        assert_eq!(group.next(1_996.0, Kind::Must).1, Say::Together);
        assert_eq!(group.next(1_996.0, Kind::News).1, Say::Not);
        // The clock put back a minute: a new group, not one that never ends.
        assert_eq!(group.next(1_996.0 - 60_000.0, Kind::News).1, Say::Alone);
    }

    #[test]
    fn each_announcement_is_added_alone_and_the_region_keeps_its_group() {
        let yes = "New message from the customer: yes";
        let mut said = Vec::new();
        add_said(&mut said, (0, yes.into()), true);
        add_said(&mut said, (1, yes.into()), false);
        // The same words again: another element, not the first one's text joined or unchanged.
        assert_eq!(said, [(0, yes.to_owned()), (1, yes.to_owned())]);
        // The next group takes its place.
        add_said(&mut said, (2, "Template sent".into()), true);
        assert_eq!(said, [(2, "Template sent".to_owned())]);
    }
}
