//! `firewarden custody`: the chain-of-custody ledger beside a bundle.

use crate::remote::{self, block_on};
use anyhow::Result;
use firewarden_client::query_value;
use firewarden_evidence::custody::{self, NewEvent, Tool};
use firewarden_evidence::{KeyPair, PublicKey};
use std::path::PathBuf;
use std::process::ExitCode;

/// Record and show who had the evidence, when, why, and whether it was still intact.
///
/// Each event is signed, chained to the previous one by hash, and re-measures the bundle's
/// SHA-256 against acquisition. The bundle itself never changes. On a case server the ledger
/// goes on (`record`, `pull`, `export`); `verify` checks an exported ledger offline with the
/// public keys alone.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden custody web01.fwb add --event transfer --by 'A. Responder' --to 'B. Examiner' \\\n      --reason 'to the lab for analysis' --method 'courier, tracking 1Z999' --seal BAG-0042 --key responder.key\n  firewarden custody web01.fwb add --event examine --by 'B. Examiner' --reason 'timeline analysis' --key examiner.key\n  firewarden custody web01.fwb add --event dispose --by 'B. Examiner' --disposition destroyed \\\n      --authority 'case closure 2027-03' --reason 'end of retention'\n  firewarden custody web01.fwb show\n\nOn a case server (--server, --token, --pin or FIREWARDEN_*):\n  firewarden custody record E1a2b… --event check-out --reason 'memory analysis' --authority 'engagement letter §4' --key me.key\n  firewarden custody pull E1a2b… -o web01.fwb\n  firewarden custody export E1a2b… -o web01.custody\n  firewarden custody verify web01.custody --key server.pub --key collector.pub [--bundle web01.fwb]\n\nExit codes: 0 done (show, verify, export: ledger intact), 1 the bundle no longer matches acquisition or the ledger is broken, 2 error."
)]
pub struct Args {
    /// The bundle (for `add` and `show`).
    file: Option<PathBuf>,
    #[command(subcommand)]
    action: Action,
}

/// What a person declares for an event, here and on the server.
#[derive(clap::Args)]
struct Declared {
    /// transfer, check-out, check-in, examine or dispose.
    #[arg(long, value_parser = ["transfer", "check-out", "check-in", "examine", "dispose"])]
    event: String,
    /// Purpose (for dispose: why, e.g. end of retention).
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
    /// Under whose authority: a warrant, a contract clause, the customer's instruction.
    #[arg(long, value_name = "TEXT")]
    authority: Option<String>,
    /// For dispose: what became of it.
    #[arg(long, value_parser = ["returned", "destroyed", "retained"])]
    disposition: Option<String>,
    /// For a retained item: until when (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    retain_until: Option<String>,
}

impl Declared {
    fn into_event(self, by: String) -> NewEvent {
        NewEvent {
            event: self.event,
            by,
            to: self.to,
            reason: self.reason,
            seal: self.seal,
            method: self.method,
            location: self.location,
            authority: self.authority,
            disposition: self.disposition,
            retain_until: self.retain_until,
        }
    }
}

