//! Personal data in a FileStore: sealed in every file, erased by shredding its keys, in all
//! or nothing across a crash, and out of reach of a backup taken before; staff texts sealed
//! too, and a redacted one out of reach the same way while the others survive.

use plaint_core::blocking::{Engine, Wait as _};
use plaint_core::{
    ActorId, CategoryPath, Command, CommandId, Complaint, ComplaintId, DepartmentKey, ERASED,
    Findings, ListQuery, ManualClock, Party, PersonalData, REDACTED, Responsibility, Store,
    TierKey, Validity, testing,
};
use plaint_file::fs::Fs as _;
use plaint_file::{FileStore, Options, SimFs, Tear};
use std::path::Path;
use std::sync::Arc;

type Eng = Engine<FileStore, plaint_core::DiscardNotifier, Arc<ManualClock>>;

const NAME: &str = "Zhang San";
const PHONE: &str = "13812345678";
const EMAIL: &str = "zhang.san@example.com";
const OTHER: &str = "Li Si";

fn engine_on(store: FileStore) -> Eng {
    Engine::builder(store, testing::policy())
        .clock(Arc::new(ManualClock::new(testing::t(1))))
        .build()
}

fn id(s: &str) -> ComplaintId {
    ComplaintId::new(s).expect("valid")
}

/// An engine over the store in `dir`.
fn engine_in(dir: &Path) -> Eng {
    engine_on(FileStore::open(dir, Options::new()).expect("open").store)
}

/// Two complaints of cust-1 (the sample intake: Zhang San) and one of cust-2 (Li Si).
fn populate(engine: &Eng) {
    for (c, who) in [("C-1", 1), ("C-2", 1), ("C-3", 2)] {
        let mut intake = testing::intake(testing::t(0));
        if who == 2 {
            intake.complainant.id = ActorId::new("cust-2").expect("valid");
            intake.complainant.name = OTHER.into();
            intake.complainant.contacts = vec![plaint_core::Contact::Phone("13998765432".into())];
        }
        engine
            .execute(
                CommandId::new(format!("r-{c}")).expect("valid"),
                &id(c),
                Command::Receive(Arc::new(intake)),
                &testing::agent(),
            )
            .expect("receives");
    }
}

/// Every byte of every file in `dir`.
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir") {
        let p = e.expect("entry").path();
        if p.is_file() {
            out.extend(std::fs::read(&p).expect("read"));
        }
    }
    out
}

fn holds(bytes: &[u8], s: &str) -> bool {
    bytes.windows(s.len()).any(|w| w == s.as_bytes())
}

fn copy_dir(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("dir") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().to_string();
        if p.is_file() && name != "LOCK" && !skip.contains(&name.as_str()) {
            std::fs::copy(&p, to.join(&name)).expect("copy");
        }
    }
}

fn name_of(store: &FileStore, c: &str) -> String {
    store
        .load(&id(c))
        .wait()
        .expect("load")
        .expect("exists")
        .intake
        .complainant
        .name
        .clone()
}

