//! `plaint store`: look after a FileStore directory — what it holds, a checkpoint now, a
//! verification, a backup and its restore, one record exported.

use crate::CliError;
use plaint::blocking::Wait as _;
use plaint::{ListQuery, StageKind, Store};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `plaint store`'s subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum StoreCmd {
    /// What the store holds: complaints by stage, the files on disk, and what opening found.
    Stats {
        /// The FileStore directory (opened as a service opens it: not while one holds it).
        store: PathBuf,
    },
    /// Checkpoints now (closed complaints into runs, a snapshot of the rest, the log before
    /// it dropped), then closes the store.
    Checkpoint {
        /// The FileStore directory.
        store: PathBuf,
    },
    /// Reads every file and reports damage with the file and byte offset, changing nothing
    /// (no lock: it may run beside the store's owner, though a store in use changes while it
    /// is read — verify a backup for a verdict). Exits 0 when clean, 1 on damage, 2 when it
    /// could not read.
    Verify {
        /// The FileStore directory.
        store: PathBuf,
    },
    /// Copies a store, in use or not, consistently into DEST (which must not exist or be
    /// empty), then verifies the copy. The copy holds every command acknowledged before the
    /// backup started and a prefix, in commit order, of those written during it. The store's
    /// key table (`keys`) is never copied: keep it on its own terms, and give it to `restore`.
    Backup {
        /// The FileStore directory.
        store: PathBuf,
        /// Where the copy goes.
        dest: PathBuf,
    },
    /// Restores a backup into STORE, refusing a STORE that holds files and a backup that does
    /// not verify clean.
    Restore {
        /// The backup's directory.
        backup: PathBuf,
        /// The store's directory (must not exist or be empty).
        store: PathBuf,
        /// The key table to open the backup's sealed personal data with: the store's current
        /// `keys` file (a complaint erased since the backup then reads `[erased]`), or a copy
        /// of it kept on its own terms. A backup never holds one.
        #[arg(long)]
        keys: Option<PathBuf>,
    },
    /// Prints one complaint's or one complainant's whole record — each complaint's state and
    /// history — as one JSON document, the engine's personal-data export (what a
    /// data-access request needs).
    Export {
        /// The FileStore directory.
        store: PathBuf,
        /// Export this complaint.
        #[arg(
            long,
            conflicts_with = "complainant",
            required_unless_present = "complainant"
        )]
        complaint: Option<String>,
        /// Export every complaint of this complainant (`intake.complainant.id`).
        #[arg(long)]
        complainant: Option<String>,
    },
}

/// Opens the FileStore in `dir`, which must exist: a mistyped path is an error, never a new,
/// empty store.
pub(crate) fn open(dir: &Path) -> Result<plaint::file::Opened, CliError> {
    existing_dir(dir)?;
    plaint::FileStore::open(dir, plaint::file::Options::new())
        .map_err(|e| CliError::Store(format!("{}: {e}", dir.display())))
}

fn failed(dir: &Path) -> impl Fn(&dyn std::fmt::Display) -> CliError + '_ {
    move |e| CliError::Store(format!("{}: {e}", dir.display()))
}

