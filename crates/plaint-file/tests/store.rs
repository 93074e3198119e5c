//! FileStore: conformance in both durability modes, reopening, the lock, and what each kind
//! of damage on disk leads to.

mod common;

use common::{check, command_id, complaint_id, engine, files, step};
use plaint_core::blocking::Wait as _;
use plaint_core::{ListQuery, Store};
use plaint_file::{Durability, FileError, FileStore, Options, SimFs};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn open(dir: &Path) -> FileStore {
    FileStore::open(dir, Options::new()).expect("opens").store
}

/// The conformance suite, each of its cases on a fresh store opened with `options`.
fn conformance(options: Options) {
    let root = tempfile::tempdir().unwrap();
    let n = std::sync::atomic::AtomicUsize::new(0);
    plaint_core::conformance::run_all(|| {
        let case = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = root.path().join(case.to_string());
        FileStore::open(&dir, options.clone()).unwrap().store
    });
}

#[test]
fn conformance_full() {
    conformance(Options::new());
}

#[test]
fn conformance_buffered() {
    conformance(Options::new().durability(Durability::Buffered));
}

/// A checkpoint after every write: every complaint without a running clock moves to a run and
/// comes back for its next append, runs merge, and every read goes through them.
#[test]
fn conformance_checkpointing_after_every_write() {
    let options = Options::new()
        .durability(Durability::Buffered)
        .checkpoint_after(Some(1));
    conformance(options);
}

/// Runs steps `0..n` on a fresh engine over `store`, then relays once (settling the outbox).
fn fill(store: FileStore, n: u64) -> FileStore {
    let (engine, _) = engine(store);
    for i in 0..n {
        step(&engine, i).expect("step runs");
    }
    engine.relay().expect("relay runs");
    engine.into_store()
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    files(dir, "log")
}

/// Everything a store answers, to compare two stores.
fn contents(store: &FileStore, n: u64) -> String {
    let mut out = String::new();
    for k in 0..n.div_ceil(3) {
        let id = complaint_id(k * 3);
        out += &format!(
            "{:?}\n{:?}\n",
            store.load(&id).wait().unwrap(),
            store.history(&id).wait().unwrap()
        );
    }
    for i in 0..n {
        out += &format!("{:?}\n", store.command(&command_id(i)).wait().unwrap());
    }
    let far = plaint_core::testing::t(24 * 365);
    out += &format!(
        "{:?}\n{:?}\n",
        store.due(far, 1000).wait().unwrap(),
        store.dead_letters().wait().unwrap()
    );
    out += &format!(
        "{:?}\n",
        store.list(&ListQuery::new()).wait().unwrap().items.len()
    );
    out
}

#[test]
fn reopening_gives_back_everything() {
    for options in [
        Options::new(),
        Options::new().segment_size(4096),
        Options::new()
            .segment_size(4096)
            .checkpoint_after(Some(16 << 10)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path(), options.clone()).unwrap().store;
        let store = fill(store, 90);
        let before = contents(&store, 90);
        drop(store);
        let label = format!("{options:?}");
        let opened = FileStore::open(dir.path(), options).unwrap();
        assert_eq!(opened.report.torn_tail, None);
        assert_eq!(contents(&opened.store, 90), before, "{label}");
        // And it carries on where it stopped.
        let (engine, _) = engine(opened.store);
        step(&engine, 90).unwrap();
        assert!(matches!(
            step(&engine, 90),
            Ok(()) | Err(plaint_core::EngineError::Rejected(_))
        ));
    }
}

#[test]
fn a_checkpoint_replaces_the_log_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = fill(open(dir.path()), 30);
    store.checkpoint().unwrap();
    let before = contents(&store, 30);
    drop(store);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&"snapshot-00000000000000000002.snap".to_string()),
        "{names:?}"
    );
    assert!(
        !names.contains(&"segment-00000000000000000001.log".to_string()),
        "{names:?}"
    );
    // The sample policy runs no clock: every complaint went to the run.
    assert!(
        names.contains(&"run-00000000000000000001.tbl".to_string()),
        "{names:?}"
    );
    let opened = FileStore::open(dir.path(), Options::new()).unwrap();
    assert!(opened.report.snapshot.is_some());
    assert_eq!((opened.report.records, opened.report.runs), (0, 1));
    assert_eq!(contents(&opened.store, 30), before);
}

