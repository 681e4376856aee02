//! One Sigma rule: its YAML read into metadata, a log-source target, compiled selections and a
//! condition tree.

use super::condition::{self, Cond};
use super::logsource::{self, Target};
use super::value::{self, Cmp, Kind, Network, Test, Unsupported, ValueSet, ValueTest};
use crate::event::EventView;
use crate::fields::{FieldId, FieldTable};
use firewarden_model::Severity;
use yaml_rust2::Yaml;

/// What one field condition checks.
#[derive(Debug, Clone)]
pub enum Check {
    /// The field's text passes the value set; `null_ok` also accepts a missing or empty field
    /// (a `null` among the values).
    Values {
        /// The tests.
        set: ValueSet,
        /// A `null` was among the values.
        null_ok: bool,
    },
    /// `field: null`: missing or empty.
    Null,
    /// `exists: true/false`.
    Exists(bool),
    /// Keywords under a key with no field name (`'|all': [...]`): each value is looked for in
    /// any field of the event.
    Keywords(ValueSet),
    /// `fieldref`: compares with another field of the same event.
    FieldRef {
        /// The other fields (any may match).
        others: Vec<Vec<FieldId>>,
        /// How the two are compared.
        kind: Kind,
        /// Compare with case.
        cased: bool,
    },
}

/// `field|modifiers: values`, compiled.
#[derive(Debug, Clone)]
pub struct FieldCond {
    /// The field and its aliases in other sources (first present wins).
    pub ids: Vec<FieldId>,
    /// What is checked.
    pub check: Check,
}

impl FieldCond {
    #[inline]
    fn matches(&self, ev: &EventView<'_>) -> bool {
        if let Check::Keywords(set) = &self.check {
            return keywords_match(set, ev);
        }
        let field = self.ids.iter().find_map(|id| ev.field(*id));
        match &self.check {
            Check::Keywords(_) => false,
            Check::Values { set, null_ok } => match field {
                Some(f) if f.value.is_empty() && *null_ok => true,
                Some(f) => set.matches(f),
                None => *null_ok,
            },
            Check::Null => field.is_none_or(|f| f.value.is_empty()),
            Check::Exists(want) => field.is_some() == *want,
            Check::FieldRef {
                others,
                kind,
                cased,
            } => {
                let Some(f) = field else { return false };
                others.iter().any(|ids| {
                    let Some(o) = ids.iter().find_map(|id| ev.field(*id)) else {
                        return false;
                    };
                    let (a, b) = if *cased {
                        (&*f.value, &*o.value)
                    } else {
                        (f.lower(), o.lower())
                    };
                    match kind {
                        Kind::Equals => a == b,
                        Kind::Contains => a.contains(b),
                        Kind::StartsWith => a.starts_with(b),
                        Kind::EndsWith => a.ends_with(b),
                    }
                })
            }
        }
    }
}

/// Keywords: with `all`, every value must occur in some field (not necessarily the same one);
/// otherwise any value in any field.
fn keywords_match(set: &ValueSet, ev: &EventView<'_>) -> bool {
    let fields = &ev.event.fields;
    match set {
        ValueSet::All(groups) => groups.iter().all(|g| fields.iter().any(|f| g.matches(f))),
        other => fields.iter().any(|f| other.matches(f)),
    }
}

/// One detection identifier, compiled.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Any of these maps; within a map every condition must hold.
    Maps(Vec<Vec<FieldCond>>),
    /// Keywords: any field's text passes.
    Keywords(ValueSet),
}

impl Selection {
    #[inline]
    fn matches(&self, ev: &EventView<'_>) -> bool {
        match self {
            Selection::Maps(maps) => maps.iter().any(|m| m.iter().all(|c| c.matches(ev))),
            Selection::Keywords(set) => keywords_match(set, ev),
        }
    }
}

/// A loaded Sigma rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `id` (a UUID in SigmaHQ), or the file stem when missing.
    pub id: String,
    /// `title`.
    pub title: String,
    /// `name`, by which correlation rules may refer to it.
    pub name: Option<String>,
    /// `level` as a severity.
    pub level: Severity,
    /// `status` (`stable`, `test`, `experimental`…).
    pub status: String,
    /// `description`.
    pub description: String,
    /// ATT&CK technique ids from the tags (`attack.t1059.001` → `T1059.001`).
    pub attack: Vec<String>,
    /// Every tag as written.
    pub tags: Vec<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// File the rule came from.
    pub path: String,
    /// Which events it applies to.
    pub target: Target,
    /// Detection identifiers in file order.
    pub names: Vec<String>,
    selections: Vec<Selection>,
    condition: Cond,
}

