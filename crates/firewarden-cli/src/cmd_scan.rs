//! `firewarden scan`: YARA rules, script heuristics, IOCs, tampering and dumps over files.

use crate::output::OutputArgs;
use anyhow::{Context, Result, bail};
use firewarden_model::{
    CheckRun, CheckStatus, SCHEMA_VERSION, Severity, Storyline, Timestamp, TriageReport, Warning,
};
use firewarden_scan::{Engine, ScanOptions, ScanProgress, webroots};
use firewarden_source::{FsSource, Source};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Scan files for webshells, malware, hacktools, tampered pages and database dumps.
///
/// Without PATH, scans the web roots found in the nginx/Apache/Tomcat configuration, the temp
/// directories and the home directories. Symlinks are never followed; nothing is written.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden scan                                   # web roots, temp and home dirs of this host\n  firewarden scan /var/www --rules ./signature-base/yara --iocs ./signature-base/iocs\n  firewarden scan --root /mnt/image /var/www        # paths inside a mounted image\n  firewarden scan /srv --min-severity high --format jsonl -o scan.jsonl\n\nExit codes: 0 nothing at or above --min-severity, 1 findings, 2 error."
)]
pub struct Args {
    /// Files or directories to scan (paths inside --root when given).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Treat this directory as the analysed system's root (a mounted image).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Also load every .yar/.yara file under DIR (repeatable). Files that do not compile are
    /// listed as warnings; the rest load.
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// Do not use the built-in rule pack.
    #[arg(long)]
    no_builtin: bool,
    /// Do not run the script heuristics.
    #[arg(long)]
    no_heuristics: bool,
    /// Do not look for tampered pages (injected scripts, hidden iframes, SEO spam, auto_prepend).
    #[arg(long)]
    no_tamper: bool,
    /// Do not look for database dumps and archives.
    #[arg(long)]
    no_dumps: bool,
    /// IOC lists in signature-base format (files named *hash* and *filename*).
    #[arg(long = "iocs", value_name = "DIR")]
    iocs: Option<PathBuf>,
    /// Files larger than this many MiB are not scanned (a warning says so).
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    max_file_size: u64,
    /// Seconds a YARA scan of one file may take before it is abandoned with a warning.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    file_timeout: u64,
    /// Report findings at or above this severity: info, low, medium, high, critical.
    #[arg(long, default_value = "low")]
    min_severity: Severity,
    /// Only files changed since (YYYY-MM-DD or RFC 3339, UTC).
    #[arg(long, value_name = "TIME", value_parser = crate::cmd_triage::parse_time)]
    since: Option<Timestamp>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    #[command(flatten)]
    out: OutputArgs,
}

/// The web roots, and the temp and home directories where droppers and tools land.
fn default_targets(layout: &webroots::WebLayout) -> Vec<PathBuf> {
    let mut t: Vec<PathBuf> = layout.roots.clone();
    for d in ["/tmp", "/var/tmp", "/dev/shm", "/root", "/home"] {
        t.push(PathBuf::from(d));
    }
    t
}

