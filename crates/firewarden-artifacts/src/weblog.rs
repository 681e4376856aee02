//! Web server access logs in the common and combined formats (nginx, Apache, Tomcat's
//! AccessLogValve default):
//! `IP IDENT USER [DD/Mon/YYYY:HH:MM:SS +ZZZZ] "METHOD TARGET PROTO" STATUS BYTES ["REFERER" "UA"]`.
//! Lines that do not parse are counted, never fatal.

use firewarden_model::{Civil, Timestamp};

/// One request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Client address as logged.
    pub ip: String,
    /// When, in UTC (the logged zone offset applied); `None` when the bracketed time could
    /// not be read (an edited line keeps its request, with its time unknown).
    pub time: Option<Timestamp>,
    /// `GET`, `POST`, … (empty for a malformed request line).
    pub method: String,
    /// The request target: path and query, as sent (percent-encoding kept).
    pub target: String,
    /// HTTP status.
    pub status: u16,
    /// Response bytes (`-` is 0).
    pub bytes: u64,
    /// Referer, when the format has it.
    pub referer: String,
    /// User agent, when the format has it.
    pub user_agent: String,
}

impl Request {
    /// The time for a sentence: RFC 3339, or `time unknown`.
    pub fn when(&self) -> String {
        self.time
            .map_or_else(|| "time unknown".to_owned(), |t| t.to_string())
    }

    /// The path part of the target, without query string or `;jsessionid` parameters.
    pub fn path(&self) -> &str {
        let end = self
            .target
            .find(['?', ';', '#'])
            .unwrap_or(self.target.len());
        &self.target[..end]
    }
}

/// Parses one access-log line.
pub fn parse_line(line: &[u8]) -> Option<Request> {
    // Attackers send raw bytes; keep what is text, so one odd byte does not lose the request.
    let line = String::from_utf8_lossy(line);
    let line = line.as_ref();
    let (ip, rest) = line.split_once(' ')?;
    let open = rest.find('[')?;
    let close = open + rest[open..].find(']')?;
    let time = parse_time(&rest[open + 1..close]);
    let rest = rest[close + 1..].trim_start();
    let rest = rest.strip_prefix('"')?;
    let (request, rest) = split_quoted(rest)?;
    let mut parts = request.splitn(3, ' ');
    let (method, target) = match (parts.next(), parts.next()) {
        (Some(m), Some(t)) => (m.to_string(), t.to_string()),
        (Some(raw), None) => (String::new(), raw.to_string()),
        _ => (String::new(), String::new()),
    };
    let mut fields = rest.trim_start().splitn(3, ' ');
    let status: u16 = fields.next()?.parse().ok()?;
    let bytes = fields.next().map(|b| b.parse().unwrap_or(0)).unwrap_or(0);
    let mut referer = String::new();
    let mut user_agent = String::new();
    if let Some(tail) = fields.next().map(str::trim_start)
        && let Some(r) = tail.strip_prefix('"')
        && let Some((re, after)) = split_quoted(r)
    {
        referer = re.to_string();
        if let Some(u) = after.trim_start().strip_prefix('"')
            && let Some((ua, _)) = split_quoted(u)
        {
            user_agent = ua.to_string();
        }
    }
    Some(Request {
        ip: ip.to_string(),
        time,
        method,
        target,
        status,
        bytes,
        referer,
        user_agent,
    })
}

/// The text up to the closing quote (a `\"` inside is kept), and what follows it.
fn split_quoted(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some((&s[..i], &s[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

/// `10/Oct/2000:13:55:36 -0700` to UTC.
pub fn parse_time(s: &str) -> Option<Timestamp> {
    let (dt, zone) = s.split_once(' ').unwrap_or((s, "+0000"));
    let mut it = dt.splitn(4, [':', '/']);
    let day: u32 = it.next()?.parse().ok()?;
    let month = crate::syslog::month_number(it.next()?.as_bytes().try_into().ok()?)?;
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.splitn(3, ':');
    let hour: u32 = hms.next()?.parse().ok()?;
    let minute: u32 = hms.next()?.parse().ok()?;
    let second: u32 = hms.next()?.parse().ok()?;
    let t = Timestamp::from_civil(Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })?;
    let z = zone.trim();
    if z.len() != 5 || !z.is_ascii() {
        return Some(t);
    }
    let sign = if z.starts_with('-') { -1 } else { 1 };
    let hh: i64 = z[1..3].parse().ok()?;
    let mm: i64 = z[3..5].parse().ok()?;
    Some(Timestamp(t.0 - sign * (hh * 3600 + mm * 60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_and_common_lines_parse() {
        let r = parse_line(br#"203.0.113.5 - - [20/Nov/2026:03:10:02 +0800] "POST /up/x.php?a=1 HTTP/1.1" 200 1532 "-" "Mozilla/5.0 (compatible; \"q\")""#).unwrap();
        assert_eq!(r.ip, "203.0.113.5");
        assert_eq!(r.time, Timestamp::parse("2026-11-19T19:10:02Z"));
        assert_eq!(
            (r.method.as_str(), r.path(), r.status, r.bytes),
            ("POST", "/up/x.php", 200, 1532)
        );
        assert_eq!(r.user_agent, "Mozilla/5.0 (compatible; \\\"q\\\")");
        let c = parse_line(b"192.168.105.76 - - [11/Jul/2018:14:51:53 +0300] \"GET /error/cmd.jsp HTTP/1.1\" 200 48").unwrap();
        assert_eq!(c.time, Timestamp::parse("2018-07-11T11:51:53Z"));
        assert_eq!(c.bytes, 48);
        let dash = parse_line(
            b"10.0.0.1 - - [11/Jul/2018:08:41:28 +0300] \"GET /manager HTTP/1.1\" 302 -",
        )
        .unwrap();
        assert_eq!(dash.bytes, 0);
        assert!(parse_line(b"[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok").is_none());
        assert!(parse_line(b"garbage \xff\xfe").is_none());
        // A zone of five bytes that are not five characters must not split a character.
        assert!(
            parse_line(
                "1.2.3.4 - - [11/Jul/2018:08:41:28 +\u{20ac}0] \"GET / HTTP/1.1\" 200 1".as_bytes()
            )
            .is_some()
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(line in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse_line(&line);
        }

        #[test]
        fn never_panics_on_near_lines(s in "[0-9.]{1,15} - - \\[[0-9]{1,2}/(Jan|Feb|Xyz)/[0-9]{1,4}:[0-9:]{1,8} [+-][0-9€é]{0,5}\\] \"[A-Z]{0,6} [/a-z?;=\"\\\\]{0,20} HTTP/1.1\" [0-9-]{0,4} [0-9-]{0,6}( \"[^\"]{0,10}\" \"[^\"]{0,10}\")?") {
            let _ = parse_line(s.as_bytes());
        }
    }

    /// An edited or garbage time keeps the request, with its time unknown.
    #[test]
    fn a_request_with_an_unreadable_time_is_kept() {
        let r = parse_line(br#"203.0.113.5 - - [99/Foo/2026:99:99:99 +0000] "POST /up/x.php HTTP/1.1" 200 12 "-" "curl""#).unwrap();
        assert_eq!(r.time, None);
        assert_eq!(r.when(), "time unknown");
        assert_eq!(r.path(), "/up/x.php");
    }
}
