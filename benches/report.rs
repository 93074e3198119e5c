//! The monthly analysis over a large store: 1,000,000 complaints (the 12-command lifecycle
//! under the sample policy with its clocks, received in the reported month) in a MemoryStore, reported in one streaming pass. Prints the resident
//! memory the report added at its peak (sampled every millisecond from /proc/self/statm).
//!
//! Run: `cargo bench --bench report`; `PLAINT_REPORT_COMPLAINTS=100000` for a smaller store.

use criterion::{Criterion, criterion_group, criterion_main};
use plaint::blocking::Wait as _;
use plaint::report::{Period, Report};
use plaint::{MemoryStore, Store, testing};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

mod support;

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn report(c: &mut Criterion) {
    let n: u64 = std::env::var("PLAINT_REPORT_COMPLAINTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let store = MemoryStore::new();
    for (k, a) in support::appends(testing::sla_policy()).iter().enumerate() {
        for i in 0..n {
            store.append(support::renumber(a, i, k)).wait().unwrap();
        }
    }
    let policy = testing::sla_policy();
    let period = Period::month(2026, 11).unwrap();
    let before = resident_bytes();
    let peak = AtomicU64::new(before);
    let done = AtomicBool::new(false);
    let received = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(resident_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let r = Report::from_store(&store, &policy, period).wait().unwrap();
        done.store(true, Ordering::Relaxed);
        r.received
    });
    assert_eq!(received, n);
    eprintln!(
        "report over {n} complaints: resident memory {} MB before, peak +{} MB during the report",
        before >> 20,
        (peak.into_inner().saturating_sub(before)) >> 20
    );
    let mut g = c.benchmark_group("report");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(30));
    g.bench_function(format!("month/{n}"), |b| {
        b.iter(|| Report::from_store(&store, &policy, period).wait().unwrap())
    });
    g.finish();
}

criterion_group!(benches, report);
criterion_main!(benches);