#[test]
fn no_file_holds_personal_data_and_erasure_shreds_every_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine_in(dir.path());
    populate(&engine);
    engine.store().checkpoint().expect("checkpoint");
    let before_list = engine.list(&ListQuery::new()).expect("list").items;
    engine.into_store().close().expect("close");

    // Sealed in every file: log, snapshot, runs; yet read back whole.
    let bytes = all_bytes(dir.path());
    for secret in [NAME, PHONE, EMAIL, OTHER] {
        assert!(!holds(&bytes, secret), "{secret} is in clear on disk");
    }
    let backup_before = dir.path().with_extension("backup");
    copy_dir(dir.path(), &backup_before, &["keys"]);
    let store = FileStore::open(dir.path(), Options::new())
        .expect("reopen")
        .store;
    assert_eq!(name_of(&store, "C-1"), NAME);

    // Only a role granted `erase_personal_data` may erase.
    let engine = engine_on(store);
    let cust = ActorId::new("cust-1").expect("valid");
    assert!(
        engine
            .erase_complainant(&cust, &testing::agent(), "asked")
            .is_err()
    );
    let done = engine
        .erase_complainant(&cust, &testing::privacy_officer(), "deletion request")
        .expect("erases");
    assert_eq!(done.erased, vec![id("C-1"), id("C-2")]);
    let history = engine.history(&id("C-1")).expect("history");
    let timeline: Vec<String> = history.iter().map(|r| r.event.to_string()).collect();
    assert!(
        timeline
            .iter()
            .any(|l| l.contains("personal data erased (deletion request)"))
    );
    assert!(
        history
            .iter()
            .all(|r| r.personal_values().iter().all(|v| v == ERASED))
    );
    let again = engine
        .erase_complainant(&cust, &testing::privacy_officer(), "again")
        .expect("second erasure");
    assert!(again.erased.is_empty() && again.already.len() == 2);
    engine
        .store()
        .checkpoint()
        .expect("checkpoint after erasure");
    engine.into_store().close().expect("close");

    // After reopening: erased where asked, the other complainant intact, everything that is
    // not personal as before, and the histories replay.
    let store = FileStore::open(dir.path(), Options::new())
        .expect("reopen")
        .store;
    assert_eq!(name_of(&store, "C-1"), ERASED);
    assert_eq!(name_of(&store, "C-2"), ERASED);
    assert_eq!(name_of(&store, "C-3"), OTHER);
    let after_list = store.list(&ListQuery::new()).wait().expect("list").items;
    assert_eq!(before_list.len(), after_list.len());
    for (b, a) in before_list.iter().zip(&after_list) {
        assert_eq!((&b.id, &b.stage, &b.tier), (&a.id, &a.stage, &a.tier));
        assert_eq!(b.intake.complainant.id, a.intake.complainant.id);
        let history = store.history(&a.id).wait().expect("history");
        assert_eq!(
            Complaint::replay(a.id.clone(), &history).as_ref(),
            Some(&**a)
        );
    }
    store.close().expect("close");
    let bytes = all_bytes(dir.path());
    for secret in [NAME, PHONE, EMAIL, OTHER] {
        assert!(!holds(&bytes, secret), "{secret} is in clear on disk");
    }

    // The backup taken before the erasure has no key file; with the store's key table it
    // yields nothing of the erased person any more, and the other's data still.
    std::fs::copy(dir.path().join("keys"), backup_before.join("keys")).expect("copy keys");
    let backup = FileStore::open(&backup_before, Options::new())
        .expect("open backup")
        .store;
    assert_eq!(name_of(&backup, "C-1"), ERASED);
    assert_eq!(name_of(&backup, "C-3"), OTHER);
    let history = backup.history(&id("C-1")).wait().expect("history");
    assert!(
        history
            .iter()
            .all(|r| r.personal_values().iter().all(|v| v == ERASED))
    );
    backup.close().expect("close");
    std::fs::remove_dir_all(&backup_before).expect("cleanup");
}

#[test]
fn a_key_table_that_is_missing_is_damage_not_erasure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine_in(dir.path());
    populate(&engine);
    engine.into_store().close().expect("close");
    std::fs::remove_file(dir.path().join("keys")).expect("remove keys");
    let err = FileStore::open(dir.path(), Options::new()).expect_err("no keys");
    assert!(
        matches!(err, plaint_file::FileError::Corrupt { .. }),
        "{err}"
    );
}

/// A store on a simulated file system holding the three complaints, closed.
fn populated() -> SimFs {
    let fs = SimFs::new();
    let options = Options::new().fs(Arc::new(fs.clone()));
    let engine = engine_on(
        FileStore::open(Path::new("/db"), options)
            .expect("open")
            .store,
    );
    populate(&engine);
    engine.into_store().close().expect("close");
    fs.after_crash(Tear::Lose)
}

/// Runs `act` on an engine over a copy of `base`, crashing at its first, second, … sync
/// until it runs through (it syncs the log and the key table, so more than twice); after each
/// crash, hands `check` the image each kind of tear leaves, opened twice, with the sync it
/// crashed at (the image stays for more).
fn at_every_sync<T>(
    base: &SimFs,
    act: impl Fn(&Eng) -> Result<T, plaint_core::EngineError>,
    check: impl Fn(&FileStore, &Arc<SimFs>, String),
) {
    for k in 1.. {
        let fs = base.after_crash(Tear::Lose);
        let options = Options::new().fs(Arc::new(fs.clone()));
        let engine = engine_on(
            FileStore::open(Path::new("/db"), options)
                .expect("open")
                .store,
        );
        fs.crash_at_sync(fs.syncs() + k);
        let result = act(&engine);
        if !fs.has_crashed() {
            assert!(result.is_ok(), "no crash: it succeeds");
            assert!(k > 2, "it syncs the log and the key table");
            return;
        }
        drop(engine);
        for tear in [Tear::Lose, Tear::Keep(usize::MAX), Tear::Keep(20)] {
            let image = Arc::new(fs.after_crash(tear));
            for round in 0..2 {
                let at = format!("crash at sync {k}, {tear:?}, round {round}");
                let options = Options::new().fs(Arc::clone(&image) as _);
                let store = FileStore::open(Path::new("/db"), options)
                    .unwrap_or_else(|e| panic!("{at}: {e}"))
                    .store;
                check(&store, &image, at);
                store.close().expect("close");
            }
        }
    }
}

