//! The storage port: the `Store` trait every backend implements, and what crosses it.

use crate::complaint::Complaint;
use crate::id::{ActorId, CommandId, ComplaintId, DepartmentKey, TierKey};
use crate::lifecycle::{Recorded, StageKind};
use crate::model::Timestamp;
use crate::notify::{Notification, NotificationId, OutboxEntry, Settlement};
use std::sync::Arc;

mod changes;
pub use changes::{Changed, Changes};

/// Persistent storage for complaints. A store knows no business rules: it appends what the
/// engine decided, atomically and only at the expected version, and answers queries. It
/// keeps each complaint's state as the fold of its events ([`Complaint::open`] and
/// [`Complaint::apply`], which hold no rules), so state and history cannot disagree.
///
/// Every implementation must pass the conformance suite (`plaint_core::conformance`, behind
/// the `conformance` feature).
///
/// The methods are `async` (each returns a `Send` future), so a store that talks to a server
/// (PostgreSQL) awaits it without holding a thread, and the engine's one orchestration runs
/// on any executor. A store with nothing to wait for (`MemoryStore`) answers with futures
/// that are ready when first polled; sync code drives any of them through
/// [`crate::blocking`]. A future that is dropped before it completes must leave the store as
/// if the call had either not happened or completed: an append is all or nothing whether or
/// not its caller waits for the answer.
pub trait Store: Send + Sync {
    /// Appends one command's events and its outbox entries atomically: all or nothing, and
    /// only if the complaint is at `append.expected_version` (0 for a new complaint). Records
    /// `append.command` so the command is never applied twice. Returns the complaint's state
    /// after the events.
    ///
    /// A store should apply the events in place when nobody else holds the current state
    /// (`Arc::make_mut`): the engine drops its copy before appending, so a command then costs
    /// no copy of the complaint.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the complaint is at another version,
    /// [`StoreError::DuplicateCommand`] when the command id was already recorded,
    /// [`StoreError::Malformed`] when the append is not self-consistent (see
    /// [`Append::check`]), or a backend error. On any error nothing was written.
    fn append(
        &self,
        append: Append,
    ) -> impl Future<Output = Result<Arc<Complaint>, StoreError>> + Send;

    /// The complaint's latest state, or `None` if it was never received.
    ///
    /// # Errors
    /// A backend error.
    fn load(
        &self,
        id: &ComplaintId,
    ) -> impl Future<Output = Result<Option<Arc<Complaint>>, StoreError>> + Send;

    /// The complaint's events in version order (empty if it does not exist).
    ///
    /// # Errors
    /// A backend error.
    fn history(
        &self,
        id: &ComplaintId,
    ) -> impl Future<Output = Result<Vec<Recorded>, StoreError>> + Send;

    /// Where a command id was recorded, if it was.
    ///
    /// # Errors
    /// A backend error.
    fn command(
        &self,
        id: &CommandId,
    ) -> impl Future<Output = Result<Option<CommandRecord>, StoreError>> + Send;

    /// Complaints matching `query`, in id order, one page at a time.
    ///
    /// # Errors
    /// A backend error.
    fn list(&self, query: &ListQuery) -> impl Future<Output = Result<Page, StoreError>> + Send;

