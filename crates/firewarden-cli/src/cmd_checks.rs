//! `firewarden checks`: the catalogue.

use crate::output::OutputArgs;
use anyhow::Result;
use std::process::ExitCode;

/// List every check (Linux triage and the Windows event-log checks of `hunt`) with its id,
/// severity, ATT&CK techniques and checklist rows.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden checks\n  firewarden checks --format json\n  firewarden checks --format markdown -o CHECKS.md"
)]
pub struct Args {
    #[command(flatten)]
    out: OutputArgs,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let list: Vec<_> = firewarden_triage::catalogue()
        .iter()
        .map(|c| c.meta.descriptor())
        .chain(
            firewarden_hunt::builtin::CHECKS
                .iter()
                .map(|c| c.descriptor()),
        )
        .collect();
    args.out.write(&firewarden_report::render_catalogue(
        &list,
        args.out.format,
        args.out.colour(),
    ))?;
    Ok(ExitCode::SUCCESS)
}
