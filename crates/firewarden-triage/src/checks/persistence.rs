//! Persistence: cron, at, systemd, rc scripts, shell profiles, the dynamic linker, udev,
//! autostart hooks and inetd (checklist rows 12–17, 19–21).

use super::{files_in, read_config, report_command, scan_commands};
use crate::check::{Check, CheckMeta};
use crate::context::Ctx;
use crate::indicators::{self, Tactic, is_suspicious_location, temp_program};
use firewarden_model::{EventKind, Severity};
use firewarden_source::FileKind;
use firewarden_source::spelling::normalize_path;
use std::path::{Path, PathBuf};

fn dir_files(ctx: &mut Ctx, dirs: &[&str]) -> Vec<PathBuf> {
    dirs.iter()
        .flat_map(|d| files_in(ctx, Path::new(d)))
        .collect()
}

fn scan_exec_lines(ctx: &mut Ctx, path: &Path, text: &str, what: &str, floor: Severity) {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(ind) = indicators::worst(t).or_else(|| temp_program(t)) {
            report_command(ctx, path, i as u64 + 1, t, what, &ind, floor);
        }
    }
}

/// Scans a script that a cron job or unit runs (the downloader is often in the script, not in
/// the job line). Scripts owned by a package are left to package verification. Returns true
/// when the script holds attacker tradecraft.
fn scan_referenced_script(ctx: &mut Ctx, program: &str, referenced_by: &Path, what: &str) -> bool {
    let program = normalize_path(program);
    let program = program.as_ref();
    let packages = ctx.facts.packages(ctx.src);
    if !program.starts_with('/') || (packages.present() && packages.owns(program)) {
        return false;
    }
    let script = Path::new(program);
    let Ok(m) = ctx.src.metadata(script) else {
        return false;
    };
    if m.kind != FileKind::File || m.size > 1 << 20 {
        return false;
    }
    let Ok((bytes, _)) = firewarden_source::read_capped(ctx.src, script, 1 << 20) else {
        return false;
    };
    if !bytes.starts_with(b"#!") {
        return false;
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let label = format!("Script run by {what} {}", referenced_by.display());
    let mut hits = 0;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(ind) = indicators::worst(t) {
            report_command(ctx, script, i as u64 + 1, t, &label, &ind, Severity::High);
            hits += 1;
            if hits >= 10 {
                break;
            }
        }
    }
    hits > 0
}

