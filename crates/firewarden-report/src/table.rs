//! Terminal rendering.

use firewarden_model::{CheckDescriptor, CheckStatus, Finding, Severity, TriageReport};
use std::fmt::Write;

/// Events shown in the terminal timeline; the JSON output has them all.
const TIMELINE_ROWS: usize = 60;

pub(crate) struct Paint(pub(crate) bool);

impl Paint {
    pub(crate) fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub(crate) fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }
    pub(crate) fn dim(&self, t: &str) -> String {
        self.wrap("2", t)
    }
    pub(crate) fn severity(&self, s: Severity, t: &str) -> String {
        let code = match s {
            Severity::Critical => "1;97;41",
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.wrap(code, t)
    }
}

fn loc(f: &Finding) -> String {
    f.evidence
        .first()
        .map(|e| match (&e.path, e.line) {
            (Some(p), Some(l)) => format!("{p}:{l}"),
            (Some(p), None) => p.clone(),
            _ => String::new(),
        })
        .unwrap_or_default()
}

/// The storyline block shared by every report that has one.
pub(crate) fn storyline(out: &mut String, p: &Paint, s: &firewarden_model::Storyline) {
    let _ = writeln!(out, "\n{}", p.bold("STORYLINE"));
    let _ = writeln!(out, "  {} {}", p.bold("Verdict:"), s.verdict);
    if let Some(e) = &s.entry_point {
        let _ = writeln!(out, "  {} {e}", p.bold("Entry point:"));
    }
    if !s.attacker_ips.is_empty() {
        let _ = writeln!(
            out,
            "  {} {}",
            p.bold("Attacker IPs:"),
            s.attacker_ips.join(", ")
        );
    }
    if !s.accounts.is_empty() {
        let _ = writeln!(out, "  {} {}", p.bold("Accounts:"), s.accounts.join(", "));
    }
    for (i, item) in s.persistence.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {} {item}",
            p.bold(if i == 0 { "Persists:" } else { "         " })
        );
    }
    for (i, gap) in s.evidence_gaps.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {} {gap}",
            p.bold(if i == 0 { "Absent:  " } else { "         " })
        );
    }
    if let (Some(a), Some(b)) = (s.first_activity, s.last_activity) {
        let _ = writeln!(
            out,
            "  {} first {a}, last {b} (dwell {})",
            p.bold("Activity:"),
            s.dwell_time.as_deref().unwrap_or("-")
        );
    }
}

pub(crate) fn report(r: &TriageReport, colour: bool) -> String {
    let p = Paint(colour);
    let mut out = String::new();
    let host = r
        .source
        .hostname
        .as_deref()
        .map(|h| format!(" {h}"))
        .unwrap_or_default();
    let ran = r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Ran)
        .count();
    let _ = writeln!(
        out,
        "{} — {} {}{} — {} ({} checks ran, {} skipped)",
        p.bold("FIREWARDEN TRIAGE"),
        r.source.kind,
        r.source.location,
        host,
        r.started,
        ran,
        r.checks.len() - ran
    );
    storyline(&mut out, &p, &r.storyline);
    if !r.timeline.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("TIMELINE (UTC)"));
        for e in r.timeline.iter().take(TIMELINE_ROWS) {
            let kind = serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}  {:<14} {}  {}",
                e.time,
                format!("[{kind}]"),
                e.summary,
                p.dim(&e.source)
            );
        }
        if r.timeline.len() > TIMELINE_ROWS {
            let _ = writeln!(
                out,
                "  … {} more events (use --format json for all)",
                r.timeline.len() - TIMELINE_ROWS
            );
        }
    }
    for sev in Severity::DESCENDING {
        let group: Vec<&Finding> = r.findings.iter().filter(|f| f.severity == sev).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{}",
            p.severity(
                sev,
                &format!("{} ({})", sev.as_str().to_uppercase(), group.len())
            )
        );
        for f in group {
            let _ = writeln!(
                out,
                "  {} {}  {}",
                p.severity(sev, "●"),
                p.bold(&f.title),
                p.dim(&format!("{} {}", f.check, f.attack.join(",")))
            );
            let l = loc(f);
            let excerpt = f
                .evidence
                .first()
                .and_then(|e| e.excerpt.clone())
                .unwrap_or_default();
            if !l.is_empty() || !excerpt.is_empty() {
                let _ = writeln!(out, "    {}  {}", l, p.dim(&excerpt));
            }
            if sev >= Severity::Low {
                let _ = writeln!(out, "    Why: {}", f.explanation);
                let _ = writeln!(out, "    Do:  {}", f.recommendation);
            }
            let _ = writeln!(out, "    {}", p.dim(&format!("id {}", f.id)));
        }
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.bold(&format!("WARNINGS ({})", r.warnings.len()))
        );
        for w in &r.warnings {
            let _ = writeln!(
                out,
                "  ! {}{}{}",
                w.check
                    .as_deref()
                    .map(|c| format!("[{c}] "))
                    .unwrap_or_default(),
                w.path
                    .as_deref()
                    .map(|x| format!("{x}: "))
                    .unwrap_or_default(),
                w.message
            );
        }
    }
    let skipped: Vec<_> = r
        .checks
        .iter()
        .filter(|c| c.status != CheckStatus::Ran)
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("NOT RUN"));
        for c in skipped {
            let _ = writeln!(
                out,
                "  - {} ({:?}): {}",
                c.id,
                c.status,
                c.reason.as_deref().unwrap_or("filtered out")
            );
        }
    }
    let counts: Vec<String> = Severity::DESCENDING
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                r.findings.iter().filter(|f| f.severity == *s).count(),
                s
            )
        })
        .collect();
    let _ = writeln!(out, "\n{} {}", p.bold("Summary:"), counts.join(", "));
    out
}

pub(crate) fn catalogue(checks: &[CheckDescriptor], colour: bool) -> String {
    let p = Paint(colour);
    let width = checks.iter().map(|c| c.id.len()).max().unwrap_or(10);
    let mut out = String::new();
    for c in checks {
        let rows: Vec<String> = c.checklist_rows.iter().map(u32::to_string).collect();
        let _ = writeln!(
            out,
            "{:<width$}  {}  {:<8}  {}{}",
            p.bold(&c.id),
            p.severity(c.severity, &format!("{:<8}", c.severity.as_str())),
            c.attack.join(","),
            c.title,
            p.dim(&format!(
                "  [rows {}{}]",
                rows.join(","),
                if c.live_state { ", live" } else { "" }
            )),
            width = width + if colour { 8 } else { 0 }
        );
    }
    let _ = writeln!(out, "{} checks", checks.len());
    out
}

/// The first answers of a two-phase triage: the storyline and the findings at medium or
/// above of the fast checks, while the file and web checks go on.
pub(crate) fn first_answers(report: &TriageReport, p: &Paint, seconds: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        p.bold("FIRST ANSWERS"),
        p.dim(&format!(
            "(accounts, logins, processes, network, persistence, logs in {seconds:.1} s; package verification and file scans continue)"
        ))
    );
    storyline(&mut out, p, &report.storyline);
    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium)
        .collect();
    if !shown.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("FINDINGS SO FAR"));
    }
    for f in shown.iter().take(20) {
        let _ = writeln!(
            out,
            "  {} {} {}",
            p.severity(f.severity, &format!("{:<8}", f.severity.as_str())),
            f.title,
            p.dim(&loc(f))
        );
    }
    if shown.len() > 20 {
        let _ = writeln!(out, "  … and {} more", shown.len() - 20);
    }
    out.push('\n');
    out
}
