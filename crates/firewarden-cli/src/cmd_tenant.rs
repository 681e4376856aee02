//! `firewarden tenant`: the customers (admins).

use crate::remote::{Conn, block_on, columns, field};
use anyhow::Result;
use serde_json::{Value, json};
use std::process::ExitCode;

/// Add or list the customers (tenants) on the server.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  firewarden tenant add \"Acme Corp\"\n  firewarden tenant set T1a2b… --contacts \"J. Doe +1 555 0100 (on call)\" --contract RET-2026-17\n  firewarden tenant set T1a2b… --sla standard --webhook https://hooks.acme.example/firewarden\n  firewarden tenant set T1a2b… --sla on_site=90,containment=180\n  firewarden tenant list --format json"
)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    conn: Conn,
}

// Parsed once from the command line: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Add a tenant.
    Add {
        /// Its name.
        name: String,
    },
    /// List the tenants you see.
    List,
    /// Record who to call and the contract the work is done under.
    Set {
        /// Tenant id.
        id: String,
        /// Contacts (names, phones, the customer's on-call).
        #[arg(long)]
        contacts: Option<String>,
        /// Contract or retainer reference.
        #[arg(long)]
        contract: Option<String>,
        /// SLA targets in minutes: `standard` (15, 60, 120, 240), `none`, or e.g.
        /// `acknowledge=15,remote_start=60,on_site=120,containment=240`.
        #[arg(long, value_parser = parse_sla)]
        sla: Option<Value>,
        /// Where SLA warnings and breaches are posted (`https://…`; `""` for nowhere).
        #[arg(long)]
        webhook: Option<String>,
        /// Who must agree to an action, per risk tier: e.g.
        /// `low=at_once,medium=second_responder,high=customer` (the default).
        #[arg(long, value_parser = parse_policy)]
        approval_policy: Option<Value>,
        /// Imports from a tool short of validated in the registry: `flag` them (the default)
        /// or `refuse` them.
        #[arg(long, value_parser = ["flag", "refuse"])]
        tool_policy: Option<String>,
    },
}

pub fn run(args: Args) -> Result<ExitCode> {
    let client = args.conn.client()?;
    block_on(async move {
        match &args.action {
            Action::Add { name } => {
                let t = client
                    .call(
                        firewarden_client::Method::POST,
                        "/api/v1/tenants",
                        Some(&json!({ "name": name })),
                    )
                    .await?;
                args.conn.print(&t, |t| {
                    format!("{}  {}\n", field(t, "id"), field(t, "name"))
                });
            }
            Action::Set {
                id,
                contacts,
                contract,
                sla,
                webhook,
                approval_policy,
                tool_policy,
            } => {
                let t = client
                    .call(
                        firewarden_client::Method::PATCH,
                        &format!("/api/v1/tenants/{}", firewarden_client::query_value(id)),
                        Some(&json!({
                            "contacts": contacts,
                            "contract": contract,
                            "sla": sla,
                            "webhook": webhook,
                            "approval_policy": approval_policy,
                            "tool_policy": tool_policy,
                        })),
                    )
                    .await?;
                args.conn.print(&t, |t| {
                    format!(
                        "{}  {}\ncontacts: {}\ncontract: {}\nSLA: {}\nwebhook: {}\ntool policy: {}\n",
                        field(t, "id"),
                        field(t, "name"),
                        field(t, "contacts"),
                        field(t, "contract"),
                        t.get("sla").map_or("none".into(), |s| s.to_string()),
                        field(t, "webhook"),
                        field(t, "tool_policy")
                    )
                });
            }
            Action::List => {
                let list = client.get("/api/v1/tenants").await?;
                args.conn.print(&list, |l| {
                    let rows: Vec<Vec<String>> = l
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|t| vec![field(t, "id"), field(t, "name")])
                                .collect()
                        })
                        .unwrap_or_default();
                    columns(&["ID", "NAME"], &rows)
                });
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `standard`, `none`, or `clock=minutes,…` as the API's SLA object.
fn parse_sla(text: &str) -> Result<Value, String> {
    const CLOCKS: [&str; 4] = ["acknowledge", "remote_start", "on_site", "containment"];
    match text {
        "standard" => {
            return Ok(
                json!({"acknowledge": 15, "remote_start": 60, "on_site": 120, "containment": 240}),
            );
        }
        "none" => return Ok(json!({})),
        _ => {}
    }
    let mut out = serde_json::Map::new();
    for part in text.split(',') {
        let (clock, minutes) = part
            .split_once('=')
            .ok_or_else(|| format!("{part}: expected CLOCK=MINUTES"))?;
        let clock = clock.trim();
        if !CLOCKS.contains(&clock) {
            return Err(format!("{clock}: the clocks are {}", CLOCKS.join(", ")));
        }
        let minutes: u32 = minutes
            .trim()
            .parse()
            .map_err(|_| format!("{part}: minutes must be a whole number"))?;
        out.insert(clock.to_owned(), json!(minutes));
    }
    Ok(Value::Object(out))
}

/// `low=…,medium=…,high=…` (each `at_once`, `second_responder` or `customer`) as the API's
/// policy object; tiers left out keep the default.
fn parse_policy(text: &str) -> Result<Value, String> {
    const ANSWERS: [&str; 3] = ["at_once", "second_responder", "customer"];
    let mut policy = json!({"low": "at_once", "medium": "second_responder", "high": "customer"});
    for part in text.split(',') {
        let (tier, who) = part
            .split_once('=')
            .ok_or_else(|| format!("{part}: expected TIER=WHO"))?;
        let (tier, who) = (tier.trim(), who.trim());
        if !["low", "medium", "high"].contains(&tier) {
            return Err(format!("{tier}: the tiers are low, medium, high"));
        }
        if !ANSWERS.contains(&who) {
            return Err(format!("{who}: one of {}", ANSWERS.join(", ")));
        }
        policy[tier] = json!(who);
    }
    Ok(policy)
}
