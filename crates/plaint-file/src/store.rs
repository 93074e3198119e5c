//! `FileStore`: the log, group commit, checkpoints and recovery on open, over a `MemoryStore`
//! of the complaints with running clocks or recent changes and runs holding the rest.

use crate::cold::{self, Runs};
use crate::error::FileError;
use crate::frame::{self, HEADER_LEN, SEGMENT};
use crate::fs::{Dir, Fs, OsFs, WriteFile};
use crate::record::{self, Batch, Frame, Next, Record, Rewrite};
use crate::run::Run;
use crate::seal::{Keys, Sealing};
use crate::snapshot;
use futures_channel::oneshot;
use plaint_core::{
    Append, CommandId, CommandRecord, Complaint, ComplaintId, FeedPage, ListQuery, NotificationId,
    OutboxEntry, Page, Position, Recorded, Settlement, Store, StoreError, StoreFailure, Timestamp,
};
use plaint_memory::{Frozen, MemoryStore, Whole};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard};

/// When an append counts as done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// Acknowledged once its bytes are on stable storage (`fdatasync`): survives a process
    /// crash, an operating-system crash and a power cut. Concurrent appends share one sync.
    #[default]
    Full,
    /// Acknowledged once its bytes are handed to the operating system (`write`), never synced
    /// (call [`FileStore::sync`] at the end): survives the process being killed, but an
    /// operating-system crash or power cut can lose recent appends, and can leave damage that
    /// the next open reports as corruption. For bulk imports and tests.
    Buffered,
}

/// How to open a [`FileStore`].
#[derive(Debug, Clone)]
pub struct Options {
    durability: Durability,
    segment_size: u64,
    checkpoint_after: Option<u64>,
    fs: Arc<dyn Fs>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            durability: Durability::Full,
            segment_size: 64 << 20,
            checkpoint_after: Some(64 << 20),
            fs: Arc::new(OsFs),
        }
    }
}

impl Options {
    /// [`Durability::Full`], 64 MiB segments, a checkpoint after 64 MiB of log, the real file
    /// system.
    pub fn new() -> Self {
        Self::default()
    }
    /// When appends are acknowledged.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }
    /// Start a new log segment once the current one reaches this many bytes.
    pub fn segment_size(mut self, bytes: u64) -> Self {
        self.segment_size = bytes.max(HEADER_LEN as u64 + 1);
        self
    }
    /// Checkpoint (move complaints without a running clock to a run, write a snapshot, drop
    /// the log before it) once the log holds this many bytes since the last checkpoint;
    /// `None`: only when [`FileStore::checkpoint`] is called. This bounds the log that opening
    /// replays. Once the log crosses the line, the store's writer thread starts a checkpoint
    /// between two group commits (a new segment and a frozen view of memory: appends wait
    /// only for that), and the store's checkpoint thread writes it while appends go on; no
    /// append waits for the writing (hundreds of milliseconds for 64 MiB of log). Opening
    /// checkpoints too, before it returns, when the log it replayed since the last snapshot
    /// has reached this.
    pub fn checkpoint_after(mut self, bytes: Option<u64>) -> Self {
        self.checkpoint_after = bytes;
        self
    }
    /// The file layer (the crash tests put a fault-injecting one here).
    pub fn fs(mut self, fs: Arc<dyn Fs>) -> Self {
        self.fs = fs;
        self
    }
}

/// What opening found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenReport {
    /// The snapshot the store started from.
    pub snapshot: Option<PathBuf>,
    /// Log segments read after it.
    pub segments: usize,
    /// Records replayed from them.
    pub records: u64,
    /// Runs (files of complaints moved out of memory) the snapshot lists; opened, not read.
    pub runs: usize,
    /// A torn tail cut off the newest segment: the last write of the previous run, never
    /// acknowledged, cut short by a crash. (Or, when a crash stopped a new segment being
    /// started, that segment, which held nothing, removed.)
    pub torn_tail: Option<TornTail>,
    /// A checkpoint a crash had stopped, which opening finished: the snapshot it wrote. It
    /// took up the checkpoint where the crash left it, keeping the runs already written.
    pub resumed: Option<PathBuf>,
    /// A checkpoint opening made once the log was replayed: the snapshot it wrote. Opening
    /// checkpoints when the log since the last snapshot has reached
    /// [`Options::checkpoint_after`] (so that a process killed during every checkpoint still
    /// compacts), or when the newest segment was written by an older version.
    pub checkpoint: Option<PathBuf>,
}

/// An unacknowledged, incomplete last write that opening removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment.
    pub file: PathBuf,
    /// Where it was cut.
    pub offset: u64,
    /// How many bytes were removed.
    pub removed: u64,
    /// What was wrong with the frame there.
    pub why: &'static str,
}

/// An opened store and what opening found.
#[derive(Debug)]
#[non_exhaustive]
pub struct Opened {
    /// The store.
    pub store: FileStore,
    /// What opening found and did.
    pub report: OpenReport,
}

/// Counters since the store was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Frames written to the log: one per group commit, each with one sync under
    /// [`Durability::Full`].
    pub frames: u64,
    /// Records in them (appends, settlements, requeues): `records / frames` is the mean
    /// group-commit size.
    pub records: u64,
}

/// plaint's durable store: complaints in a directory on local disk. See the crate docs for
/// the format, the guarantees and what opening does.
///
/// A store owns two threads: the writer, which writes, syncs and applies each group commit
/// (an append, settle or requeue hands its record over and awaits the answer without
/// blocking its thread), and the checkpointer, which writes the checkpoints that appends
/// make due while appends go on. [`FileStore::close`] stops both and says whether the store
/// ended well; dropping the store stops them too.
pub struct FileStore {
    shared: Arc<Shared>,
    threads: Option<Threads>,
}

/// What the handle, the writer thread and the checkpoint thread share.
struct Shared {
    /// Every complaint with a running clock (the due-timer index needs them) and every
    /// complaint changed since the last checkpoint; the others are in `runs`.
    memory: MemoryStore,
    /// The feed position before the first event this handle can read back: the last one
    /// the snapshot it opened from holds.
    feed_start: Position,
    /// The live runs, oldest first. A checkpoint replaces them and moves complaints out of
    /// memory under the write lock, so a reader holding the read lock sees every complaint.
    runs: RwLock<Vec<Arc<Run>>>,
    /// The key table: personal fields are sealed with it ([`crate::seal`]).
    keys: Arc<Keys>,
    dir: Dir,
    options: Options,
    /// What the writer thread is to do next.
    queue: Mutex<Queue>,
    /// Wakes the writer thread.
    work: Condvar,
    /// Touched by the writer thread (and by `open` before it starts).
    log: Mutex<Log>,
    /// Whether a checkpoint is under way, and the one handed to the checkpoint thread.
    checkpoint: Mutex<Checkpoints>,
    /// Wakes the checkpoint thread, and callers waiting for a checkpoint to end.
    checkpointed: Condvar,
    _lock: Box<dyn Send + Sync>,
}

struct Threads {
    writer: std::thread::JoinHandle<()>,
    checkpointer: std::thread::JoinHandle<()>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.shared.dir.path)
            .field("durability", &self.shared.options.durability)
            .finish_non_exhaustive()
    }
}

