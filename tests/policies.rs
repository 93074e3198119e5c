//! Policy documents: the shipped examples load; every broken policy in `tests/policies/bad/`
//! reports exactly the problems its `# expect:` lines list, with their paths, all at once (a
//! line ending in `…` matches a message by its start).

use plaint_core::blocking::Wait as _;
use plaint_core::policy::Facts;
use plaint_core::{Policy, PolicyError};
use std::path::Path;

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml" || x == "json"))
        .collect();
    v.sort();
    v
}

fn load(path: &Path) -> Result<Policy, PolicyError> {
    let text = std::fs::read_to_string(path).unwrap();
    if path.extension().is_some_and(|x| x == "json") {
        Policy::from_json_str(&text)
    } else {
        Policy::from_toml_str(&text)
    }
}

#[test]
fn good_policies_load() {
    let mut n = 0;
    for dir in ["examples/policies", "tests/policies/good"] {
        for path in files(dir) {
            if let Err(e) = load(&path) {
                panic!("{}: {e}", path.display());
            }
            n += 1;
        }
    }
    assert!(n >= 2);
}

#[test]
fn every_bad_policy_reports_exactly_its_problems() {
    let bad = files("tests/policies/bad");
    assert!(bad.len() >= 20, "the corpus has {} files", bad.len());
    let mut failures = Vec::new();
    for path in bad {
        let text = std::fs::read_to_string(&path).unwrap();
        let expected: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(
            !expected.is_empty(),
            "{} lists no expectation",
            path.display()
        );
        let got: Vec<String> = match load(&path) {
            Ok(_) => vec!["<loaded without problems>".into()],
            Err(PolicyError::Invalid(problems)) => problems.iter().map(|p| p.to_string()).collect(),
            Err(other) => vec![other.to_string()],
        };
        // A line ending in `…` matches any message with that start (long lists of names).
        let matches = got.len() == expected.len()
            && got
                .iter()
                .zip(&expected)
                .all(|(g, e)| match e.strip_suffix('…') {
                    Some(prefix) => g.starts_with(prefix),
                    None => g == e,
                });
        if !matches {
            failures.push(format!(
                "{}:\n  expected {expected:#?}\n  got {got:#?}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn json_is_accepted_too() {
    let toml_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policies/good/minimal.toml"),
    )
    .unwrap();
    let from_toml = Policy::from_toml_str(&toml_text).unwrap();
    let json = serde_json::to_string(&from_toml).unwrap();
    assert_eq!(Policy::from_json_str(&json).unwrap(), from_toml);
}

#[test]
fn text_that_is_not_toml_is_a_parse_error() {
    let err = Policy::from_toml_str("id = ").unwrap_err();
    assert!(matches!(err, PolicyError::Parse(_)), "{err}");
}

fn minimal_with(extra: &str) -> Result<Policy, PolicyError> {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policies/good/minimal.toml"),
    )
    .unwrap();
    // Top-level keys must come before the first table of the document.
    let (head, tables) = base.split_once("\n[[categories]]").unwrap();
    Policy::from_toml_str(&format!("{head}\n{extra}\n[[categories]]{tables}"))
}

#[test]
fn severity_rules_pick_the_first_matching_tier() {
    use plaint_core::{CategoryPath, Flag, Money, testing};
    let policy = minimal_with(
        r#"flags = [{ key = "illness" }, { key = "media" }, { key = "repeat" }]
severity = [
  { tier = "serious", when = { any = [{ flag = "illness" }, { flag = "media" }] } },
  { tier = "serious", when = { all = [{ category = "product/broken" }, { people_at_least = 3 }] } },
  { tier = "serious", when = { amount_at_least = { minor = 50000, currency = "EUR" } } },
  { tier = "normal", when = { channel = "email" } },
  { tier = "serious", when = { not = { flag = "repeat" } } },
]"#,
    )
    .unwrap();
    let mut intake = testing::intake(testing::t(0));
    intake.channel = "email".try_into().unwrap();
    let broken = CategoryPath::parse("product/broken").unwrap();
    let late = CategoryPath::parse("product/late").unwrap();
    assert_eq!(
        policy
            .pick_tier(&Facts::of_intake(&intake).with_category(&broken))
            .as_str(),
        "normal",
        "the email rule"
    );
    intake.people_affected = Some(3);
    assert_eq!(
        policy
            .pick_tier(&Facts::of_intake(&intake).with_category(&broken))
            .as_str(),
        "serious"
    );
    assert_eq!(
        policy
            .pick_tier(&Facts::of_intake(&intake).with_category(&late))
            .as_str(),
        "normal",
        "prefix must match"
    );
    intake.flags.insert(Flag::new("media").unwrap());
    assert_eq!(
        policy
            .pick_tier(&Facts::of_intake(&intake).with_category(&late))
            .as_str(),
        "serious"
    );
    intake.flags.clear();
    intake.subject.amount_at_stake = Some(Money::new(50_000, policy.currency));
    assert_eq!(
        policy
            .pick_tier(&Facts::of_intake(&intake).with_category(&late))
            .as_str(),
        "serious"
    );
}

#[test]
fn severity_rules_are_checked() {
    let err = minimal_with(
        r#"severity = [
  { tier = "critical", when = { category = "product/melted" } },
  { tier = "normal", when = { all = [{ channel = "fax" }, { any = [] }] } },
]"#,
    )
    .unwrap_err();
    let PolicyError::Invalid(problems) = err else {
        panic!("{err}")
    };
    let got: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        got,
        [
            "severity[0].tier: unknown tier \"critical\"",
            "severity[0].when.category: \"product/melted\" is not in the category tree",
            "severity[1].when.all[0].channel: unknown channel \"fax\"",
            "severity[1].when.all[1].any: an empty list",
        ]
    );
}

