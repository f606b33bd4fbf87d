//! The ChromeDriver process: started on a free loopback port, in its own process group, and
//! killed (with every Chromium process of this harness) on `stop` or, as a backstop, on drop.

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::procs;

/// How long ChromeDriver may take to answer `/status` (it normally needs well under a second).
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a closed session's Chromium may take to exit before it is killed.
const GRACEFUL_EXIT: Duration = Duration::from_secs(3);

pub struct ChromeDriver {
    child: Option<Child>,
    port: u16,
    log_path: PathBuf,
    /// A string on the command line of every Chromium process of this harness (its private
    /// directory): what `stop` uses to find the browser once ChromeDriver is gone.
    browser_marker: String,
}

impl ChromeDriver {
    /// Start `binary` and wait until it is ready for sessions. Its output (and Chromium's, which
    /// inherits it) goes to `<workdir>/chromedriver.log`; Chromium must be given a profile
    /// inside `workdir`, so that every browser process mentions it.
    pub async fn start(binary: &Path, workdir: &Path) -> Result<Self> {
        let log_path = workdir.join("chromedriver.log");
        let browser_marker = format!("{}/", workdir.display());
        // A port picked by binding to :0 can in principle be taken again before ChromeDriver
        // binds it; retrying on an early exit covers that race.
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            let mut driver = Self {
                child: Some(spawn(binary, port, workdir, &log_path)?),
                port,
                log_path: log_path.clone(),
                browser_marker: browser_marker.clone(),
            };
            match driver.wait_ready().await {
                Ok(()) => return Ok(driver),
                Err(e) => {
                    driver.kill(false);
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("ChromeDriver did not start")))
    }

    /// The WebDriver endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .context("building the HTTP client for ChromeDriver's /status")?;
        let status_url = format!("{}status", self.url());
        let start = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(exit) = child.try_wait().context("polling ChromeDriver")? {
                    bail!(
                        "ChromeDriver exited during start-up ({exit}); see {}",
                        self.log_path.display()
                    );
                }
            }
            if let Ok(response) = http.get(&status_url).send().await {
                let ready = response
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|body| body.pointer("/value/ready").and_then(|r| r.as_bool()));
                if ready == Some(true) {
                    return Ok(());
                }
            }
            if start.elapsed() > READY_TIMEOUT {
                bail!(
                    "ChromeDriver did not answer {status_url} within {READY_TIMEOUT:?}; see {}",
                    self.log_path.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stop ChromeDriver and every process of this harness's browser. Call it after the
    /// WebDriver session was closed, so Chromium had its chance to exit cleanly first.
    pub fn stop(mut self) {
        self.kill(true);
    }

    /// Kill ChromeDriver's group and every process carrying the marker, then reap what was
    /// re-parented to us. With `graceful`, first give a closed session's Chromium a moment to
    /// exit on its own rather than killing it mid-shutdown.
    fn kill(&mut self, graceful: bool) {
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + GRACEFUL_EXIT;
            while graceful
                && Instant::now() < deadline
                && !procs::pids_mentioning(&self.browser_marker).is_empty()
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            // process_group(0) made ChromeDriver the leader of a group whose id is its pid.
            procs::kill_group(child.id() as i32);
            let _ = child.kill();
            // Reap it, so no zombie is left behind; SIGKILL makes this immediate.
            let _ = child.wait();
        }
        procs::kill_mentioning(&self.browser_marker, Duration::from_secs(5));
        // Killed processes turn into zombies a moment later; collect those re-parented to us
        // until a pass finds none.
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            if procs::reap_browser_zombies() == 0 {
                break;
            }
        }
    }
}

impl Drop for ChromeDriver {
    /// The backstop for a harness that was never shut down (a panic during start-up, a test
    /// future dropped mid-way): without it the browser would outlive the test process.
    fn drop(&mut self) {
        self.kill(false);
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn spawn(binary: &Path, port: u16, workdir: &Path, log_path: &Path) -> Result<Child> {
    let log = File::options()
        .create(true)
        .append(true)
        .open(log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let mut command = Command::new(binary);
    command
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Pages render dates in the browser's zone; pin it so assertions do not depend on the
        // machine's.
        .env("TZ", "UTC")
        // Chromium's crash handler keeps its database under the *default* profile location,
        // not `--user-data-dir`: moving the defaults into `workdir` puts the marker on its
        // command line too, and keeps the developer's ~/.config and ~/.cache untouched.
        .env("XDG_CONFIG_HOME", workdir.join("config"))
        .env("XDG_CACHE_HOME", workdir.join("cache"))
        // Its own group lets teardown kill ChromeDriver and whatever stayed in its group
        // without touching the test process.
        .process_group(0);
    // SAFETY: the closure runs between fork and exec and only calls prctl(2), which is
    // async-signal-safe. It makes the kernel kill ChromeDriver if the test process dies
    // without running any teardown (Ctrl-C, SIGKILL); the Chromium processes it leaves are
    // then removed by the next run's `procs::sweep_leftovers`.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))
}
