//! Customer-confirmed actions through the API, on SQLite and PostgreSQL: the tenant's policy
//! decides who must agree; the customer's authoriser approves with their password; the signed
//! statement verifies with the server's public key and only for its plan, host and time; a
//! forged or altered approval, a second decision, a denial without reason, the requester
//! approving their own request, and an expired request are each refused.

mod common;

use common::Server;
use firewarden_case::approval::{ApprovalRefusal, ApprovalStatement};
use firewarden_client::{ClientError, Method};
use firewarden_evidence::keys::PublicKey;
use firewarden_model::Timestamp;
use firewarden_model::action::Action;
use firewarden_store::testdb::backends;
use serde_json::{Value, json};

fn plan(title: &str, risk: &str) -> Value {
    json!({"id": "A1", "kind": "contain.network", "title": title, "risk": risk, "root": "/", "steps": []})
}

/// A user of tenant `t` whose password is "NAME long password"; their token.
async fn user(admin: &firewarden_client::Client, t: &str, name: &str, role: &str) -> String {
    common::user(admin, t, name, role, Some(&format!("{name} long password"))).await
}

/// Posts a decision.
async fn decide(
    who: &firewarden_client::Client,
    path: &str,
    body: Value,
) -> Result<Value, ClientError> {
    who.call(Method::POST, path, Some(&body)).await
}

