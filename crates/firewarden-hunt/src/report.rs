//! Shapes a hunt's hits into the common report model: detections on a UTC timeline, per-rule
//! counts, findings (one per rule and file) and a storyline.

use crate::HuntOutput;
use crate::builtin;
use crate::event::Event;
use crate::sigma::{RuleSet, correlation};
use firewarden_model::hunt::{Detection, HuntReport, HuntStats, RuleSummary};
use firewarden_model::{
    Evidence, Finding, SCHEMA_VERSION, Severity, SourceInfo, Storyline, Timestamp, Warning,
    human_duration, printable,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Records listed as evidence per finding; the count says how many there were.
const MAX_EVIDENCE: usize = 20;

/// Fields that say most about an event, in the order a responder reads them.
const KEY_FIELDS: &[&str] = &[
    "CommandLine",
    "ScriptBlockText",
    "Image",
    "NewProcessName",
    "ParentImage",
    "TargetFilename",
    "TargetObject",
    "Details",
    "ImageLoaded",
    "TargetImage",
    "SourceImage",
    "GrantedAccess",
    "PipeName",
    "QueryName",
    "DestinationIp",
    "DestinationPort",
    "ServiceName",
    "ImagePath",
    "TaskName",
    "TargetUserName",
    "SubjectUserName",
    "IpAddress",
    "WorkstationName",
    "LogonType",
    "ShareName",
    "RelativeTargetName",
    "ObjectName",
    "Payload",
    "Data",
];

/// `Field=value` pairs of the key fields present, cut for one line.
pub fn key_fields(ev: &Event) -> String {
    let mut parts = Vec::new();
    for name in KEY_FIELDS {
        if let Some(v) = ev.get(name)
            && !v.is_empty()
            && v != "-"
        {
            parts.push(format!("{name}={}", printable(v, 160)));
            if parts.len() == 4 {
                break;
            }
        }
    }
    parts.join(" ")
}

/// Inputs to [`build`] besides the hits.
pub struct ReportContext<'a> {
    /// Tool name and version.
    pub tool: String,
    /// The paths given on the command line.
    pub location: String,
    /// Start of the run.
    pub started: Timestamp,
    /// Lowest level reported.
    pub min_level: Severity,
    /// Milliseconds spent loading rules.
    pub load_millis: u64,
    /// Milliseconds spent reading and matching.
    pub hunt_millis: u64,
    /// Warnings met before the hunt (paths that could not be listed).
    pub warnings: Vec<String>,
    /// The rules.
    pub rules: &'a RuleSet,
}

struct Row {
    rule_id: String,
    title: String,
    engine: &'static str,
    level: Severity,
    attack: Vec<String>,
    description: String,
    /// What this hit found, without the title.
    detail: String,
    event: Arc<Event>,
}

impl Row {
    /// The one-line message: title, then detail.
    fn message(&self) -> String {
        format!("{} — {}", self.title, self.detail)
    }
}

