//! Serving a built console (`dist_dir`): files, single-page fallback, sub-path hosting,
//! config.json rewriting.

use crate::common::*;
use serde_json::json;
use std::path::PathBuf;
use voicebip_sim::SimConfig;

/// A dist directory like Trunk's output, unique per test.
fn make_dist(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("voicebip-sim-dist-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Console</title>",
    )
    .unwrap();
    std::fs::write(dir.join("app-1a2b.js"), "export default 1;").unwrap();
    std::fs::write(dir.join("app-1a2b_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join("app-0123456789abcdef_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join("assets/logo.svg"), "<svg/>").unwrap();
    std::fs::write(
        dir.join("config.json"),
        r#"{"api_base_url": "https://api.voicebip.com/v1", "allowed_parent_origins": ["https://x.example"]}"#,
    )
    .unwrap();
    dir
}

/// Removes the test's dist directory when the test ends, passed or failed.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn console_sim(name: &str) -> (Sim, Cleanup) {
    let dist = make_dist(name);
    let sim = sim_with(SimConfig {
        dist_dir: Some(dist.clone()),
        ..fast_config()
    })
    .await;
    (sim, Cleanup(dist))
}

async fn fetch(sim: &Sim, path: &str) -> Resp {
    into_resp(sim.http.get(sim.url(path)).send().await.unwrap()).await
}

