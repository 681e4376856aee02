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

/// Kinds the case server writes itself: its receipt of a pushed bundle, and each copy it hands
/// out (a download).
pub const SERVER_KINDS: &[&str] = &["receive", "download"];

/// What became of the evidence at the end (a `dispose` event's `disposition`).
pub const DISPOSITIONS: &[&str] = &["returned", "destroyed", "retained"];

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
    /// The acting person's own signature, when the event was recorded by a case server on
    /// their behalf (the server signs the line; the person signs what they declared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<ActorSeal>,
}

/// A person's signature over what they declared for one custody event: the event's fields as
/// they gave them ([`NewEvent`]), bound to the evidence and to the line it follows, so it
/// cannot be replayed on another item or at another place in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorSeal {
    /// The person's Ed25519 public key (hex).
    pub key: String,
    /// Their signature (hex) over [`actor_statement`].
    pub signature: String,
}

/// The bytes a person signs for an event they ask a server to record: version, evidence id,
/// the SHA-256 of the ledger line the event will follow, and their declaration.
pub fn actor_statement(evidence_id: &str, prev: &str, declared: &NewEvent) -> Vec<u8> {
    // serde_json writes struct fields in declaration order: the same input, the same bytes.
    let declared = serde_json::to_string(declared).unwrap_or_default();
    format!("firewarden-custody-actor-v1\n{evidence_id}\n{prev}\n{declared}").into_bytes()
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
    let (lines, mut problems) = parse(&text);
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
        prev = line_digest(&line.raw);
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
    /// Under whose authority (a warrant, a contract clause, the customer's instruction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// For `dispose`: returned, destroyed or retained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    /// For a retained item: until when (a date, `YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_until: Option<String>,
}

impl NewEvent {
    /// Checks what a person asks to record: a known kind, a recipient for a transfer, a
    /// disposition (and a retention date when retained) for a disposal, no empty names.
    pub fn validate(&self) -> Result<(), EvidenceError> {
        let usage = |m: String| Err(EvidenceError::Usage(m));
        if !EVENT_KINDS.contains(&self.event.as_str()) {
            return usage(format!(
                "unknown custody event `{}` (one of {})",
                firewarden_model::printable(&self.event, 80),
                EVENT_KINDS.join(", ")
            ));
        }
        if self.by.trim().is_empty() || self.reason.trim().is_empty() {
            return usage("a custody event needs who acted and why".into());
        }
        if self.event == "transfer" && self.to.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return usage("a transfer needs who received it (--to)".into());
        }
        match (self.event.as_str(), self.disposition.as_deref()) {
            ("dispose", None) => {
                return usage(format!(
                    "a disposal says what became of it ({})",
                    DISPOSITIONS.join(", ")
                ));
            }
            ("dispose", Some(d)) if !DISPOSITIONS.contains(&d) => {
                return usage(format!(
                    "unknown disposition `{}` (one of {})",
                    firewarden_model::printable(d, 80),
                    DISPOSITIONS.join(", ")
                ));
            }
            ("dispose", Some("retained")) if self.retain_until.is_none() => {
                return usage(
                    "retained evidence needs its retention period (--retain-until)".into(),
                );
            }
            ("dispose", _) => {}
            (_, Some(_)) => return usage("only a disposal has a disposition".into()),
            _ => {}
        }
        if let Some(d) = &self.retain_until
            && !valid_date(d)
        {
            return usage(format!(
                "retention date `{}` is not YYYY-MM-DD",
                firewarden_model::printable(d, 80)
            ));
        }
        Ok(())
    }
}

fn valid_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Who wrote an event, with what.
pub struct Tool {
    /// `firewarden 0.1.0`.
    pub name: String,
    /// Binary hash.
    pub sha256: Option<String>,
}

