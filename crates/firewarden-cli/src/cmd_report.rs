//! `firewarden report verify`: check a summary report offline with the public key alone.

use anyhow::Result;
use firewarden_evidence::PublicKey;
use std::path::PathBuf;
use std::process::ExitCode;

/// Check a signed summary report (HTML, Markdown, JSON or PDF) offline.
///
/// The report's last line is its signature: Ed25519 over every byte before it and the signing
/// time. A changed byte anywhere, or another key, fails.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  firewarden report verify report.html --key server.pub\n  firewarden report verify report.pdf --key 3b6a27bc…   # the key as hex (GET /api/v1/server-key)\n\nExit codes: 0 the signature verifies with the key, 1 it does not (changed, or another key), 2 error."
)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Check a report's signature with the server's public key.
    Verify {
        /// The report file.
        file: PathBuf,
        /// The public key trusted to sign reports (PEM file, or 64 hex digits).
        #[arg(long, value_name = "KEY")]
        key: String,
    },
}

pub fn run(args: Args) -> Result<ExitCode> {
    let Action::Verify { file, key } = args.action;
    let trusted = if std::path::Path::new(&key).exists() {
        PublicKey::load(std::path::Path::new(&key))?
    } else {
        PublicKey::parse(&key)?
    };
    // A report of a large case, as PDF, is tens of MB; a file of gigabytes is not one.
    let bytes = crate::output::read_capped(&file, 1 << 30, "a summary report")?;
    match firewarden_server::check_report(&bytes, &trusted) {
        firewarden_server::ReportCheck::Intact { signed_at } => {
            println!(
                "{}: intact; signed by {} at {signed_at}",
                file.display(),
                trusted.fingerprint()
            );
        }
        firewarden_server::ReportCheck::NotSigned(why) => {
            println!("FAIL {}: {why}", file.display());
            return Ok(ExitCode::from(1));
        }
        firewarden_server::ReportCheck::OtherKey(key) => {
            println!(
                "FAIL {}: signed by key {key}, not by {} (the key given)",
                file.display(),
                trusted.to_hex()
            );
            return Ok(ExitCode::from(1));
        }
        firewarden_server::ReportCheck::Changed => {
            println!(
                "FAIL {}: the signature does not verify: the report was changed after it was signed",
                file.display()
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
