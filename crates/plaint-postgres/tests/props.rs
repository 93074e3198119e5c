//! Property tests of several engines (each with its own pool) sharing one schema: random
//! schedules of commands, clock moves, ticks and relays from 2–3 engines run at once, and
//! whatever the interleaving the store keeps its invariants — each state the fold of its
//! history, each command id applied once, each clock item fired once (and reported by the
//! one tick that fired it), each delivery for a committed event, the feed complete.

mod common;

use plaint_core::notify::{Notification, NotifyError};
use plaint_core::testing::{self, t};
use plaint_core::{
    Command, CommandId, Complaint, ComplaintId, Engine, EngineError, ManualClock, Notifier,
    Store as _,
};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
enum Op {
    Receive(u8),
    Evidence(u8),
    Acknowledge(u8),
    /// Moves the shared clock on by this many minutes.
    Advance(u16),
    Tick,
    Relay,
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0u8..5;
    prop_oneof![
        2 => k.clone().prop_map(Op::Receive),
        3 => k.clone().prop_map(Op::Evidence),
        2 => k.prop_map(Op::Acknowledge),
        2 => (1u16..120).prop_map(Op::Advance),
        3 => Just(Op::Tick),
        1 => Just(Op::Relay),
    ]
}

/// 2 or 3 engines, each with its own list of steps.
fn schedule() -> impl Strategy<Value = Vec<Vec<Op>>> {
    prop::collection::vec(prop::collection::vec(op(), 4..20), 2..=3)
}

/// Remembers every notification it delivers.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Notifier for Recorder {
    async fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        self.0.lock().expect("lock").push(n.id.to_string());
        Ok(())
    }
}

fn cid(k: u8) -> ComplaintId {
    ComplaintId::new(format!("P-{k}")).expect("valid")
}

fn evidence(n: &str) -> Command {
    Command::AddEvidence(plaint_core::model::Evidence {
        kind: plaint_core::model::EvidenceKind::Photo,
        reference: format!("photo-{n}").into(),
        content_hash: None,
    })
}

