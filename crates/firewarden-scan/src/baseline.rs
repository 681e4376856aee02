//! Site baselines for tampering: `baseline create` records every file's hash, mode and size (and,
//! with copies, the content of text files), `baseline diff` says what was added, changed and
//! removed since, with a line diff where the old content was kept.

use firewarden_model::Timestamp;
use firewarden_source::{FileKind, Source, WalkOptions, display_path, walk_parallel};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Format tag written into every baseline.
pub const FORMAT: &str = "firewarden-baseline/1";

/// Largest text file whose content a baseline keeps with `copies`.
pub const COPY_LIMIT: u64 = 1 << 20;

/// A recorded state of a directory tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// [`FORMAT`].
    pub format: String,
    /// The directory it was taken of (host path).
    pub root: String,
    /// When it was taken.
    pub created: Timestamp,
    /// Files by path relative to the root (`/index.php`).
    pub files: BTreeMap<String, BaselineFile>,
}

/// One file in a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineFile {
    /// Size in bytes.
    pub size: u64,
    /// Permission bits, octal.
    pub mode: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Content, for text files up to [`COPY_LIMIT`] when copies were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Where the path is a symlink to a file: its target as written (the hash, size and text
    /// are of the file it resolves to, inside the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// How a file differs from the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "change")]
pub enum Change {
    /// Not in the baseline.
    Added {
        /// Path relative to the root.
        path: String,
        /// Its SHA-256.
        sha256: String,
        /// Symlink target, when the path is a link to a file (a webshell planted elsewhere and
        /// linked into the site).
        #[serde(skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// Content or mode changed.
    Changed {
        /// Path relative to the root.
        path: String,
        /// SHA-256 then.
        before: String,
        /// SHA-256 now.
        after: String,
        /// Mode then and now, when it changed.
        #[serde(skip_serializing_if = "Option::is_none")]
        mode: Option<(String, String)>,
        /// Unified diff, when the baseline kept the old text and the new one is text.
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<String>,
        /// Symlink target now, when the path is (or became) a link to a file.
        #[serde(skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// In the baseline, gone now.
    Removed {
        /// Path relative to the root.
        path: String,
    },
}

/// Walks `src` from `/` and records it; `copies` keeps the text of small text files.
pub fn create(
    src: &dyn Source,
    root_label: &str,
    copies: bool,
    threads: usize,
) -> (Baseline, Vec<String>) {
    let mut problems = Vec::new();
    let walked = walk_parallel(src, Path::new("/"), &WalkOptions::default(), threads.max(1));
    problems.extend(walked.errors.iter().map(|e| e.to_string()));
    problems.extend(walk_limits(&walked));
    let mut files = BTreeMap::new();
    for (path, meta) in walked.entries {
        let Some((meta, link)) = file_or_link(src, &path, meta) else {
            continue;
        };
        match hash_entry(
            src,
            &path,
            &meta,
            link.as_deref(),
            copies && meta.size <= COPY_LIMIT,
        ) {
            Ok((sha256, text)) => {
                files.insert(
                    display_path(&path),
                    BaselineFile {
                        size: meta.size,
                        mode: meta.mode_octal(),
                        sha256,
                        text,
                        link,
                    },
                );
            }
            Err(e) => problems.push(format!("{}: {e}", display_path(&path))),
        }
    }
    (
        Baseline {
            format: FORMAT.into(),
            root: root_label.into(),
            created: Timestamp::now(),
            files,
        },
        problems,
    )
}

/// [`hash_file`], or for a link whose target is not in the tree, the SHA-256 of the target as
/// written (so re-pointing it is a change).
fn hash_entry(
    src: &dyn Source,
    path: &Path,
    meta: &firewarden_source::Metadata,
    link: Option<&str>,
    keep_text: bool,
) -> Result<(String, Option<String>), firewarden_source::SourceError> {
    match (meta.kind, link) {
        (FileKind::Symlink, Some(target)) => Ok((
            Sha256::digest(target.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            None,
        )),
        _ => hash_file(src, path, keep_text),
    }
}

fn hash_file(
    src: &dyn Source,
    path: &Path,
    keep_text: bool,
) -> Result<(String, Option<String>), firewarden_source::SourceError> {
    let mut reader = src.open(path)?;
    let mut hasher = Sha256::new();
    let mut kept: Option<Vec<u8>> = keep_text.then(Vec::new);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| firewarden_source::SourceError::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if let Some(k) = kept.as_mut() {
            k.extend_from_slice(&buf[..n]);
        }
    }
    let text = kept.and_then(|k| String::from_utf8(k).ok());
    Ok((
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        text,
    ))
}

use std::io::Read;

/// What the walk did not see, worded for the problems list: directories past its depth limit
/// (nesting deep is a way to hide a file from a baseline) and entries past its count limit.
fn walk_limits(walked: &firewarden_source::WalkResult) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(first) = &walked.first_too_deep {
        out.push(format!(
            "{} director(y/ies) nest deeper than {} levels and were not entered (first: {})",
            walked.deepest_skipped,
            WalkOptions::default().max_depth,
            display_path(first)
        ));
    }
    if walked.truncated {
        out.push(format!(
            "more than {} entries: the rest of the tree was not compared",
            WalkOptions::default().max_entries
        ));
    }
    out
}

/// A regular file as it is, or a symlink that resolves (inside the root) to a regular file, with
/// its target: a webshell elsewhere linked into a site is content of the site.
fn file_or_link(
    src: &dyn Source,
    path: &Path,
    meta: firewarden_source::Metadata,
) -> Option<(firewarden_source::Metadata, Option<String>)> {
    match meta.kind {
        FileKind::File => Some((meta, None)),
        FileKind::Symlink => {
            let link = src
                .read_link(path)
                .map(|t| display_path(&t))
                .unwrap_or_else(|_| "?".into());
            match src.metadata(path) {
                Ok(target) if target.kind == FileKind::File => Some((target, Some(link))),
                // A link to a directory is part of the walk's structure, not content.
                Ok(_) => None,
                // Dangling inside the compared tree (its target may be elsewhere on the host):
                // kept as the link itself, hashed by its target text.
                Err(_) => Some((meta, Some(link))),
            }
        }
        _ => None,
    }
}

/// Compares `src` (walked from `/`) with a baseline. Changes are sorted by path.
pub fn diff(base: &Baseline, src: &dyn Source, threads: usize) -> (Vec<Change>, Vec<String>) {
    let mut join = Join::new(src, threads);
    for (path, file) in &base.files {
        if let Err(e) = join.baseline_entry(path.clone(), file.clone()) {
            join.problems.push(e);
            break;
        }
    }
    join.finish()
}

/// Most changes [`diff_file`] lists; past it they are only counted (a baseline of millions of
/// files against an emptied site is millions of removals, and each becomes a finding).
pub const MAX_LISTED_CHANGES: usize = 20_000;

/// What [`diff_file`] found, with what the baseline said of itself.
#[derive(Debug)]
pub struct FileDiff {
    /// Changes, sorted by path: the first [`MAX_LISTED_CHANGES`] in path order.
    pub changes: Vec<Change>,
    /// Changes past the cap: added, changed, removed.
    pub unlisted: [u64; 3],
    /// Problems (unreadable files, a diff cut short).
    pub problems: Vec<String>,
    /// When the baseline was taken.
    pub created: Timestamp,
    /// Files the baseline records.
    pub files: u64,
    /// The directory it was taken of.
    pub root: String,
}

/// Compares `src` with the baseline in `path` without loading it: the baseline is streamed
/// and merged, entry by entry, with the sorted walk of `src`, so memory follows the tree being
/// checked, not the baseline (a 3-million-entry baseline once took 7.4 GB). A baseline whose
/// entries are out of path order (written by hand or edited), or with a string longer than a
/// copy can be, is refused.
pub fn diff_file(path: &Path, src: &dyn Source, threads: usize) -> Result<FileDiff, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = StringCap::new(std::io::BufReader::with_capacity(1 << 20, file));
    let mut join = Join::new(src, threads);
    join.limit = MAX_LISTED_CHANGES;
    let mut de = serde_json::Deserializer::from_reader(reader);
    let head = serde::de::DeserializeSeed::deserialize(StreamSeed { join: &mut join }, &mut de)
        .map_err(|e| format!("{}: not a baseline: {e}", path.display()))?;
    if head.format != FORMAT {
        return Err(format!(
            "{}: format `{}`, expected `{FORMAT}`",
            path.display(),
            head.format
        ));
    }
    let files = join.entries;
    let unlisted = join.unlisted;
    let (changes, mut problems) = join.finish();
    let more: u64 = unlisted.iter().sum();
    if more > 0 {
        problems.push(format!(
            "{more} more changes ({} added, {} changed, {} removed) past the first {MAX_LISTED_CHANGES} are counted, not listed",
            unlisted[0], unlisted[1], unlisted[2]
        ));
    }
    Ok(FileDiff {
        changes,
        unlisted,
        problems,
        created: head.created,
        files,
        root: head.root,
    })
}

/// The merge of a baseline (entries in path order) with the walk of the tree now.
struct Join<'a> {
    src: &'a dyn Source,
    /// Files and file symlinks now, sorted by their displayed path.
    now: Vec<(String, PathBuf, firewarden_source::Metadata, Option<String>)>,
    next: usize,
    last_key: Option<String>,
    entries: u64,
    changes: Vec<Change>,
    problems: Vec<String>,
    /// Most changes kept; the rest are counted in `unlisted` (added, changed, removed).
    limit: usize,
    unlisted: [u64; 3],
}

