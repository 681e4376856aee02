//! Package-manager records read straight from disk (dpkg's `info/*.md5sums` and `*.list`), so
//! that integrity checks never run the host's possibly replaced `dpkg`.

/// Parses a dpkg `.md5sums` file: `HEX  relative/path` per line. Returns (path with leading
/// `/`, 32-hex digest) pairs; malformed lines are skipped.
pub fn parse_md5sums(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (hash, path) = line.split_once(char::is_whitespace)?;
            let path = path.trim_start();
            (hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && !path.is_empty())
                .then(|| {
                    (
                        format!("/{}", path.trim_start_matches('/')),
                        hash.to_ascii_lowercase(),
                    )
                })
        })
        .collect()
}

/// Installed package names from dpkg's `status` file (stanzas whose `Status:` ends in
/// `installed`).
pub fn installed_packages(status: &str) -> Vec<String> {
    let mut out = Vec::new();
    for stanza in status.split("\n\n") {
        let mut name = None;
        let mut installed = false;
        for line in stanza.lines() {
            if let Some(n) = line.strip_prefix("Package: ") {
                name = Some(n.trim().to_string());
            } else if let Some(s) = line.strip_prefix("Status: ") {
                installed = s.trim().ends_with(" installed");
            }
        }
        if let (Some(n), true) = (name, installed) {
            out.push(n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn md5sums_lines() {
        let v = parse_md5sums("d41d8cd98f00b204e9800998ecf8427e  usr/bin/ls\nbad line\n");
        assert_eq!(
            v,
            vec![(
                "/usr/bin/ls".to_string(),
                "d41d8cd98f00b204e9800998ecf8427e".to_string()
            )]
        );
    }

    #[test]
    fn status_stanzas() {
        let s = "Package: a\nStatus: install ok installed\n\nPackage: b\nStatus: deinstall ok config-files\n";
        assert_eq!(installed_packages(s), vec!["a"]);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") { let _ = parse_md5sums(&s); let _ = installed_packages(&s); }
    }
}
