//! Shared web facts: the layout (roots, access logs), one file scan of web roots, temp and
//! home directories with the built-in rules, and the access-log requests that matter — those
//! that reached a flagged file or a dump, and those that look like attacks.

use crate::facts::Facts;
use firewarden_artifacts::lines::LineReader;
use firewarden_artifacts::weblog::{self, Request};
use firewarden_model::{Timestamp, Warning};
use firewarden_scan::webroots::{self, WebLayout};
use firewarden_scan::{Engine, ScanOptions, ScanOutput};
use firewarden_source::{FileKind, Source, display_path};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Directory names a triage scan of temp and home directories does not enter: build output,
/// package caches and version-control data, large and written by tools, not by hand.
pub const HOME_SKIP: &[&str] = &[
    ".git",
    "node_modules",
    ".cargo",
    ".rustup",
    ".npm",
    ".m2",
    ".gradle",
    "target",
    "incremental",
    ".debug",
    "site-packages",
    ".pyenv",
    "go",
    ".cache",
];

/// Most bytes read from one access log (decompressed).
pub const ACCESS_LOG_CAP: u64 = 1 << 30;

/// A request kept from an access log, with where it was read.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// The parsed request.
    pub request: Request,
    /// `path:line` of the log.
    pub source: String,
}

/// What kind of attack a request looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AttackKind {
    /// A vulnerability scanner's user agent.
    Scanner,
    /// SQL injection.
    SqlInjection,
    /// Path traversal / local file inclusion.
    Traversal,
    /// Command or code injection (Shellshock, Log4Shell, Struts OGNL, ThinkPHP, PHPUnit…).
    CodeInjection,
}

impl AttackKind {
    /// Words for a human.
    pub fn describe(self) -> &'static str {
        match self {
            AttackKind::Scanner => "vulnerability scanner",
            AttackKind::SqlInjection => "SQL injection",
            AttackKind::Traversal => "path traversal / file inclusion",
            AttackKind::CodeInjection => "command or code injection",
        }
    }
}

/// Requests of one kind from one address.
#[derive(Debug, Clone)]
pub struct AttackSummary {
    /// How many.
    pub count: u64,
    /// How many got a 2xx answer.
    pub succeeded: u64,
    /// The first one.
    pub first: LoggedRequest,
    /// Time of the last one.
    pub last: Option<Timestamp>,
}

/// Everything the web checks share.
#[derive(Debug, Default)]
pub struct WebFacts {
    /// Roots and logs from the configuration.
    pub layout: WebLayout,
    /// The file scan.
    pub scan: ScanOutput,
    /// Requests for files the scan flagged (webshells) or dumps, by file path, oldest first.
    pub hits_by_file: BTreeMap<PathBuf, Vec<LoggedRequest>>,
    /// Attack-looking requests by (address, kind).
    pub attacks: BTreeMap<(String, AttackKind), AttackSummary>,
    /// Access-log lines that were not requests.
    pub unparsed: u64,
    /// Requests to watched files past [`MAX_HITS_PER_FILE`], counted, not kept.
    pub unlisted_hits: u64,
    /// (address, kind) pairs dropped from `attacks` when it passed [`MAX_ATTACK_SOURCES`], and
    /// the most requests one of them had.
    pub shed_attackers: (u64, u64),
    /// Problems met.
    pub warnings: Vec<Warning>,
}

/// Requests kept per watched file (webshell or dump); the rest are counted.
pub const MAX_HITS_PER_FILE: usize = 20_000;
/// (address, kind) pairs tracked for attack summaries; past it the lightest half is shed, so a
/// flood of one-request addresses cannot exhaust memory and a persistent attacker survives.
pub const MAX_ATTACK_SOURCES: usize = 100_000;

impl WebFacts {
    fn shed_light_attackers(&mut self) {
        const BUCKETS: usize = 64;
        let mut histogram = [0usize; BUCKETS + 1];
        for a in self.attacks.values() {
            histogram[(a.count as usize).min(BUCKETS)] += 1;
        }
        let (mut floor, mut left) = (0usize, self.attacks.len());
        while left > MAX_ATTACK_SOURCES / 2 && floor < BUCKETS {
            left -= histogram[floor];
            floor += 1;
        }
        let before = self.attacks.len();
        self.attacks.retain(|_, a| a.count as usize >= floor);
        self.shed_attackers.0 += (before - self.attacks.len()) as u64;
        self.shed_attackers.1 = self.shed_attackers.1.max(floor.saturating_sub(1) as u64);
    }

