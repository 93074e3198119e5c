//! The async engine on a multi-threaded tokio runtime: its futures are `Send` (so a service
//! spawns them), racing tasks lose nothing, an async notifier is awaited, and the blocking
//! facade drives a future that really waits.

use plaint::{
    ActorId, Command, CommandId, Complaint, ComplaintId, DynNotifier, DynStore, Engine, FanOut,
    ManualClock, MemoryStore, Notification, Notifier, NotifyError, RecordingNotifier, Rejection,
    StageKind,
};
use plaint_core::testing;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

type Shared = Engine<Arc<MemoryStore>, Arc<SlowSms>, Arc<ManualClock>>;

/// An SMS gateway's async client, as a notifier: it awaits a timer before each delivery.
#[derive(Default)]
struct SlowSms {
    sent: std::sync::Mutex<Vec<Notification>>,
}

impl Notifier for SlowSms {
    async fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        self.sent.lock().unwrap().push(n.clone());
        Ok(())
    }
}

fn receive() -> Command {
    Command::Receive(Arc::new(testing::intake(testing::t(0))))
}

fn evidence(n: usize) -> Command {
    Command::AddEvidence(plaint::Evidence {
        kind: plaint::EvidenceKind::Photo,
        reference: format!("photo-{n}").into(),
        content_hash: None,
    })
}

fn cid(s: &str) -> ComplaintId {
    ComplaintId::new(s).unwrap()
}

fn cmd(s: String) -> CommandId {
    CommandId::new(s).unwrap()
}

#[test]
fn tasks_on_a_multi_threaded_runtime_share_one_engine_and_lose_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    let sms = Arc::new(SlowSms::default());
    let engine: Arc<Shared> = Arc::new(
        Engine::builder(Arc::new(MemoryStore::new()), testing::policy())
            .clock(Arc::new(ManualClock::new(testing::t(1))))
            .notifier(Arc::clone(&sms))
            .build(),
    );
    let agent = testing::agent();
    let shared = cid("SHARED");
    let won = runtime.block_on(async {
        engine
            .execute(cmd("shared-0".into()), &shared, receive(), &agent)
            .await
            .unwrap();
        // tokio::spawn needs the engine's futures to be Send: this would not compile otherwise.
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let (engine, shared, agent) = (Arc::clone(&engine), shared.clone(), agent.clone());
                tokio::spawn(async move {
                    let own = cid(&format!("OWN-{t}"));
                    engine
                        .execute(cmd(format!("own-{t}")), &own, receive(), &agent)
                        .await
                        .unwrap();
                    // Acknowledging tells the complainant: a notification for the relay.
                    let ack = cmd(format!("ack-{t}"));
                    engine
                        .execute(ack, &own, Command::Acknowledge, &agent)
                        .await
                        .unwrap();
                    let mut won = 0usize;
                    for i in 0..20 {
                        let id = cmd(format!("s-{t}-{i}"));
                        match engine
                            .execute(id, &shared, evidence(t * 100 + i), &agent)
                            .await
                        {
                            Ok(_) => won += 1,
                            Err(plaint::EngineError::Rejected(Rejection::Conflict { .. })) => {}
                            Err(e) => panic!("unexpected: {e}"),
                        }
                    }
                    won
                })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            won += t.await.unwrap();
        }
        won
    });
    let state = runtime.block_on(engine.get(&shared)).unwrap().unwrap();
    assert_eq!(
        state.evidence.len(),
        won,
        "every acknowledged command is kept"
    );
    assert!(won > 0);
    let history = runtime.block_on(engine.history(&shared)).unwrap();
    assert_eq!(history.len(), 1 + won, "and nothing else");
    for t in 0..8 {
        let own = runtime
            .block_on(engine.get(&cid(&format!("OWN-{t}"))))
            .unwrap();
        assert_eq!(own.map(|c| c.stage.kind()), Some(StageKind::Received));
    }
    // The relay awaits the async notifier for every notification the commands made.
    let relayed = runtime.block_on(engine.relay()).unwrap();
    assert!(relayed.delivered > 0);
    assert_eq!(relayed.delivered, sms.sent.lock().unwrap().len());
    assert_eq!((relayed.retrying, relayed.dead), (0, 0));
}

/// A future that is not ready on its first poll: it wakes itself and is ready on the next.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A notifier that waits (without a runtime) before delivering, and counts.
#[derive(Default)]
struct Waits(AtomicUsize);

impl Notifier for Waits {
    async fn deliver(&self, _: &Notification) -> Result<(), NotifyError> {
        YieldOnce(false).await;
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn the_blocking_facade_drives_a_notifier_that_waits_and_a_store_picked_at_run_time() {
    let waits = Arc::new(Waits::default());
    let recorder = Arc::new(RecordingNotifier::new());
    let both: Vec<Box<dyn DynNotifier>> = vec![
        Box::new(Arc::clone(&waits)),
        Box::new(Arc::clone(&recorder)),
    ];
    let store: Arc<dyn DynStore> = Arc::new(MemoryStore::new());
    let engine = plaint::blocking::Engine::builder(store, testing::policy())
        .clock(Arc::new(ManualClock::new(testing::t(1))))
        .notifier(FanOut(both))
        .build();
    let id = cid("C-1");
    let c: Arc<Complaint> = engine
        .execute(cmd("r".into()), &id, receive(), &testing::agent())
        .unwrap();
    assert_eq!(c.stage.kind(), StageKind::Received);
    engine
        .execute(
            cmd("a".into()),
            &id,
            Command::Acknowledge,
            &testing::agent(),
        )
        .unwrap();
    let relayed = engine.relay().unwrap();
    assert!(relayed.delivered > 0);
    assert_eq!(waits.0.load(Ordering::SeqCst), relayed.delivered);
    assert_eq!(recorder.delivered().len(), relayed.delivered);
    // A complainant reading someone else's complaint: NotFound, through the dyn store too.
    let stranger = plaint::Actor::complainant(ActorId::new("someone-else").unwrap());
    assert!(matches!(
        engine.view(&id, &stranger),
        Err(plaint::EngineError::Rejected(Rejection::NotFound))
    ));
}
