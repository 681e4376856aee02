//! Ed25519 signing keys in the PEM forms OpenSSL reads (PKCS#8 private, SPKI public), so that
//! an examiner can check a signature with `openssl pkeyutl` and nothing of ours.

use crate::EvidenceError;
use crate::encoding::{base64, hex, unbase64, unhex};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::path::Path;

/// DER of a PKCS#8 Ed25519 private key up to the 32 key bytes (RFC 8410).
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// DER of an SPKI Ed25519 public key up to the 32 key bytes (RFC 8410).
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// A key that signs manifests and custody events.
pub struct KeyPair {
    key: SigningKey,
    /// True when made for this run only (no `--key`): its public half is printed and recorded,
    /// and the private half is forgotten when the run ends.
    pub ephemeral: bool,
}

/// A public key that checks signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub VerifyingKey);

/// Fills `buf` from the kernel's random generator.
pub fn random_bytes(buf: &mut [u8]) -> Result<(), EvidenceError> {
    let mut filled = 0;
    while filled < buf.len() {
        match rustix::rand::getrandom(&mut buf[filled..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => filled += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => {
                return Err(EvidenceError::Key(format!(
                    "no randomness from the kernel: {e}"
                )));
            }
        }
    }
    Ok(())
}

impl KeyPair {
    /// A new random key.
    pub fn generate(ephemeral: bool) -> Result<Self, EvidenceError> {
        let mut seed = [0u8; 32];
        random_bytes(&mut seed)?;
        Ok(KeyPair {
            key: SigningKey::from_bytes(&seed),
            ephemeral,
        })
    }

    /// Reads a PKCS#8 PEM private key (as written by `firewarden keygen` or
    /// `openssl genpkey -algorithm ed25519`).
    pub fn load(path: &Path) -> Result<Self, EvidenceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| EvidenceError::Key(format!("cannot read key {}: {e}", path.display())))?;
        KeyPair::from_pem(&text, &path.display().to_string())
    }

    /// Parses a PKCS#8 PEM private key held as text; `what` names it in errors.
    pub fn from_pem(text: &str, what: &str) -> Result<Self, EvidenceError> {
        let der = pem_body(text, "PRIVATE KEY")
            .ok_or_else(|| EvidenceError::Key(format!("{what}: not a PEM private key")))?;
        let seed: [u8; 32] = der
            .strip_prefix(&PKCS8_PREFIX[..])
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| EvidenceError::Key(format!("{what}: not an Ed25519 PKCS#8 key")))?;
        Ok(KeyPair {
            key: SigningKey::from_bytes(&seed),
            ephemeral: false,
        })
    }

    /// The private key as PKCS#8 PEM.
    pub fn private_pem(&self) -> String {
        let mut der = PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&self.key.to_bytes());
        pem("PRIVATE KEY", &der)
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.key.verifying_key())
    }

    /// Signs `message` (pure Ed25519, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// Signs the bytes `file` holds from its start, reading them twice (Ed25519 hashes the
    /// message twice) instead of holding them in memory: the same signature as
    /// [`KeyPair::sign`] of those bytes.
    pub fn sign_file(&self, file: &std::fs::File) -> std::io::Result<[u8; 64]> {
        use sha2::Digest as _;
        use std::io::{Read as _, Seek as _};
        let esk = ed25519_dalek::hazmat::ExpandedSecretKey::from(&self.key.to_bytes());
        let failure: std::cell::RefCell<Option<std::io::Error>> = std::cell::RefCell::new(None);
        let feed = |h: &mut sha2::Sha512| {
            let mut f = file;
            let mut buf = vec![0u8; 1 << 20];
            let read = (|| {
                f.seek(std::io::SeekFrom::Start(0))?;
                loop {
                    let n = f.read(&mut buf)?;
                    if n == 0 {
                        return Ok(());
                    }
                    h.update(&buf[..n]);
                }
            })();
            read.map_err(|e: std::io::Error| {
                *failure.borrow_mut() = Some(e);
                ed25519_dalek::SignatureError::new()
            })
        };
        let signed = ed25519_dalek::hazmat::raw_sign_byupdate::<sha2::Sha512, _>(
            &esk,
            feed,
            &self.key.verifying_key(),
        );
        match (signed, failure.into_inner()) {
            (Ok(sig), None) => Ok(sig.to_bytes()),
            (_, Some(e)) => Err(e),
            (Err(e), None) => Err(std::io::Error::other(e.to_string())),
        }
    }
}

impl PublicKey {
    /// Parses a public key given as SPKI PEM text or as 64 hex digits.
    pub fn parse(text: &str) -> Result<Self, EvidenceError> {
        let raw = if let Some(der) = pem_body(text, "PUBLIC KEY") {
            der.strip_prefix(&SPKI_PREFIX[..])
                .map(<[u8]>::to_vec)
                .ok_or_else(|| EvidenceError::Key("not an Ed25519 public key".into()))?
        } else {
            unhex(text.trim())
                .ok_or_else(|| EvidenceError::Key("not a PEM or hex public key".into()))?
        };
        let bytes: [u8; 32] = raw
            .try_into()
            .map_err(|_| EvidenceError::Key("an Ed25519 public key has 32 bytes".into()))?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| EvidenceError::Key("not a valid Ed25519 point".into()))
    }

    /// Reads a public key file (PEM or hex).
    pub fn load(path: &Path) -> Result<Self, EvidenceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| EvidenceError::Key(format!("cannot read key {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| EvidenceError::Key(format!("{}: {e}", path.display())))
    }

    /// 64 hex digits, the form recorded in manifests and ledgers.
    pub fn to_hex(&self) -> String {
        hex(self.0.as_bytes())
    }

    /// SPKI PEM, the form `openssl pkeyutl -pubin` reads.
    pub fn to_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(self.0.as_bytes());
        pem("PUBLIC KEY", &der)
    }

    /// Short form for people to compare by eye: the first 16 hex digits of SHA-256(key).
    pub fn fingerprint(&self) -> String {
        format!("SHA256:{}", &hex(&Sha256::digest(self.0.as_bytes()))[..16])
    }

    /// Checks a signature strictly (no malleable or small-order forms).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        self.0
            .verify_strict(message, &Signature::from_bytes(&sig))
            .is_ok()
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        base64(der)
    )
}

fn pem_body(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    unbase64(&text[start..stop])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_and_signatures() {
        let k = KeyPair::generate(false).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, k.private_pem()).unwrap();
        let again = KeyPair::load(&p).unwrap();
        assert_eq!(again.public(), k.public());
        let sig = k.sign(b"manifest");
        assert!(k.public().verify(b"manifest", &sig));
        assert!(!k.public().verify(b"manifesT", &sig));
        assert!(!k.public().verify(b"manifest", &sig[..63]));
        assert_eq!(PublicKey::parse(&k.public().to_pem()).unwrap(), k.public());
        assert_eq!(PublicKey::parse(&k.public().to_hex()).unwrap(), k.public());
        assert!(
            PublicKey::parse("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err()
        );
    }

    #[test]
    fn signing_a_file_equals_signing_its_bytes() {
        use std::io::Write as _;
        let k = KeyPair::generate(false).unwrap();
        for len in [0usize, 1, 1 << 20, (3 << 20) + 7] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut f = tempfile::tempfile().unwrap();
            f.write_all(&data).unwrap();
            let from_file = k.sign_file(&f).unwrap();
            assert_eq!(from_file, k.sign(&data), "{len} bytes");
            assert!(k.public().verify(&data, &from_file));
        }
    }
}
