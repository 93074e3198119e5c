//! Every transition and every rejection kind of `decide`, in given/when/then form.

mod common;

use StageKind as S;
use common::*;
use plaint_core::testing::{self, Scenario};
use plaint_core::*;
use std::sync::Arc;

fn stage_after(scenario: Scenario, actor: &Actor, command: Command) -> StageKind {
    let events = scenario
        .clone()
        .when(actor, command)
        .result()
        .expect("accepted");
    let mut scenario = scenario;
    scenario = scenario.given_by(actor, events);
    scenario.state().unwrap().stage.kind()
}

#[test]
fn receive_opens_a_complaint_pinned_to_the_policy_version() {
    let intake = testing::intake(testing::t(0));
    Scenario::new(testing::policy())
        .when(
            &testing::agent(),
            Command::Receive(Arc::new(intake.clone())),
        )
        .then([Event::Received {
            intake: Arc::new(intake),
            policy_version: 1,
        }]);
}

#[test]
fn receive_checks_channel_time_and_description() {
    let mut bad = testing::intake(testing::t(0));
    bad.channel = ChannelKey::new("pigeon").unwrap();
    let r = Scenario::new(testing::policy())
        .when(&testing::agent(), Command::Receive(Arc::new(bad)))
        .result()
        .unwrap_err();
    assert!(
        matches!(
            r,
            Rejection::Invalid {
                field: "channel",
                ..
            }
        ),
        "{r}"
    );

    let future = testing::intake(testing::t(5));
    let r = Scenario::new(testing::policy())
        .when(&testing::agent(), Command::Receive(Arc::new(future)))
        .result()
        .unwrap_err();
    assert!(
        matches!(
            r,
            Rejection::Invalid {
                field: "received_at",
                ..
            }
        ),
        "{r}"
    );

    let mut empty = testing::intake(testing::t(0));
    empty.description = "  ".into();
    let r = Scenario::new(testing::policy())
        .when(&testing::agent(), Command::Receive(Arc::new(empty)))
        .result()
        .unwrap_err();
    assert!(
        matches!(
            r,
            Rejection::Invalid {
                field: "description",
                ..
            }
        ),
        "{r}"
    );
}

#[test]
fn receiving_twice_is_already_exists_and_acting_on_nothing_is_not_found() {
    at(S::Received)
        .when(
            &testing::agent(),
            Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        )
        .then_reject(Rejection::AlreadyExists(testing::complaint_id()));
    Scenario::new(testing::policy())
        .when(&testing::agent(), Command::Acknowledge)
        .then_reject(Rejection::NotFound);
}

#[test]
fn acknowledge_once() {
    at(S::Received)
        .when(&testing::agent(), Command::Acknowledge)
        .then([Event::Acknowledged]);
    let r = at(S::Received)
        .given([Event::Acknowledged])
        .when(&testing::agent(), Command::Acknowledge)
        .result()
        .unwrap_err();
    assert!(matches!(
        r,
        Rejection::Invalid {
            field: "acknowledged",
            ..
        }
    ));
}

#[test]
fn triage_valid_invalid_and_default_tier() {
    let triage = |validity, tier: Option<&str>| Command::Triage {
        category: path("logistics/delay"),
        tier: tier.map(common::tier),
        validity,
    };
    at(S::Received)
        .when(&testing::agent(), triage(Validity::Valid, None))
        .then([Event::Triaged {
            category: path("logistics/delay"),
            tier: tier("general"),
            validity: Validity::Valid,
        }]);
    assert_eq!(
        stage_after(
            at(S::Received),
            &testing::agent(),
            triage(Validity::Valid, Some("major"))
        ),
        S::Triaged
    );
    let invalid = Validity::Invalid {
        reason: InvalidReason::NotResponsible,
    };
    assert_eq!(
        stage_after(at(S::Received), &testing::agent(), triage(invalid, None)),
        S::Invalid
    );
}

#[test]
fn triage_rejects_unknown_category_and_tier() {
    let r = at(S::Received)
        .when(
            &testing::agent(),
            Command::Triage {
                category: path("logistics/teleport"),
                tier: None,
                validity: Validity::Valid,
            },
        )
        .result()
        .unwrap_err();
    assert_eq!(
        r.to_string(),
        "category: \"logistics/teleport\" is not in the policy's category tree"
    );
    let r = at(S::Received)
        .when(
            &testing::agent(),
            Command::Triage {
                category: path("logistics"),
                tier: Some(tier("cosmic")),
                validity: Validity::Valid,
            },
        )
        .result()
        .unwrap_err();
    assert!(matches!(r, Rejection::Invalid { field: "tier", .. }));
}

