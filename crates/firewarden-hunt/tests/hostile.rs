//! Damaged and hostile input: empty, junk, truncated and corrupted EVTX files, chunks whose
//! checksums no longer match, junk JSON lines. Every case reads what can be read, says what it
//! could not, and never panics. The proptests mutate a real EVTX file at random (a fuzzer in
//! the test suite) and feed arbitrary text to the rule parsers.

use firewarden_hunt::event::Event;
use firewarden_hunt::fields::FieldTable;
use firewarden_hunt::reader::{LogFile, ReadOptions, log_files, plan, read_file, read_unit};
use firewarden_hunt::sigma::{condition, value};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn samples() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/evtx-attack-samples");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/data/evtx-attack-samples is not present");
        None
    }
}

/// A real multi-chunk log (Sysmon, 17 chunks).
fn big_sample() -> Option<Vec<u8>> {
    let p = samples()?.join("Other/rdpcorets_148_mst120_bluekeep_rpdscan_full.evtx");
    std::fs::read(p).ok()
}

fn read_bytes(bytes: &[u8], suffix: &str) -> LogFile {
    let f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    std::fs::write(f.path(), bytes).unwrap();
    read_file(&FieldTable::default(), 0, f.path(), ReadOptions::default())
}

#[test]
fn empty_and_junk_files_warn() {
    let empty = read_bytes(b"", ".evtx");
    assert!(empty.events.is_empty());
    assert_eq!(empty.warnings, vec!["empty file".to_owned()]);
    let junk = read_bytes(&[0x7f, b'E', b'L', b'F', 0, 1, 2, 3], ".evtx");
    assert!(junk.warnings[0].contains("neither an EVTX file nor JSON"));
    let header_only = read_bytes(b"ElfFile\0", ".evtx");
    assert!(header_only.events.is_empty());
    assert!(!header_only.warnings.is_empty());
}

#[test]
fn truncated_file_keeps_the_whole_chunks() {
    let Some(full) = big_sample() else { return };
    let whole = read_bytes(&full, ".evtx");
    assert!(whole.events.len() > 500, "{}", whole.events.len());
    // Header + 3 chunks + half of the 4th.
    let cut = 4096 + 3 * 65536 + 30_000;
    let part = read_bytes(&full[..cut], ".evtx");
    assert!(
        part.events.len() >= 3 * 20 && part.events.len() < whole.events.len(),
        "{} of {}",
        part.events.len(),
        whole.events.len()
    );
    assert!(!part.warnings.is_empty(), "the cut chunk is reported");
}

#[test]
fn corrupted_chunk_is_reported_and_the_others_are_read() {
    let Some(mut data) = big_sample() else { return };
    let whole = read_bytes(&data, ".evtx").events.len();
    // Smash the middle of the second chunk's records (its checksums no longer match).
    let start = 4096 + 65536 + 20_000;
    for b in &mut data[start..start + 4000] {
        *b = 0xAA;
    }
    let damaged = read_bytes(&data, ".evtx");
    assert!(
        damaged.events.len() < whole,
        "records in the smashed area are lost"
    );
    assert!(
        damaged.events.len() > whole / 2,
        "the other chunks are still read"
    );
    assert!(damaged.bad_records > 0 && !damaged.warnings.is_empty());
}

#[test]
fn one_changed_byte_inside_a_record_does_not_lose_the_chunk() {
    let Some(mut data) = big_sample() else { return };
    let whole = read_bytes(&data, ".evtx").events.len();
    // A byte in the first chunk's string data: the chunk checksum is now wrong, yet its
    // records still parse (checksums are not enforced, so evidence is never thrown away).
    data[4096 + 0x200 + 300] ^= 0x01;
    let log = read_bytes(&data, ".evtx");
    let read = log.events.len();
    assert!(read + 2 >= whole, "{read} of {whole}");
    assert!(
        log.warnings
            .iter()
            .any(|w| w.starts_with("chunk 0: checksum does not match")),
        "{:?}",
        log.warnings
    );
}

