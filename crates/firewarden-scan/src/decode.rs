//! The decoders the script checks share: base64, hex and deflate, each bounded, none of
//! them trusting its input.

use std::io::Read;

/// Base64, standard or URL-safe, padding optional. `strict` refuses any other character (a
/// run that only looks like base64); otherwise they are skipped, as PHP's `base64_decode`
/// does. A leading `=` decodes to nothing; `None` only when `strict` refuses.
pub(crate) fn base64(run: &[u8], strict: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(run.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in run {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ if strict => return None,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Pairs of hex digits, either case; `None` on an odd length or any other character.
pub(crate) fn hex(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| char::from(c).to_digit(16);
    s.chunks(2)
        .map(|p| Some((digit(p[0])? * 16 + digit(p[1])?) as u8))
        .collect()
}

/// Raw deflate (PHP's `gzinflate`) or zlib (`gzuncompress`): the first `limit` bytes out, the
/// rest never inflated (a small bomb expands a thousandfold). `None` when the stream is
/// corrupt before that.
pub(crate) fn inflate(b: &[u8], zlib: bool, limit: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let cap = limit as u64;
    let read = if zlib {
        flate2::read::ZlibDecoder::new(b)
            .take(cap)
            .read_to_end(&mut out)
    } else {
        flate2::read::DeflateDecoder::new(b)
            .take(cap)
            .read_to_end(&mut out)
    };
    read.is_ok().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders_refuse_what_they_should() {
        assert_eq!(base64(b"ZXZhbA==", true).as_deref(), Some(&b"eval"[..]));
        assert_eq!(base64(b"ZX Zh\nbA", false).as_deref(), Some(&b"eval"[..]));
        assert_eq!(base64(b"ZX Zh", true), None);
        assert_eq!(base64(b"=ZXZh", true).as_deref(), Some(&b""[..]));
        assert_eq!(hex(b"6576616C").as_deref(), Some(&b"eval"[..]));
        // from_str_radix would take "+a" as a number.
        assert_eq!(hex(b"+a"), None);
        assert_eq!(hex(b"abc"), None);
        assert_eq!(inflate(b"not deflate at all", false, 100), None);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut z, &[b'a'; 1000]).unwrap();
        let z = z.finish().unwrap();
        assert_eq!(inflate(&z, true, 1000).map(|v| v.len()), Some(1000));
        assert_eq!(inflate(&z, true, 999).map(|v| v.len()), Some(999));
        assert_eq!(inflate(&z, false, 1000), None);
    }
}
