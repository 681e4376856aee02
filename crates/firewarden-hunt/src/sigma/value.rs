//! Sigma values and modifiers compiled into tests on one field's text.
//!
//! A Sigma value is a string with `*`/`?` wildcards (escaped by `\`), a number, a boolean or
//! null. Modifiers first transform it (`base64`, `base64offset`, `utf16le`/`utf16be`/`wide`,
//! `windash`), then pick the comparison (`contains`, `startswith`, `endswith`, `re`, `cidr`,
//! `lt`…`gte`, `exists`, `fieldref`), and finally combine lists (`all`) and case (`cased`).
//! Matching ignores case unless `cased` or a regex without `i` says otherwise, as the Sigma
//! specification requires.

use crate::event::Field;
use aho_corasick::AhoCorasick;
use base64::Engine as _;
use memchr::memmem;
use regex::Regex;
use std::collections::HashSet;
use std::net::IpAddr;

/// Why a value or modifier cannot be compiled; said word for word in the load report.
pub type Unsupported = String;

/// One compiled test on a field's text.
#[derive(Debug, Clone)]
pub enum Test {
    /// Whole value equal.
    Eq(Box<str>),
    /// Value starts with.
    Prefix(Box<str>),
    /// Value ends with.
    Suffix(Box<str>),
    /// Value contains.
    Contains(Box<memmem::Finder<'static>>),
    /// A wildcard pattern with inner `*`/`?`, as an anchored regex.
    Glob(Regex),
    /// A `re` modifier's regex (unanchored, flags applied).
    Regex(Regex),
    /// A numeric comparison (`lt`, `lte`, `gt`, `gte`).
    Num(Cmp, f64),
    /// An address inside one of these networks (`cidr`).
    Cidr(Vec<Network>),
}

/// A numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `lt`
    Lt,
    /// `lte`
    Lte,
    /// `gt`
    Gt,
    /// `gte`
    Gte,
}

/// One IP network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `10.0.0.0/8`, `fe80::/10` or a bare address.
    pub fn parse(text: &str) -> Option<Network> {
        let (a, p) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Network { addr, prefix })
    }

    /// Whether `ip` is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// A test and whether it honours case.
#[derive(Debug, Clone)]
pub struct ValueTest {
    /// The comparison.
    pub test: Test,
    /// Compare the original text instead of the lower-cased one.
    pub cased: bool,
}

impl ValueTest {
    /// Whether `field` passes.
    #[inline]
    pub fn matches(&self, field: &Field) -> bool {
        let text = if self.cased {
            &*field.value
        } else {
            field.lower()
        };
        match &self.test {
            Test::Eq(s) => text == &**s,
            Test::Prefix(s) => text.starts_with(&**s),
            Test::Suffix(s) => text.ends_with(&**s),
            Test::Contains(f) => f.find(text.as_bytes()).is_some(),
            Test::Glob(r) => r.is_match(text),
            Test::Regex(r) => r.is_match(&field.value),
            Test::Num(cmp, n) => match field.value.trim().parse::<f64>() {
                Ok(v) => match cmp {
                    Cmp::Lt => v < *n,
                    Cmp::Lte => v <= *n,
                    Cmp::Gt => v > *n,
                    Cmp::Gte => v >= *n,
                },
                Err(_) => false,
            },
            Test::Cidr(nets) => match field.value.trim().parse::<IpAddr>() {
                Ok(ip) => nets.iter().any(|n| n.contains(ip)),
                Err(_) => false,
            },
        }
    }
}

/// The tests for one field, with how a list of values combines.
#[derive(Debug, Clone)]
pub enum ValueSet {
    /// Any test passes (the Sigma default for lists).
    Any(Vec<ValueTest>),
    /// Every group passes (`all`); a group is one value's variants (`windash`, `base64offset`).
    All(Vec<ValueSet>),
    /// Any of many lower-case substrings: one automaton instead of a loop (the substrings are
    /// kept for the rule index's literal gates).
    AnyContains(Lazy<AhoCorasick>, Vec<Box<str>>),
    /// Any of many lower-case whole values.
    AnyEq(HashSet<Box<str>>),
}

