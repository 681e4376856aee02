//! SLA clocks end to end, on both databases, with a clock of the test's own: warnings and
//! breaches are raised once each (also with two servers sweeping at once), posted to a webhook
//! receiver on loopback, retried after a failure, and shown on the case.

use firewarden_case::access::Actor;
use firewarden_case::model::{IncidentKind, Role, TenantScope};
use firewarden_case::sla::{AlertLevel, ClockKind, ClockState, SlaTargets};
use firewarden_model::{Severity, Timestamp};
use firewarden_server::sla::tick;
use firewarden_store::testdb::backends;
use firewarden_store::{Store, StoreError, TenantPatch};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

fn admin() -> Actor {
    Actor {
        user: "admin".into(),
        role: Role::Admin,
        scope: TenantScope::All,
    }
}

/// What the receiver got: the path, the JSON body, the signature header, the raw body.
type Post = (String, Value, String, Vec<u8>);

/// A webhook receiver on loopback answering `status` to every post; what it received comes
/// out of the channel as (path, JSON body). It stops with the test's runtime.
async fn receiver(status: u16) -> (String, mpsc::UnboundedReceiver<Post>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/sla", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then as many body bytes as Content-Length says.
                let body_at = loop {
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&data[..body_at]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                while data.len() < body_at + length {
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                }
                let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                let raw = data[body_at..body_at + length].to_vec();
                let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
                let signature = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("x-firewarden-signature:")
                            .map(|v| v.trim().to_owned())
                    })
                    .unwrap_or_default();
                let _ = tx.send((path, body, signature, raw));
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = sock.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, rx)
}

fn minutes_after(t: Timestamp, minutes: i64) -> Timestamp {
    Timestamp(t.0 + minutes * 60)
}

