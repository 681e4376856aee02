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

/// Extensions of the files [`log_files`] picks up inside directories.
pub const LOG_EXTENSIONS: &[&str] = &["evtx", "json", "jsonl", "ndjson"];

/// The files to read under `paths`: `.evtx`, `.json`, `.jsonl` and `.ndjson` files in
/// directories (recursively), and any file named directly.
pub fn log_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
    files_with_extensions(paths, LOG_EXTENSIONS)
}

/// Every file under `paths` (searched recursively) whose extension is one of `extensions`,
/// plus the paths that are not directories, sorted. Symlinks found inside directories are not
/// followed, and each one that would have been read is named in a warning; directories that
/// cannot be listed are warnings too.
pub fn files_with_extensions(
    paths: &[PathBuf],
    extensions: &[&str],
) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let wanted = |p: &Path| {
        p.extension()
            .is_some_and(|e| extensions.iter().any(|w| e.eq_ignore_ascii_case(w)))
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
                } else if wanted(&path) {
                    if ft.is_symlink() {
                        warnings.push(format!("{}: symlink, not followed", path.display()));
                    } else if ft.is_file() {
                        files.push(path);
                    }
                }
            }
        }
    }
    files.sort();
    files.dedup();
    (files, warnings)
}

/// What a file holds, judged once from its type and first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A Windows event log.
    Evtx,
    /// JSON lines or one JSON document, in this encoding.
    Json(Encoding),
    /// Not read, and why (empty, not a regular file, neither format, unreadable).
    Skip(String),
}

/// How a JSON export is encoded. PowerShell writes UTF-16 LE with a byte-order mark by default
/// (`Out-File`, `>` in Windows PowerShell 5) and UTF-8 with a BOM in some versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, with the length of a byte-order mark to skip (0 or 3).
    Utf8 {
        /// Bytes of BOM at the start.
        bom: u8,
    },
    /// UTF-16, little-endian.
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
}

