//! SLA clocks: how the policy defines them, their run-time state, and the pure arithmetic that
//! starts, pauses, resumes, re-projects, stops and fires them.
//!
//! At run time a clock is a **budget** (how much measured time the target allows) plus a
//! **pause ledger**; `remaining` is measured whenever the clock changes. Its due instants
//! (warning, breach, each escalation rung) are derived from those and written into the event
//! that changed the clock, so replay never recomputes them. Each instant fires once: firing
//! is an event keyed (clock, cycle, rung), and a fired item is never due again.
//!
//! Time is *measured* on the clock's calendar for business, working-day, cut-off and (span)
//! window targets, and as plain elapsed time for elapsed targets, for the calendar-day
//! targets (`days`, `day_window`, `working_days_same_time`: the calendar only says where
//! their days end), and when the clock names no calendar. A day target's deadline is where
//! the law puts it (see [`Target`]) and the measure gives it back exactly.

mod clocks;
mod def;
mod state;

pub(crate) use clocks::Clocks;
pub use def::{AfterHours, ClockDef, CountFrom, Rung, Span, Target, TargetRule, Trigger, Warning};
pub use state::{ClockOutcome, ClockState, Projection, Schedule};
