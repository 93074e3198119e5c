//! What happened to a complaint: past-tense `Event`s, and `Recorded` (who, when, which command).

use crate::id::{ActorId, CommandId, ComplaintId, RemedyKey, TierKey};
use crate::model::{
    CategoryPath, DocumentRef, Evidence, Findings, Intake, Resolution, Responsibility,
    Satisfaction, Text, Timestamp, Validity,
};
use crate::money::Money;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A fact about a complaint. Events carry everything replay needs, including every
/// decision the policy made (`next`, `follow_up_required`), so replay never consults rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The complaint was registered, under this policy version.
    Received {
        /// What was registered.
        intake: Arc<Intake>,
        /// The policy version the complaint stays pinned to.
        policy_version: u32,
    },
    /// The complainant was told it was received.
    Acknowledged,
    /// Category, tier and validity were set.
    Triaged {
        /// The category path.
        category: CategoryPath,
        /// The tier.
        tier: TierKey,
        /// The validity judgement.
        validity: Validity,
    },
    /// An invalid complaint was explained.
    Explained {
        /// The explanation.
        text: Text,
    },
    /// The explanation satisfied the complainant.
    ExplanationAccepted,
    /// The explanation did not satisfy; back to triage.
    ExplanationRejected {
        /// Why.
        reason: Option<Text>,
    },
    /// Responsibility was assigned.
    Routed {
        /// To whom.
        responsibility: Responsibility,
    },
    /// Investigation findings were recorded.
    FindingsRecorded {
        /// The facts.
        findings: Findings,
        /// The deeper (root-cause) category path, when set.
        root_cause: Option<CategoryPath>,
    },
    /// A remedy was proposed.
    RemedyProposed {
        /// The remedy kind.
        remedy: RemedyKey,
        /// What is offered.
        description: Text,
        /// Money involved.
        amount: Option<Money>,
        /// The step the policy sends it to.
        next: Next,
    },
    /// The latest proposal was approved.
    ApprovalGranted {
        /// A remark.
        note: Option<Text>,
        /// The step the policy sends it to.
        next: Next,
    },
    /// The latest proposal was declined by the approver.
    ApprovalDeclined {
        /// Why.
        reason: Text,
    },
    /// The complainant accepted the latest proposal.
    ProposalAccepted {
        /// A written agreement.
        agreement: Option<DocumentRef>,
    },
    /// The complainant rejected the latest proposal.
    ProposalRejected {
        /// Why.
        reason: Option<Text>,
    },
    /// A step of execution was recorded.
    ExecutionRecorded {
        /// What was done.
        action: Text,
        /// A reference.
        reference: Option<Text>,
        /// Whether execution is complete.
        finished: bool,
    },
    /// The complainant was told the result.
    FeedbackGiven {
        /// What they were told.
        text: Text,
    },
    /// The complainant said how satisfied they are.
    SatisfactionRecorded {
        /// Their answer.
        satisfaction: Satisfaction,
        /// Whether the policy asks for a follow-up before closing (decided now).
        follow_up_required: bool,
    },
    /// A follow-up call was made.
    FollowedUp {
        /// What the complainant said.
        satisfaction: Satisfaction,
    },
    /// The complaint went back to investigation.
    Reopened {
        /// Why.
        cause: ReopenCause,
    },
    /// A remedy was given at once where the complaint was received.
    ResolvedOnTheSpot {
        /// The remedy kind.
        remedy: RemedyKey,
        /// What was done.
        description: Text,
    },
    /// The complaint was closed.
    Closed {
        /// How it was resolved.
        resolution: Resolution,
    },
    /// The complaint was withdrawn.
    Withdrawn {
        /// Why.
        reason: Option<Text>,
    },
    /// The complaint was merged into another.
    Merged {
        /// The complaint that carries on.
        into: ComplaintId,
    },
    /// The tier changed during handling.
    TierChanged {
        /// The old tier.
        from: TierKey,
        /// The new tier.
        to: TierKey,
        /// Why.
        reason: Text,
    },
    /// Evidence was added.
    EvidenceAdded {
        /// The evidence.
        evidence: Evidence,
    },
}

/// Where a proposal goes next, as the policy decided when the event was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Next {
    /// To approval.
    Approval,
    /// To the complainant for agreement.
    Agreement,
    /// Straight to execution.
    Execution,
}

/// Why a complaint was reopened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReopenCause {
    /// Unsatisfied when confirming the result.
    UnsatisfiedAtConfirmation,
    /// Unsatisfied at the follow-up call (the complaint is reissued).
    UnsatisfiedAtFollowUp,
}