impl Rule {
    /// Whether `ev` matches (the caller has already checked the target).
    #[inline]
    pub fn matches(&self, ev: &EventView<'_>) -> bool {
        self.condition.eval(&mut |i| self.selections[i].matches(ev))
    }

    /// The rule's literal gate, when it has one (see [`Gate`]).
    pub fn gate(&self) -> Option<Gate> {
        cond_gate(&self.condition, &self.selections)
    }

    /// Event ids the rule can only fire on, read from an `EventID` condition that every match
    /// needs (used to index the rule more narrowly than its log source).
    pub fn required_event_ids(&self, event_id: FieldId) -> Option<Vec<u32>> {
        let needed: Vec<usize> = match &self.condition {
            Cond::Sel(i) => vec![*i],
            Cond::And(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    Cond::Sel(i) => Some(*i),
                    _ => None,
                })
                .collect(),
            _ => vec![],
        };
        for i in needed {
            let Selection::Maps(maps) = &self.selections[i] else {
                continue;
            };
            let mut all: Vec<u32> = Vec::new();
            let mut every_map_has_ids = !maps.is_empty();
            for m in maps {
                let ids = m.iter().find_map(|c| {
                    if !c.ids.contains(&event_id) {
                        return None;
                    }
                    let Check::Values {
                        set: ValueSet::Any(tests),
                        null_ok: false,
                    } = &c.check
                    else {
                        return None;
                    };
                    tests
                        .iter()
                        .map(|t| match &t.test {
                            Test::Eq(s) => s.parse::<u32>().ok(),
                            _ => None,
                        })
                        .collect::<Option<Vec<u32>>>()
                });
                match ids {
                    Some(ids) => all.extend(ids),
                    None => every_map_has_ids = false,
                }
            }
            if every_map_has_ids && !all.is_empty() {
                all.sort_unstable();
                all.dedup();
                return Some(all);
            }
        }
        None
    }
}

/// Shortest literal worth gating on: shorter ones (`-`, ` /c`) occur in nearly every value.
const MIN_GATE_LITERAL: usize = 3;

/// A necessary condition of a rule: if the rule matches, at least one of these fields contains
/// its literal (lower-case). The rule index runs one automaton per field over all literals and
/// evaluates only the rules whose gate opened.
pub type Gate = Vec<(Vec<FieldId>, String)>;

fn strength(g: &Gate) -> (usize, std::cmp::Reverse<usize>) {
    (
        g.iter().map(|(_, l)| l.len()).min().unwrap_or(0),
        std::cmp::Reverse(g.len()),
    )
}

impl Selection {
    fn gate(&self) -> Option<Gate> {
        let Selection::Maps(maps) = self else {
            return None;
        };
        let mut all = Gate::new();
        for m in maps {
            let best = m
                .iter()
                .filter_map(|c| match &c.check {
                    Check::Values {
                        set,
                        null_ok: false,
                    } => {
                        let lits = set.literals()?;
                        if lits.is_empty() || lits.iter().any(|l| l.len() < MIN_GATE_LITERAL) {
                            return None;
                        }
                        Some(
                            lits.into_iter()
                                .map(|l| (c.ids.clone(), l))
                                .collect::<Gate>(),
                        )
                    }
                    _ => None,
                })
                .max_by_key(strength)?;
            all.extend(best);
        }
        (!all.is_empty()).then_some(all)
    }
}

fn cond_gate(c: &Cond, selections: &[Selection]) -> Option<Gate> {
    match c {
        Cond::Sel(i) => selections[*i].gate(),
        Cond::Not(_) => None,
        Cond::And(parts) => parts
            .iter()
            .filter_map(|p| cond_gate(p, selections))
            .max_by_key(strength),
        Cond::Or(parts) => {
            let mut all = Gate::new();
            for p in parts {
                all.extend(cond_gate(p, selections)?);
            }
            Some(all)
        }
    }
}