    /// How many complaints match `query`'s filters (its `after` and `limit` are ignored): the
    /// total a work queue shows beside its first page. The default pages through
    /// [`Store::list`]; a store that can count without loading complaints should.
    ///
    /// # Errors
    /// A backend error.
    fn count(&self, query: &ListQuery) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let mut q = query.clone();
        q.after = None;
        q.limit = ListQuery::MAX_LIMIT;
        async move {
            let mut n = 0u64;
            loop {
                let page = self.list(&q).await?;
                n += page.items.len() as u64;
                match page.next {
                    Some(next) => q.after = Some(next),
                    None => return Ok(n),
                }
            }
        }
    }

    /// The due-timer index: complaints whose [`Complaint::next_due`] is at or before `upto`,
    /// earliest first (ties in id order), at most `limit` of them. The index follows every
    /// append; its cost follows what is due, not how many complaints are open.
    ///
    /// # Errors
    /// A backend error.
    fn due(
        &self,
        upto: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<(Timestamp, ComplaintId)>, StoreError>> + Send;

    /// The earliest [`Complaint::next_due`] of all complaints.
    ///
    /// # Errors
    /// A backend error.
    fn next_due(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    /// Claims up to `limit` outbox entries whose `next_attempt` is at or before `now`, earliest
    /// first (ties in id order), and pushes their `next_attempt` to `now + lease` in the same
    /// step, so a concurrent relay does not take them too unless the lease runs out.
    ///
    /// # Errors
    /// A backend error.
    fn claim_outbox(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send;

    /// Records how a claimed entry ended. Settling an entry that is no longer in the outbox
    /// (another relay settled it) does nothing.
    ///
    /// # Errors
    /// A backend error.
    fn settle(
        &self,
        id: &NotificationId,
        outcome: Settlement,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The dead letters: entries given up on, oldest first.
    ///
    /// # Errors
    /// A backend error.
    fn dead_letters(&self) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send;

    /// Puts a dead letter back in the outbox, due at `at` with its attempts reset; `false` if
    /// there is no such dead letter.
    ///
    /// # Errors
    /// A backend error.
    fn requeue(
        &self,
        id: &NotificationId,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The feed: every recorded event of every complaint in the one order appends committed
    /// in, numbered 1, 2, 3, … without gaps ([`Position`]), starting after `after`
    /// ([`Position::START`] for the beginning), at most `limit` events (and at most
    /// [`FeedPage::MAX_LIMIT`]). A reader resumes from [`FeedPage::next`]; reading in pages
    /// gives exactly what one read would. An event is in the feed once its append returned
    /// or a load can see it, never earlier, and a reader never sees position `n + 1` before
    /// `n`: a projection that keeps the last position it handled never misses, repeats or
    /// reorders an event. An `after` beyond the end gives an empty page.
    ///
    /// # Errors
    /// A backend error.
    fn feed(
        &self,
        after: Position,
        limit: usize,
    ) -> impl Future<Output = Result<FeedPage, StoreError>> + Send;

    /// The signal this store raises whenever what [`Store::next_due`] or
    /// [`Store::outbox_stats`] answers may have changed — an append that moves a complaint's
    /// next due instant or adds outbox entries, a settlement that schedules a retry, a
    /// requeued dead letter — including, for a store shared by several processes, other
    /// processes' writes it hears of. A background runner waits on it instead of polling.
    /// `None` (the default) when the store cannot tell; a runner then polls.
    fn changes(&self) -> Option<&Changes> {
        None
    }

    /// How the outbox stands, if the store can tell without reading it entry by entry:
    /// what a runner needs to sleep until the next delivery is due, and the depth and age
    /// it reports. `None` (the default) when it cannot.
    ///
    /// # Errors
    /// A backend error.
    fn outbox_stats(&self) -> impl Future<Output = Result<Option<OutboxStats>, StoreError>> + Send {
        std::future::ready(Ok(None))
    }
}

/// How the outbox stands ([`Store::outbox_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboxStats {
    /// Entries waiting to be delivered (claimed ones included).
    pub pending: u64,
    /// Dead letters.
    pub dead: u64,
    /// The earliest `next_attempt` of the pending entries: when a relay next has work (now
    /// or earlier means at once), and how long the most overdue entry has waited.
    pub next_attempt: Option<Timestamp>,
}

impl OutboxStats {
    /// Stats of `pending` entries, the earliest due at `next_attempt`, and `dead` letters.
    pub fn new(pending: u64, dead: u64, next_attempt: Option<Timestamp>) -> Self {
        Self {
            pending,
            dead,
            next_attempt,
        }
    }
}

impl<T: Store + ?Sized> Store for Arc<T> {
    fn append(
        &self,
        append: Append,
    ) -> impl Future<Output = Result<Arc<Complaint>, StoreError>> + Send {
        (**self).append(append)
    }
    fn load(
        &self,
        id: &ComplaintId,
    ) -> impl Future<Output = Result<Option<Arc<Complaint>>, StoreError>> + Send {
        (**self).load(id)
    }
    fn history(
        &self,
        id: &ComplaintId,
    ) -> impl Future<Output = Result<Vec<Recorded>, StoreError>> + Send {
        (**self).history(id)
    }
    fn command(
        &self,
        id: &CommandId,
    ) -> impl Future<Output = Result<Option<CommandRecord>, StoreError>> + Send {
        (**self).command(id)
    }
    fn list(&self, query: &ListQuery) -> impl Future<Output = Result<Page, StoreError>> + Send {
        (**self).list(query)
    }
    fn count(&self, query: &ListQuery) -> impl Future<Output = Result<u64, StoreError>> + Send {
        (**self).count(query)
    }
    fn due(
        &self,
        upto: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<(Timestamp, ComplaintId)>, StoreError>> + Send {
        (**self).due(upto, limit)
    }
    fn next_due(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send {
        (**self).next_due()
    }
    fn claim_outbox(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send {
        (**self).claim_outbox(now, lease, limit)
    }
    fn settle(
        &self,
        id: &NotificationId,
        outcome: Settlement,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).settle(id, outcome)
    }
    fn dead_letters(&self) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send {
        (**self).dead_letters()
    }
    fn requeue(
        &self,
        id: &NotificationId,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).requeue(id, at)
    }
    fn feed(
        &self,
        after: Position,
        limit: usize,
    ) -> impl Future<Output = Result<FeedPage, StoreError>> + Send {
        (**self).feed(after, limit)
    }
    fn changes(&self) -> Option<&Changes> {
        (**self).changes()
    }
    fn outbox_stats(&self) -> impl Future<Output = Result<Option<OutboxStats>, StoreError>> + Send {
        (**self).outbox_stats()
    }
}

/// A boxed future of a [`DynStore`] call.
pub type Boxed<'a, T> = std::pin::Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A [`Store`] behind `dyn` (its futures boxed), for an embedding that picks its store at run
/// time (a file in development, a database in production): every store is one, and
/// `Arc<dyn DynStore>` is a store again. Each call costs one
/// allocation more than the store's own.
pub trait DynStore: Send + Sync {
    /// [`Store::append`].
    fn append_boxed(&self, append: Append) -> Boxed<'_, Arc<Complaint>>;
    /// [`Store::load`].
    fn load_boxed<'a>(&'a self, id: &'a ComplaintId) -> Boxed<'a, Option<Arc<Complaint>>>;
    /// [`Store::history`].
    fn history_boxed<'a>(&'a self, id: &'a ComplaintId) -> Boxed<'a, Vec<Recorded>>;
    /// [`Store::command`].
    fn command_boxed<'a>(&'a self, id: &'a CommandId) -> Boxed<'a, Option<CommandRecord>>;
    /// [`Store::list`].
    fn list_boxed<'a>(&'a self, query: &'a ListQuery) -> Boxed<'a, Page>;
    /// [`Store::count`].
    fn count_boxed<'a>(&'a self, query: &'a ListQuery) -> Boxed<'a, u64>;
    /// [`Store::due`].
    fn due_boxed(&self, upto: Timestamp, limit: usize) -> Boxed<'_, Vec<(Timestamp, ComplaintId)>>;
    /// [`Store::next_due`].
    fn next_due_boxed(&self) -> Boxed<'_, Option<Timestamp>>;
    /// [`Store::claim_outbox`].
    fn claim_outbox_boxed(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: usize,
    ) -> Boxed<'_, Vec<OutboxEntry>>;
    /// [`Store::settle`].
    fn settle_boxed<'a>(&'a self, id: &'a NotificationId, outcome: Settlement) -> Boxed<'a, ()>;
    /// [`Store::dead_letters`].
    fn dead_letters_boxed(&self) -> Boxed<'_, Vec<OutboxEntry>>;
    /// [`Store::requeue`].
    fn requeue_boxed<'a>(&'a self, id: &'a NotificationId, at: Timestamp) -> Boxed<'a, bool>;
    /// [`Store::feed`].
    fn feed_boxed(&self, after: Position, limit: usize) -> Boxed<'_, FeedPage>;
    /// [`Store::changes`].
    fn changes_dyn(&self) -> Option<&Changes>;
    /// [`Store::outbox_stats`].
    fn outbox_stats_boxed(&self) -> Boxed<'_, Option<OutboxStats>>;
}

impl<S: Store> DynStore for S {
    fn append_boxed(&self, append: Append) -> Boxed<'_, Arc<Complaint>> {
        Box::pin(self.append(append))
    }
    fn load_boxed<'a>(&'a self, id: &'a ComplaintId) -> Boxed<'a, Option<Arc<Complaint>>> {
        Box::pin(self.load(id))
    }
    fn history_boxed<'a>(&'a self, id: &'a ComplaintId) -> Boxed<'a, Vec<Recorded>> {
        Box::pin(self.history(id))
    }
    fn command_boxed<'a>(&'a self, id: &'a CommandId) -> Boxed<'a, Option<CommandRecord>> {
        Box::pin(self.command(id))
    }
    fn list_boxed<'a>(&'a self, query: &'a ListQuery) -> Boxed<'a, Page> {
        Box::pin(self.list(query))
    }
    fn count_boxed<'a>(&'a self, query: &'a ListQuery) -> Boxed<'a, u64> {
        Box::pin(self.count(query))
    }
    fn due_boxed(&self, upto: Timestamp, limit: usize) -> Boxed<'_, Vec<(Timestamp, ComplaintId)>> {
        Box::pin(self.due(upto, limit))
    }
    fn next_due_boxed(&self) -> Boxed<'_, Option<Timestamp>> {
        Box::pin(self.next_due())
    }
    fn claim_outbox_boxed(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: usize,
    ) -> Boxed<'_, Vec<OutboxEntry>> {
        Box::pin(self.claim_outbox(now, lease, limit))
    }
    fn settle_boxed<'a>(&'a self, id: &'a NotificationId, outcome: Settlement) -> Boxed<'a, ()> {
        Box::pin(self.settle(id, outcome))
    }
    fn dead_letters_boxed(&self) -> Boxed<'_, Vec<OutboxEntry>> {
        Box::pin(self.dead_letters())
    }
    fn requeue_boxed<'a>(&'a self, id: &'a NotificationId, at: Timestamp) -> Boxed<'a, bool> {
        Box::pin(self.requeue(id, at))
    }
    fn feed_boxed(&self, after: Position, limit: usize) -> Boxed<'_, FeedPage> {
        Box::pin(self.feed(after, limit))
    }
    fn changes_dyn(&self) -> Option<&Changes> {
        self.changes()
    }
    fn outbox_stats_boxed(&self) -> Boxed<'_, Option<OutboxStats>> {
        Box::pin(self.outbox_stats())
    }
}

