//! The clock arithmetic of one policy: starting, pausing, resuming, re-projecting, stopping
//! and firing clocks, as pure functions of the definitions, the state and `now`.

use super::state::Due;
use super::{ClockDef, ClockOutcome, ClockState, CountFrom, Schedule, Target, Trigger, Warning};
use crate::calendar::{BusinessCalendar, Calendars};
use crate::id::{ClockKey, TierKey};
use crate::lifecycle::Event;
use crate::model::Timestamp;
use crate::policy::Facts;
use chrono::{Duration, NaiveTime};

/// How a clock measures time: a calendar, or elapsed time.
enum Measure<'a> {
    Calendar(&'a BusinessCalendar),
    Elapsed,
}

/// `t` plus `secs` seconds, saturating at the ends of what an instant can be: a clock state
/// from damaged or very old data must not panic the arithmetic.
fn plus(t: Timestamp, secs: i64) -> Timestamp {
    Duration::try_seconds(secs)
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(if secs < 0 {
            chrono::DateTime::<chrono::Utc>::MIN_UTC
        } else {
            chrono::DateTime::<chrono::Utc>::MAX_UTC
        })
}

impl Measure<'_> {
    /// Whether both measure time alike (elapsed, or the very same calendar).
    fn same(&self, other: &Measure<'_>) -> bool {
        match (self, other) {
            (Measure::Elapsed, Measure::Elapsed) => true,
            (Measure::Calendar(a), Measure::Calendar(b)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }

    fn add(&self, from: Timestamp, secs: i64) -> Timestamp {
        match self {
            _ if secs <= 0 => from,
            Measure::Calendar(c) => {
                c.add_business(from, Duration::try_seconds(secs).unwrap_or(Duration::MAX))
            }
            Measure::Elapsed => plus(from, secs),
        }
    }

    /// Measured seconds from `a` to `b`, negative when `b` is before `a`.
    fn between(&self, a: Timestamp, b: Timestamp) -> i64 {
        let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
        sign * match self {
            Measure::Calendar(c) => c.business_between(lo, hi).num_seconds(),
            Measure::Elapsed => (hi - lo).num_seconds(),
        }
    }
}

/// The clock arithmetic for one policy: pure functions of the definitions, the state and `now`.
pub(crate) struct Clocks<'a> {
    pub(crate) defs: &'a [ClockDef],
    pub(crate) calendars: &'a Calendars,
}

