//! The store's writer and checkpoint threads: an append issued while a checkpoint is being
//! written completes without waiting for it; a future dropped once its record is handed over
//! leaves the record written whole; `close` finishes what was handed over, joins the threads
//! and frees the directory, and a reopen sees everything.
//!
//! A file layer with a gate (`Gated`) holds a checkpoint, or the writer's sync, exactly where
//! the test wants it, so nothing here depends on timing. Waits for another thread are bounded
//! (`BOUND`) only so that a regression fails instead of hanging the test run.

mod common;

use common::{check, command_id, complaint_id, engine, step};
use plaint_core::{ManualClock, testing};
use plaint_file::fs::{Fs, ReadFile, WriteFile};
use plaint_file::{FileStore, Options, SimFs};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Waker};
use std::time::Duration;

/// How long a test waits for another thread before it calls it stuck: far beyond what any
/// of these steps takes, never reached when the store behaves.
const BOUND: Duration = Duration::from_secs(60);

/// Holds whoever creates or syncs a file whose name ends with the armed suffix, until opened.
#[derive(Debug, Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    armed: Option<&'static str>,
    held: usize,
}

impl Gate {
    fn arm(&self, suffix: &'static str) {
        self.state.lock().unwrap().armed = Some(suffix);
    }

    fn open(&self) {
        self.state.lock().unwrap().armed = None;
        self.changed.notify_all();
    }

    fn pass(&self, path: &Path) {
        let name = path.to_string_lossy();
        let mut s = self.state.lock().unwrap();
        if !s.armed.is_some_and(|suffix| name.ends_with(suffix)) {
            return;
        }
        s.held += 1;
        self.changed.notify_all();
        while s.armed.is_some_and(|suffix| name.ends_with(suffix)) {
            s = self.changed.wait(s).unwrap();
        }
        s.held -= 1;
    }

    /// Waits until someone is held (bounded, see `BOUND`).
    fn wait_held(&self) {
        let s = self.state.lock().unwrap();
        let (s, timeout) = self
            .changed
            .wait_timeout_while(s, BOUND, |s| s.held == 0)
            .unwrap();
        assert!(
            !timeout.timed_out() && s.held > 0,
            "nobody reached the gate"
        );
    }

    fn held(&self) -> usize {
        self.state.lock().unwrap().held
    }
}

/// `SimFs` behind a gate.
#[derive(Debug, Clone)]
struct Gated {
    fs: SimFs,
    gate: Arc<Gate>,
}

struct GatedFile {
    file: Box<dyn WriteFile>,
    path: PathBuf,
    gate: Arc<Gate>,
}

impl WriteFile for GatedFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.write_all(buf)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.gate.pass(&self.path);
        self.file.sync_data()
    }
}

impl Gated {
    fn wrap(&self, path: &Path, file: Box<dyn WriteFile>) -> Box<dyn WriteFile> {
        Box::new(GatedFile {
            file,
            path: path.to_path_buf(),
            gate: Arc::clone(&self.gate),
        })
    }
}

impl Fs for Gated {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.fs.create_dir_all(dir)
    }
    fn lock(&self, dir: &Path) -> io::Result<Box<dyn Send + Sync>> {
        self.fs.lock(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.fs.list(dir)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.fs.read(path)
    }
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn ReadFile>> {
        self.fs.open_read(path)
    }
    fn create(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        self.gate.pass(path);
        Ok(self.wrap(path, self.fs.create(path)?))
    }
    fn append(&self, path: &Path) -> io::Result<Box<dyn WriteFile>> {
        Ok(self.wrap(path, self.fs.append(path)?))
    }
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        self.fs.truncate(path, len)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.fs.rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        self.fs.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.fs.sync_dir(dir)
    }
}

fn gated() -> (Gated, Arc<Gate>) {
    let gate = Arc::new(Gate::default());
    let fs = Gated {
        fs: SimFs::new(),
        gate: Arc::clone(&gate),
    };
    (fs, gate)
}

fn dir() -> &'static Path {
    Path::new("/db")
}

/// Runs steps on a thread of its own, one per request, answering whether each was
/// acknowledged: the test thread can then tell a step that waits from one that is done.
struct Stepper {
    steps: mpsc::Sender<u64>,
    done: mpsc::Receiver<(u64, bool)>,
    thread: std::thread::JoinHandle<common::Eng>,
}

