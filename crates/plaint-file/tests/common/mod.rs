//! A workload for the crash and kill tests: step `i` is one command on complaint `i / 3`
//! (receive, triage, route), with command id `cmd-i`, through an engine over a FileStore.

#![allow(dead_code, unreachable_pub)]

use plaint_core::blocking::Engine;
use plaint_core::blocking::Wait as _;
use plaint_core::{
    CategoryPath, Command, CommandId, Complaint, ComplaintId, DepartmentKey, ManualClock, Party,
    RecordingNotifier, Responsibility, Store, TierKey, Validity, testing,
};
use plaint_file::FileStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub type Eng = Engine<FileStore, Arc<RecordingNotifier>, Arc<ManualClock>>;

pub fn engine(store: FileStore) -> (Eng, Arc<RecordingNotifier>) {
    let notifier = Arc::new(RecordingNotifier::new());
    let clock = Arc::new(ManualClock::new(testing::t(1)));
    let engine = Engine::builder(store, testing::policy())
        .notifier(Arc::clone(&notifier))
        .clock(clock)
        .build();
    (engine, notifier)
}

pub fn command_id(i: u64) -> CommandId {
    CommandId::new(format!("cmd-{i}")).expect("valid")
}

pub fn complaint_id(i: u64) -> ComplaintId {
    ComplaintId::new(format!("C-{:06}", i / 3)).expect("valid")
}

/// The command of step `i`.
pub fn command(i: u64) -> Command {
    match i % 3 {
        0 => Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        1 => Command::Triage {
            category: CategoryPath::parse("logistics/loss").expect("valid"),
            tier: Some(TierKey::new("general").expect("valid")),
            validity: Validity::Valid,
        },
        _ => Command::Route {
            responsibility: Some(Responsibility {
                primary: DepartmentKey::new("outlet").expect("valid"),
                collaborating: vec![],
                party: Party::Internal {
                    unit: "outlet-1".into(),
                },
            }),
        },
    }
}

/// Runs step `i`; `Ok` means acknowledged.
pub fn step(engine: &Eng, i: u64) -> Result<(), plaint_core::EngineError> {
    engine
        .execute(
            command_id(i),
            &complaint_id(i),
            command(i),
            &testing::agent(),
        )
        .map(|_| ())
}

/// Checks a reopened store: every acknowledged step is there, nothing else is except
/// `maybe` (steps in flight at the crash), and every complaint's state is the fold of its
/// history.
pub fn check(store: &FileStore, acked: &[u64], maybe: &[u64], upto: u64) {
    for &i in acked {
        assert!(
            store.command(&command_id(i)).wait().unwrap().is_some(),
            "acknowledged step {i} is missing"
        );
    }
    for i in 0..upto {
        if store.command(&command_id(i)).wait().unwrap().is_some() {
            assert!(
                acked.contains(&i) || maybe.contains(&i),
                "step {i} is present but was never written"
            );
        }
    }
    for k in 0..upto.div_ceil(3) {
        let id = complaint_id(k * 3);
        let history = store.history(&id).wait().unwrap();
        let state = store.load(&id).wait().unwrap();
        let replayed = Complaint::replay(id, &history);
        assert_eq!(
            state.as_deref(),
            replayed.as_ref(),
            "state is not the fold of history"
        );
    }
}

/// The store's files ending in `.{extension}`, in order.
pub fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    v.sort();
    v
}
