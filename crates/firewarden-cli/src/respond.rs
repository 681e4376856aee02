//! What every command that changes a host shares: where the journal lives, which system is
//! acted on, and the plan → confirm → apply flow.

use crate::output::OutputArgs;
use anyhow::{Context, Result, bail};
use firewarden_model::action::{Action, Risk};
use firewarden_report::Format;
use firewarden_respond::{Actor, Plan, Responder, StateDir, Target};
use serde::Serialize;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

/// Options of every command that changes a host.
#[derive(clap::Args, Debug, Clone)]
pub struct ActArgs {
    /// State directory: the hash-chained action journal and the encrypted vault of backups
    /// and quarantined files.
    #[arg(
        global = true,
        long,
        env = "FIREWARDEN_STATE_DIR",
        default_value = "/var/lib/firewarden",
        value_name = "DIR"
    )]
    pub state_dir: PathBuf,
    /// Act on a root directory (a mounted disk, a throwaway root) instead of the live host.
    #[arg(global = true, long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Who is acting, for the journal (default: the sudo user or login name).
    #[arg(global = true, long, env = "FIREWARDEN_OPERATOR")]
    pub operator: Option<String>,
    /// Print the plan and change nothing.
    #[arg(global = true, long)]
    pub dry_run: bool,
    /// Apply without asking (high-risk actions otherwise ask for the host name).
    #[arg(global = true, long, short = 'y')]
    pub yes: bool,
    /// Who must agree before a change, and how to reach them.
    #[command(flatten)]
    pub approval: ApprovalArgs,
}

/// How a host command obtains agreement for its changes: from the case's server (waiting, or
/// break-glass), or from a scope the customer granted ahead.
#[derive(clap::Args, Debug, Clone)]
pub struct ApprovalArgs {
    /// Ask the case's server before applying: the plan goes to it as an approval request,
    /// the command waits for whoever the tenant's policy names for the action's risk, checks
    /// the signed approval, and keeps it in the journal. Server, token and pin as for
    /// `firewarden case` (FIREWARDEN_SERVER, FIREWARDEN_TOKEN, FIREWARDEN_PIN).
    #[arg(global = true, long, value_name = "ID")]
    pub case: Option<String>,
    /// With --case: act now without waiting; the action stays flagged until whoever should have
    /// agreed ratifies or disputes it. Needs --reason.
    #[arg(global = true, long, requires_all = ["case", "reason"])]
    pub break_glass: bool,
    /// Why the glass is broken.
    #[arg(global = true, long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Act within a scope the customer granted ahead, without the network: the file
    /// `firewarden case preauths ID --save FILE` wrote.
    #[arg(global = true, long, value_name = "FILE", conflicts_with = "case")]
    pub preauth: Option<PathBuf>,
    /// The case server (with --case).
    #[command(flatten)]
    pub server: crate::remote::Server,
}

impl ActArgs {
    /// The acted-on system.
    pub fn target(&self) -> Result<Target> {
        match &self.root {
            Some(r) => Target::root(r).with_context(|| format!("cannot open root {}", r.display())),
            None => Ok(Target::live()),
        }
    }

    /// Opens the state directory and builds the responder.
    pub fn responder(&self) -> Result<Responder> {
        let target = self.target()?;
        // A dry run writes nothing, not even the state directory.
        let state = if self.dry_run {
            StateDir::view(&self.state_dir)
        } else {
            StateDir::open(&self.state_dir)
                .with_context(|| format!("state directory {}", self.state_dir.display()))?
        };
        let operator = self
            .operator
            .clone()
            .or_else(|| std::env::var("SUDO_USER").ok())
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "unknown".into());
        Ok(Responder {
            state,
            actor: Actor {
                operator,
                host: target.hostname(),
                tool: format!("firewarden {}", env!("CARGO_PKG_VERSION")),
                tool_sha256: crate::provenance::self_sha256(),
            },
            target,
        })
    }
}

/// What one applied action led to, for the machine-readable output.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// The finding it answers, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// The applied action (with its id); `None` when an earlier action already removed it.
    pub action: Option<Action>,
    /// For eradication: whether the re-run check no longer reports the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gone: Option<bool>,
    /// What the re-run check said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recheck: Option<String>,
}

/// Where plans and progress lines go: standard output for people, standard error when the
/// output is for a machine.
pub fn say(out: &OutputArgs, text: &str) {
    if out.format == Format::Table && out.output.is_none() {
        print!("{text}");
        let _ = std::io::stdout().flush();
    } else {
        eprint!("{text}");
    }
}

