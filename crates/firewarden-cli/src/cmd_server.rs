//! `firewarden server`: the case platform. One command, everything under `--data`.

use anyhow::{Context, Result};
use firewarden_server::{Config, Transport};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Serve the case platform: cases through six gated stages, for every customer.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  firewarden server --data /srv/firewarden                 # HTTPS on 127.0.0.1:8443, SQLite\n  firewarden server --data /srv/fw --listen 0.0.0.0:8443\n  firewarden server --data /srv/fw --database postgres://fw@db/fw   # teams, several servers\n  firewarden server audit --verify --data /srv/fw            # check the audit chain offline\n\nThe first start makes the `admin` user and writes its token to DATA/bootstrap-token (0600).\nClients pin the certificate: the banner prints its fingerprint."
)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// Where the database (SQLite), certificate, bootstrap token and evidence are kept.
    #[arg(long, default_value = "firewarden-data", global = true)]
    data: PathBuf,
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// PostgreSQL instead of SQLite (several servers may share it).
    #[arg(
        long,
        env = "FIREWARDEN_DATABASE",
        hide_env_values = true,
        global = true
    )]
    database: Option<String>,
    /// Object storage for evidence (`s3://bucket/prefix`).
    #[arg(long)]
    evidence_store: Option<String>,
    /// Certificate chain (PEM) instead of the generated one.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Plain HTTP, on a loopback address only (tests, a TLS proxy in front).
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    insecure_http: bool,
    /// Largest upload accepted, in MiB.
    #[arg(long, default_value_t = 8192)]
    max_upload_mib: u64,
    /// How often SLA clocks are checked for warnings and breaches to post, in seconds.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    sla_every_secs: u64,
    /// The master key that opens each customer's evidence key (age X25519, made here on
    /// first start; default DATA/master.key). Keep it off the data disk (a mounted secret, a
    /// USB key): a copied disk or bucket then opens nothing. Every server on one database
    /// needs the same.
    #[arg(long, value_name = "FILE", env = "FIREWARDEN_MASTER_KEY")]
    master_key: Option<PathBuf>,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Check the audit log's hash chain.
    Audit {
        /// Verify every record's chain link.
        #[arg(long)]
        verify: bool,
    },
}

pub fn run(args: Args) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let url = match &args.database {
        Some(u) => u.clone(),
        None => format!("sqlite:{}", args.data.join("cases.db").display()),
    };
    if let Some(Action::Audit { verify }) = &args.action {
        if !verify {
            anyhow::bail!("say what to do: firewarden server audit --verify");
        }
        if args.database.is_none() && !args.data.join("cases.db").exists() {
            anyhow::bail!("no database under {}", args.data.display());
        }
        return rt.block_on(async {
            let store = firewarden_store::Store::open(&url).await?;
            match store.verify_audit().await? {
                Ok(n) => {
                    println!("OK audit log: {n} records, chain intact");
                    Ok(ExitCode::SUCCESS)
                }
                Err(b) => {
                    println!("BROKEN audit log at record {}: {}", b.seq, b.reason);
                    Ok(ExitCode::from(1))
                }
            }
        });
    }
    let transport = match (&args.tls_cert, &args.tls_key, args.insecure_http) {
        (_, _, true) => Transport::InsecureHttp,
        (Some(cert), Some(key), _) => Transport::Tls {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ => Transport::GeneratedTls,
    };
    let config = Config {
        data: args.data.clone(),
        listen: args.listen,
        database: args.database.clone(),
        evidence_store: args.evidence_store.clone(),
        transport,
        max_upload: args.max_upload_mib.saturating_mul(1 << 20),
        sla_every: std::time::Duration::from_secs(args.sla_every_secs),
        master_key: args.master_key.clone(),
    };
    firewarden_server::check(&config)?;
    rt.block_on(async move {
        let shutdown = async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            eprintln!("firewarden server: stopping");
        };
        firewarden_server::run(config, banner, shutdown)
            .await
            .context("firewarden server")
    })?;
    Ok(ExitCode::SUCCESS)
}

fn banner(r: firewarden_server::Ready) {
    eprintln!("firewarden server listening on {}", r.url);
    if let Some(fp) = &r.fingerprint {
        eprintln!("certificate pin: {fp}");
    }
    if let Some(p) = &r.bootstrap_token {
        eprintln!(
            "first start: the admin's one-time token is in {} (mode 0600)",
            p.display()
        );
    }
    let pin = r
        .fingerprint
        .as_ref()
        .map(|f| format!(" FIREWARDEN_PIN={f}"))
        .unwrap_or_default();
    eprintln!(
        "clients: export FIREWARDEN_SERVER={}{pin} FIREWARDEN_TOKEN=…",
        r.url
    );
}
