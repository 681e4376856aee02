//! `firewarden baseline`: record a site, and later say what changed in it.

use crate::output::OutputArgs;
use anyhow::{Context, Result, bail};
use firewarden_model::{
    CheckRun, CheckStatus, Evidence, Finding, SCHEMA_VERSION, Severity, Storyline, Timestamp,
    TriageReport, Warning,
};
use firewarden_scan::baseline::{self, Change};
use firewarden_source::FsSource;
use std::path::PathBuf;
use std::process::ExitCode;

/// Record a web site's files (hashes, modes, optionally text) and compare it later.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden baseline create /var/www/shop -o shop.baseline --copy\n  firewarden baseline diff shop.baseline                 # the directory recorded in it\n  firewarden baseline diff shop.baseline /mnt/image/var/www/shop --format json\n\nExit codes: 0 no change, 1 changes, 2 error."
)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Record DIR into a baseline file.
    Create {
        /// The site's directory.
        dir: PathBuf,
        /// Baseline file to write.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
        /// Keep the text of text files up to 1 MiB, so `diff` can show changed lines.
        #[arg(long)]
        copy: bool,
    },
    /// Compare a directory (default: the one recorded) with a baseline.
    Diff {
        /// Baseline file.
        baseline: PathBuf,
        /// Directory to compare (default: the one the baseline was taken of).
        dir: Option<PathBuf>,
        #[command(flatten)]
        out: OutputArgs,
    },
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.action {
        Action::Create { dir, output, copy } => {
            let src =
                FsSource::root(&dir).with_context(|| format!("cannot open {}", dir.display()))?;
            let label = std::fs::canonicalize(&dir)
                .unwrap_or(dir.clone())
                .display()
                .to_string();
            crate::cmd_triage::refuse_inside(&dir, &output)?;
            let (b, problems) = baseline::create(&src, &label, copy, 0);
            for p in &problems {
                eprintln!("firewarden: warning: {p}");
            }
            let json = serde_json::to_vec(&b)?;
            std::fs::write(&output, json)
                .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!(
                "baseline of {} files written to {}",
                b.files.len(),
                output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Action::Diff {
            baseline: file,
            dir,
            out,
        } => {
            let dir = match dir {
                Some(d) => d,
                None => baseline::root_of_file(&file).map_err(anyhow::Error::msg)?,
            };
            if !dir.is_dir() {
                bail!("{} is not a directory", dir.display());
            }
            let src =
                FsSource::root(&dir).with_context(|| format!("cannot open {}", dir.display()))?;
            let started = Timestamp::now();
            // Streamed: memory follows the tree, not the baseline.
            let base = baseline::diff_file(&file, &src, 0).map_err(anyhow::Error::msg)?;
            let (changes, problems, unlisted) = (base.changes, base.problems, base.unlisted);
            let findings: Vec<Finding> = changes.iter().map(|c| finding(c, &dir)).collect();
            // Changes past the listing cap count too.
            let (added, changed, removed) = changes.iter().fold(
                (unlisted[0], unlisted[1], unlisted[2]),
                |(a, c, r), x| match x {
                    Change::Added { .. } => (a + 1, c, r),
                    Change::Changed { .. } => (a, c + 1, r),
                    Change::Removed { .. } => (a, c, r + 1),
                },
            );
            let report = TriageReport {
                schema_version: SCHEMA_VERSION,
                tool: format!("firewarden {}", env!("CARGO_PKG_VERSION")),
                source: firewarden_model::SourceInfo {
                    kind: "baseline".into(),
                    location: dir.display().to_string(),
                    hostname: None,
                    zone: None,
                },
                started,
                finished: Timestamp::now(),
                storyline: Storyline {
                    verdict: format!(
                        "Since the baseline of {} ({} files): {added} added, {changed} changed, {removed} removed.",
                        base.created, base.files
                    ),
                    ..Default::default()
                },
                timeline: Vec::new(),
                checks: vec![CheckRun {
                    id: "web.baseline".into(),
                    status: CheckStatus::Ran,
                    reason: None,
                    millis: 0,
                    findings: findings.len(),
                }],
                findings,
                warnings: problems
                    .into_iter()
                    .map(|p| Warning {
                        check: Some("web.baseline".into()),
                        path: None,
                        message: p,
                    })
                    .collect(),
                provenance: crate::provenance::binary(),
            };
            out.write(&firewarden_report::render(
                &report,
                out.format,
                out.colour(),
            ))?;
            Ok(if report.findings.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn is_code(path: &str) -> bool {
    let l = path.to_ascii_lowercase();
    [
        ".php",
        ".phtml",
        ".jsp",
        ".jspx",
        ".asp",
        ".aspx",
        ".js",
        ".html",
        ".htm",
        ".htaccess",
        ".user.ini",
        ".cgi",
        ".pl",
        ".py",
        ".sh",
    ]
    .iter()
    .any(|e| l.ends_with(e))
}

/// ` -> TARGET` for a symlink.
fn linked(link: &Option<String>) -> String {
    link.as_deref()
        .map(|t| format!(" -> {t}"))
        .unwrap_or_default()
}

fn finding(c: &Change, dir: &std::path::Path) -> Finding {
    let shown = |p: &str| format!("{}{p}", dir.display());
    match c {
        Change::Added { path, sha256, link } => Finding::new("web.baseline.added", format!("File added since the baseline: {}{}", shown(path), linked(link)), if is_code(path) || link.is_some() { Severity::High } else { Severity::Medium })
            .attack(&["T1505.003"])
            .explain(format!("{}{} was not in the baseline (sha256 {sha256}). A new script in a site is how webshells arrive{}.", shown(path), linked(link), if link.is_some() { "; a link to a file outside the site is how they hide from scans of the site alone" } else { "" }))
            .recommend("Scan it (`firewarden scan`), find the request that created it in the access logs, and remove it if nobody on the site's team added it.")
            .evidence(Evidence::at(shown(path))),
        Change::Changed { path, before, after, mode, diff, link } => {
            let mut e = Evidence::at(shown(path));
            if let Some(d) = diff {
                let added: Vec<&str> = d.lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")).collect();
                e = e.excerpt(added.join(" ⏎ "));
            }
            let mode_text = mode.as_ref().map(|(a, b)| format!(" Mode {a} → {b}.")).unwrap_or_default();
            let mut explanation = format!("{}{} differs from the baseline (sha256 {before} → {after}).{mode_text}", shown(path), linked(link));
            if let Some(d) = diff {
                explanation.push('\n');
                explanation.push_str(&firewarden_model::printable(d, 4000));
            }
            Finding::new("web.baseline.changed", format!("File changed since the baseline: {}", shown(path)), if is_code(path) { Severity::High } else { Severity::Medium })
                .attack(&["T1491.002", "T1505.003"])
                .explain(explanation)
                .recommend("Review the change; restore the file from the baseline or a clean copy, and find who changed it (file ctime against the access logs).")
                .evidence(e)
        }
        Change::Removed { path } => Finding::new("web.baseline.removed", format!("File removed since the baseline: {}", shown(path)), Severity::Low)
            .explain(format!("{} was in the baseline and is gone.", shown(path)))
            .recommend("Check whether the removal was a deployment; attackers sometimes delete logs or the files they replaced.")
            .evidence(Evidence::at(shown(path))),
    }
}
