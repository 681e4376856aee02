//! The case platform's storage. One code path and one set of migrations for SQLite (embedded,
//! the default: `sqlite:DIR/cases.db`) and PostgreSQL (`postgres://…`, for teams and several
//! server processes): portable SQL through sqlx's `Any` driver. Every operation takes the
//! acting user and asks [`firewarden_case::access::authorize`] first, so no caller can forget
//! the tenant check; every read and change of case data appends to the hash-chained audit log
//! in the same transaction.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod approvals;
mod auditsink;
mod casework;
mod custody;
mod linkage;
mod loss;
mod migrations;
mod report;
mod sla;
#[cfg(feature = "testing")]
pub mod testdb;
mod tools;
mod users;

pub use approvals::*;
pub use casework::*;
pub use custody::*;
pub use linkage::*;
pub use loss::*;
pub use report::*;
pub use sla::*;
pub use tools::*;
pub use users::*;

use firewarden_case::access::{Actor, Decision, Operation, authorize};
use firewarden_case::audit::{self, AuditRecord, NewRecord};
use firewarden_case::model::{CaseStatus, IncidentKind, TenantScope, Tlp};
use firewarden_case::sla::SlaTargets;
use firewarden_case::stage::Stage;
use firewarden_model::{Severity, Timestamp, TriageReport};
use serde::{Deserialize, Serialize};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::sync::Arc;

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
    /// Already settled (an approval request decided or expired): 409.
    #[error("{0}")]
    Settled(String),
    /// The request itself is wrong: 400.
    #[error("{0}")]
    Invalid(String),
    /// A stage gate refused the move (unmet criteria, or an override not allowed): 409/403.
    #[error("{0}")]
    Gate(firewarden_case::stage::GateError),
    /// The database failed: 500.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

type Result<T> = std::result::Result<T, StoreError>;

/// A transaction on either database.
pub(crate) type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// A connection on either database (what work on a case runs on: a transaction's for
/// changes, a plain one for reads).
pub(crate) type Conn = sqlx::AnyConnection;

/// The future a unit of transactional work returns.
pub(crate) type Fut<'t, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 't>>;

/// A customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Who to call, for the SLA clock and the customer's confirmations.
    #[serde(default)]
    pub contacts: String,
    /// The contract or retainer the work is done under.
    #[serde(default)]
    pub contract: String,
    /// The SLA targets the contract sets; `None`: none promised, no clocks run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<SlaTargets>,
    /// Where SLA warnings and breaches are posted (`https://…`); empty: nowhere.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webhook: String,
    /// Who must agree to an action, per risk tier.
    #[serde(default)]
    pub approval_policy: firewarden_case::approval::ApprovalPolicy,
    /// Whether imports from a tool short of validated are flagged or refused.
    #[serde(default)]
    pub tool_policy: firewarden_case::tools::ToolPolicy,
}

/// A change to a tenant; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    /// Who to call.
    #[serde(default)]
    pub contacts: Option<String>,
    /// The contract or retainer.
    #[serde(default)]
    pub contract: Option<String>,
    /// SLA targets in minutes; `{}` removes them (no clocks run).
    #[serde(default)]
    pub sla: Option<SlaTargets>,
    /// Where SLA alerts are posted; `""` removes it.
    #[serde(default)]
    pub webhook: Option<String>,
    /// Who must agree to an action, per risk tier.
    #[serde(default)]
    pub approval_policy: Option<firewarden_case::approval::ApprovalPolicy>,
    /// Imports from tools short of validated: `flag` or `refuse`.
    #[serde(default)]
    pub tool_policy: Option<firewarden_case::tools::ToolPolicy>,
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
    /// Open, or closed once the summary stage is left.
    pub status: CaseStatus,
    /// Who the case's information may be shared with.
    pub tlp: Tlp,
    /// What the customer's team may do with it (PAP, same levels).
    pub pap: Tlp,
    /// The recorded hypothesis of how the attacker got in.
    pub entry_point: Option<String>,
    /// The customer's authority for the engagement (who authorised it, scope, legal basis).
    pub authority: Option<String>,
    /// Version for optimistic concurrency: every change increments it.
    pub version: i64,
    /// When the server first recorded an SLA breach on the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_breached: Option<Timestamp>,
    /// Created.
    pub created: Timestamp,
    /// The responder who leads it (its creator until someone else takes it).
    #[serde(default)]
    pub owner: String,
}

