//! The policy: a company's own procedure as data (tiers, categories, roles, optional steps).
//!
//! This is the one type the policy file deserializes into; the engine reads nothing else.

mod check;
mod condition;
mod load;
mod problems;
mod reach;

pub use condition::{Condition, Facts};

use crate::actor::{Actor, ActorKind};
use crate::calendar::Calendars;
use crate::complaint::Complaint;
use crate::id::{ActionKey, CategoryKey, ChannelKey, DepartmentKey, RemedyKey, RoleKey, TierKey};
use crate::lifecycle::CommandKind;
use crate::model::{CategoryPath, Flag};
use crate::money::{Currency, Money};
use crate::sla::ClockDef;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A complaint-handling procedure. See `examples/policies/*.toml` for complete ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The policy language's version this document is written in: [`Policy::FORMAT`]. A
    /// document in another format is refused ([`PolicyError::Format`]), never guessed at.
    pub format: u32,
    /// A stable name for the procedure (`acme-express`).
    pub id: String,
    /// The policy version; each complaint stays pinned to the version it was opened under.
    pub version: u32,
    /// The company's name, by language.
    #[serde(default)]
    pub name: Labels,
    /// The language texts default to (`zh`, `en`).
    #[serde(default = "default_locale")]
    pub locale: String,
    /// The currency amounts and approval limits are stated in.
    pub currency: Currency,
    /// Channels complaints arrive on.
    pub channels: Vec<ChannelDef>,
    /// The category tree (any depth).
    pub categories: Vec<CategoryNode>,
    /// Severity tiers, lowest first.
    pub tiers: Vec<TierDef>,
    /// The tier a triage gets when it names none and no severity rule matches.
    pub default_tier: TierKey,
    /// The severity flags a receiver may note on an intake (see [`FlagDef`]).
    #[serde(default)]
    pub flags: Vec<FlagDef>,
    /// Rules that pick the tier at triage when the triager names none: first match wins.
    #[serde(default)]
    pub severity: Vec<SeverityRule>,
    /// Departments a complaint can be routed to.
    pub departments: Vec<DepartmentDef>,
    /// Routing rules: which department answers for which category, tier and channel.
    #[serde(default)]
    pub routing: Vec<RouteRule>,
    /// How many reassignments a complaint may have before it is flagged as bounced.
    #[serde(default)]
    pub max_reassignments: Option<u32>,
    /// Staff roles and what each may do.
    pub roles: Vec<RoleDef>,
    /// The action kinds the procedure names (see [`ActionDef`]).
    #[serde(default)]
    pub actions: Vec<ActionDef>,
    /// Remedy kinds the policy allows.
    pub remedies: Vec<RemedyDef>,
    /// Which optional steps apply.
    #[serde(default)]
    pub steps: Steps,
    /// Business calendars, by key.
    #[serde(default)]
    pub calendars: Calendars,
    /// SLA clocks.
    #[serde(default)]
    pub clocks: Vec<ClockDef>,
    /// How departments are scored on their complaints (read by reports).
    #[serde(default)]
    pub scoring: Scoring,
    /// What the monthly analysis counts as a repeat, and how many categories it ranks.
    #[serde(default)]
    pub reports: Reports,
    /// How long finished complaints keep their complainant's personal data
    /// ([`crate::Engine::enforce_retention`]).
    #[serde(default)]
    pub privacy: Privacy,
    /// Who is told what, when and how: rules from moments (a notification kind) to
    /// audiences, a channel and a text. Without any, the built-in recipients are told, with
    /// no text.
    #[serde(default)]
    pub notifications: Vec<NotificationRule>,
}

fn default_locale() -> String {
    "en".into()
}

/// Department scoring (DOMAIN.md §4): points per complaint by tier and per missed time limit,
/// plus the case's adjustments (`adjust_points`), scaled by the department's share of
/// responsibility. Consultations are no complaints and cost nothing.
///
/// ```toml
/// [scoring]
/// per_tier = { general = -1, major = -5 }
/// per_breach = -2                      # any breached clock…
/// per_breach_of = { feedback = -3 }    # …but a late feedback costs more
/// primary_share = 70
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    /// Points per complaint of each tier (usually negative: `general = -1`, `major = -5`).
    #[serde(default)]
    pub per_tier: BTreeMap<TierKey, i64>,
    /// Points per breached clock (per cycle), unless `per_breach_of` names the clock.
    #[serde(default)]
    pub per_breach: i64,
    /// Points per breach of a named clock, in place of `per_breach` (a late reply may cost
    /// more than another late step): `per_breach_of = { feedback = -3 }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_breach_of: BTreeMap<crate::ClockKey, i64>,
    /// The primary department's share in percent; collaborators split the rest.
    #[serde(default = "hundred_percent")]
    pub primary_share: u32,
    /// Points a complaint adds when a condition holds for it, as it stands when the report
    /// is made, on top of its tier's (every rule that holds counts):
    ///
    /// ```toml
    /// [[scoring.rules]]
    /// when = { category = "food-safety" }   # two more points off for a food-safety case
    /// points = -2
    /// ```
    #[serde(default)]
    pub rules: Vec<ScoreRule>,
}