fn append(ledger: &Path, key: &KeyPair, event: &CustodyEvent) -> Result<String, EvidenceError> {
    let line = signed_line(key, event)?.raw;
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
        actor: None,
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
    new.validate()?;
    let (lines, problems) = load(bundle)?.ok_or_else(|| {
        EvidenceError::Usage(format!(
            "{} has no custody ledger ({})",
            bundle.display(),
            ledger_path(bundle).display()
        ))
    })?;
    if !problems.is_empty() {
        return Err(EvidenceError::Tampered(problems));
    }
    permits(&lines, &new.event).map_err(EvidenceError::Usage)?;
    let measured = crate::read::file_sha256(bundle)?;
    let event = next_event(&lines, new, measured, &key.public(), tool, None)?;
    append(&ledger_path(bundle), key, &event)?;
    Ok(event)
}

/// The event that continues `lines` (which must pass [`check`]): `measured` is the bundle's
/// SHA-256 and size now, `signer` who will sign the line, `actor` the acting person's own
/// signature when someone else (a case server) signs the line. The kind is not checked here:
/// callers check a person's [`NewEvent::validate`] and write server kinds themselves.
pub fn next_event(
    lines: &[Line],
    new: NewEvent,
    measured: (String, u64),
    signer: &PublicKey,
    tool: &Tool,
    actor: Option<ActorSeal>,
) -> Result<CustodyEvent, EvidenceError> {
    let (first, last) = match (lines.first(), lines.last()) {
        (Some(f), Some(l)) => (f, l),
        _ => {
            return Err(EvidenceError::Tampered(vec![
                "custody ledger is empty".into(),
            ]));
        }
    };
    // The current hash is judged by the event about to be written, not as a ledger problem.
    let problems: Vec<String> = check(lines, &first.event.bundle_sha256, None, None)
        .into_iter()
        .filter(|p| !p.contains("did not match acquisition"))
        .collect();
    if !problems.is_empty() {
        return Err(EvidenceError::Tampered(problems));
    }
    let (sha, size) = measured;
    Ok(CustodyEvent {
        seq: last.event.seq + 1,
        action: new,
        utc: utc_now(),
        evidence_id: first.event.evidence_id.clone(),
        case_id: first.event.case_id.clone(),
        bundle: first.event.bundle.clone(),
        hash_verified: sha == first.event.bundle_sha256,
        bundle_sha256: sha,
        bundle_size: size,
        manifest_sha256: None,
        tool: tool.name.clone(),
        tool_sha256: tool.sha256.clone(),
        signer: signer.to_hex(),
        prev: line_digest(&last.raw),
        actor,
    })
}

/// The SHA-256 (hex) of a ledger line: what the next event's `prev` names.
pub fn line_digest(raw: &str) -> String {
    hex(&Sha256::digest(raw.as_bytes()))
}

/// The ledger line for `event`, signed with `key`.
pub fn signed_line(key: &KeyPair, event: &CustodyEvent) -> Result<Line, EvidenceError> {
    let body = serde_json::to_string(event)
        .map_err(|e| EvidenceError::Io(format!("cannot serialise custody event: {e}")))?;
    Ok(Line {
        raw: format!("{} {body}", hex(&key.sign(body.as_bytes()))),
        event: event.clone(),
    })
}

/// Parses ledger text (one `SIGNATURE EVENT-JSON` per line): the events and, as problems, the
/// lines that do not parse.
pub fn parse(text: &[u8]) -> Ledger {
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
    (lines, problems)
}

