//! Files and integrity: SUID/SGID (row 22), package verification (34), unowned executables (35),
//! recent changes and timestomping (36), temp dirs (37), /dev (38), known rootkit files (40).

use crate::check::{Check, CheckError, CheckMeta};
use crate::context::Ctx;
use crate::indicators::is_suspicious_location;
use firewarden_artifacts::rpm::DigestAlgo;
use firewarden_model::{EventKind, Evidence, Severity};
use firewarden_source::{Brief, FileKind, Metadata, display_path};
use md5::Digest;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Digest of a file in the source, streamed, in the algorithm its package database uses.
pub(crate) fn digest_of(ctx: &mut Ctx, path: &Path, algo: DigestAlgo) -> Option<String> {
    fn run<D: Digest>(mut h: D, reader: &mut dyn Read) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match reader.read(&mut buf)? {
                0 => return Ok(h.finalize().to_vec()),
                n => h.update(&buf[..n]),
            }
        }
    }
    let mut reader = ctx.src.open(path).ok()?;
    let out = match algo {
        DigestAlgo::Md5 => run(md5::Md5::new(), &mut reader),
        DigestAlgo::Sha1 => run(sha1::Sha1::new(), &mut reader),
        DigestAlgo::Sha256 => run(sha2::Sha256::new(), &mut reader),
        DigestAlgo::Sha384 => run(sha2::Sha384::new(), &mut reader),
        DigestAlgo::Sha512 => run(sha2::Sha512::new(), &mut reader),
    };
    match out {
        Ok(d) => Some(d.iter().map(|b| format!("{b:02x}")).collect()),
        Err(e) => {
            ctx.warn(Some(path), format!("read failed while hashing: {e}"));
            None
        }
    }
}

fn head(ctx: &Ctx, path: &Path, n: u64) -> Vec<u8> {
    firewarden_source::read_capped(ctx.src, path, n)
        .map(|(b, _)| b)
        .unwrap_or_default()
}

fn is_elf(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
}

fn evidence(ctx: &Ctx, path: &Path, m: &Metadata) -> Evidence {
    let mut e = Evidence::at(display_path(path));
    crate::context::fill_meta(&mut e, m, ctx.facts);
    e
}

/// Evidence for an entry of the shared walk, which keeps only a brief of each entry's
/// metadata: the rest is asked of the source again (a capture answers from its record).
fn walked_evidence(ctx: &Ctx, path: &Path, brief: &Brief) -> Evidence {
    let m = ctx
        .src
        .symlink_metadata(path)
        .unwrap_or_else(|_| brief.to_metadata());
    evidence(ctx, path, &m)
}

const SUID_DANGEROUS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "csh", "tcsh", "ash", "python", "python2", "python3",
    "perl", "ruby", "php", "lua", "node", "vim", "vi", "nano", "find", "nmap", "awk", "gawk",
    "less", "more", "cp", "env", "tee", "socat", "nc", "busybox", "tar", "zip", "gdb",
];

/// Checklist row 22.
pub const SUID: Check = Check {
    meta: CheckMeta {
        id: "linux.persistence.suid",
        title: "SUID/SGID shells, interpreters and foreign set-id files; dangerous file capabilities",
        attack: &["T1548.001"],
        severity: Severity::High,
        rows: &[22],
        live_state: false,
        walks_files: true,
        description: "Walks the filesystem for set-uid and set-gid files — copies of shells and interpreters (an instant root shell), set-id files in temp or home dirs, set-id files no package owns — and reads the security.capability attribute of executables: cap_setuid, cap_dac_override, cap_sys_admin and the like on interpreters or unowned files (`getcap -r /` without running getcap).",
    },
    run: |ctx| {
        let (facts, src) = (ctx.facts, ctx.src);
        let tree = facts.tree(src);
        let dpkg = ctx.facts.packages(ctx.src);
        let mut entries = tree.entries();
        while let Some((path, m)) = entries.next() {
            if m.kind == FileKind::File && m.mode & 0o111 != 0 && m.mode & 0o6000 == 0 {
                check_capabilities(ctx, path, m);
                continue;
            }
            if m.kind != FileKind::File || m.mode & 0o6000 == 0 {
                continue;
            }
            let shown = path.to_string_lossy().into_owned();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bit = if m.mode & 0o4000 != 0 { "SUID" } else { "SGID" };
            let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
            let (sev, what) =
                if SUID_DANGEROUS.contains(&stem) || SUID_DANGEROUS.contains(&name.as_str()) {
                    (
                        Severity::Critical,
                        "is a shell or interpreter: anyone can become its owner",
                    )
                } else if is_suspicious_location(&shown)
                    || shown.starts_with("/home/")
                    || shown.starts_with("/root/")
                    || shown.starts_with("/var/www/")
                {
                    (
                        Severity::Critical,
                        "sits in a temp, hidden, home or web directory",
                    )
                } else if dpkg.present()
                    && !dpkg.owns(&shown)
                    && !shown.starts_with("/usr/local/")
                    && !shown.starts_with("/opt/")
                    && !shown.starts_with("/snap/")
                {
                    (Severity::High, "belongs to no installed package")
                } else {
                    continue;
                };
            let ev = walked_evidence(ctx, path, m);
            let mut f = ctx
                .finding(format!("{bit} file {shown} {what}"))
                .explain(format!("{shown} runs with the privileges of its owner ({}) and {what}. Attackers leave such files as a way back to root.", ev.owner.clone().unwrap_or_default()))
                .recommend("Preserve the file, remove its set-id bit (chmod u-s,g-s), and find when it appeared (ctime).")
                .evidence(ev)
                .at_time(Some(m.ctime));
            f.severity = sev;
            ctx.report_with_event(f, EventKind::Persistence, None, None);
        }
        Ok(())
    },
};

