//! Runtime configuration, fetched from `config.json` next to `index.html` at start-up so that one
//! build serves every deployment.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::embed::page_origin;

pub const DEFAULT_API_BASE_URL: &str = "https://api.voicebip.com/v1";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub api_base_url: String,
    /// Parent origins allowed to hand a key to the embedded console. Never `*`.
    pub embed_allowed_origins: Vec<String>,
    /// How often the inbox refreshes its first page while visible.
    pub inbox_poll_seconds: u32,
}

/// `config.json` as written, each field kept as its JSON text to be read on its own: one field a
/// deployment got wrong (a number written as a string, say) falls back to its default, and is
/// named, rather than taking the whole file with it, the API's address among it.
#[derive(Deserialize)]
struct WireConfig {
    #[serde(default, deserialize_with = "as_written")]
    api_base_url: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "as_written")]
    embed_allowed_origins: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "as_written")]
    inbox_poll_seconds: Option<Box<RawValue>>,
}

/// A field's JSON text, `null` included (which an `Option` alone would read as absent).
fn as_written<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

/// The field read from its JSON text; `None` when absent, and, when it cannot be read (`null`
/// among such values), its `name` added to `unread`.
fn field<T: DeserializeOwned>(
    name: &'static str,
    raw: Option<Box<RawValue>>,
    unread: &mut Vec<&'static str>,
) -> Option<T> {
    serde_json::from_str(raw?.get())
        .map_err(|_| unread.push(name))
        .ok()
}

/// Whether `url` can be the API's base: an absolute `https` URL (`http` on this machine
/// alone: elsewhere the key would cross the network readable, in every request's header and
/// the stream's address), or a path on the console's own site (`/v1`). Anything else (a host
/// without its scheme, say) resolves under the console's own address, and the key would go
/// there. A path that begins with two slashes (`//host/v1`, or `/\host/v1`: browsers read `\`
/// as `/`) is another host's address. Nor with a query or a fragment, which every path after it
/// (the stream's `?token=` among them) would be cut into, nor with credentials (`user:pass@`),
/// which a browser refuses to send a request to: every request failed as unreachable.
pub fn is_api_base(url: &str) -> bool {
    if url.is_empty()
        || url
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '\\' | '?' | '#'))
    {
        return false;
    }
    let lower = url.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("https://") {
        let authority = rest.split('/').next().unwrap_or_default();
        return !authority.is_empty() && !authority.contains('@');
    }
    match lower.strip_prefix("http://") {
        Some(rest) => is_loopback(rest),
        None => url.starts_with('/') && !url.starts_with("//"),
    }
}

/// Whether the address after `http://` is this machine's: `localhost` (and its subdomains,
/// which browsers keep on the machine), `127.x.x.x` or `[::1]`, with any port.
fn is_loopback(rest: &str) -> bool {
    let host_port = rest.split('/').next().unwrap_or_default();
    // (Credentials, refused: `http://localhost@elsewhere/` goes elsewhere besides.)
    if host_port.contains('@') {
        return false;
    }
    if host_port == "[::1]" || host_port.starts_with("[::1]:") {
        return true;
    }
    let host = host_port.split(':').next().unwrap_or_default();
    let octets: Vec<&str> = host.split('.').collect();
    host == "localhost"
        || host.ends_with(".localhost")
        || (octets.len() == 4
            && octets[0] == "127"
            && octets.iter().all(|o| o.parse::<u8>().is_ok()))
}

/// How long `config.json` may go unanswered (a stalled CDN) before the defaults are used: the
/// connect screen, and an embedded console, wait for it, and would say "Loading…" for good.
const CONFIG_TIMEOUT_MS: u32 = 10_000;

fn default_base() -> String {
    DEFAULT_API_BASE_URL.to_owned()
}

