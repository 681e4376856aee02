//! The Sigma engine: loads rule files, says which it cannot run and why, and matches events
//! against only the rules that can apply to them (indexed by channel and event id).

pub mod condition;
pub mod correlation;
pub mod logsource;
pub mod rule;
pub mod value;

use crate::event::{Event, Slots};
use crate::fields::{FieldId, FieldTable};
use crate::parallel::map_in_parallel;
use aho_corasick::AhoCorasick;
use rule::Gate;
pub use rule::Rule;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use yaml_rust2::{Yaml, YamlLoader};

/// A rule file (or document) that was not loaded, and exactly why (the report's own type).
pub use firewarden_model::hunt::UnloadedRule as Unloaded;

/// What loading found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    /// Rule files read.
    pub files: usize,
    /// Rules loaded.
    pub loaded: usize,
    /// Rules not loaded, each with its reason.
    pub unloaded: Vec<Unloaded>,
}

impl LoadReport {
    /// Reasons with how many rules each stopped, most first.
    pub fn reasons(&self) -> Vec<(String, usize)> {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for u in &self.unloaded {
            *counts.entry(u.reason.clone()).or_default() += 1;
        }
        let mut v: Vec<_> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

/// Rules for one index key. Rules with a literal gate are only evaluated when one of their
/// literals occurs in the gated field; the others always are.
#[derive(Debug, Default)]
struct Bucket {
    always: Vec<u32>,
    gates: Vec<GateGroup>,
}

/// One field's literals across a bucket's rules, searched in one pass.
#[derive(Debug)]
struct GateGroup {
    ids: Vec<FieldId>,
    literals: Vec<String>,
    /// Built on the first event of the bucket (many buckets never see one).
    automaton: value::Lazy<Option<AhoCorasick>>,
    /// Pattern index → rules it opens.
    owners: Vec<Vec<u32>>,
}

impl Bucket {
    fn build(members: &[u32], gates: &[Option<Gate>]) -> Bucket {
        let mut b = Bucket::default();
        // ids → (literal → pattern index, literals, owners)
        type Group = (HashMap<String, usize>, Vec<String>, Vec<Vec<u32>>);
        let mut groups: Vec<(Vec<FieldId>, Group)> = Vec::new();
        for &r in members {
            let Some(gate) = &gates[r as usize] else {
                b.always.push(r);
                continue;
            };
            for (ids, lit) in gate {
                let gi = match groups.iter().position(|(g, _)| g == ids) {
                    Some(i) => i,
                    None => {
                        groups.push((ids.clone(), Default::default()));
                        groups.len() - 1
                    }
                };
                let (index, lits, owners) = &mut groups[gi].1;
                let p = *index.entry(lit.clone()).or_insert_with(|| {
                    lits.push(lit.clone());
                    owners.push(Vec::new());
                    lits.len() - 1
                });
                if owners[p].last() != Some(&r) {
                    owners[p].push(r);
                }
            }
        }
        for (ids, (_, literals, owners)) in groups {
            b.gates.push(GateGroup {
                ids,
                literals,
                automaton: value::Lazy::new(),
                owners,
            });
        }
        b.always.sort_unstable();
        b.always.dedup();
        b
    }
}

#[derive(Debug, Default)]
struct Index {
    /// `(lower-case channel, event id)` → rules.
    exact: HashMap<(Box<str>, u32), Bucket>,
    /// Lower-case channel → rules for every id of it.
    channel: HashMap<Box<str>, Bucket>,
    /// Event id on any channel → rules.
    id_anywhere: HashMap<u32, Bucket>,
    /// Rules for every event.
    anywhere: Bucket,
}

/// Per-thread scratch for matching: field slots and the candidate set.
#[derive(Debug, Clone)]
pub struct Scratch {
    slots: Slots,
    /// Per rule: the epoch in which it last became a candidate.
    seen: Vec<u32>,
    epoch: u32,
    candidates: Vec<u32>,
}

/// Loaded, compiled and indexed rules.
#[derive(Debug, Default)]
pub struct RuleSet {
    /// The rules, in load order.
    pub rules: Vec<Rule>,
    /// Field numbering shared with the events.
    pub fields: FieldTable,
    /// Correlation rules, run over the other rules' matches after the hunt.
    pub correlations: Vec<correlation::Correlation>,
    /// What loaded and what did not.
    pub report: LoadReport,
    index: Index,
}

/// A compiled document: a rule or a correlation.
enum Compiled {
    Rule(Rule),
    Correlation(correlation::Correlation),
}

impl RuleSet {
    /// Loads every rule file under `dirs`. Unreadable files and unsupported rules are listed
    /// in [`RuleSet::report`], never skipped silently.
    pub fn load(dirs: &[PathBuf], threads: usize) -> std::io::Result<RuleSet> {
        // A rule directory that is not there is an error (a typo must not pass as a clean
        // hunt); inside it, unreadable parts become unloaded entries.
        for d in dirs {
            std::fs::symlink_metadata(d)?;
        }
        let (files, walk_problems) = crate::reader::files_with_extensions(dirs, &["yml", "yaml"]);
        let texts = map_in_parallel(files, threads, |p| {
            let text = std::fs::read(&p)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|e| e.to_string());
            (p.display().to_string(), text)
        });
        let mut report = LoadReport::default();
        report
            .unloaded
            .extend(walk_problems.into_iter().map(|reason| Unloaded {
                path: String::new(),
                id: None,
                title: None,
                reason,
            }));
        let mut sources = Vec::new();
        for (path, text) in texts {
            match text {
                Ok(t) => sources.push((path, t)),
                Err(e) => {
                    report.files += 1;
                    report.unloaded.push(Unloaded {
                        path,
                        id: None,
                        title: None,
                        reason: format!("cannot read: {e}"),
                    });
                }
            }
        }
        let mut set = RuleSet::from_sources(sources, threads);
        set.report.files += report.files;
        set.report.unloaded.extend(report.unloaded);
        Ok(set)
    }

    /// Compiles rules from `(name, YAML text)` pairs.
    pub fn from_sources(sources: Vec<(String, String)>, threads: usize) -> RuleSet {
        let files = sources.len();
        // Pass 1, parallel: YAML parsing, the costly part.
        let parsed = map_in_parallel(sources, threads, |(path, text)| {
            let docs = YamlLoader::load_from_str(&text).map_err(|e| e.to_string());
            (path, docs)
        });
        // Pass 2: number every field name the rules use.
        let mut fields = FieldTable::default();
        for name in ["EventID", "Channel", "Provider_Name", "Computer"] {
            fields.intern(name);
        }
        let mut names = Vec::new();
        for (_, docs) in &parsed {
            if let Ok(docs) = docs {
                for d in docs {
                    rule::field_names(d, &mut names);
                }
            }
        }
        for n in &names {
            fields.intern(n);
        }
        // Pass 3, parallel: compile against the frozen table.
        let compiled = map_in_parallel(parsed, threads, |(path, docs)| {
            let docs = match docs {
                Ok(d) => d,
                Err(e) => {
                    return vec![Err(Unloaded {
                        path,
                        id: None,
                        title: None,
                        reason: format!("YAML error: {e}"),
                    })];
                }
            };
            docs.iter()
                .filter(|d| !matches!(d, Yaml::Null | Yaml::BadValue))
                .map(|d| {
                    if d["correlation"].is_badvalue() {
                        rule::compile(&fields, d, &path).map(Compiled::Rule)
                    } else {
                        correlation::parse(d, &path).map(Compiled::Correlation)
                    }
                    .map_err(|reason| Unloaded {
                        path: path.clone(),
                        id: d["id"].as_str().map(str::to_owned),
                        title: d["title"].as_str().map(str::to_owned),
                        reason,
                    })
                })
                .collect::<Vec<_>>()
        });
        let mut set = RuleSet {
            fields,
            ..RuleSet::default()
        };
        set.report.files = files;
        for r in compiled.into_iter().flatten() {
            match r {
                Ok(Compiled::Rule(rule)) => set.rules.push(rule),
                Ok(Compiled::Correlation(c)) => set.correlations.push(c),
                Err(u) => set.report.unloaded.push(u),
            }
        }
        // A correlation over rules that did not load would silently never fire.
        let rules = &set.rules;
        let (usable, broken): (Vec<_>, Vec<_>) = std::mem::take(&mut set.correlations)
            .into_iter()
            .partition(|c| {
                c.rules
                    .iter()
                    .all(|n| rules.iter().any(|r| correlation::names(r, n)))
            });
        set.correlations = usable;
        for c in broken {
            let missing: Vec<&str> = c
                .rules
                .iter()
                .filter(|n| !rules.iter().any(|r| correlation::names(r, n)))
                .map(String::as_str)
                .collect();
            set.report.unloaded.push(Unloaded {
                path: String::new(),
                id: Some(c.id.clone()),
                title: Some(c.title.clone()),
                reason: format!(
                    "correlation names rules that are not loaded: {}",
                    missing.join(", ")
                ),
            });
        }
        set.report.loaded = set.rules.len() + set.correlations.len();
        set.build_index();
        set
    }

    fn build_index(&mut self) {
        let event_id = self.fields.lookup("EventID");
        let mut exact: HashMap<(Box<str>, u32), Vec<u32>> = HashMap::new();
        let mut channel: HashMap<Box<str>, Vec<u32>> = HashMap::new();
        let mut id_anywhere: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut anywhere = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let i = i as u32;
            let required = rule.required_event_ids(event_id);
            if rule.target.sources.is_empty() {
                match &required {
                    Some(ids) => {
                        for id in ids {
                            id_anywhere.entry(*id).or_default().push(i);
                        }
                    }
                    None => anywhere.push(i),
                }
            }
            for (ch, ids) in &rule.target.sources {
                let key: Box<str> = ch.to_lowercase().into();
                let ids = if ids.is_empty() {
                    required.clone().unwrap_or_default()
                } else {
                    ids.clone()
                };
                if ids.is_empty() {
                    channel.entry(key).or_default().push(i);
                } else {
                    for id in ids {
                        exact.entry((key.clone(), id)).or_default().push(i);
                    }
                }
            }
        }
        let gates: Vec<Option<Gate>> = self.rules.iter().map(Rule::gate).collect();
        self.index = Index {
            exact: exact
                .into_iter()
                .map(|(k, v)| (k, Bucket::build(&v, &gates)))
                .collect(),
            channel: channel
                .into_iter()
                .map(|(k, v)| (k, Bucket::build(&v, &gates)))
                .collect(),
            id_anywhere: id_anywhere
                .into_iter()
                .map(|(k, v)| (k, Bucket::build(&v, &gates)))
                .collect(),
            anywhere: Bucket::build(&anywhere, &gates),
        };
    }

