//! How the allocator treats memory on the host under investigation.

/// mimalloc's `mi_option_purge_delay` (its option table, `mimalloc.h`, v2): how long freed
/// memory stays with the process before it goes back to the system, in milliseconds.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system at once. mimalloc keeps it for 10 ms by default, long
/// enough for a walk of a million paths to pile up a few hundred MiB it no longer uses; on the
/// 1–2 GiB servers we collect from, that is memory the host's own services (and the evidence)
/// need. Measured: a 1,000,000-file collection peaks 160 MiB lower, at the same speed.
pub fn return_freed_memory_at_once() {
    // SAFETY: sets one integer in mimalloc's option table, which it reads on each purge;
    // allowed at any time from any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}