/// Points a complaint scores when `when` holds for it (see [`Scoring::rules`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRule {
    /// The condition.
    pub when: Condition,
    /// The points (usually negative).
    pub points: i64,
}

impl Scoring {
    /// The points a complaint scores as it stands, before breaches and shares: its tier's
    /// points plus those of every rule whose condition holds for it.
    ///
    /// ```
    /// # use plaint_core::policy::Scoring;
    /// let scoring: Scoring = toml::from_str(r#"
    ///     rules = [{ when = { channel = "hotline" }, points = -2 }, { when = { tier = "major" }, points = -9 }]
    /// "#).unwrap();
    /// let c = plaint_core::testing::received(); // by hotline, not triaged: no tier yet
    /// assert_eq!(scoring.complaint_points(&c), -2);
    /// ```
    pub fn complaint_points(&self, c: &crate::Complaint) -> i64 {
        let facts = Facts::of(c);
        let tier = c
            .tier
            .as_ref()
            .and_then(|t| self.per_tier.get(t))
            .copied()
            .unwrap_or(0);
        self.rules
            .iter()
            .filter(|r| r.when.holds(&facts))
            .fold(tier, |sum, r| sum.saturating_add(r.points))
    }
}

impl Scoring {
    /// The points one breach of `clock` costs: its own figure, else `per_breach`.
    ///
    /// ```
    /// let toml = "per_breach = -2\nper_breach_of = { feedback = -3 }";
    /// let s: plaint_core::policy::Scoring = toml::from_str(toml).unwrap();
    /// assert_eq!(s.breach_points("feedback"), -3);
    /// assert_eq!(s.breach_points("register"), -2);
    /// ```
    pub fn breach_points(&self, clock: &str) -> i64 {
        self.per_breach_of
            .iter()
            .find(|(k, _)| k.as_str() == clock)
            .map_or(self.per_breach, |(_, p)| *p)
    }
}

fn hundred_percent() -> u32 {
    100
}

/// What the policy says about personal data.
///
/// ```toml
/// [privacy]
/// keep_personal_data_after_close = "1095d"   # three years
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Privacy {
    /// How long a finished complaint (closed, withdrawn or merged) keeps its complainant's
    /// personal data after it finished, and a consultation after it was answered (one
    /// converted into a complaint counts as that complaint);
    /// [`crate::Engine::enforce_retention`] erases it once this has passed. Absent (the
    /// default): kept until erased on request.
    #[serde(default)]
    pub keep_personal_data_after_close: Option<crate::sla::Span>,
}

/// Settings of the complaint analysis (reports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reports {
    /// A complaint is a repeat when the same complainant, or the same order or waybill,
    /// complained within this many days before it.
    #[serde(default = "thirty")]
    pub repeat_window_days: u32,
    /// How many recurring categories the analysis ranks.
    #[serde(default = "five")]
    pub top_categories: u32,
}

impl Default for Reports {
    fn default() -> Self {
        Self {
            repeat_window_days: thirty(),
            top_categories: five(),
        }
    }
}

fn thirty() -> u32 {
    30
}

fn five() -> u32 {
    5
}

/// One notification rule: at a moment, tell these audiences, by this channel, this text.
///
/// ```toml
/// [[notifications]]
/// on = "clock_breach"
/// to = ["responsible", "named"]
/// channel = "in_app"
/// text = { zh = "投诉 {complaint} 已超时", en = "Complaint {complaint} is late" }
/// ```
///
/// Placeholders: `{complaint}`, `{department}`, `{proposal}`, `{amount}`, `{phone}`,
/// `{email}`, a clock's deadline `{deadline:<clock>}` (or the first that runs of
/// `{deadline:<a>|<b>}`) and, at a clock moment (warning, breach, escalation, on-duty alert),
/// `{clock}`: its clock, and `{deadline}`: its clock's deadline (a breach's: the instant it
/// was due; not at an escalation, which comes after the deadline was missed); at an action
/// moment (`action_recorded`, `action:<key>`), `{action}`: the action's label. `{{` and `}}`
/// write braces. The text is rendered
/// as the command that caused the moment left the complaint; a placeholder that may have no
/// value at the moment (a department before routing, a deadline of a clock that may be
/// stopped or paused) is a problem when the policy loads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRule {
    /// The moment (see [`crate::notify::On`]: a moment's name, or `action:<key>`).
    pub on: crate::notify::On,
    /// Who is told.
    pub to: Vec<crate::notify::Audience>,
    /// How; by default SMS for the complainant and in-app for staff.
    #[serde(default)]
    pub channel: Option<crate::notify::Channel>,
    /// The text per language (none: the notifier composes its own).
    #[serde(default)]
    pub text: Labels,
    /// Only when this holds for the complaint as the command that caused the moment left it
    /// (a [`Condition`]); always when absent. Copy the general manager on major complaints
    /// only:
    ///
    /// ```toml
    /// [[notifications]]
    /// on = "assigned"
    /// to = ["role:general-manager"]
    /// when = { tier = "major" }
    /// ```
    #[serde(default)]
    pub when: Option<Condition>,
}

