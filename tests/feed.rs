//! Following the events: a projection reads the feed through the engine, resumes where it
//! stopped, and a reopened FileStore keeps the numbering it gave (issue 14).

use plaint::file::Options;
use plaint::{
    Command, CommandId, ComplaintId, Engine, FeedEntry, FileStore, ListQuery, ManualClock,
    MemoryStore, Position, Store, StoreError, StoreFailure,
};
use plaint_core::blocking::Wait as _;
use plaint_core::testing;
use std::path::Path;
use std::sync::Arc;

fn cid(s: &str) -> ComplaintId {
    ComplaintId::new(s).unwrap()
}

/// Runs `command` as the agent under command id `id`.
fn run<S: Store>(engine: &Eng<S>, complaint: &str, id: &str, command: Command) {
    engine
        .execute(
            CommandId::new(id).unwrap(),
            &cid(complaint),
            command,
            &testing::agent(),
        )
        .wait()
        .unwrap();
}

fn receive<S: Store>(engine: &Eng<S>, id: &str, command: &str) {
    let c = Command::Receive(Arc::new(testing::intake(testing::t(0))));
    run(engine, id, command, c);
}

fn add_evidence<S: Store>(engine: &Eng<S>, id: &str, command: &str) {
    let c = Command::AddEvidence(plaint::Evidence {
        kind: plaint::EvidenceKind::Photo,
        reference: format!("photo-{command}").into(),
        content_hash: None,
    });
    run(engine, id, command, c);
}

type Eng<S> = Engine<S, plaint::DiscardNotifier, ManualClock>;

fn engine_on<S: Store>(store: S) -> Eng<S> {
    Engine::builder(store, testing::policy())
        .clock(ManualClock::new(testing::t(1)))
        .build()
}

/// Everything in the feed after `after`, a few at a time.
fn drain<S: Store>(engine: &Eng<S>, after: Position) -> Vec<FeedEntry> {
    let mut out = Vec::new();
    let mut next = after;
    loop {
        let page = engine.feed(next, 3).wait().unwrap();
        if page.entries.is_empty() {
            return out;
        }
        next = page.next;
        out.extend(page.entries);
    }
}

/// Every event the store holds, counted complaint by complaint.
fn events_held(store: &dyn plaint::DynStore) -> u64 {
    store
        .list(&ListQuery::new())
        .wait()
        .unwrap()
        .items
        .iter()
        .map(|c| c.version)
        .sum()
}

#[test]
fn a_projection_catches_up_from_where_it_stopped() {
    let engine = engine_on(MemoryStore::new());
    receive(&engine, "C-1", "r1");
    receive(&engine, "C-2", "r2");
    // The projection reads what is there and keeps its position.
    let first = drain(&engine, Position::START);
    assert_eq!(first.len(), 2);
    let kept = first.last().unwrap().position;
    assert_eq!(kept, Position(2));
    // It is down while commands go on.
    add_evidence(&engine, "C-1", "e1");
    add_evidence(&engine, "C-2", "e2");
    add_evidence(&engine, "C-1", "e3");
    // Back, it reads exactly what it missed, in the order it was recorded.
    let missed = drain(&engine, kept);
    let seen: Vec<(u64, &str, u64)> = missed
        .iter()
        .map(|e| (e.position.get(), e.complaint.as_str(), e.recorded.version))
        .collect();
    assert_eq!(seen, [(3, "C-1", 2), (4, "C-2", 2), (5, "C-1", 3)]);
    assert_eq!(
        missed[2].recorded,
        engine.history(&cid("C-1")).wait().unwrap()[2],
        "the feed's event is the history's"
    );
    // A position serializes as a bare number, so it can be kept anywhere.
    assert_eq!(serde_json::to_string(&kept).unwrap(), "2");
}