pub fn run(args: Args) -> Result<ExitCode> {
    if let (Some(root), Some(out)) = (&args.root, &args.out.output) {
        crate::cmd_triage::refuse_inside(root, out)?;
    }
    let src: Box<dyn Source> = match &args.root {
        Some(dir) => Box::new(
            FsSource::root(dir).with_context(|| format!("cannot open root {}", dir.display()))?,
        ),
        None => Box::new(FsSource::live()),
    };
    let layout = webroots::discover(src.as_ref());
    let targets: Vec<PathBuf> = if args.paths.is_empty() {
        default_targets(&layout)
    } else {
        args.paths
            .iter()
            .map(|p| {
                if args.root.is_some() || p.is_absolute() {
                    p.clone()
                } else {
                    std::env::current_dir()
                        .map(|d| d.join(p))
                        .unwrap_or_else(|_| p.clone())
                }
            })
            .collect()
    };
    for dir in args.rules.iter().chain(&args.iocs) {
        if !dir.exists() {
            bail!("cannot read {}: no such file or directory", dir.display());
        }
    }
    if !args.paths.is_empty() {
        for t in &targets {
            src.symlink_metadata(t)
                .with_context(|| format!("cannot scan {}", t.display()))?;
        }
    }
    // The rule packs' hashes are taken before the scan reads them.
    let mut provenance = crate::provenance::of("yara", &args.rules)?;
    if let Some(iocs) = &args.iocs {
        provenance
            .rule_packs
            .push(crate::provenance::rule_pack("ioc", iocs)?);
    }
    let opts = ScanOptions {
        builtin_rules: !args.no_builtin,
        heuristics: !args.no_heuristics,
        tampering: !args.no_tamper,
        dumps: !args.no_dumps,
        max_file_size: args.max_file_size << 20,
        file_timeout: Duration::from_secs(args.file_timeout.max(1)),
        threads: args.threads,
        web_roots: layout.roots.clone(),
        since: args.since,
        ..ScanOptions::default()
    };
    let progress = crate::progress::Progress::new();
    let started = Timestamp::now();
    let t0 = std::time::Instant::now();
    progress.message("compiling rules");
    let (engine, output) = progress.run(|| -> Result<_> {
        let engine = Engine::new(opts, &args.rules, args.iocs.as_deref())?;
        let total = std::sync::atomic::AtomicUsize::new(0);
        let out = engine.scan(src.as_ref(), &targets, &|p| match p {
            ScanProgress::Listed(n) => {
                total.store(n, std::sync::atomic::Ordering::Relaxed);
                progress.message(&format!("scanning {n} files"));
            }
            ScanProgress::Scanned(d) => progress.message(&format!(
                "scanned {d}/{} files",
                total.load(std::sync::atomic::Ordering::Relaxed)
            )),
        });
        Ok((engine, out))
    })?;
    let millis = t0.elapsed().as_millis() as u64;

    let mut warnings: Vec<Warning> = engine
        .rule_errors()
        .iter()
        .map(|e| Warning {
            check: Some("scan.yara".into()),
            path: Some(e.file.clone()),
            message: format!("rule file not loaded: {}", e.message),
        })
        .collect();
    warnings.extend(engine.ioc_problems().iter().map(|p| Warning {
        check: Some("scan.ioc".into()),
        path: None,
        message: p.clone(),
    }));
    warnings.extend(output.warnings);
    let mut findings: Vec<_> = output
        .findings
        .into_iter()
        .filter(|f| f.severity >= args.min_severity)
        .collect();
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    let (files, rules) = engine.rule_counts();
    let (hashes, names) = engine.ioc_counts();
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let verdict = format!(
        "Scanned {} files ({:.1} MiB) in {} target(s) with {rules} YARA rules from {files} file(s){}{}: {} finding(s), {} critical, {} high.",
        output.files,
        output.bytes as f64 / 1048576.0,
        targets.len(),
        if hashes + names > 0 {
            format!(", {hashes} hash and {names} file-name IOCs")
        } else {
            String::new()
        },
        if engine.rule_errors().is_empty() {
            String::new()
        } else {
            format!(
                " ({} rule file(s) could not be loaded, listed under warnings)",
                engine.rule_errors().len()
            )
        },
        findings.len(),
        count(Severity::Critical),
        count(Severity::High),
    );
    let mut info = src.info();
    info.location = targets
        .iter()
        .map(|p| firewarden_source::display_path(p))
        .collect::<Vec<_>>()
        .join(" ");
    let report = TriageReport {
        schema_version: SCHEMA_VERSION,
        tool: format!("firewarden {}", env!("CARGO_PKG_VERSION")),
        source: info,
        started,
        finished: Timestamp::now(),
        storyline: Storyline {
            verdict,
            ..Default::default()
        },
        timeline: Vec::new(),
        checks: vec![CheckRun {
            id: "scan".into(),
            status: CheckStatus::Ran,
            reason: None,
            millis,
            findings: findings.len(),
        }],
        findings,
        warnings,
        provenance,
    };
    args.out.write(&firewarden_report::render(
        &report,
        args.out.format,
        args.out.colour(),
    ))?;
    Ok(if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
