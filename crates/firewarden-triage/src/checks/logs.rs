//! Logs and anti-forensics (checklist rows 48–50).

use crate::check::{Check, CheckMeta};
use crate::context::Ctx;
use crate::facts::log_family;
use crate::indicators::{self, Tactic};
use firewarden_artifacts::history;
use firewarden_artifacts::lines::LineReader;
use firewarden_model::{EventKind, Severity, TimelineEvent};
use firewarden_source::{FileKind, display_path, open_decompressed};
use std::ops::Not;
use std::path::{Path, PathBuf};

const KEY_LOGS: &[&str] = &[
    "auth.log",
    "secure",
    "syslog",
    "messages",
    "wtmp",
    "lastlog",
    "kern.log",
    "audit/audit.log",
];

/// Checklist row 48.
pub const LOG_TAMPERING: Check = Check {
    meta: CheckMeta {
        id: "linux.logs.tampering",
        title: "Deleted, emptied or corrupted logs",
        attack: &["T1070.002", "T1562.012"],
        severity: Severity::High,
        rows: &[48],
        live_state: false,
        walks_files: false,
        description: "Looks at /var/log: key logs that are empty while their rotations are not, logs that are missing while the syslog daemon is configured to write them, runs of NUL bytes inside text logs (truncated while written), and corrupted journal files.",
    },
    run: |ctx| {
        let var_log = Path::new("/var/log");
        if ctx.src.metadata(var_log).is_err() {
            return Ok(());
        }
        let logins_in_auth = ctx.facts.auth(ctx.src).accepted.is_empty().not();
        for name in KEY_LOGS {
            let path = var_log.join(name);
            let family = log_family(
                ctx.src,
                path.parent().unwrap_or(var_log),
                &[path.file_name().and_then(|n| n.to_str()).unwrap_or(name)],
            );
            let Ok(m) = ctx.src.metadata(&path) else {
                continue;
            };
            let rotated = family
                .iter()
                .filter(|p| **p != path)
                .filter_map(|p| ctx.src.metadata(p).ok())
                .any(|m| m.size > 0);
            // An empty wtmp on a host nobody logs into is normal; with logins in auth.log it is not.
            let wtmp_wiped = *name == "wtmp" && logins_in_auth;
            if m.size == 0 && (rotated || wtmp_wiped) {
                let mut f = ctx
                    .finding(format!("{} is empty{}", path.display(), if rotated { " while its older rotations are not" } else { " although auth.log records logins" }))
                    .explain("A log that a busy server writes all the time is empty: it was most likely truncated to erase the intrusion (`> /var/log/auth.log`, `echo > wtmp`).")
                    .recommend("Look for the erased events in other sources: the journal, rotated files, a remote syslog server, the cloud provider's logs.")
                    .evidence(ctx.file_evidence(&path))
                    .at_time(Some(m.mtime));
                f.severity = Severity::High;
                ctx.report_with_event(f, EventKind::AntiForensics, None, None);
            }
        }
        // Missing auth logs while rsyslog is configured to write them.
        let rsyslog = super::read_config(ctx, Path::new("/etc/rsyslog.conf")).unwrap_or_default()
            + &super::files_in(ctx, Path::new("/etc/rsyslog.d"))
                .iter()
                .filter_map(|p| super::read_config(ctx, p))
                .collect::<String>();
        for (target, name) in [
            ("/var/log/auth.log", "auth.log"),
            ("/var/log/secure", "secure"),
        ] {
            if rsyslog
                .lines()
                .any(|l| !l.trim_start().starts_with('#') && l.contains(target))
                && ctx.src.metadata(Path::new(target)).is_err()
                && log_family(ctx.src, var_log, &[name]).is_empty()
            {
                let mut f = ctx
                    .finding(format!("{target} is missing though rsyslog writes it"))
                    .explain("rsyslog is configured to write this log, yet neither it nor a rotation exists: it was deleted.")
                    .recommend("Recover the events from the journal or a remote log server; check when rsyslog last restarted.")
                    .evidence(ctx.file_evidence(Path::new("/etc/rsyslog.conf")).excerpt(target));
                f.severity = Severity::High;
                ctx.report(f);
            }
        }
        for name in ["auth.log", "secure", "syslog", "messages"] {
            let path = var_log.join(name);
            let Ok(mut reader) = open_decompressed(ctx.src, &path) else {
                continue;
            };
            let mut buf = vec![0u8; 1 << 20];
            let mut nul_run = 0usize;
            let mut longest = 0usize;
            let mut read_total = 0u64;
            // Bounded scan: the first 256 MiB are enough to find a truncation hole.
            while read_total < 256 << 20 {
                let n = match std::io::Read::read(&mut reader, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                read_total += n as u64;
                for b in &buf[..n] {
                    if *b == 0 {
                        nul_run += 1;
                        longest = longest.max(nul_run);
                    } else {
                        nul_run = 0;
                    }
                }
            }
            if longest >= 64 {
                let mut f = ctx
                    .finding(format!("{} contains a run of {longest} NUL bytes", path.display()))
                    .explain("A hole of zero bytes inside a text log appears when the file is truncated while the logger keeps writing at its old offset: someone emptied it.")
                    .recommend("Preserve the file; the events before the hole are gone from it, look for them elsewhere.")
                    .evidence(ctx.file_evidence(&path));
                f.severity = Severity::Medium;
                ctx.report(f);
            }
        }
        for dir in ["/var/log/journal", "/run/log/journal"] {
            let Ok(machines) = ctx.src.read_dir(Path::new(dir)) else {
                continue;
            };
            for m in machines.iter().filter(|e| e.kind == FileKind::Dir) {
                let sub = Path::new(dir).join(&m.name);
                let corrupt: Vec<PathBuf> = super::files_in(ctx, &sub)
                    .into_iter()
                    .filter(|p| p.to_string_lossy().ends_with(".journal~"))
                    .collect();
                if !corrupt.is_empty() {
                    let mut f = ctx
                        .finding(format!("{} corrupted journal file(s) in {}", corrupt.len(), sub.display()))
                        .explain("journald renames files it finds damaged to `*.journal~`. Unclean shutdowns cause this, and so does tampering with the journal.")
                        .recommend("Preserve them; `journalctl --file` on a trusted machine can still read most entries.")
                        .evidence(ctx.file_evidence(&corrupt[0]));
                    f.severity = Severity::Low;
                    ctx.report(f);
                }
            }
        }
        Ok(())
    },
};

const HISTORY_FILES: &[&str] = &[
    ".bash_history",
    ".zsh_history",
    ".history",
    ".sh_history",
    ".ash_history",
    ".mysql_history",
    ".psql_history",
    ".python_history",
    ".node_repl_history",
    ".local/share/fish/fish_history",
    ".viminfo",
    ".lesshst",
    ".rediscli_history",
];

fn history_files(ctx: &Ctx) -> Vec<(String, PathBuf)> {
    ctx.facts
        .homes(ctx.src)
        .into_iter()
        .flat_map(|(u, h)| HISTORY_FILES.iter().map(move |n| (u.clone(), h.join(n))))
        .collect()
}

/// Checklist row 49.
pub const HISTORY_TAMPERING: Check = Check {
    meta: CheckMeta {
        id: "linux.logs.history_tampering",
        title: "Shell history disabled, redirected or wiped",
        attack: &["T1070.003", "T1562.003"],
        severity: Severity::High,
        rows: &[49],
        live_state: false,
        walks_files: false,
        description: "History files that are symlinks to /dev/null, empty root history while wtmp shows root sessions, and settings that turn history off (HISTFILE=/dev/null, HISTSIZE=0) in profiles.",
    },
    run: |ctx| {
        let sessions: std::collections::HashSet<String> = ctx
            .facts
            .wtmp(ctx.src)
            .iter()
            .flat_map(|(_, p)| {
                p.records
                    .iter()
                    .filter(|r| r.kind == firewarden_artifacts::utmp::RecordType::User)
                    .map(|r| r.user.clone())
            })
            .collect();
        for (user, path) in history_files(ctx) {
            let Ok(m) = ctx.src.symlink_metadata(&path) else {
                continue;
            };
            if m.kind == FileKind::Symlink {
                let target = ctx
                    .src
                    .read_link(&path)
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let ev = ctx.file_evidence(&path).excerpt(format!("-> {target}"));
                let mut f = ctx
                    .finding(format!("History of `{user}` is a symlink to {target}"))
                    .explain(format!("{} points to {target}, so nothing typed is kept. Attackers do this (`ln -sf /dev/null ~/.bash_history`) to leave no trace of their commands.", path.display()))
                    .recommend("Replace the link with a regular file; reconstruct the commands from auditd, the journal or process accounting.")
                    .evidence(ev)
                    .at_time(Some(m.mtime));
                f.severity = if target.contains("/dev/null") {
                    Severity::High
                } else {
                    Severity::Medium
                };
                ctx.report_with_event(f, EventKind::AntiForensics, None, Some(user.clone()));
            } else if m.size == 0
                && path.to_string_lossy().ends_with("_history")
                && sessions.contains(&user)
                && path.to_string_lossy().contains("bash")
            {
                let mut f = ctx
                    .finding(format!("History of `{user}` is empty although wtmp shows sessions"))
                    .explain("The account has interactive sessions in wtmp but its shell history is empty: it was probably cleared (`history -c`, `> ~/.bash_history`).")
                    .recommend("Reconstruct the activity from other sources (auditd, journal, process accounting).")
                    .evidence(ctx.file_evidence(&path))
                    .at_time(Some(m.mtime));
                f.severity = Severity::Medium;
                ctx.report_with_event(f, EventKind::AntiForensics, None, Some(user.clone()));
            }
        }
        let mut profiles: Vec<PathBuf> = vec![
            "/etc/profile".into(),
            "/etc/bash.bashrc".into(),
            "/etc/environment".into(),
        ];
        profiles.extend(super::files_in(ctx, Path::new("/etc/profile.d")));
        for (_, home) in ctx.facts.homes(ctx.src) {
            profiles.extend(
                [".bashrc", ".bash_profile", ".profile", ".zshrc"]
                    .iter()
                    .map(|n| home.join(n)),
            );
        }
        for path in profiles {
            let Some(text) = super::read_config(ctx, &path) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                let t = line.trim().to_ascii_lowercase();
                if t.starts_with('#') {
                    continue;
                }
                if t.contains("histfile=/dev/null")
                    || t.contains("histsize=0")
                    || t.contains("histfilesize=0")
                    || t.contains("unset histfile")
                    || t.contains("set +o history")
                {
                    let mut f = ctx
                        .finding(format!("{} turns shell history off", path.display()))
                        .explain(format!("`{}` stops shells from recording commands for every login that reads this file.", line.trim()))
                        .recommend("Remove the setting; treat the absence of history as deliberate.")
                        .evidence(ctx.file_evidence(&path).line(i as u64 + 1).excerpt(line.trim()));
                    f.severity = Severity::High;
                    ctx.report(f);
                }
            }
        }
        Ok(())
    },
};

