//! The script heuristics and the learned model on the labelled development corpus
//! (`../shared/data/webshells`, real webshells and real benign code). These are in-sample
//! figures, a guard against regressions; the held-out estimate is `bench/webshells.sh`.
//! Skipped, with a message, when the corpus is absent.

use firewarden_model::Severity;
use firewarden_scan::heuristics::{scan_script, script_kind};
use firewarden_scan::shellmodel;
use std::path::Path;

/// (language, recall floor %, false-positive ceiling %): the measured figures with a little
/// room, rules pack not included (it only adds).
const BARS: &[(&str, f64, f64)] = &[
    ("php", 93.5, 0.05),
    ("asp", 87.0, 0.15),
    ("jsp", 94.0, 0.25),
];

fn flagged(name: &str, data: &[u8]) -> bool {
    let Some(kind) = script_kind(name, data) else {
        return false;
    };
    scan_script(kind, data)
        .iter()
        .any(|h| h.severity >= Severity::Medium)
        || shellmodel::applies(name, data).is_some_and(|k| shellmodel::hit(k, data).is_some())
}

#[test]
fn heuristics_and_model_on_the_development_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/webshells");
    if !root.join("php/labels.csv").exists() {
        eprintln!("skipped: no labelled webshell corpus at {}", root.display());
        return;
    }
    let mut failures = Vec::new();
    for &(lang, recall_floor, fp_ceiling) in BARS {
        let dir = root.join(lang);
        let labels = std::fs::read_to_string(dir.join("labels.csv")).unwrap();
        let files: Vec<(String, bool)> = labels
            .lines()
            .skip(1)
            .filter_map(|l| {
                let cols: Vec<&str> = l.split(',').collect();
                Some((cols.first()?.to_string(), *cols.get(1)? == "black"))
            })
            .collect();
        // (is a webshell, flagged) per file, on every core.
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let results: Vec<(bool, bool)> = std::thread::scope(|s| {
            let dir = &dir;
            let handles: Vec<_> = files
                .chunks(files.len().div_ceil(threads))
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .filter_map(|(name, black)| {
                                let data = std::fs::read(dir.join(name)).ok()?;
                                Some((*black, flagged(name, &data)))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let count = |black: bool, hit: bool| {
            results
                .iter()
                .filter(|&&(b, h)| b == black && (h || !hit))
                .count()
        };
        let (black, black_hit, white, white_hit) = (
            count(true, false),
            count(true, true),
            count(false, false),
            count(false, true),
        );
        let recall = 100.0 * black_hit as f64 / black as f64;
        let fp = 100.0 * white_hit as f64 / white as f64;
        eprintln!(
            "{lang}: recall {black_hit}/{black} = {recall:.1}%, false positives {white_hit}/{white} = {fp:.2}%"
        );
        if recall < recall_floor || fp > fp_ceiling {
            failures.push(format!(
                "{lang}: recall {recall:.1}% (floor {recall_floor}%), false positives {fp:.2}% (ceiling {fp_ceiling}%)"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
