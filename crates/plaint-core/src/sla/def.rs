//! How the policy defines clocks: targets, warnings, escalation rungs, after-hours rules.

use crate::id::{ActionKey, CalendarKey, ClockKey, RoleKey, TierKey};
use crate::lifecycle::{Event, EventKind, StageKind};
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A length of time written like `90m`, `2h`, `1d12h`, `45s` (days are 24 hours), from zero
/// to [`Span::MAX`]. Whether zero means anything is up to the construct: a zero target or
/// warning is a policy problem, a zero escalation offset means "at the breach".
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

    /// A span of `seconds`, kept within `0 ..=` [`Span::MAX`] (so no deadline computed from
    /// a span can overflow): a negative count is zero, a longer one is `MAX`.
    pub fn from_seconds(seconds: i64) -> Self {
        Self(seconds.clamp(0, Self::MAX.0))
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
        let long = || format!("\"{s}\" is longer than 100 years");
        let (mut total, mut num, mut any) = (0i64, None::<i64>, false);
        for ch in s.chars() {
            if let Some(d) = ch.to_digit(10) {
                num = Some(
                    num.unwrap_or(0)
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(i64::from(d)))
                        .ok_or_else(long)?,
                );
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
                        .ok_or_else(long)?,
                )
                .ok_or_else(long)?;
            any = true;
        }
        if num.is_some() || !any {
            return Err(bad());
        }
        if total > Self::MAX.0 {
            return Err(long());
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
///
/// How a command moves it: the command's events are read in order; a `start_on` event starts
/// the clock (a new cycle once it has stopped), a `reset_on` event restarts it from zero,
/// a `stop_on` event stops it, and when one command matches both a start and a stop the
/// later event wins — a clock one command would start and then stop does not start (so a
/// follow-up window with `stop_on = ["followed_up", "reopened"]` does not open on an
/// unsatisfied answer, which records the answer and then reopens). A closing or withdrawal
/// stops every clock. The clock runs on the target of the complaint's tier (or, first, its
/// channel's); when the tier changes — triage, a tier change, an escalation rung — a
/// running clock keeps the time it has used and re-projects the rest onto the new tier's
/// target (`ClockReprojected` says why).
///
/// ```toml
/// [[clocks]]
/// key = "acknowledge"
/// start_on = ["received"]
/// stop_on = ["acknowledged"]
/// count_from = "first_report"
/// warning = { percent = 50 }
/// breach_notify = "service-manager"
/// targets = { general = { elapsed = "1h" }, major = { elapsed = "30m" } }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockDef {
    /// Its key.
    pub key: ClockKey,
    /// What starts it (or starts a new cycle once it has stopped): see [`Trigger`].
    pub start_on: Vec<Trigger>,
    /// What stops it: see [`Trigger`].
    pub stop_on: Vec<Trigger>,
    /// Stages during which it is paused (waiting on the complainant).
    #[serde(default)]
    pub pause_while: Vec<StageKind>,
    /// What restarts it from zero as a new cycle: see [`Trigger`].
    #[serde(default)]
    pub reset_on: Vec<Trigger>,
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
    /// Targets that apply while their condition holds, first match first; they win over
    /// the channel's and the tier's target. When the complaint changes so that another
    /// target applies (its category is set, a refund is proposed), the running clock
    /// re-projects onto it, keeping the time used.
    ///
    /// ```toml
    /// target_rules = [{ when = { remedy = "refund" }, target = { working_days = 3 } }]
    /// ```
    #[serde(default)]
    pub target_rules: Vec<TargetRule>,
    /// The clock starts (or restarts) only when this holds for the complaint as the
    /// command leaves it (the condition language of [`crate::Condition`]).
    ///
    /// ```toml
    /// start_on = ["satisfaction_recorded"]
    /// start_when = { satisfied = true }
    /// ```
    #[serde(default)]
    pub start_when: Option<crate::Condition>,
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
    /// What the time limit counts from: the event that starts the clock (the default), or
    /// the moment the customer first reported the complaint (the intake's `received_at`), so
    /// a call registered two minutes after it came in is not given two extra minutes.
    ///
    /// ```toml
    /// [[clocks]]
    /// key = "answer-call"
    /// start_on = ["received"]
    /// stop_on = ["acknowledged"]
    /// count_from = "first_report"
    /// targets = { general = { elapsed = "5m" } }
    /// ```
    #[serde(default)]
    pub count_from: CountFrom,
}