/// Checks a ledger as another examiner would, with the public keys alone: every line's
/// signature, sequence and chain ([`check`], against the hash at acquisition, or `bundle_sha256`
/// when the examiner has the bundle), every line signed by one of `trusted`, and every acting
/// person's own signature. Each problem names its event.
pub fn verify_offline(
    lines: &[Line],
    trusted: &[PublicKey],
    bundle_sha256: Option<&str>,
) -> Vec<String> {
    let Some(first) = lines.first() else {
        return vec!["custody ledger is empty: no acquisition event".into()];
    };
    let current = bundle_sha256.unwrap_or(&first.event.bundle_sha256);
    let mut problems = check(lines, current, None, None);
    let trusted: Vec<String> = trusted.iter().map(PublicKey::to_hex).collect();
    for line in lines {
        let e = &line.event;
        let at = format!("custody event {} ({})", e.seq, e.action.event);
        if !trusted.contains(&e.signer) {
            problems.push(format!(
                "{at}: signed by key {} which is not among the keys given",
                short(&e.signer)
            ));
        }
        if let Some(seal) = &e.actor {
            let ok = PublicKey::parse(&seal.key)
                .ok()
                .zip(unhex(&seal.signature))
                .is_some_and(|(k, s)| {
                    k.verify(&actor_statement(&e.evidence_id, &e.prev, &e.action), &s)
                });
            if !ok {
                problems.push(format!(
                    "{at}: the acting person's signature (key {}) does not verify",
                    short(&seal.key)
                ));
            }
        }
    }
    problems
}

fn short(key_hex: &str) -> &str {
    key_hex.get(..16).unwrap_or(key_hex)
}

/// Where an item stands, from its ledger: who has it checked out, and whether it was
/// disposed of (and how).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyState {
    /// Who checked it out and has not checked it back in.
    pub checked_out_by: Option<String>,
    /// The last disposition (`returned`, `destroyed`, `retained`) and its event number.
    pub disposed: Option<(String, u64)>,
}

/// The state after `lines`.
pub fn state(lines: &[Line]) -> CustodyState {
    let mut s = CustodyState::default();
    for l in lines {
        let a = &l.event.action;
        match a.event.as_str() {
            "check-out" => s.checked_out_by = Some(a.by.clone()),
            "check-in" => s.checked_out_by = None,
            "dispose" => {
                s.disposed = Some((
                    a.disposition.clone().unwrap_or_else(|| "disposed".into()),
                    l.event.seq,
                ))
            }
            _ => {}
        }
    }
    s
}

