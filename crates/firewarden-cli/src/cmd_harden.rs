//! `firewarden harden`: score the host's hardening, and fix an item with plan and undo.

use crate::output::OutputArgs;
use crate::respond::{ActArgs, apply_plan, write_outcomes};
use anyhow::{Context, Result};
use firewarden_model::action::HardenStatus;
use firewarden_respond::{Target, harden};
use std::path::PathBuf;
use std::process::ExitCode;

/// Score the host's hardening, or fix items.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden harden check\n  firewarden harden check --root /mnt/image --format json\n  firewarden harden apply ssh.root_login kernel.kptr_restrict --dry-run\n  firewarden harden apply perms.shadow --yes\n\nExit codes: check: 0 every item passes, 1 some fail; apply: 0 done; 2 error."
)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

// Parsed once from the command line: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(clap::Subcommand)]
enum What {
    /// Score the host.
    Check {
        /// A root directory (mounted image) instead of the live host.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Fix items (ids from `harden check`), each with a plan and undo.
    Apply {
        /// Item ids.
        #[arg(required = true)]
        items: Vec<String>,
        #[command(flatten)]
        act: ActArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.what {
        What::Check { root, out } => {
            let target = match &root {
                Some(r) => {
                    Target::root(r).with_context(|| format!("cannot open {}", r.display()))?
                }
                None => Target::live(),
            };
            let score = harden::check(&target);
            out.write(&firewarden_report::render_harden(
                &score,
                out.format,
                out.colour(),
            ))?;
            let failing = score.items.iter().any(|i| i.status == HardenStatus::Fail);
            Ok(if failing {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        What::Apply { items, act, out } => {
            let r = act.responder()?;
            let mut outcomes = Vec::new();
            for id in &items {
                let plan = harden::plan(&r.target, id)?;
                apply_plan(&r, plan, &act, &out, "nothing to change", &mut outcomes)?;
            }
            write_outcomes(&out, &outcomes)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
