//! The policy's one condition language: `Condition`, and `Facts`, the complaint as it stands
//! when a choice is made, which every condition is evaluated over.

use crate::complaint::Complaint;
use crate::id::{ChannelKey, DepartmentKey, RemedyKey, TierKey};
use crate::lifecycle::Stage;
use crate::model::{CategoryPath, Flag, Intake, Validity};
use crate::money::Money;
use serde::{Deserialize, Serialize};

/// A condition on a complaint, written the same way wherever the policy makes a choice:
/// severity rules, remedy caps, optional steps, who approves, routing rules, notification
/// rules, scoring, clock starts (`start_when`) and clock targets (`target_rules`). It is evaluated over the complaint as it stands when the choice is made,
/// with what the deciding command adds (the category being set at triage, the proposal being
/// made): see [`Facts`].
///
/// Each atom is a one-key table; `all`, `any` and `not` combine them:
///
/// ```toml
/// when = { all = [{ tier = "major" }, { not = { channel = "counter" } }] }
/// when = { any = [{ flag = "media" }, { people_at_least = 3 }] }
/// when = { tier = "major" }                 # the severity tier
/// when = { category = "loss" }              # the category starts with loss (loss/in-transit too)
/// when = { channel = "regulator" }          # the channel it arrived on
/// when = { valid = true }                   # judged valid at triage (false: invalid)
/// when = { remedy = "compensation" }        # the proposal at hand offers this remedy
/// when = { proposed_at_least = { minor = 100000, currency = "CNY" } }  # its amount
/// when = { flag = "illness" }               # the intake carries this flag
/// when = { amount_at_least = { minor = 50000, currency = "CNY" } }     # the amount at stake
/// when = { people_at_least = 3 }            # people affected, the complainant included
/// when = { insured = true }                 # the shipment was insured
/// when = { department = "claims" }          # the primary responsible department
/// when = { satisfied = false }              # the complainant's latest answer
/// ```
///
/// **Facts not known yet.** A fact can be unknown when the choice is made: the tier or the
/// category before triage, the department before routing, the remedy before a proposal, the
/// amount at stake when the complainant stated none, the answer before the complainant gave
/// one. An atom about an unknown fact does not hold, and neither does its negation: `not`
/// turns true into false and false into true but leaves *unknown* unknown, `all` is unknown
/// when no part is false and some part is unknown, `any` when no part is true and some part
/// is unknown; a condition that comes out unknown does not hold. So `not = { remedy =
/// "refund" }` holds for a proposal of another remedy, never before any proposal, and
/// `{ any = [{ remedy = "compensation" }, { tier = "major" }] }` holds for a major complaint
/// before its first proposal. To act on a missing fact, say so with a known one (a flag, a
/// tier). The loader refuses an atom about a fact that can never be known where it is
/// written: in a severity rule the tier (which the rule picks), the department, the remedy, a
/// proposal's amount and the answer; in a routing rule the department (which the rule picks)
/// and what comes after routing.
///
/// ```
/// # use plaint_core::policy::Condition;
/// let c: Condition = toml::from_str(r#"
///     all = [
///       { tier = "major" }, { category = "loss" }, { channel = "hotline" }, { valid = true },
///       { remedy = "compensation" }, { proposed_at_least = { minor = 1, currency = "CNY" } },
///       { flag = "media" }, { amount_at_least = { minor = 50000, currency = "CNY" } },
///       { people_at_least = 1 }, { insured = false }, { department = "claims" },
///       { satisfied = true }, { not = { any = [{ channel = "counter" }] } },
///     ]
/// "#).unwrap();
/// assert!(matches!(c, Condition::All(ref parts) if parts.len() == 13));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Every one holds: `all = [{ tier = "major" }, { category = "loss" }]`.
    All(Vec<Condition>),
    /// At least one holds: `any = [{ flag = "media" }, { flag = "lawyer" }]`.
    Any(Vec<Condition>),
    /// It does not hold, the fact being known: `not = { channel = "counter" }`.
    Not(Box<Condition>),
    /// The category starts with this path: `category = "food-safety"` (also
    /// `food-safety/expired`). Unknown before triage.
    Category(CategoryPath),
    /// It arrived on this channel: `channel = "regulator"`.
    Channel(ChannelKey),
    /// The amount at stake the complainant stated is at least this: `amount_at_least = {
    /// minor = 50000, currency = "CNY" }`. Unknown when they stated none.
    AmountAtLeast(Money),
    /// The intake carries this flag: `flag = "illness"`.
    Flag(Flag),
    /// At least this many people are affected, the complainant included (an intake that
    /// names no number affects one): `people_at_least = 3`.
    PeopleAtLeast(u32),
    /// The shipment was (or was not) insured: `insured = true`.
    Insured(bool),
    /// The complaint is of this severity tier: `tier = "major"`. Unknown before triage (a
    /// clock passes the tier it runs on).
    Tier(TierKey),
    /// The complaint was judged valid (`valid = true`) or invalid (`valid = false`) at
    /// triage. Unknown before triage.
    Valid(bool),
    /// The proposal at hand (the one being made or approved, else the latest) offers this
    /// remedy, whatever its amount, also when it states none: `remedy = "compensation"`.
    /// Unknown before the first proposal.
    Remedy(RemedyKey),
    /// The proposal at hand involves at least this much money: `proposed_at_least = { minor
    /// = 100000, currency = "CNY" }`. Unknown before the first proposal and for a proposal
    /// that states no amount.
    ProposedAtLeast(Money),
    /// This department is the primary responsible one: `department = "claims"`. Unknown
    /// before routing.
    Department(DepartmentKey),
    /// The complainant's latest answer about the result (at confirmation, or at the
    /// follow-up call after it) was satisfied (`satisfied = true`) or not (`satisfied =
    /// false`). Unknown before they answer, and while a new result awaits their answer.
    Satisfied(bool),
}

