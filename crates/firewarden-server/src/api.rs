//! The routes. Each is one entry in [`routes`]: its method, path, who may call it and its
//! handler; the router and the OpenAPI document are both made from that list, so a route
//! cannot exist without being documented (and probed by the tenant-isolation test). Handlers
//! only translate: the store decides who sees what and writes the audit record.

use crate::evidence::EvidenceStore;
use crate::upload;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, patch, post, put};
use axum::{Json, Router};
use firewarden_case::access::Actor;
use firewarden_case::model::{Compromise, IncidentKind, Role, Tlp};
use firewarden_case::stage::GateError;
use firewarden_model::Severity;
use firewarden_store::{CasePatch, FindingQuery, Payload, Store, StoreError, Upload};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

/// Largest JSON request body (uploads go through the import route, streamed).
const MAX_JSON_BODY: usize = 1 << 20;

/// Failed logins per user name in [`LOGIN_WINDOW_SECS`] before logins are refused (429).
const MAX_LOGIN_FAILURES: i64 = 5;
const LOGIN_WINDOW_SECS: i64 = 15 * 60;
/// A login's session token lives this long.
pub(crate) const SESSION_SECS: i64 = 12 * 3600;

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    evidence: EvidenceStore,
    tmp: PathBuf,
    max_upload: u64,
    /// A hash to check a password against when the user does not exist, so that the answer
    /// takes as long either way.
    dummy_hash: String,
    /// Who recent tokens belong to, for [`TOKEN_CACHE`]: saves a database round trip on
    /// most requests. Short, so that a removed user is out within seconds on every server.
    tokens: std::sync::Mutex<std::collections::HashMap<String, (Actor, std::time::Instant)>>,
    /// Signs approvals, pre-authorisations, SLA webhooks and the server's custody events.
    signing_key: Arc<firewarden_evidence::keys::KeyPair>,
    /// Opens the tenants' evidence keys.
    keyring: Arc<crate::evidence::Keyring>,
}

impl App {
    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }
    pub(crate) fn evidence(&self) -> &EvidenceStore {
        &self.inner.evidence
    }
    pub(crate) fn tmp(&self) -> &std::path::Path {
        &self.inner.tmp
    }
    pub(crate) fn signing_key(&self) -> Arc<firewarden_evidence::keys::KeyPair> {
        Arc::clone(&self.inner.signing_key)
    }
    pub(crate) fn keyring(&self) -> &crate::evidence::Keyring {
        &self.inner.keyring
    }
}

/// How long a token's owner is remembered.
const TOKEN_CACHE: std::time::Duration = std::time::Duration::from_secs(2);
/// How many tokens are remembered at most (then all are forgotten).
const TOKEN_CACHE_SIZE: usize = 10_000;

impl App {
    /// The state for the router. `signing_key` signs approvals, pre-authorisations and SLA
    /// webhooks (every server on one database has the same: [`Store::server_key`]).
    pub fn new(
        store: Store,
        evidence: EvidenceStore,
        tmp: PathBuf,
        max_upload: u64,
        signing_key: Arc<firewarden_evidence::keys::KeyPair>,
        keyring: Arc<crate::evidence::Keyring>,
    ) -> App {
        App {
            inner: Arc::new(Inner {
                store,
                evidence,
                tmp,
                max_upload,
                signing_key,
                keyring,
                dummy_hash: hash_password("not a password").unwrap_or_default(),
                tokens: Default::default(),
            }),
        }
    }
}

/// An error answer: a status and a reason a person can act on, as JSON.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    reason: String,
    /// More machine-readable fields of the answer (the version now stored, a checklist).
    extra: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    /// An error with a status and reason.
    pub fn new(status: StatusCode, reason: impl Into<String>) -> ApiError {
        ApiError {
            status,
            reason: reason.into(),
            extra: serde_json::Map::new(),
        }
    }

    /// Its status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Its reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// 400.
    pub fn bad(reason: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, reason)
    }

    /// 500; the cause goes to the server's log, not to the client.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        eprintln!("firewarden server: internal error: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error (see the server log)",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not found"),
            StoreError::Forbidden => {
                ApiError::new(StatusCode::FORBIDDEN, "your role may not do this")
            }
            StoreError::Conflict(v) => {
                let mut e = ApiError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "changed by someone else since you read it (now at version {v}): read it again"
                    ),
                );
                e.extra.insert("current_version".into(), v.into());
                e
            }
            StoreError::Settled(why) => ApiError::new(StatusCode::CONFLICT, why),
            StoreError::Invalid(why) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, why),
            StoreError::Gate(g) => {
                let status = match g {
                    GateError::OverrideNotAllowed => StatusCode::FORBIDDEN,
                    _ => StatusCode::CONFLICT,
                };
                let mut e = ApiError::new(status, g.to_string());
                // The client shows the checklist.
                if let GateError::Unmet(list) = &g {
                    e.extra.insert("checklist".into(), json!(list));
                }
                e
            }
            StoreError::Db(e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = self.extra;
        body.insert("error".into(), self.reason.into());
        body.insert("status".into(), self.status.as_u16().into());
        (self.status, Json(body)).into_response()
    }
}

