//! What an actor asks the engine to do to one complaint: `Command` and its `CommandKind`.

use crate::id::{ActionKey, ClockKey, ComplaintId, RemedyKey, TierKey};
use crate::model::Timestamp;
use crate::model::{
    CategoryPath, DocumentRef, Evidence, Findings, Intake, Responsibility, Satisfaction, Text,
    Validity,
};
use crate::money::Money;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A request to change one complaint. [`crate::decide`] accepts it (producing events) or
/// rejects it (changing nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Command {
    /// Register a new complaint (受理/登记).
    Receive(std::sync::Arc<Intake>),
    /// Tell the complainant it was received.
    Acknowledge,
    /// Classify, set the tier (the policy's default when `None`) and judge validity.
    Triage {
        /// The category path as far as known now.
        category: CategoryPath,
        /// The tier; `None` takes the policy's default tier.
        tier: Option<TierKey>,
        /// Whether the company is responsible.
        validity: Validity,
    },
    /// Explain an invalid complaint to the complainant.
    Explain {
        /// The explanation.
        text: Text,
    },
    /// The complainant accepts the explanation: resolved by explanation.
    AcceptExplanation,
    /// The complainant rejects the explanation: the complaint goes back to triage.
    RejectExplanation {
        /// Why, when they say.
        reason: Option<Text>,
    },
    /// Assign responsibility (责任归属).
    Route {
        /// The primary department, collaborators and the party at fault; `None` lets the
        /// policy's routing rules choose.
        responsibility: Option<Responsibility>,
    },
    /// Move the complaint to another department during handling (a reason is required; a
    /// complaint bounced more often than the policy allows is flagged).
    Reassign {
        /// The new responsibility.
        responsibility: Responsibility,
        /// Why.
        reason: Text,
    },
    /// Record what investigation found; may set the root-cause category.
    RecordFindings {
        /// The facts.
        findings: Findings,
        /// A deeper category path (it must extend the triaged one).
        root_cause: Option<CategoryPath>,
    },
    /// Propose a remedy.
    Propose {
        /// The remedy kind.
        remedy: RemedyKey,
        /// What exactly is offered.
        description: Text,
        /// Money paid or refunded, in the policy's currency.
        amount: Option<Money>,
    },
    /// Approve the latest proposal.
    Approve {
        /// A remark.
        note: Option<Text>,
    },
    /// Decline the latest proposal; a new one is due.
    DeclineApproval {
        /// Why (required).
        reason: Text,
    },
    /// The complainant accepts the latest proposal.
    AcceptProposal {
        /// A written agreement, if one was signed.
        agreement: Option<DocumentRef>,
    },
    /// The complainant rejects the latest proposal; a new round begins.
    RejectProposal {
        /// Why, when they say.
        reason: Option<Text>,
    },
    /// Record a step of carrying out the remedy.
    RecordExecution {
        /// What was done.
        action: Text,
        /// A reference (payment id, new waybill).
        reference: Option<Text>,
        /// Whether this completes the execution.
        finished: bool,
    },
    /// Tell the complainant the result.
    GiveFeedback {
        /// What they were told.
        text: Text,
    },
    /// The complainant says whether they are satisfied; unsatisfied reopens the complaint.
    ConfirmSatisfaction(Satisfaction),
    /// Record a follow-up call; an unsatisfied answer reopens (reissues) the complaint.
    FollowUp(Satisfaction),
    /// Close and archive a remedied complaint.
    Close,
    /// Resolve at once where the complaint was received, and close it.
    ResolveOnTheSpot {
        /// The remedy given.
        remedy: RemedyKey,
        /// What was done.
        description: Text,
    },
    /// Withdraw the complaint.
    Withdraw {
        /// Why, when given.
        reason: Option<Text>,
    },
    /// Merge this complaint, a duplicate, into another one.
    Merge {
        /// The complaint that carries on.
        into: ComplaintId,
    },
    /// Change the severity tier during handling.
    ChangeTier {
        /// The new tier.
        tier: TierKey,
        /// Why (required; it is audited).
        reason: Text,
    },
    /// Add a piece of evidence.
    AddEvidence(Evidence),
    /// Report progress to the complainant (satisfies progress obligations: a clock that
    /// resets on `progress_reported`).
    ReportProgress {
        /// What they were told.
        note: Text,
    },
    /// Record one of the actions the policy declares (a callback, a progress report to a
    /// desk), in any open stage; the stage does not change. The action's `roles` say who may
    /// record it; its `note_required` and `document_required` what the recording must carry.
    RecordAction {
        /// The action kind (a key of the policy's `actions`).
        action: ActionKey,
        /// What was done or said.
        #[serde(default)]
        note: Option<Text>,
        /// The document it references (a filed record, a signed form).
        #[serde(default)]
        document: Option<DocumentRef>,
    },
    /// Replace a clock's deadline with one agreed with the complainant (capped by policy).
    AgreeDeadline {
        /// The clock.
        clock: ClockKey,
        /// The agreed deadline.
        deadline: Timestamp,
    },
    /// Fire the clock items due by `upto` (the engine's `tick` gives this, as the system).
    Tick {
        /// Fire what is due at or before this instant.
        upto: Timestamp,
    },
    /// Record a contact answered at first contact and accepted as a consultation (a question
    /// answered on the spot is no complaint): the new record goes to the `consultation`
    /// stage, where no clock runs, and is counted apart in reports. Its events are `Received`
    /// (the first contact) and `Consulted` (the answer).
    Consult {
        /// The contact, as a complaint's intake (`received_at` is the first contact).
        intake: std::sync::Arc<Intake>,
        /// The answer given.
        answer: Text,
    },
    /// Turn a consultation whose answer the customer disputes into a complaint, for good: it
    /// goes to `received` and keeps the first contact as its `received_at`. Clocks that start
    /// on `received` start now (and a clock with `count_from = "first_report"` counts from the
    /// first contact). Staff record it: a complainant disputes by contacting the company.
    ConvertToComplaint {
        /// What the customer disputes (required; it is audited).
        reason: Text,
    },
    /// Adjust the points the complaint costs its departments in reports (the procedures say
    /// "adjustable per case"): added to the complaint's points before they are split by share
    /// of responsibility. Allowed in every stage but a consultation, closed ones included.
    AdjustPoints {
        /// Points to add (negative costs more; not zero).
        points: i64,
        /// Why (required; it is audited).
        reason: Text,
    },
    /// Erase the complainant's personal data held in this complaint (a deletion request, or
    /// the retention period ran out): every personal field of the state and the history
    /// reads [`crate::privacy::ERASED`] afterwards, and stores shred the key that protected
    /// their copies. Allowed in every stage, once; only roles whose `may` lists
    /// `erase_personal_data` (none unless a policy says so).
    ErasePersonalData {
        /// Why (required; it is audited — the erasure records who, when and why, never what).
        reason: Text,
    },
    /// Redact one text staff wrote in an earlier event (a progress note quoting a phone
    /// number): it reads [`crate::privacy::REDACTED`] in the history and the state afterwards,
    /// and stores remove it from their copies. Allowed in every stage; only roles whose `may`
    /// lists `redact_text` (none unless a policy says so). The engine checks that the event
    /// has that text and that it is not redacted yet.
    RedactText {
        /// The version of the event (its number in the complaint's history, from 1).
        version: u64,
        /// Which of its texts ([`crate::privacy::StaffText`] names them: `note`, `reason`,
        /// `text`, `summary`, …).
        field: String,
        /// Why (required; it is audited — the redaction records who, when, which field and
        /// why, never what the text said).
        reason: Text,
    },
}

