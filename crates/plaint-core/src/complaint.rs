//! The complaint as the fold of its events: `Complaint` and `apply`, which holds no rules.

use crate::id::{ActorId, ComplaintId, TierKey};
use crate::lifecycle::{Event, Next, Recorded, Stage};
use crate::model::{
    ActionRecord, CategoryPath, Consultation, DocumentRef, Evidence, ExecutionRecord, Findings,
    FollowUp, Intake, Note, PointsAdjustment, Proposal, Resolution, Response, Responsibility,
    Satisfaction, Text, Timestamp, Validity,
};
use crate::sla::ClockState;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A complaint's current state: exactly the fold of its events (see [`Complaint::replay`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Complaint {
    /// Its number.
    pub id: ComplaintId,
    /// The policy version it is pinned to.
    pub policy_version: u32,
    /// How many events it has; the expected version for the next append.
    pub version: u64,
    /// What was registered (shared, never changes).
    pub intake: Arc<Intake>,
    /// Who registered it (first-contact responsibility, 首问负责制).
    pub received_by: ActorId,
    /// When it was registered.
    pub registered_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
    /// When the complainant was told it was received.
    pub acknowledged_at: Option<Timestamp>,
    /// Where it is in the lifecycle.
    pub stage: Stage,
    /// The category path; deepened to the root cause after investigation.
    pub category: Option<CategoryPath>,
    /// The severity tier.
    pub tier: Option<TierKey>,
    /// The validity judgement.
    pub validity: Option<Validity>,
    /// The explanation given for an invalid complaint.
    pub explanation: Option<Note>,
    /// Who answers for it.
    pub responsibility: Option<Responsibility>,
    /// What investigation found.
    pub findings: Option<Findings>,
    /// All evidence: at receipt and added later.
    pub evidence: Vec<Evidence>,
    /// Every proposal, in order; the last is the current one.
    pub proposals: Vec<Proposal>,
    /// The written agreement, if one was signed.
    pub agreement: Option<DocumentRef>,
    /// What was done to carry out the remedy.
    pub executions: Vec<ExecutionRecord>,
    /// The result as told to the complainant.
    pub feedback: Option<Note>,
    /// The complainant's latest confirmation.
    pub satisfaction: Option<Satisfaction>,
    /// Whether the policy asks for a follow-up before closing.
    pub follow_up_required: bool,
    /// The latest follow-up call.
    pub follow_up: Option<FollowUp>,
    /// How many times it was reopened.
    pub reopened: u32,
    /// When it reached a terminal stage.
    pub closed_at: Option<Timestamp>,
    /// Its SLA clocks, one entry per clock that ever started (the latest cycle).
    pub clocks: Vec<ClockState>,
    /// Whether an escalation entered it in the complaint ledger (投诉台账).
    pub in_ledger: bool,
    /// How often it was reassigned to another department.
    pub reassignments: u32,
    /// Whether it was bounced more often than the policy allows.
    pub bounced: bool,
    /// The actions recorded on it, in order (absent in states stored before actions existed).
    #[serde(default)]
    pub actions: Vec<ActionRecord>,
    /// The answer it got as a consultation, and its conversion into a complaint; `None` for
    /// a contact registered as a complaint from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consultation: Option<Consultation>,
    /// Adjustments of the points it costs its departments, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points_adjustments: Vec<PointsAdjustment>,
    /// When its personal data was erased ([`Event::PersonalDataErased`]); its personal
    /// fields read [`crate::privacy::ERASED`] since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<Timestamp>,
}

impl Complaint {
    /// The complaint a `Received` event opens; `None` for any other event.
    pub fn open(id: ComplaintId, rec: &Recorded) -> Option<Self> {
        let Event::Received {
            intake,
            policy_version,
        } = &rec.event
        else {
            return None;
        };
        Some(Self {
            id,
            policy_version: *policy_version,
            version: rec.version,
            evidence: intake.evidence.clone(),
            intake: Arc::clone(intake),
            received_by: rec.actor.clone(),
            registered_at: rec.at,
            updated_at: rec.at,
            acknowledged_at: None,
            stage: Stage::Received,
            category: None,
            tier: None,
            validity: None,
            explanation: None,
            responsibility: None,
            findings: None,
            proposals: Vec::new(),
            agreement: None,
            executions: Vec::new(),
            feedback: None,
            satisfaction: None,
            follow_up_required: false,
            follow_up: None,
            reopened: 0,
            closed_at: None,
            clocks: Vec::new(),
            in_ledger: false,
            reassignments: 0,
            bounced: false,
            actions: Vec::new(),
            consultation: None,
            points_adjustments: Vec::new(),
            erased_at: None,
        })
    }

