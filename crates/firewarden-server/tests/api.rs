//! The API under hostile and concurrent use, on SQLite and PostgreSQL: bad uploads are refused
//! with a reason and leave nothing behind, concurrent edits conflict, logins are rate-limited,
//! the certificate is pinned, and two servers on one database serve the same cases.

mod common;

use common::{Server, json_file, triage};
use firewarden_client::{Client, ClientError, Method};
use firewarden_store::testdb::backends;
use serde_json::{Value, json};

async fn refused(r: Result<Value, ClientError>) -> (u16, String) {
    match r {
        Err(ClientError::Refused { status, reason, .. }) => (status, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn setup(server: &Server) -> (Client, String, String) {
    let admin = server.client(&server.admin);
    let t = common::tenant(&admin, "Acme").await;
    let lead = common::user(&admin, &t, "lena", "lead", Some("correct horse battery")).await;
    let lead = server.client(&lead);
    let case = lead
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(&json!({"tenant": t, "title": "web01", "kind": "webshell", "severity": "high"})),
        )
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (lead, t, case)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_with_a_reason_and_nothing_is_half_written() {
    for db in backends("bad_uploads").await {
        let server = Server::start(&db.url, None, 4 << 20).await;
        let (lead, _, case) = setup(&server).await;
        let work = tempfile::tempdir().unwrap();
        let push = |name: &str, bytes: Vec<u8>| {
            let p = work.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let imports = format!("/api/v1/cases/{case}/imports?asset=web01");
        let good = serde_json::to_vec_pretty(&triage(
            "web01",
            &["a", "b", "c"],
            "m",
            "2026-11-20T00:00:01Z",
        ))
        .unwrap();
        let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            ("empty", Vec::new(), 422, "empty"),
            (
                "junk",
                b"\x7fELF\x02\x01junk".to_vec(),
                415,
                "not a Firewarden",
            ),
            (
                "truncated",
                good[..good.len() / 2].to_vec(),
                422,
                "does not parse",
            ),
            (
                "newer",
                String::from_utf8(good.clone())
                    .unwrap()
                    .replacen("\"schema_version\": 1", "\"schema_version\": 999", 1)
                    .into_bytes(),
                422,
                "schema 999",
            ),
            (
                "hostile unicode",
                String::from_utf8(good.clone())
                    .unwrap()
                    .replacen(
                        "\"tool\": \"firewarden test\"",
                        "\"tool\": \"\\u202e\\u0000\\ud800\"",
                        1,
                    )
                    .into_bytes(),
                422,
                "does not parse",
            ),
            (
                "fake bundle",
                [&[0x28, 0xb5, 0x2f, 0xfd][..], b"not zstd at all"].concat(),
                422,
                "bundle",
            ),
            (
                "broken journal",
                b"{\"seq\":1,\"prev\":\"00\"}\n".to_vec(),
                422,
                "",
            ),
        ];
        for (name, bytes, status, why) in cases {
            let file = push(name, bytes);
            let (got, reason) = refused(lead.upload(&imports, Vec::new(), &file).await).await;
            assert_eq!(got, status, "{name} on {}: {reason}", db.backend);
            assert!(reason.contains(why), "{name}: {reason}");
        }
        // A finding with a megabyte of text refuses the whole import: none of its findings is
        // kept, not even the small ones before it.
        let mut big = triage("web01", &["small"], "m", "2026-11-20T00:00:01Z");
        let mut huge = big.findings[0].clone();
        huge.id = "huge".into();
        huge.title = "x".repeat(1 << 20);
        big.findings.push(huge);
        let file = json_file(work.path(), "big.json", &big);
        let (got, reason) = refused(lead.upload(&imports, Vec::new(), &file).await).await;
        assert_eq!(got, 422, "{reason}");
        assert!(reason.contains("more than"), "{reason}");
        // Over the upload limit (4 MiB here; a 10 GiB one is refused the same way, from its
        // declared length, before a byte is stored).
        let mut large =
            br#"{"schema_version": 1, "findings": [], "storyline": {}, "pad": ""#.to_vec();
        large.resize(5 << 20, b' ');
        let file = push("large", large);
        let (got, _) = refused(lead.upload(&imports, Vec::new(), &file).await).await;
        assert_eq!(got, 413);
        // Junk of any size is refused from its first bytes.
        let file = push("large junk", vec![b' '; 5 << 20]);
        let (got, _) = refused(lead.upload(&imports, Vec::new(), &file).await).await;
        assert_eq!(got, 415);
        // A client that does not ask first and sends too much: cut off, nothing kept (it may
        // or may not read the reason before the connection closes).
        let file = push("unasked", vec![b'{'; 6 << 20]);
        match lead.upload_unchecked(&imports, Vec::new(), &file).await {
            Err(ClientError::Refused { status, .. }) => assert!(status == 413 || status == 415),
            Err(ClientError::Http(_)) => {}
            other => panic!("{other:?}"),
        }
        // A ledger longer than the body it says it precedes.
        let file = push("short", b"{}".to_vec());
        let (got, reason) = refused(
            lead.upload_unchecked(
                &format!("{imports}&ledger_bytes=100"),
                vec![b'x'; 10],
                &file,
            )
            .await,
        )
        .await;
        assert_eq!(got, 400, "{reason}");
        // Nothing was kept, nothing is left in the upload area, and the server still serves.
        let case_now = lead.get(&format!("/api/v1/cases/{case}")).await.unwrap();
        assert_eq!(case_now["version"], 1, "{case_now}");
        for what in ["findings", "imports", "timeline", "iocs", "assets"] {
            let v = lead
                .get(&format!("/api/v1/cases/{case}/{what}"))
                .await
                .unwrap();
            assert_eq!(
                v,
                json!([]),
                "{what} after refused imports on {}",
                db.backend
            );
        }
        let left: Vec<_> = std::fs::read_dir(server.data.path().join("tmp"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // The good one goes in whole, and again adds nothing twice.
        let file = push("good", good);
        let first = lead.upload(&imports, Vec::new(), &file).await.unwrap();
        assert_eq!(first["findings"]["new_findings"], 3, "{first}");
        let again = lead.upload(&imports, Vec::new(), &file).await.unwrap();
        assert_eq!(again["findings"]["known_findings"], 3, "{again}");
        assert_eq!(again["new_iocs"], 0, "{again}");
        // Malformed JSON bodies and unknown fields are 4xx with a reason, never 500.
        let (got, _) = refused(
            lead.call(
                Method::PATCH,
                &format!("/api/v1/cases/{case}"),
                Some(&json!({"version": "one"})),
            )
            .await,
        )
        .await;
        assert_eq!(got, 422);
        let (got, _) = refused(
            lead.call(
                Method::PATCH,
                &format!("/api/v1/cases/{case}"),
                Some(&json!({"version": 1, "colour": "x"})),
            )
            .await,
        )
        .await;
        assert_eq!(got, 422);
        let (got, _) = refused(
            lead.call(
                Method::POST,
                &format!("/api/v1/cases/{case}/notes"),
                Some(&json!({"body": "x".repeat(2 << 20)})),
            )
            .await,
        )
        .await;
        assert_eq!(got, 413);
        let (got, _) = refused(
            lead.call(
                Method::POST,
                &format!("/api/v1/cases/{case}/notes"),
                Some(&json!({"body": "a\u{0}b"})),
            )
            .await,
        )
        .await;
        assert_eq!(got, 422);
        let (got, _) = refused(lead.get("/api/v1/nowhere").await).await;
        assert_eq!(got, 404);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_conflict_and_gates_hold() {
    for db in backends("conflicts").await {
        let server = Server::start(&db.url, None, 4 << 20).await;
        let (lead, tenant, case) = setup(&server).await;
        let path = format!("/api/v1/cases/{case}");
        // Two people read version 1; the second write is refused, not lost.
        lead.call(
            Method::PATCH,
            &path,
            Some(&json!({"version": 1, "title": "first"})),
        )
        .await
        .unwrap();
        let (status, _) = refused(
            lead.call(
                Method::PATCH,
                &path,
                Some(&json!({"version": 1, "title": "second"})),
            )
            .await,
        )
        .await;
        assert_eq!(status, 409);
        assert_eq!(lead.get(&path).await.unwrap()["title"], "first");
        // Eight writers at once, each on the version it read: exactly one wins per version.
        let mut handles = Vec::new();
        for i in 0..8 {
            let (lead, path) = (lead.clone(), path.clone());
            handles.push(tokio::spawn(async move {
                lead.call(
                    Method::PATCH,
                    &path,
                    Some(&json!({"version": 2, "title": format!("w{i}")})),
                )
                .await
            }));
        }
        let mut won = 0;
        for h in handles {
            match h.await.unwrap() {
                Ok(_) => won += 1,
                Err(ClientError::Refused { status: 409, .. }) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(won, 1, "{}", db.backend);
        // The gate: preparation cannot be left without the authority and an asset.
        let stage = format!("{path}/stage");
        let v = lead.get(&path).await.unwrap()["version"].as_i64().unwrap();
        match lead
            .call(Method::POST, &stage, Some(&json!({"version": v})))
            .await
        {
            Err(ClientError::Refused {
                status: 409, body, ..
            }) => {
                let unmet: Vec<&str> = body["checklist"]["criteria"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c["met"] == false)
                    .map(|c| c["id"].as_str().unwrap())
                    .collect();
                assert_eq!(
                    unmet,
                    ["preparation.authority", "preparation.assets"],
                    "{body}"
                );
            }
            other => panic!("{other:?}"),
        }
        // A responder may not override; a lead may, with a reason, and it is recorded.
        let admin = server.client(&server.admin);
        let resp = admin
            .call(
                Method::POST,
                "/api/v1/users",
                Some(&json!({"name": "rob", "role": "responder", "tenants": [tenant]})),
            )
            .await
            .unwrap();
        let rob = server.client(resp["token"].as_str().unwrap());
        let (status, _) = refused(
            rob.call(
                Method::POST,
                &stage,
                Some(&json!({"version": v, "override": "hurry"})),
            )
            .await,
        )
        .await;
        assert_eq!(status, 403);
        let (status, _) = refused(
            lead.call(
                Method::POST,
                &stage,
                Some(&json!({"version": v, "override": "  "})),
            )
            .await,
        )
        .await;
        assert_eq!(status, 409);
        let moved = lead
            .call(Method::POST, &stage, Some(&json!({"version": v, "override": "verbal authority from the CISO, letter follows"})))
            .await
            .unwrap();
        assert_eq!(moved["case"]["stage"], "detection");
        let view = lead.get(&stage).await.unwrap();
        let t = &view["transitions"][0];
        assert_eq!(
            t["override_reason"],
            "verbal authority from the CISO, letter follows"
        );
        assert_eq!(
            t["unmet"],
            json!(["preparation.authority", "preparation.assets"])
        );
        let timeline = lead.get(&format!("{path}/timeline")).await.unwrap();
        assert!(timeline.to_string().contains("OVERRIDDEN"), "{timeline}");
        // A stale version cannot move the stage.
        let (status, _) = refused(
            lead.call(
                Method::POST,
                &stage,
                Some(&json!({"version": v, "override": "again"})),
            )
            .await,
        )
        .await;
        assert_eq!(status, 409);
        // Tasks conflict the same way.
        let task = lead
            .call(
                Method::POST,
                &format!("{path}/tasks"),
                Some(&json!({"title": "image disk"})),
            )
            .await
            .unwrap();
        let tpath = format!("{path}/tasks/{}", task["id"].as_str().unwrap());
        lead.call(
            Method::PATCH,
            &tpath,
            Some(&json!({"version": 1, "done": true})),
        )
        .await
        .unwrap();
        let (status, _) = refused(
            lead.call(
                Method::PATCH,
                &tpath,
                Some(&json!({"version": 1, "done": false})),
            )
            .await,
        )
        .await;
        assert_eq!(status, 409);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_tokens_and_the_pinned_certificate() {
    for db in backends("logins").await {
        let server = Server::start(&db.url, None, 4 << 20).await;
        let _ = setup(&server).await;
        let anon = server.anonymous();
        let login = |pw: &str| json!({"name": "lena", "password": pw});
        let ok = anon
            .call(
                Method::POST,
                "/api/v1/login",
                Some(&login("correct horse battery")),
            )
            .await
            .unwrap();
        let session = server.client(ok["token"].as_str().unwrap());
        assert_eq!(session.get("/api/v1/me").await.unwrap()["user"], "lena");
        // Five wrong passwords, then even the right one is refused for a while.
        for _ in 0..5 {
            let (status, _) = refused(
                anon.call(Method::POST, "/api/v1/login", Some(&login("wrong")))
                    .await,
            )
            .await;
            assert_eq!(status, 401);
        }
        let (status, _) = refused(
            anon.call(
                Method::POST,
                "/api/v1/login",
                Some(&login("correct horse battery")),
            )
            .await,
        )
        .await;
        assert_eq!(status, 429, "{}", db.backend);
        // An unknown user is answered like a wrong password.
        let (status, reason) = refused(
            anon.call(
                Method::POST,
                "/api/v1/login",
                Some(&json!({"name": "ghost", "password": "x"})),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, reason.as_str()),
            (401, "wrong user name or password")
        );
        // Made-up and oversized tokens are 401.
        for t in ["fwt_00", &"a".repeat(10_000)] {
            let (status, _) = refused(server.client(t).get("/api/v1/cases").await).await;
            assert_eq!(status, 401);
        }
        // Tokens are stored as digests only.
        let db_text = if db.backend == "sqlite" {
            String::from_utf8_lossy(&std::fs::read(db.url.trim_start_matches("sqlite:")).unwrap())
                .into_owned()
        } else {
            String::new()
        };
        assert!(
            !db_text.contains(&server.admin),
            "a token in clear in the database"
        );
        // On either database: what is stored is the digest, never the token.
        let store = firewarden_store::Store::open(&db.url).await.unwrap();
        let stored: Vec<String> = sqlx::query_scalar("SELECT hash FROM tokens")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert!(
            stored.contains(&firewarden_store::token_hash(&server.admin)),
            "{}",
            db.backend
        );
        assert!(!stored.contains(&server.admin), "{}", db.backend);
        // Another certificate, or none pinned: refused, naming the server's pin.
        let wrong = Client::new(
            &server.url,
            Some(server.admin.clone()),
            Some(format!("sha256:{}", "0".repeat(64))),
        )
        .unwrap();
        match wrong.get("/api/v1/me").await {
            Err(ClientError::Pin(why)) => assert!(why.contains(&server.pin), "{why}"),
            other => panic!("{other:?}"),
        }
        let unpinned = Client::new(&server.url, Some(server.admin.clone()), None).unwrap();
        assert!(matches!(
            unpinned.get("/api/v1/me").await,
            Err(ClientError::Pin(_))
        ));
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_serve_the_same_cases() {
    for db in backends("two_servers").await {
        let one = Server::start(&db.url, None, 4 << 20).await;
        let two = Server::start(&db.url, Some(&one.admin), 4 << 20).await;
        let (lead_one, _, case) = setup(&one).await;
        let work = tempfile::tempdir().unwrap();
        // Both import at once, through different servers, into one case.
        let mut handles = Vec::new();
        for (i, server) in [&one, &two, &one, &two].into_iter().enumerate() {
            let client = server.client(&one.admin);
            let ids: Vec<String> = (0..50).map(|n| format!("{i}-{n}")).collect();
            let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let file = json_file(
                work.path(),
                &format!("{i}.json"),
                &triage("web01", &id_refs, "m", "2026-11-20T00:00:01Z"),
            );
            let path = format!("/api/v1/cases/{case}/imports?asset=web01");
            handles.push(tokio::spawn(async move {
                client.upload(&path, Vec::new(), &file).await
            }));
        }
        for h in handles {
            h.await.unwrap().unwrap();
        }
        let via_two = two.client(&one.admin);
        let all = via_two
            .get(&format!("/api/v1/cases/{case}/findings?limit=1000"))
            .await
            .unwrap();
        assert_eq!(all.as_array().unwrap().len(), 200, "{}", db.backend);
        assert_eq!(
            lead_one
                .get(&format!("/api/v1/cases/{case}/imports"))
                .await
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            4
        );
        // One audit chain, intact, whichever server wrote.
        let v = via_two.get("/api/v1/audit/verify").await.unwrap();
        assert_eq!(v["intact"], true, "{v}");
        one.stop().await;
        two.stop().await;
    }
}