/// Builds the report.
pub fn build(
    ctx: ReportContext<'_>,
    out: HuntOutput,
    builtin_hits: Vec<builtin::Hit>,
) -> HuntReport {
    let files: Vec<String> = out
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    let rows = collect_rows(&ctx, &out, &builtin_hits);
    let (findings, finding_of) = findings_by_rule_and_file(&rows, &files);
    let detections: Vec<Detection> = rows
        .iter()
        .zip(finding_of)
        .map(|(row, finding)| Detection {
            datetime: row.event.time_rfc3339(),
            timestamp_desc: "Event Recorded".into(),
            message: row.message(),
            rule_id: row.rule_id.clone(),
            rule_title: row.title.clone(),
            engine: row.engine.into(),
            level: row.level,
            attack: row.attack.clone(),
            file: files
                .get(row.event.file as usize)
                .cloned()
                .unwrap_or_default(),
            record_id: row.event.record_id,
            event_id: row.event.event_id,
            channel: row.event.channel.to_string(),
            computer: row.event.computer.to_string(),
            fields: row
                .event
                .fields
                .iter()
                .map(|f| (f.name.to_string(), f.value.to_string()))
                .collect(),
            finding,
        })
        .collect();

    let mut rules = rule_summary(&rows);
    let mut unlisted_rules = Vec::new();
    for (i, n) in out
        .sigma_unlisted
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
    {
        let Some(rule) = ctx.rules.rules.get(i) else {
            continue;
        };
        if let Some(s) = rules
            .iter_mut()
            .find(|s| s.rule_id == rule.id && s.engine == "sigma")
        {
            s.count += *n as usize;
        }
        unlisted_rules.push(format!("{} (+{n})", rule.id));
    }

    let mut warnings: Vec<Warning> = ctx
        .warnings
        .iter()
        .map(|m| Warning {
            check: None,
            path: None,
            message: m.clone(),
        })
        .collect();
    for f in &out.files {
        for w in &f.warnings {
            warnings.push(Warning {
                check: None,
                path: Some(f.path.display().to_string()),
                message: w.clone(),
            });
        }
    }
    if !unlisted_rules.is_empty() {
        warnings.push(Warning {
            check: None,
            path: None,
            message: format!(
                "rules matching more than {} events list that many and count the rest: {}",
                crate::MAX_HITS_PER_RULE,
                unlisted_rules.join(", ")
            ),
        });
    }
    if out.shed_logons > 0 {
        warnings.push(Warning {
            check: Some("windows.logon.bruteforce".into()),
            path: None,
            message: format!(
                "more than {} logon events with a source: {} events from {} sources with at most {} each were dropped from the brute-force check (every heavier source is kept; its count may be low by up to {})",
                crate::MAX_KEPT_LOGONS,
                out.shed_logons,
                out.shed_sources,
                out.shed_max_events,
                out.shed_max_events
            ),
        });
    }
    let report = &ctx.rules.report;
    if !report.unloaded.is_empty() {
        let top: Vec<String> = report
            .reasons()
            .into_iter()
            .take(3)
            .map(|(r, n)| format!("{n}× {r}"))
            .collect();
        warnings.push(Warning {
            check: None,
            path: None,
            message: format!(
                "{} of {} rules not loaded (listed in the JSON report's unloaded_rules); most \
                 common: {}",
                report.unloaded.len(),
                report.loaded + report.unloaded.len(),
                top.join("; ")
            ),
        });
    }

    let stats = HuntStats {
        files: out.files.len(),
        bytes: out.files.iter().map(|f| f.bytes).sum(),
        records: out.files.iter().map(|f| f.records).sum(),
        bad_records: out.files.iter().map(|f| f.bad_records).sum(),
        records_in_range: out.files.iter().map(|f| f.in_range).sum(),
        rule_files: report.files,
        rules_loaded: report.loaded,
        rules_unloaded: report.unloaded.len(),
        rule_evaluations: out.evaluations,
        load_millis: ctx.load_millis,
        hunt_millis: ctx.hunt_millis,
    };
    let storyline = storyline(&rows, &builtin_hits);
    HuntReport {
        schema_version: SCHEMA_VERSION,
        tool: ctx.tool,
        source: SourceInfo {
            kind: "evtx".into(),
            location: ctx.location,
            hostname: most_common_computer(&rows),
            zone: None,
        },
        started: ctx.started,
        finished: Timestamp::now(),
        storyline,
        detections,
        rules,
        findings,
        warnings,
        unloaded_rules: report.unloaded.clone(),
        stats,
        provenance: Default::default(),
    }
}

