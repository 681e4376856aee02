//! Reading a bundle front to back: every member hashed as it streams past (and, for triage,
//! kept in a private directory), then the manifest and signature checked against what was seen.

use crate::EvidenceError;
use crate::encoding::hex;
use crate::keys::PublicKey;
use crate::manifest::{MANIFEST_MEMBER, Manifest, SIGNATURE_MEMBER, check_chain};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Largest manifest accepted, judged by the size its tar header declares before a byte of it is
/// read (a manifest padded with 1.5 GiB of spaces once took `verify` to 3.7 GB). It must still
/// hold what our own collector writes: about 340 bytes per path, and the collector's walk
/// stops at 3,000,000 paths (a 1,000,000-file tree made 341 MB, which a 256 MiB cap refused).
pub const MAX_MANIFEST: u64 = 1152 << 20;
/// Most content members read from a bundle whose manifest comes last (format 1); a format-2
/// bundle may hold at most as many as its signed manifest lists.
pub const MAX_MEMBERS: usize = 2_000_000;

/// Member name → size, from a manifest whose signature was checked: what may be extracted.
pub type Expected = HashMap<String, u64>;

/// The members a verified manifest lists, with their sizes.
pub fn expected_members(manifest: &Manifest) -> Expected {
    manifest
        .items
        .iter()
        .filter_map(|i| i.content.as_ref())
        .filter_map(|c| Some((c.member.clone()?, c.size)))
        .collect()
}
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// One content member as it was found in the stream.
#[derive(Debug, Clone)]
pub struct Member {
    /// Member name (lossy text).
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: String,
    /// Where the bytes were kept, when extraction was asked for.
    pub kept: Option<PathBuf>,
}

/// Everything seen in one pass over a bundle.
#[derive(Debug, Default)]
pub struct Scan {
    /// Content members in stream order.
    pub members: Vec<Member>,
    /// The manifest's bytes.
    pub manifest: Option<Vec<u8>>,
    /// The signature's bytes.
    pub signature: Option<Vec<u8>>,
    /// Members found after the signature (nothing may follow it).
    pub trailing: Vec<String>,
    /// Content members found after the manifest (content must precede it).
    pub late: Vec<String>,
    /// Why the stream ended early (corrupt or truncated), with the last good member.
    pub stream_error: Option<String>,
    /// Whether the outer file was age-encrypted.
    pub encrypted: bool,
    /// SHA-256 of the whole bundle file (what custody events record).
    pub file_sha256: String,
    /// Size of the bundle file.
    pub file_size: u64,
    /// Why reading stopped before the end without the stream being broken: a member that the
    /// signed manifest does not list or declares at another size, a manifest over the cap.
    pub refused: Option<String>,
    /// The manifest and its signature came first (format 2) and were checked before any
    /// content was read.
    pub manifest_first: bool,
}

/// SHA-256 and size of a whole file (the container hash custody events check).
pub fn file_sha256(path: &Path) -> Result<(String, u64), EvidenceError> {
    let mut f =
        File::open(path).map_err(|e| EvidenceError::Io(format!("{}: {e}", path.display())))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => {
                h.update(&buf[..k]);
                n += k as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(EvidenceError::Io(format!("{}: {e}", path.display()))),
        }
    }
    Ok((hex(&h.finalize()), n))
}

/// Reads the whole bundle once, hashing every member; nothing is written. `identities` decrypt
/// an age-encrypted bundle. `keep` extracts content members into that directory (as `m0`, `m1`,
/// …), but only where the manifest came first and its signature checked (format 2), and only
/// the members it lists at the sizes it declares; for format 1 use [`scan_verified`].
pub fn scan(
    path: &Path,
    identities: &[age::x25519::Identity],
    keep: Option<&Path>,
) -> Result<Scan, EvidenceError> {
    scan_pass(
        path,
        identities,
        Reading {
            keep,
            pinned: None,
            expected: None,
        },
    )
}

