//! UTC timestamps without a calendar dependency.
//!
//! Everything Firewarden records is in UTC seconds since the Unix epoch; it is shown and
//! serialised as RFC 3339 (`2026-11-22T16:03:54Z`) so that reports sort as text and read the same
//! in every time zone.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in time, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// Civil date and time in UTC, as broken down from a [`Timestamp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year, e.g. 2026.
    pub year: i64,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day of month, 1 to 31.
    pub day: u32,
    /// Hour, 0 to 23.
    pub hour: u32,
    /// Minute, 0 to 59.
    pub minute: u32,
    /// Second, 0 to 60.
    pub second: u32,
}

// Howard Hinnant's days-from-civil and its inverse: exact for the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl Timestamp {
    /// The current time of the machine running Firewarden.
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Timestamp(secs)
    }

    /// Builds a timestamp from a UTC civil date and time; `None` when a field is out of range.
    pub fn from_civil(c: Civil) -> Option<Self> {
        if !(1..=12).contains(&c.month)
            || !(1..=31).contains(&c.day)
            || c.hour > 23
            || c.minute > 59
            || c.second > 60
        {
            return None;
        }
        let days = days_from_civil(c.year, c.month, c.day);
        Some(Timestamp(
            days * 86_400
                + i64::from(c.hour) * 3600
                + i64::from(c.minute) * 60
                + i64::from(c.second),
        ))
    }

    /// Breaks the timestamp down into a UTC civil date and time.
    pub fn civil(self) -> Civil {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (secs / 3600) as u32,
            minute: (secs % 3600 / 60) as u32,
            second: (secs % 60) as u32,
        }
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS` (space also accepted) with an optional `Z` or
    /// `±HH:MM` offset; fractional seconds are dropped. Times without an offset are UTC.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let b = t.as_bytes();
        let num = |s: &str| s.parse::<u32>().ok();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year: i64 = t.get(0..4)?.parse().ok()?;
        let month = num(t.get(5..7)?)?;
        let day = num(t.get(8..10)?)?;
        let (mut hour, mut minute, mut second, mut offset) = (0, 0, 0, 0i64);
        if b.len() > 10 {
            if !(b[10] == b'T' || b[10] == b' ') || b.len() < 19 {
                return None;
            }
            hour = num(t.get(11..13)?)?;
            minute = num(t.get(14..16)?)?;
            second = num(t.get(17..19)?)?;
            let mut rest = &t[19..];
            if let Some(frac) = rest.strip_prefix('.') {
                let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
                rest = &frac[digits..];
            }
            match rest {
                "" | "Z" | "z" => {}
                _ => {
                    let sign = match rest.as_bytes()[0] {
                        b'+' => 1,
                        b'-' => -1,
                        _ => return None,
                    };
                    let oh = i64::from(num(rest.get(1..3)?)?);
                    let om = i64::from(num(rest.get(4..6).or_else(|| rest.get(3..5))?)?);
                    offset = sign * (oh * 3600 + om * 60);
                }
            }
        }
        let base = Timestamp::from_civil(Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })?;
        Some(Timestamp(base.0 - offset))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.civil();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {text}")))
    }
}

/// Formats a duration in seconds the way a responder says it: `3d 4h`, `2h 5m`, `40s`.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants_format() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(1_700_000_000).to_string(), "2023-11-14T22:13:20Z");
        assert_eq!(Timestamp(951_782_400).to_string(), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn parses_offsets_and_fractions() {
        assert_eq!(
            Timestamp::parse("2023-11-14T22:13:20Z"),
            Some(Timestamp(1_700_000_000))
        );
        assert_eq!(
            Timestamp::parse("2023-11-15T00:13:20.123+02:00"),
            Some(Timestamp(1_700_000_000))
        );
        assert_eq!(
            Timestamp::parse("2023-11-14"),
            Some(Timestamp(1_699_920_000))
        );
        assert_eq!(Timestamp::parse("2023-13-14"), None);
        assert_eq!(Timestamp::parse("garbage"), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(40), "40s");
        assert_eq!(human_duration(3 * 86_400 + 4 * 3600 + 5), "3d 4h");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(secs in -62_000_000_000i64..250_000_000_000i64) {
            let t = Timestamp(secs);
            if t.civil().year >= 0 && t.civil().year <= 9999 {
                prop_assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
            }
        }

        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            let _ = Timestamp::parse(&s);
        }
    }
}