impl<'a> Join<'a> {
    fn new(src: &'a dyn Source, threads: usize) -> Self {
        let walked = walk_parallel(src, Path::new("/"), &WalkOptions::default(), threads.max(1));
        let mut problems: Vec<String> = walked.errors.iter().map(|e| e.to_string()).collect();
        problems.extend(walk_limits(&walked));
        let mut now: Vec<_> = walked
            .entries
            .into_iter()
            .filter_map(|(path, meta)| {
                let (meta, link) = file_or_link(src, &path, meta)?;
                Some((display_path(&path), path, meta, link))
            })
            .collect();
        now.sort_by(|a, b| a.0.cmp(&b.0));
        Join {
            src,
            now,
            next: 0,
            last_key: None,
            entries: 0,
            changes: Vec::new(),
            problems,
            limit: usize::MAX,
            unlisted: [0; 3],
        }
    }

    /// Keeps a change, or counts it once the list is full.
    fn push(&mut self, change: Change) {
        if self.changes.len() < self.limit {
            self.changes.push(change);
            return;
        }
        let kind = match change {
            Change::Added { .. } => 0,
            Change::Changed { .. } => 1,
            Change::Removed { .. } => 2,
        };
        self.unlisted[kind] += 1;
    }

    /// Files now whose paths sort before `key` were added since.
    fn added_before(&mut self, key: Option<&str>) {
        while let Some((k, path, meta, link)) = self.now.get(self.next) {
            if key.is_some_and(|key| k.as_str() >= key) {
                break;
            }
            match hash_entry(self.src, path, meta, link.as_deref(), false) {
                Ok((sha256, _)) => {
                    let change = Change::Added {
                        path: k.clone(),
                        sha256,
                        link: link.clone(),
                    };
                    self.push(change);
                }
                Err(e) => self.problems.push(format!("{k}: {e}")),
            }
            self.next += 1;
        }
    }

