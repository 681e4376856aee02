//! The tool registry's routes: what binaries and rule packs may produce case data, who approved
//! them, their history, and their validation runs (a `firewarden selftest` result, signed).

use crate::api::{ApiError, ApiResult, App, Auth, Body};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use firewarden_model::selftest::SignedSelftest;
use firewarden_store::{NewTool, ToolRecord, ToolView, ValidationRun};
use serde::Deserialize;

/// GET the registry.
pub(crate) async fn list(State(app): State<App>, Auth(a): Auth) -> ApiResult<Vec<ToolRecord>> {
    Ok(Json(app.store().tools(&a).await?))
}

/// GET one entry with its validation runs.
pub(crate) async fn show(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<ToolView> {
    Ok(Json(app.store().tool(&a, &id).await?))
}

/// POST a new entry (or a new version of one).
pub(crate) async fn register(
    State(app): State<App>,
    Auth(a): Auth,
    Body(new): Body<NewTool>,
) -> Result<(StatusCode, Json<ToolRecord>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.store().register_tool(&a, new).await?),
    ))
}

/// Why a tool is taken out of use.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Withdrawal {
    reason: String,
}

/// POST a withdrawal.
pub(crate) async fn withdraw(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Body(w): Body<Withdrawal>,
) -> ApiResult<ToolRecord> {
    Ok(Json(app.store().withdraw_tool(&a, &id, &w.reason).await?))
}

/// POST a signed validation run: kept when its signature verifies and it ran this very binary.
pub(crate) async fn validate(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Body(run): Body<SignedSelftest>,
) -> ApiResult<ToolView> {
    // Who may is settled before anything in the body is looked at.
    firewarden_store::require_platform(&a, firewarden_case::access::Operation::ManageTools)?;
    let key = firewarden_evidence::PublicKey::parse(&run.signer)
        .map_err(|e| ApiError::bad(format!("signer: {e}")))?;
    let signed = firewarden_evidence::encoding::unhex(&run.signature)
        .is_some_and(|sig| key.verify(&run.result.signed_bytes(), &sig));
    if !signed {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "the validation run's signature does not verify with {}: nothing was kept",
                key.fingerprint()
            ),
        ));
    }
    let passed = run.result.passed && run.result.checks.iter().all(|c| c.passed);
    let kept = ValidationRun {
        tool_sha256: run.result.tool_sha256.clone(),
        passed,
        signer: key.to_hex(),
        result: serde_json::to_value(&run).map_err(ApiError::internal)?,
    };
    Ok(Json(app.store().record_validation(&a, &id, kept).await?))
}
