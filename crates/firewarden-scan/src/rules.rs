//! YARA rule packs: the built-in pack and external directories, compiled with boreal.
//!
//! **Why rules are split by file magic.** boreal pays a fixed cost per scanned buffer that grows
//! with the number of strings in the compiled set (≈0.5 ms per file with all of
//! signature-base), which dominates on web trees of many small files. Over half of
//! signature-base's rules start with a test such as `uint16(0) == 0x5a4d` (a PE file); for a
//! PHP file those rules cannot match. Each rule's condition is parsed, and a top-level
//! conjunct `uintNN(0) == V` (or a disjunction of such) becomes its *gate*. A file is scanned
//! by a scanner compiled from the rules whose gate its first bytes satisfy, plus every ungated
//! and global rule and whatever rules those refer to. Only rules that evaluate to false are
//! left out, so the results are the same as scanning with everything.

use boreal::Compiler;
use boreal::Scanner;
use boreal_parser::expression::{Expression, ExpressionKind, ReadIntegerType};
use boreal_parser::file::YaraFileComponent;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A magic gates a scanner partition only when at least this many rules test it.
const MIN_RULES_PER_MAGIC: usize = 25;

/// External variables that signature-base (LOKI/THOR) rules use; set per scanned file.
pub const EXTERNALS: &[&str] = &["filename", "filepath", "extension", "filetype", "owner"];

/// A rule file that could not be used, and why (never skipped silently).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleLoadError {
    /// The file (or `builtin:NAME`).
    pub file: String,
    /// The compiler's message.
    pub message: String,
}

/// `uintNN(0) == value`, the test a rule's gate is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Magic {
    ty: u8,
    value: i64,
}

impl Magic {
    fn from_type(ty: ReadIntegerType) -> u8 {
        match ty {
            ReadIntegerType::Int8 => 0,
            ReadIntegerType::Uint8 => 1,
            ReadIntegerType::Int16 => 2,
            ReadIntegerType::Int16BE => 3,
            ReadIntegerType::Uint16 => 4,
            ReadIntegerType::Uint16BE => 5,
            ReadIntegerType::Int32 => 6,
            ReadIntegerType::Int32BE => 7,
            ReadIntegerType::Uint32 => 8,
            ReadIntegerType::Uint32BE => 9,
        }
    }

    /// What YARA's `uintNN(0)` gives for this head; `None` (undefined) when it is too short.
    fn read(ty: u8, head: &[u8]) -> Option<i64> {
        let b = |n: usize| head.get(..n);
        Some(match ty {
            0 => i64::from(b(1)?[0] as i8),
            1 => i64::from(b(1)?[0]),
            2 => i64::from(i16::from_le_bytes(b(2)?.try_into().ok()?)),
            3 => i64::from(i16::from_be_bytes(b(2)?.try_into().ok()?)),
            4 => i64::from(u16::from_le_bytes(b(2)?.try_into().ok()?)),
            5 => i64::from(u16::from_be_bytes(b(2)?.try_into().ok()?)),
            6 => i64::from(i32::from_le_bytes(b(4)?.try_into().ok()?)),
            7 => i64::from(i32::from_be_bytes(b(4)?.try_into().ok()?)),
            8 => i64::from(u32::from_le_bytes(b(4)?.try_into().ok()?)),
            _ => i64::from(u32::from_be_bytes(b(4)?.try_into().ok()?)),
        })
    }

    fn holds(&self, head: &[u8]) -> bool {
        Magic::read(self.ty, head) == Some(self.value)
    }
}

/// The gate of a condition: alternatives of which one must hold, or `None` (always scan).
fn gate(e: &Expression) -> Option<Vec<Magic>> {
    match &e.expr {
        ExpressionKind::And(list) => list.iter().find_map(gate),
        ExpressionKind::Or(list) => {
            let mut all = Vec::new();
            for alt in list {
                all.extend(gate(alt)?);
            }
            Some(all)
        }
        ExpressionKind::Eq(a, b) => magic_eq(a, b).or_else(|| magic_eq(b, a)).map(|m| vec![m]),
        _ => None,
    }
}

fn magic_eq(read: &Expression, value: &Expression) -> Option<Magic> {
    let ExpressionKind::ReadInteger { ty, addr } = &read.expr else {
        return None;
    };
    let (ExpressionKind::Integer(0), ExpressionKind::Integer(v)) = (&addr.expr, &value.expr) else {
        return None;
    };
    Some(Magic {
        ty: Magic::from_type(*ty),
        value: *v,
    })
}