/// A [`Command`] without its data: what a policy grants to roles, and the edges of the
/// transition graph.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // one-to-one with `Command`
#[non_exhaustive]
pub enum CommandKind {
    Receive,
    Acknowledge,
    Triage,
    Explain,
    AcceptExplanation,
    RejectExplanation,
    Route,
    Reassign,
    RecordFindings,
    Propose,
    Approve,
    DeclineApproval,
    AcceptProposal,
    RejectProposal,
    RecordExecution,
    GiveFeedback,
    ConfirmSatisfaction,
    FollowUp,
    Close,
    ResolveOnTheSpot,
    Withdraw,
    Merge,
    ChangeTier,
    AddEvidence,
    ReportProgress,
    AgreeDeadline,
    Tick,
    RecordAction,
    Consult,
    ConvertToComplaint,
    AdjustPoints,
    /// [`Command::ErasePersonalData`].
    ErasePersonalData,
    /// [`Command::RedactText`].
    RedactText,
}

impl CommandKind {
    /// Every command kind, in declaration order.
    pub const ALL: [CommandKind; 33] = [
        Self::Receive,
        Self::Acknowledge,
        Self::Triage,
        Self::Explain,
        Self::AcceptExplanation,
        Self::RejectExplanation,
        Self::Route,
        Self::Reassign,
        Self::RecordFindings,
        Self::Propose,
        Self::Approve,
        Self::DeclineApproval,
        Self::AcceptProposal,
        Self::RejectProposal,
        Self::RecordExecution,
        Self::GiveFeedback,
        Self::ConfirmSatisfaction,
        Self::FollowUp,
        Self::Close,
        Self::ResolveOnTheSpot,
        Self::Withdraw,
        Self::Merge,
        Self::ChangeTier,
        Self::AddEvidence,
        Self::ReportProgress,
        Self::AgreeDeadline,
        Self::Tick,
        Self::RecordAction,
        Self::Consult,
        Self::ConvertToComplaint,
        Self::AdjustPoints,
        Self::ErasePersonalData,
        Self::RedactText,
    ];