fn kinds(d: &[firewarden_server::sla::Delivery]) -> Vec<(ClockKind, AlertLevel)> {
    let mut v: Vec<_> = d
        .iter()
        .map(|d| (d.alert.clock.kind, d.alert.level))
        .collect();
    v.sort_by_key(|(k, l)| (*k, l.as_str()));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clocks_warn_and_breach_once_through_the_webhook() {
    for db in backends("sla").await {
        let store = Store::open(&db.url).await.unwrap();
        let key = std::sync::Arc::new(firewarden_evidence::keys::KeyPair::generate(true).unwrap());
        let public = key.public();
        let sign = firewarden_server::api::key_signer(key);
        let (hook, mut posts) = receiver(204).await;
        let t = store.add_tenant(&admin(), "Acme").await.unwrap();
        // Targets are checked: zero minutes, a webhook that is not http(s).
        for bad in [
            TenantPatch {
                sla: Some(SlaTargets {
                    on_site: Some(0),
                    ..Default::default()
                }),
                ..Default::default()
            },
            TenantPatch {
                webhook: Some("file:///etc/passwd".into()),
                ..Default::default()
            },
        ] {
            assert!(matches!(
                store.update_tenant(&admin(), &t.id, bad).await,
                Err(StoreError::Invalid(_))
            ));
        }
        let t = store
            .update_tenant(
                &admin(),
                &t.id,
                TenantPatch {
                    sla: Some(SlaTargets::standard()),
                    webhook: Some(hook.clone()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(t.sla, Some(SlaTargets::standard()));
        let lead = Actor {
            user: "lee".into(),
            role: Role::Lead,
            scope: TenantScope::Only(vec![t.id.clone()]),
        };
        let case = store
            .create_case(
                &lead,
                &t.id,
                "web01 ransomware",
                IncidentKind::Intrusion,
                Severity::High,
            )
            .await
            .unwrap();
        let t0 = case.created;

        // Nothing is due in the first minutes; at 8 minutes the 15-minute acknowledgement is
        // warned, once, however often the server sweeps.
        assert!(
            tick(&store, &sign, minutes_after(t0, 5))
                .await
                .unwrap()
                .is_empty()
        );
        let warned = tick(&store, &sign, minutes_after(t0, 8)).await.unwrap();
        assert_eq!(
            kinds(&warned),
            [(ClockKind::Acknowledge, AlertLevel::Warning)]
        );
        assert_eq!(warned[0].outcome, Ok(204));
        let (path, body, signature, raw) = posts.recv().await.unwrap();
        assert_eq!(path, "/hooks/sla");
        // Signed by the server: the receiver checks it with the public key alone.
        let hex = signature.strip_prefix("ed25519=").unwrap();
        let sig = firewarden_evidence::encoding::unhex(hex).unwrap();
        let signed = [firewarden_server::sla::WEBHOOK_PREFIX, &raw].concat();
        assert!(public.verify(&signed, &sig));
        let mut forged = raw.clone();
        forged[0] = b' ';
        assert!(!public.verify(
            &[firewarden_server::sla::WEBHOOK_PREFIX, &forged].concat(),
            &sig
        ));
        assert_eq!(body["event"], "sla.warning");
        assert_eq!(body["case"], case.id.as_str());
        assert_eq!(body["clock"]["kind"], "acknowledge");
        assert_eq!(body["clock"]["state"], "warning");
        assert!(
            tick(&store, &sign, minutes_after(t0, 8))
                .await
                .unwrap()
                .is_empty()
        );

        // Two servers sweep at 2 h 1 min at once: every due alert is sent by exactly one.
        let other = Store::open(&db.url).await.unwrap();
        let at = minutes_after(t0, 121);
        let (a, b) = tokio::join!(tick(&store, &sign, at), tick(&other, &sign, at));
        let mut both = a.unwrap();
        both.extend(b.unwrap());
        assert_eq!(
            kinds(&both),
            [
                (ClockKind::Acknowledge, AlertLevel::Breach),
                (ClockKind::RemoteStart, AlertLevel::Breach),
                (ClockKind::RemoteStart, AlertLevel::Warning),
                (ClockKind::OnSite, AlertLevel::Breach),
                (ClockKind::OnSite, AlertLevel::Warning),
            ],
            "{}",
            db.url
        );
        for _ in 0..5 {
            posts.recv().await.unwrap();
        }
        assert!(posts.try_recv().is_err(), "a duplicate post");

        // The case shows it: each clock's state, the breach mark, what was sent, the timeline.
        let sla = store.sla(&lead, &case.id, at).await.unwrap();
        let state = |k: ClockKind| sla.clocks.iter().find(|c| c.kind == k).unwrap().state;
        assert_eq!(state(ClockKind::Acknowledge), ClockState::Breached);
        assert_eq!(state(ClockKind::OnSite), ClockState::Breached);
        assert_eq!(state(ClockKind::Containment), ClockState::Running);
        assert!(sla.breached.is_some());
        assert_eq!(sla.alerts.len(), 6);
        assert!(sla.alerts.iter().all(|a| a.delivered.is_some()));
        assert!(
            store
                .case(&lead, &case.id)
                .await
                .unwrap()
                .sla_breached
                .is_some()
        );
        let timeline = store.timeline(&lead, &case.id, 0, 100).await.unwrap();
        assert_eq!(
            timeline.iter().filter(|e| e.kind == "sla.breach").count(),
            3
        );

        // A responder arrives: the on-site clock stops; containment cannot be claimed by a
        // word, and a customer's viewer checks in for nobody.
        let rob = Actor {
            user: "rob".into(),
            role: Role::Responder,
            scope: TenantScope::Only(vec![t.id.clone()]),
        };
        store
            .checkin(&rob, &case.id, ClockKind::OnSite, "Acme HQ, server room 2")
            .await
            .unwrap();
        assert!(matches!(
            store
                .checkin(&rob, &case.id, ClockKind::Containment, "")
                .await,
            Err(StoreError::Invalid(_))
        ));
        let viewer = Actor {
            user: "vic".into(),
            role: Role::CustomerViewer,
            scope: TenantScope::Only(vec![t.id.clone()]),
        };
        assert!(matches!(
            store
                .checkin(&viewer, &case.id, ClockKind::Acknowledge, "")
                .await,
            Err(StoreError::Forbidden)
        ));
        let sla = store
            .sla(&viewer, &case.id, minutes_after(t0, 200))
            .await
            .unwrap();
        let on_site = sla
            .clocks
            .iter()
            .find(|c| c.kind == ClockKind::OnSite)
            .unwrap();
        // Check-ins are stamped with the real clock, seconds after the declaration here.
        assert_eq!(on_site.state, ClockState::Met);
        assert!(on_site.achieved_seconds.unwrap() < 60);
        assert_eq!(sla.checkins[0].place, "Acme HQ, server room 2");

        // A webhook that fails: recorded, then tried again once the lease ran out.
        let (broken, mut broken_posts) = receiver(500).await;
        store
            .update_tenant(
                &admin(),
                &t.id,
                TenantPatch {
                    webhook: Some(broken),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let at = minutes_after(t0, 215);
        let failed = tick(&store, &sign, at).await.unwrap();
        assert_eq!(
            kinds(&failed),
            [(ClockKind::Containment, AlertLevel::Warning)]
        );
        assert!(failed[0].outcome.as_ref().unwrap_err().contains("500"));
        broken_posts.recv().await.unwrap();
        assert!(
            tick(&store, &sign, at).await.unwrap().is_empty(),
            "lease still held"
        );
        let again = tick(&other, &sign, minutes_after(t0, 218)).await.unwrap();
        assert_eq!(
            kinds(&again),
            [(ClockKind::Containment, AlertLevel::Warning)]
        );
        assert_eq!(again[0].alert.attempts, 1);
        broken_posts.recv().await.unwrap();
        let sla = store.sla(&lead, &case.id, at).await.unwrap();
        let record = sla
            .alerts
            .iter()
            .find(|a| a.clock == ClockKind::Containment)
            .unwrap();
        assert_eq!((record.attempts, record.delivered), (2, None));
        assert!(record.last_error.contains("500"));
        // Everything above is in the audit chain, which still holds.
        assert!(store.verify_audit().await.unwrap().is_ok());
    }
}
