//! Customer-confirmed actions. Every response action has a risk tier; the tenant's policy says
//! per tier who must agree before it runs: nobody more, a second responder, or the customer's
//! authoriser. An approval is a statement the server signs: bound to the plan's digest, the
//! host and an expiry, so the host verifies it offline with the server's public key and refuses
//! a plan that changed since, another host's approval, or a stale one. Pure: no keys here, only
//! the rules and the exact bytes that are signed.

use firewarden_model::Timestamp;
use firewarden_model::action::Risk;
use serde::{Deserialize, Serialize};

/// Who must agree before an action of a tier runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// The responder's own confirmation on the host is enough.
    AtOnce,
    /// Another responder or lead of the case (not the one asking).
    SecondResponder,
    /// The customer's authoriser, re-entering their password.
    Customer,
}

/// A tenant's policy, per risk tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    /// Reversible, local changes.
    pub low: Requirement,
    /// A service or an account's access.
    pub medium: Requirement,
    /// What can cut a host off or lock people out.
    pub high: Requirement,
}

impl Default for ApprovalPolicy {
    /// Low at once, medium with a second responder, high with the customer.
    fn default() -> Self {
        ApprovalPolicy {
            low: Requirement::AtOnce,
            medium: Requirement::SecondResponder,
            high: Requirement::Customer,
        }
    }
}

impl ApprovalPolicy {
    /// Who must agree to an action of `risk`.
    pub fn requirement(&self, risk: Risk) -> Requirement {
        match risk {
            Risk::Low => self.low,
            Risk::Medium => self.medium,
            Risk::High => self.high,
        }
    }
}

/// The digest an approval is bound to: SHA-256 of the action as planned (its JSON, without the
/// id, confirmation and approval it gets when applied). The host computes it from its plan, the
/// server from the plan it was sent, and they must agree.
pub fn plan_digest(action: &firewarden_model::action::Action) -> String {
    use sha2::{Digest, Sha256};
    let mut plan = action.clone();
    plan.id = String::new();
    plan.confirmed = None;
    plan.approval = None;
    let bytes = serde_json::to_vec(&plan).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalState {
    /// Waiting for the one who must agree.
    Pending,
    /// Agreed: the signed statement is ready.
    Approved,
    /// Refused, with a reason.
    Denied,
    /// Nobody answered in time.
    Expired,
    /// Done at once by break-glass, waiting for the one who should have agreed to ratify it.
    Unratified,
    /// Break-glass, ratified afterwards.
    Ratified,
    /// Break-glass, disputed afterwards (with a reason).
    Disputed,
}

/// The statement the server signs when a request is approved. Its JSON (fields in this order,
/// no spaces: [`ApprovalStatement::signed_bytes`]) is what the signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalStatement {
    /// Format version.
    pub v: u32,
    /// The request's id.
    pub request: String,
    /// The case.
    pub case: String,
    /// The host the plan is for (as the host names itself).
    pub host: String,
    /// SHA-256 of the plan as the host computed it.
    pub plan_sha256: String,
    /// The plan's risk tier.
    pub risk: Risk,
    /// Who had to agree.
    pub requirement: Requirement,
    /// Who agreed.
    pub approved_by: String,
    /// When.
    pub approved_at: Timestamp,
    /// Not valid from this moment on.
    pub expires: Timestamp,
    /// Nobody agreed beforehand: the requester broke the glass (`approved_by` is the
    /// requester) and the action stays flagged until it is ratified or disputed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub break_glass: bool,
}

impl ApprovalStatement {
    /// The exact bytes signed: the statement as compact JSON, prefixed with the purpose so the
    /// signature cannot be replayed as another kind of signed message.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = b"firewarden approval v1\n".to_vec();
        // Serialising a struct of strings, numbers and enums cannot fail.
        out.extend(serde_json::to_vec(self).unwrap_or_default());
        out
    }

    /// Checks that this statement answers `request` of `case`: an older approval of the same
    /// plan on the same host, sent back for a new request, is not its answer.
    pub fn answers(&self, request: &str, case: &str) -> Result<(), ApprovalRefusal> {
        if self.request != request || self.case != case {
            return Err(ApprovalRefusal::OtherRequest {
                request: self.request.clone(),
                case: self.case.clone(),
            });
        }
        Ok(())
    }

    /// Checks what a signature cannot: that this approval is for this plan on this host, now.
    pub fn matches(
        &self,
        plan_sha256: &str,
        host: &str,
        now: Timestamp,
    ) -> Result<(), ApprovalRefusal> {
        if self.v != 1 {
            return Err(ApprovalRefusal::Version(self.v));
        }
        if self.plan_sha256 != plan_sha256 {
            return Err(ApprovalRefusal::PlanChanged);
        }
        if self.host != host {
            return Err(ApprovalRefusal::OtherHost(self.host.clone()));
        }
        if now >= self.expires {
            return Err(ApprovalRefusal::Expired(self.expires));
        }
        Ok(())
    }
}

