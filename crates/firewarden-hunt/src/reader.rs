//! Reads event logs: Windows `.evtx` files (through the `evtx` crate) and JSON-lines exports.
//! A damaged file gives what can be read plus a warning for what cannot; nothing here panics or
//! stops the other files.

use crate::event::Event;
use crate::fields::FieldTable;
use evtx::{EvtxChunkData, ParserSettings};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Warnings kept per file; the rest are counted in one line.
const MAX_WARNINGS_PER_FILE: usize = 5;

/// Events read from one file, with what went wrong.
#[derive(Debug, Default)]
pub struct LogFile {
    /// The file.
    pub path: PathBuf,
    /// Its events, in file order.
    pub events: Vec<Event>,
    /// Problems, already worded for the report.
    pub warnings: Vec<String>,
    /// Records that could not be read.
    pub bad_records: usize,
}

impl LogFile {
    fn warn(&mut self, message: String) {
        self.bad_records += 1;
        if self.warnings.len() < MAX_WARNINGS_PER_FILE {
            self.warnings.push(message);
        }
    }

    fn close(mut self) -> Self {
        let shown = self.warnings.len();
        if self.bad_records > shown && shown > 0 {
            self.warnings.push(format!(
                "{} more unreadable records not listed",
                self.bad_records - shown
            ));
        }
        self
    }
}

/// How to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Also carve records from unallocated chunk space (cleared logs, slack).
    pub carve: bool,
}

