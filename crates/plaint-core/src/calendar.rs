//! Business calendars: when a unit is open, and deadline arithmetic over open time.
//!
//! A [`BusinessCalendar`] is built from a [`CalendarDef`] (part of the policy): an IANA time
//! zone, weekly opening hours (several intervals a day; an interval whose end is not after
//! its start crosses midnight), public holidays, per-date overrides (a make-up working
//! Saturday with its hours, 调休; a closed day; a short day), or always open (24/7).
//!
//! # Semantics
//! - Time is counted in **real elapsed seconds** at one-second resolution (sub-second parts of
//!   inputs are dropped). Open intervals are given in local civil time and converted exactly.
//! - An interval belongs to the date it **starts** on. An override or holiday replaces the
//!   intervals starting on its date; a night shift that began the evening before still runs
//!   into it. Overlapping intervals count once.
//! - **DST gap**: a local time that does not exist (02:30 on a spring-forward night) is taken
//!   as the first instant after the gap. **DST overlap**: a local time that occurs twice is
//!   taken at its first occurrence. An interval spanning a transition is as long as the real
//!   time that passes (a 22:00–06:00 shift is 7 h on a spring-forward night).
//! - [`add_business`](BusinessCalendar::add_business)`(start, d)` is the earliest instant `t`
//!   with `business_between(start, t) == d`: a start outside open time waits for the next
//!   opening; a zero duration returns `start` itself; a deadline that lands exactly on a
//!   closing time is that closing time (not the next opening).
//! - [`add_working_days`](BusinessCalendar::add_working_days)`(start, n)` keeps the local time
//!   of day and moves to the `n`-th working day after the start's date (a working day has
//!   at least one interval starting on it): "3 working days from Friday 15:00" is Wednesday
//!   15:00 when Monday to Friday are working days.
//! - Periods in days are counted as the law counts them (Civil Code of the PRC arts. 201–204,
//!   the rule of most legal systems): the day a period starts does not count; it ends at the
//!   end of its last day, which is the close of business where the unit keeps business hours
//!   (the latest end of the hours starting on that day, a night shift's next morning
//!   included) and 24:00 on an always-open calendar; a last day on which the unit does not
//!   open (a weekend, a holiday) gives way to the next day on which it does.
//!   [`end_of_working_days`](BusinessCalendar::end_of_working_days)`(start, n)` ends on the
//!   `n`-th day after the start's date on which the unit opens: "1 working day" from Monday
//!   08:00, before opening, ends at Tuesday's closing time.
//!   [`end_of_days`](BusinessCalendar::end_of_days)`(start, n)` ends on the `n`-th date after
//!   the start's, or the next day the unit opens.
//!   [`start_of_day`](BusinessCalendar::start_of_day)`(start, n)` is the local midnight
//!   beginning the `n`-th date after the start's. Hours lying wholly inside a DST gap (02:00–
//!   02:30 on a spring-forward night) have no real length and are no opening.
//! - [`next_cutoff`](BusinessCalendar::next_cutoff)`(start, 17:00)` is 17:00 local on the first
//!   working day whose 17:00 is not before `start`.
//!
//! # Cost
//! Nothing steps minute by minute. `add_business` walks only the start's day and the day it
//! ends on: the days between come from a per-year index of open seconds by day (prefix
//! sums, built on first use of a year, about 3 KB each), searched by bisection, so a limit
//! of 30 working days costs about what one of an hour does. Elsewhere (and outside
//! 1970–2100) whole weeks are measured in one pass. Holidays, overrides and DST transitions
//! are found by binary search; transitions are precomputed for 1970–2100 when the calendar
//! is built.
//!
//! # Range
//! Answers are exact for instants from 1970 through 2100, the range the time-zone table
//! covers (the engine accepts no instant outside it: [`crate::EARLIEST`], [`crate::LATEST`]).
//! chrono-tz's data end with 2099; each zone's clock changes of 2099 are carried into 2100
//! by the rule they follow (the last or n-th weekday of the month), as the tz database's
//! open-ended rules do.
//! No input panics or runs away: instants before 1900 or after 2499 are taken as those
//! ends, business durations as at most 100 years and day counts as at most 36,500.

use crate::id::CalendarKey;
use crate::model::Timestamp;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

const DAY: i64 = 86_400;

/// The instants a calendar computes on, in UTC seconds: 1900-01-01 ..= 2500-01-01.
const FIRST_SECOND: i64 = -2_208_988_800;
const LAST_SECOND: i64 = 16_725_225_600;
/// The longest business duration and working-day count a calendar adds (100 years).
const MAX_SECONDS: i64 = 100 * 365 * DAY;
const MAX_WORKING_DAYS: u32 = 36_500;

/// `t` in UTC seconds, within the range a calendar computes on.
fn seconds(t: Timestamp) -> i64 {
    t.timestamp().clamp(FIRST_SECOND, LAST_SECOND)
}

/// A calendar as the policy states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDef {
    /// Its key, referenced by clocks.
    pub key: CalendarKey,
    /// An IANA time zone name (`Asia/Shanghai`).
    pub time_zone: String,
    /// Open all the time (a 24/7 hotline); the weekly hours are then ignored.
    #[serde(default)]
    pub always_open: bool,
    /// Regular weekly opening hours.
    #[serde(default)]
    pub week: WeekHours,
    /// Dates closed all day.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// Dates with their own hours (a make-up working Saturday, a short day; no hours: closed).
    #[serde(default)]
    pub overrides: Vec<DayOverride>,
}

