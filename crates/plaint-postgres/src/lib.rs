//! plaint-postgres: `PgStore`, plaint's store in PostgreSQL, shared by any number of engine
//! instances in any number of processes.
//!
//! ```no_run
//! use plaint_postgres::{PgConfig, PgStore};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = PgConfig::new("postgres://plaint@db.internal/complaints")?;
//! PgStore::migrate(&config).await?; // once per deploy, from any instance
//! let store = PgStore::connect(config).await?;
//! let engine = plaint_core::Engine::builder(store, plaint_core::testing::policy()).build();
//! # Ok(()) }
//! ```
//!
//! The store is async-native over `tokio-postgres` with a small connection pool
//! (`deadpool-postgres`): its futures need a tokio runtime. Sync code drives it through a
//! runtime's `block_on` (see [`plaint_core::blocking::Executor`]); a call made outside any
//! tokio runtime is refused with a `StoreFailure::Unavailable` error, not a panic. Connections are plain TCP or
//! a Unix socket (no TLS in this version: put the database on a private network or a socket).
//!
//! # Guarantees
//!
//! - **Many instances, one truth.** An append is one transaction: the complaint's row is
//!   locked (`SELECT … FOR UPDATE`, or inserted for a new complaint) and its version compared
//!   with the expected one; events go in under the primary key `(complaint, version)`; the
//!   command id under the primary key of `plaint_commands`, so it is recorded once across
//!   every instance. The state is the fold of the events: the store reads the stored state,
//!   folds the new events on with the core's `Append::apply_to` (or `Append::open`) and
//!   writes it back in the same transaction. A dropped connection or a cancelled future
//!   rolls the whole transaction back.
//! - **Deadlines fire once.** The due index is the `next_due` column, indexed with the id,
//!   so [`Store::due`] and [`Store::next_due`] read a few index entries whatever the number
//!   of open complaints. Every instance may tick: a tick is an append at the version it was
//!   decided on, so of two instances firing one item only one commits.
//! - **The outbox across instances.** [`Store::claim_outbox`] claims with
//!   `FOR UPDATE SKIP LOCKED` and pushes `next_attempt` on by the lease in the same
//!   statement, so relays on different instances never block on each other and an instance
//!   that dies holding claims delays its entries by one lease at most. Entries are written in
//!   the append's transaction: none exists for a command that did not commit.
//! - **Bad conditions.** A dropped connection, a server that went away, a statement
//!   cancelled by [`PgConfig::statement_timeout`]: the call fails with
//!   [`StoreError::Backend`] of kind [`StoreFailure::Unavailable`], the transaction is rolled
//!   back (nothing half-applied), a connection found broken is thrown away and the next call
//!   connects afresh. A commit whose answer was lost is ambiguous, as with any database: the
//!   engine's retry under the same command id is answered from the store, never applied twice.
//! - **Wake-ups across instances.** An append that moves a complaint's next due instant or
//!   adds outbox entries, a retry and a requeue send `pg_notify('plaint_<schema>')` in their
//!   own transaction (so it is heard only if they commit); every store keeps one connection
//!   `LISTEN`ing on the channel and raises [`Store::changes`] for each notification, so a
//!   runner on another instance wakes for a nearer deadline or new outbox work without
//!   polling. The listener reconnects after a failure (with back-off, on tokio's timer: the
//!   runtime needs time enabled, as `#[tokio::main]` has) and raises the signal once on every
//!   new connection, since what happened meanwhile went unheard.
//! - **The feed is gap-free across concurrent writers**, closed at allocation: the last
//!   statement of an append takes the row lock on the one row of `plaint_feed_head`, adds
//!   the number of its events and inserts them under the positions it got; the lock is held
//!   until the transaction commits. So positions are handed out in commit order — an append
//!   waiting for the lock gets its numbers only after the one before it has committed and is
//!   visible — and a reader (any snapshot) sees a prefix of the numbering, never `n + 1`
//!   before `n`. The price: appends commit one after another (the lock is held across the
//!   commit's WAL flush); everything before the last statement still runs in parallel.
//!
//! # Tables
//!
//! All live in the schema given by [`PgConfig::schema`] (the connection's `search_path`),
//! named `plaint_*` so they can share an application's schema. Instants are `bigint`
//! nanoseconds since the Unix epoch (UTC), exact for every instant plaint accepts
//! (1970–2100); a lease pushed past 2262 is stored as the largest such number.
//!
//! | table | row | columns |
//! |-------|-----|---------|
//! | `plaint_schema` | one applied migration | `version`, `applied_at` |
//! | `plaint_complaints` | a complaint's latest state | `id` (`text COLLATE "C"`, key), `version`, `state` (`jsonb`, the `Complaint` as serde writes it), `stage`, `tier`, `department` (primary; the indexed parts of a list filter), `next_due` (indexed with `id` where set) |
//! | `plaint_events` | one recorded event | `complaint`, `version` (key together), `position` (the feed, unique), `recorded` (`jsonb`, the `Recorded`) |
//! | `plaint_commands` | a recorded command id | `id` (key), `complaint`, `version` after it |
//! | `plaint_feed_head` | exactly one | `position`: the last position handed out |
//! | `plaint_outbox` | an outbox entry or dead letter | `id` (the notification id as displayed, key), `next_attempt`, `attempts`, `last_error`, `dead` (`NULL` while live, else its place in the order entries died, from the sequence `plaint_dead_order`), `notification` (`jsonb`) |
//!
//! Ids are compared byte by byte (`COLLATE "C"`), as every plaint store orders them.
//!
//! # Schema versions
//!
//! The schema is at [`SCHEMA_VERSION`]. [`PgStore::migrate`] applies the missing migrations
//! in one transaction under an advisory lock (safe to call from every instance at start-up)
//! and refuses a database at a newer version ([`PgError::SchemaTooNew`]);
//! [`PgStore::connect`] refuses a database at another version than this build's
//! ([`PgError::NotMigrated`], [`PgError::SchemaTooNew`]).

