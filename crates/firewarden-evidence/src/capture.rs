//! A [`Source`] wrapper that records every answer it gives — metadata, listings, link targets,
//! attributes, errors — and keeps a copy of every file opened through it. Everything the
//! triage catalogue reads therefore lands in the bundle, and a later replay of the bundle gives
//! the same answers (see [`crate::BundleSource`]). Repeated questions are answered from the
//! record, so the whole run sees one consistent snapshot even while the live host changes.

use crate::encoding::hex;
use crate::manifest::{Entry, FileMeta, Item, ItemError, Name, kind_to_name};
use crate::records::{Listing, Meta, Partial, Records, Stored};
use firewarden_model::SourceInfo;
use firewarden_source::{DirEntry, FileKind, Metadata, Source, SourceError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The manifest item of record `i`, as the bundle holds it.
fn to_item(records: &Records, i: usize) -> Item {
    let mut item = Item::new(&records.path(i));
    item.lstat = records.lstat(i).map(|m| FileMeta::from_meta(&m.meta));
    item.content = records.content(i).map(Stored::to_content);
    if let Some(more) = records.more(i) {
        item.stat = more.stat.as_ref().map(|m| FileMeta::from_meta(&m.meta));
        item.link = more
            .link
            .as_ref()
            .map(|t| Name::from_bytes(t.as_os_str().as_bytes()));
        item.entries = more.entries.as_ref().map(|l| {
            l.iter()
                .map(|(kind, name)| Entry {
                    name: Name::from_bytes(name.as_bytes()),
                    kind: kind_to_name(kind).to_string(),
                })
                .collect()
        });
        item.xattrs = more
            .xattrs
            .iter()
            .map(|(k, v)| (k.clone(), v.as_deref().map(hex)))
            .collect();
        item.errors = more.errors.clone();
    }
    item
}

/// Size limits for stored content.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Most bytes stored per file; larger files keep their first `max_file` bytes.
    pub max_file: u64,
    /// Most bytes stored in total; beyond it files are listed with their metadata only.
    pub max_total: u64,
}

/// One version of a file: device, inode, size, modification time.
type FileVersion = (u64, u64, u64, i64);

struct State {
    /// Every path answered for, with what was answered.
    records: Records,
    /// Spool file number by content hash, so identical bytes are stored once.
    by_hash: HashMap<[u8; 32], u32>,
    /// Hashes of executables already hashed (by dev, inode, size, mtime): many processes run
    /// the same binary, and each is read once.
    hashed: HashMap<FileVersion, (u64, [u8; 32])>,
    /// Notes for the collector log: (step, detail).
    notes: Vec<(String, String)>,
    next_blob: u32,
}

impl State {
    fn new(spool: &Path) -> State {
        State {
            records: Records::new(spool),
            by_hash: HashMap::new(),
            hashed: HashMap::new(),
            notes: Vec::new(),
            next_blob: 0,
        }
    }
}

/// What a capture produced: every path looked at in first-seen order, their spooled content,
/// and notes. The manifest items are made one at a time ([`Captured::item`]) as the bundle is
/// written, never all at once.
pub struct Captured {
    records: Records,
    spool: PathBuf,
    /// (step, detail) notes for the collector log: skips, truncations, unreadable files.
    pub notes: Vec<(String, String)>,
}

impl Captured {
    /// How many paths were recorded.
    pub fn len(&self) -> usize {
        self.records.len()
    }
    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.records.len() == 0
    }
    /// How many paths have read errors.
    pub fn unreadable(&self) -> usize {
        self.records.with_errors()
    }
    /// The path of item `i`.
    pub fn path(&self, i: usize) -> PathBuf {
        self.records.path(i)
    }
    /// Bytes recorded as item `i`'s content (stored, or only hashed), when it has any.
    pub fn content_size(&self, i: usize) -> Option<u64> {
        self.records.content(i).map(|c| c.size)
    }
    /// Item `i` as the manifest holds it.
    pub fn item(&self, i: usize) -> Item {
        to_item(&self.records, i)
    }
    /// The spool file holding each stored item's content, by item index in order. Items
    /// with identical content share one file.
    pub fn blobs(&self) -> impl Iterator<Item = (usize, PathBuf)> + '_ {
        (0..self.len()).filter_map(|i| {
            let blob = self.records.content(i)?.blob?;
            Some((i, blob_path(&self.spool, blob)))
        })
    }
}

