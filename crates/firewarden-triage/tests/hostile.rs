//! Hostile input, second pass (P5.1): evasions by spelling and by time, missing evidence. Each
//! test is the probe's repro as a fixture; each failed before its fix.

mod support;

use support::*;

/// Spellings of one temp-dir path that the kernel opens as the plain one.
const SPELLINGS: &[(&str, &str)] = &[
    ("//tmp/x.sh", "/tmp/x.sh"),
    ("/./tmp/x.sh", "/tmp/x.sh"),
    ("/usr/../tmp/x.sh", "/tmp/x.sh"),
    ("/../dev/shm/x", "/dev/shm/x"),
    ("/var//./tmp/../tmp/.k/x", "/var/tmp/.k/x"),
    ("/t''mp/x.sh", "/tmp/x.sh"),
    ("$'\\x2ftmp\\x2fx.sh'", "/tmp/x.sh"),
    ("/proc/self/root/tmp/x.sh", "/tmp/x.sh"),
];

/// One config per check that reads paths, with `{}` where the program goes.
const CONFIGS: &[(&str, &str, &str)] = &[
    (
        "linux.persistence.cron",
        "/etc/cron.d/sync",
        "* * * * * root {}\n",
    ),
    (
        "linux.persistence.cron",
        "/etc/crontab",
        "*/5 * * * * root {} >/dev/null 2>&1\n",
    ),
    (
        "linux.persistence.cron",
        "/var/spool/cron/crontabs/www-data",
        "@reboot {}\n",
    ),
    (
        "linux.persistence.systemd",
        "/etc/systemd/system/dbus-helper.service",
        "[Service]\nExecStart={} --daemon\n",
    ),
    (
        "linux.persistence.rc",
        "/etc/rc.local",
        "#!/bin/sh\n{} &\nexit 0\n",
    ),
    (
        "linux.persistence.shell_profile",
        "/etc/profile.d/z.sh",
        "{} &\n",
    ),
    (
        "linux.persistence.udev",
        "/etc/udev/rules.d/99-x.rules",
        "ACTION==\"add\", RUN+=\"{}\"\n",
    ),
    (
        "linux.accounts.sudo",
        "/etc/sudoers.d/backup",
        "www-data ALL=(root) NOPASSWD: {}\n",
    ),
    (
        "linux.persistence.autostart",
        "/etc/network/if-up.d/ntp-sync",
        "#!/bin/sh\n{}\n",
    ),
    (
        "linux.persistence.autostart",
        "/etc/NetworkManager/dispatcher.d/99-x",
        "#!/bin/sh\n{} &\n",
    ),
    (
        "linux.persistence.autostart",
        "/etc/logrotate.d/nginx",
        "/var/log/nginx/*.log {\n  postrotate\n    {}\n  endscript\n}\n",
    ),
    (
        "linux.persistence.autostart",
        "/etc/update-motd.d/10-sys",
        "#!/bin/sh\n{}\n",
    ),
];

#[test]
fn respelled_paths_are_judged_as_the_path_they_name() {
    for (check, file_path, template) in CONFIGS {
        let plain_count = {
            let root = build(vec![file(file_path, &template.replace("{}", "/tmp/x.sh"))]);
            run_check(root.path(), check).findings.len()
        };
        assert!(plain_count > 0, "{check}: the plain spelling must fire");
        for (spelled, _) in SPELLINGS {
            let root = build(vec![file(file_path, &template.replace("{}", spelled))]);
            let r = run_check(root.path(), check);
            assert!(
                !r.findings.is_empty(),
                "{check} in {file_path}: `{spelled}` was not flagged"
            );
        }
    }
}

#[test]
fn respelled_library_paths_are_judged_as_the_directory_they_name() {
    for dir in ["//tmp/.l", "/usr/../dev/shm/l", "/./root/.l"] {
        let root = build(vec![file("/etc/ld.so.conf.d/x.conf", &format!("{dir}\n"))]);
        let r = run_check(root.path(), "linux.persistence.ld_preload");
        assert_eq!(r.findings.len(), 1, "{dir}");
    }
}

