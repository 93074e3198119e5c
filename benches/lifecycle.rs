//! A full complaint lifecycle (12 commands, receipt to close) on MemoryStore, through the
//! engine on one and on two threads, and through `decide` + `apply` directly (the baseline
//! for the engine's overhead).
//!
//! Run: `cargo bench --bench lifecycle`.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use plaint::blocking::Wait as _;
use plaint::{
    Actor, Command, CommandId, Complaint, ComplaintId, Engine, ManualClock, MemoryStore, Policy,
    Recorded, decide, testing,
};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;
use support::script;

/// One lifecycle's input: the complaint id and each command with its id and actor.
type Input = (ComplaintId, Vec<(CommandId, Command, Actor)>);

fn input(template: &[(Command, Actor)], n: u64) -> Input {
    let id = ComplaintId::new(format!("EXP-{n}")).unwrap();
    let cmds = template
        .iter()
        .enumerate()
        .map(|(i, (c, a))| {
            (
                CommandId::new(format!("{n}-{i}")).unwrap(),
                c.clone(),
                a.clone(),
            )
        })
        .collect();
    (id, cmds)
}

type BenchEngine = Engine<MemoryStore, plaint::DiscardNotifier, ManualClock>;

fn engine(policy: &Policy) -> BenchEngine {
    Engine::builder(MemoryStore::new(), policy.clone())
        .clock(ManualClock::new(testing::t(1)))
        .build()
}

/// Runs the script as a service does: each answer is let go before the next command. (An
/// answer still held makes the store copy the complaint instead of applying in place, which
/// timed this bench's own habit, not the engine.)
fn run_engine(e: &BenchEngine, (id, cmds): Input) -> Arc<Complaint> {
    let mut last = None;
    for (cid, cmd, actor) in cmds {
        drop(last.take());
        last = Some(
            e.execute(cid, &id, cmd, &actor)
                .wait()
                .expect("the script is legal"),
        );
    }
    last.unwrap()
}

fn run_direct(policy: &Policy, (id, cmds): Input) -> Complaint {
    let now = testing::t(1);
    let mut state: Option<Complaint> = None;
    for (cid, cmd, actor) in cmds {
        let events = decide(state.as_ref(), policy, cmd, &actor, now).expect("legal");
        let base = state.as_ref().map_or(0, |c| c.version);
        for (event, version) in events.into_iter().zip(base + 1..) {
            let rec = Recorded {
                version,
                at: now,
                actor: actor.id.clone(),
                actor_kind: None,
                command: cid.clone(),
                event,
            };
            match &mut state {
                Some(c) => c.apply(&rec),
                None => state = Complaint::open(id.clone(), &rec),
            }
        }
    }
    state.unwrap()
}

/// Runs `iters` lifecycles on a fresh engine, split over `threads` threads sharing it, and
/// returns the wall time scaled to exactly `iters`. Inputs are built before the clock starts;
/// a fresh engine per sample keeps the store's size bounded (a few thousand complaints).
fn timed_engine(
    policy: &Policy,
    template: &[(Command, Actor)],
    threads: u64,
    iters: u64,
) -> Duration {
    let e = engine(policy);
    let per_thread = iters.div_ceil(threads);
    let inputs: Vec<Vec<Input>> = (0..threads)
        .map(|t| {
            (0..per_thread)
                .map(|i| input(template, i * threads + t))
                .collect()
        })
        .collect();
    let start = Instant::now();
    std::thread::scope(|s| {
        for chunk in inputs {
            let e = &e;
            s.spawn(move || {
                for inp in chunk {
                    black_box(run_engine(e, inp));
                }
            });
        }
    });
    start
        .elapsed()
        .mul_f64(iters as f64 / (per_thread * threads) as f64)
}

fn lifecycle(c: &mut Criterion) {
    let policy = testing::policy();
    let template = script();
    let mut g = c.benchmark_group("lifecycle");
    g.throughput(Throughput::Elements(1));

    let mut n = 0;
    g.bench_function("decide+apply", |b| {
        b.iter_batched(
            || {
                n += 1;
                input(&template, n)
            },
            |inp| black_box(run_direct(&policy, inp)),
            BatchSize::SmallInput,
        )
    });

    for threads in [1u64, 2] {
        g.bench_function(format!("engine/{threads}-thread"), |b| {
            b.iter_custom(|iters| timed_engine(&policy, &template, threads, iters))
        });
    }

    // The engine's own overhead without a growing store: each lifecycle on an empty one
    // (the store's growth, with its cache misses and page faults, is left out).
    g.bench_function("engine/1-thread-empty-store", |b| {
        b.iter_batched(
            || {
                n += 1;
                (engine(&policy), input(&template, n))
            },
            // The engine is returned so that dropping it is not timed.
            |(e, inp)| {
                let c = run_engine(&e, inp);
                black_box((e, c))
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = lifecycle
}
criterion_main!(benches);