/// Opening hours for each weekday.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // one field per weekday
pub struct WeekHours {
    #[serde(default)]
    pub mon: Vec<Hours>,
    #[serde(default)]
    pub tue: Vec<Hours>,
    #[serde(default)]
    pub wed: Vec<Hours>,
    #[serde(default)]
    pub thu: Vec<Hours>,
    #[serde(default)]
    pub fri: Vec<Hours>,
    #[serde(default)]
    pub sat: Vec<Hours>,
    #[serde(default)]
    pub sun: Vec<Hours>,
}

/// One open interval in local time. `to` not after `from` means it ends the next day
/// (`22:00`–`06:00`); `from == to` is a whole 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    /// Opening time (`"09:00"`).
    pub from: NaiveTime,
    /// Closing time (`"17:30"`).
    pub to: NaiveTime,
}

/// A date with its own hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DayOverride {
    /// The date.
    pub date: NaiveDate,
    /// Its hours; empty means closed.
    #[serde(default)]
    pub hours: Vec<Hours>,
}

/// Why a calendar could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// The time zone is not an IANA name.
    #[error("unknown time zone \"{0}\"")]
    UnknownTimeZone(String),
    /// No weekly hours and not always open: no deadline could ever be reached.
    #[error("the calendar is never open in a regular week")]
    NeverOpen,
    /// A date is listed twice among holidays and overrides.
    #[error("{0} is listed more than once among holidays and overrides")]
    DuplicateDate(NaiveDate),
}

/// Local intervals of one day, in seconds from that day's local midnight (end may pass 86 400).
type Spans = Vec<(i64, i64)>;

/// A built calendar: pure, cheap to query, never loops.
///
/// ```
/// use plaint_core::calendar::{BusinessCalendar, CalendarDef};
/// let def: CalendarDef = toml::from_str(r#"
///     key = "office"
///     time_zone = "Asia/Shanghai"
///     holidays = ["2026-10-01"]
///     [week]
///     mon = [{ from = "09:00:00", to = "12:00:00" }, { from = "13:00:00", to = "18:00:00" }]
///     tue = [{ from = "09:00:00", to = "18:00:00" }]
///     wed = [{ from = "09:00:00", to = "18:00:00" }]
///     thu = [{ from = "09:00:00", to = "18:00:00" }]
///     fri = [{ from = "09:00:00", to = "18:00:00" }]
/// "#).unwrap();
/// let cal = BusinessCalendar::new(&def).unwrap();
/// // Friday 2026-11-20 17:00 Shanghai (09:00 UTC) + 2 working hours = Monday 10:00.
/// let start = "2026-11-20T09:00:00Z".parse().unwrap();
/// let due = cal.add_business(start, chrono::Duration::hours(2));
/// assert_eq!(due.to_rfc3339(), "2026-11-23T02:00:00+00:00");
/// ```
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    always_open: bool,
    zone: Zone,
    /// Monday first.
    week: [Spans; 7],
    /// Sorted by day number (days since 1970-01-01); holidays have no spans.
    exceptions: Vec<(i64, Spans)>,
    /// Open seconds of one plain week (every day and the day before it regular, no DST change).
    week_total: i64,
    /// Working days in a plain week.
    week_working_days: u32,
    /// Per-year prefix sums of open seconds by day, built on first use (1970–2100).
    years: Vec<OnceLock<YearTable>>,
}

/// Open seconds of the intervals starting on each day of one local year, as prefix sums.
#[derive(Debug, Clone)]
struct YearTable {
    /// The year's first day (days since 1970-01-01).
    first_day: i64,
    /// `cum[k]`: open seconds of the intervals starting on the year's first `k` days.
    cum: Box<[i64]>,
}

/// The years the day index covers.
const INDEX_FIRST_YEAR: i32 = 1970;
const INDEX_YEARS: usize = 131;

