//! One set of migrations for both databases: portable SQL only (TEXT, BIGINT, composite keys,
//! `ON CONFLICT … DO NOTHING`), applied in order and recorded in `schema_migrations`. A
//! migration is never edited once released; a change is a new one.

use sqlx::AnyPool;

/// `(version, name, statements)`.
const MIGRATIONS: &[(i64, &str, &[&str])] = &[(
    1,
    "tenants, cases, findings, audit",
    &[
        "CREATE TABLE tenants (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created TEXT NOT NULL
        )",
        "CREATE TABLE cases (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants (id),
            title TEXT NOT NULL,
            kind TEXT NOT NULL,
            severity TEXT NOT NULL,
            stage TEXT NOT NULL,
            status TEXT NOT NULL,
            version BIGINT NOT NULL,
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        )",
        "CREATE INDEX cases_by_tenant ON cases (tenant_id, created)",
        "CREATE TABLE findings (
            case_id TEXT NOT NULL REFERENCES cases (id),
            asset TEXT NOT NULL,
            finding_id TEXT NOT NULL,
            check_id TEXT NOT NULL,
            severity TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            first_import TEXT NOT NULL,
            PRIMARY KEY (case_id, asset, finding_id)
        )",
        "CREATE TABLE audit (
            seq BIGINT PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            tenant TEXT,
            detail TEXT NOT NULL,
            prev TEXT NOT NULL,
            hash TEXT NOT NULL
        )",
    ],
)];

/// Applies the migrations the database does not have yet. Two servers starting at once on one
/// PostgreSQL: the loser of the race on `schema_migrations` rolls back and finds it done.
pub(crate) async fn run(pool: &AnyPool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)",
    )
    .execute(pool)
    .await
    .or_else(ignore_race)?;
    for (version, name, statements) in MIGRATIONS {
        let done = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(*version)
            .fetch_optional(pool)
            .await?;
        if done.is_some() {
            continue;
        }
        let mut tx = pool.begin().await?;
        // Claim the version first: a concurrent migrator fails here and rolls back.
        let claimed = sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(*version)
            .bind(name.to_string())
            .execute(&mut *tx)
            .await;
        if let Err(e) = claimed {
            tx.rollback().await.ok();
            if is_unique(&e) {
                continue;
            }
            return Err(e);
        }
        for statement in *statements {
            // Constant SQL from this file: nothing from outside reaches it.
            sqlx::query(sqlx::AssertSqlSafe(*statement))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

fn is_unique(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// `CREATE TABLE IF NOT EXISTS` can still lose a race on PostgreSQL's catalog.
fn ignore_race(e: sqlx::Error) -> Result<sqlx::any::AnyQueryResult, sqlx::Error> {
    if is_unique(&e) {
        Ok(Default::default())
    } else {
        Err(e)
    }
}
