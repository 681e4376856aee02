//! Indicators in and out: STIX 2.1 bundles and CSV out; STIX 2.1 bundles, MISP events and plain
//! `[{type, value}]` lists in. No I/O: text in, values out.

use crate::ioc::{Ioc, IocKind, normalize};
use crate::model::Tlp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The TLP marking definitions STIX 2.1 predefines (TLP 1.0; CLEAR is WHITE there).
fn tlp_marking(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        Tlp::Green => "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        Tlp::Amber | Tlp::AmberStrict => "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        Tlp::Red => "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    }
}

/// A stable id of `kind` from `seed`: the same indicator of the same case has the same id in
/// every export (RFC 4122 layout, version 5 bits, from SHA-256).
fn stable_id(kind: &str, seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x: String = b.iter().map(|v| format!("{v:02x}")).collect();
    format!(
        "{kind}--{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// A STIX pattern string literal.
fn lit(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The STIX pattern of an indicator.
pub fn pattern(i: &Ioc) -> String {
    let v = &i.value;
    match i.kind {
        IocKind::Ipv4 => format!("[ipv4-addr:value = {}]", lit(v)),
        IocKind::Ipv6 => format!("[ipv6-addr:value = {}]", lit(v)),
        IocKind::Domain => format!("[domain-name:value = {}]", lit(v)),
        IocKind::Url => format!("[url:value = {}]", lit(v)),
        IocKind::Md5 => format!("[file:hashes.MD5 = {}]", lit(v)),
        IocKind::Sha1 => format!("[file:hashes.'SHA-1' = {}]", lit(v)),
        IocKind::Sha256 => format!("[file:hashes.'SHA-256' = {}]", lit(v)),
        IocKind::Path => match v.rsplit_once('/') {
            Some((dir, name)) if !name.is_empty() => format!(
                "[file:name = {} AND file:parent_directory_ref.path = {}]",
                lit(name),
                lit(if dir.is_empty() { "/" } else { dir })
            ),
            _ => format!("[file:name = {}]", lit(v)),
        },
        IocKind::Account => format!("[user-account:account_login = {}]", lit(v)),
    }
}

/// A STIX 2.1 bundle of a case's indicators: the producer's identity and one indicator each,
/// marked with the case's TLP. `first_seen` per indicator (RFC 3339) is its `valid_from`.
pub fn bundle(case_id: &str, case_title: &str, tlp: Tlp, iocs: &[(Ioc, String)]) -> Value {
    let identity = stable_id("identity", "firewarden");
    let created = iocs
        .iter()
        .map(|(_, t)| t.as_str())
        .min()
        .unwrap_or("1970-01-01T00:00:00Z")
        .to_owned();
    let mut objects = vec![json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity,
        "created": created,
        "modified": created,
        "name": "Firewarden",
        "identity_class": "system",
    })];
    for (i, seen) in iocs {
        let kind = serde_json::to_value(i.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        objects.push(json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": stable_id("indicator", &format!("{case_id}|{kind}|{}", i.value)),
            "created": seen,
            "modified": seen,
            "created_by_ref": identity,
            "name": format!("{kind} {} ({case_id}: {case_title})", i.value),
            "indicator_types": ["malicious-activity"],
            "pattern": pattern(i),
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": seen,
            "object_marking_refs": [tlp_marking(tlp)],
        }));
    }
    json!({
        "type": "bundle",
        "id": stable_id("bundle", &format!("{case_id}|{}", iocs.len())),
        "objects": objects,
    })
}

