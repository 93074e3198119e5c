//! What the benches share: one complaint's life as a script of commands.

#![allow(dead_code, unreachable_pub)]

use plaint::{
    Actor, CategoryPath, Command, Currency, Findings, Money, Party, Responsibility, Satisfaction,
    Validity, testing,
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
