//! Stores written by plaint 0.1.0 (segments of format 1, which do not name the segment after
//! them): they open as before, the first open checkpoints them, and from then on every
//! segment is named by a snapshot or by the segment before it, so a missing one is reported.
//! The store is the root package's fixture (`tests/fixtures/store-0.1.0`: a snapshot, a run,
//! two segments), read, never changed.

mod common;

use common::files;
use plaint_core::blocking::Wait as _;
use plaint_core::{ListQuery, Store};
use plaint_file::{FileError, FileStore, Options};
use std::path::Path;

/// A copy of the fixture store (opening takes the directory's lock and writes).
fn copy_of_fixture() -> tempfile::TempDir {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/store-0.1.0");
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(fixture).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    dir
}

/// Every complaint, its history and its recorded commands, to compare two opens.
fn contents(store: &FileStore) -> String {
    let mut out = String::new();
    for c in store.list(&ListQuery::new()).wait().unwrap().items {
        let history = store.history(&c.id).wait().unwrap();
        out += &format!("{c:?}\n{history:?}\n");
        for r in &history {
            out += &format!("{:?}\n", store.command(&r.command).wait().unwrap());
        }
    }
    out
}

fn version(file: &Path) -> u32 {
    let data = std::fs::read(file).unwrap();
    u32::from_le_bytes(data[8..12].try_into().unwrap())
}

#[test]
fn a_0_1_0_store_opens_is_checkpointed_and_then_names_its_segments() {
    let dir = copy_of_fixture();
    let old = files(dir.path(), "log");
    assert_eq!(old.len(), 2);
    assert!(
        old.iter().all(|s| version(s) == 1),
        "the fixture is format 1"
    );

    let opened = FileStore::open(dir.path(), Options::new()).unwrap();
    // It read what 0.1.0 wrote, as before...
    assert_eq!(opened.report.segments, 2);
    assert!(opened.report.records > 0);
    assert_eq!(opened.report.torn_tail, None);
    // ...and checkpointed it: the format 1 segments are gone, the one after them is named by
    // the new snapshot.
    let snapshot = opened
        .report
        .checkpoint
        .clone()
        .expect("opening checkpointed");
    assert!(snapshot.ends_with("snapshot-00000000000000000009.snap"));
    let segments = files(dir.path(), "log");
    assert_eq!(segments.len(), 1);
    assert!(segments[0].ends_with("segment-00000000000000000009.log"));
    assert_eq!(version(&segments[0]), 4);
    let before = contents(&opened.store);
    assert!(before.contains("EXP-101"));
    drop(opened);

    // Opening again reads the same, and checkpoints nothing.
    let opened = FileStore::open(dir.path(), Options::new()).unwrap();
    assert_eq!(opened.report.checkpoint, None);
    assert_eq!(contents(&opened.store), before);
    drop(opened);

    // The segment the checkpoint started is named by its snapshot: gone, it is reported.
    std::fs::remove_file(&segments[0]).unwrap();
    let err = FileStore::open(dir.path(), Options::new()).unwrap_err();
    assert!(
        matches!(&err, FileError::Corrupt { file, why, .. } if *file == segments[0] && why.contains("missing")),
        "{err:?}"
    );
}

/// A checkpoint of an old store that a crash stopped (here: its snapshot never written) is
/// made again by the next open; the format 1 segments are read until then.
#[test]
fn an_upgrade_stopped_before_its_snapshot_is_made_again() {
    let dir = copy_of_fixture();
    let opened = FileStore::open(dir.path(), Options::new()).unwrap();
    let before = contents(&opened.store);
    drop(opened);
    // Put the directory back as a crash before the snapshot's rename would leave it: the old
    // files, and the new segment 9, which segment 8 (format 1) cannot name.
    let fresh = copy_of_fixture();
    for f in files(dir.path(), "snap")
        .into_iter()
        .chain(files(dir.path(), "tbl"))
    {
        std::fs::remove_file(f).unwrap();
    }
    for e in std::fs::read_dir(fresh.path()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    assert_eq!(files(dir.path(), "log").len(), 3);
    let opened = FileStore::open(dir.path(), Options::new()).unwrap();
    let removed = opened
        .report
        .torn_tail
        .clone()
        .expect("the new segment is removed");
    assert!(removed.file.ends_with("segment-00000000000000000009.log"));
    assert_eq!(opened.report.segments, 2);
    assert!(opened.report.checkpoint.is_some());
    assert_eq!(contents(&opened.store), before);
}
