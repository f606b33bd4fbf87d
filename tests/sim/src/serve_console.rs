//! Serves a built console (`--dist <dir>`) for every path outside `/v1` and `/sim`.
//!
//! - Files from the dist directory, also under a prefix (`/console/app.wasm` finds `app.wasm`
//!   when the build used `trunk build --public-url /console/`).
//! - Single-page fallback: a path that is not a file and has no extension gets `index.html`.
//! - `config.json` at any prefix is the dist's, with `api_base_url` pointing at this simulator,
//!   so a built console works against it without editing files (and, with the embedding demo
//!   on, `embed_allowed_origins` set to exactly the demo host page's origin).
//! - With `SimConfig::csp`, every console response carries that `Content-Security-Policy`.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let csp = state.csp.clone().filter(|_| !is_reserved(req.uri().path()));
    let mut response = serve(state, req).await;
    if let Some(policy) = csp {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

async fn serve(state: AppState, req: Request) -> Response {
    // Only the request line and Host matter; the body (not `Sync`) must not live across awaits.
    let (parts, _) = req.into_parts();
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let accept = parts
        .headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if is_reserved(parts.uri.path()) {
        // Paths the nested routers do not match exactly (`/v1/`): still not the console.
        return ApiError::not_found("no such route").into_response();
    }
    let Some(dist) = state.dist_dir.clone() else {
        return ApiError::not_found("no such route").into_response();
    };
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return ApiError::from_status(StatusCode::METHOD_NOT_ALLOWED).into_response();
    }
    let Some(segments) = sanitize(parts.uri.path()) else {
        return ApiError::not_found("no such file").into_response();
    };
    if segments.last().is_some_and(|s| s == "config.json") {
        return config_json(&state, &dist, host).await;
    }
    // The path as given, then without its first segments (sub-path hosting).
    for skip in 0..=segments.len() {
        let candidate = segments[skip..]
            .iter()
            .fold(dist.clone(), |path, segment| path.join(segment));
        if is_file(&candidate).await {
            return file(&state, &candidate, accept).await;
        }
        if skip == 0 && is_file(&candidate.join("index.html")).await {
            return file(&state, &candidate.join("index.html"), accept).await;
        }
    }
    let looks_like_asset = segments.last().is_some_and(|s| s.contains('.'));
    if looks_like_asset {
        return ApiError::not_found("no such file").into_response();
    }
    file(&state, &dist.join("index.html"), accept).await
}