/// The answer to a record handed to the writer thread.
type Reply = oneshot::Sender<Result<Outcome, StoreError>>;

/// Work for the writer thread, done in the order it was queued.
enum Job {
    /// A record to write in the next group commit (its JSON made by the caller).
    Record {
        record: Record,
        json: Vec<u8>,
        reply: Reply,
    },
    /// Sync the log ([`FileStore::sync`]).
    Sync(oneshot::Sender<Result<(), FileError>>),
    /// Start a checkpoint ([`FileStore::checkpoint`]): its first part.
    Checkpoint(oneshot::Sender<Result<Pending, FileError>>),
}

#[derive(Default)]
struct Queue {
    jobs: Vec<Job>,
    /// Why the store refuses writes, after a failure.
    failed: Option<String>,
    /// The handle is closing: the writer thread ends once the queue is empty.
    closing: bool,
    /// The writer thread has ended: nothing queued now would be done.
    stopped: bool,
}

#[derive(Default)]
struct Checkpoints {
    /// A checkpoint is under way (queued for the checkpoint thread, being written by it, or
    /// by a caller of [`FileStore::checkpoint`]): one at a time.
    busy: bool,
    /// Started by the writer thread, for the checkpoint thread to write.
    pending: Option<Pending>,
    /// The handle is closing: the checkpoint thread ends once nothing is pending.
    closing: bool,
}

/// The records of the next group commit, and the reservations that keep them consistent
/// with each other before they reach the in-memory state.
#[derive(Default)]
struct Group {
    batch: Batch,
    records: Vec<(Record, Reply)>,
    /// Versions the group gives its complaints.
    versions: HashMap<ComplaintId, u64>,
    commands: HashSet<CommandId>,
    requeues: HashSet<NotificationId>,
}

/// A group commit is written once it holds this many bytes, and the rest wait for the next:
/// frames stay far below their 256 MiB limit however many callers queue at once.
const GROUP_BYTES: usize = 16 << 20;

impl Group {
    /// Whether `record` must wait for the group to be applied: it conflicts with an append
    /// of the group (another version of its complaint, or its command id), and reported
    /// now, the conflict or duplicate could not be read back.
    fn holds_back(&self, record: &Record) -> bool {
        match record {
            Record::Append {
                complaint,
                expected_version,
                command,
                ..
            } => {
                self.versions
                    .get(complaint)
                    .is_some_and(|v| v != expected_version)
                    || self.commands.contains(command)
            }
            Record::Settle { .. } | Record::Requeue { .. } => false,
        }
    }
}

enum Outcome {
    Appended(Arc<Complaint>),
    Settled,
    Requeued(bool),
}

struct Log {
    file: Box<dyn WriteFile>,
    stats: Stats,
    segment: u64,
    len: u64,
    /// The current segment's format version (1 only for a segment an older version wrote,
    /// until the checkpoint opening makes).
    version: u32,
    /// Log bytes since the last snapshot.
    since_snapshot: u64,
    /// The number the next run file gets.
    next_run: u64,
}

pub(crate) fn segment_name(n: u64) -> String {
    format!("segment-{n:020}.log")
}

pub(crate) fn snapshot_name(n: u64) -> String {
    format!("snapshot-{n:020}.snap")
}

/// Segment, snapshot and run numbers are below this (a store would need billions of years to
/// get there): a larger one in a file name is not a name plaint writes, and one in a frame is
/// damage. So a number and the few after it never overflow.
pub(crate) const MAX_NUMBER: u64 = u64::MAX / 2;

/// The number in a file name `{prefix}{number}{suffix}`, if it is one plaint writes.
pub(crate) fn numbered(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    name.strip_prefix(prefix)?
        .strip_suffix(suffix)?
        .parse()
        .ok()
        .filter(|&n| n < MAX_NUMBER)
}

/// A checkpoint between its two parts.
struct Pending {
    /// The segment it starts: the snapshot holds everything before it.
    segment: u64,
    frozen: Frozen,
    /// The numbers its runs get (this one and the next).
    next_run: u64,
}

/// Whether a checkpoint moves a complaint out of memory into a run: when no clock of it runs
/// (the due-timer index is in memory and must hold every complaint something is due for).
fn goes_cold(c: &Complaint) -> bool {
    c.next_due().is_none()
}

/// Applies one record to the in-memory state: the same code for live writes and replay. A
/// complaint in a run comes back into memory first.
fn apply(memory: &MemoryStore, runs: &Runs, record: Record) -> Result<Outcome, StoreError> {
    Ok(match record {
        Record::Append {
            complaint,
            expected_version,
            command,
            events,
            outbox,
            rewrite,
        } => {
            if expected_version > 0
                && plaint_core::blocking::block_on(memory.load(&complaint))?.is_none()
                && let Some((state, history)) = cold::take_out(runs, &complaint)?
            {
                memory.restore(state, history)?;
            }
            let appended = plaint_core::blocking::block_on(memory.append(
                Append::new(complaint, command, expected_version, events).with_outbox(outbox),
            ))?;
            match rewrite {
                // Memory redacted its own copy; on replay that copy's staff texts may no
                // longer open (their keys shredded): the rewrite's history is the one.
                // Written and appended: a rewrite that does not fit is disk and memory
                // disagreeing, which only a reopen sorts out.
                Some(rw) => {
                    Outcome::Appended(memory.rewrite(&appended.id, rw.history).map_err(|e| {
                        FileError::Poisoned(format!("a redaction's rewrite did not apply: {e}"))
                    })?)
                }
                None => Outcome::Appended(appended),
            }
        }
        Record::Settle { id, outcome } => {
            plaint_core::blocking::block_on(memory.settle(&id, outcome))?;
            Outcome::Settled
        }
        Record::Requeue { id, at } => {
            Outcome::Requeued(plaint_core::blocking::block_on(memory.requeue(&id, at))?)
        }
    })
}

/// How many events memory and `runs` hold (each complaint counted once, newest first): where
/// the feed stood before a snapshot that does not record it.
fn events_in(memory: &MemoryStore, runs: &cold::Runs) -> Result<u64, FileError> {
    let mut query = ListQuery::new().limit(ListQuery::MAX_LIMIT);
    let mut n = 0u64;
    loop {
        let page = cold::list(memory, runs, &query).map_err(|e| match e {
            StoreError::Backend { source, .. } => match source.downcast::<FileError>() {
                Ok(e) => *e,
                Err(e) => FileError::Poisoned(e.to_string()),
            },
            e => FileError::Poisoned(e.to_string()),
        })?;
        n += page.items.iter().map(|c| c.version).sum::<u64>();
        match page.next {
            Some(next) => query = query.after(next),
            None => return Ok(n),
        }
    }
}

/// How many runs a store keeps before a checkpoint merges some: each run costs a lookup of an
/// absent key one Bloom filter probe, and merging costs the checkpoint a rewrite of the
/// merged runs.
const MAX_RUNS: usize = 4;

