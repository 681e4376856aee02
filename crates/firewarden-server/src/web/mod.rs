//! The web console and the customer portal, served by the server itself: pages rendered here
//! from the store (each read goes through the same tenant check and audit as the API), a
//! little script of our own that sends the pages' forms to the JSON API, and a stylesheet.
//! Everything is embedded in the binary; nothing is fetched from elsewhere.
//!
//! Sessions: logging in sets a cookie holding a session token (`HttpOnly`, `Secure`,
//! `SameSite=Strict`). A change made with the cookie must carry the session's CSRF token (a
//! hash of the session token) in `X-CSRF-Token`, or in the form for the two plain forms (log
//! in, log out). Every answer carries a strict Content-Security-Policy: no inline script or
//! style, nothing from another origin.

mod admin;
mod case;
mod cases;
pub(crate) mod html;
mod portal;

use crate::api::{ApiError, App};
use axum::Router;
use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use firewarden_case::access::Actor;
use firewarden_store::StoreError;
use html::{E, Frame, Section, page};
use serde::Deserialize;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "fw_session";

/// The policy every page is served under: our own script and style only, no frames, forms
/// post only here.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Who may open a page. The store decides, as for the API; this says what to expect, for the
/// tenant-isolation test that probes every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAccess {
    /// Anyone (the login form, the stylesheet and script).
    Public,
    /// Any logged-in user; shows only their own customers' data.
    User,
    /// Administrators only.
    Admin,
    /// Who may read the case in the address (another customer's: 404).
    Case,
}

/// One page of the console.
pub struct Page {
    /// Method, upper case.
    pub method: &'static str,
    /// Path, with `{case}`, `{evidence}`, `{approval}`, `{report}` placeholders.
    pub path: &'static str,
    /// Who may open it.
    pub access: PageAccess,
    handler: MethodRouter<App>,
}

fn entry(
    method: &'static str,
    path: &'static str,
    access: PageAccess,
    handler: MethodRouter<App>,
) -> Page {
    Page {
        method,
        path,
        access,
        handler,
    }
}

/// Every page: the router and the isolation test are both made from this list.
pub fn pages() -> Vec<Page> {
    use PageAccess::*;
    vec![
        entry(
            "GET",
            "/",
            Public,
            get(|| async { Redirect::to("/ui/cases") }),
        ),
        entry(
            "GET",
            "/ui",
            Public,
            get(|| async { Redirect::to("/ui/cases") }),
        ),
        entry("GET", "/login", Public, get(login_page)),
        entry("POST", "/login", Public, post(login)),
        entry("POST", "/logout", Public, post(logout)),
        entry("GET", "/ui/static/app.css", Public, get(stylesheet)),
        entry("GET", "/ui/static/app.js", Public, get(script)),
        entry("GET", "/ui/cases", User, get(cases::list)),
        entry("GET", "/ui/approvals", User, get(portal::queue)),
        entry("GET", "/ui/admin", Admin, get(admin::page)),
        entry("GET", "/ui/admin/audit-verify", Admin, get(admin::verify)),
        entry("GET", "/ui/cases/{case}", Case, get(case::page)),
        entry(
            "GET",
            "/ui/cases/{case}/evidence/{evidence}",
            Case,
            get(case::evidence),
        ),
        entry(
            "GET",
            "/ui/cases/{case}/approvals/{approval}",
            Case,
            get(portal::approval),
        ),
        entry(
            "GET",
            "/ui/cases/{case}/reports/{report}/verify",
            Case,
            get(case::verify_report),
        ),
    ]
}

/// The pages' router.
pub(crate) fn router() -> Router<App> {
    crate::api::route_table(pages().into_iter().map(|p| (p.path, p.handler)))
        .layer(axum::middleware::from_fn(headers))
}

