//! Whether the source held the evidence the selected checks read. A check that finds nothing
//! because its file is missing, empty, or a FIFO, device or directory planted in its place has
//! not cleared the host: each gap is a warning, and the verdict never says "no sign of
//! compromise" while there is one. Adding an evidence source is one entry in [`CORE`].

use firewarden_source::{FileKind, Source};
use std::path::Path;

/// One piece of core evidence.
struct Core {
    /// What it is, for the warning.
    what: &'static str,
    /// Where it may be; the first that holds data counts. A directory counts when it has
    /// entries.
    paths: &'static [&'static str],
    /// Check-id prefixes that read it: a gap matters only when one of them ran.
    needed_by: &'static [&'static str],
    /// What is lost without it.
    consequence: &'static str,
}

const CORE: &[Core] = &[
    Core {
        what: "the account database (/etc/passwd)",
        paths: &["/etc/passwd"],
        needed_by: &["linux.accounts", "linux.ssh", "linux.persistence"],
        consequence: "backdoor accounts and every account's keys and profiles could not be checked",
    },
    Core {
        what: "authentication logs",
        paths: &[
            "/var/log/auth.log",
            "/var/log/secure",
            "/var/log/auth.log.1",
            "/var/log/secure.1",
            "/var/log/journal",
            "/run/log/journal",
        ],
        needed_by: &["linux.logins"],
        consequence: "logins, brute force and the entry point could not be traced",
    },
    Core {
        what: "login records (/var/log/wtmp)",
        paths: &["/var/log/wtmp", "/var/log/wtmp.1"],
        needed_by: &["linux.logins", "linux.logs"],
        consequence: "sessions and log tampering could not be cross-checked",
    },
    Core {
        what: "system configuration (/etc)",
        paths: &["/etc"],
        needed_by: &["linux."],
        consequence: "persistence (cron, systemd, rc, profiles, sudo) could not be checked",
    },
];

/// The gaps, worded for warnings, and whether nothing at all was there.
pub(crate) struct Coverage {
    pub gaps: Vec<String>,
    pub nothing: bool,
}

/// Looks for each core source the selected checks need. `ran` says whether a check id ran;
/// `extra_auth_logs` is true when auth logs were given besides the source's own.
pub(crate) fn assess(
    src: &dyn Source,
    ran: &dyn Fn(&str) -> bool,
    extra_auth_logs: bool,
) -> Coverage {
    let mut gaps = Vec::new();
    let mut needed = 0;
    let mut absent = 0;
    for core in CORE {
        if !core.needed_by.iter().any(|p| ran(p))
            || (extra_auth_logs && core.needed_by == ["linux.logins"])
        {
            continue;
        }
        needed += 1;
        let states: Vec<(String, State)> = core
            .paths
            .iter()
            .map(|p| (p.to_string(), state(src, Path::new(p))))
            .collect();
        if states.iter().any(|(_, s)| *s == State::Present) {
            continue;
        }
        absent += 1;
        let odd: Vec<String> = states
            .iter()
            .filter_map(|(p, s)| match s {
                State::Missing => None,
                other => Some(format!("{p} is {}", other.describe())),
            })
            .collect();
        gaps.push(format!(
            "{} {}: {}",
            core.what,
            if odd.is_empty() {
                "is missing".to_owned()
            } else {
                format!("is not usable ({})", odd.join("; "))
            },
            core.consequence
        ));
    }
    Coverage {
        nothing: needed > 0 && absent == needed,
        gaps,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Present,
    Missing,
    Empty,
    /// A FIFO, device, socket or directory where a file should be (or a file where a
    /// directory should be).
    Wrong(FileKind),
    Unreadable,
}

impl State {
    fn describe(self) -> String {
        match self {
            State::Present => "present".into(),
            State::Missing => "missing".into(),
            State::Empty => "empty".into(),
            State::Wrong(k) => format!(
                "a {} in place of the expected file or directory",
                kind_name(k)
            ),
            State::Unreadable => "unreadable".into(),
        }
    }
}

fn kind_name(k: FileKind) -> &'static str {
    match k {
        FileKind::Dir => "directory",
        FileKind::File => "regular file",
        FileKind::Symlink => "symlink",
        FileKind::Fifo => "FIFO",
        FileKind::Socket => "socket",
        FileKind::BlockDevice | FileKind::CharDevice => "device",
    }
}

fn state(src: &dyn Source, path: &Path) -> State {
    let wants_dir = matches!(
        path.to_str(),
        Some("/etc" | "/var/log/journal" | "/run/log/journal")
    );
    match src.metadata(path) {
        Err(e) if e.is_not_found() => State::Missing,
        Err(_) => State::Unreadable,
        Ok(m) if wants_dir && m.kind == FileKind::Dir => match src.read_dir(path) {
            Ok(entries) if entries.is_empty() => State::Empty,
            Ok(_) => State::Present,
            Err(_) => State::Unreadable,
        },
        Ok(m) if !wants_dir && m.kind == FileKind::File => {
            if m.size == 0 {
                State::Empty
            } else {
                State::Present
            }
        }
        Ok(m) => State::Wrong(m.kind),
    }
}