impl ClockDef {
    /// Every target of the clock with its path under the clock and, for a tier's, the tier:
    /// the tiers' (`targets.major`), the channels' (`channel_targets.app`), then the target
    /// rules' (`target_rules[0].target`).
    pub fn all_targets(&self) -> impl Iterator<Item = (String, &Target, Option<&TierKey>)> + '_ {
        let tiers = self
            .targets
            .iter()
            .map(|(k, t)| (format!("targets.{k}"), t, Some(k)));
        let channels = self
            .channel_targets
            .iter()
            .map(|(k, t)| (format!("channel_targets.{k}"), t, None));
        let rules = self
            .target_rules
            .iter()
            .enumerate()
            .map(|(r, rule)| (format!("target_rules[{r}].target"), &rule.target, None));
        tiers.chain(channels).chain(rules)
    }
}

/// A target that applies while its condition holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetRule {
    /// The condition.
    pub when: crate::Condition,
    /// The target while it holds.
    pub target: Target,
}

/// What a clock's time limit counts from.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CountFrom {
    /// The command that starts the clock (its `now`).
    #[default]
    Start,
    /// The customer's first report: the intake's `received_at`. A cycle that starts later
    /// (after a reset) counts from its own start.
    FirstReport,
}

/// What a clock starts, stops or resets on (`start_on`, `stop_on`, `reset_on`), written as a
/// string:
///
/// - an event's name: `"routed"`, `"feedback_given"`, `"clock_breached"` (any clock's breach),
///   `"action_recorded"` (any action);
/// - `"action:<key>"`: the policy's action `<key>` was recorded (see `actions`);
/// - `"clock_warned:<clock>"`, `"clock_breached:<clock>"`, `"rung_reached:<clock>"`: the
///   warning, the breach or an escalation rung of the clock `<clock>` (the same clock too: a
///   clock that resets on its own breach starts its next cycle at each breach). These fire when
///   the engine ticks, and the clocks that react to them start, stop or reset in the same tick.
///
/// The loader refuses an unknown action or clock, with its path.
///
/// ```toml
/// [[clocks]]
/// key = "callback"
/// start_on = ["clock_breached:investigation"]   # late: call the customer back
/// stop_on = ["action:callback"]
/// targets = { general = { elapsed = "2h" } }
/// ```
///
/// ```
/// use plaint_core::sla::Trigger;
/// let t: Trigger = "clock_breached:investigation".parse().unwrap();
/// assert_eq!(t.to_string(), "clock_breached:investigation");
/// assert!("routed".parse::<Trigger>().is_ok());
/// assert!("action:callback".parse::<Trigger>().is_ok());
/// assert!("clock_started:investigation".parse::<Trigger>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[non_exhaustive]
pub enum Trigger {
    /// Any event of this kind.
    Event(EventKind),
    /// The action with this key was recorded.
    Action(ActionKey),
    /// The clock `clock` warned, breached or reached a rung (`kind` is one of
    /// [`EventKind::ClockWarned`], [`EventKind::ClockBreached`], [`EventKind::RungReached`]).
    Clock {
        /// The kind of the clock's event.
        kind: EventKind,
        /// The clock.
        clock: ClockKey,
    },
}

impl Trigger {
    /// The event kinds a trigger of another clock may name.
    const CLOCK_KINDS: [EventKind; 3] = [
        EventKind::ClockWarned,
        EventKind::ClockBreached,
        EventKind::RungReached,
    ];

