//! SLA clocks on stored cases: the contract's targets live on the tenant, check-ins on the case,
//! and each alert (a clock's warning, its breach) is a row that exists once: the server whose
//! insert wins sends it, so two servers on one database never both call the webhook. Clocks
//! are computed from stored times whenever asked, so they survive restarts by construction.

use super::*;
use casework::{Event, gate_facts, insert_timeline, short_hash, ts, valid_text};
use firewarden_case::sla::{self, AlertLevel, Clock, ClockKind};

/// How long a server owns an alert it is delivering before another may try again.
const LEASE_SECONDS: i64 = 120;
/// Deliveries tried per alert before it is left for people (the case page shows it).
const MAX_ATTEMPTS: i64 = 5;
/// Alerts are raised for cases declared within this many days (the longest target is 30).
const SWEEP_DAYS: i64 = 31;

/// A recorded check-in: a responder acknowledged, started remotely, or arrived on site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkin {
    /// The clock it stops.
    pub clock: ClockKind,
    /// When, UTC.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// Where, as the responder said (site, address); may be empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub place: String,
}

/// An alert the server raised, and whether its webhook call got through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Which clock.
    pub clock: ClockKind,
    /// Warning or breach.
    pub level: AlertLevel,
    /// The clock's target time.
    pub due: Timestamp,
    /// When the server raised it.
    pub raised: Timestamp,
    /// When the webhook answered 2xx.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered: Option<Timestamp>,
    /// Webhook calls tried.
    pub attempts: i64,
    /// Why the last call failed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_error: String,
}

/// A case's SLA: the targets, each clock at the time asked, what stopped them, what was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSla {
    /// The contract's targets; `None`: it promises none.
    pub targets: Option<firewarden_case::sla::SlaTargets>,
    /// Each promised clock.
    pub clocks: Vec<Clock>,
    /// Check-ins, oldest first.
    pub checkins: Vec<Checkin>,
    /// Alerts raised.
    pub alerts: Vec<AlertRecord>,
    /// When the first breach was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breached: Option<Timestamp>,
}

/// An alert this server claimed and must now deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueAlert {
    /// The case.
    pub case_id: String,
    /// Its tenant.
    pub tenant: String,
    /// The case's title.
    pub title: String,
    /// Where to post it.
    pub webhook: String,
    /// The clock, as it stood when the alert was raised.
    pub clock: Clock,
    /// Warning or breach.
    pub level: AlertLevel,
    /// Webhook calls tried before this one.
    pub attempts: i64,
}

/// Checks a webhook address: `http(s)://…`, printable, or empty to clear it.
pub fn valid_webhook(url: &str) -> Result<String> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(String::new());
    }
    let ok_scheme = url.starts_with("https://") || url.starts_with("http://");
    if !ok_scheme || url.len() > 2000 || url.chars().any(|c| c.is_control() || c == ' ') {
        return Err(StoreError::Invalid(
            "the webhook must be an http:// or https:// address of at most 2000 printable characters".into(),
        ));
    }
    Ok(url.to_owned())
}

/// A tenant's stored `sla` column: `None` when the contract promises nothing.
fn parse_targets(text: &str) -> Result<Option<sla::SlaTargets>> {
    match text {
        "" => Ok(None),
        json => serde_json::from_str(json)
            .map(Some)
            .map_err(|e| StoreError::Invalid(format!("stored SLA targets: {e}"))),
    }
}

pub(crate) async fn targets_of(conn: &mut Conn, tenant: &str) -> Result<Option<sla::SlaTargets>> {
    let row = sqlx::query("SELECT sla FROM tenants WHERE id = $1")
        .bind(tenant.to_owned())
        .fetch_one(&mut *conn)
        .await?;
    parse_targets(&row.try_get::<String, _>("sla")?)
}

/// The row's `clock` column.
fn clock_of(r: &AnyRow) -> Result<ClockKind> {
    let clock = r.try_get::<String, _>("clock")?;
    ClockKind::parse(&clock).ok_or_else(|| StoreError::Invalid(format!("stored clock {clock}")))
}

