//! `cargo xtask bench`: the simulator's load test and the bundle sizes, printed and written to
//! target/bench/latest.json so runs can be compared.
//!
//! Each measurement returns its own JSON part; a browser benchmark can be added as another
//! module that contributes one more part.

use crate::sizes::{self, Asset};
use crate::tools::{self, Browser};
use crate::{cmd, dist, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fixed load so runs are comparable: 1000 stream subscribers, 500 requests/s, 10 s.
const LOAD_ARGS: [&str; 6] = ["--subscribers", "1000", "--rate", "500", "--seconds", "10"];

pub fn run(root: &Path) -> Result<ExitCode> {
    // The browser is not used yet; checking it now keeps `bench` ready for the page benchmark
    // and fails early on a machine that could not run it.
    let tools = tools::ensure(root, Browser::Needed)?;
    dist::build(root, &tools, None)?;

    let (load_ok, load) = server_load(root)?;
    let assets = dist::print_sizes(root)?;

    let parts = [
        ("unix_time", unix_time().to_string()),
        (
            "git_commit",
            git_commit(root).map_or("null".into(), |c| json_string(&c)),
        ),
        ("server_load", load),
        ("dist", dist_json(&assets)),
    ];
    let path = write_report(root, &parts)?;
    cmd::header(&format!("wrote {}", path.display()));

    if load_ok {
        Ok(ExitCode::SUCCESS)
    } else {
        Err("the load test failed (see its output above)".to_string())
    }
}

/// Runs sim-load, streaming its output; returns whether it succeeded and its JSON part.
fn server_load(root: &Path) -> Result<(bool, String)> {
    let mut load = Command::new("cargo");
    load.current_dir(root)
        .args([
            "run",
            "--release",
            "-p",
            "voicebip-sim",
            "--bin",
            "sim-load",
            "--",
        ])
        .args(LOAD_ARGS);
    let out = cmd::tee("load-testing the simulator", &mut load)?;
    let lines: Vec<String> = out.output.lines().map(json_string).collect();
    let part = format!(
        "{{\"command\": {}, \"success\": {}, \"output\": [{}]}}",
        json_string(&cmd::describe(&load)),
        out.success,
        lines.join(", ")
    );
    Ok((out.success, part))
}

fn dist_json(assets: &[Asset]) -> String {
    let one = |a: &Asset| {
        format!(
            "{{\"path\": {}, \"raw\": {}, \"gzip\": {}, \"brotli\": {}}}",
            json_string(&a.path),
            a.raw,
            a.gzip,
            a.brotli
        )
    };
    let list: Vec<String> = assets.iter().map(one).collect();
    format!(
        "{{\"assets\": [{}], \"total_wasm_js_css\": {}}}",
        list.join(", "),
        one(&sizes::code_total(assets))
    )
}

fn write_report(root: &Path, parts: &[(&str, String)]) -> Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
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
        .map(|(key, value)| format!("  {}: {value}", json_string(key)))
        .collect();
    format!("{{\n{}\n}}\n", fields.join(",\n"))
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
    fn strings_are_escaped() {
        assert_eq!(
            json_string("a \"b\" \\ c\n\u{1b}[0m"),
            r#""a \"b\" \\ c\n\u001b[0m""#
        );
    }

    #[test]
    fn report_shape() {
        let assets = [Asset {
            path: "app.wasm".into(),
            raw: 10,
            gzip: 5,
            brotli: 4,
        }];
        let text = json_object(&[("unix_time", "1".into()), ("dist", dist_json(&assets))]);
        assert_eq!(
            text,
            "{\n  \"unix_time\": 1,\n  \"dist\": {\"assets\": [{\"path\": \"app.wasm\", \"raw\": 10, \"gzip\": 5, \"brotli\": 4}], \
             \"total_wasm_js_css\": {\"path\": \"total (wasm+js+css)\", \"raw\": 10, \"gzip\": 5, \"brotli\": 4}}\n}\n"
        );
    }
}
