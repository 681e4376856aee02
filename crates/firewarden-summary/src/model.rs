//! What a summary report is made from: plain, versioned data gathered from the case (the
//! server gathers it; this crate only renders it). Every field is a fact of the case; nothing
//! here is computed from the clock, so the same case gives the same report.

use firewarden_model::Timestamp;
use serde::{Deserialize, Serialize};

/// Version of [`ReportFacts`].
pub const FACTS_VERSION: u32 = 1;

/// Everything the report says, as gathered from the case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFacts {
    /// [`FACTS_VERSION`].
    pub v: u32,
    /// The case itself.
    pub case: CaseHeader,
    /// The customer.
    pub tenant: TenantHeader,
    /// Who worked the case (authors) and who decided in it (reviewers: leads, approvers).
    pub authors: Vec<String>,
    /// Leads and approvers who reviewed or decided.
    pub reviewers: Vec<String>,
    /// The SLA clocks, with achieved figures.
    pub sla: Vec<SlaLine>,
    /// Stage moves, oldest first (overrides carry their reason and what was unmet).
    pub stages: Vec<StageMove>,
    /// Criteria waived, with reasons.
    pub waivers: Vec<Waiver>,
    /// The case's timeline, oldest first.
    pub timeline: Vec<TimelineRow>,
    /// What each analysed asset's latest storyline says.
    pub storylines: Vec<AssetStory>,
    /// Assets with their compromise status.
    pub assets: Vec<AssetRow>,
    /// Findings, most severe first.
    pub findings: Vec<FindingRow>,
    /// Indicators.
    pub iocs: Vec<IocRow>,
    /// Actions on hosts, with their approvals.
    pub actions: Vec<ActionRow>,
    /// Evidence items with their custody ledgers.
    pub evidence: Vec<EvidenceRow>,
    /// Tools and rule packs the imports came from, as the registry knows them.
    pub tools: Vec<ToolRow>,
    /// Open and done tasks (recommendations are the tasks still open at closure).
    pub tasks: Vec<TaskRow>,
    /// Notes.
    pub notes: Vec<NoteRow>,
    /// The audit trail of the case, summarised.
    pub audit: AuditSummary,
    /// The business-loss evaluation.
    #[serde(default)]
    pub loss: LossFacts,
}

/// The business-loss evaluation, as recorded and as the case's downtime implies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LossFacts {
    /// Services: name, criticality, cost per hour and currency, assets.
    pub services: Vec<(String, String, u64, String, Vec<String>)>,
    /// Downtime: asset, from, until (`None`: still down), source.
    pub downtime: Vec<(String, Timestamp, Option<Timestamp>, String)>,
    /// Ranges: VERIS variety, minimum, most likely, maximum, currency, note.
    pub losses: Vec<(String, u64, u64, u64, String, String)>,
    /// What the downtime costs the services, per currency.
    pub disruption_estimate: Vec<(String, u64)>,
    /// Totals per currency: minimum, most likely, maximum.
    pub totals: Vec<(String, u64, u64, u64)>,
    /// The overall rating (VERIS).
    pub overall_rating: Option<String>,
}

/// The case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseHeader {
    /// Incident id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Incident kind (`webshell`, `intrusion` …).
    pub kind: String,
    /// Severity.
    pub severity: String,
    /// TLP.
    pub tlp: String,
    /// PAP.
    pub pap: String,
    /// Current stage.
    pub stage: String,
    /// Open or closed.
    pub status: String,
    /// The case's version: the report's version (it changes whenever the case does).
    pub version: i64,
    /// Declared.
    pub created: Option<Timestamp>,
    /// Closed (leaving the summary stage).
    pub closed: Option<Timestamp>,
    /// The entry-point hypothesis recorded.
    pub entry_point: Option<String>,
    /// The customer's authority for the engagement.
    pub authority: Option<String>,
}

/// The customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantHeader {
    /// Name.
    pub name: String,
    /// Contract or retainer.
    pub contract: String,
    /// Contacts.
    pub contacts: String,
}

/// One SLA clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaLine {
    /// `acknowledge`, `remote_start`, `on_site`, `containment`.
    pub clock: String,
    /// The promise, minutes.
    pub target_minutes: u32,
    /// Achieved, seconds from declaration to the event that met it (`None`: not met).
    pub achieved_seconds: Option<i64>,
    /// `met`, `met_late`, `breached`, `running`, `warning`.
    pub state: String,
}

