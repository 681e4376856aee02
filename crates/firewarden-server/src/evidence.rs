//! Where evidence bundles are kept: write-once, by their SHA-256. A blob once stored is never
//! replaced or changed; storing the same bundle again finds it there.

use crate::ServerError;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The evidence store.
#[derive(Debug, Clone)]
pub enum EvidenceStore {
    /// A directory (`DATA/evidence`).
    Dir(PathBuf),
}

impl EvidenceStore {
    /// The store named by `url` (`None`: `data/evidence`).
    pub fn open(data: &Path, url: Option<&str>) -> Result<EvidenceStore, ServerError> {
        match url {
            None => {
                let dir = data.join("evidence");
                crate::private_dir(&dir)?;
                Ok(EvidenceStore::Dir(dir))
            }
            Some(u) if u.starts_with("s3://") => Err(ServerError::Config(format!(
                "{u}: S3-compatible evidence storage is not in this build yet; evidence is kept under --data"
            ))),
            Some(u) => Err(ServerError::Config(format!(
                "{u}: an evidence store is s3://bucket/prefix"
            ))),
        }
    }

    /// Keeps a verified bundle (and its custody ledger) under its SHA-256; returns its key.
    /// Write-once: an existing blob is never replaced (the same digest is the same bytes).
    pub fn put(
        &self,
        sha256: &str,
        bundle: &Path,
        ledger: Option<&Path>,
    ) -> Result<String, ServerError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServerError::Config(format!("not a SHA-256: {sha256}")));
        }
        match self {
            EvidenceStore::Dir(dir) => {
                let key = format!("{sha256}.fwb");
                keep(bundle, &dir.join(&key))?;
                if let Some(ledger) = ledger {
                    // The ledger grows as custody passes on: each received version is kept
                    // under its own digest, never over an older one.
                    let bytes = std::fs::read(ledger)?;
                    let d = crate::tls::fingerprint(&bytes);
                    let name = format!("{sha256}.custody.{}", &d["sha256:".len()..]);
                    keep(ledger, &dir.join(name))?;
                }
                Ok(key)
            }
        }
    }
}

/// Links `from` in at `to` unless `to` exists (hard link: atomic, never overwrites), read-only.
fn keep(from: &Path, to: &Path) -> Result<(), ServerError> {
    match std::fs::hard_link(from, to) {
        Ok(()) => {
            std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o400))?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e.into()),
    }
}
