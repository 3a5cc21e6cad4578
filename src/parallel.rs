//! Running independent pieces of work on every core, results kept in input order.
//!
//! Large configs (thousands of tasks) are parsed and deserialized in pieces; this is the one
//! place that decides how many threads do it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Fewer items than this are not worth a thread.
pub const MIN_ITEMS: usize = 1024;

/// A cap on [`threads`] set by [`limit_threads`] (0: none).
static LIMIT: AtomicUsize = AtomicUsize::new(0);

/// Threads worth using on this machine (at most 8: the work is memory-bound beyond that).
pub fn threads() -> usize {
    let available = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    match LIMIT.load(Ordering::Relaxed) {
        0 => available,
        limit => available.min(limit),
    }
}

/// Uses at most `n` threads from now on (0 lifts the cap); for measuring what the threads buy.
pub fn limit_threads(n: usize) {
    LIMIT.store(n, Ordering::Relaxed);
}

/// `f` applied to every item, spread over `threads` threads; results in the order of `items`.
/// With one thread, or one item, it all runs on the calling thread.
pub fn map<I: Sync, R: Send>(items: &[I], threads: usize, f: impl Fn(&I) -> R + Sync) -> Vec<R> {
    if threads <= 1 || items.len() <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|scope| {
        for _ in 0..threads.min(items.len()) {
            scope.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    mine.push((i, f(item)));
                }
                // A poisoned lock only means another worker panicked; its panic is re-raised
                // by `scope` below, so the data here is never read in that case.
                done.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend(mine);
            });
        }
    });
    let mut done = done
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Like [`map`], but `f` takes each item by value (and so frees it on its worker thread).
pub fn map_owned<I: Send, R: Send>(
    items: Vec<I>,
    threads: usize,
    f: impl Fn(I) -> R + Sync,
) -> Vec<R> {
    let cells: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    // Every cell is taken exactly once, by the one worker that drew its index.
    map(&cells, threads, |cell| {
        cell.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .map(&f)
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Cuts `items` into about `parts` runs of near-equal length, in order.
pub fn split<T>(mut items: Vec<T>, parts: usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = ranges(items.len(), parts)
        .iter()
        .rev()
        .map(|r| items.split_off(r.start))
        .collect();
    out.reverse();
    out
}

/// Splits `0..len` into about `parts` contiguous ranges of near-equal size.
pub fn ranges(len: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.clamp(1, len.max(1));
    let size = len.div_ceil(parts);
    (0..len)
        .step_by(size.max(1))
        .map(|start| start..(start + size).min(len))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_input_order_on_many_threads() {
        let items: Vec<u64> = (0..1000).collect();
        let out = map(&items, 4, |i| i * 2);
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn owned_items_are_split_and_mapped_in_order() {
        let items: Vec<String> = (0..1001).map(|i| i.to_string()).collect();
        let parts = split(items.clone(), 8);
        assert_eq!(parts.len(), 8);
        assert_eq!(parts.concat(), items);
        let lens = map_owned(parts, 3, |p| p.len());
        assert_eq!(lens.iter().sum::<usize>(), 1001);
        assert!(lens.iter().all(|&l| l == 126 || l == 119), "{lens:?}");
    }

    #[test]
    fn threads_can_be_capped_and_uncapped() {
        let all = threads();
        assert!((1..=8).contains(&all));
        limit_threads(1);
        assert_eq!(threads(), 1);
        limit_threads(0);
        assert_eq!(threads(), all);
    }

    #[test]
    fn ranges_cover_everything_once() {
        for len in [0, 1, 7, 100, 1001] {
            for parts in [1, 2, 3, 8, 2000] {
                let r = ranges(len, parts);
                let flat: Vec<usize> = r.iter().flat_map(|r| r.clone()).collect();
                assert_eq!(
                    flat,
                    (0..len).collect::<Vec<_>>(),
                    "len {len} parts {parts}"
                );
                assert!(r.len() <= parts.max(1));
            }
        }
    }
}
