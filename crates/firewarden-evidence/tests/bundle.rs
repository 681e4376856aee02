//! Collect → verify → tamper → custody → triage-on-bundle, on the P1 planted compromise.

#[path = "../../firewarden-triage/tests/support/mod.rs"]
mod support;

use firewarden_evidence::custody::{self, NewEvent, Tool};
use firewarden_evidence::{
    BundleSource, Caps, CollectOptions, EvidenceError, KeyPair, Profile, collect, read,
};
use firewarden_model::TriageReport;
use firewarden_source::{DirEntry, FsSource, Metadata, Source, SourceError};
use firewarden_triage::TriageOptions;
use std::io::Read;
use std::path::{Path, PathBuf};

fn options(out: &Path, key: KeyPair, caps: Caps) -> CollectOptions {
    CollectOptions {
        profile: Profile::Triage,
        caps,
        case_id: Some("IR-TEST-1".into()),
        operator: "Test Operator".into(),
        command_line: vec!["firewarden".into(), "collect".into()],
        output: out.to_path_buf(),
        key,
        recipients: Vec::new(),
        threads: 2,
    }
}

struct Fixture {
    root: tempfile::TempDir,
    out: tempfile::TempDir,
    bundle: PathBuf,
    key: firewarden_evidence::PublicKey,
}

fn collected() -> Fixture {
    let root = support::compromised_root();
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("web01.fwb");
    let key = KeyPair::generate(false).unwrap();
    let public = key.public();
    let src = FsSource::root(root.path()).unwrap();
    collect(&src, options(&bundle, key, Profile::Triage.caps()), &|_| {}).unwrap();
    Fixture {
        root,
        out,
        bundle,
        key: public,
    }
}

fn problems(path: &Path, key: Option<&firewarden_evidence::PublicKey>) -> Vec<String> {
    let scan = read::scan(path, &[], None).unwrap();
    read::check(&scan, key).problems
}

/// Findings as comparable text: id, severity, title, evidence.
fn findings(r: &TriageReport) -> Vec<String> {
    r.findings
        .iter()
        .map(|f| format!("{} {:?} {} {:?}", f.id, f.severity, f.title, f.evidence))
        .collect()
}

#[test]
fn bundle_verifies_and_triage_on_it_equals_triage_on_the_root() {
    let fx = collected();
    assert_eq!(problems(&fx.bundle, Some(&fx.key)), Vec::<String>::new());

    let bundle = BundleSource::open(&fx.bundle, &[], Some(&fx.key)).unwrap();
    let now = bundle.collected_at().unwrap();
    let opts = TriageOptions {
        now: Some(now),
        threads: 2,
        ..Default::default()
    };
    let on_root = firewarden_triage::run(&FsSource::root(fx.root.path()).unwrap(), &opts, &|_| {});
    let on_bundle = firewarden_triage::run(&bundle, &opts, &|_| {});
    assert!(!on_root.findings.is_empty());
    assert_eq!(findings(&on_bundle), findings(&on_root));
    assert_eq!(on_bundle.storyline, on_root.storyline);
    assert_eq!(on_bundle.source.kind, "bundle");
    assert_eq!(on_bundle.source.hostname.as_deref(), Some("web01"));

    // The manifest records what the evidence standard asks for.
    let m = bundle.manifest();
    assert_eq!(m.header.case_id.as_deref(), Some("IR-TEST-1"));
    assert_eq!(m.header.operator, "Test Operator");
    assert_eq!(m.header.evidence_id.len(), 32);
    assert!(m.header.tool.starts_with("firewarden "));
    assert!(m.header.tool_sha256.as_ref().is_some_and(|h| h.len() == 64));
    let passwd = m.items.iter().find(|i| i.path == "/etc/passwd").unwrap();
    let meta = passwd.lstat.as_ref().unwrap();
    assert_eq!(meta.kind, "file");
    assert!(meta.mtime.ends_with('Z') && meta.ino > 0);
    assert_eq!(passwd.content.as_ref().unwrap().sha256.len(), 64);
    // The symlink out of the root is recorded as a link, its target never read.
    let evil = m.items.iter().find(|i| i.path == "/var/log/evil").unwrap();
    assert_eq!(
        evil.link.as_ref().unwrap().text,
        "../../../../../../etc/shadow"
    );
    assert!(!m.items.iter().any(|i| {
        i.content
            .as_ref()
            .is_some_and(|c| c.member.is_some() && i.path.contains("shadow"))
    }));
    // Non-UTF-8 and escape-laden names keep their exact bytes.
    assert!(
        m.items
            .iter()
            .any(|i| i.path.starts_with("/tmp/\u{1b}[31m"))
    );
    assert!(m.log.iter().any(|e| e.step == "triage"));
    assert!(m.log.iter().any(|e| e.step == "finish"));
    // Files the findings name are stored whole, not as the prefix a check happened to read.
    for f in &on_root.findings {
        for ev in &f.evidence {
            let Some(p) = ev.path.as_deref() else {
                continue;
            };
            let on_disk = fx.root.path().join(p.trim_start_matches('/'));
            if !std::fs::symlink_metadata(&on_disk).is_ok_and(|md| md.is_file()) {
                continue;
            }
            let item = m.items.iter().find(|i| i.path == p).unwrap();
            let c = item.content.as_ref().unwrap();
            assert!(
                c.member.is_some() && c.truncated_from.is_none(),
                "{p}: {c:?}"
            );
            assert_eq!(c.size, std::fs::metadata(&on_disk).unwrap().len(), "{p}");
        }
    }
    // Non-UTF-8 or control-character names never become tar names.
    let red = m
        .items
        .iter()
        .find(|i| i.path.starts_with("/tmp/\u{1b}"))
        .unwrap();
    if let Some(member) = red.content.as_ref().and_then(|c| c.member.as_deref()) {
        assert!(member.starts_with("items/"), "{member}");
    }
    // The container hash is taken in the same pass as the members, over every byte.
    let scan = read::scan(&fx.bundle, &[], None).unwrap();
    assert_eq!(
        (scan.file_sha256.clone(), scan.file_size),
        read::file_sha256(&fx.bundle).unwrap()
    );
    let mut raw = std::fs::read(&fx.bundle).unwrap();
    raw.extend_from_slice(b"appended");
    let longer = fx.out.path().join("longer.fwb");
    std::fs::write(&longer, &raw).unwrap();
    let scan = read::scan(&longer, &[], None).unwrap();
    assert_eq!(
        (scan.file_sha256.clone(), scan.file_size),
        read::file_sha256(&longer).unwrap()
    );
}

