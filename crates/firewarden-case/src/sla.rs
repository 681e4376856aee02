//! SLA clocks as data. A tenant's contract sets targets in minutes; each clock starts when the
//! case is declared and stops at the first event that meets it: a responder's acknowledgement,
//! the first analysis (or a remote check-in), the on-site check-in, the first containment action
//! applied. Pure: the store gives the facts and the time, this says where each clock stands and
//! which warnings are due.
//!
//! ```
//! use firewarden_case::sla::{ClockFacts, ClockState, SlaTargets, clocks};
//! use firewarden_model::Timestamp;
//! let declared = Timestamp(1_800_000_000);
//! let facts = ClockFacts { declared, ..Default::default() };
//! let now = Timestamp(declared.0 + 100 * 60);
//! let on_site = &clocks(&SlaTargets::standard(), &facts, now)[2];
//! assert_eq!(on_site.state, ClockState::Warning); // 20 minutes left of 2 hours
//! ```

use firewarden_model::Timestamp;
use serde::{Deserialize, Serialize};

/// The promises a contract can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// A responder acknowledges the case (`firewarden case ack`).
    Acknowledge,
    /// Analysis starts: the first analysis imported, or a remote check-in.
    RemoteStart,
    /// A responder is on site (`firewarden case checkin --on-site`).
    OnSite,
    /// The first containment action is applied (from a signed journal).
    Containment,
}

impl ClockKind {
    /// Every clock, in the order a case meets them.
    pub const ALL: [ClockKind; 4] = [
        ClockKind::Acknowledge,
        ClockKind::RemoteStart,
        ClockKind::OnSite,
        ClockKind::Containment,
    ];

    /// The stable name used in the API, the database and webhooks.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::Acknowledge => "acknowledge",
            ClockKind::RemoteStart => "remote_start",
            ClockKind::OnSite => "on_site",
            ClockKind::Containment => "containment",
        }
    }

    /// Parses [`ClockKind::as_str`].
    pub fn parse(text: &str) -> Option<ClockKind> {
        ClockKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// What it promises, for a person.
    pub fn label(self) -> &'static str {
        match self {
            ClockKind::Acknowledge => "acknowledgement",
            ClockKind::RemoteStart => "remote analysis start",
            ClockKind::OnSite => "on-site arrival",
            ClockKind::Containment => "containment",
        }
    }
}

/// A contract's targets, in minutes from the case's declaration; `None`: not promised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTargets {
    /// Acknowledgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge: Option<u32>,
    /// Remote analysis start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_start: Option<u32>,
    /// On-site arrival.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_site: Option<u32>,
    /// First containment action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containment: Option<u32>,
}

impl SlaTargets {
    /// The service's standard promise: acknowledged in 15 minutes, analysis within the hour,
    /// on site within 2 hours, first containment within 4.
    pub fn standard() -> SlaTargets {
        SlaTargets {
            acknowledge: Some(15),
            remote_start: Some(60),
            on_site: Some(120),
            containment: Some(240),
        }
    }

    /// The target of `kind`, minutes.
    pub fn get(&self, kind: ClockKind) -> Option<u32> {
        match kind {
            ClockKind::Acknowledge => self.acknowledge,
            ClockKind::RemoteStart => self.remote_start,
            ClockKind::OnSite => self.on_site,
            ClockKind::Containment => self.containment,
        }
    }

    /// Refuses targets no contract means: zero, or longer than 30 days.
    pub fn validate(&self) -> Result<(), String> {
        for kind in ClockKind::ALL {
            if let Some(m) = self.get(kind)
                && (m == 0 || m > 30 * 24 * 60)
            {
                return Err(format!(
                    "the {} target must be 1 to 43200 minutes, not {m}",
                    kind.label()
                ));
            }
        }
        Ok(())
    }
}

/// When the case was declared and when each stopping event first happened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockFacts {
    /// The case's declaration: every clock starts here.
    pub declared: Timestamp,
    /// The first acknowledgement.
    pub acknowledged: Option<Timestamp>,
    /// The first analysis or remote check-in.
    pub remote_start: Option<Timestamp>,
    /// The first on-site check-in.
    pub on_site: Option<Timestamp>,
    /// The first containment action applied.
    pub contained: Option<Timestamp>,
}