    fn baseline_entry(&mut self, key: String, old: BaselineFile) -> Result<(), String> {
        if self.last_key.as_ref().is_some_and(|last| *last >= key) {
            return Err(format!(
                "baseline entries are not in path order at {key} (edited by hand?); the rest was not compared"
            ));
        }
        self.entries += 1;
        self.added_before(Some(&key));
        let same = self.now.get(self.next).filter(|(k, ..)| *k == key).cloned();
        match same {
            None => self.push(Change::Removed { path: key.clone() }),
            Some((_, path, meta, link)) => {
                self.next += 1;
                let wants_text = old.text.is_some() && meta.size <= COPY_LIMIT;
                match hash_entry(self.src, &path, &meta, link.as_deref(), wants_text) {
                    Err(e) => self.problems.push(format!("{key}: {e}")),
                    Ok((sha, text)) => {
                        let mode = meta.mode_octal();
                        let mode_change = (old.mode != mode).then(|| (old.mode.clone(), mode));
                        if old.sha256 != sha || mode_change.is_some() || old.link != link {
                            let diff = match (&old.text, &text) {
                                (Some(a), Some(b)) if old.sha256 != sha => {
                                    let (d, cut) = unified(a, b, &key);
                                    if let Some(why) = cut {
                                        self.problems.push(format!("{key}: {why}"));
                                    }
                                    Some(d)
                                }
                                _ => None,
                            };
                            self.push(Change::Changed {
                                path: key.clone(),
                                before: old.sha256,
                                after: sha,
                                mode: mode_change,
                                diff,
                                link,
                            });
                        }
                    }
                }
            }
        }
        self.last_key = Some(key);
        Ok(())
    }

