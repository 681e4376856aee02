//! Uploads: streamed to a private temporary directory (never held in memory), hashed on the
//! way, cut off at the size limit, then recognised from their content and read or verified.
//! Nothing reaches the store until the whole upload has been read and checked.

use crate::api::ApiError;
use axum::http::StatusCode;
use firewarden_case::import::{self, ImportError, ImportKind, MAX_DOCUMENT};
use firewarden_model::Timestamp;
use firewarden_store::Payload;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Bytes an upload is recognised from.
pub(crate) const HEAD: usize = 8192;

/// Largest custody ledger accepted in front of a bundle.
pub(crate) const MAX_LEDGER: u64 = 16 << 20;

/// An upload on disk.
pub(crate) struct Received {
    /// Removed when dropped (also when the request fails half-way).
    pub _dir: tempfile::TempDir,
    /// The upload (named as a bundle, so its ledger sits beside it where verification looks).
    pub body: PathBuf,
    /// The custody ledger sent in front of it.
    pub ledger: Option<PathBuf>,
    /// SHA-256 of the upload (without the ledger).
    pub sha256: String,
    /// Its size.
    pub size: u64,
    /// Its first bytes, for recognising it.
    pub head: Vec<u8>,
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the upload is larger than the {max} bytes this server accepts"),
    )
}

/// Streams `body` into `tmp`: the first `ledger_bytes` bytes are the custody ledger, the rest
/// the upload.
pub(crate) async fn receive(
    stream: &mut axum::body::BodyDataStream,
    tmp: &Path,
    ledger_bytes: Option<u64>,
    max: u64,
    declared: Option<u64>,
) -> Result<Received, ApiError> {
    let ledger_len = ledger_bytes.unwrap_or(0);
    if ledger_len > MAX_LEDGER {
        return Err(ApiError::bad(format!(
            "a custody ledger of {ledger_len} bytes: at most {MAX_LEDGER}"
        )));
    }
    if declared.is_some_and(|n| n > max.saturating_add(ledger_len)) {
        return Err(too_large(max));
    }
    let dir = tempfile::Builder::new()
        .prefix("upload-")
        .tempdir_in(tmp)
        .map_err(ApiError::internal)?;
    let body_path = dir.path().join("upload.fwb");
    let ledger_path = firewarden_evidence::custody::ledger_path(&body_path);
    let mut ledger = if ledger_len > 0 {
        Some(
            tokio::fs::File::create(&ledger_path)
                .await
                .map_err(ApiError::internal)?,
        )
    } else {
        None
    };
    let mut out = tokio::fs::File::create(&body_path)
        .await
        .map_err(ApiError::internal)?;
    let (mut ledger_left, mut size, mut hash, mut head) =
        (ledger_len, 0u64, Sha256::new(), Vec::new());
    let mut kind = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad(format!("the upload broke off: {e}")))?;
        let mut data: &[u8] = &chunk;
        if ledger_left > 0 {
            let n = (ledger_left as usize).min(data.len());
            if let Some(l) = ledger.as_mut() {
                l.write_all(&data[..n]).await.map_err(ApiError::internal)?;
            }
            ledger_left -= n as u64;
            data = &data[n..];
        }
        if data.is_empty() {
            continue;
        }
        size += data.len() as u64;
        if head.len() < HEAD {
            let n = (HEAD - head.len()).min(data.len());
            head.extend_from_slice(&data[..n]);
            if head.len() == HEAD {
                // Known by its first bytes: junk is refused now, not after gigabytes, and a
                // document (read whole to parse) is held to the document limit.
                kind = Some(import::recognise(&head).map_err(import_error)?);
            }
        }
        let limit = match kind {
            Some(k) if k != ImportKind::Bundle => max.min(MAX_DOCUMENT as u64),
            _ => max,
        };
        if size > limit {
            return Err(too_large(limit));
        }
        hash.update(data);
        out.write_all(data).await.map_err(ApiError::internal)?;
    }
    if ledger_left > 0 {
        return Err(ApiError::bad(format!(
            "the upload ended inside its custody ledger ({ledger_left} bytes short)"
        )));
    }
    out.sync_all().await.map_err(ApiError::internal)?;
    if let Some(l) = ledger.as_mut() {
        l.sync_all().await.map_err(ApiError::internal)?;
    }
    Ok(Received {
        _dir: dir,
        ledger: (ledger_len > 0).then_some(ledger_path),
        body: body_path,
        sha256: firewarden_evidence::encoding::hex(&hash.finalize()),
        size,
        head,
    })
}

