//! Durable commits side by side — FileStore (`Durability::Full`), SQLite through rusqlite
//! (bundled; WAL; `synchronous=FULL`; one transaction per command) and a raw
//! `write` + `fdatasync` loop — at 1 and at 16 writers, with p50/p99 commit latency; and
//! FileStore's open time as history grows.
//!
//! The workload: the appends of the 12-command lifecycle (1 to 3 events each), replayed on
//! fresh complaint ids. FileStore writes the events (the state is their fold); SQLite writes
//! the events, the command id and the state row, as a SQLite-backed store would.
//!
//! Also what reads cost once complaints live in runs (`reads`).
//!
//! Run: `cargo bench --bench store`. Open time at scale:
//! `PLAINT_OPEN_COMPLAINTS=1000000 cargo bench --bench store -- open`, with complaints in
//! progress: `PLAINT_OPEN_IN_PROGRESS=10000`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plaint::blocking::Wait as _;
use plaint::file::{Durability, FileStore, Options};
use plaint::{Append, Complaint, Recorded, Store, testing};
use rusqlite::{Connection, TransactionBehavior, params};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod support;

/// One lifecycle's appends, and the state after each.
struct Template {
    appends: Vec<Append>,
    states: Vec<Complaint>,
}

fn template(policy: plaint::Policy) -> Template {
    let appends = support::appends(policy);
    let mut states: Vec<Complaint> = Vec::new();
    for a in &appends {
        let mut state = states.last().cloned();
        for r in &a.events {
            match &mut state {
                Some(c) => c.apply(r),
                None => state = Complaint::open(a.complaint.clone(), r),
            }
        }
        states.push(state.unwrap());
    }
    Template { appends, states }
}

impl Template {
    /// The `k`th append of complaint `n`.
    fn append(&self, n: u64, k: usize) -> Append {
        support::renumber(&self.appends[k], n, k)
    }
}

/// A backend under test: commits append `k` of complaint `n` for writer `w`.
trait Sink: Sync {
    fn commit(&self, w: usize, n: u64, k: usize);
}

struct FileSink<'t> {
    store: FileStore,
    t: &'t Template,
}

impl Sink for FileSink<'_> {
    fn commit(&self, _w: usize, n: u64, k: usize) {
        self.store.append(self.t.append(n, k)).wait().unwrap();
    }
}

struct SqliteSink<'t> {
    connections: Vec<Mutex<Connection>>,
    t: &'t Template,
}

impl<'t> SqliteSink<'t> {
    fn new(dir: &Path, writers: usize, t: &'t Template) -> Self {
        let open = || {
            let c = Connection::open(dir.join("bench.sqlite")).unwrap();
            c.pragma_update(None, "journal_mode", "WAL").unwrap();
            c.pragma_update(None, "synchronous", "FULL").unwrap();
            c.busy_timeout(Duration::from_secs(30)).unwrap();
            c
        };
        open()
            .execute_batch(
                "CREATE TABLE complaints(id TEXT PRIMARY KEY, version INTEGER NOT NULL, state BLOB NOT NULL);
                 CREATE TABLE events(complaint TEXT, version INTEGER, event BLOB NOT NULL,
                                     PRIMARY KEY (complaint, version)) WITHOUT ROWID;
                 CREATE TABLE commands(id TEXT PRIMARY KEY, complaint TEXT NOT NULL,
                                       version INTEGER NOT NULL) WITHOUT ROWID;",
            )
            .unwrap();
        Self {
            connections: (0..writers).map(|_| Mutex::new(open())).collect(),
            t,
        }
    }
}

impl Sink for SqliteSink<'_> {
    fn commit(&self, w: usize, n: u64, k: usize) {
        let a = self.t.append(n, k);
        let state = serde_json::to_vec(&self.t.states[k]).unwrap();
        let mut c = self.connections[w % self.connections.len()].lock().unwrap();
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        let id = a.complaint.as_str();
        let version: i64 = tx
            .query_row("SELECT version FROM complaints WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap_or(0);
        assert_eq!(version as u64, a.expected_version);
        tx.execute(
            "INSERT INTO commands(id, complaint, version) VALUES (?1, ?2, ?3)",
            params![a.command.as_str(), id, a.new_version() as i64],
        )
        .unwrap();
        for e in &a.events {
            tx.execute(
                "INSERT INTO events(complaint, version, event) VALUES (?1, ?2, ?3)",
                params![id, e.version as i64, serde_json::to_vec(e).unwrap()],
            )
            .unwrap();
        }
        tx.execute(
            "INSERT OR REPLACE INTO complaints(id, version, state) VALUES (?1, ?2, ?3)",
            params![id, a.new_version() as i64, state],
        )
        .unwrap();
        tx.commit().unwrap();
    }
}

/// The raw loop: each command's events as one JSON frame, `write` then `fdatasync`, `batch`
/// commands per sync.
struct RawSink<'t> {
    file: Mutex<(File, usize)>,
    batch: usize,
    t: &'t Template,
}