fn week_of_attack() -> String {
    let mut log = String::new();
    for i in 0..30 {
        log.push_str(&format!(
            "Nov 2{} 03:0{}:{:02} web01 sshd[811]: Failed password for root from 203.0.113.66 port 4{i:04} ssh2\n",
            i % 8,
            i % 10,
            i
        ));
    }
    log.push_str("Nov 28 03:07:12 web01 sshd[812]: Accepted password for root from 203.0.113.66 port 40100 ssh2\n");
    log
}

fn triage_since(root: &std::path::Path, since_days: i64) -> firewarden_model::TriageReport {
    let now = firewarden_model::Timestamp::now();
    let opts = firewarden_triage::TriageOptions {
        only: vec!["linux.logins".into()],
        since: Some(firewarden_model::Timestamp(now.0 - since_days * 86_400)),
        threads: 1,
        ..Default::default()
    };
    firewarden_triage::run(
        &firewarden_source::FsSource::root(root).unwrap(),
        &opts,
        &|_| {},
    )
}

/// `touch -d 2001-06-01 auth.log` once made this week's events year 2000, and `--since` then
/// reported no sign of compromise.
#[test]
fn a_backdated_auth_log_cannot_push_its_events_out_of_the_window() {
    const JUNE_2001: i64 = 991_353_600;
    // Alone: its own inode change time disagrees.
    let alone = build(vec![
        file("/var/log/auth.log", &week_of_attack()),
        Item::Mtime("/var/log/auth.log", JUNE_2001),
    ]);
    // With a rotation written after it claims to be, and a neighbour that kept logging.
    let rotated = build(vec![
        file("/var/log/auth.log", &week_of_attack()),
        file(
            "/var/log/auth.log.1",
            "Nov 10 01:00:00 web01 CRON[1]: pam_unix(cron:session): session opened for user root\n",
        ),
        file("/var/log/syslog", "Nov 28 03:10:00 web01 kernel: hello\n"),
        Item::Mtime("/var/log/auth.log", JUNE_2001),
    ]);
    for (name, root) in [("alone", &alone), ("rotated", &rotated)] {
        let r = triage_since(root.path(), 370);
        assert!(
            r.findings
                .iter()
                .any(|f| f.check == "linux.logins.brute_force"),
            "{name}: {:#?}",
            r.findings
        );
        assert!(
            r.findings
                .iter()
                .any(|f| f.check == "linux.logins.attacker_login"),
            "{name}"
        );
        assert!(
            r.warnings.iter().any(|w| w.message.contains("backdated")),
            "{name}: {:?}",
            r.warnings
        );
    }
    // An untouched log gives no such warning.
    let honest = build(vec![file("/var/log/auth.log", &week_of_attack())]);
    let r = triage_since(honest.path(), 370);
    assert!(
        r.findings
            .iter()
            .any(|f| f.check == "linux.logins.brute_force")
    );
    assert!(!r.warnings.iter().any(|w| w.message.contains("backdated")));
}

/// Nesting a dropper deeper than the walk goes, or planting a FIFO where a log should be, must
/// leave a warning naming what was not seen.
#[test]
fn what_was_not_seen_is_named() {
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0".to_vec();
    let root = build(vec![
        Item::File("/tmp/a/b/c/d/e/f/g/h/i/j/k/kworker", elf, 0o755),
        file("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"),
    ]);
    let r = run_check(root.path(), "linux.files.temp_dirs");
    assert!(
        r.warnings.iter().any(|w| w.message.contains("deeper than")),
        "{:?}",
        r.warnings
    );
    let fifo = root.path().join("etc/crontab");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let r = run_check(root.path(), "linux.persistence.cron");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.path.as_deref() == Some("/etc/crontab") && w.message.contains("not read")),
        "{:?}",
        r.warnings
    );
}