impl ValueSet {
    /// Whether `field` passes.
    #[inline]
    pub fn matches(&self, field: &Field) -> bool {
        match self {
            ValueSet::Any(tests) => tests.iter().any(|t| t.matches(field)),
            ValueSet::All(groups) => groups.iter().all(|g| g.matches(field)),
            ValueSet::AnyContains(ac, needles) => ac
                .get_or_init(|| contains_automaton(needles))
                .is_match(field.lower()),
            ValueSet::AnyEq(set) => set.contains(field.lower()),
        }
    }

    /// Groups plain case-insensitive tests into one automaton or set when there are enough of
    /// them to pay for it; otherwise keeps the list.
    pub fn any(tests: Vec<ValueTest>) -> ValueSet {
        const GROUP_FROM: usize = 4;
        if tests.len() >= GROUP_FROM && tests.iter().all(|t| !t.cased) {
            let contains: Option<Vec<&[u8]>> = tests
                .iter()
                .map(|t| match &t.test {
                    Test::Contains(f) => Some(f.needle()),
                    _ => None,
                })
                .collect();
            if let Some(needles) = contains {
                let kept = needles
                    .iter()
                    .map(|n| String::from_utf8_lossy(n).into())
                    .collect();
                return ValueSet::AnyContains(Lazy::new(), kept);
            }
            let eqs: Option<HashSet<Box<str>>> = tests
                .iter()
                .map(|t| match &t.test {
                    Test::Eq(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            if let Some(set) = eqs {
                return ValueSet::AnyEq(set);
            }
        }
        ValueSet::Any(tests)
    }
}

impl ValueTest {
    /// A lower-case literal that any text passing this test contains, if there is one.
    pub fn literal(&self) -> Option<String> {
        match &self.test {
            Test::Eq(s) | Test::Prefix(s) | Test::Suffix(s) => Some(s.to_lowercase()),
            Test::Contains(f) => Some(String::from_utf8_lossy(f.needle()).to_lowercase()),
            _ => None,
        }
    }
}

impl ValueSet {
    /// Literals such that any text passing the set contains at least one of them (lower-case);
    /// `None` when some passing text need contain none (a regex, a number, a wildcard-only
    /// value).
    pub fn literals(&self) -> Option<Vec<String>> {
        match self {
            ValueSet::Any(tests) => tests.iter().map(ValueTest::literal).collect(),
            ValueSet::All(groups) => groups
                .iter()
                .filter_map(ValueSet::literals)
                .max_by_key(|l| l.iter().map(String::len).min().unwrap_or(0)),
            ValueSet::AnyContains(_, needles) => {
                Some(needles.iter().map(|n| n.to_string()).collect())
            }
            ValueSet::AnyEq(set) => Some(set.iter().map(|n| n.to_string()).collect()),
        }
    }
}

/// Built on first use: most rules never reach their value tests, because the index's literal
/// gates keep them from being evaluated, so building every automaton up front is wasted load
/// time.
pub type Lazy<T> = std::sync::OnceLock<T>;

fn contains_automaton(needles: &[Box<str>]) -> AhoCorasick {
    AhoCorasick::builder()
        .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
        .build(needles.iter().map(|n| n.as_bytes()))
        // Plain literals always build; an empty automaton would only lose matches, never panic.
        .unwrap_or_else(|_| AhoCorasick::new(Vec::<&str>::new()).expect("empty automaton"))
}

/// One piece of a Sigma string.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Star,
    One,
}

/// Splits a Sigma string into text and wildcards. `\*`, `\?` and `\\` are escapes; any other
/// backslash is a plain character (Windows paths are written with single backslashes).
fn pieces(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    text.push(n);
                    chars.next();
                }
                _ => text.push('\\'),
            },
            '*' | '?' => {
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(if c == '*' { Piece::Star } else { Piece::One });
            }
            _ => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// How a string value is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Whole value (wildcards allowed).
    Equals,
    /// `contains`
    Contains,
    /// `startswith`
    StartsWith,
    /// `endswith`
    EndsWith,
}

