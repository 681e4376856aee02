//! The case platform's storage. One code path and one set of migrations for SQLite (embedded,
//! the default: `sqlite:DIR/cases.db`) and PostgreSQL (`postgres://…`, for teams and several
//! server processes): portable SQL through sqlx's `Any` driver. Every operation takes the
//! acting user and asks [`firewarden_case::access::authorize`] first, so no caller can forget
//! the tenant check; every read and change of case data appends to the hash-chained audit log
//! in the same transaction.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod migrations;

use firewarden_case::access::{Actor, Decision, Operation, authorize};
use firewarden_case::audit::{self, AuditRecord, NewRecord};
use firewarden_case::model::{IncidentKind, TenantScope};
use firewarden_case::stage::Stage;
use firewarden_model::{Severity, Timestamp, TriageReport};
use serde::{Deserialize, Serialize};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

/// Why a storage operation failed; each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Not there, or not visible to the actor (another tenant's): 404.
    #[error("not found")]
    NotFound,
    /// Visible, but the actor's role may not do this: 403.
    #[error("not allowed for this role")]
    Forbidden,
    /// Changed by someone else since it was read: 409, with the version now stored.
    #[error("changed by someone else (now at version {0})")]
    Conflict(i64),
    /// The request itself is wrong: 400.
    #[error("{0}")]
    Invalid(String),
    /// The database failed: 500.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

type Result<T> = std::result::Result<T, StoreError>;

/// A customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Id.
    pub id: String,
    /// The customer.
    pub tenant: String,
    /// Title.
    pub title: String,
    /// Incident kind.
    pub kind: IncidentKind,
    /// Severity.
    pub severity: Severity,
    /// Current stage.
    pub stage: Stage,
    /// Version for optimistic concurrency: every change increments it.
    pub version: i64,
    /// Created.
    pub created: Timestamp,
}

/// What an import added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Findings new to the case for that asset.
    pub new_findings: usize,
    /// Findings the case already had for that asset (same finding id).
    pub known_findings: usize,
}

/// The store: a pool on one database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    sqlite: bool,
}

/// A fresh id: 64 bits from the kernel's random source, so ids made by several server
/// processes at the same instant never collide and say nothing about each other.
fn random_id(prefix: &str) -> Result<String> {
    let mut b = [0u8; 8];
    let mut filled = 0;
    while filled < b.len() {
        filled += rustix::rand::getrandom(&mut b[filled..], rustix::rand::GetRandomFlags::empty())
            .map_err(|e| StoreError::Invalid(format!("no randomness for an id: {e}")))?;
    }
    Ok(format!(
        "{prefix}{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    ))
}

/// The case with this id, whoever asks (the caller decides who may see it).
async fn fetch_case<'e, E>(executor: E, id: &str) -> Result<Case>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT * FROM cases WHERE id = $1")
        .bind(id.to_owned())
        .fetch_optional(executor)
        .await?
        .ok_or(StoreError::NotFound)?;
    case_from(&row)
}

fn now() -> Timestamp {
    Timestamp::now()
}

fn parse_enum<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| StoreError::Invalid(format!("stored value `{text}`: {e}")))
}

fn enum_text<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn require(actor: &Actor, op: Operation, tenant: Option<&str>) -> Result<()> {
    match authorize(actor, op, tenant) {
        Decision::Allow => Ok(()),
        Decision::NotFound => Err(StoreError::NotFound),
        Decision::Forbidden => Err(StoreError::Forbidden),
    }
}

fn case_from(row: &AnyRow) -> Result<Case> {
    Ok(Case {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant_id")?,
        title: row.try_get("title")?,
        kind: parse_enum(&row.try_get::<String, _>("kind")?)?,
        severity: row
            .try_get::<String, _>("severity")?
            .parse()
            .map_err(|e: String| StoreError::Invalid(e))?,
        stage: parse_enum(&row.try_get::<String, _>("stage")?)?,
        version: row.try_get("version")?,
        created: Timestamp::parse(&row.try_get::<String, _>("created")?)
            .ok_or_else(|| StoreError::Invalid("stored creation time".into()))?,
    })
}

