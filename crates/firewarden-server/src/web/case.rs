//! The case page: stage bar and gate checklist, SLA, storyline, timeline chart and events,
//! findings, assets, evidence, actions and approvals, IOCs and their sightings, tasks and
//! notes, reports; and the evidence item's custody page.

use super::html::{self, E, Section, api_form, duration, facts, name, seg, severity_badge};
use super::{PageError, PageResult, Viewer};
use crate::api::App;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use firewarden_case::access::{Decision, Operation, authorize};
use firewarden_case::ioc::IocKind;
use firewarden_case::model::{CaseStatus, Compromise, Tlp};
use firewarden_case::sla::ClockKind;
use firewarden_case::stage::Stage;
use firewarden_model::{Evidence, Finding, Severity, Timestamp};
use firewarden_store::{FindingQuery, TimelineEntry};
use serde::Deserialize;
use std::fmt::Write;

/// Events read for the chart; the table shows [`TABLE_ROWS`] of those in the window.
const TIMELINE_MAX: u32 = 20_000;
const TABLE_ROWS: usize = 200;
/// Findings read for the page (most severe first).
const FINDINGS_MAX: u32 = 1000;
/// Bars in the timeline chart.
const BUCKETS: usize = 48;

/// The timeline's window (UNIX seconds), set by clicking the chart.
#[derive(Deserialize, Default)]
pub(crate) struct Window {
    from: Option<i64>,
    to: Option<i64>,
}

fn section(out: &mut String, id: &str, title: &str) {
    let _ = write!(
        out,
        "<section id=\"{id}\" aria-labelledby=\"h-{id}\"><h2 id=\"h-{id}\">{}</h2>",
        E(title)
    );
}

