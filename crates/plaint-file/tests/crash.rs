//! Crash consistency on the fault-injecting file layer: crash at any sync, tear the unsynced
//! bytes any way, reopen — exactly the acknowledged commands are there (plus possibly the one
//! in flight, whole), state is the fold of history, and no notification went out for a write
//! that did not survive.

mod common;

use common::{check, engine, step};
use plaint_core::blocking::Wait as _;
use plaint_core::{ManualClock, RecordingNotifier, Store, testing};
use plaint_file::{FileStore, Options, SimFs, Tear};
use proptest::prelude::*;
use std::path::Path;
use std::sync::Arc;

fn tear() -> impl Strategy<Value = Tear> {
    prop_oneof![
        Just(Tear::Lose),
        (0usize..400).prop_map(Tear::Keep),
        (0usize..400).prop_map(Tear::Zeros),
    ]
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

/// Runs up to `steps` steps (with checkpoints and relays mixed in) until the simulated crash;
/// returns the acknowledged steps, the one in flight, and the notification ids delivered.
fn run_until_crash(
    options: Options,
    steps: u64,
    checkpoint_every: u64,
) -> (Vec<u64>, Vec<u64>, Vec<plaint_core::NotificationId>) {
    let (mut acked, mut maybe) = (Vec::new(), Vec::new());
    let Ok(opened) = FileStore::open(Path::new("/db"), options) else {
        return (acked, maybe, Vec::new());
    };
    let (engine, notifier) = engine(opened.store);
    for i in 0..steps {
        match step(&engine, i) {
            Ok(()) => acked.push(i),
            Err(_) => {
                maybe.push(i);
                break;
            }
        }
        if i % checkpoint_every == checkpoint_every - 1 && engine.store().checkpoint().is_err() {
            break;
        }
        if i % 4 == 3 && engine.relay().is_err() {
            break;
        }
    }
    let delivered = notifier.delivered().into_iter().map(|n| n.id).collect();
    (acked, maybe, delivered)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn exactly_the_acknowledged_commands_survive_a_crash(
        steps in 1u64..40,
        crash in 1u64..120,
        tear in tear(),
        segment_size in prop::sample::select(vec![600u64, 4096, 1 << 20]),
        checkpoint_every in 2u64..30,
        background in prop::option::of(prop::sample::select(vec![512u64, 2048])),
    ) {
        let fs = SimFs::new();
        fs.crash_at_sync(crash);
        // With `background`, appends also make checkpoints due, which the store's thread
        // writes beside them: the crash lands in its syncs too.
        let options = Options::new().segment_size(segment_size).checkpoint_after(background);
        let (acked, maybe, delivered) =
            run_until_crash(options.clone().fs(Arc::new(fs.clone())), steps, checkpoint_every);

        let image = fs.after_crash(tear);
        let opened = FileStore::open(Path::new("/db"), options.fs(Arc::new(image)))
            .unwrap_or_else(|e| panic!("reopening after a crash fails: {e}"));
        check(&opened.store, &acked, &maybe, steps);

        // Nothing was delivered for a write that did not survive.
        for id in &delivered {
            let version = opened.store.load(&id.complaint).wait().unwrap().map_or(0, |c| c.version);
            prop_assert!(id.version <= version, "{id} was delivered but never committed");
        }
        // Nothing is lost: a relay after the reopen empties the outbox.
        let notifier = Arc::new(RecordingNotifier::new());
        let engine = plaint_core::blocking::Engine::builder(opened.store, testing::policy())
            .notifier(Arc::clone(&notifier))
            .clock(Arc::new(ManualClock::new(testing::t(2))))
            .build();
        engine.relay().unwrap();
        let far = testing::t(24 * 365);
        prop_assert!(engine.store().claim_outbox(far, chrono::Duration::zero(), 1).wait().unwrap().is_empty());
        prop_assert!(engine.store().dead_letters().wait().unwrap().is_empty());
    }
}

#[test]
fn a_crash_during_a_checkpoint_leaves_a_store_that_opens() {
    // Find how many syncs a run with one checkpoint takes, then crash at each of them.
    let probe = SimFs::new();
    let options = Options::new().checkpoint_after(None);
    run_until_crash(options.clone().fs(Arc::new(probe.clone())), 12, 6);
    let total = probe.syncs();
    assert!(total > 12, "{total} syncs");
    for crash in 1..=total {
        for tear in [
            Tear::Lose,
            Tear::Keep(usize::MAX),
            Tear::Keep(30),
            Tear::Zeros(50),
        ] {
            let fs = SimFs::new();
            fs.crash_at_sync(crash);
            let (acked, maybe, _) =
                run_until_crash(options.clone().fs(Arc::new(fs.clone())), 12, 6);
            let image = Arc::new(fs.after_crash(tear));
            let opened = FileStore::open(Path::new("/db"), options.clone().fs(image))
                .unwrap_or_else(|e| panic!("crash at sync {crash}, {tear:?}: {e}"));
            check(&opened.store, &acked, &maybe, 12);
        }
    }
}

/// The same with the checkpoints that appends make due, written on the store's own thread
/// while appends go on: a crash at each sync, whichever thread asks for it.
#[test]
fn a_crash_during_a_checkpoint_on_its_thread_leaves_a_store_that_opens() {
    let options = Options::new().checkpoint_after(Some(1 << 10));
    let probe = SimFs::new();
    run_until_crash(options.clone().fs(Arc::new(probe.clone())), 30, 100);
    // Threads interleave differently from run to run: go some syncs further than the probe.
    let total = probe.syncs() + 20;
    let mut resumed = 0;
    for crash in 1..=total {
        for tear in [Tear::Lose, Tear::Keep(usize::MAX), Tear::Zeros(50)] {
            let fs = SimFs::new();
            fs.crash_at_sync(crash);
            let (acked, maybe, _) =
                run_until_crash(options.clone().fs(Arc::new(fs.clone())), 30, 100);
            let image = Arc::new(fs.after_crash(tear));
            let opened = FileStore::open(Path::new("/db"), options.clone().fs(image))
                .unwrap_or_else(|e| panic!("crash at sync {crash}, {tear:?}: {e}"));
            resumed += usize::from(opened.report.resumed.is_some());
            check(&opened.store, &acked, &maybe, 30);
        }
    }
    assert!(resumed > 0, "no crash landed in a checkpoint");
}

/// A checkpoint a crash stops is finished by the next open from where it stopped: a run it had
/// written (renamed into place, so whole) is kept as it is, not written again. Crashes at
/// every sync of a run with two checkpoints.
#[test]
fn opening_finishes_a_stopped_checkpoint_keeping_the_runs_it_wrote() {
    use plaint_file::fs::Fs;
    let dir = Path::new("/db");
    let options = Options::new().checkpoint_after(None);
    let probe = SimFs::new();
    run_until_crash(options.clone().fs(Arc::new(probe.clone())), 12, 6);
    let runs = |fs: &SimFs| -> Vec<String> {
        let mut names = fs.list(dir).unwrap();
        names.retain(|n| n.ends_with(".tbl"));
        names
    };
    let (mut kept, mut written) = (0, 0);
    for crash in 1..=probe.syncs() {
        let fs = SimFs::new();
        fs.crash_at_sync(crash);
        let (acked, maybe, _) = run_until_crash(options.clone().fs(Arc::new(fs.clone())), 12, 6);
        let image = fs.after_crash(Tear::Lose);
        let before = runs(&image);
        let opened = FileStore::open(dir, options.clone().fs(Arc::new(image.clone())))
            .unwrap_or_else(|e| panic!("crash at sync {crash}: {e}"));
        check(&opened.store, &acked, &maybe, 12);
        if opened.report.resumed.is_none() {
            continue;
        }
        // No run there before was written again (no merge at two runs).
        let created = image.created();
        let after = runs(&image);
        for run in &before {
            assert!(after.contains(run), "crash at sync {crash}: {run} removed");
            assert!(
                !created.contains(&dir.join(format!("{run}.tmp"))),
                "crash at sync {crash}: {run} written again"
            );
        }
        if created
            .iter()
            .any(|c| c.to_string_lossy().ends_with(".tbl.tmp"))
        {
            written += 1;
        } else {
            kept += 1;
        }
    }
    assert!(kept > 0 && written > 0, "kept {kept}, written {written}");
}

/// A bit flipped anywhere in the log but the last frame is corruption, reported with the file
/// and the offset of the damaged frame, and the files are left as they are; flipped in the
/// last frame it is indistinguishable from a torn write, and is cut and reported.
#[test]
fn a_flipped_bit_is_reported_never_skipped() {
    let dir = Path::new("/db");
    let segment = dir.join("segment-00000000000000000001.log");
    let options = Options::new().checkpoint_after(None);
    let fs = SimFs::new();
    let (acked, _, _) = run_until_crash(options.clone().fs(Arc::new(fs.clone())), 12, 100);
    assert_eq!(acked.len(), 12);
    let len = fs.len(&segment).unwrap();
    // Frame boundaries, from a clean open: each torn-off prefix that still opens whole ends
    // on one. The first frame starts after the 16-byte header.
    let mut flipped_in_middle = 0;
    for offset in (16..len).step_by(97) {
        let damaged = fs.after_crash(Tear::Lose);
        assert!(damaged.flip_bit(&segment, offset, (offset % 8) as u8));
        let before = damaged.len(&segment);
        match FileStore::open(dir, options.clone().fs(Arc::new(damaged.clone()))) {
            Err(plaint_file::FileError::Corrupt {
                file, offset: at, ..
            }) => {
                assert_eq!(file, segment);
                assert!(
                    at as usize <= offset && at >= 16,
                    "damage at {offset} reported at {at}"
                );
                assert_eq!(damaged.len(&segment), before, "nothing was cut");
                flipped_in_middle += 1;
            }
            Ok(opened) => {
                // Only the last frame may be taken for a torn write.
                let tail = opened
                    .report
                    .torn_tail
                    .expect("a flipped bit is never skipped silently");
                assert!(tail.offset as usize <= offset);
                assert_eq!(tail.offset as usize + tail.removed as usize, len);
                check(&opened.store, &acked[..acked.len() - 1], &acked, 12);
            }
            Err(e) => panic!("flip at {offset}: {e}"),
        }
    }
    assert!(flipped_in_middle > 0);
}

/// Review issue 12, item 8: a process killed during every checkpoint used to leave one more
/// segment each time and never a new snapshot, so every open replayed more. Here each life of
/// the process opens what the last crash left and appends until its `k`th sync (counted from
/// its start) crashes it, `k` cycling through 4 to 9 — too few for a whole checkpoint (a new
/// segment, a run, a snapshot: a dozen syncs), enough for one file of it. A checkpoint is
/// due after 1 KiB of log, so most crashes land in one (a run or a snapshot being written, or
/// opening finishing one); each crash tears the unsynced bytes another way. Across 60 lives
/// the log an open reads — segments and records replayed, the work an open does — and the
/// segments on disk stay bounded, appends go on, and nothing acknowledged is lost. (Opening
/// that wrote the stopped checkpoint's run again, instead of keeping it, makes no progress
/// here: checked by hand.)
#[test]
fn checkpoints_crashed_again_and_again_still_compact() {
    use plaint_file::fs::Fs;
    let dir = Path::new("/db");
    let options = Options::new().checkpoint_after(Some(1 << 10));
    let lives = 60u64;
    let mut image = SimFs::new();
    let (mut acked, mut next) = (Vec::<u64>::new(), 0u64);
    // (segments read, records replayed) at each open that got through; segment files and
    // whether a checkpoint's file was being written, after each crash.
    let (mut opens, mut logs) = (Vec::new(), Vec::new());
    let (mut in_checkpoint, mut resumed) = (0, 0);
    for life in 0..lives {
        let fs = image;
        fs.crash_at_sync(4 + life % 6);
        let opened = match FileStore::open(dir, options.clone().fs(Arc::new(fs.clone()))) {
            Ok(opened) => Some(opened),
            Err(_) if fs.has_crashed() => None,
            Err(e) => panic!("life {life}: opening fails: {e}"),
        };
        if let Some(opened) = opened {
            opens.push((opened.report.segments, opened.report.records));
            resumed += u32::from(opened.report.resumed.is_some());
            let (engine, _) = engine(opened.store);
            // The step in flight when the last life crashed may have made it.
            if engine
                .store()
                .command(&common::command_id(next))
                .wait()
                .unwrap()
                .is_some()
            {
                acked.push(next);
                next += 1;
            }
            while step(&engine, next).is_ok() {
                acked.push(next);
                next += 1;
            }
        }
        assert!(fs.has_crashed(), "life {life} ended before its crash");
        let tears = [
            Tear::Lose,
            Tear::Keep(40),
            Tear::Zeros(40),
            Tear::Keep(usize::MAX),
        ];
        image = fs.after_crash(tears[life as usize % tears.len()]);
        let names = image.list(dir).unwrap();
        logs.push(names.iter().filter(|n| n.ends_with(".log")).count());
        in_checkpoint += u32::from(names.iter().any(|n| n.ends_with(".tmp")));
    }
    let opened = FileStore::open(dir, options.fs(Arc::new(image))).unwrap();
    check(&opened.store, &acked, &[next], next + 1);
    eprintln!(
        "{lives} lives: {} opened, {resumed} of them finishing a checkpoint a crash stopped; \
         {} steps acknowledged; {in_checkpoint} crashes left a checkpoint's file half \
         written. (segments read, records replayed) at each open: {opens:?}; segment files \
         after each crash: {logs:?}",
        opens.len(),
        acked.len()
    );
    // Each life crashes at its 4th to 9th sync. Sealed records are larger (so the 1 KiB
    // threshold starts more checkpoints) and keys and their takings cost a sync now and
    // then: 34 steps got through before personal fields were sealed, 23–25 since (how many
    // syncs go to the checkpoint thread rather than the writer depends on timing: 23 on a
    // loaded machine). Appends that stopped going on would show far fewer.
    assert!(
        acked.len() as u64 >= lives / 3,
        "{} acknowledged",
        acked.len()
    );
    assert!(in_checkpoint as u64 >= lives / 4, "{in_checkpoint}");
    let segments = opens.iter().map(|o| o.0).max().unwrap();
    let records = opens.iter().map(|o| o.1).max().unwrap();
    let files = logs.iter().copied().max().unwrap();
    assert!(
        segments <= 3 && files <= 3,
        "segments read {segments}, segment files {files}"
    );
    assert!(records <= 40, "records replayed at an open: {records}");
}