impl Policy {
    /// The time zone the policy's people live in: its first calendar's, UTC without one.
    /// Local times in notifications and reports are in this zone.
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.calendars
            .defs()
            .first()
            .and_then(|d| d.time_zone.parse().ok())
            .unwrap_or(chrono_tz::UTC)
    }

    /// The text for a notification in the policy's locale (or its first language): from the
    /// first rule that could have produced it, whatever its condition (`when`).
    pub fn text_for(&self, n: &crate::Notification) -> Option<&str> {
        self.notifications
            .iter()
            .filter(|r| r.on.covers(n.kind, None))
            .filter(|r| {
                r.channel
                    .unwrap_or_else(|| crate::notify::Channel::default_for(&n.recipient))
                    == n.channel
            })
            .filter(|r| r.to.iter().any(|a| a.covers(&n.recipient)))
            .find_map(|r| r.text.get(&self.locale).or_else(|| r.text.values().next()))
            .map(String::as_str)
    }
}

/// One routing rule: complaints whose category starts with `category` (and, when given, of
/// `tier`, from `channel`, and for which `when` holds) go to `primary`, helped by
/// `collaborating`. Among the rules that match, the one with more conditions wins (`tier`,
/// `channel` and `when` count one each, whatever `when` says), then the longer category, then
/// the earlier in the document.
///
/// ```toml
/// routing = [
///   { category = "loss", primary = "claims" },
///   # Insured losses of 5,000 CNY or more go to management, claims helping.
///   { category = "loss", primary = "management", collaborating = ["claims"], when = { all = [
///     { insured = true }, { amount_at_least = { minor = 500000, currency = "CNY" } },
///   ] } },
/// ]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// The category prefix.
    pub category: CategoryPath,
    /// Only for this tier (an override: major complaints go to the service manager).
    #[serde(default)]
    pub tier: Option<TierKey>,
    /// Only for this channel.
    #[serde(default)]
    pub channel: Option<ChannelKey>,
    /// The department that answers for it.
    pub primary: DepartmentKey,
    /// Departments that help.
    #[serde(default)]
    pub collaborating: Vec<DepartmentKey>,
    /// An external partner at fault (a subcontracted carrier, a supplier); otherwise the
    /// primary department is the internal unit.
    #[serde(default)]
    pub partner: Option<String>,
    /// Only when this [`Condition`] holds for the complaint being routed (as triage left
    /// it). The department is what routing picks, so a rule cannot ask for it.
    #[serde(default)]
    pub when: Option<Condition>,
}

/// One severity rule: when `when` holds, the tier is `tier`.
///
/// ```
/// # use plaint_core::policy::SeverityRule;
/// let rule: SeverityRule = toml::from_str(r#"
///     tier = "urgent"
///     when = { any = [{ flag = "illness" }, { all = [{ category = "food" }, { people_at_least = 3 }] }] }
/// "#).unwrap();
/// assert_eq!(rule.tier.as_str(), "urgent");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityRule {
    /// The condition.
    pub when: Condition,
    /// The tier it gives.
    pub tier: TierKey,
}

/// Labels by language tag (`en`, `zh`).
pub type Labels = BTreeMap<String, String>;

/// A channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelDef {
    /// Its key.
    pub key: ChannelKey,
    /// Its names.
    #[serde(default)]
    pub label: Labels,
}

/// A node of the category tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryNode {
    /// A key, stable across policy versions and unique among its siblings.
    pub key: CategoryKey,
    /// Its names.
    #[serde(default)]
    pub label: Labels,
    /// Finer categories (the root-cause levels).
    #[serde(default)]
    pub children: Vec<CategoryNode>,
}

/// A severity tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierDef {
    /// Its key.
    pub key: TierKey,
    /// Its names.
    #[serde(default)]
    pub label: Labels,
}

