//! Static hosting on a CDN: the build for a sub-path (`trunk build --public-url /console/`, with
//! xtask's loader moved out of line) served under that path with the strict
//! Content-Security-Policy the README recommends. Deep links and reloads must work, every asset
//! must resolve under the sub-path, and the browser must report no CSP violation.

use std::path::PathBuf;

use crate::common::*;
use voicebip_e2e::anyhow::{bail, Context, Result};
use voicebip_e2e::{paths, poll_until, with_harness, Harness, Options, SimConfig, DEMO_KEY};
// The simulator's own test of a name, which decides what it serves as immutable.
use voicebip_sim::is_content_hashed as is_hashed;

/// xtask's `csp::POLICY`, for runs outside `cargo xtask test` (which exports `VOICEBIP_CSP`).
const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
frame-ancestors 'self'";

/// The sub-path build (`VOICEBIP_DIST_SUBPATH`, default `<workspace>/dist-subpath`).
fn subpath_dist() -> Result<PathBuf> {
    let dir = std::env::var_os("VOICEBIP_DIST_SUBPATH")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| paths::workspace_root().join("dist-subpath"));
    if !dir.join("index.html").is_file() {
        bail!(
            "no sub-path build at {}: run `cargo xtask test` (it builds dist-subpath/ with \
             --public-url /console/), or set VOICEBIP_DIST_SUBPATH",
            dir.display()
        );
    }
    Ok(dir)
}

/// `/console/` (`VOICEBIP_SUBPATH`), always with both slashes.
fn subpath() -> String {
    let raw = std::env::var("VOICEBIP_SUBPATH").unwrap_or_else(|_| "/console/".into());
    format!("/{}/", raw.trim_matches('/'))
}

fn csp() -> String {
    std::env::var("VOICEBIP_CSP")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_CSP.into())
}

/// Every `<tag ...>` opening tag of `name` in `html`, as written.
fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start..];
        let end = after.find('>').map_or(after.len(), |e| e + 1);
        let tag = &after[..end];
        // `<linkfoo` is not a `<link`.
        if tag[open.len()..].starts_with(|c: char| c.is_whitespace() || c == '>') {
            found.push(tag);
        }
        rest = &after[end..];
    }
    found
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

#[test]
fn the_cdn_build_references_only_hashed_assets_with_integrity() {
    let dist = subpath_dist().expect("the sub-path build");
    let base = subpath();
    let html = std::fs::read_to_string(dist.join("index.html")).expect("reading index.html");

    assert_eq!(
        tags(&html, "base").first().and_then(|t| attr(t, "href")),
        Some(base.as_str()),
        "<base href> names the sub-path, which the router reads"
    );

    let scripts = tags(&html, "script");
    assert!(!scripts.is_empty(), "index.html loads the console");
    for tag in &scripts {
        assert!(
            attr(tag, "src").is_some(),
            "no inline script under a strict CSP: {tag}"
        );
    }

    let mut referenced = Vec::new();
    for tag in scripts.iter().chain(&tags(&html, "link")) {
        let Some(url) = attr(tag, "src").or_else(|| attr(tag, "href")) else {
            panic!("an asset tag without a URL: {tag}");
        };
        // The runtime configuration is preloaded, and is by design neither hashed nor pinned by
        // integrity (each deployment edits it); relative, it resolves against `<base href>`.
        if url == "config.json" {
            assert_eq!(attr(tag, "rel"), Some("preload"), "{tag}");
            continue;
        }
        let file = url
            .strip_prefix(base.as_str())
            .unwrap_or_else(|| panic!("{url} is not under {base}: {tag}"));
        assert!(!file.contains('/'), "{url}: assets sit next to index.html");
        assert!(is_hashed(file), "{url} is content-hashed");
        assert!(dist.join(file).is_file(), "{url} exists in the build");
        referenced.push(file.to_string());
        // The main module's preload carries none: Chromium ignores it there. The loader's fetch
        // carries it (below).
        if file.ends_with("_bg.wasm") {
            assert_eq!(attr(tag, "integrity"), None, "{tag}");
            continue;
        }
        assert_sri(attr(tag, "integrity").unwrap_or_default(), tag);
    }
    for needle in ["loader-", "_bg.wasm", ".css"] {
        assert!(
            referenced.iter().any(|f| f.contains(needle)),
            "index.html references the {needle} asset: {referenced:?}"
        );
    }
    // The wasm glue is both preloaded and imported by the loader.
    let loader = referenced
        .iter()
        .find(|f| f.starts_with("loader-"))
        .expect("loader");
    let loader_js = std::fs::read_to_string(dist.join(loader)).expect("reading the loader");
    assert!(
        loader_js.contains(&format!("{base}voicebip-console-")),
        "the loader imports the glue under the sub-path: {loader_js}"
    );
    let wasm = referenced
        .iter()
        .find(|f| f.ends_with("_bg.wasm"))
        .expect("the main module");
    let pinned = loader_js
        .split_once(&format!("fetch('{base}{wasm}', {{ integrity: '"))
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(sri, _)| sri)
        .unwrap_or_else(|| panic!("the loader fetches {wasm} with its integrity: {loader_js}"));
    assert_sri(pinned, &loader_js);

    // The link module preloaded above fetches the thread pane's chunk, pinned there by its
    // integrity (xtask/src/split.rs).
    let link = referenced
        .iter()
        .find(|f| f.starts_with("__wasm_split-"))
        .expect("the chunks' link module is preloaded");
    let link_js = std::fs::read_to_string(dist.join(link)).expect("reading the link module");
    let fetches: Vec<&str> = link_js.split("fetch(new URL(").skip(1).collect();
    assert!(!fetches.is_empty(), "the link module fetches a chunk");
    for rest in fetches {
        let call = &rest[..rest.find(");").unwrap_or(rest.len())];
        let chunk = call
            .split('"')
            .nth(1)
            .and_then(|url| url.strip_prefix("./"))
            .unwrap_or_else(|| panic!("a chunk fetch without a relative URL: {call}"));
        assert!(is_hashed(chunk) && dist.join(chunk).is_file(), "{call}");
        assert!(call.contains("integrity: \"sha384-"), "{call} is pinned");
    }

    // Whatever else the build holds next to index.html is hashed too, except the two files a
    // deployment rewrites. (wasm-bindgen's `snippets/` directory, if any, is named by hash.)
    for entry in std::fs::read_dir(&dist).expect("listing the build") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        // A compressed copy (`name.br`, `name.gz`) is named for its file.
        let file = voicebip_sim::precompressed_original(&name).unwrap_or(&name);
        if !entry.path().is_file() || file == "index.html" || file == "config.json" {
            continue;
        }
        assert!(is_hashed(file), "{name} in the build is content-hashed");
    }
}

