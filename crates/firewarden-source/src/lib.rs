//! One read-only filesystem view over whatever is being analysed — the live host, a mounted
//! image (`--root DIR`), or, later, an evidence bundle — so every check runs the same on all.
//!
//! The [`Source`] trait has no write methods: analysis cannot change what it analyses. Paths are
//! always paths *inside* the source (`/etc/passwd`), never host paths of a mount point.
//!
//! ```
//! use firewarden_source::{FsSource, Source, read_text};
//! use std::path::Path;
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::create_dir(dir.path().join("etc")).unwrap();
//! std::fs::write(dir.path().join("etc/hostname"), "web01\n").unwrap();
//! // An attacker's absolute symlink stays inside the analysed root.
//! std::os::unix::fs::symlink("/etc/hostname", dir.path().join("etc/alias")).unwrap();
//!
//! let src = FsSource::root(dir.path()).unwrap();
//! assert_eq!(read_text(&src, Path::new("/etc/alias"), 1024).unwrap().trim(), "web01");
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod fs;
mod meta;
pub mod spelling;
mod walk;

pub use error::SourceError;
pub use fs::{FsSource, open_read_only};
pub use meta::{DirEntry, FileKind, Metadata};
pub use walk::{
    Brief, Tree, TreeEntries, WalkEntry, WalkOptions, WalkResult, walk, walk_parallel, walk_tree,
};

use firewarden_model::SourceInfo;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// A read-only view of an analysed system. Implementations never write and never read outside
/// what they represent.
pub trait Source: Send + Sync {
    /// What this source is, for the report header.
    fn info(&self) -> SourceInfo;
    /// True when `/proc` is the running kernel's own (live response).
    fn is_live(&self) -> bool;
    /// Opens a regular file for streaming, following symlinks inside the source.
    fn open(&self, path: &Path) -> Result<Box<dyn Read + Send>, SourceError>;
    /// Metadata, following symlinks inside the source.
    fn metadata(&self, path: &Path) -> Result<Metadata, SourceError>;
    /// Metadata of the path itself, not following a final symlink.
    fn symlink_metadata(&self, path: &Path) -> Result<Metadata, SourceError>;
    /// Directory entries sorted by name; entries that vanish while listing are left out.
    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>, SourceError>;
    /// The raw target of a symlink (as stored, never resolved).
    fn read_link(&self, path: &Path) -> Result<PathBuf, SourceError>;
    /// An extended attribute of the path itself (symlinks not followed), e.g.
    /// `security.capability`; `None` when it is not set or the source records none.
    fn xattr(&self, _path: &Path, _name: &str) -> Result<Option<Vec<u8>>, SourceError> {
        Ok(None)
    }
    /// Directory entries with each entry's own metadata (symlinks not followed); entries that
    /// vanish meanwhile are left out. Sources override this when they can do it cheaply.
    fn read_dir_meta(&self, path: &Path) -> Result<Vec<(DirEntry, Metadata)>, SourceError> {
        Ok(self
            .read_dir(path)?
            .into_iter()
            .filter_map(|e| {
                self.symlink_metadata(&path.join(&e.name))
                    .ok()
                    .map(|m| (e, m))
            })
            .collect())
    }
}

/// Reads at most `cap` bytes of a file; the flag says whether the file was longer.
pub fn read_capped(
    src: &dyn Source,
    path: &Path,
    cap: u64,
) -> Result<(Vec<u8>, bool), SourceError> {
    let reader = src.open(path)?;
    let mut buf = Vec::new();
    reader
        .take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| SourceError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
    let truncated = buf.len() as u64 > cap;
    buf.truncate(cap as usize);
    Ok((buf, truncated))
}

/// Reads at most `cap` bytes of a file as text; invalid UTF-8 is replaced, never an error.
pub fn read_text(src: &dyn Source, path: &Path, cap: u64) -> Result<String, SourceError> {
    read_capped(src, path, cap).map(|(b, _)| String::from_utf8_lossy(&b).into_owned())
}

/// Opens a file for buffered streaming and transparently decompresses gzip (rotated logs such
/// as `auth.log.2.gz`), recognised by its magic bytes rather than its name. Decompressed output
/// is capped by [`inflate_cap`]: past it the reader fails with an error naming the cap (a
/// compression bomb), after everything up to the cap was read.
pub fn open_decompressed(
    src: &dyn Source,
    path: &Path,
) -> Result<Box<dyn BufRead + Send>, SourceError> {
    let compressed = src.metadata(path).map(|m| m.size).unwrap_or(0);
    let mut reader = BufReader::with_capacity(256 * 1024, src.open(path)?);
    let head = reader.fill_buf().map_err(|e| SourceError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::bufread::MultiGzDecoder::new(reader);
        let capped = CappedReader::new(
            gz,
            inflate_cap(compressed),
            "the decompressed log, capped at 200 times the file's size,",
        );
        return Ok(Box::new(BufReader::with_capacity(256 * 1024, capped)));
    }
    Ok(Box::new(reader))
}

