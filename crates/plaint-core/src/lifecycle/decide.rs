//! `decide`: every business rule of the lifecycle, as one pure function.

use super::graph;
use super::{Command, CommandKind, Event, ForbiddenReason, Next, Rejection, ReopenCause};
use crate::actor::{Actor, ActorKind};
use crate::complaint::Complaint;
use crate::model::check_supported;
use crate::model::{CategoryPath, Resolution, Satisfaction, Timestamp};
use crate::money::Money;
use crate::policy::{Facts, OverCap, Policy};

/// Decides a command against a complaint's state.
///
/// `state` is `None` for a complaint that does not exist yet: only [`Command::Receive`] and
/// [`Command::Consult`] apply then. Returns the events to append (at least one), or the reason for refusing.
/// Pure: no I/O, no clock (time is `now`), no randomness.
///
/// # Errors
/// A [`Rejection`]: `NotFound` / `AlreadyExists` for existence, `Forbidden` for authority,
/// `IllegalTransition` for the stage, `Invalid` for a field that breaks a rule.
///
/// # Examples
/// ```
/// use plaint_core::{decide, testing, Command, Event, Rejection};
/// let policy = testing::policy();
/// let intake = testing::intake(testing::t(0));
/// let events = decide(None, &policy, Command::Receive(std::sync::Arc::new(intake)),
///                     &testing::agent(), testing::t(1)).unwrap();
/// assert!(matches!(events[0], Event::Received { .. }));
///
/// // A complainant cannot triage.
/// let c = testing::received();
/// let err = decide(Some(&c), &policy, Command::Acknowledge,
///                  &testing::customer(), testing::t(2)).unwrap_err();
/// assert!(matches!(err, Rejection::Forbidden { .. }));
/// ```
pub fn decide(
    state: Option<&Complaint>,
    policy: &Policy,
    command: Command,
    actor: &Actor,
    now: Timestamp,
) -> Result<Vec<Event>, Rejection> {
    check_supported("now", now)?;
    let mut events = decide_command(state, policy, command, actor, now)?;
    // A consultation runs no clock (graph::clock_triggers_of says the same to the analyses).
    if !policy.clocks.is_empty()
        && let Some(after) = scratch_fold(state, &events, actor, now)
        && after.stage.kind() != crate::StageKind::Consultation
    {
        let triggers = as_triggers(&after, &events);
        let follow = policy.clocks().follow(
            state,
            &after,
            triggers.as_deref().unwrap_or(&events),
            &policy.default_tier,
            now,
        );
        events.extend(follow);
    }
    Ok(events)
}

/// The commands an actor may give a complaint now, as [`decide`] judges them:
/// [`available`]'s answer, for a screen to offer only those.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Available {
    /// The command kinds, in [`CommandKind::ALL`] order.
    pub commands: Vec<CommandKind>,
    /// The policy's actions the actor may record ([`Command::RecordAction`]); non-empty
    /// exactly when `commands` holds `record_action`.
    pub actions: Vec<crate::ActionKey>,
}

/// Which commands `actor` may give `state` under `policy` at `now`, by `decide`'s own rules
/// and nothing else: a kind is offered when `decide`'s authority check (roles, their scope,
/// the complainant's ownership) and its transition table both allow it, and, for a kind
/// whose smallest form carries no data the person must supply (`acknowledge`, `approve`,
/// `close`, `withdraw`, …), when `decide` accepts that form now (an own proposal, an
/// approval limit, a follow-up still owed refuse it). Kinds that need data (a text, a
/// tier, a department) may still be refused for that data, with `decide`'s reason.
/// `receive`, `consult` (nothing to give them to yet) and `tick` (the system's) are never
/// offered.
///
/// ```
/// use plaint_core::{available, testing, CommandKind};
/// let c = testing::received();
/// let offer = available(&c, &testing::policy(), &testing::agent(), testing::t(1));
/// assert!(offer.commands.contains(&CommandKind::Acknowledge));
/// assert!(!offer.commands.contains(&CommandKind::Close));
/// let offer = available(&c, &testing::policy(), &testing::customer(), testing::t(1));
/// assert_eq!(offer.commands, [CommandKind::Withdraw, CommandKind::AddEvidence]);
/// ```
pub fn available(state: &Complaint, policy: &Policy, actor: &Actor, now: Timestamp) -> Available {
    let from = state.stage.kind();
    let mut out = Available::default();
    for kind in CommandKind::ALL {
        if matches!(
            kind,
            CommandKind::Receive | CommandKind::Consult | CommandKind::Tick
        ) || authorize(policy, actor, kind, Some(state)).is_err()
            || !graph::allows(from, kind)
        {
            continue;
        }
        if kind == CommandKind::RecordAction {
            out.actions = policy
                .actions
                .iter()
                .filter(|a| authorize_action(policy, actor, &a.key, state).is_ok())
                .map(|a| a.key.clone())
                .collect();
            if out.actions.is_empty() {
                continue;
            }
        }
        if let Some(command) = smallest(kind, state, policy)
            && decide(Some(state), policy, command, actor, now).is_err()
        {
            continue;
        }
        out.commands.push(kind);
    }
    out
}