#[test]
fn junk_json_lines_warn_and_the_good_lines_are_read() {
    let mut text = String::new();
    text.push_str("{\"Event\": {\"System\": {\"EventID\": 4624, \"Channel\": \"Security\"}}}\n");
    text.push_str("not json at all\n");
    text.push_str(&"[".repeat(100_000));
    text.push('\n');
    text.push_str("[1, 2, 3]\n");
    text.push_str(&format!("{{\"a\": \"{}\"}}\n", "x".repeat(17 << 20)));
    text.push_str("{\"EventID\": 1, \"Channel\": \"Microsoft-Windows-Sysmon/Operational\", \"Image\": \"C:\\\\x.exe\"}\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"{\"EventID\": \xff\xfe}\n");
    let log = read_bytes(&bytes, ".jsonl");
    assert_eq!(log.events.len(), 2);
    assert_eq!(log.events[1].get("Image"), Some("C:\\x.exe"));
    assert_eq!(log.bad_records, 5);
    assert!(log.warnings.iter().any(|w| w.contains("longer than")));
}

#[test]
fn a_log_split_into_chunk_runs_reads_the_same_records() {
    let Some(data) = big_sample() else { return };
    let f = tempfile::Builder::new().suffix(".evtx").tempfile().unwrap();
    std::fs::write(f.path(), &data).unwrap();
    let table = FieldTable::default();
    let units = plan(&[f.path().to_path_buf()]);
    assert_eq!(units.len(), 2, "17 chunks: 16 + 1");
    let split: Vec<u64> = units
        .iter()
        .flat_map(|u| read_unit(&table, u, ReadOptions::default()).events)
        .map(|e| e.record_id)
        .collect();
    let whole: Vec<u64> = read_file(&table, 0, f.path(), ReadOptions::default())
        .events
        .iter()
        .map(|e| e.record_id)
        .collect();
    assert_eq!(split, whole);
}

#[test]
fn fifos_and_symlinks_are_not_followed_or_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("planted.evtx");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    // Named directly, a FIFO must not block the run: it is reported and skipped.
    let log = read_file(&FieldTable::default(), 0, &fifo, ReadOptions::default());
    assert_eq!(
        log.warnings,
        vec!["not a regular file; not read".to_owned()]
    );
    // Inside a directory, a symlink out of it is named and not followed.
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("out.evtx")).unwrap();
    let (files, warnings) = log_files(&[dir.path().to_path_buf()]);
    assert!(files.iter().all(|f| !f.ends_with("out.evtx")), "{files:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("out.evtx") && w.contains("symlink")),
        "{warnings:?}"
    );
}

