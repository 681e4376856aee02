//! What the summary report is made of, gathered from the case in one read, and the reports
//! generated, each kept as delivered.

use super::*;
use crate::casework::{transitions, ts};
use firewarden_summary::model::*;

/// Audit actions the report does not count: reads of the case, and the keeping of reports
/// themselves. It counts changes, so that the same case gives the same report however often it
/// is read or reported.
const NOT_COUNTED: &[&str] = &[
    "case.report_kept",
    "case.read",
    "case.findings",
    "case.timeline",
    "case.iocs",
    "case.imports",
    "case.evidence",
    "case.actions",
    "case.approvals",
    "case.approval",
    "case.assets",
    "case.notes",
    "case.tasks",
    "case.sla",
    "case.stage",
    "case.preauthorisations",
    "case.report_facts",
    "case.reports",
    "case.report",
    "evidence.custody",
];

/// A report as kept (without its body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRecord {
    /// Id.
    pub id: String,
    /// When it was made.
    pub at: Timestamp,
    /// Who made it.
    pub by: String,
    /// `html`, `md`, `json`, `pdf`.
    pub format: String,
    /// `en`, `zh`.
    pub lang: String,
    /// The case's version it was made from.
    pub case_version: i64,
    /// SHA-256 of the file as delivered.
    pub sha256: String,
}

/// A generated report to keep.
#[derive(Debug, Clone)]
pub struct NewReport {
    /// `html`, `md`, `json`, `pdf`.
    pub format: String,
    /// `en`, `zh`.
    pub lang: String,
    /// The case's version it was made from.
    pub case_version: i64,
    /// The signed file (base64 for a PDF).
    pub body: String,
    /// Its SHA-256 (of the bytes delivered).
    pub sha256: String,
}

fn report_from(r: &AnyRow) -> Result<ReportRecord> {
    Ok(ReportRecord {
        id: r.try_get("id")?,
        at: ts(r, "at")?,
        by: r.try_get("by_user")?,
        format: r.try_get("format")?,
        lang: r.try_get("lang")?,
        case_version: r.try_get("case_version")?,
        sha256: r.try_get("sha256")?,
    })
}

fn findings_of(rows: &[AnyRow]) -> Result<Vec<FindingRow>> {
    let mut out = Vec::new();
    for r in rows {
        let asset: String = r.try_get("asset")?;
        let f: firewarden_model::Finding =
            serde_json::from_str(&r.try_get::<String, _>("body")?)
                .map_err(|e| StoreError::Invalid(format!("stored finding: {e}")))?;
        out.push(FindingRow {
            asset,
            id: f.id.clone(),
            check: f.check.clone(),
            severity: f.severity.as_str().to_owned(),
            title: f.title.clone(),
            attack: f.attack.clone(),
            explanation: f.explanation.clone(),
            recommendation: f.recommendation.clone(),
            evidence: f
                .evidence
                .iter()
                .take(3)
                .filter_map(|e| e.path.clone())
                .collect(),
        });
    }
    // Most severe first, then by asset and id: a stable order.
    out.sort_by(|a, b| {
        sev_rank(&a.severity)
            .cmp(&sev_rank(&b.severity))
            .then(a.asset.cmp(&b.asset))
            .then(a.id.cmp(&b.id))
    });
    Ok(out)
}

fn sev_rank(s: &str) -> u8 {
    match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    }
}

/// The approval line of an action, from the statement it was applied under and the request's
/// state now (ratified or disputed after a break-glass).
fn approval_line(statement: &serde_json::Value, state: Option<String>) -> ApprovalLine {
    let s = |k: &str| statement.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    ApprovalLine {
        state: state.unwrap_or_else(|| {
            if statement.get("granted_by").is_some() {
                "pre-authorised".into()
            } else {
                "approved".into()
            }
        }),
        by: s("approved_by").or_else(|| s("granted_by")),
        at: s("approved_at")
            .or_else(|| s("granted_at"))
            .and_then(|t| Timestamp::parse(&t)),
        requirement: s("requirement").unwrap_or_else(|| "pre-authorisation".into()),
        break_glass: s("break_glass"),
    }
}

impl Store {
    /// Everything the summary report says, read from the case at once (any role that sees the
    /// case; audited).
    pub async fn report_facts(&self, actor: &Actor, case_id: &str) -> Result<ReportFacts> {
        self.on_case(
            actor,
            case_id,
            Operation::ReadCase,
            "case.report_facts",
            move |conn, case| {
                Box::pin(async move { Ok((gather(conn, &case).await?, String::new())) })
            },
        )
        .await
    }

