//! The capture's record of every path it answered for, kept small: a collection of a million
//! paths must fit a small server's memory beside the host's own services.
//!
//! - A path is stored as its directory (one entry in a table of directories, shared by every
//!   path in it) and its name; directories and names lie back to back in fixed-size byte
//!   chunks, found through hash tables of numbers: no per-path allocation, and a long
//!   directory is held once, not once per file in it.
//! - Each path's own metadata (its lstat, what nearly every record holds) is written to an
//!   unnamed file in the spool as a fixed-size record, and read back when asked again or when
//!   the manifest is written. Only the newest few thousand stay in memory.
//! - What only some paths have (a followed stat, a link target, a listing, attributes,
//!   content, errors) lives in memory, in a side table.

use crate::manifest::{Content, ItemError};
use firewarden_model::Timestamp;
use firewarden_source::{DirEntry, FileKind, Metadata};
use hashbrown::HashTable;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::hash::{BuildHasher, RandomState};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Source metadata as recorded, and whether it reads back the same from the manifest: a time
/// the manifest's text cannot hold (a hostile year 100000) is recorded but not replayed, so
/// the live run and a replay of its bundle answer alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub meta: Metadata,
    pub replays: bool,
}

impl Meta {
    pub fn new(m: &Metadata) -> Self {
        use crate::manifest::FileMeta;
        Meta {
            meta: m.clone(),
            replays: FileMeta::from_meta(m).to_meta().as_ref() == Some(m),
        }
    }

    /// The metadata, when a replay of the bundle gives it back unchanged.
    pub fn replayed(&self) -> Option<Metadata> {
        self.replays.then(|| self.meta.clone())
    }
}

/// The parts of a record that only some paths have: directories, links, unreadable paths.
#[derive(Default)]
pub(crate) struct More {
    pub stat: Option<Box<Meta>>,
    pub link: Option<Box<Path>>,
    pub entries: Option<Listing>,
    /// Extended attribute name → value (absent: not set).
    pub xattrs: BTreeMap<String, Option<Vec<u8>>>,
    pub errors: Vec<ItemError>,
}

/// A file's recorded content: stored in the spool, or only hashed. Hundreds of thousands of
/// files are read during a triage, so this is kept to a few dozen bytes; the manifest's
/// [`Content`] with its hex digest and note is made as the manifest is written.
pub(crate) struct Stored {
    pub size: u64,
    pub sha256: [u8; 32],
    /// The file's size when only a prefix was kept.
    pub truncated_from: Option<u64>,
    pub why: Partial,
    /// Spool file number holding the bytes (`None`: only hashed).
    pub blob: Option<u32>,
    /// Read to the end or to the size cap: re-reading cannot give more, so later opens are
    /// served from the spool.
    pub settled: bool,
}

/// Why recorded content is partial or not stored.
pub(crate) enum Partial {
    /// The whole file.
    Whole,
    /// The first bytes, to the size cap.
    SizeCap,
    /// The first bytes, as far as the analysis read.
    Prefix,
    /// Hashed, not stored, for the reason given.
    Hashed(Box<str>),
}

impl Stored {
    /// The note the manifest gives.
    pub fn note(&self) -> Option<String> {
        match &self.why {
            Partial::Whole => None,
            Partial::SizeCap => Some(format!("first {} bytes kept: the size cap", self.size)),
            Partial::Prefix => Some(format!(
                "first {} bytes: as much as the analysis read",
                self.size
            )),
            Partial::Hashed(why) => Some(format!("hashed, not stored: {why}")),
        }
    }

    /// As the manifest holds it (before the bundle writer names the member).
    pub fn to_content(&self) -> Content {
        Content {
            member: None,
            size: self.size,
            sha256: crate::encoding::hex(&self.sha256),
            truncated_from: self.truncated_from,
            note: self.note(),
        }
    }
}

/// A directory listing packed into one buffer: per entry its kind, the name's length and the
/// name. A `Vec<DirEntry>` costs an allocation and 32 bytes beside every name.
pub(crate) struct Listing(Box<[u8]>);

impl Listing {
    pub fn new(list: &[DirEntry]) -> Listing {
        let mut buf = Vec::with_capacity(list.iter().map(|e| 5 + e.name.len()).sum());
        for e in list {
            buf.push(kind_code(e.kind));
            buf.extend_from_slice(&(e.name.len() as u32).to_le_bytes());
            buf.extend_from_slice(e.name.as_bytes());
        }
        Listing(buf.into_boxed_slice())
    }

