//! The reference service: plaint's JSON API over HTTP (axum on tokio), on a `FileStore`.
//!
//! A library, so a test or a dashboard can start it in-process, and the `plaint-service`
//! binary (`src/main.rs`), which opens a store directory and a policy file and serves until
//! ctrl-c. The routes, payloads and error codes are described by the OpenAPI document it
//! serves at `/openapi.json` (committed as `schema/openapi.json`).
//!
//! - **Who asks** comes from one extension point, [`Identify`]; the default,
//!   [`DevelopmentHeaders`], trusts `X-Actor-*` headers and is for development only.
//! - **Commands** are `POST /complaints/{id}/commands` with the command id in the
//!   `Idempotency-Key` header; the answer is the complaint as the actor sees it.
//! - **Personal data** (PIPL, GDPR): `POST /complainants/{id}/erase` with `{"reason": "…"}`
//!   ([`plaint::Engine::erase_complainant`], for roles that may erase; a complainant held
//!   nowhere is answered with nothing erased) and `GET /complainants/{id}/export`
//!   ([`plaint::Engine::export_complainant`], for them too, unmasked: the one answer that is
//!   not a view).
//! - **The dashboard** for people is under `/ui`: the work queue, a complaint with the
//!   commands the engine would accept from the viewer, the ledger and the month, live over
//!   Server-Sent Events (see the `dashboard` module's docs; `/ui/sign-in` for development).
//! - **Background work** (firing deadlines, relaying the outbox) is plaint's runner
//!   ([`plaint::runner`]), started beside the server by [`Service::serve`] and stopped by
//!   [`Running::shutdown`]; the store wakes it when a command makes a nearer deadline or
//!   outbox work.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use plaint_service::{Service, file_engine};
//! use std::sync::Arc;
//! let policy = plaint::Policy::from_toml_str(&std::fs::read_to_string("policy.toml")?)?;
//! let engine = file_engine("/var/lib/complaints", policy, Arc::new(plaint::SystemClock))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let running = Service::new(engine).serve(listener)?;
//! tokio::signal::ctrl_c().await?;
//! running.shutdown().await?;
//! # Ok(()) }
//! ```

mod api;
mod dashboard;
mod identify;
mod openapi;

pub use api::status_of;
pub use identify::{DevelopmentHeaders, Identify, IdentifyError};
pub use openapi::document as openapi_document;

use plaint::{Clock, DynNotifier, DynStore, Notification, NotifyError, Policy};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The engine the service runs: any store, any notifier, any clock, picked at start-up.
pub type ServiceEngine = plaint::Engine<Arc<dyn DynStore>, Notifier, Arc<dyn Clock>>;

/// The service's notifier: any [`DynNotifier`] (an SMS gateway, a mail client, a
/// [`plaint::FanOut`] of them).
#[derive(Clone)]
pub struct Notifier(pub Arc<dyn DynNotifier>);

impl plaint::Notifier for Notifier {
    async fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        self.0.deliver_boxed(notification).await
    }
    fn is_enabled(&self) -> bool {
        self.0.enabled()
    }
}

