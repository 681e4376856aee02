//! Depth-first walk of a source that never follows symlinks and never enters a directory
//! twice (bind mounts, hard-linked directories on odd filesystems).

use crate::{FileKind, Metadata, Source, SourceError};
use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Limits of a walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Deepest level to descend to below the start (0 lists only the start's entries).
    pub max_depth: usize,
    /// Paths not to enter (e.g. `/proc`, `/sys` on a live host).
    pub skip: Vec<PathBuf>,
    /// Stop after this many entries, so a hostile tree of millions of files cannot stall a run.
    pub max_entries: usize,
    /// Directory names not to enter anywhere in the tree (e.g. `node_modules`); listed, not
    /// descended into.
    pub skip_names: Vec<std::ffi::OsString>,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            max_depth: 32,
            skip: Vec::new(),
            max_entries: 2_000_000,
            skip_names: Vec::new(),
        }
    }
}

/// One entry met by [`walk`].
#[derive(Debug)]
pub enum WalkEntry {
    /// A filesystem object and its own metadata (symlinks are not followed).
    Entry {
        /// Path inside the source.
        path: PathBuf,
        /// Metadata of the object itself.
        meta: Metadata,
    },
    /// Something could not be read; the walk goes on.
    Error(SourceError),
    /// The walk stopped early because `max_entries` was reached.
    Truncated,
    /// A directory at `max_depth`: listed but not entered, so what is below it was not seen.
    TooDeep(PathBuf),
}

/// Walks `start` depth-first, calling `visit` for every entry below it.
pub fn walk(src: &dyn Source, start: &Path, opts: &WalkOptions, visit: &mut dyn FnMut(WalkEntry)) {
    let mut seen_dirs = HashSet::new();
    let mut count = 0usize;
    let mut stack: Vec<(PathBuf, usize)> = vec![(start.to_path_buf(), 0)];
    if let Ok(m) = src.metadata(start) {
        seen_dirs.insert((m.dev, m.ino));
    }
    while let Some((dir, depth)) = stack.pop() {
        let entries = match src.read_dir_meta(&dir) {
            Ok(e) => e,
            Err(e) => {
                if !e.is_not_found() {
                    visit(WalkEntry::Error(e));
                }
                continue;
            }
        };
        let mut subdirs = Vec::new();
        for (entry, meta) in entries {
            count += 1;
            if count > opts.max_entries {
                visit(WalkEntry::Truncated);
                return;
            }
            let path = dir.join(&entry.name);
            let is_dir = meta.kind == FileKind::Dir;
            let key = (meta.dev, meta.ino);
            visit(WalkEntry::Entry {
                path: path.clone(),
                meta,
            });
            if is_dir && depth >= opts.max_depth {
                visit(WalkEntry::TooDeep(path.clone()));
            }
            if is_dir
                && depth < opts.max_depth
                && !opts.skip.iter().any(|s| s == &path)
                && !opts
                    .skip_names
                    .iter()
                    .any(|n| path.file_name() == Some(n.as_os_str()))
                && seen_dirs.insert(key)
            {
                subdirs.push((path, depth + 1));
            }
        }
        // Reverse so that the walk visits subdirectories in name order.
        stack.extend(subdirs.into_iter().rev());
    }
}

/// What [`walk_parallel`] collected.
#[derive(Debug, Default)]
pub struct WalkResult {
    /// Every entry below the start, sorted by path (so results do not depend on thread timing).
    pub entries: Vec<(PathBuf, Metadata)>,
    /// Directories that could not be read.
    pub errors: Vec<SourceError>,
    /// True when `max_entries` stopped the walk.
    pub truncated: bool,
    /// Directories at the depth limit that were listed but not entered: what lies below them
    /// was not seen, and a caller must say so.
    pub deepest_skipped: usize,
    /// The first such directory, to name in the warning.
    pub first_too_deep: Option<PathBuf>,
}

/// `dir/name`, allocated at its exact length: `Path::join` copies `dir` and then grows the
/// copy for the name, which can leave twice the bytes allocated for each of a million paths.
fn child(dir: &Path, name: &std::ffi::OsStr) -> PathBuf {
    let mut p = PathBuf::with_capacity(dir.as_os_str().len() + 1 + name.len());
    p.push(dir);
    p.push(name);
    p
}

