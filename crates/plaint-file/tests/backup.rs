//! `verify`, `backup` and `restore`: a clean store verifies clean and stays byte for byte as
//! it was; damage in a segment, a snapshot or a run is reported with its file and offset; a
//! backup taken while another thread appends opens, verifies clean and holds a prefix of the
//! acknowledged commands; restore refuses to write over files.

mod common;

use common::{command_id, engine, step};
use plaint_core::Command;
use plaint_core::blocking::Wait as _;
use plaint_core::{Store, testing};
use plaint_file::{
    BackupError, FileStore, Options, Severity, Verified, backup, install_keys, restore, verify,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Every file's bytes, by name.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// A closed store with a snapshot, a run (of withdrawn complaints) and several segments.
fn written(dir: &Path) -> PathBuf {
    let path = dir.join("store");
    let options = Options::new().segment_size(2048).checkpoint_after(None);
    let (engine, _) = engine(FileStore::open(&path, options).unwrap().store);
    for i in 0..30 {
        step(&engine, i).unwrap();
    }
    for k in 0..4u64 {
        let id = common::complaint_id(k * 3);
        let withdraw = Command::Withdraw { reason: None };
        let cmd = plaint_core::CommandId::new(format!("w-{k}")).unwrap();
        engine
            .execute(cmd, &id, withdraw, &testing::agent())
            .unwrap();
    }
    let store = engine.into_store();
    store.checkpoint().unwrap();
    let (engine, _) = common::engine(store);
    for i in 30..60 {
        step(&engine, i).unwrap();
    }
    engine.into_store().close().unwrap();
    path
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for (name, data) in contents(from) {
        std::fs::write(to.join(name), data).unwrap();
    }
}

fn damage(v: &Verified) -> Vec<&plaint_file::Finding> {
    v.findings
        .iter()
        .filter(|f| f.severity == Severity::Damage)
        .collect()
}

#[test]
fn a_clean_store_verifies_clean_and_is_left_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let store = written(tmp.path());
    let before = contents(&store);
    let v = verify(&store).unwrap();
    assert!(v.is_clean(), "{:?}", v.findings);
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    // The 10 complaints the checkpoint wrote (the 10 after it are in the log).
    assert_eq!(v.complaints, 10);
    assert!(v.frames > 20, "{v:?}");
    assert!(before.keys().any(|n| n.starts_with("run-")), "{before:?}");
    assert!(
        before.keys().filter(|n| n.starts_with("segment-")).count() > 1,
        "{before:?}"
    );
    assert_eq!(contents(&store), before, "verify changed the store");
}