pub(crate) fn run(command: StoreCmd) -> Result<ExitCode, CliError> {
    match command {
        StoreCmd::Stats { store: dir } => {
            let (files, bytes) = on_disk(&dir)?;
            let opened = open(&dir)?;
            let fail = failed(&dir);
            let r = &opened.report;
            outln!("{}", dir.display());
            outln!(
                "opened: {} segment(s) replayed, {} record(s), {} run(s)",
                r.segments,
                r.records,
                r.runs
            );
            if let Some(tail) = &r.torn_tail {
                outln!(
                    "cut a torn write off {} at byte {}",
                    tail.file.display(),
                    tail.offset
                );
            }
            outln!("on disk: {files} file(s), {bytes} bytes");
            let total = opened
                .store
                .count(&ListQuery::new())
                .wait()
                .map_err(|e| fail(&e))?;
            outln!("complaints: {total}");
            for stage in StageKind::ALL {
                let n = opened
                    .store
                    .count(&ListQuery::new().stage(stage))
                    .wait()
                    .map_err(|e| fail(&e))?;
                if n > 0 {
                    outln!("  {:<22} {n}", stage.name());
                }
            }
            let dead = opened.store.dead_letters().wait().map_err(|e| fail(&e))?;
            outln!("dead letters: {}", dead.len());
            opened.store.close().map_err(|e| fail(&e))?;
        }
        StoreCmd::Checkpoint { store: dir } => {
            let opened = open(&dir)?;
            let fail = failed(&dir);
            opened.store.checkpoint().map_err(|e| fail(&e))?;
            opened.store.close().map_err(|e| fail(&e))?;
            let (files, bytes) = on_disk(&dir)?;
            outln!(
                "checkpointed {}: {files} file(s), {bytes} bytes",
                dir.display()
            );
        }
        StoreCmd::Verify { store: dir } => return verify(&dir),
        StoreCmd::Backup { store, dest } => {
            let copied = plaint::file::backup(&store, &dest).map_err(|e| backup_failed(&e))?;
            copied_to(&dest, &copied);
        }
        StoreCmd::Restore {
            backup,
            store,
            keys,
        } => {
            let copied = plaint::file::restore(&backup, &store, keys.as_deref())
                .map_err(|e| backup_failed(&e))?;
            copied_to(&store, &copied);
        }
        StoreCmd::Export {
            store: dir,
            complaint,
            complainant,
        } => {
            let opened = open(&dir)?;
            let which = match (complaint, complainant) {
                (Some(id), _) => Subject::Complaint(id),
                (None, Some(id)) => Subject::Complainant(id),
                (None, None) => return Err(CliError::Usage("--complaint or --complainant".into())),
            };
            let document = export(&opened.store, &which).map_err(|e| failed(&dir)(&e))?;
            opened.store.close().map_err(|e| failed(&dir)(&e))?;
            let Some(document) = document else {
                return Err(CliError::Usage(format!(
                    "{which} is not in {}",
                    dir.display()
                )));
            };
            outln!(
                "{}",
                serde_json::to_string_pretty(&document)
                    .map_err(|e| CliError::Usage(e.to_string()))?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses a path that is not a directory: no store there (opening would make a new one).
pub(crate) fn existing_dir(dir: &Path) -> Result<(), CliError> {
    if dir.is_dir() {
        return Ok(());
    }
    Err(CliError::Store(format!(
        "{}: no store here (not a directory)",
        dir.display()
    )))
}

/// `plaint store verify`: every finding on its own line; exit 0 clean, 1 damage, 2 unreadable.
fn verify(dir: &Path) -> Result<ExitCode, CliError> {
    existing_dir(dir)?;
    let v = plaint::file::verify(dir).map_err(|e| failed(dir)(&e))?;
    for f in &v.findings {
        outln!("{f}");
    }
    let damaged = v
        .findings
        .iter()
        .filter(|f| f.severity == plaint::file::Severity::Damage)
        .count();
    outln!(
        "{}: {} file(s), {} bytes, {} log frame(s), {} complaint(s) in the snapshot and runs: {}",
        dir.display(),
        v.files,
        v.bytes,
        v.frames,
        v.complaints,
        if damaged == 0 {
            "clean".to_owned()
        } else {
            format!("{damaged} damaged place(s)")
        }
    );
    Ok(if v.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn backup_failed(e: &plaint::file::BackupError) -> CliError {
    CliError::Store(e.to_string())
}

fn copied_to(dest: &Path, copied: &plaint::file::Copied) {
    outln!(
        "copied {} file(s), {} bytes into {}; verified clean",
        copied.files.len(),
        copied.bytes,
        dest.display()
    );
}

/// Whose record `plaint store export` writes.
#[derive(Debug)]
pub(crate) enum Subject {
    /// One complaint, by id.
    Complaint(String),
    /// Every complaint of one complainant, by actor id.
    Complainant(String),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Complaint(id) => write!(f, "complaint {id:?}"),
            Self::Complainant(id) => write!(f, "complainant {id:?}"),
        }
    }
}

/// The whole record of `subject` in `store` as one JSON document: the engine's
/// [`plaint::Export`] (each complaint's state and history), made now, read with the operator's
/// own rights to the files; `None` when the store holds nothing of it.
pub(crate) fn export<S: Store>(
    store: &S,
    subject: &Subject,
) -> Result<Option<plaint::Export>, Box<dyn std::error::Error>> {
    let now = plaint::chrono::Utc::now();
    let export = match subject {
        Subject::Complaint(id) => {
            plaint::Export::of_complaint(store, &plaint::ComplaintId::new(id.clone())?, now)
                .wait()?
        }
        Subject::Complainant(who) => {
            Some(plaint::Export::of(store, &plaint::ActorId::new(who.clone())?, now).wait()?)
        }
    };
    Ok(export.filter(|e| !e.complaints.is_empty()))
}

/// How many files the directory holds, and their bytes.
fn on_disk(dir: &Path) -> Result<(usize, u64), CliError> {
    let io = |source| CliError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut files = 0;
    let mut bytes = 0;
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let meta = entry.map_err(io)?.metadata().map_err(io)?;
        if meta.is_file() {
            files += 1;
            bytes += meta.len();
        }
    }
    Ok((files, bytes))
}
