//! Per-conversation event fan-out.
//!
//! One `broadcast` channel per conversation that has subscribers, created on the first
//! subscription and removed when the last subscriber goes away, so idle conversations cost
//! nothing and a client that disconnects leaves nothing behind. Each event is rendered to its
//! SSE frame once, whatever the number of subscribers.

use crate::clock::{format_ts, Millis};
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Frames a subscriber may fall behind before it is cut off (it then reconnects and re-fetches).
const CHANNEL_CAPACITY: usize = 4096;
/// Events kept for `GET /sim/events`.
const RECENT_EVENTS: usize = 2000;

/// An event rendered as `id: evt_...\ndata: {...}\n\n`, ready to write.
#[derive(Debug)]
pub struct Frame {
    pub bytes: Bytes,
}

pub struct Event {
    pub event_id: String,
    pub event_type: String,
    pub conversation_id: String,
    pub timestamp: Millis,
    pub payload: Value,
}

impl Event {
    pub fn to_json(&self) -> Value {
        json!({
            "event_type": self.event_type,
            "conversation_id": self.conversation_id,
            "timestamp": format_ts(self.timestamp),
            "payload": self.payload,
        })
    }
}

/// SSE frame for `data`. No `event:` line: the console listens with `onmessage`, which only
/// sees the default event type.
pub fn data_frame(event_id: &str, data: &str) -> Bytes {
    let mut s = String::with_capacity(data.len() + event_id.len() + 16);
    s.push_str("id: ");
    s.push_str(event_id);
    s.push('\n');
    for line in data.split('\n') {
        s.push_str("data: ");
        s.push_str(line);
        s.push('\n');
    }
    s.push('\n');
    Bytes::from(s)
}

/// The terminal `event: error` frame.
pub fn error_frame(error_code: &str, message: &str) -> Bytes {
    let data = json!({ "error_code": error_code, "message": message }).to_string();
    Bytes::from(format!("event: error\ndata: {data}\n\n"))
}

#[derive(Default)]
pub struct Hub {
    channels: Mutex<HashMap<String, broadcast::Sender<Arc<Frame>>>>,
    recent: Mutex<VecDeque<Value>>,
}

pub struct Subscription {
    hub: Arc<Hub>,
    conversation_id: String,
    rx: Option<broadcast::Receiver<Arc<Frame>>>,
}

impl Subscription {
    pub fn receiver(&mut self) -> &mut broadcast::Receiver<Arc<Frame>> {
        self.rx.as_mut().expect("receiver lives until drop")
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut channels = self.hub.channels.lock().unwrap_or_else(|e| e.into_inner());
        // Drop the receiver under the lock so a concurrent subscribe cannot slip in between
        // the count check and the removal.
        drop(self.rx.take());
        if channels
            .get(&self.conversation_id)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            channels.remove(&self.conversation_id);
        }
    }
}

impl Hub {
    pub fn subscribe(self: &Arc<Self>, conversation_id: &str) -> Subscription {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let rx = channels
            .entry(conversation_id.to_string())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe();
        Subscription {
            hub: Arc::clone(self),
            conversation_id: conversation_id.to_string(),
            rx: Some(rx),
        }
    }

    /// Sends to the conversation's subscribers; returns how many there were.
    pub fn publish(&self, event: &Event) -> usize {
        let json = event.to_json();
        let frame = Arc::new(Frame {
            bytes: data_frame(&event.event_id, &json.to_string()),
        });
        {
            let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            if recent.len() == RECENT_EVENTS {
                recent.pop_front();
            }
            let mut logged = json;
            logged["event_id"] = Value::String(event.event_id.clone());
            recent.push_back(logged);
        }
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        match channels.get(&event.conversation_id) {
            Some(tx) => tx.send(frame).unwrap_or(0),
            None => 0,
        }
    }

    pub fn subscriber_count(&self, conversation_id: &str) -> usize {
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .get(conversation_id)
            .map_or(0, broadcast::Sender::receiver_count)
    }

    /// (conversation_id, subscribers) for every conversation with at least one.
    pub fn subscriber_counts(&self) -> Vec<(String, usize)> {
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let mut counts: Vec<_> = channels
            .iter()
            .map(|(id, tx)| (id.clone(), tx.receiver_count()))
            .collect();
        counts.sort();
        counts
    }

    pub fn recent_events(&self, conversation_id: Option<&str>) -> Vec<Value> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent
            .iter()
            .filter(|e| conversation_id.is_none_or(|id| e["conversation_id"] == id))
            .cloned()
            .collect()
    }

    pub fn clear_recent(&self) {
        self.recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(conv: &str) -> Event {
        Event {
            event_id: "evt_1".into(),
            event_type: "message.received".into(),
            conversation_id: conv.into(),
            timestamp: 0,
            payload: json!({"text": "hi"}),
        }
    }

    #[test]
    fn channels_exist_only_while_subscribed() {
        let hub = Arc::new(Hub::default());
        assert_eq!(hub.publish(&event("c1")), 0);
        let a = hub.subscribe("c1");
        let b = hub.subscribe("c1");
        assert_eq!(hub.subscriber_count("c1"), 2);
        assert_eq!(hub.publish(&event("c1")), 2);
        drop(a);
        assert_eq!(hub.subscriber_count("c1"), 1);
        drop(b);
        assert_eq!(hub.subscriber_count("c1"), 0);
        assert!(hub.subscriber_counts().is_empty());
    }

    #[test]
    fn frames_have_an_id_and_no_event_line() {
        let frame = data_frame("evt_9", "{\"a\":1}");
        assert_eq!(&frame[..], b"id: evt_9\ndata: {\"a\":1}\n\n");
        let err = error_frame("STREAM_LAGGED", "x");
        assert!(err.starts_with(b"event: error\ndata: {"));
    }
}