/// Whether an upload that starts with `head` and has `size` bytes would be taken.
pub(crate) fn precheck(head: &[u8], size: u64, max: u64) -> Result<ImportKind, ApiError> {
    let kind = import::recognise(head).map_err(import_error)?;
    let limit = if kind == ImportKind::Bundle {
        max
    } else {
        max.min(MAX_DOCUMENT as u64)
    };
    if size > limit {
        return Err(too_large(limit));
    }
    Ok(kind)
}

fn import_error(e: ImportError) -> ApiError {
    let status = match e {
        ImportError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        ImportError::Unrecognised(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, e.to_string())
}

/// What the upload is, read (reports, journals) or verified (bundles; a journal's signature
/// when `signature` gives the signer's public key and the signature, both hex). Blocking: run
/// it off the async threads.
pub(crate) fn interpret(
    r: &Received,
    signature: Option<(&str, &str)>,
) -> Result<(ImportKind, Payload), ApiError> {
    let kind = import::recognise(&r.head).map_err(import_error)?;
    if kind != ImportKind::Bundle && r.size > MAX_DOCUMENT as u64 {
        return Err(import_error(ImportError::TooLarge(r.size as usize)));
    }
    let read = || std::fs::read(&r.body).map_err(ApiError::internal);
    let payload = match kind {
        ImportKind::Triage | ImportKind::Scan => {
            let report = import::parse_triage(&read()?).map_err(import_error)?;
            Payload::Analysis(import::analysis_kind(&report), Box::new(report))
        }
        ImportKind::Hunt => Payload::Hunt(Box::new(
            import::parse_hunt(&read()?).map_err(import_error)?,
        )),
        ImportKind::ActionJournal => {
            let bytes = read()?;
            let entries = import::parse_journal(&bytes).map_err(import_error)?;
            let signer = match signature {
                Some((key, sig)) => {
                    let public = firewarden_evidence::PublicKey::parse(key)
                        .map_err(|e| ApiError::bad(format!("signer: {e}")))?;
                    let sig = firewarden_evidence::encoding::unhex(sig)
                        .ok_or_else(|| ApiError::bad("signature: not hex"))?;
                    if !public.verify(&bytes, &sig) {
                        return Err(ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            format!(
                                "the journal's signature does not verify with {}: nothing was kept",
                                public.fingerprint()
                            ),
                        ));
                    }
                    Some(public.to_hex())
                }
                None => None,
            };
            Payload::Journal(entries, signer)
        }
        ImportKind::Bundle => {
            let (_, check) =
                firewarden_evidence::verify_bundle(&r.body, &[], None, None).map_err(|e| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("the bundle cannot be read: {e}"),
                    )
                })?;
            if !check.intact() {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "the bundle does not verify, nothing was kept: {}",
                        check.problems.join("; ")
                    ),
                ));
            }
            let manifest = check.verdict.manifest.as_ref().ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "the bundle has no manifest",
                )
            })?;
            let acquired = Timestamp::parse(&manifest.header.started).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "the bundle's collection start time does not parse",
                )
            })?;
            Payload::Evidence {
                acquired,
                signer: manifest.header.signer.clone(),
                blob: String::new(),
                // Filled in by the route: the ledger's lines and the server's receipt.
                ledger: Vec::new(),
                receipt: firewarden_store::LineMaker(std::sync::Arc::new(|_: &[String]| {
                    Err("no receipt was made for this upload".to_owned())
                })),
                tool_sha256: manifest.header.tool_sha256.clone(),
            }
        }
    };
    Ok((kind, payload))
}