mod erase;
mod schema;

pub use schema::SCHEMA_VERSION;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use plaint_core::notify::{NotificationId, OutboxEntry, Settlement};
use plaint_core::store::{Changes, OutboxStats};
use plaint_core::{
    Append, CommandId, CommandRecord, Complaint, ComplaintId, FeedEntry, FeedPage, ListQuery, Page,
    Position, Recorded, Store, StoreError, StoreFailure, Timestamp,
};
use std::sync::Arc;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Json;

/// What opening or migrating a [`PgStore`] can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// The connection settings are unusable.
    #[error("invalid PostgreSQL configuration: {0}")]
    Config(String),
    /// The database refused or failed a statement, or could not be reached.
    #[error("PostgreSQL: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// No connection could be had from the pool.
    #[error("PostgreSQL connection pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The database was migrated by a newer plaint-postgres; this build does not guess at it.
    #[error(
        "the database schema is at version {found}, newer than this build's {supported}: upgrade plaint-postgres"
    )]
    SchemaTooNew {
        /// The database's version.
        found: i32,
        /// This build's ([`SCHEMA_VERSION`]).
        supported: i32,
    },
    /// The database is at an older schema version (0: none yet) than this build needs.
    #[error(
        "the database schema is at version {found}, this build needs {expected}: run PgStore::migrate"
    )]
    NotMigrated {
        /// The database's version.
        found: i32,
        /// This build's ([`SCHEMA_VERSION`]).
        expected: i32,
    },
}

impl From<PgError> for StoreError {
    fn from(e: PgError) -> Self {
        let kind = match &e {
            PgError::Database(db) => failure(db),
            PgError::SchemaTooNew { .. } => StoreFailure::UnsupportedFormat,
            _ => StoreFailure::Unavailable,
        };
        StoreError::backend(kind, e)
    }
}

/// Where and how to connect: the server, the schema, the pool size.
#[derive(Debug, Clone)]
pub struct PgConfig {
    pg: tokio_postgres::Config,
    schema: Option<String>,
    max_connections: usize,
    statement_timeout: Option<std::time::Duration>,
}

impl PgConfig {
    /// Settings from a connection string (`postgres://user@host:port/db` or
    /// `host=… user=… dbname=…`), 16 connections at most, the user's default schema. A
    /// connect timeout of 10 s applies unless the string sets one.
    ///
    /// # Errors
    /// [`PgError::Config`] when the string does not parse.
    pub fn new(url: &str) -> Result<Self, PgError> {
        let mut pg: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| PgError::Config(e.to_string()))?;
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(std::time::Duration::from_secs(10));
        }
        if pg.get_application_name().is_none() {
            pg.application_name("plaint");
        }
        Ok(Self {
            pg,
            schema: None,
            max_connections: 16,
            statement_timeout: None,
        })
    }

    /// Keeps the tables in this schema (set as each connection's `search_path`;
    /// [`PgStore::migrate`] creates it). A name of ASCII lower-case letters, digits and `_`,
    /// not starting with a digit, at most 63 bytes.
    ///
    /// # Errors
    /// [`PgError::Config`] for any other name.
    pub fn schema(mut self, name: &str) -> Result<Self, PgError> {
        let ok = !name.is_empty()
            && name.len() <= 63
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(PgError::Config(format!(
                "schema name {name:?}: use ASCII lower-case letters, digits and `_`"
            )));
        }
        self.schema = Some(name.to_owned());
        Ok(self)
    }

    /// Cancels any statement of the store's that runs longer than `timeout` (each
    /// connection's `statement_timeout`, whole milliseconds, at least 1): the call fails
    /// with [`StoreFailure::Unavailable`] and its transaction is rolled back, so a stuck
    /// lock or an overloaded server turns into an error a service can retry instead of a
    /// request that hangs. Unset, the server's setting applies.
    pub fn statement_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.statement_timeout = Some(timeout.max(std::time::Duration::from_millis(1)));
        self
    }

    /// The schema the tables are kept in, if one was set.
    pub fn schema_name(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// At most this many connections (at least 1). Each engine's concurrent commands, ticks
    /// and relays hold one each while they run.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    fn pool(&self) -> Result<Pool, PgError> {
        let mut pg = self.pg.clone();
        let mut options = Vec::new();
        if let Some(schema) = &self.schema {
            options.push(format!("-c search_path={schema}"));
        }
        if let Some(timeout) = self.statement_timeout {
            options.push(format!("-c statement_timeout={}", timeout.as_millis()));
        }
        if !options.is_empty() {
            pg.options(options.join(" "));
        }
        let manager = Manager::from_config(
            pg,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        Pool::builder(manager)
            .max_size(self.max_connections)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| PgError::Config(e.to_string()))
    }
}

