//! The background work beside the HTTP server: firing due deadlines and relaying the outbox.
//!
//! This is the one place the runner plugs in: [`spawn`] starts it, [`Background::wake`]
//! makes it look again now (after a command, or when a test moved its manual clock), and
//! [`Background::stop`] finishes the pass in flight and returns.
//!
//! The loop: tick and relay, then sleep until the next deadline (by the engine's clock) or
//! at most [`POLL`], waking early when woken; on an error, back off exponentially up to
//! [`POLL`]. A tick's per-complaint failures stay due and are retried on the next pass.

use crate::ServiceEngine;
use plaint::Clock;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// The longest the loop sleeps without looking: a deadline a command made is seen at once
/// (the service wakes the loop after every command), so this only bounds how late a
/// deadline another process wrote into the same store is seen, and how long a jump of the
/// clock goes unnoticed.
pub(crate) const POLL: Duration = Duration::from_secs(30);

/// The running loop.
pub(crate) struct Background {
    wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Background {
    /// Makes the loop look at the due index and the outbox now.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Lets the pass in flight finish, starts no other, and waits for the loop to end.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the background loop ended abnormally");
        }
    }
}

/// Starts the loop on the current tokio runtime.
pub(crate) fn spawn(engine: Arc<ServiceEngine>, wake: Arc<Notify>) -> Background {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run(engine, Arc::clone(&wake), stopped));
    Background { wake, stop, task }
}

async fn run(engine: Arc<ServiceEngine>, wake: Arc<Notify>, mut stopped: watch::Receiver<bool>) {
    let mut failures = 0u32;
    while !*stopped.borrow() {
        let wait = match pass(&engine).await {
            Ok(wait) => {
                failures = 0;
                wait
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let wait = Duration::from_millis(100)
                    .saturating_mul(1 << failures.min(16))
                    .min(POLL);
                tracing::warn!(error = %e, code = e.code(), retry_in = ?wait, "background pass failed");
                wait
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
            _ = stopped.changed() => {}
        }
    }
}

/// One pass: fire what is due, deliver what is due, and say how long to sleep.
async fn pass(engine: &ServiceEngine) -> Result<Duration, plaint::EngineError> {
    let tick = engine.tick().await?;
    for (complaint, error) in &tick.failed {
        tracing::warn!(%complaint, %error, "a due complaint could not be ticked");
    }
    engine.relay().await?;
    let wait = match engine.next_due().await? {
        Some(due) => (due - engine.clock().now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(POLL),
        None => POLL,
    };
    // A complaint that failed is still due: look again soon, not at once.
    Ok(if tick.failed.is_empty() {
        wait
    } else {
        wait.max(Duration::from_secs(1))
    })
}
