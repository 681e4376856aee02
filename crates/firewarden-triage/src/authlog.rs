//! Auth-log analysis at disk speed: a reader thread cuts the (possibly gzip) stream into
//! newline-aligned blocks, workers parse them in parallel into partial aggregates, and the
//! partials are merged in file order — so "failures before this login" stays exact and memory
//! stays bounded however large the log is.

use firewarden_artifacts::lines::{MAX_LINE, is_binary};
use firewarden_artifacts::sshd::{
    AuthEvent, AuthKind, parse_auth_message, parse_new_user, parse_sudo,
};
use firewarden_artifacts::syslog::{self, YearResolver};
use firewarden_model::Timestamp;
use firewarden_source::{Source, open_decompressed};
// Tables keyed by attacker-chosen strings (addresses, user names) use foldhash, randomly seeded
// per run: switching from SipHash cut a whole auth-log run from 538 M to 494 M instructions
// (callgrind, 20 MB log), and a one-shot analysis of a static log gives an attacker no way to
// observe the process and recover the seed.
use foldhash::{HashMap, HashSet, HashSetExt};
use std::io::Read;
use std::path::Path;
use std::sync::{Mutex, mpsc};

/// Bytes per block handed to a worker. A block of distinct addresses makes a partial table of
/// tens of MB, and a few are in flight at once: 4 MiB keeps that bounded at full speed.
const BLOCK: usize = 4 << 20;

/// One authentication event read from a log, with where it came from.
#[derive(Debug, Clone)]
pub struct AuthRecord {
    /// UTC time, when the header could be parsed.
    pub time: Option<Timestamp>,
    /// What happened.
    pub kind: AuthKind,
    /// Account tried or used.
    pub user: Option<String>,
    /// Remote address.
    pub ip: Option<String>,
    /// Attempts the line stands for.
    pub count: u32,
    /// Method (password, publickey).
    pub method: Option<String>,
    /// Log file.
    pub path: String,
    /// Line number.
    pub line: u64,
}

/// A `useradd` or `sudo` line worth putting on the timeline.
#[derive(Debug, Clone)]
pub struct AuthOther {
    /// When.
    pub time: Option<Timestamp>,
    /// Account involved.
    pub user: String,
    /// New account (`useradd`) or a sudo command.
    pub what: OtherKind,
    /// Log file.
    pub path: String,
    /// Line number.
    pub line: u64,
}

/// Kinds of [`AuthOther`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtherKind {
    /// Account created, with its uid when logged.
    NewUser(Option<u32>),
    /// Command run with sudo.
    Sudo(String),
}

/// Everything read from auth logs (auth.log*, secure*, and extra files given by the user).
#[derive(Debug, Default)]
pub struct AuthData {
    /// Files read, in order.
    pub files: Vec<String>,
    /// Failure statistics per remote address, aggregated while streaming (logs can be huge).
    pub ips: HashMap<String, IpStats>,
    /// Accepted logins, in log order, each with the failures its address had before it.
    pub accepted: Vec<(AuthRecord, u64)>,
    /// Addresses that failed against each account (bounded), for distributed attacks.
    pub user_ips: HashMap<String, HashSet<String>>,
    /// useradd and sudo events.
    pub other: Vec<AuthOther>,
    /// Lines read in total.
    pub lines: u64,
    /// (account, address) pairs in `user_ips`.
    pub user_pairs: usize,
    /// Events kept whose line had no readable time.
    pub untimed: u64,
    /// What was left out to keep memory bounded on attacker-sized logs.
    pub shed: Shed,
}

/// What the auth-log tables left out once they reached their caps (a log with millions of
/// distinct source addresses, accounts or logins). Each non-zero field becomes a warning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shed {
    /// Addresses dropped from the per-address table, each with at most `max_attempts`
    /// failures when dropped (the heaviest addresses are always kept).
    pub addresses: u64,
    /// The most failures an address had when it was dropped.
    pub max_attempts: u64,
    /// Accepted logins not kept (past the cap, those with no failure before them).
    pub accepted: u64,
    /// useradd/sudo events not kept.
    pub other: u64,
    /// (account, address) pairs not tracked for distributed-attack detection.
    pub user_pairs: u64,
}

