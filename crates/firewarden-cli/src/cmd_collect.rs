//! `firewarden collect`: a signed evidence bundle of a live host or a mounted image.

use anyhow::{Context, Result, bail};
use firewarden_evidence::{Caps, CollectOptions, KeyPair, Profile};
use firewarden_source::{FsSource, Source};
use std::path::PathBuf;
use std::process::ExitCode;

/// Collect evidence in order of volatility into one signed, verifiable bundle.
///
/// Live state first (network tables, processes with their executables, sessions, mounts,
/// modules, kernel taint, clock), then every file the triage catalogue reads, the files its
/// findings point at, and the profile's configuration, logs and histories. Writes FILE (tar +
/// zstd, optionally age-encrypted) and FILE.custody, the chain-of-custody ledger.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden keygen -o responder                      # once: responder.key + responder.pub\n  firewarden collect --key responder.key --operator 'A. Responder' --case IR-2026-117 -o /media/usb/web01.fwb\n  firewarden collect --root /mnt/image --profile full -o image.fwb\n  firewarden collect --encrypt-to age1... -o web01.fwb   # only the holder of the identity can read it\n  firewarden verify web01.fwb --key responder.pub\n\nExit codes: 0 bundle written, 2 error."
)]
pub struct Args {
    /// Collect from this directory (a mounted image) instead of the live host.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// What to gather: triage (what the checks read, flagged files, key configuration and logs)
    /// or full (also whole log, config, home, temp and web trees and every running executable).
    #[arg(long, default_value = "triage", value_parser = ["triage", "full"])]
    profile: String,
    /// Case id recorded in the manifest and the custody ledger.
    #[arg(long, value_name = "ID")]
    case: Option<String>,
    /// Who is collecting (recorded and signed).
    #[arg(long, value_name = "NAME", env = "FIREWARDEN_OPERATOR")]
    operator: Option<String>,
    /// Ed25519 private key (PEM) to sign with; without it an ephemeral key is used and its
    /// public half printed.
    #[arg(long, value_name = "FILE", env = "FIREWARDEN_KEY")]
    key: Option<PathBuf>,
    /// Encrypt to this age X25519 recipient (`age1…`); may be repeated.
    #[arg(long = "encrypt-to", value_name = "RECIPIENT")]
    encrypt_to: Vec<String>,
    /// Most bytes stored per file (suffixes K, M, G); larger files keep their beginning.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_file_size: Option<u64>,
    /// Most bytes of content in total (suffixes K, M, G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_total_size: Option<u64>,
    /// Worker threads for the triage pass (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Bundle to write (must not exist; never inside --root).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("`{s}` is not a size (e.g. 512K, 64M, 2G)"))
}

pub fn run(args: Args) -> Result<ExitCode> {
    crate::memory::return_freed_memory_at_once();
    if args.output.exists() {
        bail!(
            "{} already exists: evidence is never overwritten",
            args.output.display()
        );
    }
    if let Some(root) = &args.root {
        crate::cmd_triage::refuse_inside(root, &args.output)?;
    }
    let src: Box<dyn Source> = match &args.root {
        Some(dir) => Box::new(
            FsSource::root(dir).with_context(|| format!("cannot open root {}", dir.display()))?,
        ),
        None => Box::new(FsSource::live()),
    };
    let profile = if args.profile == "full" {
        Profile::Full
    } else {
        Profile::Triage
    };
    let defaults = profile.caps();
    let caps = Caps {
        max_file: args.max_file_size.unwrap_or(defaults.max_file),
        max_total: args.max_total_size.unwrap_or(defaults.max_total),
    };
    let key = match &args.key {
        Some(p) => KeyPair::load(p)?,
        None => KeyPair::generate(true)?,
    };
    let recipients = args
        .encrypt_to
        .iter()
        .map(|r| firewarden_evidence::parse_recipient(r))
        .collect::<Result<Vec<_>, _>>()?;
    let operator = args.operator.clone().unwrap_or_else(|| {
        let user = std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "unknown".into());
        format!("{user} (not given: --operator)")
    });
    let public = key.public();
    let ephemeral = key.ephemeral;
    let opts = CollectOptions {
        profile,
        caps,
        case_id: args.case.clone(),
        operator,
        command_line: std::env::args().collect(),
        output: args.output.clone(),
        key,
        recipients,
        threads: args.threads,
    };
    let progress = crate::progress::Progress::new();
    let collected = progress
        .run(|| firewarden_evidence::collect(src.as_ref(), opts, &|msg| progress.message(msg)))?;
    let w = &collected.written;
    eprintln!(
        "collected {} paths ({} unreadable, listed in the manifest), {} content members, {} of content",
        collected.items,
        collected.unreadable,
        w.members,
        human_bytes(w.content_bytes)
    );
    eprintln!(
        "triage during collection: {} findings (run `firewarden triage --bundle {}`)",
        collected.report.findings.len(),
        args.output.display()
    );
    if ephemeral {
        eprintln!(
            "signed with an EPHEMERAL key: keep this public key with the case notes to verify later:\n{}",
            public.to_pem().trim_end()
        );
    }
    println!(
        "{}  sha256 {}  {} bytes  signer {}  custody {}",
        args.output.display(),
        w.sha256,
        w.size,
        public.fingerprint(),
        firewarden_evidence::custody::ledger_path(&args.output).display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `1.5 MiB` style.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
