//! The simulator's shared state: one `Arc<State>` per running simulator, nothing global.

use crate::clock::SimClock;
use crate::embed_host::Origins;
use crate::events::{Event, Hub};
use crate::faults::Faults;
use crate::ids::IdGen;
use crate::ratelimit::RateLimiter;
use crate::request_log::RequestLog;
use crate::store::Store;
use crate::{SeedSize, SimConfig};
use axum::http::HeaderValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

pub type AppState = Arc<State>;

pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(15);

/// Timings that tests may change at run time (`POST /sim/settings`).
pub struct Settings {
    status_step_ms: AtomicU64,
    ai_reply_delay_ms: AtomicU64,
    keepalive_ms: AtomicU64,
    /// Serve the console's `.wasm` as `application/octet-stream`, as a misconfigured host does.
    wasm_untyped: AtomicBool,
    /// Message events carry only the payload fields API.md names (`message_id`, `direction`,
    /// `text`, `body`, `status`, and `error_code`), as the real API may: no `created_at`.
    lean_payloads: AtomicBool,
    /// `config.json` is never answered, as from a CDN that stalls.
    config_stalled: AtomicBool,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub status_step_ms: Option<u64>,
    pub ai_reply_delay_ms: Option<u64>,
    pub keepalive_ms: Option<u64>,
    pub rate_limit_per_minute: Option<u32>,
    pub wasm_untyped: Option<bool>,
    pub lean_payloads: Option<bool>,
    pub config_stalled: Option<bool>,
}

impl Settings {
    fn new(config: &SimConfig) -> Self {
        Settings {
            status_step_ms: AtomicU64::new(config.status_step.as_millis() as u64),
            ai_reply_delay_ms: AtomicU64::new(config.ai_reply_delay.as_millis() as u64),
            keepalive_ms: AtomicU64::new(DEFAULT_KEEPALIVE.as_millis() as u64),
            wasm_untyped: AtomicBool::new(false),
            lean_payloads: AtomicBool::new(false),
            config_stalled: AtomicBool::new(false),
        }
    }

    pub fn config_stalled(&self) -> bool {
        self.config_stalled.load(Ordering::Relaxed)
    }

    pub fn status_step(&self) -> Duration {
        Duration::from_millis(self.status_step_ms.load(Ordering::Relaxed))
    }

    pub fn ai_reply_delay(&self) -> Duration {
        Duration::from_millis(self.ai_reply_delay_ms.load(Ordering::Relaxed))
    }

    pub fn wasm_untyped(&self) -> bool {
        self.wasm_untyped.load(Ordering::Relaxed)
    }

    pub fn keepalive(&self) -> Duration {
        // A zero interval would spin; one millisecond is the floor.
        Duration::from_millis(self.keepalive_ms.load(Ordering::Relaxed).max(1))
    }
}

pub struct State {
    pub seed: u64,
    pub size: SeedSize,
    pub api_keys: Vec<String>,
    pub dist_dir: Option<PathBuf>,
    /// `Content-Security-Policy` for console responses (`SimConfig::csp`).
    pub csp: Option<HeaderValue>,
    /// The embedding demo's origins; the allowed one is config.json's only
    /// `embed_allowed_origins` entry.
    pub embed: Option<Origins>,
    pub base_url: String,
    pub store: Mutex<Store>,
    pub hub: Arc<Hub>,
    pub clock: SimClock,
    pub ids: IdGen,
    pub settings: Settings,
    pub rate: RateLimiter,
    pub faults: Faults,
    pub log: RequestLog,
    /// Inbound messages per minute from the traffic generator (0 = off).
    pub traffic: watch::Sender<f64>,
    pub shutdown: watch::Receiver<bool>,
    /// Counts simulator-written outbound messages, to fail a fixed share of them.
    pub generated_sends: AtomicU64,
}

impl State {
    pub fn new(
        config: &SimConfig,
        store: Store,
        clock: SimClock,
        base_url: String,
        embed: Option<Origins>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        State {
            seed: config.seed,
            size: config.size,
            api_keys: config.api_keys.clone(),
            dist_dir: config.dist_dir.clone(),
            // `start` refused a policy that is not a valid header value.
            csp: config
                .csp
                .as_deref()
                .and_then(|p| HeaderValue::from_str(p).ok()),
            embed,
            base_url,
            store: Mutex::new(store),
            hub: Arc::new(Hub::default()),
            clock,
            ids: IdGen::new(config.seed),
            settings: Settings::new(config),
            rate: RateLimiter::new(config.rate_limit_per_minute),
            faults: Faults::default(),
            log: RequestLog::default(),
            traffic: watch::Sender::new(config.traffic_per_minute.max(0.0)),
            shutdown,
            generated_sends: AtomicU64::new(0),
        }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves the data usable; keep serving.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn apply_settings(&self, patch: &SettingsPatch) {
        let s = &self.settings;
        if let Some(v) = patch.status_step_ms {
            s.status_step_ms.store(v, Ordering::Relaxed);
        }
        if let Some(v) = patch.ai_reply_delay_ms {
            s.ai_reply_delay_ms.store(v, Ordering::Relaxed);
        }
        if let Some(v) = patch.keepalive_ms {
            s.keepalive_ms.store(v, Ordering::Relaxed);
        }
        if let Some(v) = patch.rate_limit_per_minute {
            self.rate.set_limit(v);
        }
        if let Some(v) = patch.wasm_untyped {
            s.wasm_untyped.store(v, Ordering::Relaxed);
        }
        if let Some(v) = patch.lean_payloads {
            s.lean_payloads.store(v, Ordering::Relaxed);
        }
        if let Some(v) = patch.config_stalled {
            s.config_stalled.store(v, Ordering::Relaxed);
        }
    }

    pub fn current_settings(&self) -> SettingsPatch {
        let s = &self.settings;
        SettingsPatch {
            status_step_ms: Some(s.status_step_ms.load(Ordering::Relaxed)),
            ai_reply_delay_ms: Some(s.ai_reply_delay_ms.load(Ordering::Relaxed)),
            keepalive_ms: Some(s.keepalive_ms.load(Ordering::Relaxed)),
            rate_limit_per_minute: Some(self.rate.limit()),
            wasm_untyped: Some(s.wasm_untyped.load(Ordering::Relaxed)),
            lean_payloads: Some(s.lean_payloads.load(Ordering::Relaxed)),
            config_stalled: Some(s.config_stalled.load(Ordering::Relaxed)),
        }
    }

    /// Resolves when the simulator is shutting down.
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.shutdown.clone();
        async move {
            // An error means the handle is gone: treat it as shutdown too.
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }

    /// Runs a background task that ends with the simulator.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let stop = self.shutdown_signal();
        tokio::spawn(async move {
            tokio::select! {
                _ = task => {}
                _ = stop => {}
            }
        });
    }

    pub fn publish(&self, conversation_id: &str, event_type: &str, mut payload: Value) -> usize {
        if let (true, Value::Object(fields)) = (
            event_type.starts_with("message.")
                && self.settings.lean_payloads.load(Ordering::Relaxed),
            &mut payload,
        ) {
            const DOCUMENTED: [&str; 6] = [
                "message_id",
                "direction",
                "text",
                "body",
                "status",
                "error_code",
            ];
            fields.retain(|k, _| DOCUMENTED.contains(&k.as_str()));
        }
        let event = Event {
            event_id: self.ids.next("evt_"),
            event_type: event_type.to_string(),
            conversation_id: conversation_id.to_string(),
            timestamp: self.clock.now(),
            payload,
        };
        self.hub.publish(&event)
    }
}