/// Reads a bundle for use (triage): verified first, then extracted into `keep` with every
/// member capped at the size the signed manifest declares. A format-2 bundle is read once (its
/// signed manifest comes first); a format-1 bundle is read twice: hashed and checked without
/// writing anything, then, if intact, extracted. The verdict is of what was extracted.
pub fn scan_verified(
    path: &Path,
    identities: &[age::x25519::Identity],
    pinned: Option<&PublicKey>,
    keep: &Path,
) -> Result<(Scan, Verdict), EvidenceError> {
    let first = scan_pass(
        path,
        identities,
        Reading {
            keep: Some(keep),
            pinned,
            expected: None,
        },
    )?;
    let verdict = check(&first, pinned);
    if first.manifest_first || !verdict.problems.is_empty() {
        return Ok((first, verdict));
    }
    let Some(manifest) = &verdict.manifest else {
        return Ok((first, verdict));
    };
    let expected = expected_members(manifest);
    let second = scan_pass(
        path,
        identities,
        Reading {
            keep: Some(keep),
            pinned: None,
            expected: Some(expected),
        },
    )?;
    let mut again = check(&second, pinned);
    if second.file_sha256 != first.file_sha256 {
        again.problems.push(format!(
            "the bundle changed while it was read (SHA-256 {} then {})",
            first.file_sha256, second.file_sha256
        ));
    }
    Ok((second, again))
}

/// One pass over the file with the given way of reading.
fn scan_pass(
    path: &Path,
    identities: &[age::x25519::Identity],
    reading: Reading<'_>,
) -> Result<Scan, EvidenceError> {
    let size = std::fs::metadata(path)
        .map_err(|e| EvidenceError::Io(format!("{}: {e}", path.display())))?
        .len();
    read_file(path, |input| {
        scan_stream(input, identities, reading, inflate_cap(size))
    })
}

/// Most bytes a bundle of `size` bytes may decompress to: 1,000 times its size, at least
/// 4 GiB. A format-1 bundle is hashed before its manifest is known, so this is what bounds the
/// work a compression bomb can cause (format 2 is bounded by its signed manifest too).
pub fn inflate_cap(size: u64) -> u64 {
    size.saturating_mul(1000).max(4 << 30)
}

/// How a pass reads: where to extract, the key a manifest-first bundle must be signed by, and
/// the members a verified manifest allows.
struct Reading<'a> {
    keep: Option<&'a Path>,
    pinned: Option<&'a PublicKey>,
    expected: Option<Expected>,
}

/// Runs `read` over the file and hashes the whole file on the same pass.
fn read_file(
    path: &Path,
    read: impl FnOnce(Box<dyn Read>) -> Result<Scan, EvidenceError>,
) -> Result<Scan, EvidenceError> {
    let io_err = |e: io::Error| EvidenceError::Io(format!("{}: {e}", path.display()));
    let file = File::open(path).map_err(io_err)?;
    // The container hash is taken on the same pass, so a bundle is read once.
    let state = Rc::new(RefCell::new((Sha256::new(), 0u64)));
    let hashing = HashingReader {
        inner: file,
        state: state.clone(),
    };
    let mut scan = read(Box::new(hashing))?;
    // The stream may end before the file does (corruption, trailing bytes): hash the rest.
    let (mut h, n) = Rc::try_unwrap(state)
        .map(RefCell::into_inner)
        .unwrap_or_else(|rc| rc.borrow().clone());
    let mut rest = File::open(path).map_err(io_err)?;
    rest.seek(io::SeekFrom::Start(n)).map_err(io_err)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = n;
    loop {
        match rest.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => {
                h.update(&buf[..k]);
                total += k as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(e)),
        }
    }
    scan.file_sha256 = hex(&h.finalize());
    scan.file_size = total;
    Ok(scan)
}

/// Hashes what passes through, into state the caller keeps.
struct HashingReader {
    inner: File,
    state: Rc<RefCell<(Sha256, u64)>>,
}

impl Read for HashingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        let mut st = self.state.borrow_mut();
        st.0.update(&buf[..k]);
        st.1 += k as u64;
        Ok(k)
    }
}

