//! Detection on our own samples (tests/samples: webshells, reverse shells, miners, a rootkit,
//! tampered pages), and the engine's behaviour on hostile trees.

use firewarden_model::Severity;
use firewarden_scan::{Engine, ScanOptions};
use firewarden_source::FsSource;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples")
}

#[test]
fn every_own_sample_is_flagged_high_or_worse() {
    let engine = Engine::new(ScanOptions::default(), &[], None).unwrap();
    assert!(
        engine.rule_errors().is_empty(),
        "{:?}",
        engine.rule_errors()
    );
    let src = FsSource::root(samples()).unwrap();
    let out = engine.scan(&src, &[PathBuf::from("/")], &|_| {});
    let mut best: BTreeMap<String, Severity> = BTreeMap::new();
    for f in &out.findings {
        let p = f.evidence[0].path.clone().unwrap();
        let e = best.entry(p).or_insert(Severity::Info);
        *e = (*e).max(f.severity);
    }
    let mut missed = Vec::new();
    for e in std::fs::read_dir(samples()).unwrap() {
        let name = format!("/{}", e.unwrap().file_name().to_string_lossy());
        if best.get(&name).is_none_or(|s| *s < Severity::High) {
            missed.push(name);
        }
    }
    assert!(
        missed.is_empty(),
        "not flagged high: {missed:?}\nfindings: {:#?}",
        out.findings.iter().map(|f| &f.title).collect::<Vec<_>>()
    );
    // Findings carry the matched rule's strings with offsets and a line number.
    let chopper = out
        .findings
        .iter()
        .find(|f| f.title.contains("php_eval_request_oneliner"))
        .unwrap();
    assert!(
        chopper.evidence[0]
            .excerpt
            .as_deref()
            .unwrap()
            .contains("@0x"),
        "{chopper:?}"
    );
    assert_eq!(chopper.evidence[0].line, Some(1));
    assert_eq!(chopper.attack, ["T1505.003"]);
}

#[test]
fn hostile_trees_give_warnings_not_panics() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    std::fs::create_dir(r.join("www")).unwrap();
    // A symlink out of the root, a non-UTF-8 name, a huge (sparse) file, an unreadable file.
    std::os::unix::fs::symlink("/etc/passwd", r.join("www/link.php")).unwrap();
    std::fs::write(
        r.join("www")
            .join(std::ffi::OsStr::from_bytes(b"sh\xffell.php")),
        "<?php eval($_POST[1]);",
    )
    .unwrap();
    let big = std::fs::File::create(r.join("www/big.php")).unwrap();
    big.set_len(3 << 20).unwrap();
    std::fs::write(
        r.join("www/junk.php"),
        (0..=255u8).cycle().take(70_000).collect::<Vec<u8>>(),
    )
    .unwrap();
    let opts = ScanOptions {
        max_file_size: 1 << 20,
        ..ScanOptions::default()
    };
    let engine = Engine::new(opts, &[], None).unwrap();
    let src = FsSource::root(r).unwrap();
    let out = engine.scan(&src, &[PathBuf::from("/www")], &|_| {});
    let paths: Vec<&str> = out
        .findings
        .iter()
        .filter_map(|f| f.evidence[0].path.as_deref())
        .collect();
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/www/sh\\xffell.php") || p.contains("ell.php")),
        "{paths:?}"
    );
    assert!(!paths.contains(&"/www/link.php"), "a symlink was followed");
    assert!(
        out.warnings
            .iter()
            .any(|w| w.path.as_deref() == Some("/www/big.php") && w.message.contains("limit")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn scans_are_deterministic() {
    let engine = Engine::new(
        ScanOptions {
            threads: 3,
            ..ScanOptions::default()
        },
        &[],
        None,
    )
    .unwrap();
    let src = FsSource::root(samples()).unwrap();
    let a = engine.scan(&src, &[PathBuf::from("/")], &|_| {});
    let b = engine.scan(&src, &[PathBuf::from("/")], &|_| {});
    assert_eq!(a.findings, b.findings);
}

/// `shell.php -> /tmp/.x/x.php`: the web server follows the link, so the scan does too (inside
/// the scanned source's root) and reports the link's path.
#[test]
fn a_symlink_in_a_web_root_to_a_webshell_elsewhere_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    std::fs::create_dir_all(r.join("var/www/html")).unwrap();
    std::fs::create_dir_all(r.join("tmp/.x")).unwrap();
    std::fs::write(r.join("tmp/.x/x.php"), "<?php @eval($_POST['k']); ?>").unwrap();
    std::os::unix::fs::symlink("/tmp/.x/x.php", r.join("var/www/html/shell.php")).unwrap();
    std::os::unix::fs::symlink("../../../tmp/.x/x.php", r.join("var/www/html/rel.php")).unwrap();
    // A link to a file that is itself scanned adds nothing: the file is reported once.
    std::fs::write(
        r.join("var/www/html/inner.php"),
        "<?php @eval($_POST['q']); ?>",
    )
    .unwrap();
    std::os::unix::fs::symlink("inner.php", r.join("var/www/html/alias.php")).unwrap();
    let engine = Engine::new(ScanOptions::default(), &[], None).unwrap();
    let src = FsSource::root(r).unwrap();
    let out = engine.scan(&src, &[PathBuf::from("/var/www/html")], &|_| {});
    for link in ["/var/www/html/shell.php", "/var/www/html/rel.php"] {
        let f = out
            .findings
            .iter()
            .find(|f| f.evidence[0].path.as_deref() == Some(link))
            .unwrap_or_else(|| panic!("{link} not reported: {:?}", out.findings));
        assert!(f.severity >= Severity::High);
        assert!(f.explanation.contains("symlink to"), "{}", f.explanation);
    }
    let on = |p: &str| {
        out.findings
            .iter()
            .filter(|f| f.evidence[0].path.as_deref() == Some(p))
            .count()
    };
    assert!(on("/var/www/html/inner.php") > 0);
    assert_eq!(on("/var/www/html/alias.php"), 0);
}

#[test]
fn limits_are_named_in_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let deep = r.join("www/a/b/c/d");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("x.php"), "<?php eval($_POST[1]);").unwrap();
    // Script heuristics share --file-timeout: with none left, they stop and say so.
    let many: String = (0..10_000)
        .map(|i| format!("$a{i} = \"\\x41\\x42\";\n"))
        .collect();
    std::fs::write(r.join("www/escapes.php"), format!("<?php\n{many}")).unwrap();
    let opts = ScanOptions {
        max_depth: 2,
        max_file_size: 1 << 30,
        file_timeout: std::time::Duration::ZERO,
        ..ScanOptions::default()
    };
    let engine = Engine::new(opts, &[], None).unwrap();
    let out = engine.scan(
        &FsSource::root(r).unwrap(),
        &[PathBuf::from("/www")],
        &|_| {},
    );
    let said = |what: &str| out.warnings.iter().any(|w| w.message.contains(what));
    assert!(said("depth limit"), "{:?}", out.warnings);
    assert!(said("is capped at"), "{:?}", out.warnings);
    assert!(said("script heuristics stopped"), "{:?}", out.warnings);
}
