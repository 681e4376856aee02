//! Recovery: put tampered web files back from a baseline (`firewarden baseline create --copy`),
//! with the same plan, journal and undo as every other change.

use crate::engine::Plan;
use crate::target::Target;
use crate::{Error, Result};
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
                            &full,
                            text.clone().into_bytes(),
                            mode,
                            site_meta.uid,
                            site_meta.gid,
                        );
                    }
                    None => left.no_copy.push(full),
                }
            }
            Change::Added { path, .. } => {
                let full = inside(&path);
                if quarantine_added {
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
