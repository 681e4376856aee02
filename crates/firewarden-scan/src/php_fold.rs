//! Constant folding of PHP string expressions: what obfuscators hide a name or a payload in is
//! almost always computable from literals alone (`"\142\x61se64_decode"`,
//! `base64_decode('ZXZ' . 'hbA==')`, `$t[54] . $t[37]` over a literal character table,
//! `str_replace("eu2", "", "eu2aseu2sert")`, `chr(96 ^ 5)`, `pack('H*', '6576616c')`). The folder
//! evaluates such expressions, and variables assigned from them, without running anything; a
//! value that only appears after decoding and names a code-running function, a request
//! superglobal or holds PHP code is what a webshell hides and benign code has no reason to.

use crate::Hit;
use crate::decode;
use crate::heuristics::DANGEROUS_NAMES;
use firewarden_model::Severity;
use foldhash::{HashMap, HashMapExt};

/// The largest value the folder builds; obfuscated names are short and payloads rarely pass
/// a few hundred KiB, while `str_repeat`-style growth must not exhaust memory.
const MAX_VALUE: usize = 1 << 20;
/// Bytes kept in variables across the file, and the most one variable keeps: character tables
/// and names are short, payloads are judged where they are decoded.
const MAX_STORED: usize = 8 << 20;
const MAX_VAR: usize = 64 << 10;
/// Bytes copied while folding one file.
const MAX_COPIED: usize = 256 << 20;
/// Work units (terms parsed) per file, so that a file of millions of tiny expressions stays
/// linear and bounded.
const BUDGET: usize = 2_000_000;

/// Superglobals: naming one through escapes or decoding hides request input.
const HIDDEN_INPUTS: &[&str] = &[
    "globals", "_post", "_get", "_request", "_cookie", "_server", "_files",
];

/// Calls whose presence in decoded text makes it PHP that runs code or commands.
const CODE_CALLS: &[&str] = &[
    "eval(",
    "assert(",
    "system(",
    "passthru(",
    "shell_exec(",
    "proc_open(",
    "popen(",
    "create_function(",
    "move_uploaded_file(",
];

/// How a value was computed: these are the steps named in the finding.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Steps(u16);

const STEP_NAMES: &[&str] = &[
    "hex or octal escapes",
    "joined pieces",
    "chr() codes",
    "base64_decode",
    "str_rot13",
    "strrev",
    "hex decoding",
    "url decoding",
    "str_replace",
    "gzinflate",
    "characters picked from a string",
    "substr",
    "pieces picked from an array",
];
const ESCAPES: u16 = 1;
const JOINED: u16 = 1 << 1;
const CHR: u16 = 1 << 2;
const BASE64: u16 = 1 << 3;
const ROT13: u16 = 1 << 4;
const REVERSED: u16 = 1 << 5;
const HEX: u16 = 1 << 6;
const URL: u16 = 1 << 7;
const REPLACED: u16 = 1 << 8;
const INFLATED: u16 = 1 << 9;
const PICKED: u16 = 1 << 10;
const SUBSTR: u16 = 1 << 11;
const ITEM: u16 = 1 << 12;
/// Items kept per array: name tables are short, and a lookup by key reads the array.
const MAX_ITEMS: usize = 1024;

impl Steps {
    fn names(self) -> String {
        STEP_NAMES
            .iter()
            .enumerate()
            .filter(|(n, _)| self.0 & (1 << n) != 0)
            .map(|(_, s)| *s)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Clone)]
struct Value {
    bytes: Vec<u8>,
    steps: Steps,
}

impl Value {
    fn plain(bytes: Vec<u8>) -> Value {
        Value {
            bytes,
            steps: Steps::default(),
        }
    }
    fn with(mut self, step: u16) -> Value {
        self.steps.0 |= step;
        self
    }
}

/// An array of folded strings, by key (`0`, `1`… for a list): `explode('.', 'a.ass.b')`,
/// `array('f' => 'a', 'p' => 's')`, `array_keys($p)`.
type List = Vec<(Vec<u8>, Value)>;

struct Folder<'a> {
    src: &'a [u8],
    low: &'a [u8],
    vars: HashMap<&'a [u8], Value>,
    lists: HashMap<&'a [u8], List>,
    consts: HashMap<Vec<u8>, Value>,
    stored: usize,
    budget: usize,
    /// Bytes copied while folding: repeated `$a = $a . $a` must stay cheap.
    copied: usize,
    /// Expressions and arrays open around the one being read: a file of nested calls
    /// (`base64_decode(base64_decode(…` a million deep) must not exhaust the stack.
    depth: usize,
}