/// Indicators from a STIX 2.1 bundle (the simple `[object:property = 'value']` comparisons of
/// its indicators' patterns, joined by AND or OR), a MISP event (`Event.Attribute`, and each
/// `Object`'s attributes) or a plain list of `{type, value}`. Values that do not normalise are
/// returned as problems, not dropped silently.
pub fn parse_indicators(doc: &Value) -> (Vec<Ioc>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut take = |kinds: &[IocKind], value: &str, from: &str| match kinds
        .iter()
        .find_map(|k| normalize(*k, value))
    {
        Some(i) => out.push(i),
        None => problems.push(format!(
            "{from}: `{}` is not an indicator we keep",
            firewarden_model::printable(value, 120)
        )),
    };
    if doc.get("type").and_then(Value::as_str) == Some("bundle") {
        for o in doc["objects"].as_array().into_iter().flatten() {
            if o.get("type").and_then(Value::as_str) != Some("indicator") {
                continue;
            }
            let p = o["pattern"].as_str().unwrap_or("");
            let cmp = comparisons(p);
            let find = |k: &str| cmp.iter().find(|(p, _)| p == k).map(|(_, v)| v.clone());
            // A file by name and directory is one path.
            if let (Some(name), Some(dir)) =
                (find("file:name"), find("file:parent_directory_ref.path"))
            {
                take(
                    &[IocKind::Path],
                    &format!("{}/{name}", dir.trim_end_matches('/')),
                    "file",
                );
            }
            for (path, value) in &cmp {
                if !path.starts_with("file:name") && !path.starts_with("file:parent_directory_ref")
                {
                    take(kind_of_stix(path).as_slice(), value, path);
                }
            }
        }
    } else if let Some(event) = doc.get("Event").or_else(|| doc.get("event")) {
        let mut attrs: Vec<&Value> = event["Attribute"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        for o in event["Object"].as_array().into_iter().flatten() {
            attrs.extend(o["Attribute"].as_array().into_iter().flatten());
        }
        for a in attrs {
            let t = a["type"].as_str().unwrap_or("");
            take(kind_of_misp(t), a["value"].as_str().unwrap_or(""), t);
        }
    } else if let Some(list) = doc.as_array() {
        for a in list {
            let t = a["type"].as_str().unwrap_or("");
            let ours: Vec<IocKind> = serde_json::from_value::<IocKind>(Value::String(t.to_owned()))
                .into_iter()
                .collect();
            let kinds = if ours.is_empty() {
                kind_of_misp(t)
            } else {
                &ours[..]
            };
            take(kinds, a["value"].as_str().unwrap_or(""), t);
        }
    } else {
        problems.push("neither a STIX bundle, a MISP event nor a list of {type, value}".into());
    }
    out.sort();
    out.dedup();
    (out, problems)
}

fn kind_of_stix(path: &str) -> Vec<IocKind> {
    vec![match path {
        "ipv4-addr:value" => IocKind::Ipv4,
        "ipv6-addr:value" => IocKind::Ipv6,
        "domain-name:value" => IocKind::Domain,
        "url:value" => IocKind::Url,
        "file:hashes.MD5" | "file:hashes.'MD5'" => IocKind::Md5,
        "file:hashes.'SHA-1'" | "file:hashes.SHA1" => IocKind::Sha1,
        "file:hashes.'SHA-256'" | "file:hashes.SHA256" => IocKind::Sha256,
        "user-account:account_login" => IocKind::Account,
        _ => return Vec::new(),
    }]
}

/// The kinds a MISP attribute type may hold, most likely first.
fn kind_of_misp(t: &str) -> &'static [IocKind] {
    match t {
        "ip-src" | "ip-dst" | "ip" => &[IocKind::Ipv4, IocKind::Ipv6],
        "domain" | "hostname" => &[IocKind::Domain],
        "url" | "uri" => &[IocKind::Url],
        "md5" => &[IocKind::Md5],
        "sha1" => &[IocKind::Sha1],
        "sha256" => &[IocKind::Sha256],
        "filename" => &[IocKind::Path],
        "target-user" | "user-account" => &[IocKind::Account],
        _ => &[],
    }
}

