//! The blocking facade: the async [`crate::Engine`] driven to completion on the calling
//! thread, for sync code (examples, tests, command-line tools) that has no runtime.
//!
//! There is one orchestration — the async engine's — and this module only waits for it:
//! [`block_on`] polls a future on the current thread, parking it until the future's waker
//! fires. That suits every store whose futures need no runtime's reactor: `MemoryStore`
//! (its futures are ready at once) and `FileStore` (woken by its own writer thread). A store
//! built on an async database driver needs its runtime: call the async engine from it, or
//! block inside the runtime's own `block_on`.
//!
//! ```
//! let answer = plaint_core::blocking::block_on(async { 40 + 2 });
//! assert_eq!(answer, 42);
//! ```
//!
//! The `plaint` crate's documentation shows [`Engine`] over a store.

use crate::actor::Actor;
use crate::clock::{Clock, SystemClock};
use crate::complaint::Complaint;
use crate::engine::{EngineBuilder, EngineError, Make, Relay, Tick};
use crate::id::{CommandId, ComplaintId};
use crate::lifecycle::{Command, Recorded};
use crate::notify::{DiscardNotifier, NotificationId, Notifier, OutboxEntry};
use crate::policy::Policy;
use crate::store::{ListQuery, Page, Store};
use std::sync::Arc;

/// Runs `future` to completion on this thread, parking it while the future waits. Not for
/// use on an async runtime's worker thread (it would block the worker), and not for futures
/// that need a runtime's reactor or timers.
pub fn block_on<F: Future>(future: F) -> F::Output {
    // Most calls finish at the first poll (a MemoryStore never waits): try that without
    // pollster's parking machinery, then park for the rest. A future registers the waker of
    // the poll that leaves it pending, so the second poll's waker is the one it wakes.
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => pollster::block_on(future),
    }
}

/// `.wait()` on any future: [`block_on`] as a method, for sync code that calls a store or a
/// report directly (`store.load(&id).wait()?`).
pub trait Wait: Future + Sized {
    /// Runs this future to completion on this thread ([`block_on`]).
    fn wait(self) -> Self::Output {
        block_on(self)
    }
}

impl<F: Future> Wait for F {}

/// Waits for futures: the one place sync code blocks on plaint's async calls. The
/// conformance suite takes one, so a store whose futures need a runtime (a database
/// driver's) is checked on that runtime.
pub trait Executor: Sync {
    /// Runs `future` to completion and gives its output.
    fn block_on<F: Future>(&self, future: F) -> F::Output;
}

/// Waits on the calling thread ([`block_on`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct CurrentThread;

impl Executor for CurrentThread {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on(future)
    }
}

/// An [`EngineBuilder`] that makes the blocking facade ([`Engine`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Blocking;

impl Make for Blocking {
    type Engine<S, N, C> = Engine<S, N, C>;
    fn make<S, N, C>(engine: crate::Engine<S, N, C>) -> Engine<S, N, C> {
        Engine(engine)
    }
}

/// The [`crate::Engine`] for sync code: every call is the async engine's, waited for on the
/// calling thread ([`block_on`]). `Send + Sync` when its ports are: share one between
/// threads as the async one is shared between tasks.
pub struct Engine<S, N = DiscardNotifier, C = SystemClock>(crate::Engine<S, N, C>);

impl<S: Store> Engine<S> {
    /// Starts building an engine over `store` whose new complaints follow `policy`, as
    /// [`crate::Engine::builder`] does; `build` makes this facade.
    pub fn builder(
        store: S,
        policy: Policy,
    ) -> EngineBuilder<S, DiscardNotifier, SystemClock, Blocking> {
        EngineBuilder::new(store, policy)
    }
}

impl<S, N, C> From<crate::Engine<S, N, C>> for Engine<S, N, C> {
    fn from(engine: crate::Engine<S, N, C>) -> Self {
        Self(engine)
    }
}

impl<S: Store, N: Notifier, C: Clock> Engine<S, N, C> {
    /// The async engine this facade waits on.
    pub fn as_async(&self) -> &crate::Engine<S, N, C> {
        &self.0
    }

    /// Gives back the async engine.
    pub fn into_async(self) -> crate::Engine<S, N, C> {
        self.0
    }

    /// [`crate::Engine::execute`], waited for.
    ///
    /// # Errors
    /// As [`crate::Engine::execute`].
    pub fn execute(
        &self,
        command_id: CommandId,
        id: &ComplaintId,
        command: Command,
        actor: &Actor,
    ) -> Result<Arc<Complaint>, EngineError> {
        block_on(self.0.execute(command_id, id, command, actor))
    }

    /// [`crate::Engine::tick`], waited for.
    ///
    /// # Errors
    /// As [`crate::Engine::tick`].
    pub fn tick(&self) -> Result<Tick, EngineError> {
        block_on(self.0.tick())
    }

    /// [`crate::Engine::next_due`], waited for.
    ///
    /// # Errors
    /// A store error.
    pub fn next_due(&self) -> Result<Option<crate::Timestamp>, EngineError> {
        block_on(self.0.next_due())
    }

    /// [`crate::Engine::get`], waited for.
    ///
    /// # Errors
    /// A store error.
    pub fn get(&self, id: &ComplaintId) -> Result<Option<Arc<Complaint>>, EngineError> {
        block_on(self.0.get(id))
    }