/// The files to read under `paths`: `.evtx`, `.json`, `.jsonl` and `.ndjson` files in
/// directories (recursively, symlinks not followed), and any file named directly.
pub fn log_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let wanted = |p: &Path| {
        p.extension().is_some_and(|e| {
            ["evtx", "json", "jsonl", "ndjson"]
                .iter()
                .any(|w| e.eq_ignore_ascii_case(w))
        })
    };
    for p in paths {
        let meta = match std::fs::symlink_metadata(p) {
            Ok(m) => m,
            Err(e) => {
                warnings.push(format!("{}: {e}", p.display()));
                continue;
            }
        };
        if !meta.is_dir() {
            files.push(p.clone());
            continue;
        }
        let mut stack = vec![p.clone()];
        while let Some(d) = stack.pop() {
            let entries = match std::fs::read_dir(&d) {
                Ok(e) => e,
                Err(e) => {
                    warnings.push(format!("{}: {e}", d.display()));
                    continue;
                }
            };
            for entry in entries.flatten() {
                let Ok(ft) = entry.file_type() else { continue };
                let path = entry.path();
                if ft.is_dir() {
                    stack.push(path);
                } else if ft.is_file() && wanted(&path) {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    files.dedup();
    (files, warnings)
}

/// Reads one file, choosing the format by its first bytes.
pub fn read_file(table: &FieldTable, index: u32, path: &Path, opts: ReadOptions) -> LogFile {
    let mut log = LogFile {
        path: path.to_path_buf(),
        ..LogFile::default()
    };
    let mut head = [0u8; 64];
    let n = match std::fs::File::open(path).and_then(|mut f| f.read(&mut head)) {
        Ok(n) => n,
        Err(e) => {
            log.warnings.push(format!("cannot read: {e}"));
            return log;
        }
    };
    if n == 0 {
        log.warnings.push("empty file".into());
        return log;
    }
    if head[..n].starts_with(b"ElfFile") {
        read_evtx(table, index, path, opts, &mut log);
    } else if head[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[')
    {
        read_json_lines(table, index, path, &mut log);
    } else {
        log.warnings
            .push("neither an EVTX file nor JSON; not read".into());
    }
    log.close()
}

/// EVTX layout: a 4 KiB file header, then 64 KiB chunks.
const EVTX_HEADER: u64 = 4096;
const EVTX_CHUNK: u64 = 65536;

/// Says when the file ends inside a chunk (a truncated copy, a log still being written): the
/// parser cannot read that chunk, so its records would otherwise vanish without a word.
fn check_evtx_size(path: &Path, log: &mut LogFile) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let size = meta.len();
    let partial = size.saturating_sub(EVTX_HEADER) % EVTX_CHUNK;
    if size < EVTX_HEADER {
        log.warnings.push(format!(
            "truncated: {size} bytes, shorter than the EVTX file header"
        ));
    } else if partial != 0 {
        log.warnings.push(format!(
            "truncated: the file ends {partial} bytes into chunk {}; that chunk's records \
             could not be read",
            (size - EVTX_HEADER) / EVTX_CHUNK
        ));
    }
}

/// Chunks per work unit: 16 × 64 KiB = 1 MiB of log. Small enough to spread one large log
/// over every core, large enough that the per-unit cost does not show.
pub const CHUNKS_PER_UNIT: u64 = 16;

/// One piece of reading work: a whole JSON file, or a run of an EVTX file's chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Index of the file in the hunt's list.
    pub file: u32,
    /// The file.
    pub path: PathBuf,
    /// `(first chunk, count)` for EVTX; `None` reads the whole file.
    pub chunks: Option<(u64, u64)>,
    /// The unit that also reports file-level problems (size, format).
    pub first: bool,
}

/// Splits the files into units: EVTX files into runs of [`CHUNKS_PER_UNIT`] chunks, other
/// files whole.
pub fn plan(files: &[PathBuf]) -> Vec<Unit> {
    let mut units = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let file = i as u32;
        let mut head = [0u8; 8];
        let is_evtx = std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
            && head.starts_with(b"ElfFile");
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        let chunks = size.saturating_sub(EVTX_HEADER) / EVTX_CHUNK;
        if !is_evtx || chunks <= CHUNKS_PER_UNIT {
            units.push(Unit {
                file,
                path: path.clone(),
                chunks: None,
                first: true,
            });
            continue;
        }
        let mut start = 0;
        while start < chunks {
            let count = CHUNKS_PER_UNIT.min(chunks - start);
            units.push(Unit {
                file,
                path: path.clone(),
                chunks: Some((start, count)),
                first: start == 0,
            });
            start += count;
        }
    }
    units
}

/// Reads one unit.
pub fn read_unit(table: &FieldTable, unit: &Unit, opts: ReadOptions) -> LogFile {
    match unit.chunks {
        None => read_file(table, unit.file, &unit.path, opts),
        Some((first, count)) => {
            let mut log = LogFile {
                path: unit.path.clone(),
                ..LogFile::default()
            };
            if unit.first {
                check_evtx_size(&unit.path, &mut log);
            }
            read_chunks(table, unit.file, &unit.path, first, count, opts, &mut log);
            log.close()
        }
    }
}

fn read_evtx(table: &FieldTable, index: u32, path: &Path, opts: ReadOptions, log: &mut LogFile) {
    check_evtx_size(path, log);
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    let chunks = size.saturating_sub(EVTX_HEADER) / EVTX_CHUNK;
    read_chunks(table, index, path, 0, chunks, opts, log);
}

/// Reads chunks `first..first + count` of an EVTX file. Chunks are read by position, like the
/// parser's own walk, so chunks past a stale header count (dirty logs) are read too; all-zero
/// chunks are unused space.
fn read_chunks(
    table: &FieldTable,
    index: u32,
    path: &Path,
    first: u64,
    count: u64,
    opts: ReadOptions,
    log: &mut LogFile,
) {
    let settings = Arc::new(
        ParserSettings::new()
            .indent(false)
            .validate_checksums(false)
            .recover_records(opts.carve),
    );
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            log.warnings.push(format!("cannot read: {e}"));
            return;
        }
    };
    for number in first..first + count {
        let mut data = vec![0u8; EVTX_CHUNK as usize];
        let offset = EVTX_HEADER + number * EVTX_CHUNK;
        if let Err(e) = file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(&mut data))
        {
            log.warn(format!("chunk {number}: {e}"));
            break;
        }
        if data.iter().all(|b| *b == 0) {
            continue;
        }
        let mut chunk_data = match EvtxChunkData::new(data, false) {
            Ok(c) => c,
            Err(e) => {
                log.warn(format!(
                    "chunk {number}: {}; skipped",
                    one_line(&e.to_string())
                ));
                continue;
            }
        };
        chunk_data.number = Some(number);
        if !chunk_data.validate_checksum() {
            // Not fatal (its records are still read), but worth saying: a log copied while
            // being written, corruption, or records edited in place (eventlogedit-style).
            log.warnings.push(format!(
                "chunk {number}: checksum does not match its contents (copied while being \
                 written, corrupted, or records edited); records read anyway"
            ));
        }
        let mut chunk = match chunk_data.parse(Arc::clone(&settings)) {
            Ok(c) => c,
            Err(e) => {
                log.warn(format!(
                    "chunk {number}: {}; skipped",
                    one_line(&e.to_string())
                ));
                continue;
            }
        };
        for record in chunk.iter() {
            let r = match record.and_then(|r| r.into_json_bytes()) {
                Ok(r) => r,
                Err(e) => {
                    log.warn(one_line(&e.to_string()));
                    continue;
                }
            };
            match serde_json::from_slice::<serde_json::Value>(&r.data) {
                Ok(v) => match Event::from_json(table, index, &v) {
                    Some(mut ev) => {
                        if ev.record_id == 0 {
                            ev.record_id = r.event_record_id;
                        }
                        if ev.time_micros == 0 {
                            ev.time_micros = r.timestamp.as_microsecond();
                        }
                        log.events.push(ev);
                    }
                    None => log.warn(format!("record {} has no fields", r.event_record_id)),
                },
                Err(e) => log.warn(format!("record {}: bad JSON: {e}", r.event_record_id)),
            }
        }
    }
}

