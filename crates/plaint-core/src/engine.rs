//! The engine: the only part that touches the ports (store, notifier, clock).

use crate::actor::Actor;
use crate::clock::{Clock, SystemClock};
use crate::complaint::Complaint;
use crate::id::{CommandId, ComplaintId};
use crate::lifecycle::{Command, CommandKind, Recorded, Rejection, decide};
use crate::notify::{
    DiscardNotifier, NotificationId, Notifier, OutboxEntry, Settlement, notifications_for,
};
use crate::policy::Policy;
use crate::store::{Append, CommandRecord, ListQuery, Page, Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Arc;
use tracing::Instrument;

/// Drives complaints: decides commands under the right policy version, appends the events
/// with optimistic concurrency, and answers queries. `Send + Sync` when its ports are: share
/// one engine between threads. The `plaint` crate's documentation shows a whole embedding.
pub struct Engine<S, N = DiscardNotifier, C = SystemClock> {
    store: S,
    notifier: N,
    clock: C,
    policies: BTreeMap<u32, Arc<Policy>>,
    current: u32,
    max_attempts: u32,
    delivery: DeliveryPolicy,
}

/// How the relay retries a failing delivery: exponential back-off from `base`, capped at
/// `cap`, spread by ±20 % jitter (derived from the notification id and attempt, so it is
/// reproducible), and given up after `max_attempts`.
#[derive(Debug, Clone, Copy)]
struct DeliveryPolicy {
    base: chrono::Duration,
    cap: chrono::Duration,
    max_attempts: u32,
    lease: chrono::Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            base: chrono::Duration::seconds(30),
            cap: chrono::Duration::hours(1),
            max_attempts: 8,
            lease: chrono::Duration::minutes(5),
        }
    }
}

impl DeliveryPolicy {
    /// The wait before the attempt after `failures` failures.
    fn backoff(&self, id: &NotificationId, failures: u32) -> chrono::Duration {
        use std::hash::{Hash, Hasher};
        let exp = self
            .base
            .num_milliseconds()
            .saturating_mul(1i64 << failures.saturating_sub(1).min(30));
        // A negative base or cap (a misconfiguration) waits not at all.
        let wait = exp.min(self.cap.num_milliseconds()).max(0);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (id, failures).hash(&mut h);
        let jitter = 0.8 + (h.finish() % 4001) as f64 / 10_000.0; // 0.8 ..= 1.2
        chrono::Duration::milliseconds((wait as f64 * jitter) as i64)
    }
}

/// What one [`Engine::relay`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Relay {
    /// Notifications delivered.
    pub delivered: usize,
    /// Notifications that failed and will be tried again.
    pub retrying: usize,
    /// Notifications given up on (now dead letters).
    pub dead: usize,
}

/// Why [`Engine::execute`] or a query failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The command was refused; nothing changed.
    #[error("rejected: {0}")]
    Rejected(#[from] Rejection),
    /// The store failed; nothing was acknowledged.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The complaint is pinned to a policy version this engine does not hold.
    #[error(
        "complaint {complaint} is pinned to policy version {version}, which this engine does not hold"
    )]
    UnknownPolicyVersion {
        /// The complaint.
        complaint: ComplaintId,
        /// Its pinned version.
        version: u32,
    },
    /// The command id was already used for another request: another command, another
    /// actor or another complaint. Nothing changed, and the error says nothing about the
    /// request the id was first used for.
    #[error("command id {command} was already used for another request")]
    CommandIdReused {
        /// The command id.
        command: CommandId,
    },
}

impl EngineError {
    /// The stable machine-readable code (see [`crate::wire`]): the rejection's
    /// ([`Rejection::code`]), the store's ([`StoreError::code`]), `policy_version_unknown`
    /// or `command_id_reused`. [`crate::wire::ErrorBody`] is the body a service answers with.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rejected(r) => r.code(),
            Self::Store(e) => e.code(),
            Self::UnknownPolicyVersion { .. } => "policy_version_unknown",
            Self::CommandIdReused { .. } => "command_id_reused",
        }
    }
}

/// What one [`Engine::tick`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Tick {
    /// The events it appended, in the order they fired.
    pub fired: Vec<Recorded>,
    /// Complaints it could not fire, and why; they stay due for the next tick.
    pub failed: Vec<(ComplaintId, EngineError)>,
}

/// Builds an [`Engine`]; the store and the current policy are required, the rest default
/// (no notifications, the system clock, 8 attempts on conflict). `M` is what
/// [`EngineBuilder::build`] makes: an [`Engine`] ([`Async`]), or with
/// [`crate::blocking::Engine::builder`] its blocking facade.
pub struct EngineBuilder<S, N, C, M = Async> {
    engine: Engine<S, N, C>,
    makes: std::marker::PhantomData<M>,
}

