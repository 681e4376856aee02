//! The whole-bundle check, one for every reader: `verify`, triage on a bundle, and the case
//! platform's import. A bundle is trusted only when all of it verifies: members against the
//! signed manifest, the collector's log chain, the signer, the container hash and the custody
//! ledger beside it.

use crate::read::{Scan, Verdict, check, scan, scan_verified};
use crate::{EvidenceError, PublicKey, custody};
use std::path::Path;

/// Everything known about a bundle after checking it.
#[derive(Debug)]
pub struct BundleCheck {
    /// The manifest check (its `problems` are the bundle's alone).
    pub verdict: Verdict,
    /// Every problem: the bundle's and the custody ledger's. Empty: intact.
    pub problems: Vec<String>,
    /// SHA-256 of the bundle file.
    pub sha256: String,
    /// Size of the bundle file.
    pub size: u64,
    /// Custody events in the ledger.
    pub custody_events: usize,
}

impl BundleCheck {
    /// True when nothing failed.
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks a bundle whole. With `keep`, members are also extracted there, but only after (or,
/// for format 2, while) the signed manifest is verified, and only at the sizes it declares;
/// the scan says where each went.
pub fn verify_bundle(
    path: &Path,
    identities: &[age::x25519::Identity],
    pinned: Option<&PublicKey>,
    keep: Option<&Path>,
) -> Result<(Scan, BundleCheck), EvidenceError> {
    let (scan, verdict) = match keep {
        Some(dir) => scan_verified(path, identities, pinned, dir)?,
        None => {
            let s = scan(path, identities, None)?;
            let v = check(&s, pinned);
            (s, v)
        }
    };
    let mut problems = verdict.problems.clone();
    let mut custody_events = 0;
    match custody::load(path)? {
        Some((lines, ledger_problems)) => {
            custody_events = lines.len();
            problems.extend(ledger_problems);
            problems.extend(custody::check(
                &lines,
                &scan.file_sha256,
                verdict.manifest_sha256.as_deref(),
                verdict.signer.as_ref(),
            ));
        }
        None => problems.push(format!(
            "no custody ledger beside the bundle ({})",
            custody::ledger_path(path).display()
        )),
    }
    let check = BundleCheck {
        sha256: scan.file_sha256.clone(),
        size: scan.file_size,
        verdict,
        problems,
        custody_events,
    };
    Ok((scan, check))
}