/// Largest single JSON document parsed whole (JSON lines have no limit but the line's).
const MAX_DOCUMENT: u64 = 256 << 20;

fn first_line_is_json(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut line = Vec::new();
    let mut reader = BufReader::new(f).take(MAX_LINE);
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) if line.trim_ascii().is_empty() => continue,
            Ok(_) => return serde_json::from_slice::<serde_json::Value>(line.trim_ascii()).is_ok(),
        }
    }
}

/// Longest JSON line read; a Windows event is a few KiB, so anything this big is junk.
const MAX_LINE: u64 = 16 << 20;

fn read_json_lines(table: &FieldTable, index: u32, path: &Path, log: &mut LogFile) {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            log.warnings.push(format!("cannot read: {e}"));
            return;
        }
    };
    // A single JSON document (an array of events, or one pretty-printed object) rather than
    // JSON lines: parse it whole when it is of a sane size.
    if let Ok(meta) = file.metadata()
        && meta.len() <= MAX_DOCUMENT
        && !first_line_is_json(path)
        && let Ok(bytes) = std::fs::read(path)
        && let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&bytes)
    {
        let items = match doc {
            serde_json::Value::Array(items) => items,
            other => vec![other],
        };
        for (i, item) in items.iter().enumerate() {
            match Event::from_json(table, index, item) {
                Some(mut ev) => {
                    if ev.record_id == 0 {
                        ev.record_id = i as u64 + 1;
                    }
                    log.events.push(ev);
                }
                None => log.warn(format!("item {}: not a Windows event", i + 1)),
            }
        }
        return;
    }
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut line)
        {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                log.warn(format!("read error after line {number}: {e}"));
                break;
            }
        }
        number += 1;
        if line.len() as u64 > MAX_LINE && line.last() != Some(&b'\n') {
            log.warn(format!(
                "line {number}: longer than {MAX_LINE} bytes; skipped"
            ));
            // Discard the rest of the line without holding it.
            let mut sink = Vec::new();
            loop {
                sink.clear();
                match (&mut reader).take(1 << 20).read_until(b'\n', &mut sink) {
                    Ok(0) => break,
                    Ok(_) if sink.last() == Some(&b'\n') => break,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            continue;
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_slice::<serde_json::Value>(text) {
            Ok(v) => match Event::from_json(table, index, &v) {
                Some(mut ev) => {
                    if ev.record_id == 0 {
                        ev.record_id = number;
                    }
                    log.events.push(ev);
                }
                None => log.warn(format!("line {number}: not a Windows event")),
            },
            Err(e) => log.warn(format!("line {number}: bad JSON: {e}")),
        }
    }
}

fn one_line(s: &str) -> String {
    let joined: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    firewarden_model::printable(&joined.join(" "), 300)
}
