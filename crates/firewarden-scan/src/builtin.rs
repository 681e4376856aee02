//! The built-in rule pack, written for Firewarden and compiled into the binary, so that a scan
//! on an offline host needs no download. Rules carry `severity` and `attack` metadata.

/// `(name, YARA source)` of every built-in rule file.
pub const PACK: &[(&str, &str)] = &[
    ("webshells_php", include_str!("../rules/webshells_php.yar")),
    (
        "webshells_jsp_asp",
        include_str!("../rules/webshells_jsp_asp.yar"),
    ),
    ("linux_malware", include_str!("../rules/linux_malware.yar")),
    (
        "shells_and_hacktools",
        include_str!("../rules/shells_and_hacktools.yar"),
    ),
];
