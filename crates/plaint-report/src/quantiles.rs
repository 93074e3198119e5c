//! Durations counted by the minute, so medians and 90th percentiles are exact to the minute
//! while memory grows with the number of distinct minutes, not of complaints.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A histogram of durations in whole minutes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Minutes(BTreeMap<i64, u64>);

impl Minutes {
    pub(crate) fn add(&mut self, d: chrono::Duration) {
        *self.0.entry(d.num_minutes().max(0)).or_default() += 1;
    }

    /// The nearest-rank `q` quantile (0 < q ≤ 1).
    fn quantile(&self, q: f64, n: u64) -> Option<i64> {
        let rank = ((q * n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        self.0.iter().find_map(|(m, c)| {
            seen += c;
            (seen >= rank).then_some(*m)
        })
    }

    pub(crate) fn summary(&self) -> Durations {
        let count = self.0.values().sum();
        Durations {
            count,
            median_minutes: self.quantile(0.5, count),
            p90_minutes: self.quantile(0.9, count),
        }
    }
}

/// How long something took across complaints: nearest-rank median and 90th percentile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Durations {
    /// Complaints measured.
    pub count: u64,
    /// Median, in minutes.
    pub median_minutes: Option<i64>,
    /// 90th percentile, in minutes.
    pub p90_minutes: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let mut m = Minutes::default();
        for x in [10, 20, 30, 40, 50, 60, 70, 80, 90, 100] {
            m.add(chrono::Duration::minutes(x));
        }
        let s = m.summary();
        assert_eq!(
            (s.count, s.median_minutes, s.p90_minutes),
            (10, Some(50), Some(90))
        );
        assert_eq!(Minutes::default().summary().median_minutes, None);
    }
}
