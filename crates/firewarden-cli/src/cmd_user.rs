//! `firewarden user`: accounts and their roles (admins).

use crate::remote::{Conn, block_on, columns, field};
use anyhow::Result;
use serde_json::json;
use std::process::ExitCode;

/// Add or list users. A new user's token is printed once: hand it over safely.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  firewarden user add alice --role lead\n  firewarden user add bob --role customer-authoriser --tenant T1a2b…\n  firewarden user add carol --role responder --password-stdin < pw.txt\n  firewarden user list\n\nRoles: admin, lead, responder, customer-authoriser, customer-viewer."
)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    conn: Conn,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Add a user and print their token.
    Add {
        /// Login name.
        name: String,
        /// admin, lead, responder, customer-authoriser or customer-viewer.
        #[arg(long)]
        role: String,
        /// A tenant the user sees (repeat for several; none: every tenant, staff only).
        #[arg(long = "tenant")]
        tenants: Vec<String>,
        /// Read a password for web logins from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let client = args.conn.client()?;
    block_on(async move {
        match &args.action {
            Action::Add {
                name,
                role,
                tenants,
                password_stdin,
            } => {
                let mut body =
                    json!({ "name": name, "role": role.replace('-', "_"), "tenants": tenants });
                if *password_stdin {
                    body["password"] = crate::remote::read_password()?.into();
                }
                let made = client
                    .call(
                        firewarden_client::Method::POST,
                        "/api/v1/users",
                        Some(&body),
                    )
                    .await?;
                args.conn.print(&made, |m| {
                    let u = &m["user"];
                    format!(
                        "user {} ({}) added\ntoken (shown once): {}\n",
                        field(u, "name"),
                        field(u, "role"),
                        field(m, "token")
                    )
                });
            }
            Action::List => {
                let list = client.get("/api/v1/users").await?;
                args.conn.print(&list, |l| {
                    let rows: Vec<Vec<String>> = l
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|u| {
                                    let scope = match &u["scope"]["tenants"] {
                                        serde_json::Value::Array(t) => t
                                            .iter()
                                            .filter_map(|x| x.as_str())
                                            .collect::<Vec<_>>()
                                            .join(","),
                                        _ => "all".into(),
                                    };
                                    vec![field(u, "name"), field(u, "role"), scope]
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    columns(&["NAME", "ROLE", "TENANTS"], &rows)
                });
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