/// Most source addresses tracked at once; past it the lightest half is shed. About 400 bytes
/// each: 100,000 keep the table near 40 MB. 8 million distinct addresses once took 8.1 GB;
/// with this cap and 4 MiB blocks the whole run peaks at 373 MB (bench/hostile.sh).
pub const MAX_TRACKED_IPS: usize = 100_000;
/// Accepted logins kept whatever came before them; past it, only those after failures.
const MAX_ACCEPTED: usize = 200_000;
/// Accepted logins kept in all.
const MAX_ACCEPTED_AFTER_FAILURES: usize = 400_000;
/// useradd and sudo events kept.
const MAX_OTHER: usize = 200_000;
/// (account, address) pairs tracked in all for distributed-attack detection.
const MAX_USER_PAIRS: usize = 1_000_000;

/// Per-address summary of authentication attempts.
#[derive(Debug, Clone, Default)]
pub struct IpStats {
    /// Failed password/key attempts (`Failed …` lines, counting repeats).
    pub failed: u64,
    /// PAM authentication failures.
    pub pam: u64,
    /// `Invalid user` lines.
    pub invalid: u64,
    /// Accounts tried.
    pub users: HashSet<String>,
    /// First failure: time, log file (shared by every address of the file), line.
    pub first_failure: Option<(Timestamp, std::sync::Arc<str>, u64)>,
    /// Last failure.
    pub last_failure: Option<Timestamp>,
}

impl IpStats {
    /// Best estimate of failed attempts. sshd (`Failed password`) and PAM log the same attempt
    /// twice, so sshd's count is used when present; PAM's only where sshd's lines are absent
    /// (old syslog formats log only `sshd(pam_unix)`).
    pub fn attempts(&self) -> u64 {
        if self.failed > 0 {
            self.failed.max(self.invalid)
        } else {
            self.pam.max(self.invalid)
        }
    }
}

/// Most accounts and addresses per account tracked for distributed-attack detection.
const MAX_TRACKED_USERS: usize = 100_000;
const MAX_IPS_PER_USER: usize = 1_000;

impl AuthData {
    /// Failure statistics per remote address.
    pub fn by_ip(&self) -> &HashMap<String, IpStats> {
        &self.ips
    }

    /// Adds one event in log order. Allocates only for addresses and accounts not seen before
    /// (a brute-force log repeats the same few thousand), which keeps huge logs fast.
    fn add(
        &mut self,
        ev: &AuthEvent<'_>,
        time: Option<Timestamp>,
        path: &std::sync::Arc<str>,
        line: u64,
    ) {
        let Some(ip) = ev.ip else { return };
        if ev.kind == AuthKind::Accepted {
            let before = self.ips.get(ip).map_or(0, IpStats::attempts);
            let record = AuthRecord {
                time,
                kind: ev.kind,
                user: ev.user.map(str::to_string),
                ip: Some(ip.to_string()),
                count: ev.count,
                method: ev.method.map(str::to_string),
                path: path.to_string(),
                line,
            };
            self.accepted.push((record, before));
            return;
        }
        let s = match self.ips.get_mut(ip) {
            Some(s) => s,
            None => self.ips.entry(ip.to_string()).or_default(),
        };
        let n = u64::from(ev.count);
        match ev.kind {
            AuthKind::Failed => s.failed += n,
            AuthKind::PamFailure => s.pam += n,
            AuthKind::InvalidUser => s.invalid += n,
            AuthKind::Accepted => {}
        }
        if let Some(t) = time {
            if s.first_failure.as_ref().is_none_or(|(f, _, _)| t < *f) {
                s.first_failure = Some((t, std::sync::Arc::clone(path), line));
            }
            if s.last_failure.is_none_or(|l| t > l) {
                s.last_failure = Some(t);
            }
        }
        let Some(u) = ev.user else { return };
        // A (user, address) pair already seen for this address is already in `user_ips`: the
        // common retry costs one lookup instead of three.
        if s.users.len() >= 1000 || s.users.contains(u) {
            return;
        }
        s.users.insert(u.to_string());
        let tracked = self.user_ips.len();
        if let Some(set) = self.user_ips.get_mut(u) {
            if set.len() < MAX_IPS_PER_USER && !set.contains(ip) {
                set.insert(ip.to_string());
            }
        } else if tracked < MAX_TRACKED_USERS {
            self.user_ips.insert(u.to_string(), {
                let mut set = HashSet::new();
                set.insert(ip.to_string());
                set
            });
        }
    }
}