/// The encoding of a text file from its first bytes; `None` when it does not look like JSON.
fn json_encoding(head: &[u8]) -> Option<Encoding> {
    let starts_json = |text: &[u8]| {
        text.iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{' || *b == b'[')
    };
    // UTF-16 with or without a BOM: every other byte of ASCII text is zero.
    let utf16 = |le: bool, text: &[u8]| {
        let narrowed: Vec<u8> = text
            .chunks_exact(2)
            .map(|p| {
                if le {
                    (p[1] == 0).then_some(p[0])
                } else {
                    (p[0] == 0).then_some(p[1])
                }
            })
            .take_while(Option::is_some)
            .flatten()
            .collect();
        // ASCII text for as far as the head goes (at least 8 characters), not one stray zero.
        narrowed.len() >= (text.len() / 2).min(8) && starts_json(&narrowed)
    };
    if let Some(rest) = head.strip_prefix(b"\xEF\xBB\xBF") {
        return starts_json(rest).then_some(Encoding::Utf8 { bom: 3 });
    }
    if let Some(rest) = head.strip_prefix(b"\xFF\xFE") {
        return utf16(true, rest).then_some(Encoding::Utf16Le);
    }
    if let Some(rest) = head.strip_prefix(b"\xFE\xFF") {
        return utf16(false, rest).then_some(Encoding::Utf16Be);
    }
    if head.len() >= 2 && head[1] == 0 && utf16(true, head) {
        Some(Encoding::Utf16Le)
    } else if head.len() >= 2 && head[0] == 0 && utf16(false, head) {
        Some(Encoding::Utf16Be)
    } else if starts_json(head) {
        Some(Encoding::Utf8 { bom: 0 })
    } else {
        None
    }
}

/// Opens `path` read-only (no atime, no symlink, no FIFO hang) and judges its kind; returns it
/// with the file's size.
pub fn sniff(path: &Path) -> (Kind, u64) {
    let mut file = match firewarden_source::open_read_only(path) {
        Ok(f) => f,
        Err(e) => return (Kind::Skip(format!("cannot read: {e}")), 0),
    };
    let size = match file.metadata() {
        Ok(m) if !m.is_file() => return (Kind::Skip("not a regular file; not read".into()), 0),
        Ok(m) => m.len(),
        Err(e) => return (Kind::Skip(format!("cannot read: {e}")), 0),
    };
    let mut head = [0u8; 64];
    let n = match file.read(&mut head) {
        Ok(n) => n,
        Err(e) => return (Kind::Skip(format!("cannot read: {e}")), size),
    };
    let kind = if n == 0 {
        Kind::Skip("empty file".into())
    } else if head[..n].starts_with(b"ElfFile") {
        Kind::Evtx
    } else if let Some(encoding) = json_encoding(&head[..n]) {
        Kind::Json(encoding)
    } else {
        Kind::Skip("neither an EVTX file nor JSON; not read".into())
    };
    (kind, size)
}

/// Reads one whole file (an EVTX file as a single run of chunks).
pub fn read_file(table: &FieldTable, index: u32, path: &Path, opts: ReadOptions) -> LogFile {
    let (kind, size) = sniff(path);
    let unit = Unit {
        file: index,
        path: path.to_path_buf(),
        part: match kind {
            Kind::Evtx => Part::Chunks {
                first: 0,
                count: full_chunks(size),
            },
            Kind::Json(encoding) => Part::Json(encoding),
            Kind::Skip(why) => Part::Skip(why),
        },
        first: true,
        size,
    };
    read_unit(table, &unit, opts)
}

/// EVTX layout: a 4 KiB file header, then 64 KiB chunks.
const EVTX_HEADER: u64 = 4096;
const EVTX_CHUNK: u64 = 65536;

/// Says when the file ends inside a chunk (a truncated copy, a log still being written): the
/// parser cannot read that chunk, so its records would otherwise vanish without a word.
fn check_evtx_size(size: u64, log: &mut LogFile) {
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

/// Says when the file header counts more chunks than the file holds: a copy cut at a chunk
/// boundary loses whole chunks, which the size alone does not show.
fn check_evtx_header(path: &Path, size: u64, log: &mut LogFile) {
    let mut header = [0u8; 44];
    let read = firewarden_source::open_read_only(path).and_then(|mut f| f.read_exact(&mut header));
    if read.is_err() {
        return;
    }
    let declared = u64::from(u16::from_le_bytes([header[42], header[43]]));
    let held = full_chunks(size);
    if declared > held {
        log.warnings.push(format!(
            "truncated: the file header counts {declared} chunks but the file holds {held}; \
             the records of the missing {} chunks are not in this copy",
            declared - held
        ));
    }
}

/// Chunks per work unit: 16 × 64 KiB = 1 MiB of log. Small enough to spread one large log
/// over every core, large enough that the per-unit cost does not show.
pub const CHUNKS_PER_UNIT: u64 = 16;

/// Whole 64 KiB chunks in an EVTX file of `size` bytes.
fn full_chunks(size: u64) -> u64 {
    size.saturating_sub(EVTX_HEADER) / EVTX_CHUNK
}

/// What a unit reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// EVTX chunks `first..first + count`.
    Chunks {
        /// First chunk number.
        first: u64,
        /// How many.
        count: u64,
    },
    /// The whole JSON file (JSON lines, or one document), in this encoding.
    Json(Encoding),
    /// The JSON lines that start in bytes `start..end` of a UTF-8 file.
    JsonLines {
        /// First byte (the start of a line).
        start: u64,
        /// End (exclusive; the start of a line, or the file's size).
        end: u64,
        /// Number of the line at `start`, from 1.
        first_line: u64,
    },
    /// Nothing: the file is not read, for this reason.
    Skip(String),
}

/// One piece of reading work: a whole JSON file, a run of a JSON-lines file's lines, or a run of
/// an EVTX file's chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Index of the file in the hunt's list.
    pub file: u32,
    /// The file.
    pub path: PathBuf,
    /// What to read.
    pub part: Part,
    /// The unit that also reports file-level problems (truncation, format).
    pub first: bool,
    /// The file's size.
    pub size: u64,
}

/// Bytes of JSON lines per work unit: events are read, matched and dropped a unit at a time, so
/// memory follows the unit, not the file (2 million events once took 4.7 GB read whole).
pub const JSON_UNIT: u64 = 8 << 20;

/// True when a UTF-8 JSON file is JSON lines: its first line is a whole JSON value, or is broken
/// in a way that is not "the document goes on" (a damaged first line of a lines file).
fn is_json_lines(path: &Path, bom: u8) -> bool {
    let Ok(file) = firewarden_source::open_read_only(path) else {
        return false;
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    if reader.seek_relative(i64::from(bom)).is_err() {
        return false;
    }
    match next_line(&mut reader, &mut line) {
        Line::Text => first_line_is_a_line(line.trim_ascii()),
        _ => false,
    }
}

/// Whether a first line that is not a complete JSON value starts a multi-line document (a
/// pretty-printed export, an array) rather than being a damaged line of JSON lines.
fn first_line_is_a_line(text: &[u8]) -> bool {
    match serde_json::from_slice::<serde::de::IgnoredAny>(text) {
        Ok(_) => true,
        Err(e) => !e.is_eof(),
    }
}

/// Cuts a JSON-lines file into units of about [`JSON_UNIT`] bytes at line starts, numbering
/// their first lines (one pass over the file, counting newlines).
fn json_line_units(path: &Path, bom: u8, size: u64) -> std::io::Result<Vec<Part>> {
    let mut file = firewarden_source::open_read_only(path)?;
    let mut parts = Vec::new();
    let (mut start, mut first_line) = (u64::from(bom), 1u64);
    let (mut offset, mut lines) = (0u64, 0u64);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for i in memchr::memchr_iter(b'\n', &buf[..n]) {
            lines += 1;
            let line_start = offset + i as u64 + 1;
            if line_start - start >= JSON_UNIT && line_start < size {
                parts.push(Part::JsonLines {
                    start,
                    end: line_start,
                    first_line,
                });
                start = line_start;
                first_line = lines + 1;
            }
        }
        offset += n as u64;
    }
    parts.push(Part::JsonLines {
        start,
        end: offset.max(start),
        first_line,
    });
    Ok(parts)
}

/// Splits the files into units: EVTX files into runs of [`CHUNKS_PER_UNIT`] chunks, large
/// JSON-lines files into runs of [`JSON_UNIT`] bytes, other files whole. Each file is opened once here to judge its kind.
pub fn plan(files: &[PathBuf]) -> Vec<Unit> {
    let mut units = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let (kind, size) = sniff(path);
        let unit = |part, first| Unit {
            file: i as u32,
            path: path.clone(),
            part,
            first,
            size,
        };
        match kind {
            Kind::Evtx => {
                let chunks = full_chunks(size);
                let mut first = 0;
                loop {
                    let count = CHUNKS_PER_UNIT.min(chunks - first);
                    units.push(unit(Part::Chunks { first, count }, first == 0));
                    first += count;
                    if first >= chunks {
                        break;
                    }
                }
            }
            Kind::Json(Encoding::Utf8 { bom }) if size > JSON_UNIT && is_json_lines(path, bom) => {
                match json_line_units(path, bom, size) {
                    Ok(parts) => {
                        for (n, part) in parts.into_iter().enumerate() {
                            units.push(unit(part, n == 0));
                        }
                    }
                    Err(e) => units.push(unit(Part::Skip(format!("cannot read: {e}")), true)),
                }
            }
            Kind::Json(encoding) => units.push(unit(Part::Json(encoding), true)),
            Kind::Skip(why) => units.push(unit(Part::Skip(why), true)),
        }
    }
    units
}

