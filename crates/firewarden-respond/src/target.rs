//! The system acted on: the live host (`/`) or a root directory (a throwaway root in tests, a
//! mounted disk being cleaned offline). Every path is resolved inside the root, so a symlink
//! planted by the attacker never sends a change outside it.

use crate::{Error, Result};
use firewarden_model::action::FileState;
use firewarden_source::{FsSource, Source, open_read_only};
use sha2::Digest;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Largest file whose content an edit reads into memory (configuration files, crontabs).
pub const EDIT_LIMIT: u64 = 16 << 20;

/// The acted-on system.
#[derive(Debug, Clone)]
pub struct Target {
    src: FsSource,
}

impl Target {
    /// The live host.
    pub fn live() -> Target {
        Target {
            src: FsSource::live(),
        }
    }

    /// A root directory (`/` gives the live host).
    pub fn root(dir: &Path) -> Result<Target> {
        let src = FsSource::root(dir).map_err(|e| Error::io(dir, e))?;
        Ok(Target { src })
    }

    /// True for the running system (processes, firewall and kernel settings can be acted on).
    pub fn is_live(&self) -> bool {
        self.src.is_live()
    }

    /// The root directory.
    pub fn root_dir(&self) -> &Path {
        self.src.root_dir()
    }

    /// The read-only view used to re-run checks.
    pub fn source(&self) -> &FsSource {
        &self.src
    }

    /// The path a finding's text names. Findings print hostile names escaped (`\xff`,
    /// `\n`, see [`firewarden_source::display_path`]); the text is tried as it stands first,
    /// then unescaped.
    fn inner(&self, path: &str) -> PathBuf {
        if path.contains('\\')
            && self.src.symlink_metadata(Path::new(path)).is_err()
            && let Some(raw) = firewarden_source::undisplay_path(path)
        {
            return raw;
        }
        PathBuf::from(path)
    }

    /// Host path of `path` inside the root; the last component is not followed.
    pub fn host_path(&self, path: &str) -> Result<PathBuf> {
        self.src
            .host_path(&self.inner(path), false)
            .map_err(|e| Error::Io(e.to_string()))
    }

    /// Host name: `/proc/sys/kernel/hostname` on the live host, `/etc/hostname` otherwise.
    pub fn hostname(&self) -> String {
        let from = |p: &str| {
            firewarden_source::read_text(&self.src, Path::new(p), 256)
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        };
        let name = if self.is_live() {
            from("/proc/sys/kernel/hostname").or_else(|| from("/etc/hostname"))
        } else {
            from("/etc/hostname")
        };
        name.unwrap_or_else(|| "unknown-host".to_string())
    }

    /// Reads a regular file (not following a final symlink), with its state. Refuses files
    /// larger than `limit`.
    pub fn read_file(&self, path: &str, limit: u64) -> Result<(FileState, Vec<u8>)> {
        let host = self.host_path(path)?;
        let file = open_read_only(&host).map_err(|e| gone_or_io(path, &host, e))?;
        let meta = file.metadata().map_err(|e| Error::io(&host, e))?;
        if !meta.is_file() {
            return Err(Error::Refused(format!("{path} is not a regular file")));
        }
        if meta.len() > limit {
            return Err(Error::Refused(format!(
                "{path} is {} bytes, more than the {limit} an edit reads",
                meta.len()
            )));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        (&file)
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(&host, e))?;
        let mut state = file_state(&meta);
        state.size = bytes.len() as u64;
        state.sha256 = crate::state::sha256_hex(&bytes);
        Ok((state, bytes))
    }

    /// The state of a regular file, hashed as a stream (any size); `None` when nothing is
    /// there.
    pub fn state_of(&self, path: &str) -> Result<Option<FileState>> {
        if !self.exists(path) {
            return Ok(None);
        }
        let (file, meta) = self.open_file(path)?;
        hashed(path, file, &meta).map(Some)
    }

    /// Opens a regular file for streaming into the vault (quarantine of files of any size).
    pub fn open_file(&self, path: &str) -> Result<(File, std::fs::Metadata)> {
        let host = self.host_path(path)?;
        let file = open_read_only(&host).map_err(|e| gone_or_io(path, &host, e))?;
        let meta = file.metadata().map_err(|e| Error::io(&host, e))?;
        if !meta.is_file() {
            return Err(Error::Refused(format!("{path} is not a regular file")));
        }
        Ok((file, meta))
    }

    /// Access and modification times (ns) of the directory that holds `path`.
    pub fn parent_times(&self, path: &str) -> Option<[i64; 2]> {
        let host = self.host_path(path).ok()?;
        let meta = std::fs::symlink_metadata(host.parent()?).ok()?;
        let st = file_state(&meta);
        Some([st.atime_ns, st.mtime_ns])
    }

    /// Whether `path` exists inside the root (not following a final symlink).
    pub fn exists(&self, path: &str) -> bool {
        self.src.symlink_metadata(&self.inner(path)).is_ok()
    }

    /// Reads a small text file inside the root, or `None`.
    pub fn text(&self, path: &str) -> Option<String> {
        firewarden_source::read_text(&self.src, &self.inner(path), EDIT_LIMIT).ok()
    }
}

/// A file that is not there (any more) is drift, not an I/O failure: the finding's foothold
/// may have been removed by an earlier action.
fn gone_or_io(path: &str, host: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::Drift(format!("{path} is gone"))
    } else {
        Error::io(host, e)
    }
}

/// The state of an opened file: its metadata, and its content hashed as a stream.
pub fn hashed(path: &str, mut file: File, meta: &std::fs::Metadata) -> Result<FileState> {
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::Io(format!("{path}: {e}")))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    let mut state = file_state(meta);
    state.sha256 = firewarden_evidence::encoding::hex(&hasher.finalize());
    state.size = size;
    Ok(state)
}

/// The metadata part of a [`FileState`] (hash and size are filled by the caller).
pub fn file_state(meta: &std::fs::Metadata) -> FileState {
    FileState {
        sha256: String::new(),
        size: meta.len(),
        uid: meta.uid(),
        gid: meta.gid(),
        mode: meta.mode() & 0o7777,
        atime_ns: meta
            .atime()
            .saturating_mul(1_000_000_000)
            .saturating_add(meta.atime_nsec()),
        mtime_ns: meta
            .mtime()
            .saturating_mul(1_000_000_000)
            .saturating_add(meta.mtime_nsec()),
    }
}