/// The `path = 'value'` comparisons of a STIX pattern (the quoted literal unescaped).
fn comparisons(pattern: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = pattern.as_bytes();
    let mut i = 0;
    while let Some(eq) = pattern[i..].find(" = '").map(|k| k + i) {
        let start = pattern[..eq].rfind(['[', '(', ' ']).map_or(0, |k| k + 1);
        let path = pattern[start..eq].trim().to_owned();
        let mut value = String::new();
        let mut j = eq + 4;
        while j < b.len() {
            match b[j] {
                b'\\' if j + 1 < b.len() => {
                    value.push(b[j + 1] as char);
                    j += 2;
                }
                b'\'' => break,
                _ => {
                    let c = pattern[j..].chars().next().unwrap_or(' ');
                    value.push(c);
                    j += c.len_utf8();
                }
            }
        }
        out.push((path, value));
        i = j.min(pattern.len());
        if i >= pattern.len() {
            break;
        }
    }
    out
}

/// The case's indicators as CSV (`kind,value,first_seen`), a leading formula character
/// neutralised so that a spreadsheet does not run an indicator.
pub fn csv(iocs: &[(Ioc, String)]) -> String {
    let field = firewarden_model::csv_field;
    let mut out = String::from("kind,value,first_seen\n");
    for (i, seen) in iocs {
        let kind = serde_json::to_value(i.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.push_str(&format!("{},{},{}\n", kind, field(&i.value), field(seen)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ioc(kind: IocKind, v: &str) -> Ioc {
        normalize(kind, v).unwrap()
    }

    #[test]
    fn a_bundle_round_trips_through_its_patterns() {
        let iocs = vec![
            (
                ioc(IocKind::Ipv4, "203.0.113.9"),
                "2026-11-20T00:00:00Z".to_owned(),
            ),
            (
                ioc(IocKind::Url, "http://203.0.113.9/x.sh"),
                "2026-11-20T00:00:00Z".to_owned(),
            ),
            (
                ioc(IocKind::Sha256, &"ab".repeat(32)),
                "2026-11-20T00:00:00Z".to_owned(),
            ),
            (
                ioc(IocKind::Account, "o'brien"),
                "2026-11-20T00:00:00Z".to_owned(),
            ),
            (
                ioc(IocKind::Path, "/var/www/html/up.php"),
                "2026-11-20T00:00:00Z".to_owned(),
            ),
        ];
        let b = bundle("C1", "t", Tlp::Amber, &iocs);
        assert_eq!(b, bundle("C1", "t", Tlp::Amber, &iocs), "stable ids");
        let (back, problems) = parse_indicators(&b);
        assert!(problems.is_empty(), "{problems:?}");
        let mut want: Vec<Ioc> = iocs.iter().map(|(i, _)| i.clone()).collect();
        want.sort();
        assert_eq!(back, want);
        assert_eq!(
            b["objects"][1]["object_marking_refs"][0],
            "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
        );
    }

    #[test]
    fn misp_events_and_lists_come_in_and_junk_is_named() {
        let misp = json!({"Event": {"Attribute": [
            {"type": "ip-dst", "value": "198.51.100[.]7"},
            {"type": "domain", "value": "evil.example"},
            {"type": "comment", "value": "not an indicator"},
            {"type": "md5", "value": "zz"}
        ]}});
        let (iocs, problems) = parse_indicators(&misp);
        assert_eq!(iocs.len(), 2, "{iocs:?}");
        assert!(iocs.iter().any(|i| i.value == "198.51.100.7"));
        assert_eq!(problems.len(), 2, "{problems:?}");
        let list = json!([{"type": "ipv4", "value": "192.0.2.1"}]);
        assert_eq!(parse_indicators(&list).0.len(), 1);
        assert!(!parse_indicators(&json!({"x": 1})).1.is_empty());
        assert!(csv(&[(ioc(IocKind::Account, "=cmd"), "t".into())]).contains(",'=cmd,"));
    }
}