/// Compiles a wildcard string into the cheapest test that is exact.
pub fn string_test(value: &str, kind: Kind, cased: bool, literal: bool) -> ValueTest {
    let fold = |s: &str| {
        if cased {
            s.to_owned()
        } else {
            s.to_lowercase()
        }
    };
    let mut ps = if literal {
        vec![Piece::Text(value.to_owned())]
    } else {
        pieces(value)
    };
    if matches!(kind, Kind::Contains | Kind::EndsWith) {
        ps.insert(0, Piece::Star);
    }
    if matches!(kind, Kind::Contains | Kind::StartsWith) {
        ps.push(Piece::Star);
    }
    // Collapse runs of stars.
    ps.dedup_by(|a, b| *a == Piece::Star && *b == Piece::Star);
    let test = match ps.as_slice() {
        [] => Test::Eq("".into()),
        [Piece::Text(t)] => Test::Eq(fold(t).into()),
        [Piece::Star] => Test::Glob(Regex::new("(?s)^.*$").expect("fixed regex")),
        [Piece::Text(t), Piece::Star] => Test::Prefix(fold(t).into()),
        [Piece::Star, Piece::Text(t)] => Test::Suffix(fold(t).into()),
        [Piece::Star, Piece::Text(t), Piece::Star] => Test::Contains(Box::new(
            memmem::Finder::new(fold(t).as_bytes()).into_owned(),
        )),
        _ => {
            let mut re = String::from("(?s)^");
            for p in &ps {
                match p {
                    Piece::Text(t) => re.push_str(&regex::escape(&fold(t))),
                    Piece::Star => re.push_str(".*"),
                    Piece::One => re.push('.'),
                }
            }
            re.push('$');
            Test::Glob(Regex::new(&re).expect("escaped glob is a valid regex"))
        }
    };
    ValueTest { test, cased }
}

/// The variants `windash` asks for: every option dash (`-` or `/` at the start of a word)
/// replaced, all at once, by each of `-`, `/`, en dash, em dash and horizontal bar.
pub fn windash(value: &str) -> Vec<String> {
    let chars: Vec<char> = value.chars().collect();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let positions: Vec<usize> = (0..chars.len())
        .filter(|&i| {
            matches!(chars[i], '-' | '/')
                && (i == 0 || !is_word(chars[i - 1]))
                && chars.get(i + 1).is_some_and(|c| is_word(*c))
        })
        .collect();
    if positions.is_empty() {
        return vec![value.to_owned()];
    }
    ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}']
        .iter()
        .map(|&d| {
            let mut c = chars.clone();
            for &p in &positions {
                c[p] = d;
            }
            c.into_iter().collect()
        })
        .collect()
}

/// `base64offset`: the three encodings of `data` at each alignment, trimmed to the characters
/// that do not depend on the bytes around it.
pub fn base64_offsets(data: &[u8]) -> Vec<String> {
    let engine = base64::engine::general_purpose::STANDARD;
    let start = [0usize, 2, 3];
    (0..3)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(data);
            let enc = engine.encode(&padded);
            let end_trim = match (data.len() + i) % 3 {
                0 => 0,
                1 => 3,
                _ => 2,
            };
            enc.get(start[i]..enc.len().saturating_sub(end_trim))
                .unwrap_or("")
                .to_owned()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// `base64`
pub fn base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// `utf16le`/`wide`, `utf16be`, `utf16` (with the little-endian byte-order mark).
pub fn utf16(value: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(&[0xff, 0xfe]);
    }
    for u in value.encode_utf16() {
        let b = if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        };
        out.extend_from_slice(&b);
    }
    out
}

