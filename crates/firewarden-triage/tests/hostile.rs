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
];

/// One config per check that reads paths, with `{}` where the program goes.
const CONFIGS: &[(&str, &str, &str)] = &[
    ("linux.persistence.cron", "/etc/cron.d/sync", "* * * * * root {}\n"),
    ("linux.persistence.cron", "/etc/crontab", "*/5 * * * * root {} >/dev/null 2>&1\n"),
    ("linux.persistence.cron", "/var/spool/cron/crontabs/www-data", "@reboot {}\n"),
    ("linux.persistence.systemd", "/etc/systemd/system/dbus-helper.service", "[Service]\nExecStart={} --daemon\n"),
    ("linux.persistence.rc", "/etc/rc.local", "#!/bin/sh\n{} &\nexit 0\n"),
    ("linux.persistence.shell_profile", "/etc/profile.d/z.sh", "{} &\n"),
    ("linux.persistence.udev", "/etc/udev/rules.d/99-x.rules", "ACTION==\"add\", RUN+=\"{}\"\n"),
    ("linux.accounts.sudo", "/etc/sudoers.d/backup", "www-data ALL=(root) NOPASSWD: {}\n"),
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
