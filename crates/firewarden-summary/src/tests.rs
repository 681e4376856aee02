use super::*;
use crate::model::*;
use firewarden_model::Timestamp;

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// A small case with a hostile string in every kind of field.
pub(crate) fn facts() -> ReportFacts {
    let evil = "<script>alert(1)</script> | `x` [l](http://e.example) \u{1b}[31m";
    ReportFacts {
        v: FACTS_VERSION,
        case: CaseHeader {
            id: "C0123".into(),
            title: format!("web01 {evil}"),
            kind: "webshell".into(),
            severity: "high".into(),
            tlp: "amber".into(),
            pap: "amber".into(),
            stage: "summary".into(),
            status: "closed".into(),
            version: 42,
            created: Some(t("2026-11-20T06:00:00Z")),
            closed: Some(t("2026-11-22T18:00:00Z")),
            entry_point: Some("SSH brute force on root".into()),
            authority: Some("engagement letter, CISO".into()),
        },
        tenant: TenantHeader {
            name: "Acme".into(),
            contract: "RET-2026-17".into(),
            contacts: "J. Doe".into(),
        },
        authors: vec!["lena".into()],
        reviewers: vec!["carol".into()],
        sla: vec![SlaLine {
            clock: "on_site".into(),
            target_minutes: 120,
            achieved_seconds: Some(5400),
            state: "met".into(),
        }],
        stages: vec![StageMove {
            at: t("2026-11-21T00:00:00Z"),
            from: "containment".into(),
            to: Some("eradication".into()),
            by: "lena".into(),
            override_reason: Some(format!("customer asked {evil}")),
            unmet: vec!["containment.evidence_first".into()],
        }],
        waivers: vec![],
        timeline: vec![
            TimelineRow {
                at: t("2026-11-20T03:07:12Z"),
                zone: "+08:00".into(),
                kind: "login".into(),
                text: format!("root logged in {evil}"),
                source: "/var/log/auth.log:41".into(),
            },
            TimelineRow {
                at: t("2026-11-21T01:00:00Z"),
                zone: "UTC".into(),
                kind: "action.applied".into(),
                text: "A1 contain.network applied".into(),
                source: "import:web01:journal:2".into(),
            },
        ],
        storylines: vec![AssetStory {
            asset: "web01".into(),
            verdict: "Compromised through SSH".into(),
            entry_point: Some("SSH brute force".into()),
            attacker_ips: vec!["203.0.113.66".into()],
            accounts: vec!["root".into(), "sysop".into()],
            persistence: vec!["cron 0sync".into()],
            first_activity: Some(t("2026-11-20T03:07:12Z")),
            last_activity: Some(t("2026-11-20T03:30:00Z")),
        }],
        assets: vec![AssetRow {
            name: "web01".into(),
            compromise: "compromised".into(),
        }],
        findings: vec![FindingRow {
            asset: "web01".into(),
            id: "linux.persistence.cron:ab".into(),
            check: "linux.persistence.cron".into(),
            severity: "critical".into(),
            title: format!("cron downloader {evil}"),
            attack: vec!["T1053.003".into()],
            explanation: "runs a remote script".into(),
            recommendation: "Remove the job".into(),
            evidence: vec!["/etc/cron.d/0sync".into()],
        }],
        iocs: vec![IocRow {
            kind: "ipv4".into(),
            value: "203.0.113.66".into(),
        }],
        actions: vec![ActionRow {
            asset: "web01".into(),
            id: "A1".into(),
            kind: "contain.network".into(),
            title: "Isolate the host".into(),
            operator: "rob".into(),
            begun: "2026-11-21T01:00:00Z".into(),
            state: "applied".into(),
            tool: "firewarden 0.1.0".into(),
            approval: Some(ApprovalLine {
                state: "approved".into(),
                by: Some("carol".into()),
                at: Some(t("2026-11-21T00:59:00Z")),
                requirement: "customer".into(),
                break_glass: None,
            }),
        }],
        evidence: vec![EvidenceRow {
            id: "E1".into(),
            asset: "web01".into(),
            sha256: "ab".repeat(32),
            size: 1234,
            acquired: t("2026-11-20T07:00:00Z"),
            custody: vec![format!(
                "00 {{\"seq\":1,\"event\":\"acquire\",\"by\":\"lena {evil}\",\"reason\":\"r\",\"utc\":\"2026-11-20T07:00:00Z\",\"bundle_sha256\":\"{}\",\"hash_verified\":true,\"signer\":\"{}\"}}",
                "ab".repeat(32),
                "cd".repeat(32)
            )],
        }],
        tools: vec![ToolRow {
            kind: "binary".into(),
            name: "firewarden 0.1.0".into(),
            sha256: "ef".repeat(32),
            standing: "validated".into(),
        }],
        tasks: vec![TaskRow {
            title: "Rotate SSH keys".into(),
            done: false,
            by: "lena".into(),
            owner: Some("Acme IT".into()),
            due: Some("2026-12-15".into()),
        }],
        notes: vec![
            NoteRow {
                author: "lena".into(),
                created: t("2026-11-22T17:00:00Z"),
                body: "called the customer".into(),
                lesson: false,
            },
            NoteRow {
                author: "lena".into(),
                created: t("2026-11-22T17:30:00Z"),
                body: "SSH was open to the world with passwords".into(),
                lesson: true,
            },
        ],
        audit: AuditSummary {
            records: 9,
            first: Some(t("2026-11-20T06:00:00Z")),
            last: Some(t("2026-11-22T18:00:00Z")),
            by_action: vec![("case.import".into(), 4)],
            chain_intact: true,
        },
        loss: LossFacts {
            services: vec![(
                "shop".into(),
                "critical".into(),
                1000,
                "EUR".into(),
                vec!["web01".into()],
            )],
            downtime: vec![(
                "web01".into(),
                t("2026-11-21T01:00:00Z"),
                Some(t("2026-11-21T05:00:00Z")),
                "case".into(),
            )],
            losses: vec![(
                "Response and recovery".into(),
                5000,
                8000,
                15000,
                "EUR".into(),
                format!("estimate {evil}"),
            )],
            disruption_estimate: vec![("EUR".into(), 4000)],
            totals: vec![("EUR".into(), 5000, 8000, 15000)],
            overall_rating: Some("Painful".into()),
        },
    }
}

