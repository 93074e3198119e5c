//! The records a complaint is made of: what was registered, how it was judged and remedied.

use crate::complainant::Complainant;
pub use crate::id::Flag;
use crate::id::{ActorId, CategoryKey, ChannelKey, DepartmentKey, RemedyKey};
use crate::money::Money;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

/// An instant. The core never reads the system clock: every instant comes in from outside.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The earliest instant plaint accepts from outside — an intake's times, an agreed deadline,
/// the engine's `now`: 1970-01-01T00:00:00Z. With [`LATEST`] it bounds what `decide` takes,
/// so every deadline computed from it is exact (the calendars' time-zone tables cover the
/// range) and no clock arithmetic can overflow; instants outside are refused as
/// [`crate::Rejection::Invalid`].
pub const EARLIEST: Timestamp = at_second(0);

/// The latest instant plaint accepts from outside: 2100-12-31T23:59:59Z (see [`EARLIEST`]).
pub const LATEST: Timestamp = at_second(4_133_980_799);

const fn at_second(secs: i64) -> Timestamp {
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => t,
        None => panic!("a representable instant"),
    }
}

/// Whether `t` lies in [`EARLIEST`] ..= [`LATEST`].
pub fn is_supported(t: Timestamp) -> bool {
    (EARLIEST..=LATEST).contains(&t)
}

/// `Ok` when `t` is supported, else the `Invalid` rejection of `field` that says why.
pub(crate) fn check_supported(field: &'static str, t: Timestamp) -> Result<(), crate::Rejection> {
    if is_supported(t) {
        return Ok(());
    }
    Err(crate::Rejection::Invalid {
        field,
        reason: format!(
            "{t} is outside {EARLIEST} ..= {LATEST}, the instants plaint computes deadlines for"
        ),
    })
}

/// Free text (descriptions, reasons, references). An `Arc<str>`: a complaint's state is copied
/// on every command, and copying text is then a reference-count increment. Build one with
/// `.into()` from a `&str` or a `Text`.
pub type Text = Arc<str>;

/// Everything registered when a complaint is received (DOMAIN.md §1, 登记).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Intake {
    /// Who complained, and how to reach them.
    pub complainant: Complainant,
    /// The channel it arrived on.
    pub channel: ChannelKey,
    /// When it arrived (may be earlier than its registration).
    pub received_at: Timestamp,
    /// What the complaint is about.
    #[serde(default)]
    pub subject: Subject,
    /// The complainant's own account.
    pub description: Text,
    /// Evidence handed in at receipt.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// What the complainant asks for, in their words.
    #[serde(default)]
    pub requested_remedy: Option<Text>,
    /// Staff the complaint names (a courier, a waiter).
    #[serde(default)]
    pub staff_involved: Vec<Text>,
    /// What the receiver noted about it (illness, media, a lawyer…): severity rules read these.
    /// Each must be one of the policy's declared `flags` (checked at receipt).
    #[serde(default)]
    pub flags: BTreeSet<Flag>,
    /// How many people are affected, when more than the complainant.
    #[serde(default)]
    pub people_affected: Option<u32>,
}

/// References to what the complaint concerns. All optional: a hotel guest has no waybill.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Subject {
    /// Order number.
    pub order: Option<Text>,
    /// Waybill (tracking) number.
    pub waybill: Option<Text>,
    /// Product name or SKU.
    pub product: Option<Text>,
    /// Where it happened (an outlet, a room, a store).
    pub place: Option<Text>,
    /// When the product or service was bought.
    pub purchased_at: Option<Timestamp>,
    /// Money at stake as the complainant states it.
    pub amount_at_stake: Option<Money>,
    /// The value declared when shipping.
    #[serde(default)]
    pub declared_value: Option<Money>,
    /// Whether the shipment was insured.
    #[serde(default)]
    pub insured: bool,
    /// The postage paid.
    #[serde(default)]
    pub postage: Option<Money>,
    /// The price paid for the product or service.
    #[serde(default)]
    pub price: Option<Money>,
}

