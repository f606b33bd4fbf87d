//! `cargo xtask test`: every layer, cheapest first, all of them even after a failure, so one
//! run reports everything that is wrong; then one closing line `N passed, M failed`.

use crate::summary::{self, Summary};
use crate::tools::{self, Browser, Tools, CHROMEDRIVER, CHROMIUM, WASM_TARGET};
use crate::{cmd, dist, Result};
use std::path::Path;
use std::process::{Command, ExitCode};

// How many tests each layer holds at the fewest: well under the counts today (about 410
// native, 30 component, 210 end-to-end), so removing tests does not trip them, but a layer
// whose tests stopped registering (a cfg, a runner's upgrade: `0 passed`, exit 0) fails.
const UNIT_AT_LEAST: u64 = 300;
const COMPONENT_AT_LEAST: u64 = 15;
const E2E_AT_LEAST: u64 = 150;

pub fn run(root: &Path) -> Result<ExitCode> {
    let mut summary = Summary::default();
    let tools = match tools::ensure(root, Browser::Needed) {
        Ok(tools) => tools,
        Err(e) => {
            // Nothing can run without the tools; still close with the summary line so CI
            // reads a failure rather than a run without tests.
            eprintln!("error: {e}");
            summary.check("pinned tools", false);
            return Ok(finish(&summary));
        }
    };

    check(
        &mut summary,
        "checking formatting",
        "cargo fmt",
        cargo(root).args(["fmt", "--all", "--check"]),
    )?;
    // Build products that no later step uses are removed once their step is done, so that a
    // cold run needs the disk of its largest steps, not of all of them (a CI machine ran out):
    // the lints' type-checked metadata, built apart for that, and the component tests' debug
    // wasm. A second run builds them again.
    let target = crate::target_dir(root)?;
    let lint_dir = target.join("lint");
    // The component tests' browser profile (84 MB): ChromeDriver makes it in the temporary
    // directory and leaves it there when the test runner ends it, one more in /tmp each run.
    let browser_tmp = target.join("component-tmp");
    check(
        &mut summary,
        "linting native code",
        "clippy (native)",
        cargo_in(root, &lint_dir).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    check(
        &mut summary,
        "linting the console (and the bench's Leptos floor) for wasm",
        "clippy (wasm)",
        cargo_in(root, &lint_dir).args([
            "clippy",
            "-p",
            "voicebip-console",
            "-p",
            "voicebip-bench-floor",
            "--target",
            WASM_TARGET,
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // The release build's code (`--cfg voicebip_split`, see split.rs). The cfg goes to the
    // console alone, as clippy's argument: in the rustflags it would have every dependency
    // checked again, into a target directory of its own (a minute, and 300 MB of disk).
    check(
        &mut summary,
        "linting the console as the release build splits it",
        "clippy (wasm, split build)",
        cargo_in(root, &lint_dir).args([
            "clippy",
            "-p",
            "voicebip-console",
            "--target",
            WASM_TARGET,
            "--",
            "-D",
            "warnings",
            "--cfg",
            "voicebip_split",
        ]),
    )?;
    remove_scratch(&lint_dir);
    // (Where earlier versions linted the split build, 300 MB a checkout may still hold.)
    remove_scratch(&target.join("split-check"));
    tests(
        &mut summary,
        "running the native unit tests (console model, simulator contract, xtask)",
        "unit tests (native)",
        UNIT_AT_LEAST,
        cargo(root).args([
            "test",
            "--no-fail-fast",
            "--workspace",
            "--exclude",
            "voicebip-e2e",
        ]),
    )?;
    tests(
        &mut summary,
        "running the component tests in headless Chromium",
        "component tests (wasm)",
        COMPONENT_AT_LEAST,
        &mut component_tests(root, &browser_tmp),
    )?;
    remove_scratch(&target.join(WASM_TARGET).join("debug"));
    remove_scratch(&browser_tmp);

    let built = dist::build(root, &tools, None)
        .and_then(|()| dist::build_into(root, &tools, Some(dist::SUBPATH), dist::SUBPATH_DIST_DIR));
    summary.check("release build (trunk)", built.is_ok());
    match built {
        Ok(()) => tests(
            &mut summary,
            "running the end-to-end tests against the release build",
            "end-to-end tests",
            E2E_AT_LEAST,
            &mut e2e_tests(root, &tools),
        )?,
        Err(e) => {
            eprintln!("{e}");
            summary.skipped("end-to-end tests", "the release build failed");
        }
    }

    Ok(finish(&summary))
}

fn finish(summary: &Summary) -> ExitCode {
    cmd::header("summary");
    println!("{}", summary.render());
    if summary.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Cargo for one step of the run. Not incremental: a whole run rebuilds the workspace's crates
/// once each, so the incremental caches (2 GB on a cold run) would only take disk.
fn cargo(root: &Path) -> Command {
    let mut cmd = cmd::cargo(root);
    cmd.env("CARGO_INCREMENTAL", "0");
    cmd
}

/// Cargo for a step whose products go to `dir` of their own, to be removed after it.
fn cargo_in(root: &Path, dir: &Path) -> Command {
    let mut cmd = cargo(root);
    cmd.env("CARGO_TARGET_DIR", dir);
    cmd
}

/// Removes a step's build products; one that cannot be removed only costs disk.
fn remove_scratch(dir: &Path) {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => eprintln!("warning: could not remove {}: {e}", dir.display()),
    }
}

/// wasm-bindgen-test-runner (the wasm32 runner in .cargo/config.toml) picks the browser from
/// each test binary's `wasm_bindgen_test_configure!`; `WASM_BINDGEN_USE_BROWSER` makes binaries
/// without it run in the browser too instead of falling back to Node. The runner starts
/// ChromeDriver itself from `CHROMEDRIVER` and reads the headless flags from webdriver.json,
/// which it looks for in the working directory unless told the path.
fn component_tests(root: &Path, tmp: &Path) -> Command {
    let mut cmd = cargo(root);
    // (Chromium's profile goes to `TMPDIR`, which must exist.)
    if let Err(e) = std::fs::create_dir_all(tmp) {
        eprintln!("warning: could not make {}: {e}", tmp.display());
    }
    cmd.env("TMPDIR", tmp);
    cmd.args([
        "test",
        "--no-fail-fast",
        "-p",
        "voicebip-console",
        "--target",
        WASM_TARGET,
    ])
    .env("WASM_BINDGEN_USE_BROWSER", "1")
    .env("CHROMEDRIVER", CHROMEDRIVER)
    .env(
        "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
        root.join("webdriver.json"),
    );
    cmd
}

fn e2e_tests(root: &Path, tools: &Tools) -> Command {
    let mut cmd = cargo(root);
    // (Each layer to its end: cargo otherwise stops at the first test binary that fails, and
    // the ones after it would go unreported.)
    cmd.args(["test", "--no-fail-fast", "-p", "voicebip-e2e"])
        .env("VOICEBIP_DIST", root.join(dist::DIST_DIR))
        .env("VOICEBIP_DIST_SUBPATH", root.join(dist::SUBPATH_DIST_DIR))
        .env("VOICEBIP_SUBPATH", dist::SUBPATH)
        .env("VOICEBIP_CSP", crate::csp::POLICY)
        .env("AXE_CORE_JS", &tools.axe_core_js)
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env("CHROMIUM", CHROMIUM);
    cmd
}

/// A step that runs no tests: recorded by exit status.
fn check(summary: &mut Summary, what: &str, name: &str, cmd: &mut Command) -> Result<()> {
    let ok = cmd::status(what, cmd)?;
    summary.check(name, ok);
    Ok(())
}

/// A test layer: output streamed and kept, its `test result:` lines counted; fewer than
/// `at_least` tests run fails it.
fn tests(
    summary: &mut Summary,
    what: &str,
    name: &str,
    at_least: u64,
    cmd: &mut Command,
) -> Result<()> {
    let out = cmd::tee(what, cmd)?;
    summary.tests(name, out.success, summary::parse(&out.output), at_least);
    Ok(())
}