/// Which cases to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// Only this tenant's.
    pub tenant: Option<String>,
    /// Only open or closed ones.
    pub status: Option<CaseStatus>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
    /// Skip this many (slow for deep pages: prefer `before`).
    pub offset: Option<u32>,
    /// The page after this case, as `CREATED|ID` of the last case of the page before (its
    /// `created` and `id`): as fast for the last page as for the first.
    pub before: Option<String>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only cases in this stage.
    pub stage: Option<Stage>,
    /// Only cases whose title or id contains this text (case-insensitive for ASCII).
    pub q: Option<String>,
}

/// A change to a case's own fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasePatch {
    /// New title.
    pub title: Option<String>,
    /// New severity.
    pub severity: Option<Severity>,
    /// New TLP.
    pub tlp: Option<Tlp>,
    /// New owner (a user name).
    #[serde(default)]
    pub owner: Option<String>,
    /// New PAP.
    pub pap: Option<Tlp>,
    /// The entry-point hypothesis.
    pub entry_point: Option<String>,
    /// The customer's authority for the engagement.
    pub authority: Option<String>,
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
    /// Where reads' audit records go (group commit); `None` inside the writer itself.
    reads: Option<auditsink::AuditSink>,
    /// The platform secret the IOC sightings index is keyed with; `None`: no index kept.
    linkage: Option<Arc<Vec<u8>>>,
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

/// Refuses anyone but a platform admin.
pub fn require_admin(actor: &Actor) -> Result<()> {
    require(actor, Operation::ReadAudit, None)
}

