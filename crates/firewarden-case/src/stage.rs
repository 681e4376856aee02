//! The six stages of an incident and the gates between them. A gate is a checklist of exit
//! criteria computed from what the case holds ([`CaseFacts`], gathered by the storage layer):
//! a stage is left when every criterion is met, or when a lead overrides the gate with a reason
//! — the override and the criteria it skipped are returned, to be recorded and reported.
//! Adding a criterion is one entry in [`criteria`].

use firewarden_model::Timestamp;
use serde::{Deserialize, Serialize};

/// The stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Authority, scope and assets established.
    Preparation,
    /// Analysis: what happened, how they got in.
    Detection,
    /// Stopping the damage without destroying evidence.
    Containment,
    /// Removing every foothold.
    Eradication,
    /// Restoring service and verifying the host is clean.
    Recovery,
    /// The report and lessons learned.
    Summary,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 6] = [
        Stage::Preparation,
        Stage::Detection,
        Stage::Containment,
        Stage::Eradication,
        Stage::Recovery,
        Stage::Summary,
    ];

    /// The stage after this one; `None` after the summary (leaving it closes the case).
    pub fn next(self) -> Option<Stage> {
        let i = Stage::ALL.iter().position(|s| *s == self)?;
        Stage::ALL.get(i + 1).copied()
    }

    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Preparation => "preparation",
            Stage::Detection => "detection",
            Stage::Containment => "containment",
            Stage::Eradication => "eradication",
            Stage::Recovery => "recovery",
            Stage::Summary => "summary",
        }
    }
}

/// The latest analysis (triage, scan or hunt) imported into a case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisSummary {
    /// When the analysis ran (its `finished` time).
    pub at: Timestamp,
    /// Check ids of its high and critical findings.
    pub high_or_critical_checks: Vec<String>,
}

/// A criterion waived with a reason (e.g. no volatile evidence could be collected before
/// isolating a host that was exfiltrating).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    /// The criterion's id.
    pub criterion: String,
    /// Why.
    pub reason: String,
    /// Who recorded it.
    pub by: String,
}

/// What a case holds that the gates look at, computed by the storage layer from case data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFacts {
    /// The customer's authority for the engagement (scope, legal basis) is recorded.
    pub authority_recorded: bool,
    /// Assets (hosts) in the case's scope.
    pub assets: usize,
    /// Times of the analyses imported (triage, scan, hunt results).
    pub analyses: Vec<Timestamp>,
    /// The latest of them, with what it still reports.
    pub latest_analysis: Option<AnalysisSummary>,
    /// The recorded hypothesis of how the attacker got in.
    pub entry_point: Option<String>,
    /// Acquisition times of the evidence collected (verified bundles).
    pub evidence_collected: Vec<Timestamp>,
    /// Times of containment actions imported from signed journals.
    pub containment_actions: Vec<Timestamp>,
    /// Times of eradication actions imported from signed journals.
    pub eradication_actions: Vec<Timestamp>,
    /// Check ids of the footholds eradicated.
    pub eradicated_checks: Vec<String>,
    /// Times of `recover verify` results that left nothing at or above high.
    pub clean_verifications: Vec<Timestamp>,
    /// Criteria waived, with reasons.
    pub waivers: Vec<Waiver>,
    /// Tasks still open.
    pub open_tasks: usize,
    /// Actions in imported journals whose signature was not verified (not counted above).
    #[serde(default)]
    pub unsigned_actions: usize,
}

/// One exit criterion and whether the case meets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    /// Stable id, e.g. `containment.evidence_first`.
    pub id: String,
    /// What it asks, for a person.
    pub text: String,
    /// Met (or waived).
    pub met: bool,
    /// Why it is or is not met, from the case's data.
    pub detail: String,
}

fn unsigned_note(f: &CaseFacts) -> String {
    match f.unsigned_actions {
        0 => String::new(),
        n => format!(
            "; {n} more in journals without a verified signature (push the export with its .sig and the signer's public key)"
        ),
    }
}

/// A stage's exit checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checklist {
    /// The stage it lets the case leave.
    pub stage: Stage,
    /// Its criteria, in order.
    pub criteria: Vec<Criterion>,
}

