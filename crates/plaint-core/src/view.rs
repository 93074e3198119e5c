//! Views: a complaint and its history as one actor may see them, the payloads a service
//! returns to people.
//!
//! `Serialize` of a [`Complaint`] or of its events gives everything, the complainant's phone
//! and email included: that is the trusted, internal form ([`crate::Engine::get`],
//! [`crate::Engine::history`]). What goes to a browser is a view, made here by pure
//! functions over the complaint, its history, the actor and the policy:
//!
//! - **Who sees a complaint.** Staff and the system see every complaint (viewing is not
//!   acting: a role's `scope` limits what it *does*). A complainant sees only a complaint
//!   whose `intake.complainant.id` is theirs; of any other they see nothing, and
//!   [`crate::Engine::view`] answers as for a complaint that does not exist, so existence is
//!   not revealed.
//! - **Contacts** (every [`crate::Contact`] of the complainant: phone, email, postal address,
//!   account) are shown to the complainant themself and to staff holding a role with
//!   `contact_access` ([`Policy::shows_contacts`], the rule notifications are masked by too)
//!   that reaches the complaint (a role scoped to `responsible` reaches only complaints its
//!   holder's department answers for). Everyone else, the system actor included (it only
//!   ticks and never needs them), gets them masked as [`crate::Contact::masked`] does.
//!   The complainant's name is shown: staff address them by it.
//! - **Internal records.** Staff and the system see every record. A complainant sees what
//!   was said to or by them and what concerns their case, not staff's internal working:
//!   the receiver's flags on the intake; routing and reassignment (with the unit or partner at
//!   fault); investigation findings; approvals and their remarks, and proposals never offered
//!   to them (awaiting or declined in approval); the policy's recorded actions (internal
//!   steps such as a progress report to a desk: what the complainant is told arrives as
//!   `progress_reported`, `feedback_given`, `explained`); tier changes and their reasons;
//!   SLA clocks, warnings, breaches, escalations and alerts; points adjustments; the ledger
//!   and bounce flags; and evidence staff added (theirs — handed in at receipt or added by
//!   them — stays). Staff roles and departments are dropped from the entries' `actor_kind`;
//!   staff ids stay (they sign what they do). Of the clocks, only a deadline agreed with
//!   them (`deadline_agreed`) is shown.
//!
//! Free text (a note, a reason, a comment) is shown as written: plaint cannot know whether
//! someone typed a phone number into it.

use crate::actor::{Actor, ActorKind};
use crate::complainant::Contact;
use crate::complaint::Complaint;
use crate::id::ComplaintId;
use crate::lifecycle::{Event, Next, Recorded};
use crate::model::Intake;
use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What an actor sees of a complaint they may see at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct Sight {
    /// Whether the complainant's contacts are shown unmasked.
    pub contacts: bool,
    /// Whether staff's internal records are shown (false for the complainant).
    pub internal: bool,
}

impl Sight {
    /// What `actor` may see of `complaint` under `policy` (the policy the complaint is pinned
    /// to); `None` when they may see nothing of it: a complainant who does not own it.
    pub fn of(actor: &Actor, complaint: &Complaint, policy: &Policy) -> Option<Self> {
        match &actor.kind {
            ActorKind::Complainant => {
                (complaint.intake.complainant.id == actor.id).then_some(Self {
                    contacts: true,
                    internal: false,
                })
            }
            ActorKind::Staff { roles, department } => Some(Self {
                contacts: roles.iter().any(|r| {
                    policy.shows_contacts(r)
                        && policy
                            .role(r)
                            .is_some_and(|d| d.reaches(department.as_ref(), Some(complaint)))
                }),
                internal: true,
            }),
            ActorKind::System => Some(Self {
                contacts: false,
                internal: true,
            }),
        }
    }
}

/// A complaint as one actor may see it: the payload a service returns for "show me this
/// complaint". `complaint` has the shape of [`Complaint`], with contacts masked and internal
/// records left out (empty or absent) as `sight` says (see the [module](self) docs).
///
/// ```json
/// {
///   "sight": { "contacts": false, "internal": true },
///   "complaint": {
///     "id": "C-1",
///     "intake": { "complainant": { "id": "cust-1", "name": "Zhang San",
///       "contacts": [{ "kind": "phone", "value": "1******5678" }] }, "…": "…" },
///     "stage": { "stage": "received" },
///     "…": "…"
///   }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct ComplaintView {
    /// What the actor sees.
    pub sight: Sight,
    /// The complaint as they see it.
    pub complaint: Complaint,
}

/// One page of a listing for an actor ([`crate::Engine::list_for`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct ViewPage {
    /// The complaints as the actor sees them, in id order.
    pub items: Vec<ComplaintView>,
    /// Pass this as `after` for the next page; `None` on the last page.
    pub next: Option<ComplaintId>,
}

impl ViewPage {
    /// A page of these views.
    pub fn new(items: Vec<ComplaintView>, next: Option<ComplaintId>) -> Self {
        Self { items, next }
    }
}

