//! The release wasm's standard library: built with the console, for size, with a panic as a bare
//! trap. This takes 22.5 KiB gzip off the whole console (tests/bench/FINDINGS.md, "Transfer
//! size"): almost all of it is the panic machinery (message formatting, locations), which
//! rustup's prebuilt std carries even under `panic = "abort"`.
//!
//! Both options are unstable (`-Zbuild-std`, `-Cpanic=immediate-abort`). The project builds on
//! the machines' stable toolchain; rather than fetch a nightly for one build,
//! `RUSTC_BOOTSTRAP=1` unlocks them for the release build of the wasm alone: tests, lints and
//! native programs never see it. It does reach that build's dependencies, and some of their
//! build scripts then switch on nightly-only code of theirs (anyhow's and thiserror's
//! `error_generic_member_access`, proc-macro2's `proc_macro_span`); the end-to-end suite runs
//! on that build. The std's sources are the toolchain's own `rust-src`, so they always match
//! its compiler. A compiler that lacks the panic strategy, or a machine that cannot install
//! `rust-src`, still builds a working console, only larger, and `dist` says so.
//!
//! What is given up: a panic in the release build stops the app with `RuntimeError:
//! unreachable` and no message (debug builds and tests keep the messages). The app already
//! stopped on a panic (`panic = "abort"`); only the message for a developer is lost.

use crate::cmd::{self, probe};
use crate::tools::{self, WASM_TARGET};
use std::process::Command;

const RUST_SRC: &str = "rust-src";
/// Unlocks the unstable options on a stable toolchain.
const UNLOCK: (&str, &str) = ("RUSTC_BOOTSTRAP", "1");
const PANIC_AS_TRAP: &str = "-Zunstable-options -Cpanic=immediate-abort";

/// How the release wasm gets its standard library.
pub enum Std {
    /// Built from `rust-src` with the console, at the release profile's size settings.
    ForSize,
    /// rustup's prebuilt one, because the compiler or `rust-src` could not build it for size.
    Prebuilt { why: String },
}

/// Checks that the compiler takes the panic strategy and installs the toolchain's `rust-src` if
/// it is missing; neither failing is fatal (see above).
pub fn ensure() -> Std {
    if !rustc_takes_panic_as_trap() {
        return Std::Prebuilt {
            why: format!("this rustc does not take `{PANIC_AS_TRAP}`"),
        };
    }
    let installed = probe(Command::new("rustup").args(["component", "list", "--installed"]));
    if installed.is_some_and(|list| tools::lists(&list, RUST_SRC)) {
        return Std::ForSize;
    }
    let added = cmd::run(
        "adding the toolchain's std sources, to build the release wasm's std for size",
        Command::new("rustup").args(["component", "add", RUST_SRC]),
    );
    match added {
        Ok(()) => Std::ForSize,
        Err(e) => Std::Prebuilt {
            why: format!("{e}; run it yourself: rustup component add {RUST_SRC}"),
        },
    }
}

/// Asks the compiler without compiling anything (`--print cfg`): a toolchain too old or too new
/// for the option would otherwise fail the whole build.
fn rustc_takes_panic_as_trap() -> bool {
    probe(
        Command::new("rustc")
            .env(UNLOCK.0, UNLOCK.1)
            .args(["--print", "cfg", "--target", WASM_TARGET])
            .args(PANIC_AS_TRAP.split(' ')),
    )
    .is_some_and(|cfg| tools::lists(&cfg, "panic=\"immediate-abort\""))
}

impl Std {
    /// What `dist` and `bench` print about it.
    pub fn describe(&self) -> String {
        match self {
            Std::ForSize => {
                "std built for size with the console (a panic traps without a message)".into()
            }
            Std::Prebuilt { why } => {
                format!("rustup's prebuilt std, so the console is about 22 KiB gzip larger: {why}")
            }
        }
    }

    /// The environment of the cargo that builds the release wasm (and of the `cargo fetch`
    /// before it): `rustflags_var` set to the build's own wasm rustflags, extended here.
    pub fn build_env(
        &self,
        rustflags_var: &'static str,
        rustflags: &str,
    ) -> Vec<(&'static str, String)> {
        match self {
            Std::ForSize => vec![
                (UNLOCK.0, UNLOCK.1.into()),
                ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort".into()),
                (rustflags_var, format!("{rustflags} {PANIC_AS_TRAP}")),
            ],
            Std::Prebuilt { .. } => vec![(rustflags_var, rustflags.into())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAR: &str = "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS";

    #[test]
    fn the_std_for_size_extends_the_builds_flags_and_unlocks_them() {
        let env = Std::ForSize.build_env(VAR, "--cfg voicebip_split");
        let get = |key: &str| env.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("RUSTC_BOOTSTRAP"), Some("1"));
        assert_eq!(get("CARGO_UNSTABLE_BUILD_STD"), Some("std,panic_abort"));
        assert_eq!(
            get(VAR),
            Some("--cfg voicebip_split -Zunstable-options -Cpanic=immediate-abort")
        );
        assert_eq!(env.len(), 3);
    }

    #[test]
    fn the_prebuilt_std_keeps_the_builds_flags_and_unlocks_nothing() {
        let std = Std::Prebuilt { why: "x".into() };
        assert_eq!(
            std.build_env(VAR, "--cfg voicebip_split"),
            vec![(VAR, "--cfg voicebip_split".into())]
        );
    }

    /// On the project's toolchain the probe must say yes, or every release build would fall
    /// back to the larger std with only a warning to show for it.
    #[test]
    fn this_toolchain_takes_the_panic_strategy() {
        assert!(rustc_takes_panic_as_trap());
    }
}
