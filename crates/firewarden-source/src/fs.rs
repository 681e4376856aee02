//! A source backed by a directory of the machine Firewarden runs on: `/` for the live host,
//! or the mount point of an image. Paths are resolved component by component so that absolute
//! symlinks land inside the root and `..` never climbs above it.

use crate::{DirEntry, FileKind, Metadata, Source, SourceError};
use firewarden_model::SourceInfo;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// Linux allows 40 symlink hops per lookup; we do the same.
const MAX_SYMLINK_HOPS: usize = 40;

/// A read-only view of a directory tree, confined to that tree.
#[derive(Debug, Clone)]
pub struct FsSource {
    root: PathBuf,
    live: bool,
}

impl FsSource {
    /// The live host: `/` with its `/proc`.
    pub fn live() -> Self {
        FsSource {
            root: PathBuf::from("/"),
            live: true,
        }
    }

    /// A mounted image or extracted tree; nothing outside `root` is ever read.
    pub fn root(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = std::fs::canonicalize(root.into())?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "root is not a directory",
            ));
        }
        Ok(FsSource {
            live: root == Path::new("/"),
            root,
        })
    }

    /// The directory this source is confined to (`/` for the live host).
    pub fn root_dir(&self) -> &Path {
        &self.root
    }

    /// Maps a path inside the source to the host path that holds it, confined to the root:
    /// symlinks on the way are followed inside the root (an absolute target restarts at the
    /// root, `..` never climbs above it); the last component is followed only when
    /// `follow_last` is true. Response actions use this to change exactly the file a finding
    /// names, never one outside the acted-on root.
    pub fn host_path(&self, path: &Path, follow_last: bool) -> Result<PathBuf, SourceError> {
        self.resolve(path, follow_last)
    }

    /// Maps a path inside the source to the host path that holds it, without following the
    /// last component when `follow_last` is false.
    fn resolve(&self, path: &Path, follow_last: bool) -> Result<PathBuf, SourceError> {
        let mut stack: Vec<OsString> = Vec::new();
        let mut queue: VecDeque<OsString> = VecDeque::new();
        push_components(&mut queue, path);
        let mut hops = 0;
        while let Some(name) = queue.pop_front() {
            if name == ".." {
                stack.pop();
                continue;
            }
            if name.is_empty() {
                // Marker of an absolute symlink target: restart at the root.
                stack.clear();
                continue;
            }
            let is_last = queue.is_empty();
            stack.push(name);
            if is_last && !follow_last {
                break;
            }
            let host = self.joined(&stack);
            let meta = match std::fs::symlink_metadata(&host) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(SourceError::NotFound {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) => return Err(SourceError::io(path, e)),
            };
            if meta.file_type().is_symlink() {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(SourceError::SymlinkLoop {
                        path: path.to_path_buf(),
                    });
                }
                let target = std::fs::read_link(&host).map_err(|e| SourceError::io(path, e))?;
                stack.pop();
                let mut front = VecDeque::new();
                push_components(&mut front, &target);
                if target.is_absolute() {
                    front.push_front(OsString::new());
                }
                while let Some(c) = front.pop_back() {
                    queue.push_front(c);
                }
            }
        }
        Ok(self.joined(&stack))
    }

    fn joined(&self, stack: &[OsString]) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(stack);
        p
    }
}

fn push_components(queue: &mut VecDeque<OsString>, path: &Path) {
    for c in path.components() {
        match c {
            Component::RootDir | Component::Prefix(_) => {}
            Component::CurDir => {}
            Component::ParentDir => queue.push_back(OsString::from("..")),
            Component::Normal(n) => queue.push_back(n.to_os_string()),
        }
    }
}

/// Opens a file of the machine Firewarden runs on for reading evidence: without following a
/// final symlink, without updating its access time where the kernel allows, and without
/// blocking on a FIFO.
pub fn open_read_only(host: &Path) -> io::Result<File> {
    // O_NOFOLLOW: the last component was resolved by us; a swapped-in symlink must not be
    // followed. O_NONBLOCK: a FIFO planted in a log directory must not hang the run.
    let base = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
    match OpenOptions::new()
        .read(true)
        .custom_flags(base | libc::O_NOATIME)
        .open(host)
    {
        // O_NOATIME is refused on files we do not own without CAP_FOWNER: read anyway.
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            OpenOptions::new().read(true).custom_flags(base).open(host)
        }
        other => other,
    }
}

