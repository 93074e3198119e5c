//! Fuzzes the policy loader: any bytes, read as a TOML and as a JSON policy document, load or
//! are refused, never panic. A policy that loads is drawn as a diagram and driven through a
//! short lifecycle by `decide`, ticking its clocks a day and a year on.

#![no_main]

use libfuzzer_sys::fuzz_target;
use plaint_core::notify::notifications_for;
use plaint_core::*;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for loaded in [Policy::from_toml_str(text), Policy::from_json_str(text)] {
        match loaded {
            Ok(policy) => exercise(&policy),
            Err(e) => drop(e.to_string()),
        }
    }
});

fn exercise(policy: &Policy) {
    let _ = policy.diagram();
    let Some(script) = script(policy) else { return };
    let id = ComplaintId::new("FUZZ-1").expect("valid");
    let mut state: Option<Complaint> = None;
    let mut history: Vec<Recorded> = Vec::new();
    let start: Timestamp = "2026-11-16T09:00:00Z".parse().expect("valid");
    for (i, (command, actor)) in script.into_iter().enumerate() {
        let now = start + chrono::Duration::hours(i as i64 * 7);
        let Ok(events) = decide(state.as_ref(), policy, command, &actor, now) else {
            continue;
        };
        let cmd = CommandId::new(format!("c-{i}")).expect("valid");
        let after = state.as_ref().map_or(0, |c| c.version);
        let recorded = Recorded::numbered(events, after, now, &actor, &cmd, None);
        let _ = notifications_for(&id, state.as_ref(), &recorded, policy);
        for r in &recorded {
            let _ = r.event.display_in(policy.time_zone()).to_string();
            match &mut state {
                Some(c) => c.apply(r),
                None => state = Complaint::open(id.clone(), r),
            }
        }
        history.extend(recorded);
    }
    assert_eq!(Complaint::replay(id, &history), state, "state is the fold of the events");
}

/// The happy path through everything the policy defines, by staff holding every role (two of
/// them, so a proposal is never approved by its proposer), the complainant and the system.
fn script(policy: &Policy) -> Option<Vec<(Command, Actor)>> {
    let roles: Vec<RoleKey> = policy.roles.iter().map(|r| r.key.clone()).collect();
    let a = Actor::staff(ActorId::new("staff-a").ok()?, roles.clone(), None);
    let b = Actor::staff(ActorId::new("staff-b").ok()?, roles, None);
    let customer = Actor::complainant(ActorId::new("cust-1").ok()?);
    let system = Actor::system();
    let channel = policy.channels.first()?.key.clone();
    let mut category = Vec::new();
    let mut level = &policy.categories;
    while let Some(node) = level.first() {
        category.push(node.key.clone());
        level = &node.children;
    }
    let category = CategoryPath::new(category);
    let remedy = policy.remedies.first()?.key.clone();
    let tier = policy.tiers.last()?.key.clone();
    let money = |minor| Some(Money::new(minor, policy.currency));
    let intake = Intake {
        complainant: Complainant {
            id: customer.id.clone(),
            name: "Fuzz".into(),
            contacts: vec![Contact::Phone("13812345678".into())],
        },
        channel,
        received_at: "2026-11-16T08:00:00Z".parse().ok()?,
        subject: Subject {
            amount_at_stake: money(100_000),
            declared_value: money(50_000),
            postage: money(2_000),
            price: money(10_000),
            ..Subject::default()
        },
        description: "fuzzed".into(),
        evidence: Vec::new(),
        requested_remedy: None,
        staff_involved: Vec::new(),
        flags: Default::default(),
        people_affected: Some(3),
    };
    let tick = |upto: &str| Command::Tick {
        upto: upto.parse().expect("valid"),
    };
    let mut script = vec![
        (Command::Receive(Arc::new(intake)), a.clone()),
        (Command::Acknowledge, a.clone()),
        (
            Command::Triage {
                category,
                tier: None,
                validity: Validity::Valid,
            },
            a.clone(),
        ),
        (Command::Route { responsibility: None }, a.clone()),
    ];
    if let Some(d) = policy.departments.first() {
        let responsibility = Responsibility {
            primary: d.key.clone(),
            collaborating: Vec::new(),
            party: Party::Internal { unit: "u".into() },
        };
        script.push((Command::Route { responsibility: Some(responsibility) }, a.clone()));
    }
    for clock in &policy.clocks {
        script.push((
            Command::AgreeDeadline {
                clock: clock.key.clone(),
                deadline: "2026-12-01T00:00:00Z".parse().ok()?,
            },
            a.clone(),
        ));
    }
    script.extend([
        (tick("2026-11-17T09:00:00Z"), system.clone()),
        (
            Command::ChangeTier {
                tier,
                reason: "worse".into(),
            },
            a.clone(),
        ),
        (
            Command::RecordFindings {
                findings: Findings {
                    summary: "found".into(),
                    records: Vec::new(),
                },
                root_cause: None,
            },
            a.clone(),
        ),
        (
            Command::Propose {
                remedy: remedy.clone(),
                description: "offer".into(),
                amount: money(1_000),
            },
            a.clone(),
        ),
        (
            Command::Propose {
                remedy,
                description: "offer".into(),
                amount: None,
            },
            a.clone(),
        ),
        (Command::Approve { note: None }, b),
        (Command::AcceptProposal { agreement: None }, customer.clone()),
        (
            Command::RecordExecution {
                action: "done".into(),
                reference: None,
                finished: true,
            },
            a.clone(),
        ),
        (Command::GiveFeedback { text: "done".into() }, a.clone()),
        (
            Command::ConfirmSatisfaction(Satisfaction {
                satisfied: true,
                score: Some(5),
                comment: None,
            }),
            customer,
        ),
        (tick("2027-11-17T09:00:00Z"), system),
        (
            Command::FollowUp(Satisfaction {
                satisfied: true,
                score: Some(5),
                comment: None,
            }),
            a.clone(),
        ),
        (Command::Close, a),
    ]);
    Some(script)
}
