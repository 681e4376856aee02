//! Processes of the live host, read from `/proc` directly (never through `ps`), and signalled
//! only after checking that the pid still names the same process.

use crate::{Error, Result};
use firewarden_model::action::ProcessRef;
use rustix::process::{Pid, Signal, kill_process};
use std::path::Path;

/// Fields of `/proc/PID/stat` after the command name: (state, parent pid, start ticks).
fn stat_fields(pid: u32) -> Option<(char, u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let state = f.first()?.chars().next()?;
    let ppid = f.get(1)?.parse().ok()?;
    let start = f.get(19)?.parse().ok()?;
    Some((state, ppid, start))
}

/// The process state letter (`R`, `S`, `T` for stopped …), or `None` when it is gone.
pub fn state(pid: u32) -> Option<char> {
    stat_fields(pid).map(|f| f.0)
}

/// Parent pid.
pub fn parent(pid: u32) -> Option<u32> {
    stat_fields(pid).map(|f| f.1)
}

/// Names a running process so that it can be signalled safely later; refuses kernel threads.
/// Read with triage's process reader (status, cmdline, stat's start time and kthread flag).
pub fn process_ref(pid: u32) -> Result<ProcessRef> {
    let mut unreadable = 0;
    let p = firewarden_triage::live::read_process(
        &firewarden_source::FsSource::live(),
        pid,
        &mut unreadable,
    )
    .ok_or_else(|| Error::Refused(format!("no process {pid}")))?;
    if p.kernel_thread {
        return Err(Error::Refused(format!("process {pid} is a kernel thread")));
    }
    Ok(ProcessRef {
        pid,
        start_ticks: p.start_ticks,
        cmdline: firewarden_model::printable(&p.command(), 200),
    })
}

/// Whether the pid still names the process that was recorded (same start time).
pub fn is_same(p: &ProcessRef) -> bool {
    stat_fields(p.pid).is_some_and(|f| f.2 == p.start_ticks)
}

/// Sends a signal to exactly the recorded process.
pub fn signal(p: &ProcessRef, sig: Signal) -> Result<()> {
    if !is_same(p) {
        return Err(Error::Refused(format!(
            "process {} ({}) is gone (or its pid was reused)",
            p.pid, p.cmdline
        )));
    }
    let pid = Pid::from_raw(p.pid as i32)
        .ok_or_else(|| Error::Refused(format!("invalid pid {}", p.pid)))?;
    kill_process(pid, sig).map_err(|e| Error::Io(format!("signalling process {}: {e}", p.pid)))
}

/// Processes whose real or effective uid is `uid`.
pub fn owned_by(uid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(status) =
            std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("status"))
        else {
            continue;
        };
        let owned = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .is_some_and(|ids| {
                ids.split_whitespace()
                    .take(2)
                    .any(|id| id == uid.to_string())
            });
        if owned {
            out.push(pid);
        }
    }
    out.sort_unstable();
    out
}

/// Live processes whose executable is `path` (also when it was deleted since).
pub fn running(path: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) {
            let exe = exe.to_string_lossy();
            if exe == path || exe.strip_suffix(" (deleted)") == Some(path) {
                out.push(pid);
            }
        }
    }
    out.sort_unstable();
    out
}

/// This process and its ancestors, nearest first (so the responder's own session is never
/// frozen or ended).
pub fn own_lineage() -> Vec<u32> {
    let mut out = vec![std::process::id()];
    let mut pid = std::process::id();
    while let Some(pp) = parent(pid) {
        if pp == 0 || out.contains(&pp) {
            break;
        }
        out.push(pp);
        pid = pp;
    }
    out
}

/// Stop signal.
pub const STOP: Signal = Signal::STOP;
/// Continue signal.
pub const CONT: Signal = Signal::CONT;
/// Kill signal.
pub const KILL: Signal = Signal::KILL;
