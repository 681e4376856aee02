//! Users, their API tokens (kept as SHA-256 digests, never in clear) and password logins
//! (the password hash is made and checked by the caller; failures are counted here, in the
//! database, so every server process sees them).

use super::*;
use firewarden_case::model::Role;
use sha2::{Digest, Sha256};

/// A user as the API shows it (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: String,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The tenants they see.
    pub scope: TenantScope,
    /// Whether a password login is set.
    pub has_password: bool,
    /// Created.
    pub created: Timestamp,
}

/// A user just made, with the API token shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    /// The user.
    pub user: User,
    /// Bearer token: keep it, it is not stored and cannot be shown again.
    pub token: String,
}

/// Tokens are 32 random bytes; only their SHA-256 is stored, so a copy of the database opens
/// no account.
pub fn new_token() -> Result<(String, String)> {
    let mut b = [0u8; 32];
    let mut filled = 0;
    while filled < b.len() {
        filled += rustix::rand::getrandom(&mut b[filled..], rustix::rand::GetRandomFlags::empty())
            .map_err(|e| StoreError::Invalid(format!("no randomness for a token: {e}")))?;
    }
    let token = format!("fwt_{}", hex(&b));
    let hash = token_hash(&token);
    Ok((token, hash))
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|x| format!("{x:02x}")).collect()
}

fn user_from(row: &AnyRow) -> Result<User> {
    let scope: String = row.try_get("scope")?;
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: parse_enum(&row.try_get::<String, _>("role")?)?,
        scope: serde_json::from_str(&scope)
            .map_err(|e| StoreError::Invalid(format!("stored scope: {e}")))?,
        has_password: row.try_get::<Option<String>, _>("password")?.is_some(),
        created: Timestamp::parse(&row.try_get::<String, _>("created")?)
            .ok_or_else(|| StoreError::Invalid("stored creation time".into()))?,
    })
}

fn valid_name(name: &str, what: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 200
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(StoreError::Invalid(format!(
            "{what} must be 1 to 200 printable characters without spaces"
        )));
    }
    Ok(name.to_owned())
}

