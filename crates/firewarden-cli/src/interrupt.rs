//! SIGINT, SIGTERM and SIGHUP while temporary evidence exists: remove it, then exit with
//! 128 + the signal's number, as the default action would have. The signals are blocked in
//! every thread and taken by one waiting thread (`sigwait`), so cleanup runs as ordinary code,
//! not inside a signal handler. Child processes start with the mask reset (Rust's `Command`
//! does that), so nothing we run inherits the block.

use std::sync::Once;

static INSTALLED: Once = Once::new();

/// Starts the waiting thread. Call before any other thread exists (first thing in a command),
/// since only threads started afterwards inherit the blocked mask.
pub fn install() {
    INSTALLED.call_once(|| {
        // SAFETY: plain libc calls on a sigset_t this function owns; `sigwait` only reads it.
        let set = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::sigaddset(&mut set, sig);
            }
            if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return;
            }
            set
        };
        let spawned = std::thread::Builder::new()
            .name("interrupt".into())
            .spawn(move || {
                let mut sig: libc::c_int = 0;
                // SAFETY: `set` is a valid, initialised signal set; `sig` is a valid out pointer.
                if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
                    return;
                }
                let removed = firewarden_evidence::cleanup::remove_all();
                if !removed.is_empty() {
                    eprintln!(
                        "\nfirewarden: interrupted; removed temporary evidence: {}",
                        removed
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                std::process::exit(128 + sig);
            });
        if spawned.is_err() {
            // No waiter: give the signals their default action back.
            // SAFETY: as above.
            unsafe {
                libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            }
        }
    });
}
