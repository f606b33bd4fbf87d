//! Embedding in another tool's page: the host hands over the key with `postMessage`, accepted only
//! from the origins `config.json` lists (never `*`); the console answers and keeps the host
//! informed (mode changes, unread count, content height).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

/// What the host may send: `{"type": "voicebip:connect", "key": "…"}`.
#[derive(Debug, Clone, PartialEq)]
pub enum HostMessage {
    Connect {
        key: String,
    },
    /// A `voicebip:connect` without a key (missing, `null`, not text): answered
    /// with an error, where the host would otherwise wait for an answer that never comes.
    ConnectWithoutKey,
}

// By hand rather than `#[serde(tag = "type")]`: an internally tagged enum buffers the object
// into serde's generic `Content` tree first, which costs the wasm a deserialiser of its own.
impl<'de> Deserialize<'de> for HostMessage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            key: Option<Box<serde_json::value::RawValue>>,
        }
        let raw = Raw::deserialize(d)?;
        match raw.kind.as_str() {
            "voicebip:connect" => Ok(raw
                .key
                .and_then(|k| serde_json::from_str::<String>(k.get()).ok())
                .map_or(HostMessage::ConnectWithoutKey, |key| HostMessage::Connect {
                    key,
                })),
            other => Err(serde::de::Error::unknown_variant(
                other,
                &["voicebip:connect"],
            )),
        }
    }
}

/// What the console tells the host.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum ConsoleMessage {
    #[serde(rename = "voicebip:ready")]
    Ready { version: u32 },
    #[serde(rename = "voicebip:connected")]
    Connected,
    #[serde(rename = "voicebip:error")]
    Error { message: String },
    #[serde(rename = "voicebip:mode_changed")]
    ModeChanged {
        conversation_id: String,
        ai_mode: String,
    },
    #[serde(rename = "voicebip:unread")]
    Unread { count: usize },
    #[serde(rename = "voicebip:height")]
    Height { height: i32 },
}

/// An origin is trusted only by match with a configured one, as browsers write origins (a
/// configured `https://Support.example.com/` is `https://support.example.com`); `*` is never
/// trusted.
pub fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    origin != "*"
        && origin != "null"
        && allowed
            .iter()
            .any(|a| a != "*" && a.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// The origin a configured entry names, as the browser writes it (an explicit default port, a
/// path, capitals and spaces around it are the browser's to drop); `None` for what no page's
/// origin can be: `*`, `null`, a host without its scheme, a wildcard host, not a URL, and one
/// written with a user name (`https://support.example.com@elsewhere.example` is the origin of
/// `elsewhere.example`, which whoever wrote it did not mean). The one rule for the origins kept
/// and for the warning that names the others (`Config::odd_origins`).
pub fn page_origin(configured: &str) -> Option<String> {
    let url = web_sys::Url::new(configured.trim()).ok()?;
    if !url.username().is_empty() || !url.password().is_empty() {
        return None;
    }
    let origin = url.origin();
    // (The URL parser takes `*` in a host, and Chromium's writes a space as `%20`; no page's
    // host has either.)
    (origin != "null" && !origin.contains(['*', '%'])).then_some(origin)
}

/// The first of the pages above the host page whose origin is not allowed (`outer`: theirs,
/// nearest first; `null` where a referrer policy hides one): a page that frames the host frames
/// the console too, and could lay its own over the console's buttons. (What a
/// `frame-ancestors` header does, for a console on static hosting that cannot send one.)
pub fn stranger_above<'a>(allowed: &[String], outer: &'a [String]) -> Option<&'a str> {
    outer
        .iter()
        .find(|o| !origin_allowed(allowed, o))
        .map(String::as_str)
}

/// The origins of the pages this one is framed in, the host page's first, where the browser
/// tells (`location.ancestorOrigins`: Chromium and Safari; `None` elsewhere); empty when not
/// framed.
fn ancestor_origins() -> Option<Vec<String>> {
    let location = web_sys::window()?.location();
    let list = js_sys::Reflect::get(&location, &JsValue::from_str("ancestorOrigins")).ok()?;
    if list.is_undefined() || list.is_null() {
        return None;
    }
    let length = js_sys::Reflect::get(&list, &JsValue::from_str("length"))
        .ok()?
        .as_f64()? as u32;
    Some(
        (0..length)
            .map(|i| {
                js_sys::Reflect::get(&list, &JsValue::from(i))
                    .ok()
                    .and_then(|o| o.as_string())
                    .unwrap_or_else(|| "null".to_owned())
            })
            .collect(),
    )
}

