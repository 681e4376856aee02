//! Customer-confirmed actions on stored cases: a host's plan comes in as a request, the tenant's
//! policy says who must agree, and an approval goes out as a statement signed by the server
//! (the signing itself is the caller's: the store keeps no keys but the shared one it is given).

use super::*;
use casework::{Event, insert_timeline, valid_asset, valid_text};
use firewarden_case::approval::{
    self, ApprovalPolicy, ApprovalState, ApprovalStatement, PreAuthorisation, Requirement,
    plan_digest,
};
use firewarden_model::action::{Action, Risk};

/// Signs the bytes of a statement; returns the signature in hex.
pub type Signer = Arc<dyn Fn(&[u8]) -> String + Send + Sync>;

/// Minutes a request waits for an answer, and an approval stays valid, unless asked otherwise.
pub const DEFAULT_VALID_MINUTES: u32 = 30;

/// What a host asks for (the body of `POST /cases/{id}/approvals`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalAsk {
    /// The host, as it names itself.
    pub host: String,
    /// The plan, as the host computed it.
    pub plan: Action,
    /// How long the request waits and an approval stays valid, minutes (default 30).
    #[serde(default)]
    pub valid_minutes: Option<u32>,
    /// Act now, ratified or disputed afterwards: why.
    #[serde(default)]
    pub break_glass: Option<String>,
}

/// A request to run an action on a host, and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// Id.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// The host it is for.
    pub host: String,
    /// The plan's digest ([`plan_digest`]).
    pub plan_sha256: String,
    /// The plan as the host computed it: its steps say what changes and what undo restores.
    pub plan: Action,
    /// Its risk tier.
    pub risk: Risk,
    /// Who must agree (the tenant's policy for the tier).
    pub requirement: Requirement,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: Timestamp,
    /// Unanswered after this, it is expired.
    pub expires: Timestamp,
    /// How long an approval of it stays valid, minutes.
    pub valid_minutes: u32,
    /// Where it stands.
    pub state: ApprovalState,
    /// Who decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
    /// Why (required to deny).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The signed statement, once approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<ApprovalStatement>,
    /// The server's signature over [`ApprovalStatement::signed_bytes`], hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Break-glass: why the requester acted before anyone agreed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<String>,
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Invalid(format!("stored {what}: {e}")))
}

fn record_from(r: &AnyRow) -> Result<ApprovalRecord> {
    let expires = casework::ts(r, "expires")?;
    let mut state: ApprovalState = parse_enum(&r.try_get::<String, _>("state")?)?;
    // Nobody answered in time: expired, whether or not anyone wrote it down.
    if state == ApprovalState::Pending && now() >= expires {
        state = ApprovalState::Expired;
    }
    Ok(ApprovalRecord {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        host: r.try_get("host")?,
        plan_sha256: r.try_get("plan_sha256")?,
        plan: parse_json(&r.try_get::<String, _>("plan")?, "plan")?,
        risk: parse_enum(&r.try_get::<String, _>("risk")?)?,
        requirement: parse_enum(&r.try_get::<String, _>("requirement")?)?,
        requested_by: r.try_get("requested_by")?,
        requested_at: casework::ts(r, "requested_at")?,
        expires,
        valid_minutes: r.try_get::<i64, _>("valid_minutes")? as u32,
        state,
        decided_by: r.try_get("decided_by")?,
        decided_at: r
            .try_get::<Option<String>, _>("decided_at")?
            .and_then(|t| Timestamp::parse(&t)),
        reason: r.try_get("reason")?,
        statement: r
            .try_get::<Option<String>, _>("statement")?
            .map(|s| parse_json(&s, "statement"))
            .transpose()?,
        signature: r.try_get("signature")?,
        break_glass: r.try_get("break_glass")?,
    })
}

fn statement_for(row: &ApprovalRecord, approved_by: &str, at: Timestamp) -> ApprovalStatement {
    ApprovalStatement {
        v: 1,
        request: row.id.clone(),
        case: row.case_id.clone(),
        host: row.host.clone(),
        plan_sha256: row.plan_sha256.clone(),
        risk: row.risk,
        requirement: row.requirement,
        approved_by: approved_by.to_owned(),
        approved_at: at,
        expires: Timestamp(at.0 + i64::from(row.valid_minutes) * 60),
        break_glass: false,
    }
}