/// One rule's text and what decides whether a file needs it.
#[derive(Debug)]
struct RuleText {
    range: std::ops::Range<usize>,
    name: String,
    gate: Option<Vec<Magic>>,
    global: bool,
    /// Indexes of earlier rules of the same file its condition names.
    deps: Vec<usize>,
}

/// One rule file split into rules.
#[derive(Debug)]
struct Pack {
    /// `builtin:NAME` or the file's path; used as the YARA namespace.
    namespace: String,
    source: String,
    imports: String,
    /// `None` when the file cannot be split (it has includes): it is then compiled whole into
    /// every scanner.
    rules: Option<Vec<RuleText>>,
}

fn split(source: &str) -> Result<(String, Option<Vec<RuleText>>), String> {
    let file = boreal_parser::parse(source).map_err(|e| {
        let d = e.to_diagnostic();
        d.message.clone()
    })?;
    let mut imports = String::new();
    let mut starts = Vec::new();
    let mut parsed = Vec::new();
    for c in &file.components {
        match c {
            YaraFileComponent::Include(_) => return Ok((String::new(), None)),
            YaraFileComponent::Import(i) => {
                imports.push_str(&source[i.span.clone()]);
                imports.push('\n');
                starts.push(i.span.start);
            }
            YaraFileComponent::Rule(r) => {
                let Some(start) = rule_start(source, r.name_span.start) else {
                    return Ok((imports, None));
                };
                starts.push(start);
                parsed.push((start, r));
            }
        }
    }
    starts.sort_unstable();
    let mut rules: Vec<RuleText> = Vec::with_capacity(parsed.len());
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (start, r) in parsed {
        let end = starts
            .iter()
            .find(|&&s| s > start)
            .copied()
            .unwrap_or(source.len());
        let cond = &source[r.condition.span.clone()];
        let mut deps = Vec::new();
        for word in identifiers(cond) {
            if let Some(prefix) = word.strip_suffix('*') {
                deps.extend(
                    rules
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| x.name.starts_with(prefix))
                        .map(|(i, _)| i),
                );
            } else if let Some(&i) = by_name.get(word) {
                deps.push(i);
            }
        }
        by_name.insert(r.name.clone(), rules.len());
        rules.push(RuleText {
            range: start..end,
            name: r.name.clone(),
            gate: gate(&r.condition),
            global: r.is_global,
            deps,
        });
    }
    Ok((imports, Some(rules)))
}

/// Where the rule whose name starts at `name_at` begins: its `rule` keyword and any
/// `private`/`global` before it, separated by whitespace only.
fn rule_start(source: &str, name_at: usize) -> Option<usize> {
    let word_before = |at: usize| {
        at > 0
            && (source.as_bytes()[at - 1].is_ascii_alphanumeric()
                || source.as_bytes()[at - 1] == b'_')
    };
    let before = source.get(..name_at)?.trim_end();
    let mut start = before.strip_suffix("rule")?.len();
    if word_before(start) {
        return None;
    }
    loop {
        let rest = source[..start].trim_end();
        let Some(word) = ["private", "global"]
            .into_iter()
            .find(|w| rest.ends_with(w))
        else {
            return Some(start);
        };
        let at = rest.len() - word.len();
        if word_before(at) {
            return Some(start);
        }
        start = at;
    }
}

fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let c = bytes[i];
            if c == b'"' {
                // Skip string literals: a rule name inside one is not a reference.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            if c.is_ascii_alphabetic() || c == b'_' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                // `$a`, `#a`, `@a`, `!a` are strings, `pe.x` fields: not rule names.
                let sigil =
                    start > 0 && matches!(bytes[start - 1], b'$' | b'#' | b'@' | b'!' | b'.');
                if i < bytes.len() && bytes[i] == b'*' {
                    i += 1;
                }
                if !sigil {
                    return Some(&text[start..i]);
                }
                continue;
            }
            i += 1;
        }
        None
    })
}

/// Compiled rule packs, with one scanner per set of magics a file's head satisfies, built on
/// first use.
pub struct RuleSet {
    packs: Vec<Pack>,
    magics: Vec<Magic>,
    scanners: Mutex<HashMap<Vec<u16>, Arc<Scanner>>>,
    /// Rule files that could not be loaded.
    pub errors: Vec<RuleLoadError>,
    /// Number of rules loaded.
    pub rule_count: usize,
    /// Number of rule files loaded.
    pub file_count: usize,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("files", &self.file_count)
            .field("rules", &self.rule_count)
            .field("errors", &self.errors.len())
            .finish()
    }
}

