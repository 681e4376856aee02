//! `firewarden actions` and `firewarden undo`: the journal of changes, and putting them back.

use crate::output::OutputArgs;
use anyhow::{Context, Result, bail};
use firewarden_respond::state::parse_journal;
use std::path::PathBuf;
use std::process::ExitCode;

/// List what was done to the host, verify or export the journal, or take a kept file out of
/// the vault.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden actions\n  firewarden actions --format json -o actions.json\n  firewarden actions --verify                       # check the hash chain\n  firewarden actions --export case-42.journal --key responder.key   # signed, for the case record\n  firewarden actions --check-export case-42.journal --key responder.pub\n  firewarden actions --show A3                      # steps of one action\n  firewarden actions --extract 9f86d0… -o sample.bin  # a quarantined file or captured executable\n\nExit codes: 0 ok, 1 the journal's chain is broken, 2 error."
)]
pub struct Args {
    /// State directory.
    #[arg(
        long,
        env = "FIREWARDEN_STATE_DIR",
        default_value = "/var/lib/firewarden",
        value_name = "DIR"
    )]
    state_dir: PathBuf,
    /// Check the journal's hash chain and say so.
    #[arg(long)]
    verify: bool,
    /// Copy the journal (verified) to FILE, with its head hash in FILE.sha256 (and, with
    /// --key, an Ed25519 signature in FILE.sig).
    #[arg(long, value_name = "FILE")]
    export: Option<PathBuf>,
    /// Signing key for --export (`firewarden keygen`); the public key for --check-export.
    #[arg(long, value_name = "KEY")]
    key: Option<PathBuf>,
    /// Check an exported journal: its chain, and with --key its signature (FILE.sig).
    #[arg(long, value_name = "FILE")]
    check_export: Option<PathBuf>,
    /// Show the steps of one action.
    #[arg(long, value_name = "ID")]
    show: Option<String>,
    /// Write the vault content with this SHA-256 to -o (a quarantined file, a backup, a
    /// captured executable).
    #[arg(long, value_name = "SHA256")]
    extract: Option<String>,
    #[command(flatten)]
    out: OutputArgs,
}

fn sidecar(file: &std::path::Path, ext: &str) -> PathBuf {
    let mut p = file.as_os_str().to_os_string();
    p.push(ext);
    PathBuf::from(p)
}