/// Moves `row` from the state it was read in to `state`; a signed statement is kept when given
/// (a ratification keeps the break-glass one).
async fn save_decision(
    tx: &mut Conn,
    row: &ApprovalRecord,
    state: ApprovalState,
    by: &str,
    at: Timestamp,
    reason: Option<&str>,
    signed: Option<(&ApprovalStatement, &str)>,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE approvals SET state = $1, decided_by = $2, decided_at = $3, reason = $4, \
         statement = COALESCE($5, statement), signature = COALESCE($6, signature) \
         WHERE id = $7 AND state = $8",
    )
    .bind(enum_text(&state))
    .bind(by.to_owned())
    .bind(at.to_string())
    .bind(reason.map(str::to_owned))
    .bind(
        signed
            .map(|(s, _)| serde_json::to_string(s))
            .transpose()
            .map_err(|e| StoreError::Invalid(e.to_string()))?,
    )
    .bind(signed.map(|(_, sig)| sig.to_owned()))
    .bind(row.id.clone())
    .bind(enum_text(&row.state))
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Settled(
            "the request was decided meanwhile".into(),
        ));
    }
    Ok(())
}

impl Store {
    /// The server's signing key for `purpose` (PKCS#8 PEM): the stored one, or `make()`'s,
    /// stored by whichever server got there first (every server then signs with the same key).
    pub async fn server_key(&self, purpose: &str, make: impl FnOnce() -> String) -> Result<String> {
        let read = || async {
            sqlx::query("SELECT private_pem FROM server_keys WHERE purpose = $1")
                .bind(purpose.to_owned())
                .fetch_optional(&self.pool)
                .await
        };
        if let Some(row) = read().await? {
            return Ok(row.try_get("private_pem")?);
        }
        sqlx::query(
            "INSERT INTO server_keys (purpose, private_pem, created) VALUES ($1, $2, $3) ON CONFLICT (purpose) DO NOTHING",
        )
        .bind(purpose.to_owned())
        .bind(make())
        .bind(now().to_string())
        .execute(&self.pool)
        .await?;
        match read().await? {
            Some(row) => Ok(row.try_get("private_pem")?),
            None => Err(StoreError::Invalid("the server key was not stored".into())),
        }
    }