impl Source for FsSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            kind: if self.live { "live" } else { "root" }.to_string(),
            location: self.root.display().to_string(),
            hostname: None,
            zone: None,
        }
    }

    fn is_live(&self) -> bool {
        self.live
    }

    fn open(&self, path: &Path) -> Result<Box<dyn Read + Send>, SourceError> {
        let host = self.resolve(path, true)?;
        let meta = std::fs::symlink_metadata(&host).map_err(|e| SourceError::io(path, e))?;
        if !meta.file_type().is_file() {
            return Err(SourceError::WrongKind {
                path: path.to_path_buf(),
                what: "not a regular file",
            });
        }
        let file = open_read_only(&host).map_err(|e| SourceError::io(path, e))?;
        Ok(Box::new(file))
    }

    fn metadata(&self, path: &Path) -> Result<Metadata, SourceError> {
        let host = self.resolve(path, true)?;
        std::fs::symlink_metadata(&host)
            .map(|m| Metadata::from_std(&m))
            .map_err(|e| SourceError::io(path, e))
    }

    fn symlink_metadata(&self, path: &Path) -> Result<Metadata, SourceError> {
        let host = self.resolve(path, false)?;
        std::fs::symlink_metadata(&host)
            .map(|m| Metadata::from_std(&m))
            .map_err(|e| SourceError::io(path, e))
    }

    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>, SourceError> {
        let host = self.resolve(path, true)?;
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&host).map_err(|e| SourceError::io(path, e))? {
            // A file vanishing mid-listing (a /proc pid exiting) is not an error for the listing.
            let Ok(entry) = entry else { continue };
            let kind = match entry.file_type() {
                Ok(ft) => kind_of(ft),
                Err(_) => continue,
            };
            out.push(DirEntry {
                name: entry.file_name(),
                kind,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read_link(&self, path: &Path) -> Result<PathBuf, SourceError> {
        let host = self.resolve(path, false)?;
        std::fs::read_link(&host).map_err(|e| SourceError::io(path, e))
    }

    fn xattr(&self, path: &Path, name: &str) -> Result<Option<Vec<u8>>, SourceError> {
        let host = self.resolve(path, false)?;
        let mut buf = vec![0u8; 4096];
        match rustix::fs::lgetxattr(&host, name, &mut buf[..]) {
            Ok(n) => {
                buf.truncate(n);
                Ok(Some(buf))
            }
            // Not set, or a filesystem without extended attributes.
            Err(rustix::io::Errno::NODATA) | Err(rustix::io::Errno::NOTSUP) => Ok(None),
            Err(e) => Err(SourceError::io(path, e.into())),
        }
    }

    fn read_dir_meta(&self, path: &Path) -> Result<Vec<(DirEntry, Metadata)>, SourceError> {
        // The directory is resolved once; each entry is a single name inside it, and lstat
        // never follows it, so no per-entry resolution is needed.
        let host = self.resolve(path, true)?;
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&host).map_err(|e| SourceError::io(path, e))? {
            let Ok(entry) = entry else { continue };
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
                continue;
            };
            let meta = Metadata::from_std(&meta);
            out.push((
                DirEntry {
                    name: entry.file_name(),
                    kind: meta.kind,
                },
                meta,
            ));
        }
        out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(out)
    }
}

fn kind_of(ft: std::fs::FileType) -> FileKind {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_symlink() {
        FileKind::Symlink
    } else if ft.is_dir() {
        FileKind::Dir
    } else if ft.is_char_device() {
        FileKind::CharDevice
    } else if ft.is_block_device() {
        FileKind::BlockDevice
    } else if ft.is_fifo() {
        FileKind::Fifo
    } else if ft.is_socket() {
        FileKind::Socket
    } else {
        FileKind::File
    }
}
