//! What produced a result, by hash: this binary, and the rule packs given on the command line.
//! A case server's tool registry checks imports against these (the same hashes
//! `firewarden tool register` computes).

use anyhow::{Context, Result};
use firewarden_model::{Provenance, RulePack};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// SHA-256 of this binary (read once).
pub fn self_sha256() -> Option<String> {
    static HASH: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    HASH.get_or_init(firewarden_evidence::collect::self_sha256)
        .clone()
}

/// This binary alone (built-in rules only).
pub fn binary() -> Provenance {
    Provenance {
        tool_sha256: self_sha256(),
        rule_packs: Vec::new(),
    }
}

/// This binary and the packs of `kind` at `paths`.
pub fn of(kind: &str, paths: &[PathBuf]) -> Result<Provenance> {
    Ok(Provenance {
        tool_sha256: self_sha256(),
        rule_packs: paths
            .iter()
            .map(|p| rule_pack(kind, p))
            .collect::<Result<_>>()?,
    })
}

/// A rule directory (or file) named by a hash of its contents: SHA-256 over the lines
/// `SHA256  RELATIVE-PATH\n` of every regular file under it, sorted by path. Symbolic links
/// are not followed (the same tree hashes the same wherever it is copied).
pub fn rule_pack(kind: &str, path: &Path) -> Result<RulePack> {
    let mut files: Vec<(Vec<u8>, PathBuf)> = Vec::new();
    let meta = std::fs::symlink_metadata(path)
        .with_context(|| format!("cannot read rule pack {}", path.display()))?;
    if meta.is_file() {
        let name = path
            .file_name()
            .map(|n| n.as_encoded_bytes().to_vec())
            .unwrap_or_default();
        files.push((name, path.to_owned()));
    } else {
        let mut stack = vec![path.to_owned()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir)
                .with_context(|| format!("cannot read rule pack {}", dir.display()))?;
            for entry in entries {
                let entry = entry?;
                let kind = entry.file_type()?;
                let full = entry.path();
                if kind.is_dir() {
                    stack.push(full);
                } else if kind.is_file() {
                    let rel = full
                        .strip_prefix(path)
                        .unwrap_or(&full)
                        .as_os_str()
                        .as_encoded_bytes()
                        .to_vec();
                    files.push((rel, full));
                }
            }
        }
    }
    files.sort();
    let mut all = Sha256::new();
    for (rel, full) in &files {
        let (sha, _) = firewarden_evidence::read::file_sha256(full)?;
        all.update(sha.as_bytes());
        all.update(b"  ");
        all.update(rel);
        all.update(b"\n");
    }
    Ok(RulePack {
        kind: kind.to_owned(),
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string()),
        sha256: firewarden_evidence::encoding::hex(&all.finalize()),
        files: files.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_pack_hashes_like_sha256sum_over_its_sorted_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("b.yar"), "rule b { condition: true }").unwrap();
        std::fs::write(d.path().join("sub/a.yar"), "rule a { condition: false }").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.path().join("link")).unwrap();
        let pack = rule_pack("yara", d.path()).unwrap();
        assert_eq!(pack.files, 2);
        // sha256sum of each file, "HASH  PATH" sorted by path, then sha256sum of that.
        let line = |p: &str| {
            let (h, _) = firewarden_evidence::read::file_sha256(&d.path().join(p)).unwrap();
            format!("{h}  {p}\n")
        };
        let listing = format!("{}{}", line("b.yar"), line("sub/a.yar"));
        assert_eq!(
            pack.sha256,
            firewarden_evidence::encoding::hex(&Sha256::digest(listing.as_bytes()))
        );
        std::fs::write(d.path().join("b.yar"), "rule b { condition: false }").unwrap();
        assert_ne!(rule_pack("yara", d.path()).unwrap().sha256, pack.sha256);
    }
}
