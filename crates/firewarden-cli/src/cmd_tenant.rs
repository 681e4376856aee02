//! `firewarden tenant`: the customers (admins).

use crate::remote::{Conn, block_on, columns, field};
use anyhow::Result;
use serde_json::json;
use std::process::ExitCode;

/// Add or list the customers (tenants) on the server.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  firewarden tenant add \"Acme Corp\"\n  firewarden tenant list --format json"
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
