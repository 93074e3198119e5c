//! [`backup`]: a consistent copy of a store, even one in use, and [`restore`].

use crate::error::FileError;
use crate::frame::{self, SEGMENT};
use crate::run;
use crate::seal::KEYS_FILE;
use crate::snapshot;
use crate::store::{names_next, numbered, segment_name, snapshot_name};
use crate::verify::{Verified, verify};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// How many times a copy starts over when a checkpoint removes a file it needs.
const ATTEMPTS: usize = 10;

/// What [`backup`] or [`restore`] failed with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// The destination holds files already: a backup or restore never overwrites.
    #[error("{0} exists and is not empty: a backup or restore never writes over files")]
    NotEmpty(PathBuf),
    /// Checkpoints kept removing files the copy needed.
    #[error("{0} kept changing under the copy (10 attempts); try again")]
    Busy(PathBuf),
    /// The copy (left in place, to be looked at) or the backup to restore did not verify
    /// clean.
    #[error("{}: damaged ({})", .dir.display(), first_damage(.verified))]
    Damaged {
        /// The directory that was verified.
        dir: PathBuf,
        /// What verifying it found.
        verified: Box<Verified>,
    },
    /// The backup holds sealed personal fields and no key table was given to open them.
    #[error(
        "{0} holds sealed personal data: restore it with the store's key table (its `keys` file)"
    )]
    NoKeys(PathBuf),
    /// Reading the source or writing the copy failed, or the source is damaged (found while
    /// copying); the destination is left as it was.
    #[error(transparent)]
    File(#[from] FileError),
}

/// What a backup copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// The files written into the destination, by name, in the order they were copied.
    pub files: Vec<String>,
    /// Their bytes.
    pub bytes: u64,
    /// What verifying the copy found (clean, possibly with notes).
    pub verified: Verified,
}

/// Copies the FileStore in `src` — in use by another handle or not — into `dest`, which must
/// not exist or be empty; then verifies the copy.
///
/// # How a copy of a store in use is consistent
///
/// The store's files change in three ways only: snapshots and runs are written whole under a
/// temporary name and renamed into place, and never change after; segments only grow, by whole
/// frames (each one group commit), and a segment is named by the frame that ends the one before
/// it before anything is written to it; a checkpoint removes files only once a newer snapshot
/// no longer needs them. So the copy is taken in this order, without the store's lock:
///
/// 1. the newest snapshot `N` and the runs it lists (immutable: a copy is the file);
/// 2. segment `N`, then each segment the one before ends by naming, up to one that names no
///    next: the newest when it was read. Its frames are copied up to the last whole one (a
///    frame being written is cut, as opening cuts a torn tail).
///
/// The copy is therefore the store as of the end of that last frame: every command
/// acknowledged before `backup` was called, and a prefix, in commit order, of those written
/// while it ran (possibly including a group commit whose sync had not yet returned). If a
/// checkpoint removes a file the copy still needs while it runs, the copy starts over (a few
/// times, then [`BackupError::Busy`]). The copy is then synced and [`verify`](crate::verify())'d.
///
/// # What is copied
///
/// Exactly these files, never "everything in the directory": the newest
/// `snapshot-N.snap`, the `run-R.tbl` it lists, and the segments `segment-N.log` onward that
/// the log chains together. Not `LOCK`, not `*.tmp`, not leftovers of an interrupted
/// checkpoint, and no file any other part of an application keeps in the directory (so a key
/// kept there to make erased data unreadable never travels into a backup).
///
/// # Errors
/// [`BackupError::NotEmpty`] when `dest` holds files; [`BackupError::Busy`] when checkpoints
/// kept removing files under the copy; [`BackupError::File`] for damage met while copying (a
/// bad frame before the newest segment's end, a damaged snapshot) or an I/O failure;
/// [`BackupError::Damaged`] when the copy does not verify clean.
pub fn backup(src: impl AsRef<Path>, dest: impl AsRef<Path>) -> Result<Copied, BackupError> {
    copy(src.as_ref(), dest.as_ref(), None)
}

/// [`backup`], with the key table `keys` copied in after the data files, before verifying.
fn copy(src: &Path, dest: &Path, keys: Option<&Path>) -> Result<Copied, BackupError> {
    std::fs::read_dir(src).map_err(FileError::io("list", src))?;
    let created = !dest.exists();
    let result = copy_into(src, dest, keys);
    if created && matches!(result, Err(BackupError::File(_) | BackupError::Busy(_))) {
        // Nothing of a failed copy stays behind (each attempt removes its files).
        let _ = std::fs::remove_dir(dest);
    }
    result
}

