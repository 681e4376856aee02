//! How steps read in a plan and in `firewarden actions`: file edits as unified diffs, the rest
//! as one line each. Attacker-controlled text (paths, command lines, file content) is made
//! printable first.

use firewarden_model::action::{FileState, Step};
use firewarden_model::{printable, printable_untrimmed};

fn meta(s: &FileState) -> String {
    format!(
        "{} bytes, sha256 {}…, owner {}:{}, mode {:04o}",
        s.size,
        &s.sha256[..s.sha256.len().min(16)],
        s.uid,
        s.gid,
        s.mode
    )
}

/// Each line made printable, leading spaces kept (a diff's context lines start with one).
fn clean_lines(text: &str) -> String {
    text.lines()
        .map(|l| printable_untrimmed(l, 400))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One step, indented by two spaces, ending in a newline. `content` gives the bytes behind a
/// hash when they are at hand (for diffs).
pub fn step(s: &Step, content: &dyn Fn(&str) -> Option<Vec<u8>>) -> String {
    match s {
        Step::File {
            path,
            before,
            after,
            ..
        } => {
            let p = printable(path, 300);
            match (before, after) {
                (Some(b), Some(a)) => {
                    let diff = match (content(&b.sha256), content(&a.sha256)) {
                        (Some(old), Some(new)) => {
                            let old = String::from_utf8_lossy(&old);
                            let new = String::from_utf8_lossy(&new);
                            let d = similar::TextDiff::from_lines(old.as_ref(), new.as_ref())
                                .unified_diff()
                                .context_radius(1)
                                .header(&p, &p)
                                .to_string();
                            format!("{}\n", clean_lines(&d))
                                .lines()
                                .map(|l| format!("    {l}\n"))
                                .collect::<String>()
                        }
                        _ => String::new(),
                    };
                    format!("  ~ edit {p} (backup kept: {})\n{diff}", meta(b))
                }
                (Some(b), None) => format!("  - quarantine {p} ({})\n", meta(b)),
                (None, Some(a)) => {
                    let body = content(&a.sha256)
                        .map(|c| {
                            clean_lines(&String::from_utf8_lossy(&c))
                                .lines()
                                .map(|l| format!("    +{l}\n"))
                                .collect::<String>()
                        })
                        .unwrap_or_default();
                    format!("  + create {p} (mode {:04o})\n{body}", a.mode)
                }
                (None, None) => String::new(),
            }
        }
        Step::Chmod {
            path,
            before,
            after,
        } => format!(
            "  ~ chmod {} {before:04o} -> {after:04o}\n",
            printable(path, 300)
        ),
        Step::Unlink { path, target, .. } => format!(
            "  - remove link {} -> {}\n",
            printable(path, 300),
            printable(target, 300)
        ),
        Step::Freeze { process } => format!(
            "  ! freeze (SIGSTOP) pid {} {}\n",
            process.pid, process.cmdline
        ),
        Step::Kill { process } => format!(
            "  ! end (SIGKILL, cannot be undone) pid {} {}\n",
            process.pid, process.cmdline
        ),
        Step::NftTable {
            family,
            name,
            script,
        } => {
            let body: String = script.lines().map(|l| format!("    {l}\n")).collect();
            format!("  + nftables table {family} {name} (no other table is touched):\n{body}")
        }
        Step::Sysctl { key, before, after } => {
            format!("  ~ sysctl {key} {before} -> {after} (running kernel)\n")
        }
        Step::StopUnit { unit, .. } => format!("  ! stop systemd unit {}\n", printable(unit, 200)),
        Step::ReloadSystemd => "  ~ systemctl daemon-reload\n".to_string(),
        Step::RestartUnit { unit } => {
            format!("  ! restart systemd unit {}\n", printable(unit, 200))
        }
        Step::TouchDir { path } => format!(
            "  ~ touch {} (so cron notices the change)\n",
            printable(path, 300)
        ),
        Step::Capture { what, sha256, size } => format!(
            "  = keep evidence {} ({size} bytes, sha256 {}…)\n",
            printable(what, 300),
            &sha256[..sha256.len().min(16)]
        ),
    }
}

/// What undoing one step does, in words (for the person who approves a plan).
pub fn undo(s: &Step) -> String {
    match s {
        Step::File {
            path,
            before,
            after,
            ..
        } => {
            let p = printable(path, 300);
            match (before, after) {
                (Some(_), Some(_)) => format!("puts the previous {p} back from the kept backup"),
                (Some(_), None) => format!("restores {p} from the vault"),
                (None, Some(_)) => format!("removes the {p} it created"),
                (None, None) => String::new(),
            }
        }
        Step::Chmod { path, before, .. } => {
            format!("sets {} back to mode {before:04o}", printable(path, 300))
        }
        Step::Unlink { path, target, .. } => format!(
            "recreates the link {} -> {}",
            printable(path, 300),
            printable(target, 300)
        ),
        Step::Freeze { process } => format!("resumes pid {} (SIGCONT)", process.pid),
        Step::Kill { process } => format!(
            "nothing: pid {} stays ended (a killed process cannot be brought back)",
            process.pid
        ),
        Step::NftTable { family, name, .. } => {
            format!("deletes the table {family} {name}, and nothing else")
        }
        Step::Sysctl { key, before, .. } => format!("sets {key} back to {before}"),
        Step::StopUnit { unit, .. } => {
            format!("starts {} again if it was running", printable(unit, 200))
        }
        Step::ReloadSystemd => "reloads systemd again".into(),
        Step::RestartUnit { unit } => format!("restarts {} again", printable(unit, 200)),
        Step::TouchDir { path } => format!("nothing needed for {}", printable(path, 300)),
        Step::Capture { .. } => "nothing: kept evidence stays kept".into(),
    }
}
