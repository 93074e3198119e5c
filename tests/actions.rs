//! Policy-defined actions, clock triggers by action and by another clock's events, and
//! severity flags as policy data, through the engine as a service uses it.

use chrono::Duration;
use plaint::MemoryStore;
use plaint_core::blocking::Engine;
use plaint_core::sla::{ClockOutcome, Trigger};
use plaint_core::testing;
use plaint_core::*;
use std::sync::Arc;

const POLICY: &str = r#"
format = 2
id = "actions"
version = 1
locale = "en"
currency = "EUR"
default_tier = "normal"
tiers = [{ key = "normal" }, { key = "serious" }]
channels = [{ key = "hotline" }]
departments = [{ key = "service" }]
remedies = [{ key = "apology" }]
flags = [
  { key = "media", label = { en = "the media are involved" } },
  { key = "consumer_association" },
]
severity = [{ tier = "serious", when = { flag = "media" } }]

[[categories]]
key = "product"
children = [{ key = "broken" }]

[[roles]]
key = "clerk"
may = ["receive", "acknowledge", "triage", "route", "record_findings", "resolve_on_the_spot"]

[[roles]]
key = "desk"
may = ["acknowledge"]

[[actions]]
key = "callback"
label = { en = "callback to the customer", zh = "回电" }
roles = ["clerk"]
note_required = true

[[actions]]
key = "filed"
label = { en = "record filed for the manager" }
roles = ["clerk", "desk"]
document_required = true

[[actions]]
key = "memo"
roles = ["desk"]

[[clocks]]
key = "investigation"
start_on = ["received"]
stop_on = ["findings_recorded"]
warning = { percent = 50 }
targets = { normal = { elapsed = "1h" }, serious = { elapsed = "1h" } }
escalation = [{ after = "1h", notify = "clerk" }]

[[clocks]]
key = "warned"
start_on = ["clock_warned:investigation"]
stop_on = ["findings_recorded"]
targets = { normal = { elapsed = "8h" }, serious = { elapsed = "8h" } }

[[clocks]]
key = "late-callback"
start_on = ["clock_breached:investigation"]
stop_on = ["action:callback"]
targets = { normal = { elapsed = "2h" }, serious = { elapsed = "2h" } }

[[clocks]]
key = "rung-watch"
start_on = ["rung_reached:investigation"]
stop_on = ["action:memo"]
targets = { normal = { elapsed = "8h" }, serious = { elapsed = "8h" } }

[[clocks]]
key = "progress"
start_on = ["received"]
stop_on = ["findings_recorded"]
reset_on = ["action:filed"]
targets = { normal = { elapsed = "4h" }, serious = { elapsed = "4h" } }

[[notifications]]
on = "action:callback"
to = ["role:clerk"]
text = { en = "Callback on {complaint} recorded" }

[[notifications]]
on = "action_recorded"
to = ["department:service"]
text = { en = "{action} on {complaint}" }
"#;

type TestEngine = Engine<Arc<MemoryStore>, Arc<RecordingNotifier>, Arc<ManualClock>>;

struct Setup {
    engine: TestEngine,
    clock: Arc<ManualClock>,
    notifier: Arc<RecordingNotifier>,
    id: ComplaintId,
    n: std::cell::Cell<u32>,
}

fn policy() -> Policy {
    Policy::from_toml_str(POLICY).expect("the test policy loads")
}

fn staff(who: &str, role: &str) -> Actor {
    Actor::staff(
        ActorId::new(who).unwrap(),
        vec![RoleKey::new(role).unwrap()],
        None,
    )
}

fn clerk() -> Actor {
    staff("clerk-1", "clerk")
}

fn desk() -> Actor {
    staff("desk-1", "desk")
}

fn intake() -> Intake {
    let mut i = testing::intake(testing::t(0));
    i.channel = ChannelKey::new("hotline").unwrap();
    i
}

fn action(key: &str, note: Option<&str>, document: Option<&str>) -> Command {
    Command::RecordAction {
        action: ActionKey::new(key).unwrap(),
        note: note.map(Into::into),
        document: document.map(|d| DocumentRef {
            reference: d.into(),
            content_hash: None,
        }),
    }
}

