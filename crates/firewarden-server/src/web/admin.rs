//! Administration: customers and their contracts (SLA targets, approval policy per risk
//! tier, tool policy, webhook), users and roles, the tool registry with its validation
//! results, and the audit log with the state of its hash chain.

use super::html::{self, E, Section, api_form, name, seg};
use super::{PageError, PageResult, Viewer};
use crate::api::App;
use axum::extract::State;
use axum::response::Html;
use firewarden_case::approval::Requirement;
use firewarden_case::model::Role;
use firewarden_case::model::TenantScope;
use std::fmt::Write;

/// Audit records shown (the newest).
const AUDIT_ROWS: u32 = 200;

fn minutes(m: Option<u32>) -> String {
    m.map(|m| html::duration(i64::from(m) * 60))
        .unwrap_or_else(|| "—".into())
}

pub(crate) async fn page(State(app): State<App>, viewer: Viewer) -> PageResult {
    let a = &viewer.actor;
    let store = app.store();
    firewarden_store::require_admin(a).map_err(PageError::from)?;
    let tenants = store.tenants(a).await?;
    let users = store.users(a).await?;
    let tools = store.tools(a).await?;
    let audit = store.audit_latest(a, AUDIT_ROWS).await?;

    let mut b = String::from(
        "<nav class=\"jump\" aria-label=\"On this page\"><a href=\"#tenants\">Customers</a> \
         <a href=\"#users\">Users</a> <a href=\"#tools\">Tools</a> <a href=\"#audit\">Audit</a></nav>",
    );

    b.push_str("<section id=\"tenants\" aria-labelledby=\"h-tenants\"><h2 id=\"h-tenants\">Customers and contracts</h2>");
    b.push_str("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Customer</th><th scope=\"col\">Contract</th>\
                <th scope=\"col\">Acknowledge</th><th scope=\"col\">Remote start</th><th scope=\"col\">On site</th><th scope=\"col\">Containment</th>\
                <th scope=\"col\">Approval low / medium / high</th><th scope=\"col\">Tool policy</th><th scope=\"col\">Webhook</th></tr></thead><tbody>");
    for t in &tenants {
        let sla = t.sla.clone().unwrap_or_default();
        let p = &t.approval_policy;
        let _ = write!(
            b,
            "<tr><td>{}<br><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {} / {}</td><td>{}</td><td>{}</td></tr>",
            E(&t.name),
            E(&t.id),
            E(&t.contract),
            minutes(sla.acknowledge),
            minutes(sla.remote_start),
            minutes(sla.on_site),
            minutes(sla.containment),
            E(&name(&p.low)),
            E(&name(&p.medium)),
            E(&name(&p.high)),
            E(&name(&t.tool_policy)),
            E(&t.webhook)
        );
    }
    b.push_str("</tbody></table></div>");
    b.push_str("<details><summary>Add a customer</summary>");
    b.push_str(&api_form("/api/v1/tenants", "POST", None, "inline"));
    b.push_str("<label for=\"tn-n\">Name</label><input id=\"tn-n\" name=\"name\" required maxlength=\"200\"><button type=\"submit\">Add</button>");
    b.push_str(html::FORM_STATUS);
    b.push_str("</form></details>");
    if !tenants.is_empty() {
        b.push_str("<details><summary>Change a contract</summary>");
        b.push_str(&api_form("/api/v1/tenants/{tenant}", "PATCH", None, "grid"));
        b.push_str("<label for=\"ct-t\">Customer</label><select id=\"ct-t\" name=\"tenant\" data-path=\"tenant\">");
        for t in &tenants {
            let _ = write!(b, "<option value=\"{}\">{}</option>", E(&t.id), E(&t.name));
        }
        b.push_str("</select><label for=\"ct-c\">Contract</label><input id=\"ct-c\" name=\"contract\" maxlength=\"4000\">");
        for (field, label) in [
            ("acknowledge", "Acknowledge within (minutes)"),
            ("remote_start", "Remote analysis within (minutes)"),
            ("on_site", "On site within (minutes)"),
            ("containment", "Contained within (minutes)"),
        ] {
            let _ = write!(
                b,
                "<label for=\"ct-{field}\">{label}</label><input id=\"ct-{field}\" name=\"sla.{field}\" data-type=\"int\" type=\"number\" min=\"1\">"
            );
        }
        for (tier, label) in [
            ("low", "Low-risk actions need"),
            ("medium", "Medium-risk actions need"),
            ("high", "High-risk actions need"),
        ] {
            let _ = write!(
                b,
                "<label for=\"ct-ap-{tier}\">{label}</label><select id=\"ct-ap-{tier}\" name=\"approval_policy.{tier}\">"
            );
            b.push_str(&html::options(
                &[
                    Requirement::AtOnce,
                    Requirement::SecondResponder,
                    Requirement::Customer,
                ],
                None,
            ));
            b.push_str("</select>");
        }
        b.push_str("<label for=\"ct-w\">Webhook (https://…)</label><input id=\"ct-w\" name=\"webhook\" maxlength=\"2000\">\
                    <button type=\"submit\">Save</button>");
        b.push_str(html::FORM_STATUS);
        b.push_str("</form><p class=\"muted\">The SLA targets and the approval policy are saved together: fill in all of them.</p></details>");
    }
    b.push_str("</section>");

    b.push_str("<section id=\"users\" aria-labelledby=\"h-users\"><h2 id=\"h-users\">Users</h2>");
    b.push_str("<table><thead><tr><th scope=\"col\">User</th><th scope=\"col\">Role</th><th scope=\"col\">Customers</th><th scope=\"col\">Password</th><th scope=\"col\">Since</th></tr></thead><tbody>");
    for u in &users {
        let scope = match &u.scope {
            TenantScope::All => "all".to_owned(),
            TenantScope::Only(t) => t
                .iter()
                .map(|id| {
                    tenants
                        .iter()
                        .find(|x| x.id == *id)
                        .map(|x| x.name.clone())
                        .unwrap_or_else(|| id.clone())
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            E(&u.name),
            E(&name(&u.role)),
            E(&scope),
            if u.has_password { "set" } else { "token only" },
            u.created
        );
    }
    b.push_str("</tbody></table>");
    b.push_str("<details><summary>Add a user</summary>");
    b.push_str(&api_form("/api/v1/users", "POST", None, "grid show-answer"));
    b.push_str("<label for=\"us-n\">Name</label><input id=\"us-n\" name=\"name\" required maxlength=\"200\">\
                <label for=\"us-r\">Role</label><select id=\"us-r\" name=\"role\">");
    b.push_str(&html::options(
        &[
            Role::Responder,
            Role::Lead,
            Role::CustomerAuthoriser,
            Role::CustomerViewer,
            Role::Admin,
        ],
        None,
    ));
    b.push_str("</select><label for=\"us-t\">Customer ids (comma-separated)</label><input id=\"us-t\" name=\"tenants\" data-type=\"list\">\
                <label for=\"us-p\">Password (12 or more characters)</label><input id=\"us-p\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"12\">\
                <button type=\"submit\">Add</button>");
    b.push_str(html::FORM_STATUS);
    b.push_str("</form><p class=\"muted\">The new user's API token is shown once, here.</p></details></section>");

    b.push_str(
        "<section id=\"tools\" aria-labelledby=\"h-tools\"><h2 id=\"h-tools\">Tool registry</h2>",
    );
    if tools.is_empty() {
        b.push_str(
            "<p class=\"muted\">No tools registered (<code>firewarden tool register</code>).</p>",
        );
    } else {
        b.push_str("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Tool</th><th scope=\"col\">Kind</th><th scope=\"col\">SHA-256</th><th scope=\"col\">Status</th><th scope=\"col\">Validated</th><th scope=\"col\">Approved</th></tr></thead><tbody>");
        for t in &tools {
            let _ = write!(
                b,
                "<tr><td>{} {}<br><small>{}</small></td><td>{}</td><td><code class=\"hash\">{}</code></td><td>{}{}</td><td>{}</td><td>{} by {}</td></tr>",
                E(&t.name),
                E(&t.version),
                E(&t.source),
                E(&name(&t.kind)),
                E(&t.sha256),
                E(&name(&t.status)),
                t.superseded_by
                    .as_deref()
                    .map(|s| format!(" (superseded by {})", E(s)))
                    .unwrap_or_default(),
                if t.validated {
                    "✔ a passing run is on record"
                } else {
                    "✘ no passing run"
                },
                t.approved_at,
                E(&t.approved_by)
            );
        }
        b.push_str("</tbody></table></div>");
    }
    b.push_str("</section>");

    b.push_str(
        "<section id=\"audit\" aria-labelledby=\"h-audit\"><h2 id=\"h-audit\">Audit log</h2>",
    );
    b.push_str(
        "<p><a href=\"/ui/admin/audit-verify\">Check the whole hash chain</a> (reads every record: slow on a long log)</p>",
    );
    b.push_str("<div class=\"scroll\"><table class=\"audit\"><thead><tr><th scope=\"col\">#</th><th scope=\"col\">UTC</th><th scope=\"col\">Who</th><th scope=\"col\">Did</th><th scope=\"col\">On</th><th scope=\"col\">Detail</th></tr></thead><tbody>");
    for r in &audit {
        let target = if r.target.starts_with('C') && r.target.len() < 64 {
            format!(
                "<a href=\"/ui/cases/{}\">{}</a>",
                seg(&r.target),
                E(&r.target)
            )
        } else {
            E(&r.target).to_string()
        };
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{target}</td><td>{}</td></tr>",
            r.seq,
            r.at,
            E(&r.actor),
            E(&r.action),
            E(&r.detail)
        );
    }
    b.push_str("</tbody></table></div></section>");
    Ok(Html(html::page(
        Some(&viewer.frame()),
        Section::Admin,
        "Administration",
        &b,
    )))
}

/// Checks the audit log's whole hash chain.
pub(crate) async fn verify(State(app): State<App>, viewer: Viewer) -> PageResult {
    firewarden_store::require_admin(&viewer.actor).map_err(PageError::from)?;
    let b = match app.store().verify_audit().await? {
        Ok(n) => format!(
            "<p class=\"ok\" role=\"status\">✔ The hash chain of all {n} record(s) is intact.</p>"
        ),
        Err(brk) => format!(
            "<p class=\"bad\" role=\"alert\">✘ The hash chain breaks at record {}: {}</p>",
            brk.seq,
            E(&brk.reason)
        ),
    };
    let b = format!("{b}<p><a href=\"/ui/admin#audit\">Back</a></p>");
    Ok(Html(html::page(
        Some(&viewer.frame()),
        Section::Admin,
        "Audit chain",
        &b,
    )))
}