    fn finish(mut self) -> (Vec<Change>, Vec<String>) {
        self.added_before(None);
        self.changes
            .sort_by(|a, b| change_path(a).cmp(change_path(b)));
        (self.changes, self.problems)
    }
}

/// The baseline's own fields, read while its `files` are streamed into a [`Join`].
struct Head {
    format: String,
    root: String,
    created: Timestamp,
}

struct StreamSeed<'j, 'a> {
    join: &'j mut Join<'a>,
}

impl<'de> serde::de::DeserializeSeed<'de> for StreamSeed<'_, '_> {
    type Value = Head;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Head, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for StreamSeed<'_, '_> {
    type Value = Head;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a firewarden baseline object")
    }
    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Head, M::Error> {
        let (mut format, mut root, mut created) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => format = Some(map.next_value::<String>()?),
                "root" => root = Some(map.next_value::<String>()?),
                "created" => created = Some(map.next_value::<Timestamp>()?),
                "files" => map.next_value_seed(FilesSeed {
                    join: &mut *self.join,
                })?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(Head {
            format: format.ok_or_else(|| serde::de::Error::missing_field("format"))?,
            root: root.unwrap_or_default(),
            created: created.ok_or_else(|| serde::de::Error::missing_field("created"))?,
        })
    }
}

struct FilesSeed<'j, 'a> {
    join: &'j mut Join<'a>,
}

impl<'de> serde::de::DeserializeSeed<'de> for FilesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for FilesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map of files")
    }
    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some((key, file)) = map.next_entry::<String, BaselineFile>()? {
            self.join
                .baseline_entry(key, file)
                .map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

/// Refuses a JSON string longer than any a baseline holds (a copy is at most [`COPY_LIMIT`]
/// bytes, up to six times that escaped), before the parser buffers it whole.
struct StringCap<R> {
    inner: R,
    in_string: bool,
    escaped: bool,
    run: u64,
}

/// Longest JSON string token accepted in a baseline.
const MAX_STRING: u64 = 6 * COPY_LIMIT + 1024;

impl<R: Read> StringCap<R> {
    fn new(inner: R) -> Self {
        StringCap {
            inner,
            in_string: false,
            escaped: false,
            run: 0,
        }
    }
}

impl<R: Read> Read for StringCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if self.in_string {
                self.run += 1;
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                if self.run > MAX_STRING {
                    return Err(std::io::Error::other(format!(
                        "a string longer than {MAX_STRING} bytes, more than any baseline holds"
                    )));
                }
            } else if b == b'"' {
                self.in_string = true;
                self.run = 0;
            }
        }
        Ok(n)
    }
}

/// The path a change is about.
pub fn change_path(c: &Change) -> &str {
    match c {
        Change::Added { path, .. } | Change::Changed { path, .. } | Change::Removed { path } => {
            path
        }
    }
}

/// Most lines of one file's unified diff kept in a report.
const MAX_DIFF_LINES: usize = 2_000;

