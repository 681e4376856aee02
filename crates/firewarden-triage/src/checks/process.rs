//! Live processes and network, read straight from `/proc` (checklist rows 23–28).

use crate::check::{Check, CheckError, CheckMeta};
use crate::context::Ctx;
use crate::facts::{LiveState, ProcInfo};
use crate::indicators::{self, Tactic, is_suspicious_location};
use firewarden_artifacts::procnet::Proto;
use firewarden_model::{EventKind, Evidence, Finding, Severity};
use std::collections::HashSet;
use std::path::Path;

const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "ash", "csh", "tcsh", "fish", "busybox",
];
const INTERPRETERS: &[&str] = &[
    "python", "python2", "python3", "perl", "ruby", "php", "lua", "node", "nc", "ncat", "netcat",
    "socat",
];
const SERVERS: &[&str] = &[
    "apache2",
    "httpd",
    "nginx",
    "php-fpm",
    "php-fpm7",
    "php-fpm8",
    "java",
    "tomcat",
    "mysqld",
    "mariadbd",
    "postgres",
    "redis-server",
    "node",
    "uwsgi",
    "gunicorn",
    "lighttpd",
    "caddy",
];
const MINER_NAMES: &[&str] = &[
    "xmrig",
    "xmr-stak",
    "kdevtmpfsi",
    "kinsing",
    "kworkerds",
    "minerd",
    "cpuminer",
    "ccminer",
    "nbminer",
    "t-rex",
    "lolminer",
    "phoenixminer",
    "sysupdate",
    "networkservice",
    "dbused",
    "xmrigdaemon",
    "pnscan",
];
const POOL_PORTS: &[u16] = &[
    3333, 4444, 5555, 6666, 7777, 8888, 9999, 14433, 14444, 45560, 45700, 20580, 10128, 10343,
];
const BACKDOOR_PORTS: &[u16] = &[
    31337, 31338, 12345, 12346, 1524, 6667, 1337, 4444, 5555, 65535, 27374, 2001, 47017, 60001,
    39168, 23476,
];

fn base(path: &str) -> &str {
    path.trim_end_matches(" (deleted)")
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

fn proc_evidence(p: &ProcInfo) -> Evidence {
    let mut e = Evidence::process(p.pid).excerpt(format!(
        "{} [exe {}] uid {}",
        p.command(),
        p.exe.as_deref().unwrap_or("-"),
        p.uid
    ));
    e.owner = Some(p.uid.to_string());
    e
}

fn live<'a>(ctx: &Ctx<'a>) -> Result<&'a LiveState, CheckError> {
    ctx.facts
        .live(ctx.src)
        .ok_or_else(|| CheckError::NotApplicable("no process state in this source".into()))
}

fn report_proc(ctx: &mut Ctx, p: &ProcInfo, f: Finding) {
    let f = f.evidence(proc_evidence(p));
    ctx.report(f);
}

/// Checklist row 23.
pub const MINER: Check = Check {
    meta: CheckMeta {
        id: "linux.process.miner",
        title: "Cryptominers",
        attack: &["T1496"],
        severity: Severity::Critical,
        rows: &[23],
        live_state: true,
        walks_files: false,
        description: "Finds miners by name (xmrig, kdevtmpfsi, kinsing …), by command line (stratum+tcp://, pool domains, --donate-level), by connections to common pool ports, and flags processes that burn nearly a full CPU from a temp dir.",
    },
    run: |ctx| {
        let live = live(ctx)?;
        let clk = 100.0;
        for p in &live.processes {
            if p.kernel_thread {
                continue;
            }
            let exe = p.exe.clone().unwrap_or_default();
            let cmd = p.command();
            let mut why = Vec::new();
            let name = p.name.to_ascii_lowercase();
            if MINER_NAMES
                .iter()
                .any(|m| name == *m || base(&exe).eq_ignore_ascii_case(m))
            {
                why.push(format!("its name `{}` is a known miner's", p.name));
            }
            if indicators::classify(&cmd)
                .iter()
                .any(|i| i.tactic == Tactic::Miner)
            {
                why.push("its command line carries mining-pool options".to_string());
            }
            let pool_conn = live.sockets.iter().any(|s| {
                s.is_established()
                    && POOL_PORTS.contains(&s.remote_port)
                    && p.socket_inodes.contains(&s.inode)
            });
            if pool_conn && (is_suspicious_location(&exe) || !why.is_empty()) {
                why.push("it is connected to a typical mining-pool port".to_string());
            }
            if let Some(up) = live.uptime {
                let age = up - p.start_ticks as f64 / clk;
                let share = if age > 60.0 {
                    p.cpu_ticks as f64 / clk / age
                } else {
                    0.0
                };
                if share > 0.8 && is_suspicious_location(&exe) {
                    why.push(format!(
                        "it has used {:.0}% of a CPU since it started, from {exe}",
                        share * 100.0
                    ));
                }
            }
            if why.is_empty() {
                continue;
            }
            let f = ctx
                .finding(format!("Cryptominer: process {} ({})", p.pid, p.name))
                .explain(format!("Process {} is a miner: {}.", p.pid, why.join("; ")))
                .recommend("Capture the binary and its config (firewarden collect), freeze the process (firewarden contain process), then find how it was started (cron, systemd, profiles) before killing it.");
            report_proc(ctx, p, f);
        }
        Ok(())
    },
};