    /// Whether `event` is what this trigger waits for.
    pub fn matches(&self, event: &Event) -> bool {
        match self {
            Self::Event(kind) => event.kind() == *kind,
            Self::Action(key) => {
                matches!(event, Event::ActionRecorded { action, .. } if action == key)
            }
            Self::Clock { kind, clock } => {
                event.kind() == *kind
                    && matches!(
                        event,
                        Event::ClockWarned { clock: c, .. }
                            | Event::ClockBreached { clock: c, .. }
                            | Event::RungReached { clock: c, .. } if c == clock
                    )
            }
        }
    }

    /// The kind of event this trigger waits for.
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Event(kind) | Self::Clock { kind, .. } => *kind,
            Self::Action(_) => EventKind::ActionRecorded,
        }
    }

    /// Whether every event of kind `kind` matches (not only some of them: a named action or
    /// clock is one of many).
    pub fn matches_every(&self, kind: EventKind) -> bool {
        matches!(self, Self::Event(k) if *k == kind)
    }
}

impl std::str::FromStr for Trigger {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let event = |name: &str| {
            use serde::de::IntoDeserializer;
            let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
                name.into_deserializer();
            EventKind::deserialize(de).map_err(|e| {
                format!(
                    "{e}; or action:<key>, clock_warned:<clock>, clock_breached:<clock> or \
                     rung_reached:<clock>"
                )
            })
        };
        match s.split_once(':') {
            None => event(s).map(Self::Event),
            Some(("action", key)) => ActionKey::new(key)
                .map(Self::Action)
                .map_err(|e| format!("action \"{key}\": {e}")),
            Some((name, clock)) => {
                let kind = event(name)?;
                if !Self::CLOCK_KINDS.contains(&kind) {
                    return Err(format!(
                        "\"{s}\": a named clock's warning, breach or rung can be a trigger \
                         (clock_warned:<clock>, clock_breached:<clock>, rung_reached:<clock>), \
                         not its {name}"
                    ));
                }
                let clock = ClockKey::new(clock).map_err(|e| format!("clock \"{clock}\": {e}"))?;
                Ok(Self::Clock { kind, clock })
            }
        }
    }
}

impl TryFrom<String> for Trigger {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Trigger> for String {
    fn from(t: Trigger) -> String {
        t.to_string()
    }
}

impl From<EventKind> for Trigger {
    fn from(kind: EventKind) -> Self {
        Self::Event(kind)
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Event(kind) => f.write_str(kind.name()),
            Self::Action(key) => write!(f, "action:{key}"),
            Self::Clock { kind, clock } => write!(f, "{}:{clock}", kind.name()),
        }
    }
}

impl schemars::JsonSchema for Trigger {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Trigger".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let events = generator.subschema_for::<EventKind>();
        schemars::json_schema!({
            "description": "An event's name, action:<key>, or clock_warned:<clock>, clock_breached:<clock>, rung_reached:<clock>.",
            "anyOf": [
                events,
                { "type": "string", "pattern": "^action:[A-Za-z0-9._:/-]{1,64}$" },
                { "type": "string", "pattern": "^(clock_warned|clock_breached|rung_reached):[A-Za-z0-9._:/-]{1,64}$" }
            ]
        })
    }
}

