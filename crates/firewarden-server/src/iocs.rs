//! Indicators across cases and customers: where else each was seen (counts only across
//! customers), adding one by hand with a retro-hunt in the customer's open cases, imports from
//! STIX or MISP, exports as STIX 2.1 and CSV; and the case timeline for Timesketch.

use crate::api::{ApiError, ApiResult, App, Auth, Body};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use firewarden_case::ioc::IocKind;
use serde::Deserialize;
use serde_json::{Value, json};

/// GET each indicator with its sightings.
pub(crate) async fn linkage(
    State(app): State<App>,
    Auth(a): Auth,
    Path(case): Path<String>,
) -> ApiResult<Vec<firewarden_store::IocLinkage>> {
    Ok(Json(app.store().ioc_linkage(&a, &case).await?))
}

/// An indicator to add.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewIoc {
    kind: IocKind,
    value: String,
}

/// POST one indicator; the answer lists the customer's other open cases that hold it.
pub(crate) async fn add(
    State(app): State<App>,
    Auth(a): Auth,
    Path(case): Path<String>,
    Body(n): Body<NewIoc>,
) -> Result<(StatusCode, Json<firewarden_store::AddedIoc>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.store().add_ioc(&a, &case, n.kind, &n.value).await?),
    ))
}

/// POST a STIX 2.1 bundle, a MISP event or a list of `{type, value}`.
pub(crate) async fn import(
    State(app): State<App>,
    Auth(a): Auth,
    Path(case): Path<String>,
    Body(doc): Body<Value>,
) -> ApiResult<Value> {
    app.store()
        .may(&a, &case, firewarden_case::access::Operation::EditCase)
        .await?;
    let (iocs, problems) = firewarden_case::stix::parse_indicators(&doc);
    if iocs.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "no indicator in it: {}",
                problems.first().cloned().unwrap_or_default()
            ),
        ));
    }
    let n = iocs.len();
    let added = app.store().add_iocs(&a, &case, iocs).await?;
    Ok(Json(
        json!({"indicators": n, "new": added, "not_taken": problems}),
    ))
}

async fn with_times(
    app: &App,
    a: &firewarden_case::access::Actor,
    case: &str,
) -> Result<
    (
        firewarden_store::Case,
        Vec<(firewarden_case::ioc::Ioc, String)>,
    ),
    ApiError,
> {
    let c = app.store().case(a, case).await?;
    let iocs = app
        .store()
        .iocs_seen(a, case)
        .await?
        .into_iter()
        .map(|(i, t)| (i, t.to_string()))
        .collect();
    Ok((c, iocs))
}

/// GET the case's indicators as a STIX 2.1 bundle, marked with the case's TLP.
pub(crate) async fn stix(
    State(app): State<App>,
    Auth(a): Auth,
    Path(case): Path<String>,
) -> ApiResult<Value> {
    let (c, iocs) = with_times(&app, &a, &case).await?;
    Ok(Json(firewarden_case::stix::bundle(
        &c.id, &c.title, c.tlp, &iocs,
    )))
}

/// GET the case's indicators as CSV.
pub(crate) async fn csv(
    State(app): State<App>,
    Auth(a): Auth,
    Path(case): Path<String>,
) -> Result<Response, ApiError> {
    let (_, iocs) = with_times(&app, &a, &case).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        firewarden_case::stix::csv(&iocs),
    )
        .into_response())
}

/// GET the case's whole timeline as Timesketch JSON lines (`message`, `datetime`,
/// `timestamp_desc`, and the zone, kind, source and actor of each event).
pub(crate) async fn timesketch(
    State(app): State<App>,
    Auth(a): Auth,
    Path(case): Path<String>,
) -> Result<Response, ApiError> {
    let mut events = Vec::new();
    // The whole timeline, a page at a time.
    loop {
        let page = app
            .store()
            .timeline(&a, &case, events.len() as u32, 5000)
            .await?;
        let n = page.len();
        events.extend(page);
        if n < 5000 {
            break;
        }
    }
    let mut out = String::new();
    for e in events {
        out.push_str(
            &json!({
                "message": e.text,
                "datetime": e.at.to_string(),
                "timestamp_desc": e.kind,
                "zone": e.zone,
                "source": e.source,
                "actor": e.actor,
                "case": case,
            })
            .to_string(),
        );
        out.push('\n');
    }
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8")],
        out,
    )
        .into_response())
}
