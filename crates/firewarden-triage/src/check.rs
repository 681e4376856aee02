//! What a check is: static metadata registered once, and a function over a [`Ctx`].

use crate::context::Ctx;
use firewarden_model::{CheckDescriptor, Severity};

/// Static description of a check, declared next to its code.
#[derive(Debug)]
pub struct CheckMeta {
    /// Stable id, `linux.<area>.<name>`; never reused for another meaning.
    pub id: &'static str,
    /// Short title.
    pub title: &'static str,
    /// ATT&CK techniques.
    pub attack: &'static [&'static str],
    /// Severity of its typical finding.
    pub severity: Severity,
    /// Rows of `linux-checklist.md` it covers.
    pub rows: &'static [u32],
    /// Needs live process/network state from `/proc`.
    pub live_state: bool,
    /// Walks the whole filesystem or every web root (package verification, file scans): on a
    /// cold disk these take most of a run, so they run after the other checks have answered
    /// (and not at all with `--quick`).
    pub walks_files: bool,
    /// What it looks at and why.
    pub description: &'static str,
}

impl CheckMeta {
    /// The serialisable catalogue entry.
    pub fn descriptor(&self) -> CheckDescriptor {
        CheckDescriptor {
            id: self.id.to_string(),
            title: self.title.to_string(),
            attack: self.attack.iter().map(|s| s.to_string()).collect(),
            severity: self.severity,
            checklist_rows: self.rows.to_vec(),
            live_state: self.live_state,
            description: self.description.to_string(),
        }
    }
}

/// Why a check could not run to completion.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The source lacks what the check reads (e.g. no `/proc` in a mounted image).
    #[error("{0}")]
    NotApplicable(String),
}

/// A registered check.
pub struct Check {
    /// Its metadata.
    pub meta: CheckMeta,
    /// Its body: reads through `ctx.src`, reports through `ctx`.
    pub run: fn(&mut Ctx) -> Result<(), CheckError>,
}