fn copy_into(src: &Path, dest: &Path, keys: Option<&Path>) -> Result<Copied, BackupError> {
    refuse_files_in(dest)?;
    std::fs::create_dir_all(dest).map_err(FileError::io("create directory", dest))?;
    for _ in 0..ATTEMPTS {
        let mut copy = Copy {
            src,
            dest,
            files: Vec::new(),
            bytes: 0,
        };
        match copy.take() {
            Ok(()) => {
                if let Some(keys) = keys {
                    let data = std::fs::read(keys).map_err(FileError::io("read", keys))?;
                    copy.write(KEYS_FILE, &data)?;
                }
                sync_dir(dest)?;
                let verified = verify(dest)?;
                if !verified.is_clean() {
                    return Err(BackupError::Damaged {
                        dir: dest.to_owned(),
                        verified: Box::new(verified),
                    });
                }
                return Ok(Copied {
                    files: copy.files,
                    bytes: copy.bytes,
                    verified,
                });
            }
            Err(Retry::Again) => copy.undo()?,
            Err(Retry::Fail(e)) => {
                copy.undo()?;
                return Err(e.into());
            }
        }
    }
    Err(BackupError::Busy(src.to_owned()))
}

/// Restores the backup in `backup` into `store`, which must not exist or be empty: verifies
/// the backup, refusing a damaged one, then copies it as [`backup`] does with the key table
/// `keys` beside the data files, and verifies the copy once, with it.
///
/// A backup holds no key table (so that erasing a complaint's keys makes its data in every
/// backup unreadable): give the store's current `keys` file, or a copy of it kept on its own
/// terms. With a table newer than the backup, a complaint erased in between reads
/// `[erased]`, and every staff text of a complaint redacted in between reads `[redacted]`
/// (the texts it kept live on in the store's rewrite, which the backup predates). `keys` may
/// be `None` only for a backup that holds nothing sealed (one written
/// before personal fields were sealed).
///
/// # Errors
/// As [`backup`]; [`BackupError::Damaged`] for a backup that does not verify clean, or a copy
/// whose sealed fields do not open with `keys` (nothing is written in the first case);
/// [`BackupError::NoKeys`] when the backup holds sealed fields and `keys` is `None`.
pub fn restore(
    backup: impl AsRef<Path>,
    store: impl AsRef<Path>,
    keys: Option<&Path>,
) -> Result<Copied, BackupError> {
    let (from, to) = (backup.as_ref(), store.as_ref());
    refuse_files_in(to)?;
    let verified = verify(from)?;
    if !verified.is_clean() {
        return Err(BackupError::Damaged {
            dir: from.to_owned(),
            verified: Box::new(verified),
        });
    }
    if keys.is_none() && verified.unopened > 0 {
        return Err(BackupError::NoKeys(from.to_owned()));
    }
    copy(from, to, keys)
}

/// Copies the key table file `keys` (a store's `keys`, or a copy of it) into the store
/// directory `store`, which must not have one, synced; returns its bytes. Take it after the
/// data files it is to open: keys are only added, or shredded by an erasure or a redaction,
/// so a later table opens everything an earlier copy of the data holds, an erased
/// complaint's personal data as `[erased]` and a redacted complaint's staff texts of before
/// the redaction as `[redacted]`.
///
/// # Errors
/// [`BackupError::NotEmpty`] when `store` has a key table already; [`BackupError::File`] when
/// reading or writing fails.
pub fn install_keys(keys: &Path, store: &Path) -> Result<u64, BackupError> {
    let to = store.join(KEYS_FILE);
    if to.exists() {
        return Err(BackupError::NotEmpty(to));
    }
    let data = std::fs::read(keys).map_err(FileError::io("read", keys))?;
    write_new(&to, &data)?;
    sync_dir(store)?;
    Ok(data.len() as u64)
}

/// [`BackupError::NotEmpty`] when `dest` exists and holds files.
fn refuse_files_in(dest: &Path) -> Result<(), BackupError> {
    if dest.exists() {
        let mut entries = std::fs::read_dir(dest).map_err(FileError::io("list", dest))?;
        if entries.next().is_some() {
            return Err(BackupError::NotEmpty(dest.to_owned()));
        }
    }
    Ok(())
}

enum Retry {
    /// A file the copy needs went away: a checkpoint ran. Start over.
    Again,
    Fail(FileError),
}

impl From<FileError> for Retry {
    fn from(e: FileError) -> Self {
        Self::Fail(e)
    }
}