#[test]
fn collection_writes_nothing_under_the_root() {
    let root = support::compromised_root();
    let snapshot = |dir: &Path| {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                let m = std::fs::symlink_metadata(e.path()).unwrap();
                use std::os::unix::fs::MetadataExt;
                out.push((
                    e.path(),
                    m.len(),
                    m.mtime(),
                    m.mtime_nsec(),
                    m.ctime_nsec(),
                    m.mode(),
                ));
                if m.is_dir() {
                    stack.push(e.path());
                }
            }
        }
        out.sort();
        out
    };
    let before = snapshot(root.path());
    let out = tempfile::tempdir().unwrap();
    let src = FsSource::root(root.path()).unwrap();
    let key = KeyPair::generate(true).unwrap();
    collect(
        &src,
        options(&out.path().join("b.fwb"), key, Profile::Triage.caps()),
        &|_| {},
    )
    .unwrap();
    assert_eq!(snapshot(root.path()), before);
    // The spool is gone; only the bundle and its ledger remain.
    let mut left: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["b.fwb", "b.fwb.custody"]);
}

/// Tar members as (name, bytes).
type Members = Vec<(Vec<u8>, Vec<u8>)>;

/// The tar members of a bundle, in order.
fn members(bundle: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let raw = zstd::decode_all(std::fs::File::open(bundle).unwrap()).unwrap();
    let mut ar = tar::Archive::new(raw.as_slice());
    ar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path_bytes().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (name, data)
        })
        .collect()
}

fn rebuild(path: &Path, members: &[(Vec<u8>, Vec<u8>)]) {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o444);
        b.append_data(
            &mut h,
            firewarden_evidence::capture::bytes_path(name.clone()),
            data.as_slice(),
        )
        .unwrap();
    }
    let tar = b.into_inner().unwrap();
    std::fs::write(path, zstd::encode_all(tar.as_slice(), 3).unwrap()).unwrap();
}

fn content_index(ms: &[(Vec<u8>, Vec<u8>)], name: &str) -> usize {
    ms.iter().position(|(n, _)| n == name.as_bytes()).unwrap()
}

