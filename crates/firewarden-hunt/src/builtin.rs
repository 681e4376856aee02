//! The Windows intrusion checks a responder runs first, written for this project (no Sigma
//! rule set needed): accounts created, enabled, renamed, hidden or made admin; RDP/SMB brute
//! force and whether it succeeded; cleared logs; services and scheduled tasks installed;
//! suspicious PowerShell script blocks; WMI persistence; Defender turned off or firing.
//!
//! Adding a check: one [`Check`] constant in [`CHECKS`] and one arm in [`run`].

use crate::event::Event;
use firewarden_model::Severity;
use std::collections::HashMap;
use std::sync::Arc;

/// A built-in check as listed in the catalogue and the report.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// Stable id, e.g. `windows.accounts.created`.
    pub id: &'static str,
    /// Short title.
    pub title: &'static str,
    /// ATT&CK techniques.
    pub attack: &'static [&'static str],
    /// Severity of its typical finding (some hits are raised above it).
    pub severity: Severity,
    /// What it looks at and why.
    pub description: &'static str,
}

impl Check {
    /// The check as the catalogue lists it (`firewarden checks`).
    pub fn descriptor(&self) -> firewarden_model::CheckDescriptor {
        firewarden_model::CheckDescriptor {
            id: self.id.to_owned(),
            title: self.title.to_owned(),
            attack: self.attack.iter().map(|a| (*a).to_owned()).collect(),
            severity: self.severity,
            checklist_rows: Vec::new(),
            live_state: false,
            description: format!("(`hunt`, Windows event logs) {}", self.description),
        }
    }
}

const SECURITY: &str = "Security";
const SYSTEM: &str = "System";

/// Account created (4720).
pub const ACCOUNT_CREATED: Check = Check {
    id: "windows.accounts.created",
    title: "Local or domain account created",
    attack: &["T1136"],
    severity: Severity::High,
    description: "Security 4720: a new account. Attackers add one to keep access; a name \
                  ending in `$` hides it from `net user`.",
};
/// Account enabled (4722) or changed (4738).
pub const ACCOUNT_ENABLED: Check = Check {
    id: "windows.accounts.enabled",
    title: "Account enabled",
    attack: &["T1098"],
    severity: Severity::Medium,
    description: "Security 4722: a disabled account (often Guest or a built-in admin) turned \
                  back on.",
};
/// Account renamed (4781).
pub const ACCOUNT_RENAMED: Check = Check {
    id: "windows.accounts.renamed",
    title: "Account renamed",
    attack: &["T1098", "T1036"],
    severity: Severity::High,
    description: "Security 4781: renaming hides a backdoor account or disguises the built-in \
                  Administrator.",
};
/// Member added to a privileged group (4728, 4732, 4756).
pub const ADMIN_GROUP: Check = Check {
    id: "windows.accounts.admin_group",
    title: "Account added to a privileged group",
    attack: &["T1098"],
    severity: Severity::High,
    description: "Security 4728/4732/4756: a member added to Administrators, Domain Admins, \
                  Enterprise Admins, Remote Desktop Users or similar.",
};
/// RDP/SMB brute force (4625 bursts), and a logon after it (4624).
pub const BRUTE_FORCE: Check = Check {
    id: "windows.logon.bruteforce",
    title: "Password guessing against RDP or SMB",
    attack: &["T1110", "T1021.001"],
    severity: Severity::High,
    description: "Security 4625 failures from one source in a burst (at least 10 in 10 \
                  minutes); critical when the same source then logs on (4624, type 3 or 10).",
};
/// Event log cleared (1102, 104).
pub const LOG_CLEARED: Check = Check {
    id: "windows.logs.cleared",
    title: "Event log cleared",
    attack: &["T1070.001"],
    severity: Severity::High,
    description: "Security 1102 and System 104: someone wiped a log, usually to hide what came \
                  before.",
};
/// Service installed (7045, 4697).
pub const SERVICE_INSTALLED: Check = Check {
    id: "windows.persistence.service",
    title: "Service installed",
    attack: &["T1543.003", "T1569.002"],
    severity: Severity::Medium,
    description: "System 7045 and Security 4697: a new service. PsExec, Cobalt Strike and \
                  Metasploit install one to run code as SYSTEM; high when its command line \
                  runs a shell, a script host or a file from a user-writable folder.",
};
/// Scheduled task created (4698, TaskScheduler 106).
pub const TASK_CREATED: Check = Check {
    id: "windows.persistence.task",
    title: "Scheduled task created",
    attack: &["T1053.005"],
    severity: Severity::Medium,
    description: "Security 4698 and TaskScheduler 106: a new task; high when its action runs \
                  a shell, a script host, encoded PowerShell or a file in a user-writable \
                  folder.",
};
/// Suspicious PowerShell script block (4104).
pub const POWERSHELL: Check = Check {
    id: "windows.powershell.scriptblock",
    title: "Suspicious PowerShell script block",
    attack: &["T1059.001"],
    severity: Severity::Medium,
    description: "PowerShell 4104 script blocks with download cradles, decoding, reflection, \
                  AMSI bypasses, credential tools or Defender exclusions.",
};
/// WMI permanent event subscription (5861, Sysmon 19-21).
pub const WMI_PERSISTENCE: Check = Check {
    id: "windows.persistence.wmi",
    title: "WMI event subscription",
    attack: &["T1546.003"],
    severity: Severity::High,
    description: "WMI-Activity 5861 and Sysmon 19/20/21: a permanent event consumer runs code \
                  on a trigger, a fileless persistence.",
};
/// Defender disabled or detecting.
pub const DEFENDER: Check = Check {
    id: "windows.defense.defender",
    title: "Microsoft Defender disabled, weakened or detecting malware",
    attack: &["T1562.001"],
    severity: Severity::High,
    description: "Defender 5001/5010/5012 (protection off), 5007 (settings changed to disable \
                  or exclude), 1116/1117 (malware found or acted on).",
};