/// The deepest nesting the folder reads; obfuscators nest a handful of decoders.
const MAX_DEPTH: usize = 64;

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Runs the folder over `src` (the original text) and `low` (the same text in ASCII lower
/// case, same offsets); one hit at most.
pub(crate) fn scan(src: &str, low: &str, hits: &mut Vec<Hit>, late: &dyn Fn() -> bool) {
    let mut f = Folder {
        src: src.as_bytes(),
        low: low.as_bytes(),
        vars: HashMap::new(),
        lists: HashMap::new(),
        consts: HashMap::new(),
        stored: 0,
        budget: BUDGET,
        copied: 0,
        depth: 0,
    };
    let b = f.low;
    let before = hits.len();
    // Only `$` and the names of foldable calls start anything: one automaton finds them, and
    // the bytes between are never looked at one by one.
    static STARTS: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::LazyLock::new(|| {
            let mut patterns = vec!["$"];
            patterns.extend(FOLDED_CALLS);
            patterns.extend(ESCAPE_STARTS);
            aho_corasick::AhoCorasick::new(patterns).ok()
        });
    let Some(starts) = STARTS.as_ref() else {
        return;
    };
    // Everything before `done` was parsed as part of an expression already.
    let mut done = 0;
    let mut failed_open = None;
    for (n, m) in starts.find_iter(b).enumerate() {
        let i = m.start();
        if n % 65_536 == 65_535 && late() || f.budget == 0 {
            return;
        }
        if i < done {
            continue;
        }
        if b[i] == b'\\' {
            // An escape inside a double-quoted literal that is an argument, an array item, a
            // callback: `array_map("ass\x65rt", …)`. The literal starts at the last unescaped
            // quote before it, on the same line.
            let from = i.saturating_sub(256);
            let open = (from..i)
                .rev()
                .take_while(|&k| b[k] != b'\n')
                .find(|&k| b[k] == b'"' && (k == 0 || b[k - 1] != b'\\'));
            match open.filter(|&o| Some(o) != failed_open) {
                Some(open) => match f.double_quoted(open) {
                    Some((v, end)) if end > i => {
                        if let Some(h) = judge(&v, f.snippet(open, end), open) {
                            hits.push(h);
                            return;
                        }
                        done = end;
                    }
                    // Interpolated, unclosed, or not the literal this escape is in: each
                    // quote is tried once, so a long run of escapes stays linear.
                    _ => failed_open = Some(open),
                },
                // No quote within reach: the escapes of the next stretch belong to the same
                // long literal.
                None => done = i + 256,
            }
        } else if b[i] == b'$' {
            // `$name = expr`, `$GLOBALS['name'] = expr`, `${"name"}`.
            if let Some(end) = f.assignment_or_dynamic_name(i, hits) {
                if hits.len() > before {
                    return;
                }
                done = end;
            } else if b[..i]
                .iter()
                .rev()
                .find(|c| !c.is_ascii_whitespace() && **c != b'@')
                .is_some_and(|c| matches!(c, b'(' | b','))
                && let Some((v, end)) = f.expr(i)
            {
                // An argument made of variables: `assert($a.$b.$c.$d.$e)`.
                if let Some(h) = judge(&v, f.snippet(i, end), i) {
                    hits.push(h);
                    return;
                }
                done = end;
            }
        } else if (b[i..].starts_with(b"eval") || b[i..].starts_with(b"assert"))
            && (i == 0 || !is_ident(b[i - 1]) && b[i - 1] != b'>')
        {
            // `eval("\$x=gzin"."flate(base"."64_de"."code(…")`: code to run, built from pieces.
            let name_end = i + if b[i] == b'e' { 4 } else { 6 };
            let open = f.skip_space(name_end);
            if b.get(open) == Some(&b'(')
                && let Some((v, end)) = f.expr(open + 1)
            {
                if let Some(h) = judge_evaluated(&v, f.snippet(i, end), i) {
                    hits.push(h);
                    return;
                }
                done = end;
            }
        } else if (i == 0 || !is_ident(b[i - 1]) && b[i - 1] != b'>')
            // A join that goes on with what cannot be folded (an interpolated string) still
            // shows what its first term decodes to.
            && let Some((v, end)) = f.expr(i).or_else(|| f.term(i))
        {
            // A decoder or chr() call anywhere (inside an array, an argument).
            if let Some(h) = judge(&v, f.snippet(i, end), i) {
                hits.push(h);
                return;
            }
            done = end;
        }
    }
}

const CHECK: &str = "scan.heuristic.folded_name";

/// Calls the folder can evaluate, as they start in the text.
const FOLDED_CALLS: &[&str] = &[
    "base64_decode",
    "str_rot13",
    "strrev",
    "hex2bin",
    "pack",
    "str_replace",
    "gzinflate",
    "gzuncompress",
    "chr",
    "urldecode",
    "rawurldecode",
    "sprintf",
    "define",
    "eval",
    "assert",
    "implode",
    "join",
];

/// Where an escape that may hide a name starts: `\x65`, `\145`.
const ESCAPE_STARTS: &[&str] = &[
    "\\x", "\\0", "\\1", "\\2", "\\3", "\\4", "\\5", "\\6", "\\7",
];

/// What a computed value reveals: a hit when it names a dangerous function or a superglobal
/// or holds code, and only steps beyond a plain literal produced it.
fn judge(v: &Value, snippet: String, offset: usize) -> Option<Hit> {
    if v.steps == Steps::default() {
        return None;
    }
    let text = String::from_utf8_lossy(&v.bytes).to_ascii_lowercase();
    let name = text.trim();
    let what = if DANGEROUS_NAMES.contains(&name) {
        format!("the name `{name}`")
    } else if HIDDEN_INPUTS.contains(&name.trim_start_matches('$')) {
        format!("the superglobal `${}`", name.trim_start_matches('$'))
    } else if let Some(call) = CODE_CALLS.iter().find(|c| text.contains(*c)) {
        format!("PHP code that calls `{call}…)`")
    } else if v.steps.0 & !JOINED != 0 && crate::php_tricks::e_modifiers(name).is_some() {
        format!(
            "the pattern `{name}`, whose /e modifier makes preg_replace run its replacement as PHP"
        )
    } else {
        return None;
    };
    Some(Hit {
        check: CHECK,
        severity: Severity::High,
        title: "Dangerous name or code hidden by encoding".into(),
        why: format!(
            "`{snippet}` computes {what} from literals by {}: hidden from readers and signature scanners, which benign code has no reason to be",
            v.steps.names()
        ),
        attack: vec!["T1505.003".into(), "T1027".into()],
        offset: Some(offset),
        rule: None,
    })
}

/// Decoders whose call, in code handed to `eval`, unpacks a payload to run.
const DECODER_CALLS: &[&str] = &[
    "gzinflate(",
    "gzuncompress(",
    "gzdecode(",
    "base64_decode(",
    "str_rot13(",
    "convert_uudecode(",
];

/// What `eval`/`assert` is handed, once folded: a hit when it was built from pieces or escapes
/// and is code that decodes something (a packed payload) or calls a sink.
fn judge_evaluated(v: &Value, snippet: String, offset: usize) -> Option<Hit> {
    if v.steps == Steps::default() {
        return None;
    }
    let text = String::from_utf8_lossy(&v.bytes[..v.bytes.len().min(4096)]).to_ascii_lowercase();
    let call = DECODER_CALLS
        .iter()
        .chain(CODE_CALLS)
        .find(|c| text.contains(*c))?;
    Some(Hit {
        check: CHECK,
        severity: Severity::Critical,
        title: "Dangerous name or code hidden by encoding".into(),
        why: format!(
            "`{snippet}` hands eval code built from literals by {} that calls `{call}…)`: a payload unpacked and run, split so that no reader or signature sees it",
            v.steps.names()
        ),
        attack: vec!["T1505.003".into(), "T1027".into()],
        offset: Some(offset),
        rule: None,
    })
}

impl<'a> Folder<'a> {
    /// Charges `n` copied bytes; `None` once the file's allowance is spent.
    fn spend(&mut self, n: usize) -> Option<()> {
        self.copied = self.copied.checked_add(n)?;
        (self.copied <= MAX_COPIED).then_some(())
    }

    fn snippet(&self, from: usize, to: usize) -> String {
        let s = String::from_utf8_lossy(&self.src[from..to.min(from + 60).min(self.src.len())]);
        let s: String = s.chars().filter(|c| !c.is_control()).collect();
        if to > from + 60 { format!("{s}…") } else { s }
    }

    fn skip_space(&self, mut i: usize) -> usize {
        let b = self.low;
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'@') {
                i += 1;
            }
            if b[i..].starts_with(b"/*") {
                match memchr::memmem::find(&b[i + 2..], b"*/") {
                    Some(e) => i += e + 4,
                    None => return b.len(),
                }
            } else if b[i..].starts_with(b"//")
                || b.get(i) == Some(&b'#') && b.get(i + 1) != Some(&b'[')
            {
                // Shells put line comments between the pieces of an array or a join.
                match memchr::memchr(b'\n', &b[i..]) {
                    Some(e) => i += e + 1,
                    None => return b.len(),
                }
            } else {
                return i;
            }
        }
    }

    /// The variable name starting at `i` (after `$`): `name` or the literal key of
    /// `GLOBALS['name']`, and where it ends.
    fn variable(&self, i: usize) -> Option<(&'a [u8], usize)> {
        let b = self.low;
        let mut e = i;
        while e < b.len() && is_ident(b[e]) {
            e += 1;
        }
        if e == i {
            return None;
        }
        if &b[i..e] == b"globals" && b.get(e) == Some(&b'[') {
            let q = *b.get(e + 1)?;
            if q == b'\'' || q == b'"' {
                let close = e + 2 + b[e + 2..].iter().position(|&c| c == q)?;
                if b.get(close + 1) == Some(&b']') {
                    return Some((&self.src[e + 2..close], close + 2));
                }
            }
        }
        Some((&self.src[i..e], e))
    }

    /// At a `$`: an assignment from a foldable expression (stored, and judged), or a
    /// variable named by an expression (`${"\x47LOBALS"}`). Where the parsed text ends.
    fn assignment_or_dynamic_name(&mut self, i: usize, hits: &mut Vec<Hit>) -> Option<usize> {
        let b = self.low;
        if b.get(i + 1) == Some(&b'{') {
            let (v, end) = self.expr(i + 2)?;
            if let Some(h) = judge(&v, self.snippet(i, end), i) {
                hits.push(h);
            }
            return Some(end);
        }
        let (name, after) = self.variable(i + 1)?;
        let mut eq = self.skip_space(after);
        // `$a .= 'sert'` appends to what `$a` held.
        let append = b.get(eq) == Some(&b'.');
        if append {
            eq += 1;
        }
        if b.get(eq) != Some(&b'=') || matches!(b.get(eq + 1), Some(b'=' | b'>')) {
            return None;
        }
        // `$a = $a . substr(…)` before `$a` was set: PHP reads the unset variable as "".
        if !self.vars.contains_key(name) {
            let rhs = self.skip_space(eq + 1);
            if b.get(rhs) == Some(&b'$')
                && let Some((same, _)) = self.variable(rhs + 1)
                && same == name
            {
                self.vars.insert(name, Value::plain(Vec::new()));
            }
        }
        if !append && let Some((list, end)) = self.list(eq + 1) {
            // Items are judged as they are stored: `Array(base64_decode('YXNzZXJ0'), …)`; a
            // piece of a split string only once it is picked out where it is used.
            if let Some(h) = list.iter().find_map(|(_, v)| {
                if v.steps.0 & !ITEM == 0 {
                    return None;
                }
                let own = Value {
                    bytes: v.bytes.clone(),
                    steps: Steps(v.steps.0 & !ITEM),
                };
                judge(&own, self.snippet(i, end), i)
            }) {
                hits.push(h);
                return Some(end);
            }
            let size: usize = list.iter().map(|(k, v)| k.len() + v.bytes.len()).sum();
            if self.stored + size <= MAX_STORED && self.lists.len() < 10_000 {
                self.stored += size;
                self.vars.remove(name);
                self.lists.insert(name, list);
            }
            return Some(end);
        }
        // Whatever the variable held before this assignment, it holds it no more: a value that
        // cannot be folded leaves it unknown, not stale.
        let folded = self.expr(eq + 1);
        self.lists.remove(name);
        let Some((mut v, end)) = folded else {
            self.vars.remove(name);
            return None;
        };
        if append {
            let mut held = self.vars.get(name)?.clone();
            self.spend(held.bytes.len())?;
            if held.bytes.len() + v.bytes.len() > MAX_VALUE {
                return None;
            }
            held.bytes.extend_from_slice(&v.bytes);
            held.steps.0 |= v.steps.0 | JOINED;
            v = held;
        }
        if let Some(h) = judge(&v, self.snippet(i, end), i) {
            hits.push(h);
            return Some(end);
        }
        if v.bytes.len() <= MAX_VAR
            && self.stored + v.bytes.len() <= MAX_STORED
            && self.vars.len() < 100_000
        {
            self.stored += v.bytes.len();
            self.vars.insert(name, v);
        }
        Some(end)
    }

    /// An array of folded strings at `i`: `explode(sep, str)`, `str_split(str)`,
    /// `array_keys($list)`, `array_map('chr', numbers)`, or `array(…)` / `[…]` of literals
    /// with or without literal keys.
    fn list(&mut self, i: usize) -> Option<(List, usize)> {
        self.nested(|f| f.list_here(i))
    }

    /// `read` one level deeper, or `None` past [`MAX_DEPTH`].
    fn nested<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let read = read(self);
        self.depth -= 1;
        read
    }

    /// A list at `i` as [`Folder::list`] reads it, or the array a variable holds.
    fn list_or_variable(&mut self, i: usize) -> Option<(List, usize)> {
        let at = self.skip_space(i);
        if self.low.get(at) != Some(&b'$') {
            return self.list(at);
        }
        let (name, end) = self.variable(at + 1)?;
        let list = self.lists.get(name)?.clone();
        self.spend(list.iter().map(|(k, v)| k.len() + v.bytes.len()).sum())?;
        Some((list, end))
    }

    /// The end of a callback at `i` that only applies `chr`: `'chr'`,
    /// `function($c) { return chr($c); }` or `fn($c) => chr($c)`.
    fn chr_callback(&self, i: usize) -> Option<usize> {
        let b = self.low;
        let at = self.skip_space(i);
        if let Some((v, end)) = match b.get(at) {
            Some(b'\'') => self.single_quoted(at),
            Some(b'"') => self.double_quoted(at),
            _ => None,
        } {
            return (v.bytes == b"chr").then_some(end);
        }
        let token = |i: usize, t: &[u8]| {
            let i = self.skip_space(i);
            b[i..].starts_with(t).then_some(i + t.len())
        };
        let variable = |i: usize| {
            let i = self.skip_space(i);
            (b.get(i) == Some(&b'$'))
                .then(|| self.variable(i + 1))
                .flatten()
        };
        let (arrow, keyword) = match token(at, b"function") {
            Some(end) => (false, end),
            None => (true, token(at, b"fn")?),
        };
        let (param, end) = variable(token(keyword, b"(")?)?;
        let mut end = token(end, b")")?;
        end = if arrow {
            token(end, b"=>")?
        } else {
            token(token(end, b"{")?, b"return")?
        };
        let (used, end) = variable(token(token(end, b"chr")?, b"(")?)?;
        let mut end = token(end, b")")?;
        if !arrow {
            end = token(token(end, b";")?, b"}")?;
        }
        (used == param).then_some(end)
    }

    fn list_here(&mut self, i: usize) -> Option<(List, usize)> {
        let b = self.low;
        let i = self.skip_space(i);
        let word =
            |w: &[u8]| b[i..].starts_with(w) && !b.get(i + w.len()).is_some_and(|&c| is_ident(c));
        let numbered = |items: Vec<Value>| -> List {
            items
                .into_iter()
                .enumerate()
                .map(|(n, v)| (n.to_string().into_bytes(), v))
                .collect()
        };
        if word(b"explode") || word(b"str_split") {
            let split = b[i..].starts_with(b"explode");
            let open = self.skip_space(i + if split { 7 } else { 9 });
            if b.get(open) != Some(&b'(') {
                return None;
            }
            let (first, end) = self.expr(open + 1)?;
            let mut at = self.skip_space(end);
            let second = if split {
                if b.get(at) != Some(&b',') {
                    return None;
                }
                let (v, end) = self.expr(at + 1)?;
                at = self.skip_space(end);
                Some(v)
            } else {
                None
            };
            if b.get(at) != Some(&b')') {
                return None;
            }
            // A piece of a split string is hidden the way a picked character is; a list written
            // as joined literals (one per line) is not hidden by the join.
            let steps = (first.steps.0 | second.as_ref().map_or(0, |v| v.steps.0)) & !JOINED | ITEM;
            let piece = |p: &[u8]| Value {
                bytes: p.to_vec(),
                steps: Steps(steps),
            };
            let items: Vec<Value> = match &second {
                Some(text) if !first.bytes.is_empty() => {
                    let mut items = Vec::new();
                    let mut rest = &text.bytes[..];
                    while let Some(p) = memchr::memmem::find(rest, &first.bytes) {
                        items.push(piece(&rest[..p]));
                        rest = &rest[p + first.bytes.len()..];
                        if items.len() >= MAX_ITEMS {
                            return None;
                        }
                    }
                    items.push(piece(rest));
                    items
                }
                Some(_) => return None,
                None => first
                    .bytes
                    .iter()
                    .take(MAX_ITEMS)
                    .map(|&c| piece(&[c]))
                    .collect(),
            };
            return Some((numbered(items), at + 1));
        }
        if word(b"array_map") {
            // `array_map('chr', [115, 121, …])`: a name kept as character codes.
            let open = self.skip_space(i + 9);
            if b.get(open) != Some(&b'(') {
                return None;
            }
            let comma = self.skip_space(self.chr_callback(open + 1)?);
            if b.get(comma) != Some(&b',') {
                return None;
            }
            let (codes, end) = self.list_or_variable(comma + 1)?;
            let close = self.skip_space(end);
            if b.get(close) != Some(&b')') {
                return None;
            }
            let chars = codes
                .into_iter()
                .map(|(k, v)| {
                    let n = std::str::from_utf8(&v.bytes).ok()?.parse::<i64>().ok()?;
                    let steps = Steps(v.steps.0 | CHR | ITEM);
                    let bytes = vec![n.rem_euclid(256) as u8];
                    Some((k, Value { bytes, steps }))
                })
                .collect::<Option<List>>()?;
            return Some((chars, close + 1));
        }
        if word(b"array_keys") {
            let open = self.skip_space(i + 10);
            let var = self.skip_space(open + 1);
            if b.get(open) != Some(&b'(') || b.get(var) != Some(&b'$') {
                return None;
            }
            let (name, after) = self.variable(var + 1)?;
            let close = self.skip_space(after);
            if b.get(close) != Some(&b')') {
                return None;
            }
            let list = self.lists.get(name)?;
            let keys = list
                .iter()
                .map(|(k, v)| Value {
                    bytes: k.clone(),
                    steps: Steps(v.steps.0 | ITEM),
                })
                .collect();
            return Some((numbered(keys), close + 1));
        }
        let (open, close) = if word(b"array") {
            (self.skip_space(i + 5), b')')
        } else {
            (i, b']')
        };
        if b.get(open) != Some(&if close == b')' { b'(' } else { b'[' }) {
            return None;
        }
        let mut items: List = Vec::new();
        let mut next = 0usize;
        let mut at = open + 1;
        loop {
            at = self.skip_space(at);
            if b.get(at) == Some(&close) {
                return Some((items, at + 1));
            }
            // Numbers are items too: the codes of `array_map('chr', [115, 121, …])`.
            let (first, end) = self.expr_or_number(at)?;
            at = self.skip_space(end);
            let item = if b[at..].starts_with(b"=>") {
                let (v, end) = self.expr(at + 2)?;
                at = self.skip_space(end);
                if let Ok(n) = std::str::from_utf8(&first.bytes)
                    .unwrap_or("")
                    .parse::<usize>()
                {
                    next = n + 1;
                }
                (first.bytes, v)
            } else {
                next += 1;
                ((next - 1).to_string().into_bytes(), first)
            };
            items.push(item);
            if items.len() > MAX_ITEMS {
                return None;
            }
            match b.get(at) {
                Some(b',') => at += 1,
                Some(&c) if c == close => return Some((items, at + 1)),
                _ => return None,
            }
        }
    }

    /// `term ('.' term)*`.
    fn expr(&mut self, i: usize) -> Option<(Value, usize)> {
        self.nested(|f| f.joined_terms(i))
    }

    /// An expression at `i`, or else an integer one (`16*4`), joined as its digits.
    fn expr_or_number(&mut self, i: usize) -> Option<(Value, usize)> {
        self.expr(i).or_else(|| {
            let (n, end) = self.number(i)?;
            Some((Value::plain(n.to_string().into_bytes()), end))
        })
    }

    fn joined_terms(&mut self, i: usize) -> Option<(Value, usize)> {
        let (mut v, mut end) = self.term(i)?;
        loop {
            let dot = self.skip_space(end);
            if self.low.get(dot) != Some(&b'.') || self.low.get(dot + 1) == Some(&b'=') {
                return Some((v, end));
            }
            let (next, e) = self.term(dot + 1)?;
            if v.bytes.len() + next.bytes.len() > MAX_VALUE {
                return None;
            }
            self.spend(next.bytes.len())?;
            v.bytes.extend_from_slice(&next.bytes);
            v.steps.0 |= next.steps.0 | JOINED;
            end = e;
        }
    }

    fn term(&mut self, i: usize) -> Option<(Value, usize)> {
        self.budget = self.budget.checked_sub(1)?;
        let i = self.skip_space(i);
        let b = self.low;
        match *b.get(i)? {
            b'\'' => self.single_quoted(i),
            b'"' => self.double_quoted(i),
            b'(' => {
                // `(16*4)`: a number, joined as its digits.
                let (v, end) = self.expr_or_number(i + 1)?;
                let close = self.skip_space(end);
                (b.get(close) == Some(&b')')).then_some((v, close + 1))
            }
            b'$' => {
                let (name, after) = self.variable(i + 1)?;
                let open = self.skip_space(after);
                if b.get(open) == Some(&b'[')
                    && let Some(list) = self.lists.get(name)
                {
                    // An item of a folded array, by number or by literal key.
                    let at = self.skip_space(open + 1);
                    let (key, end) = match self.number(at) {
                        Some((n, end)) => (n.to_string().into_bytes(), end),
                        None => {
                            let (k, end) = match b.get(at)? {
                                b'\'' => self.single_quoted(at)?,
                                b'"' => self.double_quoted(at)?,
                                _ => return None,
                            };
                            (k.bytes, end)
                        }
                    };
                    let close = self.skip_space(end);
                    if b.get(close) != Some(&b']') {
                        return None;
                    }
                    // A list's keys are its indices; a keyed array is searched, and the search
                    // is paid for from the file's budget.
                    let by_index = std::str::from_utf8(&key)
                        .ok()
                        .and_then(|k| k.parse::<usize>().ok())
                        .and_then(|n| list.get(n))
                        .filter(|(k, _)| *k == key);
                    let (_, item) = match by_index {
                        Some(found) => found,
                        None => {
                            let cost = 1 + list.len() / 32;
                            let found = list.iter().find(|(k, _)| *k == key)?;
                            self.budget = self.budget.checked_sub(cost)?;
                            found
                        }
                    };
                    return Some((item.clone(), close + 1));
                }
                if matches!(b.get(open), Some(b'[' | b'{')) {
                    // One character of a table: read in place, the table is not copied.
                    let (n, end) = self.number(open + 1)?;
                    let close = self.skip_space(end);
                    if !matches!(b.get(close), Some(b']' | b'}')) {
                        return None;
                    }
                    let table = self.vars.get(name)?;
                    let byte = *table.bytes.get(usize::try_from(n).ok()?)?;
                    let mut picked = Value::plain(vec![byte]);
                    picked.steps.0 = table.steps.0 | PICKED;
                    return Some((picked, close + 1));
                }
                let v = self.vars.get(name)?.clone();
                self.spend(v.bytes.len())?;
                // `$f(…)` where `$f` holds the name of a function the folder knows.
                if b.get(open) == Some(&b'(') {
                    let name = v.bytes.to_ascii_lowercase();
                    let (mut called, end) = self.call_named(&name, open)?;
                    called.steps.0 |= v.steps.0;
                    return Some((called, end));
                }
                Some((v, after))
            }
            c if c.is_ascii_alphabetic() || c == b'_' => self.call(i),
            _ => None,
        }
    }

    fn single_quoted(&self, i: usize) -> Option<(Value, usize)> {
        let s = self.src;
        let mut out = Vec::new();
        let mut j = i + 1;
        while j < s.len() {
            match s[j] {
                b'\\' if matches!(s.get(j + 1), Some(b'\\' | b'\'')) => {
                    out.push(s[j + 1]);
                    j += 2;
                }
                b'\'' => return Some((Value::plain(out), j + 1)),
                c => {
                    out.push(c);
                    j += 1;
                }
            }
            if out.len() > MAX_VALUE {
                return None;
            }
        }
        None
    }

    /// A double-quoted literal with PHP's escapes; `None` when it interpolates a variable.
    fn double_quoted(&self, i: usize) -> Option<(Value, usize)> {
        double_quoted_at(self.src, i)
    }

    /// An integer expression: literals (decimal, `0x`, octal) joined by `+ - * ^ | &`, left to
    /// right, as shells write `chr(96^5)`.
    fn number(&self, i: usize) -> Option<(i64, usize)> {
        let b = self.low;
        let mut j = self.skip_space(i);
        let mut acc: Option<i64> = None;
        let mut op = b'+';
        loop {
            let radix = if b[j..].starts_with(b"0x") {
                j += 2;
                16
            } else {
                10
            };
            let digits = j;
            while j < b.len() && char::from(b[j]).is_digit(radix) {
                j += 1;
            }
            if j == digits || j - digits > 12 {
                return None;
            }
            let text = std::str::from_utf8(&b[digits..j]).ok()?;
            let n = i64::from_str_radix(text, radix).ok()?;
            acc = Some(match (acc, op) {
                (None, _) => n,
                (Some(a), b'+') => a.checked_add(n)?,
                (Some(a), b'-') => a.checked_sub(n)?,
                (Some(a), b'*') => a.checked_mul(n)?,
                (Some(a), b'^') => a ^ n,
                (Some(a), b'|') => a | n,
                (Some(a), b'&') => a & n,
                _ => return None,
            });
            let next = self.skip_space(j);
            match b.get(next) {
                Some(&c @ (b'+' | b'-' | b'*' | b'^' | b'|' | b'&'))
                    if !matches!(b.get(next + 1), Some(b'&' | b'|' | b'=')) =>
                {
                    op = c;
                    j = self.skip_space(next + 1);
                }
                _ => return Some((acc?, j)),
            }
        }
    }

    /// The arguments of the call whose name starts at `i`: each folded, or the call is not
    /// foldable.
    fn call(&mut self, i: usize) -> Option<(Value, usize)> {
        let b = self.low;
        let mut e = i;
        while e < b.len() && is_ident(b[e]) {
            e += 1;
        }
        let open = self.skip_space(e);
        if b.get(open) != Some(&b'(') {
            // A constant the script defined: `define('A', 'call');` … `A`.
            let v = self.consts.get(&self.src[i..e])?.clone();
            return Some((v, e));
        }
        if &b[i..e] == b"define" {
            // `define('A', 'call')`: kept under its name (constants are case-sensitive).
            let (name, end) = self.expr(open + 1)?;
            let comma = self.skip_space(end);
            if b.get(comma) != Some(&b',') {
                return None;
            }
            let (v, end) = self.expr(comma + 1)?;
            let close = self.skip_space(end);
            if b.get(close) != Some(&b')') {
                return None;
            }
            if v.bytes.len() <= MAX_VAR
                && self.stored + v.bytes.len() <= MAX_STORED
                && self.consts.len() < 10_000
            {
                self.stored += v.bytes.len() + name.bytes.len();
                self.consts.insert(name.bytes, v.clone());
            }
            return Some((v, close + 1));
        }
        self.call_named(&b[i..e], open)
    }

    /// The call of `name` whose `(` is at `open`.
    fn call_named(&mut self, name: &[u8], open: usize) -> Option<(Value, usize)> {
        let b = self.low;
        // Arguments are folded only for a function the folder can apply: most calls in an
        // assignment are not, and folding their arguments would be wasted work.
        if b.get(open) != Some(&b'(') || !APPLIED.contains(&name) {
            return None;
        }
        if name == b"implode" || name == b"join" {
            return self.joined_list(open);
        }
        if name == b"chr" {
            let (n, end) = self.number(open + 1)?;
            let close = self.skip_space(end);
            return (b.get(close) == Some(&b')')).then(|| {
                (
                    Value::plain(vec![(n.rem_euclid(256)) as u8]).with(CHR),
                    close + 1,
                )
            });
        }
        let mut args = Vec::new();
        let mut at = open + 1;
        loop {
            // `substr($s, 3, 4)`: numbers as arguments.
            if name == b"substr" && !args.is_empty() {
                let (n, end) = self.number(at)?;
                args.push(Value::plain(n.to_string().into_bytes()));
                at = end;
            } else {
                let (v, end) = self.expr(at)?;
                args.push(v);
                at = end;
            }
            let next = self.skip_space(at);
            match b.get(next) {
                Some(b',') if args.len() < 4 || name == b"sprintf" && args.len() < 16 => {
                    at = next + 1
                }
                Some(b')') => {
                    at = next + 1;
                    break;
                }
                _ => return None,
            }
        }
        let v = apply(name, args)?;
        (v.bytes.len() <= MAX_VALUE).then_some((v, at))
    }

    /// `implode(glue, list)` or `implode(list)` whose `(` is at `open`: the items joined.
    fn joined_list(&mut self, open: usize) -> Option<(Value, usize)> {
        let b = self.low;
        let (glue, list, end) = match self.list_or_variable(open + 1) {
            Some((list, end)) => (Value::plain(Vec::new()), list, end),
            None => {
                let (glue, end) = self.expr(open + 1)?;
                let comma = self.skip_space(end);
                if b.get(comma) != Some(&b',') {
                    return None;
                }
                let (list, end) = self.list_or_variable(comma + 1)?;
                (glue, list, end)
            }
        };
        let close = self.skip_space(end);
        if b.get(close) != Some(&b')') {
            return None;
        }
        let mut joined = Value {
            bytes: Vec::new(),
            steps: Steps(glue.steps.0 | JOINED),
        };
        for (n, (_, item)) in list.iter().enumerate() {
            if n > 0 {
                joined.bytes.extend_from_slice(&glue.bytes);
            }
            joined.bytes.extend_from_slice(&item.bytes);
            joined.steps.0 |= item.steps.0 & !ITEM;
            if joined.bytes.len() > MAX_VALUE {
                return None;
            }
        }
        self.spend(joined.bytes.len())?;
        Some((joined, close + 1))
    }
}

