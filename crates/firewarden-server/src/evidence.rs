//! Where evidence bundles are kept: write-once, encrypted at rest with the tenant's own key.
//!
//! A blob is the bundle encrypted (age, X25519) to its tenant's key, kept under
//! `TENANT/SHA256.fwb.age`: once stored it is never replaced, and storing the same bundle again
//! finds it there. A tenant's key is made on first use and kept in the database wrapped by the
//! server's master key (`--master-key FILE`, by default `DATA/master.key`), so neither a copied
//! bucket nor a copied database opens a bundle without that file.

use crate::ServerError;
use firewarden_evidence::age;
use firewarden_evidence::age::secrecy::ExposeSecret;
use firewarden_store::Store;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The evidence store.
#[derive(Debug, Clone)]
pub enum EvidenceStore {
    /// A directory (`DATA/evidence`).
    Dir(PathBuf),
    /// An S3-compatible bucket (`s3://bucket/prefix`).
    S3(crate::s3::S3),
}

/// A blob fetched for reading: the ciphertext on local disk (a temporary copy for a bucket,
/// removed when this is dropped).
pub struct Fetched {
    path: PathBuf,
    _temp: Option<tempfile::TempPath>,
    sealed: bool,
}

impl EvidenceStore {
    /// The store named by `url` (`None`: `data/evidence`).
    pub fn open(data: &Path, url: Option<&str>) -> Result<EvidenceStore, ServerError> {
        match url {
            None => {
                let dir = data.join("evidence");
                crate::private_dir(&dir)?;
                Ok(EvidenceStore::Dir(dir))
            }
            Some(u) if u.starts_with("s3://") => Ok(EvidenceStore::S3(crate::s3::S3::from_url(u)?)),
            Some(u) => Err(ServerError::Config(format!(
                "{u}: an evidence store is s3://bucket/prefix"
            ))),
        }
    }

    /// Keeps a verified bundle, encrypted to `key` (the tenant's), under the tenant and its
    /// SHA-256; returns the blob's key. Write-once: an existing blob is never replaced (it
    /// holds the same bytes for the same tenant). `tmp` takes the ciphertext meanwhile.
    pub async fn put(
        &self,
        tenant: &str,
        key: &TenantKey,
        sha256: &str,
        bundle: &Path,
        tmp: &Path,
    ) -> Result<String, ServerError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServerError::Config(format!("not a SHA-256: {sha256}")));
        }
        let name = format!("{}/{sha256}.fwb.age", safe_segment(tenant)?);
        let (recipient, bundle, tmp) = (key.recipient.clone(), bundle.to_owned(), tmp.to_owned());
        let (sealed, digest) = tokio::task::spawn_blocking(move || seal(&recipient, &bundle, &tmp))
            .await
            .map_err(|e| ServerError::Config(e.to_string()))??;
        match self {
            EvidenceStore::Dir(dir) => {
                crate::private_dir(&dir.join(safe_segment(tenant)?))?;
                keep(&sealed, &dir.join(&name))?;
            }
            EvidenceStore::S3(s3) => s3.put_once(&name, &sealed, &digest).await?,
        }
        Ok(name)
    }

    /// The blob at `key` (as [`EvidenceStore::put`] returned it), ready to read.
    pub async fn fetch(&self, key: &str, tmp: &Path) -> Result<Fetched, ServerError> {
        // Bundles received before encryption at rest were kept as `SHA256.fwb`, in clear.
        let sealed = key.ends_with(".age");
        let key = match key.rsplit_once('/') {
            Some((tenant, file)) if sealed => {
                format!("{}/{}", safe_segment(tenant)?, safe_segment(file)?)
            }
            Some((_, file)) => safe_segment(file)?.to_owned(),
            None => safe_segment(key)?.to_owned(),
        };
        match self {
            EvidenceStore::Dir(dir) => Ok(Fetched {
                path: dir.join(&key),
                _temp: None,
                sealed,
            }),
            EvidenceStore::S3(s3) => {
                let temp = tempfile::NamedTempFile::new_in(tmp)?;
                let mut file = tokio::fs::File::from_std(temp.reopen()?);
                s3.get_into(&key, &mut file).await?;
                let temp = temp.into_temp_path();
                Ok(Fetched {
                    path: temp.to_path_buf(),
                    _temp: Some(temp),
                    sealed,
                })
            }
        }
    }
}