/// The form of `kind` that carries no data a person supplies, to try on `decide`; `None`
/// for kinds that need some. `change_tier` is tried with the first other tier.
fn smallest(kind: CommandKind, c: &Complaint, policy: &Policy) -> Option<Command> {
    Some(match kind {
        CommandKind::Acknowledge => Command::Acknowledge,
        CommandKind::AcceptExplanation => Command::AcceptExplanation,
        CommandKind::RejectExplanation => Command::RejectExplanation { reason: None },
        CommandKind::Approve => Command::Approve { note: None },
        CommandKind::AcceptProposal => Command::AcceptProposal { agreement: None },
        CommandKind::RejectProposal => Command::RejectProposal { reason: None },
        CommandKind::Close => Command::Close,
        CommandKind::Withdraw => Command::Withdraw { reason: None },
        CommandKind::ChangeTier => {
            // With no other tier, the same one, which `decide` refuses.
            let tier = policy
                .tiers
                .iter()
                .map(|t| &t.key)
                .find(|t| c.tier.as_ref() != Some(*t))
                .unwrap_or(&policy.default_tier);
            Command::ChangeTier {
                tier: tier.clone(),
                reason: "?".into(),
            }
        }
        _ => return None,
    })
}

/// The events as clock triggers see them, when they differ: a consultation converted into a
/// complaint is received as one then, so what starts on `received` starts at the conversion
/// (and a clock counting from the first report counts from the intake's `received_at`, the
/// first contact). `None` when the events are their own triggers.
fn as_triggers(after: &Complaint, events: &[Event]) -> Option<Vec<Event>> {
    let at = events
        .iter()
        .position(|e| matches!(e, Event::ConvertedToComplaint { .. }))?;
    let mut triggers = events.to_vec();
    triggers.insert(
        at + 1,
        Event::Received {
            intake: std::sync::Arc::clone(&after.intake),
            policy_version: after.policy_version,
        },
    );
    Some(triggers)
}

/// The state after `events`, for deciding what clocks do (never stored). `None` only if
/// `decide_command` broke its promise of a `Received` event first for a new complaint.
fn scratch_fold(
    state: Option<&Complaint>,
    events: &[Event],
    actor: &Actor,
    now: Timestamp,
) -> Option<Complaint> {
    let base = state.map_or(0, |c| c.version);
    let scratch = crate::CommandId::new("decide").ok()?;
    // Saturating: a damaged state at the last version must not overflow.
    let mut it = events.iter().zip(1..).map(|(event, k)| super::Recorded {
        version: base.saturating_add(k),
        at: now,
        actor: actor.id.clone(),
        actor_kind: None,
        command: scratch.clone(),
        event: event.clone(),
    });
    let mut c = match state {
        Some(c) => c.clone(),
        None => Complaint::open(crate::ComplaintId::new("scratch").ok()?, &it.next()?)?,
    };
    it.for_each(|r| c.apply(&r));
    Some(c)
}