fn runs(dir: &Path) -> Vec<PathBuf> {
    files(dir, "tbl")
}

#[test]
fn complaints_with_running_clocks_stay_in_the_snapshot_and_the_rest_go_to_runs() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(plaint_core::ManualClock::new(plaint_core::testing::t(1)));
    let engine = plaint_core::blocking::Engine::builder(
        open(dir.path()),
        plaint_core::testing::sla_policy(),
    )
    .notifier(Arc::new(plaint_core::RecordingNotifier::new()))
    .clock(Arc::clone(&clock))
    .build();
    for i in 0..6 {
        step(&engine, i).unwrap();
    }
    engine.store().checkpoint().unwrap();
    let due = engine.store().next_due().wait().unwrap();
    assert!(due.is_some(), "the SLA policy's clocks run");
    assert!(
        runs(dir.path()).is_empty(),
        "nothing without a clock to move"
    );
    let before = contents(engine.store(), 6);
    drop(engine);
    let opened = FileStore::open(dir.path(), Options::new()).unwrap();
    assert_eq!(opened.report.runs, 0);
    assert_eq!(opened.store.next_due().wait().unwrap(), due);
    assert_eq!(contents(&opened.store, 6), before);
}

#[test]
fn runs_merge_so_that_they_stay_few() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = engine(open(dir.path()));
    let mut most = 0;
    for i in 0..96 {
        step(&engine, i).unwrap();
        engine.store().checkpoint().unwrap();
        most = most.max(runs(dir.path()).len());
    }
    // 96 checkpoints, each adding a run; merging keeps at most four.
    assert_eq!(most, 4, "at most {most} runs");
    let before = contents(engine.store(), 96);
    let listed = engine
        .store()
        .list(&ListQuery::new().limit(1000))
        .wait()
        .unwrap();
    assert_eq!(listed.items.len(), 32);
    drop(engine);
    let opened = FileStore::open(dir.path(), Options::new()).unwrap();
    assert_eq!(opened.report.runs, runs(dir.path()).len());
    assert_eq!(contents(&opened.store, 96), before);
}

#[test]
fn damage_in_a_run_is_reported_when_read_and_nothing_is_changed() {
    let dir = tempfile::tempdir().unwrap();
    let store = fill(open(dir.path()), 30);
    store.checkpoint().unwrap();
    drop(store);
    let run = runs(dir.path()).pop().unwrap();
    let whole = std::fs::read(&run).unwrap();
    // The first complaint's state starts right after the 16-byte header and its frame header.
    let mut data = whole.clone();
    data[16 + 8 + 5] ^= 0x20;
    std::fs::write(&run, &data).unwrap();
    let store = open(dir.path());
    let err = store.load(&complaint_id(0)).wait().unwrap_err();
    let plaint_core::StoreError::Backend { kind, source: e } = &err else {
        panic!("{err:?}")
    };
    // A service tells damage from other failures without downcasting.
    assert_eq!(*kind, plaint_core::store::StoreFailure::Corrupt);
    assert_eq!(err.code(), "store_corrupt");
    let e = e.downcast_ref::<FileError>().unwrap();
    assert!(
        matches!(e, FileError::Corrupt { file, offset: 16, .. } if *file == run),
        "{e:?}"
    );
    // Others read fine; nothing was rewritten.
    assert!(store.load(&complaint_id(3)).wait().unwrap().is_some());
    drop(store);
    assert_eq!(std::fs::read(&run).unwrap(), data);

    // A run cut short fails the open, naming it.
    std::fs::write(&run, &whole[..whole.len() - 5]).unwrap();
    let err = FileStore::open(dir.path(), Options::new()).unwrap_err();
    assert!(
        matches!(&err, FileError::Corrupt { file, .. } if *file == run),
        "{err:?}"
    );
    // So does a missing one.
    std::fs::remove_file(&run).unwrap();
    let err = FileStore::open(dir.path(), Options::new()).unwrap_err();
    assert!(
        matches!(&err, FileError::Corrupt { file, why, .. } if *file == run && why.contains("missing")),
        "{err:?}"
    );
}

#[test]
fn a_second_open_is_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let again = FileStore::open(dir.path(), Options::new());
    assert!(matches!(again, Err(FileError::Locked { .. })), "{again:?}");
    drop(store);
    FileStore::open(dir.path(), Options::new()).expect("free again once closed");
}

