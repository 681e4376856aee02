//! A learned webshell model: a logistic regression over the words of a script, pairs of
//! adjacent words, punctuation shapes and a few measures of the file's layout, with the usual
//! encodings (base64, base64 of deflate, `\x..` escapes, `chr()` chains) unwrapped first so the
//! code inside them is read too.
//!
//! One model per language, trained by `scripts/train-webshell-model.sh` (the example
//! `train_webshell_model`, seeded, so retraining reproduces the weights) and committed as
//! `models/webshell-LANG.tsv`. A detection names the words that weighed most, so it still says
//! why.

use crate::heuristics::ScriptKind;
use foldhash::{HashMap, HashMapExt};
use std::sync::OnceLock;

/// Bytes of a file the model reads: shells are small, and a library's first MiB says what it is.
pub const MAX_BYTES: usize = 1 << 20;

/// Total bytes of decoded payload read per file, across every layer.
const DECODE_BUDGET: usize = 4 << 20;

/// The kind of script the model reads in a file named `name`: a script by its extension, or
/// server code found in a file that is text. Binary files with `<?` somewhere in them (images,
/// archives) are left to the rules and heuristics, which look for code appended to pictures.
pub fn applies(name: &str, data: &[u8]) -> Option<ScriptKind> {
    let kind = crate::heuristics::script_kind(name, data)?;
    readable(name, data).then_some(kind)
}

/// Whether the model reads a script: named as one (a `.phar` archive only when it is text), or
/// text with server code in it.
pub fn readable(name: &str, data: &[u8]) -> bool {
    let archive = name.to_ascii_lowercase().ends_with(".phar");
    if crate::heuristics::script_kind_by_name(name).is_some() && !archive {
        return true;
    }
    let head = &data[..data.len().min(8 << 10)];
    head.iter()
        .filter(|&&c| c == b'\n' || c == b'\r' || c == b'\t' || c >= 0x20 && c != 0x7f)
        .count()
        * 100
        >= head.len() * 95
        && !head.contains(&0)
}

/// Calls `emit` once per feature occurrence of the script (the same feature may come more than
/// once; models count it once). The training example and the scanner share this function, so
/// what the weights mean cannot drift from what the scanner reads.
pub fn visit_features(data: &[u8], emit: &mut dyn FnMut(&str)) {
    let data = &data[..data.len().min(MAX_BYTES)];
    // Script Encoder pages are read decoded, as the server runs them.
    let decoded = crate::decode::script_encoder(data);
    let data = decoded.as_ref().map_or(data, |d| &d.text[..]);
    layout(data, emit);
    let mut budget = DECODE_BUDGET;
    read_layer(data, 0, &mut budget, emit);
}

/// Words and shapes of one layer (the file, or a payload decoded from it), then the layers
/// decoded from this one.
fn read_layer(data: &[u8], depth: usize, budget: &mut usize, emit: &mut dyn FnMut(&str)) {
    let lower = data.to_ascii_lowercase();
    words(&lower, emit);
    if depth >= 3 {
        return;
    }
    for payload in decoded_payloads(data, &lower, emit, budget) {
        read_layer(&payload, depth + 1, budget, emit);
    }
}

