//! The chain-of-custody ledger kept beside a bundle (`BUNDLE.custody`). The sealed bundle never
//! changes; each custody event is one line, `SIGNATURE-HEX EVENT-JSON`, where the signature is
//! Ed25519 over the exact EVENT-JSON bytes and each event names the SHA-256 of the previous line.
//! Every event re-measures the bundle's hash and records whether it still matches acquisition.

use crate::EvidenceError;
use crate::encoding::{hex, unhex};
use crate::keys::{KeyPair, PublicKey};
use crate::manifest::{CHAIN_START, utc_now};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Kinds of custody event a person may add (acquisition is written by `collect`).
pub const EVENT_KINDS: &[&str] = &["transfer", "check-out", "check-in", "examine", "dispose"];

/// One custody event (fields after ISO/IEC 27037 and the NIST chain-of-custody form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyEvent {
    /// 1 for acquisition, then 2, 3 …
    pub seq: u64,
    /// What happened and who did it (`event` is `acquire` for the first line). Its fields sit
    /// at the top level of the event JSON.
    #[serde(flatten)]
    pub action: NewEvent,
    /// When, UTC.
    pub utc: String,
    /// The bundle's evidence id.
    pub evidence_id: String,
    /// Case id.
    pub case_id: Option<String>,
    /// Bundle file name.
    pub bundle: String,
    /// SHA-256 of the bundle file measured at this event.
    pub bundle_sha256: String,
    /// Its size.
    pub bundle_size: u64,
    /// Whether the measured hash equals the hash at acquisition.
    pub hash_verified: bool,
    /// SHA-256 of the manifest (acquisition event).
    pub manifest_sha256: Option<String>,
    /// Tool and version that wrote this event.
    pub tool: String,
    /// SHA-256 of that tool's binary.
    pub tool_sha256: Option<String>,
    /// Public key (hex) of the signer.
    pub signer: String,
    /// SHA-256 (hex) of the previous ledger line, or 64 zeros.
    pub prev: String,
}

/// The ledger's path for a bundle.
pub fn ledger_path(bundle: &Path) -> PathBuf {
    let mut p = bundle.as_os_str().to_os_string();
    p.push(".custody");
    PathBuf::from(p)
}

/// A parsed ledger line.
#[derive(Debug, Clone)]
pub struct Line {
    /// The event.
    pub event: CustodyEvent,
    /// The raw line (without newline).
    pub raw: String,
}

/// A ledger's events and the lines that did not parse (as problems).
pub type Ledger = (Vec<Line>, Vec<String>);

/// Largest custody ledger read.
pub const MAX_LEDGER: u64 = 16 << 20;

/// Reads a ledger; `Ok(None)` when there is none. Lines that do not parse are problems, and so
/// is a ledger with no event at all (empty or blank): evidence without its acquisition record
/// has no custody.
pub fn load(bundle: &Path) -> Result<Option<Ledger>, EvidenceError> {
    use std::io::Read;
    let path = ledger_path(bundle);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EvidenceError::Io(format!("{}: {e}", path.display()))),
    };
    // A ledger holds a few lines per hand-over; a giant one is refused, not loaded.
    let mut text = Vec::new();
    file.take(MAX_LEDGER + 1)
        .read_to_end(&mut text)
        .map_err(|e| EvidenceError::Io(format!("{}: {e}", path.display())))?;
    if text.len() as u64 > MAX_LEDGER {
        return Ok(Some((
            Vec::new(),
            vec![format!(
                "custody ledger {} is larger than {MAX_LEDGER} bytes; not read",
                path.display()
            )],
        )));
    }
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
        if raw.is_empty() {
            continue;
        }
        let raw = String::from_utf8_lossy(raw).into_owned();
        let parsed = raw
            .split_once(' ')
            .and_then(|(_, body)| serde_json::from_str::<CustodyEvent>(body).ok());
        match parsed {
            Some(event) => lines.push(Line { event, raw }),
            None => problems.push(format!("custody ledger line {}: does not parse", n + 1)),
        }
    }
    if lines.is_empty() && problems.is_empty() {
        problems.push(format!(
            "custody ledger {} is empty: no acquisition event",
            path.display()
        ));
    }
    Ok(Some((lines, problems)))
}

/// Checks signatures, the chain, the sequence and the bundle hash; `current` is the bundle
/// file's hash now. `collector` is the manifest's signer: acquisition must be signed by it.
pub fn check(
    lines: &[Line],
    current: &str,
    manifest_sha256: Option<&str>,
    collector: Option<&PublicKey>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut prev = CHAIN_START.to_string();
    let acquired = lines.first().map(|l| l.event.bundle_sha256.clone());
    for (i, line) in lines.iter().enumerate() {
        let e = &line.event;
        let at = format!("custody event {} ({})", e.seq, e.action.event);
        let (sig, body) = line.raw.split_once(' ').unwrap_or(("", ""));
        let signed = PublicKey::parse(&e.signer)
            .ok()
            .zip(unhex(sig))
            .is_some_and(|(k, s)| k.verify(body.as_bytes(), &s));
        if !signed {
            problems.push(format!("{at}: signature does not verify"));
        }
        if e.seq != i as u64 + 1 {
            problems.push(format!("{at}: out of sequence (expected {})", i + 1));
        }
        if e.prev != prev {
            problems.push(format!(
                "{at}: does not chain to the previous event (removed, inserted or reordered)"
            ));
        }
        prev = hex(&Sha256::digest(line.raw.as_bytes()));
        if i == 0 {
            if e.action.event != "acquire" {
                problems.push(format!("{at}: the ledger must start with acquisition"));
            }
            if let (Some(want), Some(got)) = (manifest_sha256, e.manifest_sha256.as_deref())
                && want != got
            {
                problems.push(format!("{at}: records a different manifest"));
            }
            if let Some(k) = collector
                && k.to_hex() != e.signer
            {
                problems.push(format!("{at}: not signed by the bundle's signer"));
            }
        } else if !e.hash_verified {
            problems.push(format!(
                "{at}: the bundle's hash did not match acquisition when this event was recorded"
            ));
        }
    }
    if let Some(a) = acquired
        && a != current
    {
        problems.push(format!(
            "bundle file SHA-256 {current} differs from {a} recorded at acquisition"
        ));
    }
    problems
}