impl Stepper {
    fn new(engine: common::Eng) -> Self {
        let (steps, todo) = mpsc::channel::<u64>();
        let (answer, done) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            for i in todo {
                if answer.send((i, step(&engine, i).is_ok())).is_err() {
                    break;
                }
            }
            engine
        });
        Self {
            steps,
            done,
            thread,
        }
    }

    /// Runs step `i`; panics if it is not done within `BOUND`.
    fn step(&self, i: u64) -> bool {
        self.steps.send(i).unwrap();
        let (j, ok) = self
            .done
            .recv_timeout(BOUND)
            .unwrap_or_else(|_| panic!("step {i} is stuck"));
        assert_eq!(i, j);
        ok
    }

    fn engine(self) -> common::Eng {
        drop(self.steps);
        self.thread.join().unwrap()
    }
}

/// A checkpoint that appends make due is written on the store's own thread: held there (its
/// snapshot cannot be created), it keeps holding while the append that made it due and the
/// appends after it are acknowledged. (When the append that crossed the line wrote the
/// checkpoint itself, that step never came back here.)
#[test]
fn appends_complete_while_a_checkpoint_is_held_mid_write() {
    let (fs, gate) = gated();
    let options = Options::new()
        .checkpoint_after(Some(2 << 10))
        .fs(Arc::new(fs.clone()));
    let store = FileStore::open(dir(), options.clone()).unwrap().store;
    gate.arm(".snap.tmp");
    let (engine, _) = engine(store);
    let stepper = Stepper::new(engine);
    let mut next = 0;
    // Until a checkpoint is due and its thread reaches the gate.
    while gate.held() == 0 {
        assert!(stepper.step(next), "step {next}");
        next += 1;
        assert!(next < 1000, "no checkpoint was made due");
    }
    gate.wait_held();
    let due_at = next;
    for _ in 0..30 {
        assert!(stepper.step(next), "step {next} during the checkpoint");
        next += 1;
    }
    // All of them acknowledged while the checkpoint still could not write its snapshot.
    assert_eq!(gate.held(), 1, "the checkpoint is still held");
    let engine = stepper.engine();
    let store = engine.into_store();
    assert!(store.stats().frames >= 30, "{:?}", store.stats());
    gate.open();
    store.close().expect("closes");

    let reopened = FileStore::open(dir(), options).unwrap();
    let acked: Vec<u64> = (0..next).collect();
    check(&reopened.store, &acked, &[], next);
    // It starts from the snapshot the held checkpoint wrote once let go, not the first.
    let first = dir().join(format!("snapshot-{:020}.snap", 1));
    assert!(
        reopened
            .report
            .snapshot
            .as_ref()
            .is_some_and(|s| *s != first),
        "made due at step {due_at}: {:?}",
        reopened.report
    );
    assert!(reopened.report.resumed.is_none(), "{:?}", reopened.report);
}

/// An explicit checkpoint waits for the one under way, then writes its own; appends go on.
#[test]
fn an_explicit_checkpoint_waits_for_the_one_under_way() {
    let (fs, gate) = gated();
    let options = Options::new()
        .checkpoint_after(Some(2 << 10))
        .fs(Arc::new(fs.clone()));
    let store = FileStore::open(dir(), options.clone()).unwrap().store;
    gate.arm(".snap.tmp");
    let (engine, _) = engine(store);
    let stepper = Stepper::new(engine);
    let mut next = 0;
    while gate.held() == 0 {
        assert!(stepper.step(next));
        next += 1;
        assert!(next < 1000, "no checkpoint was made due");
    }
    let engine = Arc::new(stepper.engine());
    let (tx, rx) = mpsc::channel();
    let explicit = {
        let engine = Arc::clone(&engine);
        std::thread::spawn(move || tx.send(engine.store().checkpoint().is_ok()).unwrap())
    };
    // It is waiting for the held one (a step still goes through meanwhile).
    step(&engine, next).unwrap();
    next += 1;
    assert!(
        rx.try_recv().is_err(),
        "returned while a checkpoint was held"
    );
    gate.open();
    assert!(
        rx.recv_timeout(BOUND)
            .expect("the explicit checkpoint ends")
    );
    explicit.join().unwrap();
    let engine = Arc::into_inner(engine).unwrap();
    engine.into_store().close().unwrap();
    let reopened = FileStore::open(dir(), options).unwrap();
    check(&reopened.store, &(0..next).collect::<Vec<_>>(), &[], next);
    // The explicit one wrote a checkpoint of its own after the held one: nothing replays.
    assert_eq!(reopened.report.records, 0, "{:?}", reopened.report);
}