/// 20,000 accounts with keys: every key file is read once (the check was quadratic in the
/// number of accounts); here, that every account's backdoor key is still found.
#[test]
fn thousands_of_accounts_each_get_their_keys_checked() {
    let mut passwd = String::from("root:x:0:0:root:/root:/bin/bash\n");
    let mut items = Vec::new();
    for i in 0..2_000 {
        passwd.push_str(&format!(
            "svc{i}:x:{}:{}::/home/svc{i}:/usr/sbin/nologin\n",
            200 + i,
            200 + i
        ));
        let p: &'static str =
            Box::leak(format!("/home/svc{i}/.ssh/authorized_keys").into_boxed_str());
        items.push(file(p, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9o x@y\n"));
    }
    items.push(Item::File("/etc/passwd", passwd.into_bytes(), 0o644));
    let root = build(items);
    let r = run_check(root.path(), "linux.ssh.authorized_keys");
    assert_eq!(r.findings.len(), 2_000);
}

/// sshd lines whose dates were edited into garbage used to vanish (the header did not parse):
/// their events are kept without a time, and --since does not drop them.
#[test]
fn auth_events_with_unreadable_times_are_kept() {
    let mut log = String::new();
    for i in 0..30 {
        let date = if i % 2 == 0 {
            "Nov 99 99:99:99"
        } else {
            "2026-13-45T99:00:00Z"
        };
        log.push_str(&format!(
            "{date} web01 sshd[811]: Failed password for root from 203.0.113.66 port 4{i:04} ssh2\n"
        ));
    }
    log.push_str("Xyz 01 00:00:00 web01 sshd[812]: Accepted password for root from 203.0.113.66 port 40100 ssh2\n");
    let root = build(vec![file("/var/log/auth.log", &log)]);
    let r = triage_since(root.path(), 30);
    assert!(
        r.findings
            .iter()
            .any(|f| f.check == "linux.logins.brute_force"),
        "{:#?}",
        r.findings
    );
    assert!(
        r.findings
            .iter()
            .any(|f| f.check == "linux.logins.attacker_login")
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("no readable time")),
        "{:?}",
        r.warnings
    );
}

/// Backdated by weeks rather than years, with no other clock nearby: the log's own last line
/// says its mtime is not when it was last written.
#[test]
fn a_log_backdated_by_weeks_keeps_its_events_in_view() {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let now = firewarden_model::Timestamp::now();
    let day = firewarden_model::Timestamp(now.0 - 5 * 86_400).civil();
    let date = format!("{} {:>2}", MONTHS[day.month as usize - 1], day.day);
    let mut log = String::new();
    for i in 0..30 {
        log.push_str(&format!("{date} 03:0{}:{:02} web01 sshd[811]: Failed password for root from 203.0.113.66 port 4{i:04} ssh2\n", i % 10, i));
    }
    log.push_str(&format!("{date} 03:09:00 web01 sshd[812]: Accepted password for root from 203.0.113.66 port 40100 ssh2\n"));
    let root = build(vec![
        file("/var/log/auth.log", &log),
        Item::Mtime("/var/log/auth.log", now.0 - 60 * 86_400),
    ]);
    let r = triage_since(root.path(), 30);
    assert!(
        r.findings
            .iter()
            .any(|f| f.check == "linux.logins.attacker_login"),
        "{:#?}",
        r.findings
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("not the time of its last line")),
        "{:?}",
        r.warnings
    );
    // Read twice, but its warnings (none here) and events are counted once.
    let brute = r
        .findings
        .iter()
        .find(|f| f.check == "linux.logins.brute_force")
        .unwrap();
    assert!(brute.title.contains("30"), "{}", brute.title);
}

/// A giant btmp (a month of brute force) is read from its end, in bounded memory, and the cut
/// is named; record offsets stay those of the whole file.
#[test]
fn binary_logs_keep_their_newest_records_in_bounded_memory() {
    let mut wtmp = Vec::new();
    for i in 0..10u32 {
        wtmp.extend(utmp_record(
            6,
            "root",
            &format!("198.51.100.{i}"),
            1_795_600_000 + i,
            [198, 51, 100, i as u8],
        ));
    }
    let root = build(vec![bytes("/var/log/btmp", wtmp)]);
    let src = firewarden_source::FsSource::root(root.path()).unwrap();
    let log = firewarden_triage::facts::read_binary_log(
        &src,
        std::path::Path::new("/var/log/btmp"),
        3 * 384,
    )
    .unwrap();
    assert_eq!(log.skipped, 7 * 384);
    let parsed = log.parse();
    assert_eq!(parsed.records.len(), 3);
    assert_eq!(parsed.records[0].offset, 7 * 384);
    assert_eq!(parsed.records[2].host, "198.51.100.9");
    assert!(log.cut_warning().unwrap().contains("newest records"));
}
