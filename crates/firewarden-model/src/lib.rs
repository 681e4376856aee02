//! Firewarden's shared data model: the plain, versioned, serialisable types that every stage
//! produces or consumes, so that the CLI, reports and the case platform all read the same thing.
//!
//! ```
//! use firewarden_model::{Evidence, Finding, Severity};
//!
//! let finding = Finding::new("linux.accounts.uid0", "Second UID-0 account", Severity::Critical)
//!     .attack(&["T1136.001"])
//!     .explain("The account `toor` has UID 0 and therefore every power of root.")
//!     .recommend("Lock the account and find out when and by whom it was created.")
//!     .evidence(Evidence::at("/etc/passwd").line(12).excerpt("toor:x:0:0::/root:/bin/bash"));
//! assert!(finding.id.starts_with("linux.accounts.uid0:"));
//! let json = serde_json::to_string(&finding).unwrap();
//! assert!(json.contains("T1136.001"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod time;

pub mod action;
pub mod hunt;
pub mod selftest;
pub use time::{Civil, Timestamp, human_duration};

use serde::{Deserialize, Serialize};
use std::fmt;

/// Version of the serialised report layout; bumped whenever a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// How bad a finding is, from informational to "the host is owned".
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context a responder wants to see, not suspicious by itself (the default: lowest).
    #[default]
    Info,
    /// Weak configuration or weak signal.
    Low,
    /// Suspicious; needs a look.
    Medium,
    /// Very likely malicious or a serious exposure.
    High,
    /// Compromise indicator with next to no benign explanation.
    Critical,
}

impl Severity {
    /// All severities from most to least severe.
    pub const DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// Lower-case name as used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::DESCENDING
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown severity `{s}` (info, low, medium, high, critical)"))
    }
}

/// One piece of evidence behind a finding: where it is and what it says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Path inside the analysed source (not the host path of a mounted image).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 1-based line number in that file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The offending text or value, trimmed and made printable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// Owner as `uid` or `uid(name)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Permission bits in octal, e.g. `0644`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Last modification time of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtime: Option<Timestamp>,
    /// Last status change time of the file (not settable by `touch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctime: Option<Timestamp>,
    /// Process id, for live-state evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
}

impl Evidence {
    /// Evidence located at a path.
    pub fn at(path: impl Into<String>) -> Self {
        Evidence {
            path: Some(path.into()),
            ..Default::default()
        }
    }
    /// Evidence from a live process.
    pub fn process(pid: u32) -> Self {
        Evidence {
            pid: Some(pid),
            path: Some(format!("/proc/{pid}")),
            ..Default::default()
        }
    }
    /// Sets the line number.
    pub fn line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }
    /// Sets the excerpt, made printable and cut to 300 characters.
    pub fn excerpt(mut self, text: impl AsRef<str>) -> Self {
        self.excerpt = Some(printable(text.as_ref(), 300));
        self
    }
}

/// One CSV field: quoted when it must be, and with a leading `=`, `+`, `-` or `@` neutralised
/// (`'`) so that a spreadsheet does not run an indicator or a name from a host as a formula.
pub fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// Makes attacker-controlled text safe to print: trimmed, control characters escaped, cut to
/// `max` characters with an ellipsis.
pub fn printable(text: &str, max: usize) -> String {
    printable_untrimmed(text.trim(), max)
}

/// [`printable`] without the trimming, for text whose leading spaces mean something (a diff's
/// context lines).
pub fn printable_untrimmed(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max.saturating_add(8)));
    for (n, c) in text.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A verdict of one check: what is wrong, why it matters, what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: `CHECK-ID:HASH`, the same for the same evidence on every run, so later stages
    /// (eradication, the case platform) can refer to it.
    pub id: String,
    /// Id of the check that produced it, e.g. `linux.persistence.cron`.
    pub check: String,
    /// One-line summary.
    pub title: String,
    /// How bad it is.
    pub severity: Severity,
    /// MITRE ATT&CK technique ids.
    pub attack: Vec<String>,
    /// Plain-language explanation of why this is suspicious.
    pub explanation: String,
    /// What the responder should do next.
    pub recommendation: String,
    /// Where it was seen.
    pub evidence: Vec<Evidence>,
    /// When it happened, when known (file time, log time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
}