impl Checklist {
    /// Every criterion is met.
    pub fn passed(&self) -> bool {
        self.criteria.iter().all(|c| c.met)
    }

    /// The criteria not met.
    pub fn unmet(&self) -> Vec<&Criterion> {
        self.criteria.iter().filter(|c| !c.met).collect()
    }
}

/// One criterion's definition: id, question, and the test on the facts (met, detail).
type Test = fn(&CaseFacts) -> (bool, String);

/// The exit criteria of a stage.
fn criteria(stage: Stage) -> &'static [(&'static str, &'static str, Test)] {
    match stage {
        Stage::Preparation => &[
            (
                "preparation.authority",
                "The customer's authority for the engagement is recorded",
                |f| {
                    (
                        f.authority_recorded,
                        yes_no(f.authority_recorded, "recorded", "not recorded"),
                    )
                },
            ),
            (
                "preparation.assets",
                "At least one asset is in scope",
                |f| (f.assets > 0, format!("{} asset(s)", f.assets)),
            ),
        ],
        Stage::Detection => &[
            (
                "detection.analysis",
                "An analysis (triage, scan or hunt) is imported",
                |f| {
                    (
                        !f.analyses.is_empty(),
                        format!("{} imported", f.analyses.len()),
                    )
                },
            ),
            (
                "detection.entry_point",
                "An entry-point hypothesis is recorded",
                |f| match &f.entry_point {
                    Some(e) if !e.trim().is_empty() => (true, firewarden_model::printable(e, 120)),
                    _ => (false, "none recorded".into()),
                },
            ),
        ],
        Stage::Containment => &[
            (
                "containment.evidence_first",
                "Evidence was collected before the first containment action",
                |f| {
                    let first_action = f.containment_actions.iter().min();
                    let first_evidence = f.evidence_collected.iter().min();
                    match (first_evidence, first_action) {
                        (Some(e), Some(a)) if e <= a => {
                            (true, format!("evidence {e}, first action {a}"))
                        }
                        (Some(e), Some(a)) => (
                            false,
                            format!("first action {a} came before the first evidence {e}"),
                        ),
                        (Some(e), None) => {
                            (true, format!("evidence {e}, no containment action yet"))
                        }
                        (None, _) => (false, "no evidence collected".into()),
                    }
                },
            ),
            (
                "containment.journal",
                "The containment actions' signed journal is imported",
                |f| {
                    (
                        !f.containment_actions.is_empty(),
                        format!(
                            "{} action(s){}",
                            f.containment_actions.len(),
                            unsigned_note(f)
                        ),
                    )
                },
            ),
        ],
        Stage::Eradication => &[
            (
                "eradication.actions",
                "Eradication actions are imported from a signed journal",
                |f| {
                    (
                        !f.eradication_actions.is_empty(),
                        format!(
                            "{} action(s){}",
                            f.eradication_actions.len(),
                            unsigned_note(f)
                        ),
                    )
                },
            ),
            (
                "eradication.retriage",
                "A re-triage was imported after the last eradication action",
                |f| {
                    let last = f.eradication_actions.iter().max();
                    match (&f.latest_analysis, last) {
                        (Some(a), Some(l)) if a.at > *l => {
                            (true, format!("analysis {} after {l}", a.at))
                        }
                        (Some(a), Some(l)) => {
                            (false, format!("latest analysis {} is not after {l}", a.at))
                        }
                        (_, None) => (false, "no eradication action".into()),
                        (None, _) => (false, "no analysis".into()),
                    }
                },
            ),
            (
                "eradication.nothing_left",
                "The re-triage finds no high or critical foothold of an eradicated kind",
                |f| {
                    let Some(a) = &f.latest_analysis else {
                        return (false, "no analysis".into());
                    };
                    let left: Vec<&String> = a
                        .high_or_critical_checks
                        .iter()
                        .filter(|c| f.eradicated_checks.contains(c))
                        .collect();
                    if left.is_empty() {
                        (true, "none left".into())
                    } else {
                        let names: Vec<&str> = left.iter().map(|s| s.as_str()).collect();
                        (false, format!("still reported: {}", names.join(", ")))
                    }
                },
            ),
        ],
        Stage::Recovery => &[(
            "recovery.verified",
            "A clean `recover verify` is imported after the last eradication action",
            |f| {
                let last = f.eradication_actions.iter().max();
                match f.clean_verifications.iter().max() {
                    Some(v) if last.is_none_or(|l| v > l) => (true, format!("clean at {v}")),
                    Some(v) => (
                        false,
                        format!(
                            "the last clean verification ({v}) is older than the last eradication"
                        ),
                    ),
                    None => (false, "no clean verification".into()),
                }
            },
        )],
        Stage::Summary => &[("summary.tasks", "Every task is done", |f| {
            (f.open_tasks == 0, format!("{} open", f.open_tasks))
        })],
    }
}

