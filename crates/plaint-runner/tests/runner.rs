//! The runner on tokio with paused time: deadlines fire at their instant without a call from
//! the embedding, commands wake it, the outbox goes out promptly, failures back off, and
//! shutdown stops it.
//!
//! Time is tokio's paused clock, which jumps to the next timer whenever every task waits;
//! the engine reads the same time through [`TokioClock`], so the engine's `now` and the
//! runner's sleeps stay in step and nothing sleeps for real.

use plaint_core::testing;
use plaint_core::*;
use plaint_memory::MemoryStore;
use plaint_runner::{Options, Runner, RunnerError, RunnerHandle};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The engine's clock, read from tokio's (paused) time: `origin` when the test started.
struct TokioClock {
    origin: Timestamp,
    start: Instant,
}

impl TokioClock {
    fn new(origin: Timestamp) -> Arc<Self> {
        Arc::new(Self {
            origin,
            start: Instant::now(),
        })
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        self.origin + chrono::Duration::from_std(self.start.elapsed()).expect("in range")
    }
}

/// What the tests do to a `MemoryStore`: hide its change signal and outbox stats (as a store
/// that cannot tell would), and fail `next_due` a number of times, noting when it is asked.
#[derive(Default)]
struct Faults {
    hide_signal: bool,
    failures: AtomicU32,
    asked: Mutex<Vec<Instant>>,
}

impl testing::Tap<MemoryStore> for Faults {
    async fn next_due(&self, inner: &MemoryStore) -> Result<Option<Timestamp>, StoreError> {
        self.asked.lock().unwrap().push(Instant::now());
        let fail = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
            .is_ok();
        if fail {
            return Err(StoreError::backend(StoreFailure::Unavailable, "down"));
        }
        inner.next_due().await
    }
    fn changes<'a>(&self, inner: &'a MemoryStore) -> Option<&'a Changes> {
        if self.hide_signal {
            None
        } else {
            inner.changes()
        }
    }
    async fn outbox_stats(&self, inner: &MemoryStore) -> Result<Option<OutboxStats>, StoreError> {
        if self.hide_signal {
            Ok(None)
        } else {
            inner.outbox_stats().await
        }
    }
}

type Wrapped = testing::Tapped<MemoryStore, Faults>;

type TestEngine<N, C> = Engine<Arc<Wrapped>, Arc<N>, Arc<C>>;

/// An engine under the policy with clocks, over `store`, telling `notifier`, at `clock`.
fn engine<N: Notifier, C: Clock>(
    store: &Arc<Wrapped>,
    notifier: &Arc<N>,
    clock: &Arc<C>,
) -> Arc<TestEngine<N, C>> {
    Arc::new(
        Engine::builder(Arc::clone(store), testing::sla_policy())
            .notifier(Arc::clone(notifier))
            .clock(Arc::clone(clock))
            .build(),
    )
}

fn cmd(s: &str) -> CommandId {
    CommandId::new(s).unwrap()
}

fn cid(s: &str) -> ComplaintId {
    ComplaintId::new(s).unwrap()
}

/// Receives complaint `id` now: its acknowledgement clock warns 30 minutes later and
/// breaches an hour later.
async fn receive<N: Notifier, C: Clock>(e: &TestEngine<N, C>, id: &str) {
    let intake = testing::intake(e.clock().now());
    e.execute(
        cmd(&format!("{id}-receive")),
        &cid(id),
        Command::Receive(Arc::new(intake)),
        &testing::agent(),
    )
    .await
    .unwrap();
}

/// Acknowledges complaint `id` (which stops its acknowledgement clock and calls for a
/// notification to the complainant).
async fn acknowledge<N: Notifier, C: Clock>(e: &TestEngine<N, C>, id: &str) {
    e.execute(
        cmd(&format!("{id}-ack")),
        &cid(id),
        Command::Acknowledge,
        &testing::agent(),
    )
    .await
    .unwrap();
}