impl<'a> Clocks<'a> {
    fn measure(&self, def: &ClockDef, target: &Target) -> Measure<'a> {
        match (target, &def.calendar) {
            (
                Target::Elapsed(_)
                | Target::Days(_)
                | Target::DayWindow { .. }
                | Target::WorkingDaysSameTime(_)
                | Target::Cutoff { .. },
                _,
            )
            | (_, None) => Measure::Elapsed,
            (_, Some(key)) => match self.calendars.get(key) {
                Some(c) => Measure::Calendar(c),
                None => Measure::Elapsed,
            },
        }
    }

    fn calendar(&self, def: &ClockDef) -> Option<&'a BusinessCalendar> {
        def.calendar.as_ref().and_then(|k| self.calendars.get(k))
    }

    /// The budget (measured seconds) and the window's opening offset of `target` from `start`.
    /// A day target's due instant is where the law puts it, and the measure gives it back
    /// exactly: in elapsed time trivially, in open time because a close of business is the
    /// end of open time.
    fn budget(&self, def: &ClockDef, target: &Target, start: Timestamp) -> (i64, Option<i64>) {
        let m = self.measure(def, target);
        let cal = self.calendar(def);
        // Without a calendar (refused by the checks, kept total here) days are UTC dates.
        let midnight = |n: u32| {
            let day = start.date_naive().and_time(NaiveTime::MIN).and_utc();
            plus(day, i64::from(n) * 86_400)
        };
        let end_of_days = |n: u32| match cal {
            Some(c) => c.end_of_days(start, n),
            None if n == 0 => start,
            None => midnight(n.saturating_add(1)),
        };
        match *target {
            Target::AtOnce => (0, None),
            Target::Elapsed(s) | Target::Business(s) => (s.seconds(), None),
            Target::Window {
                not_before,
                not_after,
            } => (not_after.seconds(), Some(not_before.seconds())),
            Target::DayWindow { from, to } => {
                let opens = cal.map_or(midnight(from), |c| c.start_of_day(start, from));
                let due = end_of_days(to);
                (m.between(start, due), Some(m.between(start, opens).max(0)))
            }
            Target::Days(n) => (m.between(start, end_of_days(n)), None),
            Target::WorkingDays(n) => {
                let due = match cal {
                    Some(c) => c.end_of_working_days(start, n),
                    None => end_of_days(n),
                };
                (m.between(start, due), None)
            }
            Target::WorkingDaysSameTime(n) => {
                let due = cal.map_or(plus(start, i64::from(n) * 86_400), |c| {
                    c.add_working_days(start, n)
                });
                (m.between(start, due), None)
            }
            Target::Cutoff { at, days_after } => {
                let due = match cal {
                    Some(c) => c.cutoff_after_working_days(start, at, days_after),
                    None => {
                        let due = start.date_naive().and_time(at).and_utc();
                        let days = match days_after {
                            0 => i64::from(due < start),
                            n => i64::from(n),
                        };
                        plus(due, days * 86_400)
                    }
                };
                (m.between(start, due), None)
            }
        }
    }

    /// The due instants of a running clock with `remaining` measured seconds at `now`.
    fn project(
        &self,
        def: &ClockDef,
        target: &Target,
        st: &ClockState,
        now: Timestamp,
    ) -> Schedule {
        let m = self.measure(def, target);
        let left = st.remaining;
        let at_once = matches!(target, Target::AtOnce);
        let warning = def.warning.filter(|_| !at_once).and_then(|w| {
            let margin = match w {
                Warning::Percent(p) => st.budget.saturating_mul(100 - i64::from(p.min(100))) / 100,
                Warning::Before(s) => s.seconds(),
            };
            (!st.warned).then(|| m.add(now, left.saturating_sub(margin)))
        });
        let not_before = match target {
            Target::Window { .. } | Target::DayWindow { .. } => {
                let used = st.budget.saturating_sub(left);
                let (_, opens) = self.budget(def, target, st.started_at);
                opens.map(|o| m.add(now, o.saturating_sub(used)))
            }
            _ => None,
        };
        Schedule {
            warning,
            deadline: (!st.breached && !at_once).then(|| m.add(now, left)),
            not_before,
            rungs: def
                .escalation
                .iter()
                .map(|r| m.add(now, left.saturating_add(r.after.seconds())))
                .collect(),
        }
    }

    /// The clock events that follow from `events` having turned a complaint of tier `before`
    /// (`None`: the default tier, or a new complaint) into `after`.
    ///
    /// Per clock, the command's events are read in order: a start (or reset) trigger starts a
    /// new cycle, a stop trigger stops it, and where one command matches both, the later
    /// event wins (an unsatisfied answer that reopens a complaint restarts what the reopening
    /// starts; a clock that one command would start and then stop does not start: a follow-up
    /// window with `stop_on = ["reopened"]` does not open on an unsatisfied answer). A
    /// terminal stage stops every clock. When the effective tier changes — by triage, a tier
    /// change or an escalation rung — every running clock re-projects onto the new tier's
    /// target, keeping the time already used.
    pub(crate) fn follow(
        &self,
        before: Option<&crate::Complaint>,
        after: &crate::Complaint,
        events: &[Event],
        default_tier: &TierKey,
        now: Timestamp,
    ) -> Vec<Event> {
        // Where in the command's events (a tick's warnings, breaches and rungs among them: a
        // clock that reacts to another clock's events sees them in the same tick) a trigger
        // list last matches.
        let last = |list: &[Trigger]| {
            events
                .iter()
                .rposition(|e| list.iter().any(|t| t.matches(e)))
        };
        let tier = after.tier.clone().unwrap_or_else(|| default_tier.clone());
        let facts = Facts::of(after).with_tier(&tier);
        let stage = after.stage.kind();
        let before_tier = before.map(|c| c.tier.as_ref().unwrap_or(default_tier));
        // The complaint before the command, for the target each clock ran on then.
        let before_facts = before
            .zip(before_tier)
            .map(|(b, t)| (b, t, Facts::of(b).with_tier(t)));
        let tier_changed = before_tier.is_some_and(|t| t != &tier).then(|| {
            events
                .iter()
                .find_map(|e| match e {
                    Event::TierChanged { reason, .. } => Some(reason.to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| "triaged".to_owned())
        });
        let mut out = Vec::new();
        for def in self.defs {
            let current = after.clocks.iter().find(|c| c.clock == def.key);
            let target = target_of(def, &facts, after, &tier);
            let open = current.filter(|c| c.outcome.is_none());
            let stopped = last(&def.stop_on);
            let started = match open {
                // A running clock restarts on a reset, or on a start that comes after a stop.
                Some(_) => {
                    last(&def.reset_on).max(last(&def.start_on).filter(|i| Some(*i) > stopped))
                }
                None if current.is_some() => last(&def.start_on).max(last(&def.reset_on)),
                None => last(&def.start_on),
            }
            // A start (or restart) happens only while its condition holds.
            .filter(|_| def.start_when.as_ref().is_none_or(|w| w.holds(&facts)));
            if started > stopped && !stage.is_terminal() {
                if let (Some(target), Some(at)) = (target, started) {
                    let cycle = current.map_or(1, |c| c.cycle.saturating_add(1));
                    // A start on another clock's firing counts from when it fell due (a tick
                    // after downtime must not give the reacting clock the downtime).
                    let fired = fired_at(&events[at]);
                    let from = match (def.count_from, fired) {
                        (CountFrom::FirstReport, _) if cycle == 1 => {
                            after.intake.received_at.min(now)
                        }
                        (_, Some(due)) => due.min(now),
                        _ => now,
                    };
                    let start = self.start(def, target, &tier, cycle, from);
                    // A cycle started by a firing that would fall due at once does not start:
                    // clocks reacting to firings (their own too) can never loop.
                    if fired.is_some() && due_at_once(&start, from) {
                        continue;
                    }
                    // A stop before the start ends the running cycle first.
                    if let (Some(st), Some(_)) = (open, stopped) {
                        out.push(stopped_at(def, st, now));
                    }
                    out.extend(start);
                }
                continue;
            }
            // (A clock this command would start and then stop does not start.)
            let Some(st) = open else { continue };
            if stopped.is_some() || stage.is_terminal() {
                out.push(stopped_at(def, st, now));
                continue;
            }
            // The target the clock ran on before the command, when it is another one now.
            let changed = before_facts
                .as_ref()
                .and_then(|(b, b_tier, b_facts)| target_of(def, b_facts, b, b_tier))
                .zip(target)
                .filter(|(was, now)| was != now);
            // A tier without a target of its own keeps the clock on the first target's measure.
            let Some(target) = target.or_else(|| def.targets.values().next()) else {
                continue;
            };
            let measure = self.measure(def, target);
            // The clock as this command leaves it, one event after the other: first a new
            // target, then a pause or a resumption.
            let mut st = st.clone();
            if let Some((was, t)) = changed {
                let reason = match &tier_changed {
                    Some(why) => format!("tier is now {tier}: {why}"),
                    None => "its target rules now give another target".to_owned(),
                };
                let old = self.measure(def, was);
                let used = if old.same(&measure) {
                    let since = if st.is_running() {
                        old.between(st.measured_at, now).max(0)
                    } else {
                        0
                    };
                    st.budget.saturating_sub(st.remaining.saturating_sub(since))
                } else {
                    // Another measure: the time used, measured anew from the start less the
                    // pauses (the old figures are in the old measure's seconds).
                    let paused = st.pauses.iter().fold(0i64, |sum, (a, b)| {
                        sum.saturating_add(measure.between(*a, b.unwrap_or(now)).max(0))
                    });
                    measure
                        .between(st.started_at, now)
                        .max(0)
                        .saturating_sub(paused)
                };
                let (budget, _) = self.budget(def, t, st.started_at);
                st.budget = budget;
                st.remaining = budget.saturating_sub(used);
                st.measured_at = now;
                let schedule = st.is_running().then(|| self.project(def, t, &st, now));
                if let Some(s) = &schedule {
                    st.schedule = s.clone();
                }
                out.push(Event::ClockReprojected {
                    clock: def.key.clone(),
                    cycle: st.cycle,
                    budget,
                    remaining: st.remaining,
                    schedule,
                    reason: reason.into(),
                });
                if let (Target::AtOnce, Some(role)) = (t, &def.breach_notify) {
                    out.push(Event::AlertedAtOnce {
                        clock: def.key.clone(),
                        role: role.clone(),
                    });
                }
            }
            let pause = def.pause_while.contains(&stage);
            if st.is_running() && pause {
                out.push(Event::ClockPaused {
                    clock: def.key.clone(),
                    cycle: st.cycle,
                    remaining: st
                        .remaining
                        .saturating_sub(measure.between(st.measured_at, now).max(0)),
                });
            } else if st.is_paused() && !pause {
                st.measured_at = now;
                out.push(Event::ClockResumed {
                    clock: def.key.clone(),
                    cycle: st.cycle,
                    schedule: self.project(def, target, &st, now),
                });
            }
        }
        out
    }

    /// Events that start a new cycle of `def` counting from `now` (the start instant).
    fn start(
        &self,
        def: &ClockDef,
        target: &Target,
        tier: &TierKey,
        cycle: u32,
        now: Timestamp,
    ) -> Vec<Event> {
        let mut out = Vec::new();
        let mut from = now;
        if let (Target::AtOnce, Some(role)) = (target, &def.breach_notify) {
            out.push(Event::AlertedAtOnce {
                clock: def.key.clone(),
                role: role.clone(),
            });
        } else if let (Some(ah), Some(cal)) = (&def.after_hours, self.calendar(def))
            && !cal.is_open(now)
        {
            if ah.urgent_tiers.contains(tier) {
                out.push(Event::OnDutyAlerted {
                    clock: def.key.clone(),
                    role: ah.notify.clone(),
                });
            } else {
                from = cal.next_open(now);
            }
        }
        let (budget, _) = self.budget(def, target, from);
        let st = ClockState {
            clock: def.key.clone(),
            cycle,
            started_at: from,
            budget,
            remaining: budget,
            measured_at: from,
            pauses: Vec::new(),
            schedule: Schedule::default(),
            warned: false,
            breached: false,
            rungs_fired: 0,
            outcome: None,
        };
        out.push(Event::ClockStarted {
            clock: def.key.clone(),
            cycle,
            at: from,
            budget,
            schedule: self.project(def, target, &st, from),
        });
        out
    }

    /// The first cycle of `def` on `target`, started (for `tier`) at `now`: the instant it
    /// counts from (after-hours rules may move it), its budget, its due instants, and whether
    /// starting it alerts someone at once.
    pub(crate) fn first_cycle(
        &self,
        def: &ClockDef,
        target: &Target,
        tier: &TierKey,
        now: Timestamp,
    ) -> crate::sla::Projection {
        let mut p = crate::sla::Projection {
            counts_from: now,
            budget: 0,
            schedule: Schedule::default(),
            alerts_at_once: false,
        };
        for e in self.start(def, target, tier, 1, now) {
            match e {
                Event::ClockStarted {
                    at,
                    budget,
                    schedule,
                    ..
                } => {
                    p.counts_from = at;
                    p.budget = budget;
                    p.schedule = schedule;
                }
                _ => p.alerts_at_once = true,
            }
        }
        p
    }

    /// The firing events of every item due by `upto`, in due order.
    pub(crate) fn fire(&self, c: &crate::Complaint, upto: Timestamp) -> Vec<Event> {
        let mut due: Vec<(Timestamp, &ClockState, Due)> = c
            .clocks
            .iter()
            .filter(|st| st.is_running())
            .flat_map(|st| st.pending().map(move |(t, d)| (t, st, d)))
            .filter(|(t, _, _)| *t <= upto)
            .collect();
        due.sort_by(|a, b| (a.0, &a.1.clock, a.2).cmp(&(b.0, &b.1.clock, b.2)));
        let mut out = Vec::new();
        for (t, st, d) in due {
            let (clock, cycle) = (st.clock.clone(), st.cycle);
            out.push(match d {
                Due::Warning => Event::ClockWarned {
                    clock,
                    cycle,
                    due: t,
                },
                Due::Breach => Event::ClockBreached {
                    clock,
                    cycle,
                    due: t,
                    notify: self
                        .defs
                        .iter()
                        .find(|d| d.key == st.clock)
                        .and_then(|d| d.breach_notify.clone()),
                },
                Due::Rung(rung) => {
                    let def = self.defs.iter().find(|d| d.key == st.clock);
                    let r = def.and_then(|d| d.escalation.get(rung as usize - 1));
                    Event::RungReached {
                        clock,
                        cycle,
                        rung,
                        due: t,
                        notify: r.map(|r| r.notify.clone()),
                        raise_tier: r.and_then(|r| r.raise_tier.clone()),
                        ledger: r.is_some_and(|r| r.ledger),
                    }
                }
            });
        }
        out
    }

    /// A deadline agreed with the complainant for `clock`, capped by `agreed_max` from the
    /// clock's start: the capped deadline, or `None` when the clock is not open.
    pub(crate) fn agree(
        &self,
        c: &crate::Complaint,
        clock: &ClockKey,
        at: Timestamp,
        now: Timestamp,
        tier: &TierKey,
    ) -> Option<(Timestamp, Schedule, i64)> {
        let def = self.defs.iter().find(|d| &d.key == clock)?;
        let st = c
            .clocks
            .iter()
            .find(|s| &s.clock == clock && s.outcome.is_none())?;
        let target = target_of(def, &Facts::of(c).with_tier(tier), c, tier)
            .or_else(|| def.targets.values().next())?;
        let m = self.measure(def, target);
        let cap = def.agreed_max.map(|s| m.add(st.started_at, s.seconds()));
        let deadline = cap.map_or(at, |cap| at.min(cap));
        let mut next = st.clone();
        next.remaining = m.between(now, deadline);
        next.budget = m.between(st.started_at, deadline);
        next.measured_at = now;
        next.breached = false;
        // The agreed instant itself is the deadline, even in closed time (warnings and rungs
        // stay on the clock's measure).
        let mut schedule = self.project(def, target, &next, now);
        schedule.deadline = Some(deadline);
        Some((deadline, schedule, next.remaining))
    }
}

/// The target `def` runs on for complaint `c` of `tier` (`facts` being its facts): the first
/// target rule whose condition holds, else its channel's target, else its tier's.
fn target_of<'d>(
    def: &'d ClockDef,
    facts: &Facts<'_>,
    c: &crate::Complaint,
    tier: &TierKey,
) -> Option<&'d Target> {
    def.target_rules
        .iter()
        .find(|r| r.when.holds(facts))
        .map(|r| &r.target)
        .or_else(|| def.channel_targets.get(&c.intake.channel))
        .or_else(|| def.targets.get(tier))
}