/// Reads a source file; a file gone is [`Retry::Again`].
fn read(path: &Path) -> Result<Vec<u8>, Retry> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Retry::Again,
        _ => Retry::Fail(FileError::io("read", path)(e)),
    })
}

struct Copy<'a> {
    src: &'a Path,
    dest: &'a Path,
    files: Vec<String>,
    bytes: u64,
}

impl Copy<'_> {
    fn take(&mut self) -> Result<(), Retry> {
        let names: Vec<String> = std::fs::read_dir(self.src)
            .and_then(|d| {
                d.map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
                    .collect()
            })
            .map_err(FileError::io("list", self.src))?;
        let snapshot = names
            .iter()
            .filter_map(|n| numbered(n, "snapshot-", ".snap"))
            .max();
        if let Some(n) = snapshot {
            let name = snapshot_name(n);
            let path = self.src.join(&name);
            let data = read(&path)?;
            let runs = snapshot::runs_listed(&data, &path)?;
            self.write(&name, &data)?;
            for r in runs {
                self.copy_whole(&run::name(r))?;
            }
        }
        let mut n = snapshot.unwrap_or(1);
        loop {
            let name = segment_name(n);
            let path = self.src.join(&name);
            let data = match read(&path) {
                Err(Retry::Again) if snapshot.is_none() && n == 1 => {
                    // A store that never wrote: nothing to copy.
                    if names
                        .iter()
                        .any(|n| numbered(n, "segment-", ".log").is_some())
                    {
                        return Err(Retry::Again);
                    }
                    return Ok(());
                }
                other => other?,
            };
            if frame::header_cut_short(&data, &SEGMENT) {
                // Created, never written (a rotation or a new store): the log ends before it.
                return Ok(());
            }
            let version = frame::check_header(&data, &SEGMENT, &path)?;
            let scan = frame::scan(&data);
            let named = names_next(&data, &scan.frames, version).map(|(next, _)| next.segment);
            if named == Some(n + 1) && scan.bad.is_none() {
                self.write(&name, &data)?;
                n += 1;
                continue;
            }
            // A format-1 segment (plaint-file 0.1.0) names no next: the listing tells.
            if version == 1 && scan.bad.is_none() && names.contains(&segment_name(n + 1)) {
                self.write(&name, &data)?;
                n += 1;
                continue;
            }
            let end = match scan.bad {
                None => data.len(),
                Some((at, _)) if scan.torn_tail(&data) => at,
                Some((at, why)) => {
                    return Err(FileError::corrupt(&path, at as u64, why).into());
                }
            };
            self.write(&name, &data[..end])?;
            return Ok(());
        }
    }

    /// Copies an immutable file (a run) as it is.
    fn copy_whole(&mut self, name: &str) -> Result<(), Retry> {
        let from = self.src.join(name);
        let to = self.dest.join(name);
        let bytes = std::fs::copy(&from, &to).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound if !from.exists() => Retry::Again,
            _ => Retry::Fail(FileError::io("copy", &from)(e)),
        })?;
        self.files.push(name.to_owned());
        std::fs::File::open(&to)
            .and_then(|f| f.sync_all())
            .map_err(FileError::io("sync", &to))?;
        self.bytes += bytes;
        Ok(())
    }

    fn write(&mut self, name: &str, data: &[u8]) -> Result<(), FileError> {
        self.files.push(name.to_owned());
        write_new(&self.dest.join(name), data)?;
        self.bytes += data.len() as u64;
        Ok(())
    }

    /// Removes what this attempt wrote (the destination was empty before).
    fn undo(&mut self) -> Result<(), FileError> {
        for name in self.files.drain(..) {
            let path = self.dest.join(&name);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(FileError::io("remove", &path)(e));
                }
                _ => {}
            }
        }
        self.bytes = 0;
        Ok(())
    }
}

/// The first damage a verification found, for a message.
fn first_damage(v: &Verified) -> String {
    v.findings
        .iter()
        .find(|f| f.severity == crate::Severity::Damage)
        .map_or_else(String::new, ToString::to_string)
}

/// Creates `path` (which must not exist) holding `data`, synced.
fn write_new(path: &Path, data: &[u8]) -> Result<(), FileError> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(FileError::io("create", path))?;
    f.write_all(data).map_err(FileError::io("write", path))?;
    f.sync_all().map_err(FileError::io("sync", path))
}

fn sync_dir(dir: &Path) -> Result<(), FileError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(FileError::io("sync directory", dir))
}
