//! Thin, failure-tolerant access to Web Storage (it can be disabled, full, or absent in a
//! sandboxed iframe: then the console doesn't remember past the page's life). A draft a store
//! refuses is kept in the page's memory instead, so that what was typed, or a failed send's
//! text put back, is still there when its conversation is shown again. (Drafts only: a key, a
//! mark or a lease kept there would shadow what other tabs store.)

use std::cell::RefCell;
use web_sys::Storage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Gone when the tab closes.
    Session,
    /// Kept on this device.
    Local,
}

fn area(which: Area) -> Option<Storage> {
    let window = web_sys::window()?;
    match which {
        Area::Session => window.session_storage().ok().flatten(),
        Area::Local => window.local_storage().ok().flatten(),
    }
}

/// Whether a `storage` event (another tab's or frame's write) is about the store `which`.
pub fn is_about(which: Area, ev: &web_sys::StorageEvent) -> bool {
    area(which)
        .zip(ev.storage_area())
        .is_some_and(|(mine, theirs)| js_sys::Object::is(&mine, &theirs))
}

thread_local! {
    /// The drafts each store refused (full, disabled, absent), for the page's life: read
    /// before it.
    /// (A list: a few drafts at most, and the list's code is in the app already.)
    static REFUSED: RefCell<[Vec<(String, String)>; 2]> = RefCell::default();
}

fn refused<T>(which: Area, f: impl FnOnce(&mut Vec<(String, String)>) -> T) -> T {
    REFUSED.with(|r| f(&mut r.borrow_mut()[which as usize]))
}

pub fn get(which: Area, key: &str) -> Option<String> {
    refused(which, |r| {
        r.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    })
    .or_else(|| area(which)?.get_item(key).ok().flatten())
}

/// Whether the store kept it (a full or disabled one does not).
pub fn set(which: Area, key: &str, value: &str) -> bool {
    let stored = area(which).is_some_and(|s| s.set_item(key, value).is_ok());
    // (The drafts only: see above.)
    if key.starts_with(super::drafts::PREFIX) {
        refused(which, |r| {
            r.retain(|(k, _)| k != key);
            if !stored {
                r.push((key.to_owned(), value.to_owned()));
            }
        });
    }
    stored
}

pub fn remove(which: Area, key: &str) {
    refused(which, |r| r.retain(|(k, _)| k != key));
    if let Some(s) = area(which) {
        let _ = s.remove_item(key);
    }
}

/// Removes every item whose key starts with `prefix`, and returns them.
pub fn take_prefixed(which: Area, prefix: &str) -> Vec<(String, String)> {
    take_where(which, |k| k.starts_with(prefix))
}

/// Removes every item whose key is `wanted`, and returns them.
pub fn take_where(which: Area, wanted: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut taken: Vec<(String, String)> = refused(which, |r| {
        let (taken, kept) = std::mem::take(r).into_iter().partition(|(k, _)| wanted(k));
        *r = kept;
        taken
    });
    let Some(s) = area(which) else {
        return taken;
    };
    // Collected first: removing while walking the indexes would skip items.
    let keys: Vec<String> = (0..s.length().unwrap_or(0))
        .filter_map(|i| s.key(i).ok().flatten())
        .filter(|k| wanted(k))
        .collect();
    let stored: Vec<(String, String)> = keys
        .into_iter()
        .filter_map(|k| {
            let value = s.get_item(&k).ok().flatten();
            let _ = s.remove_item(&k);
            value.map(|v| (k, v))
        })
        .collect();
    // (One kept in memory too is newer: it was refused after this was stored.)
    for (k, v) in stored {
        if !taken.iter().any(|(t, _)| *t == k) {
            taken.push((k, v));
        }
    }
    taken
}
