//! The time port: `Clock`, with the system clock and a manual clock for tests.

use crate::model::Timestamp;
use std::sync::{Arc, Mutex};

/// Where the engine gets `now`. The decision core never reads time itself.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

impl<T: Clock + ?Sized> Clock for Arc<T> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

/// The operating system's clock: the one place plaint reads real time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }
}

/// A clock that moves only when told to: for tests and simulations (nothing sleeps).
///
/// ```
/// use plaint_core::{Clock, ManualClock};
/// let clock = ManualClock::new("2026-11-20T09:00:00Z".parse().unwrap());
/// clock.advance(chrono::Duration::hours(2));
/// assert_eq!(clock.now().to_rfc3339(), "2026-11-20T11:00:00+00:00");
/// ```
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(Mutex::new(start))
    }

    /// Sets the time (it may go backwards: tests decide).
    pub fn set(&self, t: Timestamp) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    /// Moves the time forward by `d`.
    pub fn advance(&self, d: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