#[test]
fn a_reopened_file_store_keeps_the_numbering_and_continues_it() {
    let dir = tempfile::tempdir().unwrap();
    let options = || Options::new().checkpoint_after(None);
    let before = {
        let engine = engine_on(FileStore::open(dir.path(), options()).unwrap().store);
        receive(&engine, "C-1", "r1");
        receive(&engine, "C-2", "r2");
        add_evidence(&engine, "C-1", "e1");
        drain(&engine, Position::START)
    };
    assert_eq!(before.len(), 3);
    let engine = engine_on(FileStore::open(dir.path(), options()).unwrap().store);
    assert_eq!(engine.store().feed_start(), Position::START);
    assert_eq!(
        drain(&engine, Position::START),
        before,
        "after reopening, the same events at the same positions"
    );
    add_evidence(&engine, "C-2", "e2");
    let new = drain(&engine, Position(3));
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].position, Position(4), "the numbering goes on");
    assert_eq!(new[0].complaint, cid("C-2"));
}

#[test]
fn after_a_checkpoint_a_reopened_store_serves_the_feed_from_its_snapshot_on() {
    let dir = tempfile::tempdir().unwrap();
    let options = || Options::new().checkpoint_after(None);
    let (before, after_checkpoint) = {
        let engine = engine_on(FileStore::open(dir.path(), options()).unwrap().store);
        receive(&engine, "C-1", "r1");
        receive(&engine, "C-2", "r2");
        // C-3 is withdrawn: nothing is due for it, so the checkpoint moves it to a run.
        receive(&engine, "C-3", "r3");
        engine
            .execute(
                CommandId::new("w3").unwrap(),
                &cid("C-3"),
                Command::Withdraw { reason: None },
                &testing::agent(),
            )
            .wait()
            .unwrap();
        let c3 = engine.store().load(&cid("C-3")).wait().unwrap().unwrap();
        assert_eq!(c3.next_due(), None);
        let held = drain(&engine, Position::START).len();
        engine.store().checkpoint().unwrap();
        // Within the handle, the checkpoint loses nothing of the feed: C-3's events are
        // read back from its run.
        add_evidence(&engine, "C-1", "e1");
        add_evidence(&engine, "C-2", "e2");
        let all = drain(&engine, Position::START);
        assert_eq!(all.len(), held + 2);
        let c3_fed: Vec<_> = all
            .iter()
            .filter(|e| e.complaint == cid("C-3"))
            .map(|e| e.recorded.clone())
            .collect();
        assert_eq!(c3_fed, engine.history(&cid("C-3")).wait().unwrap());
        (all.clone(), all[held..].to_vec())
    };
    let held = before.len() - after_checkpoint.len();
    let engine = engine_on(FileStore::open(dir.path(), options()).unwrap().store);
    let start = engine.store().feed_start();
    assert_eq!(
        start,
        Position(held as u64),
        "the snapshot and its run held the events before it"
    );
    assert_eq!(
        drain(&engine, start),
        after_checkpoint,
        "the events after the snapshot keep their positions"
    );
    match engine.store().feed(Position::START, 10).wait() {
        Err(e @ StoreError::Backend { .. }) => {
            assert_eq!(e.code(), StoreFailure::Unavailable.code());
            assert!(e.to_string().contains(&format!("up to {held}")), "{e}");
        }
        other => panic!("reading before the feed's start must fail, not skip: {other:?}"),
    }
    add_evidence(&engine, "C-1", "e3");
    let end = before.len() as u64;
    let new = drain(&engine, Position(end));
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].position, Position(end + 1));
    assert!(
        engine
            .store()
            .feed(Position(start.get() - 1), 10)
            .wait()
            .is_err()
    );
}

#[test]
fn a_store_written_by_0_1_0_numbers_its_events_on_from_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-0.1.0");
    for e in std::fs::read_dir(fixture).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    let total = {
        let store = FileStore::open(dir.path(), Options::new()).unwrap().store;
        let total = events_held(&store);
        // The old snapshot does not say where the feed stood: its events and its run's are
        // counted, and the old log's events follow them.
        let start = store.feed_start();
        assert!(start.get() > 0 && start.get() < total);
        let engine = engine_on(store);
        let fed = drain(&engine, start);
        assert_eq!(fed.len() as u64, total - start.get());
        total
    };
    // Opening checkpointed it: the new snapshot records the position.
    let engine = engine_on(FileStore::open(dir.path(), Options::new()).unwrap().store);
    assert_eq!(engine.store().feed_start(), Position(total));
    receive(&engine, "NEW-1", "new-1");
    let new = drain(&engine, Position(total));
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].position, Position(total + 1));
}
