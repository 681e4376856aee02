//! Accounts and authentication configuration: checklist rows 1–4 and 11.

use super::{files_in, read_config};
use crate::check::{Check, CheckError, CheckMeta};
use crate::indicators::is_suspicious_location;
use firewarden_artifacts::accounts::{HashKind, classify_hash, parse_group, parse_shadow};
use firewarden_model::{EventKind, Evidence, Severity, Timestamp};
use std::collections::HashMap;
use std::path::Path;

const SERVICE_ACCOUNTS: &[&str] = &[
    "www-data",
    "apache",
    "nginx",
    "httpd",
    "nobody",
    "mysql",
    "postgres",
    "redis",
    "daemon",
    "bin",
    "sys",
    "mail",
    "ftp",
    "tomcat",
    "jenkins",
    "elasticsearch",
    "mongodb",
    "memcache",
    "named",
    "bind",
    "games",
    "lp",
    "news",
    "uucp",
    "proxy",
    "backup",
    "list",
    "irc",
    "gnats",
    "systemd-network",
    "sshd",
    "_apt",
    "messagebus",
    "php-fpm",
    "zabbix",
];

/// Checklist row 1.
pub const UID0: Check = Check {
    meta: CheckMeta {
        id: "linux.accounts.uid0",
        title: "UID-0 accounts besides root; cloned UIDs",
        attack: &["T1136.001", "T1078.003"],
        severity: Severity::Critical,
        rows: &[1],
        live_state: false,
        walks_files: false,
        description: "Reads /etc/passwd: any account other than root with UID 0 has root's full power; two accounts sharing a UID are clones.",
    },
    run: |ctx| {
        let entries = ctx.facts.passwd(ctx.src).to_vec();
        let mut by_uid: HashMap<u32, Vec<&str>> = HashMap::new();
        for e in &entries {
            by_uid.entry(e.uid).or_default().push(&e.name);
            if e.uid == 0 && e.name != "root" {
                let ev = ctx
                    .file_evidence(Path::new("/etc/passwd"))
                    .line(e.line)
                    .excerpt(format!(
                        "{}:{}:{}:{}::{}:{}",
                        e.name, e.password, e.uid, e.gid, e.home, e.shell
                    ));
                let t = ev.mtime;
                let f = ctx
                    .finding(format!("Account `{}` has UID 0 (root privileges)", e.name))
                    .explain(format!("`{}` is a second superuser: whoever knows its password or key is root. Backdoor accounts are usually made this way (`useradd -o -u 0`).", e.name))
                    .recommend(format!("Lock `{}` (firewarden contain account), check auth logs for its logins and when it was created, then remove it.", e.name))
                    .evidence(ev)
                    .at_time(t);
                ctx.report_with_event(f, EventKind::AccountChange, None, Some(e.name.clone()));
            }
        }
        for (uid, names) in by_uid {
            if uid != 0 && names.len() > 1 {
                let f = ctx
                    .finding(format!("UID {uid} is shared by {}", names.join(", ")))
                    .explain("Several accounts with one UID are the same user to the kernel; a cloned account hides activity under another name.")
                    .recommend("Find out which of the accounts is legitimate and remove the clone.")
                    .evidence(Evidence::at("/etc/passwd").excerpt(names.join(",")));
                let mut f = f;
                f.severity = Severity::High;
                ctx.report(f);
            }
        }
        Ok(())
    },
};