/// A severity flag the policy declares: a circumstance the receiver notes on the intake
/// (`Intake::flags`) and severity rules and conditions read (`{ flag = "media" }`). An intake
/// may carry only declared flags (a receipt with another is refused as `Invalid`, field
/// `flags`), and a condition may name only declared flags (checked when the policy loads).
///
/// ```
/// # use plaint_core::policy::FlagDef;
/// let flag: FlagDef = toml::from_str(r#"
///     key = "media"
///     label = { zh = "媒体介入", en = "the media are involved" }
/// "#).unwrap();
/// assert_eq!(flag.key.as_str(), "media");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagDef {
    /// Its key, as intakes carry it (`media`, `consumer_association`).
    pub key: Flag,
    /// Its names.
    #[serde(default)]
    pub label: Labels,
}

/// An action kind the procedure names: a step that is neither a stage nor the complainant's
/// business — a callback to the customer, a progress report to an internal desk, a record
/// filed for a manager's instruction, a result handed back from one department to another.
///
/// Staff whose roles the action lists record one with `Command::RecordAction` (command kind
/// `record_action`, which no role's `may` lists: the action's `roles` say who records it) in
/// any open stage, from receipt until the complaint is closed, withdrawn or merged; it changes
/// no stage. Clocks start, stop or reset on it (`start_on = ["action:callback"]`),
/// notification rules react to it (`on = "action:callback"`), and the audit trail and the
/// reports show it by its label in the policy's locale.
///
/// ```
/// # use plaint_core::policy::ActionDef;
/// let action: ActionDef = toml::from_str(r#"
///     key = "callback"
///     label = { zh = "回电", en = "callback to the customer" }
///     roles = ["agent", "service-manager"]
///     note_required = true
/// "#).unwrap();
/// assert!(action.note_required && !action.document_required);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionDef {
    /// Its key, as commands, clock triggers and notification rules name it.
    pub key: ActionKey,
    /// Its names; timelines and reports show the one in the policy's locale.
    #[serde(default)]
    pub label: Labels,
    /// The roles that may record it (at least one).
    pub roles: Vec<RoleKey>,
    /// Whether a recording must say what was done or said (a note).
    #[serde(default)]
    pub note_required: bool,
    /// Whether a recording must reference a document (a filed record, a signed form).
    #[serde(default)]
    pub document_required: bool,
}

/// A department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentDef {
    /// Its key.
    pub key: DepartmentKey,
    /// Its names.
    #[serde(default)]
    pub label: Labels,
}

/// A staff role and its authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleDef {
    /// Its key.
    pub key: RoleKey,
    /// Commands a holder of this role may give. Besides the lifecycle's steps: `consult`
    /// records a question answered at first contact as a consultation (no complaint, no
    /// clocks, counted apart in reports); `convert_to_complaint` turns a consultation the
    /// customer disputes into a complaint, for good (clocks on `received` start then; with
    /// `count_from = "first_report"` they count from the first contact); `adjust_points`
    /// adjusts a case's points with a reason (added before they are split by share; allowed
    /// on finished complaints too). A complainant can give none of these.
    ///
    /// ```toml
    /// [[roles]]
    /// key = "agent"
    /// may = ["receive", "acknowledge", "consult"]
    ///
    /// [[roles]]
    /// key = "service-manager"
    /// may = ["convert_to_complaint", "adjust_points"]
    /// ```
    pub may: BTreeSet<CommandKind>,
    /// The largest proposal amount this role may approve; absent means no limit.
    /// Only meaningful with `approve` in `may`.
    #[serde(default)]
    pub approval_limit: Option<Money>,
    /// The tiers whose proposals this role may approve; empty means every tier.
    #[serde(default)]
    pub approve_tiers: Vec<TierKey>,
    /// Whether this role may approve a proposal above its remedy's cap (the next level).
    #[serde(default)]
    pub approve_over_cap: bool,
    /// The proposals this role may approve, besides its tiers and limit: those for which this
    /// [`Condition`] holds (the complaint with the proposal at hand). Only meaningful with
    /// `approve` in `may`. A service manager who approves anything but compensation, whatever
    /// its amount (also when none is stated yet):
    ///
    /// ```toml
    /// approve_when = { not = { remedy = "compensation" } }
    /// ```
    #[serde(default)]
    pub approve_when: Option<Condition>,
    /// Whether notifications to this role show the complainant's phone and email unmasked.
    #[serde(default)]
    pub contact_access: bool,
    /// Which complaints the role acts on: every one (the default), or only those its
    /// holder's department is responsible for, as primary or collaborating department.
    ///
    /// ```toml
    /// [[roles]]
    /// key = "department-head"
    /// may = ["approve", "decline_approval"]
    /// scope = "responsible"
    /// ```
    #[serde(default)]
    pub scope: RoleScope,
}

/// Which complaints a role acts on.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RoleScope {
    /// Every complaint.
    #[default]
    Any,
    /// Only complaints routed to the holder's department (primary or collaborating): a
    /// complaint not yet routed, or a holder without a department, is out of its scope.
    Responsible,
}