#[test]
fn invalid_then_explained_then_resolved_by_explanation() {
    let explain = Command::Explain {
        text: "Peak season estimates".into(),
    };
    assert_eq!(
        stage_after(at(S::Invalid), &testing::agent(), explain),
        S::Explained
    );
    at(S::Explained)
        .when(&testing::customer(), Command::AcceptExplanation)
        .then([Event::ExplanationAccepted]);
    let done = at(S::Explained)
        .given([Event::ExplanationAccepted])
        .state()
        .unwrap();
    assert_eq!(
        done.stage,
        Stage::Closed {
            resolution: Resolution::ByExplanation
        }
    );
    assert!(done.closed_at.is_some());
}

#[test]
fn a_rejected_explanation_goes_back_to_triage() {
    let cmd = Command::RejectExplanation {
        reason: Some("not convinced".into()),
    };
    assert_eq!(
        stage_after(at(S::Explained), &testing::customer(), cmd),
        S::Received
    );
}

#[test]
fn an_empty_explanation_is_invalid() {
    let r = at(S::Invalid)
        .when(&testing::agent(), Command::Explain { text: "".into() })
        .result()
        .unwrap_err();
    assert_eq!(r.to_string(), "text: must not be empty");
}

#[test]
fn route_checks_departments() {
    assert_eq!(
        stage_after(
            at(S::Triaged),
            &testing::agent(),
            Command::Route {
                responsibility: Some(responsibility("hub"))
            }
        ),
        S::Investigating
    );
    let r = at(S::Triaged)
        .when(
            &testing::agent(),
            Command::Route {
                responsibility: Some(responsibility("warehouse")),
            },
        )
        .result()
        .unwrap_err();
    assert_eq!(
        r.to_string(),
        "responsibility: unknown department \"warehouse\""
    );
    let mut both = responsibility("hub");
    both.collaborating.push(dept("hub"));
    let r = at(S::Triaged)
        .when(
            &testing::agent(),
            Command::Route {
                responsibility: Some(both),
            },
        )
        .result()
        .unwrap_err();
    assert!(matches!(
        r,
        Rejection::Invalid {
            field: "responsibility.collaborating",
            ..
        }
    ));
}

#[test]
fn findings_may_deepen_the_category_to_the_root_cause() {
    let cmd = |root: &str| Command::RecordFindings {
        findings: Findings {
            summary: "backlog at hub 3".into(),
            records: vec!["trace".into()],
        },
        root_cause: Some(path(root)),
    };
    let events = at(S::Investigating)
        .when(&testing::agent(), cmd("logistics/delay/hub-backlog"))
        .result()
        .unwrap();
    let c = at(S::Investigating).given(events).state().unwrap();
    assert_eq!(c.stage.kind(), S::Proposing);
    assert_eq!(c.category, Some(path("logistics/delay/hub-backlog")));
    let r = at(S::Investigating)
        .when(&testing::agent(), cmd("logistics/loss"))
        .result()
        .unwrap_err();
    assert_eq!(
        r.to_string(),
        "root_cause: logistics/loss does not extend the triaged category logistics/delay"
    );
}

fn propose(amount: Option<Money>) -> Command {
    Command::Propose {
        remedy: remedy("compensation"),
        description: "refund the postage".into(),
        amount,
    }
}

#[test]
fn the_policy_chooses_approval_and_negotiation() {
    let next = |s: Scenario, amount| match s.when(&testing::agent(), propose(amount)).result() {
        Ok(ev) => match &ev[0] {
            Event::RemedyProposed { next, .. } => *next,
            other => panic!("{other:?}"),
        },
        Err(r) => panic!("{r}"),
    };
    // General without money: straight to the complainant.
    assert_eq!(next(at(S::Proposing), None), Next::Agreement);
    // Any money needs approval.
    assert_eq!(next(at(S::Proposing), Some(cny(1))), Next::Approval);
    // A major complaint always needs approval.
    assert_eq!(next(at_major(S::Proposing), None), Next::Approval);
}

