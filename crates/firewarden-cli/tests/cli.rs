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
    let clean = root_with(&[("etc/passwd", PASSWD)]);
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
