//! `firewarden custody`: the chain-of-custody ledger beside a bundle.

use anyhow::Result;
use firewarden_evidence::custody::{self, NewEvent, Tool};
use firewarden_evidence::{KeyPair, PublicKey};
use std::path::PathBuf;
use std::process::ExitCode;

/// Record and show who had the evidence, when, why, and whether it was still intact.
///
/// Each event is signed, chained to the previous one by hash, and re-measures the bundle's
/// SHA-256 against acquisition. The bundle itself never changes.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden custody web01.fwb add --event transfer --by 'A. Responder' --to 'B. Examiner' \\\n      --reason 'to the lab for analysis' --method 'courier, tracking 1Z999' --seal BAG-0042 --key responder.key\n  firewarden custody web01.fwb add --event examine --by 'B. Examiner' --reason 'timeline analysis' --key examiner.key\n  firewarden custody web01.fwb add --event dispose --by 'B. Examiner' --reason 'destroyed after retention period, authority: case closure 2027-03'\n  firewarden custody web01.fwb show\n\nExit codes: 0 done (show: ledger intact), 1 the bundle no longer matches acquisition or the ledger is broken, 2 error."
)]
pub struct Args {
    /// The bundle.
    file: PathBuf,
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Append a signed custody event (the bundle hash is re-measured).
    Add {
        /// transfer, check-out, check-in, examine or dispose.
        #[arg(long, value_parser = ["transfer", "check-out", "check-in", "examine", "dispose"])]
        event: String,
        /// Who acts (releases, checks out, examines, disposes).
        #[arg(long, value_name = "NAME")]
        by: String,
        /// Purpose and authority (for dispose: returned, destroyed or retained, and by whose authority).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Who receives it (required for transfer).
        #[arg(long, value_name = "NAME")]
        to: Option<String>,
        /// Seal or evidence-bag number.
        #[arg(long, value_name = "ID")]
        seal: Option<String>,
        /// How it moved: hand delivery, courier and tracking number, network copy.
        #[arg(long, value_name = "TEXT")]
        method: Option<String>,
        /// Where it is kept afterwards.
        #[arg(long, value_name = "TEXT")]
        location: Option<String>,
        /// Actor's Ed25519 private key (PEM); without it an ephemeral key signs and is shown.
        #[arg(long, value_name = "FILE", env = "FIREWARDEN_KEY")]
        key: Option<PathBuf>,
    },
    /// Print the custody history and check it.
    Show {
        /// Emit JSON lines (one event per line) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn tool() -> Tool {
    Tool {
        name: format!("firewarden {}", env!("CARGO_PKG_VERSION")),
        sha256: firewarden_evidence::collect::self_sha256(),
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.action {
        Action::Add {
            event,
            by,
            reason,
            to,
            seal,
            method,
            location,
            key,
        } => {
            let key = match &key {
                Some(p) => KeyPair::load(p)?,
                None => KeyPair::generate(true)?,
            };
            let ev = custody::add(
                &args.file,
                NewEvent {
                    event,
                    by,
                    to,
                    reason,
                    seal,
                    method,
                    location,
                },
                &key,
                &tool(),
            )?;
            if key.ephemeral {
                eprintln!(
                    "signed with an ephemeral key {} (use --key to sign as yourself)",
                    key.public().fingerprint()
                );
            }
            if ev.hash_verified {
                println!(
                    "custody event {} ({}) recorded; bundle sha256 {} matches acquisition",
                    ev.seq, ev.action.event, ev.bundle_sha256
                );
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "custody event {} ({}) recorded; bundle sha256 {} DOES NOT MATCH acquisition: the evidence changed",
                    ev.seq, ev.action.event, ev.bundle_sha256
                );
                Ok(ExitCode::from(1))
            }
        }
        Action::Show { json } => {
            let Some((lines, mut problems)) = custody::load(&args.file)? else {
                anyhow::bail!(
                    "no custody ledger {}",
                    custody::ledger_path(&args.file).display()
                );
            };
            let (sha, _) = firewarden_evidence::read::file_sha256(&args.file)?;
            problems.extend(custody::check(&lines, &sha, None, None));
            let shown = |s: &str| firewarden_model::printable(s, 200);
            for l in &lines {
                let e = &l.event;
                let a = &e.action;
                if json {
                    println!("{}", serde_json::to_string(e)?);
                    continue;
                }
                let signer = PublicKey::parse(&e.signer)
                    .map(|k| k.fingerprint())
                    .unwrap_or_else(|_| "?".into());
                println!(
                    "{:>3}  {}  {:<9}  by {}{}  — {}{}{}{}  [hash {}; signed {signer}]",
                    e.seq,
                    // A hostile ledger must not write escape sequences to the terminal.
                    shown(&e.utc),
                    shown(&a.event),
                    shown(&a.by),
                    a.to.as_deref()
                        .map(|t| format!(" to {}", shown(t)))
                        .unwrap_or_default(),
                    shown(&a.reason),
                    a.seal
                        .as_deref()
                        .map(|s| format!("; seal {}", shown(s)))
                        .unwrap_or_default(),
                    a.method
                        .as_deref()
                        .map(|s| format!("; via {}", shown(s)))
                        .unwrap_or_default(),
                    a.location
                        .as_deref()
                        .map(|s| format!("; stored {}", shown(s)))
                        .unwrap_or_default(),
                    if e.hash_verified { "ok" } else { "MISMATCH" },
                );
            }
            for p in &problems {
                eprintln!("FAIL {p}");
            }
            Ok(if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
