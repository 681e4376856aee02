//! The report as sections of neutral blocks, built once from the facts; the HTML and Markdown
//! renderers only lay them out. A section is added here and appears in every format.

use crate::model::*;
use crate::text::{Lang, Texts, clock_name, clock_state, texts};
use firewarden_model::Timestamp;

/// A piece of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// A paragraph of text.
    Para(String),
    /// Label and value pairs.
    Fields(Vec<(String, String)>),
    /// A table.
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// A bulleted list.
    List(Vec<String>),
    /// Preformatted text (custody lines).
    Pre(String),
    /// The timeline chart (SVG made here, labels escaped when made).
    Chart(String),
}

/// A section: an anchor id, a title, blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    pub id: &'static str,
    pub title: String,
    pub blocks: Vec<Block>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Document {
    pub lang: Lang,
    pub title: String,
    pub header: Vec<(String, String)>,
    pub sections: Vec<Section>,
    pub manifest: Vec<(String, String)>,
    pub note: String,
}

fn ts(t: &Option<Timestamp>, tx: &Texts) -> String {
    t.map(|t| t.to_string())
        .unwrap_or_else(|| tx.not_recorded.to_owned())
}

fn or_none(v: &[String], tx: &Texts) -> String {
    if v.is_empty() {
        tx.none.to_owned()
    } else {
        v.join(", ")
    }
}

/// `3 d 4 h 5 min`, from seconds.
pub(crate) fn span(secs: i64, tx: &Texts) -> String {
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} d"));
    }
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 || parts.is_empty() {
        parts.push(format!("{m} {}", tx.minutes));
    }
    parts.join(" ")
}

/// The earliest attacker activity any storyline records.
pub(crate) fn first_activity(f: &ReportFacts) -> Option<Timestamp> {
    f.storylines.iter().filter_map(|s| s.first_activity).min()
}

/// Builds the document; `manifest` is the appendices' hashes (name, SHA-256).
pub(crate) fn build(f: &ReportFacts, lang: Lang, manifest: Vec<(String, String)>) -> Document {
    let tx = texts(lang);
    let c = &f.case;
    let header = vec![
        (tx.incident.to_owned(), c.id.clone()),
        (
            tx.classification.to_owned(),
            format!(
                "TLP:{} · PAP:{}",
                c.tlp.to_uppercase(),
                c.pap.to_uppercase()
            ),
        ),
        (tx.version.to_owned(), c.version.to_string()),
        (tx.customer.to_owned(), f.tenant.name.clone()),
        (tx.kind.to_owned(), c.kind.clone()),
        (tx.severity.to_owned(), c.severity.clone()),
        (tx.status.to_owned(), format!("{} ({})", c.status, c.stage)),
        (tx.authors.to_owned(), or_none(&f.authors, tx)),
        (tx.reviewers.to_owned(), or_none(&f.reviewers, tx)),
    ];
    let sections = vec![
        summary(f, tx),
        scope(f, tx),
        sla(f, tx),
        timeline(f, tx),
        root_cause(f, tx),
        compromise(f, tx),
        loss(f, tx),
        actions(f, tx),
        overrides(f, tx),
        findings(f, tx),
        iocs(f, tx),
        recommendations(f, tx),
        lessons(f, tx),
        evidence(f, tx),
        tools(f, tx),
        audit(f, tx),
    ];
    Document {
        lang,
        title: format!("{} — {}", tx.title, c.title),
        header,
        sections,
        manifest,
        note: tx.signature_note.into(),
    }
}

fn summary(f: &ReportFacts, tx: &Texts) -> Section {
    let mut blocks = Vec::new();
    for s in &f.storylines {
        if !s.verdict.is_empty() {
            blocks.push(Block::Para(format!(
                "{} ({}): {}",
                tx.happened, s.asset, s.verdict
            )));
        }
    }
    let first = first_activity(f);
    let mut fields = vec![
        (
            tx.entry.to_owned(),
            f.case
                .entry_point
                .clone()
                .or_else(|| f.storylines.iter().find_map(|s| s.entry_point.clone()))
                .unwrap_or_else(|| tx.not_recorded.into()),
        ),
        (tx.first_activity.to_owned(), ts(&first, tx)),
        (tx.declared.to_owned(), ts(&f.case.created, tx)),
    ];
    if let (Some(a), Some(d)) = (first, f.case.created) {
        fields.push((tx.dwell.to_owned(), span(d.0 - a.0, tx)));
    }
    fields.push((
        tx.closed.to_owned(),
        f.case
            .closed
            .map(|t| t.to_string())
            .unwrap_or_else(|| tx.open_case.into()),
    ));
    fields.push((tx.assets_n.to_owned(), f.assets.len().to_string()));
    fields.push((tx.findings_n.to_owned(), severity_counts(&f.findings)));
    fields.push((tx.actions_n.to_owned(), f.actions.len().to_string()));
    fields.push((tx.evidence_n.to_owned(), f.evidence.len().to_string()));
    blocks.push(Block::Fields(fields));
    Section {
        id: "summary",
        title: tx.s_summary.into(),
        blocks,
    }
}