/// Every hit at or above the minimum level, as rows in time order.
fn collect_rows(
    ctx: &ReportContext<'_>,
    out: &HuntOutput,
    builtin_hits: &[builtin::Hit],
) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    let set = ctx.rules;
    // Rules named by correlations, none with `generate: true`, report only through them.
    let silenced: Vec<bool> = set
        .rules
        .iter()
        .map(|r| {
            let mut naming = set
                .correlations
                .iter()
                .filter(|c| c.rules.iter().any(|n| correlation::names(r, n)))
                .peekable();
            naming.peek().is_some() && naming.all(|c| !c.generate)
        })
        .collect();
    for f in correlation::run(&set.correlations, &set.rules, &out.sigma_hits) {
        let c = &set.correlations[f.correlation];
        let Some(last) = f.events.last() else {
            continue;
        };
        if c.level < ctx.min_level {
            continue;
        }
        let group: Vec<String> = f
            .group
            .iter()
            .map(|(k, v)| format!("{k}={}", printable(v, 80)))
            .collect();
        let span = f
            .events
            .first()
            .map_or(0, |e| last.time_micros - e.time_micros)
            / 1_000_000;
        rows.push(Row {
            rule_id: c.id.clone(),
            title: c.title.clone(),
            engine: "correlation",
            level: c.level,
            attack: c.attack.clone(),
            description: c.description.clone(),
            detail: format!(
                "{} {} from {} event(s) of {} within {}{}",
                f.count,
                if c.kind == correlation::Kind::ValueCount {
                    "distinct values"
                } else {
                    "matches"
                },
                f.events.len(),
                c.rules.join(", "),
                human_duration(span),
                if group.is_empty() {
                    String::new()
                } else {
                    format!(" for {}", group.join(" "))
                }
            ),
            event: Arc::clone(last),
        });
    }
    for (r, ev) in &out.sigma_hits {
        let rule = &ctx.rules.rules[*r as usize];
        if rule.level < ctx.min_level || silenced[*r as usize] {
            continue;
        }
        rows.push(Row {
            rule_id: rule.id.clone(),
            title: rule.title.clone(),
            engine: "sigma",
            level: rule.level,
            attack: rule.attack.clone(),
            description: rule.description.clone(),
            detail: key_fields(ev),
            event: Arc::clone(ev),
        });
    }
    for h in builtin_hits {
        if h.level < ctx.min_level {
            continue;
        }
        rows.push(Row {
            rule_id: h.check.id.to_owned(),
            title: h.check.title.to_owned(),
            engine: "builtin",
            level: h.level,
            attack: h.check.attack.iter().map(|s| (*s).to_owned()).collect(),
            description: h.check.description.to_owned(),
            detail: h.message.clone(),
            event: Arc::clone(&h.event),
        });
    }
    rows.sort_by(|a, b| {
        (
            a.event.time_micros,
            a.event.file,
            a.event.record_id,
            &a.rule_id,
        )
            .cmp(&(
                b.event.time_micros,
                b.event.file,
                b.event.record_id,
                &b.rule_id,
            ))
    });

    rows
}

/// One finding per rule and file, its records as evidence; also each row's finding id.
fn findings_by_rule_and_file(rows: &[Row], files: &[String]) -> (Vec<Finding>, Vec<String>) {
    // Findings: one per rule and file, its records as evidence.
    let mut groups: BTreeMap<(String, u32), Vec<usize>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        groups
            .entry((row.rule_id.clone(), row.event.file))
            .or_default()
            .push(i);
    }
    let mut finding_of = vec![String::new(); rows.len()];
    let mut findings = Vec::new();
    for ((_, file), idx) in &groups {
        let first = &rows[idx[0]];
        let path = files.get(*file as usize).cloned().unwrap_or_default();
        let level = idx
            .iter()
            .map(|i| rows[*i].level)
            .max()
            .unwrap_or(first.level);
        let title = if idx.len() == 1 {
            first.title.clone()
        } else {
            format!("{} ({} events)", first.title, idx.len())
        };
        let mut f = Finding::new(&format!("{}.{}", first.engine, first.rule_id), title, level)
            .explain(if first.description.is_empty() {
                first.title.clone()
            } else {
                first.description.clone()
            })
            .recommend(recommendation(level))
            .at_time(first.event.known_time());
        f.attack = first.attack.clone();
        for i in idx.iter().take(MAX_EVIDENCE) {
            let row = &rows[*i];
            let e = Evidence::at(path.clone())
                .line(row.event.record_id)
                .excerpt(format!(
                    "{} EventID {} {}",
                    row.event.time_rfc3339(),
                    row.event.event_id,
                    row.detail
                ));
            f = f.evidence(e);
        }
        for i in idx {
            finding_of[*i] = f.id.clone();
        }
        findings.push(f);
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.time.cmp(&b.time)));

    (findings, finding_of)
}