/// Colours a rendered plan for the terminal: removed lines red, added green, irreversible or
/// process steps bold yellow.
fn paint_plan(text: &str) -> String {
    text.lines()
        .map(|l| {
            let code = if l.starts_with("    -") && !l.starts_with("    ---") {
                "31"
            } else if l.starts_with("    +") && !l.starts_with("    +++") {
                "32"
            } else if l.starts_with("  !") {
                "1;33"
            } else if l.starts_with("  note:") {
                "2"
            } else {
                return format!("{l}\n");
            };
            format!("\x1b[{code}m{l}\x1b[0m\n")
        })
        .collect()
}

/// Shows the plan, asks for confirmation, applies. `Ok(None)` for a dry run.
pub fn confirm_and_apply(
    r: &Responder,
    mut plan: Plan,
    args: &ActArgs,
    out: &OutputArgs,
) -> Result<Option<Action>> {
    let text = plan.render();
    let text = if out.colour() {
        paint_plan(&text)
    } else {
        text
    };
    say(out, &format!("\nPlan: {text}"));
    if args.dry_run {
        say(out, "(dry run: nothing changed)\n");
        return Ok(None);
    }
    // Agreement from outside the host: a scope granted ahead, or the case's server.
    let agreed = match (&args.approval.preauth, &args.approval.case) {
        (Some(file), _) => Some(crate::approval::preauthorised(
            file,
            &r.target.hostname(),
            &plan.action,
        )?),
        (None, Some(case)) => Some(crate::approval::obtain(
            &args.approval,
            case,
            &r.target.hostname(),
            &plan.action,
            out,
        )?),
        (None, None) => None,
    };
    if let Some((confirmed, proof)) = agreed {
        say(out, &format!("{confirmed}\n"));
        plan.action.confirmed = Some(confirmed);
        plan.action.approval = Some(Box::new(proof));
    } else if args.yes {
        plan.action.confirmed = Some("--yes".into());
    } else {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            bail!("this changes the host: confirm with --yes (or look first with --dry-run)");
        }
        let host = r.target.hostname();
        let prompt = if plan.action.risk == Risk::High {
            format!("High risk. Type the host name ({host}) to apply: ")
        } else {
            "Apply? [y/N] ".to_string()
        };
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        stdin.lock().read_line(&mut answer)?;
        let answer = answer.trim();
        let ok = if plan.action.risk == Risk::High {
            answer == host
        } else {
            matches!(answer, "y" | "Y" | "yes")
        };
        if !ok {
            bail!("not confirmed; nothing changed");
        }
        plan.action.confirmed = Some(
            if plan.action.risk == Risk::High {
                "typed the host name"
            } else {
                "answered yes"
            }
            .into(),
        );
    }
    let action = r.apply(plan)?;
    say(
        out,
        &format!(
            "applied {}: {} (undo: firewarden undo {})\n",
            action.id, action.title, action.id
        ),
    );
    Ok(Some(action))
}

/// Shows, confirms and applies one plan, adding what it led to to `outcomes`. An empty plan
/// says `nothing` (and its notes) instead.
pub fn apply_plan(
    r: &Responder,
    plan: Plan,
    args: &ActArgs,
    out: &OutputArgs,
    nothing: &str,
    outcomes: &mut Vec<Outcome>,
) -> Result<()> {
    if plan.is_empty() {
        say(out, &format!("{nothing}\n"));
        for n in &plan.action.notes {
            say(out, &format!("  note: {n}\n"));
        }
        return Ok(());
    }
    if let Some(action) = confirm_and_apply(r, plan, args, out)? {
        outcomes.push(Outcome {
            finding: None,
            action: Some(action),
            gone: None,
            recheck: None,
        });
    }
    Ok(())
}

/// Writes the outcomes: a closing line for people, JSON for machines.
pub fn write_outcomes(out: &OutputArgs, outcomes: &[Outcome]) -> Result<()> {
    match out.format {
        Format::Json => out.write(&(serde_json::to_string_pretty(outcomes)? + "\n")),
        Format::Jsonl => out.write(
            &outcomes
                .iter()
                .map(|o| serde_json::to_string(o).map(|s| s + "\n"))
                .collect::<Result<String, _>>()?,
        ),
        _ if out.output.is_some() => out.write(
            &outcomes
                .iter()
                .map(|o| {
                    format!(
                        "{} {}{}\n",
                        o.action.as_ref().map_or("-", |a| a.id.as_str()),
                        o.action
                            .as_ref()
                            .map_or(o.finding.as_deref().unwrap_or(""), |a| a.title.as_str()),
                        o.recheck
                            .as_deref()
                            .map(|r| format!(" — {r}"))
                            .unwrap_or_default()
                    )
                })
                .collect::<String>(),
        ),
        _ => Ok(()),
    }
}