impl Store for dyn DynStore + '_ {
    async fn append(&self, append: Append) -> Result<Arc<Complaint>, StoreError> {
        self.append_boxed(append).await
    }
    async fn load(&self, id: &ComplaintId) -> Result<Option<Arc<Complaint>>, StoreError> {
        self.load_boxed(id).await
    }
    async fn history(&self, id: &ComplaintId) -> Result<Vec<Recorded>, StoreError> {
        self.history_boxed(id).await
    }
    async fn command(&self, id: &CommandId) -> Result<Option<CommandRecord>, StoreError> {
        self.command_boxed(id).await
    }
    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        self.list_boxed(query).await
    }
    async fn count(&self, query: &ListQuery) -> Result<u64, StoreError> {
        self.count_boxed(query).await
    }
    async fn due(
        &self,
        upto: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, ComplaintId)>, StoreError> {
        self.due_boxed(upto, limit).await
    }
    async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        self.next_due_boxed().await
    }
    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.claim_outbox_boxed(now, lease, limit).await
    }
    async fn settle(&self, id: &NotificationId, outcome: Settlement) -> Result<(), StoreError> {
        self.settle_boxed(id, outcome).await
    }
    async fn dead_letters(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.dead_letters_boxed().await
    }
    async fn requeue(&self, id: &NotificationId, at: Timestamp) -> Result<bool, StoreError> {
        self.requeue_boxed(id, at).await
    }
    async fn feed(&self, after: Position, limit: usize) -> Result<FeedPage, StoreError> {
        self.feed_boxed(after, limit).await
    }
    fn changes(&self) -> Option<&Changes> {
        self.changes_dyn()
    }
    async fn outbox_stats(&self) -> Result<Option<OutboxStats>, StoreError> {
        self.outbox_stats_boxed().await
    }
}