#[test]
fn triage_without_a_tier_takes_the_severity_rules_tier() {
    use plaint_core::testing::{self, Scenario};
    use plaint_core::*;
    let policy = minimal_with(
        r#"flags = [{ key = "illness" }]
severity = [{ tier = "serious", when = { flag = "illness" } }]"#,
    )
    .unwrap();
    let clerk = Actor::staff(
        ActorId::new("clerk-1").unwrap(),
        vec![RoleKey::new("clerk").unwrap()],
        None,
    );
    let mut intake = testing::intake(testing::t(0));
    intake.flags.insert(Flag::new("illness").unwrap());
    let triage = || Command::Triage {
        category: CategoryPath::parse("product/broken").unwrap(),
        tier: None,
        validity: Validity::Valid,
    };
    let events = Scenario::new(policy.clone())
        .given([Event::Received {
            intake: std::sync::Arc::new(intake),
            policy_version: 1,
        }])
        .when(&clerk, triage())
        .result()
        .unwrap();
    assert!(matches!(&events[0], Event::Triaged { tier, .. } if tier.as_str() == "serious"));
    let events = Scenario::new(policy)
        .given([testing::received_event()])
        .when(&clerk, triage())
        .result()
        .unwrap();
    assert!(matches!(&events[0], Event::Triaged { tier, .. } if tier.as_str() == "normal"));
}

const ROUTING: &str = r#"max_reassignments = 1
departments = [{ key = "service" }, { key = "workshop" }, { key = "manager" }]
routing = [
  { category = "product", primary = "service" },
  { category = "product/broken", primary = "workshop", collaborating = ["service"] },
  { category = "product", tier = "serious", primary = "manager" },
  { category = "product/late", channel = "email", primary = "service", partner = "FastCarrier" },
]"#;

fn routing_policy() -> Policy {
    // The minimal policy's own `departments` line is replaced by the routing fixture's.
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policies/good/minimal.toml"),
    )
    .unwrap()
    .replace("departments = [{ key = \"service\" }]\n", "");
    let (head, tables) = base.split_once("\n[[categories]]").unwrap();
    Policy::from_toml_str(&format!("{head}\n{ROUTING}\n[[categories]]{tables}")).unwrap()
}

