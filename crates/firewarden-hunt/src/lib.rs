//! Windows event-log hunting for `firewarden hunt`.
//!
//! * [`reader`] reads `.evtx` files and JSON-lines exports into flat [`event::Event`]s;
//! * [`sigma`] loads Sigma rules, lists the ones it cannot run with the reason, and matches
//!   each event against only the rules its channel and event id allow;
//! * [`builtin`] holds the Windows intrusion checks a responder runs first (accounts, brute
//!   force, cleared logs, services, tasks, PowerShell, WMI, Defender);
//! * [`report`] turns hits into the common model: detections on a UTC timeline, per-rule
//!   counts, findings and a storyline.
//!
//! Files are read and matched in parallel, one file per thread at a time; each event is
//! flattened once and tested against its candidate rules without building any other tree.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod builtin;
pub mod event;
pub mod fields;
pub mod parallel;
pub mod reader;
pub mod report;
pub mod sigma;
mod utf16;

use event::Event;
use parallel::fold_in_order;
use reader::ReadOptions;
use sigma::RuleSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What to hunt and how.
#[derive(Debug, Clone, Default)]
pub struct HuntOptions {
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Only events at or after this time (microseconds since the epoch, UTC).
    pub from_micros: Option<i64>,
    /// Only events at or before this time.
    pub to_micros: Option<i64>,
    /// Also carve records from unallocated space in EVTX chunks.
    pub carve: bool,
    /// Run the built-in Windows checks.
    pub builtin: bool,
    /// Keep only Sigma hits at or above this level (correlated rules are always kept).
    pub min_level: firewarden_model::Severity,
}

/// What one file gave.
#[derive(Debug, Clone, Default)]
pub struct FileResult {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Records read.
    pub records: u64,
    /// Records inside the time range.
    pub in_range: u64,
    /// Records that could not be read.
    pub bad_records: u64,
    /// Records kept without a readable time.
    pub unknown_time: u64,
    /// Problems met.
    pub warnings: Vec<String>,
}

/// Raw results of a hunt, before they are shaped into a report.
#[derive(Debug, Default)]
pub struct HuntOutput {
    /// Per file, in input order.
    pub files: Vec<FileResult>,
    /// `(rule index, event)` for every Sigma match, in file then record order.
    pub sigma_hits: Vec<(u32, Arc<Event>)>,
    /// Events the built-in checks look at, in file then record order.
    pub builtin_events: Vec<Arc<Event>>,
    /// Rule tests run.
    pub evaluations: u64,
    /// Per rule (by index): matches past [`MAX_HITS_PER_RULE`], counted but not listed.
    pub sigma_unlisted: Vec<u64>,
    /// Logon events dropped to keep memory bounded, from how many sources, each with at most
    /// how many events when dropped (0 when nothing was shed).
    pub shed_logons: u64,
    /// Sources whose logon events were dropped.
    pub shed_sources: u64,
    /// The most logon events a source had when it was dropped.
    pub shed_max_events: u64,
}

/// Most matches listed per Sigma rule that no correlation counts; past it they are counted.
pub const MAX_HITS_PER_RULE: u64 = 10_000;

/// Most logon events (4624/4625 with a source) kept for the brute-force check. A slim logon
/// is a few hundred bytes: 400,000 keep it near 150 MB, where 2 million distinct sources once
/// took gigabytes.
pub const MAX_KEPT_LOGONS: usize = 400_000;

/// Counts the logon events kept, and sheds the sources with the fewest when there are too many
/// (a flood of single attempts from millions of addresses fills the table; a brute force, many
/// attempts from one source, is what must survive).
#[derive(Default)]
struct LogonTable {
    kept: usize,
    shed_events: u64,
    shed_sources: u64,
    shed_max: u64,
}

impl LogonTable {
    fn count(&mut self, ev: &Event) {
        if builtin::logon_source(ev).is_some() {
            self.kept += 1;
        }
    }

    fn shed(&mut self, events: &mut Vec<Arc<Event>>) {
        let mut per_source: std::collections::HashMap<&str, u64> = Default::default();
        for ev in events.iter() {
            if let Some(ip) = builtin::logon_source(ev) {
                *per_source.entry(ip).or_default() += 1;
            }
        }
        const BUCKETS: usize = 64;
        let mut histogram = [0usize; BUCKETS + 1];
        for &n in per_source.values() {
            histogram[(n as usize).min(BUCKETS)] += n as usize;
        }
        let (mut floor, mut left) = (0usize, self.kept);
        while left > MAX_KEPT_LOGONS / 2 && floor < BUCKETS {
            left -= histogram[floor];
            floor += 1;
        }
        let dropped: std::collections::HashSet<String> = per_source
            .iter()
            .filter(|(_, n)| (**n as usize) < floor)
            .map(|(ip, _)| (*ip).to_owned())
            .collect();
        drop(per_source);
        let before = events.len();
        events.retain(|ev| builtin::logon_source(ev).is_none_or(|ip| !dropped.contains(ip)));
        let gone = (before - events.len()) as u64;
        self.kept -= gone as usize;
        self.shed_events += gone;
        self.shed_sources += dropped.len() as u64;
        self.shed_max = self.shed_max.max(floor.saturating_sub(1) as u64);
    }
}