pub(crate) type ApiResult<T> = Result<Json<T>, ApiError>;

/// The caller, from `Authorization: Bearer TOKEN`, or from the web console's session cookie.
/// A request that changes something with the cookie must also carry the session's CSRF token
/// in `X-CSRF-Token` (a page of another site can send the cookie, never that header), and is
/// refused outright when the browser says it comes from another site.
pub struct Auth(pub Actor);

impl FromRequestParts<App> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Auth, ApiError> {
        let unauthorised = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "a valid bearer token is needed (Authorization: Bearer …)",
            )
        };
        let token = crate::web::request_token(parts)?.ok_or_else(unauthorised)?;
        actor_for(app, token).await.map(Auth)
    }
}

/// Who a token belongs to (cached for [`TOKEN_CACHE`]).
pub(crate) async fn actor_for(app: &App, token: &str) -> Result<Actor, ApiError> {
    let unauthorised = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a valid bearer token is needed (Authorization: Bearer …)",
        )
    };
    if token.len() > 200 {
        return Err(unauthorised());
    }
    let key = firewarden_store::token_hash(token);
    let lock = || app.inner.tokens.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((actor, at)) = lock().get(&key)
        && at.elapsed() < TOKEN_CACHE
    {
        return Ok(actor.clone());
    }
    match app.inner.store.actor_for_token(token).await? {
        Some(actor) => {
            let mut cache = lock();
            if cache.len() >= TOKEN_CACHE_SIZE {
                cache.clear();
            }
            cache.insert(key, (actor.clone(), std::time::Instant::now()));
            Ok(actor)
        }
        None => Err(unauthorised()),
    }
}

/// Forgets a token at once (logging out), on this server; others forget it within
/// [`TOKEN_CACHE`].
pub(crate) fn forget_token(app: &App, token: &str) {
    let key = firewarden_store::token_hash(token);
    app.inner
        .tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&key);
}

/// A JSON body whose rejection is a JSON error with the reason.
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequest<App> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &App) -> Result<Body<T>, ApiError> {
        match Json::<T>::from_request(req, app).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(ApiError::new(e.status(), e.body_text())),
        }
    }
}

/// Who may call a route (for the document; the store enforces it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// Any user; answers only with the caller's own tenants' data.
    User,
    /// Admins only (platform-wide).
    Admin,
    /// Who may read the case.
    CaseRead,
    /// Who may change the case.
    CaseEdit,
    /// Leads and admins of the case's tenant.
    CaseLead,
    /// Who may decide the case's approval requests: another responder, or the customer's
    /// authoriser, each re-entering their password.
    CaseDecide,
}

/// One route.
pub struct Route {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path under the server root, with `{param}`s.
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Request body, when there is one: a media type and a short description.
    pub body: Option<(&'static str, &'static str)>,
    handler: MethodRouter<App>,
}

fn route(
    method: &'static str,
    path: &'static str,
    access: Access,
    summary: &'static str,
    body: Option<(&'static str, &'static str)>,
    handler: MethodRouter<App>,
) -> Route {
    Route {
        method,
        path,
        summary,
        access,
        body,
        handler,
    }
}

const JSON: &str = "application/json";

