//! Calls back with an element each time its size changes, through a `ResizeObserver`. Its
//! callbacks run after layout, so sizes read there force no extra layout (reading one while the
//! view is still being built would), and they run on every change, the first included.

use leptos::html;
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

type Observer = (web_sys::ResizeObserver, Closure<dyn FnMut(js_sys::Array)>);

/// Watches `node` while the calling component lives.
pub fn on_resize(node: NodeRef<html::Div>, f: impl Fn(&web_sys::Element) + 'static) {
    let f = Rc::new(f);
    let observer = StoredValue::new_local(None::<Observer>);
    let disconnect = move || {
        observer.update_value(|o| {
            if let Some((ro, _)) = o.take() {
                ro.disconnect();
            }
        })
    };
    crate::state::effect(move || {
        let Some(el) = node.get() else { return };
        disconnect();
        let f = f.clone();
        let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |_: js_sys::Array| {
            if let Some(el) = node.get_untracked() {
                f(&el);
            }
        });
        if let Ok(ro) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) {
            ro.observe(&el);
            observer.set_value(Some((ro, callback)));
        }
    });
    on_cleanup(disconnect);
}
