//! The summary report a customer receives at the end of a case, made from the case's data
//! alone: header, executive summary, scope and authority, SLA targets against achieved times,
//! the UTC timeline (as a chart and a table) with dwell time, root cause and ATT&CK techniques,
//! scope of compromise, actions per stage with their approvals, gate overrides, findings, IOCs,
//! recommendations, lessons, and appendices (evidence inventory with the custody log, tools and
//! versions, the audit trail).
//!
//! **Deterministic and signed.** The same facts give the same bytes in each format and language.
//! The report carries a manifest of the SHA-256 of its appendices, and ends with one signature
//! line: Ed25519 over every byte before it plus the signing time. [`split`] finds the body and
//! the signature so that anyone can check it with the public key alone.
//!
//! ```
//! use firewarden_summary::{Format, Lang, model::ReportFacts, render};
//! let facts = ReportFacts { v: 1, ..Default::default() };
//! let html = render(&facts, Format::Html, Lang::En);
//! assert!(html.starts_with(b"<!DOCTYPE html>"));
//! assert_eq!(html, render(&facts, Format::Html, Lang::En));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod chart;
mod document;
mod html;
mod markdown;
pub mod model;
mod text;
pub mod veris;

pub use text::Lang;

use model::ReportFacts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// One self-contained HTML file (inline CSS and SVG), readable printed.
    Html,
    /// Markdown.
    Markdown,
    /// The facts and the manifest as one JSON line (the signature is the second line).
    Json,
    /// The HTML printed to PDF by a headless Chromium (the signature line follows `%%EOF`,
    /// where PDF readers do not look).
    Pdf,
}

impl Format {
    /// From `html`, `md` or `json`.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "html" => Some(Format::Html),
            "md" | "markdown" => Some(Format::Markdown),
            "json" => Some(Format::Json),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The appendices as the bytes the manifest hashes: each can be rebuilt from the case (the
/// custody ledgers are exactly what `firewarden custody export` writes).
pub fn appendices(f: &ReportFacts) -> Vec<(String, Vec<u8>)> {
    let json = |v: &dyn erased::Json| v.to_json();
    let mut out = Vec::new();
    let inventory: Vec<serde_json::Value> = f
        .evidence
        .iter()
        .map(|e| {
            serde_json::json!({"id": e.id, "asset": e.asset, "sha256": e.sha256, "size": e.size,
                               "acquired": e.acquired, "custody_events": e.custody.len()})
        })
        .collect();
    out.push(("evidence-inventory.json".to_owned(), json(&inventory)));
    for e in &f.evidence {
        let mut ledger = e.custody.join("\n");
        ledger.push('\n');
        out.push((format!("custody/{}.custody", e.id), ledger.into_bytes()));
    }
    let mut csv = String::from("kind,value\n");
    for i in &f.iocs {
        csv.push_str(&format!("{},{}\n", csv_field(&i.kind), csv_field(&i.value)));
    }
    out.push(("iocs.csv".to_owned(), csv.into_bytes()));
    out.push(("tools.json".to_owned(), json(&f.tools)));
    out.push(("audit.json".to_owned(), json(&f.audit)));
    out.push(("timeline.json".to_owned(), json(&f.timeline)));
    out
}

mod erased {
    /// Serialises any value to JSON bytes (object-safe, for the appendix list).
    pub trait Json {
        fn to_json(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> Vec<u8> {
            serde_json::to_vec(self).unwrap_or_default()
        }
    }
}

use firewarden_model::csv_field;

/// The manifest: each appendix's name and SHA-256.
pub fn manifest(f: &ReportFacts) -> Vec<(String, String)> {
    appendices(f)
        .into_iter()
        .map(|(n, b)| (n, sha256(&b)))
        .collect()
}

pub(crate) fn manifest_title(lang: Lang) -> &'static str {
    text::texts(lang).s_manifest
}

impl Format {
    /// The file extension and media type.
    pub fn file(self) -> (&'static str, &'static str) {
        match self {
            Format::Html => ("html", "text/html; charset=utf-8"),
            Format::Markdown => ("md", "text/markdown; charset=utf-8"),
            Format::Json => ("json", "application/json"),
            Format::Pdf => ("pdf", "application/pdf"),
        }
    }
}

/// The report, unsigned (for [`Format::Pdf`], the HTML to print).
pub fn render(f: &ReportFacts, format: Format, lang: Lang) -> Vec<u8> {
    let manifest = manifest(f);
    match format {
        Format::Html | Format::Pdf => {
            html::render(&document::build(f, lang, manifest)).into_bytes()
        }
        Format::Markdown => markdown::render(&document::build(f, lang, manifest)).into_bytes(),
        Format::Json => {
            let mut v = serde_json::to_vec(&serde_json::json!({
                "firewarden_report": 1,
                "lang": lang,
                "facts": f,
                "manifest": manifest
                    .iter()
                    .map(|(n, h)| serde_json::json!({"appendix": n, "sha256": h}))
                    .collect::<Vec<_>>(),
            }))
            .unwrap_or_default();
            v.push(b'\n');
            v
        }
    }
}

/// The signature line's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The signer's Ed25519 public key (hex).
    pub key: String,
    /// When it was signed (UTC).
    pub signed_at: String,
    /// The signature (hex) over [`signed_bytes`].
    pub signature: String,
}

/// What is signed: the body, then the signing time.
pub fn signed_bytes(body: &[u8], signed_at: &str) -> Vec<u8> {
    let mut m = body.to_vec();
    m.extend_from_slice(b"\nfirewarden-report-signed-at:");
    m.extend_from_slice(signed_at.as_bytes());
    m
}

const HTML_MARK: &str = "<!-- firewarden-signature ";

/// Appends the signature line: `sign` signs [`signed_bytes`]; `key` is its public key (hex).
pub fn seal(
    body: Vec<u8>,
    format: Format,
    key: &str,
    signed_at: &str,
    sign: impl Fn(&[u8]) -> Vec<u8>,
) -> Vec<u8> {
    // The signature is a line of its own: a body that does not end a line (a PDF) gets one.
    let mut body = body;
    if !body.ends_with(b"\n") {
        body.push(b'\n');
    }
    let sig = Signature {
        key: key.to_owned(),
        signed_at: signed_at.to_owned(),
        signature: hex(&sign(&signed_bytes(&body, signed_at))),
    };
    let mut out = body;
    let line = match format {
        Format::Json => serde_json::json!({ "firewarden_signature": sig }).to_string(),
        _ => format!(
            "{HTML_MARK}{} -->",
            serde_json::to_string(&sig).unwrap_or_default()
        ),
    };
    out.extend_from_slice(line.as_bytes());
    out.push(b'\n');
    out
}

/// Why a file is not a signed report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// No signature line at the end.
    Unsigned,
    /// The signature line does not parse.
    Malformed(String),
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SplitError::Unsigned => {
                f.write_str("no firewarden signature line at the end of the file")
            }
            SplitError::Malformed(why) => write!(f, "the signature line does not parse: {why}"),
        }
    }
}

