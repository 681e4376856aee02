//! `--case`: a host command asks the case's server before it changes anything. The plan goes as
//! an approval request; the command waits for whoever the tenant's policy names; the approval
//! that comes back is checked here, offline, with the server's public key (fetched over the
//! pinned connection): its signature, the plan's digest, this host, its expiry.

use crate::output::OutputArgs;
use crate::respond::{ApprovalArgs, say};
use anyhow::{Context, Result, bail};
use firewarden_case::approval::{ApprovalStatement, PreAuthorisation, plan_digest};
use firewarden_client::{Method, query_value};
use firewarden_evidence::encoding::unhex;
use firewarden_evidence::keys::PublicKey;
use firewarden_model::Timestamp;
use firewarden_model::action::{Action, ApprovalProof};
use serde_json::json;
use std::time::Duration;

/// How often the request is looked at while waiting.
const POLL: Duration = Duration::from_secs(2);

/// Sends `action` for approval on `case` and waits for the answer. Returns how it was
/// confirmed (for the journal) and the verified approval; an error when it was denied, expired,
/// or does not check out.
pub fn obtain(
    args: &ApprovalArgs,
    case: &str,
    host: &str,
    action: &Action,
    out: &OutputArgs,
) -> Result<(String, ApprovalProof)> {
    let client = args
        .server
        .client()
        .context("--case needs the case's server")?;
    let digest = plan_digest(action);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let base = format!("/api/v1/cases/{}/approvals", query_value(case));
        let mut record = client
            .call(
                Method::POST,
                &base,
                Some(&json!({
                    "host": host,
                    "plan": action,
                    "break_glass": args.break_glass.then_some(args.reason.as_deref()).flatten(),
                })),
            )
            .await
            .context("asking the case server for approval")?;
        let id = record["id"].as_str().unwrap_or_default().to_owned();
        if record["plan_sha256"].as_str() != Some(digest.as_str()) {
            bail!("the server recorded another plan digest than this host's: nothing changed");
        }
        if record["state"] == "pending" {
            let who = match record["requirement"].as_str() {
                Some("customer") => "the customer's authoriser",
                _ => "a second responder",
            };
            say(
                out,
                &format!(
                    "waiting for {who} to approve request {id} on case {case} (until {})…\n",
                    record["expires"].as_str().unwrap_or("?")
                ),
            );
        }
        while record["state"] == "pending" {
            tokio::time::sleep(POLL).await;
            record = client
                .get(&format!("{base}/{}", query_value(&id)))
                .await
                .context("waiting for the approval")?;
        }
        match record["state"].as_str() {
            Some("approved") | Some("unratified") => {}
            Some("denied") => bail!(
                "denied by {}: {}; nothing changed",
                firewarden_model::printable(record["decided_by"].as_str().unwrap_or("?"), 100),
                firewarden_model::printable(record["reason"].as_str().unwrap_or(""), 500)
            ),
            Some("expired") => bail!("nobody approved request {id} in time; nothing changed"),
            other => bail!("request {id} is {other:?}; nothing changed"),
        }
        let key = client.get("/api/v1/server-key").await?;
        let key_hex = key["public_key"].as_str().unwrap_or_default().to_owned();
        let public = PublicKey::parse(&key_hex).context("the server's signing key")?;
        let statement: ApprovalStatement = serde_json::from_value(record["statement"].clone())
            .context("the approval's statement")?;
        let signature = record["signature"].as_str().unwrap_or_default().to_owned();
        if !unhex(&signature).is_some_and(|s| public.verify(&statement.signed_bytes(), &s)) {
            bail!("the approval's signature is not the server's: nothing changed");
        }
        statement
            .answers(&id, case)
            .and_then(|()| statement.matches(&digest, host, Timestamp::now()))
            .map_err(|why| anyhow::anyhow!("{why}; nothing changed"))?;
        let confirmed = if statement.break_glass {
            format!(
                "break-glass by {}, not yet ratified (request {id}, {} risk, server key {})",
                statement.approved_by,
                statement.risk.as_str(),
                public.fingerprint()
            )
        } else {
            format!(
                "approved by {} (request {id}, {} risk, server key {})",
                statement.approved_by,
                statement.risk.as_str(),
                public.fingerprint()
            )
        };
        Ok((
            confirmed,
            ApprovalProof {
                statement: serde_json::to_value(&statement)?,
                signature,
                key: key_hex,
            },
        ))
    })
}

/// `--preauth FILE`: the first grant in the file that covers `action` on `host` now, checked
/// with the server key saved beside the grants. Works without any network.
pub fn preauthorised(
    file: &std::path::Path,
    host: &str,
    action: &Action,
) -> Result<(String, ApprovalProof)> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let kept: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", file.display()))?;
    let key_hex = kept["key"].as_str().unwrap_or_default().to_owned();
    let public = PublicKey::parse(&key_hex).context("the server key in the file")?;
    let mut why = Vec::new();
    for grant in kept["grants"].as_array().cloned().unwrap_or_default() {
        let Ok(statement) = serde_json::from_value::<PreAuthorisation>(grant["statement"].clone())
        else {
            why.push("a grant that does not parse".to_owned());
            continue;
        };
        let signature = grant["signature"].as_str().unwrap_or_default().to_owned();
        if !unhex(&signature).is_some_and(|s| public.verify(&statement.signed_bytes(), &s)) {
            why.push(format!(
                "{}: the signature is not the server's",
                statement.id
            ));
            continue;
        }
        match statement.covers(action, host, Timestamp::now()) {
            Ok(()) => {
                let confirmed = format!(
                    "pre-authorised by {} ({}, until {}, server key {})",
                    statement.granted_by,
                    statement.id,
                    statement.expires,
                    public.fingerprint()
                );
                return Ok((
                    confirmed,
                    ApprovalProof {
                        statement: serde_json::to_value(&statement)?,
                        signature,
                        key: key_hex,
                    },
                ));
            }
            Err(e) => why.push(format!("{}: {e}", statement.id)),
        }
    }
    if why.is_empty() {
        why.push("the file holds no grant".to_owned());
    }
    bail!(
        "no pre-authorisation covers {} on {host}: {}; nothing changed",
        action.kind,
        why.join("; ")
    )
}
