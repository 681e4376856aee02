//! The source layer must never read outside the analysed root and must survive hostile trees.

use firewarden_source::{
    FsSource, Source, WalkEntry, WalkOptions, display_path, open_decompressed, read_text, walk,
};
use std::io::{BufRead, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::Path;

fn tree() -> tempfile::TempDir {
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir_in(outside.path()).unwrap();
    std::fs::write(outside.path().join("secret"), "host secret").unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(
        dir.path().join("etc/passwd"),
        "root:x:0:0::/root:/bin/bash\n",
    )
    .unwrap();
    // Keep `outside` alive by leaking it into the returned dir's lifetime: tests only read.
    std::mem::forget(outside);
    dir
}

#[test]
fn absolute_symlink_resolves_inside_root() {
    let dir = tree();
    symlink("/etc/passwd", dir.path().join("etc/link")).unwrap();
    let src = FsSource::root(dir.path()).unwrap();
    assert!(
        read_text(&src, Path::new("/etc/link"), 100)
            .unwrap()
            .starts_with("root:")
    );
}

#[test]
fn dotdot_symlink_cannot_escape_root() {
    let dir = tree();
    symlink("../../../../../../secret", dir.path().join("etc/escape")).unwrap();
    symlink("../secret", dir.path().join("escape2")).unwrap();
    let src = FsSource::root(dir.path()).unwrap();
    for p in ["/etc/escape", "/escape2", "/../secret", "/etc/../../secret"] {
        let got = read_text(&src, Path::new(p), 100);
        assert!(got.is_err(), "{p} read {:?}", got);
    }
}

#[test]
fn symlink_loop_is_an_error_not_a_hang() {
    let dir = tree();
    symlink("/b", dir.path().join("a")).unwrap();
    symlink("/a", dir.path().join("b")).unwrap();
    let src = FsSource::root(dir.path()).unwrap();
    let err = src.metadata(Path::new("/a")).unwrap_err();
    assert!(err.to_string().contains("symbolic links"), "{err}");
}

#[test]
fn walk_survives_loops_non_utf8_and_does_not_follow_links() {
    let dir = tree();
    std::fs::create_dir(dir.path().join("d")).unwrap();
    symlink("/", dir.path().join("d/loop")).unwrap();
    let bad = std::ffi::OsStr::from_bytes(b"evil\xff\x1b[31m");
    std::fs::write(dir.path().join("d").join(bad), "x").unwrap();
    let src = FsSource::root(dir.path()).unwrap();
    let mut paths = Vec::new();
    walk(&src, Path::new("/"), &WalkOptions::default(), &mut |e| {
        if let WalkEntry::Entry { path, .. } = e {
            paths.push(display_path(&path));
        }
    });
    assert!(paths.contains(&"/d/loop".to_string()));
    assert!(
        paths.contains(&"/d/evil\\xff\\u{1b}[31m".to_string()),
        "{paths:?}"
    );
    assert!(!paths.iter().any(|p| p.starts_with("/d/loop/")));
}

#[test]
fn fifo_is_refused_instead_of_hanging() {
    let dir = tree();
    let fifo = dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let src = FsSource::root(dir.path()).unwrap();
    assert!(src.open(Path::new("/fifo")).is_err());
}

#[test]
fn gzip_is_decompressed_by_magic() {
    let dir = tree();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"line one\nline two\n").unwrap();
    std::fs::write(dir.path().join("log.1"), gz.finish().unwrap()).unwrap();
    let src = FsSource::root(dir.path()).unwrap();
    let lines: Vec<_> = open_decompressed(&src, Path::new("/log.1"))
        .unwrap()
        .lines()
        .map(|l| l.unwrap())
        .collect();
    assert_eq!(lines, ["line one", "line two"]);
}

#[test]
fn reading_does_not_change_the_source() {
    let dir = tree();
    let p = dir.path().join("etc/passwd");
    let before = std::fs::metadata(&p).unwrap();
    let src = FsSource::root(dir.path()).unwrap();
    read_text(&src, Path::new("/etc/passwd"), 100).unwrap();
    let after = std::fs::metadata(&p).unwrap();
    assert_eq!(before.modified().unwrap(), after.modified().unwrap());
    use std::os::unix::fs::MetadataExt;
    assert_eq!(before.ctime(), after.ctime());
}

#[test]
fn parallel_walk_sees_what_the_serial_walk_sees() {
    let dir = tree();
    for d in 0..30 {
        for f in 0..20 {
            let p = dir.path().join(format!("d{d}/sub{}/f{f}", f % 3));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
    }
    symlink("/", dir.path().join("d1/loop")).unwrap();
    let src = FsSource::root(dir.path()).unwrap();
    let mut serial = Vec::new();
    walk(&src, Path::new("/"), &WalkOptions::default(), &mut |e| {
        if let WalkEntry::Entry { path, .. } = e {
            serial.push(path);
        }
    });
    serial.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    for threads in [1, 2, 4] {
        let par = firewarden_source::walk_parallel(
            &src,
            Path::new("/"),
            &WalkOptions::default(),
            threads,
        );
        let paths: Vec<_> = par.entries.into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, serial, "threads {threads}");
        assert!(!par.truncated);
    }
    let capped = firewarden_source::walk_parallel(
        &src,
        Path::new("/"),
        &WalkOptions {
            skip_names: Vec::new(),
            max_entries: 50,
            ..Default::default()
        },
        2,
    );
    assert!(capped.truncated && capped.entries.len() <= 50);
}

/// The compact tree holds what the plain parallel walk returns, in the same byte order of
/// paths, also where that order differs from directory-by-directory order ("/a.txt" and "/a0"
/// around "/a/b") and for names that are not UTF-8.
#[test]
fn compact_tree_matches_the_parallel_walk() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    for p in ["a/b/c", "a/b0", "a-x/y", "a0/z", "b/deep/er/still"] {
        let p = dir.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x").unwrap();
    }
    for f in ["a.txt", "a0.txt", "a/b.txt"] {
        std::fs::write(dir.path().join(f), "y").unwrap();
    }
    std::fs::write(
        dir.path().join(std::ffi::OsStr::from_bytes(b"a/\xff\xfe")),
        "z",
    )
    .unwrap();
    for d in 0..30 {
        for f in 0..400 {
            let p = dir.path().join(format!("many/d{d}/f{f}"));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
    }
    symlink("/", dir.path().join("a/loop")).unwrap();
    let src = FsSource::root(dir.path()).unwrap();
    for threads in [1, 3] {
        let plain = firewarden_source::walk_parallel(
            &src,
            Path::new("/"),
            &WalkOptions::default(),
            threads,
        );
        let tree =
            firewarden_source::walk_tree(&src, Path::new("/"), &WalkOptions::default(), threads);
        assert_eq!(tree.len(), plain.entries.len());
        let mut entries = tree.entries();
        let mut got = Vec::new();
        while let Some((path, brief)) = entries.next() {
            got.push((path.to_path_buf(), *brief));
        }
        let want: Vec<_> = plain
            .entries
            .iter()
            .map(|(p, m)| (p.clone(), firewarden_source::Brief::of(m)))
            .collect();
        assert_eq!(got, want, "threads {threads}");
        let i = got
            .iter()
            .position(|(p, _)| p == Path::new("/a/b"))
            .unwrap();
        let next: Vec<_> = got[i..i + 4].iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(
            next,
            ["/a/b", "/a/b.txt", "/a/b/c", "/a/b0"].map(std::path::PathBuf::from)
        );
    }
}
