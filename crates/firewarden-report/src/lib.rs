//! Renders a [`TriageReport`] (and the check catalogue) in the formats users ask for: a readable
//! table for terminals (optionally coloured), JSON, JSON lines and Markdown.
//!
//! ```
//! use firewarden_model::*;
//! use firewarden_report::{Format, render};
//!
//! let report = TriageReport {
//!     schema_version: SCHEMA_VERSION, tool: "firewarden 0.1.0".into(),
//!     source: SourceInfo { kind: "root".into(), location: "/mnt/img".into(), hostname: None, zone: None },
//!     started: Timestamp(0), finished: Timestamp(1), storyline: Storyline::default(),
//!     timeline: vec![], findings: vec![], warnings: vec![], checks: vec![],
//!     provenance: Provenance::default(),
//! };
//! let text = render(&report, Format::Markdown, false);
//! assert!(text.starts_with("# Firewarden triage"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod actions;
mod hunt;
mod markdown;
mod sanitize;
mod table;

pub use actions::{render_actions, render_harden};
pub use hunt::{has_detections, render_hunt};

use firewarden_model::{CheckDescriptor, TriageReport};
use serde::Serialize;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable text, grouped by severity, storyline first.
    Table,
    /// One JSON document (the whole report).
    Json,
    /// One JSON object per line: a header, then the storyline, events, findings, warnings.
    Jsonl,
    /// Markdown, for tickets and case notes.
    Markdown,
    /// Comma-separated rows of the timeline, with Timesketch's `datetime`, `timestamp_desc`
    /// and `message` columns first.
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" | "text" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "markdown" | "md" => Ok(Format::Markdown),
            "csv" => Ok(Format::Csv),
            _ => Err(format!(
                "unknown format `{s}` (table, json, jsonl, csv, markdown)"
            )),
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line<'a> {
    Header {
        schema_version: u32,
        tool: &'a str,
        source: &'a firewarden_model::SourceInfo,
        started: firewarden_model::Timestamp,
        finished: firewarden_model::Timestamp,
    },
    Storyline(&'a firewarden_model::Storyline),
    Event(&'a firewarden_model::TimelineEvent),
    Finding(&'a firewarden_model::Finding),
    Warning(&'a firewarden_model::Warning),
    Check(&'a firewarden_model::CheckRun),
}

/// Renders a triage report. `colour` only affects [`Format::Table`].
pub fn render(report: &TriageReport, format: Format, colour: bool) -> String {
    match format {
        Format::Table => table::report(&sanitize::for_humans(report), colour),
        Format::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
        Format::Jsonl => {
            let mut lines = vec![
                Line::Header {
                    schema_version: report.schema_version,
                    tool: &report.tool,
                    source: &report.source,
                    started: report.started,
                    finished: report.finished,
                },
                Line::Storyline(&report.storyline),
            ];
            lines.extend(report.timeline.iter().map(Line::Event));
            lines.extend(report.findings.iter().map(Line::Finding));
            lines.extend(report.warnings.iter().map(Line::Warning));
            lines.extend(report.checks.iter().map(Line::Check));
            lines
                .iter()
                .map(|l| serde_json::to_string(l).unwrap_or_default() + "\n")
                .collect()
        }
        Format::Markdown => markdown::report(&sanitize::for_humans(report)),
        Format::Csv => {
            let mut out =
                String::from("datetime,timestamp_desc,message,kind,source,ip,user,finding\n");
            for e in &report.timeline {
                let kind = serde_json::to_value(e.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let cells = [
                    e.time.to_string(),
                    "Event Recorded".to_owned(),
                    e.summary.clone(),
                    kind,
                    e.source.clone(),
                    e.ip.clone().unwrap_or_default(),
                    e.user.clone().unwrap_or_default(),
                    e.finding.clone().unwrap_or_default(),
                ];
                out.push_str(&csv_line(&cells));
            }
            out
        }
    }
}

/// The first answers of a two-phase triage (the fast checks' storyline and findings), for a
/// terminal while the deep checks continue; `seconds`: how long the fast checks took.
pub fn render_first_answers(report: &TriageReport, colour: bool, seconds: f64) -> String {
    table::first_answers(
        &sanitize::for_humans(report),
        &table::Paint(colour),
        seconds,
    )
}

/// One CSV row, each cell escaped by [`csv_field`], with its line end.
pub fn csv_line(cells: &[String]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_field(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// One CSV field. Control characters are escaped as in every other human format (an ANSI
/// escape or a line break in a cell would reach whoever opens the file: a terminal running
/// `cat`, or a row split in two), so a field never spans lines. It is prefixed with `'` when it
/// starts like a spreadsheet formula, since attacker text ends up in cells, and quoted when it
/// holds a comma or quote (RFC 4180).
pub fn csv_field(text: &str) -> String {
    let mut text = firewarden_model::printable_untrimmed(text, usize::MAX);
    if text.starts_with(['=', '+', '-', '@']) {
        text.insert(0, '\'');
    }
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Renders the check catalogue.
pub fn render_catalogue(checks: &[CheckDescriptor], format: Format, colour: bool) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(checks).unwrap_or_default() + "\n",
        Format::Jsonl => checks
            .iter()
            .map(|c| serde_json::to_string(c).unwrap_or_default() + "\n")
            .collect(),
        Format::Markdown => markdown::catalogue(checks),
        Format::Csv => {
            let mut out = String::from("id,title,severity,attack\n");
            for c in checks {
                let cells = [
                    c.id.clone(),
                    c.title.clone(),
                    c.severity.as_str().to_owned(),
                    c.attack.join(" "),
                ];
                out.push_str(&csv_line(&cells));
            }
            out
        }
        Format::Table => table::catalogue(checks, colour),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_escapes_control_characters_so_a_field_never_spans_lines() {
        assert_eq!(
            csv_field("a\u{1b}[2Jb\r\nc,d\te"),
            "\"a\\u{1b}[2Jb\\r\\nc,d\\te\""
        );
        assert_eq!(csv_field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
        let line = csv_line(&["x\ny".into(), "\u{7f}\u{85}".into()]);
        assert_eq!(line.lines().count(), 1);
        assert!(!line.trim_end().chars().any(char::is_control), "{line:?}");
    }
}
