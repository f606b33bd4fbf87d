//! One test's world: a simulator serving the built console, a ChromeDriver, and a Chromium
//! session with a fresh profile. Started by `Harness::start`, torn down by `Harness::shutdown`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result};
use fantoccini::Client;
use tempfile::TempDir;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use voicebip_sim::{SimConfig, SimHandle};

use crate::browser::{self, LogEntry};
use crate::chromedriver::ChromeDriver;
use crate::{paths, procs};

/// What a test can choose about its world.
pub struct Options {
    /// The simulator's configuration. `dist_dir` is filled in by the harness when `None`.
    pub sim: SimConfig,
    /// The whole test body must finish within this, so a hung wait fails the test (and tears
    /// everything down) instead of hanging CI.
    pub test_timeout: Duration,
    /// Extra Chromium command-line switches (the benchmark's experiments), after the usual ones.
    pub chromium_args: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sim: SimConfig {
                // Tests inject the traffic they assert on (`POST /sim/inbound`); background
                // traffic would make counts and orderings vary between runs.
                traffic_per_minute: 0.0,
                ..SimConfig::default()
            },
            test_timeout: Duration::from_secs(180),
            chromium_args: Vec::new(),
        }
    }
}

/// Bound on how long each teardown step may take, so a wedged browser cannot stall teardown.
const TEARDOWN_STEP: Duration = Duration::from_secs(10);

pub struct Harness {
    pub(crate) browser: Client,
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    /// Every browser console entry read so far: ChromeDriver hands each entry out only once.
    pub(crate) log: Mutex<Vec<LogEntry>>,
    sim: SimHandle,
    // Field order is drop order: should a harness be dropped without `shutdown`, ChromeDriver
    // (and with it Chromium) dies before its profile directory is removed.
    driver: ChromeDriver,
    workdir: TempDir,
    _slot: OwnedSemaphorePermit,
}

/// How many browsers one test binary runs at once (`VOICEBIP_E2E_BROWSERS`, default 2).
/// libtest runs as many tests in parallel as there are cores; each test here costs a
/// Chromium, so on a bigger machine this keeps memory and CPU contention (and with it
/// timing-dependent failures) bounded regardless of `--test-threads`.
fn browser_slots() -> Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS
        .get_or_init(|| {
            let n = std::env::var("VOICEBIP_E2E_BROWSERS")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|&n| n > 0)
                .unwrap_or(2);
            Arc::new(Semaphore::new(n))
        })
        .clone()
}

impl Harness {
    /// Start the simulator (serving the built console), ChromeDriver and a browser session.
    /// On any failure, whatever was already started is stopped before the error is returned.
    pub async fn start(opts: Options) -> Result<Self> {
        let slot = browser_slots()
            .acquire_owned()
            .await
            .context("waiting for a browser slot")?;
        static ONCE_PER_PROCESS: Once = Once::new();
        ONCE_PER_PROCESS.call_once(|| {
            procs::become_subreaper();
            procs::sweep_leftovers();
        });

        let chromedriver = paths::chromedriver()?;
        let chromium = paths::chromium()?;
        let mut sim_config = opts.sim;
        if sim_config.dist_dir.is_none() {
            sim_config.dist_dir = Some(paths::dist_dir()?);
        }
        let workdir = tempfile::Builder::new()
            .prefix(&format!("{}{}-", procs::TEMP_PREFIX, std::process::id()))
            .tempdir()
            .context("creating the harness's temporary directory")?;
        let profile = workdir.path().join("profile");
        let downloads = workdir.path().join("downloads");
        std::fs::create_dir_all(&downloads).context("creating the downloads directory")?;

        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("building the HTTP client for the simulator")?;

        let loopback: SocketAddr = ([127, 0, 0, 1], 0).into();
        let sim = voicebip_sim::start(sim_config, loopback)
            .await
            .context("starting the simulator")?;
        let base_url = sim.base_url().trim_end_matches('/').to_string();

        let browser_side = async {
            let driver = ChromeDriver::start(&chromedriver, workdir.path()).await?;
            let caps = browser::capabilities(&chromium, &profile, &downloads, &opts.chromium_args);
            // On error `driver` is dropped here, and its Drop kills ChromeDriver and Chromium.
            let client = browser::connect(&driver.url(), caps).await?;
            Ok::<_, anyhow::Error>((driver, client))
        };
        let (driver, browser) = match browser_side.await {
            Ok(started) => started,
            Err(e) => {
                sim.shutdown().await;
                return Err(e);
            }
        };
        Ok(Self {
            browser,
            http,
            base_url,
            log: Mutex::new(Vec::new()),
            sim,
            driver,
            workdir,
            _slot: slot,
        })
    }

