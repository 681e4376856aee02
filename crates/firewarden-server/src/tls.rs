//! HTTPS: a certificate generated on first start (kept under the data directory) or given by
//! the operator, and a listener that does TLS handshakes off the accept loop, so a client that
//! connects and says nothing holds up nobody.

use crate::ServerError;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// A handshake not finished in this time is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The server's certificate and key, and the SHA-256 of the certificate clients pin.
pub struct Identity {
    /// The certificate chain (leaf first).
    pub chain: Vec<pki_types::CertificateDer<'static>>,
    /// Its private key.
    pub key: pki_types::PrivateKeyDer<'static>,
    /// `sha256:` and the hex digest of the leaf certificate.
    pub fingerprint: String,
}

/// The pin of a certificate: `sha256:` and its digest in hex.
pub fn fingerprint(der: &[u8]) -> String {
    let d = Sha256::digest(der);
    format!("sha256:{}", firewarden_evidence::encoding::hex(&d))
}

fn read_pem(cert: &Path, key: &Path) -> Result<Identity, ServerError> {
    use pki_types::pem::PemObject;
    let chain: Vec<_> = pki_types::CertificateDer::pem_file_iter(cert)
        .map_err(|e| ServerError::Tls(format!("{}: {e}", cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| ServerError::Tls(format!("{}: {e}", cert.display())))?;
    let key = pki_types::PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ServerError::Tls(format!("{}: {e}", key.display())))?;
    let leaf = chain
        .first()
        .ok_or_else(|| ServerError::Tls(format!("{}: no certificate", cert.display())))?;
    Ok(Identity {
        fingerprint: fingerprint(leaf),
        chain,
        key,
    })
}

/// The operator's certificate and key.
pub fn load(cert: &Path, key: &Path) -> Result<Identity, ServerError> {
    read_pem(cert, key)
}

/// The certificate under `dir` (`cert.pem`, `key.pem`), made on first start for `names`
/// (host names and addresses the server is reached by).
pub fn generated(dir: &Path, names: &[String]) -> Result<Identity, ServerError> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if !cert.exists() {
        crate::private_dir(dir)?;
        let mut params = rcgen::CertificateParams::new(names.to_vec())
            .map_err(|e| ServerError::Tls(e.to_string()))?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "firewarden server");
        // Long enough for an engagement; clients pin the certificate, not a CA.
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2035, 1, 1);
        let pair = rcgen::KeyPair::generate().map_err(|e| ServerError::Tls(e.to_string()))?;
        let made = params
            .self_signed(&pair)
            .map_err(|e| ServerError::Tls(e.to_string()))?;
        crate::write_private(&key, pair.serialize_pem().as_bytes())?;
        crate::write_private(&cert, made.pem().as_bytes())?;
    }
    read_pem(&cert, &key)
}

/// Accepts TCP connections and hands out finished TLS streams.
pub struct TlsListener {
    rx: mpsc::Receiver<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Serves `identity` on `listener`; handshakes run in their own tasks.
    pub fn new(listener: TcpListener, identity: Identity) -> Result<TlsListener, ServerError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(identity.chain, identity.key)
            .map_err(|e| ServerError::Tls(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let local = listener.local_addr().map_err(ServerError::Io)?;
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(x) => x,
                    Err(_) => {
                        // Out of descriptors or similar: wait rather than spin.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    return;
                }
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
                    {
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener { rx, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(x) => x,
            // The accept task ended: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
