//! Reinforcement: score the host against the settings attackers most often exploit, and fix an
//! item with a plan and undo. Each item is one entry of [`ITEMS`]: its check and, when it can be
//! fixed safely, its fix.

use crate::engine::{LineEdit, Plan};
use crate::target::{EDIT_LIMIT, Target};
use crate::{Error, Result, contain, step};
use firewarden_model::action::{
    ACTION_SCHEMA_VERSION, HardenItem, HardenScore, HardenStatus as Status, Risk, Step,
};
use std::path::Path;

type CheckFn = fn(&Target) -> (Status, String);
type FixFn = fn(&Target, &mut Plan) -> Result<()>;

/// A hardening item.
pub struct Item {
    /// Id.
    pub id: &'static str,
    /// Title.
    pub title: &'static str,
    /// Risk of its fix.
    pub risk: Risk,
    check: CheckFn,
    fix: Option<FixFn>,
}

/// Every item, in report order.
pub const ITEMS: &[Item] = &[
    Item {
        id: "ssh.root_login",
        title: "sshd refuses root logins with a password",
        risk: Risk::High,
        check: |t| sshd_bad(t, "permitrootlogin", "prohibit-password", &["yes"]),
        fix: Some(|t, p| sshd_set(t, p, "PermitRootLogin", "prohibit-password")),
    },
    Item {
        id: "ssh.password_auth",
        title: "sshd refuses password logins",
        risk: Risk::High,
        check: |t| sshd_bad(t, "passwordauthentication", "yes", &["yes"]),
        fix: Some(fix_password_auth),
    },
    Item {
        id: "ssh.empty_passwords",
        title: "sshd refuses empty passwords",
        risk: Risk::Medium,
        check: |t| sshd_bad(t, "permitemptypasswords", "no", &["yes"]),
        fix: Some(|t, p| sshd_set(t, p, "PermitEmptyPasswords", "no")),
    },
    Item {
        id: "services.public_datastore",
        title: "No Redis, MySQL, PostgreSQL, Elasticsearch, MongoDB, memcached or Docker API on a public address",
        risk: Risk::Medium,
        check: public_datastores,
        fix: None,
    },
    Item {
        id: "path.world_writable",
        title: "No world-writable directory in PATH",
        risk: Risk::Low,
        check: |t| {
            let bad = writable_path_dirs(t);
            if bad.is_empty() {
                (Status::Pass, "none".into())
            } else {
                (
                    Status::Fail,
                    bad.iter()
                        .map(|(d, m)| format!("{d} ({m:04o})"))
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            }
        },
        fix: Some(|t, p| {
            for (d, m) in writable_path_dirs(t) {
                p.push(Step::Chmod {
                    path: d,
                    before: m,
                    after: m & !0o002,
                });
            }
            Ok(())
        }),
    },
    Item {
        id: "perms.shadow",
        title: "/etc/shadow and /etc/gshadow readable by root and group shadow only",
        risk: Risk::Low,
        check: |t| perms(t, &["/etc/shadow", "/etc/gshadow"], 0o027),
        fix: Some(|t, p| fix_perms(t, p, &["/etc/shadow", "/etc/gshadow"], 0o027)),
    },
    Item {
        id: "perms.sudoers",
        title: "sudoers files not writable by anyone but root nor readable by others",
        risk: Risk::Low,
        check: |t| perms(t, &sudoers_files(t), 0o227),
        fix: Some(|t, p| fix_perms(t, p, &sudoers_files(t), 0o227)),
    },
    Item {
        id: "sudo.nopasswd",
        title: "No sudo rule without a password (NOPASSWD)",
        risk: Risk::Medium,
        check: |t| {
            let l = nopasswd_lines(t);
            if l.is_empty() {
                (Status::Pass, "none".into())
            } else {
                (
                    Status::Fail,
                    l.iter()
                        .map(|(f, _, x)| format!("{f}: {x}"))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            }
        },
        fix: Some(fix_nopasswd),
    },
    Item {
        id: "kernel.aslr",
        title: "Address space randomisation on (kernel.randomize_va_space = 2)",
        risk: Risk::Low,
        check: |t| sysctl_at_least(t, "kernel.randomize_va_space", 2),
        fix: Some(|t, p| sysctl_fix(t, p, "kernel.randomize_va_space", 2)),
    },
    Item {
        id: "kernel.kptr_restrict",
        title: "Kernel pointers hidden (kernel.kptr_restrict >= 1)",
        risk: Risk::Low,
        check: |t| sysctl_at_least(t, "kernel.kptr_restrict", 1),
        fix: Some(|t, p| sysctl_fix(t, p, "kernel.kptr_restrict", 1)),
    },
    Item {
        id: "kernel.dmesg_restrict",
        title: "Kernel log for root only (kernel.dmesg_restrict = 1)",
        risk: Risk::Low,
        check: |t| sysctl_at_least(t, "kernel.dmesg_restrict", 1),
        fix: Some(|t, p| sysctl_fix(t, p, "kernel.dmesg_restrict", 1)),
    },
    Item {
        id: "kernel.ptrace_scope",
        title: "ptrace limited to descendants (kernel.yama.ptrace_scope >= 1)",
        risk: Risk::Low,
        check: |t| sysctl_at_least(t, "kernel.yama.ptrace_scope", 1),
        fix: Some(|t, p| sysctl_fix(t, p, "kernel.yama.ptrace_scope", 1)),
    },
    Item {
        id: "updates.automatic",
        title: "Security updates installed automatically",
        risk: Risk::Low,
        check: auto_updates,
        fix: Some(fix_auto_updates),
    },
    Item {
        id: "audit.auditd",
        title: "auditd installed and enabled",
        risk: Risk::Low,
        check: |t| {
            let installed = ["/sbin/auditd", "/usr/sbin/auditd"]
                .iter()
                .any(|p| t.exists(p));
            let enabled = t.exists("/etc/systemd/system/multi-user.target.wants/auditd.service");
            match (installed, enabled) {
                (true, true) => (Status::Pass, "installed, enabled".into()),
                (true, false) => (Status::Fail, "installed but not enabled".into()),
                _ => (Status::Fail, "not installed (apt install auditd)".into()),
            }
        },
        fix: None,
    },
    Item {
        id: "firewall.host",
        title: "A host firewall is configured to start at boot",
        risk: Risk::Low,
        check: host_firewall,
        fix: None,
    },
];

/// Scores the target.
pub fn check(target: &Target) -> HardenScore {
    let items: Vec<HardenItem> = ITEMS
        .iter()
        .map(|i| {
            let (status, detail) = (i.check)(target);
            HardenItem {
                id: i.id.to_string(),
                title: i.title.to_string(),
                status,
                detail: firewarden_model::printable(&detail, 400),
                fixable: i.fix.is_some(),
            }
        })
        .collect();
    HardenScore {
        schema_version: ACTION_SCHEMA_VERSION,
        host: target.hostname(),
        root: target.root_dir().display().to_string(),
        passed: items.iter().filter(|i| i.status == Status::Pass).count(),
        scored: items.iter().filter(|i| i.status != Status::Unknown).count(),
        items,
    }
}

/// Plans the fix of one item (which must be failing).
pub fn plan(target: &Target, id: &str) -> Result<Plan> {
    let item = ITEMS.iter().find(|i| i.id == id).ok_or_else(|| {
        Error::Refused(format!(
            "no hardening item `{id}`; items: {}",
            ITEMS.iter().map(|i| i.id).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let fix = item.fix.ok_or_else(|| {
        Error::Refused(format!(
            "{id} has no automatic fix: {}",
            (item.check)(target).1
        ))
    })?;
    if (item.check)(target).0 == Status::Pass {
        return Err(Error::Refused(format!("{id} passes already")));
    }
    let mut plan = Plan::new(
        &format!("harden.{id}"),
        format!("Harden: {}", item.title),
        item.risk,
        target,
    )
    .for_finding(id, None);
    fix(target, &mut plan)?;
    if plan.is_empty() {
        return Err(Error::Refused(format!("{id}: nothing to change")));
    }
    Ok(plan)
}

// ---- sshd -------------------------------------------------------------------------------

/// Effective global sshd settings: first value wins, `Include`s are read where they stand,
/// `Match` blocks end the global section. Keys are lower-case; each value comes with its file.
fn sshd_settings(target: &Target) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    read_sshd(target, "/etc/ssh/sshd_config", &mut out, 0);
    out
}

fn read_sshd(
    target: &Target,
    file: &str,
    out: &mut Vec<(String, String, String)>,
    depth: usize,
) -> bool {
    let Some(text) = target.text(file) else {
        return true;
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut w = line.splitn(2, [' ', '\t', '=']);
        let key = w.next().unwrap_or_default().to_ascii_lowercase();
        let value = w
            .next()
            .unwrap_or_default()
            .trim()
            .trim_start_matches('=')
            .trim()
            .to_string();
        if key == "match" {
            return false;
        }
        if key == "include" && depth < 4 {
            for pattern in value.split_whitespace() {
                let pattern = if pattern.starts_with('/') {
                    pattern.to_string()
                } else {
                    format!("/etc/ssh/{pattern}")
                };
                for f in glob_in(target, &pattern) {
                    if !read_sshd(target, &f, out, depth + 1) {
                        return false;
                    }
                }
            }
            continue;
        }
        out.push((key, value, file.to_string()));
    }
    true
}

/// Expands a `dir/*.conf`-style pattern (one `*` in the last component) inside the target.
fn glob_in(target: &Target, pattern: &str) -> Vec<String> {
    let (dir, name) = pattern.rsplit_once('/').unwrap_or(("/", pattern));
    if !name.contains('*') {
        return if target.exists(pattern) {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        };
    }
    let (pre, post) = name.split_once('*').unwrap_or((name, ""));
    let Ok(host) = target.host_path(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = std::fs::read_dir(host)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(pre) && n.ends_with(post) && n.len() >= pre.len() + post.len())
        .map(|n| format!("{dir}/{n}"))
        .collect();
    out.sort();
    out
}

fn sshd_value(target: &Target, key: &str) -> Option<(String, String)> {
    sshd_settings(target)
        .into_iter()
        .find(|(k, _, _)| k == key)
        .map(|(_, v, f)| (v.to_ascii_lowercase(), f))
}

fn sshd_bad(target: &Target, key: &str, default: &str, bad: &[&str]) -> (Status, String) {
    if !target.exists("/etc/ssh/sshd_config") {
        return (Status::Unknown, "no /etc/ssh/sshd_config".into());
    }
    let (value, from) = sshd_value(target, key)
        .map(|(v, f)| (v, format!("set in {f}")))
        .unwrap_or((default.to_string(), "OpenSSH default".into()));
    let status = if bad.contains(&value.as_str()) {
        Status::Fail
    } else {
        Status::Pass
    };
    (status, format!("{key} {value} ({from})"))
}

/// Sets a global sshd option by putting it first in sshd_config (the first value wins).
fn sshd_set(target: &Target, plan: &mut Plan, key: &str, value: &str) -> Result<()> {
    let (_, old) = target.read_file("/etc/ssh/sshd_config", EDIT_LIMIT)?;
    let mut new = format!("# firewarden harden: first value wins\n{key} {value}\n").into_bytes();
    new.extend_from_slice(&old);
    plan.edit(target, "/etc/ssh/sshd_config", new)?;
    plan.note("reload sshd to take effect (systemctl reload ssh); open sessions are not affected");
    Ok(())
}

/// Turning off passwords must not lock the responder out: their account needs a key first.
fn fix_password_auth(target: &Target, plan: &mut Plan) -> Result<()> {
    if target.is_live()
        && let Some(uid) = contain::responder_uid()
    {
        let home = contain::accounts(target)
            .into_iter()
            .find(|a| a.uid == uid)
            .map(|a| a.home);
        let has_key = home.is_some_and(|h| {
            target
                .text(&format!("{}/.ssh/authorized_keys", h.trim_end_matches('/')))
                .is_some_and(|k| {
                    k.lines()
                        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                })
        });
        if !has_key {
            return Err(Error::Refused(
                "your own account has no SSH key in authorized_keys: turning off passwords would lock you out. Add a key first".into(),
            ));
        }
    }
    sshd_set(target, plan, "PasswordAuthentication", "no")
}

// ---- services ---------------------------------------------------------------------------

const DATASTORE_PORTS: &[(u16, &str)] = &[
    (6379, "Redis"),
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (9200, "Elasticsearch"),
    (27017, "MongoDB"),
    (11211, "memcached"),
    (2375, "Docker API (no TLS)"),
];

/// Listening TCP sockets from `/proc/net/tcp{,6}` (the project's parser); `None` when the
/// target has neither table.
fn listening(target: &Target) -> Option<Vec<firewarden_artifacts::procnet::Socket>> {
    use firewarden_artifacts::procnet::{Proto, parse_table};
    let tables: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| target.text(f))
        .collect();
    (!tables.is_empty()).then(|| {
        tables
            .iter()
            .flat_map(|t| parse_table(t, Proto::Tcp))
            .filter(|s| s.is_listening())
            .collect()
    })
}

/// Whether a datastore on `port` is configured to ask for credentials (where its config says
/// so): Redis `requirepass`, Elasticsearch `xpack.security.enabled: true`.
fn requires_auth(target: &Target, port: u16) -> bool {
    let has = |file: &str, pred: &dyn Fn(&str) -> bool| {
        target.text(file).is_some_and(|c| {
            c.lines()
                .map(str::trim)
                .any(|l| !l.starts_with('#') && pred(l))
        })
    };
    match port {
        6379 => has("/etc/redis/redis.conf", &|l| l.starts_with("requirepass ")),
        9200 => has("/etc/elasticsearch/elasticsearch.yml", &|l| {
            l.replace(' ', "") == "xpack.security.enabled:true"
        }),
        _ => false,
    }
}

/// Datastores and the Docker API listening on a non-loopback address without authentication,
/// from `/proc/net/tcp{,6}` (of the live host, or of a collected tree that has them).
fn public_datastores(target: &Target) -> (Status, String) {
    let Some(socks) = listening(target) else {
        return (
            Status::Unknown,
            "no /proc/net/tcp: listening sockets cannot be listed (not the running system)".into(),
        );
    };
    let mut bad = Vec::new();
    let mut guarded = Vec::new();
    for sock in socks {
        let port = sock.local_port;
        let Some((_, name)) = DATASTORE_PORTS.iter().find(|(p, _)| *p == port) else {
            continue;
        };
        if sock.local.is_loopback() {
            continue;
        }
        let seen = format!("{name} on {}", std::net::SocketAddr::new(sock.local, port));
        if requires_auth(target, port) {
            guarded.push(seen);
        } else {
            bad.push(seen);
        }
    }
    bad.dedup();
    let also = if guarded.is_empty() {
        String::new()
    } else {
        format!(
            " (public but asking for credentials: {})",
            guarded.join(", ")
        )
    };
    if bad.is_empty() {
        (
            Status::Pass,
            format!("none public without authentication{also}"),
        )
    } else {
        (
            Status::Fail,
            format!(
                "{}, with no authentication configured: bind them to 127.0.0.1 or firewall them{also}",
                bad.join(", ")
            ),
        )
    }
}

// ---- files ------------------------------------------------------------------------------

fn path_dirs(target: &Target) -> Vec<String> {
    let mut dirs: Vec<String> = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        .split(':')
        .map(str::to_string)
        .collect();
    if let Some(env) = target.text("/etc/environment") {
        for l in env.lines() {
            if let Some(v) = l.trim().strip_prefix("PATH=") {
                dirs.extend(v.trim_matches('"').split(':').map(str::to_string));
            }
        }
    }
    if let Some(defs) = target.text("/etc/login.defs") {
        for l in defs.lines() {
            let mut w = l.split_whitespace();
            if matches!(w.next(), Some("ENV_PATH" | "ENV_SUPATH"))
                && let Some(v) = w.next()
            {
                dirs.extend(v.trim_start_matches("PATH=").split(':').map(str::to_string));
            }
        }
    }
    dirs.retain(|d| d.starts_with('/'));
    dirs.sort();
    dirs.dedup();
    dirs
}

fn writable_path_dirs(target: &Target) -> Vec<(String, u32)> {
    path_dirs(target)
        .into_iter()
        .filter_map(|d| {
            let m = target.source_meta(&d)?;
            (m & 0o002 != 0).then_some((d, m))
        })
        .collect()
}

fn perms(target: &Target, files: &[impl AsRef<str>], forbidden: u32) -> (Status, String) {
    let mut bad = Vec::new();
    let mut seen = 0;
    for f in files.iter().map(AsRef::as_ref) {
        let Some(mode) = target.source_meta(f) else {
            continue;
        };
        seen += 1;
        let owner = target.owner(f).unwrap_or(0);
        if mode & forbidden != 0 || owner != 0 {
            bad.push(format!("{f} mode {mode:04o} owner uid {owner}"));
        }
    }
    match (seen, bad.is_empty()) {
        (0, _) => (Status::Unknown, "none of the files exist".into()),
        (_, true) => (Status::Pass, "ok".into()),
        _ => (Status::Fail, bad.join(", ")),
    }
}

fn fix_perms(
    target: &Target,
    plan: &mut Plan,
    files: &[impl AsRef<str>],
    forbidden: u32,
) -> Result<()> {
    for f in files.iter().map(AsRef::as_ref) {
        let Some(mode) = target.source_meta(f) else {
            continue;
        };
        if mode & forbidden != 0 {
            plan.push(Step::Chmod {
                path: f.to_string(),
                before: mode,
                after: mode & !forbidden,
            });
        }
        if target.owner(f).is_some_and(|o| o != 0) {
            plan.note(format!(
                "{f} is not owned by root: check who changed it (chown is left to you)"
            ));
        }
    }
    Ok(())
}

/// The files sudo reads: /etc/sudoers and, as sudo's `@includedir` does, the files in
/// /etc/sudoers.d whose names hold no `.` and do not end in `~` (so a `rule.bak` is neither
/// reported nor edited).
fn sudoers_files(target: &Target) -> Vec<String> {
    let mut out = vec!["/etc/sudoers".to_string()];
    out.extend(glob_in(target, "/etc/sudoers.d/*").into_iter().filter(|f| {
        let name = f.rsplit('/').next().unwrap_or_default();
        !name.contains('.') && !name.ends_with('~')
    }));
    out.retain(|f| target.exists(f));
    out
}

/// Active lines granting NOPASSWD: (file, line index, text).
fn nopasswd_lines(target: &Target) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    for f in sudoers_files(target) {
        let Some(text) = target.text(&f) else {
            continue;
        };
        for (i, l) in text.lines().enumerate() {
            let t = l.trim();
            if !t.starts_with('#') && t.contains("NOPASSWD") {
                out.push((f.clone(), i, t.to_string()));
            }
        }
    }
    out
}

fn fix_nopasswd(target: &Target, plan: &mut Plan) -> Result<()> {
    let mut files: Vec<String> = nopasswd_lines(target)
        .into_iter()
        .map(|(f, _, _)| f)
        .collect();
    files.dedup();
    for f in files {
        plan.edit_lines(target, &f, |l| {
            let t = l.trim();
            if !t.starts_with('#') && t.contains("NOPASSWD") {
                LineEdit::Replace(format!("# firewarden harden: {l}"))
            } else {
                LineEdit::Keep
            }
        })?;
    }
    plan.note("automation that relied on passwordless sudo will now ask for a password");
    Ok(())
}

// ---- kernel -----------------------------------------------------------------------------

/// Our drop-in: sorts after Debian's `99-sysctl.conf`, so a value there does not win.
const SYSCTL_FILE: &str = "/etc/sysctl.d/99-zz-firewarden-hardening.conf";

/// A kernel setting: the running value on the live host, else the configured one.
fn sysctl_value(target: &Target, key: &str) -> Option<(i64, String)> {
    if target.is_live() {
        return step::read_sysctl(key)
            .and_then(|v| v.parse().ok())
            .map(|v| (v, "running kernel".to_string()));
    }
    // The order `sysctl --system` reads them: drop-ins by name, /etc/sysctl.conf last.
    let mut files = glob_in(target, "/etc/sysctl.d/*.conf");
    files.push("/etc/sysctl.conf".to_string());
    let mut found = None;
    for f in files {
        let Some(text) = target.text(&f) else {
            continue;
        };
        for l in text.lines() {
            if let Some((k, v)) = l.split_once('=')
                && k.trim().replace('/', ".") == key
                && let Ok(v) = v.trim().parse()
            {
                found = Some((v, f.clone()));
            }
        }
    }
    found
}

fn sysctl_at_least(target: &Target, key: &str, want: i64) -> (Status, String) {
    match sysctl_value(target, key) {
        Some((v, from)) if v >= want => (Status::Pass, format!("{key} = {v} ({from})")),
        Some((v, from)) => (Status::Fail, format!("{key} = {v} ({from}), want {want}")),
        None => (
            Status::Unknown,
            format!("{key}: not set in any sysctl file"),
        ),
    }
}

fn sets_key(line: &str, key: &str) -> bool {
    line.split_once('=').is_some_and(|(k, _)| {
        k.trim().replace('/', ".") == key && !k.trim_start().starts_with(['#', ';'])
    })
}

/// Writes the setting where it will win at boot: over the key's line in /etc/sysctl.conf
/// (read last), else in our drop-in, else appended to /etc/sysctl.conf; and on the live host
/// into the running kernel too.
fn sysctl_fix(target: &Target, plan: &mut Plan, key: &str, want: i64) -> Result<()> {
    let line = format!("{key} = {want}");
    let set_here = |path: &str| {
        target
            .text(path)
            .is_some_and(|t| t.lines().any(|l| sets_key(l, key)))
    };
    let replace = |l: &str| {
        if sets_key(l, key) {
            LineEdit::Replace(line.clone())
        } else {
            LineEdit::Keep
        }
    };
    if set_here("/etc/sysctl.conf") {
        plan.edit_lines(target, "/etc/sysctl.conf", replace)?;
    } else if set_here(SYSCTL_FILE) {
        plan.edit_lines(target, SYSCTL_FILE, replace)?;
    } else if target.exists(SYSCTL_FILE) {
        append(target, plan, SYSCTL_FILE, &line)?;
    } else if target.exists("/etc/sysctl.d") {
        plan.create(
            target,
            SYSCTL_FILE,
            format!("# written by firewarden harden apply\n{line}\n").into_bytes(),
            0o644,
        );
    } else if target.exists("/etc/sysctl.conf") {
        append(target, plan, "/etc/sysctl.conf", &line)?;
    } else {
        plan.create(
            target,
            "/etc/sysctl.conf",
            format!("{line}\n").into_bytes(),
            0o644,
        );
    }
    if target.is_live()
        && let Some(before) = step::read_sysctl(key)
    {
        plan.push(Step::Sysctl {
            key: key.to_string(),
            before,
            after: want.to_string(),
        });
    }
    Ok(())
}

/// Appends a line to a file, byte-exactly (a missing final newline is added first).
fn append(target: &Target, plan: &mut Plan, path: &str, line: &str) -> Result<()> {
    let (_, mut bytes) = target.read_file(path, EDIT_LIMIT)?;
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    plan.edit(target, path, bytes)
}

// ---- updates, audit, firewall -----------------------------------------------------------

fn apt_periodic(target: &Target) -> Option<String> {
    glob_in(target, "/etc/apt/apt.conf.d/*")
        .into_iter()
        .filter_map(|f| target.text(&f).map(|t| (f, t)))
        .find(|(_, t)| {
            t.lines()
                .any(|l| l.contains("Unattended-Upgrade") && l.contains("\"1\""))
        })
        .map(|(f, _)| f)
}

fn auto_updates(target: &Target) -> (Status, String) {
    if target.exists("/etc/debian_version") {
        let installed = target.exists("/usr/bin/unattended-upgrade");
        return match (installed, apt_periodic(target)) {
            (true, Some(f)) => (Status::Pass, format!("unattended-upgrades on ({f})")),
            (true, None) => (
                Status::Fail,
                "unattended-upgrades installed but not turned on".into(),
            ),
            (false, _) => (
                Status::Fail,
                "unattended-upgrades not installed (apt install unattended-upgrades)".into(),
            ),
        };
    }
    if glob_in(
        target,
        "/etc/systemd/system/timers.target.wants/dnf-automatic*",
    )
    .is_empty()
    {
        (
            Status::Fail,
            "no unattended-upgrades and no dnf-automatic timer".into(),
        )
    } else {
        (Status::Pass, "dnf-automatic timer enabled".into())
    }
}

fn fix_auto_updates(target: &Target, plan: &mut Plan) -> Result<()> {
    if !target.exists("/usr/bin/unattended-upgrade") {
        return Err(Error::Refused(
            "install unattended-upgrades first (apt install unattended-upgrades)".into(),
        ));
    }
    let path = "/etc/apt/apt.conf.d/20auto-upgrades";
    let content =
        "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n";
    if target.exists(path) {
        plan.edit(target, path, content.as_bytes().to_vec())
    } else {
        plan.create(target, path, content.as_bytes().to_vec(), 0o644);
        Ok(())
    }
}

fn host_firewall(target: &Target) -> (Status, String) {
    let enabled = |unit: &str| {
        target.exists(&format!(
            "/etc/systemd/system/multi-user.target.wants/{unit}"
        )) || target.exists(&format!("/etc/systemd/system/sysinit.target.wants/{unit}"))
    };
    if target
        .text("/etc/ufw/ufw.conf")
        .is_some_and(|t| t.lines().any(|l| l.trim() == "ENABLED=yes"))
    {
        return (Status::Pass, "ufw enabled".into());
    }
    if enabled("firewalld.service") {
        return (Status::Pass, "firewalld enabled".into());
    }
    if enabled("nftables.service") {
        let rules = target.text("/etc/nftables.conf").unwrap_or_default();
        if rules.contains("policy drop") || rules.contains(" drop") || rules.contains(" reject") {
            return (
                Status::Pass,
                "nftables.service enabled with drop rules".into(),
            );
        }
        return (
            Status::Fail,
            "nftables.service enabled but /etc/nftables.conf drops nothing".into(),
        );
    }
    if enabled("netfilter-persistent.service") || target.exists("/etc/iptables/rules.v4") {
        return (Status::Pass, "iptables rules saved for boot".into());
    }
    (
        Status::Fail,
        "no ufw, firewalld, nftables or iptables rules enabled at boot".into(),
    )
}

impl Target {
    /// Permission bits of a path itself; `None` for symlinks (usr-merged `/bin` is checked
    /// as `/usr/bin`) and missing paths.
    fn source_meta(&self, path: &str) -> Option<u32> {
        use firewarden_source::{FileKind, Source};
        let m = self.source().symlink_metadata(Path::new(path)).ok()?;
        (m.kind != FileKind::Symlink).then_some(m.mode & 0o7777)
    }

    /// Owner uid of a path itself.
    fn owner(&self, path: &str) -> Option<u32> {
        use firewarden_source::Source;
        self.source()
            .symlink_metadata(Path::new(path))
            .ok()
            .map(|m| m.uid)
    }
}