/// Checklist row 12.
pub const CRON: Check = Check {
    meta: CheckMeta {
        id: "linux.persistence.cron",
        title: "Malicious cron and anacron jobs",
        attack: &["T1053.003"],
        severity: Severity::High,
        rows: &[12],
        live_state: false,
        walks_files: false,
        description: "Reads /etc/crontab, /etc/cron.d, the cron.hourly/daily/weekly/monthly scripts, /etc/anacrontab and every user crontab under /var/spool/cron: downloaders piped to a shell, reverse shells, encoded payloads, programs in temp dirs, miners — in the job line or in the script it runs; jobs that no package installed (raised when their program is unowned too); Redis dumps written as crontabs.",
    },
    run: |ctx| {
        let mut files = vec![
            PathBuf::from("/etc/crontab"),
            PathBuf::from("/etc/anacrontab"),
        ];
        files.extend(dir_files(
            ctx,
            &[
                "/etc/cron.d",
                "/etc/cron.hourly",
                "/etc/cron.daily",
                "/etc/cron.weekly",
                "/etc/cron.monthly",
                "/var/spool/cron",
                "/var/spool/cron/crontabs",
                "/var/spool/cron/tabs",
            ],
        ));
        for path in files {
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            if text.contains("REDIS00") {
                let ev = ctx.file_evidence(&path);
                let mut f = ctx
                    .finding(format!("Cron file {} was written by Redis", path.display()))
                    .explain("The file is a Redis dump: the attacker abused an exposed Redis (CONFIG SET dir /var/spool/cron) to plant a cron job.")
                    .recommend("Remove the file, secure Redis, and look for what the planted job downloaded.")
                    .evidence(ev.clone())
                    .at_time(ev.mtime);
                f.severity = Severity::Critical;
                ctx.report_with_event(f, EventKind::Persistence, None, None);
            }
            let shown = path.to_string_lossy().into_owned();
            let packages = ctx.facts.packages(ctx.src);
            let unpackaged = packages.present() && !packages.owns(&shown);
            let user_tab = shown.starts_with("/var/spool/cron");
            for (i, line) in text.lines().enumerate() {
                let t = line.trim();
                if t.is_empty() || t.starts_with('#') || is_cron_assignment(t) {
                    continue;
                }
                if let Some(ind) = indicators::worst(t).or_else(|| temp_program(t)) {
                    report_command(
                        ctx,
                        &path,
                        i as u64 + 1,
                        t,
                        "Cron job",
                        &ind,
                        Severity::High,
                    );
                } else if cron_program(t)
                    .is_some_and(|p| scan_referenced_script(ctx, &p, &path, "the cron job in"))
                {
                    // Reported from the script itself.
                } else if (user_tab || unpackaged)
                    && !shown.contains("/cron.hourly/")
                    && !shown.contains("/cron.daily/")
                    && !shown.contains("/cron.weekly/")
                    && !shown.contains("/cron.monthly/")
                {
                    // Jobs no package installed: an inventory the responder must confirm, raised
                    // when the program they run belongs to no package either.
                    let program = cron_program(t);
                    let unowned_program = program.as_deref().is_some_and(|p| {
                        p.starts_with('/')
                            && ctx.src.metadata(Path::new(p)).is_ok()
                            && !ctx.facts.packages(ctx.src).owns(p)
                            && ctx.facts.packages(ctx.src).present()
                    });
                    let ev = ctx.file_evidence(&path).line(i as u64 + 1).excerpt(t);
                    let mut f = ctx
                        .finding(format!("Cron job not installed by any package: {}", firewarden_model::printable(t, 80)))
                        .explain(format!("{} schedules `{}`{}. Confirm that an administrator set it up.", path.display(), firewarden_model::printable(t, 160), if unowned_program { "; the program it runs belongs to no package either" } else { "" }))
                        .recommend("Ask the system owner; if nobody knows the job, preserve the file and remove the entry.")
                        .evidence(ev.clone())
                        .at_time(ev.mtime);
                    f.severity = if unowned_program {
                        Severity::Medium
                    } else {
                        Severity::Low
                    };
                    ctx.report_with_event(f, EventKind::Persistence, None, None);
                }
            }
        }
        Ok(())
    },
};

/// `SHELL=/bin/sh`, `MAILTO=root` and similar lines of a crontab.
fn is_cron_assignment(line: &str) -> bool {
    let name = line.split('=').next().unwrap_or("");
    line.contains('=')
        && !name.is_empty()
        && name
            .trim()
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_')
}

/// The program a crontab line runs: the first word after the schedule (and the user field of
/// system crontabs).
fn cron_program(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let skip = if line.starts_with('@') { 1 } else { 5 };
    words
        .iter()
        .skip(skip)
        .find(|w| w.starts_with('/'))
        .map(|w| normalize_path(w).into_owned())
}

