//! `collect`: gathers evidence in order of volatility (RFC 3227) through a recording
//! [`Capture`]: live state first (network tables, processes, sessions, mounts, modules, kernel
//! taint), then everything the triage catalogue reads, then the files triage points at, then
//! the profile's fixed list. Writes a signed bundle and starts its custody ledger.

use crate::EvidenceError;
use crate::bundle::{self, Written};
use crate::capture::{Caps, Capture};
use crate::custody::{self, CustodyEvent, Tool};
use crate::encoding::hex;
use crate::keys::{KeyPair, random_bytes};
use crate::manifest::{ClockState, Header, HostIdentity, log_step, utc_now};
use firewarden_model::{Timestamp, TriageReport};
use firewarden_source::{FileKind, Source, read_text};
use std::path::{Path, PathBuf};

/// What to gather beyond what triage reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Live state, everything triage reads, flagged files, and key configuration and logs.
    Triage,
    /// Also whole log, configuration, home, temp, web and spool trees, and every running
    /// executable.
    Full,
}

impl Profile {
    /// Default caps of the profile.
    pub fn caps(self) -> Caps {
        match self {
            Profile::Triage => Caps {
                max_file: 256 << 20,
                max_total: 4 << 30,
            },
            Profile::Full => Caps {
                max_file: 2 << 30,
                max_total: 64 << 30,
            },
        }
    }
    /// Name in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Triage => "triage",
            Profile::Full => "full",
        }
    }
}

/// Collection settings.
pub struct CollectOptions {
    /// Profile.
    pub profile: Profile,
    /// Size caps (the profile's unless the user changed them).
    pub caps: Caps,
    /// Case id.
    pub case_id: Option<String>,
    /// Operator name.
    pub operator: String,
    /// The collector's command line, recorded verbatim.
    pub command_line: Vec<String>,
    /// Bundle to write (must not exist).
    pub output: PathBuf,
    /// Signing key.
    pub key: KeyPair,
    /// age recipients; empty: not encrypted.
    pub recipients: Vec<age::x25519::Recipient>,
    /// Worker threads for the triage pass (0: one per core).
    pub threads: usize,
}

/// What a collection produced.
pub struct Collected {
    /// Bundle hashes and sizes.
    pub written: Written,
    /// The manifest header as signed.
    pub header: Header,
    /// Paths recorded.
    pub items: usize,
    /// Paths that could not be (fully) read.
    pub unreadable: usize,
    /// The triage run made during collection (on exactly the collected data).
    pub report: TriageReport,
    /// The custody ledger's first event.
    pub acquisition: CustodyEvent,
}

/// RFC 3227 order: routing and ARP tables and sockets, then the process table, then sessions,
/// mounts, modules and kernel state.
const NETWORK_STATE: &[&str] = &[
    "/proc/net/route",
    "/proc/net/ipv6_route",
    "/proc/net/arp",
    "/proc/net/tcp",
    "/proc/net/tcp6",
    "/proc/net/udp",
    "/proc/net/udp6",
    "/proc/net/raw",
    "/proc/net/raw6",
    "/proc/net/unix",
    "/proc/net/packet",
    "/proc/net/dev",
    "/proc/net/fib_trie",
    "/proc/net/if_inet6",
];
const PROCESS_FILES: &[&str] = &[
    "status", "stat", "cmdline", "environ", "comm", "maps", "loginuid", "cgroup",
];
const PROCESS_LINKS: &[&str] = &["exe", "cwd", "root"];
const KERNEL_STATE: &[&str] = &[
    "/run/utmp",
    "/var/run/utmp",
    "/proc/mounts",
    "/proc/1/mountinfo",
    "/proc/modules",
    "/proc/sys/kernel/tainted",
    "/proc/sys/kernel/hostname",
    "/proc/sys/kernel/osrelease",
    "/proc/sys/kernel/random/boot_id",
    "/proc/version",
    "/proc/cmdline",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/stat",
    "/proc/sys/kernel/ns_last_pid",
    "/proc/sys/kernel/pid_max",
    "/proc/sys/kernel/modules_disabled",
    "/proc/sys/kernel/kptr_restrict",
];
/// Most fds recorded per process (a process with a million fds must not stall collection).
const MAX_FDS: usize = 4096;

