//! The case list: live SLA clocks, severity, stage, owner; filters and search; a new case.

use super::html::{self, E, Section, api_form, name, seg, severity_badge};
use super::{PageResult, Viewer};
use crate::api::App;
use axum::extract::{Query, State};
use axum::response::Html;
use firewarden_case::access::{Decision, Operation, authorize};
use firewarden_case::model::{CaseStatus, IncidentKind};
use firewarden_case::sla::{Clock, ClockState};
use firewarden_case::stage::Stage;
use firewarden_model::{Severity, Timestamp};
use firewarden_store::CaseQuery;
use serde::Deserialize;
use std::fmt::Write;

/// Cases per page.
const PAGE: u32 = 50;

/// The list's filters, as the form sends them (empty: no filter).
#[derive(Deserialize, Default)]
pub(crate) struct Filters {
    #[serde(default)]
    q: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    before: String,
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    if text.is_empty() {
        return None;
    }
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

/// The clock that matters most for a case: breached first, then the one due soonest.
fn pressing(clocks: &[Clock]) -> Option<&Clock> {
    let running = |c: &&Clock| {
        matches!(
            c.state,
            ClockState::Running | ClockState::Warning | ClockState::Breached
        )
    };
    clocks
        .iter()
        .filter(running)
        .min_by_key(|c| c.due.0)
        .or_else(|| clocks.iter().find(|c| c.state == ClockState::MetLate))
}

/// A clock as the list shows it; the page's script counts `data-due` down every second.
pub(crate) fn clock_cell(c: &Clock, now: Timestamp) -> String {
    let left = c.due.0 - now.0;
    let (class, word) = match c.state {
        ClockState::Breached => ("breach", "BREACHED"),
        ClockState::Warning => ("warn", "due soon"),
        ClockState::Running => ("ok", "due"),
        ClockState::MetLate => ("breach", "met late"),
        ClockState::Met => ("ok", "met"),
    };
    let when = if matches!(c.state, ClockState::Met | ClockState::MetLate) {
        String::new()
    } else if left >= 0 {
        format!(" in {}", html::duration(left))
    } else {
        format!(" {} ago", html::duration(left))
    };
    format!(
        "<span class=\"clock {class}\" data-due=\"{}\" data-label=\"{}\">{} {word}<span class=\"left\">{when}</span></span>",
        c.due.0,
        E(c.kind.label()),
        E(c.kind.label())
    )
}

/// A labelled filter: "any", then the values.
fn select<T: serde::Serialize>(id: &str, label: &str, all: &[T], chosen: &str) -> String {
    format!(
        "<label for=\"{id}\">{label}</label><select id=\"{id}\" name=\"{id}\"><option value=\"\">any</option>{}</select>",
        html::options(all, Some(chosen))
    )
}

pub(crate) async fn list(
    State(app): State<App>,
    viewer: Viewer,
    Query(f): Query<Filters>,
) -> PageResult {
    let store = app.store();
    let a = &viewer.actor;
    let tenants = store.tenants(a).await?;
    let query = CaseQuery {
        tenant: (!f.tenant.is_empty()).then(|| f.tenant.clone()),
        status: parse::<CaseStatus>(&f.status),
        limit: Some(PAGE + 1),
        offset: None,
        before: (!f.before.is_empty()).then(|| f.before.clone()),
        severity: parse::<Severity>(&f.severity),
        stage: parse::<Stage>(&f.stage),
        q: (!f.q.trim().is_empty()).then(|| f.q.trim().to_owned()),
    };
    let mut cases = store.cases_page(a, &query).await?;
    let more = cases.len() > PAGE as usize;
    cases.truncate(PAGE as usize);
    let now = Timestamp::now();
    let board = store.sla_board(a, &cases, now).await?;
    let tenant_name = |id: &str| {
        tenants
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| id.to_owned())
    };

    let mut body = String::new();
    // Filters: a plain GET form, so every filtered view has its own address.
    body.push_str(
        "<form class=\"filters\" method=\"get\" action=\"/ui/cases\" role=\"search\">\
         <label for=\"q\">Search</label>",
    );
    let _ = write!(
        body,
        "<input id=\"q\" name=\"q\" value=\"{}\" placeholder=\"title or id\">",
        E(&f.q)
    );
    if tenants.len() > 1 {
        body.push_str("<label for=\"tenant\">Customer</label><select id=\"tenant\" name=\"tenant\"><option value=\"\">any</option>");
        for t in &tenants {
            let sel = if t.id == f.tenant { " selected" } else { "" };
            let _ = write!(
                body,
                "<option value=\"{}\"{sel}>{}</option>",
                E(&t.id),
                E(&t.name)
            );
        }
        body.push_str("</select>");
    }
    body.push_str(&select(
        "status",
        "Status",
        &[CaseStatus::Open, CaseStatus::Closed],
        &f.status,
    ));
    body.push_str(&select(
        "severity",
        "Severity",
        &[
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ],
        &f.severity,
    ));
    body.push_str(&select("stage", "Stage", &Stage::ALL, &f.stage));
    body.push_str("<button type=\"submit\">Filter</button> <a href=\"/ui/cases\">Clear</a></form>");

