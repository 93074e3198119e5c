//! SLA clocks: how the policy defines them, their run-time state, and the pure arithmetic that
//! starts, pauses, resumes, re-projects, stops and fires them.
//!
//! At run time a clock is a **budget** (how much measured time the target allows) plus a
//! **pause ledger**; `remaining` is measured whenever the clock changes. Its due instants
//! (warning, breach, each escalation rung) are derived from those and written into the event
//! that changed the clock, so replay never recomputes them. Each instant fires once: firing
//! is an event keyed (clock, cycle, rung), and a fired item is never due again.
//!
//! Time is *measured* on the clock's calendar for business, working-day, cut-off and window
//! targets, and as plain elapsed time for elapsed targets (or when the clock names no
//! calendar).

use crate::calendar::{BusinessCalendar, CalendarDef, CalendarError};
use crate::id::{CalendarKey, ClockKey, RoleKey, TierKey};
use crate::lifecycle::{Event, EventKind, StageKind};
use crate::model::Timestamp;
use chrono::{Duration, NaiveTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A length of time written like `90m`, `2h`, `1d12h`, `45s` (days are 24 hours).
///
/// ```
/// use plaint_core::sla::Span;
/// assert_eq!("1d2h30m".parse::<Span>().unwrap().seconds(), 95_400);
/// assert!("2 hours".parse::<Span>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Span(i64);

impl Span {
    /// The longest span accepted: 100 years of 365 days. Keeps every deadline computable.
    pub const MAX: Span = Span(100 * 365 * 86_400);

    /// A span of `seconds`.
    pub fn from_seconds(seconds: i64) -> Self {
        Self(seconds)
    }

    /// Its length in seconds.
    pub fn seconds(self) -> i64 {
        self.0
    }
}

impl std::str::FromStr for Span {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("\"{s}\" is not a span like 90m, 2h or 1d12h");
        let (mut total, mut num, mut any) = (0i64, None::<i64>, false);
        for ch in s.chars() {
            if let Some(d) = ch.to_digit(10) {
                num = Some(num.unwrap_or(0).checked_mul(10).ok_or_else(bad)? + i64::from(d));
                continue;
            }
            let unit = match ch {
                'd' => 86_400,
                'h' => 3_600,
                'm' => 60,
                's' => 1,
                _ => return Err(bad()),
            };
            total = total
                .checked_add(
                    num.take()
                        .ok_or_else(bad)?
                        .checked_mul(unit)
                        .ok_or_else(bad)?,
                )
                .ok_or_else(bad)?;
            any = true;
        }
        if num.is_some() || !any {
            return Err(bad());
        }
        if total > Self::MAX.0 {
            return Err(format!("\"{s}\" is longer than 100 years"));
        }
        Ok(Self(total))
    }
}

impl schemars::JsonSchema for Span {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Span".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^([0-9]+[dhms])+$",
            "description": "A length of time: 90m, 2h, 1d12h, 45s.",
        })
    }
}

