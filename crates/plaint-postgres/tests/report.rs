//! `Report::from_store` on PgStore streams: it reads complaints a page at a time (keyset
//! pages of at most `ListQuery::MAX_LIMIT`, never the whole table), and the report equals
//! the one over a `MemoryStore` holding the same complaints.

mod common;

use plaint_core::testing::{self, Tap, Tapped, t};
use plaint_core::{
    Command, CommandId, ComplaintId, Engine, ListQuery, ManualClock, Page, Recorded, Store,
    StoreError,
};
use plaint_report::{Period, Report};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts what the report asks of the store it taps.
#[derive(Default)]
struct Counts {
    lists: AtomicUsize,
    largest_page: AtomicUsize,
    histories: AtomicUsize,
}

impl<S: Store> Tap<S> for Counts {
    async fn history(&self, inner: &S, id: &ComplaintId) -> Result<Vec<Recorded>, StoreError> {
        self.histories.fetch_add(1, Ordering::Relaxed);
        inner.history(id).await
    }
    async fn list(&self, inner: &S, query: &ListQuery) -> Result<Page, StoreError> {
        let page = inner.list(query).await?;
        self.lists.fetch_add(1, Ordering::Relaxed);
        self.largest_page
            .fetch_max(page.items.len(), Ordering::Relaxed);
        Ok(page)
    }
}

/// Complaint `i`'s commands: received on its own day and hour of November, every third
/// acknowledged.
fn commands(i: usize) -> Vec<(String, Command)> {
    let received = t(0) + chrono::Duration::minutes(7 * i as i64);
    let mut commands = vec![(
        format!("recv-{i}"),
        Command::Receive(Arc::new(testing::intake(received))),
    )];
    if i.is_multiple_of(3) {
        commands.push((format!("ack-{i}"), Command::Acknowledge));
    }
    commands
}

#[test]
fn reports_over_pgstore_read_a_page_at_a_time_and_match_memory() {
    const COMPLAINTS: usize = 2_100;
    let Some(db) = common::Db::new() else { return };
    let pg = db.fresh();
    let memory = Arc::new(plaint_memory::MemoryStore::new());
    // Both stores are written by engines on the same clock, with the same commands.
    let now = t(24 * 11);
    let pg_engine = Arc::new(
        Engine::builder(pg.clone(), testing::sla_policy())
            .clock(Arc::new(ManualClock::new(now)))
            .build(),
    );
    let memory_engine = Engine::builder(Arc::clone(&memory), testing::sla_policy())
        .clock(Arc::new(ManualClock::new(now)))
        .build();
    let agent = testing::agent();
    db.rt.0.block_on(async {
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let (engine, agent) = (Arc::clone(&pg_engine), agent.clone());
                tokio::spawn(async move {
                    for i in (w..COMPLAINTS).step_by(8) {
                        let id = ComplaintId::new(format!("R-{i:05}")).expect("valid");
                        for (command, c) in commands(i) {
                            let command = CommandId::new(command).expect("valid");
                            engine.execute(command, &id, c, &agent).await.expect("pg");
                        }
                    }
                })
            })
            .collect();
        for i in 0..COMPLAINTS {
            let id = ComplaintId::new(format!("R-{i:05}")).expect("valid");
            for (command, c) in commands(i) {
                let command = CommandId::new(command).expect("valid");
                memory_engine
                    .execute(command, &id, c, &agent)
                    .await
                    .expect("memory");
            }
        }
        for w in writers {
            w.await.expect("writer");
        }
    });
    let counted = Tapped::new(pg, Counts::default());
    let policy = testing::sla_policy();
    let month = Period::month(2026, 11).expect("a month");
    let (from_pg, from_memory) = db.rt.0.block_on(async {
        (
            Report::from_store(&counted, &policy, month)
                .await
                .expect("report over pg"),
            Report::from_store(&*memory, &policy, month)
                .await
                .expect("report over memory"),
        )
    });
    assert_eq!(from_pg, from_memory, "the same complaints, the same report");
    assert_eq!(
        from_pg.received, COMPLAINTS as u64,
        "every complaint counted"
    );
    let pages = COMPLAINTS.div_ceil(ListQuery::MAX_LIMIT);
    assert_eq!(
        counted.tap.lists.load(Ordering::Relaxed),
        pages,
        "one list call per page"
    );
    assert_eq!(
        counted.tap.largest_page.load(Ordering::Relaxed),
        ListQuery::MAX_LIMIT,
        "at most one page of complaints in memory"
    );
    assert!(counted.tap.histories.load(Ordering::Relaxed) <= COMPLAINTS);
}