pub(crate) async fn checkins_of(conn: &mut Conn, case_id: &str) -> Result<Vec<Checkin>> {
    let rows = sqlx::query(
        "SELECT clock, at, by_user, place FROM checkins WHERE case_id = $1 ORDER BY at, id",
    )
    .bind(case_id.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Checkin {
                clock: clock_of(r)?,
                at: ts(r, "at")?,
                by: r.try_get("by_user")?,
                place: r.try_get("place")?,
            })
        })
        .collect()
}

async fn alerts_of(conn: &mut Conn, case_id: &str) -> Result<Vec<AlertRecord>> {
    let rows = sqlx::query("SELECT * FROM sla_alerts WHERE case_id = $1 ORDER BY raised, clock")
        .bind(case_id.to_owned())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let level = r.try_get::<String, _>("level")?;
            Ok(AlertRecord {
                clock: clock_of(r)?,
                level: parse_enum(&level)?,
                due: ts(r, "due")?,
                raised: ts(r, "raised")?,
                delivered: r
                    .try_get::<Option<String>, _>("delivered")?
                    .and_then(|t| Timestamp::parse(&t)),
                attempts: r.try_get("attempts")?,
                last_error: r.try_get("last_error")?,
            })
        })
        .collect()
}

/// The clocks of `case` at `now` under `targets`.
pub(crate) async fn clocks_of(
    conn: &mut Conn,
    case: &Case,
    targets: &sla::SlaTargets,
    checkins: &[Checkin],
    now: Timestamp,
) -> Result<Vec<Clock>> {
    let gates = gate_facts(conn, case).await?;
    let stops: Vec<(ClockKind, Timestamp)> = checkins.iter().map(|c| (c.clock, c.at)).collect();
    let facts = sla::clock_facts(case.created, &gates, &stops);
    Ok(sla::clocks(targets, &facts, now))
}

fn alert_text(clock: &Clock, level: AlertLevel) -> String {
    match level {
        AlertLevel::Warning => format!(
            "SLA warning: {} due at {} ({} min target)",
            clock.kind.label(),
            clock.due,
            clock.target_minutes
        ),
        AlertLevel::Breach => format!(
            "SLA breached: {} was due at {} ({} min target)",
            clock.kind.label(),
            clock.due,
            clock.target_minutes
        ),
    }
}

impl Store {
    /// A case's SLA clocks at `now` (any role that sees the case).
    pub async fn sla(&self, actor: &Actor, case_id: &str, now: Timestamp) -> Result<CaseSla> {
        self.on_case(
            actor,
            case_id,
            Operation::ReadCase,
            "case.sla",
            move |conn, case| {
                Box::pin(async move {
                    let targets = targets_of(conn, &case.tenant).await?;
                    let checkins = checkins_of(conn, &case.id).await?;
                    let clocks = match &targets {
                        Some(t) => clocks_of(conn, &case, t, &checkins, now).await?,
                        None => Vec::new(),
                    };
                    let alerts = alerts_of(conn, &case.id).await?;
                    let detail = format!("{} clock(s)", clocks.len());
                    Ok((
                        CaseSla {
                            targets,
                            clocks,
                            checkins,
                            alerts,
                            breached: case.sla_breached,
                        },
                        detail,
                    ))
                })
            },
        )
        .await
    }