/// The recording, copying source.
pub struct Capture<'a> {
    inner: &'a dyn Source,
    shared: Arc<Shared>,
    spool: PathBuf,
    caps: Caps,
    exclude: Vec<PathBuf>,
}

/// State that readers handed out by `open` update when they finish.
struct Shared {
    state: Mutex<State>,
    stored: AtomicU64,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Passes a file's bytes to the analysis while copying and hashing exactly those bytes into
/// the spool; when dropped, records them as the item's content (a prefix when the analysis
/// stopped early, which is what a replay will then serve).
struct Tee {
    inner: std::io::Take<Box<dyn Read + Send>>,
    out: Option<io::BufWriter<File>>,
    blob: PathBuf,
    blob_no: u32,
    hash: Sha256,
    n: u64,
    eof: bool,
    failed: bool,
    file_size: u64,
    at_cap: bool,
    path: PathBuf,
    shared: Arc<Shared>,
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = match self.inner.read(buf) {
            Ok(k) => k,
            Err(e) => {
                self.failed = true;
                return Err(e);
            }
        };
        if k == 0 {
            self.eof = true;
            self.at_cap = self.inner.limit() == 0;
            return Ok(0);
        }
        self.hash.update(&buf[..k]);
        self.n += k as u64;
        if let Some(o) = self.out.as_mut()
            && o.write_all(&buf[..k]).is_err()
        {
            self.failed = true;
            self.out = None;
        }
        Ok(k)
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        let ok = !self.failed && self.out.take().is_some_and(|mut o| o.flush().is_ok());
        if !ok {
            let _ = std::fs::remove_file(&self.blob);
            return;
        }
        let complete = self.eof && !self.at_cap;
        let sha: [u8; 32] = std::mem::take(&mut self.hash).finalize().into();
        let shared = self.shared.clone();
        let mut st = shared.lock();
        let i = st.records.item(&self.path);
        let better = match st.records.content(i) {
            Some(c) if c.blob.is_some() => c.truncated_from.is_some() && self.n > c.size,
            _ => true,
        };
        if !better {
            drop(st);
            let _ = std::fs::remove_file(&self.blob);
            return;
        }
        // A replaced spool file stays: other items with the same bytes may share it.
        self.shared.stored.fetch_add(self.n, Ordering::Relaxed);
        let kept = match st.by_hash.get(&sha) {
            Some(&same) => {
                let _ = std::fs::remove_file(&self.blob);
                self.shared.stored.fetch_sub(self.n, Ordering::Relaxed);
                same
            }
            None => {
                st.by_hash.insert(sha, self.blob_no);
                self.blob_no
            }
        };
        let content = Stored {
            size: self.n,
            sha256: sha,
            truncated_from: (!complete).then_some(self.file_size.max(self.n + 1)),
            why: if complete {
                Partial::Whole
            } else if self.at_cap {
                Partial::SizeCap
            } else {
                Partial::Prefix
            },
            blob: Some(kept),
            settled: complete || self.at_cap,
        };
        let note = content.note();
        st.records.set_content(i, content);
        if self.at_cap {
            st.notes.push((
                "truncated".into(),
                format!(
                    "{}: {}",
                    firewarden_source::display_path(&self.path),
                    note.unwrap_or_default()
                ),
            ));
        }
    }
}