impl Condition {
    /// Whether the condition holds over `facts`: it comes out true, every fact it needs
    /// being known (see [`Condition`] for unknown facts). The one evaluator every choice of
    /// the policy uses.
    ///
    /// ```
    /// # use plaint_core::policy::{Condition, Facts};
    /// # use plaint_core::TierKey;
    /// let c: Condition = toml::from_str(r#"not = { tier = "major" }"#).unwrap();
    /// let intake = plaint_core::testing::intake(plaint_core::testing::t(0));
    /// let general = TierKey::new("general").unwrap();
    /// assert!(c.holds(&Facts::of_intake(&intake).with_tier(&general)));
    /// assert!(!c.holds(&Facts::of_intake(&intake)), "the tier is not known yet");
    /// ```
    pub fn holds(&self, facts: &Facts<'_>) -> bool {
        self.truth(facts) == Some(true)
    }

    /// Three-valued: `None` when a fact it needs is unknown and the known ones do not decide.
    fn truth(&self, f: &Facts<'_>) -> Option<bool> {
        let at_least = |amount: Option<&Money>, min: &Money| {
            amount
                .and_then(|a| a.checked_cmp(min))
                .map(std::cmp::Ordering::is_ge)
        };
        match self {
            Condition::All(cs) => combine(cs, f, false),
            Condition::Any(cs) => combine(cs, f, true),
            Condition::Not(c) => c.truth(f).map(|b| !b),
            Condition::Category(prefix) => f.category.map(|c| c.starts_with(prefix)),
            Condition::Channel(ch) => Some(&f.intake.channel == ch),
            Condition::AmountAtLeast(min) => {
                at_least(f.intake.subject.amount_at_stake.as_ref(), min)
            }
            Condition::Flag(flag) => Some(f.intake.flags.contains(flag)),
            Condition::PeopleAtLeast(n) => Some(f.intake.people_affected.unwrap_or(1) >= *n),
            Condition::Insured(b) => Some(f.intake.subject.insured == *b),
            Condition::Tier(t) => f.tier.map(|x| x == t),
            Condition::Valid(b) => f.validity.map(|v| matches!(v, Validity::Valid) == *b),
            Condition::Remedy(r) => f.remedy.map(|x| x == r),
            Condition::ProposedAtLeast(min) => f.remedy.and(at_least(f.proposed, min)),
            Condition::Department(d) => f.department.map(|x| x == d),
            Condition::Satisfied(b) => f.satisfied.map(|s| s == *b),
        }
    }

    /// Every atom of the condition (not `all`, `any`, `not`), with its path below `path`.
    pub(crate) fn atoms<'a>(&'a self, path: &str, out: &mut Vec<(String, &'a Condition)>) {
        match self {
            Condition::All(cs) | Condition::Any(cs) => {
                let kind = if matches!(self, Condition::All(_)) {
                    "all"
                } else {
                    "any"
                };
                for (i, c) in cs.iter().enumerate() {
                    c.atoms(&format!("{path}.{kind}[{i}]"), out);
                }
            }
            Condition::Not(c) => c.atoms(&format!("{path}.not"), out),
            atom => out.push((format!("{path}.{}", atom.name()), atom)),
        }
    }

    /// The key this condition is written with in a policy.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Condition::All(_) => "all",
            Condition::Any(_) => "any",
            Condition::Not(_) => "not",
            Condition::Category(_) => "category",
            Condition::Channel(_) => "channel",
            Condition::AmountAtLeast(_) => "amount_at_least",
            Condition::Flag(_) => "flag",
            Condition::PeopleAtLeast(_) => "people_at_least",
            Condition::Insured(_) => "insured",
            Condition::Tier(_) => "tier",
            Condition::Valid(_) => "valid",
            Condition::Remedy(_) => "remedy",
            Condition::ProposedAtLeast(_) => "proposed_at_least",
            Condition::Department(_) => "department",
            Condition::Satisfied(_) => "satisfied",
        }
    }
}