/// Checklist row 24.
pub const REVERSE_SHELL: Check = Check {
    meta: CheckMeta {
        id: "linux.process.reverse_shell",
        title: "Reverse and bind shells",
        attack: &["T1059.004", "T1095"],
        severity: Severity::Critical,
        rows: &[24],
        live_state: true,
        walks_files: false,
        description: "A shell or interpreter whose stdin/stdout is a network socket, a command line with /dev/tcp, nc -e or socat exec, and shells spawned by web servers or databases.",
    },
    run: |ctx| {
        let live = live(ctx)?;
        for p in &live.processes {
            let exe_base = p.exe.as_deref().map(base).unwrap_or("");
            let is_shell = SHELLS.contains(&p.name.as_str()) || SHELLS.contains(&exe_base);
            let is_interp = INTERPRETERS
                .iter()
                .any(|i| p.name.starts_with(i) || exe_base.starts_with(i));
            let stdio_sockets = p
                .stdio
                .iter()
                .filter(|t| t.as_deref().is_some_and(|t| t.starts_with("socket:")))
                .count();
            let mut why = Vec::new();
            if (is_shell || is_interp) && stdio_sockets >= 2 {
                why.push(format!(
                    "its standard input/output are network sockets ({stdio_sockets} of 3)"
                ));
            }
            if let Some(ind) = indicators::classify(&p.command())
                .into_iter()
                .find(|i| i.tactic == Tactic::ReverseShell)
            {
                why.push(format!("its command line {}", ind.reason));
            }
            if is_shell
                && let Some(parent) = live.processes.iter().find(|q| q.pid == p.ppid)
                && SERVERS.iter().any(|s| parent.name.starts_with(s))
            {
                why.push(format!(
                    "it was started by the server process {} ({}), as a webshell or exploit would",
                    parent.pid, parent.name
                ));
            }
            if why.is_empty() {
                continue;
            }
            let mut f = ctx
                .finding(format!("Shell process {} ({}) is remote-controlled", p.pid, p.name))
                .explain(format!("Process {}: {}.", p.pid, why.join("; ")))
                .recommend("Record its connections (remote address) and parent chain, freeze it (firewarden contain process), and contain the host's network.");
            if why.len() == 1 && why[0].contains("started by the server") {
                f.severity = Severity::High;
            }
            let remote: Vec<String> = live
                .sockets
                .iter()
                .filter(|s| p.socket_inodes.contains(&s.inode) && s.is_established())
                .map(|s| format!("{}:{}", s.remote, s.remote_port))
                .collect();
            if !remote.is_empty() {
                f.explanation
                    .push_str(&format!(" Connected to {}.", remote.join(", ")));
            }
            report_proc(ctx, p, f);
        }
        Ok(())
    },
};

