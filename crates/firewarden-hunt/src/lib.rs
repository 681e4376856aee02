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
use parallel::map_in_parallel;
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
    let per_unit = map_in_parallel(units, opts.threads, |unit| {
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
    });
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
    for (file, size, part, hits, kept, evaluations) in per_unit {
        let f = &mut out.files[file as usize];
        f.bytes += size;
        f.records += part.records;
        f.in_range += part.in_range;
        f.bad_records += part.bad_records;
        f.unknown_time += part.unknown_time;
        f.warnings.extend(part.warnings);
        out.sigma_hits.extend(hits);
        out.builtin_events.extend(kept);
        out.evaluations += evaluations;
    }
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
