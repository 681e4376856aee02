//! Order-preserving parallel map over a work list, on scoped threads (no pool to manage).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Applies `f` to every item on `threads` threads (0: one per core) and returns the results in
/// input order. Items are handed out one at a time, so a few large items do not leave a thread
/// idle.
pub fn map_in_parallel<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let mut out = Vec::with_capacity(items.len());
    fold_in_order(items, threads, f, |r| out.push(r));
    out
}

/// Applies `f` to every item on `threads` threads and hands each result to `consume` in input
/// order as soon as every earlier one has been handed over, so that a fold over the results
/// (which may shed what it holds) is the same on every run and results do not pile up.
pub fn fold_in_order<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
    consume: impl FnMut(R) + Send,
) {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(items.len().max(1));
    let n = items.len();
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    let next = AtomicUsize::new(0);
    // (next index to consume, results waiting for an earlier one, the consumer)
    let state = Mutex::new((0usize, std::collections::BTreeMap::new(), consume));
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let item = slots[i].lock().map(|mut g| g.take()).ok().flatten();
                    let Some(item) = item else { continue };
                    let r = f(item);
                    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                    let (ready, pending, consume) = &mut *st;
                    pending.insert(i, r);
                    while let Some(r) = pending.remove(ready) {
                        consume(r);
                        *ready += 1;
                    }
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_in_order() {
        let v: Vec<u32> = (0..1000).collect();
        let mut seen = Vec::new();
        fold_in_order(v.clone(), 4, |x| x * 2, |r| seen.push(r));
        assert_eq!(seen, v.iter().map(|x| x * 2).collect::<Vec<_>>());
    }

    #[test]
    fn keeps_order() {
        let v: Vec<u32> = (0..1000).collect();
        let out = map_in_parallel(v.clone(), 4, |x| x * 2);
        assert_eq!(out, v.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert!(map_in_parallel(Vec::<u32>::new(), 0, |x| x).is_empty());
    }
}
