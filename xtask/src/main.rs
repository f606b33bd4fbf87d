//! `cargo xtask <command>`: the one entry point for trying, testing and measuring the console.
//!
//! Every command first makes sure the pinned tools are present (see `tools.rs`), so a fresh
//! machine needs nothing but Rust, Node.js and, for the browser layers, Debian's Chromium.

mod bench;
mod cmd;
mod code_order;
mod compress;
mod csp;
mod demo;
mod dist;
mod import_names;
mod lean_std;
mod sizes;
mod split;
mod summary;
mod test;
mod tools;
mod wasm_binary;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Errors are messages for a person: they say what failed and, where it helps, what to run.
pub type Result<T> = std::result::Result<T, String>;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  demo [--large] [--port N]   build the console and serve it from the simulator with live traffic
  test                        fmt, clippy, unit, component (wasm) and end-to-end tests; one summary
  dist [--public-url /path/]  release build into dist/ and a table of raw, gzip and brotli sizes
  bench                       build, compare the console with a vanilla JS reference in headless Chromium (VOICEBIP_BENCH_RUNS, default 5) and run the simulator load check, write target/bench/latest.json
  sizes [DIR]                 the size table for an existing folder (default dist/), no build";

fn main() -> ExitCode {
    let mut args = Args::new(std::env::args().skip(1).collect());
    let Some(command) = args.next() else {
        println!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let root = workspace_root();
    let result = match command.as_str() {
        "demo" => demo::Options::parse(&mut args).and_then(|o| demo::run(&root, &o)),
        "test" => args.finish().and_then(|()| test::run(&root)),
        "dist" => dist::Options::parse(&mut args).and_then(|o| dist::run(&root, &o)),
        "bench" => args.finish().and_then(|()| bench::run(&root)),
        "sizes" => sizes_command(&root, &mut args),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn sizes_command(root: &Path, args: &mut Args) -> Result<ExitCode> {
    let dir = match args.next() {
        Some(dir) => PathBuf::from(dir),
        None => root.join(dist::DIST_DIR),
    };
    args.finish()?;
    let assets = sizes::measure(&dir)?;
    println!("{}", sizes::table(&assets));
    Ok(ExitCode::SUCCESS)
}

/// The workspace root is the parent of this crate: xtask is always built from the checkout it
/// drives, so the compile-time path is the right one, and the commands work from any directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Cargo's target directory as Cargo resolves it (`CARGO_TARGET_DIR`, `build.target-dir` in a
/// config, or `target/`): where Trunk's cargo build leaves the wasm that `split.rs` splits.
pub fn target_dir(root: &Path) -> Result<PathBuf> {
    let metadata =
        cmd::probe(cmd::cargo(root).args(["metadata", "--no-deps", "--format-version", "1"]))
            .ok_or("`cargo metadata --no-deps` failed; run it in the workspace to see why")?;
    bench::json::parse(&metadata)?
        .get("target_directory")
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "`cargo metadata` names no target_directory".to_string())
}

/// Hand-rolled argument handling: a handful of flags does not justify an argument-parser crate
/// in the first thing CI compiles.
pub struct Args {
    rest: Vec<String>,
}

impl Args {
    pub fn new(rest: Vec<String>) -> Self {
        Self { rest }
    }

    fn next(&mut self) -> Option<String> {
        (!self.rest.is_empty()).then(|| self.rest.remove(0))
    }

    /// Removes `--name` if present.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.rest.len();
        self.rest.retain(|a| a != name);
        self.rest.len() != before
    }

    /// Removes `--name VALUE` or `--name=VALUE` and returns the value.
    pub fn value(&mut self, name: &str) -> Result<Option<String>> {
        let prefix = format!("{name}=");
        if let Some(i) = self.rest.iter().position(|a| a.starts_with(&prefix)) {
            let arg = self.rest.remove(i);
            return Ok(Some(arg[prefix.len()..].to_string()));
        }
        let Some(i) = self.rest.iter().position(|a| a == name) else {
            return Ok(None);
        };
        if i + 1 >= self.rest.len() {
            return Err(format!("{name} needs a value"));
        }
        self.rest.remove(i);
        Ok(Some(self.rest.remove(i)))
    }

    /// Fails on anything not consumed, so a typo is not silently ignored.
    pub fn finish(&self) -> Result<()> {
        match self.rest.first() {
            None => Ok(()),
            Some(arg) => Err(format!("unexpected argument `{arg}`\n\n{USAGE}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Args;

    fn args(list: &[&str]) -> Args {
        Args::new(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn flags_and_values_in_both_spellings() {
        let mut a = args(&["--large", "--port", "9000"]);
        assert!(a.flag("--large"));
        assert_eq!(a.value("--port").unwrap().as_deref(), Some("9000"));
        assert!(a.finish().is_ok());

        let mut b = args(&["--public-url=/console/"]);
        assert_eq!(
            b.value("--public-url").unwrap().as_deref(),
            Some("/console/")
        );
        assert!(!b.flag("--large"));
        assert!(b.finish().is_ok());
    }

    #[test]
    fn missing_value_and_leftovers_are_errors() {
        assert!(args(&["--port"]).value("--port").is_err());
        let mut a = args(&["--lrage"]);
        assert!(!a.flag("--large"));
        assert!(a.finish().is_err());
    }
}
