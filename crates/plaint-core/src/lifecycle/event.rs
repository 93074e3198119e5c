//! What happened to a complaint: past-tense `Event`s, and `Recorded` (who, when, which command).

use crate::actor::{Actor, ActorKind};
use crate::id::{
    ActionKey, ActorId, ClockKey, CommandId, ComplaintId, RemedyKey, RoleKey, TierKey,
};
use crate::model::{
    CategoryPath, DocumentRef, Evidence, Findings, Intake, Resolution, Responsibility,
    Satisfaction, Text, Timestamp, Validity,
};
use crate::money::Money;
use crate::sla::{ClockOutcome, Schedule};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A fact about a complaint. Events carry everything replay needs, including every
/// decision the policy made (`next`, `follow_up_required`), so replay never consults rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// The complaint moved to another department.
    Reassigned {
        /// The new responsibility.
        responsibility: Responsibility,
        /// Why.
        reason: Text,
        /// Reassignments so far, this one included.
        count: u32,
        /// Whether this exceeds what the policy allows (the complaint is flagged as bounced).
        bounced: bool,
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
    /// Progress was reported to the complainant.
    ProgressReported {
        /// What they were told.
        note: Text,
    },
    /// One of the policy's actions was recorded.
    ActionRecorded {
        /// Which action kind.
        action: ActionKey,
        /// Its label in the policy's locale, as decided (the key when it has none): what
        /// timelines and audit views show.
        label: Text,
        /// What was done or said.
        #[serde(default)]
        note: Option<Text>,
        /// The document it references.
        #[serde(default)]
        document: Option<DocumentRef>,
    },
    /// A clock started a cycle (its start may be the next opening, after hours).
    ClockStarted {
        /// Which clock.
        clock: ClockKey,
        /// Which cycle.
        cycle: u32,
        /// When it starts counting.
        at: Timestamp,
        /// Measured seconds the target allows.
        budget: i64,
        /// Its due instants.
        schedule: Schedule,
    },
    /// A clock paused (the complaint waits on the complainant).
    ClockPaused {
        /// Which clock.
        clock: ClockKey,
        /// Which cycle.
        cycle: u32,
        /// Measured seconds left.
        remaining: i64,
    },
    /// A paused clock runs again.
    ClockResumed {
        /// Which clock.
        clock: ClockKey,
        /// Which cycle.
        cycle: u32,
        /// Its due instants from now on.
        schedule: Schedule,
    },
    /// A clock's budget changed mid-flight (a tier change); time already used is kept.
    ClockReprojected {
        /// Which clock.
        clock: ClockKey,
        /// Which cycle.
        cycle: u32,
        /// The new budget.
        budget: i64,
        /// Measured seconds left.
        remaining: i64,
        /// Its due instants from now on (absent while paused).
        schedule: Option<Schedule>,
        /// Why.
        reason: Text,
    },
    /// A deadline agreed with the complainant replaced the clock's own (capped by policy).
    DeadlineAgreed {
        /// Which clock.
        clock: ClockKey,
        /// Which cycle.
        cycle: u32,
        /// The deadline in force (the agreed one, or the cap).
        deadline: Timestamp,
        /// Measured seconds left.
        remaining: i64,
        /// Its due instants from now on.
        schedule: Schedule,
    },
    /// A clock's cycle ended.
    ClockStopped {
        /// Which clock.
        clock: ClockKey,
        /// Which cycle.
        cycle: u32,
        /// Met, breached, or too early.
        outcome: ClockOutcome,
    },
    /// A clock's warning fired.
    ClockWarned {
        /// Which clock.
        clock: ClockKey,
        /// Which cycle.
        cycle: u32,
        /// When it was due (firing may come later, after downtime).
        due: Timestamp,
    },
    /// A clock's deadline passed.
    ClockBreached {
        /// Which clock.
        clock: ClockKey,
        /// Which cycle.
        cycle: u32,
        /// When it was due.
        due: Timestamp,
        /// The role the policy tells of breaches.
        notify: Option<RoleKey>,
    },
    /// An escalation rung was reached.
    RungReached {
        /// Which clock.
        clock: ClockKey,
        /// Which cycle.
        cycle: u32,
        /// Which rung, 1 first.
        rung: u32,
        /// When it was due.
        due: Timestamp,
        /// The role to notify.
        notify: Option<RoleKey>,
        /// The tier the rung raises the complaint to.
        raise_tier: Option<TierKey>,
        /// Whether the complaint enters the complaint ledger.
        ledger: bool,
    },
    /// A clock started after hours on an urgent complaint: the on-duty role is alerted.
    OnDutyAlerted {
        /// Which clock.
        clock: ClockKey,
        /// The on-duty role.
        role: RoleKey,
    },
    /// A clock whose target is "at once" started (or its complaint's tier now says "at
    /// once"): its `breach_notify` role is alerted.
    AlertedAtOnce {
        /// Which clock.
        clock: ClockKey,
        /// The role alerted.
        role: RoleKey,
    },
    /// A contact was answered at first contact and accepted as a consultation (it follows
    /// the `Received` that records the contact).
    Consulted {
        /// The answer given.
        answer: Text,
    },
    /// A consultation became a complaint, for good (the customer disputed the answer). Clock
    /// triggers read it as `received`.
    ConvertedToComplaint {
        /// What the customer disputes.
        reason: Text,
    },
    /// The complaint's points were adjusted for this case.
    PointsAdjusted {
        /// Points added (negative costs more).
        points: i64,
        /// Why.
        reason: Text,
    },
    /// The complainant's personal data in this complaint was erased: the audit entry of an
    /// erasure (who and when are the record's, why is here; never what).
    PersonalDataErased {
        /// Why.
        reason: Text,
    },
    /// A text staff wrote in an earlier event was redacted: it reads
    /// [`crate::privacy::REDACTED`] in the history and the state from then on. The audit entry
    /// of a redaction (who and when are the record's, which field and why are here; never
    /// what it said).
    TextRedacted {
        /// The version of the event whose text was redacted.
        version: u64,
        /// Which of its texts ([`crate::privacy::StaffText`] names them).
        field: String,
        /// Why.
        reason: Text,
    },
}