fn new_compiler() -> Compiler {
    let mut c = Compiler::new();
    for name in EXTERNALS {
        c.define_symbol(*name, "");
    }
    c
}

impl RuleSet {
    /// Loads the built-in pack (when `builtin`) and every `.yar`/`.yara` file under `dirs`
    /// (a file path is loaded as is). A file that does not compile is listed in `errors`, and
    /// the rest still load.
    pub fn load(builtin: bool, dirs: &[PathBuf]) -> RuleSet {
        RuleSet::load_with(builtin, dirs, MIN_RULES_PER_MAGIC)
    }

    /// [`RuleSet::load`], partitioning on magics that gate at least `min_rules_per_magic`
    /// rules (tests use 1 to exercise partitioning on small packs).
    pub fn load_with(builtin: bool, dirs: &[PathBuf], min_rules_per_magic: usize) -> RuleSet {
        let mut sources: Vec<(String, String)> = Vec::new();
        let mut errors = Vec::new();
        if builtin {
            for (name, text) in crate::builtin::pack() {
                sources.push((format!("builtin:{name}"), text));
            }
        }
        for dir in dirs {
            for path in rule_files(dir, &mut errors) {
                match std::fs::read(&path) {
                    // Rule files with Latin-1 comments exist; YARA reads bytes, so do we.
                    Ok(b) => sources.push((
                        path.display().to_string(),
                        String::from_utf8_lossy(&b).into_owned(),
                    )),
                    Err(e) => errors.push(RuleLoadError {
                        file: path.display().to_string(),
                        message: e.to_string(),
                    }),
                }
            }
        }
        let mut packs = Vec::new();
        let mut magic_rules: HashMap<Magic, usize> = HashMap::new();
        let mut rule_count = 0;
        for (namespace, source) in sources {
            // Compile each file alone first: a file that fails is reported and left out, and
            // cannot break the others.
            let mut probe = new_compiler();
            if let Err(e) = probe.add_rules_str_in_namespace(&source, &namespace) {
                errors.push(RuleLoadError {
                    file: namespace,
                    message: first_line(&e.to_string()),
                });
                continue;
            }
            rule_count += probe.finalize().rules().count();
            let (imports, rules) = split(&source).unwrap_or((String::new(), None));
            if let Some(rules) = &rules {
                for r in rules {
                    for m in r.gate.iter().flatten() {
                        *magic_rules.entry(*m).or_default() += 1;
                    }
                }
            }
            packs.push(Pack {
                namespace,
                source,
                imports,
                rules,
            });
        }
        // Partition only on magics that gate many rules: each distinct set of magics a file
        // satisfies costs one more compiled scanner (≈0.5 s and tens of MiB with
        // signature-base), so rare magics are treated as "always scan".
        let magics: BTreeSet<Magic> = magic_rules
            .into_iter()
            .filter(|(_, n)| *n >= min_rules_per_magic)
            .map(|(m, _)| m)
            .collect();
        RuleSet {
            file_count: packs.len(),
            packs,
            magics: magics.into_iter().collect(),
            scanners: Mutex::new(HashMap::new()),
            errors,
            rule_count,
        }
    }

    /// A scanner with every rule, unpartitioned (the reference the partitions must agree with).
    pub fn full_scanner(&self) -> Scanner {
        let mut compiler = new_compiler();
        for pack in &self.packs {
            let _ = compiler.add_rules_str_in_namespace(&pack.source, &pack.namespace);
        }
        compiler.finalize()
    }

