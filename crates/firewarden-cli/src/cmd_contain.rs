//! `firewarden contain`: cut the network but keep the responder's session, freeze a process,
//! lock an account, quarantine a file — each planned, confirmed, journaled and reversible.

use crate::output::OutputArgs;
use crate::respond::{ActArgs, apply_plan, say, write_outcomes};
use anyhow::{Result, bail};
use firewarden_respond::contain::{self, NetworkOptions};
use firewarden_respond::nft::Net;
use std::path::PathBuf;
use std::process::ExitCode;

/// Isolate the host, freeze a process, lock an account or quarantine a file.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden contain network --ttl 15m            # keeps this SSH session's address\n  firewarden contain confirm                      # still in? keep the isolation\n  firewarden contain confirm --extend 30m         # or push the dead-man switch back\n  firewarden contain network --allow 198.51.100.7 --allow-port 22 --dry-run\n  firewarden contain process 4242 --tree          # keep evidence, then SIGSTOP\n  firewarden contain account deploy               # lock password, keys, sessions\n  firewarden contain file /var/www/html/up.php    # encrypted quarantine\n  firewarden actions                              # what was done\n  firewarden undo A1                              # put it back\n\nExit codes: 0 done (or dry run), 2 error or refused."
)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    #[command(flatten)]
    act: ActArgs,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(clap::Subcommand)]
enum What {
    /// Drop all traffic in, out and through except loopback and the responder's addresses,
    /// with a table of our own (other nftables tables are never touched).
    Network {
        /// Address or network that stays reachable (repeatable). The current SSH session's
        /// client address is added unless --no-responder.
        #[arg(long, value_name = "ADDR[/CIDR]")]
        allow: Vec<Net>,
        /// Allowed addresses reach only these local ports (repeatable; default: any).
        #[arg(long, value_name = "PORT")]
        allow_port: Vec<u16>,
        /// Dead-man switch: the kernel lifts the isolation after this long unless
        /// `contain confirm` (e.g. 90s, 15m, 1h; 0 for none).
        #[arg(long, default_value = "15m")]
        ttl: String,
        /// Do not look for the SSH session's address (you are on the console).
        #[arg(long)]
        no_responder: bool,
    },
    /// Disarm the dead-man switch of the network containment in force (or push it back).
    Confirm {
        /// Re-arm the switch to run out this long from now instead (e.g. 30m), for a
        /// responder who wants to keep confirming as they go.
        #[arg(long, value_name = "DURATION")]
        extend: Option<String>,
    },
    /// Keep a process's executable, memory map and open files as evidence, then freeze it.
    Process {
        /// Process id.
        pid: u32,
        /// Its descendants too.
        #[arg(long)]
        tree: bool,
    },
    /// Lock an account: password locked and account expired, authorized_keys quarantined,
    /// its processes ended.
    Account {
        /// User name.
        user: String,
        /// Lock it even if it is the account you logged in as.
        #[arg(long)]
        force: bool,
    },
    /// Move a file into the encrypted quarantine with its hash, owner, mode and times.
    File {
        /// Path (inside --root when given).
        path: PathBuf,
    },
}

/// Parses `90s`, `15m`, `2h`, `1d` or plain seconds.
pub fn parse_duration(text: &str) -> Result<u64> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("`{text}` is not a duration (e.g. 15m)"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!("`{text}`: unit must be s, m, h or d"),
    };
    Ok(n * mult)
}

pub fn run(args: Args) -> Result<ExitCode> {
    let r = args.act.responder()?;
    let plan = match &args.what {
        What::Network {
            allow,
            allow_port,
            ttl,
            no_responder,
        } => {
            let secs = parse_duration(ttl)?;
            contain::network(
                &r.target,
                &NetworkOptions {
                    allow: allow.clone(),
                    ports: allow_port.clone(),
                    ttl_secs: (secs > 0).then_some(secs),
                    no_responder: *no_responder,
                },
            )?
        }
        What::Confirm { extend } => {
            let extend = extend.as_deref().map(parse_duration).transpose()?;
            if args.act.dry_run {
                say(
                    &args.out,
                    "would confirm the network containment in force\n",
                );
                return Ok(ExitCode::SUCCESS);
            }
            let (id, until) = r.confirm_network(extend.filter(|s| *s > 0))?;
            let text = match until {
                Some(t) => format!(
                    "{id} extended: the kernel lifts the isolation at {t} unless confirmed again\n"
                ),
                None => {
                    format!("{id} confirmed: the isolation stays until `firewarden undo {id}`\n")
                }
            };
            say(&args.out, &text);
            return Ok(ExitCode::SUCCESS);
        }
        What::Process { pid, tree } => contain::process(&r.target, *pid, *tree)?,
        What::Account { user, force } => contain::account(&r.target, user, *force)?,
        What::File { path } => contain::file(&r.target, &path.to_string_lossy())?,
    };
    let mut outcomes = Vec::new();
    apply_plan(
        &r,
        plan,
        &args.act,
        &args.out,
        "nothing to do",
        &mut outcomes,
    )?;
    write_outcomes(&args.out, &outcomes)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), 90);
        assert_eq!(parse_duration("15m").unwrap(), 900);
        assert_eq!(parse_duration("2h").unwrap(), 7200);
        assert!(parse_duration("15x").is_err());
        assert!(parse_duration("m").is_err());
    }
}
