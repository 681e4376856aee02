//! What a responder pushes into a case, recognised from its content (not its name) and read
//! into the shared model: triage and scan results, hunt results, evidence bundles, exported
//! action journals. Parsing is total: a malformed, truncated or oversized import is a typed
//! error that says why, never a panic. The storage layer keeps what is returned here, and
//! [`case_facts`] turns a case's imports into what the stage gates look at.

use crate::stage::{AnalysisSummary, CaseFacts};
use firewarden_model::action::{JournalEntry, JournalEvent};
use firewarden_model::hunt::HuntReport;
use firewarden_model::{Severity, Timestamp, TriageReport};
use serde::{Deserialize, Serialize};

/// Largest analysis or journal parsed in memory (bundles are streamed by the storage layer and
/// never come here whole).
pub const MAX_DOCUMENT: usize = 256 << 20;

/// What an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    /// `firewarden triage` (or `recover verify`) JSON.
    Triage,
    /// `firewarden scan` or `baseline diff` JSON (a triage-shaped report of files).
    Scan,
    /// `firewarden hunt` JSON.
    Hunt,
    /// An evidence bundle (`firewarden collect`): zstd, or age-encrypted.
    Bundle,
    /// An exported action journal (`firewarden actions --export`): JSON lines.
    ActionJournal,
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// Empty.
    Empty,
    /// Larger than [`MAX_DOCUMENT`].
    TooLarge(usize),
    /// None of the kinds Firewarden writes.
    Unrecognised(String),
    /// Recognised, but it does not parse (truncated, edited, another tool's).
    Malformed(String),
    /// Written by a newer Firewarden than this server reads.
    NewerSchema(u32),
    /// A journal whose hash chain is broken at this line.
    BrokenChain(String),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Empty => f.write_str("the upload is empty"),
            ImportError::TooLarge(n) => {
                write!(f, "{n} bytes, more than the {MAX_DOCUMENT} read whole")
            }
            ImportError::Unrecognised(why) => {
                write!(f, "not a Firewarden result, bundle or journal: {why}")
            }
            ImportError::Malformed(why) => write!(f, "does not parse: {why}"),
            ImportError::NewerSchema(v) => write!(
                f,
                "written with schema {v}; this server reads up to {}",
                firewarden_model::SCHEMA_VERSION
            ),
            ImportError::BrokenChain(why) => write!(f, "the journal's hash chain is broken: {why}"),
        }
    }
}

impl std::error::Error for ImportError {}

const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";

/// Recognises an upload from its first bytes (a few KiB are enough).
pub fn recognise(head: &[u8]) -> Result<ImportKind, ImportError> {
    if head.is_empty() {
        return Err(ImportError::Empty);
    }
    if head.starts_with(ZSTD_MAGIC) || head.starts_with(AGE_MAGIC) {
        return Ok(ImportKind::Bundle);
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = text.iter().position(|b| !b.is_ascii_whitespace());
    if first.map(|i| text[i]) != Some(b'{') {
        return Err(ImportError::Unrecognised(
            "neither JSON nor a bundle".into(),
        ));
    }
    // A journal is JSON lines: its first line is a whole object with a sequence number and a
    // chain hash. Reports are one (pretty-printed) object.
    let line_end = memchr_newline(text).unwrap_or(text.len());
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&text[..line_end])
        && v.get("seq").is_some()
        && v.get("prev").is_some()
    {
        return Ok(ImportKind::ActionJournal);
    }
    let has = |key: &str| find(text, format!("\"{key}\"").as_bytes());
    if has("detections") && has("rules") {
        return Ok(ImportKind::Hunt);
    }
    if has("schema_version") && has("findings") && has("storyline") {
        // Scans and baseline diffs say so in their source kind.
        let scan = find(text, b"\"kind\": \"scan\"")
            || find(text, b"\"kind\":\"scan\"")
            || find(text, b"\"kind\": \"baseline\"")
            || find(text, b"\"kind\":\"baseline\"");
        return Ok(if scan {
            ImportKind::Scan
        } else {
            ImportKind::Triage
        });
    }
    Err(ImportError::Unrecognised(
        "JSON, but not a triage, scan, hunt or journal document".into(),
    ))
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|c| *c == b'\n')
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn check_size(bytes: &[u8]) -> Result<(), ImportError> {
    match bytes.len() {
        0 => Err(ImportError::Empty),
        n if n > MAX_DOCUMENT => Err(ImportError::TooLarge(n)),
        _ => Ok(()),
    }
}