impl<S: Store> Engine<S> {
    /// Starts building an engine over `store` whose new complaints follow `policy`.
    pub fn builder(store: S, policy: Policy) -> EngineBuilder<S, DiscardNotifier, SystemClock> {
        EngineBuilder::new(store, policy)
    }
}

impl<S, M> EngineBuilder<S, DiscardNotifier, SystemClock, M> {
    pub(crate) fn new(store: S, policy: Policy) -> Self {
        let current = policy.version;
        EngineBuilder {
            engine: Engine {
                store,
                notifier: DiscardNotifier,
                clock: SystemClock,
                policies: BTreeMap::from([(current, Arc::new(policy))]),
                current,
                max_attempts: 8,
                delivery: DeliveryPolicy::default(),
            },
            makes: std::marker::PhantomData,
        }
    }
}

/// What an [`EngineBuilder`] makes of the engine it built: the engine itself ([`Async`]) or
/// a facade over it ([`crate::blocking::Blocking`]).
pub trait Make {
    /// The engine or facade made.
    type Engine<S, N, C>;
    /// Wraps `engine`.
    fn make<S, N, C>(engine: Engine<S, N, C>) -> Self::Engine<S, N, C>;
}

/// An [`EngineBuilder`] that makes the [`Engine`] itself, whose calls are `async`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Async;

impl Make for Async {
    type Engine<S, N, C> = Engine<S, N, C>;
    fn make<S, N, C>(engine: Engine<S, N, C>) -> Engine<S, N, C> {
        engine
    }
}

impl<S, N, C, M> EngineBuilder<S, N, C, M> {
    /// Delivers notifications through `notifier`.
    pub fn notifier<N2: Notifier>(self, notifier: N2) -> EngineBuilder<S, N2, C, M> {
        let e = self.engine;
        EngineBuilder {
            engine: Engine {
                store: e.store,
                notifier,
                clock: e.clock,
                policies: e.policies,
                current: e.current,
                max_attempts: e.max_attempts,
                delivery: e.delivery,
            },
            makes: std::marker::PhantomData,
        }
    }

    /// Takes `now` from `clock`.
    pub fn clock<C2: Clock>(self, clock: C2) -> EngineBuilder<S, N, C2, M> {
        let e = self.engine;
        EngineBuilder {
            engine: Engine {
                store: e.store,
                notifier: e.notifier,
                clock,
                policies: e.policies,
                current: e.current,
                max_attempts: e.max_attempts,
                delivery: e.delivery,
            },
            makes: std::marker::PhantomData,
        }
    }

    /// Also holds an older (or other) policy version, for complaints pinned to it.
    /// The builder's first policy stays the one new complaints follow.
    pub fn also_policy(mut self, policy: Policy) -> Self {
        self.engine
            .policies
            .entry(policy.version)
            .or_insert_with(|| Arc::new(policy));
        self
    }

    /// How many times a command is decided again after losing a race (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.engine.max_attempts = attempts.max(1);
        self
    }

    /// How often the relay tries a notification before making it a dead letter (at least 1).
    pub fn max_delivery_attempts(mut self, attempts: u32) -> Self {
        self.engine.delivery.max_attempts = attempts.max(1);
        self
    }

    /// How long a relay's claim on a notification lasts (5 minutes by default): an instance
    /// that dies, or a delivery abandoned, holding claims delays them by this much, after
    /// which any relay takes them again. Longer than the slowest delivery the notifier makes,
    /// or a notification still being delivered may be delivered twice (receivers drop
    /// duplicates by id). At least one second.
    pub fn delivery_lease(mut self, lease: chrono::Duration) -> Self {
        self.engine.delivery.lease = lease.max(chrono::Duration::seconds(1));
        self
    }

    /// The relay's first back-off; later ones double up to `cap`.
    pub fn delivery_backoff(mut self, base: chrono::Duration, cap: chrono::Duration) -> Self {
        self.engine.delivery.base = base;
        self.engine.delivery.cap = cap.max(base);
        self
    }

    /// The engine (or, from [`crate::blocking::Engine::builder`], its blocking facade).
    pub fn build(self) -> M::Engine<S, N, C>
    where
        M: Make,
    {
        M::make(self.engine)
    }
}