/// Whether a starting cycle's events have anything due at or before `from`.
fn due_at_once(start: &[Event], from: Timestamp) -> bool {
    start.iter().any(|e| match e {
        Event::ClockStarted { schedule, .. } => {
            let s = schedule;
            s.warning
                .iter()
                .chain(&s.deadline)
                .chain(&s.rungs)
                .any(|t| *t <= from)
        }
        _ => false,
    })
}

/// When a clock firing fell due (what a clock reacting to it counts from).
fn fired_at(e: &Event) -> Option<Timestamp> {
    match e {
        Event::ClockWarned { due, .. }
        | Event::ClockBreached { due, .. }
        | Event::RungReached { due, .. } => Some(*due),
        _ => None,
    }
}

/// The event that stops the running cycle `st` of `def` at `now`, with how it ended.
fn stopped_at(def: &ClockDef, st: &ClockState, now: Timestamp) -> Event {
    Event::ClockStopped {
        clock: def.key.clone(),
        cycle: st.cycle,
        outcome: outcome(st, now),
    }
}

fn outcome(st: &ClockState, now: Timestamp) -> ClockOutcome {
    if st.breached || st.schedule.deadline.is_some_and(|d| now > d) {
        ClockOutcome::Breached
    } else if st.schedule.not_before.is_some_and(|nb| now < nb) {
        ClockOutcome::Early
    } else {
        ClockOutcome::Met
    }
}
