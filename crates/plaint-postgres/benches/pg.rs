//! PgStore against a real server (`PLAINT_PG_URL`; without it the bench says it skipped):
//!
//! - `commands/{instances}x{writers}`: commands per second (each receives a new complaint,
//!   so the state written stays one size however long the bench runs) with 1 and 16
//!   concurrent writers, from one engine instance and from two (each with its own pool);
//! - `due/1000 of N`: the due-index read a tick starts with, 1,000 due among N open
//!   complaints (N = 10,000 and `PLAINT_PG_DUE_OPEN`, 100,000 unless set; rows written
//!   straight into the table, since `due` reads only the index columns).
//!
//! Run: `PLAINT_PG_URL=postgres://root@127.0.0.1:5432/test cargo bench -p plaint-postgres`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plaint_core::testing::{self, t};
use plaint_core::{Command, CommandId, ComplaintId, Engine, ManualClock, Store};
use plaint_postgres::{PgConfig, PgStore};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn url() -> Option<String> {
    let url = std::env::var("PLAINT_PG_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        println!("skipped: PLAINT_PG_URL not set");
    }
    url
}

/// Runs SQL on a connection of its own.
async fn sql(url: &str, text: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connects");
    let task = tokio::spawn(conn);
    client.batch_execute(text).await.expect("sql runs");
    drop(client);
    let _ = task.await;
}

async fn fresh(url: &str, schema: &str, pool: usize) -> PgConfig {
    sql(url, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
    let config = PgConfig::new(url)
        .expect("url")
        .schema(schema)
        .expect("schema")
        .max_connections(pool);
    PgStore::migrate(&config).await.expect("migrates");
    config
}

fn commands(c: &mut Criterion) {
    let Some(url) = url() else { return };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("commands");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for instances in [1usize, 2] {
        for writers in [1usize, 16] {
            let config = rt.block_on(fresh(&url, "bench_commands", 16));
            let engines: Vec<_> = (0..instances)
                .map(|_| {
                    let store = rt
                        .block_on(PgStore::connect(config.clone()))
                        .expect("connects");
                    Arc::new(
                        Engine::builder(store, testing::policy())
                            .clock(Arc::new(ManualClock::new(t(1))))
                            .build(),
                    )
                })
                .collect();
            let agent = testing::agent();
            let counter = Arc::new(AtomicU64::new(0));
            group.bench_function(format!("{instances}x{writers}"), |b| {
                b.iter_custom(|iters| {
                    let per = iters.div_ceil(writers as u64);
                    let start = Instant::now();
                    rt.block_on(async {
                        let tasks: Vec<_> = (0..writers)
                            .map(|w| {
                                let engine = Arc::clone(&engines[w % instances]);
                                let (agent, counter) = (agent.clone(), Arc::clone(&counter));
                                tokio::spawn(async move {
                                    for _ in 0..per {
                                        let n = counter.fetch_add(1, Ordering::Relaxed);
                                        let id = ComplaintId::new(format!("B-{n}")).unwrap();
                                        let receive =
                                            Command::Receive(Arc::new(testing::intake(t(0))));
                                        engine
                                            .execute(
                                                CommandId::new(format!("c-{n}")).unwrap(),
                                                &id,
                                                receive,
                                                &agent,
                                            )
                                            .await
                                            .expect("executes");
                                    }
                                })
                            })
                            .collect();
                        for task in tasks {
                            task.await.expect("writer");
                        }
                    });
                    // Time per command: the wall time over the commands all writers ran.
                    start
                        .elapsed()
                        .mul_f64(iters as f64 / (per * writers as u64) as f64)
                });
            });
        }
    }
    group.finish();
    rt.block_on(sql(&url, "DROP SCHEMA IF EXISTS bench_commands CASCADE"));
}

fn due(c: &mut Criterion) {
    let Some(url) = url() else { return };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let large: u64 = std::env::var("PLAINT_PG_DUE_OPEN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut group = c.benchmark_group("due");
    group.sample_size(20);
    for open in [10_000u64, large] {
        let config = rt.block_on(fresh(&url, "bench_due", 4));
        // 1 in every open/1000 is due by `upto`; the rest fall due over the next year.
        let base = t(0).timestamp_nanos_opt().expect("in range");
        let step = open / 1000;
        rt.block_on(sql(
            &url,
            &format!(
                "SET search_path = bench_due;
                 INSERT INTO plaint_complaints (id, version, state, stage, next_due)
                 SELECT 'C-' || lpad(i::text, 8, '0'), 2, '{{}}'::jsonb, 'received',
                        CASE WHEN i % {step} = 0 THEN {base} + i
                             ELSE {base} + 3600000000000 + (random() * 31536000000000000)::bigint END
                 FROM generate_series(1, {open}) i;"
            ),
        ));
        rt.block_on(sql(&url, "VACUUM ANALYZE bench_due.plaint_complaints"));
        let store = rt.block_on(PgStore::connect(config)).expect("connects");
        let upto = t(0) + chrono::Duration::minutes(30);
        group.bench_function(format!("1000 of {open}"), |b| {
            b.iter(|| {
                let due = rt.block_on(store.due(upto, 1000)).expect("due");
                assert_eq!(due.len(), 1000);
            })
        });
    }
    group.finish();
    rt.block_on(sql(&url, "DROP SCHEMA IF EXISTS bench_due CASCADE"));
}

criterion_group!(benches, commands, due);
criterion_main!(benches);
