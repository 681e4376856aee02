//! SSH keys and configuration: checklist rows 8 and 9.

use super::read_config;
use crate::check::{Check, CheckMeta};
use crate::context::Ctx;
use firewarden_model::{EventKind, Severity};
use std::path::{Path, PathBuf};

/// Key comments of known botnets that plant keys for persistence.
const BOTNET_KEY_MARKERS: &[(&str, &str)] = &[("mdrfckr", "Outlaw botnet")];

/// Every account's key files, each path once (a set, not a scan of the list: 20,000 accounts
/// once took 64 s).
fn key_files(ctx: &mut Ctx) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut listed: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    let extra: Vec<String> = read_config(ctx, Path::new("/etc/ssh/sshd_config"))
        .map(|c| {
            c.lines()
                .filter_map(|l| {
                    let t = l.trim();
                    t.to_ascii_lowercase()
                        .starts_with("authorizedkeysfile")
                        .then(|| {
                            t.split_whitespace()
                                .skip(1)
                                .map(str::to_string)
                                .collect::<Vec<_>>()
                        })
                })
                .flatten()
                .collect()
        })
        .unwrap_or_default();
    for (user, home) in ctx.facts.homes(ctx.src) {
        let mut names = vec![
            ".ssh/authorized_keys".to_string(),
            ".ssh/authorized_keys2".to_string(),
        ];
        names.extend(extra.iter().filter(|e| !e.contains('%')).cloned());
        for name in names {
            let p = if name.starts_with('/') {
                PathBuf::from(&name)
            } else {
                home.join(&name)
            };
            if listed.insert(p.clone()) {
                out.push((user.clone(), p));
            }
        }
        for e in &extra {
            if e.contains("%u") || e.contains("%h") {
                let p = PathBuf::from(
                    e.replace("%u", &user)
                        .replace("%h", &home.to_string_lossy()),
                );
                let p = if p.is_absolute() { p } else { home.join(p) };
                if listed.insert(p.clone()) {
                    out.push((user.clone(), p));
                }
            }
        }
    }
    out
}

