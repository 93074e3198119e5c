//! Runs: immutable files of complaints moved out of memory — each one's state and history —
//! and of the command ids recorded for them, indexed by two static B-trees that are read on
//! demand.
//!
//! A run `run-N.tbl` is a header (magic `PLAINTRN`), then for each complaint in id order two
//! frames (its state, then its history, each `[encoding 1][JSON]`), the complaint tree's and
//! the command tree's nodes, a footer frame (`[encoding 2]` and, for each tree, its root's
//! offset `u64`, length `u32` and entry count `u64`, then the Bloom filter frame's offset and
//! length), the filter frame (`[encoding 2]` and the filter over both trees' keys), and a
//! 24-byte trailer: the footer's offset `u64` and length `u32`, 4 zero bytes, and `PLAINTRE`.
//!
//! Complaint tree: id → version `u64`, stage (its name), tier and primary department
//! (optional strings), and where its two frames are (offset `u64`, lengths `u32`, `u32`).
//! Command tree: command id → complaint id and the version after the command.

use crate::bloom::Bloom;
use crate::btree::{Builder, ENCODING_BINARY, FrameRef, InnerNodes, Iter, Nodes, Tree};
use crate::codec::{self, Take};
use crate::error::FileError;
use crate::frame::{self, HEADER_LEN, RUN, Writer};
use crate::fs::{Dir, ReadFile};
use crate::record::{self, sealed_payload};
use crate::seal::{Keys, Sealing};
use plaint_core::{
    CommandId, CommandRecord, Complaint, ComplaintId, DepartmentKey, PersonalData, Recorded,
    StaffText, StageKind, TierKey,
};
use plaint_memory::Whole;
use serde::de::DeserializeOwned;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

const TRAILER_MAGIC: &[u8; 8] = b"PLAINTRE";
pub(crate) const TRAILER_LEN: u64 = 24;
/// The Bloom filter's domains: complaint ids and command ids.
const COMPLAINT: u8 = b'c';
const COMMAND: u8 = b'm';

/// An open run.
pub(crate) struct Run {
    pub(crate) number: u64,
    pub(crate) path: PathBuf,
    /// The file's size in bytes.
    pub(crate) size: u64,
    file: Box<dyn ReadFile>,
    complaints: Option<Tree>,
    commands: Option<Tree>,
    filter: FrameRef,
    /// Read on the first lookup, not on open: opening stays independent of the run's size.
    bloom: OnceLock<Bloom>,
    inner: InnerNodes,
    /// The store's keys, to open sealed personal fields.
    keys: Arc<Keys>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("path", &self.path)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// What a run's complaint tree says about one complaint: enough to filter a listing without
/// reading the complaint, and where its state and history are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) version: u64,
    pub(crate) stage: StageKind,
    pub(crate) tier: Option<TierKey>,
    pub(crate) department: Option<DepartmentKey>,
    /// Where the state frame starts; the history frame follows it.
    blob: u64,
    state_len: u32,
    history_len: u32,
}

/// The name of run `n`.
pub(crate) fn name(n: u64) -> String {
    format!("run-{n:020}.tbl")
}

/// Stage kinds by name (their serde name), for the complaint tree.
fn stage_names() -> &'static [(StageKind, String)] {
    static NAMES: OnceLock<Vec<(StageKind, String)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        StageKind::ALL
            .iter()
            .map(|&k| {
                let name = serde_json::to_value(k).expect("stage kinds serialise");
                (
                    k,
                    name.as_str().expect("a stage kind is a string").to_owned(),
                )
            })
            .collect()
    })
}

