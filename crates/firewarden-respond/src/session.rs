//! The responder's own SSH session, so that no action takes away the way in: which key it
//! logged in with, matched from sshd's `Accepted publickey … from IP port PORT` log line
//! (never by running `who` or `ssh-keygen`).

use crate::nft;
use firewarden_evidence::encoding::{base64, unbase64};
use sha2::{Digest, Sha256};

/// The OpenSSH fingerprint (`SHA256:…`, base64 without padding) of the key in an
/// authorized_keys line, options and comment allowed; `None` when the line holds no key.
pub fn key_fingerprint(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.starts_with("ssh-") || w.starts_with("ecdsa-") || w.starts_with("sk-"))?;
    let blob = unbase64(words.get(at + 1)?)?;
    Some(format!(
        "SHA256:{}",
        base64(&Sha256::digest(&blob)).trim_end_matches('=')
    ))
}

/// The fingerprint in the last sshd line accepting a key from `ip` port `port`, read with the
/// project's sshd message parser.
pub fn accepted_key(log: &str, ip: &str, port: u16) -> Option<String> {
    use firewarden_artifacts::sshd::{AuthKind, parse_auth_message};
    let needle = format!(" from {ip} port {port} ");
    log.lines()
        .rev()
        .filter(|l| l.contains(&needle))
        .filter_map(|l| parse_auth_message(&l[l.find("Accepted ")?..]))
        .find(|ev| ev.kind == AuthKind::Accepted && ev.method == Some("publickey"))
        .and_then(|ev| {
            ev.key?
                .split_whitespace()
                .find(|w| w.starts_with("SHA256:"))
        })
        .map(str::to_string)
}

/// Most bytes read from the end of an auth log.
const LOG_TAIL: u64 = 8 << 20;

/// The fingerprint of the key this responder's SSH session logged in with, from the live
/// host's auth log; `None` when not an SSH session, a password login, or no log says.
pub fn own_key_fingerprint() -> Option<String> {
    let session = nft::responder_session()?;
    let port = session.client_port?;
    let ip = session.client.addr.to_string();
    for log in ["/var/log/auth.log", "/var/log/secure"] {
        let Ok(file) = firewarden_source::open_read_only(std::path::Path::new(log)) else {
            continue;
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut tail = Vec::new();
        use std::io::{Read, Seek, SeekFrom};
        let mut file = file;
        if file
            .seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL)))
            .is_ok()
            && file.take(LOG_TAIL).read_to_end(&mut tail).is_ok()
            && let Some(fp) = accepted_key(&String::from_utf8_lossy(&tail), &ip, port)
        {
            return Some(fp);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_match_openssh() {
        // A key made with `ssh-keygen -t ed25519`; `ssh-keygen -lf` printed this fingerprint.
        let line = "command=\"echo hi\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKBwE2PGnWTrdsfs+MBmYuAXoJMcS87NNn2ttLNhWSey admin@corp";
        assert_eq!(
            key_fingerprint(line).as_deref(),
            Some("SHA256:1b/7QJezk9jCK8jEDoTm91hHZ7HK3WhSPQsGdR26DYA")
        );
        assert_eq!(key_fingerprint("# a comment"), None);
        assert_eq!(key_fingerprint("ssh-ed25519 !!notbase64!!"), None);
    }

    #[test]
    fn the_session_key_comes_from_the_matching_accept_line() {
        let log = "Nov 30 08:00:01 web01 sshd[100]: Accepted publickey for root from 198.51.100.7 port 50022 ssh2: ED25519 SHA256:old\n\
                   Nov 30 08:00:02 web01 sshd[101]: Accepted password for root from 198.51.100.7 port 50023 ssh2\n\
                   Nov 30 08:00:03 web01 sshd[102]: Accepted publickey for root from 198.51.100.7 port 50022 ssh2: ED25519 SHA256:new\n";
        assert_eq!(
            accepted_key(log, "198.51.100.7", 50022).as_deref(),
            Some("SHA256:new")
        );
        assert_eq!(accepted_key(log, "198.51.100.7", 50023), None);
        assert_eq!(accepted_key(log, "198.51.100.70", 50022), None);
    }
}