#[test]
fn propose_checks_remedy_and_currency() {
    let r = at(S::Proposing)
        .when(
            &testing::agent(),
            Command::Propose {
                remedy: remedy("free-holiday"),
                description: "x".into(),
                amount: None,
            },
        )
        .result()
        .unwrap_err();
    assert!(matches!(
        r,
        Rejection::Invalid {
            field: "remedy",
            ..
        }
    ));
    let eur = Money::new(100, Currency::new("EUR").unwrap());
    let r = at(S::Proposing)
        .when(&testing::agent(), propose(Some(eur)))
        .result()
        .unwrap_err();
    assert_eq!(
        r.to_string(),
        "amount: 1.00 EUR is not in the policy's currency CNY"
    );
    let r = at(S::Proposing)
        .when(&testing::agent(), propose(Some(cny(-5))))
        .result()
        .unwrap_err();
    assert!(matches!(
        r,
        Rejection::Invalid {
            field: "amount",
            ..
        }
    ));
}

#[test]
fn approval_respects_limits_and_never_the_proposer() {
    // The fixture's proposal (20.00 CNY) was made by agent-1.
    at(S::AwaitingApproval)
        .when(&testing::manager(), Command::Approve { note: None })
        .then([Event::ApprovalGranted {
            note: None,
            next: Next::Agreement,
        }]);
    // The manager proposes 600.00 CNY and may not approve their own proposal.
    let own = at(S::Proposing).given_by(
        &testing::manager(),
        [Event::RemedyProposed {
            remedy: remedy("compensation"),
            description: "x".into(),
            amount: Some(cny(60_000)),
            next: Next::Approval,
        }],
    );
    own.clone()
        .when(&testing::manager(), Command::Approve { note: None })
        .then_reject(Rejection::Forbidden {
            actor: testing::manager().id,
            command: CommandKind::Approve,
            reason: ForbiddenReason::OwnProposal,
        });
    // A second service manager is over their 500.00 CNY limit; the general manager is not.
    let other_manager = Actor::staff(
        ActorId::new("manager-2").unwrap(),
        vec![RoleKey::new("service-manager").unwrap()],
        None,
    );
    own.clone()
        .when(&other_manager, Command::Approve { note: None })
        .then_reject(Rejection::Forbidden {
            actor: other_manager.id.clone(),
            command: CommandKind::Approve,
            reason: ForbiddenReason::OverApprovalLimit {
                limit: cny(50_000),
                amount: cny(60_000),
            },
        });
    let ok = own.when(&testing::general_manager(), Command::Approve { note: None });
    assert!(ok.result().is_ok());
}

#[test]
fn a_declined_approval_asks_for_a_new_proposal() {
    let cmd = Command::DeclineApproval {
        reason: "too generous".into(),
    };
    assert_eq!(
        stage_after(at(S::AwaitingApproval), &testing::manager(), cmd),
        S::Proposing
    );
    let r = at(S::AwaitingApproval)
        .when(
            &testing::manager(),
            Command::DeclineApproval { reason: " ".into() },
        )
        .result()
        .unwrap_err();
    assert!(matches!(
        r,
        Rejection::Invalid {
            field: "reason",
            ..
        }
    ));
}

#[test]
fn negotiation_loops_until_agreement() {
    let rejected = at(S::AwaitingAgreement).given_by(
        &testing::customer(),
        [Event::ProposalRejected {
            reason: Some("too little".into()),
        }],
    );
    let c = rejected.state().unwrap();
    assert_eq!(c.stage.kind(), S::Proposing);
    assert_eq!(c.negotiation_rounds(), 1);
    let second = rejected.given([Event::RemedyProposed {
        remedy: remedy("reshipment"),
        description: "send a new one".into(),
        amount: None,
        next: Next::Agreement,
    }]);
    let doc = DocumentRef {
        reference: "agreement.pdf".into(),
        content_hash: Some("sha256:abc".into()),
    };
    let events = second
        .clone()
        .when(
            &testing::customer(),
            Command::AcceptProposal {
                agreement: Some(doc.clone()),
            },
        )
        .result()
        .unwrap();
    let c = second
        .given_by(&testing::customer(), events)
        .state()
        .unwrap();
    assert_eq!(c.stage.kind(), S::Executing);
    assert_eq!(c.negotiation_rounds(), 2);
    assert_eq!(c.proposals.len(), 2);
    assert_eq!(c.agreement, Some(doc));
}

#[test]
fn execution_can_take_several_records() {
    let record = |finished| Command::RecordExecution {
        action: "refund part 1".into(),
        reference: Some("PAY-1".into()),
        finished,
    };
    assert_eq!(
        stage_after(at(S::Executing), &testing::agent(), record(false)),
        S::Executing
    );
    assert_eq!(
        stage_after(at(S::Executing), &testing::agent(), record(true)),
        S::Executed
    );
}