    /// Replaces a stored server secret by the same secret in another form (sealed): only when
    /// it still holds `old`.
    pub async fn reseal_server_key(&self, purpose: &str, old: &str, new: &str) -> Result<()> {
        sqlx::query(
            "UPDATE server_keys SET private_pem = $1 WHERE purpose = $2 AND private_pem = $3",
        )
        .bind(new.to_owned())
        .bind(purpose.to_owned())
        .bind(old.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A host's plan, sent for approval. The tenant's policy for the plan's risk says who must
    /// agree; a tier that needs nobody more is approved (and signed) at once, so the host's
    /// journal carries a statement either way. With `break_glass` (the reason), the requester
    /// acts now: the statement is signed at once, flagged, and the request waits for the one
    /// who should have agreed to ratify or dispute it.
    pub async fn request_approval(
        &self,
        actor: &Actor,
        case_id: &str,
        ask: ApprovalAsk,
        sign: Signer,
    ) -> Result<ApprovalRecord> {
        let ApprovalAsk {
            host,
            plan,
            valid_minutes,
            break_glass,
        } = ask;
        let host = valid_asset(&host)?;
        let break_glass = break_glass
            .map(|r| valid_text(&r, "the break-glass reason", 2000))
            .transpose()?;
        valid_text(&plan.title, "the plan's title", 2000)?;
        valid_text(&plan.kind, "the plan's kind", 200)?;
        let valid_minutes = valid_minutes.unwrap_or(DEFAULT_VALID_MINUTES);
        if !(1..=7 * 24 * 60).contains(&valid_minutes) {
            return Err(StoreError::Invalid(
                "an approval is valid 1 minute to 7 days".into(),
            ));
        }
        let who = actor.user.clone();
        self.on_case(
            actor,
            case_id,
            Operation::EditCase,
            "case.approval_request",
            move |tx, case| {
                let (host, plan, who, sign) = (host.clone(), plan.clone(), who.clone(), Arc::clone(&sign));
                let break_glass = break_glass.clone();
                Box::pin(async move {
                    let policy = match sqlx::query("SELECT approval_policy FROM tenants WHERE id = $1")
                        .bind(case.tenant.clone())
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get::<String, _>("approval_policy")?
                        .as_str()
                    {
                        "" => ApprovalPolicy::default(),
                        json => parse_json(json, "approval policy")?,
                    };
                    let at = now();
                    let mut row = ApprovalRecord {
                        id: random_id("R")?,
                        case_id: case.id.clone(),
                        host,
                        plan_sha256: plan_digest(&plan),
                        risk: plan.risk,
                        requirement: policy.requirement(plan.risk),
                        plan,
                        requested_by: who.clone(),
                        requested_at: at,
                        expires: Timestamp(at.0 + i64::from(valid_minutes) * 60),
                        valid_minutes,
                        state: ApprovalState::Pending,
                        decided_by: None,
                        decided_at: None,
                        reason: None,
                        statement: None,
                        signature: None,
                        break_glass: None,
                    };
                    sqlx::query(
                        "INSERT INTO approvals (id, case_id, host, plan_sha256, plan, kind, title, risk, requirement, \
                         requested_by, requested_at, expires, valid_minutes, state) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending')",
                    )
                    .bind(row.id.clone())
                    .bind(row.case_id.clone())
                    .bind(row.host.clone())
                    .bind(row.plan_sha256.clone())
                    .bind(serde_json::to_string(&row.plan).map_err(|e| StoreError::Invalid(e.to_string()))?)
                    .bind(row.plan.kind.clone())
                    .bind(row.plan.title.clone())
                    .bind(enum_text(&row.risk))
                    .bind(enum_text(&row.requirement))
                    .bind(row.requested_by.clone())
                    .bind(at.to_string())
                    .bind(row.expires.to_string())
                    .bind(i64::from(valid_minutes))
                    .execute(&mut *tx)
                    .await?;
                    let needs = match row.requirement {
                        Requirement::AtOnce => "approved by the tenant's policy",
                        Requirement::SecondResponder => "needs a second responder",
                        Requirement::Customer => "needs the customer's authoriser",
                    };
                    let text = format!(
                        "{who} asks to run on {}: {} ({} risk; {needs})",
                        row.host,
                        firewarden_model::printable(&row.plan.title, 300),
                        row.risk.as_str()
                    );
                    let mut text = text;
                    if row.requirement == Requirement::AtOnce {
                        let statement = statement_for(&row, "policy", at);
                        let signature = sign(&statement.signed_bytes());
                        save_decision(tx, &row, ApprovalState::Approved, "policy", at, None, Some((&statement, &signature))).await?;
                        row.state = ApprovalState::Approved;
                        row.decided_by = Some("policy".into());
                        row.decided_at = Some(at);
                        row.statement = Some(statement);
                        row.signature = Some(signature);
                    } else if let Some(reason) = &break_glass {
                        let mut statement = statement_for(&row, &who, at);
                        statement.break_glass = true;
                        let signature = sign(&statement.signed_bytes());
                        save_decision(tx, &row, ApprovalState::Unratified, &who, at, None, Some((&statement, &signature))).await?;
                        sqlx::query("UPDATE approvals SET break_glass = $1 WHERE id = $2")
                            .bind(reason.clone())
                            .bind(row.id.clone())
                            .execute(&mut *tx)
                            .await?;
                        row.state = ApprovalState::Unratified;
                        row.decided_by = Some(who.clone());
                        row.decided_at = Some(at);
                        row.statement = Some(statement);
                        row.signature = Some(signature);
                        row.break_glass = Some(reason.clone());
                        text = format!(
                            "{who} BROKE GLASS on {}: {} ({} risk; {needs}, not asked first): {reason}",
                            row.host,
                            firewarden_model::printable(&row.plan.title, 300),
                            row.risk.as_str()
                        );
                    }
                    let event = Event {
                        id: row.id.clone(),
                        at,
                        zone: "UTC".into(),
                        source: "server".into(),
                        kind: "approval.request".into(),
                        text: text.clone(),
                    };
                    insert_timeline(tx, &row.case_id, &who, &[event]).await?;
                    Ok((row, text))
                })
            },
        )
        .await
    }

    /// A case's approval requests, newest first (expired ones say so).
    pub async fn approvals(&self, actor: &Actor, case_id: &str) -> Result<Vec<ApprovalRecord>> {
        self.case_rows(
            actor,
            case_id,
            "case.approvals",
            "SELECT * FROM approvals WHERE case_id = $1 ORDER BY requested_at DESC, id",
            record_from,
        )
        .await
    }

    /// The requests waiting for someone on the cases the actor may read, oldest first: pending
    /// ones not yet expired and break-glass actions not yet ratified (the customer portal's
    /// queue). Audited as one listing.
    pub async fn pending_approvals(&self, actor: &Actor) -> Result<Vec<ApprovalRecord>> {
        let actor = actor.clone();
        self.read_audited(move |conn| {
            Box::pin(async move {
                let mut binds: Vec<String> = Vec::new();
                let Some(tenant_filter) = tenant_condition(&actor, "c.tenant_id", &mut binds)
                else {
                    return Ok((
                        Vec::new(),
                        record(&actor.user, "approval.queue", "*", None, "0 request(s)"),
                    ));
                };
                // Expired requests stay `pending` in the table: they must not fill the page.
                binds.push(now().to_string());
                let now = binds.len();
                let sql = format!(
                    "SELECT a.*, c.tenant_id AS case_tenant FROM approvals a JOIN cases c ON c.id = a.case_id \
                     WHERE (a.state = 'unratified' OR (a.state = 'pending' AND a.expires > ${now})) AND {tenant_filter} \
                     ORDER BY a.requested_at, a.id LIMIT 500"
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for b in binds {
                    q = q.bind(b);
                }
                let rows = q.fetch_all(&mut *conn).await?;
                let mut out = Vec::new();
                for row in &rows {
                    let tenant: String = row.try_get("case_tenant")?;
                    if authorize(&actor, Operation::ReadCase, Some(&tenant)) != Decision::Allow {
                        continue;
                    }
                    let r = record_from(row)?;
                    if matches!(r.state, ApprovalState::Pending | ApprovalState::Unratified) {
                        out.push(r);
                    }
                }
                let detail = format!("{} request(s)", out.len());
                Ok((out, record(&actor.user, "approval.queue", "*", None, &detail)))
            })
        })
        .await
    }

    /// One request (the host polls it while it waits).
    pub async fn approval(&self, actor: &Actor, case_id: &str, id: &str) -> Result<ApprovalRecord> {
        let id = id.to_owned();
        self.on_case(
            actor,
            case_id,
            Operation::ReadCase,
            "case.approval",
            move |conn, case| {
                let id = id.clone();
                Box::pin(async move {
                    let row = sqlx::query("SELECT * FROM approvals WHERE case_id = $1 AND id = $2")
                        .bind(case.id.clone())
                        .bind(id.clone())
                        .fetch_optional(&mut *conn)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    Ok((record_from(&row)?, id))
                })
            },
        )
        .await
    }

    /// Approves (signing the statement with `sign`) or denies a pending request. Who may is
    /// [`approval::may_decide`]: a second responder who did not ask, or the customer's
    /// authoriser. The caller has checked the decider's password again.
    pub async fn decide_approval(
        &self,
        actor: &Actor,
        case_id: &str,
        id: &str,
        approve: bool,
        reason: Option<&str>,
        sign: Signer,
    ) -> Result<ApprovalRecord> {
        let reason = match reason {
            Some(r) if !r.trim().is_empty() => Some(valid_text(r, "the reason", 2000)?),
            _ if !approve => {
                return Err(StoreError::Invalid("a denial needs a reason".into()));
            }
            _ => None,
        };
        let (id, who) = (id.to_owned(), actor.clone());
        self.on_case(
            actor,
            case_id,
            Operation::ConfirmAction,
            "case.approval_decision",
            move |tx, case| {
                let (id, who, reason, sign) =
                    (id.clone(), who.clone(), reason.clone(), Arc::clone(&sign));
                Box::pin(async move {
                    let at = now();
                    let row = sqlx::query("SELECT * FROM approvals WHERE case_id = $1 AND id = $2")
                        .bind(case.id.clone())
                        .bind(id.clone())
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    let mut row = record_from(&row)?;
                    if row.state == ApprovalState::Unratified {
                        if !approval::may_decide(
                            row.requirement,
                            who.role,
                            &who.user,
                            &row.requested_by,
                        ) {
                            return Err(StoreError::Forbidden);
                        }
                        let (state, verb) = if approve {
                            (ApprovalState::Ratified, "ratified")
                        } else {
                            (ApprovalState::Disputed, "disputed")
                        };
                        save_decision(tx, &row, state, &who.user, at, reason.as_deref(), None)
                            .await?;
                        row.state = state;
                        row.decided_by = Some(who.user.clone());
                        row.decided_at = Some(at);
                        row.reason = reason.clone();
                        let text = format!(
                            "{} {verb} the break-glass action {} on {}{}",
                            who.user,
                            row.plan.title,
                            row.host,
                            reason
                                .as_deref()
                                .map(|r| format!(": {r}"))
                                .unwrap_or_default()
                        );
                        let event = Event {
                            id: format!("{}-{verb}", row.id),
                            at,
                            zone: "UTC".into(),
                            source: "server".into(),
                            kind: format!("approval.{verb}"),
                            text: firewarden_model::printable(&text, 2000),
                        };
                        insert_timeline(tx, &row.case_id, &who.user, &[event]).await?;
                        return Ok((row, text));
                    }
                    if row.state != ApprovalState::Pending {
                        return Err(StoreError::Settled(format!(
                            "the request is already {}",
                            enum_text(&row.state)
                        )));
                    }
                    if !approval::may_decide(
                        row.requirement,
                        who.role,
                        &who.user,
                        &row.requested_by,
                    ) {
                        return Err(StoreError::Forbidden);
                    }
                    let text = if approve {
                        let statement = statement_for(&row, &who.user, at);
                        let signature = sign(&statement.signed_bytes());
                        save_decision(
                            tx,
                            &row,
                            ApprovalState::Approved,
                            &who.user,
                            at,
                            reason.as_deref(),
                            Some((&statement, &signature)),
                        )
                        .await?;
                        row.state = ApprovalState::Approved;
                        row.statement = Some(statement);
                        row.signature = Some(signature);
                        format!(
                            "{} approved {} on {} until {}",
                            who.user,
                            row.plan.title,
                            row.host,
                            Timestamp(at.0 + i64::from(row.valid_minutes) * 60)
                        )
                    } else {
                        save_decision(
                            tx,
                            &row,
                            ApprovalState::Denied,
                            &who.user,
                            at,
                            reason.as_deref(),
                            None,
                        )
                        .await?;
                        row.state = ApprovalState::Denied;
                        format!(
                            "{} denied {} on {}: {}",
                            who.user,
                            row.plan.title,
                            row.host,
                            reason.clone().unwrap_or_default()
                        )
                    };
                    row.decided_by = Some(who.user.clone());
                    row.decided_at = Some(at);
                    row.reason = reason.clone();
                    let event = Event {
                        id: format!("{}-decision", row.id),
                        at,
                        zone: "UTC".into(),
                        source: "server".into(),
                        kind: format!("approval.{}", enum_text(&row.state)),
                        text: firewarden_model::printable(&text, 2000),
                    };
                    insert_timeline(tx, &row.case_id, &who.user, &[event]).await?;
                    Ok((row, text))
                })
            },
        )
        .await
    }
}

/// What a customer's authoriser grants ahead: the scope of a [`PreAuthorisation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreAuthScope {
    /// Action kinds allowed; empty: any.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Host patterns allowed (`web*`).
    pub hosts: Vec<String>,
    /// Host patterns never allowed (`db*`).
    #[serde(default)]
    pub never_hosts: Vec<String>,
    /// The highest risk allowed.
    pub max_risk: Risk,
    /// For how many hours (at most 30 days).
    pub hours: u32,
}

/// A granted pre-authorisation and the server's signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreAuthRecord {
    /// The signed scope.
    pub statement: PreAuthorisation,
    /// The server's signature over [`PreAuthorisation::signed_bytes`], hex.
    pub signature: String,
    /// Withdrawn before it expired: no longer handed to hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocation>,
}

/// Who withdrew a pre-authorisation, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
}