impl ClockFacts {
    /// The event that stops `kind`, if it happened.
    pub fn met(&self, kind: ClockKind) -> Option<Timestamp> {
        match kind {
            ClockKind::Acknowledge => self.acknowledged,
            ClockKind::RemoteStart => self.remote_start,
            ClockKind::OnSite => self.on_site,
            ClockKind::Containment => self.contained,
        }
    }
}

/// The clocks' facts from what the gates already know of a case (its analyses and signed
/// containment actions) and the check-ins people recorded.
pub fn clock_facts(
    declared: Timestamp,
    case: &crate::stage::CaseFacts,
    checkins: &[(ClockKind, Timestamp)],
) -> ClockFacts {
    let first = |kind: ClockKind| {
        checkins
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, t)| *t)
            .min()
    };
    let analysed = case.analyses.iter().copied().min();
    ClockFacts {
        declared,
        acknowledged: first(ClockKind::Acknowledge),
        remote_start: [first(ClockKind::RemoteStart), analysed]
            .into_iter()
            .flatten()
            .min(),
        on_site: first(ClockKind::OnSite),
        contained: case.containment_actions.iter().copied().min(),
    }
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Running, more than the warning margin left.
    Running,
    /// Running, within the warning margin of its target.
    Warning,
    /// Running past its target.
    Breached,
    /// Stopped in time.
    Met,
    /// Stopped after its target.
    MetLate,
}

/// One clock of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// Which promise.
    pub kind: ClockKind,
    /// The target, minutes.
    pub target_minutes: u32,
    /// When it started (the declaration).
    pub started: Timestamp,
    /// When the target falls.
    pub due: Timestamp,
    /// When the warning is due (before `due`).
    pub warn_at: Timestamp,
    /// When it stopped, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met: Option<Timestamp>,
    /// Where it stands.
    pub state: ClockState,
    /// Seconds left while running (negative once breached).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_left: Option<i64>,
    /// Seconds from start to stop, once stopped: the achieved figure for the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub achieved_seconds: Option<i64>,
}

/// The warning comes 30 minutes before the target, or half-way for targets under an hour (a
/// 15-minute acknowledgement is warned at 7½ minutes, not at once).
pub fn warning_margin(target_minutes: u32) -> i64 {
    (i64::from(target_minutes) * 60 / 2).min(30 * 60)
}

/// Every promised clock of a case at `now`.
pub fn clocks(targets: &SlaTargets, facts: &ClockFacts, now: Timestamp) -> Vec<Clock> {
    ClockKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let target = targets.get(kind)?;
            let started = facts.declared;
            let due = Timestamp(started.0 + i64::from(target) * 60);
            let warn_at = Timestamp(due.0 - warning_margin(target));
            // An event before the declaration (an analysis run first) meets the clock at once.
            let met = facts.met(kind).map(|t| t.max(started));
            let (state, seconds_left, achieved_seconds) = match met {
                Some(t) if t <= due => (ClockState::Met, None, Some(t.0 - started.0)),
                Some(t) => (ClockState::MetLate, None, Some(t.0 - started.0)),
                None if now >= due => (ClockState::Breached, Some(due.0 - now.0), None),
                None if now >= warn_at => (ClockState::Warning, Some(due.0 - now.0), None),
                None => (ClockState::Running, Some(due.0 - now.0), None),
            };
            Some(Clock {
                kind,
                target_minutes: target,
                started,
                due,
                warn_at,
                met,
                state,
                seconds_left,
                achieved_seconds,
            })
        })
        .collect()
}

/// How loud a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertLevel {
    /// The target is near (see [`warning_margin`]).
    Warning,
    /// The target has passed.
    Breach,
}

impl AlertLevel {
    /// The stable name used in the database and webhooks.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Warning => "warning",
            AlertLevel::Breach => "breach",
        }
    }
}