fn scan_stream(
    input: Box<dyn Read>,
    identities: &[age::x25519::Identity],
    mut reading: Reading<'_>,
    inflate_cap: u64,
) -> Result<Scan, EvidenceError> {
    let mut scan = Scan::default();
    // Members extracted: a verified manifest allows each once.
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut reader: Box<dyn BufRead> = Box::new(BufReader::with_capacity(1 << 20, input));
    if reader
        .fill_buf()
        .map_err(|e| EvidenceError::Io(e.to_string()))?
        .starts_with(AGE_MAGIC)
    {
        scan.encrypted = true;
        if identities.is_empty() {
            return Err(EvidenceError::Encrypted);
        }
        let dec = age::Decryptor::new_buffered(reader)
            .map_err(|e| EvidenceError::Corrupt(format!("age header: {e}")))?;
        let plain = dec
            .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
            .map_err(|e| {
                EvidenceError::Key(format!("cannot decrypt with the given identity: {e}"))
            })?;
        reader = Box::new(BufReader::with_capacity(1 << 20, plain));
    }
    let head = reader
        .fill_buf()
        .map_err(|e| EvidenceError::Io(e.to_string()))?;
    let inner: Box<dyn Read> = if head.starts_with(&ZSTD_MAGIC) {
        Box::new(firewarden_source::CappedReader::new(
            zstd::Decoder::with_buffer(reader)
                .map_err(|e| EvidenceError::Corrupt(format!("zstd: {e}")))?,
            inflate_cap,
            "the bundle's decompressed stream, capped at 1,000 times its size,",
        ))
    } else {
        reader
    };
    let mut archive = tar::Archive::new(inner);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            scan.stream_error = Some(format!("not a tar stream: {e}"));
            return Ok(scan);
        }
    };
    let mut last = String::from("(start of bundle)");
    let mut buf = vec![0u8; 1 << 20];
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                scan.stream_error = Some(format!("stream broken after {last}: {e}"));
                break;
            }
        };
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let size = entry.size();
        let first_member = last == "(start of bundle)";
        let special = name == MANIFEST_MEMBER || name == SIGNATURE_MEMBER;
        // After the signature only format 2's content may follow (and no second manifest).
        if scan.signature.is_some() && (special || !scan.manifest_first) {
            scan.trailing.push(name.clone());
        }
        if special && scan.signature.is_none() {
            let cap = if name == MANIFEST_MEMBER {
                MAX_MANIFEST
            } else {
                1024
            };
            // Judged by the declared size before anything is read or allocated.
            if size > cap {
                scan.refused = Some(format!(
                    "{name} declares {size} bytes, more than the {cap} this tool reads"
                ));
                break;
            }
            let mut body = Vec::new();
            if let Err(e) = (&mut entry).take(cap).read_to_end(&mut body) {
                scan.stream_error = Some(format!("stream broken inside {name}: {e}"));
                break;
            }
            if name == MANIFEST_MEMBER {
                if scan.manifest.is_some() {
                    scan.trailing.push(name.clone());
                } else {
                    scan.manifest_first = first_member;
                    scan.manifest = Some(body);
                }
            } else {
                scan.signature = Some(body);
                if scan.manifest_first && reading.expected.is_none() {
                    // Format 2: the signed manifest is checked before any content is read.
                    match early_check(&scan, reading.pinned) {
                        Ok(expected) => reading.expected = Some(expected),
                        Err(why) => {
                            scan.refused = Some(why);
                            break;
                        }
                    }
                }
            }
            last = name;
            continue;
        }
        if scan.manifest.is_some() && scan.signature.is_none() {
            scan.late.push(name.clone());
        }
        let allowed = match &reading.expected {
            Some(expected) => match expected.get(&name) {
                // A listed member repeated would let a bundle extract its largest member
                // over and over.
                Some(_) if !taken.insert(name.clone()) => {
                    scan.refused = Some(format!(
                        "{name}: member appears twice; reading stopped there"
                    ));
                    break;
                }
                Some(&declared) if declared == size => true,
                Some(&declared) => {
                    scan.refused = Some(format!(
                        "{name}: {size} bytes in the bundle, the signed manifest says {declared} (truncated or extended); reading stopped there"
                    ));
                    break;
                }
                None => {
                    scan.refused = Some(format!(
                        "{name}: member not in the signed manifest (added); reading stopped there"
                    ));
                    break;
                }
            },
            None => false,
        };
        let limit = reading.expected.as_ref().map_or(MAX_MEMBERS, HashMap::len);
        if scan.members.len() >= limit {
            scan.refused = Some(format!(
                "more than {limit} content members; the rest were not read"
            ));
            break;
        }
        // Only what a verified manifest allows is ever written to disk.
        let kept = reading
            .keep
            .filter(|_| allowed)
            .map(|dir| dir.join(format!("m{}", scan.members.len())));
        let mut out = match &kept {
            Some(p) => Some(io::BufWriter::new(create_private(p)?)),
            None => None,
        };
        let mut h = Sha256::new();
        let mut n = 0u64;
        let result = loop {
            match entry.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(k) => {
                    h.update(&buf[..k]);
                    n += k as u64;
                    if let Some(o) = out.as_mut()
                        && let Err(e) = o.write_all(&buf[..k])
                    {
                        return Err(EvidenceError::Io(format!("cannot extract {name}: {e}")));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        if let Some(mut o) = out {
            o.flush().map_err(|e| EvidenceError::Io(e.to_string()))?;
        }
        if let Err(e) = result {
            scan.stream_error = Some(format!("stream broken inside {name}: {e}"));
            break;
        }
        if n != size {
            scan.stream_error = Some(format!("{name}: ends after {n} of {size} bytes"));
            break;
        }
        scan.members.push(Member {
            name: name.clone(),
            size,
            sha256: hex(&h.finalize()),
            kept,
        });
        last = name;
    }
    Ok(scan)
}

/// Checks a manifest that came first against its signature (and the pinned key), before any
/// content is read; gives the members it allows.
fn early_check(scan: &Scan, pinned: Option<&PublicKey>) -> Result<Expected, String> {
    let (Some(body), Some(sig)) = (&scan.manifest, &scan.signature) else {
        return Err("manifest or signature missing".into());
    };
    let manifest: Manifest =
        serde_json::from_slice(body).map_err(|e| format!("manifest.json does not parse: {e}"))?;
    let signer = PublicKey::parse(&manifest.header.signer)
        .map_err(|e| format!("manifest signer key: {e}"))?;
    if !signer.verify(body, sig) {
        return Err(
            "manifest.sig: signature does not match the manifest; no content was read".into(),
        );
    }
    if let Some(p) = pinned
        && *p != signer
    {
        return Err(format!(
            "signed by {} but the expected key is {}; no content was read",
            signer.fingerprint(),
            p.fingerprint()
        ));
    }
    Ok(expected_members(&manifest))
}

/// Creates an extracted member readable by its owner only (it may hold `/etc/shadow`).
fn create_private(path: &Path) -> Result<File, EvidenceError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| EvidenceError::Io(format!("{}: {e}", path.display())))
}