fn check_capabilities(ctx: &mut Ctx, path: &Path, m: &Brief) {
    let raw = match ctx.src.xattr(path, "security.capability") {
        Ok(Some(raw)) => raw,
        Ok(None) => return,
        Err(e) => {
            ctx.warn_err(&e);
            return;
        }
    };
    let Some(caps) = firewarden_artifacts::caps::parse(&raw) else {
        ctx.warn(Some(path), "unreadable security.capability attribute");
        return;
    };
    let dangerous = caps.dangerous();
    if dangerous.is_empty() {
        return;
    }
    let shown = path.to_string_lossy().into_owned();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let interpreter = SUID_DANGEROUS.contains(&stem) || SUID_DANGEROUS.contains(&name.as_str());
    let dpkg = ctx.facts.packages(ctx.src);
    let unowned = dpkg.present() && !dpkg.owns(&shown);
    let sev = if interpreter || is_suspicious_location(&shown) {
        Severity::Critical
    } else if unowned || !dpkg.present() {
        Severity::High
    } else {
        return; // packaged helpers with capabilities are the distribution's choice
    };
    let mut f = ctx
        .finding(format!("{shown} has the capabilities {}", caps.display()))
        .explain(format!("Whoever runs {shown} gets {}: {}. This is a SUID-less way back to root (e.g. `python -c 'import os; os.setuid(0); os.system(\"/bin/sh\")'`).", dangerous.join(", "), if interpreter { "it is an interpreter, so anyone can make it run anything" } else { "the file belongs to no package" }))
        .recommend(format!("Remove them (`setcap -r {shown}` from a trusted tool), preserve the file, and find when they were set (ctime {}).", m.ctime))
        .evidence(walked_evidence(ctx, path, m).excerpt(caps.display()))
        .at_time(Some(m.ctime));
    f.severity = sev;
    ctx.report_with_event(f, EventKind::Persistence, None, None);
}

/// Directories whose packaged files are verified.
const VERIFIED_DIRS: &[&str] = &[
    "/bin/",
    "/sbin/",
    "/usr/bin/",
    "/usr/sbin/",
    "/usr/lib/openssh/",
    "/usr/libexec/openssh/",
];

fn verified(path: &str) -> bool {
    VERIFIED_DIRS.iter().any(|d| path.starts_with(d))
        || path.contains("/security/pam_")
        || path.ends_with("/libkeyutils.so.1")
        || path.contains("/ld-linux")
}

/// Checklist row 34.
pub const PACKAGE_INTEGRITY: Check = Check {
    meta: CheckMeta {
        id: "linux.files.package_integrity",
        title: "System binaries that differ from their package",
        attack: &["T1554", "T1036"],
        severity: Severity::Critical,
        rows: &[34],
        live_state: false,
        walks_files: true,
        description: "Recomputes the digest of every packaged file in /bin, /sbin, /usr/bin, /usr/sbin, sshd and PAM modules and compares it with what the package database recorded — dpkg's info/*.md5sums and RPM's rpmdb.sqlite (SHA-256 usually), read from disk without running dpkg or rpm. Also flags a script where a binary should be.",
    },
    run: |ctx| {
        let packages = ctx.facts.packages(ctx.src);
        if !packages.present() {
            return Err(CheckError::NotApplicable(
                match packages.unsupported.first() {
                    Some(why) => why.clone(),
                    None => "no package database in this source".into(),
                },
            ));
        }
        let mut todo: Vec<(String, crate::facts::FileDigest)> = packages
            .digests
            .iter()
            .filter(|(p, _)| verified(p))
            .map(|(p, d)| (p.clone(), d.clone()))
            .collect();
        todo.sort_by(|a, b| a.0.cmp(&b.0));
        let mut checked = 0usize;
        let mut done_inodes = std::collections::HashSet::new();
        for (path, recorded) in todo {
            let (pkg, expected) = (recorded.package.clone(), recorded.hex.clone());
            let p = Path::new(&path);
            let Ok(m) = ctx.src.metadata(p) else { continue };
            if m.kind != FileKind::File || !done_inodes.insert((m.dev, m.ino, expected.clone())) {
                continue;
            }
            let Some(actual) = digest_of(ctx, p, recorded.algo) else {
                continue;
            };
            checked += 1;
            if actual == expected {
                continue;
            }
            let script = head(ctx, p, 2).starts_with(b"#!");
            let ev = ctx.file_evidence(p).excerpt(format!(
                "{:?} {actual}; {pkg} says {expected}",
                recorded.algo
            ));
            let mut f = ctx
                .finding(format!("{path} differs from package {pkg}{}", if script { " and is now a script" } else { "" }))
                .explain(format!("The package database recorded {:?} {expected} for {path} when {pkg} was installed; the file now hashes to {actual}{}. Trojanised system tools (ps, netstat, sshd, login) are how rootkits hide and steal passwords.", recorded.algo, if script { " and starts with #! — a wrapper around the real binary" } else { "" }))
                .recommend(format!("Preserve the file, then reinstall {pkg} from a trusted mirror. Until then, use trusted static tools."))
                .evidence(ev.clone())
                .at_time(ev.ctime);
            if path.starts_with("/usr/bin/")
                && ["/usr/bin/pkexec", "/usr/bin/sudo"].contains(&path.as_str())
            {
                f.severity = Severity::Critical;
            }
            ctx.report_with_event(f, EventKind::FileChange, None, None);
        }
        if checked == 0 {
            ctx.warn(
                None,
                "package verification found no packaged binary to check",
            );
        }
        Ok(())
    },
};

