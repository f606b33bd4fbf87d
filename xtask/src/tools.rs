//! The pinned tools, in one place, and installing only what is missing.
//!
//! Versions live here as consts, except wasm-bindgen's: the CLI must equal the library that
//! Cargo.lock resolved, so it is read from there and nowhere else. Every check is a version
//! probe, so running any command twice installs nothing the second time.

use crate::cmd::{self, header, probe};
use crate::lean_std;
use crate::Result;
use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Trunk 0.22 needs a newer rustc than these machines have.
pub const TRUNK: &str = "0.21.14";
/// wasm-opt from npm. Debian's binaryen 108 must not be used: its `-Oz` output builds, then
/// fails in the browser on the reference-types tables current rustc and wasm-bindgen emit.
pub const BINARYEN: &str = "132.0.0";
/// The wasm splitter of `wasm_split_cli_support` (`split.rs`): the CLI of the format that
/// Leptos's `wasm_split_helpers` writes. It has no `--version`; `cargo install --list` tells.
pub const WASM_SPLIT: &str = "0.2.4";
const WASM_SPLIT_CRATE: &str = "wasm_split_cli_support";
/// Injected into pages by the end-to-end accessibility checks.
pub const AXE_CORE: &str = "4.14.1";
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Debian's packages; webdriver.json and .cargo/config.toml name the same paths.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Project-local npm tools (gitignored), so nothing is installed globally and the pinned
/// wasm-opt can be put first on PATH without touching the system's.
pub const TOOLS_DIR: &str = ".tools";

const APT_INSTALL: &str =
    "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver";

/// Whether a command drives a real browser.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    Needed,
    NotNeeded,
}

/// What later steps need to know about the tools.
pub struct Tools {
    /// The wasm-bindgen version from Cargo.lock (also the installed CLI's).
    pub wasm_bindgen: String,
    /// Absolute path of axe.min.js, for the end-to-end tests.
    pub axe_core_js: PathBuf,
    /// The release wasm's standard library.
    pub std: lean_std::Std,
}

impl Tools {
    /// `trunk` with the tool versions passed explicitly. Trunk reads `TRUNK_TOOLS_*` as
    /// overrides of Trunk.toml's `[tools]`; with `--offline` a mismatch with the installed tool
    /// then stops the build instead of silently using whatever is on PATH.
    pub fn trunk(&self, root: &Path) -> Command {
        let mut cmd = Command::new("trunk");
        cmd.current_dir(root)
            .env("TRUNK_TOOLS_WASM_BINDGEN", &self.wasm_bindgen)
            .env("TRUNK_TOOLS_WASM_OPT", wasm_opt_pin());
        cmd
    }
}

/// Checks every tool a command needs and installs what is missing or at the wrong version.
pub fn ensure(root: &Path, browser: Browser) -> Result<Tools> {
    header("checking the pinned tools");
    put_tools_first_on_path(root);

    let lock = read(&root.join("Cargo.lock"))?;
    let wasm_bindgen = locked_version(&lock, "wasm-bindgen")?;
    let trunk_toml = root.join("Trunk.toml");
    let trunk_toml = fs::read_to_string(&trunk_toml).ok();
    if check_trunk_pins(trunk_toml.as_deref(), &wasm_bindgen)? {
        ok(&format!(
            "Trunk.toml [tools] agrees with Cargo.lock (wasm-bindgen {wasm_bindgen})"
        ));
    } else {
        ok(&format!(
            "Trunk.toml pins no wasm_bindgen; trunk gets {wasm_bindgen} from Cargo.lock"
        ));
    }

    let helpers = locked_version(&lock, "wasm_split_helpers")?;
    check_split_pin(&helpers)?;

    ensure_wasm_target()?;
    let std = lean_std::ensure();
    match std {
        lean_std::Std::ForSize => ok(&std.describe()),
        lean_std::Std::Prebuilt { .. } => println!("    warning: {}", std.describe()),
    }
    let axe_core_js = ensure_npm_tools(root)?;
    // Not `--locked`, unlike the tools below: its lock file pins webpki-roots 1.0.11, which
    // the machines' crates.io mirror does not hold (tried on 2026-12-05: the install fails).
    ensure_cargo_tool(
        "wasm-bindgen",
        &wasm_bindgen,
        || version_of("wasm-bindgen"),
        &["install", "wasm-bindgen-cli", "--version", &wasm_bindgen],
    )?;
    ensure_cargo_tool(
        "trunk",
        TRUNK,
        || version_of("trunk"),
        &["install", "trunk", "--locked", "--version", TRUNK],
    )?;
    ensure_cargo_tool(
        "wasm-split-cli",
        WASM_SPLIT,
        || {
            // cargo's record of an install outlives a binary removed by hand: run it too.
            probe(Command::new("wasm-split-cli").arg("--help"))?;
            probe(Command::new("cargo").args(["install", "--list"]))
                .and_then(|list| listed_version(&list, WASM_SPLIT_CRATE))
        },
        &[
            "install",
            WASM_SPLIT_CRATE,
            "--locked",
            "--version",
            WASM_SPLIT,
            "--features",
            "build-binary",
        ],
    )?;
    if browser == Browser::Needed {
        ensure_browser()?;
    }
    Ok(Tools {
        wasm_bindgen,
        axe_core_js,
        std,
    })
}