/// Which of the newest runs a checkpoint merges into one, once there are more than
/// [`MAX_RUNS`]: the newest run takes in the ones before it while each is at most twice what
/// it has taken in so far (and at least one), so runs of alike size merge, the runs stay
/// few, and each byte is rewritten about log₄ of the store's size times.
fn merge_from(runs: &[Arc<Run>]) -> usize {
    if runs.len() <= MAX_RUNS {
        return runs.len();
    }
    let mut i = runs.len() - 1;
    let mut taken = runs[i].size;
    while i > 0 && (i == runs.len() - 1 || runs[i - 1].size <= 2 * taken) {
        i -= 1;
        taken += runs[i].size;
    }
    i
}

/// The error for a segment that must exist and does not.
fn missing_segment(dir: &Dir, n: u64, why: &str) -> FileError {
    FileError::corrupt(
        dir.file(&segment_name(n)),
        0,
        format!("this log segment is missing ({why})"),
    )
}

/// The segment a segment's data names as the next (its last valid frame, if that is a
/// [`Next`]), and where that frame is.
pub(crate) fn names_next(
    data: &[u8],
    frames: &[Range<usize>],
    version: u32,
) -> Option<(Next, u64)> {
    let r = frames.last()?;
    if !record::may_be_next(&data[r.clone()], version) {
        return None;
    }
    match record::decode_frame(&data[r.clone()], version) {
        Ok(Frame::Next(next)) => Some((next, (r.start - frame::FRAME_OVERHEAD) as u64)),
        _ => None,
    }
}

/// A rotation that did not finish: segment `newest` holds no frame (its header may even be
/// cut short) and segment `before` does not end by naming it. A segment is named before
/// anything is written to it, so nothing was: it is removed, and `before` is the newest
/// segment again (its torn tail, a `Next` frame cut short, is cut as usual). Returns what was
/// removed.
fn unfinished_rotation(dir: &Dir, before: u64, newest: u64) -> Result<Option<TornTail>, FileError> {
    let file = dir.file(&segment_name(newest));
    let data = dir.fs.read(&file).map_err(FileError::io("read", &file))?;
    if !frame::header_prefix(&data, &SEGMENT) {
        return Ok(None);
    }
    let path = dir.file(&segment_name(before));
    let prev = dir.fs.read(&path).map_err(FileError::io("read", &path))?;
    let named = frame::check_header(&prev, &SEGMENT, &path)
        .ok()
        .and_then(|version| names_next(&prev, &frame::scan(&prev).frames, version))
        .is_some_and(|(next, _)| next.segment == newest);
    if named {
        return Ok(None);
    }
    dir.remove(&[segment_name(newest)])?;
    Ok(Some(TornTail {
        file,
        offset: 0,
        removed: data.len() as u64,
        why: "a new segment the one before does not name: its rotation did not finish",
    }))
}

/// The complaints a checkpoint moved into a run, and the versions it moved.
type Moved = HashMap<ComplaintId, u64>;

/// Writes a checkpoint's files from `view`, the state before segment `n`: a run numbered `run`
/// of the complaints no clock runs for (and, past [`MAX_RUNS`], run `run + 1` merged from the
/// newest runs), then snapshot `n` with the rest, the outbox and the live runs. A run of
/// either number that exists already was written by this same checkpoint before a crash
/// stopped it (a run gets its name only once whole and durable; the numbers are used once):
/// it is opened, not written again, so a checkpoint interrupted again and again still gets
/// done. Returns the live runs after it and the complaints it moved into the run (id →
/// version).
fn write_checkpoint(
    dir: &Dir,
    keys: &Arc<Keys>,
    n: u64,
    view: &Frozen,
    mut live: Vec<Arc<Run>>,
    run: u64,
) -> Result<(Vec<Arc<Run>>, Moved), FileError> {
    let (cold, hot): (Vec<Whole>, Vec<Whole>) = view
        .complaints
        .iter()
        .cloned()
        .partition(|(state, _)| goes_cold(state));
    if !cold.is_empty() {
        live.push(Arc::new(existing_or(dir, keys, run, || {
            Run::write(dir, keys, run, &cold)
        })?));
        let from = merge_from(&live);
        if from < live.len() {
            let merged = existing_or(dir, keys, run + 1, || {
                Run::merge(dir, keys, run + 1, &live[from..])
            })?;
            live.truncate(from);
            live.push(Arc::new(merged));
        }
    }
    let numbers: Vec<u64> = live.iter().map(|r| r.number).collect();
    snapshot::write(dir, keys, &snapshot_name(n), &hot, view, &numbers)?;
    let moved = cold
        .iter()
        .map(|(c, _)| (c.id.clone(), c.version))
        .collect();
    Ok((live, moved))
}

/// Run `number` if it exists, else the one `write` writes.
fn existing_or(
    dir: &Dir,
    keys: &Arc<Keys>,
    number: u64,
    write: impl FnOnce() -> Result<Run, FileError>,
) -> Result<Run, FileError> {
    match Run::open(dir, number, keys) {
        Err(FileError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            write()
        }
        opened => opened,
    }
}

impl FileStore {
    /// Opens (creating if needed) the store in `dir`: loads the newest snapshot, replays the
    /// log after it, cuts a torn tail off the newest segment (and says so in the report).
    ///
    /// ```
    /// use plaint_core::blocking::Wait as _;
    /// use plaint_core::{ListQuery, Store};
    /// use plaint_file::{FileStore, Options};
    /// let dir = tempfile::tempdir()?;
    /// let opened = FileStore::open(dir.path(), Options::new())?;
    /// assert!(opened.report.torn_tail.is_none());
    /// assert!(opened.store.list(&ListQuery::new()).wait()?.items.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`FileError::Locked`] when another `FileStore` holds the directory,
    /// [`FileError::Corrupt`] naming the file and offset of damage that is not a torn tail,
    /// [`FileError::UnsupportedFormat`], or [`FileError::Io`].
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Opened, FileError> {
        let path = dir.as_ref().to_path_buf();
        let fs = Arc::clone(&options.fs);
        fs.create_dir_all(&path)
            .map_err(FileError::io("create directory", &path))?;
        let lock = fs.lock(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock => FileError::Locked { dir: path.clone() },
            _ => FileError::io("lock", &path)(e),
        })?;
        let dir = Dir { fs, path };
        let listed = dir
            .fs
            .list(&dir.path)
            .map_err(FileError::io("list", &dir.path))?;
        // A snapshot or run being written when the last process stopped: never renamed into
        // place, never needed, and in the way of finishing its checkpoint.
        let (tmp, names): (Vec<String>, Vec<String>) =
            listed.into_iter().partition(|n| n.ends_with(".tmp"));
        dir.remove(&tmp)?;
        let memory = MemoryStore::new();
        let mut report = OpenReport::default();
        let keys = Arc::new(Keys::load(&dir)?);

