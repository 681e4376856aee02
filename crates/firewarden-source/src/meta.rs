use firewarden_model::Timestamp;
use std::ffi::OsString;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

/// What kind of filesystem object a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link (only from `symlink_metadata`).
    Symlink,
    /// Character device.
    CharDevice,
    /// Block device.
    BlockDevice,
    /// Named pipe.
    Fifo,
    /// Unix socket.
    Socket,
}

/// File metadata as recorded by the source, independent of where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// Kind of object.
    pub kind: FileKind,
    /// Size in bytes.
    pub size: u64,
    /// Full mode bits including type and set-id bits.
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// Inode number.
    pub ino: u64,
    /// Device number.
    pub dev: u64,
    /// Hard link count.
    pub nlink: u64,
    /// Modification time.
    pub mtime: Timestamp,
    /// Access time.
    pub atime: Timestamp,
    /// Status change time.
    pub ctime: Timestamp,
    /// Nanoseconds of `mtime`, `atime` and `ctime`, for evidence records.
    pub nsec: [u32; 3],
    /// Birth (creation) time when the filesystem records it (statx), with nanoseconds.
    pub btime: Option<(Timestamp, u32)>,
}

impl Metadata {
    pub(crate) fn from_std(m: &std::fs::Metadata) -> Self {
        let ft = m.file_type();
        let kind = if ft.is_symlink() {
            FileKind::Symlink
        } else if ft.is_dir() {
            FileKind::Dir
        } else if ft.is_char_device() {
            FileKind::CharDevice
        } else if ft.is_block_device() {
            FileKind::BlockDevice
        } else if ft.is_fifo() {
            FileKind::Fifo
        } else if ft.is_socket() {
            FileKind::Socket
        } else {
            FileKind::File
        };
        Metadata {
            kind,
            size: m.size(),
            mode: m.mode(),
            uid: m.uid(),
            gid: m.gid(),
            ino: m.ino(),
            dev: m.dev(),
            nlink: m.nlink(),
            mtime: Timestamp(m.mtime()),
            atime: Timestamp(m.atime()),
            ctime: Timestamp(m.ctime()),
            nsec: [
                m.mtime_nsec() as u32,
                m.atime_nsec() as u32,
                m.ctime_nsec() as u32,
            ],
            // std asks statx for the birth time; filesystems without one give an error.
            btime: m.created().ok().and_then(|t| {
                let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
                Some((Timestamp(d.as_secs() as i64), d.subsec_nanos()))
            }),
        }
    }

    /// Permission bits (and set-id/sticky bits) in the `0755` form.
    pub fn mode_octal(&self) -> String {
        format!("{:04o}", self.mode & 0o7777)
    }
    /// True for a regular file with any execute bit set.
    pub fn is_executable(&self) -> bool {
        self.kind == FileKind::File && self.mode & 0o111 != 0
    }
    /// True when others may write it.
    pub fn world_writable(&self) -> bool {
        self.mode & 0o002 != 0
    }
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// File name, raw bytes (may not be UTF-8).
    pub name: OsString,
    /// Kind of the entry itself (a symlink is reported as [`FileKind::Symlink`]).
    pub kind: FileKind,
}