#[test]
fn the_same_case_gives_the_same_bytes_in_every_format() {
    let f = facts();
    for format in [Format::Html, Format::Markdown, Format::Json] {
        for lang in [Lang::En, Lang::Zh] {
            assert_eq!(render(&f, format, lang), render(&f, format, lang));
        }
    }
}

#[test]
fn every_section_is_there_and_nothing_from_the_case_is_markup() {
    let html = String::from_utf8(render(&facts(), Format::Html, Lang::En)).unwrap();
    for id in [
        "summary",
        "scope",
        "sla",
        "timeline",
        "root-cause",
        "compromise",
        "loss",
        "actions",
        "overrides",
        "findings",
        "iocs",
        "recommendations",
        "lessons",
        "appendix-evidence",
        "appendix-tools",
        "appendix-audit",
        "manifest",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    assert!(!html.contains("<script"), "a script tag got through");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains('\u{1b}'));
    // A link in a finding's text stays text: no anchor is made of it.
    assert!(!html.contains("<a href=\"http"));
    assert!(html.contains("<svg") && html.contains("</svg>"));
    // The numbers: dwell from first activity to declaration, the achieved on-site time.
    assert!(html.contains("2 h 52 min"), "dwell");
    assert!(html.contains("1 h 30 min"), "achieved on-site time");
    assert!(html.contains("carol (customer)"));
    assert!(html.contains("Rotate SSH keys — Owner: Acme IT; deadline: 2026-12-15 (open)"));
    assert!(html.contains("SSH was open to the world") && !html.contains("called the customer"));
    assert!(
        html.contains("Response and recovery")
            && html.contains("4000 EUR")
            && html.contains("Painful")
    );
    // Nothing fetched from outside.
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
}

#[test]
fn markdown_escapes_what_would_be_markup() {
    let md = String::from_utf8(render(&facts(), Format::Markdown, Lang::En)).unwrap();
    assert!(md.contains("\\<script\\>"));
    assert!(md.contains("\\[l\\](http://e.example)"));
    assert!(!md.contains("| `x`"));
}

#[test]
fn chinese_is_a_translation_of_every_fixed_text() {
    let zh = String::from_utf8(render(&facts(), Format::Html, Lang::Zh)).unwrap();
    assert!(zh.contains("lang=\"zh-Hans\""));
    for heading in [
        "执行摘要",
        "时间线（UTC）",
        "各阶段处置操作",
        "附录 A：证据清单与证据保管链",
    ] {
        assert!(zh.contains(heading), "{heading}");
    }
    let en = String::from_utf8(render(&facts(), Format::Html, Lang::En)).unwrap();
    assert!(!zh.contains("Executive summary") && en.contains("Executive summary"));
}

#[test]
fn a_signed_report_splits_back_and_a_changed_byte_shows() {
    // A stand-in signer (the Ed25519 one is tested where the keys are, in the CLI).
    let sign = |m: &[u8]| Sha256::digest([b"k".as_slice(), m].concat()).to_vec();
    for format in [Format::Html, Format::Markdown, Format::Json] {
        let body = render(&facts(), format, Lang::En);
        let signed = seal(body.clone(), format, "aa", "2026-12-02T00:00:00Z", sign);
        let (b, sig) = split(&signed).unwrap();
        assert_eq!(b, &body[..]);
        assert_eq!(sig.signature, hex(&sign(&signed_bytes(b, &sig.signed_at))));
        let mut changed = signed.clone();
        changed[100] ^= 1;
        let (b2, sig2) = split(&changed).unwrap();
        assert_ne!(
            sig2.signature,
            hex(&sign(&signed_bytes(b2, &sig2.signed_at)))
        );
        assert_eq!(split(&body), Err(SplitError::Unsigned));
    }
    // The JSON report is two JSON lines: the report, then its signature.
    let json = seal(
        render(&facts(), Format::Json, Lang::En),
        Format::Json,
        "aa",
        "t",
        sign,
    );
    let lines: Vec<serde_json::Value> = json
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["facts"]["case"]["id"], "C0123");
}

#[test]
fn the_manifest_names_each_appendix_by_its_hash() {
    let f = facts();
    let m = manifest(&f);
    let names: Vec<&str> = m.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "evidence-inventory.json",
            "custody/E1.custody",
            "iocs.csv",
            "tools.json",
            "audit.json",
            "timeline.json"
        ]
    );
    // The custody appendix is the ledger as `custody export` writes it.
    let ledger = format!("{}\n", f.evidence[0].custody[0]);
    assert_eq!(m[1].1, sha256(ledger.as_bytes()));
    assert_eq!(csv_field("=cmd|x"), "'=cmd|x");
    assert_eq!(csv_field("a,b"), "\"a,b\"");
}
