//! Syslog line headers: BSD (`Dec 10 06:55:46 host prog[pid]: msg`) and RFC 3339
//! (`2026-11-22T10:00:00.123+00:00 host prog[pid]: msg`).

use firewarden_model::{Civil, Timestamp};

/// Time as written in a syslog line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogTime {
    /// A complete UTC instant (RFC 3339 header).
    Full(Timestamp),
    /// BSD header without a year or zone: month, day, hour, minute, second.
    NoYear {
        /// Month 1–12.
        month: u32,
        /// Day of month.
        day: u32,
        /// Seconds since midnight.
        secs: u32,
    },
}

/// A parsed syslog line, borrowing from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogLine<'a> {
    /// Time of the line.
    pub time: SyslogTime,
    /// Host name field.
    pub host: &'a str,
    /// Program (tag) without the pid, e.g. `sshd` or `sshd(pam_unix)`.
    pub program: &'a str,
    /// Process id as written, when given (parse it with [`SyslogLine::pid`]).
    pub pid_text: Option<&'a str>,
    /// The message after `: `.
    pub message: &'a str,
}

/// `Jan` … `Dec` to 1 … 12 (the English abbreviations syslog and access logs write).
pub fn month_number(m: [u8; 3]) -> Option<u32> {
    // A match on the three bytes compiles to a few comparisons: this runs on every log line.
    Some(match &m {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

fn two_digits(b: &[u8]) -> Option<u32> {
    match b {
        [a, c] if a.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u32::from(a - b'0') * 10 + u32::from(c - b'0'))
        }
        _ => None,
    }
}

impl SyslogLine<'_> {
    /// The process id, when the tag has a numeric one (parsed on demand: most callers skip it).
    pub fn pid(&self) -> Option<u32> {
        self.pid_text?.parse().ok()
    }
}

/// Parses a line whose time header is unreadable (a garbage or edited date, an unknown
/// format) but which still carries a `program[pid]: message` tag in its first 256 bytes, so
/// that its event is kept with an unknown time rather than lost. Returns the tag's parts; the
/// host is what stands before the tag, when anything does.
pub fn parse_untimed(line: &str) -> Option<(&str, &str)> {
    let head = &line.as_bytes()[..line.len().min(256)];
    let close = memchr::memmem::find(head, b"]: ")?;
    let open = memchr::memrchr(b'[', &head[..close])?;
    let start = memchr::memrchr(b' ', &head[..open]).map_or(0, |i| i + 1);
    let program = line.get(start..open)?;
    if program.is_empty()
        || !line
            .get(open + 1..close)?
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some((program, line.get(close + 3..).unwrap_or("")))
}

/// Parses a syslog line; `None` when the header is not recognised.
pub fn parse(line: &str) -> Option<SyslogLine<'_>> {
    let b = line.as_bytes();
    let (time, rest) =
        if b.len() > 16 && b[3] == b' ' && b[6] == b' ' && b[9] == b':' && b[12] == b':' {
            let month = month_number([b[0], b[1], b[2]])?;
            let day_txt = line.get(4..6)?.trim_start();
            let day: u32 = day_txt.parse().ok()?;
            let h = two_digits(&b[7..9])?;
            let m = two_digits(&b[10..12])?;
            let s = two_digits(&b[13..15])?;
            if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
                return None;
            }
            (
                SyslogTime::NoYear {
                    month,
                    day,
                    secs: h * 3600 + m * 60 + s,
                },
                line.get(16..)?,
            )
        } else if b.len() > 20 && b[4] == b'-' && b[10] == b'T' {
            let end = line.find(' ')?;
            (
                SyslogTime::Full(Timestamp::parse(&line[..end])?),
                &line[end + 1..],
            )
        } else {
            return None;
        };
    let space = memchr::memchr(b' ', rest.as_bytes())?;
    let (host, rest) = (&rest[..space], &rest[space + 1..]);
    // The tag ends at the first ": " (memchr on ':' is far cheaper than a substring search).
    let bytes = rest.as_bytes();
    let colon = memchr::memchr_iter(b':', bytes)
        .find(|&i| bytes.get(i + 1) == Some(&b' '))
        .or_else(|| rest.strip_suffix(':').map(|r| r.len()))?;
    let tag = &rest[..colon];
    let message = rest.get(colon + 2..).unwrap_or("");
    let (program, pid) = match tag.rfind('[') {
        Some(open) if tag.ends_with(']') => (&tag[..open], Some(&tag[open + 1..tag.len() - 1])),
        _ => (tag, None),
    };
    if program.is_empty() || program.contains(' ') {
        return None;
    }
    Some(SyslogLine {
        time,
        host,
        program,
        pid_text: pid,
        message,
    })
}

