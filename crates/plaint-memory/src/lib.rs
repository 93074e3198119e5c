//! plaint-memory: `MemoryStore`, the in-memory reference implementation of plaint's `Store`.
//!
//! Thread-safe and fast; holds everything in memory and loses it when dropped. Use it in
//! tests, simulations and embeddings that keep complaints elsewhere.

#![forbid(unsafe_code)]

use foldhash::HashMap;
use plaint_core::{
    Append, Changes, CommandId, CommandRecord, Complaint, ComplaintId, FeedEntry, FeedPage,
    ListQuery, NotificationId, OutboxEntry, OutboxStats, Page, Position, Recorded, Settlement,
    Store, StoreError, Timestamp,
};
use std::collections::{BTreeMap, BTreeSet, hash_map};
use std::hash::{BuildHasher, Hash};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many ways complaints and command ids are split: commands on different complaints
/// mostly take different locks.
const SHARDS: usize = 16;

/// An in-memory [`Store`]. Complaints live in 16 shards by id, and command ids in as
/// many by command id, each behind its own lock, so that threads working on different
/// complaints seldom wait for each other; the indexes (ids in order for listing, the
/// due-timer index, the outbox) sit behind one more lock, taken by an append only when it
/// changes them (a new complaint, a new due instant, notifications).
///
/// Locks are always taken in one order — a complaint shard (several in shard order), then a
/// command shard (several in shard order), then the feed, then the indexes — and an append
/// holds its complaint's shard until the indexes follow it, so a reader that finds a
/// complaint in an index and then loads it sees the state the index describes.
///
/// The feed ([`Store::feed`]) is the one total order of appends: every append, with its
/// complaint's shard held and its events in the history, takes the feed's own lock just long
/// enough to push `(complaint, version)` for each event, so positions are given in the order
/// appends commit and a reader that finds position `n` in the feed finds the event in the
/// history. That lock is the only one every append takes; it is held for a few pushes (the
/// feed grows in chunks, so never for a copy of it), so appends to different complaints still run in parallel
/// but meet there for that long. Events put back by [`MemoryStore::restore`] are not in the
/// feed: they were recorded before.
///
/// It raises [`Store::changes`] after every change to the due-timer index or the outbox
/// (an append that moves a next due instant or adds notifications, a retry, a requeue, a
/// restore), with its locks let go.
///
/// ```
/// use plaint_core::blocking::Wait as _;
/// use plaint_core::{ListQuery, Store};
/// let store = plaint_memory::MemoryStore::new();
/// assert!(store.list(&ListQuery::new()).wait().unwrap().items.is_empty());
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    shards: Box<[RwLock<Shard>]>,
    commands: Box<[Mutex<HashMap<CommandId, CommandRecord>>]>,
    feed: RwLock<Feed>,
    index: RwLock<Index>,
    hasher: foldhash::fast::FixedState,
    changes: Changes,
}

/// Entries per chunk of the feed: growing it copies at most the first chunk, as it fills, and
/// never what the feed holds beyond (one vector would, under the lock every append takes).
const FEED_CHUNK: usize = 4096;

/// The feed: the complaint and version of the event at each position after `base`, in
/// chunks of [`FEED_CHUNK`].
#[derive(Debug, Default)]
struct Feed {
    /// The position before the first one held here.
    base: u64,
    len: usize,
    chunks: Vec<Vec<(ComplaintId, u64)>>,
}

