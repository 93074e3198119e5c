//! Report periods: half-open ranges of local dates `[from, to)`, months most often.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};

/// The dates a report covers, `from` included and `to` excluded, in the policy's time zone.
///
/// ```
/// use plaint_report::Period;
/// let nov = Period::month(2026, 11).unwrap();
/// assert_eq!(nov.previous(), Period::month(2026, 10).unwrap());
/// assert_eq!(nov.days(), 30);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Period {
    /// The first day.
    pub from: NaiveDate,
    /// The day after the last.
    pub to: NaiveDate,
}

impl Period {
    /// `[from, to)`; `None` unless `from < to`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Option<Self> {
        (from < to).then_some(Self { from, to })
    }

    /// The period's first instant and the first instant after it, in `zone`: local midnight
    /// of `from` and of `to` (or the first instant after a DST gap that swallows midnight).
    pub fn instants(&self, zone: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            local_midnight(zone, self.from),
            local_midnight(zone, self.to),
        )
    }

    /// A calendar month.
    pub fn month(year: i32, month: u32) -> Option<Self> {
        let from = NaiveDate::from_ymd_opt(year, month, 1)?;
        Self::new(from, from.checked_add_months(Months::new(1))?)
    }

    /// A month written `YYYY-MM` (`2026-11`), as URLs and command lines give it; `None` for
    /// anything else.
    ///
    /// ```
    /// use plaint_report::Period;
    /// assert_eq!(Period::parse_month("2026-11"), Period::month(2026, 11));
    /// assert_eq!(Period::parse_month("2026-1"), None);
    /// ```
    pub fn parse_month(s: &str) -> Option<Self> {
        let (y, m) = s.split_once('-')?;
        let digits = y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit());
        if y.len() != 4 || m.len() != 2 || !digits {
            return None;
        }
        Self::month(y.parse().ok()?, m.parse().ok()?)
    }

    /// The period just before: the previous calendar month for a month, else as many days
    /// just before.
    pub fn previous(&self) -> Self {
        let is_month =
            self.from.day() == 1 && self.from.checked_add_months(Months::new(1)) == Some(self.to);
        let from = if is_month {
            self.from - Months::new(1)
        } else {
            self.from - Days::new(self.days())
        };
        Self {
            from,
            to: self.from,
        }
    }

    /// How many days it has.
    pub fn days(&self) -> u64 {
        (self.to - self.from).num_days() as u64
    }

    /// Whether `date` is in it.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date < self.to
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last = self.to.pred_opt().unwrap_or(self.to);
        write!(f, "{} – {}", self.from, last)
    }
}

/// The instant a local date begins: midnight, or the first instant after a DST gap that
/// swallows midnight (some zones change clocks at 00:00).
fn local_midnight(zone: chrono_tz::Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    (0..=24)
        .find_map(|h| {
            zone.from_local_datetime(&(midnight + chrono::Duration::hours(h)))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc(), |t| t.to_utc())
}

#[cfg(test)]
mod tests {
    use super::Period;

    #[test]
    fn months() {
        assert_eq!(Period::parse_month("2026-11"), Period::month(2026, 11));
        for bad in [
            "2026-13",
            "2026-1",
            "26-11",
            "2026-+1",
            "2026",
            "",
            "2026-11-01",
        ] {
            assert_eq!(Period::parse_month(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_month_ends_at_local_midnight_even_across_a_gap_at_midnight() {
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let shanghai = super::local_midnight(chrono_tz::Asia::Shanghai, d(2026, 12, 1));
        assert_eq!(shanghai.to_rfc3339(), "2026-11-30T16:00:00+00:00");
        // Santiago moved its clocks from 00:00 to 01:00 on 2022-09-11: the day began at 01:00.
        let santiago = super::local_midnight(chrono_tz::America::Santiago, d(2022, 9, 11));
        assert_eq!(santiago.to_rfc3339(), "2022-09-11T04:00:00+00:00");
        let (from, to) = Period::month(2026, 11)
            .unwrap()
            .instants(chrono_tz::Asia::Shanghai);
        assert_eq!(from.to_rfc3339(), "2026-10-31T16:00:00+00:00");
        assert_eq!(to, shanghai, "a month ends where the next begins");
    }
}
