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
    let (body, sig) = match firewarden_summary::split(&bytes) {
        Ok(parts) => parts,
        Err(e) => {
            println!("FAIL {}: {e}", file.display());
            return Ok(ExitCode::from(1));
        }
    };
    let signer = PublicKey::parse(&sig.key).ok();
    let verifies = signer.is_some_and(|k| {
        firewarden_evidence::encoding::unhex(&sig.signature)
            .is_some_and(|s| k.verify(&firewarden_summary::signed_bytes(body, &sig.signed_at), &s))
    });
    let at = firewarden_model::printable(&sig.signed_at, 64);
    if trusted.to_hex() != sig.key {
        println!(
            "FAIL {}: signed by key {}, not by {} (the key given)",
            file.display(),
            firewarden_model::printable(&sig.key, 64),
            trusted.to_hex()
        );
        return Ok(ExitCode::from(1));
    }
    if !verifies {
        println!(
            "FAIL {}: the signature does not verify: the report was changed after it was signed",
            file.display()
        );
        return Ok(ExitCode::from(1));
    }
    println!(
        "{}: intact; signed by {} at {at}",
        file.display(),
        trusted.fingerprint()
    );
    Ok(ExitCode::SUCCESS)
}