/// What [`PgStore::migrate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    /// The version the database was at (0: an empty database).
    pub from: i32,
    /// The version it is at now ([`SCHEMA_VERSION`]).
    pub to: i32,
}

/// The PostgreSQL store: a pool of connections to one database (and schema) that any number
/// of instances share. Cheap to clone (the pool is shared). See the [crate docs](crate).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    shared: Arc<Shared>,
}

/// What the clones of one store share: the change signal, the channel it is heard on, and
/// the task listening on it (stopped when the last clone goes).
struct Shared {
    changes: Changes,
    channel: String,
    listener: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Ok(mut listener) = self.listener.lock()
            && let Some(task) = listener.take()
        {
            task.abort();
        }
    }
}

/// The channel a schema's changes are announced on: `plaint_<schema>` (`plaint_changes`
/// without one), cut to PostgreSQL's 63 bytes (two schemas that share the cut name only wake
/// each other's runners for nothing).
fn channel_of(schema: Option<&str>) -> String {
    let mut channel = format!("plaint_{}", schema.unwrap_or("changes"));
    channel.truncate(63);
    channel
}

/// Listens on `channel` on a connection of its own and raises `changes` for every
/// notification, for as long as the store lives; reconnects after a failure (raising it once
/// on every new connection: what happened meanwhile was not heard).
async fn listen(pg: tokio_postgres::Config, shared: std::sync::Weak<Shared>) {
    let mut pause = std::time::Duration::from_millis(100);
    loop {
        let Some(channel) = shared.upgrade().map(|s| s.channel.clone()) else {
            return;
        };
        if let Ok((client, mut conn)) = pg.connect(tokio_postgres::NoTls).await {
            let sql = format!("LISTEN \"{channel}\"");
            let mut subscribe = std::pin::pin!(client.batch_execute(&sql));
            let mut subscribed = false;
            let raise = || shared.upgrade().map(|s| s.changes.notify()).is_some();
            let alive = std::future::poll_fn(|cx| {
                use std::task::Poll;
                if !subscribed && let Poll::Ready(r) = subscribe.as_mut().poll(cx) {
                    if r.is_err() || !raise() {
                        return Poll::Ready(());
                    }
                    subscribed = true;
                }
                loop {
                    match conn.poll_message(cx) {
                        Poll::Ready(Some(Ok(tokio_postgres::AsyncMessage::Notification(_)))) => {
                            if !raise() {
                                return Poll::Ready(());
                            }
                        }
                        Poll::Ready(Some(Ok(_))) => {}
                        Poll::Ready(Some(Err(_)) | None) => return Poll::Ready(()),
                        Poll::Pending => return Poll::Pending,
                    }
                }
            });
            alive.await;
            if subscribed {
                pause = std::time::Duration::from_millis(100);
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_secs(5));
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("status", &self.pool.status())
            .finish()
    }
}

/// The schema version recorded in the database the client is connected to (0: none).
async fn version_of(client: &impl deadpool_postgres::GenericClient) -> Result<i32, PgError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('plaint_schema') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_one("SELECT coalesce(max(version), 0) FROM plaint_schema", &[])
        .await?;
    Ok(row.get(0))
}