impl BusinessCalendar {
    /// Builds and checks a calendar.
    ///
    /// # Errors
    /// [`CalendarError`] for an unknown time zone, a calendar that is never open, or a date
    /// listed twice.
    pub fn new(def: &CalendarDef) -> Result<Self, CalendarError> {
        let tz = Tz::from_str(&def.time_zone)
            .map_err(|_| CalendarError::UnknownTimeZone(def.time_zone.clone()))?;
        let w = &def.week;
        let week = [&w.mon, &w.tue, &w.wed, &w.thu, &w.fri, &w.sat, &w.sun].map(|h| spans(h));
        let mut exceptions: Vec<(i64, Spans)> = def
            .holidays
            .iter()
            .map(|d| (day_number(*d), Vec::new()))
            .chain(
                def.overrides
                    .iter()
                    .map(|o| (day_number(o.date), spans(&o.hours))),
            )
            .collect();
        exceptions.sort_by_key(|(d, _)| *d);
        if let Some(w) = exceptions.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(CalendarError::DuplicateDate(day_date(w[0].0)));
        }
        let mut cal = Self {
            always_open: def.always_open,
            zone: Zone::new(tz),
            week,
            exceptions,
            week_total: 0,
            week_working_days: 0,
            years: (0..INDEX_YEARS).map(|_| OnceLock::new()).collect(),
        };
        // One plain week: each weekday's intervals clipped by the previous weekday's spill.
        let mut total = 0;
        for wd in 0..7 {
            let prev_end = cal.week[(wd + 6) % 7]
                .iter()
                .map(|s| s.1 - DAY)
                .max()
                .unwrap_or(0);
            let mut end = prev_end.max(0);
            for &(a, b) in &cal.week[wd] {
                let a = a.max(end);
                if b > a {
                    total += b - a;
                    end = b;
                }
            }
        }
        cal.week_total = total;
        cal.week_working_days = cal.week.iter().filter(|s| !s.is_empty()).count() as u32;
        if !cal.always_open && cal.week_total == 0 {
            return Err(CalendarError::NeverOpen);
        }
        Ok(cal)
    }

    /// Whether `t` is inside open time.
    pub fn is_open(&self, t: Timestamp) -> bool {
        if self.always_open {
            return true;
        }
        let u = seconds(t);
        Walk::new(self, u).next_interval().0 <= u
    }

    /// `t` if open, otherwise the next opening.
    pub fn next_open(&self, t: Timestamp) -> Timestamp {
        if self.always_open {
            return t;
        }
        let u = seconds(t);
        let (a, _) = Walk::new(self, u).next_interval();
        if a <= u { t } else { at(a) }
    }

    /// Open time in `[a, b)`; zero when `b` is not after `a`.
    pub fn business_between(&self, a: Timestamp, b: Timestamp) -> Duration {
        let (a, b) = (seconds(a), seconds(b));
        if b <= a {
            return Duration::zero();
        }
        if self.always_open {
            return Duration::seconds(b - a);
        }
        let mut walk = Walk::new(self, a);
        let mut total = 0;
        loop {
            if let Some((week, last_end)) = walk.next_week(b) {
                total += week;
                walk.skip_week(last_end);
                continue;
            }
            let (s, e) = walk.next_interval();
            if s >= b {
                return Duration::seconds(total);
            }
            total += e.min(b) - s;
        }
    }

    /// The earliest instant by which `duration` of open time has passed since `start`
    /// (see the module docs for the exact rules).
    pub fn add_business(&self, start: Timestamp, duration: Duration) -> Timestamp {
        let need = duration.num_seconds().min(MAX_SECONDS);
        if need <= 0 {
            return start;
        }
        let u = seconds(start);
        if self.always_open {
            return at(u + need);
        }
        let first = self.zone.local(u).div_euclid(DAY);
        // The start's own day (and yesterday's night shift), interval by interval.
        let mut left = match Walk::new(self, u).spend_until(first, need) {
            Ok(due) => return due,
            Err(left) => left,
        };
        // From the next day on, whole days come from the prefix-sum index: the day that
        // reaches `left` is found by binary search, then walked to the second.
        let mut day = first + 1;
        while let Some(table) = self.year_table(day) {
            let off = (day - table.first_day) as usize;
            let end = table.cum.len() - 1;
            let rest = table.cum[end] - table.cum[off];
            if rest < left {
                left -= rest;
                day = table.first_day + end as i64;
                continue;
            }
            let target = table.cum[off] + left;
            let k = table.cum.partition_point(|&c| c < target) - 1;
            left -= table.cum[k] - table.cum[off];
            let x = table.first_day + k as i64;
            if let Ok(due) = Walk::at_day(self, x).spend_until(x, left) {
                return due;
            }
            // The index counted this day's open time, so the day suffices; should it ever
            // not, the walk below answers instead of failing.
            day = x;
            break;
        }
        // Outside the index (before 1970, after 2100): walk, skipping whole weeks.
        let mut walk = Walk::at_day(self, day);
        loop {
            if let Some((week, last_end)) = walk.next_week(i64::MAX).filter(|w| w.0 < left) {
                left -= week;
                walk.skip_week(last_end);
                continue;
            }
            let (s, e) = walk.next_interval();
            if e - s >= left {
                return at(s + left);
            }
            left -= e - s;
        }
    }

    /// Where a walk that reached the start of `day` stands: the end of the previous day's
    /// intervals if they run into `day`, else `day`'s midnight (as an instant).
    fn natural_floor(&self, day: i64) -> i64 {
        let spill = self
            .spans_of(day - 1)
            .iter()
            .map(|s| (day - 1) * DAY + s.1)
            .max();
        self.zone.utc(spill.unwrap_or(i64::MIN).max(day * DAY))
    }

    /// Open seconds of the intervals starting on `day`, given a walk that reached it.
    fn day_open(&self, day: i64) -> i64 {
        let mut walk = Walk::at_day(self, day);
        std::iter::from_fn(|| walk.next_interval_until(day))
            .map(|(s, e)| e - s)
            .sum()
    }

    /// The prefix-sum table of the local year containing `day`, built on first use.
    fn year_table(&self, day: i64) -> Option<&YearTable> {
        let year = day_date(day).year();
        let slot = self
            .years
            .get(usize::try_from(year - INDEX_FIRST_YEAR).ok()?)?;
        Some(slot.get_or_init(|| {
            let first = day_number(NaiveDate::from_ymd_opt(year, 1, 1).expect("valid"));
            let next = day_number(NaiveDate::from_ymd_opt(year + 1, 1, 1).expect("valid"));
            let mut cum = Vec::with_capacity((next - first + 1) as usize);
            cum.push(0);
            for d in first..next {
                let last = *cum.last().expect("not empty");
                cum.push(last + self.day_open(d));
            }
            YearTable {
                first_day: first,
                cum: cum.into(),
            }
        }))
    }

    /// The same local time of day on the `n`-th working day after `start`'s local date.
    pub fn add_working_days(&self, start: Timestamp, n: u32) -> Timestamp {
        if n == 0 {
            return start;
        }
        let local = self.zone.local(seconds(start));
        let (date, secs) = (local.div_euclid(DAY), local.rem_euclid(DAY));
        let date = self.nth_day_after(date, n, false);
        at(self.zone.utc(date * DAY + secs))
    }

    /// The end of a period of `n` working days from `start`, as the law counts it: the
    /// start's own (local) date does not count, the `n`-th day after it on which the unit
    /// opens is the last day, and the period ends at that day's close of business (24:00 on an
    /// always-open calendar). `n` = 0 is `start` itself.
    pub fn end_of_working_days(&self, start: Timestamp, n: u32) -> Timestamp {
        if n == 0 {
            return start;
        }
        let date = self.zone.local(seconds(start)).div_euclid(DAY);
        let last = self.nth_day_after(date, n, true);
        at(self.close_of(last).expect("the last day opens"))
    }

    /// The end of a period of `n` days from `start`, as the law counts it: the start's own
    /// (local) date does not count, so the `n`-th date after it is the last day; a last day
    /// on which the unit does not open (a weekend, a holiday) gives way to the next day on
    /// which it does; the period ends at that day's close of business (24:00 on an
    /// always-open calendar). `n` = 0 is `start` itself.
    pub fn end_of_days(&self, start: Timestamp, n: u32) -> Timestamp {
        if n == 0 {
            return start;
        }
        let n = n.min(MAX_WORKING_DAYS);
        let mut last = self.zone.local(seconds(start)).div_euclid(DAY) + i64::from(n);
        loop {
            if let Some(close) = self.close_of(last) {
                return at(close);
            }
            last += 1;
        }
    }

    /// The start (local midnight, or the end of a DST gap at midnight) of the `n`-th date
    /// after `start`'s local date: day 0 is the start's own date.
    pub fn start_of_day(&self, start: Timestamp, n: u32) -> Timestamp {
        let n = n.min(MAX_WORKING_DAYS);
        let date = self.zone.local(seconds(start)).div_euclid(DAY) + i64::from(n);
        at(self.zone.utc(date * DAY))
    }

    /// The `n`-th day after `date` (days since 1970-01-01) that is a working day, for `n` ≥ 1
    /// (at most [`MAX_WORKING_DAYS`]): a day with hours, or, when `opens`, a day with hours
    /// of real length (see [`Self::close_of`]). Weeks without holidays, overrides or DST
    /// changes are skipped whole.
    fn nth_day_after(&self, mut date: i64, n: u32, opens: bool) -> i64 {
        let mut left = n.clamp(1, MAX_WORKING_DAYS);
        if self.always_open {
            return date + i64::from(left);
        }
        let zone = &self.zone;
        loop {
            if left > self.week_working_days
                && self.plain(date + 1, date + 7)
                && !(opens
                    && zone.changes_between(zone.utc(date * DAY), zone.utc((date + 9) * DAY)))
            {
                left -= self.week_working_days;
                date += 7;
                continue;
            }
            date += 1;
            let working = if opens {
                self.close_of(date).is_some()
            } else {
                !self.spans_of(date).is_empty()
            };
            if working {
                left -= 1;
                if left == 0 {
                    return date;
                }
            }
        }
    }

    /// The close of business of day `day` as a UTC second: the latest end of the intervals
    /// starting on it that have real length (an interval wholly inside a DST gap is no
    /// opening), or the next local midnight on an always-open calendar; `None` when the unit
    /// does not open that day.
    fn close_of(&self, day: i64) -> Option<i64> {
        if self.always_open {
            return Some(self.zone.utc((day + 1) * DAY));
        }
        let base = day * DAY;
        self.spans_of(day)
            .iter()
            .map(|&(a, b)| (self.zone.utc(base + a), self.zone.utc(base + b)))
            .filter(|(s, e)| e > s)
            .map(|(_, e)| e)
            .max()
    }

    /// `time` (local) on the `n`-th working day after `start`'s local date, as the law reads
    /// "by 17:00 the next working day" (`n` = 1): the start's own date does not count,
    /// whatever its hour. `n` = 0 is [`next_cutoff`](Self::next_cutoff): the first working day
    /// whose `time` is still ahead.
    pub fn cutoff_after_working_days(
        &self,
        start: Timestamp,
        time: NaiveTime,
        n: u32,
    ) -> Timestamp {
        if n == 0 {
            return self.next_cutoff(start, time);
        }
        let date = self.zone.local(seconds(start)).div_euclid(DAY);
        let day = self.nth_day_after(date, n, true);
        at(self
            .zone
            .utc(day * DAY + i64::from(time.num_seconds_from_midnight())))
    }

    /// `time` (local) on the first working day on which that moment is not before `start`.
    pub fn next_cutoff(&self, start: Timestamp, time: NaiveTime) -> Timestamp {
        let u = seconds(start);
        let secs = i64::from(time.num_seconds_from_midnight());
        let mut date = self.zone.local(u).div_euclid(DAY);
        loop {
            let working = self.always_open || !self.spans_of(date).is_empty();
            let cut = self.zone.utc(date * DAY + secs);
            if working && cut >= u {
                return at(cut);
            }
            date += 1;
        }
    }

    /// Whether `date` is a working day (it has opening hours).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.always_open || !self.spans_of(day_number(date)).is_empty()
    }

    /// The intervals starting on day `day` (days since 1970-01-01, a Thursday).
    fn spans_of(&self, day: i64) -> &[(i64, i64)] {
        match self.exceptions.binary_search_by_key(&day, |(d, _)| *d) {
            Ok(i) => &self.exceptions[i].1,
            Err(_) => &self.week[(day + 3).rem_euclid(7) as usize],
        }
    }

    /// No holiday or override on any day in `first..=last`.
    fn plain(&self, first: i64, last: i64) -> bool {
        let i = self.exceptions.partition_point(|(d, _)| *d < first);
        self.exceptions.get(i).is_none_or(|(d, _)| *d > last)
    }
}

