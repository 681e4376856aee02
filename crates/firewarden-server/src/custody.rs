//! Chain of custody on the server: each evidence item's ledger continues here. Every event
//! the server writes (receipt, download, and what people record: check-out, check-in,
//! transfer, examination, disposal) re-measures the bundle's SHA-256 from the stored blob,
//! chains to the line before and is signed with the server's key; an event a person records
//! also carries their own signature over what they declared. `GET …/custody` gives the lines
//! and the keys, so another examiner verifies it offline (`firewarden custody verify`).

use crate::api::{ApiError, ApiResult, App, Auth, Body};
use crate::evidence::{Fetched, TenantKey};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use firewarden_case::access::Operation;
use firewarden_evidence::KeyPair;
use firewarden_evidence::custody::{self, ActorSeal, Line, NewEvent, Tool};
use firewarden_store::{CustodyLine, CustodyView, LineMaker};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What the server's own lines name as their tool.
fn tool() -> Tool {
    Tool {
        name: format!("firewarden server {}", env!("CARGO_PKG_VERSION")),
        sha256: firewarden_evidence::collect::self_sha256(),
    }
}

fn parse(lines: &[String]) -> Result<Vec<Line>, String> {
    let (parsed, problems) = custody::parse(lines.join("\n").as_bytes());
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems.join("; "))
    }
}

/// Makes the line for `new`: checks it may follow the ledger as it stands (and, with
/// `expect_prev`, that nobody wrote in between), then signs it with the server's key.
pub(crate) fn line_maker(
    key: Arc<KeyPair>,
    new: NewEvent,
    measured: (String, u64),
    actor: Option<ActorSeal>,
    expect_prev: Option<String>,
) -> LineMaker {
    LineMaker(Arc::new(move |lines: &[String]| {
        let parsed = parse(lines)?;
        if let (Some(want), Some(last)) = (&expect_prev, parsed.last())
            && custody::line_digest(&last.raw) != *want
        {
            return Err(format!(
                "the ledger moved on since it was read (now {} events): read it again",
                parsed.len()
            ));
        }
        custody::permits(&parsed, &new.event)?;
        let event = custody::next_event(
            &parsed,
            new.clone(),
            measured.clone(),
            &key.public(),
            &tool(),
            actor.clone(),
        )
        .map_err(|e| e.to_string())?;
        let text = format!(
            "evidence {}: {} by {}{}{}",
            event.evidence_id,
            new.event,
            new.by,
            new.to
                .as_deref()
                .map(|t| format!(" to {t}"))
                .unwrap_or_default(),
            if event.hash_verified {
                String::new()
            } else {
                " — THE BUNDLE NO LONGER MATCHES ITS ACQUISITION HASH".into()
            }
        );
        let line = custody::signed_line(&key, &event).map_err(|e| e.to_string())?;
        Ok(CustodyLine {
            kind: new.event.clone(),
            line: line.raw,
            text,
        })
    }))
}

/// The server's receipt of a pushed bundle (`received`: its SHA-256 and size as received).
pub(crate) fn receipt(key: Arc<KeyPair>, by: &str, received: (String, u64)) -> LineMaker {
    let new = NewEvent {
        event: "receive".into(),
        by: by.to_owned(),
        reason: "pushed to the case server; kept write-once, encrypted with the customer's key"
            .into(),
        method: Some("network upload (HTTPS)".into()),
        location: Some("case server evidence store".into()),
        ..Default::default()
    };
    line_maker(key, new, received, None, None)
}

/// An evidence item as the API shows it: the item, its events, where it stands, whether its
/// ledger checks out, and the keys to check it with.
#[derive(Debug, Serialize)]
pub(crate) struct LedgerView {
    pub case: String,
    pub item: firewarden_store::EvidenceItem,
    pub state: custody::CustodyState,
    pub events: Vec<custody::CustodyEvent>,
    /// Problems found in the ledger as kept (empty: intact).
    pub problems: Vec<String>,
    /// The ledger's lines exactly as signed: what `firewarden custody export` writes.
    pub lines: Vec<String>,
    /// The server's public key (hex): signs every line the server wrote.
    pub server_key: String,
}

pub(crate) fn view(app: &App, v: CustodyView) -> LedgerView {
    let (lines, mut problems) = custody::parse(v.lines.join("\n").as_bytes());
    let server = app.signing_key().public();
    problems.extend(custody::verify_offline(
        &lines,
        &trusted(&v.item.signer, &server),
        None,
    ));
    LedgerView {
        case: v.case_id,
        state: custody::state(&lines),
        events: lines.into_iter().map(|l| l.event).collect(),
        problems,
        item: v.item,
        lines: v.lines,
        server_key: server.to_hex(),
    }
}

/// The keys an item's lines should be signed with: the collector's (who signed the bundle's
/// manifest, checked when it was received) and the server's.
fn trusted(
    collector: &str,
    server: &firewarden_evidence::PublicKey,
) -> Vec<firewarden_evidence::PublicKey> {
    let mut keys = vec![*server];
    keys.extend(firewarden_evidence::PublicKey::parse(collector).ok());
    keys
}

