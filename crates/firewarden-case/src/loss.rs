//! Business-loss evaluation: the business services a case's assets carry (criticality, cost per
//! hour), downtime per asset (from the case itself, containment to recovery, plus what people
//! record), and loss ranges per VERIS loss variety with an overall rating. No I/O.

use firewarden_model::Timestamp;
use serde::{Deserialize, Serialize};

/// VERIS `impact.loss.variety`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossVariety {
    /// Asset and fraud.
    AssetAndFraud,
    /// Brand damage.
    BrandDamage,
    /// Business disruption.
    BusinessDisruption,
    /// Competitive advantage.
    CompetitiveAdvantage,
    /// Legal and regulatory.
    LegalAndRegulatory,
    /// Operating costs.
    OperatingCosts,
    /// Response and recovery.
    ResponseAndRecovery,
}

impl LossVariety {
    /// Every variety, in VERIS order.
    pub const ALL: [LossVariety; 7] = [
        LossVariety::AssetAndFraud,
        LossVariety::BrandDamage,
        LossVariety::BusinessDisruption,
        LossVariety::CompetitiveAdvantage,
        LossVariety::LegalAndRegulatory,
        LossVariety::OperatingCosts,
        LossVariety::ResponseAndRecovery,
    ];

    /// The name VERIS uses.
    pub fn veris(self) -> &'static str {
        match self {
            LossVariety::AssetAndFraud => "Asset and fraud",
            LossVariety::BrandDamage => "Brand damage",
            LossVariety::BusinessDisruption => "Business disruption",
            LossVariety::CompetitiveAdvantage => "Competitive advantage",
            LossVariety::LegalAndRegulatory => "Legal and regulatory",
            LossVariety::OperatingCosts => "Operating costs",
            LossVariety::ResponseAndRecovery => "Response and recovery",
        }
    }
}

/// VERIS `impact.overall_rating`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    /// Insignificant.
    Insignificant,
    /// Distracting.
    Distracting,
    /// Painful.
    Painful,
    /// Damaging.
    Damaging,
    /// Catastrophic.
    Catastrophic,
    /// Not known yet.
    Unknown,
}

impl Rating {
    /// The name VERIS uses.
    pub fn veris(self) -> &'static str {
        match self {
            Rating::Insignificant => "Insignificant",
            Rating::Distracting => "Distracting",
            Rating::Painful => "Painful",
            Rating::Damaging => "Damaging",
            Rating::Catastrophic => "Catastrophic",
            Rating::Unknown => "Unknown",
        }
    }
}

/// How much a service matters to the business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

/// A business service and the assets it runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Its name (`web shop`).
    pub name: String,
    /// How much it matters.
    pub criticality: Criticality,
    /// What an hour of it down costs, whole currency units.
    pub cost_per_hour: u64,
    /// ISO 4217 code.
    pub currency: String,
    /// The assets (hosts) it runs on.
    pub assets: Vec<String>,
}

/// A loss range for one variety, whole currency units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loss {
    /// The variety.
    pub variety: LossVariety,
    /// Minimum.
    pub min: u64,
    /// Most likely.
    pub likely: u64,
    /// Maximum.
    pub max: u64,
    /// ISO 4217 code.
    pub currency: String,
    /// How it was estimated.
    pub note: String,
}

/// A stretch of downtime of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Downtime {
    /// The asset.
    pub asset: String,
    /// From.
    pub from: Timestamp,
    /// Until (`None`: still down).
    pub until: Option<Timestamp>,
    /// `case` (containment to recovery, from the case's actions) or who recorded it.
    pub source: String,
    /// What it was.
    pub note: String,
}

/// A currency code: three upper-case letters.
pub fn valid_currency(code: &str) -> Option<String> {
    let c = code.trim().to_ascii_uppercase();
    (c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())).then_some(c)
}

impl Loss {
    /// Checks the range (minimum ≤ most likely ≤ maximum) and the currency.
    pub fn validate(&mut self) -> Result<(), String> {
        self.currency = valid_currency(&self.currency)
            .ok_or_else(|| format!("currency `{}` is not an ISO 4217 code", self.currency))?;
        if !(self.min <= self.likely && self.likely <= self.max) {
            return Err(format!(
                "a range goes minimum ≤ most likely ≤ maximum, not {} / {} / {}",
                self.min, self.likely, self.max
            ));
        }
        Ok(())
    }
}

