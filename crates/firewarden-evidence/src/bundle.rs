//! Writing a bundle: one tar stream (zstd-compressed, optionally age-encrypted) of content
//! members, then `manifest.json`, then `manifest.sig`. Written front to back, never seeked, so
//! it can go to a pipe, a USB stick or a network share alike.

use crate::EvidenceError;
use crate::capture::Captured;
use crate::encoding::hex;
use crate::keys::KeyPair;
#[cfg(test)]
use crate::manifest::Manifest;
use crate::manifest::{FORMAT, Header, LogEntry, MANIFEST_MEMBER, SIGNATURE_MEMBER};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// zstd level: 3 keeps compression well ahead of disk speed on two cores.
const ZSTD_LEVEL: i32 = 3;

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    /// SHA-256 of the whole bundle file as written.
    pub sha256: String,
    /// Size of the bundle file.
    pub size: u64,
    /// SHA-256 of the manifest member.
    pub manifest_sha256: String,
    /// Content members written.
    pub members: usize,
    /// Bytes of content (before compression).
    pub content_bytes: u64,
}

/// Counts and hashes everything that passes to the file.
struct HashingWriter<W> {
    inner: W,
    hash: Sha256,
    size: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

enum Sink {
    Plain(HashingWriter<io::BufWriter<File>>),
    Age(age::stream::StreamWriter<HashingWriter<io::BufWriter<File>>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Age(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Age(w) => w.flush(),
        }
    }
}

impl Sink {
    fn finish(self) -> io::Result<HashingWriter<io::BufWriter<File>>> {
        match self {
            Sink::Plain(w) => Ok(w),
            Sink::Age(w) => w.finish(),
        }
    }
}

/// Chooses tar member names: `root/<path>` so that `tar x` gives a browsable tree; a path tar
/// cannot carry (or a clash) falls back to `items/<index>`.
fn member_name(path: &Path, index: usize, used: &mut HashSet<Vec<u8>>) -> Vec<u8> {
    let raw = path.as_os_str().as_bytes();
    // Non-UTF-8 or control characters would make the manifest's (text) member name differ
    // from the tar name, and `tar -x` would write hostile names on the examiner's disk.
    let printable = std::str::from_utf8(raw).is_ok_and(|t| !t.chars().any(char::is_control));
    let clean = printable
        && raw.starts_with(b"/")
        && raw
            .split(|&b| b == b'/')
            .skip(1)
            .all(|c| !c.is_empty() && c != b"." && c != b"..");
    let mut name = if clean {
        [b"root".as_slice(), raw].concat()
    } else {
        format!("items/{index}").into_bytes()
    };
    if !used.insert(name.clone()) {
        name = format!("items/{index}").into_bytes();
        used.insert(name.clone());
    }
    name
}

/// Writes the manifest as JSON, its items made from the capture one at a time: the same bytes
/// `serde_json::to_writer` gives for the whole [`Manifest`] (tested), without the
/// half-million items in memory at once.
fn write_manifest(
    w: &mut impl Write,
    header: &Header,
    log: &[LogEntry],
    captured: &Captured,
    member_of: &HashMap<usize, String>,
) -> io::Result<()> {
    w.write_all(b"{\"format\":")?;
    serde_json::to_writer(&mut *w, FORMAT)?;
    w.write_all(b",\"header\":")?;
    serde_json::to_writer(&mut *w, header)?;
    w.write_all(b",\"items\":[")?;
    for i in 0..captured.len() {
        if i > 0 {
            w.write_all(b",")?;
        }
        let mut item = captured.item(i);
        if let (Some(c), Some(name)) = (item.content.as_mut(), member_of.get(&i)) {
            c.member = Some(name.clone());
        }
        serde_json::to_writer(&mut *w, &item)?;
    }
    w.write_all(b"],\"log\":")?;
    serde_json::to_writer(&mut *w, log)?;
    w.write_all(b"}")
}

fn header(size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o444);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

/// Writes the bundle to `out` (which must not exist yet; created 0600, since it holds
/// `/etc/shadow` and the like): the manifest (completed with member names here) and its
/// signature first, then content in item order (`blobs` maps an item index to its spooled
/// bytes). Returns hashes for custody.
pub fn write(
    out: &Path,
    captured: &Captured,
    header: Header,
    log: Vec<LogEntry>,
    key: &KeyPair,
    recipients: &[age::x25519::Recipient],
) -> Result<(Written, crate::manifest::Header), EvidenceError> {
    let io_err = |e: io::Error| EvidenceError::Io(format!("{}: {e}", out.display()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .map_err(io_err)?;
    // From here the file is ours: an error or an interrupt removes it, so no half-written bundle
    // is left to be mistaken for evidence.
    let registered = crate::cleanup::register(out);
    let result = write_into(file, out, captured, header, log, key, recipients);
    drop(registered);
    if result.is_err() {
        let _ = std::fs::remove_file(out);
    }
    result
}

fn write_into(
    file: File,
    out: &Path,
    captured: &Captured,
    mut collection: Header,
    mut log: Vec<LogEntry>,
    key: &KeyPair,
    recipients: &[age::x25519::Recipient],
) -> Result<(Written, crate::manifest::Header), EvidenceError> {
    let io_err = |e: io::Error| EvidenceError::Io(format!("{}: {e}", out.display()));
    let hashing = HashingWriter {
        inner: io::BufWriter::with_capacity(1 << 20, file),
        hash: Sha256::new(),
        size: 0,
    };
    let sink = if recipients.is_empty() {
        Sink::Plain(hashing)
    } else {
        let enc =
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| EvidenceError::Key(format!("cannot encrypt: {e}")))?;
        Sink::Age(enc.wrap_output(hashing).map_err(io_err)?)
    };
    let zstd = zstd::Encoder::new(sink, ZSTD_LEVEL).map_err(io_err)?;
    let mut tar = tar::Builder::new(zstd);
    let mtime = firewarden_model::Timestamp::now().0.max(0) as u64;

    // Member names first (identical content is stored once), so that the signed manifest can
    // lead the stream: a reader checks it before it reads or writes any content (format 2).
    let mut used = HashSet::new();
    let mut written: HashMap<PathBuf, String> = HashMap::new();
    // Member name by item index, for the items whose content is stored.
    let mut member_of: HashMap<usize, String> = HashMap::new();
    let mut order: Vec<(Vec<u8>, PathBuf, u64)> = Vec::new();
    let mut content_bytes = 0u64;
    for (i, blob) in captured.blobs() {
        // The member is as long as the content the manifest records for it.
        let Some(size) = captured.content_size(i) else {
            continue;
        };
        if let Some(name) = written.get(&blob) {
            member_of.insert(i, name.clone());
            continue;
        }
        let name = member_name(&captured.path(i), i, &mut used);
        let shown = String::from_utf8_lossy(&name).into_owned();
        member_of.insert(i, shown.clone());
        written.insert(blob.clone(), shown);
        order.push((name, blob.clone(), size));
        content_bytes += size;
    }
    let members = order.len();

    collection.finished = crate::manifest::utc_now();
    crate::manifest::log_step(
        &mut log,
        "finish",
        &format!(
            "{} items, {members} content members, {content_bytes} bytes of content",
            captured.len()
        ),
    );
    // The manifest goes to an unnamed file beside the output (gone when closed), is signed
    // from there in two reads, and is copied into the stream: a host with half a million
    // paths has a manifest of hundreds of MiB, which a small server should not hold in memory.
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut body = tempfile::tempfile_in(dir).map_err(io_err)?;
    let (body_sha256, body_len) = {
        let mut w = HashingWriter {
            inner: io::BufWriter::with_capacity(1 << 20, &mut body),
            hash: Sha256::new(),
            size: 0,
        };
        write_manifest(&mut w, &collection, &log, captured, &member_of)
            .map_err(|e| EvidenceError::Io(format!("cannot write the manifest: {e}")))?;
        w.inner.flush().map_err(io_err)?;
        (hex(&w.hash.finalize()), w.size)
    };
    let signature = key.sign_file(&body).map_err(io_err)?;
    body.seek(io::SeekFrom::Start(0)).map_err(io_err)?;
    let mut h = header(body_len, mtime);
    tar.append_data(&mut h, MANIFEST_MEMBER, (&body).take(body_len))
        .map_err(io_err)?;
    drop(body);
    let mut h = header(64, mtime);
    tar.append_data(&mut h, SIGNATURE_MEMBER, signature.as_slice())
        .map_err(io_err)?;

    // Content members, in the order the collector first touched each path.
    for (name, blob, size) in order {
        let f = File::open(&blob).map_err(io_err)?;
        let mut h = header(size, mtime);
        tar.append_data(&mut h, crate::capture::bytes_path(name), f)
            .map_err(io_err)?;
    }
    let zstd = tar.into_inner().map_err(io_err)?;
    let sink = zstd.finish().map_err(io_err)?;
    let mut hashing = sink.finish().map_err(io_err)?;
    hashing.flush().map_err(io_err)?;
    let file = hashing
        .inner
        .into_inner()
        .map_err(|e| io_err(e.into_error()))?;
    file.sync_all().map_err(io_err)?;
    let written = Written {
        sha256: hex(&hashing.hash.finalize()),
        size: hashing.size,
        manifest_sha256: body_sha256,
        members,
        content_bytes,
    };
    Ok((written, collection))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Caps, Capture};
    use crate::manifest::log_step;
    use firewarden_source::{FsSource, Source};
    /// The manifest written item by item is byte for byte what serde writes for the whole
    /// struct: the signed format did not change.
    #[test]
    fn streamed_manifest_is_the_same_bytes() {
        let root = tempfile::tempdir().unwrap();
        let spool = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir(r.join("etc")).unwrap();
        std::fs::write(r.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        std::fs::write(r.join("etc/same"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        std::os::unix::fs::symlink("/nowhere", r.join("etc/link")).unwrap();
        std::fs::write(r.join(std::ffi::OsStr::from_bytes(b"etc/bad\xffname")), "x").unwrap();
        let src = FsSource::root(r).unwrap();
        let caps = Caps {
            max_file: 1 << 20,
            max_total: 1 << 30,
        };
        let cap = Capture::new(&src, spool.path(), caps, Vec::new());
        for e in cap.read_dir_meta(Path::new("/etc")).unwrap() {
            let p = Path::new("/etc").join(&e.0.name);
            if e.1.kind == firewarden_source::FileKind::File {
                io::copy(&mut cap.open(&p).unwrap(), &mut io::sink()).unwrap();
            }
        }
        let _ = cap.metadata(Path::new("/etc/link"));
        let _ = cap.xattr(Path::new("/etc/passwd"), "security.capability");
        let captured = cap.finish();
        let member_of: HashMap<usize, String> = captured
            .blobs()
            .map(|(i, _)| (i, format!("m{i}")))
            .collect();
        let mut log = Vec::new();
        log_step(&mut log, "start", "test");
        let header: crate::manifest::Header =
            serde_json::from_value(serde_json::json!({
                "evidence_id": "1", "case_id": null, "operator": "t", "tool": "t",
                "tool_sha256": null, "command_line": [], "profile": "triage",
                "max_file_bytes": 1, "max_total_bytes": 1, "source_kind": "root",
                "source_location": "/", "host": {"hostname": null, "machine_id": null,
                "boot_id": null, "kernel": null, "addresses": []}, "started": "s",
                "finished": "f", "clock": crate::collect::clock_state(), "signer": "00", "signer_ephemeral": true,
                "encrypted_to": []
            }))
            .unwrap();
        let mut streamed = Vec::new();
        write_manifest(&mut streamed, &header, &log, &captured, &member_of).unwrap();
        let whole = Manifest {
            format: FORMAT.into(),
            header,
            log,
            items: (0..captured.len())
                .map(|i| {
                    let mut item = captured.item(i);
                    if let (Some(c), Some(n)) = (item.content.as_mut(), member_of.get(&i)) {
                        c.member = Some(n.clone());
                    }
                    item
                })
                .collect(),
        };
        assert!(captured.len() >= 5, "{}", captured.len());
        assert_eq!(
            String::from_utf8_lossy(&streamed),
            String::from_utf8_lossy(&serde_json::to_vec(&whole).unwrap())
        );
    }
}
