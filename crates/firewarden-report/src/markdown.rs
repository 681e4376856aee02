//! Markdown rendering, for tickets and case notes.

use firewarden_model::{CheckDescriptor, Severity, TriageReport};
use std::fmt::Write;

pub(crate) fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The storyline section shared by every report that has one.
pub(crate) fn storyline(out: &mut String, s: &firewarden_model::Storyline) {
    let _ = writeln!(out, "## Storyline\n\n**Verdict:** {}\n", s.verdict);
    if let Some(e) = &s.entry_point {
        let _ = writeln!(out, "- **Entry point:** {e}");
    }
    if !s.attacker_ips.is_empty() {
        let _ = writeln!(out, "- **Attacker IPs:** {}", s.attacker_ips.join(", "));
    }
    if !s.accounts.is_empty() {
        let _ = writeln!(out, "- **Accounts:** {}", s.accounts.join(", "));
    }
    for p in &s.persistence {
        let _ = writeln!(out, "- **Persists:** {p}");
    }
    for g in &s.evidence_gaps {
        let _ = writeln!(out, "- **Evidence absent:** {g}");
    }
    if let (Some(a), Some(b)) = (s.first_activity, s.last_activity) {
        let _ = writeln!(
            out,
            "- **Activity:** {a} → {b} (dwell {})",
            s.dwell_time.as_deref().unwrap_or("-")
        );
    }
}

pub(crate) fn report(r: &TriageReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Firewarden triage — {} `{}`{}\n",
        r.source.kind,
        r.source.location,
        r.source
            .hostname
            .as_deref()
            .map(|h| format!(" ({h})"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "{} · started {} · finished {}\n",
        r.tool, r.started, r.finished
    );
    storyline(&mut out, &r.storyline);
    if !r.timeline.is_empty() {
        let _ = writeln!(
            out,
            "\n## Timeline (UTC)\n\n| Time | Event | Source |\n|---|---|---|"
        );
        for e in &r.timeline {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` |",
                e.time,
                cell(&e.summary),
                cell(&e.source)
            );
        }
    }
    let _ = writeln!(out, "\n## Findings\n");
    if r.findings.is_empty() {
        let _ = writeln!(out, "None at or above the chosen severity.");
    }
    for sev in Severity::DESCENDING {
        for f in r.findings.iter().filter(|f| f.severity == sev) {
            let _ = writeln!(
                out,
                "### [{}] {}\n",
                sev.as_str().to_uppercase(),
                cell(&f.title)
            );
            let _ = writeln!(
                out,
                "- **Check:** `{}` · **ATT&CK:** {} · **Id:** `{}`",
                f.check,
                f.attack.join(", "),
                f.id
            );
            if let Some(t) = f.time {
                let _ = writeln!(out, "- **Time:** {t}");
            }
            for e in &f.evidence {
                let place = match (&e.path, e.line) {
                    (Some(p), Some(l)) => format!("`{p}:{l}`"),
                    (Some(p), None) => format!("`{p}`"),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "- **Evidence:** {place} {}",
                    e.excerpt
                        .as_deref()
                        .map(|x| format!("`{}`", x.replace('`', "'")))
                        .unwrap_or_default()
                );
            }
            let _ = writeln!(
                out,
                "- **Why:** {}\n- **Do:** {}\n",
                f.explanation, f.recommendation
            );
        }
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(out, "## Warnings\n");
        for w in &r.warnings {
            let _ = writeln!(
                out,
                "- {}{}",
                w.path
                    .as_deref()
                    .map(|p| format!("`{p}`: "))
                    .unwrap_or_default(),
                w.message
            );
        }
    }
    out
}

pub(crate) fn catalogue(checks: &[CheckDescriptor]) -> String {
    let mut out =
        String::from("| Id | Severity | ATT&CK | Rows | Title |\n|---|---|---|---|---|\n");
    for c in checks {
        let rows: Vec<String> = c.checklist_rows.iter().map(u32::to_string).collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            c.id,
            c.severity,
            c.attack.join(", "),
            rows.join(", "),
            cell(&c.title)
        );
    }
    out
}