    /// Gathers everything; called once through [`Facts::web`].
    pub fn gather(src: &dyn Source, facts: &Facts) -> WebFacts {
        let layout = webroots::discover(src);
        let mut targets = Vec::new();
        for d in ["/tmp", "/var/tmp", "/dev/shm"] {
            targets.push(PathBuf::from(d));
        }
        for (_, home) in facts.homes(src) {
            if home == Path::new("/root") || home.starts_with("/home/") {
                targets.push(home);
            }
        }
        targets.retain(|t| {
            src.symlink_metadata(t)
                .is_ok_and(|m| m.kind == FileKind::Dir)
        });
        targets.sort();
        targets.dedup();
        let all = targets.clone();
        targets.retain(|t| {
            !all.iter().any(|o| o != t && t.starts_with(o))
                && !layout.roots.iter().any(|r| t.starts_with(r))
        });
        // Web roots are scanned whole; temp and home directories skip the build trees and
        // package caches that make up most of a developer's or CI machine's home, and go no
        // deeper than where droppers and tools are put.
        let web = ScanOptions {
            max_file_size: 16 << 20,
            max_entries: 500_000,
            web_roots: layout.roots.clone(),
            ..ScanOptions::default()
        };
        let homes = ScanOptions {
            max_depth: 6,
            max_entries: 200_000,
            skip_dir_names: HOME_SKIP.iter().map(|s| s.to_string()).collect(),
            ..web.clone()
        };
        let mut out = WebFacts {
            layout,
            ..Default::default()
        };
        let web_targets = out.layout.roots.clone();
        for (opts, targets) in [(web, web_targets), (homes, targets)] {
            match Engine::new(opts, &[], None) {
                Ok(engine) => {
                    let o = engine.scan(src, &targets, &|_| {});
                    out.scan.findings.extend(o.findings);
                    out.scan.warnings.extend(o.warnings);
                    out.scan.dumps.extend(o.dumps);
                    out.scan.files += o.files;
                    out.scan.bytes += o.bytes;
                }
                Err(e) => out.warnings.push(Warning {
                    check: None,
                    path: None,
                    message: format!("file scan not run: {e}"),
                }),
            }
        }
        out.read_access_logs(src);
        out
    }

    /// Whether the file a finding is about lies under a web root.
    pub fn under_roots(&self, f: &firewarden_model::Finding) -> bool {
        f.evidence
            .first()
            .and_then(|e| e.path.as_deref())
            .is_some_and(|p| {
                self.layout
                    .roots
                    .iter()
                    .any(|r| Path::new(p).starts_with(r))
            })
    }

    /// Files whose requests matter: flagged scripts and dumps, indexed by file name.
    fn watched(&self) -> HashMap<String, Vec<PathBuf>> {
        let mut by_name: HashMap<String, Vec<PathBuf>> = HashMap::new();
        let flagged = self
            .scan
            .findings
            .iter()
            .filter(|f| {
                !f.check.starts_with("scan.tamper")
                    && f.severity >= firewarden_model::Severity::High
            })
            .filter_map(|f| {
                f.evidence
                    .first()
                    .and_then(|e| e.path.clone())
                    .map(PathBuf::from)
            });
        let dumps = self.scan.dumps.iter().map(|d| d.path.clone());
        for p in flagged.chain(dumps) {
            if !self.layout.roots.iter().any(|r| p.starts_with(r)) {
                continue;
            }
            if let Some(n) = p.file_name() {
                let v = by_name.entry(n.to_string_lossy().into_owned()).or_default();
                if !v.contains(&p) {
                    v.push(p);
                }
            }
        }
        by_name
    }

