//! Facts several checks need, built once on first use and shared (thread-safe) between them.

use firewarden_artifacts::accounts::{PasswdEntry, parse_passwd};
use firewarden_artifacts::{tzif, utmp};
use firewarden_model::{Timestamp, Warning};
use firewarden_source::{FileKind, FsSource, Source, display_path, read_capped, read_text};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Largest configuration-like file read whole; bigger ones are cut and a warning is given.
pub const CONFIG_CAP: u64 = 4 * 1024 * 1024;

pub use crate::authlog::{AuthData, AuthOther, AuthRecord, IpStats, OtherKind};

/// A process as read from `/proc/PID`.
#[derive(Debug, Clone, Default)]
pub struct ProcInfo {
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// Real uid.
    pub uid: u32,
    /// `Name:` from status (the comm, at most 15 bytes).
    pub name: String,
    /// Command line arguments.
    pub cmdline: Vec<String>,
    /// Target of the `exe` link; `None` for kernel threads (no link).
    pub exe: Option<String>,
    /// Target of the `cwd` link.
    pub cwd: Option<String>,
    /// `LD_*` variables from environ.
    pub ld_env: Vec<String>,
    /// Targets of fds 0, 1, 2.
    pub stdio: [Option<String>; 3],
    /// Socket inodes among its open fds.
    pub socket_inodes: Vec<u64>,
    /// CPU time used (user + system) in clock ticks.
    pub cpu_ticks: u64,
    /// Start time in clock ticks after boot.
    pub start_ticks: u64,
    /// True for kernel threads (PF_KTHREAD or parent kthreadd).
    pub kernel_thread: bool,
}

impl ProcInfo {
    /// The command line as one string (or `[name]` for kernel threads).
    pub fn command(&self) -> String {
        if self.cmdline.is_empty() {
            format!("[{}]", self.name)
        } else {
            self.cmdline.join(" ")
        }
    }
}

/// Processes and sockets read from the source's `/proc`.
#[derive(Debug, Default)]
pub struct LiveState {
    /// Processes listed by `/proc`.
    pub processes: Vec<ProcInfo>,
    /// Kernel socket tables.
    pub sockets: Vec<firewarden_artifacts::procnet::Socket>,
    /// Seconds since boot.
    pub uptime: Option<f64>,
}

impl LiveState {
    /// Process owning a socket inode.
    pub fn owner_of(&self, inode: u64) -> Option<&ProcInfo> {
        if inode == 0 {
            return None;
        }
        self.processes
            .iter()
            .find(|p| p.socket_inodes.contains(&inode))
    }
}

pub use crate::packages::{FileDigest, PackageIndex};

/// The other spelling of a path on a merged-/usr system (`/bin/ls` ↔ `/usr/bin/ls`).
pub fn alias(path: &str) -> Option<String> {
    for top in ["/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/"] {
        if let Some(rest) = path.strip_prefix(top) {
            return Some(format!("/usr{top}{rest}"));
        }
        if let Some(rest) = path.strip_prefix(&format!("/usr{top}")) {
            return Some(format!("{top}{rest}"));
        }
    }
    None
}

/// Shared facts, each built on first use.
#[derive(Default)]
pub struct Facts {
    passwd: OnceLock<Vec<PasswdEntry>>,
    localtime: OnceLock<Option<Vec<u8>>>,
    auth: OnceLock<AuthData>,
    wtmp: OnceLock<Vec<(String, utmp::Parsed)>>,
    btmp: OnceLock<Vec<(String, utmp::Parsed)>>,
    live: OnceLock<Option<LiveState>>,
    packages: OnceLock<PackageIndex>,
    tree: OnceLock<firewarden_source::Tree>,
    web: OnceLock<crate::web::WebFacts>,
    extra_auth_logs: Vec<PathBuf>,
    /// The moment the analysis treats as "now": the clock, or a bundle's collection time.
    pub now: Timestamp,
    warnings: Mutex<Vec<Warning>>,
}

impl Facts {
    /// Empty facts; `extra_auth_logs` are host paths of auth logs given on the command line.
    pub fn new(extra_auth_logs: Vec<PathBuf>, now: Timestamp) -> Self {
        Facts {
            extra_auth_logs,
            now,
            ..Default::default()
        }
    }

    pub(crate) fn take_warnings(&self) -> Vec<Warning> {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn warn(&self, path: Option<&str>, message: String) {
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Warning {
                check: None,
                path: path.map(str::to_string),
                message,
            });
    }