/// The inbox's poll intervals taken, in seconds: quicker would spend the workspace's request
/// budget, and an hour or more is no polling (and a tab's lease of the list, 2.5 intervals,
/// would outlive a tab that died holding it for as long).
const POLL_SECONDS: std::ops::RangeInclusive<u32> = 2..=3600;

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
    /// `config.json`'s text: the configuration, and the fields that could not be read (each
    /// left at its default). Only text that is not a JSON object fails.
    pub fn parse(text: &str) -> Result<(Config, Vec<&'static str>), serde_json::Error> {
        // (serde reads a struct from an array too, by position: `[]` was every default, and
        // no word of it.)
        if !text.trim_start().starts_with('{') {
            return Err(serde::de::Error::custom("config.json is not a JSON object"));
        }
        let wire: WireConfig = serde_json::from_str(text)?;
        let mut unread = Vec::new();
        let defaults = Config::default();
        let api_base_url = match field::<String>("api_base_url", wire.api_base_url, &mut unread) {
            Some(url) if is_api_base(url.trim()) => url.trim().to_owned(),
            Some(_) => {
                unread.push("api_base_url");
                defaults.api_base_url
            }
            None => defaults.api_base_url,
        };
        let config = Config {
            api_base_url,
            embed_allowed_origins: field(
                "embed_allowed_origins",
                wire.embed_allowed_origins,
                &mut unread,
            )
            .unwrap_or(defaults.embed_allowed_origins),
            inbox_poll_seconds: match field(
                "inbox_poll_seconds",
                wire.inbox_poll_seconds,
                &mut unread,
            ) {
                Some(s) if POLL_SECONDS.contains(&s) => s,
                Some(_) => {
                    unread.push("inbox_poll_seconds");
                    defaults.inbox_poll_seconds
                }
                None => defaults.inbox_poll_seconds,
            },
        };
        Ok((config, unread))
    }

    /// The embedding origins configured that are no origin (a host without its scheme, `*`):
    /// dropped where the embedded console reads them, where the host page then waited for a
    /// console that never answered it, with nothing said.
    pub fn odd_origins(&self) -> Vec<&str> {
        self.embed_allowed_origins
            .iter()
            .map(|o| o.trim())
            .filter(|o| page_origin(o).is_none())
            .collect()
    }

    /// The embedding origins configured on plain `http` off this machine: kept (an intranet
    /// tool may be one), but anyone on the network between can serve a page as theirs and hand
    /// the console a key of its own, the operator then working in its workspace unawares.
    pub fn plain_http_origins(&self) -> Vec<String> {
        self.embed_allowed_origins
            .iter()
            .filter_map(|o| page_origin(o))
            .filter(|o| {
                o.strip_prefix("http://")
                    .is_some_and(|rest| !is_loopback(rest))
            })
            .collect()
    }

    /// Loads `config.json` relative to the document, so it works under any base path. A missing
    /// or broken file falls back to defaults: the connect screen lets the operator fix the URL.
    pub async fn load() -> (Config, Option<String>) {
        let result = async {
            // No request headers: the request must match the `<link rel="preload">` in index.html
            // to reuse it. Hosts serve config.json with `Cache-Control: no-cache` (README).
            let resp = gloo_net::http::Request::get("config.json")
                .abort_signal(Some(&web_sys::AbortSignal::timeout_with_u32(
                    CONFIG_TIMEOUT_MS,
                )))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !resp.ok() {
                return Err(format!("HTTP {}", resp.status()));
            }
            let text = resp.text().await.map_err(|e| e.to_string())?;
            Config::parse(&text).map_err(|e| e.to_string())
        }
        .await;
        match result {
            Ok((c, unread)) => {
                let mut warnings = Vec::new();
                if !unread.is_empty() {
                    let api = if unread.contains(&"api_base_url") {
                        format!(" (the API at {DEFAULT_API_BASE_URL})")
                    } else {
                        String::new()
                    };
                    let names = unread.join(", ");
                    warnings.push(format!(
                        "config.json: {names} could not be read; defaults used{api}."
                    ));
                }
                let odd = c.odd_origins();
                if !odd.is_empty() {
                    warnings.push(format!(
                        "config.json: embed_allowed_origins holds {}, which no page's origin \
                         can match: write each as https://host (with :port if not the \
                         default).",
                        odd.join(", ")
                    ));
                }
                // For whoever sets the deployment up, in the browser's console: a choice they may
                // have made (an intranet tool), not one for every operator's screen.
                let plain = c.plain_http_origins();
                if !plain.is_empty() {
                    web_sys::console::warn_1(&wasm_bindgen::JsValue::from_str(&format!(
                        "config.json: embed_allowed_origins holds {}, on plain http: anyone on \
                         the network between can pretend to be it. Use https.",
                        plain.join(", ")
                    )));
                }
                let warning = (!warnings.is_empty()).then(|| warnings.join(" "));
                (c, warning)
            }
            Err(e) => (
                Config::default(),
                Some(format!(
                    "config.json could not be read ({e}); using defaults. Reload the page to try again."
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
        let (c, unread) = Config::parse(r#"{"api_base_url":"/v1","extra":1}"#).expect("parses");
        assert_eq!(c.api_base_url, "/v1");
        assert_eq!(c.inbox_poll_seconds, 10);
        assert!(c.embed_allowed_origins.is_empty());
        assert!(unread.is_empty());
    }

    #[test]
    fn a_field_that_cannot_be_read_keeps_the_others() {
        let text = r#"{"api_base_url":"https://staging.example.com/v1",
            "inbox_poll_seconds":"15", "embed_allowed_origins":null}"#;
        let (c, unread) = Config::parse(text).expect("parses");
        assert_eq!(c.api_base_url, "https://staging.example.com/v1");
        assert_eq!(c.inbox_poll_seconds, 10);
        assert!(c.embed_allowed_origins.is_empty());
        // A `null` is no value for a field either: named, not passed over in silence.
        assert_eq!(unread, ["embed_allowed_origins", "inbox_poll_seconds"]);
        assert!(Config::parse("<html>").is_err());
        // An array is no configuration, though serde would read one by position.
        for not_an_object in ["[]", r#"["https://staging.example.com/v1"]"#, "null", "10"] {
            assert!(Config::parse(not_an_object).is_err(), "{not_an_object}");
        }
        // An interval faster than the budget allows, or that is no polling, is named.
        for (written, taken, named) in [
            ("0", 10, true),
            ("1", 10, true),
            ("2", 2, false),
            ("3600", 3600, false),
            ("3601", 10, true),
            ("4000000000", 10, true),
        ] {
            let text = format!(r#"{{"inbox_poll_seconds": {written}}}"#);
            let (c, unread) = Config::parse(&text).expect(written);
            let named_now = unread == ["inbox_poll_seconds"];
            assert_eq!(
                (c.inbox_poll_seconds, named_now),
                (taken, named),
                "{written}"
            );
        }
    }

    /// A base the key must not be sent to (resolved under the console's own address) is named
    /// and the default taken; one with spaces around it is taken trimmed.
    #[test]
    fn an_api_base_url_that_is_no_address_is_named() {
        for odd in [
            "api.voicebip.com/v1",
            "https:///v1",
            "ftp://api.example.com",
            "v1",
            "",
        ] {
            let text = format!(r#"{{"api_base_url": "{odd}"}}"#);
            let (c, unread) = Config::parse(&text).expect(odd);
            assert_eq!(c.api_base_url, DEFAULT_API_BASE_URL, "{odd}");
            assert_eq!(unread, ["api_base_url"], "{odd}");
        }
        for (written, taken) in [
            (" https://api.example.com/v1 ", "https://api.example.com/v1"),
            ("HTTP://127.0.0.1:8080/v1", "HTTP://127.0.0.1:8080/v1"),
            ("/v1", "/v1"),
        ] {
            let text = format!(r#"{{"api_base_url": "{written}"}}"#);
            let (c, unread) = Config::parse(&text).expect(written);
            assert_eq!(
                (c.api_base_url.as_str(), unread.len()),
                (taken, 0),
                "{written}"
            );
        }
        assert!(!is_api_base("https://api.example.com/v 1"));
        for elsewhere in [
            "//api.example.com/v1",
            "/\\api.example.com/v1",
            "https://\\api.example.com/v1",
            "https://user:pass@api.example.com/v1",
            "https://api.example.com/v1?region=eu",
            "https://api.example.com/v1#x",
            "/v1?x",
        ] {
            assert!(!is_api_base(elsewhere), "{elsewhere}");
        }
        assert!(is_api_base("/v1/"));
        // Without TLS, only to this machine.
        for here in [
            "http://localhost:8080/v1",
            "http://127.0.0.1/v1",
            "http://[::1]:9000/v1",
            "http://app.localhost/v1",
        ] {
            assert!(is_api_base(here), "{here}");
        }
        for elsewhere in [
            "http://api.example.com/v1",
            "http://localhost@api.example.com/v1",
            "http://user@localhost/v1",
            "http://127.0.0.1.example.com/v1",
            "http://localhost.example.com/v1",
            "http://[::1].example.com/v1",
            "http://10.0.0.5/v1",
        ] {
            assert!(!is_api_base(elsewhere), "{elsewhere}");
        }
    }
}
