//! Time-zone files (`/etc/localtime`, TZif v1–v4): the host's UTC offset at a given instant, so
//! BSD syslog times (local, without zone) become UTC.

/// UTC offset in seconds (east positive) in force at `at` (Unix seconds), or `None` when the
/// data is not a valid TZif file.
pub fn offset_at(data: &[u8], at: i64) -> Option<i64> {
    let (block, wide) = match data.get(4)? {
        b'2' | b'3' | b'4' => {
            let v1_len = block_len(data.get(..44)?, false)?;
            (data.get(44 + v1_len..)?, true)
        }
        _ => (data, false),
    };
    if !block.starts_with(b"TZif") {
        return None;
    }
    let count = |i: usize| -> Option<usize> {
        let b = block.get(20 + 4 * i..24 + 4 * i)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let (timecnt, typecnt) = (count(3)?, count(4)?);
    let tsize = if wide { 8 } else { 4 };
    let times = block.get(44..44 + timecnt * tsize)?;
    let idx = block.get(44 + timecnt * tsize..44 + timecnt * (tsize + 1))?;
    let types = block.get(44 + timecnt * (tsize + 1)..44 + timecnt * (tsize + 1) + typecnt * 6)?;
    if typecnt == 0 {
        return None;
    }
    let mut current = 0usize;
    for (i, t) in times.chunks_exact(tsize).enumerate() {
        let when = if wide {
            i64::from_be_bytes(t.try_into().ok()?)
        } else {
            i64::from(i32::from_be_bytes(t.try_into().ok()?))
        };
        if when > at {
            break;
        }
        current = usize::from(idx[i]);
    }
    let ty = types.get(current * 6..current * 6 + 4)?;
    Some(i64::from(i32::from_be_bytes(ty.try_into().ok()?)))
}

/// An offset in seconds east of UTC as ISO 8601 writes it: `+08:00`, `-03:30`, `+05:45`.
pub fn offset_text(seconds: i64) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

fn block_len(header: &[u8], wide: bool) -> Option<usize> {
    let c =
        |i: usize| u32::from_be_bytes(header[20 + 4 * i..24 + 4 * i].try_into().unwrap()) as usize;
    let (isut, isstd, leap, time, typ, chr) = (c(0), c(1), c(2), c(3), c(4), c(5));
    let t = if wide { 8 } else { 4 };
    Some(44 + time * t + time + typ * 6 + chr + leap * (t + 4) + isstd + isut - 44)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn system_zones_if_present() {
        let Ok(berlin) = std::fs::read("/usr/share/zoneinfo/Europe/Berlin") else {
            eprintln!("skipping: no zoneinfo on this machine");
            return;
        };
        assert_eq!(offset_at(&berlin, 1_700_000_000), Some(3600)); // November: CET
        assert_eq!(offset_at(&berlin, 1_690_000_000), Some(7200)); // July: CEST
        if let Ok(utc) = std::fs::read("/usr/share/zoneinfo/UTC") {
            assert_eq!(offset_at(&utc, 1_700_000_000), Some(0));
        }
    }

    #[test]
    fn offsets_as_text() {
        assert_eq!(offset_text(28_800), "+08:00");
        assert_eq!(offset_text(0), "+00:00");
        assert_eq!(offset_text(-12_600), "-03:30");
        assert_eq!(offset_text(20_700), "+05:45");
    }

    proptest! {
        #[test]
        fn never_panics(mut data in proptest::collection::vec(any::<u8>(), 0..300), v in 0u8..5) {
            if data.len() > 5 { data[0..4].copy_from_slice(b"TZif"); data[4] = b'0' + v; }
            let _ = offset_at(&data, 0);
        }
    }
}