/// An [`Event`] without its data: what clock definitions start, stop and reset on.
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
#[allow(missing_docs)] // one-to-one with `Event`
#[non_exhaustive]
pub enum EventKind {
    Received,
    Acknowledged,
    Triaged,
    Explained,
    ExplanationAccepted,
    ExplanationRejected,
    Routed,
    Reassigned,
    FindingsRecorded,
    RemedyProposed,
    ApprovalGranted,
    ApprovalDeclined,
    ProposalAccepted,
    ProposalRejected,
    ExecutionRecorded,
    FeedbackGiven,
    SatisfactionRecorded,
    FollowedUp,
    Reopened,
    ResolvedOnTheSpot,
    Closed,
    Withdrawn,
    Merged,
    TierChanged,
    EvidenceAdded,
    ProgressReported,
    ClockStarted,
    ClockPaused,
    ClockResumed,
    ClockReprojected,
    DeadlineAgreed,
    ClockStopped,
    ClockWarned,
    ClockBreached,
    RungReached,
    OnDutyAlerted,
    AlertedAtOnce,
    ActionRecorded,
    Consulted,
    ConvertedToComplaint,
    PointsAdjusted,
    PersonalDataErased,
    TextRedacted,
}

impl EventKind {
    /// The snake_case name used in policies.
    pub fn name(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Acknowledged => "acknowledged",
            Self::Triaged => "triaged",
            Self::Explained => "explained",
            Self::ExplanationAccepted => "explanation_accepted",
            Self::ExplanationRejected => "explanation_rejected",
            Self::Routed => "routed",
            Self::Reassigned => "reassigned",
            Self::FindingsRecorded => "findings_recorded",
            Self::RemedyProposed => "remedy_proposed",
            Self::ApprovalGranted => "approval_granted",
            Self::ApprovalDeclined => "approval_declined",
            Self::ProposalAccepted => "proposal_accepted",
            Self::ProposalRejected => "proposal_rejected",
            Self::ExecutionRecorded => "execution_recorded",
            Self::FeedbackGiven => "feedback_given",
            Self::SatisfactionRecorded => "satisfaction_recorded",
            Self::FollowedUp => "followed_up",
            Self::Reopened => "reopened",
            Self::ResolvedOnTheSpot => "resolved_on_the_spot",
            Self::Closed => "closed",
            Self::Withdrawn => "withdrawn",
            Self::Merged => "merged",
            Self::TierChanged => "tier_changed",
            Self::EvidenceAdded => "evidence_added",
            Self::ProgressReported => "progress_reported",
            Self::ClockStarted => "clock_started",
            Self::ClockPaused => "clock_paused",
            Self::ClockResumed => "clock_resumed",
            Self::ClockReprojected => "clock_reprojected",
            Self::DeadlineAgreed => "deadline_agreed",
            Self::ClockStopped => "clock_stopped",
            Self::ClockWarned => "clock_warned",
            Self::ClockBreached => "clock_breached",
            Self::RungReached => "rung_reached",
            Self::OnDutyAlerted => "on_duty_alerted",
            Self::AlertedAtOnce => "alerted_at_once",
            Self::ActionRecorded => "action_recorded",
            Self::Consulted => "consulted",
            Self::ConvertedToComplaint => "converted_to_complaint",
            Self::PointsAdjusted => "points_adjusted",
            Self::PersonalDataErased => "personal_data_erased",
            Self::TextRedacted => "text_redacted",
        }
    }
}