/// `complaint` as `actor` sees it, `None` when they may see nothing of it ([`Sight::of`]).
///
/// `history` is the complaint's history ([`crate::Store::history`]). Only a complainant's
/// view reads it, to tell the proposals offered to them and the evidence they handed in from
/// staff's; given less, it shows them less (it fails closed), so for staff and the system
/// an empty slice will do.
pub fn complaint(
    complaint: &Complaint,
    history: &[Recorded],
    actor: &Actor,
    policy: &Policy,
) -> Option<ComplaintView> {
    let sight = Sight::of(actor, complaint, policy)?;
    let mut c = complaint.clone();
    c.intake = intake(&c.intake, sight);
    if !sight.internal {
        let offered = offered(history);
        c.proposals = std::mem::take(&mut c.proposals)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| offered.get(*i).copied().unwrap_or(false))
            .map(|(_, mut p)| {
                p.approvals.clear();
                p
            })
            .collect();
        c.evidence = complaint.intake.evidence.clone();
        c.evidence
            .extend(history.iter().filter_map(|r| match &r.event {
                Event::EvidenceAdded { evidence } if by_complainant(r, complaint) => {
                    Some(evidence.clone())
                }
                _ => None,
            }));
        c.responsibility = None;
        c.findings = None;
        c.actions.clear();
        c.points_adjustments.clear();
        c.clocks.clear();
        c.in_ledger = false;
        c.reassignments = 0;
        c.bounced = false;
    }
    Some(ComplaintView {
        sight,
        complaint: c,
    })
}

/// `history` (of `complaint`) as `actor` sees it, `None` when they may see nothing of the
/// complaint ([`Sight::of`]): the intake's contacts masked unless they may see them, and for
/// a complainant only the entries that are not internal (see the [module](self) docs).
pub fn history(
    complaint: &Complaint,
    history: &[Recorded],
    actor: &Actor,
    policy: &Policy,
) -> Option<Vec<Recorded>> {
    let sight = Sight::of(actor, complaint, policy)?;
    let offered = offered(history);
    let mut proposal = 0usize;
    let mut out = Vec::with_capacity(history.len());
    for r in history {
        let shown = sight.internal
            || match &r.event {
                Event::RemedyProposed { .. } => {
                    proposal += 1;
                    offered.get(proposal - 1).copied().unwrap_or(false)
                }
                Event::EvidenceAdded { .. } => by_complainant(r, complaint),
                e => !internal(e),
            };
        if !shown {
            continue;
        }
        let mut r = r.clone();
        if let Event::Received { intake: i, .. } = &mut r.event {
            *i = intake(i, sight);
        }
        if !sight.internal
            && let Some(ActorKind::Staff { roles, department }) = &mut r.actor_kind
        {
            roles.clear();
            *department = None;
        }
        out.push(r);
    }
    Some(out)
}

/// The intake as `sight` shows it: contacts masked unless shown, the receiver's flags only
/// to staff. Shared, not copied, when nothing changes.
fn intake(intake: &Arc<Intake>, sight: Sight) -> Arc<Intake> {
    if sight.contacts && sight.internal {
        return Arc::clone(intake);
    }
    let mut i = (**intake).clone();
    if !sight.contacts {
        i.complainant.contacts = i
            .complainant
            .contacts
            .iter()
            .map(Contact::to_masked)
            .collect();
    }
    if !sight.internal {
        i.flags.clear();
    }
    Arc::new(i)
}

/// Whether the entry was recorded by the complaint's complainant acting as themself (an
/// entry of 0.1, which has no `actor_kind`, by their id).
fn by_complainant(r: &Recorded, c: &Complaint) -> bool {
    r.actor == c.intake.complainant.id
        && matches!(r.actor_kind, Some(ActorKind::Complainant) | None)
}

/// For each proposal of the history, in order, whether it was offered to the complainant:
/// it went straight to agreement or execution, or an approval sent it there.
fn offered(history: &[Recorded]) -> Vec<bool> {
    let mut offered = Vec::new();
    for r in history {
        match &r.event {
            Event::RemedyProposed { next, .. } => offered.push(*next != Next::Approval),
            Event::ApprovalGranted { next, .. } if *next != Next::Approval => {
                if let Some(last) = offered.last_mut() {
                    *last = true;
                }
            }
            _ => {}
        }
    }
    offered
}

/// Whether an event is staff's internal working, withheld from the complainant. Every
/// variant is named, so a new one must be decided on here.
fn internal(e: &Event) -> bool {
    match e {
        Event::Routed { .. }
        | Event::Reassigned { .. }
        | Event::FindingsRecorded { .. }
        | Event::ApprovalGranted { .. }
        | Event::ApprovalDeclined { .. }
        | Event::TierChanged { .. }
        | Event::ActionRecorded { .. }
        | Event::ClockStarted { .. }
        | Event::ClockPaused { .. }
        | Event::ClockResumed { .. }
        | Event::ClockReprojected { .. }
        | Event::ClockStopped { .. }
        | Event::ClockWarned { .. }
        | Event::ClockBreached { .. }
        | Event::RungReached { .. }
        | Event::OnDutyAlerted { .. }
        | Event::AlertedAtOnce { .. }
        | Event::PointsAdjusted { .. }
        | Event::PersonalDataErased { .. }
        | Event::TextRedacted { .. } => true,
        // Proposals and evidence are decided one by one by the caller; a proposal offered
        // and evidence handed in are the complainant's.
        Event::RemedyProposed { .. } | Event::EvidenceAdded { .. } => true,
        Event::Received { .. }
        | Event::Acknowledged
        | Event::Triaged { .. }
        | Event::Explained { .. }
        | Event::ExplanationAccepted
        | Event::ExplanationRejected { .. }
        | Event::ProposalAccepted { .. }
        | Event::ProposalRejected { .. }
        | Event::ExecutionRecorded { .. }
        | Event::FeedbackGiven { .. }
        | Event::SatisfactionRecorded { .. }
        | Event::FollowedUp { .. }
        | Event::Reopened { .. }
        | Event::ResolvedOnTheSpot { .. }
        | Event::Closed { .. }
        | Event::Withdrawn { .. }
        | Event::Merged { .. }
        | Event::ProgressReported { .. }
        | Event::DeadlineAgreed { .. }
        | Event::Consulted { .. }
        | Event::ConvertedToComplaint { .. } => false,
    }
}