impl Fetched {
    /// The bundle's bytes, decrypted with `key`. Blocking.
    pub fn reader(&self, key: &TenantKey) -> Result<Box<dyn Read + Send>, ServerError> {
        let file = std::io::BufReader::with_capacity(256 << 10, std::fs::File::open(&self.path)?);
        if !self.sealed {
            return Ok(Box::new(file));
        }
        let broken = |e: &dyn std::fmt::Display| {
            ServerError::Config(format!(
                "the evidence blob does not open with its tenant's key: {e}"
            ))
        };
        let dec = age::Decryptor::new_buffered(file).map_err(|e| broken(&e))?;
        let reader = dec
            .decrypt(std::iter::once(&key.identity as &dyn age::Identity))
            .map_err(|e| broken(&e))?;
        Ok(Box::new(reader))
    }

    /// SHA-256 and size of the bundle's bytes, re-measured now. Blocking.
    pub fn measure(&self, key: &TenantKey) -> Result<(String, u64), ServerError> {
        let mut r = self.reader(key)?;
        let (mut hash, mut size, mut buf) = (Sha256::new(), 0u64, vec![0u8; 256 << 10]);
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            size += n as u64;
        }
        Ok((firewarden_evidence::encoding::hex(&hash.finalize()), size))
    }
}

/// One path segment from our own keys (tenant ids, digests): never `..` or a separator.
fn safe_segment(s: &str) -> Result<&str, ServerError> {
    if !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        Ok(s)
    } else {
        Err(ServerError::Config(format!(
            "not a blob name: {}",
            firewarden_model::printable(s, 80)
        )))
    }
}

