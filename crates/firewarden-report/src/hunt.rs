//! Rendering of a [`HuntReport`]: a table for terminals, CSV and JSON lines that Timesketch
//! imports as they are (`datetime`, `timestamp_desc`, `message` on every row), JSON, Markdown.

use crate::table::{Paint, storyline};
use crate::{Format, csv_line};
use firewarden_model::hunt::{Detection, HuntReport};
use firewarden_model::{Severity, printable};
use std::fmt::Write;

/// Detections shown in the terminal; the machine formats have them all.
const TABLE_ROWS: usize = 200;

/// Columns of the CSV output, Timesketch's three first.
const CSV_COLUMNS: &[&str] = &[
    "datetime",
    "timestamp_desc",
    "message",
    "level",
    "rule_id",
    "rule_title",
    "engine",
    "attack",
    "computer",
    "channel",
    "event_id",
    "record_id",
    "file",
    "finding",
];

fn csv_row(d: &Detection) -> String {
    let cells = [
        d.datetime.clone(),
        d.timestamp_desc.clone(),
        d.message.clone(),
        d.level.as_str().to_owned(),
        d.rule_id.clone(),
        d.rule_title.clone(),
        d.engine.clone(),
        d.attack.join(" "),
        d.computer.clone(),
        d.channel.clone(),
        d.event_id.to_string(),
        d.record_id.to_string(),
        d.file.clone(),
        d.finding.clone(),
    ];
    csv_line(&cells)
}

/// Renders a hunt report. `colour` only affects [`Format::Table`].
pub fn render_hunt(r: &HuntReport, format: Format, colour: bool) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(r).unwrap_or_default() + "\n",
        // One detection per line: Timesketch imports each line as an event.
        Format::Jsonl => r
            .detections
            .iter()
            .map(|d| serde_json::to_string(d).unwrap_or_default() + "\n")
            .collect(),
        Format::Csv => {
            let mut out = CSV_COLUMNS.join(",") + "\n";
            for d in &r.detections {
                out.push_str(&csv_row(d));
            }
            out
        }
        Format::Markdown => markdown(r),
        Format::Table => table(r, colour),
    }
}

fn table(r: &HuntReport, colour: bool) -> String {
    let p = Paint(colour);
    let mut out = String::new();
    let s = &r.stats;
    let _ = writeln!(
        out,
        "{} — {} file(s), {:.1} MiB, {} records ({} unreadable) — {} rules loaded, {} not — {} ms",
        p.bold("FIREWARDEN HUNT"),
        s.files,
        s.bytes as f64 / (1024.0 * 1024.0),
        s.records,
        s.bad_records,
        s.rules_loaded,
        s.rules_unloaded,
        s.load_millis + s.hunt_millis
    );
    storyline(&mut out, &p, &clean_storyline(&r.storyline));
    if !r.rules.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("RULES THAT FIRED"));
        for rule in &r.rules {
            let _ = writeln!(
                out,
                "  {} {:>5}× in {:>3} file(s)  {}  {}",
                p.severity(rule.level, &format!("{:<8}", rule.level.as_str())),
                rule.count,
                rule.files,
                printable(&rule.title, 90),
                p.dim(&rule.rule_id)
            );
        }
    }
    if !r.detections.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("DETECTIONS (UTC)"));
        for d in r.detections.iter().take(TABLE_ROWS) {
            let _ = writeln!(
                out,
                "  {}  {}  {:<15} {:>5}  {}",
                &d.datetime.get(..19).unwrap_or(&d.datetime),
                p.severity(d.level, &format!("{:<8}", d.level.as_str())),
                printable(&d.computer, 15),
                d.event_id,
                printable(&d.message, 220)
            );
        }
        if r.detections.len() > TABLE_ROWS {
            let _ = writeln!(
                out,
                "  … {} more (use --format csv or json for all)",
                r.detections.len() - TABLE_ROWS
            );
        }
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(out, "\n{} ({})", p.bold("WARNINGS"), r.warnings.len());
        for w in r.warnings.iter().take(30) {
            let path = w
                .path
                .as_deref()
                .map(|p| format!("{}: ", printable(p, 120)))
                .unwrap_or_default();
            let _ = writeln!(out, "  {path}{}", printable(&w.message, 300));
        }
        if r.warnings.len() > 30 {
            let _ = writeln!(
                out,
                "  … {} more (see --format json)",
                r.warnings.len() - 30
            );
        }
    }
    let worst = r.detections.iter().map(|d| d.level).max();
    let _ = writeln!(
        out,
        "\n{} detection(s){}",
        r.detections.len(),
        worst.map_or(String::new(), |w| format!(", worst {}", w.as_str()))
    );
    out
}

/// The storyline with control characters escaped (its text comes from the logs).
fn clean_storyline(s: &firewarden_model::Storyline) -> firewarden_model::Storyline {
    let mut s = s.clone();
    crate::sanitize::clean_storyline(&mut s);
    s
}

fn cell(s: &str) -> String {
    crate::markdown::cell(&printable(s, 200))
}

fn markdown(r: &HuntReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Firewarden hunt — {}\n", cell(&r.source.location));
    crate::markdown::storyline(&mut out, &clean_storyline(&r.storyline));
    let _ = writeln!(
        out,
        "\n## Rules that fired\n\n| Level | Count | Files | Rule |\n|---|---|---|---|"
    );
    for rule in &r.rules {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} (`{}`) |",
            rule.level.as_str(),
            rule.count,
            rule.files,
            cell(&rule.title),
            cell(&rule.rule_id)
        );
    }
    let _ = writeln!(
        out,
        "\n## Detections (UTC)\n\n| Time | Level | Computer | Event | Detail |\n|---|---|---|---|---|"
    );
    for d in r.detections.iter().take(TABLE_ROWS) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            d.datetime,
            d.level.as_str(),
            cell(&d.computer),
            d.event_id,
            cell(&d.message)
        );
    }
    if r.detections.len() > TABLE_ROWS {
        let _ = writeln!(
            out,
            "\n{} more in the JSON report.",
            r.detections.len() - TABLE_ROWS
        );
    }
    out
}

/// Whether anything at or above `min` was detected (exit code 1).
pub fn has_detections(r: &HuntReport, min: Severity) -> bool {
    r.detections.iter().any(|d| d.level >= min)
}
