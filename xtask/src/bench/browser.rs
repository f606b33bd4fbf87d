//! The browser scenarios: `bench_browser` (tests/e2e/src/bin/bench_browser.rs) drives headless
//! Chromium against the console and the reference page and writes per-run figures as JSON.

use super::json::{self, Value};
use crate::tools::{CHROMEDRIVER, CHROMIUM};
use crate::{cmd, dist, Result};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

/// The reference page and the probe it shares with the console, relative to the root.
pub const REFERENCE_DIR: &str = "tests/bench";
/// What bench_browser serves of it (with their copies), and the probe it installs itself.
const REFERENCE_FILES: [&str; 2] = ["reference.html", "reference.js"];
const PROBE: &str = "probe.js";

/// The reference's files with their compressed copies, in the target directory: served as the
/// console is (`dist::build` writes its copies), so that neither app is sent uncompressed.
fn reference_site(root: &Path, target: &Path) -> Result<PathBuf> {
    let dir = target.join("bench").join("reference");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let copy = |name: &str| {
        let from = root.join(REFERENCE_DIR).join(name);
        fs::copy(&from, dir.join(name)).map_err(|e| format!("copying {}: {e}", from.display()))
    };
    for name in REFERENCE_FILES {
        copy(name)?;
    }
    crate::compress::precompress(&dir)?;
    copy(PROBE)?;
    Ok(dir)
}

pub struct BrowserRun {
    command: String,
    success: bool,
    out: PathBuf,
    /// bench_browser's JSON as written, when it wrote any.
    raw: Option<String>,
    /// The same, parsed; `Null` when missing or unreadable.
    pub figures: Value,
}

/// One invocation of bench_browser.
pub struct Pass<'a> {
    /// What it measures, for the progress line.
    pub what: &'a str,
    /// Its JSON's path under target/bench/; a failed run's screenshot and log go in `failures/`
    /// beside it, so each pass needs a directory of its own.
    pub out: &'a str,
    pub runs: usize,
    pub cold_runs: usize,
    /// The Leptos floor's build, measured beside the other two when given.
    pub floor: Option<&'a Path>,
    /// Which apps (bench_browser's `--apps`); all of them when `None`.
    pub apps: Option<&'a str>,
    /// How long the simulator holds back each cold load's first page of conversations.
    pub api_latency_ms: u64,
}

pub fn run(root: &Path, target: &Path, pass: &Pass) -> Result<BrowserRun> {
    let reference = reference_site(root, target)?;
    let out = target.join("bench").join(pass.out);
    // A stale file from an earlier run must not pass for this one's figures.
    let _ = fs::remove_file(&out);
    // The simulator runs inside the driver: an optimised native build, as sim-load is.
    let mut bench = cmd::cargo_run_native(root, "voicebip-e2e", "bench_browser");
    bench
        .arg("--dist")
        .arg(root.join(dist::DIST_DIR))
        .arg("--reference")
        .arg(&reference)
        .arg("--out")
        .arg(&out)
        .args(["--runs", &pass.runs.to_string()])
        .args(["--cold-runs", &pass.cold_runs.to_string()])
        .args(["--api-latency-ms", &pass.api_latency_ms.to_string()])
        .args(
            pass.floor
                .iter()
                .flat_map(|dir| [OsStr::new("--floor"), dir.as_os_str()]),
        )
        .args(pass.apps.iter().flat_map(|apps| ["--apps", apps]))
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env("CHROMIUM", CHROMIUM);
    let success = cmd::status(pass.what, &mut bench)?;
    let raw = fs::read_to_string(&out).ok();
    let figures = raw
        .as_deref()
        .and_then(|text| json::parse(text).ok())
        .unwrap_or(Value::Null);
    Ok(BrowserRun {
        command: cmd::describe(&bench),
        success,
        out,
        raw,
        figures,
    })
}

impl BrowserRun {
    /// bench_browser's own JSON (already JSON), wrapped with how it was run.
    pub fn json(&self) -> String {
        let result = match (&self.raw, &self.figures) {
            (Some(raw), v) if *v != Value::Null => raw.trim(),
            _ => "null",
        };
        format!(
            "{{\"command\": {}, \"success\": {}, \"result\": {}}}",
            json::string(&self.command),
            self.success,
            result.replace('\n', "\n  ")
        )
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .figures
            .get("errors")
            .as_array()
            .iter()
            .filter_map(Value::as_str)
            .map(|e| format!("browser bench ({}): {e}", self.out.display()))
            .collect();
        if self.figures == Value::Null {
            out.push(format!(
                "the browser bench wrote no figures to {} (see its output above)",
                self.out.display()
            ));
        } else if !self.success {
            out.push(format!(
                "the browser bench writing {} exited with an error (see its output above)",
                self.out.display()
            ));
        }
        out
    }
}