/// The notifications a case's clocks call for at `now`: a warning for each clock in or past its
/// margin, a breach for each past its target. The store sends each one once, ever; a clock
/// already stopped calls for nothing.
pub fn alerts_due(clocks: &[Clock]) -> Vec<(ClockKind, AlertLevel)> {
    let mut out = Vec::new();
    for c in clocks {
        match c.state {
            ClockState::Warning => out.push((c.kind, AlertLevel::Warning)),
            ClockState::Breached => {
                out.push((c.kind, AlertLevel::Warning));
                out.push((c.kind, AlertLevel::Breach));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000;

    fn at(minutes: i64) -> Timestamp {
        Timestamp(T0 + minutes * 60)
    }

    fn states(facts: &ClockFacts, now: i64) -> Vec<(ClockKind, ClockState)> {
        clocks(&SlaTargets::standard(), facts, at(now))
            .into_iter()
            .map(|c| (c.kind, c.state))
            .collect()
    }

    #[test]
    fn clocks_run_warn_breach_and_stop() {
        let mut facts = ClockFacts {
            declared: at(0),
            ..Default::default()
        };
        use ClockKind::*;
        use ClockState::*;
        assert_eq!(
            states(&facts, 1),
            [
                (Acknowledge, Running),
                (RemoteStart, Running),
                (OnSite, Running),
                (Containment, Running)
            ]
        );
        // 7½ minutes into a 15-minute acknowledgement: warned.
        assert_eq!(states(&facts, 8)[0], (Acknowledge, Warning));
        assert_eq!(states(&facts, 15)[0], (Acknowledge, Breached));
        // On-site: warned at 90 minutes, breached at 120.
        assert_eq!(states(&facts, 89)[2], (OnSite, Running));
        assert_eq!(states(&facts, 90)[2], (OnSite, Warning));
        assert_eq!(states(&facts, 120)[2], (OnSite, Breached));
        facts.acknowledged = Some(at(9));
        facts.on_site = Some(at(130));
        facts.remote_start = Some(at(-30)); // the customer's own triage, before declaring
        let now = clocks(&SlaTargets::standard(), &facts, at(215));
        assert_eq!(now[0].state, Met);
        assert_eq!(now[0].achieved_seconds, Some(9 * 60));
        assert_eq!(now[1].state, Met);
        assert_eq!(now[1].achieved_seconds, Some(0));
        assert_eq!(now[2].state, MetLate);
        assert_eq!(now[2].achieved_seconds, Some(130 * 60));
        assert_eq!(now[3].state, Warning);
        assert_eq!(now[3].seconds_left, Some(25 * 60));
    }

    #[test]
    fn alerts_follow_the_states_and_unpromised_clocks_do_not_exist() {
        let facts = ClockFacts {
            declared: at(0),
            ..Default::default()
        };
        let targets = SlaTargets {
            on_site: Some(120),
            ..Default::default()
        };
        assert!(alerts_due(&clocks(&targets, &facts, at(60))).is_empty());
        assert_eq!(
            alerts_due(&clocks(&targets, &facts, at(95))),
            [(ClockKind::OnSite, AlertLevel::Warning)]
        );
        // A server that was down through the warning still sends it, before the breach.
        assert_eq!(
            alerts_due(&clocks(&targets, &facts, at(121))),
            [
                (ClockKind::OnSite, AlertLevel::Warning),
                (ClockKind::OnSite, AlertLevel::Breach)
            ]
        );
        let met = ClockFacts {
            on_site: Some(at(100)),
            ..facts
        };
        assert!(alerts_due(&clocks(&targets, &met, at(121))).is_empty());
    }

    #[test]
    fn facts_come_from_imports_and_check_ins() {
        let case = crate::stage::CaseFacts {
            analyses: vec![at(50), at(40)],
            containment_actions: vec![at(200), at(180)],
            ..Default::default()
        };
        let checkins = [
            (ClockKind::Acknowledge, at(12)),
            (ClockKind::Acknowledge, at(5)),
            (ClockKind::RemoteStart, at(45)),
            (ClockKind::OnSite, at(110)),
        ];
        let f = clock_facts(at(0), &case, &checkins);
        assert_eq!(f.acknowledged, Some(at(5)));
        assert_eq!(f.remote_start, Some(at(40)));
        assert_eq!(f.on_site, Some(at(110)));
        assert_eq!(f.contained, Some(at(180)));
    }

    #[test]
    fn targets_are_checked_and_round_trip() {
        assert!(SlaTargets::standard().validate().is_ok());
        let zero = SlaTargets {
            acknowledge: Some(0),
            ..Default::default()
        };
        assert!(zero.validate().unwrap_err().contains("acknowledgement"));
        let json = serde_json::to_string(&SlaTargets::standard()).unwrap();
        assert_eq!(
            json,
            r#"{"acknowledge":15,"remote_start":60,"on_site":120,"containment":240}"#
        );
        assert_eq!(ClockKind::parse("on_site"), Some(ClockKind::OnSite));
        assert_eq!(ClockKind::parse("lunch"), None);
    }
}
