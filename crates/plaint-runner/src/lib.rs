//! plaint-runner: the background loop every embedding needs, on tokio — tick when the next
//! deadline falls due, relay the outbox while it has work, back off on errors, stop cleanly.
//!
//! [`Runner::spawn`] starts it on the current tokio runtime over a shared
//! [`Engine`]; the [`RunnerHandle`] it returns wakes it
//! ([`RunnerHandle::wake`]) and stops it ([`RunnerHandle::shutdown`]), giving the engine back
//! so the embedding can close its store.
//!
//! The runner sleeps until the earliest of the store's next due instant
//! ([`Store::next_due`]) and its next outbox attempt ([`Store::outbox_stats`]), converted from
//! the engine's clock into a tokio sleep, and wakes early when the store raises its
//! [`Changes`] signal (a command made a nearer deadline or new outbox work). Over a store
//! without that signal, or one that cannot tell how its outbox stands, it also wakes every
//! [`Options::poll_interval`].
//!
//! With [`Options::retention`] it also erases, at that interval, the personal data whose
//! retention the policy says has run out ([`Engine::enforce_retention`]), as the actor given.
//!
//! ```
//! use plaint_core::{Engine, testing};
//! use std::sync::Arc;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let store = plaint_memory::MemoryStore::new();
//! let engine = Arc::new(Engine::builder(store, testing::policy()).build());
//! let runner = plaint_runner::Runner::new(Arc::clone(&engine))
//!     .spawn()
//!     .expect("called inside a tokio runtime");
//!
//! // ... serve commands with `engine`: deadlines fire and notifications go out meanwhile ...
//!
//! let stopped = runner.shutdown().await;
//! assert!(stopped.result.is_ok());
//! drop(engine);
//! // The runner let go of its engine: the store can be taken back and closed.
//! let store = Arc::try_unwrap(stopped.engine).ok().expect("no other owner").into_store();
//! # drop(store);
//! # }
//! ```

#![forbid(unsafe_code)]

use plaint_core::{Changes, Clock, Engine, EngineError, Event, Notifier, Store, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tracing::Instrument as _;

/// Builds and starts a background runner over an engine.
#[must_use = "a runner does nothing until spawned"]
pub struct Runner<S, N, C> {
    engine: Arc<Engine<S, N, C>>,
    options: Options,
}

/// How a [`Runner`] paces itself. Every field has a default ([`Options::default`]); the
/// setters clamp what would make it spin.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The longest it sleeps when the store cannot wake it (no [`Store::changes`], or no
    /// [`Store::outbox_stats`]): how late a deadline or a retry may fire then. Default 1 s.
    pub poll_interval: Duration,
    /// The longest it ever sleeps, even with nothing due: a bound on how long a step of the
    /// wall clock (a suspended machine, a corrected time) can make it oversleep. Default 60 s.
    pub max_sleep: Duration,
    /// How many notifications one relay step claims ([`Engine::relay_batch`]); it relays
    /// batch after batch while they come back full. Default 64.
    pub relay_batch: usize,
    /// The first wait after a failure (a store error; a complaint a tick could not fire);
    /// each further failure in a row doubles it. Default 500 ms.
    pub backoff_min: Duration,
    /// The longest wait after failures. Default 60 s.
    pub backoff_max: Duration,
    /// Whether, how often and as whom it enforces the policy's retention of personal data
    /// ([`Engine::enforce_retention`]): first when it starts, then every `every`. Default
    /// none.
    pub retention: Option<RetentionDuty>,
}

/// The runner's retention duty ([`Options::retention`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetentionDuty {
    /// Who erases: staff with a role whose `may` lists `erase_personal_data`.
    pub actor: plaint_core::Actor,
    /// How often (by the engine's clock).
    pub every: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            max_sleep: Duration::from_secs(60),
            relay_batch: 64,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            retention: None,
        }
    }
}

impl Options {
    /// The shortest wait there is: a zero interval would spin.
    const FLOOR: Duration = Duration::from_millis(1);