    /// The clocks of cases the actor just listed (the console's case list), in one connection:
    /// open cases only (a closed case's clocks are history, on its own page). The listing
    /// itself was audited; cases the actor may not read are skipped.
    pub async fn sla_board(
        &self,
        actor: &Actor,
        cases: &[Case],
        now: Timestamp,
    ) -> Result<Vec<(String, Vec<Clock>)>> {
        let mut conn = self.pool.acquire().await?;
        let mut targets: std::collections::HashMap<String, Option<sla::SlaTargets>> =
            Default::default();
        let mut out = Vec::new();
        for case in cases {
            if case.status != CaseStatus::Open
                || authorize(actor, Operation::ReadCase, Some(&case.tenant)) != Decision::Allow
            {
                continue;
            }
            if !targets.contains_key(&case.tenant) {
                let t = targets_of(&mut conn, &case.tenant).await?;
                targets.insert(case.tenant.clone(), t);
            }
            let Some(Some(t)) = targets.get(&case.tenant) else {
                continue;
            };
            let checkins = checkins_of(&mut conn, &case.id).await?;
            let clocks = clocks_of(&mut conn, case, t, &checkins, now).await?;
            out.push((case.id.clone(), clocks));
        }
        Ok(out)
    }

    /// Records that the actor acknowledged the case, started analysing remotely, or arrived on
    /// site (`place`: where). Containment is stopped by a signed journal's first containment
    /// action, never by a word.
    pub async fn checkin(
        &self,
        actor: &Actor,
        case_id: &str,
        clock: ClockKind,
        place: &str,
    ) -> Result<Checkin> {
        if clock == ClockKind::Containment {
            return Err(StoreError::Invalid(
                "containment is met by the first containment action of a signed journal (case push), not by a check-in".into(),
            ));
        }
        let place = if place.trim().is_empty() {
            String::new()
        } else {
            valid_text(place, "the place", 500)?.replace(['\n', '\t'], " ")
        };
        let by = actor.user.clone();
        self.on_case(actor, case_id, Operation::EditCase, "case.checkin", move |tx, case| {
            let (place, by) = (place.clone(), by.clone());
            Box::pin(async move {
                let checkin = Checkin {
                    clock,
                    at: now(),
                    by,
                    place,
                };
                let id = random_id("K")?;
                sqlx::query(
                    "INSERT INTO checkins (case_id, id, clock, at, by_user, place) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(case.id.clone())
                .bind(id.clone())
                .bind(clock.as_str().to_owned())
                .bind(checkin.at.to_string())
                .bind(checkin.by.clone())
                .bind(checkin.place.clone())
                .execute(&mut *tx)
                .await?;
                let what = match clock {
                    ClockKind::Acknowledge => "acknowledged the case".to_owned(),
                    ClockKind::RemoteStart => "started remote analysis".to_owned(),
                    _ if checkin.place.is_empty() => "arrived on site".to_owned(),
                    _ => format!("arrived on site: {}", checkin.place),
                };
                let text = format!("{} {what}", checkin.by);
                let event = Event {
                    id: id.clone(),
                    at: checkin.at,
                    zone: "UTC".into(),
                    source: "server".into(),
                    kind: format!("sla.{}", clock.as_str()),
                    text: text.clone(),
                };
                insert_timeline(tx, &case.id, &checkin.by, &[event]).await?;
                Ok((checkin, text))
            })
        })
        .await
    }

    /// The server's own round: raises the alerts the open cases' clocks call for at `now`
    /// (each once, ever: on the timeline, in the audit log, a breach marks the case) and
    /// returns those this server must deliver, with earlier undelivered ones whose lease ran
    /// out. Several servers may sweep at once; each alert goes to exactly one.
    pub async fn sla_sweep(&self, now: Timestamp) -> Result<Vec<DueAlert>> {
        let since = Timestamp(now.0 - SWEEP_DAYS * 86_400).to_string();
        let rows = sqlx::query(
            "SELECT c.id, c.created, t.sla, t.webhook FROM cases c JOIN tenants t ON t.id = c.tenant_id \
             WHERE c.status = 'open' AND c.created >= $1 AND t.sla <> '' ORDER BY c.created, c.id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let Some(targets) = parse_targets(&row.try_get::<String, _>("sla")?)? else {
                continue;
            };
            // Cheap first, from the declaration time alone: as if nothing had stopped a clock,
            // would any alert be due? Only then is anything else of the case read.
            let unstopped = sla::ClockFacts {
                declared: ts(row, "created")?,
                ..Default::default()
            };
            let would_be_due = sla::alerts_due(&sla::clocks(&targets, &unstopped, now));
            if would_be_due.is_empty() {
                continue;
            }
            let id: String = row.try_get("id")?;
            let mut conn = self.pool.acquire().await?;
            let claimed: Vec<(String, String)> =
                sqlx::query("SELECT clock, level FROM sla_alerts WHERE case_id = $1")
                    .bind(id.clone())
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("clock")?, r.try_get("level")?)))
                    .collect::<Result<_>>()?;
            let is_new = |kind: ClockKind, level: AlertLevel| {
                !claimed
                    .iter()
                    .any(|(c, l)| c == kind.as_str() && l == level.as_str())
            };
            if !would_be_due.iter().any(|&(k, l)| is_new(k, l)) {
                continue;
            }
            let case = fetch_case(&mut *conn, &id).await?;
            let checkins = checkins_of(&mut conn, &id).await?;
            let clocks = clocks_of(&mut conn, &case, &targets, &checkins, now).await?;
            drop(conn);
            let webhook: String = row.try_get("webhook")?;
            for (kind, level) in sla::alerts_due(&clocks) {
                let Some(clock) = clocks.iter().find(|c| c.kind == kind) else {
                    continue;
                };
                if is_new(kind, level)
                    && let Some(alert) = self
                        .raise(&case, clock.clone(), level, &webhook, now)
                        .await?
                {
                    out.push(alert);
                }
            }
        }
        out.extend(self.redeliveries(now).await?);
        Ok(out)
    }

    /// Inserts the alert row; `None` when another server raised it first.
    async fn raise(
        &self,
        case: &Case,
        clock: Clock,
        level: AlertLevel,
        webhook: &str,
        now: Timestamp,
    ) -> Result<Option<DueAlert>> {
        let (case, webhook) = (case.clone(), webhook.to_owned());
        self.with_audit(move |tx| {
            let (case, clock, webhook) = (case.clone(), clock.clone(), webhook.clone());
            Box::pin(async move {
                let inserted = sqlx::query(
                    "INSERT INTO sla_alerts (case_id, clock, level, due, raised, lease_until, delivered, attempts, last_error) \
                     VALUES ($1, $2, $3, $4, $5, $6, NULL, 0, '') ON CONFLICT (case_id, clock, level) DO NOTHING",
                )
                .bind(case.id.clone())
                .bind(clock.kind.as_str().to_owned())
                .bind(level.as_str().to_owned())
                .bind(clock.due.to_string())
                .bind(now.to_string())
                .bind(Timestamp(now.0 + LEASE_SECONDS).to_string())
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    return Ok(None);
                }
                if level == AlertLevel::Breach {
                    sqlx::query(
                        "UPDATE cases SET sla_breached = $1 WHERE id = $2 AND sla_breached IS NULL",
                    )
                    .bind(now.to_string())
                    .bind(case.id.clone())
                    .execute(&mut **tx)
                    .await?;
                }
                let text = alert_text(&clock, level);
                let event = Event {
                    id: short_hash(&[&case.id, "sla", clock.kind.as_str(), level.as_str()]),
                    at: now,
                    zone: "UTC".into(),
                    source: "server".into(),
                    kind: format!("sla.{}", level.as_str()),
                    text: text.clone(),
                };
                insert_timeline(tx, &case.id, "server", &[event]).await?;
                Store::audit(
                    tx,
                    record("server", "case.sla_alert", &case.id, Some(&case.tenant), &text),
                )
                .await?;
                Ok(Some(DueAlert {
                    case_id: case.id.clone(),
                    tenant: case.tenant.clone(),
                    title: case.title.clone(),
                    webhook,
                    clock,
                    level,
                    attempts: 0,
                }))
            })
        })
        .await
    }

    /// Undelivered alerts whose last owner's lease ran out: this server takes them over.
    async fn redeliveries(&self, now: Timestamp) -> Result<Vec<DueAlert>> {
        let rows = sqlx::query(
            "SELECT a.case_id, a.clock, a.level, a.attempts, t.sla, t.webhook FROM sla_alerts a \
             JOIN cases c ON c.id = a.case_id JOIN tenants t ON t.id = c.tenant_id \
             WHERE a.delivered IS NULL AND a.attempts < $1 AND a.lease_until < $2 AND t.webhook <> ''",
        )
        .bind(MAX_ATTEMPTS)
        .bind(now.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let (case_id, clock, level, attempts): (String, String, String, i64) = (
                r.try_get("case_id")?,
                r.try_get("clock")?,
                r.try_get("level")?,
                r.try_get("attempts")?,
            );
            // Take the lease; whoever updates the row first owns this attempt.
            let taken = sqlx::query(
                "UPDATE sla_alerts SET lease_until = $1 WHERE case_id = $2 AND clock = $3 AND level = $4 AND delivered IS NULL AND lease_until < $5",
            )
            .bind(Timestamp(now.0 + LEASE_SECONDS).to_string())
            .bind(case_id.clone())
            .bind(clock.clone())
            .bind(level.clone())
            .bind(now.to_string())
            .execute(&self.pool)
            .await?
            .rows_affected();
            if taken == 0 {
                continue;
            }
            // Targets removed since: nothing to say the clock stood at.
            let Some(targets) = parse_targets(&r.try_get::<String, _>("sla")?)? else {
                continue;
            };
            let mut conn = self.pool.acquire().await?;
            let case = fetch_case(&mut *conn, &case_id).await?;
            let checkins = checkins_of(&mut conn, &case_id).await?;
            let clocks = clocks_of(&mut conn, &case, &targets, &checkins, now).await?;
            let webhook: String = r.try_get("webhook")?;
            let kind = ClockKind::parse(&clock);
            if let Some(clock) = clocks.into_iter().find(|c| Some(c.kind) == kind) {
                out.push(DueAlert {
                    case_id: case.id,
                    tenant: case.tenant,
                    title: case.title,
                    webhook,
                    clock,
                    level: parse_enum(&level)?,
                    attempts,
                });
            }
        }
        Ok(out)
    }

    /// Records how a webhook call for `alert` went (`Ok`: answered 2xx); audited.
    pub async fn sla_delivered(
        &self,
        alert: &DueAlert,
        outcome: std::result::Result<u16, String>,
    ) -> Result<()> {
        let at = now();
        let (delivered, error) = match &outcome {
            Ok(_) => (Some(at.to_string()), String::new()),
            Err(e) => (None, firewarden_model::printable(e, 500)),
        };
        let alert = alert.clone();
        self.with_audit(move |tx| {
            let (alert, delivered, error) = (alert.clone(), delivered.clone(), error.clone());
            Box::pin(async move {
                sqlx::query(
                    "UPDATE sla_alerts SET attempts = attempts + 1, delivered = $1, last_error = $2 \
                     WHERE case_id = $3 AND clock = $4 AND level = $5",
                )
                .bind(delivered.clone())
                .bind(error.clone())
                .bind(alert.case_id.clone())
                .bind(alert.clock.kind.as_str().to_owned())
                .bind(alert.level.as_str().to_owned())
                .execute(&mut **tx)
                .await?;
                let detail = match &delivered {
                    Some(_) => format!(
                        "{} {} posted to the webhook",
                        alert.clock.kind.as_str(),
                        alert.level.as_str()
                    ),
                    None => format!(
                        "{} {} not delivered: {error}",
                        alert.clock.kind.as_str(),
                        alert.level.as_str()
                    ),
                };
                Store::audit(
                    tx,
                    record(
                        "server",
                        "case.sla_webhook",
                        &alert.case_id,
                        Some(&alert.tenant),
                        &detail,
                    ),
                )
                .await?;
                Ok(())
            })
        })
        .await
    }
}
