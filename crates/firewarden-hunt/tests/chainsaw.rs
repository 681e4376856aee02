//! Correctness against the reference: the Sigma rules Chainsaw 2.16.4 fired on each file of
//! evtx-attack-samples (`shared/data/reference/chainsaw-sigmahq-hits.tsv`). At least 99 % of its
//! file/rule pairs must be reproduced; every miss and extra is explained in docs/hunt.md.

use firewarden_hunt::sigma::RuleSet;
use firewarden_hunt::{HuntOptions, hunt, reader};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if p.join("evtx-attack-samples").is_dir() && p.join("sigma/rules/windows").is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/data (evtx-attack-samples, sigma) is not present");
        None
    }
}

#[test]
fn reproduces_chainsaw_pairs() {
    let Some(data) = shared() else { return };
    let samples = data.join("evtx-attack-samples");
    let rules = RuleSet::load(&[data.join("sigma/rules/windows")], 0).unwrap();
    let (files, _) = reader::log_files(std::slice::from_ref(&samples));
    let out = hunt(&rules, files.clone(), &HuntOptions::default(), &|_, _| {});
    let rel = |p: &Path| p.strip_prefix(&samples).unwrap().display().to_string();
    let mut ours: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut sample: BTreeMap<(String, String), String> = BTreeMap::new();
    for (r, ev) in &out.sigma_hits {
        let key = (
            rel(&files[ev.file as usize]),
            rules.rules[*r as usize].id.clone(),
        );
        *ours.entry(key.clone()).or_default() += 1;
        sample
            .entry(key)
            .or_insert_with(|| format!("{}:{}", ev.channel, ev.event_id));
    }
    let tsv = std::fs::read_to_string(data.join("reference/chainsaw-sigmahq-hits.tsv")).unwrap();
    let mut theirs: BTreeMap<(String, String), (String, usize)> = BTreeMap::new();
    for line in tsv.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        theirs.insert(
            (cols[0].to_owned(), cols[1].to_owned()),
            (cols[2].to_owned(), cols[3].parse().unwrap_or(0)),
        );
    }
    let loaded: BTreeSet<&str> = rules.rules.iter().map(|r| r.id.as_str()).collect();
    let missed: Vec<_> = theirs.keys().filter(|k| !ours.contains_key(*k)).collect();
    let extra: Vec<_> = ours.keys().filter(|k| !theirs.contains_key(*k)).collect();
    for k in &missed {
        let why = if loaded.contains(k.1.as_str()) {
            "loaded"
        } else {
            "NOT LOADED"
        };
        eprintln!("MISS {}\t{}\t{}\t{}", k.0, k.1, theirs[*k].0, why);
    }
    for k in &extra {
        let rule = rules.rules.iter().find(|r| r.id == k.1);
        eprintln!(
            "EXTRA {}\t{}\t{}\t{}\t{}\t{}",
            k.0,
            k.1,
            rule.map_or("", |r| r.title.as_str()),
            ours[*k],
            sample[*k],
            rule.map_or("", |r| r.path.as_str())
        );
    }
    let found = theirs.len() - missed.len();
    eprintln!(
        "pairs: chainsaw {} reproduced {} ({:.1} %), extra {}; detections ours {} theirs {}",
        theirs.len(),
        found,
        100.0 * found as f64 / theirs.len() as f64,
        extra.len(),
        ours.values().sum::<usize>(),
        theirs.values().map(|v| v.1).sum::<usize>()
    );
    assert!(
        found * 100 >= theirs.len() * 99,
        "reproduced {found} of {}",
        theirs.len()
    );
}
