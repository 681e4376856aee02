//! Property tests of the path and command normaliser: whatever spelling an attacker picks for a
//! path, the normalised command names the path the kernel would open.

use firewarden_source::spelling::{normalize_command, normalize_path};
use proptest::prelude::*;

/// A reference resolver: a stack of components, `..` popping, stopping at the root.
fn resolve(components: &[String]) -> String {
    let mut stack: Vec<&str> = Vec::new();
    for c in components {
        match c.as_str() {
            "" | "." => {}
            ".." => {
                stack.pop();
            }
            c => stack.push(c),
        }
    }
    format!("/{}", stack.join("/"))
}

fn component() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        // `proc` would start a `/proc/self/root` prefix, which the normaliser (rightly) strips.
        "[a-z.]{1,6}".prop_filter("plain name", |s| s != "." && s != ".." && s != "proc"),
    ]
}

/// Respells a plain absolute path: doubled slashes, `/./`, `name/../`, and `/../` at the root.
fn respell(path: &str, noise: &[u8]) -> String {
    let mut out = String::new();
    for (i, part) in path.split('/').skip(1).enumerate() {
        out.push_str(match (noise.get(i).copied().unwrap_or(0) % 5, i) {
            (1, _) => "//",
            (2, _) => "/./",
            (3, _) => "/usr/../",
            (4, 0) => "/../",
            _ => "/",
        });
        out.push_str(part);
    }
    out
}

proptest! {
    #[test]
    fn normalize_path_matches_a_reference_resolver(parts in prop::collection::vec(component(), 0..10)) {
        let path = format!("/{}", parts.join("/"));
        let got = normalize_path(&path);
        let want = resolve(&parts);
        prop_assert_eq!(got.trim_end_matches('/'), want.trim_end_matches('/'), "{}", path);
        prop_assert!(!got.contains("//") && !got.contains("/./") && !got.contains("/../"));
        prop_assert_eq!(normalize_path(&got), got.clone(), "idempotent");
    }

    #[test]
    fn any_respelling_of_a_temp_program_is_seen_as_it(
        dir in prop::sample::select(vec!["/tmp", "/var/tmp", "/dev/shm", "/run/shm"]),
        name in "[a-z][a-z0-9.]{0,8}",
        noise in prop::collection::vec(any::<u8>(), 0..6),
        prefix in prop::sample::select(vec!["* * * * * root ", "@reboot ", "ExecStart=", "sh -c ", "nohup ", "x; ", ""]),
    ) {
        let plain = format!("{dir}/{name}");
        let spelled = respell(&plain, &noise);
        prop_assert_eq!(normalize_path(&spelled), plain.as_str(), "{}", spelled);
        let line = format!("{prefix}{spelled} >/dev/null 2>&1");
        let normalized = normalize_command(&line);
        prop_assert!(normalized.contains(&format!("{plain} ")), "{} -> {}", line, normalized);
    }

    #[test]
    fn the_normaliser_is_total(text in any::<String>()) {
        let once = normalize_command(&text);
        let _ = normalize_path(&once);
    }
}
