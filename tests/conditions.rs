//! The one condition language: how a condition reads the complaint as it stands (unknown
//! facts included), and each place a policy makes a choice with one: severity, optional
//! steps, who approves, routing, notification rules (and the `triaged` moment), scoring.

mod common;

use common::{cny, dept, events_to, happy, path, remedy, responsibility, tier};
use plaint_core::blocking::Engine;
use plaint_core::blocking::Wait as _;
use plaint_core::policy::{Condition, Facts};
use plaint_core::testing::{self, Scenario};
use plaint_core::*;
use std::sync::Arc;

fn condition(toml_text: &str) -> Condition {
    toml::from_str(toml_text).unwrap_or_else(|e| panic!("{toml_text}: {e}"))
}

fn staff(id: &str, role: &str) -> Actor {
    Actor::staff(
        ActorId::new(id).unwrap(),
        vec![RoleKey::new(role).unwrap()],
        None,
    )
}

fn express() -> Policy {
    Policy::from_toml_str(include_str!("../examples/policies/express.toml")).unwrap()
}

fn supermarket() -> Policy {
    Policy::from_toml_str(include_str!("../examples/policies/supermarket.toml")).unwrap()
}

/// A small policy whose steps and routing rules the tests below fill in.
fn policy_with(steps_and_routing: &str) -> Policy {
    let text = format!(
        r#"format = 2
id = "conditions"
version = 1
currency = "CNY"
default_tier = "normal"
tiers = [{{ key = "normal" }}, {{ key = "serious" }}]
channels = [{{ key = "hotline" }}, {{ key = "email" }}]
departments = [{{ key = "service" }}, {{ key = "workshop" }}, {{ key = "manager" }}]
remedies = [{{ key = "apology" }}, {{ key = "refund" }}, {{ key = "compensation" }}]
{steps_and_routing}

[[categories]]
key = "logistics"
children = [{{ key = "delay" }}, {{ key = "loss" }}]

[[roles]]
key = "clerk"
may = ["receive", "triage", "route", "record_findings", "propose", "approve",
       "accept_proposal", "record_execution", "give_feedback", "confirm_satisfaction", "close"]
"#
    );
    Policy::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn the_complaint(history: Vec<Event>) -> Complaint {
    Scenario::new(testing::policy())
        .given(history)
        .state()
        .unwrap()
}

#[test]
fn an_unknown_fact_makes_neither_an_atom_nor_its_negation_hold() {
    let intake = testing::intake(testing::t(0)); // by hotline, no amount stated
    let major = tier("major");
    let received = Facts::of_intake(&intake);
    let triaged = received.with_tier(&major);
    let cases = [
        // (condition, holds before triage, holds once major)
        (r#"tier = "major""#, false, true),
        (r#"not = { tier = "major" }"#, false, false),
        (r#"not = { tier = "general" }"#, false, true),
        // `any` with one true part holds whatever the unknown part; `all` with one false
        // part fails, and so its negation holds.
        (
            r#"any = [{ tier = "major" }, { channel = "hotline" }]"#,
            true,
            true,
        ),
        (
            r#"all = [{ tier = "major" }, { channel = "app" }]"#,
            false,
            false,
        ),
        (
            r#"not = { all = [{ tier = "major" }, { channel = "app" }] }"#,
            true,
            true,
        ),
        (
            r#"all = [{ tier = "major" }, { channel = "hotline" }]"#,
            false,
            true,
        ),
        (
            r#"not = { any = [{ tier = "major" }, { channel = "app" }] }"#,
            false,
            false,
        ),
        // No amount stated: unknown either way.
        (
            r#"not = { amount_at_least = { minor = 1, currency = "CNY" } }"#,
            false,
            false,
        ),
        // An intake naming no number of people affects one person: known.
        ("people_at_least = 1", true, true),
        ("not = { people_at_least = 2 }", true, true),
        // Flags and insurance are always known.
        (r#"not = { flag = "media" }"#, true, true),
        ("insured = false", true, true),
        // Nothing proposed, routed, triaged or answered yet.
        (r#"not = { remedy = "refund" }"#, false, false),
        (r#"not = { department = "hub" }"#, false, false),
        (r#"not = { category = "logistics" }"#, false, false),
        ("valid = false", false, false),
        ("not = { satisfied = true }", false, false),
    ];
    for (text, before, after) in cases {
        let c = condition(text);
        assert_eq!(c.holds(&received), before, "{text} before triage");
        assert_eq!(c.holds(&triaged), after, "{text} on a major complaint");
    }
}

#[test]
fn facts_are_the_complaint_as_it_stands() {
    use StageKind as S;
    let holds = |c: &Complaint, text: &str| condition(text).holds(&Facts::of(c));
    let received = the_complaint(events_to(S::Received, "general"));
    assert!(
        !holds(&received, r#"tier = "general""#),
        "no tier before triage"
    );
    // A clock asks on the tier it runs on.
    assert!(
        condition(r#"tier = "general""#).holds(&Facts::of(&received).with_tier(&tier("general")))
    );

    let proposed = the_complaint(events_to(S::AwaitingApproval, "major"));
    for text in [
        r#"tier = "major""#,
        r#"category = "logistics""#,
        "valid = true",
        r#"department = "hub""#,
        r#"remedy = "compensation""#,
        r#"proposed_at_least = { minor = 2000, currency = "CNY" }"#,
        r#"not = { proposed_at_least = { minor = 2001, currency = "CNY" } }"#,
    ] {
        assert!(holds(&proposed, text), "{text}");
    }
    assert!(!holds(&proposed, "satisfied = true") && !holds(&proposed, "satisfied = false"));

    // Satisfied at confirmation, unsatisfied at the follow-up call: the latest answer counts.
    let mut history = events_to(S::FollowedUp, "major");
    assert!(holds(&the_complaint(history.clone()), "satisfied = true"));
    *history.last_mut().unwrap() = Event::FollowedUp {
        satisfaction: happy(false),
    };
    history.push(Event::Reopened {
        cause: ReopenCause::UnsatisfiedAtFollowUp,
    });
    let reopened = the_complaint(history.clone());
    assert!(holds(&reopened, "satisfied = false"));
    // A new result: the answer is unknown until the complainant gives it.
    history.extend([
        Event::FindingsRecorded {
            findings: Findings {
                summary: "again".into(),
                records: vec![],
            },
            root_cause: None,
        },
        Event::RemedyProposed {
            remedy: remedy("apology"),
            description: "sorry".into(),
            amount: None,
            next: Next::Execution,
        },
        Event::ExecutionRecorded {
            action: "apologised".into(),
            reference: None,
            finished: true,
        },
        Event::FeedbackGiven {
            text: "we apologised".into(),
        },
    ]);
    let awaiting = the_complaint(history.clone());
    assert!(
        holds(&awaiting, r#"remedy = "apology""#),
        "the latest proposal"
    );
    assert!(!holds(
        &awaiting,
        r#"proposed_at_least = { minor = 0, currency = "CNY" }"#
    ));
    assert!(!holds(&awaiting, "satisfied = true") && !holds(&awaiting, "satisfied = false"));
    history.push(Event::SatisfactionRecorded {
        satisfaction: happy(true),
        follow_up_required: false,
    });
    assert!(holds(&the_complaint(history), "satisfied = true"));
}

#[test]
fn severity_rules_see_what_triage_sets_but_not_the_tier() {
    let policy = Policy::from_toml_str(&include_str!("../crates/plaint-core/src/testing/policy.toml").replace(
        "default_tier = \"general\"\n",
        "default_tier = \"general\"\nseverity = [{ tier = \"major\", when = { all = [{ category = \"logistics/delay\" }, { valid = true }] } }]\n",
    ))
    .unwrap();
    let triage = |validity| Command::Triage {
        category: path("logistics/delay"),
        tier: None,
        validity,
    };
    let tier_of = |validity| {
        let events = Scenario::new(policy.clone())
            .given([testing::received_event()])
            .when(&testing::agent(), triage(validity))
            .result()
            .unwrap();
        match &events[0] {
            Event::Triaged { tier, .. } => tier.to_string(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(tier_of(Validity::Valid), "major");
    let invalid = Validity::Invalid {
        reason: InvalidReason::NotResponsible,
    };
    assert_eq!(tier_of(invalid), "general");
}

/// The express history up to findings on a general loss, routed to claims.
fn express_investigated() -> Vec<Event> {
    vec![
        testing::received_event(),
        Event::Triaged {
            category: path("loss/in-transit"),
            tier: tier("general"),
            validity: Validity::Valid,
        },
        Event::Routed {
            responsibility: responsibility("claims"),
        },
        Event::FindingsRecorded {
            findings: Findings {
                summary: "lost at the hub".into(),
                records: vec![],
            },
            root_cause: None,
        },
    ]
}

#[test]
fn any_compensation_needs_the_general_manager_whatever_its_amount() {
    let investigator = staff("inv-1", "investigator");
    let propose = |remedy_key: &str, amount| Command::Propose {
        remedy: remedy(remedy_key),
        description: "for the lost parcel".into(),
        amount,
    };
    let next_of = |command| {
        let events = Scenario::new(express())
            .given(express_investigated())
            .when(&investigator, command)
            .result()
            .unwrap();
        match &events[0] {
            Event::RemedyProposed { next, .. } => *next,
            other => panic!("{other:?}"),
        }
    };
    // No amount stated yet: still compensation, so approval; an apology needs none.
    assert_eq!(next_of(propose("compensation", None)), Next::Approval);
    assert_eq!(next_of(propose("apology", None)), Next::Agreement);
    assert_eq!(next_of(propose("coupon", Some(cny(500)))), Next::Approval);

    let mut awaiting = express_investigated();
    awaiting.push(Event::RemedyProposed {
        remedy: remedy("compensation"),
        description: "to be assessed".into(),
        amount: None,
        next: Next::Approval,
    });
    let approve = Command::Approve { note: None };
    let refused = Scenario::new(express())
        .given(awaiting.clone())
        .when(&staff("sm-1", "service-manager"), approve.clone())
        .result()
        .unwrap_err();
    assert!(
        matches!(
            &refused,
            Rejection::Forbidden {
                reason: ForbiddenReason::NotApprovable,
                ..
            }
        ),
        "{refused}"
    );
    let granted = Scenario::new(express())
        .given(awaiting)
        .when(&staff("gm-1", "general-manager"), approve.clone())
        .result()
        .unwrap();
    assert!(matches!(granted[0], Event::ApprovalGranted { .. }));

    // The service manager still approves what is not compensation (a major complaint's
    // apology).
    let mut major = express_investigated();
    major[1] = Event::Triaged {
        category: path("loss/in-transit"),
        tier: tier("major"),
        validity: Validity::Valid,
    };
    major.push(Event::RemedyProposed {
        remedy: remedy("apology"),
        description: "sorry".into(),
        amount: None,
        next: Next::Approval,
    });
    let granted = Scenario::new(express())
        .given(major)
        .when(&staff("sm-1", "service-manager"), approve)
        .result()
        .unwrap();
    assert!(matches!(granted[0], Event::ApprovalGranted { .. }));
}

#[test]
fn negotiation_and_follow_up_apply_when_their_condition_holds() {
    let policy = policy_with(
        r#"[steps]
negotiation = { when = { remedy = "refund" } }
follow_up = { tiers = ["serious"], when = { all = [{ department = "workshop" }, { satisfied = true }] } }"#,
    );
    let clerk = staff("clerk-1", "clerk");
    let routed_to = |department: &str| {
        vec![
            testing::received_event(),
            Event::Triaged {
                category: path("logistics/delay"),
                tier: tier("normal"),
                validity: Validity::Valid,
            },
            Event::Routed {
                responsibility: responsibility(department),
            },
            Event::FindingsRecorded {
                findings: Findings {
                    summary: "late".into(),
                    records: vec![],
                },
                root_cause: None,
            },
        ]
    };
    let next_of = |remedy_key: &str| {
        let events = Scenario::new(policy.clone())
            .given(routed_to("service"))
            .when(
                &clerk,
                Command::Propose {
                    remedy: remedy(remedy_key),
                    description: "offer".into(),
                    amount: None,
                },
            )
            .result()
            .unwrap();
        match &events[0] {
            Event::RemedyProposed { next, .. } => *next,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(next_of("refund"), Next::Agreement);
    assert_eq!(next_of("apology"), Next::Execution);

    let follow_up_after = |department: &str| {
        let mut history = routed_to(department);
        history.extend([
            Event::RemedyProposed {
                remedy: remedy("apology"),
                description: "sorry".into(),
                amount: None,
                next: Next::Execution,
            },
            Event::ExecutionRecorded {
                action: "apologised".into(),
                reference: None,
                finished: true,
            },
            Event::FeedbackGiven {
                text: "done".into(),
            },
        ]);
        let events = Scenario::new(policy.clone())
            .given(history)
            .when(&clerk, Command::ConfirmSatisfaction(happy(true)))
            .result()
            .unwrap();
        match &events[0] {
            Event::SatisfactionRecorded {
                follow_up_required, ..
            } => *follow_up_required,
            other => panic!("{other:?}"),
        }
    };
    // The answer being given is part of the facts the follow-up step is chosen on.
    assert!(follow_up_after("workshop"));
    assert!(!follow_up_after("service"));
}

#[test]
fn a_routing_rule_with_a_condition_wins_while_it_holds() {
    let policy = policy_with(
        r#"routing = [
  { category = "logistics", primary = "service" },
  { category = "logistics/loss", primary = "workshop" },
  # Counts as one condition, like a tier: beats the longer category while it holds.
  { category = "logistics", primary = "manager", collaborating = ["service"], when = { any = [{ insured = true }, { amount_at_least = { minor = 100000, currency = "CNY" } }] } },
  # One condition each: the earlier wins the tie.
  { category = "logistics", tier = "serious", primary = "workshop", collaborating = ["manager"] },
  { category = "logistics", primary = "service", collaborating = ["manager"], when = { tier = "serious" } },
]"#,
    );
    let route = |category: &str, tier_key: &str, intake: Intake| {
        let triaged = Event::Triaged {
            category: path(category),
            tier: tier(tier_key),
            validity: Validity::Valid,
        };
        let events = Scenario::new(policy.clone())
            .given([
                Event::Received {
                    intake: Arc::new(intake),
                    policy_version: 1,
                },
                triaged,
            ])
            .when(
                &staff("clerk-1", "clerk"),
                Command::Route {
                    responsibility: None,
                },
            )
            .result()
            .unwrap();
        match &events[0] {
            Event::Routed { responsibility } => (
                responsibility.primary.to_string(),
                responsibility.collaborating.len(),
            ),
            other => panic!("{other:?}"),
        }
    };
    let plain = testing::intake(testing::t(0));
    assert_eq!(
        route("logistics/loss", "normal", plain.clone()),
        ("workshop".into(), 0)
    );
    assert_eq!(
        route("logistics/delay", "normal", plain.clone()),
        ("service".into(), 0)
    );
    let mut insured = plain.clone();
    insured.subject.insured = true;
    assert_eq!(
        route("logistics/loss", "normal", insured),
        ("manager".into(), 1)
    );
    let mut large = plain.clone();
    large.subject.amount_at_stake = Some(cny(100_000));
    assert_eq!(
        route("logistics/loss", "normal", large),
        ("manager".into(), 1)
    );
    // Serious: the tier rule and the `when` rule both count one; the earlier wins; the
    // insured-or-large rule, also one, comes first but does not hold.
    assert_eq!(
        route("logistics/delay", "serious", plain),
        ("workshop".into(), 1)
    );
}

type Recorder = Engine<Arc<plaint::MemoryStore>, Arc<RecordingNotifier>, Arc<ManualClock>>;

fn engine(policy: Policy) -> (Recorder, Arc<RecordingNotifier>) {
    let notifier = Arc::new(RecordingNotifier::new());
    let e = Engine::builder(Arc::new(plaint::MemoryStore::new()), policy)
        .clock(Arc::new(ManualClock::new(testing::t(1))))
        .notifier(Arc::clone(&notifier))
        .build();
    (e, notifier)
}

/// Receives the sample intake as `id` and triages it into `category`, of `tier_key`.
fn receive_and_triage(e: &Recorder, id: &str, category: &str, tier_key: &str, by: &Actor) {
    let cid = ComplaintId::new(id).unwrap();
    e.execute(
        CommandId::new(format!("{id}-1")).unwrap(),
        &cid,
        Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        by,
    )
    .unwrap();
    e.execute(
        CommandId::new(format!("{id}-2")).unwrap(),
        &cid,
        Command::Triage {
            category: path(category),
            tier: Some(tier(tier_key)),
            validity: Validity::Valid,
        },
        by,
    )
    .unwrap();
    e.relay().unwrap();
}

fn told_at_triage(n: &RecordingNotifier, id: &str) -> Vec<(Recipient, Option<String>)> {
    n.delivered()
        .into_iter()
        .filter(|n| n.complaint.as_str() == id && n.kind == NotificationKind::Triaged)
        .map(|n| (n.recipient, n.text.map(|t| t.to_string())))
        .collect()
}

fn desk(key: &str) -> Recipient {
    Recipient::Department {
        department: dept(key),
    }
}

#[test]
fn management_hears_of_a_major_complaint_at_triage_and_of_no_other() {
    let (e, notifier) = engine(express());
    let agent = staff("agent-1", "agent");
    receive_and_triage(&e, "EXP-1", "loss/in-transit", "major", &agent);
    receive_and_triage(&e, "EXP-2", "loss/in-transit", "general", &agent);
    assert_eq!(
        told_at_triage(&notifier, "EXP-1"),
        [(
            desk("management"),
            Some("重大投诉 EXP-1 已定级，请关注。".to_owned())
        )]
    );
    assert_eq!(told_at_triage(&notifier, "EXP-2"), []);
}

#[test]
fn the_food_safety_office_is_told_when_a_food_safety_complaint_is_triaged() {
    let (e, notifier) = engine(supermarket());
    let clerk = staff("clerk-1", "clerk");
    receive_and_triage(&e, "MART-1", "food-safety/expired", "important", &clerk);
    receive_and_triage(&e, "MART-2", "quality/fake", "general", &clerk);
    assert_eq!(
        told_at_triage(&notifier, "MART-1"),
        [(
            desk("food-safety"),
            Some("食品安全投诉 MART-1 已受理定级，请准备调查。".to_owned())
        )]
    );
    assert_eq!(told_at_triage(&notifier, "MART-2"), []);
}

#[test]
fn a_notification_rule_is_decided_on_the_complaint_as_its_command_left_it() {
    // The manager is copied on serious complaints only: decided per complaint, on the tier
    // it has when it is routed; the copy's text is rendered from the same complaint.
    let policy = policy_with(
        r#"routing = [{ category = "logistics", primary = "service" }]
[[notifications]]
on = "assigned"
to = ["responsible"]
[[notifications]]
on = "assigned"
to = ["department:manager"]
when = { tier = "serious" }
text = { en = "Serious complaint {complaint} is with {department}." }"#,
    );
    let (e, notifier) = engine(policy);
    let clerk = staff("clerk-1", "clerk");
    for (id, tier_key) in [("C-1", "serious"), ("C-2", "normal")] {
        receive_and_triage(&e, id, "logistics/delay", tier_key, &clerk);
        e.execute(
            CommandId::new(format!("{id}-3")).unwrap(),
            &ComplaintId::new(id).unwrap(),
            Command::Route {
                responsibility: None,
            },
            &clerk,
        )
        .unwrap();
    }
    e.relay().unwrap();
    let mut assigned: Vec<(String, Option<String>)> = notifier
        .delivered()
        .into_iter()
        .filter(|n| n.kind == NotificationKind::Assigned)
        .map(|n| (n.id.to_string(), n.text.map(|t| t.to_string())))
        .collect();
    assigned.sort();
    assert_eq!(
        assigned,
        [
            (
                "C-1/3/assigned/department:manager/in_app".to_owned(),
                Some("Serious complaint C-1 is with service.".to_owned())
            ),
            ("C-1/3/assigned/department:service/in_app".to_owned(), None),
            ("C-2/3/assigned/department:service/in_app".to_owned(), None),
        ]
    );
}

#[test]
fn scoring_rules_add_their_points_where_their_condition_holds() {
    let policy = supermarket();
    let at = |category: &str, tier_key: &str| {
        Scenario::new(policy.clone())
            .given([
                testing::received_event(),
                Event::Triaged {
                    category: path(category),
                    tier: tier(tier_key),
                    validity: Validity::Valid,
                },
                Event::Routed {
                    responsibility: responsibility("quality"),
                },
            ])
            .state()
            .unwrap()
    };
    // Food safety costs two points more than its tier; other categories only their tier's.
    assert_eq!(
        policy
            .scoring
            .complaint_points(&at("food-safety/expired", "urgent")),
        -7
    );
    assert_eq!(
        policy
            .scoring
            .complaint_points(&at("quality/fake", "urgent")),
        -5
    );

    // The monthly report scores departments with the same points.
    let store = plaint::MemoryStore::new();
    for (id, category) in [("M-1", "food-safety/expired"), ("M-2", "quality/fake")] {
        let cid = ComplaintId::new(id).unwrap();
        let command = CommandId::new(id).unwrap();
        let mut history = Vec::new();
        let mut version = 0;
        for event in [
            testing::received_event(),
            Event::Triaged {
                category: path(category),
                tier: tier("general"),
                validity: Validity::Valid,
            },
            Event::Routed {
                responsibility: responsibility("quality"),
            },
        ] {
            version += 1;
            history.push(Recorded {
                version,
                at: testing::t(version as i64),
                actor: testing::agent().id,
                actor_kind: None,
                command: command.clone(),
                event,
            });
        }
        store
            .append(Append::new(cid, command, 0, history))
            .wait()
            .unwrap();
    }
    let report = plaint::report::Report::from_store(
        &store,
        &policy,
        plaint::report::Period::month(2026, 11).unwrap(),
    )
    .wait()
    .unwrap();
    let quality = report
        .scores
        .iter()
        .find(|s| s.department == "quality")
        .unwrap();
    assert_eq!(
        (quality.complaints, quality.points),
        (2, -4.0),
        "−1 −2 and −1"
    );
}

#[test]
fn the_loader_names_every_key_a_condition_names_that_the_policy_lacks() {
    let text = include_str!("../crates/plaint-core/src/testing/policy.toml").replace(
        "[steps]\n",
        r#"[steps]
"#,
    );
    let text = text.replace(
        "approval = { tiers = [\"major\"], from_amount = { minor = 1, currency = \"CNY\" } }",
        r#"approval = { tiers = ["major"], when = { any = [{ remedy = "voucher" }, { tier = "minor" }, { department = "legal" }, { channel = "fax" }, { category = "logistics/teleport" }, { proposed_at_least = { minor = 1, currency = "EUR" } }] } }"#,
    );
    let Err(PolicyError::Invalid(problems)) = Policy::from_toml_str(&text) else {
        panic!("loaded")
    };
    let got: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let at = "steps.approval.when.any";
    assert_eq!(
        got,
        [
            format!("{at}[0].remedy: unknown remedy \"voucher\""),
            format!("{at}[1].tier: unknown tier \"minor\""),
            format!("{at}[2].department: unknown department \"legal\""),
            format!("{at}[3].channel: unknown channel \"fax\""),
            format!("{at}[4].category: \"logistics/teleport\" is not in the category tree"),
            format!("{at}[5].proposed_at_least: 0.01 EUR is not in the policy's currency CNY"),
        ]
    );
}

#[test]
fn caps_see_the_complaint_as_it_stands() {
    // A major complaint's compensation may reach ten times the postage, others three times.
    let mut policy = express();
    let compensation = policy
        .remedies
        .iter_mut()
        .find(|r| r.key.as_str() == "compensation")
        .unwrap();
    compensation.caps.insert(
        0,
        Cap {
            when: Some(condition(r#"tier = "major""#)),
            basis: Basis::Postage,
            percent: 1000,
            minimum: None,
        },
    );
    let mut intake = testing::intake(testing::t(0));
    intake.subject.postage = Some(cny(1_500));
    let (major, general) = (tier("major"), tier("general"));
    let comp = remedy("compensation");
    let cap = |t| {
        policy
            .cap(
                &comp,
                &Facts::of_intake(&intake)
                    .with_tier(t)
                    .with_proposal(&comp, None),
            )
            .unwrap()
    };
    assert_eq!(cap(&major), Some(cny(15_000)));
    assert_eq!(cap(&general), Some(cny(4_500)));
}