/// Names every field a rule's detection uses (with aliases), so they can be numbered before
/// rules are compiled in parallel.
pub fn field_names(doc: &Yaml, out: &mut Vec<String>) {
    let Some(det) = doc["detection"].as_hash() else {
        return;
    };
    let mut add_map = |m: &yaml_rust2::yaml::Hash| {
        for (k, v) in m {
            if let Some(k) = k.as_str() {
                let mut parts = k.split('|');
                let field = parts.next().unwrap_or("");
                if !field.is_empty() {
                    out.push(field.to_owned());
                }
                if parts.any(|m| m == "fieldref") {
                    for v in as_list(v) {
                        if let Some(s) = v.as_str() {
                            out.push(s.to_owned());
                        }
                    }
                }
            }
        }
    };
    for (k, v) in det {
        if k.as_str() == Some("condition") {
            continue;
        }
        match v {
            Yaml::Hash(m) => add_map(m),
            Yaml::Array(items) => {
                for i in items {
                    if let Yaml::Hash(m) = i {
                        add_map(m);
                    }
                }
            }
            _ => {}
        }
    }
    for (_, other) in logsource::all_aliases() {
        out.push((*other).to_owned());
    }
}

fn as_list(v: &Yaml) -> Vec<&Yaml> {
    match v {
        Yaml::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn scalar_text(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn str_field(doc: &Yaml, key: &str) -> String {
    doc[key].as_str().unwrap_or("").trim().to_owned()
}

fn str_list(doc: &Yaml, key: &str) -> Vec<String> {
    as_list(&doc[key])
        .into_iter()
        .filter_map(scalar_text)
        .collect()
}

/// Sigma `level` → severity (`informational` → info).
pub fn level(text: &str) -> Severity {
    match text.to_ascii_lowercase().as_str() {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "medium" => Severity::Medium,
        "low" => Severity::Low,
        _ => Severity::Info,
    }
}

/// `attack.t1059.001` → `T1059.001`; tactic tags are not techniques.
pub fn technique(tag: &str) -> Option<String> {
    let t = tag.strip_prefix("attack.")?;
    let rest = t.strip_prefix('t').or_else(|| t.strip_prefix('T'))?;
    rest.bytes()
        .next()
        .filter(u8::is_ascii_digit)
        .map(|_| format!("T{}", rest.to_ascii_uppercase()))
}

struct Modifiers {
    kind: Kind,
    all: bool,
    cased: bool,
    re: Option<(bool, bool, bool)>,
    cidr: bool,
    num: Option<Cmp>,
    exists: bool,
    fieldref: bool,
    windash: bool,
    utf16: Option<(bool, bool)>,
    base64: bool,
    base64offset: bool,
}

fn modifiers(names: &[&str]) -> Result<Modifiers, Unsupported> {
    let mut m = Modifiers {
        kind: Kind::Equals,
        all: false,
        cased: false,
        re: None,
        cidr: false,
        num: None,
        exists: false,
        fieldref: false,
        windash: false,
        utf16: None,
        base64: false,
        base64offset: false,
    };
    for &n in names {
        match n {
            "contains" => m.kind = Kind::Contains,
            "startswith" => m.kind = Kind::StartsWith,
            "endswith" => m.kind = Kind::EndsWith,
            "all" => m.all = true,
            "cased" => m.cased = true,
            "re" => m.re = Some((false, false, false)),
            "i" | "ignorecase" if m.re.is_some() => m.re.as_mut().map(|f| f.0 = true).unwrap_or(()),
            "m" | "multiline" if m.re.is_some() => m.re.as_mut().map(|f| f.1 = true).unwrap_or(()),
            "s" | "dotall" if m.re.is_some() => m.re.as_mut().map(|f| f.2 = true).unwrap_or(()),
            "cidr" => m.cidr = true,
            "lt" => m.num = Some(Cmp::Lt),
            "lte" => m.num = Some(Cmp::Lte),
            "gt" => m.num = Some(Cmp::Gt),
            "gte" => m.num = Some(Cmp::Gte),
            "exists" => m.exists = true,
            "fieldref" => m.fieldref = true,
            "windash" => m.windash = true,
            "utf16le" | "wide" => m.utf16 = Some((false, false)),
            "utf16be" => m.utf16 = Some((true, false)),
            "utf16" => m.utf16 = Some((false, true)),
            "base64" => m.base64 = true,
            "base64offset" => m.base64offset = true,
            "expand" => {
                return Err("modifier `expand` (needs placeholder values from a \
                            processing pipeline, which this rule set does not provide)"
                    .into());
            }
            other => return Err(format!("unknown modifier `{other}`")),
        }
    }
    Ok(m)
}

/// The ids of a field and its aliases for this rule's sources.
fn field_ids(table: &FieldTable, name: &str, target: &Target) -> Vec<FieldId> {
    let mut ids = vec![table.lookup(name)];
    for (sigma, other) in &target.aliases {
        if sigma.eq_ignore_ascii_case(name) {
            ids.push(table.lookup(other));
        }
    }
    ids
}

fn compile_field(
    table: &FieldTable,
    key: &str,
    value: &Yaml,
    target: &Target,
) -> Result<FieldCond, Unsupported> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or("");
    let mods: Vec<&str> = parts.collect();
    let m = modifiers(&mods)?;
    let ids = field_ids(table, field, target);
    if field.is_empty() {
        // `'|all': [a, b]` or `'|contains': …`: keywords with modifiers.
        let mut m = m;
        if m.kind == Kind::Equals {
            m.kind = Kind::Contains;
        }
        let groups = as_list(value)
            .into_iter()
            .map(|v| {
                let text = scalar_text(v).ok_or_else(|| format!("`{key}` needs text values"))?;
                value_tests(&text, &m)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let set = if m.all {
            ValueSet::All(groups.into_iter().map(ValueSet::any).collect())
        } else {
            ValueSet::any(groups.into_iter().flatten().collect())
        };
        return Ok(FieldCond {
            ids: Vec::new(),
            check: Check::Keywords(set),
        });
    }
    if m.exists {
        return match value {
            Yaml::Boolean(b) => Ok(FieldCond {
                ids,
                check: Check::Exists(*b),
            }),
            _ => Err(format!("`{key}` needs true or false")),
        };
    }
    if m.fieldref {
        let others = as_list(value)
            .into_iter()
            .filter_map(|v| v.as_str())
            .map(|o| field_ids(table, o, target))
            .collect();
        return Ok(FieldCond {
            ids,
            check: Check::FieldRef {
                others,
                kind: m.kind,
                cased: m.cased,
            },
        });
    }
    if matches!(value, Yaml::Null) {
        return Ok(FieldCond {
            ids,
            check: Check::Null,
        });
    }
    let mut null_ok = false;
    let mut groups: Vec<Vec<ValueTest>> = Vec::new();
    for v in as_list(value) {
        if matches!(v, Yaml::Null) {
            null_ok = true;
            continue;
        }
        let Some(text) = scalar_text(v) else {
            return Err(format!(
                "`{key}` has a value that is neither text nor a number"
            ));
        };
        groups.push(value_tests(&text, &m)?);
    }
    let set = if m.all {
        ValueSet::All(groups.into_iter().map(ValueSet::any).collect())
    } else {
        ValueSet::any(groups.into_iter().flatten().collect())
    };
    Ok(FieldCond {
        ids,
        check: Check::Values { set, null_ok },
    })
}

/// The tests one value stands for after its modifiers (several with `windash` or
/// `base64offset`; any of them may match).
fn value_tests(text: &str, m: &Modifiers) -> Result<Vec<ValueTest>, Unsupported> {
    if let Some((i, ml, s)) = m.re {
        return Ok(vec![value::regex_test(text, i, ml, s)?]);
    }
    if m.cidr {
        let net = Network::parse(text).ok_or_else(|| format!("bad cidr `{text}`"))?;
        return Ok(vec![ValueTest {
            test: Test::Cidr(vec![net]),
            cased: false,
        }]);
    }
    if let Some(cmp) = m.num {
        let n: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("`{text}` is not a number"))?;
        return Ok(vec![ValueTest {
            test: Test::Num(cmp, n),
            cased: false,
        }]);
    }
    let variants = if m.windash {
        value::windash(text)
    } else {
        vec![text.to_owned()]
    };
    let mut tests = Vec::new();
    for v in variants {
        let encoded = m.utf16.is_some() || m.base64 || m.base64offset;
        if !encoded {
            tests.push(value::string_test(&v, m.kind, m.cased, false));
            continue;
        }
        let bytes = match m.utf16 {
            Some((be, bom)) => value::utf16(&v, be, bom),
            None => v.into_bytes(),
        };
        let texts = if m.base64offset {
            value::base64_offsets(&bytes)
        } else if m.base64 {
            vec![value::base64(&bytes)]
        } else {
            vec![String::from_utf8_lossy(&bytes).into_owned()]
        };
        // Encoded text is case-sensitive by nature: base64 of "A" is not base64 of "a".
        for t in texts {
            tests.push(value::string_test(&t, m.kind, true, true));
        }
    }
    Ok(tests)
}

fn compile_selection(
    table: &FieldTable,
    value: &Yaml,
    target: &Target,
) -> Result<Selection, Unsupported> {
    let map = |m: &yaml_rust2::yaml::Hash| -> Result<Vec<FieldCond>, Unsupported> {
        m.iter()
            .map(|(k, v)| {
                let key = scalar_text(k).ok_or("a detection key that is not text")?;
                compile_field(table, &key, v, target)
            })
            .collect()
    };
    match value {
        Yaml::Hash(m) => Ok(Selection::Maps(vec![map(m)?])),
        Yaml::Array(items) if items.iter().all(|i| matches!(i, Yaml::Hash(_))) => {
            Ok(Selection::Maps(
                items
                    .iter()
                    .filter_map(Yaml::as_hash)
                    .map(map)
                    .collect::<Result<_, _>>()?,
            ))
        }
        Yaml::Array(items) => {
            let words: Option<Vec<String>> = items.iter().map(scalar_text).collect();
            let words = words.ok_or("a keyword list that mixes text and maps")?;
            Ok(Selection::Keywords(keywords(&words)))
        }
        other => match scalar_text(other) {
            Some(w) => Ok(Selection::Keywords(keywords(&[w]))),
            None => Err("an empty detection identifier".into()),
        },
    }
}

/// Keywords search every field's text for the words, ignoring case.
fn keywords(words: &[String]) -> ValueSet {
    ValueSet::any(
        words
            .iter()
            .map(|w| value::string_test(w, Kind::Contains, false, false))
            .collect(),
    )
}

/// Reads and compiles one rule document.
pub fn compile(table: &FieldTable, doc: &Yaml, path: &str) -> Result<Rule, Unsupported> {
    let ls = &doc["logsource"];
    let target = logsource::target(
        ls["product"].as_str(),
        ls["category"].as_str(),
        ls["service"].as_str(),
    )?;
    let det = doc["detection"].as_hash().ok_or("no detection section")?;
    let mut names = Vec::new();
    let mut selections = Vec::new();
    for (k, v) in det {
        let Some(name) = k.as_str() else { continue };
        if name == "condition" || name == "timeframe" {
            continue;
        }
        names.push(name.to_owned());
        selections.push(compile_selection(table, v, &target)?);
    }
    let conditions: Vec<String> = as_list(&det[&Yaml::String("condition".into())])
        .into_iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    if conditions.is_empty() {
        return Err("no condition".into());
    }
    let mut parsed = conditions
        .iter()
        .map(|c| condition::parse(c, &names))
        .collect::<Result<Vec<_>, _>>()?;
    let condition = if parsed.len() == 1 {
        parsed.remove(0)
    } else {
        Cond::Or(parsed)
    };
    let tags = str_list(doc, "tags");
    let stem = std::path::Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let id = match str_field(doc, "id") {
        s if s.is_empty() => stem,
        s => s,
    };
    Ok(Rule {
        id,
        title: str_field(doc, "title"),
        name: doc["name"].as_str().map(str::to_owned),
        level: level(&str_field(doc, "level")),
        status: str_field(doc, "status"),
        description: str_field(doc, "description"),
        attack: tags.iter().filter_map(|t| technique(t)).collect(),
        tags,
        falsepositives: str_list(doc, "falsepositives"),
        path: path.to_owned(),
        target,
        names,
        selections,
        condition,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Slots};
    use crate::fields::FieldTable;
    use serde_json::json;
    use yaml_rust2::YamlLoader;

    fn rule(yaml: &str) -> (Rule, FieldTable) {
        let doc = YamlLoader::load_from_str(yaml).unwrap().remove(0);
        let mut names = Vec::new();
        field_names(&doc, &mut names);
        let mut table = FieldTable::default();
        for n in &names {
            table.intern(n);
        }
        (compile(&table, &doc, "t.yml").unwrap(), table)
    }

    fn hit(r: &Rule, t: &FieldTable, ev: &Event) -> bool {
        Slots::new(t.len()).with(ev, |v| r.matches(v))
    }

    fn event(table: &FieldTable, data: serde_json::Value) -> Event {
        Event::from_json(
            table,
            0,
            &json!({"Event": {"System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational"}, "EventData": data}}),
        )
        .unwrap()
    }

    #[test]
    fn selection_filter_and_modifiers() {
        let (r, t) = rule(
            r#"
title: t
id: 1
level: high
tags: [attack.execution, attack.t1059.001]
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\powershell.exe'
    CommandLine|contains|all: ['-enc', 'hidden']
  filter:
    ParentImage: 'C:\Windows\System32\svchost.exe'
  condition: selection and not filter
"#,
        );
        assert_eq!(r.attack, vec!["T1059.001"]);
        assert_eq!(r.level, Severity::High);
        let found = event(
            &t,
            json!({"Image": "C:\\X\\PowerShell.exe", "CommandLine": "powershell -ENC aa -w HIDDEN", "ParentImage": "c:\\x.exe"}),
        );
        assert!(hit(&r, &t, &found));
        let filtered = event(
            &t,
            json!({"Image": "C:\\X\\PowerShell.exe", "CommandLine": "powershell -ENC aa -w HIDDEN", "ParentImage": "C:\\windows\\system32\\svchost.exe"}),
        );
        assert!(!hit(&r, &t, &filtered));
        let half = event(
            &t,
            json!({"Image": "C:\\X\\PowerShell.exe", "CommandLine": "powershell -ENC aa"}),
        );
        assert!(!hit(&r, &t, &half));
    }

    #[test]
    fn security_4688_uses_aliases() {
        let (r, t) = rule(
            r#"
title: t
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\whoami.exe'}
  condition: sel
"#,
        );
        let ev = Event::from_json(
            &t,
            0,
            &json!({"Event": {"System": {"EventID": 4688, "Channel": "Security"}, "EventData": {"NewProcessName": "C:\\Windows\\System32\\whoami.exe"}}}),
        )
        .unwrap();
        assert!(hit(&r, &t, &ev));
    }

    #[test]
    fn null_exists_keywords_windash_fieldref_and_required_ids() {
        let (r, t) = rule(
            r#"
title: t
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: [4624, 4625]
    TargetUserName|fieldref: SubjectUserName
    Missing: null
    Present|exists: true
    Cmd|windash|contains: ' -s '
  kw: [mimikatz]
  condition: sel or kw
"#,
        );
        let id = t.lookup("EventID");
        assert_eq!(r.required_event_ids(id), None, "`or kw` means any id");
        let ev = Event::from_json(&t, 0, &json!({"Event": {"System": {"EventID": 4624, "Channel": "Security"},
            "EventData": {"TargetUserName": "Bob", "SubjectUserName": "bob", "Present": "", "Cmd": "x /s y"}}})).unwrap();
        assert!(hit(&r, &t, &ev));
        let kw = Event::from_json(
            &t,
            0,
            &json!({"Event": {"System": {"EventID": 1, "Channel": "Security"},
            "EventData": {"Other": "ran MimiKatz.exe"}}}),
        )
        .unwrap();
        assert!(hit(&r, &t, &kw));
        let (r2, t2) = rule(
            r#"
title: t
logsource: {product: windows, service: security}
detection:
  sel: {EventID: [4624, 4625]}
  condition: sel
"#,
        );
        assert_eq!(
            r2.required_event_ids(t2.lookup("EventID")),
            Some(vec![4624, 4625])
        );
    }

    #[test]
    fn keywords_with_all_need_every_word_somewhere() {
        let (r, t) = rule(
            r#"
title: t
logsource: {product: windows, service: msexchange-management}
detection:
  kw:
    '|all': ['OabVirtualDirectory', ' -ExternalUrl ']
  condition: kw
"#,
        );
        let ev = |a: &str, b: &str| {
            Event::from_json(
                &t,
                0,
                &json!({"Event": {"System": {"EventID": 1, "Channel": "MSExchange Management"},
                "EventData": {"Data": [a, b]}}}),
            )
            .unwrap()
        };
        assert!(hit(
            &r,
            &t,
            &ev("Set-OabVirtualDirectory", "x -ExternalUrl y")
        ));
        assert!(!hit(&r, &t, &ev("Set-OabVirtualDirectory", "nothing")));
    }

    #[test]
    fn unsupported_features_are_named() {
        let doc = YamlLoader::load_from_str(
            "title: t\nlogsource: {product: windows, service: security}\ndetection:\n  s: {A|expand: '%x%'}\n  condition: s\n",
        )
        .unwrap()
        .remove(0);
        let e = compile(&FieldTable::default(), &doc, "x").unwrap_err();
        assert!(e.contains("expand"), "{e}");
        let doc = YamlLoader::load_from_str(
            "title: t\nlogsource: {product: linux}\ndetection:\n  s: {A: 1}\n  condition: s\n",
        )
        .unwrap()
        .remove(0);
        assert!(
            compile(&FieldTable::default(), &doc, "x")
                .unwrap_err()
                .contains("linux")
        );
    }
}