    /// Web roots, the file scan of web roots, temp and home directories, and the parsed
    /// access logs: shared by the webshell, malware, tampering, dump and access-log checks.
    pub fn web(&self, src: &dyn Source) -> &crate::web::WebFacts {
        self.web
            .get_or_init(|| crate::web::WebFacts::gather(src, self))
    }

    /// Accounts from `/etc/passwd`.
    pub fn passwd(&self, src: &dyn Source) -> &[PasswdEntry] {
        self.passwd.get_or_init(
            || match read_text(src, Path::new("/etc/passwd"), CONFIG_CAP) {
                Ok(text) => {
                    let (entries, bad) = parse_passwd(&text);
                    if !bad.is_empty() {
                        self.warn(
                            Some("/etc/passwd"),
                            format!("{} malformed line(s) skipped: {:?}", bad.len(), bad),
                        );
                    }
                    entries
                }
                Err(e) => {
                    if !e.is_not_found() {
                        self.warn(Some("/etc/passwd"), e.to_string());
                    }
                    Vec::new()
                }
            },
        )
    }

    /// Name of a uid, once `passwd` has been read.
    pub fn user_name(&self, uid: u32) -> Option<&str> {
        self.passwd
            .get()?
            .iter()
            .find(|e| e.uid == uid)
            .map(|e| e.name.as_str())
    }

