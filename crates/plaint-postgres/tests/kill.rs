//! The multi-process kill test: three child processes (this test binary run again) each run
//! an engine with its own pool on one schema — receiving complaints, racing commands on
//! shared ones, ticking and relaying — and print what was acknowledged and delivered. The
//! parent SIGKILLs them at random moments and starts them again (200 kills by default,
//! `PLAINT_PG_KILLS` sets how many; the schedule is a fixed xorshift sequence). At the end:
//! every acknowledged command is in the store, no clock item fired twice, every delivered
//! notification belongs to a committed event, and the feed holds every event exactly once.

mod common;

use plaint_core::notify::{Notification, NotifyError};
use plaint_core::testing::{self, t};
use plaint_core::{
    Command, CommandId, Complaint, ComplaintId, Engine, EngineError, ManualClock, Notifier,
    Store as _,
};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

const TEST: &str = "killed_instances_lose_nothing_and_fire_nothing_twice";
const SCHEMA: &str = "PLAINT_PG_KILL_SCHEMA";
const SLOTS: u64 = 3;
/// Complaints every child acts on, received by the parent before the children start.
const SHARED: u64 = 6;
/// The engine's time moves this much per step, so deadlines (30 min, 1 h) fall due.
const STEP_MINUTES: i64 = 5;

fn cmd(s: &str) -> CommandId {
    CommandId::new(s).expect("valid")
}

fn cid(s: &str) -> ComplaintId {
    ComplaintId::new(s).expect("valid")
}

fn shared(n: u64) -> ComplaintId {
    cid(&format!("S-{}", n % SHARED))
}

fn evidence(n: &str) -> Command {
    Command::AddEvidence(plaint_core::model::Evidence {
        kind: plaint_core::model::EvidenceKind::Photo,
        reference: format!("photo-{n}").into(),
        content_hash: None,
    })
}

/// Prints the id of each notification it delivers (after which the child may be killed
/// before settling it: delivery is at least once).
struct Printer;

impl Notifier for Printer {
    async fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        println!("@@sent {}", n.id);
        Ok(())
    }
}

/// In a child: steps from 0 on, until killed. Incarnation `run` (unique across the test)
/// names its command ids; step `i` runs at minute `minute0 + i` (× `STEP_MINUTES`).
fn child(schema: &str, slot: u64, run: u64, minute0: i64) {
    let db = common::Db::new().expect("the parent set PLAINT_PG_URL");
    let config = db.config(schema).max_connections(2);
    let clock = Arc::new(ManualClock::new(t(0)));
    let engine = Engine::builder(db.open(config), testing::sla_policy())
        .clock(Arc::clone(&clock))
        .notifier(Printer)
        .build();
    let agent = testing::agent();
    let fail = |what: &str, e: EngineError| -> ! {
        println!("@@fail run {run} {what}: {e}");
        std::process::exit(1)
    };
    for i in 0u64.. {
        let minute = minute0 + i as i64;
        let now = t(0) + chrono::Duration::minutes(minute * STEP_MINUTES);
        clock.set(now);
        let own = |k: u64| cid(&format!("K-{run}-{}", i - k));
        let (id, command) = match i % 4 {
            0 => (own(0), Command::Receive(Arc::new(testing::intake(now)))),
            1 => (shared(i + slot), evidence(&format!("{run}-{i}"))),
            // The children race to acknowledge the shared complaints: one wins each.
            2 => (shared(i / 4 + slot), Command::Acknowledge),
            _ => (own(3), evidence(&format!("{run}-{i}"))),
        };
        let command_id = format!("c-{run}-{i}");
        match db
            .rt
            .0
            .block_on(engine.execute(cmd(&command_id), &id, command, &agent))
        {
            Ok(_) => println!("@@ack {command_id} {minute}"),
            // Already acknowledged, or outrun by the other children: refused, not applied.
            Err(EngineError::Rejected(_)) => {}
            Err(e) => fail(&command_id, e),
        }
        match db.rt.0.block_on(engine.tick()) {
            Ok(tick) if tick.failed.is_empty() => {}
            Ok(tick) => fail("tick", tick.failed.into_iter().next().expect("one").1),
            Err(e) => fail("tick", e),
        }
        if let Err(e) = db.rt.0.block_on(engine.relay()) {
            fail("relay", e);
        }
    }
}

