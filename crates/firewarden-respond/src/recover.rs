//! Recovery: put tampered web files back from a baseline (`firewarden baseline create --copy`),
//! with the same plan, journal and undo as every other change.

use crate::engine::Plan;
use crate::target::Target;
use crate::{Error, Result};
use firewarden_model::action::ActionSummary;
use firewarden_model::action::{Risk, Step};
use firewarden_scan::baseline::{self, Baseline, Change};
use firewarden_source::{FsSource, Source};
use std::path::Path;

/// What a restore could not do from the baseline alone.
#[derive(Debug, Clone, Default)]
pub struct Leftovers {
    /// Changed or removed files whose content the baseline did not keep (binary, too large,
    /// or taken without `--copy`).
    pub no_copy: Vec<String>,
    /// Files added since the baseline; quarantined only when asked.
    pub added: Vec<String>,
}

fn parse_mode(text: &str) -> Option<u32> {
    u32::from_str_radix(text.trim_start_matches("0o"), 8).ok()
}

/// Plans restoring the site at `site` (a directory inside the target) to `base`. Added files
/// are quarantined when `quarantine_added` is set.
pub fn web(
    target: &Target,
    base: &Baseline,
    site: &str,
    quarantine_added: bool,
) -> Result<(Plan, Leftovers)> {
    let host = target.host_path(site)?;
    let src = FsSource::root(&host).map_err(|e| Error::Io(format!("{site}: {e}")))?;
    let (changes, problems) = baseline::diff(base, &src, 1);
    let mut plan = Plan::new(
        "recover.web",
        format!("Restore {site} from the baseline of {}", base.created),
        Risk::Medium,
        target,
    );
    for p in problems {
        plan.note(format!("not compared: {p}"));
    }
    let site_meta = src
        .metadata(Path::new("/"))
        .map_err(|e| Error::Io(format!("{site}: {e}")))?;
    let mut left = Leftovers::default();
    let inside = |rel: &str| format!("{}{rel}", site.trim_end_matches('/'));
    for c in changes {
        match c {
            Change::Changed { path, mode, .. } => {
                let recorded = &base.files[&path];
                let full = inside(&path);
                match &recorded.text {
                    Some(text) if recorded.sha256 != current_sha(target, &full)? => {
                        plan.edit(target, &full, text.clone().into_bytes())?;
                    }
                    Some(_) => {}
                    None => left.no_copy.push(full.clone()),
                }
                if let Some((then, now)) = mode
                    && let (Some(b), Some(a)) = (parse_mode(&now), parse_mode(&then))
                {
                    plan.push(Step::Chmod {
                        path: full,
                        before: b & 0o7777,
                        after: a & 0o7777,
                    });
                }
            }
            Change::Removed { path } => {
                let recorded = &base.files[&path];
                let full = inside(&path);
                match &recorded.text {
                    Some(text) => {
                        let mode = parse_mode(&recorded.mode).unwrap_or(0o644) & 0o7777;
                        plan.create_owned(
                            target,
                            &full,
                            text.clone().into_bytes(),
                            (mode, site_meta.uid, site_meta.gid),
                        );
                    }
                    None => left.no_copy.push(full),
                }
            }
            Change::Added { path, link, .. } => {
                let full = inside(&path);
                if quarantine_added
                    && link.is_some()
                    && let Ok(host) = target.host_path(&full)
                    && let Ok(to) = std::fs::read_link(&host)
                {
                    // A planted link: the link goes (reversibly); what it points to is named,
                    // since it lies outside the site and may be the webshell itself.
                    plan.note(format!(
                        "{full} is a link to {}: check that file too",
                        to.display()
                    ));
                    plan.push(Step::Unlink {
                        parent_times: target.parent_times(&full),
                        path: full,
                        target: to.to_string_lossy().into_owned(),
                    });
                } else if quarantine_added {
                    plan.quarantine(target, &full)?;
                } else {
                    left.added.push(full);
                }
            }
        }
    }
    if !left.no_copy.is_empty() {
        plan.note(format!(
            "{} changed file(s) have no copy in the baseline and are left as they are: {}",
            left.no_copy.len(),
            left.no_copy.join(", ")
        ));
    }
    if !left.added.is_empty() {
        plan.note(format!(
            "{} file(s) added since the baseline are left in place (--quarantine-added moves them to the vault): {}",
            left.added.len(),
            left.added.join(", ")
        ));
    }
    Ok((plan, left))
}

fn current_sha(target: &Target, path: &str) -> Result<String> {
    Ok(target.state_of(path)?.map(|s| s.sha256).unwrap_or_default())
}

/// The system unit a process belongs to, from its `/proc/PID/cgroup` text
/// (`0::/system.slice/nginx.service` → `nginx.service`).
pub fn unit_of(cgroup: &str) -> Option<String> {
    cgroup.lines().find_map(|l| {
        let path = l.splitn(3, ':').nth(2)?;
        let mut parts = path.split('/').filter(|p| !p.is_empty());
        if parts.next()? != "system.slice" {
            return None;
        }
        parts
            .next()
            .filter(|u| u.ends_with(".service"))
            .map(str::to_string)
    })
}