fn severity_counts(findings: &[FindingRow]) -> String {
    let mut out = Vec::new();
    for sev in ["critical", "high", "medium", "low", "info"] {
        let n = findings.iter().filter(|f| f.severity == sev).count();
        if n > 0 {
            out.push(format!("{n} {sev}"));
        }
    }
    if out.is_empty() {
        "0".into()
    } else {
        out.join(", ")
    }
}

fn scope(f: &ReportFacts, tx: &Texts) -> Section {
    let nr = || tx.not_recorded.to_owned();
    let text = |s: &str| if s.is_empty() { nr() } else { s.to_owned() };
    Section {
        id: "scope",
        title: tx.s_scope.into(),
        blocks: vec![Block::Fields(vec![
            (tx.customer.into(), text(&f.tenant.name)),
            (tx.contract.into(), text(&f.tenant.contract)),
            (tx.contacts.into(), text(&f.tenant.contacts)),
            (
                tx.authority.into(),
                f.case.authority.clone().unwrap_or_else(nr),
            ),
        ])],
    }
}

fn sla(f: &ReportFacts, tx: &Texts) -> Section {
    let blocks = if f.sla.is_empty() {
        vec![Block::Para(tx.no_sla.into())]
    } else {
        vec![Block::Table {
            head: vec![
                tx.clock.into(),
                tx.target.into(),
                tx.achieved.into(),
                tx.outcome.into(),
            ],
            rows: f
                .sla
                .iter()
                .map(|l| {
                    vec![
                        clock_name(tx, &l.clock).into(),
                        format!("{} {}", l.target_minutes, tx.minutes),
                        l.achieved_seconds
                            .map(|s| span(s, tx))
                            .unwrap_or_else(|| "—".into()),
                        clock_state(tx, &l.state).into(),
                    ]
                })
                .collect(),
        }]
    };
    Section {
        id: "sla",
        title: tx.s_sla.into(),
        blocks,
    }
}

fn timeline(f: &ReportFacts, tx: &Texts) -> Section {
    let mut blocks = Vec::new();
    if !f.timeline.is_empty() {
        blocks.push(Block::Chart(crate::chart::svg(&f.timeline, tx)));
        blocks.push(Block::Para(tx.chart_caption.into()));
    }
    blocks.push(Block::Table {
        head: vec![
            tx.when_utc.into(),
            tx.zone.into(),
            tx.kind.into(),
            tx.what.into(),
        ],
        rows: f
            .timeline
            .iter()
            .map(|e| {
                vec![
                    e.at.to_string(),
                    e.zone.clone(),
                    e.kind.clone(),
                    e.text.clone(),
                ]
            })
            .collect(),
    });
    Section {
        id: "timeline",
        title: tx.s_timeline.into(),
        blocks,
    }
}

fn root_cause(f: &ReportFacts, tx: &Texts) -> Section {
    let mut blocks = Vec::new();
    for s in &f.storylines {
        blocks.push(Block::Fields(vec![
            (tx.asset.into(), s.asset.clone()),
            (
                tx.entry.into(),
                s.entry_point
                    .clone()
                    .unwrap_or_else(|| tx.not_recorded.into()),
            ),
            (tx.attackers.into(), or_none(&s.attacker_ips, tx)),
            (tx.persistence.into(), or_none(&s.persistence, tx)),
            (tx.first_activity.into(), ts(&s.first_activity, tx)),
            (tx.last_activity.into(), ts(&s.last_activity, tx)),
        ]));
    }
    // Techniques, each with the findings that show it.
    let mut techniques: Vec<(String, Vec<String>)> = Vec::new();
    for fd in &f.findings {
        for t in &fd.attack {
            match techniques.iter_mut().find(|(id, _)| id == t) {
                Some((_, v)) => v.push(fd.title.clone()),
                None => techniques.push((t.clone(), vec![fd.title.clone()])),
            }
        }
    }
    techniques.sort();
    blocks.push(Block::Table {
        head: vec![tx.technique.into(), tx.finding.into()],
        rows: techniques
            .into_iter()
            .map(|(t, mut v)| {
                v.sort();
                v.dedup();
                vec![t, v.join("; ")]
            })
            .collect(),
    });
    Section {
        id: "root-cause",
        title: tx.s_root_cause.into(),
        blocks,
    }
}