impl Setup {
    /// A complaint received at t(0) under the test policy.
    fn new() -> Self {
        let clock = Arc::new(ManualClock::new(testing::t(0)));
        let notifier = Arc::new(RecordingNotifier::new());
        let engine = Engine::builder(Arc::new(MemoryStore::new()), policy())
            .clock(Arc::clone(&clock))
            .notifier(Arc::clone(&notifier))
            .build();
        let s = Self {
            engine,
            clock,
            notifier,
            id: ComplaintId::new("ACT-1").unwrap(),
            n: std::cell::Cell::new(0),
        };
        s.run(Command::Receive(Arc::new(intake())), &clerk())
            .unwrap();
        s
    }

    fn run(&self, command: Command, actor: &Actor) -> Result<Arc<Complaint>, EngineError> {
        self.n.set(self.n.get() + 1);
        let cid = CommandId::new(format!("c{}", self.n.get())).unwrap();
        self.engine.execute(cid, &self.id, command, actor)
    }

    fn rejected(&self, command: Command, actor: &Actor) -> Rejection {
        match self.run(command, actor) {
            Err(EngineError::Rejected(r)) => r,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    fn state(&self) -> Arc<Complaint> {
        self.engine.get(&self.id).unwrap().unwrap()
    }

    /// Moves the clock to t(0) + `minutes` and ticks: the events the tick fired.
    fn tick_at(&self, minutes: i64) -> Vec<Event> {
        self.clock.set(testing::t(0) + Duration::minutes(minutes));
        let tick = self.engine.tick().unwrap();
        assert!(tick.failed.is_empty(), "{:?}", tick.failed);
        tick.fired.into_iter().map(|r| r.event).collect()
    }

    fn clock_state(&self, key: &str) -> Option<sla::ClockState> {
        self.state().clock(key).cloned()
    }
}

fn started(events: &[Event], key: &str) -> bool {
    events
        .iter()
        .any(|e| matches!(e, Event::ClockStarted { clock, .. } if clock.as_str() == key))
}

#[test]
fn an_action_is_recorded_by_its_roles_kept_on_the_complaint_and_shown_by_label() {
    let s = Setup::new();
    s.clock.set(testing::t(0) + Duration::minutes(10));
    let c = s
        .run(
            action(
                "callback",
                Some("Told the customer the parcel is found."),
                None,
            ),
            &clerk(),
        )
        .unwrap();
    assert_eq!(c.stage.kind(), StageKind::Received, "no stage change");
    assert_eq!(c.actions.len(), 1);
    let a = &c.actions[0];
    assert_eq!(a.action.as_str(), "callback");
    assert_eq!(&*a.label, "callback to the customer", "the policy's locale");
    assert_eq!(a.by.as_str(), "clerk-1");
    assert_eq!(a.at, testing::t(0) + Duration::minutes(10));
    // Both listed roles may record `filed`; an action without a label shows its key.
    s.run(action("filed", None, Some("files/ACT-1.pdf")), &desk())
        .unwrap();
    s.run(action("memo", None, None), &desk()).unwrap();
    let lines: Vec<String> = s
        .engine
        .history(&s.id)
        .unwrap()
        .iter()
        .filter(|r| matches!(r.event, Event::ActionRecorded { .. }))
        .map(|r| r.event.to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "callback to the customer recorded: Told the customer the parcel is found.",
            "record filed for the manager recorded (document files/ACT-1.pdf)",
            "memo recorded",
        ]
    );
    // Actions may be recorded in any open stage, after triage too.
    s.run(
        Command::Triage {
            category: CategoryPath::parse("product/broken").unwrap(),
            tier: None,
            validity: Validity::Valid,
        },
        &clerk(),
    )
    .unwrap();
    assert_eq!(
        s.run(action("callback", Some("Again."), None), &clerk())
            .unwrap()
            .actions
            .len(),
        4
    );
}

#[test]
fn refused_recordings_change_nothing_and_name_what_is_wrong() {
    let s = Setup::new();
    let before = s.state();
    // A role the action does not list.
    assert_eq!(
        s.rejected(action("memo", None, None), &clerk()),
        Rejection::Forbidden {
            actor: clerk().id,
            command: CommandKind::RecordAction,
            reason: ForbiddenReason::ActionNotForRole {
                action: ActionKey::new("memo").unwrap()
            },
        }
    );
    // An action the policy does not declare.
    assert!(matches!(
        s.rejected(action("fax", None, None), &clerk()),
        Rejection::Invalid {
            field: "action",
            ..
        }
    ));
    // What the action requires.
    assert!(matches!(
        s.rejected(action("callback", None, None), &clerk()),
        Rejection::Invalid { field: "note", .. }
    ));
    assert!(matches!(
        s.rejected(action("callback", Some("  "), None), &clerk()),
        Rejection::Invalid { field: "note", .. }
    ));
    assert!(matches!(
        s.rejected(action("filed", Some("done"), None), &clerk()),
        Rejection::Invalid {
            field: "document",
            ..
        }
    ));
    // Complainants and the system record no actions.
    assert!(matches!(
        s.rejected(action("callback", Some("x"), None), &testing::customer()),
        Rejection::Forbidden {
            reason: ForbiddenReason::NotForComplainants,
            ..
        }
    ));
    assert_eq!(*s.state(), *before, "nothing changed");
    // Once the complaint is closed, no action; someone whose roles do not record it learns
    // only that, not the complaint's stage.
    s.run(
        Command::ResolveOnTheSpot {
            remedy: RemedyKey::new("apology").unwrap(),
            description: "Sorry.".into(),
        },
        &clerk(),
    )
    .unwrap();
    assert_eq!(
        s.rejected(action("callback", Some("late"), None), &clerk()),
        Rejection::IllegalTransition {
            from: StageKind::Closed,
            command: CommandKind::RecordAction
        }
    );
    assert!(matches!(
        s.rejected(action("callback", Some("late"), None), &desk()),
        Rejection::Forbidden {
            reason: ForbiddenReason::ActionNotForRole { .. },
            ..
        }
    ));
}

#[test]
fn clocks_stop_and_reset_on_an_action_by_key_only() {
    let s = Setup::new();
    s.clock.set(testing::t(1));
    s.run(action("memo", None, None), &desk()).unwrap();
    let progress = s.clock_state("progress").unwrap();
    assert_eq!(progress.cycle, 1, "another action resets nothing");
    s.clock.set(testing::t(2));
    s.run(action("filed", None, Some("files/1.pdf")), &desk())
        .unwrap();
    let progress = s.clock_state("progress").unwrap();
    assert_eq!(progress.cycle, 2, "filing resets the progress clock");
    assert_eq!(progress.started_at, testing::t(2));
    assert_eq!(progress.schedule.deadline, Some(testing::t(6)));
}

#[test]
fn clocks_start_on_a_named_clocks_warning_breach_and_rung_in_the_same_tick() {
    let s = Setup::new();
    let fired = s.tick_at(30);
    assert!(
        fired.iter().any(|e| matches!(e, Event::ClockWarned { .. })),
        "{fired:?}"
    );
    assert!(started(&fired, "warned"), "the warning starts `warned`");
    assert!(!started(&fired, "late-callback"));
    assert!(s.clock_state("late-callback").is_none());

    let fired = s.tick_at(60);
    assert!(
        fired
            .iter()
            .any(|e| matches!(e, Event::ClockBreached { .. })),
        "{fired:?}"
    );
    assert!(started(&fired, "late-callback"), "{fired:?}");
    assert!(!started(&fired, "rung-watch"), "a breach is no rung");
    let late = s.clock_state("late-callback").unwrap();
    assert_eq!(late.started_at, testing::t(1));
    assert_eq!(late.schedule.deadline, Some(testing::t(3)));

    let fired = s.tick_at(120);
    assert!(started(&fired, "rung-watch"), "{fired:?}");

    // The callback stops the late-callback clock in time; the memo the rung watch.
    s.clock.set(testing::t(2) + Duration::minutes(30));
    s.run(
        action("callback", Some("Apologised for the delay."), None),
        &clerk(),
    )
    .unwrap();
    assert_eq!(
        s.clock_state("late-callback").unwrap().outcome,
        Some(ClockOutcome::Met)
    );
    assert_eq!(s.clock_state("rung-watch").unwrap().outcome, None);
    s.run(action("memo", None, None), &desk()).unwrap();
    assert_eq!(
        s.clock_state("rung-watch").unwrap().outcome,
        Some(ClockOutcome::Met)
    );
}

#[test]
fn a_clock_does_not_react_to_another_clocks_events() {
    let policy = Policy::from_toml_str(&POLICY.replace(
        r#"start_on = ["clock_breached:investigation"]"#,
        r#"start_on = ["clock_breached:progress"]"#,
    ))
    .unwrap();
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(testing::t(0)));
    let e = Engine::builder(store, policy)
        .clock(Arc::clone(&clock))
        .build();
    let id = ComplaintId::new("ACT-2").unwrap();
    e.execute(
        CommandId::new("r").unwrap(),
        &id,
        Command::Receive(Arc::new(intake())),
        &clerk(),
    )
    .unwrap();
    clock.set(testing::t(1));
    let fired = e.tick().unwrap().fired;
    assert!(
        fired
            .iter()
            .any(|r| matches!(r.event, Event::ClockBreached { .. }))
    );
    assert!(
        e.get(&id)
            .unwrap()
            .unwrap()
            .clock("late-callback")
            .is_none()
    );
    clock.set(testing::t(4));
    e.tick().unwrap();
    assert!(
        e.get(&id)
            .unwrap()
            .unwrap()
            .clock("late-callback")
            .is_some(),
        "the progress breach starts it"
    );
}

