//! Binary login records: utmp/wtmp/btmp (`struct utmp`, 384 bytes on 64-bit glibc) and lastlog.

use firewarden_model::Timestamp;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Size of one glibc `struct utmp` record on Linux.
pub const RECORD_SIZE: usize = 384;
/// Size of one `struct lastlog` record (indexed by uid).
pub const LASTLOG_SIZE: usize = 292;

/// Record types of `ut_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    /// Empty slot.
    Empty,
    /// Run level change.
    RunLevel,
    /// System boot.
    Boot,
    /// Clock changed (new time).
    NewTime,
    /// Clock changed (old time).
    OldTime,
    /// Process spawned by init.
    Init,
    /// Session leader of a logged-in user (getty).
    LoginProcess,
    /// A user login.
    User,
    /// A session ended.
    Dead,
    /// Accounting.
    Accounting,
}

impl RecordType {
    fn from_raw(v: i32) -> Option<Self> {
        Some(match v {
            0 => RecordType::Empty,
            1 => RecordType::RunLevel,
            2 => RecordType::Boot,
            3 => RecordType::NewTime,
            4 => RecordType::OldTime,
            5 => RecordType::Init,
            6 => RecordType::LoginProcess,
            7 => RecordType::User,
            8 => RecordType::Dead,
            9 => RecordType::Accounting,
            _ => return None,
        })
    }
}

/// One login record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Byte offset in the file.
    pub offset: u64,
    /// Record type.
    pub kind: RecordType,
    /// Process id.
    pub pid: i32,
    /// Terminal, e.g. `pts/0`.
    pub line: String,
    /// User name.
    pub user: String,
    /// Remote host as recorded.
    pub host: String,
    /// Remote address from `ut_addr_v6`, when set.
    pub addr: Option<IpAddr>,
    /// Time of the record.
    pub time: Timestamp,
}

/// Something wrong with a record, a sign of corruption or tampering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anomaly {
    /// A record of all zero bytes between real records: typical of log cleaners that blank
    /// entries in place.
    Zeroed {
        /// Byte offset.
        offset: u64,
    },
    /// Type field out of range or implausible time: not a valid record.
    Corrupt {
        /// Byte offset.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The file ends inside a record.
    Truncated {
        /// Bytes left over.
        trailing: usize,
    },
}

/// Result of parsing a utmp-family file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Valid records in file order.
    pub records: Vec<Record>,
    /// Problems met.
    pub anomalies: Vec<Anomaly>,
}

fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    firewarden_model::printable(&String::from_utf8_lossy(&b[..end]), 256)
}

fn i32_at(b: &[u8], at: usize, big: bool) -> i32 {
    let a = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if big {
        i32::from_be_bytes(a)
    } else {
        i32::from_le_bytes(a)
    }
}

/// Parses a utmp, wtmp or btmp file image. Never fails: bad records become anomalies.
pub fn parse(data: &[u8]) -> Parsed {
    parse_at(data, 0)
}

/// [`parse`] of a part of a file that starts `base` bytes into it (a multiple of
/// [`RECORD_SIZE`]), so that offsets name the whole file's bytes.
pub fn parse_at(data: &[u8], base: u64) -> Parsed {
    let mut out = Parsed::default();
    // Byte order: the first non-empty record's type must be a valid type in one order only.
    let big = data
        .chunks_exact(RECORD_SIZE)
        .map(|r| (i32_at(r, 0, false), i32_at(r, 0, true)))
        .find(|(le, _)| *le != 0)
        .is_some_and(|(le, be)| {
            RecordType::from_raw(le).is_none() && RecordType::from_raw(be).is_some()
        });
    let now = Timestamp::now().0;
    for (i, r) in data.chunks_exact(RECORD_SIZE).enumerate() {
        let offset = base + (i * RECORD_SIZE) as u64;
        if r.iter().all(|b| *b == 0) {
            out.anomalies.push(Anomaly::Zeroed { offset });
            continue;
        }
        let Some(kind) = RecordType::from_raw(i32_at(r, 0, big)) else {
            out.anomalies.push(Anomaly::Corrupt {
                offset,
                reason: format!("type {}", i32_at(r, 0, big)),
            });
            continue;
        };
        let secs = i64::from(i32_at(r, 340, big) as u32);
        if secs > now + 366 * 86_400 {
            out.anomalies.push(Anomaly::Corrupt {
                offset,
                reason: format!("time {secs} is in the future"),
            });
            continue;
        }
        // ut_addr_v6 holds the address in network byte order whatever the CPU's.
        let raw = &r[348..364];
        let addr = if raw.iter().all(|x| *x == 0) {
            None
        } else if raw[4..].iter().all(|x| *x == 0) {
            Some(IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])))
        } else {
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(raw);
            Some(IpAddr::V6(Ipv6Addr::from(bytes)))
        };
        out.records.push(Record {
            offset,
            kind,
            pid: i32_at(r, 4, big),
            line: c_string(&r[8..40]),
            user: c_string(&r[44..76]),
            host: c_string(&r[76..332]),
            addr,
            time: Timestamp(secs),
        });
    }
    let trailing = data.len() % RECORD_SIZE;
    if trailing != 0 {
        out.anomalies.push(Anomaly::Truncated { trailing });
    }
    out
}