/// The path of a `/proc/PID/maps` line: everything after the fifth field (it may hold spaces).
fn map_path(line: &str) -> Option<&str> {
    let mut rest = line;
    for _ in 0..5 {
        rest = rest.trim_start();
        rest = &rest[rest.find(char::is_whitespace)?..];
    }
    let path = rest.trim_start();
    (!path.is_empty()).then_some(path)
}

/// Whether a `/proc/PID/maps` line or `exe` link names `path` (deleted or replaced since).
fn names(text: &str, path: &str) -> bool {
    text == path || text.strip_suffix(" (deleted)") == Some(path)
}

/// Plans restarting what eradication stopped or left running old code, on the live host:
/// units an eradication stopped whose unit file is back (restored or reinstalled), and the
/// units of processes that still execute or map a file that was removed (a preload rootkit's
/// library stays loaded in every daemon until it restarts). Processes outside a unit are named
/// in the notes.
pub fn restart(target: &Target, actions: &[ActionSummary]) -> Result<Plan> {
    if !target.is_live() {
        return Err(Error::Refused(
            "restarting acts on the running system; drop --root".into(),
        ));
    }
    let in_force: Vec<&ActionSummary> = actions.iter().filter(|a| a.status.in_force()).collect();
    let removed: Vec<&str> = in_force
        .iter()
        .flat_map(|a| &a.action.steps)
        .filter_map(|s| match s {
            Step::File {
                path, after: None, ..
            } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    let mut plan = Plan::new(
        "recover.restart",
        "Restart what eradication stopped or left running removed code",
        Risk::Medium,
        target,
    );
    let mut units: Vec<String> = Vec::new();
    for a in in_force.iter().filter(|a| a.action.kind == "eradicate") {
        for s in &a.action.steps {
            if let Step::StopUnit { unit, .. } = s
                && crate::eradicate::SYSTEM_UNIT_DIRS
                    .iter()
                    .any(|d| target.exists(&format!("{d}/{unit}")))
                && !units.contains(unit)
            {
                units.push(unit.clone());
            }
        }
    }
    let own = crate::process::own_lineage();
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
                .collect()
        })
        .unwrap_or_default();
    pids.sort_unstable();
    for pid in pids {
        if own.contains(&pid) || removed.is_empty() {
            continue;
        }
        let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
            .map(|l| l.to_string_lossy().into_owned())
            .unwrap_or_default();
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        let hit = removed
            .iter()
            .find(|p| names(&exe, p) || maps.lines().filter_map(map_path).any(|m| names(m, p)));
        let Some(path) = hit else { continue };
        let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        match unit_of(&cgroup) {
            Some(u) => {
                if !units.contains(&u) {
                    units.push(u);
                }
            }
            None => {
                let p = crate::process::process_ref(pid)
                    .map(|p| p.cmdline)
                    .unwrap_or_default();
                plan.note(format!(
                    "pid {pid} ({p}) still runs removed code from {path} and belongs to no system service: restart it by hand, or `contain process {pid}`"
                ));
            }
        }
    }
    let systemd = crate::step::systemd_running();
    for u in units {
        if systemd {
            plan.push(Step::RestartUnit { unit: u });
        } else {
            plan.note(format!(
                "{u} should be restarted, but systemd does not run this host"
            ));
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_come_from_the_system_slice_only() {
        assert_eq!(
            unit_of("0::/system.slice/nginx.service\n").as_deref(),
            Some("nginx.service")
        );
        assert_eq!(
            unit_of("12:pids:/system.slice/cron.service\n0::/system.slice/cron.service").as_deref(),
            Some("cron.service")
        );
        assert_eq!(
            unit_of("0::/user.slice/user-0.slice/session-3.scope\n"),
            None
        );
        assert_eq!(unit_of("0::/\n"), None);
        assert_eq!(unit_of("garbage"), None);
    }

    #[test]
    fn map_lines_give_their_path_with_spaces() {
        let l = "7f00a000-7f00b000 r-xp 00000000 08:01 1234      /tmp/my lib.so (deleted)";
        assert_eq!(map_path(l), Some("/tmp/my lib.so (deleted)"));
        assert_eq!(map_path("7f00a000-7f00b000 rw-p 00000000 00:00 0 "), None);
        assert_eq!(map_path("short"), None);
    }

    #[test]
    fn deleted_mappings_still_name_their_file() {
        assert!(names(
            "/usr/lib/libsystem.so (deleted)",
            "/usr/lib/libsystem.so"
        ));
        assert!(names("/usr/lib/libsystem.so", "/usr/lib/libsystem.so"));
        assert!(!names("/usr/lib/libsystem.so.1", "/usr/lib/libsystem.so"));
    }
}
