//! Clocks that do what the procedure says: the tier triage sets is the tier clocks run on,
//! a clock can count from the customer's first report, "at once" is a target, and one
//! command that matches a clock's start and stop is read in event order.

mod common;

use common::*;
use plaint::MemoryStore;
use plaint_core::blocking::Engine;
use plaint_core::blocking::Wait as _;
use plaint_core::testing;
use plaint_core::*;
use std::sync::Arc;

type TestEngine = Engine<Arc<MemoryStore>, Arc<RecordingNotifier>, Arc<ManualClock>>;

fn policy(file: &str) -> Policy {
    let path = format!("{}/examples/policies/{file}", env!("CARGO_MANIFEST_DIR"));
    Policy::from_toml_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// 2026-11-`day` at `hh:mm` in Shanghai.
fn sh(day: u32, hh: u32, mm: u32) -> Timestamp {
    format!("2026-11-{day:02}T{hh:02}:{mm:02}:00+08:00")
        .parse::<chrono::DateTime<chrono::FixedOffset>>()
        .unwrap()
        .to_utc()
}

struct Desk {
    e: TestEngine,
    /// The front-line staff member who registers, triages and routes.
    staff: Actor,
    clock: Arc<ManualClock>,
    notes: Arc<RecordingNotifier>,
    n: u32,
}

impl Desk {
    fn new(policy: Policy, start: Timestamp) -> Self {
        let role = if policy.role(&RoleKey::new("agent").unwrap()).is_some() {
            "agent"
        } else {
            "clerk"
        };
        let staff = Actor::staff(
            ActorId::new("desk-1").unwrap(),
            vec![RoleKey::new(role).unwrap()],
            None,
        );
        let clock = Arc::new(ManualClock::new(start));
        let notes = Arc::new(RecordingNotifier::new());
        let e = Engine::builder(Arc::new(MemoryStore::new()), policy)
            .clock(Arc::clone(&clock))
            .notifier(Arc::clone(&notes))
            .build();
        Self {
            e,
            staff,
            clock,
            notes,
            n: 0,
        }
    }

    fn run(&mut self, at: Timestamp, command: Command, actor: &Actor) -> Arc<Complaint> {
        self.clock.set(at);
        self.n += 1;
        let cmd = CommandId::new(format!("c{}", self.n)).unwrap();
        let c = self
            .e
            .execute(cmd, &ComplaintId::new("C-1").unwrap(), command, actor)
            .unwrap_or_else(|e| panic!("command {}: {e}", self.n));
        self.e.relay().unwrap();
        c
    }

    /// Registers at `at` a complaint the customer reported at `reported` on `channel`.
    fn register(&mut self, reported: Timestamp, at: Timestamp, channel: &str) -> Arc<Complaint> {
        let mut intake = testing::intake(reported);
        intake.channel = ChannelKey::new(channel).unwrap();
        let staff = self.staff.clone();
        self.run(at, Command::Receive(Arc::new(intake)), &staff)
    }

    fn triage(&mut self, at: Timestamp, category: &str, tier_key: &str) -> Arc<Complaint> {
        let triage = Command::Triage {
            category: path(category),
            tier: Some(tier(tier_key)),
            validity: Validity::Valid,
        };
        let staff = self.staff.clone();
        self.run(at, triage, &staff)
    }

    fn history(&self) -> Vec<Recorded> {
        self.e.history(&ComplaintId::new("C-1").unwrap()).unwrap()
    }
}

fn deadline(c: &Complaint, clock: &str) -> Option<Timestamp> {
    c.clock(clock).and_then(|s| s.schedule.deadline)
}

#[test]
fn a_major_complaint_is_acknowledged_within_30_minutes_of_its_first_report() {
    // The customer called at 10:00; the call was registered at 10:02 and triaged major at
    // 10:05. express.toml: acknowledge within 1 h, 30 min for major, from the first report.
    let mut desk = Desk::new(policy("express.toml"), sh(2, 10, 0));
    let c = desk.register(sh(2, 10, 0), sh(2, 10, 2), "hotline");
    assert_eq!(c.clock("acknowledge").unwrap().started_at, sh(2, 10, 0));
    assert_eq!(deadline(&c, "acknowledge"), Some(sh(2, 11, 0)), "not 11:02");
    let c = desk.triage(sh(2, 10, 5), "loss", "major");
    assert_eq!(deadline(&c, "acknowledge"), Some(sh(2, 10, 30)));
    let why = desk.history().into_iter().find_map(|r| match r.event {
        Event::ClockReprojected { clock, reason, .. } if clock.as_str() == "acknowledge" => {
            Some(reason.to_string())
        }
        _ => None,
    });
    assert_eq!(why.as_deref(), Some("tier is now major: triaged"));
    // At 10:31 the warning (half the budget: 10:15) and the breach are recorded.
    desk.clock.set(sh(2, 10, 31));
    let tick = desk.e.tick().unwrap();
    let warned = tick
        .fired
        .iter()
        .any(|r| matches!(r.event, Event::ClockWarned { due, .. } if due == sh(2, 10, 15)));
    assert!(warned && tick.fired.len() == 2, "{:?}", tick.fired);
    let breached = desk.history().into_iter().any(|r| {
        matches!(r.event, Event::ClockBreached { ref clock, due, .. }
            if clock.as_str() == "acknowledge" && due == sh(2, 10, 30))
    });
    assert!(breached);
}

#[test]
fn a_general_triage_keeps_the_general_target_and_a_channel_target_wins() {
    let mut desk = Desk::new(policy("express.toml"), sh(2, 10, 0));
    desk.register(sh(2, 10, 0), sh(2, 10, 2), "hotline");
    let c = desk.triage(sh(2, 10, 5), "delay", "general");
    assert_eq!(deadline(&c, "acknowledge"), Some(sh(2, 11, 0)));
    assert!(
        !desk
            .history()
            .iter()
            .any(|r| matches!(r.event, Event::ClockReprojected { .. })),
        "the tier did not change"
    );
    // The app promises 15 minutes whatever the tier.
    let mut desk = Desk::new(policy("express.toml"), sh(2, 10, 0));
    desk.register(sh(2, 10, 0), sh(2, 10, 1), "app");
    let c = desk.triage(sh(2, 10, 5), "loss", "major");
    assert_eq!(deadline(&c, "acknowledge"), Some(sh(2, 10, 15)));
}

#[test]
fn a_clock_counts_from_its_start_unless_it_says_first_report() {
    let text = std::fs::read_to_string(format!(
        "{}/examples/policies/express.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replacen("count_from = \"first_report\"\n", "", 1);
    let mut desk = Desk::new(Policy::from_toml_str(&text).unwrap(), sh(2, 10, 0));
    let c = desk.register(sh(2, 10, 0), sh(2, 10, 2), "hotline");
    assert_eq!(deadline(&c, "acknowledge"), Some(sh(2, 11, 2)));
}

#[test]
fn an_at_once_clock_alerts_at_once_never_breaches_and_measures_handling() {
    // supermarket.toml: an urgent complaint is reported to management at once.
    let mut desk = Desk::new(policy("supermarket.toml"), sh(2, 22, 0));
    desk.register(sh(2, 22, 0), sh(2, 22, 0), "hotline");
    let c = desk.triage(sh(2, 22, 3), "food-safety/spoiled", "urgent");
    let st = c.clock("report-to-management").expect("started at triage");
    assert_eq!(st.schedule.deadline, None, "nothing to breach");
    assert!(desk.history().iter().any(|r| matches!(&r.event,
        Event::AlertedAtOnce { role, .. } if role.as_str() == "general-manager")));
    let sms = desk.notes.delivered();
    let alert = sms
        .iter()
        .find(|n| n.kind == NotificationKind::AtOnce)
        .expect("the general manager is told");
    assert!(alert.text.as_deref().unwrap().contains("须立即上报处理"));
    // Hours later nothing has breached it.
    desk.clock.set(sh(3, 9, 0));
    desk.e.tick().unwrap();
    assert!(!desk.history().iter().any(|r| matches!(&r.event,
        Event::ClockBreached { clock, .. } if clock.as_str() == "report-to-management")));
    let route = Command::Route {
        responsibility: Some(responsibility("food-safety")),
    };
    let staff = desk.staff.clone();
    let c = desk.run(sh(3, 9, 30), route, &staff);
    let st = c.clock("report-to-management").unwrap();
    assert_eq!(st.outcome, Some(plaint_core::sla::ClockOutcome::Met));
    // The month's report measures how long handling took: 22:03 to 09:30, 687 minutes.
    let policy = policy("supermarket.toml");
    let month = plaint::report::Period::month(2026, 11).unwrap();
    let report = plaint::report::Report::from_store(desk.e.store(), &policy, month)
        .wait()
        .unwrap();
    let row = report
        .compliance
        .iter()
        .find(|r| r.clock == "report-to-management")
        .unwrap();
    assert_eq!((row.met, row.breached), (1, 0));
    assert_eq!(
        (row.handling.count, row.handling.median_minutes),
        (1, Some(687))
    );
}

#[test]
fn a_general_complaint_does_not_start_an_at_once_clock() {
    let mut desk = Desk::new(policy("supermarket.toml"), sh(2, 10, 0));
    desk.register(sh(2, 10, 0), sh(2, 10, 0), "hotline");
    let c = desk.triage(sh(2, 10, 3), "price/wrong-price", "general");
    assert!(c.clock("report-to-management").is_none());
    assert!(
        !desk
            .history()
            .iter()
            .any(|r| matches!(r.event, Event::AlertedAtOnce { .. }))
    );
}

/// An unsatisfied answer records the answer and reopens the complaint in one command: the
/// follow-up window (`start_on = ["satisfaction_recorded"]`, `stop_on = [.., "reopened"]`)
/// does not open, so no breach is ever recorded against a complaint under investigation.
#[test]
fn an_unsatisfied_answer_does_not_open_the_follow_up_window() {
    let given = || {
        testing::Scenario::new(testing::sla_policy())
            .given(events_to(StageKind::AwaitingConfirmation, "major"))
            .at(testing::t(100))
    };
    let opened = |events: &[Event]| {
        events.iter().any(
            |e| matches!(e, Event::ClockStarted { clock, .. } if clock.as_str() == "follow-up"),
        )
    };
    let unsatisfied = given()
        .when(
            &testing::customer(),
            Command::ConfirmSatisfaction(happy(false)),
        )
        .result()
        .unwrap();
    assert!(
        unsatisfied
            .iter()
            .any(|e| matches!(e, Event::Reopened { .. }))
    );
    assert!(!opened(&unsatisfied));
    let satisfied = given()
        .when(
            &testing::customer(),
            Command::ConfirmSatisfaction(happy(true)),
        )
        .result()
        .unwrap();
    assert!(opened(&satisfied));
}

/// Without the stop, the start wins as the last trigger: the window opens (the policy said
/// so), which is why the shipped policies stop it on `reopened`.
#[test]
fn the_later_of_a_start_and_a_stop_in_one_command_wins() {
    let text = [
        include_str!("../crates/plaint-core/src/testing/policy.toml"),
        &include_str!("../crates/plaint-core/src/testing/clocks.toml")
            .replace(r#"stop_on = ["followed_up", "reopened"]"#, r#"stop_on = ["followed_up"]"#),
        // A clock started by reopening and stopped by the answer that reopens: the reopening
        // comes last, so it starts.
        "\n[[clocks]]\nkey = \"recheck\"\nstart_on = [\"reopened\"]\nstop_on = [\"satisfaction_recorded\"]\ntargets = { major = { elapsed = \"24h\" } }\n",
    ]
    .concat();
    let policy = Policy::from_toml_str(&text).unwrap();
    let events = testing::Scenario::new(policy)
        .given(events_to(StageKind::AwaitingConfirmation, "major"))
        .at(testing::t(100))
        .when(
            &testing::customer(),
            Command::ConfirmSatisfaction(happy(false)),
        )
        .result()
        .unwrap();
    let started: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::ClockStarted { clock, .. } => Some(clock.as_str()),
            _ => None,
        })
        .collect();
    assert!(started.contains(&"follow-up"));
    assert!(started.contains(&"recheck"));
}

fn express_with(extra: &str) -> Policy {
    let text = std::fs::read_to_string(format!(
        "{}/examples/policies/express.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    Policy::from_toml_str(&format!("{text}\n{extra}")).unwrap()
}

/// express.toml's follow-up window starts only on a satisfied answer (`start_when`).
#[test]
fn a_conditional_start_waits_for_its_condition() {
    let policy = policy("express.toml");
    let follow_up = policy
        .clocks
        .iter()
        .find(|c| c.key.as_str() == "follow-up")
        .unwrap();
    assert!(follow_up.start_when.is_some());
    assert!(
        !follow_up
            .stop_on
            .iter()
            .any(|t| t.to_string() == "reopened"),
        "the condition alone keeps the window shut"
    );
    let given = || {
        let mut events = events_to(StageKind::AwaitingConfirmation, "major");
        for e in &mut events {
            if let Event::Triaged { category, .. } = e {
                *category = path("loss");
            }
        }
        testing::Scenario::new(policy.clone())
            .given(events)
            .at(sh(18, 10, 0))
    };
    let opened = |events: &[Event]| {
        events.iter().any(
            |e| matches!(e, Event::ClockStarted { clock, .. } if clock.as_str() == "follow-up"),
        )
    };
    let no = given()
        .when(
            &testing::customer(),
            Command::ConfirmSatisfaction(happy(false)),
        )
        .result()
        .unwrap();
    assert!(!opened(&no));
    let yes = given()
        .when(
            &testing::customer(),
            Command::ConfirmSatisfaction(happy(true)),
        )
        .result()
        .unwrap();
    assert!(opened(&yes));
}

/// A target rule wins while its condition holds, and a running clock re-projects when the
/// complaint changes so that it does (here: the category triage sets).
#[test]
fn a_target_rule_applies_while_its_condition_holds() {
    let policy = express_with(
        "[[clocks]]\nkey = \"first-look\"\nstart_on = [\"received\"]\nstop_on = [\"routed\"]\n\
         targets = { general = { elapsed = \"4h\" }, major = { elapsed = \"4h\" } }\n\
         target_rules = [{ when = { category = \"loss\" }, target = { elapsed = \"1h\" } }]\n",
    );
    let mut desk = Desk::new(policy.clone(), sh(2, 10, 0));
    let c = desk.register(sh(2, 10, 0), sh(2, 10, 0), "hotline");
    assert_eq!(deadline(&c, "first-look"), Some(sh(2, 14, 0)));
    let c = desk.triage(sh(2, 10, 20), "loss", "general");
    assert_eq!(deadline(&c, "first-look"), Some(sh(2, 11, 0)));
    let why = desk.history().into_iter().find_map(|r| match r.event {
        Event::ClockReprojected { clock, reason, .. } if clock.as_str() == "first-look" => {
            Some(reason.to_string())
        }
        _ => None,
    });
    assert_eq!(
        why.as_deref(),
        Some("its target rules now give another target")
    );
    // Another category keeps the tier's target, and nothing re-projects.
    let mut desk = Desk::new(policy, sh(2, 10, 0));
    desk.register(sh(2, 10, 0), sh(2, 10, 0), "hotline");
    let c = desk.triage(sh(2, 10, 20), "delay", "general");
    assert_eq!(deadline(&c, "first-look"), Some(sh(2, 14, 0)));
    assert!(!desk.history().iter().any(|r| matches!(&r.event,
        Event::ClockReprojected { clock, .. } if clock.as_str() == "first-look")));
}

/// express.toml's late-call clock starts on the investigation's breach. A tick that comes
/// late (downtime) starts it from when the breach fell due, not from the tick.
#[test]
fn a_clock_started_by_another_clock_s_breach_counts_from_the_breach() {
    let mut desk = Desk::new(policy("express.toml"), sh(2, 9, 0));
    desk.register(sh(2, 9, 0), sh(2, 9, 0), "hotline");
    desk.triage(sh(2, 9, 30), "delay", "general");
    let route = Command::Route {
        responsibility: Some(responsibility("hub")),
    };
    let staff = desk.staff.clone();
    let c = desk.run(sh(2, 10, 0), route, &staff);
    assert_eq!(deadline(&c, "investigation"), Some(sh(4, 10, 0)));
    desk.clock.set(sh(4, 11, 30));
    desk.e.tick().unwrap();
    let c = desk
        .e
        .get(&ComplaintId::new("C-1").unwrap())
        .unwrap()
        .unwrap();
    let late = c.clock("late-call").expect("the breach started it");
    assert_eq!(late.started_at, sh(4, 10, 0));
    assert_eq!(late.schedule.deadline, Some(sh(4, 12, 0)));
}

/// The loader warns about clocks the lifecycle can never start or never stop: here the
/// policy has no approval step, so nothing is ever approved.
#[test]
fn the_loader_warns_of_clocks_that_can_never_start_or_stop() {
    let base = include_str!("../crates/plaint-core/src/testing/policy.toml");
    let without_approval: String = base
        .lines()
        .filter(|l| !l.starts_with("approval = "))
        .collect::<Vec<_>>()
        .join("\n");
    let clocks = "\n[[clocks]]\nkey = \"approved\"\nstart_on = [\"approval_granted\"]\nstop_on = [\"closed\"]\n\
        targets = { general = { elapsed = \"1h\" } }\n\
        [[clocks]]\nkey = \"until-approved\"\nstart_on = [\"routed\"]\nstop_on = [\"approval_granted\"]\n\
        targets = { general = { elapsed = \"1h\" } }\n\
        [[clocks]]\nkey = \"after-approved\"\nstart_on = [\"clock_breached:approved\"]\nstop_on = [\"closed\"]\n\
        targets = { general = { elapsed = \"1h\" } }\n";
    let policy = Policy::from_toml_str(&format!("{without_approval}{clocks}")).unwrap();
    let warnings: Vec<String> = policy.warnings().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        warnings,
        [
            "clocks[0].start_on: the clock can never start: none of \"approval_granted\" happens \
             under this policy's lifecycle, roles and steps",
            "clocks[1].stop_on: the clock can never stop before the complaint is closed, \
             withdrawn or merged: none of \"approval_granted\" happens under this policy's \
             lifecycle, roles and steps",
            "clocks[2].start_on: the clock can never start: none of \
             \"clock_breached:approved\" happens under this policy's lifecycle, roles and steps",
        ]
    );
    // With the approval step, all three can run and nothing is said.
    let policy = Policy::from_toml_str(&format!("{base}{clocks}")).unwrap();
    assert_eq!(policy.warnings(), vec![]);
}

/// "By 17:00 the next working day" counts as the law counts days: the start's date does not
/// count, whatever its hour; a cut-off is a wall-clock instant, kept even after closing time.
#[test]
fn a_cutoff_counts_working_days_from_the_start_s_date() {
    let policy = express_with(
        "[[clocks]]\nkey = \"report\"\nstart_on = [\"received\"]\nstop_on = [\"closed\"]\n\
         calendar = \"office\"\n\
         targets = { general = { cutoff = { at = \"17:00:00\", days_after = 1 } } }\n\
         [[clocks]]\nkey = \"evening\"\nstart_on = [\"received\"]\nstop_on = [\"closed\"]\n\
         calendar = \"office\"\ntargets = { general = { cutoff = { at = \"19:00:00\" } } }\n",
    );
    // (received, report due, evening due); 2026-11-02 is a Monday.
    let cases = [
        (sh(2, 10, 0), sh(3, 17, 0), sh(2, 19, 0)),
        // After the day's cut-off: still the next working day (format 1 said Wednesday).
        (sh(2, 17, 30), sh(3, 17, 0), sh(2, 19, 0)),
        // After closing (18:00), before the evening cut-off.
        (sh(2, 18, 30), sh(3, 17, 0), sh(2, 19, 0)),
        // A Saturday: Monday (format 1 said Tuesday); the evening cut-off waits for Monday.
        (sh(7, 11, 0), sh(9, 17, 0), sh(9, 19, 0)),
    ];
    for (at, report, evening) in cases {
        let mut desk = Desk::new(policy.clone(), at);
        let c = desk.register(at, at, "hotline");
        assert_eq!(deadline(&c, "report"), Some(report), "from {at}");
        assert_eq!(deadline(&c, "evening"), Some(evening), "from {at}");
    }
}

/// `Policy::deadlines` (what `plaint deadline` prints) answers what the engine writes when a
/// clock starts: the same instants for a calendar's after-hours start and for a plain one.
#[test]
fn policy_deadlines_are_the_instants_the_engine_computes() {
    for (reported, at) in [(sh(2, 10, 0), sh(2, 10, 2)), (sh(6, 22, 0), sh(6, 22, 10))] {
        let mut desk = Desk::new(policy("express.toml"), reported);
        let c = desk.register(reported, at, "hotline");
        let running = c.clock("acknowledge").unwrap();
        let projected = desk
            .e
            .current_policy()
            .deadlines(
                &ClockKey::new("acknowledge").unwrap(),
                &tier("general"),
                Some(&ChannelKey::new("hotline").unwrap()),
                running.started_at,
            )
            .unwrap();
        assert_eq!(projected.schedule, running.schedule);
        assert_eq!(projected.budget, running.budget);
    }
    let policy = policy("express.toml");
    let investigation = ClockKey::new("investigation").unwrap();
    assert!(
        policy
            .deadlines(&investigation, &tier("nope"), None, sh(2, 10, 0))
            .is_none()
    );
}
