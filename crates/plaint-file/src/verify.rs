//! [`verify`]: reads every file of a store's directory and reports damage with the file and
//! the byte offset, changing nothing.

use crate::error::FileError;
use crate::frame::{self, HEADER_LEN, RUN, SEGMENT};
use crate::fs::{Dir, OsFs};
use crate::record::{self, Frame};
use crate::run::{self, Run};
use crate::seal::{KEYS_FILE, Keys, Sealing};
use crate::snapshot;
use crate::store::{names_next, numbered, segment_name, snapshot_name};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Severity {
    /// Acknowledged data is damaged or missing: opening fails on it.
    Damage,
    /// Something opening tidies by itself (a torn tail it cuts, a leftover it removes), or a
    /// file verify does not know.
    Note,
}

/// One thing [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Damage, or a note.
    pub severity: Severity,
    /// The file.
    pub file: PathBuf,
    /// The byte offset in it where the finding starts.
    pub offset: u64,
    /// What is wrong (or noted) there.
    pub what: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.severity {
            Severity::Damage => "damage",
            Severity::Note => "note",
        };
        write!(
            f,
            "{kind}: {} at byte {}: {}",
            self.file.display(),
            self.offset,
            self.what
        )
    }
}

/// What [`verify`] read and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    /// Files read.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Log frames read.
    pub frames: u64,
    /// Complaints read from the snapshot and the runs it lists (not those the log adds).
    pub complaints: u64,
    /// Sealed personal fields left unopened because the directory has no key table (a
    /// backup): their structure was checked, not that they open.
    pub unopened: u64,
    /// The findings, in the order the files were read.
    pub findings: Vec<Finding>,
}

impl Verified {
    /// Whether nothing is damaged (notes allowed).
    pub fn is_clean(&self) -> bool {
        self.findings.iter().all(|f| f.severity != Severity::Damage)
    }

    fn damage(&mut self, file: impl Into<PathBuf>, offset: u64, what: impl Into<String>) {
        self.findings.push(Finding {
            severity: Severity::Damage,
            file: file.into(),
            offset,
            what: what.into(),
        });
    }

    fn note(&mut self, file: impl Into<PathBuf>, offset: u64, what: impl Into<String>) {
        self.findings.push(Finding {
            severity: Severity::Note,
            file: file.into(),
            offset,
            what: what.into(),
        });
    }

    /// Records a file error as a finding; passes on what is not one (an I/O failure other
    /// than a file gone, a newer format).
    fn found(&mut self, e: FileError) -> Result<(), FileError> {
        match e {
            FileError::Corrupt { file, offset, why } => self.damage(file, offset, why),
            FileError::Io { path, source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                self.note(
                    path,
                    0,
                    "removed while verifying (a checkpoint of a store in use)",
                );
            }
            e => return Err(e),
        }
        Ok(())
    }
}