/// Reads a triage or scan result.
pub fn parse_triage(bytes: &[u8]) -> Result<TriageReport, ImportError> {
    check_size(bytes)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let report: TriageReport =
        serde_json::from_slice(bytes).map_err(|e| ImportError::Malformed(e.to_string()))?;
    if report.schema_version > firewarden_model::SCHEMA_VERSION {
        return Err(ImportError::NewerSchema(report.schema_version));
    }
    Ok(report)
}

/// Whether a parsed triage-shaped report is a triage or a scan: `scan` and `baseline diff`
/// write one check run of their own (`scan`, `web.baseline`); triage runs its catalogue.
pub fn analysis_kind(report: &TriageReport) -> ImportKind {
    match report.checks.as_slice() {
        [only] if only.id == "scan" || only.id == "web.baseline" => ImportKind::Scan,
        _ => ImportKind::Triage,
    }
}

/// Reads a hunt result.
pub fn parse_hunt(bytes: &[u8]) -> Result<HuntReport, ImportError> {
    check_size(bytes)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let report: HuntReport =
        serde_json::from_slice(bytes).map_err(|e| ImportError::Malformed(e.to_string()))?;
    if report.schema_version > firewarden_model::SCHEMA_VERSION {
        return Err(ImportError::NewerSchema(report.schema_version));
    }
    Ok(report)
}

/// Reads an exported journal and checks its hash chain (each line names the SHA-256 of the
/// line before; the first names 64 zeros). The export's signature is checked by the caller,
/// which knows the keys.
pub fn parse_journal(bytes: &[u8]) -> Result<Vec<JournalEntry>, ImportError> {
    check_size(bytes)?;
    let text = std::str::from_utf8(bytes).map_err(|e| ImportError::Malformed(e.to_string()))?;
    let mut previous = "0".repeat(64);
    let mut out = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let entry: JournalEntry = serde_json::from_str(line)
            .map_err(|e| ImportError::Malformed(format!("line {}: {e}", n + 1)))?;
        if entry.schema_version > firewarden_model::action::ACTION_SCHEMA_VERSION {
            return Err(ImportError::NewerSchema(entry.schema_version));
        }
        if entry.prev != previous {
            return Err(ImportError::BrokenChain(format!(
                "line {} names {} as the line before, which hashes to {previous}",
                n + 1,
                firewarden_model::printable(&entry.prev, 64)
            )));
        }
        previous = sha256_hex(line.as_bytes());
        out.push(entry);
    }
    if out.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(out)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One item a case holds, as the gates need it.
#[derive(Debug, Clone, PartialEq)]
pub enum Imported {
    /// A triage, scan or `recover verify` result.
    Analysis(TriageReport),
    /// A hunt result.
    Hunt(HuntReport),
    /// A verified evidence bundle, by its acquisition (collection start) time.
    Evidence(Timestamp),
    /// An imported journal, with the key whose signature over it verified.
    Journal(Vec<JournalEntry>, Option<String>),
}