/// Every route the server has.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        route(
            "GET",
            "/api/v1/openapi.json",
            Public,
            "This document.",
            None,
            get(openapi),
        ),
        route(
            "POST",
            "/api/v1/login",
            Public,
            "Exchanges a user name and password for a session token (rate-limited).",
            Some((JSON, "{name, password}")),
            post(login),
        ),
        route(
            "GET",
            "/api/v1/me",
            User,
            "Who the token belongs to.",
            None,
            get(me),
        ),
        route(
            "GET",
            "/api/v1/tenants",
            User,
            "The tenants (customers) the caller sees.",
            None,
            get(tenants),
        ),
        route(
            "POST",
            "/api/v1/tenants",
            Admin,
            "Adds a tenant.",
            Some((JSON, "{name}")),
            post(add_tenant),
        ),
        route(
            "PATCH",
            "/api/v1/tenants/{tenant}",
            Admin,
            "Sets a tenant's contacts, contract, SLA targets (minutes; `{}` removes them), webhook, approval policy or tool policy (imports from tools short of validated: `flag` or `refuse`).",
            Some((
                JSON,
                "{contacts?, contract?, sla?: {acknowledge?, remote_start?, on_site?, containment?}, webhook?, approval_policy?, tool_policy?: flag|refuse}",
            )),
            patch(update_tenant),
        ),
        route(
            "GET",
            "/api/v1/users",
            Admin,
            "Every user.",
            None,
            get(users),
        ),
        route(
            "POST",
            "/api/v1/users",
            Admin,
            "Adds a user; the answer holds their token, shown once.",
            Some((JSON, "{name, role, tenants?, password?}")),
            post(add_user),
        ),
        route(
            "GET",
            "/api/v1/cases",
            User,
            "The cases the caller sees, newest first (`tenant`, `status`, `limit`; the next page with `before=CREATED|ID` of the last case).",
            None,
            get(cases),
        ),
        route(
            "POST",
            "/api/v1/cases",
            CaseEdit,
            "Opens a case for a tenant.",
            Some((JSON, "{tenant, title, kind, severity}")),
            post(new_case),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}",
            CaseRead,
            "One case.",
            None,
            get(case),
        ),
        route(
            "PATCH",
            "/api/v1/cases/{case}",
            CaseEdit,
            "Changes a case read at `version` (409 when changed since).",
            Some((
                JSON,
                "{version, title?, severity?, tlp?, pap?, entry_point?, authority?}",
            )),
            patch(update_case),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/findings",
            CaseRead,
            "The case's findings as imported (`asset`, `min_severity`, `limit`, `after`).",
            None,
            get(findings),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/imports",
            CaseRead,
            "What was pushed into the case.",
            None,
            get(imports),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/imports",
            CaseEdit,
            "Pushes a triage, scan or hunt result, an action journal or an evidence bundle (`asset`; for a bundle, `ledger_bytes` of custody ledger first; for a signed journal, `signer` and `signature` in hex: only signed journals count for the gates). Recognised by content; bundles are verified first; all or nothing. With `check=true` and `size`, the body is the first 8 KiB only and nothing is stored: would it be taken?",
            Some(("application/octet-stream", "the file, streamed")),
            post(push),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/assets",
            CaseRead,
            "The hosts in the case.",
            None,
            get(assets),
        ),
        route(
            "PUT",
            "/api/v1/cases/{case}/assets/{asset}",
            CaseEdit,
            "Adds a host or sets its compromise status (`version` when it exists).",
            Some((JSON, "{compromise, version?}")),
            put(set_asset),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/notes",
            CaseRead,
            "Notes, oldest first.",
            None,
            get(notes),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/notes",
            CaseEdit,
            "Writes a note.",
            Some((JSON, "{body, lesson?: true for a lesson learned}")),
            post(add_note),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/tasks",
            CaseRead,
            "Tasks.",
            None,
            get(tasks),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/tasks",
            CaseEdit,
            "Adds a task.",
            Some((
                JSON,
                "{title, owner?, due?: YYYY-MM-DD} (a recommendation has an owner and a deadline)",
            )),
            post(add_task),
        ),
        route(
            "PATCH",
            "/api/v1/cases/{case}/tasks/{task}",
            CaseEdit,
            "Marks a task done or open at `version`.",
            Some((JSON, "{version, done}")),
            patch(update_task),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/timeline",
            CaseRead,
            "The timeline, oldest first (`offset`, `limit`).",
            None,
            get(timeline),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/iocs",
            CaseRead,
            "Indicators extracted and normalised from the case's imports.",
            None,
            get(iocs),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/evidence",
            CaseRead,
            "Evidence bundles held (write-once).",
            None,
            get(evidence),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/iocs/linkage",
            CaseRead,
            "Each indicator with where else it was seen: other incidents and customers in the last 30 days and when first (counts only, never which customer; TLP:RED cases are not in the index), and this customer's own open cases holding it.",
            None,
            get(crate::iocs::linkage),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/iocs",
            CaseEdit,
            "Adds an indicator by hand (normalised); the answer lists this customer's other open cases whose imported data hold it (retro-hunt).",
            Some((
                JSON,
                "{kind: ipv4|ipv6|domain|url|md5|sha1|sha256|path|account, value}",
            )),
            post(crate::iocs::add),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/iocs/import",
            CaseEdit,
            "Adds indicators from a STIX 2.1 bundle, a MISP event or a list of {type, value}; what was not taken is listed.",
            Some((
                JSON,
                "STIX 2.1 bundle | MISP {Event: {Attribute: [...]}} | [{type, value}]",
            )),
            post(crate::iocs::import),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/iocs/stix",
            CaseRead,
            "The case's indicators as a STIX 2.1 bundle (stable ids, the case's TLP marking).",
            None,
            get(crate::iocs::stix),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/iocs/csv",
            CaseRead,
            "The case's indicators as CSV (kind, value, first_seen).",
            None,
            get(crate::iocs::csv),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/timeline/timesketch",
            CaseRead,
            "The case's whole timeline as Timesketch JSON lines (message, datetime, timestamp_desc, zone, source, actor).",
            None,
            get(crate::iocs::timesketch),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/loss",
            CaseRead,
            "The business-loss evaluation: services, downtime (from the case: first containment to last recovery per asset; and as recorded), loss ranges per VERIS variety with totals, what the downtime costs the services, the overall rating.",
            None,
            get(crate::loss::show),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/loss/veris",
            CaseRead,
            "The case as a VERIS 1.4 incident record (JSON Schema verisc-merged 1.4.1): timeline, actor, actions, assets, attributes, the loss ranges and overall rating; indicators unless TLP:RED; Unknown where the case does not know.",
            None,
            get(crate::loss::veris),
        ),
        route(
            "PUT",
            "/api/v1/cases/{case}/services/{service}",
            CaseEdit,
            "Records a business service: its criticality, what an hour of it down costs, and the assets it runs on.",
            Some((
                JSON,
                "{criticality: low|medium|high|critical, cost_per_hour, currency, assets: [...]}",
            )),
            put(crate::loss::service),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/downtime",
            CaseEdit,
            "Records a stretch of downtime of an asset (RFC 3339 times; no `until`: still down).",
            Some((JSON, "{asset, from, until?, note?}")),
            post(crate::loss::downtime),
        ),
        route(
            "PUT",
            "/api/v1/cases/{case}/losses/{variety}",
            CaseEdit,
            "Records the loss range of one VERIS variety (asset_and_fraud, brand_damage, business_disruption, competitive_advantage, legal_and_regulatory, operating_costs, response_and_recovery).",
            Some((JSON, "{min, likely, max, currency, note?}")),
            put(crate::loss::loss),
        ),
        route(
            "PUT",
            "/api/v1/cases/{case}/loss/rating",
            CaseEdit,
            "Sets the overall rating (insignificant, distracting, painful, damaging, catastrophic, unknown).",
            Some((JSON, "{rating}")),
            put(crate::loss::rating),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/reports",
            CaseEdit,
            "Makes the signed summary report from the case's data alone (format html, md, json or pdf; lang en or zh) and keeps it with the case.",
            Some((JSON, "{format?: html|md|json|pdf, lang?: en|zh}")),
            post(crate::reports::make),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/reports",
            CaseRead,
            "The reports kept for the case: when, by whom, format, language, the case version and the SHA-256 of each.",
            None,
            get(crate::reports::list),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/reports/{report}",
            CaseRead,
            "One kept report's file, exactly as delivered (check it with `firewarden report verify`).",
            None,
            get(crate::reports::fetch),
        ),
        route(
            "GET",
            "/api/v1/tools",
            User,
            "The tool registry: every binary and rule pack by SHA-256, its source, licence, approver, history and whether it is validated.",
            None,
            get(crate::tools::list),
        ),
        route(
            "POST",
            "/api/v1/tools",
            Admin,
            "Registers a binary or rule pack, approved by the caller; with `replaces` (and `changes`), a new version of an entry, which stays as history.",
            Some((
                JSON,
                "{kind: binary|yara|sigma|ioc, name, version, sha256, source, licence, replaces?, changes?}",
            )),
            post(crate::tools::register),
        ),
        route(
            "GET",
            "/api/v1/tools/{tool}",
            User,
            "One registry entry with its validation runs.",
            None,
            get(crate::tools::show),
        ),
        route(
            "POST",
            "/api/v1/tools/{tool}/validations",
            Admin,
            "Keeps a signed `firewarden selftest` result of the entry's binary: a passing run of that very hash makes it validated.",
            Some((
                JSON,
                "{result, signer, signature} (firewarden selftest --key)",
            )),
            post(crate::tools::validate),
        ),
        route(
            "POST",
            "/api/v1/tools/{tool}/withdrawal",
            Admin,
            "Takes an entry out of use (imports from it are flagged, or refused by tenants that accept validated tools only).",
            Some((JSON, "{reason}")),
            post(crate::tools::withdraw),
        ),
        route(
            "GET",
            "/api/v1/evidence/{evidence}",
            CaseRead,
            "An evidence item with its custody ledger: events, where it stands (checked out, disposed of), problems found, the lines exactly as signed and the server's key, for offline verification.",
            None,
            get(crate::custody::show),
        ),
        route(
            "POST",
            "/api/v1/evidence/{evidence}/custody",
            CaseEdit,
            "Records a custody event as the caller (check-out, check-in, transfer, examine, dispose): the bundle is re-measured, the line signed by the server and, with `actor`, by the caller over what they declared.",
            Some((
                JSON,
                "{event, reason, to?, seal?, method?, location?, authority?, disposition?, retain_until?, prev?, actor?: {key, signature}}",
            )),
            post(crate::custody::record),
        ),
        route(
            "GET",
            "/api/v1/evidence/{evidence}/blob",
            CaseEdit,
            "Downloads the bundle (decrypted): recorded first as a custody event, re-measured; refused when it no longer matches its acquisition hash.",
            None,
            get(crate::custody::download),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/actions",
            CaseRead,
            "Actions on hosts, from imported journals.",
            None,
            get(actions),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/stage",
            CaseRead,
            "The stage, its exit checklist from the case's data, and the moves so far.",
            None,
            get(stage),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/stage",
            CaseEdit,
            "Leaves the stage when its checklist passes, or over it with `override` (leads, recorded).",
            Some((JSON, "{version, override?}")),
            post(advance),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/waivers",
            CaseLead,
            "Waives a gate criterion with a reason.",
            Some((JSON, "{criterion, reason}")),
            post(waive),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/sla",
            CaseRead,
            "The SLA clocks now: each target, its state and time left or achieved; check-ins; alerts sent.",
            None,
            get(sla),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/checkins",
            CaseEdit,
            "Records that the caller acknowledged the case, started remote analysis, or is on site (stops that SLA clock).",
            Some((JSON, "{clock: acknowledge|remote_start|on_site, place?}")),
            post(checkin),
        ),
        route(
            "GET",
            "/api/v1/server-key",
            Public,
            "The server's public key: approvals (hosts check them offline) and SLA webhooks are signed with it.",
            None,
            get(server_key),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/approvals",
            CaseEdit,
            "Asks to run a planned action on a host: the tenant's policy for its risk says who must agree (a tier that needs nobody is approved at once).",
            Some((JSON, "{host, plan, valid_minutes?, break_glass?: reason}")),
            post(request_approval),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/approvals",
            CaseRead,
            "Approval requests, newest first: pending, approved, denied, expired.",
            None,
            get(approvals),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/approvals/{approval}",
            CaseRead,
            "One request; once approved, the signed statement the host verifies.",
            None,
            get(approval),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/approvals/{approval}/decision",
            CaseDecide,
            "Approves or denies a pending request (ratifies or disputes a break-glass one), re-entering the decider's password.",
            Some((JSON, "{approve, password, reason?}")),
            post(decide_approval),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/preauthorisations",
            CaseDecide,
            "The customer's authoriser grants a scope ahead (action kinds, host patterns, hosts never, highest risk, hours), re-entering their password; the server signs it for offline use.",
            Some((
                JSON,
                "{hosts, never_hosts?, kinds?, max_risk, hours, password}",
            )),
            post(preauthorise),
        ),
        route(
            "GET",
            "/api/v1/cases/{case}/preauthorisations",
            CaseRead,
            "Scopes granted ahead, newest first, each with the server's signature (and its revocation, if withdrawn).",
            None,
            get(preauthorisations),
        ),
        route(
            "POST",
            "/api/v1/cases/{case}/preauthorisations/{preauth}/revocation",
            CaseDecide,
            "Withdraws a scope granted ahead before it expires (the customer's authoriser or a lead, re-entering their password); hosts are no longer handed it.",
            Some((JSON, "{reason, password}")),
            post(revoke_preauthorisation),
        ),
        route(
            "GET",
            "/api/v1/audit",
            Admin,
            "Audit records (`after` a sequence number, `limit`).",
            None,
            get(audit),
        ),
        route(
            "GET",
            "/api/v1/audit/verify",
            Admin,
            "Checks the audit log's hash chain.",
            None,
            get(audit_verify),
        ),
    ]
}