    /// The entries, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (FileKind, &std::ffi::OsStr)> + '_ {
        let mut rest: &[u8] = &self.0;
        std::iter::from_fn(move || {
            let (&kind, tail) = rest.split_first()?;
            let len = u32::from_le_bytes(tail.get(..4)?.try_into().ok()?) as usize;
            let name = tail.get(4..4 + len)?;
            rest = &tail[4 + len..];
            Some((code_kind(kind)?, std::ffi::OsStr::from_bytes(name)))
        })
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn to_vec(&self) -> Vec<DirEntry> {
        self.iter()
            .map(|(kind, name)| DirEntry {
                name: name.to_os_string(),
                kind,
            })
            .collect()
    }
}

fn kind_code(k: FileKind) -> u8 {
    match k {
        FileKind::File => 0,
        FileKind::Dir => 1,
        FileKind::Symlink => 2,
        FileKind::CharDevice => 3,
        FileKind::BlockDevice => 4,
        FileKind::Fifo => 5,
        FileKind::Socket => 6,
    }
}

fn code_kind(c: u8) -> Option<FileKind> {
    Some(match c {
        0 => FileKind::File,
        1 => FileKind::Dir,
        2 => FileKind::Symlink,
        3 => FileKind::CharDevice,
        4 => FileKind::BlockDevice,
        5 => FileKind::Fifo,
        6 => FileKind::Socket,
        _ => return None,
    })
}

/// Bytes of one spilled lstat record.
const META_LEN: usize = 96;

fn encode(m: Option<&Meta>) -> [u8; META_LEN] {
    let mut b = [0u8; META_LEN];
    let Some(Meta { meta, replays }) = m else {
        return b;
    };
    b[0] = 1;
    b[1] = kind_code(meta.kind);
    b[2] = *replays as u8;
    b[3] = meta.btime.is_some() as u8;
    b[4..8].copy_from_slice(&meta.mode.to_le_bytes());
    b[8..12].copy_from_slice(&meta.uid.to_le_bytes());
    b[12..16].copy_from_slice(&meta.gid.to_le_bytes());
    b[16..24].copy_from_slice(&meta.size.to_le_bytes());
    b[24..32].copy_from_slice(&meta.ino.to_le_bytes());
    b[32..40].copy_from_slice(&meta.dev.to_le_bytes());
    b[40..48].copy_from_slice(&meta.nlink.to_le_bytes());
    b[48..56].copy_from_slice(&meta.mtime.0.to_le_bytes());
    b[56..64].copy_from_slice(&meta.atime.0.to_le_bytes());
    b[64..72].copy_from_slice(&meta.ctime.0.to_le_bytes());
    for (k, n) in meta.nsec.iter().enumerate() {
        b[72 + 4 * k..76 + 4 * k].copy_from_slice(&n.to_le_bytes());
    }
    if let Some((t, n)) = meta.btime {
        b[84..92].copy_from_slice(&t.0.to_le_bytes());
        b[92..96].copy_from_slice(&n.to_le_bytes());
    }
    b
}

fn decode(b: &[u8; META_LEN]) -> Option<Meta> {
    if b[0] == 0 {
        return None;
    }
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap_or_default());
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
    let i64_at = |i: usize| i64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
    Some(Meta {
        meta: Metadata {
            kind: code_kind(b[1])?,
            size: u64_at(16),
            mode: u32_at(4),
            uid: u32_at(8),
            gid: u32_at(12),
            ino: u64_at(24),
            dev: u64_at(32),
            nlink: u64_at(40),
            mtime: Timestamp(i64_at(48)),
            atime: Timestamp(i64_at(56)),
            ctime: Timestamp(i64_at(64)),
            nsec: [u32_at(72), u32_at(76), u32_at(80)],
            btime: (b[3] == 1).then(|| (Timestamp(i64_at(84)), u32_at(92))),
        },
        replays: b[2] == 1,
    })
}

/// Bytes in the arena: (chunk, start, length).
#[derive(Clone, Copy)]
struct Span {
    chunk: u32,
    start: u32,
    len: u32,
}