    /// Sets [`Options::poll_interval`] (at least 1 ms).
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every.max(Self::FLOOR);
        self
    }

    /// Sets [`Options::max_sleep`] (at least 1 ms).
    pub fn max_sleep(mut self, at_most: Duration) -> Self {
        self.max_sleep = at_most.max(Self::FLOOR);
        self
    }

    /// Sets [`Options::relay_batch`] (at least 1).
    pub fn relay_batch(mut self, limit: usize) -> Self {
        self.relay_batch = limit.max(1);
        self
    }

    /// Sets [`Options::backoff_min`] and [`Options::backoff_max`] (`min` at least 1 ms, `max`
    /// at least `min`).
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff_min = min.max(Self::FLOOR);
        self.backoff_max = max.max(self.backoff_min);
        self
    }

    /// Enforces retention as `actor` every `every` (at least a second): see
    /// [`Options::retention`].
    pub fn retention(mut self, actor: plaint_core::Actor, every: Duration) -> Self {
        self.retention = Some(RetentionDuty {
            actor,
            every: every.max(Duration::from_secs(1)),
        });
        self
    }

    /// The wait after `failures` failures in a row (at least one).
    fn backoff_after(&self, failures: u32) -> Duration {
        let min = self.backoff_min.max(Self::FLOOR);
        let doubled = min.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
        doubled.min(self.backoff_max.max(min))
    }
}

impl<S, N, C> Runner<S, N, C>
where
    S: Store + 'static,
    N: Notifier + 'static,
    C: Clock + 'static,
{
    /// A runner over `engine`, with default [`Options`]. The embedding keeps its own clone of
    /// the `Arc` to serve commands with.
    pub fn new(engine: Arc<Engine<S, N, C>>) -> Self {
        Self {
            engine,
            options: Options::default(),
        }
    }

    /// Paces it by `options`.
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Starts it on the tokio runtime this is called from.
    ///
    /// # Errors
    /// [`RunnerError::NoRuntime`] when called outside a tokio runtime.
    pub fn spawn(self) -> Result<RunnerHandle<S, N, C>, RunnerError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| RunnerError::NoRuntime)?;
        Ok(self.spawn_on(&handle))
    }

    /// Starts it on the runtime `handle` belongs to.
    pub fn spawn_on(self, handle: &tokio::runtime::Handle) -> RunnerHandle<S, N, C> {
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let control = Control {
            stop: stopped,
            wake: Arc::clone(&wake),
        };
        let span = tracing::info_span!("plaint.runner");
        let task =
            handle.spawn(run(Arc::clone(&self.engine), self.options, control).instrument(span));
        RunnerHandle {
            engine: self.engine,
            stop,
            wake,
            task,
        }
    }
}

/// A running [`Runner`]: wake it, stop it.
///
/// Dropping the handle stops the runner too, after the step it is in, without waiting for it
/// (and without giving the engine back): call [`RunnerHandle::shutdown`] to wait.
pub struct RunnerHandle<S, N, C> {
    engine: Arc<Engine<S, N, C>>,
    stop: watch::Sender<bool>,
    wake: Arc<Notify>,
    task: tokio::task::JoinHandle<Summary>,
}

impl<S, N, C> RunnerHandle<S, N, C> {
    /// Makes it look at the store again now, as if the store had signalled a change: after
    /// a [`plaint_core::ManualClock`] was moved, or a change the store cannot signal (another
    /// process's write to a store without [`Store::changes`]). A wake while it is busy is
    /// kept for when it next waits; a wake also cuts short a back-off after failures (store
    /// changes do not).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Whether it has stopped (after [`RunnerHandle::shutdown`] was asked, or a panic in a
    /// port it called).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops it: it finishes the tick or relay batch in flight, starts no new work, and
    /// ends. Gives back the engine (the runner holds it no longer, so once the embedding
    /// drops its own clones, [`Arc::try_unwrap`] and [`Engine::into_store`] hand back the
    /// store to close) and what the runner did, or how it failed.
    pub async fn shutdown(self) -> Stopped<S, N, C> {
        // Sending fails only when the runner already ended; joining says how.
        let _ = self.stop.send(true);
        let result = self.task.await.map_err(|e| {
            if e.is_panic() {
                let panic = e.into_panic();
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_owned());
                RunnerError::Panicked { message }
            } else {
                RunnerError::Cancelled
            }
        });
        Stopped {
            engine: self.engine,
            result,
        }
    }
}

impl<S, N, C> std::fmt::Debug for RunnerHandle<S, N, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunnerHandle")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}

/// How a runner ended ([`RunnerHandle::shutdown`]).
#[non_exhaustive]
pub struct Stopped<S, N, C> {
    /// The engine, given back.
    pub engine: Arc<Engine<S, N, C>>,
    /// What it did, or why it ended otherwise than asked.
    pub result: Result<Summary, RunnerError>,
}