/// One atomic write: the events of one command.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Append {
    /// The complaint.
    pub complaint: ComplaintId,
    /// The version the command was decided on (0 for a new complaint).
    pub expected_version: u64,
    /// The command's idempotency key.
    pub command: CommandId,
    /// The events, numbered `expected_version + 1 ..`.
    pub events: Vec<Recorded>,
    /// Notifications the events call for: written to the outbox in the same atomic step.
    pub outbox: Vec<Notification>,
}

impl Append {
    /// Bundles one command's events for [`Store::append`].
    pub fn new(
        complaint: ComplaintId,
        command: CommandId,
        expected_version: u64,
        events: Vec<Recorded>,
    ) -> Self {
        Self {
            complaint,
            expected_version,
            command,
            events,
            outbox: Vec::new(),
        }
    }

    /// The same append with notifications for the outbox.
    pub fn with_outbox(mut self, outbox: Vec<Notification>) -> Self {
        self.outbox = outbox;
        self
    }

    /// The outbox entries this append creates: due at once (the command's instant).
    pub fn outbox_entries(&self) -> impl Iterator<Item = OutboxEntry> + '_ {
        let at = self.events.first().map(|e| e.at);
        self.outbox.iter().filter_map(move |n| {
            Some(OutboxEntry {
                notification: n.clone(),
                attempts: 0,
                next_attempt: at?,
                last_error: None,
            })
        })
    }

    /// The version the complaint has after this append.
    pub fn new_version(&self) -> u64 {
        self.expected_version + self.events.len() as u64
    }

    /// Checks the append is self-consistent: at least one event, numbered consecutively from
    /// `expected_version + 1`, all from `command`, and a new complaint starts with `Received`.
    ///
    /// # Errors
    /// [`StoreError::Malformed`] naming the first inconsistency.
    pub fn check(&self) -> Result<(), StoreError> {
        let bad = |why: String| Err(StoreError::Malformed(why));
        let Some(first) = self.events.first() else {
            return bad("an append needs at least one event".into());
        };
        if self
            .expected_version
            .checked_add(self.events.len() as u64)
            .is_none()
        {
            return bad(format!("version {} is out of range", self.expected_version));
        }
        for (i, e) in self.events.iter().enumerate() {
            let want = self.expected_version + 1 + i as u64;
            if e.version != want {
                return bad(format!(
                    "event {i} has version {}, expected {want}",
                    e.version
                ));
            }
            if e.command != self.command {
                return bad(format!("event {i} belongs to command {}", e.command));
            }
        }
        let opens = matches!(first.event, crate::Event::Received { .. });
        if opens != (self.expected_version == 0) {
            return bad("exactly a new complaint's first event is `received`".into());
        }
        Ok(())
    }

    /// The complaint a new complaint's append opens (`expected_version` 0).
    ///
    /// # Errors
    /// [`StoreError::Malformed`] when the events do not start with `Received`.
    pub fn open(&self) -> Result<Arc<Complaint>, StoreError> {
        Complaint::replay(self.complaint.clone(), &self.events)
            .map(Arc::new)
            .ok_or_else(|| {
                StoreError::Malformed("a new complaint must start with `received`".into())
            })
    }

    /// Whether this append erases the complaint's personal data
    /// ([`crate::Event::PersonalDataErased`]): a store then erases its copies of the
    /// complaint's history too ([`crate::PersonalData::erase_personal`]), and a store that
    /// seals personal fields shreds the complaint's keys.
    pub fn erases(&self) -> bool {
        self.events
            .iter()
            .any(|r| matches!(r.event, crate::Event::PersonalDataErased { .. }))
    }

    /// Whether this append redacts a staff text ([`crate::Event::TextRedacted`]): a store
    /// then redacts its copy of the history with [`Append::redact`] and folds it again.
    pub fn redacts(&self) -> bool {
        self.events
            .iter()
            .any(|r| matches!(r.event, crate::Event::TextRedacted { .. }))
    }

    /// Redacts the texts this append's [`crate::Event::TextRedacted`] events name in
    /// `history` (the complaint's events, this append's included) and returns the state that
    /// history folds to; `None` when the append redacts nothing. The engine checked each
    /// text before deciding; one already reading [`crate::privacy::REDACTED`] (a retry) is
    /// left as it is.
    ///
    /// # Errors
    /// [`StoreError::Malformed`] when a named event or text is not in `history`.
    pub fn redact(&self, history: &mut [Recorded]) -> Result<Option<Complaint>, StoreError> {
        use crate::privacy::{Unredactable, redact};
        let mut any = false;
        for r in &self.events {
            if let crate::Event::TextRedacted { version, field, .. } = &r.event {
                match redact(history, *version, field) {
                    Ok(()) | Err(Unredactable::Already { .. }) => any = true,
                    Err(e) => return Err(StoreError::Malformed(e.to_string())),
                }
            }
        }
        if !any {
            return Ok(None);
        }
        Complaint::replay(self.complaint.clone(), history.iter())
            .map(Some)
            .ok_or_else(|| StoreError::Malformed(format!("history of {} is empty", self.complaint)))
    }

    /// Applies the events to an existing complaint's state, in place when nobody else holds
    /// it (it is copied first only if shared). Call after the version check.
    pub fn apply_to(&self, state: &mut Arc<Complaint>) {
        let c = Arc::make_mut(state);
        self.events.iter().for_each(|e| c.apply(e));
    }
}

