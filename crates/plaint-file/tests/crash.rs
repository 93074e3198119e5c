//! Crash consistency on the fault-injecting file layer: crash at any sync, tear the unsynced
//! bytes any way, reopen — exactly the acknowledged commands are there (plus possibly the one
//! in flight, whole), state is the fold of history, and no notification went out for a write
//! that did not survive.

mod common;

use common::{check, engine, step};
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
    ) {
        let fs = SimFs::new();
        fs.crash_at_sync(crash);
        let options = Options::new().segment_size(segment_size).checkpoint_after(None);
        let (acked, maybe, delivered) =
            run_until_crash(options.clone().fs(Arc::new(fs.clone())), steps, checkpoint_every);

        let image = fs.after_crash(tear);
        let opened = FileStore::open(Path::new("/db"), options.fs(Arc::new(image)))
            .unwrap_or_else(|e| panic!("reopening after a crash fails: {e}"));
        check(&opened.store, &acked, &maybe, steps);

        // Nothing was delivered for a write that did not survive.
        for id in &delivered {
            let version = opened.store.load(&id.complaint).unwrap().map_or(0, |c| c.version);
            prop_assert!(id.version <= version, "{id} was delivered but never committed");
        }
        // Nothing is lost: a relay after the reopen empties the outbox.
        let notifier = Arc::new(RecordingNotifier::new());
        let engine = plaint_core::Engine::builder(opened.store, testing::policy())
            .notifier(Arc::clone(&notifier))
            .clock(Arc::new(ManualClock::new(testing::t(2))))
            .build();
        engine.relay().unwrap();
        let far = testing::t(24 * 365);
        prop_assert!(engine.store().claim_outbox(far, chrono::Duration::zero(), 1).unwrap().is_empty());
        prop_assert!(engine.store().dead_letters().unwrap().is_empty());
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
