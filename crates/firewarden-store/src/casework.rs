//! What a case holds besides itself: assets, imports (findings, timeline, IOCs, actions,
//! evidence records), notes, tasks, waivers and stage moves. Each operation is one audited
//! transaction through [`Store::on_case`], so the tenant check and the audit record cannot be
//! forgotten by a new one.

use super::*;
use firewarden_case::import::{ImportFacts, ImportKind, facts_of};
use firewarden_case::ioc::{self, Ioc};
use firewarden_case::model::Compromise;
use firewarden_case::stage::{self, CaseFacts, Checklist, Transition, Waiver};
use firewarden_model::action::{JournalEntry, JournalEvent};
use firewarden_model::hunt::HuntReport;
use firewarden_model::{Finding, Storyline, TimelineEvent};
use sha2::{Digest, Sha256};

/// Largest text of one finding kept (its JSON); a larger one refuses the import, whole.
pub const MAX_FINDING_BYTES: usize = 256 << 10;

/// Parameters per multi-row INSERT: few statements (each a round trip), well under both
/// databases' limits.
const BATCH_PARAMS: usize = 4000;

/// Rows per INSERT for a table of `columns` columns.
pub(crate) const fn batch(columns: usize) -> usize {
    BATCH_PARAMS / columns
}

/// `(…), (…)` placeholders for `rows` rows of `columns` values. SQLite gets anonymous `?`:
/// sqlx's SQLite driver looks up each numbered parameter's name by walking the list of
/// names, so binding `$N`s costs the square of their number (4,000 took 10 s for 100,000
/// findings); `?`s bind in order at no cost.
pub(crate) fn values(tx: &mut Conn, rows: usize, columns: usize) -> String {
    let sqlite = tx.backend_name().eq_ignore_ascii_case("sqlite");
    let mut out = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            if sqlite {
                out.push('?');
            } else {
                out.push_str(&format!("${}", r * columns + c + 1));
            }
        }
        out.push(')');
    }
    out
}

/// A host in a case's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// Host name as pushed.
    pub name: String,
    /// How compromised it is believed to be.
    pub compromise: Compromise,
    /// Version for concurrent edits.
    pub version: i64,
    /// When it entered the case.
    pub added: Timestamp,
}

/// A note someone wrote in a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Id.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// When.
    pub created: Timestamp,
    /// Text.
    pub body: String,
    /// A lesson learned (the summary report lists these), not a working note.
    #[serde(default)]
    pub lesson: bool,
}

/// A task to add: a recommendation when it has an owner and a deadline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// What to do.
    pub title: String,
    /// Who owns it (the customer's or ours).
    #[serde(default)]
    pub owner: Option<String>,
    /// By when (`YYYY-MM-DD`).
    #[serde(default)]
    pub due: Option<String>,
}

/// A task in a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Id.
    pub id: String,
    /// What to do.
    pub title: String,
    /// Done.
    pub done: bool,
    /// Version for concurrent edits.
    pub version: i64,
    /// When it was added.
    pub created: Timestamp,
    /// Who added it.
    pub by: String,
    /// Who owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// By when (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
}

/// One line of a case's timeline: imported from an analysis or recorded by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When, UTC.
    pub at: Timestamp,
    /// The zone the time was originally given in.
    pub zone: String,
    /// Where it comes from: `import:ASSET:PATH:LINE`, `server`, `note`.
    pub source: String,
    /// What kind of event.
    pub kind: String,
    /// Who recorded it (the importer for imported events).
    pub actor: String,
    /// One line for a person.
    pub text: String,
}

/// An import as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRecord {
    /// Id.
    pub id: String,
    /// The asset it is about.
    pub asset: String,
    /// What it was.
    pub kind: ImportKind,
    /// SHA-256 of the upload.
    pub sha256: String,
    /// Size of the upload.
    pub size: u64,
    /// When it was imported.
    pub at: Timestamp,
    /// Who pushed it.
    pub by: String,
    /// What it added.
    pub summary: String,
    /// The tools it came from, and how each stood in the registry when it was imported.
    #[serde(default)]
    pub tools: Vec<firewarden_case::tools::ToolUse>,
}

/// An evidence bundle held for a case (the blob is write-once in the evidence store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    /// Id.
    pub id: String,
    /// The asset collected.
    pub asset: String,
    /// SHA-256 of the bundle.
    pub sha256: String,
    /// Size.
    pub size: u64,
    /// The Ed25519 key (hex) that signed its manifest.
    pub signer: String,
    /// When collection started.
    pub acquired: Timestamp,
    /// When the server received it.
    pub received: Timestamp,
    /// Who pushed it.
    pub by: String,
    /// Where the blob is kept (evidence store key).
    pub blob: String,
    /// Custody events in its ledger when received.
    pub custody_events: u64,
}

/// An action on a host, from an imported journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// The host.
    pub asset: String,
    /// Its id on the host (`A3`).
    pub action_id: String,
    /// Kind (`contain.network`, `eradicate` …).
    pub kind: String,
    /// What it does.
    pub title: String,
    /// The finding it answers.
    pub finding: Option<String>,
    /// Who ran it.
    pub operator: String,
    /// When it began (UTC, as the journal says).
    pub begun: String,
    /// `applied`, `failed`, `undone` or `begun`.
    pub state: String,
    /// The tool that ran it, as its journal says (`firewarden 0.1.0 sha256 …`).
    #[serde(default)]
    pub tool: String,
    /// The signed statement it was applied under (an approval or a pre-authorisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<serde_json::Value>,
}

/// A stage move as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionRecord {
    /// When.
    pub at: Timestamp,
    /// The stage left.
    pub from: Stage,
    /// The stage entered (`None`: the case closed).
    pub to: Option<Stage>,
    /// Who.
    pub by: String,
    /// The override's reason, when the gate was overridden.
    pub override_reason: Option<String>,
    /// The criteria unmet at an override.
    pub unmet: Vec<String>,
}

/// A case's stage with the checklist to leave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageView {
    /// The case (its version is what an advance must name).
    pub case: Case,
    /// The current stage's exit checklist (`None` when the case is closed).
    pub checklist: Option<Checklist>,
    /// What the gates looked at.
    pub facts: CaseFacts,
    /// Stage moves so far, oldest first.
    pub transitions: Vec<TransitionRecord>,
}

