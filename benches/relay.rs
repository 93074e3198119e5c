//! The notification relay: throughput with a no-op notifier and with one that takes 1 ms per
//! call, and `execute`'s latency with the relay idle and with it busy on another thread.
//!
//! Run: `cargo bench --bench relay`.

use criterion::{Criterion, criterion_group, criterion_main};
use plaint::blocking::Wait as _;
use plaint::{
    Command, CommandId, ComplaintId, Engine, ManualClock, MemoryStore, Notification, Notifier,
    NotifyError, testing,
};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Accepts everything at once.
struct Noop;
impl Notifier for Noop {
    async fn deliver(&self, _: &Notification) -> Result<(), NotifyError> {
        Ok(())
    }
}

/// Takes a millisecond per call, like a slow SMS gateway.
struct Slow;
impl Notifier for Slow {
    async fn deliver(&self, _: &Notification) -> Result<(), NotifyError> {
        std::thread::sleep(Duration::from_millis(1));
        Ok(())
    }
}

type BenchEngine<N> = Engine<MemoryStore, N, Arc<ManualClock>>;

/// An engine whose outbox holds `n` notifications (one acknowledgement per complaint).
fn filled<N: Notifier>(notifier: N, n: usize) -> BenchEngine<N> {
    let e = Engine::builder(MemoryStore::new(), testing::policy())
        .clock(Arc::new(ManualClock::new(testing::t(1))))
        .notifier(notifier)
        .build();
    for i in 0..n {
        let id = ComplaintId::new(format!("C{i}")).unwrap();
        let intake = testing::intake(testing::t(0));
        let receive = Command::Receive(Arc::new(intake));
        e.execute(
            CommandId::new(format!("r{i}")).unwrap(),
            &id,
            receive,
            &testing::agent(),
        )
        .wait()
        .unwrap();
        e.execute(
            CommandId::new(format!("a{i}")).unwrap(),
            &id,
            Command::Acknowledge,
            &testing::agent(),
        )
        .wait()
        .unwrap();
    }
    e
}

fn relay(c: &mut Criterion) {
    let mut g = c.benchmark_group("relay");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Elements(1000));
    g.bench_function("noop/1000-notifications", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let e = filled(Noop, 1000);
                let t = Instant::now();
                let r = e.relay().wait().unwrap();
                total += t.elapsed();
                assert_eq!(r.delivered, 1000);
            }
            total
        })
    });
    g.throughput(criterion::Throughput::Elements(100));
    g.bench_function("1ms/100-notifications", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let e = filled(Slow, 100);
                let t = Instant::now();
                let r = e.relay().wait().unwrap();
                total += t.elapsed();
                assert_eq!(r.delivered, 100);
            }
            total
        })
    });
    g.finish();

    // execute's latency (one Acknowledge, which also writes an outbox entry), with the relay
    // idle and with a relay thread busy delivering through the 1 ms notifier.
    let mut g = c.benchmark_group("execute");
    for busy in [false, true] {
        let name = if busy {
            "with-busy-relay"
        } else {
            "with-idle-relay"
        };
        g.bench_function(name, |b| {
            let e = Arc::new(filled(Slow, 0));
            let stop = Arc::new(AtomicBool::new(false));
            let worker = busy.then(|| {
                let (e, stop) = (Arc::clone(&e), Arc::clone(&stop));
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        e.relay_batch(8).wait().unwrap();
                    }
                })
            });
            let mut n = 0u64;
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    n += 1;
                    let id = ComplaintId::new(format!("X{n}")).unwrap();
                    let receive = Command::Receive(Arc::new(testing::intake(testing::t(0))));
                    e.execute(
                        CommandId::new(format!("xr{n}")).unwrap(),
                        &id,
                        receive,
                        &testing::agent(),
                    )
                    .wait()
                    .unwrap();
                    let t = Instant::now();
                    black_box(
                        e.execute(
                            CommandId::new(format!("xa{n}")).unwrap(),
                            &id,
                            Command::Acknowledge,
                            &testing::agent(),
                        )
                        .wait()
                        .unwrap(),
                    );
                    total += t.elapsed();
                }
                total
            });
            stop.store(true, Ordering::Relaxed);
            if let Some(w) = worker {
                w.join().unwrap();
            }
        });
    }
    g.finish();
}

criterion_group!(benches, relay);
criterion_main!(benches);