/// Why the service could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The store directory could not be opened (locked by another process, damaged, …).
    #[error("opening the store: {0}")]
    Store(#[from] plaint::file::FileError),
    /// The listener failed (its address) or the server failed while serving.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
    /// The server task ended abnormally (a panic in a handler's task).
    #[error("the server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The background runner could not start or ended abnormally (a port panicked).
    #[error("the background runner: {0}")]
    Runner(#[from] plaint::runner::RunnerError),
}

/// An engine over a [`plaint::FileStore`] in `dir` (created if needed), with no notifier,
/// on `clock` (the system clock in production, a manual one in tests). To deliver
/// notifications, build the engine as this does with `.notifier(Notifier(Arc::new(yours)))`.
///
/// Opening replays the store's log: it reads files, so call it before serving.
///
/// # Errors
/// [`ServiceError::Store`] when the directory is locked by another store, damaged, or of a
/// newer format.
pub fn file_engine(
    dir: impl AsRef<Path>,
    policy: Policy,
    clock: Arc<dyn Clock>,
) -> Result<ServiceEngine, ServiceError> {
    let opened = plaint::FileStore::open(dir, plaint::file::Options::new())?;
    if let Some(tail) = &opened.report.torn_tail {
        tracing::warn!(file = %tail.file.display(), offset = tail.offset,
            "cut an unfinished write off the log");
    }
    let store: Arc<dyn DynStore> = Arc::new(opened.store);
    Ok(plaint::Engine::builder(store, policy)
        .notifier(Notifier(Arc::new(plaint::DiscardNotifier)))
        .clock(clock)
        .build())
}

/// The service: an engine and how to tell who asks. Build it, then [`Service::router`] to
/// mount it in a larger axum app, or [`Service::serve`] to run it with its background work.
pub struct Service {
    engine: Arc<ServiceEngine>,
    identify: Arc<dyn Identify>,
    live: Arc<dashboard::Live>,
}

impl Service {
    /// A service over `engine` that identifies actors by [`DevelopmentHeaders`].
    pub fn new(engine: ServiceEngine) -> Self {
        Self {
            engine: Arc::new(engine),
            identify: Arc::new(DevelopmentHeaders),
            live: dashboard::Live::new(),
        }
    }

    /// Identifies actors with `identify`: where a deployment plugs in its identity provider.
    pub fn identify(mut self, identify: impl Identify) -> Self {
        self.identify = Arc::new(identify);
        self
    }

    /// The engine (shared with the handlers).
    pub fn engine(&self) -> &Arc<ServiceEngine> {
        &self.engine
    }

    /// The API's and the dashboard's routes, without background work: an embedding that
    /// mounts them runs a [`plaint::runner::Runner`] over [`Service::engine`] itself (or
    /// [`Service::serve`] does both). The dashboard's live updates start a task on the first
    /// page that listens, which holds the engine and keeps its event streams open until
    /// [`Service::close_live_updates`] (which [`Running::shutdown`] calls) ends them.
    pub fn router(&self) -> axum::Router {
        api::router(api::App {
            engine: Arc::clone(&self.engine),
            identify: Arc::clone(&self.identify),
            live: Arc::clone(&self.live),
        })
    }

    /// Ends the dashboard's live updates: its event streams (so a graceful shutdown does not
    /// wait on them) and the task that tails the feed for them (which holds the engine).
    /// For an embedding that mounted [`Service::router`]; [`Running::shutdown`] does it.
    pub async fn close_live_updates(&self) {
        self.live.close().await;
    }

    /// Serves the API on `listener` and starts the runner (deadlines, outbox) on the
    /// current tokio runtime; returns at once.
    ///
    /// # Errors
    /// [`ServiceError::Io`] when the listener has no local address,
    /// [`ServiceError::Runner`] when called outside a tokio runtime.
    pub fn serve(self, listener: tokio::net::TcpListener) -> Result<Running, ServiceError> {
        let addr = listener.local_addr()?;
        let runner = plaint::runner::Runner::new(Arc::clone(&self.engine)).spawn()?;
        let router = self.router();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        tracing::info!(%addr, "serving");
        drop(self.engine); // the router and the runner hold it
        Ok(Running {
            addr,
            live: self.live,
            runner,
            stop,
            server,
        })
    }
}

/// A service being served; [`Running::shutdown`] stops it.
pub struct Running {
    addr: SocketAddr,
    live: Arc<dashboard::Live>,
    runner: plaint::runner::RunnerHandle<Arc<dyn DynStore>, Notifier, Arc<dyn Clock>>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The address it listens on (the port the system chose for `127.0.0.1:0`).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Makes the runner look at deadlines and the outbox now: after moving a manual clock,
    /// or after another process wrote to a store that cannot signal it.
    pub fn wake(&self) {
        self.runner.wake();
    }

    /// Stops accepting connections, lets the requests in flight finish, stops the runner
    /// after the step in flight, and drops the engine and so the store (a `FileStore` lets
    /// go of its directory, which another can then open). Every acknowledged command was
    /// durable before it was acknowledged: nothing is flushed here that was not already
    /// safe.
    ///
    /// # Errors
    /// [`ServiceError::Io`] when the server failed, [`ServiceError::Task`] when its task
    /// panicked, [`ServiceError::Runner`] when the runner had ended abnormally.
    pub async fn shutdown(self) -> Result<(), ServiceError> {
        // The dashboard's event streams never end on their own: end them first, so the
        // graceful shutdown does not wait on them.
        self.live.close().await;
        let _ = self.stop.send(());
        let served = self.server.await;
        let stopped = self.runner.shutdown().await;
        if Arc::strong_count(&stopped.engine) > 1 {
            tracing::warn!("the engine is still shared: the store stays open until it is dropped");
        }
        drop(stopped.engine);
        served??;
        let summary = stopped.result?;
        tracing::info!(?summary, "stopped");
        Ok(())
    }
}