/// A small deterministic generator (no clock, no external crate): xorshift64.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// What a child printed (or that its output ended), by incarnation.
enum Line {
    Ack { command: String, minute: i64 },
    Sent(String),
    Fail(String),
    Ended,
}

struct Running {
    child: Child,
    run: u64,
    acks: u64,
    kill_after: u64,
}

fn spawn(schema: &str, slot: u64, run: u64, minute0: i64, tx: &mpsc::Sender<(u64, Line)>) -> Child {
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(SCHEMA, schema)
        .env("PLAINT_PG_KILL_SLOT", slot.to_string())
        .env("PLAINT_PG_KILL_RUN", run.to_string())
        .env("PLAINT_PG_KILL_MINUTE", minute0.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawns a child");
    let out = BufReader::new(child.stdout.take().expect("piped"));
    let tx = tx.clone();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            // The test harness may print before the marker on the same line.
            let Some((_, msg)) = line.split_once("@@") else {
                continue;
            };
            let parsed = if let Some(rest) = msg.strip_prefix("ack ") {
                let (command, minute) = rest.split_once(' ').expect("ack line");
                Line::Ack {
                    command: command.to_owned(),
                    minute: minute.parse().expect("minute"),
                }
            } else if let Some(id) = msg.strip_prefix("sent ") {
                Line::Sent(id.to_owned())
            } else {
                Line::Fail(msg.to_owned())
            };
            if tx.send((run, parsed)).is_err() {
                return;
            }
        }
        let _ = tx.send((run, Line::Ended));
    });
    child
}