/// Walks like [`walk`] with several threads sharing a queue of directories, and returns every
/// entry sorted by path. Symlinks are not followed and no directory is entered twice.
pub fn walk_parallel(
    src: &dyn Source,
    start: &Path,
    opts: &WalkOptions,
    threads: usize,
) -> WalkResult {
    // Entries in fixed-size chunks, not one vector per thread that doubles as it grows: a walk
    // of a million paths would otherwise hold up to twice its entries, and copy them at each
    // doubling. Moved into one exact vector at the end, a chunk at a time.
    const CHUNK: usize = 8192;
    let (chunks, mut r) = walk_chunks(
        src,
        start,
        opts,
        threads,
        || Vec::with_capacity(CHUNK),
        |chunk: &mut Vec<(PathBuf, Metadata)>, path, meta| {
            chunk.push((path, meta));
            chunk.len() == CHUNK
        },
    );
    r.entries = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
    for c in chunks {
        r.entries.extend(c);
    }
    // Byte order of the raw path: deterministic, and far cheaper than component-wise order.
    r.entries
        .sort_unstable_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
    r
}

/// Walks like [`walk_parallel`] into a compact [`Tree`]: each entry keeps its path in a shared
/// byte arena and a [`Brief`] of its metadata, about a third of a `(PathBuf, Metadata)`, so a
/// walk of a million paths fits a small server's memory.
pub fn walk_tree(src: &dyn Source, start: &Path, opts: &WalkOptions, threads: usize) -> Tree {
    let (chunks, r) = walk_chunks(src, start, opts, threads, TreeChunk::default, |c, p, m| {
        c.push(&p, &m)
    });
    let mut order: Vec<(u32, u32)> =
        Vec::with_capacity(chunks.iter().map(|c| c.briefs.len()).sum());
    for (ci, c) in chunks.iter().enumerate() {
        order.extend((0..c.briefs.len() as u32).map(|i| (ci as u32, i)));
    }
    order.sort_unstable_by(|a, b| {
        cmp_joined(
            chunks[a.0 as usize].parts(a.1),
            chunks[b.0 as usize].parts(b.1),
        )
    });
    Tree {
        chunks,
        order,
        errors: r.errors,
        truncated: r.truncated,
        deepest_skipped: r.deepest_skipped,
        first_too_deep: r.first_too_deep,
    }
}

/// The metadata a filesystem walk's consumers decide on. The rest (inode, link count,
/// access and birth times, nanoseconds) is asked of the source again for the few entries
/// that become findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Brief {
    /// Kind of object.
    pub kind: FileKind,
    /// Full mode bits including type and set-id bits.
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// Modification time.
    pub mtime: firewarden_model::Timestamp,
    /// Status change time.
    pub ctime: firewarden_model::Timestamp,
}

impl Brief {
    /// The brief of full metadata.
    pub fn of(m: &Metadata) -> Brief {
        Brief {
            kind: m.kind,
            mode: m.mode,
            uid: m.uid,
            gid: m.gid,
            size: m.size,
            mtime: m.mtime,
            ctime: m.ctime,
        }
    }

    /// Full metadata with what the brief does not hold left at zero: for a path the source
    /// can no longer describe.
    pub fn to_metadata(&self) -> Metadata {
        Metadata {
            kind: self.kind,
            size: self.size,
            mode: self.mode,
            uid: self.uid,
            gid: self.gid,
            ino: 0,
            dev: 0,
            nlink: 0,
            mtime: self.mtime,
            atime: firewarden_model::Timestamp(0),
            ctime: self.ctime,
            nsec: [0; 3],
            btime: None,
        }
    }
}

/// Entries of one walking thread. A directory's entries arrive together, so each run of
/// entries keeps the part of the path before the name (`/usr/lib/python3/`) once, and each
/// entry only its name.
#[derive(Default)]
struct TreeChunk {
    bytes: Vec<u8>,
    /// Per run: where its shared prefix lies in `bytes`.
    prefixes: Vec<(u32, u32)>,
    /// Per entry: its run, and where its name ends in `bytes` (it starts where the previous
    /// entry's name or its run's prefix ended).
    names: Vec<(u32, u32)>,
    briefs: Vec<Brief>,
}

impl TreeChunk {
    /// Entries per chunk, and the most bytes one holds (a hostile source's long names end a
    /// chunk early instead of overflowing its offsets).
    const ENTRIES: usize = 8192;
    const BYTES: usize = 64 << 20;