/// Reads one unit.
pub fn read_unit(table: &FieldTable, unit: &Unit, opts: ReadOptions) -> LogFile {
    let mut log = LogFile {
        path: unit.path.clone(),
        ..LogFile::default()
    };
    match &unit.part {
        Part::Chunks { first, count } => {
            if unit.first {
                check_evtx_size(unit.size, &mut log);
                check_evtx_header(&unit.path, unit.size, &mut log);
            }
            read_chunks(table, unit.file, &unit.path, *first, *count, opts, &mut log);
        }
        Part::Json(encoding) => {
            read_json(table, unit.file, &unit.path, unit.size, *encoding, &mut log)
        }
        Part::JsonLines {
            start,
            end,
            first_line,
        } => read_json_lines(
            table,
            unit.file,
            &unit.path,
            *start,
            *end,
            *first_line,
            &mut log,
        ),
        Part::Skip(why) => log.warnings.push(why.clone()),
    }
    log.close()
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
    let mut file = match firewarden_source::open_read_only(path) {
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
                Ok(v) => {
                    if let Some(ev) = push_json(table, index, &v, r.event_record_id, log) {
                        if !ev.time_known {
                            // The record header's own time, which the XML may lack.
                            ev.time_micros = r.timestamp.as_microsecond();
                            ev.time_known = true;
                        }
                    } else {
                        log.warn(format!("record {} has no fields", r.event_record_id));
                    }
                }
                Err(e) => log.warn(format!("record {}: bad JSON: {e}", r.event_record_id)),
            }
        }
    }
}

