//! Reads process and socket state straight from the source's `/proc` — never from `ps`,
//! `netstat` or `ss`, which an attacker may have replaced.

use crate::facts::{LiveState, ProcInfo};
use firewarden_artifacts::procnet::{Proto, parse_table};
use firewarden_source::{Source, read_capped, read_text};
use std::path::{Path, PathBuf};

/// Most fds inspected per process; a process with a million fds must not stall triage.
const MAX_FDS: usize = 4096;
const PF_KTHREAD: u64 = 0x0020_0000;

/// Pids listed by `/proc` (numeric entries only).
pub fn list_pids(src: &dyn Source) -> Option<Vec<u32>> {
    let entries = src.read_dir(Path::new("/proc")).ok()?;
    let pids: Vec<u32> = entries
        .iter()
        .filter_map(|e| e.name.to_str()?.parse().ok())
        .collect();
    (!pids.is_empty()).then_some(pids)
}

/// Reads every process and the socket tables; `None` when the source has no process state
/// (a mounted image has an empty `/proc`).
pub fn read_live_state(src: &dyn Source, warn: &dyn Fn(Option<&str>, String)) -> Option<LiveState> {
    let pids = list_pids(src)?;
    let mut state = LiveState::default();
    let mut unreadable_exe = 0;
    for pid in pids {
        // A process may exit at any moment: whatever we cannot read of it is simply absent.
        if let Some(p) = read_process(src, pid, &mut unreadable_exe) {
            state.processes.push(p);
        }
    }
    if unreadable_exe > 0 {
        // On the live host /proc/self is this process: say "run as root" only when we are not.
        let as_root = src.is_live()
            && read_text(src, Path::new("/proc/self/status"), 64 * 1024)
                .ok()
                .and_then(|st| {
                    st.lines()
                        .find_map(|l| l.strip_prefix("Uid:"))
                        .map(|u| u.split_whitespace().nth(1) == Some("0"))
                })
                .unwrap_or(false);
        let why = if as_root {
            "permission denied even as root: kernel hardening, an LSM, or a process of another container"
        } else {
            "permission denied: run as root for a complete view"
        };
        warn(
            Some("/proc"),
            format!("{unreadable_exe} process(es) could not be fully inspected ({why})"),
        );
    }
    for (name, proto) in [
        ("tcp", Proto::Tcp),
        ("tcp6", Proto::Tcp),
        ("udp", Proto::Udp),
        ("udp6", Proto::Udp),
    ] {
        if let Ok(text) = read_text(src, &Path::new("/proc/net").join(name), 64 << 20) {
            state.sockets.extend(parse_table(&text, proto));
        }
    }
    state.uptime = read_text(src, Path::new("/proc/uptime"), 100)
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok());
    Some(state)
}

fn link(src: &dyn Source, path: PathBuf) -> Result<String, bool> {
    match src.read_link(&path) {
        Ok(t) => Ok(t.to_string_lossy().into_owned()),
        Err(e) => Err(!e.is_not_found()),
    }
}

/// Reads one process; `None` when it vanished.
pub fn read_process(src: &dyn Source, pid: u32, unreadable: &mut usize) -> Option<ProcInfo> {
    let dir = PathBuf::from(format!("/proc/{pid}"));
    let status = read_text(src, &dir.join("status"), 64 * 1024).ok()?;
    let mut p = ProcInfo {
        pid,
        ..Default::default()
    };
    for line in status.lines() {
        let (key, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.trim();
        match key {
            "Name" => p.name = firewarden_model::printable(value, 64),
            "PPid" => p.ppid = value.parse().unwrap_or(0),
            "Uid" => {
                p.uid = value
                    .split_whitespace()
                    .next()
                    .and_then(|u| u.parse().ok())
                    .unwrap_or(0)
            }
            _ => {}
        }
    }
    if let Ok((raw, _)) = read_capped(src, &dir.join("cmdline"), 256 * 1024) {
        p.cmdline = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| firewarden_model::printable(&String::from_utf8_lossy(a), 4096))
            .collect();
    }
    if let Ok(stat) = read_text(src, &dir.join("stat"), 4096)
        && let Some(close) = stat.rfind(')')
    {
        let f: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        p.kernel_thread = num(6) & PF_KTHREAD != 0;
        p.cpu_ticks = num(11) + num(12);
        p.start_ticks = num(19);
    }
    if pid == 2 || p.ppid == 2 {
        p.kernel_thread = true;
    }
    match link(src, dir.join("exe")) {
        Ok(t) => p.exe = Some(t),
        Err(true) if !p.kernel_thread => *unreadable += 1,
        Err(_) => {}
    }
    p.cwd = link(src, dir.join("cwd")).ok();
    if let Ok((env, _)) = read_capped(src, &dir.join("environ"), 256 * 1024) {
        p.ld_env = env
            .split(|b| *b == 0)
            .filter(|v| {
                v.starts_with(b"LD_PRELOAD=")
                    || v.starts_with(b"LD_LIBRARY_PATH=")
                    || v.starts_with(b"LD_AUDIT=")
            })
            .map(|v| firewarden_model::printable(&String::from_utf8_lossy(v), 512))
            .collect();
    }
    if let Ok(fds) = src.read_dir(&dir.join("fd")) {
        for fd in fds.iter().take(MAX_FDS) {
            let Some(n) = fd.name.to_str().and_then(|n| n.parse::<usize>().ok()) else {
                continue;
            };
            let Ok(target) = link(src, dir.join("fd").join(&fd.name)) else {
                continue;
            };
            if let Some(inode) = target
                .strip_prefix("socket:[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|i| i.parse().ok())
            {
                p.socket_inodes.push(inode);
            }
            if n < 3 {
                p.stdio[n] = Some(target);
            }
        }
    }
    Some(p)
}
