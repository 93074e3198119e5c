//! The server restarted mid-run. The test runs a PostgreSQL of its own (never the shared
//! one): `initdb` and `pg_ctl` from `PLAINT_PG_BIN` (e.g. `/usr/lib/postgresql/15/bin`; the
//! test says it skipped when unset), as the `postgres` OS user when run as root, in a temp
//! dir on a free port. While an engine executes commands and ticks, the server is stopped in
//! immediate mode (a crash): calls fail with `Unavailable` errors; once it is back the same
//! engine carries on with no reconnect code here, and the failed commands, retried under
//! their ids, are applied once.

mod common;

use plaint_core::testing::{self, t};
use plaint_core::{
    Command, CommandId, Complaint, ComplaintId, Engine, EngineError, ManualClock, Store as _,
};
use plaint_postgres::{PgConfig, PgStore};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A private server: its data directory, socket directory and port.
struct Server {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Server {
    /// `None` (and a line saying the test skipped) without `PLAINT_PG_BIN`.
    fn init() -> Option<Self> {
        let Some(bin) = std::env::var_os("PLAINT_PG_BIN").filter(|b| !b.is_empty()) else {
            println!("skipped: PLAINT_PG_BIN not set");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        // initdb refuses to run as root: the server's files belong to `postgres` then.
        if as_root() {
            let out = std::process::Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(out.success(), "chown the temp dir to postgres");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("addr")
            .port();
        let server = Self {
            bin: bin.into(),
            dir,
            port,
        };
        server.run(
            "initdb",
            &[
                "-D",
                &server.data(),
                "-U",
                "plaint",
                "--auth=trust",
                "--no-sync",
                "--no-instructions",
            ],
        );
        Some(server)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Runs one of the server's programs (as `postgres` when we are root); panics if it fails.
    fn run(&self, program: &str, args: &[&str]) {
        let exe = Path::new(&self.bin).join(program);
        let mut command = if as_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            std::process::Command::new(exe)
        };
        let out = command.args(args).output().expect("runs");
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server as a crash would: no checkpoint, every connection cut.
    fn crash(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://plaint@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Whatever happened, leave no server behind (an error: it was not running).
        let exe = Path::new(&self.bin).join("pg_ctl");
        let mut command = if as_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            std::process::Command::new(exe)
        };
        let _ = command
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
    }
}

fn as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn cmd(s: &str) -> CommandId {
    CommandId::new(s).expect("valid")
}

fn cid(s: &str) -> ComplaintId {
    ComplaintId::new(s).expect("valid")
}

/// Command `n`: a new complaint every third, else evidence on an earlier one.
fn command(n: usize, now: plaint_core::Timestamp) -> (ComplaintId, Command) {
    if n.is_multiple_of(3) {
        (
            cid(&format!("R-{n}")),
            Command::Receive(Arc::new(testing::intake(now))),
        )
    } else {
        (
            cid(&format!("R-{}", n - n % 3)),
            Command::AddEvidence(plaint_core::model::Evidence {
                kind: plaint_core::model::EvidenceKind::Photo,
                reference: format!("photo-{n}").into(),
                content_hash: None,
            }),
        )
    }
}

fn unavailable(e: &EngineError) -> bool {
    e.code() == "store_unavailable"
}

#[test]
fn the_engine_carries_on_after_the_server_restarts() {
    let Some(server) = Server::init() else { return };
    server.start();
    let rt = common::Rt::new();
    let config = PgConfig::new(&server.url())
        .expect("url")
        .max_connections(4)
        .statement_timeout(std::time::Duration::from_secs(5));
    let store = rt.0.block_on(async {
        PgStore::migrate(&config).await.expect("migrates");
        PgStore::connect(config).await.expect("connects")
    });
    let clock = Arc::new(ManualClock::new(t(0)));
    let engine = Engine::builder(store.clone(), testing::sla_policy())
        .clock(Arc::clone(&clock))
        .build();
    let agent = testing::agent();

    // Commands and ticks run on while the server crashes and comes back; the time moves
    // 10 minutes a command so deadlines fall due and ticks fire.
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (acked, failed, tick_errors) = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let (mut acked, mut failed, mut tick_errors) = (Vec::new(), Vec::new(), 0);
            while !stop.load(Ordering::SeqCst) {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let now = t(0) + chrono::Duration::minutes(10 * n as i64);
                clock.set(now);
                let (id, c) = command(n, now);
                match rt
                    .0
                    .block_on(engine.execute(cmd(&format!("c-{n}")), &id, c, &agent))
                {
                    Ok(_) => acked.push(n),
                    Err(e) if unavailable(&e) => failed.push(n),
                    // Evidence for a complaint whose receipt failed: retried with it.
                    Err(EngineError::Rejected(_)) if failed.contains(&(n - n % 3)) => {
                        failed.push(n)
                    }
                    Err(e) => panic!("command {n}: {e}"),
                }
                match rt.0.block_on(engine.tick()) {
                    Ok(tick) => assert!(tick.failed.is_empty(), "{:?}", tick.failed),
                    Err(e) if unavailable(&e) => {
                        tick_errors += 1;
                        // A client's back-off: do not spin while the server is away.
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    Err(e) => panic!("tick: {e}"),
                }
            }
            (acked, failed, tick_errors)
        });
        let wait_for = |n: usize| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while next.load(Ordering::SeqCst) < n && !writer.is_finished() {
                assert!(std::time::Instant::now() < deadline, "the writer is stuck");
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        };
        wait_for(30);
        server.crash();
        let during = next.load(Ordering::SeqCst);
        // While the server is down, every kind of call fails with a typed error.
        rt.0.block_on(async {
            let e = engine
                .execute(cmd("down"), &cid("R-0"), Command::Acknowledge, &agent)
                .await
                .expect_err("no server");
            assert!(unavailable(&e), "{e}");
            let e = engine.get(&cid("R-0")).await.expect_err("no server");
            assert!(unavailable(&e), "{e}");
            let e = engine.tick().await.expect_err("no server");
            assert!(unavailable(&e), "{e}");
            let e = engine.relay().await.expect_err("no server");
            assert!(unavailable(&e), "{e}");
        });
        wait_for(during + 5);
        server.start();
        let back = next.load(Ordering::SeqCst);
        wait_for(back + 30);
        stop.store(true, Ordering::SeqCst);
        writer.join().expect("writer")
    });
    assert!(
        !failed.is_empty(),
        "commands failed while the server was down"
    );
    assert!(tick_errors > 0, "ticks failed while the server was down");

