//! `cargo xtask demo [--large] [--port N]`: the console served by the simulator, with seeded
//! data and live traffic, on 127.0.0.1. Ctrl-C stops it.

use crate::cmd::{self, Ended};
use crate::tools::{self, Browser};
use crate::{dist, Args, Result};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const DEFAULT_PORT: u16 = 8080;
/// The simulator's built-in demo key (it prints it too); repeated here so the banner can show
/// it next to the URL once the server answers.
const DEMO_KEY: &str = "pk_test_demo_voicebip";
/// Enough traffic to watch the inbox move without drowning it.
const TRAFFIC_PER_MINUTE: &str = "6";

pub struct Options {
    pub large: bool,
    pub port: Option<u16>,
}

impl Options {
    pub fn parse(args: &mut Args) -> Result<Self> {
        let large = args.flag("--large");
        let port = match args.value("--port")? {
            Some(p) => Some(
                p.parse()
                    .map_err(|_| format!("--port wants a port number, not `{p}`"))?,
            ),
            None => None,
        };
        args.finish()?;
        Ok(Self { large, port })
    }
}

pub fn run(root: &Path, options: &Options) -> Result<ExitCode> {
    let tools = tools::ensure(root, Browser::NotNeeded)?;
    dist::build(root, &tools, None)?;

    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, choose_port(options.port)?));
    let url = format!("http://{addr}/");
    println!("    console: {url}");
    println!("    demo key: {DEMO_KEY}");

    // The package has two binaries (the server and sim-load), so the one to run is named.
    let mut sim = cmd::cargo_run_native(root, "voicebip-sim", "voicebip-sim");
    sim.args(["--addr", &addr.to_string(), "--dist", dist::DIST_DIR])
        .args(["--traffic-per-minute", TRAFFIC_PER_MINUTE]);
    if options.large {
        sim.arg("--large");
    }

    let stopped = Arc::new(AtomicBool::new(false));
    let ended = cmd::run_until_interrupted("starting the simulator", &mut sim, || {
        announce_when_up(addr, url, Arc::clone(&stopped));
    });
    stopped.store(true, Ordering::SeqCst);
    match ended? {
        Ended::Interrupted => {
            cmd::header("demo stopped");
            Ok(ExitCode::SUCCESS)
        }
        Ended::Exited(status) if status.success() => Ok(ExitCode::SUCCESS),
        Ended::Exited(status) => Err(format!("the simulator stopped: {status}")),
    }
}

/// The asked-for port must be free; the default one may be taken, and then any free port does.
fn choose_port(asked: Option<u16>) -> Result<u16> {
    choose_port_over(asked, DEFAULT_PORT)
}

/// `choose_port`, with `default` for `DEFAULT_PORT` (which a test cannot count on holding).
fn choose_port_over(asked: Option<u16>, default: u16) -> Result<u16> {
    let free = |port: u16| TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok();
    match asked {
        Some(port) if free(port) => Ok(port),
        Some(port) => Err(format!(
            "port {port} on 127.0.0.1 is in use; pick another with --port, or leave it out to get a free one"
        )),
        None if free(default) => Ok(default),
        None => {
            // Port 0 asks the OS for a free one; it is released again for the simulator to
            // bind, which is racy in theory and fine for a local demo.
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .map_err(|e| format!("finding a free port: {e}"))?;
            println!("    port {default} is in use; using {port}");
            Ok(port)
        }
    }
}

/// `cargo run` may compile for a minute first, so the URL is repeated once the server answers,
/// where it is not lost above the build output.
fn announce_when_up(addr: SocketAddr, url: String, stopped: Arc<AtomicBool>) {
    thread::spawn(move || {
        while !stopped.load(Ordering::SeqCst) {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                cmd::header(&format!(
                    "the console is up: {url}  (demo key {DEMO_KEY}; Ctrl-C stops it)"
                ));
                return;
            }
            thread::sleep(Duration::from_millis(300));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_asked_port_is_an_error_and_the_default_falls_back() {
        let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        assert!(choose_port(Some(port)).is_err());
        let other = choose_port_over(None, port).unwrap();
        assert_ne!(other, port, "the default is busy: another port");
        drop(held);
        assert_eq!(
            choose_port_over(None, port).unwrap(),
            port,
            "free again: the default"
        );
    }

    #[test]
    fn options() {
        let mut args = Args::new(vec!["--port=9001".into(), "--large".into()]);
        let o = Options::parse(&mut args).unwrap();
        assert!(o.large);
        assert_eq!(o.port, Some(9001));
        let mut bad = Args::new(vec!["--port".into(), "http".into()]);
        assert!(Options::parse(&mut bad).is_err());
    }
}