    /// Number of distinct scanners compiled so far.
    pub fn scanners_compiled(&self) -> usize {
        self.scanners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// The scanner for a file starting with `head` (its first 4 bytes decide).
    pub fn scanner_for(&self, head: &[u8]) -> Arc<Scanner> {
        let key: Vec<u16> = self
            .magics
            .iter()
            .enumerate()
            .filter(|(_, m)| m.holds(head))
            .map(|(i, _)| i as u16)
            .collect();
        let mut cache = self.scanners.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = cache.get(&key) {
            return s.clone();
        }
        let held: Vec<Magic> = key.iter().map(|&i| self.magics[usize::from(i)]).collect();
        let scanner = Arc::new(self.compile(&held));
        cache.insert(key, scanner.clone());
        scanner
    }

    fn compile(&self, held: &[Magic]) -> Scanner {
        let mut compiler = new_compiler();
        for pack in &self.packs {
            let text = match &pack.rules {
                None => pack.source.clone(),
                Some(rules) => {
                    let mut keep: Vec<bool> = rules
                        .iter()
                        .map(|r| {
                            r.global
                                || r.gate.as_ref().is_none_or(|alts| {
                                    alts.iter()
                                        .any(|m| held.contains(m) || !self.magics.contains(m))
                                })
                        })
                        .collect();
                    // Rules named by kept rules stay too (later rules only name earlier ones).
                    for i in (0..rules.len()).rev() {
                        if keep[i] {
                            for &d in &rules[i].deps {
                                keep[d] = true;
                            }
                        }
                    }
                    let mut text = pack.imports.clone();
                    for (r, _) in rules.iter().zip(&keep).filter(|(_, k)| **k) {
                        text.push_str(&pack.source[r.range.clone()]);
                        text.push('\n');
                    }
                    text
                }
            };
            // Every pack compiled alone at load time; a subset of it compiles too. Should it
            // not, the whole file is used rather than losing its rules.
            if compiler
                .add_rules_str_in_namespace(&text, &pack.namespace)
                .is_err()
            {
                let _ = compiler.add_rules_str_in_namespace(&pack.source, &pack.namespace);
            }
        }
        compiler.finalize()
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

fn rule_files(dir: &Path, errors: &mut Vec<RuleLoadError>) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                errors.push(RuleLoadError {
                    file: d.display().to_string(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file()
                && p.extension().is_some_and(|x| {
                    x.eq_ignore_ascii_case("yar") || x.eq_ignore_ascii_case("yara")
                })
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_and_dependencies_are_read_from_conditions() {
        let src = r#"import "pe"
private rule IsPE { condition: uint16(0) == 0x5a4d }
rule A { strings: $a = "x" condition: uint16(0) == 0x5a4d and $a }
global private rule G { condition: filesize < 10MB }
rule B { strings: $a = "eval(" condition: $a and IsPE }
rule C { strings: $a = "y" condition: (uint32(0) == 0x464c457f or uint16(0) == 0x5a4d) and $a }
rule D { strings: $a = "IsPE" condition: $a }
"#;
        let (imports, rules) = split(src).unwrap();
        let rules = rules.unwrap();
        assert_eq!(imports.trim(), "import \"pe\"");
        let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["IsPE", "A", "G", "B", "C", "D"]);
        assert!(src[rules[0].range.clone()].starts_with("private rule IsPE"));
        assert!(src[rules[2].range.clone()].starts_with("global private rule G"));
        assert!(rules[1].gate.is_some() && rules[3].gate.is_none());
        assert_eq!(rules[4].gate.as_ref().unwrap().len(), 2);
        assert!(rules[2].global);
        assert_eq!(rules[3].deps, vec![0]);
        assert!(
            rules[5].deps.is_empty(),
            "a string literal is not a reference"
        );
    }

    #[test]
    fn a_gated_scanner_gives_the_same_answer_as_all_rules() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("r.yar"),
            r#"
private rule IsPE { condition: uint16(0) == 0x5a4d }
rule PeEval { strings: $a = "eval(" condition: IsPE and $a }
rule AnyEval { strings: $a = "eval(" condition: $a }
rule ElfOrPe { strings: $a = "eval(" condition: (uint32(0) == 0x464c457f or uint16(0) == 0x5a4d) and $a }
"#,
        )
        .unwrap();
        let set = RuleSet::load_with(false, &[dir.path().to_path_buf()], 1);
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        assert_eq!(set.magics.len(), 2);
        let names = |data: &[u8]| {
            let s = set.scanner_for(data);
            let mut v: Vec<String> = s
                .scan_mem(data)
                .unwrap()
                .rules
                .iter()
                .map(|r| r.name.to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(b"MZ..eval("), ["AnyEval", "ElfOrPe", "PeEval"]);
        assert_eq!(names(b"\x7fELF eval("), ["AnyEval", "ElfOrPe"]);
        assert_eq!(names(b"<?php eval("), ["AnyEval"]);
        assert_eq!(names(b"M"), Vec::<String>::new());
    }

    #[test]
    fn a_broken_file_is_reported_and_the_others_load() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("good.yar"), "rule ok { condition: true }").unwrap();
        std::fs::write(
            dir.path().join("bad.yar"),
            "rule broken { condition: nosuch.module }",
        )
        .unwrap();
        let set = RuleSet::load(false, &[dir.path().to_path_buf()]);
        assert_eq!(set.file_count, 1);
        assert_eq!(set.errors.len(), 1);
        assert!(set.errors[0].file.ends_with("bad.yar"));
        assert!(!set.errors[0].message.is_empty());
    }
}