/// `all` (`decisive` false) or `any` (`decisive` true): a part that comes out `decisive`
/// decides; otherwise an unknown part leaves the whole unknown.
fn combine(cs: &[Condition], f: &Facts<'_>, decisive: bool) -> Option<bool> {
    let mut unknown = false;
    for c in cs {
        match c.truth(f) {
            Some(b) if b == decisive => return Some(decisive),
            Some(_) => {}
            None => unknown = true,
        }
    }
    (!unknown).then_some(!decisive)
}

/// What a condition can ask about a complaint when a choice is made: the complaint as it
/// stands ([`Facts::of`]) plus what the deciding command adds (`with_…`). A fact left `None`
/// is unknown (see [`Condition`]).
///
/// The clocks evaluate a condition over a complaint on the tier they run on:
/// `condition.holds(&Facts::of(complaint).with_tier(tier))`.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    intake: &'a Intake,
    tier: Option<&'a TierKey>,
    category: Option<&'a CategoryPath>,
    validity: Option<&'a Validity>,
    department: Option<&'a DepartmentKey>,
    remedy: Option<&'a RemedyKey>,
    proposed: Option<&'a Money>,
    satisfied: Option<bool>,
}

impl<'a> Facts<'a> {
    /// The facts of a complaint as it stands: its intake, tier, category, validity, primary
    /// department, latest proposal and the complainant's latest answer about the current
    /// result.
    pub fn of(c: &'a Complaint) -> Self {
        let proposal = c.current_proposal();
        // The latest answer: none while a result awaits it; the confirmation or the call
        // just given; else the follow-up call about the current result (made after its
        // feedback), or the confirmation.
        let confirmed = c.satisfaction.as_ref().map(|s| s.satisfied);
        let called = c.follow_up.as_ref().map(|f| f.satisfaction.satisfied);
        let satisfied = match c.stage {
            Stage::AwaitingConfirmation => None,
            Stage::Confirmed => confirmed,
            Stage::FollowedUp => called,
            _ => match (&c.follow_up, &c.feedback) {
                (Some(call), Some(result)) if call.at >= result.at => called,
                _ => confirmed,
            },
        };
        Self {
            intake: &c.intake,
            tier: c.tier.as_ref(),
            category: c.category.as_ref(),
            validity: c.validity.as_ref(),
            department: c.responsibility.as_ref().map(|r| &r.primary),
            remedy: proposal.map(|p| &p.remedy),
            proposed: proposal.and_then(|p| p.amount.as_ref()),
            satisfied,
        }
    }

    /// The facts of an intake being received: nothing decided yet.
    pub fn of_intake(intake: &'a Intake) -> Self {
        Self {
            intake,
            tier: None,
            category: None,
            validity: None,
            department: None,
            remedy: None,
            proposed: None,
            satisfied: None,
        }
    }

    /// With this tier (the one triage sets, or the one a clock runs on).
    #[must_use]
    pub fn with_tier(self, tier: &'a TierKey) -> Self {
        Self {
            tier: Some(tier),
            ..self
        }
    }

    /// With the tier unknown (what severity rules see: they decide it).
    #[must_use]
    pub fn without_tier(self) -> Self {
        Self { tier: None, ..self }
    }

    /// With this category (triage sets it).
    #[must_use]
    pub fn with_category(self, category: &'a CategoryPath) -> Self {
        Self {
            category: Some(category),
            ..self
        }
    }

    /// With this validity judgement (triage sets it).
    #[must_use]
    pub fn with_validity(self, validity: &'a Validity) -> Self {
        Self {
            validity: Some(validity),
            ..self
        }
    }

    /// With this primary department.
    #[must_use]
    pub fn with_department(self, department: &'a DepartmentKey) -> Self {
        Self {
            department: Some(department),
            ..self
        }
    }

    /// With this proposal at hand (the one being made): its remedy and amount, if any.
    #[must_use]
    pub fn with_proposal(self, remedy: &'a RemedyKey, amount: Option<&'a Money>) -> Self {
        Self {
            remedy: Some(remedy),
            proposed: amount,
            ..self
        }
    }

    /// With the complainant's answer being given (satisfied or not).
    #[must_use]
    pub fn with_answer(self, satisfied: bool) -> Self {
        Self {
            satisfied: Some(satisfied),
            ..self
        }
    }

    /// The intake.
    pub fn intake(&self) -> &'a Intake {
        self.intake
    }

    /// The tier, if known.
    pub fn tier(&self) -> Option<&'a TierKey> {
        self.tier
    }

    /// The category, if known.
    pub fn category(&self) -> Option<&'a CategoryPath> {
        self.category
    }

    /// The amount of the proposal at hand, if there is one and it states an amount.
    pub fn proposed(&self) -> Option<&'a Money> {
        self.proposed
    }
}