#[test]
fn every_kind_of_tampering_is_named() {
    let fx = collected();
    let ms = members(&fx.bundle);
    let dir = fx.out.path();
    // A rebuilt but untouched bundle still verifies: the checks are on content, not framing.
    let same = dir.join("same.fwb");
    rebuild(&same, &ms);
    assert_eq!(problems(&same, Some(&fx.key)), Vec::<String>::new());

    let passwd = "root/etc/passwd";
    let auth = "root/var/log/auth.log";
    let case = |name: &str, edit: &dyn Fn(&mut Members), expect: &[&str]| {
        let mut m = ms.clone();
        edit(&mut m);
        let p = dir.join(format!("{name}.fwb"));
        rebuild(&p, &m);
        let found = problems(&p, Some(&fx.key));
        for e in expect {
            assert!(
                found.iter().any(|f| f.contains(e)),
                "{name}: expected a problem mentioning `{e}`, got {found:#?}"
            );
        }
    };
    case(
        "flipped",
        &|m| {
            let i = content_index(m, passwd);
            m[i].1[3] ^= 1
        },
        &["/etc/passwd", "modified"],
    );
    case(
        "truncated-item",
        &|m| {
            let i = content_index(m, auth);
            m[i].1.truncate(10)
        },
        &["/var/log/auth.log", "truncated"],
    );
    case(
        "removed",
        &|m| {
            let i = content_index(m, passwd);
            m.remove(i);
        },
        &["/etc/passwd", "removed"],
    );
    case(
        "added",
        &|m| m.insert(1, (b"root/etc/backdoor".to_vec(), b"x".to_vec())),
        &["root/etc/backdoor", "added"],
    );
    case(
        "reordered",
        &|m| {
            let (a, b) = (content_index(m, passwd), content_index(m, auth));
            m.swap(a, b)
        },
        &["reordered"],
    );
    case(
        "appended-member",
        &|m| m.push((b"root/late".to_vec(), b"x".to_vec())),
        &["root/late", "added"],
    );
    case(
        "manifest-edited",
        &|m| {
            let i = content_index(m, "manifest.json");
            let text = String::from_utf8(m[i].1.clone())
                .unwrap()
                .replace("Test Operator", "Somebody Else");
            m[i].1 = text.into_bytes();
        },
        &["signature does not match"],
    );
    let other = KeyPair::generate(false).unwrap();
    case(
        "resigned",
        &|m| {
            // An attacker edits the manifest, puts in their own key and re-signs it.
            let i = content_index(m, "manifest.json");
            let text = String::from_utf8(m[i].1.clone())
                .unwrap()
                .replace(&fx.key.to_hex(), &other.public().to_hex());
            let sig = other.sign(text.as_bytes());
            m[i].1 = text.into_bytes();
            let s = content_index(m, "manifest.sig");
            m[s].1 = sig.to_vec();
        },
        &["expected key"],
    );
    case(
        "signature-swapped",
        &|m| {
            let s = content_index(m, "manifest.sig");
            m[s].1 = other.sign(b"something else").to_vec();
        },
        &["signature does not match"],
    );
    case(
        "no-signature",
        &|m| {
            let s = content_index(m, "manifest.sig");
            m.remove(s);
        },
        &["manifest.sig is missing"],
    );
    case(
        "no-manifest",
        &|m| {
            let s = content_index(m, "manifest.json");
            m.remove(s);
        },
        &["manifest.json is missing"],
    );

    // Damage to the compressed file itself: cut short, or a byte flipped mid-stream.
    let raw = std::fs::read(&fx.bundle).unwrap();
    let cut = dir.join("cut.fwb");
    std::fs::write(&cut, &raw[..raw.len() / 2]).unwrap();
    let found = problems(&cut, Some(&fx.key));
    assert!(
        found.iter().any(|f| f.contains("truncated or corrupt")),
        "{found:#?}"
    );
    assert!(found.iter().any(|f| f.contains("missing")), "{found:#?}");
    let mut flipped = raw.clone();
    let mid = flipped.len() / 3;
    flipped[mid] ^= 0x40;
    let fl = dir.join("flip.fwb");
    std::fs::write(&fl, &flipped).unwrap();
    assert!(!problems(&fl, Some(&fx.key)).is_empty());
    // A tampered bundle is refused for triage.
    assert!(matches!(
        BundleSource::open(&fl, &[], Some(&fx.key)),
        Err(EvidenceError::Tampered(_)) | Err(EvidenceError::Corrupt(_))
    ));
}

