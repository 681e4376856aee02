//! Results of an event-log hunt (`firewarden hunt`): detections on a UTC timeline, a per-rule
//! summary, findings in the common model, and what could not be read or loaded.

use crate::{Finding, SourceInfo, Storyline, Timestamp, Warning};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One rule firing on one event. The first three fields are Timesketch's required columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    /// When the event was written, RFC 3339 UTC with microseconds.
    pub datetime: String,
    /// What the time means (Timesketch `timestamp_desc`).
    pub timestamp_desc: String,
    /// One line for a human: rule title and the event's key fields.
    pub message: String,
    /// Sigma rule id, or the built-in check id.
    pub rule_id: String,
    /// Rule title.
    pub rule_title: String,
    /// `sigma`, `correlation` (a Sigma correlation rule) or `builtin`.
    pub engine: String,
    /// Rule level.
    pub level: crate::Severity,
    /// ATT&CK technique ids.
    pub attack: Vec<String>,
    /// The event log file.
    pub file: String,
    /// `EventRecordID`.
    pub record_id: u64,
    /// `EventID`.
    pub event_id: u32,
    /// `Channel`.
    pub channel: String,
    /// `Computer`.
    pub computer: String,
    /// Every field of the matched event.
    pub fields: BTreeMap<String, String>,
    /// The finding this detection is reported under.
    pub finding: String,
}

/// How often one rule fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSummary {
    /// Rule id.
    pub rule_id: String,
    /// Rule title.
    pub title: String,
    /// Rule level.
    pub level: crate::Severity,
    /// `sigma`, `correlation` (a Sigma correlation rule) or `builtin`.
    pub engine: String,
    /// Detections.
    pub count: usize,
    /// Files it fired in.
    pub files: usize,
    /// First and last event time.
    pub first: Option<Timestamp>,
    /// Last event time.
    pub last: Option<Timestamp>,
}

/// A rule that was not loaded and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnloadedRule {
    /// Rule file.
    pub path: String,
    /// Rule id, if readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Rule title, if readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The unsupported feature or the error.
    pub reason: String,
}

/// Counters of a hunt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuntStats {
    /// Files read.
    pub files: usize,
    /// Bytes read.
    pub bytes: u64,
    /// Event records read.
    pub records: u64,
    /// Records that could not be read.
    pub bad_records: u64,
    /// Records inside `--from`/`--to`.
    pub records_in_range: u64,
    /// Rule files read.
    pub rule_files: usize,
    /// Rules loaded.
    pub rules_loaded: usize,
    /// Rules not loaded.
    pub rules_unloaded: usize,
    /// Rule tests run (rule × event pairs the index let through).
    pub rule_evaluations: u64,
    /// Milliseconds loading rules.
    pub load_millis: u64,
    /// Milliseconds reading and matching events.
    pub hunt_millis: u64,
}

/// The complete result of a hunt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuntReport {
    /// [`crate::SCHEMA_VERSION`] at the time of writing.
    pub schema_version: u32,
    /// Tool name and version.
    pub tool: String,
    /// What was read (kind `evtx`, the paths given).
    pub source: SourceInfo,
    /// When the run started.
    pub started: Timestamp,
    /// When the run ended.
    pub finished: Timestamp,
    /// Entry point, attacker sources, persistence, first and last activity.
    pub storyline: Storyline,
    /// Detections, oldest first.
    pub detections: Vec<Detection>,
    /// Per-rule counts, most severe then most frequent first.
    pub rules: Vec<RuleSummary>,
    /// Findings in the common model (one per rule and file).
    pub findings: Vec<Finding>,
    /// Files, records and rules that could not be read.
    pub warnings: Vec<Warning>,
    /// Rules that were not loaded, each with its reason.
    pub unloaded_rules: Vec<UnloadedRule>,
    /// Counters.
    pub stats: HuntStats,
    /// The binary and rule packs that produced it.
    #[serde(default, skip_serializing_if = "crate::Provenance::is_empty")]
    pub provenance: crate::Provenance,
}