/// Turns one JSON value into an event and keeps it, numbering it `number` when it carries no
/// `EventRecordID`; `None` when it is not a Windows event.
fn push_json<'a>(
    table: &FieldTable,
    index: u32,
    v: &serde_json::Value,
    number: u64,
    log: &'a mut LogFile,
) -> Option<&'a mut Event> {
    let mut ev = Event::from_json(table, index, v)?;
    if ev.record_id == 0 {
        ev.record_id = number;
    }
    log.events.push(ev);
    log.events.last_mut()
}

/// Largest single JSON document parsed whole (JSON lines have no limit but the line's).
const MAX_DOCUMENT: u64 = 256 << 20;

/// Longest JSON line read; a Windows event is a few KiB, so anything this big is junk.
const MAX_LINE: u64 = 16 << 20;

/// One line of a JSON-lines file.
enum Line {
    /// A line (in the buffer).
    Text,
    /// Longer than [`MAX_LINE`]; skipped without holding it.
    TooLong,
    /// End of file.
    End,
    /// A read error.
    Error(std::io::Error),
}

fn next_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> Line {
    line.clear();
    match reader.take(MAX_LINE + 1).read_until(b'\n', line) {
        Ok(0) => return Line::End,
        Ok(_) => {}
        Err(e) => return Line::Error(e),
    }
    if line.len() as u64 <= MAX_LINE || line.last() == Some(&b'\n') {
        return Line::Text;
    }
    // Discard the rest of the line.
    let mut sink = Vec::new();
    loop {
        sink.clear();
        match reader.take(1 << 20).read_until(b'\n', &mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) if sink.last() == Some(&b'\n') => break,
            Ok(_) => {}
        }
    }
    Line::TooLong
}