    /// Home directories to inspect: every account's home plus `/root`, each once, with the
    /// account name. Homes that are `/` or missing are left out.
    pub fn homes(&self, src: &dyn Source) -> Vec<(String, PathBuf)> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut add = |user: &str, home: &str| {
            if home.len() > 1 && home.starts_with('/') && seen.insert(home.to_string()) {
                out.push((user.to_string(), PathBuf::from(home)));
            }
        };
        add("root", "/root");
        for e in self.passwd(src) {
            add(&e.name, &e.home);
        }
        // Homes of accounts deleted from passwd (or a passwd that was tampered with).
        if let Ok(entries) = src.read_dir(Path::new("/home")) {
            for e in entries.iter().filter(|e| e.kind == FileKind::Dir) {
                let name = e.name.to_string_lossy();
                add(&name, &format!("/home/{name}"));
            }
        }
        out
    }

    /// UTC offset of the host's zone (`/etc/localtime`) now, 0 when unknown.
    pub fn tz_offset(&self, src: &dyn Source) -> i64 {
        self.utc_offset_at(src, self.now).unwrap_or(0)
    }

    /// The host's UTC offset at `at` (seconds east), `None` when its zone is unknown.
    pub fn utc_offset_at(&self, src: &dyn Source, at: Timestamp) -> Option<i64> {
        let data = self.localtime.get_or_init(|| {
            read_capped(src, Path::new("/etc/localtime"), 1 << 20)
                .ok()
                .map(|(data, _)| data)
                .filter(|data| tzif::offset_at(data, 0).is_some())
        });
        tzif::offset_at(data.as_deref()?, at.0)
    }

    /// The host's zone as the host names it: `/etc/timezone` (Debian), else where
    /// `/etc/localtime` links into `zoneinfo/`, else its UTC offset now; `None` when unknown.
    pub fn zone_name(&self, src: &dyn Source) -> Option<String> {
        // Attacker-writable text: only what a zone name can be is taken.
        let plausible = |name: &str| {
            !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c))
        };
        if let Ok(text) = read_text(src, Path::new("/etc/timezone"), 256) {
            let name = text.trim();
            if plausible(name) {
                return Some(name.to_string());
            }
        }
        if let Ok(target) = src.read_link(Path::new("/etc/localtime")) {
            let target = target.to_string_lossy();
            if let Some((_, name)) = target.split_once("zoneinfo/")
                && plausible(name)
            {
                return Some(name.to_string());
            }
        }
        self.utc_offset_at(src, self.now).map(tzif::offset_text)
    }

    /// Authentication events from every auth log.
    pub fn auth(&self, src: &dyn Source) -> &AuthData {
        self.auth.get_or_init(|| self.read_auth(src))
    }

    /// Authentication events if a check already read them (the storyline never forces a read).
    pub fn auth_cached(&self) -> Option<&AuthData> {
        self.auth.get()
    }

    fn read_auth(&self, src: &dyn Source) -> AuthData {
        let mut data = AuthData::default();
        let offset = self.tz_offset(src);
        let family = log_family(src, Path::new("/var/log"), &["auth.log", "secure"]);
        let neighbours = newest_neighbour(src, Path::new("/var/log"), &family);
        // Oldest first: each file's older rotations are those listed before it.
        let mut older_rotation: Option<(String, Timestamp)> = None;
        for p in &family {
            let shown = display_path(p);
            let meta = src.metadata(p).ok();
            let mtime = meta.as_ref().map_or(self.now, |m| m.mtime);
            let is_current = p
                .file_name()
                .is_some_and(|n| n == "auth.log" || n == "secure");
            let clocks = crate::logclock::OtherClocks {
                older_rotation: older_rotation.clone(),
                last_login: if is_current {
                    self.last_login(src)
                } else {
                    None
                },
                neighbours: neighbours.clone(),
                ctime: meta.as_ref().map_or(mtime, |m| m.ctime),
            };
            self.read_dated(src, p, &shown, mtime, &clocks, offset, &mut data);
            if older_rotation.as_ref().is_none_or(|(_, t)| mtime > *t) {
                older_rotation = Some((shown.clone(), mtime));
            }
            data.files.push(shown);
        }
        if data.ips.is_empty() && data.accepted.is_empty() {
            let journals = crate::authlog::read_journals(src, &mut data, &|p, m| self.warn(p, m));
            data.files.extend(journals);
        }
        // Extra logs named on the command line live outside the source: each is read through a
        // source rooted at its own directory, so the same confinement rules apply.
        for host_path in &self.extra_auth_logs {
            let (Some(dir), Some(name)) = (host_path.parent(), host_path.file_name()) else {
                continue;
            };
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            let shown = host_path.display().to_string();
            match FsSource::root(dir) {
                Ok(extra) => {
                    let path = Path::new("/").join(name);
                    let meta = extra.metadata(&path).ok();
                    let mtime = meta.as_ref().map_or(self.now, |m| m.mtime);
                    let clocks = crate::logclock::OtherClocks {
                        ctime: meta.as_ref().map_or(mtime, |m| m.ctime),
                        ..Default::default()
                    };
                    self.read_dated(&extra, &path, &shown, mtime, &clocks, offset, &mut data);
                }
                Err(e) => self.warn(Some(&shown), e.to_string()),
            }
            data.files.push(shown);
        }
        data.other.sort_by_key(|r| r.time);
        for w in data.shed_warnings() {
            self.warn(None, w);
        }
        data
    }

    /// Parsed login records of wtmp and its rotations, with their paths.
    pub fn wtmp(&self, src: &dyn Source) -> &[(String, utmp::Parsed)] {
        self.wtmp.get_or_init(|| self.binary_family(src, "wtmp"))
    }

    /// Parsed failed-login records of btmp and its rotations, with their paths: read once for
    /// every check (the brute-force and the tampering checks both look at them).
    pub fn btmp(&self, src: &dyn Source) -> &[(String, utmp::Parsed)] {
        self.btmp.get_or_init(|| self.binary_family(src, "btmp"))
    }

    /// Reads every file of a binary log family (newest records of each, see
    /// [`read_binary_log`]); what cannot be read, or was cut, is a warning.
    fn binary_family(&self, src: &dyn Source, base: &str) -> Vec<(String, utmp::Parsed)> {
        log_family(src, Path::new("/var/log"), &[base])
            .into_iter()
            .filter_map(|p| {
                let shown = display_path(&p);
                match read_binary_log(src, &p, BINARY_LOG_CAP) {
                    Ok(log) => {
                        if let Some(w) = log.cut_warning() {
                            self.warn(Some(&shown), w);
                        }
                        Some((shown, log.parse()))
                    }
                    Err(e) => {
                        if !e.is_not_found() {
                            self.warn(Some(&shown), e.to_string());
                        }
                        None
                    }
                }
            })
            .collect()
    }

    /// Reads one yearless auth log into `data`, dated by its mtime unless other clocks or its
    /// own last line say the mtime was set later (see [`crate::logclock`]); then it is read
    /// again with the corrected reference, and a warning says why.
    #[allow(clippy::too_many_arguments)]
    fn read_dated(
        &self,
        src: &dyn Source,
        path: &Path,
        shown: &str,
        mtime: Timestamp,
        clocks: &crate::logclock::OtherClocks,
        offset: i64,
        data: &mut AuthData,
    ) {
        let (reference, doubt) = crate::logclock::reference(shown, mtime, clocks);
        // The first pass's warnings wait until we know whether it is the one kept.
        let held = Mutex::new(Vec::new());
        let hold = |p: Option<&str>, m: String| {
            held.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((p.map(str::to_owned), m))
        };
        let mut part = AuthData::default();
        let last = crate::authlog::read_file(src, path, shown, reference, offset, &mut part, &hold);
        let redo = match (&doubt, last) {
            (None, Some(last)) => {
                crate::logclock::check_last_line(shown, reference, last, offset, clocks.latest())
            }
            _ => None,
        };
        if let Some(doubt) = doubt {
            self.warn(Some(shown), doubt);
        }
        match redo {
            Some((latest, why)) => {
                self.warn(Some(shown), why);
                part = AuthData::default();
                crate::authlog::read_file(src, path, shown, latest, offset, &mut part, &|p, m| {
                    self.warn(p, m)
                });
            }
            None => {
                for (p, m) in held.into_inner().unwrap_or_else(|e| e.into_inner()) {
                    self.warn(p.as_deref(), m);
                }
            }
        }
        data.merge(part);
    }

    /// The time of the last login record in wtmp and its rotations.
    pub fn last_login(&self, src: &dyn Source) -> Option<Timestamp> {
        self.wtmp(src)
            .iter()
            .flat_map(|(_, parsed)| parsed.records.iter().map(|r| r.time))
            .filter(|t| t.0 <= self.now.0 + 86_400)
            .max()
    }

    /// Processes and sockets, or `None` when the source has no process state.
    pub fn live(&self, src: &dyn Source) -> Option<&LiveState> {
        self.live
            .get_or_init(|| crate::live::read_live_state(src, &|p, m| self.warn(p, m)))
            .as_ref()
    }

    /// One walk of the filesystem shared by the file checks: every entry below `/` except
    /// virtual filesystems and bulky data-only trees, symlinks not followed.
    pub fn tree(&self, src: &dyn Source) -> &firewarden_source::Tree {
        self.tree.get_or_init(|| {
            let opts = firewarden_source::WalkOptions {
                skip_names: Vec::new(),
                max_depth: 24,
                skip: TREE_SKIP.iter().map(PathBuf::from).collect(),
                max_entries: 3_000_000,
            };
            let threads = std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(1, 8);
            let result = firewarden_source::walk_tree(src, Path::new("/"), &opts, threads);
            if result.truncated {
                self.warn(
                    None,
                    format!("filesystem walk stopped at {} entries", opts.max_entries),
                );
            }
            if let Some(first) = &result.first_too_deep {
                self.warn(
                    Some(&display_path(first)),
                    format!(
                        "{} director(y/ies) nest deeper than the walk's {} levels; files below them were not checked",
                        result.deepest_skipped, opts.max_depth
                    ),
                );
            }
            if !result.errors.is_empty() {
                self.warn(
                    None,
                    format!(
                        "{} director(y/ies) could not be read during the filesystem walk",
                        result.errors.len()
                    ),
                );
            }
            result
        })
    }

    /// Installed files according to the package databases (dpkg, RPM).
    pub fn packages(&self, src: &dyn Source) -> &PackageIndex {
        self.packages
            .get_or_init(|| PackageIndex::read(src, &|p, m| self.warn(p, m)))
    }
}

