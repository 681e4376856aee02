//! Trains the webshell models in `models/` and measures them honestly: leave-one-collection-out
//! cross-validation, where every file is scored by a model that never saw its collection.
//!
//! ```text
//! cargo run --release -p firewarden-scan --example train_webshell_model -- \
//!     --webshells ../shared/data/webshells [--benign ~/.cache/firewarden-corpus/tree] \
//!     [--lang php] [--flagged-dir DIR] [--write crates/firewarden-scan/models] [--misses]
//! ```
//!
//! `--webshells` is the labelled corpus (`LANG/labels.csv`: file, label, source_id, …);
//! `--benign` adds benign code (Debian's web application packages, `scripts/benign-corpus.sh`),
//! one collection per package. `--flagged-dir` holds `flag-LANG.txt`, the files the rest of the
//! default scan flags (paths as in labels.csv), to report the scan as a whole. Training is
//! deterministic: SGD over a shuffle from a fixed seed.

use firewarden_model::Severity;
use firewarden_scan::heuristics::{ScriptKind, scan_script, script_kind};
use firewarden_scan::shellmodel::{Model, applies, visit_features};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};

const SEED: u64 = 0x5eed_f12e;
const EPOCHS: usize = 12;
const L2: f32 = 5e-3;
/// A feature must be seen in this many training files and in two collections: a word only one
/// collection uses is that collection's signature, not what makes a webshell.
const MIN_DF: u32 = 3;
const MIN_BLACK_GROUPS: usize = 3;
/// Weights smaller than this are left out of the committed file.
const PRUNE: f32 = 0.02;

struct Sample {
    path: String,
    black: bool,
    group: String,
    features: Vec<u32>,
    /// The script heuristics that flag it at medium or above.
    heuristics: Vec<&'static str>,
}

struct Args {
    webshells: PathBuf,
    benign: Option<PathBuf>,
    langs: Vec<String>,
    flagged: Option<PathBuf>,
    write: Option<PathBuf>,
    misses: bool,
    no_cv: bool,
}

fn args() -> Args {
    let mut a = Args {
        webshells: PathBuf::new(),
        benign: None,
        langs: vec!["php".into(), "asp".into(), "jsp".into()],
        flagged: None,
        write: None,
        misses: false,
        no_cv: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().expect("option needs a value");
        match k.as_str() {
            "--webshells" => a.webshells = v().into(),
            "--benign" => a.benign = Some(v().into()),
            "--lang" => a.langs = vec![v()],
            "--flagged-dir" => a.flagged = Some(v().into()),
            "--write" => a.write = Some(v().into()),
            "--misses" => a.misses = true,
            "--no-cv" => a.no_cv = true,
            _ => panic!("unknown option {k}"),
        }
    }
    a
}

fn kind_of(lang: &str) -> ScriptKind {
    match lang {
        "php" => ScriptKind::Php,
        "asp" => ScriptKind::Asp,
        _ => ScriptKind::Jsp,
    }
}

/// Corpus files of `lang`: (path relative to the language dir or absolute, black, group).
fn listing(a: &Args, lang: &str) -> Vec<(PathBuf, String, bool, String)> {
    let dir = a.webshells.join(lang);
    let labels = std::fs::read_to_string(dir.join("labels.csv")).expect("labels.csv");
    let mut out = Vec::new();
    let mut white_n = 0usize;
    let one_white_source = {
        let ws: HashSet<&str> = labels
            .lines()
            .skip(1)
            .filter_map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (c.get(1) == Some(&"white")).then(|| c[2])
            })
            .collect();
        ws.len() == 1
    };
    for l in labels.lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        if c.len() < 3 {
            continue;
        }
        let black = c[1] == "black";
        // With a single benign collection (ASP) there is nothing to hold out by collection:
        // five folds by file, said so in the report.
        let group = if !black && one_white_source {
            white_n += 1;
            format!("white{}/fold{}", c[2], white_n % 5)
        } else {
            format!("{}{}", c[1], c[2])
        };
        out.push((dir.join(c[0]), c[0].to_string(), black, group));
    }
    if let Some(benign) = &a.benign {
        let kind = kind_of(lang);
        let mut stack = vec![benign.clone()];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            let mut entries: Vec<_> = rd.flatten().collect();
            entries.sort_by_key(|e| e.path());
            for e in entries {
                let p = e.path();
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_dir() {
                    stack.push(p);
                } else if ft.is_file() {
                    let name = p.to_string_lossy().to_string();
                    // What `applies` looks at: the first 64 KiB (the whole file is read later,
                    // once, for its features).
                    let mut head = Vec::new();
                    let _ = std::fs::File::open(&p)
                        .and_then(|f| std::io::Read::read_to_end(&mut f.take(64 << 10), &mut head));
                    if applies(&name, &head) != Some(kind) {
                        continue;
                    }
                    let rel = p.strip_prefix(benign).unwrap_or(&p);
                    let parts: Vec<_> = rel.iter().map(|s| s.to_string_lossy()).collect();
                    // usr/share/PACKAGE/…: one collection per application.
                    let pkg = parts.get(2).cloned().unwrap_or_default();
                    out.push((p.clone(), name, false, format!("debian:{pkg}")));
                }
            }
        }
    }
    out
}

