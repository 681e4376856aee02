//! Runs the selected checks over a source, in parallel, and assembles the report.

use crate::check::{Check, CheckError};
use crate::context::Ctx;
use crate::facts::Facts;
use firewarden_model::{CheckRun, CheckStatus, SCHEMA_VERSION, Severity, Timestamp, TriageReport};
use firewarden_source::{Source, read_text};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// What a triage run should do; built by the CLI (or the case platform) once.
#[derive(Debug, Clone)]
pub struct TriageOptions {
    /// Run only checks whose id equals or starts with one of these (empty: all).
    pub only: Vec<String>,
    /// Skip checks whose id equals or starts with one of these.
    pub skip: Vec<String>,
    /// Drop findings below this severity.
    pub min_severity: Severity,
    /// Start of the incident window: file changes and events before it are not reported.
    pub since: Option<Timestamp>,
    /// Extra auth logs (host paths) to analyse besides the source's own.
    pub auth_logs: Vec<PathBuf>,
    /// Threads to use (0: as many as there are cores).
    pub threads: usize,
    /// What counts as "now" (future-dated files, the zone offset in force); `None` is the
    /// clock. Triage of an evidence bundle sets the collection time, so that the bundle gives
    /// the findings the host gave when it was collected.
    pub now: Option<Timestamp>,
    /// Stop after the fast checks: the checks that walk the files
    /// ([`crate::check::CheckMeta::walks_files`]) are listed as skipped.
    pub quick: bool,
}

impl Default for TriageOptions {
    fn default() -> Self {
        TriageOptions {
            only: Vec::new(),
            skip: Vec::new(),
            min_severity: Severity::Low,
            since: None,
            auth_logs: Vec::new(),
            threads: 0,
            now: None,
            quick: false,
        }
    }
}

impl TriageOptions {
    fn selects(&self, id: &str) -> bool {
        let matches = |pat: &String| id == pat || id.starts_with(&format!("{pat}."));
        (self.only.is_empty() || self.only.iter().any(matches)) && !self.skip.iter().any(matches)
    }
}

/// Progress notifications, for a progress display; libraries never print.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// A check started.
    Started(&'a str),
    /// A check finished; `done` of `total` checks are finished.
    Finished {
        /// Check id.
        id: &'a str,
        /// Checks finished so far.
        done: usize,
        /// Checks selected.
        total: usize,
    },
}

/// Every registered check, in catalogue order.
pub fn catalogue() -> &'static [Check] {
    crate::checks::ALL
}

#[derive(Clone)]
struct Outcome {
    run: CheckRun,
    ctx_out: Option<(
        Vec<firewarden_model::Finding>,
        Vec<firewarden_model::TimelineEvent>,
        Vec<firewarden_model::Warning>,
    )>,
}

/// Runs triage and returns the full report.
pub fn run(
    src: &dyn Source,
    opts: &TriageOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> TriageReport {
    run_phased(src, opts, progress, None)
}

/// Runs triage in two phases: the fast checks, whose report goes to `first_answers` at once
/// (when checks that walk the files follow), then those (unless `opts.quick`); returns the
/// full report.
pub fn run_phased(
    src: &dyn Source,
    opts: &TriageOptions,
    progress: &(dyn Fn(Progress) + Sync),
    first_answers: Option<&(dyn Fn(&TriageReport) + Sync)>,
) -> TriageReport {
    let started = Timestamp::now();
    let facts = Facts::new(opts.auth_logs.clone(), opts.now.unwrap_or(started));
    let selected: Vec<&'static Check> = catalogue()
        .iter()
        .filter(|c| opts.selects(c.meta.id))
        .collect();
    let (deep, fast): (Vec<&'static Check>, Vec<&'static Check>) =
        selected.iter().partition(|c| c.meta.walks_files);
    let total = if opts.quick {
        fast.len()
    } else {
        selected.len()
    };
    let has_live_state = crate::live::list_pids(src).is_some();
    let done = AtomicUsize::new(0);
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        opts.threads
    };
    let run_all = |checks: &[&'static Check]| -> Vec<Outcome> {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Outcome>>> =
            Mutex::new((0..checks.len()).map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..threads.min(checks.len()).max(1) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(check) = checks.get(i) else { break };
                        progress(Progress::Started(check.meta.id));
                        let outcome = run_one(check, src, opts, &facts, has_live_state);
                        let d = done.fetch_add(1, Ordering::SeqCst) + 1;
                        progress(Progress::Finished {
                            id: check.meta.id,
                            done: d,
                            total,
                        });
                        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(outcome);
                    }
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .flatten()
            .collect()
    };
    let mut outcomes = run_all(&fast);
    // Nobody to tell (a script, a collection, the server): no interim report is made.
    if let Some(tell) = first_answers
        && !deep.is_empty()
    {
        tell(&assemble(
            src,
            opts,
            &facts,
            started,
            outcomes.clone(),
            false,
        ));
    }
    if opts.quick {
        for check in &deep {
            outcomes.push(Outcome {
                run: CheckRun {
                    id: check.meta.id.to_string(),
                    status: CheckStatus::Skipped,
                    reason: Some("--quick: the file and web checks did not run".into()),
                    millis: 0,
                    findings: 0,
                },
                ctx_out: None,
            });
        }
    } else {
        outcomes.extend(run_all(&deep));
    }
    // Catalogue order, whatever the phases.
    let order = |id: &str| selected.iter().position(|c| c.meta.id == id);
    outcomes.sort_by_key(|o| order(&o.run.id));
    assemble(src, opts, &facts, started, outcomes, true)
}