    /// Close the browser session, stop ChromeDriver and every Chromium process of this
    /// harness, stop the simulator, and remove the profile. Problems are reported on stderr
    /// rather than returned: teardown must run to the end whatever happened before.
    pub async fn shutdown(self) {
        let Harness {
            browser,
            sim,
            driver,
            workdir,
            ..
        } = self;
        // Closing the session first lets ChromeDriver quit Chromium cleanly and reap it.
        match tokio::time::timeout(TEARDOWN_STEP, browser.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("e2e teardown: closing the WebDriver session: {e}"),
            Err(_) => eprintln!("e2e teardown: closing the WebDriver session timed out"),
        }
        // Killing waits on processes: keep it off the runtime the simulator also runs on.
        if tokio::task::spawn_blocking(move || driver.stop())
            .await
            .is_err()
        {
            eprintln!("e2e teardown: stopping ChromeDriver panicked");
        }
        if tokio::time::timeout(TEARDOWN_STEP, sim.shutdown())
            .await
            .is_err()
        {
            eprintln!("e2e teardown: the simulator did not shut down in time");
        }
        let path = workdir.path().to_path_buf();
        if let Err(e) = workdir.close() {
            eprintln!("e2e teardown: removing {}: {e}", path.display());
        }
    }

    /// The WebDriver client, for what the helpers do not cover.
    pub fn browser(&self) -> &Client {
        &self.browser
    }

    /// The simulator's origin (`http://127.0.0.1:PORT`), which also serves the console.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The simulator's address.
    pub fn sim_addr(&self) -> SocketAddr {
        self.sim.addr()
    }

    /// This harness's private directory (Chromium's profile, config and crash database,
    /// ChromeDriver's log). Every process of its browser carries it on its command line, which
    /// is how teardown finds them (see `processes_mentioning`); teardown removes it.
    pub fn temp_dir(&self) -> &std::path::Path {
        self.workdir.path()
    }

    /// Where the browser saves downloads (inside `temp_dir`, empty at start).
    pub fn downloads_dir(&self) -> std::path::PathBuf {
        self.workdir.path().join("downloads")
    }

    /// The simulator itself (e.g. `embed_host_url()`).
    pub fn sim(&self) -> &SimHandle {
        &self.sim
    }

    pub(crate) fn chromedriver_log(&self) -> &std::path::Path {
        self.driver.log_path()
    }

    /// Every browser console entry since the session started (console messages, uncaught
    /// exceptions, failed resource loads).
    pub async fn browser_log(&self) -> Result<Vec<LogEntry>> {
        let fresh = browser::browser_log(&self.browser).await?;
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        log.extend(fresh);
        Ok(log.clone())
    }

    /// The `SEVERE` entries of `browser_log`: `console.error`, uncaught exceptions, and
    /// resources that failed to load (including API responses with an error status).
    pub async fn browser_errors(&self) -> Result<Vec<LogEntry>> {
        Ok(self
            .browser_log()
            .await?
            .into_iter()
            .filter(|entry| entry.level == "SEVERE")
            .collect())
    }
}
