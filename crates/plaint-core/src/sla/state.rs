//! A clock at run time: budget, pause ledger, derived due instants, and what has fired.

use crate::id::ClockKey;
use crate::lifecycle::Event;
use crate::model::Timestamp;
use chrono::Duration;
use serde::{Deserialize, Serialize};

/// How a clock's cycle ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockOutcome {
    /// Stopped in time.
    Met,
    /// Stopped after its deadline.
    Breached,
    /// Stopped before a window's `not_before`: too early.
    Early,
}

/// A clock's derived due instants, as computed when the clock last changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Schedule {
    /// When to warn (absent when there is no warning or it already fired).
    pub warning: Option<Timestamp>,
    /// The deadline (absent when it already passed).
    pub deadline: Option<Timestamp>,
    /// The earliest proper moment of a window target.
    pub not_before: Option<Timestamp>,
    /// Each rung's due instant, rung 1 first (including rungs already fired).
    pub rungs: Vec<Timestamp>,
}

/// When a clock started at some instant would fall due: what [`crate::Policy::deadlines`]
/// answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Projection {
    /// The instant it counts from: the start, or the next opening when it started out of hours.
    pub counts_from: Timestamp,
    /// Measured seconds the target allows.
    pub budget: i64,
    /// The warning, deadline, window opening and escalation rungs.
    pub schedule: Schedule,
    /// Starting it alerts someone at once (an "at once" target, or the on-duty role out of
    /// hours).
    pub alerts_at_once: bool,
}

/// A clock of one complaint, at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClockState {
    /// Which clock.
    pub clock: ClockKey,
    /// 1 for the first run, then 2 after a reset or restart, …
    pub cycle: u32,
    /// When this cycle started.
    pub started_at: Timestamp,
    /// Measured seconds the target allows.
    pub budget: i64,
    /// Measured seconds left at `measured_at` (negative once overdue).
    pub remaining: i64,
    /// When `remaining` was measured.
    pub measured_at: Timestamp,
    /// Paused intervals: the ledger (the last one open while paused).
    pub pauses: Vec<(Timestamp, Option<Timestamp>)>,
    /// The derived due instants.
    pub schedule: Schedule,
    /// The warning fired.
    pub warned: bool,
    /// The breach fired.
    pub breached: bool,
    /// How many rungs fired.
    pub rungs_fired: u32,
    /// How the cycle ended, once stopped.
    pub outcome: Option<ClockOutcome>,
}

impl ClockState {
    /// Whether the clock is counting now.
    pub fn is_running(&self) -> bool {
        self.outcome.is_none() && !self.is_paused()
    }

    /// Whether the clock is paused.
    pub fn is_paused(&self) -> bool {
        self.outcome.is_none() && self.pauses.last().is_some_and(|p| p.1.is_none())
    }

    /// Total paused time so far (an open pause counts up to `now`), at most
    /// [`Duration::MAX`] (a damaged ledger must not overflow the sum).
    pub fn paused_for(&self, now: Timestamp) -> Duration {
        self.pauses
            .iter()
            .map(|(a, b)| b.unwrap_or(now).max(*a) - *a)
            .fold(Duration::zero(), |x, y| {
                x.checked_add(&y).unwrap_or(Duration::MAX)
            })
    }

    /// The next instant something of this clock fires, if it is running.
    pub fn next_due(&self) -> Option<Timestamp> {
        if !self.is_running() {
            return None;
        }
        self.pending().map(|(due, _)| due).min()
    }

    /// Items still to fire, with their due instants.
    pub(super) fn pending(&self) -> impl Iterator<Item = (Timestamp, Due)> + '_ {
        let s = &self.schedule;
        let warning = s
            .warning
            .filter(|_| !self.warned)
            .map(|t| (t, Due::Warning));
        let breach = s
            .deadline
            .filter(|_| !self.breached)
            .map(|t| (t, Due::Breach));
        let rungs = s
            .rungs
            .iter()
            .enumerate()
            .skip(self.rungs_fired as usize)
            .map(|(i, t)| (*t, Due::Rung(i as u32 + 1)));
        warning.into_iter().chain(breach).chain(rungs)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Due {
    Warning,
    Breach,
    Rung(u32),
}

impl ClockState {
    /// Applies one clock event to this clock (no rules: the event carries every decision).
    pub(crate) fn apply(&mut self, event: &Event, at: Timestamp) {
        match event {
            Event::ClockPaused { remaining, .. } => {
                self.remaining = *remaining;
                self.measured_at = at;
                self.pauses.push((at, None));
            }
            Event::ClockResumed { schedule, .. } => {
                if let Some(p) = self.pauses.last_mut() {
                    p.1 = Some(at);
                }
                self.measured_at = at;
                self.schedule = schedule.clone();
            }
            Event::ClockReprojected {
                budget,
                remaining,
                schedule,
                ..
            } => {
                self.budget = *budget;
                self.remaining = *remaining;
                self.measured_at = at;
                if let Some(s) = schedule {
                    self.schedule = s.clone();
                }
            }
            Event::DeadlineAgreed {
                remaining,
                schedule,
                ..
            } => {
                self.remaining = *remaining;
                self.measured_at = at;
                self.breached = false;
                self.schedule = schedule.clone();
            }
            Event::ClockStopped { outcome, .. } => {
                if let Some(p) = self.pauses.last_mut().filter(|p| p.1.is_none()) {
                    p.1 = Some(at);
                }
                self.outcome = Some(*outcome);
            }
            Event::ClockWarned { .. } => self.warned = true,
            Event::ClockBreached { .. } => self.breached = true,
            Event::RungReached { rung, .. } => self.rungs_fired = self.rungs_fired.max(*rung),
            _ => {}
        }
    }

    /// The state a `ClockStarted` event opens.
    pub(crate) fn started(
        clock: &ClockKey,
        cycle: u32,
        at: Timestamp,
        budget: i64,
        schedule: &Schedule,
    ) -> Self {
        Self {
            clock: clock.clone(),
            cycle,
            started_at: at,
            budget,
            remaining: budget,
            measured_at: at,
            pauses: Vec::new(),
            schedule: schedule.clone(),
            warned: false,
            breached: false,
            rungs_fired: 0,
            outcome: None,
        }
    }
}
