//! Old data keeps working: a FileStore written by plaint 0.1.0 (the express example with small
//! segments and checkpoints, so it has a snapshot, a run and two log segments) opens and
//! replays to the very timelines the old code read from it; so does one written by the
//! previous version (`store-sealed`: personal fields sealed, staff text in clear, a key table
//! of version 1, one complainant erased), which this version then seals anew on its first
//! open and can redact.

use plaint::file::Options;
use plaint::{Complaint, FileStore, ListQuery, Store};
use plaint_core::blocking::Wait as _;
use std::path::Path;

const FIXTURE: &str = "tests/fixtures/store-0.1.0";

const SEALED: &str = "tests/fixtures/store-sealed";

/// A copy of the fixture store (opening takes the directory's lock and may write).
fn copy_of_fixture() -> tempfile::TempDir {
    copy_of(FIXTURE)
}

fn copy_of(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    dir
}

/// Every complaint's events, one line each, as `tests/fixtures/store-0.1.0.timeline.txt` has
/// them (written by the 0.1.0 code from the same files).
fn timelines(store: &dyn plaint::DynStore) -> String {
    let mut out = String::new();
    for c in store.list(&ListQuery::new()).wait().unwrap().items {
        out += &format!("{} v{} {:?}\n", c.id, c.version, c.stage.kind());
        let history = store.history(&c.id).wait().unwrap();
        for r in &history {
            out += &format!(
                "  {} {} {} {}: {}\n",
                r.version,
                r.at.to_rfc3339(),
                r.actor,
                r.command,
                r.event
            );
        }
        let replayed = Complaint::replay(c.id.clone(), &history).unwrap();
        assert_eq!(
            replayed, *c,
            "{}: state is not the fold of its events",
            c.id
        );
    }
    out
}

#[test]
fn a_store_written_by_0_1_0_opens_and_replays_to_the_same_timelines() {
    let dir = copy_of_fixture();
    let opened = FileStore::open(dir.path(), Options::new()).unwrap();
    assert!(opened.report.snapshot.is_some());
    assert_eq!(opened.report.runs, 1);
    let want = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-0.1.0.timeline.txt"),
    )
    .unwrap();
    assert_eq!(timelines(&opened.store), want);
    let recorded = opened
        .store
        .command(&plaint::CommandId::new("cmd-0001").unwrap())
        .wait()
        .unwrap()
        .unwrap();
    assert_eq!(recorded.complaint.as_str(), "EXP-101");
}

#[test]
fn a_command_recorded_by_0_1_0_is_answered_only_for_the_same_actor() {
    use plaint::blocking::Engine;
    use plaint::{Actor, ActorId, Command, CommandId, ComplaintId, EngineError, Event};
    use plaint::{ManualClock, Policy, RoleKey};
    let dir = copy_of_fixture();
    let store = FileStore::open(dir.path(), Options::new()).unwrap().store;
    let policy = Policy::from_toml_str(include_str!("../examples/policies/express.toml")).unwrap();
    let engine = Engine::builder(store, policy)
        .clock(ManualClock::new("2026-12-01T00:00:00Z".parse().unwrap()))
        .build();
    let id = ComplaintId::new("EXP-101").unwrap();
    let history = engine.history(&id).unwrap();
    assert!(history.iter().all(|r| r.actor_kind.is_none()));
    let Event::Received { intake, .. } = &history[0].event else {
        panic!("{:?}", history[0].event)
    };
    let receive = Command::Receive(intake.clone());
    let staff = |who: &str| {
        Actor::staff(
            ActorId::new(who).unwrap(),
            vec![RoleKey::new("agent").unwrap()],
            None,
        )
    };
    let cmd = CommandId::new("cmd-0001").unwrap();
    // 0.1 kept only the actor id of who acted: the same id with the same command is answered
    // with the first result, another actor or another command is not.
    let first = engine
        .execute(cmd.clone(), &id, receive.clone(), &staff("agent-wang"))
        .unwrap();
    assert_eq!(first.version, 2);
    let other = engine.execute(cmd.clone(), &id, receive, &staff("agent-li"));
    assert!(matches!(other, Err(EngineError::Rejected(_))), "{other:?}");
    let other = engine.execute(cmd, &id, Command::Acknowledge, &staff("agent-wang"));
    assert!(matches!(other, Err(EngineError::Rejected(_))), "{other:?}");
}

#[test]
fn a_store_of_the_previous_version_opens_replays_the_same_and_is_sealed_anew() {
    use plaint::blocking::Engine;
    use plaint::{Actor, ActorId, Command, CommandId, ComplaintId, Event, ManualClock, Policy};
    let dir = copy_of(SEALED);
    let clear_staff_text = "Mis-sorted at hub 3 (CCTV).";
    let holds = |s: &str| {
        std::fs::read_dir(dir.path()).unwrap().any(|e| {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            bytes.windows(s.len()).any(|w| w == s.as_bytes())
        })
    };
    assert!(
        holds(clear_staff_text),
        "the previous version kept staff text in clear"
    );
    let keys_version = || {
        let data = std::fs::read(dir.path().join("keys")).unwrap();
        u32::from_le_bytes(data[8..12].try_into().unwrap())
    };
    assert_eq!(keys_version(), 1);
    let opened = FileStore::open(dir.path(), Options::new()).unwrap();
    assert!(
        opened.report.checkpoint.is_some(),
        "its first open checkpoints it"
    );
    assert_eq!(keys_version(), 2, "and writes its key table anew");
    let want = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-sealed.timeline.txt"),
    )
    .unwrap();
    assert_eq!(timelines(&opened.store), want);

    // The staff text of the findings, redacted on it, is gone from its history and state.
    let text = include_str!("../examples/policies/express.toml").replace(
        "may = [\"record_execution\"]",
        "may = [\"record_execution\", \"redact_text\"]",
    );
    let policy = Policy::from_toml_str(&text).unwrap();
    let engine = Engine::builder(opened.store, policy)
        .clock(ManualClock::new("2026-12-02T00:00:00Z".parse().unwrap()))
        .build();
    let id = ComplaintId::new("EXP-101").unwrap();
    let findings = engine
        .history(&id)
        .unwrap()
        .iter()
        .find(|r| matches!(r.event, Event::FindingsRecorded { .. }))
        .unwrap()
        .version;
    let finance = Actor::staff(
        ActorId::new("fin-1").unwrap(),
        vec![plaint::RoleKey::new("finance").unwrap()],
        None,
    );
    let command = Command::RedactText {
        version: findings,
        field: "summary".into(),
        reason: "quoted a phone number".into(),
    };
    let state = engine
        .execute(CommandId::new("redact-1").unwrap(), &id, command, &finance)
        .unwrap();
    assert_eq!(&*state.findings.as_ref().unwrap().summary, plaint::REDACTED);
    let store = engine.into_store();
    store.checkpoint().unwrap();
    store.close().unwrap();
    let reopened = FileStore::open(dir.path(), Options::new()).unwrap().store;
    let history = reopened.history(&id).wait().unwrap();
    assert!(!format!("{history:?}").contains(clear_staff_text));
    let state = reopened.load(&id).wait().unwrap().unwrap();
    assert_eq!(Complaint::replay(id, &history).as_ref(), Some(&*state));
    reopened.close().unwrap();
    // Segments and snapshot were written anew, sealed; the run the previous version wrote
    // keeps its clear copy of a complaint until a merge of runs drops it (the crate docs say
    // so): here EXP-101 was in memory, never in that run.
    assert!(!holds(clear_staff_text));
}