/// An event as stored: its position in the complaint's stream, when, who and which command.
/// This is also the audit trail's entry (who, when, what; the event says why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// 1 for the complaint's first event, then 2, 3, …
    pub version: u64,
    /// When it was decided.
    pub at: Timestamp,
    /// Who gave the command.
    pub actor: ActorId,
    /// The command that caused it.
    pub command: CommandId,
    /// What happened.
    pub event: Event,
}

impl std::fmt::Display for Event {
    /// One plain line for timelines and audit views. It never shows contact data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let opt = |o: &Option<Text>| o.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
        match self {
            Event::Received {
                intake,
                policy_version,
            } => write!(
                f,
                "received via {} under policy v{policy_version}: {}",
                intake.channel, intake.description
            ),
            Event::Acknowledged => f.write_str("receipt acknowledged to the complainant"),
            Event::Triaged {
                category,
                tier,
                validity,
            } => {
                let v = match validity {
                    Validity::Valid => "valid".to_owned(),
                    Validity::Invalid { reason } => format!("invalid: {reason:?}"),
                };
                write!(f, "triaged as {category}, tier {tier}, {v}")
            }
            Event::Explained { text } => write!(f, "explained: {text}"),
            Event::ExplanationAccepted => f.write_str("explanation accepted"),
            Event::ExplanationRejected { reason } => {
                write!(f, "explanation rejected{}", opt(reason))
            }
            Event::Routed { responsibility } => {
                write!(f, "routed to {}", responsibility.primary)?;
                if !responsibility.collaborating.is_empty() {
                    let c: Vec<&str> = responsibility
                        .collaborating
                        .iter()
                        .map(|d| d.as_str())
                        .collect();
                    write!(f, " with {}", c.join(", "))?;
                }
                Ok(())
            }
            Event::FindingsRecorded {
                findings,
                root_cause,
            } => {
                write!(f, "findings: {}", findings.summary)?;
                match root_cause {
                    Some(p) => write!(f, " (root cause {p})"),
                    None => Ok(()),
                }
            }
            Event::RemedyProposed {
                remedy,
                description,
                amount,
                next,
            } => {
                write!(f, "proposed {remedy}: {description}")?;
                if let Some(a) = amount {
                    write!(f, ", {a}")?;
                }
                write!(f, " → {}", next_name(*next))
            }
            Event::ApprovalGranted { next, .. } => write!(f, "approved → {}", next_name(*next)),
            Event::ApprovalDeclined { reason } => write!(f, "approval declined ({reason})"),
            Event::ProposalAccepted { agreement } => {
                write!(f, "proposal accepted")?;
                match agreement {
                    Some(d) => write!(f, ", written agreement {}", d.reference),
                    None => Ok(()),
                }
            }
            Event::ProposalRejected { reason } => write!(f, "proposal rejected{}", opt(reason)),
            Event::ExecutionRecorded {
                action, finished, ..
            } => {
                write!(
                    f,
                    "executed: {action}{}",
                    if *finished { " (done)" } else { "" }
                )
            }
            Event::FeedbackGiven { text } => write!(f, "feedback given: {text}"),
            Event::SatisfactionRecorded {
                satisfaction,
                follow_up_required,
            } => write!(
                f,
                "complainant {}{}",
                if satisfaction.satisfied {
                    "satisfied"
                } else {
                    "not satisfied"
                },
                if *follow_up_required {
                    "; follow-up required"
                } else {
                    ""
                }
            ),
            Event::FollowedUp { satisfaction } => write!(
                f,
                "followed up: {}",
                if satisfaction.satisfied {
                    "satisfied"
                } else {
                    "not satisfied"
                }
            ),
            Event::Reopened { cause } => write!(f, "reopened ({cause:?})"),
            Event::ResolvedOnTheSpot {
                remedy,
                description,
            } => {
                write!(f, "resolved on the spot by {remedy}: {description}")
            }
            Event::Closed { resolution } => write!(f, "closed ({resolution:?})"),
            Event::Withdrawn { reason } => write!(f, "withdrawn{}", opt(reason)),
            Event::Merged { into } => write!(f, "merged into {into}"),
            Event::TierChanged { from, to, reason } => {
                write!(f, "tier changed {from} → {to} ({reason})")
            }
            Event::EvidenceAdded { evidence } => {
                write!(
                    f,
                    "evidence added: {:?} {}",
                    evidence.kind, evidence.reference
                )
            }
        }
    }
}

fn next_name(next: Next) -> &'static str {
    match next {
        Next::Approval => "awaiting approval",
        Next::Agreement => "awaiting the complainant's agreement",
        Next::Execution => "to execution",
    }
}
