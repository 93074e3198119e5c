//! plaint-memory: `MemoryStore`, the in-memory reference implementation of plaint's `Store`.
//!
//! Thread-safe and fast; holds everything in memory and loses it when dropped. Use it in
//! tests, simulations and embeddings that keep complaints elsewhere.

#![forbid(unsafe_code)]

use foldhash::HashMap;
use plaint_core::{
    Append, CommandId, CommandRecord, Complaint, ComplaintId, ListQuery, NotificationId,
    OutboxEntry, Page, Recorded, Settlement, Store, StoreError, Timestamp,
};
use std::collections::{BTreeMap, BTreeSet, hash_map};
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// An in-memory [`Store`]: one lock around a hash map of complaints, the set of their ids in
/// order (for listing), and a hash map of command ids.
///
/// ```
/// use plaint_core::{ListQuery, Store};
/// let store = plaint_memory::MemoryStore::new();
/// assert!(store.list(&ListQuery::new()).unwrap().items.is_empty());
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    complaints: HashMap<ComplaintId, Entry>,
    /// Every key of `complaints`, ordered, so that `list` pages in id order.
    ids: BTreeSet<ComplaintId>,
    /// The due-timer index: `(next_due, id)` of every complaint with something due.
    due: BTreeSet<(Timestamp, ComplaintId)>,
    /// The outbox, and its index by next attempt.
    outbox: BTreeMap<NotificationId, OutboxEntry>,
    outbox_due: BTreeSet<(Timestamp, NotificationId)>,
    /// Dead letters, oldest first.
    dead: Vec<OutboxEntry>,
    commands: HashMap<CommandId, CommandRecord>,
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
}

/// A complaint's state and its history, shared.
pub type Whole = (Arc<Complaint>, Arc<Vec<Recorded>>);

#[derive(Debug)]
struct Entry {
    state: Arc<Complaint>,
    /// Shared with [`Frozen`] views; copied on write while one holds it.
    history: Arc<Vec<Recorded>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many complaints it holds.
    pub fn len(&self) -> usize {
        self.read().complaints.len()
    }

    /// Whether it holds no complaint.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        let mut guard = self.write();
        let inner = &mut *guard;
        if inner.complaints.contains_key(&state.id) {
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
        if let Some((c, _)) = commands
            .iter()
            .find(|(c, _)| inner.commands.contains_key(c))
        {
            return bad(format!("command {c} is already recorded"));
        }
        for (command, version) in commands {
            let record = CommandRecord {
                complaint: state.id.clone(),
                version,
            };
            inner.commands.insert(command, record);
        }
        if let Some(t) = state.next_due() {
            inner.due.insert((t, state.id.clone()));
        }
        inner.ids.insert(state.id.clone());
        let history = Arc::new(history);
        inner
            .complaints
            .insert(state.id.clone(), Entry { state, history });
        Ok(())
    }

    /// Puts an outbox entry back (`dead`: as a dead letter, after those already there).
    pub fn restore_outbox(&self, entry: OutboxEntry, dead: bool) {
        let mut inner = self.write();
        if dead {
            inner.dead.push(entry);
        } else {
            let id = entry.notification.id.clone();
            if let Some(old) = inner.outbox.insert(id.clone(), entry.clone()) {
                inner.outbox_due.remove(&(old.next_attempt, id.clone()));
            }
            inner.outbox_due.insert((entry.next_attempt, id));
        }
    }

    /// Keeps only the complaints `keep` accepts: the others leave, with their command ids and
    /// their place in the indexes (for stores that move complaints to their own files and
    /// keep a `MemoryStore` for the rest). The outbox and dead letters stay.
    pub fn retain(&self, mut keep: impl FnMut(&Complaint) -> bool) {
        let mut guard = self.write();
        let inner = &mut *guard;
        let (mut gone, mut commands) = (Vec::new(), Vec::new());
        inner.complaints.retain(|id, e| {
            let kept = keep(&e.state);
            if !kept {
                gone.push(id.clone());
                commands.extend(e.history.iter().map(|r| r.command.clone()));
                if let Some(t) = e.state.next_due() {
                    inner.due.remove(&(t, id.clone()));
                }
            }
            kept
        });
        for id in &gone {
            inner.ids.remove(id);
        }
        for c in &commands {
            inner.commands.remove(c);
        }
    }

    /// Everything the store holds now, for a snapshot: each complaint (in id order) with its
    /// history, the outbox, the dead letters. Costs a reference count per complaint, not a
    /// copy, and holds the read lock only that long; later writes leave the view as it was.
    pub fn freeze(&self) -> Frozen {
        let inner = self.read();
        Frozen {
            complaints: inner
                .ids
                .iter()
                .filter_map(|id| inner.complaints.get(id))
                .map(|e| (Arc::clone(&e.state), Arc::clone(&e.history)))
                .collect(),
            outbox: inner.outbox.values().cloned().collect(),
            dead: inner.dead.clone(),
        }
    }