fn spans(hours: &[Hours]) -> Spans {
    let mut v: Spans = hours
        .iter()
        .map(|h| {
            let a = i64::from(h.from.num_seconds_from_midnight());
            let b = i64::from(h.to.num_seconds_from_midnight());
            (a, if b <= a { b + DAY } else { b })
        })
        .collect();
    v.sort_unstable();
    v
}

fn at(u: i64) -> Timestamp {
    DateTime::from_timestamp(u, 0).expect("in range")
}

fn day_date(days: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((days + 719_163) as i32).expect("in range")
}

fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - 719_163
}

/// Walks open intervals forward in time, as real (UTC) seconds, clipped to start no earlier
/// than `from` and never overlapping.
struct Walk<'a> {
    cal: &'a BusinessCalendar,
    /// The local date (days since 1970-01-01) whose intervals come next.
    date: i64,
    /// Index of the next interval of `date`.
    idx: usize,
    /// Nothing before this UTC instant counts (the start, then the end of the last interval).
    floor: i64,
}

impl<'a> Walk<'a> {
    fn new(cal: &'a BusinessCalendar, from: i64) -> Self {
        // Yesterday's night shift may still be running.
        let date = cal.zone.local(from).div_euclid(DAY) - 1;
        Self {
            cal,
            date,
            idx: 0,
            floor: from,
        }
    }

