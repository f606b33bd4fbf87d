//! Runtime configuration, fetched from `config.json` next to `index.html` at start-up so that one
//! build serves every deployment.

use serde::Deserialize;

pub const DEFAULT_API_BASE_URL: &str = "https://api.voicebip.com/v1";

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Config {
    #[serde(default = "default_base")]
    pub api_base_url: String,
    /// Parent origins allowed to hand a key to the embedded console. Never `*`.
    #[serde(default)]
    pub embed_allowed_origins: Vec<String>,
    /// How often the inbox refreshes its first page while visible.
    #[serde(default = "default_poll")]
    pub inbox_poll_seconds: u32,
}

fn default_base() -> String {
    DEFAULT_API_BASE_URL.to_owned()
}

fn default_poll() -> u32 {
    10
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api_base_url: default_base(),
            embed_allowed_origins: Vec::new(),
            inbox_poll_seconds: default_poll(),
        }
    }
}

impl Config {
    /// Loads `config.json` relative to the document, so it works under any base path. A missing
    /// or broken file falls back to defaults: the connect screen lets the operator fix the URL.
    pub async fn load() -> (Config, Option<String>) {
        let result = async {
            // No request headers: the request must match the `<link rel="preload">` in index.html
            // to reuse it. Hosts serve config.json with `Cache-Control: no-cache` (README).
            let resp = gloo_net::http::Request::get("config.json")
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !resp.ok() {
                return Err(format!("HTTP {}", resp.status()));
            }
            let text = resp.text().await.map_err(|e| e.to_string())?;
            serde_json::from_str::<Config>(&text).map_err(|e| e.to_string())
        }
        .await;
        match result {
            Ok(c) => (c, None),
            Err(e) => (
                Config::default(),
                Some(format!(
                    "config.json could not be read ({e}); using defaults."
                )),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_config_takes_defaults() {
        let c: Config =
            serde_json::from_str(r#"{"api_base_url":"/v1","extra":1}"#).expect("parses");
        assert_eq!(c.api_base_url, "/v1");
        assert_eq!(c.inbox_poll_seconds, 10);
        assert!(c.embed_allowed_origins.is_empty());
    }
}