/// What happened and who did it: the part of a custody event a person supplies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    /// `acquire`, `transfer`, `check-out`, `check-in`, `examine` or `dispose`.
    pub event: String,
    /// Who acted (collected, released, examined …).
    pub by: String,
    /// Who received it (transfers).
    pub to: Option<String>,
    /// Why: purpose, authority, or the disposition and its authority.
    pub reason: String,
    /// Seal or evidence-bag number.
    pub seal: Option<String>,
    /// Hand delivery, courier and tracking number, network copy …
    pub method: Option<String>,
    /// Where it is stored afterwards.
    pub location: Option<String>,
}

/// Who wrote an event, with what.
pub struct Tool {
    /// `firewarden 0.1.0`.
    pub name: String,
    /// Binary hash.
    pub sha256: Option<String>,
}

fn append(ledger: &Path, key: &KeyPair, event: &CustodyEvent) -> Result<String, EvidenceError> {
    let body = serde_json::to_string(event)
        .map_err(|e| EvidenceError::Io(format!("cannot serialise custody event: {e}")))?;
    let line = format!("{} {body}", hex(&key.sign(body.as_bytes())));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(ledger)
        .map_err(|e| EvidenceError::Io(format!("{}: {e}", ledger.display())))?;
    f.write_all(format!("{line}\n").as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| EvidenceError::Io(format!("{}: {e}", ledger.display())))?;
    Ok(line)
}

fn file_name(bundle: &Path) -> String {
    bundle
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Starts the ledger with the acquisition event (called by `collect`).
pub fn acquire(
    bundle: &Path,
    written: &crate::Written,
    header: &crate::manifest::Header,
    key: &KeyPair,
    tool: &Tool,
) -> Result<CustodyEvent, EvidenceError> {
    let ledger = ledger_path(bundle);
    if ledger.exists() {
        return Err(EvidenceError::Io(format!(
            "{} already exists",
            ledger.display()
        )));
    }
    let event = CustodyEvent {
        seq: 1,
        action: NewEvent {
            event: "acquire".into(),
            by: header.operator.clone(),
            reason: format!(
                "collected from {} ({} {}), profile {}",
                header.host.hostname.as_deref().unwrap_or("unknown host"),
                header.source_kind,
                header.source_location,
                header.profile
            ),
            ..Default::default()
        },
        utc: utc_now(),
        evidence_id: header.evidence_id.clone(),
        case_id: header.case_id.clone(),
        bundle: file_name(bundle),
        bundle_sha256: written.sha256.clone(),
        bundle_size: written.size,
        hash_verified: true,
        manifest_sha256: Some(written.manifest_sha256.clone()),
        tool: tool.name.clone(),
        tool_sha256: tool.sha256.clone(),
        signer: key.public().to_hex(),
        prev: CHAIN_START.into(),
    };
    append(&ledger, key, &event)?;
    Ok(event)
}

/// Appends an event after re-measuring the bundle. Refuses when the ledger itself fails its
/// checks (appending would launder a broken history). Returns the event written.
pub fn add(
    bundle: &Path,
    new: NewEvent,
    key: &KeyPair,
    tool: &Tool,
) -> Result<CustodyEvent, EvidenceError> {
    if !EVENT_KINDS.contains(&new.event.as_str()) {
        return Err(EvidenceError::Usage(format!(
            "unknown custody event `{}` (one of {})",
            new.event,
            EVENT_KINDS.join(", ")
        )));
    }
    if new.event == "transfer" && new.to.is_none() {
        return Err(EvidenceError::Usage("a transfer needs --to".into()));
    }
    let (lines, mut problems) = load(bundle)?.ok_or_else(|| {
        EvidenceError::Usage(format!(
            "{} has no custody ledger ({})",
            bundle.display(),
            ledger_path(bundle).display()
        ))
    })?;
    let (sha, size) = crate::read::file_sha256(bundle)?;
    let first = lines
        .first()
        .ok_or_else(|| EvidenceError::Tampered(vec!["custody ledger is empty".into()]))?;
    // The current hash is judged by the event we are about to write, not as a ledger problem.
    problems.extend(
        check(&lines, &first.event.bundle_sha256, None, None)
            .into_iter()
            .filter(|p| !p.contains("did not match acquisition")),
    );
    if !problems.is_empty() {
        return Err(EvidenceError::Tampered(problems));
    }
    let last = lines.last().expect("non-empty");
    let event = CustodyEvent {
        seq: last.event.seq + 1,
        action: new,
        utc: utc_now(),
        evidence_id: first.event.evidence_id.clone(),
        case_id: first.event.case_id.clone(),
        bundle: file_name(bundle),
        hash_verified: sha == first.event.bundle_sha256,
        bundle_sha256: sha,
        bundle_size: size,
        manifest_sha256: None,
        tool: tool.name.clone(),
        tool_sha256: tool.sha256.clone(),
        signer: key.public().to_hex(),
        prev: hex(&Sha256::digest(last.raw.as_bytes())),
    };
    append(&ledger_path(bundle), key, &event)?;
    Ok(event)
}