    /// Commands a complainant may give on their own complaint.
    pub const COMPLAINANT: [CommandKind; 7] = [
        Self::AcceptExplanation,
        Self::RejectExplanation,
        Self::AcceptProposal,
        Self::RejectProposal,
        Self::ConfirmSatisfaction,
        Self::AddEvidence,
        Self::Withdraw,
    ];

    /// The snake_case name used in policies, errors and diagrams.
    pub fn name(self) -> &'static str {
        match self {
            Self::Receive => "receive",
            Self::Acknowledge => "acknowledge",
            Self::Triage => "triage",
            Self::Explain => "explain",
            Self::AcceptExplanation => "accept_explanation",
            Self::RejectExplanation => "reject_explanation",
            Self::Route => "route",
            Self::Reassign => "reassign",
            Self::RecordFindings => "record_findings",
            Self::Propose => "propose",
            Self::Approve => "approve",
            Self::DeclineApproval => "decline_approval",
            Self::AcceptProposal => "accept_proposal",
            Self::RejectProposal => "reject_proposal",
            Self::RecordExecution => "record_execution",
            Self::GiveFeedback => "give_feedback",
            Self::ConfirmSatisfaction => "confirm_satisfaction",
            Self::FollowUp => "follow_up",
            Self::Close => "close",
            Self::ResolveOnTheSpot => "resolve_on_the_spot",
            Self::Withdraw => "withdraw",
            Self::Merge => "merge",
            Self::ChangeTier => "change_tier",
            Self::AddEvidence => "add_evidence",
            Self::ReportProgress => "report_progress",
            Self::AgreeDeadline => "agree_deadline",
            Self::Tick => "tick",
            Self::RecordAction => "record_action",
            Self::Consult => "consult",
            Self::ConvertToComplaint => "convert_to_complaint",
            Self::AdjustPoints => "adjust_points",
            Self::ErasePersonalData => "erase_personal_data",
            Self::RedactText => "redact_text",
        }
    }
}

impl fmt::Display for CommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Command {
    /// The command without its data.
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::Receive(_) => CommandKind::Receive,
            Command::Acknowledge => CommandKind::Acknowledge,
            Command::Triage { .. } => CommandKind::Triage,
            Command::Explain { .. } => CommandKind::Explain,
            Command::AcceptExplanation => CommandKind::AcceptExplanation,
            Command::RejectExplanation { .. } => CommandKind::RejectExplanation,
            Command::Route { .. } => CommandKind::Route,
            Command::Reassign { .. } => CommandKind::Reassign,
            Command::RecordFindings { .. } => CommandKind::RecordFindings,
            Command::Propose { .. } => CommandKind::Propose,
            Command::Approve { .. } => CommandKind::Approve,
            Command::DeclineApproval { .. } => CommandKind::DeclineApproval,
            Command::AcceptProposal { .. } => CommandKind::AcceptProposal,
            Command::RejectProposal { .. } => CommandKind::RejectProposal,
            Command::RecordExecution { .. } => CommandKind::RecordExecution,
            Command::GiveFeedback { .. } => CommandKind::GiveFeedback,
            Command::ConfirmSatisfaction(_) => CommandKind::ConfirmSatisfaction,
            Command::FollowUp(_) => CommandKind::FollowUp,
            Command::Close => CommandKind::Close,
            Command::ResolveOnTheSpot { .. } => CommandKind::ResolveOnTheSpot,
            Command::Withdraw { .. } => CommandKind::Withdraw,
            Command::Merge { .. } => CommandKind::Merge,
            Command::ChangeTier { .. } => CommandKind::ChangeTier,
            Command::AddEvidence(_) => CommandKind::AddEvidence,
            Command::ReportProgress { .. } => CommandKind::ReportProgress,
            Command::AgreeDeadline { .. } => CommandKind::AgreeDeadline,
            Command::Tick { .. } => CommandKind::Tick,
            Command::RecordAction { .. } => CommandKind::RecordAction,
            Command::Consult { .. } => CommandKind::Consult,
            Command::ConvertToComplaint { .. } => CommandKind::ConvertToComplaint,
            Command::AdjustPoints { .. } => CommandKind::AdjustPoints,
            Command::ErasePersonalData { .. } => CommandKind::ErasePersonalData,
            Command::RedactText { .. } => CommandKind::RedactText,
        }
    }
}