/// The words the model weighs on their own: what scripts call to run code and commands,
/// decode, reach sockets, and what shells call themselves. These, [`CONTEXT`] and pairs of
/// them are the only word features: a model free to weigh every word learns which benign
/// projects were in its training set, and flags the next project it has not seen.
const SIGNAL: &[&str] = &[
    "__halt_compiler",
    "aes",
    "allocateinstance",
    "apache_child_terminate",
    "apache_setenv",
    "array_filter",
    "array_map",
    "array_reduce",
    "array_walk",
    "assembly",
    "assert",
    "backdoor",
    "base64_decode",
    "base64decoder",
    "bash",
    "bcel",
    "bypass",
    "call_user_func",
    "call_user_func_array",
    "cipher",
    "classloader",
    "closure",
    "cmd",
    "convert_uudecode",
    "create_function",
    "createdecryptor",
    "createinstance",
    "createvalueexpression",
    "crypt",
    "cryptography",
    "curl_exec",
    "decodebuffer",
    "defineclass",
    "diagnostics",
    "disable_functions",
    "disk_free_space",
    "disk_total_space",
    "dl",
    "dofinal",
    "drives",
    "escape",
    "eval",
    "exe",
    "exec",
    "execute",
    "executeglobal",
    "exploit",
    "expressionfactory",
    "extract",
    "forward_static_call",
    "frombase64string",
    "fromcallable",
    "fsockopen",
    "func_get_arg",
    "func_get_args",
    "get_defined_functions",
    "getallheaders",
    "getdeclaredconstructor",
    "getdeclaredfield",
    "getdeclaredmethod",
    "getdecoder",
    "getenginebyname",
    "geterrorstream",
    "getruntime",
    "gzcompress",
    "gzdecode",
    "gzdeflate",
    "gzencode",
    "gzinflate",
    "gzuncompress",
    "hack",
    "hacked",
    "hacker",
    "hex2bin",
    "highlight_file",
    "ignore_user_abort",
    "ini_restore",
    "invokeargs",
    "invokemember",
    "iterator_apply",
    "loadclass",
    "mb_ereg_replace",
    "mcrypt_decrypt",
    "move_uploaded_file",
    "mssql_connect",
    "mysql_dump",
    "nashorn",
    "objectinputstream",
    "oci_connect",
    "open_basedir",
    "openssl_decrypt",
    "openssl_encrypt",
    "parse_str",
    "passthru",
    "passwd",
    "pcntl_exec",
    "pcntl_fork",
    "pfsockopen",
    "php_uname",
    "phpinfo",
    "phpversion",
    "popen",
    "posix_geteuid",
    "posix_getgrgid",
    "posix_getpwuid",
    "posix_getuid",
    "posix_kill",
    "preg_filter",
    "preg_replace",
    "preg_replace_callback",
    "proc_open",
    "processbuilder",
    "processstartinfo",
    "putenv",
    "randomaccessfile",
    "readall",
    "readalltext",
    "readobject",
    "redirectstandardoutput",
    "reflection",
    "reflectionfunction",
    "register_shutdown_function",
    "register_tick_function",
    "regread",
    "regwrite",
    "rijndaelmanaged",
    "rmdir",
    "run",
    "runtime",
    "safe_mode",
    "scriptengine",
    "scriptenginemanager",
    "scripttimeout",
    "secretkeyspec",
    "serversocket",
    "serverxmlhttp",
    "setaccessible",
    "shadow",
    "shell",
    "shell_exec",
    "show_source",
    "socket_connect",
    "socket_create",
    "spy",
    "sqlsrv_connect",
    "standardoutput",
    "stderr",
    "stdout",
    "str_rot13",
    "stream_socket_client",
    "stream_socket_server",
    "strreverse",
    "strtr",
    "system",
    "templatesimpl",
    "transformfinalblock",
    "uasort",
    "uksort",
    "uname",
    "unescape",
    "unsafe",
    "uploader",
    "urlclassloader",
    "useshellexecute",
    "usort",
    "webshell",
    "whoami",
    "winhttp",
    "writeallbytes",
    "writealltext",
    "wscript",
    "xmlhttp",
];