impl Feed {
    fn push(&mut self, entry: (ComplaintId, u64)) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < FEED_CHUNK => chunk.push(entry),
            _ => {
                // The first chunk grows as it fills (a small store stays small); the next ones
                // are made whole.
                let mut chunk = if self.chunks.is_empty() {
                    Vec::with_capacity(64)
                } else {
                    Vec::with_capacity(FEED_CHUNK)
                };
                chunk.push(entry);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    /// Entries `from..to` (indexes after `base`, within `len`).
    fn slice(&self, from: usize, to: usize) -> Vec<(ComplaintId, u64)> {
        (from..to)
            .filter_map(|i| {
                self.chunks
                    .get(i / FEED_CHUNK)?
                    .get(i % FEED_CHUNK)
                    .cloned()
            })
            .collect()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            commands: (0..SHARDS).map(|_| Mutex::default()).collect(),
            feed: RwLock::default(),
            index: RwLock::default(),
            hasher: foldhash::fast::FixedState::default(),
            changes: Changes::new(),
        }
    }
}

/// One shard of complaints.
#[derive(Debug, Default)]
struct Shard {
    complaints: HashMap<ComplaintId, Entry>,
}

/// What spans the shards.
#[derive(Debug, Default)]
struct Index {
    /// Every complaint id, ordered, so that `list` pages in id order.
    ids: BTreeSet<ComplaintId>,
    /// The due-timer index: `(next_due, id)` of every complaint with something due.
    due: BTreeSet<(Timestamp, ComplaintId)>,
    /// The outbox, and its index by next attempt.
    outbox: BTreeMap<NotificationId, OutboxEntry>,
    outbox_due: BTreeSet<(Timestamp, NotificationId)>,
    /// Dead letters, oldest first.
    dead: Vec<OutboxEntry>,
}

impl Index {
    fn put_outbox(&mut self, entry: OutboxEntry) {
        let id = entry.notification.id.clone();
        if let Some(old) = self.outbox.insert(id.clone(), entry.clone()) {
            self.outbox_due.remove(&(old.next_attempt, id.clone()));
        }
        self.outbox_due.insert((entry.next_attempt, id));
    }

    fn move_due(&mut self, id: &ComplaintId, old: Option<Timestamp>, new: Option<Timestamp>) {
        if old != new {
            if let Some(t) = old {
                self.due.remove(&(t, id.clone()));
            }
            if let Some(t) = new {
                self.due.insert((t, id.clone()));
            }
        }
    }
}

/// Everything a [`MemoryStore`] held at one moment ([`MemoryStore::freeze`]), shared with it
/// rather than copied: a later change to a complaint copies that complaint, not this.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Frozen {
    /// Each complaint's state and history, in id order.
    pub complaints: Vec<Whole>,
    /// The outbox, in id order.
    pub outbox: Vec<OutboxEntry>,
    /// The dead letters, oldest first.
    pub dead: Vec<OutboxEntry>,
    /// The feed's newest position: the last event these complaints hold.
    pub feed_end: Position,
}

/// A complaint's state and its history, shared.
pub type Whole = (Arc<Complaint>, Arc<Vec<Recorded>>);

#[derive(Debug)]
struct Entry {
    state: Arc<Complaint>,
    /// Shared with [`Frozen`] views; copied on write while one holds it.
    history: Arc<Vec<Recorded>>,
}

// A panic while holding a lock cannot leave what it guards half-written (every mutation is
// checked before it starts), so a poisoned lock is safe to keep using.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

fn lock<T>(lock: &Mutex<T>) -> MutexGuard<'_, T> {
    lock.lock().unwrap_or_else(|p| p.into_inner())
}

impl MemoryStore {
    /// At most `n` complaint ids after `after`, in id order, with the index let go on return
    /// (the lock order puts shards first, so callers read complaints after this).
    fn ids_after(&self, after: Option<&ComplaintId>, n: usize) -> Vec<ComplaintId> {
        let index = read(&self.index);
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        index
            .ids
            .range::<ComplaintId, _>((start, Bound::Unbounded))
            .take(n)
            .cloned()
            .collect()
    }

    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many complaints it holds.
    pub fn len(&self) -> usize {
        read(&self.index).ids.len()
    }