impl RoleDef {
    /// Whether this role reaches `complaint` when held by someone of `department`.
    pub fn reaches(
        &self,
        department: Option<&DepartmentKey>,
        complaint: Option<&Complaint>,
    ) -> bool {
        match self.scope {
            RoleScope::Any => true,
            RoleScope::Responsible => {
                let responsible = complaint.and_then(|c| c.responsibility.as_ref());
                matches!((department, responsible), (Some(d), Some(r)) if r.involves(d))
            }
        }
    }
}

/// A remedy kind, with the caps on the money it may involve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemedyDef {
    /// Its key.
    pub key: RemedyKey,
    /// Its names.
    #[serde(default)]
    pub label: Labels,
    /// Compensation caps; the first whose condition holds applies.
    #[serde(default)]
    pub caps: Vec<Cap>,
    /// What a proposal above its cap gets.
    #[serde(default)]
    pub over_cap: OverCap,
}

/// A cap on a remedy's amount: `percent` of a basis amount from the intake, at least
/// `minimum` (food safety: ten times the price, at least 1,000).
///
/// ```
/// # use plaint_core::policy::Cap;
/// let cap: Cap = toml::from_str(r#"
///     when = { not = { insured = true } }
///     basis = "postage"
///     percent = 300
/// "#).unwrap();
/// assert_eq!(cap.percent, 300);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cap {
    /// When the cap applies; always when absent.
    #[serde(default)]
    pub when: Option<Condition>,
    /// The amount it is a multiple of.
    pub basis: Basis,
    /// The multiple, in percent (100: the basis itself; 300: three times it).
    #[serde(default = "hundred")]
    pub percent: u32,
    /// The cap is never below this.
    #[serde(default)]
    pub minimum: Option<Money>,
}

fn hundred() -> u32 {
    100
}

/// The intake amount a cap is based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The declared value of the shipment.
    DeclaredValue,
    /// The postage paid.
    Postage,
    /// The price paid.
    Price,
    /// The amount at stake the complainant stated.
    AmountAtStake,
}

/// What a proposal above its remedy's cap gets.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OverCap {
    /// It is refused.
    #[default]
    Reject,
    /// It needs approval by a role with `approve_over_cap`.
    Escalate,
}

/// Which optional steps of the lifecycle apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Steps {
    /// A proposal needs approval (批示) before the complainant sees it.
    #[serde(default)]
    pub approval: StepRule,
    /// The complainant must accept a proposal before it is carried out (协商).
    #[serde(default)]
    pub negotiation: StepRule,
    /// A follow-up call (回访) comes before closing.
    #[serde(default)]
    pub follow_up: StepRule,
}

/// When an optional step applies: for the listed tiers, when the proposal's amount reaches
/// `from_amount`, or when `when` holds (any of the three). The default (nothing listed) never
/// applies. Approval and negotiation are chosen when a proposal is made (and negotiation
/// again when it is approved), the follow-up when the complainant confirms; the event records
/// the choice.
///
/// ```
/// # use plaint_core::*;
/// # use plaint_core::policy::Facts;
/// // Major complaints, proposals of 100.00 or more, and any compensation (also one that
/// // states no amount yet) need approval.
/// let rule: StepRule = toml::from_str(r#"
///     tiers = ["major"]
///     from_amount = { minor = 10000, currency = "CNY" }
///     when = { remedy = "compensation" }
/// "#).unwrap();
/// let cny = Currency::new("CNY").unwrap();
/// let intake = testing::intake(testing::t(0));
/// let (major, general) = (TierKey::new("major").unwrap(), TierKey::new("general").unwrap());
/// let (refund, comp) = (RemedyKey::new("refund").unwrap(), RemedyKey::new("compensation").unwrap());
/// let at = |tier, remedy, amount| Facts::of_intake(&intake).with_tier(tier).with_proposal(remedy, amount);
/// let (enough, less) = (Money::new(10_000, cny), Money::new(9_999, cny));
/// assert!(rule.applies(&at(&major, &refund, None)));
/// assert!(rule.applies(&at(&general, &refund, Some(&enough))));
/// assert!(!rule.applies(&at(&general, &refund, Some(&less))));
/// assert!(rule.applies(&at(&general, &comp, None)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRule {
    /// Tiers the step applies to.
    #[serde(default)]
    pub tiers: Vec<TierKey>,
    /// The step applies to a proposal of this amount or more.
    #[serde(default)]
    pub from_amount: Option<Money>,
    /// The step applies when this [`Condition`] holds for the complaint as the choice is
    /// made (with the proposal at hand, or the answer being given).
    #[serde(default)]
    pub when: Option<Condition>,
}