/// The security headers on every page and asset.
async fn headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // How long the server took, for the browser's developer tools and the benchmark.
    if let Ok(v) = HeaderValue::from_str(&format!(
        "app;dur={:.1}",
        started.elapsed().as_secs_f64() * 1000.0
    )) {
        h.insert("server-timing", v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// The session token from the request's cookie, if it has one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The CSRF token of a session: it cannot be read by another site, and is worthless without
/// the session it belongs to.
pub(crate) fn csrf_for(token: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"firewarden csrf\0");
    h.update(token.as_bytes());
    firewarden_evidence::encoding::hex(&h.finalize()[..16])
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A cookie-authenticated request: refused when the browser says another site sent it, and,
/// when it changes something, unless it carries the session's CSRF token.
pub(crate) fn check_csrf(
    method: &Method,
    headers: &HeaderMap,
    token: &str,
) -> Result<(), ApiError> {
    let forbidden = |why: &str| ApiError::new(StatusCode::FORBIDDEN, why);
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return Err(forbidden("a request from another site is refused"));
    }
    if matches!(*method, Method::GET | Method::HEAD) {
        return Ok(());
    }
    match headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        Some(given) if same(given, &csrf_for(token)) => Ok(()),
        _ => Err(forbidden(
            "this page's form token is missing or stale: reload the page",
        )),
    }
}

/// The token a request authenticates with: `Authorization: Bearer` (the CLI, scripts; a
/// browser never sends one by itself, so it needs no CSRF check), else the session cookie,
/// which must pass [`check_csrf`]. `Ok(None)`: neither is there.
pub(crate) fn request_token(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(t) = bearer {
        return Ok(Some(t));
    }
    match session_cookie(&parts.headers) {
        Some(t) => check_csrf(&parts.method, &parts.headers, t).map(|()| Some(t)),
        None => Ok(None),
    }
}

/// The logged-in user of a page, with the session's CSRF token. Without a valid session the
/// page answers with a redirect to the login form, coming back afterwards.
pub(crate) struct Viewer {
    pub actor: Actor,
    pub csrf: String,
}

impl Viewer {
    pub(crate) fn frame(&self) -> Frame<'_> {
        Frame {
            actor: &self.actor,
            csrf: &self.csrf,
        }
    }
}

impl FromRequestParts<App> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Viewer, Response> {
        let to_login = || {
            let here = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/ui/cases");
            let next: String = here
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    b => format!("%{b:02X}"),
                })
                .collect();
            Redirect::to(&format!("/login?next={next}")).into_response()
        };
        let token = match request_token(parts) {
            Ok(Some(t)) => t,
            Ok(None) => return Err(to_login()),
            Err(e) => return Err(e.into_response()),
        };
        match crate::api::actor_for(app, token).await {
            Ok(actor) => Ok(Viewer {
                actor,
                csrf: csrf_for(token),
            }),
            Err(_) => Err(to_login()),
        }
    }
}

/// A page that could not be shown: its status and a short page saying why.
pub(crate) struct PageError {
    status: StatusCode,
    reason: String,
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> PageError {
        let status = match &e {
            StoreError::NotFound => StatusCode::NOT_FOUND,
            StoreError::Forbidden => StatusCode::FORBIDDEN,
            StoreError::Invalid(_) => StatusCode::BAD_REQUEST,
            StoreError::Db(e) => {
                eprintln!("firewarden server: internal error: {e}");
                return PageError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    reason: "internal error (see the server log)".into(),
                };
            }
            _ => StatusCode::CONFLICT,
        };
        let reason = match &e {
            StoreError::NotFound => "Not found (or not yours to see).".to_owned(),
            StoreError::Forbidden => "Your role may not see this.".to_owned(),
            other => other.to_string(),
        };
        PageError { status, reason }
    }
}

impl PageError {
    pub(crate) fn not_found() -> PageError {
        StoreError::NotFound.into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let body = format!(
            "<p>{}</p><p><a href=\"/ui/cases\">Back to the cases</a></p>",
            E(&self.reason)
        );
        (self.status, Html(page(None, Section::None, &title, &body))).into_response()
    }
}

pub(crate) type PageResult = Result<Html<String>, PageError>;

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("app.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("app.js"),
    )
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Where to go after logging in: only a page of the console, never another site.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        // Visible ASCII only: it goes into a Location header (a line break there would be a
        // header of the attacker's, and an invalid header value fails the answer).
        Some(n)
            if n.starts_with("/ui/")
                && !n.contains('\\')
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n
        }
        _ => "/ui/cases",
    }
}