/// What the routing rules give a complaint of `category` and `tier` from `channel`.
fn route_at(
    p: &Policy,
    category: &plaint_core::CategoryPath,
    tier: &plaint_core::TierKey,
    channel: &plaint_core::ChannelKey,
) -> Option<plaint_core::Responsibility> {
    let mut intake = plaint_core::testing::intake(plaint_core::testing::t(0));
    intake.channel = channel.clone();
    p.route(
        &Facts::of_intake(&intake)
            .with_category(category)
            .with_tier(tier),
    )
}

#[test]
fn routing_rules_pick_the_most_specific_match() {
    use plaint_core::{CategoryPath, ChannelKey, Party, TierKey};
    let p = routing_policy();
    let (normal, serious) = (
        TierKey::new("normal").unwrap(),
        TierKey::new("serious").unwrap(),
    );
    let (email, phone) = (
        ChannelKey::new("email").unwrap(),
        ChannelKey::new("phone").unwrap(),
    );
    let cat = |s| CategoryPath::parse(s).unwrap();
    let r = route_at(&p, &cat("product/broken"), &normal, &phone).unwrap();
    assert_eq!(
        (r.primary.as_str(), r.collaborating.len()),
        ("workshop", 1),
        "longer category"
    );
    let r = route_at(&p, &cat("product/broken"), &serious, &phone).unwrap();
    assert_eq!(
        r.primary.as_str(),
        "manager",
        "a tier override beats a longer category"
    );
    let r = route_at(&p, &cat("product/late"), &normal, &email).unwrap();
    assert_eq!(
        r.party,
        Party::External {
            partner: "FastCarrier".into()
        }
    );
    let r = route_at(&p, &cat("product/late"), &normal, &phone).unwrap();
    assert_eq!(
        r.party,
        Party::Internal {
            unit: "service".into()
        }
    );
}

#[test]
fn route_without_a_department_follows_the_rules_and_reassignments_are_counted() {
    use plaint_core::testing::{self, Scenario};
    use plaint_core::*;
    let p = routing_policy();
    let clerk = Actor::staff(
        ActorId::new("clerk-1").unwrap(),
        vec![RoleKey::new("clerk").unwrap()],
        None,
    );
    let mut role = p.roles[0].clone();
    role.may.insert(CommandKind::Reassign);
    let mut p2 = p.clone();
    p2.roles[0] = role;
    let triaged = Scenario::new(p2.clone()).given([
        testing::received_event(),
        Event::Triaged {
            category: CategoryPath::parse("product/broken").unwrap(),
            tier: TierKey::new("normal").unwrap(),
            validity: Validity::Valid,
        },
    ]);
    let ev = triaged
        .clone()
        .when(
            &clerk,
            Command::Route {
                responsibility: None,
            },
        )
        .result()
        .unwrap();
    let Event::Routed { responsibility } = &ev[0] else {
        panic!("{ev:?}")
    };
    assert_eq!(responsibility.primary.as_str(), "workshop");
    let routed = triaged.given(ev);
    let move_to = |d: &str| Command::Reassign {
        responsibility: Responsibility {
            primary: DepartmentKey::new(d).unwrap(),
            collaborating: vec![],
            party: Party::Internal { unit: d.into() },
        },
        reason: "wrong department".into(),
    };
    let first = routed
        .clone()
        .when(&clerk, move_to("service"))
        .result()
        .unwrap();
    assert!(matches!(
        first[0],
        Event::Reassigned {
            count: 1,
            bounced: false,
            ..
        }
    ));
    let twice = routed.clone().given(first);
    let second = twice
        .clone()
        .when(&clerk, move_to("manager"))
        .result()
        .unwrap();
    assert!(
        matches!(
            second[0],
            Event::Reassigned {
                count: 2,
                bounced: true,
                ..
            }
        ),
        "max is 1"
    );
    let c = twice.given(second).state().unwrap();
    assert!(c.bounced);
    assert_eq!(c.responsibility.unwrap().primary.as_str(), "manager");
    let err = routed
        .when(&clerk, move_to("workshop"))
        .result()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Rejection::Invalid {
                field: "responsibility.primary",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn every_leaf_category_needs_a_routing_rule() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policies/good/minimal.toml"),
    )
    .unwrap();
    let (head, tables) = base.split_once("\n[[categories]]").unwrap();
    let extra = r#"routing = [{ category = "product/broken", primary = "service" }, { category = "product", tier = "serious", primary = "nobody" }]"#;
    let err =
        Policy::from_toml_str(&format!("{head}\n{extra}\n[[categories]]{tables}")).unwrap_err();
    let PolicyError::Invalid(problems) = err else {
        panic!("{err}")
    };
    let got: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        got,
        [
            "routing[1].primary: unknown department \"nobody\"",
            "categories[0].children[1]: leaf category \"product/late\" has no routing rule",
        ]
    );
}