    fn read_access_logs(&mut self, src: &dyn Source) {
        let watched = self.watched();
        for log in self.layout.access_logs.clone() {
            let reader = match firewarden_source::open_decompressed(src, &log) {
                Ok(r) => r,
                Err(e) => {
                    self.warnings.push(Warning {
                        check: None,
                        path: Some(display_path(&log)),
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            let shown = display_path(&log);
            let mut lines = LineReader::new(std::io::BufReader::new(std::io::Read::take(
                reader,
                ACCESS_LOG_CAP,
            )));
            loop {
                let (n, line) = match lines.next_line() {
                    Ok(Some(l)) => l,
                    Ok(None) => break,
                    Err(e) => {
                        self.warnings.push(Warning {
                            check: None,
                            path: Some(shown.clone()),
                            message: format!("stopped reading: {e}"),
                        });
                        break;
                    }
                };
                let Some(req) = weblog::parse_line(line) else {
                    if !line.is_empty() {
                        self.unparsed += 1;
                    }
                    continue;
                };
                let source = format!("{shown}:{n}");
                let path = percent_decode(req.path());
                if let Some(name) = path.rsplit('/').next().filter(|n| !n.is_empty())
                    && let Some(files) = watched.get(name)
                {
                    for f in files {
                        if f.to_string_lossy().ends_with(path.as_str()) {
                            let hits = self.hits_by_file.entry(f.clone()).or_default();
                            // A flood of requests to one file keeps its first ones, counted.
                            if hits.len() < MAX_HITS_PER_FILE {
                                hits.push(LoggedRequest {
                                    request: req.clone(),
                                    source: source.clone(),
                                });
                            } else {
                                self.unlisted_hits += 1;
                            }
                        }
                    }
                }
                if let Some(kind) = classify_attack(&req) {
                    let ok = (200..300).contains(&req.status);
                    let e = self
                        .attacks
                        .entry((req.ip.clone(), kind))
                        .or_insert_with(|| AttackSummary {
                            count: 0,
                            succeeded: 0,
                            first: LoggedRequest {
                                request: req.clone(),
                                source: source.clone(),
                            },
                            last: req.time,
                        });
                    e.count += 1;
                    e.succeeded += u64::from(ok);
                    // The earliest known time is the first; an unknown time is never earlier.
                    let earlier = match (req.time, e.first.request.time) {
                        (Some(t), Some(first)) => t < first,
                        (Some(_), None) => true,
                        _ => false,
                    };
                    if earlier {
                        e.first = LoggedRequest {
                            request: req.clone(),
                            source,
                        };
                    }
                    e.last = e.last.max(req.time);
                    if self.attacks.len() > MAX_ATTACK_SOURCES {
                        self.shed_light_attackers();
                    }
                }
            }
            if lines.overlong > 0 {
                self.warnings.push(Warning {
                    check: None,
                    path: Some(shown),
                    message: format!("{} over-long lines were cut", lines.overlong),
                });
            }
        }
        if self.unlisted_hits > 0 {
            self.warnings.push(Warning {
                check: None,
                path: None,
                message: format!(
                    "{} requests to flagged files past the first {MAX_HITS_PER_FILE} per file were counted, not kept",
                    self.unlisted_hits
                ),
            });
        }
        if self.shed_attackers.0 > 0 {
            self.warnings.push(Warning {
                check: None,
                path: None,
                message: format!(
                    "access logs hold more than {MAX_ATTACK_SOURCES} attacking (address, kind) pairs: {} with at most {} requests each were dropped from the attack summaries (every heavier one is kept)",
                    self.shed_attackers.0, self.shed_attackers.1
                ),
            });
        }
        for v in self.hits_by_file.values_mut() {
            v.sort_by(|a, b| {
                a.request
                    .time
                    .cmp(&b.request.time)
                    .then_with(|| a.source.cmp(&b.source))
            });
        }
    }
}

const SCANNER_AGENTS: &[&str] = &[
    "sqlmap",
    "nikto",
    "nmap",
    "masscan",
    "zgrab",
    "nuclei",
    "acunetix",
    "wpscan",
    "dirbuster",
    "gobuster",
    "ffuf",
    "feroxbuster",
    "wfuzz",
    "hydra",
    "jaeles",
    "xray",
    "awvs",
    "netsparker",
    "openvas",
    "w3af",
    "fimap",
    "commix",
    "burpcollaborator",
    "whatweb",
];

/// What attack a request looks like, if any.
pub fn classify_attack(r: &Request) -> Option<AttackKind> {
    let target = percent_decode(&r.target).to_ascii_lowercase();
    let ua = r.user_agent.to_ascii_lowercase();
    let all = format!("{target} {ua} {}", r.referer.to_ascii_lowercase());
    let code = [
        "${jndi:",
        "() { :;",
        "() { :; }",
        "%{(#",
        "${(#",
        "invokefunction",
        "call_user_func_array",
        "eval-stdin.php",
        "/bin/sh",
        "/bin/bash",
        ";wget ",
        "|wget ",
        ";curl ",
        "|curl ",
        "$(wget",
        "`wget",
        "cmd=whoami",
        "=whoami",
        "phpinfo()",
        "<?php",
        "base64_decode(",
        "system(",
        "passthru(",
        "die(md5(",
        "/etc/passwd%00",
    ];
    if code.iter().any(|c| all.contains(c)) {
        return Some(AttackKind::CodeInjection);
    }
    let sql = [
        " union select",
        "union all select",
        "' or '1'='1",
        "' or 1=1",
        "\" or 1=1",
        "information_schema",
        "sleep(5)",
        "benchmark(",
        "waitfor delay",
        "extractvalue(",
        "updatexml(",
        "load_file(",
        "into outfile",
        "order by 100",
    ];
    if sql.iter().any(|c| target.contains(c)) {
        return Some(AttackKind::SqlInjection);
    }
    let traversal = [
        "../../",
        "..%2f",
        "..\\..\\",
        "/etc/passwd",
        "/etc/shadow",
        "php://filter",
        "php://input",
        "file:///",
        "/proc/self/environ",
        "win.ini",
    ];
    if traversal.iter().any(|c| target.contains(c)) {
        return Some(AttackKind::Traversal);
    }
    if SCANNER_AGENTS.iter().any(|s| ua.contains(s)) {
        return Some(AttackKind::Scanner);
    }
    None
}

/// `%2e%2e/` → `../`; invalid escapes are kept as written.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(target: &str, ua: &str) -> Request {
        Request {
            ip: "198.51.100.1".into(),
            time: Some(Timestamp(0)),
            method: "GET".into(),
            target: target.into(),
            status: 200,
            bytes: 0,
            referer: String::new(),
            user_agent: ua.into(),
        }
    }

    #[test]
    fn attacks_are_classified_and_normal_requests_are_not() {
        assert_eq!(
            classify_attack(&req("/index.php?id=1%20UNION%20SELECT%201,2", "")),
            Some(AttackKind::SqlInjection)
        );
        assert_eq!(
            classify_attack(&req("/?file=../../../../etc/passwd", "")),
            Some(AttackKind::Traversal)
        );
        assert_eq!(
            classify_attack(&req("/", "${jndi:ldap://x/a}")),
            Some(AttackKind::CodeInjection)
        );
        assert_eq!(
            classify_attack(&req(
                "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array",
                ""
            )),
            Some(AttackKind::CodeInjection)
        );
        assert_eq!(
            classify_attack(&req("/", "sqlmap/1.7")),
            Some(AttackKind::Scanner)
        );
        assert_eq!(
            classify_attack(&req(
                "/wp-content/themes/x/style.css?ver=6.1",
                "Mozilla/5.0"
            )),
            None
        );
        assert_eq!(
            classify_attack(&req("/search?q=select+a+union+of+states", "Mozilla/5.0")),
            None
        );
    }

    /// A flood of one-request attacking addresses is shed; the persistent attacker stays.
    #[test]
    fn a_flood_of_attacking_addresses_is_shed_lightest_first() {
        let mut web = WebFacts::default();
        let summary = |count| AttackSummary {
            count,
            succeeded: 0,
            first: LoggedRequest {
                request: req("/?id=1' or 1=1--", "x"),
                source: "access.log:1".into(),
            },
            last: None,
        };
        for i in 0..MAX_ATTACK_SOURCES + 1 {
            web.attacks.insert(
                (
                    format!("10.0.{}.{}", i >> 8, i & 255),
                    AttackKind::SqlInjection,
                ),
                summary(1),
            );
        }
        web.attacks.insert(
            ("203.0.113.9".into(), AttackKind::SqlInjection),
            summary(500),
        );
        web.shed_light_attackers();
        assert!(web.attacks.len() <= MAX_ATTACK_SOURCES / 2 + 1);
        assert!(
            web.attacks
                .contains_key(&("203.0.113.9".into(), AttackKind::SqlInjection))
        );
        assert_eq!(web.shed_attackers.1, 1);
    }
}