pub(crate) async fn page(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(window): Query<Window>,
) -> PageResult {
    let store = app.store();
    let a = &viewer.actor;
    let now = Timestamp::now();
    // The stage view reads the case (404 for another tenant's, like a case that does not exist).
    let stage = store.stage(a, &id).await?;
    let case = &stage.case;
    let editable = authorize(a, Operation::EditCase, Some(&case.tenant)) == Decision::Allow;
    // The other reads are independent: run together, their audit records share a commit
    // instead of waiting for one each in turn.
    let finding_query = FindingQuery {
        limit: Some(FINDINGS_MAX),
        ..FindingQuery::default()
    };
    let (
        sla,
        stories,
        timeline,
        raw_findings,
        assets,
        evidence,
        actions,
        approvals,
        iocs,
        tasks,
        notes,
        reports,
        tenants,
    ) = tokio::try_join!(
        store.sla(a, &id, now),
        store.storylines(a, &id),
        store.timeline(a, &id, 0, TIMELINE_MAX),
        store.findings(a, &id, finding_query),
        store.assets(a, &id),
        store.evidence(a, &id),
        store.actions(a, &id),
        store.approvals(a, &id),
        store.ioc_linkage(a, &id),
        store.tasks(a, &id),
        store.notes(a, &id),
        store.reports(a, &id),
        store.tenants(a),
    )?;
    let mut findings: Vec<Finding> = raw_findings
        .iter()
        .filter_map(|raw| serde_json::from_str(raw.get()).ok())
        .collect();
    findings.sort_by(|x, y| y.severity.cmp(&x.severity).then(x.id.cmp(&y.id)));
    let tenant = tenants.into_iter().find(|t| t.id == case.tenant);
    let cid = seg(&case.id);
    let api = format!("/api/v1/cases/{cid}");

    let mut b = String::new();
    b.push_str(
        "<nav class=\"jump\" aria-label=\"On this page\"><a href=\"#stage\">Stage</a> <a href=\"#sla\">SLA</a> \
         <a href=\"#story\">Storyline</a> <a href=\"#timeline\">Timeline</a> <a href=\"#findings\">Findings</a> \
         <a href=\"#assets\">Assets</a> <a href=\"#evidence\">Evidence</a> <a href=\"#actions\">Actions</a> \
         <a href=\"#iocs\">IOCs</a> <a href=\"#tasks\">Tasks and notes</a> <a href=\"#reports\">Reports</a></nav>",
    );
    b.push_str(&facts(&[
        ("Case", E(&case.id).to_string()),
        (
            "Customer",
            E(&tenant
                .map(|t| t.name)
                .unwrap_or_else(|| case.tenant.clone()))
            .to_string(),
        ),
        ("Kind", E(&name(&case.kind)).to_string()),
        ("Severity", severity_badge(case.severity)),
        ("Status", E(&name(&case.status)).to_string()),
        (
            "TLP / PAP",
            format!(
                "TLP:{} / PAP:{}",
                E(&name(&case.tlp).to_uppercase()),
                E(&name(&case.pap).to_uppercase())
            ),
        ),
        ("Owner", E(&case.owner).to_string()),
        ("Declared", e_time(case.created)),
        (
            "Entry point",
            E(case.entry_point.as_deref().unwrap_or("not recorded yet")).to_string(),
        ),
        (
            "Authority",
            E(case.authority.as_deref().unwrap_or("not recorded yet")).to_string(),
        ),
    ]));
    if editable {
        b.push_str("<details><summary>Edit the case</summary>");
        b.push_str(&api_form(&api, "PATCH", None, "grid"));
        let _ = write!(
            b,
            "<input type=\"hidden\" name=\"version\" data-type=\"int\" value=\"{}\">\
             <label for=\"ed-owner\">Owner</label><input id=\"ed-owner\" name=\"owner\" value=\"{}\">\
             <label for=\"ed-entry\">Entry point</label><input id=\"ed-entry\" name=\"entry_point\" value=\"{}\">\
             <label for=\"ed-auth\">Authority (who authorised, scope, legal basis)</label><textarea id=\"ed-auth\" name=\"authority\">{}</textarea>",
            case.version,
            E(&case.owner),
            E(case.entry_point.as_deref().unwrap_or("")),
            E(case.authority.as_deref().unwrap_or(""))
        );
        b.push_str("<label for=\"ed-tlp\">TLP</label><select id=\"ed-tlp\" name=\"tlp\">");
        for t in [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ] {
            let sel = if t == case.tlp { " selected" } else { "" };
            let n = name(&t);
            let _ = write!(
                b,
                "<option value=\"{n}\"{sel}>{}</option>",
                n.to_uppercase()
            );
        }
        b.push_str("</select><button type=\"submit\">Save</button>");
        b.push_str(html::FORM_STATUS);
        b.push_str("</form></details>");
    }

    // The stage bar and the gate.
    section(&mut b, "stage", "Stage");
    b.push_str("<ol class=\"stages\">");
    let current = Stage::ALL
        .iter()
        .position(|s| *s == case.stage)
        .unwrap_or(0);
    for (i, s) in Stage::ALL.iter().enumerate() {
        let (class, word, aria) = if case.status == CaseStatus::Closed || i < current {
            ("done", "done", "")
        } else if i == current {
            ("now", "current", " aria-current=\"step\"")
        } else {
            ("later", "to come", "")
        };
        let _ = write!(
            b,
            "<li class=\"{class}\"{aria}>{}<span class=\"sr\"> ({word})</span></li>",
            E(s.as_str())
        );
    }
    b.push_str("</ol>");
    if let Some(list) = &stage.checklist {
        let _ = write!(
            b,
            "<h3>To leave {}: {}</h3><ul class=\"checklist\">",
            E(list.stage.as_str()),
            if list.passed() {
                "every criterion is met"
            } else {
                "criteria missing"
            }
        );
        for c in &list.criteria {
            let (class, word) = if c.met {
                ("met", "✔ met")
            } else {
                ("unmet", "✘ missing")
            };
            let _ = write!(
                b,
                "<li class=\"{class}\"><strong>{word}</strong> {} <small>{}</small><br><small class=\"muted\">{}</small></li>",
                E(&c.text),
                E(&c.id),
                E(&c.detail)
            );
        }
        b.push_str("</ul>");
        if editable {
            b.push_str(&api_form(&format!("{api}/stage"), "POST", None, "inline"));
            let _ = write!(
                b,
                "<input type=\"hidden\" name=\"version\" data-type=\"int\" value=\"{}\">",
                case.version
            );
            if !list.passed() {
                b.push_str(
                    "<label for=\"ov\">Override reason (leads only; recorded and shown in the report)</label>\
                     <input id=\"ov\" name=\"override\" maxlength=\"2000\">",
                );
            }
            let _ = write!(
                b,
                "<button type=\"submit\">Advance to {}</button>",
                E(list.stage.next().map(|s| s.as_str()).unwrap_or("closed"))
            );
            b.push_str(html::FORM_STATUS);
            b.push_str("</form>");
            let unmet = list.unmet();
            if !unmet.is_empty() {
                b.push_str(&api_form(&format!("{api}/waivers"), "POST", None, "inline"));
                b.push_str(
                    "<label for=\"wv-c\">Waive</label><select id=\"wv-c\" name=\"criterion\">",
                );
                for c in unmet {
                    let _ = write!(b, "<option value=\"{}\">{}</option>", E(&c.id), E(&c.id));
                }
                b.push_str(
                    "</select><label for=\"wv-r\">because</label><input id=\"wv-r\" name=\"reason\" required maxlength=\"2000\">\
                     <button type=\"submit\">Waive</button>",
                );
                b.push_str(html::FORM_STATUS);
                b.push_str("</form>");
            }
        }
    }
    if !stage.transitions.is_empty() || !stage.facts.waivers.is_empty() {
        b.push_str("<h3>Stage moves and overrides</h3><ul>");
        for t in &stage.transitions {
            let to = t.to.map(|s| s.as_str()).unwrap_or("closed");
            let _ = write!(
                b,
                "<li>{} {} → {} by {}",
                e_time(t.at),
                E(t.from.as_str()),
                E(to),
                E(&t.by)
            );
            if let Some(r) = &t.override_reason {
                let _ = write!(
                    b,
                    " — <strong>override</strong> ({} unmet: {}): {}",
                    t.unmet.len(),
                    E(&t.unmet.join(", ")),
                    E(r)
                );
            }
            b.push_str("</li>");
        }
        for w in &stage.facts.waivers {
            let _ = write!(
                b,
                "<li><strong>waived</strong> {} by {}: {}</li>",
                E(&w.criterion),
                E(&w.by),
                E(&w.reason)
            );
        }
        b.push_str("</ul>");
    }
    b.push_str("</section>");

    // SLA.
    section(&mut b, "sla", "SLA");
    if sla.clocks.is_empty() {
        b.push_str("<p class=\"muted\">The customer's contract sets no SLA targets.</p>");
    } else {
        b.push_str("<table><thead><tr><th scope=\"col\">Promise</th><th scope=\"col\">Target</th><th scope=\"col\">Due</th><th scope=\"col\">Now</th><th scope=\"col\">Achieved</th></tr></thead><tbody>");
        for c in &sla.clocks {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                E(c.kind.label()),
                duration(i64::from(c.target_minutes) * 60),
                e_time(c.due),
                super::cases::clock_cell(c, now),
                c.achieved_seconds.map(duration).unwrap_or_default()
            );
        }
        b.push_str("</tbody></table>");
    }
    if editable && case.status == CaseStatus::Open {
        b.push_str(&api_form(
            &format!("{api}/checkins"),
            "POST",
            None,
            "inline",
        ));
        b.push_str("<label for=\"ci-k\">Check in</label><select id=\"ci-k\" name=\"clock\">");
        for k in [
            ClockKind::Acknowledge,
            ClockKind::RemoteStart,
            ClockKind::OnSite,
        ] {
            let _ = write!(
                b,
                "<option value=\"{}\">{}</option>",
                k.as_str(),
                E(k.label())
            );
        }
        b.push_str("</select><label for=\"ci-p\">Where</label><input id=\"ci-p\" name=\"place\" maxlength=\"500\"><button type=\"submit\">Record</button>");
        b.push_str(html::FORM_STATUS);
        b.push_str("</form>");
    }
    b.push_str("</section>");

    // Storyline.
    section(&mut b, "story", "Storyline");
    if stories.is_empty() {
        b.push_str("<p class=\"muted\">No analysis imported yet: push a triage (below, or <code>firewarden case push</code>).</p>");
    }
    for (asset, s) in &stories {
        let dwell = match (s.first_activity, s.last_activity) {
            (Some(f), Some(l)) => duration(l.0 - f.0),
            _ => s.dwell_time.clone().unwrap_or_else(|| "unknown".into()),
        };
        let _ = write!(b, "<h3>{}</h3><p>{}</p>", E(asset), E(&s.verdict));
        b.push_str(&facts(&[
            (
                "Entry point",
                E(s.entry_point.as_deref().unwrap_or("not found")).to_string(),
            ),
            ("Attacker IPs", list_text(&s.attacker_ips)),
            ("Accounts", list_text(&s.accounts)),
            ("Persistence", list_text(&s.persistence)),
            (
                "First / last activity",
                format!(
                    "{} / {}",
                    s.first_activity.map(e_time).unwrap_or_else(|| "?".into()),
                    s.last_activity.map(e_time).unwrap_or_else(|| "?".into())
                ),
            ),
            ("Dwell", E(&dwell).to_string()),
        ]));
    }
    b.push_str("</section>");

    // Timeline.
    section(&mut b, "timeline", "Timeline");
    timeline_section(&mut b, &case.id, &timeline, &window);
    b.push_str("</section>");

    // Findings.
    section(&mut b, "findings", "Findings");
    if findings.is_empty() {
        b.push_str("<p class=\"muted\">No findings.</p>");
    } else {
        let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        let _ = write!(
            b,
            "<p>{} critical, {} high, {} medium, {} low, {} info{}</p>",
            count(Severity::Critical),
            count(Severity::High),
            count(Severity::Medium),
            count(Severity::Low),
            count(Severity::Info),
            if findings.len() as u32 >= FINDINGS_MAX {
                " (the first 1,000 read; the API pages through all)"
            } else {
                ""
            }
        );
        b.push_str("<ul class=\"findings\">");
        for f in &findings {
            let _ = write!(
                b,
                "<li><details><summary>{} {} <small>{}</small></summary><p>{}</p><p><strong>Do:</strong> {}</p>",
                severity_badge(f.severity),
                E(&f.title),
                E(&f.check),
                E(&f.explanation),
                E(&f.recommendation)
            );
            if !f.attack.is_empty() {
                let _ = write!(b, "<p>ATT&amp;CK: {}</p>", E(&f.attack.join(", ")));
            }
            if !f.evidence.is_empty() {
                b.push_str("<ul class=\"evidence\">");
                for ev in f.evidence.iter().take(20) {
                    let _ = write!(b, "<li><code>{}</code></li>", E(&evidence_text(ev)));
                }
                b.push_str("</ul>");
            }
            b.push_str("</details></li>");
        }
        b.push_str("</ul>");
    }
    b.push_str("</section>");

    // Assets.
    section(&mut b, "assets", "Assets");
    if assets.is_empty() {
        b.push_str("<p class=\"muted\">No assets yet.</p>");
    } else {
        b.push_str("<table><thead><tr><th scope=\"col\">Asset</th><th scope=\"col\">Compromise</th><th scope=\"col\">Since</th></tr></thead><tbody>");
        for x in &assets {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                E(&x.name),
                E(&name(&x.compromise)),
                e_time(x.added)
            );
        }
        b.push_str("</tbody></table>");
    }
    if editable {
        b.push_str(&api_form(
            &format!("{api}/assets/{{name}}"),
            "PUT",
            None,
            "inline",
        ));
        b.push_str("<label for=\"as-n\">Asset</label><input id=\"as-n\" name=\"name\" data-path=\"name\" required maxlength=\"200\">\
                    <label for=\"as-c\">Compromise</label><select id=\"as-c\" name=\"compromise\">");
        b.push_str(&html::options(
            &[
                Compromise::Suspected,
                Compromise::Compromised,
                Compromise::Remediated,
                Compromise::Clean,
                Compromise::Unknown,
            ],
            None,
        ));
        b.push_str("</select><button type=\"submit\">Set</button>");
        b.push_str(html::FORM_STATUS);
        b.push_str("</form>");
        // Uploads go straight to the import route, streamed; the script sends the file raw.
        let _ = write!(
            b,
            "<h3>Push results</h3><form class=\"upload\" data-api=\"{api}/imports\">\
             <label for=\"up-a\">Asset (host name)</label><input id=\"up-a\" name=\"asset\" required maxlength=\"200\">\
             <label for=\"up-f\">Triage, scan or hunt JSON, action journal, or evidence bundle</label>\
             <input id=\"up-f\" name=\"file\" type=\"file\" required>\
             <button type=\"submit\">Upload</button>{}</form>",
            html::FORM_STATUS
        );
    }
    b.push_str("</section>");

    // Evidence.
    section(&mut b, "evidence", "Evidence");
    if evidence.is_empty() {
        b.push_str("<p class=\"muted\">No evidence bundles yet.</p>");
    } else {
        b.push_str("<table><thead><tr><th scope=\"col\">Item</th><th scope=\"col\">Asset</th><th scope=\"col\">SHA-256</th><th scope=\"col\">Size</th><th scope=\"col\">Acquired</th><th scope=\"col\">Custody events</th></tr></thead><tbody>");
        for ev in &evidence {
            let _ = write!(
                b,
                "<tr><td><a href=\"/ui/cases/{cid}/evidence/{}\">{}</a></td><td>{}</td><td><code class=\"hash\">{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                seg(&ev.id),
                E(&ev.id),
                E(&ev.asset),
                E(&ev.sha256),
                ev.size,
                e_time(ev.acquired),
                ev.custody_events
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("</section>");

    // Actions and approvals.
    section(&mut b, "actions", "Actions and approvals");
    if actions.is_empty() {
        b.push_str("<p class=\"muted\">No actions imported yet (they arrive with the host's signed journal).</p>");
    } else {
        b.push_str("<table><thead><tr><th scope=\"col\">Action</th><th scope=\"col\">Asset</th><th scope=\"col\">Operator</th><th scope=\"col\">Begun</th><th scope=\"col\">State</th><th scope=\"col\">Tool</th><th scope=\"col\">Approval</th></tr></thead><tbody>");
        for x in &actions {
            let approval = x
                .approval
                .as_ref()
                .and_then(|v| v.get("statement"))
                .map(|s| {
                    let by = s.get("approved_by").and_then(|v| v.as_str()).unwrap_or("?");
                    let at = s.get("approved_at").and_then(|v| v.as_str()).unwrap_or("?");
                    format!("{} at {}", E(by), E(at))
                })
                .unwrap_or_else(|| "<span class=\"muted\">none</span>".into());
            let _ = write!(
                b,
                "<tr><td>{} <small>{} · {}</small></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{approval}</td></tr>",
                E(&x.title),
                E(&x.action_id),
                E(&x.kind),
                E(&x.asset),
                E(&x.operator),
                E(&x.begun),
                E(&x.state),
                E(&x.tool)
            );
        }
        b.push_str("</tbody></table>");
    }
    if !approvals.is_empty() {
        b.push_str("<h3>Approval requests</h3><table><thead><tr><th scope=\"col\">Request</th><th scope=\"col\">Host</th><th scope=\"col\">Risk</th><th scope=\"col\">Needs</th><th scope=\"col\">State</th><th scope=\"col\">Asked</th></tr></thead><tbody>");
        for r in &approvals {
            let _ = write!(
                b,
                "<tr><td><a href=\"/ui/cases/{cid}/approvals/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} by {}</td></tr>",
                seg(&r.id),
                E(&r.plan.title),
                E(&r.host),
                E(&name(&r.risk)),
                E(&name(&r.requirement)),
                E(&name(&r.state)),
                e_time(r.requested_at),
                E(&r.requested_by)
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("</section>");

    // IOCs.
    section(&mut b, "iocs", "Indicators");
    if iocs.is_empty() {
        b.push_str("<p class=\"muted\">No indicators yet.</p>");
    } else {
        let _ = write!(
            b,
            "<p><a href=\"{api}/iocs/stix\" download>STIX 2.1 bundle</a> · <a href=\"{api}/iocs/csv\" download>CSV</a> · <a href=\"{api}/timeline/timesketch\" download>Timeline for Timesketch</a></p>"
        );
        b.push_str("<table><thead><tr><th scope=\"col\">Kind</th><th scope=\"col\">Value</th><th scope=\"col\">Elsewhere (last 30 days)</th><th scope=\"col\">This customer's other open cases</th></tr></thead><tbody>");
        for i in &iocs {
            let elsewhere = if i.other_incidents == 0 {
                "not seen elsewhere".to_owned()
            } else {
                format!(
                    "seen in {} other incident(s) across {} customer(s), first {}",
                    i.other_incidents,
                    i.other_customers,
                    i.first_seen.map(e_time).unwrap_or_else(|| "?".into())
                )
            };
            let same: Vec<String> = i
                .same_customer_cases
                .iter()
                .map(|c| {
                    format!(
                        "<a href=\"/ui/cases/{}\">{}</a> ({})",
                        seg(&c.id),
                        E(&c.title),
                        E(&c.found_in)
                    )
                })
                .collect();
            let _ = write!(
                b,
                "<tr><td>{}</td><td><code>{}</code></td><td>{elsewhere}</td><td>{}</td></tr>",
                E(&name(&i.ioc.kind)),
                E(&i.ioc.value),
                same.join(", ")
            );
        }
        b.push_str("</tbody></table>");
    }
    if editable {
        b.push_str(&api_form(&format!("{api}/iocs"), "POST", None, "inline"));
        b.push_str(
            "<label for=\"ioc-k\">Add an indicator</label><select id=\"ioc-k\" name=\"kind\">",
        );
        b.push_str(&html::options(
            &[
                IocKind::Ipv4,
                IocKind::Ipv6,
                IocKind::Domain,
                IocKind::Url,
                IocKind::Sha256,
                IocKind::Sha1,
                IocKind::Md5,
                IocKind::Path,
                IocKind::Account,
            ],
            None,
        ));
        b.push_str(
            "</select><label for=\"ioc-v\">Value</label>\
             <input id=\"ioc-v\" name=\"value\" required maxlength=\"2000\"><button type=\"submit\">Add and hunt</button>",
        );
        b.push_str(html::FORM_STATUS);
        b.push_str("</form>");
    }
    b.push_str("</section>");

    // Tasks and notes.
    section(&mut b, "tasks", "Tasks and notes");
    if tasks.is_empty() {
        b.push_str("<p class=\"muted\">No tasks.</p>");
    } else {
        b.push_str("<ul class=\"tasks\">");
        for t in &tasks {
            let extra = match (&t.owner, &t.due) {
                (Some(o), Some(d)) => format!(" <small>({}, due {})</small>", E(o), E(d)),
                (Some(o), None) => format!(" <small>({})</small>", E(o)),
                (None, Some(d)) => format!(" <small>(due {})</small>", E(d)),
                (None, None) => String::new(),
            };
            let _ = write!(
                b,
                "<li>{} {}{extra}",
                if t.done { "✔ done:" } else { "☐ open:" },
                E(&t.title)
            );
            if editable && !t.done {
                b.push_str(&api_form(
                    &format!("{api}/tasks/{}", seg(&t.id)),
                    "PATCH",
                    None,
                    "inline",
                ));
                let _ = write!(
                    b,
                    "<input type=\"hidden\" name=\"version\" data-type=\"int\" value=\"{}\">\
                     <input type=\"hidden\" name=\"done\" data-type=\"bool\" value=\"true\">\
                     <button type=\"submit\">Mark done</button>{}</form>",
                    t.version,
                    html::FORM_STATUS
                );
            }
            b.push_str("</li>");
        }
        b.push_str("</ul>");
    }
    if editable {
        b.push_str(&api_form(&format!("{api}/tasks"), "POST", None, "inline"));
        b.push_str(
            "<label for=\"tk-t\">New task or recommendation</label><input id=\"tk-t\" name=\"title\" required maxlength=\"500\">\
             <label for=\"tk-o\">Owner</label><input id=\"tk-o\" name=\"owner\" maxlength=\"200\">\
             <label for=\"tk-d\">Due</label><input id=\"tk-d\" name=\"due\" type=\"date\">\
             <button type=\"submit\">Add</button>",
        );
        b.push_str(html::FORM_STATUS);
        b.push_str("</form>");
    }
    for n in &notes {
        let _ = write!(
            b,
            "<article class=\"note\"><p class=\"muted\">{} by {}{}</p><p class=\"pre\">{}</p></article>",
            e_time(n.created),
            E(&n.author),
            if n.lesson { " · lesson learned" } else { "" },
            E(&n.body)
        );
    }
    if editable {
        b.push_str(&api_form(&format!("{api}/notes"), "POST", None, "stack"));
        b.push_str(
            "<label for=\"nt-b\">Note</label><textarea id=\"nt-b\" name=\"body\" required maxlength=\"20000\"></textarea>\
             <label><input type=\"checkbox\" name=\"lesson\" data-type=\"bool\" value=\"true\"> a lesson learned (goes into the report)</label>\
             <button type=\"submit\">Add note</button>",
        );
        b.push_str(html::FORM_STATUS);
        b.push_str("</form>");
    }
    b.push_str("</section>");

    // Reports.
    section(&mut b, "reports", "Summary report");
    if reports.is_empty() {
        b.push_str("<p class=\"muted\">No report made yet.</p>");
    } else {
        b.push_str("<table><thead><tr><th scope=\"col\">Report</th><th scope=\"col\">Made</th><th scope=\"col\">Format</th><th scope=\"col\">Case version</th><th scope=\"col\">SHA-256</th><th scope=\"col\">Signature</th></tr></thead><tbody>");
        for r in &reports {
            let _ = write!(
                b,
                "<tr><td><a href=\"{api}/reports/{}\" download>{} (download)</a></td><td>{} by {}</td><td>{} {}</td><td>{}</td><td><code class=\"hash\">{}</code></td><td><a href=\"/ui/cases/{cid}/reports/{}/verify\">verify</a></td></tr>",
                seg(&r.id),
                E(&r.id),
                e_time(r.at),
                E(&r.by),
                E(&r.format),
                E(&r.lang),
                r.case_version,
                E(&r.sha256),
                seg(&r.id)
            );
        }
        b.push_str("</tbody></table>");
    }
    if editable {
        b.push_str(&api_form(&format!("{api}/reports"), "POST", None, "inline"));
        b.push_str(
            "<label for=\"rp-f\">Format</label><select id=\"rp-f\" name=\"format\"><option value=\"html\">HTML</option>\
             <option value=\"pdf\">PDF</option><option value=\"md\">Markdown</option><option value=\"json\">JSON</option></select>\
             <label for=\"rp-l\">Language</label><select id=\"rp-l\" name=\"lang\"><option value=\"en\">English</option><option value=\"zh\">中文</option></select>\
             <button type=\"submit\">Generate and sign</button>",
        );
        b.push_str(html::FORM_STATUS);
        b.push_str("</form>");
    }
    b.push_str("</section>");

    Ok(Html(html::page(
        Some(&viewer.frame()),
        Section::Cases,
        &case.title,
        &b,
    )))
}

fn e_time(t: Timestamp) -> String {
    format!("<time datetime=\"{t}\">{t}</time>")
}

/// Where a finding was seen, in one line.
fn evidence_text(ev: &Evidence) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &ev.path {
        parts.push(match ev.line {
            Some(l) => format!("{p}:{l}"),
            None => p.clone(),
        });
    }
    if let Some(pid) = ev.pid {
        parts.push(format!("pid {pid}"));
    }
    if let Some(x) = &ev.excerpt {
        parts.push(firewarden_model::printable(x, 300));
    }
    parts.join("  ")
}

fn list_text(items: &[String]) -> String {
    if items.is_empty() {
        "none found".into()
    } else {
        E(&items.join(", ")).to_string()
    }
}

/// The chart (bars of events per slice of the window; a bar is a link that zooms into its
/// slice) and the events of the window under it.
fn timeline_section(b: &mut String, case_id: &str, all: &[TimelineEntry], w: &Window) {
    if all.is_empty() {
        b.push_str("<p class=\"muted\">No events yet.</p>");
        return;
    }
    let first = all.iter().map(|t| t.at.0).min().unwrap_or(0);
    let last = all.iter().map(|t| t.at.0).max().unwrap_or(0);
    // The window comes from the address: kept inside the events' own span, so no figure
    // below can overflow whatever numbers are typed there.
    let from = w.from.unwrap_or(first).clamp(first, last);
    let to = w.to.unwrap_or(last).clamp(from, last);
    let events: Vec<&TimelineEntry> = all
        .iter()
        .filter(|t| t.at.0 >= from && t.at.0 <= to)
        .collect();
    let span = to.saturating_sub(from).max(1);
    let width = ((span + BUCKETS as i64 - 1) / BUCKETS as i64).max(1);
    let mut counts = [0usize; BUCKETS];
    for t in &events {
        let i = (((t.at.0 - from) / width) as usize).min(BUCKETS - 1);
        counts[i] += 1;
    }
    let peak = counts.iter().copied().max().unwrap_or(1).max(1);
    let base = format!("/ui/cases/{}", seg(case_id));
    let _ = write!(
        b,
        "<p>{} event(s) from {} to {} (window {}).",
        events.len(),
        e_time(Timestamp(from)),
        e_time(Timestamp(to)),
        duration(span)
    );
    if w.from.is_some() || w.to.is_some() {
        let _ = write!(b, " <a href=\"{base}#timeline\">Show all</a>");
    }
    if all.len() as u32 >= TIMELINE_MAX {
        b.push_str(
            " The chart holds the first 20,000 events; the API and the Timesketch export hold all.",
        );
    }
    b.push_str("</p>");
    // The chart: SVG made here, presentation attributes only (no style to allow).
    let _ = write!(
        b,
        "<figure class=\"chart\"><svg viewBox=\"0 0 {} 110\" role=\"img\" aria-labelledby=\"tl-cap\" preserveAspectRatio=\"none\">",
        BUCKETS * 10
    );
    for (i, n) in counts.iter().enumerate() {
        let h = if *n == 0 { 0 } else { 4 + n * 96 / peak };
        let start = from + i as i64 * width;
        let _ = write!(
            b,
            "<a href=\"{base}?from={start}&amp;to={}#timeline\"><title>{} event(s) from {}</title>\
             <rect x=\"{}\" y=\"{}\" width=\"9\" height=\"{}\" class=\"bar\"></rect>\
             <rect x=\"{}\" y=\"0\" width=\"10\" height=\"110\" class=\"hit\"></rect></a>",
            start + width,
            n,
            Timestamp(start),
            i * 10,
            105 - h,
            h.max(1),
            i * 10
        );
    }
    let _ = write!(
        b,
        "</svg><figcaption id=\"tl-cap\">Events per {} slice; choose a bar to zoom into it.</figcaption></figure>",
        duration(width)
    );
    b.push_str("<div class=\"scroll\"><table class=\"events\"><thead><tr><th scope=\"col\">UTC</th><th scope=\"col\">Kind</th><th scope=\"col\">Event</th><th scope=\"col\">Source</th></tr></thead><tbody>");
    for t in events.iter().take(TABLE_ROWS) {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><small>{}</small></td></tr>",
            e_time(t.at),
            E(&t.kind),
            E(&t.text),
            E(&t.source)
        );
    }
    b.push_str("</tbody></table></div>");
    if events.len() > TABLE_ROWS {
        let _ = write!(
            b,
            "<p>{} more in this window: choose a bar to zoom in.</p>",
            events.len() - TABLE_ROWS
        );
    }
}

/// An evidence item and its custody ledger.
pub(crate) async fn evidence(
    State(app): State<App>,
    viewer: Viewer,
    Path((case_id, evidence_id)): Path<(String, String)>,
) -> PageResult {
    let view = app.store().custody(&viewer.actor, &evidence_id).await?;
    // The item must belong to the case named in the address.
    if view.case_id != case_id {
        return Err(PageError::not_found());
    }
    let ledger = crate::custody::view(&app, view);
    let item = &ledger.item;
    let mut b = format!(
        "<p><a href=\"/ui/cases/{}#evidence\">Back to the case</a></p>",
        seg(&case_id)
    );
    b.push_str(&facts(&[
        ("Asset", E(&item.asset).to_string()),
        (
            "SHA-256",
            format!("<code class=\"hash\">{}</code>", E(&item.sha256)),
        ),
        ("Size", format!("{} bytes", item.size)),
        (
            "Signed by",
            format!("<code class=\"hash\">{}</code>", E(&item.signer)),
        ),
        ("Acquired", e_time(item.acquired)),
        (
            "Received",
            format!("{} by {}", e_time(item.received), E(&item.by)),
        ),
    ]));
    let _ = write!(
        b,
        "<h2>Custody ledger</h2><p class=\"{}\" role=\"status\">{}</p>",
        if ledger.problems.is_empty() {
            "ok"
        } else {
            "bad"
        },
        if ledger.problems.is_empty() {
            format!(
                "✔ intact: {} event(s), each signed and chained to the one before",
                ledger.events.len()
            )
        } else {
            format!("✘ {}", E(&ledger.problems.join("; ")))
        }
    );
    if let Some(who) = &ledger.state.checked_out_by {
        let _ = write!(b, "<p>Checked out by {} and not yet back.</p>", E(who));
    }
    b.push_str("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">#</th><th scope=\"col\">UTC</th><th scope=\"col\">Event</th><th scope=\"col\">By</th><th scope=\"col\">To</th><th scope=\"col\">Why</th><th scope=\"col\">Hash checked</th></tr></thead><tbody>");
    for ev in &ledger.events {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ev.seq,
            E(&ev.utc),
            E(&ev.action.event),
            E(&ev.action.by),
            E(ev.action.to.as_deref().unwrap_or("")),
            E(&ev.action.reason),
            if ev.hash_verified { "yes" } else { "no" }
        );
    }
    b.push_str("</tbody></table></div>");
    let _ = write!(
        b,
        "<p><a href=\"/api/v1/evidence/{}/blob\" download>Download the bundle</a> (recorded in the ledger as a transfer to you)</p>",
        seg(&item.id)
    );
    Ok(Html(html::page(
        Some(&viewer.frame()),
        Section::Cases,
        &format!("Evidence {}", item.id),
        &b,
    )))
}

/// Checks a kept report's signature with the server's key, as an examiner would offline.
pub(crate) async fn verify_report(
    State(app): State<App>,
    viewer: Viewer,
    Path((case_id, report_id)): Path<(String, String)>,
) -> PageResult {
    let (record, body) = app
        .store()
        .report(&viewer.actor, &case_id, &report_id)
        .await?;
    let bytes = crate::reports::delivered_bytes(&record, body).map_err(|_| {
        PageError::from(firewarden_store::StoreError::Invalid(
            "a kept report does not decode".into(),
        ))
    })?;
    let key = app.signing_key();
    let public = key.public();
    let (class, text) = match crate::reports::check_report(&bytes, &public) {
        crate::ReportCheck::Intact { signed_at } => (
            "ok",
            format!(
                "✔ intact: signed by this server's key {} at {}",
                public.fingerprint(),
                signed_at
            ),
        ),
        crate::ReportCheck::OtherKey(k) => ("bad", format!("✘ signed by another key: {k}")),
        crate::ReportCheck::Changed => (
            "bad",
            "✘ changed since it was signed: the signature does not verify".to_owned(),
        ),
        crate::ReportCheck::NotSigned(why) => ("bad", format!("✘ not signed: {why}")),
    };
    let b = format!(
        "<p class=\"{class}\" role=\"status\">{}</p><p>SHA-256 <code class=\"hash\">{}</code>. Check it offline: <code>firewarden report verify FILE --key {}</code></p>\
         <p><a href=\"/ui/cases/{}#reports\">Back to the case</a></p>",
        E(&text),
        E(&record.sha256),
        E(&public.to_hex()),
        seg(&case_id)
    );
    Ok(Html(html::page(
        Some(&viewer.frame()),
        Section::Cases,
        &format!("Report {}", record.id),
        &b,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: i64) -> TimelineEntry {
        TimelineEntry {
            at: Timestamp(at),
            zone: "UTC".into(),
            source: "s".into(),
            kind: "login".into(),
            actor: "a".into(),
            text: "<b>x</b>".into(),
        }
    }

    #[test]
    fn any_window_in_the_address_draws_within_the_events() {
        let all: Vec<TimelineEntry> = (0..100).map(|i| event(1_790_000_000 + i * 60)).collect();
        for (from, to) in [
            (Some(i64::MIN), Some(i64::MAX)),
            (Some(i64::MAX), Some(i64::MIN)),
            (Some(-5), None),
            (None, Some(0)),
            (Some(1_790_000_600), Some(1_790_001_200)),
        ] {
            let mut b = String::new();
            timeline_section(&mut b, "C1", &all, &Window { from, to });
            assert!(b.contains("event(s) from"), "{b}");
            assert!(!b.contains("<b>x</b>") && b.contains("&lt;b&gt;x&lt;/b&gt;"));
        }
        let mut b = String::new();
        timeline_section(
            &mut b,
            "C1",
            &all,
            &Window {
                from: Some(1_790_000_600),
                to: Some(1_790_001_200),
            },
        );
        assert!(b.contains("<p>11 event(s)"), "{b}");
    }
}