fn decide_command(
    state: Option<&Complaint>,
    policy: &Policy,
    command: Command,
    actor: &Actor,
    now: Timestamp,
) -> Result<Vec<Event>, Rejection> {
    let kind = command.kind();
    let Some(c) = state else {
        let (intake, answer) = match command {
            Command::Receive(intake) => (intake, None),
            Command::Consult { intake, answer } => (intake, Some(answer)),
            _ => return Err(Rejection::NotFound),
        };
        authorize(policy, actor, kind, None)?;
        check_intake(policy, &intake, now)?;
        if let Some(answer) = &answer {
            non_empty("answer", answer)?;
        }
        let received = Event::Received {
            intake,
            policy_version: policy.version,
        };
        return Ok(match answer {
            None => vec![received],
            Some(answer) => vec![received, Event::Consulted { answer }],
        });
    };
    if matches!(kind, CommandKind::Receive | CommandKind::Consult) {
        return Err(Rejection::AlreadyExists(c.id.clone()));
    }
    authorize(policy, actor, kind, Some(c))?;
    if let Command::RecordAction { action, .. } = &command {
        authorize_action(policy, actor, action, c)?;
    }
    let from = c.stage.kind();
    if !graph::allows(from, kind) {
        return Err(Rejection::IllegalTransition {
            from,
            command: kind,
        });
    }
    decide_open(c, policy, command, actor, now)
}