impl Summary {
    fn of(state: &Complaint, blob: u64, state_len: u32, history_len: u32) -> Self {
        Self {
            version: state.version,
            stage: state.stage.kind(),
            tier: state.tier.clone(),
            department: state.responsibility.as_ref().map(|r| r.primary.clone()),
            blob,
            state_len,
            history_len,
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        codec::put_u64(&mut out, self.version);
        let stage = stage_names().iter().find(|(k, _)| *k == self.stage);
        codec::put_bytes(&mut out, stage.expect("every stage is named").1.as_bytes());
        codec::put_opt(&mut out, self.tier.as_ref().map(|t| t.as_str()));
        codec::put_opt(&mut out, self.department.as_ref().map(|d| d.as_str()));
        codec::put_u64(&mut out, self.blob);
        codec::put_u32(&mut out, self.state_len);
        codec::put_u32(&mut out, self.history_len);
        out
    }

    fn decode(value: &[u8]) -> Result<Self, String> {
        let mut t = Take(value);
        let version = t.u64()?;
        let stage = t.str()?;
        let stage = stage_names()
            .iter()
            .find(|(_, n)| n == stage)
            .map(|(k, _)| *k)
            .ok_or_else(|| format!("unknown stage {stage:?}"))?;
        let tier = t
            .opt()?
            .map(TierKey::new)
            .transpose()
            .map_err(|e| e.to_string())?;
        let department = t
            .opt()?
            .map(DepartmentKey::new)
            .transpose()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            version,
            stage,
            tier,
            department,
            blob: t.u64()?,
            state_len: t.u32()?,
            history_len: t.u32()?,
        })
    }

    fn blob_len(&self) -> usize {
        self.state_len as usize + self.history_len as usize
    }
}

fn command_value(record: &CommandRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    codec::put_bytes(&mut out, record.complaint.as_str().as_bytes());
    codec::put_u64(&mut out, record.version);
    out
}

impl Run {
    /// Opens run `number`: checks its header, trailer and footer (not its nodes, which are
    /// checked as they are read).
    pub(crate) fn open(dir: &Dir, number: u64, keys: &Arc<Keys>) -> Result<Self, FileError> {
        let path = dir.file(&name(number));
        let file = dir
            .fs
            .open_read(&path)
            .map_err(FileError::io("open", &path))?;
        let size = file.size().map_err(FileError::io("read", &path))?;
        if size < HEADER_LEN as u64 + TRAILER_LEN {
            return Err(FileError::corrupt(&path, 0, "a run cut short"));
        }
        let mut header = [0; HEADER_LEN];
        file.read_at(0, &mut header)
            .map_err(FileError::io("read", &path))?;
        frame::check_header(&header, &RUN, &path)?;
        let mut trailer = [0; TRAILER_LEN as usize];
        let at = size - TRAILER_LEN;
        file.read_at(at, &mut trailer)
            .map_err(FileError::io("read", &path))?;
        let bad = |why: &str| FileError::corrupt(&path, at, format!("run trailer: {why}"));
        if &trailer[16..] != TRAILER_MAGIC {
            return Err(bad("no trailer (the run is cut short or damaged)"));
        }
        let footer = FrameRef::take(&mut Take(&trailer)).map_err(bad)?;
        let payload = footer.read(&*file, &path)?;
        let bad = |why: &str| FileError::corrupt(&path, footer.offset, format!("footer: {why}"));
        let mut t = Take(&payload);
        if t.u8() != Ok(ENCODING_BINARY) {
            return Err(bad("unknown encoding"));
        }
        let complaints = Tree::take(&mut t).map_err(bad)?;
        let commands = Tree::take(&mut t).map_err(bad)?;
        let filter = FrameRef::take(&mut t).map_err(bad)?;
        Ok(Self {
            number,
            path,
            size,
            file,
            complaints,
            commands,
            filter,
            bloom: OnceLock::new(),
            inner: InnerNodes::default(),
            keys: Arc::clone(keys),
        })
    }