/// A unified diff of two texts, computed within a deadline (Myers' algorithm is quadratic on
/// files that differ everywhere: a changed 150,000-line file once took over two minutes) and
/// cut at [`MAX_DIFF_LINES`]; the second value says what was cut short.
fn unified(a: &str, b: &str, name: &str) -> (String, Option<String>) {
    let started = std::time::Instant::now();
    let deadline = std::time::Duration::from_secs(2);
    let diff = similar::TextDiff::configure()
        .timeout(deadline)
        .diff_lines(a, b);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header(&format!("baseline{name}"), &format!("now{name}"))
        .to_string();
    let mut notes = Vec::new();
    if started.elapsed() >= deadline {
        notes.push("the line diff hit its 2 s deadline and is coarser than minimal".to_owned());
    }
    let lines = text.lines().count();
    if lines > MAX_DIFF_LINES {
        notes.push(format!(
            "the line diff has {lines} lines; the first {MAX_DIFF_LINES} are shown"
        ));
        let mut cut: String = text
            .lines()
            .take(MAX_DIFF_LINES)
            .flat_map(|l| [l, "\n"])
            .collect();
        cut.push_str(&format!("… {} more lines\n", lines - MAX_DIFF_LINES));
        return (cut, Some(notes.join("; ")));
    }
    (text, (!notes.is_empty()).then(|| notes.join("; ")))
}

/// Reads a baseline file.
pub fn load(path: &Path) -> Result<Baseline, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let b: Baseline = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: not a baseline: {e}", path.display()))?;
    if b.format != FORMAT {
        return Err(format!(
            "{}: format `{}`, expected `{FORMAT}`",
            path.display(),
            b.format
        ));
    }
    Ok(b)
}

/// The directory a baseline was taken of.
pub fn root_of(b: &Baseline) -> PathBuf {
    PathBuf::from(&b.root)
}

