//! Running child processes the same way everywhere: a `==> what (command line)` header first,
//! output streamed live, and, where results must be parsed, a copy of the output kept (tee).

use crate::Result;
use std::io::{self, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Prints a step header without running anything.
pub fn header(what: &str) {
    println!("==> {what}");
    let _ = io::stdout().flush();
}

/// Cargo in the workspace, held to `Cargo.lock`: a lock out of step with a manifest fails the
/// step rather than build (and test) another set of crates than the one committed.
pub fn cargo(root: &std::path::Path) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root).arg("--locked");
    cmd
}

/// `cargo run` of the workspace's binary `bin` of `package`, built optimised for the host (the
/// `native` profile), its own arguments to follow.
pub fn cargo_run_native(root: &std::path::Path, package: &str, bin: &str) -> Command {
    let mut cmd = cargo(root);
    cmd.args([
        "run",
        "--profile",
        "native",
        "-p",
        package,
        "--bin",
        bin,
        "--",
    ]);
    cmd
}

/// The command line as a person would type it (program and arguments; env is not shown).
pub fn describe(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        line.push(' ');
        if arg.is_empty() || arg.contains(char::is_whitespace) {
            line.push_str(&format!("'{arg}'"));
        } else {
            line.push_str(&arg);
        }
    }
    line
}

fn announce(what: &str, cmd: &Command) {
    header(&format!("{what} ({})", describe(cmd)));
}

fn spawn(cmd: &mut Command) -> Result<Child> {
    cmd.spawn()
        .map_err(|e| format!("could not start `{}`: {e}", describe(cmd)))
}

/// Runs with the terminal attached; an error if it cannot start or exits non-zero.
pub fn run(what: &str, cmd: &mut Command) -> Result<()> {
    if status(what, cmd)? {
        Ok(())
    } else {
        Err(format!("`{}` failed", describe(cmd)))
    }
}

/// Runs with the terminal attached and reports success, for steps whose failure is recorded
/// rather than fatal.
pub fn status(what: &str, cmd: &mut Command) -> Result<bool> {
    announce(what, cmd);
    let status = spawn(cmd)?
        .wait()
        .map_err(|e| format!("waiting for `{}`: {e}", describe(cmd)))?;
    Ok(status.success())
}