    /// Whether it holds no complaint.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn slot(&self, key: &impl Hash) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    fn shard(&self, id: &ComplaintId) -> &RwLock<Shard> {
        &self.shards[self.slot(id)]
    }

    fn commands_of(&self, id: &CommandId) -> &Mutex<HashMap<CommandId, CommandRecord>> {
        &self.commands[self.slot(id)]
    }

    /// Puts a complaint back as it stood, with its history: for stores that keep a
    /// `MemoryStore` as their in-memory index and rebuild it from their own files (snapshots).
    /// The command index and the due-timer index follow from the history and the state.
    ///
    /// # Errors
    /// [`StoreError::Malformed`] when the complaint is already present, the history is not
    /// numbered `1..=state.version` for this complaint, or a command id in it is already
    /// recorded for another complaint; nothing is changed then.
    pub fn restore(&self, state: Arc<Complaint>, history: Vec<Recorded>) -> Result<(), StoreError> {
        let bad = |why: String| {
            Err(StoreError::Malformed(format!(
                "restoring {}: {why}",
                state.id
            )))
        };
        if history.len() as u64 != state.version
            || history
                .iter()
                .enumerate()
                .any(|(i, r)| r.version != i as u64 + 1)
        {
            return bad("history is not numbered 1..=version".into());
        }
        let mut shard = write(self.shard(&state.id));
        if shard.complaints.contains_key(&state.id) {
            return bad("already present".into());
        }
        // A command's record is its last event's version.
        let mut commands: Vec<(CommandId, u64)> = Vec::new();
        for r in &history {
            match commands.last_mut() {
                Some((c, v)) if *c == r.command => *v = r.version,
                _ => commands.push((r.command.clone(), r.version)),
            }
        }
        let mut all: Vec<_> = self.commands.iter().map(lock).collect();
        if let Some((c, _)) = commands
            .iter()
            .find(|(c, _)| all[self.slot(c)].contains_key(c))
        {
            return bad(format!("command {c} is already recorded"));
        }
        for (command, version) in commands {
            let record = CommandRecord {
                complaint: state.id.clone(),
                version,
            };
            all[self.slot(&command)].insert(command, record);
        }
        drop(all);
        let mut index = write(&self.index);
        index.move_due(&state.id, None, state.next_due());
        index.ids.insert(state.id.clone());
        let history = Arc::new(history);
        shard
            .complaints
            .insert(state.id.clone(), Entry { state, history });
        drop((index, shard));
        self.changes.notify();
        Ok(())
    }

    /// Replaces complaint `id`'s history with `history` — the same events, numbered and
    /// recorded alike, with texts a redaction rewrote — and its state with their fold (a
    /// durable store's replay of a redaction, whose earlier copies of the texts it can no
    /// longer read). Returns the new state.
    ///
    /// # Errors
    /// [`StoreError::Malformed`] when the complaint is not here or `history` is not its
    /// events (their number, versions or commands differ).
    pub fn rewrite(
        &self,
        id: &ComplaintId,
        history: Vec<Recorded>,
    ) -> Result<Arc<Complaint>, StoreError> {
        let bad = |why: &str| StoreError::Malformed(format!("rewriting {id}: {why}"));
        let mut shard = write(self.shard(id));
        let entry = shard
            .complaints
            .get_mut(id)
            .ok_or_else(|| bad("it is not here"))?;
        let same = entry.history.len() == history.len()
            && entry.history.iter().zip(&history).all(|(a, b)| {
                a.version == b.version && a.command == b.command && a.event.kind() == b.event.kind()
            });
        if !same {
            return Err(bad("the history given is not its events"));
        }
        let state = Complaint::replay(id.clone(), &history).ok_or_else(|| bad("no history"))?;
        // The same events: the same clocks, stage, tier and department, so no index moves.
        entry.state = Arc::new(state);
        entry.history = Arc::new(history);
        Ok(Arc::clone(&entry.state))
    }

    /// Puts an outbox entry back (`dead`: as a dead letter, after those already there).
    pub fn restore_outbox(&self, entry: OutboxEntry, dead: bool) {
        let mut index = write(&self.index);
        if dead {
            index.dead.push(entry);
        } else {
            index.put_outbox(entry);
        }
        drop(index);
        self.changes.notify();
    }

    /// Keeps only the complaints `keep` accepts: the others leave, with their command ids and
    /// their place in the indexes (for stores that move complaints to their own files and
    /// keep a `MemoryStore` for the rest). The outbox and dead letters stay, and so do the
    /// feed's entries: [`MemoryStore::feed_from`] asks the store for the events it let go.
    pub fn retain(&self, mut keep: impl FnMut(&Complaint) -> bool) {
        let mut shards: Vec<_> = self.shards.iter().map(write).collect();
        let mut commands: Vec<_> = self.commands.iter().map(lock).collect();
        let mut index = write(&self.index);
        for shard in &mut shards {
            shard.complaints.retain(|id, e| {
                let kept = keep(&e.state);
                if !kept {
                    for r in e.history.iter() {
                        commands[self.slot(&r.command)].remove(&r.command);
                    }
                    index.move_due(id, e.state.next_due(), None);
                    index.ids.remove(id);
                }
                kept
            });
        }
    }

    /// Starts the feed's numbering after `base`, for a durable store that rebuilds its
    /// memory from its files: the next append's first event gets position `base + 1`.
    /// Nothing before it is served by [`MemoryStore::feed_from`].
    ///
    /// # Errors
    /// [`StoreError::Malformed`] when the feed already holds events.
    pub fn start_feed_after(&self, base: Position) -> Result<(), StoreError> {
        let mut feed = write(&self.feed);
        if feed.len != 0 {
            return Err(StoreError::Malformed("the feed is already numbered".into()));
        }
        feed.base = base.get();
        Ok(())
    }

    /// The position of the newest event in the feed ([`Position::START`] when there is none).
    pub fn feed_end(&self) -> Position {
        let feed = read(&self.feed);
        Position(feed.base + feed.len as u64)
    }

    /// The feed, as [`Store::feed`], for a store that keeps some complaints elsewhere
    /// ([`MemoryStore::retain`]): `elsewhere` gives the history of a complaint no longer held
    /// here. Positions at or before the base ([`MemoryStore::start_feed_after`]) are not
    /// held: reading them is [`StoreError::Malformed`] unless the page would be empty anyway.
    ///
    /// # Errors
    /// What `elsewhere` fails with, [`StoreError::Malformed`] as above or when a feed entry's
    /// event is found nowhere.
    pub fn feed_from(
        &self,
        after: Position,
        limit: usize,
        mut elsewhere: impl FnMut(&ComplaintId) -> Result<Vec<Recorded>, StoreError>,
    ) -> Result<FeedPage, StoreError> {
        let limit = limit.min(FeedPage::MAX_LIMIT);
        // The slice is copied with the feed's lock held, then let go: the lock order puts
        // shards first.
        let (base, slice): (u64, Vec<(ComplaintId, u64)>) = {
            let feed = read(&self.feed);
            let end = feed.base + feed.len as u64;
            if after.get() >= end || limit == 0 {
                return Ok(FeedPage {
                    entries: Vec::new(),
                    next: after,
                });
            }
            if after.get() < feed.base {
                return Err(StoreError::Malformed(format!(
                    "feed positions up to {} are not held by this store",
                    feed.base
                )));
            }
            let from = (after.get() - feed.base) as usize;
            let to = from.saturating_add(limit).min(feed.len);
            (feed.base + from as u64, feed.slice(from, to))
        };
        let mut entries = Vec::with_capacity(slice.len());
        // Consecutive events of one complaint are read under one look.
        let mut cached: Option<(ComplaintId, Arc<Vec<Recorded>>)> = None;
        for (i, (id, version)) in slice.into_iter().enumerate() {
            let fresh = match &cached {
                Some((c, h)) => *c != id || (h.len() as u64) < version,
                None => true,
            };
            if fresh {
                let held = read(self.shard(&id))
                    .complaints
                    .get(&id)
                    .map(|e| Arc::clone(&e.history));
                let history = match held {
                    Some(h) if h.len() as u64 >= version => h,
                    _ => Arc::new(elsewhere(&id)?),
                };
                cached = Some((id.clone(), history));
            }
            let recorded = cached
                .as_ref()
                .and_then(|(_, h)| h.get((version as usize).checked_sub(1)?))
                .cloned()
                .ok_or_else(|| {
                    StoreError::Malformed(format!("feed event {id}@{version} is missing"))
                })?;
            entries.push(FeedEntry {
                position: Position(base + i as u64 + 1),
                complaint: id,
                recorded,
            });
        }
        let next = entries.last().map_or(after, |e| e.position);
        Ok(FeedPage { entries, next })
    }

    /// Everything the store holds now, for a snapshot: each complaint (in id order) with its
    /// history, the outbox, the dead letters. Costs a reference count per complaint, not a
    /// copy, and holds the read locks only that long; later writes leave the view as it was.
    pub fn freeze(&self) -> Frozen {
        let shards: Vec<_> = self.shards.iter().map(read).collect();
        let feed_end = self.feed_end();
        let index = read(&self.index);
        Frozen {
            feed_end,
            complaints: index
                .ids
                .iter()
                .filter_map(|id| shards[self.slot(id)].complaints.get(id))
                .map(|e| (Arc::clone(&e.state), Arc::clone(&e.history)))
                .collect(),
            outbox: index.outbox.values().cloned().collect(),
            dead: index.dead.clone(),
        }
    }
}

