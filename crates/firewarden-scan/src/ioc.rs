//! Hash and file-name IOC lists in signature-base's (LOKI's) formats.
//!
//! * hash lists: `HASH;DESCRIPTION` per line, MD5, SHA-1 or SHA-256, `#` comments;
//! * file-name lists: `REGEX;SCORE[;FALSE-POSITIVE-REGEX]` per line, case-sensitive unless the
//!   regex says `(?i)`, `#` comments.
//!
//! A directory is read the way LOKI reads it: a file whose name contains `hash` is a hash list,
//! one whose name contains `filename` is a file-name list; other files are ignored (and said so).

use regex::{Regex, RegexSet};
use std::collections::HashMap;
use std::path::Path;

/// File-name patterns per compiled set.
const SET_CHUNK: usize = 64;

/// A hash IOC that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashHit {
    /// `md5`, `sha1` or `sha256`.
    pub algorithm: &'static str,
    /// The hash, lower-case hex.
    pub hash: String,
    /// The list's description.
    pub description: String,
}

/// A file-name IOC that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameHit {
    /// The regex as written in the list.
    pub pattern: String,
    /// LOKI score (0–100).
    pub score: u32,
    /// The comment block above it in the list, when there is one.
    pub description: String,
}

struct NameIoc {
    pattern: String,
    score: u32,
    exclude: Option<Regex>,
    description: String,
}

/// Loaded IOC lists.
#[derive(Default)]
pub struct Iocs {
    hashes: HashMap<Vec<u8>, String>,
    lengths: [bool; 3],
    names: Vec<NameIoc>,
    /// The patterns in sets of [`SET_CHUNK`]: one set of all ~4,000 signature-base patterns
    /// overflows the lazy DFA's cache and falls back to the slow engine (measured: 313 s for
    /// 42k paths, against seconds when chunked).
    name_sets: Vec<(usize, RegexSet)>,
    /// Lines that could not be used, with the reason.
    pub problems: Vec<String>,
}

impl std::fmt::Debug for Iocs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iocs")
            .field("hashes", &self.hashes.len())
            .field("names", &self.names.len())
            .finish()
    }
}

