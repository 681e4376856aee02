//! The `firewarden` binary: parses arguments, calls the libraries, maps results to exit codes
//! (0 clean, 1 findings, 2 error). One file per subcommand.

mod cmd_checks;
mod cmd_triage;
mod output;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Incident response for broken-into servers.
#[derive(Parser)]
#[command(name = "firewarden", version, about, long_about = None, after_help = "Examples:\n  firewarden triage                       # live host, table on the terminal\n  firewarden triage --root /mnt/image     # a mounted disk image\n  firewarden triage --format json -o triage.json\n  firewarden checks                       # the check catalogue\n\nExit codes: 0 nothing at or above --min-severity, 1 findings, 2 error.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find out how the attacker got in, what they did and what is still there.
    Triage(cmd_triage::Args),
    /// List the check catalogue.
    Checks(cmd_checks::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Triage(args) => cmd_triage::run(args),
        Command::Checks(args) => cmd_checks::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("firewarden: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
