//! The summary report's routes: made from the case's data alone, signed with the server's key,
//! kept with the case as delivered, listed and fetched again.

use crate::api::{ApiError, ApiResult, App, Auth, Body};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use firewarden_store::{NewReport, ReportRecord};
use firewarden_summary::{Format, Lang};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// What to make.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Make {
    /// `html` (default), `md`, `json`, `pdf`.
    format: Option<String>,
    /// `en` (default), `zh`.
    lang: Option<String>,
}

/// Where Debian puts Chromium.
const CHROMIUM: &[&str] = &["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/// Prints `html` to PDF with a headless Chromium: no network (the page fetches nothing and the
/// browser is told not to), a profile of its own, a time limit.
async fn print_pdf(html: Vec<u8>, tmp: &std::path::Path) -> Result<Vec<u8>, ApiError> {
    let Some(chromium) = CHROMIUM.iter().find(|p| std::path::Path::new(p).is_file()) else {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "PDF needs Debian's chromium on the server (apt-get install chromium); the HTML report prints the same",
        ));
    };
    let dir = tempfile::tempdir_in(tmp).map_err(ApiError::internal)?;
    let page = dir.path().join("report.html");
    let out = dir.path().join("report.pdf");
    std::fs::write(&page, &html).map_err(ApiError::internal)?;
    let mut cmd = tokio::process::Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--no-pdf-header-footer",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
    ])
    .arg(format!(
        "--user-data-dir={}",
        dir.path().join("profile").display()
    ))
    .arg(format!("--print-to-pdf={}", out.display()))
    // Its scratch files go with the rest of this print, not into the system's /tmp.
    .env("TMPDIR", dir.path())
    .arg(format!("file://{}", page.display()))
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .kill_on_drop(true);
    let status = tokio::time::timeout(Duration::from_secs(90), cmd.status())
        .await
        .map_err(|_| ApiError::internal("chromium did not print the report in 90 s"))?
        .map_err(ApiError::internal)?;
    match std::fs::read(&out) {
        Ok(pdf) if pdf.starts_with(b"%PDF") => Ok(pdf),
        _ => Err(ApiError::internal(format!(
            "chromium did not print the report ({status})"
        ))),
    }
}

/// POST: makes, signs and keeps a report; answers with its record.
pub(crate) async fn make(
    State(app): State<App>,
    Auth(a): Auth,
    Path(case): Path<String>,
    Body(m): Body<Make>,
) -> Result<(StatusCode, Json<ReportRecord>), ApiError> {
    let format = Format::parse(m.format.as_deref().unwrap_or("html"))
        .ok_or_else(|| ApiError::bad("format: html, md, json or pdf"))?;
    let lang = Lang::parse(m.lang.as_deref().unwrap_or("en"))
        .ok_or_else(|| ApiError::bad("lang: en or zh"))?;
    // Who may keep a report is settled before the case is read for it.
    app.store()
        .may(&a, &case, firewarden_case::access::Operation::EditCase)
        .await?;
    let facts = app.store().report_facts(&a, &case).await?;
    let mut body = firewarden_summary::render(&facts, format, lang);
    if format == Format::Pdf {
        body = print_pdf(body, app.tmp()).await?;
    }
    let key = app.signing_key();
    let signed_at = firewarden_model::Timestamp::now().to_string();
    let signed = firewarden_summary::seal(body, format, &key.public().to_hex(), &signed_at, |m| {
        key.sign(m).to_vec()
    });
    let sha256 = firewarden_evidence::encoding::hex(&Sha256::digest(&signed));
    let text = match format {
        // Kept as text: a PDF in hex.
        Format::Pdf => firewarden_evidence::encoding::hex(&signed),
        _ => String::from_utf8(signed).map_err(ApiError::internal)?,
    };
    let kept = app
        .store()
        .keep_report(
            &a,
            &case,
            NewReport {
                format: format.file().0.to_owned(),
                lang: m.lang.unwrap_or_else(|| "en".into()),
                case_version: facts.case.version,
                body: text,
                sha256,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(kept)))
}

/// GET the reports kept.
pub(crate) async fn list(
    State(app): State<App>,
    Auth(a): Auth,
    Path(case): Path<String>,
) -> ApiResult<Vec<ReportRecord>> {
    Ok(Json(app.store().reports(&a, &case).await?))
}

/// GET one report's file, as delivered.
pub(crate) async fn fetch(
    State(app): State<App>,
    Auth(a): Auth,
    Path((case, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (record, body) = app.store().report(&a, &case, &id).await?;
    let format = Format::parse(&record.format).unwrap_or(Format::Html);
    let bytes = delivered_bytes(&record, body)?;
    let (ext, media) = format.file();
    Ok((
        [
            (header::CONTENT_TYPE, media.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{case}-{}.{ext}\"", record.id)
                    .replace(|c: char| c.is_control() || c == '\\', "_"),
            ),
            // A report is opened by a browser: nothing in it may run or fetch.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox".to_owned(),
            ),
            (
                header::HeaderName::from_static("x-firewarden-sha256"),
                record.sha256.clone(),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// What checking a signed report with a trusted key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportCheck {
    /// Signed by the trusted key and unchanged since; when it was signed.
    Intact {
        /// The signing time the report carries.
        signed_at: String,
    },
    /// Signed, by another key (hex, as the file says).
    OtherKey(String),
    /// Signed by the trusted key, but the bytes changed since.
    Changed,
    /// No signature line that parses.
    NotSigned(String),
}

/// Checks a signed report's bytes against the key trusted to have signed it: the same check
/// `firewarden report verify` makes offline and the console makes on a kept report.
pub fn check_report(bytes: &[u8], trusted: &firewarden_evidence::keys::PublicKey) -> ReportCheck {
    let (body, sig) = match firewarden_summary::split(bytes) {
        Ok(parts) => parts,
        Err(e) => return ReportCheck::NotSigned(e.to_string()),
    };
    if trusted.to_hex() != sig.key {
        return ReportCheck::OtherKey(firewarden_model::printable(&sig.key, 64));
    }
    let verifies = firewarden_evidence::encoding::unhex(&sig.signature).is_some_and(|s| {
        trusted.verify(&firewarden_summary::signed_bytes(body, &sig.signed_at), &s)
    });
    if verifies {
        ReportCheck::Intact {
            signed_at: firewarden_model::printable(&sig.signed_at, 64),
        }
    } else {
        ReportCheck::Changed
    }
}

/// A kept report's bytes as delivered (a PDF is kept as hex).
pub(crate) fn delivered_bytes(record: &ReportRecord, body: String) -> Result<Vec<u8>, ApiError> {
    match Format::parse(&record.format).unwrap_or(Format::Html) {
        Format::Pdf => firewarden_evidence::encoding::unhex(&body)
            .ok_or_else(|| ApiError::internal("a kept PDF is not hex")),
        _ => Ok(body.into_bytes()),
    }
}