/// Words benign code uses all the time (reading the request, files, databases, strings):
/// weighed only in a statement together with a [`SIGNAL`] word, such as `$_post` with `eval`.
const CONTEXT: &[&str] = &[
    "$_cookie",
    "$_env",
    "$_files",
    "$_get",
    "$_post",
    "$_request",
    "$_server",
    "$_session",
    "$globals",
    "$http_raw_post_data",
    "adodb",
    "application",
    "arguments",
    "asc",
    "ascw",
    "base64",
    "base64_encode",
    "bin",
    "bin2hex",
    "binarywrite",
    "bufferedreader",
    "chmod",
    "chown",
    "chr",
    "chrb",
    "chrw",
    "command",
    "connection",
    "convert",
    "cookies",
    "copy",
    "copyfile",
    "createobject",
    "createstatement",
    "createtextfile",
    "curl_init",
    "decode",
    "delete",
    "deletefile",
    "die",
    "drivermanager",
    "encoding",
    "end",
    "error_reporting",
    "executenonquery",
    "executequery",
    "executereader",
    "exit",
    "explode",
    "file",
    "file_exists",
    "file_get_contents",
    "file_put_contents",
    "fileinputstream",
    "filemtime",
    "filename",
    "fileoutputstream",
    "fileperms",
    "filesize",
    "filesystemobject",
    "filewriter",
    "fopen",
    "form",
    "forname",
    "fputs",
    "function_exists",
    "fwrite",
    "getabsolutepath",
    "getbytes",
    "getclass",
    "getconnection",
    "getcwd",
    "getenv",
    "getfile",
    "getfolder",
    "getheader",
    "getinputstream",
    "getinstance",
    "getmethod",
    "getoutputstream",
    "getparameter",
    "getproperty",
    "getquerystring",
    "getreader",
    "getstring",
    "gettype",
    "glob",
    "header",
    "http_accept_language",
    "http_referer",
    "http_user_agent",
    "http_x_forwarded_for",
    "implode",
    "include",
    "include_once",
    "ini_get",
    "ini_set",
    "input",
    "inputstreamreader",
    "invoke",
    "io",
    "is_callable",
    "is_writable",
    "is_writeable",
    "item",
    "java",
    "javascript",
    "join",
    "jscript",
    "lang",
    "language",
    "left",
    "listfiles",
    "load",
    "loadfromfile",
    "mappath",
    "md5",
    "mid",
    "mkdir",
    "mkdirs",
    "movefile",
    "mysql_connect",
    "mysql_fetch_array",
    "mysql_query",
    "mysql_select_db",
    "mysqli_connect",
    "mysqli_query",
    "network",
    "newinstance",
    "ob_end_clean",
    "ob_get_clean",
    "ob_get_contents",
    "ob_start",
    "oledbconnection",
    "opendir",
    "opentextfile",
    "ord",
    "out",
    "pack",
    "page_load",
    "pagecontext",
    "pass",
    "password",
    "pg_connect",
    "process",
    "pwd",
    "querystring",
    "rawurldecode",
    "readdir",
    "readfile",
    "readline",
    "recordset",
    "remote_addr",
    "rename",
    "renameto",
    "replace",
    "request",
    "require",
    "require_once",
    "response",
    "right",
    "root",
    "runat",
    "savetofile",
    "scandir",
    "scripting",
    "serialize",
    "server",
    "servervariables",
    "session",
    "session_start",
    "set_time_limit",
    "setcookie",
    "sh",
    "sha1",
    "socket",
    "split",
    "sprintf",
    "sqlconnection",
    "start",
    "str_ireplace",
    "str_replace",
    "str_split",
    "stream",
    "strrev",
    "strtolower",
    "strtoupper",
    "substr",
    "sys_get_temp_dir",
    "tempnam",
    "tmpfile",
    "tobase64string",
    "touch",
    "unlink",
    "unpack",
    "unserialize",
    "upload",
    "urldecode",
    "utf8",
    "var_dump",
    "vbscript",
    "write",
    "writeline",
];

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// What a vocabulary word does, across languages: `@exec` for `system`, `exec`,
/// `ProcessBuilder`; `@input` for `$_POST`, `getParameter`, `Request.Form`. A collection's
/// shell that uses `passthru` and another's that uses `shell_exec` then share a feature.
fn role(word: &str) -> Option<&'static str> {
    const ROLES: &[(&str, &[&str])] = &[
        (
            "@input",
            &[
                "$_get",
                "$_post",
                "$_request",
                "$_cookie",
                "$_files",
                "$http_raw_post_data",
                "getallheaders",
                "getparameter",
                "getheader",
                "getquerystring",
                "getreader",
                "querystring",
                "form",
                "request",
                "servervariables",
            ],
        ),
        (
            "@exec",
            &[
                "system",
                "exec",
                "shell_exec",
                "passthru",
                "popen",
                "proc_open",
                "pcntl_exec",
                "getruntime",
                "processbuilder",
                "wscript",
                "processstartinfo",
                "useshellexecute",
            ],
        ),
        (
            "@eval",
            &[
                "eval",
                "assert",
                "create_function",
                "execute",
                "executeglobal",
                "call_user_func",
                "call_user_func_array",
                "defineclass",
                "scriptengine",
                "getenginebyname",
                "register_shutdown_function",
                "array_map",
                "usort",
            ],
        ),
        (
            "@reflect",
            &[
                "forname",
                "getmethod",
                "getdeclaredmethod",
                "invoke",
                "loadclass",
                "classloader",
                "urlclassloader",
                "setaccessible",
                "reflection",
                "assembly",
                "createinstance",
                "invokemember",
                "reflectionfunction",
                "newinstance",
            ],
        ),
        (
            "@decode",
            &[
                "base64_decode",
                "gzinflate",
                "gzuncompress",
                "gzdecode",
                "str_rot13",
                "strrev",
                "hex2bin",
                "convert_uudecode",
                "frombase64string",
                "decodebuffer",
                "getdecoder",
                "base64decoder",
                "unescape",
            ],
        ),
        (
            "@write",
            &[
                "file_put_contents",
                "fwrite",
                "fputs",
                "move_uploaded_file",
                "fileoutputstream",
                "filewriter",
                "savetofile",
                "createtextfile",
                "writeallbytes",
                "writealltext",
            ],
        ),
        (
            "@crypto",
            &[
                "cipher",
                "secretkeyspec",
                "dofinal",
                "rijndaelmanaged",
                "createdecryptor",
                "transformfinalblock",
                "openssl_decrypt",
                "mcrypt_decrypt",
            ],
        ),
        (
            "@net",
            &[
                "fsockopen",
                "pfsockopen",
                "socket_create",
                "socket",
                "serversocket",
                "stream_socket_client",
            ],
        ),
    ];
    ROLES
        .iter()
        .find(|(_, words)| words.contains(&word))
        .map(|(role, _)| *role)
}

