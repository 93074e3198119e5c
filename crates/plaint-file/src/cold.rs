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
    Ok(Some((run.state(&s)?, run.history(id, &s)?)))
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
            let page = plaint_core::blocking::block_on(self.memory.list(&q))?;
            self.next = page.next.map(Some);
            self.page = page.items.into();
        }
        Ok(self.page.pop_front())
    }
}

/// The complaint at `head` if it passes `query`. A complaint in a run is decided on its
/// summary when the query's filters are all in it, and read only when it passes them and the
/// query needs more.
fn matching(
    head: Option<&Head>,
    runs: &Runs,
    source: usize,
    query: &ListQuery,
) -> Result<Option<Arc<Complaint>>, StoreError> {
    Ok(match head.expect("a holder has a head") {
        Head::Hot(c) => query.matches(c).then(|| Arc::clone(c)),
        Head::Cold(_, s) => {
            if !query.matches_parts(s.stage, s.tier.as_ref(), s.department.as_ref()) {
                return Ok(None);
            }
            let c = runs[source].state(s)?;
            (!query.needs_complaint() || query.matches(&c)).then_some(c)
        }
    })
}

/// [`Store::count`] over memory and runs: the newest version of each complaint, counted. A
/// complaint in a run is read only when the query needs more than its summary.
pub(crate) fn count(
    memory: &MemoryStore,
    runs: &Runs,
    query: &ListQuery,
) -> Result<u64, StoreError> {
    let mut hot = Hot {
        memory,
        page: VecDeque::new(),
        next: Some(None),
    };
    let mut cold = runs
        .iter()
        .map(|r| r.complaints_after(None))
        .collect::<Result<Vec<_>, _>>()?;
    let mut heads: Vec<Option<Head>> = Vec::with_capacity(runs.len() + 1);
    for c in &mut cold {
        heads.push(c.next_summary()?.map(|(id, s)| Head::Cold(id, s)));
    }
    heads.push(hot.next_hot()?.map(Head::Hot));
    let mut n = 0u64;
    while let Some(id) = heads.iter().flatten().map(Head::id).min().cloned() {
        let holders: Vec<usize> = (0..heads.len())
            .filter(|&i| heads[i].as_ref().is_some_and(|h| *h.id() == id))
            .collect();
        let newest = *holders.last().expect("the least id has a holder");
        let counted = match heads[newest].as_ref().expect("a holder has a head") {
            Head::Hot(c) => query.matches(c),
            Head::Cold(_, s) if !query.needs_complaint() => {
                query.matches_parts(s.stage, s.tier.as_ref(), s.department.as_ref())
            }
            Head::Cold(..) => matching(heads[newest].as_ref(), runs, newest, query)?.is_some(),
        };
        n += u64::from(counted);
        for i in holders {
            heads[i] = if i == runs.len() {
                hot.next_hot()?.map(Head::Hot)
            } else {
                cold[i].next_summary()?.map(|(id, s)| Head::Cold(id, s))
            };
        }
    }
    Ok(n)
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
        if let Some(c) = matching(heads[newest].as_ref(), runs, newest, query)? {
            if items.len() == query.limit {
                // One more matches: there is a next page.
                let next = items.last().map(|c: &Arc<Complaint>| c.id.clone());
                return Ok(Page { items, next });
            }
            items.push(c);
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