#[test]
fn custody_events_chain_and_catch_a_changed_bundle() {
    let fx = collected();
    let tool = Tool {
        name: "firewarden test".into(),
        sha256: None,
    };
    let examiner = KeyPair::generate(false).unwrap();
    let transfer = NewEvent {
        event: "transfer".into(),
        by: "Test Operator".into(),
        to: Some("Lab Examiner".into()),
        reason: "analysis".into(),
        seal: Some("BAG-7".into()),
        method: Some("hand delivery".into()),
        ..Default::default()
    };
    let ev = custody::add(&fx.bundle, transfer.clone(), &examiner, &tool).unwrap();
    assert!(ev.hash_verified);
    assert_eq!(ev.seq, 2);
    let ledger_check = |bundle: &Path| {
        let (lines, mut p) = custody::load(bundle).unwrap().unwrap();
        let (sha, _) = read::file_sha256(bundle).unwrap();
        p.extend(custody::check(&lines, &sha, None, None));
        (lines.len(), p)
    };
    assert_eq!(ledger_check(&fx.bundle), (2, vec![]));
    // A transfer without a receiver is refused.
    let mut no_to = transfer.clone();
    no_to.to = None;
    assert!(custody::add(&fx.bundle, no_to, &examiner, &tool).is_err());

    let ledger = custody::ledger_path(&fx.bundle);
    let original = std::fs::read_to_string(&ledger).unwrap();
    // An edited event no longer verifies.
    std::fs::write(&ledger, original.replace("analysis", "holiday")).unwrap();
    assert!(
        ledger_check(&fx.bundle)
            .1
            .iter()
            .any(|p| p.contains("signature does not verify"))
    );
    // A removed event breaks the chain.
    let first_line = original.lines().next().unwrap();
    let mut extra = String::new();
    extra.push_str(first_line);
    extra.push('\n');
    std::fs::write(&ledger, &extra).unwrap();
    custody::add(&fx.bundle, transfer.clone(), &examiner, &tool).unwrap();
    custody::add(&fx.bundle, transfer.clone(), &examiner, &tool).unwrap();
    let lines: Vec<&str> = std::fs::read_to_string(&ledger)
        .unwrap()
        .leak()
        .lines()
        .collect();
    std::fs::write(&ledger, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    assert!(
        ledger_check(&fx.bundle)
            .1
            .iter()
            .any(|p| p.contains("does not chain") || p.contains("sequence"))
    );
    // Appending to a broken ledger is refused.
    assert!(matches!(
        custody::add(&fx.bundle, transfer.clone(), &examiner, &tool),
        Err(EvidenceError::Tampered(_))
    ));

    // A changed bundle is recorded as such at the next event, and fails verification.
    std::fs::write(&ledger, &original).unwrap();
    let mut raw = std::fs::read(&fx.bundle).unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 1;
    std::fs::write(&fx.bundle, &raw).unwrap();
    let ev = custody::add(&fx.bundle, transfer, &examiner, &tool).unwrap();
    assert!(!ev.hash_verified);
    assert!(
        ledger_check(&fx.bundle)
            .1
            .iter()
            .any(|p| p.contains("differs from"))
    );
}

/// Refuses one path, as an unreadable file on a real host would.
struct Denying<'a>(&'a dyn Source, &'static str);

impl Source for Denying<'_> {
    fn info(&self) -> firewarden_model::SourceInfo {
        self.0.info()
    }
    fn is_live(&self) -> bool {
        false
    }
    fn open(&self, path: &Path) -> Result<Box<dyn Read + Send>, SourceError> {
        if path == Path::new(self.1) {
            return Err(SourceError::Io {
                path: path.into(),
                source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            });
        }
        self.0.open(path)
    }
    fn metadata(&self, path: &Path) -> Result<Metadata, SourceError> {
        self.0.metadata(path)
    }
    fn symlink_metadata(&self, path: &Path) -> Result<Metadata, SourceError> {
        self.0.symlink_metadata(path)
    }
    fn read_dir(&self, path: &Path) -> Result<Vec<DirEntry>, SourceError> {
        self.0.read_dir(path)
    }
    fn read_link(&self, path: &Path) -> Result<PathBuf, SourceError> {
        self.0.read_link(path)
    }
}