#[test]
fn damage_is_reported_with_its_file_and_offset_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let store = written(tmp.path());
    let files = |ext| common::files(&store, ext);

    // A byte flipped in the middle of the first segment (it has a successor: acknowledged data).
    let copy = tmp.path().join("segment");
    copy_dir(&store, &copy);
    let segment = copy.join(files("log")[0].file_name().unwrap());
    let mut data = std::fs::read(&segment).unwrap();
    let at = data.len() / 2;
    data[at] ^= 0x20;
    std::fs::write(&segment, &data).unwrap();
    let before = contents(&copy);
    let v = verify(&copy).unwrap();
    assert!(!v.is_clean());
    let found = damage(&v);
    assert_eq!(found[0].file, segment, "{found:?}");
    // The frame holding the byte starts at or before it, less than a frame's length before.
    assert!(
        found[0].offset <= at as u64 && at as u64 - found[0].offset < 2048,
        "{found:?}"
    );
    assert_eq!(contents(&copy), before, "verify changed the damaged copy");
    let open = FileStore::open(&copy, Options::new())
        .map(|_| ())
        .unwrap_err();
    assert!(open.to_string().contains(&segment.display().to_string()));

    // A snapshot cut short.
    let copy = tmp.path().join("snapshot");
    copy_dir(&store, &copy);
    let snapshot = copy.join(files("snap")[0].file_name().unwrap());
    let len = std::fs::metadata(&snapshot).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&snapshot)
        .unwrap()
        .set_len(len - 7)
        .unwrap();
    let v = verify(&copy).unwrap();
    let found = damage(&v);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].file, snapshot);
    assert!(found[0].offset > 0 && found[0].offset < len, "{found:?}");
    assert!(found[0].to_string().contains("at byte"), "{}", found[0]);

    // A byte flipped inside a run (its first complaint's state).
    let copy = tmp.path().join("run");
    copy_dir(&store, &copy);
    let run = copy.join(files("tbl")[0].file_name().unwrap());
    let mut data = std::fs::read(&run).unwrap();
    data[40] ^= 0x01;
    std::fs::write(&run, &data).unwrap();
    let v = verify(&copy).unwrap();
    let found = damage(&v);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].file.as_path(), found[0].offset),
        (run.as_path(), 16)
    );

    // A missing segment.
    let copy = tmp.path().join("missing");
    copy_dir(&store, &copy);
    let log = files("log");
    let gone = copy.join(log[log.len() - 1].file_name().unwrap());
    std::fs::remove_file(&gone).unwrap();
    let v = verify(&copy).unwrap();
    assert_eq!(damage(&v)[0].file, gone, "{:?}", v.findings);

    // A torn tail (a write cut short in the newest segment) is a note, not damage.
    let copy = tmp.path().join("torn");
    copy_dir(&store, &copy);
    let newest = copy.join(log[log.len() - 1].file_name().unwrap());
    let mut data = std::fs::read(&newest).unwrap();
    let at = data.len() as u64;
    data.extend_from_slice(&[9, 0, 0, 0, 1, 2]);
    std::fs::write(&newest, &data).unwrap();
    let v = verify(&copy).unwrap();
    assert!(v.is_clean(), "{:?}", v.findings);
    assert_eq!(
        (v.findings[0].file.clone(), v.findings[0].offset),
        (newest, at)
    );
}

#[test]
fn a_newer_format_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let store = written(tmp.path());
    let segment = common::files(&store, "log").pop().unwrap();
    let mut data = std::fs::read(&segment).unwrap();
    data[8] = 9;
    std::fs::write(&segment, &data).unwrap();
    assert!(matches!(
        verify(&store),
        Err(plaint_file::FileError::UnsupportedFormat { found: 9, .. })
    ));
}

#[test]
fn a_backup_taken_while_appending_opens_clean_with_a_prefix_of_the_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("store");
    // Small segments and frequent checkpoints: rotations and removals happen under the copy.
    let options = Options::new()
        .segment_size(4096)
        .checkpoint_after(Some(16 << 10));
    let (engine, _) = engine(FileStore::open(&path, options).unwrap().store);
    let engine = Arc::new(engine);
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(Mutex::new(false));
    let writer = {
        let (engine, acked, stop) = (Arc::clone(&engine), Arc::clone(&acked), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut i = 0;
            while !*stop.lock().unwrap() && i < 20_000 {
                step(&engine, i).unwrap();
                i += 1;
                acked.store(i, Ordering::SeqCst);
            }
        })
    };
    let mut copies = Vec::new();
    for b in 0..5 {
        // Let some commands through first.
        while acked.load(Ordering::SeqCst) < 200 * (b + 1) {
            std::thread::yield_now();
        }
        let before = acked.load(Ordering::SeqCst);
        let dest = tmp.path().join(format!("backup-{b}"));
        let copied = backup(&path, &dest).unwrap();
        assert!(copied.verified.is_clean(), "{:?}", copied.verified.findings);
        assert!(
            copied
                .files
                .iter()
                .all(|f| !f.ends_with(".tmp") && f != "LOCK")
        );
        copies.push((dest, before));
    }
    *stop.lock().unwrap() = true;
    writer.join().unwrap();
    let written = acked.load(Ordering::SeqCst);
    for (dest, before) in copies {
        // A backup holds no key table: the store's current one opens it.
        install_keys(&path.join("keys"), &dest).unwrap();
        let store = FileStore::open(&dest, Options::new()).unwrap().store;
        let present: Vec<bool> = (0..written)
            .map(|i| store.command(&command_id(i)).wait().unwrap().is_some())
            .collect();
        let held = present.iter().take_while(|p| **p).count() as u64;
        assert!(
            present[held as usize..].iter().all(|p| !p),
            "not a prefix: {held} then more"
        );
        assert!(
            held >= before,
            "{dest:?} holds {held} of {before} acknowledged before"
        );
        store.close().unwrap();
    }
}

