//! `cargo xtask bench`: what the console weighs and how fast it is, next to a hand-written
//! vanilla-JS reference page (tests/bench/) measured in the same run on the same simulator.
//!
//! Three measurements, each contributing figures and a raw JSON part:
//! - the transfer size of dist/ (sizes.rs), of the reference page and of the Leptos floor
//!   (tests/bench/floor: the reference's first screen as a minimal Leptos app, built as the
//!   console is, for the framework's share of size and cold load);
//! - the browser scenarios (`bench_browser`, a binary of the end-to-end crate that reuses its
//!   harness: Large seed, headless Chromium, the same steps for the console and the reference,
//!   and the cold load for the Leptos floor), then the cold load again with the simulator
//!   holding each first page of conversations back 100 ms;
//! - the simulator's stream fan-out (`sim-load`).
//!
//! The table goes to stdout and everything to target/bench/latest.json. The bench is not a
//! test: a missed budget or a failed measurement is reported in the table, and the exit status
//! is success as long as the report could be written.
//!
//! `VOICEBIP_BENCH_RUNS` (default 5) sets how many runs each browser figure is the median of;
//! `VOICEBIP_BENCH_COLD_RUNS` (default 10) how many more cold loads per app the cold-load
//! figures take in (one sample a run moves too much to judge against its budget).

mod browser;
pub mod json;
mod load;
mod machine;
mod report;

use crate::sizes::{self, Asset};
use crate::tools::{self, Browser};
use crate::{cmd, dist, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const DEFAULT_RUNS: usize = 5;
const DEFAULT_COLD_RUNS: usize = 10;

pub fn run(root: &Path) -> Result<ExitCode> {
    let started = Instant::now();
    let runs = count_from_env("VOICEBIP_BENCH_RUNS", DEFAULT_RUNS, 1)?;
    let cold_runs = count_from_env("VOICEBIP_BENCH_COLD_RUNS", DEFAULT_COLD_RUNS, 0)?;
    let tools = tools::ensure(root, Browser::Needed)?;
    dist::build(root, &tools, None)?;

    let assets = dist::print_sizes(root)?;
    let reference_assets = reference_sizes(root)?;
    let target = crate::target_dir(root)?;
    let floor = floor(root, &tools, &target);
    let (floor_dir, floor_assets) = match &floor {
        Ok((dir, assets)) => (Some(dir.as_path()), assets.as_slice()),
        Err(_) => (None, &[][..]),
    };
    let browser = browser::run(
        root,
        &target,
        &browser::Pass {
            what: "measuring the console, the reference page and the Leptos floor in headless Chromium",
            out: "browser.json",
            runs,
            cold_runs,
            floor: floor_dir,
            apps: None,
            api_latency_ms: 0,
        },
    )?;
    // The same cold load with the API a network away, as from a CDN: what the first render
    // does while its first page is still out shows here, not on loopback.
    let remote_what = format!(
        "the cold load again, with the API {} ms away",
        report::REMOTE_API_MS
    );
    let remote = browser::run(
        root,
        &target,
        &browser::Pass {
            what: &remote_what,
            out: "remote-api/browser.json",
            runs: 0,
            cold_runs: runs + cold_runs,
            floor: None,
            apps: Some("console,reference"),
            api_latency_ms: report::REMOTE_API_MS,
        },
    )?;
    let load = load::run(root)?;
    let machine = machine::Machine::probe();

    let figures = report::figures(
        &report::Assets {
            console: &assets,
            floor: floor_assets,
            reference: &reference_assets,
        },
        &browser.figures,
        &remote.figures,
        &load.result,
    );
    let parts = [
        ("unix_time", unix_time().to_string()),
        (
            "git_commit",
            git_commit(root).map_or("null".into(), |c| json::string(&c)),
        ),
        ("machine", machine.json()),
        ("runs", runs.to_string()),
        ("cold_runs", cold_runs.to_string()),
        ("seconds", format!("{:.0}", started.elapsed().as_secs_f64())),
        ("figures", report::figures_json(&figures)),
        ("dist", dist_json(&assets)),
        ("reference_page", assets_json(&reference_assets)),
        ("leptos_floor", assets_json(floor_assets)),
        ("browser", browser.json()),
        ("browser_remote_api", remote.json()),
        ("server_load", load.json()),
    ];
    let path = write_report(&target, &parts)?;

    cmd::header(&format!(
        "benchmark: console vs. reference page, median of {runs} run(s), cold load of {} \
         ({:.0} s in all)",
        runs + cold_runs,
        started.elapsed().as_secs_f64()
    ));
    println!("measured on: {}", machine.describe());
    println!("{}", report::table(&figures));
    if let Err(e) = &floor {
        println!("note: the Leptos floor was not built or measured, so its rows say n/a: {e}");
    }
    let problems = [browser.problems(), remote.problems(), load.problems()];
    for problem in problems.iter().flatten() {
        println!("note: {problem}");
    }
    println!("{}", report::summary(&figures));
    println!(
        "(the bench never fails the build; the full report is {})",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A count from the environment, `default` when unset, at least `min`.
fn count_from_env(name: &str, default: usize, min: usize) -> Result<usize> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) => v
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= min)
            .ok_or_else(|| format!("{name} wants a number of at least {min}, not `{v}`")),
    }
}