impl AuthData {
    /// Folds a later partial into this one, keeping file order.
    pub(crate) fn merge(&mut self, later: AuthData) {
        for (record, before) in later.accepted {
            let earlier = record
                .ip
                .as_deref()
                .and_then(|ip| self.ips.get(ip))
                .map_or(0, IpStats::attempts);
            let before = before + earlier;
            let room = self.accepted.len() < MAX_ACCEPTED
                || (before > 0 && self.accepted.len() < MAX_ACCEPTED_AFTER_FAILURES);
            if room {
                self.accepted.push((record, before));
            } else {
                self.shed.accepted += 1;
            }
        }
        for (ip, st) in later.ips {
            match self.ips.get_mut(&ip) {
                None => {
                    self.ips.insert(ip, st);
                }
                Some(s) => {
                    s.failed += st.failed;
                    s.pam += st.pam;
                    s.invalid += st.invalid;
                    // Past the cap, which names are kept must not depend on hash order:
                    // finding ids are built from them and must be the same on every run.
                    let mut names: Vec<String> = st.users.into_iter().collect();
                    names.sort_unstable();
                    for u in names {
                        if s.users.len() >= 1000 {
                            break;
                        }
                        s.users.insert(u);
                    }
                    if let Some(f) = st.first_failure
                        && s.first_failure.as_ref().is_none_or(|(t, _, _)| f.0 < *t)
                    {
                        s.first_failure = Some(f);
                    }
                    s.last_failure = s.last_failure.max(st.last_failure);
                }
            }
        }
        for (u, ips) in later.user_ips {
            let tracked = self.user_ips.len();
            let offered = ips.len();
            let room = MAX_USER_PAIRS.saturating_sub(self.user_pairs);
            let before = self.user_ips.get(&u).map_or(0, HashSet::len);
            match self.user_ips.get_mut(&u) {
                Some(set) => set.extend(
                    ips.into_iter()
                        .take(MAX_IPS_PER_USER.saturating_sub(set.len()).min(room)),
                ),
                None if tracked < MAX_TRACKED_USERS && room >= offered => {
                    self.user_ips.insert(u.clone(), ips);
                }
                None => {}
            }
            let added = self.user_ips.get(&u).map_or(0, HashSet::len) - before;
            self.user_pairs += added;
            self.shed.user_pairs += (offered - added.min(offered)) as u64;
        }
        let room = MAX_OTHER.saturating_sub(self.other.len());
        self.shed.other += later.other.len().saturating_sub(room) as u64;
        self.other.extend(later.other.into_iter().take(room));
        self.lines += later.lines;
        self.untimed += later.untimed;
        self.shed.addresses += later.shed.addresses;
        self.shed.max_attempts = self.shed.max_attempts.max(later.shed.max_attempts);
        if self.ips.len() > MAX_TRACKED_IPS {
            self.shed_light_addresses();
        }
    }

