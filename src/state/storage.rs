//! Thin, failure-tolerant access to Web Storage (it can be disabled, full, or absent in a
//! sandboxed iframe: then the console simply doesn't remember).

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

/// Whether the store is there at all (it is not where the browser blocks the site's data).
pub fn usable(which: Area) -> bool {
    area(which).is_some()
}

pub fn get(which: Area, key: &str) -> Option<String> {
    area(which)?.get_item(key).ok().flatten()
}

pub fn set(which: Area, key: &str, value: &str) {
    if let Some(s) = area(which) {
        // A full or disabled store only costs the operator the convenience.
        let _ = s.set_item(key, value);
    }
}

pub fn remove(which: Area, key: &str) {
    if let Some(s) = area(which) {
        let _ = s.remove_item(key);
    }
}

/// Removes every item whose key starts with `prefix`, and returns them.
pub fn take_prefixed(which: Area, prefix: &str) -> Vec<(String, String)> {
    let Some(s) = area(which) else {
        return Vec::new();
    };
    // Collected first: removing while walking the indexes would skip items.
    let keys: Vec<String> = (0..s.length().unwrap_or(0))
        .filter_map(|i| s.key(i).ok().flatten())
        .filter(|k| k.starts_with(prefix))
        .collect();
    keys.into_iter()
        .filter_map(|k| {
            let value = s.get_item(&k).ok().flatten();
            let _ = s.remove_item(&k);
            value.map(|v| (k, v))
        })
        .collect()
}