/// Checklist row 2.
pub const LOGIN_SHELL: Check = Check {
    meta: CheckMeta {
        id: "linux.accounts.login_shell",
        title: "Service accounts with a login shell; accounts created by useradd in the logs",
        attack: &["T1136.001"],
        severity: Severity::High,
        rows: &[2],
        live_state: false,
        walks_files: false,
        description: "Service accounts (www-data, mysql, nobody …) never need an interactive shell; an attacker who gives them one gets a quiet login. Also lists accounts whose creation the auth log records.",
    },
    run: |ctx| {
        for e in ctx.facts.passwd(ctx.src).to_vec() {
            if e.uid != 0
                && SERVICE_ACCOUNTS.contains(&e.name.as_str())
                && e.has_login_shell()
                && e.shell.contains("sh")
            {
                let ev = ctx
                    .file_evidence(Path::new("/etc/passwd"))
                    .line(e.line)
                    .excerpt(format!(
                        "{}:…:{}:{}::{}:{}",
                        e.name, e.uid, e.gid, e.home, e.shell
                    ));
                let mut f = ctx
                    .finding(format!("Service account `{}` has the login shell {}", e.name, e.shell))
                    .explain(format!("`{}` runs a service and should have /usr/sbin/nologin. With {} anyone who can authenticate as it (a key, a set password) gets a shell.", e.name, e.shell))
                    .recommend(format!("Set the shell back to /usr/sbin/nologin and check ~{}/.ssh and /etc/shadow for a key or password added to it.", e.name))
                    .evidence(ev);
                // Debian's postgresql packages give `postgres` a shell on purpose (for `su - postgres`).
                if e.name == "postgres" && e.shell == "/bin/bash" {
                    f.severity = Severity::Low;
                    f.explanation.push_str(" (Debian and Ubuntu set this shell for postgres by default, so on its own it is weak evidence.)");
                }
                ctx.report(f);
            }
        }
        let auth = ctx.facts.auth(ctx.src);
        let created: Vec<_> = auth
            .other
            .iter()
            .filter_map(|o| match o.what {
                crate::facts::OtherKind::NewUser(uid) => Some((o.clone(), uid)),
                _ => None,
            })
            .collect();
        for (o, uid) in created {
            if o.time.is_some_and(|t| !ctx.in_window(t)) {
                continue;
            }
            let mut f = ctx
                .finding(format!("Account `{}` was created{}", o.user, uid.map(|u| format!(" with UID {u}")).unwrap_or_default()))
                .explain("The auth log records a new account. During an incident, any account created in the window is suspect until someone vouches for it.")
                .recommend("Confirm with the system owner who created it; lock it if nobody did.")
                .evidence(Evidence::at(o.path.clone()).line(o.line))
                .at_time(o.time);
            f.severity = if uid == Some(0) {
                Severity::Critical
            } else {
                Severity::Medium
            };
            ctx.report_with_event(f, EventKind::AccountChange, None, Some(o.user.clone()));
        }
        Ok(())
    },
};

/// Checklist row 3.
pub const WEAK_PASSWORD: Check = Check {
    meta: CheckMeta {
        id: "linux.accounts.weak_password",
        title: "Empty, plaintext or weakly hashed passwords",
        attack: &["T1078.003", "T1110"],
        severity: Severity::High,
        rows: &[3],
        live_state: false,
        walks_files: false,
        description: "Reads /etc/shadow (and passwd's own password field): empty fields allow login without a password; DES and MD5-crypt fall to any cracker; a field that is not a hash may be a plaintext password.",
    },
    run: |ctx| {
        let passwd = ctx.facts.passwd(ctx.src).to_vec();
        let login: HashMap<&str, bool> = passwd
            .iter()
            .map(|e| (e.name.as_str(), e.has_login_shell()))
            .collect();
        for e in &passwd {
            if e.password.is_empty() {
                let f = ctx
                    .finding(format!("Account `{}` has an empty password field in /etc/passwd", e.name))
                    .explain("An empty password field in passwd overrides shadow: the account logs in without a password.")
                    .recommend("Put `x` back in the field and set or lock the password.")
                    .evidence(ctx.file_evidence(Path::new("/etc/passwd")).line(e.line).excerpt(&e.name));
                let mut f = f;
                f.severity = Severity::Critical;
                ctx.report(f);
            }
        }
        let Some(text) = read_config(ctx, Path::new("/etc/shadow")) else {
            return Err(CheckError::NotApplicable(
                "/etc/shadow not readable in this source".into(),
            ));
        };
        for s in parse_shadow(&text) {
            let can_login = login.get(s.name.as_str()).copied().unwrap_or(true);
            let (sev, what) = match classify_hash(&s.hash) {
                HashKind::Empty if can_login => (
                    Severity::Critical,
                    "has no password at all: anyone can log in as it",
                ),
                HashKind::Empty => (
                    Severity::Medium,
                    "has an empty password (no login shell, but su/ssh may still accept it)",
                ),
                HashKind::Des => (Severity::High, "uses a DES crypt hash, cracked in minutes"),
                HashKind::Md5 => (
                    Severity::Medium,
                    "uses an MD5-crypt hash, weak against cracking",
                ),
                HashKind::Unknown => (
                    Severity::High,
                    "has a password field that is not a known hash format (plaintext?)",
                ),
                HashKind::Locked | HashKind::Strong => continue,
            };
            let mut f = ctx
                .finding(format!("Account `{}` {what}", s.name))
                .explain(format!("The shadow entry of `{}` {what}. Attackers set such passwords on backdoor accounts, and brute force finds them.", s.name))
                .recommend("Set a strong password (or lock the account) and find out who changed it and when.")
                .evidence(ctx.file_evidence(Path::new("/etc/shadow")).line(s.line).excerpt(&s.name));
            f.severity = sev;
            if let Some(day) = s.last_change_day.filter(|d| *d > 0) {
                f.time = Some(Timestamp(day * 86_400));
            }
            ctx.report(f);
        }
        Ok(())
    },
};