    /// Drops the addresses with the fewest failures until half the cap is left: a flood of
    /// one-attempt addresses is what fills the table, and a brute force (many attempts from one
    /// address) is what must survive it. Deterministic: by count, never by hash order.
    fn shed_light_addresses(&mut self) {
        const BUCKETS: usize = 64;
        let mut histogram = [0usize; BUCKETS + 1];
        for st in self.ips.values() {
            histogram[(st.attempts() as usize).min(BUCKETS)] += 1;
        }
        let target = MAX_TRACKED_IPS / 2;
        let (mut floor, mut left) = (0usize, self.ips.len());
        while left > target && floor < BUCKETS {
            left -= histogram[floor];
            floor += 1;
        }
        let before = self.ips.len();
        self.ips.retain(|_, st| st.attempts() as usize >= floor);
        self.shed.addresses += (before - self.ips.len()) as u64;
        self.shed.max_attempts = self.shed.max_attempts.max(floor.saturating_sub(1) as u64);
    }

    /// The warnings for what [`Shed`] counted, and for events without a time.
    pub fn shed_warnings(&self) -> Vec<String> {
        let s = &self.shed;
        let mut out = Vec::new();
        if self.untimed > 0 {
            out.push(format!(
                "{} sshd line(s) had no readable time: their events are kept without a time (time unknown), counted in every total and never left out by --since",
                self.untimed
            ));
        }
        if s.addresses > 0 {
            out.push(format!(
                "auth logs name more than {MAX_TRACKED_IPS} distinct source addresses: {} addresses with at most {} failed attempts each were dropped from the per-address counts (every heavier address is kept; its count may be low by up to {})",
                s.addresses, s.max_attempts, s.max_attempts
            ));
        }
        if s.accepted > 0 {
            out.push(format!(
                "{} accepted logins past the first {MAX_ACCEPTED} were not kept (those after failed attempts are kept up to {MAX_ACCEPTED_AFTER_FAILURES})",
                s.accepted
            ));
        }
        if s.other > 0 {
            out.push(format!(
                "{} useradd/sudo events past the first {MAX_OTHER} were not kept",
                s.other
            ));
        }
        if s.user_pairs > 0 {
            out.push(format!(
                "{} (account, address) pairs past {MAX_USER_PAIRS} were not tracked for distributed-attack detection",
                s.user_pairs
            ));
        }
        out
    }
}

/// What a worker returns for one block.
struct Partial {
    data: AuthData,
    junk: u64,
    overlong: u64,
    /// Time header of the last line that had one, as written.
    last: Option<syslog::SyslogTime>,
}

fn parse_block(block: &[u8], first_line: u64, years: &mut YearResolver, shown: &str) -> Partial {
    let mut p = Partial {
        data: AuthData::default(),
        junk: 0,
        overlong: 0,
        last: None,
    };
    if block.is_empty() {
        return p;
    }
    let mut no = first_line;
    let shared: std::sync::Arc<str> = std::sync::Arc::from(shown);
    let body = block.strip_suffix(b"\n").unwrap_or(block);
    let mut start = 0usize;
    let ends = memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len()));
    for end in ends {
        let raw = &body[start..end];
        start = end + 1;
        no += 1;
        p.data.lines += 1;
        let mut raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_LINE {
            p.overlong += 1;
            raw = &raw[..MAX_LINE];
        }
        // Valid UTF-8 without NULs is text; only the rest pays for the binary-junk test.
        let text = match std::str::from_utf8(raw) {
            Ok(t) if memchr::memchr(0, raw).is_none() => std::borrow::Cow::Borrowed(t),
            _ if is_binary(raw) => {
                p.junk += 1;
                continue;
            }
            _ => String::from_utf8_lossy(raw),
        };
        let parsed = syslog::parse(&text);
        if let Some(l) = &parsed {
            p.last = Some(l.time);
        }
        let Some(line) = parsed else {
            // An sshd line whose date cannot be read (edited, or a format we do not know) is
            // still an authentication event: kept, with no time, and counted in a warning.
            if let Some((program, message)) = syslog::parse_untimed(&text)
                && program.starts_with("sshd")
                && let Some(ev) = parse_auth_message(message)
            {
                p.data.add(&ev, None, &shared, no);
                p.data.untimed += 1;
            }
            continue;
        };
        if line.program.starts_with("sshd") {
            if let Some(ev) = parse_auth_message(line.message) {
                p.data.add(&ev, years.resolve(line.time), &shared, no);
            }
        } else if line.program == "useradd" || line.program == "adduser" {
            if let Some((user, uid)) = parse_new_user(line.message) {
                let time = years.resolve(line.time);
                p.data.other.push(AuthOther {
                    time,
                    user,
                    what: OtherKind::NewUser(uid),
                    path: shown.to_string(),
                    line: no,
                });
            }
        } else if line.program == "sudo"
            && let Some((user, cmd)) = parse_sudo(line.message)
            && worth_classifying(cmd)
            && crate::indicators::worst(cmd).is_some()
        {
            // Only sudo commands that look like tradecraft are kept: a busy host logs millions.
            let time = years.resolve(line.time);
            p.data.other.push(AuthOther {
                time,
                user: user.to_string(),
                what: OtherKind::Sudo(cmd.to_string()),
                path: shown.to_string(),
                line: no,
            });
        }
    }
    p
}

