//! Throwaway databases for tests, on every backend the run has: SQLite in a temporary
//! directory always, and PostgreSQL in the cluster named by `FIREWARDEN_TEST_PG_URL` (which
//! `scripts/test.sh` starts). Under `CI=true` a missing PostgreSQL is a failure, not a skip.

/// A throwaway database; dropping it drops the PostgreSQL one.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// `sqlite` or `postgres`, for messages.
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.drop_pg.take() {
            // Dropped inside the test's runtime: a runtime of its own, on a thread of its own.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    sqlx::any::install_default_drivers();
                    if let Ok(pool) = sqlx::AnyPool::connect(&admin_url).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&pool)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// One database per backend, named after `test` (letters, digits and `_` only).
pub async fn backends(test: &str) -> Vec<TestDb> {
    assert!(
        test.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "test name {test}"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut out = vec![TestDb {
        url: format!("sqlite:{}", dir.path().join("cases.db").display()),
        backend: "sqlite",
        _dir: Some(dir),
        drop_pg: None,
    }];
    match std::env::var("FIREWARDEN_TEST_PG_URL") {
        Ok(admin_url) => {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&admin_url)
                .await
                .expect("the test PostgreSQL cluster");
            let name = format!("fw_{test}_{}", std::process::id());
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&pool)
                .await
                .expect("a test database");
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(b, _)| b);
            out.push(TestDb {
                url: format!("{base}/{name}"),
                backend: "postgres",
                _dir: None,
                drop_pg: Some((admin_url.clone(), name)),
            });
        }
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!(
                "FIREWARDEN_TEST_PG_URL is not set: scripts/test.sh starts PostgreSQL for these tests"
            )
        }
        Err(_) => eprintln!("SKIPPED (PostgreSQL half): FIREWARDEN_TEST_PG_URL is not set"),
    }
    out
}
