//! `firewarden verify`: re-check a bundle's hashes, log chain, signature and custody ledger.

use crate::output::OutputArgs;
use anyhow::Result;
use firewarden_evidence::{EvidenceError, PublicKey, custody, read};
use std::path::PathBuf;
use std::process::ExitCode;

/// Verify an evidence bundle offline: every member's SHA-256 against the signed manifest, the
/// member order, the collector's hash-chained log, the Ed25519 signature, and the custody
/// ledger beside it (FILE.custody).
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden verify web01.fwb --key responder.pub     # the signer must be this key\n  firewarden verify web01.fwb                          # any signer; its fingerprint is shown\n  firewarden verify web01.fwb --identity me.agekey     # an encrypted bundle\n  firewarden verify web01.fwb --format json\n\nExit codes: 0 intact, 1 tampered or incomplete (each problem is named), 2 error (unreadable, encrypted without --identity)."
)]
pub struct Args {
    /// The bundle.
    file: PathBuf,
    /// Expected signer: Ed25519 public key (PEM or 64 hex digits). Without it the manifest's own
    /// key is used and the result says the signer was not pinned.
    #[arg(long, value_name = "PUB")]
    key: Option<PathBuf>,
    /// age identity file for an encrypted bundle.
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(serde::Serialize)]
struct Report {
    file: String,
    intact: bool,
    problems: Vec<String>,
    sha256: String,
    size: u64,
    items: usize,
    members: usize,
    content_bytes: u64,
    signer: Option<String>,
    signer_pinned: bool,
    evidence_id: Option<String>,
    case_id: Option<String>,
    custody_events: usize,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let pinned = args.key.as_deref().map(PublicKey::load).transpose()?;
    let identities = match &args.identity {
        Some(p) => firewarden_evidence::load_identities(p)?,
        None => Vec::new(),
    };
    let (_, checked) = match firewarden_evidence::verify_bundle(
        &args.file,
        &identities,
        pinned.as_ref(),
        None,
    ) {
        Ok(s) => s,
        Err(EvidenceError::Encrypted) => {
            let (sha256, _) = read::file_sha256(&args.file)?;
            // The container hash and ledger can still be checked without the key.
            if let Some((lines, mut problems)) = custody::load(&args.file)? {
                problems.extend(custody::check(&lines, &sha256, None, None));
                if !problems.is_empty() {
                    for p in &problems {
                        println!("FAIL {p}");
                    }
                    return Ok(ExitCode::from(1));
                }
            }
            anyhow::bail!(
                "{} is encrypted: pass --identity to check its contents (its custody ledger and file hash are consistent)",
                args.file.display()
            );
        }
        Err(e) => return Err(e.into()),
    };
    let (sha256, size) = (checked.sha256.clone(), checked.size);
    let (problems, custody_events, verdict) =
        (checked.problems, checked.custody_events, checked.verdict);
    let report = Report {
        file: args.file.display().to_string(),
        intact: problems.is_empty(),
        problems,
        sha256,
        size,
        items: verdict.manifest.as_ref().map_or(0, |m| m.items.len()),
        members: verdict.members,
        content_bytes: verdict.bytes,
        signer: verdict.signer.map(|k| k.fingerprint()),
        signer_pinned: pinned.is_some(),
        evidence_id: verdict
            .manifest
            .as_ref()
            .map(|m| m.header.evidence_id.clone()),
        case_id: verdict
            .manifest
            .as_ref()
            .and_then(|m| m.header.case_id.clone()),
        custody_events,
    };
    let text = match args.out.format {
        firewarden_report::Format::Json | firewarden_report::Format::Jsonl => {
            let mut s = serde_json::to_string_pretty(&report)?;
            s.push('\n');
            s
        }
        _ => {
            let mut s = String::new();
            for p in &report.problems {
                s.push_str(&format!("FAIL {}\n", firewarden_model::printable(p, 4096)));
            }
            if report.intact {
                s.push_str(&format!(
                    "OK {}: {} items, {} members ({} bytes) match the manifest; signed by {} ({}); {} custody events; sha256 {}\n",
                    report.file,
                    report.items,
                    report.members,
                    report.content_bytes,
                    report.signer.as_deref().unwrap_or("?"),
                    if report.signer_pinned { "the expected key" } else { "key not pinned: pass --key to check who signed" },
                    report.custody_events,
                    report.sha256
                ));
            } else {
                s.push_str(&format!(
                    "TAMPERED {}: {} problem(s)\n",
                    report.file,
                    report.problems.len()
                ));
            }
            s
        }
    };
    args.out.write(&text)?;
    Ok(if report.intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
