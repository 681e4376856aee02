//! Turns findings, events and login facts into the few sentences a responder reads first.

use crate::facts::Facts;
use firewarden_model::{EventKind, Severity, Storyline, Timestamp, TriageReport, human_duration};

/// Failed attempts from one address that make it a brute-forcer.
pub const BRUTE_FORCE_THRESHOLD: u64 = 10;

/// A successful login that follows failures from the same address.
#[derive(Debug, Clone)]
pub struct Breach {
    /// Remote address.
    pub ip: String,
    /// Account that got in.
    pub user: String,
    /// When.
    pub time: Option<Timestamp>,
    /// Failures from that address before the login.
    pub failures_before: u64,
    /// Method used.
    pub method: String,
    /// Where it was logged.
    pub path: String,
    /// Line.
    pub line: u64,
}

/// Logins accepted from addresses that failed before them (the brute force that worked).
pub fn breaches(auth: &crate::facts::AuthData) -> Vec<Breach> {
    auth.accepted
        .iter()
        .filter(|(_, before)| *before >= 3)
        .map(|(r, before)| Breach {
            ip: r.ip.clone().unwrap_or_default(),
            user: r.user.clone().unwrap_or_default(),
            time: r.time,
            failures_before: *before,
            method: r.method.clone().unwrap_or_default(),
            path: r.path.clone(),
            line: r.line,
        })
        .collect()
}