impl Finding {
    /// Starts a finding; the id is filled in from the check id and the evidence added later.
    pub fn new(check: &str, title: impl Into<String>, severity: Severity) -> Self {
        let mut f = Finding {
            id: String::new(),
            check: check.to_string(),
            title: title.into(),
            severity,
            attack: Vec::new(),
            explanation: String::new(),
            recommendation: String::new(),
            evidence: Vec::new(),
            time: None,
        };
        f.refresh_id();
        f
    }
    /// Sets the ATT&CK technique ids.
    pub fn attack(mut self, ids: &[&str]) -> Self {
        self.attack = ids.iter().map(|s| s.to_string()).collect();
        self
    }
    /// Sets the explanation.
    pub fn explain(mut self, text: impl Into<String>) -> Self {
        self.explanation = text.into();
        self
    }
    /// Sets the recommended action.
    pub fn recommend(mut self, text: impl Into<String>) -> Self {
        self.recommendation = text.into();
        self
    }
    /// Adds a piece of evidence.
    pub fn evidence(mut self, e: Evidence) -> Self {
        self.evidence.push(e);
        self.refresh_id();
        self
    }
    /// Sets when it happened.
    pub fn at_time(mut self, t: Option<Timestamp>) -> Self {
        self.time = t;
        self
    }

    fn refresh_id(&mut self) {
        // FNV-1a over the title and evidence locations: stable across runs and machines.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            h ^= 0xff;
            h = h.wrapping_mul(0x0100_0000_01b3);
        };
        eat(self.title.as_bytes());
        for e in &self.evidence {
            eat(e.path.as_deref().unwrap_or("").as_bytes());
            eat(&e.line.unwrap_or(0).to_le_bytes());
            eat(e.excerpt.as_deref().unwrap_or("").as_bytes());
            eat(&e.pid.unwrap_or(0).to_le_bytes());
        }
        self.id = format!("{}:{:08x}", self.check, (h >> 32) as u32 ^ h as u32);
    }
}

/// What a timeline event is about; drives the storyline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A failed authentication.
    FailedLogin,
    /// A successful authentication.
    Login,
    /// A command an account ran (shell history).
    Command,
    /// An account was created or changed.
    AccountChange,
    /// A file was dropped or changed.
    FileChange,
    /// A persistence mechanism was installed.
    Persistence,
    /// A suspicious network connection or listener.
    Connection,
    /// A process was seen running.
    Process,
    /// Logs or history were wiped or tampered with.
    AntiForensics,
    /// A request to a web application.
    WebRequest,
}

/// One event on the UTC timeline that tells the story of the intrusion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// When it happened (UTC).
    pub time: Timestamp,
    /// What kind of event it is.
    pub kind: EventKind,
    /// One line for a human.
    pub summary: String,
    /// Where it was read: `path:line`.
    pub source: String,
    /// Remote address involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Account involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Finding this event belongs to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// The host's UTC offset at that moment (`+08:00`), when its zone is known: the local
    /// time its own logs and people saw. `time` stays UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// Something the run could not do, said plainly: an unreadable file, a corrupt record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Check that met the problem, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// Path involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What went wrong and what was done about it.
    pub message: String,
}

/// A check as listed in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckDescriptor {
    /// Stable id, e.g. `linux.persistence.cron`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// ATT&CK techniques it looks for.
    pub attack: Vec<String>,
    /// Severity of its typical finding.
    pub severity: Severity,
    /// Rows of the Linux triage checklist it covers.
    pub checklist_rows: Vec<u32>,
    /// Whether it needs live process/network state (`/proc`).
    pub live_state: bool,
    /// What it looks at and why.
    pub description: String,
}

/// How one check's run went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRun {
    /// Check id.
    pub id: String,
    /// `ran`, `skipped` or `failed`.
    pub status: CheckStatus,
    /// Why it was skipped or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Wall time in milliseconds.
    pub millis: u64,
    /// Number of findings it reported.
    pub findings: usize,
}

