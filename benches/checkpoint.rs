//! How long an append waits while a checkpoint runs. A `FileStore` holds
//! `PLAINT_CHECKPOINT_IN_PROGRESS` complaints in progress (default 20,000; their clocks run, so
//! they stay in memory and every checkpoint writes them all to its snapshot: about a second's
//! work), and checkpoints after every `PLAINT_CHECKPOINT_AFTER` bytes of log (default 1 MiB).
//! Each iteration is one checkpoint: two writer threads append whole lifecycles on fresh
//! complaints (`Durability::Full`) until the next checkpoint has started and finished — told
//! from outside, by watching the directory for its new segment and then its snapshot — and
//! the appends in flight during it (issued before it ended, done after it started) are timed.
//! The figure criterion reports is the longest of those appends per checkpoint; the run's
//! p50, p99 and max over all of them are printed after.
//!
//! Run: `cargo bench --bench checkpoint`.

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use plaint::blocking::Wait as _;
use plaint::file::{Durability, FileStore, Options};
use plaint::{Append, Store, testing};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod support;

const WRITERS: usize = 2;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |s| s.parse().unwrap())
}

/// The newest numbered file `{prefix}N{suffix}` in `dir`.
fn newest(dir: &Path, prefix: &str, suffix: &str) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_prefix(prefix)?
                .strip_suffix(suffix)?
                .parse()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

/// Latencies of the appends in flight during a checkpoint, over the whole run.
static LATENCIES: Mutex<Vec<Duration>> = Mutex::new(Vec::new());

/// One checkpoint: writers append until the next one has started and finished. Returns the
/// longest append in flight during it.
fn episode(store: &FileStore, appends: &[Append], next: &AtomicU64) -> Duration {
    let dir = store.dir();
    let segment = |d: &Path| newest(d, "segment-", ".log");
    let snapshot = |d: &Path| newest(d, "snapshot-", ".snap");
    // None under way: the newest snapshot names the newest segment.
    while segment(dir) != snapshot(dir) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let (segment0, snapshot0) = (segment(dir), snapshot(dir));
    let stop = AtomicBool::new(false);
    let (timed, started, ended) = std::thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                s.spawn(|| {
                    let mut timed = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        for (k, a) in appends.iter().enumerate() {
                            let issued = Instant::now();
                            store.append(support::renumber(a, n, k)).wait().unwrap();
                            timed.push((issued, issued.elapsed()));
                        }
                    }
                    timed
                })
            })
            .collect();
        let mut started = None;
        let ended = loop {
            if started.is_none() && segment(dir) > segment0 {
                started = Some(Instant::now());
            }
            if snapshot(dir) > snapshot0 {
                break Instant::now();
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        stop.store(true, Ordering::Relaxed);
        let timed: Vec<_> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        (timed, started.unwrap_or(ended), ended)
    });
    let during: Vec<Duration> = timed
        .into_iter()
        .filter(|&(issued, took)| issued <= ended && issued + took >= started)
        .map(|(_, took)| took)
        .collect();
    let max = during.iter().copied().max().unwrap_or_default();
    LATENCIES.lock().unwrap().extend(during);
    max
}

fn report(name: &str) {
    let mut lat = std::mem::take(&mut *LATENCIES.lock().unwrap());
    lat.sort_unstable();
    if lat.is_empty() {
        return;
    }
    let p = |q: f64| lat[((lat.len() - 1) as f64 * q) as usize];
    eprintln!(
        "{name}: {} appends in flight during checkpoints, p50 {:?}, p99 {:?}, max {:?}",
        lat.len(),
        p(0.5),
        p(0.99),
        lat[lat.len() - 1]
    );
}

fn checkpoint(c: &mut Criterion) {
    let in_progress = env("PLAINT_CHECKPOINT_IN_PROGRESS", 20_000);
    let after = env("PLAINT_CHECKPOINT_AFTER", 1 << 20);
    // With clocks: a complaint in progress has a timer due, so it stays in memory.
    let appends = support::appends(testing::sla_policy());
    let base = std::env::var_os("PLAINT_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let dir = tempfile::tempdir_in(base).unwrap();
    {
        let options = Options::new()
            .durability(Durability::Buffered)
            .checkpoint_after(None);
        let store = FileStore::open(dir.path(), options).unwrap().store;
        for n in 0..in_progress {
            for (k, a) in appends[..appends.len() / 2].iter().enumerate() {
                store.append(support::renumber(a, n, k)).wait().unwrap();
            }
        }
        store.sync().unwrap();
        let started = Instant::now();
        store.checkpoint().unwrap();
        eprintln!(
            "checkpoint: {in_progress} complaints in progress; a checkpoint of them took {:?}",
            started.elapsed()
        );
    }
    let options = Options::new().checkpoint_after(Some(after));
    let store = FileStore::open(dir.path(), options).unwrap().store;
    let next = AtomicU64::new(in_progress);

    let mut g = c.benchmark_group("checkpoint");
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_millis(1));
    g.measurement_time(Duration::from_secs(1));
    g.bench_function("append-max", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| episode(&store, &appends, &next)).sum())
    });
    g.finish();
    report("checkpoint/append-max");
}

criterion_group!(benches, checkpoint);
criterion_main!(benches);