#[test]
fn huge_and_unreadable_files_are_noted_not_dropped() {
    let root = support::build(vec![
        support::file("/etc/passwd", support::PASSWD),
        support::file("/etc/shadow", "root:*:19000:0:99999:7:::\n"),
        support::bytes("/var/log/syslog", vec![b'a'; 300_000]),
    ]);
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("b.fwb");
    let fs = FsSource::root(root.path()).unwrap();
    let src = Denying(&fs, "/etc/shadow");
    let caps = Caps {
        max_file: 100_000,
        max_total: 1 << 30,
    };
    collect(
        &src,
        options(&bundle, KeyPair::generate(true).unwrap(), caps),
        &|_| {},
    )
    .unwrap();
    let b = BundleSource::open(&bundle, &[], None).unwrap();
    let m = b.manifest();
    let syslog = m
        .items
        .iter()
        .find(|i| i.path == "/var/log/syslog")
        .unwrap();
    let c = syslog.content.as_ref().unwrap();
    assert_eq!((c.size, c.truncated_from), (100_000, Some(300_000)));
    assert!(
        m.log
            .iter()
            .any(|e| e.step == "truncated" && e.detail.contains("/var/log/syslog"))
    );
    let shadow = m.items.iter().find(|i| i.path == "/etc/shadow").unwrap();
    assert!(shadow.lstat.is_some(), "metadata still recorded");
    assert_eq!(shadow.errors[0].kind, "permission-denied");
    assert!(
        m.log
            .iter()
            .any(|e| e.step == "unreadable" && e.detail.contains("/etc/shadow"))
    );
    // The replay fails the same way.
    let err = b.open(Path::new("/etc/shadow")).err().unwrap();
    assert!(err.to_string().contains("ermission denied"), "{err}");
}

#[test]
fn encrypted_bundle_opens_only_with_the_right_identity() {
    let root = support::compromised_root();
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("enc.fwb");
    let right = age::x25519::Identity::generate();
    let wrong = age::x25519::Identity::generate();
    let key = KeyPair::generate(false).unwrap();
    let public = key.public();
    let mut opts = options(&bundle, key, Profile::Triage.caps());
    opts.recipients = vec![right.to_public()];
    collect(&FsSource::root(root.path()).unwrap(), opts, &|_| {}).unwrap();
    let raw = std::fs::read(&bundle).unwrap();
    assert!(raw.starts_with(b"age-encryption.org/v1\n"));
    assert!(!raw.windows(6).any(|w| w == b"sysadm"), "plaintext leaked");
    assert!(matches!(
        read::scan(&bundle, &[], None),
        Err(EvidenceError::Encrypted)
    ));
    assert!(matches!(
        read::scan(&bundle, &[wrong], None),
        Err(EvidenceError::Key(_))
    ));
    let scan = read::scan(&bundle, std::slice::from_ref(&right), None).unwrap();
    assert_eq!(
        read::check(&scan, Some(&public)).problems,
        Vec::<String>::new()
    );
    let b = BundleSource::open(&bundle, &[right], Some(&public)).unwrap();
    let passwd = firewarden_source::read_text(&b, Path::new("/etc/passwd"), 1 << 20).unwrap();
    assert!(passwd.contains("sysadm:x:0:0"));
}