/// Reads JSON lines, or, when the first line starts a multi-line JSON value, the file as one
/// document (an array of events, or a pretty-printed object) if it is of a sane size. A broken
/// line costs that line only, the first one too. One open, one pass.
fn read_json(
    table: &FieldTable,
    index: u32,
    path: &Path,
    size: u64,
    encoding: Encoding,
    log: &mut LogFile,
) {
    let file = match firewarden_source::open_read_only(path) {
        Ok(f) => f,
        Err(e) => {
            log.warnings.push(format!("cannot read: {e}"));
            return;
        }
    };
    let text: Box<dyn Read> = match encoding {
        Encoding::Utf8 { bom } => {
            let mut file = file;
            if let Err(e) = file.seek(SeekFrom::Start(u64::from(bom))) {
                log.warnings.push(format!("cannot read: {e}"));
                return;
            }
            Box::new(file)
        }
        Encoding::Utf16Le => Box::new(crate::utf16::Utf16Reader::new(file, false)),
        Encoding::Utf16Be => Box::new(crate::utf16::Utf16Reader::new(file, true)),
    };
    let mut reader = BufReader::new(text);
    let mut line = Vec::new();
    if let Line::Text = next_line(&mut reader, &mut line)
        && !first_line_is_a_line(line.trim_ascii())
    {
        // The size check is on the file (UTF-16 text shrinks when read as UTF-8).
        if size > MAX_DOCUMENT {
            log.warn(format!(
                "one JSON document of {size} bytes, more than the {MAX_DOCUMENT} read whole; \
                 export it as JSON lines"
            ));
            return;
        }
        let mut doc = std::mem::take(&mut line);
        if let Err(e) = reader.read_to_end(&mut doc) {
            log.warn(format!("read error: {e}"));
            return;
        }
        read_document(table, index, &doc, log);
        return;
    }
    // The first line was read above: hand it to the line loop.
    read_lines(table, index, &mut reader, Some(line), 1, log);
}

/// Reads the JSON lines that start in `start..end` of a file.
fn read_json_lines(
    table: &FieldTable,
    index: u32,
    path: &Path,
    start: u64,
    end: u64,
    first_line: u64,
    log: &mut LogFile,
) {
    let mut file = match firewarden_source::open_read_only(path) {
        Ok(f) => f,
        Err(e) => {
            log.warnings.push(format!("cannot read: {e}"));
            return;
        }
    };
    if let Err(e) = file.seek(SeekFrom::Start(start)) {
        log.warnings.push(format!("cannot read: {e}"));
        return;
    }
    let mut reader = BufReader::new(file.take(end.saturating_sub(start)));
    read_lines(table, index, &mut reader, None, first_line, log);
}

/// The line loop: each line is one event; a bad one is counted and costs only itself.
/// `pending` is a line already read, numbered `number`.
fn read_lines(
    table: &FieldTable,
    index: u32,
    reader: &mut impl BufRead,
    pending: Option<Vec<u8>>,
    first_number: u64,
    log: &mut LogFile,
) {
    let mut line = Vec::new();
    let mut number = first_number - 1;
    let mut pending = pending;
    loop {
        let status = match pending.take() {
            Some(text) => {
                line = text;
                Line::Text
            }
            None => next_line(reader, &mut line),
        };
        match status {
            Line::End => break,
            Line::Error(e) => {
                log.warn(format!("read error after line {number}: {e}"));
                break;
            }
            Line::TooLong => {
                number += 1;
                log.warn(format!(
                    "line {number}: longer than {MAX_LINE} bytes; skipped"
                ));
                continue;
            }
            Line::Text => number += 1,
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_slice::<serde_json::Value>(text) {
            Ok(v) => {
                if push_json(table, index, &v, number, log).is_none() {
                    log.warn(format!("line {number}: not a Windows event"));
                }
            }
            Err(e) => log.warn(format!("line {number}: bad JSON: {e}")),
        }
    }
}

/// A whole JSON document: an array of events, or one event.
fn read_document(table: &FieldTable, index: u32, doc: &[u8], log: &mut LogFile) {
    let items = match serde_json::from_slice::<serde_json::Value>(doc) {
        Ok(serde_json::Value::Array(items)) => items,
        Ok(other) => vec![other],
        Err(e) => {
            // A damaged document (or lines after a lone `[`): read what lines can be read.
            log.warnings.push(format!(
                "not one valid JSON document ({e}); read line by line instead"
            ));
            read_lines(table, index, &mut &doc[..], None, 1, log);
            return;
        }
    };
    for (i, item) in items.iter().enumerate() {
        if push_json(table, index, item, i as u64 + 1, log).is_none() {
            log.warn(format!("item {}: not a Windows event", i + 1));
        }
    }
}

fn one_line(s: &str) -> String {
    let joined: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    firewarden_model::printable(&joined.join(" "), 300)
}