impl Iocs {
    /// Reads every list in `dir` (or the one file `dir`).
    pub fn load(dir: &Path) -> std::io::Result<Iocs> {
        let mut iocs = Iocs::default();
        let files: Vec<_> = if dir.is_file() {
            vec![dir.to_path_buf()]
        } else {
            let mut v: Vec<_> = std::fs::read_dir(dir)?
                .flatten()
                .map(|e| e.path())
                .collect();
            v.sort();
            v
        };
        for f in files {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&std::fs::read(&f)?).into_owned();
            if name.contains("hash") {
                iocs.add_hashes(&text, &f);
            } else if name.contains("filename") {
                iocs.add_names(&text, &f);
            }
        }
        iocs.finish();
        Ok(iocs)
    }

    /// Adds a hash list's text.
    pub fn add_hashes(&mut self, text: &str, origin: &Path) {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (hash, desc) = line.split_once(';').unwrap_or((line, ""));
            let hash = hash.trim();
            let Some(bytes) = crate::decode::hex(hash.as_bytes()) else {
                self.problems.push(format!(
                    "{}:{}: not an MD5/SHA-1/SHA-256 hash",
                    origin.display(),
                    n + 1
                ));
                continue;
            };
            match bytes.len() {
                16 => self.lengths[0] = true,
                20 => self.lengths[1] = true,
                32 => self.lengths[2] = true,
                _ => {
                    self.problems.push(format!(
                        "{}:{}: not an MD5/SHA-1/SHA-256 hash",
                        origin.display(),
                        n + 1
                    ));
                    continue;
                }
            }
            self.hashes.insert(bytes, desc.trim().to_string());
        }
    }

    /// Adds a file-name list's text.
    pub fn add_names(&mut self, text: &str, origin: &Path) {
        let mut comment = String::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                comment.clear();
                continue;
            }
            if let Some(c) = line.strip_prefix('#') {
                comment = c.trim().to_string();
                continue;
            }
            let mut parts = line.splitn(3, ';');
            let pattern = parts.next().unwrap_or("").to_string();
            let score = parts
                .next()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(50);
            let exclude = parts.next().filter(|s| !s.is_empty());
            if Regex::new(&pattern).is_err() {
                self.problems.push(format!(
                    "{}:{}: file-name regex does not compile",
                    origin.display(),
                    n + 1
                ));
                continue;
            }
            let exclude = match exclude.map(Regex::new) {
                Some(Ok(r)) => Some(r),
                Some(Err(_)) => {
                    self.problems.push(format!(
                        "{}:{}: false-positive regex does not compile; the IOC is used without it",
                        origin.display(),
                        n + 1
                    ));
                    None
                }
                None => None,
            };
            self.names.push(NameIoc {
                pattern,
                score,
                exclude,
                description: comment.clone(),
            });
        }
    }

    fn finish(&mut self) {
        self.name_sets = self
            .names
            .chunks(SET_CHUNK)
            .enumerate()
            .filter_map(|(i, chunk)| {
                regex::RegexSetBuilder::new(chunk.iter().map(|n| &n.pattern))
                    .dfa_size_limit(8 << 20)
                    .build()
                    .ok()
                    .map(|set| (i * SET_CHUNK, set))
            })
            .collect();
    }

    /// Number of hash and file-name IOCs loaded.
    pub fn counts(&self) -> (usize, usize) {
        (self.hashes.len(), self.names.len())
    }

    /// True when no hash IOC is loaded, so files need not be hashed.
    pub fn wants_hashes(&self) -> bool {
        !self.hashes.is_empty()
    }

    /// Hash IOCs matching `data`; only the algorithms the lists use are computed.
    pub fn match_hashes(&self, data: &[u8]) -> Vec<HashHit> {
        use md5::Digest as _;
        let mut out = Vec::new();
        let mut check = |algorithm: &'static str, digest: &[u8]| {
            if let Some(desc) = self.hashes.get(digest) {
                out.push(HashHit {
                    algorithm,
                    hash: digest.iter().map(|b| format!("{b:02x}")).collect(),
                    description: desc.clone(),
                });
            }
        };
        if self.lengths[0] {
            check("md5", &md5::Md5::digest(data));
        }
        if self.lengths[1] {
            check("sha1", &sha1::Sha1::digest(data));
        }
        if self.lengths[2] {
            check("sha256", &sha2::Sha256::digest(data));
        }
        out
    }

    /// File-name IOCs matching `path`. LOKI's lists are written for Windows paths, so the path
    /// is tried both as is and with `/` turned into `\`.
    pub fn match_name(&self, path: &str) -> Vec<NameHit> {
        if self.name_sets.is_empty() {
            return Vec::new();
        }
        let windows = path.replace('/', "\\");
        let mut idx: Vec<usize> = Vec::new();
        for (base, set) in &self.name_sets {
            idx.extend(set.matches(path).into_iter().map(|i| base + i));
            idx.extend(set.matches(&windows).into_iter().map(|i| base + i));
        }
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter()
            .filter_map(|i| {
                let n = &self.names[i];
                let excluded = n
                    .exclude
                    .as_ref()
                    .is_some_and(|x| x.is_match(path) || x.is_match(&windows));
                (!excluded).then(|| NameHit {
                    pattern: n.pattern.clone(),
                    score: n.score,
                    description: n.description.clone(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_lists_match_every_algorithm_they_name() {
        let mut i = Iocs::default();
        // md5("abc"), sha256("abc")
        i.add_hashes(
            "# comment\n900150983cd24fb0d6963f7d28e17f72;abc md5\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad;abc sha256\nnot-a-hash;x\n",
            Path::new("h.txt"),
        );
        let hits = i.match_hashes(b"abc");
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].algorithm, "md5");
        assert_eq!(hits[1].description, "abc sha256");
        assert!(i.match_hashes(b"abd").is_empty());
        assert_eq!(i.problems.len(), 1);
    }

    #[test]
    fn file_name_lists_use_scores_and_false_positive_exclusions() {
        let mut i = Iocs::default();
        i.add_names(
            "# Tunnel shells\n\\\\foo\\.jsp;75;(examples|/demo-base/)\n/tmp/\\.gdm-socket;70\n(unclosed;50\n",
            Path::new("f.txt"),
        );
        i.finish();
        let hit = i.match_name("/var/lib/tomcat9/webapps/ROOT/foo.jsp");
        assert_eq!(hit.len(), 1);
        assert_eq!(hit[0].score, 75);
        assert_eq!(hit[0].description, "Tunnel shells");
        assert!(i.match_name("/opt/examples/foo.jsp").is_empty());
        assert_eq!(i.match_name("/tmp/.gdm-socket").len(), 1);
        assert_eq!(i.problems.len(), 1);
    }

    #[test]
    fn signature_base_lists_load() {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/signature-base/iocs");
        if !dir.exists() {
            eprintln!("skipped: {} is absent", dir.display());
            return;
        }
        let i = Iocs::load(&dir).unwrap();
        let (h, n) = i.counts();
        assert!(h > 3000, "{h} hashes");
        assert!(n > 1000, "{n} names");
    }
}
