//! Shared helpers for the contract tests: an in-process simulator on an ephemeral port, a
//! small HTTP client wrapper, and an SSE reader.

use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use std::pin::Pin;
use std::time::Duration;
use voicebip_sim::{SimConfig, SimHandle, DEMO_KEY};

pub const KEY: &str = DEMO_KEY;

/// The fields of a conversation list item, in API.md's order: the list shows exactly these, and
/// the export's columns are these. Written out here, not taken from the simulator, so a field the
/// simulator drops fails the tests.
pub const LIST_ITEM_FIELDS: [&str; 10] = [
    "conversation_id",
    "agent_id",
    "channel",
    "from_number",
    "to_number",
    "window_expires_at",
    "opt_out",
    "created_at",
    "updated_at",
    "last_message_at",
];

pub struct Sim {
    pub handle: SimHandle,
    pub base: String,
    pub http: reqwest::Client,
}

/// Timings short enough for tests.
pub fn fast_config() -> SimConfig {
    SimConfig {
        status_step: Duration::from_millis(40),
        ai_reply_delay: Duration::from_millis(80),
        ..SimConfig::default()
    }
}

pub async fn sim() -> Sim {
    sim_with(fast_config()).await
}

pub async fn sim_with(config: SimConfig) -> Sim {
    let handle = voicebip_sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts");
    let base = handle.base_url();
    Sim {
        handle,
        base,
        http: reqwest::Client::new(),
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the documented error shape with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "status of {}", self.text);
        assert_eq!(self.json["error_code"], code, "error_code of {}", self.text);
        assert!(
            self.json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "message in {}",
            self.text
        );
        let request_id = self.json["request_id"].as_str().unwrap_or("");
        assert!(
            request_id.starts_with("req_"),
            "request_id in {}",
            self.text
        );
        assert_eq!(self.header("x-request-id"), Some(request_id));
        assert!(self.json["documentation_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://")));
        let fields = self.json.as_object().map(|o| o.len());
        assert_eq!(
            fields,
            Some(4),
            "flat error body with 4 fields: {}",
            self.text
        );
    }
}

pub async fn into_resp(response: reqwest::Response) -> Resp {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        json,
    }
}