/// Every vocabulary word with whether it is only context and its role, looked up once per word.
fn lexicon() -> &'static HashMap<&'static str, (bool, Option<&'static str>)> {
    static LEXICON: OnceLock<HashMap<&'static str, (bool, Option<&'static str>)>> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let words = |list: &'static [&'static str], context: bool| {
            list.iter().map(move |&w| (w, (context, role(w))))
        };
        words(SIGNAL, false).chain(words(CONTEXT, true)).collect()
    })
}

/// One statement's vocabulary words and roles, each with whether it is only context.
struct Statement {
    words: Vec<(&'static str, bool)>,
    /// The variable this statement assigns, when it starts `x = …`.
    assigns: Option<String>,
    /// Words seen so far in the statement.
    seen: usize,
}

impl Statement {
    fn add(&mut self, word: &'static str, context: bool) {
        if self.words.len() < 16 && !self.words.iter().any(|(w, _)| *w == word) {
            self.words.push((word, context));
        }
    }
}

/// The words of [`SIGNAL`] and [`CONTEXT`] (`eval`, `$_post`), their calls (`eval(`), their roles
/// (`@exec`), pairs of them in one statement (`$_post&eval`, `@eval&@input`), calls of
/// variables (`$f(`). A variable assigned from request input counts as `@input` wherever it is
/// used later: `$c = $_POST['c']; … system($c)` pairs `@exec` with `@input` like
/// `system($_POST['c'])` does.
fn words(t: &[u8], emit: &mut dyn FnMut(&str)) {
    let lexicon = lexicon();
    let mut st = Statement {
        words: Vec::new(),
        assigns: None,
        seen: 0,
    };
    let mut tainted: Vec<String> = Vec::new();
    let mut buf = String::new();
    let mut i = 0;
    while i < t.len() {
        let b = t[i];
        if matches!(b, b';' | b'\n' | b'{' | b'}') {
            end_statement(&mut st, &mut tainted, &mut buf, emit);
            i += 1;
            continue;
        }
        let starts_word = is_word(b) || (b == b'$' && t.get(i + 1).is_some_and(|&c| is_word(c)));
        if starts_word {
            let start = i;
            i += 1;
            while i < t.len() && is_word(t[i]) {
                i += 1;
            }
            let w = &t[start..i];
            st.seen += 1;
            if w.len() > 32 {
                emit(if w.iter().all(u8::is_ascii_hexdigit) {
                    "#longhex"
                } else {
                    "#longword"
                });
                continue;
            }
            let mut j = i;
            while j < t.len() && t[j] == b' ' {
                j += 1;
            }
            let call = t.get(j) == Some(&b'(');
            // Only ASCII word bytes here, so this cannot fail.
            let word = std::str::from_utf8(w).unwrap_or_default();
            // `x = …` or `String x = …` at the start of a statement: remember `x`.
            if st.seen <= 3
                && t.get(j) == Some(&b'=')
                && t.get(j + 1) != Some(&b'=')
                && word.len() > 1
            {
                st.assigns = Some(word.to_string());
            }
            if let Some((&word, &(context, role))) = lexicon.get_key_value(word) {
                if !context {
                    emit(word);
                }
                if call && !context {
                    buf.clear();
                    buf.push_str(word);
                    buf.push('(');
                    emit(&buf);
                }
                st.add(word, context);
                if let Some(r) = role {
                    let input = r == "@input";
                    if !input {
                        emit(r);
                    }
                    st.add(r, input);
                }
            } else {
                if call && w[0] == b'$' {
                    emit("#varcall");
                }
                if tainted.iter().any(|v| v == word) {
                    st.add("@input", true);
                }
            }
        } else if b == b'$' && t.get(i + 1) == Some(&b'{') {
            emit("#dollarbrace");
            i += 1;
        } else {
            i += 1;
        }
    }
    end_statement(&mut st, &mut tainted, &mut buf, emit);
}

/// Emits the statement's pairs, remembers the variable it fills with request input, and
/// starts the next statement.
fn end_statement(
    st: &mut Statement,
    tainted: &mut Vec<String>,
    buf: &mut String,
    emit: &mut dyn FnMut(&str),
) {
    if let Some(var) = st.assigns.take()
        && st.words.iter().any(|(w, _)| *w == "@input")
        && tainted.len() < 64
        && !tainted.contains(&var)
    {
        tainted.push(var);
    }
    pairs(&mut st.words, buf, emit);
    st.seen = 0;
}

/// Emits every pair of vocabulary words seen in one statement, then forgets the statement.
fn pairs(statement: &mut Vec<(&'static str, bool)>, buf: &mut String, emit: &mut dyn FnMut(&str)) {
    statement.sort_unstable();
    for (n, (a, a_context)) in statement.iter().enumerate() {
        for (b, b_context) in &statement[n + 1..] {
            if *a_context && *b_context {
                continue;
            }
            buf.clear();
            buf.push_str(a);
            buf.push('&');
            buf.push_str(b);
            emit(buf);
        }
    }
    statement.clear();
}

/// Binned measures of the file's layout: size, longest line, share of long lines, entropy,
/// and counts of `chr(`/`\x` pieces.
fn layout(data: &[u8], emit: &mut dyn FnMut(&str)) {
    let bucket = |n: usize| usize::BITS - n.leading_zeros();
    let mut longest = 0;
    let mut long_lines = 0;
    let mut lines = 0;
    for line in data.split(|&b| b == b'\n') {
        lines += 1;
        longest = longest.max(line.len());
        if line.len() > 300 {
            long_lines += 1;
        }
    }
    emit(&format!("#size:{}", bucket(data.len()).clamp(6, 21)));
    emit(&format!("#lines:{}", bucket(lines).min(14)));
    emit(&format!("#longest:{}", bucket(longest).clamp(6, 17)));
    if long_lines > 0 {
        emit(&format!("#longlines:{}", (long_lines * 10 / lines).min(9)));
    }
    let h = crate::heuristics::entropy(data);
    emit(&format!("#entropy:{}", (h * 2.0) as u32));
    let count = |n: &[u8]| memchr::memmem::find_iter(data, n).count();
    let chr = count(b"chr(") + count(b"Chr(") + count(b"CHR(");
    if chr >= 5 {
        emit(&format!("#chr:{}", bucket(chr).min(10)));
    }
    let hex = count(b"\\x");
    if hex >= 8 {
        emit(&format!("#hexesc:{}", bucket(hex).min(10)));
    }
}

/// Payloads hidden in the text: base64 runs (and deflate inside them), `\xNN` escapes and
/// `chr(N)` chains, each decoded and kept when it reads as text.
fn decoded_payloads(
    data: &[u8],
    lower: &[u8],
    emit: &mut dyn FnMut(&str),
    budget: &mut usize,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (start, end) in crate::decode::base64_runs(data) {
        if *budget == 0 {
            break;
        }
        let run = &data[start..end];
        // Long, and mixed like base64 is (not one long identifier or a hex digest).
        if run.len() < 40
            || !run.iter().any(u8::is_ascii_digit)
            || !run.iter().any(u8::is_ascii_uppercase)
            || !run.iter().any(u8::is_ascii_lowercase)
        {
            continue;
        }
        let Some(bytes) = crate::decode::base64(run, true) else {
            continue;
        };
        *budget = budget.saturating_sub(bytes.len());
        if texty(&bytes) {
            emit("#decoded:base64");
            out.push(bytes);
        } else if let Some(text) = inflate(&bytes, budget) {
            emit("#decoded:deflate");
            out.push(text);
        } else {
            emit("#decoded:binary");
        }
    }
    let escaped = unescape_hex(data);
    if escaped.len() >= 8 {
        emit("#decoded:hex");
        *budget = budget.saturating_sub(escaped.len());
        out.push(escaped);
    }
    let chars = chr_chain(lower);
    if chars.len() >= 5 {
        emit("#decoded:chr");
        out.push(chars);
    }
    out
}

/// Mostly printable text (what code decodes to), not random bytes.
fn texty(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .filter(|&&c| c == b'\n' || c == b'\r' || c == b'\t' || (0x20..0x7f).contains(&c))
            .count()
            * 100
            >= b.len() * 90
}

/// Raw deflate (`gzinflate`) or zlib (`gzuncompress`) of `b`, when it inflates to text.
fn inflate(b: &[u8], budget: &mut usize) -> Option<Vec<u8>> {
    let limit = (*budget).min(MAX_BYTES);
    let raw = [false, true]
        .into_iter()
        .find_map(|zlib| crate::decode::inflate(b, zlib, limit).filter(|r| texty(r)))?;
    *budget = budget.saturating_sub(raw.len());
    Some(raw)
}

/// Every `\xNN` escape of the file decoded, in order.
fn unescape_hex(data: &[u8]) -> Vec<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    memchr::memmem::find_iter(data, b"\\x")
        .filter_map(|p| Some(hex(*data.get(p + 2)?)? * 16 + hex(*data.get(p + 3)?)?))
        .collect()
}

/// Every `chr(N)` of the (lowercased) file decoded, in order.
fn chr_chain(lower: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in memchr::memmem::find_iter(lower, b"chr(") {
        let digits: Vec<u8> = lower[p + 4..]
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_digit())
            .copied()
            .collect();
        if let Some(n) = std::str::from_utf8(&digits)
            .ok()
            .and_then(|d| d.parse::<u8>().ok())
        {
            out.push(n);
        }
    }
    out
}