fn decide_open(
    c: &Complaint,
    policy: &Policy,
    command: Command,
    actor: &Actor,
    now: Timestamp,
) -> Result<Vec<Event>, Rejection> {
    let tier = c
        .tier
        .clone()
        .unwrap_or_else(|| policy.default_tier.clone());
    let events = match command {
        Command::Receive(_) | Command::Consult { .. } => unreachable!("handled by decide"),
        Command::Acknowledge => {
            if c.acknowledged_at.is_some() {
                return invalid("acknowledged", "the complaint was already acknowledged");
            }
            vec![Event::Acknowledged]
        }
        Command::Triage {
            category,
            tier,
            validity,
        } => {
            check_category(policy, &category, "category")?;
            let tier = tier.unwrap_or_else(|| {
                let facts = Facts::of(c)
                    .with_category(&category)
                    .with_validity(&validity);
                policy.pick_tier(&facts).clone()
            });
            if policy.tier_rank(&tier).is_none() {
                return invalid("tier", format!("unknown tier \"{tier}\""));
            }
            vec![Event::Triaged {
                category,
                tier,
                validity,
            }]
        }
        Command::Explain { text } => {
            non_empty("text", &text)?;
            vec![Event::Explained { text }]
        }
        Command::AcceptExplanation => vec![Event::ExplanationAccepted],
        Command::RejectExplanation { reason } => vec![Event::ExplanationRejected { reason }],
        Command::Route { responsibility } => {
            let responsibility = match responsibility {
                Some(r) => r,
                None => {
                    // A triaged complaint has a category; a damaged state may not.
                    let Some(category) = c.category.as_ref() else {
                        return invalid(
                            "responsibility",
                            "the complaint has no category to route by; name the department",
                        );
                    };
                    match policy.route(&Facts::of(c).with_category(category).with_tier(&tier)) {
                        Some(r) => r,
                        None => {
                            return invalid(
                                "responsibility",
                                format!("no routing rule matches {category}; name the department"),
                            );
                        }
                    }
                }
            };
            check_responsibility(policy, &responsibility)?;
            vec![Event::Routed { responsibility }]
        }
        Command::Reassign {
            responsibility,
            reason,
        } => {
            non_empty("reason", &reason)?;
            check_responsibility(policy, &responsibility)?;
            if c.responsibility.as_ref().map(|r| &r.primary) == Some(&responsibility.primary) {
                return invalid(
                    "responsibility.primary",
                    format!(
                        "the complaint is already with \"{}\"",
                        responsibility.primary
                    ),
                );
            }
            let count = c.reassignments.saturating_add(1);
            vec![Event::Reassigned {
                responsibility,
                reason,
                count,
                bounced: policy.max_reassignments.is_some_and(|max| count > max),
            }]
        }
        Command::RecordFindings {
            findings,
            root_cause,
        } => {
            non_empty("findings.summary", &findings.summary)?;
            if let Some(path) = &root_cause {
                check_category(policy, path, "root_cause")?;
                if let Some(current) = &c.category
                    && !path.starts_with(current)
                {
                    return invalid(
                        "root_cause",
                        format!("{path} does not extend the triaged category {current}"),
                    );
                }
            }
            vec![Event::FindingsRecorded {
                findings,
                root_cause,
            }]
        }
        Command::Propose {
            remedy,
            description,
            amount,
        } => {
            if !policy.has_remedy(&remedy) {
                return invalid(
                    "remedy",
                    format!("the policy allows no remedy \"{remedy}\""),
                );
            }
            non_empty("description", &description)?;
            let mut escalate = false;
            let facts = Facts::of(c)
                .with_tier(&tier)
                .with_proposal(&remedy, amount.as_ref());
            if let Some(a) = &amount {
                check_amount(policy, "amount", a)?;
                if let Some(cap) = cap_of(policy, &facts, &remedy)?
                    && over_cap(a, &cap)?
                {
                    match policy
                        .remedies
                        .iter()
                        .find(|r| r.key == remedy)
                        .map(|r| r.over_cap)
                    {
                        Some(OverCap::Escalate) => escalate = true,
                        _ => {
                            return invalid("amount", format!("{a} exceeds the cap of {cap}"));
                        }
                    }
                }
            }
            let next = if escalate || policy.steps.approval.applies(&facts) {
                Next::Approval
            } else {
                after_approval(policy, &facts)
            };
            vec![Event::RemedyProposed {
                remedy,
                description,
                amount,
                next,
            }]
        }
        Command::Approve { note } => {
            // Awaiting approval has a proposal; a damaged state may not.
            let Some(proposal) = c.current_proposal() else {
                return invalid("proposal", "there is no proposal to approve");
            };
            if proposal.proposed_by == actor.id {
                return forbidden(actor, CommandKind::Approve, ForbiddenReason::OwnProposal);
            }
            let mut approving: Vec<&crate::policy::RoleDef> = policy
                .acting_roles(actor, Some(c))
                .filter(|r| r.may.contains(&CommandKind::Approve))
                .filter(|r| r.approve_tiers.is_empty() || r.approve_tiers.contains(&tier))
                .collect();
            if approving.is_empty() {
                return forbidden(
                    actor,
                    CommandKind::Approve,
                    ForbiddenReason::TierNotApprovable { tier },
                );
            }
            // The roles whose condition allows this proposal: their limits and caps count.
            let facts = Facts::of(c).with_tier(&tier);
            approving.retain(|r| r.approve_when.as_ref().is_none_or(|w| w.holds(&facts)));
            if approving.is_empty() {
                return forbidden(actor, CommandKind::Approve, ForbiddenReason::NotApprovable);
            }
            if let Some(amount) = proposal.amount {
                check_approval_limit(actor, &approving, amount)?;
                if let Some(cap) = cap_of(policy, &facts, &proposal.remedy)?
                    && over_cap(&amount, &cap)?
                    && !approving.iter().any(|r| r.approve_over_cap)
                {
                    return forbidden(
                        actor,
                        CommandKind::Approve,
                        ForbiddenReason::OverCap { cap, amount },
                    );
                }
            }
            vec![Event::ApprovalGranted {
                note,
                next: after_approval(policy, &facts),
            }]
        }
        Command::DeclineApproval { reason } => {
            non_empty("reason", &reason)?;
            vec![Event::ApprovalDeclined { reason }]
        }
        Command::AcceptProposal { agreement } => vec![Event::ProposalAccepted { agreement }],
        Command::RejectProposal { reason } => vec![Event::ProposalRejected { reason }],
        Command::RecordExecution {
            action,
            reference,
            finished,
        } => {
            non_empty("action", &action)?;
            vec![Event::ExecutionRecorded {
                action,
                reference,
                finished,
            }]
        }
        Command::GiveFeedback { text } => {
            non_empty("text", &text)?;
            vec![Event::FeedbackGiven { text }]
        }
        Command::ConfirmSatisfaction(satisfaction) => {
            check_satisfaction(&satisfaction)?;
            let satisfied = satisfaction.satisfied;
            let facts = Facts::of(c).with_tier(&tier).with_answer(satisfied);
            let mut events = vec![Event::SatisfactionRecorded {
                satisfaction,
                follow_up_required: satisfied && policy.steps.follow_up.applies(&facts),
            }];
            if !satisfied {
                events.push(Event::Reopened {
                    cause: ReopenCause::UnsatisfiedAtConfirmation,
                });
            }
            events
        }
        Command::FollowUp(satisfaction) => {
            check_satisfaction(&satisfaction)?;
            let satisfied = satisfaction.satisfied;
            let mut events = vec![Event::FollowedUp { satisfaction }];
            if !satisfied {
                events.push(Event::Reopened {
                    cause: ReopenCause::UnsatisfiedAtFollowUp,
                });
            }
            events
        }
        Command::Close => {
            if c.follow_up_required && c.follow_up.is_none() {
                return invalid(
                    "follow_up",
                    "the policy requires a follow-up before closing",
                );
            }
            vec![Event::Closed {
                resolution: Resolution::Remedied,
            }]
        }
        Command::ResolveOnTheSpot {
            remedy,
            description,
        } => {
            if !policy.has_remedy(&remedy) {
                return invalid(
                    "remedy",
                    format!("the policy allows no remedy \"{remedy}\""),
                );
            }
            non_empty("description", &description)?;
            vec![
                Event::ResolvedOnTheSpot {
                    remedy,
                    description,
                },
                Event::Closed {
                    resolution: Resolution::OnTheSpot,
                },
            ]
        }
        Command::Withdraw { reason } => vec![Event::Withdrawn { reason }],
        Command::Merge { into } => {
            if into == c.id {
                return invalid("into", "a complaint cannot be merged into itself");
            }
            vec![Event::Merged { into }]
        }
        Command::ChangeTier { tier: to, reason } => {
            let Some(from) = c.tier.clone() else {
                return invalid("tier", "the complaint has not been triaged yet");
            };
            if policy.tier_rank(&to).is_none() {
                return invalid("tier", format!("unknown tier \"{to}\""));
            }
            if from == to {
                return invalid("tier", format!("the complaint is already \"{to}\""));
            }
            non_empty("reason", &reason)?;
            vec![Event::TierChanged { from, to, reason }]
        }
        Command::AddEvidence(evidence) => {
            non_empty("reference", &evidence.reference)?;
            vec![Event::EvidenceAdded { evidence }]
        }
        Command::ReportProgress { note } => {
            non_empty("note", &note)?;
            vec![Event::ProgressReported { note }]
        }
        Command::RecordAction {
            action,
            note,
            document,
        } => {
            let Some(def) = policy.action(&action) else {
                return invalid(
                    "action",
                    format!("the policy declares no action \"{action}\""),
                );
            };
            match &note {
                Some(n) => non_empty("note", n)?,
                None if def.note_required => {
                    return invalid("note", format!("\"{action}\" is recorded with a note"));
                }
                None => {}
            }
            match &document {
                Some(d) => non_empty("document.reference", &d.reference)?,
                None if def.document_required => {
                    return invalid(
                        "document",
                        format!("\"{action}\" is recorded with a document"),
                    );
                }
                None => {}
            }
            let label = policy
                .label(&def.label)
                .map_or_else(|| action.to_string().into(), Into::into);
            vec![Event::ActionRecorded {
                action,
                label,
                note,
                document,
            }]
        }
        Command::AgreeDeadline { clock, deadline } => {
            check_supported("deadline", deadline)?;
            if deadline <= now {
                return invalid("deadline", "an agreed deadline must lie ahead");
            }
            let clocks = policy.clocks();
            let Some((deadline, schedule, remaining)) =
                clocks.agree(c, &clock, deadline, now, &tier)
            else {
                return invalid("clock", format!("clock \"{clock}\" is not running"));
            };
            let cycle = c.clock(clock.as_str()).map_or(1, |s| s.cycle);
            vec![Event::DeadlineAgreed {
                clock,
                cycle,
                deadline,
                remaining,
                schedule,
            }]
        }
        Command::Tick { upto } => {
            let mut events = policy.clocks().fire(c, upto.min(now));
            if events.is_empty() {
                return Err(Rejection::NothingDue);
            }
            // A rung may raise the tier: the raise is an ordinary, audited tier change.
            let mut current = c.tier.clone();
            let raises: Vec<Event> = events
                .iter()
                .filter_map(|e| match e {
                    Event::RungReached {
                        clock,
                        rung,
                        raise_tier: Some(to),
                        ..
                    } => Some((clock, rung, to)),
                    _ => None,
                })
                .filter_map(|(clock, rung, to)| {
                    let from = current.clone()?;
                    let higher = policy.tier_rank(to) > policy.tier_rank(&from);
                    higher.then(|| {
                        current = Some(to.clone());
                        Event::TierChanged {
                            from,
                            to: to.clone(),
                            reason: format!("escalation: {clock} rung {rung}").into(),
                        }
                    })
                })
                .collect();
            events.extend(raises);
            events
        }
        Command::ConvertToComplaint { reason } => {
            non_empty("reason", &reason)?;
            vec![Event::ConvertedToComplaint { reason }]
        }
        Command::AdjustPoints { points, reason } => {
            if points == 0 || points.unsigned_abs() > MAX_POINTS_ADJUSTMENT {
                return invalid(
                    "points",
                    format!(
                        "an adjustment is not zero and at most {MAX_POINTS_ADJUSTMENT} points either way"
                    ),
                );
            }
            non_empty("reason", &reason)?;
            vec![Event::PointsAdjusted { points, reason }]
        }
        Command::ErasePersonalData { reason } => {
            if c.erased_at.is_some() {
                return invalid("complaint", "its personal data is already erased");
            }
            non_empty("reason", &reason)?;
            vec![Event::PersonalDataErased { reason }]
        }
        Command::RedactText {
            version,
            field,
            reason,
        } => {
            // Which texts the event has is the history's: the engine checks it
            // (`crate::privacy::redact`); the state knows how many events there are.
            if version == 0 || version > c.version {
                return invalid(
                    "version",
                    format!("the complaint has events 1 to {}", c.version),
                );
            }
            non_empty("field", &field)?;
            non_empty("reason", &reason)?;
            vec![Event::TextRedacted {
                version,
                field,
                reason,
            }]
        }
    };
    // Nothing personal is taken into a complaint whose personal data was erased: what a
    // person asked to be forgotten does not come back one field at a time.
    if c.erased_at.is_some() && events.iter().any(crate::privacy::holds_personal) {
        return invalid(
            "complaint",
            "its personal data was erased; a command carrying personal data is refused",
        );
    }
    Ok(events)
}