impl MemoryStore {
    /// Complaint `id`'s state, from its shard.
    fn state(&self, id: &ComplaintId) -> Option<Arc<Complaint>> {
        let shard = read(self.shard(id));
        shard.complaints.get(id).map(|e| Arc::clone(&e.state))
    }
}

impl Store for MemoryStore {
    async fn append(&self, append: Append) -> Result<Arc<Complaint>, StoreError> {
        append.check()?;
        let outbox: Vec<OutboxEntry> = append.outbox_entries().collect();
        let append_len = append.events.len() as u64;
        let mut shard = write(self.shard(&append.complaint));
        let entry = shard.complaints.get_mut(&append.complaint);
        let actual = entry.as_ref().map_or(0, |e| e.state.version);
        if actual != append.expected_version {
            return Err(StoreError::Conflict {
                expected: append.expected_version,
                actual,
            });
        }
        let mut commands = lock(self.commands_of(&append.command));
        let hash_map::Entry::Vacant(record) = commands.entry(append.command.clone()) else {
            return Err(StoreError::DuplicateCommand(append.command));
        };
        // A redaction rewrites the history and folds it again: worked out on a copy, as it
        // can fail (a text the history does not have).
        let redacted = match &entry {
            Some(entry) if append.redacts() => {
                let mut history = entry.history.to_vec();
                history.extend(append.events.iter().cloned());
                let state = append.redact(&mut history)?;
                state.map(|s| (Arc::new(s), Arc::new(history)))
            }
            _ => None,
        };
        // Nothing has changed yet; from here on nothing can fail.
        let old_due = entry.as_ref().and_then(|e| e.state.next_due());
        let erases = append.erases();
        let (state, new) = match entry {
            Some(entry) => {
                match redacted {
                    Some((state, history)) => (entry.state, entry.history) = (state, history),
                    None => {
                        append.apply_to(&mut entry.state);
                        Arc::make_mut(&mut entry.history).extend(append.events);
                    }
                }
                if erases {
                    plaint_core::PersonalData::erase_personal(Arc::make_mut(&mut entry.history));
                }
                (Arc::clone(&entry.state), false)
            }
            None => {
                let state = append.open()?;
                shard.complaints.insert(
                    append.complaint.clone(),
                    Entry {
                        state: Arc::clone(&state),
                        history: Arc::new(append.events),
                    },
                );
                (state, true)
            }
        };
        record.insert(CommandRecord {
            complaint: append.complaint.clone(),
            version: state.version,
        });
        drop(commands);
        {
            let mut feed = write(&self.feed);
            let first = (state.version + 1).saturating_sub(append_len);
            for v in first..=state.version {
                feed.push((append.complaint.clone(), v));
            }
        }
        let new_due = state.next_due();
        let changes = old_due != new_due || !outbox.is_empty();
        if new || changes || erases {
            let mut index = write(&self.index);
            if new {
                index.ids.insert(append.complaint.clone());
            }
            if erases {
                // Notifications not yet delivered say nothing personal any more either.
                let Index { outbox, dead, .. } = &mut *index;
                outbox
                    .values_mut()
                    .chain(dead.iter_mut())
                    .filter(|e| e.notification.complaint == append.complaint)
                    .for_each(|e| {
                        plaint_core::PersonalData::erase_personal(&mut e.notification);
                    });
            }
            index.move_due(&append.complaint, old_due, new_due);
            for entry in outbox {
                index.put_outbox(entry);
            }
        }
        drop(shard);
        if changes {
            self.changes.notify();
        }
        Ok(state)
    }

