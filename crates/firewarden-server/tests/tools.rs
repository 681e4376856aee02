//! The tool registry through the API on both databases: imports name the binary and rule
//! packs they came from; each is judged (unregistered, registered but not validated,
//! validated, superseded); a tenant that accepts validated tools only refuses the rest; a
//! validation run must be signed and of the very hash registered; updates keep history.

mod common;

use common::{Server, json_file, triage};
use firewarden_client::{Client, ClientError, Method};
use firewarden_evidence::KeyPair;
use firewarden_model::selftest::{SelftestCheck, SelftestResult, SignedSelftest};
use firewarden_model::{Provenance, RulePack, Timestamp};
use firewarden_store::testdb::backends;
use serde_json::{Value, json};

fn refused(r: Result<Value, ClientError>) -> (u16, String) {
    match r {
        Err(ClientError::Refused { status, reason, .. }) => (status, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn run_of(sha: &str, passed: bool, key: &KeyPair) -> SignedSelftest {
    let result = SelftestResult {
        v: 1,
        tool: "firewarden test".into(),
        tool_sha256: sha.into(),
        host: "lab".into(),
        started: Timestamp(0),
        finished: Timestamp(1),
        checks: vec![SelftestCheck {
            id: "triage.planted.accounts.uid0".into(),
            title: "t".into(),
            passed,
            detail: "d".into(),
        }],
        passed,
    };
    SignedSelftest {
        signature: firewarden_evidence::encoding::hex(&key.sign(&result.signed_bytes())),
        signer: key.public().to_hex(),
        result,
    }
}

/// Pushes a triage that names `provenance`; the answer.
async fn push(
    client: &Client,
    dir: &std::path::Path,
    case: &str,
    n: usize,
    provenance: &Provenance,
) -> Result<Value, ClientError> {
    let mut r = triage("web01", &[&format!("f{n}")], "m", "2026-11-20T00:00:09Z");
    r.provenance = provenance.clone();
    let file = json_file(dir, &format!("t{n}.json"), &r);
    client
        .upload(
            &format!("/api/v1/cases/{case}/imports?asset=web01"),
            Vec::new(),
            &file,
        )
        .await
}

fn flags(v: &Value) -> Vec<String> {
    serde_json::from_value(v["flags"].clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_are_judged_against_the_registry() {
    for db in backends("tool_registry").await {
        let server = Server::start(&db.url, None, 64 << 20).await;
        let admin = server.client(&server.admin);
        let work = tempfile::tempdir().unwrap();
        let acme = common::tenant(&admin, "Acme").await;
        let lead = server.client(&common::user(&admin, &acme, "lena", "lead", None).await);
        let viewer =
            server.client(&common::user(&admin, &acme, "vic", "customer_viewer", None).await);
        let case = common::case(&lead, &acme, "t").await;
        let (v1, v2) = ("1a".repeat(32), "2b".repeat(32));
        let binary = |sha: &str| Provenance {
            tool_sha256: Some(sha.to_owned()),
            rule_packs: Vec::new(),
        };

        // Unknown binary: taken, flagged; an upload that names no binary is flagged too.
        let out = push(&lead, work.path(), &case, 1, &binary(&v1))
            .await
            .unwrap();
        assert_eq!(
            flags(&out),
            [format!("the binary sha256 {v1}: not registered")]
        );
        let out = push(&lead, work.path(), &case, 2, &Provenance::default())
            .await
            .unwrap();
        assert_eq!(
            flags(&out),
            ["the binary: not recorded in the upload".to_owned()]
        );

        // Only admins register; everyone reads.
        let entry = json!({"kind": "binary", "name": "firewarden", "version": "0.1.0", "sha256": v1,
                           "source": "https://example.org/build/1", "licence": "Apache-2.0"});
        let (status, _) = refused(lead.call(Method::POST, "/api/v1/tools", Some(&entry)).await);
        assert_eq!(status, 403);
        let t1 = admin
            .call(Method::POST, "/api/v1/tools", Some(&entry))
            .await
            .unwrap();
        let t1_id = t1["id"].as_str().unwrap().to_owned();
        assert_eq!(
            (t1["status"].as_str(), t1["validated"].as_bool()),
            (Some("approved"), Some(false))
        );
        let (status, why) = refused(
            admin
                .call(Method::POST, "/api/v1/tools", Some(&entry))
                .await,
        );
        assert_eq!(status, 409, "{why}");
        assert_eq!(
            viewer.get("/api/v1/tools").await.unwrap()[0]["id"],
            json!(t1_id)
        );
        let out = push(&lead, work.path(), &case, 3, &binary(&v1))
            .await
            .unwrap();
        assert!(
            flags(&out)[0].ends_with("registered but not validated"),
            "{out}"
        );

        // A validation run: signed, of this very hash, passing.
        let key = KeyPair::generate(false).unwrap();
        let path = format!("/api/v1/tools/{t1_id}/validations");
        let mut forged = serde_json::to_value(run_of(&v1, true, &key)).unwrap();
        forged["result"]["passed"] = json!(true);
        forged["result"]["checks"][0]["detail"] = json!("edited");
        let (status, why) = refused(admin.call(Method::POST, &path, Some(&forged)).await);
        assert_eq!(status, 422, "{why}");
        assert!(why.contains("signature does not verify"), "{why}");
        let other = serde_json::to_value(run_of(&v2, true, &key)).unwrap();
        let (status, why) = refused(admin.call(Method::POST, &path, Some(&other)).await);
        assert_eq!(status, 422);
        assert!(why.contains("the run was of binary sha256 2b2b"), "{why}");
        let failing = serde_json::to_value(run_of(&v1, false, &key)).unwrap();
        let t = admin
            .call(Method::POST, &path, Some(&failing))
            .await
            .unwrap();
        assert_eq!(t["validated"], false);
        let good = serde_json::to_value(run_of(&v1, true, &key)).unwrap();
        let t = admin.call(Method::POST, &path, Some(&good)).await.unwrap();
        assert_eq!(t["validated"], true);
        let shown = viewer.get(&format!("/api/v1/tools/{t1_id}")).await.unwrap();
        assert_eq!(shown["validations"].as_array().unwrap().len(), 2, "{shown}");
        let out = push(&lead, work.path(), &case, 4, &binary(&v1))
            .await
            .unwrap();
        assert_eq!(flags(&out), Vec::<String>::new());
        assert_eq!(out["tools"][0]["standing"], "validated");
        assert_eq!(out["tools"][0]["registered_as"], "firewarden 0.1.0");

        // A rule pack: flagged until registered; its approval validates it.
        let pack = Provenance {
            tool_sha256: Some(v1.clone()),
            rule_packs: vec![RulePack {
                kind: "sigma".into(),
                name: "lab-rules".into(),
                sha256: "3c".repeat(32),
                files: 4,
            }],
        };
        let out = push(&lead, work.path(), &case, 5, &pack).await.unwrap();
        assert_eq!(
            flags(&out),
            [format!(
                "sigma pack lab-rules sha256 {}: not registered",
                "3c".repeat(32)
            )]
        );
        admin
            .call(
                Method::POST,
                "/api/v1/tools",
                Some(&json!({"kind": "sigma", "name": "lab-rules", "version": "2026-11", "sha256": "3c".repeat(32),
                              "source": "lab", "licence": "DRL-1.1"})),
            )
            .await
            .unwrap();
        let out = push(&lead, work.path(), &case, 6, &pack).await.unwrap();
        assert_eq!(flags(&out), Vec::<String>::new());

        // A tenant that accepts validated tools only: the rest is refused, nothing kept.
        admin
            .call(
                Method::PATCH,
                &format!("/api/v1/tenants/{acme}"),
                Some(&json!({"tool_policy": "refuse"})),
            )
            .await
            .unwrap();
        let before = lead
            .get(&format!("/api/v1/cases/{case}/imports"))
            .await
            .unwrap();
        let (status, why) = refused(push(&lead, work.path(), &case, 7, &binary(&v2)).await);
        assert_eq!(status, 422);
        assert!(
            why.contains("validated tools only") && why.contains(&v2),
            "{why}"
        );
        push(&lead, work.path(), &case, 8, &binary(&v1))
            .await
            .unwrap();

        // A new version replaces the old, which stays as history and no longer counts.
        let (status, _) = refused(
            admin
                .call(
                    Method::POST,
                    "/api/v1/tools",
                    Some(&json!({"kind": "binary", "name": "firewarden", "version": "0.2.0", "sha256": v2,
                                  "source": "build 2", "licence": "Apache-2.0", "replaces": t1_id})),
                )
                .await,
        );
        assert_eq!(status, 422, "an update says what changed");
        let t2 = admin
            .call(
                Method::POST,
                "/api/v1/tools",
                Some(&json!({"kind": "binary", "name": "firewarden", "version": "0.2.0", "sha256": v2,
                              "source": "build 2", "licence": "Apache-2.0", "replaces": t1_id,
                              "changes": "ASPX webshell heuristics"})),
            )
            .await
            .unwrap();
        let old = admin.get(&format!("/api/v1/tools/{t1_id}")).await.unwrap();
        assert_eq!(old["status"], "superseded");
        assert_eq!(old["superseded_by"], t2["id"]);
        assert_eq!(t2["replaces"], json!(t1_id));
        let (status, why) = refused(push(&lead, work.path(), &case, 9, &binary(&v1)).await);
        assert_eq!(status, 422);
        assert!(why.contains("superseded or withdrawn"), "{why}");
        let after = lead
            .get(&format!("/api/v1/cases/{case}/imports"))
            .await
            .unwrap();
        assert_eq!(
            after.as_array().unwrap().len(),
            before.as_array().unwrap().len() + 1
        );
        // Each import keeps how its tools stood.
        let kept = &after.as_array().unwrap()[0];
        assert!(kept["tools"].is_array(), "{kept}");
        let audit = admin.get("/api/v1/audit/verify").await.unwrap();
        assert_eq!(audit["intact"], true);
        server.stop().await;
    }
}
