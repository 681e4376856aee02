//! Evidence that holds up: `collect` gathers a host's state in order of volatility into one
//! streamable bundle (tar + zstd, optionally age-encrypted) with a signed manifest; `verify`
//! re-checks every hash, the collector's hash-chained log, the Ed25519 signature and the
//! custody ledger; [`BundleSource`] lets triage run on a bundle as if on the host.
//!
//! The format is documented in `docs/bundle-format.md` so that another examiner can check a
//! bundle with standard tools (`zstd`, `tar`, `sha256sum`, `openssl`) and the public key alone.

#![warn(missing_docs)]

pub mod bundle;
pub mod capture;
pub mod cleanup;
pub mod collect;
pub mod custody;
pub mod encoding;
pub mod keys;
pub mod manifest;
pub mod read;
mod records;
mod source;
pub mod verify;

pub use age;
pub use bundle::Written;
pub use capture::{Caps, Capture};
pub use collect::{CollectOptions, Collected, Profile, collect};
pub use keys::{KeyPair, PublicKey};
pub use manifest::Manifest;
pub use read::{Verdict, check, scan};
pub use source::BundleSource;
pub use verify::{BundleCheck, verify_bundle};

/// Why an evidence operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// Reading or writing a file failed.
    #[error("{0}")]
    Io(String),
    /// A key could not be made, read or used.
    #[error("{0}")]
    Key(String),
    /// The bundle is encrypted and no identity was given.
    #[error("the bundle is encrypted: pass --identity with the recipient's age identity file")]
    Encrypted,
    /// The bundle's framing is broken before anything could be checked.
    #[error("corrupt bundle: {0}")]
    Corrupt(String),
    /// Verification failed; each entry names what.
    #[error("evidence fails verification:\n  {}", .0.join("\n  "))]
    Tampered(Vec<String>),
    /// A request that makes no sense.
    #[error("{0}")]
    Usage(String),
}

/// Reads age identities (`AGE-SECRET-KEY-1…` lines, as written by `age-keygen` or
/// `firewarden keygen --age`).
pub fn load_identities(
    path: &std::path::Path,
) -> Result<Vec<age::x25519::Identity>, EvidenceError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EvidenceError::Key(format!("cannot read identity {}: {e}", path.display())))?;
    let ids: Vec<age::x25519::Identity> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("AGE-SECRET-KEY-"))
        .filter_map(|l| l.parse().ok())
        .collect();
    if ids.is_empty() {
        return Err(EvidenceError::Key(format!(
            "{}: no AGE-SECRET-KEY-1 identity in it",
            path.display()
        )));
    }
    Ok(ids)
}

/// Parses an age X25519 recipient (`age1…`).
pub fn parse_recipient(text: &str) -> Result<age::x25519::Recipient, EvidenceError> {
    text.trim()
        .parse()
        .map_err(|e| EvidenceError::Key(format!("`{text}` is not an age X25519 recipient: {e}")))
}