/// Why an approval does not allow this action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalRefusal {
    /// A format this version does not know.
    Version(u32),
    /// The plan is not the one approved.
    PlanChanged,
    /// It was approved for another host.
    OtherHost(String),
    /// Its time ran out.
    Expired(Timestamp),
    /// The signature is not the server's.
    BadSignature,
    /// It answers another request (a replayed approval).
    OtherRequest {
        /// The request it answers.
        request: String,
        /// Of this case.
        case: String,
    },
}

impl std::fmt::Display for ApprovalRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApprovalRefusal::Version(v) => write!(f, "approval format {v} is not known"),
            ApprovalRefusal::PlanChanged => {
                write!(f, "the plan changed since it was approved: ask again")
            }
            ApprovalRefusal::OtherHost(h) => write!(f, "the approval is for host {h}"),
            ApprovalRefusal::Expired(t) => write!(f, "the approval expired at {t}"),
            ApprovalRefusal::BadSignature => {
                write!(f, "the approval's signature is not the server's")
            }
            ApprovalRefusal::OtherRequest { request, case } => write!(
                f,
                "the approval answers request {} of case {}, not this one",
                firewarden_model::printable(request, 64),
                firewarden_model::printable(case, 64)
            ),
        }
    }
}

impl std::error::Error for ApprovalRefusal {}

/// A scope the customer grants ahead of time ("isolate web hosts, never the database hosts,
/// for 72 h"): signed by the server like an approval, it lets a responder act within it
/// offline. Its JSON after [`PreAuthorisation::signed_bytes`]'s prefix is what is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreAuthorisation {
    /// Format version.
    pub v: u32,
    /// Id.
    pub id: String,
    /// The case.
    pub case: String,
    /// Action kinds allowed (`contain.network`, `contain.file`…); empty: any kind.
    pub kinds: Vec<String>,
    /// Hosts allowed, as patterns where `*` stands for any run of characters (`web*`).
    pub hosts: Vec<String>,
    /// Hosts never allowed, whatever `hosts` says (`db*`).
    pub never_hosts: Vec<String>,
    /// The highest risk tier allowed.
    pub max_risk: Risk,
    /// Who granted it (the customer's authoriser).
    pub granted_by: String,
    /// When.
    pub granted_at: Timestamp,
    /// Not valid from this moment on.
    pub expires: Timestamp,
}

/// `*` matches any run of characters; everything else itself (case-insensitive: host names).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let (p, h) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == h;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !h.starts_with(first) || !h[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &h[first.len()..h.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

impl PreAuthorisation {
    /// The exact bytes signed.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = b"firewarden pre-authorisation v1\n".to_vec();
        out.extend(serde_json::to_vec(self).unwrap_or_default());
        out
    }

    /// Whether this scope covers `action` on `host` at `now`; the reason when not.
    pub fn covers(
        &self,
        action: &firewarden_model::action::Action,
        host: &str,
        now: Timestamp,
    ) -> Result<(), String> {
        if self.v != 1 {
            return Err(format!("pre-authorisation format {} is not known", self.v));
        }
        if now >= self.expires {
            return Err(format!("the pre-authorisation expired at {}", self.expires));
        }
        if !self.kinds.is_empty() && !self.kinds.contains(&action.kind) {
            return Err(format!(
                "{} is not among the kinds pre-authorised ({})",
                action.kind,
                self.kinds.join(", ")
            ));
        }
        if let Some(p) = self.never_hosts.iter().find(|p| host_matches(p, host)) {
            return Err(format!("host {host} is excluded ({p})"));
        }
        if !self.hosts.iter().any(|p| host_matches(p, host)) {
            return Err(format!(
                "host {host} is not among the hosts pre-authorised ({})",
                self.hosts.join(", ")
            ));
        }
        if action.risk > self.max_risk {
            return Err(format!(
                "{} risk is above the {} pre-authorised",
                action.risk.as_str(),
                self.max_risk.as_str()
            ));
        }
        Ok(())
    }
}

/// Whether `role` may grant a scope ahead: it stands for the customer's agreement, so only the
/// customer's authoriser may.
pub fn may_preauthorise(role: crate::model::Role) -> bool {
    role == crate::model::Role::CustomerAuthoriser
}

/// Whether `role` may withdraw a pre-authorisation before it expires: the customer who grants
/// them, and the responders' leads (taking power away is always safe).
pub fn may_revoke_preauthorisation(role: crate::model::Role) -> bool {
    use crate::model::Role;
    matches!(role, Role::CustomerAuthoriser | Role::Lead | Role::Admin)
}

