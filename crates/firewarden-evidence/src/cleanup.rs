//! Temporary evidence that must not outlive the process: extracted bundles (they hold
//! `/etc/shadow` and decrypted contents), the collection spool, a bundle half-written. Each is
//! registered here while it exists; whoever handles SIGINT/SIGTERM (the binary) calls
//! [`remove_all`] before exiting. A process-wide list, because a signal is process-wide.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Keeps `path` on the list until dropped (the owner removes it as usual on the normal path).
#[derive(Debug)]
pub struct Registered(PathBuf);

/// Puts a temporary file or directory on the list of what an interrupt removes.
pub fn register(path: &Path) -> Registered {
    PENDING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.to_path_buf());
    Registered(path.to_path_buf())
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut list = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = list.iter().rposition(|p| *p == self.0) {
            list.remove(i);
        }
    }
}

/// Removes everything registered (directories recursively, files, never following a symlink);
/// returns what was removed. Called on an interrupt, just before the process exits.
pub fn remove_all() -> Vec<PathBuf> {
    let list = std::mem::take(&mut *PENDING.lock().unwrap_or_else(|e| e.into_inner()));
    list.into_iter()
        .filter(|p| match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(p).is_ok(),
            Ok(_) => std::fs::remove_file(p).is_ok(),
            Err(_) => false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_paths_are_removed_and_dropped_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("kept");
        let gone = dir.path().join("gone");
        std::fs::create_dir(&gone).unwrap();
        std::fs::write(gone.join("shadow"), b"x").unwrap();
        std::fs::write(&kept, b"x").unwrap();
        let _g = register(&gone);
        drop(register(&kept));
        let removed = remove_all();
        assert!(removed.contains(&gone));
        assert!(!gone.exists());
        assert!(kept.exists());
    }
}
