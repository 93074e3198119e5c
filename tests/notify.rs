//! The outbox and the relay: failures are retried with back-off, given up on as dead letters,
//! retried by hand; nothing is lost and nothing is sent that was never committed.

mod common;

use common::*;
use plaint::MemoryStore;
use plaint_core::testing;
use plaint_core::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Fails its first `fail` deliveries, then delivers; counts deliveries per id, as a
/// deduplicating receiver would see them.
#[derive(Default)]
struct Flaky {
    fail: AtomicU32,
    seen: Mutex<BTreeMap<String, u32>>,
}

impl Notifier for Flaky {
    fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        if self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
            .is_ok()
        {
            return Err(NotifyError::Failed("gateway timeout".into()));
        }
        *self
            .seen
            .lock()
            .unwrap()
            .entry(n.id.to_string())
            .or_default() += 1;
        Ok(())
    }
}

type FlakyEngine = Engine<Arc<MemoryStore>, Arc<Flaky>, Arc<ManualClock>>;

fn engine(fail: u32, attempts: u32) -> (FlakyEngine, Arc<Flaky>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(testing::t(1)));
    let flaky = Arc::new(Flaky::default());
    flaky.fail.store(fail, Ordering::SeqCst);
    let e = Engine::builder(Arc::new(MemoryStore::new()), testing::policy())
        .clock(Arc::clone(&clock))
        .notifier(Arc::clone(&flaky))
        .max_delivery_attempts(attempts)
        .build();
    (e, flaky, clock)
}

fn receive_and_ack(e: &FlakyEngine) {
    let id = testing::complaint_id();
    let intake = testing::intake(testing::t(0));
    e.execute(
        CommandId::new("c1").unwrap(),
        &id,
        Command::Receive(Arc::new(intake)),
        &testing::agent(),
    )
    .unwrap();
    e.execute(
        CommandId::new("c2").unwrap(),
        &id,
        Command::Acknowledge,
        &testing::agent(),
    )
    .unwrap();
}

#[test]
fn commands_never_wait_on_delivery() {
    let (e, flaky, _) = engine(0, 5);
    receive_and_ack(&e);
    assert!(
        flaky.seen.lock().unwrap().is_empty(),
        "nothing is delivered until the relay runs"
    );
    let r = e.relay().unwrap();
    assert_eq!((r.delivered, r.retrying, r.dead), (1, 0, 0));
    assert_eq!(
        e.relay().unwrap(),
        Relay::default(),
        "a second relay finds nothing"
    );
}

#[test]
fn a_notifier_that_fails_k_times_then_succeeds_delivers_once() {
    let (e, flaky, clock) = engine(3, 8);
    receive_and_ack(&e);
    let mut retried = 0;
    let mut waits = Vec::new();
    for _ in 0..10 {
        let r = e.relay().unwrap();
        retried += r.retrying;
        // Nothing is retried before its back-off has passed.
        clock.advance(chrono::Duration::seconds(10));
        if e.relay().unwrap() != Relay::default() {
            waits.push(10);
        }
        clock.advance(chrono::Duration::minutes(10));
    }
    assert_eq!(retried, 3);
    assert!(
        waits.is_empty(),
        "a retry came before its back-off: {waits:?}"
    );
    let seen = flaky.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        BTreeMap::from([("EXP-1/2/acknowledged/complainant".to_owned(), 1)])
    );
    assert!(e.dead_letters().unwrap().is_empty());
}

#[test]
fn dead_letters_can_be_retried_by_hand() {
    let (e, flaky, clock) = engine(100, 2);
    receive_and_ack(&e);
    for _ in 0..5 {
        e.relay().unwrap();
        clock.advance(chrono::Duration::hours(1));
    }
    let dead = e.dead_letters().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 2);
    flaky.fail.store(0, Ordering::SeqCst); // the gateway is back
    assert!(e.retry_dead_letter(&dead[0].notification.id).unwrap());
    assert!(
        !e.retry_dead_letter(&dead[0].notification.id).unwrap(),
        "it is no longer dead"
    );
    assert_eq!(e.relay().unwrap().delivered, 1);
    assert!(e.dead_letters().unwrap().is_empty());
    assert_eq!(flaky.seen.lock().unwrap().len(), 1);
}