/// What an import carries, parsed and (for bundles) verified by the caller.
#[derive(Debug, Clone)]
pub enum Payload {
    /// A triage or scan result.
    Analysis(ImportKind, Box<TriageReport>),
    /// A hunt result.
    Hunt(Box<HuntReport>),
    /// An action journal, with the key (hex) whose signature over the export verified.
    Journal(Vec<JournalEntry>, Option<String>),
    /// A verified evidence bundle, already in the evidence store at `blob`.
    Evidence {
        /// When collection started.
        acquired: Timestamp,
        /// The manifest's signer key (hex).
        signer: String,
        /// Evidence store key.
        blob: String,
        /// Its custody ledger's lines as received (verified), exactly as signed.
        ledger: Vec<String>,
        /// The server's receipt, appended to the item's ledger (to the received one for a new
        /// item, to the kept one when the same bytes were received before).
        receipt: crate::custody::LineMaker,
        /// SHA-256 of the binary that collected it (from the signed manifest).
        tool_sha256: Option<String>,
    },
}

/// One upload to import into a case.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The asset (host) it is about.
    pub asset: String,
    /// SHA-256 of the upload's bytes.
    pub sha256: String,
    /// Its size.
    pub size: u64,
    /// What it holds.
    pub payload: Payload,
}

/// What an import added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutcome {
    /// The import's id.
    pub id: String,
    /// What it was.
    pub kind: ImportKind,
    /// Findings new to the case for that asset, and those it already had.
    pub findings: ImportSummary,
    /// Timeline events added.
    pub timeline_events: usize,
    /// Indicators new to the case.
    pub new_iocs: usize,
    /// Actions recorded.
    pub actions: usize,
    /// The evidence item, for a bundle.
    pub evidence: Option<String>,
    /// The tools it came from, and how each stands in the registry.
    pub tools: Vec<firewarden_case::tools::ToolUse>,
    /// One line per tool short of validated (the tenant's policy flags rather than refuses).
    pub flags: Vec<String>,
}

/// Which findings to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingQuery {
    /// Only this asset's.
    pub asset: Option<String>,
    /// Only at or above this severity.
    pub min_severity: Option<Severity>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
    /// After this `(asset, finding id)` cursor, as `asset/id`.
    pub after: Option<String>,
}

/// `text` trimmed, refused when empty or longer than `max` bytes (`what` names it).
pub fn valid_text(text: &str, what: &str, max: usize) -> Result<String> {
    let t = text.trim();
    if t.is_empty() || t.len() > max {
        return Err(StoreError::Invalid(format!(
            "{what} must be 1 to {max} bytes"
        )));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(StoreError::Invalid(format!(
            "{what} holds control characters"
        )));
    }
    Ok(t.to_owned())
}

/// An asset name: a host name as people and tools write it.
pub fn valid_asset(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() || n.len() > 255 || n.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(StoreError::Invalid(
            "an asset needs a printable name of 1 to 255 characters without spaces".into(),
        ));
    }
    Ok(n.to_owned())
}

pub(crate) fn ts(row: &AnyRow, col: &str) -> Result<Timestamp> {
    Timestamp::parse(&row.try_get::<String, _>(col)?)
        .ok_or_else(|| StoreError::Invalid(format!("stored {col}")))
}

pub(crate) fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn ensure_asset(tx: &mut Conn, case_id: &str, asset: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO assets (case_id, name, compromise, version, added) VALUES ($1, $2, 'unknown', 1, $3) ON CONFLICT (case_id, name) DO NOTHING",
    )
    .bind(case_id.to_owned())
    .bind(asset.to_owned())
    .bind(now().to_string())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Inserts findings in batches; a finding the case has for that asset is counted as known.
async fn insert_findings(
    tx: &mut Conn,
    case_id: &str,
    asset: &str,
    findings: &[Finding],
    bodies: &[String],
) -> Result<ImportSummary> {
    let mut summary = ImportSummary {
        new_findings: 0,
        known_findings: 0,
    };
    let at = now().to_string();
    for (chunk, bodies) in findings.chunks(batch(8)).zip(bodies.chunks(batch(8))) {
        let sql = format!(
            "INSERT INTO findings (case_id, asset, finding_id, check_id, severity, title, body, first_import) VALUES {} ON CONFLICT (case_id, asset, finding_id) DO NOTHING",
            values(tx, chunk.len(), 8)
        );
        // Placeholders only: every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (f, body) in chunk.iter().zip(bodies) {
            q = q
                .bind(case_id.to_owned())
                .bind(asset.to_owned())
                .bind(f.id.clone())
                .bind(f.check.clone())
                .bind(f.severity.as_str().to_owned())
                .bind(f.title.clone())
                .bind(body.clone())
                .bind(at.clone());
        }
        let added = q.execute(&mut *tx).await?.rows_affected() as usize;
        summary.new_findings += added;
        summary.known_findings += chunk.len() - added;
    }
    Ok(summary)
}

pub(crate) struct Event {
    pub(crate) id: String,
    pub(crate) at: Timestamp,
    /// The zone `at` was shown in where it happened (`+08:00`), `UTC` when not known.
    pub(crate) zone: String,
    pub(crate) source: String,
    pub(crate) kind: String,
    pub(crate) text: String,
}

pub(crate) async fn insert_timeline(
    tx: &mut Conn,
    case_id: &str,
    actor: &str,
    events: &[Event],
) -> Result<usize> {
    let mut added = 0;
    for chunk in events.chunks(batch(8)) {
        let sql = format!(
            "INSERT INTO timeline (case_id, id, at, zone, source, kind, actor, text) VALUES {} ON CONFLICT (case_id, id) DO NOTHING",
            values(tx, chunk.len(), 8)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            q = q
                .bind(case_id.to_owned())
                .bind(e.id.clone())
                .bind(e.at.to_string())
                .bind(e.zone.clone())
                .bind(e.source.clone())
                .bind(e.kind.clone())
                .bind(actor.to_owned())
                .bind(e.text.clone());
        }
        added += q.execute(&mut *tx).await?.rows_affected() as usize;
    }
    Ok(added)
}

