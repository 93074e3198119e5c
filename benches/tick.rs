//! One `Engine::tick` that fires 1,000 due timers among 10,000 and among 1,000,000 open
//! complaints: the cost must follow what is due, not what is open. Also prints the resident
//! memory per open complaint with its clock (from /proc/self/statm, Linux only).
//!
//! Run: `cargo bench --bench tick`.

use chrono::Duration;
use criterion::{Criterion, criterion_group, criterion_main};
use plaint::blocking::Wait as _;
use plaint::{
    Command, CommandId, ComplaintId, DiscardNotifier, Engine, ManualClock, MemoryStore, Policy,
    Timestamp, testing,
};
use std::sync::Arc;
use std::time::Instant;

/// Firings per tick.
const BATCH: i64 = 1_000;

/// The sample policy with one clock: every received complaint must be acknowledged within an
/// hour, so each open complaint holds exactly one due timer (its breach).
fn policy() -> Policy {
    let clock = r#"
key = "acknowledge"
start_on = ["received"]
stop_on = ["acknowledged"]
targets = { general = { elapsed = "1h" } }
"#;
    let mut policy = testing::policy();
    policy.clocks = vec![toml::from_str(clock).expect("valid clock")];
    policy
}

struct World {
    engine: Engine<MemoryStore, DiscardNotifier, Arc<ManualClock>>,
    clock: Arc<ManualClock>,
    start: Timestamp,
    open: i64,
    /// Batches fired so far.
    fired: i64,
}

/// `open` complaints, complaint `i` received at `start + i` seconds (due an hour later).
fn world(open: i64) -> World {
    let start = testing::t(0);
    let clock = Arc::new(ManualClock::new(start));
    let engine = Engine::builder(MemoryStore::new(), policy())
        .clock(Arc::clone(&clock))
        .build();
    let intake = testing::intake(start);
    for i in 0..open {
        clock.set(start + Duration::seconds(i));
        let id = ComplaintId::new(format!("C{i:08}")).expect("valid");
        let cmd = CommandId::new(format!("r{i}")).expect("valid");
        engine
            .execute(
                cmd,
                &id,
                Command::Receive(Arc::new(intake.clone())),
                &testing::agent(),
            )
            .wait()
            .expect("receive");
    }
    World {
        engine,
        clock,
        start,
        open,
        fired: 0,
    }
}

impl World {
    /// Moves the clock so that exactly the next `BATCH` complaints are due; `false` when
    /// every complaint has fired.
    fn arm(&mut self) -> bool {
        if (self.fired + 1) * BATCH > self.open {
            return false;
        }
        self.fired += 1;
        self.clock
            .set(self.start + Duration::hours(1) + Duration::seconds(self.fired * BATCH - 1));
        true
    }
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn tick(c: &mut Criterion) {
    let mut g = c.benchmark_group("tick");
    g.sample_size(10);
    for open in [10_000i64, 1_000_000] {
        let before = resident_bytes();
        let mut w = world(open);
        if let (Some(a), Some(b)) = (before, resident_bytes()) {
            println!(
                "{open} open complaints: {} resident bytes per complaint with its clock",
                (b.saturating_sub(a)) / open as u64
            );
        }
        g.bench_function(format!("fire-1000-among-{open}"), |b| {
            b.iter_custom(|iters| {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iters {
                    if !w.arm() {
                        w = world(open);
                        w.arm();
                    }
                    let t = Instant::now();
                    let fired = w.engine.tick().wait().expect("tick").fired;
                    total += t.elapsed();
                    assert_eq!(fired.len() as i64, BATCH, "exactly one batch is due");
                }
                total
            })
        });
        drop(w);
    }
    g.finish();
}

criterion_group!(benches, tick);
criterion_main!(benches);
