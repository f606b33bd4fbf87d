//! Makes the built `index.html` work under a strict Content-Security-Policy: Trunk writes its
//! wasm loader as an inline `<script type="module">`, which `script-src 'self'` refuses. The
//! loader moves to a content-hashed file next to the other assets, referenced with subresource
//! integrity, so the policy needs no `'unsafe-inline'` (only `'wasm-unsafe-eval'` to compile the
//! wasm).

use crate::Result;
use base64::Engine;
use sha2::{Digest, Sha384};
use std::path::Path;

/// The policy the console is tested under, as the README recommends it but for the origins:
/// `connect-src` must also name the API origin when the API is not served from the console's
/// own origin, and `frame-ancestors` the origins in `embed_allowed_origins`.
pub const POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
frame-ancestors 'self'";

/// Rewrites `dist/index.html`; `public_url` is the prefix the assets are served under.
pub fn externalize_loader(dist: &Path, public_url: &str) -> Result<()> {
    let index = dist.join("index.html");
    let html =
        std::fs::read_to_string(&index).map_err(|e| format!("reading {}: {e}", index.display()))?;
    let Some((before, script, after)) = split_inline_module(&html) else {
        return Ok(());
    };
    let file = format!("loader-{}.js", content_hash(script.as_bytes()));
    std::fs::write(dist.join(&file), script).map_err(|e| format!("writing {file}: {e}"))?;
    let prefix = url_prefix(public_url);
    let tag = format!(
        "<script type=\"module\" src=\"{prefix}{file}\" integrity=\"{}\" crossorigin=\"anonymous\"></script>",
        integrity(script.as_bytes())
    );
    std::fs::write(&index, format!("{before}{tag}{after}"))
        .map_err(|e| format!("writing {}: {e}", index.display()))?;
    println!("    moved the inline loader to {file} (strict CSP needs no inline script)");
    Ok(())
}

/// `public_url` ending in exactly one `/`, to put before a file name.
pub fn url_prefix(public_url: &str) -> String {
    if public_url.ends_with('/') {
        public_url.to_owned()
    } else {
        format!("{public_url}/")
    }
}

/// A short content hash for file names: 16 hex digits of SHA-384.
pub fn content_hash(bytes: &[u8]) -> String {
    Sha384::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The subresource integrity value of `bytes`: `sha384-<base64>`.
pub fn integrity(bytes: &[u8]) -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes));
    format!("sha384-{hash}")
}

/// `(html before, script body, html after)` for the first inline module script.
fn split_inline_module(html: &str) -> Option<(&str, &str, &str)> {
    let open = "<script type=\"module\">";
    let start = html.find(open)?;
    let body_start = start + open.len();
    let end = body_start + html[body_start..].find("</script>")?;
    Some((
        &html[..start],
        &html[body_start..end],
        &html[end + "</script>".len()..],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_the_inline_loader_out() {
        let dir = std::env::temp_dir().join(format!("xtask-csp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let html = "<html><head><script type=\"module\">import init from '/c/x.js';\nawait init();</script><link rel=\"x\"></head></html>";
        std::fs::write(dir.join("index.html"), html).expect("write");
        externalize_loader(&dir, "/c").expect("rewrite");
        let out = std::fs::read_to_string(dir.join("index.html")).expect("read");
        assert!(!out.contains("<script type=\"module\">"), "{out}");
        assert!(
            out.contains("<script type=\"module\" src=\"/c/loader-"),
            "{out}"
        );
        assert!(out.contains("integrity=\"sha384-"), "{out}");
        assert!(out.ends_with("<link rel=\"x\"></head></html>"));
        let loader = std::fs::read_dir(&dir)
            .expect("list")
            .filter_map(|e| e.ok())
            .find(|e| e.file_name().to_string_lossy().starts_with("loader-"))
            .expect("loader file");
        assert_eq!(
            std::fs::read_to_string(loader.path()).expect("read loader"),
            "import init from '/c/x.js';\nawait init();"
        );
        // A second run finds nothing inline and leaves the page alone.
        externalize_loader(&dir, "/c").expect("idempotent");
        assert_eq!(
            std::fs::read_to_string(dir.join("index.html")).expect("read"),
            out
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