/// The Leptos floor (tests/bench/floor), built into the target directory, and its files. A
/// floor that does not build leaves its rows without figures; the console's do not depend on it.
fn floor(root: &Path, tools: &tools::Tools, target: &Path) -> Result<(PathBuf, Vec<Asset>)> {
    let dir = target.join("bench").join("floor");
    dist::build_floor(root, tools, &dir)?;
    let assets = sizes::measure(&dir)?;
    Ok((dir, assets))
}

/// The reference page's own files (what a browser downloads for it), measured like dist/.
fn reference_sizes(root: &Path) -> Result<Vec<Asset>> {
    let all = sizes::measure(&root.join(browser::REFERENCE_DIR))?;
    Ok(all
        .into_iter()
        .filter(|a| a.path.starts_with("reference."))
        .collect())
}

fn assets_json(assets: &[Asset]) -> String {
    let list: Vec<String> = assets.iter().map(asset_json).collect();
    format!("[{}]", list.join(", "))
}

fn asset_json(a: &Asset) -> String {
    format!(
        "{{\"path\": {}, \"raw\": {}, \"gzip\": {}, \"brotli\": {}}}",
        json::string(&a.path),
        a.raw,
        a.gzip,
        a.brotli
    )
}

fn dist_json(assets: &[Asset]) -> String {
    format!(
        "{{\"assets\": {}, \"total_wasm_js_css\": {}, \"to_start_wasm_js_css\": {}}}",
        assets_json(assets),
        asset_json(&sizes::code_total(assets)),
        asset_json(&sizes::start_total(assets))
    )
}

fn write_report(target: &Path, parts: &[(&str, String)]) -> Result<PathBuf> {
    let dir = target.join("bench");
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let path = dir.join("latest.json");
    fs::write(&path, json_object(parts)).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}

/// Top-level object, one part per line; each value is already JSON.
fn json_object(parts: &[(&str, String)]) -> String {
    let fields: Vec<String> = parts
        .iter()
        .map(|(key, value)| format!("  {}: {value}", json::string(key)))
        .collect();
    format!("{{\n{}\n}}\n", fields.join(",\n"))
}

fn unix_time() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn git_commit(root: &Path) -> Option<String> {
    cmd::probe(
        Command::new("git")
            .current_dir(root)
            .args(["rev-parse", "HEAD"]),
    )
    .map(|s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_shape() {
        let assets = [Asset {
            path: "app_bg.wasm".into(),
            raw: 10,
            gzip: 5,
            brotli: 4,
        }];
        let text = json_object(&[("unix_time", "1".into()), ("dist", dist_json(&assets))]);
        assert_eq!(
            text,
            "{\n  \"unix_time\": 1,\n  \"dist\": {\"assets\": [{\"path\": \"app_bg.wasm\", \"raw\": 10, \"gzip\": 5, \"brotli\": 4}], \
             \"total_wasm_js_css\": {\"path\": \"total (wasm+js+css)\", \"raw\": 10, \"gzip\": 5, \"brotli\": 4}, \
             \"to_start_wasm_js_css\": {\"path\": \"to start (without chunks)\", \"raw\": 10, \"gzip\": 5, \"brotli\": 4}}\n}\n"
        );
        assert!(json::parse(&text).is_ok());
    }
}
