//! File scanning for `firewarden scan` and triage: YARA rule packs (the built-in pack written
//! for Firewarden, plus external directories such as signature-base), heuristics for
//! obfuscated scripts, hash and file-name IOCs, page tampering and database dumps.
//!
//! Everything reads through a [`Source`], so a scan of the live host, a mounted image or an
//! evidence bundle is the same code; symlinks are never followed and nothing is written.
//!
//! ```
//! use firewarden_scan::{Engine, ScanOptions};
//! use firewarden_source::FsSource;
//! use std::path::PathBuf;
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::create_dir(dir.path().join("www")).unwrap();
//! std::fs::write(dir.path().join("www/up.php"), "<?php @eval($_POST['x']); ?>").unwrap();
//! let engine = Engine::new(ScanOptions::default(), &[], None).unwrap();
//! let src = FsSource::root(dir.path()).unwrap();
//! let out = engine.scan(&src, &[PathBuf::from("/www")], &|_| {});
//! assert!(out.findings.iter().any(|f| f.evidence[0].path.as_deref() == Some("/www/up.php")));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod asp_tricks;
pub mod baseline;
mod builtin;
mod decode;
pub mod dumps;
mod flows;
pub mod heuristics;
pub mod ioc;
mod perl;
mod php_fold;
mod php_tricks;
mod presence;
pub mod rules;
pub mod shellmodel;
pub mod tamper;
pub mod webroots;

/// The check ids a module's scan (`fn(lowercased page, hits)`) reports on `page`, lowercased
/// first as the engine does: the one helper of the modules' unit tests.
#[cfg(test)]
pub(crate) fn lowered_ids(scan: fn(&str, &mut Vec<Hit>), page: &str) -> Vec<&'static str> {
    let mut hits = Vec::new();
    scan(&page.to_ascii_lowercase(), &mut hits);
    hits.iter().map(|h| h.check).collect()
}

use firewarden_model::{Evidence, Finding, Severity, Timestamp, Warning};
use firewarden_source::{FileKind, Metadata, Source, WalkOptions, display_path, walk_parallel};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

pub use dumps::DumpKind;
pub use ioc::Iocs;
pub use rules::{RuleLoadError, RuleSet};

/// Largest file a scan reads into memory, whatever `--max-file-size` says.
pub const MAX_SCAN_SIZE: u64 = 128 << 20;

/// Bytes of file content (and its working copies) the scan threads may hold at once: a large
/// file waits until the others are done rather than all of them being in memory together.
const MEMORY_BUDGET: u64 = 384 << 20;

/// A count of bytes that scan threads reserve before reading a file.
struct Budget {
    left: Mutex<u64>,
    freed: std::sync::Condvar,
    total: u64,
}

/// Bytes reserved; given back when dropped.
struct Held<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Budget {
    fn new(total: u64) -> Self {
        Budget {
            left: Mutex::new(total),
            freed: std::sync::Condvar::new(),
            total,
        }
    }

    /// Waits until `bytes` (at most the whole budget) are free, and takes them.
    fn reserve(&self, bytes: u64) -> Held<'_> {
        let bytes = bytes.min(self.total);
        let mut left = self.left.lock().unwrap_or_else(|e| e.into_inner());
        while *left < bytes {
            left = self.freed.wait(left).unwrap_or_else(|e| e.into_inner());
        }
        *left -= bytes;
        Held {
            budget: self,
            bytes,
        }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        *self.budget.left.lock().unwrap_or_else(|e| e.into_inner()) += self.bytes;
        self.budget.freed.notify_all();
    }
}

/// Why a scan could not start.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The IOC directory could not be read.
    #[error("cannot read IOC lists {path}: {source}")]
    Iocs {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No rule could be loaded and heuristics are off: the scan would find nothing.
    #[error("no rules loaded: {0}")]
    NoRules(String),
}

