//! Web intrusions (checklist rows 41–47): webshells and malware found by the file scan
//! (`firewarden-scan`, built-in rules and heuristics), tampered pages, database dumps and who
//! downloaded them, and what the access logs say about the attacker.

use crate::check::{Check, CheckMeta};
use crate::context::Ctx;
use crate::web::AttackKind;
use firewarden_model::{EventKind, Evidence, Finding, Severity, TimelineEvent};
use std::path::Path;

/// Re-issues a scan finding under the running check's id, keeping everything it says.
fn rebrand(ctx: &Ctx, f: &Finding) -> Finding {
    let mut out = Finding::new(ctx.check.id, f.title.clone(), f.severity)
        .explain(f.explanation.clone())
        .recommend(f.recommendation.clone())
        .at_time(f.time);
    out.attack = f.attack.clone();
    for e in &f.evidence {
        let mut e = e.clone();
        // The scan records the owner's uid; triage knows the account names.
        if let Some(uid) = e.owner.as_deref().and_then(|o| o.parse::<u32>().ok())
            && let Some(name) = ctx.facts.user_name(uid)
        {
            e.owner = Some(format!("{uid}({name})"));
        }
        out = out.evidence(e);
    }
    out
}

/// Reports the shared scan's findings that `keep` selects (given the finding and whether its
/// file is under a web root) under the running check's id.
fn report_scan(ctx: &mut Ctx, keep: impl Fn(&Finding, bool) -> bool) {
    let (facts, src) = (ctx.facts, ctx.src);
    let web = facts.web(src);
    for f in web
        .scan
        .findings
        .iter()
        .filter(|f| keep(f, web.under_roots(f)))
    {
        let f = rebrand(ctx, f);
        ctx.report_with_event(f, EventKind::FileChange, None, None);
    }
}

fn is_code_finding(f: &Finding) -> bool {
    f.check.starts_with("scan.yara")
        || f.check.starts_with("scan.heuristic")
        || f.check.starts_with("scan.ioc")
}

/// Attack findings listed one by one; the rest are summarised per kind.
const MAX_ATTACK_FINDINGS: usize = 200;

/// Checklist row 43.
pub const WEBSHELL: Check = Check {
    meta: CheckMeta {
        id: "linux.web.webshell",
        title: "Webshells in web roots",
        attack: &["T1505.003"],
        severity: Severity::Critical,
        rows: &[43],
        live_state: false,
        walks_files: true,
        description: "Scans the web roots (defaults plus nginx `root`/`alias`, Apache `DocumentRoot`/`Alias` and Tomcat `appBase`/`docBase`) with the built-in YARA pack and the script heuristics: PHP/JSP/ASP(X) webshell families, request input reaching eval/system, decoder chains, names assembled from pieces, class loading from request data, PHP hidden in images.",
    },
    run: |ctx| {
        let (facts, src) = (ctx.facts, ctx.src);
        let web = facts.web(src);
        // The shared scan's warnings are reported once, here.
        for w in web.scan.warnings.iter().chain(&web.warnings) {
            ctx.warn(w.path.as_deref().map(Path::new), w.message.clone());
        }
        report_scan(ctx, |f, in_root| is_code_finding(f) && in_root);
        Ok(())
    },
};

/// Checklist row 41: malware, backdoors, miners and attacker tools in temp and home directories.
pub const MALWARE: Check = Check {
    meta: CheckMeta {
        id: "linux.files.malware",
        title: "Malware and attacker tools in temp and home directories",
        attack: &["T1105", "T1496", "T1014"],
        severity: Severity::High,
        rows: &[41],
        live_state: false,
        walks_files: true,
        description: "Scans /tmp, /var/tmp, /dev/shm, /root and /home with the built-in YARA pack: miners and their droppers, LKM and LD_PRELOAD rootkits, Linux backdoor families, reverse-shell scripts, tunnels and recon/credential tools, the mdrfckr SSH key.",
    },
    run: |ctx| {
        report_scan(ctx, |f, in_root| is_code_finding(f) && !in_root);
        Ok(())
    },
};

/// Checklist rows 46–47.
pub const TAMPERING: Check = Check {
    meta: CheckMeta {
        id: "linux.web.tampering",
        title: "Tampered web pages",
        attack: &["T1491.002", "T1189"],
        severity: Severity::High,
        rows: &[46, 47],
        live_state: false,
        walks_files: true,
        description: "Pages and settings in web roots: <script src> to bare IPs or after </html>, obfuscated script/iframe loaders, hidden iframes, hidden SEO spam links, search-engine cloaking, and .htaccess/.user.ini/php.ini auto_prepend_file, AddType/SetHandler and referer-redirect tricks. With a baseline, `firewarden baseline diff` shows every change.",
    },
    run: |ctx| {
        report_scan(ctx, |f, in_root| {
            f.check.starts_with("scan.tamper") && in_root
        });
        Ok(())
    },
};

