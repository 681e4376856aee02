//! Authentication messages of sshd, PAM, useradd and sudo, as found in auth.log / secure.

/// What an authentication message says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuthKind {
    /// `Failed password|publickey|… for [invalid user] U from IP`.
    Failed,
    /// `Invalid user U from IP`.
    InvalidUser,
    /// `pam_unix(sshd:auth): authentication failure; … rhost=IP user=U`.
    PamFailure,
    /// `Accepted password|publickey for U from IP`.
    Accepted,
}

/// One authentication event, borrowing from the log line (no allocation on the hot path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEvent<'a> {
    /// What happened.
    pub kind: AuthKind,
    /// Account name tried or used.
    pub user: Option<&'a str>,
    /// Remote address (IP or, with UseDNS, a host name).
    pub ip: Option<&'a str>,
    /// Authentication method (`password`, `publickey`, …).
    pub method: Option<&'a str>,
    /// Key fingerprint for public-key logins.
    pub key: Option<&'a str>,
    /// How many attempts the line stands for (`message repeated N times`, `PAM N more`).
    pub count: u32,
    /// The user did not exist.
    pub invalid_user: bool,
}

/// Bytes allowed in an address or host name (a table: one load per byte on the hot path).
static HOST_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'.' | b':' | b'-' | b'_' | b'%');
        b += 1;
    }
    t
};

fn valid_host(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| HOST_BYTES[usize::from(b)])
}

use memchr::memmem::Finder;
use std::sync::LazyLock;

static FOR: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(" for "));
static FROM: LazyLock<memchr::memmem::FinderRev<'static>> =
    LazyLock::new(|| memchr::memmem::FinderRev::new(" from "));
static AUTH_FAILURE: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new("authentication failure"));

static RHOST: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("rhost="));
static USER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(" user="));

/// The word after `key` (found with a prebuilt finder: this runs on every PAM line).
fn word_after<'a>(text: &'a str, key: &Finder<'_>) -> Option<&'a str> {
    let start = key.find(text.as_bytes())? + key.needle().len();
    text[start..].split_whitespace().next()
}

fn event<'a>(
    kind: AuthKind,
    user: Option<&'a str>,
    ip: Option<&'a str>,
    count: u32,
) -> AuthEvent<'a> {
    AuthEvent {
        kind,
        user,
        ip: ip.filter(|h| valid_host(h)),
        method: None,
        key: None,
        count,
        invalid_user: false,
    }
}

/// Parses an sshd or PAM message (the part after `sshd[pid]: `).
pub fn parse_auth_message(msg: &str) -> Option<AuthEvent<'_>> {
    let mut msg = msg.trim();
    // Most sshd lines (disconnects, sessions, key exchange) are none of these: reject them on
    // their first byte before any string comparison.
    if !matches!(
        msg.as_bytes().first(),
        Some(b'F' | b'A' | b'I' | b'p' | b'P' | b'a' | b'm')
    ) {
        return None;
    }
    let mut count = 1;
    if let Some(rest) = msg.strip_prefix("message repeated ") {
        let (n, rest) = rest.split_once(" times: [")?;
        count = n.trim().parse().ok()?;
        msg = rest.trim().trim_end_matches(']').trim();
    }
    for (prefix, kind) in [
        ("Failed ", AuthKind::Failed),
        ("Accepted ", AuthKind::Accepted),
    ] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            let at_for = FOR.find(rest.as_bytes())?;
            let (method, rest) = (&rest[..at_for], &rest[at_for + 5..]);
            let (invalid, rest) = match rest.strip_prefix("invalid user ") {
                Some(r) => (true, r),
                None => (false, rest),
            };
            // The user name may itself contain " from " — take the last occurrence.
            let at = FROM.rfind(rest.as_bytes())?;
            let user = &rest[..at];
            let ip = rest[at + 6..].split_whitespace().next();
            let mut ev = event(kind, Some(user), ip, count);
            ev.method = Some(method);
            ev.invalid_user = invalid;
            if kind == AuthKind::Accepted
                && let Some((_, key)) = rest.split_once(": ")
            {
                ev.key = Some(key.trim());
            }
            return Some(ev);
        }
    }
    if let Some(rest) = msg.strip_prefix("Invalid user ") {
        let at = FROM.rfind(rest.as_bytes())?;
        let ip = rest[at + 6..].split_whitespace().next();
        let mut ev = event(AuthKind::InvalidUser, Some(&rest[..at]), ip, count);
        ev.invalid_user = true;
        return Some(ev);
    }
    let pam = msg
        .strip_prefix("pam_unix(sshd:auth): ")
        .or_else(|| msg.strip_prefix("PAM ").map(|_| msg))
        .or_else(|| msg.starts_with("authentication failure;").then_some(msg));
    if let Some(rest) = pam {
        AUTH_FAILURE.find(rest.as_bytes())?;
        let ip = word_after(rest, &RHOST);
        let user = word_after(rest, &USER);
        let mut ev = event(AuthKind::PamFailure, user, ip, count);
        if let Some(n) = msg
            .strip_prefix("PAM ")
            .and_then(|r| r.split_whitespace().next())
        {
            ev.count = n.parse().unwrap_or(1);
        }
        return Some(ev);
    }
    None
}

