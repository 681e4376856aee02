//! The state directory: the hash-chained action journal and the encrypted vault that keeps every
//! replaced or quarantined file's bytes.
//!
//! ```text
//! STATE/                      (0700)
//!   journal.jsonl             one JournalEntry per line; `prev` = SHA-256 of the line before
//!   vault.key                 age X25519 identity (0600) that opens the vault
//!   vault/SHA256.age          content by hash, encrypted so quarantined malware cannot run
//!   .lock                     flock: one firewarden changing the host at a time
//! ```

use crate::{Error, Result};
use firewarden_evidence::age;
use firewarden_model::action::{ACTION_SCHEMA_VERSION, JournalEntry, JournalEvent};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The hash that stands for "no previous line".
pub const CHAIN_START: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who is acting and with what, stamped on every journal line.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Operator name.
    pub operator: String,
    /// Host name of the acted-on system.
    pub host: String,
    /// Tool and version.
    pub tool: String,
    /// SHA-256 (hex) of the tool's binary, recorded in each journal line.
    pub tool_sha256: Option<String>,
}

/// An opened (and locked) state directory.
#[derive(Debug)]
pub struct StateDir {
    dir: PathBuf,
    /// Held while changing the host; `None` for a read-only view.
    lock: Option<File>,
}

/// The journal as read back: its entries and whether the chain is intact.
#[derive(Debug, Clone)]
pub struct Journal {
    /// Entries in order.
    pub entries: Vec<JournalEntry>,
    /// SHA-256 of the last line (the head of the chain), or [`CHAIN_START`].
    pub head: String,
    /// Problems found: a broken link, an unreadable line. Empty when the chain is intact.
    pub problems: Vec<String>,
}