    async fn load(&self, id: &ComplaintId) -> Result<Option<Arc<Complaint>>, StoreError> {
        Ok(self.state(id))
    }

    async fn history(&self, id: &ComplaintId) -> Result<Vec<Recorded>, StoreError> {
        let shard = read(self.shard(id));
        Ok(shard
            .complaints
            .get(id)
            .map(|e| e.history.to_vec())
            .unwrap_or_default())
    }

    async fn command(&self, id: &CommandId) -> Result<Option<CommandRecord>, StoreError> {
        Ok(lock(self.commands_of(id)).get(id).cloned())
    }

    async fn due(
        &self,
        upto: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, ComplaintId)>, StoreError> {
        Ok(read(&self.index)
            .due
            .iter()
            .take_while(|(t, _)| *t <= upto)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(read(&self.index).due.first().map(|(t, _)| *t))
    }

    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut guard = write(&self.index);
        let index = &mut *guard;
        let due: Vec<(Timestamp, NotificationId)> = index
            .outbox_due
            .iter()
            .take_while(|(t, _)| *t <= now)
            .take(limit)
            .cloned()
            .collect();
        let mut claimed = Vec::with_capacity(due.len());
        for key in due {
            index.outbox_due.remove(&key);
            if let Some(entry) = index.outbox.get_mut(&key.1) {
                // Saturating: a caller's extreme `now` or lease must not panic the store.
                entry.next_attempt = now
                    .checked_add_signed(lease)
                    .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
                index.outbox_due.insert((entry.next_attempt, key.1.clone()));
                claimed.push(entry.clone());
            }
        }
        Ok(claimed)
    }