/// Where a record's path lies: its directory and its name.
#[derive(Clone, Copy)]
struct Slot {
    /// Position in `dirs`, or `NONE` for a path without a `/`.
    dir: u32,
    name: Span,
    /// Position in `more`, or `NONE`.
    more: u32,
    /// Position in `stored`, or `NONE`.
    stored: u32,
}

const NONE: u32 = u32::MAX;

/// Bytes per arena chunk; a longer name gets a chunk of its own.
const ARENA_CHUNK: usize = 1 << 20;
/// Newest lstat records kept in memory before they are written to the spill file.
const TAIL: usize = 4096;

/// A path split at its last `/`: the directory's bytes (`None` without a `/`) and the name.
/// Joined again with a `/` they give back exactly the same bytes.
fn split(path: &Path) -> (Option<&[u8]>, &[u8]) {
    let b = path.as_os_str().as_bytes();
    match b.iter().rposition(|&c| c == b'/') {
        Some(k) => (Some(&b[..k]), &b[k + 1..]),
        None => (None, b),
    }
}

/// Path bytes held once, in chunks that never move.
#[derive(Default)]
struct Arena(Vec<Vec<u8>>);

impl Arena {
    fn add(&mut self, bytes: &[u8]) -> Span {
        let fits = self
            .0
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= bytes.len());
        if !fits {
            self.0
                .push(Vec::with_capacity(ARENA_CHUNK.max(bytes.len())));
        }
        let chunk = self.0.len() - 1;
        let buf = &mut self.0[chunk];
        let start = buf.len();
        buf.extend_from_slice(bytes);
        Span {
            chunk: chunk as u32,
            start: start as u32,
            len: bytes.len() as u32,
        }
    }

    fn get(&self, s: Span) -> &[u8] {
        &self.0[s.chunk as usize][s.start as usize..(s.start + s.len) as usize]
    }
}

/// Every path the capture answered for, in first-seen order. See the module documentation.
pub(crate) struct Records {
    arena: Arena,
    /// Directories of recorded paths, and their index by bytes.
    dirs: Vec<Span>,
    dir_index: HashTable<u32>,
    slots: Vec<Slot>,
    /// Records by (directory, name).
    index: HashTable<u32>,
    hasher: RandomState,
    more: Vec<More>,
    stored: Vec<Stored>,
    /// The spill file of lstat records, `None` when it could not be made or written (the
    /// records then stay in memory).
    spill: Option<File>,
    /// Records `0..spilled` are in the file; the rest in `tail`.
    spilled: usize,
    tail: Vec<u8>,
    /// Spilled records whose rewrite to the file failed, kept here instead.
    rewritten: HashMap<u32, [u8; META_LEN]>,
}

impl Records {
    /// An empty record; the lstat records are spilled to an unnamed file in `spool`.
    pub fn new(spool: &Path) -> Records {
        Records {
            arena: Arena::default(),
            dirs: Vec::new(),
            dir_index: HashTable::new(),
            slots: Vec::new(),
            index: HashTable::new(),
            hasher: RandomState::new(),
            more: Vec::new(),
            stored: Vec::new(),
            spill: tempfile::tempfile_in(spool).ok(),
            spilled: 0,
            tail: Vec::new(),
            rewritten: HashMap::new(),
        }
    }

    /// How many paths are recorded.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// The path of record `i`.
    pub fn path(&self, i: usize) -> std::path::PathBuf {
        let s = self.slots[i];
        let name = self.arena.get(s.name);
        let mut b = Vec::new();
        if s.dir != NONE {
            let dir = self.arena.get(self.dirs[s.dir as usize]);
            b.reserve_exact(dir.len() + 1 + name.len());
            b.extend_from_slice(dir);
            b.push(b'/');
        }
        b.extend_from_slice(name);
        std::path::PathBuf::from(std::ffi::OsString::from_vec(b))
    }

    fn hash_name(hasher: &RandomState, dir: u32, name: &[u8]) -> u64 {
        hasher.hash_one((dir, name))
    }

    /// The number of directory `dir`, when a recorded path lies in it.
    fn find_dir(&self, dir: Option<&[u8]>) -> Option<u32> {
        let Some(dir) = dir else {
            return Some(NONE);
        };
        let h = self.hasher.hash_one(dir);
        self.dir_index
            .find(h, |&d| self.arena.get(self.dirs[d as usize]) == dir)
            .copied()
    }