/// Runs quietly and returns stdout if it succeeded: for version probes, where a missing tool is
/// an answer ("not installed"), not an error.
pub fn probe(cmd: &mut Command) -> Option<String> {
    let output = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

pub struct Captured {
    pub success: bool,
    /// stdout and stderr together, in the order the child wrote them.
    pub output: String,
}

/// How long to keep reading after the child exited. A grandchild that outlives it (a leaked
/// chromedriver, say) keeps the pipe open forever; the run must not hang on it.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// Runs with output streamed live and also captured.
///
/// stdout and stderr share one pipe, as they share a terminal: with two pipes, two reader
/// threads would splice cargo's status lines into the middle of the program's output.
pub fn tee(what: &str, cmd: &mut Command) -> Result<Captured> {
    announce(what, cmd);
    let (reader, writer) = io::pipe().map_err(|e| format!("creating a pipe: {e}"))?;
    let writer2 = writer
        .try_clone()
        .map_err(|e| format!("creating a pipe: {e}"))?;
    cmd.stdout(writer).stderr(writer2);
    let spawned = spawn(cmd);
    // The Command holds the pipe's write ends; they must be closed here or the reader would
    // never see the end of the output.
    cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
    let mut child = spawned?;

    let (done_tx, done_rx) = mpsc::channel();
    let captured = pump(reader, done_tx);
    let status = child
        .wait()
        .map_err(|e| format!("waiting for `{}`: {e}", describe(cmd)))?;
    if done_rx.recv_timeout(DRAIN_GRACE).is_err() {
        eprintln!("(xtask: a process started by this step still holds its output open; going on)");
    }
    let bytes = captured.lock().map(|b| b.clone()).unwrap_or_default();
    Ok(Captured {
        success: status.success(),
        output: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// Copies the child's output to ours as bytes arrive (not by line, so progress stays live)
/// while appending them to a buffer that the caller reads.
fn pump(mut from: impl Read + Send + 'static, done: mpsc::Sender<()>) -> Arc<Mutex<Vec<u8>>> {
    let sink = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&sink);
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let mut out = io::stdout().lock();
                    let _ = out.write_all(&buf[..n]);
                    let _ = out.flush();
                    if let Ok(mut kept) = kept.lock() {
                        kept.extend_from_slice(&buf[..n]);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
    sink
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static CHILD_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward_signal(signal: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let pid = CHILD_PID.load(Ordering::SeqCst);
    if pid > 0 {
        // Ctrl-C in a terminal already reached the child through the process group; this
        // covers a signal sent to xtask alone. A second SIGINT to a process that is already
        // stopping is harmless. kill(2) is async-signal-safe.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// How a long-running child ended.
pub enum Ended {
    /// Stopped by Ctrl-C or SIGTERM: the expected way to end the demo.
    Interrupted,
    Exited(ExitStatus),
}

/// Runs a long-lived child with the terminal attached until it exits or the user stops it.
///
/// Without this, Ctrl-C would kill xtask at once and leave the child finishing on its own after
/// the shell prompt came back. xtask catches SIGINT/SIGTERM instead (a caught signal is reset
/// to the default in the child on exec, so the child still stops), passes it on, waits for the
/// child, and reports a clean end.
pub fn run_until_interrupted(
    what: &str,
    cmd: &mut Command,
    on_start: impl FnOnce(),
) -> Result<Ended> {
    let handler = forward_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only touches atomics and calls kill(2), both async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
    announce(what, cmd);
    let mut child = spawn(cmd)?;
    CHILD_PID.store(i32::try_from(child.id()).unwrap_or(0), Ordering::SeqCst);
    on_start();
    let status = child
        .wait()
        .map_err(|e| format!("waiting for `{}`: {e}", describe(cmd)))?;
    CHILD_PID.store(0, Ordering::SeqCst);
    if INTERRUPTED.load(Ordering::SeqCst) {
        Ok(Ended::Interrupted)
    } else {
        Ok(Ended::Exited(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_quotes_arguments_with_spaces() {
        let mut cmd = Command::new("cargo");
        cmd.args(["test", "-p", "voicebip-e2e", "a b"]);
        assert_eq!(describe(&cmd), "cargo test -p voicebip-e2e 'a b'");
    }

    #[test]
    fn tee_keeps_both_streams_in_order() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo one; echo two >&2; echo three; exit 3"]);
        let captured = tee("tee self-test", &mut cmd).unwrap();
        assert!(!captured.success);
        assert_eq!(captured.output, "one\ntwo\nthree\n");
    }

    #[test]
    fn tee_does_not_wait_for_a_grandchild_holding_the_output() {
        let mut cmd = Command::new("sh");
        // The grandchild outlives the bound by far, so only the drain's grace ends the wait
        // (as for a chromedriver left behind, which never exits).
        cmd.args(["-c", "sleep 60 & echo $!"]);
        let started = std::time::Instant::now();
        let captured = tee("tee self-test", &mut cmd).unwrap();
        let elapsed = started.elapsed();
        // The grandchild would outlive the test run: it is ended here, by the pid it printed.
        let pid = captured.output.trim();
        assert!(pid.parse::<u32>().is_ok(), "{:?}", captured.output);
        let _ = Command::new("kill").arg(pid).status();
        assert!(captured.success);
        assert!(elapsed < DRAIN_GRACE + Duration::from_secs(20));
    }

    #[test]
    fn probe_is_none_for_a_missing_program() {
        assert!(probe(&mut Command::new("xtask-surely-not-installed")).is_none());
        assert_eq!(
            probe(Command::new("echo").arg("hi")).as_deref(),
            Some("hi\n")
        );
    }
}
