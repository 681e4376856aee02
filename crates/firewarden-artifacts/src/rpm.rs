//! RPM package headers as stored in the rpm database (the `blob` of each row of `Packages` in
//! rpmdb.sqlite): name, and for each file its path, digest and mode — enough to verify files
//! without running `rpm -V`.

const TAG_NAME: u32 = 1000;
const TAG_FILEMODES: u32 = 1030;
const TAG_FILEDIGESTS: u32 = 1035;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;
const TAG_FILEDIGESTALGO: u32 = 5011;

/// Digest algorithms RPM uses for file digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgo {
    /// MD5 (the default when the header does not say).
    Md5,
    /// SHA-1.
    Sha1,
    /// SHA-256 (the usual one today).
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgo {
    fn from_pgp(id: u32) -> Option<Self> {
        Some(match id {
            1 => DigestAlgo::Md5,
            2 => DigestAlgo::Sha1,
            8 => DigestAlgo::Sha256,
            9 => DigestAlgo::Sha384,
            10 => DigestAlgo::Sha512,
            _ => return None,
        })
    }
}

/// One file of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmFile {
    /// Absolute path.
    pub path: String,
    /// Lower-case hex digest; empty for directories, symlinks and ghost files.
    pub digest: String,
    /// File mode as packaged.
    pub mode: u16,
}

/// The parts of a package header Firewarden uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmHeader {
    /// Package name.
    pub name: String,
    /// Digest algorithm of the file digests.
    pub algo: DigestAlgo,
    /// Files.
    pub files: Vec<RpmFile>,
}

struct Index<'a> {
    entries: Vec<(u32, u32, usize, usize)>, // tag, type, offset, count
    store: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Index<'a> {
    fn parse(blob: &'a [u8]) -> Option<Self> {
        // Headers read from a file carry an 8-byte magic first; database blobs do not.
        let blob = if blob.starts_with(&[0x8e, 0xad, 0xe8, 0x01]) {
            blob.get(8..)?
        } else {
            blob
        };
        let il = be32(blob, 0)? as usize;
        let dl = be32(blob, 4)? as usize;
        if il > 100_000 || dl > 256 << 20 {
            return None;
        }
        let entries_end = 8usize.checked_add(il.checked_mul(16)?)?;
        let store = blob.get(entries_end..entries_end.checked_add(dl)?)?;
        let mut entries = Vec::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * 16;
            entries.push((
                be32(blob, at)?,
                be32(blob, at + 4)?,
                be32(blob, at + 8)? as usize,
                be32(blob, at + 12)? as usize,
            ));
        }
        Some(Index { entries, store })
    }

    fn find(&self, tag: u32) -> Option<(u32, usize, usize)> {
        self.entries
            .iter()
            .find(|e| e.0 == tag)
            .map(|e| (e.1, e.2, e.3))
    }

    fn strings(&self, tag: u32) -> Vec<String> {
        let Some((ty, off, count)) = self.find(tag) else {
            return Vec::new();
        };
        if !matches!(ty, 6 | 8 | 9) || count > 10_000_000 {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(count.min(100_000));
        let mut pos = off;
        for _ in 0..count {
            let Some(rest) = self.store.get(pos..) else {
                break;
            };
            let Some(end) = rest.iter().position(|b| *b == 0) else {
                break;
            };
            out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
            pos += end + 1;
        }
        out
    }

    fn ints(&self, tag: u32) -> Vec<u32> {
        let Some((ty, off, count)) = self.find(tag) else {
            return Vec::new();
        };
        let width = match ty {
            3 => 2,
            4 => 4,
            _ => return Vec::new(),
        };
        (0..count.min(10_000_000))
            .map_while(|i| {
                let at = off.checked_add(i * width)?;
                let b = self.store.get(at..at + width)?;
                Some(if width == 2 {
                    u32::from(u16::from_be_bytes([b[0], b[1]]))
                } else {
                    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
                })
            })
            .collect()
    }
}

/// Parses a header blob; `None` when it is not a valid header.
pub fn parse_header(blob: &[u8]) -> Option<RpmHeader> {
    let idx = Index::parse(blob)?;
    let name = idx.strings(TAG_NAME).into_iter().next()?;
    let algo = idx
        .ints(TAG_FILEDIGESTALGO)
        .first()
        .and_then(|a| DigestAlgo::from_pgp(*a))
        .unwrap_or(DigestAlgo::Md5);
    let basenames = idx.strings(TAG_BASENAMES);
    let dirnames = idx.strings(TAG_DIRNAMES);
    let dirindexes = idx.ints(TAG_DIRINDEXES);
    let digests = idx.strings(TAG_FILEDIGESTS);
    let modes = idx.ints(TAG_FILEMODES);
    let files = basenames
        .iter()
        .enumerate()
        .filter_map(|(i, base)| {
            let dir = dirnames.get(*dirindexes.get(i)? as usize)?;
            Some(RpmFile {
                path: format!("{dir}{base}"),
                digest: digests
                    .get(i)
                    .map(|d| d.to_ascii_lowercase())
                    .unwrap_or_default(),
                mode: modes.get(i).copied().unwrap_or(0) as u16,
            })
        })
        .collect();
    Some(RpmHeader { name, algo, files })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Builds a header blob the way rpm stores it (for tests of this parser's edge cases; the
    /// triage tests use real databases written by rpm when it is installed).
    fn blob(entries: &[(u32, u32, Vec<u8>, u32)]) -> Vec<u8> {
        let mut store = Vec::new();
        let mut index = Vec::new();
        for (tag, ty, data, count) in entries {
            while ty == &4 && store.len() % 4 != 0 {
                store.push(0);
            }
            index.push((*tag, *ty, store.len() as u32, *count));
            store.extend_from_slice(data);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(index.len() as u32).to_be_bytes());
        out.extend_from_slice(&(store.len() as u32).to_be_bytes());
        for (t, ty, off, c) in index {
            for v in [t, ty, off, c] {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        out.extend(store);
        out
    }

    #[test]
    fn files_with_digests() {
        let b = blob(&[
            (TAG_NAME, 6, b"coreutils\0".to_vec(), 1),
            (TAG_FILEDIGESTALGO, 4, 8u32.to_be_bytes().to_vec(), 1),
            (
                TAG_DIRINDEXES,
                4,
                [0u32, 1].iter().flat_map(|v| v.to_be_bytes()).collect(),
                2,
            ),
            (TAG_BASENAMES, 8, b"ls\0ls.1.gz\0".to_vec(), 2),
            (
                TAG_DIRNAMES,
                8,
                b"/usr/bin/\0/usr/share/man/man1/\0".to_vec(),
                2,
            ),
            (TAG_FILEDIGESTS, 8, b"AABB\0ccdd\0".to_vec(), 2),
        ]);
        let h = parse_header(&b).unwrap();
        assert_eq!(h.name, "coreutils");
        assert_eq!(h.algo, DigestAlgo::Sha256);
        assert_eq!(h.files[0].path, "/usr/bin/ls");
        assert_eq!(h.files[0].digest, "aabb");
        assert_eq!(h.files[1].path, "/usr/share/man/man1/ls.1.gz");
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) { let _ = parse_header(&data); }
        #[test]
        fn never_panics_with_plausible_counts(il in 0u32..8, dl in 0u32..200, rest in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut b = il.to_be_bytes().to_vec();
            b.extend(dl.to_be_bytes());
            b.extend(rest);
            let _ = parse_header(&b);
        }
    }
}