/// The outcome of checking a bundle.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Every problem found, each naming the item or member concerned. Empty: the bundle is intact.
    pub problems: Vec<String>,
    /// The manifest, when it could be parsed (trust it only when `problems` is empty).
    pub manifest: Option<Manifest>,
    /// SHA-256 of the manifest bytes.
    pub manifest_sha256: Option<String>,
    /// Content members checked.
    pub members: usize,
    /// Content bytes checked.
    pub bytes: u64,
    /// Signer key found in the manifest.
    pub signer: Option<PublicKey>,
}

/// Checks what a scan saw against the manifest and its signature. With `pinned`, the signer
/// must be that key; without, any key the manifest names is accepted (and the caller says so).
pub fn check(scan: &Scan, pinned: Option<&PublicKey>) -> Verdict {
    let mut v = Verdict::default();
    if let Some(e) = &scan.stream_error {
        v.problems
            .push(format!("bundle is truncated or corrupt: {e}"));
    }
    if let Some(why) = &scan.refused {
        v.problems.push(format!("bundle refused: {why}"));
    }
    let Some(body) = &scan.manifest else {
        v.problems
            .push("manifest.json is missing (bundle truncated, or not a firewarden bundle)".into());
        return v;
    };
    v.manifest_sha256 = Some(hex(&Sha256::digest(body)));
    let manifest: Manifest = match serde_json::from_slice(body) {
        Ok(m) => m,
        Err(e) => {
            v.problems
                .push(format!("manifest.json does not parse: {e}"));
            return v;
        }
    };
    match (manifest.format.as_str(), scan.manifest_first) {
        (crate::manifest::FORMAT, true) | (crate::manifest::FORMAT_1, false) => {}
        (crate::manifest::FORMAT, false) => v.problems.push(format!(
            "{}: the manifest is not the first member (reordered)",
            manifest.format
        )),
        (crate::manifest::FORMAT_1, true) => v.problems.push(format!(
            "{}: the manifest is the first member, where this format has content (reordered)",
            manifest.format
        )),
        (other, _) => v.problems.push(format!(
            "unknown bundle format `{other}` (this tool reads {} and {})",
            crate::manifest::FORMAT_1,
            crate::manifest::FORMAT
        )),
    }
    match PublicKey::parse(&manifest.header.signer) {
        Err(e) => v.problems.push(format!("manifest signer key: {e}")),
        Ok(signer) => {
            v.signer = Some(signer);
            match &scan.signature {
                None => v.problems.push("manifest.sig is missing".into()),
                Some(sig) if !signer.verify(body, sig) => v.problems.push(
                    "manifest.sig: signature does not match the manifest (manifest edited or signature swapped)"
                        .into(),
                ),
                Some(_) => {}
            }
            if let Some(p) = pinned
                && *p != signer
            {
                v.problems.push(format!(
                    "signed by {} but the expected key is {} (signature swapped or wrong key)",
                    signer.fingerprint(),
                    p.fingerprint()
                ));
            }
        }
    }
    if let Err(e) = check_chain(&manifest.log) {
        v.problems.push(e);
    }
    for name in &scan.late {
        v.problems
            .push(format!("{name}: content member placed after the manifest"));
    }
    for name in &scan.trailing {
        v.problems
            .push(format!("{name}: member added after the signature"));
    }

    // Expected members in order of first reference.
    let mut expected: Vec<(&str, &crate::manifest::Item)> = Vec::new();
    let mut seen_names = std::collections::HashSet::new();
    for item in &manifest.items {
        if let Some(c) = &item.content
            && let Some(m) = &c.member
            && seen_names.insert(m.as_str())
        {
            expected.push((m.as_str(), item));
        }
    }
    let position: HashMap<&str, usize> = expected
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (*n, i))
        .collect();
    let mut found = vec![false; expected.len()];
    let mut last_pos: Option<usize> = None;
    for m in &scan.members {
        let Some(&pos) = position.get(m.name.as_str()) else {
            v.problems
                .push(format!("{}: member not in the manifest (added)", m.name));
            continue;
        };
        let (_, item) = expected[pos];
        let content = item.content.as_ref().expect("expected items have content");
        if found[pos] {
            v.problems
                .push(format!("{} ({}): member appears twice", item.path, m.name));
            continue;
        }
        found[pos] = true;
        if last_pos.is_some_and(|l| pos < l) {
            v.problems.push(format!(
                "{} ({}): member out of order (reordered)",
                item.path, m.name
            ));
        }
        last_pos = Some(last_pos.map_or(pos, |l| l.max(pos)));
        if m.size != content.size {
            v.problems.push(format!(
                "{} ({}): {} bytes, manifest says {} (truncated or extended)",
                item.path, m.name, m.size, content.size
            ));
        } else if m.sha256 != content.sha256 {
            v.problems.push(format!(
                "{} ({}): SHA-256 differs from the manifest (modified)",
                item.path, m.name
            ));
        }
        v.members += 1;
        v.bytes += m.size;
    }
    // Members after a refusal were never reached: not "removed".
    for (i, ok) in found.iter().enumerate() {
        if !ok && scan.refused.is_none() {
            let (name, item) = expected[i];
            v.problems
                .push(format!("{} ({name}): member missing (removed)", item.path));
        }
    }
    v.manifest = Some(manifest);
    v
}

#[cfg(test)]
mod inflation_tests {
    use super::*;

    #[test]
    fn a_bomb_stops_at_the_cap_with_an_error_naming_it() {
        let mut r = firewarden_source::CappedReader::new(
            io::repeat(0).take(10_000),
            4096,
            "the bundle's decompressed stream, capped at 1,000 times its size,",
        );
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(out.len(), 4096);
        assert!(e.to_string().contains("compression bomb"), "{e}");
        assert_eq!(inflate_cap(1 << 20), 4 << 30);
        assert_eq!(inflate_cap(100 << 20), 100_000 << 20);
    }
}