fn login_form(next: &str, error: Option<&str>) -> String {
    let error = error
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", E(m)))
        .unwrap_or_default();
    format!(
        "{error}<form class=\"login\" method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"next\" value=\"{0}\">\
         <label for=\"name\">User name</label><input id=\"name\" name=\"name\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Log in</button></form>\
         <details><summary>Log in with an API token instead (the first administrator: the server's DATA/bootstrap-token)</summary>\
         <form class=\"login\" method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"next\" value=\"{0}\">\
         <label for=\"token\">API token</label><input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required>\
         <button type=\"submit\">Log in with the token</button></form></details>",
        E(next)
    )
}

async fn login_page(Query(q): Query<NextQuery>) -> Html<String> {
    let next = safe_next(q.next.as_deref());
    Html(page(None, Section::None, "Log in", &login_form(next, None)))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    /// An API token instead of a name and password (the bootstrap token, for the first admin).
    #[serde(default)]
    token: String,
    next: Option<String>,
}

async fn login(State(app): State<App>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let next = safe_next(f.next.as_deref()).to_owned();
    // A login form posted from another site would log the victim in as the attacker.
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return (
            StatusCode::FORBIDDEN,
            "a login from another site is refused",
        )
            .into_response();
    }
    let failed = |status: StatusCode, why: String| {
        (
            status,
            Html(page(
                None,
                Section::None,
                "Log in",
                &login_form(&next, Some(&why)),
            )),
        )
            .into_response()
    };
    let token = if !f.token.trim().is_empty() {
        // The token itself becomes the session (logging out forgets it here; it stays valid
        // for the CLI until revoked).
        let token = f.token.trim().to_owned();
        if crate::api::actor_for(&app, &token).await.is_err() {
            return failed(
                StatusCode::UNAUTHORIZED,
                "that token opens nothing on this server".into(),
            );
        }
        token
    } else {
        let id = match crate::api::check_password(&app, &f.name, f.password).await {
            Ok(id) => id,
            Err(e) => return failed(e.status(), e.reason().to_owned()),
        };
        match app
            .store()
            .issue_session(&id, crate::api::SESSION_SECS)
            .await
        {
            Ok(t) => t,
            Err(e) => return PageError::from(e).into_response(),
        }
    };
    let cookie = format!(
        "{COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        crate::api::SESSION_SECS
    );
    let mut res = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
}

async fn logout(State(app): State<App>, headers: HeaderMap, Form(f): Form<LogoutForm>) -> Response {
    if let Some(token) = session_cookie(&headers) {
        if !same(&f.csrf, &csrf_for(token)) {
            return (StatusCode::FORBIDDEN, "stale form: reload the page").into_response();
        }
        if let Err(e) = app.store().end_session(token).await {
            return PageError::from(e).into_response();
        }
        crate::api::forget_token(&app, token);
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "fw_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
        ),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_pages_are_followed_after_login() {
        assert_eq!(safe_next(Some("/ui/cases/C1")), "/ui/cases/C1");
        assert_eq!(safe_next(Some("https://evil.example/")), "/ui/cases");
        assert_eq!(safe_next(Some("//evil.example/ui/")), "/ui/cases");
        assert_eq!(safe_next(Some("/ui/\\evil")), "/ui/cases");
        assert_eq!(safe_next(Some("/ui/a\r\nSet-Cookie: x=1")), "/ui/cases");
        assert_eq!(safe_next(Some("/ui/caf\u{e9}")), "/ui/cases");
        assert_eq!(safe_next(Some("/ui/a b")), "/ui/cases");
        assert_eq!(safe_next(None), "/ui/cases");
    }

    #[test]
    fn csrf_is_needed_for_changes_only() {
        let token = "t0k3n";
        let mut h = HeaderMap::new();
        assert!(check_csrf(&Method::GET, &h, token).is_ok());
        assert!(check_csrf(&Method::POST, &h, token).is_err());
        h.insert(
            "x-csrf-token",
            HeaderValue::from_str(&csrf_for("other")).unwrap(),
        );
        assert!(check_csrf(&Method::POST, &h, token).is_err());
        h.insert(
            "x-csrf-token",
            HeaderValue::from_str(&csrf_for(token)).unwrap(),
        );
        assert!(check_csrf(&Method::POST, &h, token).is_ok());
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(check_csrf(&Method::GET, &h, token).is_err());
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; fw_session=abc ; b=2"),
        );
        assert_eq!(session_cookie(&h), Some("abc"));
        h.insert(header::COOKIE, HeaderValue::from_static("fw_session="));
        assert_eq!(session_cookie(&h), None);
    }
}