/// Checklist row 13.
pub const AT: Check = Check {
    meta: CheckMeta {
        id: "linux.persistence.at",
        title: "Pending at jobs",
        attack: &["T1053.002"],
        severity: Severity::Medium,
        rows: &[13],
        live_state: false,
        walks_files: false,
        description: "Lists jobs queued with `at` (/var/spool/cron/atjobs, /var/spool/at): rarely used on servers, so every pending job deserves a look; jobs with attacker tradecraft are high severity.",
    },
    run: |ctx| {
        for path in dir_files(ctx, &["/var/spool/cron/atjobs", "/var/spool/at"]) {
            if path.file_name().is_some_and(|n| n == ".SEQ") {
                continue;
            }
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            // at's job file is a shell script: environment setup first, the user's commands last.
            let body: Vec<&str> = text
                .lines()
                .rev()
                .take_while(|l| !l.starts_with("cd ") && !l.contains("Execution directory"))
                .collect();
            let excerpt = body.iter().rev().copied().collect::<Vec<_>>().join("; ");
            let worst = indicators::worst(&excerpt);
            let ev = ctx.file_evidence(&path).excerpt(&excerpt);
            let mut f = ctx
                .finding(format!("Pending at job {}", path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()))
                .explain(format!("A job is queued to run `{}`{}.", firewarden_model::printable(&excerpt, 120), worst.as_ref().map(|w| format!(", which {}", w.reason)).unwrap_or_default()))
                .recommend("Confirm the job with the owner; remove it with `atrm` otherwise (after preserving the file).")
                .evidence(ev.clone())
                .at_time(ev.mtime);
            f.severity = worst.map_or(Severity::Medium, |w| w.severity.max(Severity::High));
            ctx.report_with_event(f, EventKind::Persistence, None, None);
        }
        Ok(())
    },
};

const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/etc/systemd/user",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/local/lib/systemd/system",
    "/run/systemd/system",
    "/run/systemd/transient",
    "/usr/lib/systemd/user",
];
const GENERATOR_DIRS: &[&str] = &[
    "/etc/systemd/system-generators",
    "/usr/local/lib/systemd/system-generators",
    "/run/systemd/system-generators",
    "/etc/systemd/user-generators",
];