/// Checklist row 25.
pub const SUSPICIOUS_EXE: Check = Check {
    meta: CheckMeta {
        id: "linux.process.suspicious_exe",
        title: "Processes running deleted, memfd or temp-dir executables",
        attack: &["T1070.004", "T1620", "T1027.011"],
        severity: Severity::High,
        rows: &[25],
        live_state: true,
        walks_files: false,
        description: "Reads /proc/PID/exe and cwd: an executable that was deleted after start, one loaded from memory (memfd:), or one running from /tmp, /var/tmp, /dev/shm or a hidden directory.",
    },
    run: |ctx| {
        let live = live(ctx)?;
        for p in &live.processes {
            let Some(exe) = p.exe.as_deref() else {
                continue;
            };
            let (sev, what) = if exe.starts_with("/memfd:") || exe.starts_with("memfd:") {
                (
                    Severity::Critical,
                    "runs from an anonymous memory file (memfd): fileless malware",
                )
            } else if exe.ends_with(" (deleted)") && is_suspicious_location(exe) {
                (
                    Severity::Critical,
                    "runs from a temp or hidden location and its file was deleted",
                )
            } else if exe.ends_with(" (deleted)") {
                // Upgraded packages leave long-running daemons on deleted binaries: worth a look, not alarm.
                let system = ["/usr/", "/bin/", "/sbin/", "/lib/", "/opt/"]
                    .iter()
                    .any(|d| exe.starts_with(d));
                if system {
                    (
                        Severity::Low,
                        "runs a binary that was deleted or replaced since it started (a package upgrade, or tampering)",
                    )
                } else {
                    (
                        Severity::High,
                        "runs a binary that was deleted after it started",
                    )
                }
            } else if is_suspicious_location(exe) {
                (Severity::High, "runs from a temp or hidden directory")
            } else {
                continue;
            };
            let mut f = ctx
                .finding(format!("Process {} ({}) {what}", p.pid, p.name))
                .explain(format!("The executable of process {} is `{exe}`: it {what}. Malware deletes itself or hides in world-writable dirs to avoid file scans.", p.pid))
                .recommend(format!("Copy the binary out of /proc/{}/exe now (firewarden collect does), then freeze the process.", p.pid));
            f.severity = sev;
            report_proc(ctx, p, f);
        }
        Ok(())
    },
};

/// Checklist row 26.
pub const HIDDEN: Check = Check {
    meta: CheckMeta {
        id: "linux.process.hidden",
        title: "Processes hidden from /proc listings",
        attack: &["T1014", "T1564"],
        severity: Severity::Critical,
        rows: &[26],
        live_state: true,
        walks_files: false,
        description: "Cross-view: pids that answer at /proc/PID but are missing from the /proc directory listing (as a getdents-hooking rootkit makes them), checked twice to rule out processes that just started, and excluding threads.",
    },
    run: |ctx| {
        let Some(listed) = crate::live::list_pids(ctx.src) else {
            return Err(CheckError::NotApplicable(
                "no process state in this source".into(),
            ));
        };
        let listed_set: HashSet<u32> = listed.iter().copied().collect();
        let max_seen = listed.iter().copied().max().unwrap_or(1);
        let last =
            firewarden_source::read_text(ctx.src, Path::new("/proc/sys/kernel/ns_last_pid"), 32)
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok())
                .unwrap_or(0);
        let pid_max =
            firewarden_source::read_text(ctx.src, Path::new("/proc/sys/kernel/pid_max"), 32)
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok())
                .unwrap_or(32768);
        // Pids are handed out in order; probing past the highest one seen covers all but a wrap.
        let limit = (max_seen.max(last) + 4096).min(pid_max);
        let mut candidates = Vec::new();
        for pid in 1..=limit {
            if listed_set.contains(&pid) {
                continue;
            }
            if ctx.src.metadata(Path::new(&format!("/proc/{pid}"))).is_ok() {
                candidates.push(pid);
            }
        }
        if candidates.is_empty() {
            return Ok(());
        }
        let relisted: HashSet<u32> = crate::live::list_pids(ctx.src)
            .unwrap_or_default()
            .into_iter()
            .collect();
        for pid in candidates {
            if relisted.contains(&pid) {
                continue;
            }
            let status = firewarden_source::read_text(
                ctx.src,
                Path::new(&format!("/proc/{pid}/status")),
                64 * 1024,
            )
            .unwrap_or_default();
            let field = |k: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(k))
                    .map(|v| v.trim().to_string())
            };
            let tgid = field("Tgid:").and_then(|v| v.parse::<u32>().ok());
            // Threads answer at /proc/TID but are never listed: only thread-group leaders count.
            if tgid.is_some_and(|t| t != pid) || status.is_empty() {
                continue;
            }
            let name = field("Name:").unwrap_or_default();
            let mut unreadable = 0;
            let info =
                crate::live::read_process(ctx.src, pid, &mut unreadable).unwrap_or(ProcInfo {
                    pid,
                    name: name.clone(),
                    ..Default::default()
                });
            let f = ctx
                .finding(format!("Process {pid} ({name}) is hidden from the process list"))
                .explain(format!("/proc/{pid} exists but the /proc listing omits it, twice. Only a rootkit (a kernel module or an ld.so.preload library hooking getdents) does this: ps, top and every other tool on this host are lying."))
                .recommend("Assume a rootkit. Collect memory and evidence with trusted tools, contain the host, and plan to rebuild it rather than clean it.");
            report_proc(ctx, &info, f);
        }
        Ok(())
    },
};

