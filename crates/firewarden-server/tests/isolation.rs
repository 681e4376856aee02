//! Tenants never see each other, route by route. The routes come from the server's own
//! OpenAPI document, so a route added without a probe here fails this test, and one added
//! without the tenant check fails it too. Run on SQLite and PostgreSQL.

mod common;

use common::{Server, json_file, triage};
use firewarden_client::{Client, ClientError, Method};
use firewarden_server::web::PageAccess;
use firewarden_store::testdb::backends;
use serde_json::{Value, json};

/// What one tenant holds that no other tenant's user may ever read.
struct Secrets {
    tenant: String,
    case: String,
    task: String,
    asset: String,
    approval: String,
    evidence: String,
    /// A tool registry entry (platform-wide: no tenant's).
    tool: String,
    report: String,
    /// A pre-authorisation Globex's authoriser granted.
    preauth: String,
    markers: Vec<String>,
}

impl Secrets {
    fn leaked_in(&self, text: &str) -> Option<&str> {
        self.markers
            .iter()
            .map(String::as_str)
            .chain([
                self.tenant.as_str(),
                self.case.as_str(),
                self.task.as_str(),
                self.approval.as_str(),
                self.evidence.as_str(),
                self.report.as_str(),
            ])
            .find(|m| text.contains(m))
    }
}

/// A body that would succeed for a user of the target tenant, per route: so a refusal is the
/// tenant check, not a malformed request.
fn probe_body(op: &str, s: &Secrets, version: i64) -> Option<Value> {
    Some(match op {
        "POST /api/v1/tenants" => json!({"name": "Intruder"}),
        "PATCH /api/v1/tenants/{tenant}" => json!({"contacts": "intruder@example.com"}),
        "POST /api/v1/users" => {
            json!({"name": "intruder", "role": "responder", "tenants": [s.tenant]})
        }
        "POST /api/v1/cases" => {
            json!({"tenant": s.tenant, "title": "planted", "kind": "other", "severity": "low"})
        }
        "PATCH /api/v1/cases/{case}" => {
            json!({"version": version, "title": "renamed by another tenant"})
        }
        "PUT /api/v1/cases/{case}/assets/{asset}" => json!({"compromise": "clean", "version": 1}),
        "POST /api/v1/cases/{case}/notes" => json!({"body": "planted note"}),
        "POST /api/v1/cases/{case}/preauthorisations/{preauth}/revocation" => {
            json!({"reason": "planted", "password": "g_auth long password"})
        }
        "POST /api/v1/cases/{case}/tasks" => json!({"title": "planted task"}),
        "PATCH /api/v1/cases/{case}/tasks/{task}" => json!({"version": 1, "done": true}),
        "POST /api/v1/cases/{case}/stage" => {
            json!({"version": version, "override": "another tenant"})
        }
        "POST /api/v1/cases/{case}/waivers" => {
            json!({"criterion": "preparation.authority", "reason": "another tenant"})
        }
        "POST /api/v1/cases/{case}/checkins" => json!({"clock": "on_site", "place": "planted"}),
        "POST /api/v1/cases/{case}/approvals" => {
            json!({"host": "gdb01", "plan": {"id": "A2", "kind": "contain.network", "title": "planted", "risk": "low", "root": "/", "steps": []}})
        }
        "POST /api/v1/cases/{case}/approvals/{approval}/decision" => {
            json!({"approve": true, "password": "whatever it is"})
        }
        "POST /api/v1/cases/{case}/preauthorisations" => {
            json!({"hosts": ["gdb*"], "max_risk": "high", "hours": 1, "password": "whatever it is"})
        }
        "POST /api/v1/cases/{case}/reports" => json!({"format": "md", "lang": "en"}),
        "PUT /api/v1/cases/{case}/services/{service}" => {
            json!({"criticality": "high", "cost_per_hour": 10, "currency": "EUR", "assets": ["gdb01"]})
        }
        "POST /api/v1/cases/{case}/downtime" => {
            json!({"asset": "gdb01", "from": "2026-11-20T00:00:00Z"})
        }
        "PUT /api/v1/cases/{case}/losses/{variety}" => {
            json!({"min": 1, "likely": 2, "max": 3, "currency": "EUR"})
        }
        "PUT /api/v1/cases/{case}/loss/rating" => json!({"rating": "painful"}),
        "POST /api/v1/cases/{case}/iocs" => json!({"kind": "ipv4", "value": "192.0.2.99"}),
        "POST /api/v1/cases/{case}/iocs/import" => {
            json!([{"type": "ipv4", "value": "192.0.2.98"}])
        }
        "POST /api/v1/tools" => json!({"kind": "binary", "name": "intruder", "version": "1",
            "sha256": "ab".repeat(32), "source": "x", "licence": "x"}),
        "POST /api/v1/tools/{tool}/validations" => {
            json!({"result": {"v": 1, "tool": "x", "tool_sha256": "cd".repeat(32), "host": "h",
                "started": "2026-11-20T00:00:00Z", "finished": "2026-11-20T00:00:01Z",
                "checks": [], "passed": true}, "signer": "00".repeat(32), "signature": "00".repeat(64)})
        }
        "POST /api/v1/tools/{tool}/withdrawal" => json!({"reason": "planted"}),
        "POST /api/v1/evidence/{evidence}/custody" => {
            json!({"event": "examine", "reason": "planted examination"})
        }
        "POST /api/v1/login" => json!({"name": "nobody", "password": "wrong password here"}),
        _ => return None,
    })
}