/// Checklist row 42: "dragging".
pub const DUMP: Check = Check {
    meta: CheckMeta {
        id: "linux.web.dump",
        title: "Database dumps and site archives, and who downloaded them",
        attack: &["T1005", "T1560.001", "T1048"],
        severity: Severity::High,
        rows: &[42],
        live_state: false,
        walks_files: true,
        description: "mysqldump/MariaDB/pg_dump output, SQL data exports and archives in web roots and temp directories (gzip opened to look inside); each one in a web root is matched against the access logs: a 200 response for its path with a size close to the file's names the address and time it was taken. Dump commands in shell histories are reported by linux.logs.history_commands.",
    },
    run: |ctx| {
        let (facts, src) = (ctx.facts, ctx.src);
        let web = facts.web(src);
        let (dumps, hits) = (&web.scan.dumps, &web.hits_by_file);
        for f in web.scan.findings.iter().filter(|f| f.check == "scan.dump") {
            let path = f
                .evidence
                .first()
                .and_then(|e| e.path.clone())
                .unwrap_or_default();
            let dump = dumps
                .iter()
                .find(|d| firewarden_source::display_path(&d.path) == path);
            let downloads: Vec<_> = dump
                .and_then(|d| hits.get(&d.path).map(|v| (d, v)))
                .map(|(d, v)| {
                    v.iter()
                        .filter(|r| {
                            (200..300).contains(&r.request.status)
                                && close_in_size(r.request.bytes, d.size)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut f = rebrand(ctx, f);
            if let Some(first) = downloads.first() {
                let r = &first.request;
                f.severity = Severity::Critical;
                f.title = format!("Database dump downloaded by {}: {path}", r.ip);
                f.explanation.push_str(&format!(
                    " The access log shows it was downloaded: {} {} from {} at {} (status {}, {} bytes for a {}-byte file){}.",
                    r.method, r.target, r.ip, r.when(), r.status, r.bytes, dump.map(|d| d.size).unwrap_or(0),
                    if downloads.len() > 1 { format!(", and {} more time(s)", downloads.len() - 1) } else { String::new() }
                ));
                f = f.evidence(Evidence::at(first.source.clone()).excerpt(format!(
                    "{} {} {} {} {}",
                    r.ip, r.method, r.target, r.status, r.bytes
                )));
                f.time = r.time;
                let id = f.id.clone();
                // A request without a readable time stays in the finding, off the timeline.
                for (d, time) in downloads.iter().filter_map(|d| Some((d, d.request.time?))) {
                    ctx.event(TimelineEvent {
                        time,
                        kind: EventKind::WebRequest,
                        summary: format!(
                            "{} downloaded {} ({} bytes)",
                            d.request.ip, d.request.target, d.request.bytes
                        ),
                        source: d.source.clone(),
                        ip: Some(d.request.ip.clone()),
                        user: None,
                        finding: Some(id.clone()),
                        zone: None,
                    });
                }
                ctx.report(f);
            } else {
                ctx.report_with_event(f, EventKind::FileChange, None, None);
            }
        }
        Ok(())
    },
};

/// A response "close to" the file's size: whole, or compressed on the fly (gzip) down to a
/// tenth; a partial (range) download counts when it is most of the file.
fn close_in_size(sent: u64, size: u64) -> bool {
    if size == 0 {
        return sent == 0;
    }
    let ratio = sent as f64 / size as f64;
    (0.9..=1.1).contains(&ratio) || size > 64 << 10 && (0.05..0.9).contains(&ratio)
}

/// Checklist row 45: the access logs.
pub const ACCESS: Check = Check {
    meta: CheckMeta {
        id: "linux.web.access",
        title: "Web access logs: webshell use and attacks",
        attack: &["T1190", "T1505.003", "T1595.002"],
        severity: Severity::Critical,
        rows: &[45],
        live_state: false,
        walks_files: true,
        description: "Reads the access logs named by the nginx/Apache configuration and the usual log directories (plain and .gz, common and combined formats): the first request to each flagged webshell gives the attacker's address and the initial-access time for the storyline, POSTs to it are the commands; scanner user agents, SQL injection, path traversal and code-injection payloads (Log4Shell, Shellshock, Struts, ThinkPHP, PHPUnit) are summarised per address.",
    },
    run: |ctx| {
        let (facts, src) = (ctx.facts, ctx.src);
        let web = facts.web(src);
        let flagged = web
            .hits_by_file
            .iter()
            .filter(|(p, _)| !web.scan.dumps.iter().any(|d| &d.path == *p));
        if web.unparsed > 0 {
            let n = web.unparsed;
            ctx.warn(
                None,
                format!("{n} access-log lines were not in common/combined format and were skipped"),
            );
        }
        for (path, requests) in flagged {
            let ok: Vec<_> = requests.iter().filter(|r| r.request.status < 400).collect();
            let Some(first) = ok.first() else { continue };
            let r = &first.request;
            let mut ips: Vec<&str> = ok.iter().map(|x| x.request.ip.as_str()).collect();
            ips.sort_unstable();
            ips.dedup();
            let posts = ok.iter().filter(|x| x.request.method == "POST").count();
            let last = ok
                .iter()
                .rev()
                .find_map(|x| x.request.time)
                .map_or_else(|| r.when(), |t| t.to_string());
            let shown = firewarden_source::display_path(path);
            let f = ctx
                .finding(format!("Webshell {shown} first used from {} at {}", r.ip, r.when()))
                .explain(format!(
                    "{} requests reached {shown}, a file the scan flagged, from {} address(es) ({}) between {} and {last}; {posts} were POSTs (commands sent to the shell). The first request is the earliest sign of the attacker on the web side.",
                    ok.len(), ips.len(), ips.iter().take(5).copied().collect::<Vec<_>>().join(", "), r.when()
                ))
                .recommend("Block the addresses, preserve the logs, and look at what the application logged just before the first request: that is how the file got there (upload, exploit, stolen credentials).")
                .evidence(Evidence::at(first.source.clone()).excerpt(format!("{} {} {} {} {}", r.ip, r.method, r.target, r.status, r.user_agent)))
                .evidence(ctx.file_evidence(path))
                .at_time(r.time);
            let id = f.id.clone();
            for (i, x) in ok.iter().enumerate().take(200) {
                let Some(time) = x.request.time else { continue };
                ctx.event(TimelineEvent {
                    time,
                    kind: EventKind::WebRequest,
                    summary: format!(
                        "{}{} {} {} → {}",
                        if i == 0 {
                            "first request to webshell: "
                        } else {
                            ""
                        },
                        x.request.ip,
                        x.request.method,
                        x.request.target,
                        x.request.status
                    ),
                    source: x.source.clone(),
                    ip: Some(x.request.ip.clone()),
                    user: None,
                    finding: Some(id.clone()),
                    zone: None,
                });
            }
            ctx.report(f);
        }
        // One finding per attacking (address, kind), heaviest first, up to a cap; the rest of
        // each kind in one summary (a botnet's million one-request addresses is one fact).
        let rank = |kind: AttackKind, s: &crate::web::AttackSummary| match (kind, s.succeeded > 0) {
            (AttackKind::Scanner, _) => Severity::Low,
            (AttackKind::CodeInjection, true) => Severity::High,
            (_, true) => Severity::Medium,
            (_, false) => Severity::Low,
        };
        let mut ordered: Vec<(&(String, AttackKind), &crate::web::AttackSummary)> =
            web.attacks.iter().collect();
        ordered.sort_by(|(ka, a), (kb, b)| {
            rank(kb.1, b)
                .cmp(&rank(ka.1, a))
                .then(b.count.cmp(&a.count))
                .then(ka.cmp(kb))
        });
        let mut rest: std::collections::BTreeMap<AttackKind, (u64, u64)> = Default::default();
        for (n, ((ip, kind), s)) in ordered.into_iter().enumerate() {
            if n >= MAX_ATTACK_FINDINGS {
                let e = rest.entry(*kind).or_default();
                e.0 += 1;
                e.1 += s.count;
                continue;
            }
            let kind = *kind;
            let severity = rank(kind, s);
            let r = &s.first.request;
            let mut f = ctx
                .finding(format!("{} from {ip}: {} request(s)", kind.describe(), s.count))
                .explain(format!(
                    "{ip} sent {} request(s) that look like {} between {} and {}; {} got a 2xx answer. First: {} {}.",
                    s.count, kind.describe(), r.when(), s.last.map_or_else(|| "time unknown".to_owned(), |t| t.to_string()), s.succeeded, r.method, firewarden_model::printable(&r.target, 200)
                ))
                .recommend("Check whether any of these succeeded (application logs, new files in the web root around these times); block the address if it keeps coming.")
                .evidence(Evidence::at(s.first.source.clone()).excerpt(format!("{} {} {} {}", r.ip, r.method, r.target, r.status)))
                .at_time(r.time);
            f.severity = severity;
            f.attack = vec![
                if kind == AttackKind::Scanner {
                    "T1595.002"
                } else {
                    "T1190"
                }
                .to_string(),
            ];
            ctx.report(f);
        }
        for (kind, (addresses, requests)) in rest {
            let mut f = ctx
                .finding(format!(
                    "{} from {addresses} more address(es): {requests} request(s)",
                    kind.describe()
                ))
                .explain(format!(
                    "Besides the {MAX_ATTACK_FINDINGS} heaviest attackers listed one by one, {addresses} other addresses sent {requests} request(s) that look like {}: a distributed scan or botnet.{}",
                    kind.describe(),
                    if web.shed_attackers.0 > 0 {
                        format!(" {} more light (address, kind) pairs were only counted (see the warnings).", web.shed_attackers.0)
                    } else {
                        String::new()
                    }
                ))
                .recommend("Look at the listed attackers first; rate-limit or block at the edge.");
            f.severity = Severity::Low;
            ctx.report(f);
        }
        Ok(())
    },
};
