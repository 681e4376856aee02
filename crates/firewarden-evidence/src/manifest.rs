//! The signed inventory of a bundle: what was collected, from where, by whom, when, with which
//! tool, every item's metadata and hash, and the hash-chained log of the collector's steps.
//! Plain serialisable data so the case platform can import it unchanged (`docs/bundle-format.md`).

use crate::encoding::{hex, unhex};
use firewarden_model::Timestamp;
use firewarden_source::{FileKind, Metadata};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Value of [`Manifest::format`] for what this tool writes: format 2, whose signed manifest
/// leads the stream so that readers check it before they read or extract any content.
pub const FORMAT: &str = "firewarden-bundle/2";
/// Format 1: the same manifest after the content. Still read (verified in full before anything
/// is extracted).
pub const FORMAT_1: &str = "firewarden-bundle/1";
/// Tar member holding the manifest (after every content member).
pub const MANIFEST_MEMBER: &str = "manifest.json";
/// Tar member holding the 64-byte Ed25519 signature of the manifest member's bytes.
pub const SIGNATURE_MEMBER: &str = "manifest.sig";
/// `prev` of the first log entry.
pub const CHAIN_START: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Everything a bundle says about itself; signed as the exact bytes of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Who, what, when and with which tool.
    pub header: Header,
    /// Every path the collector looked at, in the order it first did (order of volatility).
    pub items: Vec<Item>,
    /// Every step the collector took, hash-chained.
    pub log: Vec<LogEntry>,
}

/// Collection context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Unique id of this piece of evidence (random, 128 bits, hex).
    pub evidence_id: String,
    /// Case the evidence belongs to, if given.
    pub case_id: Option<String>,
    /// Who ran the collection.
    pub operator: String,
    /// Tool name and version, e.g. `firewarden 0.1.0`.
    pub tool: String,
    /// SHA-256 of the running collector binary (`/proc/self/exe`).
    pub tool_sha256: Option<String>,
    /// Full command line of the collector.
    pub command_line: Vec<String>,
    /// `triage` or `full`.
    pub profile: String,
    /// Largest stored content per file, bytes.
    pub max_file_bytes: u64,
    /// Largest stored content in total, bytes.
    pub max_total_bytes: u64,
    /// `live` (this host) or `root` (a mounted image) and its location.
    pub source_kind: String,
    /// Root directory for `root` sources, `/` for live.
    pub source_location: String,
    /// Identity of the collected host, as read from the source.
    pub host: HostIdentity,
    /// Collection start, UTC with nanoseconds.
    pub started: String,
    /// Collection end, UTC with nanoseconds.
    pub finished: String,
    /// The collecting machine's clock discipline at the start.
    pub clock: ClockState,
    /// Ed25519 public key (hex) whose signature is in `manifest.sig`.
    pub signer: String,
    /// True when the signer key was made for this run only.
    pub signer_ephemeral: bool,
    /// age recipients the bundle was encrypted to (empty: not encrypted).
    pub encrypted_to: Vec<String>,
}

/// Who the evidence came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostIdentity {
    /// `/etc/hostname` (or the kernel's for a live host).
    pub hostname: Option<String>,
    /// `/etc/machine-id`.
    pub machine_id: Option<String>,
    /// Kernel boot id (live only).
    pub boot_id: Option<String>,
    /// Kernel release (live only).
    pub kernel: Option<String>,
    /// Addresses from the routing tables at collection time (live only).
    pub addresses: Vec<String>,
}

/// How far the collector's clock can be trusted (RFC 3227 §2: record the offset to UTC).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClockState {
    /// System clock at the start, UTC.
    pub system_utc: String,
    /// Whether the kernel says its clock is synchronised (NTP/PTP discipline, `adjtimex`).
    pub synchronized: Option<bool>,
    /// Kernel's estimate of the clock error, microseconds.
    pub estimated_error_us: Option<i64>,
    /// Kernel's bound on the clock error, microseconds.
    pub max_error_us: Option<i64>,
    /// Offset of the collected host's local zone from UTC, seconds (from its `/etc/localtime`).
    pub host_zone_offset_s: Option<i64>,
}

/// One path and everything read about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Path inside the source; non-UTF-8 bytes replaced (see `path_hex`).
    pub path: String,
    /// Exact path bytes, hex, when the path is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    /// Metadata of the path itself (`lstat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lstat: Option<FileMeta>,
    /// Metadata after following symlinks, when it differs from `lstat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<FileMeta>,
    /// Symlink target as stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<Name>,
    /// Directory listing, sorted by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<Entry>>,
    /// Extended attributes that were asked for: name → hex value (absent: not set).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub xattrs: BTreeMap<String, Option<String>>,
    /// The file's bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// What could not be read, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ItemError>,
}