fn have(tool: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn another_examiner_verifies_with_standard_tools() {
    if !(have("zstd") && have("tar") && have("openssl") && have("sha256sum")) {
        eprintln!(
            "SKIP: zstd, tar, openssl and sha256sum are needed (scripts/test.sh installs them)"
        );
        return;
    }
    let fx = collected();
    let dir = fx.out.path().join("x");
    std::fs::create_dir(&dir).unwrap();
    let sh = |cmd: &str| {
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(&dir)
            .output()
            .unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (ok, msg) = sh(&format!("zstd -dc {} | tar -xf -", fx.bundle.display()));
    assert!(ok, "{msg}");
    std::fs::write(dir.join("signer.pem"), fx.key.to_pem()).unwrap();
    let (ok, msg) = sh(
        "openssl pkeyutl -verify -pubin -inkey signer.pem -rawin -in manifest.json -sigfile manifest.sig",
    );
    assert!(
        ok && msg.contains("Signature Verified Successfully"),
        "{msg}"
    );
    // Member hashes with sha256sum match the manifest.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let item = m["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == "/etc/passwd")
        .unwrap();
    let (ok, out) = sh(&format!(
        "sha256sum {}",
        item["content"]["member"].as_str().unwrap()
    ));
    assert!(
        ok && out.starts_with(item["content"]["sha256"].as_str().unwrap()),
        "{out}"
    );
    // A flipped byte fails openssl's check too.
    let mut body = std::fs::read(dir.join("manifest.json")).unwrap();
    body[10] ^= 1;
    std::fs::write(dir.join("manifest.json"), body).unwrap();
    let (ok, _) = sh(
        "openssl pkeyutl -verify -pubin -inkey signer.pem -rawin -in manifest.json -sigfile manifest.sig",
    );
    assert!(!ok);
}

#[test]
fn age_cli_decrypts_what_we_encrypt() {
    if !have("age") || !have("zstd") {
        eprintln!("SKIP: the age and zstd CLIs are needed (scripts/test.sh installs them)");
        return;
    }
    let root = support::build(vec![support::file("/etc/hostname", "db01\n")]);
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("enc.fwb");
    let id = age::x25519::Identity::generate();
    use age::secrecy::ExposeSecret;
    std::fs::write(
        out.path().join("id.txt"),
        format!("{}\n", id.to_string().expose_secret()),
    )
    .unwrap();
    let mut opts = options(
        &bundle,
        KeyPair::generate(true).unwrap(),
        Profile::Triage.caps(),
    );
    opts.recipients = vec![id.to_public()];
    collect(&FsSource::root(root.path()).unwrap(), opts, &|_| {}).unwrap();
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "age -d -i {}/id.txt {} | zstd -dc | tar -xOf - root/etc/hostname",
            out.path().display(),
            bundle.display()
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "db01\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn captured_process_state_gives_the_same_process_findings() {
    use support::{FakeProc, build, exe, file};
    let mut items = vec![
        file("/etc/passwd", support::PASSWD),
        file("/proc/uptime", "1000.0 1000.0\n"),
        file(
            "/proc/net/tcp",
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
        ),
        exe("/var/tmp/.cache/xmrig", "\x7fELF miner", 0o755),
    ];
    items.extend(
        FakeProc::new(
            4100,
            "xmrig",
            "./xmrig -o stratum+tcp://pool.example:3333 -u WALLET",
            "/var/tmp/.cache/xmrig",
        )
        .items(),
    );
    items.extend(FakeProc::new(4200, "nginx", "nginx: worker process", "/usr/sbin/nginx").items());
    items.extend(FakeProc::new(4201, "nginx", "nginx: worker process", "/usr/sbin/nginx").items());
    items.push(exe("/usr/sbin/nginx", "\x7fELF nginx", 0o755));
    let root = build(items);
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("p.fwb");
    let fs = FsSource::root(root.path()).unwrap();
    collect(
        &fs,
        options(
            &bundle,
            KeyPair::generate(true).unwrap(),
            Profile::Triage.caps(),
        ),
        &|_| {},
    )
    .unwrap();
    let b = BundleSource::open(&bundle, &[], None).unwrap();
    let opts = TriageOptions {
        only: vec!["linux.process".into()],
        now: b.collected_at(),
        ..Default::default()
    };
    let on_root = firewarden_triage::run(&fs, &opts, &|_| {});
    let on_bundle = firewarden_triage::run(&b, &opts, &|_| {});
    assert!(
        on_root
            .findings
            .iter()
            .any(|f| f.check == "linux.process.miner")
    );
    assert_eq!(findings(&on_bundle), findings(&on_root));
    // The executable running from a temp dir was copied out through /proc/PID/exe.
    let m = b.manifest();
    let exe = m.items.iter().find(|i| i.path == "/proc/4100/exe").unwrap();
    assert!(exe.content.as_ref().unwrap().member.is_some());
    assert_eq!(exe.link.as_ref().unwrap().text, "/var/tmp/.cache/xmrig");
    assert!(
        m.log
            .iter()
            .any(|e| e.step == "copy-exe" && e.detail.contains("pid 4100"))
    );
    // The ordinary one is only hashed in the triage profile.
    let nginx = m.items.iter().find(|i| i.path == "/proc/4200/exe");
    assert!(nginx.is_none_or(|i| i.content.as_ref().is_none_or(|c| c.member.is_none())));
    let hashed = |pid: u32| {
        let p = format!("/proc/{pid}/exe");
        let c = m
            .items
            .iter()
            .find(|i| i.path == p)
            .unwrap()
            .content
            .clone()
            .unwrap();
        assert!(
            c.member.is_none() && c.note.as_deref().is_some_and(|n| n.contains("hashed")),
            "{c:?}"
        );
        c.sha256
    };
    // Hashed once, recorded for both processes that run it.
    assert_eq!(hashed(4200), hashed(4201));
    assert_eq!(
        hashed(4200),
        firewarden_evidence::encoding::hex(&<sha2::Sha256 as sha2::Digest>::digest(
            b"\x7fELF nginx"
        ))
    );
    // Order of volatility: process state is recorded before the files triage reads.
    let pos = |p: &str| m.items.iter().position(|i| i.path == p).unwrap();
    assert!(pos("/proc/4100/cmdline") < pos("/etc/passwd"));
}

// ---- P5.1: a bundle is trusted only when all of it verifies; reading it is cheap to attack ----

/// Writes `members` as a tar + zstd bundle, streaming (members may be huge and compress well).
fn write_stream(path: &Path, members: Vec<(String, u64, Box<dyn Read>)>) {
    let file = std::fs::File::create(path).unwrap();
    let z = zstd::Encoder::new(file, 3).unwrap();
    let mut b = tar::Builder::new(z);
    for (name, size, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o444);
        b.append_data(&mut h, name, data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
}

/// Bytes under a directory.
fn bytes_under(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[test]
fn triage_refuses_what_verify_calls_tampered() {
    let fx = collected();
    let dir = fx.out.path();
    let copy = |name: &str| {
        let p = dir.join(name);
        std::fs::copy(&fx.bundle, &p).unwrap();
        std::fs::copy(custody::ledger_path(&fx.bundle), custody::ledger_path(&p)).unwrap();
        p
    };
    // Intact: opens.
    BundleSource::open(&copy("ok.fwb"), &[], Some(&fx.key)).unwrap();
    // Junk appended after the zstd stream: the members still verify, the container does not.
    let junk = copy("junk.fwb");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&junk)
        .unwrap();
    std::io::Write::write_all(&mut f, b"appended junk").unwrap();
    let no_ledger = copy("noledger.fwb");
    std::fs::remove_file(custody::ledger_path(&no_ledger)).unwrap();
    let empty = copy("empty.fwb");
    std::fs::write(custody::ledger_path(&empty), b"").unwrap();
    let blank = copy("blank.fwb");
    std::fs::write(custody::ledger_path(&blank), b"\n\n").unwrap();
    for (what, p, expect) in [
        ("appended junk", &junk, "sha-256"),
        ("deleted ledger", &no_ledger, "no custody ledger"),
        ("empty ledger", &empty, "empty"),
        ("blank ledger", &blank, "empty"),
    ] {
        match BundleSource::open(p, &[], Some(&fx.key)) {
            Err(EvidenceError::Tampered(problems)) => assert!(
                problems.iter().any(|x| x.to_lowercase().contains(expect)),
                "{what}: {problems:#?}"
            ),
            Err(e) => panic!("{what}: {e}"),
            Ok(_) => panic!("{what}: a tampered bundle was opened for triage"),
        }
        let (_, checked) = firewarden_evidence::verify_bundle(p, &[], Some(&fx.key), None).unwrap();
        assert!(!checked.intact(), "{what}: verify must agree");
    }
}

#[test]
fn written_bundles_and_extracted_members_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let fx = collected();
    let mode = std::fs::metadata(&fx.bundle).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let keep = tempfile::tempdir().unwrap();
    let (scan, verdict) = read::scan_verified(&fx.bundle, &[], Some(&fx.key), keep.path()).unwrap();
    assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);
    assert!(scan.manifest_first);
    let kept: Vec<_> = scan.members.iter().filter_map(|m| m.kept.clone()).collect();
    assert!(!kept.is_empty());
    for p in kept {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}: {mode:o}", p.display());
    }
}

