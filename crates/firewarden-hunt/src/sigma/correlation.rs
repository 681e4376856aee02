//! Sigma correlation rules: `event_count`, `value_count`, `temporal` and `temporal_ordered`
//! over the matches of the rules they name, grouped by fields, inside a time span.

use super::rule::{self, Rule};
use crate::event::Event;
use firewarden_model::Severity;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use yaml_rust2::Yaml;

/// What a correlation counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Matches of the named rules per group and span.
    EventCount,
    /// Distinct values of a field per group and span.
    ValueCount,
    /// Every named rule matched in the span, in any order.
    Temporal,
    /// Every named rule matched in the span, in the order named.
    TemporalOrdered,
}

/// A comparison in a correlation condition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// `gt`
    Gt,
    /// `gte`
    Gte,
    /// `lt`
    Lt,
    /// `lte`
    Lte,
    /// `eq`
    Eq,
}

/// A loaded correlation rule.
#[derive(Debug, Clone)]
pub struct Correlation {
    /// `id`.
    pub id: String,
    /// `title`.
    pub title: String,
    /// `level`.
    pub level: Severity,
    /// `description`.
    pub description: String,
    /// ATT&CK techniques from the tags.
    pub attack: Vec<String>,
    /// What it counts.
    pub kind: Kind,
    /// The rules it correlates, by `name` or `id`.
    pub rules: Vec<String>,
    /// Fields whose values form a group.
    pub group_by: Vec<String>,
    /// The span, in microseconds.
    pub span_micros: i64,
    /// Count conditions (all must hold); empty for temporal kinds.
    pub condition: Vec<(Op, f64)>,
    /// The field whose distinct values `value_count` counts.
    pub value_field: Option<String>,
    /// Whether the named rules also report their own matches.
    pub generate: bool,
}

/// Parses `30s`, `5m`, `1h`, `2d`, `1w` into microseconds.
pub fn timespan(text: &str) -> Option<i64> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    n.checked_mul(secs)?.checked_mul(1_000_000)
}

fn text(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

fn list(v: &Yaml) -> Vec<String> {
    match v {
        Yaml::Array(items) => items.iter().filter_map(text).collect(),
        other => text(other).into_iter().collect(),
    }
}

/// Reads a correlation document.
pub fn parse(doc: &Yaml, path: &str) -> Result<Correlation, String> {
    let c = &doc["correlation"];
    let kind = match c["type"].as_str() {
        Some("event_count") => Kind::EventCount,
        Some("value_count") => Kind::ValueCount,
        Some("temporal") => Kind::Temporal,
        Some("temporal_ordered") => Kind::TemporalOrdered,
        Some(other) => return Err(format!("correlation type `{other}`")),
        None => return Err("correlation without a type".into()),
    };
    if !c["aliases"].is_badvalue() {
        return Err("correlation `aliases` (field renames across rules)".into());
    }
    let rules = list(&c["rules"]);
    if rules.is_empty() {
        return Err("correlation names no rules".into());
    }
    let span_text = c["timespan"]
        .as_str()
        .or_else(|| c["timeframe"].as_str())
        .ok_or("correlation without a timespan")?;
    let span_micros = timespan(span_text).ok_or_else(|| format!("timespan `{span_text}`"))?;
    let mut condition = Vec::new();
    let mut value_field = None;
    if let Some(h) = c["condition"].as_hash() {
        for (k, v) in h {
            let op = match k.as_str() {
                Some("gt") => Op::Gt,
                Some("gte") => Op::Gte,
                Some("lt") => Op::Lt,
                Some("lte") => Op::Lte,
                Some("eq") => Op::Eq,
                Some("field") => {
                    value_field = v.as_str().map(str::to_owned);
                    continue;
                }
                other => return Err(format!("correlation condition `{other:?}`")),
            };
            let n = v
                .as_i64()
                .map(|i| i as f64)
                .or_else(|| v.as_f64())
                .ok_or("correlation condition needs a number")?;
            condition.push((op, n));
        }
    }
    match kind {
        Kind::EventCount | Kind::ValueCount if condition.is_empty() => {
            return Err("count correlation without a condition".into());
        }
        Kind::ValueCount if value_field.is_none() => {
            return Err("value_count correlation without `field`".into());
        }
        _ => {}
    }
    let tags: Vec<String> = list(&doc["tags"]);
    let stem = std::path::Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Correlation {
        id: doc["id"].as_str().map_or(stem, str::to_owned),
        title: doc["title"].as_str().unwrap_or("").to_owned(),
        level: rule::level(doc["level"].as_str().unwrap_or("")),
        description: doc["description"].as_str().unwrap_or("").trim().to_owned(),
        attack: tags.iter().filter_map(|t| rule::technique(t)).collect(),
        kind,
        rules,
        group_by: list(&c["group-by"]),
        span_micros,
        condition,
        value_field,
        generate: c["generate"].as_bool().unwrap_or(false),
    })
}

