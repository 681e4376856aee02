//! The tool registry: every binary and rule pack used on cases, by SHA-256, with who approved
//! it, its source and licence, its history of versions and its validation runs. Imports are
//! judged against it ([`firewarden_case::tools`]).

use super::*;
use firewarden_case::tools::{self, Standing, ToolKind, ToolStatus, ToolUse};

/// A tool or rule pack to register (an update names the entry it replaces and what changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTool {
    /// Binary or rule pack.
    pub kind: ToolKind,
    /// Name (`firewarden`, `signature-base`).
    pub name: String,
    /// Version (`0.1.0`, a commit).
    pub version: String,
    /// SHA-256 of the binary, or of the pack's contents (`firewarden tool register` computes it).
    pub sha256: String,
    /// Where it came from (a URL, a build).
    pub source: String,
    /// Its licence.
    pub licence: String,
    /// The entry this version replaces.
    #[serde(default)]
    pub replaces: Option<String>,
    /// What changed from the version it replaces.
    #[serde(default)]
    pub changes: Option<String>,
}

/// A registry entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolRecord {
    /// Id.
    pub id: String,
    /// Binary or rule pack.
    pub kind: ToolKind,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// SHA-256.
    pub sha256: String,
    /// Source.
    pub source: String,
    /// Licence.
    pub licence: String,
    /// Approved, superseded or withdrawn.
    pub status: ToolStatus,
    /// Who approved it (registered it).
    pub approved_by: String,
    /// When.
    pub approved_at: Timestamp,
    /// The entry it replaced.
    pub replaces: Option<String>,
    /// What changed.
    pub changes: Option<String>,
    /// The entry that replaced it.
    pub superseded_by: Option<String>,
    /// A passing validation run of this hash is on record (rule packs: their approval).
    pub validated: bool,
}

/// A validation run as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationRecord {
    /// When it was recorded.
    pub at: Timestamp,
    /// Who recorded it.
    pub by: String,
    /// Whether every check passed.
    pub passed: bool,
    /// The key (hex) that signed the run.
    pub signer: String,
    /// The signed result, as received.
    pub result: serde_json::Value,
}

/// A validation run checked by the caller (its signature verified, its hash read).
#[derive(Debug, Clone)]
pub struct ValidationRun {
    /// SHA-256 of the binary that ran.
    pub tool_sha256: String,
    /// Every check passed.
    pub passed: bool,
    /// The signer's key (hex).
    pub signer: String,
    /// The signed result.
    pub result: serde_json::Value,
}

/// An entry with its validation runs, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolView {
    /// The entry.
    #[serde(flatten)]
    pub tool: ToolRecord,
    /// Its runs.
    pub validations: Vec<ValidationRecord>,
}

fn tool_from(r: &AnyRow) -> Result<ToolRecord> {
    Ok(ToolRecord {
        id: r.try_get("id")?,
        kind: parse_enum(&r.try_get::<String, _>("kind")?)?,
        name: r.try_get("name")?,
        version: r.try_get("version")?,
        sha256: r.try_get("sha256")?,
        source: r.try_get("source")?,
        licence: r.try_get("licence")?,
        status: parse_enum(&r.try_get::<String, _>("status")?)?,
        approved_by: r.try_get("approved_by")?,
        approved_at: ts(r, "approved_at")?,
        replaces: r.try_get("replaces")?,
        changes: r.try_get("changes")?,
        superseded_by: r.try_get("superseded_by")?,
        validated: r.try_get::<i64, _>("validated")? != 0,
    })
}

async fn fetch_tool(tx: &mut Tx, id: &str) -> Result<ToolRecord> {
    let row = sqlx::query("SELECT * FROM tools WHERE id = $1")
        .bind(id.to_owned())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    tool_from(&row)
}

/// The hashes an upload came from: a report's provenance, each distinct binary of a journal,
/// the collector of a bundle.
pub fn tool_uses(payload: &Payload) -> Vec<ToolUse> {
    use firewarden_model::Provenance;
    match payload {
        Payload::Analysis(_, r) => tools::uses(&r.provenance),
        Payload::Hunt(h) => tools::uses(&h.provenance),
        Payload::Journal(entries, _) => {
            let mut hashes: Vec<Option<String>> =
                entries.iter().map(|e| e.tool_sha256.clone()).collect();
            hashes.sort();
            hashes.dedup();
            hashes
                .into_iter()
                .flat_map(|h| {
                    tools::uses(&Provenance {
                        tool_sha256: h,
                        rule_packs: Vec::new(),
                    })
                })
                .collect()
        }
        Payload::Evidence { tool_sha256, .. } => tools::uses(&Provenance {
            tool_sha256: tool_sha256.clone(),
            rule_packs: Vec::new(),
        }),
    }
}