    async fn settle(&self, id: &NotificationId, outcome: Settlement) -> Result<(), StoreError> {
        let mut index = write(&self.index);
        let Some(mut entry) = index.outbox.remove(id) else {
            return Ok(());
        };
        index.outbox_due.remove(&(entry.next_attempt, id.clone()));
        match outcome {
            Settlement::Retry {
                next_attempt,
                error,
            } => {
                entry.attempts += 1;
                entry.next_attempt = next_attempt;
                entry.last_error = Some(error);
                index.put_outbox(entry);
                drop(index);
                self.changes.notify();
            }
            Settlement::Dead { error } => {
                entry.attempts += 1;
                entry.last_error = Some(error);
                index.dead.push(entry);
            }
            // Delivered, or anything a newer store version adds: it leaves the outbox.
            _ => {}
        }
        Ok(())
    }

    async fn dead_letters(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        Ok(read(&self.index).dead.clone())
    }

    async fn requeue(&self, id: &NotificationId, at: Timestamp) -> Result<bool, StoreError> {
        let mut index = write(&self.index);
        let Some(i) = index.dead.iter().position(|e| &e.notification.id == id) else {
            return Ok(false);
        };
        let mut entry = index.dead.remove(i);
        entry.attempts = 0;
        entry.next_attempt = at;
        index.put_outbox(entry);
        drop(index);
        self.changes.notify();
        Ok(true)
    }