/// Reads every file and matches its events. Large EVTX files are split into runs of chunks,
/// so one big log keeps every core busy. `progress` is called with (units done, units).
pub fn hunt(
    rules: &RuleSet,
    files: Vec<PathBuf>,
    opts: &HuntOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> HuntOutput {
    let done = AtomicUsize::new(0);
    let read_opts = ReadOptions { carve: opts.carve };
    let units = reader::plan(&files);
    // Hits of rules below the reported level are dropped as they happen (they can be most of
    // a large log), unless a correlation counts them.
    let reported: Vec<bool> = rules
        .rules
        .iter()
        .map(|r| {
            r.level >= opts.min_level
                || rules
                    .correlations
                    .iter()
                    .any(|c| c.rules.iter().any(|n| sigma::correlation::names(r, n)))
        })
        .collect();
    let total = units.len();
    let mut out = HuntOutput {
        files: files
            .iter()
            .map(|p| FileResult {
                path: p.clone(),
                ..FileResult::default()
            })
            .collect(),
        ..HuntOutput::default()
    };
    let mut logons = LogonTable::default();
    // Hits of a rule that no correlation counts are listed up to a cap and counted past it:
    // a rule matching millions of events would otherwise hold every one of them in memory.
    let correlated: Vec<bool> = rules
        .rules
        .iter()
        .map(|r| {
            rules
                .correlations
                .iter()
                .any(|c| c.rules.iter().any(|n| sigma::correlation::names(r, n)))
        })
        .collect();
    let mut listed_per_rule = vec![0u64; rules.rules.len()];
    out.sigma_unlisted = vec![0u64; rules.rules.len()];
    let work = |unit: reader::Unit| {
        // The EVTX parser is third-party code fed attacker-controlled bytes: if it ever panics,
        // lose that part of the file with a warning, not the whole hunt.
        let log = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            reader::read_unit(&rules.fields, &unit, read_opts)
        }))
        .unwrap_or_else(|_| reader::LogFile {
            path: unit.path.clone(),
            warnings: vec![
                "the EVTX parser failed on this part of the file; it was not read".into(),
            ],
            ..reader::LogFile::default()
        });
        let mut result = FileResult {
            path: unit.path.clone(),
            bytes: 0,
            records: log.events.len() as u64,
            bad_records: log.bad_records as u64,
            warnings: log.warnings,
            in_range: 0,
            unknown_time: 0,
        };
        let mut hits = Vec::new();
        let mut kept = Vec::new();
        let mut matched = Vec::new();
        let mut evaluations = 0u64;
        let mut unknown_time = 0u64;
        let mut scratch = rules.scratch();
        for ev in log.events {
            // An event with no readable time cannot be placed outside the range: it is kept
            // (and counted in a warning), never dropped as if it were from 1970.
            if !ev.time_known {
                unknown_time += 1;
            } else if opts.from_micros.is_some_and(|f| ev.time_micros < f)
                || opts.to_micros.is_some_and(|t| ev.time_micros > t)
            {
                continue;
            }
            result.in_range += 1;
            matched.clear();
            evaluations += rules.matches(&ev, &mut scratch, &mut matched) as u64;
            matched.retain(|r| reported[*r as usize]);
            let wanted = if opts.builtin {
                builtin::wants(&ev)
            } else {
                builtin::Want::No
            };
            if matched.is_empty() {
                match wanted {
                    builtin::Want::No => {}
                    builtin::Want::Full => kept.push(Arc::new(ev)),
                    builtin::Want::Logon => kept.push(Arc::new(builtin::slim_logon(&ev))),
                }
                continue;
            }
            let ev = Arc::new(ev);
            for &r in &matched {
                hits.push((r, Arc::clone(&ev)));
            }
            if wanted != builtin::Want::No {
                kept.push(ev);
            }
        }
        result.unknown_time = unknown_time;
        progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
        let size = if unit.first { unit.size } else { 0 };
        (unit.file, size, result, hits, kept, evaluations)
    };
    // Units are folded in order as they finish, so the logon table can shed as it goes (and
    // the same way on every run) instead of holding every unit's events at once.
    fold_in_order(
        units,
        opts.threads,
        work,
        |(file, size, part, hits, kept, evaluations)| {
            let f = &mut out.files[file as usize];
            f.bytes += size;
            f.records += part.records;
            f.in_range += part.in_range;
            f.bad_records += part.bad_records;
            f.unknown_time += part.unknown_time;
            f.warnings.extend(part.warnings);
            for (r, ev) in hits {
                let i = r as usize;
                if correlated.get(i).copied().unwrap_or(true)
                    || listed_per_rule
                        .get(i)
                        .is_some_and(|n| *n < MAX_HITS_PER_RULE)
                {
                    if let Some(n) = listed_per_rule.get_mut(i) {
                        *n += 1;
                    }
                    out.sigma_hits.push((r, ev));
                } else if let Some(n) = out.sigma_unlisted.get_mut(i) {
                    *n += 1;
                }
            }
            for ev in kept {
                logons.count(&ev);
                out.builtin_events.push(ev);
            }
            if logons.kept > MAX_KEPT_LOGONS {
                logons.shed(&mut out.builtin_events);
            }
            out.evaluations += evaluations;
        },
    );
    out.shed_logons = logons.shed_events;
    out.shed_sources = logons.shed_sources;
    out.shed_max_events = logons.shed_max;
    for f in &mut out.files {
        if f.unknown_time > 0 {
            f.warnings.push(format!(
                "{} records have no readable time: kept, shown as \"{}\" and never left out by \
                 --from/--to",
                f.unknown_time,
                event::TIME_UNKNOWN
            ));
        }
    }
    out
}
