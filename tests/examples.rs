//! The example scenarios, run as tests: each ends as the domain says it should.

#[path = "../examples/support/mod.rs"]
mod support;

#[path = "../examples/scenarios/express.rs"]
mod express;

#[test]
fn express_week_ends_as_planned() {
    let s = express::run(true).unwrap();
    let stages: Vec<(&str, &str)> = s
        .stages
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        stages,
        [
            ("EXP-101", "closed"),
            ("EXP-102", "closed"),
            ("EXP-103", "closed"),
            ("EXP-104", "closed"),
            ("EXP-105", "closed"),
            ("EXP-106", "merged"),
        ]
    );
    assert_eq!((s.breached, s.in_ledger, s.reopened), (1, 1, 1));
    assert_eq!(
        s.refused, 2,
        "the service manager's approval and the early close"
    );
    assert!(s.renegotiated >= 1);
}