/// `/v1` and `/sim` are never the console.
fn is_reserved(path: &str) -> bool {
    ["/v1", "/sim"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// Decoded path segments, or `None` if the path tries to leave the dist directory.
fn sanitize(path: &str) -> Option<Vec<String>> {
    let mut segments = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let segment = percent_decode(raw)?;
        if segment == "." || segment == ".." || segment.contains(['\\', '/', '\0']) {
            return None;
        }
        segments.push(segment);
    }
    Some(segments)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn is_file(path: &Path) -> bool {
    tokio::fs::metadata(path).await.is_ok_and(|m| m.is_file())
}

fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        // Browsers compile wasm while downloading only with this type.
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The file, or its precompressed copy in an encoding the browser accepts (`cargo xtask dist`
/// writes `name.br` and `name.gz` beside it, as static hosts expect them). Like those hosts, it
/// trusts a copy to match its file: whoever edits a file after the build regenerates its copies.
async fn file(state: &AppState, path: &Path, accept: &str) -> Response {
    let mut encoded = None;
    for (suffix, coding) in wanted_codings(accept) {
        let mut copy = path.as_os_str().to_owned();
        copy.push(suffix);
        if let Ok(bytes) = tokio::fs::read(&copy).await {
            encoded = Some((bytes, coding));
            break;
        }
    }
    let (bytes, coding) = match encoded {
        Some((bytes, coding)) => (bytes, Some(coding)),
        None => match tokio::fs::read(path).await {
            Ok(bytes) => (bytes, None),
            Err(_) => return ApiError::not_found("no such file").into_response(),
        },
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Some(coding) = coding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    // What is sent depends on the request's Accept-Encoding: a shared cache must key on it.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let kind = match content_type(path) {
        "application/wasm" if state.settings.wasm_untyped() => "application/octet-stream",
        kind => kind,
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CACHE_CONTROL, cache_control(path));
    response
}

/// The precompressed copies' suffixes and their content codings; of two the browser wants
/// equally, the first (the smaller) is sent.
pub const PRECOMPRESSED: [(&str, &str); 2] = [(".br", "br"), (".gz", "gzip")];

/// The file a precompressed copy is of (`app.wasm` for `app.wasm.br`), or `None` for a file.
pub fn precompressed_original(name: &str) -> Option<&str> {
    PRECOMPRESSED
        .iter()
        .find_map(|(suffix, _)| name.strip_suffix(suffix))
        .filter(|original| !original.is_empty())
}

/// The copies an `Accept-Encoding` value allows, the most wanted first (RFC 9110, 12.5.3).
fn wanted_codings(accept: &str) -> Vec<(&'static str, &'static str)> {
    let mut ranked: Vec<(f32, &str, &str)> = PRECOMPRESSED
        .iter()
        .filter_map(|&(suffix, coding)| {
            let q = weight(accept, coding).filter(|q| *q > 0.0)?;
            Some((q, suffix, coding))
        })
        .collect();
    // Stable: equal weights keep PRECOMPRESSED's order.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.into_iter().map(|(_, s, c)| (s, c)).collect()
}

/// The weight `accept` gives `coding`: its own entry's, else `*`'s, else `None`. Names and the
/// `q` parameter are case-insensitive, `x-gzip` is `gzip` (RFC 9110, 8.4.1.3), and an entry
/// without a (readable) weight has 1.
fn weight(accept: &str, coding: &str) -> Option<f32> {
    let is = |name: &str, wanted: &str| {
        name.eq_ignore_ascii_case(wanted)
            || (wanted == "gzip" && name.eq_ignore_ascii_case("x-gzip"))
    };
    let entry = |wanted: &str| {
        accept.split(',').find_map(|entry| {
            let mut parts = entry.split(';');
            is(parts.next().unwrap_or("").trim(), wanted).then(|| {
                parts
                    .filter_map(|p| p.split_once('='))
                    .find(|(key, _)| key.trim().eq_ignore_ascii_case("q"))
                    .and_then(|(_, q)| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0)
            })
        })
    };
    entry(coding).or_else(|| entry("*"))
}

/// What the README's CDN section asks of a host: a content-hashed file never changes, so a
/// browser keeps it across visits; anything else, `index.html` above all (it names the hashed
/// files of the current build), is revalidated every time.
fn cache_control(path: &Path) -> HeaderValue {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    HeaderValue::from_static(match is_content_hashed(name) {
        true => "public, max-age=31536000, immutable",
        false => "no-cache",
    })
}

/// `name-<hex>.ext`, or wasm-bindgen's `name-<hex>_bg.wasm`: how Trunk and `cargo xtask dist`
/// name the files they hash. Trunk writes its 64-bit hash as `{:x}`, without leading zeros: 16
/// hex digits, or fewer for one build in 16 (`-d67a9a5ffd06775`).
pub fn is_content_hashed(name: &str) -> bool {
    let Some((stem, _)) = name.rsplit_once('.').filter(|(_, ext)| !ext.is_empty()) else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(name, hash)| {
        !name.is_empty()
            && (8..=16).contains(&hash.len())
            && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

async fn config_json(state: &AppState, dist: &Path, host: Option<String>) -> Response {
    if state.settings.config_stalled() {
        // Until the simulator stops: a request the client must give up on itself.
        state.shutdown_signal().await;
    }
    let path: PathBuf = dist.join("config.json");
    let mut config: Value = match tokio::fs::read(&path).await {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::Object(Default::default()))
        }
        Err(_) => Value::Object(Default::default()),
    };
    // The origin the browser used (localhost or 127.0.0.1), so API calls stay same-origin.
    let origin = host
        .map(|host| format!("http://{host}"))
        .unwrap_or_else(|| state.base_url.clone());
    if let Value::Object(map) = &mut config {
        map.insert("api_base_url".into(), Value::String(format!("{origin}/v1")));
        if let Some(embed) = &state.embed {
            // Exactly the demo host page: never `*`, never the foreign page.
            map.insert(
                "embed_allowed_origins".into(),
                Value::Array(vec![Value::String(embed.allowed_origin.clone())]),
            );
        }
    }
    let mut response = axum::Json(config).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_content_hashed_files_are_kept_by_browsers() {
        for hashed in [
            "voicebip-console-c217a44b88131e8d_bg.wasm",
            "voicebip-console-c217a44b88131e8d.js",
            "loader-a1c27b7d969de492.js",
            "split_thread_pane-590cc43ac55cb14e.wasm",
            "__wasm_split-c217a44b88131e8d.js",
            "main-f2aab2a1e825c908.css",
            "app-d67a9a5ffd06775.js",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
            let value = cache_control(Path::new("dist").join(hashed).as_path());
            assert_eq!(value, "public, max-age=31536000, immutable");
        }
        for plain in [
            "index.html",
            "config.json",
            "favicon.svg",
            "main-f2aab2a1e825c908f.css",
            "main-f2aab2a.css",
            "main-f2aab2a1e825c908x.css",
            "main-g2aab2a1e825c908.css",
            "-f2aab2a1e825c908.css",
            "f2aab2a1e825c908.css",
            "main-f2aab2a1e825c908",
            "main-f2aab2a1e825c908.",
        ] {
            assert!(!is_content_hashed(plain), "{plain}");
            assert_eq!(cache_control(Path::new(plain)), "no-cache");
        }
    }

    #[test]
    fn accept_encoding_is_read_as_the_rfc_says() {
        let codings = |accept: &str| -> Vec<&str> {
            wanted_codings(accept).into_iter().map(|(_, c)| c).collect()
        };
        assert_eq!(codings("gzip, deflate, br, zstd"), ["br", "gzip"]);
        assert_eq!(codings("gzip, deflate"), ["gzip"]);
        assert!(codings("").is_empty(), "no header: the file as it is");
        assert!(codings("identity").is_empty());
        assert_eq!(codings("GZIP;Q=0.5"), ["gzip"], "case-insensitive");
        assert_eq!(codings("br, gzip;q=0"), ["br"], "q=0 refuses");
        assert_eq!(codings("br;Q=0, gzip"), ["gzip"]);
        assert!(codings("gzip ; q=0.0").is_empty());
        assert_eq!(
            codings("br;q=0.1, gzip"),
            ["gzip", "br"],
            "the higher weight first"
        );
        assert_eq!(
            codings("gzip, br"),
            ["br", "gzip"],
            "equal: the smaller first"
        );
        assert_eq!(codings("*"), ["br", "gzip"]);
        assert!(codings("*;q=0").is_empty());
        assert_eq!(
            codings("gzip;q=0, *"),
            ["br"],
            "an explicit entry overrides *"
        );
        assert_eq!(codings("x-gzip"), ["gzip"]);
        assert_eq!(
            codings("gzip;q=oops"),
            ["gzip"],
            "an unreadable weight counts as 1"
        );
    }

    #[test]
    fn copies_are_named_for_their_file() {
        assert_eq!(
            precompressed_original("app_bg.wasm.br"),
            Some("app_bg.wasm")
        );
        assert_eq!(precompressed_original("index.html.gz"), Some("index.html"));
        assert_eq!(precompressed_original("app_bg.wasm"), None);
        assert_eq!(precompressed_original(".gz"), None);
    }

    #[test]
    fn paths_cannot_escape_dist() {
        assert_eq!(sanitize("/a/b.js"), Some(vec!["a".into(), "b.js".into()]));
        assert_eq!(sanitize("/"), Some(vec![]));
        assert_eq!(sanitize("//a//"), Some(vec!["a".into()]));
        assert_eq!(sanitize("/a/../b"), None);
        assert_eq!(sanitize("/a/%2e%2e/b"), None);
        assert_eq!(sanitize("/a%2fb"), None);
        assert_eq!(sanitize("/a%5cb"), None);
        assert_eq!(sanitize("/bad%zz"), None);
        assert_eq!(sanitize("/caf%C3%A9"), Some(vec!["café".into()]));
    }
}