fn assert_sri(integrity: &str, context: &str) {
    assert!(
        integrity.starts_with("sha384-") && integrity.len() > "sha384-".len() + 40,
        "subresource integrity expected: {context}"
    );
}

/// A host that sends a changed main module (a tampered CDN, a rewriting proxy) must not get it
/// run: its integrity is checked where it is fetched (xtask/src/split.rs), not only written on
/// its preload, which Chromium ignores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_wasm_module_is_refused() {
    let site = tempfile::tempdir().expect("a temporary site");
    let mut wasm = None;
    for entry in std::fs::read_dir(subpath_dist().expect("the sub-path build")).expect("listing") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        // Its compressed copies are left out, so that the host sends the changed file.
        if name.contains("_bg.wasm.") || !path.is_file() {
            continue;
        }
        std::fs::copy(&path, site.path().join(&*name)).expect("copying the build");
        if name.ends_with("_bg.wasm") {
            wasm = Some(site.path().join(&*name));
        }
    }
    // A custom section at the end: still a valid module, which would start as before.
    let wasm = wasm.expect("the main module");
    let mut bytes = std::fs::read(&wasm).expect("reading the module");
    bytes.extend_from_slice(b"\x00\x05\x04test");
    std::fs::write(&wasm, bytes).expect("changing the module");

    let mut opts = Options::default();
    opts.sim.dist_dir = Some(site.path().to_path_buf());
    with_harness(opts, async |h: &Harness| {
        h.open(&subpath()).await?;
        // Either outcome ends the wait: `poll_until` retries errors, so a console that ran is
        // a value, not an error.
        let outcome = poll_until("the browser refusing the module", FIRST_SCREEN, || async {
            if count(h, "form#connect-form").await? > 0 {
                return Ok(Some(None));
            }
            let errors = h.browser_errors().await?;
            Ok(errors
                .into_iter()
                .find(|e| e.message.contains("integrity"))
                .map(Some))
        })
        .await?;
        let Some(refused) = outcome else {
            bail!("the console ran the changed module");
        };
        assert!(refused.message.contains("_bg.wasm"), "{refused:?}");
        assert_eq!(count(h, "form#connect-form").await?, 0, "the console ran");
        Ok(())
    })
    .await;
}

/// Records CSP violations from now on (the browser log has those from before).
async fn watch_violations(h: &Harness) -> Result<()> {
    h.browser()
        .execute(
            "if (!window.__csp) { window.__csp = []; \
             document.addEventListener('securitypolicyviolation', e => window.__csp.push( \
               e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''))); } \
             return true;",
            vec![],
        )
        .await
        .context("installing the CSP violation listener")?;
    Ok(())
}