    /// A walk standing at the start of `day`, as if it had walked every day before it.
    fn at_day(cal: &'a BusinessCalendar, day: i64) -> Self {
        Self {
            cal,
            date: day,
            idx: 0,
            floor: cal.natural_floor(day),
        }
    }

    /// Spends `left` open seconds on intervals starting up to day `last`: the instant they
    /// run out, or what is still left.
    fn spend_until(&mut self, last: i64, mut left: i64) -> Result<Timestamp, i64> {
        while let Some((s, e)) = self.next_interval_until(last) {
            if e - s >= left {
                return Ok(at(s + left));
            }
            left -= e - s;
        }
        Err(left)
    }

    /// The next open interval that starts on a day up to `last`; `None` once past it.
    fn next_interval_until(&mut self, last: i64) -> Option<(i64, i64)> {
        loop {
            if self.date > last {
                return None;
            }
            let spans = self.cal.spans_of(self.date);
            let Some(&(a, b)) = spans.get(self.idx) else {
                self.date += 1;
                self.idx = 0;
                continue;
            };
            self.idx += 1;
            let base = self.date * DAY;
            let (s, e) = (self.cal.zone.utc(base + a), self.cal.zone.utc(base + b));
            let s = s.max(self.floor);
            if e > s {
                self.floor = e;
                return Some((s, e));
            }
        }
    }

    /// The next open interval `[start, end)` in UTC seconds. Always exists: a built calendar
    /// opens in every regular week, and holidays and overrides are finitely many.
    fn next_interval(&mut self) -> (i64, i64) {
        self.next_interval_until(i64::MAX)
            .expect("a calendar that opens every week has a next interval")
    }

