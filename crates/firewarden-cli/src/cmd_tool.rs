//! `firewarden tool`: the case server's registry of binaries and rule packs.

use crate::remote::{Conn, block_on, columns, field};
use anyhow::{Context, Result};
use firewarden_client::{Method, query_value};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;

/// Register, list and validate the tools and rule packs used on cases.
///
/// Every import names the binary (and rule packs) it came from by SHA-256; the server judges
/// it against this registry: validated, registered but not validated, superseded or withdrawn,
/// unknown. A tenant's policy flags or refuses imports from anything short of validated.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  firewarden tool register --self --source https://github.com/… --licence Apache-2.0\n  firewarden selftest --key lab.key -o selftest.json && firewarden tool validate X1a2b… selftest.json\n  firewarden tool register --rules ./signature-base/yara --kind yara --name signature-base --version 2026-11 \\\n      --source https://github.com/Neo23x0/signature-base --licence DRL-1.1\n  firewarden tool register --self --replaces X1a2b… --changes 'webshell heuristics for ASPX' …\n  firewarden tool list\n\nExit codes: 0 done, 2 error."
)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    conn: Conn,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// List the registry.
    List,
    /// Show one entry with its validation runs.
    Show {
        /// Entry id.
        id: String,
    },
    /// Register a binary or rule pack (admins: you are its approver).
    Register {
        /// This very binary (its name, version and SHA-256).
        #[arg(long = "self", conflicts_with_all = ["binary", "rules"])]
        this: bool,
        /// Another binary, by path.
        #[arg(long, value_name = "FILE", conflicts_with = "rules")]
        binary: Option<PathBuf>,
        /// A rule directory or file, hashed by its contents (as scan and hunt record it).
        #[arg(long, value_name = "DIR", requires = "kind")]
        rules: Option<PathBuf>,
        /// The rule pack's kind.
        #[arg(long, value_parser = ["yara", "sigma", "ioc"])]
        kind: Option<String>,
        /// Name (default for --self: firewarden).
        #[arg(long)]
        name: Option<String>,
        /// Version (default for --self: this build's).
        #[arg(long)]
        version: Option<String>,
        /// Where it came from (a URL, a build).
        #[arg(long)]
        source: String,
        /// Its licence.
        #[arg(long)]
        licence: String,
        /// The entry this version replaces (kept as history).
        #[arg(long, value_name = "ID", requires = "changes")]
        replaces: Option<String>,
        /// What changed from the version it replaces.
        #[arg(long, value_name = "TEXT")]
        changes: Option<String>,
    },
    /// Record a signed validation run (`firewarden selftest --key … -o FILE`) of a binary.
    Validate {
        /// Entry id.
        id: String,
        /// The signed result.
        result: PathBuf,
    },
    /// Take an entry out of use.
    Withdraw {
        /// Entry id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

fn row(t: &Value) -> Vec<String> {
    vec![
        field(t, "id"),
        field(t, "kind"),
        format!("{} {}", field(t, "name"), field(t, "version")),
        field(t, "status"),
        if t["validated"] == true {
            "validated".into()
        } else {
            "NOT VALIDATED".into()
        },
        field(t, "sha256").chars().take(16).collect(),
        field(t, "approved_by"),
    ]
}

const HEADER: [&str; 7] = [
    "ID",
    "KIND",
    "TOOL",
    "STATUS",
    "VALIDATION",
    "SHA256",
    "APPROVER",
];

pub fn run(args: Args) -> Result<ExitCode> {
    let client = args.conn.client()?;
    block_on(async move {
        match args.action {
            Action::List => {
                let list = client.get("/api/v1/tools").await?;
                args.conn.print(&list, |l| {
                    let rows: Vec<Vec<String>> = l
                        .as_array()
                        .map(|a| a.iter().map(row).collect())
                        .unwrap_or_default();
                    columns(&HEADER, &rows)
                });
            }
            Action::Show { id } => {
                let t = client
                    .get(&format!("/api/v1/tools/{}", query_value(&id)))
                    .await?;
                args.conn.print(&t, |t| {
                    let mut out = columns(&HEADER, &[row(t)]);
                    out += &format!(
                        "sha256 {}\nsource {}\nlicence {}\n",
                        field(t, "sha256"),
                        field(t, "source"),
                        field(t, "licence")
                    );
                    for (k, label) in [
                        ("replaces", "replaces"),
                        ("superseded_by", "superseded by"),
                        ("changes", "changes"),
                    ] {
                        if t[k].is_string() {
                            out += &format!("{label} {}\n", field(t, k));
                        }
                    }
                    for v in t["validations"].as_array().into_iter().flatten() {
                        out += &format!(
                            "validation {}  {} by {} (signed {})\n",
                            field(v, "at"),
                            if v["passed"] == true {
                                "passed"
                            } else {
                                "FAILED"
                            },
                            field(v, "by"),
                            field(v, "signer").chars().take(16).collect::<String>()
                        );
                    }
                    out
                });
            }
            Action::Register {
                this,
                binary,
                rules,
                kind,
                name,
                version,
                source,
                licence,
                replaces,
                changes,
            } => {
                let (kind, sha256, name, version) = if this {
                    (
                        "binary".to_owned(),
                        crate::provenance::self_sha256()
                            .context("cannot read this binary to hash it")?,
                        name.unwrap_or_else(|| "firewarden".into()),
                        version.unwrap_or_else(|| env!("CARGO_PKG_VERSION").into()),
                    )
                } else if let Some(b) = &binary {
                    let (sha, _) = firewarden_evidence::read::file_sha256(b)?;
                    (
                        "binary".to_owned(),
                        sha,
                        name.context("--name is needed for --binary")?,
                        version.context("--version is needed for --binary")?,
                    )
                } else if let Some(dir) = &rules {
                    let kind = kind.unwrap_or_default();
                    let pack = crate::provenance::rule_pack(&kind, dir)?;
                    eprintln!(
                        "{}: {} files, contents sha256 {}",
                        dir.display(),
                        pack.files,
                        pack.sha256
                    );
                    (
                        kind,
                        pack.sha256,
                        name.unwrap_or(pack.name),
                        version.context("--version is needed for --rules")?,
                    )
                } else {
                    anyhow::bail!("say what to register: --self, --binary FILE or --rules DIR");
                };
                let t = client
                    .call(
                        Method::POST,
                        "/api/v1/tools",
                        Some(&json!({
                            "kind": kind, "name": name, "version": version, "sha256": sha256,
                            "source": source, "licence": licence, "replaces": replaces,
                            "changes": changes,
                        })),
                    )
                    .await?;
                args.conn.print(&t, |t| columns(&HEADER, &[row(t)]));
            }
            Action::Validate { id, result } => {
                let text = crate::output::read_capped(&result, 1 << 20, "a selftest result")?;
                let run: Value = serde_json::from_slice(&text)
                    .with_context(|| format!("{} is not a selftest result", result.display()))?;
                let t = client
                    .call(
                        Method::POST,
                        &format!("/api/v1/tools/{}/validations", query_value(&id)),
                        Some(&run),
                    )
                    .await?;
                args.conn.print(&t, |t| columns(&HEADER, &[row(t)]));
            }
            Action::Withdraw { id, reason } => {
                let t = client
                    .call(
                        Method::POST,
                        &format!("/api/v1/tools/{}/withdrawal", query_value(&id)),
                        Some(&json!({ "reason": reason })),
                    )
                    .await?;
                args.conn.print(&t, |t| columns(&HEADER, &[row(t)]));
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
