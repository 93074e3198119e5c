//! `Tapped`: a store that passes every call to an inner store except those its [`Tap`]
//! takes over, so a test gates, fails, races or counts a store's calls without forwarding
//! every method itself.

use crate::complaint::Complaint;
use crate::id::{CommandId, ComplaintId};
use crate::lifecycle::Recorded;
use crate::model::Timestamp;
use crate::notify::{NotificationId, OutboxEntry, Settlement};
use crate::store::{
    Append, Changes, CommandRecord, FeedPage, ListQuery, OutboxStats, Page, Position, Store,
    StoreError,
};
use std::sync::Arc;

/// What a [`Tapped`] store does with the calls a test cares about; each method's default
/// passes the call to `inner` unchanged.
///
/// ```
/// use plaint_core::testing::{Tap, Tapped};
/// use plaint_core::{Append, Complaint, Store, StoreError};
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// /// Counts the appends that reach the store.
/// #[derive(Default)]
/// struct Appends(AtomicUsize);
///
/// impl<S: Store> Tap<S> for Appends {
///     async fn append(&self, inner: &S, append: Append) -> Result<Arc<Complaint>, StoreError> {
///         self.0.fetch_add(1, Ordering::Relaxed);
///         inner.append(append).await
///     }
/// }
///
/// /// Any store, its appends counted.
/// fn counted<S: Store>(store: S) -> Tapped<S, Appends> {
///     Tapped::new(store, Appends::default())
/// }
/// ```
pub trait Tap<S: Store>: Send + Sync {
    /// Instead of `inner.append(append)`.
    fn append(
        &self,
        inner: &S,
        append: Append,
    ) -> impl Future<Output = Result<Arc<Complaint>, StoreError>> + Send {
        inner.append(append)
    }
    /// Instead of `inner.list(query)`.
    fn list(
        &self,
        inner: &S,
        query: &ListQuery,
    ) -> impl Future<Output = Result<Page, StoreError>> + Send {
        inner.list(query)
    }
    /// Instead of `inner.history(id)`.
    fn history(
        &self,
        inner: &S,
        id: &ComplaintId,
    ) -> impl Future<Output = Result<Vec<Recorded>, StoreError>> + Send {
        inner.history(id)
    }
    /// Instead of `inner.next_due()`.
    fn next_due(
        &self,
        inner: &S,
    ) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send {
        inner.next_due()
    }
    /// Instead of `inner.changes()`.
    fn changes<'a>(&self, inner: &'a S) -> Option<&'a Changes> {
        inner.changes()
    }
    /// Instead of `inner.outbox_stats()`.
    fn outbox_stats(
        &self,
        inner: &S,
    ) -> impl Future<Output = Result<Option<OutboxStats>, StoreError>> + Send {
        inner.outbox_stats()
    }
}

/// A store whose appends, lists, histories, `next_due`, `changes` and `outbox_stats` go
/// through `tap`; every other call is the `inner` store's.
#[derive(Default)]
pub struct Tapped<S, T> {
    /// The store the calls reach.
    pub inner: S,
    /// What the test does with them.
    pub tap: T,
}

impl<S, T> Tapped<S, T> {
    /// `inner`, tapped by `tap`.
    pub fn new(inner: S, tap: T) -> Self {
        Self { inner, tap }
    }
}

impl<S: Store, T: Tap<S>> Store for Tapped<S, T> {
    fn append(
        &self,
        append: Append,
    ) -> impl Future<Output = Result<Arc<Complaint>, StoreError>> + Send {
        self.tap.append(&self.inner, append)
    }
    fn load(
        &self,
        id: &ComplaintId,
    ) -> impl Future<Output = Result<Option<Arc<Complaint>>, StoreError>> + Send {
        self.inner.load(id)
    }
    fn history(
        &self,
        id: &ComplaintId,
    ) -> impl Future<Output = Result<Vec<Recorded>, StoreError>> + Send {
        self.tap.history(&self.inner, id)
    }
    fn command(
        &self,
        id: &CommandId,
    ) -> impl Future<Output = Result<Option<CommandRecord>, StoreError>> + Send {
        self.inner.command(id)
    }
    fn list(&self, query: &ListQuery) -> impl Future<Output = Result<Page, StoreError>> + Send {
        self.tap.list(&self.inner, query)
    }
    fn count(&self, query: &ListQuery) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.inner.count(query)
    }
    fn due(
        &self,
        upto: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<(Timestamp, ComplaintId)>, StoreError>> + Send {
        self.inner.due(upto, limit)
    }
    fn next_due(&self) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send {
        self.tap.next_due(&self.inner)
    }
    fn claim_outbox(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send {
        self.inner.claim_outbox(now, lease, limit)
    }
    fn settle(
        &self,
        id: &NotificationId,
        outcome: Settlement,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.inner.settle(id, outcome)
    }
    fn dead_letters(&self) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send {
        self.inner.dead_letters()
    }
    fn requeue(
        &self,
        id: &NotificationId,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.inner.requeue(id, at)
    }
    fn feed(
        &self,
        after: Position,
        limit: usize,
    ) -> impl Future<Output = Result<FeedPage, StoreError>> + Send {
        self.inner.feed(after, limit)
    }
    fn changes(&self) -> Option<&Changes> {
        self.tap.changes(&self.inner)
    }
    fn outbox_stats(&self) -> impl Future<Output = Result<Option<OutboxStats>, StoreError>> + Send {
        self.tap.outbox_stats(&self.inner)
    }
}