/// The report from the checks' outcomes. `complete`: the run is over (the facts' own warnings
/// are taken, the evidence gaps assessed); otherwise a first-answers report of what ran.
fn assemble(
    src: &dyn Source,
    opts: &TriageOptions,
    facts: &Facts,
    started: Timestamp,
    outcomes: Vec<Outcome>,
    complete: bool,
) -> TriageReport {
    let mut report = TriageReport {
        schema_version: SCHEMA_VERSION,
        tool: format!("firewarden {}", env!("CARGO_PKG_VERSION")),
        source: src.info(),
        started,
        finished: started,
        storyline: Default::default(),
        timeline: Vec::new(),
        findings: Vec::new(),
        warnings: Vec::new(),
        checks: Vec::new(),
        provenance: Default::default(),
    };
    report.source.hostname = read_text(src, Path::new("/etc/hostname"), 256)
        .ok()
        .map(|h| firewarden_model::printable(h.trim(), 64))
        .filter(|h| !h.is_empty());
    for outcome in outcomes {
        if let Some((findings, events, warnings)) = outcome.ctx_out {
            report.findings.extend(findings);
            report.timeline.extend(events);
            report.warnings.extend(warnings);
        }
        report.checks.push(outcome.run);
    }
    if complete {
        report.warnings.extend(facts.take_warnings());
    }
    // Each finding is reported once even when two checks' evidence overlaps exactly.
    let mut seen = std::collections::HashSet::new();
    report.findings.retain(|f| seen.insert(f.id.clone()));
    report.findings.retain(|f| f.severity >= opts.min_severity);
    report.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check.cmp(&b.check))
            .then_with(|| a.time.cmp(&b.time))
            // Last tie-breaker so that output never depends on hash or thread order.
            .then_with(|| a.id.cmp(&b.id))
    });
    let kept: std::collections::HashSet<&str> =
        report.findings.iter().map(|f| f.id.as_str()).collect();
    report
        .timeline
        .retain(|e| e.finding.as_deref().is_none_or(|id| kept.contains(id)));
    if let Some(since) = opts.since {
        report.timeline.retain(|e| e.time >= since);
    }
    report
        .timeline
        .sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.summary.cmp(&b.summary)));
    // Times stay UTC; each event also keeps the host's local offset at its moment, which is
    // what the host's own logs and people showed (and what a customer's statement will quote).
    for e in &mut report.timeline {
        e.zone = facts
            .utc_offset_at(src, e.time)
            .map(firewarden_artifacts::tzif::offset_text);
    }
    report.source.zone = facts.zone_name(src);
    if !complete {
        report.storyline = crate::storyline::build(facts, &report, &[]);
        report.finished = Timestamp::now();
        return report;
    }
    let coverage = crate::coverage::assess(
        src,
        &|prefix| {
            report
                .checks
                .iter()
                .any(|c| c.status == CheckStatus::Ran && c.id.starts_with(prefix))
        },
        !opts.auth_logs.is_empty(),
    );
    for gap in &coverage.gaps {
        report.warnings.push(firewarden_model::Warning {
            check: Some("coverage".into()),
            path: None,
            message: format!("evidence absent: {gap}"),
        });
    }
    report.storyline = crate::storyline::build(facts, &report, &coverage.gaps);
    report.storyline.no_evidence = coverage.nothing;
    report.finished = Timestamp::now();
    report
}

fn run_one(
    check: &'static Check,
    src: &dyn Source,
    opts: &TriageOptions,
    facts: &Facts,
    has_live_state: bool,
) -> Outcome {
    let id = check.meta.id.to_string();
    if check.meta.live_state && !has_live_state {
        return Outcome {
            run: CheckRun {
                id,
                status: CheckStatus::Skipped,
                reason: Some("no process state in this source (/proc is empty)".into()),
                millis: 0,
                findings: 0,
            },
            ctx_out: None,
        };
    }
    let t0 = Instant::now();
    let mut ctx = Ctx::new(src, opts, facts, &check.meta);
    // A bug in one check must not cost the responder every other result.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (check.run)(&mut ctx)));
    let millis = t0.elapsed().as_millis() as u64;
    let (status, reason) = match result {
        Ok(Ok(())) => (CheckStatus::Ran, None),
        Ok(Err(CheckError::NotApplicable(why))) => (CheckStatus::Skipped, Some(why)),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            (CheckStatus::Failed, Some(format!("internal error: {msg}")))
        }
    };
    let findings = ctx.findings.len();
    Outcome {
        run: CheckRun {
            id,
            status,
            reason,
            millis,
            findings,
        },
        ctx_out: Some((ctx.findings, ctx.events, ctx.warnings)),
    }
}
