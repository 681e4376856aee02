//! Chain of custody on the server, through the API on both databases: a pushed bundle is one
//! write-once item (the same bytes again are the same item), encrypted at rest with its
//! tenant's key; its ledger goes on with the server's receipt, people's check-outs, check-ins
//! and transfers (signed by the server and by them), downloads and the final disposal, every
//! event re-measuring the bundle; what a third party gets verifies with the public keys alone,
//! and a changed blob, line, order or key is named.

mod common;

use common::{Server, bundle, push_bundle};
use firewarden_client::{ClientError, Method};
use firewarden_evidence::custody::{self, NewEvent};
use firewarden_evidence::{KeyPair, PublicKey};
use firewarden_store::testdb::backends;
use serde_json::{Value, json};

/// A custody event signed by `key` as `by`, following the ledger as `view` shows it.
fn signed_event(view: &Value, by: &str, key: &KeyPair, body: Value) -> Value {
    let lines: Vec<String> = serde_json::from_value(view["lines"].clone()).unwrap();
    let (parsed, _) = custody::parse(lines.join("\n").as_bytes());
    let prev = custody::line_digest(&parsed.last().unwrap().raw);
    let mut with_by = body.clone();
    with_by["by"] = json!(by);
    let declared: NewEvent = serde_json::from_value(with_by).unwrap();
    let statement = custody::actor_statement(&parsed[0].event.evidence_id, &prev, &declared);
    let mut body = body;
    body["prev"] = json!(prev);
    body["actor"] = json!({
        "key": key.public().to_hex(),
        "signature": firewarden_evidence::encoding::hex(&key.sign(&statement)),
    });
    body
}