/// What a scan does and how far it goes.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Use the built-in rule pack.
    pub builtin_rules: bool,
    /// Run the script heuristics.
    pub heuristics: bool,
    /// Look for page tampering (injected scripts, hidden iframes, SEO spam, auto_prepend).
    pub tampering: bool,
    /// Look for database dumps and archives.
    pub dumps: bool,
    /// Files larger than this are not scanned (a warning says so); file-name IOCs still apply.
    pub max_file_size: u64,
    /// Longest a YARA scan of one file may take before it is abandoned with a warning.
    pub file_timeout: Duration,
    /// Threads (0: one per core).
    pub threads: usize,
    /// Web roots: dumps and archives under them are downloadable, so they rank higher.
    pub web_roots: Vec<PathBuf>,
    /// Most entries one walk may list.
    pub max_entries: usize,
    /// Files modified before this are not reported (the incident window).
    pub since: Option<Timestamp>,
    /// Deepest directory level to descend to below each target.
    pub max_depth: usize,
    /// Directory names not to look inside (build trees, package caches), for quick scans of
    /// home directories; empty for a full scan.
    pub skip_dir_names: Vec<String>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            builtin_rules: true,
            heuristics: true,
            tampering: true,
            dumps: true,
            max_file_size: 64 << 20,
            file_timeout: Duration::from_secs(30),
            threads: 0,
            web_roots: Vec::new(),
            max_entries: 2_000_000,
            since: None,
            max_depth: 64,
            skip_dir_names: Vec::new(),
        }
    }
}

/// One thing a detector saw in one file, before it becomes a [`Finding`].
#[derive(Debug, Clone)]
pub struct Hit {
    /// Check id, e.g. `scan.heuristic.input_to_exec`.
    pub check: &'static str,
    /// How bad.
    pub severity: Severity,
    /// Short title (the path is added).
    pub title: String,
    /// Why, in plain words.
    pub why: String,
    /// ATT&CK techniques.
    pub attack: Vec<String>,
    /// Byte offset of what was seen, when it has one.
    pub offset: Option<usize>,
    /// For YARA hits: `namespace:rule` and the matched strings.
    pub rule: Option<RuleMatch>,
}

/// A YARA rule that matched a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleMatch {
    /// `builtin:FILE` or the rule file's path.
    pub namespace: String,
    /// Rule name.
    pub rule: String,
    /// Up to five `(identifier, offset, matched bytes made printable)`.
    pub strings: Vec<(String, usize, String)>,
}

/// A database dump or archive met during a scan, for linking to the request that took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpFile {
    /// Path inside the source.
    pub path: PathBuf,
    /// What it is.
    pub kind: DumpKind,
    /// Size in bytes.
    pub size: u64,
    /// Last modification.
    pub mtime: Timestamp,
    /// Under a web root, so downloadable.
    pub web_reachable: bool,
}

/// Size and SHA-256 of the running executable, read once per process (triage builds two
/// engines; the binary is megabytes).
fn own_executable() -> Option<&'static (u64, Vec<u8>)> {
    static OWN: std::sync::OnceLock<Option<(u64, Vec<u8>)>> = std::sync::OnceLock::new();
    OWN.get_or_init(|| {
        use sha2::Digest as _;
        // Streamed: held whole, the binary would add tens of MiB to a collection's peak.
        use std::io::Read as _;
        let mut h = sha2::Sha256::new();
        let mut f = std::fs::File::open("/proc/self/exe").ok()?;
        let (mut buf, mut size) = (vec![0u8; 1 << 16], 0u64);
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => {
                    h.update(&buf[..k]);
                    size += k as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
        Some((size, h.finalize().to_vec()))
    })
    .as_ref()
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct ScanOutput {
    /// Findings, sorted most severe first then by path.
    pub findings: Vec<Finding>,
    /// Files that could not be scanned, and why.
    pub warnings: Vec<Warning>,
    /// Dumps and archives seen (also reported as findings).
    pub dumps: Vec<DumpFile>,
    /// Regular files scanned.
    pub files: u64,
    /// Bytes scanned.
    pub bytes: u64,
}

/// Progress of a scan, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum ScanProgress {
    /// The walk listed this many files to scan.
    Listed(usize),
    /// This many files are done.
    Scanned(usize),
}

/// Compiled rules and IOCs, ready to scan any number of trees.
#[derive(Debug)]
pub struct Engine {
    rules: RuleSet,
    iocs: Iocs,
    opts: ScanOptions,
    /// Size and SHA-256 of the running executable: a security tool carries the names of what
    /// it looks for, so its own copies are recognised and left out instead of reported.
    own_exe: Option<&'static (u64, Vec<u8>)>,
}