#[test]
fn feedback_then_confirmation() {
    let cmd = Command::GiveFeedback {
        text: "refunded".into(),
    };
    assert_eq!(
        stage_after(at(S::Executed), &testing::agent(), cmd),
        S::AwaitingConfirmation
    );
    at(S::AwaitingConfirmation)
        .when(
            &testing::customer(),
            Command::ConfirmSatisfaction(happy(true)),
        )
        .then([Event::SatisfactionRecorded {
            satisfaction: happy(true),
            follow_up_required: false,
        }]);
    at_major(S::AwaitingConfirmation)
        .when(
            &testing::customer(),
            Command::ConfirmSatisfaction(happy(true)),
        )
        .then([Event::SatisfactionRecorded {
            satisfaction: happy(true),
            follow_up_required: true,
        }]);
}

#[test]
fn unsatisfied_confirmation_or_follow_up_reopens() {
    at(S::AwaitingConfirmation)
        .when(
            &testing::customer(),
            Command::ConfirmSatisfaction(happy(false)),
        )
        .then([
            Event::SatisfactionRecorded {
                satisfaction: happy(false),
                follow_up_required: false,
            },
            Event::Reopened {
                cause: ReopenCause::UnsatisfiedAtConfirmation,
            },
        ]);
    let events = at_major(S::Confirmed)
        .when(&testing::agent(), Command::FollowUp(happy(false)))
        .result()
        .unwrap();
    let c = at_major(S::Confirmed).given(events).state().unwrap();
    assert_eq!(c.stage.kind(), S::Investigating);
    assert_eq!(c.reopened, 1);
    assert!(
        !c.follow_up_required,
        "a reopened complaint is judged again"
    );
}

#[test]
fn closing_waits_for_a_required_follow_up() {
    assert_eq!(
        stage_after(at(S::Confirmed), &testing::agent(), Command::Close),
        S::Closed
    );
    let r = at_major(S::Confirmed)
        .when(&testing::agent(), Command::Close)
        .result()
        .unwrap_err();
    assert_eq!(
        r.to_string(),
        "follow_up: the policy requires a follow-up before closing"
    );
    assert_eq!(
        stage_after(at_major(S::FollowedUp), &testing::agent(), Command::Close),
        S::Closed
    );
}

#[test]
fn resolution_on_the_spot_only_before_investigation() {
    let cmd = || Command::ResolveOnTheSpot {
        remedy: remedy("apology"),
        description: "apologised at the counter".into(),
    };
    at(S::Received).when(&testing::agent(), cmd()).then([
        Event::ResolvedOnTheSpot {
            remedy: remedy("apology"),
            description: "apologised at the counter".into(),
        },
        Event::Closed {
            resolution: Resolution::OnTheSpot,
        },
    ]);
    at(S::Investigating)
        .when(&testing::agent(), cmd())
        .then_reject(Rejection::IllegalTransition {
            from: S::Investigating,
            command: CommandKind::ResolveOnTheSpot,
        });
}

#[test]
fn withdrawal_from_any_open_stage_and_never_after_closing() {
    for stage in [
        S::Received,
        S::Investigating,
        S::AwaitingAgreement,
        S::Confirmed,
    ] {
        let cmd = Command::Withdraw { reason: None };
        assert_eq!(
            stage_after(at(stage), &testing::customer(), cmd),
            S::Withdrawn
        );
    }
    let closed = at(S::Confirmed).given([Event::Closed {
        resolution: Resolution::Remedied,
    }]);
    closed
        .when(&testing::customer(), Command::Withdraw { reason: None })
        .then_reject(Rejection::IllegalTransition {
            from: S::Closed,
            command: CommandKind::Withdraw,
        });
}

#[test]
fn merge_into_another_but_not_itself() {
    let other = ComplaintId::new("EXP-2").unwrap();
    at(S::Triaged)
        .when(
            &testing::agent(),
            Command::Merge {
                into: other.clone(),
            },
        )
        .then([Event::Merged { into: other }]);
    let r = at(S::Triaged)
        .when(
            &testing::agent(),
            Command::Merge {
                into: testing::complaint_id(),
            },
        )
        .result()
        .unwrap_err();
    assert!(matches!(r, Rejection::Invalid { field: "into", .. }));
}