fn compromise(f: &ReportFacts, tx: &Texts) -> Section {
    let mut accounts: Vec<String> = f
        .storylines
        .iter()
        .flat_map(|s| s.accounts.iter().cloned())
        .collect();
    accounts.sort();
    accounts.dedup();
    Section {
        id: "compromise",
        title: tx.s_compromise.into(),
        blocks: vec![
            Block::Table {
                head: vec![tx.asset.into(), tx.compromise.into()],
                rows: f
                    .assets
                    .iter()
                    .map(|a| vec![a.name.clone(), a.compromise.clone()])
                    .collect(),
            },
            Block::Fields(vec![(tx.accounts.into(), or_none(&accounts, tx))]),
        ],
    }
}

fn actions(f: &ReportFacts, tx: &Texts) -> Section {
    Section {
        id: "actions",
        title: tx.s_actions.into(),
        blocks: vec![Block::Table {
            head: vec![
                tx.stage.into(),
                tx.asset.into(),
                tx.action.into(),
                tx.operator.into(),
                tx.approver.into(),
                tx.approved_at.into(),
                tx.tool.into(),
                tx.outcome.into(),
                tx.undone.into(),
            ],
            rows: f
                .actions
                .iter()
                .map(|a| {
                    let (who, when) = match &a.approval {
                        Some(p) => (
                            format!(
                                "{} ({}{})",
                                p.by.clone().unwrap_or_else(|| tx.not_recorded.into()),
                                p.requirement,
                                p.break_glass
                                    .as_ref()
                                    .map(|r| format!(", {}: {r}; {}", tx.break_glass, p.state))
                                    .unwrap_or_default()
                            ),
                            ts(&p.at, tx),
                        ),
                        None => (tx.no_approval.into(), "—".into()),
                    };
                    vec![
                        stage_of(&a.kind).into(),
                        a.asset.clone(),
                        format!("{} {} — {}", a.id, a.kind, a.title),
                        a.operator.clone(),
                        who,
                        when,
                        a.tool.clone(),
                        a.state.clone(),
                        if a.state == "undone" { tx.yes } else { tx.no }.into(),
                    ]
                })
                .collect(),
        }],
    }
}

/// The stage an action kind belongs to.
fn stage_of(kind: &str) -> &'static str {
    match kind.split('.').next().unwrap_or("") {
        "contain" => "containment",
        "eradicate" => "eradication",
        "recover" => "recovery",
        "harden" => "recovery",
        _ => "—",
    }
}

/// `containment → eradication`, or `summary → Closed`.
fn moved(m: &StageMove, tx: &Texts) -> String {
    format!("{} → {}", m.from, m.to.as_deref().unwrap_or(tx.closed))
}

fn overrides(f: &ReportFacts, tx: &Texts) -> Section {
    let mut rows: Vec<Vec<String>> = f
        .stages
        .iter()
        .filter(|m| m.override_reason.is_some())
        .map(|m| {
            vec![
                m.at.to_string(),
                moved(m, tx),
                m.by.clone(),
                m.override_reason.clone().unwrap_or_default(),
                m.unmet.join(", "),
            ]
        })
        .collect();
    rows.extend(f.waivers.iter().map(|w| {
        vec![
            w.at.to_string(),
            format!("{}: {}", tx.waived, w.criterion),
            w.by.clone(),
            w.reason.clone(),
            w.criterion.clone(),
        ]
    }));
    let moves = Block::Table {
        head: vec![tx.when_utc.into(), tx.moved.into(), tx.by.into()],
        rows: f
            .stages
            .iter()
            .map(|m| vec![m.at.to_string(), moved(m, tx), m.by.clone()])
            .collect(),
    };
    Section {
        id: "overrides",
        title: tx.s_overrides.into(),
        blocks: vec![
            moves,
            Block::Table {
                head: vec![
                    tx.when_utc.into(),
                    tx.moved.into(),
                    tx.by.into(),
                    tx.override_reason.into(),
                    tx.unmet.into(),
                ],
                rows,
            },
        ],
    }
}