    /// Keeps a generated report (who may change the case).
    pub async fn keep_report(
        &self,
        actor: &Actor,
        case_id: &str,
        report: NewReport,
    ) -> Result<ReportRecord> {
        let (who, report) = (actor.user.clone(), Arc::new(report));
        self.on_case(actor, case_id, Operation::EditCase, "case.report_kept", move |tx, case| {
            let (who, report) = (who.clone(), Arc::clone(&report));
            Box::pin(async move {
                let id = random_id("R")?;
                sqlx::query("INSERT INTO reports (id, case_id, at, by_user, format, lang, case_version, sha256, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(id.clone())
                    .bind(case.id.clone())
                    .bind(now().to_string())
                    .bind(who.clone())
                    .bind(report.format.clone())
                    .bind(report.lang.clone())
                    .bind(report.case_version)
                    .bind(report.sha256.clone())
                    .bind(report.body.clone())
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query("SELECT * FROM reports WHERE id = $1")
                    .bind(id.clone())
                    .fetch_one(&mut *tx)
                    .await?;
                let kept = report_from(&row)?;
                let detail = format!("report {id} ({} {}, sha256 {})", kept.format, kept.lang, kept.sha256);
                Ok((kept, detail))
            })
        })
        .await
    }

    /// The reports kept for a case, oldest first.
    pub async fn reports(&self, actor: &Actor, case_id: &str) -> Result<Vec<ReportRecord>> {
        self.case_rows(
            actor,
            case_id,
            "case.reports",
            "SELECT id, at, by_user, format, lang, case_version, sha256 FROM reports WHERE case_id = $1 ORDER BY at, id",
            report_from,
        )
        .await
    }

    /// One kept report with its body.
    pub async fn report(
        &self,
        actor: &Actor,
        case_id: &str,
        report_id: &str,
    ) -> Result<(ReportRecord, String)> {
        let rid = report_id.to_owned();
        self.on_case(
            actor,
            case_id,
            Operation::ReadCase,
            "case.report",
            move |conn, case| {
                let rid = rid.clone();
                Box::pin(async move {
                    let row = sqlx::query("SELECT * FROM reports WHERE id = $1 AND case_id = $2")
                        .bind(rid.clone())
                        .bind(case.id.clone())
                        .fetch_optional(&mut *conn)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    Ok((
                        (report_from(&row)?, row.try_get("body")?),
                        format!("report {rid}"),
                    ))
                })
            },
        )
        .await
    }
}

async fn gather(conn: &mut Conn, case: &Case) -> Result<ReportFacts> {
    let id = case.id.clone();
    let all = |sql: &'static str| sqlx::query(sql).bind(id.clone());

    let case_row = sqlx::query("SELECT updated FROM cases WHERE id = $1")
        .bind(id.clone())
        .fetch_one(&mut *conn)
        .await?;
    let updated = ts(&case_row, "updated")?;
    let tenant_row = sqlx::query("SELECT * FROM tenants WHERE id = $1")
        .bind(case.tenant.clone())
        .fetch_one(&mut *conn)
        .await?;
    let tenant = crate::users::tenant_from(&tenant_row)?;
    let moves = transitions(conn, &id).await?;
    let closed = moves.iter().find(|m| m.to.is_none()).map(|m| m.at);

    // SLA clocks as of the case's last change: the same case, the same figures.
    let mut sla_lines = Vec::new();
    if let Some(targets) = crate::sla::targets_of(conn, &case.tenant).await? {
        let checkins = crate::sla::checkins_of(conn, &id).await?;
        for c in crate::sla::clocks_of(conn, case, &targets, &checkins, updated).await? {
            let state = enum_text(&c.state);
            sla_lines.push(SlaLine {
                clock: enum_text(&c.kind),
                target_minutes: c.target_minutes,
                achieved_seconds: c.achieved_seconds,
                state: if state == "warning" {
                    "running".into()
                } else {
                    state
                },
            });
        }
    }

    let waivers = all("SELECT * FROM waivers WHERE case_id = $1 ORDER BY at, criterion")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Waiver {
                criterion: r.try_get("criterion")?,
                reason: r.try_get("reason")?,
                by: r.try_get("by_user")?,
                at: ts(r, "at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let timeline = all("SELECT * FROM timeline WHERE case_id = $1 ORDER BY at, id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(TimelineRow {
                at: ts(r, "at")?,
                zone: r.try_get("zone")?,
                kind: r.try_get("kind")?,
                text: r.try_get("text")?,
                source: r.try_get("source")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let storylines: Vec<AssetStory> = latest_storylines(conn, &case.id)
        .await?
        .into_iter()
        .map(|(asset, s)| AssetStory {
            asset,
            verdict: s.verdict,
            entry_point: s.entry_point,
            attacker_ips: s.attacker_ips,
            accounts: s.accounts,
            persistence: s.persistence,
            first_activity: s.first_activity,
            last_activity: s.last_activity,
        })
        .collect();
    let assets = all("SELECT name, compromise FROM assets WHERE case_id = $1 ORDER BY name")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(AssetRow {
                name: r.try_get("name")?,
                compromise: r.try_get("compromise")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let findings = findings_of(
        &all("SELECT asset, body FROM findings WHERE case_id = $1")
            .fetch_all(&mut *conn)
            .await?,
    )?;
    let iocs = all("SELECT kind, value FROM iocs WHERE case_id = $1 ORDER BY kind, value")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(IocRow {
                kind: r.try_get("kind")?,
                value: r.try_get("value")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // Approval requests' states now (a break-glass is ratified or disputed later).
    let request_states: Vec<(String, String)> =
        all("SELECT id, state FROM approvals WHERE case_id = $1")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("state")?)))
            .collect::<Result<Vec<_>>>()?;
    let mut reviewers: Vec<String> = Vec::new();
    let actions = all("SELECT * FROM actions WHERE case_id = $1 ORDER BY begun, asset, action_id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(crate::casework::action_from)
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .map(|a| {
            let approval = a.approval.as_ref().map(|st| {
                let req = st.get("request").and_then(|v| v.as_str()).unwrap_or("");
                let state = request_states
                    .iter()
                    .find(|(rid, _)| rid == req)
                    .map(|(_, s)| s.clone());
                approval_line(st, state)
            });
            if let Some(by) = approval.as_ref().and_then(|p| p.by.clone()) {
                reviewers.push(by);
            }
            ActionRow {
                asset: a.asset,
                id: a.action_id,
                kind: a.kind,
                title: a.title,
                operator: a.operator,
                begun: a.begun,
                state: a.state,
                tool: a.tool,
                approval,
            }
        })
        .collect();
    let mut evidence = Vec::new();
    for r in all("SELECT * FROM evidence WHERE case_id = $1 ORDER BY received, id")
        .fetch_all(&mut *conn)
        .await?
    {
        let item = crate::casework::evidence_from(&r)?;
        let custody = crate::custody::ledger_lines(conn, &item.id).await?;
        evidence.push(EvidenceRow {
            id: item.id,
            asset: item.asset,
            sha256: item.sha256,
            size: item.size,
            acquired: item.acquired,
            custody,
        });
    }
    // Tools: every hash the imports named, as it stood when imported (the latest word).
    let mut tools: Vec<ToolRow> = Vec::new();
    for r in all("SELECT tools FROM imports WHERE case_id = $1 AND tools <> '' ORDER BY at, id")
        .fetch_all(&mut *conn)
        .await?
    {
        let uses: Vec<firewarden_case::tools::ToolUse> =
            serde_json::from_str(&r.try_get::<String, _>("tools")?).unwrap_or_default();
        for u in uses {
            let row = ToolRow {
                kind: enum_text(&u.kind),
                name: u.registered_as.clone().unwrap_or_else(|| u.what.clone()),
                sha256: u.sha256.clone(),
                standing: enum_text(&u.standing),
            };
            match tools
                .iter_mut()
                .find(|t| t.sha256 == row.sha256 && t.kind == row.kind)
            {
                Some(t) => *t = row,
                None => tools.push(row),
            }
        }
    }
    tools.sort_by(|a, b| (&a.kind, &a.name, &a.sha256).cmp(&(&b.kind, &b.name, &b.sha256)));
    let tasks = all("SELECT * FROM tasks WHERE case_id = $1 ORDER BY created, id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(TaskRow {
                title: r.try_get("title")?,
                done: r.try_get::<i64, _>("done")? != 0,
                by: r.try_get("by_user")?,
                owner: Some(r.try_get::<String, _>("owner")?).filter(|o| !o.is_empty()),
                due: Some(r.try_get::<String, _>("due")?).filter(|d| !d.is_empty()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let notes = all("SELECT * FROM notes WHERE case_id = $1 ORDER BY created, id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(NoteRow {
                author: r.try_get("author")?,
                created: ts(r, "created")?,
                body: r.try_get("body")?,
                lesson: r.try_get::<i64, _>("lesson")? != 0,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    // The audit trail: the case's changes, counted by action.
    let mut audit = AuditSummary::default();
    let mut authors: Vec<String> = Vec::new();
    for r in all("SELECT actor, action, at FROM audit WHERE target = $1 ORDER BY seq")
        .fetch_all(&mut *conn)
        .await?
    {
        let action: String = r.try_get("action")?;
        if NOT_COUNTED.contains(&action.as_str()) {
            continue;
        }
        let at = ts(&r, "at")?;
        audit.records += 1;
        audit.first = audit.first.or(Some(at));
        audit.last = Some(at);
        match audit.by_action.iter_mut().find(|(a, _)| *a == action) {
            Some((_, n)) => *n += 1,
            None => audit.by_action.push((action, 1)),
        }
        authors.push(r.try_get("actor")?);
    }
    audit.by_action.sort();
    // From where the chain was last found intact: a report on a busy server does not read
    // every record ever written (`firewarden server audit --verify` checks them all).
    audit.chain_intact = crate::verify_chain_since_checkpoint(conn).await?.is_ok();
    // Open downtime runs to the case's last change: the same case, the same figures.
    let lv = crate::loss::loss_view(conn, case, updated).await?;
    let loss = LossFacts {
        services: lv
            .services
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    enum_text(&s.criticality),
                    s.cost_per_hour,
                    s.currency.clone(),
                    s.assets.clone(),
                )
            })
            .collect(),
        downtime: lv
            .downtime
            .iter()
            .map(|d| (d.asset.clone(), d.from, d.until, d.source.clone()))
            .collect(),
        losses: lv
            .losses
            .iter()
            .map(|l| {
                (
                    l.variety.veris().to_owned(),
                    l.min,
                    l.likely,
                    l.max,
                    l.currency.clone(),
                    l.note.clone(),
                )
            })
            .collect(),
        disruption_estimate: lv.disruption_estimate.clone(),
        totals: lv.totals.clone(),
        overall_rating: lv.overall_rating.map(|r| r.veris().to_owned()),
    };
    reviewers.extend(moves.iter().map(|m| m.by.clone()));
    authors.sort();
    authors.dedup();
    reviewers.sort();
    reviewers.dedup();

    Ok(ReportFacts {
        v: FACTS_VERSION,
        case: CaseHeader {
            id: case.id.clone(),
            title: case.title.clone(),
            kind: enum_text(&case.kind),
            severity: case.severity.as_str().to_owned(),
            tlp: enum_text(&case.tlp),
            pap: enum_text(&case.pap),
            stage: enum_text(&case.stage),
            status: enum_text(&case.status),
            version: case.version,
            created: Some(case.created),
            closed,
            entry_point: case.entry_point.clone(),
            authority: case.authority.clone(),
        },
        tenant: TenantHeader {
            name: tenant.name,
            contract: tenant.contract,
            contacts: tenant.contacts,
        },
        authors,
        reviewers,
        sla: sla_lines,
        stages: moves
            .iter()
            .map(|m| StageMove {
                at: m.at,
                from: enum_text(&m.from),
                to: m.to.map(|t| enum_text(&t)),
                by: m.by.clone(),
                override_reason: m.override_reason.clone(),
                unmet: m.unmet.clone(),
            })
            .collect(),
        waivers,
        timeline,
        storylines,
        assets,
        findings,
        iocs,
        actions,
        evidence,
        tools,
        tasks,
        notes,
        audit,
        loss,
    })
}

/// Each asset's latest storyline, by asset name.
pub(crate) async fn latest_storylines(
    conn: &mut Conn,
    case_id: &str,
) -> Result<Vec<(String, firewarden_model::Storyline)>> {
    let rows = sqlx::query(
        "SELECT asset, storyline FROM imports WHERE case_id = $1 AND storyline <> '' ORDER BY at, id",
    )
    .bind(case_id.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<(String, firewarden_model::Storyline)> = Vec::new();
    for r in &rows {
        let asset: String = r.try_get("asset")?;
        let Ok(s) = serde_json::from_str(&r.try_get::<String, _>("storyline")?) else {
            continue;
        };
        match out.iter_mut().find(|(a, _)| *a == asset) {
            Some(x) => x.1 = s,
            None => out.push((asset, s)),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

impl Store {
    /// Each asset's latest storyline (how they got in, from where, what persists), by asset.
    pub async fn storylines(
        &self,
        actor: &Actor,
        case_id: &str,
    ) -> Result<Vec<(String, firewarden_model::Storyline)>> {
        self.on_case(
            actor,
            case_id,
            Operation::ReadCase,
            "case.storylines",
            |conn, case| {
                Box::pin(async move {
                    let s = latest_storylines(conn, &case.id).await?;
                    let n = s.len();
                    Ok((s, format!("{n} asset(s)")))
                })
            },
        )
        .await
    }
}