/// Downtime from the case itself: per asset, from its first applied containment action to its
/// last applied recovery action after it (still down when there is none). `actions` are
/// `(asset, kind, state, begun)` as the journals say.
pub fn case_downtime(actions: &[(String, String, String, Timestamp)]) -> Vec<Downtime> {
    let mut assets: Vec<&str> = actions.iter().map(|a| a.0.as_str()).collect();
    assets.sort();
    assets.dedup();
    let mut out = Vec::new();
    for asset in assets {
        let applied = |prefix: &'static str| {
            actions
                .iter()
                .filter(move |a| a.0 == asset && a.1.starts_with(prefix) && a.2 != "failed")
                .map(|a| a.3)
        };
        let Some(from) = applied("contain.").min() else {
            continue;
        };
        let until = applied("recover.").filter(|t| *t >= from).max();
        out.push(Downtime {
            asset: asset.to_owned(),
            from,
            until,
            source: "case".into(),
            note: "first containment to last recovery".into(),
        });
    }
    out
}

/// Hours of downtime of an asset, counting overlaps once; stretches still open run to `now`.
pub fn hours_down(downtime: &[Downtime], asset: &str, now: Timestamp) -> f64 {
    hours_any_down(downtime, &[asset.to_owned()], now)
}

/// Hours during which any of `assets` was down, overlaps counted once.
pub fn hours_any_down(downtime: &[Downtime], assets: &[String], now: Timestamp) -> f64 {
    let mut spans: Vec<(i64, i64)> = downtime
        .iter()
        .filter(|d| assets.contains(&d.asset))
        .map(|d| (d.from.0, d.until.unwrap_or(now).0.max(d.from.0)))
        .collect();
    spans.sort();
    let mut total = 0i64;
    let mut cur: Option<(i64, i64)> = None;
    for (a, b) in spans {
        cur = match cur {
            Some((s, e)) if a <= e => Some((s, e.max(b))),
            Some((s, e)) => {
                total += e - s;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some((s, e)) = cur {
        total += e - s;
    }
    total as f64 / 3600.0
}

/// The business-disruption cost the downtime implies, per currency: each service costs its
/// hourly rate for as long as any of its assets was down.
pub fn disruption(
    services: &[Service],
    downtime: &[Downtime],
    now: Timestamp,
) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = Vec::new();
    for s in services {
        let hours = hours_any_down(downtime, &s.assets, now);
        let cost = (hours * s.cost_per_hour as f64).round() as u64;
        match out.iter_mut().find(|(c, _)| *c == s.currency) {
            Some((_, n)) => *n += cost,
            None => out.push((s.currency.clone(), cost)),
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn downtime_runs_from_containment_to_recovery_and_costs_the_services() {
        let actions = vec![
            (
                "web01".into(),
                "contain.network".into(),
                "applied".into(),
                t("2026-11-20T10:00:00Z"),
            ),
            (
                "web01".into(),
                "eradicate".into(),
                "applied".into(),
                t("2026-11-20T11:00:00Z"),
            ),
            (
                "web01".into(),
                "recover.lift".into(),
                "applied".into(),
                t("2026-11-20T14:00:00Z"),
            ),
            (
                "db01".into(),
                "contain.account".into(),
                "applied".into(),
                t("2026-11-20T12:00:00Z"),
            ),
        ];
        let down = case_downtime(&actions);
        assert_eq!(down.len(), 2);
        let now = t("2026-11-20T18:00:00Z");
        assert_eq!(hours_down(&down, "web01", now), 4.0);
        assert_eq!(
            hours_down(&down, "db01", now),
            6.0,
            "still down: runs to now"
        );
        let shop = Service {
            name: "shop".into(),
            criticality: Criticality::Critical,
            cost_per_hour: 1000,
            currency: "EUR".into(),
            assets: vec!["web01".into(), "db01".into()],
        };
        // The shop is down while either host is: 10:00 to now (18:00), overlaps once.
        assert_eq!(disruption(&[shop], &down, now), vec![("EUR".into(), 8000)]);
        let mut bad = Loss {
            variety: LossVariety::ResponseAndRecovery,
            min: 10,
            likely: 5,
            max: 20,
            currency: "eur".into(),
            note: String::new(),
        };
        assert!(bad.validate().unwrap_err().contains("minimum"));
        bad.likely = 15;
        assert!(bad.validate().is_ok());
        assert_eq!(bad.currency, "EUR");
        assert_eq!(LossVariety::ALL.len(), 7);
    }
}
