//! systemd journal files (`*.journal`), read without journalctl: objects are walked in file
//! order, DATA payloads collected, ENTRY objects resolved to their fields. Regular and compact
//! layouts are supported; compressed payloads (xz/lz4/zstd, used only for large fields) are
//! counted and skipped.

use firewarden_model::Timestamp;
use std::collections::HashMap;

const SIGNATURE: &[u8; 8] = b"LPKSHHRH";
const INCOMPAT_COMPACT: u32 = 1 << 4;
const OBJECT_DATA: u8 = 1;
const OBJECT_ENTRY: u8 = 3;
const OBJECT_COMPRESSED_MASK: u8 = 0b111;

/// One journal entry with the fields triage uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// Wall-clock time of the entry.
    pub time: Timestamp,
    /// `SYSLOG_IDENTIFIER`, else `_COMM`.
    pub identifier: String,
    /// `_PID`.
    pub pid: Option<u32>,
    /// `MESSAGE`.
    pub message: String,
    /// Byte offset of the ENTRY object, for evidence.
    pub offset: u64,
}

/// Result of reading a journal file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Entries in file order.
    pub entries: Vec<Entry>,
    /// Payloads skipped because they are compressed.
    pub compressed_skipped: u64,
    /// Why the walk stopped early, when it did (corruption, truncation).
    pub stopped: Option<String>,
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses a journal file image; never panics, whatever the bytes.
pub fn parse(data: &[u8]) -> Option<Parsed> {
    if data.get(..8)? != SIGNATURE {
        return None;
    }
    let incompat = le32(data, 12)?;
    let compact = incompat & INCOMPAT_COMPACT != 0;
    let header_size = le64(data, 88)? as usize;
    let arena_size = le64(data, 96)? as usize;
    let end = header_size.saturating_add(arena_size).min(data.len());
    let mut out = Parsed::default();
    let mut payloads: HashMap<u64, &[u8]> = HashMap::new();
    let mut raw_entries: Vec<(u64, u64, Vec<u64>)> = Vec::new();
    let mut off = header_size.max(16);
    // Offsets come from the file: checked arithmetic, so a hostile header cannot overflow.
    while off.checked_add(16).is_some_and(|e| e <= end) {
        let kind = data[off];
        let flags = data[off + 1];
        let size = le64(data, off + 8)? as usize;
        if kind == 0 && size == 0 {
            break; // unused tail of a file still being written
        }
        if size < 16 || off.checked_add(size).is_none_or(|e| e > end) {
            out.stopped = Some(format!("object at offset {off} has an invalid size {size}"));
            break;
        }
        let obj = &data[off..off + size];
        match kind {
            OBJECT_DATA => {
                let start = if compact { 72 } else { 64 };
                if flags & OBJECT_COMPRESSED_MASK != 0 {
                    out.compressed_skipped += 1;
                } else if let Some(p) = obj.get(start..) {
                    payloads.insert(off as u64, p);
                }
            }
            OBJECT_ENTRY => {
                let realtime = le64(obj, 24).unwrap_or(0);
                let (step, items) = if compact {
                    (4, obj.get(64..).unwrap_or(&[]))
                } else {
                    (16, obj.get(64..).unwrap_or(&[]))
                };
                let refs = items
                    .chunks_exact(step)
                    .map(|c| {
                        if compact {
                            u64::from(le32(c, 0).unwrap_or(0))
                        } else {
                            le64(c, 0).unwrap_or(0)
                        }
                    })
                    .collect();
                raw_entries.push((off as u64, realtime, refs));
            }
            _ => {}
        }
        let Some(next) = (off + size).checked_add(7) else {
            break;
        };
        off = next & !7;
    }
    for (offset, realtime, refs) in raw_entries {
        let mut e = Entry {
            time: Timestamp((realtime / 1_000_000) as i64),
            offset,
            ..Default::default()
        };
        let mut comm = None;
        for r in refs {
            let Some(p) = payloads.get(&r) else { continue };
            let Some(eq) = p.iter().position(|b| *b == b'=') else {
                continue;
            };
            let value = || crate::lossy(&p[eq + 1..]);
            match &p[..eq] {
                b"MESSAGE" => e.message = value(),
                b"SYSLOG_IDENTIFIER" => e.identifier = value(),
                b"_COMM" => comm = Some(value()),
                b"_PID" => e.pid = value().parse().ok(),
                _ => {}
            }
        }
        if e.identifier.is_empty() {
            e.identifier = comm.unwrap_or_default();
        }
        out.entries.push(e);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A real journal written by systemd-journal-remote, when the tool is installed.
    fn real_journal(export: &str) -> Option<Vec<u8>> {
        let tool = [
            "/lib/systemd/systemd-journal-remote",
            "/usr/lib/systemd/systemd-journal-remote",
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
        let dir = std::env::temp_dir().join(format!("fw-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let out = dir.join("test.journal");
        let _ = std::fs::remove_file(&out);
        let mut child = std::process::Command::new(tool)
            .arg("-o")
            .arg(&out)
            .arg("-")
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        use std::io::Write;
        child.stdin.take()?.write_all(export.as_bytes()).ok()?;
        child.wait().ok()?;
        let data = std::fs::read(&out).ok();
        let _ = std::fs::remove_dir_all(&dir);
        data
    }

    #[test]
    fn reads_a_journal_written_by_systemd() {
        let export = "__REALTIME_TIMESTAMP=1763600000000000\n__MONOTONIC_TIMESTAMP=1\n_BOOT_ID=0123456789abcdef0123456789abcdef\nMESSAGE=Failed password for root from 203.0.113.5 port 22 ssh2\nSYSLOG_IDENTIFIER=sshd\n_PID=77\n\n__REALTIME_TIMESTAMP=1763600001000000\n__MONOTONIC_TIMESTAMP=2\n_BOOT_ID=0123456789abcdef0123456789abcdef\nMESSAGE=Accepted password for root from 203.0.113.5 port 22 ssh2\n_COMM=sshd\n\n";
        let Some(data) = real_journal(export) else {
            eprintln!("skipping: systemd-journal-remote is not installed");
            return;
        };
        let p = parse(&data).expect("journal signature");
        assert_eq!(p.entries.len(), 2, "{p:?}");
        assert_eq!(p.entries[0].time, Timestamp(1_763_600_000));
        assert_eq!(p.entries[0].identifier, "sshd");
        assert_eq!(p.entries[0].pid, Some(77));
        assert!(p.entries[1].message.starts_with("Accepted password"));
        assert_eq!(p.entries[1].identifier, "sshd");
        // Truncation anywhere loses entries, never panics.
        for cut in [100, 300, 1000, data.len() / 2] {
            let _ = parse(&data[..cut.min(data.len())]);
        }
    }

    /// A hostile header size near the top of the address space must not overflow the walk.
    #[test]
    fn huge_header_size_is_rejected_not_overflowed() {
        let mut data = vec![0u8; 256];
        data[..8].copy_from_slice(SIGNATURE);
        for hs in [
            u64::MAX,
            u64::MAX - 8,
            u64::MAX / 2,
            (usize::MAX - 15) as u64,
        ] {
            data[88..96].copy_from_slice(&hs.to_le_bytes());
            data[96..104].copy_from_slice(&u64::MAX.to_le_bytes());
            assert_eq!(parse(&data).map(|p| p.entries.len()), Some(0));
        }
    }

    proptest! {
        #[test]
        fn never_panics(mut data in proptest::collection::vec(any::<u8>(), 0..2000), hs in prop_oneof![0u64..400, any::<u64>()]) {
            if data.len() > 104 {
                data[..8].copy_from_slice(SIGNATURE);
                data[88..96].copy_from_slice(&hs.to_le_bytes());
                data[96..104].copy_from_slice(&u64::MAX.to_le_bytes());
            }
            let _ = parse(&data);
        }
    }
}