impl Engine {
    /// Loads the rules (built-in and `rule_dirs`) and IOC lists. Rule files that do not compile
    /// are listed by [`Engine::rule_errors`] and the rest are used.
    pub fn new(
        opts: ScanOptions,
        rule_dirs: &[PathBuf],
        ioc_dir: Option<&Path>,
    ) -> Result<Engine, ScanError> {
        let rules = RuleSet::load(opts.builtin_rules, rule_dirs);
        if rules.file_count == 0 && !opts.heuristics && ioc_dir.is_none() {
            return Err(ScanError::NoRules(
                rules
                    .errors
                    .first()
                    .map(|e| format!("{}: {}", e.file, e.message))
                    .unwrap_or_else(|| "the built-in pack is off and no --rules were given".into()),
            ));
        }
        let iocs = match ioc_dir {
            Some(d) => Iocs::load(d).map_err(|source| ScanError::Iocs {
                path: d.to_path_buf(),
                source,
            })?,
            None => Iocs::default(),
        };
        let own_exe = own_executable();
        Ok(Engine {
            rules,
            iocs,
            opts,
            own_exe,
        })
    }

    /// Rule files that could not be loaded.
    pub fn rule_errors(&self) -> &[RuleLoadError] {
        &self.rules.errors
    }

    /// `(rule files, rules)` loaded.
    pub fn rule_counts(&self) -> (usize, usize) {
        (self.rules.file_count, self.rules.rule_count)
    }

    /// IOC lines that could not be used.
    pub fn ioc_problems(&self) -> &[String] {
        &self.iocs.problems
    }

    /// `(hash IOCs, file-name IOCs)` loaded.
    pub fn ioc_counts(&self) -> (usize, usize) {
        self.iocs.counts()
    }

