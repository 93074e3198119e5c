//! Several engine instances (each with its own pool) on one database: racing commands and
//! ticks lose nothing and fire each clock item once; the feed stays gap-free with many
//! writers.

mod common;

use plaint_core::testing::{self, t};
use plaint_core::{
    Command, CommandId, ComplaintId, Engine, Event, ManualClock, Position, Recorded,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

fn cmd(s: &str) -> CommandId {
    CommandId::new(s).expect("valid")
}

fn cid(s: &str) -> ComplaintId {
    ComplaintId::new(s).expect("valid")
}

fn receive() -> Command {
    Command::Receive(Arc::new(testing::intake(t(0))))
}

fn evidence(n: &str) -> Command {
    Command::AddEvidence(plaint_core::model::Evidence {
        kind: plaint_core::model::EvidenceKind::Photo,
        reference: format!("photo-{n}").into(),
        content_hash: None,
    })
}

/// A clock item's key: which clock, cycle and item (warning, breach, rung n).
fn firing(r: &Recorded) -> Option<(String, u32, String)> {
    match &r.event {
        Event::ClockWarned { clock, cycle, .. } => Some((clock.to_string(), *cycle, "warn".into())),
        Event::ClockBreached { clock, cycle, .. } => {
            Some((clock.to_string(), *cycle, "breach".into()))
        }
        Event::RungReached {
            clock, cycle, rung, ..
        } => Some((clock.to_string(), *cycle, format!("rung-{rung}"))),
        _ => None,
    }
}

#[test]
fn engines_on_one_database_lose_nothing_and_fire_each_item_once() {
    let Some(db) = common::Db::new() else { return };
    let config = db.fresh_config();
    db.rt
        .0
        .block_on(plaint_postgres::PgStore::migrate(&config))
        .expect("migrates");
    let clock = Arc::new(ManualClock::new(t(0)));
    let engines: Vec<_> = (0..3)
        .map(|_| {
            Engine::builder(db.open(config.clone()), testing::sla_policy())
                .clock(Arc::clone(&clock))
                .build()
        })
        .collect();
    let agent = testing::agent();
    let ids: Vec<ComplaintId> = (0..24).map(|i| cid(&format!("MI-{i:02}"))).collect();
    // Every engine receives every complaint under the same command id: one records it, the
    // others are answered as retries of the same request.
    std::thread::scope(|s| {
        for engine in &engines {
            let (ids, agent, db) = (&ids, &agent, &db);
            s.spawn(move || {
                for id in ids {
                    let got = db.rt.0.block_on(engine.execute(
                        cmd(&format!("recv-{id}")),
                        id,
                        receive(),
                        agent,
                    ));
                    got.expect("receive or its retry");
                }
            });
        }
    });
    // Racing acknowledgements (each engine its own command id) on half of them: exactly one
    // is applied; the rest are refused, never applied twice.
    let acked: Vec<&ComplaintId> = ids.iter().step_by(2).collect();
    let accepted: usize = std::thread::scope(|s| {
        let threads: Vec<_> = engines
            .iter()
            .enumerate()
            .map(|(e, engine)| {
                let (acked, agent, db) = (&acked, &agent, &db);
                s.spawn(move || {
                    acked
                        .iter()
                        .filter(|id| {
                            db.rt
                                .0
                                .block_on(engine.execute(
                                    cmd(&format!("ack-{e}-{id}")),
                                    id,
                                    Command::Acknowledge,
                                    agent,
                                ))
                                .is_ok()
                        })
                        .count()
                })
            })
            .collect();
        threads.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    assert_eq!(accepted, acked.len(), "each acknowledgement applied once");
    // Time passes beyond every warning and breach; every engine ticks at once, repeatedly.
    clock.set(t(24 * 14));
    let fired_by_ticks: usize = std::thread::scope(|s| {
        let threads: Vec<_> = engines
            .iter()
            .chain(engines.iter())
            .map(|engine| {
                let db = &db;
                s.spawn(move || {
                    (0..3)
                        .map(|_| db.rt.0.block_on(engine.tick()).expect("ticks").fired.len())
                        .sum::<usize>()
                })
            })
            .collect();
        threads.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    let mut in_histories = 0;
    for id in &ids {
        let history = db.rt.0.block_on(engines[0].history(id)).expect("history");
        let mut seen = HashSet::new();
        for r in &history {
            if let Some(key) = firing(r) {
                assert!(seen.insert(key.clone()), "{id}: {key:?} fired twice");
            }
            if r.command.as_str().starts_with("tick:") {
                in_histories += 1;
            }
        }
        let acks = history
            .iter()
            .filter(|r| matches!(r.event, Event::Acknowledged))
            .count();
        assert_eq!(acks, usize::from(acked.contains(&id)), "{id}");
        let receipts = history
            .iter()
            .filter(|r| matches!(r.event, Event::Received { .. }))
            .count();
        assert_eq!(receipts, 1, "{id} received once");
        let state = db
            .rt
            .0
            .block_on(engines[1].get(id))
            .expect("get")
            .expect("exists");
        assert_eq!(
            *state,
            plaint_core::Complaint::replay(id.clone(), &history).expect("replays"),
            "state is the fold of the events"
        );
    }
    assert!(fired_by_ticks > 0, "the ticks had work");
    assert_eq!(
        fired_by_ticks, in_histories,
        "every event a tick reports is recorded once, and only those"
    );
    let due = db.rt.0.block_on(engines[2].next_due()).expect("next_due");
    assert!(
        due.is_none_or(|d| d > t(24 * 14)),
        "nothing left due: {due:?}"
    );
}

#[test]
fn the_feed_is_gap_free_with_many_writers_on_several_pools() {
    let Some(db) = common::Db::new() else { return };
    let config = db.fresh_config();
    db.rt
        .0
        .block_on(plaint_postgres::PgStore::migrate(&config))
        .expect("migrates");
    let clock = Arc::new(ManualClock::new(t(1)));
    let engines: Vec<_> = (0..3)
        .map(|_| {
            Engine::builder(db.open(config.clone()), testing::policy())
                .clock(Arc::clone(&clock))
                .build()
        })
        .collect();
    let reader_store = db.open(config.clone());
    let agent = testing::agent();
    let shared = cid("FEED-SHARED");
    db.rt
        .0
        .block_on(engines[0].execute(cmd("shared-recv"), &shared, receive(), &agent))
        .expect("receives");
    let done = std::sync::atomic::AtomicBool::new(false);
    let (writers, rounds) = (9, 20);
    let seen = std::thread::scope(|s| {
        let reader = {
            let (done, db, store) = (&done, &db, &reader_store);
            s.spawn(move || {
                use plaint_core::Store as _;
                let mut seen = Vec::new();
                let mut versions: HashMap<ComplaintId, u64> = HashMap::new();
                let mut next = Position::START;
                loop {
                    let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                    let page = db.rt.0.block_on(store.feed(next, 50)).expect("feed");
                    for e in &page.entries {
                        assert_eq!(e.position.get(), next.get() + 1, "never n + 1 before n");
                        let v = versions.entry(e.complaint.clone()).or_insert(0);
                        assert_eq!(e.recorded.version, *v + 1, "a complaint's events in order");
                        *v += 1;
                        next = e.position;
                    }
                    if page.entries.is_empty() && finished {
                        return seen;
                    }
                    seen.extend(page.entries);
                }
            })
        };
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let (engine, agent, shared, db) = (&engines[w % 3], &agent, &shared, &db);
                s.spawn(move || {
                    let own = cid(&format!("FEED-OWN-{w}"));
                    db.rt
                        .0
                        .block_on(engine.execute(cmd(&format!("own-{w}")), &own, receive(), agent))
                        .expect("receives");
                    for i in 0..rounds {
                        for id in [&own, shared] {
                            let got = db.rt.0.block_on(engine.execute(
                                cmd(&format!("ev-{w}-{i}-{id}")),
                                id,
                                evidence(&format!("{w}-{i}")),
                                agent,
                            ));
                            match got {
                                Ok(_) => {}
                                // Nine writers on one complaint may outrun the engine's
                                // retries; the own complaint has no rival.
                                Err(e) if id == shared && e.code() == "conflict" => {}
                                Err(e) => panic!("{id}: {e}"),
                            }
                        }
                    }
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        // Stop the reader whatever happened, so a failed writer fails the test, not hangs it.
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let seen = reader.join().expect("reader");
        for r in results {
            r.expect("writer");
        }
        seen
    });
    let mut total = 0;
    let ids = (0..writers)
        .map(|w| cid(&format!("FEED-OWN-{w}")))
        .chain([shared]);
    for id in ids {
        let history = db.rt.0.block_on(engines[0].history(&id)).expect("history");
        total += history.len();
        let fed: Vec<Recorded> = seen
            .iter()
            .filter(|e| e.complaint == id)
            .map(|e| e.recorded.clone())
            .collect();
        assert_eq!(fed, history, "the feed holds each of {id}'s events once");
    }
    assert_eq!(seen.len(), total, "and nothing else");
    assert!(
        total > writers * (1 + rounds),
        "every own complaint's events, and more"
    );
}

/// An instance hears of a new deadline another instance wrote (LISTEN/NOTIFY), so its
/// runner wakes without polling. Waits in real time, bounded (10 s), for the server to pass
/// the notification on: no manual clock stands in for another connection.
#[test]
fn an_instance_hears_of_another_instances_deadlines() {
    use plaint_core::Store as _;
    let Some(db) = common::Db::new() else { return };
    let config = db.fresh_config();
    db.rt
        .0
        .block_on(plaint_postgres::PgStore::migrate(&config))
        .expect("migrates");
    let writer = Engine::builder(db.open(config.clone()), testing::sla_policy())
        .clock(Arc::new(ManualClock::new(t(0))))
        .build();
    let listener = db.open(config);
    let changes = listener.changes().expect("PgStore raises a change signal");
    let bound = std::time::Duration::from_secs(10);
    db.rt.0.block_on(async {
        // The listener raises the signal once it is subscribed: from then on it hears all.
        tokio::time::timeout(bound, changes.changed(0))
            .await
            .expect("the listener subscribes");
        let seen = changes.seen();
        writer
            .execute(cmd("wake-1"), &cid("WAKE-1"), receive(), &testing::agent())
            .await
            .expect("receives");
        tokio::time::timeout(bound, changes.changed(seen))
            .await
            .expect("the other instance hears of the new deadline");
        let stats = listener
            .outbox_stats()
            .await
            .expect("stats")
            .expect("PgStore counts its outbox");
        assert_eq!(stats.dead, 0);
        assert_eq!(
            listener.next_due().await.expect("next_due"),
            writer.next_due().await.expect("next_due"),
        );
    });
}
