//! Callbacks on changes to an element, through the browser's observers, for as long as the
//! calling component lives. Observer callbacks run after the change is made (a resize after
//! layout, a mutation after the DOM update), so what they read is the new state, and reading it
//! forces no extra layout while the view is still being built.

use leptos::html::ElementType;
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Calls `f` each time `node`'s size changes, the first time included.
pub fn on_resize<E>(node: NodeRef<E>, f: impl Fn(&web_sys::Element) + 'static)
where
    E: ElementType + 'static,
    E::Output: JsCast + Clone + 'static,
{
    observe::<web_sys::ResizeObserver, E>(node, f);
}

/// Calls `f` once `node` is in the DOM, then each time children are added to or removed from it.
pub fn on_children_change<E>(node: NodeRef<E>, f: impl Fn(&web_sys::Element) + 'static)
where
    E: ElementType + 'static,
    E::Output: JsCast + Clone + 'static,
{
    observe::<web_sys::MutationObserver, E>(node, f);
}

trait Observer: Sized + 'static {
    /// Whether the observer reports the state it starts in (a resize observer does).
    const REPORTS_START: bool;
    fn watch(callback: &js_sys::Function, el: &web_sys::Element) -> Option<Self>;
    fn disconnect(&self);
}

impl Observer for web_sys::ResizeObserver {
    const REPORTS_START: bool = true;
    fn watch(callback: &js_sys::Function, el: &web_sys::Element) -> Option<Self> {
        let observer = web_sys::ResizeObserver::new(callback).ok()?;
        observer.observe(el);
        Some(observer)
    }
    fn disconnect(&self) {
        web_sys::ResizeObserver::disconnect(self);
    }
}

impl Observer for web_sys::MutationObserver {
    const REPORTS_START: bool = false;
    fn watch(callback: &js_sys::Function, el: &web_sys::Element) -> Option<Self> {
        let observer = web_sys::MutationObserver::new(callback).ok()?;
        let options = web_sys::MutationObserverInit::new();
        options.set_child_list(true);
        observer.observe_with_options(el, &options).ok()?;
        Some(observer)
    }
    fn disconnect(&self) {
        web_sys::MutationObserver::disconnect(self);
    }
}

fn observe<O, E>(node: NodeRef<E>, f: impl Fn(&web_sys::Element) + 'static)
where
    O: Observer,
    E: ElementType + 'static,
    E::Output: JsCast + Clone + 'static,
{
    let f = Rc::new(f);
    let observer = StoredValue::new_local(None::<(O, Closure<dyn FnMut()>)>);
    let disconnect = move || {
        observer.update_value(|o| {
            if let Some((o, _)) = o.take() {
                o.disconnect();
            }
        })
    };
    crate::state::effect(move || {
        let Some(el) = node.get() else { return };
        disconnect();
        let el: web_sys::Element = el.unchecked_into();
        let target = el.clone();
        let report = f.clone();
        let callback = Closure::<dyn FnMut()>::new(move || report(&target));
        if let Some(o) = O::watch(callback.as_ref().unchecked_ref(), &el) {
            observer.set_value(Some((o, callback)));
        }
        if !O::REPORTS_START {
            f(&el);
        }
    });
    on_cleanup(disconnect);
}
