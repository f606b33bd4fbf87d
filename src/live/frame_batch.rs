//! Items gathered until the next frame, then handed over in one batch: a burst of stream events
//! costs one update of the thread per frame, and each event is painted in the first frame after it
//! arrived (a timer would add up to a frame of waiting before that frame).
//!
//! `requestAnimationFrame` does not run in hidden tabs, where notifications must still go out, so
//! a timer backs each frame up: whichever comes first delivers, and the other is cancelled.

use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// How long a batch waits when no frame comes: a hidden tab, or a frame held up by other work.
pub const FALLBACK_MS: u32 = 50;

/// Dropping it drops what is waiting and delivers nothing more.
pub struct FrameBatch<T: 'static>(Rc<RefCell<State<T>>>);

struct State<T> {
    items: Vec<T>,
    deliver: Rc<dyn Fn(Vec<T>)>,
    /// One frame callback for the batch's whole life, not one per frame.
    on_frame: Closure<dyn FnMut()>,
    scheduled: Option<Scheduled>,
}

/// A delivery on its way. Dropping it cancels both of its triggers.
struct Scheduled {
    frame: Option<i32>,
    _timer: Timeout,
}

impl Drop for Scheduled {
    fn drop(&mut self) {
        if let (Some(id), Some(w)) = (self.frame, web_sys::window()) {
            let _ = w.cancel_animation_frame(id);
        }
    }
}

impl<T: 'static> FrameBatch<T> {
    pub fn new(deliver: impl Fn(Vec<T>) + 'static) -> Self {
        Self(Rc::new_cyclic(|weak: &Weak<RefCell<State<T>>>| {
            let weak = weak.clone();
            RefCell::new(State {
                items: Vec::new(),
                deliver: Rc::new(deliver),
                on_frame: Closure::new(move || flush(&weak)),
                scheduled: None,
            })
        }))
    }

    pub fn push(&self, item: T) {
        let mut state = self.0.borrow_mut();
        state.items.push(item);
        if state.scheduled.is_some() {
            return;
        }
        let weak = Rc::downgrade(&self.0);
        let timer = Timeout::new(FALLBACK_MS, move || flush(&weak));
        let frame = web_sys::window().and_then(|w| {
            w.request_animation_frame(state.on_frame.as_ref().unchecked_ref())
                .ok()
        });
        state.scheduled = Some(Scheduled {
            frame,
            _timer: timer,
        });
    }

    /// Drops what is waiting; later pushes start a new batch.
    pub fn clear(&self) {
        let mut state = self.0.borrow_mut();
        state.scheduled = None;
        state.items.clear();
    }
}

fn flush<T>(weak: &Weak<RefCell<State<T>>>) {
    let Some(state) = weak.upgrade() else { return };
    let (items, deliver) = {
        let mut state = state.borrow_mut();
        state.scheduled = None;
        (std::mem::take(&mut state.items), state.deliver.clone())
    };
    // Delivered without a borrow held: the receiver may push or clear.
    if !items.is_empty() {
        deliver(items);
    }
}
