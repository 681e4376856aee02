//! Custody ledgers on the server: a pushed bundle's `BUNDLE.custody` lines, kept exactly as
//! signed, and continued by the server (receipt, check-out and check-in, transfers,
//! examination, downloads, disposal). The store keeps lines and their order; what a line says
//! and who signs it is the caller's ([`LineMaker`]), so the ledger format lives in one place
//! (`firewarden-evidence`).

use super::*;
use crate::casework::{Event, insert_timeline};

/// One line to append: its kind (`receive`, `check-out` …) and the signed line itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustodyLine {
    /// The event kind (for the timeline and for listing).
    pub kind: String,
    /// The ledger line, `SIGNATURE EVENT-JSON`.
    pub line: String,
    /// What the case timeline says about it.
    pub text: String,
}

/// Makes the next ledger line from the lines as they stand, inside the transaction that
/// appends it (nobody appends in between). An `Err` is a refusal, reported as a conflict
/// (the event does not fit the ledger: after disposal, a check-in with nothing checked out).
#[derive(Clone)]
pub struct LineMaker(pub Arc<MakeLine>);

/// What a [`LineMaker`] runs: the ledger's lines in, the next line (or a refusal) out.
pub type MakeLine = dyn Fn(&[String]) -> std::result::Result<CustodyLine, String> + Send + Sync;

impl std::fmt::Debug for LineMaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LineMaker")
    }
}

/// An evidence item with its ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyView {
    /// The case it belongs to.
    pub case_id: String,
    /// The case's tenant (whose key seals the blob).
    pub tenant: String,
    /// The item.
    pub item: EvidenceItem,
    /// Its ledger lines in order, exactly as signed.
    pub lines: Vec<String>,
}

/// The kind an imported line records (`acquire`, `transfer` …), read from its JSON.
pub(crate) fn line_kind(line: &str) -> String {
    line.split_once(' ')
        .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(body).ok())
        .and_then(|v| v.get("event").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

pub(crate) async fn ledger_lines(tx: &mut Conn, evidence_id: &str) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT line FROM custody WHERE evidence_id = $1 ORDER BY seq")
        .bind(evidence_id.to_owned())
        .fetch_all(&mut *tx)
        .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>("line").map_err(Into::into))
        .collect()
}

/// Appends `made` as line `seq` of the item's ledger, counts it on the item and puts it on
/// the case timeline.
pub(crate) async fn append_line(
    tx: &mut Conn,
    case_id: &str,
    item: &EvidenceItem,
    seq: usize,
    made: &CustodyLine,
    who: &str,
) -> Result<()> {
    let at = now();
    sqlx::query(
        "INSERT INTO custody (evidence_id, seq, kind, at, line) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(item.id.clone())
    .bind(seq as i64)
    .bind(made.kind.clone())
    .bind(at.to_string())
    .bind(made.line.clone())
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE evidence SET custody_events = $1 WHERE id = $2")
        .bind(seq as i64)
        .bind(item.id.clone())
        .execute(&mut *tx)
        .await?;
    let event = Event {
        id: format!("custody:{}:{seq}", item.id),
        at,
        zone: "UTC".into(),
        source: format!("custody:{}", item.id),
        kind: format!("custody.{}", made.kind),
        text: made.text.clone(),
    };
    insert_timeline(tx, case_id, who, &[event]).await?;
    Ok(())
}

impl Store {
    /// The case an evidence item belongs to, whoever asks (callers then check the actor on the
    /// case: another tenant's item is not found).
    async fn case_of_evidence(&self, evidence_id: &str) -> Result<String> {
        let row = sqlx::query("SELECT case_id FROM evidence WHERE id = $1")
            .bind(evidence_id.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("case_id")?)
    }

    /// An evidence item and its ledger, for someone who may read the case (audited).
    pub async fn custody(&self, actor: &Actor, evidence_id: &str) -> Result<CustodyView> {
        self.custody_for(actor, evidence_id, Operation::ReadCase, "evidence.custody")
            .await
    }

    /// An evidence item and its ledger, for someone who may perform `op` on its case; the
    /// read is audited as `action`.
    pub async fn custody_for(
        &self,
        actor: &Actor,
        evidence_id: &str,
        op: Operation,
        action: &'static str,
    ) -> Result<CustodyView> {
        let case_id = self.case_of_evidence(evidence_id).await?;
        let eid = evidence_id.to_owned();
        self.on_case(actor, &case_id, op, action, move |tx, case| {
            let eid = eid.clone();
            Box::pin(async move {
                let view = read_view(tx, &case, &eid).await?;
                Ok((view, format!("evidence {eid}")))
            })
        })
        .await
    }

    /// An evidence item and its ledger when the actor may perform `op` on its case, without
    /// recording anything: for refusing early, before a blob is read for work the caller
    /// then records (a download, a custody event).
    pub async fn evidence_for(
        &self,
        actor: &Actor,
        evidence_id: &str,
        op: Operation,
    ) -> Result<CustodyView> {
        let case_id = self.case_of_evidence(evidence_id).await?;
        let mut conn = self.pool.acquire().await?;
        let case = fetch_case(&mut *conn, &case_id).await?;
        require(actor, op, Some(&case.tenant))?;
        read_view(&mut conn, &case, evidence_id).await
    }

    /// Appends one line to an item's ledger, made by `make` from the ledger as it stands, in
    /// one audited transaction (`action`; the actor must be allowed to change the case).
    pub async fn append_custody(
        &self,
        actor: &Actor,
        evidence_id: &str,
        action: &'static str,
        make: LineMaker,
    ) -> Result<CustodyView> {
        let case_id = self.case_of_evidence(evidence_id).await?;
        let (eid, who) = (evidence_id.to_owned(), actor.user.clone());
        self.on_case(
            actor,
            &case_id,
            Operation::EditCase,
            action,
            move |tx, case| {
                let (eid, who, make) = (eid.clone(), who.clone(), make.clone());
                Box::pin(async move {
                    let mut view = read_view(tx, &case, &eid).await?;
                    let made = (make.0)(&view.lines).map_err(StoreError::Settled)?;
                    let seq = view.lines.len() + 1;
                    append_line(tx, &case.id, &view.item, seq, &made, &who).await?;
                    view.lines.push(made.line);
                    view.item.custody_events = seq as u64;
                    Ok((view, format!("evidence {eid}: custody {}", made.kind)))
                })
            },
        )
        .await
    }
}

async fn read_view(tx: &mut Conn, case: &Case, evidence_id: &str) -> Result<CustodyView> {
    let row = sqlx::query("SELECT * FROM evidence WHERE id = $1 AND case_id = $2")
        .bind(evidence_id.to_owned())
        .bind(case.id.clone())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let item = crate::casework::evidence_from(&row)?;
    let lines = ledger_lines(tx, evidence_id).await?;
    Ok(CustodyView {
        case_id: case.id.clone(),
        tenant: case.tenant.clone(),
        item,
        lines,
    })
}