/// The double-quoted literal whose `"` is at `i` in `s`, with PHP's escapes read, and where it
/// ends; `None` when it interpolates a variable or does not close.
fn double_quoted_at(s: &[u8], i: usize) -> Option<(Value, usize)> {
    let mut out = Vec::new();
    let mut steps = 0;
    let mut j = i + 1;
    while j < s.len() {
        if out.len() > MAX_VALUE {
            return None;
        }
        match s[j] {
            b'"' => {
                let mut v = Value::plain(out);
                v.steps.0 = steps;
                return Some((v, j + 1));
            }
            b'$' if s.get(j + 1).is_some_and(|&c| is_ident(c) || c == b'{') => return None,
            b'{' if s.get(j + 1) == Some(&b'$') => return None,
            b'\\' => {
                let &e = s.get(j + 1)?;
                j += 2;
                match e {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'v' => out.push(0x0b),
                    b'f' => out.push(0x0c),
                    b'e' => out.push(0x1b),
                    b'\\' | b'$' | b'"' => out.push(e),
                    b'x' | b'X' if s.get(j).is_some_and(u8::is_ascii_hexdigit) => {
                        let mut n = 0u32;
                        let mut k = 0;
                        while k < 2 && s.get(j).is_some_and(u8::is_ascii_hexdigit) {
                            n = n * 16 + char::from(s[j]).to_digit(16)?;
                            j += 1;
                            k += 1;
                        }
                        out.push(n as u8);
                        steps |= ESCAPES;
                    }
                    b'0'..=b'7' => {
                        let mut n = u32::from(e - b'0');
                        let mut k = 1;
                        while k < 3 && s.get(j).is_some_and(|c| (b'0'..=b'7').contains(c)) {
                            n = n * 8 + u32::from(s[j] - b'0');
                            j += 1;
                            k += 1;
                        }
                        out.push((n & 0xff) as u8);
                        steps |= ESCAPES;
                    }
                    _ => {
                        out.push(b'\\');
                        out.push(e);
                    }
                }
            }
            c => {
                out.push(c);
                j += 1;
            }
        }
    }
    None
}

