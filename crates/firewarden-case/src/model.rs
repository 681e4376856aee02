//! The case platform's plain data: what an incident is about and who may do what. Versioned and
//! serialisable, so the storage layer, the API and the report read the same shapes.

use serde::{Deserialize, Serialize};

/// Version of these shapes as stored and served.
pub const CASE_SCHEMA_VERSION: u32 = 1;

/// What kind of incident a case is (the service's incident catalogue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// Intrusion: someone got in.
    Intrusion,
    /// A virus spreading between hosts.
    VirusOutbreak,
    /// A trojan.
    Trojan,
    /// A backdoor left for later access.
    Backdoor,
    /// A webshell on a web server.
    Webshell,
    /// Database dumping ("dragging").
    DataDumping,
    /// Tampered (defaced or SEO-spammed) pages.
    PageTampering,
    /// A cryptominer.
    Cryptominer,
    /// Anything else.
    Other,
}

impl IncidentKind {
    /// Every kind, in catalogue order.
    pub const ALL: [IncidentKind; 9] = [
        IncidentKind::Intrusion,
        IncidentKind::VirusOutbreak,
        IncidentKind::Trojan,
        IncidentKind::Backdoor,
        IncidentKind::Webshell,
        IncidentKind::DataDumping,
        IncidentKind::PageTampering,
        IncidentKind::Cryptominer,
        IncidentKind::Other,
    ];

    /// The snake-case name used on the command line and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::Intrusion => "intrusion",
            IncidentKind::VirusOutbreak => "virus_outbreak",
            IncidentKind::Trojan => "trojan",
            IncidentKind::Backdoor => "backdoor",
            IncidentKind::Webshell => "webshell",
            IncidentKind::DataDumping => "data_dumping",
            IncidentKind::PageTampering => "page_tampering",
            IncidentKind::Cryptominer => "cryptominer",
            IncidentKind::Other => "other",
        }
    }
}

impl std::str::FromStr for IncidentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        IncidentKind::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown incident kind `{s}` (one of {})",
                    IncidentKind::ALL.map(IncidentKind::as_str).join(", ")
                )
            })
    }
}

/// What a user may do. Staff roles act across tenants they are given; customer roles belong to
/// one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the platform: tenants, users, tool registry.
    Admin,
    /// Leads cases: may override stage gates and approve actions internally.
    Lead,
    /// Works cases: imports results, writes notes and tasks.
    Responder,
    /// The customer's person who may confirm risky actions.
    CustomerAuthoriser,
    /// The customer's read-only view.
    CustomerViewer,
}

impl Role {
    /// Whether the role belongs to a customer (and so to exactly one tenant).
    pub fn is_customer(self) -> bool {
        matches!(self, Role::CustomerAuthoriser | Role::CustomerViewer)
    }

    /// Whether the role may change case data (import, notes, tasks, stage moves).
    pub fn may_edit_cases(self) -> bool {
        matches!(self, Role::Admin | Role::Lead | Role::Responder)
    }

    /// Whether the role may override a stage gate (with a reason, recorded).
    pub fn may_override_gates(self) -> bool {
        matches!(self, Role::Admin | Role::Lead)
    }
}

/// Which tenants a user sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "scope", content = "tenants")]
pub enum TenantScope {
    /// Every tenant (platform staff).
    All,
    /// These tenants only (by id).
    Only(Vec<String>),
}

impl TenantScope {
    /// Whether a tenant's data is visible in this scope.
    pub fn sees(&self, tenant: &str) -> bool {
        match self {
            TenantScope::All => true,
            TenantScope::Only(ids) => ids.iter().any(|t| t == tenant),
        }
    }
}

/// The traffic-light protocol level of a case: who its information may be shared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tlp {
    /// Shareable without restriction.
    Clear,
    /// Within the community.
    Green,
    /// Within the organisation and its clients as needed.
    Amber,
    /// Within the organisation only.
    AmberStrict,
    /// The named recipients only.
    Red,
}

/// Whether a case is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Being worked.
    Open,
    /// Summary stage left: the incident is closed.
    Closed,
}

/// How compromised an asset is believed to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compromise {
    /// Not yet looked at.
    Unknown,
    /// Looked at; nothing found.
    Clean,
    /// Signs of compromise.
    Suspected,
    /// Compromise confirmed.
    Compromised,
    /// Was compromised; eradicated and verified.
    Remediated,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_as_written_on_a_command_line() {
        assert_eq!(
            "webshell".parse::<IncidentKind>(),
            Ok(IncidentKind::Webshell)
        );
        assert_eq!(
            "Data-Dumping".parse::<IncidentKind>(),
            Ok(IncidentKind::DataDumping)
        );
        assert!(
            "ransom"
                .parse::<IncidentKind>()
                .unwrap_err()
                .contains("one of")
        );
        for k in IncidentKind::ALL {
            assert_eq!(k.as_str().parse::<IncidentKind>(), Ok(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
    }

    #[test]
    fn customers_see_their_tenant_and_never_edit() {
        let scope = TenantScope::Only(vec!["acme".into()]);
        assert!(scope.sees("acme") && !scope.sees("globex"));
        assert!(TenantScope::All.sees("globex"));
        assert!(Role::CustomerViewer.is_customer() && !Role::CustomerViewer.may_edit_cases());
        assert!(Role::Lead.may_override_gates() && !Role::Responder.may_override_gates());
    }
}
