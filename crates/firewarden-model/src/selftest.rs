//! A validation run: `firewarden selftest` runs the binary on built-in reference data and
//! records, check by check, whether it found what is planted there. Signed, it goes into a
//! case server's tool registry as the tool's validation.

use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// Version of [`SelftestResult`].
pub const SELFTEST_VERSION: u32 = 1;

/// What a validation run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelftestResult {
    /// [`SELFTEST_VERSION`].
    pub v: u32,
    /// Tool name and version (`firewarden 0.1.0`).
    pub tool: String,
    /// SHA-256 (hex) of the binary that ran.
    pub tool_sha256: String,
    /// The machine it ran on.
    pub host: String,
    /// When it started and ended.
    pub started: Timestamp,
    /// When it ended.
    pub finished: Timestamp,
    /// Each check, in the order run.
    pub checks: Vec<SelftestCheck>,
    /// Every check passed.
    pub passed: bool,
}

/// One reference check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelftestCheck {
    /// `triage.planted.webshell`, `bundle.tampered.byte` …
    pub id: String,
    /// What it shows, in words.
    pub title: String,
    /// Whether the binary did what the reference data calls for.
    pub passed: bool,
    /// What was seen.
    pub detail: String,
}

/// A result with its Ed25519 signature: `signature` (hex) over [`SelftestResult::signed_bytes`]
/// by `signer` (hex public key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedSelftest {
    /// The result.
    pub result: SelftestResult,
    /// Public key (hex).
    pub signer: String,
    /// Signature (hex).
    pub signature: String,
}

impl SelftestResult {
    /// The bytes signed: a purpose prefix and the result's JSON (fields in declaration order,
    /// so the same result gives the same bytes wherever it is re-serialised).
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = b"firewarden selftest v1\n".to_vec();
        out.extend(serde_json::to_vec(self).unwrap_or_default());
        out
    }
}
