//! `firewarden eradicate`: remove the footholds triage found, each with backup and undo, and
//! re-run the check that found it.

use crate::output::OutputArgs;
use crate::respond::{ActArgs, Outcome, confirm_and_apply, say, write_outcomes};
use anyhow::{Context, Result, bail};
use firewarden_model::{Finding, TriageReport};
use firewarden_respond::eradicate;
use std::path::PathBuf;
use std::process::ExitCode;

/// Remove footholds named by triage findings.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden triage --format json -o triage.json\n  firewarden eradicate --from triage.json --list            # what can be removed\n  firewarden eradicate --from triage.json linux.persistence.cron:3f2a9c1e --dry-run\n  firewarden eradicate --from triage.json linux.ssh.authorized_keys:8d1e linux.accounts.uid0:77ab\n  firewarden eradicate --from triage.json --all --dry-run   # every high/critical foothold\n  firewarden undo A4                                        # put one back\n\nA finding id may be shortened to any unique prefix.\nExit codes: 0 every foothold gone, 1 a re-run check still reports one, 2 error or refused."
)]
pub struct Args {
    /// Finding ids (or unique prefixes) from the triage result.
    findings: Vec<String>,
    /// Triage result file (`firewarden triage --format json -o FILE`).
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// List the findings that can be eradicated automatically, and exit.
    #[arg(long)]
    list: bool,
    /// Every finding that can be eradicated automatically, at or above --min-severity.
    #[arg(long, conflicts_with = "findings")]
    all: bool,
    /// With --all (and --list): the lowest severity taken (default high: inventory findings
    /// such as "cron job not from any package" need a person's judgement).
    #[arg(long, default_value = "high")]
    min_severity: firewarden_model::Severity,
    /// With --all: also end the running processes found (miners, reverse shells); this cannot
    /// be undone, so --all alone leaves them. Named findings need no --kill.
    #[arg(long, requires = "all")]
    kill: bool,
    #[command(flatten)]
    act: ActArgs,
    #[command(flatten)]
    out: OutputArgs,
}

fn find<'a>(report: &'a TriageReport, id: &str) -> Result<&'a Finding> {
    if let Some(f) = report.findings.iter().find(|f| f.id == id) {
        return Ok(f);
    }
    let hits: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.id.starts_with(id))
        .collect();
    match hits.as_slice() {
        [f] => Ok(f),
        [] => bail!("no finding {id} in the triage result"),
        _ => bail!("{id} matches {} findings; give more of the id", hits.len()),
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let text = std::fs::read(&args.from)
        .with_context(|| format!("cannot read {}", args.from.display()))?;
    let report: TriageReport = serde_json::from_slice(&text).with_context(|| {
        format!(
            "{} is not a triage result (--format json)",
            args.from.display()
        )
    })?;
    if args.list {
        let mut out = String::new();
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity >= args.min_severity)
        {
            if let Some(remedy) = eradicate::remedy_for(&f.check) {
                out.push_str(&format!(
                    "{:<8} {:<45} {:?}: {}\n",
                    f.severity.as_str(),
                    f.id,
                    remedy,
                    firewarden_model::printable(&f.title, 100)
                ));
            }
        }
        if out.is_empty() {
            out = "No finding in this result can be eradicated automatically.\n".into();
        }
        args.out.write(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.findings.is_empty() && !args.all {
        bail!("name the findings to eradicate, or --all (see --list)");
    }
    let findings: Vec<&Finding> = if args.all {
        let (kills, rest): (Vec<&Finding>, Vec<&Finding>) = report
            .findings
            .iter()
            .filter(|f| {
                f.severity >= args.min_severity && eradicate::remedy_for(&f.check).is_some()
            })
            .partition(|f| eradicate::remedy_for(&f.check) == Some(eradicate::Remedy::Process));
        if !kills.is_empty() && !args.kill {
            say(
                &args.out,
                &format!(
                    "{} running process(es) left alone: ending one cannot be undone; add --kill, or name them ({})\n",
                    kills.len(),
                    kills
                        .iter()
                        .map(|f| f.id.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            );
        }
        if args.kill {
            [rest, kills].concat()
        } else {
            rest
        }
    } else {
        args.findings
            .iter()
            .map(|id| find(&report, id))
            .collect::<Result<_>>()?
    };
    if findings.is_empty() {
        say(
            &args.out,
            "nothing to eradicate at or above that severity\n",
        );
        write_outcomes(&args.out, &[])?;
        return Ok(ExitCode::SUCCESS);
    }
    let r = args.act.responder()?;
    let mut outcomes = Vec::new();
    let mut errors = 0;
    // One finding at a time: each plan is made from the host as the previous one left it.
    for f in findings {
        let plan = match eradicate::plan(&r.target, f) {
            Ok(p) => p,
            Err(e) => {
                // Two findings can name one foothold (a unit and its link, one file matched by
                // two rules): when an earlier action removed it, the plan finds it gone and the
                // re-run check agrees. A refusal is never reported as gone.
                let drifted = matches!(e, firewarden_respond::Error::Drift(_));
                let (gone, detail) = if drifted {
                    eradicate::recheck(&r.target, f)
                } else {
                    (false, String::new())
                };
                if gone && !args.act.dry_run {
                    say(
                        &args.out,
                        &format!("\n{}: already gone ({e})\n  {detail}\n", f.id),
                    );
                    outcomes.push(Outcome {
                        finding: Some(f.id.clone()),
                        action: None,
                        gone: Some(true),
                        recheck: Some(detail),
                    });
                } else {
                    eprintln!("firewarden: {}: {e}", f.id);
                    errors += 1;
                }
                continue;
            }
        };
        let action = match confirm_and_apply(&r, plan, &args.act, &args.out) {
            Ok(Some(a)) => a,
            Ok(None) => continue,
            Err(e) => {
                eprintln!("firewarden: {}: {e:#}", f.id);
                errors += 1;
                continue;
            }
        };
        let (gone, detail) = eradicate::recheck(&r.target, f);
        r.record_verified(&action.id, gone, &detail)?;
        say(&args.out, &format!("  {detail}\n"));
        outcomes.push(Outcome {
            finding: Some(f.id.clone()),
            action: Some(action),
            gone: Some(gone),
            recheck: Some(detail),
        });
    }
    write_outcomes(&args.out, &outcomes)?;
    Ok(if errors > 0 {
        ExitCode::from(2)
    } else if outcomes.iter().any(|o| o.gone == Some(false)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