    // A panic while holding the lock cannot leave `Inner` half-written (every mutation is
    // checked before it starts), so a poisoned lock is safe to keep using.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemoryStore {
    fn append(&self, append: Append) -> Result<Arc<Complaint>, StoreError> {
        append.check()?;
        let mut guard = self.write();
        let inner = &mut *guard;
        let entry = inner.complaints.get_mut(&append.complaint);
        let actual = entry.as_ref().map_or(0, |e| e.state.version);
        if actual != append.expected_version {
            return Err(StoreError::Conflict {
                expected: append.expected_version,
                actual,
            });
        }
        let hash_map::Entry::Vacant(record) = inner.commands.entry(append.command.clone()) else {
            return Err(StoreError::DuplicateCommand(append.command));
        };
        let outbox: Vec<OutboxEntry> = append.outbox_entries().collect();
        // Nothing has changed yet; from here on nothing can fail.
        let old_due = entry.as_ref().and_then(|e| e.state.next_due());
        let state = match entry {
            Some(entry) => {
                append.apply_to(&mut entry.state);
                Arc::make_mut(&mut entry.history).extend(append.events);
                Arc::clone(&entry.state)
            }
            None => {
                let state = append.open()?;
                inner.ids.insert(append.complaint.clone());
                inner.complaints.insert(
                    append.complaint.clone(),
                    Entry {
                        state: Arc::clone(&state),
                        history: Arc::new(append.events),
                    },
                );
                state
            }
        };
        for entry in outbox {
            inner
                .outbox_due
                .insert((entry.next_attempt, entry.notification.id.clone()));
            inner.outbox.insert(entry.notification.id.clone(), entry);
        }
        let new_due = state.next_due();
        if old_due != new_due {
            if let Some(t) = old_due {
                inner.due.remove(&(t, append.complaint.clone()));
            }
            if let Some(t) = new_due {
                inner.due.insert((t, append.complaint.clone()));
            }
        }
        record.insert(CommandRecord {
            complaint: append.complaint,
            version: state.version,
        });
        Ok(state)
    }

    fn load(&self, id: &ComplaintId) -> Result<Option<Arc<Complaint>>, StoreError> {
        Ok(self.read().complaints.get(id).map(|e| Arc::clone(&e.state)))
    }

    fn history(&self, id: &ComplaintId) -> Result<Vec<Recorded>, StoreError> {
        Ok(self
            .read()
            .complaints
            .get(id)
            .map(|e| e.history.to_vec())
            .unwrap_or_default())
    }

    fn command(&self, id: &CommandId) -> Result<Option<CommandRecord>, StoreError> {
        Ok(self.read().commands.get(id).cloned())
    }

    fn due(
        &self,
        upto: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, ComplaintId)>, StoreError> {
        Ok(self
            .read()
            .due
            .iter()
            .take_while(|(t, _)| *t <= upto)
            .take(limit)
            .cloned()
            .collect())
    }

    fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.read().due.first().map(|(t, _)| *t))
    }

    fn claim_outbox(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut guard = self.write();
        let inner = &mut *guard;
        let due: Vec<(Timestamp, NotificationId)> = inner
            .outbox_due
            .iter()
            .take_while(|(t, _)| *t <= now)
            .take(limit)
            .cloned()
            .collect();
        let mut claimed = Vec::with_capacity(due.len());
        for key in due {
            inner.outbox_due.remove(&key);
            if let Some(entry) = inner.outbox.get_mut(&key.1) {
                entry.next_attempt = now + lease;
                inner.outbox_due.insert((entry.next_attempt, key.1.clone()));
                claimed.push(entry.clone());
            }
        }
        Ok(claimed)
    }

    fn settle(&self, id: &NotificationId, outcome: Settlement) -> Result<(), StoreError> {
        let mut guard = self.write();
        let inner = &mut *guard;
        let Some(mut entry) = inner.outbox.remove(id) else {
            return Ok(());
        };
        inner.outbox_due.remove(&(entry.next_attempt, id.clone()));
        match outcome {
            Settlement::Retry {
                next_attempt,
                error,
            } => {
                entry.attempts += 1;
                entry.next_attempt = next_attempt;
                entry.last_error = Some(error);
                inner.outbox_due.insert((next_attempt, id.clone()));
                inner.outbox.insert(id.clone(), entry);
            }
            Settlement::Dead { error } => {
                entry.attempts += 1;
                entry.last_error = Some(error);
                inner.dead.push(entry);
            }
            // Delivered, or anything a newer store version adds: it leaves the outbox.
            _ => {}
        }
        Ok(())
    }

    fn dead_letters(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        Ok(self.read().dead.clone())
    }

    fn requeue(&self, id: &NotificationId, at: Timestamp) -> Result<bool, StoreError> {
        let mut guard = self.write();
        let inner = &mut *guard;
        let Some(i) = inner.dead.iter().position(|e| &e.notification.id == id) else {
            return Ok(false);
        };
        let mut entry = inner.dead.remove(i);
        entry.attempts = 0;
        entry.next_attempt = at;
        inner.outbox_due.insert((at, id.clone()));
        inner.outbox.insert(id.clone(), entry);
        Ok(true)
    }

    fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        let inner = self.read();
        let start = match &query.after {
            Some(after) => Bound::Excluded(after),
            None => Bound::Unbounded,
        };
        let mut matching = inner
            .ids
            .range::<ComplaintId, _>((start, Bound::Unbounded))
            .filter_map(|id| inner.complaints.get(id).map(|e| &e.state))
            .filter(|c| query.matches(c));
        let items: Vec<Arc<Complaint>> = matching.by_ref().take(query.limit).cloned().collect();
        let next = match matching.next() {
            Some(_) => items.last().map(|c| c.id.clone()),
            None => None,
        };
        Ok(Page { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plaint_core::testing;

    #[test]
    fn conformance() {
        plaint_core::conformance::run_all(MemoryStore::new);
    }

    #[test]
    fn a_frozen_view_stays_as_it_was() {
        let store = MemoryStore::new();
        let engine = plaint_core::Engine::builder(store, testing::policy()).build();
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
        let now = engine.store().load(&id).unwrap().unwrap();
        assert_eq!(now.version, 2);
        assert_eq!(engine.store().history(&id).unwrap().len(), 2);
        // And a frozen view does not keep a complaint from being let go.
        engine.store().retain(|_| false);
        assert!(engine.store().is_empty());
        assert_eq!(frozen.complaints.len(), 1);
    }
}
