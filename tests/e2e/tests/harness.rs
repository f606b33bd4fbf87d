//! The harness itself, against a static page instead of the console: it must load pages, run
//! axe, read the browser console, and leave no browser process behind, whether the test passes
//! or panics. Without this, a leak would only show as a slowly dying CI machine.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use futures::FutureExt;
use voicebip_e2e::{current_test_dir, processes_mentioning, with_harness, Harness, Options};

/// A page with one known accessibility fault (an image without alt text) and one console error.
const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Harness check</title></head>
<body><main><h1 id="ready">Harness check</h1><img src="data:," width="1" height="1"></main>
<script>console.error("deliberate error for the harness check");</script></body></html>"#;

fn static_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("creating a temporary site");
    std::fs::write(dir.path().join("index.html"), PAGE).expect("writing index.html");
    dir
}

fn options(site: &Path) -> Options {
    let mut opts = Options::default();
    opts.sim.dist_dir = Some(site.to_path_buf());
    opts
}

fn assert_no_processes_left(temp_dir: &Path) {
    let left = processes_mentioning(temp_dir);
    assert!(
        left.is_empty(),
        "browser processes outlived the harness: {left:?}"
    );
    assert!(!temp_dir.exists(), "{} was not removed", temp_dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_a_page_runs_axe_reads_console_and_cleans_up() {
    let site = static_site();
    let temp_dir = Mutex::new(PathBuf::new());
    with_harness(options(site.path()), async |h: &Harness| {
        *temp_dir.lock().expect("temp_dir lock") = h.temp_dir().to_path_buf();
        assert!(
            !processes_mentioning(h.temp_dir()).is_empty(),
            "the browser runs with the harness's temp_dir"
        );
        h.open("/").await?;
        h.wait_for("#ready", Duration::from_secs(15)).await?;
        assert_eq!(h.texts("h1").await?, ["Harness check"]);

        let violations = h.axe_check().await?;
        let ids: Vec<_> = violations.iter().map(|v| v.id.as_str()).collect();
        assert!(
            ids.contains(&"image-alt"),
            "axe reports the missing alt: {ids:?}"
        );
        let failure = h
            .assert_no_axe_violations("the harness page")
            .await
            .expect_err("the page has a violation");
        assert!(format!("{failure}").contains("image-alt"), "{failure}");

        let errors = h.browser_errors().await?;
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("deliberate error")),
            "console.error reaches browser_errors: {errors:#?}"
        );
        Ok(())
    })
    .await;
    assert_no_processes_left(&temp_dir.lock().expect("temp_dir lock"));
}

fn fail_deliberately() {
    panic!("deliberate panic to check teardown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_test_still_tears_everything_down() {
    let site = static_site();
    let temp_dir = Mutex::new(PathBuf::new());
    let outcome = AssertUnwindSafe(with_harness(options(site.path()), async |h: &Harness| {
        *temp_dir.lock().expect("temp_dir lock") = h.temp_dir().to_path_buf();
        h.open("/").await?;
        h.wait_for("#ready", Duration::from_secs(15)).await?;
        fail_deliberately();
        Ok(())
    }))
    .catch_unwind()
    .await;
    let panic = outcome.expect_err("the body's panic is re-raised");
    assert_eq!(
        panic.downcast_ref::<&str>().copied(),
        Some("deliberate panic to check teardown"),
        "the original panic is re-raised"
    );
    assert_no_processes_left(&temp_dir.lock().expect("temp_dir lock"));

    // The failure was captured for debugging; this one was deliberate, so clean it up.
    let artifacts = current_test_dir();
    assert!(
        artifacts.ends_with("harness__a_panicking_test_still_tears_everything_down"),
        "{}",
        artifacts.display()
    );
    for file in [
        "failure.txt",
        "screenshot.png",
        "page.html",
        "browser-console.log",
    ] {
        assert!(
            artifacts.join(file).is_file(),
            "{file} missing in {}",
            artifacts.display()
        );
    }
    std::fs::remove_dir_all(&artifacts).expect("removing the deliberate failure's artifacts");
}
