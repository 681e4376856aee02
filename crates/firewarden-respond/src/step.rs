//! Applying and reversing the primitive [`Step`]s. Every step checks, before it acts, that the
//! thing it changes is still in the state the plan saw (a file's hash, a process's start time),
//! so a plan never lands on something that changed under it, and undo never overwrites a
//! change someone made after us unless forced.

use crate::state::StateDir;
use crate::target::Target;
use crate::{Error, Result, nft, process};
use firewarden_model::action::{FileState, Step};
use rustix::fs::{Gid, Mode, OFlags, Timespec, Timestamps, Uid};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What steps act on.
pub(crate) struct Env<'a> {
    pub state: &'a StateDir,
    pub target: &'a Target,
}

fn drift(path: &str, expected: &str, found: &str) -> Error {
    Error::Drift(format!(
        "{path} changed since it was planned or applied (SHA-256 {found}, expected {expected})"
    ))
}

/// Current hash of a file inside the target, `None` when it does not exist.
fn current_sha(target: &Target, path: &str) -> Result<Option<String>> {
    Ok(target.state_of(path)?.map(|s| s.sha256))
}

fn open_nofollow(host: &Path, flags: OFlags, mode: u32) -> Result<File> {
    let fd = rustix::fs::open(
        host,
        flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(mode),
    )
    .map_err(|e| Error::io(host, e.into()))?;
    Ok(File::from(fd))
}

/// Writes `bytes` into the existing file in place (same inode: hard links, extended attributes
/// and ACLs stay), or into a new file created exclusively.
fn write_content(host: &Path, bytes: &[u8], create_mode: Option<u32>) -> Result<File> {
    let mut file = match create_mode {
        Some(mode) => open_nofollow(host, OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL, mode)?,
        None => open_nofollow(host, OFlags::WRONLY, 0)?,
    };
    let meta = file.metadata().map_err(|e| Error::io(host, e))?;
    if !meta.is_file() {
        return Err(Error::Refused(format!(
            "{} is not a regular file",
            host.display()
        )));
    }
    file.set_len(0)
        .and_then(|_| file.write_all(bytes))
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io(host, e))?;
    Ok(file)
}

/// Puts owner, mode and (optionally) times back; owner first, since chown clears set-id bits.
fn set_meta(file: &File, host: &Path, st: &FileState, times: bool) -> Result<()> {
    let fd = file.as_fd();
    rustix::fs::fchown(fd, Some(Uid::from_raw(st.uid)), Some(Gid::from_raw(st.gid)))
        .map_err(|e| Error::io(host, e.into()))?;
    rustix::fs::fchmod(fd, Mode::from_raw_mode(st.mode)).map_err(|e| Error::io(host, e.into()))?;
    if times {
        set_times(file, host, Some(st.atime_ns), Some(st.mtime_ns))?;
    }
    Ok(())
}

/// Sets access and modification times (ns since the epoch); `None` leaves one as it is, and a
/// negative `i64::MIN` is never passed (callers use `now` through `touch_dir`).
fn set_times(file: &File, host: &Path, atime: Option<i64>, mtime: Option<i64>) -> Result<()> {
    let ts = |ns: Option<i64>| match ns {
        Some(ns) => Timespec {
            tv_sec: ns.div_euclid(1_000_000_000),
            tv_nsec: ns.rem_euclid(1_000_000_000) as _,
        },
        None => Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_OMIT,
        },
    };
    rustix::fs::futimens(
        file.as_fd(),
        &Timestamps {
            last_access: ts(atime),
            last_modification: ts(mtime),
        },
    )
    .map_err(|e| Error::io(host, e.into()))
}

fn ensure_live(target: &Target, what: &str) -> Result<()> {
    if target.is_live() {
        Ok(())
    } else {
        Err(Error::Refused(format!(
            "{what} acts on the running system; the target is the root {}",
            target.root_dir().display()
        )))
    }
}

