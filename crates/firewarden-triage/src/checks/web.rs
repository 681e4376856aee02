//! Webshells in web roots (checklist row 43, the basic form; the full scanner is `firewarden
//! scan`).

use crate::check::{Check, CheckMeta};
use crate::context::Ctx;
use firewarden_model::{EventKind, Severity};
use firewarden_source::{FileKind, WalkEntry, WalkOptions, display_path, read_capped, walk};
use std::path::{Path, PathBuf};

const DEFAULT_ROOTS: &[&str] = &[
    "/var/www",
    "/srv/www",
    "/srv/http",
    "/usr/share/nginx/html",
    "/home/wwwroot",
    "/www/wwwroot",
    "/var/lib/tomcat9/webapps",
    "/var/lib/tomcat10/webapps",
    "/opt/tomcat/webapps",
    "/usr/local/nginx/html",
    "/usr/local/apache2/htdocs",
];
const SCRIPT_EXT: &[&str] = &[
    "php", "php3", "php4", "php5", "php7", "phtml", "phar", "inc", "jsp", "jspx", "asp", "aspx",
    "ashx", "asmx", "cer", "cgi", "pl",
];
const IMAGE_EXT: &[&str] = &["jpg", "jpeg", "png", "gif", "ico", "bmp", "webp"];

const PHP_INPUT: &[&str] = &[
    "$_get",
    "$_post",
    "$_request",
    "$_cookie",
    "$_files",
    "$_server['http_",
    "$_server[\"http_",
    "php://input",
    "getallheaders",
    "$_session",
];
const PHP_EXEC: &[&str] = &[
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
    "call_user_func(",
    "call_user_func_array(",
    "array_map(",
    "usort(",
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

/// Web roots: the usual places plus `root` (nginx) and `DocumentRoot` (Apache) from configs.
fn web_roots(ctx: &mut Ctx) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = DEFAULT_ROOTS.iter().map(PathBuf::from).collect();
    let mut confs = Vec::new();
    for dir in [
        "/etc/nginx",
        "/etc/nginx/sites-enabled",
        "/etc/nginx/conf.d",
        "/usr/local/nginx/conf",
        "/etc/apache2",
        "/etc/apache2/sites-enabled",
        "/etc/httpd/conf",
        "/etc/httpd/conf.d",
    ] {
        confs.extend(super::files_in(ctx, Path::new(dir)));
    }
    for conf in confs {
        let Some(text) = super::read_config(ctx, &conf) else {
            continue;
        };
        for line in text.lines() {
            let t = line.trim();
            let value = t
                .strip_prefix("root ")
                .or_else(|| t.strip_prefix("DocumentRoot "));
            if let Some(v) = value {
                let v = v.trim().trim_end_matches(';').trim_matches('"');
                if v.starts_with('/') && v.len() > 1 && !v.contains('$') {
                    roots.push(PathBuf::from(v));
                }
            }
        }
    }
    roots.sort();
    roots.dedup();
    // Drop roots inside other roots: they would be scanned twice.
    let all = roots.clone();
    roots.retain(|r| !all.iter().any(|o| o != r && r.starts_with(o)));
    roots
}

/// Why a script looks like a webshell, if it does.
pub fn webshell_reason(content: &str) -> Option<(Severity, &'static str)> {
    let lower = content.to_ascii_lowercase();
    let t = lower.as_str();
    let statements = t.split([';', '\n', '{', '}']);
    for s in statements {
        let input = PHP_INPUT.iter().any(|i| s.contains(i));
        if !input {
            if DECODERS.iter().any(|d| s.contains(d))
                && (s.contains("eval(") || s.contains("assert("))
            {
                return Some((
                    Severity::Critical,
                    "evaluates a decoded/obfuscated payload (eval of base64/gzinflate/rot13)",
                ));
            }
            continue;
        }
        if PHP_EXEC
            .iter()
            .any(|e| s.contains(e) && !s.contains(&format!("function {e}")))
            && !s.contains("htmlspecialchars(")
        {
            return Some((
                Severity::Critical,
                "passes request input to a code or command execution function",
            ));
        }
        if s.contains("preg_replace(") && (s.contains("/e\"") || s.contains("/e'")) {
            return Some((
                Severity::Critical,
                "uses preg_replace with the /e modifier on request input",
            ));
        }
        if s.contains('`') {
            return Some((
                Severity::Critical,
                "runs request input in backticks (shell execution)",
            ));
        }
        for i in ["$_get[", "$_post[", "$_request[", "$_cookie["] {
            if let Some(pos) = s.find(i)
                && let Some(close) = s[pos..].find(']')
                && s[pos + close + 1..].trim_start().starts_with('(')
            {
                return Some((
                    Severity::Critical,
                    "calls a function whose name comes from the request",
                ));
            }
        }
    }
    if t.contains("runtime.getruntime().exec(") && t.contains("request.getparameter")
        || t.contains("processbuilder") && t.contains("request.getparameter")
    {
        return Some((
            Severity::Critical,
            "JSP that runs commands from request parameters",
        ));
    }
    if t.contains("defineclass")
        && (t.contains("base64") || t.contains("getparameter") || t.contains("aes"))
        && t.contains("classloader")
    {
        return Some((
            Severity::Critical,
            "JSP that defines classes from request data (Behinder/Godzilla-style)",
        ));
    }
    if (t.contains("eval(request") || t.contains("execute(request") || t.contains("eval (request"))
        || t.contains("process.start") && t.contains("request") && t.contains("<%")
    {
        return Some((
            Severity::Critical,
            "ASP(X) that evaluates or runs request input",
        ));
    }
    None
}