fn refused(r: Result<Value, ClientError>) -> (u16, String) {
    match r {
        Err(ClientError::Refused { status, reason, .. }) => (status, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custody_continues_on_the_server_and_verifies_offline() {
    for db in backends("custody_server").await {
        let server = Server::start(&db.url, None, 64 << 20).await;
        let admin = server.client(&server.admin);
        let work = tempfile::tempdir().unwrap();
        let acme = common::tenant(&admin, "Acme").await;
        let lead = server.client(&common::user(&admin, &acme, "lena", "lead", None).await);
        let viewer =
            server.client(&common::user(&admin, &acme, "vic", "customer_viewer", None).await);
        let case = common::case(&lead, &acme, "web01").await;
        let (fwb, collector) = bundle(work.path(), "web01-custodyhost");
        let original = std::fs::read(&fwb).unwrap();
        let e = push_bundle(&lead, &case, "web01", &fwb).await;
        // The same bytes again: the same item, its ledger goes on (a second receipt).
        assert_eq!(push_bundle(&lead, &case, "web01", &fwb).await, e);
        let items = lead
            .get(&format!("/api/v1/cases/{case}/evidence"))
            .await
            .unwrap();
        assert_eq!(items.as_array().unwrap().len(), 1, "{items}");

        // At rest: encrypted with the tenant's key, under the tenant, read-only.
        let blob = items[0]["blob"].as_str().unwrap();
        assert!(
            blob.starts_with(&format!("{acme}/")) && blob.ends_with(".fwb.age"),
            "{blob}"
        );
        let kept = server.data.path().join("evidence").join(blob);
        let at_rest = std::fs::read(&kept).unwrap();
        assert!(at_rest.starts_with(b"age-encryption.org/v1"));
        assert!(
            !at_rest
                .windows(b"collector of web01".len())
                .any(|w| w == b"collector of web01"),
            "the bundle's text shows at rest"
        );

        // The ledger: acquisition (the collector), then two receipts (the server).
        let path = format!("/api/v1/evidence/{e}");
        let view = lead.get(&path).await.unwrap();
        let kinds = |v: &Value| -> Vec<String> {
            v["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["event"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(kinds(&view), ["acquire", "receive", "receive"], "{view}");
        assert_eq!(view["problems"], json!([]), "{view}");
        let server_key = PublicKey::parse(view["server_key"].as_str().unwrap()).unwrap();
        assert_eq!(
            server.anonymous().get("/api/v1/server-key").await.unwrap()["public_key"],
            json!(server_key.to_hex())
        );

        // Check-out and check-in, signed by the examiner too; a second check-out waits.
        let lena = KeyPair::generate(false).unwrap();
        let out = signed_event(
            &view,
            "lena",
            &lena,
            json!({"event": "check-out", "reason": "memory analysis", "authority": "engagement letter 4.2"}),
        );
        let view = lead
            .call(Method::POST, &format!("{path}/custody"), Some(&out))
            .await
            .unwrap();
        assert_eq!(view["state"]["checked_out_by"], "lena", "{view}");
        let again = signed_event(
            &view,
            "lena",
            &lena,
            json!({"event": "check-out", "reason": "twice"}),
        );
        let (status, why) = refused(
            lead.call(Method::POST, &format!("{path}/custody"), Some(&again))
                .await,
        );
        assert_eq!(status, 409, "{why}");
        assert!(why.contains("checked out by lena"), "{why}");
        // A replay of the check-out's signature at a later place in the ledger is refused.
        let (status, why) = refused(
            lead.call(Method::POST, &format!("{path}/custody"), Some(&out))
                .await,
        );
        assert_eq!(status, 409, "{why}");
        // Someone claiming to be another person: the signature is over `by` = the caller.
        let forged = signed_event(
            &view,
            "someone else",
            &lena,
            json!({"event": "check-in", "reason": "back"}),
        );
        let (status, _) = refused(
            lead.call(Method::POST, &format!("{path}/custody"), Some(&forged))
                .await,
        );
        assert_eq!(status, 422);
        let back = signed_event(
            &view,
            "lena",
            &lena,
            json!({"event": "check-in", "reason": "analysis done", "location": "evidence store"}),
        );
        let view = lead
            .call(Method::POST, &format!("{path}/custody"), Some(&back))
            .await
            .unwrap();
        assert_eq!(view["state"]["checked_out_by"], Value::Null);
        let transfer = json!({"event": "transfer", "reason": "to the court's expert", "to": "Dr. Expert", "method": "courier 1Z999", "seal": "BAG-0042"});
        let view = lead
            .call(Method::POST, &format!("{path}/custody"), Some(&transfer))
            .await
            .unwrap();
        // A customer's viewer may read the ledger, not write to it or take a copy.
        assert_eq!(viewer.get(&path).await.unwrap()["lines"], view["lines"]);
        let (status, _) = refused(
            viewer
                .call(
                    Method::POST,
                    &format!("{path}/custody"),
                    Some(&json!({"event": "examine", "reason": "curious"})),
                )
                .await,
        );
        assert_eq!(status, 403);
        let dest = work.path().join("viewer-copy.fwb");
        assert!(
            viewer
                .download(&format!("{path}/blob"), &dest)
                .await
                .is_err()
        );
        assert!(!dest.exists());

        // A download: the bundle's own bytes, and a custody event.
        let dest = work.path().join("copy.fwb");
        let headers = lead.download(&format!("{path}/blob"), &dest).await.unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), original);
        assert_eq!(
            headers["x-firewarden-sha256"],
            view["item"]["sha256"].as_str().unwrap()
        );
        let view = lead.get(&path).await.unwrap();
        assert_eq!(
            kinds(&view),
            [
                "acquire",
                "receive",
                "receive",
                "check-out",
                "check-in",
                "transfer",
                "download"
            ]
        );
        let events = view["events"].as_array().unwrap();
        assert!(events.iter().all(|e| e["hash_verified"] == true), "{view}");
        assert_eq!(events[3]["actor"]["key"], json!(lena.public().to_hex()));
        assert_eq!(events[5]["by"], "lena");

        // A third party, offline, with the two public keys: intact.
        let lines: Vec<String> = serde_json::from_value(view["lines"].clone()).unwrap();
        let (parsed, bad) = custody::parse(lines.join("\n").as_bytes());
        assert!(bad.is_empty());
        let keys = [server_key, collector];
        let original_sha = view["item"]["sha256"].as_str().unwrap();
        assert_eq!(
            custody::verify_offline(&parsed, &keys, Some(original_sha)),
            Vec::<String>::new()
        );
        // Each kind of tampering is named.
        let check = |lines: Vec<String>, keys: &[PublicKey]| {
            let (parsed, _) = custody::parse(lines.join("\n").as_bytes());
            custody::verify_offline(&parsed, keys, None).join("; ")
        };
        let mut edited = lines.clone();
        edited[3] = edited[3].replace("memory analysis", "memory analysiz");
        assert!(
            check(edited, &keys).contains("custody event 4 (check-out): signature does not verify")
        );
        let mut reordered = lines.clone();
        reordered.swap(3, 4);
        let why = check(reordered, &keys);
        assert!(
            why.contains("out of sequence") && why.contains("does not chain"),
            "{why}"
        );
        let why = check(lines.clone(), &[collector]);
        assert!(
            why.contains("custody event 2 (receive): signed by key")
                && why.contains("not among the keys given"),
            "{why}"
        );
        let mut dropped = lines.clone();
        dropped.remove(4);
        assert!(check(dropped, &keys).contains("does not chain"));

        // The stored blob changed: a download is refused, by name.
        {
            use std::os::unix::fs::PermissionsExt;
            let mut bytes = at_rest.clone();
            let mid = bytes.len() / 2;
            bytes[mid] ^= 1;
            std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::fs::write(&kept, &bytes).unwrap();
            let (status, why) =
                refused(lead.call(Method::GET, &format!("{path}/blob"), None).await);
            assert_eq!(status, 409, "{why}");
            assert!(why.contains("does not read back"), "{why}");
            std::fs::write(&kept, &at_rest).unwrap();
        }

        // Disposal closes the ledger: retained needs its period; destroyed ends it.
        let (status, why) = refused(
            lead.call(
                Method::POST,
                &format!("{path}/custody"),
                Some(&json!({"event": "dispose", "reason": "end", "disposition": "retained"})),
            )
            .await,
        );
        assert_eq!(status, 400, "{why}");
        lead.call(
            Method::POST,
            &format!("{path}/custody"),
            Some(&json!({"event": "dispose", "reason": "customer instruction", "disposition": "destroyed", "authority": "contract 9.1"})),
        )
        .await
        .unwrap();
        let (status, why) = refused(
            lead.call(
                Method::POST,
                &format!("{path}/custody"),
                Some(&json!({"event": "examine", "reason": "late"})),
            )
            .await,
        );
        assert_eq!(status, 409);
        assert!(why.contains("destroyed"), "{why}");
        let dest = work.path().join("late.fwb");
        assert!(lead.download(&format!("{path}/blob"), &dest).await.is_err());
        let timeline = lead
            .get(&format!("/api/v1/cases/{case}/timeline"))
            .await
            .unwrap();
        let custody_events = timeline
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"].as_str().unwrap().starts_with("custody."))
            .count();
        assert_eq!(custody_events, 7, "{timeline}");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_another_master_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("cases.db").display());
    let first = Server::start(&url, None, 1 << 20).await;
    first.stop().await;
    // The server's own keys are stored sealed by the master key, never in clear.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let keys: Vec<(String, String)> =
        sqlx::query_as("SELECT purpose, private_pem FROM server_keys ORDER BY purpose")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    let purposes: Vec<&str> = keys.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        purposes,
        ["approvals", "evidence-master-check", "ioc-linkage"]
    );
    for (purpose, stored) in &keys {
        assert!(
            !stored.contains("PRIVATE KEY") && !stored.contains("AGE-SECRET"),
            "{purpose} in clear"
        );
    }
    let data = tempfile::tempdir().unwrap();
    let config = firewarden_server::Config {
        data: data.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        database: Some(url),
        evidence_store: None,
        transport: firewarden_server::Transport::GeneratedTls,
        max_upload: 1 << 20,
        sla_every: std::time::Duration::from_secs(3600),
        master_key: Some(data.path().join("another.key")),
    };
    let err = firewarden_server::run(config, |_| {}, async {})
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("does not open this database's evidence keys"),
        "{err}"
    );
}