#[test]
fn fan_out_and_retry_compose() {
    let a = Arc::new(RecordingNotifier::new());
    let b = Arc::new(RecordingNotifier::new());
    let flaky = Arc::new(Flaky::default());
    flaky.fail.store(2, Ordering::SeqCst);
    let fan = FanOut(vec![Box::new(Arc::clone(&a)), Box::new(Arc::clone(&b))]);
    let n = Notification {
        id: NotificationId {
            complaint: testing::complaint_id(),
            version: 1,
            kind: NotificationKind::Acknowledged,
            recipient: Recipient::Complainant,
        },
        complaint: testing::complaint_id(),
        recipient: Recipient::Complainant,
        kind: NotificationKind::Acknowledged,
    };
    fan.deliver(&n).unwrap();
    assert_eq!((a.delivered().len(), b.delivered().len()), (1, 1));
    let retry = Retry {
        inner: Arc::clone(&flaky),
        attempts: 3,
    };
    retry.deliver(&n).unwrap();
    assert_eq!(
        flaky.seen.lock().unwrap().len(),
        1,
        "two failures absorbed by three tries"
    );
    assert!(!DiscardNotifier.is_enabled() && retry.is_enabled());
}

/// Two relays at once: every notification still arrives, each claimed by one relay.
#[test]
fn concurrent_relays_share_the_outbox() {
    let clock = Arc::new(ManualClock::new(testing::t(1)));
    let flaky = Arc::new(Flaky::default());
    let e = Arc::new(
        Engine::builder(Arc::new(MemoryStore::new()), testing::policy())
            .clock(Arc::clone(&clock))
            .notifier(Arc::clone(&flaky))
            .build(),
    );
    for i in 0..50 {
        let id = ComplaintId::new(format!("C{i}")).unwrap();
        let intake = testing::intake(testing::t(0));
        e.execute(
            CommandId::new(format!("r{i}")).unwrap(),
            &id,
            Command::Receive(Arc::new(intake)),
            &testing::agent(),
        )
        .unwrap();
        e.execute(
            CommandId::new(format!("a{i}")).unwrap(),
            &id,
            Command::Acknowledge,
            &testing::agent(),
        )
        .unwrap();
    }
    let (x, y) = std::thread::scope(|s| {
        let h1 = s.spawn(|| e.relay().unwrap());
        let h2 = s.spawn(|| e.relay().unwrap());
        (h1.join().unwrap(), h2.join().unwrap())
    });
    assert_eq!(x.delivered + y.delivered, 50);
    let seen = flaky.seen.lock().unwrap();
    assert_eq!(seen.len(), 50);
    assert!(
        seen.values().all(|n| *n == 1),
        "each was claimed by one relay"
    );
}

fn step() -> impl Strategy<Value = (u8, u8, bool)> {
    (0u8..10, 0u8..8, any::<bool>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(100), ..ProptestConfig::default() })]

    /// Random commands (some refused), relays and gateway failures: once the gateway works
    /// and the relay has run, exactly the notifications of committed events have arrived.
    #[test]
    fn nothing_lost_nothing_invented(steps in proptest::collection::vec(step(), 1..60)) {
        let (e, flaky, clock) = engine(0, 50);
        let ids: Vec<ComplaintId> = (0..3).map(|i| ComplaintId::new(format!("P{i}")).unwrap()).collect();
        for (i, (what, n, fail)) in steps.into_iter().enumerate() {
            let id = &ids[n as usize % ids.len()];
            let cmd = CommandId::new(format!("s{i}")).unwrap();
            match what {
                0 | 1 => {
                    let _ = e.execute(cmd, id, Command::Receive(Arc::new(testing::intake(testing::t(0)))), &testing::agent());
                }
                2 => { let _ = e.execute(cmd, id, Command::Acknowledge, &testing::agent()); }
                3 => {
                    let triage = Command::Triage { category: path("logistics"), tier: None, validity: Validity::Valid };
                    let _ = e.execute(cmd, id, triage, &testing::agent());
                }
                4 => {
                    let route = Command::Route { responsibility: Some(responsibility("hub")) };
                    let _ = e.execute(cmd, id, route, &testing::agent());
                }
                5 => { let _ = e.execute(cmd, id, Command::Close, &testing::agent()); } // mostly refused
                6 | 7 => {
                    flaky.fail.store(if fail { n as u32 } else { 0 }, Ordering::SeqCst);
                    e.relay().unwrap();
                }
                _ => clock.advance(chrono::Duration::minutes(i64::from(n) * 7)),
            }
        }
        flaky.fail.store(0, Ordering::SeqCst);
        for _ in 0..60 {
            clock.advance(chrono::Duration::hours(1));
            e.relay().unwrap();
        }
        let mut expected = BTreeSet::new();
        for id in &ids {
            let history = e.history(id).unwrap();
            for n in plaint_core::notify::notifications_for(id, &history) {
                expected.insert(n.id.to_string());
            }
        }
        let seen: BTreeSet<String> = flaky.seen.lock().unwrap().keys().cloned().collect();
        prop_assert_eq!(seen, expected);
        prop_assert!(e.dead_letters().unwrap().is_empty());
    }
}