/// Where a command's events went: the complaint and its version after the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    /// The complaint the command changed.
    pub complaint: ComplaintId,
    /// The complaint's version right after the command.
    pub version: u64,
}

/// Filters and paging for [`Store::list`] and [`Store::count`]. Every filter set must
/// match; an unset filter matches everything.
///
/// It deserializes from JSON or a query string with only some fields (the rest default: no
/// filter, 100 a page; a `limit` out of range is clamped), so a service can take it straight
/// from a request:
///
/// ```
/// use plaint_core::{ListQuery, StageKind};
/// let q = ListQuery::new().stage(StageKind::Investigating).limit(50);
/// assert_eq!(q.limit, 50);
/// // Unset filters are left out of what it serializes to.
/// assert_eq!(serde_json::to_string(&q).unwrap(), r#"{"stage":"investigating","limit":50}"#);
///
/// let q: ListQuery = serde_json::from_str(
///     r#"{"responsible": "hub", "breached": true, "due_before": "2026-11-20T09:00:00Z", "limit": 5000}"#,
/// ).unwrap();
/// assert_eq!(q.limit, ListQuery::MAX_LIMIT);
/// assert_eq!(q.breached, Some(true));
/// assert_eq!(q.stage, None);
/// ```
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default)]
#[non_exhaustive]
pub struct ListQuery {
    /// Only complaints in this stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageKind>,
    /// Only complaints whose primary department is this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentKey>,
    /// Only complaints of this tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<TierKey>,
    /// Only complaints this department answers for, as the primary or a collaborating
    /// department (a department's work queue).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responsible: Option<DepartmentKey>,
    /// Only complaints of this complainant (`intake.complainant.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complainant: Option<ActorId>,
    /// Only complaints that arrived (`intake.received_at`) at or after this instant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_from: Option<Timestamp>,
    /// Only complaints that arrived before this instant (the range is half-open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_before: Option<Timestamp>,
    /// Only complaints with a running clock (started, not paused, not stopped) whose deadline
    /// is before this instant: what falls due by then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_before: Option<Timestamp>,
    /// `true`: only complaints with a clock that breached and has not stopped (a breach
    /// still open); `false`: only complaints without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breached: Option<bool>,
    /// Start after this id (the previous page's `next`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<ComplaintId>,
    /// At most this many items (1 to [`ListQuery::MAX_LIMIT`]).
    #[serde(deserialize_with = "clamped_limit")]
    pub limit: usize,
}

