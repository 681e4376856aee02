//! [`BundleSource`]: a verified bundle as a read-only [`Source`], answering every question
//! from the manifest exactly as the collected host answered it at collection time.

use crate::EvidenceError;
use crate::capture::{bytes_path, entries_out, replay_error};
use crate::manifest::{FileMeta, Item, Manifest};
use crate::read::Verdict;
use firewarden_model::{SourceInfo, Timestamp};
use firewarden_source::{DirEntry, Metadata, Source, SourceError};
use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// An opened, verified bundle.
pub struct BundleSource {
    location: String,
    manifest: Manifest,
    index: HashMap<PathBuf, usize>,
    /// Extracted member bytes, by member name.
    kept: HashMap<String, PathBuf>,
    _dir: tempfile::TempDir,
    // Removes the extraction on an interrupt too.
    _cleanup: crate::cleanup::Registered,
    verdict: Verdict,
}

impl BundleSource {
    /// Opens and verifies a bundle, extracting its content into a private temporary directory.
    /// A bundle that fails verification is refused: findings from tampered evidence are worthless.
    pub fn open(
        path: &Path,
        identities: &[age::x25519::Identity],
        pinned: Option<&crate::PublicKey>,
    ) -> Result<Self, EvidenceError> {
        let dir = tempfile::Builder::new()
            .prefix("firewarden-bundle-")
            // Owner-only: it holds /etc/shadow, keys and decrypted contents.
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .map_err(|e| EvidenceError::Io(format!("cannot make a temporary directory: {e}")))?;
        let cleanup = crate::cleanup::register(dir.path());
        // The same whole-bundle check as `verify`: members, signature, container hash and
        // custody ledger. Anything short of intact is refused (and the extraction removed).
        let (s, checked) =
            crate::verify::verify_bundle(path, identities, pinned, Some(dir.path()))?;
        if !checked.intact() {
            return Err(EvidenceError::Tampered(checked.problems));
        }
        let mut verdict = checked.verdict;
        let manifest = verdict
            .manifest
            .take()
            .expect("checked bundles have a manifest");
        let kept = s
            .members
            .into_iter()
            .filter_map(|m| Some((m.name, m.kept?)))
            .collect();
        let index = manifest
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| (item.path_buf(), i))
            .collect();
        Ok(BundleSource {
            location: path.display().to_string(),
            manifest,
            index,
            kept,
            _dir: dir,
            _cleanup: cleanup,
            verdict,
        })
    }

    /// The bundle's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The verification result (always clean for an opened bundle).
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// When collection started: triage of the bundle treats it as "now".
    pub fn collected_at(&self) -> Option<Timestamp> {
        crate::manifest::parse_rfc3339_ns(&self.manifest.header.started).map(|(t, _)| t)
    }

    fn item(&self, path: &Path) -> Option<&Item> {
        self.index.get(path).map(|&i| &self.manifest.items[i])
    }
}

fn not_found(path: &Path) -> SourceError {
    SourceError::NotFound {
        path: path.to_path_buf(),
    }
}

fn meta(path: &Path, m: &FileMeta) -> Result<Metadata, SourceError> {
    m.to_meta().ok_or_else(|| SourceError::Io {
        path: path.to_path_buf(),
        source: io::Error::other("malformed metadata in the manifest"),
    })
}

impl Source for BundleSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            kind: "bundle".into(),
            location: self.location.clone(),
            hostname: self.manifest.header.host.hostname.clone(),
            zone: None,
        }
    }

    fn is_live(&self) -> bool {
        false
    }

    fn open(&self, path: &Path) -> Result<Box<dyn Read + Send>, SourceError> {
        let item = self.item(path).ok_or_else(|| not_found(path))?;
        if let Some(e) = item.errors.iter().find(|e| e.op == "open") {
            return Err(replay_error(path, e));
        }
        let Some(content) = &item.content else {
            return Err(not_found(path));
        };
        let Some(member) = &content.member else {
            return Err(SourceError::Io {
                path: path.to_path_buf(),
                source: io::Error::other(
                    content
                        .note
                        .clone()
                        .unwrap_or_else(|| "content not collected".into()),
                ),
            });
        };
        let kept = self.kept.get(member).ok_or_else(|| not_found(path))?;
        let f = std::fs::File::open(kept).map_err(|e| SourceError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Ok(Box::new(f))
    }

    fn metadata(&self, path: &Path) -> Result<Metadata, SourceError> {
        let item = self.item(path).ok_or_else(|| not_found(path))?;
        if let Some(m) = &item.stat {
            return meta(path, m);
        }
        if let Some(e) = item.errors.iter().find(|e| e.op == "stat") {
            return Err(replay_error(path, e));
        }
        match &item.lstat {
            Some(m) if m.kind != "symlink" => meta(path, m),
            _ => Err(not_found(path)),
        }
    }

    fn symlink_metadata(&self, path: &Path) -> Result<Metadata, SourceError> {
        let item = self.item(path).ok_or_else(|| not_found(path))?;
        if let Some(m) = &item.lstat {
            return meta(path, m);
        }
        match item.errors.iter().find(|e| e.op == "lstat") {
            Some(e) => Err(replay_error(path, e)),
            None => Err(not_found(path)),
        }
    }

    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>, SourceError> {
        let item = self.item(path).ok_or_else(|| not_found(path))?;
        if let Some(entries) = &item.entries {
            return Ok(entries_out(entries));
        }
        match item.errors.iter().find(|e| e.op == "readdir") {
            Some(e) => Err(replay_error(path, e)),
            None => Err(not_found(path)),
        }
    }

    fn read_dir_meta(&self, path: &Path) -> Result<Vec<(DirEntry, Metadata)>, SourceError> {
        Ok(self
            .read_dir(path)?
            .into_iter()
            .filter_map(|e| {
                let m = self.symlink_metadata(&path.join(&e.name)).ok()?;
                Some((e, m))
            })
            .collect())
    }

    fn read_link(&self, path: &Path) -> Result<PathBuf, SourceError> {
        let item = self.item(path).ok_or_else(|| not_found(path))?;
        if let Some(l) = &item.link {
            return Ok(bytes_path(l.bytes()));
        }
        if let Some(e) = item.errors.iter().find(|e| e.op == "readlink") {
            return Err(replay_error(path, e));
        }
        match &item.lstat {
            Some(m) if m.kind != "symlink" => Err(SourceError::Io {
                path: path.to_path_buf(),
                source: io::Error::from_raw_os_error(libc::EINVAL),
            }),
            _ => Err(not_found(path)),
        }
    }

    fn xattr(&self, path: &Path, name: &str) -> Result<Option<Vec<u8>>, SourceError> {
        let Some(item) = self.item(path) else {
            return Ok(None);
        };
        if let Some(e) = item.errors.iter().find(|e| e.op == "xattr") {
            return Err(replay_error(path, e));
        }
        Ok(item
            .xattrs
            .get(name)
            .and_then(|v| v.as_deref())
            .and_then(crate::encoding::unhex))
    }
}