impl<S: Store, N: Notifier, C: Clock> Engine<S, N, C> {
    /// Decides `command` on complaint `id` as `actor`, appends the events, and returns the
    /// complaint's new state.
    ///
    /// Idempotent by `command_id`, for the same request: retrying a command that was already
    /// applied — the same command by the same actor (kind, roles and department included) on
    /// the same complaint — returns the state right after its first application and appends
    /// nothing. The same id with any other request is that request's own answer: its
    /// rejection if `decide` refuses it, [`EngineError::CommandIdReused`] if it would be
    /// accepted; never the first request's result. (A retry is the same request when its
    /// actor is the one recorded and `decide`, given it on the state before the first
    /// application at that application's instant, gives exactly the recorded events: the
    /// check costs nothing until a command id comes back.) Racing commands on one complaint
    /// are decided again on the fresh state, up to the configured attempts.
    ///
    /// # Errors
    /// [`EngineError::Rejected`] when `decide` refuses (or, after every attempt lost a race,
    /// with [`Rejection::Conflict`]); nothing changed. [`EngineError::Store`] when the store
    /// fails. [`EngineError::UnknownPolicyVersion`], [`EngineError::CommandIdReused`].
    pub async fn execute(
        &self,
        command_id: CommandId,
        id: &ComplaintId,
        command: Command,
        actor: &Actor,
    ) -> Result<Arc<Complaint>, EngineError> {
        let command_kind = command.kind();
        let kind = command_kind.name();
        let span = tracing::debug_span!(
            "plaint.execute",
            complaint = %id,
            command = kind,
            attempts = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let mut attempts = 0u32;
        // The span is entered only when a subscriber wants it: wrapping the future in
        // `Instrumented` costs every command a move of it.
        let result = if span.is_disabled() {
            self.attempt(command_id, id, command, actor, &mut attempts)
                .await
        } else {
            self.attempt(command_id, id, command, actor, &mut attempts)
                .instrument(span.clone())
                .await
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        span.record("attempts", attempts);
        span.record("outcome", outcome);
        span.in_scope(|| tracing::debug!(outcome, attempts, "command decided"));
        count_command(command_kind, outcome);
        result
    }

    /// [`Engine::execute`]'s load → decide → append loop, counting its `attempts`.
    async fn attempt(
        &self,
        command_id: CommandId,
        id: &ComplaintId,
        command: Command,
        actor: &Actor,
        attempts: &mut u32,
    ) -> Result<Arc<Complaint>, EngineError> {
        let mut last_conflict = (0, 0);
        for _ in 0..self.max_attempts {
            *attempts += 1;
            let state = self.store.load(id).await?;
            let (recorded, policy) = match self
                .decide(state.as_deref(), &command, actor, &command_id)
                .await
            {
                Ok(decided) => decided,
                // A retry of an applied command may no longer be legal: answer it first.
                Err(rejection) => {
                    return match self.store.command(&command_id).await? {
                        Some(done) => self
                            .result_of(id, done, &command_id, &command, actor)
                            .await?
                            .ok_or(rejection),
                        None => Err(rejection),
                    };
                }
            };
            let expected = state.as_ref().map_or(0, |c| c.version);
            let notifications = if self.notifier.is_enabled() {
                notifications_for(id, state.as_deref(), &recorded, policy)
            } else {
                Vec::new()
            };
            // Let go of our copy so the store can apply the events in place.
            drop(state);
            let append = Append::new(id.clone(), command_id.clone(), expected, recorded)
                .with_outbox(notifications);
            match self.store.append(append).await {
                Ok(next) => return Ok(next),
                Err(StoreError::Conflict { expected, actual }) => {
                    last_conflict = (expected, actual);
                }
                Err(StoreError::DuplicateCommand(_)) => {
                    let done = self.store.command(&command_id).await?.ok_or_else(|| {
                        StoreError::Malformed("duplicate command without a record".into())
                    })?;
                    return self
                        .result_of(id, done, &command_id, &command, actor)
                        .await?
                        .ok_or(EngineError::CommandIdReused {
                            command: command_id,
                        });
                }
                Err(e) => return Err(e.into()),
            }
        }
        let (expected, actual) = last_conflict;
        Err(Rejection::Conflict { expected, actual }.into())
    }

    /// Fires every clock item due by now — warnings, breaches, escalation rungs — in due
    /// order across complaints (ties in complaint-id order), each recorded with its original
    /// due instant.
    ///
    /// Exactly once: a second tick at the same instant fires nothing, and two threads ticking
    /// at once never both fire an item (the firing is an append at the version it was decided
    /// on; the loser finds nothing left to fire). After downtime it catches up on everything.
    /// A complaint that cannot be fired (its policy version is not loaded, it kept changing)
    /// is reported in [`Tick::failed`] and passed over, so it never holds up the others.
    ///
    /// # Errors
    /// A store error, which ends the tick (what fired before it stays fired).
    pub async fn tick(&self) -> Result<Tick, EngineError> {
        let span = tracing::debug_span!(
            "plaint.tick",
            fired = tracing::field::Empty,
            failed = tracing::field::Empty
        );
        let result = self.tick_all().instrument(span.clone()).await;
        if let Ok(tick) = &result {
            span.record("fired", tick.fired.len());
            span.record("failed", tick.failed.len());
            for r in &tick.fired {
                let kind = r.event.kind().name();
                metrics::counter!("plaint_clock_firings_total", "event" => kind).increment(1);
            }
            if !tick.failed.is_empty() {
                span.in_scope(|| {
                    tracing::warn!(
                        failed = tick.failed.len(),
                        "complaints passed over by a tick"
                    )
                });
            }
        }
        result
    }

    /// [`Engine::tick`]'s walk over what is due.
    async fn tick_all(&self) -> Result<Tick, EngineError> {
        let now = self.clock.now();
        let mut tick = Tick::default();
        let mut passed_over: Vec<ComplaintId> = Vec::new();
        let mut last: Option<(crate::Timestamp, ComplaintId)> = None;
        loop {
            let due: Vec<_> = self
                .store
                .due(now, passed_over.len() + 2)
                .await?
                .into_iter()
                .filter(|(_, id)| !passed_over.contains(id))
                .collect();
            let Some((at, id)) = due.first().cloned() else {
                return Ok(tick);
            };
            if last.as_ref() == Some(&(at, id.clone())) {
                // The index still shows what the state says is not due: refuse to spin.
                return Err(
                    StoreError::Malformed(format!("due index out of step for {id}")).into(),
                );
            }
            // Fire this complaint only up to the next complaint's due instant, so firings
            // across complaints happen in due order.
            let upto = due.get(1).map_or(now, |(next, _)| (*next).min(now)).max(at);
            match self.fire(&id, upto).await {
                Ok(events) => {
                    last = events.is_empty().then_some((at, id));
                    tick.fired.extend(events);
                }
                Err(EngineError::Store(e)) => return Err(e.into()),
                Err(e) => {
                    passed_over.push(id.clone());
                    tick.failed.push((id, e));
                }
            }
        }
    }

    /// When `tick` next has something to fire: an embedding service sleeps until then.
    ///
    /// # Errors
    /// A store error.
    pub async fn next_due(&self) -> Result<Option<crate::Timestamp>, EngineError> {
        Ok(self.store.next_due().await?)
    }

    /// Fires complaint `id`'s items due by `upto`; empty when another tick got there first.
    async fn fire(
        &self,
        id: &ComplaintId,
        upto: crate::Timestamp,
    ) -> Result<Vec<Recorded>, EngineError> {
        let system = Actor::system();
        let mut last_conflict = (0, 0);
        for _ in 0..self.max_attempts {
            let Some(state) = self.store.load(id).await? else {
                return Ok(Vec::new());
            };
            // One firing per complaint version: a racing tick decides the same command id.
            let command_id = CommandId::internal(format!("tick:{id}:{}", state.version));
            let command = Command::Tick { upto };
            let (recorded, policy) = match self
                .decide(Some(&state), &command, &system, &command_id)
                .await
            {
                Ok(decided) => decided,
                Err(EngineError::Rejected(Rejection::NothingDue)) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let expected = state.version;
            let notifications = if self.notifier.is_enabled() {
                notifications_for(id, Some(&state), &recorded, policy)
            } else {
                Vec::new()
            };
            drop(state);
            let append = Append::new(id.clone(), command_id, expected, recorded.clone())
                .with_outbox(notifications);
            match self.store.append(append).await {
                Ok(_) => return Ok(recorded),
                Err(StoreError::Conflict { expected, actual }) => {
                    last_conflict = (expected, actual)
                }
                Err(StoreError::DuplicateCommand(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let (expected, actual) = last_conflict;
        Err(Rejection::Conflict { expected, actual }.into())
    }

    /// The complaint's current state, whole: contacts unmasked, every internal record. For
    /// trusted code inside the service (a report, a migration); what goes to a person is
    /// [`Engine::view`].
    ///
    /// # Errors
    /// A store error.
    pub async fn get(&self, id: &ComplaintId) -> Result<Option<Arc<Complaint>>, EngineError> {
        Ok(self.store.load(id).await?)
    }

    /// The complaint's audit trail: every event with who, when and which command, whole
    /// (the intake's contacts unmasked). For trusted code; what goes to a person is
    /// [`Engine::history_for`].
    ///
    /// # Errors
    /// A store error.
    pub async fn history(&self, id: &ComplaintId) -> Result<Vec<Recorded>, EngineError> {
        Ok(self.store.history(id).await?)
    }

    /// The store's feed ([`Store::feed`]): every complaint's events in commit order after
    /// `after`, at most `limit` (and at most [`crate::FeedPage::MAX_LIMIT`]), whole (contacts
    /// unmasked). For trusted consumers: read models, search indexes, exports, webhooks,
    /// which keep [`crate::FeedPage::next`] and resume from it.
    ///
    /// # Errors
    /// A store error.
    pub async fn feed(
        &self,
        after: crate::Position,
        limit: usize,
    ) -> Result<crate::FeedPage, EngineError> {
        Ok(self.store.feed(after, limit).await?)
    }

    /// The complaint as `actor` may see it ([`crate::view`]): contacts masked unless they
    /// may see them, and for a complainant only their own complaint, without staff's
    /// internal records. The payload to return to a person.
    ///
    /// # Errors
    /// [`EngineError::Rejected`] with [`Rejection::NotFound`] when there is no such complaint
    /// or `actor` is a complainant who does not own it (the two answers are the same, so
    /// existence is not revealed); [`EngineError::UnknownPolicyVersion`] for staff and the
    /// system when the engine lacks the complaint's policy; a store error.
    pub async fn view(
        &self,
        id: &ComplaintId,
        actor: &Actor,
    ) -> Result<crate::ComplaintView, EngineError> {
        let (state, history) = self.visible(id, actor).await?;
        let policy = self.policy(&state)?;
        crate::view::complaint(&state, &history, actor, policy)
            .ok_or_else(|| Rejection::NotFound.into())
    }

    /// `state` — as [`Engine::execute`] returned it — as `actor` may see it: the answer to
    /// a command, which a retry of the command gets again, whatever came after it.
    ///
    /// # Errors
    /// As [`Engine::view`].
    pub async fn view_of(
        &self,
        state: Arc<Complaint>,
        actor: &Actor,
    ) -> Result<crate::ComplaintView, EngineError> {
        let (state, history) = match actor.kind {
            crate::ActorKind::Complainant => self.with_history(state).await?,
            _ => (state, Vec::new()),
        };
        let policy = self.policy(&state)?;
        crate::view::complaint(&state, &history, actor, policy)
            .ok_or_else(|| Rejection::NotFound.into())
    }

    /// The commands `actor` may give complaint `id` now ([`crate::available`], at the
    /// engine's clock): what a screen offers. Only the kinds and action keys cross; the
    /// complaint itself is read whole to judge them, as [`Engine::execute`] would.
    ///
    /// # Errors
    /// As [`Engine::view`].
    pub async fn available_for(
        &self,
        id: &ComplaintId,
        actor: &Actor,
    ) -> Result<crate::Available, EngineError> {
        let (state, _) = self.visible(id, actor).await?;
        let policy = self.policy(&state)?;
        Ok(crate::available(&state, policy, actor, self.clock.now()))
    }

    /// The complaint's history as `actor` may see it ([`crate::view::history`]): the intake's
    /// contacts masked unless they may see them, and for a complainant only the entries that
    /// are not staff's internal working.
    ///
    /// # Errors
    /// As [`Engine::view`].
    pub async fn history_for(
        &self,
        id: &ComplaintId,
        actor: &Actor,
    ) -> Result<Vec<Recorded>, EngineError> {
        let (state, history) = self.visible(id, actor).await?;
        let history = match actor.kind {
            crate::ActorKind::Complainant => history,
            _ => self.store.history(id).await?,
        };
        let policy = self.policy(&state)?;
        crate::view::history(&state, &history, actor, policy)
            .ok_or_else(|| Rejection::NotFound.into())
    }

    /// Complaint `id` if `actor` may see anything of it, `NotFound` otherwise. For a
    /// complainant, also its history, and the state as that history leaves it (so the two
    /// agree even if a command lands between the reads); for others an empty history.
    async fn visible(
        &self,
        id: &ComplaintId,
        actor: &Actor,
    ) -> Result<(Arc<Complaint>, Vec<Recorded>), EngineError> {
        let Some(state) = self.store.load(id).await? else {
            return Err(Rejection::NotFound.into());
        };
        if !matches!(actor.kind, crate::ActorKind::Complainant) {
            return Ok((state, Vec::new()));
        }
        // Ownership first, before anything else can answer differently.
        if state.intake.complainant.id != actor.id {
            return Err(Rejection::NotFound.into());
        }
        self.with_history(state).await
    }

    /// `state` with its history up to `state`'s version (a command may have come in between
    /// the two reads: the history is cut to the state, so the two agree without a replay).
    async fn with_history(
        &self,
        state: Arc<Complaint>,
    ) -> Result<(Arc<Complaint>, Vec<Recorded>), EngineError> {
        let mut history = self.store.history(&state.id).await?;
        history.retain(|r| r.version <= state.version);
        Ok((state, history))
    }

    /// Complaints by the filters of `query`, a page at a time, whole (trusted code; see
    /// [`Engine::list_for`]).
    ///
    /// # Errors
    /// A store error.
    pub async fn list(&self, query: &ListQuery) -> Result<Page, EngineError> {
        Ok(self.store.list(query).await?)
    }

    /// How many complaints match `query`'s filters (its paging aside): a work queue's total.
    ///
    /// # Errors
    /// A store error.
    pub async fn count(&self, query: &ListQuery) -> Result<u64, EngineError> {
        Ok(self.store.count(query).await?)
    }

    /// A page of complaints as `actor` sees them ([`Engine::view`]). A complainant lists only
    /// their own complaints: `query.complainant` is set to them (a query naming someone
    /// else finds nothing), and each of their complaints' history is read too (their view
    /// needs it). Staff and the system list every complaint the filters match.
    ///
    /// # Errors
    /// A store error; [`EngineError::UnknownPolicyVersion`] when a complaint on the page is
    /// pinned to a policy the engine lacks.
    pub async fn list_for(
        &self,
        query: &ListQuery,
        actor: &Actor,
    ) -> Result<crate::ViewPage, EngineError> {
        let Some(query) = Self::scoped(query, actor) else {
            return Ok(crate::ViewPage::default());
        };
        let page = self.store.list(&query).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for c in page.items {
            // A complainant's view reads the history (the query holds only their own
            // complaints, and the view checks again); others' views need only the state.
            let (state, history) = match actor.kind {
                crate::ActorKind::Complainant => self.with_history(c).await?,
                _ => (c, Vec::new()),
            };
            let policy = self.policy(&state)?;
            items.extend(crate::view::complaint(&state, &history, actor, policy));
        }
        Ok(crate::ViewPage::new(items, page.next))
    }

    /// How many complaints [`Engine::list_for`] would list for `actor`, over all pages.
    ///
    /// # Errors
    /// A store error.
    pub async fn count_for(&self, query: &ListQuery, actor: &Actor) -> Result<u64, EngineError> {
        match Self::scoped(query, actor) {
            Some(q) => Ok(self.store.count(&q).await?),
            None => Ok(0),
        }
    }

    /// `query` narrowed to what `actor` may list; `None` when that is nothing (a complainant
    /// asking for someone else's complaints).
    fn scoped(query: &ListQuery, actor: &Actor) -> Option<ListQuery> {
        if !matches!(actor.kind, crate::ActorKind::Complainant) {
            return Some(query.clone());
        }
        if query.complainant.as_ref().is_some_and(|c| *c != actor.id) {
            return None;
        }
        Some(query.clone().complainant(actor.id.clone()))
    }

    /// The policy new complaints follow.
    pub fn current_policy(&self) -> &Policy {
        &self.policies[&self.current]
    }

    /// Delivers what is due in the outbox through the notifier: failures are retried with
    /// exponential back-off and jitter, and become dead letters after the last attempt.
    /// Commands never wait for this: call it from a background task (each notification has
    /// a stable id, so a receiver can drop the rare duplicate of at-least-once delivery).
    ///
    /// # Errors
    /// As [`Engine::relay_batch`].
    pub async fn relay(&self) -> Result<Relay, EngineError> {
        let mut report = Relay::default();
        loop {
            let batch = self.relay_batch(64).await?;
            if batch == Relay::default() {
                return Ok(report);
            }
            report.delivered += batch.delivered;
            report.retrying += batch.retrying;
            report.dead += batch.dead;
        }
    }

    /// One step of [`Engine::relay`]: claims at most `limit` due notifications and settles
    /// them. A background task that must stay responsive (to shut down, say) calls this in
    /// its loop instead of `relay`, which runs until nothing is due.
    ///
    /// # Errors
    /// A store error (what was settled before it stays settled); [`EngineError::Rejected`]
    /// with [`Rejection::Invalid`] when the clock's `now` lies outside [`crate::EARLIEST`]
    /// ..= [`crate::LATEST`], as [`Engine::execute`] refuses it (nothing is claimed: a lease
    /// or back-off from such an instant cannot be computed).
    pub async fn relay_batch(&self, limit: usize) -> Result<Relay, EngineError> {
        let span = tracing::debug_span!("plaint.relay", limit);
        let result = self.relay_claimed(limit).instrument(span.clone()).await;
        if let Ok(r) = &result {
            for (outcome, n) in [
                ("delivered", r.delivered),
                ("retrying", r.retrying),
                ("dead", r.dead),
            ] {
                metrics::counter!("plaint_notifications_total", "outcome" => outcome)
                    .increment(n as u64);
            }
            if r.dead > 0 {
                span.in_scope(|| {
                    tracing::warn!(dead = r.dead, "notifications became dead letters")
                });
            }
        }
        result
    }

    /// [`Engine::relay_batch`]'s claim → deliver → settle.
    async fn relay_claimed(&self, limit: usize) -> Result<Relay, EngineError> {
        let now = self.clock.now();
        crate::model::check_supported("now", now)?;
        let d = self.delivery;
        let mut report = Relay::default();
        for entry in self.store.claim_outbox(now, d.lease, limit).await? {
            let id = entry.notification.id.clone();
            let message = self.render(entry.notification).await?;
            let outcome = match self.notifier.deliver(&message).await {
                Ok(()) => {
                    report.delivered += 1;
                    Settlement::Delivered
                }
                Err(e) if entry.attempts + 1 >= d.max_attempts => {
                    report.dead += 1;
                    Settlement::Dead {
                        error: e.to_string(),
                    }
                }
                Err(e) => {
                    report.retrying += 1;
                    Settlement::Retry {
                        next_attempt: now
                            .checked_add_signed(d.backoff(&id, entry.attempts + 1))
                            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
                        error: e.to_string(),
                    }
                }
            };
            self.store.settle(&id, outcome).await?;
        }
        Ok(report)
    }

    /// The notification as it is delivered. Its text was rendered when the command that
    /// caused it was decided ([`notifications_for`]); an entry without one whose rule has a
    /// text was written by plaint 0.1.0, which rendered at delivery: it is rendered now as of
    /// its moment, from the history (or, should the history not have its event, from the
    /// current state, as 0.1.0 did).
    async fn render(&self, mut n: crate::Notification) -> Result<crate::Notification, EngineError> {
        if n.text.is_some() {
            return Ok(n);
        }
        let Some(c) = self.store.load(&n.complaint).await? else {
            return Ok(n);
        };
        let Ok(policy) = self.policy(&c) else {
            return Ok(n);
        };
        let Some(template) = policy.text_for(&n) else {
            return Ok(n);
        };
        let history = self.store.history(&n.complaint).await?;
        n.text = Some(
            crate::notify::text_from_history(&n, &history, policy).unwrap_or_else(|| {
                let at = crate::notify::Occasion::of(&c);
                crate::notify::render(template, &n, &at, policy).into()
            }),
        );
        Ok(n)
    }

    /// The notifications given up on, for a person to look at and retry.
    ///
    /// # Errors
    /// A store error.
    pub async fn dead_letters(&self) -> Result<Vec<OutboxEntry>, EngineError> {
        Ok(self.store.dead_letters().await?)
    }

    /// Puts a dead letter back in the outbox, due now; `false` if there is none with that id.
    ///
    /// # Errors
    /// A store error.
    pub async fn retry_dead_letter(&self, id: &NotificationId) -> Result<bool, EngineError> {
        Ok(self.store.requeue(id, self.clock.now()).await?)
    }

    /// The store, for adapters' own maintenance calls.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock the engine reads `now` from: a background runner converts the store's due
    /// instants into waits with it.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Takes the engine apart, giving back its store (to close or reopen it).
    pub fn into_store(self) -> S {
        self.store
    }

    /// Decides `command` on `state` at the clock's `now` under the complaint's policy, and
    /// numbers the events from the state's version.
    async fn decide(
        &self,
        state: Option<&Complaint>,
        command: &Command,
        actor: &Actor,
        command_id: &CommandId,
    ) -> Result<(Vec<Recorded>, &Policy), EngineError> {
        if let Command::Merge { into } = command {
            self.check_merge_target(into).await?;
        }
        let policy = match state {
            Some(c) => self.policy(c)?,
            None => &self.policies[&self.current],
        };
        let now = self.clock.now();
        let events = decide(state, policy, command.clone(), actor, now)?;
        if let (Command::RedactText { version, field, .. }, Some(c)) = (command, state) {
            self.check_redaction(c, *version, field).await?;
        }
        let expected = state.map_or(0, |c| c.version);
        let recorded = Recorded::numbered(events, expected, now, actor, command_id);
        Ok((recorded, policy))
    }

    pub(crate) fn policy(&self, c: &Complaint) -> Result<&Policy, EngineError> {
        self.policies
            .get(&c.policy_version)
            .map(|p| &**p)
            .ok_or_else(|| EngineError::UnknownPolicyVersion {
                complaint: c.id.clone(),
                version: c.policy_version,
            })
    }

    /// A redaction needs the event to have that text, not redacted yet: the history's to
    /// say, which `decide` does not see (asked only once `decide` has let the actor redact).
    async fn check_redaction(
        &self,
        c: &Complaint,
        version: u64,
        field: &str,
    ) -> Result<(), EngineError> {
        let mut history = self.store.history(&c.id).await?;
        crate::privacy::redact(&mut history, version, field).map_err(|e| {
            EngineError::from(Rejection::Invalid {
                field: "field",
                reason: e.to_string(),
            })
        })
    }

    /// A merge needs its target to exist and be open: a lookup `decide` cannot make.
    async fn check_merge_target(&self, into: &ComplaintId) -> Result<(), EngineError> {
        let reason = match self.store.load(into).await? {
            None => "no such complaint",
            Some(t) if t.stage.is_terminal() => "the target complaint is already finished",
            Some(_) => return Ok(()),
        };
        Err(Rejection::Invalid {
            field: "into",
            reason: reason.into(),
        }
        .into())
    }

    /// The state right after an already-recorded command, if this is the same request;
    /// `None` when the id was used for another complaint or another request.
    ///
    /// The same request is the same actor (its kind, roles and department too, where the
    /// events recorded them; events of 0.1 have only the id) giving a command that `decide`
    /// turns, on the state before the recorded command and at its instant, into exactly the
    /// recorded events. `decide` is pure, so the first application passes this check; any
    /// other command that passes it has the very same effect.
    async fn result_of(
        &self,
        id: &ComplaintId,
        done: CommandRecord,
        command_id: &CommandId,
        command: &Command,
        actor: &Actor,
    ) -> Result<Option<Arc<Complaint>>, EngineError> {
        if &done.complaint != id {
            return Ok(None);
        }
        let history = self.store.history(id).await?;
        let Some(start) = history.iter().position(|r| &r.command == command_id) else {
            return Ok(None);
        };
        let recorded = &history[Recorded::command_span(&history, start)];
        let first = &recorded[0];
        if first.actor != actor.id || first.actor_kind.as_ref().is_some_and(|k| *k != actor.kind) {
            return Ok(None);
        }
        let state = Complaint::replay(id.clone(), &history[..start]);
        let pinned = match (&state, &first.event) {
            (Some(c), _) => c.policy_version,
            (None, crate::Event::Received { policy_version, .. }) => *policy_version,
            (None, _) => return Ok(None),
        };
        let Some(policy) = self.policies.get(&pinned) else {
            return Ok(None);
        };
        let same = decide(state.as_ref(), policy, command.clone(), actor, first.at)
            .is_ok_and(|events| events.iter().eq(recorded.iter().map(|r| &r.event)));
        if !same {
            return Ok(None);
        }
        // The state right after it: the state before, with its events folded on.
        let after = match state {
            Some(mut c) => {
                recorded.iter().for_each(|r| c.apply(r));
                Some(c)
            }
            None => Complaint::replay(id.clone(), recorded),
        };
        after
            .map(|c| Some(Arc::new(c)))
            .ok_or_else(|| StoreError::Malformed(format!("history of {id} is empty")).into())
    }
}

/// How many outcomes a command has: `ok`, or one of the error codes.
const OUTCOMES: usize = 1 + crate::wire::ERROR_CODES.len();

/// The labels of `plaint_commands_total` for each command kind and outcome, made once each:
/// counting a command must not build (and allocate) its key every time, whether or not a
/// recorder listens.
static COMMAND_LABELS: [std::sync::OnceLock<&'static [metrics::Label]>;
    CommandKind::ALL.len() * OUTCOMES] =
    [const { std::sync::OnceLock::new() }; CommandKind::ALL.len() * OUTCOMES];

/// Adds one to `plaint_commands_total{command, outcome}`.
fn count_command(kind: CommandKind, outcome: &'static str) {
    static METADATA: metrics::Metadata<'static> =
        metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));
    let slot = std::iter::once("ok")
        .chain(crate::wire::ERROR_CODES.iter().copied())
        .position(|code| code == outcome)
        .and_then(|o| COMMAND_LABELS.get(kind as usize * OUTCOMES + o));
    let Some(slot) = slot else {
        // An outcome without a slot (none today): the plain, allocating way.
        let kind = kind.name();
        metrics::counter!("plaint_commands_total", "command" => kind, "outcome" => outcome)
            .increment(1);
        return;
    };
    let labels = *slot.get_or_init(|| {
        Box::leak(Box::new([
            metrics::Label::from_static_parts("command", kind.name()),
            metrics::Label::from_static_parts("outcome", outcome),
        ]))
    });
    let key = metrics::Key::from_static_parts("plaint_commands_total", labels);
    metrics::with_recorder(|r| r.register_counter(&key, &METADATA).increment(1));
}
