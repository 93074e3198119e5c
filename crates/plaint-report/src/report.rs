//! The analysis itself: what a period's complaints add up to, as plain serialisable data.

use crate::Period;
use crate::quantiles::Durations;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A period's complaint analysis (客户投诉分析月报). Counts are of complaints received in the
/// period (by local date); the ledger lists entries made in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// The policy it was computed under.
    pub policy: String,
    /// The period, in `zone`.
    pub period: Period,
    /// The IANA time zone dates are read in.
    pub zone: String,
    /// Complaints received (consultations are not complaints: see `consultations`).
    pub received: u64,
    /// Contacts answered at first contact as consultations, counted apart from complaints.
    #[serde(default)]
    pub consultations: ConsultationCounts,
    /// Valid, invalid, not yet judged.
    pub validity: ValidityCounts,
    /// Where they are now, by stage.
    pub stages: BTreeMap<String, u64>,
    /// By category, every level of the tree (`logistics`, `logistics/delay`, …).
    pub categories: BTreeMap<String, u64>,
    /// By primary department (routed complaints).
    pub departments: BTreeMap<String, u64>,
    /// By tier (triaged complaints).
    pub tiers: BTreeMap<String, u64>,
    /// By channel of arrival.
    pub channels: BTreeMap<String, u64>,
    /// The policy's actions recorded on them (a callback, a progress report to a desk), by
    /// the action's label in the policy's locale: how many times each was recorded.
    #[serde(default)]
    pub actions: BTreeMap<String, u64>,
    /// Time-limit compliance per clock and tier.
    pub compliance: Vec<Compliance>,
    /// Receipt to acknowledgement.
    pub first_response: Durations,
    /// Receipt to closing (closed complaints only).
    pub resolution: Durations,
    /// What complainants said.
    pub satisfaction: SatisfactionCounts,
    /// Complaints that repeat an earlier one.
    pub repeats: Repeats,
    /// The most frequent leaf categories, with the previous period's count.
    pub recurring: Vec<Recurring>,
    /// Department scores by the policy's scoring rules.
    pub scores: Vec<DepartmentScore>,
    /// Escalation ledger entries made in the period.
    pub ledger: Vec<LedgerEntry>,
    /// Received and closed per day.
    pub daily: Vec<Day>,
}

/// Consultations whose first contact fell in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsultationCounts {
    /// Answered and accepted as consultations (no complaint).
    pub answered: u64,
    /// Converted into complaints since (these are counted in `received` as well).
    pub converted: u64,
}

/// Validity judgements.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ValidityCounts {
    /// Judged valid.
    pub valid: u64,
    /// Judged invalid.
    pub invalid: u64,
    /// Not judged yet.
    pub undecided: u64,
}

/// One clock's record for one tier: every cycle of the clock that started on a complaint of
/// that tier (its tier now).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Compliance {
    /// The clock.
    pub clock: String,
    /// The tier.
    pub tier: String,
    /// Cycles started.
    pub cycles: u64,
    /// Stopped in time.
    pub met: u64,
    /// Stopped before a window opened.
    pub early: u64,
    /// Breached (whether stopped since or not).
    pub breached: u64,
    /// Still running, not breached.
    pub running: u64,
    /// Cycles whose warning fired.
    pub warned: u64,
    /// Time spent paused, in minutes (an open pause counts up to the period's end).
    pub paused_minutes: i64,
    /// How long the stopped cycles ran, from start to stop less paused time: what an
    /// "at once" clock, which has no deadline to meet, is judged by.
    #[serde(default)]
    pub handling: Durations,
}

impl Compliance {
    /// Met as a share of the cycles that ended or breached, in percent.
    pub fn met_percent(&self) -> Option<f64> {
        let decided = self.met + self.early + self.breached;
        (decided > 0).then(|| self.met as f64 * 100.0 / decided as f64)
    }
}

/// Satisfaction as given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SatisfactionCounts {
    /// Complaints whose result was told to the complainant.
    pub feedback_given: u64,
    /// Complainants who confirmed satisfaction (their latest answer).
    pub satisfied: u64,
    /// … or said they were not satisfied.
    pub unsatisfied: u64,
    /// Follow-up calls made (latest per complaint), satisfied and not.
    pub follow_up_satisfied: u64,
    /// Follow-up calls that found the complainant unsatisfied.
    pub follow_up_unsatisfied: u64,
    /// The mean survey score (1–5) over the answers that gave one.
    pub mean_score: Option<f64>,
    /// How many answers gave a score.
    pub scored: u64,
}

/// Repeat complaints within the policy's window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Repeats {
    /// The window in days.
    pub window_days: u32,
    /// Complaints whose complainant complained before within the window.
    pub same_complainant: u64,
    /// Complaints about an order or waybill complained about before within the window.
    pub same_order: u64,
    /// The repeat complaints (either kind), in id order.
    pub complaints: Vec<String>,
}

/// A recurring category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recurring {
    /// The leaf category path.
    pub category: String,
    /// Complaints in the period.
    pub count: u64,
    /// Complaints in the previous period.
    pub previous: u64,
}

impl Recurring {
    /// The change against the previous period.
    pub fn change(&self) -> i64 {
        self.count as i64 - self.previous as i64
    }
}

/// A department's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DepartmentScore {
    /// The department.
    pub department: String,
    /// Complaints it answered for (as primary or collaborator).
    pub complaints: u64,
    /// Breached clock cycles on them.
    pub breaches: u64,
    /// Clock cycles on them that ended or breached …
    pub decided_cycles: u64,
    /// … and of those, the ones met.
    pub met_cycles: u64,
    /// Points: per tier and per breach (`per_breach_of` the clock, else `per_breach`), plus
    /// each case's adjustments, times its share of responsibility.
    pub points: f64,
}

impl DepartmentScore {
    /// Its clock compliance in percent (met of decided cycles).
    pub fn met_percent(&self) -> Option<f64> {
        (self.decided_cycles > 0)
            .then(|| self.met_cycles as f64 * 100.0 / self.decided_cycles as f64)
    }
}

/// An entry in the escalation ledger (投诉台账).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LedgerEntry {
    /// The complaint.
    pub complaint: String,
    /// When the rung was reached.
    pub at: plaint_core::Timestamp,
    /// The clock and rung.
    pub clock: String,
    /// 1 for the first rung.
    pub rung: u32,
    /// The complaint's tier now.
    pub tier: Option<String>,
    /// Its primary department.
    pub department: Option<String>,
}

/// One day's flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Day {
    /// The local date.
    pub date: NaiveDate,
    /// Complaints received that day.
    pub received: u64,
    /// Complaints closed that day (whenever received).
    pub closed: u64,
}
