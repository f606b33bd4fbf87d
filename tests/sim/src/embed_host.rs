//! The embedding demo (`SimConfig::embed_host`): a stand-in for a support tool that embeds the
//! console in an iframe and signs it in over `postMessage`, served on its own loopback origin.
//! The same page also runs on a third, foreign origin that the console does not allow, to show
//! (and test) that such a page gets nothing.
//!
//! `GET /` is the page (HTML, no inline script, under its own strict CSP), `GET /host.js` and
//! `GET /host.css` what it loads. Query parameters: `path` (the console route to embed, default
//! `/embed/inbox`; only `/embed/...`), `width` (iframe width in px, default 360).
//! `GET /outer?path=…` is a page that frames the allowed host page (`#outer-frame`, the same
//! `path`): on the foreign origin, a stranger laying its page over the console's host.
//!
//! The page iframes `<console origin><path>`, waits for `voicebip:ready` from the console
//! origin, answers with `{type: "voicebip:connect", key}` (the key field, prefilled with the
//! simulator's first key) sent to the console origin only, sizes the iframe from
//! `voicebip:height`, and logs every message it receives, from anyone: one `li` per message in
//! `#host-log` (the data as JSON, `data-origin` and `data-type` attributes) and one
//! `{origin, data}` entry in `window.hostMessages`. `#host-connect` sends the key again (or for
//! the first time on the foreign page, which never hears `voicebip:ready`); `#host-status`
//! (`data-state`: `loading`, `ready`, `connected`, `error`, `no-ready`) says where it stands.

use axum::extract::Query;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

/// The origins of the two host pages.
#[derive(Debug, Clone)]
pub struct Origins {
    /// `http://127.0.0.1:PORT`: the console's only `embed_allowed_origins` entry.
    pub allowed_origin: String,
    /// `http://127.0.0.1:PORT`: not allowed.
    pub foreign_origin: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Allowed,
    Foreign,
}

pub struct HostPage {
    /// Where the console is served (`http://127.0.0.1:PORT`, no trailing slash).
    pub console_origin: String,
    /// The allowed host page's origin, which `/outer` frames.
    pub allowed_host_origin: String,
    /// Prefilled in the key field.
    pub key: String,
    pub role: Role,
}

pub fn router(page: HostPage) -> Router {
    let page = Arc::new(page);
    let html = {
        let page = page.clone();
        move || {
            let page = page.clone();
            async move { html_page(&page) }
        }
    };
    let outer = {
        let page = page.clone();
        move |query: Query<OuterQuery>| {
            let page = page.clone();
            async move { outer_page(&page, &query.path) }
        }
    };
    Router::new()
        .route("/", get(html))
        .route("/outer", get(outer))
        .route(
            "/host.js",
            get(|| async { asset("text/javascript; charset=utf-8", HOST_JS) }),
        )
        .route(
            "/host.css",
            get(|| async { asset("text/css; charset=utf-8", HOST_CSS) }),
        )
        // No icon, and no 404 for the browser to log either.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "not found: this is the embedding demo\n",
            )
        })
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn html_page(page: &HostPage) -> Response {
    let (title, explanation) = match page.role {
        Role::Allowed => (
            "Support desk (embedding demo: allowed host)",
            "This page's origin is the one the console's config.json lists in \
             <code>embed_allowed_origins</code>, so the console accepts the key it hands over.",
        ),
        Role::Foreign => (
            "Support desk (embedding demo: foreign host)",
            "This page's origin is <strong>not</strong> in the console's \
             <code>embed_allowed_origins</code>: the console ignores (and counts) what it \
             sends, and tells it nothing.",
        ),
    };
    let role = match page.role {
        Role::Allowed => "allowed",
        Role::Foreign => "foreign",
    };
    let body = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/host.css">
<script src="/host.js" defer></script>
</head>
<body data-console-origin="{origin}" data-role="{role}">
<header class="host-header">
<h1>{title}</h1>
<p>{explanation}</p>
</header>
<main class="host-main">
<section class="host-ticket" aria-labelledby="ticket-title">
<h2 id="ticket-title">Ticket #4821: order not delivered</h2>
<p>The customer wrote in on WhatsApp; the Voicebip console beside this ticket shows the
conversations and lets the agent take over from the AI.</p>
<form id="host-form">
<label for="host-key">Voicebip API key</label>
<input id="host-key" name="key" value="{key}" autocomplete="off" spellcheck="false">
<button type="submit" id="host-connect">Connect the console</button>
</form>
<p id="host-status" role="status" data-state="loading">Loading the console…</p>
<h2>Messages from the console</h2>
<ul id="host-log"></ul>
</section>
<aside class="host-console" aria-label="Voicebip console">
<iframe id="console-frame" title="Voicebip console"></iframe>
</aside>
</main>
</body>
</html>
"#,
        origin = escape(&page.console_origin),
        key = escape(&page.key),
    );
    // `'self'` among the frames: the widget (`?widget_key=`).
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         frame-src {} 'self'; base-uri 'none'; form-action 'none'; object-src 'none'",
        page.console_origin
    );
    page_response(body, &policy)
}