impl<S, N, C> std::fmt::Debug for Stopped<S, N, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stopped")
            .field("result", &self.result)
            .finish_non_exhaustive()
    }
}

/// What a runner did while it ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Ticks run (each when something was due).
    pub ticks: u64,
    /// Clock items those ticks fired (warnings, breaches, escalation rungs).
    pub fired: u64,
    /// Notifications delivered.
    pub delivered: u64,
    /// Deliveries that failed and will be tried again.
    pub retrying: u64,
    /// Notifications given up on (dead letters).
    pub dead: u64,
    /// Steps that failed (store errors, an instant out of range), each followed by a
    /// back-off.
    pub errors: u64,
    /// Complaints whose personal data retention erased ([`Options::retention`]).
    pub erased: u64,
}

/// Why a runner could not start, or ended otherwise than asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    /// [`Runner::spawn`] was called outside a tokio runtime.
    #[error("the runner must be spawned inside a tokio runtime")]
    NoRuntime,
    /// A port it called (a notifier, a store) panicked, which ended the runner.
    #[error("the runner panicked: {message}")]
    Panicked {
        /// The panic's message.
        message: String,
    },
    /// The runtime it ran on shut down first.
    #[error("the runtime shut down before the runner")]
    Cancelled,
}

/// What the handle tells the loop.
struct Control {
    stop: watch::Receiver<bool>,
    wake: Arc<Notify>,
}

impl Control {
    /// Whether it was told to stop (or the handle is gone).
    fn stopping(&self) -> bool {
        self.stop
            .has_changed()
            .map_or(true, |_| *self.stop.borrow())
    }
}

/// What a successful step leaves to wait for.
struct Plan {
    /// The earliest instant something falls due (a deadline, an outbox attempt), if known.
    until: Option<Timestamp>,
    /// Whether the store can wake the runner for anything that comes sooner.
    woken: bool,
    /// Whether a tick passed complaints over (they stay due; they are tried again after a
    /// back-off, while the rest keep their own time).
    stalled: bool,
}

