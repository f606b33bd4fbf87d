//! The WebDriver session: Chromium's capabilities, the connection, and the browser console log.

use std::path::Path;

use anyhow::{Context, Result};
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde::Deserialize;
use serde_json::json;

/// Browser window size: wide enough for the console's two-pane inbox layout.
pub const WINDOW: (u32, u32) = (1280, 900);

/// Capabilities for Debian's Chromium, headless, with a fresh profile in `profile_dir`, saving
/// downloads into `download_dir` without asking, with `extra` switches last.
pub fn capabilities(
    chromium: &Path,
    profile_dir: &Path,
    download_dir: &Path,
    extra: &[String],
) -> Capabilities {
    let mut args = vec![
        "--headless=new".to_string(),
        // Root in a container: Chromium's sandbox needs user namespaces it cannot get there.
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        // /dev/shm is small in containers; Chromium crashes tabs when it fills.
        "--disable-dev-shm-usage".into(),
        // Only the package registries are reachable: anything that phones home just stalls.
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--lang=en-US".into(),
        format!("--window-size={},{}", WINDOW.0, WINDOW.1),
        format!("--user-data-dir={}", profile_dir.display()),
    ];
    args.extend_from_slice(extra);
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": args,
            // Files the page downloads land here (ChromeDriver also enables downloads in
            // headless mode from this preference).
            "prefs": {
                "download.default_directory": download_dir.display().to_string(),
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false,
            },
        },
        // Lets `browser_log` read console errors and uncaught exceptions.
        "goog:loggingPrefs": { "browser": "ALL" },
        // axe-core on a full page can take a while on 2 cores.
        "timeouts": { "script": 60_000, "pageLoad": 60_000 },
    });
    match caps {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a json! object literal is an object"),
    }
}

/// Open a WebDriver session on the ChromeDriver at `webdriver_url`.
pub async fn connect(webdriver_url: &str, caps: Capabilities) -> Result<Client> {
    // Plain HTTP is all we need on loopback; fantoccini's TLS features would pull in OpenSSL.
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(webdriver_url)
        .await
        .with_context(|| format!("opening a WebDriver session on {webdriver_url}"))
}

/// One entry of the browser's console log, as ChromeDriver reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct LogEntry {
    /// `SEVERE` (console.error, uncaught exceptions, failed loads), `WARNING`, `INFO`, `DEBUG`.
    pub level: String,
    pub message: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: f64,
    #[serde(default)]
    pub source: Option<String>,
}

/// An endpoint (`session/{id}/<path>`) fantoccini has no method for: a ChromeDriver extension
/// (POST with a JSON body), or a W3C one it lacks (GET, no body).
#[derive(Debug)]
struct Extension {
    path: String,
    body: Option<serde_json::Value>,
}

impl WebDriverCompatibleCommand for Extension {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        match &self.body {
            Some(body) => (http::Method::POST, Some(body.to_string())),
            None => (http::Method::GET, None),
        }
    }
}

/// The browser console entries since the last call.
pub async fn browser_log(client: &Client) -> Result<Vec<LogEntry>> {
    let raw = client
        .issue_cmd(Extension {
            path: "se/log".into(),
            body: Some(json!({ "type": "browser" })),
        })
        .await
        .context("reading the browser log from ChromeDriver")?;
    serde_json::from_value(raw).context("decoding ChromeDriver's browser log")
}

/// Runs one Chrome DevTools Protocol command (`Network.setBlockedURLs`, `Profiler.start`, …) and
/// returns its result.
pub async fn cdp(
    client: &Client,
    cmd: &str,
    params: serde_json::Value,
) -> Result<serde_json::Value> {
    client
        .issue_cmd(Extension {
            path: "goog/cdp/execute".into(),
            body: Some(json!({ "cmd": cmd, "params": params })),
        })
        .await
        .with_context(|| format!("CDP {cmd}"))
}

/// The accessible name the browser computes for `element` (what a screen reader announces).
pub async fn computed_label(
    client: &Client,
    element: &fantoccini::elements::Element,
) -> Result<String> {
    let raw = client
        .issue_cmd(Extension {
            path: format!("element/{}/computedlabel", &*element.element_id()),
            body: None,
        })
        .await
        .context("asking ChromeDriver for an accessible name")?;
    serde_json::from_value(raw).context("decoding an accessible name")
}