/// Encrypts `bundle` to `recipient` into a new file under `tmp`; that file and its SHA-256.
fn seal(
    recipient: &age::x25519::Recipient,
    bundle: &Path,
    tmp: &Path,
) -> Result<(tempfile::TempPath, String), ServerError> {
    struct Hashing<W> {
        inner: W,
        hash: Sha256,
    }
    impl<W: Write> Write for Hashing<W> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let n = self.inner.write(b)?;
            self.hash.update(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    let out = tempfile::NamedTempFile::new_in(tmp)?;
    let sink = Hashing {
        inner: std::io::BufWriter::with_capacity(256 << 10, out.reopen()?),
        hash: Sha256::new(),
    };
    let enc = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
        .map_err(|e| ServerError::Config(format!("cannot encrypt: {e}")))?;
    let mut w = enc.wrap_output(sink)?;
    std::io::copy(&mut std::fs::File::open(bundle)?, &mut w)?;
    let mut sink = w.finish()?;
    sink.inner.flush()?;
    sink.inner.get_ref().sync_all()?;
    let digest = firewarden_evidence::encoding::hex(&sink.hash.finalize());
    Ok((out.into_temp_path(), digest))
}

/// Links `from` in at `to` unless `to` exists (hard link: atomic, never overwrites), read-only.
fn keep(from: &Path, to: &Path) -> Result<(), ServerError> {
    match std::fs::hard_link(from, to) {
        Ok(()) => {
            std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o400))?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A tenant's evidence key.
pub struct TenantKey {
    identity: age::x25519::Identity,
    recipient: age::x25519::Recipient,
}

/// The server's master key and the tenants' keys it opens.
pub struct Keyring {
    master: age::x25519::Identity,
    store: Store,
    opened: Mutex<HashMap<String, Arc<TenantKey>>>,
}

/// What the master key seals as a check that it is the right one for a database.
const MASTER_CHECK: &str = "firewarden master key check v1";

impl Keyring {
    /// The master key from `path` (made there, 0600, when there is none yet), checked against
    /// the database: a server started with another master key than the one that sealed this
    /// database's keys refuses to start rather than make keys nobody can open later.
    pub async fn open(path: &Path, store: Store) -> Result<Keyring, ServerError> {
        let master = load_or_make_master(path)?;
        let ring = Keyring {
            master,
            store,
            opened: Mutex::new(HashMap::new()),
        };
        let sealed_check = ring.wrap(MASTER_CHECK.as_bytes())?;
        let check = ring
            .store
            .server_key("evidence-master-check", || sealed_check)
            .await?;
        match ring.unwrap(&check) {
            Some(b) if b == MASTER_CHECK.as_bytes() => Ok(ring),
            _ => Err(ServerError::Config(format!(
                "the master key {} does not open this database's evidence keys: start every server on this database with the same --master-key",
                path.display()
            ))),
        }
    }

    /// The tenant's key (made on first use).
    pub async fn tenant(&self, tenant: &str) -> Result<Arc<TenantKey>, ServerError> {
        if let Some(k) = self.opened.lock().expect("keyring lock").get(tenant) {
            return Ok(Arc::clone(k));
        }
        let fresh = self.wrap(
            age::x25519::Identity::generate()
                .to_string()
                .expose_secret()
                .as_bytes(),
        )?;
        let wrapped = self
            .store
            .server_key(&format!("evidence:{tenant}"), || fresh)
            .await?;
        let identity = self
            .unwrap(&wrapped)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| t.parse::<age::x25519::Identity>().ok())
            .ok_or_else(|| {
                ServerError::Config(format!("tenant {tenant}'s evidence key does not open"))
            })?;
        let key = Arc::new(TenantKey {
            recipient: identity.to_public(),
            identity,
        });
        self.opened
            .lock()
            .expect("keyring lock")
            .insert(tenant.to_owned(), Arc::clone(&key));
        Ok(key)
    }

    /// A secret of the server's kept in the database sealed by the master key (made by `make`
    /// on first use). One stored in clear by an older version is sealed in place.
    pub async fn secret(
        &self,
        purpose: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, ServerError> {
        let fresh = self.wrap(make().as_bytes())?;
        let stored = self.store.server_key(purpose, || fresh).await?;
        if stored.starts_with("-----BEGIN") {
            let sealed = self.wrap(stored.as_bytes())?;
            self.store
                .reseal_server_key(purpose, &stored, &sealed)
                .await?;
            return Ok(stored);
        }
        self.unwrap(&stored)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| ServerError::Config(format!("the server's {purpose} key does not open")))
    }

    fn wrap(&self, secret: &[u8]) -> Result<String, ServerError> {
        let recipient = self.master.to_public();
        let enc =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .map_err(|e| ServerError::Config(format!("cannot seal a key: {e}")))?;
        let mut out = Vec::new();
        let mut w = enc.wrap_output(&mut out)?;
        w.write_all(secret)?;
        w.finish()?;
        Ok(firewarden_evidence::encoding::hex(&out))
    }

    fn unwrap(&self, wrapped: &str) -> Option<Vec<u8>> {
        let bytes = firewarden_evidence::encoding::unhex(wrapped)?;
        let dec = age::Decryptor::new(&bytes[..]).ok()?;
        let mut r = dec
            .decrypt(std::iter::once(&self.master as &dyn age::Identity))
            .ok()?;
        let mut out = Vec::new();
        r.read_to_end(&mut out).ok()?;
        Some(out)
    }
}

fn load_or_make_master(path: &Path) -> Result<age::x25519::Identity, ServerError> {
    let parse = |text: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with("AGE-SECRET-KEY-"))
            .and_then(|l| l.parse::<age::x25519::Identity>().ok())
            .ok_or_else(|| {
                ServerError::Config(format!(
                    "{}: no age X25519 secret key in it",
                    path.display()
                ))
            })
    };
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let fresh = age::x25519::Identity::generate();
            let text = format!(
                "# firewarden master key: opens every tenant's evidence key. Keep it apart from the data.\n{}\n",
                fresh.to_string().expose_secret()
            );
            match crate::write_private(path, text.as_bytes()) {
                Ok(()) => Ok(fresh),
                // Another server made it meanwhile: use theirs.
                Err(ServerError::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    parse(&std::fs::read_to_string(path)?)
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(ServerError::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))),
    }
}