impl Sim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(KEY)
    }

    pub async fn get(&self, path: &str) -> Resp {
        into_resp(self.request(Method::GET, path).send().await.expect("GET")).await
    }

    pub async fn get_ok(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text);
        r.json
    }

    pub async fn send_json(&self, method: Method, path: &str, body: Value) -> Resp {
        into_resp(
            self.request(method, path)
                .json(&body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn patch_mode(&self, id: &str, mode: &str) -> Resp {
        self.send_json(
            Method::PATCH,
            &format!("/v1/conversations/{id}"),
            json!({ "ai_mode": mode }),
        )
        .await
    }

    /// A control endpoint (no auth).
    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self.http.request(method, self.url(path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        into_resp(req.send().await.expect("control request")).await
    }

    pub async fn info(&self) -> Value {
        self.control(Method::GET, "/sim/info", None).await.json
    }

    pub async fn agent(&self, index: usize) -> Value {
        self.info().await["agents"][index].clone()
    }

    pub async fn agent_id(&self, index: usize) -> String {
        self.agent(index).await["agent_id"]
            .as_str()
            .expect("agent_id")
            .to_string()
    }

    pub async fn inbound(&self, agent_id: &str, channel: &str, from: &str, body: &str) -> Value {
        let r = self
            .control(
                Method::POST,
                "/sim/inbound",
                Some(json!({ "agent_id": agent_id, "channel": channel, "from_number": from, "body": body })),
            )
            .await;
        assert_eq!(r.status, 200, "inbound: {}", r.text);
        r.json
    }

    pub async fn inbound_to(&self, conversation_id: &str, body: &str) -> Value {
        let r = self
            .control(
                Method::POST,
                "/sim/inbound",
                Some(json!({ "conversation_id": conversation_id, "body": body })),
            )
            .await;
        assert_eq!(r.status, 200, "inbound: {}", r.text);
        r.json
    }

    /// The message an inbound (`/sim/inbound`'s answer) made, as its conversation lists it:
    /// by id, as the AI's reply may already be the newest.
    pub async fn inbound_message(&self, inbound: &Value) -> Value {
        let id = inbound["conversation_id"]
            .as_str()
            .expect("conversation_id");
        let conv = self.get_ok(&format!("/v1/conversations/{id}")).await;
        conv["messages"]
            .as_array()
            .and_then(|all| {
                all.iter()
                    .find(|m| m["message_id"] == inbound["message_id"])
            })
            .cloned()
            .unwrap_or_else(|| panic!("{} is not in {id}", inbound["message_id"]))
    }

    /// All list items (walking every page).
    pub async fn all_conversations(&self, query: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut path = format!("/v1/conversations?page_size=100{query}");
            if let Some(t) = &token {
                path.push_str(&format!("&page_token={t}"));
            }
            let page = self.get_ok(&path).await;
            items.extend(
                page["conversations"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
            match page.get("next_page_token").and_then(Value::as_str) {
                Some(t) => token = Some(t.to_string()),
                None => return items,
            }
        }
    }

    /// A conversation matching `pred` (fetched one by one, with `ai_mode`).
    pub async fn find_conversation(&self, pred: impl Fn(&Value) -> bool) -> Value {
        for item in self.all_conversations("").await {
            let id = item["conversation_id"].as_str().unwrap_or_default();
            let full = self
                .get_ok(&format!("/v1/conversations/{id}?page_size=1"))
                .await;
            if pred(&full) {
                return full;
            }
        }
        panic!("no conversation matches");
    }

    /// A fresh WhatsApp conversation (open window, `ai` mode) with a new customer.
    pub async fn fresh_conversation(&self, channel: &str, from: &str) -> (String, Value) {
        let agent = self.agent(0).await;
        let agent_id = agent["agent_id"].as_str().unwrap().to_string();
        let r = self.inbound(&agent_id, channel, from, "Hello there").await;
        (r["conversation_id"].as_str().unwrap().to_string(), agent)
    }

    pub async fn stream(&self, conversation_id: &str) -> SseReader {
        let url = self.url(&format!(
            "/v1/conversations/{conversation_id}/stream?token={KEY}"
        ));
        let response = self.http.get(url).send().await.expect("stream request");
        assert_eq!(response.status(), 200, "stream status");
        SseReader::new(response)
    }

    pub async fn subscribers(&self, conversation_id: &str) -> u64 {
        self.control(
            Method::GET,
            &format!("/sim/conversations/{conversation_id}/subscribers"),
            None,
        )
        .await
        .json["count"]
            .as_u64()
            .unwrap_or(u64::MAX)
    }

    /// Waits until `check` holds (polling), or panics after `secs`.
    pub async fn eventually<F, Fut>(&self, secs: u64, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while tokio::time::Instant::now() < deadline {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out waiting for: {what}");
    }
}

/// One SSE frame or comment, as read off the wire.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Option<String>,
    pub comments: Vec<String>,
    pub raw: String,
}

impl Frame {
    pub fn json(&self) -> Value {
        serde_json::from_str(self.data.as_deref().unwrap_or("")).unwrap_or(Value::Null)
    }

    pub fn event_type(&self) -> String {
        self.json()["event_type"].as_str().unwrap_or("").to_string()
    }
}

type ByteStream = Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

pub struct SseReader {
    stream: ByteStream,
    buffer: String,
    pub chunks: usize,
    pub ended: bool,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        SseReader {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
            chunks: 0,
            ended: false,
        }
    }

    /// The next frame (a data frame or a comment block), or `None` at the end of the stream or
    /// after `timeout`.
    pub async fn next_frame(&mut self, timeout: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                return Some(parse_frame(&raw));
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(bytes))) => {
                    self.chunks += 1;
                    self.buffer.push_str(&String::from_utf8_lossy(&bytes));
                }
                Ok(Some(Err(_))) | Ok(None) => self.ended = true,
                Err(_) => return None,
            }
        }
    }

    /// The next data frame (skipping comments).
    pub async fn next_data(&mut self, timeout: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_frame(left).await?;
            if frame.data.is_some() {
                return Some(frame);
            }
        }
    }

    /// Data frames until one with `event_type`; panics if it does not come in time.
    pub async fn expect_event(&mut self, event_type: &str) -> Frame {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_data(left).await {
                Some(frame) if frame.event_type() == event_type => return frame,
                Some(_) => continue,
                None => panic!("no {event_type} event on the stream"),
            }
        }
    }

    /// All data frames that arrive within `window`.
    pub async fn collect_for(&mut self, window: Duration) -> Vec<Frame> {
        let deadline = tokio::time::Instant::now() + window;
        let mut frames = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return frames;
            }
            match self.next_data(left).await {
                Some(frame) => frames.push(frame),
                None => return frames,
            }
        }
    }
}

fn parse_frame(raw: &str) -> Frame {
    let mut frame = Frame {
        raw: raw.to_string(),
        ..Frame::default()
    };
    let mut data: Vec<&str> = Vec::new();
    for line in raw.lines() {
        if let Some(comment) = line.strip_prefix(':') {
            frame.comments.push(comment.trim().to_string());
        } else if let Some(v) = line.strip_prefix("id:") {
            frame.id = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("event:") {
            frame.event = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    if !data.is_empty() {
        frame.data = Some(data.join("\n"));
    }
    frame
}