fn ok(what: &str) {
    println!("    ok: {what}");
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// The tools' folders go first on PATH for xtask and so for every child: trunk must find the
/// pinned wasm-opt before Debian's, and a fresh `cargo install` must be found before a login
/// shell has put ~/.cargo/bin on PATH.
fn put_tools_first_on_path(root: &Path) {
    let first = [
        root.join(TOOLS_DIR).join("node_modules").join(".bin"),
        cargo_home().join("bin"),
    ];
    let current = env::var_os("PATH").unwrap_or_default();
    let rest = env::split_paths(&current).filter(|d| !first.contains(d));
    let dirs: Vec<PathBuf> = first.iter().cloned().chain(rest).collect();
    if let Ok(path) = env::join_paths(dirs) {
        // Set before any thread starts, so no concurrent reader can observe the change.
        env::set_var("PATH", path);
    }
}

fn cargo_home() -> PathBuf {
    if let Some(home) = env::var_os("CARGO_HOME") {
        return PathBuf::from(home);
    }
    PathBuf::from(env::var_os("HOME").unwrap_or_else(|| OsString::from("/root"))).join(".cargo")
}

fn ensure_wasm_target() -> Result<()> {
    let installed = probe(Command::new("rustup").args(["target", "list", "--installed"]))
        .ok_or_else(|| {
            format!(
                "`rustup` is not available; install Rust with rustup, then run: rustup target add {WASM_TARGET}"
            )
        })?;
    if lists(&installed, WASM_TARGET) {
        ok(&format!("rust target {WASM_TARGET}"));
        return Ok(());
    }
    cmd::run(
        &format!("adding the rust target {WASM_TARGET}"),
        Command::new("rustup").args(["target", "add", WASM_TARGET]),
    )
    .map_err(|e| format!("{e}; run it yourself: rustup target add {WASM_TARGET}"))
}

/// Whether a one-name-per-line listing (`rustup target list --installed`, `rustup component
/// list --installed`, `rustc --print cfg`) has `name` as a whole line.
pub fn lists(list: &str, name: &str) -> bool {
    list.lines().any(|line| line.trim() == name)
}

/// `version_132` for binaryen 132.x.y, the form Trunk.toml and trunk's version check use.
pub fn wasm_opt_pin() -> String {
    let major = BINARYEN.split('.').next().unwrap_or(BINARYEN);
    format!("version_{major}")
}

/// wasm-opt (binaryen) and axe-core, into .tools/ from a package.json written from the consts
/// above. Both packages have no dependencies, so exact versions pin everything installed.
fn ensure_npm_tools(root: &Path) -> Result<PathBuf> {
    let dir = root.join(TOOLS_DIR);
    let modules = dir.join("node_modules");
    let wasm_opt = modules.join(".bin").join("wasm-opt");
    let axe_package = modules.join("axe-core").join("package.json");
    let axe_js = modules.join("axe-core").join("axe.min.js");
    let binaryen_package = modules.join("binaryen").join("package.json");
    let package_is = |package: &Path, version: &str| {
        probe(
            Command::new("node")
                .args(["-p", "require(process.argv[1]).version"])
                .arg(package),
        )
        .is_some_and(|v| v.trim() == version)
    };
    let present = || {
        // wasm-opt prints only binaryen's major version: the package says which release it is.
        let opt = probe(Command::new(&wasm_opt).arg("--version"))
            .and_then(|out| wasm_opt_version(&out))
            .is_some_and(|v| v == wasm_opt_pin())
            && package_is(&binaryen_package, BINARYEN);
        opt && package_is(&axe_package, AXE_CORE) && axe_js.is_file()
    };
    let summary = format!(
        "wasm-opt {} (binaryen {BINARYEN}), axe-core {AXE_CORE} in {TOOLS_DIR}/",
        wasm_opt_pin()
    );
    if present() {
        ok(&summary);
        return Ok(axe_js);
    }

    let by_hand = format!(
        "npm install --prefix {TOOLS_DIR} --no-save binaryen@{BINARYEN} axe-core@{AXE_CORE}"
    );
    if probe(Command::new("npm").arg("--version")).is_none() {
        return Err(format!(
            "npm is needed for wasm-opt and axe-core; install Node.js 18 or later with npm, then run: {by_hand}"
        ));
    }
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let manifest = format!(
        "{{\n  \"private\": true,\n  \"description\": \"written by cargo xtask from xtask/src/tools.rs; edit the versions there\",\n  \"dependencies\": {{\n    \"binaryen\": \"{BINARYEN}\",\n    \"axe-core\": \"{AXE_CORE}\"\n  }}\n}}\n"
    );
    fs::write(dir.join("package.json"), manifest)
        .map_err(|e| format!("writing {TOOLS_DIR}/package.json: {e}"))?;
    cmd::run(
        &format!("installing {summary}"),
        Command::new("npm")
            .arg("install")
            .arg("--prefix")
            .arg(&dir)
            .args(["--no-audit", "--no-fund"]),
    )
    .map_err(|e| format!("{e}; run it yourself: {by_hand}"))?;
    if present() {
        Ok(axe_js)
    } else {
        Err(format!(
            "after npm install, {TOOLS_DIR}/ still lacks {summary}; run: rm -rf {TOOLS_DIR} && {by_hand}"
        ))
    }
}

/// `<tool> --version`'s version.
pub fn version_of(tool: &str) -> Option<String> {
    probe(Command::new(tool).arg("--version")).and_then(|out| second_word(&out))
}

/// A tool from `cargo install`, checked by `found`.
fn ensure_cargo_tool(
    tool: &str,
    version: &str,
    found: impl Fn() -> Option<String>,
    install: &[&str],
) -> Result<()> {
    let by_hand = format!("cargo {}", install.join(" "));
    match found() {
        Some(v) if v == version => {
            ok(&format!("{tool} {version}"));
            return Ok(());
        }
        Some(v) => println!("    {tool} {v} found, {version} wanted"),
        None => println!("    {tool} not found, {version} wanted"),
    }
    cmd::run(
        &format!("installing {tool} {version}"),
        // A tool installed without its lock (wasm-bindgen-cli) takes the newest dependencies
        // this toolchain can build, not ones that need a newer rustc.
        Command::new("cargo")
            .env("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS", "fallback")
            .args(install),
    )
    .map_err(|e| format!("{e}; run it yourself: {by_hand}"))?;
    match found() {
        Some(v) if v == version => Ok(()),
        other => Err(format!(
            "installed {tool} {version} into {}, but the one found is {}; remove the other copy or run: {by_hand}",
            cargo_home().join("bin").display(),
            other.as_deref().unwrap_or("nothing"),
        )),
    }
}

/// A fresh machine may still be running its own package updates: wait for them, not fail.
const APT_WAIT_FOR_LOCK: &str = "-oDPkg::Lock::Timeout=300";

fn ensure_browser() -> Result<()> {
    let version = |tool| probe(Command::new(tool).arg("--version")).unwrap_or_default();
    // ChromeDriver drives only the Chromium of its own major version: a pair out of step (one
    // upgraded alone, a half-finished upgrade) fails every browser test at its first session.
    let matched = || {
        let browser = major_version(&version(CHROMIUM));
        browser.is_some() && browser == major_version(&version(CHROMEDRIVER))
    };
    let present = || Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file();
    if present() && matched() {
        // Debian keeps only its latest security build, so this cannot be pinned: it is said.
        ok(&format!(
            "{}, {}",
            version(CHROMIUM).trim(),
            version(CHROMEDRIVER).trim()
        ));
        return Ok(());
    }
    if present() {
        println!(
            "    {} and {} are not of one version",
            version(CHROMIUM).trim(),
            version(CHROMEDRIVER).trim()
        );
    }
    let root = probe(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    if !root {
        return Err(format!(
            "Chromium and ChromeDriver, of one version, are needed at {CHROMIUM} and {CHROMEDRIVER}; as root, run: {APT_INSTALL}"
        ));
    }
    let installed = cmd::run(
        "updating the package lists",
        Command::new("apt-get").args(["update", APT_WAIT_FOR_LOCK]),
    )
    .and_then(|()| {
        cmd::run(
            "installing Chromium and ChromeDriver from Debian",
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args([
                    "install",
                    "-y",
                    APT_WAIT_FOR_LOCK,
                    "chromium",
                    "chromium-driver",
                ]),
        )
    });
    match installed {
        Ok(()) if present() && matched() => Ok(()),
        Ok(()) => Err(format!(
            "apt-get finished but {CHROMIUM} or {CHROMEDRIVER} is still missing, or they are not of one version; run: {APT_INSTALL}"
        )),
        Err(e) => Err(format!("{e}; run it yourself: {APT_INSTALL}")),
    }
}

/// `Chromium 156.0.8078.114 built on Debian` and `ChromeDriver 156.0.8078.114 (…)` -> 156.
fn major_version(output: &str) -> Option<u32> {
    output
        .split_whitespace()
        .nth(1)?
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// `krate`'s version in `cargo install --list`, whose lines read `name v1.2.3:`.
fn listed_version(list: &str, krate: &str) -> Option<String> {
    list.lines().find_map(|line| {
        let (name, rest) = line.split_once(' ')?;
        let version = rest.strip_prefix('v')?.strip_suffix(':')?;
        (name == krate).then(|| version.to_string())
    })
}

/// `trunk 0.21.14` and `wasm-bindgen 0.2.130` both print the version second.
fn second_word(output: &str) -> Option<String> {
    output.split_whitespace().nth(1).map(str::to_string)
}

/// `wasm-opt version 132 (version_132)` -> `version_132`, as trunk reads it.
fn wasm_opt_version(output: &str) -> Option<String> {
    let number = output.split_whitespace().nth(2)?;
    number
        .chars()
        .all(|c| c.is_ascii_digit())
        .then(|| format!("version_{number}"))
}

/// The splitter reads what Leptos's `wasm_split_helpers` (its version in Cargo.lock) writes into
/// the wasm: a release of the helpers with another minor version (0.x's breaking number) may
/// write another format, which the pinned splitter would misread into a console that does not
/// load. Said before anything is built, with both versions.
fn check_split_pin(helpers: &str) -> Result<()> {
    let minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
    if minor(helpers) == minor(WASM_SPLIT) {
        Ok(())
    } else {
        Err(format!(
            "Cargo.lock has wasm_split_helpers {helpers}, but the pinned wasm-split-cli is \
             {WASM_SPLIT} (xtask/src/tools.rs WASM_SPLIT): pin a {} release of \
             {WASM_SPLIT_CRATE}",
            minor(helpers)
        ))
    }
}

/// The version of `name` in Cargo.lock; an error if it is missing or resolved more than once,
/// since then no single CLI version can match.
pub fn locked_version(lock: &str, name: &str) -> Result<String> {
    let mut versions = Vec::new();
    for block in lock.split("[[package]]").skip(1) {
        let mut block_name = None;
        let mut block_version = None;
        for line in block.lines() {
            if line.trim_start().starts_with('[') {
                break;
            }
            if let Some(v) = toml_string(line, "name") {
                block_name = Some(v);
            } else if let Some(v) = toml_string(line, "version") {
                block_version = Some(v);
            }
        }
        if block_name == Some(name) {
            if let Some(v) = block_version {
                versions.push(v.to_string());
            }
        }
    }
    match versions.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!(
            "Cargo.lock has no `{name}` package; build the workspace once (cargo fetch) so it is resolved"
        )),
        many => Err(format!(
            "Cargo.lock resolves `{name}` to several versions ({}); pin one with `=x.y.z` in Cargo.toml",
            many.join(", ")
        )),
    }
}

/// Checks Trunk.toml's `[tools]` pins against Cargo.lock's wasm-bindgen and the pinned
/// binaryen. Returns whether a wasm_bindgen pin was found; an error names both versions.
pub fn check_trunk_pins(trunk_toml: Option<&str>, wasm_bindgen: &str) -> Result<bool> {
    let Some(text) = trunk_toml else {
        return Ok(false);
    };
    let mut section = String::new();
    let mut pinned = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix('[') {
            section = name.trim_end_matches(']').trim().to_string();
            continue;
        }
        if section != "tools" {
            continue;
        }
        if let Some(v) = toml_string(line, "wasm_bindgen") {
            if v != wasm_bindgen {
                return Err(format!(
                    "Trunk.toml pins [tools] wasm_bindgen = \"{v}\" but Cargo.lock has wasm-bindgen {wasm_bindgen}; \
                     they must be equal (the CLI that writes the JS glue must match the library). \
                     Set wasm_bindgen = \"{wasm_bindgen}\" in Trunk.toml, or change the `=` pin in Cargo.toml and run: cargo update -p wasm-bindgen"
                ));
            }
            pinned = true;
        } else if let Some(v) = toml_string(line, "wasm_opt") {
            let want = wasm_opt_pin();
            if v != want {
                return Err(format!(
                    "Trunk.toml pins [tools] wasm_opt = \"{v}\" but xtask installs binaryen {BINARYEN}; \
                     set wasm_opt = \"{want}\" in Trunk.toml, or change BINARYEN in xtask/src/tools.rs"
                ));
            }
        }
    }
    Ok(pinned)
}