/// Per-rule counts, most severe then most frequent first.
fn rule_summary(rows: &[Row]) -> Vec<RuleSummary> {
    let mut summary: HashMap<(String, &'static str), RuleSummary> = HashMap::new();
    let mut summary_files: HashMap<(String, &'static str), Vec<u32>> = HashMap::new();
    for row in rows {
        let key = (row.rule_id.clone(), row.engine);
        let t = row.event.known_time();
        let s = summary.entry(key.clone()).or_insert_with(|| RuleSummary {
            rule_id: row.rule_id.clone(),
            title: row.title.clone(),
            level: row.level,
            engine: row.engine.into(),
            count: 0,
            files: 0,
            first: t,
            last: t,
        });
        s.count += 1;
        s.level = s.level.max(row.level);
        // Events without a time neither start nor end the rule's span.
        s.first = s.first.into_iter().chain(t).min();
        s.last = s.last.max(t);
        summary_files.entry(key).or_default().push(row.event.file);
    }
    let mut rules: Vec<RuleSummary> = summary
        .into_iter()
        .map(|(k, mut s)| {
            let mut f = summary_files.remove(&k).unwrap_or_default();
            f.sort_unstable();
            f.dedup();
            s.files = f.len();
            s
        })
        .collect();
    rules.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(b.count.cmp(&a.count))
            .then(a.rule_id.cmp(&b.rule_id))
    });

    rules
}

fn recommendation(level: Severity) -> &'static str {
    match level {
        Severity::Critical | Severity::High => {
            "Treat as an intrusion until shown otherwise: read the listed records in order, \
             isolate the host if the activity is recent, and collect the event logs as evidence."
        }
        Severity::Medium => {
            "Check the listed records against what administrators did at that time; the rule's \
             false-positive notes say what is commonly benign."
        }
        _ => "Context for the timeline; review with the detections around it.",
    }
}

fn most_common_computer(rows: &[Row]) -> Option<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in rows {
        if !r.event.computer.is_empty() {
            *counts.entry(&r.event.computer).or_default() += 1;
        }
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.first().map(|(c, _)| (*c).to_owned())
}

/// Entry point (a logon after brute force), attacker sources, accounts, persistence and the
/// span of high and critical activity.
fn storyline(rows: &[Row], hits: &[builtin::Hit]) -> Storyline {
    let mut s = Storyline::default();
    let serious: Vec<&Row> = rows.iter().filter(|r| r.level >= Severity::High).collect();
    s.first_activity = serious.iter().filter_map(|r| r.event.known_time()).min();
    s.last_activity = serious.iter().filter_map(|r| r.event.known_time()).max();
    if let (Some(a), Some(b)) = (s.first_activity, s.last_activity) {
        s.dwell_time = Some(human_duration(b.0 - a.0));
    }
    let mut ips: Vec<String> = hits.iter().filter_map(|h| h.ip.clone()).collect();
    ips.dedup();
    s.attacker_ips = ips;
    for h in hits {
        if let Some(a) = &h.account
            && !s.accounts.contains(a)
        {
            s.accounts.push(a.clone());
        }
        if let Some(p) = &h.persistence
            && !s.persistence.contains(p)
        {
            s.persistence.push(p.clone());
        }
    }
    let entry = hits
        .iter()
        .filter(|h| h.entry)
        .min_by_key(|h| h.event.time_micros);
    s.entry_point = match entry {
        Some(h) => Some(format!(
            "{} at {}: {}",
            h.check.title,
            h.event.time_rfc3339(),
            h.message
        )),
        None => serious.first().map(|r| {
            format!(
                "first high-severity detection at {}: {}",
                r.event.time_rfc3339(),
                r.message()
            )
        }),
    };
    let crit = rows
        .iter()
        .filter(|r| r.level == Severity::Critical)
        .count();
    let high = rows.iter().filter(|r| r.level == Severity::High).count();
    s.verdict = if crit + high == 0 {
        if rows.is_empty() {
            "No detections.".into()
        } else {
            format!(
                "{} lower-severity detections; nothing high or critical.",
                rows.len()
            )
        }
    } else {
        let mut v = format!(
            "{crit} critical and {high} high detections on {} host(s)",
            {
                let mut c: Vec<&str> = serious.iter().map(|r| &*r.event.computer).collect();
                c.sort_unstable();
                c.dedup();
                c.len()
            }
        );
        if let Some(h) = entry {
            v.push_str(&format!("; got in by {}", h.check.title.to_lowercase()));
        }
        if !s.persistence.is_empty() {
            v.push_str(&format!("; left {}", s.persistence.len()));
            v.push_str(" persistence item(s)");
        }
        v.push('.');
        v
    };
    s
}