fn yes_no(v: bool, yes: &str, no: &str) -> String {
    if v { yes } else { no }.to_owned()
}

/// The exit checklist of `stage` for a case with these facts; waived criteria count as met.
pub fn checklist(stage: Stage, facts: &CaseFacts) -> Checklist {
    let criteria = criteria(stage)
        .iter()
        .map(|(id, text, test)| {
            let (met, detail) = test(facts);
            let waiver = facts.waivers.iter().find(|w| w.criterion == *id);
            match (met, waiver) {
                (false, Some(w)) => Criterion {
                    id: (*id).into(),
                    text: (*text).into(),
                    met: true,
                    detail: format!(
                        "waived by {}: {} ({detail})",
                        firewarden_model::printable(&w.by, 80),
                        firewarden_model::printable(&w.reason, 300)
                    ),
                },
                _ => Criterion {
                    id: (*id).into(),
                    text: (*text).into(),
                    met,
                    detail,
                },
            }
        })
        .collect();
    Checklist { stage, criteria }
}

/// A gate passed over its checklist by someone allowed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// Why.
    pub reason: String,
    /// The criteria that were not met.
    pub unmet: Vec<Criterion>,
}

/// A stage move to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The stage left.
    pub from: Stage,
    /// The stage entered; `None` when the summary is left and the case closes.
    pub to: Option<Stage>,
    /// Set when the gate was overridden.
    pub overridden: Option<Override>,
}

/// Why a stage could not be left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateError {
    /// Criteria are not met (and no override was asked for).
    Unmet(Checklist),
    /// This role may not override gates.
    OverrideNotAllowed,
    /// An override needs a reason.
    ReasonRequired,
}

impl std::fmt::Display for GateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GateError::Unmet(list) => {
                let unmet: Vec<String> = list
                    .unmet()
                    .iter()
                    .map(|c| format!("{} ({})", c.text, c.detail))
                    .collect();
                write!(
                    f,
                    "{} cannot be left yet: {}",
                    list.stage.as_str(),
                    unmet.join("; ")
                )
            }
            GateError::OverrideNotAllowed => {
                f.write_str("only a lead or an admin may override a gate")
            }
            GateError::ReasonRequired => f.write_str("an override needs a reason"),
        }
    }
}

impl std::error::Error for GateError {}

