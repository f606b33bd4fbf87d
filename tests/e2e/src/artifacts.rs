//! What a failed test leaves behind for whoever debugs it: a screenshot, the DOM, the browser
//! console, ChromeDriver's log and the simulator's request log, under
//! `<artifacts>/<test name>/`. Every step is best-effort: the browser may be what broke.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{paths, Harness};

/// Bound per capture, so a hung browser cannot stall the teardown that follows.
const STEP: Duration = Duration::from_secs(10);

/// libtest names each test's thread after the test; the test body runs on it.
fn test_name() -> String {
    let name = std::thread::current()
        .name()
        .unwrap_or("unnamed-test")
        .to_string();
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn bounded<T, E: std::fmt::Display>(
    what: &str,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Option<T> {
    match tokio::time::timeout(STEP, fut).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(e)) => {
            eprintln!("e2e artifacts: {what}: {e}");
            None
        }
        Err(_) => {
            eprintln!("e2e artifacts: {what}: timed out");
            None
        }
    }
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) {
    if let Err(e) = std::fs::write(dir.join(name), contents) {
        eprintln!("e2e artifacts: writing {name}: {e}");
    }
}

/// Where the artifacts of the current test go (`<module>__<test>`, named by libtest's thread).
pub fn current_test_dir() -> PathBuf {
    paths::artifacts_dir().join(test_name())
}

/// Remove what an earlier failed run of the current test left, so a passing run leaves no
/// stale screenshot to mislead whoever looks next.
pub(crate) fn clear_for_current_test() {
    let _ = std::fs::remove_dir_all(current_test_dir());
}

impl Harness {
    /// Capture the state of a failed test; returns the directory written to.
    pub(crate) async fn save_artifacts(&self, failure: &str) -> Option<PathBuf> {
        let dir = current_test_dir();
        clear_for_current_test();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("e2e artifacts: creating {}: {e}", dir.display());
            return None;
        }

        let mut summary = format!("{failure}\n");
        if let Some(url) = bounded("reading the URL", self.browser.current_url()).await {
            let _ = writeln!(summary, "\nurl: {url}");
        }
        write(&dir, "failure.txt", summary);

        if let Some(png) = bounded("taking a screenshot", self.browser.screenshot()).await {
            write(&dir, "screenshot.png", png);
        }
        if let Some(html) = bounded("reading the DOM", self.browser.source()).await {
            write(&dir, "page.html", html);
        }
        if let Some(log) = bounded("reading the browser log", self.browser_log()).await {
            let text: String = log
                .iter()
                .map(|e| format!("{:.0} {} {}\n", e.timestamp, e.level, e.message))
                .collect();
            write(&dir, "browser-console.log", text);
        }
        if let Some(requests) =
            bounded("reading /sim/requests", self.sim_get("/sim/requests")).await
        {
            let pretty = serde_json::to_string_pretty(&requests).unwrap_or_default();
            write(&dir, "sim-requests.json", pretty);
        }
        if let Err(e) = std::fs::copy(self.chromedriver_log(), dir.join("chromedriver.log")) {
            eprintln!("e2e artifacts: copying chromedriver.log: {e}");
        }
        Some(dir)
    }
}
