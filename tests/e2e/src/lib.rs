//! End-to-end harness: the built console (`dist/`) served by the in-process simulator, driven
//! in Debian's headless Chromium through ChromeDriver and fantoccini.
//!
//! A test is a `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` function (the
//! simulator runs on the test's runtime, beside the WebDriver calls) like this one:
//!
//! ```no_run
//! # use std::time::Duration;
//! # use voicebip_e2e::{with_harness, Harness, Options, DEMO_KEY};
//! async fn connects() {
//!     with_harness(Options::default(), async |h: &Harness| {
//!         h.open("/").await?;
//!         h.connect(DEMO_KEY).await?;
//!         h.wait_for("ul#conversation-list", Duration::from_secs(20)).await?;
//!         Ok(())
//!     })
//!     .await;
//! }
//! ```
//!
//! Each test gets its own simulator, ChromeDriver and Chromium. `with_harness` tears all of
//! them down whether the body returns, errs or panics; a failure also leaves a screenshot and
//! logs under `target/e2e-artifacts/<test>/`. Tests may run in parallel as libtest likes: the
//! harness itself runs at most `VOICEBIP_E2E_BROWSERS` (default 2) browsers at once per test
//! binary, the others wait for a slot before starting anything.
//!
//! Environment: `VOICEBIP_DIST`, `CHROMEDRIVER`, `CHROMIUM`, `AXE_CORE_JS`,
//! `VOICEBIP_E2E_ARTIFACTS`, `VOICEBIP_E2E_BROWSERS` (see `paths`).

mod artifacts;
mod axe;
mod browser;
mod chromedriver;
mod harness;
mod input;
mod list;
mod page;
pub mod paths;
mod procs;
mod sim_api;

use std::any::Any;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

pub use anyhow;
pub use artifacts::current_test_dir;
pub use axe::{describe as describe_violations, Violation, ViolationNode};
pub use browser::LogEntry;
pub use fantoccini::{elements::Element, key::Key, Client, Locator};
pub use harness::{Harness, Options};
pub use list::Row;
pub use page::poll_until;
pub use sim_api::LoggedRequest;
pub use voicebip_sim::{SeedSize, SimConfig, DEMO_KEY};

/// Start a harness, run `body` with it, and tear everything down, even when `body` fails,
/// panics or runs past `opts.test_timeout`. A failure is then re-raised as this test's panic
/// (the original panic, or one carrying the error chain), after the artifacts are saved.
pub async fn with_harness<R>(
    opts: Options,
    body: impl AsyncFnOnce(&Harness) -> anyhow::Result<R>,
) -> R {
    let test_timeout = opts.test_timeout;
    let harness = match Harness::start(opts).await {
        Ok(harness) => harness,
        Err(e) => panic!("could not start the end-to-end harness: {e:#}"),
    };

    let outcome = AssertUnwindSafe(tokio::time::timeout(test_timeout, body(&harness)))
        .catch_unwind()
        .await;
    let failure = match &outcome {
        Ok(Ok(Ok(_))) => None,
        Ok(Ok(Err(e))) => Some(format!("{e:?}")),
        Ok(Err(_)) => Some(format!("the test did not finish within {test_timeout:?}")),
        Err(panic) => Some(format!("panicked: {}", panic_message(panic.as_ref()))),
    };
    if let Some(failure) = &failure {
        if let Some(dir) = harness.save_artifacts(failure).await {
            eprintln!(
                "e2e: screenshot and logs of the failure in {}",
                dir.display()
            );
        }
    } else {
        artifacts::clear_for_current_test();
    }
    harness.shutdown().await;

    match outcome {
        Ok(Ok(Ok(value))) => value,
        Err(panic) => std::panic::resume_unwind(panic),
        Ok(_) => panic!("{}", failure.unwrap_or_default()),
    }
}

/// Pids of live processes whose command line mentions a path inside `dir`, e.g. a harness's
/// `temp_dir`: empty once that harness is torn down.
pub fn processes_mentioning(dir: &std::path::Path) -> Vec<i32> {
    procs::pids_mentioning(&format!("{}/", dir.display()))
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic payload)")
}
