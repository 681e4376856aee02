//! Containment plans: cut the network but keep the responder's session, freeze a process after
//! keeping its evidence, lock an account, quarantine a file.

use crate::engine::{LineEdit, Plan, map_lines};
use crate::nft::{self, Net};
use crate::target::Target;
use crate::{Error, Result, process};
use firewarden_model::Timestamp;
use firewarden_model::action::{Risk, Step};
use std::io::Read;

/// Options of `contain network`.
#[derive(Debug, Clone, Default)]
pub struct NetworkOptions {
    /// Addresses that stay reachable (the responder's SSH address is added when found).
    pub allow: Vec<Net>,
    /// When given, allowed addresses reach only these local ports (and get their replies).
    pub ports: Vec<u16>,
    /// Dead-man switch in seconds; `None`: none (the table stays until undone).
    pub ttl_secs: Option<u64>,
    /// Do not look for the responder's SSH address (console access).
    pub no_responder: bool,
}

/// Plans network isolation. Refuses when nobody would be left able to reach the host unless
/// the responder says they are on the console.
pub fn network(target: &Target, opts: &NetworkOptions) -> Result<Plan> {
    if !target.is_live() {
        return Err(Error::Refused(
            "network containment acts on the running system; drop --root".into(),
        ));
    }
    // An isolation in force is refused; one its dead-man switch lifted (the table is left with
    // its isolate sets emptied) is replaced by this one, in one step when it is applied.
    let lapsed = if nft::table_exists(nft::FAMILY, nft::TABLE)? {
        if nft::isolating()? {
            return Err(Error::Refused(format!(
                "an isolation is in force already (nftables table {} {}): `firewarden actions` shows it; `firewarden contain confirm` keeps it, `firewarden undo ID` lifts it",
                nft::FAMILY,
                nft::TABLE
            )));
        }
        true
    } else {
        false
    };
    let mut allow = opts.allow.clone();
    let mut ports = opts.ports.clone();
    let mut found = Vec::new();
    let mut found_port = None;
    if !opts.no_responder
        && let Some(session) = nft::responder_session()
    {
        if !allow.contains(&session.client) {
            found.push(session.client);
            allow.push(session.client);
        }
        // With --allow-port, the port this session is connected to must stay open too.
        if let Some(p) = session.port
            && !ports.is_empty()
            && !ports.contains(&p)
        {
            ports.push(p);
            found_port = Some(p);
        }
    }
    if allow.is_empty() && !opts.no_responder {
        return Err(Error::Refused(
            "no responder address: this is not an SSH session and no --allow was given. Give --allow ADDR, or --no-responder if you are on the console".into(),
        ));
    }
    let script = nft::isolation_script(&allow, &ports, opts.ttl_secs);
    let mut plan = Plan::new(
        "contain.network",
        format!(
            "Isolate the host: only loopback and {} stay reachable",
            if allow.is_empty() {
                "nobody".to_string()
            } else {
                allow
                    .iter()
                    .map(Net::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        Risk::High,
        target,
    );
    plan.push(Step::NftTable {
        family: nft::FAMILY.into(),
        name: nft::TABLE.into(),
        script,
    });
    if lapsed {
        plan.note(
            "an earlier isolation's dead-man switch lifted it: its emptied table is replaced by this one in one step",
        );
    }
    if !found.is_empty() {
        plan.note(format!(
            "responder address from this SSH session: {}",
            found
                .iter()
                .map(Net::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(p) = found_port {
        plan.note(format!(
            "port {p}, which this SSH session is connected to, is allowed too"
        ));
    }
    match opts.ttl_secs {
        Some(s) => {
            plan.action.expires = Some(Timestamp(Timestamp::now().0 + s as i64));
            plan.note(format!(
                "check you still reach the host, then run `firewarden contain confirm` within {}; otherwise the kernel lifts the isolation by itself",
                firewarden_model::human_duration(s as i64)
            ));
        }
        None => plan.note("no dead-man switch (--ttl 0): the isolation stays until undone"),
    }
    Ok(plan)
}

/// Largest executable or open file kept before freezing a process.
const CAPTURE_FILE_LIMIT: u64 = 256 << 20;
/// Most bytes of open files kept per process.
const CAPTURE_TOTAL_LIMIT: u64 = 512 << 20;

fn read_limited(path: impl AsRef<std::path::Path>, limit: u64) -> std::io::Result<Vec<u8>> {
    let f = std::fs::File::open(path)?;
    let mut out = Vec::new();
    f.take(limit).read_to_end(&mut out)?;
    Ok(out)
}

/// Plans freezing a process (and, with `tree`, its descendants): its executable, memory map,
/// open files, command line, environment and status are kept in the vault first.
pub fn process(target: &Target, pid: u32, tree: bool) -> Result<Plan> {
    if !target.is_live() {
        return Err(Error::Refused(
            "process containment acts on the running system; drop --root".into(),
        ));
    }
    let mut pids = vec![pid];
    if tree {
        let mut i = 0;
        while i < pids.len() {
            pids.extend(children(pids[i]));
            i += 1;
        }
    }
    let mut plan = Plan::new(
        "contain.process",
        format!(
            "Freeze process {pid}{}",
            if tree { " and its descendants" } else { "" }
        ),
        Risk::Medium,
        target,
    );
    for p in pids {
        let pref = capture_process(&mut plan, p)?;
        plan.push(Step::Freeze { process: pref });
    }
    plan.note("a frozen process keeps its memory, sockets and files; undo thaws it (SIGCONT)");
    Ok(plan)
}

/// Keeps a live process's executable, memory map, command line, environment, status, cgroup,
/// fd list and open regular files in the plan's evidence; refuses init, kernel threads and
/// the responder's own session. Returns the process, named by its start time.
pub fn capture_process(plan: &mut Plan, p: u32) -> Result<firewarden_model::action::ProcessRef> {
    if p <= 1 || process::own_lineage().contains(&p) {
        return Err(Error::Refused(format!(
            "process {p} is init or this responder's own session; refusing to touch it"
        )));
    }
    let pref = process::process_ref(p)?;
    let base = format!("/proc/{p}");
    match read_limited(format!("{base}/exe"), CAPTURE_FILE_LIMIT) {
        Ok(b) => plan.capture(&format!("{base}/exe"), b),
        Err(e) => plan.note(format!("{base}/exe not kept: {e}")),
    }
    for part in ["maps", "cmdline", "environ", "status", "stat", "cgroup"] {
        if let Ok(b) = std::fs::read(format!("{base}/{part}")) {
            plan.capture(&format!("{base}/{part}"), b);
        }
    }
    let mut fds = String::new();
    let mut kept = 0u64;
    if let Ok(dir) = std::fs::read_dir(format!("{base}/fd")) {
        let mut entries: Vec<_> = dir.flatten().collect();
        entries.sort_by_key(|e| e.file_name().to_string_lossy().parse::<u64>().unwrap_or(0));
        for e in entries {
            let fd = e.file_name().to_string_lossy().into_owned();
            let link = std::fs::read_link(e.path())
                .map(|l| l.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "?".into());
            fds.push_str(&format!("{fd} -> {link}\n"));
            // Regular files (deleted ones too) are kept through the fd itself.
            let is_file = std::fs::metadata(e.path()).is_ok_and(|m| m.is_file());
            if is_file
                && kept < CAPTURE_TOTAL_LIMIT
                && let Ok(b) =
                    read_limited(e.path(), CAPTURE_FILE_LIMIT.min(CAPTURE_TOTAL_LIMIT - kept))
            {
                kept += b.len() as u64;
                plan.capture(&format!("{base}/fd/{fd} ({link})"), b);
            }
        }
    }
    plan.capture(&format!("{base}/fd (list)"), fds.into_bytes());
    Ok(pref)
}

fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in dir.flatten() {
            if let Ok(text) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(
                    text.split_whitespace()
                        .filter_map(|c| c.parse::<u32>().ok()),
                );
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// An account as read from `/etc/passwd` (the project's tolerant parser).
pub type Account = firewarden_artifacts::accounts::PasswdEntry;

/// The target's `/etc/passwd` entries; malformed lines are skipped.
pub fn accounts(target: &Target) -> Vec<Account> {
    target
        .text("/etc/passwd")
        .map(|t| firewarden_artifacts::accounts::parse_passwd(&t).0)
        .unwrap_or_default()
}

/// Finds an account in the target's `/etc/passwd`.
pub fn find_account(target: &Target, user: &str) -> Result<Account> {
    accounts(target)
        .into_iter()
        .find(|a| a.name == user)
        .ok_or_else(|| Error::Refused(format!("no account `{user}` in /etc/passwd")))
}

/// The uid the responder logged in as (`/proc/self/loginuid`), when known.
pub fn responder_uid() -> Option<u32> {
    std::fs::read_to_string("/proc/self/loginuid")
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|u| *u != u32::MAX)
}

/// `user`'s shadow line with the password locked (`!` prefix) and the account expired (so key
/// logins fail too); `Keep` for other lines and for a line already locked.
pub fn lock_shadow_line(line: &str, user: &str) -> LineEdit {
    let mut f: Vec<String> = line.split(':').map(str::to_string).collect();
    if f.first().map(String::as_str) != Some(user) || f.len() < 2 {
        return LineEdit::Keep;
    }
    if !f[1].starts_with('!') {
        f[1] = format!("!{}", f[1]);
    }
    while f.len() < 9 {
        f.push(String::new());
    }
    f[7] = "1".into();
    LineEdit::Replace(f.join(":"))
}

/// The shadow file with `user` locked (see [`lock_shadow_line`]); `None` when already so.
pub fn lock_in_shadow(shadow: &str, user: &str) -> Option<String> {
    let (new, changed) = map_lines(shadow.as_bytes(), |l| lock_shadow_line(l, user));
    (changed > 0).then(|| String::from_utf8_lossy(&new).into_owned())
}

/// Where sshd looks for `account`'s keys: the defaults plus `AuthorizedKeysFile` settings.
fn key_files(target: &Target, account: &Account) -> Vec<String> {
    let mut patterns = vec![
        ".ssh/authorized_keys".to_string(),
        ".ssh/authorized_keys2".to_string(),
    ];
    if let Some(cfg) = target.text("/etc/ssh/sshd_config") {
        for line in cfg.lines() {
            let mut w = line.split_whitespace();
            if w.next()
                .is_some_and(|k| k.eq_ignore_ascii_case("AuthorizedKeysFile"))
            {
                patterns.extend(w.map(str::to_string));
            }
        }
    }
    let mut out: Vec<String> = patterns
        .iter()
        .filter(|p| *p != "none")
        .map(|p| {
            let p = p
                .replace("%h", &account.home)
                .replace("%u", &account.name)
                .replace("%%", "%");
            if p.starts_with('/') {
                p
            } else {
                format!("{}/{p}", account.home.trim_end_matches('/'))
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Plans locking an account: password locked and account expired in `/etc/shadow`, its
/// authorized_keys files quarantined, its processes ended (live host only).
pub fn account(target: &Target, user: &str, force: bool) -> Result<Plan> {
    let acct = find_account(target, user)?;
    if target.is_live() && responder_uid() == Some(acct.uid) && !force {
        return Err(Error::Refused(format!(
            "`{user}` has uid {}, the uid you logged in with; ending its sessions would end yours (--force if you mean it; your own session is spared)",
            acct.uid
        )));
    }
    let mut plan = Plan::new(
        "contain.account",
        format!("Lock account `{user}`"),
        Risk::High,
        target,
    );
    if target.exists("/etc/shadow") {
        plan.edit_lines(target, "/etc/shadow", |l| lock_shadow_line(l, user))?;
    } else {
        plan.note("no /etc/shadow: the password could not be locked");
    }
    // A backdoor account often reuses root's home: its keys are root's keys, and quarantining
    // them would lock out whoever logs in as root with a key, the responder included.
    let sharing: Vec<String> = accounts(target)
        .into_iter()
        .filter(|a| {
            a.name != acct.name && a.home.trim_end_matches('/') == acct.home.trim_end_matches('/')
        })
        .map(|a| a.name)
        .collect();
    for f in key_files(target, &acct) {
        if !target.exists(&f) {
            continue;
        }
        if !sharing.is_empty() && f.starts_with(&format!("{}/", acct.home.trim_end_matches('/'))) {
            plan.note(format!(
                "{f} is left alone: home {} is shared with {}; remove the attacker's key lines with `eradicate` instead",
                acct.home,
                sharing.join(", ")
            ));
            continue;
        }
        // The key this very session logged in with stays (the uid check above already
        // spares the responder's own account; this catches a shared key).
        if target.is_live()
            && let Some(own) = crate::session::own_key_fingerprint()
            && target.text(&f).is_some_and(|t| {
                t.lines()
                    .any(|l| crate::session::key_fingerprint(l).as_deref() == Some(own.as_str()))
            })
        {
            plan.note(format!(
                "{f} is left alone: it holds the key your own session logged in with ({own})"
            ));
            continue;
        }
        if let Err(e) = plan.quarantine(target, &f) {
            plan.note(format!("{f}: {e}"));
        }
    }
    if target.is_live() {
        if acct.uid == 0 {
            plan.note(format!(
                "`{user}` has uid 0: its sessions cannot be told apart from root's; end them by pid with `contain process`"
            ));
        } else {
            let lineage = process::own_lineage();
            for pid in process::owned_by(acct.uid) {
                if lineage.contains(&pid) {
                    continue;
                }
                if let Ok(p) = process::process_ref(pid) {
                    plan.push(Step::Kill { process: p });
                }
            }
            plan.note("ended sessions cannot be brought back by undo; the password and keys are restored exactly");
        }
    } else {
        plan.note("not the running system: no sessions to end");
    }
    if plan.is_empty() {
        return Err(Error::Refused(format!("`{user}` is locked already")));
    }
    Ok(plan)
}

/// Plans quarantining a file: moved into the encrypted vault with its hash, owner, mode and
/// times; undo puts it back byte for byte.
pub fn file(target: &Target, path: &str) -> Result<Plan> {
    let mut plan = Plan::new(
        "contain.file",
        format!("Quarantine {}", firewarden_model::printable(path, 200)),
        Risk::Medium,
        target,
    );
    plan.quarantine(target, path)?;
    if target.is_live() {
        for pid in process::running(path) {
            plan.note(format!(
                "process {pid} runs this file and keeps running without it: `firewarden contain process {pid}` (or eradicate it)"
            ));
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shadow_lock_prefixes_and_expires_only_that_user() {
        let shadow = "root:$6$a$b:19000:0:99999:7:::\neve:$6$x$y:19000:0:99999:7:::\n";
        let new = lock_in_shadow(shadow, "eve").unwrap();
        assert_eq!(
            new,
            "root:$6$a$b:19000:0:99999:7:::\neve:!$6$x$y:19000:0:99999:7::1:\n"
        );
        assert!(lock_in_shadow(&new, "eve").is_none());
        assert!(lock_in_shadow(shadow, "mallory").is_none());
        // A short line (corrupt or hand-written) is completed, not mangled.
        assert_eq!(lock_in_shadow("eve:x", "eve").unwrap(), "eve:!x::::::1:");
    }
}