#[test]
fn a_torn_last_write_is_cut_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    drop(fill(open(dir.path()), 9));
    let seg = segments(dir.path()).pop().unwrap();
    let whole = std::fs::read(&seg).unwrap();
    // A frame header promising 100 bytes, and 10 of them.
    let mut torn = whole.clone();
    torn.extend(100u32.to_le_bytes());
    torn.extend(7u32.to_le_bytes());
    torn.extend([b'x'; 10]);
    std::fs::write(&seg, &torn).unwrap();
    let opened = FileStore::open(dir.path(), Options::new()).unwrap();
    let tail = opened.report.torn_tail.expect("reported");
    assert_eq!(
        (tail.file, tail.offset, tail.removed),
        (seg.clone(), whole.len() as u64, 18)
    );
    assert_eq!(
        std::fs::read(&seg).unwrap(),
        whole,
        "cut back to the last whole frame"
    );
    check(&opened.store, &(0..9).collect::<Vec<_>>(), &[], 9);
}

#[test]
fn garbage_after_the_last_frame_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    drop(fill(open(dir.path()), 6));
    let seg = segments(dir.path()).pop().unwrap();
    let mut data = std::fs::read(&seg).unwrap();
    let len = data.len();
    data.extend(b"this is not a frame at all, just noise".repeat(3));
    std::fs::write(&seg, &data).unwrap();
    let opened = FileStore::open(dir.path(), Options::new()).unwrap();
    assert_eq!(opened.report.torn_tail.map(|t| t.offset), Some(len as u64));
    check(&opened.store, &(0..6).collect::<Vec<_>>(), &[], 6);
}

#[test]
fn a_bit_flip_before_later_frames_is_corruption_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    drop(fill(open(dir.path()), 12));
    let seg = segments(dir.path()).pop().unwrap();
    let mut data = std::fs::read(&seg).unwrap();
    data[40] ^= 0x04; // inside the first frame's payload (the header is 16 bytes)
    std::fs::write(&seg, &data).unwrap();
    let err = FileStore::open(dir.path(), Options::new()).unwrap_err();
    match err {
        FileError::Corrupt { file, offset, why } => {
            assert_eq!(
                (file, offset, why.as_str()),
                (seg.clone(), 16, "checksum mismatch")
            );
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    // Nothing was repaired: the file is as it was.
    assert_eq!(std::fs::read(&seg).unwrap(), data);
}

#[test]
fn damage_at_the_end_of_an_older_segment_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new().segment_size(2048).checkpoint_after(None);
    let store = FileStore::open(dir.path(), options.clone()).unwrap().store;
    drop(fill(store, 30));
    let segs = segments(dir.path());
    assert!(segs.len() >= 3, "{segs:?}");
    let mut data = std::fs::read(&segs[0]).unwrap();
    let last = data.len() - 1;
    data[last] ^= 1;
    std::fs::write(&segs[0], &data).unwrap();
    let err = FileStore::open(dir.path(), options).unwrap_err();
    assert!(
        matches!(&err, FileError::Corrupt { file, .. } if *file == segs[0]),
        "{err:?}"
    );
}

#[test]
fn a_missing_segment_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new().segment_size(2048).checkpoint_after(None);
    let store = FileStore::open(dir.path(), options.clone()).unwrap().store;
    drop(fill(store, 30));
    let segs = segments(dir.path());
    std::fs::remove_file(&segs[1]).unwrap();
    let err = FileStore::open(dir.path(), options).unwrap_err();
    assert!(
        matches!(&err, FileError::Corrupt { file, why, .. } if *file == segs[1] && why.contains("missing")),
        "{err:?}"
    );
}

/// A store whose log spans several segments, each holding acknowledged commands: 30 steps
/// in 2 KiB segments, no checkpoint.
fn segmented(dir: &Path) -> (Options, Vec<PathBuf>) {
    let options = Options::new().segment_size(2048).checkpoint_after(None);
    let store = FileStore::open(dir, options.clone()).unwrap().store;
    drop(fill(store, 30));
    let segs = segments(dir);
    assert!(segs.len() >= 3, "{segs:?}");
    (options, segs)
}

fn assert_missing(err: &FileError, segment: &Path) {
    assert!(
        matches!(err, FileError::Corrupt { file, why, .. } if file == segment && why.contains("missing")),
        "want {} reported missing, got {err:?}",
        segment.display()
    );
}

