//! Snapshots: what the store holds in memory at one moment (the complaints that stay there,
//! with their histories, the outbox, the dead letters) and which runs hold the rest, so that
//! opening reads one small file instead of replaying the log.

use crate::error::FileError;
use crate::frame::{self, HEADER_LEN, SNAPSHOT};
use crate::fs::Dir;
use crate::record;
use crate::seal::{Keys, Sealing};
use plaint_core::{Complaint, OutboxEntry, Recorded};
use plaint_memory::{Frozen, MemoryStore, Whole};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Items per frame: small enough to decode frames on several threads, large enough that the
/// frame overhead does not matter.
const ITEMS_PER_FRAME: usize = 512;

/// A snapshot item as written (borrowing from the store).
#[derive(Serialize)]
enum ItemRef<'a> {
    Complaint {
        state: &'a Complaint,
        history: &'a [Recorded],
    },
    Outbox(&'a OutboxEntry),
    Dead(&'a OutboxEntry),
    End(Counts),
}

/// A snapshot item as read.
#[derive(Deserialize)]
enum Owned {
    Complaint {
        state: Arc<Complaint>,
        history: Vec<Recorded>,
    },
    Outbox(OutboxEntry),
    Dead(OutboxEntry),
    End(Counts),
}

/// The last frame: how many items of each kind came before it, and the live runs.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Counts {
    complaints: u64,
    outbox: u64,
    dead: u64,
    /// The runs holding the complaints that are not in the snapshot, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    runs: Vec<u64>,
    /// The feed position of the last event before the snapshot's segment: the log's events
    /// continue the numbering after it. Absent in snapshots written before the feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    feed: Option<u64>,
}

/// What a snapshot says besides the complaints and the outbox it restores.
#[derive(Debug)]
pub(crate) struct Read {
    /// The live runs, oldest first.
    pub runs: Vec<u64>,
    /// The feed position of the last event before the snapshot's segment, when the snapshot
    /// records it (see [`Counts::feed`]).
    pub feed: Option<u64>,
}

/// Writes `complaints`, the outbox and dead letters of `frozen`, and the list of live `runs`,
/// as snapshot `name` (through a temporary file renamed into place, so a snapshot under its
/// final name is always whole).
///
/// Personal fields are sealed with `keys` ([`crate::seal`]); keys made for them are saved
/// before the snapshot gets its name.
pub(crate) fn write(
    dir: &Dir,
    keys: &Keys,
    name: &str,
    complaints: &[Whole],
    frozen: &Frozen,
    runs: &[u64],
) -> Result<(), FileError> {
    let path = dir.file(&format!("{name}.tmp"));
    dir.publish(name, &frame::header(&SNAPSHOT), |file| {
        let mut w = Items {
            out: frame::Writer::new(file, &path, HEADER_LEN as u64),
            batch: record::Batch::default(),
            in_batch: 0,
        };
        for (state, history) in complaints {
            let (mut state, mut history) = ((**state).clone(), history.to_vec());
            let (id, at) = (state.id.clone(), state.version);
            keys.seal(&id, at, &mut state)?;
            keys.seal(&id, at, &mut history)?;
            w.push(&ItemRef::Complaint {
                state: &state,
                history: &history,
            })?;
        }
        for e in &frozen.outbox {
            w.push(&ItemRef::Outbox(&sealed_entry(keys, e)?))?;
        }
        for e in &frozen.dead {
            w.push(&ItemRef::Dead(&sealed_entry(keys, e)?))?;
        }
        w.push(&ItemRef::End(Counts {
            complaints: complaints.len() as u64,
            outbox: frozen.outbox.len() as u64,
            dead: frozen.dead.len() as u64,
            runs: runs.to_vec(),
            feed: Some(frozen.feed_end.get()),
        }))?;
        w.finish()?;
        keys.save(dir)
    })
}

/// A copy of outbox entry `e` with its notification's personal fields sealed.
fn sealed_entry(keys: &Keys, e: &OutboxEntry) -> Result<OutboxEntry, FileError> {
    let mut e = e.clone();
    let (id, at) = (e.notification.complaint.clone(), e.notification.id.version);
    keys.seal_personal(&id, at, &mut e.notification)?;
    Ok(e)
}

/// Opens the sealed fields of a snapshot's item, from a payload holding `sealing`.
fn open_item(keys: &Keys, sealing: Sealing, item: &mut Owned) -> Result<(), String> {
    match item {
        Owned::Complaint { state, history } => {
            let id = state.id.clone();
            keys.open(&id, 0, sealing, Arc::make_mut(state))?;
            keys.open(&id, 0, sealing, history)
        }
        Owned::Outbox(e) | Owned::Dead(e) => {
            let id = e.notification.complaint.clone();
            keys.open_personal(&id, sealing, &mut e.notification)
        }
        Owned::End(_) => Ok(()),
    }
}

