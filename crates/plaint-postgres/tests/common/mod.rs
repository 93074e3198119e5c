//! What the PostgreSQL tests share: the server from `PLAINT_PG_URL` (or `DATABASE_URL`), a
//! tokio runtime to wait on, and a fresh schema per store, dropped when the test ends.

#![allow(dead_code, unreachable_pub)]

use plaint_postgres::{PgConfig, PgStore};
use std::sync::Mutex;

/// The server's URL, or `None` (and a line saying the test was skipped).
pub fn url() -> Option<String> {
    let url = std::env::var("PLAINT_PG_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        println!("skipped: PLAINT_PG_URL not set");
    }
    url
}

/// A tokio runtime the tests' sync code waits on.
pub struct Rt(pub tokio::runtime::Runtime);

impl Rt {
    pub fn new() -> Self {
        Self(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime"),
        )
    }
}

impl plaint_core::blocking::Executor for Rt {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.handle().block_on(future)
    }
}

/// Schemas made for one test, dropped when it ends (pass or fail).
pub struct Db {
    pub url: String,
    pub rt: Rt,
    made: Mutex<Vec<String>>,
}

impl Db {
    /// `None` when no server is configured.
    pub fn new() -> Option<Self> {
        Some(Self {
            url: url()?,
            rt: Rt::new(),
            made: Mutex::new(Vec::new()),
        })
    }

    /// The settings of a new, unique schema (not created yet).
    pub fn fresh_config(&self) -> PgConfig {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_nanos(),
        );
        let name = format!("t_{:016x}", h.finish());
        self.made.lock().expect("lock").push(name.clone());
        self.config(&name)
    }

    /// The settings of schema `name` with 8 connections.
    pub fn config(&self, name: &str) -> PgConfig {
        PgConfig::new(&self.url)
            .expect("url parses")
            .schema(name)
            .expect("valid schema")
            .max_connections(8)
    }

    /// A migrated store in a new schema.
    pub fn fresh(&self) -> PgStore {
        let config = self.fresh_config();
        self.rt.0.block_on(async {
            PgStore::migrate(&config).await.expect("migrates");
            PgStore::connect(config).await.expect("connects")
        })
    }

    /// Another store (its own pool) on the same schema as `config`.
    pub fn open(&self, config: PgConfig) -> PgStore {
        self.rt
            .0
            .block_on(PgStore::connect(config))
            .expect("connects")
    }

    /// Runs SQL on a connection of its own (outside any store).
    pub fn sql(&self, sql: &str) {
        let url = self.url.clone();
        self.rt.0.block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("connects");
            let task = tokio::spawn(conn);
            client.batch_execute(sql).await.expect("sql runs");
            drop(client);
            let _ = task.await;
        });
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let made = std::mem::take(&mut *self.made.lock().expect("lock"));
        if !made.is_empty() {
            let sql: String = made
                .iter()
                .map(|s| format!("DROP SCHEMA IF EXISTS {s} CASCADE;"))
                .collect();
            self.sql(&sql);
        }
    }
}

/// A clock item's identity in a history: which clock, cycle, item (warning, breach, rung n)
/// and due instant; `None` for any other event.
pub fn firing(r: &plaint_core::Recorded) -> Option<(String, u32, String, plaint_core::Timestamp)> {
    use plaint_core::Event;
    match &r.event {
        Event::ClockWarned {
            clock, cycle, due, ..
        } => Some((clock.to_string(), *cycle, "warn".into(), *due)),
        Event::ClockBreached {
            clock, cycle, due, ..
        } => Some((clock.to_string(), *cycle, "breach".into(), *due)),
        Event::RungReached {
            clock,
            cycle,
            rung,
            due,
            ..
        } => Some((clock.to_string(), *cycle, format!("rung-{rung}"), *due)),
        _ => None,
    }
}

/// Every complaint in the store, in id order (read a page at a time).
pub async fn all_ids(store: &PgStore) -> Vec<plaint_core::ComplaintId> {
    use plaint_core::Store as _;
    let mut ids = Vec::new();
    let mut query = plaint_core::ListQuery::new();
    query.limit = plaint_core::ListQuery::MAX_LIMIT;
    loop {
        let page = store.list(&query).await.expect("lists");
        ids.extend(page.items.iter().map(|c| c.id.clone()));
        match page.next {
            Some(next) => query.after = Some(next),
            None => return ids,
        }
    }
}

/// The whole feed from the start, checked gap-free: positions 1, 2, 3… each once.
pub async fn whole_feed(store: &PgStore) -> Vec<plaint_core::FeedEntry> {
    use plaint_core::Store as _;
    let mut entries: Vec<plaint_core::FeedEntry> = Vec::new();
    let mut next = plaint_core::Position::START;
    loop {
        let page = store.feed(next, 500).await.expect("feed");
        if page.entries.is_empty() {
            return entries;
        }
        for e in page.entries {
            assert_eq!(
                e.position.get(),
                entries.len() as u64 + 1,
                "feed positions are contiguous from 1"
            );
            next = e.position;
            entries.push(e);
        }
    }
}