/// Review issue 12, item 7: the newest segment deleted used to open as if it had never been
/// written, losing what it held silently. The segment before it names it.
#[test]
fn a_missing_newest_segment_is_corruption_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (options, segs) = segmented(dir.path());
    let newest = segs.last().unwrap();
    let before = segs[segs.len() - 2].clone();
    let saved = [
        std::fs::read(&before).unwrap(),
        std::fs::read(newest).unwrap(),
    ];
    assert!(saved[1].len() > 16, "the newest segment holds frames");
    std::fs::remove_file(newest).unwrap();
    let err = FileStore::open(dir.path(), options.clone()).unwrap_err();
    assert_missing(&err, newest);
    // The two newest gone: the first of them is named.
    std::fs::remove_file(&before).unwrap();
    let err = FileStore::open(dir.path(), options.clone()).unwrap_err();
    assert_missing(&err, &before);
    // Nothing was changed: with the files back, everything is there.
    assert_eq!(segments(dir.path()), segs[..segs.len() - 2]);
    std::fs::write(&before, &saved[0]).unwrap();
    std::fs::write(newest, &saved[1]).unwrap();
    let store = FileStore::open(dir.path(), options).unwrap().store;
    check(&store, &(0..30).collect::<Vec<_>>(), &[], 30);
}

/// A snapshot names the segment that follows it: the only segment after a checkpoint, deleted,
/// is reported, not taken for an empty log.
#[test]
fn a_missing_only_segment_after_a_snapshot_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let store = fill(open(dir.path()), 30);
    store.checkpoint().unwrap();
    let (engine, _) = engine(store);
    (30..36).for_each(|i| step(&engine, i).unwrap());
    drop(engine);
    let segs = segments(dir.path());
    assert_eq!(segs.len(), 1, "{segs:?}");
    std::fs::remove_file(&segs[0]).unwrap();
    let err = FileStore::open(dir.path(), Options::new()).unwrap_err();
    assert_missing(&err, &segs[0]);
}

/// A store that was never checkpointed: its only segment deleted is not an empty new store.
#[test]
fn a_missing_only_segment_of_a_new_store_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    drop(fill(open(dir.path()), 9));
    let segs = segments(dir.path());
    assert_eq!(segs.len(), 1, "{segs:?}");
    std::fs::remove_file(&segs[0]).unwrap();
    let err = FileStore::open(dir.path(), Options::new()).unwrap_err();
    assert_missing(&err, &segs[0]);
}

/// The offsets at which `data`'s frames end (a segment's header is 16 bytes, a frame's 8).
fn frame_ends(data: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = 16;
    while at + 8 <= data.len() {
        let len = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        at += 8 + len;
        ends.push(at);
    }
    ends
}

/// A segment before the newest, cut exactly at a frame boundary (every frame left in it is
/// valid), is reported: it no longer names the segment after it.
#[test]
fn a_segment_before_the_newest_cut_at_a_frame_boundary_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (options, segs) = segmented(dir.path());
    let data = std::fs::read(&segs[0]).unwrap();
    let ends = frame_ends(&data);
    assert_eq!(*ends.last().unwrap(), data.len());
    for &cut in &ends[..ends.len() - 1] {
        std::fs::write(&segs[0], &data[..cut]).unwrap();
        let err = FileStore::open(dir.path(), options.clone()).unwrap_err();
        assert!(
            matches!(&err, FileError::Corrupt { file, offset, .. } if *file == segs[0] && *offset == cut as u64),
            "cut at {cut}: {err:?}"
        );
        assert_eq!(
            std::fs::read(&segs[0]).unwrap(),
            &data[..cut],
            "nothing was cut"
        );
    }
}