/// Returns the new account's name from a `useradd` line (`new user: name=x, UID=…`).
pub fn parse_new_user(msg: &str) -> Option<(String, Option<u32>)> {
    let rest = msg.strip_prefix("new user: name=")?;
    let name = rest.split(',').next()?.trim().to_string();
    let uid =
        word_after(rest, &Finder::new("UID=")).and_then(|u| u.trim_end_matches(',').parse().ok());
    Some((name, uid))
}

/// A command run through sudo: `alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/bash`,
/// as (user, command), borrowed from the line.
pub fn parse_sudo(msg: &str) -> Option<(&str, &str)> {
    static SEP: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(" : "));
    static COMMAND: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("COMMAND="));
    let sep = SEP.find(msg.as_bytes())?;
    let rest = &msg[sep + 3..];
    let at = COMMAND.find(rest.as_bytes())?;
    Some((msg[..sep].trim(), rest[at + 8..].trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn failed_and_accepted() {
        let f = parse_auth_message("Failed password for root from 183.62.140.253 port 48190 ssh2")
            .unwrap();
        assert_eq!(
            (f.kind, f.user, f.ip),
            (AuthKind::Failed, Some("root"), Some("183.62.140.253"))
        );
        let a = parse_auth_message(
            "Accepted publickey for deploy from 10.0.0.5 port 22 ssh2: RSA SHA256:abc",
        )
        .unwrap();
        assert_eq!(a.kind, AuthKind::Accepted);
        assert_eq!(a.method, Some("publickey"));
        assert_eq!(a.key, Some("RSA SHA256:abc"));
    }

    #[test]
    fn repeated_and_pam_counts() {
        let r = parse_auth_message(
            "message repeated 5 times: [ Failed password for root from 1.2.3.4 port 1 ssh2]",
        )
        .unwrap();
        assert_eq!(r.count, 5);
        let p = parse_auth_message("PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=5.6.7.8  user=root").unwrap();
        assert_eq!(
            (p.kind, p.count, p.ip, p.user),
            (AuthKind::PamFailure, 2, Some("5.6.7.8"), Some("root"))
        );
        let l = parse_auth_message(
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ",
        )
        .unwrap();
        assert_eq!(l.ip, Some("218.188.2.4"));
    }

    #[test]
    fn hostile_ip_field_is_dropped() {
        let f =
            parse_auth_message("Failed password for root from 1.2.3.4\x1b[2J port 1 ssh2").unwrap();
        assert_eq!(f.ip, None);
    }

    #[test]
    fn useradd_and_sudo() {
        assert_eq!(
            parse_new_user("new user: name=backup2, UID=0, GID=0, home=/root, shell=/bin/bash"),
            Some(("backup2".into(), Some(0)))
        );
        assert_eq!(
            parse_sudo("alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash"),
            Some(("alice", "/bin/bash"))
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,120}") { let _ = parse_auth_message(&s); let _ = parse_new_user(&s); let _ = parse_sudo(&s); }
        #[test]
        fn never_panics_near_misses(s in "(message repeated [0-9]{0,3} times: \\[ )?(Failed|Accepted|Invalid user) .{0,20}( from .{0,20})?") { let _ = parse_auth_message(&s); }
    }
}
