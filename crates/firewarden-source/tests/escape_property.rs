//! Property: whatever symlinks an attacker plants (absolute, relative, `..` chains, loops) and
//! whatever path is asked for, a read through `FsSource::root` never returns a file from
//! outside the root.

use firewarden_source::{FsSource, Source, WalkOptions, read_text, walk_parallel};
use proptest::prelude::*;
use std::os::unix::fs::symlink;
use std::path::Path;

const NAMES: [&str; 5] = ["a", "b", "etc", "x y", ".."];

fn target() -> impl Strategy<Value = String> {
    // Link targets built from names, "..", ".", absolute or relative, and host paths.
    prop_oneof![
        proptest::collection::vec(prop::sample::select(&NAMES[..]), 0..5).prop_map(|v| v.join("/")),
        proptest::collection::vec(prop::sample::select(&NAMES[..]), 0..5)
            .prop_map(|v| format!("/{}", v.join("/"))),
        Just("../../../../outside/secret".to_string()),
        Just("/outside/secret".to_string()),
        Just("../secret".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
    #[test]
    fn reads_never_leave_the_root(
        links in proptest::collection::vec((prop::sample::select(&NAMES[..4]), prop::sample::select(&NAMES[..4]), target()), 1..8),
        queries in proptest::collection::vec(proptest::collection::vec(prop::sample::select(&NAMES[..]), 1..6), 1..12),
    ) {
        let outer = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(outer.path().join("outside")).unwrap();
        std::fs::write(outer.path().join("outside/secret"), "SECRET").unwrap();
        std::fs::write(outer.path().join("secret"), "SECRET").unwrap();
        let root = outer.path().join("root");
        for d in &NAMES[..4] {
            std::fs::create_dir_all(root.join(d)).unwrap();
            std::fs::write(root.join(d).join("file"), "inside").unwrap();
        }
        for (dir, name, to) in &links {
            let _ = symlink(to, root.join(dir).join(format!("l-{name}")));
        }
        // Anchors that must resolve: without them a source refusing every read would pass.
        symlink("/b", root.join("a").join("anchor-abs")).unwrap();
        symlink("../etc", root.join("a").join("anchor-rel")).unwrap();
        let src = FsSource::root(&root).unwrap();
        prop_assert_eq!(read_text(&src, Path::new("/a/anchor-abs/file"), 64).unwrap(), "inside");
        prop_assert_eq!(read_text(&src, Path::new("/a/anchor-rel/file"), 64).unwrap(), "inside");
        for q in &queries {
            for suffix in ["", "/file", "/secret", "/outside/secret"] {
                let path = format!("/{}{suffix}", q.iter().map(|c| if *c == ".." { "..".to_string() } else { format!("l-{c}") }).collect::<Vec<_>>().join("/"));
                if let Ok(text) = read_text(&src, Path::new(&path), 64) {
                    prop_assert_ne!(text, "SECRET", "{} escaped the root", path);
                }
                let _ = src.metadata(Path::new(&path));
                let _ = src.read_dir(Path::new(&path));
            }
        }
        // The walk terminates and stays inside too.
        let all = walk_parallel(&src, Path::new("/"), &WalkOptions::default(), 2);
        for (p, _) in all.entries {
            if let Ok(text) = read_text(&src, &p, 64) {
                prop_assert_ne!(text, "SECRET");
            }
        }
    }
}