#[test]
fn notification_rules_react_to_one_action_or_to_any() {
    let s = Setup::new();
    s.run(action("memo", None, None), &desk()).unwrap();
    s.run(action("callback", Some("Called."), None), &clerk())
        .unwrap();
    s.engine.relay().unwrap();
    let got: Vec<(String, String, Option<String>)> = s
        .notifier
        .delivered()
        .into_iter()
        .filter(|n| n.kind == NotificationKind::ActionRecorded)
        .map(|n| {
            (
                n.id.version.to_string(),
                format!("{:?}", n.recipient),
                n.text.map(|t| t.to_string()),
            )
        })
        .collect();
    assert_eq!(got.len(), 3, "{got:#?}");
    let to_clerk: Vec<_> = got.iter().filter(|g| g.1.contains("clerk")).collect();
    assert_eq!(to_clerk.len(), 1, "only the callback tells the clerk");
    assert_eq!(to_clerk[0].2.as_deref(), Some("Callback on ACT-1 recorded"));
    let to_desk: Vec<Option<&str>> = got
        .iter()
        .filter(|g| g.1.contains("service"))
        .map(|g| g.2.as_deref())
        .collect();
    assert_eq!(
        to_desk,
        [
            Some("memo on ACT-1"),
            Some("callback to the customer on ACT-1")
        ],
        "any action tells the service desk, naming it"
    );
}

