//! The Voicebip API simulator: an in-memory implementation of the Conversations contract
//! (`shared/API.md`) with control endpoints under `/sim` for tests and demos.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = voicebip_sim::start(Default::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("{} key {}", sim.base_url(), voicebip_sim::DEMO_KEY);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Nothing is global: every simulator owns its state, so tests run many side by side.

mod auth;
mod clock;
mod control;
mod conversations;
mod cors;
mod embed_host;
mod engine;
mod error;
mod events;
mod export;
mod extract;
mod faults;
mod ids;
mod limits;
mod messages;
mod model;
mod pagination;
mod phrases;
mod ratelimit;
mod request_log;
mod routes;
mod seed;
mod serve_console;
mod sse;
mod state;
mod store;
mod traffic;

pub mod segments;

use state::{AppState, State};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use clock::parse_ts;
pub use export::EXPORT_LIMIT;
pub use seed::{BIG_THREAD_MESSAGES, DEMO_CONVERSATIONS, LARGE_CONVERSATIONS};
pub use serve_console::{is_content_hashed, precompressed_original, PRECOMPRESSED};

/// The key the simulator accepts by default.
pub const DEMO_KEY: &str = "pk_test_demo_voicebip";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeedSize {
    /// 3 agents, 300 conversations.
    #[default]
    Demo,
    /// 10,000 conversations, one of them with a 5,000-message thread (`big_thread_id` in
    /// `/sim/info`).
    Large,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of the generated data; the same seed gives the same data.
    pub seed: u64,
    pub size: SeedSize,
    /// Accepted API keys.
    pub api_keys: Vec<String>,
    /// Live traffic: customer messages per minute (0 = off).
    pub traffic_per_minute: f64,
    /// A built console to serve on every non-API path.
    pub dist_dir: Option<PathBuf>,
    /// Requests per minute for the (single) workspace.
    pub rate_limit_per_minute: u32,
    /// How long the hosted-AI stand-in takes to answer.
    pub ai_reply_delay: Duration,
    /// Time between outbound status steps (queued → sent → delivered → read).
    pub status_step: Duration,
    /// Sent as `Content-Security-Policy` on every console response (index.html, assets, the
    /// single-page fallback, config.json), to prove the built console runs under it.
    pub csp: Option<String>,
    /// Also serve the embedding demo: a host page that iframes the console on a second
    /// loopback origin (listed as the only `embed_allowed_origins` in the console's
    /// config.json), and the same page on a third, foreign origin that is not allowed.
    pub embed_host: bool,
    /// Port of the allowed host page (0: any free port). The foreign one always takes a free
    /// port.
    pub embed_host_port: u16,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            size: SeedSize::Demo,
            api_keys: vec![DEMO_KEY.into()],
            traffic_per_minute: 0.0,
            dist_dir: None,
            rate_limit_per_minute: 5000,
            ai_reply_delay: Duration::from_millis(1500),
            status_step: Duration::from_millis(700),
            csp: None,
            embed_host: false,
            embed_host_port: 0,
        }
    }
}

/// A running simulator. Dropping it stops it too; `shutdown` also waits for the server.
pub struct SimHandle {
    addr: SocketAddr,
    state: AppState,
    embed: Option<embed_host::Origins>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (no trailing slash; the API is under `/v1`).
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// Publishes a raw event to a conversation's stream subscribers, as
    /// `POST /sim/conversations/{id}/events` does; returns how many subscribers it reached.
    pub fn publish_event(
        &self,
        conversation_id: &str,
        event_type: &str,
        payload: serde_json::Value,
    ) -> usize {
        self.state.publish(conversation_id, event_type, payload)
    }

    /// Current stream subscribers of a conversation.
    pub fn subscriber_count(&self, conversation_id: &str) -> usize {
        self.state.hub.subscriber_count(conversation_id)
    }

    /// The embedding demo's host page (`http://127.0.0.1:PORT/`), whose origin is the one
    /// `embed_allowed_origins` lists; `None` unless `SimConfig::embed_host`.
    pub fn embed_host_url(&self) -> Option<String> {
        self.embed
            .as_ref()
            .map(|e| format!("{}/", e.allowed_origin))
    }

    /// The same host page on an origin the console does not allow; `None` unless
    /// `SimConfig::embed_host`.
    pub fn foreign_host_url(&self) -> Option<String> {
        self.embed
            .as_ref()
            .map(|e| format!("{}/", e.foreign_origin))
    }

    /// The Large seed's 5,000-message conversation.
    pub fn big_thread_id(&self) -> Option<String> {
        self.state.store().big_thread_id.clone()
    }

    /// Stops accepting connections, ends open streams, and waits (at most 5 s) for the
    /// server to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn base_url_for(addr: SocketAddr) -> String {
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}", addr.port())
}

/// Seeds the data, binds `addr` (port 0 picks a free port) and serves until shut down.
pub async fn start(config: SimConfig, addr: SocketAddr) -> std::io::Result<SimHandle> {
    if let Some(policy) = &config.csp {
        if axum::http::HeaderValue::from_str(policy).is_err() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the CSP is not a valid header value: {policy:?}"),
            ));
        }
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    // The embedding demo's listeners are bound first, so config.json knows the host origin.
    let embed_listeners = if config.embed_host {
        let allowed =
            tokio::net::TcpListener::bind(SocketAddr::new(addr.ip(), config.embed_host_port))
                .await?;
        let foreign = tokio::net::TcpListener::bind(SocketAddr::new(addr.ip(), 0)).await?;
        let origins = embed_host::Origins {
            allowed_origin: base_url_for(allowed.local_addr()?),
            foreign_origin: base_url_for(foreign.local_addr()?),
        };
        Some((allowed, foreign, origins))
    } else {
        None
    };
    let embed = embed_listeners.as_ref().map(|(_, _, o)| o.clone());
    let clock = clock::SimClock::default();
    let now = clock.now();
    let (seed, size) = (config.seed, config.size);
    // Seeding the Large size takes a moment: keep it off the async worker threads.
    let store = tokio::task::spawn_blocking(move || seed::generate(seed, size, now))
        .await
        .map_err(std::io::Error::other)?;

    let (stop, stop_rx) = watch::channel(false);
    let state: AppState = Arc::new(State::new(
        &config,
        store,
        clock,
        base_url_for(addr),
        embed.clone(),
        stop_rx,
    ));
    state.spawn(engine::window_ticker(state.clone()));
    state.spawn(traffic::run(state.clone()));

    let app = routes::router(state.clone());
    let mut servers = vec![tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(state.shutdown_signal())
            .into_future(),
    )];
    if let Some((allowed, foreign, origins)) = embed_listeners {
        let key = config
            .api_keys
            .first()
            .cloned()
            .unwrap_or_else(|| DEMO_KEY.into());
        for (listener, role) in [
            (allowed, embed_host::Role::Allowed),
            (foreign, embed_host::Role::Foreign),
        ] {
            let page = embed_host::router(embed_host::HostPage {
                console_origin: state.base_url.clone(),
                allowed_host_origin: origins.allowed_origin.clone(),
                key: key.clone(),
                role,
            });
            servers.push(tokio::spawn(
                axum::serve(listener, page)
                    .with_graceful_shutdown(state.shutdown_signal())
                    .into_future(),
            ));
        }
    }
    let server = tokio::spawn(async move {
        for server in servers {
            let _ = server.await;
        }
    });
    Ok(SimHandle {
        addr,
        state,
        embed,
        stop,
        server: Some(server),
    })
}
