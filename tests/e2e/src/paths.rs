//! Where the harness finds what it needs: every location can be overridden by an environment
//! variable, so CI and developers can point at other builds without editing code.

use std::env;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// The workspace root, two levels above this crate (`tests/e2e`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

fn from_env_or(var: &str, default: impl FnOnce() -> PathBuf) -> PathBuf {
    env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(default)
}

/// The built console (`VOICEBIP_DIST`, default `<workspace>/dist`). The tests exercise the
/// real Trunk output, so they refuse to run against a missing build rather than a stale guess.
pub fn dist_dir() -> Result<PathBuf> {
    let dir = from_env_or("VOICEBIP_DIST", || workspace_root().join("dist"));
    if !dir.join("index.html").is_file() {
        bail!(
            "no built console at {}: run `cargo xtask test` (it builds dist/ first), \
             or set VOICEBIP_DIST to a directory containing index.html",
            dir.join("index.html").display()
        );
    }
    Ok(dir)
}

/// ChromeDriver (`CHROMEDRIVER`, default Debian's `/usr/bin/chromedriver`).
pub fn chromedriver() -> Result<PathBuf> {
    let path = from_env_or("CHROMEDRIVER", || "/usr/bin/chromedriver".into());
    if !path.is_file() {
        bail!(
            "ChromeDriver not found at {} (apt-get install chromium-driver, or set CHROMEDRIVER)",
            path.display()
        );
    }
    Ok(path)
}

/// The browser binary (`CHROMIUM`, default Debian's `/usr/bin/chromium`).
pub fn chromium() -> Result<PathBuf> {
    let path = from_env_or("CHROMIUM", || "/usr/bin/chromium".into());
    if !path.is_file() {
        bail!(
            "Chromium not found at {} (apt-get install chromium, or set CHROMIUM)",
            path.display()
        );
    }
    Ok(path)
}

/// axe-core's browser bundle (`AXE_CORE_JS`, default the copy xtask installs under `.tools/`).
pub fn axe_core_js() -> Result<PathBuf> {
    let path = from_env_or("AXE_CORE_JS", || {
        workspace_root().join(".tools/node_modules/axe-core/axe.min.js")
    });
    if !path.is_file() {
        bail!(
            "axe-core not found at {}: run `cargo xtask test` (it installs it), \
             or set AXE_CORE_JS to axe.min.js",
            path.display()
        );
    }
    Ok(path)
}

/// Where failing tests leave screenshots and logs (`VOICEBIP_E2E_ARTIFACTS`, default
/// `<target>/e2e-artifacts`).
pub fn artifacts_dir() -> PathBuf {
    from_env_or("VOICEBIP_E2E_ARTIFACTS", || {
        from_env_or("CARGO_TARGET_DIR", || workspace_root().join("target")).join("e2e-artifacts")
    })
}