impl StateDir {
    /// Opens `dir`, creating it (mode 0700) if needed, and takes its lock.
    pub fn open(dir: &Path) -> Result<StateDir> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(dir, e))?;
        // On a broken-into host the attacker may have planted the directory: a symlink (our
        // writes would land elsewhere) or one others can write (the journal could be edited
        // under us). Refuse both.
        let meta = std::fs::symlink_metadata(dir).map_err(|e| Error::io(dir, e))?;
        let me = rustix::process::geteuid().as_raw();
        if meta.file_type().is_symlink() {
            return Err(Error::Refused(format!(
                "state directory {} is a symbolic link; give a real directory",
                dir.display()
            )));
        }
        if std::os::unix::fs::MetadataExt::uid(&meta) != me
            || std::os::unix::fs::MetadataExt::mode(&meta) & 0o022 != 0
        {
            return Err(Error::Refused(format!(
                "state directory {} is not yours alone (owner uid {}, mode {:o}); the journal must not be writable by others",
                dir.display(),
                std::os::unix::fs::MetadataExt::uid(&meta),
                std::os::unix::fs::MetadataExt::mode(&meta) & 0o7777
            )));
        }
        let lock_path = dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(
            |_| {
                Error::Refused(format!(
                    "another firewarden is changing this host ({} is locked); wait for it to finish",
                    lock_path.display()
                ))
            },
        )?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
            lock: Some(lock),
        })
    }

    /// A read-only view for planning (`--dry-run`) and listing: nothing is created, nothing
    /// is locked, and a missing directory reads as an empty journal. Applying through a view
    /// is refused.
    pub fn view(dir: &Path) -> StateDir {
        StateDir {
            dir: dir.to_path_buf(),
            lock: None,
        }
    }

    fn writable(&self) -> Result<()> {
        match self.lock {
            Some(_) => Ok(()),
            None => Err(Error::Refused(
                "the state directory was opened to look only (dry run)".into(),
            )),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn journal_path(&self) -> PathBuf {
        self.dir.join("journal.jsonl")
    }

    /// Reads the journal and checks its chain. A missing journal is an empty one.
    pub fn journal(&self) -> Result<Journal> {
        read_journal(&self.journal_path())
    }

    /// Appends one event, chained to the last line, and syncs it to disk before returning.
    pub fn append(&self, actor: &Actor, event: JournalEvent) -> Result<JournalEntry> {
        self.writable()?;
        let journal = self.journal()?;
        if let Some(p) = journal.problems.first() {
            return Err(Error::Journal(format!(
                "the journal's chain is broken ({p}); refusing to add to it. Export it for the record and start a new state directory"
            )));
        }
        let entry = JournalEntry {
            schema_version: ACTION_SCHEMA_VERSION,
            seq: journal.entries.last().map_or(1, |e| e.seq + 1),
            utc: firewarden_evidence::manifest::utc_now(),
            operator: actor.operator.clone(),
            host: actor.host.clone(),
            tool: actor.tool.clone(),
            tool_sha256: actor.tool_sha256.clone(),
            prev: journal.head,
            event,
        };
        let mut line = serde_json::to_string(&entry).map_err(|e| Error::Journal(e.to_string()))?;
        line.push('\n');
        let path = self.journal_path();
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        f.write_all(line.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::io(&path, e))?;
        Ok(entry)
    }

    fn identity(&self) -> Result<age::x25519::Identity> {
        let path = self.dir.join("vault.key");
        match fs::read_to_string(&path) {
            Ok(text) => text
                .lines()
                .find(|l| l.starts_with("AGE-SECRET-KEY-"))
                .and_then(|l| l.trim().parse().ok())
                .ok_or_else(|| {
                    Error::Journal(format!("{}: no age identity in it", path.display()))
                }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let id = age::x25519::Identity::generate();
                let text = format!(
                    "# firewarden vault identity: opens the files kept in {}/vault\n{}\n",
                    self.dir.display(),
                    age::secrecy::ExposeSecret::expose_secret(&id.to_string())
                );
                let mut f = OpenOptions::new()
                    .create_new(true)
                    .write(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| Error::io(&path, e))?;
                f.write_all(text.as_bytes())
                    .and_then(|_| f.sync_all())
                    .map_err(|e| Error::io(&path, e))?;
                Ok(id)
            }
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    fn vault_path(&self, sha256: &str) -> Result<PathBuf> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Journal(format!("`{sha256}` is not a SHA-256")));
        }
        Ok(self.dir.join("vault").join(format!("{sha256}.age")))
    }

    /// Stores bytes from `reader` in the vault, encrypted; returns their SHA-256 and size.
    /// Storing the same content twice keeps one copy.
    pub fn vault_put(&self, reader: &mut dyn Read) -> Result<(String, u64)> {
        self.writable()?;
        let vault = self.dir.join("vault");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&vault)
            .map_err(|e| Error::io(&vault, e))?;
        let recipient = self.identity()?.to_public();
        let tmp = tempfile::NamedTempFile::new_in(&vault).map_err(|e| Error::io(&vault, e))?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        {
            let enc =
                age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                    .map_err(|e| Error::Journal(format!("vault: {e}")))?;
            let mut w = enc
                .wrap_output(io::BufWriter::new(tmp.as_file()))
                .map_err(|e| Error::io(tmp.path(), e))?;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(Error::Io(format!("reading what to keep: {e}"))),
                };
                hasher.update(&buf[..n]);
                size += n as u64;
                w.write_all(&buf[..n])
                    .map_err(|e| Error::io(tmp.path(), e))?;
            }
            let mut inner = w.finish().map_err(|e| Error::io(tmp.path(), e))?;
            inner.flush().map_err(|e| Error::io(tmp.path(), e))?;
        }
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(tmp.path(), e))?;
        let sha = firewarden_evidence::encoding::hex(&hasher.finalize());
        let dest = self.vault_path(&sha)?;
        if !dest.exists() {
            tmp.persist(&dest).map_err(|e| Error::io(&dest, e.error))?;
        }
        Ok((sha, size))
    }

    /// Reads content back from the vault and checks it still hashes to `sha256`.
    pub fn vault_get(&self, sha256: &str) -> Result<Vec<u8>> {
        let path = self.vault_path(sha256)?;
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let id = self.identity()?;
        let dec = age::Decryptor::new_buffered(BufReader::new(file))
            .map_err(|e| Error::Journal(format!("{}: {e}", path.display())))?;
        let mut r = dec
            .decrypt(std::iter::once(&id as &dyn age::Identity))
            .map_err(|e| Error::Journal(format!("{}: {e}", path.display())))?;
        let mut out = Vec::new();
        r.read_to_end(&mut out).map_err(|e| Error::io(&path, e))?;
        let got = sha256_hex(&out);
        if got != sha256 {
            return Err(Error::Journal(format!(
                "{}: content hashes to {got}, not {sha256}",
                path.display()
            )));
        }
        Ok(out)
    }
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    firewarden_evidence::encoding::hex(&Sha256::digest(bytes))
}

/// Reads a journal file and checks every link; usable without the lock (exports, reports).
pub fn read_journal(path: &Path) -> Result<Journal> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(parse_journal(&bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(parse_journal(b"")),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Checks a journal's bytes line by line: each line must parse, name the SHA-256 of the line
/// before, and carry the next sequence number. Exports are checked on the very bytes written.
pub fn parse_journal(bytes: &[u8]) -> Journal {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut head = CHAIN_START.to_string();
    for (i, line) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        let n = i + 1;
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        match serde_json::from_slice::<JournalEntry>(text) {
            Ok(entry) => {
                if entry.prev != head {
                    problems.push(format!(
                        "line {n}: names previous hash {}, but the line before hashes to {head}",
                        entry.prev
                    ));
                }
                if entry.seq != entries.len() as u64 + 1 {
                    problems.push(format!(
                        "line {n}: sequence number {} out of order",
                        entry.seq
                    ));
                }
                entries.push(entry);
            }
            Err(e) => problems.push(format!("line {n}: not a journal entry: {e}")),
        }
        head = sha256_hex(text);
    }
    Journal {
        entries,
        head,
        problems,
    }
}
