//! Bad conditions: a connection killed mid-transaction, an append abandoned mid-transaction,
//! a statement timeout, a call from outside any tokio runtime.
//! Each gives a typed error or nothing at all, applies nothing half, and the store carries on
//! with a fresh connection.
//!
//! The append is held mid-transaction by a row lock another connection takes; the tests wait
//! in real time (bounded, 10 s at most) for the server to report it waiting, since that is
//! the server's own state and no manual clock can stand in for it.

mod common;

use plaint_core::testing::{self, t};
use plaint_core::{Command, CommandId, ComplaintId, Engine, ManualClock, Store};
use plaint_postgres::{PgConfig, PgStore};
use std::sync::Arc;
use std::time::Duration;

fn evidence(n: &str) -> Command {
    Command::AddEvidence(plaint_core::model::Evidence {
        kind: plaint_core::model::EvidenceKind::Photo,
        reference: format!("photo-{n}").into(),
        content_hash: None,
    })
}

/// A raw connection to the test schema.
async fn raw(url: &str, schema: &str) -> tokio_postgres::Client {
    let mut config: tokio_postgres::Config = url.parse().expect("url");
    config.options(format!("-c search_path={schema}"));
    let (client, conn) = config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connects");
    tokio::spawn(conn);
    client
}

/// Waits (at most 10 s) until a backend of `app` waits for a lock; its pid. Asked on a
/// connection outside any transaction: a transaction sees one snapshot of the statistics.
async fn waiting_backend(client: &tokio_postgres::Client, app: &str) -> i32 {
    for _ in 0..200 {
        let row = client
            .query_opt(
                "SELECT pid FROM pg_stat_activity
                 WHERE application_name = $1 AND wait_event_type = 'Lock'",
                &[&app],
            )
            .await
            .expect("pg_stat_activity");
        if let Some(row) = row {
            return row.get(0);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the append never waited for the lock");
}

type Eng = Engine<PgStore, plaint_core::DiscardNotifier, Arc<ManualClock>>;

fn engine_over(store: &PgStore) -> Eng {
    Engine::builder(store.clone(), testing::policy())
        .clock(Arc::new(ManualClock::new(t(1))))
        .build()
}

/// Receives complaint `id` through `engine`, then locks its row from a connection of its own,
/// in a transaction [`nothing_applied_then_once`] rolls back: the history before, and that
/// connection.
async fn received_and_locked(
    engine: &Eng,
    (url, schema): (&str, &str),
    id: &ComplaintId,
) -> (Vec<plaint_core::Recorded>, tokio_postgres::Client) {
    let receive = Command::Receive(Arc::new(testing::intake(t(0))));
    let recv = CommandId::new(format!("{id}-recv")).unwrap();
    engine
        .execute(recv, id, receive, &testing::agent())
        .await
        .expect("receives");
    let before = engine.store().history(id).await.expect("history");
    let locker = raw(url, schema).await;
    locker.batch_execute("BEGIN").await.expect("begins");
    locker
        .execute(
            "SELECT 1 FROM plaint_complaints WHERE id = $1 FOR UPDATE",
            &[&id.as_str()],
        )
        .await
        .expect("locks");
    (before, locker)
}

/// Lets go of the lock, then checks that the failed `command` applied nothing and recorded
/// no command id, and that giving it again applies it once.
async fn nothing_applied_then_once(
    engine: &Eng,
    locker: tokio_postgres::Client,
    id: &ComplaintId,
    before: &[plaint_core::Recorded],
    command: &str,
) {
    locker.batch_execute("ROLLBACK").await.expect("rolls back");
    let store = engine.store();
    assert_eq!(
        store.history(id).await.expect("history"),
        before,
        "nothing applied"
    );
    let command = CommandId::new(command).unwrap();
    let recorded = store.command(&command).await.expect("command");
    assert_eq!(recorded, None, "the command id is not recorded");
    engine
        .execute(command, id, evidence("again"), &testing::agent())
        .await
        .expect("given again, it applies");
    let after = store.history(id).await.expect("history");
    assert_eq!(after.len(), before.len() + 1, "once");
}

struct Setup {
    url: String,
    schema: String,
    app: String,
    store: PgStore,
}

/// A migrated schema with one complaint, and a one-connection store named `app`.
fn setup(db: &common::Db, app: &str) -> Setup {
    let schema = db.fresh_config().schema_name().expect("schema").to_owned();
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}application_name={app}", db.url);
    let config = PgConfig::new(&url)
        .expect("url")
        .schema(&schema)
        .expect("schema")
        .max_connections(1);
    let store = db.rt.0.block_on(async {
        PgStore::migrate(&config).await.expect("migrates");
        PgStore::connect(config).await.expect("connects")
    });
    Setup {
        url: db.url.clone(),
        schema,
        app: app.to_owned(),
        store,
    }
}

#[test]
fn a_connection_killed_mid_transaction_is_unavailable_and_applies_nothing() {
    let Some(db) = common::Db::new() else { return };
    let app = format!("plaint_victim_{}", std::process::id());
    let s = setup(&db, &app);
    let engine = engine_over(&s.store);
    let id = ComplaintId::new("KILL-1").expect("valid");
    db.rt.0.block_on(async {
        let (before, locker) = received_and_locked(&engine, (&s.url, &s.schema), &id).await;
        let (k1, agent) = (CommandId::new("k-1").unwrap(), testing::agent());
        let attempt = engine.execute(k1, &id, evidence("k"), &agent);
        let killer = async {
            let watcher = raw(&s.url, &s.schema).await;
            let pid = waiting_backend(&watcher, &s.app).await;
            watcher
                .execute("SELECT pg_terminate_backend($1)", &[&pid])
                .await
                .expect("terminates");
        };
        let (got, ()) = tokio::join!(attempt, killer);
        let err = got.expect_err("the connection died under the append");
        assert_eq!(err.code(), "store_unavailable", "{err}");
        // The next call gets a fresh connection.
        nothing_applied_then_once(&engine, locker, &id, &before, "k-1").await;
    });
}

#[test]
fn an_append_abandoned_mid_transaction_applies_nothing() {
    let Some(db) = common::Db::new() else { return };
    let app = format!("plaint_dropped_{}", std::process::id());
    let s = setup(&db, &app);
    let engine = engine_over(&s.store);
    let id = ComplaintId::new("DROP-1").expect("valid");
    db.rt.0.block_on(async {
        let (before, locker) = received_and_locked(&engine, (&s.url, &s.schema), &id).await;
        {
            let (d1, agent) = (CommandId::new("d-1").unwrap(), testing::agent());
            let attempt = engine.execute(d1, &id, evidence("d"), &agent);
            tokio::pin!(attempt);
            let watcher = raw(&s.url, &s.schema).await;
            tokio::select! {
                _ = &mut attempt => panic!("the append cannot finish while the row is locked"),
                _ = waiting_backend(&watcher, &s.app) => {}
            }
            // `attempt` is dropped here, its transaction open on the server.
        }
        // The store's one connection is usable again.
        nothing_applied_then_once(&engine, locker, &id, &before, "d-1").await;
    });
}

#[test]
fn a_statement_timeout_is_unavailable_and_applies_nothing() {
    let Some(db) = common::Db::new() else { return };
    let schema = db.fresh_config().schema_name().expect("schema").to_owned();
    let config = PgConfig::new(&db.url)
        .expect("url")
        .schema(&schema)
        .expect("schema")
        .statement_timeout(Duration::from_millis(200));
    let store = db.rt.0.block_on(async {
        PgStore::migrate(&config).await.expect("migrates");
        PgStore::connect(config).await.expect("connects")
    });
    let engine = engine_over(&store);
    let id = ComplaintId::new("SLOW-1").expect("valid");
    db.rt.0.block_on(async {
        let (before, locker) = received_and_locked(&engine, (&db.url, &schema), &id).await;
        // The append waits for the lock until the server cancels it (200 ms).
        let s1 = CommandId::new("s-1").unwrap();
        let err = engine
            .execute(s1, &id, evidence("s"), &testing::agent())
            .await
            .expect_err("the statement times out");
        assert_eq!(err.code(), "store_unavailable", "{err}");
        nothing_applied_then_once(&engine, locker, &id, &before, "s-1").await;
    });
}

#[test]
fn a_call_outside_a_tokio_runtime_is_refused_not_a_panic() {
    let Some(db) = common::Db::new() else { return };
    let store = db.fresh();
    let id = ComplaintId::new("NO-RT").expect("valid");
    // A plain thread with no runtime, waiting as the blocking facade does.
    let outcome = std::thread::scope(|s| {
        s.spawn(|| plaint_core::blocking::block_on(store.load(&id)))
            .join()
            .expect("no panic")
    });
    let err = outcome.expect_err("refused");
    assert_eq!(
        err.code(),
        plaint_core::StoreFailure::Unavailable.code(),
        "{err}"
    );
    assert!(err.to_string().contains("outside a tokio runtime"), "{err}");
    // Inside the runtime the same store answers.
    assert_eq!(db.rt.0.block_on(store.load(&id)).expect("loads"), None);
}