/// Compiles a `re` value with its flags (`i`, `m`, `s`). The Rust engine has no look-around
/// or back-references; such patterns are reported as unsupported.
pub fn regex_test(pattern: &str, i: bool, m: bool, s: bool) -> Result<ValueTest, Unsupported> {
    let mut flags = String::new();
    if i {
        flags.push('i');
    }
    if m {
        flags.push('m');
    }
    if s {
        flags.push('s');
    }
    let full = if flags.is_empty() {
        pattern.to_owned()
    } else {
        format!("(?{flags}){pattern}")
    };
    regex::RegexBuilder::new(&full)
        .size_limit(8 << 20)
        .build()
        .map(|r| ValueTest {
            test: Test::Regex(r),
            cased: true,
        })
        .map_err(|e| {
            let first = e.to_string();
            let reason = first
                .lines()
                .rev()
                .find(|l| l.starts_with("error:"))
                .unwrap_or("invalid regex")
                .to_owned();
            format!("regex `{pattern}` ({reason})")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::FieldTable;

    fn field(v: &str) -> Field {
        Field::new(&FieldTable::default(), "x", v.into())
    }

    #[test]
    fn wildcards_and_escapes() {
        // A backslash before a wildcard must itself be escaped (Sigma specification).
        let t = string_test(r"C:\Windows\\*\cmd.exe", Kind::Equals, false, false);
        assert!(t.matches(&field(r"c:\windows\system32\CMD.EXE")));
        assert!(!t.matches(&field(r"d:\windows\system32\cmd.exe")));
        let lit = string_test(r"a\*b", Kind::Equals, false, false);
        assert!(lit.matches(&field("A*B")));
        assert!(!lit.matches(&field("axxb")));
        let one = string_test("a?c", Kind::Equals, false, false);
        assert!(one.matches(&field("abc")));
        assert!(!one.matches(&field("abbc")));
        assert!(matches!(
            string_test("x", Kind::Contains, false, false).test,
            Test::Contains(_)
        ));
    }

    #[test]
    fn cased_and_kinds() {
        let t = string_test("Abc", Kind::StartsWith, true, false);
        assert!(t.matches(&field("Abcd")));
        assert!(!t.matches(&field("abcd")));
        let e = string_test(".exe", Kind::EndsWith, false, false);
        assert!(e.matches(&field("A.EXE")));
    }

    #[test]
    fn windash_variants() {
        let v = windash("cmd -enc /c x-y");
        assert_eq!(v.len(), 5);
        assert!(v.contains(&"cmd /enc /c x-y".to_owned()));
        assert!(v.contains(&"cmd \u{2013}enc \u{2013}c x-y".to_owned()));
        assert_eq!(windash("abc"), vec!["abc".to_owned()]);
    }

    #[test]
    fn base64_offsets_match_encoded_text_at_any_alignment() {
        let needle = b"http://";
        let offs = base64_offsets(needle);
        for pad in 0..3 {
            let mut data = b"xyz"[..pad].to_vec();
            data.extend_from_slice(needle);
            data.extend_from_slice(b"example");
            let enc = base64(&data);
            assert!(
                offs.iter().any(|o| enc.contains(o)),
                "pad {pad}: {enc} {offs:?}"
            );
        }
    }

    #[test]
    fn cidr_and_numbers() {
        let n = Network::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(Network::parse("::1/129").is_none());
        let t = ValueTest {
            test: Test::Num(Cmp::Gte, 5.0),
            cased: false,
        };
        assert!(t.matches(&field("5")));
        assert!(!t.matches(&field("four")));
    }

    #[test]
    fn grouped_contains_matches_like_the_list() {
        let tests: Vec<ValueTest> = ["aa", "bB", "cc", "dd"]
            .iter()
            .map(|s| string_test(s, Kind::Contains, false, false))
            .collect();
        let set = ValueSet::any(tests.clone());
        assert!(matches!(set, ValueSet::AnyContains(..)));
        for s in ["xxBBy", "none", "DD", ""] {
            assert_eq!(
                set.matches(&field(s)),
                ValueSet::Any(tests.clone()).matches(&field(s))
            );
        }
    }

    #[test]
    fn unsupported_regex_is_named() {
        let e = regex_test("(?<=a)b", false, false, false).unwrap_err();
        assert!(e.contains("(?<=a)b"), "{e}");
    }
}
