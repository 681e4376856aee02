//! Human formats print attacker-controlled text (file names, log lines, commands). Every string
//! of the report is escaped here, once, before the table or Markdown renderer sees it, so no
//! control character — an ANSI escape that clears the screen or recolours a line — reaches the
//! responder's terminal. JSON needs none of this: its encoder escapes control characters.

use firewarden_model::TriageReport;

fn clean(s: &mut String) {
    if s.chars().any(char::is_control) {
        let mut out = String::with_capacity(s.len() + 8);
        for c in s.chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        *s = out;
    }
}

fn clean_opt(s: &mut Option<String>) {
    if let Some(s) = s {
        clean(s);
    }
}

fn clean_all(v: &mut [String]) {
    v.iter_mut().for_each(clean);
}

/// Escapes control characters in every string of a storyline.
pub(crate) fn clean_storyline(s: &mut firewarden_model::Storyline) {
    clean(&mut s.verdict);
    clean_opt(&mut s.entry_point);
    clean_opt(&mut s.dwell_time);
    clean_all(&mut s.attacker_ips);
    clean_all(&mut s.accounts);
    clean_all(&mut s.persistence);
    clean_all(&mut s.evidence_gaps);
}

/// A copy of the report with control characters escaped in every string.
pub(crate) fn for_humans(report: &TriageReport) -> TriageReport {
    let mut r = report.clone();
    clean(&mut r.tool);
    clean(&mut r.source.location);
    clean_opt(&mut r.source.hostname);
    clean_storyline(&mut r.storyline);
    for e in &mut r.timeline {
        clean(&mut e.summary);
        clean(&mut e.source);
        clean_opt(&mut e.ip);
        clean_opt(&mut e.user);
    }
    for f in &mut r.findings {
        clean(&mut f.title);
        clean(&mut f.check);
        clean(&mut f.explanation);
        clean(&mut f.recommendation);
        clean_all(&mut f.attack);
        for e in &mut f.evidence {
            clean_opt(&mut e.path);
            clean_opt(&mut e.excerpt);
            clean_opt(&mut e.owner);
        }
    }
    for w in &mut r.warnings {
        clean_opt(&mut w.check);
        clean_opt(&mut w.path);
        clean(&mut w.message);
    }
    for c in &mut r.checks {
        clean_opt(&mut c.reason);
    }
    r
}