async fn violations_seen(h: &Harness) -> Result<Vec<String>> {
    let v = h
        .browser()
        .execute("return window.__csp || [];", vec![])
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// The content-hashed files this page's load took from the network rather than the browser's
/// cache (Resource Timing's `transferSize` is 0 for a cache hit).
async fn hashed_assets_fetched(h: &Harness) -> Result<Vec<String>> {
    let v = h
        .browser()
        .execute(
            "return performance.getEntriesByType('resource')
                 .filter(e => e.transferSize > 0).map(e => e.name);",
            vec![],
        )
        .await?;
    let fetched: Vec<String> = serde_json::from_value(v)?;
    Ok(fetched
        .into_iter()
        .filter(|url| is_hashed(url.rsplit('/').next().unwrap_or_default()))
        .collect())
}

/// Fails unless the page and every file of code it loaded so far came compressed (the host sends
/// the build's precompressed copies, `xtask/src/compress.rs`), its wasm, js and css among them.
async fn assert_sent_compressed(h: &Harness) -> Result<()> {
    let v = h
        .browser()
        .execute(
            "return performance.getEntriesByType('navigation')
                 .concat(performance.getEntriesByType('resource')
                     .filter(e => /\\.(wasm|js|css)$/.test(new URL(e.name).pathname)))
                 .map(e => [e.name, e.encodedBodySize, e.decodedBodySize]);",
            vec![],
        )
        .await?;
    let sizes: Vec<(String, u64, u64)> = serde_json::from_value(v)?;
    for needle in ["_bg.wasm", ".js", ".css"] {
        if !sizes.iter().any(|(url, ..)| url.ends_with(needle)) {
            bail!("the page never loaded its {needle}: {sizes:#?}");
        }
    }
    let uncompressed: Vec<_> = sizes
        .iter()
        .filter(|(_, sent, read)| sent >= read)
        .collect();
    if !uncompressed.is_empty() {
        bail!("sent as they are (bytes sent, bytes read): {uncompressed:#?}");
    }
    Ok(())
}

/// Fails unless every URL the page loaded is on the console's origin: the page under `base`,
/// the API, and each file of the build at `base` itself. (The simulator finds a file at any depth
/// of a path, where a CDN answers a deep link's `conversations/config.json` with `index.html`:
/// a file asked for below `base` is a base gone wrong that only the exact URL tells.)
async fn assert_loaded_under(h: &Harness, base: &str) -> Result<()> {
    let origin = h.base_url().to_string();
    let urls = loaded_urls(h).await?;
    let dist = subpath_dist()?;
    let mut assets = 0;
    for (i, url) in urls.iter().enumerate() {
        let path = url
            .strip_prefix(&origin)
            .with_context(|| format!("{url} is not on the console's origin {origin}"))?;
        if path.starts_with("/v1/") {
            continue;
        }
        let Some(within) = path.strip_prefix(base) else {
            bail!("{url} was loaded from outside {base}; everything loaded: {urls:#?}");
        };
        // (The first is the page's own address, a route.)
        if i == 0 {
            continue;
        }
        let file = within.split(['?', '#']).next().unwrap_or_default();
        if file.contains('/') || !dist.join(file).is_file() {
            bail!("{url} is not a file of the build at {base}; everything loaded: {urls:#?}");
        }
        assets += 1;
    }
    for needle in ["_bg.wasm", ".css", "config.json", "loader-"] {
        if !urls.iter().any(|u| u.contains(needle)) {
            bail!("the page never loaded its {needle}: {urls:#?}");
        }
    }
    if assets < 4 {
        bail!("too few assets loaded: {urls:#?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cdn_build_runs_under_a_sub_path_with_a_strict_csp() {
    let dist = subpath_dist().expect("the sub-path build");
    let policy = csp();
    let opts = Options {
        sim: SimConfig {
            dist_dir: Some(dist),
            csp: Some(policy.clone()),
            traffic_per_minute: 0.0,
            ..SimConfig::default()
        },
        ..Options::default()
    };
    with_harness(opts, async |h: &Harness| {
        let base = subpath();
        // The server really sends the policy with the page.
        let head = reqwest::get(h.sim_url(&base)).await?;
        assert_eq!(
            head.headers()
                .get("content-security-policy")
                .and_then(|v| v.to_str().ok()),
            Some(policy.as_str())
        );

        // The sub-path's root sends a newcomer to its connect screen.
        h.open(&base).await?;
        if let Err(e) = h.wait_for("form#connect-form", FIRST_SCREEN).await {
            // Most likely the policy blocked the start-up: say what the browser refused.
            let errors = h.browser_errors().await.unwrap_or_default();
            return Err(e.context(format!(
                "the console did not start under {policy:?}; browser errors: {errors:#?}"
            )));
        }
        h.wait_for_path(&format!("{base}connect"), SCREEN).await?;
        assert_sent_compressed(h).await?;
        watch_violations(h).await?;
        h.connect(DEMO_KEY).await?;
        h.wait_for_path(&format!("{base}conversations"), SCREEN)
            .await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;

        // Links stay under the sub-path.
        let hrefs = h.attrs(&format!("{ROW} a"), "href").await?;
        assert!(!hrefs.is_empty());
        for href in &hrefs {
            let href = href.as_deref().unwrap_or_default();
            assert!(
                href.starts_with(&format!("{base}conversations/conv_")),
                "row link {href:?} keeps the sub-path"
            );
        }
        let first_id = h
            .attrs(ROW, "data-conversation-id")
            .await?
            .into_iter()
            .flatten()
            .next()
            .context("a row id")?;
        h.click(&format!("{ROW}[data-conversation-id='{first_id}'] a"))
            .await?;
        h.wait_for_path(&format!("{base}conversations/{first_id}"), SCREEN)
            .await?;
        h.wait_for(
            &format!("article#thread[data-conversation-id='{first_id}'] {MESSAGE}"),
            SCREEN,
        )
        .await?;
        let mut seen = violations_seen(h).await?;

        // A deep link opened directly (a bookmark, a shared URL): the host's fallback serves
        // index.html, the console finds its route under the sub-path, the key is still there.
        let deep = find_conversation(h, "with a few messages", |_, full| {
            full["messages"].as_array().is_some_and(|m| m.len() >= 3)
        })
        .await?;
        let id = str_field(&deep, "conversation_id")?;
        let api_messages = deep["messages"].as_array().map_or(0, Vec::len);
        h.open(&format!("{base}conversations/{id}")).await?;
        let thread = format!("article#thread[data-conversation-id='{id}']");
        h.wait_for(&thread, FIRST_SCREEN).await?;
        h.wait_for_all(MESSAGE, api_messages.min(3), SCREEN).await?;
        assert_eq!(h.path().await?, format!("{base}conversations/{id}"));
        let back = h.attrs(".back-link", "href").await?;
        assert_eq!(
            back.first().cloned().flatten().as_deref(),
            Some(format!("{base}conversations").as_str()),
            "the back link keeps the sub-path once"
        );
        watch_violations(h).await?;
        assert_loaded_under(h, &base).await?;
        // (Read before the reload, which ends this page's watch.)
        seen.extend(violations_seen(h).await?);

        // A reload of the same deep link. The hashed files come from the browser's cache (the
        // host marks them immutable), still checked against their integrity under the policy.
        h.browser().refresh().await?;
        h.wait_for(&thread, FIRST_SCREEN).await?;
        h.wait_for_all(MESSAGE, api_messages.min(3), SCREEN).await?;
        watch_violations(h).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        assert_loaded_under(h, &base).await?;
        let fetched = hashed_assets_fetched(h).await?;
        assert!(
            fetched.is_empty(),
            "fetched again on a reload: {fetched:#?}"
        );
        seen.extend(violations_seen(h).await?);

        // An unknown route under the sub-path is the console's own not-found page.
        h.open(&format!("{base}no/such/page")).await?;
        h.wait_for("#back-to-inbox", FIRST_SCREEN).await?;
        watch_violations(h).await?;
        let back = h.attrs("#back-to-inbox", "href").await?;
        assert_eq!(
            back.first().cloned().flatten().as_deref(),
            Some(format!("{base}conversations").as_str())
        );
        seen.extend(violations_seen(h).await?);

        // The API was called with the header only.
        let api = h.sim_requests().await?;
        assert!(api.iter().any(|r| r.path == "/v1/conversations"));
        for r in api.iter().filter(|r| !r.path.ends_with("/stream")) {
            assert!(r.has_authorization && !r.query_has_token, "{r:?}");
        }

        assert!(seen.is_empty(), "CSP violations in the page: {seen:#?}");
        let errors = h.browser_errors().await?;
        let csp_errors: Vec<_> = errors
            .iter()
            .filter(|e| e.message.contains("Content Security Policy"))
            .collect();
        assert!(
            csp_errors.is_empty(),
            "the browser refused something under the CSP: {csp_errors:#?}"
        );
        assert!(errors.is_empty(), "console errors: {errors:#?}");
        Ok(())
    })
    .await;
}
