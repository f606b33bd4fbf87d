//! Composer drafts per conversation, kept so they survive switching conversations, reloads and
//! a session the API ended (a refused key). They are kept where the key is: on this device only
//! when the operator asked to be remembered, else for the tab; signing out forgets them.

use super::storage::{self, Area};
use crate::model::ConversationId;

const PREFIX: &str = "voicebip.draft.";

fn key(id: &ConversationId) -> String {
    format!("{PREFIX}{id}")
}

fn area() -> Area {
    match super::session::remembered_on_device() {
        true => Area::Local,
        false => Area::Session,
    }
}

pub fn load(id: &ConversationId) -> String {
    storage::get(area(), &key(id)).unwrap_or_default()
}

pub fn save(id: &ConversationId, text: &str) {
    if text.is_empty() {
        storage::remove(area(), &key(id));
    } else {
        storage::set(area(), &key(id), text);
    }
}

/// Every draft, in both places: what the operator wrote stays with the operator.
pub fn forget_all() {
    for area in [Area::Session, Area::Local] {
        storage::remove_prefixed(area, PREFIX);
    }
}