/// Every built-in check.
pub const CHECKS: &[Check] = &[
    ACCOUNT_CREATED,
    ACCOUNT_ENABLED,
    ACCOUNT_RENAMED,
    ADMIN_GROUP,
    BRUTE_FORCE,
    LOG_CLEARED,
    SERVICE_INSTALLED,
    TASK_CREATED,
    POWERSHELL,
    WMI_PERSISTENCE,
    DEFENDER,
];

/// One built-in check firing.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The check.
    pub check: Check,
    /// How bad.
    pub level: Severity,
    /// What happened, in one line.
    pub message: String,
    /// The event (for a burst, the last failure or the logon that followed).
    pub event: Arc<Event>,
    /// Remote address involved.
    pub ip: Option<String>,
    /// Account involved.
    pub account: Option<String>,
    /// A persistence mechanism left behind, in words.
    pub persistence: Option<String>,
    /// A successful logon by an attacker source (a storyline entry point).
    pub entry: bool,
}

fn is(ev: &Event, channel: &str, ids: &[u32]) -> bool {
    ev.channel.eq_ignore_ascii_case(channel) && ids.contains(&ev.event_id)
}

fn is_defender(ev: &Event) -> bool {
    ev.channel
        .eq_ignore_ascii_case("Microsoft-Windows-Windows Defender/Operational")
}

/// Whether, and how much of, an event the built-in checks need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Not needed.
    No,
    /// Needed whole.
    Full,
    /// Only its logon fields are needed: a Security log holds millions of logons, so they
    /// are kept slim (see [`slim_logon`]).
    Logon,
}

/// Fields of a 4624/4625 that the brute-force check reads and its report shows.
const LOGON_FIELDS: &[&str] = &[
    "TargetUserName",
    "TargetDomainName",
    "IpAddress",
    "IpPort",
    "WorkstationName",
    "LogonType",
    "AuthenticationPackageName",
];

/// A logon event with only [`LOGON_FIELDS`].
pub fn slim_logon(ev: &Event) -> Event {
    Event {
        fields: ev
            .fields
            .iter()
            .filter(|f| LOGON_FIELDS.contains(&&*f.name))
            .cloned()
            .collect(),
        ..ev.clone_header()
    }
}

