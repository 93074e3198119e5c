//! PgStore against a real server (`PLAINT_PG_URL`; without it the bench says it skipped).
//!
//! - `commands/pg {instances}x{writers}`: commands per second with 1 and 16 concurrent
//!   writers, from one engine instance and from two (each with its own pool); each command
//!   receives a new complaint (the state written stays one size however long it runs). Every
//!   command's latency is recorded, and p50/p99 printed after the group.
//! - `commands/file 1x{writers}`: the same workload on a `FileStore` (`Durability::Full`) in a
//!   temp dir: the single-process baseline.
//! - After the group, `pgbench` (from `PLAINT_PG_BIN`, else `PATH`) runs a script doing the
//!   equivalent writes per command — the engine's load, then in one transaction the
//!   complaint row, the command id, the events under the feed head's lock, with the
//!   same JSON — with 1 and 16 clients on the same server; a table prints the ratios.
//! - `tick/1000 due of N`: one `Engine::tick` firing the acknowledge clock (a warning and
//!   a breach each) of 1,000 due complaints among N open ones, N = 10,000 and
//!   `PLAINT_PG_TICK_OPEN` (100,000 unless set; 1,000,000 takes minutes to load). The rows
//!   are real complaints: each batch is one complaint received through the engine and
//!   copied in SQL (state, events, command id, feed positions) under new ids.
//!
//! Run: `PLAINT_PG_URL=postgres://root@127.0.0.1:5432/test cargo bench -p plaint-postgres`.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use plaint_core::testing::{self, t};
use plaint_core::{Command, CommandId, ComplaintId, Engine, ManualClock, Store};
use plaint_postgres::{PgConfig, PgStore};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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

/// A connection of its own, in `schema` when given.
async fn connect(url: &str, schema: Option<&str>) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connects");
    tokio::spawn(conn);
    if let Some(schema) = schema {
        client
            .batch_execute(&format!("SET search_path = {schema}"))
            .await
            .expect("search_path");
    }
    client
}

/// Runs SQL on a connection of its own.
async fn sql(url: &str, text: &str) {
    connect(url, None)
        .await
        .batch_execute(text)
        .await
        .expect("sql runs");
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

/// What the runs of one configuration added up to.
#[derive(Default)]
struct Stats {
    commands: u64,
    wall: Duration,
    latencies: Vec<Duration>,
}

impl Stats {
    fn rate(&self) -> f64 {
        self.commands as f64 / self.wall.as_secs_f64()
    }

    fn percentile(&mut self, p: f64) -> Duration {
        self.latencies.sort_unstable();
        let i = ((self.latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
        self.latencies.get(i).copied().unwrap_or_default()
    }
}

type Bench<S> = Engine<S, plaint_core::notify::DiscardNotifier, Arc<ManualClock>>;

/// `writers` tasks spread over `engines`, `per` new complaints each; the wall time and each
/// command's latency.
async fn drive<S: Store + 'static>(
    engines: &[Arc<Bench<S>>],
    writers: usize,
    per: u64,
    counter: &Arc<AtomicU64>,
) -> (Duration, Vec<Duration>) {
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let engine = Arc::clone(&engines[w % engines.len()]);
            let counter = Arc::clone(counter);
            tokio::spawn(async move {
                let agent = testing::agent();
                let mut latencies = Vec::with_capacity(per as usize);
                for _ in 0..per {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let id = ComplaintId::new(format!("B-{n}")).expect("valid");
                    let receive = Command::Receive(Arc::new(testing::intake(t(0))));
                    let command = CommandId::new(format!("c-{n}")).expect("valid");
                    let began = Instant::now();
                    engine
                        .execute(command, &id, receive, &agent)
                        .await
                        .expect("executes");
                    latencies.push(began.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("writer"));
    }
    (start.elapsed(), all)
}

fn bench_writers<S: Store + 'static>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &tokio::runtime::Runtime,
    name: &str,
    engines: &[Arc<Bench<S>>],
    writers: usize,
    stats: &Mutex<Stats>,
) {
    let counter = Arc::new(AtomicU64::new(0));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let per = iters.div_ceil(writers as u64);
            let (wall, latencies) = rt.block_on(drive(engines, writers, per, &counter));
            let ran = per * writers as u64;
            let mut s = stats.lock().expect("lock");
            s.commands += ran;
            s.wall += wall;
            s.latencies.extend(latencies);
            // Time per command: the wall time over the commands all writers ran.
            wall.mul_f64(iters as f64 / ran as f64)
        });
    });
}