/// A time limit.
///
/// Targets counted in days follow the law's rule (Civil Code of the PRC arts. 201–204, as
/// most legal systems count): the day the clock starts does not count; the period ends at the
/// end of its last day — the close of business on the clock's calendar (24:00 when it is
/// always open); a last day on which the calendar does not open moves to the next day on
/// which it does. See [`crate::calendar`] for the exact rules.
///
/// ```
/// use plaint_core::sla::Target;
/// let t: std::collections::BTreeMap<String, Target> = toml::from_str(r#"
///     reply = { working_days = 3 }
///     refund = { days = 7 }
///     follow_up = { day_window = { from = 5, to = 7 } }
///     callback = { working_days_same_time = 1 }
/// "#).unwrap();
/// assert_eq!(t["follow_up"], Target::DayWindow { from: 5, to: 7 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// "Handle at once" (立即处理): no deadline to breach; the clock's `breach_notify` role
    /// is alerted the moment the clock starts (the `at_once` notification moment), escalation rungs count
    /// from the start, and reports measure how long handling took.
    ///
    /// ```toml
    /// targets = { general = { elapsed = "2h" }, urgent = "at_once" }
    /// ```
    AtOnce,
    /// Plain elapsed time ("within 30 minutes").
    Elapsed(Span),
    /// Open time on the clock's calendar ("within 2 working hours"): `business = "2h"`. A
    /// day here is 24 hours of open time (three working days of 8 hours); for days as the
    /// law counts them write `working_days` or `days`.
    Business(Span),
    /// `n` working days as the law counts them ("within 3 working days"):
    /// `working_days = 3`. The start's date does not count; the deadline is the closing time
    /// of the `n`-th following day on which the calendar opens. From Monday 08:00, before
    /// opening, `working_days = 1` is due at Tuesday's closing time; from Friday 17:45 it is
    /// due at Monday's. Measured in open time (pauses, warnings and rungs count working
    /// hours). Needs the clock's calendar.
    WorkingDays(u32),
    /// `n` working days read as "the same time of day `n` working days later", for a
    /// procedure that means exactly that: `working_days_same_time = 3` from Friday 15:00 is
    /// due on Wednesday at 15:00, whether or not the calendar is open then. Measured in
    /// elapsed time, so the deadline is that instant exactly. Needs the clock's calendar.
    WorkingDaysSameTime(u32),
    /// `n` calendar days as the law counts them ("within 7 days"): `days = 7`. The start's
    /// date does not count; the deadline is the end of the `n`-th date after it — its
    /// closing time on the clock's calendar (24:00 when always open) — or, when the calendar
    /// does not open that day (a weekend, a holiday), the close of the next day it opens.
    /// Measured in elapsed time: the days run through nights and weekends. Needs the
    /// clock's calendar (its time zone says where a day ends).
    Days(u32),
    /// A local time of day on a working day ("by 17:00", "by 17:00 the next working day"),
    /// an instant on the wall clock: measured in elapsed time (pauses, warnings and rungs
    /// too), so a cut-off after closing time is kept exactly.
    /// `cutoff = { at = "17:00:00", days_after = 1 }`.
    Cutoff {
        /// The local time.
        at: NaiveTime,
        /// 0: the first working day whose cut-off is still ahead ("by 17:00"); `n`: the
        /// `n`-th working day after the start's date, as the law counts days — the start's
        /// date does not count, whatever its hour (from Monday 17:30 or from Saturday, "by
        /// 17:00 the next working day" is Tuesday's or Monday's 17:00).
        #[serde(default)]
        days_after: u32,
    },
    /// Act between `not_before` and `not_after`, spans from the start measured like business
    /// time on the clock's calendar (elapsed time without one):
    /// `window = { not_before = "2h", not_after = "4h" }`. Acting too early is flagged, not
    /// acting by `not_after` breaches. For days, write a `day_window`: on a business calendar
    /// `"5d"` here is 120 hours of open time (the loader warns).
    Window {
        /// The earliest proper moment.
        not_before: Span,
        /// The latest.
        not_after: Span,
    },
    /// Act between day `from` and day `to` after the start, counting dates as the law does
    /// ("follow up between day 5 and day 7 after the result"):
    /// `day_window = { from = 5, to = 7 }`. Acting before day `from` begins (local midnight;
    /// day 0 is the start's date) is flagged; not acting by the end of day `to` — counted
    /// like `days = to` — breaches. Measured in elapsed time. Needs the clock's calendar.
    DayWindow {
        /// The first proper day (0: the start's date).
        from: u32,
        /// The last proper day, at least 1 and not before `from`.
        to: u32,
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
            "9223372036854775808s",
            "9223372036854775807s",
            "922337203685477580d",
            "1d9223372036854775807s",
        ] {
            assert!(bad.parse::<Span>().is_err(), "{bad}");
        }
    }
}