/// A reference to a piece of evidence held elsewhere: never the blob itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Evidence {
    /// What it is.
    pub kind: EvidenceKind,
    /// Where it is (a URL, an object-store key, a file number).
    pub reference: Text,
    /// A content hash (e.g. `sha256:…`) so the reference can be checked later.
    #[serde(default)]
    pub content_hash: Option<Text>,
}

/// The kinds of evidence complaints come with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EvidenceKind {
    /// A photograph.
    Photo,
    /// A video.
    Video,
    /// A call recording.
    Recording,
    /// A chat log.
    ChatLog,
    /// A receipt or invoice.
    Receipt,
    /// A written statement (staff or witness).
    Statement,
    /// Anything else.
    Other,
}

/// A path in the policy's category tree, root first: `logistics/delay/hub-backlog`.
/// The deepest (root-cause) level is set only after investigation. Serialized as the
/// `/`-separated string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategoryPath(Arc<[CategoryKey]>);

impl CategoryPath {
    /// A path from its levels, root first.
    pub fn new(levels: Vec<CategoryKey>) -> Self {
        Self(levels.into())
    }

    /// Parses `a/b/c`.
    ///
    /// # Errors
    /// [`crate::IdError`] for an empty or malformed level.
    pub fn parse(s: &str) -> Result<Self, crate::IdError> {
        s.split('/')
            .map(CategoryKey::new)
            .collect::<Result<Vec<_>, _>>()
            .map(Self::new)
    }

    /// The levels, root first.
    pub fn levels(&self) -> &[CategoryKey] {
        &self.0
    }

    /// True when `self` starts with every level of `prefix`.
    pub fn starts_with(&self, prefix: &CategoryPath) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl schemars::JsonSchema for CategoryPath {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CategoryPath".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[A-Za-z0-9._:-]{1,64}(/[A-Za-z0-9._:-]{1,64})*$",
            "description": "A path in the category tree, root first: logistics/delay.",
        })
    }
}

impl TryFrom<String> for CategoryPath {
    type Error = crate::IdError;
    fn try_from(s: String) -> Result<Self, crate::IdError> {
        Self::parse(&s)
    }
}

impl From<CategoryPath> for String {
    fn from(p: CategoryPath) -> String {
        p.to_string()
    }
}

impl fmt::Display for CategoryPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, k) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            f.write_str(k.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for CategoryPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CategoryPath({self})")
    }
}

/// Whether the company is responsible (是否成立).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "is", rename_all = "snake_case")]
pub enum Validity {
    /// The complaint is founded.
    Valid,
    /// The complaint is not founded; it gets an explanation instead of a remedy.
    Invalid {
        /// Why not.
        reason: InvalidReason,
    },
}

/// Why a complaint was judged invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InvalidReason {
    /// The company is not responsible (a third party, force majeure, the customer's own act).
    NotResponsible,
    /// The customer misunderstood (terms, a promotion's rules).
    Misunderstanding,
    /// A question, not a complaint.
    NotAComplaint,
}

/// Who answers for the complaint (责任归属).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Responsibility {
    /// The one department that owns it.
    pub primary: DepartmentKey,
    /// Departments that help.
    #[serde(default)]
    pub collaborating: Vec<DepartmentKey>,
    /// Whether the fault lies with an internal unit or an external partner.
    pub party: Party,
}

impl Responsibility {
    /// Whether `department` answers for the complaint, as primary or collaborating department.
    pub fn involves(&self, department: &DepartmentKey) -> bool {
        &self.primary == department || self.collaborating.contains(department)
    }
}

/// Where the fault lies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Party {
    /// An internal unit: a courier, an outlet, a hub, housekeeping…
    Internal {
        /// The unit, as named locally (`outlet-17`, `courier-0042`).
        unit: Text,
    },
    /// An external partner: a subcontracted carrier, a supplier.
    External {
        /// The partner, as named locally.
        partner: Text,
    },
}