    if cases.is_empty() {
        body.push_str("<p class=\"empty\">No cases match.</p>");
    } else {
        body.push_str(
            "<div class=\"scroll\"><table class=\"cases\"><caption class=\"sr\">Cases, newest first</caption><thead><tr>\
             <th scope=\"col\">Case</th><th scope=\"col\">Customer</th><th scope=\"col\">Severity</th>\
             <th scope=\"col\">Stage</th><th scope=\"col\">Owner</th><th scope=\"col\">SLA</th>\
             <th scope=\"col\">Declared</th></tr></thead><tbody>",
        );
        for c in &cases {
            let clock = board
                .iter()
                .find(|(id, _)| *id == c.id)
                .and_then(|(_, clocks)| pressing(clocks))
                .map(|k| clock_cell(k, now))
                .unwrap_or_else(|| match (c.status, c.sla_breached) {
                    (CaseStatus::Closed, Some(_)) => {
                        "<span class=\"clock breach\">closed, was breached</span>".into()
                    }
                    (CaseStatus::Closed, None) => "closed".into(),
                    (_, _) => "<span class=\"muted\">no target</span>".into(),
                });
            let _ = write!(
                body,
                "<tr><td><a href=\"/ui/cases/{}\">{}</a><br><small>{} · {}</small></td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{clock}</td><td><time datetime=\"{}\">{}</time></td></tr>",
                seg(&c.id),
                E(&c.title),
                E(&c.id),
                E(&name(&c.kind)),
                E(&tenant_name(&c.tenant)),
                severity_badge(c.severity),
                E(c.stage.as_str()),
                E(&c.owner),
                c.created,
                c.created
            );
        }
        body.push_str("</tbody></table></div>");
        if more && let Some(last) = cases.last() {
            let mut next = format!(
                "/ui/cases?before={}",
                seg(&format!("{}|{}", last.created, last.id))
            );
            for (k, v) in [
                ("q", &f.q),
                ("tenant", &f.tenant),
                ("status", &f.status),
                ("severity", &f.severity),
                ("stage", &f.stage),
            ] {
                if !v.is_empty() {
                    let _ = write!(next, "&{k}={}", seg(v));
                }
            }
            let _ = write!(
                body,
                "<p><a rel=\"next\" href=\"{}\">Older cases</a></p>",
                E(&next)
            );
        }
    }

    // A new case, for those who may open one for some customer.
    let may_create: Vec<_> = tenants
        .iter()
        .filter(|t| authorize(a, Operation::CreateCase, Some(&t.id)) == Decision::Allow)
        .collect();
    if !may_create.is_empty() {
        body.push_str(
            "<section aria-labelledby=\"new-case\"><h2 id=\"new-case\">Declare a case</h2>",
        );
        body.push_str(&api_form(
            "/api/v1/cases",
            "POST",
            Some("/ui/cases/{id}"),
            "grid",
        ));
        body.push_str("<label for=\"nc-tenant\">Customer</label><select id=\"nc-tenant\" name=\"tenant\" required>");
        for t in may_create {
            let _ = write!(
                body,
                "<option value=\"{}\">{}</option>",
                E(&t.id),
                E(&t.name)
            );
        }
        body.push_str("</select><label for=\"nc-title\">Title</label><input id=\"nc-title\" name=\"title\" required maxlength=\"500\">");
        let _ = write!(
            body,
            "<label for=\"nc-kind\">Kind</label><select id=\"nc-kind\" name=\"kind\">{}</select>\
             <label for=\"nc-severity\">Severity</label><select id=\"nc-severity\" name=\"severity\">{}</select>",
            html::options(&IncidentKind::ALL, None),
            html::options(
                &[
                    Severity::High,
                    Severity::Critical,
                    Severity::Medium,
                    Severity::Low
                ],
                None
            )
        );
        body.push_str("<button type=\"submit\">Declare</button>");
        body.push_str(html::FORM_STATUS);
        body.push_str("</form></section>");
    }
    Ok(Html(html::page(
        Some(&viewer.frame()),
        Section::Cases,
        "Cases",
        &body,
    )))
}
