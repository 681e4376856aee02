//! Writing a bundle: one tar stream (zstd-compressed, optionally age-encrypted) of content
//! members, then `manifest.json`, then `manifest.sig`. Written front to back, never seeked, so
//! it can go to a pipe, a USB stick or a network share alike.

use crate::EvidenceError;
use crate::encoding::hex;
use crate::keys::KeyPair;
use crate::manifest::{MANIFEST_MEMBER, Manifest, SIGNATURE_MEMBER};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Write};
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
    blobs: &HashMap<usize, PathBuf>,
    manifest: Manifest,
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
    let result = write_into(file, out, blobs, manifest, key, recipients);
    drop(registered);
    if result.is_err() {
        let _ = std::fs::remove_file(out);
    }
    result
}

fn write_into(
    file: File,
    out: &Path,
    blobs: &HashMap<usize, PathBuf>,
    mut manifest: Manifest,
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
    let mut order: Vec<(Vec<u8>, PathBuf, u64)> = Vec::new();
    let mut content_bytes = 0u64;
    for (i, item) in manifest.items.iter_mut().enumerate() {
        let path = item.path_buf();
        let (Some(blob), Some(content)) = (blobs.get(&i), item.content.as_mut()) else {
            continue;
        };
        if let Some(name) = written.get(blob) {
            content.member = Some(name.clone());
            continue;
        }
        let name = member_name(&path, i, &mut used);
        let shown = String::from_utf8_lossy(&name).into_owned();
        content.member = Some(shown.clone());
        written.insert(blob.clone(), shown);
        order.push((name, blob.clone(), content.size));
        content_bytes += content.size;
    }
    let members = order.len();

    manifest.header.finished = crate::manifest::utc_now();
    crate::manifest::log_step(
        &mut manifest.log,
        "finish",
        &format!(
            "{} items, {members} content members, {content_bytes} bytes of content",
            manifest.items.len()
        ),
    );
    let body = serde_json::to_vec(&manifest)
        .map_err(|e| EvidenceError::Io(format!("cannot serialise manifest: {e}")))?;
    let signature = key.sign(&body);
    let mut h = header(body.len() as u64, mtime);
    tar.append_data(&mut h, MANIFEST_MEMBER, body.as_slice())
        .map_err(io_err)?;
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
        manifest_sha256: hex(&Sha256::digest(&body)),
        members,
        content_bytes,
    };
    Ok((written, manifest.header))
}