/// What investigation found (调查核实).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Findings {
    /// The facts gathered.
    pub summary: Text,
    /// Records consulted (waybill trace, production batch, CCTV), as references.
    #[serde(default)]
    pub records: Vec<Text>,
}

/// One remedy proposal (处理方案); a rejected proposal is followed by a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Proposal {
    /// 1 for the first proposal, 2 for the second round, …
    pub number: u32,
    /// The kind of remedy.
    pub remedy: RemedyKey,
    /// What exactly is offered.
    pub description: Text,
    /// Money paid or refunded, if any.
    pub amount: Option<Money>,
    /// Who proposed it (and so may not approve it).
    pub proposed_by: ActorId,
    /// When.
    pub proposed_at: Timestamp,
    /// Approval decisions on it, in order.
    pub approvals: Vec<Approval>,
    /// The complainant's answer, once given.
    pub response: Option<Response>,
}

/// One approval decision (批示).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Approval {
    /// Who decided.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
    /// Granted or declined.
    pub granted: bool,
    /// Their remark.
    pub note: Option<Text>,
}

/// The complainant's answer to a proposal (协商).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Response {
    /// When.
    pub at: Timestamp,
    /// Accepted or rejected.
    pub accepted: bool,
    /// Why, when they say.
    pub reason: Option<Text>,
}

/// A reference to a document held elsewhere (a signed written agreement).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DocumentRef {
    /// Where it is.
    pub reference: Text,
    /// A content hash, if known.
    #[serde(default)]
    pub content_hash: Option<Text>,
}

/// One step of carrying out the agreed remedy (执行): a refund paid, a parcel reshipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExecutionRecord {
    /// Who did it.
    pub by: ActorId,
    /// When it was recorded.
    pub at: Timestamp,
    /// What was done.
    pub action: Text,
    /// A reference (payment id, new waybill).
    pub reference: Option<Text>,
}

/// An action the policy declares, as recorded on a complaint (a callback, a progress report
/// to a desk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ActionRecord {
    /// Which action kind.
    pub action: crate::id::ActionKey,
    /// Its label in the policy's locale when it was recorded.
    pub label: Text,
    /// Who recorded it.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
    /// What was done or said.
    pub note: Option<Text>,
    /// The document it references.
    pub document: Option<DocumentRef>,
}

/// A note given to the complainant (the result, an explanation) by a staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Note {
    /// Who gave it.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
    /// What was said.
    pub text: Text,
}

/// A contact answered at first contact and accepted as a consultation, and its conversion
/// into a complaint if the customer disputed the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Consultation {
    /// The answer given, by whom and when.
    pub answer: Note,
    /// Who turned it into a complaint, when and why (what the customer disputes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converted: Option<Note>,
}

/// An adjustment of the points a complaint costs its departments, by an authorised role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PointsAdjustment {
    /// Points added (negative costs more).
    pub points: i64,
    /// Why.
    pub reason: Text,
    /// Who adjusted them.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
}

/// How satisfied the complainant said they were (at confirmation, follow-up or survey).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Satisfaction {
    /// Satisfied or not; an unsatisfied answer reopens the complaint.
    pub satisfied: bool,
    /// A score from 1 (worst) to 5 (best), if given.
    pub score: Option<u8>,
    /// Their words.
    pub comment: Option<Text>,
}

/// The result of a follow-up call (回访).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FollowUp {
    /// Who called.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
    /// What the complainant said.
    pub satisfaction: Satisfaction,
}

/// How a closed complaint was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Fixed at once where it was received (a front desk).
    OnTheSpot,
    /// Invalid, and the explanation satisfied the complainant.
    ByExplanation,
    /// A remedy was agreed, carried out and confirmed.
    Remedied,
}
