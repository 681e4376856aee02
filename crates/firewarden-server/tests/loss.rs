//! Business-loss evaluation through the API on both databases: services with their assets,
//! recorded downtime, ranges per VERIS variety with totals, the disruption the downtime implies,
//! the overall rating; bad ranges and currencies refused; a customer viewer reads, never writes;
//! the summary report carries it.

mod common;

use common::Server;
use firewarden_client::{ClientError, Method};
use firewarden_store::testdb::backends;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losses_are_ranges_per_variety_and_downtime_costs_the_services() {
    for db in backends("loss").await {
        let server = Server::start(&db.url, None, 1 << 20).await;
        let admin = server.client(&server.admin);
        let acme = common::tenant(&admin, "Acme").await;
        let lead = server.client(&common::user(&admin, &acme, "lena", "lead", None).await);
        let viewer =
            server.client(&common::user(&admin, &acme, "vic", "customer_viewer", None).await);
        let case = common::case(&lead, &acme, "shop down").await;
        let base = format!("/api/v1/cases/{case}");
        lead.call(
            Method::PUT,
            &format!("{base}/services/web%20shop"),
            Some(&json!({"criticality": "critical", "cost_per_hour": 1200, "currency": "eur", "assets": ["web01", "db01"]})),
        )
        .await
        .unwrap();
        // Two overlapping stretches: the shop is down while either host is (5 h, not 7).
        for (asset, from, until) in [
            ("web01", "2026-11-20T10:00:00Z", "2026-11-20T14:00:00Z"),
            ("db01", "2026-11-20T12:00:00Z", "2026-11-20T15:00:00Z"),
        ] {
            lead.call(
                Method::POST,
                &format!("{base}/downtime"),
                Some(&json!({"asset": asset, "from": from, "until": until, "note": "isolated"})),
            )
            .await
            .unwrap();
        }
        for (variety, min, likely, max) in [
            ("response_and_recovery", 8000, 12000, 20000),
            ("legal_and_regulatory", 0, 5000, 50000),
        ] {
            lead.call(
                Method::PUT,
                &format!("{base}/losses/{variety}"),
                Some(&json!({"min": min, "likely": likely, "max": max, "currency": "EUR", "note": "estimate"})),
            )
            .await
            .unwrap();
        }
        lead.call(
            Method::PUT,
            &format!("{base}/loss/rating"),
            Some(&json!({"rating": "painful"})),
        )
        .await
        .unwrap();
        let l = viewer.get(&format!("{base}/loss")).await.unwrap();
        assert_eq!(l["disruption_estimate"], json!([["EUR", 6000]]), "{l}");
        assert_eq!(l["totals"], json!([["EUR", 8000, 17000, 70000]]), "{l}");
        assert_eq!(l["overall_rating"], "painful");
        assert_eq!(l["services"][0]["currency"], "EUR");

        let refused = |r: Result<serde_json::Value, ClientError>| match r {
            Err(ClientError::Refused { status, .. }) => status,
            other => panic!("expected a refusal: {other:?}"),
        };
        let bad_range = lead
            .call(
                Method::PUT,
                &format!("{base}/losses/brand_damage"),
                Some(&json!({"min": 10, "likely": 5, "max": 20, "currency": "EUR"})),
            )
            .await;
        assert_eq!(refused(bad_range), 422);
        let bad_currency = lead
            .call(
                Method::PUT,
                &format!("{base}/losses/brand_damage"),
                Some(&json!({"min": 1, "likely": 2, "max": 3, "currency": "euros"})),
            )
            .await;
        assert_eq!(refused(bad_currency), 422);
        let unknown_variety = lead
            .call(
                Method::PUT,
                &format!("{base}/losses/karma"),
                Some(&json!({"min": 1, "likely": 2, "max": 3, "currency": "EUR"})),
            )
            .await;
        assert_eq!(refused(unknown_variety), 400);
        let by_viewer = viewer
            .call(
                Method::PUT,
                &format!("{base}/loss/rating"),
                Some(&json!({"rating": "catastrophic"})),
            )
            .await;
        assert_eq!(refused(by_viewer), 403);

        // A recommendation with an owner and a deadline; a lesson learned.
        lead.call(
            Method::POST,
            &format!("{base}/tasks"),
            Some(&json!({"title": "Put the shop behind the WAF", "owner": "Acme IT", "due": "2026-12-31"})),
        )
        .await
        .unwrap();
        let bad_due = lead
            .call(
                Method::POST,
                &format!("{base}/tasks"),
                Some(&json!({"title": "x", "due": "next week"})),
            )
            .await;
        assert_eq!(refused(bad_due), 422);
        lead.call(
            Method::POST,
            &format!("{base}/notes"),
            Some(&json!({"body": "Backups were untested", "lesson": true})),
        )
        .await
        .unwrap();
        // The summary report carries the evaluation.
        let kept = lead
            .call(
                Method::POST,
                &format!("{base}/reports"),
                Some(&json!({"format": "json"})),
            )
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.json");
        lead.download(
            &format!("{base}/reports/{}", kept["id"].as_str().unwrap()),
            &file,
        )
        .await
        .unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let report: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        let loss = &report["facts"]["loss"];
        assert_eq!(loss["overall_rating"], "Painful");
        assert_eq!(loss["losses"][0][0], "Legal and regulatory");
        assert_eq!(loss["disruption_estimate"], json!([["EUR", 6000]]));
        let task = &report["facts"]["tasks"][0];
        assert_eq!(
            (task["owner"].as_str(), task["due"].as_str()),
            (Some("Acme IT"), Some("2026-12-31"))
        );
        assert_eq!(report["facts"]["notes"][0]["lesson"], true);

        // The VERIS record validates against the VERIS 1.4.1 schema and carries the ranges.
        let veris = viewer.get(&format!("{base}/loss/veris")).await.unwrap();
        assert_eq!(veris["impact"]["overall_rating"], "Painful");
        assert_eq!(veris["incident_id"], case.as_str());
        assert!(
            veris["impact"]["loss"]
                .as_array()
                .is_some_and(|l| !l.is_empty()),
            "{veris}"
        );
        validate_veris(&veris, dir.path());
        server.stop().await;
    }
}

/// Checks a VERIS record against the VERIS schema kept in `../shared/data/veris` with PyPI
/// `jsonschema` (draft 4), as the sector's tools would.
fn validate_veris(record: &serde_json::Value, dir: &std::path::Path) {
    let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/veris/verisc-merged.json");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    // Like every test on ../shared data: skipped, saying so, where the data is not beside
    // the checkout (CI has it).
    if !schema.exists() {
        eprintln!("SKIPPED (VERIS validation): {} is absent", schema.display());
        return;
    }
    let Ok(python) = std::env::var("FIREWARDEN_TEST_PYTHON") else {
        assert!(
            !ci,
            "FIREWARDEN_TEST_PYTHON is not set: scripts/test.sh installs jsonschema"
        );
        eprintln!("SKIPPED (VERIS validation): FIREWARDEN_TEST_PYTHON is not set");
        return;
    };
    let file = dir.join("veris.json");
    std::fs::write(&file, serde_json::to_vec_pretty(record).unwrap()).unwrap();
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import json, sys, jsonschema\n\
schema = json.load(open(sys.argv[1]))\n\
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(json.load(open(sys.argv[2]))), key=str)\n\
for e in errors: print(list(e.absolute_path), e.message)\n\
sys.exit(1 if errors else 0)",
        ])
        .arg(&schema)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the VERIS record does not validate:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