#[test]
fn restore_refuses_to_write_over_files_and_copies_a_clean_backup() {
    let tmp = tempfile::tempdir().unwrap();
    let store = written(tmp.path());
    let copy = tmp.path().join("backup");
    backup(&store, &copy).unwrap();
    // Another file in the store's directory (say, a key kept beside it) never travels.
    std::fs::write(store.join("keys.bin"), b"secret").unwrap();
    let again = tmp.path().join("again");
    backup(&store, &again).unwrap();
    assert!(!again.join("keys.bin").exists());
    // Nor does the store's own key table: erasing a key must reach every backup.
    assert!(store.join("keys").exists());
    assert!(!again.join("keys").exists());

    let target = tmp.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("x"), b"mine").unwrap();
    assert!(matches!(
        restore(&copy, &target, Some(&store.join("keys"))),
        Err(BackupError::NotEmpty(p)) if p == target
    ));
    assert_eq!(std::fs::read(target.join("x")).unwrap(), b"mine");
    assert!(matches!(
        backup(&store, &target),
        Err(BackupError::NotEmpty(_))
    ));

    let restored = tmp.path().join("restored");
    // The backup holds sealed personal data and no key table: restoring it needs one.
    assert!(matches!(
        restore(&copy, &restored, None),
        Err(BackupError::NoKeys(p)) if p == copy
    ));
    assert!(!restored.exists() || std::fs::read_dir(&restored).unwrap().next().is_none());
    let done = restore(&copy, &restored, Some(&store.join("keys"))).unwrap();
    assert!(done.verified.is_clean());
    let a = FileStore::open(&store, Options::new()).unwrap().store;
    let b = FileStore::open(&restored, Options::new()).unwrap().store;
    for i in 0..60 {
        assert_eq!(
            a.command(&command_id(i)).wait().unwrap(),
            b.command(&command_id(i)).wait().unwrap()
        );
    }

    // A damaged backup is refused, and nothing is written.
    let seg = common::files(&copy, "log")[0].clone();
    let mut data = std::fs::read(&seg).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0x20;
    std::fs::write(&seg, &data).unwrap();
    let fresh = tmp.path().join("fresh");
    assert!(matches!(
        restore(&copy, &fresh, Some(&store.join("keys"))),
        Err(BackupError::Damaged { .. })
    ));
    assert!(!fresh.exists());
    // Backing it up meets the damage while copying: refused, with the file, and nothing left.
    match backup(&copy, &fresh) {
        Err(BackupError::File(plaint_file::FileError::Corrupt { file, .. })) => {
            assert_eq!(file, seg)
        }
        other => panic!("{other:?}"),
    }
    assert!(!fresh.exists());
}

#[test]
fn a_store_of_plaint_file_0_1_0_verifies_and_backs_up_whole() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/store-0.1.0");
    let before = contents(&fixture);
    let v = verify(&fixture).unwrap();
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    // Its segments (format 1) name no successor: the listing tells the copy there is one.
    assert_eq!(v.files, 4);
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("copy");
    let copied = backup(&fixture, &copy).unwrap();
    assert_eq!(copied.files.len(), 4, "{:?}", copied.files);
    assert_eq!(contents(&copy), before);
    assert_eq!(contents(&fixture), before, "the fixture changed");
    FileStore::open(&copy, Options::new())
        .unwrap()
        .store
        .close()
        .unwrap();
}