fn engine<S: Store>(store: S) -> Arc<Bench<S>> {
    Arc::new(
        Engine::builder(store, testing::policy())
            .clock(Arc::new(ManualClock::new(t(1))))
            .build(),
    )
}

fn commands(c: &mut Criterion) {
    let Some(url) = url() else { return };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut stats: BTreeMap<String, Mutex<Stats>> = BTreeMap::new();
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
                    engine(store)
                })
                .collect();
            let name = format!("pg {instances}x{writers}");
            let s = stats.entry(name.clone()).or_default();
            bench_writers(&mut group, &rt, &name, &engines, writers, s);
        }
    }
    for writers in [1usize, 16] {
        let dir = tempfile::tempdir().expect("temp dir");
        let opened = rt.block_on(async {
            plaint_file::FileStore::open(
                dir.path(),
                plaint_file::Options::new().durability(plaint_file::Durability::Full),
            )
            .expect("opens")
        });
        let engines = [engine(opened.store)];
        let name = format!("file 1x{writers}");
        let s = stats.entry(name.clone()).or_default();
        bench_writers(&mut group, &rt, &name, &engines, writers, s);
    }
    group.finish();

    // The baseline, when the bench was not filtered out.
    let ran = stats.values().any(|s| s.lock().expect("lock").commands > 0);
    let pgbench: Vec<(usize, Option<(f64, f64)>)> = [1usize, 16]
        .into_iter()
        .filter(|_| ran)
        .map(|clients| (clients, rt.block_on(run_pgbench(&url, clients))))
        .collect();
    rt.block_on(sql(&url, "DROP SCHEMA IF EXISTS bench_commands CASCADE"));
    if !ran {
        return;
    }
    println!(
        "\n{:<14} {:>10} {:>10} {:>10}",
        "commands", "cmd/s", "p50", "p99"
    );
    let mut rates = BTreeMap::new();
    for (name, s) in stats {
        let mut s = s.into_inner().expect("lock");
        if s.commands == 0 {
            continue;
        }
        let (p50, p99) = (s.percentile(0.50), s.percentile(0.99));
        println!(
            "{name:<14} {:>10.0} {:>10.2?} {:>10.2?}",
            s.rate(),
            p50,
            p99
        );
        rates.insert(name, s.rate());
    }
    for (clients, result) in &pgbench {
        match result {
            Some((tps, latency)) => println!(
                "{:<14} {tps:>10.0} {:>10} {:>10}   (pgbench: tps, average latency {latency:.2} ms)",
                format!("pgbench -c{clients}"),
                "",
                ""
            ),
            None => println!("pgbench -c{clients}: not run (no pgbench, or it failed)"),
        }
    }
    let tps = |clients| {
        pgbench
            .iter()
            .find(|(c, _)| *c == clients)
            .and_then(|(_, r)| r.map(|(tps, _)| tps))
    };
    for (name, clients) in [
        ("pg 1x16", 16),
        ("pg 2x16", 16),
        ("pg 1x1", 1),
        ("pg 2x1", 1),
    ] {
        if let (Some(rate), Some(tps)) = (rates.get(name), tps(clients)) {
            println!("{name} / pgbench -c{clients}: {:.0} %", 100.0 * rate / tps);
        }
    }
    for writers in [1, 16] {
        let (pg, file) = (format!("pg 1x{writers}"), format!("file 1x{writers}"));
        if let (Some(pg_rate), Some(file_rate)) = (rates.get(&pg), rates.get(&file)) {
            println!("{pg} / {file}: {:.0} %", 100.0 * pg_rate / file_rate);
        }
    }
}

