//! The clock a yearless (BSD syslog) log is dated by. Its own mtime is the first choice, but an
//! attacker can set it with `touch -d`: a week of events in a file claiming 2001 would be dated
//! 2000 and fall out of every `--since` window. So the mtime is checked against clocks it must
//! agree with, and when they disagree the latest of them dates the events (keeping them in view)
//! and a warning says which clock was used and why.

use firewarden_artifacts::syslog::{SyslogTime, YearResolver};
use firewarden_model::Timestamp;

const DAY: i64 = 86_400;
const YEAR: i64 = 365 * DAY;

/// Other clocks a log's mtime is checked against.
#[derive(Debug, Default, Clone)]
pub struct OtherClocks {
    /// The newest mtime of the log's older rotations (`auth.log.1`, `auth.log.2.gz`): a log is
    /// always written after the rotations it follows.
    pub older_rotation: Option<(String, Timestamp)>,
    /// The last login record in wtmp, for the current (not rotated) log: every login is also
    /// written to the auth log.
    pub last_login: Option<Timestamp>,
    /// The newest mtime among the other logs in the same directory.
    pub neighbours: Option<(String, Timestamp)>,
    /// The file's own inode change time, which `touch` cannot set back.
    pub ctime: Timestamp,
}

impl OtherClocks {
    /// The latest of the clocks: the newest a log's last write can plausibly be.
    pub fn latest(&self) -> Timestamp {
        [
            self.older_rotation.as_ref().map(|(_, t)| *t),
            self.last_login,
            self.neighbours.as_ref().map(|(_, t)| *t),
            Some(self.ctime),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(self.ctime)
    }
}

/// A log is written line by line, so its mtime is the time of its last line. When the last
/// line, dated by `reference`, lies more than two days before it, the mtime was set later
/// (backdated by less than a year, or the file edited) and may have pushed the lines into the
/// wrong year. Returns the reference to use instead (`latest`, when it dates the last line in
/// another year) and the warning that says so.
pub fn check_last_line(
    shown: &str,
    reference: Timestamp,
    last: SyslogTime,
    utc_offset: i64,
    latest: Timestamp,
) -> Option<(Timestamp, String)> {
    let SyslogTime::NoYear { .. } = last else {
        return None;
    };
    let dated = YearResolver::new(reference, utc_offset).resolve(last)?;
    if reference.0 - dated.0 <= 2 * DAY {
        return None;
    }
    let redated = YearResolver::new(latest, utc_offset).resolve(last)?;
    if redated.civil().year == dated.civil().year {
        return None;
    }
    Some((
        latest,
        format!(
            "{shown}: its modification time {reference} is not the time of its last line (which it would date {dated}): it may have been backdated or edited; its yearless lines are dated by {latest} instead (last line {redated})"
        ),
    ))
}

/// The reference time to date a log's yearless lines by, and a warning when its mtime was not
/// believed.
pub fn reference(
    shown: &str,
    mtime: Timestamp,
    clocks: &OtherClocks,
) -> (Timestamp, Option<String>) {
    let mut doubts: Vec<(String, Timestamp)> = Vec::new();
    if let Some((name, t)) = &clocks.older_rotation
        && t.0 > mtime.0 + DAY
    {
        doubts.push((format!("its older rotation {name} (modified {t})"), *t));
    }
    if let Some(t) = clocks.last_login
        && t.0 > mtime.0 + 2 * DAY
    {
        doubts.push((format!("the last login in wtmp ({t})"), t));
    }
    // A gap of more than a year makes the year itself ambiguous; an inode changed long after
    // the last write is what `touch -d` leaves, and neighbours written long after say the host
    // was logging all along.
    let neighbours_newer = clocks
        .neighbours
        .as_ref()
        .is_none_or(|(_, t)| t.0 > mtime.0 + YEAR);
    if clocks.ctime.0 > mtime.0 + YEAR && neighbours_newer {
        if let Some((name, t)) = &clocks.neighbours {
            doubts.push((format!("the other logs (newest {name}, modified {t})"), *t));
        }
        doubts.push((
            format!("its own inode change time ({})", clocks.ctime),
            clocks.ctime,
        ));
    }
    let Some(latest) = doubts.iter().map(|(_, t)| *t).max() else {
        return (mtime, None);
    };
    let why: Vec<String> = doubts.into_iter().map(|(w, _)| w).collect();
    (
        latest,
        Some(format!(
            "{shown}: its modification time {mtime} disagrees with {}: it may have been backdated; its yearless lines are dated by {latest} instead (check the years of its events)",
            why.join(" and ")
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_796_083_200; // 2026-12-01

    #[test]
    fn a_backdated_log_is_dated_by_the_clocks_it_should_agree_with() {
        let backdated = Timestamp(991_353_600); // 2001-06-01
        let (r, w) = reference(
            "/var/log/auth.log",
            backdated,
            &OtherClocks {
                ctime: Timestamp(NOW),
                ..Default::default()
            },
        );
        assert_eq!(r, Timestamp(NOW));
        assert!(w.unwrap().contains("backdated"));
        let (r, w) = reference(
            "/var/log/auth.log",
            backdated,
            &OtherClocks {
                older_rotation: Some(("auth.log.1".into(), Timestamp(NOW - 7 * DAY))),
                ctime: backdated,
                ..Default::default()
            },
        );
        assert_eq!(r, Timestamp(NOW - 7 * DAY));
        assert!(w.unwrap().contains("auth.log.1"));
    }

    #[test]
    fn an_old_image_whose_logs_agree_is_left_alone() {
        let old = Timestamp(NOW - 2 * YEAR);
        let clocks = OtherClocks {
            older_rotation: Some(("auth.log.1".into(), Timestamp(old.0 - 7 * DAY))),
            last_login: Some(Timestamp(old.0 - DAY)),
            neighbours: Some(("syslog".into(), Timestamp(old.0 + 3600))),
            // Extracted from an archive today: the inode is new, the mtimes are kept.
            ctime: Timestamp(NOW),
        };
        assert_eq!(reference("auth.log", old, &clocks), (old, None));
    }

    #[test]
    fn a_log_backdated_by_weeks_is_caught_by_its_last_line() {
        // mtime 2026-09-01, last line "Nov 28 03:08:00", inode changed 2026-12-01.
        let mtime = Timestamp(1_788_220_800);
        let last = SyslogTime::NoYear {
            month: 11,
            day: 28,
            secs: 3 * 3600 + 8 * 60,
        };
        let (r, w) = check_last_line("auth.log", mtime, last, 0, Timestamp(NOW)).unwrap();
        assert_eq!(r, Timestamp(NOW));
        assert!(w.contains("backdated"));
        // An honest log: its last line is its mtime.
        let honest = Timestamp(1_795_835_280); // 2026-11-28T03:08:00Z
        assert_eq!(
            check_last_line("auth.log", honest, last, 0, Timestamp(NOW)),
            None
        );
    }

    proptest! {
        /// Whatever mtime an attacker sets, the reference is never earlier than a clock the log
        /// must be at least as new as, so events cannot be pushed back a year by it.
        #[test]
        fn the_reference_never_falls_behind_a_trusted_clock(
            mtime in 0i64..NOW,
            rotation in proptest::option::of(0i64..NOW),
            login in proptest::option::of(0i64..NOW),
        ) {
            let clocks = OtherClocks {
                older_rotation: rotation.map(|t| ("auth.log.1".to_owned(), Timestamp(t))),
                last_login: login.map(Timestamp),
                neighbours: None,
                ctime: Timestamp(NOW),
            };
            let (r, warning) = reference("auth.log", Timestamp(mtime), &clocks);
            prop_assert!(r.0 >= mtime);
            for t in [rotation, login].into_iter().flatten() {
                prop_assert!(r.0 + 2 * DAY >= t, "{} behind {}", r.0, t);
            }
            prop_assert!(r.0 + YEAR >= NOW);
            prop_assert_eq!(warning.is_some(), r.0 != mtime);
        }
    }
}