/// What one import contributes to the gates, small enough to keep beside it in the store (the
/// full report stays in its findings, timeline and IOCs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ImportFacts {
    /// A triage, scan, hunt or `recover verify` result.
    Analysis {
        /// When it ran (its `finished` time).
        finished: Timestamp,
        /// Check ids of its high and critical findings.
        serious_checks: Vec<String>,
        /// The entry point it names, if any.
        entry_point: Option<String>,
    },
    /// A verified evidence bundle, by its acquisition (collection start) time.
    Evidence {
        /// When collection started.
        acquired: Timestamp,
    },
    /// An action journal: the actions it shows applied.
    Journal {
        /// Times of applied containment actions.
        containment: Vec<Timestamp>,
        /// Times of applied eradication actions.
        eradication: Vec<Timestamp>,
        /// Check ids of the footholds eradicated.
        eradicated_checks: Vec<String>,
        /// The Ed25519 key (hex) whose signature over the export verified; `None`: unsigned,
        /// and then its actions do not count for the gates.
        #[serde(default)]
        signer: Option<String>,
    },
}

fn serious(findings: &[firewarden_model::Finding]) -> Vec<String> {
    let mut checks: Vec<String> = findings
        .iter()
        .filter(|f| f.severity >= Severity::High)
        .map(|f| f.check.clone())
        .collect();
    checks.sort();
    checks.dedup();
    checks
}

impl ImportFacts {
    /// What a triage or scan result contributes.
    pub fn of_triage(r: &TriageReport) -> ImportFacts {
        ImportFacts::Analysis {
            finished: r.finished,
            serious_checks: serious(&r.findings),
            entry_point: r.storyline.entry_point.clone(),
        }
    }

    /// What a hunt result contributes.
    pub fn of_hunt(h: &HuntReport) -> ImportFacts {
        ImportFacts::Analysis {
            finished: h.finished,
            serious_checks: serious(&h.findings),
            entry_point: h.storyline.entry_point.clone(),
        }
    }
}

impl Imported {
    /// What this import contributes to the gates.
    pub fn facts(&self) -> ImportFacts {
        match self {
            Imported::Analysis(r) => ImportFacts::of_triage(r),
            Imported::Hunt(h) => ImportFacts::of_hunt(h),
            Imported::Evidence(t) => ImportFacts::Evidence { acquired: *t },
            Imported::Journal(entries, signer) => ImportFacts::of_journal(entries, signer.clone()),
        }
    }
}

impl ImportFacts {
    /// What a journal contributes: the actions it shows applied; `signer` is the key whose
    /// signature over the export verified (`None`: unsigned).
    pub fn of_journal(entries: &[JournalEntry], signer: Option<String>) -> ImportFacts {
        let (mut containment, mut eradication, mut eradicated_checks) =
            (Vec::new(), Vec::new(), Vec::new());
        for e in entries {
            // Only what was applied counts as done; a begun-then-failed action did not
            // change the host.
            let JournalEvent::Begin { action } = &e.event else {
                continue;
            };
            let applied = entries
                .iter()
                .any(|x| matches!(&x.event, JournalEvent::Applied { id } if *id == action.id));
            let Some((at, _)) = parse_utc(&e.utc) else {
                continue;
            };
            if !applied {
                continue;
            }
            if action.kind.starts_with("contain.") {
                containment.push(at);
            } else if action.kind.starts_with("eradicate") {
                eradication.push(at);
                if let Some(check) = action.finding.as_deref().and_then(|f| f.split(':').next()) {
                    eradicated_checks.push(check.to_owned());
                }
            }
        }
        ImportFacts::Journal {
            containment,
            eradication,
            eradicated_checks,
            signer,
        }
    }
}

/// The gates' view of a case's imports. What people record (authority, assets, the
/// entry-point hypothesis, waivers, tasks) is added by the caller.
pub fn case_facts(items: &[Imported]) -> CaseFacts {
    let facts: Vec<ImportFacts> = items.iter().map(Imported::facts).collect();
    facts_of(&facts)
}