/// Checklist row 14.
pub const SYSTEMD: Check = Check {
    meta: CheckMeta {
        id: "linux.persistence.systemd",
        title: "Malicious systemd units, timers and generators",
        attack: &["T1543.002", "T1053.006"],
        severity: Severity::High,
        rows: &[14],
        live_state: false,
        walks_files: false,
        description: "Reads unit files in the system and user unit directories (including each home's ~/.config/systemd/user, .wants/ links and drop-ins): Exec lines running from /tmp, /dev/shm or hidden dirs, downloaders and shells, in the line or in the script it starts; units not owned by any package; and any generator outside the packages.",
    },
    run: |ctx| {
        let mut dirs: Vec<PathBuf> = UNIT_DIRS.iter().map(PathBuf::from).collect();
        for (_, home) in ctx.facts.homes(ctx.src) {
            dirs.push(home.join(".config/systemd/user"));
        }
        let mut units = Vec::new();
        for dir in dirs {
            let Ok(entries) = ctx.src.read_dir(&dir) else {
                continue;
            };
            for e in entries {
                let p = dir.join(&e.name);
                match e.kind {
                    FileKind::File | FileKind::Symlink => units.push(p),
                    // `foo.wants/` holds links; `foo.d/` holds drop-ins that can override ExecStart.
                    FileKind::Dir => units.extend(files_in(ctx, &p)),
                    _ => {}
                }
            }
        }
        let dpkg_present = ctx.facts.packages(ctx.src).present();
        let mut seen = std::collections::HashSet::new();
        for path in units {
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            if !seen.insert((path.clone(), text.len())) {
                continue;
            }
            let mut reported = false;
            for (i, line) in text.lines().enumerate() {
                let t = line.trim();
                let Some((key, value)) = t.split_once('=') else {
                    continue;
                };
                if !key.trim().starts_with("Exec") {
                    continue;
                }
                let value = value.trim().trim_start_matches(['-', '@', '+', '!', ':']);
                if let Some(ind) = indicators::worst(value).or_else(|| temp_program(value)) {
                    report_command(
                        ctx,
                        &path,
                        i as u64 + 1,
                        t,
                        "systemd unit",
                        &ind,
                        Severity::High,
                    );
                    reported = true;
                } else if let Some(program) = value.split_whitespace().next()
                    && scan_referenced_script(ctx, program, &path, "the systemd unit")
                {
                    reported = true;
                }
            }
            let shown = path.to_string_lossy().into_owned();
            let in_etc = shown.starts_with("/etc/systemd/system/")
                && !shown.contains(".wants/")
                && !shown.contains(".requires/");
            let is_link = ctx
                .src
                .symlink_metadata(&path)
                .map(|m| m.kind == FileKind::Symlink)
                .unwrap_or(false);
            if !reported
                && dpkg_present
                && in_etc
                && !is_link
                && (shown.ends_with(".service") || shown.ends_with(".timer"))
                && !ctx.facts.packages(ctx.src).owns(&shown)
            {
                let exec_line = text
                    .lines()
                    .find(|l| l.trim_start().starts_with("ExecStart"))
                    .unwrap_or("");
                // The program the unit starts: unowned too makes this a likely planted service.
                let program = exec_line
                    .split_once('=')
                    .and_then(|(_, v)| {
                        v.trim()
                            .trim_start_matches(['-', '@', '+', '!', ':'])
                            .split_whitespace()
                            .next()
                    })
                    .map(str::to_string);
                let packages = ctx.facts.packages(ctx.src);
                let unowned_program = program.as_deref().is_some_and(|p| {
                    p.starts_with('/')
                        && ctx.src.metadata(Path::new(p)).is_ok()
                        && !packages.owns(p)
                });
                let ev = ctx.file_evidence(&path).excerpt(exec_line);
                let mut f = ctx
                    .finding(format!("systemd unit {shown} is not from any package{}", if unowned_program { ", nor is the program it runs" } else { "" }))
                    .explain(format!("Units in /etc/systemd/system written by hand are normal for some admins, but also where attackers put their services; this one belongs to no package{}.", match (&program, unowned_program) {
                        (Some(p), true) => format!(" and starts {p}, which no package owns either"),
                        _ => String::new(),
                    }))
                    .recommend("Check what the unit runs and who created it (mtime, history); preserve and disable it if nobody can account for it.")
                    .evidence(ev.clone())
                    .at_time(ev.mtime);
                f.severity = if unowned_program {
                    Severity::Medium
                } else {
                    Severity::Low
                };
                if unowned_program {
                    ctx.report_with_event(f, EventKind::Persistence, None, None);
                    continue;
                }
                ctx.report(f);
            }
        }
        for path in dir_files(ctx, GENERATOR_DIRS) {
            let shown = path.to_string_lossy().into_owned();
            if ctx.facts.packages(ctx.src).owns(&shown) {
                continue;
            }
            let ev = ctx.file_evidence(&path);
            let mut f = ctx
                .finding(format!("systemd generator {shown}"))
                .explain("Generators run very early at every boot and on each daemon-reload, as root, and can create units on the fly; few admins know they exist, which makes them a stealthy persistence spot.")
                .recommend("Preserve and read the generator; remove it unless a package or the owner accounts for it.")
                .evidence(ev.clone())
                .at_time(ev.mtime);
            f.severity = Severity::High;
            ctx.report_with_event(f, EventKind::Persistence, None, None);
        }
        Ok(())
    },
};

/// Checklist row 15.
pub const RC: Check = Check {
    meta: CheckMeta {
        id: "linux.persistence.rc",
        title: "SysV init and rc.local scripts",
        attack: &["T1037.004"],
        severity: Severity::High,
        rows: &[15],
        live_state: false,
        walks_files: false,
        description: "Reads /etc/rc.local, /etc/rc.d/rc.local, /etc/inittab, /etc/conf.d/local.start and /etc/init.d scripts: downloads, shells and temp-dir programs; init.d scripts owned by no package.",
    },
    run: |ctx| {
        for p in [
            "/etc/rc.local",
            "/etc/rc.d/rc.local",
            "/etc/conf.d/local.start",
            "/etc/inittab",
        ] {
            let path = Path::new(p);
            if let Some(text) = read_config(ctx, path) {
                scan_exec_lines(ctx, path, &text, "Boot script", Severity::High);
            }
        }
        let dpkg_present = ctx.facts.packages(ctx.src).present();
        for path in dir_files(ctx, &["/etc/init.d"]) {
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            let shown = path.to_string_lossy().into_owned();
            let owned = ctx.facts.packages(ctx.src).owns(&shown);
            if owned {
                continue;
            }
            scan_exec_lines(ctx, &path, &text, "init.d script", Severity::High);
            if dpkg_present
                && !indicators::classify(&text)
                    .iter()
                    .any(|i| i.severity >= Severity::High)
            {
                let ev = ctx.file_evidence(&path);
                let mut f = ctx
                    .finding(format!("init script {shown} is not from any package"))
                    .explain("SysV init scripts run as root at boot. This one belongs to no installed package.")
                    .recommend("Read the script and find out who installed it.")
                    .evidence(ev.clone())
                    .at_time(ev.mtime);
                f.severity = Severity::Medium;
                ctx.report(f);
            }
        }
        Ok(())
    },
};