/// A general loss complaint received with `intake` under policy version 1, routed to claims
/// and investigated: ready for a proposal.
fn investigated_loss(intake: plaint_core::Intake) -> Vec<plaint_core::Event> {
    use plaint_core::*;
    vec![
        Event::Received {
            intake: std::sync::Arc::new(intake),
            policy_version: 1,
        },
        Event::Triaged {
            category: CategoryPath::parse("loss").unwrap(),
            tier: TierKey::new("general").unwrap(),
            validity: Validity::Valid,
        },
        Event::Routed {
            responsibility: Responsibility {
                primary: "claims".try_into().unwrap(),
                collaborating: vec![],
                party: Party::Internal { unit: "hub".into() },
            },
        },
        Event::FindingsRecorded {
            findings: Findings {
                summary: "lost".into(),
                records: vec![],
            },
            root_cause: None,
        },
    ]
}

#[test]
fn money_in_another_currency_never_meets_a_cap() {
    use plaint_core::testing::Scenario;
    use plaint_core::*;
    let p = Policy::from_toml_str(include_str!("../examples/policies/express.toml")).unwrap();
    let krw = |minor| Money::new(minor, Currency::new("KRW").unwrap());
    let cny = |minor| Money::new(minor, p.currency);
    let agent = Actor::staff(
        ActorId::new("agent-1").unwrap(),
        vec![RoleKey::new("agent").unwrap()],
        None,
    );
    // Every money field of an intake is in the policy's currency, and none is negative.
    type Field = fn(&mut Subject) -> &mut Option<Money>;
    let fields: [(&str, Field); 4] = [
        ("subject.amount_at_stake", |s| &mut s.amount_at_stake),
        ("subject.declared_value", |s| &mut s.declared_value),
        ("subject.postage", |s| &mut s.postage),
        ("subject.price", |s| &mut s.price),
    ];
    for (name, field) in fields {
        for bad in [krw(1_000_000), cny(-1)] {
            let mut intake = testing_intake();
            *field(&mut intake.subject) = Some(bad);
            let refused = Scenario::new(p.clone())
                .when(&agent, Command::Receive(std::sync::Arc::new(intake)))
                .result()
                .unwrap_err();
            assert!(
                matches!(&refused, Rejection::Invalid { field, .. } if *field == name),
                "{name} = {bad}: {refused}"
            );
        }
    }
    // A complaint stored before intakes were checked: its KRW declared value is no cap for a
    // CNY proposal; the proposal is refused, not let through.
    let mut intake = testing_intake();
    intake.subject.insured = true;
    intake.subject.declared_value = Some(krw(1_000_000));
    let loss = CategoryPath::parse("loss").unwrap();
    let comp = RemedyKey::new("compensation").unwrap();
    assert!(
        p.cap(&comp, &Facts::of_intake(&intake).with_category(&loss))
            .is_ok()
    );
    let refused = Scenario::new(p.clone())
        .given(investigated_loss(intake))
        .when(
            &Actor::staff(
                ActorId::new("inv-1").unwrap(),
                vec![RoleKey::new("investigator").unwrap()],
                None,
            ),
            Command::Propose {
                remedy: comp,
                description: "pay".into(),
                amount: Some(cny(999_999)),
            },
        )
        .result()
        .unwrap_err();
    assert!(
        matches!(&refused, Rejection::Invalid { field: "amount", reason } if reason.contains("KRW")),
        "{refused}"
    );
}