/// Checklist row 8.
pub const AUTHORIZED_KEYS: Check = Check {
    meta: CheckMeta {
        id: "linux.ssh.authorized_keys",
        title: "Backdoor SSH keys in authorized_keys",
        attack: &["T1098.004"],
        severity: Severity::High,
        rows: &[8],
        live_state: false,
        walks_files: false,
        description: "Reads every account's authorized_keys (and AuthorizedKeysFile): botnet keys (Outlaw's `mdrfckr`), forced commands and options, keys in service accounts, keys added inside the incident window, files writable by others, and Redis dump files written as authorized_keys.",
    },
    run: |ctx| {
        let service: std::collections::HashSet<String> = ctx
            .facts
            .passwd(ctx.src)
            .iter()
            .filter(|e| e.uid != 0 && (e.uid < 1000 || !e.has_login_shell()))
            .map(|e| e.name.clone())
            .collect();
        for (user, path) in key_files(ctx) {
            let Ok((bytes, _)) = firewarden_source::read_capped(ctx.src, &path, 4 << 20) else {
                continue;
            };
            let base = ctx.file_evidence(&path);
            let mtime = base.mtime;
            if bytes.windows(5).any(|w| w == b"REDIS") {
                let mut f = ctx
                    .finding(format!("authorized_keys of `{user}` is a Redis dump file"))
                    .explain("The file contains a Redis RDB dump: an attacker used an exposed Redis (CONFIG SET dir/dbfilename) to write their key here.")
                    .recommend("Remove the file, secure Redis (bind to localhost, requirepass, rename CONFIG), and look for the attacker's SSH logins.")
                    .evidence(base.clone())
                    .at_time(mtime);
                f.severity = Severity::Critical;
                f.attack.push("T1190".into());
                ctx.report_with_event(f, EventKind::Persistence, None, Some(user.clone()));
            }
            if let Ok(m) = ctx.src.metadata(&path)
                && m.mode & 0o022 != 0
            {
                let f = ctx
                    .finding(format!("authorized_keys of `{user}` is writable by others"))
                    .explain("Any local user who can write this file can log in as its owner.")
                    .recommend("chmod 600 the file and review its keys.")
                    .evidence(base.clone());
                ctx.report(f);
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            for (i, line) in text.lines().enumerate() {
                let t = line.trim();
                if t.is_empty()
                    || t.starts_with('#')
                    || !(t.contains("ssh-") || t.contains("ecdsa-") || t.contains("sk-"))
                {
                    continue;
                }
                let lower = t.to_ascii_lowercase();
                let options =
                    !(t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-"));
                let comment = t.split_whitespace().last().unwrap_or("");
                let mut reasons: Vec<(Severity, String)> = Vec::new();
                for (marker, who) in BOTNET_KEY_MARKERS {
                    if comment.to_ascii_lowercase().contains(marker) {
                        reasons.push((
                            Severity::Critical,
                            format!("the key's comment `{comment}` is the signature of the {who}"),
                        ));
                    }
                }
                if options && lower.contains("command=") {
                    let sev = if crate::indicators::worst(t).is_some() {
                        Severity::Critical
                    } else {
                        Severity::Medium
                    };
                    reasons.push((sev, "the key forces a command (`command=`), a way to run a payload at each login".into()));
                }
                if service.contains(&user) {
                    reasons.push((
                        Severity::High,
                        format!(
                            "`{user}` is a service account, which has no reason to accept SSH keys"
                        ),
                    ));
                }
                if let (Some(since), Some(m)) = (ctx.opts.since, mtime)
                    && m >= since
                {
                    reasons.push((
                        Severity::Medium,
                        format!("the file was modified at {m}, inside the incident window"),
                    ));
                }
                let Some(sev) = reasons.iter().map(|r| r.0).max() else {
                    continue;
                };
                let why: Vec<String> = reasons.into_iter().map(|r| r.1).collect();
                let mut f = ctx
                    .finding(format!("Suspicious SSH key for `{user}`: {}", why[0]))
                    .explain(format!("In {}: {}. A planted key gives the attacker a login that survives password changes.", path.display(), why.join("; ")))
                    .recommend("Remove the key line (firewarden eradicate keeps a backup), then check auth logs for `Accepted publickey` logins with it.")
                    .evidence(base.clone().line(i as u64 + 1).excerpt(t))
                    .at_time(mtime);
                f.severity = sev;
                ctx.report_with_event(f, EventKind::Persistence, None, Some(user.clone()));
            }
        }
        Ok(())
    },
};

/// Checklist row 9.
pub const CONFIG: Check = Check {
    meta: CheckMeta {
        id: "linux.ssh.config",
        title: "sshd and ssh client configuration backdoors",
        attack: &["T1098.004", "T1546"],
        severity: Severity::Medium,
        rows: &[9],
        live_state: false,
        walks_files: false,
        description: "Reads sshd_config (and sshd_config.d), /etc/ssh/sshrc, ~/.ssh/rc and ~/.ssh/config: empty passwords permitted, extra ports, AuthorizedKeysCommand, login rc scripts and ProxyCommand/LocalCommand run code at every connection.",
    },
    run: |ctx| {
        let mut configs = vec![PathBuf::from("/etc/ssh/sshd_config")];
        configs.extend(super::files_in(ctx, Path::new("/etc/ssh/sshd_config.d")));
        let mut ports = Vec::new();
        for path in configs {
            let Some(text) = read_config(ctx, &path) else {
                continue;
            };
            for (i, line) in text.lines().enumerate() {
                let t = line.trim();
                let mut words = t.split_whitespace();
                let (Some(key), Some(value)) = (words.next(), words.next()) else {
                    continue;
                };
                let key_l = key.to_ascii_lowercase();
                let value_l = value.to_ascii_lowercase();
                let (sev, what) = match key_l.as_str() {
                    "permitemptypasswords" if value_l == "yes" => {
                        (Severity::High, "allows logins with empty passwords")
                    }
                    "permitrootlogin" if value_l == "yes" => {
                        (Severity::Medium, "allows root to log in with a password")
                    }
                    "authorizedkeyscommand" if value_l != "none" => (
                        Severity::Medium,
                        "fetches authorized keys from a program (AuthorizedKeysCommand)",
                    ),
                    "port" => {
                        ports.push((value.to_string(), i as u64 + 1, path.clone()));
                        continue;
                    }
                    _ => continue,
                };
                let mut f = ctx
                    .finding(format!("sshd {what}"))
                    .explain(format!("`{t}` in {}: sshd {what}. Attackers weaken sshd to keep an easy way back in.", path.display()))
                    .recommend("Set it back to the secure value and reload sshd, keeping your own session open.")
                    .evidence(ctx.file_evidence(&path).line(i as u64 + 1).excerpt(t));
                f.severity = sev;
                ctx.report(f);
            }
        }
        if ports.len() > 1 || ports.iter().any(|(p, ..)| p != "22") {
            let (port, line, path) = ports.last().cloned().unwrap_or_default();
            let all: Vec<&str> = ports.iter().map(|p| p.0.as_str()).collect();
            let f = ctx
                .finding(format!("sshd listens on extra or non-standard port(s): {}", all.join(", ")))
                .explain("An added `Port` line gives an attacker a second door that firewall rules for port 22 do not cover.")
                .recommend("Confirm each port with the system owner; remove unknown ones.")
                .evidence(ctx.file_evidence(&path).line(line).excerpt(format!("Port {port}")));
            let mut f = f;
            f.severity = if ports.len() > 1 {
                Severity::Medium
            } else {
                Severity::Low
            };
            ctx.report(f);
        }
        let mut rc = vec![(String::from("all users"), PathBuf::from("/etc/ssh/sshrc"))];
        for (user, home) in ctx.facts.homes(ctx.src) {
            rc.push((user.clone(), home.join(".ssh/rc")));
            let cfg = home.join(".ssh/config");
            if let Some(text) = read_config(ctx, &cfg) {
                for (i, line) in text.lines().enumerate() {
                    let t = line.trim();
                    let l = t.to_ascii_lowercase();
                    if l.starts_with("proxycommand") || l.starts_with("localcommand") {
                        let mut f = ctx
                            .finding(format!("ssh client config of `{user}` runs a command ({})", t.split_whitespace().next().unwrap_or("")))
                            .explain(format!("`{t}` runs a program every time `{user}` connects somewhere; it can hijack or log the connection."))
                            .recommend("Confirm the line with the account's owner; remove it otherwise.")
                            .evidence(ctx.file_evidence(&cfg).line(i as u64 + 1).excerpt(t));
                        f.severity = if crate::indicators::worst(t).is_some() {
                            Severity::High
                        } else {
                            Severity::Low
                        };
                        ctx.report(f);
                    }
                }
            }
        }
        for (user, path) in rc {
            if let Some(text) = read_config(ctx, &path) {
                let ev = ctx.file_evidence(&path).excerpt(
                    text.lines()
                        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
                        .unwrap_or(""),
                );
                let mut f = ctx
                    .finding(format!("SSH login script {} runs at every login of {user}", path.display()))
                    .explain("sshd runs this script at each login before the shell starts; it is rarely used legitimately and is a known persistence spot.")
                    .recommend("Read the script; preserve and remove it unless the owner put it there.")
                    .evidence(ev.clone())
                    .at_time(ev.mtime);
                f.severity = if crate::indicators::worst(&text).is_some() {
                    Severity::Critical
                } else {
                    Severity::High
                };
                ctx.report_with_event(f, EventKind::Persistence, None, None);
            }
        }
        Ok(())
    },
};