/// The directory the baseline in `path` was taken of, read without loading its files (the
/// `root` field comes before them; the rest of the file is skipped unparsed where it does).
pub fn root_of_file(path: &Path) -> Result<PathBuf, String> {
    #[derive(Deserialize)]
    struct RootOnly {
        root: String,
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = StringCap::new(std::io::BufReader::with_capacity(1 << 20, file));
    let mut de = serde_json::Deserializer::from_reader(reader);
    let head: RootOnly = serde::Deserialize::deserialize(&mut de)
        .map_err(|e| format!("{}: not a baseline: {e}", path.display()))?;
    Ok(PathBuf::from(head.root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use firewarden_source::FsSource;

    #[test]
    fn diff_names_added_changed_removed_with_text() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        std::fs::create_dir(r.join("css")).unwrap();
        std::fs::write(
            r.join("index.html"),
            "<html>\n<body>\nhello\n</body>\n</html>\n",
        )
        .unwrap();
        std::fs::write(r.join("css/a.css"), "a{}\n").unwrap();
        std::fs::write(r.join("old.php"), "<?php echo 1;\n").unwrap();
        let src = FsSource::root(r).unwrap();
        let (base, problems) = create(&src, &r.display().to_string(), true, 2);
        assert!(problems.is_empty());
        assert_eq!(base.files.len(), 3);

        std::fs::write(r.join("index.html"), "<html>\n<body>\nhello\n<script src=\"http://198.51.100.7/x.js\"></script>\n</body>\n</html>\n").unwrap();
        std::fs::remove_file(r.join("old.php")).unwrap();
        std::fs::write(r.join("css/shell.php"), "<?php eval($_POST[1]);").unwrap();
        let (changes, _) = diff(&base, &src, 2);
        let kinds: Vec<(&str, &str)> = changes
            .iter()
            .map(|c| match c {
                Change::Added { path, .. } => ("added", path.as_str()),
                Change::Changed { path, .. } => ("changed", path.as_str()),
                Change::Removed { path } => ("removed", path.as_str()),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("added", "/css/shell.php"),
                ("changed", "/index.html"),
                ("removed", "/old.php")
            ]
        );
        let Change::Changed { diff: Some(d), .. } = &changes[1] else {
            panic!("no diff")
        };
        assert!(
            d.contains("+<script src=\"http://198.51.100.7/x.js\"></script>"),
            "{d}"
        );

        // Streaming the baseline from a file gives the same changes.
        let streamed_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(streamed_file.path(), serde_json::to_vec(&base).unwrap()).unwrap();
        let streamed = diff_file(streamed_file.path(), &src, 2).unwrap();
        assert_eq!(streamed.changes, changes);
        assert_eq!(streamed.files, 3);

        // Round trip through JSON.
        let json = serde_json::to_string(&base).unwrap();
        let out = tempfile::tempdir().unwrap();
        let f = out.path().join("base.json");
        std::fs::write(&f, json).unwrap();
        assert_eq!(load(&f).unwrap(), base);
    }

    /// `shell.php -> /tmp/.x/x.php`: a webshell kept outside the site and linked into it.
    #[test]
    fn a_symlink_into_the_site_is_reported_with_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("inc")).unwrap();
        std::fs::write(site.join("index.php"), "<?php echo 1;\n").unwrap();
        std::fs::write(site.join("inc/real.php"), "<?php echo 2;\n").unwrap();
        let src = FsSource::root(&site).unwrap();
        let (base, _) = create(&src, "site", false, 1);
        std::os::unix::fs::symlink("/tmp/.x/x.php", site.join("shell.php")).unwrap();
        std::os::unix::fs::symlink("inc/real.php", site.join("alias.php")).unwrap();
        let (changes, _) = diff(&base, &src, 1);
        let added: Vec<(&str, Option<&str>)> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Added { path, link, .. } => Some((path.as_str(), link.as_deref())),
                _ => None,
            })
            .collect();
        assert_eq!(
            added,
            [
                ("/alias.php", Some("inc/real.php")),
                ("/shell.php", Some("/tmp/.x/x.php"))
            ]
        );
        // Re-pointing a recorded link is a change.
        let (base, _) = create(&src, "site", false, 1);
        std::fs::remove_file(site.join("shell.php")).unwrap();
        std::os::unix::fs::symlink("/dev/shm/y.php", site.join("shell.php")).unwrap();
        let (changes, _) = diff(&base, &src, 1);
        assert!(
            matches!(&changes[..], [Change::Changed { path, link: Some(l), .. }] if path == "/shell.php" && l == "/dev/shm/y.php"),
            "{changes:?}"
        );
    }

    /// A baseline streamed from disk: entries out of path order, or a string longer than any
    /// copy, are refused rather than trusted or buffered.
    #[test]
    fn a_hostile_baseline_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let src = FsSource::root(dir.path()).unwrap();
        let f = dir.path().join("b.json");
        let entry = r#"{"size":1,"mode":"644","sha256":"00"}"#;
        std::fs::write(&f, format!(r#"{{"format":"{FORMAT}","root":"/","created":"2026-01-01T00:00:00Z","files":{{"/b":{entry},"/a":{entry}}}}}"#)).unwrap();
        let d = diff_file(&f, &src, 1).unwrap_err();
        assert!(d.contains("not in path order"), "{d}");
        let huge = "x".repeat(MAX_STRING as usize + 10);
        std::fs::write(&f, format!(r#"{{"format":"{FORMAT}","root":"/","created":"2026-01-01T00:00:00Z","files":{{"/a":{{"size":1,"mode":"644","sha256":"00","text":"{huge}"}}}}}}"#)).unwrap();
        let d = diff_file(&f, &src, 1).unwrap_err();
        assert!(d.contains("longer than"), "{d}");
    }

    /// A file that differs on every line: the diff is bounded in time and size.
    #[test]
    fn a_diff_of_a_rewritten_file_is_bounded() {
        let a: String = (0..150_000).map(|i| format!("line {i}\n")).collect();
        let b: String = (0..150_000)
            .map(|i| format!("LINE {}\n", i * 7 % 150_000))
            .collect();
        let (text, cut) = unified(&a, &b, "/big.txt");
        assert!(text.lines().count() <= MAX_DIFF_LINES + 1);
        assert!(cut.is_some());
    }

    /// A file hidden below the walk's depth limit is named, not silently left out.
    #[test]
    fn directories_past_the_depth_limit_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut deep = dir.path().to_path_buf();
        for i in 0..40 {
            deep.push(format!("d{i}"));
        }
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("shell.php"), "<?php eval($_POST[1]);").unwrap();
        let src = FsSource::root(dir.path()).unwrap();
        let (_, problems) = create(&src, "site", false, 1);
        assert!(
            problems.iter().any(|p| p.contains("deeper than")),
            "{problems:?}"
        );
        let (base, _) = create(&src, "site", false, 1);
        let (_, problems) = diff(&base, &src, 1);
        assert!(
            problems.iter().any(|p| p.contains("deeper than")),
            "{problems:?}"
        );
    }
}