    /// Folds a history: `None` when it is empty or does not start with `Received`.
    pub fn replay<'a>(
        id: ComplaintId,
        history: impl IntoIterator<Item = &'a Recorded>,
    ) -> Option<Self> {
        let mut it = history.into_iter();
        let mut c = Self::open(id, it.next()?)?;
        it.for_each(|r| c.apply(r));
        Some(c)
    }

    /// How many proposals the complainant has answered: the negotiation rounds.
    pub fn negotiation_rounds(&self) -> usize {
        self.proposals
            .iter()
            .filter(|p| p.response.is_some())
            .count()
    }

    /// The sum of its points adjustments (saturating).
    pub fn points_adjusted(&self) -> i64 {
        self.points_adjustments
            .iter()
            .fold(0i64, |sum, a| sum.saturating_add(a.points))
    }

    /// The current (latest) proposal.
    pub fn current_proposal(&self) -> Option<&Proposal> {
        self.proposals.last()
    }

    /// Applies one recorded event. Holds no rules and cannot fail: every decision was made
    /// by [`crate::decide`] and is in the event.
    pub fn apply(&mut self, rec: &Recorded) {
        self.version = rec.version;
        self.updated_at = rec.at;
        let note = |text: &Text| Note {
            by: rec.actor.clone(),
            at: rec.at,
            text: text.clone(),
        };
        match &rec.event {
            Event::Received {
                intake,
                policy_version,
            } => {
                // Only ever the first event; `open` handles it. Kept total for replay safety.
                self.intake = Arc::clone(intake);
                self.policy_version = *policy_version;
            }
            Event::Acknowledged => self.acknowledged_at = Some(rec.at),
            Event::Triaged {
                category,
                tier,
                validity,
            } => {
                self.category = Some(category.clone());
                self.tier = Some(tier.clone());
                self.validity = Some(validity.clone());
                self.stage = match validity {
                    Validity::Valid => Stage::Triaged,
                    Validity::Invalid { .. } => Stage::Invalid,
                };
            }
            Event::Explained { text } => {
                self.explanation = Some(note(text));
                self.stage = Stage::Explained;
            }
            Event::ExplanationAccepted => self.close(Resolution::ByExplanation, rec.at),
            Event::ExplanationRejected { .. } => self.stage = Stage::Received,
            Event::Routed { responsibility } => {
                self.responsibility = Some(responsibility.clone());
                self.stage = Stage::Investigating;
            }
            Event::Reassigned {
                responsibility,
                count,
                bounced,
                ..
            } => {
                self.responsibility = Some(responsibility.clone());
                self.reassignments = *count;
                self.bounced |= *bounced;
            }
            Event::FindingsRecorded {
                findings,
                root_cause,
            } => {
                self.findings = Some(findings.clone());
                if let Some(path) = root_cause {
                    self.category = Some(path.clone());
                }
                self.stage = Stage::Proposing;
            }
            Event::RemedyProposed {
                remedy,
                description,
                amount,
                next,
            } => {
                self.proposals.push(Proposal {
                    number: u32::try_from(self.proposals.len())
                        .unwrap_or(u32::MAX)
                        .saturating_add(1),
                    remedy: remedy.clone(),
                    description: description.clone(),
                    amount: *amount,
                    proposed_by: rec.actor.clone(),
                    proposed_at: rec.at,
                    approvals: Vec::new(),
                    response: None,
                });
                self.stage = next_stage(*next);
            }
            Event::ApprovalGranted { note, next } => {
                self.record_approval(rec, true, note.clone());
                self.stage = next_stage(*next);
            }
            Event::ApprovalDeclined { reason } => {
                self.record_approval(rec, false, Some(reason.clone()));
                self.stage = Stage::Proposing;
            }
            Event::ProposalAccepted { agreement } => {
                self.record_response(rec, true, None);
                if agreement.is_some() {
                    self.agreement = agreement.clone();
                }
                self.stage = Stage::Executing;
            }
            Event::ProposalRejected { reason } => {
                self.record_response(rec, false, reason.clone());
                self.stage = Stage::Proposing;
            }
            Event::ExecutionRecorded {
                action,
                reference,
                finished,
            } => {
                self.executions.push(ExecutionRecord {
                    by: rec.actor.clone(),
                    at: rec.at,
                    action: action.clone(),
                    reference: reference.clone(),
                });
                if *finished {
                    self.stage = Stage::Executed;
                }
            }
            Event::FeedbackGiven { text } => {
                self.feedback = Some(note(text));
                self.stage = Stage::AwaitingConfirmation;
            }
            Event::SatisfactionRecorded {
                satisfaction,
                follow_up_required,
            } => {
                self.satisfaction = Some(satisfaction.clone());
                self.follow_up_required = *follow_up_required;
                self.stage = Stage::Confirmed;
            }
            Event::FollowedUp { satisfaction } => {
                self.follow_up = Some(FollowUp {
                    by: rec.actor.clone(),
                    at: rec.at,
                    satisfaction: satisfaction.clone(),
                });
                self.stage = Stage::FollowedUp;
            }
            Event::Reopened { .. } => {
                self.reopened = self.reopened.saturating_add(1);
                self.follow_up_required = false;
                self.stage = Stage::Investigating;
            }
            Event::ResolvedOnTheSpot {
                remedy,
                description,
            } => self.executions.push(ExecutionRecord {
                by: rec.actor.clone(),
                at: rec.at,
                action: format!("{remedy}: {description}").into(),
                reference: None,
            }),
            Event::Closed { resolution } => self.close(*resolution, rec.at),
            Event::Withdrawn { .. } => {
                self.stage = Stage::Withdrawn;
                self.closed_at = Some(rec.at);
            }
            Event::Merged { into } => {
                self.stage = Stage::Merged { into: into.clone() };
                self.closed_at = Some(rec.at);
            }
            Event::TierChanged { to, .. } => self.tier = Some(to.clone()),
            Event::EvidenceAdded { evidence } => self.evidence.push(evidence.clone()),
            Event::ClockStarted {
                clock,
                cycle,
                at,
                budget,
                schedule,
            } => {
                let st = ClockState::started(clock, *cycle, *at, *budget, schedule);
                match self.clocks.iter_mut().find(|c| &c.clock == clock) {
                    Some(c) => *c = st,
                    None => self.clocks.push(st),
                }
            }
            Event::RungReached { ledger, .. } => {
                self.in_ledger |= *ledger;
                self.clock_event(rec);
            }
            Event::ClockPaused { .. }
            | Event::ClockResumed { .. }
            | Event::ClockReprojected { .. }
            | Event::DeadlineAgreed { .. }
            | Event::ClockStopped { .. }
            | Event::ClockWarned { .. }
            | Event::ClockBreached { .. } => self.clock_event(rec),
            Event::ActionRecorded {
                action,
                label,
                note,
                document,
            } => self.actions.push(ActionRecord {
                action: action.clone(),
                label: label.clone(),
                by: rec.actor.clone(),
                at: rec.at,
                note: note.clone(),
                document: document.clone(),
            }),
            Event::OnDutyAlerted { .. }
            | Event::AlertedAtOnce { .. }
            | Event::ProgressReported { .. } => {}
            Event::Consulted { answer } => {
                self.consultation = Some(Consultation {
                    answer: note(answer),
                    converted: None,
                });
                self.stage = Stage::Consultation;
            }
            Event::ConvertedToComplaint { reason } => {
                if let Some(c) = &mut self.consultation {
                    c.converted = Some(note(reason));
                }
                self.stage = Stage::Received;
            }
            Event::PointsAdjusted { points, reason } => {
                self.points_adjustments.push(PointsAdjustment {
                    points: *points,
                    reason: reason.clone(),
                    by: rec.actor.clone(),
                    at: rec.at,
                })
            }
            Event::PersonalDataErased { .. } => {
                use crate::privacy::PersonalData;
                self.erase_personal();
                self.erased_at = Some(rec.at);
            }
            // The redacted text is the history's: a store redacts its copy of the history
            // and folds it again (`Append::redact`), so the state holds no copy of it either.
            Event::TextRedacted { .. } => {}
        }
    }

    /// When the next clock item (warning, breach, rung) of this complaint falls due.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.clocks.iter().filter_map(ClockState::next_due).min()
    }

    /// The clock `key`'s state, if it ever started.
    pub fn clock(&self, key: &str) -> Option<&ClockState> {
        self.clocks.iter().find(|c| c.clock.as_str() == key)
    }

    fn clock_event(&mut self, rec: &Recorded) {
        let (clock, cycle) = match &rec.event {
            Event::ClockPaused { clock, cycle, .. }
            | Event::ClockResumed { clock, cycle, .. }
            | Event::ClockReprojected { clock, cycle, .. }
            | Event::DeadlineAgreed { clock, cycle, .. }
            | Event::ClockStopped { clock, cycle, .. }
            | Event::ClockWarned { clock, cycle, .. }
            | Event::ClockBreached { clock, cycle, .. }
            | Event::RungReached { clock, cycle, .. } => (clock, *cycle),
            _ => return,
        };
        if let Some(st) = self
            .clocks
            .iter_mut()
            .find(|c| &c.clock == clock && c.cycle == cycle)
        {
            st.apply(&rec.event, rec.at);
        }
    }

    fn close(&mut self, resolution: Resolution, at: Timestamp) {
        self.stage = Stage::Closed { resolution };
        self.closed_at = Some(at);
    }

    fn record_approval(&mut self, rec: &Recorded, granted: bool, note: Option<Text>) {
        if let Some(p) = self.proposals.last_mut() {
            p.approvals.push(crate::model::Approval {
                by: rec.actor.clone(),
                at: rec.at,
                granted,
                note,
            });
        }
    }

    fn record_response(&mut self, rec: &Recorded, accepted: bool, reason: Option<Text>) {
        if let Some(p) = self.proposals.last_mut() {
            p.response = Some(Response {
                at: rec.at,
                accepted,
                reason,
            });
        }
    }
}

fn next_stage(next: Next) -> Stage {
    match next {
        Next::Approval => Stage::AwaitingApproval,
        Next::Agreement => Stage::AwaitingAgreement,
        Next::Execution => Stage::Executing,
    }
}
