//! Report periods: half-open ranges of local dates `[from, to)`, months most often.

use chrono::{Datelike, Days, Months, NaiveDate};
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
}
