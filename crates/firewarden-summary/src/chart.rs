//! The timeline chart: one row per kind of event (attacker activity, detection and analysis,
//! response actions, case work), a mark per event at its time, a labelled time axis. Inline
//! SVG: no script, no fetch; position carries the meaning, so colour is never the only signal.

use crate::model::TimelineRow;
use crate::text::Texts;

const WIDTH: f64 = 760.0;
const LEFT: f64 = 150.0;
const ROW: f64 = 28.0;

/// The row an event kind goes in.
fn row_of(kind: &str) -> usize {
    let head = kind.split('.').next().unwrap_or("");
    match head {
        "action" | "approval" => 2,
        "custody" | "stage" | "case" | "sla" | "checkin" | "gate" | "waiver" => 3,
        "evidence" | "import" | "finding" | "detection" => 1,
        _ => 0,
    }
}

/// XML-escapes text for SVG.
pub(crate) fn esc(text: &str) -> String {
    crate::html::escape(text)
}

/// The chart for `events` (oldest first).
pub(crate) fn svg(events: &[TimelineRow], tx: &Texts) -> String {
    let labels = [tx.attackers, tx.findings_n, tx.actions_n, tx.s_overrides];
    // Short row names, in the report's language.
    let names = [
        tx.first_activity.split_whitespace().next().unwrap_or(""),
        labels[1],
        labels[2],
        tx.stage,
    ];
    let names = [
        row_name(tx, 0, names[0]),
        row_name(tx, 1, names[1]),
        row_name(tx, 2, names[2]),
        row_name(tx, 3, names[3]),
    ];
    let (start, end) = match (events.first(), events.last()) {
        (Some(a), Some(b)) => (a.at.0, b.at.0.max(a.at.0 + 1)),
        _ => (0, 1),
    };
    let span = (end - start) as f64;
    let height = ROW * 4.0 + 40.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{}\" class=\"chart\">",
        esc(tx.s_timeline)
    );
    let colours = ["#b3261e", "#7a5900", "#0b57d0", "#4a4a4a"];
    for (i, name) in names.iter().enumerate() {
        let y = 10.0 + ROW * i as f64;
        out.push_str(&format!(
            "<text x=\"4\" y=\"{:.1}\" font-size=\"12\">{}</text><line x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{WIDTH}\" y2=\"{:.1}\" stroke=\"#ddd\"/>",
            y + 14.0,
            esc(name),
            y + 10.0,
            y + 10.0
        ));
    }
    for e in events {
        let x = LEFT + (e.at.0 - start) as f64 / span * (WIDTH - LEFT - 8.0);
        let r = row_of(&e.kind);
        let y = 10.0 + ROW * r as f64 + 3.0;
        out.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"3\" height=\"14\" fill=\"{}\"><title>{} {}</title></rect>",
            colours[r],
            esc(&e.at.to_string()),
            esc(&e.text)
        ));
    }
    let axis = 10.0 + ROW * 4.0 + 14.0;
    out.push_str(&format!(
        "<text x=\"{LEFT}\" y=\"{axis:.1}\" font-size=\"11\">{}</text><text x=\"{WIDTH}\" y=\"{axis:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text></svg>",
        esc(&events.first().map(|e| e.at.to_string()).unwrap_or_default()),
        esc(&events.last().map(|e| e.at.to_string()).unwrap_or_default())
    ));
    out
}

fn row_name(tx: &Texts, row: usize, _fallback: &str) -> &'static str {
    match row {
        0 => tx.chart_rows[0],
        1 => tx.chart_rows[1],
        2 => tx.chart_rows[2],
        _ => tx.chart_rows[3],
    }
}
