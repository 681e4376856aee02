//! The audit log's records and their hash chain: each record names the SHA-256 of the one
//! before, so an edited, removed or reordered record is found by [`verify`], whichever store
//! holds them.

use firewarden_model::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// What the first record names as the one before.
pub const CHAIN_START: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audited read or change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// 1, 2, 3 …
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// Who (user name).
    pub actor: String,
    /// What (`case.read`, `case.import`, `stage.override` …).
    pub action: String,
    /// On what (a case id, a user name).
    pub target: String,
    /// The tenant the target belongs to, when it belongs to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Anything else worth keeping (the override's reason, the import's hash).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Hash of the record before.
    pub prev: String,
    /// Hash of this record: SHA-256 of its JSON without this field.
    pub hash: String,
}

/// A record to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// Whose.
    pub tenant: Option<String>,
    /// More.
    pub detail: String,
}

fn digest(r: &AuditRecord) -> String {
    let mut unhashed = r.clone();
    unhashed.hash = String::new();
    let body = serde_json::to_vec(&unhashed).unwrap_or_default();
    sha2::Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The record that follows `last` (`None` for the first).
pub fn append(last: Option<&AuditRecord>, new: NewRecord) -> AuditRecord {
    let mut r = AuditRecord {
        seq: last.map_or(1, |l| l.seq + 1),
        at: new.at,
        actor: new.actor,
        action: new.action,
        target: new.target,
        tenant: new.tenant,
        detail: new.detail,
        prev: last.map_or_else(|| CHAIN_START.to_owned(), |l| l.hash.clone()),
        hash: String::new(),
    };
    r.hash = digest(&r);
    r
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The record's sequence number (or its position, when that is what is wrong).
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

/// Checks records in order: numbering, each `prev`, each `hash`.
pub fn verify(records: &[AuditRecord]) -> Result<(), Break> {
    verify_from(0, CHAIN_START, records)
}

/// Checks records that continue a chain already checked up to record `after` (whose hash is
/// `prev`): numbered on from `after + 1`, each naming the one before, none edited.
pub fn verify_from(after: u64, prev: &str, records: &[AuditRecord]) -> Result<(), Break> {
    let mut prev = prev.to_owned();
    for (i, r) in records.iter().enumerate() {
        let expected_seq = after + i as u64 + 1;
        let fail = |reason: String| Err(Break { seq: r.seq, reason });
        if r.seq != expected_seq {
            return fail(format!(
                "numbered {}, expected {expected_seq} (removed or reordered)",
                r.seq
            ));
        }
        if r.prev != prev {
            return fail("does not name the hash of the record before".into());
        }
        if r.hash != digest(r) {
            return fail("its content does not match its hash (edited)".into());
        }
        prev = r.hash.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let r = append(
                out.last(),
                NewRecord {
                    at: Timestamp(1_795_600_000 + i as i64),
                    actor: "lead".into(),
                    action: "case.read".into(),
                    target: format!("C{i}"),
                    tenant: Some("acme".into()),
                    detail: String::new(),
                },
            );
            out.push(r);
        }
        out
    }

    #[test]
    fn any_edit_removal_or_reordering_is_found() {
        let good = chain(5);
        assert_eq!(verify(&good), Ok(()));
        let mut edited = good.clone();
        edited[2].actor = "someone".into();
        assert_eq!(verify(&edited).unwrap_err().seq, 3);
        let mut removed = good.clone();
        removed.remove(1);
        assert!(verify(&removed).unwrap_err().reason.contains("removed"));
        let mut swapped = good.clone();
        swapped.swap(3, 4);
        assert!(verify(&swapped).is_err());
        // Rewriting one record's hash does not help: the next one names the old hash.
        let mut rehashed = good.clone();
        rehashed[1].detail = "x".into();
        rehashed[1].hash = digest(&rehashed[1]);
        assert_eq!(verify(&rehashed).unwrap_err().seq, 3);
    }
}