impl Event {
    /// The event without its data.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Received { .. } => EventKind::Received,
            Event::Acknowledged => EventKind::Acknowledged,
            Event::Triaged { .. } => EventKind::Triaged,
            Event::Explained { .. } => EventKind::Explained,
            Event::ExplanationAccepted => EventKind::ExplanationAccepted,
            Event::ExplanationRejected { .. } => EventKind::ExplanationRejected,
            Event::Routed { .. } => EventKind::Routed,
            Event::Reassigned { .. } => EventKind::Reassigned,
            Event::FindingsRecorded { .. } => EventKind::FindingsRecorded,
            Event::RemedyProposed { .. } => EventKind::RemedyProposed,
            Event::ApprovalGranted { .. } => EventKind::ApprovalGranted,
            Event::ApprovalDeclined { .. } => EventKind::ApprovalDeclined,
            Event::ProposalAccepted { .. } => EventKind::ProposalAccepted,
            Event::ProposalRejected { .. } => EventKind::ProposalRejected,
            Event::ExecutionRecorded { .. } => EventKind::ExecutionRecorded,
            Event::FeedbackGiven { .. } => EventKind::FeedbackGiven,
            Event::SatisfactionRecorded { .. } => EventKind::SatisfactionRecorded,
            Event::FollowedUp { .. } => EventKind::FollowedUp,
            Event::Reopened { .. } => EventKind::Reopened,
            Event::ResolvedOnTheSpot { .. } => EventKind::ResolvedOnTheSpot,
            Event::Closed { .. } => EventKind::Closed,
            Event::Withdrawn { .. } => EventKind::Withdrawn,
            Event::Merged { .. } => EventKind::Merged,
            Event::TierChanged { .. } => EventKind::TierChanged,
            Event::EvidenceAdded { .. } => EventKind::EvidenceAdded,
            Event::ProgressReported { .. } => EventKind::ProgressReported,
            Event::ClockStarted { .. } => EventKind::ClockStarted,
            Event::ClockPaused { .. } => EventKind::ClockPaused,
            Event::ClockResumed { .. } => EventKind::ClockResumed,
            Event::ClockReprojected { .. } => EventKind::ClockReprojected,
            Event::DeadlineAgreed { .. } => EventKind::DeadlineAgreed,
            Event::ClockStopped { .. } => EventKind::ClockStopped,
            Event::ClockWarned { .. } => EventKind::ClockWarned,
            Event::ClockBreached { .. } => EventKind::ClockBreached,
            Event::RungReached { .. } => EventKind::RungReached,
            Event::OnDutyAlerted { .. } => EventKind::OnDutyAlerted,
            Event::AlertedAtOnce { .. } => EventKind::AlertedAtOnce,
            Event::ActionRecorded { .. } => EventKind::ActionRecorded,
            Event::Consulted { .. } => EventKind::Consulted,
            Event::ConvertedToComplaint { .. } => EventKind::ConvertedToComplaint,
            Event::PointsAdjusted { .. } => EventKind::PointsAdjusted,
            Event::PersonalDataErased { .. } => EventKind::PersonalDataErased,
            Event::TextRedacted { .. } => EventKind::TextRedacted,
        }
    }
}

/// Where a proposal goes next, as the policy decided when the event was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReopenCause {
    /// Unsatisfied when confirming the result.
    UnsatisfiedAtConfirmation,
    /// Unsatisfied at the follow-up call (the complaint is reissued).
    UnsatisfiedAtFollowUp,
}

