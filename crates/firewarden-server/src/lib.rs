//! `firewarden server`: the case platform over HTTPS, REST+JSON under `/api/v1`. A thin layer:
//! every rule (who sees what, stage gates, IOC normalisation) lives in `firewarden-case`, every
//! read and write (with its tenant check and audit record) in `firewarden-store`. The server
//! keeps no state of its own besides its certificate: several processes on one PostgreSQL serve
//! the same cases.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
mod custody;
pub mod evidence;
mod iocs;
mod linger;
mod loss;
pub mod openapi;
mod outbound;
mod reports;
pub mod s3;
pub mod sla;
pub mod tls;
mod tools;
mod upload;

pub use reports::{ReportCheck, check_report};
pub mod web;

use firewarden_store::Store;
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A file or socket.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The database.
    #[error("database: {0}")]
    Store(#[from] firewarden_store::StoreError),
    /// The certificate.
    #[error("TLS: {0}")]
    Tls(String),
    /// The configuration.
    #[error("{0}")]
    Config(String),
}

/// How the server speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// HTTPS with a certificate made on first start under the data directory.
    GeneratedTls,
    /// HTTPS with the operator's certificate and key (PEM).
    Tls {
        /// Certificate chain.
        cert: PathBuf,
        /// Private key.
        key: PathBuf,
    },
    /// Plain HTTP: loopback only.
    InsecureHttp,
}

/// What `firewarden server` was told.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where everything is kept (the SQLite database, the certificate, the bootstrap token,
    /// evidence blobs unless an object store is named).
    pub data: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `postgres://…`; `None`: SQLite under `data`.
    pub database: Option<String>,
    /// `s3://bucket/prefix`; `None`: under `data/evidence`.
    pub evidence_store: Option<String>,
    /// HTTPS or (loopback only) HTTP.
    pub transport: Transport,
    /// Largest upload accepted, bytes.
    pub max_upload: u64,
    /// How often the SLA clocks are swept for warnings and breaches to send.
    pub sla_every: std::time::Duration,
    /// The master key that opens the tenants' evidence keys (`None`: `DATA/master.key`, made
    /// on first start). Keep it apart from the data: with it, a copied disk opens.
    pub master_key: Option<PathBuf>,
}

/// What a started server tells its caller.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The address it listens on (the port chosen when 0 was asked).
    pub addr: SocketAddr,
    /// Base URL.
    pub url: String,
    /// The certificate pin clients need (`None` over plain HTTP).
    pub fingerprint: Option<String>,
    /// Where the first start wrote the admin's one-time token (`None` on later starts).
    pub bootstrap_token: Option<PathBuf>,
}

/// Makes `dir` (and its parents) with mode 0700.
pub(crate) fn private_dir(dir: &Path) -> Result<(), ServerError> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// Writes a new file readable by the owner only; refuses to replace one.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ServerError> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Checks the configuration before anything is opened.
pub fn check(config: &Config) -> Result<(), ServerError> {
    if config.transport == Transport::InsecureHttp && !config.listen.ip().is_loopback() {
        return Err(ServerError::Config(format!(
            "--insecure-http serves tokens in clear: only on a loopback address, not {}",
            config.listen
        )));
    }
    Ok(())
}