/// The clock items fired on complaint `id`: (event kind, due, fired at).
async fn fired<N: Notifier, C: Clock>(
    e: &TestEngine<N, C>,
    id: &str,
) -> Vec<(&'static str, Timestamp, Timestamp)> {
    e.history(&cid(id))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|r| match r.event {
            Event::ClockWarned { due, .. } => Some(("warned", due, r.at)),
            Event::ClockBreached { due, .. } => Some(("breached", due, r.at)),
            Event::RungReached { due, .. } => Some(("rung", due, r.at)),
            _ => None,
        })
        .collect()
}

fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

/// Lets the runner run what is ready without letting tokio's time move: yields until `done`
/// (at most a bounded number of times, so a runner that never gets there fails the test
/// rather than hanging it).
async fn settle_until(mut done: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if done().await {
            return true;
        }
        tokio::task::yield_now().await;
    }
    false
}

async fn stop<S, N, C>(runner: RunnerHandle<S, N, C>) -> plaint_runner::Summary {
    runner
        .shutdown()
        .await
        .result
        .expect("the runner ends as asked")
}

#[tokio::test(start_paused = true)]
async fn a_deadline_fires_at_its_instant_without_a_call() {
    let store = Arc::new(Wrapped::default());
    let clock = TokioClock::new(testing::t(0));
    let e = engine(&store, &Arc::new(DiscardNotifier), &clock);
    let runner = Runner::new(Arc::clone(&e)).spawn().unwrap();
    receive(&e, "A").await;
    let warn_at = testing::t(0) + chrono::Duration::minutes(30);
    assert_eq!(e.next_due().await.unwrap(), Some(warn_at));

    tokio::time::sleep(minutes(30) - Duration::from_millis(1)).await;
    assert!(
        fired(&e, "A").await.is_empty(),
        "nothing before its instant"
    );
    tokio::time::sleep(Duration::from_millis(1)).await;
    // The runner's timer and the test's went off together: let it run.
    assert!(settle_until(async || !fired(&e, "A").await.is_empty()).await);
    let warned = fired(&e, "A").await;
    assert_eq!(warned.len(), 1, "the warning fired: {warned:?}");
    let (kind, due, at) = warned[0];
    assert_eq!((kind, due), ("warned", warn_at));
    assert!(
        at >= due && at - due <= chrono::Duration::milliseconds(1),
        "fired at its instant (within the timer's millisecond): {at} for {due}"
    );

    // And the breach half an hour later, still without a call.
    tokio::time::sleep(minutes(30)).await;
    assert!(settle_until(async || fired(&e, "A").await.len() == 2).await);
    let kinds: Vec<_> = fired(&e, "A").await.into_iter().map(|f| f.0).collect();
    assert_eq!(kinds, ["warned", "breached"]);
    let summary = stop(runner).await;
    assert_eq!((summary.ticks, summary.fired, summary.errors), (2, 2, 0));
}

#[tokio::test(start_paused = true)]
async fn a_nearer_deadline_wakes_a_runner_sleeping_on_a_farther_one() {
    let store = Arc::new(Wrapped::default());
    let clock = TokioClock::new(testing::t(0));
    let e = engine(&store, &Arc::new(DiscardNotifier), &clock);
    // A: acknowledged, triaged and routed: only its resolution clock runs, on business
    // hours, its first item hours away.
    receive(&e, "A").await;
    acknowledge(&e, "A").await;
    let triage = Command::Triage {
        category: CategoryPath::parse("logistics/delay").unwrap(),
        tier: Some(TierKey::new("general").unwrap()),
        validity: Validity::Valid,
    };
    let route = Command::Route {
        responsibility: Some(Responsibility {
            primary: "hub".try_into().unwrap(),
            collaborating: vec![],
            party: Party::Internal {
                unit: "hub-3".into(),
            },
        }),
    };
    for (n, c) in [triage, route].into_iter().enumerate() {
        e.execute(cmd(&format!("A-{n}")), &cid("A"), c, &testing::agent())
            .await
            .unwrap();
    }
    let far = e
        .next_due()
        .await
        .unwrap()
        .expect("the resolution clock runs");
    assert!(far - testing::t(0) > chrono::Duration::hours(2), "{far}");
    // Without the store's signal it would sleep until then: the sleep is not capped sooner.
    let options = Options::default().max_sleep(Duration::from_secs(30 * 24 * 3600));
    let runner = Runner::new(Arc::clone(&e))
        .options(options)
        .spawn()
        .unwrap();
    tokio::time::sleep(minutes(10)).await;

    receive(&e, "B").await;
    let near = testing::t(0) + chrono::Duration::minutes(40);
    assert_eq!(e.next_due().await.unwrap(), Some(near));
    tokio::time::sleep(minutes(30)).await;
    assert!(settle_until(async || !fired(&e, "B").await.is_empty()).await);
    let warned = fired(&e, "B").await;
    assert_eq!(warned.len(), 1, "B's warning fired: {warned:?}");
    assert!(warned[0].2 - near <= chrono::Duration::milliseconds(1));
    assert!(fired(&e, "A").await.is_empty(), "A's items are not due yet");
    stop(runner).await;
}