/// Reads a page size, clamped to 1 ..= [`ListQuery::MAX_LIMIT`] as [`ListQuery::limit`] does.
fn clamped_limit<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = <u64 as serde::Deserialize>::deserialize(d)?;
    Ok(usize::try_from(n)
        .unwrap_or(ListQuery::MAX_LIMIT)
        .clamp(1, ListQuery::MAX_LIMIT))
}

impl Default for ListQuery {
    fn default() -> Self {
        Self::new()
    }
}

impl ListQuery {
    /// The largest page.
    pub const MAX_LIMIT: usize = 1000;

    /// Everything, 100 at a time.
    pub fn new() -> Self {
        Self {
            stage: None,
            department: None,
            tier: None,
            responsible: None,
            complainant: None,
            received_from: None,
            received_before: None,
            due_before: None,
            breached: None,
            after: None,
            limit: 100,
        }
    }
    /// Only this stage.
    pub fn stage(mut self, stage: StageKind) -> Self {
        self.stage = Some(stage);
        self
    }
    /// Only this primary department.
    pub fn department(mut self, department: DepartmentKey) -> Self {
        self.department = Some(department);
        self
    }
    /// Only this tier.
    pub fn tier(mut self, tier: TierKey) -> Self {
        self.tier = Some(tier);
        self
    }
    /// Only complaints this department answers for, as primary or collaborating department.
    pub fn responsible(mut self, department: DepartmentKey) -> Self {
        self.responsible = Some(department);
        self
    }
    /// Only this complainant's complaints.
    pub fn complainant(mut self, complainant: ActorId) -> Self {
        self.complainant = Some(complainant);
        self
    }
    /// Only complaints that arrived in `from .. before` (half-open).
    pub fn received(mut self, from: Timestamp, before: Timestamp) -> Self {
        self.received_from = Some(from);
        self.received_before = Some(before);
        self
    }
    /// Only complaints with a running clock due before `t`.
    pub fn due_before(mut self, t: Timestamp) -> Self {
        self.due_before = Some(t);
        self
    }
    /// Only complaints with (`true`) or without (`false`) a breach still open.
    pub fn breached(mut self, breached: bool) -> Self {
        self.breached = Some(breached);
        self
    }
    /// Resume after this id.
    pub fn after(mut self, id: ComplaintId) -> Self {
        self.after = Some(id);
        self
    }
    /// Page size, clamped to 1 ..= [`ListQuery::MAX_LIMIT`].
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.clamp(1, Self::MAX_LIMIT);
        self
    }

    /// Whether `c` passes the filters (paging aside). Stores use this so that every backend
    /// filters the same way.
    pub fn matches(&self, c: &Complaint) -> bool {
        let responsibility = c.responsibility.as_ref();
        self.matches_parts(
            c.stage.kind(),
            c.tier.as_ref(),
            responsibility.map(|r| &r.primary),
        ) && self
            .responsible
            .as_ref()
            .is_none_or(|d| responsibility.is_some_and(|r| r.involves(d)))
            && self
                .complainant
                .as_ref()
                .is_none_or(|a| &c.intake.complainant.id == a)
            && self.received_from.is_none_or(|t| c.intake.received_at >= t)
            && self
                .received_before
                .is_none_or(|t| c.intake.received_at < t)
            && self.due_before.is_none_or(|t| {
                c.clocks
                    .iter()
                    .any(|k| k.is_running() && k.schedule.deadline.is_some_and(|d| d < t))
            })
            && self.breached.is_none_or(|want| {
                c.clocks.iter().any(|k| k.breached && k.outcome.is_none()) == want
            })
    }

    /// [`ListQuery::matches`] on the parts a store may keep in an index — stage, tier and
    /// primary department — for stores that decide without the whole complaint. When
    /// [`ListQuery::needs_complaint`] it is only a first sieve: `false` means no match, `true`
    /// means the complaint must still pass [`ListQuery::matches`].
    pub fn matches_parts(
        &self,
        stage: StageKind,
        tier: Option<&TierKey>,
        department: Option<&DepartmentKey>,
    ) -> bool {
        self.stage.is_none_or(|s| stage == s)
            && self.tier.as_ref().is_none_or(|t| tier == Some(t))
            && self
                .department
                .as_ref()
                .is_none_or(|d| department == Some(d))
    }

    /// Whether a filter beyond [`ListQuery::matches_parts`]'s is set, so a store must look at
    /// the complaint itself.
    pub fn needs_complaint(&self) -> bool {
        self.responsible.is_some()
            || self.complainant.is_some()
            || self.received_from.is_some()
            || self.received_before.is_some()
            || self.due_before.is_some()
            || self.breached.is_some()
    }
}