impl std::error::Error for SplitError {}

/// The body and the signature of a signed report. The caller checks the signature over
/// [`signed_bytes`]`(body, &signature.signed_at)` with the public key it trusts.
pub fn split(bytes: &[u8]) -> Result<(&[u8], Signature), SplitError> {
    let trimmed = bytes.strip_suffix(b"\n").ok_or(SplitError::Unsigned)?;
    let start = trimmed
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let (body, line) = (&bytes[..start], &trimmed[start..]);
    let line = std::str::from_utf8(line).map_err(|_| SplitError::Unsigned)?;
    let sig = if let Some(rest) = line.strip_prefix(HTML_MARK) {
        let json = rest.strip_suffix(" -->").ok_or(SplitError::Unsigned)?;
        serde_json::from_str::<Signature>(json).map_err(|e| SplitError::Malformed(e.to_string()))?
    } else if line.starts_with("{\"firewarden_signature\"") {
        #[derive(Deserialize)]
        struct Line {
            firewarden_signature: Signature,
        }
        serde_json::from_str::<Line>(line)
            .map_err(|e| SplitError::Malformed(e.to_string()))?
            .firewarden_signature
    } else {
        return Err(SplitError::Unsigned);
    };
    Ok((body, sig))
}

/// One custody ledger line in words: `seq utc event by [→ to] hash ok|MISMATCH`.
pub(crate) fn custody_line_summary(line: &str) -> String {
    let Some(v) = line
        .split_once(' ')
        .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(body).ok())
    else {
        return "(a line that does not parse)".into();
    };
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
    let to = v
        .get("to")
        .and_then(|x| x.as_str())
        .map(|t| format!(" → {t}"))
        .unwrap_or_default();
    format!(
        "{:>3} {} {:<9} by {}{} — {} [sha256 {} {}; signer {}]",
        v.get("seq").and_then(|x| x.as_u64()).unwrap_or(0),
        s("utc"),
        s("event"),
        s("by"),
        to,
        s("reason"),
        s("bundle_sha256").get(..16).unwrap_or(""),
        if v.get("hash_verified").and_then(|x| x.as_bool()) == Some(true) {
            "ok"
        } else {
            "MISMATCH"
        },
        s("signer").get(..16).unwrap_or("")
    )
}

#[cfg(test)]
mod tests;