/// Present in context only inside the embed routes.
#[derive(Clone, Copy)]
pub struct EmbedHost {
    allowed: StoredValue<Vec<String>>,
    /// The origin that handed over the key; until then, messages go to every allowed origin
    /// (the browser delivers only to the one actually hosting us).
    pub host_origin: RwSignal<Option<String>>,
    pub rejected: RwSignal<u32>,
}

impl EmbedHost {
    /// `allowed` as configured: each is read as the browser writes an origin (an explicit
    /// default port, a path or spaces around it would otherwise never match); what is no origin
    /// (`*`, `null`, not a URL) is dropped.
    pub fn new(allowed: Vec<String>) -> Self {
        let allowed = allowed.iter().filter_map(|a| page_origin(a)).collect();
        EmbedHost {
            allowed: StoredValue::new(allowed),
            host_origin: RwSignal::new(None),
            rejected: RwSignal::new(0),
        }
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.allowed.with_value(|a| origin_allowed(a, origin))
    }

    /// Why no key is taken in this frame, if a page above the host page is not allowed (see
    /// [`stranger_above`]). The pages above stay as they are for the frame's life: any of them
    /// navigating takes this frame away with it.
    pub fn framed_by_stranger(&self) -> Option<String> {
        let ancestors = ancestor_origins()?;
        // (The host page's own is checked on each of its messages.)
        let outer = ancestors.get(1..).unwrap_or_default();
        let stranger = self
            .allowed
            .with_value(|a| stranger_above(a, outer).map(str::to_owned))?;
        let page = match stranger.as_str() {
            "null" => "a page that hides its origin".to_owned(),
            origin => format!("a page of {origin}"),
        };
        Some(format!(
            "The host page is itself inside {page}, which embed_allowed_origins does not list: \
             the console takes no key there."
        ))
    }

    /// Whether no page may hand over a key: none is configured, or none that a page's origin
    /// can match.
    pub fn allows_none(&self) -> bool {
        self.allowed.with_value(Vec::is_empty)
    }

    pub fn send(&self, msg: &ConsoleMessage) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let Ok(Some(parent)) = window.parent() else {
            return;
        };
        let Ok(value) = serde_wasm_value(msg) else {
            return;
        };
        let targets = match self.host_origin.get_untracked() {
            Some(o) => vec![o],
            // Where the browser tells the host page's origin, to it alone (or to none, not
            // framed or framed by a page not allowed): a post to any other origin is an error
            // in the browser's log. Elsewhere (or hidden by the host's referrer policy) to
            // every allowed one: the browser delivers only to the one actually hosting us.
            None => match ancestor_origins().as_deref() {
                Some([]) => Vec::new(),
                Some([parent, ..]) if parent != "null" => self
                    .allows(parent)
                    .then(|| parent.clone())
                    .into_iter()
                    .collect(),
                _ => self.allowed.get_value(),
            },
        };
        for origin in targets.iter().filter(|o| o.as_str() != "*") {
            let _ = parent.post_message(&value, origin);
        }
    }
}

/// Messages cross as plain JS objects (what hosts expect), built from their JSON form.
fn serde_wasm_value(msg: &ConsoleMessage) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(msg).map_err(|e| JsValue::from_str(&e.to_string()))?;
    js_sys::JSON::parse(&text)
}

/// Whether this page is the embedded console (its address is under `/embed`). Its key comes from
/// its host alone and lives in memory: it neither restores nor forgets a stored one.
pub fn is_embedded() -> bool {
    is_embed_path(&super::base::current_app_path())
}