impl Store {
    /// Opens (and creates, for SQLite) the database at `url` and brings its schema up to date.
    /// `sqlite:PATH` or `postgres://user@host:port/db`.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let url = if sqlite && !url.contains('?') {
            format!("{url}?mode=rwc")
        } else {
            url.to_owned()
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // WAL: readers never wait for the writer; writers wait for each other
                        // rather than failing.
                        sqlx::query("PRAGMA journal_mode=WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout=10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys=ON")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        migrations::run(&pool).await?;
        Ok(Store { pool, sqlite })
    }

    /// Appends an audit record inside `tx`, after the last one.
    async fn audit(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        record: NewRecord,
    ) -> Result<AuditRecord> {
        let last = sqlx::query(
            "SELECT seq, at, actor, action, target, tenant, detail, prev, hash FROM audit ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| audit_from(&row))
        .transpose()?;
        let r = audit::append(last.as_ref(), record);
        sqlx::query(
            "INSERT INTO audit (seq, at, actor, action, target, tenant, detail, prev, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(r.seq as i64)
        .bind(r.at.to_string())
        .bind(r.actor.clone())
        .bind(r.action.clone())
        .bind(r.target.clone())
        .bind(r.tenant.clone())
        .bind(r.detail.clone())
        .bind(r.prev.clone())
        .bind(r.hash.clone())
        .execute(&mut **tx)
        .await?;
        Ok(r)
    }

    /// Runs `work` in a transaction, retrying when another writer took the same audit number
    /// first (several servers on one database).
    async fn with_audit<T, F>(&self, work: F) -> Result<T>
    where
        F: for<'t> Fn(
            &'t mut sqlx::Transaction<'static, sqlx::Any>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<T>> + Send + 't>,
        >,
    {
        let mut attempt = 0;
        loop {
            // The audit chain is one sequence: audited transactions take their turn. SQLite:
            // a write lock from the start (a deferred one cannot be upgraded under contention);
            // PostgreSQL: a transaction-scoped advisory lock, shared by every server process.
            let mut tx = if self.sqlite {
                self.pool.begin_with("BEGIN IMMEDIATE").await?
            } else {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(7346)")
                    .execute(&mut *tx)
                    .await?;
                tx
            };
            match work(&mut tx).await {
                Ok(v) => match tx.commit().await {
                    Ok(()) => return Ok(v),
                    Err(e) if attempt < 8 && retryable(&e) => {}
                    Err(e) => return Err(e.into()),
                },
                Err(StoreError::Db(e)) if attempt < 8 && retryable(&e) => {
                    let _ = tx.rollback().await;
                }
                Err(e) => {
                    let _ = tx.rollback().await;
                    return Err(e);
                }
            }
            attempt += 1;
            tokio::time::sleep(std::time::Duration::from_millis(5 << attempt.min(6))).await;
        }
    }

    /// Adds a customer.
    pub async fn add_tenant(&self, actor: &Actor, name: &str) -> Result<Tenant> {
        require(actor, Operation::ManageTenants, None)?;
        let name = name.trim().to_owned();
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "a tenant needs a printable name of 1 to 200 characters".into(),
            ));
        }
        let tenant = Tenant {
            id: random_id("T")?,
            name,
        };
        let (t, who) = (tenant.clone(), actor.user.clone());
        self.with_audit(move |tx| {
            let (t, who) = (t.clone(), who.clone());
            Box::pin(async move {
                sqlx::query("INSERT INTO tenants (id, name, created) VALUES ($1, $2, $3)")
                    .bind(t.id.clone())
                    .bind(t.name.clone())
                    .bind(now().to_string())
                    .execute(&mut **tx)
                    .await?;
                Store::audit(tx, record(&who, "tenant.add", &t.id, Some(&t.id), &t.name)).await?;
                Ok(())
            })
        })
        .await?;
        Ok(tenant)
    }

    /// Opens a case for a tenant; it starts in preparation.
    pub async fn create_case(
        &self,
        actor: &Actor,
        tenant: &str,
        title: &str,
        kind: IncidentKind,
        severity: Severity,
    ) -> Result<Case> {
        require(actor, Operation::CreateCase, Some(tenant))?;
        let title = title.trim();
        if title.is_empty() || title.len() > 500 {
            return Err(StoreError::Invalid(
                "a case needs a title of 1 to 500 characters".into(),
            ));
        }
        let case = Case {
            id: random_id("C")?,
            tenant: tenant.to_owned(),
            title: title.to_owned(),
            kind,
            severity,
            stage: Stage::Preparation,
            version: 1,
            created: now(),
        };
        let (c, who) = (case.clone(), actor.user.clone());
        self.with_audit(move |tx| {
            let (c, who) = (c.clone(), who.clone());
            Box::pin(async move {
                let exists = sqlx::query("SELECT id FROM tenants WHERE id = $1")
                    .bind(c.tenant.clone())
                    .fetch_optional(&mut **tx)
                    .await?;
                if exists.is_none() {
                    return Err(StoreError::NotFound);
                }
                sqlx::query(
                    "INSERT INTO cases (id, tenant_id, title, kind, severity, stage, status, version, created, updated) VALUES ($1, $2, $3, $4, $5, $6, 'open', 1, $7, $7)",
                )
                .bind(c.id.clone())
                .bind(c.tenant.clone())
                .bind(c.title.clone())
                .bind(c.kind.as_str().to_owned())
                .bind(c.severity.as_str().to_owned())
                .bind(enum_text(&c.stage))
                .bind(c.created.to_string())
                .execute(&mut **tx)
                .await?;
                Store::audit(tx, record(&who, "case.create", &c.id, Some(&c.tenant), &c.title)).await?;
                Ok(())
            })
        })
        .await?;
        Ok(case)
    }

    /// One case, if the actor may see it (another tenant's case is [`StoreError::NotFound`],
    /// exactly like a case that does not exist). The read is audited.
    pub async fn case(&self, actor: &Actor, id: &str) -> Result<Case> {
        let (id, who, actor) = (id.to_owned(), actor.user.clone(), actor.clone());
        self.with_audit(move |tx| {
            let (id, who, actor) = (id.clone(), who.clone(), actor.clone());
            Box::pin(async move {
                let case = fetch_case(&mut **tx, &id).await?;
                require(&actor, Operation::ReadCase, Some(&case.tenant))?;
                Store::audit(
                    tx,
                    record(&who, "case.read", &case.id, Some(&case.tenant), ""),
                )
                .await?;
                Ok(case)
            })
        })
        .await
    }

    /// A case the actor may act on with `op`, looked up without an audit record: for
    /// operations that audit what they do rather than the lookup.
    async fn visible_case(&self, actor: &Actor, id: &str, op: Operation) -> Result<Case> {
        let case = fetch_case(&self.pool, id).await?;
        require(actor, op, Some(&case.tenant))?;
        Ok(case)
    }

    /// The cases the actor sees, newest first. Only the actor's tenants are read (each row is
    /// still authorised); the listing is audited.
    pub async fn cases(&self, actor: &Actor) -> Result<Vec<Case>> {
        let actor = actor.clone();
        self.with_audit(move |tx| {
            let actor = actor.clone();
            Box::pin(async move {
                let rows = match &actor.scope {
                    TenantScope::All => {
                        sqlx::query("SELECT * FROM cases ORDER BY created DESC, id")
                            .fetch_all(&mut **tx)
                            .await?
                    }
                    TenantScope::Only(tenants) if tenants.is_empty() => Vec::new(),
                    TenantScope::Only(tenants) => {
                        // Placeholders only: the tenant ids are bound, never spliced in.
                        let marks: Vec<String> =
                            (1..=tenants.len()).map(|i| format!("${i}")).collect();
                        let sql = format!(
                            "SELECT * FROM cases WHERE tenant_id IN ({}) ORDER BY created DESC, id",
                            marks.join(", ")
                        );
                        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for t in tenants {
                            q = q.bind(t.clone());
                        }
                        q.fetch_all(&mut **tx).await?
                    }
                };
                let mut out = Vec::new();
                for row in &rows {
                    let case = case_from(row)?;
                    if authorize(&actor, Operation::ReadCase, Some(&case.tenant)) == Decision::Allow
                    {
                        out.push(case);
                    }
                }
                Store::audit(
                    tx,
                    record(
                        &actor.user,
                        "case.list",
                        "*",
                        None,
                        &format!("{} case(s)", out.len()),
                    ),
                )
                .await?;
                Ok(out)
            })
        })
        .await
    }

    /// Renames a case read at `version`; [`StoreError::Conflict`] when someone changed it
    /// since (never a lost update).
    pub async fn retitle(
        &self,
        actor: &Actor,
        id: &str,
        version: i64,
        title: &str,
    ) -> Result<Case> {
        let current = self.visible_case(actor, id, Operation::EditCase).await?;
        let (id, who, title, tenant) = (
            id.to_owned(),
            actor.user.clone(),
            title.trim().to_owned(),
            current.tenant.clone(),
        );
        if title.is_empty() || title.len() > 500 {
            return Err(StoreError::Invalid(
                "a case needs a title of 1 to 500 characters".into(),
            ));
        }
        self.with_audit(move |tx| {
            let (id, who, title, tenant) = (id.clone(), who.clone(), title.clone(), tenant.clone());
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE cases SET title = $1, version = version + 1, updated = $2 WHERE id = $3 AND version = $4",
                )
                .bind(title.clone())
                .bind(now().to_string())
                .bind(id.clone())
                .bind(version)
                .execute(&mut **tx)
                .await?;
                if done.rows_affected() == 0 {
                    let now_at: i64 = sqlx::query("SELECT version FROM cases WHERE id = $1")
                        .bind(id.clone())
                        .fetch_one(&mut **tx)
                        .await?
                        .try_get("version")?;
                    return Err(StoreError::Conflict(now_at));
                }
                Store::audit(tx, record(&who, "case.retitle", &id, Some(&tenant), &title)).await?;
                fetch_case(&mut **tx, &id).await
            })
        })
        .await
    }

    /// Imports a triage (or scan) result's findings for one asset, in one transaction: a
    /// finding the case already has for that asset (same finding id) is not added twice.
    pub async fn import_triage(
        &self,
        actor: &Actor,
        case_id: &str,
        asset: &str,
        report: &TriageReport,
    ) -> Result<ImportSummary> {
        let case = self
            .visible_case(actor, case_id, Operation::EditCase)
            .await?;
        let asset = asset.trim().to_owned();
        if asset.is_empty() || asset.len() > 255 || asset.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "an asset needs a printable name of 1 to 255 characters".into(),
            ));
        }
        let rows: Vec<(String, String, String, String, String)> = report
            .findings
            .iter()
            .map(|f| {
                Ok((
                    f.id.clone(),
                    f.check.clone(),
                    f.severity.as_str().to_owned(),
                    f.title.clone(),
                    serde_json::to_string(f).map_err(|e| StoreError::Invalid(e.to_string()))?,
                ))
            })
            .collect::<Result<_>>()?;
        let (who, tenant, case_id) = (actor.user.clone(), case.tenant.clone(), case.id.clone());
        self.with_audit(move |tx| {
            let (rows, who, tenant, case_id, asset) =
                (rows.clone(), who.clone(), tenant.clone(), case_id.clone(), asset.clone());
            Box::pin(async move {
                let mut summary = ImportSummary { new_findings: 0, known_findings: 0 };
                let at = now().to_string();
                for (id, check, severity, title, body) in rows {
                    let done = sqlx::query(
                        "INSERT INTO findings (case_id, asset, finding_id, check_id, severity, title, body, first_import) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (case_id, asset, finding_id) DO NOTHING",
                    )
                    .bind(case_id.clone())
                    .bind(asset.clone())
                    .bind(id)
                    .bind(check)
                    .bind(severity)
                    .bind(title)
                    .bind(body)
                    .bind(at.clone())
                    .execute(&mut **tx)
                    .await?;
                    if done.rows_affected() == 1 {
                        summary.new_findings += 1;
                    } else {
                        summary.known_findings += 1;
                    }
                }
                Store::audit(
                    tx,
                    record(
                        &who,
                        "case.import",
                        &case_id,
                        Some(&tenant),
                        &format!("{asset}: {} new, {} known", summary.new_findings, summary.known_findings),
                    ),
                )
                .await?;
                Ok(summary)
            })
        })
        .await
    }

    /// The findings a case holds for an asset, by finding id. The read is audited.
    pub async fn finding_ids(
        &self,
        actor: &Actor,
        case_id: &str,
        asset: &str,
    ) -> Result<Vec<String>> {
        let case = self
            .visible_case(actor, case_id, Operation::ReadCase)
            .await?;
        let (who, asset) = (actor.user.clone(), asset.to_owned());
        self.with_audit(move |tx| {
            let (case, who, asset) = (case.clone(), who.clone(), asset.clone());
            Box::pin(async move {
                let rows = sqlx::query(
                    "SELECT finding_id FROM findings WHERE case_id = $1 AND asset = $2 ORDER BY finding_id",
                )
                .bind(case.id.clone())
                .bind(asset.clone())
                .fetch_all(&mut **tx)
                .await?;
                let ids = rows
                    .iter()
                    .map(|r| r.try_get::<String, _>("finding_id").map_err(StoreError::from))
                    .collect::<Result<Vec<_>>>()?;
                Store::audit(
                    tx,
                    record(&who, "case.findings", &case.id, Some(&case.tenant), &asset),
                )
                .await?;
                Ok(ids)
            })
        })
        .await
    }

    /// Checks the whole audit log's chain.
    pub async fn verify_audit(&self) -> Result<std::result::Result<usize, audit::Break>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, target, tenant, detail, prev, hash FROM audit ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let records = rows.iter().map(audit_from).collect::<Result<Vec<_>>>()?;
        Ok(audit::verify(&records).map(|()| records.len()))
    }

    /// The pool, for tests and maintenance.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

fn record(
    actor: &str,
    action: &str,
    target: &str,
    tenant: Option<&str>,
    detail: &str,
) -> NewRecord {
    NewRecord {
        at: now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        tenant: tenant.map(str::to_owned),
        detail: firewarden_model::printable(detail, 500),
    }
}

fn audit_from(row: &AnyRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: row.try_get::<i64, _>("seq")? as u64,
        at: Timestamp::parse(&row.try_get::<String, _>("at")?)
            .ok_or_else(|| StoreError::Invalid("stored audit time".into()))?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        tenant: row.try_get("tenant")?,
        detail: row.try_get("detail")?,
        prev: row.try_get("prev")?,
        hash: row.try_get("hash")?,
    })
}

/// A unique violation (another writer took the audit number) or a busy database.
fn retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation()
                || d.message().contains("database is locked")
                || d.code().as_deref() == Some("40001")
        }
        _ => false,
    }
}