/// `key = "value"` (or `'value'`, with an optional trailing comment) -> `value`.
/// Enough TOML for the two files read here; a full parser would be a dependency.
fn toml_string<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let (k, v) = line.split_once('=')?;
    if k.trim() != key {
        return None;
    }
    let v = v.trim_start();
    let quote = v.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &v[1..];
    rest.find(quote).map(|end| &rest[..end])
}

#[cfg(test)]
mod tests {

    #[test]
    fn chromium_and_chromedriver_name_their_major_version_second() {
        let browser = "Chromium 156.0.8078.114 built on Debian GNU/Linux 12 (bookworm)\n";
        let driver = "ChromeDriver 156.0.8078.114 (ea19f973-refs/branch-heads/8078_108@{#5})\n";
        assert_eq!(super::major_version(browser), Some(156));
        assert_eq!(super::major_version(driver), Some(156));
        assert_eq!(
            super::major_version("ChromeDriver 155.0.1.2 (x)"),
            Some(155)
        );
        assert_eq!(super::major_version(""), None);
        assert_eq!(super::major_version("chromium: not found"), None);
    }
    use super::*;

    #[test]
    fn the_splitter_is_pinned_to_the_helpers_breaking_version() {
        assert!(check_split_pin("0.2.3").is_ok());
        assert!(check_split_pin("0.2.9").is_ok());
        let said = check_split_pin("0.3.0").expect_err("another format");
        assert!(
            said.contains("0.3.0") && said.contains(WASM_SPLIT),
            "{said}"
        );
        assert!(check_split_pin("0.20.1").is_err());
    }