        let snapshot = names
            .iter()
            .filter_map(|n| numbered(n, "snapshot-", ".snap"))
            .max();
        let mut live = Vec::new();
        let mut feed_recorded = Some(0);
        if let Some(n) = snapshot {
            let read = snapshot::read(&dir, &keys, &memory, &snapshot_name(n))?;
            feed_recorded = read.feed;
            for number in read.runs {
                let run = Run::open(&dir, number, &keys).map_err(|e| match e {
                    FileError::Io { source, path, .. }
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        FileError::corrupt(path, 0, "a run the snapshot lists is missing")
                    }
                    e => e,
                })?;
                live.push(Arc::new(run));
            }
            report.snapshot = Some(dir.file(&snapshot_name(n)));
            report.runs = live.len();
        }
        // The log's events continue the feed's numbering after the snapshot's; a snapshot
        // written before the feed existed does not say where it stood, so count the events
        // it and its runs hold (once: the next checkpoint's snapshot records it).
        let feed_start = match feed_recorded {
            Some(n) => n,
            None => events_in(&memory, &live)?,
        };
        memory
            .start_feed_after(Position(feed_start))
            .map_err(|e| FileError::corrupt(dir.file("snapshot"), 0, e.to_string()))?;
        let mut next_run = names
            .iter()
            .filter_map(|n| numbered(n, "run-", ".tbl"))
            .max()
            .map_or(1, |n| n + 1);
        let first = snapshot.unwrap_or(1);
        let mut segments: Vec<u64> = names
            .iter()
            .filter_map(|n| numbered(n, "segment-", ".log"))
            .filter(|&n| n >= first)
            .collect();
        segments.sort_unstable();
        // Snapshot N names segment N (it is created before the snapshot is written), and the
        // numbering has no gaps.
        if let Some((missing, _)) = (first..).zip(&segments).find(|(want, got)| want != *got) {
            return Err(missing_segment(&dir, missing, "the numbering has a gap"));
        }
        if snapshot.is_some() && segments.is_empty() {
            return Err(missing_segment(
                &dir,
                first,
                &format!("{} starts with it", snapshot_name(first)),
            ));
        }
        if let [.., before, newest] = segments[..]
            && let Some(removed) = unfinished_rotation(&dir, before, newest)?
        {
            segments.pop();
            report.torn_tail = Some(removed);
        }

        // Log bytes and records since the newest snapshot (opening may write one).
        let (mut since_snapshot, mut records_since) = (0, 0);
        let mut newest: Option<(u64, u64, u32)> = None;
        let mut current = snapshot;
        for (i, &n) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            let file = dir.file(&segment_name(n));
            let mut data = dir.fs.read(&file).map_err(FileError::io("read", &file))?;
            if last && snapshot.is_none() && n == 1 && frame::header_cut_short(&data, &SEGMENT) {
                // A new store's first segment, whose header never became durable: nothing was
                // written to it.
                report.torn_tail = Some(TornTail {
                    file: file.clone(),
                    offset: 0,
                    removed: data.len() as u64,
                    why: "segment header cut short",
                });
                dir.remove(&[segment_name(n)])?;
                break;
            }
            let version = frame::check_header(&data, &SEGMENT, &file)?;
            let scan = frame::scan(&data);
            let next = names_next(&data, &scan.frames, version);
            if let Some((next, at)) = next {
                if next.checkpoint.is_some_and(|run| run >= MAX_NUMBER) {
                    return Err(FileError::corrupt(&file, at, "an impossible run number"));
                }
                if next.segment != n + 1 {
                    return Err(FileError::corrupt(
                        &file,
                        at,
                        format!("names segment {} as the next, not {}", next.segment, n + 1),
                    ));
                }
                if last {
                    let why = format!("{} names it as the next", segment_name(n));
                    return Err(missing_segment(&dir, n + 1, &why));
                }
            }
            if let Some((at, why)) = scan.bad {
                if !(last && scan.torn_tail(&data)) {
                    return Err(FileError::corrupt(&file, at as u64, why));
                }
                dir.fs
                    .truncate(&file, at as u64)
                    .map_err(FileError::io("truncate", &file))?;
                report.torn_tail = Some(TornTail {
                    file: file.clone(),
                    offset: at as u64,
                    removed: (data.len() - at) as u64,
                    why,
                });
                data.truncate(at);
            }
            for (k, r) in scan.frames.iter().enumerate() {
                let offset = (r.start - frame::FRAME_OVERHEAD) as u64;
                let payload = &data[r.clone()];
                let frame = record::decode_frame(payload, version)
                    .map_err(|why| FileError::corrupt(&file, offset, why))?;
                let records = match frame {
                    Frame::Records(records) => records,
                    // The last one, checked above.
                    Frame::Next(_) if k + 1 == scan.frames.len() => continue,
                    Frame::Next(_) => {
                        return Err(FileError::corrupt(
                            &file,
                            offset,
                            "frames after the one naming the next segment",
                        ));
                    }
                };
                let sealing = Sealing::of(payload);
                for mut record in records {
                    record
                        .open(&keys, sealing)
                        .map_err(|why| FileError::corrupt(&file, offset, why))?;
                    // An erasure or a redaction whose keys a crash kept from being shredded
                    // is finished here.
                    let shreds = Shreds::of(&record);
                    apply(&memory, &live, record).map_err(|e| {
                        FileError::corrupt(&file, offset, format!("a record does not apply: {e}"))
                    })?;
                    shreds.apply(&keys);
                    report.records += 1;
                    records_since += 1;
                }
            }
            if !last && version >= 2 && next.is_none() {
                return Err(FileError::corrupt(
                    &file,
                    data.len() as u64,
                    format!(
                        "the segment ends without naming {} as the next: it was cut short",
                        segment_name(n + 1)
                    ),
                ));
            }
            report.segments += 1;
            since_snapshot += data.len() as u64;
            newest = Some((n, data.len() as u64, version));
            if let Some((
                Next {
                    checkpoint: Some(run),
                    ..
                },
                _,
            )) = next
            {
                // A checkpoint started with the next segment, and no snapshot says it ended:
                // a crash stopped it. Memory holds what it was writing (the state before that
                // segment): finish it, keeping the runs it had written.
                let view = memory.freeze();
                keys.save(&dir)?;
                let (runs, moved) = write_checkpoint(&dir, &keys, n + 1, &view, live, run)?;
                memory.retain(|c| moved.get(&c.id) != Some(&c.version));
                live = runs;
                next_run = next_run.max(run + 2);
                current = Some(n + 1);
                report.resumed = Some(dir.file(&snapshot_name(n + 1)));
                (since_snapshot, records_since) = (0, 0);
            }
        }
        // Leftovers of a checkpoint that wrote its snapshot but did not finish removing what it
        // replaced: older snapshots and segments, runs the snapshot does not list.
        let from = current.unwrap_or(1);
        let leftovers: Vec<String> = names
            .iter()
            .filter(|n| {
                numbered(n, "snapshot-", ".snap").is_some_and(|s| Some(s) != current)
                    || numbered(n, "segment-", ".log").is_some_and(|s| s < from)
                    || numbered(n, "run-", ".tbl")
                        .is_some_and(|r| live.iter().all(|l| l.number != r))
            })
            .cloned()
            .collect();
        dir.remove(&leftovers)?;
        let (segment, len, version, file) = match newest {
            Some((n, len, version)) => {
                let path = dir.file(&segment_name(n));
                let file = dir.fs.append(&path).map_err(FileError::io("open", &path))?;
                (n, len, version, file)
            }
            None => {
                let n = first;
                let file = dir.create(&segment_name(n), &frame::header(&SEGMENT))?;
                (n, HEADER_LEN as u64, SEGMENT.version, file)
            }
        };
        if current.is_none() {
            // A store without a snapshot: an empty one names segment 1 (the state before it is
            // empty), so that a store that lost it is not taken for a new one.
            snapshot::write(&dir, &keys, &snapshot_name(1), &[], &Frozen::default(), &[])?;
        }
        let log = Log {
            file,
            stats: Stats::default(),
            segment,
            len,
            version,
            since_snapshot,
            next_run,
        };
        // An erasure replayed whose shredding a crash stopped is finished now; takings
        // learnt from the log are written with the next keys made or the next checkpoint.
        keys.replayed();
        if keys.unsaved_shredding() {
            keys.save(&dir)?;
        }
        let shared = Arc::new(Shared {
            keys,
            memory,
            feed_start: Position(feed_start),
            runs: RwLock::new(live),
            dir,
            options,
            queue: Mutex::new(Queue::default()),
            work: Condvar::new(),
            log: Mutex::new(log),
            checkpoint: Mutex::new(Checkpoints::default()),
            checkpointed: Condvar::new(),
            _lock: lock,
        });
        let store = FileStore::start(shared)?;
        // Checkpoint now when the log replayed is due one (so that a process killed during
        // every checkpoint still gets one done, step by step, whether or not it appends), or
        // when the newest segment is of an older format (it cannot name the next one; the
        // checkpoint's snapshot names it instead).
        let s = &store.shared;
        let due = records_since > 0 && s.checkpoint_due(&s.lock_log());
        if due || version < SEGMENT.version {
            store.checkpoint()?;
            let n = s.lock_log().segment;
            report.checkpoint = Some(s.dir.file(&snapshot_name(n)));
        }
        Ok(Opened { store, report })
    }

    /// Starts the writer and checkpoint threads.
    fn start(shared: Arc<Shared>) -> Result<FileStore, FileError> {
        let spawn = |name: &str, body: fn(&Shared)| {
            let mine = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || body(&mine))
                .map_err(FileError::io("start a thread for", &shared.dir.path))
        };
        let writer = spawn("plaint-file-writer", Shared::write_loop)?;
        let checkpointer = match spawn("plaint-file-checkpoint", Shared::checkpoint_loop) {
            Ok(thread) => thread,
            Err(e) => {
                // Nothing was queued: the writer ends at once.
                shared.lock_queue().closing = true;
                shared.work.notify_all();
                let _ = writer.join();
                return Err(e);
            }
        };
        Ok(FileStore {
            shared,
            threads: Some(Threads {
                writer,
                checkpointer,
            }),
        })
    }

    /// Where this handle's feed begins: [`Store::feed`] serves the positions after it. It is
    /// the last event of the snapshot the store opened from — [`Position::START`] for a store
    /// never checkpointed — since a checkpoint keeps each complaint's history but not the
    /// order across complaints its events were recorded in. Positions are never renumbered:
    /// the events after it keep the numbers they had, and new ones continue them. A
    /// projection that falls further behind than this rebuilds from [`Store::list`] and
    /// [`Store::history`] (whose events up to this position are all in them) and then
    /// follows the feed from here.
    pub fn feed_start(&self) -> Position {
        self.shared.feed_start
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir.path
    }

    /// Counters since the store was opened.
    pub fn stats(&self) -> Stats {
        self.shared.lock_log().stats
    }

    /// Checkpoints now, and returns once the checkpoint is written: moves the complaints no
    /// clock runs for into a run, writes a snapshot of the rest and drops the log before it,
    /// so the next open starts there. It first waits for a checkpoint under way to end.
    /// Appends wait only while the writer thread starts a segment and takes a frozen view of
    /// memory; they go on while this writes. (The checkpoints [`Options::checkpoint_after`]
    /// makes due are written by the store's checkpoint thread; this is for callers who want
    /// one now.)
    ///
    /// # Errors
    /// [`FileError::Poisoned`] after an earlier failure, or the failure of this one (which
    /// poisons the store too).
    pub fn checkpoint(&self) -> Result<(), FileError> {
        let s = &self.shared;
        let mut c = s.lock_checkpoint();
        while c.busy {
            c = s.checkpointed.wait(c).unwrap_or_else(|p| p.into_inner());
        }
        c.busy = true;
        drop(c);
        let done = s.ask(Job::Checkpoint).and_then(|pending| {
            let done = s.finish_checkpoint(pending);
            if let Err(e) = &done {
                s.poison(e);
            }
            done
        });
        s.lock_checkpoint().busy = false;
        s.checkpointed.notify_all();
        done
    }

    /// Makes everything written so far durable (for [`Durability::Buffered`]; with `Full` it
    /// already is).
    ///
    /// # Errors
    /// As for [`FileStore::checkpoint`].
    pub fn sync(&self) -> Result<(), FileError> {
        self.shared.ask(Job::Sync)
    }

    /// Closes the store: writes what was handed to it (records of futures dropped before
    /// they were answered too), syncs the log (under [`Durability::Buffered`]), waits for a
    /// checkpoint under way to be written, ends the store's threads and releases the
    /// directory's lock. Dropping a store does the same but the sync, and reports nothing.
    ///
    /// ```
    /// use plaint_file::{FileStore, Options};
    /// let dir = tempfile::tempdir()?;
    /// let store = FileStore::open(dir.path(), Options::new())?.store;
    /// store.close()?;
    /// // The directory is free again.
    /// FileStore::open(dir.path(), Options::new())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The failure of the last sync, or [`FileError::Poisoned`] when the store had failed
    /// and refused writes (a checkpoint's failure included): what was acknowledged is
    /// durable, and the next open reads what is.
    pub fn close(mut self) -> Result<(), FileError> {
        let s = &self.shared;
        let synced = match s.options.durability {
            Durability::Buffered => s.ask(Job::Sync),
            Durability::Full => Ok(()),
        };
        self.stop();
        synced?;
        match self.shared.lock_queue().failed.take() {
            Some(why) => Err(FileError::Poisoned(why)),
            None => Ok(()),
        }
    }

    /// Lets the writer thread finish what is queued, then the checkpoint thread finish the
    /// checkpoint under way, and joins them.
    fn stop(&mut self) {
        let Some(threads) = self.threads.take() else {
            return;
        };
        let s = &self.shared;
        s.lock_queue().closing = true;
        s.work.notify_all();
        let _ = threads.writer.join();
        s.lock_checkpoint().closing = true;
        s.checkpointed.notify_all();
        let _ = threads.checkpointer.join();
    }

    /// Hands `record` to the writer thread and waits for its answer: written, synced (per
    /// the durability) and applied, or refused. Dropped once the record is handed over, the
    /// future leaves it to be written all the same (its caller does not learn the answer).
    async fn submit(&self, mut record: Record) -> Result<Outcome, StoreError> {
        let json = record.seal_to_json(&self.shared.keys)?;
        let (reply, answer) = oneshot::channel();
        self.shared.push(Job::Record {
            record,
            json,
            reply,
        })?;
        answer.await.unwrap_or_else(|_| Err(writer_gone().into()))
    }
}