const ALIASED_TOOLS: &[&str] = &[
    "ls", "ps", "netstat", "ss", "ssh", "sudo", "su", "top", "lsof", "find", "kill", "passwd",
    "who", "w", "last",
];

/// Checklist row 16.
pub const SHELL_PROFILE: Check = Check {
    meta: CheckMeta {
        id: "linux.persistence.shell_profile",
        title: "Backdoored shell profiles and rc files",
        attack: &["T1546.004"],
        severity: Severity::High,
        rows: &[16],
        live_state: false,
        walks_files: false,
        description: "Reads /etc/profile, /etc/profile.d/*, /etc/bash.bashrc, /etc/zsh/* and every home's .bashrc/.bash_profile/.profile/.bash_logout/.zshrc: aliases that hide or hijack ls/ps/ssh/sudo, PROMPT_COMMAND, LD_PRELOAD exports, traps, and attacker commands that run at each login.",
    },
    run: |ctx| {
        let mut files: Vec<PathBuf> = [
            "/etc/profile",
            "/etc/bash.bashrc",
            "/etc/bashrc",
            "/etc/zsh/zshrc",
            "/etc/zsh/zprofile",
            "/etc/zshrc",
            "/etc/environment",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        files.extend(files_in(ctx, Path::new("/etc/profile.d")));
        for (_, home) in ctx.facts.homes(ctx.src) {
            for n in [
                ".bashrc",
                ".bash_profile",
                ".bash_login",
                ".profile",
                ".bash_logout",
                ".zshrc",
                ".zprofile",
                ".zlogin",
                ".zshenv",
            ] {
                files.push(home.join(n));
            }
        }
        for path in files {
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                let t = line.trim();
                if t.is_empty() || t.starts_with('#') {
                    continue;
                }
                let hit: Option<(Severity, String)> = if let Some(rest) = t.strip_prefix("alias ") {
                    let name = rest.split('=').next().unwrap_or("").trim();
                    let body = rest.split_once('=').map(|(_, b)| b).unwrap_or("");
                    let benign_flags = body
                        .trim_matches(['\'', '"'])
                        .split_whitespace()
                        .next()
                        .is_some_and(|cmd| cmd == name)
                        && !body.contains(';')
                        && !body.contains('|')
                        && !body.contains("grep -v");
                    (ALIASED_TOOLS.contains(&name) && !benign_flags).then(|| {
                        (
                            Severity::High,
                            format!("redefines `{name}` with an alias that runs something else"),
                        )
                    })
                } else if t.contains("PROMPT_COMMAND") && t.contains('=') {
                    let sev = if indicators::worst(t).is_some() {
                        Severity::Critical
                    } else {
                        Severity::Medium
                    };
                    Some((
                        sev,
                        "sets PROMPT_COMMAND, which runs before every prompt".into(),
                    ))
                } else if t.contains("LD_PRELOAD") && (t.contains("export") || t.contains('=')) {
                    Some((
                        Severity::High,
                        "exports LD_PRELOAD, injecting a library into every program".into(),
                    ))
                } else if t.starts_with("trap ")
                    && !t.contains("EXIT")
                    && indicators::worst(t).is_some()
                {
                    Some((
                        Severity::High,
                        "sets a signal trap that runs attacker commands".into(),
                    ))
                } else {
                    indicators::worst(t)
                        .filter(|w| {
                            w.severity >= Severity::High || w.tactic == Tactic::AntiForensics
                        })
                        .map(|w| (w.severity.max(Severity::High), w.reason.to_string()))
                };
                let Some((sev, what)) = hit else { continue };
                let ev = ctx.file_evidence(&path).line(i as u64 + 1).excerpt(t);
                let mut f = ctx
                    .finding(format!("{}: {what}", path.display()))
                    .explain(format!("`{}` {what}. Profiles run at every login, so this executes whenever anyone (often root) logs in.", firewarden_model::printable(t, 160)))
                    .recommend("Remove the line after preserving the file, and check the file's other lines and mtime.")
                    .evidence(ev.clone())
                    .at_time(ev.mtime);
                f.severity = sev;
                ctx.report_with_event(f, EventKind::Persistence, None, None);
            }
        }
        Ok(())
    },
};