/// One page of a listing. It serializes the complaints whole, contacts included: it is the
/// trusted, internal answer. What goes to a person is [`crate::view::ViewPage`], from
/// [`crate::Engine::list_for`].
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Page {
    /// The complaints, in id order.
    pub items: Vec<Arc<Complaint>>,
    /// Pass this as `after` for the next page; `None` on the last page.
    pub next: Option<ComplaintId>,
}

/// A recorded event's place in the store's feed ([`Store::feed`]): the events of all
/// complaints in the order their appends committed, numbered 1, 2, 3, … with no gaps. The
/// numbering never changes once given (a durable store keeps it across reopening), so a
/// projection stores the last position it handled and resumes after it. Serializes as a
/// bare number.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct Position(pub u64);

impl Position {
    /// Before the first event: read the feed after it to read from the beginning.
    pub const START: Position = Position(0);

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// One event in the feed: where it stands, which complaint it belongs to, the event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeedEntry {
    /// Its place in the feed.
    pub position: Position,
    /// The complaint it was recorded on.
    pub complaint: ComplaintId,
    /// The event, as [`Store::history`] gives it.
    pub recorded: Recorded,
}

/// One page of the feed ([`Store::feed`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeedPage {
    /// The events, by position, consecutive.
    pub entries: Vec<FeedEntry>,
    /// Where to resume: the last entry's position, or the `after` asked for when the page
    /// is empty (nothing newer yet).
    pub next: Position,
}

