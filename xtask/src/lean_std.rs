//! The release wasm's standard library: built with the console, for size, with a panic as a bare
//! trap. This takes 22.5 KiB gzip off the whole console (tests/bench/FINDINGS.md, "Transfer
//! size"): almost all of it is the panic machinery (message formatting, locations), which
//! rustup's prebuilt std carries even under `panic = "abort"`.
//!
//! Both options are unstable (`-Zbuild-std`, `-Cpanic=immediate-abort`). These machines come
//! with one toolchain, a stable one; rather than fetch a nightly for one build,
//! `RUSTC_BOOTSTRAP=1` unlocks them for the release build of the wasm alone: tests, lints and
//! native programs never see them. The std's sources are the toolchain's own `rust-src`, so
//! they always match its compiler. A machine that cannot install that component still builds a
//! working console, only larger, and `dist` says so.
//!
//! What is given up: a panic in the release build stops the app with `RuntimeError:
//! unreachable` and no message (debug builds and tests keep the messages). The app already
//! stopped on a panic (`panic = "abort"`); only the message for a developer is lost.

use crate::cmd::{self, probe};
use std::process::Command;

const RUST_SRC: &str = "rust-src";

/// How the release wasm gets its standard library.
pub enum Std {
    /// Built from `rust-src` with the console, at the release profile's size settings.
    ForSize,
    /// rustup's prebuilt one, because `rust-src` could not be had.
    Prebuilt { why: String },
}

/// Installs the toolchain's `rust-src` if it is missing; a failure is not fatal (see above).
pub fn ensure() -> Std {
    let installed = probe(Command::new("rustup").args(["component", "list", "--installed"]));
    if installed.as_deref().is_some_and(has_rust_src) {
        return Std::ForSize;
    }
    let added = cmd::run(
        "adding the toolchain's std sources, to build the release wasm's std for size",
        Command::new("rustup").args(["component", "add", RUST_SRC]),
    );
    match added {
        Ok(()) => Std::ForSize,
        Err(e) => Std::Prebuilt { why: e },
    }
}

/// `rustup component list --installed` names `rust-src` bare (it is not per target).
fn has_rust_src(list: &str) -> bool {
    list.lines().any(|line| line.trim() == RUST_SRC)
}

impl Std {
    /// What `dist` and `bench` print about it.
    pub fn describe(&self) -> String {
        match self {
            Std::ForSize => {
                "std built for size with the console (a panic traps without a message)".into()
            }
            Std::Prebuilt { why } => format!(
                "rustup's prebuilt std, so the console is about 22 KiB gzip larger ({RUST_SRC} could not be installed: {why})"
            ),
        }
    }

    /// The environment of the cargo that builds the release wasm (and of the `cargo fetch`
    /// before it), given the build's own wasm rustflags, which it extends.
    pub fn build_env(&self, rustflags: &str) -> Vec<(&'static str, String)> {
        let flags = crate::split::RUSTFLAGS_VAR;
        match self {
            Std::ForSize => vec![
                ("RUSTC_BOOTSTRAP", "1".into()),
                ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort".into()),
                (
                    flags,
                    format!("{rustflags} -Zunstable-options -Cpanic=immediate-abort"),
                ),
            ],
            Std::Prebuilt { .. } => vec![(flags, rustflags.into())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_src_is_found_only_as_a_whole_line() {
        assert!(has_rust_src(
            "cargo-x86_64-unknown-linux-gnu\nrust-src\nrustc-x86_64-unknown-linux-gnu\n"
        ));
        assert!(!has_rust_src(
            "rust-std-wasm32-unknown-unknown\nrust-src-extra\nrustc-x86_64-unknown-linux-gnu\n"
        ));
        assert!(!has_rust_src(""));
    }

    #[test]
    fn the_std_for_size_extends_the_builds_flags_and_unlocks_them() {
        let env = Std::ForSize.build_env("--cfg voicebip_split");
        let get = |key: &str| env.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("RUSTC_BOOTSTRAP"), Some("1"));
        assert_eq!(get("CARGO_UNSTABLE_BUILD_STD"), Some("std,panic_abort"));
        assert_eq!(
            get(crate::split::RUSTFLAGS_VAR),
            Some("--cfg voicebip_split -Zunstable-options -Cpanic=immediate-abort")
        );
    }

    #[test]
    fn the_prebuilt_std_keeps_the_builds_flags_and_unlocks_nothing() {
        let std = Std::Prebuilt {
            why: "offline".into(),
        };
        let env = std.build_env("--cfg voicebip_split");
        assert_eq!(
            env,
            vec![(crate::split::RUSTFLAGS_VAR, "--cfg voicebip_split".into())]
        );
        assert!(std.describe().contains("offline"));
    }
}