/// Packs items into frames of [`ITEMS_PER_FRAME`].
struct Items<'f> {
    out: frame::Writer<'f>,
    batch: record::Batch,
    in_batch: usize,
}

impl Items<'_> {
    fn push(&mut self, item: &ItemRef<'_>) -> Result<(), FileError> {
        self.batch
            .push(&serde_json::to_vec(item).expect("snapshot items serialise"));
        self.in_batch += 1;
        if self.in_batch == ITEMS_PER_FRAME {
            self.out.frame(&self.batch.take())?;
            self.in_batch = 0;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(), FileError> {
        if !self.batch.is_empty() {
            self.out.frame(&self.batch.take())?;
        }
        self.out.flush()
    }
}

/// Reads snapshot `name` into the empty `memory`; returns the live runs it lists and where the
/// feed stood. Any damage is corruption: a snapshot gets its final name only once it is whole
/// and durable.
pub(crate) fn read(
    dir: &Dir,
    keys: &Keys,
    memory: &MemoryStore,
    name: &str,
) -> Result<Read, FileError> {
    let path = dir.file(name);
    let data = dir.fs.read(&path).map_err(FileError::io("read", &path))?;
    frame::check_header(&data, &SNAPSHOT, &path)?;
    let scan = frame::scan(&data);
    if let Some((offset, why)) = scan.bad {
        return Err(FileError::corrupt(&path, offset as u64, why));
    }
    let frames = &scan.frames;
    let (data_ref, path_ref) = (&data[..], &path);
    // Decode the frames on every core; restore them in order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = frames.len().div_ceil(threads).max(1);
    let decoded: Vec<Result<Vec<Owned>, FileError>> = std::thread::scope(|s| {
        let handles: Vec<_> = frames
            .chunks(per)
            .map(|part| {
                s.spawn(move || {
                    let mut items = Vec::new();
                    for r in part {
                        let payload = &data_ref[r.clone()];
                        let corrupt = |why| {
                            FileError::corrupt(
                                path_ref,
                                (r.start - frame::FRAME_OVERHEAD) as u64,
                                why,
                            )
                        };
                        let mut got = record::decode::<Vec<Owned>>(payload).map_err(corrupt)?;
                        let sealing = Sealing::of(payload);
                        for item in &mut got {
                            open_item(keys, sealing, item).map_err(corrupt)?;
                        }
                        items.extend(got);
                    }
                    Ok(items)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("decoding does not panic"))
            .collect()
    });
    let mut seen = Counts::default();
    let mut runs = Vec::new();
    let mut feed = None;
    let mut end = None;
    for items in decoded {
        for item in items? {
            if end.is_some() {
                return Err(FileError::corrupt(
                    &path,
                    data.len() as u64,
                    "items after the end",
                ));
            }
            match item {
                Owned::Complaint { state, history } => {
                    seen.complaints += 1;
                    memory
                        .restore(state, history)
                        .map_err(|e| FileError::corrupt(&path, 0, e.to_string()))?;
                }
                Owned::Outbox(e) => {
                    seen.outbox += 1;
                    memory.restore_outbox(e, false);
                }
                Owned::Dead(e) => {
                    seen.dead += 1;
                    memory.restore_outbox(e, true);
                }
                Owned::End(mut counts) => {
                    runs = std::mem::take(&mut counts.runs);
                    feed = counts.feed.take();
                    end = Some(counts);
                }
            }
        }
    }
    match end {
        Some(counts) if counts == seen => Ok(Read { runs, feed }),
        Some(_) => Err(FileError::corrupt(
            &path,
            data.len() as u64,
            "item counts do not match the end",
        )),
        None => Err(FileError::corrupt(
            &path,
            data.len() as u64,
            "the snapshot has no end",
        )),
    }
}

/// The live runs a snapshot's data lists (from its last item), checking only its header and
/// its frames' checksums: what a backup needs to know which runs to copy.
pub(crate) fn runs_listed(data: &[u8], path: &std::path::Path) -> Result<Vec<u64>, FileError> {
    frame::check_header(data, &SNAPSHOT, path)?;
    let scan = frame::scan(data);
    if let Some((offset, why)) = scan.bad {
        return Err(FileError::corrupt(path, offset as u64, why));
    }
    let no_end = || FileError::corrupt(path, data.len() as u64, "the snapshot has no end");
    let last = scan.frames.last().ok_or_else(no_end)?;
    let items = record::decode::<Vec<Owned>>(&data[last.clone()]).map_err(|why| {
        FileError::corrupt(path, (last.start - frame::FRAME_OVERHEAD) as u64, why)
    })?;
    match items.into_iter().last() {
        Some(Owned::End(counts)) => Ok(counts.runs),
        _ => Err(no_end()),
    }
}