impl TryFrom<String> for Span {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Span> for String {
    fn from(s: Span) -> String {
        s.to_string()
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut left = self.0;
        if left == 0 {
            return f.write_str("0s");
        }
        for (unit, name) in [(86_400, 'd'), (3_600, 'h'), (60, 'm'), (1, 's')] {
            if left >= unit {
                write!(f, "{}{name}", left / unit)?;
                left %= unit;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Span({self})")
    }
}

/// One clock as the policy defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockDef {
    /// Its key.
    pub key: ClockKey,
    /// Events that start it (or start a new cycle once it has stopped).
    pub start_on: Vec<EventKind>,
    /// Events that stop it.
    pub stop_on: Vec<EventKind>,
    /// Stages during which it is paused (waiting on the complainant).
    #[serde(default)]
    pub pause_while: Vec<StageKind>,
    /// Events that restart it from zero as a new cycle.
    #[serde(default)]
    pub reset_on: Vec<EventKind>,
    /// The calendar business time is measured on; none means elapsed time.
    #[serde(default)]
    pub calendar: Option<CalendarKey>,
    /// The target per tier; the clock does not run for a tier without one (nor a channel
    /// in `channel_targets`).
    #[serde(default)]
    pub targets: BTreeMap<TierKey, Target>,
    /// Targets per channel, which win over the tier's (an acknowledgement limit that depends
    /// on how the complaint arrived: online in 15 minutes, email in an hour).
    #[serde(default)]
    pub channel_targets: BTreeMap<crate::ChannelKey, Target>,
    /// When to warn before the breach.
    #[serde(default)]
    pub warning: Option<Warning>,
    /// Who is told of a breach.
    #[serde(default)]
    pub breach_notify: Option<RoleKey>,
    /// Rungs after the breach, in increasing order of `after`.
    #[serde(default)]
    pub escalation: Vec<Rung>,
    /// What happens when the clock starts outside its calendar's open time.
    #[serde(default)]
    pub after_hours: Option<AfterHours>,
    /// The longest an agreed deadline may be from the clock's start (a regulator's limit).
    #[serde(default)]
    pub agreed_max: Option<Span>,
}

/// A time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// Plain elapsed time ("within 30 minutes").
    Elapsed(Span),
    /// Open time on the clock's calendar ("within 2 working hours").
    Business(Span),
    /// The same time of day `n` working days later ("within 3 working days").
    WorkingDays(u32),
    /// A local time of day on a working day ("by 17:00", "by 17:00 the next working day").
    Cutoff {
        /// The local time.
        at: NaiveTime,
        /// 0: the first working day whose cut-off is still ahead; 1: the working day after
        /// that; …
        #[serde(default)]
        days_after: u32,
    },
    /// Act between `not_before` and `not_after` (measured like business time): acting too
    /// early is flagged, not acting by `not_after` breaches.
    Window {
        /// The earliest proper moment.
        not_before: Span,
        /// The latest.
        not_after: Span,
    },
}

/// When to warn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Warning {
    /// When this percentage of the budget is used (75 warns with a quarter left).
    Percent(u8),
    /// This long before the deadline, measured like the budget.
    Before(Span),
}

/// One escalation rung.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rung {
    /// How long after the breach, measured like the budget.
    pub after: Span,
    /// The role to notify.
    pub notify: RoleKey,
    /// Raise the complaint to this tier.
    #[serde(default)]
    pub raise_tier: Option<TierKey>,
    /// Enter the complaint in the complaint ledger (投诉台账).
    #[serde(default)]
    pub ledger: bool,
}

/// After-hours rules for a clock that starts while its calendar is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AfterHours {
    /// Tiers that cannot wait: the on-duty role is alerted at once.
    pub urgent_tiers: Vec<TierKey>,
    /// The on-duty role.
    pub notify: RoleKey,
}

/// The policy's calendars, built once when the policy is loaded.
#[derive(Debug, Clone, Default)]
pub struct Calendars {
    defs: Vec<CalendarDef>,
    built: BTreeMap<CalendarKey, Arc<BusinessCalendar>>,
}

impl Calendars {
    /// Builds every calendar.
    ///
    /// # Errors
    /// The first calendar that does not build, with its key.
    pub fn new(defs: Vec<CalendarDef>) -> Result<Self, (CalendarKey, CalendarError)> {
        let built = defs
            .iter()
            .map(|d| {
                Ok((
                    d.key.clone(),
                    Arc::new(BusinessCalendar::new(d).map_err(|e| (d.key.clone(), e))?),
                ))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { defs, built })
    }

    /// The calendar with this key.
    pub fn get(&self, key: &CalendarKey) -> Option<&BusinessCalendar> {
        self.built.get(key).map(|c| &**c)
    }

    /// The definitions, as the policy states them.
    pub fn defs(&self) -> &[CalendarDef] {
        &self.defs
    }
}

impl schemars::JsonSchema for Calendars {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Calendars".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<Vec<CalendarDef>>()
    }
}

impl PartialEq for Calendars {
    fn eq(&self, other: &Self) -> bool {
        self.defs == other.defs
    }
}