/// Refuses an actor who may not perform the platform-wide `op` (before work that comes
/// before the store's own check, such as verifying a signature).
pub fn require_platform(actor: &Actor, op: Operation) -> Result<()> {
    require(actor, op, None)
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
        status: parse_enum(&row.try_get::<String, _>("status")?)?,
        tlp: parse_enum(&row.try_get::<String, _>("tlp")?)?,
        pap: parse_enum(&row.try_get::<String, _>("pap")?)?,
        entry_point: row.try_get("entry_point")?,
        authority: row.try_get("authority")?,
        version: row.try_get("version")?,
        created: Timestamp::parse(&row.try_get::<String, _>("created")?)
            .ok_or_else(|| StoreError::Invalid("stored creation time".into()))?,
        sla_breached: row
            .try_get::<Option<String>, _>("sla_breached")?
            .and_then(|t| Timestamp::parse(&t)),
        owner: row.try_get("owner")?,
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
        // Migrations run on a connection of their own, closed before the pool opens: a
        // connection that loaded the schema before a migration altered a table would compile
        // `SELECT *` against the old columns.
        let migrator = Store::connect(&url, sqlite, 1).await?;
        migrations::run(&migrator).await?;
        migrator.close().await;
        let pool = Store::connect(&url, sqlite, if sqlite { 8 } else { 16 }).await?;
        let mut store = Store {
            pool,
            sqlite,
            reads: None,
            linkage: None,
        };
        store.reads = Some(auditsink::AuditSink::start(store.clone()));
        Ok(store)
    }

    /// The store keeping the cross-customer IOC sightings index, keyed with `secret` (the same
    /// on every server of the database).
    pub fn with_linkage_secret(mut self, secret: Vec<u8>) -> Store {
        self.linkage = Some(Arc::new(secret));
        self
    }

    async fn connect(
        url: &str,
        sqlite: bool,
        size: u32,
    ) -> std::result::Result<AnyPool, sqlx::Error> {
        AnyPoolOptions::new()
            .max_connections(size)
            // No ping before each use: it is a round trip per request (to PostgreSQL, or to
            // SQLite's connection thread). A connection that died fails its query, which the
            // pool then closes; the request answers 500 and the next one gets a fresh one.
            .test_before_acquire(false)
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
            .connect(url)
            .await
    }

    /// Appends an audit record inside `tx`, after the last one.
    async fn audit(tx: &mut Tx, record: NewRecord) -> Result<()> {
        Store::audit_all(tx, std::slice::from_ref(&record)).await
    }

    /// Appends several records inside `tx`, in order: the chain's head is read once.
    async fn audit_all(tx: &mut Tx, records: &[NewRecord]) -> Result<()> {
        let mut last = sqlx::query(
            "SELECT seq, at, actor, action, target, tenant, detail, prev, hash FROM audit ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| audit_from(&row))
        .transpose()?;
        let mut chained = Vec::with_capacity(records.len());
        for r in records {
            let r = audit::append(last.as_ref(), r.clone());
            last = Some(r.clone());
            chained.push(r);
        }
        // One statement per batch: the records are chained above, in order.
        for chunk in chained.chunks(casework::batch(9)) {
            let sql = format!(
                "INSERT INTO audit (seq, at, actor, action, target, tenant, detail, prev, hash) VALUES {}",
                casework::values(tx, chunk.len(), 9)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.seq as i64)
                    .bind(r.at.to_string())
                    .bind(r.actor.clone())
                    .bind(r.action.clone())
                    .bind(r.target.clone())
                    .bind(r.tenant.clone())
                    .bind(r.detail.clone())
                    .bind(r.prev.clone())
                    .bind(r.hash.clone());
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Runs `work` on a connection of the pool, without a transaction or a lock, then has the
    /// audit record it returns committed (by group commit) before the result is released.
    pub(crate) async fn read_audited<T, F>(&self, work: F) -> Result<T>
    where
        F: for<'t> FnOnce(&'t mut Conn) -> Fut<'t, (T, NewRecord)>,
    {
        let mut conn = self.pool.acquire().await?;
        let (out, record) = work(&mut conn).await?;
        drop(conn);
        match &self.reads {
            Some(sink) => sink.record(record).await?,
            None => {
                let r = Arc::new(record);
                self.with_audit(move |tx| {
                    let r = Arc::clone(&r);
                    Box::pin(async move { Store::audit(tx, (*r).clone()).await })
                })
                .await?
            }
        }
        Ok(out)
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

    /// Runs `work` on a case the actor may act on with `op`, in one audited transaction: the
    /// case is read, authorised (another tenant's is [`StoreError::NotFound`]), worked on,
    /// and `action` is appended to the audit log with the detail `work` returns.
    pub(crate) async fn on_case<T, F>(
        &self,
        actor: &Actor,
        case_id: &str,
        op: Operation,
        action: &'static str,
        work: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> Fn(&'t mut Conn, Case) -> Fut<'t, (T, String)> + Send + Sync + 'static,
    {
        let (actor, case_id, work) = (actor.clone(), case_id.to_owned(), Arc::new(work));
        if op == Operation::ReadCase {
            return self
                .read_audited(move |conn| {
                    Box::pin(async move {
                        let case = fetch_case(&mut *conn, &case_id).await?;
                        require(&actor, op, Some(&case.tenant))?;
                        let (id, tenant) = (case.id.clone(), case.tenant.clone());
                        let (out, detail) = work(conn, case).await?;
                        Ok((
                            out,
                            record(&actor.user, action, &id, Some(&tenant), &detail),
                        ))
                    })
                })
                .await;
        }
        self.with_audit(move |tx| {
            let (actor, case_id, work) = (actor.clone(), case_id.clone(), Arc::clone(&work));
            Box::pin(async move {
                let case = fetch_case(&mut **tx, &case_id).await?;
                require(&actor, op, Some(&case.tenant))?;
                let (id, tenant) = (case.id.clone(), case.tenant.clone());
                let (out, detail) = work(tx, case).await?;
                Store::audit(tx, record(&actor.user, action, &id, Some(&tenant), &detail)).await?;
                Ok(out)
            })
        })
        .await
    }

    /// Runs `work` for a platform-wide operation (tenants, users) in one audited transaction.
    pub(crate) async fn on_platform<T, F>(
        &self,
        actor: &Actor,
        op: Operation,
        action: &'static str,
        work: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> Fn(&'t mut Tx) -> Fut<'t, (T, String, String)> + Send + Sync + 'static,
    {
        require(actor, op, None)?;
        let (who, work) = (actor.user.clone(), Arc::new(work));
        self.with_audit(move |tx| {
            let (who, work) = (who.clone(), Arc::clone(&work));
            Box::pin(async move {
                let (out, target, detail) = work(tx).await?;
                Store::audit(tx, record(&who, action, &target, None, &detail)).await?;
                Ok(out)
            })
        })
        .await
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
            contacts: String::new(),
            contract: String::new(),
            sla: None,
            webhook: String::new(),
            approval_policy: Default::default(),
            tool_policy: Default::default(),
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
            status: CaseStatus::Open,
            tlp: Tlp::Amber,
            pap: Tlp::Amber,
            entry_point: None,
            authority: None,
            version: 1,
            created: now(),
            sla_breached: None,
            owner: actor.user.clone(),
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
                    "INSERT INTO cases (id, tenant_id, title, kind, severity, stage, status, version, created, updated, owner) VALUES ($1, $2, $3, $4, $5, $6, 'open', 1, $7, $7, $8)",
                )
                .bind(c.id.clone())
                .bind(c.tenant.clone())
                .bind(c.title.clone())
                .bind(c.kind.as_str().to_owned())
                .bind(c.severity.as_str().to_owned())
                .bind(enum_text(&c.stage))
                .bind(c.created.to_string())
                .bind(c.owner.clone())
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
        self.on_case(actor, id, Operation::ReadCase, "case.read", |_, case| {
            Box::pin(async move { Ok((case, String::new())) })
        })
        .await
    }

    /// The cases the actor sees, newest first, a page at a time. Only the actor's tenants are
    /// read (each row is still authorised); the listing is audited.
    pub async fn cases(&self, actor: &Actor) -> Result<Vec<Case>> {
        self.cases_page(actor, &CaseQuery::default()).await
    }

    /// One page of [`Store::cases`].
    pub async fn cases_page(&self, actor: &Actor, query: &CaseQuery) -> Result<Vec<Case>> {
        let (actor, query) = (actor.clone(), query.clone());
        self.read_audited(move |tx| {
            Box::pin(async move {
                let limit = i64::from(query.limit.unwrap_or(100).clamp(1, 1000));
                let offset = i64::from(query.offset.unwrap_or(0));
                let mut clauses: Vec<String> = Vec::new();
                let mut binds: Vec<String> = Vec::new();
                match tenant_condition(&actor, "tenant_id", &mut binds) {
                    None => {
                        return Ok((
                            Vec::new(),
                            record(&actor.user, "case.list", "*", None, "0 case(s)"),
                        ));
                    }
                    Some(c) => clauses.push(c),
                }
                if let Some(t) = &query.tenant {
                    binds.push(t.clone());
                    clauses.push(format!("tenant_id = ${}", binds.len()));
                }
                if let Some(cursor) = &query.before {
                    let (created, id) = cursor.split_once('|').ok_or_else(|| {
                        StoreError::Invalid("`before` is CREATED|ID of the last case seen".into())
                    })?;
                    binds.push(created.to_owned());
                    let c = binds.len();
                    binds.push(id.to_owned());
                    clauses.push(format!("(created, id) < (${c}, ${})", c + 1));
                }
                if let Some(st) = &query.status {
                    binds.push(enum_text(st));
                    clauses.push(format!("status = ${}", binds.len()));
                }
                if let Some(sev) = &query.severity {
                    binds.push(sev.as_str().to_owned());
                    clauses.push(format!("severity = ${}", binds.len()));
                }
                if let Some(stage) = &query.stage {
                    binds.push(enum_text(stage));
                    clauses.push(format!("stage = ${}", binds.len()));
                }
                if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                    if text.len() > 200 {
                        return Err(StoreError::Invalid("a search of at most 200 bytes".into()));
                    }
                    // LIKE's own wildcards in the text are matched as themselves.
                    let escaped = text
                        .to_lowercase()
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    binds.push(format!("%{escaped}%"));
                    let n = binds.len();
                    clauses.push(format!(
                        "(LOWER(title) LIKE ${n} ESCAPE '\\' OR LOWER(id) LIKE ${n} ESCAPE '\\')"
                    ));
                }
                let filter = if clauses.is_empty() {
                    String::new()
                } else {
                    format!("WHERE {}", clauses.join(" AND "))
                };
                let sql = format!(
                    "SELECT * FROM cases {filter} ORDER BY created DESC, id DESC LIMIT ${} OFFSET ${}",
                    binds.len() + 1,
                    binds.len() + 2
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for b in binds {
                    q = q.bind(b);
                }
                let rows = q.bind(limit).bind(offset).fetch_all(&mut *tx).await?;
                let mut out = Vec::new();
                for row in &rows {
                    let case = case_from(row)?;
                    if authorize(&actor, Operation::ReadCase, Some(&case.tenant)) == Decision::Allow
                    {
                        out.push(case);
                    }
                }
                let detail = format!("{} case(s) from {offset}", out.len());
                Ok((out, record(&actor.user, "case.list", "*", None, &detail)))
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
        let patch = CasePatch {
            title: Some(title.to_owned()),
            ..CasePatch::default()
        };
        self.update_case(actor, id, version, patch).await
    }

    /// Changes a case read at `version`; [`StoreError::Conflict`] when someone changed it
    /// since (never a lost update).
    pub async fn update_case(
        &self,
        actor: &Actor,
        id: &str,
        version: i64,
        patch: CasePatch,
    ) -> Result<Case> {
        let text = |v: &Option<String>, what: &str, max: usize| -> Result<Option<String>> {
            match v.as_deref().map(str::trim) {
                None => Ok(None),
                Some(t) if t.is_empty() || t.len() > max => Err(StoreError::Invalid(format!(
                    "{what} must be 1 to {max} bytes"
                ))),
                Some(t) => Ok(Some(t.to_owned())),
            }
        };
        let title = text(&patch.title, "a title", 500)?;
        let entry_point = text(&patch.entry_point, "an entry point", 4000)?;
        let authority = text(&patch.authority, "the authority", 4000)?;
        let owner = text(&patch.owner, "an owner", 200)?;
        let mut changed: Vec<&str> = Vec::new();
        for (set, name) in [
            (title.is_some(), "title"),
            (patch.severity.is_some(), "severity"),
            (patch.tlp.is_some(), "tlp"),
            (patch.pap.is_some(), "pap"),
            (entry_point.is_some(), "entry_point"),
            (authority.is_some(), "authority"),
            (owner.is_some(), "owner"),
        ] {
            if set {
                changed.push(name);
            }
        }
        if changed.is_empty() {
            return Err(StoreError::Invalid("nothing to change".into()));
        }
        let detail = changed.join(", ");
        let severity = patch.severity.map(|s| s.as_str().to_owned());
        let tlp = patch.tlp.map(|t| enum_text(&t));
        let pap = patch.pap.map(|t| enum_text(&t));
        let linkage = self.linkage.clone();
        self.on_case(actor, id, Operation::EditCase, "case.update", move |tx, case| {
            let linkage = linkage.clone();
            let (title, severity, tlp, pap, entry_point, authority, detail) = (
                title.clone(),
                severity.clone(),
                tlp.clone(),
                pap.clone(),
                entry_point.clone(),
                authority.clone(),
                detail.clone(),
            );
            let owner = owner.clone();
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE cases SET title = COALESCE($1, title), severity = COALESCE($2, severity), tlp = COALESCE($3, tlp), pap = COALESCE($4, pap), entry_point = COALESCE($5, entry_point), authority = COALESCE($6, authority), owner = COALESCE($10, owner), version = version + 1, updated = $7 WHERE id = $8 AND version = $9",
                )
                .bind(title)
                .bind(severity)
                .bind(tlp)
                .bind(pap)
                .bind(entry_point)
                .bind(authority)
                .bind(now().to_string())
                .bind(case.id.clone())
                .bind(version)
                .bind(owner)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict(case.version));
                }
                let after = fetch_case(&mut *tx, &case.id).await?;
                // A case made TLP:RED leaves the sightings index; one made less strict joins.
                if let Some(secret) = &linkage {
                    crate::linkage::sync_case(tx, secret, &after).await?;
                }
                Ok((after, detail))
            })
        })
        .await
    }

    /// Whether the actor may act on the case with `op`, without reading or recording
    /// anything else: for refusing an upload before its body is read. The case's tenant.
    pub async fn may(&self, actor: &Actor, case_id: &str, op: Operation) -> Result<String> {
        let case = fetch_case(&self.pool, case_id).await?;
        require(actor, op, Some(&case.tenant))?;
        Ok(case.tenant)
    }

    /// Audit records after sequence number `after` (admins only; reading them is audited).
    pub async fn audit_records(
        &self,
        actor: &Actor,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        self.on_platform(actor, Operation::ReadAudit, "audit.read", move |tx| {
            Box::pin(async move {
                let rows = sqlx::query(
                    "SELECT seq, at, actor, action, target, tenant, detail, prev, hash FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after as i64)
                .bind(i64::from(limit))
                .fetch_all(&mut **tx)
                .await?;
                let out = rows.iter().map(audit_from).collect::<Result<Vec<_>>>()?;
                let d = format!("{} record(s) after {after}", out.len());
                Ok((out, "audit".to_owned(), d))
            })
        })
        .await
    }

    /// The newest `limit` audit records, newest first (admins only; reading them is audited).
    pub async fn audit_latest(&self, actor: &Actor, limit: u32) -> Result<Vec<AuditRecord>> {
        self.on_platform(actor, Operation::ReadAudit, "audit.read", move |tx| {
            Box::pin(async move {
                let rows = sqlx::query(
                    "SELECT seq, at, actor, action, target, tenant, detail, prev, hash FROM audit ORDER BY seq DESC LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&mut **tx)
                .await?;
                let out = rows.iter().map(audit_from).collect::<Result<Vec<_>>>()?;
                let d = format!("the newest {} record(s)", out.len());
                Ok((out, "audit".to_owned(), d))
            })
        })
        .await
    }

    /// Moves the audit chain's "found intact" mark on over the records written since it was
    /// last moved (the server does it in the background, so a report checks only the last
    /// few seconds). `Ok(Err(break))` when a record since the mark was removed or edited.
    pub async fn advance_audit_mark(
        &self,
    ) -> Result<std::result::Result<(u64, u64), audit::Break>> {
        let mut conn = self.pool.acquire().await?;
        verify_chain_since_checkpoint(&mut conn).await
    }

    /// Checks the whole audit log's chain.
    pub async fn verify_audit(&self) -> Result<std::result::Result<usize, audit::Break>> {
        verify_chain(&self.pool).await
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

/// Checks the whole audit chain: the number of records, or where it breaks.
pub(crate) async fn verify_chain<'e, E>(
    executor: E,
) -> Result<std::result::Result<usize, audit::Break>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, target, tenant, detail, prev, hash FROM audit ORDER BY seq",
    )
    .fetch_all(executor)
    .await?;
    let records = rows.iter().map(audit_from).collect::<Result<Vec<_>>>()?;
    Ok(audit::verify(&records).map(|()| records.len()))
}

/// The SQL condition that keeps rows to the actor's tenants: `COLUMN IN ($n, …)` with the
/// tenant ids pushed onto `binds` (bound, never spliced in), `1 = 1` for staff who see every
/// tenant; `None` when the actor has no tenant at all (there is nothing to read).
pub(crate) fn tenant_condition(
    actor: &Actor,
    column: &str,
    binds: &mut Vec<String>,
) -> Option<String> {
    match &actor.scope {
        TenantScope::All => Some("1 = 1".into()),
        TenantScope::Only(tenants) if tenants.is_empty() => None,
        TenantScope::Only(tenants) => {
            let marks: Vec<String> = tenants
                .iter()
                .map(|t| {
                    binds.push(t.clone());
                    format!("${}", binds.len())
                })
                .collect();
            Some(format!("{column} IN ({})", marks.join(", ")))
        }
    }
}

/// Records read at a time while checking the chain (memory stays bounded on a long log).
const AUDIT_BATCH: i64 = 20_000;

/// Checks the audit chain from where it was last found intact, and moves that mark on: the
/// records written since, each linked to the one before. `Ok(Ok((from, last)))`: intact from
/// record `from` to `last`. A full check from the first record is [`Store::verify_audit`].
pub(crate) async fn verify_chain_since_checkpoint(
    conn: &mut Conn,
) -> Result<std::result::Result<(u64, u64), audit::Break>> {
    let mark = sqlx::query("SELECT seq, hash FROM audit_verified WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (from, mut prev) = match &mark {
        Some(r) => (
            r.try_get::<i64, _>("seq")? as u64,
            r.try_get::<String, _>("hash")?,
        ),
        None => (0, audit::CHAIN_START.to_owned()),
    };
    let mut last = from;
    loop {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, target, tenant, detail, prev, hash FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(last as i64)
        .bind(AUDIT_BATCH)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            break;
        }
        let records = rows.iter().map(audit_from).collect::<Result<Vec<_>>>()?;
        if let Err(b) = audit::verify_from(last, &prev, &records) {
            return Ok(Err(b));
        }
        if let Some(r) = records.last() {
            last = r.seq;
            prev = r.hash.clone();
        }
    }
    if last > from {
        sqlx::query(
            "INSERT INTO audit_verified (id, seq, hash, at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, at = excluded.at \
             WHERE audit_verified.seq < excluded.seq",
        )
        .bind(last as i64)
        .bind(prev)
        .bind(now().to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(Ok((from + 1, last)))
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
