//! Golden tests: each output format of a fixed report must match its `.expected` file.
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test -p firewarden-report`.

use firewarden_model::*;
use firewarden_report::{Format, render, render_catalogue};
use std::path::Path;

fn report() -> TriageReport {
    let f1 = Finding::new(
        "linux.accounts.uid0",
        "Account `toor` has UID 0 (root privileges)",
        Severity::Critical,
    )
    .attack(&["T1136.001"])
    .explain("`toor` is a second superuser.")
    .recommend("Lock `toor`.")
    .evidence(Evidence {
        owner: Some("0(root)".into()),
        mode: Some("0644".into()),
        ..Evidence::at("/etc/passwd")
            .line(2)
            .excerpt("toor:x:0:0::/root:/bin/bash")
    })
    .at_time(Some(Timestamp(1_763_600_000)));
    let f2 = Finding::new(
        "linux.logins.brute_force",
        "SSH brute force from 203.0.113.66: 40 failed attempts against 1 account(s)",
        Severity::Medium,
    )
    .attack(&["T1110.001"])
    .explain("Password guessing | with a pipe.")
    .recommend("Block it.")
    .evidence(
        Evidence::at("/var/log/auth.log")
            .line(6)
            .excerpt("40 attempts"),
    )
    .at_time(Some(Timestamp(1_763_596_800)));
    TriageReport {
        schema_version: SCHEMA_VERSION,
        tool: "firewarden 0.0.0-test".into(),
        source: SourceInfo {
            kind: "root".into(),
            location: "/mnt/image".into(),
            hostname: Some("web01".into()),
            zone: None,
        },
        started: Timestamp(1_763_800_000),
        finished: Timestamp(1_763_800_002),
        storyline: Storyline {
            verdict: "SSH brute force from 203.0.113.66 succeeded.".into(),
            entry_point: Some("SSH password login as root from 203.0.113.66".into()),
            attacker_ips: vec!["203.0.113.66".into()],
            accounts: vec!["root".into(), "toor".into()],
            persistence: vec!["Account `toor` has UID 0 (root privileges)".into()],
            first_activity: Some(Timestamp(1_763_596_800)),
            last_activity: Some(Timestamp(1_763_600_000)),
            dwell_time: Some(human_duration(3200)),
            ..Default::default()
        },
        timeline: vec![
            TimelineEvent {
                time: Timestamp(1_763_596_800),
                kind: EventKind::FailedLogin,
                summary: f2.title.clone(),
                source: "/var/log/auth.log:6".into(),
                ip: Some("203.0.113.66".into()),
                user: None,
                finding: Some(f2.id.clone()),
                zone: None,
            },
            TimelineEvent {
                time: Timestamp(1_763_600_000),
                kind: EventKind::AccountChange,
                summary: f1.title.clone(),
                source: "/etc/passwd:2".into(),
                ip: None,
                user: Some("toor".into()),
                finding: Some(f1.id.clone()),
                zone: None,
            },
        ],
        findings: vec![f1, f2],
        warnings: vec![Warning {
            check: Some("linux.logins.brute_force".into()),
            path: Some("/var/log/auth.log".into()),
            message: "3 line(s) of binary junk skipped".into(),
        }],
        checks: vec![
            CheckRun {
                id: "linux.accounts.uid0".into(),
                status: CheckStatus::Ran,
                reason: None,
                millis: 1,
                findings: 1,
            },
            CheckRun {
                id: "linux.process.miner".into(),
                status: CheckStatus::Skipped,
                reason: Some("no process state in this source (/proc is empty)".into()),
                millis: 0,
                findings: 0,
            },
        ],
        provenance: Default::default(),
    }
}

fn check(name: &str, actual: &str) {
    // The runtime value: a target dir shared between checkouts may hold a binary built elsewhere.
    let dir =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let path = Path::new(&dir).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

#[test]
fn table_plain() {
    check(
        "report.table.expected",
        &render(&report(), Format::Table, false),
    );
}

#[test]
fn table_coloured_has_escapes_and_same_text() {
    let coloured = render(&report(), Format::Table, true);
    assert!(coloured.contains("\x1b["));
    let mut stripped = String::new();
    let mut chars = coloured.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            stripped.push(c);
        }
    }
    assert_eq!(stripped, render(&report(), Format::Table, false));
}

#[test]
fn markdown() {
    check(
        "report.md.expected",
        &render(&report(), Format::Markdown, false),
    );
}

#[test]
fn json_round_trips() {
    let text = render(&report(), Format::Json, false);
    check("report.json.expected", &text);
    let back: TriageReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report());
}

#[test]
fn jsonl_lines_each_parse() {
    let text = render(&report(), Format::Jsonl, false);
    check("report.jsonl.expected", &text);
    let types: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(types[..2], ["header", "storyline"]);
    assert_eq!(types.iter().filter(|t| *t == "finding").count(), 2);
}

#[test]
fn catalogue_markdown() {
    let c = vec![CheckDescriptor {
        id: "linux.accounts.uid0".into(),
        title: "UID-0 accounts".into(),
        attack: vec!["T1136.001".into()],
        severity: Severity::Critical,
        checklist_rows: vec![1],
        live_state: false,
        description: "d".into(),
    }];
    check(
        "catalogue.md.expected",
        &render_catalogue(&c, Format::Markdown, false),
    );
}

/// Attacker-controlled text (file names, log lines) must not reach the terminal as control
/// characters: a name with ANSI escapes could forge or hide output.
#[test]
fn control_characters_are_escaped_in_human_formats() {
    let mut r = report();
    let evil = "/tmp/\u{1b}[2J\u{1b}[32mall clear\u{7}";
    r.findings[0].title = format!("Program in {evil}");
    r.findings[0].explanation = format!("{evil} is bad");
    r.findings[0].evidence[0].path = Some(evil.to_string());
    r.timeline[0].summary = evil.to_string();
    r.warnings[0].message = evil.to_string();
    r.storyline.verdict = evil.to_string();
    for format in [Format::Table, Format::Markdown] {
        let out = render(&r, format, false);
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}'),
            "{format:?}: {out}"
        );
        assert!(
            out.contains("\\u{1b}[2J"),
            "{format:?} shows the escape visibly"
        );
    }
    // Coloured output carries only our own escapes.
    let coloured = render(&r, Format::Table, true);
    assert!(!coloured.contains("\u{1b}[2J") && !coloured.contains('\u{7}'));
}
