//! The customer portal's side of approvals: the queue of requests waiting for someone, one
//! request in words and as a diff with what undo does, the decision with the password typed
//! again, pre-authorisations, and the ratification of break-glass actions.

use super::html::{self, E, Section, api_form, duration, facts, name, seg};
use super::{PageResult, Viewer};
use crate::api::App;
use axum::extract::{Path, State};
use axum::response::Html;
use firewarden_case::approval::ApprovalState;
use firewarden_model::Timestamp;
use firewarden_model::action::Risk;
use std::fmt::Write;

fn when(t: Timestamp) -> String {
    format!("<time datetime=\"{t}\">{t}</time>")
}

pub(crate) async fn queue(State(app): State<App>, viewer: Viewer) -> PageResult {
    let pending = app.store().pending_approvals(&viewer.actor).await?;
    let now = Timestamp::now();
    let mut b = String::new();
    if pending.is_empty() {
        b.push_str("<p class=\"empty\">Nothing waits for a decision.</p>");
    } else {
        let _ = write!(
            b,
            "<p>{} request(s) wait for a decision, oldest first.</p>\
             <div class=\"scroll\"><table><thead><tr><th scope=\"col\">Request</th><th scope=\"col\">Case</th>\
             <th scope=\"col\">Host</th><th scope=\"col\">Risk</th><th scope=\"col\">Needs</th><th scope=\"col\">State</th>\
             <th scope=\"col\">Expires</th></tr></thead><tbody>",
            pending.len()
        );
        for r in &pending {
            let expiry = if r.state == ApprovalState::Unratified {
                "done by break-glass: ratify or dispute".to_owned()
            } else {
                format!("in {}", duration(r.expires.0 - now.0))
            };
            let _ = write!(
                b,
                "<tr><td><a href=\"/ui/cases/{}/approvals/{}\">{}</a><br><small>asked by {} at {}</small></td>\
                 <td><a href=\"/ui/cases/{}\">{}</a></td><td>{}</td><td><span class=\"risk risk-{}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                seg(&r.case_id),
                seg(&r.id),
                E(&r.plan.title),
                E(&r.requested_by),
                when(r.requested_at),
                seg(&r.case_id),
                E(&r.case_id),
                E(&r.host),
                E(&name(&r.risk)),
                E(&name(&r.risk)),
                E(&name(&r.requirement)),
                E(&name(&r.state)),
                E(&expiry)
            );
        }
        b.push_str("</tbody></table></div>");
    }
    Ok(Html(html::page(
        Some(&viewer.frame()),
        Section::Approvals,
        "Approvals",
        &b,
    )))
}

