//! A shared "now" that ticks, so relative times and countdowns stay current without each row
//! running its own timer.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

const TICK_MS: u32 = 15_000;
/// The longest wait `wake_at` sets a timer for: a WhatsApp window's day, and some.
const LONGEST_WAKE_MS: i64 = 25 * 3_600_000;

#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<DateTime<Utc>>);

impl Clock {
    pub fn start() -> Self {
        let now = RwSignal::new(Utc::now());
        let interval = gloo_timers::callback::Interval::new(TICK_MS, move || now.set(Utc::now()));
        // The clock lives as long as the app.
        interval.forget();
        // A tab shown again reads the time at once: a hidden tab's ticks come a minute apart.
        // (Fired at the document; it reaches the window too.)
        let shown = window_event_listener_untyped("visibilitychange", move |_| now.set(Utc::now()));
        std::mem::forget(shown);
        Clock(now)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.get()
    }

    /// A timer that moves the clock on at `at`, where a tick would come up to 15 s late (a
    /// window's end, which opens or shuts the reply box); at once for a time already past that
    /// the clock, up to a tick behind, has not reached (a window that ended a few seconds before
    /// its conversation came); none for one it has, or days away. Dropped, it is cancelled.
    pub fn wake_at(&self, at: DateTime<Utc>) -> Option<gloo_timers::callback::Timeout> {
        let now = self.0;
        let ms = (at - Utc::now()).num_milliseconds();
        let behind = ms < 0 && now.get_untracked() < at;
        // (A moment after it: a timer may fire a little early. A timer, not a write now: this
        // runs in the effect that reads the time.)
        (behind || (0..LONGEST_WAKE_MS).contains(&ms)).then(|| {
            gloo_timers::callback::Timeout::new(ms.max(0) as u32 + 50, move || {
                now.try_set(Utc::now());
            })
        })
    }
}

pub fn use_clock() -> Clock {
    expect_context::<Clock>()
}
