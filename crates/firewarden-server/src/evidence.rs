//! Where evidence bundles are kept: write-once, by their SHA-256. A blob once stored is never
//! replaced or changed; storing the same bundle again finds it there.

use crate::ServerError;
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The evidence store.
#[derive(Debug, Clone)]
pub enum EvidenceStore {
    /// A directory (`DATA/evidence`).
    Dir(PathBuf),
    /// An S3-compatible bucket (`s3://bucket/prefix`).
    S3(crate::s3::S3),
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
            Some(u) if u.starts_with("s3://") => Ok(EvidenceStore::S3(crate::s3::S3::from_url(u)?)),
            Some(u) => Err(ServerError::Config(format!(
                "{u}: an evidence store is s3://bucket/prefix"
            ))),
        }
    }

    /// Keeps a verified bundle (and its custody ledger) under its SHA-256; returns its key.
    /// Write-once: an existing blob is never replaced (the same digest is the same bytes).
    pub async fn put(
        &self,
        sha256: &str,
        bundle: &Path,
        ledger: Option<&Path>,
    ) -> Result<String, ServerError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServerError::Config(format!("not a SHA-256: {sha256}")));
        }
        let key = format!("{sha256}.fwb");
        // The ledger grows as custody passes on: each received version is kept under its own
        // digest, never over an older one.
        let ledger = match ledger {
            Some(path) => {
                let digest = firewarden_evidence::encoding::hex(&Sha256::digest(
                    tokio::fs::read(path).await?,
                ));
                Some((path, format!("{sha256}.custody.{digest}"), digest))
            }
            None => None,
        };
        match self {
            EvidenceStore::Dir(dir) => {
                keep(bundle, &dir.join(&key))?;
                if let Some((path, name, _)) = &ledger {
                    keep(path, &dir.join(name))?;
                }
                Ok(key)
            }
            EvidenceStore::S3(s3) => {
                s3.put_once(&key, bundle, sha256).await?;
                if let Some((path, name, digest)) = &ledger {
                    s3.put_once(name, path, digest).await?;
                }
                Ok(format!("{s3:?}/{key}"))
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