impl Drop for FileStore {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The answer when the writer thread ended before it answered (it cannot, short of a bug).
fn writer_gone() -> FileError {
    FileError::Poisoned("the store's writer thread has stopped".into())
}

impl Shared {
    fn lock_queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_checkpoint(&self) -> MutexGuard<'_, Checkpoints> {
        self.checkpoint.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn runs(&self) -> RwLockReadGuard<'_, Vec<Arc<Run>>> {
        self.runs.read().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a job for the writer thread.
    fn push(&self, job: Job) -> Result<(), FileError> {
        let mut q = self.lock_queue();
        if q.stopped {
            return Err(writer_gone());
        }
        q.jobs.push(job);
        drop(q);
        self.work.notify_one();
        Ok(())
    }

    /// Has the writer thread do `job` and waits for its answer (blocking this thread).
    fn ask<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<Result<T, FileError>>) -> Job,
    ) -> Result<T, FileError> {
        let (reply, answer) = oneshot::channel();
        self.push(job(reply))?;
        plaint_core::blocking::block_on(answer).unwrap_or_else(|_| Err(writer_gone()))
    }

    /// Refuses writes from now on (after a failure that leaves memory and disk in doubt).
    fn poison(&self, e: &FileError) {
        self.lock_queue()
            .failed
            .get_or_insert_with(|| e.to_string());
    }

    fn failed(&self) -> Option<FileError> {
        self.lock_queue().failed.clone().map(FileError::Poisoned)
    }

    /// The writer thread: takes what is queued, builds group commits from it in order and
    /// writes them; while it writes, new work queues and goes into the next group. Ends
    /// once the handle closes and the queue is empty.
    fn write_loop(&self) {
        /// Whatever ends the thread (a bug's panic included), callers are answered.
        struct Stopped<'a>(&'a Shared);
        impl Drop for Stopped<'_> {
            fn drop(&mut self) {
                let mut q = self.0.lock_queue();
                q.stopped = true;
                if std::thread::panicking() {
                    q.failed
                        .get_or_insert_with(|| "the writer thread has stopped".into());
                }
                // Their senders dropped, waiting callers get `writer_gone`.
                q.jobs.clear();
            }
        }
        let _stopped = Stopped(self);
        let mut group = Group::default();
        loop {
            let mut q = self.lock_queue();
            while q.jobs.is_empty() && !q.closing {
                q = self.work.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            let jobs = std::mem::take(&mut q.jobs);
            drop(q);
            if jobs.is_empty() {
                return;
            }
            for job in jobs {
                self.take(job, &mut group);
            }
            self.flush(&mut group);
        }
    }

    /// Puts a record into the group (or answers it at once), or writes the group and does a
    /// sync or starts a checkpoint.
    fn take(&self, job: Job, group: &mut Group) {
        match job {
            Job::Record {
                record,
                json,
                reply,
            } => {
                if group.holds_back(&record) || group.batch.len() >= GROUP_BYTES {
                    self.flush(group);
                }
                if let Some(e) = self.failed() {
                    let _ = reply.send(Err(e.into()));
                    return;
                }
                match self.check(&record, group) {
                    Ok(None) => {
                        group.batch.push(&json);
                        group.records.push((record, reply));
                    }
                    Ok(Some(outcome)) => {
                        let _ = reply.send(Ok(outcome));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Job::Sync(reply) => {
                self.flush(group);
                let _ = reply.send(self.sync_log());
            }
            Job::Checkpoint(reply) => {
                self.flush(group);
                let begun = match self.failed() {
                    Some(e) => Err(e),
                    None => self.begin_checkpoint(&mut self.lock_log()),
                };
                if let Err(e) = &begun {
                    self.poison(e);
                }
                let _ = reply.send(begun);
            }
        }
    }

    /// Whether `record` goes into the group: a version check and a duplicate check for an
    /// append (against memory, the runs and the group), whether a requeue has something to
    /// requeue. `Ok(Some(_))` answers it without writing it; an error refuses it.
    fn check(&self, record: &Record, group: &mut Group) -> Result<Option<Outcome>, StoreError> {
        match record {
            Record::Append {
                complaint,
                expected_version,
                command,
                events,
                ..
            } => {
                let expected = *expected_version;
                let actual = match group.versions.get(complaint) {
                    Some(v) => *v,
                    None => self.version(complaint)?,
                };
                if actual != expected {
                    return Err(StoreError::Conflict { expected, actual });
                }
                if group.commands.contains(command) || self.recorded(command)?.is_some() {
                    return Err(StoreError::DuplicateCommand(command.clone()));
                }
                group
                    .versions
                    .insert(complaint.clone(), expected + events.len() as u64);
                group.commands.insert(command.clone());
                Ok(None)
            }
            Record::Settle { .. } => Ok(None),
            Record::Requeue { id, .. } => {
                let dead = plaint_core::blocking::block_on(self.memory.dead_letters())?
                    .iter()
                    .any(|e| &e.notification.id == id);
                if !dead || !group.requeues.insert(id.clone()) {
                    return Ok(Some(Outcome::Requeued(false)));
                }
                Ok(None)
            }
        }
    }

    /// Writes the group as one frame, syncs it (per the durability), applies it to the
    /// in-memory state and answers its callers; then starts a checkpoint (for the checkpoint
    /// thread to write) or a new segment if it is time.
    fn flush(&self, group: &mut Group) {
        if group.records.is_empty() {
            return;
        }
        let payload = group.batch.take();
        let records = std::mem::take(&mut group.records);
        group.versions.clear();
        group.commands.clear();
        group.requeues.clear();

        let mut log = self.lock_log();
        let started = std::time::Instant::now();
        // Keys made for this group are durable before anything sealed with them is written.
        let saved = if self.keys.unsaved_keys() {
            self.keys.save(&self.dir)
        } else {
            Ok(())
        };
        let written = saved.and_then(|()| self.write_frame(&mut log, &payload));
        let took = started.elapsed();
        tracing::trace!(
            records = records.len(),
            bytes = payload.len(),
            ?took,
            "group commit"
        );
        metrics::histogram!("plaint_file_group_records").record(records.len() as f64);
        metrics::histogram!("plaint_file_commit_seconds").record(took.as_secs_f64());
        log.stats.frames += 1;
        log.stats.records += records.len() as u64;
        let mut failure = written.err();
        let mut answers = Vec::with_capacity(records.len());
        let mut erased = false;
        for (record, reply) in records {
            let shreds = Shreds::of(&record);
            let result = match &failure {
                None => apply(&self.memory, &self.runs(), record),
                Some(e) => Err(FileError::Poisoned(e.to_string()).into()),
            };
            if let Err(StoreError::Backend { .. }) = &result {
                // Written but not applied: memory and disk disagree until a reopen.
                failure.get_or_insert_with(|| {
                    FileError::Poisoned("a written record did not apply".into())
                });
            }
            if result.is_ok() && !shreds.is_empty() {
                shreds.apply(&self.keys);
                erased = true;
            }
            answers.push((result, reply));
        }
        // An erasure or a redaction is answered once its keys are shredded durably; if that
        // fails, reopening finishes it from the log. Its record is synced first, whatever the
        // durability: shredding keys whose replacement a crash could still take back would
        // lose what the rewrite carries (and the erasure's own audit entry).
        if erased && failure.is_none() {
            if self.options.durability != Durability::Full {
                let path = self.dir.file(&segment_name(log.segment));
                failure = log
                    .file
                    .sync_data()
                    .map_err(FileError::io("sync", path))
                    .err();
            }
            if failure.is_none() {
                failure = self.keys.save(&self.dir).err();
            }
        }
        for (result, reply) in answers {
            let result = match (&failure, result) {
                (Some(e), Ok(_)) if erased => Err(FileError::Poisoned(e.to_string()).into()),
                (_, result) => result,
            };
            // Durable and applied before it is answered; a caller gone does not learn it.
            let _ = reply.send(result);
        }
        if failure.is_none() && self.checkpoint_due(&log) && self.checkpoint_idle() {
            match self.begin_checkpoint(&mut log) {
                Ok(pending) => {
                    self.lock_checkpoint().pending = Some(pending);
                    self.checkpointed.notify_all();
                }
                Err(e) => {
                    self.lock_checkpoint().busy = false;
                    self.checkpointed.notify_all();
                    failure = Some(e);
                }
            }
        } else if failure.is_none() && log.len >= self.options.segment_size {
            failure = self.rotate(&mut log, None).err();
        }
        drop(log);
        if let Some(e) = failure {
            self.poison(&e);
        }
    }

    /// Whether no checkpoint is under way; if so, one is from now on (the caller starts it).
    fn checkpoint_idle(&self) -> bool {
        let mut c = self.lock_checkpoint();
        !std::mem::replace(&mut c.busy, true)
    }

    /// Syncs the log, as the writer thread.
    fn sync_log(&self) -> Result<(), FileError> {
        if let Some(e) = self.failed() {
            return Err(e);
        }
        let mut log = self.lock_log();
        let path = self.dir.file(&segment_name(log.segment));
        let done = log.file.sync_data().map_err(FileError::io("sync", path));
        drop(log);
        if let Err(e) = &done {
            self.poison(e);
        }
        done
    }

    /// The checkpoint thread: writes each checkpoint the writer thread starts. Ends once the
    /// handle closes and none is pending.
    fn checkpoint_loop(&self) {
        /// Whatever ends the thread, no caller waits for a checkpoint it will not write.
        struct Stopped<'a>(&'a Shared);
        impl Drop for Stopped<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.poison(&FileError::Poisoned(
                        "the checkpoint thread has stopped".into(),
                    ));
                    self.0.lock_checkpoint().busy = false;
                    self.0.checkpointed.notify_all();
                }
            }
        }
        let _stopped = Stopped(self);
        loop {
            let mut c = self.lock_checkpoint();
            while c.pending.is_none() && !c.closing {
                c = self.checkpointed.wait(c).unwrap_or_else(|p| p.into_inner());
            }
            let Some(pending) = c.pending.take() else {
                return;
            };
            drop(c);
            if let Err(e) = self.finish_checkpoint(pending) {
                self.poison(&e);
            }
            self.lock_checkpoint().busy = false;
            self.checkpointed.notify_all();
        }
    }

    fn write_frame(&self, log: &mut Log, payload: &[u8]) -> Result<(), FileError> {
        let path = || self.dir.file(&segment_name(log.segment));
        let mut buf = Vec::with_capacity(payload.len() + frame::FRAME_OVERHEAD);
        frame::encode(payload, &mut buf);
        log.file
            .write_all(&buf)
            .map_err(|e| FileError::io("write", path())(e))?;
        if self.options.durability == Durability::Full {
            log.file
                .sync_data()
                .map_err(|e| FileError::io("sync", path())(e))?;
        }
        log.len += buf.len() as u64;
        log.since_snapshot += buf.len() as u64;
        Ok(())
    }

    /// Whether the log has grown enough for a snapshot.
    fn checkpoint_due(&self, log: &Log) -> bool {
        self.options
            .checkpoint_after
            .is_some_and(|after| log.since_snapshot >= after)
    }

    /// Starts segment N+1: creates it (durably), then, if segment N is of a format that can,
    /// ends N with a frame naming N+1 (and `checkpoint`, the run number of a checkpoint that
    /// starts with N+1), synced before anything is written to N+1: from then on N+1 missing
    /// is reported. A crash between the two leaves an N+1 that N does not name and that holds
    /// nothing; opening removes it.
    fn rotate(&self, log: &mut Log, checkpoint: Option<u64>) -> Result<(), FileError> {
        let next = log.segment + 1;
        let file = self
            .dir
            .create(&segment_name(next), &frame::header(&SEGMENT))?;
        if log.version >= 2 {
            let named = Next {
                segment: next,
                checkpoint,
            };
            self.write_frame(log, &named.payload())?;
        }
        log.file = file;
        log.segment = next;
        log.len = HEADER_LEN as u64;
        log.version = SEGMENT.version;
        Ok(())
    }

    /// A checkpoint's first part, as the writer (nothing is half-applied): starts segment N,
    /// naming the checkpoint in the frame that names N (so that opening finishes it if a crash
    /// stops it), and takes a frozen view of memory (a reference count per complaint), which
    /// is what the checkpoint writes: the state before segment N.
    fn begin_checkpoint(&self, log: &mut Log) -> Result<Pending, FileError> {
        let next_run = log.next_run;
        self.rotate(log, Some(next_run))?;
        log.since_snapshot = HEADER_LEN as u64;
        let pending = Pending {
            segment: log.segment,
            frozen: self.memory.freeze(),
            next_run,
        };
        // A new run, and perhaps one merged from the newest runs.
        log.next_run += 2;
        Ok(pending)
    }

    /// A checkpoint's second part, while appends go on: writes the complaints no clock runs
    /// for to a new run (merging the newest runs if there are too many), then snapshot N with
    /// the rest, the outbox and the live runs; then, under the runs' write lock, puts the new
    /// runs in place and lets go of the complaints that went to the run and have not changed
    /// since; then removes the files nothing needs.
    fn finish_checkpoint(&self, p: Pending) -> Result<(), FileError> {
        let span = tracing::debug_span!("plaint.file.checkpoint", segment = p.segment);
        let _entered = span.enter();
        let started = std::time::Instant::now();
        let done = self.write_and_swap_checkpoint(p);
        let took = started.elapsed();
        tracing::debug!(?took, ok = done.is_ok(), "checkpoint written");
        metrics::histogram!("plaint_file_checkpoint_seconds").record(took.as_secs_f64());
        done
    }

    /// [`FileStore::finish_checkpoint`]'s work: the runs written, then put in place.
    fn write_and_swap_checkpoint(&self, p: Pending) -> Result<(), FileError> {
        let n = p.segment;
        let (live, moved) = write_checkpoint(
            &self.dir,
            &self.keys,
            n,
            &p.frozen,
            self.runs().clone(),
            p.next_run,
        )?;
        let numbers: Vec<u64> = live.iter().map(|r| r.number).collect();
        {
            let mut runs = self.runs.write().unwrap_or_else(|p| p.into_inner());
            *runs = live;
            self.memory
                .retain(|c| moved.get(&c.id).is_none_or(|&v| v != c.version));
        }
        let names = self
            .dir
            .fs
            .list(&self.dir.path)
            .map_err(FileError::io("list", &self.dir.path))?;
        let old: Vec<String> = names
            .into_iter()
            .filter(|name| {
                numbered(name, "segment-", ".log").is_some_and(|s| s < n)
                    || numbered(name, "snapshot-", ".snap").is_some_and(|s| s < n)
                    || numbered(name, "run-", ".tbl").is_some_and(|r| !numbers.contains(&r))
            })
            .collect();
        self.dir.remove(&old)
    }

    /// The version complaint `id` is at in memory or the runs (0 if it does not exist).
    /// Where command `id` was recorded: memory first, then the runs.
    fn recorded(&self, id: &CommandId) -> Result<Option<CommandRecord>, StoreError> {
        if let Some(r) = plaint_core::blocking::block_on(self.memory.command(id))? {
            return Ok(Some(r));
        }
        Ok(cold::command(&self.runs(), id)?)
    }

    fn version(&self, id: &ComplaintId) -> Result<u64, StoreError> {
        if let Some(c) = plaint_core::blocking::block_on(self.memory.load(id))? {
            return Ok(c.version);
        }
        Ok(cold::find(&self.runs(), id)?.map_or(0, |(_, s)| s.version))
    }
}