/// The text of a double-quoted PHP literal (`"/./\x65"`) as PHP reads it; `None` when it
/// interpolates a variable or is not one literal.
pub(crate) fn double_quoted_text(literal: &[u8]) -> Option<Vec<u8>> {
    let (v, end) = double_quoted_at(literal, 0).filter(|_| literal.first() == Some(&b'"'))?;
    (end == literal.len()).then_some(v.bytes)
}

/// The functions [`apply`] knows, and `chr`.
const APPLIED: &[&[u8]] = &[
    b"chr",
    b"implode",
    b"join",
    b"base64_decode",
    b"str_rot13",
    b"strrev",
    b"hex2bin",
    b"pack",
    b"urldecode",
    b"rawurldecode",
    b"sprintf",
    b"str_replace",
    b"gzinflate",
    b"gzuncompress",
    b"substr",
    b"strtolower",
    b"strtoupper",
    b"trim",
    b"ucfirst",
    b"ucwords",
];

/// One foldable PHP function applied to folded arguments.
fn apply(name: &[u8], mut args: Vec<Value>) -> Option<Value> {
    let steps = args.iter().fold(0, |s, a| s | a.steps.0);
    let one = |args: &mut Vec<Value>| (args.len() == 1).then(|| args.remove(0).bytes);
    let (bytes, step) = match name {
        b"base64_decode" => (decode::base64(&one(&mut args)?, false)?, BASE64),
        b"str_rot13" => (
            one(&mut args)?
                .into_iter()
                .map(|c| match c {
                    b'a'..=b'm' | b'A'..=b'M' => c + 13,
                    b'n'..=b'z' | b'N'..=b'Z' => c - 13,
                    _ => c,
                })
                .collect(),
            ROT13,
        ),
        b"strrev" => {
            let mut v = one(&mut args)?;
            v.reverse();
            (v, REVERSED)
        }
        b"hex2bin" => (decode::hex(&one(&mut args)?)?, HEX),
        b"pack" if args.len() == 2 && args[0].bytes.eq_ignore_ascii_case(b"h*") => {
            (decode::hex(&args[1].bytes)?, HEX)
        }
        b"urldecode" | b"rawurldecode" => (url(&one(&mut args)?), URL),
        b"str_replace" if args.len() == 3 && !args[0].bytes.is_empty() => (
            replace(&args[2].bytes, &args[0].bytes, &args[1].bytes),
            REPLACED,
        ),
        b"gzinflate" => (inflated(&one(&mut args)?, false)?, INFLATED),
        b"gzuncompress" => (inflated(&one(&mut args)?, true)?, INFLATED),
        b"substr" if (2..=3).contains(&args.len()) => {
            let s = &args[0].bytes;
            let num = |v: &Value| std::str::from_utf8(&v.bytes).ok()?.parse::<i64>().ok();
            let len = i64::try_from(s.len()).ok()?;
            let mut from = num(&args[1])?;
            if from < 0 {
                from = (len + from).max(0);
            }
            let from = from.min(len);
            let to = match args.get(2) {
                Some(l) => {
                    let l = num(l)?;
                    if l < 0 {
                        (len + l).max(from)
                    } else {
                        (from + l).min(len)
                    }
                }
                None => len,
            };
            (
                s[usize::try_from(from).ok()?..usize::try_from(to).ok()?].to_vec(),
                SUBSTR,
            )
        }
        b"strtolower" | b"strtoupper" | b"trim" | b"ucfirst" | b"ucwords" => (one(&mut args)?, 0),
        b"sprintf" if !args.is_empty() => (format_strings(&args)?, JOINED),
        _ => return None,
    };
    Some(Value {
        bytes,
        steps: Steps(steps | step),
    })
}