/// How sure a finding is, from its severity and how much evidence backs it.
fn confidence(f: &FindingRow) -> &'static str {
    match (f.severity.as_str(), f.evidence.len()) {
        ("critical" | "high", n) if n >= 1 => "high",
        (_, 0) => "low",
        _ => "medium",
    }
}

fn findings(f: &ReportFacts, tx: &Texts) -> Section {
    Section {
        id: "findings",
        title: tx.s_findings.into(),
        blocks: vec![Block::Table {
            head: vec![
                tx.severity.into(),
                tx.asset.into(),
                tx.finding.into(),
                tx.why.into(),
                tx.next.into(),
                tx.confidence.into(),
                tx.source.into(),
            ],
            rows: f
                .findings
                .iter()
                .map(|x| {
                    vec![
                        x.severity.clone(),
                        x.asset.clone(),
                        format!("{} ({})", x.title, x.check),
                        x.explanation.clone(),
                        x.recommendation.clone(),
                        confidence(x).into(),
                        x.evidence.join("; "),
                    ]
                })
                .collect(),
        }],
    }
}

fn iocs(f: &ReportFacts, tx: &Texts) -> Section {
    Section {
        id: "iocs",
        title: tx.s_iocs.into(),
        blocks: vec![Block::Table {
            head: vec![tx.kind.into(), tx.value.into()],
            rows: f
                .iocs
                .iter()
                .map(|i| vec![i.kind.clone(), i.value.clone()])
                .collect(),
        }],
    }
}

fn recommendations(f: &ReportFacts, tx: &Texts) -> Section {
    let mut items: Vec<String> = f
        .tasks
        .iter()
        .map(|t| {
            format!(
                "{} — {}: {}; {}: {} ({})",
                t.title,
                tx.owner,
                t.owner.as_deref().unwrap_or(&t.by),
                tx.deadline,
                t.due.as_deref().unwrap_or(tx.not_recorded),
                if t.done { tx.done } else { tx.open }
            )
        })
        .collect();
    let mut seen = Vec::new();
    for x in &f.findings {
        if !x.recommendation.is_empty() && !seen.contains(&x.recommendation) {
            seen.push(x.recommendation.clone());
            items.push(format!("{} ({})", x.recommendation, x.check));
        }
    }
    Section {
        id: "recommendations",
        title: tx.s_recommendations.into(),
        blocks: vec![
            Block::Para(tx.recommendations_from.into()),
            Block::List(items),
        ],
    }
}

fn lessons(f: &ReportFacts, tx: &Texts) -> Section {
    Section {
        id: "lessons",
        title: tx.s_lessons.into(),
        blocks: vec![
            Block::Para(
                if f.notes.iter().any(|n| n.lesson) {
                    tx.lessons_from_notes
                } else {
                    tx.no_lessons
                }
                .into(),
            ),
            Block::List(
                f.notes
                    .iter()
                    .filter(|n| n.lesson)
                    .map(|n| format!("{} ({}, {})", n.body, n.author, n.created))
                    .collect(),
            ),
        ],
    }
}

fn evidence(f: &ReportFacts, tx: &Texts) -> Section {
    let mut blocks = vec![Block::Table {
        head: vec![
            "ID".into(),
            tx.asset.into(),
            tx.hash.into(),
            tx.size.into(),
            tx.acquired.into(),
            tx.custody_events.into(),
        ],
        rows: f
            .evidence
            .iter()
            .map(|e| {
                vec![
                    e.id.clone(),
                    e.asset.clone(),
                    e.sha256.clone(),
                    e.size.to_string(),
                    e.acquired.to_string(),
                    e.custody.len().to_string(),
                ]
            })
            .collect(),
    }];
    for e in &f.evidence {
        let mut text = String::new();
        for line in &e.custody {
            text.push_str(&crate::custody_line_summary(line));
            text.push('\n');
        }
        blocks.push(Block::Fields(vec![("ID".into(), e.id.clone())]));
        blocks.push(Block::Pre(text));
    }
    Section {
        id: "appendix-evidence",
        title: tx.s_appendix_evidence.into(),
        blocks,
    }
}