/// The most recently modified regular file directly in `dir` (and in its `journal/` machine
/// directories), other than those of `family`: a clock for when the host was last logging.
fn newest_neighbour(
    src: &dyn Source,
    dir: &Path,
    family: &[PathBuf],
) -> Option<(String, Timestamp)> {
    let mut newest: Option<(String, Timestamp)> = None;
    let mut consider = |path: PathBuf| {
        if family.contains(&path) {
            return;
        }
        if let Ok(m) = src.symlink_metadata(&path)
            && m.kind == FileKind::File
            && newest.as_ref().is_none_or(|(_, t)| m.mtime > *t)
        {
            newest = Some((display_path(&path), m.mtime));
        }
    };
    for e in src.read_dir(dir).unwrap_or_default() {
        consider(dir.join(&e.name));
    }
    let journal = dir.join("journal");
    for machine in src.read_dir(&journal).unwrap_or_default() {
        if machine.kind == FileKind::Dir {
            let machine_dir = journal.join(&machine.name);
            for e in src
                .read_dir(&machine_dir)
                .unwrap_or_default()
                .into_iter()
                .take(10_000)
            {
                consider(machine_dir.join(&e.name));
            }
        }
    }
    newest
}

/// Most of a binary log (wtmp, btmp) held in memory: its last 64 MiB, about 175,000 records.
/// A brute-forced host's btmp can be gigabytes; the newest records are the ones that matter.
pub const BINARY_LOG_CAP: u64 = 64 << 20;