/// The whole inflated value, or `None` past [`MAX_VALUE`]: a truncated payload is not the
/// value PHP would compute.
fn inflated(b: &[u8], zlib: bool) -> Option<Vec<u8>> {
    decode::inflate(b, zlib, MAX_VALUE + 1).filter(|v| !v.is_empty() && v.len() <= MAX_VALUE)
}

/// `sprintf('%s_%s', 'call', 'user')` for formats of `%s` and `%%` only: how names are
/// joined from constants; any other conversion is not folded.
fn format_strings(args: &[Value]) -> Option<Vec<u8>> {
    let (format, values) = args.split_first()?;
    let mut values = values.iter();
    let mut out = Vec::new();
    let mut f = format.bytes.iter();
    while let Some(&c) = f.next() {
        if c != b'%' {
            out.push(c);
            continue;
        }
        match f.next()? {
            b'%' => out.push(b'%'),
            b's' => out.extend_from_slice(&values.next()?.bytes),
            _ => return None,
        }
    }
    Some(out)
}

fn url(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' if i + 3 <= s.len() => {
                match std::str::from_utf8(&s[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(src: &str) -> Option<String> {
        let mut hits = Vec::new();
        scan(src, &src.to_ascii_lowercase(), &mut hits, &|| false);
        hits.pop().map(|h| h.why)
    }

    #[test]
    fn names_computed_from_literals_are_found_and_explained() {
        let why = folded(r#"<?php $a="\142\x61\163\x65\x36\x34\x5f\x64\x65\x63\157\144\145"; @eval($a("ZWNobyAxOw=="));"#).unwrap();
        assert!(
            why.contains("`base64_decode`") && why.contains("hex or octal escapes"),
            "{why}"
        );
        let why = folded("<?php $GLOBALS['_1'] = Array(base64_decode('ZXJyb3JfcmV' . 'wb3J0a'), base64_decode('YX' . 'NzZXJ0'));").unwrap();
        assert!(
            why.contains("`assert`") && why.contains("base64_decode"),
            "{why}"
        );
        let why = folded("<?php $t = \"xasXrte\"; $f = $t[1] . $t[2] . $t[2] . $t[6] . $t[4] . $t[5]; $f($_POST['x']);").unwrap();
        assert!(why.contains("`assert`") && why.contains("picked"), "{why}");
        let why =
            folded(r#"<?php $k = str_replace("eu2", "", "eu2seu2teu2reu2_reu2eeu2pleu2aeu2ce"); $h = $k("so0", "", "so0baso0se64_so0decode");"#)
                .unwrap();
        assert!(
            why.contains("`base64_decode`") && why.contains("str_replace"),
            "{why}"
        );
        let why = folded("<?php $a = chr(96^5).chr(57^79).chr(15^110).chr(58^86);").unwrap();
        assert!(why.contains("`eval`"), "{why}");
        let why = folded("<?php\n$a=chr(96^5);\n$b=chr(57^79);\n$c=chr(15^110);\n$d=chr(58^86);\n$e='($_REQUEST[C])';\n@assert($a.$b.$c.$d.$e);").unwrap();
        assert!(why.contains("`eval(…)`") && why.contains("$a.$b"), "{why}");
        let why = folded(r#"<?php ${"\x47\x4c\x4fB\x41\x4c\x53"}['x'] = 1;"#).unwrap();
        assert!(why.contains("`$globals`"), "{why}");
        let why =
            folded("<?php $r = pack('H*', '406576616c286261736536345f6465636f646528');").unwrap();
        assert!(why.contains("`eval(…)`"), "{why}");
        let why = folded("<?php $p = 'cGhw';\n$r=pack('H*', '406576616c286261736536345f6465636f646528').\"\\\"$p\\\"))\";\npreg_replace('/^.*$/e', $r, 'x');").unwrap();
        assert!(why.contains("`eval(…)`"), "{why}");
        let why = folded(r#"<?php array_map("ass\x65rt", (array)$_REQUEST['x']);"#).unwrap();
        assert!(why.contains("`assert`") && why.contains("escapes"), "{why}");
        let why = folded("<?php $a = array(chr(112).chr(97), 'c451cc');\n$t = preg_replace(chr(47) . $a[1] . chr(47) . chr(101), $r[$a[0]], $a[1]);").unwrap();
        assert!(why.contains("/c451cc/e"), "{why}");
        let why = folded("<?php\n$ver = 'abcdefghijklmnopqrstuvwxyz';\n$g = $ver{1} . $ver{0} . $ver{18} . $ver{4} . (16*4) . '_' . $ver{3} . $ver{4} . $ver{2} . $ver{14} . $ver{3} . $ver{4};").unwrap();
        assert!(why.contains("`base64_decode`"), "{why}");
        let why = folded("<?php\n$oK = $oK.substr(\"lB12payJCstr_ru0Qk\",9,5);\n$in9 = ltrim(\"y9fxwgjl42\");\n$oK = $oK.substr(\"lNtLReplace\",5,6);\n$n = $n.$oK(\"fh\",\"\",\"bafhsefh64_fhd\");\n$n = $n.$oK(\"srC\",\"\",\"esrCcosrCdsrCe\");").unwrap();
        assert!(why.contains("`base64_decode`"), "{why}");
        let why = folded("<?php\ndefine('A','call');\ndefine('B','user');\ndefine('C','func');\n$call = sprintf('%s_%s_%s',A,B,C); //call_user_func").unwrap();
        assert!(why.contains("`call_user_func`"), "{why}");
        let why = folded("<?php\n$s_pass = \"\";\neval(\"\\$x=gzin\".\"flate(base\".\"64_de\".\"code(\\\"7b1pe+O4lSj8\\\"));\");eval(\"?>\".$x); ?>").unwrap();
        assert!(why.contains("`gzinflate(…)`"), "{why}");
        let why = folded(r#"<?php $m = array('k' => "s\171st\x65m");"#).unwrap();
        assert!(why.contains("`system`"), "{why}");
        let why = folded("<?php $a = str_rot13('nffreg'); $b = strrev('metsys');").unwrap();
        assert!(why.contains("`assert`"), "{why}");
        // Pieces of a split string, items and keys of a literal array.
        let why = folded("<?php $ch = explode(\".\",\"hello.ass.world.er.t\");\narray_intersect_ukey(array($_REQUEST[$password] => 1), array(1), $ch[1].$ch[3].$ch[4]);").unwrap();
        assert!(why.contains("`assert`") && why.contains("array"), "{why}");
        let keys = "<?php $p = array('f'=>'a',\n#afff\n'pffff'=>'s'/*2*/,\n'e'=>'fffff', // x\n'lfaaaa'=>'r',\n'nnnnn'=>'t');\n$a = array_keys($p);\n@$_=$p['pffff'].#/*@@*/\n$p['pffff'].$a[2];\n@$_=$p['f'].$_.$p['lfaaaa'].$p['nnnnn'];";
        let why = folded(keys).unwrap();
        assert!(why.contains("`assert`"), "{why}");
        let why =
            folded("<?php $s = str_split('tressa'); $f = $s[5].$s[4].$s[3].$s[2].$s[1].$s[0];")
                .unwrap();
        assert!(why.contains("`assert`"), "{why}");
    }

    #[test]
    fn names_kept_as_character_codes_are_joined() {
        for src in [
            "<?php $x = array_map('chr', [115, 121, 115, 116, 101, 109]);\ncall_user_func(implode('', $x), $_GET['c']);",
            "<?php $f = implode(array_map(function ($s) { return chr($s); }, array(97, 115, 115, 101, 114, 116)));",
            "<?php $c = [0x73, 0x79, 0x73, 0x74, 0x65, 0x6d]; $f = join('', array_map(fn($n) => chr($n), $c));",
            "<?php $f = implode('', ['sys', 'tem']);",
        ] {
            let found = folded(src);
            assert!(
                found
                    .as_deref()
                    .is_some_and(|w| w.contains("system") || w.contains("assert")),
                "{src}: {found:?}"
            );
        }
        // Codes that spell nothing dangerous, a callback that does more than chr(), a join of
        // ordinary words: quiet.
        for src in [
            "<?php $s = implode('', array_map('chr', [104, 101, 108, 108, 111]));",
            "<?php $s = implode('', array_map(function ($c) { return chr($c + 1); }, [114, 120, 114]));",
            "<?php $csv = implode(',', array('id', 'name', 'email'));",
        ] {
            assert_eq!(folded(src), None, "{src}");
        }
    }

    #[test]
    fn plain_and_benign_strings_stay_quiet() {
        for src in [
            // A plain literal naming a function is ordinary code.
            "<?php $f = 'base64_decode'; $x = \"eval\";",
            // Decoding data that is not code.
            "<?php $img = base64_decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB'); $s = 'a' . 'b';",
            "<?php $nl = \"\\x0d\\x0a\"; $crlf = chr(13) . chr(10); $u = urldecode('a%20b');",
            // Escapes in strings that are not names, and a regex with a backreference.
            r#"<?php echo "caf\xc3\xa9\n"; $r = preg_replace("/(a)\1/", "b", $s); f("\x1b[0m");"#,
            "<?php $q = \"SELECT * FROM t WHERE id=$id\"; $x = str_replace('a', 'b', $y);",
            // Interpolation is not foldable.
            "<?php $m = \"ev{$a}al\";",
            // A table of functions, used as written.
            "<?php $f = array('exec', 'system'); $g = $f[1]; $h = ['k' => 'assert']; $x = $h['k'];",
            "<?php $parts = explode('/', $path); $n = $parts[0] . $parts[1];",
            "<?php eval('return ' . $code . ';'); eval(\"\\$a = base64_decode(\\$b);\"); assert('is_int($x)');",
            "<?php define('MODE', 'system'); $m = sprintf('%d %s', 1, 'eval'); echo PHP_EOL; $f = MODE;",
            "<?php $re = chr(47) . 'a+' . chr(47) . 'i'; $d = '/' . 'x' . '/'; $h = '/home' . '/me';",
            "<?php $off = explode(',', 'exec,system,passthru'); foreach ($off as $f) { echo $f; }",
            "<?php $funcs = explode(' ', 'addslashes call_user_func chmod ' .\n 'file fopen');",
            // A name reassigned from what cannot be folded no longer holds its old value.
            "<?php $t = explode(',', 'x,ass,ert'); $t = get_list(); $f = $t[1] . $t[2];",
            "<?php $a = 'ass'; $a = $_GET['x']; $b = 'ert'; $f = $a . $b;",
        ] {
            assert_eq!(folded(src), None, "{src}");
        }
    }

    #[test]
    fn hostile_shapes_end_without_blowing_up() {
        // Unclosed literals, runaway chains, a huge escape run.
        for src in [
            "<?php $a = \"\\x41".to_string(),
            "<?php $a = 'x' . ".repeat(50_000),
            format!("<?php $a = \"{}\";", "\\x41".repeat(400_000)),
            format!("<?php f(\"{}", "\\x41".repeat(400_000)),
            format!("<?php f(\"$a{}\");", "\\x41".repeat(400_000)),
            format!("<?php $a = chr(1){};", ".chr(1)".repeat(100_000)),
            "<?php $a = $a . $a; $a = $a . $a;".repeat(1000),
            format!(
                "<?php $a = explode('', '{}'); $b = explode('x', '{}');",
                "a".repeat(1000),
                "x".repeat(100_000)
            ),
            format!("<?php $a = array({} 'b');", "'a', ".repeat(100_000)),
            format!(
                "<?php $a = str_split('{}'); $b = array_keys($a); $c = $b[4095].$a[0];",
                "a".repeat(1 << 20)
            ),
            "<?php $a = array('x' => 1, // unterminated".to_string(),
            // Nesting a hundred thousand deep: read to a bounded depth, not until the stack
            // runs out.
            format!(
                "<?php $a = {}'x'{};",
                "(".repeat(100_000),
                ")".repeat(100_000)
            ),
            format!(
                "<?php $a = {}'x'{};",
                "base64_decode(str_replace('a', 'b', ".repeat(50_000),
                "))".repeat(50_000)
            ),
            format!(
                "<?php $a = {}1{};",
                "array(".repeat(100_000),
                ")".repeat(100_000)
            ),
            format!(
                "<?php $a = implode('', {}[1]{});",
                "array_map('chr', ".repeat(100_000),
                ")".repeat(100_000)
            ),
            // A keyed array read a million times by a key it lacks.
            format!(
                "<?php $t = array({}); $x = {};",
                (0..1024)
                    .map(|n| format!("'k{n}' => 'v'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                "$t['nope'] . ".repeat(200_000) + "''"
            ),
        ] {
            let _ = folded(&src);
        }
    }
}