/// The frame naming the next segment is the last of its segment and names the segment after
/// it; anything else is damage, reported where that frame is.
#[test]
fn a_segment_naming_another_next_or_with_frames_after_it_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (options, segs) = segmented(dir.path());
    let data: Vec<Vec<u8>> = segs.iter().map(|s| std::fs::read(s).unwrap()).collect();
    let ends = |d: &[u8]| frame_ends(d);
    // Where each segment's last frame (the one naming the next) starts.
    let last_start = |d: &[u8]| {
        let e = ends(d);
        e[e.len() - 2]
    };
    let named_at = last_start(&data[0]);
    // Segment 1 ending with segment 2's last frame, which names segment 3.
    let wrong = [&data[0][..named_at], &data[1][last_start(&data[1])..]].concat();
    std::fs::write(&segs[0], &wrong).unwrap();
    let err = FileStore::open(dir.path(), options.clone()).unwrap_err();
    assert!(
        matches!(&err, FileError::Corrupt { file, offset, why }
            if *file == segs[0] && *offset == named_at as u64 && why.contains("not 2")),
        "{err:?}"
    );
    // A frame after it (segment 1's first frame again).
    let first = &data[0][16..ends(&data[0])[0]];
    std::fs::write(&segs[0], [&data[0][..], first].concat()).unwrap();
    let err = FileStore::open(dir.path(), options.clone()).unwrap_err();
    assert!(
        matches!(&err, FileError::Corrupt { file, offset, why }
            if *file == segs[0] && *offset == named_at as u64 && why.contains("after")),
        "{err:?}"
    );
    std::fs::write(&segs[0], &data[0]).unwrap();
    FileStore::open(dir.path(), options).expect("whole again");
}

#[test]
fn a_truncated_snapshot_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let store = fill(open(dir.path()), 30);
    store.checkpoint().unwrap();
    drop(store);
    let snap = dir.path().join("snapshot-00000000000000000002.snap");
    let data = std::fs::read(&snap).unwrap();
    for cut in [data.len() - 1, data.len() / 2, 20] {
        std::fs::write(&snap, &data[..cut]).unwrap();
        let err = FileStore::open(dir.path(), Options::new()).unwrap_err();
        assert!(
            matches!(&err, FileError::Corrupt { file, .. } if *file == snap),
            "{err:?}"
        );
    }
}

/// Segments are at format 2 (format 1, plaint 0.1.0's, is still read), snapshots and runs at
/// 1: anything newer is refused, never guessed at.
#[test]
fn a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    for (file, newer, supported) in [
        (segments(dir.path()).pop().unwrap(), 5, 4),
        (files(dir.path(), "snap").pop().unwrap(), 4, 3),
    ] {
        let data = std::fs::read(&file).unwrap();
        let mut changed = data.clone();
        changed[8] = newer;
        std::fs::write(&file, &changed).unwrap();
        let err = FileStore::open(dir.path(), Options::new()).unwrap_err();
        assert!(
            matches!(
                &err,
                FileError::UnsupportedFormat { file: f, found, supported: s }
                    if *f == file && *found == u32::from(newer) && *s == supported
            ),
            "{err:?}"
        );
        assert_eq!(
            std::fs::read(&file).unwrap(),
            changed,
            "nothing was changed"
        );
        std::fs::write(&file, &data).unwrap();
    }
}

#[test]
fn after_a_failed_sync_writes_are_refused_until_reopened() {
    let fs = SimFs::new();
    let dir = Path::new("/store");
    let options = Options::new().fs(Arc::new(fs.clone()));
    let (engine, _) = engine(FileStore::open(dir, options.clone()).unwrap().store);
    step(&engine, 0).unwrap();
    fs.fail_sync(fs.syncs() + 1);
    assert!(
        step(&engine, 1).is_err(),
        "the failed sync is not acknowledged"
    );
    let refused = step(&engine, 3).unwrap_err().to_string();
    assert!(refused.contains("reopen"), "{refused}");
    // Reads go on.
    assert!(
        engine
            .store()
            .load(&complaint_id(0))
            .wait()
            .unwrap()
            .is_some()
    );
    drop(engine);
    let (reopened, _) = common::engine(FileStore::open(dir, options).unwrap().store);
    check(reopened.store(), &[0], &[1], 6);
    step(&reopened, 6).expect("a reopened store writes again");
}

/// Checkpoints write while appends go on: complaints move to runs while commands for them
/// are in flight, and come back. Nothing is lost, and memory, runs and a reopen agree.
#[test]
fn appends_go_on_while_checkpoints_write_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new().checkpoint_after(Some(8 << 10));
    let store = FileStore::open(dir.path(), options.clone()).unwrap().store;
    let (engine, _) = engine(store);
    let engine = Arc::new(engine);
    let done = std::sync::atomic::AtomicBool::new(false);
    let checkpoints = std::thread::scope(|s| {
        let writers: Vec<_> = (0..6u64)
            .map(|t| {
                let engine = &engine;
                s.spawn(move || {
                    for k in 0..20u64 {
                        let base = (t * 20 + k) * 3;
                        (base..base + 3).for_each(|i| step(engine, i).expect("runs"));
                    }
                })
            })
            .collect();
        let checkpointer = s.spawn(|| {
            let mut n = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                engine.store().checkpoint().expect("checkpoints");
                n += 1;
            }
            n
        });
        writers.into_iter().for_each(|w| w.join().unwrap());
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        checkpointer.join().unwrap()
    });
    assert!(checkpoints > 1, "{checkpoints} checkpoints");
    let all: Vec<u64> = (0..360).collect();
    check(engine.store(), &all, &[], 360);
    let before = contents(engine.store(), 360);
    drop(engine);
    let store = FileStore::open(dir.path(), options).unwrap().store;
    check(&store, &all, &[], 360);
    assert_eq!(contents(&store, 360), before);
}