#[test]
fn a_crash_at_every_sync_of_an_erasure_leaves_all_or_none_of_it() {
    let cust = ActorId::new("cust-1").expect("valid");
    at_every_sync(
        &populated(),
        |engine| engine.erase_complainant(&cust, &testing::privacy_officer(), "request"),
        |store, _, at| {
            for c in ["C-1", "C-2"] {
                let state = store.load(&id(c)).wait().expect("load").expect("exists");
                let history = store.history(&id(c)).wait().expect("history");
                let erased = state.erased_at.is_some();
                let want = if erased { ERASED } else { NAME };
                assert_eq!(state.intake.complainant.name, want, "{c}: {at}");
                assert!(
                    history
                        .iter()
                        .all(|r| r.personal_values().iter().all(|v| (v == ERASED) == erased)),
                    "{c}'s history is all or nothing: {at}"
                );
            }
            assert_eq!(name_of(store, "C-3"), OTHER);
        },
    );
}

/// A staff text that quotes a phone number, and one next to it that does not.
const QUOTED: &str = "Mis-sorted; the customer is on 13700001111";
const TRACE: &str = "waybill trace 7731";

/// C-1 triaged, routed, and its findings recorded with [`QUOTED`] and [`TRACE`]: returns the
/// findings' version.
fn investigate(engine: &Eng) -> u64 {
    let c = id("C-1");
    let run = |cmd: &str, command: Command| {
        engine
            .execute(
                CommandId::new(cmd).expect("valid"),
                &c,
                command,
                &testing::agent(),
            )
            .expect("applies")
    };
    run(
        "t",
        Command::Triage {
            category: CategoryPath::parse("logistics/delay").expect("valid"),
            tier: Some(TierKey::new("major").expect("valid")),
            validity: Validity::Valid,
        },
    );
    run(
        "o",
        Command::Route {
            responsibility: Some(Responsibility {
                primary: DepartmentKey::new("hub").expect("valid"),
                collaborating: vec![],
                party: Party::Internal {
                    unit: "outlet-1".into(),
                },
            }),
        },
    );
    run(
        "f",
        Command::RecordFindings {
            findings: Findings {
                summary: QUOTED.into(),
                records: vec![TRACE.into()],
            },
            root_cause: None,
        },
    )
    .version
}

fn redact(
    engine: &Eng,
    version: u64,
) -> Result<std::sync::Arc<Complaint>, plaint_core::EngineError> {
    engine.execute(
        CommandId::new("x").expect("valid"),
        &id("C-1"),
        Command::RedactText {
            version,
            field: "summary".into(),
            reason: "a phone number in staff text".into(),
        },
        &testing::privacy_officer(),
    )
}

/// C-1's findings as the store reads them: (summary, first record).
fn findings_of(store: &FileStore) -> (String, String) {
    let c = store
        .load(&id("C-1"))
        .wait()
        .expect("load")
        .expect("exists");
    let history = store.history(&id("C-1")).wait().expect("history");
    assert_eq!(
        Complaint::replay(id("C-1"), &history).as_ref(),
        Some(&*c),
        "the state is the fold of the history"
    );
    let f = c.findings.as_ref().expect("findings");
    (f.summary.to_string(), f.records[0].to_string())
}