/// What the built-in checks need of this event (the hunt keeps that much).
pub fn wants(ev: &Event) -> Want {
    if is(ev, SECURITY, &[4625]) {
        return if source_ip(ev).is_some() {
            Want::Logon
        } else {
            Want::No
        };
    }
    if is(ev, SECURITY, &[4624]) {
        let remote = matches!(field(ev, "LogonType"), "3" | "10") && source_ip(ev).is_some();
        return if remote { Want::Logon } else { Want::No };
    }
    let full = is(
        ev,
        SECURITY,
        &[4720, 4722, 4738, 4781, 4728, 4732, 4756, 1102, 4697, 4698],
    ) || is(ev, SYSTEM, &[104, 7045])
        || is(ev, "Microsoft-Windows-TaskScheduler/Operational", &[106])
        || is(ev, "Microsoft-Windows-PowerShell/Operational", &[4104])
        || is(ev, "Microsoft-Windows-WMI-Activity/Operational", &[5861])
        || is(ev, "Microsoft-Windows-Sysmon/Operational", &[19, 20, 21])
        || (is_defender(ev) && [5001, 5010, 5012, 5007, 1116, 1117].contains(&ev.event_id))
        || (ev
            .provider
            .eq_ignore_ascii_case("Microsoft-Windows-Eventlog")
            && ev.event_id == 104);
    if full { Want::Full } else { Want::No }
}

fn field<'a>(ev: &'a Event, name: &str) -> &'a str {
    ev.get(name).unwrap_or("").trim()
}

/// Who did it: `DOMAIN\user` from the subject fields.
fn subject(ev: &Event) -> String {
    let (d, u) = (field(ev, "SubjectDomainName"), field(ev, "SubjectUserName"));
    match (d.is_empty(), u.is_empty()) {
        (_, true) => "unknown".into(),
        (true, false) => u.into(),
        (false, false) => format!("{d}\\{u}"),
    }
}

/// Command lines that make a service or task suspicious, lower-case.
const SUSPICIOUS_COMMAND: &[&str] = &[
    "cmd.exe",
    "cmd /c",
    "%comspec%",
    "powershell",
    "pwsh",
    "-enc",
    "frombase64",
    "mshta",
    "rundll32",
    "regsvr32",
    "wscript",
    "cscript",
    "certutil",
    "bitsadmin",
    "\\temp\\",
    "\\appdata\\",
    "\\users\\public\\",
    "\\programdata\\",
    "\\perflogs\\",
    "admin$",
    "\\\\127.0.0.1",
    ".bat",
    ".vbs",
    ".ps1",
    ".hta",
    "http://",
    "https://",
];

fn suspicious_command(text: &str) -> Vec<&'static str> {
    let l = text.to_lowercase();
    SUSPICIOUS_COMMAND
        .iter()
        .filter(|s| l.contains(*s))
        .copied()
        .collect()
}

/// Script-block indicators, lower-case, with what each means.
const POWERSHELL_SIGNS: &[(&str, &str)] = &[
    ("downloadstring", "download cradle"),
    ("downloadfile", "download cradle"),
    ("net.webclient", "web client"),
    ("invoke-webrequest", "web request"),
    ("iwr ", "web request"),
    ("invoke-expression", "runs built strings"),
    ("iex(", "runs built strings"),
    ("iex ", "runs built strings"),
    ("frombase64string", "decodes base64"),
    ("gzipstream", "decompresses a payload"),
    ("reflection.assembly", "loads an assembly in memory"),
    ("[system.reflection", "reflection"),
    ("virtualalloc", "allocates executable memory"),
    ("amsiutils", "AMSI bypass"),
    ("amsiinitfailed", "AMSI bypass"),
    ("invoke-mimikatz", "credential theft"),
    ("sekurlsa", "credential theft"),
    ("invoke-shellcode", "shellcode"),
    ("powersploit", "offensive framework"),
    ("empire", "offensive framework"),
    ("add-mppreference", "Defender exclusion"),
    ("set-mppreference", "Defender settings"),
    ("-encodedcommand", "encoded command"),
    ("bypass", "execution-policy bypass"),
    ("get-gpppassword", "credential theft"),
    ("invoke-kerberoast", "credential theft"),
    ("new-object system.net.sockets.tcpclient", "reverse shell"),
];