/// Tools a rootkit moves aside and replaces with a wrapper that filters their output.
const HIDING_TOOLS: &[&str] = &[
    "ps",
    "netstat",
    "ls",
    "ss",
    "top",
    "lsof",
    "pstree",
    "find",
    "du",
    "w",
    "who",
    "last",
    "lastlog",
    "ifconfig",
    "route",
    "ip",
    "kill",
    "killall",
    "pkill",
    "pgrep",
    "crontab",
    "dpkg",
    "rpm",
    "md5sum",
    "sha256sum",
    "stat",
    "strings",
    "lsattr",
    "chattr",
    "sshd",
    "login",
    "passwd",
    "su",
    "sudo",
    "systemctl",
    "journalctl",
    "htop",
    "iptables",
    "nft",
];

/// Where those tools belong.
const TOOL_DIRS: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
];

/// Directory names known from rootkits that move tools aside, flagged even when empty.
const MOVED_TOOL_DIRS: &[&str] = &["dpkgd", "libsys", ".sshd"];

/// Checklist row 34 (its second half).
pub const MOVED_TOOLS: Check = Check {
    meta: CheckMeta {
        id: "linux.files.moved_tools",
        title: "System tools moved aside and replaced",
        attack: &["T1036.005", "T1014", "T1564.001"],
        severity: Severity::Critical,
        rows: &[34],
        live_state: false,
        walks_files: true,
        description: "A directory outside the usual bin directories (such as /usr/bin/dpkgd/, /usr/lib/libsys/ or a hidden one under /usr) that holds programs named ps, netstat, ls, ss, top, lsof … which no package installed there: a rootkit moved the originals aside and put filtering wrappers in their place. Names the replaced binaries (a script, or other bytes than the copy) beside it.",
    },
    run: |ctx| {
        let (facts, src) = (ctx.facts, ctx.src);
        let packages = facts.packages(src);
        let tree = facts.tree(src);
        // Candidate copies, by the directory holding them.
        let mut dirs: std::collections::BTreeMap<PathBuf, Vec<(String, PathBuf)>> =
            Default::default();
        let mut known_dirs: Vec<PathBuf> = Vec::new();
        let mut entries = tree.entries();
        while let Some((path, m)) = entries.next() {
            let shown = path.to_string_lossy();
            let system = [
                "/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/etc/", "/dev/",
            ]
            .iter()
            .any(|r| shown.starts_with(r));
            if !system {
                continue;
            }
            let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            if m.kind == FileKind::Dir && MOVED_TOOL_DIRS.contains(&name.as_str()) {
                known_dirs.push(path.to_path_buf());
            }
            if m.kind != FileKind::File || !HIDING_TOOLS.contains(&name.as_str()) {
                continue;
            }
            let Some(parent) = path.parent() else {
                continue;
            };
            if TOOL_DIRS.iter().any(|d| Path::new(d) == parent) || packages.owns(&shown) {
                continue;
            }
            if !is_elf(&head(ctx, path, 4)) {
                continue;
            }
            dirs.entry(parent.to_path_buf())
                .or_default()
                .push((name, path.to_path_buf()));
        }
        for d in &known_dirs {
            dirs.entry(d.clone()).or_default();
        }
        for (dir, copies) in dirs {
            let dir_name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let hidden = dir_name.starts_with('.');
            let known = MOVED_TOOL_DIRS.contains(&dir_name.as_str());
            // The originals these copies stand for, where they now differ: a script, or other
            // bytes than the copy.
            let mut replaced: Vec<(String, PathBuf)> = Vec::new();
            for (name, copy) in &copies {
                let copy_digest = digest_of(ctx, copy, DigestAlgo::Sha256);
                for bin in TOOL_DIRS {
                    let original = Path::new(bin).join(name);
                    let Ok(m) = src.metadata(&original) else {
                        continue;
                    };
                    if m.kind != FileKind::File {
                        continue;
                    }
                    let script = head(ctx, &original, 2).starts_with(b"#!");
                    let differs = copy_digest.is_some()
                        && digest_of(ctx, &original, DigestAlgo::Sha256) != copy_digest;
                    if script || differs {
                        replaced.push((
                            if script { "a script" } else { "other bytes" }.to_owned(),
                            original,
                        ));
                    }
                }
            }
            // Two such programs together, or one in a hidden or known directory, or one whose
            // original was replaced: a single stray copy elsewhere is not enough.
            if !(copies.len() >= 2 || hidden || known || !replaced.is_empty()) {
                continue;
            }
            let shown_dir = display_path(&dir);
            let names: Vec<&str> = copies.iter().map(|(n, _)| n.as_str()).collect();
            let mut f = ctx
                .finding(if names.is_empty() {
                    format!("{shown_dir} exists: where rootkits move system tools aside")
                } else {
                    format!("System tools moved aside to {shown_dir}: {}", names.join(", "))
                })
                .explain(format!(
                    "{shown_dir} holds {} that no package installed there{}. Rootkits move the real tools aside and replace them with wrappers that call the originals and filter out their own processes, files and connections.",
                    if names.is_empty() { "nothing yet, but its name is a known rootkit's".to_owned() } else { format!("programs named {}", names.join(", ")) },
                    if replaced.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; in their usual place {}",
                            replaced
                                .iter()
                                .map(|(how, p)| format!("{} is {how}", display_path(p)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ))
                .recommend("Do not trust ps, netstat, ls and the like on this host: use trusted static tools. Preserve the directory and the replaced binaries, then reinstall their packages from a trusted mirror.")
                .evidence(ctx.file_evidence(&dir));
            for (_, copy) in &copies {
                f = f.evidence(ctx.file_evidence(copy));
            }
            for (how, original) in &replaced {
                f = f.evidence(
                    ctx.file_evidence(original)
                        .excerpt(format!("replaced: {how}")),
                );
            }
            if replaced.is_empty() && !known {
                f.severity = Severity::High;
            }
            let at = f.evidence.first().and_then(|e| e.ctime);
            f = f.at_time(at);
            ctx.report_with_event(f, EventKind::FileChange, None, None);
        }
        Ok(())
    },
};

/// Checklist row 35.
pub const UNOWNED: Check = Check {
    meta: CheckMeta {
        id: "linux.files.unowned_executables",
        title: "Executables in system paths that no package owns",
        attack: &["T1036.005"],
        severity: Severity::Medium,
        rows: &[35],
        live_state: false,
        walks_files: true,
        description: "ELF files and scripts in /bin, /sbin, /usr/bin, /usr/sbin, /usr/lib and /etc/cron.* that are not listed by any dpkg package (read from info/*.list): dropped tools and backdoors named to blend in. /usr/local and alternatives symlinks are left alone.",
    },
    run: |ctx| {
        if !ctx.facts.packages(ctx.src).present() {
            return Err(CheckError::NotApplicable(
                "no package database in this source".into(),
            ));
        }
        let (facts, src) = (ctx.facts, ctx.src);
        let tree = facts.tree(src);
        let mut entries = tree.entries();
        while let Some((path, m)) = entries.next() {
            if m.kind != FileKind::File {
                continue;
            }
            let shown = path.to_string_lossy().into_owned();
            let in_bin = ["/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/"]
                .iter()
                .any(|d| shown.starts_with(d) && !shown[d.len()..].contains('/'));
            let in_lib = shown.starts_with("/usr/lib/") || shown.starts_with("/lib/");
            let in_cron = shown.starts_with("/etc/cron.");
            if !(in_bin || in_lib || in_cron) || ctx.facts.packages(ctx.src).owns(&shown) {
                continue;
            }
            let h = head(ctx, path, 4);
            let elf = is_elf(&h);
            // Generated files in /usr/lib (caches, python bytecode) are common; only ELF counts there.
            if in_lib && !(elf && m.mode & 0o111 != 0) || (in_bin && !elf && !h.starts_with(b"#!"))
            {
                continue;
            }
            if in_lib
                && (shown.contains("/python3")
                    || shown.contains("/modules/")
                    || shown.contains("/node_modules/")
                    || shown.contains("/x86_64-linux-gnu/")
                    || shown.contains("/aarch64-linux-gnu/")
                    || shown.contains("/jvm/"))
            {
                continue;
            }
            let ev = walked_evidence(ctx, path, m);
            let mut f = ctx
                .finding(format!("{shown} belongs to no package"))
                .explain(format!("{shown} is {} in a system directory, yet no installed package lists it. Attackers drop tools here under plausible names.", if elf { "a program" } else { "a script" }))
                .recommend("Find out who installed it (ctime, history, config management); preserve and remove it if nobody did.")
                .evidence(ev)
                .at_time(Some(m.ctime));
            f.severity = if in_bin {
                Severity::Medium
            } else {
                Severity::Low
            };
            ctx.report(f);
        }
        Ok(())
    },
};

const WATCHED_TREES: &[&str] = &[
    "/etc/",
    "/bin/",
    "/sbin/",
    "/usr/bin/",
    "/usr/sbin/",
    "/usr/lib/systemd/",
    "/lib/systemd/",
    "/var/www/",
    "/srv/",
    "/tmp/",
    "/var/tmp/",
    "/root/",
    "/home/",
    "/var/spool/cron/",
    "/opt/",
    "/usr/local/",
];

/// Checklist row 36.
pub const RECENT_CHANGES: Check = Check {
    meta: CheckMeta {
        id: "linux.files.recent_changes",
        title: "Files changed in the incident window; timestomped files",
        attack: &["T1070.006"],
        severity: Severity::Medium,
        rows: &[36],
        live_state: false,
        walks_files: true,
        description: "With --since, lists executables and configuration changed (mtime or ctime) inside the window in system, web, temp and home trees, and puts them on the timeline. Always: unpackaged executables in system dirs whose ctime is far after their mtime (`touch -r` timestomping) and files dated in the future.",
    },
    run: |ctx| {
        let (facts, src) = (ctx.facts, ctx.src);
        let tree = facts.tree(src);
        let now = facts.now;
        let mut window_hits = 0usize;
        let mut entries = tree.entries();
        while let Some((path, m)) = entries.next() {
            if m.kind != FileKind::File {
                continue;
            }
            let shown = path.to_string_lossy().into_owned();
            if !WATCHED_TREES.iter().any(|t| shown.starts_with(t)) {
                continue;
            }
            let system_bin = ["/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/"]
                .iter()
                .any(|d| shown.starts_with(d));
            if m.mtime.0 > now.0 + 86_400 {
                let mut f = ctx
                    .finding(format!("{shown} is dated in the future ({})", m.mtime))
                    .explain("A modification time in the future is set by hand (touch -d), usually to confuse timelines.")
                    .recommend("Treat the file's times as forged; use its ctime and logs instead.")
                    .evidence(walked_evidence(ctx, path, m));
                f.severity = Severity::Medium;
                ctx.report(f);
            } else if system_bin
                && m.ctime.0 - m.mtime.0 > 30 * 86_400
                && !ctx.facts.packages(ctx.src).owns(&shown)
                && ctx.facts.packages(ctx.src).present()
            {
                let mut f = ctx
                    .finding(format!("{shown} looks timestomped (changed {}, claims {})", m.ctime, m.mtime))
                    .explain("The file's inode changed long after its claimed modification time and no package explains it: its mtime was probably copied from another file (`touch -r`) to hide when it was planted.")
                    .recommend("Take the ctime as the real arrival time and look for activity around it.")
                    .evidence(walked_evidence(ctx, path, m))
                    .at_time(Some(m.ctime));
                f.severity = Severity::High;
                ctx.report_with_event(f, EventKind::FileChange, None, None);
            }
            let Some(since) = ctx.opts.since else {
                continue;
            };
            let changed = m.mtime.max(m.ctime);
            if changed < since || changed.0 > now.0 + 86_400 {
                continue;
            }
            let interesting = m.mode & 0o111 != 0
                || shown.starts_with("/etc/")
                || shown.starts_with("/var/www/")
                || shown.starts_with("/var/spool/cron/")
                || shown.contains("/.ssh/");
            if !interesting || shown.contains("/.cache/") {
                continue;
            }
            window_hits += 1;
            if window_hits > 500 {
                continue;
            }
            let mut f = ctx
                .finding(format!("{shown} changed at {changed}, inside the incident window"))
                .explain("This file was written or had its metadata changed after the start of the incident window given with --since.")
                .recommend("Check whether the change was made by the attacker or by the administrators.")
                .evidence(walked_evidence(ctx, path, m))
                .at_time(Some(changed));
            f.severity = if system_bin || shown.contains("/.ssh/") {
                Severity::Medium
            } else {
                Severity::Low
            };
            ctx.report_with_event(f, EventKind::FileChange, None, None);
        }
        if window_hits > 500 {
            ctx.warn(
                None,
                format!("{window_hits} files changed in the window; only the first 500 are listed"),
            );
        }
        Ok(())
    },
};

const TEMP_ROOTS: &[&str] = &["/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/run/lock"];

fn odd_name(name: &str) -> bool {
    name.chars().all(|c| c == '.' || c.is_whitespace()) && name != "." && name != ".."
        || name.starts_with(' ')
        || name.ends_with(' ')
        || name.chars().any(|c| c.is_control())
}

/// Checklist row 37.
pub const TEMP_DIRS: Check = Check {
    meta: CheckMeta {
        id: "linux.files.temp_dirs",
        title: "Executables and hidden files in temp directories",
        attack: &["T1564.001"],
        severity: Severity::High,
        rows: &[37],
        live_state: false,
        walks_files: true,
        description: "Walks /tmp, /var/tmp, /dev/shm, /run/shm, /run/lock and each home's ~/.cache: ELF binaries and scripts (by content, not name), hidden directories holding them, and names made to be overlooked (`...`, `. `, trailing spaces, control characters).",
    },
    run: |ctx| {
        let mut roots: Vec<std::path::PathBuf> =
            TEMP_ROOTS.iter().map(std::path::PathBuf::from).collect();
        for (_, home) in ctx.facts.homes(ctx.src) {
            roots.push(home.join(".cache"));
        }
        let opts = firewarden_source::WalkOptions {
            skip_names: Vec::new(),
            max_depth: 8,
            skip: Vec::new(),
            max_entries: 200_000,
        };
        for root in roots {
            // Only what can become a finding is kept (a home's ~/.cache can hold hundreds of
            // thousands of files): directories with deceptive names, and programs, each with
            // whether it is compiled (ELF) — read here, while the walk passes.
            let mut entries = Vec::new();
            let (mut too_deep, mut first_deep, mut truncated) = (0usize, None, false);
            firewarden_source::walk(ctx.src, &root, &opts, &mut |e| match e {
                firewarden_source::WalkEntry::Entry { path, meta } => {
                    let odd_dir = meta.kind == FileKind::Dir
                        && path
                            .file_name()
                            .is_some_and(|n| odd_name(&n.to_string_lossy()));
                    if odd_dir {
                        entries.push((path, meta, false));
                    } else if meta.kind == FileKind::File && meta.size >= 4 {
                        let h = head(ctx, &path, 18);
                        // ELF e_type 1 is a relocatable object (.o): compiler output, not a program.
                        let elf = is_elf(&h) && h.get(16) != Some(&1);
                        let script = h.starts_with(b"#!") && meta.mode & 0o111 != 0;
                        if elf || script {
                            entries.push((path, meta, elf));
                        }
                    }
                }
                firewarden_source::WalkEntry::TooDeep(p) => {
                    too_deep += 1;
                    first_deep.get_or_insert(p);
                }
                firewarden_source::WalkEntry::Truncated => truncated = true,
                firewarden_source::WalkEntry::Error(_) => {}
            });
            // Nesting deeper than the walk goes is itself a way to hide: say what was not seen.
            if let Some(first) = first_deep {
                ctx.warn(
                    Some(&first),
                    format!(
                        "{too_deep} director(y/ies) under {} nest deeper than {} levels and were not searched for programs",
                        display_path(&root),
                        opts.max_depth
                    ),
                );
            }
            if truncated {
                ctx.warn(
                    Some(&root),
                    format!(
                        "more than {} entries: the rest was not searched for programs",
                        opts.max_entries
                    ),
                );
            }
            // Plain (not hidden) programs grouped by the top directory under the temp root, so a
            // build tree or unpacked installer is one finding, not thousands.
            let mut plain: std::collections::BTreeMap<
                std::path::PathBuf,
                Vec<(std::path::PathBuf, Metadata, bool)>,
            > = Default::default();
            for (path, m, elf) in entries {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let shown = display_path(&path);
                if m.kind == FileKind::Dir && odd_name(&name) {
                    let mut f = ctx
                        .finding(format!("Directory with a deceptive name: {shown:?}"))
                        .explain("A directory named only with dots or spaces is made to be missed in `ls -a` output; malware kits hide their files this way.")
                        .recommend("List and preserve its content.")
                        .evidence(evidence(ctx, &path, &m))
                        .at_time(Some(m.mtime));
                    f.severity = Severity::High;
                    ctx.report_with_event(f, EventKind::FileChange, None, None);
                    continue;
                }
                if m.kind != FileKind::File {
                    continue;
                }
                let rel = path.strip_prefix(&root).unwrap_or(&path);
                let hidden = rel
                    .to_string_lossy()
                    .split('/')
                    .any(|c| c.starts_with('.') && c.len() > 1)
                    || odd_name(&name);
                let in_cache = shown.contains("/.cache/");
                if (in_cache || shown.contains("/.git/") || shown.contains("/node_modules/"))
                    && !elf
                {
                    continue;
                }
                if hidden {
                    report_temp_file(ctx, &path, &m, elf, true);
                } else {
                    let top = rel
                        .components()
                        .next()
                        .map(|c| root.join(c))
                        .unwrap_or_else(|| root.clone());
                    plain.entry(top).or_default().push((path, m, elf));
                }
            }
            for (top, files) in plain {
                if files.len() <= 10 {
                    for (path, m, elf) in &files {
                        report_temp_file(ctx, path, m, *elf, false);
                    }
                    continue;
                }
                let elves = files.iter().filter(|f| f.2).count();
                let examples: Vec<String> =
                    files.iter().take(5).map(|f| display_path(&f.0)).collect();
                let newest = files.iter().map(|f| f.1.mtime).max();
                let mut f = ctx
                    .finding(format!("{} programs and scripts under {} (a build tree or unpacked kit?)", files.len(), display_path(&top)))
                    .explain(format!("{} holds {} executable files ({elves} compiled programs) in a world-writable temp directory, e.g. {}. Build directories look like this; so do unpacked malware kits.", display_path(&top), files.len(), examples.join(", ")))
                    .recommend("Find out who created the tree (owner, times, shell history); if nobody can account for it, preserve it and check whether any of its programs is running.")
                    .evidence(ctx.file_evidence(&top).excerpt(examples.join(" ")))
                    .at_time(newest);
                f.severity = Severity::Medium;
                ctx.report(f);
            }
        }
        Ok(())
    },
};

fn report_temp_file(ctx: &mut Ctx, path: &Path, m: &Metadata, elf: bool, hidden: bool) {
    let shown = display_path(path);
    let sev = if elf && (hidden || m.mode & 0o111 != 0) {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut f = ctx
        .finding(format!("{} in a temp directory: {shown}", if elf { "Program (ELF)" } else { "Executable script" }))
        .explain(format!("{shown} is {} in a world-writable temp directory{}. Droppers put their payloads here because anyone can write it.", if elf { "a compiled program" } else { "an executable script" }, if hidden { ", under a hidden name" } else { "" }))
        .recommend("Preserve and hash the file, check whether a process runs it (linux.process.suspicious_exe), then remove it.")
        .evidence(evidence(ctx, path, m))
        .at_time(Some(m.mtime));
    f.severity = sev;
    ctx.report_with_event(f, EventKind::FileChange, None, None);
}

const DEV_DIRS: &[&str] = &[
    "pts",
    "shm",
    "mqueue",
    "hugepages",
    "disk",
    "block",
    "char",
    "input",
    "snd",
    "bus",
    "net",
    "dri",
    "mapper",
    "cpu",
    "vfio",
    "fd",
    "serial",
    "v4l",
    "usb",
    "vhost-net",
    "dma_heap",
    "hpet",
    "virtio-ports",
    "cpu_dma_latency",
    "lightnvm",
    "bsg",
    "raw",
    "vg0",
    "ubuntu-vg",
    "cl",
    "centos",
    "rhel",
    "vgubuntu",
    "xen",
    "md",
    "tpm",
    "infiniband",
    "gpiochip",
    "nvme-fabrics",
    "rfkill",
    "autofs",
    "sg",
    "watchdog",
    "uhid",
    "uinput",
    "loop-control",
    "btrfs-control",
    "ng0n1",
    "ptp0",
    "kvm",
    "sev",
    "sgx_provision",
    "sgx_enclave",
];

/// Checklist row 38.
pub const DEV: Check = Check {
    meta: CheckMeta {
        id: "linux.files.dev",
        title: "Regular files and unexpected directories in /dev",
        attack: &["T1564.001"],
        severity: Severity::High,
        rows: &[38],
        live_state: false,
        walks_files: true,
        description: "/dev holds device nodes; a regular file or an unknown (especially hidden) directory there is a classic rootkit hiding place, since nobody looks.",
    },
    run: |ctx| {
        let Ok(entries) = ctx.src.read_dir_meta(Path::new("/dev")) else {
            return Ok(());
        };
        for (e, m) in entries {
            let name = e.name.to_string_lossy().into_owned();
            let path = Path::new("/dev").join(&e.name);
            let (sev, what) = match m.kind {
                FileKind::File if m.size > 0 || name.starts_with('.') => {
                    (Severity::High, "regular file")
                }
                FileKind::Dir if name.starts_with('.') => (Severity::High, "hidden directory"),
                FileKind::Dir
                    if !DEV_DIRS.contains(&name.as_str())
                        && !name.starts_with("vg")
                        && !name.starts_with("nvme") =>
                {
                    (Severity::Low, "directory")
                }
                _ => continue,
            };
            let mut f = ctx
                .finding(format!("{what} in /dev: {}", display_path(&path)))
                .explain(format!("{} is a {what}, not a device. Rootkits (and their config or sniffed passwords) hide in /dev.", display_path(&path)))
                .recommend("Preserve and read it; remove it if no driver or package accounts for it.")
                .evidence(evidence(ctx, &path, &m))
                .at_time(Some(m.mtime));
            f.severity = sev;
            ctx.report(f);
        }
        Ok(())
    },
};

/// Files and directories left by known Linux rootkits and backdoor kits.
const ROOTKIT_PATHS: &[(&str, &str)] = &[
    ("/lib/libkeyutils.so.1.9", "Ebury SSH backdoor"),
    ("/lib64/libkeyutils.so.1.9", "Ebury SSH backdoor"),
    (
        "/lib/x86_64-linux-gnu/libkeyutils.so.1.9",
        "Ebury SSH backdoor",
    ),
    (
        "/usr/lib/x86_64-linux-gnu/libkeyutils.so.1.9",
        "Ebury SSH backdoor",
    ),
    ("/lib/libns2.so", "Ebury variant"),
    ("/lib64/libns2.so", "Ebury variant"),
    ("/reptile", "Reptile rootkit"),
    ("/lib/udev/reptile", "Reptile rootkit"),
    ("/XxJynx", "Jynx2 rootkit"),
    ("/usr/bin/.sshd", "hidden sshd backdoor"),
    ("/usr/lib/libsecurity.so", "Umbreon rootkit"),
    ("/usr/local/lib/libprocesshider.so", "libprocesshider"),
    ("/usr/lib/libprocesshider.so", "libprocesshider"),
    ("/etc/ld.so.hash", "Symbiote/TeamTNT preload helper"),
    ("/tmp/kdevtmpfsi", "Kinsing miner"),
    ("/var/tmp/kinsing", "Kinsing"),
    ("/tmp/kinsing", "Kinsing"),
    ("/etc/data/kinsing", "Kinsing"),
    ("/usr/bin/kworkerds", "kworkerds miner"),
    ("/tmp/.X11-unix/.rsync", "Outlaw botnet kit"),
    ("/tmp/.X25-unix", "Outlaw botnet kit"),
    ("/dev/shm/.rsync", "Outlaw botnet kit"),
    ("/var/tmp/.systemcache436621", "Outlaw botnet kit"),
    ("/usr/sbin/.ilog", "t0rn rootkit"),
    ("/usr/src/.puta", "t0rn rootkit"),
    ("/usr/info/.t0rn", "t0rn rootkit"),
    ("/dev/.lib", "SucKIT / generic hidden dir"),
    ("/dev/.hdlc", "rootkit hidden dir"),
    ("/lib/diamorphine.ko", "Diamorphine LKM"),
    ("/etc/rc.d/init.d/selinux", "BillGates/Elknot DDoS bot"),
    ("/etc/init.d/DbSecuritySpt", "BillGates/Elknot DDoS bot"),
    ("/usr/bin/bsd-port", "BillGates/Elknot DDoS bot"),
    ("/tmp/moni.lod", "BillGates/Elknot DDoS bot"),
];

/// Checklist row 40.
pub const ROOTKIT_FILES: Check = Check {
    meta: CheckMeta {
        id: "linux.files.rootkit_paths",
        title: "Files of known rootkits and malware kits; kernel modules outside /lib/modules",
        attack: &["T1014"],
        severity: Severity::Critical,
        rows: &[40],
        live_state: false,
        walks_files: true,
        description: "Looks for the files that known Linux rootkits and botnet kits leave (Ebury, Reptile, Jynx2, libprocesshider, Kinsing, Outlaw, t0rn, BillGates …) and for kernel modules (*.ko) outside the module tree.",
    },
    run: |ctx| {
        for (p, family) in ROOTKIT_PATHS {
            if let Ok(m) = ctx.src.symlink_metadata(Path::new(p)) {
                let f = ctx
                    .finding(format!("{p} is present ({family})"))
                    .explain(format!("{p} is a known file of {family}."))
                    .recommend("Preserve it, treat the host as rooted, and plan a rebuild.")
                    .evidence(evidence(ctx, Path::new(p), &m))
                    .at_time(Some(m.ctime));
                ctx.report_with_event(f, EventKind::FileChange, None, None);
            }
        }
        let (facts, src) = (ctx.facts, ctx.src);
        let tree = facts.tree(src);
        let mut entries = tree.entries();
        while let Some((path, m)) = entries.next() {
            let shown = path.to_string_lossy();
            if m.kind == FileKind::File
                && shown.ends_with(".ko")
                && !shown.starts_with("/lib/modules/")
                && !shown.starts_with("/usr/lib/modules/")
                && !shown.starts_with("/usr/src/")
                && !shown.starts_with("/var/lib/dkms/")
                && !shown.starts_with("/boot/")
            {
                let mut f = ctx
                    .finding(format!("Kernel module outside the module tree: {shown}"))
                    .explain("Kernel modules belong under /lib/modules. One elsewhere (especially in temp or hidden dirs) is how LKM rootkits such as Diamorphine and Reptile are loaded.")
                    .recommend("Preserve it and check /proc/modules and kernel taint for it.")
                    .evidence(walked_evidence(ctx, path, m))
                    .at_time(Some(m.ctime));
                f.severity = Severity::High;
                f.attack.push("T1547.006".into());
                ctx.report(f);
            }
        }
        Ok(())
    },
};