/// An HTML page, revalidated at each load, under `policy`.
fn page_response(body: String, policy: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

#[derive(serde::Deserialize)]
struct OuterQuery {
    #[serde(default)]
    path: String,
}

/// A page framing the allowed host page, which frames the console.
fn outer_page(page: &HostPage, path: &str) -> Response {
    let path = if path.starts_with("/embed/")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_/-".contains(c))
    {
        path
    } else {
        "/embed/inbox"
    };
    let body = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>A page framing the support desk</title>
</head>
<body>
<main>
<h1>A page framing the support desk</h1>
<iframe id="outer-frame" title="Support desk" width="900" height="720" src="{src}"></iframe>
</main>
</body>
</html>
"#,
        src = escape(&format!("{}/?path={path}", page.allowed_host_origin)),
    );
    let policy = format!(
        "default-src 'none'; frame-src {}; base-uri 'none'; form-action 'none'; object-src 'none'",
        page.allowed_host_origin
    );
    page_response(body, &policy)
}

/// Text for an HTML attribute or element.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const HOST_JS: &str = r#"// The embedding demo's host page: hands the console a key over postMessage.
(function () {
  'use strict';
  var consoleOrigin = document.body.getAttribute('data-console-origin');
  var frame = document.getElementById('console-frame');
  var log = document.getElementById('host-log');
  var status = document.getElementById('host-status');
  var keyInput = document.getElementById('host-key');
  var form = document.getElementById('host-form');
  var heard = false;
  window.hostMessages = [];

  // Framed by the host page with `?widget_key=`: a widget of the host's own origin (an ad, a
  // chat bubble), which hands the console a key of its own from its own window.
  var widgetKey = new URLSearchParams(window.location.search).get('widget_key');
  if (widgetKey !== null && window.parent !== window) {
    var target = window.parent.document.getElementById('console-frame');
    target.contentWindow.postMessage({ type: 'voicebip:connect', key: widgetKey }, '*');
    return;
  }

  function setStatus(state, text) {
    status.setAttribute('data-state', state);
    status.textContent = text;
  }

  var params = new URLSearchParams(window.location.search);
  var path = params.get('path') || '/embed/inbox';
  if (!/^\/embed\/[A-Za-z0-9_\/-]*$/.test(path)) {
    path = '/embed/inbox';
  }
  var width = parseInt(params.get('width') || '360', 10);
  if (!(width >= 200 && width <= 2000)) {
    width = 360;
  }
  frame.style.width = width + 'px';
  frame.style.height = '600px';

  function connect() {
    if (!frame.contentWindow) {
      return;
    }
    frame.contentWindow.postMessage(
      { type: 'voicebip:connect', key: keyInput.value.trim() },
      consoleOrigin
    );
  }

  window.addEventListener('message', function (event) {
    var data = event.data;
    window.hostMessages.push({ origin: event.origin, data: data });
    var item = document.createElement('li');
    item.setAttribute('data-origin', event.origin);
    item.setAttribute('data-type', (data && data.type) || '');
    var text;
    try {
      text = JSON.stringify(data);
    } catch (e) {
      text = String(data);
    }
    item.textContent = text;
    log.appendChild(item);

    // Act only on what the embedded console itself says.
    if (event.origin !== consoleOrigin || event.source !== frame.contentWindow || !data) {
      return;
    }
    switch (data.type) {
      case 'voicebip:ready':
        heard = true;
        setStatus('ready', 'The console is ready; handing it the key…');
        connect();
        break;
      case 'voicebip:connected':
        setStatus('connected', 'Connected.');
        break;
      case 'voicebip:error':
        heard = true;
        setStatus('error', 'The console could not connect: ' + data.message);
        break;
      case 'voicebip:height':
        if (typeof data.height === 'number' && data.height > 0) {
          frame.style.height = Math.min(Math.ceil(data.height), 10000) + 'px';
        }
        break;
      case 'voicebip:unread':
        document.title = (data.count > 0 ? '(' + data.count + ') ' : '') +
          document.title.replace(/^\(\d+\) /, '');
        break;
    }
  });

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    connect();
  });

  frame.addEventListener('load', function () {
    window.setTimeout(function () {
      if (!heard) {
        setStatus('no-ready', 'No voicebip:ready from the console: this origin (' +
          window.location.origin + ') is not in its embed_allowed_origins.');
      }
    }, 5000);
  });

  frame.src = consoleOrigin + path;
})();
"#;

const HOST_CSS: &str = r#"body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2430; background: #f3f5f8; }
.host-header { padding: .75rem 1.25rem; background: #27324a; color: #fff; }
.host-header h1 { font-size: 1.15rem; margin: 0 0 .25rem; }
.host-header p { margin: 0; font-size: .9rem; }
.host-header code { color: #ffe08a; }
.host-main { display: flex; gap: 1rem; padding: 1rem; align-items: flex-start; flex-wrap: wrap; }
.host-ticket { flex: 1 1 320px; min-width: 0; background: #fff; border-radius: 6px; padding: 1rem; }
.host-ticket h2 { font-size: 1rem; }
#host-form { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
#host-key { font: inherit; padding: .3rem .4rem; min-width: 16rem; }
#host-connect { font: inherit; padding: .3rem .8rem; }
#host-status[data-state="connected"] { color: #17663a; }
#host-status[data-state="error"], #host-status[data-state="no-ready"] { color: #a4201b; }
#host-log { font: 12px/1.4 ui-monospace, monospace; padding-left: 1.2rem; max-height: 24rem; overflow: auto; word-break: break-all; }
.host-console { flex: 0 0 auto; }
#console-frame { border: 1px solid #c5ccd8; border-radius: 6px; background: #fff; display: block; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_attribute_text() {
        assert_eq!(escape(r#"a"<b>&'c"#), "a&quot;&lt;b&gt;&amp;&#39;c");
        assert_eq!(escape("pk_test_demo_voicebip"), "pk_test_demo_voicebip");
    }
}