/// A name that may not be UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Name {
    /// Text, non-UTF-8 bytes replaced.
    pub text: String,
    /// Exact bytes, hex, when not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
}

impl Name {
    /// Records raw name bytes.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(t) => Name {
                text: t.to_string(),
                hex: None,
            },
            Err(_) => Name {
                text: String::from_utf8_lossy(bytes).into_owned(),
                hex: Some(hex(bytes)),
            },
        }
    }
    /// The exact bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.hex
            .as_deref()
            .and_then(unhex)
            .unwrap_or_else(|| self.text.as_bytes().to_vec())
    }
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Entry name.
    pub name: Name,
    /// Entry kind (`file`, `dir`, `symlink`, …).
    pub kind: String,
}

/// Stored bytes of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// Tar member holding the bytes; `None` when only hashed (see `note`). Identical content is
    /// stored once and referenced by every item that has it.
    pub member: Option<String>,
    /// Bytes stored (and hashed).
    pub size: u64,
    /// SHA-256 of exactly the stored bytes.
    pub sha256: String,
    /// Set when the file was larger than the cap: its size, of which only `size` bytes were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated_from: Option<u64>,
    /// Why the content is partial or not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A read that failed (other than "does not exist").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemError {
    /// `open`, `stat`, `lstat`, `readlink`, `readdir` or `xattr`.
    pub op: String,
    /// `permission-denied`, `symlink-loop`, `wrong-kind` or `io`.
    pub kind: String,
    /// The error text.
    pub message: String,
}

/// Metadata of one filesystem object: MACB times with nanoseconds, owner, mode, inode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// `file`, `dir`, `symlink`, `char`, `block`, `fifo`, `socket`.
    pub kind: String,
    /// Size in bytes.
    pub size: u64,
    /// Mode bits including the type, octal text (`100644`).
    pub mode: String,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// Inode.
    pub ino: u64,
    /// Device.
    pub dev: u64,
    /// Hard links.
    pub nlink: u64,
    /// Modified (RFC 3339, UTC, nanoseconds).
    pub mtime: String,
    /// Accessed.
    pub atime: String,
    /// Changed (inode).
    pub ctime: String,
    /// Born, where the filesystem records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub btime: Option<String>,
}

/// One step of the collector, chained to the previous by hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// 1, 2, 3 …
    pub seq: u64,
    /// UTC with nanoseconds.
    pub utc: String,
    /// Short step name (`start`, `live`, `triage`, `skip`, `unreadable`, `finish` …).
    pub step: String,
    /// What happened; tabs and newlines replaced by spaces.
    pub detail: String,
    /// SHA-256 (hex) of `prev-hash "\n" seq "\t" utc "\t" step "\t" detail`.
    pub hash: String,
}

/// Hash of a log entry given the previous entry's hash (see [`LogEntry::hash`]).
pub fn chain_hash(prev: &str, seq: u64, utc: &str, step: &str, detail: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(format!("{seq}\t{utc}\t{step}\t{detail}").as_bytes());
    hex(&h.finalize())
}

/// Appends a step to a hash-chained log.
pub fn log_step(log: &mut Vec<LogEntry>, step: &str, detail: &str) {
    let utc = utc_now();
    let detail: String = detail
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let seq = log.len() as u64 + 1;
    let prev = log.last().map_or(CHAIN_START, |e| e.hash.as_str());
    let hash = chain_hash(prev, seq, &utc, step, &detail);
    log.push(LogEntry {
        seq,
        utc,
        step: step.to_string(),
        detail,
        hash,
    });
}

/// Checks the log chain; the first broken link, by sequence number.
pub fn check_chain(log: &[LogEntry]) -> Result<(), String> {
    let mut prev = CHAIN_START.to_string();
    for (i, e) in log.iter().enumerate() {
        if e.seq != i as u64 + 1 {
            return Err(format!(
                "collector log entry {} is out of sequence (expected {})",
                e.seq,
                i + 1
            ));
        }
        if chain_hash(&prev, e.seq, &e.utc, &e.step, &e.detail) != e.hash {
            return Err(format!("collector log entry {} does not chain", e.seq));
        }
        prev = e.hash.clone();
    }
    Ok(())
}

/// The current UTC time with nanoseconds.
pub fn utc_now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339_ns(d.as_secs() as i64, d.subsec_nanos())
}

/// `2026-11-22T18:43:19.123456789Z`.
pub fn rfc3339_ns(secs: i64, nanos: u32) -> String {
    let whole = Timestamp(secs).to_string();
    format!("{}.{nanos:09}Z", whole.trim_end_matches('Z'))
}