/// A trained model: a weight per feature, a bias, and the score from which a file is flagged.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Feature → weight.
    pub weights: HashMap<Box<str>, f32>,
    /// Added to every score.
    pub bias: f32,
    /// Files scoring at or above this are webshells.
    pub threshold: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_models_load() {
        for kind in [ScriptKind::Php, ScriptKind::Asp, ScriptKind::Jsp] {
            let text = match kind {
                ScriptKind::Php => include_str!("../models/webshell-php.tsv"),
                ScriptKind::Asp => include_str!("../models/webshell-asp.tsv"),
                ScriptKind::Jsp => include_str!("../models/webshell-jsp.tsv"),
            };
            let m = Model::parse(text).expect("model parses");
            assert!(m.weights.len() > 50, "{kind:?} model has weights");
            assert!(m.threshold > 0.0);
        }
    }

    #[test]
    fn a_plain_one_liner_scores_above_a_template() {
        let m = model(ScriptKind::Php);
        let shell = m.judge(b"<?php $c = $_POST['c']; echo shell_exec($c); ?>");
        let page = m.judge(b"<?php echo htmlspecialchars($title); ?>\n<p>Hello</p>");
        assert!(shell.score > page.score);
        assert!(shell.reasons.iter().any(|(f, _)| f.contains("shell_exec")));
    }

    #[test]
    fn features_survive_junk() {
        for data in [
            &b""[..],
            b"\xff\xfe\x00<?php",
            b"$",
            b"${",
            b"\\x",
            b"chr(999)",
        ] {
            visit_features(data, &mut |_| {});
        }
        let blob = "QUFB".repeat(100_000);
        visit_features(blob.as_bytes(), &mut |_| {});
    }

    #[test]
    fn every_role_word_is_a_feature_word_once() {
        for w in SIGNAL {
            assert!(!CONTEXT.contains(w), "{w} is both signal and context");
        }
        let words: Vec<&str> = SIGNAL.iter().chain(CONTEXT).copied().collect();
        for w in [
            "$_post",
            "getparameter",
            "system",
            "defineclass",
            "cipher",
            "socket",
        ] {
            assert!(role(w).is_some() && words.contains(&w), "{w}");
        }
        assert_eq!(lexicon().len(), words.len());
    }

    #[test]
    fn reasons_read_as_words() {
        assert_eq!(describe("eval("), "calls `eval()`");
        assert_eq!(
            describe("@exec&@input"),
            "command execution and request input in one statement"
        );
        assert_eq!(describe("#varcall"), "calls a function named by a variable");
    }

    #[test]
    fn decoders_unwrap_base64_and_deflate() {
        let mut seen = Vec::new();
        // base64 of "eval($_POST['x']);" written out by hand-free means: the encoder below.
        let payload = b"eval($_POST['x']); system($_GET['c']); // padding padding";
        let b64 = encode(payload);
        visit_features(format!("<?php $a = '{b64}';").as_bytes(), &mut |f| {
            seen.push(f.to_string())
        });
        assert!(seen.iter().any(|f| f == "#decoded:base64"));
        assert!(seen.iter().any(|f| f == "system("));
    }

    fn encode(b: &[u8]) -> String {
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in b.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for k in 0..=c.len() {
                out.push(T[(n >> (18 - 6 * k) & 63) as usize] as char);
            }
        }
        out
    }
}

