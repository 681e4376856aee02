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
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            max_depth: 32,
            skip: Vec::new(),
            max_entries: 2_000_000,
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
            if is_dir
                && depth < opts.max_depth
                && !opts.skip.iter().any(|s| s == &path)
                && seen_dirs.insert(key)
            {
                subdirs.push((path, depth + 1));
            }
        }
        // Reverse so that the walk visits subdirectories in name order.
        stack.extend(subdirs.into_iter().rev());
    }
}