pub(crate) fn build(facts: &Facts, report: &TriageReport, gaps: &[String]) -> Storyline {
    let mut s = Storyline::default();
    let mut sentences = Vec::new();
    let mut first: Option<Timestamp> = None;
    if let Some(auth) = facts.auth_cached() {
        let mut brute: Vec<(String, crate::facts::IpStats)> = auth
            .by_ip()
            .iter()
            .filter(|(_, st)| st.attempts() >= BRUTE_FORCE_THRESHOLD)
            .map(|(ip, st)| (ip.clone(), st.clone()))
            .collect();
        brute.sort_by(|a, b| {
            b.1.attempts()
                .cmp(&a.1.attempts())
                .then_with(|| a.0.cmp(&b.0))
        });
        let breaches = breaches(auth);
        let brute_ips: std::collections::HashSet<&str> =
            brute.iter().map(|(ip, _)| ip.as_str()).collect();
        if let Some(b) = breaches.first() {
            let when = b.time.map(|t| format!(" at {t}")).unwrap_or_default();
            sentences.push(format!(
                "SSH brute force from {} succeeded: {} failed attempts, then a {} login as {}{}.",
                b.ip, b.failures_before, b.method, b.user, when
            ));
            s.entry_point = Some(format!(
                "SSH {} login as {} from {}{} after {} failed attempts",
                b.method, b.user, b.ip, when, b.failures_before
            ));
            for b in &breaches {
                push_unique(&mut s.attacker_ips, &b.ip);
                push_unique(&mut s.accounts, &b.user);
            }
        } else if !brute.is_empty() {
            let others = if brute.len() > 1 { " and others" } else { "" };
            let accepted_elsewhere = auth
                .accepted
                .iter()
                .any(|(r, _)| r.ip.as_deref().is_some_and(|ip| brute_ips.contains(ip)));
            let tail = if accepted_elsewhere {
                "a brute-forcing IP also logged in (see findings)"
            } else {
                "no successful login by a brute-forcing IP"
            };
            sentences.push(format!("brute force from {}{others}; {tail}", brute[0].0));
        }
        for (ip, st) in brute.iter().take(10) {
            push_unique(&mut s.attacker_ips, ip);
            if let Some((t, _, _)) = &st.first_failure {
                first = Some(first.map_or(*t, |f: Timestamp| f.min(*t)));
            }
        }
    }
    let crit: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::High)
        .collect();
    // The first request to a webshell: who and when. `linux.web.access` puts every request to
    // a flagged file on the timeline under its finding; the finding's second evidence is the file.
    let shell_use: std::collections::HashMap<&str, &firewarden_model::Finding> = report
        .findings
        .iter()
        .filter(|f| f.check == "linux.web.access" && f.evidence.len() >= 2)
        .map(|f| (f.id.as_str(), f))
        .collect();
    if let Some((e, f)) = report
        .timeline
        .iter()
        .filter(|e| e.kind == EventKind::WebRequest)
        .filter_map(|e| Some((e, *shell_use.get(e.finding.as_deref()?)?)))
        .min_by_key(|(e, _)| e.time)
        && let Some(ip) = e.ip.as_deref()
    {
        // Its requests on the timeline now count as attacker activity.
        push_unique(&mut s.attacker_ips, ip);
        if s.entry_point.is_none() {
            let path = f.evidence[1].path.as_deref().unwrap_or("");
            let when = e.time;
            s.entry_point = Some(format!(
                "web application: first request to webshell {path} from {ip} at {when}"
            ));
            sentences.push(format!(
                "A webshell ({path}) was first used from {ip} at {when}: entry through the web application."
            ));
        }
    }
    if s.entry_point.is_none()
        && let Some(web) = crit.iter().find(|f| f.check.starts_with("linux.web."))
    {
        let path = web
            .evidence
            .first()
            .and_then(|e| e.path.clone())
            .unwrap_or_default();
        s.entry_point = Some(format!("web application: webshell {path}"));
        sentences.push(format!(
            "A webshell ({path}) suggests entry through the web application."
        ));
    }
    for f in &report.findings {
        let persistent = f.check.starts_with("linux.persistence.")
            || f.check == "linux.ssh.authorized_keys"
            || f.check == "linux.accounts.uid0"
            || f.check == "linux.web.webshell";
        if persistent && f.severity >= Severity::High && s.persistence.len() < 20 {
            push_unique(&mut s.persistence, &f.title);
        }
        if (f.check == "linux.accounts.uid0" || f.check == "linux.accounts.login_shell")
            && let Some(user) = f.title.split('`').nth(1)
        {
            push_unique(&mut s.accounts, user);
        }
    }
    // Attacker activity: failures of brute-forcers, and events tied to high-severity findings.
    let high_ids: std::collections::HashSet<&str> = crit.iter().map(|f| f.id.as_str()).collect();
    let mut last: Option<Timestamp> = None;
    for e in &report.timeline {
        let attacker =
            e.ip.as_deref()
                .is_some_and(|ip| s.attacker_ips.iter().any(|a| a == ip))
                || e.finding.as_deref().is_some_and(|id| high_ids.contains(id));
        if attacker && (e.kind != EventKind::FailedLogin || first.is_none()) {
            first = Some(first.map_or(e.time, |f| f.min(e.time)));
        }
        if attacker {
            last = Some(last.map_or(e.time, |l| l.max(e.time)));
        }
    }
    s.first_activity = first;
    s.last_activity = last.or(first);
    if let (Some(a), Some(b)) = (s.first_activity, s.last_activity) {
        s.dwell_time = Some(human_duration(b.0 - a.0));
    }
    if !s.persistence.is_empty() {
        sentences.push(format!(
            "Still in place: {}.",
            s.persistence
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if sentences.is_empty() {
        let ran = report
            .checks
            .iter()
            .filter(|c| c.status == firewarden_model::CheckStatus::Ran)
            .count();
        sentences.push(if crit.is_empty() && !gaps.is_empty() {
            // Silence from checks that had nothing to read is not a verdict.
            format!(
                "No verdict: {ran} checks found nothing, but {} source(s) of evidence they need were absent ({}). This does not show the host is clean.",
                gaps.len(),
                gaps.iter().map(|g| g.split(':').next().unwrap_or(g)).collect::<Vec<_>>().join("; ")
            )
        } else if crit.is_empty() {
            format!("No sign of compromise found by {ran} checks.")
        } else {
            format!("{} high-severity finding(s); the entry point could not be determined from the logs available.", crit.len())
        });
    }
    s.verdict = sentences.join(" ");
    s.evidence_gaps = gaps.to_vec();
    s
}

fn push_unique(v: &mut Vec<String>, item: &str) {
    if !item.is_empty() && !v.iter().any(|x| x == item) {
        v.push(item.to_string());
    }
}
