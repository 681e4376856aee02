//! signature-base loads whole, and the magic-partitioned scanners agree with one scanner of
//! every rule on real files of many kinds.

use firewarden_scan::RuleSet;
use std::path::{Path, PathBuf};

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/signature-base/yara");
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

#[test]
fn every_signature_base_file_loads_and_partitions_agree() {
    let Some(dir) = shared() else { return };
    let set = RuleSet::load(false, &[dir]);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    assert!(set.file_count >= 737, "{} files", set.file_count);
    assert!(set.rule_count > 5800, "{} rules", set.rule_count);

    let full = set.full_scanner();
    // Files of many kinds: ELF binaries, scripts, text, and synthetic PE/ELF/ZIP/PDF heads
    // carrying strings that signature-base looks for.
    let mut samples: Vec<Vec<u8>> = Vec::new();
    for d in ["/usr/bin", "/usr/lib/x86_64-linux-gnu", "/etc"] {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten().take(60) {
                if let Ok(b) = std::fs::read(e.path())
                    && b.len() < 4 << 20
                {
                    samples.push(b);
                }
            }
        }
    }
    for head in [
        &b"MZ\x90\x00"[..],
        b"\x7fELF",
        b"PK\x03\x04",
        b"%PDF",
        b"<?php",
        b"\xd0\xcf\x11\xe0",
    ] {
        let mut s = head.to_vec();
        s.extend_from_slice(b" mimikatz sekurlsa::logonpasswords eval($_POST['x']) powershell -enc xmrig stratum+tcp://");
        s.resize(4096, 0);
        samples.push(s);
    }
    let mut compared = 0;
    for data in &samples {
        let names = |r: boreal::scanner::ScanResult| {
            let mut v: Vec<String> = r
                .rules
                .iter()
                .map(|r| format!("{}:{}", r.namespace, r.name))
                .collect();
            v.sort();
            v
        };
        let want = names(full.scan_mem(data).unwrap_or_else(|(_, r)| r));
        let got = names(
            set.scanner_for(data)
                .scan_mem(data)
                .unwrap_or_else(|(_, r)| r),
        );
        assert_eq!(
            got,
            want,
            "partitioned scan differs on a file starting {:?}",
            &data[..data.len().min(8)]
        );
        compared += 1;
    }
    assert!(compared > 20);
    assert!(set.scanners_compiled() >= 2, "no partitioning happened");
}
