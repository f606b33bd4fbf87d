//! Finding and killing the browser processes of one harness.
//!
//! ChromeDriver starts Chromium, which forks a zygote, renderers, a GPU process and a crash
//! handler. If ChromeDriver dies first they are re-parented away from us, so walking the process
//! tree is not enough. Instead every harness gives its Chromium a unique directory (profile,
//! config, crash database), whose path appears on the command line of all of Chromium's
//! processes, and we kill exactly the processes that carry it (by pid, never by name: other harnesses and the developer's own
//! browser must survive).

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

/// The prefix of every harness's temporary directory. The owning test process's pid follows it,
/// so a later run can tell which leftovers belong to a process that no longer exists.
pub const TEMP_PREFIX: &str = "voicebip-e2e-";

/// Pids (other than our own) whose command line contains `marker`.
pub fn pids_mentioning(marker: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            // Zombies and kernel threads have an empty command line and are skipped.
            fs::read(format!("/proc/{pid}/cmdline"))
                .map(|raw| String::from_utf8_lossy(&raw).contains(marker))
                .unwrap_or(false)
        })
        .collect()
}

/// SIGKILL every process mentioning `marker`, repeating until none is left (a dying browser can
/// still be forking) or `deadline` passes. Returns how many kills were sent.
pub fn kill_mentioning(marker: &str, deadline: Duration) -> usize {
    let start = Instant::now();
    let mut sent = 0;
    loop {
        let pids = pids_mentioning(marker);
        if pids.is_empty() || start.elapsed() > deadline {
            return sent;
        }
        for pid in pids {
            // SAFETY: kill(2) has no memory-safety preconditions; a stale pid only yields ESRCH.
            if unsafe { libc::kill(pid, libc::SIGKILL) } == 0 {
                sent += 1;
            }
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// SIGKILL a whole process group (ChromeDriver runs in its own, so this cannot hit us).
pub fn kill_group(pgid: i32) {
    if pgid > 1 {
        // SAFETY: as above; a vanished group only yields ESRCH.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}

/// Make this test process the "subreaper" of its descendants. Chromium double-forks helpers
/// (the crash handler) and its zygote's children outlive a killed browser; orphans are
/// normally re-parented to init, and an init that reaps lazily (as in some containers) leaves
/// them as visible zombies for a while. As subreaper we get them and reap them ourselves.
pub fn become_subreaper() {
    // SAFETY: prctl(2) with integer arguments; failure (an old kernel) only loses the reaping.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Reap exited Chromium processes that were re-parented to us. Only zombies whose name is a
/// browser's are taken: ChromeDriver processes are reaped by their owner (`std::process::Child`)
/// and must not be waited for behind its back. Returns how many were reaped.
pub fn reap_browser_zombies() -> usize {
    let me = std::process::id() as i32;
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    let mut reaped = 0;
    for pid in entries.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok()) {
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split at
        // the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let mut rest = stat[close + 1..].split_whitespace();
        let (Some(state), Some(ppid)) = (rest.next(), rest.next()) else {
            continue;
        };
        let is_browser = comm.starts_with("chrom") && !comm.starts_with("chromedriver");
        if state == "Z" && ppid.parse() == Ok(me) && is_browser {
            // SAFETY: waitpid(2) on a specific zombie child of ours; WNOHANG never blocks.
            if unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) } == pid {
                reaped += 1;
            }
        }
    }
    reaped
}

fn pid_alive(pid: i32) -> bool {
    fs::metadata(format!("/proc/{pid}")).is_ok()
}

/// Kill browsers and remove temporary directories left behind by earlier test processes that
/// were killed before their teardown could run (Ctrl-C, SIGKILL, a CI timeout).
pub fn sweep_leftovers() {
    let tmp = std::env::temp_dir();
    let Ok(entries) = fs::read_dir(&tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TEMP_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        if owner == std::process::id() as i32 || pid_alive(owner) {
            continue;
        }
        let path = entry.path();
        kill_mentioning(&format!("{}/", path.display()), Duration::from_secs(5));
        let _ = fs::remove_dir_all(&path);
    }
}