#[test]
fn killed_instances_lose_nothing_and_fire_nothing_twice() {
    if let Ok(schema) = std::env::var(SCHEMA) {
        let var = |name: &str| std::env::var(name).expect("set by the parent");
        return child(
            &schema,
            var("PLAINT_PG_KILL_SLOT").parse().expect("slot"),
            var("PLAINT_PG_KILL_RUN").parse().expect("run"),
            var("PLAINT_PG_KILL_MINUTE").parse().expect("minute"),
        );
    }
    let Some(db) = common::Db::new() else { return };
    let kills: u64 = std::env::var("PLAINT_PG_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let started = std::time::Instant::now();
    let config = db.fresh_config();
    let schema = config.schema_name().expect("a schema").to_owned();
    db.rt
        .0
        .block_on(plaint_postgres::PgStore::migrate(&config))
        .expect("migrates");
    let store = db.open(config);
    let setup = Engine::builder(store.clone(), testing::sla_policy())
        .clock(Arc::new(ManualClock::new(t(0))))
        .build();
    for n in 0..SHARED {
        db.rt
            .0
            .block_on(setup.execute(
                cmd(&format!("shared-{n}")),
                &shared(n),
                Command::Receive(Arc::new(testing::intake(t(0)))),
                &testing::agent(),
            ))
            .expect("receives");
    }

    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let (tx, rx) = mpsc::channel();
    let mut acked: Vec<String> = Vec::new();
    let mut sent: Vec<String> = Vec::new();
    let mut minute = 0i64;
    let mut next_run = 0u64;
    let mut slots: Vec<Running> = (0..SLOTS)
        .map(|slot| {
            let run = next_run;
            next_run += 1;
            Running {
                child: spawn(&schema, slot, run, minute, &tx),
                run,
                acks: 0,
                kill_after: 1 + next(&mut seed) % 6,
            }
        })
        .collect();
    let mut done = 0u64;
    let mut killed: HashSet<u64> = HashSet::new();
    while done < kills {
        let (run, line) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a child made progress within 60 s");
        match line {
            Line::Ack { command, minute: m } => {
                acked.push(command);
                minute = minute.max(m);
            }
            Line::Sent(id) => {
                sent.push(id);
                continue;
            }
            Line::Fail(msg) => panic!("a child failed: {msg}"),
            Line::Ended if killed.contains(&run) => continue,
            Line::Ended => panic!("child run {run} ended without being killed"),
        }
        let Some(slot) = slots.iter().position(|s| s.run == run) else {
            continue; // an acknowledgement from the pipe of a child already killed
        };
        let s = &mut slots[slot];
        s.acks += 1;
        if s.acks < s.kill_after {
            continue;
        }
        // Somewhere in its next step: deciding, appending, committing, ticking, relaying.
        std::thread::sleep(Duration::from_millis(next(&mut seed) % 25));
        killed.insert(s.run);
        s.child.kill().expect("SIGKILL");
        s.child.wait().expect("reaped");
        done += 1;
        let run = next_run;
        next_run += 1;
        *s = Running {
            child: spawn(&schema, slot as u64, run, minute + 1, &tx),
            run,
            acks: 0,
            kill_after: 1 + next(&mut seed) % 6,
        };
    }
    for s in &mut slots {
        killed.insert(s.run);
        s.child.kill().expect("SIGKILL");
        s.child.wait().expect("reaped");
    }
    drop(tx);
    // What was already in the pipes when the kills landed counts too.
    for (run, line) in rx {
        match line {
            Line::Ack { command, .. } => acked.push(command),
            Line::Sent(id) => sent.push(id),
            Line::Fail(msg) => panic!("child run {run} failed: {msg}"),
            Line::Ended => {}
        }
    }

    db.rt.0.block_on(async {
        for command in &acked {
            assert!(
                store.command(&cmd(command)).await.expect("reads").is_some(),
                "acknowledged command {command} is in the store"
            );
        }
        let mut committed: HashSet<(String, u64)> = HashSet::new();
        let mut events = 0usize;
        let mut fired = 0usize;
        for id in common::all_ids(&store).await {
            let history = store.history(&id).await.expect("history");
            let mut items = HashSet::new();
            for r in &history {
                if let Some(item) = common::firing(r) {
                    fired += 1;
                    assert!(items.insert(item.clone()), "{id}: {item:?} fired twice");
                }
                committed.insert((id.to_string(), r.version));
            }
            let state = store.load(&id).await.expect("loads").expect("exists");
            assert_eq!(
                *state,
                Complaint::replay(id.clone(), &history).expect("replays"),
                "{id}: the state is the fold of its events"
            );
            events += history.len();
        }
        for id in &sent {
            let mut parts = id.split('/');
            let complaint = parts.next().expect("complaint").to_owned();
            let version: u64 = parts.next().expect("version").parse().expect("a number");
            assert!(
                committed.contains(&(complaint, version)),
                "notification {id} was delivered for an event that did not commit"
            );
        }
        let feed = common::whole_feed(&store).await;
        assert_eq!(feed.len(), events, "the feed holds every event");
        let distinct: HashSet<_> = feed
            .iter()
            .map(|e| (e.complaint.to_string(), e.recorded.version))
            .collect();
        assert_eq!(distinct, committed, "each event exactly once");
        let by_command: HashMap<&str, usize> = acked.iter().map(|c| (c.as_str(), 0)).collect();
        assert_eq!(by_command.len(), acked.len(), "command ids are unique");
        assert!(fired > 0, "deadlines fell due and fired");
        assert!(!sent.is_empty(), "notifications were delivered");
        eprintln!(
            "{kills} kills over {next_run} child runs: {} acknowledged commands, {events} \
             events, {fired} clock items fired, {} deliveries, in {:.1?}",
            acked.len(),
            sent.len(),
            started.elapsed()
        );
    });
}