const KERNEL_NAMES: &[&str] = &[
    "kworker",
    "kthreadd",
    "ksoftirqd",
    "migration",
    "rcu_sched",
    "rcu_bh",
    "kswapd",
    "watchdog",
    "khugepaged",
    "kdevtmpfs",
    "kauditd",
    "jbd2",
    "ext4",
    "kblockd",
    "kcompactd",
    "writeback",
    "khungtaskd",
    "oom_reaper",
    "cpuhp",
    "irq/",
    "scsi_",
    "loop",
    "md",
    "crypto",
    "netns",
    "kintegrityd",
    "ecryptfs",
    "xfs",
];
const DAEMONS: &[(&str, &[&str])] = &[
    (
        "sshd",
        &[
            "/usr/sbin/sshd",
            "/usr/lib/openssh/sshd-session",
            "/usr/lib/openssh/sshd-auth",
            "/usr/libexec/openssh/sshd-session",
        ],
    ),
    (
        "systemd",
        &["/usr/lib/systemd/systemd", "/lib/systemd/systemd"],
    ),
    ("cron", &["/usr/sbin/cron"]),
    ("crond", &["/usr/sbin/crond"]),
    ("rsyslogd", &["/usr/sbin/rsyslogd"]),
    ("dbus-daemon", &["/usr/bin/dbus-daemon"]),
    ("agetty", &["/usr/sbin/agetty", "/sbin/agetty"]),
];

/// Checklist row 27.
pub const MASQUERADE: Check = Check {
    meta: CheckMeta {
        id: "linux.process.masquerade",
        title: "Processes masquerading as kernel threads or system daemons",
        attack: &["T1036.004", "T1036.005"],
        severity: Severity::Critical,
        rows: &[27],
        live_state: true,
        walks_files: false,
        description: "A user-space process (it has an executable) named like a kernel thread ([kworker/0:1], kthreadd …), or named like a system daemon (sshd, cron, systemd) while its executable is something else.",
    },
    run: |ctx| {
        let live = live(ctx)?;
        for p in &live.processes {
            if p.kernel_thread {
                continue;
            }
            let Some(exe) = p.exe.as_deref() else {
                continue;
            };
            let argv0 = p.cmdline.first().map(String::as_str).unwrap_or("");
            let bracketed = argv0.starts_with('[') && argv0.ends_with(']');
            let kernel_like = KERNEL_NAMES
                .iter()
                .any(|k| p.name.starts_with(k) || argv0.trim_start_matches('[').starts_with(k));
            if bracketed
                || (kernel_like && !base(exe).starts_with(p.name.split('/').next().unwrap_or("")))
            {
                let f = ctx
                    .finding(format!("Process {} poses as kernel thread `{}` but runs {exe}", p.pid, if bracketed { argv0 } else { &p.name }))
                    .explain("Kernel threads have no executable; this process has one, so its name is a disguise. Miners and backdoors (kdevtmpfsi, kworkerds) hide this way.")
                    .recommend("Preserve the executable from /proc/PID/exe and freeze the process.");
                report_proc(ctx, p, f);
                continue;
            }
            for (daemon, paths) in DAEMONS {
                let claims = p.name == *daemon
                    || base(argv0) == *daemon
                    || argv0.starts_with(&format!("{daemon}:"));
                let exe_clean = exe.trim_end_matches(" (deleted)");
                if claims
                    && !paths.iter().any(|ok| {
                        exe_clean == *ok
                            || super::super::facts::alias(ok).as_deref() == Some(exe_clean)
                    })
                {
                    let mut f = ctx
                        .finding(format!("Process {} calls itself {daemon} but runs {exe}", p.pid))
                        .explain(format!("The real {daemon} runs from {}; this process only borrows the name, a common disguise (e.g. `ln -sf sshd /tmp/su` backdoors).", paths[0]))
                        .recommend("Preserve the executable and freeze the process; check its listening ports.");
                    f.severity = Severity::High;
                    report_proc(ctx, p, f);
                }
            }
        }
        Ok(())
    },
};