/// Most bytes a compressed file of `compressed` bytes may inflate to: 200 times its size (text
/// logs compress 5 to 20 times; a bomb, a thousand), at least 1 GiB, at most 16 GiB.
pub fn inflate_cap(compressed: u64) -> u64 {
    compressed.saturating_mul(200).clamp(1 << 30, 16 << 30)
}

/// Ends a stream with an error once it passes `cap` bytes (after handing out everything up to
/// the cap): what bounds decompression bombs wherever a compressed stream is read.
pub struct CappedReader<R> {
    inner: R,
    left: u64,
    cap: u64,
    what: &'static str,
}

impl<R: Read> CappedReader<R> {
    /// Wraps `inner`; `what` names the stream and why it is capped, for the error.
    pub fn new(inner: R, cap: u64, what: &'static str) -> Self {
        CappedReader {
            inner,
            left: cap,
            cap,
            what,
        }
    }
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // Only an error if there is more to come.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(format!(
                    "{} goes past {} bytes (a compression bomb?); the rest was not read",
                    self.what, self.cap
                ))),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Names of compressed formats that Firewarden recognises but cannot read yet.
pub fn unsupported_compression(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"BZh") {
        Some("bzip2")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some("xz")
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd")
    } else {
        None
    }
}

/// Reverses [`display_path`]: `\xNN` becomes the byte again and escaped control characters
/// (`\n`, `\t`, `\r`, `\u{…}`) the character, so that a finding about a file with a hostile
/// name can still name the file. `None` on a malformed escape. (A name that really contains
/// `\x41` reads back as `A`: callers try the text as it stands first.)
pub fn undisplay_path(text: &str) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next()? {
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(
                    u8::from_str_radix(&hex, 16)
                        .ok()
                        .filter(|_| hex.len() == 2)?,
                );
            }
            'n' => out.push(b'\n'),
            't' => out.push(b'\t'),
            'r' => out.push(b'\r'),
            'u' => {
                if chars.next()? != '{' {
                    return None;
                }
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let c = char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            _ => return None,
        }
    }
    Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
}

/// Shows a source path for humans: non-UTF-8 bytes are escaped as `\xNN`, control characters
/// escaped, so a hostile file name cannot forge terminal output.
pub fn display_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod display_tests {
    use super::*;
    use proptest::prelude::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn hostile_names_read_back() {
        let name = Path::new(std::ffi::OsStr::from_bytes(b"/var/www/sh\xffell\n\x1b.php"));
        let shown = display_path(name);
        assert_eq!(shown, "/var/www/sh\\xffell\\n\\u{1b}.php");
        assert_eq!(undisplay_path(&shown).unwrap(), name);
        assert!(undisplay_path("bad\\q").is_none());
        assert!(undisplay_path("bad\\x4").is_none());
    }

    proptest! {
        #[test]
        fn display_then_undisplay_gives_the_bytes_back(bytes in proptest::collection::vec(any::<u8>().prop_filter("no backslash", |b| *b != b'\\'), 0..80)) {
            let path = Path::new(std::ffi::OsStr::from_bytes(&bytes));
            prop_assert_eq!(undisplay_path(&display_path(path)).unwrap(), path);
        }
    }
}

#[cfg(test)]
mod inflate_tests {
    use super::*;

    #[test]
    fn a_compression_bomb_stops_at_its_cap_with_an_error_naming_it() {
        let zeros = std::io::repeat(0).take(10_000);
        let mut capped = CappedReader::new(zeros, 4096, "the test stream");
        let mut out = Vec::new();
        let err = capped.read_to_end(&mut out).unwrap_err();
        assert_eq!(out.len(), 4096);
        assert!(err.to_string().contains("past 4096 bytes"), "{err}");
        // Exactly at the cap is no error.
        let mut exact = CappedReader::new(std::io::repeat(0).take(4096), 4096, "the test stream");
        assert_eq!(exact.read_to_end(&mut Vec::new()).unwrap(), 4096);
        assert_eq!(inflate_cap(1 << 20), 1 << 30);
        assert_eq!(inflate_cap(20 << 20), 4_000 << 20);
        assert_eq!(inflate_cap(u64::MAX), 16 << 30);
    }
}