/// Key configuration and logs, beyond what triage happens to read (both profiles). Directories
/// are gathered to [`TRIAGE_DEPTH`] levels.
const TRIAGE_PATHS: &[&str] = &[
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/hosts",
    "/etc/hosts.allow",
    "/etc/hosts.deny",
    "/etc/resolv.conf",
    "/etc/hostname",
    "/etc/machine-id",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/os-release",
    "/etc/crontab",
    "/etc/cron.d",
    "/etc/cron.hourly",
    "/etc/cron.daily",
    "/etc/cron.weekly",
    "/etc/cron.monthly",
    "/var/spool/cron",
    "/etc/anacrontab",
    "/etc/ld.so.preload",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/rc.local",
    "/etc/profile",
    "/etc/profile.d",
    "/etc/bash.bashrc",
    "/etc/environment",
    "/etc/ssh",
    "/etc/pam.d",
    "/etc/security",
    "/etc/systemd/system",
    "/etc/init.d",
    "/etc/modules",
    "/etc/modules-load.d",
    "/etc/modprobe.d",
    "/etc/nginx",
    "/etc/apache2",
    "/etc/httpd",
    "/etc/php",
    "/etc/mysql",
    "/etc/redis",
    "/etc/docker",
    "/var/log/auth.log",
    "/var/log/secure",
    "/var/log/syslog",
    "/var/log/messages",
    "/var/log/kern.log",
    "/var/log/wtmp",
    "/var/log/btmp",
    "/var/log/lastlog",
    "/var/log/audit",
    "/var/log/nginx",
    "/var/log/apache2",
    "/var/log/httpd",
    "/var/log/cron",
    "/var/log/dpkg.log",
    "/var/log/yum.log",
    "/var/log/dnf.log",
];
/// Per-home files (both profiles).
const HOME_FILES: &[&str] = &[
    ".ssh",
    ".bash_history",
    ".zsh_history",
    ".sh_history",
    ".ash_history",
    ".history",
    ".mysql_history",
    ".psql_history",
    ".python_history",
    ".bashrc",
    ".bash_profile",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".viminfo",
    ".wget-hsts",
    ".lesshst",
    ".config/autostart",
    ".config/systemd/user",
];
const TRIAGE_DEPTH: usize = 3;
/// Whole trees in the full profile.
const FULL_TREES: &[&str] = &[
    "/etc",
    "/var/log",
    "/root",
    "/home",
    "/var/spool",
    "/tmp",
    "/var/tmp",
    "/dev/shm",
    "/var/www",
    "/srv",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/usr/local/lib",
    "/opt",
    "/boot",
];
const FULL_DEPTH: usize = 16;

/// SHA-256 of the running binary (for the manifest header and custody events).
pub fn self_sha256() -> Option<String> {
    crate::read::file_sha256(Path::new("/proc/self/exe"))
        .ok()
        .map(|(h, _)| h)
}

fn random_id() -> Result<String, EvidenceError> {
    let mut b = [0u8; 16];
    random_bytes(&mut b)?;
    Ok(hex(&b))
}

/// The collecting machine's clock discipline, read from the kernel (read-only `adjtimex`).
pub fn clock_state() -> ClockState {
    let mut state = ClockState {
        system_utc: utc_now(),
        ..Default::default()
    };
    // SAFETY: `adjtimex` with `modes == 0` only reads the kernel's clock state into the
    // zeroed struct we own; it changes nothing and needs no privilege.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::adjtimex(&mut tx) };
    if rc >= 0 {
        state.synchronized = Some(rc != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0);
        state.estimated_error_us = Some(tx.esterror as i64);
        state.max_error_us = Some(tx.maxerror as i64);
    }
    state
}

fn text(src: &dyn Source, path: &str) -> Option<String> {
    read_text(src, Path::new(path), 4096)
        .ok()
        .map(|t| firewarden_model::printable(t.trim(), 256))
        .filter(|t| !t.is_empty())
}