impl Serialize for Calendars {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.defs.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Calendars {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let defs = Vec::<CalendarDef>::deserialize(d)?;
        Calendars::new(defs)
            .map_err(|(key, e)| serde::de::Error::custom(format!("calendar \"{key}\": {e}")))
    }
}

/// How a clock's cycle ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// A clock of one complaint, at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

    /// Total paused time so far (an open pause counts up to `now`).
    pub fn paused_for(&self, now: Timestamp) -> Duration {
        self.pauses
            .iter()
            .map(|(a, b)| b.unwrap_or(now).max(*a) - *a)
            .fold(Duration::zero(), |x, y| x + y)
    }

    /// The next instant something of this clock fires, if it is running.
    pub fn next_due(&self) -> Option<Timestamp> {
        if !self.is_running() {
            return None;
        }
        self.pending().map(|(due, _)| due).min()
    }

    /// Items still to fire, with their due instants.
    fn pending(&self) -> impl Iterator<Item = (Timestamp, Due)> + '_ {
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
enum Due {
    Warning,
    Breach,
    Rung(u32),
}

/// How a clock measures time: a calendar, or elapsed time.
enum Measure<'a> {
    Calendar(&'a BusinessCalendar),
    Elapsed,
}

impl Measure<'_> {
    fn add(&self, from: Timestamp, secs: i64) -> Timestamp {
        match self {
            _ if secs <= 0 => from,
            Measure::Calendar(c) => c.add_business(from, Duration::seconds(secs)),
            Measure::Elapsed => from + Duration::seconds(secs),
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
            (Target::Elapsed(_), _) | (_, None) => Measure::Elapsed,
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
    fn budget(&self, def: &ClockDef, target: &Target, start: Timestamp) -> (i64, Option<i64>) {
        let m = self.measure(def, target);
        let cal = self.calendar(def);
        match *target {
            Target::Elapsed(s) | Target::Business(s) => (s.seconds(), None),
            Target::Window {
                not_before,
                not_after,
            } => (not_after.seconds(), Some(not_before.seconds())),
            Target::WorkingDays(n) => {
                let due = cal.map_or(start + Duration::days(i64::from(n)), |c| {
                    c.add_working_days(start, n)
                });
                (m.between(start, due), None)
            }
            Target::Cutoff { at, days_after } => {
                let due = match cal {
                    Some(c) => {
                        let first = c.next_cutoff(start, at);
                        let later = c.add_working_days(first, days_after);
                        if days_after == 0 { first } else { later }
                    }
                    None => {
                        let day = start.date_naive();
                        let mut due = day.and_time(at).and_utc();
                        if due < start {
                            due += Duration::days(1);
                        }
                        due + Duration::days(i64::from(days_after))
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
        let warning = def.warning.and_then(|w| {
            let margin = match w {
                Warning::Percent(p) => st.budget * (100 - i64::from(p.min(100))) / 100,
                Warning::Before(s) => s.seconds(),
            };
            (!st.warned).then(|| m.add(now, left - margin))
        });
        let not_before = match target {
            Target::Window { not_before, .. } => {
                let used = st.budget - left;
                Some(m.add(now, not_before.seconds() - used))
            }
            _ => None,
        };
        Schedule {
            warning,
            deadline: (!st.breached).then(|| m.add(now, left)),
            not_before,
            rungs: def
                .escalation
                .iter()
                .map(|r| m.add(now, left + r.after.seconds()))
                .collect(),
        }
    }

    /// The clock events that follow from `events` having turned `before` into `after`.
    pub(crate) fn follow(
        &self,
        after: &crate::Complaint,
        events: &[Event],
        default_tier: &TierKey,
        now: Timestamp,
    ) -> Vec<Event> {
        let kinds: Vec<EventKind> = events.iter().map(Event::kind).collect();
        let has = |list: &[EventKind]| kinds.iter().any(|k| list.contains(k));
        let tier = after.tier.clone().unwrap_or_else(|| default_tier.clone());
        let stage = after.stage.kind();
        let tier_changed = events.iter().find_map(|e| match e {
            Event::TierChanged { reason, .. } => Some(reason.clone()),
            _ => None,
        });
        let mut out = Vec::new();
        for def in self.defs {
            let current = after.clocks.iter().find(|c| c.clock == def.key);
            let target = def
                .channel_targets
                .get(&after.intake.channel)
                .or_else(|| def.targets.get(&tier));
            let open = current.filter(|c| c.outcome.is_none());
            let restart = match open {
                Some(_) => has(&def.reset_on),
                None => has(&def.start_on) || (current.is_some() && has(&def.reset_on)),
            };
            if restart && !stage.is_terminal() {
                if let Some(target) = target {
                    let cycle = current.map_or(1, |c| c.cycle + 1);
                    out.extend(self.start(def, target, &tier, cycle, now));
                }
                continue;
            }
            let Some(st) = open else { continue };
            if has(&def.stop_on) || stage.is_terminal() {
                out.push(Event::ClockStopped {
                    clock: def.key.clone(),
                    cycle: st.cycle,
                    outcome: outcome(st, now),
                });
                continue;
            }
            // A tier without a target of its own keeps the clock on the first target's measure.
            let Some(target) = target.or_else(|| def.targets.values().next()) else {
                continue;
            };
            let measure = self.measure(def, target);
            let pause = def.pause_while.contains(&stage);
            if st.is_running() && pause {
                out.push(Event::ClockPaused {
                    clock: def.key.clone(),
                    cycle: st.cycle,
                    remaining: st.remaining - measure.between(st.measured_at, now).max(0),
                });
            } else if st.is_paused() && !pause {
                let mut next = st.clone();
                next.measured_at = now;
                out.push(Event::ClockResumed {
                    clock: def.key.clone(),
                    cycle: st.cycle,
                    schedule: self.project(def, target, &next, now),
                });
            } else if let (Some(reason), Some(t), false) = (
                &tier_changed,
                def.targets.get(&tier),
                def.channel_targets.contains_key(&after.intake.channel),
            ) {
                // Keep the time already used; give the rest of the new tier's budget.
                let since = if st.is_running() {
                    measure.between(st.measured_at, now).max(0)
                } else {
                    0
                };
                let used = st.budget - (st.remaining - since);
                let (budget, _) = self.budget(def, t, st.started_at);
                let mut next = st.clone();
                next.budget = budget;
                next.remaining = budget - used;
                next.measured_at = now;
                out.push(Event::ClockReprojected {
                    clock: def.key.clone(),
                    cycle: st.cycle,
                    budget,
                    remaining: next.remaining,
                    schedule: st.is_running().then(|| self.project(def, t, &next, now)),
                    reason: format!("tier is now {tier}: {reason}").into(),
                });
            }
        }
        out
    }

    /// Events that start a new cycle of `def` at `now`.
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
        if let (Some(ah), Some(cal)) = (&def.after_hours, self.calendar(def))
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
        let target = def
            .channel_targets
            .get(&c.intake.channel)
            .or_else(|| def.targets.get(tier))
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

fn outcome(st: &ClockState, now: Timestamp) -> ClockOutcome {
    if st.breached || st.schedule.deadline.is_some_and(|d| now > d) {
        ClockOutcome::Breached
    } else if st.schedule.not_before.is_some_and(|nb| now < nb) {
        ClockOutcome::Early
    } else {
        ClockOutcome::Met
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse_and_print() {
        for (text, secs) in [("90m", 5400), ("2h", 7200), ("1d12h", 129_600), ("45s", 45)] {
            let s: Span = text.parse().unwrap();
            assert_eq!(s.seconds(), secs);
        }
        assert_eq!(Span::from_seconds(5400).to_string(), "1h30m");
        for bad in [
            "",
            "h",
            "12",
            "1x",
            "1h 2m",
            "99999999999999999999d",
            "36501d",
        ] {
            assert!(bad.parse::<Span>().is_err(), "{bad}");
        }
    }
}
