//! `firewarden tenant`: the customers (admins).

use crate::remote::{Conn, block_on, columns, field};
use anyhow::Result;
use serde_json::json;
use std::process::ExitCode;

/// Add or list the customers (tenants) on the server.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  firewarden tenant add \"Acme Corp\"\n  firewarden tenant set T1a2b… --contacts \"J. Doe +1 555 0100 (on call)\" --contract RET-2026-17\n  firewarden tenant list --format json"
)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    conn: Conn,
}

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
            } => {
                let t = client
                    .call(
                        firewarden_client::Method::PATCH,
                        &format!("/api/v1/tenants/{}", firewarden_client::query_value(id)),
                        Some(&json!({ "contacts": contacts, "contract": contract })),
                    )
                    .await?;
                args.conn.print(&t, |t| {
                    format!(
                        "{}  {}\ncontacts: {}\ncontract: {}\n",
                        field(t, "id"),
                        field(t, "name"),
                        field(t, "contacts"),
                        field(t, "contract")
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