    /// If the intervals starting on the next seven days can be counted at once, their open
    /// time and the local end of the last one. That needs the walk at the start of a day with
    /// nothing of that day consumed yet, and every interval ending by `limit`.
    fn next_week(&mut self, limit: i64) -> Option<(i64, i64)> {
        // A day whose intervals are all consumed is the start of the next day.
        if self.idx >= self.cal.spans_of(self.date).len() {
            self.date += 1;
            self.idx = 0;
        }
        let zone = &self.cal.zone;
        if self.idx != 0 || (limit != i64::MAX && zone.utc((self.date + 8) * DAY) > limit) {
            return None;
        }
        // Near a DST transition, local and real seconds differ: measure each interval.
        let dst = zone.changes_between((self.date - 2) * DAY, (self.date + 9) * DAY);
        // Local accounting, with each day clipped by what the days before it still cover.
        let mut end = (self.date - 1) * DAY
            + self
                .cal
                .spans_of(self.date - 1)
                .iter()
                .map(|s| s.1)
                .max()
                .unwrap_or(0);
        end = end.max(self.date * DAY);
        if self.floor > self.cal.zone.utc(end) {
            return None;
        }
        let mut total = 0;
        // The week's holidays and overrides, found once; other days follow the weekly hours.
        let ex = &self.cal.exceptions;
        let mut next_ex = ex.partition_point(|(d, _)| *d < self.date);
        for day in self.date..self.date + 7 {
            let spans = match ex.get(next_ex) {
                Some((d, spans)) if *d == day => {
                    next_ex += 1;
                    spans
                }
                _ => &self.cal.week[(day + 3).rem_euclid(7) as usize],
            };
            for &(a, b) in spans {
                let (a, b) = ((day * DAY + a).max(end), day * DAY + b);
                if b > a {
                    total += if dst {
                        zone.utc(b) - zone.utc(a)
                    } else {
                        b - a
                    };
                    end = b;
                }
            }
        }
        Some((total, end))
    }

    /// Moves past the week `next_week` measured: the floor becomes the end of its last
    /// interval, as walking it would have left it.
    fn skip_week(&mut self, last_end: i64) {
        self.floor = self.floor.max(self.cal.zone.utc(last_end));
        self.date += 7;
    }
}

/// When in its year a clock change happens: the `n`-th (or last) weekday of a month at a
/// local time of day.
#[derive(Debug, Clone, Copy)]
struct Rule {
    month: u32,
    weekday: chrono::Weekday,
    nth: u32,
    last: bool,
    time: i64,
}

impl Rule {
    /// The rule local civil second `local` satisfies.
    fn of(local: i64) -> Self {
        let date = day_date(local.div_euclid(DAY));
        let next_month_day = date + Duration::days(7);
        Self {
            month: date.month(),
            weekday: date.weekday(),
            nth: (date.day() - 1) / 7 + 1,
            last: next_month_day.month() != date.month(),
            time: local.rem_euclid(DAY),
        }
    }

    /// The local civil second of this rule's change in `year`.
    fn in_year(&self, year: i32) -> Option<i64> {
        let date = if self.last {
            let first_next = NaiveDate::from_ymd_opt(year, self.month, 1)?
                .checked_add_months(chrono::Months::new(1))?;
            let mut d = first_next.pred_opt()?;
            while d.weekday() != self.weekday {
                d = d.pred_opt()?;
            }
            d
        } else {
            NaiveDate::from_weekday_of_month_opt(year, self.month, self.weekday, self.nth as u8)?
        };
        Some(day_number(date) * DAY + self.time)
    }
}

/// A time zone as a table of UTC offsets, precomputed once: conversions are binary searches.
#[derive(Debug, Clone)]
struct Zone {
    /// UTC instants at which the offset changes.
    changes: Vec<i64>,
    /// `offsets[i]` applies before `changes[i]` (and the last after the last change).
    offsets: Vec<i64>,
}

impl Zone {
    fn new(tz: Tz) -> Self {
        let off = |u: i64| -> i64 {
            let dt = DateTime::from_timestamp(u, 0)
                .expect("in range")
                .naive_utc();
            i64::from(tz.offset_from_utc_datetime(&dt).fix().local_minus_utc())
        };
        let (from, to) = (0_i64, 4_133_980_800_i64); // 1970-01-01 .. 2101-01-01
        let mut changes = Vec::new();
        let mut offsets = vec![off(from)];
        let mut u = from;
        while u < to {
            let next = u + 7 * DAY;
            if off(next) != off(u) {
                // Binary search the exact second of the change.
                let (mut lo, mut hi) = (u, next);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if off(mid) == off(u) {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                changes.push(hi);
                offsets.push(off(hi));
            }
            u = next;
        }
        let mut zone = Self { changes, offsets };
        zone.extend_into_2100();
        zone
    }

    /// chrono-tz's tables end with 2099: a zone that still changes its clocks then (summer
    /// time in Europe and America) would keep winter time all through 2100. Carry each of
    /// 2099's changes into 2100 by the rule it follows in 2097–2099 — the n-th or the last
    /// weekday of its month, at the same local time — as the tz database's open-ended rules
    /// do. A change that follows no such rule (a table of dates) is not carried.
    fn extend_into_2100(&mut self) {
        const Y2099: i64 = 4_070_908_800; // 2099-01-01T00:00:00Z
        const Y2100: i64 = 4_102_444_800;
        let in_year = |from: i64, to: i64| -> Vec<usize> {
            (0..self.changes.len())
                .filter(|&i| (from..to).contains(&self.changes[i]))
                .collect()
        };
        let year_before = |i: usize, years: i64| {
            // The change of `years` earlier between the same offsets, if there is one.
            let (before, after) = (self.offsets[i], self.offsets[i + 1]);
            let near = self.changes[i] - years * 365 * DAY;
            (0..self.changes.len()).find(|&j| {
                (self.changes[j] - near).abs() < 20 * DAY
                    && self.offsets[j] == before
                    && self.offsets[j + 1] == after
            })
        };
        let mut added = Vec::new();
        for i in in_year(Y2099, Y2100) {
            let mut rule = Rule::of(self.changes[i] + self.offsets[i]);
            let earlier: Option<Vec<Rule>> = [1, 2]
                .into_iter()
                .map(|back| {
                    year_before(i, back).map(|j| Rule::of(self.changes[j] + self.offsets[j]))
                })
                .collect();
            let Some(earlier) = earlier else { continue };
            // "Last" only if it was the last every year; otherwise the same n-th every year.
            rule.last &= earlier.iter().all(|e| e.last);
            let follows = earlier.iter().all(|e| {
                (e.month, e.weekday, e.time) == (rule.month, rule.weekday, rule.time)
                    && (rule.last || e.nth == rule.nth)
            });
            if let (true, Some(local)) = (follows, rule.in_year(2100)) {
                added.push((local - self.offsets[i], self.offsets[i + 1]));
            }
        }
        for (change, offset) in added {
            if self.changes.last().is_none_or(|&last| change > last) {
                self.changes.push(change);
                self.offsets.push(offset);
            }
        }
    }

    /// Local civil seconds (since 1970-01-01 00:00 local) of UTC instant `u`.
    fn local(&self, u: i64) -> i64 {
        let i = self.changes.partition_point(|&c| c <= u);
        u + self.offsets[i]
    }

    /// The UTC instant of local civil seconds `c`: in a gap, the instant the gap ends; in an
    /// overlap, the first occurrence.
    fn utc(&self, c: i64) -> i64 {
        // Regime i covers UTC [changes[i-1], changes[i]) with offsets[i]; its civil start is
        // changes[i-1] + offsets[i]. Find the last regime whose civil start is <= c.
        let civil_start = |i: usize| -> i64 {
            if i == 0 {
                i64::MIN
            } else {
                self.changes[i - 1] + self.offsets[i]
            }
        };
        let (mut lo, mut hi) = (0, self.offsets.len());
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if civil_start(mid) <= c {
                lo = mid
            } else {
                hi = mid
            }
        }
        let i = lo;
        // Overlap: the previous regime still covers c.
        if i > 0 && c < self.changes[i - 1] + self.offsets[i - 1] {
            return c - self.offsets[i - 1];
        }
        let u = c - self.offsets[i];
        // Gap: c lies after this regime's end but before the next one's civil start.
        match self.changes.get(i) {
            Some(&end) if u >= end => end,
            _ => u,
        }
    }

