//! The independent reference for periods in days, written from the text of the Civil Code of
//! the PRC, arts. 201–204, date by date, with nothing of `plaint_core::calendar`'s arithmetic:
//!
//! - Art. 201: "按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算。" — for a period
//!   counted in days, the day it starts does not count; counting begins the next day.
//! - Art. 203: "期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日。期间的
//!   最后一日的截止时间为二十四时；有业务时间的，停止业务活动的时间为截止时间。" — a last day
//!   that is a rest day moves to the day after the rest ends; the last day ends at 24:00, or,
//!   where there are business hours, at the time business stops.
//!
//! A "working day" is a day on which the calendar's unit opens (its hours for that date: a
//! holiday has none, an override has its own, other dates their weekday's); hours that do not
//! exist in real time (wholly inside a DST gap) are no opening. "The time business stops" on a
//! day is the latest end of the hours it opens with (a night shift ends the next morning).
//! Local times become instants by the time-zone table directly: the first occurrence of a
//! repeated time, the first instant after a skipped one.

#![allow(dead_code, unreachable_pub)]

use chrono::{
    Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use plaint_core::Timestamp;
use plaint_core::calendar::{CalendarDef, Hours};

/// The law's day counting on one calendar.
pub struct LegalDays<'a> {
    pub def: &'a CalendarDef,
    pub tz: Tz,
}

pub fn legal(def: &CalendarDef) -> LegalDays<'_> {
    LegalDays {
        def,
        tz: def.time_zone.parse().expect("a known zone"),
    }
}

impl LegalDays<'_> {
    /// The hours the unit keeps on `date`.
    fn hours_of(&self, date: NaiveDate) -> Vec<Hours> {
        if self.def.holidays.contains(&date) {
            return vec![];
        }
        if let Some(o) = self.def.overrides.iter().find(|o| o.date == date) {
            return o.hours.clone();
        }
        let w = &self.def.week;
        let days = [&w.mon, &w.tue, &w.wed, &w.thu, &w.fri, &w.sat, &w.sun];
        days[date.weekday().num_days_from_monday() as usize].clone()
    }

    /// A local time as an instant: the first occurrence, or the first instant after a gap.
    fn instant(&self, mut local: NaiveDateTime) -> Timestamp {
        loop {
            match self.tz.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    return t.with_timezone(&Utc);
                }
                // Skipped: the next whole minute, until the gap (whole minutes long) is over.
                LocalResult::None => {
                    local = local.with_second(0).expect("valid") + Duration::minutes(1);
                }
            }
        }
    }

    /// The date `t` falls on, locally.
    pub fn date_of(&self, t: Timestamp) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// When business stops on `date`: `None` if the unit does not open that day, 24:00 if it
    /// never closes.
    pub fn business_stops(&self, date: NaiveDate) -> Option<Timestamp> {
        if self.def.always_open {
            return Some(self.instant((date + Duration::days(1)).and_time(NaiveTime::MIN)));
        }
        self.hours_of(date)
            .iter()
            .filter_map(|h| {
                let opens = self.instant(date.and_time(h.from));
                let close_date = if h.to <= h.from {
                    date + Duration::days(1)
                } else {
                    date
                };
                let closes = self.instant(close_date.and_time(h.to));
                (closes > opens).then_some(closes)
            })
            .max()
    }

    /// The end of `n` working days from `start`: count the working days after the start's
    /// date (art. 201) up to the `n`-th; it ends when business stops that day (art. 203).
    pub fn working_days_end(&self, start: Timestamp, n: u32) -> Timestamp {
        let mut date = self.date_of(start);
        let mut counted = 0;
        loop {
            date += Duration::days(1);
            if let Some(end) = self.business_stops(date) {
                counted += 1;
                if counted == n {
                    return end;
                }
            }
        }
    }

    /// The end of `n` days from `start`: the `n`-th date after the start's (art. 201); if
    /// the unit does not open that day, the next day it does (art. 203); when business stops
    /// on it.
    pub fn days_end(&self, start: Timestamp, n: u32) -> Timestamp {
        let mut date = self.date_of(start) + Duration::days(i64::from(n));
        loop {
            if let Some(end) = self.business_stops(date) {
                return end;
            }
            date += Duration::days(1);
        }
    }

    /// The beginning (local midnight) of day `n` after the start's date (day 0).
    pub fn day_begins(&self, start: Timestamp, n: u32) -> Timestamp {
        let date = self.date_of(start) + Duration::days(i64::from(n));
        self.instant(date.and_time(NaiveTime::MIN))
    }

    /// The opt-in reading: the start's local time of day on the `n`-th working day after its
    /// date.
    pub fn same_time_working_days(&self, start: Timestamp, n: u32) -> Timestamp {
        let local = start.with_timezone(&self.tz).time();
        let mut date = self.date_of(start);
        let mut counted = 0;
        loop {
            date += Duration::days(1);
            if self.def.always_open || !self.hours_of(date).is_empty() {
                counted += 1;
                if counted == n {
                    return self.instant(date.and_time(local));
                }
            }
        }
    }
}