/// Inverse of [`rfc3339_ns`] (also accepts no fraction).
pub fn parse_rfc3339_ns(text: &str) -> Option<(Timestamp, u32)> {
    let body = text.strip_suffix('Z')?;
    let (whole, frac) = match body.split_once('.') {
        Some((w, f)) => (w, f),
        None => (body, "0"),
    };
    if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: u32 = format!("{frac:0<9}").parse().ok()?;
    Some((Timestamp::parse(&format!("{whole}Z"))?, nanos))
}

/// The manifest name of a kind.
pub fn kind_to_name(k: FileKind) -> &'static str {
    match k {
        FileKind::File => "file",
        FileKind::Dir => "dir",
        FileKind::Symlink => "symlink",
        FileKind::CharDevice => "char",
        FileKind::BlockDevice => "block",
        FileKind::Fifo => "fifo",
        FileKind::Socket => "socket",
    }
}

/// Parses a kind name written by this module.
pub fn parse_kind(name: &str) -> Option<FileKind> {
    Some(match name {
        "file" => FileKind::File,
        "dir" => FileKind::Dir,
        "symlink" => FileKind::Symlink,
        "char" => FileKind::CharDevice,
        "block" => FileKind::BlockDevice,
        "fifo" => FileKind::Fifo,
        "socket" => FileKind::Socket,
        _ => return None,
    })
}

impl FileMeta {
    /// Records source metadata.
    pub fn from_meta(m: &Metadata) -> Self {
        FileMeta {
            kind: kind_to_name(m.kind).to_string(),
            size: m.size,
            mode: format!("{:o}", m.mode),
            uid: m.uid,
            gid: m.gid,
            ino: m.ino,
            dev: m.dev,
            nlink: m.nlink,
            mtime: rfc3339_ns(m.mtime.0, m.nsec[0]),
            atime: rfc3339_ns(m.atime.0, m.nsec[1]),
            ctime: rfc3339_ns(m.ctime.0, m.nsec[2]),
            btime: m.btime.map(|(t, n)| rfc3339_ns(t.0, n)),
        }
    }

    /// Back to source metadata; `None` when a field is malformed.
    pub fn to_meta(&self) -> Option<Metadata> {
        let (mtime, mn) = parse_rfc3339_ns(&self.mtime)?;
        let (atime, an) = parse_rfc3339_ns(&self.atime)?;
        let (ctime, cn) = parse_rfc3339_ns(&self.ctime)?;
        let btime = match &self.btime {
            Some(b) => Some(parse_rfc3339_ns(b)?),
            None => None,
        };
        Some(Metadata {
            kind: parse_kind(&self.kind)?,
            size: self.size,
            mode: u32::from_str_radix(&self.mode, 8).ok()?,
            uid: self.uid,
            gid: self.gid,
            ino: self.ino,
            dev: self.dev,
            nlink: self.nlink,
            mtime,
            atime,
            ctime,
            nsec: [mn, an, cn],
            btime,
        })
    }
}

impl Item {
    /// A fresh item for a path.
    pub fn new(path: &Path) -> Self {
        let n = Name::from_bytes(path.as_os_str().as_bytes());
        Item {
            path: n.text,
            path_hex: n.hex,
            ..Default::default()
        }
    }
    /// The exact path.
    pub fn path_buf(&self) -> PathBuf {
        match self.path_hex.as_deref().and_then(unhex) {
            Some(b) => PathBuf::from(OsString::from_vec(b)),
            None => PathBuf::from(&self.path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trip() {
        let s = rfc3339_ns(1_700_000_000, 5);
        assert_eq!(s, "2023-11-14T22:13:20.000000005Z");
        assert_eq!(parse_rfc3339_ns(&s), Some((Timestamp(1_700_000_000), 5)));
        assert_eq!(
            parse_rfc3339_ns("2023-11-14T22:13:20Z"),
            Some((Timestamp(1_700_000_000), 0))
        );
        assert!(parse_rfc3339_ns("2023-11-14T22:13:20.Z").is_none());
        assert!(parse_rfc3339_ns("2023-11-14T22:13:20.1234567890Z").is_none());
    }

    #[test]
    fn chain_detects_any_edit() {
        let mut log = Vec::new();
        log_step(&mut log, "start", "a");
        log_step(&mut log, "skip", "b\tc\n");
        log_step(&mut log, "finish", "d");
        assert_eq!(log[1].detail, "b c ");
        assert!(check_chain(&log).is_ok());
        let mut edited = log.clone();
        edited[1].detail = "x".into();
        assert!(check_chain(&edited).unwrap_err().contains("entry 2"));
        let mut dropped = log.clone();
        dropped.remove(1);
        assert!(check_chain(&dropped).is_err());
        let mut swapped = log;
        swapped.swap(0, 1);
        assert!(check_chain(&swapped).is_err());
    }
}