/// Outcome of a check run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// The check ran.
    Ran,
    /// The check was not run (filtered out, or the source lacks what it needs).
    Skipped,
    /// The check could not complete.
    Failed,
}

/// The short story told at the top of a triage report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Storyline {
    /// One or two sentences: what most probably happened.
    pub verdict: String,
    /// Probable entry point, when one is found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_point: Option<String>,
    /// Remote addresses that attacked or got in, most active first.
    pub attacker_ips: Vec<String>,
    /// Accounts the attacker used or created.
    pub accounts: Vec<String>,
    /// What still persists on the host.
    pub persistence: Vec<String>,
    /// First attacker activity seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_activity: Option<Timestamp>,
    /// Last attacker activity seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<Timestamp>,
    /// Time between first and last activity, as a human reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dwell_time: Option<String>,
    /// Evidence the checks that ran needed but the source did not hold (missing, empty, or not
    /// a regular file): a report without findings is not a clean bill of health while this is
    /// non-empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_gaps: Vec<String>,
    /// True when the source held none of the core evidence at all (an empty or wrong
    /// directory): there was nothing to analyse.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_evidence: bool,
}

/// Which kind of source a run read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// `live`, `root` or `bundle`.
    pub kind: String,
    /// The analysed root or bundle path.
    pub location: String,
    /// Host name read from the source, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The host's time zone, when the source says it: its name (`Asia/Shanghai`) from
    /// `/etc/timezone` or the `/etc/localtime` link, else its UTC offset (`+08:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// The complete result of a triage run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageReport {
    /// [`SCHEMA_VERSION`] at the time of writing.
    pub schema_version: u32,
    /// Tool name and version, e.g. `firewarden 0.1.0`.
    pub tool: String,
    /// What was analysed.
    pub source: SourceInfo,
    /// When the run started.
    pub started: Timestamp,
    /// When the run ended.
    pub finished: Timestamp,
    /// The story first.
    pub storyline: Storyline,
    /// Key events, oldest first.
    pub timeline: Vec<TimelineEvent>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// What could not be read or parsed.
    pub warnings: Vec<Warning>,
    /// Per-check run status.
    pub checks: Vec<CheckRun>,
    /// The binary and rule packs that produced it (absent in results written before it was
    /// recorded).
    #[serde(default, skip_serializing_if = "Provenance::is_empty")]
    pub provenance: Provenance,
}

/// Which binary and rule packs produced a result, by hash: what a case server's tool registry
/// checks an import against.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// SHA-256 (hex) of the binary that ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_sha256: Option<String>,
    /// Rule packs used beyond the built-in rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rule_packs: Vec<RulePack>,
}

impl Provenance {
    /// Nothing recorded.
    pub fn is_empty(&self) -> bool {
        self.tool_sha256.is_none() && self.rule_packs.is_empty()
    }
}

/// A directory (or file) of rules, named by a hash of its contents: the SHA-256 of the lines
/// `SHA256  RELATIVE-PATH` for each regular file under it, sorted by path (what
/// `cd DIR && find . -type f | sort | xargs sha256sum | sha256sum` gives, up to the `./`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulePack {
    /// `yara`, `sigma` or `ioc`.
    pub kind: String,
    /// The directory or file name given.
    pub name: String,
    /// The contents' hash.
    pub sha256: String,
    /// Files hashed.
    pub files: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_id_is_stable_and_depends_on_evidence() {
        let a = Finding::new("x.y", "t", Severity::Low).evidence(Evidence::at("/a").line(1));
        let b = Finding::new("x.y", "t", Severity::Low).evidence(Evidence::at("/a").line(1));
        let c = Finding::new("x.y", "t", Severity::Low).evidence(Evidence::at("/a").line(2));
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
    }

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(printable("a\x1b[31mb", 100), "a\\u{1b}[31mb");
        assert_eq!(printable("abcdef", 3), "abc…");
    }

    #[test]
    fn severity_parses_case_insensitively() {
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("bad".parse::<Severity>().is_err());
        assert!(Severity::Critical > Severity::High);
    }
}