fn systemctl(args: &[&str]) -> Result<()> {
    let bin = ["/usr/bin/systemctl", "/bin/systemctl"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .ok_or_else(|| Error::Refused("systemctl not found".into()))?;
    let out = Command::new(bin)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Io(format!("systemctl: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Io(format!(
            "systemctl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Whether a unit is active, read from systemd's cgroup tree (no `systemctl` needed).
pub fn unit_active(unit: &str) -> bool {
    [
        "/sys/fs/cgroup/system.slice",
        "/sys/fs/cgroup/systemd/system.slice",
    ]
    .iter()
    .any(|base| {
        std::fs::read_to_string(Path::new(base).join(unit).join("cgroup.procs"))
            .is_ok_and(|p| !p.trim().is_empty())
    })
}

/// Whether systemd runs this host (so units can be stopped and started).
pub fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

fn proc_sys_path(key: &str) -> Result<String> {
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        || key.contains("..")
    {
        return Err(Error::Refused(format!("`{key}` is not a kernel parameter")));
    }
    Ok(format!("/proc/sys/{}", key.replace('.', "/")))
}

/// Reads a kernel parameter of the live host.
pub fn read_sysctl(key: &str) -> Option<String> {
    std::fs::read_to_string(proc_sys_path(key).ok()?)
        .ok()
        .map(|v| v.trim().to_string())
}

fn write_sysctl(key: &str, value: &str) -> Result<()> {
    let path = proc_sys_path(key)?;
    std::fs::write(&path, value).map_err(|e| Error::io(Path::new(&path), e))
}

/// Applies one step.
pub(crate) fn apply(env: &Env, step: &Step) -> Result<()> {
    let target = env.target;
    match step {
        Step::File {
            path,
            before,
            after,
            ..
        } => {
            let host = target.host_path(path)?;
            let now = current_sha(target, path)?;
            match (before, after) {
                (Some(b), _) if now.as_deref() != Some(b.sha256.as_str()) => {
                    return Err(drift(path, &b.sha256, now.as_deref().unwrap_or("none")));
                }
                (None, _) if now.is_some() => {
                    return Err(Error::Drift(format!("{path} exists already")));
                }
                _ => {}
            }
            match (before, after) {
                (Some(_), Some(a)) => {
                    let bytes = env.state.vault_get(&a.sha256)?;
                    let f = write_content(&host, &bytes, None)?;
                    rustix::fs::fchmod(f.as_fd(), Mode::from_raw_mode(a.mode))
                        .map_err(|e| Error::io(&host, e.into()))?;
                }
                (Some(_), None) => {
                    std::fs::remove_file(&host).map_err(|e| Error::io(&host, e))?;
                }
                (None, Some(a)) => {
                    let bytes = env.state.vault_get(&a.sha256)?;
                    let f = write_content(&host, &bytes, Some(a.mode))?;
                    set_meta(&f, &host, a, false)?;
                }
                (None, None) => {}
            }
            Ok(())
        }
        Step::Chmod {
            path,
            before,
            after,
        } => chmod(target, path, *before, *after),
        Step::Unlink {
            path, target: to, ..
        } => {
            let host = target.host_path(path)?;
            let found = std::fs::read_link(&host).map_err(|e| Error::io(&host, e))?;
            if found.as_os_str() != std::ffi::OsStr::new(to) {
                return Err(Error::Drift(format!(
                    "{path} now points to {}",
                    found.display()
                )));
            }
            std::fs::remove_file(&host).map_err(|e| Error::io(&host, e))
        }
        Step::Freeze { process: p } => {
            ensure_live(target, "freezing a process")?;
            process::signal(p, process::STOP)
        }
        Step::Kill { process: p } => {
            ensure_live(target, "ending a process")?;
            match process::signal(p, process::KILL) {
                // Already gone is what was wanted.
                Err(Error::Refused(_)) => Ok(()),
                Err(e) => Err(e),
                Ok(()) => {
                    // SIGKILL lands asynchronously: wait (briefly) until it is dead, so a
                    // check re-run right after does not still see it.
                    for _ in 0..100 {
                        if !matches!(process::state(p.pid), Some(s) if s != 'Z' && s != 'X')
                            || !process::is_same(p)
                        {
                            break;
                        }
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    Ok(())
                }
            }
        }
        Step::NftTable {
            family,
            name,
            script,
        } => {
            ensure_live(target, "network containment")?;
            if nft::table_exists(family, name)? {
                // An earlier isolation whose dead-man switch fired leaves our table with its
                // isolate sets emptied: it is replaced in one transaction, so the host is
                // isolated again at once (undoing either action deletes the table).
                if family == nft::FAMILY && name == nft::TABLE && !nft::isolating()? {
                    return nft::load(&format!("delete table {family} {name}\n{script}"));
                }
                return Err(Error::Refused(format!(
                    "nftables table {family} {name} exists already: an earlier containment is in force (firewarden actions)"
                )));
            }
            nft::load(script)
        }
        Step::Sysctl { key, before, after } => {
            ensure_live(target, "setting a kernel parameter")?;
            let now = read_sysctl(key).unwrap_or_default();
            if now != *before {
                return Err(Error::Drift(format!(
                    "{key} is {now}, planned from {before}"
                )));
            }
            write_sysctl(key, after)
        }
        Step::StopUnit { unit, .. } => {
            ensure_live(target, "stopping a service")?;
            if !systemd_running() {
                return Err(Error::Refused("systemd does not run this host".into()));
            }
            systemctl(&["stop", "--", unit])
        }
        Step::ReloadSystemd => {
            ensure_live(target, "reloading systemd")?;
            systemctl(&["daemon-reload"])
        }
        Step::RestartUnit { unit } => {
            ensure_live(target, "restarting a service")?;
            if !systemd_running() {
                return Err(Error::Refused("systemd does not run this host".into()));
            }
            systemctl(&["restart", "--", unit])
        }
        Step::TouchDir { path } => touch_dir(target, path),
        Step::Capture { .. } => Ok(()),
    }
}

/// Puts the access and modification times of the directory holding `host` back, after an
/// entry was added or removed there (its ctime cannot be put back).
fn restore_parent_times(host: &Path, times: &Option<[i64; 2]>) -> Result<()> {
    let (Some([atime, mtime]), Some(dir)) = (times, host.parent()) else {
        return Ok(());
    };
    let f = open_nofollow(dir, OFlags::RDONLY | OFlags::DIRECTORY, 0)?;
    set_times(&f, dir, Some(*atime), Some(*mtime))
}

/// Sets a directory's modification time to now.
fn touch_dir(target: &Target, path: &str) -> Result<()> {
    let host = target.host_path(path)?;
    let dir = open_nofollow(&host, OFlags::RDONLY | OFlags::DIRECTORY, 0)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    set_times(&dir, &host, None, Some(now))
}

fn file_mode(target: &Target, path: &str) -> Result<(File, PathBuf, u32)> {
    let host = target.host_path(path)?;
    let f = open_nofollow(&host, OFlags::RDONLY | OFlags::NONBLOCK, 0)?;
    let meta = f.metadata().map_err(|e| Error::io(&host, e))?;
    let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
    Ok((f, host, mode))
}

/// Changes permission bits, refusing when they are not `from` (the plan's view).
fn chmod(target: &Target, path: &str, from: u32, to: u32) -> Result<()> {
    let (f, host, now) = file_mode(target, path)?;
    if now != from {
        return Err(Error::Drift(format!(
            "{path} has mode {now:04o}, expected {from:04o}"
        )));
    }
    rustix::fs::fchmod(f.as_fd(), Mode::from_raw_mode(to)).map_err(|e| Error::io(&host, e.into()))
}

/// Why undoing `step` would overwrite something changed after the action, or `None` when it
/// is safe (the object is as the action left it, or already back as it was). Undo checks
/// every step of an action first, so that it changes all or nothing unless forced.
pub(crate) fn blocker(env: &Env, step: &Step) -> Result<Option<String>> {
    let target = env.target;
    Ok(match step {
        Step::File {
            path,
            before,
            after,
            ..
        } => {
            let now = current_sha(target, path)?;
            let sha = |s: &Option<FileState>| s.as_ref().map(|s| s.sha256.clone());
            (now != sha(after) && now != sha(before)).then(|| {
                format!(
                    "{path} changed since the action (SHA-256 {}, left as {})",
                    now.as_deref().unwrap_or("none: it is gone"),
                    sha(after).as_deref().unwrap_or("none")
                )
            })
        }
        Step::Chmod {
            path,
            before,
            after,
        } => {
            let (_, _, now) = file_mode(target, path)?;
            (now != *after && now != *before)
                .then(|| format!("{path} has mode {now:04o}, the action left {after:04o}"))
        }
        Step::Unlink {
            path, target: to, ..
        } => match std::fs::read_link(target.host_path(path)?) {
            Ok(found) if found.as_os_str() != std::ffi::OsStr::new(to) => Some(format!(
                "{path} exists again and points to {}",
                found.display()
            )),
            _ => None,
        },
        _ => None,
    })
}

/// Reverses one step. Returns `Ok(Some(note))` when there was nothing to reverse (already in
/// the prior state) or it cannot be reversed; `Err` when reversing failed.
pub(crate) fn undo(env: &Env, step: &Step, force: bool) -> Result<Option<String>> {
    let target = env.target;
    if !force && let Some(why) = blocker(env, step)? {
        return Err(Error::Drift(why));
    }
    match step {
        Step::File {
            path,
            before,
            parent_times,
            ..
        } => {
            let host = target.host_path(path)?;
            let now = current_sha(target, path)?;
            if now.as_deref() == before.as_ref().map(|b| b.sha256.as_str()) && before.is_some() {
                // Content already back; still put owner, mode and times back.
                if let Some(b) = before {
                    let f = open_nofollow(&host, OFlags::RDONLY | OFlags::NONBLOCK, 0)?;
                    set_meta(&f, &host, b, true)?;
                }
                return Ok(None);
            }
            match before {
                Some(b) => {
                    let bytes = env.state.vault_get(&b.sha256)?;
                    let f = if now.is_some() {
                        write_content(&host, &bytes, None)?
                    } else {
                        write_content(&host, &bytes, Some(0o600))?
                    };
                    set_meta(&f, &host, b, true)?;
                }
                None => {
                    if now.is_some() {
                        std::fs::remove_file(&host).map_err(|e| Error::io(&host, e))?;
                    }
                }
            }
            restore_parent_times(&host, parent_times)?;
            Ok(None)
        }
        Step::Chmod { path, before, .. } => {
            // Already back (a second run after a partial undo) is fine; drift was checked.
            let (f, host, _) = file_mode(target, path)?;
            rustix::fs::fchmod(f.as_fd(), Mode::from_raw_mode(*before))
                .map_err(|e| Error::io(&host, e.into()))?;
            Ok(None)
        }
        Step::Unlink {
            path,
            target: to,
            parent_times,
        } => {
            let host = target.host_path(path)?;
            if std::fs::read_link(&host).is_ok_and(|f| f.as_os_str() == std::ffi::OsStr::new(to)) {
                return Ok(None);
            }
            std::os::unix::fs::symlink(to, &host).map_err(|e| Error::io(&host, e))?;
            restore_parent_times(&host, parent_times)?;
            Ok(None)
        }
        Step::Freeze { process: p } => {
            if !process::is_same(p) {
                return Ok(Some(format!(
                    "process {} ({}) has ended; nothing to thaw",
                    p.pid, p.cmdline
                )));
            }
            process::signal(p, process::CONT).map(|_| None)
        }
        Step::Kill { process: p } => Ok(Some(format!(
            "process {} ({}) was ended and cannot be brought back",
            p.pid, p.cmdline
        ))),
        Step::NftTable { family, name, .. } => nft::delete_table(family, name).map(|_| None),
        Step::Sysctl { key, before, .. } => write_sysctl(key, before).map(|_| None),
        Step::StopUnit { unit, was_active } => {
            if *was_active {
                // The unit file was just put back: systemd must read it before starting it.
                systemctl(&["daemon-reload"])?;
                systemctl(&["start", "--", unit])?;
            }
            Ok(None)
        }
        Step::ReloadSystemd => systemctl(&["daemon-reload"]).map(|_| None),
        Step::RestartUnit { unit } => Ok(Some(format!(
            "{unit} was restarted; a restart has nothing to put back"
        ))),
        Step::TouchDir { path } => touch_dir(target, path).map(|_| None),
        Step::Capture { .. } => Ok(None),
    }
}