/// Leaves `stage`: when its checklist passes, or, with `override_reason`, when `role` may
/// override gates. The transition says what to record.
pub fn advance(
    stage: Stage,
    facts: &CaseFacts,
    role: crate::model::Role,
    override_reason: Option<&str>,
) -> Result<Transition, GateError> {
    let list = checklist(stage, facts);
    let to = stage.next();
    if list.passed() {
        return Ok(Transition {
            from: stage,
            to,
            overridden: None,
        });
    }
    let Some(reason) = override_reason else {
        return Err(GateError::Unmet(list));
    };
    if !role.may_override_gates() {
        return Err(GateError::OverrideNotAllowed);
    }
    if reason.trim().is_empty() {
        return Err(GateError::ReasonRequired);
    }
    Ok(Transition {
        from: stage,
        to,
        overridden: Some(Override {
            reason: reason.trim().to_owned(),
            unmet: list.unmet().into_iter().cloned().collect(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn stages_run_in_order_and_end_after_the_summary() {
        let order: Vec<Stage> =
            std::iter::successors(Some(Stage::Preparation), |s| s.next()).collect();
        assert_eq!(order, Stage::ALL);
        assert_eq!(Stage::Summary.next(), None);
    }

    #[test]
    fn containment_needs_evidence_before_the_first_action_or_a_waiver() {
        let mut f = CaseFacts {
            evidence_collected: vec![t("2026-11-20T04:00:00Z")],
            containment_actions: vec![t("2026-11-20T03:50:00Z")],
            ..Default::default()
        };
        let list = checklist(Stage::Containment, &f);
        assert!(!list.passed());
        assert_eq!(list.unmet()[0].id, "containment.evidence_first");
        assert!(list.unmet()[0].detail.contains("came before"));
        f.waivers.push(Waiver {
            criterion: "containment.evidence_first".into(),
            reason: "the host was exfiltrating; isolated at once".into(),
            by: "lead".into(),
        });
        let list = checklist(Stage::Containment, &f);
        assert!(list.passed(), "{list:?}");
        assert!(list.criteria[0].detail.starts_with("waived by lead"));
    }

    #[test]
    fn eradication_needs_a_retriage_after_the_last_action_with_nothing_left() {
        let mut f = CaseFacts {
            eradication_actions: vec![t("2026-11-21T10:00:00Z"), t("2026-11-21T11:00:00Z")],
            eradicated_checks: vec!["linux.persistence.cron".into()],
            latest_analysis: Some(AnalysisSummary {
                at: t("2026-11-21T10:30:00Z"),
                high_or_critical_checks: vec!["linux.persistence.cron".into()],
            }),
            ..Default::default()
        };
        let ids = |f: &CaseFacts| -> Vec<String> {
            checklist(Stage::Eradication, f)
                .unmet()
                .iter()
                .map(|c| c.id.clone())
                .collect()
        };
        assert_eq!(
            ids(&f),
            ["eradication.retriage", "eradication.nothing_left"]
        );
        f.latest_analysis = Some(AnalysisSummary {
            at: t("2026-11-21T12:00:00Z"),
            // A high finding of a kind nobody eradicated does not hold the gate.
            high_or_critical_checks: vec!["linux.accounts.sudo".into()],
        });
        assert!(ids(&f).is_empty());
    }

    #[test]
    fn only_leads_override_and_only_with_a_reason() {
        let f = CaseFacts::default();
        assert!(matches!(
            advance(Stage::Detection, &f, Role::Lead, None),
            Err(GateError::Unmet(_))
        ));
        assert_eq!(
            advance(Stage::Detection, &f, Role::Responder, Some("no time")),
            Err(GateError::OverrideNotAllowed)
        );
        assert_eq!(
            advance(Stage::Detection, &f, Role::Lead, Some("  ")),
            Err(GateError::ReasonRequired)
        );
        let tr = advance(
            Stage::Detection,
            &f,
            Role::Lead,
            Some("customer analysed it"),
        )
        .unwrap();
        assert_eq!(
            (tr.from, tr.to),
            (Stage::Detection, Some(Stage::Containment))
        );
        let o = tr.overridden.unwrap();
        assert_eq!(o.unmet.len(), 2);
        let msg = GateError::Unmet(checklist(Stage::Detection, &f)).to_string();
        assert!(
            msg.contains("An analysis") && msg.contains("entry-point"),
            "{msg}"
        );
    }

    #[test]
    fn recovery_needs_a_clean_verification_newer_than_eradication() {
        let mut f = CaseFacts {
            eradication_actions: vec![t("2026-11-21T11:00:00Z")],
            clean_verifications: vec![t("2026-11-21T10:00:00Z")],
            ..Default::default()
        };
        assert!(!checklist(Stage::Recovery, &f).passed());
        f.clean_verifications.push(t("2026-11-21T12:00:00Z"));
        let tr = advance(Stage::Recovery, &f, Role::Responder, None).unwrap();
        assert_eq!(tr.to, Some(Stage::Summary));
        assert!(tr.overridden.is_none());
    }
}
