//! Who may do what, decided in one place for every route: tenant scope first (a case of
//! another tenant does not exist for the asker: 404, never 403, so ids cannot be probed), then
//! the role.

use crate::model::{Role, TenantScope};
use serde::{Deserialize, Serialize};

/// Someone acting: a user with a role and the tenants they see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User name.
    pub user: String,
    /// Role.
    pub role: Role,
    /// Tenants they see.
    pub scope: TenantScope,
}

/// What is being asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Read a case and what it holds.
    ReadCase,
    /// Create a case for a tenant.
    CreateCase,
    /// Change a case: import, notes, tasks, stage moves.
    EditCase,
    /// Leave a stage over its unmet criteria (with a reason).
    OverrideGate,
    /// Decide on a request to run a risky action (who exactly may decide which request is
    /// [`crate::approval::may_decide`]: a second responder, or the customer's authoriser).
    ConfirmAction,
    /// Add or change tenants.
    ManageTenants,
    /// Add or change users.
    ManageUsers,
    /// Read the audit log.
    ReadAudit,
    /// Read the tool registry (what was used on cases: no tenant's data).
    ReadTools,
    /// Register, update, withdraw and validate tools and rule packs.
    ManageTools,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// The resource is outside the actor's tenants: answer as if it did not exist (404).
    NotFound,
    /// The actor sees it but the role may not do this (403).
    Forbidden,
}

/// Decides whether `actor` may perform `op` on something of `tenant` (`None` for platform-wide
/// operations: managing tenants and users, the audit log).
pub fn authorize(actor: &Actor, op: Operation, tenant: Option<&str>) -> Decision {
    if let Some(t) = tenant
        && !actor.scope.sees(t)
    {
        return Decision::NotFound;
    }
    // A customer account must be tied to exactly one tenant, whatever its record says.
    if actor.role.is_customer() && !matches!(&actor.scope, TenantScope::Only(t) if t.len() == 1) {
        return Decision::Forbidden;
    }
    let allowed = match op {
        Operation::ReadCase => true,
        Operation::CreateCase | Operation::EditCase => actor.role.may_edit_cases(),
        Operation::OverrideGate => actor.role.may_override_gates(),
        Operation::ConfirmAction => actor.role != Role::CustomerViewer,
        Operation::ReadTools => tenant.is_none(),
        Operation::ManageTenants
        | Operation::ManageUsers
        | Operation::ReadAudit
        | Operation::ManageTools => actor.role == Role::Admin && tenant.is_none(),
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::Forbidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, tenants: &[&str]) -> Actor {
        Actor {
            user: "u".into(),
            role,
            scope: if tenants.is_empty() {
                TenantScope::All
            } else {
                TenantScope::Only(tenants.iter().map(|t| t.to_string()).collect())
            },
        }
    }

    #[test]
    fn another_tenants_case_does_not_exist_for_you() {
        let viewer = actor(Role::CustomerViewer, &["acme"]);
        assert_eq!(
            authorize(&viewer, Operation::ReadCase, Some("acme")),
            Decision::Allow
        );
        // Every operation on another tenant's data is a 404, even ones the role may not do.
        for op in [
            Operation::ReadCase,
            Operation::EditCase,
            Operation::OverrideGate,
        ] {
            assert_eq!(authorize(&viewer, op, Some("globex")), Decision::NotFound);
        }
        assert_eq!(
            authorize(&viewer, Operation::EditCase, Some("acme")),
            Decision::Forbidden
        );
        let responder = actor(Role::Responder, &["acme"]);
        assert_eq!(
            authorize(&responder, Operation::ReadCase, Some("globex")),
            Decision::NotFound
        );
    }

    #[test]
    fn roles_do_what_they_are_for() {
        let lead = actor(Role::Lead, &[]);
        assert_eq!(
            authorize(&lead, Operation::OverrideGate, Some("acme")),
            Decision::Allow
        );
        assert_eq!(
            authorize(&lead, Operation::ManageUsers, None),
            Decision::Forbidden
        );
        let responder = actor(Role::Responder, &[]);
        assert_eq!(
            authorize(&responder, Operation::OverrideGate, Some("acme")),
            Decision::Forbidden
        );
        assert_eq!(
            authorize(&responder, Operation::EditCase, Some("acme")),
            Decision::Allow
        );
        let authoriser = actor(Role::CustomerAuthoriser, &["acme"]);
        assert_eq!(
            authorize(&authoriser, Operation::ConfirmAction, Some("acme")),
            Decision::Allow
        );
        assert_eq!(
            authorize(&authoriser, Operation::CreateCase, Some("acme")),
            Decision::Forbidden
        );
        let admin = actor(Role::Admin, &[]);
        assert_eq!(
            authorize(&admin, Operation::ManageTenants, None),
            Decision::Allow
        );
        // A customer role without exactly one tenant is refused outright.
        let loose = actor(Role::CustomerViewer, &[]);
        assert_eq!(
            authorize(&loose, Operation::ReadCase, Some("acme")),
            Decision::Forbidden
        );
    }
}