/// The router: every route of [`routes`], and JSON errors for everything else.
pub fn router(app: App) -> Router {
    route_table(routes().into_iter().map(|r| (r.path, r.handler)))
        .merge(crate::web::router())
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(axum::middleware::from_fn(crate::linger::layer))
        .with_state(app)
}

/// A router from (path, handler) entries: the methods of one path merged into one route, and
/// a clear 405 for the others. Shared by the API's routes and the console's pages.
pub(crate) fn route_table(
    entries: impl IntoIterator<Item = (&'static str, MethodRouter<App>)>,
) -> Router<App> {
    let mut by_path: Vec<(&'static str, MethodRouter<App>)> = Vec::new();
    for (path, handler) in entries {
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, m)) => *m = std::mem::take(m).merge(handler),
            None => by_path.push((path, handler)),
        }
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler.fallback(method_not_allowed));
    }
    router
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this route does not take that method",
    )
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

fn hash_password(password: &str) -> Result<String, ApiError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    firewarden_evidence::keys::random_bytes(&mut salt).map_err(ApiError::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

fn password_matches(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    name: String,
    password: String,
}

/// Checks `name`'s password (rate-limited per name, failures counted in the database so every
/// server sees them); the user's id when it matches.
pub(crate) async fn check_password(
    app: &App,
    name: &str,
    password: String,
) -> Result<String, ApiError> {
    let store = &app.inner.store;
    let name = name.trim();
    if name.is_empty() || name.len() > 200 || password.len() > 1024 {
        return Err(ApiError::bad("a name and a password of at most 1024 bytes"));
    }
    if store.login_failures(name, LOGIN_WINDOW_SECS).await? >= MAX_LOGIN_FAILURES {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed logins for this user: wait 15 minutes",
        ));
    }
    let stored = store.password_of(name).await?;
    let phc = stored
        .as_ref()
        .map(|(_, p)| p.clone())
        .unwrap_or_else(|| app.inner.dummy_hash.clone());
    let ok = tokio::task::spawn_blocking(move || password_matches(&password, &phc))
        .await
        .map_err(ApiError::internal)?;
    match (ok, stored) {
        (true, Some((id, _))) => Ok(id),
        _ => {
            store.record_login_failure(name).await?;
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong user name or password",
            ))
        }
    }
}