    /// The record of `path`, when there is one.
    pub fn find(&self, path: &Path) -> Option<usize> {
        let (dir, name) = split(path);
        let dir = self.find_dir(dir)?;
        let h = Self::hash_name(&self.hasher, dir, name);
        self.index
            .find(h, |&i| {
                let s = self.slots[i as usize];
                s.dir == dir && self.arena.get(s.name) == name
            })
            .map(|&i| i as usize)
    }

    /// The record of `path`, made (empty) when there is none yet.
    pub fn item(&mut self, path: &Path) -> usize {
        if let Some(i) = self.find(path) {
            return i;
        }
        let (dir_bytes, name_bytes) = split(path);
        let dir = match (self.find_dir(dir_bytes), dir_bytes) {
            (Some(d), _) => d,
            (None, Some(bytes)) => {
                let d = self.dirs.len() as u32;
                self.dirs.push(self.arena.add(bytes));
                let (arena, dirs, hasher) = (&self.arena, &self.dirs, &self.hasher);
                self.dir_index
                    .insert_unique(hasher.hash_one(bytes), d, |&e| {
                        hasher.hash_one(arena.get(dirs[e as usize]))
                    });
                d
            }
            (None, None) => NONE,
        };
        let name = self.arena.add(name_bytes);
        let i = self.slots.len();
        self.slots.push(Slot {
            dir,
            name,
            more: NONE,
            stored: NONE,
        });
        self.tail.extend_from_slice(&[0u8; META_LEN]);
        if self.tail.len() >= TAIL * META_LEN {
            self.flush();
        }
        let (arena, slots, hasher) = (&self.arena, &self.slots, &self.hasher);
        let h = Self::hash_name(hasher, dir, name_bytes);
        self.index.insert_unique(h, i as u32, |&j| {
            let s = slots[j as usize];
            Self::hash_name(hasher, s.dir, arena.get(s.name))
        });
        i
    }

    /// Writes the in-memory tail to the spill file; on failure the tail stays in memory.
    fn flush(&mut self) {
        let Some(f) = &self.spill else {
            return;
        };
        if f.write_all_at(&self.tail, (self.spilled * META_LEN) as u64)
            .is_ok()
        {
            self.spilled += self.tail.len() / META_LEN;
            self.tail.clear();
        } else {
            // A full disk: keep everything from here on in memory.
            self.spill = None;
        }
    }

    /// The path's own metadata (not following a final symlink), when recorded.
    pub fn lstat(&self, i: usize) -> Option<Meta> {
        if i >= self.spilled {
            let at = (i - self.spilled) * META_LEN;
            let b: &[u8; META_LEN] = self.tail.get(at..at + META_LEN)?.try_into().ok()?;
            return decode(b);
        }
        if let Some(b) = self.rewritten.get(&(i as u32)) {
            return decode(b);
        }
        let mut b = [0u8; META_LEN];
        // The spill file is ours, in a private directory; a failed read is a broken disk,
        // and the path then reads as never described rather than wrongly described.
        self.spill
            .as_ref()?
            .read_exact_at(&mut b, (i * META_LEN) as u64)
            .ok()?;
        decode(&b)
    }

    /// Records the path's own metadata.
    pub fn set_lstat(&mut self, i: usize, m: &Meta) {
        let b = encode(Some(m));
        if i >= self.spilled {
            let at = (i - self.spilled) * META_LEN;
            self.tail[at..at + META_LEN].copy_from_slice(&b);
            return;
        }
        let written = self
            .spill
            .as_ref()
            .is_some_and(|f| f.write_all_at(&b, (i * META_LEN) as u64).is_ok());
        if written {
            self.rewritten.remove(&(i as u32));
        } else {
            self.rewritten.insert(i as u32, b);
        }
    }

    /// True when the path's own metadata is recorded.
    pub fn has_lstat(&self, i: usize) -> bool {
        self.lstat(i).is_some()
    }

    /// The rarer parts of record `i`, when it has any.
    pub fn more(&self, i: usize) -> Option<&More> {
        let m = self.slots[i].more;
        (m != NONE).then(|| &self.more[m as usize])
    }

    /// The rarer parts of record `i`, made when it has none yet.
    pub fn more_mut(&mut self, i: usize) -> &mut More {
        if self.slots[i].more == NONE {
            self.slots[i].more = self.more.len() as u32;
            self.more.push(More::default());
        }
        let m = self.slots[i].more as usize;
        &mut self.more[m]
    }