    /// Adds an entry; true when the chunk is full.
    fn push(&mut self, path: &Path, meta: &Metadata) -> bool {
        if self.briefs.is_empty() {
            self.names.reserve_exact(Self::ENTRIES);
            self.briefs.reserve_exact(Self::ENTRIES);
        }
        let (prefix, name) = split_name(path.as_os_str().as_bytes());
        let same_run = self
            .prefixes
            .last()
            .is_some_and(|&(s, e)| &self.bytes[s as usize..e as usize] == prefix);
        if !same_run {
            let start = self.bytes.len() as u32;
            self.bytes.extend_from_slice(prefix);
            self.prefixes.push((start, self.bytes.len() as u32));
        }
        self.bytes.extend_from_slice(name);
        self.names
            .push((self.prefixes.len() as u32 - 1, self.bytes.len() as u32));
        self.briefs.push(Brief::of(meta));
        let full = self.briefs.len() == Self::ENTRIES || self.bytes.len() >= Self::BYTES;
        if full {
            // A growing buffer has up to twice the room it uses; keep only what it holds.
            self.bytes.shrink_to_fit();
            self.prefixes.shrink_to_fit();
        }
        full
    }

    /// Entry `i`'s path as (prefix, name).
    fn parts(&self, i: u32) -> (&[u8], &[u8]) {
        let i = i as usize;
        let (run, end) = self.names[i];
        let (ps, pe) = self.prefixes[run as usize];
        let start = match i.checked_sub(1).map(|j| self.names[j]) {
            Some((prev_run, prev_end)) if prev_run == run => prev_end,
            _ => pe,
        };
        (
            &self.bytes[ps as usize..pe as usize],
            &self.bytes[start as usize..end as usize],
        )
    }
}

/// A path's bytes split after its last `/`: everything up to it, and the name.
fn split_name(b: &[u8]) -> (&[u8], &[u8]) {
    match b.iter().rposition(|&c| c == b'/') {
        Some(k) => (&b[..=k], &b[k + 1..]),
        None => (&[], b),
    }
}

/// Byte order of `a.0 ++ a.1` and `b.0 ++ b.1`, without joining them.
fn cmp_joined(a: (&[u8], &[u8]), b: (&[u8], &[u8])) -> std::cmp::Ordering {
    // The prefixes by memcmp as far as both go; byte by byte only past the shorter one.
    let n = a.0.len().min(b.0.len());
    match a.0[..n].cmp(&b.0[..n]) {
        std::cmp::Ordering::Equal => a.0[n..].iter().chain(a.1).cmp(b.0[n..].iter().chain(b.1)),
        other => other,
    }
}

/// What [`walk_tree`] collected: every entry below the start, sorted by the bytes of its path.
#[derive(Default)]
pub struct Tree {
    chunks: Vec<TreeChunk>,
    /// (chunk, entry) in path order.
    order: Vec<(u32, u32)>,
    /// Directories that could not be read.
    pub errors: Vec<SourceError>,
    /// True when `max_entries` stopped the walk.
    pub truncated: bool,
    /// Directories at the depth limit that were listed but not entered.
    pub deepest_skipped: usize,
    /// The first such directory, to name in the warning.
    pub first_too_deep: Option<PathBuf>,
}

impl Tree {
    /// How many entries the walk met.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when the walk met nothing.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Every entry, in path order: `while let Some((path, brief)) = entries.next()`. Paths
    /// are put together one at a time in a buffer the cursor reuses.
    pub fn entries(&self) -> TreeEntries<'_> {
        TreeEntries {
            tree: self,
            next: 0,
            path: Vec::new(),
        }
    }
}

/// A cursor over a [`Tree`]'s entries in path order (see [`Tree::entries`]).
pub struct TreeEntries<'a> {
    tree: &'a Tree,
    next: usize,
    path: Vec<u8>,
}

impl TreeEntries<'_> {
    /// The next entry, or `None` after the last.
    #[allow(clippy::should_implement_trait)] // lends its buffer: not an `Iterator`
    pub fn next(&mut self) -> Option<(&Path, &Brief)> {
        let &(c, i) = self.tree.order.get(self.next)?;
        self.next += 1;
        let chunk = &self.tree.chunks[c as usize];
        let (prefix, name) = chunk.parts(i);
        self.path.clear();
        self.path.extend_from_slice(prefix);
        self.path.extend_from_slice(name);
        Some((
            Path::new(std::ffi::OsStr::from_bytes(&self.path)),
            &chunk.briefs[i as usize],
        ))
    }
}