/// Error kinds as recorded in the manifest.
pub fn error_record(op: &str, e: &SourceError) -> ItemError {
    let (kind, message) = match e {
        SourceError::SymlinkLoop { .. } => ("symlink-loop", e.to_string()),
        SourceError::WrongKind { what, .. } => ("wrong-kind", what.to_string()),
        SourceError::Io { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
            ("permission-denied", source.to_string())
        }
        SourceError::Io { source, .. } => ("io", source.to_string()),
        other => ("io", other.to_string()),
    };
    ItemError {
        op: op.to_string(),
        kind: kind.to_string(),
        message,
    }
}

/// The error a recorded failure stands for, so a replay fails the way the original did.
pub fn replay_error(path: &Path, e: &ItemError) -> SourceError {
    let path = path.to_path_buf();
    match e.kind.as_str() {
        "symlink-loop" => SourceError::SymlinkLoop { path },
        "wrong-kind" => SourceError::WrongKind {
            path,
            what: "not a regular file",
        },
        "permission-denied" => SourceError::Io {
            path,
            source: io::Error::new(io::ErrorKind::PermissionDenied, e.message.clone()),
        },
        _ => SourceError::Io {
            path,
            source: io::Error::other(e.message.clone()),
        },
    }
}

fn recorded_error(records: &Records, i: usize, op: &str) -> Option<ItemError> {
    records.errors(i).iter().find(|e| e.op == op).cloned()
}

impl<'a> Capture<'a> {
    /// Wraps `inner`; content is spooled under `spool` (a private directory outside the
    /// source). Paths under `exclude` (the collector's own output) are invisible.
    pub fn new(inner: &'a dyn Source, spool: &Path, caps: Caps, exclude: Vec<PathBuf>) -> Self {
        Capture {
            inner,
            shared: Arc::new(Shared {
                state: Mutex::new(State::new(spool)),
                stored: AtomicU64::new(0),
            }),
            spool: spool.to_path_buf(),
            caps,
            exclude,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.lock()
    }

    fn excluded(&self, path: &Path) -> bool {
        self.exclude.iter().any(|x| path.starts_with(x))
    }

    fn note(&self, step: &str, detail: String) {
        self.lock().notes.push((step.to_string(), detail));
    }

    fn record_error(&self, path: &Path, op: &str, e: &SourceError) {
        if e.is_not_found() {
            return;
        }
        let rec = error_record(op, e);
        self.note(
            "unreadable",
            format!(
                "{op} {}: {}",
                firewarden_source::display_path(path),
                rec.message
            ),
        );
        let mut st = self.lock();
        let i = st.records.item(path);
        if !st.records.errors(i).iter().any(|x| x.op == op) {
            st.records.more_mut(i).errors.push(rec);
        }
    }

    /// Bytes of content stored so far.
    pub fn stored_bytes(&self) -> u64 {
        self.shared.stored.load(Ordering::Relaxed)
    }

    /// True when the path's content is stored as completely as it will be (to its end or to
    /// the size cap).
    pub fn has_content(&self, path: &Path) -> bool {
        let st = self.lock();
        st.records
            .find(path)
            .and_then(|i| st.records.content(i))
            .is_some_and(|c| c.settled && c.blob.is_some())
    }

    /// Records the hash of a file without storing it (e.g. every running executable in the
    /// triage profile). A later `open` stores it after all.
    pub fn hash_only(&self, path: &Path, why: &str) {
        if self.excluded(path) {
            return;
        }
        let stored = {
            let st = self.lock();
            st.records
                .find(path)
                .is_some_and(|i| st.records.content(i).is_some())
        };
        if stored {
            return;
        }
        let Ok(meta) = self.metadata(path) else {
            return;
        };
        let key = (meta.dev, meta.ino, meta.size, meta.mtime.0);
        let known = self.lock().hashed.get(&key).copied();
        let (n, sha) = match known {
            Some(done) => done,
            None => {
                let mut reader = match self.inner.open(path) {
                    Ok(r) => r,
                    Err(e) => return self.record_error(path, "open", &e),
                };
                let mut h = Sha256::new();
                let mut buf = vec![0u8; 256 * 1024];
                let mut n = 0u64;
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => break,
                        Ok(k) => {
                            h.update(&buf[..k]);
                            n += k as u64;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let e = SourceError::Io {
                                path: path.to_path_buf(),
                                source: e,
                            };
                            return self.record_error(path, "open", &e);
                        }
                    }
                }
                let done = (n, h.finalize().into());
                self.lock().hashed.insert(key, done);
                done
            }
        };
        let mut st = self.lock();
        let i = st.records.item(path);
        if st.records.content(i).is_none() {
            st.records.set_content(
                i,
                Stored {
                    size: n,
                    sha256: sha,
                    truncated_from: None,
                    why: Partial::Hashed(why.into()),
                    blob: None,
                    settled: false,
                },
            );
        }
    }

    /// Starts copying the file into the spool as it is read.
    fn tee(&self, path: &Path, meta: &Metadata) -> Result<Tee, SourceError> {
        let io_err = |e: io::Error| SourceError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let remaining = self
            .caps
            .max_total
            .saturating_sub(self.shared.stored.load(Ordering::Relaxed));
        if remaining == 0 {
            return Err(SourceError::Io {
                path: path.to_path_buf(),
                source: io::Error::other(format!(
                    "not collected: the total size cap ({} bytes) is reached",
                    self.caps.max_total
                )),
            });
        }
        let cap = self.caps.max_file.min(remaining);
        let reader = self.inner.open(path)?;
        let blob_no = {
            let mut st = self.lock();
            st.next_blob += 1;
            st.next_blob
        };
        let blob = blob_path(&self.spool, blob_no);
        // Owner-only: the spool holds copies of /etc/shadow, keys and the like.
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&blob)
                .map_err(io_err)?
        };
        let out = io::BufWriter::with_capacity(256 * 1024, file);
        Ok(Tee {
            inner: reader.take(cap),
            out: Some(out),
            blob,
            blob_no,
            hash: Sha256::new(),
            n: 0,
            eof: false,
            failed: false,
            // A file exactly at the cap is reported as possibly longer: we cannot tell.
            file_size: meta.size,
            at_cap: false,
            path: path.to_path_buf(),
            shared: self.shared.clone(),
        })
    }

    /// Everything recorded, for the bundle writer.
    pub fn finish(self) -> Captured {
        // A reader still alive (it cannot be: callers drop them) would only miss its record.
        let st = match Arc::try_unwrap(self.shared) {
            Ok(shared) => shared.state.into_inner().unwrap_or_else(|e| e.into_inner()),
            Err(shared) => std::mem::replace(&mut *shared.lock(), State::new(&self.spool)),
        };
        Captured {
            records: st.records,
            spool: self.spool.clone(),
            notes: st.notes,
        }
    }
}