/// Runs one schedule on a fresh schema and checks the invariants; returns how many
/// commands were acknowledged and clock items fired.
fn run(db: &common::Db, schedule: &[Vec<Op>]) -> (usize, usize) {
    let config = db.fresh_config().max_connections(3);
    db.rt
        .0
        .block_on(plaint_postgres::PgStore::migrate(&config))
        .expect("migrates");
    let clock = Arc::new(ManualClock::new(t(0)));
    let delivered = Arc::new(Recorder::default());
    let engines: Vec<_> = schedule
        .iter()
        .map(|_| {
            Engine::builder(db.open(config.clone()), testing::sla_policy())
                .clock(Arc::clone(&clock))
                .notifier(Arc::clone(&delivered))
                .build()
        })
        .collect();
    let agent = testing::agent();
    // Each engine's steps on a thread of its own, all at once: (acknowledged command ids,
    // events its ticks reported).
    let results: Vec<(Vec<String>, usize)> = std::thread::scope(|s| {
        let threads: Vec<_> = engines
            .iter()
            .zip(schedule)
            .enumerate()
            .map(|(e, (engine, ops))| {
                let (clock, agent) = (&clock, &agent);
                s.spawn(move || {
                    let (mut acked, mut fired) = (Vec::new(), 0);
                    for (i, op) in ops.iter().enumerate() {
                        let id = format!("e{e}-{i}");
                        let command = match op {
                            Op::Receive(k) => Some((
                                cid(*k),
                                Command::Receive(Arc::new(testing::intake(
                                    plaint_core::Clock::now(&**clock),
                                ))),
                            )),
                            Op::Evidence(k) => Some((cid(*k), evidence(&id))),
                            Op::Acknowledge(k) => Some((cid(*k), Command::Acknowledge)),
                            Op::Advance(m) => {
                                clock.advance(chrono::Duration::minutes(i64::from(*m)));
                                None
                            }
                            Op::Tick => {
                                let tick = db.rt.0.block_on(engine.tick()).expect("ticks");
                                assert!(tick.failed.is_empty(), "{:?}", tick.failed);
                                fired += tick.fired.len();
                                None
                            }
                            Op::Relay => {
                                db.rt.0.block_on(engine.relay()).expect("relays");
                                None
                            }
                        };
                        let Some((complaint, command)) = command else {
                            continue;
                        };
                        let command_id = CommandId::new(id.clone()).expect("valid");
                        match db
                            .rt
                            .0
                            .block_on(engine.execute(command_id, &complaint, command, agent))
                        {
                            Ok(_) => acked.push(id),
                            // Not received yet, received already, already acknowledged,
                            // or outrun by the others: refused, nothing changed.
                            Err(EngineError::Rejected(_)) => {}
                            Err(e) => panic!("{id}: {e}"),
                        }
                    }
                    (acked, fired)
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|h| h.join().expect("engine thread"))
            .collect()
    });

    let store = db.open(config);
    db.rt.0.block_on(async {
        let mut by_command: HashMap<String, HashSet<String>> = HashMap::new();
        let mut committed = HashSet::new();
        let (mut events, mut tick_events) = (0, 0);
        for id in common::all_ids(&store).await {
            let history = store.history(&id).await.expect("history");
            let state = store.load(&id).await.expect("loads").expect("exists");
            assert_eq!(
                *state,
                Complaint::replay(id.clone(), &history).expect("replays"),
                "{id}: state is the fold of its history"
            );
            let mut items = HashSet::new();
            let mut spans: Vec<&str> = Vec::new();
            for r in &history {
                if let Some(item) = common::firing(r) {
                    assert!(items.insert(item.clone()), "{id}: {item:?} fired twice");
                }
                let command = r.command.as_str();
                if command.starts_with("tick:") {
                    tick_events += 1;
                } else {
                    by_command
                        .entry(command.to_owned())
                        .or_default()
                        .insert(id.to_string());
                }
                // A command's events are one run in one history: it was applied once.
                if spans.last() != Some(&command) {
                    assert!(!spans.contains(&command), "{id}: {command} applied twice");
                    spans.push(command);
                }
                committed.insert((id.to_string(), r.version));
            }
            events += history.len();
        }
        for (acked, _) in &results {
            for command in acked {
                assert_eq!(
                    by_command.get(command).map(HashSet::len),
                    Some(1),
                    "{command} recorded in one complaint"
                );
                let cmd = CommandId::new(command.clone()).expect("valid");
                assert!(store.command(&cmd).await.expect("reads").is_some());
            }
        }
        let acked: usize = results.iter().map(|(a, _)| a.len()).sum();
        assert_eq!(
            by_command.len(),
            acked,
            "only acknowledged commands are stored"
        );
        let fired: usize = results.iter().map(|(_, f)| f).sum();
        assert_eq!(
            fired, tick_events,
            "each firing reported by the one tick that made it"
        );
        for id in delivered.0.lock().expect("lock").iter() {
            let mut parts = id.split('/');
            let key = (
                parts.next().expect("complaint").to_owned(),
                parts.next().expect("version").parse().expect("number"),
            );
            assert!(
                committed.contains(&key),
                "{id} delivered for a committed event"
            );
        }
        let feed = common::whole_feed(&store).await;
        assert_eq!(feed.len(), events, "the feed holds every event");
        let fed: HashSet<_> = feed
            .iter()
            .map(|e| (e.complaint.to_string(), e.recorded.version))
            .collect();
        assert_eq!(fed, committed, "each once");
        (acked, fired)
    })
}

#[test]
fn concurrent_engines_on_one_schema_keep_the_invariants() {
    let Some(db) = common::Db::new() else { return };
    let cases = std::env::var("PLAINT_PG_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(24);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let totals = std::cell::Cell::new((0, 0));
    runner
        .run(&schedule(), |schedule| {
            let (acked, fired) = run(&db, &schedule);
            let (a, f) = totals.get();
            totals.set((a + acked, f + fired));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (acked, fired) = totals.get();
    eprintln!("{cases} schedules: {acked} commands acknowledged, {fired} clock items fired");
    assert!(
        acked > 0 && fired > 0,
        "the schedules exercised commands and deadlines"
    );
}