/// [`case_facts`] from the facts kept per import.
pub fn facts_of(items: &[ImportFacts]) -> CaseFacts {
    let mut facts = CaseFacts::default();
    let mut analyses: Vec<(Timestamp, Vec<String>)> = Vec::new();
    for item in items {
        match item {
            ImportFacts::Analysis {
                finished,
                serious_checks,
                entry_point,
            } => {
                if serious_checks.is_empty() {
                    facts.clean_verifications.push(*finished);
                }
                if facts.entry_point.is_none() {
                    facts.entry_point = entry_point.clone();
                }
                analyses.push((*finished, serious_checks.clone()));
            }
            ImportFacts::Evidence { acquired } => facts.evidence_collected.push(*acquired),
            ImportFacts::Journal {
                containment,
                eradication,
                eradicated_checks,
                signer,
            } => {
                // Only a journal whose signature verified is the record of what was done.
                if signer.is_none() {
                    facts.unsigned_actions += containment.len() + eradication.len();
                    continue;
                }
                facts.containment_actions.extend(containment);
                facts.eradication_actions.extend(eradication);
                facts
                    .eradicated_checks
                    .extend(eradicated_checks.iter().cloned());
            }
        }
    }
    facts.analyses = analyses.iter().map(|(t, _)| *t).collect();
    facts.latest_analysis =
        analyses
            .into_iter()
            .max_by_key(|(t, _)| *t)
            .map(|(at, high_or_critical_checks)| AnalysisSummary {
                at,
                high_or_critical_checks,
            });
    facts.eradicated_checks.sort();
    facts.eradicated_checks.dedup();
    facts
}

