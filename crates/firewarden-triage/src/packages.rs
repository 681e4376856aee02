//! What the package managers say is installed — dpkg (`/var/lib/dpkg/info`) and RPM
//! (`rpmdb.sqlite`) — read from disk, never by running `dpkg` or `rpm`, which an attacker may
//! have replaced.

use firewarden_artifacts::packages::parse_md5sums;
use firewarden_artifacts::rpm::{DigestAlgo, parse_header};
use firewarden_source::{Source, read_capped, read_text};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The digest a package database recorded for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// Package that owns the file.
    pub package: String,
    /// Algorithm.
    pub algo: DigestAlgo,
    /// Lower-case hex.
    pub hex: String,
}

/// Installed files according to every package database found in the source.
#[derive(Debug, Default)]
pub struct PackageIndex {
    /// Databases read (`dpkg`, `rpm`).
    pub managers: Vec<&'static str>,
    /// Every path a package owns (both `/bin/x` and `/usr/bin/x` forms on merged-/usr systems).
    pub owned: HashSet<String>,
    /// Recorded digest of each file that has one.
    pub digests: HashMap<String, FileDigest>,
    /// Databases present but not readable by Firewarden (with the reason).
    pub unsupported: Vec<String>,
}

impl PackageIndex {
    /// True when at least one package database was read.
    pub fn present(&self) -> bool {
        !self.managers.is_empty()
    }

    /// True when a package owns the path (merged-/usr aware).
    pub fn owns(&self, path: &str) -> bool {
        // `//usr/bin/x` or `/usr/./bin/x` in a unit is the packaged `/usr/bin/x`.
        let path = firewarden_source::spelling::normalize_path(path);
        let path = path.as_ref();
        self.owned.contains(path)
            || crate::facts::alias(path).is_some_and(|a| self.owned.contains(&a))
    }

    /// Reads dpkg and RPM databases; `warn` receives what could not be read.
    pub fn read(src: &dyn Source, warn: &dyn Fn(Option<&str>, String)) -> Self {
        let mut idx = PackageIndex::default();
        idx.read_dpkg(src);
        idx.read_rpm(src, warn);
        idx
    }

    fn read_dpkg(&mut self, src: &dyn Source) {
        let info = Path::new("/var/lib/dpkg/info");
        let Ok(entries) = src.read_dir(info) else {
            return;
        };
        self.managers.push("dpkg");
        // `dpkg-divert` moves a packaged file aside (`x` → `x.distrib`); the new name is owned too.
        if let Ok(text) = read_text(src, Path::new("/var/lib/dpkg/diversions"), 16 << 20) {
            let lines: Vec<&str> = text.lines().collect();
            for triple in lines.chunks_exact(3) {
                self.owned.insert(triple[1].to_string());
            }
        }
        for e in entries {
            let name = e.name.to_string_lossy().into_owned();
            let path = info.join(&e.name);
            if name.ends_with(".list") {
                if let Ok(text) = read_text(src, &path, 64 << 20) {
                    self.owned.extend(
                        text.lines()
                            .filter(|l| l.starts_with('/'))
                            .map(str::to_string),
                    );
                }
            } else if let Some(pkg) = name.strip_suffix(".md5sums")
                && let Ok(text) = read_text(src, &path, 64 << 20)
            {
                for (file, hex) in parse_md5sums(&text) {
                    self.digests.insert(
                        file,
                        FileDigest {
                            package: pkg.to_string(),
                            algo: DigestAlgo::Md5,
                            hex,
                        },
                    );
                }
            }
        }
    }

    fn read_rpm(&mut self, src: &dyn Source, warn: &dyn Fn(Option<&str>, String)) {
        for dir in ["/var/lib/rpm", "/usr/lib/sysimage/rpm"] {
            let db = Path::new(dir).join("rpmdb.sqlite");
            if src.metadata(&db).is_ok() {
                match self.read_rpm_sqlite(src, &db) {
                    Ok(n) => {
                        self.managers.push("rpm");
                        if n == 0 {
                            warn(
                                Some(&db.to_string_lossy()),
                                "RPM database holds no packages".into(),
                            );
                        }
                    }
                    Err(e) => warn(
                        Some(&db.to_string_lossy()),
                        format!("RPM database not readable: {e}"),
                    ),
                }
                return;
            }
            for legacy in ["Packages", "Packages.db"] {
                if src.metadata(&Path::new(dir).join(legacy)).is_ok() {
                    let why = format!(
                        "{dir}/{legacy}: Berkeley DB / ndb RPM databases (RHEL 8 and older, SUSE) are not read yet"
                    );
                    warn(None, why.clone());
                    self.unsupported.push(why);
                    return;
                }
            }
        }
    }

    /// Copies the database (and its write-ahead log) out of the source into a private temp dir
    /// and reads every header from there: SQLite needs a real file, and the source must never be
    /// opened for writing.
    fn read_rpm_sqlite(&mut self, src: &dyn Source, db: &Path) -> Result<usize, String> {
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        for suffix in ["", "-wal"] {
            let from = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
            match read_capped(src, &from, 2 << 30) {
                Ok((bytes, _)) => {
                    std::fs::write(tmp.path().join(format!("rpmdb.sqlite{suffix}")), bytes)
                        .map_err(|e| e.to_string())?
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        let conn = rusqlite::Connection::open(tmp.path().join("rpmdb.sqlite"))
            .map_err(|e| e.to_string())?;
        let mut stmt = conn
            .prepare("SELECT blob FROM Packages")
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([], |row| row.get::<_, Vec<u8>>(0))
            .map_err(|e| e.to_string())?;
        let mut n = 0;
        for blob in rows.flatten() {
            let Some(h) = parse_header(&blob) else {
                continue;
            };
            n += 1;
            for f in h.files {
                if !f.digest.is_empty() {
                    self.digests.insert(
                        f.path.clone(),
                        FileDigest {
                            package: h.name.clone(),
                            algo: h.algo,
                            hex: f.digest,
                        },
                    );
                }
                self.owned.insert(f.path);
            }
        }
        Ok(n)
    }
}