/// A file's score and the features that raised it most.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Log-odds that the file is a webshell.
    pub score: f32,
    /// The model's threshold.
    pub threshold: f32,
    /// The heaviest features present, heaviest first, with their weights.
    pub reasons: Vec<(String, f32)>,
}

impl Model {
    /// Parses the committed TSV: `#bias\tB`, `#threshold\tT`, then `feature\tweight` lines.
    pub fn parse(text: &str) -> Result<Model, String> {
        let mut m = Model::default();
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with("# ") {
                continue;
            }
            let (k, v) = line
                .rsplit_once('\t')
                .ok_or_else(|| format!("line {}: no tab", n + 1))?;
            let v: f32 = v
                .parse()
                .map_err(|_| format!("line {}: weight {v:?} is not a number", n + 1))?;
            match k {
                "#bias" => m.bias = v,
                "#threshold" => m.threshold = v,
                _ => {
                    m.weights.insert(k.into(), v);
                }
            }
        }
        Ok(m)
    }

    /// Writes the model as [`Model::parse`] reads it, features sorted so diffs stay readable.
    pub fn to_tsv(&self, header: &str) -> String {
        let mut out = String::new();
        for l in header.lines() {
            out.push_str("# ");
            out.push_str(l);
            out.push('\n');
        }
        out.push_str(&format!(
            "#bias\t{}\n#threshold\t{}\n",
            self.bias, self.threshold
        ));
        let mut w: Vec<_> = self.weights.iter().collect();
        w.sort_by(|a, b| a.0.cmp(b.0));
        for (k, v) in w {
            out.push_str(&format!("{k}\t{v}\n"));
        }
        out
    }

    /// Scores a script.
    pub fn judge(&self, data: &[u8]) -> Verdict {
        let mut seen: HashMap<&str, f32> = HashMap::new();
        visit_features(data, &mut |f| {
            if let Some((k, w)) = self.weights.get_key_value(f) {
                seen.insert(k, *w);
            }
        });
        let score = self.bias + seen.values().sum::<f32>();
        let mut reasons: Vec<(String, f32)> = seen
            .into_iter()
            .filter(|(_, w)| *w > 0.0)
            .map(|(k, w)| (k.to_string(), w))
            .collect();
        reasons.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        reasons.truncate(6);
        Verdict {
            score,
            threshold: self.threshold,
            reasons,
        }
    }
}