/// An event as stored: its position in the complaint's stream, when, who and which command.
/// This is also the audit trail's entry (who, when, what; the event says why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Recorded {
    /// 1 for the complaint's first event, then 2, 3, …
    pub version: u64,
    /// When it was decided.
    pub at: Timestamp,
    /// Who gave the command.
    pub actor: ActorId,
    /// What they acted as — staff (with their roles and department at the time), the
    /// complainant or the system — since staff and complainant ids share one namespace.
    /// `None` only in events written before plaint recorded it (0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_kind: Option<ActorKind>,
    /// The command that caused it.
    pub command: CommandId,
    /// What happened.
    pub event: Event,
}

impl Recorded {
    /// Where in `history` the events of the command that recorded `history[at]` stand
    /// (a command's events are consecutive).
    pub(crate) fn command_span(history: &[Recorded], at: usize) -> std::ops::Range<usize> {
        let Some(command) = history.get(at).map(|r| &r.command) else {
            return at..at;
        };
        let start = history[..at]
            .iter()
            .rposition(|r| &r.command != command)
            .map_or(0, |i| i + 1);
        let end = at
            + history[at..]
                .iter()
                .take_while(|r| &r.command == command)
                .count();
        start..end
    }

    /// Who acted, for audit views: the id and what they acted as — `agent-7 (staff: agent)`,
    /// `cust-1 (complainant)`, `system (system)` — or the id alone in events written before
    /// plaint recorded it.
    ///
    /// ```
    /// use plaint_core::{Actor, ActorId, CommandId, Event, Recorded, RoleKey};
    /// let agent = Actor::staff(ActorId::new("agent-7")?, vec![RoleKey::new("agent")?], None);
    /// let at = "2026-11-16T09:00:00Z".parse().unwrap();
    /// let r = Recorded::numbered([Event::Acknowledged], 1, at, &agent, &CommandId::new("c2")?);
    /// assert_eq!(r[0].who(), "agent-7 (staff: agent)");
    /// # Ok::<(), plaint_core::IdError>(())
    /// ```
    pub fn who(&self) -> String {
        match &self.actor_kind {
            None => self.actor.to_string(),
            Some(ActorKind::Staff { roles, .. }) => {
                let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                format!("{} (staff: {})", self.actor, roles.join(", "))
            }
            Some(ActorKind::Complainant) => format!("{} (complainant)", self.actor),
            Some(ActorKind::System) => format!("{} (system)", self.actor),
        }
    }

    /// One command's `events` as stored: numbered from `after + 1`, at `at`, by `actor`
    /// under `command`.
    pub fn numbered(
        events: impl IntoIterator<Item = Event>,
        after: u64,
        at: Timestamp,
        actor: &Actor,
        command: &CommandId,
    ) -> Vec<Recorded> {
        // Saturating: numbering after a damaged state at the last version must not overflow.
        events
            .into_iter()
            .zip(1..)
            .map(|(event, k): (Event, u64)| Recorded {
                version: after.saturating_add(k),
                at,
                actor: actor.id.clone(),
                actor_kind: Some(actor.kind.clone()),
                command: command.clone(),
                event,
            })
            .collect()
    }
}

impl std::fmt::Display for Event {
    /// One plain line for timelines and audit views, instants in UTC. It never shows
    /// contact data. [`Event::display_in`] shows instants in a local zone instead.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        EventLine {
            event: self,
            zone: None,
        }
        .fmt(f)
    }
}

impl Event {
    /// The event's plain line with instants in `zone` (a policy's calendar zone).
    ///
    /// ```
    /// use plaint_core::{ClockKey, Event};
    /// let e = Event::ClockWarned {
    ///     clock: ClockKey::new("reply").unwrap(),
    ///     cycle: 1,
    ///     due: "2026-11-20T09:00:00Z".parse().unwrap(),
    /// };
    /// assert_eq!(e.to_string(), "WARNING reply, due 2026-11-20 09:00 UTC");
    /// assert_eq!(
    ///     e.display_in(chrono_tz::Asia::Shanghai).to_string(),
    ///     "WARNING reply, due 2026-11-20 17:00 CST"
    /// );
    /// ```
    pub fn display_in(&self, zone: chrono_tz::Tz) -> impl std::fmt::Display + '_ {
        EventLine {
            event: self,
            zone: Some(zone),
        }
    }
}