    /// The recorded content of record `i`.
    pub fn content(&self, i: usize) -> Option<&Stored> {
        let k = self.slots[i].stored;
        (k != NONE).then(|| &self.stored[k as usize])
    }

    /// Records (or replaces) the content of record `i`.
    pub fn set_content(&mut self, i: usize, content: Stored) {
        match self.slots[i].stored {
            NONE => {
                self.slots[i].stored = self.stored.len() as u32;
                self.stored.push(content);
            }
            k => self.stored[k as usize] = content,
        }
    }

    /// The recorded errors of record `i`.
    pub fn errors(&self, i: usize) -> &[ItemError] {
        self.more(i).map_or(&[], |m| &m.errors)
    }

    /// How many records have errors.
    pub fn with_errors(&self) -> usize {
        self.more.iter().filter(|m| !m.errors.is_empty()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(n: u64) -> Metadata {
        Metadata {
            kind: FileKind::File,
            size: n,
            mode: 0o100644,
            uid: 1000,
            gid: 100,
            ino: n * 7,
            dev: 2049,
            nlink: 1,
            mtime: Timestamp(1_700_000_000 + n as i64),
            atime: Timestamp(-5),
            ctime: Timestamp(i64::MAX),
            nsec: [1, 2, 999_999_999],
            btime: n
                .is_multiple_of(2)
                .then_some((Timestamp(1_600_000_000), 42)),
        }
    }

    #[test]
    fn metadata_reads_back_exactly_from_memory_and_from_the_spill_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Records::new(dir.path());
        let n = 3 * TAIL + 17;
        for k in 0..n {
            let i = r.item(Path::new(&format!("/d/{k}")));
            assert_eq!(i, k);
            if k % 3 != 0 {
                r.set_lstat(i, &Meta::new(&meta(k as u64)));
            }
        }
        assert!(r.spilled > 0, "records were spilled");
        // A record set after it was spilled is rewritten in place.
        r.set_lstat(0, &Meta::new(&meta(0)));
        for k in 0..n {
            let i = r.find(Path::new(&format!("/d/{k}"))).unwrap();
            assert_eq!(i, k);
            assert_eq!(r.path(i), Path::new(&format!("/d/{k}")));
            let got = r.lstat(i).map(|m| m.meta);
            let want = (k % 3 != 0 || k == 0).then(|| meta(k as u64));
            assert_eq!(got, want, "record {k}");
        }
        assert_eq!(r.find(Path::new("/d/x")), None);
    }

    #[test]
    fn without_a_spill_file_everything_stays_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Records::new(dir.path());
        r.spill = None;
        for k in 0..2 * TAIL {
            let i = r.item(Path::new(&format!("/{k}")));
            r.set_lstat(i, &Meta::new(&meta(k as u64)));
        }
        assert_eq!(r.spilled, 0);
        assert_eq!(r.lstat(TAIL + 5).unwrap().meta, meta(TAIL as u64 + 5));
    }

    #[test]
    fn odd_paths_and_listings_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Records::new(dir.path());
        let long = format!("/{}", "x".repeat(ARENA_CHUNK + 10));
        let raw = std::ffi::OsStr::from_bytes(b"/bad\xff\n name");
        let paths = [
            Path::new("/"),
            Path::new(raw),
            Path::new(&long),
            Path::new("/a"),
            Path::new("a"),
            Path::new(""),
            Path::new("/a/"),
            Path::new("//a//b/."),
            Path::new("/a/b/.."),
        ];
        for p in paths {
            let i = r.item(p);
            assert_eq!(r.path(i), p);
            assert_eq!(r.item(p), i, "found again, not added twice");
        }
        assert_eq!(r.len(), paths.len());
        let list = vec![
            DirEntry {
                name: "a".into(),
                kind: FileKind::Dir,
            },
            DirEntry {
                name: std::ffi::OsStr::from_bytes(b"\xfe").to_os_string(),
                kind: FileKind::Socket,
            },
            DirEntry {
                name: "".into(),
                kind: FileKind::File,
            },
        ];
        let packed = Listing::new(&list);
        assert_eq!(packed.to_vec(), list);
        assert_eq!(packed.len(), 3);
    }
}
