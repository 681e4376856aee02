//! `firewarden case`: open cases, push results into them, walk them through their stages.

use crate::remote::{Conn, block_on, columns, field};
use anyhow::{Context, Result};
use firewarden_client::{ClientError, Method, query_value};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;

/// Work with cases on a Firewarden server.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  firewarden case new --tenant T1a2b… --title \"web01 webshell\" --kind webshell --severity high\n  firewarden case list\n  firewarden case show C9f…\n  firewarden case push --case C9f… triage.json web01.fwb case-42.journal --key responder.pub\n  firewarden case set C9f… --entry-point \"CVE-2026-1234 in the upload form\"\n  firewarden case stage C9f…                 # the checklist to leave the stage\n  firewarden case stage C9f… --advance\n  firewarden case stage C9f… --advance --override \"host rebuilt from image\"\n  firewarden case ack C9f…                   # stops the acknowledgement clock\n  firewarden case checkin C9f… --on-site --place \"Acme HQ, server room\"\n  firewarden case sla C9f…                   # each SLA clock, time left or achieved\n  firewarden case report C9f… --lang zh -o report.pdf   # signed, kept with the case (html, md, json, pdf)\n  firewarden case approvals C9f…             # requests to act on the case's hosts\n  firewarden case decide C9f… R3c… --approve < password   # the customer's authoriser\n\nA bundle's custody ledger (FILE.custody) is sent with it. The kind of each file is\nrecognised by the server from its content."
)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    conn: Conn,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Open a case.
    New {
        /// The customer (tenant id).
        #[arg(long)]
        tenant: String,
        /// What happened, in a line.
        #[arg(long)]
        title: String,
        /// intrusion, virus_outbreak, trojan, backdoor, webshell, data_dumping, page_tampering, cryptominer, other.
        #[arg(long)]
        kind: String,
        /// info, low, medium, high, critical.
        #[arg(long)]
        severity: String,
    },
    /// List the cases you see.
    List,
    /// Show one case.
    Show {
        /// Case id.
        id: String,
    },
    /// Push triage, scan or hunt results, bundles and action journals into a case.
    Push {
        /// Case id.
        #[arg(long = "case")]
        case: String,
        /// The host they are about (default: the host named in the file).
        #[arg(long)]
        asset: Option<String>,
        /// Public key of the journals' signer (`actions --export --key`): a journal is sent
        /// with its FILE.sig, and only signed journals count for the gates.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Files to push.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Record the entry-point hypothesis, the customer's authority, or change the case.
    Set {
        /// Case id.
        id: String,
        /// How the attacker got in (hypothesis).
        #[arg(long)]
        entry_point: Option<String>,
        /// Who authorised the engagement, its scope and legal basis.
        #[arg(long)]
        authority: Option<String>,
        /// New title.
        #[arg(long)]
        title: Option<String>,
        /// New severity.
        #[arg(long)]
        severity: Option<String>,
    },
    /// Show the stage's exit checklist, or leave the stage.
    Stage {
        /// Case id.
        id: String,
        /// Leave the stage (its checklist must pass, or --override).
        #[arg(long)]
        advance: bool,
        /// Leave it over unmet criteria, with the reason (leads and admins; recorded).
        #[arg(long, requires = "advance")]
        r#override: Option<String>,
    },
    /// Acknowledge the case: stops its acknowledgement SLA clock.
    Ack {
        /// Case id.
        id: String,
    },
    /// Say you started analysing remotely or arrived on site: stops that SLA clock.
    Checkin {
        /// Case id.
        id: String,
        /// Arrived on site.
        #[arg(long, conflicts_with = "remote", required_unless_present = "remote")]
        on_site: bool,
        /// Started remote analysis.
        #[arg(long)]
        remote: bool,
        /// Where (site, room); shown on the timeline and in the report.
        #[arg(long, default_value = "")]
        place: String,
    },
    /// The SLA clocks: each target, where it stands, time left or achieved (exit 1 once a
    /// target was breached).
    Sla {
        /// Case id.
        id: String,
    },
    /// The case's indicators, each with where else it was seen (counts of other incidents and
    /// customers, never which; this customer's own open cases by id); or exported.
    Iocs {
        /// Case id.
        id: String,
        /// Write them as a STIX 2.1 bundle instead (to -o).
        #[arg(long, conflicts_with = "csv", requires = "output")]
        stix: bool,
        /// Write them as CSV instead (to -o).
        #[arg(long, requires = "output")]
        csv: bool,
        /// Where to write an export (must not exist).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Add an indicator by hand; it is hunted in this customer's other open cases at once.
    Ioc {
        /// Case id.
        id: String,
        /// ipv4, ipv6, domain, url, md5, sha1, sha256, path or account.
        kind: String,
        /// The value (defanged forms like 198.51.100[.]7 and hxxp:// are taken).
        value: String,
    },
    /// The business-loss evaluation: services, downtime, loss ranges, totals, rating.
    Loss {
        /// Case id.
        id: String,
        /// Write the case as a VERIS 1.4 incident record (JSON) to -o instead.
        #[arg(long, requires = "output")]
        veris: bool,
        /// Where to write the VERIS record (must not exist).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Record a business service: its criticality, cost per hour down, and its assets.
    Service {
        /// Case id.
        id: String,
        /// The service's name.
        name: String,
        /// low, medium, high or critical.
        #[arg(long, value_parser = ["low", "medium", "high", "critical"])]
        criticality: String,
        /// What an hour of it down costs (whole units).
        #[arg(long)]
        cost_per_hour: u64,
        /// ISO 4217 currency code.
        #[arg(long)]
        currency: String,
        /// The assets it runs on (comma-separated).
        #[arg(long, value_delimiter = ',')]
        assets: Vec<String>,
    },
    /// Record a stretch of downtime of an asset (RFC 3339 times).
    Downtime {
        /// Case id.
        id: String,
        /// The asset.
        asset: String,
        /// When it went down.
        #[arg(long)]
        from: String,
        /// When it came back (leave out: still down).
        #[arg(long)]
        until: Option<String>,
        /// What it was.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record the loss range of a VERIS loss variety.
    LossSet {
        /// Case id.
        id: String,
        /// asset_and_fraud, brand_damage, business_disruption, competitive_advantage,
        /// legal_and_regulatory, operating_costs or response_and_recovery.
        variety: String,
        /// Minimum (whole units).
        #[arg(long)]
        min: u64,
        /// Most likely.
        #[arg(long)]
        likely: u64,
        /// Maximum.
        #[arg(long)]
        max: u64,
        /// ISO 4217 currency code.
        #[arg(long)]
        currency: String,
        /// How it was estimated.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Set the overall rating: insignificant, distracting, painful, damaging, catastrophic, unknown.
    Rating {
        /// Case id.
        id: String,
        /// The rating.
        rating: String,
    },
    /// Add indicators from a STIX 2.1 bundle, a MISP event or a list of {type, value} (JSON).
    IocImport {
        /// Case id.
        id: String,
        /// The file.
        file: PathBuf,
    },
    /// Export the case's whole timeline for Timesketch (JSON lines: message, datetime,
    /// timestamp_desc, zone, source, actor).
    Timeline {
        /// Case id.
        id: String,
        /// Where to write it (must not exist).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Make the signed summary report from the case's data, keep it with the case and save it.
    Report {
        /// Case id.
        id: String,
        /// html (one self-contained file), md, json, or pdf (printed by the server's Chromium);
        /// by default from the output file's extension, else html. (`--format` is the answer's.)
        #[arg(long = "as", value_name = "FORMAT", value_parser = ["html", "md", "json", "pdf"])]
        report_format: Option<String>,
        /// en or zh.
        #[arg(long, default_value = "en", value_parser = ["en", "zh"])]
        lang: String,
        /// Where to save it (must not exist).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Requests to run actions on the case's hosts: pending, approved, denied, expired.
    Approvals {
        /// Case id.
        id: String,
    },
    /// Approve or deny a pending request (your password is asked again, on standard input).
    Decide {
        /// Case id.
        id: String,
        /// Request id, as `case approvals` shows it.
        request: String,
        /// Approve it.
        #[arg(long, conflicts_with = "deny", required_unless_present = "deny")]
        approve: bool,
        /// Deny it (--reason required).
        #[arg(long, requires = "reason")]
        deny: bool,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Grant a scope ahead (the customer's authoriser; your password on standard input):
    /// responders may act within it offline.
    Preauthorise {
        /// Case id.
        id: String,
        /// Host patterns it covers (`web*`), comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        hosts: Vec<String>,
        /// Host patterns it never covers (`db*`), comma-separated.
        #[arg(long = "never", value_delimiter = ',')]
        never_hosts: Vec<String>,
        /// Action kinds it covers (`contain.network`…), comma-separated; none: any.
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<String>,
        /// The highest risk it covers: low, medium or high.
        #[arg(long, default_value = "high")]
        max_risk: String,
        /// For how many hours.
        #[arg(long, default_value_t = 72)]
        hours: u32,
    },
    /// Withdraw a scope granted ahead before it expires (the customer's authoriser or a lead;
    /// your password on standard input). Hosts that saved the grants before keep their file:
    /// tell their responders, or grant short scopes.
    Revoke {
        /// Case id.
        id: String,
        /// The grant's id (`case preauths` lists them).
        grant: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// The scopes granted ahead; `--save FILE` keeps the live ones (with the server's key) for
    /// a host without network (`contain … --preauth FILE`).
    Preauths {
        /// Case id.
        id: String,
        /// Write them, with the server's public key, to this file.
        #[arg(long)]
        save: Option<PathBuf>,
    },
    /// Waive a gate criterion, with the reason (leads and admins).
    Waive {
        /// Case id.
        id: String,
        /// Criterion id, as `case stage` shows it.
        criterion: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

async fn checkin(
    client: &firewarden_client::Client,
    id: &str,
    clock: &str,
    place: &str,
) -> Result<Value, ClientError> {
    client
        .call(
            Method::POST,
            &format!("/api/v1/cases/{}/checkins", query_value(id)),
            Some(&json!({"clock": clock, "place": place})),
        )
        .await
}

fn checkin_text(c: &Value) -> String {
    let what = match c["clock"].as_str() {
        Some("acknowledge") => "acknowledged the case",
        Some("remote_start") => "started remote analysis",
        _ => "arrived on site",
    };
    format!(
        "{} {what} at {}{}\n",
        field(c, "by"),
        field(c, "at"),
        match c["place"].as_str() {
            Some(p) if !p.is_empty() => format!(" ({})", firewarden_model::printable(p, 200)),
            _ => String::new(),
        }
    )
}

/// Seconds as `1 h 05 min`, `12 min`, `-3 min` (overdue).
fn duration_text(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let minutes = seconds.unsigned_abs() / 60;
    match minutes / 60 {
        0 => format!("{sign}{minutes} min"),
        h => format!("{sign}{h} h {:02} min", minutes % 60),
    }
}

fn sla_text(sla: &Value) -> String {
    let clocks = sla["clocks"].as_array().cloned().unwrap_or_default();
    if clocks.is_empty() {
        return "no SLA: the tenant's contract sets no targets\n".into();
    }
    let rows: Vec<Vec<String>> = clocks
        .iter()
        .map(|c| {
            let seconds = |k: &str| c[k].as_i64().map(duration_text).unwrap_or_default();
            vec![
                field(c, "kind").replace('_', " "),
                format!("{} min", c["target_minutes"]),
                field(c, "state").replace('_', " "),
                field(c, "due"),
                match c.get("seconds_left") {
                    Some(_) => format!("{} left", seconds("seconds_left")),
                    None => format!("took {}", seconds("achieved_seconds")),
                },
            ]
        })
        .collect();
    let mut out = columns(&["CLOCK", "TARGET", "STATE", "DUE", "TIME"], &rows);
    if let Some(at) = sla["breached"].as_str() {
        out.push_str(&format!("breached: first recorded at {at}\n"));
    }
    out
}

fn approvals_text(list: &Value) -> String {
    let rows: Vec<Vec<String>> = list
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    vec![
                        field(r, "id"),
                        field(r, "state"),
                        field(r, "risk"),
                        field(r, "requirement").replace('_', " "),
                        field(r, "host"),
                        field(&r["plan"], "title"),
                        field(r, "requested_by"),
                        field(r, "expires"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    columns(
        &[
            "REQUEST", "STATE", "RISK", "NEEDS", "HOST", "ACTION", "BY", "EXPIRES",
        ],
        &rows,
    )
}

fn case_rows(list: &Value) -> String {
    let rows: Vec<Vec<String>> = list
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    vec![
                        field(c, "id"),
                        field(c, "tenant"),
                        field(c, "stage"),
                        field(c, "severity"),
                        field(c, "kind"),
                        field(c, "title"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    columns(
        &["ID", "TENANT", "STAGE", "SEVERITY", "KIND", "TITLE"],
        &rows,
    )
}

fn show_case(c: &Value) -> String {
    let mut s = String::new();
    for key in [
        "id",
        "title",
        "tenant",
        "kind",
        "severity",
        "stage",
        "status",
        "tlp",
        "pap",
        "entry_point",
        "authority",
        "version",
    ] {
        s.push_str(&format!("{key:<12} {}\n", field(c, key)));
    }
    s
}

fn checklist_text(view: &Value) -> String {
    let mut s = String::new();
    if let Some(c) = view.get("case") {
        s.push_str(&format!(
            "case {} — stage {} (version {})\n",
            field(c, "id"),
            field(c, "stage"),
            field(c, "version")
        ));
    }
    let list = view.get("checklist").unwrap_or(view);
    match list.get("criteria").and_then(|c| c.as_array()) {
        Some(criteria) => {
            for c in criteria {
                let met = c.get("met").and_then(Value::as_bool).unwrap_or(false);
                s.push_str(&format!(
                    "  [{}] {}: {} — {}\n",
                    if met { "x" } else { " " },
                    field(c, "id"),
                    field(c, "text"),
                    field(c, "detail")
                ));
            }
        }
        None => s.push_str("  the case is closed\n"),
    }
    s
}

/// The host a result names, for `--asset` left out.
fn asset_of(file: &std::path::Path) -> Option<String> {
    let f = std::fs::File::open(file).ok()?;
    let mut head = Vec::new();
    use std::io::Read;
    f.take(1 << 20).read_to_end(&mut head).ok()?;
    // Reports carry `"hostname": "…"` in their source; journals `"host": "…"` on each line.
    let text = String::from_utf8_lossy(&head);
    for key in ["\"hostname\":", "\"host\":"] {
        if let Some(i) = text.find(key) {
            let rest = text[i + key.len()..].trim_start();
            let rest = rest.strip_prefix('"')?;
            let end = rest.find('"')?;
            let name = &rest[..end];
            if !name.is_empty() && name.len() < 256 {
                return Some(name.to_owned());
            }
        }
    }
    None
}

pub fn run(args: Args) -> Result<ExitCode> {
    let client = args.conn.client()?;
    let conn = args.conn.clone();
    block_on(async move {
        match args.action {
            Action::New {
                tenant,
                title,
                kind,
                severity,
            } => {
                let body = json!({"tenant": tenant, "title": title, "kind": kind.replace('-', "_"), "severity": severity});
                let c = client
                    .call(Method::POST, "/api/v1/cases", Some(&body))
                    .await?;
                conn.print(&c, show_case);
            }
            Action::List => {
                let list = client.get("/api/v1/cases").await?;
                conn.print(&list, case_rows);
            }
            Action::Show { id } => {
                let c = client
                    .get(&format!("/api/v1/cases/{}", query_value(&id)))
                    .await?;
                conn.print(&c, show_case);
            }
            Action::Push {
                case,
                asset,
                key,
                files,
            } => {
                let signer = key
                    .as_deref()
                    .map(firewarden_evidence::PublicKey::load)
                    .transpose()?;
                let mut all = Vec::new();
                let mut failed = false;
                // A bundle is compressed: its host is taken from the other files of the push
                // (a responder pushes one host's results together), or --asset.
                let named: Vec<Option<String>> = files.iter().map(|f| asset_of(f)).collect();
                let common = named.iter().flatten().next().cloned();
                for (file, own) in files.iter().zip(named) {
                    let asset = match asset.clone().or(own).or_else(|| common.clone()) {
                        Some(a) => a,
                        None => anyhow::bail!(
                            "{}: no host name in it; say which host with --asset",
                            file.display()
                        ),
                    };
                    let ledger_path = firewarden_evidence::custody::ledger_path(file);
                    let ledger = if ledger_path.is_file() {
                        std::fs::read(&ledger_path)
                            .with_context(|| format!("cannot read {}", ledger_path.display()))?
                    } else {
                        Vec::new()
                    };
                    let mut path = format!(
                        "/api/v1/cases/{}/imports?asset={}",
                        query_value(&case),
                        query_value(&asset)
                    );
                    if !ledger.is_empty() {
                        path.push_str(&format!("&ledger_bytes={}", ledger.len()));
                    }
                    let mut sig_path = file.as_os_str().to_os_string();
                    sig_path.push(".sig");
                    let sig_path = PathBuf::from(sig_path);
                    match (&signer, sig_path.is_file()) {
                        (Some(public), true) => {
                            let sig = std::fs::read(&sig_path)
                                .with_context(|| format!("cannot read {}", sig_path.display()))?;
                            path.push_str(&format!(
                                "&signer={}&signature={}",
                                public.to_hex(),
                                firewarden_evidence::encoding::hex(&sig)
                            ));
                        }
                        (None, true) => eprintln!(
                            "{}: signed ({}), but without --key the server cannot check it: its actions will not count for the gates",
                            file.display(),
                            sig_path.display()
                        ),
                        _ => {}
                    }
                    match client.upload(&path, ledger, file).await {
                        Ok(v) => {
                            if conn.format == crate::remote::OutFormat::Table {
                                println!(
                                    "{}: {} for {asset}: {} new finding(s), {} known, {} event(s), {} new IOC(s), {} action(s){}",
                                    file.display(),
                                    field(&v, "kind"),
                                    v["findings"]["new_findings"],
                                    v["findings"]["known_findings"],
                                    v["timeline_events"],
                                    v["new_iocs"],
                                    v["actions"],
                                    v.get("evidence")
                                        .and_then(Value::as_str)
                                        .map(|e| format!(", evidence {e}"))
                                        .unwrap_or_default()
                                );
                                // Imports from tools short of validated are taken, flagged.
                                for flag in v["flags"].as_array().into_iter().flatten() {
                                    eprintln!(
                                        "{}: flagged: {}",
                                        file.display(),
                                        firewarden_model::printable(
                                            flag.as_str().unwrap_or_default(),
                                            300
                                        )
                                    );
                                }
                            }
                            all.push(json!({"file": file.display().to_string(), "result": v}));
                        }
                        Err(ClientError::Refused { status, reason, .. }) => {
                            eprintln!("{}: refused ({status}): {reason}", file.display());
                            all.push(json!({"file": file.display().to_string(), "error": reason, "status": status}));
                            failed = true;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                if conn.format == crate::remote::OutFormat::Json {
                    println!("{}", serde_json::to_string_pretty(&all)?);
                }
                return Ok(if failed {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                });
            }
            Action::Set {
                id,
                entry_point,
                authority,
                title,
                severity,
            } => {
                let path = format!("/api/v1/cases/{}", query_value(&id));
                let current = client.get(&path).await?;
                let mut body = json!({"version": current["version"]});
                for (k, v) in [
                    ("entry_point", entry_point),
                    ("authority", authority),
                    ("title", title),
                    ("severity", severity),
                ] {
                    if let Some(v) = v {
                        body[k] = v.into();
                    }
                }
                let c = client.call(Method::PATCH, &path, Some(&body)).await?;
                conn.print(&c, show_case);
            }
            Action::Stage {
                id,
                advance,
                r#override,
            } => {
                let path = format!("/api/v1/cases/{}/stage", query_value(&id));
                let view = client.get(&path).await?;
                if !advance {
                    conn.print(&view, checklist_text);
                    let passed = view["checklist"]["criteria"]
                        .as_array()
                        .is_none_or(|c| c.iter().all(|x| x["met"] == true));
                    return Ok(if passed {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    });
                }
                let body = json!({"version": view["case"]["version"], "override": r#override});
                match client.call(Method::POST, &path, Some(&body)).await {
                    Ok(v) => {
                        conn.print(&v, |v| {
                            let t = &v["transition"];
                            let to = t["to"].as_str().unwrap_or("closed");
                            let mut s = format!("{} → {to}\n", field(t, "from"));
                            if !t["overridden"].is_null() {
                                s.push_str(&format!(
                                    "gate overridden (recorded): {}\n",
                                    field(&t["overridden"], "reason")
                                ));
                            }
                            s
                        });
                    }
                    Err(ClientError::Refused {
                        status: 409,
                        reason,
                        body,
                    }) if body.get("checklist").is_some() => {
                        eprintln!("{reason}");
                        conn.print(&body, checklist_text);
                        return Ok(ExitCode::from(1));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Action::Ack { id } => {
                let c = checkin(&client, &id, "acknowledge", "").await?;
                conn.print(&c, checkin_text);
            }
            Action::Checkin {
                id,
                on_site,
                remote: _,
                place,
            } => {
                let clock = if on_site { "on_site" } else { "remote_start" };
                let c = checkin(&client, &id, clock, &place).await?;
                conn.print(&c, checkin_text);
            }
            Action::Iocs {
                id,
                stix,
                csv,
                output,
            } => {
                let base = format!("/api/v1/cases/{}/iocs", query_value(&id));
                if let Some(out) = output.filter(|_| stix || csv) {
                    let path = format!("{base}/{}", if stix { "stix" } else { "csv" });
                    client.download(&path, &out).await?;
                    println!("{}: written", out.display());
                    return Ok(ExitCode::SUCCESS);
                }
                let list = client.get(&format!("{base}/linkage")).await?;
                conn.print(&list, |l| {
                    let rows: Vec<Vec<String>> = l
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|i| {
                            let same: Vec<String> = i["same_customer_cases"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|c| field(c, "id"))
                                .collect();
                            vec![
                                field(i, "kind"),
                                field(i, "value"),
                                match i["other_incidents"].as_u64().unwrap_or(0) {
                                    0 => "-".into(),
                                    n => format!(
                                        "{n} other incident(s), {} customer(s), first {}",
                                        i["other_customers"],
                                        field(i, "first_seen")
                                    ),
                                },
                                if same.is_empty() {
                                    "-".into()
                                } else {
                                    same.join(" ")
                                },
                            ]
                        })
                        .collect();
                    columns(
                        &[
                            "KIND",
                            "VALUE",
                            "SEEN ELSEWHERE (30 DAYS)",
                            "YOUR OPEN CASES",
                        ],
                        &rows,
                    )
                });
            }
            Action::Ioc { id, kind, value } => {
                let added = client
                    .call(
                        Method::POST,
                        &format!("/api/v1/cases/{}/iocs", query_value(&id)),
                        Some(&json!({"kind": kind, "value": value})),
                    )
                    .await?;
                conn.print(&added, |a| {
                    let mut out = format!(
                        "{} {}{}\n",
                        field(a, "kind"),
                        field(a, "value"),
                        if a["known"] == true {
                            " (the case had it)"
                        } else {
                            " added"
                        }
                    );
                    for c in a["retro_hunt"].as_array().into_iter().flatten() {
                        out += &format!(
                            "  also in your open case {} ({}), in its {}\n",
                            field(c, "id"),
                            field(c, "title"),
                            field(c, "found_in")
                        );
                    }
                    out
                });
            }
            Action::Loss { id, veris, output } => {
                if let Some(out) = output.filter(|_| veris) {
                    let path = format!("/api/v1/cases/{}/loss/veris", query_value(&id));
                    client.download(&path, &out).await?;
                    println!("{}: written", out.display());
                    return Ok(ExitCode::SUCCESS);
                }
                let l = client
                    .get(&format!("/api/v1/cases/{}/loss", query_value(&id)))
                    .await?;
                conn.print(&l, loss_text);
            }
            Action::Service {
                id,
                name,
                criticality,
                cost_per_hour,
                currency,
                assets,
            } => {
                let s = client
                    .call(
                        Method::PUT,
                        &format!(
                            "/api/v1/cases/{}/services/{}",
                            query_value(&id),
                            query_value(&name)
                        ),
                        Some(&json!({"criticality": criticality, "cost_per_hour": cost_per_hour, "currency": currency, "assets": assets})),
                    )
                    .await?;
                conn.print(&s, |s| format!("service {} recorded\n", field(s, "name")));
            }
            Action::Downtime {
                id,
                asset,
                from,
                until,
                note,
            } => {
                let d = client
                    .call(
                        Method::POST,
                        &format!("/api/v1/cases/{}/downtime", query_value(&id)),
                        Some(&json!({"asset": asset, "from": from, "until": until, "note": note})),
                    )
                    .await?;
                conn.print(&d, |d| {
                    format!("downtime of {} recorded\n", field(d, "asset"))
                });
            }
            Action::LossSet {
                id,
                variety,
                min,
                likely,
                max,
                currency,
                note,
            } => {
                let l = client
                    .call(
                        Method::PUT,
                        &format!(
                            "/api/v1/cases/{}/losses/{}",
                            query_value(&id),
                            query_value(&variety)
                        ),
                        Some(&json!({"min": min, "likely": likely, "max": max, "currency": currency, "note": note})),
                    )
                    .await?;
                conn.print(&l, |l| format!("{} recorded\n", field(l, "variety")));
            }
            Action::Rating { id, rating } => {
                let r = client
                    .call(
                        Method::PUT,
                        &format!("/api/v1/cases/{}/loss/rating", query_value(&id)),
                        Some(&json!({ "rating": rating })),
                    )
                    .await?;
                conn.print(&r, |r| {
                    format!("overall rating: {}\n", r.as_str().unwrap_or(""))
                });
            }
            Action::IocImport { id, file } => {
                let doc: Value = serde_json::from_slice(
                    // The server takes JSON bodies up to 1 MiB.
                    &crate::output::read_capped(&file, 1 << 20, "an indicator list")?,
                )
                .with_context(|| format!("{} is not JSON", file.display()))?;
                let r = client
                    .call(
                        Method::POST,
                        &format!("/api/v1/cases/{}/iocs/import", query_value(&id)),
                        Some(&doc),
                    )
                    .await?;
                conn.print(&r, |r| {
                    let mut out = format!("{} indicator(s), {} new\n", r["indicators"], r["new"]);
                    for p in r["not_taken"].as_array().into_iter().flatten() {
                        out += &format!(
                            "  not taken: {}\n",
                            firewarden_model::printable(p.as_str().unwrap_or(""), 200)
                        );
                    }
                    out
                });
            }
            Action::Timeline { id, output } => {
                client
                    .download(
                        &format!("/api/v1/cases/{}/timeline/timesketch", query_value(&id)),
                        &output,
                    )
                    .await?;
                println!(
                    "{}: the case's timeline as Timesketch JSON lines",
                    output.display()
                );
            }
            Action::Report {
                id,
                report_format,
                lang,
                output,
            } => {
                let report_format = report_format.unwrap_or_else(|| {
                    match output.extension().and_then(|e| e.to_str()) {
                        Some("pdf") => "pdf",
                        Some("md") => "md",
                        Some("json") => "json",
                        _ => "html",
                    }
                    .to_owned()
                });
                let base = format!("/api/v1/cases/{}/reports", query_value(&id));
                let kept = client
                    .call(
                        Method::POST,
                        &base,
                        Some(&json!({"format": report_format, "lang": lang})),
                    )
                    .await?;
                let rid = kept["id"].as_str().unwrap_or_default();
                client
                    .download(&format!("{base}/{}", query_value(rid)), &output)
                    .await?;
                let (got, size) = firewarden_evidence::read::file_sha256(&output)?;
                if kept["sha256"].as_str() != Some(got.as_str()) {
                    anyhow::bail!(
                        "{} hashes to {got}, not to the kept report's {}",
                        output.display(),
                        field(&kept, "sha256")
                    );
                }
                conn.print(&kept, |k| {
                    format!(
                        "{}: report {} of case version {} ({} {}, {size} bytes, sha256 {}), signed by the server; check it with: firewarden report verify {} --key SERVER-KEY\n",
                        output.display(),
                        field(k, "id"),
                        field(k, "case_version"),
                        field(k, "format"),
                        field(k, "lang"),
                        field(k, "sha256"),
                        output.display()
                    )
                });
            }
            Action::Sla { id } => {
                let sla = client
                    .get(&format!("/api/v1/cases/{}/sla", query_value(&id)))
                    .await?;
                conn.print(&sla, sla_text);
                // Like a failed gate: a script can tell a breached case.
                if sla.get("breached").is_some() {
                    return Ok(ExitCode::from(1));
                }
            }
            Action::Preauthorise {
                id,
                hosts,
                never_hosts,
                kinds,
                max_risk,
                hours,
            } => {
                let password = crate::remote::read_password()?;
                let r = client
                    .call(
                        Method::POST,
                        &format!("/api/v1/cases/{}/preauthorisations", query_value(&id)),
                        Some(&json!({
                            "hosts": hosts, "never_hosts": never_hosts, "kinds": kinds,
                            "max_risk": max_risk, "hours": hours, "password": password,
                        })),
                    )
                    .await?;
                conn.print(&r, |r| {
                    format!(
                        "{} granted until {}\n",
                        field(&r["statement"], "id"),
                        field(&r["statement"], "expires")
                    )
                });
            }
            Action::Revoke { id, grant, reason } => {
                let password = crate::remote::read_password()?;
                let r = client
                    .call(
                        Method::POST,
                        &format!(
                            "/api/v1/cases/{}/preauthorisations/{}/revocation",
                            query_value(&id),
                            query_value(&grant)
                        ),
                        Some(&json!({"reason": reason, "password": password})),
                    )
                    .await?;
                conn.print(&r, |r| {
                    format!(
                        "{} revoked at {}\n",
                        field(&r["statement"], "id"),
                        field(&r["revoked"], "at")
                    )
                });
            }
            Action::Preauths { id, save } => {
                let list = client
                    .get(&format!(
                        "/api/v1/cases/{}/preauthorisations",
                        query_value(&id)
                    ))
                    .await?;
                if let Some(path) = save {
                    let key = client.get("/api/v1/server-key").await?;
                    // A revoked grant is not handed to hosts.
                    let live: Vec<&serde_json::Value> = list
                        .as_array()
                        .map(|a| a.iter().filter(|g| g["revoked"].is_null()).collect())
                        .unwrap_or_default();
                    let kept = json!({"key": key["public_key"], "grants": live});
                    std::fs::write(&path, serde_json::to_vec_pretty(&kept)?)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("saved to {} (with the server's key)", path.display());
                }
                conn.print(&list, |l| {
                    let rows: Vec<Vec<String>> = l
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|g| {
                                    let s = &g["statement"];
                                    let join = |k: &str| {
                                        s[k].as_array()
                                            .map(|v| {
                                                v.iter()
                                                    .filter_map(|x| x.as_str())
                                                    .map(|x| firewarden_model::printable(x, 60))
                                                    .collect::<Vec<_>>()
                                                    .join(",")
                                            })
                                            .unwrap_or_default()
                                    };
                                    vec![
                                        field(s, "id"),
                                        join("hosts"),
                                        join("never_hosts"),
                                        join("kinds"),
                                        field(s, "max_risk"),
                                        field(s, "granted_by"),
                                        if g["revoked"].is_null() {
                                            field(s, "expires")
                                        } else {
                                            format!("revoked {}", field(&g["revoked"], "at"))
                                        },
                                    ]
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    columns(
                        &["GRANT", "HOSTS", "NEVER", "KINDS", "UP TO", "BY", "EXPIRES"],
                        &rows,
                    )
                });
            }
            Action::Approvals { id } => {
                let list = client
                    .get(&format!("/api/v1/cases/{}/approvals", query_value(&id)))
                    .await?;
                conn.print(&list, approvals_text);
            }
            Action::Decide {
                id,
                request,
                approve,
                deny: _,
                reason,
            } => {
                // The password proves again who decides; never on the command line.
                let password = crate::remote::read_password()?;
                let path = format!(
                    "/api/v1/cases/{}/approvals/{}/decision",
                    query_value(&id),
                    query_value(&request)
                );
                let r = client
                    .call(
                        Method::POST,
                        &path,
                        Some(&json!({"approve": approve, "password": password, "reason": reason})),
                    )
                    .await?;
                conn.print(&r, |r| {
                    format!(
                        "{} {}: {} on {}\n",
                        field(r, "id"),
                        field(r, "state"),
                        field(&r["plan"], "title"),
                        field(r, "host")
                    )
                });
            }
            Action::Waive {
                id,
                criterion,
                reason,
            } => {
                let path = format!("/api/v1/cases/{}/waivers", query_value(&id));
                let w = client
                    .call(
                        Method::POST,
                        &path,
                        Some(&json!({"criterion": criterion, "reason": reason})),
                    )
                    .await?;
                conn.print(&w, |w| {
                    format!("waived {}: {}\n", field(w, "criterion"), field(w, "reason"))
                });
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The loss evaluation for a person.
fn loss_text(l: &Value) -> String {
    let mut out = format!(
        "overall rating: {}\n",
        l["overall_rating"].as_str().unwrap_or("not recorded")
    );
    let rows: Vec<Vec<String>> = l["losses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            let c = field(x, "currency");
            vec![
                field(x, "variety"),
                format!("{} {c}", x["min"]),
                format!("{} {c}", x["likely"]),
                format!("{} {c}", x["max"]),
            ]
        })
        .collect();
    out += &columns(&["LOSS", "MIN", "MOST LIKELY", "MAX"], &rows);
    for t in l["totals"].as_array().into_iter().flatten() {
        out += &format!(
            "total {}: {} / {} / {}\n",
            t[0].as_str().unwrap_or(""),
            t[1],
            t[2],
            t[3]
        );
    }
    for d in l["disruption_estimate"].as_array().into_iter().flatten() {
        out += &format!(
            "downtime costs the services {} {}\n",
            d[1],
            d[0].as_str().unwrap_or("")
        );
    }
    out
}