/// The largest adjustment of a case's points one command may make, either way.
const MAX_POINTS_ADJUSTMENT: u64 = 1_000_000;

/// After approval (or when none is needed): to the complainant if negotiation applies.
fn after_approval(policy: &Policy, facts: &Facts<'_>) -> Next {
    if policy.steps.negotiation.applies(facts) {
        Next::Agreement
    } else {
        Next::Execution
    }
}

fn authorize(
    policy: &Policy,
    actor: &Actor,
    kind: CommandKind,
    complaint: Option<&Complaint>,
) -> Result<(), Rejection> {
    if (kind == CommandKind::Tick) != matches!(actor.kind, ActorKind::System) {
        return forbidden(actor, kind, ForbiddenReason::SystemOnly);
    }
    match &actor.kind {
        ActorKind::System => Ok(()),
        ActorKind::Complainant => {
            if !CommandKind::COMPLAINANT.contains(&kind) {
                return forbidden(actor, kind, ForbiddenReason::NotForComplainants);
            }
            // Someone else's complaint is, to them, no complaint at all: the answer is the
            // one for a complaint that does not exist, so it reveals nothing.
            match complaint {
                Some(c) if c.intake.complainant.id == actor.id => Ok(()),
                _ => Err(Rejection::NotFound),
            }
        }
        // The action's own roles decide, once the action is known (`authorize_action`).
        ActorKind::Staff { .. } if kind == CommandKind::RecordAction => Ok(()),
        ActorKind::Staff { roles, .. } => {
            if policy
                .acting_roles(actor, complaint)
                .any(|r| r.may.contains(&kind))
            {
                Ok(())
            } else if roles
                .iter()
                .filter_map(|r| policy.role(r))
                .any(|r| r.may.contains(&kind))
            {
                forbidden(actor, kind, ForbiddenReason::NotResponsible)
            } else {
                forbidden(actor, kind, ForbiddenReason::NoRole)
            }
        }
    }
}