/// Local addresses from the kernel's routing tables (`fib_trie` LOCAL entries, `if_inet6`).
pub fn addresses(src: &dyn Source) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(trie) = read_text(src, Path::new("/proc/net/fib_trie"), 16 << 20) {
        let mut last = None;
        for line in trie.lines() {
            let t = line.trim_start_matches([' ', '|', '-', '+', '`']).trim();
            if t.contains("/32 host LOCAL") {
                if let Some(ip) = last.take()
                    && !out.contains(&ip)
                {
                    out.push(ip);
                }
            } else if t.parse::<std::net::Ipv4Addr>().is_ok() {
                last = Some(t.to_string());
            }
        }
    }
    if let Ok(v6) = read_text(src, Path::new("/proc/net/if_inet6"), 1 << 20) {
        for line in v6.lines() {
            let Some(h) = line.split_whitespace().next() else {
                continue;
            };
            if let Some(bytes) = crate::encoding::unhex(h)
                && let Ok(b) = <[u8; 16]>::try_from(bytes)
            {
                let ip = std::net::Ipv6Addr::from(b).to_string();
                if !out.contains(&ip) {
                    out.push(ip);
                }
            }
        }
    }
    out
}

fn suspicious_exe(link: &str) -> bool {
    link.ends_with(" (deleted)")
        || link.starts_with("/memfd:")
        || ["/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/"]
            .iter()
            .any(|d| link.starts_with(d))
        || link.split('/').any(|c| c.starts_with('.') && c.len() > 1)
}

fn capture_live(cap: &Capture, full: bool, log: &mut Vec<crate::manifest::LogEntry>) {
    for p in NETWORK_STATE {
        let _ = read_all(cap, p);
    }
    let pids = firewarden_triage::live::list_pids(cap).unwrap_or_default();
    let mut stored_exes = 0;
    for pid in &pids {
        let dir = PathBuf::from(format!("/proc/{pid}"));
        if cap.symlink_metadata(&dir).is_err() {
            continue; // exited meanwhile
        }
        for f in PROCESS_FILES {
            let _ = read_all(cap, dir.join(f));
        }
        let mut exe_link = None;
        for l in PROCESS_LINKS {
            if let Ok(t) = cap.read_link(&dir.join(l)) {
                let _ = cap.metadata(&dir.join(l));
                if *l == "exe" {
                    exe_link = Some(t.to_string_lossy().into_owned());
                }
            }
        }
        if let Ok(fds) = cap.read_dir(&dir.join("fd")) {
            for fd in fds.iter().take(MAX_FDS) {
                let _ = cap.read_link(&dir.join("fd").join(&fd.name));
            }
        }
        let exe = dir.join("exe");
        match exe_link {
            // Deleted, in-memory and temp-dir executables exist nowhere else: copy them out.
            Some(link) if (full || suspicious_exe(&link)) && read_all(cap, &exe).is_ok() => {
                stored_exes += 1;
                if suspicious_exe(&link) {
                    log_step(
                        log,
                        "copy-exe",
                        &format!(
                            "pid {pid}: running executable {link} copied from {}",
                            exe.display()
                        ),
                    );
                }
            }
            Some(link) if full || suspicious_exe(&link) => {}
            Some(_) => cap.hash_only(&exe, "ordinary executable (profile triage)"),
            None => {}
        }
    }
    for p in KERNEL_STATE {
        let _ = read_all(cap, p);
    }
    log_step(
        log,
        "live",
        &format!(
            "{} processes, {stored_exes} executables copied, network tables, sessions, mounts, modules, kernel taint",
            pids.len()
        ),
    );
}

fn read_all(src: &dyn Source, path: impl AsRef<Path>) -> std::io::Result<u64> {
    let mut r = src
        .open(path.as_ref())
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    std::io::copy(&mut r, &mut std::io::sink())
}

