//! Shared fixtures for the integration tests: event histories that reach each stage.

#![allow(dead_code, unreachable_pub)]

use plaint_core::testing::{self, Scenario};
use plaint_core::*;

pub fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::new("CNY").unwrap())
}

pub fn path(s: &str) -> CategoryPath {
    CategoryPath::parse(s).unwrap()
}

pub fn tier(s: &str) -> TierKey {
    TierKey::new(s).unwrap()
}

pub fn dept(s: &str) -> DepartmentKey {
    DepartmentKey::new(s).unwrap()
}

pub fn remedy(s: &str) -> RemedyKey {
    RemedyKey::new(s).unwrap()
}

pub fn happy(satisfied: bool) -> Satisfaction {
    Satisfaction {
        satisfied,
        score: Some(if satisfied { 5 } else { 1 }),
        comment: None,
    }
}

pub fn responsibility(primary: &str) -> Responsibility {
    Responsibility {
        primary: dept(primary),
        collaborating: vec![],
        party: Party::Internal {
            unit: "outlet-7".into(),
        },
    }
}

/// Events that bring the sample complaint, of `tier`, to `stage`.
pub fn events_to(stage: StageKind, tier_key: &str) -> Vec<Event> {
    use StageKind as S;
    let mut ev = vec![testing::received_event()];
    if stage == S::Received {
        return ev;
    }
    let invalid = matches!(stage, S::Invalid | S::Explained);
    ev.push(Event::Triaged {
        category: path("logistics/delay"),
        tier: tier(tier_key),
        validity: if invalid {
            Validity::Invalid {
                reason: InvalidReason::Misunderstanding,
            }
        } else {
            Validity::Valid
        },
    });
    if stage == S::Invalid || stage == S::Triaged {
        return ev;
    }
    if stage == S::Explained {
        ev.push(Event::Explained {
            text: "Delivery times are estimates in peak season.".into(),
        });
        return ev;
    }
    let steps: Vec<(S, Event)> = vec![
        (
            S::Investigating,
            Event::Routed {
                responsibility: responsibility("hub"),
            },
        ),
        (
            S::Proposing,
            Event::FindingsRecorded {
                findings: Findings {
                    summary: "hub backlog".into(),
                    records: vec![],
                },
                root_cause: None,
            },
        ),
        (
            S::AwaitingApproval,
            Event::RemedyProposed {
                remedy: remedy("compensation"),
                description: "pay the postage back".into(),
                amount: Some(cny(2_000)),
                next: Next::Approval,
            },
        ),
        (
            S::AwaitingAgreement,
            Event::ApprovalGranted {
                note: None,
                next: Next::Agreement,
            },
        ),
        (S::Executing, Event::ProposalAccepted { agreement: None }),
        (
            S::Executed,
            Event::ExecutionRecorded {
                action: "refunded".into(),
                reference: None,
                finished: true,
            },
        ),
        (
            S::AwaitingConfirmation,
            Event::FeedbackGiven {
                text: "refunded".into(),
            },
        ),
        (
            S::Confirmed,
            Event::SatisfactionRecorded {
                satisfaction: happy(true),
                follow_up_required: tier_key == "major",
            },
        ),
        (
            S::FollowedUp,
            Event::FollowedUp {
                satisfaction: happy(true),
            },
        ),
    ];
    for (reached, event) in steps {
        ev.push(event);
        if reached == stage {
            return ev;
        }
    }
    panic!("no fixture reaches {stage}");
}

/// A scenario whose history brings the complaint to `stage` (tier general).
pub fn at(stage: StageKind) -> Scenario {
    Scenario::new(testing::policy()).given(events_to(stage, "general"))
}

/// Same, for a major complaint.
pub fn at_major(stage: StageKind) -> Scenario {
    Scenario::new(testing::policy()).given(events_to(stage, "major"))
}

/// `default` proptest cases, or `PROPTEST_CASES` when set (for longer runs).
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