fn tools(f: &ReportFacts, tx: &Texts) -> Section {
    Section {
        id: "appendix-tools",
        title: tx.s_appendix_tools.into(),
        blocks: vec![Block::Table {
            head: vec![
                tx.kind.into(),
                tx.tool.into(),
                tx.hash.into(),
                tx.standing.into(),
            ],
            rows: f
                .tools
                .iter()
                .map(|t| {
                    vec![
                        t.kind.clone(),
                        t.name.clone(),
                        t.sha256.clone(),
                        t.standing.clone(),
                    ]
                })
                .collect(),
        }],
    }
}

fn audit(f: &ReportFacts, tx: &Texts) -> Section {
    let a = &f.audit;
    Section {
        id: "appendix-audit",
        title: tx.s_appendix_audit.into(),
        blocks: vec![
            Block::Fields(vec![
                (tx.records.into(), a.records.to_string()),
                (
                    tx.when_utc.into(),
                    format!("{} – {}", ts(&a.first, tx), ts(&a.last, tx)),
                ),
                (
                    tx.chain.into(),
                    if a.chain_intact { tx.intact } else { tx.broken }.into(),
                ),
            ]),
            Block::Table {
                head: vec![tx.action.into(), tx.records.into()],
                rows: a
                    .by_action
                    .iter()
                    .map(|(k, n)| vec![k.clone(), n.to_string()])
                    .collect(),
            },
            Block::Para(tx.reads_not_counted.into()),
        ],
    }
}

fn loss(f: &ReportFacts, tx: &Texts) -> Section {
    let l = &f.loss;
    let empty = l.services.is_empty() && l.losses.is_empty() && l.downtime.is_empty();
    if empty && l.overall_rating.is_none() {
        return Section {
            id: "loss",
            title: tx.s_loss.into(),
            blocks: vec![Block::Para(tx.loss_missing.into())],
        };
    }
    let money = |n: u64, c: &str| format!("{n} {c}");
    let mut blocks = vec![Block::Fields(vec![(
        tx.overall_rating.into(),
        l.overall_rating
            .clone()
            .unwrap_or_else(|| tx.not_recorded.into()),
    )])];
    blocks.push(Block::Table {
        head: vec![
            tx.loss_variety.into(),
            tx.minimum.into(),
            tx.likely.into(),
            tx.maximum.into(),
            tx.note.into(),
        ],
        rows: l
            .losses
            .iter()
            .map(|(v, min, likely, max, c, note)| {
                vec![
                    v.clone(),
                    money(*min, c),
                    money(*likely, c),
                    money(*max, c),
                    note.clone(),
                ]
            })
            .chain(l.totals.iter().map(|(c, min, likely, max)| {
                vec![
                    tx.total.into(),
                    money(*min, c),
                    money(*likely, c),
                    money(*max, c),
                    String::new(),
                ]
            }))
            .collect(),
    });
    blocks.push(Block::Table {
        head: vec![
            tx.service.into(),
            tx.criticality.into(),
            tx.cost_per_hour.into(),
            tx.asset.into(),
        ],
        rows: l
            .services
            .iter()
            .map(|(name, crit, cost, c, assets)| {
                vec![
                    name.clone(),
                    crit.clone(),
                    money(*cost, c),
                    assets.join(", "),
                ]
            })
            .collect(),
    });
    blocks.push(Block::Table {
        head: vec![
            tx.asset.into(),
            tx.down_from.into(),
            tx.down_until.into(),
            tx.source.into(),
        ],
        rows: l
            .downtime
            .iter()
            .map(|(a, from, until, src)| {
                vec![
                    a.clone(),
                    from.to_string(),
                    until
                        .map(|u| u.to_string())
                        .unwrap_or_else(|| tx.still_down.into()),
                    src.clone(),
                ]
            })
            .collect(),
    });
    if !l.disruption_estimate.is_empty() {
        blocks.push(Block::Para(format!(
            "{} {}",
            tx.disruption_from_downtime,
            l.disruption_estimate
                .iter()
                .map(|(c, n)| money(*n, c))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Section {
        id: "loss",
        title: tx.s_loss.into(),
        blocks,
    }
}