/// Gives BSD syslog times a year. Logs carry no year, so the year is taken from a reference time
/// (the file's modification time): a date later than the reference belongs to the year before.
/// Times without a zone are taken as UTC minus `utc_offset` seconds of the host's zone.
#[derive(Debug, Clone, Copy)]
pub struct YearResolver {
    reference: Timestamp,
    /// Offset of the host's local time from UTC, in seconds (east positive).
    pub utc_offset: i64,
    // Logs are in date order: the start of the last day resolved is cached.
    last_day: Option<((u32, u32), i64)>,
}

impl YearResolver {
    /// Resolves years relative to `reference`.
    pub fn new(reference: Timestamp, utc_offset: i64) -> Self {
        YearResolver {
            reference,
            utc_offset,
            last_day: None,
        }
    }

    /// The UTC instant of a syslog time.
    pub fn resolve(&mut self, t: SyslogTime) -> Option<Timestamp> {
        match t {
            SyslogTime::Full(ts) => Some(ts),
            SyslogTime::NoYear { month, day, secs } => {
                if let Some(((m, d), start)) = self.last_day
                    && (m, d) == (month, day)
                {
                    return Some(Timestamp(start + i64::from(secs)));
                }
                let start = self.resolve_slow(month, day, 0)?;
                self.last_day = Some(((month, day), start.0));
                Some(Timestamp(start.0 + i64::from(secs)))
            }
        }
    }

    fn resolve_slow(&self, month: u32, day: u32, secs: u32) -> Option<Timestamp> {
        {
            {
                let year = self.reference.civil().year;
                let at = |year| {
                    Timestamp::from_civil(Civil {
                        year,
                        month,
                        day,
                        hour: secs / 3600,
                        minute: secs % 3600 / 60,
                        second: secs % 60,
                    })
                    .map(|t| Timestamp(t.0 - self.utc_offset))
                };
                let this_year = at(year)?;
                // Two days of slack for clock skew and zone differences.
                if this_year.0 > self.reference.0 + 2 * 86_400 {
                    at(year - 1)
                } else {
                    Some(this_year)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bsd_header() {
        let l =
            parse("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186")
                .unwrap();
        assert_eq!(l.host, "LabSZ");
        assert_eq!(l.program, "sshd");
        assert_eq!(l.pid(), Some(24200));
        assert_eq!(l.message, "Invalid user webmaster from 173.234.31.186");
        assert_eq!(
            l.time,
            SyslogTime::NoYear {
                month: 12,
                day: 10,
                secs: 6 * 3600 + 55 * 60 + 46
            }
        );
    }

    #[test]
    fn space_padded_day_and_pam_tag() {
        let l = parse(
            "Jun  4 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; rhost=1.2.3.4",
        )
        .unwrap();
        assert_eq!(l.program, "sshd(pam_unix)");
        assert_eq!(
            l.time,
            SyslogTime::NoYear {
                month: 6,
                day: 4,
                secs: 15 * 3600 + 16 * 60 + 1
            }
        );
    }

    #[test]
    fn rfc3339_header() {
        let l = parse("2026-11-20T10:00:00.123456+01:00 web01 sshd[1]: Accepted password for a from 1.2.3.4 port 1 ssh2").unwrap();
        assert_eq!(
            l.time,
            SyslogTime::Full(Timestamp::parse("2026-11-20T09:00:00Z").unwrap())
        );
    }

    #[test]
    fn year_is_inferred_from_reference() {
        let mut r = YearResolver::new(Timestamp::parse("2026-01-05T00:00:00Z").unwrap(), 0);
        let dec = r
            .resolve(SyslogTime::NoYear {
                month: 12,
                day: 30,
                secs: 0,
            })
            .unwrap();
        assert_eq!(dec.to_string(), "2025-12-30T00:00:00Z");
        let jan = r
            .resolve(SyslogTime::NoYear {
                month: 1,
                day: 4,
                secs: 0,
            })
            .unwrap();
        assert_eq!(jan.to_string(), "2026-01-04T00:00:00Z");
    }

    #[test]
    fn junk_is_rejected() {
        for s in [
            "",
            "garbage",
            "Dec 10 06:55:46",
            "Xyz 10 06:55:46 h p: m",
            "Dec 99 06:55:46 h p: m",
        ] {
            assert!(parse(s).is_none(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") { let _ = parse(&s); }
        #[test]
        fn never_panics_on_near_misses(s in "(Dec|Jan) [ 0-9]{2} [0-9:]{8} [a-z]{0,4} [a-z\\[\\]0-9():]{0,12} ?.{0,20}") { let _ = parse(&s); }
    }

    #[test]
    fn untimed_lines_keep_their_tag() {
        assert_eq!(
            parse_untimed(
                "Nov 99 99:99:99 web01 sshd[811]: Failed password for root from 203.0.113.66 port 1 ssh2"
            ),
            Some((
                "sshd",
                "Failed password for root from 203.0.113.66 port 1 ssh2"
            ))
        );
        assert_eq!(parse_untimed("garbage sshd[x]: y"), None);
        assert_eq!(parse_untimed("no tag here"), None);
    }
}