#[tokio::test]
async fn files_are_served_with_their_types() {
    let (sim, _dist) = console_sim("files").await;
    let index = fetch(&sim, "/").await;
    assert_eq!(index.status, 200);
    assert!(index.text.contains("<title>Console</title>"));
    assert!(index
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    let index_html = fetch(&sim, "/index.html").await;
    assert_eq!(index_html.header("cache-control"), Some("no-cache"));
    let js = fetch(&sim, "/app-1a2b.js").await;
    assert_eq!(js.text, "export default 1;");
    assert!(js
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    // Not a content hash (too short): revalidated like any file that may change.
    assert_eq!(js.header("cache-control"), Some("no-cache"));
    let wasm = fetch(&sim, "/app-1a2b_bg.wasm").await;
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    let hashed = fetch(&sim, "/console/app-0123456789abcdef_bg.wasm").await;
    assert_eq!(hashed.status, 200);
    assert_eq!(
        hashed.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let svg = fetch(&sim, "/assets/logo.svg").await;
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
}

/// What the simulator sends for `path` to a browser that accepts `accept`: the body's bytes and
/// its Content-Encoding, with the response's headers (every file's carry `Vary`).
async fn fetch_encoded(
    sim: &Sim,
    path: &str,
    accept: &str,
) -> (Vec<u8>, Option<String>, reqwest::header::HeaderMap) {
    let mut request = sim.http.get(sim.url(path));
    if !accept.is_empty() {
        request = request.header("accept-encoding", accept);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let headers = response.headers().clone();
    assert_eq!(headers["vary"], "accept-encoding", "{path}");
    let coding = headers
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_string());
    (response.bytes().await.unwrap().to_vec(), coding, headers)
}

#[tokio::test]
async fn precompressed_copies_are_sent_to_browsers_that_accept_them() {
    let (sim, dist) = console_sim("encodings").await;
    // As `cargo xtask dist` writes them (the simulator sends them without looking inside).
    std::fs::write(dist.0.join("app-1a2b.js.br"), "BR").unwrap();
    std::fs::write(dist.0.join("app-1a2b.js.gz"), "GZ").unwrap();
    std::fs::write(dist.0.join("app-0123456789abcdef_bg.wasm.gz"), "WASM-GZ").unwrap();
    std::fs::write(dist.0.join("index.html.gz"), "INDEX-GZ").unwrap();
    let sent = async |path: &str, accept: &str| {
        let (body, coding, _) = fetch_encoded(&sim, path, accept).await;
        (String::from_utf8(body).unwrap(), coding)
    };
    let plain = ("export default 1;".to_string(), None);
    let gz = ("GZ".to_string(), Some("gzip".to_string()));
    let br = ("BR".to_string(), Some("br".to_string()));
    for (accept, expected) in [
        ("", &plain),
        ("identity", &plain),
        ("gzip, deflate", &gz),
        ("gzip, deflate, br, zstd", &br),
        ("br;q=0, gzip", &gz),
        ("gzip;q=0, br;q=0", &plain),
    ] {
        assert_eq!(
            &sent("/app-1a2b.js", accept).await,
            expected,
            "Accept-Encoding: {accept:?}"
        );
    }

    // The copy keeps its file's type and caching; a missing brotli copy falls back to gzip.
    let (body, coding, headers) =
        fetch_encoded(&sim, "/app-0123456789abcdef_bg.wasm", "gzip, br").await;
    assert_eq!(
        (body.as_slice(), coding.as_deref()),
        (&b"WASM-GZ"[..], Some("gzip"))
    );
    assert_eq!(headers["content-type"], "application/wasm");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );

    // Under a sub-path prefix too; a HEAD says what a GET would send, without the body.
    assert_eq!(sent("/console/app-1a2b.js", "gzip").await, gz);
    let head = sim
        .http
        .head(sim.url("/app-1a2b.js"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(head.headers()["content-encoding"], "br");
    assert_eq!(head.headers()["content-length"], "2");
    assert!(head.bytes().await.unwrap().is_empty());

    // The single-page fallback sends the page's copy too; a file without copies goes as it is.
    let index = ("INDEX-GZ".to_string(), Some("gzip".to_string()));
    assert_eq!(sent("/conversations/conv_1", "gzip").await, index);
    let svg = ("<svg/>".to_string(), None);
    assert_eq!(sent("/assets/logo.svg", "gzip, br").await, svg);
}

#[tokio::test]
async fn app_routes_fall_back_to_index_but_missing_assets_are_404() {
    let (sim, _dist) = console_sim("spa").await;
    for route in [
        "/inbox",
        "/inbox/conv_123",
        "/settings/",
        "/embed/thread/conv_9",
    ] {
        let r = fetch(&sim, route).await;
        assert_eq!(r.status, 200, "{route}");
        assert!(r.text.contains("<title>Console</title>"), "{route}");
        assert_eq!(r.header("cache-control"), Some("no-cache"));
    }
    for asset in ["/missing.js", "/assets/nope.png", "/console/missing.wasm"] {
        fetch(&sim, asset).await.assert_error(404, "NOT_FOUND");
    }
    let post = into_resp(sim.http.post(sim.url("/")).send().await.unwrap()).await;
    post.assert_error(405, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn a_build_for_a_sub_path_works_under_that_prefix() {
    let (sim, _dist) = console_sim("subpath").await;
    let index = fetch(&sim, "/console/").await;
    assert!(index.text.contains("<title>Console</title>"));
    assert_eq!(
        fetch(&sim, "/console/app-1a2b.js").await.text,
        "export default 1;"
    );
    assert_eq!(
        fetch(&sim, "/console/app-1a2b_bg.wasm")
            .await
            .header("content-type"),
        Some("application/wasm")
    );
    assert_eq!(fetch(&sim, "/console/assets/logo.svg").await.text, "<svg/>");
    for deep_link in [
        "/console/inbox/conv_1",
        "/console/conversations/conv_01HX",
        "/console/embed/conversations/conv_01HX",
    ] {
        let r = fetch(&sim, deep_link).await;
        assert_eq!(r.status, 200, "{deep_link}");
        assert!(r.text.contains("<title>Console</title>"), "{deep_link}");
    }
    assert_eq!(
        fetch(&sim, "/a/b/app-1a2b.js").await.text,
        "export default 1;"
    );
}

#[tokio::test]
async fn config_json_points_at_this_simulator() {
    let (sim, _dist) = console_sim("config").await;
    for path in ["/config.json", "/console/config.json"] {
        let r = fetch(&sim, path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("cache-control"), Some("no-cache"));
        assert_eq!(r.json["api_base_url"], format!("{}/v1", sim.base));
        assert_eq!(
            r.json["allowed_parent_origins"],
            json!(["https://x.example"])
        );
    }
    // The origin follows the Host the browser used.
    let port = sim.handle.addr().port();
    let r = into_resp(
        sim.http
            .get(format!("http://localhost:{port}/config.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        r.json["api_base_url"],
        format!("http://localhost:{port}/v1")
    );
}

/// Sends the path exactly as written (HTTP clients would normalise `..` away).
async fn raw_get(sim: &Sim, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(sim.handle.addr())
        .await
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn paths_cannot_leave_the_dist_directory() {
    let (sim, dist) = console_sim("traversal").await;
    // A file next to the dist directory that a traversal would reach.
    let secret = dist
        .0
        .parent()
        .unwrap()
        .join(format!("voicebip-secret-{}.js", std::process::id()));
    std::fs::write(&secret, "SECRET").unwrap();
    let name = secret.file_name().unwrap().to_str().unwrap().to_string();
    for path in [
        format!("/../{name}"),
        format!("/%2e%2e/{name}"),
        format!("/assets/..%2f..%2f{name}"),
    ] {
        let response = raw_get(&sim, &path).await;
        assert!(response.starts_with("HTTP/1.1 404"), "{path}: {response}");
        assert!(!response.contains("SECRET"));
    }
    let _ = std::fs::remove_file(secret);
}

#[tokio::test]
async fn api_and_control_paths_are_not_the_console() {
    let (sim, _dist) = console_sim("api").await;
    fetch(&sim, "/v1/conversations")
        .await
        .assert_error(401, "UNAUTHENTICATED");
    sim.get("/v1/unknown").await.assert_error(404, "NOT_FOUND");
    assert_eq!(fetch(&sim, "/sim/info").await.json["demo_key"], KEY);
    fetch(&sim, "/sim/unknown")
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn without_a_dist_directory_other_paths_are_404() {
    let sim = sim().await;
    fetch(&sim, "/").await.assert_error(404, "NOT_FOUND");
    fetch(&sim, "/inbox").await.assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn a_csp_is_sent_with_every_console_response_and_only_there() {
    let dist = make_dist("csp");
    let _cleanup = Cleanup(dist.clone());
    let policy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'self'";
    let sim = sim_with(SimConfig {
        dist_dir: Some(dist),
        csp: Some(policy.into()),
        ..fast_config()
    })
    .await;
    for path in [
        "/",
        "/index.html",
        "/console/",
        "/console/app-1a2b.js",
        "/console/app-1a2b_bg.wasm",
        "/console/conversations/conv_1",
        "/config.json",
        "/console/config.json",
        "/missing.js",
    ] {
        let r = fetch(&sim, path).await;
        assert_eq!(
            r.header("content-security-policy"),
            Some(policy),
            "{path} ({})",
            r.status
        );
    }
    for path in ["/v1/conversations", "/sim/info", "/v1/"] {
        assert_eq!(
            fetch(&sim, path).await.header("content-security-policy"),
            None,
            "{path}"
        );
    }
    // Without the option, no policy.
    let (plain, _dist) = console_sim("csp-none").await;
    assert_eq!(
        fetch(&plain, "/").await.header("content-security-policy"),
        None
    );
    // A policy that cannot be a header value is refused at start.
    let bad = voicebip_sim::start(
        SimConfig {
            csp: Some("default-src\n'self'".into()),
            ..fast_config()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    assert!(bad.is_err());
}

#[tokio::test]
async fn the_embedding_demo_serves_an_allowed_and_a_foreign_host_page() {
    let dist = make_dist("embed");
    let _cleanup = Cleanup(dist.clone());
    let sim = sim_with(SimConfig {
        dist_dir: Some(dist),
        embed_host: true,
        ..fast_config()
    })
    .await;
    let host = sim.handle.embed_host_url().expect("host page URL");
    let foreign = sim.handle.foreign_host_url().expect("foreign page URL");
    let origin = |url: &str| url.trim_end_matches('/').to_string();
    assert!(host.starts_with("http://127.0.0.1:") && foreign.starts_with("http://127.0.0.1:"));
    assert_ne!(origin(&host), sim.base);
    assert_ne!(origin(&foreign), sim.base);
    assert_ne!(host, foreign);

    // config.json allows exactly the host page's origin: not the foreign one, never `*`.
    for path in ["/config.json", "/console/config.json"] {
        let config = fetch(&sim, path).await.json;
        assert_eq!(
            config["embed_allowed_origins"],
            json!([origin(&host)]),
            "{path}"
        );
        assert_eq!(config["api_base_url"], format!("{}/v1", sim.base));
    }
    let info = sim.info().await;
    assert_eq!(info["embed_host_url"], host);
    assert_eq!(info["foreign_host_url"], foreign);

    for (url, role) in [(&host, "allowed"), (&foreign, "foreign")] {
        let page = into_resp(sim.http.get(url.as_str()).send().await.unwrap()).await;
        assert_eq!(page.status, 200);
        assert!(page
            .header("content-type")
            .unwrap()
            .starts_with("text/html"));
        assert!(page
            .text
            .contains(&format!("data-console-origin=\"{}\"", sim.base)));
        assert!(page.text.contains(&format!("data-role=\"{role}\"")));
        assert!(page.text.contains("id=\"host-log\""));
        assert!(page.text.contains("id=\"console-frame\""));
        assert!(page.text.contains(&format!("value=\"{KEY}\"")));
        // No inline script: every <script> has a src, and the page's own CSP says so.
        assert_eq!(
            page.text.matches("<script").count(),
            page.text.matches("<script src=").count()
        );
        let csp = page.header("content-security-policy").unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains(&format!("frame-src {}", sim.base)), "{csp}");

        let js = into_resp(sim.http.get(format!("{url}host.js")).send().await.unwrap()).await;
        assert_eq!(js.status, 200);
        assert!(js
            .header("content-type")
            .unwrap()
            .starts_with("text/javascript"));
        for needle in [
            "voicebip:ready",
            "voicebip:connect",
            "voicebip:height",
            "window.hostMessages",
            "consoleOrigin",
        ] {
            assert!(js.text.contains(needle), "host.js mentions {needle}");
        }
        let css = into_resp(sim.http.get(format!("{url}host.css")).send().await.unwrap()).await;
        assert!(css.header("content-type").unwrap().starts_with("text/css"));
        let missing = into_resp(sim.http.get(format!("{url}nope")).send().await.unwrap()).await;
        assert_eq!(missing.status, 404);
    }

    // The host pages stop with the simulator.
    sim.handle.shutdown().await;
    assert!(reqwest::Client::new().get(&host).send().await.is_err());
}

#[tokio::test]
async fn without_the_embedding_demo_config_json_keeps_its_origins() {
    let (sim, _dist) = console_sim("embed-off").await;
    assert!(sim.handle.embed_host_url().is_none());
    assert!(sim.handle.foreign_host_url().is_none());
    let info = sim.info().await;
    assert!(info["embed_host_url"].is_null());
    let config = fetch(&sim, "/config.json").await.json;
    assert!(config.get("embed_allowed_origins").is_none());
}
