//! The check catalogue. Each area is one file; each check is one `Check` constant in it with its
//! metadata next to its code. Adding a check: write the constant, list it in [`ALL`], and add its
//! firing and silent fixtures to `tests/catalogue.rs` (the conformance test fails until you do).

use crate::context::Ctx;
use crate::facts::CONFIG_CAP;
use crate::indicators::{self, Indicator};
use firewarden_model::{EventKind, Severity};
use firewarden_source::{FileKind, display_path, read_capped};
use std::path::{Path, PathBuf};

mod accounts;
mod files;
mod logins;
mod logs;
mod persistence;
mod process;
mod services;
mod ssh;
mod web;

use crate::check::Check;

/// Every check, in the order reports list them.
pub static ALL: &[Check] = &[
    accounts::UID0,
    accounts::LOGIN_SHELL,
    accounts::WEAK_PASSWORD,
    accounts::SUDO,
    accounts::PAM,
    ssh::AUTHORIZED_KEYS,
    ssh::CONFIG,
    logins::BRUTE_FORCE,
    logins::ATTACKER_LOGIN,
    logins::LOGIN_RECORDS,
    persistence::CRON,
    persistence::AT,
    persistence::SYSTEMD,
    persistence::RC,
    persistence::SHELL_PROFILE,
    persistence::LD_PRELOAD,
    persistence::UDEV,
    persistence::AUTOSTART,
    persistence::INETD,
    files::SUID,
    process::MINER,
    process::REVERSE_SHELL,
    process::SUSPICIOUS_EXE,
    process::HIDDEN,
    process::MASQUERADE,
    process::NETWORK,
    files::PACKAGE_INTEGRITY,
    files::MOVED_TOOLS,
    files::UNOWNED,
    files::RECENT_CHANGES,
    files::TEMP_DIRS,
    files::DEV,
    files::ROOTKIT_FILES,
    logs::LOG_TAMPERING,
    logs::HISTORY_TAMPERING,
    logs::HISTORY_COMMANDS,
    services::EXPOSED,
    web::WEBSHELL,
    web::TAMPERING,
    web::DUMP,
    web::ACCESS,
    web::MALWARE,
];

/// Reads a configuration-sized text file; `None` when absent, with a warning when unreadable
/// or cut.
pub(crate) fn read_config(ctx: &mut Ctx, path: &Path) -> Option<String> {
    match read_capped(ctx.src, path, CONFIG_CAP) {
        Ok((bytes, truncated)) => {
            if truncated {
                ctx.warn(
                    Some(path),
                    format!("larger than {CONFIG_CAP} bytes: only the start was read"),
                );
            }
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        Err(e) => {
            // A FIFO, device or directory where a file a check reads should be is either
            // planted to blind the check or a broken image: either way, say so.
            if !e.is_not_found() {
                ctx.warn(Some(path), format!("{e}: not read"));
            }
            None
        }
    }
}

/// Regular files (and symlinks to them) directly inside a directory.
pub(crate) fn files_in(ctx: &mut Ctx, dir: &Path) -> Vec<PathBuf> {
    match ctx.src.read_dir(dir) {
        Ok(entries) => entries
            .into_iter()
            .filter(|e| matches!(e.kind, FileKind::File | FileKind::Symlink))
            .map(|e| dir.join(e.name))
            .collect(),
        Err(e) => {
            ctx.warn_err(&e);
            Vec::new()
        }
    }
}

/// Reports one command-bearing line (cron entry, ExecStart, rc line …) that an indicator
/// matched, with the file's times, and puts it on the timeline at the file's mtime.
pub(crate) fn report_command(
    ctx: &mut Ctx,
    path: &Path,
    line: u64,
    text: &str,
    what: &str,
    ind: &Indicator,
    floor: Severity,
) {
    let ev = ctx.file_evidence(path).line(line).excerpt(text);
    let time = ev.mtime;
    let f = ctx
        .finding(format!("{what}: {}", ind.reason))
        .explain(format!(
            "{what} in {} runs `{}`, which {}. Attackers use this to survive reboots and re-infect the host.",
            display_path(path),
            firewarden_model::printable(text, 160),
            ind.reason
        ))
        .recommend(format!("Preserve {} as evidence, then remove the entry (firewarden eradicate) and look for the payload it fetches or runs.", display_path(path)))
        .evidence(ev)
        .at_time(time);
    let mut f = f;
    f.severity = ind.severity.max(floor);
    ctx.report_with_event(f, EventKind::Persistence, None, None);
}

/// Checks each line of a command-bearing file with the shared indicators.
pub(crate) fn scan_commands(ctx: &mut Ctx, path: &Path, text: &str, what: &str, floor: Severity) {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(ind) = indicators::worst(t).or_else(|| indicators::temp_program(t)) {
            report_command(ctx, path, i as u64 + 1, t, what, &ind, floor);
        }
    }
}