#[test]
fn intakes_carry_only_declared_flags_and_severity_reads_them() {
    let s = Setup::new();
    let mut i = intake();
    i.flags.insert(Flag::new("lawyer").unwrap());
    let err = s
        .engine
        .execute(
            CommandId::new("x1").unwrap(),
            &ComplaintId::new("ACT-9").unwrap(),
            Command::Receive(Arc::new(i)),
            &clerk(),
        )
        .unwrap_err();
    assert!(
        matches!(&err, EngineError::Rejected(Rejection::Invalid { field: "flags", reason }) if reason.contains("lawyer")),
        "{err}"
    );
    let mut i = intake();
    i.flags.insert(Flag::new("media").unwrap());
    let policy = policy();
    let triaged = decide(
        Some(
            &testing::Scenario::new(policy.clone())
                .given([Event::Received {
                    intake: Arc::new(i),
                    policy_version: 1,
                }])
                .state()
                .unwrap(),
        ),
        &policy,
        Command::Triage {
            category: CategoryPath::parse("product/broken").unwrap(),
            tier: None,
            validity: Validity::Valid,
        },
        &clerk(),
        testing::t(1),
    )
    .unwrap();
    assert!(
        matches!(&triaged[0], Event::Triaged { tier, .. } if tier.as_str() == "serious"),
        "{triaged:?}"
    );
}

