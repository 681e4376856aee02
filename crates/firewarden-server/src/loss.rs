//! Business-loss evaluation routes: services with their assets, recorded downtime, loss ranges
//! per VERIS variety, the overall rating, and the evaluation with the downtime the case shows.

use crate::api::{ApiError, ApiResult, App, Auth, Body};
use axum::Json;
use axum::extract::{Path, State};
use firewarden_case::loss::{Criticality, Downtime, Loss, LossVariety, Rating, Service};
use firewarden_model::Timestamp;
use serde::Deserialize;

/// GET the evaluation.
pub(crate) async fn show(
    State(app): State<App>,
    Auth(a): Auth,
    Path(case): Path<String>,
) -> ApiResult<firewarden_store::LossView> {
    Ok(Json(app.store().loss(&a, &case).await?))
}

/// GET the case as a VERIS incident record.
pub(crate) async fn veris(
    State(app): State<App>,
    Auth(a): Auth,
    Path(case): Path<String>,
) -> ApiResult<serde_json::Value> {
    let facts = app.store().report_facts(&a, &case).await?;
    Ok(Json(firewarden_summary::veris::incident(&facts)))
}

/// A service's figures.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceBody {
    criticality: Criticality,
    cost_per_hour: u64,
    currency: String,
    assets: Vec<String>,
}

/// PUT a service.
pub(crate) async fn service(
    State(app): State<App>,
    Auth(a): Auth,
    Path((case, name)): Path<(String, String)>,
    Body(b): Body<ServiceBody>,
) -> ApiResult<Service> {
    let s = Service {
        name,
        criticality: b.criticality,
        cost_per_hour: b.cost_per_hour,
        currency: b.currency,
        assets: b.assets,
    };
    Ok(Json(app.store().set_service(&a, &case, s).await?))
}

/// A stretch of downtime.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DowntimeBody {
    asset: String,
    from: String,
    until: Option<String>,
    #[serde(default)]
    note: String,
}

/// POST downtime.
pub(crate) async fn downtime(
    State(app): State<App>,
    Auth(a): Auth,
    Path(case): Path<String>,
    Body(b): Body<DowntimeBody>,
) -> ApiResult<Downtime> {
    let parse = |t: &str| {
        Timestamp::parse(t).ok_or_else(|| ApiError::bad(format!("`{t}` is not an RFC 3339 time")))
    };
    let from = parse(&b.from)?;
    let until = b.until.as_deref().map(parse).transpose()?;
    Ok(Json(
        app.store()
            .record_downtime(&a, &case, &b.asset, from, until, &b.note)
            .await?,
    ))
}

/// A loss range.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LossBody {
    min: u64,
    likely: u64,
    max: u64,
    currency: String,
    #[serde(default)]
    note: String,
}

/// PUT the range of a variety.
pub(crate) async fn loss(
    State(app): State<App>,
    Auth(a): Auth,
    Path((case, variety)): Path<(String, LossVariety)>,
    Body(b): Body<LossBody>,
) -> ApiResult<Loss> {
    let l = Loss {
        variety,
        min: b.min,
        likely: b.likely,
        max: b.max,
        currency: b.currency,
        note: b.note,
    };
    Ok(Json(app.store().set_loss(&a, &case, l).await?))
}

/// The overall rating.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RatingBody {
    rating: Rating,
}

/// PUT the overall rating.
pub(crate) async fn rating(
    State(app): State<App>,
    Auth(a): Auth,
    Path(case): Path<String>,
    Body(b): Body<RatingBody>,
) -> ApiResult<Rating> {
    Ok(Json(app.store().set_rating(&a, &case, b.rating).await?))
}