/// A feature in words, for the finding's explanation.
pub fn describe(feature: &str) -> String {
    fn role(r: &str) -> &str {
        match r {
            "@input" => "request input",
            "@exec" => "command execution",
            "@eval" => "code evaluation",
            "@reflect" => "reflection",
            "@decode" => "a decoder",
            "@write" => "a file write",
            "@crypto" => "decryption",
            "@net" => "a socket",
            other => other,
        }
    }
    let word = |w: &str| {
        if w.starts_with('@') {
            role(w).to_string()
        } else {
            format!("`{w}`")
        }
    };
    if let Some((a, b)) = feature.split_once('&') {
        return format!("{} and {} in one statement", word(a), word(b));
    }
    if let Some(call) = feature.strip_suffix('(') {
        return format!("calls `{call}()`");
    }
    if feature.starts_with('@') {
        return format!("uses {}", role(feature));
    }
    let (name, bin) = feature.split_once(':').unwrap_or((feature, ""));
    let bin: u32 = bin.parse().unwrap_or(0);
    match name {
        "#varcall" => "calls a function named by a variable".into(),
        "#dollarbrace" => "`${…}` variable names".into(),
        "#longword" => "a very long unbroken word".into(),
        "#longhex" => "a very long hex string".into(),
        "#decoded" => format!(
            "a {bin_name} payload that decodes to text",
            bin_name = feature.split_once(':').map_or("", |(_, k)| k)
        ),
        "#size" => format!("{}–{} bytes", 1u64 << bin.saturating_sub(1), 1u64 << bin),
        "#lines" => format!("{}–{} lines", 1u64 << bin.saturating_sub(1), 1u64 << bin),
        "#longest" => format!("a line of {}+ bytes", 1u64 << bin.saturating_sub(1)),
        "#longlines" => format!("{}0%+ of lines over 300 bytes", bin),
        "#entropy" => format!(
            "byte entropy {:.1}–{:.1} bits",
            f64::from(bin) / 2.0,
            f64::from(bin + 1) / 2.0
        ),
        "#chr" => "many `chr()` calls".into(),
        "#hexesc" => "many `\\x` escapes".into(),
        _ => format!("`{feature}`"),
    }
}