    #[test]
    fn a_listing_has_a_name_only_as_a_whole_line() {
        let list = "cargo-x86_64-unknown-linux-gnu\n  rust-src\nrust-std-wasm32-unknown-unknown\n";
        assert!(lists(list, "rust-src"));
        assert!(!lists(list, "rust-std"));
        assert!(!lists("rust-src-extra\n", "rust-src"));
        assert!(!lists("", "rust-src"));
    }

    const LOCK: &str = r#"
version = 4

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "cfg-if",
]

[[package]]
name = "wasm-bindgen-futures"
version = "0.4.53"

[[package]]
name = "wasm-bindgen-test"
version = "0.3.80"
"#;

    #[test]
    fn reads_the_exact_package_from_cargo_lock() {
        assert_eq!(locked_version(LOCK, "wasm-bindgen").unwrap(), "0.2.130");
        assert_eq!(locked_version(LOCK, "wasm-bindgen-test").unwrap(), "0.3.80");
    }

    #[test]
    fn missing_or_duplicated_packages_are_errors() {
        assert!(locked_version(LOCK, "leptos").is_err());
        let twice = format!("{LOCK}\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.99\"\n");
        let err = locked_version(&twice, "wasm-bindgen").unwrap_err();
        assert!(err.contains("0.2.130, 0.2.99"), "{err}");
    }

    #[test]
    fn trunk_pins_must_match() {
        let good = "[build]\nrelease = true\n\n[tools]\nwasm_bindgen = \"0.2.130\"  # from Cargo.lock\nwasm_opt = \"version_132\"\n";
        assert_eq!(check_trunk_pins(Some(good), "0.2.130"), Ok(true));

        let err = check_trunk_pins(Some(good), "0.2.131").unwrap_err();
        assert!(
            err.contains("\"0.2.130\"") && err.contains("0.2.131"),
            "{err}"
        );

        let old_opt = "[tools]\nwasm_bindgen = '0.2.130'\nwasm_opt = \"version_108\"\n";
        assert!(check_trunk_pins(Some(old_opt), "0.2.130").is_err());
    }

    #[test]
    fn trunk_pins_only_count_in_the_tools_table() {
        let elsewhere = "[other]\nwasm_bindgen = \"0.1.0\"\n";
        assert_eq!(check_trunk_pins(Some(elsewhere), "0.2.130"), Ok(false));
        assert_eq!(check_trunk_pins(None, "0.2.130"), Ok(false));
    }

    #[test]
    fn installed_crates_are_read_from_cargo_install_list() {
        let list =
            "trunk v0.21.14:\n    trunk\nwasm_split_cli_support v0.2.4:\n    wasm-split-cli\n\
            wasm_split_cli_support_extra v9.0.0:\n    other\n";
        assert_eq!(
            listed_version(list, "wasm_split_cli_support").as_deref(),
            Some("0.2.4")
        );
        assert_eq!(listed_version(list, "trunk").as_deref(), Some("0.21.14"));
        assert_eq!(listed_version(list, "wasm-bindgen-cli"), None);
        assert_eq!(
            listed_version("    wasm-split-cli\n", "wasm-split-cli"),
            None
        );
    }

    #[test]
    fn version_outputs() {
        assert_eq!(second_word("trunk 0.21.14\n").as_deref(), Some("0.21.14"));
        assert_eq!(
            second_word("wasm-bindgen 0.2.130 (8a0f1f4e1)").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            wasm_opt_version("wasm-opt version 132 (version_132)\n").as_deref(),
            Some("version_132")
        );
        assert_eq!(wasm_opt_version("wasm-opt version"), None);
        assert_eq!(wasm_opt_pin(), "version_132");
    }
}