/// Gathers a file, or a directory's regular files down to `depth` levels (symlinks are
/// recorded, never followed). Returns files gathered.
fn gather(cap: &Capture, path: &Path, depth: usize) -> usize {
    let Ok(m) = cap.symlink_metadata(path) else {
        return 0;
    };
    match m.kind {
        FileKind::File => usize::from(read_all(cap, path).is_ok()),
        FileKind::Symlink => {
            let _ = cap.read_link(path);
            0
        }
        FileKind::Dir if depth > 0 => {
            let Ok(list) = cap.read_dir_meta(path) else {
                return 0;
            };
            list.iter()
                .map(|(e, _)| gather(cap, &path.join(&e.name), depth - 1))
                .sum()
        }
        _ => 0,
    }
}

/// Runs a whole collection of `src` and writes the bundle and its ledger.
pub fn collect(
    src: &dyn Source,
    opts: CollectOptions,
    progress: &dyn Fn(&str),
) -> Result<Collected, EvidenceError> {
    let started_clock = Timestamp::now();
    let started = utc_now();
    let clock = clock_state();
    let tool_sha256 = self_sha256();
    let tool = Tool {
        name: format!("firewarden {}", env!("CARGO_PKG_VERSION")),
        sha256: tool_sha256.clone(),
    };
    let info = src.info();
    let mut log = Vec::new();
    log_step(
        &mut log,
        "start",
        &format!(
            "{} by {} for case {} from {} {}, profile {}, caps {} bytes per file / {} total; command: {}",
            tool.name,
            opts.operator,
            opts.case_id.as_deref().unwrap_or("(none)"),
            info.kind,
            info.location,
            opts.profile.name(),
            opts.caps.max_file,
            opts.caps.max_total,
            opts.command_line.join(" ")
        ),
    );
    let out_dir = opts
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let spool = tempfile::Builder::new()
        .prefix(".firewarden-spool-")
        // Owner-only: it holds /etc/shadow, keys and decrypted contents.
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir_in(out_dir)
        .map_err(|e| {
            EvidenceError::Io(format!("cannot make a spool in {}: {e}", out_dir.display()))
        })?;
    let spool_registered = crate::cleanup::register(spool.path());
    // On the live host our own output is part of the filesystem: keep it out of the evidence.
    let exclude = if src.is_live() {
        let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        vec![
            abs(out_dir).join(opts.output.file_name().unwrap_or_default()),
            abs(spool.path()),
        ]
    } else {
        Vec::new()
    };
    if !exclude.is_empty() {
        log_step(
            &mut log,
            "exclude",
            &format!(
                "collector output kept out of the evidence: {}",
                exclude
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let cap = Capture::new(src, spool.path(), opts.caps, exclude);
    let full = opts.profile == Profile::Full;

    progress("capturing live state (processes, network, sessions)");
    if firewarden_triage::live::list_pids(&cap).is_some() {
        capture_live(&cap, full, &mut log);
    } else {
        log_step(
            &mut log,
            "live",
            "no process state in this source (/proc is empty): skipped",
        );
    }

    progress("running the triage catalogue over the source");
    let topts = firewarden_triage::TriageOptions {
        threads: opts.threads,
        now: Some(started_clock),
        ..Default::default()
    };
    let report = firewarden_triage::run(&cap, &topts, &|_| {});
    log_step(
        &mut log,
        "triage",
        &format!(
            "{} checks, {} findings; every path they read is recorded",
            report.checks.len(),
            report.findings.len()
        ),
    );

    progress("copying files the findings point at");
    let mut flagged = 0;
    for f in &report.findings {
        for ev in &f.evidence {
            let Some(p) = ev.path.as_deref() else {
                continue;
            };
            let path = Path::new(p);
            if cap.has_content(path) {
                continue;
            }
            // Read to the end: an opened-and-dropped reader would store nothing.
            if cap.metadata(path).is_ok_and(|m| m.kind == FileKind::File)
                && read_all(&cap, path).is_ok()
            {
                flagged += 1;
            }
        }
    }
    log_step(
        &mut log,
        "flagged",
        &format!("{flagged} further files named by findings copied"),
    );

    progress("copying configuration, logs and histories");
    let mut gathered = 0;
    for p in TRIAGE_PATHS {
        gathered += gather(&cap, Path::new(p), TRIAGE_DEPTH);
    }
    // Rotated logs beside the main ones.
    if let Ok(list) = cap.read_dir_meta(Path::new("/var/log")) {
        for (e, m) in list {
            let name = e.name.to_string_lossy();
            let rotated = [
                "auth.log.",
                "secure-",
                "secure.",
                "syslog.",
                "messages.",
                "messages-",
                "wtmp.",
                "btmp.",
                "wtmp-",
                "btmp-",
            ]
            .iter()
            .any(|p| name.starts_with(p));
            if rotated && m.kind == FileKind::File {
                gathered += gather(&cap, &Path::new("/var/log").join(&e.name), 0);
            }
        }
    }
    let mut homes = vec![PathBuf::from("/root")];
    if let Ok(passwd) = read_text(&cap, Path::new("/etc/passwd"), 16 << 20) {
        for entry in firewarden_artifacts::accounts::parse_passwd(&passwd).0 {
            let h = PathBuf::from(&entry.home);
            if h.is_absolute() && h != Path::new("/") && !homes.contains(&h) {
                homes.push(h);
            }
        }
    }
    for h in &homes {
        for f in HOME_FILES {
            gathered += gather(&cap, &h.join(f), TRIAGE_DEPTH);
        }
    }
    if full {
        for t in FULL_TREES {
            gathered += gather(&cap, Path::new(t), FULL_DEPTH);
        }
    }
    log_step(
        &mut log,
        "files",
        &format!(
            "{gathered} files gathered from the {} profile list and {} home directories",
            opts.profile.name(),
            homes.len()
        ),
    );

    let host = HostIdentity {
        hostname: text(&cap, "/proc/sys/kernel/hostname").or_else(|| text(&cap, "/etc/hostname")),
        machine_id: text(&cap, "/etc/machine-id"),
        boot_id: text(&cap, "/proc/sys/kernel/random/boot_id"),
        kernel: text(&cap, "/proc/sys/kernel/osrelease"),
        addresses: addresses(&cap),
    };
    let zone = firewarden_source::read_capped(&cap, Path::new("/etc/localtime"), 1 << 20)
        .ok()
        .and_then(|(data, _)| firewarden_artifacts::tzif::offset_at(&data, started_clock.0));
    let stored = cap.stored_bytes();
    let captured = cap.finish();
    let unreadable = captured.unreadable();
    const MAX_NOTES: usize = 5000;
    for (step, detail) in captured.notes.iter().take(MAX_NOTES) {
        log_step(&mut log, step, detail);
    }
    if captured.notes.len() > MAX_NOTES {
        log_step(
            &mut log,
            "unreadable",
            &format!(
                "{} further notes omitted here; each is recorded on its item's errors or content note",
                captured.notes.len() - MAX_NOTES
            ),
        );
    }
    log_step(
        &mut log,
        "captured",
        &format!(
            "{} paths recorded, {unreadable} with read errors, {stored} bytes of content",
            captured.len()
        ),
    );

    let header = Header {
        evidence_id: random_id()?,
        case_id: opts.case_id.clone(),
        operator: opts.operator.clone(),
        tool: tool.name.clone(),
        tool_sha256,
        command_line: opts.command_line.clone(),
        profile: opts.profile.name().into(),
        max_file_bytes: opts.caps.max_file,
        max_total_bytes: opts.caps.max_total,
        source_kind: info.kind.clone(),
        source_location: info.location.clone(),
        host,
        started,
        finished: String::new(),
        clock: ClockState {
            host_zone_offset_s: zone,
            ..clock
        },
        signer: opts.key.public().to_hex(),
        signer_ephemeral: opts.key.ephemeral,
        encrypted_to: opts.recipients.iter().map(|r| r.to_string()).collect(),
    };
    let items = captured.len();
    progress("writing the bundle");
    // The items stay in the capture's compact records; the writer makes them one at a time.
    let written = bundle::write(
        &opts.output,
        &captured,
        header,
        log,
        &opts.key,
        &opts.recipients,
    );
    drop(spool);
    drop(spool_registered);
    let (written, header) = written?;
    let acquisition = custody::acquire(&opts.output, &written, &header, &opts.key, &tool)?;
    Ok(Collected {
        written,
        header,
        items,
        unreadable,
        report,
        acquisition,
    })
}