/// Checklist row 17.
pub const LD_PRELOAD: Check = Check {
    meta: CheckMeta {
        id: "linux.persistence.ld_preload",
        title: "Dynamic-linker hijack: ld.so.preload, ld.so.conf.d, LD_PRELOAD in processes",
        attack: &["T1574.006"],
        severity: Severity::Critical,
        rows: &[17],
        live_state: false,
        walks_files: false,
        description: "Reads /etc/ld.so.preload straight from the filesystem (rootkits hide it from `ls`), library paths in /etc/ld.so.conf and ld.so.conf.d that point to temp or hidden dirs, and LD_PRELOAD/LD_AUDIT in the environment of running processes.",
    },
    run: |ctx| {
        let preload = Path::new("/etc/ld.so.preload");
        if let Some(text) = read_config(ctx, preload) {
            for (i, line) in text.lines().enumerate() {
                for lib in line
                    .split([' ', '\t', ':'])
                    .filter(|w| !w.is_empty() && !w.starts_with('#'))
                {
                    let ev = ctx.file_evidence(preload).line(i as u64 + 1).excerpt(lib);
                    let f = ctx
                        .finding(format!("/etc/ld.so.preload loads {lib} into every program"))
                        .explain(format!("Every dynamically linked program, including ps, ls, netstat and sshd, loads {lib} first. This is how userland rootkits (Azazel, Jynx, libprocesshider) hide processes, files and connections — so the host's own tools cannot be trusted."))
                        .recommend("Use only static or trusted binaries (like firewarden's static build) from now on; preserve the library for analysis, then empty ld.so.preload and reboot.")
                        .evidence(ev.clone())
                        .at_time(ev.mtime);
                    ctx.report_with_event(f, EventKind::Persistence, None, None);
                }
            }
        }
        let mut confs = vec![PathBuf::from("/etc/ld.so.conf")];
        confs.extend(files_in(ctx, Path::new("/etc/ld.so.conf.d")));
        for path in confs {
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                let t = line.trim();
                let dir = normalize_path(t);
                if dir.starts_with('/')
                    && (is_suspicious_location(&format!("{dir}/"))
                        || dir.starts_with("/home/")
                        || dir.starts_with("/root"))
                {
                    let mut f = ctx
                        .finding(format!("Library search path {t} in {}", path.display()))
                        .explain("Libraries in this directory are found before the system's; a world-writable or hidden directory here lets an attacker replace any library.")
                        .recommend("Remove the line and run ldconfig; inspect the libraries in that directory.")
                        .evidence(ctx.file_evidence(&path).line(i as u64 + 1).excerpt(t));
                    f.severity = Severity::High;
                    ctx.report(f);
                }
            }
        }
        if let Some(live) = ctx.facts.live(ctx.src) {
            let hits: Vec<_> = live
                .processes
                .iter()
                .filter(|p| !p.ld_env.is_empty())
                .map(|p| (p.pid, p.name.clone(), p.ld_env.clone()))
                .collect();
            for (pid, name, env) in hits {
                let mut f = ctx
                    .finding(format!("Process {pid} ({name}) runs with {}", env.join(" ")))
                    .explain("A library is injected into this process through its environment; legitimate uses exist (debugging, jemalloc) but so do rootkits and credential stealers.")
                    .recommend("Identify the library and why it is preloaded; preserve it.")
                    .evidence(firewarden_model::Evidence::process(pid).excerpt(env.join(" ")));
                f.severity = if env
                    .iter()
                    .any(|v| is_suspicious_location(v.split('=').nth(1).unwrap_or("")))
                {
                    Severity::Critical
                } else {
                    Severity::Medium
                };
                ctx.report(f);
            }
        }
        Ok(())
    },
};

