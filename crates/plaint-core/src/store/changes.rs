//! `Changes`: the signal a store raises when what is due may have changed, so a background
//! runner sleeps until the next deadline yet wakes at once for a nearer one.

use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

/// A change signal: a generation counter a store bumps ([`Changes::notify`]) whenever its
/// due-timer index or its outbox may have changed (an append that moves a complaint's next
/// due instant or adds notifications, a settlement that retries one, a requeued dead letter),
/// and futures that wait for the next bump ([`Changes::changed`]). It needs no runtime: the
/// futures wake whatever executor polls them.
///
/// A waiter reads [`Changes::seen`] *before* it looks at the store, then waits for a
/// generation past it: a change between the look and the wait is never missed (the wait
/// returns at once), and a change the waiter made itself costs one look more.
///
/// Raising it costs one atomic add while nobody waits, and a lock only when someone does.
///
/// ```
/// use plaint_core::store::Changes;
/// use plaint_core::blocking::Wait as _;
/// let changes = Changes::new();
/// let seen = changes.seen();
/// changes.notify();
/// // Already past `seen`: ready at once, with the generation it saw.
/// assert_eq!(changes.changed(seen).wait(), seen + 1);
/// ```
#[derive(Debug, Default)]
pub struct Changes {
    generation: AtomicU64,
    /// Whether `waiters` may hold a waker: lets `notify` skip the lock when nobody waits.
    waiting: AtomicBool,
    waiters: Mutex<Waiters>,
}

#[derive(Debug, Default)]
struct Waiters {
    next_key: u64,
    wakers: Vec<(u64, Waker)>,
}

impl Changes {
    /// A signal at generation 0, nobody waiting.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current generation: read it before looking at the store, and pass it to
    /// [`Changes::changed`].
    pub fn seen(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Says the store changed: bumps the generation and wakes every waiter.
    pub fn notify(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        // A waiter sets `waiting` and then reads the generation again (both SeqCst): either
        // it sees the bump, or this load sees its flag.
        if !self.waiting.load(Ordering::SeqCst) {
            return;
        }
        let wakers = {
            let mut w = self.lock();
            self.waiting.store(false, Ordering::SeqCst);
            std::mem::take(&mut w.wakers)
        };
        for (_, waker) in wakers {
            waker.wake();
        }
    }

    /// A future that completes, with the generation it found, once the generation is past
    /// `since` (at once if it already is). Dropping it unregisters it.
    pub fn changed(&self, since: u64) -> Changed<'_> {
        Changed {
            changes: self,
            since,
            key: None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiters> {
        // Nothing is left half-done under this lock, so a poisoned one is safe to use.
        self.waiters.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The future of [`Changes::changed`]: the generation past `since`.
#[derive(Debug)]
#[must_use = "a future does nothing unless awaited"]
pub struct Changed<'a> {
    changes: &'a Changes,
    since: u64,
    /// Its slot among the waiters, once it has one.
    key: Option<u64>,
}

impl Future for Changed<'_> {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let changes = self.changes;
        let now = changes.seen();
        if now != self.since {
            return Poll::Ready(now);
        }
        {
            let mut w = changes.lock();
            let key = match self.key {
                Some(key) => key,
                None => {
                    let key = w.next_key;
                    w.next_key += 1;
                    key
                }
            };
            match w.wakers.iter_mut().find(|(k, _)| *k == key) {
                Some((_, waker)) => waker.clone_from(cx.waker()),
                None => w.wakers.push((key, cx.waker().clone())),
            }
            changes.waiting.store(true, Ordering::SeqCst);
            self.key = Some(key);
        }
        let now = changes.seen();
        if now != self.since {
            return Poll::Ready(now);
        }
        Poll::Pending
    }
}

impl Drop for Changed<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.changes.lock().wakers.retain(|(k, _)| *k != key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (Arc::clone(&count), Waker::from(count))
    }

    #[test]
    fn a_waiter_is_woken_once_by_the_next_change_and_sees_it() {
        let changes = Changes::new();
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let seen = changes.seen();
        let mut fut = std::pin::pin!(changes.changed(seen));
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
        // Polled again without a change: still one registration.
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(changes.lock().wakers.len(), 1);
        changes.notify();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(seen + 1));
        // A second change wakes nobody: the waker was taken.
        changes.notify();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_change_before_the_wait_is_not_missed() {
        let changes = Changes::new();
        let seen = changes.seen();
        changes.notify();
        changes.notify();
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let mut fut = std::pin::pin!(changes.changed(seen));
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(seen + 2));
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_dropped_waiter_leaves_nothing_behind() {
        let changes = Changes::new();
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..3 {
            let mut fut = std::pin::pin!(changes.changed(changes.seen()));
            assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
        }
        assert!(changes.lock().wakers.is_empty());
        changes.notify();
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_waiter_on_another_thread_is_woken() {
        let changes = Arc::new(Changes::new());
        let seen = changes.seen();
        let waiter = {
            let changes = Arc::clone(&changes);
            std::thread::spawn(move || crate::blocking::block_on(changes.changed(seen)))
        };
        // Whether the waiter registered before or after this, it ends with the change.
        changes.notify();
        assert_eq!(waiter.join().unwrap(), seen + 1);
    }
}
