//! Exposed services used as the way in (checklist row 51).

use super::read_config;
use crate::check::{Check, CheckMeta};
use crate::context::Ctx;
use firewarden_model::Severity;
use std::path::Path;

fn directive<'a>(text: &'a str, key: &str) -> Vec<(u64, &'a str)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let t = l.trim();
            let mut w = t.splitn(2, char::is_whitespace);
            (w.next()? == key).then(|| (i as u64 + 1, w.next().unwrap_or("").trim()))
        })
        .collect()
}

fn report(
    ctx: &mut Ctx,
    (path, line, excerpt): (&Path, u64, &str),
    title: String,
    why: &str,
    fix: &str,
    sev: Severity,
) {
    let mut f = ctx
        .finding(title)
        .explain(why.to_string())
        .recommend(fix.to_string())
        .evidence(ctx.file_evidence(path).line(line).excerpt(excerpt));
    f.severity = sev;
    ctx.report(f);
}

/// Checklist row 51.
pub const EXPOSED: Check = Check {
    meta: CheckMeta {
        id: "linux.services.exposed_datastore",
        title: "Data stores and debug ports exposed without authentication",
        attack: &["T1190", "T1098.004"],
        severity: Severity::High,
        rows: &[51],
        live_state: false,
        walks_files: false,
        description: "Redis listening beyond localhost without a password (the classic way in: CONFIG SET dir /root/.ssh), MongoDB and Elasticsearch bound to all interfaces without auth, the Docker API on TCP, and JDWP or `python -m http.server` in running processes.",
    },
    run: |ctx| {
        for p in [
            "/etc/redis/redis.conf",
            "/etc/redis.conf",
            "/usr/local/etc/redis.conf",
            "/etc/redis/6379.conf",
        ] {
            let path = Path::new(p);
            let Some(text) = read_config(ctx, path) else {
                continue;
            };
            let binds = directive(&text, "bind");
            let public = binds.is_empty()
                || binds.iter().any(|(_, v)| {
                    v.split_whitespace().any(|a| {
                        a == "0.0.0.0"
                            || a == "*"
                            || a == "::"
                            || a == "-::*"
                            || !(a.starts_with("127.")
                                || a == "::1"
                                || a == "-::1"
                                || a == "localhost")
                    })
                });
            let protected_off = directive(&text, "protected-mode")
                .iter()
                .any(|(_, v)| *v == "no");
            let pass = !directive(&text, "requirepass").is_empty()
                || text.contains("\nuser ") && text.contains('>');
            if public && !pass && (protected_off || !binds.is_empty()) {
                let (line, ex) = binds
                    .first()
                    .map(|(l, v)| (*l, format!("bind {v}")))
                    .unwrap_or((1, "no bind directive".into()));
                report(
                    ctx,
                    (path, line, &ex),
                    "Redis reachable from the network without a password".into(),
                    "Redis listens on a public address and has no requirepass: anyone can connect, and with CONFIG SET dir/dbfilename write files such as /root/.ssh/authorized_keys or a crontab as the redis user (often root). Botnets scan for this constantly.",
                    "Bind Redis to 127.0.0.1, set requirepass, rename CONFIG, and check authorized_keys and crontabs for Redis dump content.",
                    Severity::Critical,
                );
            }
            for (line, v) in directive(&text, "dir") {
                if v.contains(".ssh") || v.contains("cron") || v.contains("/etc") {
                    report(
                        ctx,
                        (path, line, &format!("dir {v}")),
                        format!("Redis data directory set to {v}"),
                        "Redis writes its dump into this directory: an attacker set it so the dump lands as an SSH key or cron file.",
                        "Restore the directory to /var/lib/redis and remove the planted file.",
                        Severity::Critical,
                    );
                }
            }
        }
        for p in ["/etc/mongod.conf", "/etc/mongodb.conf"] {
            let path = Path::new(p);
            let Some(text) = read_config(ctx, path) else {
                continue;
            };
            let open = text
                .lines()
                .any(|l| l.contains("bindIp") && (l.contains("0.0.0.0") || l.contains("::")))
                || text.contains("bind_ip_all: true");
            let auth = text.contains("authorization: enabled")
                || text.contains("authorization: \"enabled\"")
                || text.contains("auth = true");
            if open && !auth {
                report(
                    ctx,
                    (path, 1, "bindIp 0.0.0.0, no authorization"),
                    "MongoDB on all interfaces without authorization".into(),
                    "Anyone who reaches the port can read, dump or delete every database (the ransom-note wave of 2017 used exactly this).",
                    "Enable security.authorization and bind to localhost or a private address.",
                    Severity::High,
                );
            }
        }
        for p in ["/etc/elasticsearch/elasticsearch.yml"] {
            let path = Path::new(p);
            let Some(text) = read_config(ctx, path) else {
                continue;
            };
            if text.lines().any(|l| {
                l.trim_start().starts_with("network.host")
                    && (l.contains("0.0.0.0") || l.contains("_site_") || l.contains("_global_"))
            }) && !text.contains("xpack.security.enabled: true")
            {
                report(
                    ctx,
                    (path, 1, "network.host 0.0.0.0"),
                    "Elasticsearch on a public address without security".into(),
                    "Without xpack security anyone who reaches port 9200 can read and dump every index.",
                    "Enable xpack.security and restrict network.host.",
                    Severity::High,
                );
            }
        }
        let docker_files = [
            "/etc/docker/daemon.json",
            "/lib/systemd/system/docker.service",
            "/etc/systemd/system/docker.service",
            "/etc/default/docker",
        ];
        for p in docker_files {
            let path = Path::new(p);
            let Some(text) = read_config(ctx, path) else {
                continue;
            };
            for (i, l) in text.lines().enumerate() {
                if (l.contains("tcp://0.0.0.0") || l.contains("tcp://:"))
                    && !l.contains("tlsverify")
                    && !text.contains("\"tlsverify\": true")
                {
                    report(
                        ctx,
                        (path, i as u64 + 1, l.trim()),
                        "Docker API exposed on TCP without TLS".into(),
                        "The Docker API on a TCP port without TLS client auth gives root on the host to anyone who reaches it (start a privileged container, mount /).",
                        "Remove the tcp:// listener or enable tlsverify.",
                        Severity::Critical,
                    );
                }
            }
        }
        if let Some(live) = ctx.facts.live(ctx.src) {
            let procs: Vec<_> = live
                .processes
                .iter()
                .map(|p| (p.pid, p.command()))
                .collect();
            for (pid, cmd) in procs {
                let jdwp = cmd.contains("jdwp")
                    && cmd.contains("server=y")
                    && !cmd.contains("address=127.0.0.1")
                    && !cmd.contains("address=localhost");
                let http = (cmd.contains("-m http.server") || cmd.contains("-m SimpleHTTPServer"))
                    && !cmd.contains("--bind 127.0.0.1");
                if jdwp || http {
                    let mut f = ctx
                        .finding(format!("Process {pid} exposes {}", if jdwp { "a Java debug port (JDWP)" } else { "a directory over HTTP (python http.server)" }))
                        .explain(if jdwp { "JDWP accepts arbitrary code from anyone who connects: remote code execution by design." } else { "A throwaway Python web server publishes a directory to the network; attackers use it to stage tools and to exfiltrate data." })
                        .recommend("Stop it unless the owner needs it, and check what was downloaded from it.")
                        .evidence(firewarden_model::Evidence::process(pid).excerpt(&cmd));
                    f.severity = if jdwp {
                        Severity::High
                    } else {
                        Severity::Medium
                    };
                    ctx.report(f);
                }
            }
        }
        Ok(())
    },
};