#[test]
fn json_documents_are_read_whole() {
    let array = "[\n  {\"EventID\": 4624, \"Channel\": \"Security\"},\n  {\"EventID\": 4625, \"Channel\": \"Security\"}\n]\n";
    let log = read_bytes(array.as_bytes(), ".json");
    assert_eq!(log.events.len(), 2);
    assert!(log.warnings.is_empty(), "{:?}", log.warnings);
    let settings = "{\n  \"editor.tabSize\": 2\n}\n";
    let log = read_bytes(settings.as_bytes(), ".json");
    assert!(log.events.is_empty());
    assert_eq!(log.warnings, vec!["item 1: not a Windows event".to_owned()]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random patches over a real log: never a panic, never more records than the original
    /// plus what a patch could forge.
    #[test]
    fn random_damage_never_panics(
        patches in proptest::collection::vec((0usize..1_118_208, proptest::collection::vec(any::<u8>(), 1..64)), 1..8),
        cut in proptest::option::of(0usize..1_118_208),
    ) {
        let Some(mut data) = big_sample() else { return Ok(()) };
        for (at, bytes) in &patches {
            let at = at % data.len();
            let end = (at + bytes.len()).min(data.len());
            data[at..end].copy_from_slice(&bytes[..end - at]);
        }
        if let Some(c) = cut {
            data.truncate(c % data.len());
        }
        let log = read_bytes(&data, ".evtx");
        prop_assert!(log.events.len() < 20_000);
    }

    #[test]
    fn rule_text_never_panics(text in "\\PC{0,80}") {
        let names = vec!["sel".to_owned(), "filter_a".to_owned(), "_x".to_owned()];
        let _ = condition::parse(&text, &names);
        for kind in [value::Kind::Equals, value::Kind::Contains, value::Kind::StartsWith, value::Kind::EndsWith] {
            let _ = value::string_test(&text, kind, false, false);
        }
        let _ = value::windash(&text);
        let _ = value::base64_offsets(text.as_bytes());
        let _ = value::regex_test(&text, true, false, false);
        let _ = value::Network::parse(&text);
    }

    #[test]
    fn any_json_event_shape_is_safe(v in json_value()) {
        let _ = Event::from_json(&FieldTable::default(), 0, &v);
        let wrapped = serde_json::json!({"Event": {"System": v.clone(), "EventData": v}});
        let _ = Event::from_json(&FieldTable::default(), 0, &wrapped);
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        "\\PC{0,20}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(
                prop_oneof!["#attributes", "#text", "Data", "EventID", "\\PC{0,8}"],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

// ---- P5.1: times, encodings, damaged first lines, streaming ----------------------------------

fn cleared_log(time: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"Event": {"System": {
        "EventID": 1102, "TimeCreated": time, "EventRecordID": 8,
        "Channel": "Security", "Computer": "WEB01"},
        "UserData": {"LogFileCleared": {"SubjectUserName": "admin"}}}})
}

fn hunt_text(text: &[u8], opts: &firewarden_hunt::HuntOptions) -> firewarden_hunt::HuntOutput {
    let f = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(f.path(), text).unwrap();
    let out = firewarden_hunt::hunt(
        &firewarden_hunt::sigma::RuleSet::default(),
        vec![f.path().to_path_buf()],
        opts,
        &|_, _| {},
    );
    drop(f);
    out
}

fn range_2026() -> firewarden_hunt::HuntOptions {
    firewarden_hunt::HuntOptions {
        builtin: true,
        from_micros: Some(1_795_000_000 * 1_000_000),
        to_micros: Some(1_797_000_000 * 1_000_000),
        ..Default::default()
    }
}

/// Events whose time cannot be read were made 1970 and dropped by `--from`.
#[test]
fn events_without_a_readable_time_are_kept_and_marked() {
    use serde_json::json;
    for (what, time) in [
        (
            "garbage SystemTime",
            json!({"#attributes": {"SystemTime": "not a time"}}),
        ),
        ("no time at all", json!(null)),
        ("an empty string", json!("")),
    ] {
        let line = cleared_log(time).to_string() + "\n";
        let out = hunt_text(line.as_bytes(), &range_2026());
        assert_eq!(out.files[0].in_range, 1, "{what}");
        assert_eq!(out.files[0].unknown_time, 1, "{what}");
        assert!(
            out.files[0]
                .warnings
                .iter()
                .any(|w| w.contains("no readable time")),
            "{what}: {:?}",
            out.files[0].warnings
        );
        let hits = firewarden_hunt::builtin::run(&out);
        let hit = hits
            .iter()
            .find(|h| h.check.id == "windows.logs.cleared")
            .expect(what);
        assert_eq!(hit.event.time_rfc3339(), "time unknown");
        assert_eq!(hit.event.known_time(), None);
    }
}

/// Other time spellings are read, not taken as unknown.
#[test]
fn export_time_spellings_are_read() {
    use serde_json::json;
    let flat = |key: &str, value: serde_json::Value| {
        let mut v = json!({"EventID": 1102, "Channel": "Security", "Computer": "WEB01", "EventRecordID": 3});
        v[key] = value;
        v.to_string() + "\n"
    };
    for line in [
        flat("TimeCreated", json!("2026-11-20T03:30:00")),
        flat("TimeCreated", json!("/Date(1795663800000)/")),
        flat("TimeCreated", json!("2026-11-20 03:30:00Z")),
        flat("TimeGenerated", json!(1_795_663_800)),
        cleared_log(json!({"#attributes": {"SystemTime": "2026-11-20T03:30:00.1234567Z"}}))
            .to_string()
            + "\n",
    ] {
        let out = hunt_text(line.as_bytes(), &range_2026());
        assert_eq!(
            (out.files[0].in_range, out.files[0].unknown_time),
            (1, 0),
            "{line}"
        );
    }
}

/// A broken first line used to make the reader take the whole file for one document, and lose
/// every event.
#[test]
fn a_bad_first_line_costs_that_line_only() {
    let good =
        cleared_log(serde_json::json!({"#attributes": {"SystemTime": "2026-11-20T03:30:00Z"}}))
            .to_string();
    for first in [
        "{\"Event\": garbage}",
        "not json at all {",
        "\u{0}\u{1}\u{2}",
    ] {
        let text = format!("{{{first}\n{good}\n{good}\n");
        let out = hunt_text(text.as_bytes(), &range_2026());
        assert_eq!(
            out.files[0].records, 2,
            "{first:?}: {:?}",
            out.files[0].warnings
        );
        assert_eq!(out.files[0].bad_records, 1, "{first:?}");
    }
    // A pretty-printed array is still one document.
    let doc = format!("[\n  {good},\n  {good}\n]\n");
    assert_eq!(hunt_text(doc.as_bytes(), &range_2026()).files[0].records, 2);
}

/// PowerShell writes UTF-16 LE with a BOM (Windows PowerShell 5) or UTF-8 with a BOM.
#[test]
fn bom_and_utf16_exports_are_read() {
    let good =
        cleared_log(serde_json::json!({"#attributes": {"SystemTime": "2026-11-20T03:30:00Z"}}))
            .to_string();
    let text = format!("{good}\r\n{good}\r\n");
    let mut utf8_bom = b"\xEF\xBB\xBF".to_vec();
    utf8_bom.extend_from_slice(text.as_bytes());
    let utf16 = |be: bool, bom: bool| {
        let mut units: Vec<u16> = if bom { vec![0xFEFF] } else { vec![] };
        units.extend(text.encode_utf16());
        units
            .iter()
            .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
            .collect::<Vec<u8>>()
    };
    for (what, bytes) in [
        ("UTF-8 BOM", utf8_bom),
        ("UTF-16 LE BOM", utf16(false, true)),
        ("UTF-16 BE BOM", utf16(true, true)),
        ("UTF-16 LE", utf16(false, false)),
    ] {
        let out = hunt_text(&bytes, &range_2026());
        assert_eq!(
            out.files[0].records, 2,
            "{what}: {:?}",
            out.files[0].warnings
        );
        assert_eq!(out.files[0].bad_records, 0, "{what}");
    }
}

/// A large JSON-lines file is read in units (bounded memory), and every line is read once
/// with its own line number.
#[test]
fn large_json_lines_are_read_in_units_with_exact_line_numbers() {
    use firewarden_hunt::reader::{JSON_UNIT, Part};
    let line =
        cleared_log(serde_json::json!({"#attributes": {"SystemTime": "2026-11-20T03:30:00Z"}}))
            .to_string()
            + "\n";
    let per_unit = JSON_UNIT as usize / line.len();
    let count = per_unit * 2 + per_unit / 2;
    let mut text = line.repeat(count);
    // A bad line in the third unit: its warning must carry its true number.
    let bad_at = per_unit * 2 + 10;
    let offset: usize = line.len() * (bad_at - 1);
    text.replace_range(offset..offset + 1, "#");
    let f = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .unwrap();
    std::fs::write(f.path(), &text).unwrap();
    let units = plan(&[f.path().to_path_buf()]);
    assert_eq!(units.len(), 3, "{units:?}");
    assert!(
        units
            .iter()
            .all(|u| matches!(u.part, Part::JsonLines { .. }))
    );
    let out = hunt_text(text.as_bytes(), &range_2026());
    assert_eq!(out.files[0].records as usize, count - 1);
    assert!(
        out.files[0]
            .warnings
            .iter()
            .any(|w| w.starts_with(&format!("line {bad_at}:"))),
        "{:?}",
        out.files[0].warnings
    );
}

/// A copy cut at a chunk boundary has no partial chunk; only the header tells.
#[test]
fn evtx_cut_at_a_chunk_boundary_is_warned() {
    let Some(full) = big_sample() else { return };
    let cut = 4096 + 5 * 65536;
    let part = read_bytes(&full[..cut], ".evtx");
    assert!(
        part.warnings
            .iter()
            .any(|w| w.contains("counts") && w.contains("holds 5")),
        "{:?}",
        part.warnings
    );
    assert!(
        !read_bytes(&full, ".evtx")
            .warnings
            .iter()
            .any(|w| w.contains("counts"))
    );
}

/// Millions of one-attempt sources once kept every logon event: past the cap the lightest
/// sources are shed, and the brute force hiding among them is still found.
#[test]
fn a_flood_of_logon_sources_is_shed_and_the_brute_force_kept() {
    let mut text = String::new();
    let line = |i: usize, ip: &str, sec: usize| {
        format!(
            "{{\"Event\":{{\"System\":{{\"EventID\":4625,\"TimeCreated\":{{\"#attributes\":{{\"SystemTime\":\"2026-11-20T03:{:02}:{:02}Z\"}}}},\"EventRecordID\":{i},\"Channel\":\"Security\",\"Computer\":\"WEB01\"}},\"EventData\":{{\"TargetUserName\":\"admin\",\"IpAddress\":\"{ip}\",\"LogonType\":\"3\"}}}}}}\n",
            sec / 60 % 60,
            sec % 60
        )
    };
    let flood = firewarden_hunt::MAX_KEPT_LOGONS + 20_000;
    for i in 0..flood {
        text.push_str(&line(
            i,
            &format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255),
            i,
        ));
        if i % 20_000 == 0 {
            text.push_str(&line(i, "203.0.113.7", 100 + i / 20_000));
        }
    }
    let out = hunt_text(
        text.as_bytes(),
        &firewarden_hunt::HuntOptions {
            builtin: true,
            ..Default::default()
        },
    );
    assert!(out.shed_logons > 0);
    assert_eq!(out.shed_max_events, 1);
    let hits = firewarden_hunt::builtin::run(&out);
    assert!(
        hits.iter()
            .any(|h| h.check.id == "windows.logon.bruteforce" && h.message.contains("203.0.113.7")),
        "{:?}",
        hits.iter().map(|h| &h.message).collect::<Vec<_>>()
    );
}