/// Checklist row 50.
pub const HISTORY_COMMANDS: Check = Check {
    meta: CheckMeta {
        id: "linux.logs.history_commands",
        title: "Attacker commands in shell and client histories",
        attack: &["T1059.004", "T1105"],
        severity: Severity::High,
        rows: &[50],
        live_state: false,
        walks_files: false,
        description: "Reads every account's shell, MySQL, psql, Python and Redis histories line by line: downloads piped to a shell, reverse shells, encoded payloads, temp-dir execution, account and SSH-key changes, history wiping, database dumps. Each hit goes on the timeline (with its time when the history records one).",
    },
    run: |ctx| {
        for (user, path) in history_files(ctx) {
            if ctx
                .src
                .symlink_metadata(&path)
                .map(|m| m.kind != FileKind::File)
                .unwrap_or(true)
            {
                continue;
            }
            let reader = match open_decompressed(ctx.src, &path) {
                Ok(r) => r,
                Err(e) => {
                    ctx.warn_err(&e);
                    continue;
                }
            };
            let mtime = ctx.src.metadata(&path).ok().map(|m| m.mtime);
            let mut lines = LineReader::new(reader);
            let mut parser = history::Parser::default();
            let mut hits = 0usize;
            while let Ok(Some((no, raw))) = lines.next_line() {
                let Some(entry) = parser.feed(no, raw) else {
                    continue;
                };
                let Some(ind) = indicators::worst(&entry.command) else {
                    continue;
                };
                hits += 1;
                if hits > 100 {
                    continue;
                }
                let ev = ctx
                    .file_evidence(&path)
                    .line(entry.line)
                    .excerpt(&entry.command);
                let sev = if ind.tactic == Tactic::Exfiltration {
                    Severity::Low
                } else {
                    ind.severity
                };
                let mut f = ctx
                    .finding(format!("`{user}` ran: {}", firewarden_model::printable(&entry.command, 90)))
                    .explain(format!("Line {} of {}: this command {}.{}", entry.line, display_path(&path), ind.reason, if entry.time.is_none() { " The history has no timestamps; the file's mtime is the last time it was written." } else { "" }))
                    .recommend("Follow what it fetched, ran or changed: the files, accounts or keys it names.")
                    .evidence(ev)
                    .at_time(entry.time);
                f.severity = sev;
                if entry.time.is_some() {
                    ctx.report_with_event(f, EventKind::Command, None, Some(user.clone()));
                } else {
                    let summary = format!(
                        "{user} ran: {} (history, time unknown; file last written)",
                        firewarden_model::printable(&entry.command, 90)
                    );
                    let id = f.id.clone();
                    ctx.report(f);
                    if let Some(t) = mtime {
                        ctx.event(TimelineEvent {
                            time: t,
                            kind: EventKind::Command,
                            summary,
                            source: format!("{}:{}", display_path(&path), entry.line),
                            ip: None,
                            user: Some(user.clone()),
                            finding: Some(id),
                            zone: None,
                        });
                    }
                }
            }
            if hits > 100 {
                ctx.warn(
                    Some(&path),
                    format!("{hits} suspicious commands; only the first 100 are listed"),
                );
            }
            if lines.overlong > 0 {
                ctx.warn(
                    Some(&path),
                    format!(
                        "{} over-long line(s) cut: only their start was judged",
                        lines.overlong
                    ),
                );
            }
        }
        Ok(())
    },
};