/// Whether staff `actor` may record `action`: the policy must declare it, and one of the
/// actor's roles that reach the complaint must be among its `roles`.
fn authorize_action(
    policy: &Policy,
    actor: &Actor,
    action: &crate::ActionKey,
    c: &Complaint,
) -> Result<(), Rejection> {
    let Some(def) = policy.action(action) else {
        return invalid(
            "action",
            format!("the policy declares no action \"{action}\""),
        );
    };
    // Only the roles that reach the complaint (their scope) count.
    if policy
        .acting_roles(actor, Some(c))
        .any(|r| def.roles.contains(&r.key))
    {
        Ok(())
    } else {
        forbidden(
            actor,
            CommandKind::RecordAction,
            ForbiddenReason::ActionNotForRole {
                action: action.clone(),
            },
        )
    }
}

/// The proposal's amount against the best limit of the actor's `approving` roles.
fn check_approval_limit(
    actor: &Actor,
    approving: &[&crate::policy::RoleDef],
    amount: Money,
) -> Result<(), Rejection> {
    let limits: Vec<Option<Money>> = approving.iter().map(|r| r.approval_limit).collect();
    if limits.iter().any(Option::is_none) {
        return Ok(());
    }
    let best = limits
        .into_iter()
        .flatten()
        .filter(|l| l.currency == amount.currency)
        .max_by_key(|l| l.minor);
    match best {
        Some(limit) if limit.minor >= amount.minor => Ok(()),
        Some(limit) => forbidden(
            actor,
            CommandKind::Approve,
            ForbiddenReason::OverApprovalLimit { limit, amount },
        ),
        None => forbidden(
            actor,
            CommandKind::Approve,
            ForbiddenReason::OverApprovalLimit {
                limit: Money::new(0, amount.currency),
                amount,
            },
        ),
    }
}

