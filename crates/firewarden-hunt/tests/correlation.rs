//! Sigma correlation rules over the matches of the rules they name: counts per group inside a
//! span, distinct values, and ordered sequences; the named rules stay quiet unless `generate`.

use firewarden_hunt::report::{ReportContext, build};
use firewarden_hunt::sigma::RuleSet;
use firewarden_hunt::{HuntOptions, hunt};
use firewarden_model::hunt::HuntReport;
use firewarden_model::{Severity, Timestamp};
use serde_json::json;
use std::io::Write;

const RULES: &str = r#"
title: Failed logon
name: failed_logon
id: 00000000-0000-0000-0000-000000000001
level: low
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4625}
  condition: sel
---
title: Successful network logon
name: good_logon
id: 00000000-0000-0000-0000-000000000002
level: informational
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4624, LogonType: [3, 10]}
  condition: sel
---
title: Many failures from one source
id: 00000000-0000-0000-0000-0000000000c1
level: high
tags: [attack.t1110]
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 5m
  condition: {gte: 5}
---
title: Password spraying
id: 00000000-0000-0000-0000-0000000000c2
level: high
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 10m
  condition: {field: TargetUserName, gte: 3}
---
title: Failures then success
id: 00000000-0000-0000-0000-0000000000c3
level: critical
correlation:
  type: temporal_ordered
  rules: [failed_logon, good_logon]
  group-by: [IpAddress]
  timespan: 1h
"#;

fn ev(id: u32, minute: u32, second: u32, ip: &str, user: &str) -> String {
    json!({"Event": {"System": {"EventID": id, "Channel": "Security", "Computer": "DC1",
        "TimeCreated": {"#attributes": {"SystemTime": format!("2026-11-20T03:{minute:02}:{second:02}Z")}}},
        "EventData": {"IpAddress": ip, "TargetUserName": user, "LogonType": 3}}})
    .to_string()
}

fn run(rules: &str, events: &[String]) -> HuntReport {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.yml"), rules).unwrap();
    let mut f = std::fs::File::create(dir.path().join("e.jsonl")).unwrap();
    for e in events {
        writeln!(f, "{e}").unwrap();
    }
    let set = RuleSet::load(&[dir.path().join("r.yml")], 1).unwrap();
    assert!(set.report.unloaded.is_empty(), "{:?}", set.report.unloaded);
    let out = hunt(
        &set,
        vec![dir.path().join("e.jsonl")],
        &HuntOptions::default(),
        &|_, _| {},
    );
    build(
        ReportContext {
            tool: "t".into(),
            location: "t".into(),
            started: Timestamp(0),
            min_level: Severity::Info,
            load_millis: 0,
            hunt_millis: 0,
            warnings: vec![],
            rules: &set,
        },
        out,
        vec![],
    )
}

#[test]
fn counts_distinct_values_and_sequences() {
    let mut events = Vec::new();
    // 203.0.113.7: six failures in two minutes against three users, then a success.
    for i in 0..6 {
        events.push(ev(
            4625,
            10 + i / 3,
            (i % 3) * 20,
            "203.0.113.7",
            ["a", "b", "c", "a", "a", "a"][i as usize],
        ));
    }
    events.push(ev(4624, 30, 0, "203.0.113.7", "b"));
    // 10.0.0.9: four failures spread over forty minutes, one user: nothing.
    for i in 0..4 {
        events.push(ev(4625, 10 * i, 0, "10.0.0.9", "bob"));
    }
    let r = run(RULES, &events);
    let ids: Vec<&str> = r.detections.iter().map(|d| d.rule_id.as_str()).collect();
    let count = |id: &str| ids.iter().filter(|i| **i == id).count();
    assert_eq!(count("00000000-0000-0000-0000-0000000000c1"), 1, "{ids:?}");
    assert_eq!(count("00000000-0000-0000-0000-0000000000c2"), 1, "{ids:?}");
    assert_eq!(count("00000000-0000-0000-0000-0000000000c3"), 1, "{ids:?}");
    // The named rules report only through their correlations.
    assert_eq!(count("00000000-0000-0000-0000-000000000001"), 0);
    let burst = r
        .detections
        .iter()
        .find(|d| d.rule_id.ends_with("c1"))
        .unwrap();
    assert_eq!(burst.engine, "correlation");
    assert!(
        burst.message.contains("IpAddress=203.0.113.7"),
        "{}",
        burst.message
    );
    assert_eq!(burst.attack, vec!["T1110"]);
    let seq = r
        .detections
        .iter()
        .find(|d| d.rule_id.ends_with("c3"))
        .unwrap();
    assert_eq!(
        seq.datetime, "2026-11-20T03:30:00.000000Z",
        "fires on the success"
    );
}

#[test]
fn generate_keeps_the_named_rules_and_bad_references_are_listed() {
    let rules = RULES.replace(
        "  condition: {gte: 5}",
        "  condition: {gte: 5}\n  generate: true",
    );
    let r = run(&rules, &[ev(4625, 1, 0, "198.51.100.1", "x")]);
    assert!(r.detections.iter().any(|d| d.rule_id.ends_with("0001")));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.yml"),
        "title: c\nid: cc\ncorrelation:\n  type: event_count\n  rules: [nope]\n  timespan: 1m\n  condition: {gte: 2}\n",
    )
    .unwrap();
    let set = RuleSet::load(&[dir.path().to_path_buf()], 1).unwrap();
    assert!(
        set.report.unloaded[0].reason.contains("nope"),
        "{:?}",
        set.report.unloaded
    );
}
