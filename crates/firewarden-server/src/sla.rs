//! SLA alerts going out. Every round the server sweeps the open cases' clocks: the store raises
//! each warning and breach once (whichever server gets there first), and this posts what was
//! raised to the tenant's webhook and records how that went. A webhook that failed is tried
//! again on later rounds, by any server, up to the store's limit. Each post is signed with the
//! server's key (`x-firewarden-signature: ed25519=HEX` over [`WEBHOOK_PREFIX`] and the body), so
//! a receiver can tell it from a forgery with the key `GET /api/v1/server-key` gives.

use crate::outbound::Endpoint;
use bytes::Bytes;
use firewarden_model::Timestamp;
use firewarden_store::{DueAlert, Signer, Store, StoreError};
use http_body_util::Full;
use hyper::Request;
use serde::Serialize;
use std::time::Duration;

/// What the webhook signature covers before the body, so it cannot pass for another message.
pub const WEBHOOK_PREFIX: &[u8] = b"firewarden webhook v1\n";

/// How long a webhook has to answer.
const WEBHOOK_WITHIN: Duration = Duration::from_secs(10);

/// What a webhook receives, as JSON.
#[derive(Debug, Serialize)]
pub struct WebhookMessage<'a> {
    /// `sla.warning` or `sla.breach`.
    pub event: String,
    /// The case.
    pub case: &'a str,
    /// Its tenant.
    pub tenant: &'a str,
    /// Its title.
    pub title: &'a str,
    /// The clock as it stood when the alert was raised (target, due time, time left).
    pub clock: &'a firewarden_case::sla::Clock,
    /// One line for a person.
    pub text: String,
    /// When this was sent.
    pub sent: Timestamp,
}

/// What one alert's delivery came to.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The alert.
    pub alert: DueAlert,
    /// The webhook's status (2xx), or why it was not delivered.
    pub outcome: Result<u16, String>,
}

/// One round at `now`: raises what the clocks call for, posts each to its webhook, records
/// the outcome (audited). Tests call it with a clock of their own.
pub async fn tick(
    store: &Store,
    sign: &Signer,
    now: Timestamp,
) -> Result<Vec<Delivery>, StoreError> {
    let mut out = Vec::new();
    for alert in store.sla_sweep(now).await? {
        let outcome = if alert.webhook.is_empty() {
            Err("the tenant has no webhook set".to_owned())
        } else {
            post(&alert, sign).await
        };
        store.sla_delivered(&alert, outcome.clone()).await?;
        out.push(Delivery { alert, outcome });
    }
    Ok(out)
}

async fn post(alert: &DueAlert, sign: &Signer) -> Result<u16, String> {
    let (endpoint, path) = Endpoint::parse(&alert.webhook)?;
    let level = alert.level.as_str();
    let message = WebhookMessage {
        event: format!("sla.{level}"),
        case: &alert.case_id,
        tenant: &alert.tenant,
        title: &alert.title,
        clock: &alert.clock,
        text: format!(
            "{}: {} {} (due {})",
            alert.title,
            alert.clock.kind.label(),
            if level == "breach" {
                "target passed"
            } else {
                "target near"
            },
            alert.clock.due
        ),
        sent: Timestamp::now(),
    };
    let body = serde_json::to_vec(&message).map_err(|e| e.to_string())?;
    let signature = sign(&[WEBHOOK_PREFIX, &body].concat());
    let req = Request::post(path)
        .header("x-firewarden-signature", format!("ed25519={signature}"))
        .header("host", endpoint.host_header())
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("firewarden/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    match endpoint.send(req, Some(WEBHOOK_WITHIN)).await? {
        (status, _) if (200..300).contains(&status) => Ok(status),
        (status, body) => Err(format!(
            "the webhook answered {status}: {}",
            firewarden_model::printable(&String::from_utf8_lossy(&body), 200)
        )),
    }
}

/// Runs [`tick`] every `every` for as long as the runtime runs. A round that fails (the
/// database away) is said on stderr and the next round tries again: clocks are computed from
/// stored times, so nothing is lost by waiting.
pub fn spawn(store: Store, sign: Signer, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match tick(&store, &sign, Timestamp::now()).await {
                Ok(done) => {
                    for d in done.iter().filter(|d| d.outcome.is_err()) {
                        eprintln!(
                            "firewarden server: SLA {} {} for case {} not delivered: {}",
                            d.alert.clock.kind.as_str(),
                            d.alert.level.as_str(),
                            d.alert.case_id,
                            d.outcome.as_ref().err().map_or("", String::as_str)
                        );
                    }
                }
                Err(e) => eprintln!("firewarden server: SLA round failed: {e}"),
            }
        }
    })
}