/// Reads every file of the FileStore in `dir` and reports what is damaged, with the file and
/// the byte offset. Changes nothing, takes no lock.
///
/// It takes no lock and never writes, so it may run beside the store's owner. A store in use
/// changes while it is read, though: the newest segment may end in a frame being written (a
/// torn tail, reported as a [`Severity::Note`]) and a checkpoint may remove files between the
/// listing and the reading (noted too). For a verdict on a store in use, verify a
/// [`crate::backup()`] of it, which is taken consistently and verified as it is written.
///
/// What it checks: every segment's header and frames (checksums, lengths, that each frame
/// decodes as records or as the frame naming the next segment, that segments before the
/// newest end by naming the next and none is missing); the newest snapshot whole (it is
/// decoded into memory as opening does, with its counts); every run whole (every state and
/// history frame, every B-tree node, the Bloom filter, the footer's counts). It does not
/// apply the log's records to the snapshot (opening does that), so a record that decodes but
/// contradicts the state is found by opening, not here.
///
/// # Errors
/// [`FileError::Io`] when the directory or a file cannot be read (a file removed while
/// verifying is a note instead); [`FileError::UnsupportedFormat`] for a file of a newer format
/// than this build reads (refused, never guessed at).
pub fn verify(dir: impl AsRef<Path>) -> Result<Verified, FileError> {
    let dir = Dir {
        fs: Arc::new(OsFs),
        path: dir.as_ref().to_path_buf(),
    };
    let mut names = dir
        .fs
        .list(&dir.path)
        .map_err(FileError::io("list", &dir.path))?;
    names.sort();
    let mut out = Verified::default();
    let mut segments = Vec::new();
    let mut snapshots = Vec::new();
    let mut runs = Vec::new();
    for name in &names {
        if let Some(n) = numbered(name, "segment-", ".log") {
            segments.push(n);
        } else if let Some(n) = numbered(name, "snapshot-", ".snap") {
            snapshots.push(n);
        } else if let Some(n) = numbered(name, "run-", ".tbl") {
            runs.push(n);
        } else if name.ends_with(".tmp") {
            out.note(
                dir.file(name),
                0,
                "a file being written, or left by a crash: opening removes it",
            );
        } else if name == KEYS_FILE {
            out.files += 1;
            out.bytes += size(&dir.file(name));
        } else if name != "LOCK" {
            out.note(dir.file(name), 0, "not a file of the store: not verified");
        }
    }
    // With the key table, every sealed field must open; without it (a backup) they are
    // left sealed and counted.
    let keys = Arc::new(match Keys::read(&dir) {
        Ok(Some(keys)) => keys,
        Ok(None) => Keys::leave_sealed(),
        Err(e) => {
            out.found(e)?;
            Keys::leave_sealed()
        }
    });

    // The newest snapshot, and the runs it lists.
    let snapshot = snapshots.last().copied();
    let mut listed = Vec::new();
    for &n in &snapshots {
        let path = dir.file(&snapshot_name(n));
        if Some(n) != snapshot {
            out.note(path, 0, "an older snapshot: opening removes it");
            continue;
        }
        let memory = plaint_memory::MemoryStore::new();
        match snapshot::read(&dir, &keys, &memory, &snapshot_name(n)) {
            Ok(read) => {
                out.files += 1;
                out.bytes += size(&path);
                out.complaints += memory.len() as u64;
                listed = read.runs;
            }
            Err(e) => out.found(e)?,
        }
    }
    for &n in &listed {
        if !runs.contains(&n) {
            out.damage(
                dir.file(&run::name(n)),
                0,
                "a run the snapshot lists is missing",
            );
        }
    }
    for &n in &runs {
        let path = dir.file(&run::name(n));
        if !listed.contains(&n) {
            out.note(
                &path,
                0,
                "a run the newest snapshot does not list (a checkpoint's leftover or one under way)",
            );
        }
        match check_run(&dir, n, &keys) {
            Ok(complaints) => {
                out.files += 1;
                out.bytes += size(&path);
                if listed.contains(&n) {
                    out.complaints += complaints;
                }
            }
            Err(e) => out.found(e)?,
        }
    }

    // The log, from the segment the snapshot names.
    let first = snapshot.unwrap_or(1);
    for &n in segments.iter().filter(|&&n| n < first) {
        out.note(
            dir.file(&segment_name(n)),
            0,
            "a segment before the snapshot: opening removes it",
        );
    }
    let log: Vec<u64> = segments.into_iter().filter(|&n| n >= first).collect();
    if let Some((missing, _)) = (first..).zip(&log).find(|(want, got)| want != *got) {
        out.damage(
            dir.file(&segment_name(missing)),
            0,
            "this log segment is missing (the numbering has a gap)",
        );
    } else if snapshot.is_some() && log.is_empty() {
        out.damage(
            dir.file(&segment_name(first)),
            0,
            "this log segment is missing (the snapshot starts with it)",
        );
    }
    let mut previous_names_next = true;
    for (i, &n) in log.iter().enumerate() {
        let last = i + 1 == log.len();
        let path = dir.file(&segment_name(n));
        let data = match dir.fs.read(&path) {
            Ok(d) => d,
            Err(e) => {
                out.found(FileError::io("read", &path)(e))?;
                continue;
            }
        };
        out.files += 1;
        out.bytes += data.len() as u64;
        if last && data.len() <= HEADER_LEN && frame::header_prefix(&data, &SEGMENT) {
            if !previous_names_next {
                out.note(
                    &path,
                    0,
                    "a segment a rotation created but never named: opening removes it",
                );
            }
            continue;
        }
        if !previous_names_next {
            out.damage(
                dir.file(&segment_name(n - 1)),
                size(&dir.file(&segment_name(n - 1))),
                "cut short: it does not end by naming the next segment",
            );
        }
        let version = match frame::check_header(&data, &SEGMENT, &path) {
            Ok(v) => v,
            Err(e) => {
                out.found(e)?;
                previous_names_next = true;
                continue;
            }
        };
        let scan = frame::scan(&data);
        if let Some((at, why)) = scan.bad {
            if last && scan.torn_tail(&data) {
                out.note(
                    &path,
                    at as u64,
                    format!("{why}: a torn tail, a write never acknowledged; opening cuts it"),
                );
            } else {
                out.damage(&path, at as u64, why);
            }
        }
        for (k, r) in scan.frames.iter().enumerate() {
            out.frames += 1;
            let offset = (r.start - frame::FRAME_OVERHEAD) as u64;
            let payload = &data[r.clone()];
            match record::decode_frame(payload, version) {
                Err(why) => out.damage(&path, offset, why),
                Ok(Frame::Records(mut records)) => {
                    let sealing = Sealing::of(payload);
                    if let Some(why) = records
                        .iter_mut()
                        .find_map(|r| r.open(&keys, sealing).err())
                    {
                        out.damage(&path, offset, why);
                    }
                }
                Ok(Frame::Next(_)) if k + 1 != scan.frames.len() => out.damage(
                    &path,
                    offset,
                    "frames after the one naming the next segment",
                ),
                Ok(_) => {}
            }
        }
        previous_names_next = version < 2;
        if let Some((next, at)) = names_next(&data, &scan.frames, version) {
            previous_names_next = true;
            if next.segment != n + 1 {
                out.damage(
                    &path,
                    at,
                    format!("names segment {} as the next, not {}", next.segment, n + 1),
                );
            } else if last {
                out.damage(
                    dir.file(&segment_name(n + 1)),
                    0,
                    format!(
                        "this log segment is missing ({} names it as the next)",
                        segment_name(n)
                    ),
                );
            }
        }
        if last {
            // The newest segment need not name a next one.
            previous_names_next = true;
        }
    }
    out.unopened = keys.left_sealed();
    if out.unopened > 0 {
        out.note(
            dir.file(KEYS_FILE),
            0,
            format!(
                "no key table: {} sealed personal field(s) checked for form, not opened",
                out.unopened
            ),
        );
    }
    Ok(out)
}

/// Checks run `n` whole: its frames back to back from the header to the trailer, then its
/// trailer, footer, trees, filter and every complaint through the reader opening uses.
fn check_run(dir: &Dir, n: u64, keys: &Arc<Keys>) -> Result<u64, FileError> {
    let path = dir.file(&run::name(n));
    let data = dir.fs.read(&path).map_err(FileError::io("read", &path))?;
    frame::check_header(&data, &RUN, &path)?;
    let body = data.len().saturating_sub(run::TRAILER_LEN as usize);
    if body > HEADER_LEN {
        let scan = frame::scan(&data[..body]);
        if let Some((at, why)) = scan.bad {
            return Err(FileError::corrupt(&path, at as u64, why));
        }
    }
    Run::open(dir, n, keys)?.check()
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
