//! Logins: brute force, the attacker's successful login, and login-record tampering (rows 5–7).

use crate::check::{Check, CheckMeta};
use crate::storyline::{BRUTE_FORCE_THRESHOLD, breaches};
use firewarden_artifacts::utmp::{self, Anomaly, RecordType};
use firewarden_model::{EventKind, Evidence, Severity, TimelineEvent};
use std::collections::HashMap;
use std::path::Path;

/// Checklist row 5.
pub const BRUTE_FORCE: Check = Check {
    meta: CheckMeta {
        id: "linux.logins.brute_force",
        title: "SSH brute force (auth.log/secure incl. rotated and .gz, btmp)",
        attack: &["T1110.001", "T1110.003"],
        severity: Severity::High,
        rows: &[5],
        live_state: false,
        walks_files: false,
        description: "Counts failed passwords, invalid users and PAM failures per source address in auth.log*/secure* (rotated and gzip too) and btmp; many failures from one address is brute force, one account tried from many addresses is a distributed attack.",
    },
    run: |ctx| {
        let auth = ctx.facts.auth(ctx.src);
        let mut stats: Vec<_> = auth.by_ip().iter().collect();
        stats.sort_by(|a, b| {
            b.1.attempts()
                .cmp(&a.1.attempts())
                .then_with(|| a.0.cmp(b.0))
        });
        for (ip, st) in &stats {
            if st.attempts() < BRUTE_FORCE_THRESHOLD {
                continue;
            }
            let mut users: Vec<&String> = st.users.iter().collect();
            users.sort();
            let shown: Vec<&str> = users.iter().take(8).map(|s| s.as_str()).collect();
            let (time, path, line) = st
                .first_failure
                .clone()
                .map(|(t, p, l)| (Some(t), p.to_string(), l))
                .unwrap_or((None, String::new(), 0));
            let ev = Evidence::at(path.clone()).line(line).excerpt(format!(
                "{} attempts from {ip}; users: {}{}",
                st.attempts(),
                shown.join(", "),
                if users.len() > 8 { " …" } else { "" }
            ));
            let last = st
                .last_failure
                .map(|t| format!(" until {t}"))
                .unwrap_or_default();
            let mut f = ctx
                .finding(format!("SSH brute force from {ip}: {} failed attempts against {} account(s)", st.attempts(), users.len()))
                .explain(format!("{ip} failed to log in {} times{}{last}, trying {}. This is password guessing.", st.attempts(), time.map(|t| format!(" from {t}")).unwrap_or_default(), shown.join(", ")))
                .recommend(format!("Block {ip} at the firewall, make sure password authentication is off or passwords are strong, and check whether any login from it succeeded (linux.logins.attacker_login)."))
                .evidence(ev)
                .at_time(time);
            f.severity = if st.attempts() >= 100 {
                Severity::High
            } else {
                Severity::Medium
            };
            ctx.report_with_event(f, EventKind::FailedLogin, Some(ip.to_string()), None);
        }
        // One account targeted from many addresses (distributed guessing).
        let mut wide: Vec<_> = auth
            .user_ips
            .iter()
            .filter(|(_, ips)| ips.len() >= 20)
            .collect();
        wide.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(b.0)));
        for (user, ips) in wide.into_iter().take(10) {
            let mut f = ctx
                .finding(format!("Account `{user}` targeted from {} different addresses", ips.len()))
                .explain("Failures for one account from many addresses are a distributed password attack (a botnet), which per-address limits do not stop.")
                .recommend(format!("Make sure `{user}` cannot log in with a password (keys only, or locked)."))
                .evidence(Evidence::default().excerpt(format!("{user}: {} source addresses", ips.len())));
            f.severity = Severity::Medium;
            ctx.report(f);
        }
        // btmp: failed logins recorded by login/sshd in binary form (lastb).
        for (shown, parsed) in ctx.facts.btmp(ctx.src) {
            let path = Path::new(shown);
            let mut per_host: HashMap<&str, usize> = HashMap::new();
            for r in &parsed.records {
                if !r.host.is_empty() {
                    *per_host.entry(r.host.as_str()).or_default() += 1;
                }
            }
            for (host, n) in per_host {
                if n as u64 >= BRUTE_FORCE_THRESHOLD
                    && !stats.iter().any(|(ip, st)| {
                        ip.as_str() == host && st.attempts() >= BRUTE_FORCE_THRESHOLD
                    })
                {
                    let mut f = ctx
                        .finding(format!("SSH brute force from {host}: {n} failed logins in btmp"))
                        .explain(format!("{} records {n} failed logins from {host}; the text auth logs do not show them (rotated away or deleted?).", path.display()))
                        .recommend(format!("Block {host} and check why the auth logs lack these failures."))
                        .evidence(ctx.file_evidence(path).excerpt(format!("{n} records from {host}")));
                    f.severity = Severity::Medium;
                    ctx.report(f);
                }
            }
        }
        Ok(())
    },
};