    /// Scans every regular file under `roots` (paths inside `src`; a root may be a file).
    pub fn scan(
        &self,
        src: &dyn Source,
        roots: &[PathBuf],
        progress: &(dyn Fn(ScanProgress) + Sync),
    ) -> ScanOutput {
        let threads = if self.opts.threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        } else {
            self.opts.threads
        };
        let mut out = ScanOutput::default();
        let mut files: Vec<(PathBuf, Metadata)> = Vec::new();
        let mut links: Vec<(PathBuf, String)> = Vec::new();
        if self.opts.max_file_size > MAX_SCAN_SIZE {
            out.warnings.push(warning(
                None,
                format!(
                    "--max-file-size is capped at {MAX_SCAN_SIZE} bytes: a file is held in memory while it is scanned"
                ),
            ));
        }
        for root in roots {
            match src.symlink_metadata(root) {
                Ok(m) if m.kind == FileKind::File => files.push((root.clone(), m)),
                Ok(m) if m.kind == FileKind::Dir => {
                    let opts = WalkOptions {
                        skip_names: self
                            .opts
                            .skip_dir_names
                            .iter()
                            .map(std::ffi::OsString::from)
                            .collect(),
                        max_depth: self.opts.max_depth,
                        skip: Vec::new(),
                        max_entries: self.opts.max_entries,
                    };
                    let w = walk_parallel(src, root, &opts, threads);
                    for e in w.errors {
                        out.warnings.push(warning(None, e.to_string()));
                    }
                    if w.truncated {
                        out.warnings.push(warning(
                            Some(root),
                            format!(
                                "more than {} entries: the rest were not scanned",
                                self.opts.max_entries
                            ),
                        ));
                    }
                    for (path, m) in w.entries {
                        match m.kind {
                            FileKind::File => files.push((path, m)),
                            // `shell.php -> /tmp/.x/x.php`: the web server serves what the link
                            // names, so it is scanned (resolved inside the source's root) and
                            // reported under the link's path.
                            FileKind::Symlink => {
                                if let Ok(target) = src.metadata(&path)
                                    && target.kind == FileKind::File
                                {
                                    let to = src
                                        .read_link(&path)
                                        .map(|t| display_path(&t))
                                        .unwrap_or_else(|_| "?".into());
                                    links.push((path.clone(), to));
                                    files.push((path, target));
                                }
                            }
                            _ => {}
                        }
                    }
                    if let Some(first) = &w.first_too_deep {
                        out.warnings.push(warning(
                            Some(root),
                            format!(
                                "{} director(y/ies) at the depth limit of {} levels were not entered (first: {}): files below them were not scanned",
                                w.deepest_skipped,
                                self.opts.max_depth,
                                display_path(first)
                            ),
                        ));
                    }
                }
                Ok(_) => out.warnings.push(warning(
                    Some(root),
                    "not a regular file or directory (symlinks are not followed): not scanned"
                        .into(),
                )),
                Err(e) => out.warnings.push(warning(Some(root), e.to_string())),
            }
        }
        // A link whose target is itself scanned (a library's versioned names, an alias inside
        // the site) adds nothing: only links to files outside the scanned set are read.
        let link_paths: std::collections::HashSet<PathBuf> =
            links.iter().map(|(l, _)| l.clone()).collect();
        let regular: std::collections::HashSet<(u64, u64)> = files
            .iter()
            .filter(|(p, _)| !link_paths.contains(p))
            .map(|(_, m)| (m.dev, m.ino))
            .collect();
        files.retain(|(p, m)| !link_paths.contains(p) || !regular.contains(&(m.dev, m.ino)));
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files.dedup_by(|a, b| a.0 == b.0);
        let links: std::collections::HashMap<PathBuf, String> = links.into_iter().collect();
        let budget = Budget::new(MEMORY_BUDGET);
        progress(ScanProgress::Listed(files.len()));

        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let bytes = AtomicU64::new(0);
        let shared = Mutex::new(FileResults::default());
        std::thread::scope(|scope| {
            for _ in 0..threads.max(1) {
                scope.spawn(|| {
                    let mut local = FileResults::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((path, meta)) = files.get(i) else {
                            break;
                        };
                        // Content, its lower-case copy and a lossy copy may be held at
                        // once: reserve three times the bytes read.
                        let reserve = meta.size.min(self.max_file_size()).saturating_mul(3);
                        let _held = budget.reserve(reserve);
                        bytes.fetch_add(
                            self.scan_file(src, path, meta, links.get(path), &mut local),
                            Ordering::Relaxed,
                        );
                        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if d.is_multiple_of(256) {
                            progress(ScanProgress::Scanned(d));
                        }
                    }
                    let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                    s.findings.extend(local.findings);
                    s.warnings.extend(local.warnings);
                    s.dumps.extend(local.dumps);
                    s.vanished += local.vanished;
                });
            }
        });
        progress(ScanProgress::Scanned(files.len()));
        let merged = shared.into_inner().unwrap_or_else(|e| e.into_inner());
        out.findings = merged.findings;
        out.warnings.extend(merged.warnings);
        out.dumps = merged.dumps;
        if merged.vanished > 0 {
            out.warnings.push(warning(
                None,
                format!(
                    "{} file(s) vanished between listing and reading (the host changed during the scan)",
                    merged.vanished
                ),
            ));
        }
        out.files = files.len() as u64;
        out.bytes = bytes.into_inner();
        // Same order on every run, whatever the threads did.
        out.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| {
                    a.evidence
                        .first()
                        .map(|e| &e.path)
                        .cmp(&b.evidence.first().map(|e| &e.path))
                })
                .then_with(|| a.id.cmp(&b.id))
        });
        out.findings.dedup_by(|a, b| a.id == b.id);
        out.warnings
            .sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.message.cmp(&b.message)));
        out.dumps.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// The largest file read: `--max-file-size`, at most [`MAX_SCAN_SIZE`].
    fn max_file_size(&self) -> u64 {
        self.opts.max_file_size.min(MAX_SCAN_SIZE)
    }

    /// Scans one file (or the file a symlink names, `link` being its target); returns the
    /// bytes read.
    fn scan_file(
        &self,
        src: &dyn Source,
        path: &Path,
        meta: &Metadata,
        link: Option<&String>,
        out: &mut FileResults,
    ) -> u64 {
        let started = std::time::Instant::now();
        if self
            .opts
            .since
            .is_some_and(|s| meta.mtime < s && meta.ctime < s)
        {
            return 0;
        }
        let shown = display_path(path);
        let mut hits: Vec<Hit> = Vec::new();
        for n in self.iocs.match_name(&shown) {
            hits.push(Hit {
                check: "scan.ioc.filename",
                severity: score_severity(n.score),
                title: "File name matches an IOC".into(),
                why: format!(
                    "the path matches `{}` (score {}){}",
                    n.pattern,
                    n.score,
                    if n.description.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", n.description)
                    }
                ),
                attack: Vec::new(),
                offset: None,
                rule: None,
            });
        }
        if meta.size > self.max_file_size() {
            out.warnings.push(warning(
                Some(path),
                format!(
                    "{} bytes, over the {}-byte limit (--max-file-size): not scanned",
                    meta.size,
                    self.max_file_size()
                ),
            ));
            out.push(path, meta, &[], hits, None);
            return 0;
        }
        let data = match src.open(path).and_then(|r| {
            let mut v = Vec::with_capacity(meta.size.min(self.max_file_size()) as usize);
            r.take(self.max_file_size() + 1)
                .read_to_end(&mut v)
                .map_err(|e| firewarden_source::SourceError::Io {
                    path: path.to_path_buf(),
                    source: e,
                })?;
            Ok(v)
        }) {
            Ok(d) => d,
            Err(e) => {
                // Vanished between the walk and the read: a live host changes under us.
                // Counted, and said once for the whole scan.
                if e.is_not_found() {
                    out.vanished += 1;
                } else {
                    out.warnings.push(warning(Some(path), e.to_string()));
                }
                out.push(path, meta, &[], hits, None);
                return 0;
            }
        };
        if let Some((size, hash)) = self.own_exe
            && *size == data.len() as u64
            && {
                use sha2::Digest as _;
                sha2::Sha256::digest(&data).as_slice() == hash.as_slice()
            }
        {
            out.warnings.push(warning(
                Some(path),
                "a copy of this Firewarden executable: not scanned".into(),
            ));
            return data.len() as u64;
        }
        if self.iocs.wants_hashes() {
            for h in self.iocs.match_hashes(&data) {
                hits.push(Hit {
                    check: "scan.ioc.hash",
                    severity: Severity::Critical,
                    title: "File hash matches an IOC".into(),
                    why: format!("{} {} is listed: {}", h.algorithm, h.hash, h.description),
                    attack: Vec::new(),
                    offset: None,
                    rule: None,
                });
            }
        }
        self.yara(path, &shown, &data, &mut hits, out);
        if self.opts.heuristics
            && let Some(kind) = heuristics::script_kind(&shown, &data)
        {
            // A file named by a rule and by a heuristic keeps both: each says what it saw.
            // The heuristics share the file's --file-timeout with YARA.
            let (found, stopped) =
                heuristics::scan_script_until(kind, &data, Some(started + self.opts.file_timeout));
            hits.extend(found);
            // The learned model speaks only for scripts nothing else flagged: where a rule or
            // heuristic already said why, a score adds nothing.
            if !stopped
                && started.elapsed() < self.opts.file_timeout
                && !hits.iter().any(|h| h.severity >= Severity::Medium)
                && shellmodel::readable(&shown, &data)
                && let Some(h) = shellmodel::hit(kind, &data)
            {
                hits.push(h);
            }
            if stopped {
                out.warnings.push(warning(
                    Some(path),
                    format!(
                        "script heuristics stopped at --file-timeout ({} s); only what they found until then is reported",
                        self.opts.file_timeout.as_secs()
                    ),
                ));
            }
        }
        if self.opts.tampering && tamper::applies(&shown) {
            hits.extend(tamper::scan(&shown, &data));
        }
        let mut dump = None;
        if self.opts.dumps
            && let Some(kind) = dumps::classify(&shown, &data[..data.len().min(256 << 10)])
        {
            let web = self.opts.web_roots.iter().any(|r| path.starts_with(r));
            if kind.is_database() || web {
                dump = Some(DumpFile {
                    path: path.to_path_buf(),
                    kind,
                    size: meta.size,
                    mtime: meta.mtime,
                    web_reachable: web,
                });
            }
        }
        if let Some(to) = link {
            for h in &mut hits {
                h.why.push_str(&format!(
                    " ({} is a symlink to {}, which the web server follows)",
                    shown,
                    firewarden_model::printable(to, 200)
                ));
            }
        }
        out.push(path, meta, &data, hits, dump);
        data.len() as u64
    }

    fn yara(
        &self,
        path: &Path,
        shown: &str,
        data: &[u8],
        hits: &mut Vec<Hit>,
        out: &mut FileResults,
    ) {
        if self.rules.file_count == 0 {
            return;
        }
        let mut scanner = (*self.rules.scanner_for(data)).clone();
        let name = shown.rsplit('/').next().unwrap_or(shown);
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let _ = scanner.define_symbol("filename", name);
        let _ = scanner.define_symbol("filepath", shown);
        let _ = scanner.define_symbol("extension", ext.as_str());
        scanner.set_scan_params(
            boreal::scanner::ScanParams::default()
                .timeout_duration(Some(self.opts.file_timeout))
                .string_max_nb_matches(100),
        );
        let result = match scanner.scan_mem(data) {
            Ok(r) => r,
            Err((e, partial)) => {
                out.warnings.push(warning(
                    Some(path),
                    format!(
                        "YARA scan stopped ({e:?}); only the rules matched before that are reported"
                    ),
                ));
                partial
            }
        };
        for r in &result.rules {
            let mut severity = None;
            let mut description = String::new();
            let mut attack = String::new();
            for m in r.metadatas {
                let key = scanner.get_string_symbol(m.name);
                match (key, m.value) {
                    ("severity", boreal::MetadataValue::Bytes(b)) => {
                        severity = String::from_utf8_lossy(scanner.get_bytes_symbol(b))
                            .parse()
                            .ok();
                    }
                    ("score", boreal::MetadataValue::Integer(s)) if severity.is_none() => {
                        severity = Some(score_severity(u32::try_from(s).unwrap_or(0)));
                    }
                    ("description", boreal::MetadataValue::Bytes(b)) => {
                        description =
                            String::from_utf8_lossy(scanner.get_bytes_symbol(b)).into_owned();
                    }
                    ("attack", boreal::MetadataValue::Bytes(b)) => {
                        attack = String::from_utf8_lossy(scanner.get_bytes_symbol(b)).into_owned();
                    }
                    _ => {}
                }
            }
            let strings: Vec<(String, usize, String)> = r
                .matches
                .iter()
                .flat_map(|s| {
                    s.matches.iter().take(2).map(move |m| {
                        (
                            s.name.to_string(),
                            m.base + m.offset,
                            firewarden_model::printable(&String::from_utf8_lossy(&m.data), 80),
                        )
                    })
                })
                .take(5)
                .collect();
            let builtin = r.namespace.starts_with("builtin:");
            hits.push(Hit {
                check: if builtin {
                    "scan.yara.builtin"
                } else {
                    "scan.yara.external"
                },
                severity: severity.unwrap_or(Severity::High),
                title: format!("YARA {}", r.name),
                why: if description.is_empty() {
                    format!("rule `{}` from {} matched", r.name, r.namespace)
                } else {
                    format!("{description} (rule `{}`)", r.name)
                },
                attack: rule_attack(&attack, r.namespace, r.name),
                offset: strings.first().map(|s| s.1),
                rule: Some(RuleMatch {
                    namespace: r.namespace.to_string(),
                    rule: r.name.to_string(),
                    strings,
                }),
            });
        }
    }
}

