//! Business-loss evaluation kept with a case: services, recorded downtime, loss ranges per
//! VERIS variety, the overall rating; and the view that joins them with the downtime the case
//! itself shows.

use super::*;
use firewarden_case::loss::{self, Downtime, Loss, Rating, Service};

/// A case's loss evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossView {
    /// Business services and their assets.
    pub services: Vec<Service>,
    /// Downtime: from the case (containment to recovery) and as recorded.
    pub downtime: Vec<Downtime>,
    /// Loss ranges recorded, by variety.
    pub losses: Vec<Loss>,
    /// What the downtime costs the services, per currency (business disruption), as of `as_of`.
    pub disruption_estimate: Vec<(String, u64)>,
    /// Totals of the recorded ranges per currency: (currency, min, likely, max).
    pub totals: Vec<(String, u64, u64, u64)>,
    /// The overall rating, when given.
    pub overall_rating: Option<Rating>,
    /// The time open downtime runs to in the estimate.
    pub as_of: Timestamp,
}

pub(crate) async fn loss_view(conn: &mut Conn, case: &Case, as_of: Timestamp) -> Result<LossView> {
    let services = sqlx::query("SELECT * FROM services WHERE case_id = $1 ORDER BY name")
        .bind(case.id.clone())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Service {
                name: r.try_get("name")?,
                criticality: parse_enum(&r.try_get::<String, _>("criticality")?)?,
                cost_per_hour: r.try_get::<i64, _>("cost_per_hour")? as u64,
                currency: r.try_get("currency")?,
                assets: serde_json::from_str(&r.try_get::<String, _>("assets")?)
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let actions = sqlx::query("SELECT asset, kind, state, begun FROM actions WHERE case_id = $1")
        .bind(case.id.clone())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .filter_map(|r| {
            let begun: String = r.try_get("begun").ok()?;
            Some((
                r.try_get("asset").ok()?,
                r.try_get("kind").ok()?,
                r.try_get("state").ok()?,
                Timestamp::parse(&begun)?,
            ))
        })
        .collect::<Vec<(String, String, String, Timestamp)>>();
    let mut downtime = loss::case_downtime(&actions);
    for r in sqlx::query("SELECT * FROM downtime WHERE case_id = $1 ORDER BY started, asset")
        .bind(case.id.clone())
        .fetch_all(&mut *conn)
        .await?
    {
        downtime.push(Downtime {
            asset: r.try_get("asset")?,
            from: ts(&r, "started")?,
            until: r
                .try_get::<Option<String>, _>("ended")?
                .and_then(|t| Timestamp::parse(&t)),
            source: r.try_get("by_user")?,
            note: r.try_get("note")?,
        });
    }
    let losses = sqlx::query("SELECT * FROM losses WHERE case_id = $1 ORDER BY variety")
        .bind(case.id.clone())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Loss {
                variety: parse_enum(&r.try_get::<String, _>("variety")?)?,
                min: r.try_get::<i64, _>("min_amount")? as u64,
                likely: r.try_get::<i64, _>("likely_amount")? as u64,
                max: r.try_get::<i64, _>("max_amount")? as u64,
                currency: r.try_get("currency")?,
                note: r.try_get("note")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut totals: Vec<(String, u64, u64, u64)> = Vec::new();
    for l in &losses {
        match totals.iter_mut().find(|t| t.0 == l.currency) {
            Some(t) => {
                t.1 += l.min;
                t.2 += l.likely;
                t.3 += l.max;
            }
            None => totals.push((l.currency.clone(), l.min, l.likely, l.max)),
        }
    }
    totals.sort();
    let rating = sqlx::query("SELECT overall_rating FROM cases WHERE id = $1")
        .bind(case.id.clone())
        .fetch_one(&mut *conn)
        .await?
        .try_get::<String, _>("overall_rating")?;
    Ok(LossView {
        disruption_estimate: loss::disruption(&services, &downtime, as_of),
        services,
        downtime,
        losses,
        totals,
        overall_rating: match rating.as_str() {
            "" => None,
            r => Some(parse_enum(r)?),
        },
        as_of,
    })
}

impl Store {
    /// The case's loss evaluation, open downtime counted to now.
    pub async fn loss(&self, actor: &Actor, case_id: &str) -> Result<LossView> {
        self.on_case(
            actor,
            case_id,
            Operation::ReadCase,
            "case.loss",
            move |conn, case| {
                Box::pin(async move { Ok((loss_view(conn, &case, now()).await?, String::new())) })
            },
        )
        .await
    }

    /// Records (or replaces) a business service of the case.
    pub async fn set_service(
        &self,
        actor: &Actor,
        case_id: &str,
        service: Service,
    ) -> Result<Service> {
        let name = valid_text(&service.name, "the service's name", 200)?;
        let currency = loss::valid_currency(&service.currency)
            .ok_or_else(|| StoreError::Invalid("currency: an ISO 4217 code".into()))?;
        let assets = service
            .assets
            .iter()
            .map(|a| valid_asset(a))
            .collect::<Result<Vec<_>>>()?;
        let service = Arc::new(Service {
            name,
            currency,
            assets,
            ..service
        });
        self.on_case(actor, case_id, Operation::EditCase, "case.service", move |tx, case| {
            let s = Arc::clone(&service);
            Box::pin(async move {
                sqlx::query("DELETE FROM services WHERE case_id = $1 AND name = $2")
                    .bind(case.id.clone())
                    .bind(s.name.clone())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO services (case_id, name, criticality, cost_per_hour, currency, assets) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(case.id.clone())
                    .bind(s.name.clone())
                    .bind(enum_text(&s.criticality))
                    .bind(s.cost_per_hour.min(i64::MAX as u64) as i64)
                    .bind(s.currency.clone())
                    .bind(serde_json::to_string(&s.assets).unwrap_or_default())
                    .execute(&mut *tx)
                    .await?;
                Ok(((*s).clone(), format!("service {}", s.name)))
            })
        })
        .await
    }

    /// Records a stretch of downtime of an asset.
    pub async fn record_downtime(
        &self,
        actor: &Actor,
        case_id: &str,
        asset: &str,
        from: Timestamp,
        until: Option<Timestamp>,
        note: &str,
    ) -> Result<Downtime> {
        let asset = valid_asset(asset)?;
        if until.is_some_and(|u| u < from) {
            return Err(StoreError::Invalid("downtime ends after it starts".into()));
        }
        let note = note.trim().chars().take(2000).collect::<String>();
        let who = actor.user.clone();
        self.on_case(actor, case_id, Operation::EditCase, "case.downtime", move |tx, case| {
            let (asset, note, who) = (asset.clone(), note.clone(), who.clone());
            Box::pin(async move {
                sqlx::query("INSERT INTO downtime (case_id, asset, started, ended, note, by_user) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(case.id.clone())
                    .bind(asset.clone())
                    .bind(from.to_string())
                    .bind(until.map(|u| u.to_string()))
                    .bind(note.clone())
                    .bind(who.clone())
                    .execute(&mut *tx)
                    .await?;
                Ok((
                    Downtime { asset: asset.clone(), from, until, source: who, note },
                    format!("downtime of {asset}"),
                ))
            })
        })
        .await
    }

    /// Records (or replaces) the loss range of one variety.
    pub async fn set_loss(&self, actor: &Actor, case_id: &str, mut loss: Loss) -> Result<Loss> {
        loss.validate().map_err(StoreError::Invalid)?;
        loss.note = loss.note.trim().chars().take(4000).collect();
        let (who, loss) = (actor.user.clone(), Arc::new(loss));
        self.on_case(actor, case_id, Operation::EditCase, "case.loss_set", move |tx, case| {
            let (who, l) = (who.clone(), Arc::clone(&loss));
            Box::pin(async move {
                sqlx::query("DELETE FROM losses WHERE case_id = $1 AND variety = $2")
                    .bind(case.id.clone())
                    .bind(enum_text(&l.variety))
                    .execute(&mut *tx)
                    .await?;
                let n = |v: u64| v.min(i64::MAX as u64) as i64;
                sqlx::query("INSERT INTO losses (case_id, variety, min_amount, likely_amount, max_amount, currency, note, by_user) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(case.id.clone())
                    .bind(enum_text(&l.variety))
                    .bind(n(l.min))
                    .bind(n(l.likely))
                    .bind(n(l.max))
                    .bind(l.currency.clone())
                    .bind(l.note.clone())
                    .bind(who.clone())
                    .execute(&mut *tx)
                    .await?;
                let detail = format!("{}: {}–{}–{} {}", l.variety.veris(), l.min, l.likely, l.max, l.currency);
                Ok(((*l).clone(), detail))
            })
        })
        .await
    }

    /// Sets the overall rating.
    pub async fn set_rating(&self, actor: &Actor, case_id: &str, rating: Rating) -> Result<Rating> {
        self.on_case(
            actor,
            case_id,
            Operation::EditCase,
            "case.loss_rating",
            move |tx, case| {
                Box::pin(async move {
                    sqlx::query("UPDATE cases SET overall_rating = $1 WHERE id = $2")
                        .bind(enum_text(&rating))
                        .bind(case.id.clone())
                        .execute(&mut *tx)
                        .await?;
                    Ok((rating, rating.veris().to_owned()))
                })
            },
        )
        .await
    }
}