/// The cap on `remedy` for this complaint, or why it cannot be computed.
fn cap_of(
    policy: &Policy,
    facts: &Facts<'_>,
    remedy: &crate::RemedyKey,
) -> Result<Option<Money>, Rejection> {
    policy
        .cap(remedy, facts)
        .or_else(|reason| invalid("amount", reason))
}

/// Whether `amount` exceeds `cap`; a cap in another currency (a complaint stored before
/// intakes were checked) is refused, never compared.
fn over_cap(amount: &Money, cap: &Money) -> Result<bool, Rejection> {
    match amount.checked_cmp(cap) {
        Some(order) => Ok(order.is_gt()),
        None => invalid(
            "amount",
            format!("the cap of {cap} is in another currency than {amount}"),
        ),
    }
}

fn check_responsibility(policy: &Policy, r: &crate::Responsibility) -> Result<(), Rejection> {
    for d in std::iter::once(&r.primary).chain(&r.collaborating) {
        if !policy.has_department(d) {
            return invalid("responsibility", format!("unknown department \"{d}\""));
        }
    }
    if r.collaborating.contains(&r.primary) {
        return invalid(
            "responsibility.collaborating",
            "the primary department cannot also collaborate",
        );
    }
    Ok(())
}

fn check_intake(policy: &Policy, intake: &crate::Intake, now: Timestamp) -> Result<(), Rejection> {
    if !policy.has_channel(&intake.channel) {
        return invalid("channel", format!("unknown channel \"{}\"", intake.channel));
    }
    check_supported("received_at", intake.received_at)?;
    if intake.received_at > now {
        return invalid("received_at", "lies in the future");
    }
    if let Some(t) = intake.subject.purchased_at {
        check_supported("subject.purchased_at", t)?;
    }
    non_empty("description", &intake.description)?;
    if let Some(flag) = intake.flags.iter().find(|f| !policy.has_flag(f)) {
        return invalid("flags", format!("the policy declares no flag \"{flag}\""));
    }
    let s = &intake.subject;
    for (field, money) in [
        ("subject.amount_at_stake", &s.amount_at_stake),
        ("subject.declared_value", &s.declared_value),
        ("subject.postage", &s.postage),
        ("subject.price", &s.price),
    ] {
        if let Some(m) = money {
            check_amount(policy, field, m)?;
        }
    }
    Ok(())
}

fn check_category(
    policy: &Policy,
    path: &CategoryPath,
    field: &'static str,
) -> Result<(), Rejection> {
    if policy.has_category(path) {
        Ok(())
    } else {
        invalid(
            field,
            format!("\"{path}\" is not in the policy's category tree"),
        )
    }
}

fn check_amount(policy: &Policy, field: &'static str, amount: &Money) -> Result<(), Rejection> {
    if amount.currency != policy.currency {
        return invalid(
            field,
            format!(
                "{amount} is not in the policy's currency {}",
                policy.currency
            ),
        );
    }
    if amount.minor < 0 {
        return invalid(field, "must not be negative");
    }
    Ok(())
}