/// An event's plain line, with instants in UTC or a zone.
struct EventLine<'a> {
    event: &'a Event,
    zone: Option<chrono_tz::Tz>,
}

impl std::fmt::Display for EventLine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let due = |f: &mut std::fmt::Formatter<'_>, label: &str, t: Option<Timestamp>| match t {
            Some(t) => match self.zone {
                Some(z) => write!(
                    f,
                    "{label} {}",
                    t.with_timezone(&z).format("%Y-%m-%d %H:%M %Z")
                ),
                None => write!(f, "{label} {}", t.format("%Y-%m-%d %H:%M UTC")),
            },
            None => Ok(()),
        };
        let opt = |o: &Option<Text>| o.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
        match self.event {
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
            Event::ClockStarted {
                clock,
                cycle,
                schedule,
                ..
            } => {
                write!(f, "clock {clock} started (cycle {cycle})")?;
                due(f, ", due", schedule.deadline)
            }
            Event::ProgressReported { note } => write!(f, "progress reported: {note}"),
            Event::ActionRecorded {
                label,
                note,
                document,
                ..
            } => {
                write!(f, "{label} recorded")?;
                if let Some(n) = note {
                    write!(f, ": {n}")?;
                }
                match document {
                    Some(d) => write!(f, " (document {})", d.reference),
                    None => Ok(()),
                }
            }
            Event::Reassigned {
                responsibility,
                reason,
                bounced,
                ..
            } => write!(
                f,
                "reassigned to {} ({reason}){}",
                responsibility.primary,
                if *bounced {
                    "; flagged: bounced too often"
                } else {
                    ""
                }
            ),
            Event::ClockPaused { clock, .. } => write!(f, "clock {clock} paused"),
            Event::ClockResumed {
                clock, schedule, ..
            } => {
                write!(f, "clock {clock} resumed")?;
                due(f, ", due", schedule.deadline)
            }
            Event::ClockReprojected {
                clock,
                reason,
                schedule,
                ..
            } => {
                write!(f, "clock {clock} re-projected ({reason})")?;
                due(f, ", due", schedule.as_ref().and_then(|s| s.deadline))
            }
            Event::DeadlineAgreed {
                clock, deadline, ..
            } => {
                write!(f, "deadline of {clock} agreed")?;
                due(f, ":", Some(*deadline))
            }
            Event::ClockStopped { clock, outcome, .. } => {
                write!(f, "clock {clock} stopped: {outcome:?}")
            }
            Event::ClockWarned { clock, due: d, .. } => {
                write!(f, "WARNING {clock}")?;
                due(f, ", due", Some(*d))
            }
            Event::ClockBreached {
                clock,
                due: d,
                notify,
                ..
            } => {
                write!(f, "BREACH {clock}")?;
                due(f, ", was due", Some(*d))?;
                match notify {
                    Some(r) => write!(f, " → {r}"),
                    None => Ok(()),
                }
            }
            Event::RungReached {
                clock,
                rung,
                notify,
                raise_tier,
                ledger,
                ..
            } => {
                write!(f, "ESCALATION {clock} rung {rung}")?;
                if let Some(r) = notify {
                    write!(f, " → {r}")?;
                }
                if let Some(t) = raise_tier {
                    write!(f, ", raise to {t}")?;
                }
                if *ledger {
                    write!(f, ", entered in the complaint ledger")?;
                }
                Ok(())
            }
            Event::OnDutyAlerted { clock, role } => {
                write!(f, "after hours: on-duty {role} alerted ({clock})")
            }
            Event::AlertedAtOnce { clock, role } => {
                write!(f, "{role} alerted at once ({clock})")
            }
            Event::Consulted { answer } => write!(f, "answered as a consultation: {answer}"),
            Event::ConvertedToComplaint { reason } => {
                write!(f, "consultation converted into a complaint ({reason})")
            }
            Event::PointsAdjusted { points, reason } => {
                write!(f, "points adjusted by {points:+} ({reason})")
            }
            Event::PersonalDataErased { reason } => {
                write!(f, "personal data erased ({reason})")
            }
            Event::TextRedacted {
                version,
                field,
                reason,
            } => write!(f, "`{field}` of event {version} redacted ({reason})"),
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
