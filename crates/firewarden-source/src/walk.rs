//! Depth-first walk of a source that never follows symlinks and never enters a directory
//! twice (bind mounts, hard-linked directories on odd filesystems).

use crate::{FileKind, Metadata, Source, SourceError};
use std::collections::HashSet;
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
    // Entries in fixed-size chunks, not one vector per thread that doubles as it grows: a walk
    // of a million paths would otherwise hold up to twice its entries, and copy them at each
    // doubling. Moved into one exact vector at the end, a chunk at a time.
    const CHUNK: usize = 8192;
    let chunks: Mutex<Vec<Vec<(PathBuf, Metadata)>>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut local: Vec<(PathBuf, Metadata)> = Vec::with_capacity(CHUNK);
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
                                    .push(std::mem::take(&mut local));
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
                                if local.len() == CHUNK {
                                    let full =
                                        std::mem::replace(&mut local, Vec::with_capacity(CHUNK));
                                    chunks.lock().unwrap_or_else(|e| e.into_inner()).push(full);
                                }
                                local.push((path, meta));
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
    r.entries = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
    for c in chunks {
        r.entries.extend(c);
    }
    r.truncated = shared.truncated.load(Ordering::Relaxed);
    let (deep, first) = shared
        .too_deep
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    r.deepest_skipped = deep;
    r.first_too_deep = first;
    // Byte order of the raw path: deterministic, and far cheaper than component-wise order.
    r.entries
        .sort_unstable_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
    r
}
