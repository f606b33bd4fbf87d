//! `cargo xtask dist [--public-url /path/]`: the release build and what it weighs.

use crate::tools::{self, Browser, Tools};
use crate::{cmd, lean_std, sizes, split, Args, Result};
use std::path::Path;
use std::process::ExitCode;

/// Where trunk writes the build, relative to the workspace root; the simulator serves it and
/// the end-to-end tests load it from here.
pub const DIST_DIR: &str = "dist";
/// A second build served under a sub-path, as a CDN would host it; the e2e suite loads it under
/// that path with the strict CSP.
pub const SUBPATH_DIST_DIR: &str = "dist-subpath";
pub const SUBPATH: &str = "/console/";

pub struct Options {
    pub public_url: Option<String>,
}

impl Options {
    pub fn parse(args: &mut Args) -> Result<Self> {
        let public_url = args.value("--public-url")?;
        args.finish()?;
        if let Some(url) = &public_url {
            check_public_url(url)?;
        }
        Ok(Self { public_url })
    }
}

/// A build is for one address: a relative one (`./`) would name its files from the page's
/// address, which a reloaded deep link (`/console/conversations/conv_1`) puts below them, so
/// that every file came back as the host's `index.html` and the console never started.
fn check_public_url(url: &str) -> Result<()> {
    let absolute = url.starts_with('/') && !url.starts_with("//")
        || url.starts_with("https://")
        || url.starts_with("http://");
    if absolute {
        Ok(())
    } else {
        Err(format!(
            "--public-url {url:?} is not absolute: give the path the console is served under \
             (/console/), or its https:// address; a build serves one address"
        ))
    }
}

pub fn run(root: &Path, options: &Options) -> Result<ExitCode> {
    let tools = tools::ensure(root, Browser::NotNeeded)?;
    build(root, &tools, options.public_url.as_deref())?;
    print_sizes(root)?;
    Ok(ExitCode::SUCCESS)
}

/// `trunk build --release --offline --locked` into dist/.
///
/// `--offline` keeps trunk from downloading tools (it must use the pinned ones on PATH), but it
/// also makes its `cargo build` offline, so the crates are fetched first: on a fresh machine
/// nothing else would have downloaded the wasm-only dependencies yet. `--locked` holds its
/// `cargo build` to Cargo.lock, as every other cargo command here is.
pub fn build(root: &Path, tools: &Tools, public_url: Option<&str>) -> Result<()> {
    build_into(root, tools, public_url, DIST_DIR)
}

pub fn build_into(root: &Path, tools: &Tools, public_url: Option<&str>, dir: &str) -> Result<()> {
    trunk_build(
        root,
        tools,
        &CONSOLE,
        public_url,
        Path::new(dir),
        "building the console",
    )
}

/// The bench's Leptos floor (`tests/bench/floor`) into `dir`, served under [`FLOOR_URL`]: built
/// exactly as the console is, so that the two differ only in their code.
pub fn build_floor(root: &Path, tools: &Tools, dir: &Path) -> Result<()> {
    trunk_build(
        root,
        tools,
        &FLOOR,
        Some(FLOOR_URL),
        dir,
        "building the bench's Leptos floor",
    )
}

/// An app Trunk builds: its page (Trunk.toml's target when `None`) and its binary.
struct App {
    index: Option<&'static str>,
    bin: &'static str,
}

const CONSOLE: App = App {
    index: None,
    bin: "voicebip-console",
};
const FLOOR: App = App {
    index: Some("tests/bench/floor/index.html"),
    bin: "bench-floor",
};
/// Where bench_browser serves and opens the floor (`App::Floor` in bench_browser.rs).
pub const FLOOR_URL: &str = "/floor/";

/// `trunk build` of `app` into `dir` (relative to the root or absolute), split at its split points
/// (`split.rs`), with its loader moved out of the page for the strict CSP. Every app gets the
/// split build's flags and the std built for size (`lean_std.rs`), so that they share their
/// dependencies' build. Last, the compressed copies a host serves (`compress.rs`).
fn trunk_build(
    root: &Path,
    tools: &Tools,
    app: &App,
    public_url: Option<&str>,
    dir: &Path,
    what: &str,
) -> Result<()> {
    let build_env = tools.std.build_env(split::RUSTFLAGS_VAR, split::RUSTFLAGS);
    cmd::run(
        "fetching the crates for the offline build",
        cmd::cargo(root).arg("fetch"),
    )?;
    if let lean_std::Std::ForSize = tools.std {
        // A plain fetch leaves out the std's own dependencies; they are fetched for the wasm.
        cmd::run(
            "fetching the crates of the std built for size",
            cmd::cargo(root).envs(build_env.iter().cloned()).args([
                "fetch",
                "--target",
                tools::WASM_TARGET,
            ]),
        )?;
    }
    let mut trunk = tools.trunk(root);
    trunk
        .envs(build_env)
        .args(["build", "--release", "--offline", "--locked", "--dist"])
        .arg(dir);
    if let Some(url) = public_url {
        trunk.args(["--public-url", url]);
    }
    if let Some(index) = app.index {
        trunk.arg(index);
    }
    cmd::run(what, &mut trunk)?;
    let public_url = public_url.unwrap_or("/");
    split::apply(root, app.bin, &root.join(dir), public_url)?;
    crate::csp::externalize_loader(&root.join(dir), public_url)?;
    crate::compress::precompress(&root.join(dir))
}

pub fn print_sizes(root: &Path) -> Result<Vec<sizes::Asset>> {
    let dir = root.join(DIST_DIR);
    cmd::header(&format!(
        "measuring {} (raw, gzip by Zopfli, brotli -q 11)",
        dir.display()
    ));
    let assets = sizes::measure(&dir)?;
    println!("{}", sizes::table(&assets));
    Ok(assets)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_public_url_is_absolute() {
        for good in [
            "/",
            "/console/",
            "/console",
            "https://cdn.example.com/console/",
        ] {
            assert!(super::check_public_url(good).is_ok(), "{good}");
        }
        for bad in ["./", "console/", "", "//cdn.example.com/console/"] {
            assert!(super::check_public_url(bad).is_err(), "{bad:?}");
        }
    }
}
