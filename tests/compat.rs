//! Old data keeps working: a FileStore written by plaint 0.1.0 (the express example with small
//! segments and checkpoints, so it has a snapshot, a run and two log segments) opens and
//! replays to the very timelines the old code read from it.

use plaint::file::Options;
use plaint::{Complaint, FileStore, ListQuery, Store};
use std::path::Path;

const FIXTURE: &str = "tests/fixtures/store-0.1.0";

/// A copy of the fixture store (opening takes the directory's lock and may write).
fn copy_of_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    dir
}

/// Every complaint's events, one line each, as `tests/fixtures/store-0.1.0.timeline.txt` has
/// them (written by the 0.1.0 code from the same files).
fn timelines(store: &dyn Store) -> String {
    let mut out = String::new();
    for c in store.list(&ListQuery::new()).unwrap().items {
        out += &format!("{} v{} {:?}\n", c.id, c.version, c.stage.kind());
        let history = store.history(&c.id).unwrap();
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
        .unwrap()
        .unwrap();
    assert_eq!(recorded.complaint.as_str(), "EXP-101");
}
