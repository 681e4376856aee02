//! Rendering of response actions (`firewarden actions`) and hardening scores
//! (`firewarden harden check`).

use crate::table::Paint;
use crate::{Format, csv_line};
use firewarden_model::action::{ActionStatus, ActionSummary, HardenScore, HardenStatus, Risk};
use firewarden_model::printable;
use std::fmt::Write;

fn status_paint(p: &Paint, s: ActionStatus) -> String {
    let code = match s {
        ActionStatus::Applied | ActionStatus::Confirmed => "1;33",
        ActionStatus::Interrupted | ActionStatus::Failed => "1;31",
        ActionStatus::Expired | ActionStatus::Undone => "2",
    };
    p.wrap(code, &format!("{:<11}", s.as_str()))
}

fn risk_paint(p: &Paint, r: Risk) -> String {
    let code = match r {
        Risk::High => "1;31",
        Risk::Medium => "33",
        Risk::Low => "36",
    };
    p.wrap(code, &format!("{:<6}", r.as_str()))
}

const ACTION_COLUMNS: &[&str] = &[
    "id", "status", "risk", "kind", "utc", "operator", "finding", "verified", "steps", "title",
];

/// Renders the action list.
pub fn render_actions(list: &[ActionSummary], format: Format, colour: bool) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(list).unwrap_or_default() + "\n",
        Format::Jsonl => list
            .iter()
            .map(|a| serde_json::to_string(a).unwrap_or_default() + "\n")
            .collect(),
        Format::Csv => {
            let mut out = ACTION_COLUMNS.join(",") + "\n";
            for a in list {
                out.push_str(&csv_line(&[
                    a.action.id.clone(),
                    a.status.as_str().into(),
                    a.action.risk.as_str().into(),
                    a.action.kind.clone(),
                    a.utc.clone(),
                    a.operator.clone(),
                    a.action.finding.clone().unwrap_or_default(),
                    a.verified
                        .map(|v| if v { "gone" } else { "still there" })
                        .unwrap_or("")
                        .into(),
                    a.action.steps.len().to_string(),
                    a.action.title.clone(),
                ]));
            }
            out
        }
        Format::Markdown => {
            let mut out = String::from(
                "## Actions taken\n\n| ID | Status | Risk | Kind | When (UTC) | Operator | Finding | Title |\n|---|---|---|---|---|---|---|---|\n",
            );
            for a in list {
                let cell = |t: &str| printable(t, 200).replace('|', "\\|");
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} | {} |",
                    a.action.id,
                    a.status.as_str(),
                    a.action.risk.as_str(),
                    a.action.kind,
                    a.utc,
                    cell(&a.operator),
                    cell(a.action.finding.as_deref().unwrap_or("")),
                    cell(&a.action.title)
                );
            }
            out
        }
        Format::Table => {
            let p = Paint(colour);
            if list.is_empty() {
                return "No actions in the journal.\n".into();
            }
            let mut out = format!(
                "{}\n",
                p.bold("ID    STATUS      RISK   WHEN (UTC)           KIND               TITLE")
            );
            for a in list {
                let when = a.utc.get(..19).unwrap_or(&a.utc).replace('T', " ");
                let _ = writeln!(
                    out,
                    "{:<5} {} {} {:<20} {:<18} {}{}",
                    a.action.id,
                    status_paint(&p, a.status),
                    risk_paint(&p, a.action.risk),
                    when,
                    a.action.kind,
                    printable(&a.action.title, 100),
                    match a.verified {
                        Some(true) => p.dim(" [re-check: gone]"),
                        Some(false) => p.wrap("1;31", " [re-check: STILL THERE]"),
                        None => String::new(),
                    }
                );
                if let Some(t) = a.action.expires
                    && a.status == ActionStatus::Applied
                {
                    let _ = writeln!(
                        out,
                        "      {}",
                        p.wrap("1;33", &format!("dead-man switch lifts it at {t} unless `firewarden contain confirm`"))
                    );
                }
            }
            out
        }
    }
}

/// Renders a hardening score.
pub fn render_harden(score: &HardenScore, format: Format, colour: bool) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(score).unwrap_or_default() + "\n",
        Format::Jsonl => score
            .items
            .iter()
            .map(|i| serde_json::to_string(i).unwrap_or_default() + "\n")
            .collect(),
        Format::Csv => {
            let mut out = String::from("id,status,fixable,title,detail\n");
            for i in &score.items {
                out.push_str(&csv_line(&[
                    i.id.clone(),
                    i.status.as_str().into(),
                    i.fixable.to_string(),
                    i.title.clone(),
                    i.detail.clone(),
                ]));
            }
            out
        }
        Format::Markdown => {
            let mut out = format!(
                "## Hardening of {}: {}/{} items pass\n\n| Item | Status | What was seen |\n|---|---|---|\n",
                printable(&score.host, 100),
                score.passed,
                score.scored
            );
            for i in &score.items {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    i.id,
                    i.status.as_str(),
                    printable(&i.detail, 300).replace('|', "\\|")
                );
            }
            out
        }
        Format::Table => {
            let p = Paint(colour);
            let pct = (score.passed * 100).checked_div(score.scored).unwrap_or(0);
            let mut out = format!(
                "{} {} — {}/{} items pass ({pct} %)\n\n",
                p.bold("HARDENING"),
                printable(&score.host, 100),
                score.passed,
                score.scored
            );
            for i in &score.items {
                let mark = match i.status {
                    HardenStatus::Pass => p.wrap("32", "PASS"),
                    HardenStatus::Fail => p.wrap("1;31", "FAIL"),
                    HardenStatus::Unknown => p.dim("  ? "),
                };
                let _ = writeln!(out, "{mark}  {:<26} {}", i.id, i.title);
                if i.status != HardenStatus::Pass {
                    let _ = writeln!(
                        out,
                        "      {}{}",
                        p.dim(&printable(&i.detail, 300)),
                        if i.fixable && i.status == HardenStatus::Fail {
                            format!(" — fix: firewarden harden apply {}", i.id)
                        } else {
                            String::new()
                        }
                    );
                }
            }
            out
        }
    }
}
