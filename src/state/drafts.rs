//! Composer drafts per conversation, kept in `localStorage` so they survive switching
//! conversations and reloads.

use super::storage::{self, Area};
use crate::model::ConversationId;

fn key(id: &ConversationId) -> String {
    format!("voicebip.draft.{id}")
}

pub fn load(id: &ConversationId) -> String {
    storage::get(Area::Local, &key(id)).unwrap_or_default()
}

pub fn save(id: &ConversationId, text: &str) {
    if text.is_empty() {
        storage::remove(Area::Local, &key(id));
    } else {
        storage::set(Area::Local, &key(id), text);
    }
}
