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
