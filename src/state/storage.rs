//! Thin, failure-tolerant access to Web Storage (it can be disabled, full, or absent in a
//! sandboxed iframe: then the console doesn't remember past the page's life). What a store
//! refuses is kept in the page's memory instead, so that a draft typed, or a failed send's text
//! put back, is still there when its conversation is shown again.

use std::cell::RefCell;
use std::collections::BTreeMap;
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

thread_local! {
    /// What each store refused (full, disabled, absent), for the page's life: read before it.
    static REFUSED: RefCell<[BTreeMap<String, String>; 2]> = RefCell::default();
}

fn refused<T>(which: Area, f: impl FnOnce(&mut BTreeMap<String, String>) -> T) -> T {
    REFUSED.with(|r| f(&mut r.borrow_mut()[which as usize]))
}

/// Whether the store is there at all (it is not where the browser blocks the site's data).
pub fn usable(which: Area) -> bool {
    area(which).is_some()
}

pub fn get(which: Area, key: &str) -> Option<String> {
    refused(which, |r| r.get(key).cloned()).or_else(|| area(which)?.get_item(key).ok().flatten())
}

pub fn set(which: Area, key: &str, value: &str) {
    let stored = area(which).is_some_and(|s| s.set_item(key, value).is_ok());
    refused(which, |r| {
        if stored {
            r.remove(key);
        } else {
            r.insert(key.to_owned(), value.to_owned());
        }
    });
}

pub fn remove(which: Area, key: &str) {
    refused(which, |r| r.remove(key));
    if let Some(s) = area(which) {
        let _ = s.remove_item(key);
    }
}

/// Removes every item whose key starts with `prefix`, and returns them.
pub fn take_prefixed(which: Area, prefix: &str) -> Vec<(String, String)> {
    let mut taken: Vec<(String, String)> = refused(which, |r| {
        let keys: Vec<String> = r
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| r.remove_entry(&k))
            .collect()
    });
    let Some(s) = area(which) else {
        return taken;
    };
    // Collected first: removing while walking the indexes would skip items.
    let keys: Vec<String> = (0..s.length().unwrap_or(0))
        .filter_map(|i| s.key(i).ok().flatten())
        .filter(|k| k.starts_with(prefix))
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