/// Checklist row 28.
pub const NETWORK: Check = Check {
    meta: CheckMeta {
        id: "linux.network.connections",
        title: "Listeners and connections with their owning process",
        attack: &["T1571", "T1071", "T1095"],
        severity: Severity::High,
        rows: &[28],
        live_state: true,
        walks_files: false,
        description: "Reads /proc/net/{tcp,tcp6,udp,udp6} and maps each socket to its process through /proc/PID/fd: listeners on known backdoor ports, listeners and outbound connections owned by shells, interpreters or programs in temp dirs, and an inventory of every listener (info).",
    },
    run: |ctx| {
        let live = live(ctx)?;
        for s in &live.sockets {
            let owner = live.owner_of(s.inode);
            let exe = owner.and_then(|p| p.exe.clone()).unwrap_or_default();
            let who = owner
                .map(|p| {
                    format!(
                        "{} ({}, {})",
                        p.pid,
                        p.name,
                        if exe.is_empty() { "exe unknown" } else { &exe }
                    )
                })
                .unwrap_or_else(|| "an unknown process".into());
            let proto = if s.proto == Proto::Tcp { "tcp" } else { "udp" };
            let shellish = owner.is_some_and(|p| {
                let b = base(p.exe.as_deref().unwrap_or(""));
                SHELLS.contains(&b)
                    || INTERPRETERS.iter().any(|i| b.starts_with(i))
                        && !SERVERS.iter().any(|srv| p.name.starts_with(srv))
            });
            let temp = is_suspicious_location(&exe);
            if s.is_listening() {
                let public = !s.local.is_loopback();
                let (sev, what) = if temp || exe.ends_with(" (deleted)") {
                    (
                        Severity::Critical,
                        "a program from a temp dir or a deleted file is listening",
                    )
                } else if shellish && s.proto == Proto::Tcp {
                    (
                        Severity::Critical,
                        "a shell or interpreter is listening: a bind shell",
                    )
                } else if BACKDOOR_PORTS.contains(&s.local_port) && public {
                    (
                        Severity::High,
                        "listening on a port used by well-known backdoors",
                    )
                } else {
                    (Severity::Info, "listening")
                };
                let mut f = ctx
                    .finding(format!("{proto} {}:{} {what} — {who}", s.local, s.local_port))
                    .explain(format!("{who} is listening on {proto} {}:{}{}.", s.local, s.local_port, if public { " (reachable from the network)" } else { " (local only)" }))
                    .recommend(if sev == Severity::Info { "Confirm every listener belongs to an expected service." } else { "Identify the program, capture it, and block the port while you investigate." })
                    .evidence(owner.map(proc_evidence).unwrap_or_default().excerpt(format!("{proto} {}:{} inode {}", s.local, s.local_port, s.inode)));
                f.severity = sev;
                ctx.report(f);
            } else if s.is_established() && !s.remote.is_loopback() {
                let (sev, what) = if temp || exe.ends_with(" (deleted)") {
                    (
                        Severity::High,
                        "a program from a temp dir or a deleted file",
                    )
                } else if shellish {
                    (Severity::High, "a shell or interpreter")
                } else if POOL_PORTS.contains(&s.remote_port) {
                    (
                        Severity::Medium,
                        "a connection to a typical mining-pool port",
                    )
                } else {
                    continue;
                };
                let mut f = ctx
                    .finding(format!("Outbound connection to {}:{} from {what} — {who}", s.remote, s.remote_port))
                    .explain(format!("{who} has an open connection to {}:{}; {what} talking to a remote host is how command-and-control and reverse shells look.", s.remote, s.remote_port))
                    .recommend(format!("Record the address {} as an IOC, block it, and examine the process.", s.remote))
                    .evidence(owner.map(proc_evidence).unwrap_or_default().excerpt(format!("{proto} {}:{} -> {}:{}", s.local, s.local_port, s.remote, s.remote_port)));
                f.severity = sev;
                let ip = s.remote.to_string();
                ctx.report_with_event(f, EventKind::Connection, Some(ip), None);
            }
        }
        Ok(())
    },
};
