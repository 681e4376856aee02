//! Streaming line reader for attacker-controlled text: bounded line length, any bytes.

use std::io::{self, BufRead};

/// Longest line kept; the rest of a longer line is skipped (and counted) so a log made of one
/// gigabyte-long line cannot exhaust memory.
pub const MAX_LINE: usize = 64 * 1024;

/// Reads lines as raw bytes, without the trailing `\n` / `\r\n`.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    line_no: u64,
    /// Lines that were longer than [`MAX_LINE`] and were cut.
    pub overlong: u64,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps a buffered reader.
    pub fn new(inner: R) -> Self {
        LineReader {
            inner,
            buf: Vec::with_capacity(512),
            line_no: 0,
            overlong: 0,
        }
    }

    /// The next line and its 1-based number, or `None` at the end.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, &[u8])>> {
        self.buf.clear();
        let mut cut = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if self.buf.is_empty() && !cut {
                    return Ok(None);
                }
                break;
            }
            let (chunk, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            let room = MAX_LINE.saturating_sub(self.buf.len());
            if chunk.len() > room {
                cut = true;
            }
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            let used = done.unwrap_or(available.len());
            self.inner.consume(used);
            if done.is_some() {
                break;
            }
        }
        if cut {
            self.overlong += 1;
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        self.line_no += 1;
        Ok(Some((self.line_no, &self.buf)))
    }
}

/// True when a line looks like binary junk rather than text (NULs or mostly non-printable).
pub fn is_binary(line: &[u8]) -> bool {
    // One branch-free pass (it vectorises): this runs on every line of every log.
    let (mut nul, mut odd) = (0u32, 0u32);
    for &b in line {
        nul += u32::from(b == 0);
        odd += u32::from((b < 0x09) | ((b > 0x0d) & (b < 0x20)) | (b == 0x7f));
    }
    nul > 0 || odd as usize * 10 > line.len().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_lines_and_strips_crlf() {
        let mut r = LineReader::new(&b"a\r\nb\nc"[..]);
        assert_eq!(r.next_line().unwrap(), Some((1, &b"a"[..])));
        assert_eq!(r.next_line().unwrap(), Some((2, &b"b"[..])));
        assert_eq!(r.next_line().unwrap(), Some((3, &b"c"[..])));
        assert_eq!(r.next_line().unwrap(), None);
    }

    #[test]
    fn binary_detection() {
        assert!(is_binary(b"abc\0def"));
        assert!(is_binary(b"\x01\x02\x03ab"));
        assert!(!is_binary(
            b"Nov 20 10:00:00 host sshd[1]: Failed password\tx"
        ));
        assert!(!is_binary(b""));
    }

    #[test]
    fn overlong_lines_are_cut_not_buffered() {
        let mut data = vec![b'x'; MAX_LINE * 3];
        data.extend_from_slice(b"\nnext\n");
        let mut r = LineReader::new(std::io::BufReader::with_capacity(1000, &data[..]));
        assert_eq!(r.next_line().unwrap().unwrap().1.len(), MAX_LINE);
        assert_eq!(r.next_line().unwrap().unwrap().1, b"next");
        assert_eq!(r.overlong, 1);
    }

    proptest! {
        #[test]
        fn line_count_matches_newlines(data in proptest::collection::vec(any::<u8>(), 0..4000)) {
            let mut r = LineReader::new(std::io::BufReader::with_capacity(7, &data[..]));
            let mut n = 0u64;
            while let Some((no, _)) = r.next_line().unwrap() { n += 1; prop_assert_eq!(no, n); }
            let newlines = data.iter().filter(|b| **b == b'\n').count() as u64;
            let tail = u64::from(!data.is_empty() && *data.last().unwrap() != b'\n');
            prop_assert_eq!(n, newlines + tail);
        }
    }
}
