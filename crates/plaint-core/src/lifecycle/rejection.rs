//! Why a command was refused: the typed `Rejection` (a refused command changes nothing).

use super::{CommandKind, StageKind};
use crate::id::{ActorId, ComplaintId};
use crate::money::Money;

/// A refused command. A rejection never changes anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The actor lacks the authority.
    #[error("{actor} may not {command}: {reason}")]
    Forbidden {
        /// Who tried.
        actor: ActorId,
        /// What they tried.
        command: CommandKind,
        /// Why not.
        reason: ForbiddenReason,
    },
    /// The command does not apply in the complaint's stage.
    #[error("cannot {command} a complaint that is {from}")]
    IllegalTransition {
        /// The stage the complaint is in.
        from: StageKind,
        /// The command tried.
        command: CommandKind,
    },
    /// A field of the command is wrong for this policy or complaint.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field (`category`, `amount`, …).
        field: &'static str,
        /// A plain sentence.
        reason: String,
    },
    /// Another command changed the complaint first, and retries ran out.
    #[error("complaint changed concurrently: expected version {expected}, found {actual}")]
    Conflict {
        /// The version the command was decided on.
        expected: u64,
        /// The version found when appending.
        actual: u64,
    },
    /// No complaint has the id the command names.
    #[error("no such complaint")]
    NotFound,
    /// A tick found nothing due (another tick fired it first).
    #[error("nothing is due")]
    NothingDue,
    /// A complaint with this id was already received.
    #[error("complaint {0} already exists")]
    AlreadyExists(ComplaintId),
}

impl Rejection {
    /// The stable machine-readable code (see [`crate::wire`]): `forbidden`,
    /// `illegal_transition`, `invalid`, `conflict`, `not_found`, `nothing_due` or
    /// `already_exists`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Forbidden { .. } => "forbidden",
            Self::IllegalTransition { .. } => "illegal_transition",
            Self::Invalid { .. } => "invalid",
            Self::Conflict { .. } => "conflict",
            Self::NotFound => "not_found",
            Self::NothingDue => "nothing_due",
            Self::AlreadyExists(_) => "already_exists",
        }
    }
}

/// Why an actor may not give a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ForbiddenReason {
    /// None of the actor's roles grants the command.
    #[error("none of their roles grants it")]
    NoRole,
    /// A role of theirs grants the command, but only on complaints their department is
    /// responsible for, and this is not one.
    #[error("their department is not responsible for this complaint")]
    NotResponsible,
    /// Complainants may only accept or reject, confirm, add evidence, or withdraw.
    #[error("a complainant may not do this")]
    NotForComplainants,
    /// None of the actor's approving roles covers the complaint's tier.
    #[error("their roles do not approve {tier} complaints")]
    TierNotApprovable {
        /// The complaint's tier.
        tier: crate::TierKey,
    },
    /// The amount is above the remedy's cap and no role of theirs approves over caps.
    #[error("{amount} exceeds the cap of {cap}, which needs the next approval level")]
    OverCap {
        /// The cap.
        cap: Money,
        /// The proposal's amount.
        amount: Money,
    },
    /// Only the engine, as the system actor, may tick; the system may do nothing else.
    #[error("only the system ticks, and it does nothing else")]
    SystemOnly,
    /// The proposer may not approve their own proposal.
    #[error("they proposed it themselves")]
    OwnProposal,
    /// None of the actor's approving roles for the tier approves this proposal (the role's
    /// `approve_when` does not hold).
    #[error("their roles do not approve this proposal")]
    NotApprovable,
    /// None of the actor's roles is among those the action lists.
    #[error("none of their roles records \"{action}\"")]
    ActionNotForRole {
        /// The action kind.
        action: crate::ActionKey,
    },
    /// The amount exceeds every approval limit of the actor's roles.
    #[error("{amount} exceeds their approval limit of {limit}")]
    OverApprovalLimit {
        /// Their highest limit.
        limit: Money,
        /// The proposal's amount.
        amount: Money,
    },
}

impl ForbiddenReason {
    /// The stable machine-readable code of the reason, given as `details.reason` of a
    /// `forbidden` error body (see [`crate::wire`]).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoRole => "no_role",
            Self::NotResponsible => "not_responsible",
            Self::NotForComplainants => "not_for_complainants",
            Self::TierNotApprovable { .. } => "tier_not_approvable",
            Self::OverCap { .. } => "over_cap",
            Self::SystemOnly => "system_only",
            Self::OwnProposal => "own_proposal",
            Self::NotApprovable => "not_approvable",
            Self::ActionNotForRole { .. } => "action_not_for_role",
            Self::OverApprovalLimit { .. } => "over_approval_limit",
        }
    }
}