/// Whether `kind` may follow `lines`: nothing after evidence was returned or destroyed; only
/// a final disposal after it was retained; a check-in needs a check-out, and a check-out
/// waits for the check-in of the one before.
pub fn permits(lines: &[Line], kind: &str) -> Result<(), String> {
    let s = state(lines);
    match (&s.disposed, kind) {
        (Some((how, seq)), _) if how != "retained" => {
            return Err(format!(
                "the evidence was {how} (custody event {seq}): its ledger is closed"
            ));
        }
        (Some((_, seq)), k) if k != "dispose" => {
            return Err(format!(
                "the evidence is retained (custody event {seq}): only its final disposal may follow"
            ));
        }
        _ => {}
    }
    match (kind, &s.checked_out_by) {
        ("check-in", None) => Err("nothing to check in: the evidence is not checked out".into()),
        ("check-out", Some(who)) => Err(format!(
            "the evidence is checked out by {who}: it must be checked in first"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool() -> Tool {
        Tool {
            name: "test".into(),
            sha256: None,
        }
    }

    /// A ledger: acquisition by `collector`, then `kinds` recorded by `server` (each with
    /// `actor`'s seal when given).
    fn ledger(collector: &KeyPair, server: &KeyPair, kinds: &[&str]) -> Vec<Line> {
        let acquire = CustodyEvent {
            seq: 1,
            action: NewEvent {
                event: "acquire".into(),
                by: "collector".into(),
                reason: "collected".into(),
                ..Default::default()
            },
            utc: "2026-12-01T00:00:00Z".into(),
            evidence_id: "EV-1".into(),
            case_id: None,
            bundle: "b.fwb".into(),
            bundle_sha256: "ab".repeat(32),
            bundle_size: 10,
            hash_verified: true,
            manifest_sha256: None,
            tool: "test".into(),
            tool_sha256: None,
            signer: collector.public().to_hex(),
            prev: CHAIN_START.into(),
            actor: None,
        };
        let mut lines = vec![signed_line(collector, &acquire).unwrap()];
        for kind in kinds {
            let new = NewEvent {
                event: (*kind).into(),
                by: "examiner".into(),
                reason: "work".into(),
                disposition: (*kind == "dispose").then(|| "destroyed".into()),
                ..Default::default()
            };
            let e = next_event(
                &lines,
                new,
                ("ab".repeat(32), 10),
                &server.public(),
                &tool(),
                None,
            )
            .unwrap();
            lines.push(signed_line(server, &e).unwrap());
        }
        lines
    }

    #[test]
    fn an_acting_persons_seal_binds_their_declaration_and_place() {
        let (collector, server, person) = (
            KeyPair::generate(false).unwrap(),
            KeyPair::generate(false).unwrap(),
            KeyPair::generate(false).unwrap(),
        );
        let lines = ledger(&collector, &server, &["receive"]);
        let keys = [collector.public(), server.public()];
        let declared = NewEvent {
            event: "examine".into(),
            by: "examiner".into(),
            reason: "timeline".into(),
            ..Default::default()
        };
        let prev = line_digest(&lines[1].raw);
        let seal = |statement: Vec<u8>| ActorSeal {
            key: person.public().to_hex(),
            signature: hex(&person.sign(&statement)),
        };
        let sealed = |seal: ActorSeal| {
            let e = next_event(
                &lines,
                declared.clone(),
                ("ab".repeat(32), 10),
                &server.public(),
                &tool(),
                Some(seal),
            )
            .unwrap();
            let mut all = lines.clone();
            all.push(signed_line(&server, &e).unwrap());
            verify_offline(&all, &keys, None)
        };
        assert_eq!(
            sealed(seal(actor_statement("EV-1", &prev, &declared))),
            Vec::<String>::new()
        );
        // Signed for another place in the ledger, or another declaration: named.
        let elsewhere = sealed(seal(actor_statement("EV-1", CHAIN_START, &declared)));
        assert!(
            elsewhere[0].contains("custody event 3 (examine): the acting person's signature"),
            "{elsewhere:?}"
        );
        let mut other = declared.clone();
        other.reason = "something else".into();
        assert_eq!(
            sealed(seal(actor_statement("EV-1", &prev, &other))).len(),
            1
        );
    }

    #[test]
    fn events_follow_the_items_state() {
        let (c, s) = (
            KeyPair::generate(false).unwrap(),
            KeyPair::generate(false).unwrap(),
        );
        let out = ledger(&c, &s, &["receive", "check-out"]);
        assert!(
            permits(&out, "check-out")
                .unwrap_err()
                .contains("checked out by examiner")
        );
        assert!(permits(&out, "check-in").is_ok());
        let back = ledger(&c, &s, &["check-out", "check-in"]);
        assert!(
            permits(&back, "check-in")
                .unwrap_err()
                .contains("not checked out")
        );
        let gone = ledger(&c, &s, &["dispose"]);
        assert!(
            permits(&gone, "download")
                .unwrap_err()
                .contains("destroyed")
        );
        assert!(permits(&gone, "examine").is_err());
        // A signed ledger that verifies, from two keys; a key left out is named.
        let keys = [c.public(), s.public()];
        assert!(verify_offline(&back, &keys, None).is_empty());
        let why = verify_offline(&back, &[c.public()], None).join("; ");
        assert!(
            why.contains("custody event 2 (check-out): signed by key"),
            "{why}"
        );
    }

    #[test]
    fn a_disposal_says_what_became_of_it() {
        let mut d = NewEvent {
            event: "dispose".into(),
            by: "x".into(),
            reason: "end".into(),
            ..Default::default()
        };
        assert!(d.validate().is_err());
        d.disposition = Some("retained".into());
        assert!(d.validate().unwrap_err().to_string().contains("retention"));
        d.retain_until = Some("2030-13".into());
        assert!(d.validate().is_err());
        d.retain_until = Some("2030-12-31".into());
        assert!(d.validate().is_ok());
        let t = NewEvent {
            event: "transfer".into(),
            by: "x".into(),
            reason: "y".into(),
            ..Default::default()
        };
        assert!(t.validate().unwrap_err().to_string().contains("--to"));
    }
}
