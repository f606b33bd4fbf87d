//! Reactive stores shared through context, and the browser storage behind them.

pub mod base;
pub mod browser;
pub mod config;
pub mod drafts;
pub mod embed;
pub mod notify;
pub mod send_order;
pub mod session;
pub mod storage;
pub mod tabs;
pub mod warm_start;

pub use config::Config;
pub use session::Session;

/// `Effect::new` for an effect that keeps no value between runs. Every such effect goes through
/// one boxed closure type, so the wasm has one copy of the effect machinery rather than one per
/// closure (about 600 bytes each).
pub fn effect(f: impl FnMut() + 'static) {
    erased_effect(Box::new(f));
}

#[inline(never)]
fn erased_effect(mut f: Box<dyn FnMut()>) {
    leptos::prelude::Effect::new(move |_| f());
}