#[test]
fn a_failed_checkpoint_refuses_writes_until_reopened_and_loses_nothing() {
    let fs = SimFs::new();
    let dir = Path::new("/store");
    let options = Options::new().fs(Arc::new(fs.clone()));
    let (engine, _) = engine(FileStore::open(dir, options.clone()).unwrap().store);
    (0..6).for_each(|i| step(&engine, i).unwrap());
    drop(engine);
    // The first syncs of a checkpoint: the new segment's and the directory's, then the run's.
    for skip in 1..5 {
        let (engine, _) = common::engine(FileStore::open(dir, options.clone()).unwrap().store);
        fs.fail_sync(fs.syncs() + skip);
        assert!(engine.store().checkpoint().is_err(), "sync {skip}");
        let refused = step(&engine, 6).unwrap_err().to_string();
        assert!(refused.contains("reopen"), "{refused}");
        drop(engine);
        let store = FileStore::open(dir, options.clone()).unwrap().store;
        check(&store, &[0, 1, 2, 3, 4, 5], &[], 9);
    }
}

/// Writers racing on one complaint: a conflict with an append still in flight is reported
/// once that append is applied, so the engine's retry loads the new state instead of the
/// same one again (before, four racers used up even 1,000 retries each while a winner's sync
/// ran, and failed).
#[test]
fn racing_writers_on_one_complaint_all_get_through() {
    use plaint_core::{Command, Evidence, EvidenceKind, testing};
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new().checkpoint_after(Some(32 << 10));
    let store = FileStore::open(dir.path(), options.clone()).unwrap().store;
    // Four racers: each round one wins, so a racer may lose many rounds in a row; what must
    // not happen is retries spinning through the budget while the winner's write is in flight.
    let engine = plaint_core::blocking::Engine::builder(store, testing::policy())
        .max_attempts(100)
        .build();
    let id = complaint_id(0);
    let receive = Command::Receive(Arc::new(testing::intake(testing::t(0))));
    engine
        .execute(command_id(0), &id, receive, &testing::agent())
        .unwrap();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let (engine, id) = (&engine, &id);
            s.spawn(move || {
                for i in 0..50u64 {
                    let evidence = Evidence {
                        kind: EvidenceKind::Photo,
                        reference: format!("p-{t}-{i}").into(),
                        content_hash: None,
                    };
                    let cmd = plaint_core::CommandId::new(format!("e-{t}-{i}")).unwrap();
                    let add = Command::AddEvidence(evidence);
                    engine.execute(cmd, id, add, &testing::customer()).unwrap();
                }
            });
        }
    });
    let store = engine.into_store();
    let state = store.load(&id).wait().unwrap().unwrap();
    assert_eq!((state.version, state.evidence.len()), (201, 200));
    let history = store.history(&id).wait().unwrap();
    let replayed = plaint_core::Complaint::replay(id.clone(), &history).unwrap();
    assert_eq!(replayed, *state);
    drop(store);
    let store = FileStore::open(dir.path(), options).unwrap().store;
    assert_eq!(store.load(&id).wait().unwrap().as_deref(), Some(&replayed));
}

#[test]
fn concurrent_appenders_share_syncs_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = engine(open(dir.path()));
    let engine = Arc::new(engine);
    std::thread::scope(|s| {
        for t in 0..8u64 {
            let engine = &engine;
            s.spawn(move || {
                for k in 0..10u64 {
                    let base = (t * 10 + k) * 3;
                    (base..base + 3).for_each(|i| step(engine, i).expect("runs"));
                }
            });
        }
    });
    drop(engine);
    let store = open(dir.path());
    check(&store, &(0..240).collect::<Vec<_>>(), &[], 240);
}