impl FileStore {
    /// The rewrite a redacting append carries: the complaint's history at the version the
    /// append expects, its events added, the texts redacted (refused here, before anything is
    /// written, when the history lacks one). The writer's version check makes sure the
    /// history read is still the complaint's when the record is written.
    async fn rewrite(&self, append: &Append) -> Result<Rewrite, StoreError> {
        let mut history = self.history(&append.complaint).await?;
        let actual = history.len() as u64;
        if actual != append.expected_version {
            return Err(StoreError::Conflict {
                expected: append.expected_version,
                actual,
            });
        }
        history.extend(append.events.iter().cloned());
        append.redact(&mut history)?;
        Ok(Rewrite {
            history,
            key: 0,
            replaces: Vec::new(),
        })
    }
}

/// The keys a record shreds once it is durable: an erasure's personal keys, a rewrite's
/// older staff keys.
struct Shreds {
    erases: Option<(ComplaintId, u64)>,
    rewrites: Option<(ComplaintId, u64, u64, Vec<u64>)>,
}

impl Shreds {
    fn of(record: &Record) -> Self {
        Self {
            erases: record.erases().map(|(id, at)| (id.clone(), at)),
            rewrites: record
                .rewrites()
                .map(|(id, key, from, old)| (id.clone(), key, from, old.to_vec())),
        }
    }