/// Whether `approver` (role and user) may decide a request of `requirement` made by
/// `requester`. A second responder is anyone editing cases but the requester; the customer's
/// approval is the customer authoriser's (a lead or admin may not stand in for the customer).
pub fn may_decide(
    requirement: Requirement,
    approver_role: crate::model::Role,
    approver: &str,
    requester: &str,
) -> bool {
    use crate::model::Role;
    match requirement {
        Requirement::AtOnce => false,
        Requirement::SecondResponder => {
            approver != requester
                && matches!(approver_role, Role::Responder | Role::Lead | Role::Admin)
        }
        Requirement::Customer => approver_role == Role::CustomerAuthoriser,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn statement() -> ApprovalStatement {
        ApprovalStatement {
            v: 1,
            request: "R1".into(),
            case: "C1".into(),
            host: "web01".into(),
            plan_sha256: "ab".repeat(32),
            risk: Risk::High,
            requirement: Requirement::Customer,
            approved_by: "carol".into(),
            approved_at: Timestamp(1_800_000_000),
            expires: Timestamp(1_800_003_600),
            break_glass: false,
        }
    }

    #[test]
    fn an_approval_holds_for_its_plan_host_and_time_only() {
        let s = statement();
        let now = Timestamp(1_800_000_100);
        assert_eq!(s.matches(&"ab".repeat(32), "web01", now), Ok(()));
        assert_eq!(
            s.matches(&"cd".repeat(32), "web01", now),
            Err(ApprovalRefusal::PlanChanged)
        );
        assert_eq!(
            s.matches(&"ab".repeat(32), "db01", now),
            Err(ApprovalRefusal::OtherHost("web01".into()))
        );
        assert!(matches!(
            s.matches(&"ab".repeat(32), "web01", Timestamp(1_800_003_600)),
            Err(ApprovalRefusal::Expired(_))
        ));
        // The signed bytes name their purpose and change with every field.
        let bytes = s.signed_bytes();
        assert!(bytes.starts_with(b"firewarden approval v1\n"));
        let mut other = s.clone();
        other.host = "web02".into();
        assert_ne!(other.signed_bytes(), bytes);
        // Sent back for another request of the case, it is a replay.
        assert_eq!(s.answers("R1", "C1"), Ok(()));
        assert!(matches!(
            s.answers("R2", "C1"),
            Err(ApprovalRefusal::OtherRequest { .. })
        ));
        assert!(s.answers("R1", "C2").is_err());
        let mut glass = s.clone();
        glass.break_glass = true;
        assert_ne!(glass.signed_bytes(), bytes);
    }

    #[test]
    fn a_pre_authorisation_covers_its_scope_only() {
        let grant = PreAuthorisation {
            v: 1,
            id: "P1".into(),
            case: "C1".into(),
            kinds: vec!["contain.network".into()],
            hosts: vec!["web*".into()],
            never_hosts: vec!["web-db*".into()],
            max_risk: Risk::High,
            granted_by: "carol".into(),
            granted_at: Timestamp(1_800_000_000),
            expires: Timestamp(1_800_000_000 + 72 * 3600),
        };
        let action: firewarden_model::action::Action = serde_json::from_str(
            r#"{"id":"","kind":"contain.network","title":"Isolate","risk":"high","root":"/","steps":[]}"#,
        )
        .unwrap();
        let now = Timestamp(1_800_000_100);
        assert_eq!(grant.covers(&action, "web01", now), Ok(()));
        assert_eq!(grant.covers(&action, "WEB02", now), Ok(()));
        assert!(
            grant
                .covers(&action, "db01", now)
                .unwrap_err()
                .contains("not among the hosts")
        );
        assert!(
            grant
                .covers(&action, "web-db1", now)
                .unwrap_err()
                .contains("excluded")
        );
        let mut file = action.clone();
        file.kind = "eradicate".into();
        assert!(
            grant
                .covers(&file, "web01", now)
                .unwrap_err()
                .contains("kinds")
        );
        assert!(
            grant
                .covers(&action, "web01", Timestamp(1_800_000_000 + 72 * 3600))
                .unwrap_err()
                .contains("expired")
        );
        let narrow = PreAuthorisation {
            max_risk: Risk::Medium,
            ..grant.clone()
        };
        assert!(
            narrow
                .covers(&action, "web01", now)
                .unwrap_err()
                .contains("above")
        );
        assert!(host_matches("*", "anything"));
        assert!(host_matches("web*-eu*", "web01-eu-west"));
        assert!(!host_matches("web*-eu", "web01-us"));
        assert!(!host_matches("web01", "web011"));
    }

    #[test]
    fn who_may_decide() {
        let p = ApprovalPolicy::default();
        assert_eq!(p.requirement(Risk::High), Requirement::Customer);
        assert_eq!(p.requirement(Risk::Low), Requirement::AtOnce);
        let second = Requirement::SecondResponder;
        assert!(may_decide(second, Role::Responder, "bob", "rob"));
        assert!(!may_decide(second, Role::Responder, "rob", "rob"));
        assert!(!may_decide(second, Role::CustomerViewer, "vic", "rob"));
        let customer = Requirement::Customer;
        assert!(may_decide(
            customer,
            Role::CustomerAuthoriser,
            "carol",
            "rob"
        ));
        assert!(!may_decide(customer, Role::Lead, "lena", "rob"));
        assert!(!may_decide(customer, Role::Admin, "admin", "rob"));
    }
}