    /// Whether the offset changes at some instant in `(a, b]`.
    fn changes_between(&self, a: i64, b: i64) -> bool {
        let i = self.changes.partition_point(|&c| c <= a);
        self.changes.get(i).is_some_and(|&c| c <= b)
    }
}

/// A policy's calendars, built once when the policy is loaded.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(from: &str, to: &str) -> Hours {
        Hours {
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
        }
    }

    fn office(tz: &str) -> CalendarDef {
        let day = vec![hours("09:00:00", "12:00:00"), hours("13:00:00", "18:00:00")];
        CalendarDef {
            key: CalendarKey::new("office").unwrap(),
            time_zone: tz.into(),
            always_open: false,
            week: WeekHours {
                mon: day.clone(),
                tue: day.clone(),
                wed: day.clone(),
                thu: day.clone(),
                fri: day,
                ..WeekHours::default()
            },
            holidays: vec![],
            overrides: vec![],
        }
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn never_open_unknown_zone_and_duplicates_are_refused() {
        let mut def = office("Asia/Shanghai");
        def.week = WeekHours::default();
        assert_eq!(
            BusinessCalendar::new(&def).unwrap_err(),
            CalendarError::NeverOpen
        );
        let def = office("Mars/Olympus");
        assert!(matches!(
            BusinessCalendar::new(&def),
            Err(CalendarError::UnknownTimeZone(_))
        ));
        let mut def = office("Asia/Shanghai");
        let d = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        def.holidays = vec![d];
        def.overrides = vec![DayOverride {
            date: d,
            hours: vec![],
        }];
        assert_eq!(
            BusinessCalendar::new(&def).unwrap_err(),
            CalendarError::DuplicateDate(d)
        );
    }

    #[test]
    fn three_working_days_from_friday_afternoon() {
        let cal = BusinessCalendar::new(&office("Asia/Shanghai")).unwrap();
        // Friday 2026-11-20 15:00 Shanghai = 07:00 UTC.
        let fri = t("2026-11-20T07:00:00Z");
        assert_eq!(cal.add_working_days(fri, 3), t("2026-11-25T07:00:00Z"));
        // 3 working days of business time (8 h a day) is Wednesday 15:00 too.
        assert_eq!(
            cal.add_business(fri, Duration::hours(24)),
            t("2026-11-25T07:00:00Z")
        );
    }

    #[test]
    fn deadlines_landing_on_closing_time_and_zero_durations() {
        let cal = BusinessCalendar::new(&office("Asia/Shanghai")).unwrap();
        let mon_0900 = t("2026-11-23T01:00:00Z");
        assert_eq!(
            cal.add_business(mon_0900, Duration::hours(3)),
            t("2026-11-23T04:00:00Z")
        );
        // Across days too: 16 business hours from Monday 09:00 end exactly at Tuesday's
        // closing (18:00), not at Wednesday's opening.
        assert_eq!(
            cal.add_business(mon_0900, Duration::hours(16)),
            t("2026-11-24T10:00:00Z")
        );
        // And 2,000 hours on, across years of the index, still at a closing time.
        let far = cal.add_business(mon_0900, Duration::hours(8 * 250));
        assert!(
            !cal.is_open(far) && cal.is_open(far - Duration::seconds(1)),
            "{far}"
        );
        let sat = t("2026-11-21T03:00:00Z");
        assert_eq!(cal.add_business(sat, Duration::zero()), sat);
        assert_eq!(
            cal.add_business(sat, Duration::minutes(1)),
            t("2026-11-23T01:01:00Z")
        );
        assert!(!cal.is_open(sat));
        assert_eq!(cal.next_open(sat), mon_0900);
        // Lunch break.
        assert!(!cal.is_open(t("2026-11-23T04:30:00Z")));
        assert_eq!(
            cal.next_open(t("2026-11-23T04:30:00Z")),
            t("2026-11-23T05:00:00Z")
        );
    }

    #[test]
    fn make_up_saturday_and_holiday() {
        let mut def = office("Asia/Shanghai");
        // 2026-10-01 (Thu) is a holiday; Sat 2026-10-10 is a make-up working day.
        def.holidays = vec![NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()];
        def.overrides = vec![DayOverride {
            date: NaiveDate::from_ymd_opt(2026, 10, 10).unwrap(),
            hours: vec![hours("09:00:00", "17:00:00")],
        }];
        let cal = BusinessCalendar::new(&def).unwrap();
        // Wed 30 Sep 17:00 + 2 h: 1 h on Wed, Thu is a holiday, so Fri 10:00.
        let wed = t("2026-09-30T09:00:00Z");
        assert_eq!(
            cal.add_business(wed, Duration::hours(2)),
            t("2026-10-02T02:00:00Z")
        );
        // Fri 9 Oct 17:00 + 2 h lands on the make-up Saturday, 10:00.
        let fri = t("2026-10-09T09:00:00Z");
        assert_eq!(
            cal.add_business(fri, Duration::hours(2)),
            t("2026-10-10T02:00:00Z")
        );
        assert!(cal.is_working_day(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()));
    }

    #[test]
    fn cutoffs_skip_closed_days() {
        let cal = BusinessCalendar::new(&office("Asia/Shanghai")).unwrap();
        let five = NaiveTime::from_hms_opt(17, 0, 0).unwrap();
        // Friday 15:00 → Friday 17:00; Friday 18:00 → Monday 17:00.
        assert_eq!(
            cal.next_cutoff(t("2026-11-20T07:00:00Z"), five),
            t("2026-11-20T09:00:00Z")
        );
        assert_eq!(
            cal.next_cutoff(t("2026-11-20T10:00:00Z"), five),
            t("2026-11-23T09:00:00Z")
        );
    }

    #[test]
    fn night_shift_across_midnight_and_dst() {
        let mut def = office("Europe/Berlin");
        def.week = WeekHours {
            sat: vec![hours("22:00:00", "06:00:00")],
            ..WeekHours::default()
        };
        let cal = BusinessCalendar::new(&def).unwrap();
        // Sat 2026-03-28 22:00 CET (21:00 UTC) to Sun 06:00 CEST (04:00 UTC): 7 real hours.
        let sat = t("2026-03-28T21:00:00Z");
        assert_eq!(
            cal.business_between(sat, t("2026-03-29T12:00:00Z")),
            Duration::hours(7)
        );
        assert_eq!(
            cal.add_business(sat, Duration::hours(7)),
            t("2026-03-29T04:00:00Z")
        );
        assert!(cal.is_open(t("2026-03-29T02:30:00Z")));
        // Autumn: 22:00 CEST (20:00 UTC) to 06:00 CET (05:00 UTC): 9 real hours.
        let oct = t("2026-10-24T20:00:00Z");
        assert_eq!(
            cal.business_between(oct, t("2026-10-25T12:00:00Z")),
            Duration::hours(9)
        );
    }

    #[test]
    fn zone_conversions_follow_the_gap_and_overlap_rules() {
        let z = Zone::new(chrono_tz::Europe::Berlin);
        // 2026-03-29 02:30 local does not exist: the gap ends at 01:00 UTC.
        let gap = day_number(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()) * DAY + 9000;
        assert_eq!(z.utc(gap), t("2026-03-29T01:00:00Z").timestamp());
        // 2026-10-25 02:30 local occurs twice: the first is 00:30 UTC.
        let overlap = day_number(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap()) * DAY + 9000;
        assert_eq!(z.utc(overlap), t("2026-10-25T00:30:00Z").timestamp());
        assert_eq!(
            z.local(t("2026-07-01T00:00:00Z").timestamp()) % DAY,
            2 * 3600
        );
    }

    #[test]
    fn always_open_is_plain_arithmetic() {
        let mut def = office("UTC");
        def.always_open = true;
        let cal = BusinessCalendar::new(&def).unwrap();
        let s = t("2026-11-21T03:00:00Z");
        assert_eq!(
            cal.add_business(s, Duration::hours(30)),
            s + Duration::hours(30)
        );
        assert_eq!(
            cal.business_between(s, s + Duration::hours(5)),
            Duration::hours(5)
        );
        assert_eq!(cal.add_working_days(s, 2), s + Duration::days(2));
    }
}