impl PgStore {
    /// Brings the database (and the schema, created if missing) to [`SCHEMA_VERSION`]: the
    /// missing migrations in one transaction, under an advisory lock so instances starting
    /// together apply each once. On an empty database this is the whole setup.
    ///
    /// # Errors
    /// [`PgError::SchemaTooNew`] when a newer build migrated the database (nothing is
    /// changed), or a database error (nothing is changed either).
    pub async fn migrate(config: &PgConfig) -> Result<Migrated, PgError> {
        let pool = config.pool()?;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&schema::MIGRATION_LOCK],
        )
        .await?;
        if let Some(s) = &config.schema {
            // The name was checked to be a plain identifier.
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))
                .await?;
        }
        let from = version_of(&tx).await?;
        if from > SCHEMA_VERSION {
            return Err(PgError::SchemaTooNew {
                found: from,
                supported: SCHEMA_VERSION,
            });
        }
        tx.batch_execute(schema::SCHEMA_TABLE).await?;
        for (version, sql) in schema::MIGRATIONS.iter().filter(|(v, _)| *v > from) {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO plaint_schema (version) VALUES ($1)",
                &[version],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Migrated {
            from,
            to: SCHEMA_VERSION,
        })
    }

    /// Opens a pool on a database at this build's [`SCHEMA_VERSION`]. Connections are made
    /// as they are needed (one now, to check the version); a connection that broke is
    /// replaced on the next call.
    ///
    /// # Errors
    /// [`PgError::NotMigrated`] or [`PgError::SchemaTooNew`] when the database is at another
    /// version; a pool or database error when it cannot be reached.
    pub async fn connect(config: PgConfig) -> Result<Self, PgError> {
        let pool = config.pool()?;
        let found = version_of(&pool.get().await?).await?;
        match found.cmp(&SCHEMA_VERSION) {
            std::cmp::Ordering::Equal => {
                let shared = Arc::new(Shared {
                    changes: Changes::new(),
                    channel: channel_of(config.schema.as_deref()),
                    listener: std::sync::Mutex::new(None),
                });
                let task = tokio::spawn(listen(config.pg.clone(), Arc::downgrade(&shared)));
                if let Ok(mut listener) = shared.listener.lock() {
                    *listener = Some(task);
                }
                Ok(Self { pool, shared })
            }
            std::cmp::Ordering::Greater => Err(PgError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            }),
            std::cmp::Ordering::Less => Err(PgError::NotMigrated {
                found,
                expected: SCHEMA_VERSION,
            }),
        }
    }

    async fn client(&self) -> Result<Conn, StoreError> {
        // The pool and the driver need a tokio runtime; without one they would panic. A call
        // made outside one (a blocking facade on a plain thread) is refused instead.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StoreError::backend(
                StoreFailure::Unavailable,
                "PgStore was called outside a tokio runtime: await it on one, or wait on one \
                 (Runtime::block_on, or a thread inside Runtime::enter)",
            ));
        }
        let obj = self
            .pool
            .get()
            .await
            .map_err(|e| StoreError::backend(StoreFailure::Unavailable, e))?;
        Ok(Conn {
            obj: Some(obj),
            broken: Arc::default(),
        })
    }

    /// One page of ids and states after `after` matching the indexed parts of `query`.
    async fn page_after(
        &self,
        query: &ListQuery,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Arc<Complaint>>, StoreError> {
        let client = self.client().await?;
        let fail = client.fail();
        let sql = "SELECT state FROM plaint_complaints
             WHERE id > $1 AND ($2::text IS NULL OR stage = $2)
               AND ($3::text IS NULL OR tier = $3) AND ($4::text IS NULL OR department = $4)
             ORDER BY id LIMIT $5";
        let stmt = client.prepare_cached(sql).await.map_err(&fail)?;
        let (stage, tier, department) = parts_of(query);
        let rows = client
            .query(&stmt, &[&after, &stage, &tier, &department, &limit])
            .await
            .map_err(&fail)?;
        rows.iter()
            .map(|r| {
                Ok(Arc::new(
                    r.try_get::<_, Json<Complaint>>(0).map_err(&fail)?.0,
                ))
            })
            .collect()
    }
}

/// The indexed parts a list filters on, as stored.
fn parts_of(q: &ListQuery) -> (Option<String>, Option<&str>, Option<&str>) {
    (
        q.stage.map(stage_name),
        q.tier.as_ref().map(|t| t.as_str()),
        q.department.as_ref().map(|d| d.as_str()),
    )
}

fn stage_name(kind: plaint_core::StageKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{kind:?}"),
    }
}

/// An instant as stored: nanoseconds since the epoch, saturating outside 1677–2262.
fn nanos(t: Timestamp) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

fn instant(nanos: i64) -> Timestamp {
    chrono::DateTime::from_timestamp_nanos(nanos)
}

