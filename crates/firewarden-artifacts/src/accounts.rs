//! `/etc/passwd`, `/etc/shadow` and `/etc/group` entries.

/// One `/etc/passwd` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// 1-based line number.
    pub line: u64,
    /// Account name.
    pub name: String,
    /// Password field (`x` when the hash is in shadow).
    pub password: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

impl PasswdEntry {
    /// True when the shell lets the account log in interactively.
    pub fn has_login_shell(&self) -> bool {
        let s = self.shell.trim();
        !(s.ends_with("/nologin")
            || s.ends_with("/false")
            || s == "/bin/sync"
            || s == "/sbin/shutdown"
            || s == "/sbin/halt"
            || s.ends_with("/git-shell"))
    }
}

/// Parses `/etc/passwd`; malformed lines are returned by number in the second list.
pub fn parse_passwd(text: &str) -> (Vec<PasswdEntry>, Vec<u64>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        if line.trim().is_empty()
            || line.starts_with('#')
            || line.starts_with('+')
            || line.starts_with('-')
        {
            continue;
        }
        let f: Vec<&str> = line.split(':').collect();
        match (
            f.len(),
            f.get(2).and_then(|u| u.parse().ok()),
            f.get(3).and_then(|g| g.parse().ok()),
        ) {
            (7, Some(uid), Some(gid)) => ok.push(PasswdEntry {
                line: line_no,
                name: f[0].to_string(),
                password: f[1].to_string(),
                uid,
                gid,
                home: f[5].to_string(),
                shell: f[6].to_string(),
            }),
            _ => bad.push(line_no),
        }
    }
    (ok, bad)
}

/// One `/etc/shadow` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowEntry {
    /// 1-based line number.
    pub line: u64,
    /// Account name.
    pub name: String,
    /// Hash field.
    pub hash: String,
    /// Day of the last password change (days since 1970), when set.
    pub last_change_day: Option<i64>,
}

/// What a shadow hash field says about the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    /// Empty field: login without a password.
    Empty,
    /// `*`, `!`, `!!` or `!`-prefixed: locked or no password.
    Locked,
    /// Traditional DES crypt (13 chars): trivially cracked.
    Des,
    /// `$1$` MD5-crypt: weak.
    Md5,
    /// `$2*$` bcrypt, `$5$`/`$6$` SHA-crypt, `$y$`/`$7$` yescrypt/scrypt, `$gy$`.
    Strong,
    /// Anything else, possibly a plaintext password.
    Unknown,
}

/// Classifies a shadow hash field.
pub fn classify_hash(hash: &str) -> HashKind {
    let h = hash.trim();
    if h.is_empty() {
        HashKind::Empty
    } else if h.starts_with('!') || h.starts_with('*') {
        HashKind::Locked
    } else if h.starts_with("$1$") {
        HashKind::Md5
    } else if [
        "$2a$", "$2b$", "$2y$", "$5$", "$6$", "$y$", "$7$", "$gy$", "$sha1$",
    ]
    .iter()
    .any(|p| h.starts_with(p))
    {
        HashKind::Strong
    } else if h.len() == 13
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
    {
        HashKind::Des
    } else {
        HashKind::Unknown
    }
}

/// Parses `/etc/shadow`.
pub fn parse_shadow(text: &str) -> Vec<ShadowEntry> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() >= 3 && !f[0].is_empty() && !line.starts_with('#')).then(|| ShadowEntry {
                line: i as u64 + 1,
                name: f[0].to_string(),
                hash: f[1].to_string(),
                last_change_day: f[2].parse().ok(),
            })
        })
        .collect()
}

/// Parses `/etc/group` into (group name, gid, members, line).
pub fn parse_group(text: &str) -> Vec<(String, u32, Vec<String>, u64)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() != 4 {
                return None;
            }
            let members = f[3]
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect();
            Some((f[0].to_string(), f[2].parse().ok()?, members, i as u64 + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn passwd_and_shells() {
        let (e, bad) = parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\nbroken:line\n",
        );
        assert_eq!(bad, vec![3]);
        assert!(e[0].has_login_shell());
        assert!(!e[1].has_login_shell());
    }

    #[test]
    fn hash_classes() {
        assert_eq!(classify_hash(""), HashKind::Empty);
        assert_eq!(classify_hash("!$6$abc"), HashKind::Locked);
        assert_eq!(classify_hash("$1$salt$hash"), HashKind::Md5);
        assert_eq!(classify_hash("$y$j9T$abc$def"), HashKind::Strong);
        assert_eq!(classify_hash("abJnggxhB/yWI"), HashKind::Des);
        assert_eq!(classify_hash("hunter2"), HashKind::Unknown);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") { let _ = parse_passwd(&s); let _ = parse_shadow(&s); let _ = parse_group(&s); }
    }
}