/// Fills in how each use stands in the registry (the newest entry with its hash).
pub(crate) async fn judge(tx: &mut Conn, uses: &mut [ToolUse]) -> Result<()> {
    for u in uses.iter_mut().filter(|u| !u.sha256.is_empty()) {
        let row = sqlx::query(
            "SELECT name, version, status, validated FROM tools WHERE sha256 = $1 ORDER BY approved_at DESC LIMIT 1",
        )
        .bind(u.sha256.clone())
        .fetch_optional(&mut *tx)
        .await?;
        match row {
            Some(r) => {
                let status: ToolStatus = parse_enum(&r.try_get::<String, _>("status")?)?;
                u.standing = tools::standing(status, r.try_get::<i64, _>("validated")? != 0);
                u.registered_as = Some(format!(
                    "{} {}",
                    r.try_get::<String, _>("name")?,
                    r.try_get::<String, _>("version")?
                ));
            }
            None => u.standing = Standing::Unregistered,
        }
    }
    Ok(())
}

impl Store {
    /// Registers a tool or rule pack, approved by the caller (admins). With `replaces`, the
    /// old entry is superseded and stays as history. A rule pack counts as validated by its
    /// approval; a binary needs a validation run ([`Store::record_validation`]).
    pub async fn register_tool(&self, actor: &Actor, new: NewTool) -> Result<ToolRecord> {
        let sha256 = tools::valid_sha256(&new.sha256)
            .ok_or_else(|| StoreError::Invalid("sha256: 64 hex digits".into()))?;
        let name = valid_text(&new.name, "name", 200)?;
        let version = valid_text(&new.version, "version", 200)?;
        let source = valid_text(&new.source, "source", 2000)?;
        let licence = valid_text(&new.licence, "licence", 200)?;
        let changes = new
            .changes
            .as_deref()
            .map(|c| valid_text(c, "changes", 4000))
            .transpose()?;
        if new.replaces.is_some() && changes.is_none() {
            return Err(StoreError::Invalid(
                "an update says what changed (changes)".into(),
            ));
        }
        let who = actor.user.clone();
        let new = Arc::new((new, sha256, name, version, source, licence, changes));
        self.on_platform(actor, Operation::ManageTools, "tool.register", move |tx| {
            let (new, who) = (Arc::clone(&new), who.clone());
            Box::pin(async move {
                let (n, sha256, name, version, source, licence, changes) = &*new;
                let known = sqlx::query("SELECT id, name, version FROM tools WHERE sha256 = $1 AND status = 'approved'")
                    .bind(sha256.clone())
                    .fetch_optional(&mut **tx)
                    .await?;
                if let Some(r) = known {
                    return Err(StoreError::Settled(format!(
                        "sha256 {sha256} is registered already, as {} {} ({})",
                        r.try_get::<String, _>("name")?,
                        r.try_get::<String, _>("version")?,
                        r.try_get::<String, _>("id")?
                    )));
                }
                let id = random_id("X")?;
                if let Some(old) = &n.replaces {
                    let before = fetch_tool(tx, old).await?;
                    if before.status != ToolStatus::Approved {
                        return Err(StoreError::Settled(format!(
                            "{old} is {} already: update the entry that replaced it",
                            enum_text(&before.status)
                        )));
                    }
                    sqlx::query("UPDATE tools SET status = 'superseded', superseded_by = $1 WHERE id = $2")
                        .bind(id.clone())
                        .bind(old.clone())
                        .execute(&mut **tx)
                        .await?;
                }
                sqlx::query("INSERT INTO tools (id, kind, name, version, sha256, source, licence, status, approved_by, approved_at, replaces, changes, superseded_by, validated) VALUES ($1, $2, $3, $4, $5, $6, $7, 'approved', $8, $9, $10, $11, NULL, $12)")
                    .bind(id.clone())
                    .bind(enum_text(&n.kind))
                    .bind(name.clone())
                    .bind(version.clone())
                    .bind(sha256.clone())
                    .bind(source.clone())
                    .bind(licence.clone())
                    .bind(who.clone())
                    .bind(now().to_string())
                    .bind(n.replaces.clone())
                    .bind(changes.clone())
                    .bind(i64::from(n.kind != ToolKind::Binary))
                    .execute(&mut **tx)
                    .await?;
                let record = fetch_tool(tx, &id).await?;
                let detail = format!(
                    "{} {} {} sha256 {sha256}{}",
                    enum_text(&n.kind),
                    name,
                    version,
                    n.replaces.as_deref().map(|r| format!(", replacing {r}")).unwrap_or_default()
                );
                Ok((record, id, detail))
            })
        })
        .await
    }