#[tokio::test(start_paused = true)]
async fn outbox_work_is_relayed_promptly_after_a_command() {
    let store = Arc::new(Wrapped::default());
    let clock = TokioClock::new(testing::t(0));
    let notifier = Arc::new(RecordingNotifier::new());
    let e = engine(&store, &notifier, &clock);
    // A poll interval of a day: only the store's signal can make it prompt.
    let options = Options::default()
        .poll_interval(Duration::from_secs(24 * 3600))
        .max_sleep(Duration::from_secs(24 * 3600));
    let runner = Runner::new(Arc::clone(&e))
        .options(options)
        .spawn()
        .unwrap();
    tokio::time::sleep(minutes(1)).await;
    receive(&e, "A").await;
    acknowledge(&e, "A").await;
    let before = Instant::now();
    let delivered = settle_until(async || !notifier.delivered().is_empty()).await;
    assert!(delivered, "the acknowledgement went out");
    assert_eq!(Instant::now(), before, "without waiting for any timer");
    assert_eq!(e.store().outbox_stats().await.unwrap().unwrap().pending, 0);
    let summary = stop(runner).await;
    assert_eq!(summary.delivered, notifier.delivered().len() as u64);
}

#[tokio::test(start_paused = true)]
async fn failures_back_off_exponentially_and_it_recovers() {
    let store = Arc::new(Wrapped::default());
    store.tap.failures.store(6, Ordering::SeqCst);
    let clock = TokioClock::new(testing::t(0));
    let e = engine(&store, &Arc::new(DiscardNotifier), &clock);
    receive(&e, "A").await;
    let options = Options::default().backoff(Duration::from_millis(100), Duration::from_secs(1));
    let runner = Runner::new(Arc::clone(&e))
        .options(options)
        .spawn()
        .unwrap();
    tokio::time::sleep(minutes(31)).await;

    let asked = store.tap.asked.lock().unwrap().clone();
    let gaps: Vec<u128> = asked
        .windows(2)
        .take(6)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    assert_eq!(
        gaps,
        [100, 200, 400, 800, 1000, 1000],
        "doubling from 100 ms, capped at 1 s"
    );
    let warned = fired(&e, "A").await;
    assert_eq!(warned.len(), 1, "it recovered and fired: {warned:?}");
    assert!(warned[0].2 - warned[0].1 <= chrono::Duration::milliseconds(1));
    let summary = stop(runner).await;
    assert_eq!(summary.errors, 6);
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_it_and_nothing_runs_after() {
    let store = Arc::new(Wrapped::default());
    let clock = TokioClock::new(testing::t(0));
    let e = engine(&store, &Arc::new(DiscardNotifier), &clock);
    let runner = Runner::new(Arc::clone(&e)).spawn().unwrap();
    receive(&e, "A").await;
    tokio::time::sleep(minutes(10)).await;
    let stopped = runner.shutdown().await;
    let summary = stopped.result.expect("ended as asked");
    assert_eq!(summary.ticks, 0);
    // The runner let go of the engine: only the test's and the returned `Arc` remain.
    assert_eq!(Arc::strong_count(&stopped.engine), 2);

    tokio::time::sleep(minutes(120)).await;
    assert!(
        fired(&e, "A").await.is_empty(),
        "nothing fired after shutdown"
    );
    assert_eq!(
        e.next_due().await.unwrap().map(|t| t < clock.now()),
        Some(true)
    );
}

/// Delivers after a second of (tokio) time, counting what it delivered.
#[derive(Default)]
struct Slow(AtomicU32);

impl Notifier for Slow {
    async fn deliver(&self, _: &Notification) -> Result<(), NotifyError> {
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_finishes_the_batch_in_flight_and_starts_no_other() {
    let store = Arc::new(Wrapped::default());
    let clock = TokioClock::new(testing::t(0));
    let notifier = Arc::new(Slow::default());
    let e = engine(&store, &notifier, &clock);
    for id in ["A", "B", "C"] {
        receive(&e, id).await;
        acknowledge(&e, id).await;
    }
    let pending = e.store().outbox_stats().await.unwrap().unwrap().pending;
    assert!(pending >= 3, "{pending} notifications wait");
    let runner = Runner::new(Arc::clone(&e))
        .options(Options::default().relay_batch(1))
        .spawn()
        .unwrap();
    // The first delivery is under way.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(notifier.0.load(Ordering::SeqCst), 0);
    let summary = stop(runner).await;
    assert_eq!(summary.delivered, 1, "the batch in flight was finished");
    assert_eq!(notifier.0.load(Ordering::SeqCst), 1);
    let left = e.store().outbox_stats().await.unwrap().unwrap().pending;
    assert_eq!(left, pending - 1, "and settled; nothing else was started");
}

#[tokio::test(start_paused = true)]
async fn over_a_store_without_a_signal_it_polls() {
    let store = Arc::new(Wrapped::new(
        MemoryStore::new(),
        Faults {
            hide_signal: true,
            ..Faults::default()
        },
    ));
    let clock = TokioClock::new(testing::t(0));
    let notifier = Arc::new(RecordingNotifier::new());
    let e = engine(&store, &notifier, &clock);
    let options = Options::default()
        .poll_interval(Duration::from_secs(1))
        .max_sleep(Duration::from_secs(24 * 3600));
    let runner = Runner::new(Arc::clone(&e))
        .options(options)
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Made while it sleeps: nothing tells it, the next poll finds them.
    receive(&e, "A").await;
    acknowledge(&e, "A").await;
    receive(&e, "B").await;
    tokio::time::sleep(Duration::from_millis(699)).await;
    assert!(notifier.delivered().is_empty(), "not before the poll");
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert!(
        settle_until(async || !notifier.delivered().is_empty()).await,
        "at the poll"
    );

    let warn_at =
        testing::t(0) + chrono::Duration::milliseconds(300) + chrono::Duration::minutes(30);
    tokio::time::sleep(minutes(31)).await;
    let warned = fired(&e, "B").await;
    assert_eq!(warned.len(), 1, "B's warning fired: {warned:?}");
    assert_eq!(warned[0].1, warn_at);
    assert!(warned[0].2 - warn_at <= chrono::Duration::seconds(1));
    stop(runner).await;
}

#[tokio::test(start_paused = true)]
async fn a_wake_makes_it_look_again_after_a_manual_clock_moved() {
    let store = Arc::new(Wrapped::default());
    let clock = Arc::new(ManualClock::new(testing::t(0)));
    let e = engine(&store, &Arc::new(DiscardNotifier), &clock);
    receive(&e, "A").await;
    let runner = Runner::new(Arc::clone(&e)).spawn().unwrap();
    let before = Instant::now();
    assert!(
        settle_until(async || runner.is_finished() || store.tap.asked.lock().unwrap().len() == 1)
            .await
    );
    clock.advance(chrono::Duration::minutes(31));
    runner.wake();
    let woke = settle_until(async || !fired(&e, "A").await.is_empty()).await;
    assert!(woke, "the warning fired once woken");
    assert_eq!(Instant::now(), before, "no timer ran");
    stop(runner).await;
}

/// Panics on delivery, as a buggy port might.
struct Panicky;

impl Notifier for Panicky {
    async fn deliver(&self, _: &Notification) -> Result<(), NotifyError> {
        panic!("the gateway client blew up")
    }
}

#[tokio::test(start_paused = true)]
async fn a_panicking_port_ends_it_and_shutdown_says_so() {
    let store = Arc::new(Wrapped::default());
    let clock = TokioClock::new(testing::t(0));
    let e = engine(&store, &Arc::new(Panicky), &clock);
    receive(&e, "A").await;
    acknowledge(&e, "A").await;
    let runner = Runner::new(Arc::clone(&e)).spawn().unwrap();
    assert!(settle_until(async || runner.is_finished()).await);
    match runner.shutdown().await.result {
        Err(RunnerError::Panicked { message }) => {
            assert!(message.contains("blew up"), "{message}")
        }
        other => panic!("expected a panic report, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn dropping_the_handle_stops_it() {
    let store = Arc::new(Wrapped::default());
    let clock = TokioClock::new(testing::t(0));
    let e = engine(&store, &Arc::new(DiscardNotifier), &clock);
    receive(&e, "A").await;
    drop(Runner::new(Arc::clone(&e)).spawn().unwrap());
    tokio::time::sleep(minutes(120)).await;
    assert!(fired(&e, "A").await.is_empty());
    // Its task ended and let go of the engine.
    assert_eq!(Arc::strong_count(&e), 1);
}

#[test]
fn spawning_outside_a_runtime_is_an_error() {
    let store = Arc::new(Wrapped::default());
    let e = engine(
        &store,
        &Arc::new(DiscardNotifier),
        &Arc::new(ManualClock::new(testing::t(0))),
    );
    assert!(matches!(
        Runner::new(e).spawn(),
        Err(RunnerError::NoRuntime)
    ));
}

/// Never delivers.
struct Down;

impl Notifier for Down {
    async fn deliver(&self, _: &Notification) -> Result<(), NotifyError> {
        Err(NotifyError::Failed("gateway down".into()))
    }
}

#[test]
fn it_reports_tick_lag_the_outbox_and_its_failures() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    // The recorder is the thread's, and the runner runs on this thread.
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            let store = Arc::new(Wrapped::default());
            store.tap.failures.store(1, Ordering::SeqCst);
            let clock = TokioClock::new(testing::t(0));
            let e = Arc::new(
                Engine::builder(Arc::clone(&store), testing::sla_policy())
                    .notifier(Down)
                    .clock(Arc::clone(&clock))
                    .max_delivery_attempts(1)
                    .build(),
            );
            let intake = testing::intake(clock.now());
            e.execute(
                cmd("A-receive"),
                &cid("A"),
                Command::Receive(Arc::new(intake)),
                &testing::agent(),
            )
            .await
            .unwrap();
            let runner = Runner::new(Arc::clone(&e)).spawn().unwrap();
            tokio::time::sleep(minutes(31)).await;
            let summary = stop(runner).await;
            assert_eq!((summary.errors, summary.fired), (1, 1));
            assert!(summary.dead >= 1, "{summary:?}");
        })
    });
    let snapshot = snapshotter.snapshot().into_vec();
    let value = |name: &str| {
        snapshot
            .iter()
            .find(|(key, _, _, _)| key.key().name() == name)
            .map(|(key, _, _, value)| {
                let labels: Vec<String> = key
                    .key()
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                (labels, value)
            })
            .unwrap_or_else(|| panic!("{name} was not recorded"))
    };
    let (_, lag) = value("plaint_tick_lag_seconds");
    assert!(
        matches!(lag, DebugValue::Histogram(v) if v.len() == 1 && v[0].into_inner() < 0.002),
        "one warning, fired on time: {lag:?}"
    );
    let (labels, errors) = value("plaint_runner_errors_total");
    assert_eq!(labels, ["code=store_unavailable"]);
    assert!(matches!(errors, DebugValue::Counter(1)), "{errors:?}");
    let (_, depth) = value("plaint_outbox_depth");
    assert!(
        matches!(depth, DebugValue::Gauge(g) if g.into_inner() == 0.0),
        "{depth:?}"
    );
    let (_, dead) = value("plaint_dead_letters");
    assert!(
        matches!(dead, DebugValue::Gauge(g) if g.into_inner() >= 1.0),
        "{dead:?}"
    );
    let (_, age) = value("plaint_outbox_age_seconds");
    assert!(
        matches!(age, DebugValue::Gauge(g) if g.into_inner() == 0.0),
        "{age:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_complaint_a_tick_cannot_fire_does_not_hold_up_the_others() {
    let store = Arc::new(Wrapped::default());
    let clock = TokioClock::new(testing::t(0));
    // A was received under a policy version the runner's engine does not hold: every tick
    // passes it over.
    let old = engine(&store, &Arc::new(DiscardNotifier), &clock);
    receive(&old, "A").await;
    let mut policy = testing::sla_policy();
    policy.version += 1;
    let e = Arc::new(
        Engine::builder(Arc::clone(&store), policy)
            .notifier(Arc::new(DiscardNotifier))
            .clock(Arc::clone(&clock))
            .build(),
    );
    let options = Options::default().backoff(Duration::from_secs(1), minutes(5));
    let runner = Runner::new(Arc::clone(&e))
        .options(options)
        .spawn()
        .unwrap();
    tokio::time::sleep(minutes(10)).await;
    receive(&e, "B").await;

    // A falls due at 30 minutes and is passed over; B's warning still fires on time at 40.
    tokio::time::sleep(minutes(30)).await;
    assert!(settle_until(async || !fired(&e, "B").await.is_empty()).await);
    let warned = fired(&e, "B").await;
    assert!(
        warned[0].2 - warned[0].1 <= chrono::Duration::milliseconds(1),
        "{warned:?}"
    );
    assert!(fired(&e, "A").await.is_empty());
    // A was tried again after back-offs doubling from 1 s (then every `max_sleep`, 60 s),
    // not in a tight loop: the runner asked when something is next due at these instants.
    stop(runner).await;
    let asked = store.tap.asked.lock().unwrap().clone();
    let due_at = asked[0] + minutes(30);
    let gaps: Vec<u64> = asked
        .windows(2)
        .filter(|w| w[0] >= due_at)
        .take(8)
        .map(|w| (w[1] - w[0]).as_secs())
        .collect();
    assert_eq!(gaps, [1, 2, 4, 8, 16, 32, 60, 60]);
}

/// Issue 17: with a retention duty the runner erases a finished complaint's personal data
/// once the policy's retention has run out, and not before, without a call.
#[tokio::test(start_paused = true)]
async fn retention_erases_expired_personal_data_on_schedule() {
    let store = Arc::new(Wrapped::default());
    let clock = TokioClock::new(testing::t(0));
    let mut policy = testing::policy();
    policy.privacy.keep_personal_data_after_close =
        Some(plaint_core::sla::Span::from_seconds(10 * 86_400));
    let e = Arc::new(
        Engine::builder(Arc::clone(&store), policy)
            .notifier(Arc::new(DiscardNotifier))
            .clock(Arc::clone(&clock))
            .build(),
    );
    receive(&e, "A").await;
    e.execute(
        cmd("A-withdraw"),
        &cid("A"),
        Command::Withdraw { reason: None },
        &testing::agent(),
    )
    .await
    .unwrap();
    let options = Options::default().retention(testing::privacy_officer(), minutes(24 * 60));
    let runner = Runner::new(Arc::clone(&e))
        .options(options)
        .spawn()
        .unwrap();
    let erased = async || {
        e.get(&cid("A"))
            .await
            .unwrap()
            .is_some_and(|c| c.erased_at.is_some())
    };
    tokio::time::sleep(minutes(9 * 24 * 60)).await;
    assert!(!settle_until(erased).await, "kept for its ten days");
    tokio::time::sleep(minutes(24 * 60 + 1)).await;
    assert!(
        settle_until(erased).await,
        "erased on the first pass after ten days"
    );
    let c = e.get(&cid("A")).await.unwrap().unwrap();
    assert_eq!(c.intake.complainant.name, ERASED);
    let summary = stop(runner).await;
    assert_eq!((summary.erased, summary.errors), (1, 0));
}