#[derive(Default)]
struct FileResults {
    findings: Vec<Finding>,
    warnings: Vec<Warning>,
    dumps: Vec<DumpFile>,
    vanished: u64,
}

impl FileResults {
    /// Turns a file's hits (and dump, if any) into findings; `data` is the file's content
    /// (empty when it was not read), used for line numbers and excerpts.
    fn push(
        &mut self,
        path: &Path,
        meta: &Metadata,
        data: &[u8],
        hits: Vec<Hit>,
        dump: Option<DumpFile>,
    ) {
        let shown = display_path(path);
        for h in hits {
            let mut ev = Evidence::at(&shown);
            fill(&mut ev, meta);
            if let Some(off) = h.offset.filter(|&o| o < data.len()) {
                let line_start = memchr::memrchr(b'\n', &data[..off]).map_or(0, |p| p + 1);
                let line_end = memchr::memchr(b'\n', &data[off..]).map_or(data.len(), |p| off + p);
                ev.line = Some(memchr::memchr_iter(b'\n', &data[..off]).count() as u64 + 1);
                // Start the excerpt at what was seen: minified lines can be megabytes long.
                let from = if off - line_start > 120 {
                    off
                } else {
                    line_start
                };
                ev = ev.excerpt(String::from_utf8_lossy(
                    &data[from..line_end.min(from + 400)],
                ));
            }
            if let Some(m) = &h.rule {
                let strings = m
                    .strings
                    .iter()
                    .map(|(id, off, text)| format!("{id}@{off:#x}: {text}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                if !strings.is_empty() {
                    ev = ev.excerpt(strings);
                }
            }
            let mut f = Finding::new(h.check, format!("{}: {shown}", h.title), h.severity)
                .explain(format!("{shown}: {}.", h.why))
                .recommend(recommendation(h.check))
                .evidence(ev)
                .at_time(Some(meta.mtime));
            f.attack = h.attack;
            self.findings.push(f);
        }
        if let Some(d) = dump {
            let severity = match (d.kind.is_database(), d.web_reachable) {
                (true, true) => Severity::High,
                (true, false) | (false, true) => Severity::Medium,
                (false, false) => Severity::Low,
            };
            let mut ev = Evidence::at(&shown);
            fill(&mut ev, meta);
            let where_ = if d.web_reachable {
                "inside a web root, where anyone can download it"
            } else {
                "outside the web roots"
            };
            self.findings.push(
                Finding::new("scan.dump", format!("{} left on disk: {shown}", d.kind.describe()), severity)
                    .attack(&["T1005", "T1560.001", "T1048"])
                    .explain(format!("{shown} is a {} of {} bytes {where_}. Attackers dump a database or pack the site, then download the file (\"dragging\").", d.kind.describe(), d.size))
                    .recommend("Preserve the file and the web access logs; look for the request that downloaded it (status 200, size close to the file's) to learn who took the data and when; then notify data owners as required.")
                    .evidence(ev)
                    .at_time(Some(d.mtime)),
            );
            self.dumps.push(d);
        }
    }
}

fn fill(e: &mut Evidence, m: &Metadata) {
    e.owner = Some(m.uid.to_string());
    e.mode = Some(m.mode_octal());
    e.mtime = Some(m.mtime);
    e.ctime = Some(m.ctime);
}

fn warning(path: Option<&Path>, message: String) -> Warning {
    Warning {
        check: Some("scan".into()),
        path: path.map(display_path),
        message,
    }
}

/// LOKI/THOR scores: 0–100, where 80+ is an alert and 60+ a warning.
fn score_severity(score: u32) -> Severity {
    match score {
        85.. => Severity::Critical,
        70..85 => Severity::High,
        50..70 => Severity::Medium,
        _ => Severity::Low,
    }
}

/// ATT&CK techniques: a rule's own `attack` metadata (space-separated ids) when it has one,
/// else a guess from its namespace and name.
fn rule_attack(explicit: &str, namespace: &str, name: &str) -> Vec<String> {
    if !explicit.trim().is_empty() {
        return explicit.split_whitespace().map(str::to_string).collect();
    }
    let t = format!("{namespace} {name}").to_ascii_lowercase();
    let guess = if t.contains("webshell") || t.contains("web_shell") || t.contains("chopper") {
        "T1505.003"
    } else if t.contains("miner") || t.contains("xmrig") || t.contains("coin") {
        "T1496"
    } else if t.contains("rootkit") {
        "T1014"
    } else if t.contains("mimikatz") || t.contains("credential") {
        "T1003"
    } else if t.contains("hacktool") || t.contains("hktl") || t.contains("exploit") {
        "T1588.002"
    } else {
        return Vec::new();
    };
    vec![guess.to_string()]
}

fn recommendation(check: &str) -> &'static str {
    if check.starts_with("scan.tamper") {
        "Preserve the file, compare it with a known-good copy or baseline (`firewarden baseline diff`), restore it, and find how it was changed (web access logs, the account that owns it, its ctime)."
    } else if check.starts_with("scan.ioc") {
        "Preserve the file (hash and copy it into evidence), then check what created it and whether it ran (process list, shell histories, its ctime against the logs)."
    } else {
        "Preserve the file and the web or system logs around its ctime; find the first request or process that used it (the attacker's IP and entry time), then quarantine it and close the hole that let it in."
    }
}