    /// Takes a tool out of use (a defect found): imports from it are flagged from now on.
    pub async fn withdraw_tool(&self, actor: &Actor, id: &str, reason: &str) -> Result<ToolRecord> {
        let reason = valid_text(reason, "reason", 2000)?;
        let id = id.to_owned();
        self.on_platform(actor, Operation::ManageTools, "tool.withdraw", move |tx| {
            let (id, reason) = (id.clone(), reason.clone());
            Box::pin(async move {
                let before = fetch_tool(tx, &id).await?;
                if before.status != ToolStatus::Approved {
                    return Err(StoreError::Settled(format!(
                        "{id} is {} already",
                        enum_text(&before.status)
                    )));
                }
                sqlx::query("UPDATE tools SET status = 'withdrawn', changes = $1 WHERE id = $2")
                    .bind(format!("withdrawn: {reason}"))
                    .bind(id.clone())
                    .execute(&mut **tx)
                    .await?;
                Ok((fetch_tool(tx, &id).await?, id, reason))
            })
        })
        .await
    }

    /// The registry, newest first (any user: it holds no tenant's data).
    pub async fn tools(&self, actor: &Actor) -> Result<Vec<ToolRecord>> {
        require(actor, Operation::ReadTools, None)?;
        let who = actor.user.clone();
        self.read_audited(move |conn| {
            Box::pin(async move {
                let rows = sqlx::query("SELECT * FROM tools ORDER BY approved_at DESC, id")
                    .fetch_all(&mut *conn)
                    .await?;
                let out = rows.iter().map(tool_from).collect::<Result<Vec<_>>>()?;
                let detail = format!("{} tool(s)", out.len());
                Ok((out, record(&who, "tool.list", "*", None, &detail)))
            })
        })
        .await
    }

    /// One entry with its validation runs.
    pub async fn tool(&self, actor: &Actor, id: &str) -> Result<ToolView> {
        require(actor, Operation::ReadTools, None)?;
        let (who, id) = (actor.user.clone(), id.to_owned());
        self.read_audited(move |conn| {
            Box::pin(async move {
                let row = sqlx::query("SELECT * FROM tools WHERE id = $1")
                    .bind(id.clone())
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let tool = tool_from(&row)?;
                let rows = sqlx::query(
                    "SELECT * FROM tool_validations WHERE tool_id = $1 ORDER BY at DESC",
                )
                .bind(id.clone())
                .fetch_all(&mut *conn)
                .await?;
                let mut validations = Vec::new();
                for r in &rows {
                    validations.push(ValidationRecord {
                        at: ts(r, "at")?,
                        by: r.try_get("by_user")?,
                        passed: r.try_get::<i64, _>("passed")? != 0,
                        signer: r.try_get("signer")?,
                        result: serde_json::from_str(&r.try_get::<String, _>("result")?)
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                    });
                }
                Ok((
                    ToolView { tool, validations },
                    record(&who, "tool.read", &id, None, ""),
                ))
            })
        })
        .await
    }

    /// Keeps a validation run of a binary (signature already verified by the caller): it must
    /// be a run of the entry's own hash; a passing run makes the entry validated, a failing
    /// one takes that away.
    pub async fn record_validation(
        &self,
        actor: &Actor,
        id: &str,
        run: ValidationRun,
    ) -> Result<ToolView> {
        let (id, who, run) = (id.to_owned(), actor.user.clone(), Arc::new(run));
        self.on_platform(actor, Operation::ManageTools, "tool.validate", move |tx| {
            let (id, who, run) = (id.clone(), who.clone(), Arc::clone(&run));
            Box::pin(async move {
                let tool = fetch_tool(tx, &id).await?;
                if tool.kind != ToolKind::Binary {
                    return Err(StoreError::Invalid(
                        "a validation run is of a binary; a rule pack is validated by its approval".into(),
                    ));
                }
                if run.tool_sha256 != tool.sha256 {
                    return Err(StoreError::Invalid(format!(
                        "the run was of binary sha256 {}, not of {} {} (sha256 {})",
                        run.tool_sha256, tool.name, tool.version, tool.sha256
                    )));
                }
                sqlx::query("INSERT INTO tool_validations (tool_id, at, by_user, passed, signer, result) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(id.clone())
                    .bind(now().to_string())
                    .bind(who.clone())
                    .bind(i64::from(run.passed))
                    .bind(run.signer.clone())
                    .bind(run.result.to_string())
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("UPDATE tools SET validated = $1 WHERE id = $2")
                    .bind(i64::from(run.passed))
                    .bind(id.clone())
                    .execute(&mut **tx)
                    .await?;
                let tool = fetch_tool(tx, &id).await?;
                let detail = format!("{} run signed by {}", if run.passed { "passing" } else { "failing" }, run.signer);
                Ok((ToolView { tool, validations: Vec::new() }, id, detail))
            })
        })
        .await
    }
}