#[test]
fn tier_changes_mid_flight_are_authorized_and_audited() {
    let raise = || Command::ChangeTier {
        tier: tier("major"),
        reason: "a journalist called".into(),
    };
    at(S::Investigating)
        .when(&testing::manager(), raise())
        .then([Event::TierChanged {
            from: tier("general"),
            to: tier("major"),
            reason: "a journalist called".into(),
        }]);
    let r = at(S::Received)
        .when(&testing::manager(), raise())
        .result()
        .unwrap_err();
    assert_eq!(
        r.to_string(),
        "tier: the complaint has not been triaged yet"
    );
    let r = at_major(S::Investigating)
        .when(&testing::manager(), raise())
        .result()
        .unwrap_err();
    assert!(matches!(r, Rejection::Invalid { field: "tier", .. }));
    at(S::Investigating)
        .when(&testing::agent(), raise())
        .then_reject(Rejection::Forbidden {
            actor: testing::agent().id,
            command: CommandKind::ChangeTier,
            reason: ForbiddenReason::NoRole,
        });
    // The new tier drives later policy decisions: a major complaint's proposal needs approval.
    let raised = at(S::Proposing).given_by(
        &testing::manager(),
        [Event::TierChanged {
            from: tier("general"),
            to: tier("major"),
            reason: "media".into(),
        }],
    );
    let ev = raised
        .when(&testing::agent(), propose(None))
        .result()
        .unwrap();
    assert!(matches!(
        ev[0],
        Event::RemedyProposed {
            next: Next::Approval,
            ..
        }
    ));
}

#[test]
fn complainants_only_act_on_their_own_complaint_and_only_as_complainants() {
    let photo = Evidence {
        kind: EvidenceKind::Photo,
        reference: "s3://evidence/1.jpg".into(),
        content_hash: Some("sha256:00".into()),
    };
    at(S::Investigating)
        .when(&testing::customer(), Command::AddEvidence(photo.clone()))
        .then([Event::EvidenceAdded {
            evidence: photo.clone(),
        }]);
    // Someone else's complaint answers as one that does not exist.
    at(S::Investigating)
        .when(&testing::stranger(), Command::AddEvidence(photo))
        .then_reject(Rejection::NotFound);
    at(S::Investigating)
        .when(&testing::customer(), Command::Close)
        .then_reject(Rejection::Forbidden {
            actor: testing::customer().id,
            command: CommandKind::Close,
            reason: ForbiddenReason::NotForComplainants,
        });
    Scenario::new(testing::policy())
        .when(
            &testing::customer(),
            Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        )
        .then_reject(Rejection::Forbidden {
            actor: testing::customer().id,
            command: CommandKind::Receive,
            reason: ForbiddenReason::NotForComplainants,
        });
}

#[test]
fn commands_out_of_order_are_illegal_transitions() {
    at(S::Received)
        .when(&testing::agent(), propose(None))
        .then_reject(Rejection::IllegalTransition {
            from: S::Received,
            command: CommandKind::Propose,
        });
    at(S::Executing)
        .when(
            &testing::customer(),
            Command::ConfirmSatisfaction(happy(true)),
        )
        .then_reject(Rejection::IllegalTransition {
            from: S::Executing,
            command: CommandKind::ConfirmSatisfaction,
        });
}

#[test]
fn satisfaction_scores_run_from_one_to_five() {
    let r = at(S::AwaitingConfirmation)
        .when(
            &testing::customer(),
            Command::ConfirmSatisfaction(Satisfaction {
                satisfied: true,
                score: Some(9),
                comment: None,
            }),
        )
        .result()
        .unwrap_err();
    assert_eq!(r.to_string(), "score: 9 is outside 1 to 5");
}

#[test]
fn every_transition_in_the_table_has_a_fixture_that_takes_it() {
    // For each (stage, command) the graph allows, some command of that kind is accepted from
    // the fixture stage: the table does not promise what decide refuses.
    let graph = TransitionGraph::new();
    let edges: std::collections::BTreeSet<(S, CommandKind, S)> = graph
        .graph()
        .edge_indices()
        .map(|e| {
            let (a, b) = graph.graph().edge_endpoints(e).unwrap();
            (graph.graph()[a], graph.graph()[e], graph.graph()[b])
        })
        .collect();
    assert!(edges.contains(&(S::Proposing, CommandKind::Propose, S::AwaitingApproval)));
    assert!(edges.contains(&(S::Confirmed, CommandKind::FollowUp, S::Investigating)));
    // Nothing leaves a terminal stage; only a case's points are still adjusted there,
    // personal data erased and staff text redacted.
    assert!(!edges.iter().any(|(from, c, to)| from.is_terminal()
        && (to != from
            || !matches!(
                c,
                CommandKind::AdjustPoints
                    | CommandKind::ErasePersonalData
                    | CommandKind::RedactText
            ))));
}