/// Checklist row 6.
pub const ATTACKER_LOGIN: Check = Check {
    meta: CheckMeta {
        id: "linux.logins.attacker_login",
        title: "Successful login by a brute-forcing address; remote root logins",
        attack: &["T1078", "T1021.004"],
        severity: Severity::Critical,
        rows: &[6],
        live_state: false,
        walks_files: false,
        description: "Matches `Accepted` logins in the auth logs and USER records in wtmp against the addresses that failed before: a success after failures is the brute force that worked. Direct root logins from the network are reported too.",
    },
    run: |ctx| {
        let auth = ctx.facts.auth(ctx.src);
        let breaches = breaches(auth);
        for b in &breaches {
            let f = ctx
                .finding(format!("Login as `{}` from {} after {} failed attempts", b.user, b.ip, b.failures_before))
                .explain(format!("{} failed {} times and then logged in as `{}` with {}: the password was guessed. This is the attacker's entry.", b.ip, b.failures_before, b.user, b.method))
                .recommend(format!("Treat `{}` as compromised: contain the account and the host, change its credentials, and review everything done in its sessions from {}.", b.user, b.ip))
                .evidence(Evidence::at(b.path.clone()).line(b.line).excerpt(format!("Accepted {} for {} from {}", b.method, b.user, b.ip)))
                .at_time(b.time);
            ctx.report_with_event(
                f,
                EventKind::Login,
                Some(b.ip.clone()),
                Some(b.user.clone()),
            );
        }
        let brute: std::collections::HashSet<String> = auth
            .by_ip()
            .iter()
            .filter(|(_, s)| s.attempts() >= 3)
            .map(|(ip, _)| ip.clone())
            .collect();
        for (r, _) in &auth.accepted {
            let ip = r.ip.clone().unwrap_or_default();
            let user = r.user.clone().unwrap_or_default();
            ctx.event(TimelineEvent {
                time: match r.time {
                    Some(t) => t,
                    None => continue,
                },
                kind: EventKind::Login,
                summary: format!(
                    "SSH login as {user} from {ip} ({})",
                    r.method.clone().unwrap_or_default()
                ),
                source: format!("{}:{}", r.path, r.line),
                ip: Some(ip.clone()),
                user: Some(user.clone()),
                finding: None,
                zone: None,
            });
            if user == "root"
                && !breaches
                    .iter()
                    .any(|b| b.path == r.path && b.line == r.line)
                && r.time.is_none_or(|t| ctx.in_window(t))
            {
                let mut f = ctx
                    .finding(format!("Direct root login from {ip}"))
                    .explain("root logged in over SSH directly. Administrators should log in as themselves and escalate; direct root logins from unknown addresses are a common sign of stolen credentials.")
                    .recommend(format!("Confirm with the administrators that {ip} is theirs; otherwise treat root as compromised."))
                    .evidence(Evidence::at(r.path.clone()).line(r.line).excerpt(format!("Accepted {} for root from {ip}", r.method.clone().unwrap_or_default())))
                    .at_time(r.time);
                f.severity = if brute.contains(&ip) {
                    Severity::High
                } else {
                    Severity::Low
                };
                ctx.report(f);
            }
        }
        for (path, parsed) in ctx.facts.wtmp(ctx.src) {
            for r in parsed.records.iter().filter(|r| r.kind == RecordType::User) {
                let host = r
                    .addr
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| r.host.clone());
                if brute.contains(&host) || brute.contains(&r.host) {
                    let f = ctx
                        .finding(format!("wtmp session of `{}` from brute-forcing address {host}", r.user))
                        .explain("wtmp records an interactive session from an address that failed to authenticate before: the brute force succeeded.")
                        .recommend(format!("Treat `{}` as compromised.", r.user))
                        .evidence(Evidence::at(path.clone()).excerpt(format!("{} {} {} offset {}", r.user, r.line, r.host, r.offset)))
                        .at_time(Some(r.time));
                    ctx.report_with_event(f, EventKind::Login, Some(host), Some(r.user.clone()));
                }
            }
        }
        Ok(())
    },
};