#[test]
fn data_written_before_actions_and_flag_keys_still_reads() {
    // A flag stored by 0.1 (the fixed enum's snake_case name) reads as the same key.
    let flags: std::collections::BTreeSet<Flag> =
        serde_json::from_str(r#"["consumer_association","regulator_transfer"]"#).unwrap();
    assert!(flags.contains(&Flag::new("consumer_association").unwrap()));
    assert_eq!(
        serde_json::to_string(&flags).unwrap(),
        r#"["consumer_association","regulator_transfer"]"#
    );
    // A complaint state stored before actions existed has none.
    let s = Setup::new();
    let mut json = serde_json::to_value(&*s.state()).unwrap();
    json.as_object_mut().unwrap().remove("actions");
    let old: Complaint = serde_json::from_value(json).unwrap();
    assert!(old.actions.is_empty());
    // The triggers written before still read, and print as written.
    let t: Trigger = serde_json::from_str(r#""routed""#).unwrap();
    assert_eq!(t, Trigger::Event(EventKind::Routed));
    assert_eq!(serde_json::to_string(&t).unwrap(), r#""routed""#);
}

#[test]
fn the_report_counts_actions_by_label() {
    let s = Setup::new();
    s.run(action("callback", Some("One."), None), &clerk())
        .unwrap();
    s.run(action("callback", Some("Two."), None), &clerk())
        .unwrap();
    s.run(action("memo", None, None), &desk()).unwrap();
    let policy = policy();
    let mut b = plaint::report::ReportBuilder::new(
        &policy,
        plaint::report::Period::month(2026, 11).unwrap(),
    );
    let c = s.state();
    let history = s.engine.history(&s.id).unwrap();
    b.add(&c, &history);
    let r = b.finish();
    let got: Vec<(&str, u64)> = r.actions.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(got, [("callback to the customer", 2), ("memo", 1)]);
    assert!(r.to_markdown().contains("| callback to the customer | 2 |"));
    assert!(
        r.to_csv()
            .contains("action,callback to the customer,recorded,2")
    );
}

#[test]
fn the_express_callback_clock_stops_on_the_callback_action() {
    let policy = Policy::from_toml_str(include_str!("../examples/policies/express.toml")).unwrap();
    let def = policy
        .action(&ActionKey::new("callback").unwrap())
        .expect("express declares its callback");
    assert!(def.roles.iter().any(|r| r.as_str() == "agent"));
    let callback = policy
        .clocks
        .iter()
        .find(|c| c.key.as_str() == "callback")
        .unwrap();
    assert!(
        callback
            .stop_on
            .contains(&"action:callback".parse::<Trigger>().unwrap())
    );
}

#[test]
fn a_clock_that_resets_on_its_own_breach_starts_its_next_cycle_at_each_breach() {
    // "Report progress every 4 hours": each missed report is a breach, and the next is due
    // 4 hours after it.
    let policy = Policy::from_toml_str(&POLICY.replace(
        r#"reset_on = ["action:filed"]"#,
        r#"reset_on = ["action:filed", "clock_breached:progress"]"#,
    ))
    .unwrap();
    let clock = Arc::new(ManualClock::new(testing::t(0)));
    let e = Engine::builder(Arc::new(MemoryStore::new()), policy)
        .clock(Arc::clone(&clock))
        .build();
    let id = ComplaintId::new("ACT-3").unwrap();
    e.execute(
        CommandId::new("r").unwrap(),
        &id,
        Command::Receive(Arc::new(intake())),
        &clerk(),
    )
    .unwrap();
    clock.set(testing::t(4));
    e.tick().unwrap();
    let progress = e
        .get(&id)
        .unwrap()
        .unwrap()
        .clock("progress")
        .cloned()
        .unwrap();
    assert_eq!((progress.cycle, progress.breached), (2, false));
    assert_eq!(progress.schedule.deadline, Some(testing::t(8)));
    let breaches = e
        .history(&id)
        .unwrap()
        .iter()
        .filter(|r| matches!(&r.event, Event::ClockBreached { clock, cycle: 1, .. } if clock.as_str() == "progress"))
        .count();
    assert_eq!(breaches, 1, "the first cycle's breach stays on record");
}