impl Store {
    /// On a database without users, makes the `admin` user (every tenant) and returns a token
    /// for it; `None` when users exist. Two servers starting at once: one wins, the other sees
    /// the user and returns `None`.
    pub async fn bootstrap_admin(&self) -> Result<Option<String>> {
        let any = sqlx::query("SELECT id FROM users LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        if any.is_some() {
            return Ok(None);
        }
        let (token, hash) = new_token()?;
        let id = random_id("U")?;
        let system = Actor {
            user: "firewarden".into(),
            role: Role::Admin,
            scope: TenantScope::All,
        };
        let made = self
            .on_platform(&system, Operation::ManageUsers, "user.bootstrap", move |tx| {
                let (id, hash) = (id.clone(), hash.clone());
                Box::pin(async move {
                    let at = now().to_string();
                    sqlx::query("INSERT INTO users (id, name, role, scope, password, created) VALUES ($1, 'admin', 'admin', $2, NULL, $3)")
                        .bind(id.clone())
                        .bind(serde_json::to_string(&TenantScope::All).unwrap_or_default())
                        .bind(at.clone())
                        .execute(&mut **tx)
                        .await?;
                    sqlx::query("INSERT INTO tokens (hash, user_id, label, created, expires) VALUES ($1, $2, 'bootstrap', $3, NULL)")
                        .bind(hash)
                        .bind(id.clone())
                        .bind(at)
                        .execute(&mut **tx)
                        .await?;
                    Ok(((), id, "admin".to_owned()))
                })
            })
            .await;
        match made {
            Ok(()) => Ok(Some(token)),
            Err(StoreError::Db(sqlx::Error::Database(d))) if d.is_unique_violation() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Adds a user with a role, seeing `tenants` (empty: every tenant, for staff only; a
    /// customer sees exactly one). `password_hash` is a PHC string made by the caller.
    pub async fn add_user(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        tenants: &[String],
        password_hash: Option<String>,
    ) -> Result<NewUser> {
        let name = valid_name(name, "a user name")?;
        if role.is_customer() && tenants.len() != 1 {
            return Err(StoreError::Invalid(
                "a customer account belongs to exactly one tenant (--tenant)".into(),
            ));
        }
        let scope = if tenants.is_empty() {
            TenantScope::All
        } else {
            let mut t = tenants.to_vec();
            t.sort();
            t.dedup();
            TenantScope::Only(t)
        };
        let (token, hash) = new_token()?;
        let user = User {
            id: random_id("U")?,
            name,
            role,
            scope,
            has_password: password_hash.is_some(),
            created: now(),
        };
        let u = user.clone();
        self.on_platform(actor, Operation::ManageUsers, "user.add", move |tx| {
            let (u, hash, password) = (u.clone(), hash.clone(), password_hash.clone());
            Box::pin(async move {
                if let TenantScope::Only(ts) = &u.scope {
                    for t in ts {
                        let found = sqlx::query("SELECT id FROM tenants WHERE id = $1")
                            .bind(t.clone())
                            .fetch_optional(&mut **tx)
                            .await?;
                        if found.is_none() {
                            return Err(StoreError::Invalid(format!("no tenant {t}")));
                        }
                    }
                }
                let taken = sqlx::query("SELECT id FROM users WHERE name = $1")
                    .bind(u.name.clone())
                    .fetch_optional(&mut **tx)
                    .await?;
                if taken.is_some() {
                    return Err(StoreError::Invalid(format!("user {} exists", u.name)));
                }
                let at = u.created.to_string();
                sqlx::query("INSERT INTO users (id, name, role, scope, password, created) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(u.id.clone())
                    .bind(u.name.clone())
                    .bind(enum_text(&u.role))
                    .bind(serde_json::to_string(&u.scope).unwrap_or_default())
                    .bind(password)
                    .bind(at.clone())
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("INSERT INTO tokens (hash, user_id, label, created, expires) VALUES ($1, $2, 'created', $3, NULL)")
                    .bind(hash)
                    .bind(u.id.clone())
                    .bind(at)
                    .execute(&mut **tx)
                    .await?;
                let detail = format!("{} as {}", u.name, enum_text(&u.role));
                Ok(((), u.id.clone(), detail))
            })
        })
        .await?;
        Ok(NewUser { user, token })
    }

    /// Every user (admins only).
    pub async fn users(&self, actor: &Actor) -> Result<Vec<User>> {
        self.on_platform(actor, Operation::ManageUsers, "user.list", |tx| {
            Box::pin(async move {
                let rows = sqlx::query("SELECT * FROM users ORDER BY name")
                    .fetch_all(&mut **tx)
                    .await?;
                let users = rows.iter().map(user_from).collect::<Result<Vec<_>>>()?;
                let n = users.len();
                Ok((users, "*".to_owned(), format!("{n} user(s)")))
            })
        })
        .await
    }

    /// Who a bearer token belongs to; `None` for an unknown or expired token.
    pub async fn actor_for_token(&self, token: &str) -> Result<Option<Actor>> {
        let row = sqlx::query(
            "SELECT users.*, tokens.expires FROM tokens JOIN users ON users.id = tokens.user_id WHERE tokens.hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if let Some(expires) = row.try_get::<Option<String>, _>("expires")?
            && Timestamp::parse(&expires).is_none_or(|t| t <= now())
        {
            return Ok(None);
        }
        let user = user_from(&row)?;
        Ok(Some(Actor {
            user: user.name,
            role: user.role,
            scope: user.scope,
        }))
    }

    /// The stored password hash of a user, for a login.
    pub async fn password_of(&self, name: &str) -> Result<Option<(String, String)>> {
        let row = sqlx::query("SELECT id, password FROM users WHERE name = $1")
            .bind(name.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r
                .try_get::<Option<String>, _>("password")?
                .map(|p| r.try_get::<String, _>("id").map(|id| (id, p)))
                .transpose()?,
            None => None,
        })
    }

    /// Failed logins for a name in the last `window_secs` seconds.
    pub async fn login_failures(&self, name: &str, window_secs: i64) -> Result<i64> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM login_failures WHERE name = $1 AND at > $2")
                .bind(name.to_owned())
                .bind(now().0 - window_secs)
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get("n")?)
    }

    /// Records a failed login (and forgets those older than a day).
    pub async fn record_login_failure(&self, name: &str) -> Result<()> {
        let name = firewarden_model::printable(name, 200);
        sqlx::query("INSERT INTO login_failures (name, at) VALUES ($1, $2)")
            .bind(name)
            .bind(now().0)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(now().0 - 86_400)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A session token for a user who logged in, valid for `ttl_secs`.
    pub async fn issue_session(&self, user_id: &str, ttl_secs: i64) -> Result<String> {
        let (token, hash) = new_token()?;
        let at = now();
        sqlx::query("INSERT INTO tokens (hash, user_id, label, created, expires) VALUES ($1, $2, 'login', $3, $4)")
            .bind(hash)
            .bind(user_id.to_owned())
            .bind(at.to_string())
            .bind(Timestamp(at.0 + ttl_secs).to_string())
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "DELETE FROM login_failures WHERE name IN (SELECT name FROM users WHERE id = $1)",
        )
        .bind(user_id.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// Ends a login session (logging out): the token no longer opens anything.
    pub async fn end_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM tokens WHERE hash = $1 AND label = 'login'")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Changes a tenant's contacts, contract, SLA targets or webhook (admins); what the patch
    /// leaves out stays as it is.
    pub async fn update_tenant(
        &self,
        actor: &Actor,
        id: &str,
        patch: TenantPatch,
    ) -> Result<Tenant> {
        let clean = |v: Option<String>, what: &str| -> Result<Option<String>> {
            match v {
                None => Ok(None),
                Some(t) if t.len() > 4000 || t.chars().any(|c| c.is_control() && c != '\n') => Err(
                    StoreError::Invalid(format!("{what}: at most 4000 printable bytes")),
                ),
                Some(t) => Ok(Some(t.trim().to_owned())),
            }
        };
        let contacts = clean(patch.contacts, "contacts")?;
        let contract = clean(patch.contract, "contract")?;
        let sla = match &patch.sla {
            None => None,
            Some(t) if *t == SlaTargets::default() => Some(String::new()),
            Some(t) => {
                t.validate().map_err(StoreError::Invalid)?;
                Some(serde_json::to_string(t).map_err(|e| StoreError::Invalid(e.to_string()))?)
            }
        };
        let webhook = patch
            .webhook
            .as_deref()
            .map(crate::valid_webhook)
            .transpose()?;
        let policy = patch
            .approval_policy
            .map(|p| serde_json::to_string(&p).map_err(|e| StoreError::Invalid(e.to_string())))
            .transpose()?;
        let tool_policy = patch.tool_policy.map(|p| crate::enum_text(&p));
        let what = [
            ("contacts", contacts.is_some()),
            ("contract", contract.is_some()),
            ("SLA targets", sla.is_some()),
            ("webhook", webhook.is_some()),
            ("approval policy", policy.is_some()),
            ("tool policy", tool_policy.is_some()),
        ]
        .iter()
        .filter(|(_, set)| *set)
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ");
        if what.is_empty() {
            return Err(StoreError::Invalid("nothing to change".into()));
        }
        let id = id.to_owned();
        self.on_platform(actor, Operation::ManageTenants, "tenant.update", move |tx| {
            let (id, contacts, contract) = (id.clone(), contacts.clone(), contract.clone());
            let (sla, webhook, what) = (sla.clone(), webhook.clone(), what.clone());
            let (policy, tool_policy) = (policy.clone(), tool_policy.clone());
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE tenants SET contacts = COALESCE($1, contacts), contract = COALESCE($2, contract), \
                     sla = COALESCE($3, sla), webhook = COALESCE($4, webhook), \
                     approval_policy = COALESCE($5, approval_policy), \
                     tool_policy = COALESCE($6, tool_policy) WHERE id = $7",
                )
                .bind(contacts)
                .bind(contract)
                .bind(sla)
                .bind(webhook)
                .bind(policy)
                .bind(tool_policy)
                .bind(id.clone())
                .execute(&mut **tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                let row = sqlx::query("SELECT * FROM tenants WHERE id = $1")
                    .bind(id.clone())
                    .fetch_one(&mut **tx)
                    .await?;
                Ok((tenant_from(&row)?, id, what))
            })
        })
        .await
    }

    /// The tenants the actor sees (everyone may list; the rows are the actor's tenants).
    pub async fn tenants(&self, actor: &Actor) -> Result<Vec<Tenant>> {
        let actor = actor.clone();
        self.read_audited(move |tx| {
            Box::pin(async move {
                let rows = sqlx::query("SELECT * FROM tenants ORDER BY name")
                    .fetch_all(&mut *tx)
                    .await?;
                let mut out = Vec::new();
                for row in &rows {
                    let t = tenant_from(row)?;
                    if actor.scope.sees(&t.id) {
                        out.push(t);
                    }
                }
                let detail = format!("{} tenant(s)", out.len());
                Ok((out, record(&actor.user, "tenant.list", "*", None, &detail)))
            })
        })
        .await
    }
}

pub(crate) fn tenant_from(row: &AnyRow) -> Result<Tenant> {
    Ok(Tenant {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        contacts: row.try_get("contacts")?,
        contract: row.try_get("contract")?,
        sla: match row.try_get::<String, _>("sla")?.as_str() {
            "" => None,
            json => Some(
                serde_json::from_str(json)
                    .map_err(|e| StoreError::Invalid(format!("stored SLA targets: {e}")))?,
            ),
        },
        webhook: row.try_get("webhook")?,
        approval_policy: match row.try_get::<String, _>("approval_policy")?.as_str() {
            "" => Default::default(),
            json => serde_json::from_str(json)
                .map_err(|e| StoreError::Invalid(format!("stored approval policy: {e}")))?,
        },
        tool_policy: match row.try_get::<String, _>("tool_policy")?.as_str() {
            "" => Default::default(),
            text => crate::parse_enum(text)?,
        },
    })
}