#[test]
fn caps_follow_the_intake_and_over_cap_proposals_escalate_or_are_refused() {
    use plaint_core::testing::Scenario;
    use plaint_core::*;
    let mut p = Policy::from_toml_str(include_str!("../examples/policies/express.toml")).unwrap();
    let cny = |minor| Money::new(minor, p.currency);
    // Let the service manager approve up to 1,000.00 so that only the cap stops them.
    let sm = p
        .roles
        .iter_mut()
        .find(|r| r.key.as_str() == "service-manager")
        .unwrap();
    sm.approval_limit = Some(cny(100_000));
    let mut intake = testing_intake();
    let comp = RemedyKey::new("compensation").unwrap();
    let loss = CategoryPath::parse("loss").unwrap();
    intake.subject.postage = Some(cny(1_500));
    assert_eq!(
        p.cap(&comp, &Facts::of_intake(&intake).with_category(&loss))
            .unwrap(),
        Some(cny(4_500)),
        "3 × postage"
    );
    intake.subject.insured = true;
    intake.subject.declared_value = Some(cny(80_000));
    assert_eq!(
        p.cap(&comp, &Facts::of_intake(&intake).with_category(&loss))
            .unwrap(),
        Some(cny(80_000)),
        "declared value"
    );
    intake.subject.declared_value = None;
    assert!(
        p.cap(&comp, &Facts::of_intake(&intake).with_category(&loss))
            .unwrap_err()
            .contains("DeclaredValue")
    );

    // Uninsured, 15.00 postage: a 100.00 proposal is over the 45.00 cap and escalates; the
    // service manager may not approve it, the general manager may.
    let mut intake = testing_intake();
    intake.subject.postage = Some(cny(1_500));
    let staff = |id: &str, role: &str| {
        Actor::staff(
            ActorId::new(id).unwrap(),
            vec![RoleKey::new(role).unwrap()],
            None,
        )
    };
    let proposing = Scenario::new(p.clone()).given(investigated_loss(intake));
    let propose = Command::Propose {
        remedy: comp.clone(),
        description: "pay".into(),
        amount: Some(cny(10_000)),
    };
    let ev = proposing
        .clone()
        .when(&staff("inv-1", "investigator"), propose)
        .result()
        .unwrap();
    assert!(matches!(
        ev[0],
        Event::RemedyProposed {
            next: Next::Approval,
            ..
        }
    ));
    let awaiting = proposing.given_by(&staff("inv-1", "investigator"), ev);
    let err = awaiting
        .clone()
        .when(
            &staff("sm-1", "service-manager"),
            Command::Approve { note: None },
        )
        .result()
        .unwrap_err();
    assert!(matches!(err, Rejection::Forbidden { .. }), "{err}");
    assert!(
        awaiting
            .when(
                &staff("gm-1", "general-manager"),
                Command::Approve { note: None }
            )
            .result()
            .is_ok()
    );
}

fn testing_intake() -> plaint_core::Intake {
    let mut i = plaint_core::testing::intake(plaint_core::testing::t(0));
    i.channel = "hotline".try_into().unwrap();
    i
}