/// A correlation that fired: its events, oldest first, and the group they share.
#[derive(Debug, Clone)]
pub struct Fired {
    /// Index into the correlations.
    pub correlation: usize,
    /// The events inside the span.
    pub events: Vec<Arc<Event>>,
    /// `field=value` of the group.
    pub group: Vec<(String, String)>,
    /// The count that met the condition (events or distinct values).
    pub count: usize,
}

fn holds(cond: &[(Op, f64)], n: usize) -> bool {
    let n = n as f64;
    cond.iter().all(|(op, v)| match op {
        Op::Gt => n > *v,
        Op::Gte => n >= *v,
        Op::Lt => n < *v,
        Op::Lte => n <= *v,
        Op::Eq => n == *v,
    })
}

fn field_value(ev: &Event, name: &str) -> String {
    ev.get(name)
        .or_else(|| {
            ev.fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
                .map(|f| &*f.value)
        })
        .unwrap_or("")
        .to_owned()
}

/// Whether `rule` is the one `reference` names (by `name` or `id`).
pub fn names(rule: &Rule, reference: &str) -> bool {
    rule.id == reference || rule.name.as_deref() == Some(reference)
}

/// Runs every correlation over the Sigma matches `(rule index, event)`.
pub fn run(correlations: &[Correlation], rules: &[Rule], hits: &[(u32, Arc<Event>)]) -> Vec<Fired> {
    let mut fired = Vec::new();
    for (ci, c) in correlations.iter().enumerate() {
        // Which of the correlation's references each rule answers to.
        let refs: Vec<Option<usize>> = rules
            .iter()
            .map(|r| c.rules.iter().position(|n| names(r, n)))
            .collect();
        let mut groups: BTreeMap<Vec<String>, Vec<(usize, &Arc<Event>)>> = BTreeMap::new();
        for (r, ev) in hits {
            if let Some(Some(which)) = refs.get(*r as usize) {
                let key = c.group_by.iter().map(|g| field_value(ev, g)).collect();
                groups.entry(key).or_default().push((*which, ev));
            }
        }
        for (key, mut evs) in groups {
            // A time window cannot hold an event whose time is unknown.
            evs.retain(|(_, e)| e.time_known);
            evs.sort_by_key(|(_, e)| (e.time_micros, e.file, e.record_id));
            let group: Vec<(String, String)> = c.group_by.iter().cloned().zip(key).collect();
            let mut push = |window: &[(usize, &Arc<Event>)], count: usize| {
                fired.push(Fired {
                    correlation: ci,
                    events: window.iter().map(|(_, e)| Arc::clone(e)).collect(),
                    group: group.clone(),
                    count,
                });
            };
            let mut start = 0;
            let mut end = 0;
            while end < evs.len() {
                while evs[end].1.time_micros - evs[start].1.time_micros > c.span_micros {
                    start += 1;
                }
                let window = &evs[start..=end];
                let count = match c.kind {
                    Kind::EventCount => Some(window.len()),
                    Kind::ValueCount => {
                        let field = c.value_field.as_deref().unwrap_or("");
                        let distinct: HashSet<String> =
                            window.iter().map(|(_, e)| field_value(e, field)).collect();
                        Some(distinct.len())
                    }
                    Kind::Temporal => {
                        let seen: HashSet<usize> = window.iter().map(|(w, _)| *w).collect();
                        (seen.len() == c.rules.len()).then_some(seen.len())
                    }
                    Kind::TemporalOrdered => {
                        let mut want = 0;
                        for (w, _) in window {
                            if *w == want {
                                want += 1;
                                if want == c.rules.len() {
                                    break;
                                }
                            }
                        }
                        (want == c.rules.len()).then_some(want)
                    }
                };
                let met = match (c.kind, count) {
                    (Kind::EventCount | Kind::ValueCount, Some(n)) => holds(&c.condition, n),
                    (_, Some(_)) => true,
                    _ => false,
                };
                if met {
                    push(window, count.unwrap_or(0));
                    // The next firing needs fresh events.
                    start = end + 1;
                    end = start;
                    continue;
                }
                end += 1;
            }
        }
    }
    fired
}