    /// Scratch for [`RuleSet::matches`], one per thread.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            slots: Slots::new(self.fields.len()),
            seen: vec![0; self.rules.len()],
            epoch: 0,
            candidates: Vec::new(),
        }
    }

    /// The rules `ev` matches, as indexes into [`RuleSet::rules`] (allocates scratch; for
    /// tests and one-off use).
    pub fn matching(&self, ev: &Event) -> Vec<u32> {
        let mut out = Vec::new();
        self.matches(ev, &mut self.scratch(), &mut out);
        out
    }

    /// Pushes the index of every rule `ev` matches onto `out`; returns how many rules were
    /// evaluated (after the literal gates).
    pub fn matches(&self, ev: &Event, scratch: &mut Scratch, out: &mut Vec<u32>) -> usize {
        let channel: Box<str> = ev.channel.to_lowercase().into();
        let buckets = [
            self.index.exact.get(&(channel.clone(), ev.event_id)),
            self.index.channel.get(&channel),
            self.index.id_anywhere.get(&ev.event_id),
            Some(&self.index.anywhere),
        ];
        let Scratch {
            slots,
            seen,
            epoch,
            candidates,
        } = scratch;
        *epoch = epoch.wrapping_add(1);
        if *epoch == 0 {
            seen.iter_mut().for_each(|s| *s = 0);
            *epoch = 1;
        }
        let epoch = *epoch;
        candidates.clear();
        slots.with(ev, |view| {
            let mut add = |r: u32| {
                if seen[r as usize] != epoch {
                    seen[r as usize] = epoch;
                    candidates.push(r);
                }
            };
            for b in buckets.into_iter().flatten() {
                b.always.iter().for_each(|&r| add(r));
                for g in &b.gates {
                    let Some(field) = g.ids.iter().find_map(|id| view.field(*id)) else {
                        continue;
                    };
                    match g
                        .automaton
                        .get_or_init(|| AhoCorasick::new(&g.literals).ok())
                    {
                        Some(automaton) => {
                            for m in automaton.find_overlapping_iter(field.lower()) {
                                g.owners[m.pattern().as_usize()]
                                    .iter()
                                    .for_each(|&r| add(r));
                            }
                        }
                        // Plain literals always build; if they did not, every gate opens
                        // (slower, never a lost detection).
                        None => g.owners.iter().flatten().for_each(|&r| add(r)),
                    }
                }
            }
            for &r in candidates.iter() {
                if self.rules[r as usize].matches(view) {
                    out.push(r);
                }
            }
            candidates.len()
        })
    }
}