/// The spool file of blob number `n`.
fn blob_path(spool: &Path, n: u32) -> PathBuf {
    spool.join(format!("b{n}"))
}

fn not_found(path: &Path) -> SourceError {
    SourceError::NotFound {
        path: path.to_path_buf(),
    }
}

impl Source for Capture<'_> {
    fn info(&self) -> SourceInfo {
        self.inner.info()
    }

    fn is_live(&self) -> bool {
        self.inner.is_live()
    }

    fn open(&self, path: &Path) -> Result<Box<dyn Read + Send>, SourceError> {
        if self.excluded(path) {
            return Err(not_found(path));
        }
        {
            let st = self.lock();
            if let Some(i) = st.records.find(path) {
                let blob = st
                    .records
                    .content(i)
                    .filter(|c| c.settled)
                    .and_then(|c| c.blob);
                if let Some(blob) = blob {
                    let f =
                        File::open(blob_path(&self.spool, blob)).map_err(|e| SourceError::Io {
                            path: path.to_path_buf(),
                            source: e,
                        })?;
                    return Ok(Box::new(f));
                }
                if let Some(e) = recorded_error(&st.records, i, "open") {
                    return Err(replay_error(path, &e));
                }
            }
        }
        let meta = self.metadata(path)?;
        if meta.kind != FileKind::File {
            // Devices, FIFOs and directories are described, never read into evidence.
            let e = SourceError::WrongKind {
                path: path.to_path_buf(),
                what: "not a regular file",
            };
            self.record_error(path, "open", &e);
            return Err(e);
        }
        match self.tee(path, &meta) {
            Ok(tee) => Ok(Box::new(tee)),
            Err(e) => {
                self.record_error(path, "open", &e);
                Err(e)
            }
        }
    }

    fn metadata(&self, path: &Path) -> Result<Metadata, SourceError> {
        if self.excluded(path) {
            return Err(not_found(path));
        }
        {
            let st = self.lock();
            if let Some(i) = st.records.find(path) {
                let stat = st.records.more(i).and_then(|m| m.stat.as_ref());
                if let Some(m) = stat.and_then(|m| m.replayed()) {
                    return Ok(m);
                }
                if let Some(m) = st.records.lstat(i).as_ref().and_then(Meta::replayed)
                    && m.kind != FileKind::Symlink
                {
                    return Ok(m);
                }
                if let Some(e) = recorded_error(&st.records, i, "stat") {
                    return Err(replay_error(path, &e));
                }
            }
        }
        let lstat = self.symlink_metadata(path);
        match self.inner.metadata(path) {
            Ok(m) => {
                if lstat.as_ref().ok() != Some(&m) {
                    let mut st = self.lock();
                    let i = st.records.item(path);
                    st.records.more_mut(i).stat = Some(Box::new(Meta::new(&m)));
                }
                Ok(m)
            }
            Err(e) => {
                self.record_error(path, "stat", &e);
                Err(e)
            }
        }
    }

    fn symlink_metadata(&self, path: &Path) -> Result<Metadata, SourceError> {
        if self.excluded(path) {
            return Err(not_found(path));
        }
        {
            let st = self.lock();
            if let Some(i) = st.records.find(path) {
                if let Some(m) = st.records.lstat(i).as_ref().and_then(Meta::replayed) {
                    return Ok(m);
                }
                if let Some(e) = recorded_error(&st.records, i, "lstat") {
                    return Err(replay_error(path, &e));
                }
            }
        }
        match self.inner.symlink_metadata(path) {
            Ok(m) => {
                {
                    let mut st = self.lock();
                    let i = st.records.item(path);
                    st.records.set_lstat(i, &Meta::new(&m));
                }
                // A link's target is evidence in itself (where did the attacker point it?).
                if m.kind == FileKind::Symlink {
                    let _ = self.read_link(path);
                }
                Ok(m)
            }
            Err(e) => {
                self.record_error(path, "lstat", &e);
                Err(e)
            }
        }
    }

    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>, SourceError> {
        if self.excluded(path) {
            return Err(not_found(path));
        }
        {
            let st = self.lock();
            if let Some(i) = st.records.find(path) {
                if let Some(entries) = st.records.more(i).and_then(|m| m.entries.as_ref()) {
                    return Ok(entries.to_vec());
                }
                if let Some(e) = recorded_error(&st.records, i, "readdir") {
                    return Err(replay_error(path, &e));
                }
            }
        }
        match self.inner.read_dir(path) {
            Ok(mut list) => {
                list.retain(|e| !self.excluded(&path.join(&e.name)));
                let mut st = self.lock();
                let i = st.records.item(path);
                st.records.more_mut(i).entries = Some(Listing::new(&replayable(&list)));
                Ok(list)
            }
            Err(e) => {
                self.record_error(path, "readdir", &e);
                Err(e)
            }
        }
    }

    fn read_dir_meta(&self, path: &Path) -> Result<Vec<(DirEntry, Metadata)>, SourceError> {
        if self.excluded(path) {
            return Err(not_found(path));
        }
        {
            let st = self.lock();
            if let Some(i) = st.records.find(path)
                && let Some(entries) = st.records.more(i).and_then(|m| m.entries.as_ref())
            {
                let out: Vec<(DirEntry, Metadata)> = entries
                    .iter()
                    .map_while(|(kind, name)| {
                        let child = st.records.find(&path.join(name))?;
                        let m = st.records.lstat(child)?.replayed()?;
                        let entry = DirEntry {
                            name: name.to_os_string(),
                            kind,
                        };
                        Some((entry, m))
                    })
                    .collect();
                if out.len() == entries.len() {
                    return Ok(out);
                }
            }
        }
        match self.inner.read_dir_meta(path) {
            Ok(mut list) => {
                list.retain(|(e, _)| !self.excluded(&path.join(&e.name)));
                let mut st = self.lock();
                let i = st.records.item(path);
                let more = st.records.more_mut(i);
                if more.entries.is_none() {
                    let names: Vec<DirEntry> = list.iter().map(|(e, _)| e.clone()).collect();
                    more.entries = Some(Listing::new(&replayable(&names)));
                }
                for (e, m) in &list {
                    let child = st.records.item(&path.join(&e.name));
                    if !st.records.has_lstat(child) {
                        st.records.set_lstat(child, &Meta::new(m));
                    }
                }
                drop(st);
                for (e, m) in &list {
                    if m.kind == FileKind::Symlink {
                        let _ = self.read_link(&path.join(&e.name));
                    }
                }
                Ok(list)
            }
            Err(e) => {
                self.record_error(path, "readdir", &e);
                Err(e)
            }
        }
    }

    fn read_link(&self, path: &Path) -> Result<PathBuf, SourceError> {
        if self.excluded(path) {
            return Err(not_found(path));
        }
        {
            let st = self.lock();
            if let Some(i) = st.records.find(path) {
                if let Some(link) = st.records.more(i).and_then(|m| m.link.as_ref()) {
                    return Ok(link.to_path_buf());
                }
                if let Some(e) = recorded_error(&st.records, i, "readlink") {
                    return Err(replay_error(path, &e));
                }
            }
        }
        match self.inner.read_link(path) {
            Ok(t) => {
                let mut st = self.lock();
                let i = st.records.item(path);
                st.records.more_mut(i).link = Some(t.clone().into_boxed_path());
                Ok(t)
            }
            Err(e) => {
                self.record_error(path, "readlink", &e);
                Err(e)
            }
        }
    }

    fn xattr(&self, path: &Path, name: &str) -> Result<Option<Vec<u8>>, SourceError> {
        if self.excluded(path) {
            return Err(not_found(path));
        }
        {
            let st = self.lock();
            if let Some(i) = st.records.find(path)
                && let Some(v) = st.records.more(i).and_then(|m| m.xattrs.get(name))
            {
                return Ok(v.clone());
            }
        }
        match self.inner.xattr(path, name) {
            Ok(v) => {
                let mut st = self.lock();
                let i = st.records.item(path);
                st.records
                    .more_mut(i)
                    .xattrs
                    .insert(name.to_string(), v.clone());
                Ok(v)
            }
            Err(e) => {
                self.record_error(path, "xattr", &e);
                Err(e)
            }
        }
    }
}

/// A listing as the manifest gives it back: entries of a kind it has no name for are left
/// out, so repeated reads during the run answer what a replay will.
fn replayable(list: &[DirEntry]) -> Vec<DirEntry> {
    list.iter()
        .filter(|e| crate::manifest::parse_kind(kind_to_name(e.kind)).is_some())
        .cloned()
        .collect()
}

/// A listing from manifest entries (entries of unknown kind are left out).
pub fn entries_out(entries: &[Entry]) -> Vec<DirEntry> {
    entries
        .iter()
        .filter_map(|e| {
            Some(DirEntry {
                name: bytes_path(e.name.bytes()).into_os_string(),
                kind: crate::manifest::parse_kind(&e.kind)?,
            })
        })
        .collect()
}

/// A path from raw bytes.
pub fn bytes_path(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}