/// Checklist row 7.
pub const LOGIN_RECORDS: Check = Check {
    meta: CheckMeta {
        id: "linux.logins.record_tampering",
        title: "wtmp/btmp/utmp/lastlog tampering",
        attack: &["T1070.002"],
        severity: Severity::High,
        rows: &[7],
        live_state: false,
        walks_files: false,
        description: "Parses the binary login records directly: zeroed records, corrupt or truncated files, lastlog entries with no matching wtmp session, and live SSH sessions missing from utmp are what log cleaners (e.g. `utmpdump` edits, zap tools) leave behind.",
    },
    run: |ctx| {
        // wtmp and btmp as the shared facts read them (once for every check), then utmp.
        let mut files: Vec<(std::path::PathBuf, std::borrow::Cow<'_, utmp::Parsed>)> = ctx
            .facts
            .wtmp(ctx.src)
            .iter()
            .chain(ctx.facts.btmp(ctx.src))
            .map(|(shown, parsed)| (shown.into(), std::borrow::Cow::Borrowed(parsed)))
            .collect();
        for utmp_path in ["/var/run/utmp", "/run/utmp"] {
            match crate::facts::read_binary_log(
                ctx.src,
                Path::new(utmp_path),
                crate::facts::BINARY_LOG_CAP,
            ) {
                Ok(log) => files.push((utmp_path.into(), std::borrow::Cow::Owned(log.parse()))),
                Err(e) => ctx.warn_err(&e),
            }
        }
        let mut last_session: HashMap<String, firewarden_model::Timestamp> = HashMap::new();
        // Terminals with a live login in utmp (None when no utmp could be read).
        let mut utmp_ttys: Option<std::collections::HashSet<String>> = None;
        for (path, parsed) in files {
            let is_utmp = path.to_string_lossy().ends_with("utmp");
            for r in &parsed.records {
                if r.kind == RecordType::User {
                    let e = last_session.entry(r.user.clone()).or_insert(r.time);
                    *e = (*e).max(r.time);
                    if is_utmp {
                        utmp_ttys
                            .get_or_insert_with(Default::default)
                            .insert(r.line.clone());
                    }
                }
            }
            if is_utmp {
                utmp_ttys.get_or_insert_with(Default::default);
            }
            let zeroed = parsed
                .anomalies
                .iter()
                .filter(|a| matches!(a, Anomaly::Zeroed { .. }))
                .count();
            let corrupt: Vec<String> = parsed
                .anomalies
                .iter()
                .filter_map(|a| match a {
                    Anomaly::Corrupt { offset, reason } => {
                        Some(format!("offset {offset}: {reason}"))
                    }
                    Anomaly::Truncated { trailing } => {
                        Some(format!("{trailing} trailing bytes (partial record)"))
                    }
                    _ => None,
                })
                .collect();
            // Zeroed slots are normal in utmp (reused slots), not in the append-only wtmp/btmp.
            let append_only = !path.to_string_lossy().ends_with("utmp");
            if append_only && zeroed > 0 {
                let mut f = ctx
                    .finding(format!("{} has {zeroed} zeroed record(s)", path.display()))
                    .explain("wtmp and btmp only grow; blank records between real ones are what log-wiping tools leave when they erase a session.")
                    .recommend("Preserve the file; compare its sessions with auth.log and the journal to find the erased login.")
                    .evidence(ctx.file_evidence(&path).excerpt(format!("{zeroed} zeroed of {} records", parsed.records.len() + zeroed)));
                f.severity = Severity::High;
                ctx.report(f);
            }
            if !corrupt.is_empty() {
                let mut f = ctx
                    .finding(format!("{} is corrupt: {}", path.display(), corrupt[0]))
                    .explain("Records that do not parse mean the file was edited by hand or by a tool, or damaged. Valid records were still read.")
                    .recommend("Preserve the file and examine it with a hex viewer around the offsets given.")
                    .evidence(ctx.file_evidence(&path).excerpt(corrupt.join("; ")));
                f.severity = Severity::Medium;
                ctx.report(f);
            }
        }
        if let Ok((data, _)) =
            firewarden_source::read_capped(ctx.src, Path::new("/var/log/lastlog"), 64 << 20)
        {
            let names: HashMap<u32, String> = ctx
                .facts
                .passwd(ctx.src)
                .iter()
                .map(|e| (e.uid, e.name.clone()))
                .collect();
            let have_wtmp = !ctx.facts.wtmp(ctx.src).is_empty();
            for ll in utmp::parse_lastlog(&data) {
                let Some(name) = names.get(&ll.uid) else {
                    continue;
                };
                let newer = last_session.get(name).is_none_or(|t| ll.time.0 > t.0 + 60);
                if have_wtmp && newer && ll.time.0 > 0 {
                    let oldest_wtmp = ctx
                        .facts
                        .wtmp(ctx.src)
                        .iter()
                        .flat_map(|(_, p)| p.records.iter().map(|r| r.time))
                        .min();
                    if oldest_wtmp.is_some_and(|o| ll.time > o) {
                        let mut f = ctx
                            .finding(format!("lastlog shows a login of `{name}` at {} that wtmp does not", ll.time))
                            .explain("lastlog records the last login of each account; wtmp should have the same session. A session in lastlog but not in wtmp was erased from wtmp.")
                            .recommend("Treat the login as hidden attacker activity: look for it in auth.log and the journal.")
                            .evidence(ctx.file_evidence(Path::new("/var/log/lastlog")).excerpt(format!("uid {} {} from {}", ll.uid, ll.line, ll.host)))
                            .at_time(Some(ll.time));
                        f.severity = Severity::High;
                        ctx.report_with_event(
                            f,
                            EventKind::AntiForensics,
                            Some(ll.host.clone()).filter(|h| !h.is_empty()),
                            Some(name.clone()),
                        );
                    }
                }
            }
        }
        // An SSH session process (`sshd: alice@pts/3`) whose terminal has no utmp record is a
        // login hidden from who/w: the record was wiped while the session lives on.
        if let (Some(ttys), Some(live)) = (utmp_ttys, ctx.facts.live(ctx.src)) {
            let sessions: Vec<(u32, String, String)> = live
                .processes
                .iter()
                .filter_map(|p| {
                    // setproctitle writes one string with spaces; read it joined either way.
                    let title = p.command();
                    let rest = title.strip_prefix("sshd: ")?;
                    let (user, tty) = rest.split_whitespace().next()?.split_once('@')?;
                    tty.starts_with("pts/")
                        .then(|| (p.pid, user.to_string(), tty.to_string()))
                })
                .collect();
            for (pid, user, tty) in sessions {
                if ttys.contains(&tty) {
                    continue;
                }
                let mut f = ctx
                    .finding(format!("SSH session of `{user}` on {tty} has no utmp record"))
                    .explain(format!("Process {pid} is the SSH session of `{user}` on {tty}, but utmp lists no login on that terminal, so who and w do not show it. Log cleaners remove the utmp record to hide a live session."))
                    .recommend(format!("Find the session's remote address (linux.network.connections, process {pid}), treat `{user}` as compromised, and contain the session."))
                    .evidence(firewarden_model::Evidence::process(pid).excerpt(format!("sshd: {user}@{tty}")));
                f.severity = Severity::High;
                ctx.report_with_event(f, EventKind::AntiForensics, None, Some(user));
            }
        }
        Ok(())
    },
};
