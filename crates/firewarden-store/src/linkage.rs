//! IOC linkage: the cross-customer sightings index (keyed hashes only, TLP:RED never in it),
//! counts without disclosure, and the retro-hunt of a new indicator in the same customer's open
//! cases.

use super::*;
use firewarden_case::ioc::{self, Ioc, IocKind};

/// How far back sightings count.
pub const SIGHTINGS_DAYS: i64 = 30;

/// One indicator of a case and where else it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IocLinkage {
    /// The indicator.
    #[serde(flatten)]
    pub ioc: Ioc,
    /// Other incidents (any customer) that saw it in the last [`SIGHTINGS_DAYS`] days.
    pub other_incidents: u64,
    /// How many customers those incidents belong to (never which).
    pub other_customers: u64,
    /// When it was first seen in any of them.
    pub first_seen: Option<Timestamp>,
    /// This customer's other open cases holding it as an indicator (its own: shown by id).
    pub same_customer_cases: Vec<LinkedCase>,
}

/// A case of the same customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedCase {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Where the indicator was found: `iocs`, `findings` or `timeline`.
    pub found_in: String,
}

/// An indicator added to a case by hand, and what the retro-hunt found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedIoc {
    /// The normalised indicator.
    #[serde(flatten)]
    pub ioc: Ioc,
    /// Whether the case had it already.
    pub known: bool,
    /// The customer's other open cases whose imported data hold it.
    pub retro_hunt: Vec<LinkedCase>,
}

/// Puts the case's indicators in the index, or takes them out (TLP:RED).
pub(crate) async fn sync_case(tx: &mut Conn, secret: &[u8], case: &Case) -> Result<()> {
    if case.tlp == firewarden_case::model::Tlp::Red {
        sqlx::query("DELETE FROM sightings WHERE case_id = $1")
            .bind(case.id.clone())
            .execute(&mut *tx)
            .await?;
        return Ok(());
    }
    let iocs = sqlx::query("SELECT kind, value FROM iocs WHERE case_id = $1")
        .bind(case.id.clone())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(crate::casework::ioc_from)
        .collect::<Result<Vec<_>>>()?;
    record(tx, secret, case, &iocs).await
}