/// Opens the store and the evidence store, makes the admin on first start, and serves until
/// `shutdown` resolves. `ready` is told the address and pin once the socket is bound.
pub async fn run(
    config: Config,
    ready: impl FnOnce(Ready) + Send,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    check(&config)?;
    private_dir(&config.data)?;
    let url = match &config.database {
        Some(u) => u.clone(),
        None => format!("sqlite:{}", config.data.join("cases.db").display()),
    };
    let store = Store::open(&url).await?;
    let evidence = evidence::EvidenceStore::open(&config.data, config.evidence_store.as_deref())?;
    let tmp = config.data.join("tmp");
    private_dir(&tmp)?;
    let bootstrap_token = match store.bootstrap_admin().await? {
        Some(token) => {
            let path = config.data.join("bootstrap-token");
            let _ = std::fs::remove_file(&path);
            write_private(&path, format!("{token}\n").as_bytes())?;
            Some(path)
        }
        None => None,
    };
    // Stopped with the server (dropping a JoinHandle would leave it running).
    struct AbortOnDrop(tokio::task::JoinHandle<()>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let master = config
        .master_key
        .clone()
        .unwrap_or_else(|| config.data.join("master.key"));
    let keyring = std::sync::Arc::new(evidence::Keyring::open(&master, store.clone()).await?);
    let signing_key = std::sync::Arc::new(signing_key(&keyring).await?);
    // The secret the cross-customer IOC sightings index is keyed with: one for the database.
    let mut fresh = [0u8; 32];
    firewarden_evidence::keys::random_bytes(&mut fresh)
        .map_err(|e| ServerError::Config(format!("no randomness for the linkage secret: {e}")))?;
    let fresh = firewarden_evidence::encoding::hex(&fresh);
    let linkage = keyring.secret("ioc-linkage", || fresh).await?;
    let store = store.with_linkage_secret(linkage.into_bytes());
    let _sla = AbortOnDrop(sla::spawn(
        store.clone(),
        api::key_signer(std::sync::Arc::clone(&signing_key)),
        config.sla_every,
    ));
    // The audit chain is checked as it grows, from the last mark: a broken chain is said in
    // the log within a minute, and a report checks only what came since.
    let audit_store = store.clone();
    let _audit = AbortOnDrop(tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            tick.tick().await;
            match audit_store.advance_audit_mark().await {
                // Said once; checking on from a break would re-read everything after it each
                // time (reports still say the chain is broken).
                Ok(Err(b)) => {
                    eprintln!(
                        "firewarden server: THE AUDIT CHAIN IS BROKEN at record {}: {} (firewarden server audit --verify)",
                        b.seq, b.reason
                    );
                    break;
                }
                Err(e) => eprintln!("firewarden server: audit check: {e}"),
                Ok(Ok(_)) => {}
            }
        }
    }));
    let state = api::App::new(
        store,
        evidence,
        tmp,
        config.max_upload,
        signing_key,
        keyring,
    );
    let router = api::router(state);
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    match &config.transport {
        Transport::InsecureHttp => {
            ready(Ready {
                addr,
                url: format!("http://{addr}"),
                fingerprint: None,
                bootstrap_token,
            });
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await?;
        }
        transport => {
            let identity = match transport {
                Transport::Tls { cert, key } => tls::load(cert, key)?,
                _ => tls::generated(&config.data.join("tls"), &names(addr))?,
            };
            let fingerprint = identity.fingerprint.clone();
            let listener = tls::TlsListener::new(listener, identity)?;
            ready(Ready {
                addr,
                url: format!("https://{addr}"),
                fingerprint: Some(fingerprint),
                bootstrap_token,
            });
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await?;
        }
    }
    Ok(())
}

/// The server's signing key (approvals, pre-authorisations, webhooks): one for every server on
/// the database, made by the first.
/// The server's signing key (approvals, pre-authorisations, webhooks, custody lines), kept in
/// the database sealed by the master key: every server on the database signs with it.
async fn signing_key(
    keyring: &evidence::Keyring,
) -> Result<firewarden_evidence::keys::KeyPair, ServerError> {
    use firewarden_evidence::keys::KeyPair;
    let fresh = KeyPair::generate(false).map_err(|e| ServerError::Config(e.to_string()))?;
    let pem = keyring.secret("approvals", || fresh.private_pem()).await?;
    KeyPair::from_pem(&pem, "the stored approvals key")
        .map_err(|e| ServerError::Config(e.to_string()))
}

/// Names for a generated certificate: loopback, this host's name, the listen address.
fn names(addr: SocketAddr) -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Ok(h) = rustix::system::uname().nodename().to_str() {
        names.push(h.to_owned());
    }
    if !addr.ip().is_unspecified() {
        names.push(addr.ip().to_string());
    }
    names.sort();
    names.dedup();
    names
}