impl StepRule {
    /// Whether the step applies: the tier is listed, the proposal's amount reaches
    /// `from_amount`, or `when` holds.
    pub fn applies(&self, facts: &Facts<'_>) -> bool {
        facts.tier().is_some_and(|t| self.tiers.contains(t))
            || matches!(
                (facts.proposed(), &self.from_amount),
                (Some(a), Some(min)) if a.checked_cmp(min).is_some_and(|o| o.is_ge())
            )
            || self.when.as_ref().is_some_and(|w| w.holds(facts))
    }

    /// Whether the step can apply at all (something is listed).
    pub fn is_used(&self) -> bool {
        !self.tiers.is_empty() || self.from_amount.is_some() || self.when.is_some()
    }
}

impl Policy {
    /// The policy format this release reads (the document's `format = 2`).
    pub const FORMAT: u32 = 2;

    /// What changed from each older format, for the error that refuses it: the same file
    /// means different deadlines under the new rules, so it is refused until someone looks.
    pub(crate) const FORMAT_CHANGES: &'static [&'static str] = &[
        "format 2: a tier change by triage re-projects every running clock onto the new tier's target \
         (format 1 kept the default tier's target for good); `working_days = n` now counts as \
         the law does — the start's date does not count, the deadline is the closing time of \
         the n-th following working day (format 1: the same time of day n working days later, \
         now `working_days_same_time = n`), and `days = n` and `day_window = { from, to }` \
         count dates the same way, as does `cutoff`'s `days_after` (format 1 counted from \
         the first cut-off still ahead), and a cut-off is measured in elapsed time so that \
         one after closing is kept; a condition about a fact not known yet (an amount at stake \
         the complainant did not state) does not hold, and neither does its `not` (format 1 \
         read `not = { amount_at_least = … }` as true without an amount); severity flags are \
         the policy's own (declare each flag an intake may carry and a condition names in \
         `flags`); add `format = 2` once the clocks and conditions mean what you want under \
         these rules",
    ];

    /// Things this policy can be loaded with but probably does not mean, each with its path
    /// and a suggestion (`clocks[4].targets.major.window: on calendar "office" the window
    /// counts open time: 5d..7d is 120..168 open hours, not days; …`). Loading does not fail
    /// on them; a tool that loads a policy for people should show them.
    pub fn warnings(&self) -> Vec<Problem> {
        check::warnings(self)
    }

    /// Loads a policy from TOML and checks it, reporting every problem found.
    ///
    /// # Errors
    /// [`PolicyError::Parse`] when the text is not TOML at all; otherwise
    /// [`PolicyError::Invalid`] with every problem, each with its path
    /// (`clocks[2].targets.hi: unknown tier "hi"`).
    pub fn from_toml_str(text: &str) -> Result<Self, PolicyError> {
        let value: toml::Value =
            toml::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        load::load(load::from_toml(value))
    }

    /// Loads a policy from JSON and checks it, like [`Policy::from_toml_str`].
    ///
    /// # Errors
    /// As [`Policy::from_toml_str`].
    pub fn from_json_str(text: &str) -> Result<Self, PolicyError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        load::load(value)
    }

    /// The JSON Schema of policy documents (committed as `schema/policy.schema.json`, so
    /// editors can offer completion and checks while a policy is written).
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(Policy);
        serde_json::to_string_pretty(&schema).expect("a schema serializes") + "\n"
    }

    /// The lifecycle this policy enables, as a Mermaid state diagram: the approval and
    /// negotiation stages only when some tier or amount needs them, and each edge labelled
    /// with the clocks it starts (⏱), stops (⏹) or pauses (⏸).
    ///
    /// ```
    /// let policy = plaint_core::Policy::from_toml_str(include_str!(
    ///     "../../../../examples/policies/express.toml"
    /// )).unwrap();
    /// let d = policy.diagram();
    /// assert!(d.contains("triaged --> investigating : route ⏱ investigation"));
    /// ```
    pub fn diagram(&self) -> String {
        use crate::lifecycle::graph::clock_triggers_of;
        let (approval, negotiation) = (
            self.steps.approval.is_used(),
            self.steps.negotiation.is_used(),
        );
        let consults = self
            .roles
            .iter()
            .any(|r| r.may.contains(&crate::CommandKind::Consult));
        crate::TransitionGraph::new().mermaid_with(|from, command, to| {
            let touches = |s: crate::StageKind| from == s || to == s;
            if (!approval && touches(crate::StageKind::AwaitingApproval))
                || (!negotiation && touches(crate::StageKind::AwaitingAgreement))
                || (!consults && touches(crate::StageKind::Consultation))
            {
                return None;
            }
            let events = clock_triggers_of(command, to);
            let mut label = String::new();
            for c in &self.clocks {
                if c.start_on.iter().any(|t| events.contains(&t.kind())) {
                    label.push_str(&format!(" ⏱ {}", c.key));
                }
                if c.stop_on.iter().any(|t| events.contains(&t.kind())) {
                    label.push_str(&format!(" ⏹ {}", c.key));
                }
                if c.pause_while.contains(&to) && from != to {
                    label.push_str(&format!(" ⏸ {}", c.key));
                }
            }
            Some(label)
        })
    }

    /// The tier the severity rules give a complaint being triaged (`facts`: its intake with
    /// the category and validity triage sets; the tier is not known to them): the first rule
    /// that holds, else the default tier.
    pub fn pick_tier(&self, facts: &Facts<'_>) -> &TierKey {
        let facts = facts.without_tier();
        self.severity
            .iter()
            .find(|r| r.when.holds(&facts))
            .map_or(&self.default_tier, |r| &r.tier)
    }

    /// The responsibility the routing rules give a complaint (`facts`: as triage left it, on
    /// its tier), if any rule matches; see [`RouteRule`] for which wins.
    pub fn route(&self, facts: &Facts<'_>) -> Option<crate::model::Responsibility> {
        let category = facts.category()?;
        let rule = self
            .routing
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                category.starts_with(&r.category)
                    && r.tier.as_ref().is_none_or(|t| facts.tier() == Some(t))
                    && r.channel
                        .as_ref()
                        .is_none_or(|c| &facts.intake().channel == c)
                    && r.when.as_ref().is_none_or(|w| w.holds(facts))
            })
            .max_by_key(|(i, r)| {
                let conditions = usize::from(r.tier.is_some())
                    + usize::from(r.channel.is_some())
                    + usize::from(r.when.is_some());
                (conditions, r.category.levels().len(), std::cmp::Reverse(*i))
            })?
            .1;
        Some(crate::model::Responsibility {
            primary: rule.primary.clone(),
            collaborating: rule.collaborating.clone(),
            party: match &rule.partner {
                Some(partner) => crate::model::Party::External {
                    partner: partner.as_str().into(),
                },
                None => crate::model::Party::Internal {
                    unit: rule.primary.as_str().into(),
                },
            },
        })
    }

    /// The cap on `remedy`'s amount for a complaint (`facts`: as it stands, with the
    /// proposal at hand): the first cap whose condition holds. `Ok(None)` when the remedy has
    /// no cap that applies.
    ///
    /// # Errors
    /// A sentence when the cap's basis is missing from the intake (and there is no minimum).
    pub fn cap(&self, remedy: &RemedyKey, facts: &Facts<'_>) -> Result<Option<Money>, String> {
        let Some(def) = self.remedies.iter().find(|r| &r.key == remedy) else {
            return Ok(None);
        };
        let Some(cap) = def
            .caps
            .iter()
            .find(|c| c.when.as_ref().is_none_or(|w| w.holds(facts)))
        else {
            return Ok(None);
        };
        let s = &facts.intake().subject;
        let basis = match cap.basis {
            Basis::DeclaredValue => s.declared_value,
            Basis::Postage => s.postage,
            Basis::Price => s.price,
            Basis::AmountAtStake => s.amount_at_stake,
        };
        let scaled = basis.map(|b| {
            Money::new(
                b.minor.saturating_mul(i64::from(cap.percent)) / 100,
                b.currency,
            )
        });
        match (scaled, cap.minimum) {
            (Some(a), Some(m)) => match a.checked_cmp(&m) {
                Some(order) => Ok(Some(if order.is_ge() { a } else { m })),
                None => Err(format!(
                    "the cap of \"{remedy}\" is based on {a}, not in the policy's currency {}",
                    m.currency
                )),
            },
            (Some(a), None) => Ok(Some(a)),
            (None, Some(m)) => Ok(Some(m)),
            (None, None) => Err(format!(
                "the cap of \"{remedy}\" is based on the {:?}, which the complaint does not state",
                cap.basis
            )),
        }
    }

    /// The tier's rank, 0 for the lowest; `None` for a tier the policy does not define.
    pub fn tier_rank(&self, tier: &TierKey) -> Option<usize> {
        self.tiers.iter().position(|t| &t.key == tier)
    }

    /// Whether the policy defines this channel.
    pub fn has_channel(&self, key: &ChannelKey) -> bool {
        self.channels.iter().any(|c| &c.key == key)
    }

    /// Whether the policy defines this department.
    pub fn has_department(&self, key: &DepartmentKey) -> bool {
        self.departments.iter().any(|d| &d.key == key)
    }

    /// Whether the policy allows this remedy kind.
    pub fn has_remedy(&self, key: &RemedyKey) -> bool {
        self.remedies.iter().any(|r| &r.key == key)
    }

    /// Whether the policy declares this severity flag.
    pub fn has_flag(&self, flag: &Flag) -> bool {
        self.flags.iter().any(|f| &f.key == flag)
    }

    /// The action kind's definition, if the policy declares it.
    pub fn action(&self, key: &ActionKey) -> Option<&ActionDef> {
        self.actions.iter().find(|a| &a.key == key)
    }

    /// The label in the policy's locale (or its first language), if there is one.
    pub fn label<'a>(&self, labels: &'a Labels) -> Option<&'a str> {
        labels
            .get(&self.locale)
            .or_else(|| labels.values().next())
            .map(String::as_str)
    }

    /// The clock arithmetic of this policy.
    pub(crate) fn clocks(&self) -> crate::sla::Clocks<'_> {
        crate::sla::Clocks {
            defs: &self.clocks,
            calendars: &self.calendars,
        }
    }

    /// When clock `clock` would fall due if it started at `from` on a complaint of `tier`
    /// received through `channel`: the due instants `decide` would write into its
    /// `ClockStarted` event. The target is the channel's where the clock has one, else the
    /// tier's; the clock's `target_rules` are not consulted (their conditions need a
    /// complaint). `None` when the policy has no such clock or it has no target for them.
    pub fn deadlines(
        &self,
        clock: &crate::ClockKey,
        tier: &TierKey,
        channel: Option<&crate::ChannelKey>,
        from: crate::Timestamp,
    ) -> Option<crate::sla::Projection> {
        let def = self.clocks.iter().find(|d| &d.key == clock)?;
        let target = channel
            .and_then(|c| def.channel_targets.get(c))
            .or_else(|| def.targets.get(tier))?;
        let from = from.clamp(crate::EARLIEST, crate::LATEST);
        Some(self.clocks().first_cycle(def, target, tier, from))
    }

    /// The role's definition, if the policy has it.
    pub fn role(&self, key: &RoleKey) -> Option<&RoleDef> {
        self.roles.iter().find(|r| &r.key == key)
    }

    /// Whether role `key` sees the complainant's contacts unmasked (its `contact_access`; an
    /// unknown role does not). The one rule notifications ([`crate::notify::render`]) and
    /// views ([`crate::view`]) mask contacts by.
    pub fn shows_contacts(&self, key: &RoleKey) -> bool {
        self.role(key).is_some_and(|r| r.contact_access)
    }

    /// Whether `path` names a node of the category tree (a leaf or an inner node).
    pub fn has_category(&self, path: &CategoryPath) -> bool {
        let mut level = &self.categories;
        for key in path.levels() {
            match level.iter().find(|n| &n.key == key) {
                Some(node) => level = &node.children,
                None => return false,
            }
        }
        !path.levels().is_empty()
    }
}