    fn is_empty(&self) -> bool {
        self.erases.is_none() && self.rewrites.is_none()
    }

    fn apply(&self, keys: &Keys) {
        if let Some((id, at)) = &self.erases {
            keys.shred(id, *at);
        }
        if let Some((id, key, from, old)) = &self.rewrites {
            keys.rotated(id, *key, *from, old);
        }
    }
}

impl Store for FileStore {
    async fn append(&self, append: Append) -> Result<Arc<Complaint>, StoreError> {
        append.check()?;
        let rewrite = match append.redacts() {
            true => Some(self.rewrite(&append).await?),
            false => None,
        };
        match self.submit(Record::append(append, rewrite)).await? {
            Outcome::Appended(state) => Ok(state),
            _ => unreachable!("an append's outcome"),
        }
    }

    // Memory first, then the runs: a checkpoint puts a complaint in a run before it lets it
    // go from memory, so one of the two always has it.
    async fn load(&self, id: &ComplaintId) -> Result<Option<Arc<Complaint>>, StoreError> {
        if let Some(c) = plaint_core::blocking::block_on(self.shared.memory.load(id))? {
            return Ok(Some(c));
        }
        let found = cold::find(&self.shared.runs(), id)?;
        Ok(found.map(|(run, s)| run.state(&s)).transpose()?)
    }