fn preauth_from(r: &AnyRow) -> Result<PreAuthRecord> {
    let revoked = match r.try_get::<Option<String>, _>("revoked_at")? {
        Some(at) => Some(Revocation {
            at: Timestamp::parse(&at)
                .ok_or_else(|| StoreError::Invalid("stored revocation time".into()))?,
            by: r
                .try_get::<Option<String>, _>("revoked_by")?
                .unwrap_or_default(),
            reason: r
                .try_get::<Option<String>, _>("revoked_reason")?
                .unwrap_or_default(),
        }),
        None => None,
    };
    Ok(PreAuthRecord {
        statement: parse_json(&r.try_get::<String, _>("statement")?, "pre-authorisation")?,
        signature: r.try_get("signature")?,
        revoked,
    })
}

fn valid_patterns(list: &[String], what: &str) -> Result<()> {
    if list.len() > 100 {
        return Err(StoreError::Invalid(format!("at most 100 {what}")));
    }
    for p in list {
        if p.is_empty() || p.len() > 255 || p.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(StoreError::Invalid(format!(
                "{what}: printable names or patterns of 1 to 255 characters"
            )));
        }
    }
    Ok(())
}

impl Store {
    /// The customer's authoriser grants a scope ahead of time; the server signs it. The caller
    /// has checked the authoriser's password again.
    pub async fn grant_preauthorisation(
        &self,
        actor: &Actor,
        case_id: &str,
        scope: PreAuthScope,
        sign: Signer,
    ) -> Result<PreAuthRecord> {
        if scope.hosts.is_empty() {
            return Err(StoreError::Invalid(
                "name the hosts it covers (patterns such as web*)".into(),
            ));
        }
        valid_patterns(&scope.hosts, "hosts")?;
        valid_patterns(&scope.never_hosts, "excluded hosts")?;
        valid_patterns(&scope.kinds, "action kinds")?;
        if !(1..=720).contains(&scope.hours) {
            return Err(StoreError::Invalid(
                "a pre-authorisation lasts 1 to 720 hours".into(),
            ));
        }
        let (who, role) = (actor.user.clone(), actor.role);
        self.on_case(
            actor,
            case_id,
            Operation::ConfirmAction,
            "case.preauthorise",
            move |tx, case| {
                let (scope, who, sign) = (scope.clone(), who.clone(), Arc::clone(&sign));
                Box::pin(async move {
                    // After the tenant check, so another tenant's case stays a 404.
                    if !approval::may_preauthorise(role) {
                        return Err(StoreError::Forbidden);
                    }
                    let at = now();
                    let statement = PreAuthorisation {
                        v: 1,
                        id: random_id("P")?,
                        case: case.id.clone(),
                        kinds: scope.kinds,
                        hosts: scope.hosts,
                        never_hosts: scope.never_hosts,
                        max_risk: scope.max_risk,
                        granted_by: who.clone(),
                        granted_at: at,
                        expires: Timestamp(at.0 + i64::from(scope.hours) * 3600),
                    };
                    let signature = sign(&statement.signed_bytes());
                    sqlx::query(
                        "INSERT INTO preauthorisations (id, case_id, statement, signature, granted_by, granted_at, expires) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(statement.id.clone())
                    .bind(case.id.clone())
                    .bind(serde_json::to_string(&statement).map_err(|e| StoreError::Invalid(e.to_string()))?)
                    .bind(signature.clone())
                    .bind(who.clone())
                    .bind(at.to_string())
                    .bind(statement.expires.to_string())
                    .execute(&mut *tx)
                    .await?;
                    let text = format!(
                        "{who} pre-authorised {} on {}{} up to {} risk until {}",
                        if statement.kinds.is_empty() {
                            "any action".to_owned()
                        } else {
                            statement.kinds.join(", ")
                        },
                        statement.hosts.join(", "),
                        if statement.never_hosts.is_empty() {
                            String::new()
                        } else {
                            format!(", never {}", statement.never_hosts.join(", "))
                        },
                        statement.max_risk.as_str(),
                        statement.expires
                    );
                    let event = Event {
                        id: statement.id.clone(),
                        at,
                        zone: "UTC".into(),
                        source: "server".into(),
                        kind: "approval.preauthorised".into(),
                        text: firewarden_model::printable(&text, 2000),
                    };
                    insert_timeline(tx, &case.id, &who, &[event]).await?;
                    Ok((
                        PreAuthRecord {
                            statement,
                            signature,
                            revoked: None,
                        },
                        text,
                    ))
                })
            },
        )
        .await
    }

    /// A case's pre-authorisations, newest first (expired ones included: `expires` says).
    pub async fn preauthorisations(
        &self,
        actor: &Actor,
        case_id: &str,
    ) -> Result<Vec<PreAuthRecord>> {
        self.case_rows(
            actor,
            case_id,
            "case.preauthorisations",
            "SELECT statement, signature, revoked_at, revoked_by, revoked_reason FROM preauthorisations WHERE case_id = $1 ORDER BY granted_at DESC, id",
            preauth_from,
        )
        .await
    }

    /// Withdraws a pre-authorisation before it expires (the customer's authoriser, or a lead).
    /// The signed grant stays on record with the revocation; hosts are no longer handed it
    /// (`case preauths --save` leaves it out), so revoke before a host saves the grants, or
    /// tell the host's responder. The caller has checked the password again.
    pub async fn revoke_preauthorisation(
        &self,
        actor: &Actor,
        case_id: &str,
        id: &str,
        reason: &str,
    ) -> Result<PreAuthRecord> {
        let reason = valid_text(reason, "a reason", 2000)?;
        let (who, role, id) = (actor.user.clone(), actor.role, id.to_owned());
        self.on_case(
            actor,
            case_id,
            Operation::ConfirmAction,
            "case.preauth_revoke",
            move |tx, case| {
                let (who, id, reason) = (who.clone(), id.clone(), reason.clone());
                Box::pin(async move {
                    // After the tenant check, so another tenant's case stays a 404.
                    if !approval::may_revoke_preauthorisation(role) {
                        return Err(StoreError::Forbidden);
                    }
                    let row = sqlx::query(
                        "SELECT statement, signature, revoked_at, revoked_by, revoked_reason FROM preauthorisations WHERE case_id = $1 AND id = $2",
                    )
                    .bind(case.id.clone())
                    .bind(id.clone())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                    let mut record = preauth_from(&row)?;
                    if record.revoked.is_some() {
                        return Err(StoreError::Settled("already revoked".into()));
                    }
                    let at = now();
                    if record.statement.expires.0 <= at.0 {
                        return Err(StoreError::Settled("already expired".into()));
                    }
                    sqlx::query(
                        "UPDATE preauthorisations SET revoked_at = $1, revoked_by = $2, revoked_reason = $3 WHERE case_id = $4 AND id = $5",
                    )
                    .bind(at.to_string())
                    .bind(who.clone())
                    .bind(reason.clone())
                    .bind(case.id.clone())
                    .bind(id.clone())
                    .execute(&mut *tx)
                    .await?;
                    let text = format!("{who} revoked pre-authorisation {id}: {reason}");
                    let event = Event {
                        id: format!("{id}-revoked"),
                        at,
                        zone: "UTC".into(),
                        source: "server".into(),
                        kind: "approval.preauth_revoked".into(),
                        text: firewarden_model::printable(&text, 2000),
                    };
                    insert_timeline(tx, &case.id, &who, &[event]).await?;
                    record.revoked = Some(Revocation {
                        at,
                        by: who,
                        reason,
                    });
                    Ok((record, text))
                })
            },
        )
        .await
    }
}
