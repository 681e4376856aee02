//! The case as a VERIS 1.4 incident record (JSON): what the sector's incident databases and
//! the customer's risk team read. Made from the report's facts alone; where the case does not
//! know something VERIS asks for, the record says `Unknown` rather than guessing.

use crate::model::ReportFacts;
use firewarden_model::Timestamp;
use serde_json::{Map, Value, json};

/// The VERIS schema version the record follows.
pub const VERIS_VERSION: &str = "1.4.1";

/// A VERIS duration (`unit`, `value`) for a number of seconds, in the largest whole unit.
fn span(seconds: i64) -> Value {
    let s = seconds.max(0);
    let (unit, value) = if s >= 86_400 {
        ("Days", s / 86_400)
    } else if s >= 3600 {
        ("Hours", s / 3600)
    } else if s >= 60 {
        ("Minutes", s / 60)
    } else {
        ("Seconds", s)
    };
    json!({ "unit": unit, "value": value })
}

/// The incident record. `security_incident` is `Confirmed` when an asset is marked
/// compromised or a high or critical finding stands, otherwise `Suspected`.
pub fn incident(f: &ReportFacts) -> Value {
    let kind = f.case.kind.as_str();
    let entry = f
        .storylines
        .iter()
        .filter_map(|s| s.entry_point.as_deref())
        .chain(f.case.entry_point.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let attacker_seen = f.storylines.iter().any(|s| !s.attacker_ips.is_empty());
    let first_activity = f.storylines.iter().filter_map(|s| s.first_activity).min();
    let declared = f.case.created;
    let began: Option<Timestamp> = first_activity.or(declared);

    let mut record = Map::new();
    record.insert("schema_version".into(), VERIS_VERSION.into());
    record.insert("schema_name".into(), "verisc".into());
    record.insert("incident_id".into(), f.case.id.clone().into());
    let confirmed = f
        .assets
        .iter()
        .any(|a| matches!(a.compromise.as_str(), "compromised" | "remediated"))
        || f.findings
            .iter()
            .any(|x| matches!(x.severity.as_str(), "critical" | "high"));
    record.insert(
        "security_incident".into(),
        if confirmed { "Confirmed" } else { "Suspected" }.into(),
    );
    let mut summary = f.case.title.clone();
    for s in &f.storylines {
        if !s.verdict.trim().is_empty() {
            summary.push_str(&format!(" {}: {}", s.asset, s.verdict.trim()));
        }
    }
    record.insert("summary".into(), summary.into());

    // When: the first attacker activity seen (else the declaration), how long until it was
    // declared, and how long from the declaration to containment.
    let mut timeline = Map::new();
    let mut when = Map::new();
    match began {
        Some(t) => {
            let c = t.civil();
            when.insert("year".into(), c.year.into());
            when.insert("month".into(), c.month.into());
            when.insert("day".into(), c.day.into());
        }
        None => {
            when.insert("year".into(), Timestamp::now().civil().year.into());
        }
    }
    timeline.insert("incident".into(), Value::Object(when));
    if let (Some(first), Some(d)) = (first_activity, declared) {
        timeline.insert("discovery".into(), span(d.0 - first.0));
    }
    if let Some(s) = f
        .sla
        .iter()
        .find(|l| l.clock == "containment")
        .and_then(|l| l.achieved_seconds)
    {
        timeline.insert("containment".into(), span(s));
    }
    record.insert("timeline".into(), Value::Object(timeline));

    // Who.
    let actor = if attacker_seen || kind != "other" {
        let motive = if kind == "cryptominer" {
            "Financial"
        } else {
            "Unknown"
        };
        json!({ "external": { "variety": ["Unknown"], "motive": [motive], "country": ["Unknown"] } })
    } else {
        json!({ "unknown": { "notes": "not attributed by the responders" } })
    };
    record.insert("actor".into(), actor);

    // What they did: the way in from the entry point, the rest from the incident kind.
    let mut action = Map::new();
    let hacking_variety = if entry.contains("brute") {
        Some("Brute force")
    } else if entry.contains("stolen") || entry.contains("password login") {
        Some("Use of stolen creds")
    } else if entry.contains("sql") {
        Some("SQLi")
    } else {
        None
    };
    let web =
        matches!(kind, "webshell" | "page_tampering" | "data_dumping") || entry.contains("web");
    let hacking_vector = if entry.contains("ssh") {
        "Other network service"
    } else if web {
        "Web application"
    } else {
        "Unknown"
    };
    if hacking_variety.is_some() || matches!(kind, "intrusion" | "page_tampering" | "data_dumping")
    {
        action.insert(
            "hacking".into(),
            json!({ "variety": [hacking_variety.unwrap_or("Unknown")], "vector": [hacking_vector] }),
        );
    }
    let malware = match kind {
        "webshell" | "backdoor" => Some("Backdoor or C2"),
        "trojan" => Some("Trojan"),
        "virus_outbreak" => Some("Worm"),
        "cryptominer" => Some("Cryptocurrency mining"),
        _ => None,
    };
    if let Some(variety) = malware {
        let vector = if web {
            "Web application"
        } else {
            "Direct install"
        };
        action.insert(
            "malware".into(),
            json!({ "variety": [variety], "vector": [vector] }),
        );
    }
    if action.is_empty() {
        action.insert(
            "unknown".into(),
            json!({ "notes": "the responders did not establish the actions" }),
        );
    }
    record.insert("action".into(), Value::Object(action));

    // On what, and with what effect.
    let server = if web {
        "S - Web application"
    } else {
        "S - Unknown"
    };
    let mut asset = json!({ "assets": [{ "variety": server }], "cloud": ["Unknown"] });
    if !f.assets.is_empty() {
        asset["assets"][0]["amount"] = f.assets.len().into();
        asset["total_amount"] = f.assets.len().into();
    }
    record.insert("asset".into(), asset);
    let mut attribute = Map::new();
    let mut integrity: Vec<&str> = Vec::new();
    if malware.is_some() {
        integrity.push("Software installation");
    }
    if kind == "page_tampering" {
        integrity.push("Defacement");
    }
    if f.storylines.iter().any(|s| !s.accounts.is_empty()) && entry.contains("account") {
        integrity.push("Created account");
    }
    if !integrity.is_empty() {
        attribute.insert("integrity".into(), json!({ "variety": integrity }));
    }
    if kind == "data_dumping" {
        attribute.insert(
            "confidentiality".into(),
            json!({ "data_disclosure": "Potentially" }),
        );
    }
    let down: i64 = f
        .loss
        .downtime
        .iter()
        .map(|(_, from, until, _)| until.map_or(0, |u| u.0 - from.0))
        .max()
        .unwrap_or(0);
    if down > 0 {
        attribute.insert(
            "availability".into(),
            json!({ "variety": ["Interruption"], "duration": span(down) }),
        );
    }
    if !attribute.is_empty() {
        record.insert("attribute".into(), Value::Object(attribute));
    }
    // The responders found it; who at the victim noticed first is not recorded.
    record.insert("discovery_method".into(), json!({ "unknown": true }));

    // The loss evaluation. VERIS holds one currency: the first range's; ranges in another
    // currency are named in the notes, not converted.
    let mut impact = Map::new();
    impact.insert(
        "overall_rating".into(),
        f.loss
            .overall_rating
            .clone()
            .unwrap_or_else(|| "Unknown".into())
            .into(),
    );
    let mut notes = vec![format!(
        "Exported by Firewarden from case {} at version {} (TLP:{}).",
        f.case.id,
        f.case.version,
        f.case.tlp.to_uppercase()
    )];
    if let Some(currency) = f.loss.losses.first().map(|l| l.4.clone()) {
        let (mut min, mut likely, mut max) = (0u64, 0u64, 0u64);
        let mut losses = Vec::new();
        for (variety, lo, mid, hi, cur, _) in &f.loss.losses {
            if *cur != currency {
                notes.push(format!(
                    "{variety}: {lo}–{hi} {cur} (most likely {mid}) left out: VERIS holds one currency"
                ));
                continue;
            }
            min += lo;
            likely += mid;
            max += hi;
            losses.push(
                json!({ "variety": variety, "amount": mid, "min_amount": lo, "max_amount": hi }),
            );
        }
        impact.insert("iso_currency_code".into(), currency.into());
        impact.insert("loss".into(), Value::Array(losses));
        impact.insert("overall_amount".into(), likely.into());
        impact.insert("overall_min_amount".into(), min.into());
        impact.insert("overall_max_amount".into(), max.into());
    }
    record.insert("impact".into(), Value::Object(impact));
    // Indicators travel with the record unless the case is TLP:RED.
    if f.case.tlp != "red" && !f.iocs.is_empty() {
        let iocs: Vec<Value> = f
            .iocs
            .iter()
            .map(|i| json!({ "indicator": i.value, "comment": i.kind }))
            .collect();
        record.insert("ioc".into(), Value::Array(iocs));
    }
    record.insert("notes".into(), notes.join(" ").into());
    Value::Object(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn facts(kind: &str) -> ReportFacts {
        let mut f = ReportFacts::default();
        f.case.id = "C1".into();
        f.case.title = "web01 webshell".into();
        f.case.kind = kind.into();
        f.case.tlp = "amber".into();
        f.case.created = Timestamp::parse("2026-11-20T10:00:00Z");
        f
    }

    #[test]
    fn a_webshell_case_reads_as_veris() {
        let mut f = facts("webshell");
        f.storylines.push(AssetStory {
            asset: "web01".into(),
            verdict: "A webshell was uploaded.".into(),
            entry_point: Some("web application: webshell /var/www/html/up.php".into()),
            attacker_ips: vec!["203.0.113.9".into()],
            accounts: vec![],
            persistence: vec![],
            first_activity: Timestamp::parse("2026-11-18T10:00:00Z"),
            last_activity: None,
        });
        f.loss.losses = vec![
            (
                "Response and recovery".into(),
                1000,
                2000,
                5000,
                "EUR".into(),
                String::new(),
            ),
            (
                "Business disruption".into(),
                10,
                20,
                30,
                "USD".into(),
                String::new(),
            ),
        ];
        f.loss.overall_rating = Some("Painful".into());
        let v = incident(&f);
        assert_eq!(v["schema_version"], "1.4.1");
        assert_eq!(v["timeline"]["incident"]["year"], 2026);
        assert_eq!(v["timeline"]["incident"]["day"], 18);
        assert_eq!(
            v["timeline"]["discovery"],
            json!({"unit": "Days", "value": 2})
        );
        assert_eq!(v["action"]["malware"]["variety"][0], "Backdoor or C2");
        assert_eq!(v["action"]["malware"]["vector"][0], "Web application");
        assert_eq!(v["asset"]["assets"][0]["variety"], "S - Web application");
        assert_eq!(v["impact"]["overall_rating"], "Painful");
        assert_eq!(v["impact"]["iso_currency_code"], "EUR");
        assert_eq!(v["impact"]["overall_amount"], 2000);
        assert_eq!(v["impact"]["loss"].as_array().unwrap().len(), 1);
        assert!(
            v["notes"]
                .as_str()
                .unwrap()
                .contains("Business disruption: 10–30 USD")
        );
    }

    #[test]
    fn what_is_not_known_says_unknown() {
        let v = incident(&facts("other"));
        assert_eq!(
            v["actor"]["unknown"]["notes"],
            "not attributed by the responders"
        );
        assert!(v["action"]["unknown"].is_object());
        assert_eq!(v["impact"]["overall_rating"], "Unknown");
        assert_eq!(v["security_incident"], "Suspected");
        assert!(v.get("ioc").is_none());
    }
}