#[test]
fn roles_approve_only_their_tiers() {
    use plaint_core::testing::{self, Scenario};
    use plaint_core::*;
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policies/good/minimal.toml"),
    )
    .unwrap()
    .replace(
        "approval_limit = { minor = 10000, currency = \"EUR\" }",
        "approval_limit = { minor = 10000, currency = \"EUR\" }\napprove_tiers = [\"normal\"]",
    );
    let p = Policy::from_toml_str(&text).unwrap();
    let clerk = |id: &str| {
        Actor::staff(
            ActorId::new(id).unwrap(),
            vec![RoleKey::new("clerk").unwrap()],
            None,
        )
    };
    let awaiting = |tier: &str| {
        Scenario::new(p.clone()).given_by(
            &clerk("proposer"),
            [
                testing::received_event(),
                Event::Triaged {
                    category: CategoryPath::parse("product").unwrap(),
                    tier: TierKey::new(tier).unwrap(),
                    validity: Validity::Valid,
                },
                Event::Routed {
                    responsibility: Responsibility {
                        primary: "service".try_into().unwrap(),
                        collaborating: vec![],
                        party: Party::Internal {
                            unit: "service".into(),
                        },
                    },
                },
                Event::FindingsRecorded {
                    findings: Findings {
                        summary: "x".into(),
                        records: vec![],
                    },
                    root_cause: None,
                },
                Event::RemedyProposed {
                    remedy: "apology".try_into().unwrap(),
                    description: "sorry".into(),
                    amount: None,
                    next: Next::Approval,
                },
            ],
        )
    };
    assert!(
        awaiting("normal")
            .when(&clerk("approver"), Command::Approve { note: None })
            .result()
            .is_ok()
    );
    let err = awaiting("serious")
        .when(&clerk("approver"), Command::Approve { note: None })
        .result()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Rejection::Forbidden {
                reason: ForbiddenReason::TierNotApprovable { .. },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn channel_targets_win_over_tier_targets() {
    use plaint::MemoryStore;
    use plaint_core::*;
    let p = Policy::from_toml_str(include_str!("../examples/policies/express.toml")).unwrap();
    let start = testing::t(0);
    let e = Engine::builder(MemoryStore::new(), p)
        .clock(ManualClock::new(start))
        .build();
    let agent = Actor::staff(
        ActorId::new("a").unwrap(),
        vec![RoleKey::new("agent").unwrap()],
        None,
    );
    for (i, (channel, minutes)) in [("app", 15), ("hotline", 60), ("email", 60)]
        .into_iter()
        .enumerate()
    {
        let mut intake = testing::intake(start);
        intake.channel = channel.try_into().unwrap();
        let c = e
            .execute(
                CommandId::new(format!("c{i}")).unwrap(),
                &ComplaintId::new(format!("X{i}")).unwrap(),
                Command::Receive(std::sync::Arc::new(intake)),
                &agent,
            )
            .wait()
            .unwrap();
        let due = c.clock("acknowledge").unwrap().schedule.deadline.unwrap();
        assert_eq!(due, start + chrono::Duration::minutes(minutes), "{channel}");
    }
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn corpus() -> Vec<String> {
        let mut texts = Vec::new();
        for dir in [
            "examples/policies",
            "tests/policies/good",
            "tests/policies/bad",
        ] {
            for path in files(dir) {
                texts.push(std::fs::read_to_string(path).unwrap());
            }
        }
        texts
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Loading a mangled policy reports problems or loads; it never panics.
        #[test]
        fn mangled_policies_never_panic(
            file in any::<prop::sample::Index>(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<char>()), 1..6),
        ) {
            let texts = corpus();
            let mut text: Vec<char> = texts[file.index(texts.len())].chars().collect();
            for (at, op, ch) in edits {
                if text.is_empty() { break; }
                let i = at.index(text.len());
                match op {
                    0 => { text.remove(i); }
                    1 => text.insert(i, ch),
                    2 => text[i] = ch,
                    _ => { let line: Vec<char> = text[i..].iter().take_while(|c| **c != '\n').cloned().collect(); text.splice(i..i, line); }
                }
            }
            let text: String = text.into_iter().collect();
            let _ = Policy::from_toml_str(&text);
        }
    }
}

/// A policy in the first format (no `format` key) or a newer one is refused as a whole, with
/// what changed; it is never read under rules it was not written for.
#[test]
fn other_formats_are_refused_with_what_changed() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies/express.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let old = text.replacen("format = 2\n", "", 1);
    let err = Policy::from_toml_str(&old).unwrap_err();
    assert_eq!(err, PolicyError::Format { found: None });
    let msg = err.to_string();
    assert!(msg.contains("format 1 (it has no `format` key)"), "{msg}");
    assert!(msg.contains("re-projects every running clock"), "{msg}");
    let newer = text.replacen("format = 2\n", "format = 3\n", 1);
    let err = Policy::from_toml_str(&newer).unwrap_err();
    assert_eq!(err, PolicyError::Format { found: Some(3) });
    assert!(err.to_string().contains("newer than format 2"), "{err}");
    let bad = text.replacen("format = 2\n", "format = \"two\"\n", 1);
    match Policy::from_toml_str(&bad) {
        Err(PolicyError::Invalid(p)) => assert_eq!(p[0].path, "format"),
        other => panic!("{other:?}"),
    }
}