/// `2026-11-30T08:01:02.123456789Z` to a timestamp (the journal's nanoseconds dropped).
fn parse_utc(text: &str) -> Option<(Timestamp, u32)> {
    Some((Timestamp::parse(text)?, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::{Stage, checklist};

    fn triage(finished: &str, findings: &[(&str, Severity)], entry: Option<&str>) -> TriageReport {
        let mut r: TriageReport = serde_json::from_str(&format!(
            r#"{{"schema_version":1,"tool":"t","source":{{"kind":"root","location":"/r"}},"started":"{finished}","finished":"{finished}",
                "storyline":{{"verdict":"v","attacker_ips":[],"accounts":[],"persistence":[]}},
                "timeline":[],"findings":[],"warnings":[],"checks":[]}}"#
        ))
        .unwrap();
        r.storyline.entry_point = entry.map(str::to_owned);
        for (check, sev) in findings {
            r.findings
                .push(firewarden_model::Finding::new(check, "x", *sev));
        }
        r
    }

    /// A journal as `actions --export` writes it: JSON lines chained by SHA-256.
    fn journal(actions: &[(&str, &str, &str, bool)]) -> String {
        let mut out = String::new();
        let mut prev = "0".repeat(64);
        let mut seq = 0;
        let mut line = |event: serde_json::Value, utc: &str, out: &mut String| {
            seq += 1;
            let mut v = serde_json::json!({"schema_version": 1, "seq": seq, "utc": utc,
                "operator": "r", "host": "web01", "tool": "firewarden", "prev": prev});
            v.as_object_mut()
                .unwrap()
                .extend(event.as_object().unwrap().clone());
            let text = v.to_string();
            prev = sha256_hex(text.as_bytes());
            out.push_str(&text);
            out.push('\n');
        };
        for (i, (kind, utc, finding, applied)) in actions.iter().enumerate() {
            let id = format!("A{}", i + 1);
            line(
                serde_json::json!({"event": "begin", "action": {"id": id, "kind": kind, "title": "t",
                    "risk": "medium", "root": "/", "finding": finding, "steps": []}}),
                utc,
                &mut out,
            );
            if *applied {
                line(
                    serde_json::json!({"event": "applied", "id": id}),
                    utc,
                    &mut out,
                );
            }
        }
        out
    }

    #[test]
    fn uploads_are_recognised_by_content() {
        let t = serde_json::to_vec_pretty(&triage("2026-11-20T00:00:00Z", &[], None)).unwrap();
        assert_eq!(recognise(&t), Ok(ImportKind::Triage));
        let j = journal(&[("contain.network", "2026-11-20T04:00:00Z", "", true)]);
        assert_eq!(recognise(j.as_bytes()), Ok(ImportKind::ActionJournal));
        assert_eq!(
            recognise(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Ok(ImportKind::Bundle)
        );
        assert_eq!(recognise(b""), Err(ImportError::Empty));
        assert!(matches!(
            recognise(b"<html>"),
            Err(ImportError::Unrecognised(_))
        ));
        assert!(matches!(
            recognise(b"{\"a\": 1}"),
            Err(ImportError::Unrecognised(_))
        ));
        // Scans and baseline diffs are triage-shaped; their one check run tells them apart.
        let mut r = triage("2026-11-20T00:00:00Z", &[], None);
        assert_eq!(analysis_kind(&r), ImportKind::Triage);
        for id in ["scan", "web.baseline"] {
            r.checks = vec![firewarden_model::CheckRun {
                id: id.into(),
                status: firewarden_model::CheckStatus::Ran,
                reason: None,
                millis: 1,
                findings: 0,
            }];
            assert_eq!(analysis_kind(&r), ImportKind::Scan, "{id}");
        }
    }

    #[test]
    fn truncated_edited_and_newer_imports_are_refused_with_a_reason() {
        let t = serde_json::to_vec(&triage("2026-11-20T00:00:00Z", &[], None)).unwrap();
        assert!(matches!(
            parse_triage(&t[..t.len() / 2]),
            Err(ImportError::Malformed(_))
        ));
        let newer = String::from_utf8(t).unwrap().replacen(
            "\"schema_version\":1",
            "\"schema_version\":99",
            1,
        );
        assert_eq!(
            parse_triage(newer.as_bytes()),
            Err(ImportError::NewerSchema(99))
        );
        let j = journal(&[("contain.network", "2026-11-20T04:00:00Z", "", true)]);
        let edited = j.replacen("web01", "web02", 1);
        assert!(matches!(
            parse_journal(edited.as_bytes()),
            Err(ImportError::BrokenChain(_))
        ));
        assert_eq!(parse_journal(j.as_bytes()).unwrap().len(), 2);
    }

    #[test]
    fn imports_walk_a_case_through_its_gates() {
        let journal_text = journal(&[
            ("contain.network", "2026-11-20T04:10:00Z", "", true),
            (
                "eradicate",
                "2026-11-21T10:00:00Z",
                "linux.persistence.cron:d527ddc7",
                true,
            ),
            // Begun and failed: it changed nothing and does not count.
            (
                "eradicate",
                "2026-11-21T10:05:00Z",
                "linux.accounts.uid0:75a5167f",
                false,
            ),
        ]);
        let entries = parse_journal(journal_text.as_bytes()).unwrap();
        let mut items = vec![
            Imported::Analysis(triage(
                "2026-11-20T03:30:00Z",
                &[("linux.persistence.cron", Severity::Critical)],
                Some("SSH password login as root from 203.0.113.66"),
            )),
            Imported::Evidence(Timestamp::parse("2026-11-20T04:00:00Z").unwrap()),
            Imported::Journal(entries, Some("signer".into())),
        ];
        let facts = case_facts(&items);
        assert!(checklist(Stage::Detection, &facts).passed());
        assert!(checklist(Stage::Containment, &facts).passed());
        assert_eq!(facts.eradicated_checks, ["linux.persistence.cron"]);
        // No re-triage after eradication yet.
        assert!(!checklist(Stage::Eradication, &facts).passed());
        items.push(Imported::Analysis(triage(
            "2026-11-21T11:00:00Z",
            &[("linux.accounts.sudo", Severity::High)],
            None,
        )));
        let facts = case_facts(&items);
        assert!(
            checklist(Stage::Eradication, &facts).passed(),
            "{:?}",
            checklist(Stage::Eradication, &facts)
        );
        // The re-triage still has a high finding: no clean verification yet.
        assert!(!checklist(Stage::Recovery, &facts).passed());
        items.push(Imported::Analysis(triage(
            "2026-11-21T12:00:00Z",
            &[],
            None,
        )));
        assert!(checklist(Stage::Recovery, &case_facts(&items)).passed());
    }
}