/// The machine's cores, tokio's default worker count: pgbench gets as many threads.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Escapes `text` as an SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Runs pgbench for 5 s with `clients` clients on a schema of its own, each transaction
/// the writes of one command, with the JSON the store wrote for the bench's last command;
/// `(tps, average latency in ms)`, or `None` when pgbench is missing or fails.
async fn run_pgbench(url: &str, clients: usize) -> Option<(f64, f64)> {
    let template = connect(url, Some("bench_commands")).await;
    let row = template
        .query_opt(
            "SELECT id, state::text, stage, tier, department, next_due FROM plaint_complaints
             ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await
        .expect("reads")?;
    let id: String = row.get(0);
    let events: Vec<String> = template
        .query(
            "SELECT recorded::text FROM plaint_events WHERE complaint = $1 ORDER BY version",
            &[&id],
        )
        .await
        .expect("reads")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let opt = |v: Option<String>| v.map_or("NULL".to_owned(), |s| literal(&s));
    let next_due: Option<i64> = row.get(5);
    let notify = if next_due.is_some() {
        "SELECT pg_notify('plaint_bench_pgbench', '');\n"
    } else {
        ""
    };
    let k = events.len();
    let array = events
        .iter()
        .map(|e| format!("{}::jsonb", literal(e)))
        .collect::<Vec<_>>()
        .join(", ");
    let script = format!(
        "\\set n random(1, 9000000000000000000)
SELECT state FROM plaint_complaints WHERE id = 'P-' || :n::text;
BEGIN;
INSERT INTO plaint_complaints (id, version, state, stage, tier, department, next_due) VALUES ('P-' || :n::text, {k}, {state}::jsonb, {stage}, {tier}, {department}, {due}) ON CONFLICT (id) DO NOTHING;
INSERT INTO plaint_commands (id, complaint, version) VALUES ('c-' || :n::text, 'P-' || :n::text, {k}) ON CONFLICT (id) DO NOTHING;
{notify}WITH head AS (UPDATE plaint_feed_head SET position = position + {k} RETURNING position - {k} AS base) INSERT INTO plaint_events (complaint, version, position, recorded) SELECT 'P-' || :n::text, e.n, head.base + e.n, e.r FROM head, unnest(ARRAY[{array}]) WITH ORDINALITY AS e(r, n);
COMMIT;
",
        state = literal(&row.get::<_, String>(1)),
        stage = literal(&row.get::<_, String>(2)),
        tier = opt(row.get(3)),
        department = opt(row.get(4)),
        due = next_due.map_or("NULL".to_owned(), |d| d.to_string()),
    );
    fresh(url, "bench_pgbench", 1).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("command.sql");
    std::fs::write(&path, script).expect("writes the script");
    let bin = std::env::var_os("PLAINT_PG_BIN")
        .map(|b| std::path::PathBuf::from(b).join("pgbench"))
        .unwrap_or_else(|| "pgbench".into());
    let out = std::process::Command::new(bin)
        .args(["-n", "-M", "prepared", "-T", "5"])
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            &clients.min(threads()).to_string(),
        ])
        .arg("-f")
        .arg(&path)
        .arg(url)
        .env("PGOPTIONS", "-c search_path=bench_pgbench")
        .output();
    sql(url, "DROP SCHEMA IF EXISTS bench_pgbench CASCADE").await;
    let out = out.ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        eprintln!(
            "pgbench failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    Some((field("tps = ")?, field("latency average = ")?))
}

