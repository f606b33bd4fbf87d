//! A shared "now" that ticks, so relative times and countdowns stay current without each row
//! running its own timer.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

const TICK_MS: u32 = 15_000;

#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<DateTime<Utc>>);

impl Clock {
    pub fn start() -> Self {
        let now = RwSignal::new(Utc::now());
        let interval = gloo_timers::callback::Interval::new(TICK_MS, move || now.set(Utc::now()));
        // The clock lives as long as the app.
        interval.forget();
        Clock(now)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.get()
    }
}

pub fn use_clock() -> Clock {
    expect_context::<Clock>()
}