/// Checklist row 4.
pub const SUDO: Check = Check {
    meta: CheckMeta {
        id: "linux.accounts.sudo",
        title: "sudo rights: NOPASSWD, full rights for ordinary users, writable sudoers",
        attack: &["T1548.003"],
        severity: Severity::High,
        rows: &[4],
        live_state: false,
        walks_files: false,
        description: "Reads /etc/sudoers and /etc/sudoers.d/*: NOPASSWD rules let a stolen session become root silently; ALL rights granted to individual non-admin users and sudoers files writable by others are privilege-escalation backdoors.",
    },
    run: |ctx| {
        let mut files = vec![Path::new("/etc/sudoers").to_path_buf()];
        files.extend(files_in(ctx, Path::new("/etc/sudoers.d")));
        let admin_groups: Vec<String> = read_config(ctx, Path::new("/etc/group"))
            .map(|g| {
                parse_group(&g)
                    .into_iter()
                    .filter(|(n, ..)| n == "sudo" || n == "wheel" || n == "admin")
                    .flat_map(|(_, _, m, _)| m)
                    .collect()
            })
            .unwrap_or_default();
        for path in files {
            if let Ok(m) = ctx.src.metadata(&path)
                && m.mode & 0o022 != 0
            {
                let f = ctx
                    .finding(format!(
                        "sudoers file {} is writable by non-root users",
                        path.display()
                    ))
                    .explain("Anyone who can write a sudoers file can give themselves root.")
                    .recommend("chown root:root and chmod 0440 the file, and check its content.")
                    .evidence(ctx.file_evidence(&path));
                let mut f = f;
                f.severity = Severity::Critical;
                ctx.report(f);
            }
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                let t = line.trim();
                if t.is_empty()
                    || t.starts_with('#')
                    || t.starts_with("Defaults")
                    || t.starts_with("@include")
                    || t.contains("_Alias")
                {
                    continue;
                }
                let who = t.split_whitespace().next().unwrap_or("");
                let is_group = who.starts_with('%');
                // `//bin//bash` or `/usr/../tmp/x` in a rule is the program sudo runs.
                let upper = firewarden_source::spelling::normalize_command(t).to_ascii_uppercase();
                let nopasswd = upper.contains("NOPASSWD");
                let all =
                    upper.ends_with(" ALL") || upper.ends_with(":ALL") || upper.ends_with("=ALL");
                let (sev, what) = if nopasswd && all {
                    (
                        if is_group {
                            Severity::Medium
                        } else {
                            Severity::High
                        },
                        "may run anything as root without a password",
                    )
                } else if all
                    && !is_group
                    && who != "root"
                    && !admin_groups.iter().any(|a| a == who)
                {
                    (Severity::Medium, "is given full root rights individually")
                } else if nopasswd
                    && (upper.contains("/BIN/BASH")
                        || upper.contains("/BIN/SH")
                        || upper.contains("PYTHON")
                        || upper.contains("PERL")
                        || upper.contains("/VIM")
                        || upper.contains("FIND")
                        || upper.contains("/TEE"))
                {
                    (
                        Severity::High,
                        "may run a shell-capable program as root without a password",
                    )
                } else if nopasswd
                    && upper.split([' ', ',', ':', '=']).any(|w| {
                        w.starts_with('/') && is_suspicious_location(&w.to_ascii_lowercase())
                    })
                {
                    (
                        Severity::High,
                        "may run a program from a temp or hidden directory as root without a password",
                    )
                } else {
                    continue;
                };
                let ev = ctx.file_evidence(&path).line(i as u64 + 1).excerpt(t);
                let mut f = ctx
                    .finding(format!("sudo: `{who}` {what}"))
                    .explain(format!("The rule `{t}` means `{who}` {what}. Attackers add such rules so a low-privileged foothold becomes root at will."))
                    .recommend("Remove the rule unless the system owner confirms it, and check who added it (file mtime, auth log).")
                    .evidence(ev);
                f.severity = sev;
                ctx.report(f);
            }
        }
        Ok(())
    },
};