/// Copies complaint `template` (its row, events, command id — named like the complaint —
/// and feed positions) `count` times as `{prefix}{i}`: real complaints the store loads,
/// written in a few statements.
async fn copy_complaint(
    client: &mut tokio_postgres::Client,
    template: &str,
    prefix: &str,
    count: i64,
) {
    let tx = client.transaction().await.expect("begins");
    let k: i64 = tx
        .query_one(
            "SELECT count(*) FROM plaint_events WHERE complaint = $1",
            &[&template],
        )
        .await
        .expect("counts")
        .get(0);
    let base: i64 = tx
        .query_one(
            "UPDATE plaint_feed_head SET position = position + $1 RETURNING position - $1",
            &[&(k * count)],
        )
        .await
        .expect("feed head")
        .get(0);
    let (quoted, new) = (format!("\"{template}\""), "'\"' || $2 || i::text || '\"'");
    tx.execute(
        &format!(
            "INSERT INTO plaint_complaints (id, version, state, stage, tier, department, next_due)
             SELECT $2 || i::text, c.version, replace(c.state::text, $1, {new})::jsonb,
                    c.stage, c.tier, c.department, c.next_due
             FROM plaint_complaints c, generate_series(1, $3::bigint) i WHERE c.id = $4"
        ),
        &[&quoted, &prefix, &count, &template],
    )
    .await
    .expect("copies the complaint");
    tx.execute(
        &format!(
            "INSERT INTO plaint_events (complaint, version, position, recorded)
             SELECT $2 || i::text, e.version, $5 + (i - 1) * $6 + e.version,
                    replace(e.recorded::text, $1, {new})::jsonb
             FROM plaint_events e, generate_series(1, $3::bigint) i WHERE e.complaint = $4"
        ),
        &[&quoted, &prefix, &count, &template, &base, &k],
    )
    .await
    .expect("copies the events");
    tx.execute(
        "INSERT INTO plaint_commands (id, complaint, version)
         SELECT $1 || i::text, $1 || i::text, m.version
         FROM plaint_commands m, generate_series(1, $2::bigint) i WHERE m.id = $3",
        &[&prefix, &count, &template],
    )
    .await
    .expect("copies the command id");
    tx.commit().await.expect("commits");
}

fn tick(c: &mut Criterion) {
    let Some(url) = url() else { return };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let large: i64 = std::env::var("PLAINT_PG_TICK_OPEN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut group = c.benchmark_group("tick");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(1000));
    let sizes: &[i64] = if large == 10_000 {
        &[10_000]
    } else {
        &[10_000, large]
    };
    for &open in sizes {
        let config = rt.block_on(fresh(&url, "bench_tick", 4));
        let store = rt.block_on(PgStore::connect(config)).expect("connects");
        let clock = Arc::new(ManualClock::new(t(0)));
        let engine = Engine::builder(store, testing::sla_policy())
            .clock(Arc::clone(&clock))
            .build();
        let mut client = rt.block_on(connect(&url, Some("bench_tick")));
        let receive = |id: &str, at| {
            clock.set(at);
            rt.block_on(engine.execute(
                CommandId::new(id).expect("valid"),
                &ComplaintId::new(id).expect("valid"),
                Command::Receive(Arc::new(testing::intake(at))),
                &testing::agent(),
            ))
            .expect("receives");
        };
        // The open complaints that are not due: received a year on, due after that.
        let loading = Instant::now();
        receive("bg", t(24 * 365));
        rt.block_on(copy_complaint(&mut client, "bg", "bg-", open - 1));
        rt.block_on(client.batch_execute("VACUUM ANALYZE"))
            .expect("vacuum");
        eprintln!(
            "tick: {open} open complaints loaded in {:.1?}",
            loading.elapsed()
        );
        let batch = AtomicU64::new(0);
        group.bench_function(format!("1000 due of {open}"), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    // Batch k: received at hour 2k, both its deadlines passed at 2k + 61 min.
                    let k = batch.fetch_add(1, Ordering::Relaxed) as i64;
                    let template = format!("due-{k}");
                    receive(&template, t(2 * k));
                    rt.block_on(copy_complaint(
                        &mut client,
                        &template,
                        &format!("d{k}-"),
                        999,
                    ));
                    clock.set(t(2 * k) + chrono::Duration::minutes(61));
                    let start = Instant::now();
                    let tick = rt.block_on(engine.tick()).expect("ticks");
                    timed += start.elapsed();
                    assert_eq!(tick.fired.len(), 2000, "a warning and a breach each");
                    assert!(tick.failed.is_empty());
                }
                timed
            })
        });
    }
    group.finish();
    rt.block_on(sql(&url, "DROP SCHEMA IF EXISTS bench_tick CASCADE"));
}

criterion_group!(benches, commands, tick);
criterion_main!(benches);