/// Checklist row 19.
pub const UDEV: Check = Check {
    meta: CheckMeta {
        id: "linux.persistence.udev",
        title: "udev rules that run programs",
        attack: &["T1546.017"],
        severity: Severity::High,
        rows: &[19],
        live_state: false,
        walks_files: false,
        description: "Reads udev rules in /etc/udev/rules.d, /run/udev/rules.d and /usr/lib/udev/rules.d: RUN+= actions that start shells, downloaders or programs in temp dirs (a root trigger on every device event).",
    },
    run: |ctx| {
        for path in dir_files(
            ctx,
            &[
                "/etc/udev/rules.d",
                "/run/udev/rules.d",
                "/usr/lib/udev/rules.d",
                "/lib/udev/rules.d",
            ],
        ) {
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                let Some(pos) = line
                    .find("RUN+=")
                    .or_else(|| line.find("RUN="))
                    .or_else(|| line.find("PROGRAM="))
                else {
                    continue;
                };
                let action = &line[pos..];
                if let Some(ind) = indicators::worst(action).or_else(|| {
                    temp_program(
                        action
                            .trim_start_matches(|c: char| c != '"')
                            .trim_matches('"'),
                    )
                }) {
                    report_command(
                        ctx,
                        &path,
                        i as u64 + 1,
                        line.trim(),
                        "udev rule",
                        &ind,
                        Severity::High,
                    );
                }
            }
        }
        Ok(())
    },
};

/// Scripts the system runs as root on events, each directory with what its scripts are.
const EVENT_HOOKS: &[(&str, &str)] = &[
    (
        "/etc/network/if-up.d",
        "if-up hook (runs as root when an interface comes up)",
    ),
    (
        "/etc/network/if-pre-up.d",
        "if-pre-up hook (runs as root before an interface comes up)",
    ),
    (
        "/etc/network/if-down.d",
        "if-down hook (runs as root when an interface goes down)",
    ),
    (
        "/etc/network/if-post-down.d",
        "if-post-down hook (runs as root after an interface goes down)",
    ),
    (
        "/etc/NetworkManager/dispatcher.d",
        "NetworkManager dispatcher script (runs as root on network events)",
    ),
    (
        "/etc/dhcp/dhclient-enter-hooks.d",
        "DHCP client hook (runs as root on every lease)",
    ),
    (
        "/etc/dhcp/dhclient-exit-hooks.d",
        "DHCP client hook (runs as root on every lease)",
    ),
    (
        "/etc/ppp/ip-up.d",
        "PPP hook (runs as root when a link comes up)",
    ),
    (
        "/etc/logrotate.d",
        "logrotate configuration (its pre/postrotate commands run as root daily)",
    ),
    ("/etc/init", "Upstart job"),
];