/// How a database error reads to a service.
fn failure(e: &tokio_postgres::Error) -> StoreFailure {
    let Some(code) = e.code() else {
        // No server code: a broken connection, or a stored value that does not decode.
        let undecodable = std::error::Error::source(e)
            .is_some_and(|s| s.downcast_ref::<serde_json::Error>().is_some());
        return if undecodable && !e.is_closed() {
            StoreFailure::Corrupt
        } else {
            StoreFailure::Unavailable
        };
    };
    let class = &code.code()[..2];
    match class {
        // Data exceptions, integrity violations the store does not expect.
        "22" | "23" | "XX" => StoreFailure::Corrupt,
        _ => StoreFailure::Unavailable,
    }
}

fn db(e: tokio_postgres::Error) -> StoreError {
    StoreError::backend(failure(&e), e)
}

/// Whether the connection an error came on is gone (closed, terminated by the server, an
/// I/O failure): it must not go back to the pool.
fn breaks_connection(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        Some(code) => {
            let code = code.code();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
        }
        None => {
            e.is_closed()
                || std::error::Error::source(e)
                    .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some())
        }
    }
}

/// A pooled connection that is thrown away instead of returned when a call on it found it
/// broken, so the next call connects afresh instead of failing on a dead connection the
/// pool has not noticed yet.
struct Conn {
    obj: Option<deadpool_postgres::Object>,
    broken: Arc<std::sync::atomic::AtomicBool>,
}

impl Conn {
    /// The error mapping for calls on this connection: [`db`], noting a broken connection.
    fn fail(&self) -> impl Fn(tokio_postgres::Error) -> StoreError + Send + Sync + use<> {
        let broken = Arc::clone(&self.broken);
        move |e| {
            if breaks_connection(&e) {
                broken.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            db(e)
        }
    }
}

impl std::ops::Deref for Conn {
    type Target = deadpool_postgres::Object;
    fn deref(&self) -> &Self::Target {
        self.obj.as_ref().expect("held until drop")
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.obj.as_mut().expect("held until drop")
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(obj) = self.obj.take()
            && self.broken.load(std::sync::atomic::Ordering::Relaxed)
        {
            drop(deadpool_postgres::Object::take(obj));
        }
    }
}

fn version_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Malformed(format!("version {v} is out of range")))
}

fn outbox_entry(row: &tokio_postgres::Row) -> Result<OutboxEntry, StoreError> {
    let attempts: i64 = row.try_get("attempts").map_err(db)?;
    Ok(OutboxEntry {
        notification: row.try_get::<_, Json<_>>("notification").map_err(db)?.0,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        next_attempt: instant(row.try_get("next_attempt").map_err(db)?),
        last_error: row.try_get("last_error").map_err(db)?,
    })
}

