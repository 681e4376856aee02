//! One set of migrations for both databases: portable SQL only (TEXT, BIGINT, composite keys,
//! `ON CONFLICT … DO NOTHING`), applied in order and recorded in `schema_migrations`. A
//! migration is never edited once released; a change is a new one.

use sqlx::AnyPool;

/// `(version, name, statements)`.
const MIGRATIONS: &[(i64, &str, &[&str])] = &[
    (
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
    ),
    (
        2,
        "users, tokens, casework: assets, imports, evidence, actions, IOCs, timeline, notes, tasks, gates",
        &[
            "ALTER TABLE tenants ADD COLUMN contacts TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE tenants ADD COLUMN contract TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE cases ADD COLUMN tlp TEXT NOT NULL DEFAULT 'amber'",
            "ALTER TABLE cases ADD COLUMN pap TEXT NOT NULL DEFAULT 'amber'",
            "ALTER TABLE cases ADD COLUMN entry_point TEXT",
            "ALTER TABLE cases ADD COLUMN authority TEXT",
            "CREATE TABLE users (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            scope TEXT NOT NULL,
            password TEXT,
            created TEXT NOT NULL
        )",
            "CREATE TABLE tokens (
            hash TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users (id),
            label TEXT NOT NULL,
            created TEXT NOT NULL,
            expires TEXT
        )",
            "CREATE TABLE login_failures (
            name TEXT NOT NULL,
            at BIGINT NOT NULL
        )",
            "CREATE INDEX login_failures_by_name ON login_failures (name, at)",
            "CREATE TABLE assets (
            case_id TEXT NOT NULL REFERENCES cases (id),
            name TEXT NOT NULL,
            compromise TEXT NOT NULL,
            version BIGINT NOT NULL,
            added TEXT NOT NULL,
            PRIMARY KEY (case_id, name)
        )",
            "CREATE TABLE imports (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases (id),
            asset TEXT NOT NULL,
            kind TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size BIGINT NOT NULL,
            at TEXT NOT NULL,
            by_user TEXT NOT NULL,
            facts TEXT NOT NULL,
            summary TEXT NOT NULL
        )",
            "CREATE INDEX imports_by_case ON imports (case_id, at)",
            "CREATE TABLE evidence (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases (id),
            asset TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size BIGINT NOT NULL,
            signer TEXT NOT NULL,
            acquired TEXT NOT NULL,
            received TEXT NOT NULL,
            by_user TEXT NOT NULL,
            blob TEXT NOT NULL,
            custody_events BIGINT NOT NULL
        )",
            "CREATE INDEX evidence_by_case ON evidence (case_id, received)",
            "CREATE TABLE actions (
            case_id TEXT NOT NULL REFERENCES cases (id),
            asset TEXT NOT NULL,
            action_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            finding TEXT,
            operator TEXT NOT NULL,
            begun TEXT NOT NULL,
            state TEXT NOT NULL,
            PRIMARY KEY (case_id, asset, action_id)
        )",
            "CREATE TABLE iocs (
            case_id TEXT NOT NULL REFERENCES cases (id),
            tenant_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            PRIMARY KEY (case_id, kind, value)
        )",
            "CREATE INDEX iocs_by_value ON iocs (kind, value)",
            "CREATE TABLE timeline (
            case_id TEXT NOT NULL REFERENCES cases (id),
            id TEXT NOT NULL,
            at TEXT NOT NULL,
            zone TEXT NOT NULL,
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            text TEXT NOT NULL,
            PRIMARY KEY (case_id, id)
        )",
            "CREATE INDEX timeline_by_time ON timeline (case_id, at)",
            "CREATE TABLE notes (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases (id),
            author TEXT NOT NULL,
            created TEXT NOT NULL,
            body TEXT NOT NULL
        )",
            "CREATE INDEX notes_by_case ON notes (case_id, created)",
            "CREATE TABLE tasks (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases (id),
            title TEXT NOT NULL,
            done BIGINT NOT NULL,
            version BIGINT NOT NULL,
            created TEXT NOT NULL,
            by_user TEXT NOT NULL
        )",
            "CREATE INDEX tasks_by_case ON tasks (case_id, created)",
            "CREATE TABLE waivers (
            case_id TEXT NOT NULL REFERENCES cases (id),
            criterion TEXT NOT NULL,
            reason TEXT NOT NULL,
            by_user TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (case_id, criterion)
        )",
            "CREATE TABLE transitions (
            case_id TEXT NOT NULL REFERENCES cases (id),
            at TEXT NOT NULL,
            from_stage TEXT NOT NULL,
            to_stage TEXT,
            by_user TEXT NOT NULL,
            override_reason TEXT,
            unmet TEXT NOT NULL
        )",
            "CREATE INDEX transitions_by_case ON transitions (case_id, at)",
            "CREATE INDEX findings_by_severity ON findings (case_id, severity)",
        ],
    ),
    (
        3,
        "case lists newest first without sorting every case",
        &[
            "CREATE INDEX cases_by_created ON cases (created, id)",
            "CREATE INDEX cases_by_tenant_created ON cases (tenant_id, created, id)",
        ],
    ),
    (
        4,
        "SLA clocks: the contract's targets and webhook, check-ins, alerts sent once",
        &[
            // JSON of `firewarden_case::sla::SlaTargets`; '' when the contract promises none.
            "ALTER TABLE tenants ADD COLUMN sla TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE tenants ADD COLUMN webhook TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE cases ADD COLUMN sla_breached TEXT",
            "CREATE TABLE checkins (
            case_id TEXT NOT NULL REFERENCES cases (id),
            id TEXT NOT NULL,
            clock TEXT NOT NULL,
            at TEXT NOT NULL,
            by_user TEXT NOT NULL,
            place TEXT NOT NULL,
            PRIMARY KEY (case_id, id)
        )",
            // One row per (case, clock, level), ever: the server that inserts it sends it.
            "CREATE TABLE sla_alerts (
            case_id TEXT NOT NULL REFERENCES cases (id),
            clock TEXT NOT NULL,
            level TEXT NOT NULL,
            due TEXT NOT NULL,
            raised TEXT NOT NULL,
            lease_until TEXT NOT NULL,
            delivered TEXT,
            attempts BIGINT NOT NULL,
            last_error TEXT NOT NULL,
            PRIMARY KEY (case_id, clock, level)
        )",
            "CREATE INDEX cases_open_by_created ON cases (status, created)",
        ],
    ),
    (
        5,
        "customer-confirmed actions: the tenant's policy, approval requests, the server's signing key",
        &[
            // JSON of `firewarden_case::approval::ApprovalPolicy`; '' for the default.
            "ALTER TABLE tenants ADD COLUMN approval_policy TEXT NOT NULL DEFAULT ''",
            "CREATE TABLE approvals (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases (id),
            host TEXT NOT NULL,
            plan_sha256 TEXT NOT NULL,
            plan TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            risk TEXT NOT NULL,
            requirement TEXT NOT NULL,
            requested_by TEXT NOT NULL,
            requested_at TEXT NOT NULL,
            expires TEXT NOT NULL,
            valid_minutes BIGINT NOT NULL,
            state TEXT NOT NULL,
            decided_by TEXT,
            decided_at TEXT,
            reason TEXT,
            statement TEXT,
            signature TEXT
        )",
            "CREATE INDEX approvals_by_case ON approvals (case_id, requested_at)",
            // One key per purpose, made by the first server to need it and shared by all.
            "CREATE TABLE server_keys (
            purpose TEXT PRIMARY KEY,
            private_pem TEXT NOT NULL,
            created TEXT NOT NULL
        )",
        ],
    ),
    (
        6,
        "break-glass actions: why nobody was asked first",
        &["ALTER TABLE approvals ADD COLUMN break_glass TEXT"],
    ),
    (
        7,
        "pre-authorisations: scopes the customer grants ahead",
        &[
            "CREATE TABLE preauthorisations (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases (id),
            statement TEXT NOT NULL,
            signature TEXT NOT NULL,
            granted_by TEXT NOT NULL,
            granted_at TEXT NOT NULL,
            expires TEXT NOT NULL
        )",
            "CREATE INDEX preauthorisations_by_case ON preauthorisations (case_id, granted_at)",
        ],
    ),
    (
        8,
        "custody ledgers on the server",
        &[
            // One row per ledger line, exactly as signed: the server continues a bundle's ledger
            // (receipt, check-out and check-in, transfers, examination, downloads, disposal).
            "CREATE TABLE custody (
            evidence_id TEXT NOT NULL REFERENCES evidence (id),
            seq BIGINT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL,
            line TEXT NOT NULL,
            PRIMARY KEY (evidence_id, seq)
        )",
            "CREATE INDEX evidence_by_digest ON evidence (case_id, sha256)",
        ],
    ),
    (
        9,
        "the tool registry",
        &[
            // Every binary and rule pack used on cases, by SHA-256; a new version replaces an
            // old one, which stays (superseded) as history.
            "CREATE TABLE tools (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            source TEXT NOT NULL,
            licence TEXT NOT NULL,
            status TEXT NOT NULL,
            approved_by TEXT NOT NULL,
            approved_at TEXT NOT NULL,
            replaces TEXT,
            changes TEXT,
            superseded_by TEXT,
            validated BIGINT NOT NULL
        )",
            "CREATE INDEX tools_by_digest ON tools (sha256, approved_at)",
            // Each validation run kept as signed (a passing run of the tool's own hash makes it
            // validated).
            "CREATE TABLE tool_validations (
            tool_id TEXT NOT NULL REFERENCES tools (id),
            at TEXT NOT NULL,
            by_user TEXT NOT NULL,
            passed BIGINT NOT NULL,
            signer TEXT NOT NULL,
            result TEXT NOT NULL
        )",
            "CREATE INDEX tool_validations_by_tool ON tool_validations (tool_id, at)",
            "ALTER TABLE tenants ADD COLUMN tool_policy TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE imports ADD COLUMN tools TEXT NOT NULL DEFAULT ''",
        ],
    ),
    (
        10,
        "what the summary report reads, and the reports kept",
        &[
            "ALTER TABLE imports ADD COLUMN storyline TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE actions ADD COLUMN tool TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE actions ADD COLUMN approval TEXT NOT NULL DEFAULT ''",
            // Every generated report, signed, as delivered.
            "CREATE TABLE reports (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases (id),
            at TEXT NOT NULL,
            by_user TEXT NOT NULL,
            format TEXT NOT NULL,
            lang TEXT NOT NULL,
            case_version BIGINT NOT NULL,
            sha256 TEXT NOT NULL,
            body TEXT NOT NULL
        )",
            "CREATE INDEX reports_by_case ON reports (case_id, at)",
        ],
    ),
    (
        11,
        "IOC sightings across customers, by keyed hash",
        &[
            // One row per indicator per case, keyed by HMAC-SHA256 under the platform secret:
            // no value is stored here. TLP:RED cases never enter.
            "CREATE TABLE sightings (
            key TEXT NOT NULL,
            case_id TEXT NOT NULL REFERENCES cases (id),
            tenant_id TEXT NOT NULL,
            seen TEXT NOT NULL,
            PRIMARY KEY (key, case_id)
        )",
            "CREATE INDEX sightings_by_case ON sightings (case_id)",
        ],
    ),
    (
        12,
        "business-loss evaluation",
        &[
            "CREATE TABLE services (
            case_id TEXT NOT NULL REFERENCES cases (id),
            name TEXT NOT NULL,
            criticality TEXT NOT NULL,
            cost_per_hour BIGINT NOT NULL,
            currency TEXT NOT NULL,
            assets TEXT NOT NULL,
            PRIMARY KEY (case_id, name)
        )",
            "CREATE TABLE downtime (
            case_id TEXT NOT NULL REFERENCES cases (id),
            asset TEXT NOT NULL,
            started TEXT NOT NULL,
            ended TEXT,
            note TEXT NOT NULL,
            by_user TEXT NOT NULL
        )",
            "CREATE INDEX downtime_by_case ON downtime (case_id, started)",
            "CREATE TABLE losses (
            case_id TEXT NOT NULL REFERENCES cases (id),
            variety TEXT NOT NULL,
            min_amount BIGINT NOT NULL,
            likely_amount BIGINT NOT NULL,
            max_amount BIGINT NOT NULL,
            currency TEXT NOT NULL,
            note TEXT NOT NULL,
            by_user TEXT NOT NULL,
            PRIMARY KEY (case_id, variety)
        )",
            "ALTER TABLE cases ADD COLUMN overall_rating TEXT NOT NULL DEFAULT ''",
        ],
    ),
    (
        13,
        "recommendations with an owner and a deadline, lessons learned",
        &[
            "ALTER TABLE tasks ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE tasks ADD COLUMN due TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE notes ADD COLUMN lesson BIGINT NOT NULL DEFAULT 0",
        ],
    ),
    (
        14,
        "a case's owner; the console's filters; revoked pre-authorisations",
        &[
            "ALTER TABLE cases ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE preauthorisations ADD COLUMN revoked_at TEXT",
            "ALTER TABLE preauthorisations ADD COLUMN revoked_by TEXT",
            "ALTER TABLE preauthorisations ADD COLUMN revoked_reason TEXT",
            "CREATE INDEX approvals_by_state ON approvals (state, case_id)",
            // A case's audit trail (the report's summary) without reading everyone's.
            "CREATE INDEX audit_by_target ON audit (target, seq)",
            // How far the audit chain was last found intact: later checks go on from there.
            "CREATE TABLE audit_verified (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL, at TEXT NOT NULL)",
        ],
    ),
];

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