fn status(r: Result<Value, ClientError>) -> u16 {
    match r {
        Err(ClientError::Refused { status, .. }) => status,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_approves_and_the_host_can_check_it_offline() {
    for db in backends("approvals").await {
        let server = Server::start(&db.url, None, 1 << 20).await;
        let admin = server.client(&server.admin);
        let t = common::tenant(&admin, "Acme").await;
        let rob = server.client(&user(&admin, &t, "rob", "responder").await);
        let bob = server.client(&user(&admin, &t, "bob", "responder").await);
        let carol = server.client(&user(&admin, &t, "carol", "customer_authoriser").await);
        let vic = server.client(&user(&admin, &t, "vic", "customer_viewer").await);
        let case = rob
            .call(
                Method::POST,
                "/api/v1/cases",
                Some(&json!({"tenant": t, "title": "web01", "kind": "intrusion", "severity": "high"})),
            )
            .await
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let key = server.anonymous().get("/api/v1/server-key").await.unwrap();
        let key = PublicKey::parse(key["public_key"].as_str().unwrap()).unwrap();
        let approvals = format!("/api/v1/cases/{case}/approvals");

        // High risk: the customer's authoriser must agree. The responder waits.
        let asked = rob
            .call(
                Method::POST,
                &approvals,
                Some(&json!({"host": "web01", "plan": plan("Isolate web01", "high"), "valid_minutes": 30})),
            )
            .await
            .unwrap();
        assert_eq!(asked["state"], "pending");
        assert_eq!(asked["requirement"], "customer");
        let id = asked["id"].as_str().unwrap().to_owned();
        let decision = format!("{approvals}/{id}/decision");
        // Not a responder nor a viewer, each with their own right password: only the
        // customer's authoriser decides a high-risk request.
        for (who, password) in [(&bob, "bob long password"), (&vic, "vic long password")] {
            let r = decide(
                who,
                &decision,
                json!({"approve": true, "password": password}),
            )
            .await;
            assert_eq!(status(r), 403, "{password}");
        }
        assert_eq!(
            status(
                decide(
                    &carol,
                    &decision,
                    json!({"approve": true, "password": "not carol's"})
                )
                .await
            ),
            401
        );
        let approved = decide(
            &carol,
            &decision,
            json!({"approve": true, "password": "carol long password"}),
        )
        .await
        .unwrap();
        assert_eq!(approved["state"], "approved", "{}", db.url);
        // Decided once.
        assert_eq!(
            status(
                decide(&carol, &decision, json!({"approve": false, "password": "carol long password", "reason": "changed my mind"})).await
            ),
            409
        );

        // On the host: the polled record holds the statement; it verifies with the key alone
        // and holds for this plan, on this host, until it expires.
        let polled = rob.get(&format!("{approvals}/{id}")).await.unwrap();
        let statement: ApprovalStatement =
            serde_json::from_value(polled["statement"].clone()).unwrap();
        let signature =
            firewarden_evidence::encoding::unhex(polled["signature"].as_str().unwrap()).unwrap();
        assert!(key.verify(&statement.signed_bytes(), &signature));
        let planned: Action = serde_json::from_value(plan("Isolate web01", "high")).unwrap();
        let digest = firewarden_case::approval::plan_digest(&planned);
        let now = Timestamp::now();
        assert_eq!(statement.matches(&digest, "web01", now), Ok(()));
        assert_eq!(statement.approved_by, "carol");
        let changed: Action =
            serde_json::from_value(plan("Isolate web01 and db01", "high")).unwrap();
        assert_eq!(
            statement.matches(
                &firewarden_case::approval::plan_digest(&changed),
                "web01",
                now
            ),
            Err(ApprovalRefusal::PlanChanged)
        );
        assert!(matches!(
            statement.matches(&digest, "web01", Timestamp(now.0 + 31 * 60)),
            Err(ApprovalRefusal::Expired(_))
        ));
        // A forged statement (another host written in) fails the signature.
        let mut forged = statement.clone();
        forged.host = "db01".into();
        assert!(!key.verify(&forged.signed_bytes(), &signature));

        // Medium risk: a second responder, not the one asking.
        let asked = rob
            .call(
                Method::POST,
                &approvals,
                Some(&json!({"host": "web01", "plan": plan("Lock account deploy", "medium")})),
            )
            .await
            .unwrap();
        assert_eq!(asked["requirement"], "second_responder");
        let decision = format!("{approvals}/{}/decision", asked["id"].as_str().unwrap());
        assert_eq!(
            status(
                decide(
                    &rob,
                    &decision,
                    json!({"approve": true, "password": "rob long password"})
                )
                .await
            ),
            403
        );
        // A denial needs a reason; with one, the request is closed.
        assert_eq!(
            status(
                decide(
                    &bob,
                    &decision,
                    json!({"approve": false, "password": "bob long password"})
                )
                .await
            ),
            422
        );
        let denied = decide(&bob, &decision, json!({"approve": false, "password": "bob long password", "reason": "deploy runs the backups"})).await
            .unwrap();
        assert_eq!(denied["state"], "denied");
        assert!(denied.get("statement").is_none());

        // Low risk: the default policy approves at once, signed all the same.
        let at_once = rob
            .call(
                Method::POST,
                &approvals,
                Some(&json!({"host": "web01", "plan": plan("Quarantine /tmp/x", "low")})),
            )
            .await
            .unwrap();
        assert_eq!(at_once["state"], "approved");
        assert_eq!(at_once["decided_by"], "policy");

        // Nobody answers: the request expires (its deadline moved into the past here).
        let waiting = rob
            .call(
                Method::POST,
                &approvals,
                Some(&json!({"host": "web02", "plan": plan("Isolate web02", "high")})),
            )
            .await
            .unwrap();
        let wid = waiting["id"].as_str().unwrap();
        let store = firewarden_store::Store::open(&db.url).await.unwrap();
        sqlx::query("UPDATE approvals SET expires = '2020-01-01T00:00:00Z' WHERE id = $1")
            .bind(wid.to_owned())
            .execute(store.pool())
            .await
            .unwrap();
        let list = carol.get(&approvals).await.unwrap();
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 4);
        let expired = list.iter().find(|r| r["id"] == wid).unwrap();
        assert_eq!(expired["state"], "expired", "{expired}");
        assert_eq!(
            status(
                decide(
                    &carol,
                    &format!("{approvals}/{wid}/decision"),
                    json!({"approve": true, "password": "carol long password"})
                )
                .await
            ),
            409
        );
        // Break-glass: acted on at once, signed and flagged; the customer ratifies one and
        // disputes another (with a reason); a responder may do neither.
        let glass = |title: &'static str| {
            let rob = rob.clone();
            let approvals = approvals.clone();
            async move {
                rob.call(
                    Method::POST,
                    &approvals,
                    Some(&json!({"host": "web01", "plan": plan(title, "high"), "break_glass": "ransomware is encrypting the share now"})),
                )
                .await
                .unwrap()
            }
        };
        let broke = glass("Isolate web01 now").await;
        assert_eq!(broke["state"], "unratified", "{broke}");
        let statement: ApprovalStatement =
            serde_json::from_value(broke["statement"].clone()).unwrap();
        assert!(statement.break_glass && statement.approved_by == "rob");
        assert!(key.verify(
            &statement.signed_bytes(),
            &firewarden_evidence::encoding::unhex(broke["signature"].as_str().unwrap()).unwrap()
        ));
        let ratify = format!("{approvals}/{}/decision", broke["id"].as_str().unwrap());
        assert_eq!(
            status(
                decide(
                    &bob,
                    &ratify,
                    json!({"approve": true, "password": "bob long password"})
                )
                .await
            ),
            403
        );
        let ratified = decide(
            &carol,
            &ratify,
            json!({"approve": true, "password": "carol long password"}),
        )
        .await
        .unwrap();
        assert_eq!(ratified["state"], "ratified");
        assert_eq!(
            ratified["break_glass"],
            "ransomware is encrypting the share now"
        );
        let broke = glass("Kill the encryptor").await;
        let dispute = format!("{approvals}/{}/decision", broke["id"].as_str().unwrap());
        let disputed = decide(
            &carol,
            &dispute,
            json!({"approve": false, "password": "carol long password", "reason": "that share was the backup target"}),
        )
        .await
        .unwrap();
        assert_eq!(disputed["state"], "disputed");

        // Pre-authorisation: only the customer's authoriser grants it, with their password;
        // the server signs the scope, and it covers only what it says.
        let preauths = format!("/api/v1/cases/{case}/preauthorisations");
        let scope = |password: &str| {
            json!({"hosts": ["web*"], "never_hosts": ["web-db*"], "kinds": ["contain.network"],
                   "max_risk": "high", "hours": 72, "password": password})
        };
        assert_eq!(
            status(
                rob.call(Method::POST, &preauths, Some(&scope("rob long password")))
                    .await
            ),
            403
        );
        assert_eq!(
            status(
                carol
                    .call(Method::POST, &preauths, Some(&scope("wrong")))
                    .await
            ),
            401
        );
        let granted = carol
            .call(Method::POST, &preauths, Some(&scope("carol long password")))
            .await
            .unwrap();
        let grant: firewarden_case::approval::PreAuthorisation =
            serde_json::from_value(granted["statement"].clone()).unwrap();
        assert!(key.verify(
            &grant.signed_bytes(),
            &firewarden_evidence::encoding::unhex(granted["signature"].as_str().unwrap()).unwrap()
        ));
        assert_eq!(grant.granted_by, "carol");
        let isolate: Action = serde_json::from_value(plan("Isolate web07", "high")).unwrap();
        assert_eq!(grant.covers(&isolate, "web07", Timestamp::now()), Ok(()));
        assert!(grant.covers(&isolate, "web-db1", Timestamp::now()).is_err());
        let listed = vic.get(&preauths).await.unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert!(listed[0].get("revoked").is_none());

        // Withdrawn before it expires: by the customer's authoriser with their password (a
        // responder may not; a wrong password changes nothing); once only.
        let revoke = format!("{preauths}/{}/revocation", grant.id);
        let why = |password: &str| json!({"reason": "the maintenance window is over", "password": password});
        assert_eq!(
            status(
                rob.call(Method::POST, &revoke, Some(&why("rob long password")))
                    .await
            ),
            403
        );
        assert_eq!(
            status(carol.call(Method::POST, &revoke, Some(&why("wrong"))).await),
            401
        );
        let revoked = carol
            .call(Method::POST, &revoke, Some(&why("carol long password")))
            .await
            .unwrap();
        assert_eq!(revoked["revoked"]["by"], "carol");
        assert_eq!(
            status(
                carol
                    .call(Method::POST, &revoke, Some(&why("carol long password")))
                    .await
            ),
            409
        );
        let listed = vic.get(&preauths).await.unwrap();
        assert_eq!(
            listed[0]["revoked"]["reason"],
            "the maintenance window is over"
        );

        // The timeline tells the story.
        let timeline = vic
            .get(&format!("/api/v1/cases/{case}/timeline"))
            .await
            .unwrap();
        let kinds: Vec<&str> = timeline
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        for kind in [
            "approval.approved",
            "approval.denied",
            "approval.ratified",
            "approval.disputed",
            "approval.preauth_revoked",
        ] {
            assert!(kinds.contains(&kind), "{kind}: {kinds:?}");
        }
        server.stop().await;
    }
}