/// Checklist row 20.
pub const AUTOSTART: Check = Check {
    meta: CheckMeta {
        id: "linux.persistence.autostart",
        title: "Other autostart hooks: XDG autostart, motd scripts, event hooks, package-manager hooks",
        attack: &["T1547.013", "T1546.016"],
        severity: Severity::High,
        rows: &[20],
        live_state: false,
        walks_files: false,
        description: "Reads XDG autostart entries, /etc/update-motd.d scripts (run as root at each SSH login), scripts run as root on system events (network if-up/down and NetworkManager dispatcher hooks, DHCP and PPP hooks, logrotate pre/postrotate, Upstart jobs), and apt/dpkg hooks (APT::Update::Pre-Invoke, DPkg::Post-Invoke) for attacker commands and programs in temp or hidden directories.",
    },
    run: |ctx| {
        let mut desktop = dir_files(ctx, &["/etc/xdg/autostart"]);
        for (_, home) in ctx.facts.homes(ctx.src) {
            desktop.extend(files_in(ctx, &home.join(".config/autostart")));
        }
        for path in desktop {
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                if let Some(cmd) = line.strip_prefix("Exec=")
                    && let Some(ind) = indicators::worst(cmd).or_else(|| temp_program(cmd))
                {
                    report_command(
                        ctx,
                        &path,
                        i as u64 + 1,
                        line,
                        "Autostart entry",
                        &ind,
                        Severity::High,
                    );
                }
            }
        }
        for path in dir_files(ctx, &["/etc/update-motd.d"]) {
            if let Some(text) = read_config(ctx, &path) {
                scan_commands(
                    ctx,
                    &path,
                    &text,
                    "motd script (runs as root at every login)",
                    Severity::High,
                );
            }
        }
        for (dir, what) in EVENT_HOOKS {
            for path in dir_files(ctx, &[dir]) {
                if let Some(text) = read_config(ctx, &path) {
                    scan_commands(ctx, &path, &text, what, Severity::High);
                }
            }
        }
        for path in dir_files(ctx, &["/etc/apt/apt.conf.d", "/etc/dpkg/dpkg.cfg.d"]) {
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                if (line.contains("Invoke")
                    || line.contains("post-invoke")
                    || line.contains("pre-invoke"))
                    && let Some(ind) = indicators::worst(line).or_else(|| temp_program(line))
                {
                    report_command(
                        ctx,
                        &path,
                        i as u64 + 1,
                        line.trim(),
                        "Package-manager hook",
                        &ind,
                        Severity::High,
                    );
                }
            }
        }
        Ok(())
    },
};

/// Checklist row 21.
pub const INETD: Check = Check {
    meta: CheckMeta {
        id: "linux.persistence.inetd",
        title: "inetd/xinetd services that serve a shell",
        attack: &["T1543"],
        severity: Severity::Critical,
        rows: &[21],
        live_state: false,
        walks_files: false,
        description: "Reads /etc/inetd.conf and /etc/xinetd.d/*: a shell or interpreter bound to a port is a bind-shell backdoor.",
    },
    run: |ctx| {
        let mut files = vec![PathBuf::from("/etc/inetd.conf")];
        files.extend(dir_files(ctx, &["/etc/xinetd.d"]));
        for path in files {
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                let t = line.trim();
                if t.starts_with('#') {
                    continue;
                }
                let shell = t.split_whitespace().any(|w| {
                    let w = w.trim_start_matches("server=").trim_start_matches('=');
                    let base = w.rsplit('/').next().unwrap_or("");
                    matches!(
                        base,
                        "sh" | "bash" | "dash" | "zsh" | "ksh" | "python" | "python3" | "perl"
                    ) && w.starts_with('/')
                }) || t.contains("-i") && t.contains("/bin/sh");
                if shell {
                    let ev = ctx.file_evidence(&path).line(i as u64 + 1).excerpt(t);
                    let f = ctx
                        .finding(format!("{} serves a shell on a network port", path.display()))
                        .explain(format!("`{t}` gives a root shell to anyone who connects: a bind-shell backdoor."))
                        .recommend("Stop (x)inetd, remove the entry, and find who connected (connection logs, firewall logs).")
                        .evidence(ev.clone())
                        .at_time(ev.mtime);
                    ctx.report_with_event(f, EventKind::Persistence, None, None);
                }
            }
        }
        Ok(())
    },
};