/// Reads and featurises every file on all cores; feature ids are interned globally.
fn load(files: Vec<(PathBuf, String, bool, String)>) -> (Vec<Sample>, Vec<String>) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = files.len().div_ceil(threads).max(1);
    let parts: Vec<(Vec<Sample>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut names: Vec<String> = Vec::new();
                    let mut ids: HashMap<String, u32> = HashMap::new();
                    let mut out = Vec::new();
                    for (p, shown, black, group) in part {
                        let data = std::fs::read(p).unwrap_or_default();
                        let mut f = Vec::new();
                        visit_features(&data, &mut |t| {
                            let id = match ids.get(t) {
                                Some(&id) => id,
                                None => {
                                    names.push(t.to_string());
                                    ids.insert(t.to_string(), names.len() as u32 - 1);
                                    names.len() as u32 - 1
                                }
                            };
                            f.push(id);
                        });
                        f.sort_unstable();
                        f.dedup();
                        let heuristics = script_kind(shown, &data)
                            .map(|k| {
                                scan_script(k, &data)
                                    .iter()
                                    .filter(|h| h.severity >= Severity::Medium)
                                    .map(|h| h.check)
                                    .collect()
                            })
                            .unwrap_or_default();
                        out.push(Sample {
                            heuristics,
                            path: shown.clone(),
                            black: *black,
                            group: group.clone(),
                            features: f,
                        });
                    }
                    (out, names)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut names: Vec<String> = Vec::new();
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut samples = Vec::new();
    for (part, local) in parts {
        let map: Vec<u32> = local
            .into_iter()
            .map(|n| {
                *ids.entry(n.clone()).or_insert_with(|| {
                    names.push(n);
                    names.len() as u32 - 1
                })
            })
            .collect();
        for mut s in part {
            for f in &mut s.features {
                *f = map[*f as usize];
            }
            s.features.sort_unstable();
            samples.push(s);
        }
    }
    (samples, names)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Logistic regression by SGD on the samples `train` selects; returns (weights, bias).
fn train(samples: &[Sample], train: &[usize], n_features: usize) -> (Vec<f32>, f32) {
    // Features seen in enough files and in the webshells of several collections: a word
    // that only one collection uses is that collection's signature, and a word no webshell
    // uses only says which benign projects were in the training set.
    let mut df = vec![0u32; n_features];
    let mut black_groups: Vec<Vec<u32>> = vec![Vec::new(); n_features];
    let mut group_ids: HashMap<&str, u32> = HashMap::new();
    for &i in train {
        let g = group_ids.len() as u32;
        let g = *group_ids.entry(samples[i].group.as_str()).or_insert(g);
        for &f in &samples[i].features {
            df[f as usize] += 1;
            let bg = &mut black_groups[f as usize];
            if samples[i].black && bg.len() < MIN_BLACK_GROUPS && !bg.contains(&g) {
                bg.push(g);
            }
        }
    }
    let usable: Vec<bool> = (0..n_features)
        .map(|f| df[f] >= MIN_DF && black_groups[f].len() >= MIN_BLACK_GROUPS)
        .collect();
    let blacks = train.iter().filter(|&&i| samples[i].black).count().max(1) as f32;
    let whites = (train.len() as f32 - blacks).max(1.0);
    // Each class weighs the same in total; a collection weighs at most as much as a tenth of
    // its class, so one huge collection does not become the definition of a webshell.
    let mut group_size: HashMap<&str, f32> = HashMap::new();
    for &i in train {
        *group_size.entry(samples[i].group.as_str()).or_default() += 1.0;
    }
    let weight = |s: &Sample| {
        let class = if s.black { blacks } else { whites };
        let g = group_size[s.group.as_str()];
        let cap = (class / 10.0).max(1.0);
        let shrink = if g > cap { cap / g } else { 1.0 };
        (train.len() as f32 / (2.0 * class)) * shrink
    };
    let mut w = vec![0f32; n_features];
    let mut bias = 0f32;
    // The weights returned are the average over every step of the second half of training
    // (averaged SGD): the last few samples seen no longer decide the model, so adding or
    // removing one file moves the weights little.
    let mut sum_w = vec![0f64; n_features];
    let mut last = vec![0u64; n_features];
    let mut sum_bias = 0f64;
    let mut step = 0u64;
    let averaging_from = EPOCHS / 2;
    let mut order: Vec<usize> = train.to_vec();
    let mut rng = Rng(SEED);
    for epoch in 0..EPOCHS {
        for k in (1..order.len()).rev() {
            let j = (rng.next() % (k as u64 + 1)) as usize;
            order.swap(k, j);
        }
        let averaging = epoch >= averaging_from;
        if epoch == averaging_from {
            step = 0;
            last.iter_mut().for_each(|l| *l = 0);
        }
        let lr = 0.2 / (1.0 + epoch as f32);
        for &i in &order {
            let s = &samples[i];
            let z: f32 = bias
                + s.features
                    .iter()
                    .filter(|&&f| usable[f as usize])
                    .map(|&f| w[f as usize])
                    .sum::<f32>();
            let p = 1.0 / (1.0 + (-z.clamp(-30.0, 30.0)).exp());
            let g = (p - if s.black { 1.0 } else { 0.0 }) * weight(s);
            bias -= lr * g;
            for &f in &s.features {
                if usable[f as usize] {
                    let f = f as usize;
                    if averaging {
                        // The weight held its old value since it last changed.
                        sum_w[f] += f64::from(w[f]) * (step - last[f]) as f64;
                        last[f] = step;
                    }
                    let wf = &mut w[f];
                    *wf -= lr * (g + L2 * *wf);
                }
            }
            if averaging {
                step += 1;
                sum_bias += f64::from(bias);
            }
        }
    }
    let steps = step.max(1) as f64;
    for f in 0..n_features {
        sum_w[f] += f64::from(w[f]) * (step - last[f]) as f64;
    }
    let w = sum_w.iter().map(|&x| (x / steps) as f32).collect();
    (w, (sum_bias / steps) as f32)
}

fn score(s: &Sample, w: &[f32], bias: f32) -> f32 {
    bias + s.features.iter().map(|&f| w[f as usize]).sum::<f32>()
}

fn main() {
    let a = args();
    for lang in a.langs.clone() {
        let files = listing(&a, &lang);
        let (samples, names) = load(files);
        let flagged: HashSet<String> = a
            .flagged
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.join(format!("flag-{lang}.txt"))).ok())
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default();
        println!(
            "== {lang}: {} files ({} webshells), {} distinct features",
            samples.len(),
            samples.iter().filter(|s| s.black).count(),
            names.len()
        );
        let groups: Vec<String> = {
            let mut g: Vec<String> = samples.iter().map(|s| s.group.clone()).collect();
            g.sort();
            g.dedup();
            g
        };
        // Without cross-validation (--no-cv) the threshold already committed is kept.
        let mut chosen = a
            .write
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.join(format!("webshell-{lang}.tsv"))).ok())
            .and_then(|t| Model::parse(&t).ok())
            .map_or(3.0, |m| m.threshold);
        if !a.no_cv {
            // Leave one collection out: every file gets a score from a model that never saw
            // its collection.
            let mut held = vec![0f32; samples.len()];
            let mut why: Vec<String> = vec![String::new(); samples.len()];
            for g in &groups {
                let train_idx: Vec<usize> = (0..samples.len())
                    .filter(|&i| &samples[i].group != g)
                    .collect();
                let (w, b) = train(&samples, &train_idx, names.len());
                for (i, s) in samples.iter().enumerate() {
                    if &s.group == g {
                        held[i] = score(s, &w, b);
                        if a.misses {
                            let mut top: Vec<(f32, &str)> = s
                                .features
                                .iter()
                                .map(|&f| (w[f as usize], names[f as usize].as_str()))
                                .filter(|(x, _)| x.abs() > 0.3)
                                .collect();
                            top.sort_by(|x, y| y.0.abs().total_cmp(&x.0.abs()));
                            why[i] = top
                                .iter()
                                .take(8)
                                .map(|(x, n)| format!("{n}={x:.1}"))
                                .collect::<Vec<_>>()
                                .join(" ");
                        }
                    }
                }
            }
            let (black, white): (Vec<usize>, Vec<usize>) =
                (0..samples.len()).partition(|&i| samples[i].black);
            let ws_white: Vec<usize> = white
                .iter()
                .copied()
                .filter(|&i| !samples[i].group.starts_with("debian:"))
                .collect();
            let deb_white: Vec<usize> = white
                .iter()
                .copied()
                .filter(|&i| samples[i].group.starts_with("debian:"))
                .collect();
            let pct = |sel: &[usize], t: f32, with_rules: bool| {
                let n = sel
                    .iter()
                    .filter(|&&i| {
                        held[i] >= t
                            || (with_rules
                                && (flagged.contains(&samples[i].path)
                                    || !samples[i].heuristics.is_empty()))
                    })
                    .count();
                100.0 * n as f64 / sel.len().max(1) as f64
            };
            // The threshold: the lowest at which the held-out benign files (corpus and Debian
            // together) are flagged by the model at most once in a thousand.
            let thresholds: Vec<f32> = (-2..=20).map(|n| n as f32 / 2.0).collect();
            chosen = thresholds
                .iter()
                .copied()
                .find(|&t| pct(&white, t, false) <= 0.1)
                .unwrap_or(10.0);
            println!(
                "threshold  recall(model) recall(scan)  FP corpus(model/scan)  FP debian(model/scan)"
            );
            for &t in &thresholds {
                println!(
                    "  {t:5.1}{}   {:6.2}%      {:6.2}%       {:5.2}% / {:5.2}%        {:5.2}% / {:5.2}%",
                    if t == chosen { '*' } else { ' ' },
                    pct(&black, t, false),
                    pct(&black, t, true),
                    pct(&ws_white, t, false),
                    pct(&ws_white, t, true),
                    pct(&deb_white, t, false),
                    pct(&deb_white, t, true),
                );
            }
            let mut per_group: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
            for (i, s) in samples.iter().enumerate() {
                let e = per_group.entry(s.group.as_str()).or_default();
                e.0 += 1;
                e.1 += usize::from(held[i] >= chosen);
                e.2 += usize::from(
                    held[i] >= chosen || flagged.contains(&s.path) || !s.heuristics.is_empty(),
                );
            }
            println!(
                "held-out collection: files, flagged by the model (t={chosen}), by the whole scan"
            );
            for (g, (n, m, all)) in &per_group {
                println!("  {g:28} {n:6} {m:6} {all:6}");
            }
            println!("chosen threshold: {chosen}");
            if a.misses {
                for (i, s) in samples.iter().enumerate() {
                    let hit =
                        held[i] >= chosen || flagged.contains(&s.path) || !s.heuristics.is_empty();
                    if s.black != hit {
                        println!(
                            "  {} {:7.2} {} {} {:?} {}",
                            if s.black { "MISS" } else { "FP  " },
                            held[i],
                            s.group,
                            s.path,
                            s.heuristics,
                            why[i]
                        );
                    }
                }
            }
        }
        if let Some(out) = &a.write {
            let all: Vec<usize> = (0..samples.len()).collect();
            let (w, b) = train(&samples, &all, names.len());
            let mut m = Model {
                bias: b,
                threshold: chosen,
                ..Model::default()
            };
            for (f, &wf) in w.iter().enumerate() {
                if wf.abs() >= PRUNE {
                    m.weights
                        .insert(names[f].as_str().into(), (wf * 1000.0).round() / 1000.0);
                }
            }
            let header = format!(
                "Firewarden webshell model for {lang}: logistic regression, written by\n\
                 scripts/train-webshell-model.sh (seed {SEED:#x}, {EPOCHS} epochs). Do not edit by hand.\n\
                 Trained on {} files ({} webshells) in {} collections.",
                samples.len(),
                samples.iter().filter(|s| s.black).count(),
                groups.len()
            );
            let path = Path::new(out).join(format!("webshell-{lang}.tsv"));
            std::fs::write(&path, m.to_tsv(&header)).expect("write model");
            println!("wrote {} ({} weights)", path.display(), m.weights.len());
        }
    }
}
