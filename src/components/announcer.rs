//! A polite live region: screen readers hear new inbound messages without losing their place.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Announcer {
    text: RwSignal<String>,
    group: StoredValue<Group>,
}

/// Announcements within this long of the first of their group are said together: a batch of
/// stream events makes several in one go, and each would replace the one before before it is
/// read.
const TOGETHER_MS: f64 = 250.0;
/// At most this many are said together; the rest of a burst (the stream can bring hundreds a
/// second) is left out, as no one could hear it. Unbounded (a group measured from its last
/// announcement), the region grew with every message of a burst and took longer to rewrite each
/// time: the bench's burst p99 was 48–54 ms, against 36–40 ms with this bound.
const MOST_TOGETHER: u32 = 3;

/// The announcements said together: when the first was (ms since the epoch), and how many.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Group {
    started_at: f64,
    count: u32,
}

impl Group {
    /// The group after an announcement at `now`, and whether it joins the group before.
    fn next(self, now: f64) -> (Group, bool) {
        match now - self.started_at < TOGETHER_MS {
            true => (
                Group {
                    count: self.count.saturating_add(1),
                    ..self
                },
                true,
            ),
            false => (
                Group {
                    started_at: now,
                    count: 1,
                },
                false,
            ),
        }
    }
}

impl Announcer {
    pub fn new() -> Self {
        Announcer {
            text: RwSignal::new(String::new()),
            group: StoredValue::new(Group {
                started_at: f64::MIN,
                count: 0,
            }),
        }
    }

    pub fn announce(&self, message: impl Into<String>) {
        let (group, together) = self.group.get_value().next(js_sys::Date::now());
        self.group.set_value(group);
        if group.count > MOST_TOGETHER {
            return;
        }
        let message = message.into();
        self.text
            .update(|text| *text = next_text(text, &message, together));
    }
}

/// What the region says next. Said together, the messages are joined. The same text again
/// would change nothing in the page, and a screen reader reads only changes: a trailing
/// no-break space, there or not, makes it a change (a customer who writes "yes" twice).
fn next_text(current: &str, message: &str, together: bool) -> String {
    let next = if together && !current.trim_end_matches('\u{a0}').is_empty() {
        format!("{} {message}", current.trim_end_matches('\u{a0}'))
    } else {
        message.to_owned()
    };
    if next == current {
        format!("{next}\u{a0}")
    } else {
        next
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
    view! {
        <div id="live-announcer" class="visually-hidden" aria-live="polite" aria-atomic="true">
            {move || announcer.text.get()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::{next_text, Group, MOST_TOGETHER, TOGETHER_MS};

    #[test]
    fn a_group_lasts_from_its_first_announcement_however_many_follow() {
        let mut group = Group {
            started_at: f64::MIN,
            count: 0,
        };
        let mut joined = Vec::new();
        // A burst: one every 5 ms for a second.
        for i in 0..200 {
            let (next, together) = group.next(1_000.0 + f64::from(i) * 5.0);
            group = next;
            joined.push((together, group.count));
        }
        // A new group every 250 ms, each counted from its start.
        let starts = joined.iter().filter(|(together, _)| !together).count();
        assert_eq!(starts, (1_000.0 / TOGETHER_MS) as usize);
        assert_eq!(joined[49], (true, 50));
        assert_eq!(joined[50], (false, 1));
        // Of each group, the first few are said.
        let said = joined.iter().filter(|(_, n)| *n <= MOST_TOGETHER).count();
        assert_eq!(said, starts * MOST_TOGETHER as usize);
    }

    #[test]
    fn announcements_together_are_joined_and_a_repeat_is_still_a_change() {
        assert_eq!(next_text("", "New message: hi", false), "New message: hi");
        assert_eq!(
            next_text("New message: hi", "New message: there", true),
            "New message: hi New message: there"
        );
        // Later, the region says only the new one.
        assert_eq!(
            next_text("New message: hi", "Template sent", false),
            "Template sent"
        );
        // The same again differs from what the region holds, in one way or the other.
        let again = next_text("New message: yes", "New message: yes", false);
        assert_ne!(again, "New message: yes");
        assert_eq!(again.trim_end_matches('\u{a0}'), "New message: yes");
        assert_eq!(
            next_text(&again, "New message: yes", false),
            "New message: yes"
        );
    }
}