    fn nodes(&self) -> Nodes<'_> {
        Nodes {
            file: &*self.file,
            path: &self.path,
            inner: &self.inner,
        }
    }

    /// Whether the run may hold `key` (false: it surely does not).
    fn may_hold(&self, domain: u8, key: &str) -> Result<bool, FileError> {
        let bloom = match self.bloom.get() {
            Some(b) => b,
            None => {
                let payload = self.filter.read(&*self.file, &self.path)?;
                let bloom = match payload.split_first() {
                    Some((&ENCODING_BINARY, body)) => Bloom::decode(body),
                    _ => Err("unknown encoding"),
                }
                .map_err(|why| FileError::corrupt(&self.path, self.filter.offset, why))?;
                self.bloom.get_or_init(|| bloom)
            }
        };
        Ok(bloom.may_hold(domain, key.as_bytes()))
    }

    fn corrupt(&self, key: &str, why: impl std::fmt::Display) -> FileError {
        FileError::corrupt(&self.path, 0, format!("the entry for {key}: {why}"))
    }

    /// What the run holds about complaint `id`.
    pub(crate) fn complaint(&self, id: &ComplaintId) -> Result<Option<Summary>, FileError> {
        let Some(tree) = self.complaints else {
            return Ok(None);
        };
        if !self.may_hold(COMPLAINT, id.as_str())? {
            return Ok(None);
        }
        self.nodes()
            .get(tree, id.as_str().as_bytes())?
            .map(|v| Summary::decode(&v).map_err(|why| self.corrupt(id.as_str(), why)))
            .transpose()
    }

    /// Where command `id` was recorded, if this run knows.
    pub(crate) fn command(&self, id: &CommandId) -> Result<Option<CommandRecord>, FileError> {
        let Some(tree) = self.commands else {
            return Ok(None);
        };
        if !self.may_hold(COMMAND, id.as_str())? {
            return Ok(None);
        }
        let Some(value) = self.nodes().get(tree, id.as_str().as_bytes())? else {
            return Ok(None);
        };
        let mut t = Take(&value);
        let parsed = t.str().and_then(|c| Ok((c, t.u64()?)));
        let (complaint, version) = parsed.map_err(|why| self.corrupt(id.as_str(), why))?;
        let complaint = ComplaintId::new(complaint).map_err(|e| self.corrupt(id.as_str(), e))?;
        Ok(Some(CommandRecord { complaint, version }))
    }

    fn blob(&self, summary: &Summary) -> Result<Vec<u8>, FileError> {
        let mut buf = vec![0; summary.blob_len()];
        self.file
            .read_at(summary.blob, &mut buf)
            .map_err(FileError::io("read", &self.path))?;
        Ok(buf)
    }

    /// Decodes the frame at `at`, its personal fields opened (they are sealed under
    /// complaint `id`, or under the state's own id when `id` is `None`).
    fn frame<T: DeserializeOwned + PersonalData + StaffText>(
        &self,
        at: u64,
        len: u32,
        id: impl FnOnce(&T) -> ComplaintId,
    ) -> Result<T, FileError> {
        let payload = FrameRef { offset: at, len }.read(&*self.file, &self.path)?;
        let corrupt = |why| FileError::corrupt(&self.path, at, why);
        let mut value: T = record::decode(&payload).map_err(corrupt)?;
        let id = id(&value);
        self.keys
            .open(&id, 0, Sealing::of(&payload), &mut value)
            .map_err(corrupt)?;
        Ok(value)
    }

    /// A complaint's state.
    pub(crate) fn state(&self, summary: &Summary) -> Result<Arc<Complaint>, FileError> {
        self.frame(summary.blob, summary.state_len, |c: &Complaint| {
            c.id.clone()
        })
        .map(Arc::new)
    }

    /// Complaint `id`'s history.
    pub(crate) fn history(
        &self,
        id: &ComplaintId,
        summary: &Summary,
    ) -> Result<Vec<Recorded>, FileError> {
        self.frame(
            summary.blob + u64::from(summary.state_len),
            summary.history_len,
            |_| id.clone(),
        )
    }

    /// The complaints after `after`, in id order.
    pub(crate) fn complaints_after(
        &self,
        after: Option<&ComplaintId>,
    ) -> Result<Complaints<'_>, FileError> {
        let after = after.map(|a| a.as_str().as_bytes());
        Ok(Complaints {
            run: self,
            iter: Iter::after(self.nodes(), self.complaints, after)?,
        })
    }

    /// Reads all of the run — every complaint's state and history, both trees' nodes and the
    /// Bloom filter — and checks that it decodes and agrees with the footer's counts; returns
    /// the number of complaints. Stops at the first damage.
    pub(crate) fn check(&self) -> Result<u64, FileError> {
        self.may_hold(COMPLAINT, "")?;
        let mut complaints = self.complaints_after(None)?;
        let mut n = 0;
        while let Some((id, summary)) = complaints.next_summary()? {
            let state = self.state(&summary)?;
            self.history(&id, &summary)?;
            if state.id != id {
                return Err(self.corrupt(id.as_str(), "the state is another complaint's"));
            }
            n += 1;
        }
        let mut commands = self.commands()?;
        let mut m = 0;
        while commands.next_entry()?.is_some() {
            m += 1;
        }
        let want = |t: Option<Tree>| t.map_or(0, |t| t.count);
        if n != want(self.complaints) || m != want(self.commands) {
            return Err(FileError::corrupt(
                &self.path,
                0,
                "the trees hold other counts than the footer says",
            ));
        }
        Ok(n)
    }

    fn commands(&self) -> Result<Iter<'_>, FileError> {
        Iter::after(self.nodes(), self.commands, None)
    }

    /// Writes run `number` holding `complaints` (in id order) and their command ids.
    /// Personal fields are sealed with `keys`; keys made for them are saved before the run
    /// gets its name.
    pub(crate) fn write(
        dir: &Dir,
        keys: &Arc<Keys>,
        number: u64,
        complaints: &[Whole],
    ) -> Result<Self, FileError> {
        let entries = complaints.iter().map(|(_, h)| 1 + h.len() as u64).sum();
        let mut bloom = Bloom::with_capacity(entries);
        let path = dir.file(&name(number));
        dir.publish(&name(number), &frame::header(&RUN), |file| {
            let mut w = Writer::new(file, &path, HEADER_LEN as u64);
            let mut tree = Builder::default();
            let mut commands: Vec<(&CommandId, CommandRecord)> = Vec::new();
            for (state, history) in complaints {
                // A command's record is its last event's version.
                for r in history.iter() {
                    match commands.last_mut() {
                        Some((c, rec)) if **c == r.command && rec.complaint == state.id => {
                            rec.version = r.version;
                        }
                        _ => commands.push((
                            &r.command,
                            CommandRecord {
                                complaint: state.id.clone(),
                                version: r.version,
                            },
                        )),
                    }
                }
                bloom.insert(COMPLAINT, state.id.as_str().as_bytes());
                let (mut sealed_state, mut sealed_history) = ((**state).clone(), history.to_vec());
                keys.seal(&state.id, state.version, &mut sealed_state)?;
                keys.seal(&state.id, state.version, &mut sealed_history)?;
                let (blob, state_len) = w.frame(&sealed_payload(&sealed_state))?;
                let (_, history_len) = w.frame(&sealed_payload(&sealed_history))?;
                let entry = Summary::of(state, blob, state_len, history_len);
                tree.push(&mut w, state.id.as_str().as_bytes(), &entry.encode())?;
            }
            commands.sort_unstable_by(|a, b| a.0.cmp(b.0));
            let mut command_tree = Builder::default();
            for (id, record) in &commands {
                bloom.insert(COMMAND, id.as_str().as_bytes());
                command_tree.push(&mut w, id.as_str().as_bytes(), &command_value(record))?;
            }
            finish(&mut w, tree, command_tree, &bloom)?;
            keys.save(dir)
        })?;
        Self::open(dir, number, keys)
    }

    /// Writes run `number` holding everything `inputs` (oldest first) hold, the newest entry
    /// of each complaint winning; states and histories are copied as they are.
    pub(crate) fn merge(
        dir: &Dir,
        keys: &Arc<Keys>,
        number: u64,
        inputs: &[Arc<Run>],
    ) -> Result<Self, FileError> {
        let path = dir.file(&name(number));
        dir.publish(&name(number), &frame::header(&RUN), |file| {
            let mut w = Writer::new(file, &path, HEADER_LEN as u64);
            let mut tree = Builder::default();
            let keys = inputs.iter().flat_map(|r| [r.complaints, r.commands]);
            let mut bloom = Bloom::with_capacity(keys.flatten().map(|t| t.count).sum());
            let iters = inputs
                .iter()
                .map(|r| Iter::after(r.nodes(), r.complaints, None))
                .collect::<Result<_, _>>()?;
            merge_sorted(iters, |i, key, value| {
                let run = &inputs[i];
                let key_str = String::from_utf8_lossy(key);
                let mut summary =
                    Summary::decode(value).map_err(|why| run.corrupt(&key_str, why))?;
                summary.blob = w.raw(&run.blob(&summary)?)?;
                bloom.insert(COMPLAINT, key);
                tree.push(&mut w, key, &summary.encode())
            })?;
            let mut command_tree = Builder::default();
            let iters = inputs
                .iter()
                .map(|r| r.commands())
                .collect::<Result<_, _>>()?;
            merge_sorted(iters, |_, key, value| {
                bloom.insert(COMMAND, key);
                command_tree.push(&mut w, key, value)
            })?;
            finish(&mut w, tree, command_tree, &bloom)
        })?;
        Self::open(dir, number, keys)
    }
}