/// The part of a binary log that was read.
pub struct BinaryLog {
    /// The last bytes of the file, starting at a record boundary.
    pub data: Vec<u8>,
    /// Bytes before `data` that were read past and dropped (0: the whole file).
    pub skipped: u64,
}

impl BinaryLog {
    /// The records, with offsets in the whole file.
    pub fn parse(&self) -> utmp::Parsed {
        utmp::parse_at(&self.data, self.skipped)
    }

    /// A warning when the start of the file was not kept.
    pub fn cut_warning(&self) -> Option<String> {
        (self.skipped > 0).then(|| {
            format!(
                "larger than {BINARY_LOG_CAP} bytes: only its last {} bytes (the newest records) were read; the first {} were skipped",
                self.data.len(),
                self.skipped
            )
        })
    }
}

/// Reads the last `cap` bytes of a binary log (wtmp, btmp), at a record boundary,
/// decompressing a gzip rotation; other compressed rotations are an error that says so rather
/// than garbage parsed as records. Memory is bounded by `cap` whatever the file's size.
pub fn read_binary_log(
    src: &dyn Source,
    path: &Path,
    cap: u64,
) -> Result<BinaryLog, firewarden_source::SourceError> {
    use std::io::Read;
    if let Ok((head, _)) = read_capped(src, path, 8)
        && let Some(format) = firewarden_source::unsupported_compression(&head)
    {
        return Err(firewarden_source::SourceError::WrongKind {
            path: path.to_path_buf(),
            what: match format {
                "bzip2" => "compressed with bzip2, which is not read yet",
                "xz" => "compressed with xz, which is not read yet",
                _ => "compressed with zstd, which is not read yet",
            },
        });
    }
    let io = |e| firewarden_source::SourceError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let record = utmp::RECORD_SIZE;
    // Keep the last `cap` bytes, dropping whole records from the front. The buffer may grow to
    // twice the cap before it is trimmed, so each byte is moved at most once (trimming after
    // every read moved the whole cap each time: 128 GB of copying for a 2 GiB btmp).
    let cap = (cap as usize / record).max(1) * record;
    let mut reader = firewarden_source::open_decompressed(src, path)?;
    let mut data: Vec<u8> = Vec::new();
    let mut skipped = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        data.extend_from_slice(&buf[..n]);
        if data.len() >= 2 * cap {
            let drop = (data.len() - cap) / record * record;
            data.drain(..drop);
            skipped += drop as u64;
        }
    }
    if data.len() > cap {
        let drop = (data.len() - cap) / record * record;
        data.drain(..drop);
        skipped += drop as u64;
    }
    Ok(BinaryLog { data, skipped })
}

/// Trees the shared walk does not enter: virtual filesystems, other mounts, data-only trees.
pub const TREE_SKIP: &[&str] = &[
    "/proc",
    "/sys",
    "/dev",
    "/run",
    "/mnt",
    "/media",
    "/usr/share",
    "/usr/include",
    "/usr/src",
    "/var/cache",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/snap",
    "/var/lib/apt/lists",
    "/usr/lib/debug",
];

/// A log and its rotations (`name`, `name.1`, `name.2.gz`, `name-20261101`), oldest first.
pub fn log_family(src: &dyn Source, dir: &Path, bases: &[&str]) -> Vec<PathBuf> {
    let Ok(entries) = src.read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, PathBuf)> = Vec::new();
    for e in entries {
        if e.kind != FileKind::File && e.kind != FileKind::Symlink {
            continue;
        }
        let name = e.name.to_string_lossy();
        for base in bases {
            let Some(rest) = name.strip_prefix(base) else {
                continue;
            };
            // Compressed rotations are listed too; the reader says which ones it cannot decode.
            let rest = [".gz", ".bz2", ".xz", ".zst"]
                .iter()
                .find_map(|ext| rest.strip_suffix(ext))
                .unwrap_or(rest);
            // Rank: current file last; `.N` rotations by number (higher = older); dated ones by date.
            let rank = if rest.is_empty() {
                0
            } else if let Some(n) = rest.strip_prefix('.').and_then(|n| n.parse::<u64>().ok()) {
                n
            } else if let Some(d) = rest.strip_prefix('-').and_then(|d| d.parse::<u64>().ok()) {
                u64::MAX / 2 - d
            } else {
                continue;
            };
            found.push((rank, dir.join(&e.name)));
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.into_iter().map(|(_, p)| p).collect()
}