/// A 137 KB bundle once wrote 4.29 GB to /tmp: members were extracted at the size their tar
/// header declared, before the signature was checked.
#[test]
fn nothing_is_extracted_beyond_what_the_signed_manifest_declares() {
    let fx = collected();
    let ms = members(&fx.bundle);
    let dir = fx.out.path();
    let big: u64 = 256 << 20;
    let zeros = || -> Box<dyn Read> { Box::new(std::io::repeat(0).take(256 << 20)) };
    let listed = "root/var/log/auth.log";
    let as_stream = |m: &Members, swap: Option<&str>, extra: bool| {
        let mut out: Vec<(String, u64, Box<dyn Read>)> = Vec::new();
        for (n, d) in m {
            let name = String::from_utf8_lossy(n).into_owned();
            if swap == Some(name.as_str()) {
                out.push((name, big, zeros()));
            } else {
                out.push((
                    name,
                    d.len() as u64,
                    Box::new(std::io::Cursor::new(d.clone())),
                ));
            }
        }
        if extra {
            out.insert(2, ("root/bomb".into(), big, zeros()));
        }
        out
    };
    // Format 2 (manifest first): a listed member grown to 256 MiB, and an unlisted one.
    for (what, swap, extra) in [
        ("grown member", Some(listed), false),
        ("unlisted member", None, true),
    ] {
        let p = dir.join(format!("bomb-{}.fwb", what.replace(' ', "-")));
        write_stream(&p, as_stream(&ms, swap, extra));
        assert!(
            std::fs::metadata(&p).unwrap().len() < 4 << 20,
            "the bomb is small"
        );
        let keep = tempfile::tempdir().unwrap();
        let (_, verdict) = read::scan_verified(&p, &[], Some(&fx.key), keep.path()).unwrap();
        assert!(
            verdict.problems.iter().any(|x| x.contains("refused")),
            "{what}: {:#?}",
            verdict.problems
        );
        assert!(
            bytes_under(keep.path()) < 1 << 20,
            "{what}: {} bytes extracted",
            bytes_under(keep.path())
        );
    }
    // Format 1 (manifest last), re-signed by a key of the test's: the bomb comes before the
    // manifest, so nothing at all may be written before the whole bundle verified.
    let other = KeyPair::generate(false).unwrap();
    let mut v1 = ms.clone();
    let mi = content_index(&v1, "manifest.json");
    let text = String::from_utf8(v1[mi].1.clone())
        .unwrap()
        .replace("firewarden-bundle/2", "firewarden-bundle/1")
        .replace(&fx.key.to_hex(), &other.public().to_hex());
    let sig = other.sign(text.as_bytes()).to_vec();
    v1.retain(|(n, _)| n != b"manifest.json" && n != b"manifest.sig");
    v1.push((b"manifest.json".to_vec(), text.into_bytes()));
    v1.push((b"manifest.sig".to_vec(), sig));
    // An intact format-1 bundle is still read, verified and extracted.
    let old = dir.join("v1.fwb");
    rebuild(&old, &v1);
    let keep = tempfile::tempdir().unwrap();
    let (scan, verdict) =
        read::scan_verified(&old, &[], Some(&other.public()), keep.path()).unwrap();
    assert!(verdict.problems.is_empty(), "{:#?}", verdict.problems);
    assert!(!scan.manifest_first);
    assert!(scan.members.iter().all(|m| m.kept.is_some()));
    // The same with a bomb.
    let p = dir.join("bomb-v1.fwb");
    write_stream(&p, as_stream(&v1, Some(listed), false));
    let keep = tempfile::tempdir().unwrap();
    let (_, verdict) = read::scan_verified(&p, &[], Some(&other.public()), keep.path()).unwrap();
    assert!(!verdict.problems.is_empty());
    assert_eq!(
        bytes_under(keep.path()),
        0,
        "nothing is written before a format-1 bundle verifies"
    );
    // Moving a format-2 manifest to the end (or a format-1 one to the front) is named.
    let mut moved = ms.clone();
    let m = moved.remove(content_index(&moved, "manifest.json"));
    let s = moved.remove(content_index(&moved, "manifest.sig"));
    moved.push(m);
    moved.push(s);
    let p = dir.join("moved.fwb");
    rebuild(&p, &moved);
    assert!(
        problems(&p, Some(&fx.key))
            .iter()
            .any(|x| x.contains("reordered"))
    );
}