/// GET an evidence item and its ledger.
pub(crate) async fn show(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<LedgerView> {
    let v = app.store().custody(&a, &id).await?;
    Ok(Json(view(&app, v)))
}

/// What a person asks to record. `by` is always the caller.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventBody {
    event: String,
    reason: String,
    to: Option<String>,
    seal: Option<String>,
    method: Option<String>,
    location: Option<String>,
    authority: Option<String>,
    disposition: Option<String>,
    retain_until: Option<String>,
    /// The SHA-256 of the ledger's last line as the caller read it: the event follows that
    /// line or is refused (409).
    prev: Option<String>,
    /// The caller's own signature over what they declared (see
    /// [`custody::actor_statement`]); needs `prev`.
    actor: Option<ActorSeal>,
}

/// POST a custody event.
pub(crate) async fn record(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Body(b): Body<EventBody>,
) -> ApiResult<LedgerView> {
    let before = app
        .store()
        .evidence_for(&a, &id, Operation::EditCase)
        .await?;
    let new = NewEvent {
        event: b.event,
        by: a.user.clone(),
        to: b.to,
        reason: b.reason,
        seal: b.seal,
        method: b.method,
        location: b.location,
        authority: b.authority,
        disposition: b.disposition,
        retain_until: b.retain_until,
    };
    new.validate().map_err(|e| ApiError::bad(e.to_string()))?;
    for (name, text) in [
        ("reason", Some(&new.reason)),
        ("to", new.to.as_ref()),
        ("seal", new.seal.as_ref()),
        ("method", new.method.as_ref()),
        ("location", new.location.as_ref()),
        ("authority", new.authority.as_ref()),
    ] {
        if let Some(t) = text {
            firewarden_store::valid_text(t, name, 2000)?;
        }
    }
    if let Some(seal) = &b.actor {
        let prev = b
            .prev
            .as_deref()
            .ok_or_else(|| ApiError::bad("a signed event names the line it follows (prev)"))?;
        let evidence_id = parse(&before.lines)
            .ok()
            .and_then(|l| l.first().map(|f| f.event.evidence_id.clone()))
            .unwrap_or_default();
        let ok = firewarden_evidence::PublicKey::parse(&seal.key)
            .ok()
            .zip(firewarden_evidence::encoding::unhex(&seal.signature))
            .is_some_and(|(k, s)| {
                k.verify(&custody::actor_statement(&evidence_id, prev, &new), &s)
            });
        if !ok {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "your signature does not verify over this event (evidence id, prev, and the event as the server records it, with `by` your user name)",
            ));
        }
    }
    let (_, _, measured) = measure(&app, &before).await?;
    let maker = line_maker(app.signing_key(), new, measured, b.actor, b.prev);
    let after = app
        .store()
        .append_custody(&a, &id, "evidence.custody_event", maker)
        .await?;
    Ok(Json(view(&app, after)))
}

async fn tenant_key(app: &App, tenant: &str) -> Result<Arc<TenantKey>, ApiError> {
    app.keyring()
        .tenant(tenant)
        .await
        .map_err(ApiError::internal)
}

/// The bundle's SHA-256 and size, re-measured from the stored blob (which is returned, ready
/// to read again). A blob that does not decrypt was changed, replaced or damaged: refused by
/// name, as a conflict with what was received.
async fn measure(
    app: &App,
    v: &CustodyView,
) -> Result<(Fetched, Arc<TenantKey>, (String, u64)), ApiError> {
    let key = tenant_key(app, &v.tenant).await?;
    let fetched = app
        .evidence()
        .fetch(&v.item.blob, app.tmp())
        .await
        .map_err(ApiError::internal)?;
    let k = Arc::clone(&key);
    let (fetched, measured) = tokio::task::spawn_blocking(move || {
        let m = fetched.measure(&k);
        (fetched, m)
    })
    .await
    .map_err(ApiError::internal)?;
    let measured = measured.map_err(|e| {
        ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "the stored blob of evidence {} does not read back as the bundle received (changed, replaced or damaged at rest): {e}",
                v.item.id
            ),
        )
    })?;
    Ok((fetched, key, measured))
}

/// GET the bundle: a copy leaves the server, so it is a custody event (re-measured, signed,
/// audited) before a byte is sent; a blob that no longer matches its acquisition hash is
/// recorded as such and not sent.
pub(crate) async fn download(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let v = app
        .store()
        .evidence_for(&a, &id, Operation::EditCase)
        .await?;
    let (fetched, key, measured) = measure(&app, &v).await?;
    let intact = measured.0 == v.item.sha256;
    let new = NewEvent {
        event: "download".into(),
        by: a.user.clone(),
        reason: "a copy downloaded from the case server".into(),
        method: Some("network download (HTTPS)".into()),
        ..Default::default()
    };
    let maker = line_maker(app.signing_key(), new, measured.clone(), None, None);
    app.store()
        .append_custody(&a, &id, "evidence.download", maker)
        .await?;
    if !intact {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "the stored bundle hashes to {}, not {} as received: recorded in its custody ledger, not sent",
                measured.0, v.item.sha256
            ),
        ));
    }
    // Decrypted on a blocking thread, a few chunks ahead of the client.
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut r = match fetched.reader(&key) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                return;
            }
        };
        loop {
            let mut buf = vec![0u8; 256 << 10];
            match r.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(bytes::Bytes::from(buf))).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let name = format!(
        "{}-{}.fwb",
        v.item.asset.replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '.',
            "_"
        ),
        &v.item.sha256[..12.min(v.item.sha256.len())]
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CONTENT_LENGTH, v.item.size.to_string()),
            (
                header::HeaderName::from_static("x-firewarden-sha256"),
                v.item.sha256.clone(),
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}