/// Writes the trees' remaining nodes, the filter, the footer and the trailer.
fn finish(
    w: &mut Writer<'_>,
    complaints: Builder,
    commands: Builder,
    bloom: &Bloom,
) -> Result<(), FileError> {
    let complaints = complaints.finish(w)?;
    let commands = commands.finish(w)?;
    let mut filter = vec![ENCODING_BINARY];
    filter.extend(bloom.encode());
    let (offset, len) = w.frame(&filter)?;
    let mut footer = vec![ENCODING_BINARY];
    Tree::put(complaints, &mut footer);
    Tree::put(commands, &mut footer);
    FrameRef { offset, len }.put(&mut footer);
    let (offset, len) = w.frame(&footer)?;
    let mut trailer = Vec::with_capacity(TRAILER_LEN as usize);
    FrameRef { offset, len }.put(&mut trailer);
    trailer.extend([0; 4]);
    trailer.extend_from_slice(TRAILER_MAGIC);
    w.raw(&trailer)?;
    w.flush()
}

/// Walks sorted iterators together in key order; for a key several hold, `emit` gets the
/// entry of the last of them (the newest).
fn merge_sorted(
    mut iters: Vec<Iter<'_>>,
    mut emit: impl FnMut(usize, &[u8], &[u8]) -> Result<(), FileError>,
) -> Result<(), FileError> {
    let mut heads = iters
        .iter_mut()
        .map(|it| it.next_entry())
        .collect::<Result<Vec<_>, _>>()?;
    while let Some(key) = heads.iter().flatten().map(|(k, _)| k).min().cloned() {
        let holders: Vec<usize> = (0..heads.len())
            .filter(|&i| heads[i].as_ref().is_some_and(|(k, _)| *k == key))
            .collect();
        let newest = *holders.last().expect("the least key has a holder");
        let (_, value) = heads[newest].as_ref().expect("a holder has an entry");
        emit(newest, &key, value)?;
        for i in holders {
            heads[i] = iters[i].next_entry()?;
        }
    }
    Ok(())
}

/// A run's complaints in id order.
pub(crate) struct Complaints<'a> {
    run: &'a Run,
    iter: Iter<'a>,
}

impl Complaints<'_> {
    /// The next complaint's id and entry.
    pub(crate) fn next_summary(&mut self) -> Result<Option<(ComplaintId, Summary)>, FileError> {
        let Some((key, value)) = self.iter.next_entry()? else {
            return Ok(None);
        };
        let key = String::from_utf8_lossy(&key).into_owned();
        let summary = Summary::decode(&value).map_err(|why| self.run.corrupt(&key, why))?;
        let id = ComplaintId::new(key.clone()).map_err(|e| self.run.corrupt(&key, e))?;
        Ok(Some((id, summary)))
    }
}