/// A manifest padded with 1.5 GiB of spaces took `verify` to 3.7 GB: it is now refused by the
/// size its header declares, before a byte of it is read.
#[test]
fn an_oversized_manifest_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("padded.fwb");
    let size = read::MAX_MANIFEST + 1;
    write_stream(
        &p,
        vec![(
            "manifest.json".into(),
            size,
            Box::new(std::io::repeat(b' ').take(size)),
        )],
    );
    let found = problems(&p, None);
    assert!(found.iter().any(|x| x.contains("more than")), "{found:#?}");
}

/// A listed member repeated would let a format-2 bundle extract its largest member again and
/// again within its signed manifest: reading stops at the repeat.
#[test]
fn a_repeated_member_is_refused_before_it_is_extracted_again() {
    let fx = collected();
    let mut ms = members(&fx.bundle);
    let i = content_index(&ms, "root/var/log/auth.log");
    let copy = ms[i].clone();
    for _ in 0..5 {
        ms.insert(i + 1, copy.clone());
    }
    let p = fx.out.path().join("repeated.fwb");
    rebuild(&p, &ms);
    let keep = tempfile::tempdir().unwrap();
    let (_, verdict) = read::scan_verified(&p, &[], Some(&fx.key), keep.path()).unwrap();
    assert!(
        verdict.problems.iter().any(|x| x.contains("appears twice")),
        "{:#?}",
        verdict.problems
    );
    let extracted: u64 = std::fs::read_dir(keep.path())
        .unwrap()
        .filter(|e| std::fs::read(e.as_ref().unwrap().path()).unwrap() == copy.1)
        .count() as u64;
    assert_eq!(extracted, 1);
}