/// The committed model for scripts of `kind`.
pub fn model(kind: ScriptKind) -> &'static Model {
    static PHP: OnceLock<Model> = OnceLock::new();
    static ASP: OnceLock<Model> = OnceLock::new();
    static JSP: OnceLock<Model> = OnceLock::new();
    let (cell, text) = match kind {
        ScriptKind::Php => (&PHP, include_str!("../models/webshell-php.tsv")),
        ScriptKind::Asp => (&ASP, include_str!("../models/webshell-asp.tsv")),
        ScriptKind::Jsp => (&JSP, include_str!("../models/webshell-jsp.tsv")),
    };
    // The files are ours and checked by a test; an unreadable one is a build mistake.
    cell.get_or_init(|| Model::parse(text).unwrap_or_default())
}

/// The model's finding for a script that nothing else flagged, when it scores at or above
/// its threshold.
pub fn hit(kind: ScriptKind, data: &[u8]) -> Option<crate::Hit> {
    let m = model(kind);
    if m.weights.is_empty() {
        return None;
    }
    let v = m.judge(data);
    if v.score < v.threshold {
        return None;
    }
    let reasons: Vec<String> = v.reasons.iter().map(|(f, _)| describe(f)).collect();
    let severity = if v.score >= v.threshold + 4.0 {
        firewarden_model::Severity::High
    } else {
        firewarden_model::Severity::Medium
    };
    Some(crate::Hit {
        check: "scan.model.webshell",
        severity,
        title: "Looks like a webshell".into(),
        why: format!(
            "the webshell model scores it {:.1} (flagged from {:.1}; trained on public webshells and benign web code): {}. Read it before acting: no single line proves it",
            v.score,
            v.threshold,
            reasons.join("; ")
        ),
        attack: vec!["T1505.003".into()],
        offset: None,
        rule: None,
    })
}
