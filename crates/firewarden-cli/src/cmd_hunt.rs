//! `firewarden hunt`: Sigma rules and built-in Windows checks over event logs.

use crate::output::OutputArgs;
use anyhow::{Result, bail};
use firewarden_hunt::report::ReportContext;
use firewarden_hunt::sigma::RuleSet;
use firewarden_hunt::{HuntOptions, builtin, hunt, reader};
use firewarden_model::{Severity, Timestamp};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Hunt through Windows event logs (.evtx, or JSON lines) with Sigma rules and the built-in
/// Windows intrusion checks; prints a UTC detection timeline and a per-rule summary.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden hunt C:/Windows/System32/winevt/Logs     # a copied logs folder\n  firewarden hunt ./logs --sigma ./sigma/rules/windows --sigma ./sigma/rules-threat-hunting\n  firewarden hunt Security.evtx --from 2026-11-01 --min-level high\n  firewarden hunt ./logs --sigma ./rules --format csv -o timeline.csv   # Timesketch import\n  firewarden hunt --sigma ./rules --unsupported         # which rules cannot run, and why\n\nExit codes: 0 nothing at or above --min-level, 1 detections, 2 error."
)]
pub struct Args {
    /// Event log files or directories (.evtx, .json, .jsonl; directories are searched).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Sigma rule file or directory (repeatable). Rules that cannot run are listed, never
    /// skipped silently (see --unsupported).
    #[arg(long = "sigma", value_name = "DIR", env = "FIREWARDEN_SIGMA")]
    sigma: Vec<PathBuf>,
    /// Do not run the built-in Windows checks.
    #[arg(long)]
    no_builtin: bool,
    /// Only events at or after (YYYY-MM-DD or RFC 3339, UTC).
    #[arg(long, value_name = "TIME", value_parser = crate::cmd_triage::parse_time)]
    from: Option<Timestamp>,
    /// Only events at or before (YYYY-MM-DD or RFC 3339, UTC).
    #[arg(long, value_name = "TIME", value_parser = crate::cmd_triage::parse_time)]
    to: Option<Timestamp>,
    /// Report detections at or above this level: info, low, medium, high, critical.
    #[arg(long, default_value = "low")]
    min_level: Severity,
    /// Also carve records from unallocated space in EVTX chunks (cleared logs, slack).
    #[arg(long)]
    carve: bool,
    /// List the rules that cannot be loaded, with the exact reason, and exit.
    #[arg(long)]
    unsupported: bool,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    #[command(flatten)]
    out: OutputArgs,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let started = Timestamp::now();
    let t0 = Instant::now();
    let rules = RuleSet::load(&args.sigma, args.threads).map_err(|e| {
        anyhow::anyhow!(
            "cannot read Sigma rules in {}: {e}",
            args.sigma
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let load_millis = t0.elapsed().as_millis() as u64;
    if args.unsupported {
        return unsupported(&args, &rules);
    }
    if args.paths.is_empty() {
        bail!("name at least one event log file or directory (see --help)");
    }
    let (files, mut warnings) = reader::log_files(&args.paths);
    if files.is_empty() {
        warnings.push("no .evtx, .json or .jsonl files found".into());
    }
    let opts = HuntOptions {
        threads: args.threads,
        from_micros: args.from.map(|t| t.0 * 1_000_000),
        // `--to 2026-11-02` means the whole of that second (or day start), inclusive.
        to_micros: args.to.map(|t| t.0 * 1_000_000 + 999_999),
        carve: args.carve,
        builtin: !args.no_builtin,
        min_level: args.min_level,
    };
    let total = files.len();
    let progress = crate::progress::Progress::new();
    let t1 = Instant::now();
    let output = progress.run(|| {
        hunt(&rules, files, &opts, &|done, parts| {
            progress.message(&format!(
                "{done}/{parts} parts of {total} event log files read"
            ));
        })
    });
    let builtin_hits = if opts.builtin {
        builtin::run(&output)
    } else {
        Vec::new()
    };
    let hunt_millis = t1.elapsed().as_millis() as u64;
    let mut report = firewarden_hunt::report::build(
        ReportContext {
            tool: format!("firewarden {}", env!("CARGO_PKG_VERSION")),
            location: args
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            started,
            min_level: args.min_level,
            load_millis,
            hunt_millis,
            warnings,
            rules: &rules,
        },
        output,
        builtin_hits,
    );
    report.provenance = crate::provenance::of("sigma", &args.sigma)?;
    args.out.write(&firewarden_report::render_hunt(
        &report,
        args.out.format,
        args.out.colour(),
    ))?;
    Ok(
        if firewarden_report::has_detections(&report, args.min_level) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// `--unsupported`: the unloaded rules, one per line (or as JSON), most common reason first.
fn unsupported(args: &Args, rules: &RuleSet) -> Result<ExitCode> {
    let r = &rules.report;
    let text = match args.out.format {
        firewarden_report::Format::Json => {
            serde_json::to_string_pretty(r).unwrap_or_default() + "\n"
        }
        firewarden_report::Format::Jsonl => r
            .unloaded
            .iter()
            .map(|u| serde_json::to_string(u).unwrap_or_default() + "\n")
            .collect(),
        _ => {
            let mut out = format!(
                "{} rule files, {} rules loaded, {} not loaded\n\nBy reason:\n",
                r.files,
                r.loaded,
                r.unloaded.len()
            );
            for (reason, n) in r.reasons() {
                out.push_str(&format!("  {n:>5}  {reason}\n"));
            }
            out.push_str("\nRules:\n");
            for u in &r.unloaded {
                out.push_str(&format!(
                    "  {}  {}  — {}\n",
                    u.path,
                    u.title.as_deref().unwrap_or("-"),
                    u.reason
                ));
            }
            out
        }
    };
    args.out.write(&text)?;
    Ok(ExitCode::SUCCESS)
}