/// The loop: a step, then a wait for the earliest of the next due instant, a change in the
/// store, a wake and a stop.
async fn run<S, N, C>(
    engine: Arc<Engine<S, N, C>>,
    options: Options,
    mut control: Control,
) -> Summary
where
    S: Store,
    N: Notifier,
    C: Clock,
{
    tracing::info!("runner started");
    let mut summary = Summary::default();
    let mut failures = 0u32;
    let changes = engine.store().changes();
    let mut next_retention = options.retention.as_ref().map(|_| engine.clock().now());
    loop {
        if control.stopping() {
            break;
        }
        if let (Some(r), Some(at)) = (&options.retention, next_retention)
            && at <= engine.clock().now()
        {
            retain(&engine, r, &mut summary).await;
            let every = chrono::Duration::from_std(r.every).unwrap_or(chrono::Duration::MAX);
            next_retention = engine.clock().now().checked_add_signed(every);
        }
        // Read before looking: a change from here on ends the wait at once.
        let seen = changes.map_or(0, Changes::seen);
        let (wait, listen) = match step(&engine, &options, &control, &mut summary).await {
            Ok(mut plan) => {
                plan.until = match (plan.until, next_retention) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                let mut wait = sleep_for(&engine, &options, &plan);
                if plan.stalled {
                    failures += 1;
                    wait = wait.min(options.backoff_after(failures));
                } else {
                    failures = 0;
                }
                (wait, true)
            }
            Err(e) => {
                failures += 1;
                summary.errors += 1;
                let wait = options.backoff_after(failures);
                metrics::counter!("plaint_runner_errors_total", "code" => e.code()).increment(1);
                tracing::warn!(error = %e, code = e.code(), failures, retry_in = ?wait, "runner step failed");
                (wait, false)
            }
        };
        tokio::select! {
            biased;
            // A stop, or the handle dropped.
            _ = control.stop.changed() => break,
            () = control.wake.notified() => {}
            () = changed(changes.filter(|_| listen), seen) => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
    tracing::info!(?summary, "runner stopped");
    summary
}

/// One retention pass; a failure is logged and counted, and the next pass tries again.
async fn retain<S, N, C>(engine: &Engine<S, N, C>, r: &RetentionDuty, summary: &mut Summary)
where
    S: Store,
    N: Notifier,
    C: Clock,
{
    match engine.enforce_retention(&r.actor).await {
        Ok(done) => {
            summary.erased += done.erased.len() as u64;
            if !done.erased.is_empty() {
                tracing::info!(erased = done.erased.len(), "retention erased personal data");
            }
            for (id, e) in &done.failed {
                tracing::warn!(complaint = %id, error = %e, "retention could not erase");
            }
        }
        Err(e) => {
            summary.errors += 1;
            tracing::warn!(error = %e, code = e.code(), "retention failed");
        }
    }
}

/// Waits for a change past `seen`, or forever without a signal.
async fn changed(changes: Option<&Changes>, seen: u64) {
    match changes {
        Some(c) => {
            c.changed(seen).await;
        }
        None => std::future::pending().await,
    }
}

/// How long to sleep for `plan`, by the engine's clock.
fn sleep_for<S: Store, N: Notifier, C: Clock>(
    engine: &Engine<S, N, C>,
    options: &Options,
    plan: &Plan,
) -> Duration {
    let cap = if plan.woken {
        options.max_sleep
    } else {
        options.max_sleep.min(options.poll_interval)
    }
    .max(Options::FLOOR);
    let Some(until) = plan.until else {
        return cap;
    };
    // Past instants and spans chrono cannot convert wait not at all.
    until
        .signed_duration_since(engine.clock().now())
        .to_std()
        .unwrap_or(Duration::ZERO)
        .min(cap)
}

/// One pass: tick if something is due, relay while the outbox has due work, report the
/// outbox, and say when something next falls due.
async fn step<S, N, C>(
    engine: &Engine<S, N, C>,
    options: &Options,
    control: &Control,
    summary: &mut Summary,
) -> Result<Plan, EngineError>
where
    S: Store,
    N: Notifier,
    C: Clock,
{
    let store = engine.store();
    let mut next_due = engine.next_due().await?;
    let mut stalled = false;
    if next_due.is_some_and(|t| t <= engine.clock().now()) {
        let tick = engine.tick().await?;
        summary.ticks += 1;
        summary.fired += tick.fired.len() as u64;
        for r in &tick.fired {
            if let Some(lag) = lag(r) {
                metrics::histogram!("plaint_tick_lag_seconds").record(lag);
            }
        }
        if tick.failed.is_empty() {
            next_due = engine.next_due().await?;
        } else {
            // The passed-over complaints stay due: wait for the first of the others (and for
            // the back-off, to try those again).
            stalled = true;
            let skip: Vec<_> = tick.failed.iter().map(|(id, _)| id).collect();
            next_due = store
                .due(chrono::DateTime::<chrono::Utc>::MAX_UTC, skip.len() + 1)
                .await?
                .into_iter()
                .find(|(_, id)| !skip.contains(&id))
                .map(|(t, _)| t);
        }
    }
    let mut stats = store.outbox_stats().await?;
    let due_now = |s: &Option<plaint_core::OutboxStats>| {
        s.as_ref()
            .is_none_or(|s| s.next_attempt.is_some_and(|t| t <= engine.clock().now()))
    };
    if due_now(&stats) {
        let limit = options.relay_batch.max(1);
        // A stop asked for during the tick, or during a batch, starts no further batch.
        while !control.stopping() {
            let batch = engine.relay_batch(limit).await?;
            summary.delivered += batch.delivered as u64;
            summary.retrying += batch.retrying as u64;
            summary.dead += batch.dead as u64;
            if batch.delivered + batch.retrying + batch.dead < limit {
                break;
            }
        }
        stats = store.outbox_stats().await?;
    }
    if let Some(s) = &stats {
        let age = s.next_attempt.map_or(0.0, |t| {
            (engine.clock().now() - t).num_milliseconds().max(0) as f64 / 1000.0
        });
        metrics::gauge!("plaint_outbox_depth").set(s.pending as f64);
        metrics::gauge!("plaint_outbox_age_seconds").set(age);
        metrics::gauge!("plaint_dead_letters").set(s.dead as f64);
    }
    let next_attempt = stats.as_ref().and_then(|s| s.next_attempt);
    let until = match (next_due, next_attempt) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(Plan {
        until,
        woken: store.changes().is_some() && stats.is_some(),
        stalled,
    })
}

/// How late a fired clock item fired: its firing's instant minus its due instant, in
/// seconds.
fn lag(r: &plaint_core::Recorded) -> Option<f64> {
    let due = match &r.event {
        Event::ClockWarned { due, .. }
        | Event::ClockBreached { due, .. }
        | Event::RungReached { due, .. } => *due,
        _ => return None,
    };
    Some((r.at - due).num_milliseconds() as f64 / 1000.0)
}