async fn login(State(app): State<App>, Body(b): Body<LoginBody>) -> ApiResult<serde_json::Value> {
    let id = check_password(&app, &b.name, b.password).await?;
    let token = app.inner.store.issue_session(&id, SESSION_SECS).await?;
    Ok(Json(json!({ "token": token, "expires_in": SESSION_SECS })))
}

async fn me(Auth(actor): Auth) -> Json<Actor> {
    Json(actor)
}

async fn tenants(
    State(app): State<App>,
    Auth(a): Auth,
) -> ApiResult<Vec<firewarden_store::Tenant>> {
    Ok(Json(app.inner.store.tenants(&a).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantBody {
    name: String,
}

async fn add_tenant(
    State(app): State<App>,
    Auth(a): Auth,
    Body(b): Body<TenantBody>,
) -> Result<(StatusCode, Json<firewarden_store::Tenant>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.inner.store.add_tenant(&a, &b.name).await?),
    ))
}

async fn update_tenant(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Body(b): Body<firewarden_store::TenantPatch>,
) -> ApiResult<firewarden_store::Tenant> {
    Ok(Json(app.inner.store.update_tenant(&a, &id, b).await?))
}

async fn users(State(app): State<App>, Auth(a): Auth) -> ApiResult<Vec<firewarden_store::User>> {
    Ok(Json(app.inner.store.users(&a).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserBody {
    name: String,
    role: Role,
    #[serde(default)]
    tenants: Vec<String>,
    password: Option<String>,
}

async fn add_user(
    State(app): State<App>,
    Auth(a): Auth,
    Body(b): Body<UserBody>,
) -> Result<(StatusCode, Json<firewarden_store::NewUser>), ApiError> {
    // Refuse before the (slow) hash when the caller may not add users anyway.
    if firewarden_case::access::authorize(&a, firewarden_case::access::Operation::ManageUsers, None)
        != firewarden_case::access::Decision::Allow
    {
        return Err(StoreError::Forbidden.into());
    }
    let hash = match b.password {
        Some(p) if p.len() < 12 || p.len() > 1024 => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "a password needs 12 to 1024 bytes",
            ));
        }
        Some(p) => Some(
            tokio::task::spawn_blocking(move || hash_password(&p))
                .await
                .map_err(ApiError::internal)??,
        ),
        None => None,
    };
    let made = app
        .inner
        .store
        .add_user(&a, &b.name, b.role, &b.tenants, hash)
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

async fn cases(
    State(app): State<App>,
    Auth(a): Auth,
    Query(q): Query<firewarden_store::CaseQuery>,
) -> ApiResult<Vec<firewarden_store::Case>> {
    Ok(Json(app.inner.store.cases_page(&a, &q).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseBody {
    tenant: String,
    title: String,
    kind: IncidentKind,
    severity: Severity,
}

async fn new_case(
    State(app): State<App>,
    Auth(a): Auth,
    Body(b): Body<CaseBody>,
) -> Result<(StatusCode, Json<firewarden_store::Case>), ApiError> {
    let c = app
        .inner
        .store
        .create_case(&a, &b.tenant, &b.title, b.kind, b.severity)
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

async fn case(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<firewarden_store::Case> {
    Ok(Json(app.inner.store.case(&a, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    version: i64,
    title: Option<String>,
    severity: Option<Severity>,
    tlp: Option<Tlp>,
    pap: Option<Tlp>,
    entry_point: Option<String>,
    authority: Option<String>,
    owner: Option<String>,
}

async fn update_case(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Body(b): Body<PatchBody>,
) -> ApiResult<firewarden_store::Case> {
    let patch = CasePatch {
        title: b.title,
        severity: b.severity,
        tlp: b.tlp,
        pap: b.pap,
        entry_point: b.entry_point,
        authority: b.authority,
        owner: b.owner,
    };
    Ok(Json(
        app.inner
            .store
            .update_case(&a, &id, b.version, patch)
            .await?,
    ))
}

async fn findings(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Query(q): Query<FindingQuery>,
) -> ApiResult<Vec<Box<serde_json::value::RawValue>>> {
    Ok(Json(app.inner.store.findings(&a, &id, q).await?))
}

async fn imports(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<Vec<firewarden_store::ImportRecord>> {
    Ok(Json(app.inner.store.imports(&a, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushQuery {
    asset: String,
    ledger_bytes: Option<u64>,
    /// Ask first: the body is the upload's first bytes, `size` its whole size; the answer
    /// says whether it would be taken, before gigabytes are sent.
    #[serde(default)]
    check: bool,
    size: Option<u64>,
    /// For a journal: the signer's Ed25519 public key and the signature over the export
    /// (`actions --export --key`), both hex.
    signer: Option<String>,
    signature: Option<String>,
}

async fn push(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Query(q): Query<PushQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let store = &app.inner.store;
    // Who may push is settled before a byte of the body is read.
    let tenant = store
        .may(&a, &id, firewarden_case::access::Operation::EditCase)
        .await?;
    let asset = firewarden_store::valid_asset(&q.asset)?;
    if q.check {
        let head = axum::body::to_bytes(body, upload::HEAD)
            .await
            .map_err(|e| ApiError::bad(format!("the upload's first bytes: {e}")))?;
        let kind = upload::precheck(&head, q.size.unwrap_or(0), app.inner.max_upload)?;
        return Ok((
            StatusCode::OK,
            Json(json!({ "kind": kind, "asset": asset })),
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut stream = body.into_data_stream();
    let received = match upload::receive(
        &mut stream,
        &app.inner.tmp,
        q.ledger_bytes,
        app.inner.max_upload,
        declared,
    )
    .await
    {
        Ok(r) => r,
        // The rest of the body lingers (see `linger`): the client reads why.
        Err(e) => return Err(e),
    };
    let signed = match (q.signer, q.signature) {
        (Some(k), Some(s)) => Some((k, s)),
        (None, None) => None,
        _ => {
            return Err(ApiError::bad(
                "a signature needs its signer, and a signer its signature",
            ));
        }
    };
    let (received, mut payload) = tokio::task::spawn_blocking(move || {
        let signature = signed.as_ref().map(|(k, s)| (k.as_str(), s.as_str()));
        let (_, payload) = upload::interpret(&received, signature)?;
        Ok::<_, ApiError>((received, payload))
    })
    .await
    .map_err(ApiError::internal)??;
    if let Payload::Evidence {
        blob,
        ledger,
        receipt,
        ..
    } = &mut payload
    {
        let key = app
            .inner
            .keyring
            .tenant(&tenant)
            .await
            .map_err(ApiError::internal)?;
        *blob = app
            .inner
            .evidence
            .put(
                &tenant,
                &key,
                &received.sha256,
                &received.body,
                &app.inner.tmp,
            )
            .await
            .map_err(ApiError::internal)?;
        // The ledger as received (verified with the bundle), then the server's receipt.
        if let Some(path) = &received.ledger {
            let text = tokio::fs::read(path).await.map_err(ApiError::internal)?;
            *ledger = firewarden_evidence::custody::parse(&text)
                .0
                .into_iter()
                .map(|l| l.raw)
                .collect();
        }
        *receipt = crate::custody::receipt(
            app.signing_key(),
            &a.user,
            (received.sha256.clone(), received.size),
        );
    }
    let outcome = store
        .import(
            &a,
            &id,
            Upload {
                asset,
                sha256: received.sha256.clone(),
                size: received.size,
                payload,
            },
        )
        .await?;
    drop(received);
    Ok((StatusCode::CREATED, Json(json!(outcome))))
}

async fn assets(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<Vec<firewarden_store::Asset>> {
    Ok(Json(app.inner.store.assets(&a, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssetBody {
    compromise: Compromise,
    version: Option<i64>,
}

async fn set_asset(
    State(app): State<App>,
    Auth(a): Auth,
    Path((id, asset)): Path<(String, String)>,
    Body(b): Body<AssetBody>,
) -> ApiResult<firewarden_store::Asset> {
    Ok(Json(
        app.inner
            .store
            .set_asset(&a, &id, &asset, b.compromise, b.version)
            .await?,
    ))
}

async fn notes(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<Vec<firewarden_store::Note>> {
    Ok(Json(app.inner.store.notes(&a, &id).await?))
}

pub(crate) fn signer(app: &App) -> firewarden_store::Signer {
    key_signer(Arc::clone(&app.inner.signing_key))
}

/// Signs with `key`, the signature in hex.
pub fn key_signer(key: Arc<firewarden_evidence::keys::KeyPair>) -> firewarden_store::Signer {
    Arc::new(move |bytes: &[u8]| firewarden_evidence::encoding::hex(&key.sign(bytes)))
}

async fn server_key(State(app): State<App>) -> Json<serde_json::Value> {
    let public = app.inner.signing_key.public();
    Json(json!({"public_key": public.to_hex(), "fingerprint": public.fingerprint()}))
}

async fn request_approval(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Body(ask): Body<firewarden_store::ApprovalAsk>,
) -> Result<(StatusCode, Json<firewarden_store::ApprovalRecord>), ApiError> {
    let record = app
        .inner
        .store
        .request_approval(&a, &id, ask, signer(&app))
        .await?;
    Ok((StatusCode::CREATED, Json(record)))
}

async fn approvals(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<Vec<firewarden_store::ApprovalRecord>> {
    Ok(Json(app.inner.store.approvals(&a, &id).await?))
}

async fn approval(
    State(app): State<App>,
    Auth(a): Auth,
    Path((id, approval)): Path<(String, String)>,
) -> ApiResult<firewarden_store::ApprovalRecord> {
    Ok(Json(app.inner.store.approval(&a, &id, &approval).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    approve: bool,
    password: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn decide_approval(
    State(app): State<App>,
    Auth(a): Auth,
    Path((id, approval)): Path<(String, String)>,
    Body(b): Body<DecisionBody>,
) -> ApiResult<firewarden_store::ApprovalRecord> {
    reauthenticate(&app, &a, &id, b.password).await?;
    Ok(Json(
        app.inner
            .store
            .decide_approval(
                &a,
                &id,
                &approval,
                b.approve,
                b.reason.as_deref(),
                signer(&app),
            )
            .await?,
    ))
}

/// A decision on a case stands for the person: they prove again who they are (a token left
/// on a screen decides nothing). The tenant check comes first, so another tenant's case stays
/// a 404 whatever the password.
pub(crate) async fn reauthenticate(
    app: &App,
    a: &Actor,
    case_id: &str,
    password: String,
) -> Result<(), ApiError> {
    app.inner
        .store
        .may(a, case_id, firewarden_case::access::Operation::ReadCase)
        .await?;
    check_password(app, &a.user, password).await?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreAuthBody {
    #[serde(default)]
    kinds: Vec<String>,
    hosts: Vec<String>,
    #[serde(default)]
    never_hosts: Vec<String>,
    max_risk: firewarden_model::action::Risk,
    hours: u32,
    password: String,
}

async fn preauthorise(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Body(b): Body<PreAuthBody>,
) -> Result<(StatusCode, Json<firewarden_store::PreAuthRecord>), ApiError> {
    reauthenticate(&app, &a, &id, b.password).await?;
    let scope = firewarden_store::PreAuthScope {
        kinds: b.kinds,
        hosts: b.hosts,
        never_hosts: b.never_hosts,
        max_risk: b.max_risk,
        hours: b.hours,
    };
    let record = app
        .inner
        .store
        .grant_preauthorisation(&a, &id, scope, signer(&app))
        .await?;
    Ok((StatusCode::CREATED, Json(record)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    reason: String,
    password: String,
}

async fn revoke_preauthorisation(
    State(app): State<App>,
    Auth(a): Auth,
    Path((id, preauth)): Path<(String, String)>,
    Body(b): Body<RevokeBody>,
) -> ApiResult<firewarden_store::PreAuthRecord> {
    reauthenticate(&app, &a, &id, b.password).await?;
    Ok(Json(
        app.inner
            .store
            .revoke_preauthorisation(&a, &id, &preauth, &b.reason)
            .await?,
    ))
}

async fn preauthorisations(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<Vec<firewarden_store::PreAuthRecord>> {
    Ok(Json(app.inner.store.preauthorisations(&a, &id).await?))
}

async fn sla(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<firewarden_store::CaseSla> {
    Ok(Json(
        app.inner
            .store
            .sla(&a, &id, firewarden_model::Timestamp::now())
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckinBody {
    clock: firewarden_case::sla::ClockKind,
    #[serde(default)]
    place: String,
}

async fn checkin(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Body(b): Body<CheckinBody>,
) -> Result<(StatusCode, Json<firewarden_store::Checkin>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.inner.store.checkin(&a, &id, b.clock, &b.place).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    body: String,
    /// A lesson learned, for the summary report.
    #[serde(default)]
    lesson: bool,
}

async fn add_note(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Body(b): Body<NoteBody>,
) -> Result<(StatusCode, Json<firewarden_store::Note>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.inner.store.add_note(&a, &id, &b.body, b.lesson).await?),
    ))
}

async fn tasks(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<Vec<firewarden_store::Task>> {
    Ok(Json(app.inner.store.tasks(&a, &id).await?))
}

async fn add_task(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Body(b): Body<firewarden_store::NewTask>,
) -> Result<(StatusCode, Json<firewarden_store::Task>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.inner.store.add_task(&a, &id, b).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskPatch {
    version: i64,
    done: bool,
}

async fn update_task(
    State(app): State<App>,
    Auth(a): Auth,
    Path((id, task)): Path<(String, String)>,
    Body(b): Body<TaskPatch>,
) -> ApiResult<firewarden_store::Task> {
    Ok(Json(
        app.inner
            .store
            .set_task_done(&a, &id, &task, b.version, b.done)
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    offset: Option<u32>,
    limit: Option<u32>,
}

async fn timeline(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Query(p): Query<Page>,
) -> ApiResult<Vec<firewarden_store::TimelineEntry>> {
    let (offset, limit) = (p.offset.unwrap_or(0), p.limit.unwrap_or(500));
    Ok(Json(
        app.inner.store.timeline(&a, &id, offset, limit).await?,
    ))
}

async fn iocs(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<Vec<firewarden_case::ioc::Ioc>> {
    Ok(Json(app.inner.store.iocs(&a, &id).await?))
}

async fn evidence(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<Vec<firewarden_store::EvidenceItem>> {
    Ok(Json(app.inner.store.evidence(&a, &id).await?))
}

async fn actions(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<Vec<firewarden_store::ActionRecord>> {
    Ok(Json(app.inner.store.actions(&a, &id).await?))
}

async fn stage(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> ApiResult<firewarden_store::StageView> {
    Ok(Json(app.inner.store.stage(&a, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    version: i64,
    #[serde(rename = "override")]
    override_reason: Option<String>,
}

async fn advance(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Body(b): Body<AdvanceBody>,
) -> ApiResult<serde_json::Value> {
    let (case, transition) = app
        .inner
        .store
        .advance(&a, &id, b.version, b.override_reason)
        .await?;
    Ok(Json(json!({ "case": case, "transition": transition })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverBody {
    criterion: String,
    reason: String,
}

async fn waive(
    State(app): State<App>,
    Auth(a): Auth,
    Path(id): Path<String>,
    Body(b): Body<WaiverBody>,
) -> Result<(StatusCode, Json<firewarden_case::stage::Waiver>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            app.inner
                .store
                .waive(&a, &id, &b.criterion, &b.reason)
                .await?,
        ),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    after: Option<u64>,
    limit: Option<u32>,
}

async fn audit(
    State(app): State<App>,
    Auth(a): Auth,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Vec<firewarden_case::audit::AuditRecord>> {
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(500).clamp(1, 5000));
    Ok(Json(app.inner.store.audit_records(&a, after, limit).await?))
}

async fn audit_verify(State(app): State<App>, Auth(a): Auth) -> ApiResult<serde_json::Value> {
    firewarden_store::require_admin(&a)?;
    Ok(Json(match app.inner.store.verify_audit().await? {
        Ok(n) => json!({ "intact": true, "records": n }),
        Err(b) => json!({ "intact": false, "break": { "seq": b.seq, "reason": b.reason } }),
    }))
}
