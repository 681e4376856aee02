//! `firewarden recover`: restore tampered web files from a baseline, lift containment, and
//! re-run triage to show what is left.

use crate::output::OutputArgs;
use crate::respond::{ActArgs, apply_plan, say, write_outcomes};
use anyhow::{Result, anyhow};
use firewarden_model::action::ActionStatus;
use firewarden_respond::recover;
use std::path::PathBuf;
use std::process::ExitCode;

/// Bring the host back: restore web files, lift containment, verify.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden recover web shop.baseline --dry-run     # what would be put back\n  firewarden recover web shop.baseline --quarantine-added --yes\n  firewarden recover lift                            # lift the network isolation\n  firewarden recover restart --dry-run               # services still running removed code\n  firewarden recover verify --min-severity medium    # triage again: what is left?\n\nExit codes: verify (triage): 0 nothing left at or above --min-severity, 1 findings; others: 0 done; 2 error."
)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// Restore a site's changed and removed files from a baseline taken with `--copy`.
    Web {
        /// Baseline file (`firewarden baseline create DIR -o FILE --copy`).
        baseline: PathBuf,
        /// The site directory inside the target (default: the one the baseline was taken of).
        #[arg(long, value_name = "DIR")]
        site: Option<String>,
        /// Also move files added since the baseline into the quarantine.
        #[arg(long)]
        quarantine_added: bool,
        #[command(flatten)]
        act: ActArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Lift the network isolation still in force (frozen processes and locked accounts are
    /// listed, to be undone one by one when you are sure).
    Lift {
        #[command(flatten)]
        act: ActArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Restart what eradication stopped (once its unit file is back) and the services still
    /// running code that was removed (a preload rootkit stays loaded until they restart).
    Restart {
        #[command(flatten)]
        act: ActArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Re-run triage and show what is left (every `triage` option applies).
    Verify(crate::cmd_triage::Args),
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.what {
        What::Web {
            baseline,
            site,
            quarantine_added,
            act,
            out,
        } => {
            let base = firewarden_scan::baseline::load(&baseline).map_err(|e| anyhow!(e))?;
            let site = site.unwrap_or_else(|| base.root.clone());
            let r = act.responder()?;
            let (plan, _) = recover::web(&r.target, &base, &site, quarantine_added)?;
            let mut outcomes = Vec::new();
            let nothing = format!("{site} matches the baseline: nothing to restore");
            apply_plan(&r, plan, &act, &out, &nothing, &mut outcomes)?;
            write_outcomes(&out, &outcomes)?;
            Ok(ExitCode::SUCCESS)
        }
        What::Lift { act, out } => {
            let r = act.responder()?;
            let mut lifted = 0;
            for a in r.actions()?.iter().rev() {
                let live = a.status.in_force() || a.status == ActionStatus::Expired;
                if !live || !a.action.kind.starts_with("contain.") {
                    continue;
                }
                if a.action.kind != "contain.network" {
                    say(
                        &out,
                        &format!(
                            "still in force: {} {} (`firewarden undo {}` when it is safe)\n",
                            a.action.id, a.action.title, a.action.id
                        ),
                    );
                    continue;
                }
                if act.dry_run {
                    say(
                        &out,
                        &format!("would undo {}: {}\n", a.action.id, a.action.title),
                    );
                    continue;
                }
                let u = r.undo(&a.action.id, false)?;
                say(&out, &format!("undone {}: {}\n", u.id, u.title));
                lifted += 1;
            }
            if lifted == 0 && !act.dry_run {
                say(&out, "no network isolation in force\n");
            }
            Ok(ExitCode::SUCCESS)
        }
        What::Restart { act, out } => {
            let r = act.responder()?;
            let plan = recover::restart(&r.target, &r.actions()?)?;
            let mut outcomes = Vec::new();
            apply_plan(&r, plan, &act, &out, "nothing to restart", &mut outcomes)?;
            write_outcomes(&out, &outcomes)?;
            Ok(ExitCode::SUCCESS)
        }
        What::Verify(triage) => crate::cmd_triage::run(triage),
    }
}