/// A stage move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageMove {
    /// When.
    pub at: Timestamp,
    /// From.
    pub from: String,
    /// To (`None`: closed).
    pub to: Option<String>,
    /// Who.
    pub by: String,
    /// The override's reason.
    pub override_reason: Option<String>,
    /// Criteria unmet at the override.
    pub unmet: Vec<String>,
}

/// A waived criterion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    /// The criterion.
    pub criterion: String,
    /// Why.
    pub reason: String,
    /// Who.
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// A timeline event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// When, UTC.
    pub at: Timestamp,
    /// The zone it was shown in where it happened.
    pub zone: String,
    /// Kind (`login`, `action.applied`, `custody.transfer` …).
    pub kind: String,
    /// What happened.
    pub text: String,
    /// Where the record came from.
    pub source: String,
}

/// One asset's storyline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetStory {
    /// The asset.
    pub asset: String,
    /// The verdict.
    pub verdict: String,
    /// How they got in.
    pub entry_point: Option<String>,
    /// Attacker addresses.
    pub attacker_ips: Vec<String>,
    /// Accounts used or made.
    pub accounts: Vec<String>,
    /// Persistence left behind.
    pub persistence: Vec<String>,
    /// First and last attacker activity.
    pub first_activity: Option<Timestamp>,
    /// Last attacker activity.
    pub last_activity: Option<Timestamp>,
}

/// An asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetRow {
    /// Name.
    pub name: String,
    /// Compromise status.
    pub compromise: String,
}

/// A finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRow {
    /// The asset.
    pub asset: String,
    /// Stable id.
    pub id: String,
    /// The check.
    pub check: String,
    /// Severity.
    pub severity: String,
    /// Title.
    pub title: String,
    /// ATT&CK techniques.
    pub attack: Vec<String>,
    /// Why.
    pub explanation: String,
    /// What to do.
    pub recommendation: String,
    /// Where it was seen (paths, first three).
    pub evidence: Vec<String>,
}

/// An indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IocRow {
    /// Kind.
    pub kind: String,
    /// Value.
    pub value: String,
}

/// An action on a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRow {
    /// The host.
    pub asset: String,
    /// Its id on the host.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// What it did.
    pub title: String,
    /// Who ran it.
    pub operator: String,
    /// When it began.
    pub begun: String,
    /// `applied`, `failed`, `undone` …
    pub state: String,
    /// The tool that ran it (name, version, hash).
    pub tool: String,
    /// Who approved it, when, and how.
    pub approval: Option<ApprovalLine>,
}

/// An approval of an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalLine {
    /// `approved`, `ratified`, `unratified`, `disputed`.
    pub state: String,
    /// Who decided.
    pub by: Option<String>,
    /// When.
    pub at: Option<Timestamp>,
    /// Who had to agree (`customer`, `second_responder`, `at_once`).
    pub requirement: String,
    /// Done under break-glass, with its reason.
    pub break_glass: Option<String>,
}

/// An evidence item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRow {
    /// Id.
    pub id: String,
    /// The asset.
    pub asset: String,
    /// SHA-256.
    pub sha256: String,
    /// Size.
    pub size: u64,
    /// Collected.
    pub acquired: Timestamp,
    /// Its custody ledger's lines, exactly as signed.
    pub custody: Vec<String>,
}

/// A tool or rule pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolRow {
    /// `binary`, `yara`, `sigma`, `ioc`.
    pub kind: String,
    /// As registered (`firewarden 0.1.0`), or the pack's name.
    pub name: String,
    /// SHA-256.
    pub sha256: String,
    /// How it stood in the registry when imported.
    pub standing: String,
}

/// A task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRow {
    /// Title.
    pub title: String,
    /// Done.
    pub done: bool,
    /// Who wrote it.
    pub by: String,
    /// Who owns it.
    #[serde(default)]
    pub owner: Option<String>,
    /// By when.
    #[serde(default)]
    pub due: Option<String>,
}

/// A note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRow {
    /// Author.
    pub author: String,
    /// When.
    pub created: Timestamp,
    /// Text.
    pub body: String,
    /// A lesson learned.
    #[serde(default)]
    pub lesson: bool,
}

/// The audit trail of the case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSummary {
    /// Records about the case.
    pub records: u64,
    /// First and last.
    pub first: Option<Timestamp>,
    /// Last.
    pub last: Option<Timestamp>,
    /// Records per action, sorted by action.
    pub by_action: Vec<(String, u64)>,
    /// Whether the whole audit chain verified when the report was made.
    pub chain_intact: bool,
}