impl FeedPage {
    /// The most events one page holds, whatever limit is asked for.
    pub const MAX_LIMIT: usize = 1000;
}

/// What a store can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The complaint is not at the expected version.
    #[error("version conflict: expected {expected}, found {actual}")]
    Conflict {
        /// What the append expected.
        expected: u64,
        /// What the store holds.
        actual: u64,
    },
    /// The command id was already recorded.
    #[error("command {0} was already recorded")]
    DuplicateCommand(CommandId),
    /// The append was not self-consistent.
    #[error("malformed append: {0}")]
    Malformed(String),
    /// The backend failed (I/O, corruption, a lock held elsewhere, …); `kind` says which way,
    /// so a service can answer without downcasting `source`.
    #[error("store backend ({kind}): {source}")]
    Backend {
        /// Which way it failed.
        kind: StoreFailure,
        /// The backend's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    /// A backend failure of `kind`, caused by `source`.
    pub fn backend(
        kind: StoreFailure,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Backend {
            kind,
            source: source.into(),
        }
    }

    /// The stable machine-readable code of this error (see [`crate::wire`]): `conflict`,
    /// `duplicate_command`, `store_malformed`, or the backend failure's
    /// [`StoreFailure::code`].
    pub fn code(&self) -> &'static str {
        match self {
            Self::Conflict { .. } => "conflict",
            Self::DuplicateCommand(_) => "duplicate_command",
            Self::Malformed(_) => "store_malformed",
            Self::Backend { kind, .. } => kind.code(),
        }
    }
}

/// How a store's backend failed: what a service needs to answer (retry later, page an
/// operator) without knowing the store's own error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreFailure {
    /// Another process or handle holds the store.
    Locked,
    /// The store refuses writes after an earlier failure until it is reopened.
    Poisoned,
    /// Stored data is damaged; someone must look before the store opens.
    Corrupt,
    /// Stored data is of a newer format than this build reads.
    UnsupportedFormat,
    /// The backend could not be reached or an I/O operation failed; trying again later may
    /// succeed. Also the kind of any failure a store does not classify.
    Unavailable,
}

impl StoreFailure {
    /// The stable machine-readable code: `store_locked`, `store_poisoned`, `store_corrupt`,
    /// `store_unsupported_format` or `store_unavailable`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Locked => "store_locked",
            Self::Poisoned => "store_poisoned",
            Self::Corrupt => "store_corrupt",
            Self::UnsupportedFormat => "store_unsupported_format",
            Self::Unavailable => "store_unavailable",
        }
    }
}

impl std::fmt::Display for StoreFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Locked => "locked",
            Self::Poisoned => "poisoned",
            Self::Corrupt => "corrupt",
            Self::UnsupportedFormat => "unsupported format",
            Self::Unavailable => "unavailable",
        })
    }
}