/// A rule that matches every event of a huge log lists the first matches and counts the rest,
/// instead of holding every matched event.
#[test]
fn a_rule_matching_everything_lists_a_capped_number() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.yml"),
        "title: Every failed logon\nid: 00000000-0000-0000-0000-000000000001\nlevel: low\nlogsource: {product: windows, service: security}\ndetection:\n  sel: {EventID: 4625}\n  condition: sel\n",
    )
    .unwrap();
    let rules = firewarden_hunt::sigma::RuleSet::load(&[dir.path().join("r.yml")], 1).unwrap();
    let n = firewarden_hunt::MAX_HITS_PER_RULE as usize + 500;
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!("{{\"Event\":{{\"System\":{{\"EventID\":4625,\"TimeCreated\":{{\"#attributes\":{{\"SystemTime\":\"2026-11-20T03:00:00Z\"}}}},\"EventRecordID\":{i},\"Channel\":\"Security\",\"Computer\":\"WEB01\"}},\"EventData\":{{\"IpAddress\":\"-\"}}}}}}\n"));
    }
    let f = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .unwrap();
    std::fs::write(f.path(), text).unwrap();
    let opts = firewarden_hunt::HuntOptions {
        min_level: firewarden_model::Severity::Low,
        ..Default::default()
    };
    let out = firewarden_hunt::hunt(&rules, vec![f.path().to_path_buf()], &opts, &|_, _| {});
    assert_eq!(
        out.sigma_hits.len() as u64,
        firewarden_hunt::MAX_HITS_PER_RULE
    );
    assert_eq!(out.sigma_unlisted.iter().sum::<u64>(), 500);
}