fn check_satisfaction(s: &Satisfaction) -> Result<(), Rejection> {
    match s.score {
        Some(score) if !(1..=5).contains(&score) => {
            invalid("score", format!("{score} is outside 1 to 5"))
        }
        _ => Ok(()),
    }
}

fn non_empty(field: &'static str, text: &str) -> Result<(), Rejection> {
    if text.trim().is_empty() {
        invalid(field, "must not be empty")
    } else {
        Ok(())
    }
}

fn invalid<T>(field: &'static str, reason: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection::Invalid {
        field,
        reason: reason.into(),
    })
}

fn forbidden<T>(
    actor: &Actor,
    command: CommandKind,
    reason: ForbiddenReason,
) -> Result<T, Rejection> {
    Err(Rejection::Forbidden {
        actor: actor.id.clone(),
        command,
        reason,
    })
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use crate::testing::{self, Scenario};
    use crate::{Findings, Responsibility, Validity};

    /// Walks a complaint through several stages and, at each, checks `available` against
    /// `decide` for every actor: an offered data-free command is accepted, one not offered
    /// is refused, and a kind refused for authority or stage is never offered.
    #[test]
    fn available_agrees_with_decide() {
        let policy = testing::policy();
        let actors = [
            testing::agent(),
            testing::other_agent(),
            testing::manager(),
            testing::general_manager(),
            testing::customer(),
            testing::stranger(),
        ];
        let agent = testing::agent();
        let steps: Vec<Command> = vec![
            Command::Acknowledge,
            Command::Triage {
                category: CategoryPath::parse("logistics/delay").unwrap(),
                tier: None,
                validity: Validity::Valid,
            },
            Command::Route {
                responsibility: Some(Responsibility {
                    primary: crate::DepartmentKey::new("hub").unwrap(),
                    collaborating: Vec::new(),
                    party: crate::model::Party::Internal { unit: "hub".into() },
                }),
            },
            Command::RecordFindings {
                findings: Findings {
                    summary: "Late at the hub.".into(),
                    records: Vec::new(),
                },
                root_cause: None,
            },
            Command::Propose {
                remedy: crate::RemedyKey::new("compensation").unwrap(),
                description: "Refund the fee".into(),
                amount: Some(Money::new(100_000, policy.currency)),
            },
        ];
        let mut scenario = Scenario::new(policy.clone()).given([testing::received_event()]);
        let mut seen_offers = 0;
        for step in std::iter::once(None).chain(steps.into_iter().map(Some)) {
            if let Some(command) = step {
                let events = scenario.clone().when(&agent, command).result().unwrap();
                scenario = scenario.given_by(&agent, events);
            }
            let c = scenario.state().unwrap();
            for actor in &actors {
                let offer = available(&c, &policy, actor, testing::t(1));
                for kind in CommandKind::ALL {
                    let offered = offer.commands.contains(&kind);
                    if let Some(command) = smallest(kind, &c, &policy) {
                        let accepted = decide(Some(&c), &policy, command, actor, testing::t(1));
                        assert_eq!(
                            offered,
                            accepted.is_ok(),
                            "{kind} for {actor:?}: {accepted:?}"
                        );
                    }
                    let allowed = authorize(&policy, actor, kind, Some(&c)).is_ok()
                        && graph::allows(c.stage.kind(), kind);
                    assert!(allowed || !offered, "{kind} offered to {actor:?}");
                    seen_offers += usize::from(offered);
                }
                assert_eq!(
                    offer.commands.contains(&CommandKind::RecordAction),
                    !offer.actions.is_empty()
                );
            }
        }
        assert!(seen_offers > 20, "the walk offers something: {seen_offers}");
        // At the end the proposal of 1,000.00 awaits approval: above the service manager's
        // limit, so approve is not offered to them, and the general manager gets it.
        let c = scenario.state().unwrap();
        assert_eq!(c.stage.kind(), crate::StageKind::AwaitingApproval);
        let offer = |a: &Actor| available(&c, &policy, a, testing::t(1)).commands;
        assert!(!offer(&testing::manager()).contains(&CommandKind::Approve));
        assert!(offer(&testing::manager()).contains(&CommandKind::DeclineApproval));
        assert!(offer(&testing::general_manager()).contains(&CommandKind::Approve));
        assert!(offer(&testing::stranger()).is_empty());
    }
}