/// Groups whose new members matter.
const PRIVILEGED_GROUPS: &[&str] = &[
    "administrators",
    "domain admins",
    "enterprise admins",
    "schema admins",
    "remote desktop users",
    "backup operators",
    "account operators",
    "dnsadmins",
    "group policy creator owners",
    "remote management users",
];

/// Failures from one source within this many seconds form a burst.
const BURST_WINDOW_SECS: i64 = 600;
/// Failures that make a burst.
const BURST_MIN_FAILURES: usize = 10;

/// Runs every check over a hunt's output (the events [`wants`] kept).
pub fn run(out: &crate::HuntOutput) -> Vec<Hit> {
    run_events(&out.builtin_events)
}

/// The per-event checks, over `events` in any order.
fn run_events(events: &[Arc<Event>]) -> Vec<Hit> {
    let mut sorted: Vec<&Arc<Event>> = events.iter().collect();
    sorted.sort_by_key(|e| (e.time_micros, e.file, e.record_id));
    let mut hits = Vec::new();
    let hit = |check: Check, level: Severity, message: String, ev: &Arc<Event>| Hit {
        check,
        level,
        message,
        event: Arc::clone(ev),
        ip: None,
        account: None,
        persistence: None,
        entry: false,
    };
    for ev in &sorted {
        let sec = |ids: &[u32]| is(ev, SECURITY, ids);
        if sec(&[4720]) {
            let name = field(ev, "TargetUserName");
            let hidden = name.ends_with('$');
            let mut h = hit(
                ACCOUNT_CREATED,
                if hidden {
                    Severity::Critical
                } else {
                    Severity::High
                },
                format!(
                    "account {name} created by {}{}",
                    subject(ev),
                    if hidden {
                        " (name ends in $: hidden from `net user`)"
                    } else {
                        ""
                    }
                ),
                ev,
            );
            h.account = Some(name.to_owned());
            h.persistence = Some(format!("account {name}"));
            hits.push(h);
        } else if sec(&[4722]) {
            let name = field(ev, "TargetUserName");
            let mut h = hit(
                ACCOUNT_ENABLED,
                Severity::Medium,
                format!("account {name} enabled by {}", subject(ev)),
                ev,
            );
            h.account = Some(name.to_owned());
            hits.push(h);
        } else if sec(&[4781]) {
            let (old, new) = (
                field(ev, "OldTargetUserName"),
                field(ev, "NewTargetUserName"),
            );
            let hidden = new.ends_with('$') && !old.ends_with('$');
            let mut h = hit(
                ACCOUNT_RENAMED,
                if hidden {
                    Severity::Critical
                } else {
                    Severity::High
                },
                format!("account {old} renamed to {new} by {}", subject(ev)),
                ev,
            );
            h.account = Some(new.to_owned());
            hits.push(h);
        } else if sec(&[4738]) {
            let name = field(ev, "TargetUserName");
            if name.ends_with('$') && !field(ev, "SamAccountName").is_empty() {
                let mut h = hit(
                    ACCOUNT_RENAMED,
                    Severity::High,
                    format!("account {name} changed (name ends in $) by {}", subject(ev)),
                    ev,
                );
                h.account = Some(name.to_owned());
                hits.push(h);
            }
        } else if sec(&[4728, 4732, 4756]) {
            let group = field(ev, "TargetUserName");
            if PRIVILEGED_GROUPS.contains(&group.to_lowercase().as_str()) {
                let member = match field(ev, "MemberName") {
                    "" | "-" => field(ev, "MemberSid"),
                    m => m,
                };
                let mut h = hit(
                    ADMIN_GROUP,
                    Severity::High,
                    format!("{member} added to {group} by {}", subject(ev)),
                    ev,
                );
                h.account = Some(member.to_owned());
                h.persistence = Some(format!("{member} in {group}"));
                hits.push(h);
            }
        } else if sec(&[1102]) || (ev.event_id == 104 && ev.channel.eq_ignore_ascii_case(SYSTEM)) {
            let log = match field(ev, "Channel") {
                c if !c.is_empty() && !c.eq_ignore_ascii_case(&ev.channel) => c.to_owned(),
                _ if ev.event_id == 1102 => "Security".to_owned(),
                _ => "a log".to_owned(),
            };
            let who = match field(ev, "SubjectUserName") {
                "" => subject(ev),
                u => u.to_owned(),
            };
            hits.push(hit(
                LOG_CLEARED,
                Severity::High,
                format!("{log} cleared by {who}"),
                ev,
            ));
        } else if is(ev, SYSTEM, &[7045]) || sec(&[4697]) {
            let name = field(ev, "ServiceName");
            let path = match field(ev, "ImagePath") {
                "" => field(ev, "ServiceFileName"),
                p => p,
            };
            let signs = suspicious_command(path);
            let mut h = hit(
                SERVICE_INSTALLED,
                if signs.is_empty() {
                    Severity::Medium
                } else {
                    Severity::High
                },
                format!(
                    "service {name} installed: {}{}",
                    firewarden_model::printable(path, 200),
                    why(&signs)
                ),
                ev,
            );
            h.persistence = Some(format!("service {name}"));
            hits.push(h);
        } else if sec(&[4698]) || is(ev, "Microsoft-Windows-TaskScheduler/Operational", &[106]) {
            let name = field(ev, "TaskName");
            let content = field(ev, "TaskContent");
            let signs = suspicious_command(content);
            let mut h = hit(
                TASK_CREATED,
                if signs.is_empty() {
                    Severity::Medium
                } else {
                    Severity::High
                },
                format!(
                    "task {name} created by {}{}",
                    match field(ev, "UserContext") {
                        "" => subject(ev),
                        u => u.to_owned(),
                    },
                    why(&signs)
                ),
                ev,
            );
            h.persistence = Some(format!("scheduled task {name}"));
            hits.push(h);
        } else if is(ev, "Microsoft-Windows-PowerShell/Operational", &[4104]) {
            let text = field(ev, "ScriptBlockText").to_lowercase();
            let mut signs: Vec<&str> = POWERSHELL_SIGNS
                .iter()
                .filter(|(s, _)| text.contains(s))
                .map(|(_, w)| *w)
                .collect();
            signs.dedup();
            if signs.len() >= 2
                || signs
                    .iter()
                    .any(|s| s.contains("credential") || s.contains("AMSI"))
            {
                hits.push(hit(
                    POWERSHELL,
                    if signs.len() >= 3 {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    format!("script block: {}", signs.join(", ")),
                    ev,
                ));
            }
        } else if is(ev, "Microsoft-Windows-WMI-Activity/Operational", &[5861])
            || is(ev, "Microsoft-Windows-Sysmon/Operational", &[19, 20, 21])
        {
            let what = ["Consumer", "Destination", "Name", "Query", "PossibleCause"]
                .iter()
                .map(|f| field(ev, f))
                .find(|v| !v.is_empty())
                .unwrap_or("");
            let mut h = hit(
                WMI_PERSISTENCE,
                Severity::High,
                format!(
                    "WMI subscription: {}",
                    firewarden_model::printable(what, 200)
                ),
                ev,
            );
            h.persistence = Some("WMI event subscription".into());
            hits.push(h);
        } else if is_defender(ev) {
            let (level, what) = match ev.event_id {
                5001 => (Severity::High, "real-time protection disabled".to_owned()),
                5010 => (Severity::High, "anti-spyware scanning disabled".to_owned()),
                5012 => (Severity::High, "anti-virus scanning disabled".to_owned()),
                1116 | 1117 => (
                    Severity::High,
                    format!(
                        "malware {}: {} in {}",
                        if ev.event_id == 1116 {
                            "detected"
                        } else {
                            "acted on"
                        },
                        field(ev, "Threat Name"),
                        field(ev, "Path")
                    ),
                ),
                5007 => {
                    let new = field(ev, "New Value").to_lowercase();
                    if ["disable", "exclusions"].iter().any(|s| new.contains(s)) {
                        (
                            Severity::High,
                            format!("setting changed: {}", field(ev, "New Value")),
                        )
                    } else {
                        continue;
                    }
                }
                _ => continue,
            };
            hits.push(hit(DEFENDER, level, what, ev));
        }
    }
    hits.extend(brute_force(&sorted));
    hits
}

fn why(signs: &[&str]) -> String {
    if signs.is_empty() {
        String::new()
    } else {
        format!(" (suspicious: {})", signs.join(", "))
    }
}

/// The remote source of a logon event kept for the brute-force check (4624/4625), if any.
pub fn logon_source(ev: &Event) -> Option<&str> {
    if !is(ev, SECURITY, &[4624, 4625]) {
        return None;
    }
    let ip = field(ev, "IpAddress");
    (!ip.is_empty() && ip != "-" && ip != "::1" && ip != "127.0.0.1").then_some(ip)
}

fn source_ip(ev: &Event) -> Option<String> {
    let ip = field(ev, "IpAddress");
    (!ip.is_empty() && ip != "-" && ip != "::1" && ip != "127.0.0.1").then(|| ip.to_owned())
}

/// Bursts of 4625 per source, and the first 4624 from that source after a burst.
fn brute_force(sorted: &[&Arc<Event>]) -> Vec<Hit> {
    // Bursts are time windows: events without a time cannot be placed in one.
    let sorted: Vec<&Arc<Event>> = sorted.iter().copied().filter(|e| e.time_known).collect();
    let mut failures: HashMap<String, Vec<&Arc<Event>>> = HashMap::new();
    for ev in sorted.iter().filter(|e| is(e, SECURITY, &[4625])) {
        if let Some(ip) = source_ip(ev) {
            failures.entry(ip).or_default().push(ev);
        }
    }
    // Remote logons per source, in time order (the input is sorted).
    let mut logons: HashMap<String, Vec<&Arc<Event>>> = HashMap::new();
    for ev in sorted.iter().filter(|e| is(e, SECURITY, &[4624])) {
        if matches!(field(ev, "LogonType"), "3" | "10")
            && let Some(ip) = source_ip(ev)
        {
            logons.entry(ip).or_default().push(ev);
        }
    }
    let mut hits = Vec::new();
    let mut sources: Vec<_> = failures.into_iter().collect();
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    for (ip, fails) in sources {
        // Largest number of failures inside any window.
        let (mut best, mut best_end, mut start) = (0usize, 0usize, 0usize);
        for end in 0..fails.len() {
            while fails[end].time_micros - fails[start].time_micros > BURST_WINDOW_SECS * 1_000_000
            {
                start += 1;
            }
            if end + 1 - start > best {
                best = end + 1 - start;
                best_end = end;
            }
        }
        if best < BURST_MIN_FAILURES {
            continue;
        }
        let first_fail = fails[0];
        let last = fails[best_end];
        let mut users: Vec<&str> = fails.iter().map(|e| field(e, "TargetUserName")).collect();
        users.sort_unstable();
        users.dedup();
        let kind = match field(last, "LogonType") {
            "10" => "RDP",
            "3" => "network (SMB/RDP with NLA)",
            _ => "logon",
        };
        let success = logons.get(&ip).and_then(|list| {
            let at = list.partition_point(|e| e.time_micros < first_fail.time_micros);
            list.get(at)
        });
        let mut h = Hit {
            check: BRUTE_FORCE,
            level: Severity::High,
            message: format!(
                "{} {kind} logon failures from {ip} ({best} within 10 minutes) against {} account(s): {}",
                fails.len(),
                users.len(),
                firewarden_model::printable(&users.join(", "), 120)
            ),
            event: Arc::clone(last),
            ip: Some(ip.clone()),
            account: None,
            persistence: None,
            entry: false,
        };
        if let Some(ok) = success {
            let user = field(ok, "TargetUserName").to_owned();
            h.level = Severity::Critical;
            h.message = format!(
                "{}; then {ip} logged on as {user} (type {})",
                h.message,
                field(ok, "LogonType")
            );
            h.event = Arc::clone(ok);
            h.account = Some(user);
            h.entry = true;
        }
        hits.push(h);
    }
    hits
}