pub(crate) async fn approval(
    State(app): State<App>,
    viewer: Viewer,
    Path((case_id, id)): Path<(String, String)>,
) -> PageResult {
    let store = app.store();
    let r = store.approval(&viewer.actor, &case_id, &id).await?;
    let grants = store.preauthorisations(&viewer.actor, &case_id).await?;
    let now = Timestamp::now();
    let plan = &r.plan;
    let cid = seg(&case_id);
    let mut b = format!(
        "<p><a href=\"/ui/cases/{cid}#actions\">The case</a> · <a href=\"/ui/approvals\">All waiting requests</a></p>"
    );
    b.push_str(&facts(&[
        ("What", E(&plan.title).to_string()),
        ("Kind", E(&plan.kind).to_string()),
        ("Host", E(&r.host).to_string()),
        (
            "Risk",
            format!(
                "<span class=\"risk risk-{0}\">{0}</span>",
                E(&name(&r.risk))
            ),
        ),
        ("Needs", E(&name(&r.requirement)).to_string()),
        (
            "Asked",
            format!("{} by {}", when(r.requested_at), E(&r.requested_by)),
        ),
        (
            "Expires",
            if r.state == ApprovalState::Pending {
                format!("{} (in {})", when(r.expires), duration(r.expires.0 - now.0))
            } else {
                when(r.expires)
            },
        ),
        ("State", E(&name(&r.state)).to_string()),
        (
            "Plan digest",
            format!("<code class=\"hash\">{}</code>", E(&r.plan_sha256)),
        ),
    ]));
    if let Some(why) = &r.break_glass {
        let _ = write!(
            b,
            "<p class=\"bad\" role=\"note\">Done at once by break-glass: {}</p>",
            E(why)
        );
    }
    if let (Some(by), Some(at)) = (&r.decided_by, r.decided_at) {
        let _ = write!(
            b,
            "<p>Decided by {} at {}{}</p>",
            E(by),
            when(at),
            r.reason
                .as_deref()
                .map(|x| format!(": {}", E(x)))
                .unwrap_or_default()
        );
    }
    let api = format!("/api/v1/cases/{cid}");
    // The plan in words, then the changes as a diff, then what undo does.
    b.push_str("<h2>The plan, step by step</h2><ol class=\"steps\">");
    for s in &plan.steps {
        let text = firewarden_respond::render::step(s, &|_| None);
        let _ = write!(
            b,
            "<li><pre class=\"diff\">{}</pre><p><strong>Undo:</strong> {}</p></li>",
            diff_lines(&text),
            E(&firewarden_respond::render::undo(s))
        );
    }
    b.push_str("</ol>");
    if !plan.notes.is_empty() {
        b.push_str("<h2>Notes from the host</h2><ul>");
        for n in &plan.notes {
            let _ = write!(b, "<li>{}</li>", E(n));
        }
        b.push_str("</ul>");
    }
    if let Some(exp) = plan.expires {
        let _ = write!(
            b,
            "<p>Dead-man switch: the change lifts itself at {} unless confirmed on the host.</p>",
            when(exp)
        );
    }
    let decidable = matches!(r.state, ApprovalState::Pending | ApprovalState::Unratified);
    if decidable {
        let (yes, no) = if r.state == ApprovalState::Unratified {
            ("Ratify", "Dispute")
        } else {
            ("Approve", "Deny")
        };
        let _ = write!(b, "<h2>Your decision</h2>");
        b.push_str(&api_form(
            &format!("{api}/approvals/{}/decision", seg(&r.id)),
            "POST",
            None,
            "stack decision",
        ));
        let _ = write!(
            b,
            "<label for=\"dc-r\">Reason (needed to {})</label><input id=\"dc-r\" name=\"reason\" maxlength=\"2000\">\
             <label for=\"dc-p\">Your password, again: a decision stands for you</label>\
             <input id=\"dc-p\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <div class=\"buttons\"><button type=\"submit\" name=\"approve\" value=\"true\" data-type=\"bool\">{yes}</button>\
             <button type=\"submit\" name=\"approve\" value=\"false\" data-type=\"bool\" class=\"danger\">{no}</button></div>{}</form>",
            no.to_lowercase(),
            html::FORM_STATUS
        );
    }

    // Pre-authorisations on the case.
    b.push_str("<h2>Pre-authorisations on this case</h2>");
    if grants.is_empty() {
        b.push_str("<p class=\"muted\">None: every action above the at-once tier waits for a decision.</p>");
    } else {
        b.push_str("<table><thead><tr><th scope=\"col\">Kinds</th><th scope=\"col\">Hosts</th><th scope=\"col\">Never on</th><th scope=\"col\">Up to risk</th><th scope=\"col\">Granted</th><th scope=\"col\">Expires</th><th scope=\"col\">Withdraw</th></tr></thead><tbody>");
        for g in &grants {
            let s = &g.statement;
            let live = g.revoked.is_none() && s.expires.0 > now.0;
            let state = match &g.revoked {
                Some(r) => format!(" (revoked by {} at {}: {})", E(&r.by), r.at, E(&r.reason)),
                None if !live => " (expired)".to_owned(),
                None => String::new(),
            };
            let withdraw = if live {
                format!(
                    "{}<label for=\"rv-r-{id}\">Why</label><input id=\"rv-r-{id}\" name=\"reason\" required maxlength=\"2000\">\
                     <label for=\"rv-p-{id}\">Your password</label><input id=\"rv-p-{id}\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
                     <button type=\"submit\" class=\"danger\">Revoke</button>{}</form>",
                    api_form(
                        &format!("{api}/preauthorisations/{}/revocation", seg(&s.id)),
                        "POST",
                        None,
                        "stack"
                    ),
                    html::FORM_STATUS,
                    id = E(&s.id)
                )
            } else {
                String::new()
            };
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} by {}</td><td>{}{state}</td><td>{withdraw}</td></tr>",
                E(&if s.kinds.is_empty() {
                    "any".to_owned()
                } else {
                    s.kinds.join(", ")
                }),
                E(&s.hosts.join(", ")),
                E(&s.never_hosts.join(", ")),
                E(&name(&s.max_risk)),
                when(s.granted_at),
                E(&s.granted_by),
                when(s.expires)
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("<details><summary>Grant a pre-authorisation</summary>");
    b.push_str(&api_form(
        &format!("{api}/preauthorisations"),
        "POST",
        None,
        "stack",
    ));
    b.push_str(
        "<label for=\"pa-k\">Kinds of action (comma-separated, empty: any)</label><input id=\"pa-k\" name=\"kinds\" data-type=\"list\" placeholder=\"contain.network, contain.process\">\
         <label for=\"pa-h\">Hosts (comma-separated; * matches)</label><input id=\"pa-h\" name=\"hosts\" data-type=\"list\" required>\
         <label for=\"pa-n\">Never on these hosts</label><input id=\"pa-n\" name=\"never_hosts\" data-type=\"list\">\
         <label for=\"pa-r\">Up to risk</label><select id=\"pa-r\" name=\"max_risk\">",
    );
    b.push_str(&html::options(&[Risk::Low, Risk::Medium, Risk::High], None));
    let _ = write!(
        b,
        "</select><label for=\"pa-t\">For hours</label><input id=\"pa-t\" name=\"hours\" data-type=\"int\" type=\"number\" min=\"1\" max=\"72\" value=\"4\" required>\
         <label for=\"pa-p\">Your password, again</label><input id=\"pa-p\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Grant</button>{}</form></details>",
        html::FORM_STATUS
    );
    Ok(Html(html::page(
        Some(&viewer.frame()),
        Section::Approvals,
        &format!("Approval request {}", r.id),
        &b,
    )))
}

/// A step's text as diff lines: each line marked by its first sign (`+` adds, `-` removes,
/// `~` changes, `!` acts on a process or service) for the stylesheet, escaped.
fn diff_lines(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let class = match line.trim_start().chars().next() {
            Some('+') => "add",
            Some('-') => "del",
            Some('~') => "chg",
            Some('!') => "act",
            _ => "ctx",
        };
        let _ = writeln!(out, "<span class=\"{class}\">{}</span>", E(line));
    }
    out
}