pub(crate) async fn insert_iocs(tx: &mut Conn, case: &Case, iocs: &[Ioc]) -> Result<usize> {
    let mut added = 0;
    let at = now().to_string();
    for chunk in iocs.chunks(batch(5)) {
        let sql = format!(
            "INSERT INTO iocs (case_id, tenant_id, kind, value, first_seen) VALUES {} ON CONFLICT (case_id, kind, value) DO NOTHING",
            values(tx, chunk.len(), 5)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in chunk {
            q = q
                .bind(case.id.clone())
                .bind(case.tenant.clone())
                .bind(enum_text(&i.kind))
                .bind(i.value.clone())
                .bind(at.clone());
        }
        added += q.execute(&mut *tx).await?.rows_affected() as usize;
    }
    Ok(added)
}

fn analysis_events(asset: &str, storyline: &Storyline, timeline: &[TimelineEvent]) -> Vec<Event> {
    let mut out: Vec<Event> = timeline
        .iter()
        .map(|e| {
            let kind = enum_text(&e.kind);
            let at = e.time.to_string();
            Event {
                id: short_hash(&[asset, &at, &kind, &e.summary, &e.source]),
                at: e.time,
                zone: e.zone.clone().unwrap_or_else(|| "UTC".into()),
                source: format!("import:{asset}:{}", e.source),
                kind,
                text: format!("{asset}: {}", e.summary),
            }
        })
        .collect();
    for (at, what) in [
        (storyline.first_activity, "first attacker activity"),
        (storyline.last_activity, "last attacker activity"),
    ] {
        if let Some(at) = at {
            out.push(Event {
                id: short_hash(&[asset, &at.to_string(), what]),
                at,
                zone: "UTC".into(),
                source: format!("import:{asset}:storyline"),
                kind: "storyline".into(),
                text: format!("{asset}: {what}"),
            });
        }
    }
    out
}

fn journal_rows(asset: &str, entries: &[JournalEntry]) -> (Vec<ActionRecord>, Vec<Event>) {
    let mut actions: Vec<ActionRecord> = Vec::new();
    let mut events = Vec::new();
    for e in entries {
        let (id, state) = match &e.event {
            JournalEvent::Begin { action } => {
                actions.push(ActionRecord {
                    asset: asset.to_owned(),
                    action_id: action.id.clone(),
                    kind: action.kind.clone(),
                    title: action.title.clone(),
                    finding: action.finding.clone(),
                    operator: e.operator.clone(),
                    begun: e.utc.clone(),
                    state: "begun".into(),
                    tool: match &e.tool_sha256 {
                        Some(h) => format!("{} sha256 {}", e.tool, h.get(..16).unwrap_or(h)),
                        None => e.tool.clone(),
                    },
                    approval: action.approval.as_ref().map(|p| p.statement.clone()),
                });
                (action.id.clone(), "begun")
            }
            JournalEvent::Applied { id } => (id.clone(), "applied"),
            JournalEvent::Failed { id, .. } => (id.clone(), "failed"),
            JournalEvent::Undone { id, .. } => (id.clone(), "undone"),
            _ => continue,
        };
        if state != "begun"
            && let Some(a) = actions.iter_mut().find(|a| a.action_id == id)
        {
            a.state = state.into();
        }
        if let Some(at) = Timestamp::parse(&e.utc) {
            let title = actions
                .iter()
                .find(|a| a.action_id == id)
                .map(|a| a.title.clone())
                .unwrap_or_default();
            events.push(Event {
                id: short_hash(&[asset, &e.seq.to_string(), &e.prev]),
                at,
                zone: "UTC".into(),
                source: format!("import:{asset}:journal:{}", e.seq),
                kind: format!("action.{state}"),
                text: format!("{asset}: {id} {state} by {}: {title}", e.operator),
            });
        }
    }
    (actions, events)
}

impl Store {
    /// Imports one upload into a case, all of it or nothing: findings (deduplicated per asset
    /// by finding id), timeline events, IOCs, actions or the evidence record, and the import
    /// record the gates read.
    pub async fn import(
        &self,
        actor: &Actor,
        case_id: &str,
        upload: Upload,
    ) -> Result<ImportOutcome> {
        let asset = valid_asset(&upload.asset)?;
        let findings: &[Finding] = match &upload.payload {
            Payload::Analysis(_, r) => &r.findings,
            Payload::Hunt(h) => &h.findings,
            _ => &[],
        };
        // Each finding is kept as its JSON, made once here, and refused whole when too big.
        let mut bodies = Vec::with_capacity(findings.len());
        for f in findings {
            let body = serde_json::to_string(f).map_err(|e| StoreError::Invalid(e.to_string()))?;
            if body.len() > MAX_FINDING_BYTES {
                return Err(StoreError::Invalid(format!(
                    "finding {} is {} bytes, more than the {MAX_FINDING_BYTES} kept per finding",
                    firewarden_model::printable(&f.id, 80),
                    body.len()
                )));
            }
            bodies.push(body);
        }
        let bodies = Arc::new(bodies);
        let upload = Arc::new(Upload { asset, ..upload });
        let (who, linkage) = (actor.user.clone(), self.linkage.clone());
        self.on_case(actor, case_id, Operation::EditCase, "case.import", move |tx, case| {
            let (upload, who, bodies) = (Arc::clone(&upload), who.clone(), Arc::clone(&bodies));
            let linkage = linkage.clone();
            Box::pin(async move {
                let u = &*upload;
                let id = random_id("I")?;
                let mut outcome = ImportOutcome {
                    id: id.clone(),
                    kind: ImportKind::Triage,
                    findings: ImportSummary { new_findings: 0, known_findings: 0 },
                    timeline_events: 0,
                    new_iocs: 0,
                    actions: 0,
                    evidence: None,
                    tools: crate::tools::tool_uses(&u.payload),
                    flags: Vec::new(),
                };
                // Which tools it came from, judged first: a tenant that accepts validated
                // tools only refuses the upload before anything is written.
                crate::tools::judge(tx, &mut outcome.tools).await?;
                let policy = sqlx::query("SELECT tool_policy FROM tenants WHERE id = $1")
                    .bind(case.tenant.clone())
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get::<String, _>("tool_policy")?;
                let policy = match policy.as_str() {
                    "" => firewarden_case::tools::ToolPolicy::default(),
                    p => parse_enum(p)?,
                };
                firewarden_case::tools::admit(policy, &outcome.tools).map_err(StoreError::Invalid)?;
                outcome.flags = firewarden_case::tools::flags(&outcome.tools);
                ensure_asset(tx, &case.id, &u.asset).await?;
                let facts = match &u.payload {
                    Payload::Analysis(kind, r) => {
                        outcome.kind = *kind;
                        outcome.findings = insert_findings(tx, &case.id, &u.asset, &r.findings, &bodies).await?;
                        let events = analysis_events(&u.asset, &r.storyline, &r.timeline);
                        outcome.timeline_events = insert_timeline(tx, &case.id, &who, &events).await?;
                        let iocs = ioc::from_triage(r);
                        outcome.new_iocs = insert_iocs(tx, &case, &iocs).await?;
                        if let Some(secret) = &linkage {
                            crate::linkage::record(tx, secret, &case, &iocs).await?;
                        }
                        firewarden_case::import::ImportFacts::of_triage(r)
                    }
                    Payload::Hunt(h) => {
                        outcome.kind = ImportKind::Hunt;
                        outcome.findings = insert_findings(tx, &case.id, &u.asset, &h.findings, &bodies).await?;
                        let events = analysis_events(&u.asset, &h.storyline, &[]);
                        outcome.timeline_events = insert_timeline(tx, &case.id, &who, &events).await?;
                        let iocs = ioc::from_parts(&h.storyline, &[], &h.findings);
                        outcome.new_iocs = insert_iocs(tx, &case, &iocs).await?;
                        if let Some(secret) = &linkage {
                            crate::linkage::record(tx, secret, &case, &iocs).await?;
                        }
                        firewarden_case::import::ImportFacts::of_hunt(h)
                    }
                    Payload::Journal(entries, signer) => {
                        outcome.kind = ImportKind::ActionJournal;
                        let (actions, events) = journal_rows(&u.asset, entries);
                        for a in &actions {
                            // A journal pushed again, or a longer export of it, updates states.
                            sqlx::query("DELETE FROM actions WHERE case_id = $1 AND asset = $2 AND action_id = $3")
                                .bind(case.id.clone())
                                .bind(a.asset.clone())
                                .bind(a.action_id.clone())
                                .execute(&mut *tx)
                                .await?;
                            sqlx::query("INSERT INTO actions (case_id, asset, action_id, kind, title, finding, operator, begun, state, tool, approval) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                                .bind(case.id.clone())
                                .bind(a.asset.clone())
                                .bind(a.action_id.clone())
                                .bind(a.kind.clone())
                                .bind(a.title.clone())
                                .bind(a.finding.clone())
                                .bind(a.operator.clone())
                                .bind(a.begun.clone())
                                .bind(a.state.clone())
                                .bind(a.tool.clone())
                                .bind(a.approval.as_ref().map(|v| v.to_string()).unwrap_or_default())
                                .execute(&mut *tx)
                                .await?;
                        }
                        outcome.actions = actions.len();
                        outcome.timeline_events = insert_timeline(tx, &case.id, &who, &events).await?;
                        firewarden_case::import::ImportFacts::of_journal(entries, signer.clone())
                    }
                    Payload::Evidence { acquired, signer, blob, ledger, receipt, .. } => {
                        outcome.kind = ImportKind::Bundle;
                        // The same bytes for the same case are the same item: its ledger goes on.
                        let known = sqlx::query("SELECT * FROM evidence WHERE case_id = $1 AND sha256 = $2 ORDER BY received LIMIT 1")
                            .bind(case.id.clone())
                            .bind(u.sha256.clone())
                            .fetch_optional(&mut *tx)
                            .await?;
                        let (item, lines) = match known {
                            Some(row) => {
                                let item = evidence_from(&row)?;
                                let lines = crate::custody::ledger_lines(tx, &item.id).await?;
                                (item, lines)
                            }
                            None => {
                                let item = EvidenceItem {
                                    id: random_id("E")?,
                                    asset: u.asset.clone(),
                                    sha256: u.sha256.clone(),
                                    size: u.size,
                                    signer: signer.clone(),
                                    acquired: *acquired,
                                    received: now(),
                                    by: who.clone(),
                                    blob: blob.clone(),
                                    custody_events: ledger.len() as u64,
                                };
                                sqlx::query("INSERT INTO evidence (id, case_id, asset, sha256, size, signer, acquired, received, by_user, blob, custody_events) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                                    .bind(item.id.clone())
                                    .bind(case.id.clone())
                                    .bind(item.asset.clone())
                                    .bind(item.sha256.clone())
                                    .bind(item.size as i64)
                                    .bind(item.signer.clone())
                                    .bind(item.acquired.to_string())
                                    .bind(item.received.to_string())
                                    .bind(who.clone())
                                    .bind(item.blob.clone())
                                    .bind(item.custody_events as i64)
                                    .execute(&mut *tx)
                                    .await?;
                                for (i, line) in ledger.iter().enumerate() {
                                    sqlx::query("INSERT INTO custody (evidence_id, seq, kind, at, line) VALUES ($1, $2, $3, $4, $5)")
                                        .bind(item.id.clone())
                                        .bind(i as i64 + 1)
                                        .bind(crate::custody::line_kind(line))
                                        .bind(item.received.to_string())
                                        .bind(line.clone())
                                        .execute(&mut *tx)
                                        .await?;
                                }
                                let events = [Event {
                                    id: short_hash(&[&u.asset, "evidence", &u.sha256]),
                                    at: *acquired,
                                    zone: "UTC".into(),
                                    source: format!("import:{}:bundle", u.asset),
                                    kind: "evidence.collected".into(),
                                    text: format!("{}: evidence collected (bundle sha256 {})", u.asset, &u.sha256),
                                }];
                                outcome.timeline_events = insert_timeline(tx, &case.id, &who, &events).await?;
                                (item, ledger.clone())
                            }
                        };
                        let made = (receipt.0)(&lines).map_err(StoreError::Invalid)?;
                        crate::custody::append_line(tx, &case.id, &item, lines.len() + 1, &made, &who).await?;
                        outcome.timeline_events += 1;
                        outcome.evidence = Some(item.id.clone());
                        ImportFacts::Evidence { acquired: *acquired }
                    }
                };
                let mut summary = format!(
                    "{}: {} new finding(s), {} known, {} event(s), {} new IOC(s), {} action(s)",
                    u.asset,
                    outcome.findings.new_findings,
                    outcome.findings.known_findings,
                    outcome.timeline_events,
                    outcome.new_iocs,
                    outcome.actions
                );
                if !outcome.flags.is_empty() {
                    summary.push_str(&format!("; FLAGGED: {}", outcome.flags.join("; ")));
                }
                let storyline = match &u.payload {
                    Payload::Analysis(_, r) => serde_json::to_string(&r.storyline).unwrap_or_default(),
                    Payload::Hunt(h) => serde_json::to_string(&h.storyline).unwrap_or_default(),
                    _ => String::new(),
                };
                sqlx::query("INSERT INTO imports (id, case_id, asset, kind, sha256, size, at, by_user, facts, summary, tools, storyline) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                    .bind(id)
                    .bind(case.id.clone())
                    .bind(u.asset.clone())
                    .bind(enum_text(&outcome.kind))
                    .bind(u.sha256.clone())
                    .bind(u.size as i64)
                    .bind(now().to_string())
                    .bind(who.clone())
                    .bind(serde_json::to_string(&facts).map_err(|e| StoreError::Invalid(e.to_string()))?)
                    .bind(summary.clone())
                    .bind(serde_json::to_string(&outcome.tools).map_err(|e| StoreError::Invalid(e.to_string()))?)
                    .bind(storyline)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE cases SET version = version + 1, updated = $1 WHERE id = $2")
                    .bind(now().to_string())
                    .bind(case.id.clone())
                    .execute(&mut *tx)
                    .await?;
                let detail = format!("{}: {summary}", enum_text(&outcome.kind));
                Ok((outcome, detail))
            })
        })
        .await
    }

    /// Imports a triage (or scan) result's findings for one asset, in one transaction: a
    /// finding the case already has for that asset (same finding id) is not added twice.
    pub async fn import_triage(
        &self,
        actor: &Actor,
        case_id: &str,
        asset: &str,
        report: &TriageReport,
    ) -> Result<ImportSummary> {
        let upload = Upload {
            asset: asset.to_owned(),
            sha256: String::new(),
            size: 0,
            payload: Payload::Analysis(ImportKind::Triage, Box::new(report.clone())),
        };
        Ok(self.import(actor, case_id, upload).await?.findings)
    }

    /// A case's findings (as imported, unchanged), by asset and finding id.
    pub async fn findings(
        &self,
        actor: &Actor,
        case_id: &str,
        query: FindingQuery,
    ) -> Result<Vec<Box<serde_json::value::RawValue>>> {
        let query = Arc::new(query);
        self.on_case(actor, case_id, Operation::ReadCase, "case.findings", move |tx, case| {
            let query = Arc::clone(&query);
            Box::pin(async move {
                let limit = query.limit.unwrap_or(100).clamp(1, 1000) as i64;
                let (after_asset, after_id) = match query.after.as_deref().and_then(|a| a.split_once('/')) {
                    Some((a, i)) => (a.to_owned(), i.to_owned()),
                    None => (String::new(), String::new()),
                };
                let rows = sqlx::query(
                    "SELECT asset, severity, body FROM findings WHERE case_id = $1 AND ($2 = '' OR asset = $2) AND (asset > $3 OR (asset = $3 AND finding_id > $4)) ORDER BY asset, finding_id LIMIT $5",
                )
                .bind(case.id.clone())
                .bind(query.asset.clone().unwrap_or_default())
                .bind(after_asset)
                .bind(after_id)
                .bind(if query.min_severity.is_some() { limit * 20 } else { limit })
                .fetch_all(&mut *tx)
                .await?;
                let mut out = Vec::new();
                for row in &rows {
                    let sev: Severity = row
                        .try_get::<String, _>("severity")?
                        .parse()
                        .map_err(StoreError::Invalid)?;
                    if query.min_severity.is_some_and(|m| sev < m) {
                        continue;
                    }
                    // The stored JSON as it is, with the asset added in front: no parse and
                    // re-serialisation of every finding on every page.
                    let body: String = row.try_get("body")?;
                    let asset: String = row.try_get("asset")?;
                    let asset = serde_json::to_string(&asset).map_err(|e| StoreError::Invalid(e.to_string()))?;
                    let text = match body.strip_prefix('{') {
                        Some(rest) if rest.trim_start().starts_with('}') => format!("{{\"asset\":{asset}}}"),
                        Some(rest) => format!("{{\"asset\":{asset},{rest}"),
                        None => return Err(StoreError::Invalid("stored finding is not an object".into())),
                    };
                    out.push(
                        serde_json::value::RawValue::from_string(text)
                            .map_err(|e| StoreError::Invalid(format!("stored finding: {e}")))?,
                    );
                    if out.len() as i64 >= limit {
                        break;
                    }
                }
                let n = out.len();
                Ok((out, format!("{n} finding(s)")))
            })
        })
        .await
    }

    /// The findings a case holds for an asset, by finding id. The read is audited.
    pub async fn finding_ids(
        &self,
        actor: &Actor,
        case_id: &str,
        asset: &str,
    ) -> Result<Vec<String>> {
        let asset = asset.to_owned();
        self.on_case(actor, case_id, Operation::ReadCase, "case.findings", move |tx, case| {
            let asset = asset.clone();
            Box::pin(async move {
                let rows = sqlx::query(
                    "SELECT finding_id FROM findings WHERE case_id = $1 AND asset = $2 ORDER BY finding_id",
                )
                .bind(case.id.clone())
                .bind(asset.clone())
                .fetch_all(&mut *tx)
                .await?;
                let ids = rows
                    .iter()
                    .map(|r| r.try_get::<String, _>("finding_id").map_err(StoreError::from))
                    .collect::<Result<Vec<_>>>()?;
                Ok((ids, asset))
            })
        })
        .await
    }

    /// A case's assets.
    pub async fn assets(&self, actor: &Actor, case_id: &str) -> Result<Vec<Asset>> {
        self.case_rows(
            actor,
            case_id,
            "case.assets",
            "SELECT * FROM assets WHERE case_id = $1 ORDER BY name",
            asset_from,
        )
        .await
    }

    /// Adds an asset to a case, or sets its compromise status (at `version`, when it exists).
    pub async fn set_asset(
        &self,
        actor: &Actor,
        case_id: &str,
        name: &str,
        compromise: Compromise,
        version: Option<i64>,
    ) -> Result<Asset> {
        let name = valid_asset(name)?;
        self.on_case(actor, case_id, Operation::EditCase, "case.asset", move |tx, case| {
            let name = name.clone();
            Box::pin(async move {
                let existing = sqlx::query("SELECT * FROM assets WHERE case_id = $1 AND name = $2")
                    .bind(case.id.clone())
                    .bind(name.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
                match existing {
                    None => {
                        sqlx::query("INSERT INTO assets (case_id, name, compromise, version, added) VALUES ($1, $2, $3, 1, $4)")
                            .bind(case.id.clone())
                            .bind(name.clone())
                            .bind(enum_text(&compromise))
                            .bind(now().to_string())
                            .execute(&mut *tx)
                            .await?;
                    }
                    Some(row) => {
                        let current: i64 = row.try_get("version")?;
                        let expected = version.ok_or_else(|| {
                            StoreError::Invalid(format!("asset {name} exists: name its version (now {current})"))
                        })?;
                        let done = sqlx::query("UPDATE assets SET compromise = $1, version = version + 1 WHERE case_id = $2 AND name = $3 AND version = $4")
                            .bind(enum_text(&compromise))
                            .bind(case.id.clone())
                            .bind(name.clone())
                            .bind(expected)
                            .execute(&mut *tx)
                            .await?;
                        if done.rows_affected() == 0 {
                            return Err(StoreError::Conflict(current));
                        }
                    }
                }
                let row = sqlx::query("SELECT * FROM assets WHERE case_id = $1 AND name = $2")
                    .bind(case.id.clone())
                    .bind(name.clone())
                    .fetch_one(&mut *tx)
                    .await?;
                let detail = format!("{name}: {}", enum_text(&compromise));
                Ok((asset_from(&row)?, detail))
            })
        })
        .await
    }

    /// A case's notes, oldest first.
    pub async fn notes(&self, actor: &Actor, case_id: &str) -> Result<Vec<Note>> {
        self.case_rows(
            actor,
            case_id,
            "case.notes",
            "SELECT * FROM notes WHERE case_id = $1 ORDER BY created, id",
            note_from,
        )
        .await
    }

    /// Writes a note (also on the timeline).
    pub async fn add_note(
        &self,
        actor: &Actor,
        case_id: &str,
        body: &str,
        lesson: bool,
    ) -> Result<Note> {
        let body = valid_text(body, "a note", 64 << 10)?;
        let author = actor.user.clone();
        self.on_case(actor, case_id, Operation::EditCase, "case.note", move |tx, case| {
            let (body, author) = (body.clone(), author.clone());
            Box::pin(async move {
                let note = Note { id: random_id("N")?, author, created: now(), body, lesson };
                sqlx::query("INSERT INTO notes (id, case_id, author, created, body, lesson) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(note.id.clone())
                    .bind(case.id.clone())
                    .bind(note.author.clone())
                    .bind(note.created.to_string())
                    .bind(note.body.clone())
                    .bind(i64::from(note.lesson))
                    .execute(&mut *tx)
                    .await?;
                let first_line = note.body.lines().next().unwrap_or_default();
                let event = Event {
                    id: note.id.clone(),
                    at: note.created,
                    zone: "UTC".into(),
                    source: "note".into(),
                    kind: "note".into(),
                    text: firewarden_model::printable(first_line, 200),
                };
                insert_timeline(tx, &case.id, &note.author, &[event]).await?;
                let id = note.id.clone();
                Ok((note, id))
            })
        })
        .await
    }

    /// A case's tasks, oldest first.
    pub async fn tasks(&self, actor: &Actor, case_id: &str) -> Result<Vec<Task>> {
        self.case_rows(
            actor,
            case_id,
            "case.tasks",
            "SELECT * FROM tasks WHERE case_id = $1 ORDER BY created, id",
            task_from,
        )
        .await
    }

    /// Adds a task.
    pub async fn add_task(&self, actor: &Actor, case_id: &str, new: NewTask) -> Result<Task> {
        let title = valid_text(&new.title, "a task", 500)?;
        let owner = new
            .owner
            .as_deref()
            .map(|o| valid_text(o, "the owner", 200))
            .transpose()?;
        let due = match new.due.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) if Timestamp::parse(&format!("{d}T00:00:00Z")).is_some() && d.len() == 10 => {
                Some(d.to_owned())
            }
            Some(d) => {
                return Err(StoreError::Invalid(format!(
                    "deadline `{}` is not YYYY-MM-DD",
                    firewarden_model::printable(d, 40)
                )));
            }
        };
        let by = actor.user.clone();
        self.on_case(actor, case_id, Operation::EditCase, "case.task.add", move |tx, case| {
            let (title, by, owner, due) = (title.clone(), by.clone(), owner.clone(), due.clone());
            Box::pin(async move {
                let task = Task { id: random_id("K")?, title, done: false, version: 1, created: now(), by, owner, due };
                sqlx::query("INSERT INTO tasks (id, case_id, title, done, version, created, by_user, owner, due) VALUES ($1, $2, $3, 0, 1, $4, $5, $6, $7)")
                    .bind(task.id.clone())
                    .bind(case.id.clone())
                    .bind(task.title.clone())
                    .bind(task.created.to_string())
                    .bind(task.by.clone())
                    .bind(task.owner.clone().unwrap_or_default())
                    .bind(task.due.clone().unwrap_or_default())
                    .execute(&mut *tx)
                    .await?;
                let d = format!("{}: {}", task.id, task.title);
                Ok((task, d))
            })
        })
        .await
    }

    /// Marks a task done or open, at `version`.
    pub async fn set_task_done(
        &self,
        actor: &Actor,
        case_id: &str,
        task_id: &str,
        version: i64,
        done: bool,
    ) -> Result<Task> {
        let task_id = task_id.to_owned();
        self.on_case(actor, case_id, Operation::EditCase, "case.task.update", move |tx, case| {
            let task_id = task_id.clone();
            Box::pin(async move {
                let row = sqlx::query("SELECT * FROM tasks WHERE id = $1 AND case_id = $2")
                    .bind(task_id.clone())
                    .bind(case.id.clone())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let current = task_from(&row)?;
                let done_sql = sqlx::query("UPDATE tasks SET done = $1, version = version + 1 WHERE id = $2 AND version = $3")
                    .bind(i64::from(done))
                    .bind(task_id.clone())
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
                if done_sql.rows_affected() == 0 {
                    return Err(StoreError::Conflict(current.version));
                }
                let row = sqlx::query("SELECT * FROM tasks WHERE id = $1")
                    .bind(task_id.clone())
                    .fetch_one(&mut *tx)
                    .await?;
                Ok((task_from(&row)?, format!("{task_id}: done={done}")))
            })
        })
        .await
    }

    /// A case's timeline, oldest first (at most `limit` entries from `offset`).
    pub async fn timeline(
        &self,
        actor: &Actor,
        case_id: &str,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<TimelineEntry>> {
        self.on_case(actor, case_id, Operation::ReadCase, "case.timeline", move |tx, case| {
            Box::pin(async move {
                let rows = sqlx::query("SELECT * FROM timeline WHERE case_id = $1 ORDER BY at, id LIMIT $2 OFFSET $3")
                    .bind(case.id.clone())
                    .bind(i64::from(limit.clamp(1, 5000)))
                    .bind(i64::from(offset))
                    .fetch_all(&mut *tx)
                    .await?;
                let out = rows
                    .iter()
                    .map(|r| {
                        Ok(TimelineEntry {
                            at: ts(r, "at")?,
                            zone: r.try_get("zone")?,
                            source: r.try_get("source")?,
                            kind: r.try_get("kind")?,
                            actor: r.try_get("actor")?,
                            text: r.try_get("text")?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok((out, String::new()))
            })
        })
        .await
    }

    /// A case's indicators.
    pub async fn iocs(&self, actor: &Actor, case_id: &str) -> Result<Vec<Ioc>> {
        self.case_rows(
            actor,
            case_id,
            "case.iocs",
            "SELECT kind, value FROM iocs WHERE case_id = $1 ORDER BY kind, value",
            ioc_from,
        )
        .await
    }

    /// A case's indicators with when each was first seen in it (for exports).
    pub async fn iocs_seen(&self, actor: &Actor, case_id: &str) -> Result<Vec<(Ioc, Timestamp)>> {
        self.case_rows(
            actor,
            case_id,
            "case.iocs",
            "SELECT kind, value, first_seen FROM iocs WHERE case_id = $1 ORDER BY kind, value",
            |r| Ok((ioc_from(r)?, ts(r, "first_seen")?)),
        )
        .await
    }

    /// A case's imports, oldest first.
    pub async fn imports(&self, actor: &Actor, case_id: &str) -> Result<Vec<ImportRecord>> {
        self.case_rows(
            actor,
            case_id,
            "case.imports",
            "SELECT * FROM imports WHERE case_id = $1 ORDER BY at, id",
            import_from,
        )
        .await
    }

    /// A case's evidence items.
    pub async fn evidence(&self, actor: &Actor, case_id: &str) -> Result<Vec<EvidenceItem>> {
        self.case_rows(
            actor,
            case_id,
            "case.evidence",
            "SELECT * FROM evidence WHERE case_id = $1 ORDER BY received, id",
            evidence_from,
        )
        .await
    }

    /// A case's actions on hosts, from imported journals.
    pub async fn actions(&self, actor: &Actor, case_id: &str) -> Result<Vec<ActionRecord>> {
        self.case_rows(
            actor,
            case_id,
            "case.actions",
            "SELECT * FROM actions WHERE case_id = $1 ORDER BY begun, asset, action_id",
            action_from,
        )
        .await
    }

    /// Every row `sql` selects for a case the actor may read (the case id is its one
    /// parameter), each made into a `T` by `row`; the read is audited as `action`.
    pub(crate) async fn case_rows<T: Send + 'static>(
        &self,
        actor: &Actor,
        case_id: &str,
        action: &'static str,
        sql: &'static str,
        row: fn(&AnyRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.on_case(
            actor,
            case_id,
            Operation::ReadCase,
            action,
            move |tx, case| {
                Box::pin(async move {
                    let rows = sqlx::query(sql)
                        .bind(case.id.clone())
                        .fetch_all(&mut *tx)
                        .await?;
                    let out = rows.iter().map(row).collect::<Result<Vec<_>>>()?;
                    Ok((out, String::new()))
                })
            },
        )
        .await
    }

    /// The case's stage, its exit checklist from the case's data, and the moves so far.
    pub async fn stage(&self, actor: &Actor, case_id: &str) -> Result<StageView> {
        self.on_case(
            actor,
            case_id,
            Operation::ReadCase,
            "case.stage",
            |tx, case| {
                Box::pin(async move {
                    let facts = gate_facts(tx, &case).await?;
                    let transitions = transitions(tx, &case.id).await?;
                    let checklist = (case.status == CaseStatus::Open)
                        .then(|| stage::checklist(case.stage, &facts));
                    Ok((
                        StageView {
                            case,
                            checklist,
                            facts,
                            transitions,
                        },
                        String::new(),
                    ))
                })
            },
        )
        .await
    }

    /// Leaves the case's stage (read at `version`): when its checklist passes, or over it with
    /// a reason when the actor may override gates. Overrides are recorded with what was unmet.
    pub async fn advance(
        &self,
        actor: &Actor,
        case_id: &str,
        version: i64,
        override_reason: Option<String>,
    ) -> Result<(Case, Transition)> {
        let (role, who) = (actor.role, actor.user.clone());
        let op = if override_reason.is_some() {
            Operation::OverrideGate
        } else {
            Operation::EditCase
        };
        self.on_case(actor, case_id, op, "case.stage", move |tx, case| {
                let (reason, who) = (override_reason.clone(), who.clone());
                Box::pin(async move {
                    if case.version != version {
                        return Err(StoreError::Conflict(case.version));
                    }
                    if case.status == CaseStatus::Closed {
                        return Err(StoreError::Invalid("the case is closed".into()));
                    }
                    let facts = gate_facts(tx, &case).await?;
                    let t = stage::advance(case.stage, &facts, role, reason.as_deref())
                        .map_err(StoreError::Gate)?;
                    let at = now();
                    let (stage_text, status) = match t.to {
                        Some(next) => (enum_text(&next), "open"),
                        None => (enum_text(&t.from), "closed"),
                    };
                    sqlx::query("UPDATE cases SET stage = $1, status = $2, version = version + 1, updated = $3 WHERE id = $4 AND version = $5")
                        .bind(stage_text)
                        .bind(status.to_owned())
                        .bind(at.to_string())
                        .bind(case.id.clone())
                        .bind(version)
                        .execute(&mut *tx)
                        .await?;
                    let unmet: Vec<String> = t
                        .overridden
                        .as_ref()
                        .map(|o| o.unmet.iter().map(|c| c.id.clone()).collect())
                        .unwrap_or_default();
                    sqlx::query("INSERT INTO transitions (case_id, at, from_stage, to_stage, by_user, override_reason, unmet) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                        .bind(case.id.clone())
                        .bind(at.to_string())
                        .bind(enum_text(&t.from))
                        .bind(t.to.map(|s| enum_text(&s)))
                        .bind(who.clone())
                        .bind(t.overridden.as_ref().map(|o| o.reason.clone()))
                        .bind(serde_json::to_string(&unmet).unwrap_or_default())
                        .execute(&mut *tx)
                        .await?;
                    let text = match (&t.to, &t.overridden) {
                        (Some(to), None) => format!("stage {} → {}", t.from.as_str(), to.as_str()),
                        (Some(to), Some(o)) => format!(
                            "stage {} → {} OVERRIDDEN ({}): {}",
                            t.from.as_str(),
                            to.as_str(),
                            unmet.join(", "),
                            o.reason
                        ),
                        (None, _) => "case closed".to_owned(),
                    };
                    let event = Event {
                        id: short_hash(&[&case.id, &at.to_string(), &text]),
                        at,
                        zone: "UTC".into(),
                        source: "server".into(),
                        kind: "stage".into(),
                        text: firewarden_model::printable(&text, 2000),
                    };
                    insert_timeline(tx, &case.id, &who, &[event]).await?;
                    let case = fetch_case(&mut *tx, &case.id).await?;
                    Ok(((case, t), text))
                })
            })
            .await
    }

    /// Waives a criterion of the case's gates, with a reason (leads and admins).
    pub async fn waive(
        &self,
        actor: &Actor,
        case_id: &str,
        criterion: &str,
        reason: &str,
    ) -> Result<Waiver> {
        let reason = valid_text(reason, "a reason", 4000)?;
        let criterion = valid_text(criterion, "a criterion id", 100)?;
        let by = actor.user.clone();
        self.on_case(actor, case_id, Operation::OverrideGate, "case.waive", move |tx, case| {
            let (criterion, reason, by) = (criterion.clone(), reason.clone(), by.clone());
            Box::pin(async move {
                let known = stage::Stage::ALL
                    .iter()
                    .flat_map(|s| stage::checklist(*s, &CaseFacts::default()).criteria)
                    .any(|c| c.id == criterion);
                if !known {
                    return Err(StoreError::Invalid(format!("no criterion {criterion}")));
                }
                sqlx::query("DELETE FROM waivers WHERE case_id = $1 AND criterion = $2")
                    .bind(case.id.clone())
                    .bind(criterion.clone())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO waivers (case_id, criterion, reason, by_user, at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(case.id.clone())
                    .bind(criterion.clone())
                    .bind(reason.clone())
                    .bind(by.clone())
                    .bind(now().to_string())
                    .execute(&mut *tx)
                    .await?;
                let d = format!("{criterion}: {reason}");
                Ok((Waiver { criterion, reason, by }, d))
            })
        })
        .await
    }
}

/// What the gates look at, from the case's imports and what people recorded.
pub(crate) async fn gate_facts(tx: &mut Conn, case: &Case) -> Result<CaseFacts> {
    let rows = sqlx::query("SELECT facts FROM imports WHERE case_id = $1 ORDER BY at, id")
        .bind(case.id.clone())
        .fetch_all(&mut *tx)
        .await?;
    let items = rows
        .iter()
        .map(|r| {
            serde_json::from_str::<ImportFacts>(&r.try_get::<String, _>("facts")?)
                .map_err(|e| StoreError::Invalid(format!("stored import facts: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut facts = facts_of(&items);
    if case.entry_point.is_some() {
        facts.entry_point = case.entry_point.clone();
    }
    facts.authority_recorded = case.authority.is_some();
    let n = sqlx::query("SELECT COUNT(*) AS n FROM assets WHERE case_id = $1")
        .bind(case.id.clone())
        .fetch_one(&mut *tx)
        .await?;
    facts.assets = n.try_get::<i64, _>("n")? as usize;
    let n = sqlx::query("SELECT COUNT(*) AS n FROM tasks WHERE case_id = $1 AND done = 0")
        .bind(case.id.clone())
        .fetch_one(&mut *tx)
        .await?;
    facts.open_tasks = n.try_get::<i64, _>("n")? as usize;
    let rows = sqlx::query(
        "SELECT criterion, reason, by_user FROM waivers WHERE case_id = $1 ORDER BY criterion",
    )
    .bind(case.id.clone())
    .fetch_all(&mut *tx)
    .await?;
    for r in &rows {
        facts.waivers.push(Waiver {
            criterion: r.try_get("criterion")?,
            reason: r.try_get("reason")?,
            by: r.try_get("by_user")?,
        });
    }
    Ok(facts)
}

pub(crate) async fn transitions(tx: &mut Conn, case_id: &str) -> Result<Vec<TransitionRecord>> {
    let rows = sqlx::query("SELECT * FROM transitions WHERE case_id = $1 ORDER BY at")
        .bind(case_id.to_owned())
        .fetch_all(&mut *tx)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(TransitionRecord {
                at: ts(r, "at")?,
                from: parse_enum(&r.try_get::<String, _>("from_stage")?)?,
                to: r
                    .try_get::<Option<String>, _>("to_stage")?
                    .map(|s| parse_enum(&s))
                    .transpose()?,
                by: r.try_get("by_user")?,
                override_reason: r.try_get("override_reason")?,
                unmet: serde_json::from_str(&r.try_get::<String, _>("unmet")?).unwrap_or_default(),
            })
        })
        .collect()
}

fn asset_from(r: &AnyRow) -> Result<Asset> {
    Ok(Asset {
        name: r.try_get("name")?,
        compromise: parse_enum(&r.try_get::<String, _>("compromise")?)?,
        version: r.try_get("version")?,
        added: ts(r, "added")?,
    })
}

fn note_from(r: &AnyRow) -> Result<Note> {
    Ok(Note {
        id: r.try_get("id")?,
        author: r.try_get("author")?,
        created: ts(r, "created")?,
        body: r.try_get("body")?,
        lesson: r.try_get::<i64, _>("lesson")? != 0,
    })
}

pub(crate) fn ioc_from(r: &AnyRow) -> Result<Ioc> {
    Ok(Ioc {
        kind: parse_enum(&r.try_get::<String, _>("kind")?)?,
        value: r.try_get("value")?,
    })
}

fn import_from(r: &AnyRow) -> Result<ImportRecord> {
    Ok(ImportRecord {
        id: r.try_get("id")?,
        asset: r.try_get("asset")?,
        kind: parse_enum(&r.try_get::<String, _>("kind")?)?,
        sha256: r.try_get("sha256")?,
        size: r.try_get::<i64, _>("size")? as u64,
        at: ts(r, "at")?,
        by: r.try_get("by_user")?,
        summary: r.try_get("summary")?,
        tools: match r.try_get::<String, _>("tools")?.as_str() {
            "" => Vec::new(),
            json => serde_json::from_str(json).map_err(|e| StoreError::Invalid(e.to_string()))?,
        },
    })
}

pub(crate) fn evidence_from(r: &AnyRow) -> Result<EvidenceItem> {
    Ok(EvidenceItem {
        id: r.try_get("id")?,
        asset: r.try_get("asset")?,
        sha256: r.try_get("sha256")?,
        size: r.try_get::<i64, _>("size")? as u64,
        signer: r.try_get("signer")?,
        acquired: ts(r, "acquired")?,
        received: ts(r, "received")?,
        by: r.try_get("by_user")?,
        blob: r.try_get("blob")?,
        custody_events: r.try_get::<i64, _>("custody_events")? as u64,
    })
}

pub(crate) fn action_from(r: &AnyRow) -> Result<ActionRecord> {
    Ok(ActionRecord {
        asset: r.try_get("asset")?,
        action_id: r.try_get("action_id")?,
        kind: r.try_get("kind")?,
        title: r.try_get("title")?,
        finding: r.try_get("finding")?,
        operator: r.try_get("operator")?,
        begun: r.try_get("begun")?,
        state: r.try_get("state")?,
        tool: r.try_get("tool")?,
        approval: match r.try_get::<String, _>("approval")?.as_str() {
            "" => None,
            json => serde_json::from_str(json).ok(),
        },
    })
}

fn task_from(r: &AnyRow) -> Result<Task> {
    Ok(Task {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        done: r.try_get::<i64, _>("done")? != 0,
        version: r.try_get("version")?,
        created: ts(r, "created")?,
        by: r.try_get("by_user")?,
        owner: Some(r.try_get::<String, _>("owner")?).filter(|o| !o.is_empty()),
        due: Some(r.try_get::<String, _>("due")?).filter(|d| !d.is_empty()),
    })
}