/// Checklist row 11.
pub const PAM: Check = Check {
    meta: CheckMeta {
        id: "linux.accounts.pam",
        title: "PAM backdoors: pam_exec, permit-all rules, modified or foreign modules",
        attack: &["T1556.003"],
        severity: Severity::High,
        rows: &[11],
        live_state: false,
        walks_files: false,
        description: "Reads /etc/pam.d/*: `pam_exec` can log passwords or run payloads, `sufficient pam_permit.so` in an auth stack accepts any password, modules loaded from outside the system module dirs are foreign; verifies pam_unix.so against dpkg's digest.",
    },
    run: |ctx| {
        for path in files_in(ctx, Path::new("/etc/pam.d")) {
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                let t = line.trim();
                if t.is_empty() || t.starts_with('#') {
                    continue;
                }
                let fields: Vec<&str> = t.split_whitespace().collect();
                let module = fields
                    .iter()
                    .find(|f| f.contains(".so"))
                    .copied()
                    .unwrap_or("");
                let (sev, what) = if module.contains("pam_exec.so") {
                    (
                        Severity::High,
                        "runs an external program from PAM (pam_exec): can capture passwords or run a backdoor",
                    )
                } else if module.contains("pam_permit.so")
                    && fields.first() == Some(&"auth")
                    && (t.contains("sufficient") || t.contains("success="))
                {
                    (
                        Severity::Critical,
                        "accepts any password (pam_permit.so as sufficient auth)",
                    )
                } else if module.starts_with('/')
                    && ![
                        "/lib/security/",
                        "/lib64/security/",
                        "/usr/lib/security/",
                        "/usr/lib64/security/",
                        "/lib/x86_64-linux-gnu/security/",
                        "/usr/lib/x86_64-linux-gnu/security/",
                        "/lib/aarch64-linux-gnu/security/",
                        "/usr/lib/aarch64-linux-gnu/security/",
                    ]
                    .iter()
                    .any(|d| module.starts_with(d))
                {
                    (
                        Severity::High,
                        "loads a PAM module from outside the system module directories",
                    )
                } else {
                    continue;
                };
                let mut f = ctx
                    .finding(format!("PAM {}: {what}", path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()))
                    .explain(format!("`{t}` {what}. PAM backdoors give attackers a master password or collect every password typed."))
                    .recommend("Compare the file with the distribution's default, restore it, and inspect the program or module it names.")
                    .evidence(ctx.file_evidence(&path).line(i as u64 + 1).excerpt(t));
                f.severity = sev;
                ctx.report(f);
            }
        }
        // pam_unix.so against its package digest.
        let candidates: Vec<(String, crate::facts::FileDigest)> = ctx
            .facts
            .packages(ctx.src)
            .digests
            .iter()
            .filter(|(p, _)| p.ends_with("/security/pam_unix.so"))
            .map(|(p, d)| (p.clone(), d.clone()))
            .collect();
        for (path, expected) in candidates {
            if let Some(actual) = super::files::digest_of(ctx, Path::new(&path), expected.algo)
                && actual != expected.hex
            {
                let mut f = ctx
                    .finding(format!("{path} differs from package {}", expected.package))
                    .explain("pam_unix.so checks every password on the system; a modified copy is the classic PAM backdoor (master password, password logging).")
                    .recommend("Preserve the file for analysis, reinstall the package from a trusted source, and rotate all passwords used since.")
                    .evidence(ctx.file_evidence(Path::new(&path)).excerpt(format!("{:?} {actual}, package says {}", expected.algo, expected.hex)));
                f.severity = Severity::Critical;
                ctx.report(f);
            }
        }
        Ok(())
    },
};