/// `/embed` and what is under it, not a neighbour that starts alike: a mistyped `/embedded` is
/// the tab's own console's not-found page, signed in with its stored key.
fn is_embed_path(path: &str) -> bool {
    path.strip_prefix("/embed")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Where the inbox lives: inside the embed routes when embedded, so links stay embedded.
pub fn inbox_path() -> &'static str {
    if use_context::<EmbedHost>().is_some() {
        "/embed/inbox"
    } else {
        "/conversations"
    }
}

/// Reads a host message from a `MessageEvent`'s data (an object or a JSON string).
pub fn parse_host_message(data: &JsValue) -> Option<HostMessage> {
    let text = match data.as_string() {
        Some(s) => s,
        None => js_sys::JSON::stringify(data).ok()?.as_string()?,
    };
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_exact_configured_origins_are_trusted() {
        let allowed = vec!["https://support.example.com".to_owned(), "*".to_owned()];
        assert!(origin_allowed(&allowed, "https://support.example.com"));
        assert!(!origin_allowed(
            &allowed,
            "https://support.example.com.evil.io"
        ));
        assert!(!origin_allowed(&allowed, "http://support.example.com"));
        assert!(!origin_allowed(&allowed, "*"));
        assert!(!origin_allowed(&allowed, "null"));
        assert!(!origin_allowed(&[], "https://support.example.com"));
        // Configured as people write them: as the browser writes them.
        let written = vec!["https://Support.Example.com/".to_owned()];
        assert!(origin_allowed(&written, "https://support.example.com"));
        assert!(!origin_allowed(&written, "https://support.example.co"));
    }

    #[test]
    fn every_page_above_the_host_must_be_allowed() {
        let allowed = vec![
            "https://support.example.com".to_owned(),
            "https://crm.example.com".to_owned(),
        ];
        let outer = |o: &[&str]| o.iter().map(|o| (*o).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            stranger_above(&allowed, &[]),
            None,
            "the host page at the top"
        );
        assert_eq!(
            stranger_above(&allowed, &outer(&["https://crm.example.com"])),
            None
        );
        assert_eq!(
            stranger_above(
                &allowed,
                &outer(&["https://crm.example.com", "https://evil.example"])
            ),
            Some("https://evil.example")
        );
        // A page that hides its origin (a `no-referrer` frame) cannot be told from a stranger.
        assert_eq!(stranger_above(&allowed, &outer(&["null"])), Some("null"));
    }

    #[test]
    fn the_embed_is_its_own_path_and_what_is_under_it() {
        for embedded in [
            "/embed",
            "/embed/",
            "/embed/inbox",
            "/embed/conversations/conv_1",
        ] {
            assert!(is_embed_path(embedded), "{embedded}");
        }
        for not in [
            "/",
            "/embedded",
            "/embeds/inbox",
            "/conversations/embed",
            "/connect",
        ] {
            assert!(!is_embed_path(not), "{not}");
        }
    }

    #[test]
    fn messages_have_the_documented_shape() {
        let m = serde_json::to_value(ConsoleMessage::Unread { count: 3 }).expect("json");
        assert_eq!(m, json!({"type": "voicebip:unread", "count": 3}));
        let h: HostMessage =
            serde_json::from_value(json!({"type": "voicebip:connect", "key": "pk_test_x"}))
                .expect("parses");
        assert_eq!(
            h,
            HostMessage::Connect {
                key: "pk_test_x".into()
            }
        );
        // A connect the host sent before it had the key, or with it under another name.
        for keyless in [
            json!({"type": "voicebip:connect"}),
            json!({"type": "voicebip:connect", "key": null}),
            json!({"type": "voicebip:connect", "key": 42}),
            json!({"type": "voicebip:connect", "apiKey": "pk_test_x"}),
        ] {
            let h: HostMessage = serde_json::from_value(keyless.clone()).expect("parses");
            assert_eq!(h, HostMessage::ConnectWithoutKey, "{keyless}");
        }
        assert!(serde_json::from_value::<HostMessage>(json!({"type": "other"})).is_err());
        // A blank key is a key, refused by its check (the host's way to sign its operator out).
        let blank: HostMessage =
            serde_json::from_value(json!({"type": "voicebip:connect", "key": ""})).expect("parses");
        assert_eq!(blank, HostMessage::Connect { key: String::new() });
    }
}