impl Sink for RawSink<'_> {
    fn commit(&self, _w: usize, n: u64, k: usize) {
        let a = self.t.append(n, k);
        let events: &[Recorded] = &a.events;
        let payload = serde_json::to_vec(events).unwrap();
        let mut frame = Vec::with_capacity(payload.len() + 8);
        frame.extend((payload.len() as u32).to_le_bytes());
        frame.extend(crc32c::crc32c(&payload).to_le_bytes());
        frame.extend(payload);
        let mut f = self.file.lock().unwrap();
        f.0.write_all(&frame).unwrap();
        f.1 += 1;
        if f.1 == self.batch {
            f.0.sync_data().unwrap();
            f.1 = 0;
        }
    }
}

/// Commit latencies of the current benchmark, for p50/p99.
static LATENCIES: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(1);

/// `iters` commits spread over `writers` threads, each running whole lifecycles on its own
/// complaints (12 appends in order), timing each commit.
fn run(sink: &dyn Sink, writers: usize, iters: u64, appends: usize) -> Duration {
    let per = iters.div_ceil(writers as u64);
    let start = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            s.spawn(move || {
                let mut lat = Vec::with_capacity(per as usize);
                let mut done = 0;
                while done < per {
                    let n = NEXT.fetch_add(1, Ordering::Relaxed);
                    for k in 0..appends {
                        if done == per {
                            break;
                        }
                        let t = Instant::now();
                        sink.commit(w, n, k);
                        lat.push(t.elapsed());
                        done += 1;
                    }
                }
                LATENCIES.lock().unwrap().extend(lat);
            });
        }
    });
    start
        .elapsed()
        .mul_f64(iters as f64 / (per * writers as u64) as f64)
}

fn report(name: &str) {
    let mut lat = std::mem::take(&mut *LATENCIES.lock().unwrap());
    lat.sort_unstable();
    if lat.is_empty() {
        return;
    }
    let p = |q: f64| lat[((lat.len() - 1) as f64 * q) as usize];
    eprintln!(
        "{name}: {} commits, p50 {:?}, p99 {:?}, p99.99 {:?}, max {:?}",
        lat.len(),
        p(0.5),
        p(0.99),
        p(0.9999),
        lat[lat.len() - 1]
    );
}

fn commits(c: &mut Criterion) {
    let t = template(testing::policy());
    let appends = t.appends.len();
    let mut g = c.benchmark_group("commit");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    for writers in [1usize, 16] {
        let dir = tempfile::tempdir_in(bench_dir()).unwrap();
        file_bench(&mut g, &t, dir.path(), writers, Durability::Full);

        // SQLite with a connection per writer, and with one connection they share (SQLite
        // serialises writers anyway; sharing spares them its busy-wait back-off).
        let mut sqlite = vec![(format!("sqlite/{writers}"), writers)];
        if writers > 1 {
            sqlite.push((format!("sqlite-shared/{writers}"), 1));
        }
        for (name, connections) in sqlite {
            let mut sink = None;
            g.bench_function(&name, |b| {
                let sink = sink.get_or_insert_with(|| {
                    let path = dir.path().join(name.replace('/', "-"));
                    std::fs::create_dir_all(&path).unwrap();
                    SqliteSink::new(&path, connections, &t)
                });
                b.iter_custom(|i| run(sink, writers, i, appends))
            });
            report(&name);
        }

        // The raw loop at batch sizes around FileStore's mean group commit (printed above).
        let batches: &[usize] = if writers == 1 { &[1] } else { &[8, 16] };
        for &batch in batches {
            let name = format!("raw-batch-{batch}/1");
            let mut sink = None;
            g.bench_function(&name, |b| {
                let sink = sink.get_or_insert_with(|| {
                    let file = File::create(dir.path().join(format!("raw-{batch}.log"))).unwrap();
                    RawSink {
                        file: Mutex::new((file, 0)),
                        batch,
                        t: &t,
                    }
                });
                b.iter_custom(|i| run(sink, 1, i, appends))
            });
            report(&name);
        }
    }
    // Buffered last: the data it leaves unsynced is written back by the kernel later and
    // would slow the syncs of whatever ran next.
    let dir = tempfile::tempdir_in(bench_dir()).unwrap();
    for writers in [1usize, 16] {
        file_bench(&mut g, &t, dir.path(), writers, Durability::Buffered);
    }
    g.finish();
}

/// FileStore at `writers` writers and `durability`, with its mean group commit.
fn file_bench(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    t: &Template,
    dir: &Path,
    writers: usize,
    durability: Durability,
) {
    let appends = t.appends.len();
    let name = match durability {
        Durability::Full => format!("file/{writers}"),
        _ => format!("file-buffered/{writers}"),
    };
    let mut sink = None;
    g.bench_function(&name, |b| {
        let sink = sink.get_or_insert_with(|| {
            let path = dir.join(name.replace('/', "-"));
            let options = Options::new().durability(durability);
            let store = FileStore::open(path, options).unwrap().store;
            FileSink { store, t }
        });
        b.iter_custom(|i| run(sink, writers, i, appends));
    });
    if let Some(sink) = sink {
        let stats = sink.store.stats();
        eprintln!(
            "{name}: mean group commit {:.1} records",
            stats.records as f64 / stats.frames as f64
        );
    }
    report(&name);
}

