//! The tool registry's rules: every binary and rule pack used on a case is known by its
//! SHA-256; an import names the hashes it came from, and each is judged against the registry
//! (validated, registered but not validated, withdrawn or superseded, unknown). A tenant's
//! policy says whether an import from anything short of a validated tool is flagged or refused.

use firewarden_model::Provenance;
use serde::{Deserialize, Serialize};

/// What a registry entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    /// A `firewarden` binary (or another program whose output is imported).
    Binary,
    /// A YARA rule pack.
    Yara,
    /// A Sigma rule pack.
    Sigma,
    /// An IOC list.
    Ioc,
}

impl ToolKind {
    /// The kind a rule pack records (`yara`, `sigma`, `ioc`).
    pub fn of_pack(kind: &str) -> Option<ToolKind> {
        match kind {
            "yara" => Some(ToolKind::Yara),
            "sigma" => Some(ToolKind::Sigma),
            "ioc" => Some(ToolKind::Ioc),
            _ => None,
        }
    }
}

/// Where a registry entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolStatus {
    /// In use.
    Approved,
    /// Replaced by a newer version (kept as history).
    Superseded,
    /// Taken out of use (a defect found).
    Withdrawn,
}

/// How a hash an import names stands in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Registered, approved, with a passing validation run of this very hash.
    Validated,
    /// Registered and approved, never validated (or its last run failed).
    Unvalidated,
    /// Registered but superseded or withdrawn.
    Retired,
    /// Not in the registry.
    Unregistered,
    /// The import does not say which binary wrote it (written before hashes were recorded).
    Unrecorded,
}

impl Standing {
    /// In words, for the import's warnings.
    pub fn words(self) -> &'static str {
        match self {
            Standing::Validated => "validated",
            Standing::Unvalidated => "registered but not validated",
            Standing::Retired => "superseded or withdrawn",
            Standing::Unregistered => "not registered",
            Standing::Unrecorded => "not recorded in the upload",
        }
    }
}

/// A tenant's rule for imports from anything but a validated tool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolPolicy {
    /// Accept, flagged on the import and in its timeline entry.
    #[default]
    Flag,
    /// Refuse the import.
    Refuse,
}

/// One hash an import came from, and how it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolUse {
    /// `binary`, `yara`, `sigma` or `ioc`.
    pub kind: ToolKind,
    /// The pack's name as given (rule packs), or `binary`.
    pub what: String,
    /// Its SHA-256 (empty when not recorded).
    pub sha256: String,
    /// How it stands.
    pub standing: Standing,
    /// The registry entry (`name version`), when registered.
    pub registered_as: Option<String>,
}

/// Everything an upload names: the binary (always listed, [`Standing::Unrecorded`] when the
/// upload does not say) and each rule pack. The standing is filled in from the registry.
pub fn uses(provenance: &Provenance) -> Vec<ToolUse> {
    let mut out = vec![ToolUse {
        kind: ToolKind::Binary,
        what: "binary".into(),
        sha256: provenance.tool_sha256.clone().unwrap_or_default(),
        standing: Standing::Unrecorded,
        registered_as: None,
    }];
    for p in &provenance.rule_packs {
        out.push(ToolUse {
            kind: ToolKind::of_pack(&p.kind).unwrap_or(ToolKind::Yara),
            what: p.name.clone(),
            sha256: p.sha256.clone(),
            standing: Standing::Unregistered,
            registered_as: None,
        });
    }
    out
}

/// How a registered hash stands, from its entry.
pub fn standing(status: ToolStatus, validated: bool) -> Standing {
    match (status, validated) {
        (ToolStatus::Approved, true) => Standing::Validated,
        (ToolStatus::Approved, false) => Standing::Unvalidated,
        _ => Standing::Retired,
    }
}

/// Whether an import with these uses may be taken under `policy`: `Err` names each hash short
/// of validated.
pub fn admit(policy: ToolPolicy, uses: &[ToolUse]) -> Result<(), String> {
    let short: Vec<String> = uses
        .iter()
        .filter(|u| u.standing != Standing::Validated)
        .map(describe)
        .collect();
    match policy {
        ToolPolicy::Refuse if !short.is_empty() => Err(format!(
            "the tenant accepts imports from validated tools only: {}",
            short.join("; ")
        )),
        _ => Ok(()),
    }
}

/// The flags to show with an import: one line per hash short of validated.
pub fn flags(uses: &[ToolUse]) -> Vec<String> {
    uses.iter()
        .filter(|u| u.standing != Standing::Validated)
        .map(describe)
        .collect()
}

fn describe(u: &ToolUse) -> String {
    let what = match u.kind {
        ToolKind::Binary => "the binary".to_owned(),
        k => format!(
            "{} pack {}",
            serde_json::to_value(k)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            firewarden_model::printable(&u.what, 80)
        ),
    };
    if u.sha256.is_empty() {
        format!("{what}: {}", u.standing.words())
    } else {
        format!(
            "{what} sha256 {}: {}",
            firewarden_model::printable(&u.sha256, 64),
            u.standing.words()
        )
    }
}

/// A SHA-256 in hex, lower case: what the registry keys by.
pub fn valid_sha256(text: &str) -> Option<String> {
    let t = text.trim().to_ascii_lowercase();
    (t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use firewarden_model::RulePack;

    #[test]
    fn only_validated_tools_pass_a_refusing_policy() {
        let p = Provenance {
            tool_sha256: Some("a".repeat(64)),
            rule_packs: vec![RulePack {
                kind: "sigma".into(),
                name: "rules".into(),
                sha256: "b".repeat(64),
                files: 3,
            }],
        };
        let mut u = uses(&p);
        assert_eq!(u.len(), 2);
        u[0].standing = Standing::Validated;
        u[1].standing = Standing::Unvalidated;
        assert!(admit(ToolPolicy::Flag, &u).is_ok());
        let why = admit(ToolPolicy::Refuse, &u).unwrap_err();
        assert!(why.contains("sigma pack rules sha256 bbbb"), "{why}");
        assert_eq!(flags(&u).len(), 1);
        u[1].standing = Standing::Validated;
        assert!(admit(ToolPolicy::Refuse, &u).is_ok());
        // An upload that does not say which binary wrote it is never validated.
        let bare = uses(&Provenance::default());
        assert_eq!(bare[0].standing, Standing::Unrecorded);
        assert!(admit(ToolPolicy::Refuse, &bare).is_err());
        assert_eq!(standing(ToolStatus::Superseded, true), Standing::Retired);
    }
}