/// The walk under [`walk_parallel`] and [`walk_tree`]: several threads share a queue of
/// directories; each fills chunks made by `new_chunk` through `push` (true when the chunk is
/// full). Returns the chunks, unsorted, and the walk's errors and limits (no entries).
fn walk_chunks<C: Send>(
    src: &dyn Source,
    start: &Path,
    opts: &WalkOptions,
    threads: usize,
    new_chunk: impl Fn() -> C + Sync,
    push: impl Fn(&mut C, PathBuf, Metadata) -> bool + Sync,
) -> (Vec<C>, WalkResult) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex};

    struct Shared {
        queue: Mutex<(Vec<(PathBuf, usize)>, usize)>, // pending dirs, dirs being read
        ready: Condvar,
        seen: Mutex<HashSet<(u64, u64)>>,
        count: AtomicUsize,
        truncated: AtomicBool,
        too_deep: Mutex<(usize, Option<PathBuf>)>,
    }
    let shared = Shared {
        queue: Mutex::new((vec![(start.to_path_buf(), 0)], 0)),
        ready: Condvar::new(),
        seen: Mutex::new(HashSet::new()),
        count: AtomicUsize::new(0),
        truncated: AtomicBool::new(false),
        too_deep: Mutex::new((0, None)),
    };
    if let Ok(m) = src.metadata(start) {
        shared
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((m.dev, m.ino));
    }
    let results: Mutex<WalkResult> = Mutex::new(WalkResult::default());
    let chunks: Mutex<Vec<C>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut local = new_chunk();
                let mut errors = Vec::new();
                loop {
                    // Take a directory, or stop when none is queued and nobody can add more.
                    let (dir, depth) = {
                        let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
                        loop {
                            if let Some(job) = q.0.pop() {
                                q.1 += 1;
                                break job;
                            }
                            if q.1 == 0 {
                                shared.ready.notify_all();
                                let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
                                r.errors.append(&mut errors);
                                chunks
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .push(std::mem::replace(&mut local, new_chunk()));
                                return;
                            }
                            q = shared.ready.wait(q).unwrap_or_else(|e| e.into_inner());
                        }
                    };
                    let mut subdirs = Vec::new();
                    match src.read_dir_meta(&dir) {
                        Err(e) => {
                            if !e.is_not_found() {
                                errors.push(e);
                            }
                        }
                        Ok(entries) => {
                            for (entry, meta) in entries {
                                if shared.count.fetch_add(1, Ordering::Relaxed) >= opts.max_entries
                                {
                                    shared.truncated.store(true, Ordering::Relaxed);
                                    break;
                                }
                                let path = child(&dir, &entry.name);
                                if meta.kind == FileKind::Dir && depth >= opts.max_depth {
                                    let mut deep =
                                        shared.too_deep.lock().unwrap_or_else(|e| e.into_inner());
                                    deep.0 += 1;
                                    if deep.1.as_ref().is_none_or(|p| path < *p) {
                                        deep.1 = Some(path.clone());
                                    }
                                }
                                if meta.kind == FileKind::Dir
                                    && depth < opts.max_depth
                                    && !opts.skip.iter().any(|s| s == &path)
                                    && !opts
                                        .skip_names
                                        .iter()
                                        .any(|n| path.file_name() == Some(n.as_os_str()))
                                    && shared
                                        .seen
                                        .lock()
                                        .unwrap_or_else(|e| e.into_inner())
                                        .insert((meta.dev, meta.ino))
                                {
                                    subdirs.push((path.clone(), depth + 1));
                                }
                                if push(&mut local, path, meta) {
                                    let full = std::mem::replace(&mut local, new_chunk());
                                    chunks.lock().unwrap_or_else(|e| e.into_inner()).push(full);
                                }
                            }
                        }
                    }
                    let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
                    if !shared.truncated.load(Ordering::Relaxed) {
                        q.0.extend(subdirs);
                    }
                    q.1 -= 1;
                    shared.ready.notify_all();
                }
            });
        }
    });
    let mut r = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let chunks = chunks.into_inner().unwrap_or_else(|e| e.into_inner());
    r.truncated = shared.truncated.load(Ordering::Relaxed);
    let (deep, first) = shared
        .too_deep
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    r.deepest_skipped = deep;
    r.first_too_deep = first;
    (chunks, r)
}
