//! Reads event logs: Windows `.evtx` files (through the `evtx` crate) and JSON-lines exports.
//! A damaged file gives what can be read plus a warning for what cannot; nothing here panics or
//! stops the other files.

use crate::event::Event;
use crate::fields::FieldTable;
use evtx::{EvtxParser, ParserSettings};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

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

fn read_evtx(table: &FieldTable, index: u32, path: &Path, opts: ReadOptions, log: &mut LogFile) {
    check_evtx_size(path, log);
    let settings = ParserSettings::new()
        .indent(false)
        .validate_checksums(false)
        .recover_records(opts.carve);
    let mut parser = match EvtxParser::from_path(path) {
        Ok(p) => p.with_configuration(settings),
        Err(e) => {
            log.warnings.push(format!("not a readable EVTX file: {e}"));
            return;
        }
    };
    for record in parser.records_json_bytes() {
        match record {
            Ok(r) => match serde_json::from_slice::<serde_json::Value>(&r.data) {
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
            },
            Err(e) => log.warn(one_line(&e.to_string())),
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