    async fn history(&self, id: &ComplaintId) -> Result<Vec<Recorded>, StoreError> {
        let history = plaint_core::blocking::block_on(self.shared.memory.history(id))?;
        if !history.is_empty() {
            return Ok(history);
        }
        let found = cold::find(&self.shared.runs(), id)?;
        Ok(found
            .map(|(run, s)| run.history(id, &s))
            .transpose()?
            .unwrap_or_default())
    }

    async fn command(&self, id: &CommandId) -> Result<Option<CommandRecord>, StoreError> {
        self.shared.recorded(id)
    }

    /// Positions after [`FileStore::feed_start`]; reading from before it is a
    /// [`StoreFailure::Unavailable`] failure naming it.
    async fn feed(&self, after: Position, limit: usize) -> Result<FeedPage, StoreError> {
        if after < self.shared.feed_start {
            return Err(StoreError::backend(
                StoreFailure::Unavailable,
                format!(
                    "feed positions up to {} were checkpointed before this store was opened; \
                     read from there (FileStore::feed_start)",
                    self.shared.feed_start
                ),
            ));
        }
        self.shared.memory.feed_from(after, limit, |id| {
            let found = cold::find(&self.shared.runs(), id)?;
            Ok(found
                .map(|(run, s)| run.history(id, &s))
                .transpose()?
                .unwrap_or_default())
        })
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        cold::list(&self.shared.memory, &self.shared.runs(), query)
    }

    async fn count(&self, query: &ListQuery) -> Result<u64, StoreError> {
        cold::count(&self.shared.memory, &self.shared.runs(), query)
    }

    async fn due(
        &self,
        upto: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, ComplaintId)>, StoreError> {
        plaint_core::blocking::block_on(self.shared.memory.due(upto, limit))
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        plaint_core::blocking::block_on(self.shared.memory.next_due())
    }

    /// Claims are leases held in memory only: after a reopen, whatever was claimed and not
    /// settled is due again (and delivered again; receivers deduplicate by id).
    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        plaint_core::blocking::block_on(self.shared.memory.claim_outbox(now, lease, limit))
    }

    async fn settle(&self, id: &NotificationId, outcome: Settlement) -> Result<(), StoreError> {
        let record = Record::Settle {
            id: id.clone(),
            outcome,
        };
        self.submit(record).await.map(|_| ())
    }

    async fn dead_letters(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        plaint_core::blocking::block_on(self.shared.memory.dead_letters())
    }

    async fn requeue(&self, id: &NotificationId, at: Timestamp) -> Result<bool, StoreError> {
        let record = Record::Requeue { id: id.clone(), at };
        let outcome = self.submit(record).await?;
        Ok(matches!(outcome, Outcome::Requeued(true)))
    }

    /// Memory's signal: records reach memory only once durable, so a waiter woken by it
    /// finds the change durable and visible.
    fn changes(&self) -> Option<&plaint_core::Changes> {
        self.shared.memory.changes()
    }

    async fn outbox_stats(&self) -> Result<Option<plaint_core::OutboxStats>, StoreError> {
        plaint_core::blocking::block_on(self.shared.memory.outbox_stats())
    }
}
