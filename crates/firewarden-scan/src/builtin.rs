//! The built-in rule pack, written for Firewarden and compiled into the binary, so that a scan
//! on an offline host needs no download. Rules carry `severity` and `attack` metadata.
//!
//! The rule text is stored XOR-masked: a binary holding signature strings in clear would be
//! flagged by every scanner (ours included) that looks at it.

const MASK: u8 = 0x5a;

const fn mask<const N: usize>(text: &[u8; N]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = text[i] ^ MASK;
        i += 1;
    }
    out
}

const WEBSHELLS_PHP: [u8; include_bytes!("../rules/webshells_php.yar").len()] =
    mask(include_bytes!("../rules/webshells_php.yar"));
const WEBSHELLS_JSP_ASP: [u8; include_bytes!("../rules/webshells_jsp_asp.yar").len()] =
    mask(include_bytes!("../rules/webshells_jsp_asp.yar"));
const LINUX_MALWARE: [u8; include_bytes!("../rules/linux_malware.yar").len()] =
    mask(include_bytes!("../rules/linux_malware.yar"));
const SHELLS_AND_HACKTOOLS: [u8; include_bytes!("../rules/shells_and_hacktools.yar").len()] =
    mask(include_bytes!("../rules/shells_and_hacktools.yar"));

const PACK: &[(&str, &[u8])] = &[
    ("webshells_php", &WEBSHELLS_PHP),
    ("webshells_jsp_asp", &WEBSHELLS_JSP_ASP),
    ("linux_malware", &LINUX_MALWARE),
    ("shells_and_hacktools", &SHELLS_AND_HACKTOOLS),
];

/// `(name, YARA source)` of every built-in rule file.
pub fn pack() -> Vec<(&'static str, String)> {
    PACK.iter()
        .map(|(name, masked)| {
            (
                *name,
                String::from_utf8_lossy(&masked.iter().map(|b| b ^ MASK).collect::<Vec<u8>>())
                    .into_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn unmasking_gives_the_rule_files_back() {
        let p = super::pack();
        assert_eq!(p[0].1, include_str!("../rules/webshells_php.yar"));
        assert_eq!(p.len(), 4);
    }
}
