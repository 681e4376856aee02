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
    let mut files = BTreeMap::new();
    for (path, meta) in walked.entries {
        if meta.kind != FileKind::File {
            continue;
        }
        match hash_file(src, &path, copies && meta.size <= COPY_LIMIT) {
            Ok((sha256, text)) => {
                files.insert(
                    display_path(&path),
                    BaselineFile {
                        size: meta.size,
                        mode: meta.mode_octal(),
                        sha256,
                        text,
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

/// Compares `src` (walked from `/`) with a baseline. Changes are sorted by path.
pub fn diff(base: &Baseline, src: &dyn Source, threads: usize) -> (Vec<Change>, Vec<String>) {
    let mut problems = Vec::new();
    let walked = walk_parallel(src, Path::new("/"), &WalkOptions::default(), threads.max(1));
    problems.extend(walked.errors.iter().map(|e| e.to_string()));
    let mut changes = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (path, meta) in walked.entries {
        if meta.kind != FileKind::File {
            continue;
        }
        let key = display_path(&path);
        let old = base.files.get(&key);
        // Quick path: same size and mode still needs the hash (content can change in place).
        let wants_text = old.is_some_and(|o| o.text.is_some()) && meta.size <= COPY_LIMIT;
        let (sha, text) = match hash_file(src, &path, wants_text) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{key}: {e}"));
                continue;
            }
        };
        seen.insert(key.clone());
        match old {
            None => changes.push(Change::Added {
                path: key,
                sha256: sha,
            }),
            Some(o) => {
                let mode = meta.mode_octal();
                let mode_change = (o.mode != mode).then(|| (o.mode.clone(), mode));
                if o.sha256 != sha || mode_change.is_some() {
                    let diff = match (&o.text, &text) {
                        (Some(a), Some(b)) if o.sha256 != sha => Some(unified(a, b, &key)),
                        _ => None,
                    };
                    changes.push(Change::Changed {
                        path: key,
                        before: o.sha256.clone(),
                        after: sha,
                        mode: mode_change,
                        diff,
                    });
                }
            }
        }
    }
    for path in base.files.keys() {
        if !seen.contains(path) {
            changes.push(Change::Removed { path: path.clone() });
        }
    }
    changes.sort_by(|a, b| change_path(a).cmp(change_path(b)));
    (changes, problems)
}

/// The path a change is about.
pub fn change_path(c: &Change) -> &str {
    match c {
        Change::Added { path, .. } | Change::Changed { path, .. } | Change::Removed { path } => {
            path
        }
    }
}

fn unified(a: &str, b: &str, name: &str) -> String {
    similar::TextDiff::from_lines(a, b)
        .unified_diff()
        .context_radius(2)
        .header(&format!("baseline{name}"), &format!("now{name}"))
        .to_string()
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

        // Round trip through JSON.
        let json = serde_json::to_string(&base).unwrap();
        let out = tempfile::tempdir().unwrap();
        let f = out.path().join("base.json");
        std::fs::write(&f, json).unwrap();
        assert_eq!(load(&f).unwrap(), base);
    }
}
