//! A streaming UTF-16 → UTF-8 reader, for JSON exports that Windows PowerShell writes in UTF-16
//! by default. Bounded memory whatever the file's size; unpaired surrogates become U+FFFD.

use std::io::Read;

/// Reads UTF-16 text (after an optional byte-order mark, which is dropped) as UTF-8.
pub struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    /// Raw bytes not yet decoded (an odd byte, a high surrogate waiting for its pair).
    raw: Vec<u8>,
    /// Decoded UTF-8 not yet handed out.
    out: Vec<u8>,
    pos: usize,
    started: bool,
    eof: bool,
}

impl<R: Read> Utf16Reader<R> {
    /// Wraps `inner`, read from its start.
    pub fn new(inner: R, big_endian: bool) -> Self {
        Utf16Reader {
            inner,
            big_endian,
            raw: Vec::new(),
            out: Vec::new(),
            pos: 0,
            started: false,
            eof: false,
        }
    }

    fn fill(&mut self) -> std::io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() && !self.eof {
            let mut buf = [0u8; 64 << 10];
            let n = match self.inner.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.eof = n == 0;
            self.raw.extend_from_slice(&buf[..n]);
            let mut units: Vec<u16> = self
                .raw
                .chunks_exact(2)
                .map(|p| {
                    if self.big_endian {
                        u16::from_be_bytes([p[0], p[1]])
                    } else {
                        u16::from_le_bytes([p[0], p[1]])
                    }
                })
                .collect();
            let mut keep = self.raw.len() % 2;
            // A high surrogate at the end may be completed by the next read.
            if !self.eof && units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
                units.pop();
                keep += 2;
            }
            let mut skip = 0;
            if !self.started && units.first() == Some(&0xFEFF) {
                skip = 1;
            }
            if !units.is_empty() {
                self.started = true;
            }
            let text: String = char::decode_utf16(units.into_iter().skip(skip))
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            self.out.extend_from_slice(text.as_bytes());
            let drained = self.raw.len() - keep;
            self.raw.drain(..drained);
            if self.eof && !self.raw.is_empty() {
                // An odd trailing byte.
                self.out.extend_from_slice("\u{FFFD}".as_bytes());
                self.raw.clear();
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.out.len() {
            self.fill()?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut units: Vec<u16> = Vec::new();
        if bom {
            units.push(0xFEFF);
        }
        units.extend(text.encode_utf16());
        units
            .into_iter()
            .flat_map(|u| {
                if big_endian {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                }
            })
            .collect()
    }

    /// Hands out its bytes a few at a time, to split surrogate pairs across reads.
    struct Dribble(Vec<u8>, usize, usize);
    impl Read for Dribble {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.2).min(self.0.len() - self.1);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    proptest! {
        #[test]
        fn decodes_what_was_encoded(text in any::<String>(), be in any::<bool>(), bom in any::<bool>(), step in 1usize..7) {
            prop_assume!(bom || !text.starts_with('\u{feff}'));
            let mut out = String::new();
            Utf16Reader::new(Dribble(encode(&text, be, bom), 0, step), be).read_to_string(&mut out).unwrap();
            prop_assert_eq!(out, text);
        }

        #[test]
        fn any_bytes_give_valid_utf8(data in prop::collection::vec(any::<u8>(), 0..300)) {
            let mut out = String::new();
            prop_assert!(Utf16Reader::new(&data[..], false).read_to_string(&mut out).is_ok());
        }
    }
}