    /// [`crate::Engine::history`], waited for.
    ///
    /// # Errors
    /// A store error.
    pub fn history(&self, id: &ComplaintId) -> Result<Vec<Recorded>, EngineError> {
        block_on(self.0.history(id))
    }

    /// [`crate::Engine::feed`], waited for.
    ///
    /// # Errors
    /// A store error.
    pub fn feed(
        &self,
        after: crate::Position,
        limit: usize,
    ) -> Result<crate::FeedPage, EngineError> {
        block_on(self.0.feed(after, limit))
    }

    /// [`crate::Engine::view`], waited for.
    ///
    /// # Errors
    /// As [`crate::Engine::view`].
    pub fn view(
        &self,
        id: &ComplaintId,
        actor: &Actor,
    ) -> Result<crate::ComplaintView, EngineError> {
        block_on(self.0.view(id, actor))
    }

    /// [`crate::Engine::view_of`], waited for.
    ///
    /// # Errors
    /// As [`crate::Engine::view`].
    pub fn view_of(
        &self,
        state: Arc<Complaint>,
        actor: &Actor,
    ) -> Result<crate::ComplaintView, EngineError> {
        block_on(self.0.view_of(state, actor))
    }

    /// [`crate::Engine::history_for`], waited for.
    ///
    /// # Errors
    /// As [`crate::Engine::history_for`].
    pub fn history_for(
        &self,
        id: &ComplaintId,
        actor: &Actor,
    ) -> Result<Vec<Recorded>, EngineError> {
        block_on(self.0.history_for(id, actor))
    }

    /// [`crate::Engine::list`], waited for.
    ///
    /// # Errors
    /// A store error.
    pub fn list(&self, query: &ListQuery) -> Result<Page, EngineError> {
        block_on(self.0.list(query))
    }

    /// [`crate::Engine::count`], waited for.
    ///
    /// # Errors
    /// A store error.
    pub fn count(&self, query: &ListQuery) -> Result<u64, EngineError> {
        block_on(self.0.count(query))
    }

    /// [`crate::Engine::list_for`], waited for.
    ///
    /// # Errors
    /// As [`crate::Engine::list_for`].
    pub fn list_for(
        &self,
        query: &ListQuery,
        actor: &Actor,
    ) -> Result<crate::ViewPage, EngineError> {
        block_on(self.0.list_for(query, actor))
    }

    /// [`crate::Engine::count_for`], waited for.
    ///
    /// # Errors
    /// A store error.
    pub fn count_for(&self, query: &ListQuery, actor: &Actor) -> Result<u64, EngineError> {
        block_on(self.0.count_for(query, actor))
    }

    /// The policy new complaints follow.
    pub fn current_policy(&self) -> &Policy {
        self.0.current_policy()
    }

    /// [`crate::Engine::relay`], waited for.
    ///
    /// # Errors
    /// As [`crate::Engine::relay`].
    pub fn relay(&self) -> Result<Relay, EngineError> {
        block_on(self.0.relay())
    }

    /// [`crate::Engine::relay_batch`], waited for.
    ///
    /// # Errors
    /// As [`crate::Engine::relay_batch`].
    pub fn relay_batch(&self, limit: usize) -> Result<Relay, EngineError> {
        block_on(self.0.relay_batch(limit))
    }

    /// [`crate::Engine::dead_letters`], waited for.
    ///
    /// # Errors
    /// A store error.
    pub fn dead_letters(&self) -> Result<Vec<OutboxEntry>, EngineError> {
        block_on(self.0.dead_letters())
    }

    /// [`crate::Engine::retry_dead_letter`], waited for.
    ///
    /// # Errors
    /// A store error.
    pub fn retry_dead_letter(&self, id: &NotificationId) -> Result<bool, EngineError> {
        block_on(self.0.retry_dead_letter(id))
    }

    /// [`crate::Engine::erase_complainant`], waited for.
    ///
    /// # Errors
    /// As [`crate::Engine::erase_complainant`].
    pub fn erase_complainant(
        &self,
        complainant: &crate::ActorId,
        actor: &Actor,
        reason: &str,
    ) -> Result<crate::Erasure, EngineError> {
        block_on(self.0.erase_complainant(complainant, actor, reason))
    }

    /// [`crate::Engine::enforce_retention`], waited for.
    ///
    /// # Errors
    /// As [`crate::Engine::enforce_retention`].
    pub fn enforce_retention(&self, actor: &Actor) -> Result<crate::Retention, EngineError> {
        block_on(self.0.enforce_retention(actor))
    }

    /// [`crate::Engine::export_complainant`], waited for.
    ///
    /// # Errors
    /// As [`crate::Engine::export_complainant`].
    pub fn export_complainant(
        &self,
        complainant: &crate::ActorId,
        actor: &Actor,
    ) -> Result<crate::Export, EngineError> {
        block_on(self.0.export_complainant(complainant, actor))
    }

    /// The store, for adapters' own maintenance calls.
    pub fn store(&self) -> &S {
        self.0.store()
    }

    /// Takes the engine apart, giving back its store (to close or reopen it).
    pub fn into_store(self) -> S {
        self.0.into_store()
    }
}