/// Adds sightings of `iocs` in `case` (not for a TLP:RED case).
pub(crate) async fn record(tx: &mut Conn, secret: &[u8], case: &Case, iocs: &[Ioc]) -> Result<()> {
    if case.tlp == firewarden_case::model::Tlp::Red {
        return Ok(());
    }
    // Inside every import: batched like the indicators themselves, not a statement each.
    let at = now().to_string();
    for chunk in iocs.chunks(crate::casework::batch(4)) {
        let sql = format!(
            "INSERT INTO sightings (key, case_id, tenant_id, seen) VALUES {} ON CONFLICT (key, case_id) DO NOTHING",
            crate::casework::values(tx, chunk.len(), 4)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in chunk {
            q = q
                .bind(ioc::sighting_key(secret, i))
                .bind(case.id.clone())
                .bind(case.tenant.clone())
                .bind(at.clone());
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// `text` as a LIKE pattern that matches it anywhere, its wildcards escaped.
fn contains_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The customer's other open cases holding `i`: as an extracted indicator (indexed), and with
/// `hunt`, anywhere in an imported finding or a timeline entry (a scan of the customer's open
/// cases: for a new indicator, not for every listing).
async fn same_customer(
    conn: &mut Conn,
    case: &Case,
    i: &Ioc,
    hunt: bool,
) -> Result<Vec<LinkedCase>> {
    let mut out: Vec<LinkedCase> = Vec::new();
    let pattern = contains_pattern(&i.value);
    for (found_in, sql) in [
        (
            "iocs",
            "SELECT DISTINCT c.id, c.title FROM iocs i JOIN cases c ON c.id = i.case_id WHERE i.kind = $1 AND i.value = $2 AND c.tenant_id = $3 AND c.id <> $4 AND c.status = 'open' ORDER BY c.id",
        ),
        (
            "findings",
            "SELECT DISTINCT c.id, c.title FROM findings f JOIN cases c ON c.id = f.case_id WHERE $1 = $1 AND f.body LIKE $2 ESCAPE '\\' AND c.tenant_id = $3 AND c.id <> $4 AND c.status = 'open' ORDER BY c.id",
        ),
        (
            "timeline",
            "SELECT DISTINCT c.id, c.title FROM timeline t JOIN cases c ON c.id = t.case_id WHERE $1 = $1 AND t.text LIKE $2 ESCAPE '\\' AND c.tenant_id = $3 AND c.id <> $4 AND c.status = 'open' ORDER BY c.id",
        ),
    ]
    .into_iter()
    .take(if hunt { 3 } else { 1 })
    {
        let second = if found_in == "iocs" {
            i.value.clone()
        } else {
            pattern.clone()
        };
        for r in sqlx::query(sql)
            .bind(enum_text(&i.kind))
            .bind(second)
            .bind(case.tenant.clone())
            .bind(case.id.clone())
            .fetch_all(&mut *conn)
            .await?
        {
            let id: String = r.try_get("id")?;
            if !out.iter().any(|c| c.id == id) {
                out.push(LinkedCase {
                    id,
                    title: r.try_get("title")?,
                    found_in: found_in.into(),
                });
            }
        }
    }
    Ok(out)
}

impl Store {
    /// A case's indicators, each with where else it was seen: counts of other incidents and
    /// customers (never which), and this customer's own open cases holding it.
    pub async fn ioc_linkage(&self, actor: &Actor, case_id: &str) -> Result<Vec<IocLinkage>> {
        let secret = self.linkage.clone();
        self.on_case(actor, case_id, Operation::ReadCase, "case.ioc_linkage", move |conn, case| {
            let secret = secret.clone();
            Box::pin(async move {
                let since = Timestamp(now().0 - SIGHTINGS_DAYS * 86_400).to_string();
                let iocs = sqlx::query("SELECT kind, value FROM iocs WHERE case_id = $1 ORDER BY kind, value")
                    .bind(case.id.clone())
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(crate::casework::ioc_from)
                    .collect::<Result<Vec<_>>>()?;
                let mut out = Vec::new();
                for i in iocs {
                    let (mut incidents, mut customers, mut first) = (0u64, 0u64, None);
                    if let Some(secret) = &secret {
                        let row = sqlx::query("SELECT COUNT(DISTINCT case_id) AS n, COUNT(DISTINCT tenant_id) AS t, MIN(seen) AS first FROM sightings WHERE key = $1 AND case_id <> $2 AND seen >= $3")
                            .bind(ioc::sighting_key(secret, &i))
                            .bind(case.id.clone())
                            .bind(since.clone())
                            .fetch_one(&mut *conn)
                            .await?;
                        incidents = row.try_get::<i64, _>("n")? as u64;
                        customers = row.try_get::<i64, _>("t")? as u64;
                        first = row
                            .try_get::<Option<String>, _>("first")?
                            .and_then(|t| Timestamp::parse(&t));
                    }
                    let same = same_customer(conn, &case, &i, false).await?;
                    out.push(IocLinkage {
                        ioc: i,
                        other_incidents: incidents,
                        other_customers: customers,
                        first_seen: first,
                        same_customer_cases: same,
                    });
                }
                let detail = format!("{} indicator(s)", out.len());
                Ok((out, detail))
            })
        })
        .await
    }

    /// Adds an indicator to a case by hand (normalised; into the sightings index unless the
    /// case is TLP:RED) and retro-hunts it in the customer's other open cases.
    pub async fn add_ioc(
        &self,
        actor: &Actor,
        case_id: &str,
        kind: IocKind,
        value: &str,
    ) -> Result<AddedIoc> {
        let i = ioc::normalize(kind, value).ok_or_else(|| {
            StoreError::Invalid(format!(
                "`{}` is not a valid {} indicator",
                firewarden_model::printable(value, 200),
                enum_text(&kind)
            ))
        })?;
        let secret = self.linkage.clone();
        self.on_case(actor, case_id, Operation::EditCase, "case.ioc_add", move |tx, case| {
            let (secret, i) = (secret.clone(), i.clone());
            Box::pin(async move {
                let added = sqlx::query("INSERT INTO iocs (case_id, tenant_id, kind, value, first_seen) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id, kind, value) DO NOTHING")
                    .bind(case.id.clone())
                    .bind(case.tenant.clone())
                    .bind(enum_text(&i.kind))
                    .bind(i.value.clone())
                    .bind(now().to_string())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if let Some(secret) = &secret {
                    record(tx, secret, &case, std::slice::from_ref(&i)).await?;
                }
                let retro_hunt = same_customer(tx, &case, &i, true).await?;
                let detail = format!("{} {} ({} other open case(s) hold it)", enum_text(&i.kind), i.value, retro_hunt.len());
                Ok((
                    AddedIoc {
                        ioc: i,
                        known: added == 0,
                        retro_hunt,
                    },
                    detail,
                ))
            })
        })
        .await
    }

    /// Adds indicators from a list (STIX or MISP, parsed by the caller); how many were new.
    pub async fn add_iocs(&self, actor: &Actor, case_id: &str, iocs: Vec<Ioc>) -> Result<usize> {
        let (secret, iocs) = (self.linkage.clone(), Arc::new(iocs));
        self.on_case(
            actor,
            case_id,
            Operation::EditCase,
            "case.ioc_import",
            move |tx, case| {
                let (secret, iocs) = (secret.clone(), Arc::clone(&iocs));
                Box::pin(async move {
                    let n = crate::casework::insert_iocs(tx, &case, &iocs).await?;
                    if let Some(secret) = &secret {
                        record(tx, secret, &case, &iocs).await?;
                    }
                    Ok((n, format!("{} indicator(s), {n} new", iocs.len())))
                })
            },
        )
        .await
    }
}