/// A future dropped after its first poll has handed its record over: the record is written
/// whole (the caller just does not learn so), and `close` writes it before it returns. The
/// writer's sync is held so that the poll cannot have been answered yet.
#[test]
fn a_dropped_append_is_written_whole_and_close_finishes_it() {
    let (fs, gate) = gated();
    let options = Options::new().fs(Arc::new(fs.clone()));
    let store = FileStore::open(dir(), options.clone()).unwrap().store;
    let (engine, _) = engine(store);
    step(&engine, 0).unwrap();
    let store = engine.into_store();
    let engine = plaint_core::Engine::builder(store, testing::policy())
        .clock(ManualClock::new(testing::t(1)))
        .build();
    gate.arm(".log");
    let (id, agent) = (complaint_id(3), testing::agent());
    {
        let execute = engine.execute(command_id(3), &id, common::command(3), &agent);
        let mut execute = std::pin::pin!(execute);
        let poll = execute
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(poll.is_pending(), "answered before its sync");
    }
    gate.wait_held();
    gate.open();
    let store = engine.into_store();
    store.close().expect("closes");
    let reopened = FileStore::open(dir(), options).unwrap().store;
    check(&reopened, &[0, 3], &[], 6);
}

/// `close` joins the store's threads and frees the directory: a reopen right after it (no
/// waiting) sees every acknowledged command, with checkpoints made by the thread on the way.
#[test]
fn close_joins_and_a_reopen_sees_everything() {
    let root = tempfile::tempdir().unwrap();
    let options = Options::new().checkpoint_after(Some(4 << 10));
    let mut next = 0;
    for round in 0..3 {
        let store = FileStore::open(root.path(), options.clone()).unwrap().store;
        let (engine, _) = engine(store);
        check(engine.store(), &(0..next).collect::<Vec<_>>(), &[], next);
        for _ in 0..90 {
            step(&engine, next).unwrap_or_else(|e| panic!("round {round}, step {next}: {e}"));
            next += 1;
        }
        engine.into_store().close().expect("closes");
    }
    let runs = std::fs::read_dir(root.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "tbl")
        })
        .count();
    assert!(runs > 0, "checkpoints moved complaints to runs");
    let reopened = FileStore::open(root.path(), options).unwrap().store;
    check(&reopened, &(0..next).collect::<Vec<_>>(), &[], next);
    // A store dropped without `close` frees the directory too.
    drop(reopened);
    FileStore::open(root.path(), Options::new()).unwrap();
}

/// A checkpoint that fails on its thread refuses writes from then on, and `close` reports
/// it; the next open finishes the checkpoint and has everything acknowledged. The checkpoint
/// is held before its snapshot, then the sync of that snapshot fails.
#[test]
fn a_failed_checkpoint_on_its_thread_refuses_writes_and_close_reports_it() {
    let (fs, gate) = gated();
    let options = Options::new()
        .checkpoint_after(Some(2 << 10))
        .fs(Arc::new(fs.clone()));
    let store = FileStore::open(dir(), options.clone()).unwrap().store;
    gate.arm(".snap.tmp");
    let (engine, _) = engine(store);
    let stepper = Stepper::new(engine);
    let mut next = 0;
    while gate.held() == 0 {
        assert!(stepper.step(next));
        next += 1;
        assert!(next < 1000, "no checkpoint was made due");
    }
    // Nothing else writes now: the next sync is the new snapshot's.
    fs.fs.fail_sync(fs.fs.syncs() + 1);
    gate.open();
    let engine = stepper.engine();
    // An explicit checkpoint waits for the one under way to end, then is refused.
    let explicit = engine.store().checkpoint();
    assert!(
        matches!(explicit, Err(plaint_file::FileError::Poisoned(_))),
        "{explicit:?}"
    );
    assert!(
        step(&engine, next).is_err(),
        "writes go on after a failed checkpoint"
    );
    let closed = engine.into_store().close();
    assert!(
        matches!(closed, Err(plaint_file::FileError::Poisoned(_))),
        "{closed:?}"
    );
    let reopened = FileStore::open(dir(), options).unwrap();
    assert!(reopened.report.resumed.is_some(), "{:?}", reopened.report);
    check(
        &reopened.store,
        &(0..next).collect::<Vec<_>>(),
        &[],
        next + 1,
    );
}