#[test]
fn a_redacted_staff_text_is_out_of_every_copy_and_the_others_survive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine_in(dir.path());
    populate(&engine);
    let version = investigate(&engine);
    engine.store().checkpoint().expect("checkpoint");
    engine.into_store().close().expect("close");
    // Staff text is sealed like personal data: no file holds it in clear.
    let bytes = all_bytes(dir.path());
    for secret in [QUOTED, TRACE, "13700001111"] {
        assert!(!holds(&bytes, secret), "{secret} is in clear on disk");
    }
    let backup_before = dir.path().with_extension("backup");
    copy_dir(dir.path(), &backup_before, &["keys"]);

    let engine = engine_in(dir.path());
    assert_eq!(findings_of(engine.store()), (QUOTED.into(), TRACE.into()));
    let redacted = redact(&engine, version).expect("redacts");
    assert_eq!(
        &*redacted.findings.as_ref().expect("findings").summary,
        REDACTED
    );
    engine.into_store().close().expect("close");

    // Reopened from the log (the rewrite is after the snapshot), then from a checkpoint.
    for checkpoint in [false, true] {
        let store = FileStore::open(dir.path(), Options::new())
            .expect("reopen")
            .store;
        assert_eq!(findings_of(&store), (REDACTED.into(), TRACE.into()));
        assert_eq!(name_of(&store, "C-1"), NAME, "personal data is not touched");
        if checkpoint {
            store.checkpoint().expect("checkpoint");
        }
        store.close().expect("close");
    }
    let bytes = all_bytes(dir.path());
    for secret in [QUOTED, TRACE, NAME] {
        assert!(!holds(&bytes, secret), "{secret} is in clear on disk");
    }

    // The backup taken before the redaction, with the key table of after: the redacted
    // text does not open in it, nor do the complaint's other staff texts of then (their key
    // is shredded too; the store itself carries them in its rewrite).
    std::fs::copy(dir.path().join("keys"), backup_before.join("keys")).expect("copy keys");
    let backup = FileStore::open(&backup_before, Options::new())
        .expect("open backup")
        .store;
    assert_eq!(findings_of(&backup), (REDACTED.into(), REDACTED.into()));
    assert_eq!(name_of(&backup, "C-1"), NAME);
    backup.close().expect("close");
    std::fs::remove_dir_all(&backup_before).expect("cleanup");
}

#[test]
fn a_crash_at_every_sync_of_a_redaction_leaves_all_or_none_of_it() {
    let base = populated();
    let version = {
        let options = Options::new().fs(Arc::new(base.clone()));
        let engine = engine_on(
            FileStore::open(Path::new("/db"), options)
                .expect("open")
                .store,
        );
        let v = investigate(&engine);
        engine.into_store().close().expect("close");
        v
    };
    let base = base.after_crash(Tear::Lose);
    at_every_sync(
        &base,
        |engine| redact(engine, version),
        |store, image, at| {
            let (summary, trace) = findings_of(store);
            assert!(summary == QUOTED || summary == REDACTED, "{summary}: {at}");
            assert_eq!(trace, TRACE, "the other text survives: {at}");
            let redacted = store
                .history(&id("C-1"))
                .wait()
                .expect("history")
                .iter()
                .any(|r| matches!(r.event, plaint_core::Event::TextRedacted { .. }));
            assert_eq!(redacted, summary == REDACTED, "all or nothing: {at}");
            // The old staff key is shredded exactly when the redaction stands: the store
            // before the redaction, with the key table the crash left, reads its texts only
            // if the redaction did not happen.
            let keys = image.read(Path::new("/db/keys")).expect("keys");
            let before = base.after_crash(Tear::Lose);
            before.remove(Path::new("/db/keys")).expect("remove");
            let mut f = before.create(Path::new("/db/keys")).expect("create");
            f.write_all(&keys).expect("write");
            f.sync_data().expect("sync");
            drop(f);
            let options = Options::new().fs(Arc::new(before));
            let old = FileStore::open(Path::new("/db"), options)
                .expect("open")
                .store;
            let want = if redacted {
                (REDACTED.to_owned(), REDACTED.to_owned())
            } else {
                (QUOTED.to_owned(), TRACE.to_owned())
            };
            assert_eq!(findings_of(&old), want, "old copies: {at}");
            old.close().expect("close");
        },
    );
}

#[test]
fn a_power_cut_after_a_buffered_redaction_loses_no_text_it_kept() {
    let fs = populated();
    let options = Options::new()
        .fs(Arc::new(fs.clone()))
        .durability(plaint_file::Durability::Buffered);
    let engine = engine_on(
        FileStore::open(Path::new("/db"), options)
            .expect("open")
            .store,
    );
    let version = investigate(&engine);
    engine.store().sync().expect("sync");
    redact(&engine, version).expect("redacts");
    drop(engine);
    // Nothing synced the log after the redaction but the redaction itself: its keys were
    // shredded only once its record was on disk.
    let image = fs.after_crash(Tear::Lose);
    let store = FileStore::open(Path::new("/db"), Options::new().fs(Arc::new(image)))
        .expect("reopen")
        .store;
    assert_eq!(findings_of(&store), (REDACTED.into(), TRACE.into()));
}