    rt.0.block_on(async {
        // The same engine, the same ids: each failed command is applied now, or answered
        // from the store if its commit made it before the crash; never applied twice.
        let mut retried = 0;
        for &n in &failed {
            let now = t(0) + chrono::Duration::minutes(10 * n as i64);
            clock.set(now);
            let (id, c) = command(n, now);
            match engine.execute(cmd(&format!("c-{n}")), &id, c, &agent).await {
                Ok(_) => retried += 1,
                // Evidence for a complaint whose receipt was itself lost and is retried
                // after it, in this order: refused, nothing changed; it is retried below.
                Err(EngineError::Rejected(_)) if !n.is_multiple_of(3) => {}
                Err(e) => panic!("retry of {n}: {e}"),
            }
        }
        for &n in &failed {
            let now = t(0) + chrono::Duration::minutes(10 * n as i64);
            let (id, c) = command(n, now);
            engine
                .execute(cmd(&format!("c-{n}")), &id, c, &agent)
                .await
                .unwrap_or_else(|e| panic!("second retry of {n}: {e}"));
        }
        assert!(retried > 0);
        engine.tick().await.expect("ticks after the restart");
        engine.relay().await.expect("relays after the restart");

        // A command's own event (a receipt, an evidence) per command id: once each.
        let mut applied: HashMap<String, Vec<(ComplaintId, u64)>> = HashMap::new();
        let mut events = 0;
        for id in common::all_ids(&store).await {
            let history = store.history(&id).await.expect("history");
            let mut items = HashSet::new();
            for r in &history {
                if matches!(r.event.kind().name(), "received" | "evidence_added") {
                    applied
                        .entry(r.command.to_string())
                        .or_default()
                        .push((id.clone(), r.version));
                }
                if let Some(item) = common::firing(r) {
                    assert!(items.insert(item.clone()), "{id}: {item:?} fired twice");
                }
            }
            let state = store.load(&id).await.expect("loads").expect("exists");
            assert_eq!(*state, Complaint::replay(id.clone(), &history).expect("replays"));
            events += history.len();
        }
        for n in acked.iter().chain(&failed) {
            let key = format!("c-{n}");
            assert!(
                store.command(&cmd(&key)).await.expect("reads").is_some(),
                "command {key} is recorded"
            );
            let recorded = &applied[&key];
            assert_eq!(recorded.len(), 1, "{key} applied once: {recorded:?}");
        }
        let feed = common::whole_feed(&store).await;
        assert_eq!(feed.len(), events, "the feed holds every event once");
        eprintln!(
            "{} commands acknowledged before/after the crash, {} failed and retried, {} ticks failed",
            acked.len(),
            failed.len(),
            tick_errors
        );
    });
}
