//! The `firewarden` binary: parses arguments, calls the libraries, maps results to exit codes
//! (0 clean, 1 findings, 2 error). One file per subcommand.

mod approval;
mod cmd_actions;
mod cmd_baseline;
mod cmd_case;
mod cmd_checks;
mod cmd_collect;
mod cmd_contain;
mod cmd_custody;
mod cmd_eradicate;
mod cmd_harden;
mod cmd_hunt;
mod cmd_keygen;
mod cmd_recover;
mod cmd_report;
mod cmd_scan;
mod cmd_selftest;
mod cmd_server;
mod cmd_tenant;
mod cmd_tool;
mod cmd_triage;
mod cmd_user;
mod cmd_verify;
mod interrupt;
mod memory;
mod output;
mod progress;
mod provenance;
mod remote;
mod respond;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// Incident response for broken-into servers.
#[derive(Parser)]
#[command(name = "firewarden", version, about, long_about = None, after_help = "Examples:\n  firewarden triage                       # live host, table on the terminal\n  firewarden triage --root /mnt/image     # a mounted disk image\n  firewarden triage --format json -o triage.json\n  firewarden collect -o web01.fwb         # signed evidence bundle (+ web01.fwb.custody)\n  firewarden verify web01.fwb --key responder.pub\n  firewarden triage --bundle web01.fwb    # triage the collected evidence\n  firewarden scan /var/www --rules ./yara # webshells, malware, tampering, dumps\n  firewarden baseline create /var/www -o www.baseline --copy\n  firewarden hunt ./winlogs --sigma ./sigma/rules/windows   # Windows event logs\n  firewarden checks                       # the check catalogue\n  firewarden contain network --ttl 15m    # isolate, keep this SSH session\n  firewarden eradicate --from triage.json --list\n  firewarden harden check\n  firewarden actions && firewarden undo --all\n  firewarden server --data /srv/firewarden  # the case platform (HTTPS)\n  firewarden case push --case C9f… triage.json web01.fwb\n\nExit codes: 0 nothing at or above --min-severity, 1 findings, 2 error.")]
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
    /// Collect evidence into a signed, verifiable bundle.
    Collect(cmd_collect::Args),
    /// Verify a bundle's hashes, signature and custody ledger.
    Verify(cmd_verify::Args),
    /// Record or show the chain of custody of a bundle.
    Custody(cmd_custody::Args),
    /// Make a signing key or an encryption identity.
    Keygen(cmd_keygen::Args),
    /// Check this binary on built-in reference data; sign the result for the tool registry.
    Selftest(cmd_selftest::Args),
    /// Scan files for webshells, malware, tampered pages and database dumps.
    Scan(cmd_scan::Args),
    /// Record a site's files, and later show what was added, changed or removed.
    Baseline(cmd_baseline::Args),
    /// Hunt through Windows event logs with Sigma rules and built-in checks.
    Hunt(cmd_hunt::Args),
    /// Isolate the host, freeze a process, lock an account or quarantine a file (reversible).
    Contain(cmd_contain::Args),
    /// Remove the footholds named by triage findings, then re-run the checks.
    Eradicate(cmd_eradicate::Args),
    /// Restore tampered web files, lift containment, verify what is left.
    Recover(cmd_recover::Args),
    /// Score the host's hardening and fix items (reversible).
    Harden(cmd_harden::Args),
    /// List the actions taken on this host; verify or export the journal.
    Actions(cmd_actions::Args),
    /// Undo actions, one by one or all.
    Undo(cmd_actions::UndoArgs),
    /// Serve the case platform (cases through six gated stages, for every customer).
    Server(cmd_server::Args),
    /// Add or list customers on a server.
    Tenant(cmd_tenant::Args),
    /// The case server's registry of binaries and rule packs, and their validation runs.
    Tool(cmd_tool::Args),
    /// Add or list users on a server.
    User(cmd_user::Args),
    /// Open cases, push results into them, walk them through their stages.
    Case(cmd_case::Args),
    /// Check a signed summary report offline.
    Report(cmd_report::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Commands that make temporary evidence remove it when interrupted.
    if matches!(
        cli.command,
        Command::Triage(_) | Command::Collect(_) | Command::Verify(_)
    ) {
        interrupt::install();
    }
    let result = match cli.command {
        Command::Triage(args) => cmd_triage::run(args),
        Command::Checks(args) => cmd_checks::run(args),
        Command::Collect(args) => cmd_collect::run(args),
        Command::Verify(args) => cmd_verify::run(args),
        Command::Custody(args) => cmd_custody::run(args),
        Command::Keygen(args) => cmd_keygen::run(args),
        Command::Selftest(args) => cmd_selftest::run(args),
        Command::Scan(args) => cmd_scan::run(args),
        Command::Baseline(args) => cmd_baseline::run(args),
        Command::Hunt(args) => cmd_hunt::run(args),
        Command::Contain(args) => cmd_contain::run(args),
        Command::Eradicate(args) => cmd_eradicate::run(args),
        Command::Recover(args) => cmd_recover::run(args),
        Command::Harden(args) => cmd_harden::run(args),
        Command::Actions(args) => cmd_actions::run(args),
        Command::Undo(args) => cmd_actions::run_undo(args),
        Command::Server(args) => cmd_server::run(args),
        Command::Tenant(args) => cmd_tenant::run(args),
        Command::Tool(args) => cmd_tool::run(args),
        Command::Report(args) => cmd_report::run(args),
        Command::User(args) => cmd_user::run(args),
        Command::Case(args) => cmd_case::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("firewarden: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
