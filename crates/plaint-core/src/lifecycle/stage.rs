//! Where a complaint is in its lifecycle: `Stage` (with data) and its fieldless `StageKind`.

use crate::id::ComplaintId;
use crate::model::Resolution;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The stage of a complaint. Variants carry their own data; `kind()` drops it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Stage {
    /// Registered; triage (category, tier, validity) is due.
    Received,
    /// Judged valid; routing to a responsible department is due.
    Triaged,
    /// Judged invalid; an explanation is due.
    Invalid,
    /// Explained; waiting for the complainant to accept the explanation.
    Explained,
    /// Routed; the responsible department investigates.
    Investigating,
    /// Investigated; a remedy proposal is due (also after a rejected or declined proposal).
    Proposing,
    /// The latest proposal waits for approval (批示).
    AwaitingApproval,
    /// The latest proposal waits for the complainant's answer (协商).
    AwaitingAgreement,
    /// The agreed remedy is being carried out.
    Executing,
    /// Carried out; feedback to the complainant is due.
    Executed,
    /// Feedback given; waiting for the complainant to confirm satisfaction.
    AwaitingConfirmation,
    /// The complainant is satisfied; a follow-up (if the policy asks) and closing are due.
    Confirmed,
    /// Followed up with a satisfied complainant; closing is due.
    FollowedUp,
    /// Closed and archived.
    Closed {
        /// How it was resolved.
        resolution: Resolution,
    },
    /// Withdrawn by (or for) the complainant.
    Withdrawn,
    /// A duplicate, merged into another complaint.
    Merged {
        /// The complaint it was merged into.
        into: ComplaintId,
    },
    /// A contact answered at first contact and accepted as a consultation (咨询): no complaint,
    /// no clocks, counted apart in reports. Only [`crate::Command::ConvertToComplaint`] leaves
    /// it, to `received`, for good.
    Consultation,
}

/// A [`Stage`] without its data: the nodes of the transition graph.
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
#[allow(missing_docs)] // one-to-one with `Stage`
pub enum StageKind {
    Received,
    Triaged,
    Invalid,
    Explained,
    Investigating,
    Proposing,
    AwaitingApproval,
    AwaitingAgreement,
    Executing,
    Executed,
    AwaitingConfirmation,
    Confirmed,
    FollowedUp,
    Closed,
    Withdrawn,
    Merged,
    Consultation,
}

impl StageKind {
    /// Every stage kind, in lifecycle order (consultations last: they stand beside it).
    pub const ALL: [StageKind; 17] = [
        Self::Received,
        Self::Triaged,
        Self::Invalid,
        Self::Explained,
        Self::Investigating,
        Self::Proposing,
        Self::AwaitingApproval,
        Self::AwaitingAgreement,
        Self::Executing,
        Self::Executed,
        Self::AwaitingConfirmation,
        Self::Confirmed,
        Self::FollowedUp,
        Self::Closed,
        Self::Withdrawn,
        Self::Merged,
        Self::Consultation,
    ];

    /// The stages a complaint can begin in: `received` (by `receive`) and `consultation` (by
    /// `consult`).
    pub const ENTRY: [StageKind; 2] = [Self::Received, Self::Consultation];

    /// True for stages nothing leaves: closed, withdrawn, merged.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Withdrawn | Self::Merged)
    }

    /// True for the stages of a complaint being handled: neither terminal nor a
    /// consultation. Only these run clocks and take the commands of "any open stage".
    pub fn is_handling(self) -> bool {
        !self.is_terminal() && self != Self::Consultation
    }

    /// The snake_case name used in policies, errors and diagrams.
    pub fn name(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Triaged => "triaged",
            Self::Invalid => "invalid",
            Self::Explained => "explained",
            Self::Investigating => "investigating",
            Self::Proposing => "proposing",
            Self::AwaitingApproval => "awaiting_approval",
            Self::AwaitingAgreement => "awaiting_agreement",
            Self::Executing => "executing",
            Self::Executed => "executed",
            Self::AwaitingConfirmation => "awaiting_confirmation",
            Self::Confirmed => "confirmed",
            Self::FollowedUp => "followed_up",
            Self::Closed => "closed",
            Self::Withdrawn => "withdrawn",
            Self::Merged => "merged",
            Self::Consultation => "consultation",
        }
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Stage {
    /// The stage without its data.
    pub fn kind(&self) -> StageKind {
        match self {
            Stage::Received => StageKind::Received,
            Stage::Triaged => StageKind::Triaged,
            Stage::Invalid => StageKind::Invalid,
            Stage::Explained => StageKind::Explained,
            Stage::Investigating => StageKind::Investigating,
            Stage::Proposing => StageKind::Proposing,
            Stage::AwaitingApproval => StageKind::AwaitingApproval,
            Stage::AwaitingAgreement => StageKind::AwaitingAgreement,
            Stage::Executing => StageKind::Executing,
            Stage::Executed => StageKind::Executed,
            Stage::AwaitingConfirmation => StageKind::AwaitingConfirmation,
            Stage::Confirmed => StageKind::Confirmed,
            Stage::FollowedUp => StageKind::FollowedUp,
            Stage::Closed { .. } => StageKind::Closed,
            Stage::Withdrawn => StageKind::Withdrawn,
            Stage::Merged { .. } => StageKind::Merged,
            Stage::Consultation => StageKind::Consultation,
        }
    }

    /// True for closed, withdrawn and merged complaints.
    pub fn is_terminal(&self) -> bool {
        self.kind().is_terminal()
    }
}