/// Why a policy could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The text is not a TOML or JSON document at all.
    #[error("policy does not parse: {0}")]
    Parse(String),
    /// The document is written in another format of the policy language than this release
    /// reads: an older one (`found` below [`Policy::FORMAT`]; `None` for the first format,
    /// which had no `format` key) with what changed since, or a newer one.
    #[error("{}", format_message(*.found))]
    Format {
        /// The document's format (`None`: format 1, written before the key existed).
        found: Option<u32>,
    },
    /// The document parses but has problems: all of them, in document order.
    #[error("{} problem(s) in the policy:\n{}", .0.len(), Problem::lines(.0))]
    Invalid(Vec<Problem>),
}

fn format_message(found: Option<u32>) -> String {
    let have = found.unwrap_or(1);
    if have > Policy::FORMAT {
        return format!(
            "the policy is written in format {have}, newer than format {} which this release reads",
            Policy::FORMAT
        );
    }
    let changes: Vec<&str> = Policy::FORMAT_CHANGES
        .iter()
        .skip((have as usize).saturating_sub(1))
        .copied()
        .collect();
    format!(
        "the policy is written in format {have}{}; this release reads format {}. What changed:\n  {}",
        if found.is_none() {
            " (it has no `format` key)"
        } else {
            ""
        },
        Policy::FORMAT,
        changes.join("\n  ")
    )
}

/// One problem in a policy document: where, and a plain sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The path of the offending value: `routing[3].primary`, `clocks[0].targets.hi`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl Problem {
    fn lines(problems: &[Problem]) -> String {
        problems
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Policy {
    /// The roles `actor` holds that reach `complaint` (see [`RoleDef::scope`]); none for a
    /// complainant or the system.
    pub fn acting_roles<'a>(
        &'a self,
        actor: &'a Actor,
        complaint: Option<&'a Complaint>,
    ) -> impl Iterator<Item = &'a RoleDef> + 'a {
        let (roles, department): (&[RoleKey], _) = match &actor.kind {
            ActorKind::Staff { roles, department } => (roles, department.as_ref()),
            _ => (&[], None),
        };
        roles
            .iter()
            .filter_map(|r| self.role(r))
            .filter(move |r| r.reaches(department, complaint))
    }
}
