//! Reads across the in-memory complaints and the runs: memory holds the newest state of what
//! it holds, then runs from newest to oldest; listings merge them all in id order.

use crate::error::FileError;
use crate::run::{Run, Summary};
use plaint_core::{
    CommandId, CommandRecord, Complaint, ComplaintId, ListQuery, Page, Recorded, Store, StoreError,
};
use plaint_memory::MemoryStore;
use std::collections::VecDeque;
use std::sync::Arc;

/// The live runs, oldest first.
pub(crate) type Runs = [Arc<Run>];

/// The newest run entry of complaint `id`, with its run.
pub(crate) fn find(
    runs: &Runs,
    id: &ComplaintId,
) -> Result<Option<(Arc<Run>, Summary)>, FileError> {
    for run in runs.iter().rev() {
        if let Some(s) = run.complaint(id)? {
            return Ok(Some((Arc::clone(run), s)));
        }
    }
    Ok(None)
}

/// A complaint's state and its history, as [`MemoryStore::restore`] takes them.
pub(crate) type Taken = (Arc<Complaint>, Vec<Recorded>);

/// A complaint's state and history from the runs (for moving it back into memory).
pub(crate) fn take_out(runs: &Runs, id: &ComplaintId) -> Result<Option<Taken>, FileError> {
    let Some((run, s)) = find(runs, id)? else {
        return Ok(None);
    };
    Ok(Some((run.state(&s)?, run.history(&s)?)))
}

/// Where a command was recorded, according to the runs.
pub(crate) fn command(runs: &Runs, id: &CommandId) -> Result<Option<CommandRecord>, FileError> {
    for run in runs.iter().rev() {
        if let Some(r) = run.command(id)? {
            return Ok(Some(r));
        }
    }
    Ok(None)
}

/// One source's next complaint in a listing.
enum Head {
    Hot(Arc<Complaint>),
    Cold(ComplaintId, Summary),
}

impl Head {
    fn id(&self) -> &ComplaintId {
        match self {
            Head::Hot(c) => &c.id,
            Head::Cold(id, _) => id,
        }
    }
}

/// The in-memory complaints in id order, a page at a time.
struct Hot<'a> {
    memory: &'a MemoryStore,
    page: VecDeque<Arc<Complaint>>,
    next: Option<Option<ComplaintId>>,
}

impl Hot<'_> {
    fn next_hot(&mut self) -> Result<Option<Arc<Complaint>>, StoreError> {
        if self.page.is_empty()
            && let Some(after) = self.next.take()
        {
            let mut q = ListQuery::new().limit(ListQuery::MAX_LIMIT);
            q.after = after;
            let page = self.memory.list(&q)?;
            self.next = page.next.map(Some);
            self.page = page.items.into();
        }
        Ok(self.page.pop_front())
    }
}

/// [`Store::list`] over memory and runs: the newest version of each complaint, filtered.
pub(crate) fn list(
    memory: &MemoryStore,
    runs: &Runs,
    query: &ListQuery,
) -> Result<Page, StoreError> {
    let mut hot = Hot {
        memory,
        page: VecDeque::new(),
        next: Some(query.after.clone()),
    };
    let mut cold = runs
        .iter()
        .map(|r| r.complaints_after(query.after.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    // Sources oldest first: the runs, then memory.
    let mut heads: Vec<Option<Head>> = Vec::with_capacity(runs.len() + 1);
    for c in &mut cold {
        heads.push(c.next_summary()?.map(|(id, s)| Head::Cold(id, s)));
    }
    heads.push(hot.next_hot()?.map(Head::Hot));

    let mut items = Vec::new();
    while let Some(id) = heads.iter().flatten().map(Head::id).min().cloned() {
        let holders: Vec<usize> = (0..heads.len())
            .filter(|&i| heads[i].as_ref().is_some_and(|h| *h.id() == id))
            .collect();
        let newest = *holders.last().expect("the least id has a holder");
        let matches = match heads[newest].as_ref().expect("a holder has a head") {
            Head::Hot(c) => query.matches(c),
            Head::Cold(_, s) => {
                query.matches_parts(s.stage, s.tier.as_ref(), s.department.as_ref())
            }
        };
        if matches {
            if items.len() == query.limit {
                // One more matches: there is a next page.
                let next = items.last().map(|c: &Arc<Complaint>| c.id.clone());
                return Ok(Page { items, next });
            }
            items.push(match heads[newest].as_ref().expect("a holder has a head") {
                Head::Hot(c) => Arc::clone(c),
                Head::Cold(_, s) => runs[newest].state(s)?,
            });
        }
        for i in holders {
            heads[i] = if i == runs.len() {
                hot.next_hot()?.map(Head::Hot)
            } else {
                cold[i].next_summary()?.map(|(id, s)| Head::Cold(id, s))
            };
        }
    }
    Ok(Page { items, next: None })
}