impl Store for PgStore {
    async fn append(&self, append: Append) -> Result<Arc<Complaint>, StoreError> {
        append.check()?;
        let expected = version_i64(append.expected_version)?;
        let new_version = version_i64(append.new_version())?;
        let id = append.complaint.as_str();
        let mut client = self.client().await?;
        let fail = client.fail();
        let tx = client.transaction().await.map_err(&fail)?;
        // Whether the due index or the outbox changes: runners hear of it.
        let mut changed = !append.outbox.is_empty();
        // The new state, and the statement that writes it: a new complaint is inserted (a
        // racing insert of the same id makes it a conflict), an existing one updated under
        // the row lock its version was checked under.
        let (state, write) = if append.expected_version == 0 {
            let state = append.open()?;
            changed |= state.next_due().is_some();
            let insert = "INSERT INTO plaint_complaints
                              (id, version, state, stage, tier, department, next_due)
                          VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING";
            (state, insert)
        } else {
            let row = tx
                .query_opt(
                    &tx.prepare_cached(
                        "SELECT version, state FROM plaint_complaints WHERE id = $1 FOR UPDATE",
                    )
                    .await
                    .map_err(&fail)?,
                    &[&id],
                )
                .await
                .map_err(&fail)?;
            let actual = row.as_ref().map_or(0, |r| r.get::<_, i64>(0));
            let Some(row) = row.filter(|_| actual == expected) else {
                return Err(StoreError::Conflict {
                    expected: append.expected_version,
                    actual: actual as u64,
                });
            };
            let mut state = Arc::new(row.try_get::<_, Json<Complaint>>(1).map_err(&fail)?.0);
            let old_due = state.next_due();
            match erase::redact(&tx, id, &append, &fail).await? {
                Some(redacted) => state = Arc::new(redacted),
                None => append.apply_to(&mut state),
            }
            changed |= state.next_due() != old_due;
            let update = "UPDATE plaint_complaints SET version = $2, state = $3, stage = $4,
                              tier = $5, department = $6, next_due = $7
                          WHERE id = $1";
            (state, update)
        };
        let written = tx
            .execute(
                &tx.prepare_cached(write).await.map_err(&fail)?,
                &[
                    &id,
                    &new_version,
                    &Json(&*state),
                    &stage_name(state.stage.kind()),
                    &state.tier.as_ref().map(|t| t.as_str()),
                    &state.responsibility.as_ref().map(|r| r.primary.as_str()),
                    &state.next_due().map(nanos),
                ],
            )
            .await
            .map_err(&fail)?;
        if written == 0 {
            // Only an insert writes nothing: another append created the complaint first.
            let actual: i64 = tx
                .query_one(
                    &tx.prepare_cached("SELECT version FROM plaint_complaints WHERE id = $1")
                        .await
                        .map_err(&fail)?,
                    &[&id],
                )
                .await
                .map_err(&fail)?
                .get(0);
            return Err(StoreError::Conflict {
                expected: 0,
                actual: actual as u64,
            });
        }
        let recorded = tx
            .execute(
                &tx.prepare_cached(
                    "INSERT INTO plaint_commands (id, complaint, version) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO NOTHING",
                )
                .await
                .map_err(&fail)?,
                &[&append.command.as_str(), &id, &new_version],
            )
            .await
            .map_err(&fail)?;
        if recorded == 0 {
            return Err(StoreError::DuplicateCommand(append.command));
        }
        if append.erases() {
            erase::erase(&tx, id, &fail).await?;
        }
        for entry in append.outbox_entries() {
            tx.execute(
                &tx.prepare_cached("INSERT INTO plaint_outbox (id, next_attempt, attempts, last_error, notification)
                 VALUES ($1, $2, 0, NULL, $3)").await.map_err(&fail)?,
                &[
                    &entry.notification.id.to_string(),
                    &nanos(entry.next_attempt),
                    &Json(&entry.notification),
                ],
            )
            .await
            .map_err(|e| {
                if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                    StoreError::Malformed(format!(
                        "notification {} is already in the outbox",
                        entry.notification.id
                    ))
                } else {
                    db(e)
                }
            })?;
        }
        if changed {
            // Delivered to listeners when (and only if) the transaction commits.
            tx.execute(
                &tx.prepare_cached("SELECT pg_notify($1, '')")
                    .await
                    .map_err(&fail)?,
                &[&self.shared.channel],
            )
            .await
            .map_err(&fail)?;
        }
        // Last: the feed's positions, under the head row's lock until the commit (see the
        // crate docs), so they are handed out in commit order.
        let events: Vec<Json<&Recorded>> = append.events.iter().map(Json).collect();
        tx.execute(
            &tx.prepare_cached(
                "WITH head AS (
                 UPDATE plaint_feed_head SET position = position + cardinality($3::jsonb[])
                 RETURNING position - cardinality($3::jsonb[]) AS base)
             INSERT INTO plaint_events (complaint, version, position, recorded)
             SELECT $1, $2 + e.n, head.base + e.n, e.r
             FROM head, unnest($3::jsonb[]) WITH ORDINALITY AS e(r, n)",
            )
            .await
            .map_err(&fail)?,
            &[&id, &expected, &events],
        )
        .await
        .map_err(&fail)?;
        tx.commit().await.map_err(&fail)?;
        if changed {
            self.shared.changes.notify();
        }
        Ok(state)
    }

    async fn load(&self, id: &ComplaintId) -> Result<Option<Arc<Complaint>>, StoreError> {
        let client = self.client().await?;
        let fail = client.fail();
        let stmt = client
            .prepare_cached("SELECT state FROM plaint_complaints WHERE id = $1")
            .await
            .map_err(&fail)?;
        let row = client
            .query_opt(&stmt, &[&id.as_str()])
            .await
            .map_err(&fail)?;
        row.map(|r| {
            Ok(Arc::new(
                r.try_get::<_, Json<Complaint>>(0).map_err(&fail)?.0,
            ))
        })
        .transpose()
    }

    async fn history(&self, id: &ComplaintId) -> Result<Vec<Recorded>, StoreError> {
        let client = self.client().await?;
        let fail = client.fail();
        let stmt = client
            .prepare_cached(
                "SELECT recorded FROM plaint_events WHERE complaint = $1 ORDER BY version",
            )
            .await
            .map_err(&fail)?;
        let rows = client.query(&stmt, &[&id.as_str()]).await.map_err(&fail)?;
        rows.iter()
            .map(|r| Ok(r.try_get::<_, Json<Recorded>>(0).map_err(&fail)?.0))
            .collect()
    }

    async fn command(&self, id: &CommandId) -> Result<Option<CommandRecord>, StoreError> {
        let client = self.client().await?;
        let fail = client.fail();
        let stmt = client
            .prepare_cached("SELECT complaint, version FROM plaint_commands WHERE id = $1")
            .await
            .map_err(&fail)?;
        let Some(row) = client
            .query_opt(&stmt, &[&id.as_str()])
            .await
            .map_err(&fail)?
        else {
            return Ok(None);
        };
        let complaint: String = row.try_get(0).map_err(&fail)?;
        let version: i64 = row.try_get(1).map_err(&fail)?;
        let complaint = ComplaintId::new(complaint).map_err(|e| {
            StoreError::backend(StoreFailure::Corrupt, format!("stored complaint id: {e}"))
        })?;
        Ok(Some(CommandRecord {
            complaint,
            version: version as u64,
        }))
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        let limit = query.limit.clamp(1, ListQuery::MAX_LIMIT);
        let mut after = query
            .after
            .as_ref()
            .map_or(String::new(), |a| a.as_str().to_owned());
        let mut items: Vec<Arc<Complaint>> = Vec::with_capacity(limit);
        // One more than a page: whether there is a next page.
        let batch = limit as i64 + 1;
        loop {
            let rows = self.page_after(query, &after, batch).await?;
            let end = (rows.len() as i64) < batch;
            if let Some(last) = rows.last() {
                after = last.id.as_str().to_owned();
            }
            for c in rows {
                if query.needs_complaint() && !query.matches(&c) {
                    continue;
                }
                if items.len() == limit {
                    let next = items.last().map(|c| c.id.clone());
                    return Ok(Page { items, next });
                }
                items.push(c);
            }
            if end {
                return Ok(Page { items, next: None });
            }
        }
    }

    async fn count(&self, query: &ListQuery) -> Result<u64, StoreError> {
        if query.needs_complaint() {
            let mut after = String::new();
            let mut n = 0u64;
            let batch = ListQuery::MAX_LIMIT as i64;
            loop {
                let rows = self.page_after(query, &after, batch).await?;
                n += rows.iter().filter(|c| query.matches(c)).count() as u64;
                match rows.last() {
                    Some(last) if rows.len() as i64 == batch => after = last.id.as_str().to_owned(),
                    _ => return Ok(n),
                }
            }
        }
        let client = self.client().await?;
        let fail = client.fail();
        let (stage, tier, department) = parts_of(query);
        let row = client
            .query_one(
                "SELECT count(*) FROM plaint_complaints
                 WHERE ($1::text IS NULL OR stage = $1) AND ($2::text IS NULL OR tier = $2)
                   AND ($3::text IS NULL OR department = $3)",
                &[&stage, &tier, &department],
            )
            .await
            .map_err(&fail)?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    async fn due(
        &self,
        upto: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, ComplaintId)>, StoreError> {
        let client = self.client().await?;
        let fail = client.fail();
        let stmt = client
            .prepare_cached(
                "SELECT next_due, id FROM plaint_complaints WHERE next_due <= $1
                 ORDER BY next_due, id LIMIT $2",
            )
            .await
            .map_err(&fail)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(&stmt, &[&nanos(upto), &limit])
            .await
            .map_err(&fail)?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(1).map_err(&fail)?;
                let id = ComplaintId::new(id).map_err(|e| {
                    StoreError::backend(StoreFailure::Corrupt, format!("stored complaint id: {e}"))
                })?;
                Ok((instant(r.try_get(0).map_err(&fail)?), id))
            })
            .collect()
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let client = self.client().await?;
        let fail = client.fail();
        let row = client
            .query_one("SELECT min(next_due) FROM plaint_complaints", &[])
            .await
            .map_err(&fail)?;
        Ok(row.get::<_, Option<i64>>(0).map(instant))
    }

    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let client = self.client().await?;
        let fail = client.fail();
        let stmt = client
            .prepare_cached(
                "WITH c AS (
                     SELECT id, next_attempt AS was FROM plaint_outbox
                     WHERE dead IS NULL AND next_attempt <= $1
                     ORDER BY next_attempt, id LIMIT $3 FOR UPDATE SKIP LOCKED),
                 u AS (
                     UPDATE plaint_outbox o SET next_attempt = $2 FROM c WHERE o.id = c.id
                     RETURNING c.was, o.id, o.notification, o.attempts, o.next_attempt, o.last_error)
                 SELECT * FROM u ORDER BY was, id",
            )
            .await
            .map_err(&fail)?;
        // Saturating: a caller's extreme `now` or lease must not panic the store.
        let until = now
            .checked_add_signed(lease)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(&stmt, &[&nanos(now), &nanos(until), &limit])
            .await
            .map_err(&fail)?;
        rows.iter().map(outbox_entry).collect()
    }

    async fn settle(&self, id: &NotificationId, outcome: Settlement) -> Result<(), StoreError> {
        let client = self.client().await?;
        let fail = client.fail();
        let key = id.to_string();
        let retry = matches!(outcome, Settlement::Retry { .. });
        let changed = match outcome {
            Settlement::Retry {
                next_attempt,
                error,
            } => {
                client
                    .execute(
                        "WITH u AS (
                             UPDATE plaint_outbox
                             SET attempts = attempts + 1, next_attempt = $2, last_error = $3
                             WHERE id = $1 AND dead IS NULL RETURNING 1)
                         SELECT pg_notify($4, '') FROM u",
                        &[&key, &nanos(next_attempt), &error, &self.shared.channel],
                    )
                    .await
            }
            Settlement::Dead { error } => {
                client
                    .execute(
                        "UPDATE plaint_outbox SET attempts = attempts + 1, last_error = $2,
                                dead = nextval('plaint_dead_order')
                         WHERE id = $1 AND dead IS NULL",
                        &[&key, &error],
                    )
                    .await
            }
            // Delivered, or anything a newer core adds: it leaves the outbox.
            _ => {
                client
                    .execute(
                        "DELETE FROM plaint_outbox WHERE id = $1 AND dead IS NULL",
                        &[&key],
                    )
                    .await
            }
        }
        .map_err(&fail)?;
        // Other instances hear the retry from the notification; this one raises its own
        // signal before answering, as every store does for its own writes.
        if retry && changed > 0 {
            self.shared.changes.notify();
        }
        Ok(())
    }

    async fn dead_letters(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        let client = self.client().await?;
        let fail = client.fail();
        let rows = client
            .query(
                "SELECT notification, attempts, next_attempt, last_error FROM plaint_outbox
                 WHERE dead IS NOT NULL ORDER BY dead",
                &[],
            )
            .await
            .map_err(&fail)?;
        rows.iter().map(outbox_entry).collect()
    }

    async fn requeue(&self, id: &NotificationId, at: Timestamp) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let fail = client.fail();
        let n = client
            .execute(
                "WITH u AS (
                     UPDATE plaint_outbox SET dead = NULL, attempts = 0, next_attempt = $2
                     WHERE id = $1 AND dead IS NOT NULL RETURNING 1)
                 SELECT pg_notify($3, '') FROM u",
                &[&id.to_string(), &nanos(at), &self.shared.channel],
            )
            .await
            .map_err(&fail)?;
        if n == 1 {
            self.shared.changes.notify();
        }
        Ok(n == 1)
    }

    /// Raised by this store's own changes at once, and by every other instance's on the same
    /// database and schema through LISTEN/NOTIFY (a notification sent in the append's
    /// transaction, so heard only when it commits).
    fn changes(&self) -> Option<&Changes> {
        Some(&self.shared.changes)
    }

    async fn outbox_stats(&self) -> Result<Option<OutboxStats>, StoreError> {
        let client = self.client().await?;
        let fail = client.fail();
        let row = client
            .query_one(
                "SELECT count(*) FILTER (WHERE dead IS NULL), count(*) FILTER (WHERE dead IS NOT NULL),
                        min(next_attempt) FILTER (WHERE dead IS NULL)
                 FROM plaint_outbox",
                &[],
            )
            .await
            .map_err(&fail)?;
        Ok(Some(OutboxStats::new(
            row.get::<_, i64>(0) as u64,
            row.get::<_, i64>(1) as u64,
            row.get::<_, Option<i64>>(2).map(instant),
        )))
    }

    async fn feed(&self, after: Position, limit: usize) -> Result<FeedPage, StoreError> {
        let limit = limit.min(FeedPage::MAX_LIMIT);
        let empty = FeedPage {
            entries: Vec::new(),
            next: after,
        };
        let Ok(from) = i64::try_from(after.get()) else {
            return Ok(empty);
        };
        if limit == 0 {
            return Ok(empty);
        }
        let client = self.client().await?;
        let fail = client.fail();
        let stmt = client
            .prepare_cached(
                "SELECT position, complaint, recorded FROM plaint_events
                 WHERE position > $1 ORDER BY position LIMIT $2",
            )
            .await
            .map_err(&fail)?;
        let rows = client
            .query(&stmt, &[&from, &(limit as i64)])
            .await
            .map_err(&fail)?;
        let entries = rows
            .iter()
            .map(|r| {
                let complaint: String = r.try_get(1).map_err(&fail)?;
                Ok(FeedEntry {
                    position: Position(r.try_get::<_, i64>(0).map_err(&fail)? as u64),
                    complaint: ComplaintId::new(complaint).map_err(|e| {
                        StoreError::backend(
                            StoreFailure::Corrupt,
                            format!("stored complaint id: {e}"),
                        )
                    })?,
                    recorded: r.try_get::<_, Json<Recorded>>(2).map_err(&fail)?.0,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let next = entries.last().map_or(after, |e| e.position);
        Ok(FeedPage { entries, next })
    }
}
