//! Parsers for the Linux artifacts a triage reads. Every parser takes bytes that an attacker may
//! control: none panics, none allocates without bound, and every one reports what it skipped.
//!
//! ```
//! use firewarden_artifacts::sshd::{parse_auth_message, AuthKind};
//!
//! let ev = parse_auth_message("Failed password for invalid user admin from 203.0.113.9 port 4242 ssh2").unwrap();
//! assert_eq!(ev.kind, AuthKind::Failed);
//! assert_eq!(ev.ip, Some("203.0.113.9"));
//! assert_eq!(ev.user, Some("admin"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod accounts;
pub mod caps;
pub mod history;
pub mod journal;
pub mod lines;
pub mod packages;
pub mod procnet;
pub mod rpm;
pub mod sshd;
pub mod syslog;
pub mod tzif;
pub mod utmp;
pub mod weblog;

/// Bytes as text, invalid UTF-8 replaced and control characters escaped.
pub(crate) fn lossy(b: &[u8]) -> String {
    firewarden_model::printable(&String::from_utf8_lossy(b), 4096)
}