/// Cheap pre-filter so that only sudo commands with a hint of tradecraft pay for the full
/// indicator scan (a busy host logs millions of routine sudo lines).
fn worth_classifying(cmd: &str) -> bool {
    const HINTS: [&str; 14] = [
        "/tmp",
        "/dev/",
        "curl",
        "wget",
        "base64",
        "nc ",
        "useradd",
        "usermod",
        "chmod",
        "sh -c",
        "history",
        "authorized_keys",
        "crontab",
        "dump",
    ];
    cmd.len() < 4096 && HINTS.iter().any(|h| cmd.contains(h))
}

/// Reads one auth log (plain or gzip) into `data`, in parallel when it is large. Yearless lines
/// are dated relative to `reference` (see [`crate::logclock`]). Returns the time header of the
/// file's last dated line, as written, for the caller to check against the reference.
pub(crate) fn read_file(
    src: &dyn Source,
    path: &Path,
    shown: &str,
    reference: Timestamp,
    utc_offset: i64,
    data: &mut AuthData,
    warn: &dyn Fn(Option<&str>, String),
) -> Option<syslog::SyslogTime> {
    let years = YearResolver::new(reference, utc_offset);
    if let Ok((head, _)) = firewarden_source::read_capped(src, path, 8)
        && let Some(format) = firewarden_source::unsupported_compression(&head)
    {
        warn(
            Some(shown),
            format!(
                "compressed with {format}, which is not read yet: decompress it and pass it with --auth-log"
            ),
        );
        return None;
    }
    let mut reader = match open_decompressed(src, path) {
        Ok(r) => r,
        Err(e) => {
            warn(Some(shown), e.to_string());
            return None;
        }
    };
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let (to_workers, jobs) = mpsc::sync_channel::<(usize, u64, Vec<u8>)>(workers * 2);
    let jobs = Mutex::new(jobs);
    // Bounded: a partial of a block of distinct addresses is tens of MB, and a merger that
    // falls behind must slow the workers rather than queue them all (8 million distinct
    // addresses once took 8.1 GB).
    let (to_merger, results) = mpsc::sync_channel::<(usize, Partial)>(workers);
    // Blocks go back to the reader once parsed, so a big log reuses a few buffers.
    let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
    let mut read_error = None;
    let mut total = Partial {
        data: std::mem::take(data),
        junk: 0,
        overlong: 0,
        last: None,
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (jobs, to_merger, recycle) = (&jobs, to_merger.clone(), recycle.clone());
            let mut years = years;
            scope.spawn(move || {
                loop {
                    let job = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok((seq, first_line, block)) = job else {
                        break;
                    };
                    let partial = parse_block(&block, first_line, &mut years, shown);
                    let _ = recycle.send(block);
                    if to_merger.send((seq, partial)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(to_merger);
        // The reader runs here; a merger thread folds results in order as they arrive.
        let merger = scope.spawn(|| {
            let mut pending: std::collections::BTreeMap<usize, Partial> = Default::default();
            let mut next = 0usize;
            let mut out = Partial {
                data: AuthData::default(),
                junk: 0,
                overlong: 0,
                last: None,
            };
            for (seq, partial) in results {
                pending.insert(seq, partial);
                while let Some(p) = pending.remove(&next) {
                    out.data.merge(p.data);
                    out.junk += p.junk;
                    out.overlong += p.overlong;
                    out.last = p.last.or(out.last);
                    next += 1;
                }
            }
            out
        });
        let mut carry: Vec<u8> = Vec::new();
        let mut seq = 0usize;
        let mut line_base = 0u64;
        let mut skipping_overlong = false;
        loop {
            let mut block = recycled.try_recv().unwrap_or_default();
            block.clear();
            block.extend_from_slice(&carry);
            carry.clear();
            let start = block.len();
            // read_to_end fills spare capacity without zeroing it first.
            if let Err(e) = (&mut reader).take(BLOCK as u64).read_to_end(&mut block) {
                read_error = Some(e);
            }
            let n = block.len() - start;
            let eof = n == 0 || read_error.is_some();
            if block.is_empty() {
                break;
            }
            let cut = if eof {
                block.len()
            } else {
                memchr::memrchr(b'\n', &block).map_or(0, |i| i + 1)
            };
            if cut == 0 {
                // One line longer than a whole block: keep its start, drop the rest of it.
                if !skipping_overlong {
                    // One byte past the cap, so the worker counts it as over-long.
                    block.truncate(MAX_LINE + 1);
                    block.push(b'\n');
                    let lines = 1;
                    let _ = to_workers.send((seq, line_base, block));
                    seq += 1;
                    line_base += lines;
                }
                skipping_overlong = true;
                continue;
            }
            carry.extend_from_slice(&block[cut..]);
            block.truncate(cut);
            if skipping_overlong {
                // The tail of the over-long line runs up to the first newline: drop it.
                let end = memchr::memchr(b'\n', &block).map_or(block.len(), |i| i + 1);
                block.drain(..end);
                skipping_overlong = false;
            }
            let lines = memchr::memchr_iter(b'\n', &block).count() as u64
                + u64::from(eof && !block.ends_with(b"\n") && !block.is_empty());
            if to_workers.send((seq, line_base, block)).is_err() {
                break;
            }
            seq += 1;
            line_base += lines;
            if eof {
                break;
            }
        }
        drop(to_workers);
        let merged = merger.join().unwrap_or_else(|_| Partial {
            data: AuthData::default(),
            junk: 0,
            overlong: 0,
            last: None,
        });
        total.data.merge(merged.data);
        total.junk += merged.junk;
        total.overlong += merged.overlong;
        total.last = merged.last;
    });
    *data = total.data;
    if let Some(e) = read_error {
        warn(
            Some(shown),
            format!("read error, the rest of the file was skipped: {e}"),
        );
    }
    if total.junk > 0 {
        warn(
            Some(shown),
            format!(
                "{} line(s) of binary junk skipped (truncation or tampering?)",
                total.junk
            ),
        );
    }
    if total.overlong > 0 {
        warn(
            Some(shown),
            format!("{} over-long line(s) cut", total.overlong),
        );
    }
    total.last
}

/// Reads sshd and useradd events from systemd journal files. Used when the text auth logs hold
/// no authentication events (absent, or wiped by the attacker while the journal survived).
pub(crate) fn read_journals(
    src: &dyn Source,
    data: &mut AuthData,
    warn: &dyn Fn(Option<&str>, String),
) -> Vec<String> {
    use firewarden_artifacts::journal;
    let mut files = Vec::new();
    for root in ["/var/log/journal", "/run/log/journal"] {
        let Ok(machines) = src.read_dir(Path::new(root)) else {
            continue;
        };
        for m in machines
            .iter()
            .filter(|e| e.kind == firewarden_source::FileKind::Dir)
        {
            let dir = Path::new(root).join(&m.name);
            let Ok(entries) = src.read_dir(&dir) else {
                continue;
            };
            for e in entries {
                let name = e.name.to_string_lossy();
                if e.kind == firewarden_source::FileKind::File
                    && (name.ends_with(".journal") || name.ends_with(".journal~"))
                {
                    files.push(dir.join(&e.name));
                }
            }
        }
    }
    let mut events: Vec<(journal::Entry, String)> = Vec::new();
    let mut shown_files = Vec::new();
    for path in files {
        let shown = firewarden_source::display_path(&path);
        // journald rotates at 128 MiB by default; a larger file is cut, not loaded whole.
        let bytes = match firewarden_source::read_capped(src, &path, 256 << 20) {
            Ok((b, truncated)) => {
                if truncated {
                    warn(
                        Some(&shown),
                        "larger than 256 MiB: only the start was read".into(),
                    );
                }
                b
            }
            Err(e) => {
                warn(Some(&shown), e.to_string());
                continue;
            }
        };
        let Some(parsed) = journal::parse(&bytes) else {
            warn(Some(&shown), "not a journal file (bad signature)".into());
            continue;
        };
        if let Some(why) = &parsed.stopped {
            warn(
                Some(&shown),
                format!("journal corrupt, entries after the damage are lost: {why}"),
            );
        }
        if parsed.compressed_skipped > 0 {
            warn(
                Some(&shown),
                format!(
                    "{} compressed journal field(s) skipped (compressed fields are not read yet)",
                    parsed.compressed_skipped
                ),
            );
        }
        events.extend(
            parsed
                .entries
                .into_iter()
                .filter(|e| e.identifier.starts_with("sshd") || e.identifier == "useradd")
                .map(|e| (e, shown.clone())),
        );
        shown_files.push(shown);
    }
    events.sort_by_key(|(e, _)| e.time);
    // For journal files the "line" of the evidence is the byte offset of the entry object.
    for (e, shown) in &events {
        let no = e.offset;
        if e.identifier.starts_with("sshd") {
            if let Some(ev) = parse_auth_message(&e.message) {
                data.add(&ev, Some(e.time), &std::sync::Arc::from(shown.as_str()), no);
            }
        } else if let Some((user, uid)) = parse_new_user(&e.message) {
            data.other.push(AuthOther {
                time: Some(e.time),
                user,
                what: OtherKind::NewUser(uid),
                path: shown.clone(),
                line: no,
            });
        }
    }
    data.lines += events.len() as u64;
    shown_files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(n: u64) -> IpStats {
        IpStats {
            failed: n,
            ..IpStats::default()
        }
    }

    /// 8 million one-attempt addresses once took 8.1 GB: the table sheds the lightest ones and
    /// keeps the brute force that hides among them.
    #[test]
    fn a_flood_of_addresses_is_shed_lightest_first_and_the_brute_force_kept() {
        let mut total = AuthData::default();
        let mut next = 0u32;
        for _ in 0..3 {
            let mut later = AuthData::default();
            for _ in 0..MAX_TRACKED_IPS / 2 + 10 {
                next += 1;
                later.ips.insert(
                    format!("10.{}.{}.{}", next >> 16, (next >> 8) & 255, next & 255),
                    failures(1),
                );
            }
            later.ips.insert("203.0.113.66".into(), failures(40));
            later
                .ips
                .insert(format!("198.51.100.{}", next % 250), failures(3));
            total.merge(later);
            assert!(total.ips.len() <= MAX_TRACKED_IPS, "{}", total.ips.len());
        }
        assert_eq!(total.ips["203.0.113.66"].attempts(), 120);
        assert!(total.shed.addresses > 0);
        assert_eq!(total.shed.max_attempts, 1);
        let warnings = total.shed_warnings();
        assert!(
            warnings[0].contains("at most 1 failed attempts"),
            "{warnings:?}"
        );
    }
}
