//! `firewarden triage`: cause analysis of a live host or a mounted image.

use crate::output::OutputArgs;
use anyhow::{Context, Result, bail};
use firewarden_model::{Severity, Timestamp};
use firewarden_source::{FsSource, Source};
use firewarden_triage::TriageOptions;
use std::path::PathBuf;
use std::process::ExitCode;

/// Analyse a Linux system: how the attacker got in, what they did, what is still there.
///
/// Reads files, logs and /proc directly (never runs the host's own tools) and never writes to the
/// analysed system.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden triage                                 # this host, live\n  firewarden triage --root /mnt/evidence            # a mounted image or extracted tree\n  firewarden triage --bundle web01.fwb              # evidence collected earlier\n  firewarden triage --since 2026-11-20 --min-severity medium\n  firewarden triage --only linux.logins --auth-log ./auth.log\n  firewarden triage --quick                         # first answers in seconds, no file scans\n  firewarden triage --format json -o triage.json    # for machines and the case platform\n\nExit codes: 0 nothing at or above --min-severity, 1 findings, 2 error (also: the source held none of the evidence the checks read)."
)]
pub struct Args {
    /// Analyse this directory (a mounted image or extracted tree) instead of the live host.
    /// Symlinks inside it resolve inside it; nothing outside it is read.
    #[arg(long, value_name = "DIR", conflicts_with = "bundle")]
    root: Option<PathBuf>,
    /// Analyse an evidence bundle made by `firewarden collect` (verified first; a tampered
    /// bundle is refused). Process and network checks run on the captured live state.
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// Expected signer of the bundle (Ed25519 public key, PEM or hex).
    #[arg(long, value_name = "PUB", requires = "bundle")]
    key: Option<PathBuf>,
    /// age identity file for an encrypted bundle.
    #[arg(long, value_name = "FILE", requires = "bundle")]
    identity: Option<PathBuf>,
    /// Also analyse this auth log (syslog format, plain or .gz); may be repeated.
    #[arg(long = "auth-log", value_name = "FILE")]
    auth_logs: Vec<PathBuf>,
    /// Run only these checks (ids or prefixes such as `linux.persistence`); comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "CHECK")]
    only: Vec<String>,
    /// Skip these checks (ids or prefixes); comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "CHECK")]
    skip: Vec<String>,
    /// Report findings at or above this severity: info, low, medium, high, critical.
    #[arg(long, default_value = "low")]
    min_severity: Severity,
    /// Start of the incident window (YYYY-MM-DD or RFC 3339, UTC): lists files changed since,
    /// and drops older events from the timeline.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    since: Option<Timestamp>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Stop after the fast checks (accounts, logins, processes, network, persistence, logs):
    /// answers in seconds even on a cold disk; package verification and the file and web
    /// scans do not run (they are listed as skipped).
    #[arg(long)]
    quick: bool,
    #[command(flatten)]
    out: OutputArgs,
}

/// Analysis never writes to the analysed system: an output file inside `--root` is refused.
pub fn refuse_inside(root: &std::path::Path, out: &std::path::Path) -> Result<()> {
    let root = std::fs::canonicalize(root)
        .with_context(|| format!("cannot open root {}", root.display()))?;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let parent =
        std::fs::canonicalize(parent).with_context(|| format!("cannot write {}", out.display()))?;
    if parent.starts_with(&root) && root != std::path::Path::new("/") {
        bail!(
            "refusing to write {} inside the analysed root {}: evidence must not change",
            out.display(),
            root.display()
        );
    }
    Ok(())
}

/// `--since` values: a date or an RFC 3339 time, UTC.
pub fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s)
        .ok_or_else(|| format!("`{s}` is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"))
}

pub fn run(args: Args) -> Result<ExitCode> {
    crate::memory::return_freed_memory_at_once();
    let known: Vec<&str> = firewarden_triage::catalogue()
        .iter()
        .map(|c| c.meta.id)
        .collect();
    for pat in args.only.iter().chain(&args.skip) {
        if !known
            .iter()
            .any(|id| *id == pat || id.starts_with(&format!("{pat}.")))
        {
            bail!("no check matches `{pat}` (see `firewarden checks`)");
        }
    }
    if let (Some(root), Some(out)) = (&args.root, &args.out.output) {
        refuse_inside(root, out)?;
    }
    let mut now = None;
    let src: Box<dyn Source> = match (&args.root, &args.bundle) {
        (Some(dir), _) => Box::new(
            FsSource::root(dir).with_context(|| format!("cannot open root {}", dir.display()))?,
        ),
        (None, Some(file)) => {
            let pinned = args
                .key
                .as_deref()
                .map(firewarden_evidence::PublicKey::load)
                .transpose()?;
            let identities = match &args.identity {
                Some(p) => firewarden_evidence::load_identities(p)?,
                None => Vec::new(),
            };
            let b = firewarden_evidence::BundleSource::open(file, &identities, pinned.as_ref())
                .with_context(|| format!("cannot use bundle {}", file.display()))?;
            // The bundle is judged as of its collection, not as of today.
            now = b.collected_at();
            Box::new(b)
        }
        (None, None) => Box::new(FsSource::live()),
    };
    for log in &args.auth_logs {
        std::fs::metadata(log)
            .with_context(|| format!("cannot read auth log {}", log.display()))?;
    }
    let opts = TriageOptions {
        only: args.only,
        skip: args.skip,
        min_severity: args.min_severity,
        since: args.since,
        auth_logs: args.auth_logs,
        threads: args.threads,
        now,
        quick: args.quick,
    };
    let progress = crate::progress::Progress::new();
    let colour = args.out.colour();
    let t0 = std::time::Instant::now();
    // On a terminal, the fast checks' answers show at once while the deep checks go on; the
    // full report follows on standard output as usual.
    let first = |r: &firewarden_model::TriageReport| {
        progress.say(&firewarden_report::render_first_answers(
            r,
            colour,
            t0.elapsed().as_secs_f64(),
        ))
    };
    let tell: Option<&(dyn Fn(&firewarden_model::TriageReport) + Sync)> =
        progress.shown().then_some(&first);
    let mut report = progress
        .run(|| firewarden_triage::run_phased(src.as_ref(), &opts, &|p| progress.update(p), tell));
    report.provenance = crate::provenance::binary();
    args.out.write(&firewarden_report::render(
        &report,
        args.out.format,
        args.out.colour(),
    ))?;
    Ok(if !report.findings.is_empty() {
        ExitCode::from(1)
    } else if report.storyline.no_evidence {
        // An empty or wrong directory is not a clean host: a script must not read 0.
        eprintln!(
            "firewarden: error: the source holds none of the evidence the checks read ({}); is it the right directory?",
            report.storyline.evidence_gaps.len()
        );
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