    async fn feed(&self, after: Position, limit: usize) -> Result<FeedPage, StoreError> {
        self.feed_from(after, limit, |_| Ok(Vec::new()))
    }

    fn changes(&self) -> Option<&Changes> {
        Some(&self.changes)
    }

    async fn outbox_stats(&self) -> Result<Option<OutboxStats>, StoreError> {
        let index = read(&self.index);
        Ok(Some(OutboxStats::new(
            index.outbox.len() as u64,
            index.dead.len() as u64,
            index.outbox_due.first().map(|(t, _)| *t),
        )))
    }

    /// Counts by walking the ids a batch at a time and testing each complaint in place:
    /// nothing is gathered.
    async fn count(&self, query: &ListQuery) -> Result<u64, StoreError> {
        let mut n = 0u64;
        let mut after: Option<ComplaintId> = None;
        loop {
            let batch = self.ids_after(after.as_ref(), ListQuery::MAX_LIMIT);
            let Some(last) = batch.last().cloned() else {
                return Ok(n);
            };
            for id in batch {
                if self.state(&id).is_some_and(|c| query.matches(&c)) {
                    n += 1;
                }
            }
            after = Some(last);
        }
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        // Ids a batch at a time from the index, each complaint from its shard with the index
        // let go (the lock order puts shards first).
        let mut items: Vec<Arc<Complaint>> = Vec::with_capacity(query.limit);
        let mut after = query.after.clone();
        loop {
            let batch = self.ids_after(after.as_ref(), query.limit + 1);
            let Some(last) = batch.last().cloned() else {
                return Ok(Page { items, next: None });
            };
            for id in batch {
                let Some(c) = self.state(&id) else { continue };
                if !query.matches(&c) {
                    continue;
                }
                if items.len() == query.limit {
                    let next = items.last().map(|c| c.id.clone());
                    return Ok(Page { items, next });
                }
                items.push(c);
            }
            after = Some(last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plaint_core::blocking::Wait as _;
    use plaint_core::testing;

    #[test]
    fn claiming_at_the_end_of_time_does_not_panic() {
        let engine = plaint_core::blocking::Engine::builder(MemoryStore::new(), testing::policy())
            .clock(plaint_core::ManualClock::new(testing::t(1)))
            .notifier(plaint_core::RecordingNotifier::new())
            .build();
        let receive = plaint_core::Command::Receive(Arc::new(testing::intake(testing::t(0))));
        let triage = plaint_core::Command::Triage {
            category: plaint_core::CategoryPath::parse("logistics/delay").unwrap(),
            tier: Some(plaint_core::TierKey::new("general").unwrap()),
            validity: plaint_core::Validity::Valid,
        };
        let route = plaint_core::Command::Route {
            responsibility: Some(plaint_core::Responsibility {
                primary: "hub".try_into().unwrap(),
                collaborating: vec![],
                party: plaint_core::Party::Internal {
                    unit: "hub-3".into(),
                },
            }),
        };
        for (n, command) in [receive, triage, route].into_iter().enumerate() {
            let id = ComplaintId::new("C-1").unwrap();
            let cmd = CommandId::new(format!("c{n}")).unwrap();
            engine
                .execute(cmd, &id, command, &testing::agent())
                .unwrap();
        }
        let end = chrono::DateTime::<chrono::Utc>::MAX_UTC;
        let store = engine.store();
        let claimed = store
            .claim_outbox(end, chrono::Duration::MAX, 10)
            .wait()
            .unwrap();
        assert!(!claimed.is_empty());
        assert!(claimed.iter().all(|e| e.next_attempt == end));
    }

    #[test]
    fn the_feed_reads_across_its_chunks() {
        let mut feed = Feed::default();
        let id = ComplaintId::new("C-1").unwrap();
        let n = 2 * FEED_CHUNK + 10;
        for v in 1..=n as u64 {
            feed.push((id.clone(), v));
        }
        assert_eq!(feed.len, n);
        let across: Vec<u64> = feed
            .slice(FEED_CHUNK - 2, 2 * FEED_CHUNK + 3)
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        let want: Vec<u64> = (FEED_CHUNK as u64 - 1..=2 * FEED_CHUNK as u64 + 3).collect();
        assert_eq!(across, want);
    }

    #[test]
    fn behind_dyn_it_keeps_its_change_signal_and_outbox_stats() {
        let store: Arc<dyn plaint_core::DynStore> = Arc::new(MemoryStore::new());
        let seen = store
            .changes()
            .expect("a MemoryStore signals changes")
            .seen();
        let engine = plaint_core::blocking::Engine::builder(Arc::clone(&store), testing::policy())
            .clock(plaint_core::ManualClock::new(testing::t(1)))
            .notifier(plaint_core::RecordingNotifier::new())
            .build();
        let id = ComplaintId::new("C-1").unwrap();
        let receive = plaint_core::Command::Receive(Arc::new(testing::intake(testing::t(0))));
        engine
            .execute(
                CommandId::new("c1").unwrap(),
                &id,
                receive,
                &testing::agent(),
            )
            .unwrap();
        engine
            .execute(
                CommandId::new("c2").unwrap(),
                &id,
                plaint_core::Command::Acknowledge,
                &testing::agent(),
            )
            .unwrap();
        let changes = store.changes().expect("still there");
        assert!(changes.seen() > seen, "the outbox entries raised it");
        let stats = store.outbox_stats().wait().unwrap().expect("stats");
        assert!(stats.pending > 0);
        assert_eq!(stats.next_attempt, Some(testing::t(1)));
    }

    #[test]
    fn conformance() {
        plaint_core::conformance::run_all(MemoryStore::new);
    }

    #[test]
    fn a_frozen_view_stays_as_it_was() {
        let store = MemoryStore::new();
        let engine = plaint_core::blocking::Engine::builder(store, testing::policy()).build();
        let id = ComplaintId::new("C-1").unwrap();
        let receive = plaint_core::Command::Receive(Arc::new(testing::intake(testing::t(0))));
        let cmd = |n: &str| CommandId::new(n).unwrap();
        engine
            .execute(cmd("a"), &id, receive, &testing::agent())
            .unwrap();
        let frozen = engine.store().freeze();
        let triage = plaint_core::Command::Triage {
            category: plaint_core::CategoryPath::parse("logistics/loss").unwrap(),
            tier: Some(plaint_core::TierKey::new("general").unwrap()),
            validity: plaint_core::Validity::Valid,
        };
        engine
            .execute(cmd("b"), &id, triage, &testing::agent())
            .unwrap();
        let [(state, history)] = &frozen.complaints[..] else {
            panic!("one complaint")
        };
        assert_eq!((state.version, history.len()), (1, 1));
        let now = engine.store().load(&id).wait().unwrap().unwrap();
        assert_eq!(now.version, 2);
        assert_eq!(engine.store().history(&id).wait().unwrap().len(), 2);
        // And a frozen view does not keep a complaint from being let go.
        engine.store().retain(|_| false);
        assert!(engine.store().is_empty());
        assert_eq!(frozen.complaints.len(), 1);
    }
}