async fn send(
    client: &Client,
    method: &str,
    path: &str,
    body: Option<Value>,
    upload: &std::path::Path,
) -> (u16, String) {
    let result = if path.contains("/imports") && method == "POST" {
        client
            .upload(&format!("{path}?asset=web01"), Vec::new(), upload)
            .await
    } else {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        client.call(m, path, body.as_ref()).await
    };
    match result {
        Ok(v) => (200, v.to_string()),
        Err(ClientError::Refused { status, body, .. }) => (status, body.to_string()),
        Err(e) => panic!("{method} {path}: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_hides_another_tenants_data() {
    for db in backends("isolation_routes").await {
        let server = Server::start(&db.url, None, 64 << 20).await;
        let admin = server.client(&server.admin);
        let work = tempfile::tempdir().unwrap();
        let (acme, globex) = (
            common::tenant(&admin, "Acme").await,
            common::tenant(&admin, "Globex").await,
        );
        let user = |name: &'static str, role: &'static str, t: String| {
            let admin = admin.clone();
            async move { common::user(&admin, &t, name, role, None).await }
        };
        // Globex's case, with something in every part of it.
        let g_lead = server.client(&user("g_lead", "lead", globex.clone()).await);
        let case: Value = g_lead
            .call(Method::POST, "/api/v1/cases", Some(&json!({"tenant": globex, "title": "GLOBEXSECRET title", "kind": "webshell", "severity": "high"})))
            .await
            .unwrap();
        let case_id = case["id"].as_str().unwrap().to_owned();
        let report = json_file(
            work.path(),
            "g.json",
            &triage("gdb01", &["a", "b"], "globexmarker", "2026-11-20T00:00:01Z"),
        );
        g_lead
            .upload(
                &format!("/api/v1/cases/{case_id}/imports?asset=gdb01"),
                Vec::new(),
                &report,
            )
            .await
            .unwrap();
        g_lead
            .call(
                Method::POST,
                &format!("/api/v1/cases/{case_id}/notes"),
                Some(&json!({"body": "GLOBEXSECRET note"})),
            )
            .await
            .unwrap();
        let task = g_lead
            .call(
                Method::POST,
                &format!("/api/v1/cases/{case_id}/tasks"),
                Some(&json!({"title": "GLOBEXSECRET task"})),
            )
            .await
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // A pending request to isolate one of Globex's hosts.
        let approval = g_lead
            .call(
                Method::POST,
                &format!("/api/v1/cases/{case_id}/approvals"),
                Some(&json!({"host": "gdb01", "plan": {"id": "A1", "kind": "contain.network", "title": "GLOBEXSECRET isolation", "risk": "high", "root": "/", "steps": []}})),
            )
            .await
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // An evidence bundle of Globex's, with its custody ledger.
        let (fwb, _) = common::bundle(work.path(), "gdb01");
        let evidence = common::push_bundle(&g_lead, &case_id, "gdb01", &fwb).await;
        // A summary report of Globex's case, kept with it.
        let report = g_lead
            .call(
                Method::POST,
                &format!("/api/v1/cases/{case_id}/reports"),
                Some(&json!({"format": "md"})),
            )
            .await
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // A scope Globex's authoriser granted ahead.
        let g_auth = server.client(
            &common::user(
                &admin,
                &globex,
                "g_auth",
                "customer_authoriser",
                Some("g_auth long password"),
            )
            .await,
        );
        let preauth = g_auth
            .call(
                Method::POST,
                &format!("/api/v1/cases/{case_id}/preauthorisations"),
                Some(&json!({"hosts": ["gdb*"], "max_risk": "high", "hours": 4, "password": "g_auth long password"})),
            )
            .await
            .unwrap()["statement"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let secrets = Secrets {
            preauth,
            report,
            tenant: globex.clone(),
            case: case_id.clone(),
            task,
            asset: "gdb01".into(),
            approval,
            evidence: evidence.clone(),
            tool: admin
                .call(
                    Method::POST,
                    "/api/v1/tools",
                    Some(
                        &json!({"kind": "binary", "name": "firewarden", "version": "0.1.0",
                        "sha256": "cd".repeat(32), "source": "build", "licence": "Apache-2.0"}),
                    ),
                )
                .await
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
            markers: vec!["GLOBEXSECRET".into(), "globexmarker".into(), "gdb01".into()],
        };
        let before = g_lead
            .get(&format!("/api/v1/cases/{case_id}"))
            .await
            .unwrap();
        let version = before["version"].as_i64().unwrap();

        // Acme's people, every role; the probe upload is a valid triage of Acme's.
        let acme_users = [
            ("a_admin_scoped", "lead"),
            ("a_resp", "responder"),
            ("a_auth", "customer_authoriser"),
            ("a_view", "customer_viewer"),
        ];
        let mut probers = Vec::new();
        for (name, role) in acme_users {
            probers.push((name, server.client(&user(name, role, acme.clone()).await)));
        }
        let upload = json_file(
            work.path(),
            "a.json",
            &triage("aweb01", &["z"], "acmemarker", "2026-11-20T00:00:02Z"),
        );

        let doc = server
            .anonymous()
            .get("/api/v1/openapi.json")
            .await
            .unwrap();
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 20, "{}", paths.len());
        let mut probed = 0;
        for (path, methods) in paths {
            for (method, op) in methods.as_object().unwrap() {
                let method = method.to_ascii_uppercase();
                let op_id = format!("{method} {path}");
                let access = op["x-firewarden-access"].as_str().unwrap();
                let concrete = path
                    .replace("{tenant}", &secrets.tenant)
                    .replace("{case}", &secrets.case)
                    .replace("{task}", &secrets.task)
                    .replace("{asset}", &secrets.asset)
                    .replace("{approval}", &secrets.approval)
                    .replace("{evidence}", &secrets.evidence)
                    .replace("{tool}", &secrets.tool)
                    .replace("{report}", &secrets.report)
                    .replace("{preauth}", &secrets.preauth)
                    .replace("{service}", "shop")
                    .replace("{variety}", "operating_costs");
                let body = probe_body(&op_id, &secrets, version);
                let takes_body = op.get("requestBody").is_some();
                assert!(
                    !takes_body || body.is_some() || path.ends_with("/imports"),
                    "{op_id} takes a body: give it a probe body in this test"
                );
                if access == "public" {
                    continue;
                }
                // Without a token: 401, whatever the route.
                let (status, _) = send(
                    &server.anonymous(),
                    &method,
                    &concrete,
                    body.clone(),
                    &upload,
                )
                .await;
                assert_eq!(status, 401, "{op_id} without a token on {}", db.backend);
                for (who, client) in &probers {
                    let (status, text) =
                        send(client, &method, &concrete, body.clone(), &upload).await;
                    let leaked = secrets.leaked_in(&text);
                    assert!(
                        leaked.is_none(),
                        "{op_id} as {who} ({}) showed {leaked:?} of another tenant: {status} {text}",
                        db.backend
                    );
                    match access {
                        "admin" => assert_eq!(status, 403, "{op_id} as {who}: {text}"),
                        "user" => assert!(
                            status == 200 || status == 403,
                            "{op_id} as {who}: {status} {text}"
                        ),
                        // Another tenant's case, task or asset does not exist for them.
                        _ => assert_eq!(status, 404, "{op_id} as {who} on {}: {text}", db.backend),
                    }
                    probed += 1;
                }
                // The same probe by the owner's lead works (read routes), so the 404s above
                // are the tenant check and not a broken probe.
                if method == "GET" && access.starts_with("case") {
                    let (status, text) = send(&g_lead, &method, &concrete, None, &upload).await;
                    assert_eq!(status, 200, "{op_id} as the owner: {text}");
                }
            }
        }
        assert!(probed > 80, "{probed}");

        // The console's pages, the same way: every page of the server's own list, as each of
        // Acme's people, without a session, and as the owner.
        let pages_dir = work.path().join("pages");
        std::fs::create_dir(&pages_dir).unwrap();
        let mut fetched = 0;
        let mut page = async |client: &Client, path: &str| -> (u16, String) {
            fetched += 1;
            let dest = pages_dir.join(fetched.to_string());
            match client.download(path, &dest).await {
                Ok(_) => (200, std::fs::read_to_string(&dest).unwrap()),
                Err(ClientError::Refused { status, body, .. }) => (status, body.to_string()),
                Err(e) => panic!("{path}: {e}"),
            }
        };
        let mut pages_probed = 0;
        for p in firewarden_server::web::pages() {
            if p.method != "GET" || p.access == PageAccess::Public {
                continue;
            }
            let concrete = p
                .path
                .replace("{case}", &secrets.case)
                .replace("{evidence}", &secrets.evidence)
                .replace("{approval}", &secrets.approval)
                .replace("{report}", &secrets.report);
            assert!(!concrete.contains('{'), "{}: give it a value here", p.path);
            let (status, _) = page(&server.anonymous(), &concrete).await;
            assert_eq!(
                status, 303,
                "{concrete} without a session: to the login page"
            );
            for (who, client) in &probers {
                let (status, text) = page(client, &concrete).await;
                let leaked = secrets.leaked_in(&text);
                assert!(
                    leaked.is_none(),
                    "page {concrete} as {who} showed {leaked:?} of another tenant: {status}"
                );
                let expected = match p.access {
                    PageAccess::Admin => 403,
                    PageAccess::User => 200,
                    _ => 404,
                };
                assert_eq!(
                    status, expected,
                    "page {concrete} as {who} on {}",
                    db.backend
                );
                pages_probed += 1;
            }
            if p.access == PageAccess::Case {
                let (status, text) = page(&g_lead, &concrete).await;
                assert_eq!(status, 200, "page {concrete} as the owner: {text}");
            }
        }
        assert!(pages_probed >= 24, "{pages_probed}");
        // Nothing of Globex's changed.
        let after = g_lead
            .get(&format!("/api/v1/cases/{case_id}"))
            .await
            .unwrap();
        assert_eq!(before, after);
        let notes = g_lead
            .get(&format!("/api/v1/cases/{case_id}/notes"))
            .await
            .unwrap();
        assert_eq!(notes.as_array().unwrap().len(), 1);
        let findings = g_lead
            .get(&format!("/api/v1/cases/{case_id}/findings"))
            .await
            .unwrap();
        assert_eq!(findings.as_array().unwrap().len(), 2);
        // Globex's ledger holds only Globex's own events: acquisition, receipt, and the
        // owner's probe download.
        let ledger = g_lead
            .get(&format!("/api/v1/evidence/{evidence}"))
            .await
            .unwrap();
        let kinds: Vec<&str> = ledger["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["acquire", "receive", "download"], "{ledger}");
        // Lists give Acme's people Acme's cases only: none yet.
        for (who, client) in &probers {
            let cases = client.get("/api/v1/cases").await.unwrap();
            assert_eq!(cases, json!([]), "{who}");
        }
        // Every probe was audited, and the chain holds.
        let verified = admin.get("/api/v1/audit/verify").await.unwrap();
        assert_eq!(verified["intact"], true, "{verified}");
        server.stop().await;
    }
}