#[derive(clap::Subcommand)]
enum Action {
    /// Append a signed custody event to the ledger beside FILE (the bundle hash is re-measured).
    Add {
        /// Who acts (releases, checks out, examines, disposes).
        #[arg(long, value_name = "NAME")]
        by: String,
        #[command(flatten)]
        declared: Declared,
        /// Actor's Ed25519 private key (PEM); without it an ephemeral key signs and is shown.
        #[arg(long, value_name = "FILE", env = "FIREWARDEN_KEY")]
        key: Option<PathBuf>,
    },
    /// Print the custody history of FILE and check it.
    Show {
        /// Emit JSON lines (one event per line) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Record a custody event on the case server, as you: the server re-measures the bundle
    /// and signs the line; your key signs what you declared.
    Record {
        /// The evidence item's id (as `case push` printed it).
        evidence: String,
        #[command(flatten)]
        declared: Declared,
        /// Your Ed25519 private key (PEM).
        #[arg(long, value_name = "FILE", env = "FIREWARDEN_KEY")]
        key: PathBuf,
        #[command(flatten)]
        server: remote::Server,
    },
    /// Download the bundle from the case server (recorded in its ledger first).
    Pull {
        /// The evidence item's id.
        evidence: String,
        /// Where to write it (must not exist).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        server: remote::Server,
    },
    /// Write an item's custody ledger from the case server, for another examiner.
    Export {
        /// The evidence item's id.
        evidence: String,
        /// Where to write the ledger (must not exist).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        server: remote::Server,
    },
    /// Check a ledger offline: every line's signature by one of the keys given, the chain,
    /// the order, each acting person's own signature and, with --bundle, the bundle's hash.
    Verify {
        /// The ledger (`export` output, or BUNDLE.custody).
        ledger: PathBuf,
        /// A public key trusted to sign lines (PEM file, or 64 hex digits): the collector's
        /// and the case server's (`GET /api/v1/server-key`). Repeat it.
        #[arg(long = "key", value_name = "KEY", required = true)]
        keys: Vec<String>,
        /// The bundle, to check it still matches its acquisition hash.
        #[arg(long, value_name = "FILE")]
        bundle: Option<PathBuf>,
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

fn bundle(file: &Option<PathBuf>, action: &str) -> Result<PathBuf> {
    file.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "`custody FILE {action}` needs the bundle: firewarden custody web01.fwb {action} …"
        )
    })
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.action {
        Action::Add { by, declared, key } => {
            let file = bundle(&args.file, "add")?;
            let key = match &key {
                Some(p) => KeyPair::load(p)?,
                None => KeyPair::generate(true)?,
            };
            let ev = custody::add(&file, declared.into_event(by), &key, &tool())?;
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
            let file = bundle(&args.file, "show")?;
            let Some((lines, mut problems)) = custody::load(&file)? else {
                anyhow::bail!(
                    "no custody ledger {}",
                    custody::ledger_path(&file).display()
                );
            };
            let (sha, _) = firewarden_evidence::read::file_sha256(&file)?;
            problems.extend(custody::check(&lines, &sha, None, None));
            Ok(report(&lines, &problems, json))
        }
        Action::Verify {
            ledger,
            keys,
            bundle,
            json,
        } => {
            let trusted = keys
                .iter()
                .map(|k| {
                    let path = std::path::Path::new(k);
                    if path.exists() {
                        PublicKey::load(path)
                    } else {
                        PublicKey::parse(k)
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            let text =
                crate::output::read_capped(&ledger, custody::MAX_LEDGER, "a custody ledger")?;
            let (lines, mut problems) = custody::parse(&text);
            let measured = match &bundle {
                Some(b) => Some(firewarden_evidence::read::file_sha256(b)?.0),
                None => None,
            };
            problems.extend(custody::verify_offline(
                &lines,
                &trusted,
                measured.as_deref(),
            ));
            Ok(report(&lines, &problems, json))
        }
        Action::Record {
            evidence,
            declared,
            key,
            server,
        } => {
            let key = KeyPair::load(&key)?;
            block_on(async move {
                let client = server.client()?;
                let me = client.get("/api/v1/me").await?;
                let by = me["user"].as_str().unwrap_or_default().to_owned();
                let path = format!("/api/v1/evidence/{}", query_value(&evidence));
                let view = client.get(&path).await?;
                let lines: Vec<String> = serde_json::from_value(view["lines"].clone())?;
                let (parsed, _) = custody::parse(lines.join("\n").as_bytes());
                let (first, last) = parsed
                    .first()
                    .zip(parsed.last())
                    .ok_or_else(|| anyhow::anyhow!("evidence {evidence} has an empty ledger"))?;
                let prev = custody::line_digest(&last.raw);
                let new = declared.into_event(by);
                new.validate()?;
                let statement = custody::actor_statement(&first.event.evidence_id, &prev, &new);
                let mut body = serde_json::to_value(&new)?;
                let obj = body.as_object_mut().expect("an object");
                obj.remove("by");
                obj.insert("prev".into(), prev.into());
                obj.insert(
                    "actor".into(),
                    serde_json::json!({
                        "key": key.public().to_hex(),
                        "signature": firewarden_evidence::encoding::hex(&key.sign(&statement)),
                    }),
                );
                let after = client
                    .call(
                        firewarden_client::Method::POST,
                        &format!("{path}/custody"),
                        Some(&body),
                    )
                    .await?;
                let events: Vec<custody::CustodyEvent> =
                    serde_json::from_value(after["events"].clone())?;
                let Some(ev) = events.last() else {
                    anyhow::bail!("the server answered without the ledger");
                };
                println!(
                    "custody event {} ({}) recorded on the server; bundle sha256 {} {}",
                    ev.seq,
                    ev.action.event,
                    ev.bundle_sha256,
                    if ev.hash_verified {
                        "matches acquisition"
                    } else {
                        "DOES NOT MATCH acquisition: the evidence changed"
                    }
                );
                Ok(if ev.hash_verified {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            })
        }
        Action::Pull {
            evidence,
            output,
            server,
        } => block_on(async move {
            let client = server.client()?;
            let path = format!("/api/v1/evidence/{}/blob", query_value(&evidence));
            let headers = client.download(&path, &output).await?;
            let want = headers
                .get("x-firewarden-sha256")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let (got, size) = firewarden_evidence::read::file_sha256(&output)?;
            if got != want {
                anyhow::bail!(
                    "{} hashes to {got}, the server said {want}: the copy is not the evidence (left for inspection)",
                    output.display()
                );
            }
            println!(
                "{}: {size} bytes, sha256 {got} (matches; the download is in the item's custody ledger)",
                output.display()
            );
            Ok(ExitCode::SUCCESS)
        }),
        Action::Export {
            evidence,
            output,
            server,
        } => block_on(async move {
            let client = server.client()?;
            let view = client
                .get(&format!("/api/v1/evidence/{}", query_value(&evidence)))
                .await?;
            let lines: Vec<String> = serde_json::from_value(view["lines"].clone())?;
            let problems: Vec<String> = serde_json::from_value(view["problems"].clone())?;
            let mut text = lines.join("\n");
            text.push('\n');
            {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&output)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", output.display()))?;
                f.write_all(text.as_bytes())?;
                f.sync_all()?;
            }
            let server_key = view["server_key"].as_str().unwrap_or_default();
            let collector = view["item"]["signer"].as_str().unwrap_or_default();
            println!(
                "{}: {} custody events of evidence {}",
                output.display(),
                lines.len(),
                firewarden_model::printable(&evidence, 80)
            );
            println!("signed by the case server's key {server_key}");
            println!("and the collector's key         {collector}");
            println!(
                "check it anywhere: firewarden custody verify {} --key {server_key} --key {collector}",
                output.display()
            );
            for p in &problems {
                eprintln!("FAIL {}", firewarden_model::printable(p, 400));
            }
            Ok(if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }),
    }
}

/// Prints the events (a table, or JSON lines) and the problems; exit 0 when there are none.
fn report(lines: &[custody::Line], problems: &[String], json: bool) -> ExitCode {
    let shown = |s: &str| firewarden_model::printable(s, 200);
    let opt = |label: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| format!("; {label} {}", shown(s)))
            .unwrap_or_default()
    };
    for l in lines {
        let e = &l.event;
        let a = &e.action;
        if json {
            if let Ok(text) = serde_json::to_string(e) {
                println!("{text}");
            }
            continue;
        }
        let signer = PublicKey::parse(&e.signer)
            .map(|k| k.fingerprint())
            .unwrap_or_else(|_| "?".into());
        let actor = e
            .actor
            .as_ref()
            .and_then(|s| PublicKey::parse(&s.key).ok())
            .map(|k| format!(" and {}", k.fingerprint()))
            .unwrap_or_default();
        println!(
            "{:>3}  {}  {:<9}  by {}{}  — {}{}{}{}{}{}{}  [hash {}; signed {signer}{actor}]",
            e.seq,
            // A hostile ledger must not write escape sequences to the terminal.
            shown(&e.utc),
            shown(&a.event),
            shown(&a.by),
            a.to.as_deref()
                .map(|t| format!(" to {}", shown(t)))
                .unwrap_or_default(),
            shown(&a.reason),
            opt("seal", &a.seal),
            opt("via", &a.method),
            opt("stored", &a.location),
            opt("authority", &a.authority),
            opt("disposition", &a.disposition),
            opt("until", &a.retain_until),
            if e.hash_verified { "ok" } else { "MISMATCH" },
        );
    }
    for p in problems {
        eprintln!("FAIL {}", shown(p));
    }
    if problems.is_empty() {
        if !json {
            println!("intact: {} events", lines.len());
        }
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
