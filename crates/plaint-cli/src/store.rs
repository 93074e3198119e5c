//! `plaint store`: look after a FileStore directory — what it holds, and a checkpoint now.

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
}

/// Opens the FileStore in `dir`, which must exist: a mistyped path is an error, never a new,
/// empty store.
pub(crate) fn open(dir: &Path) -> Result<plaint::file::Opened, CliError> {
    if !dir.is_dir() {
        return Err(CliError::Store(format!(
            "{}: no store here (not a directory)",
            dir.display()
        )));
    }
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
            println!("{}", dir.display());
            println!(
                "opened: {} segment(s) replayed, {} record(s), {} run(s)",
                r.segments, r.records, r.runs
            );
            if let Some(tail) = &r.torn_tail {
                println!(
                    "cut a torn write off {} at byte {}",
                    tail.file.display(),
                    tail.offset
                );
            }
            println!("on disk: {files} file(s), {bytes} bytes");
            let total = opened
                .store
                .count(&ListQuery::new())
                .wait()
                .map_err(|e| fail(&e))?;
            println!("complaints: {total}");
            for stage in StageKind::ALL {
                let n = opened
                    .store
                    .count(&ListQuery::new().stage(stage))
                    .wait()
                    .map_err(|e| fail(&e))?;
                if n > 0 {
                    println!("  {:<22} {n}", stage.name());
                }
            }
            let dead = opened.store.dead_letters().wait().map_err(|e| fail(&e))?;
            println!("dead letters: {}", dead.len());
            opened.store.close().map_err(|e| fail(&e))?;
        }
        StoreCmd::Checkpoint { store: dir } => {
            let opened = open(&dir)?;
            let fail = failed(&dir);
            opened.store.checkpoint().map_err(|e| fail(&e))?;
            opened.store.close().map_err(|e| fail(&e))?;
            let (files, bytes) = on_disk(&dir)?;
            println!(
                "checkpointed {}: {files} file(s), {bytes} bytes",
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
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