/// One non-empty lastlog entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastLog {
    /// User id (the record index).
    pub uid: u32,
    /// Time of the last login.
    pub time: Timestamp,
    /// Terminal.
    pub line: String,
    /// Remote host.
    pub host: String,
}

/// Parses a lastlog file image (sparse on disk: read only what is given).
pub fn parse_lastlog(data: &[u8]) -> Vec<LastLog> {
    data.chunks_exact(LASTLOG_SIZE)
        .enumerate()
        .filter_map(|(uid, r)| {
            let t = i32_at(r, 0, false);
            (t != 0).then(|| LastLog {
                uid: uid as u32,
                time: Timestamp(i64::from(t as u32)),
                line: c_string(&r[4..36]),
                host: c_string(&r[36..292]),
            })
        })
        .collect()
}

#[cfg(test)]
pub(crate) fn make_record(kind: i32, user: &str, host: &str, time: u32) -> Vec<u8> {
    let mut r = vec![0u8; RECORD_SIZE];
    r[0..4].copy_from_slice(&kind.to_le_bytes());
    r[4..8].copy_from_slice(&1234i32.to_le_bytes());
    r[8..13].copy_from_slice(b"pts/0");
    r[44..44 + user.len()].copy_from_slice(user.as_bytes());
    r[76..76 + host.len()].copy_from_slice(host.as_bytes());
    r[340..344].copy_from_slice(&time.to_le_bytes());
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_user_record_and_flags_zeroed_and_truncated() {
        let mut data = make_record(7, "root", "203.0.113.7", 1_700_000_000);
        data.extend(vec![0u8; RECORD_SIZE]);
        data.extend(make_record(8, "", "", 1_700_000_100));
        data.extend([1, 2, 3]);
        let p = parse(&data);
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.records[0].user, "root");
        assert_eq!(p.records[0].host, "203.0.113.7");
        assert_eq!(p.records[0].kind, RecordType::User);
        assert_eq!(
            p.anomalies,
            vec![
                Anomaly::Zeroed { offset: 384 },
                Anomaly::Truncated { trailing: 3 }
            ]
        );
    }

    #[test]
    fn plaso_fixtures_parse_without_panic() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/plaso-linux-fixtures/test_data/utmp");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("skipping: {} not present", dir.display());
            return;
        };
        for e in entries.flatten() {
            let data = std::fs::read(e.path()).unwrap();
            let p = parse(&data);
            if e.file_name() == "wtmp.1" {
                assert!(
                    p.records.iter().any(|r| r.kind == RecordType::User),
                    "{p:?}"
                );
                assert!(
                    p.anomalies
                        .iter()
                        .any(|a| matches!(a, Anomaly::Truncated { .. }))
                );
            }
            if e.file_name() == "utmp_corrupted" {
                assert!(!p.anomalies.is_empty());
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let p = parse(&data);
            prop_assert!(p.records.len() <= data.len() / RECORD_SIZE);
            let _ = parse_lastlog(&data);
        }
    }
}