/// Checks an exported journal on its own (another examiner's machine): the hash chain, and
/// the signature when a public key is given.
fn check_export(file: &std::path::Path, key: Option<&std::path::Path>) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let journal = parse_journal(&bytes);
    let mut ok = journal.problems.is_empty();
    for p in &journal.problems {
        println!("BROKEN {}: {p}", file.display());
    }
    if let Some(key) = key {
        let public = firewarden_evidence::PublicKey::load(key)?;
        let sig = std::fs::read(sidecar(file, ".sig"))
            .with_context(|| format!("no signature {}", sidecar(file, ".sig").display()))?;
        if public.verify(&bytes, &sig) {
            println!("OK signature by {}", public.fingerprint());
        } else {
            println!(
                "BAD signature: not made by {} over this file",
                public.fingerprint()
            );
            ok = false;
        }
    }
    if ok {
        println!(
            "OK {}: {} entries, chain intact, head {}",
            file.display(),
            journal.entries.len(),
            journal.head
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn run(args: Args) -> Result<ExitCode> {
    if let Some(file) = &args.check_export {
        return check_export(file, args.key.as_deref());
    }
    // Reading never creates or locks the state directory. The bytes read are the ones checked,
    // exported, hashed and signed: a line appended meanwhile cannot slip in between.
    let journal_path = args.state_dir.join("journal.jsonl");
    let bytes = match std::fs::read(&journal_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", journal_path.display())),
    };
    let journal = parse_journal(&bytes);
    if let Some(sha) = &args.extract {
        let Some(dest) = &args.out.output else {
            bail!("--extract needs -o FILE");
        };
        let bytes = firewarden_respond::StateDir::view(&args.state_dir).vault_get(sha)?;
        crate::cmd_triage::refuse_inside(&args.state_dir, dest)?;
        std::fs::write(dest, bytes).with_context(|| format!("cannot write {}", dest.display()))?;
        eprintln!("wrote {} (SHA-256 {sha} verified)", dest.display());
        return Ok(ExitCode::SUCCESS);
    }
    if args.verify || args.export.is_some() {
        if journal.problems.is_empty() {
            eprintln!(
                "OK journal {}: {} entries, chain intact, head {}",
                journal_path.display(),
                journal.entries.len(),
                journal.head
            );
        } else {
            for p in &journal.problems {
                eprintln!("BROKEN {}: {p}", journal_path.display());
            }
        }
        if let Some(dest) = &args.export {
            std::fs::write(dest, &bytes)
                .with_context(|| format!("cannot write the journal to {}", dest.display()))?;
            if let Some(key) = &args.key {
                let pair = firewarden_evidence::KeyPair::load(key)?;
                std::fs::write(sidecar(dest, ".sig"), pair.sign(&bytes))?;
                eprintln!(
                    "signed by {} ({})",
                    pair.public().fingerprint(),
                    sidecar(dest, ".sig").display()
                );
            }
            std::fs::write(
                sidecar(dest, ".sha256"),
                format!(
                    "{}  {}\nhead {}\ntool firewarden {} sha256 {}\n",
                    firewarden_respond::state::sha256_hex(&bytes),
                    dest.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    journal.head,
                    env!("CARGO_PKG_VERSION"),
                    firewarden_evidence::collect::self_sha256().unwrap_or_else(|| "unknown".into())
                ),
            )?;
            eprintln!("exported to {} (+ .sha256)", dest.display());
        }
        return Ok(if journal.problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let problems = journal.problems;
    let list = firewarden_respond::summarize(journal.entries, true);
    if let Some(id) = &args.show {
        let a = list
            .iter()
            .find(|a| a.action.id.eq_ignore_ascii_case(id))
            .with_context(|| format!("no action {id}"))?;
        if args.out.format == firewarden_report::Format::Table {
            let mut text = format!(
                "{} {} — {} (risk {}, {} by {})\n",
                a.action.id,
                a.status.as_str(),
                a.action.title,
                a.action.risk.as_str(),
                a.utc,
                a.operator
            );
            for s in &a.action.steps {
                text.push_str(&firewarden_respond::render::step(s, &|_| None));
            }
            for n in &a.action.notes {
                text.push_str(&format!("  note: {n}\n"));
            }
            args.out.write(&text)?;
        } else {
            args.out.write(&(serde_json::to_string_pretty(a)? + "\n"))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        eprintln!("firewarden: warning: journal chain broken: {p}");
    }
    args.out.write(&firewarden_report::render_actions(
        &list,
        args.out.format,
        args.out.colour(),
    ))?;
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Undo actions: one, several, or every one still in force (newest first).
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden undo A3\n  firewarden undo --all\n  firewarden undo A2 --force      # overwrite changes made after A2\n\nExit codes: 0 undone, 2 error or refused (nothing of that action changed)."
)]
pub struct UndoArgs {
    /// Action ids (from `firewarden actions`).
    ids: Vec<String>,
    /// Undo every action still in force, newest first.
    #[arg(long, conflicts_with = "ids")]
    all: bool,
    /// Put the prior state back even where the file changed after the action.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    act: crate::respond::ActArgs,
    #[command(flatten)]
    out: OutputArgs,
}

pub fn run_undo(args: UndoArgs) -> Result<ExitCode> {
    if !args.all && args.ids.is_empty() {
        bail!("name the actions to undo, or --all");
    }
    let r = args.act.responder()?;
    let say = |t: String| crate::respond::say(&args.out, &t);
    let done = if args.all {
        if args.act.dry_run {
            for a in r.actions()?.iter().rev().filter(|a| a.status.in_force()) {
                say(format!("would undo {}: {}\n", a.action.id, a.action.title));
            }
            return Ok(ExitCode::SUCCESS);
        }
        r.undo_all(args.force)?
    } else {
        let mut done = Vec::new();
        for id in &args.ids {
            if args.act.dry_run {
                say(format!("would undo {id}\n"));
                continue;
            }
            done.push(r.undo(id, args.force)?);
        }
        done
    };
    for u in &done {
        say(format!("undone {}: {}\n", u.id, u.title));
        for l in &u.left {
            say(format!("  {l}\n"));
        }
    }
    if done.is_empty() && !args.act.dry_run {
        say("nothing to undo\n".into());
    }
    match args.out.format {
        firewarden_report::Format::Json => args
            .out
            .write(&(serde_json::to_string_pretty(&done)? + "\n"))?,
        firewarden_report::Format::Jsonl => args.out.write(
            &done
                .iter()
                .map(|u| serde_json::to_string(u).map(|s| s + "\n"))
                .collect::<Result<String, _>>()?,
        )?,
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}
