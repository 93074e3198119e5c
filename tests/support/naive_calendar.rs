//! The naive reference for business calendars: every rule of `plaint_core::calendar`'s docs
//! applied literally, minute by minute. Tests compare the fast functions with it; the calendar
//! bench measures how much faster they are. Never used by the library.

#![allow(dead_code, unreachable_pub)]

use chrono::{Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use plaint_core::Timestamp;
use plaint_core::calendar::{CalendarDef, Hours};

/// The reference: every rule of the module docs, applied literally, minute by minute.
pub struct Naive<'a> {
    pub def: &'a CalendarDef,
    pub tz: Tz,
}

impl Naive<'_> {
    pub fn hours_of(&self, date: NaiveDate) -> Vec<Hours> {
        if self.def.holidays.contains(&date) {
            return vec![];
        }
        if let Some(o) = self.def.overrides.iter().find(|o| o.date == date) {
            return o.hours.clone();
        }
        let w = &self.def.week;
        [&w.mon, &w.tue, &w.wed, &w.thu, &w.fri, &w.sat, &w.sun]
            [date.weekday().num_days_from_monday() as usize]
            .clone()
    }

    /// A local time as an instant: the first occurrence, or the end of a DST gap.
    pub fn resolve(&self, mut local: NaiveDateTime) -> Timestamp {
        loop {
            match self.tz.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    return t.with_timezone(&Utc);
                }
                LocalResult::None => local += Duration::minutes(1),
            }
        }
    }

    pub fn is_open(&self, t: Timestamp) -> bool {
        let local_date = t.with_timezone(&self.tz).date_naive();
        [local_date - Duration::days(1), local_date]
            .iter()
            .any(|d| {
                self.hours_of(*d).iter().any(|h| {
                    let from = d.and_time(h.from);
                    let to = if h.to <= h.from {
                        (*d + Duration::days(1)).and_time(h.to)
                    } else {
                        d.and_time(h.to)
                    };
                    self.resolve(from) <= t && t < self.resolve(to)
                })
            })
    }

    pub fn add_business(&self, start: Timestamp, d: Duration) -> Timestamp {
        let mut t = start;
        let mut left = d.num_minutes();
        while left > 0 {
            if self.is_open(t) {
                left -= 1;
            }
            t += Duration::minutes(1);
        }
        t
    }

    pub fn add_working_days(&self, start: Timestamp, n: u32) -> Timestamp {
        let local = start.with_timezone(&self.tz).naive_local();
        let mut date = local.date();
        let mut left = n;
        while left > 0 {
            date += Duration::days(1);
            if !self.hours_of(date).is_empty() {
                left -= 1;
            }
        }
        if n == 0 {
            start
        } else {
            self.resolve(date.and_time(local.time()))
        }
    }

    pub fn next_cutoff(&self, start: Timestamp, time: NaiveTime) -> Timestamp {
        let mut date = start.with_timezone(&self.tz).date_naive();
        loop {
            let cut = self.resolve(date.and_time(time));
            if !self.hours_of(date).is_empty() && cut >= start {
                return cut;
            }
            date += Duration::days(1);
        }
    }

    pub fn business_between(&self, a: Timestamp, b: Timestamp) -> Duration {
        let mut n = 0;
        let mut t = a;
        while t < b {
            if self.is_open(t) {
                n += 1;
            }
            t += Duration::minutes(1);
        }
        Duration::minutes(n)
    }
}

pub fn naive(def: &CalendarDef) -> Naive<'_> {
    Naive {
        def,
        tz: def.time_zone.parse().unwrap(),
    }
}
