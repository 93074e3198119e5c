//! What the benches share: one complaint's life as a script of commands, and as the appends
//! the engine makes of it.

#![allow(dead_code, unreachable_pub)]

use plaint::blocking::Wait as _;
use plaint::{
    Actor, Append, CategoryPath, Command, CommandId, ComplaintId, Currency, Engine, Findings,
    ManualClock, MemoryStore, Money, Party, Policy, Responsibility, Satisfaction, Store, Validity,
    testing,
};
use std::sync::Arc;

/// The 12 commands of one complaint's life, with who gives each.
pub fn script() -> Vec<(Command, Actor)> {
    let cny = Currency::new("CNY").unwrap();
    vec![
        (
            Command::Receive(Arc::new(testing::intake(testing::t(0)))),
            testing::agent(),
        ),
        (Command::Acknowledge, testing::agent()),
        (
            Command::Triage {
                category: CategoryPath::parse("logistics/delay").unwrap(),
                tier: None,
                validity: Validity::Valid,
            },
            testing::agent(),
        ),
        (
            Command::Route {
                responsibility: Some(Responsibility {
                    primary: "hub".try_into().unwrap(),
                    collaborating: vec!["outlet".try_into().unwrap()],
                    party: Party::Internal {
                        unit: "hub-3".into(),
                    },
                }),
            },
            testing::agent(),
        ),
        (
            Command::RecordFindings {
                findings: Findings {
                    summary: "backlog at hub 3".into(),
                    records: vec!["trace".into()],
                },
                root_cause: Some(CategoryPath::parse("logistics/delay/hub-backlog").unwrap()),
            },
            testing::agent(),
        ),
        (
            Command::Propose {
                remedy: "compensation".try_into().unwrap(),
                description: "refund the postage".into(),
                amount: Some(Money::new(1_200, cny)),
            },
            testing::agent(),
        ),
        (Command::Approve { note: None }, testing::manager()),
        (
            Command::AcceptProposal { agreement: None },
            testing::customer(),
        ),
        (
            Command::RecordExecution {
                action: "refunded 12.00 CNY".into(),
                reference: Some("PAY-1".into()),
                finished: true,
            },
            testing::agent(),
        ),
        (
            Command::GiveFeedback {
                text: "refunded".into(),
            },
            testing::agent(),
        ),
        (
            Command::ConfirmSatisfaction(Satisfaction {
                satisfied: true,
                score: Some(5),
                comment: None,
            }),
            testing::customer(),
        ),
        (Command::Close, testing::agent()),
    ]
}

/// The appends of one lifecycle (`script`) under `policy`, as the engine made them on
/// complaint `EXP-0`: to replay on fresh ids.
pub fn appends(policy: Policy) -> Vec<Append> {
    let engine = Engine::builder(MemoryStore::new(), policy)
        .clock(ManualClock::new(testing::t(1)))
        .build();
    let id = ComplaintId::new("EXP-0").unwrap();
    for (i, (command, actor)) in script().into_iter().enumerate() {
        let cid = CommandId::new(format!("0-{i}")).unwrap();
        engine.execute(cid, &id, command, &actor).wait().unwrap();
    }
    let mut appends: Vec<Append> = Vec::new();
    for r in engine.store().history(&id).wait().unwrap() {
        match appends.last_mut() {
            Some(a) if a.command == r.command => a.events.push(r),
            _ => {
                let expected = r.version - 1;
                appends.push(Append::new(
                    id.clone(),
                    r.command.clone(),
                    expected,
                    vec![r],
                ));
            }
        }
    }
    appends
}

/// Append `a` again as append `k` of complaint `n`: fresh complaint and command ids.
pub fn renumber(a: &Append, n: u64, k: usize) -> Append {
    let mut a = a.clone();
    a.complaint = ComplaintId::new(format!("EXP-{n:07}")).unwrap();
    a.command = CommandId::new(format!("{n}-{k}")).unwrap();
    a.events
        .iter_mut()
        .for_each(|e| e.command = a.command.clone());
    a
}