/// Checklist row 43 (basic form).
pub const WEBSHELL: Check = Check {
    meta: CheckMeta {
        id: "linux.web.webshell",
        title: "Webshells in web roots",
        attack: &["T1505.003"],
        severity: Severity::Critical,
        rows: &[43],
        live_state: false,
        description: "Walks web roots (defaults plus nginx `root` and Apache `DocumentRoot` from the configs) and reads PHP/JSP/ASP(X) scripts: request input passed to eval/assert/system and friends, eval of decoded payloads, request-named function calls, JSP Runtime.exec/defineClass, ASPX eval; PHP code hidden in image files.",
    },
    run: |ctx| {
        let opts = WalkOptions {
            max_depth: 16,
            skip: Vec::new(),
            max_entries: 500_000,
        };
        for root in web_roots(ctx) {
            let mut files = Vec::new();
            walk(ctx.src, &root, &opts, &mut |e| {
                if let WalkEntry::Entry { path, meta } = e
                    && meta.kind == FileKind::File
                    && meta.size <= 2 << 20
                {
                    files.push(path);
                }
            });
            for path in files {
                let ext = path
                    .extension()
                    .map(|e| e.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default();
                let script = SCRIPT_EXT.contains(&ext.as_str());
                let image = IMAGE_EXT.contains(&ext.as_str());
                if !script && !image {
                    continue;
                }
                let Ok((bytes, _)) = read_capped(ctx.src, &path, 2 << 20) else {
                    continue;
                };
                let content = String::from_utf8_lossy(&bytes);
                let hit = if image {
                    (content.contains("<?php") || content.contains("<?="))
                        .then_some((Severity::High, "is an image file that contains PHP code"))
                } else {
                    webshell_reason(&content)
                };
                let Some((sev, why)) = hit else { continue };
                let ev = ctx.file_evidence(&path);
                let line = content.lines().position(|l| {
                    let l = l.to_ascii_lowercase();
                    PHP_EXEC.iter().any(|e| l.contains(e))
                        || l.contains("<?php") && image
                        || l.contains("exec(")
                        || l.contains("defineclass")
                });
                let excerpt = line.and_then(|i| content.lines().nth(i)).unwrap_or("");
                let mut ev = ev.excerpt(excerpt);
                ev.line = line.map(|i| i as u64 + 1);
                let mtime = ev.mtime;
                let mut f = ctx
                    .finding(format!("Webshell: {}", display_path(&path)))
                    .explain(format!("{} {why}. Such a file lets anyone on the internet run commands on this server as the web user.", display_path(&path)))
                    .recommend("Preserve the file and the web access logs; find the first request to it (the attacker's IP and entry time), then remove it and patch the hole that let it be uploaded.")
                    .evidence(ev)
                    .at_time(mtime);
                f.severity = sev;
                ctx.report_with_event(f, EventKind::FileChange, None, None);
            }
        }
        Ok(())
    },
};

#[cfg(test)]
mod tests {
    use super::webshell_reason;

    #[test]
    fn classic_one_liners_are_recognised() {
        assert!(webshell_reason("<?php @eval($_POST['pass']); ?>").is_some());
        assert!(webshell_reason("<?php system($_GET[\"c\"]); ?>").is_some());
        assert!(webshell_reason("<?php $_GET['f']($_GET['a']); ?>").is_some());
        assert!(webshell_reason("<?php eval(gzinflate(base64_decode('...'))); ?>").is_some());
        assert!(
            webshell_reason("<% Runtime.getRuntime().exec(request.getParameter(\"cmd\")); %>")
                .is_some()
        );
    }

    #[test]
    fn ordinary_php_is_quiet() {
        assert!(webshell_reason("<?php echo htmlspecialchars($_GET['q']); ?>").is_none());
        assert!(
            webshell_reason("<?php $id = (int)$_GET['id']; $db->query('SELECT 1'); ?>").is_none()
        );
        assert!(webshell_reason("<?php require __DIR__.'/wp-load.php'; ?>").is_none());
    }
}