/// Where the benches put their files: `PLAINT_BENCH_DIR`, or the system's temporary directory.
fn bench_dir() -> std::path::PathBuf {
    std::env::var_os("PLAINT_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into)
}

/// Builds a store of `closed` whole lifecycles and then `in_progress` half ones, whose clocks
/// run (Buffered, checkpointing as it goes, then synced and checkpointed).
fn build(dir: &Path, t: &Template, closed: u64, in_progress: u64) {
    let options = Options::new().durability(Durability::Buffered);
    let store = FileStore::open(dir, options).unwrap().store;
    for n in 0..closed + in_progress {
        let steps = if n < closed {
            t.appends.len()
        } else {
            t.appends.len() / 2
        };
        for k in 0..steps {
            store.append(t.append(n, k)).wait().unwrap();
        }
    }
    store.checkpoint().unwrap();
    store.sync().unwrap();
}

/// Open time: `PLAINT_OPEN_COMPLAINTS` closed complaints (default 10,000 and 100,000) plus
/// `PLAINT_OPEN_IN_PROGRESS` (default 0) in progress with running clocks, which stay in memory.
fn open(c: &mut Criterion) {
    // With clocks: a complaint in progress has a timer due, so it stays in memory.
    let t = template(testing::sla_policy());
    let sizes: Vec<u64> = match std::env::var("PLAINT_OPEN_COMPLAINTS") {
        Ok(s) => s.split(',').map(|n| n.trim().parse().unwrap()).collect(),
        Err(_) => vec![10_000, 100_000],
    };
    let hot: u64 = std::env::var("PLAINT_OPEN_IN_PROGRESS").map_or(0, |s| s.parse().unwrap());
    let mut g = c.benchmark_group("open");
    g.sample_size(10);
    for n in sizes {
        let mut built = None;
        g.bench_function(format!("{n}+{hot}"), |b| {
            let dir = built.get_or_insert_with(|| {
                let dir = tempfile::tempdir_in(bench_dir()).unwrap();
                let started = Instant::now();
                build(dir.path(), &t, n, hot);
                let bytes: u64 = std::fs::read_dir(dir.path())
                    .unwrap()
                    .map(|e| e.unwrap().metadata().unwrap().len())
                    .sum();
                let events: u64 = t.appends.iter().map(|a| a.events.len() as u64).sum();
                eprintln!(
                    "open/{n}+{hot}: built {n} closed complaints ({} events) and {hot} in \
                     progress in {:?}, {} MB on disk",
                    n * events,
                    started.elapsed(),
                    bytes >> 20
                );
                dir
            });
            b.iter(|| FileStore::open(dir.path(), Options::new()).unwrap())
        });
    }
    g.finish();
}

/// Reads once complaints live in runs: a store of 100,000 closed complaints
/// (`PLAINT_READS_COMPLAINTS`), checkpointed, reopened; a complaint's state, its history, a
/// recorded command, an unknown command (what every new command asks) and a page of 100.
fn reads(c: &mut Criterion) {
    let t = template(testing::sla_policy());
    let n: u64 = std::env::var("PLAINT_READS_COMPLAINTS").map_or(100_000, |s| s.parse().unwrap());
    let dir = tempfile::tempdir_in(bench_dir()).unwrap();
    build(dir.path(), &t, n, 0);
    let store = FileStore::open(dir.path(), Options::new()).unwrap().store;
    let mut g = c.benchmark_group("reads");
    let mut i = 0u64;
    let mut next = move || {
        // A stride through the ids, so that reads do not hit the same nodes.
        i = (i + 7_919) % n;
        i
    };
    let id = |k: u64| plaint::ComplaintId::new(format!("EXP-{k:07}")).unwrap();
    g.bench_function("load", |b| {
        b.iter(|| store.load(&id(next())).wait().unwrap().unwrap())
    });
    g.bench_function("history", |b| {
        b.iter(|| store.history(&id(next())).wait().unwrap())
    });
    g.bench_function("command-recorded", |b| {
        b.iter(|| {
            let cmd = plaint::CommandId::new(format!("{}-3", next())).unwrap();
            store.command(&cmd).wait().unwrap().unwrap()
        })
    });
    g.bench_function("command-unknown", |b| {
        b.iter(|| {
            let cmd = plaint::CommandId::new(format!("new-{}", next())).unwrap();
            assert!(store.command(&cmd).wait().unwrap().is_none())
        })
    });
    g.bench_function("list-100", |b| {
        b.iter(|| {
            let q = plaint::ListQuery::new().after(id(next())).limit(100);
            store.list(&q).wait().unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, commits, open, reads);
criterion_main!(benches);
