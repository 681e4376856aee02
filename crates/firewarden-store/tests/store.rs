//! The same tests on SQLite and on PostgreSQL: each test runs once per backend. PostgreSQL is
//! the cluster `scripts/test.sh` starts (its URL in `FIREWARDEN_TEST_PG_URL`); each test makes
//! a database of its own there and drops it. Without the variable the PostgreSQL half says it
//! was skipped, and under `CI=true` that is a failure.

use firewarden_case::access::Actor;
use firewarden_case::model::{IncidentKind, Role, TenantScope};
use firewarden_model::{Evidence, Finding, Severity, TriageReport};
use firewarden_store::{Store, StoreError};

fn admin() -> Actor {
    Actor {
        user: "admin".into(),
        role: Role::Admin,
        scope: TenantScope::All,
    }
}

fn actor(user: &str, role: Role, tenant: &str) -> Actor {
    Actor {
        user: user.into(),
        role,
        scope: TenantScope::Only(vec![tenant.into()]),
    }
}

use firewarden_store::testdb::backends;

fn report(ids: &[&str]) -> TriageReport {
    let mut r: TriageReport = serde_json::from_str(
        r#"{"schema_version":1,"tool":"t","source":{"kind":"root","location":"/r"},"started":"2026-11-20T00:00:00Z","finished":"2026-11-20T00:00:01Z",
            "storyline":{"verdict":"v","attacker_ips":[],"accounts":[],"persistence":[]},
            "timeline":[],"findings":[],"warnings":[],"checks":[]}"#,
    )
    .unwrap();
    for id in ids {
        r.findings.push(
            Finding::new(
                "linux.persistence.cron",
                format!("cron job {id}"),
                Severity::Critical,
            )
            .evidence(Evidence::at(format!("/etc/cron.d/{id}"))),
        );
    }
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_never_see_each_other() {
    for db in backends("isolation").await {
        let store = Store::open(&db.url).await.unwrap();
        let acme = store.add_tenant(&admin(), "Acme").await.unwrap();
        let globex = store.add_tenant(&admin(), "Globex").await.unwrap();
        let lead = Actor {
            user: "lead".into(),
            role: Role::Lead,
            scope: TenantScope::All,
        };
        let a = store
            .create_case(
                &lead,
                &acme.id,
                "web01 webshell",
                IncidentKind::Webshell,
                Severity::High,
            )
            .await
            .unwrap();
        let g = store
            .create_case(
                &lead,
                &globex.id,
                "db dragging",
                IncidentKind::DataDumping,
                Severity::Critical,
            )
            .await
            .unwrap();
        let viewer = actor("ann", Role::CustomerViewer, &acme.id);
        // By id and by listing, another tenant's case does not exist.
        assert_eq!(
            store.case(&viewer, &a.id).await.unwrap().title,
            "web01 webshell"
        );
        assert!(
            matches!(store.case(&viewer, &g.id).await, Err(StoreError::NotFound)),
            "{}",
            db.url
        );
        assert!(matches!(
            store.case(&viewer, "C-nonexistent").await,
            Err(StoreError::NotFound)
        ));
        let seen: Vec<String> = store
            .cases(&viewer)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(seen, std::slice::from_ref(&a.id));
        // A responder scoped to Acme cannot create, import into or rename Globex's cases.
        let responder = actor("rob", Role::Responder, &acme.id);
        assert!(matches!(
            store
                .create_case(
                    &responder,
                    &globex.id,
                    "x",
                    IncidentKind::Other,
                    Severity::Low
                )
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .import_triage(&responder, &g.id, "db01", &report(&["a"]))
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.retitle(&responder, &g.id, 1, "mine").await,
            Err(StoreError::NotFound)
        ));
        // The viewer sees its case but may not change it.
        assert!(matches!(
            store.retitle(&viewer, &a.id, 1, "mine").await,
            Err(StoreError::Forbidden)
        ));
        assert_eq!(
            store.verify_audit().await.unwrap(),
            Ok(store.verify_audit().await.unwrap().unwrap())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_conflict_instead_of_losing_one() {
    for db in backends("versions").await {
        let store = Store::open(&db.url).await.unwrap();
        let t = store.add_tenant(&admin(), "Acme").await.unwrap();
        let rob = actor("rob", Role::Responder, &t.id);
        let c = store
            .create_case(
                &rob,
                &t.id,
                "first",
                IncidentKind::Intrusion,
                Severity::High,
            )
            .await
            .unwrap();
        let renamed = store
            .retitle(&rob, &c.id, c.version, "second")
            .await
            .unwrap();
        assert_eq!((renamed.title.as_str(), renamed.version), ("second", 2));
        // A second editor who read version 1 gets a conflict naming the current version.
        match store.retitle(&rob, &c.id, 1, "third").await {
            Err(StoreError::Conflict(2)) => {}
            other => panic!("{}: {other:?}", db.url),
        }
        assert_eq!(store.case(&rob, &c.id).await.unwrap().title, "second");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_dedupe_per_asset_and_the_audit_chain_holds() {
    for db in backends("imports").await {
        let store = Store::open(&db.url).await.unwrap();
        let t = store.add_tenant(&admin(), "Acme").await.unwrap();
        let rob = actor("rob", Role::Responder, &t.id);
        let c = store
            .create_case(&rob, &t.id, "web01", IncidentKind::Webshell, Severity::High)
            .await
            .unwrap();
        let first = store
            .import_triage(&rob, &c.id, "web01", &report(&["a", "b"]))
            .await
            .unwrap();
        assert_eq!((first.new_findings, first.known_findings), (2, 0));
        let again = store
            .import_triage(&rob, &c.id, "web01", &report(&["a", "b", "c"]))
            .await
            .unwrap();
        assert_eq!((again.new_findings, again.known_findings), (1, 2));
        // The same finding on another asset is another finding.
        let other = store
            .import_triage(&rob, &c.id, "web02", &report(&["a"]))
            .await
            .unwrap();
        assert_eq!(other.new_findings, 1);
        assert_eq!(
            store.finding_ids(&rob, &c.id, "web01").await.unwrap().len(),
            3
        );
        // Hostile input is refused before anything is written.
        assert!(matches!(
            store
                .import_triage(&rob, &c.id, "web\u{1b}[2J", &report(&["z"]))
                .await,
            Err(StoreError::Invalid(_))
        ));
        // Exactly what was done, once each: the lookups behind an import are not reads of
        // their own, and the refused import left nothing.
        let n = store.verify_audit().await.unwrap().unwrap();
        assert!(n >= 6, "{n}");
        let actions: Vec<String> = sqlx::query("SELECT action FROM audit ORDER BY seq")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| sqlx::Row::get::<String, _>(r, "action"))
            .collect();
        assert_eq!(
            actions,
            [
                "tenant.add",
                "case.create",
                "case.import",
                "case.import",
                "case.import",
                "case.findings"
            ],
            "{}",
            db.url
        );
        // Editing a record behind the store's back is found.
        sqlx::query("UPDATE audit SET actor = 'mallory' WHERE seq = 3")
            .execute(store.pool())
            .await
            .unwrap();
        let broken = store.verify_audit().await.unwrap().unwrap_err();
        assert_eq!(broken.seq, 3);
    }
}

/// Two server processes on one database: every audit record is kept, numbered once, chained.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_database_share_one_audit_chain() {
    for db in backends("shared").await {
        let one = Store::open(&db.url).await.unwrap();
        let two = Store::open(&db.url).await.unwrap();
        let t = one.add_tenant(&admin(), "Acme").await.unwrap();
        let rob = actor("rob", Role::Responder, &t.id);
        let c = one
            .create_case(&rob, &t.id, "web01", IncidentKind::Webshell, Severity::High)
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..20 {
            let store = if i % 2 == 0 { one.clone() } else { two.clone() };
            let (rob, id) = (rob.clone(), c.id.clone());
            tasks.push(tokio::spawn(async move {
                store.case(&rob, &id).await.map(|_| ())
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(two.verify_audit().await.unwrap(), Ok(22), "{}", db.url);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_lists_page_by_cursor_without_gaps_or_repeats() {
    for db in backends("paging").await {
        let store = Store::open(&db.url).await.unwrap();
        let t = store.add_tenant(&admin(), "Acme").await.unwrap();
        let u = store.add_tenant(&admin(), "Umbrella").await.unwrap();
        let rob = actor("rob", Role::Responder, &t.id);
        let mut made = Vec::new();
        for i in 0..7 {
            let tenant = if i % 3 == 2 { &u.id } else { &t.id };
            let c = store
                .create_case(
                    &admin(),
                    tenant,
                    &format!("case {i}"),
                    IncidentKind::Other,
                    Severity::Low,
                )
                .await
                .unwrap();
            if tenant == &t.id {
                made.push(c.id);
            }
        }
        // Same-second creation times: the id breaks ties, so nothing is skipped or repeated.
        let mut seen = Vec::new();
        let mut query = firewarden_store::CaseQuery {
            limit: Some(2),
            ..Default::default()
        };
        loop {
            let page = store.cases_page(&rob, &query).await.unwrap();
            if page.is_empty() {
                break;
            }
            let last = page.last().unwrap();
            query.before = Some(format!("{}|{}", last.created, last.id));
            seen.extend(page.into_iter().map(|c| c.id));
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), seen.len(), "repeats on {}: {seen:?}", db.url);
        made.sort();
        assert_eq!(sorted, made, "{}", db.url);
        let bad = firewarden_store::CaseQuery {
            before: Some("no bar".into()),
            ..Default::default()
        };
        assert!(matches!(
            store.cases_page(&rob, &bad).await,
            Err(StoreError::Invalid(_))
        ));
    }
}

/// Imported events keep the zone the host showed them in; what the server records is UTC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeline_keeps_the_original_zone() {
    for db in backends("zones").await {
        let store = Store::open(&db.url).await.unwrap();
        let t = store.add_tenant(&admin(), "Acme").await.unwrap();
        let rob = actor("rob", Role::Responder, &t.id);
        let c = store
            .create_case(
                &rob,
                &t.id,
                "web01",
                IncidentKind::Intrusion,
                Severity::High,
            )
            .await
            .unwrap();
        let mut r = report(&[]);
        r.timeline = serde_json::from_str(
            r#"[{"time":"2026-11-19T19:10:00Z","kind":"login","summary":"SSH login as root","source":"/var/log/auth.log:7","zone":"+08:00"},
                {"time":"2026-11-19T19:20:00Z","kind":"login","summary":"SSH login as ann","source":"/var/log/auth.log:9"}]"#,
        )
        .unwrap();
        store.import_triage(&rob, &c.id, "web01", &r).await.unwrap();
        store
            .add_note(&rob, &c.id, "called the customer", false)
            .await
            .unwrap();
        let zones: Vec<(String, String)> = store
            .timeline(&rob, &c.id, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.source, e.zone))
            .collect();
        assert!(
            zones.contains(&("import:web01:/var/log/auth.log:7".into(), "+08:00".into())),
            "{zones:?}"
        );
        assert!(
            zones.contains(&("import:web01:/var/log/auth.log:9".into(), "UTC".into())),
            "{zones:?}"
        );
        assert!(zones.contains(&("note".into(), "UTC".into())), "{zones:?}");
    }
}

/// The report's audit check goes on from where the chain was last found intact (a busy
/// server's report does not read every record ever written), and still finds a record edited
/// since.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_chain_check_goes_on_from_its_last_mark() {
    for db in backends("audit_mark").await {
        let store = Store::open(&db.url).await.unwrap();
        let t = store.add_tenant(&admin(), "Acme").await.unwrap();
        let rob = actor("rob", Role::Responder, &t.id);
        let c = store
            .create_case(&rob, &t.id, "web01", IncidentKind::Webshell, Severity::High)
            .await
            .unwrap();
        let facts = store.report_facts(&rob, &c.id).await.unwrap();
        assert!(facts.audit.chain_intact, "{}", db.url);
        let mark: i64 = sqlx::Row::get(
            &sqlx::query("SELECT seq FROM audit_verified WHERE id = 1")
                .fetch_one(store.pool())
                .await
                .unwrap(),
            "seq",
        );
        assert!(mark >= 2, "{mark}");
        store
            .import_triage(&rob, &c.id, "web01", &report(&["a"]))
            .await
            .unwrap();
        assert!(
            store
                .report_facts(&rob, &c.id)
                .await
                .unwrap()
                .audit
                .chain_intact
        );
        // A record written after the mark, then edited: the next report says so.
        store
            .import_triage(&rob, &c.id, "web01", &report(&["b"]))
            .await
            .unwrap();
        let newest: i64 = sqlx::Row::get(
            &sqlx::query("SELECT MAX(seq) AS n FROM audit")
                .fetch_one(store.pool())
                .await
                .unwrap(),
            "n",
        );
        sqlx::query("UPDATE audit SET detail = 'nothing happened' WHERE seq = $1")
            .bind(newest)
            .execute(store.pool())
            .await
            .unwrap();
        assert!(
            !store
                .report_facts(&rob, &c.id)
                .await
                .unwrap()
                .audit
                .chain_intact
        );
        // The full check finds it too.
        assert_eq!(
            store.verify_audit().await.unwrap().unwrap_err().seq,
            newest as u64
        );
    }
}

/// The customer's queue shows what waits now: requests that expired unanswered (they stay
/// `pending` in the table) neither show nor crowd a live one out of the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approval_queue_holds_live_requests_only() {
    for db in backends("approval_queue").await {
        let store = Store::open(&db.url).await.unwrap();
        let t = store.add_tenant(&admin(), "Acme").await.unwrap();
        let other = store.add_tenant(&admin(), "Globex").await.unwrap();
        let rob = actor("rob", Role::Responder, &t.id);
        let c = store
            .create_case(&rob, &t.id, "web01", IncidentKind::Webshell, Severity::High)
            .await
            .unwrap();
        let plan = r#"{"id":"A1","kind":"contain.network","title":"Isolate web01","risk":"high","root":"/","steps":[]}"#;
        let insert = |id: String, at: &str, expires: &str| {
            sqlx::query(
                "INSERT INTO approvals (id, case_id, host, plan_sha256, plan, kind, title, risk, requirement, requested_by, requested_at, expires, valid_minutes, state) \
                 VALUES ($1, $2, 'web01', 'ab', $3, 'contain.network', 'Isolate web01', 'high', 'customer', 'rob', $4, $5, 30, 'pending')",
            )
            .bind(id)
            .bind(c.id.clone())
            .bind(plan)
            .bind(at.to_owned())
            .bind(expires.to_owned())
        };
        // More expired requests than a page holds, all older than the live one.
        for i in 0..510 {
            insert(
                format!("Rold{i:04}"),
                "2026-01-01T00:00:00Z",
                "2026-01-01T00:30:00Z",
            )
            .execute(store.pool())
            .await
            .unwrap();
        }
        insert(
            "Rlive".into(),
            "2026-01-02T00:00:00Z",
            "2099-01-01T00:00:00Z",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let carol = actor("carol", Role::CustomerAuthoriser, &t.id);
        let queue = store.pending_approvals(&carol).await.unwrap();
        let ids: Vec<&str> = queue.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["Rlive"], "{}", db.url);
        // Another customer's authoriser sees none of it.
        let gina = actor("gina", Role::CustomerAuthoriser, &other.id);
        assert!(store.pending_approvals(&gina).await.unwrap().is_empty());
        assert_eq!(store.pending_approvals(&admin()).await.unwrap().len(), 1);
    }
}
