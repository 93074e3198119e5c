//! Clock edge cases a review found: clocks reacting to their own firings never loop, a pause
//! and a new target in one command both happen, a start after a stop in one command starts a
//! new cycle, and re-projecting onto another measure counts the time used in that measure.

mod common;

use common::*;
use plaint::MemoryStore;
use plaint_core::blocking::Engine;
use plaint_core::testing;
use plaint_core::*;
use std::sync::Arc;

type E = Engine<Arc<MemoryStore>, DiscardNotifier, Arc<ManualClock>>;

/// 2026-11-`day` at `hh:mm` in Shanghai (the 16th is a Monday).
fn sh(day: u32, hh: u32, mm: u32) -> Timestamp {
    format!("2026-11-{day:02}T{hh:02}:{mm:02}:00+08:00")
        .parse::<chrono::DateTime<chrono::FixedOffset>>()
        .unwrap()
        .to_utc()
}

const OFFICE: &str = r#"
[[calendars]]
key = "office"
time_zone = "Asia/Shanghai"
[calendars.week]
mon = [{ from = "09:00:00", to = "18:00:00" }]
tue = [{ from = "09:00:00", to = "18:00:00" }]
wed = [{ from = "09:00:00", to = "18:00:00" }]
thu = [{ from = "09:00:00", to = "18:00:00" }]
fri = [{ from = "09:00:00", to = "18:00:00" }]
"#;

fn policy_with(clock: &str) -> Policy {
    let base = include_str!("../crates/plaint-core/src/testing/policy.toml");
    Policy::from_toml_str(&format!("{base}\n{OFFICE}\n{clock}")).unwrap()
}

struct Desk {
    e: E,
    clock: Arc<ManualClock>,
    n: u32,
}

impl Desk {
    fn new(policy: Policy, start: Timestamp) -> Self {
        let clock = Arc::new(ManualClock::new(start));
        let e = Engine::builder(Arc::new(MemoryStore::new()), policy)
            .clock(Arc::clone(&clock))
            .build();
        Self { e, clock, n: 0 }
    }

    fn run(&mut self, at: Timestamp, command: Command, actor: &Actor) -> Arc<Complaint> {
        self.clock.set(at);
        self.n += 1;
        let id = CommandId::new(format!("c{}", self.n)).unwrap();
        self.e
            .execute(id, &ComplaintId::new("C-1").unwrap(), command, actor)
            .unwrap_or_else(|e| panic!("command {}: {e}", self.n))
    }

    fn history(&self) -> Vec<Recorded> {
        self.e.history(&ComplaintId::new("C-1").unwrap()).unwrap()
    }

    fn starts(&self, clock: &str) -> usize {
        self.history()
            .iter()
            .filter(
                |r| matches!(&r.event, Event::ClockStarted { clock: c, .. } if c.as_str() == clock),
            )
            .count()
    }

    fn receive(&mut self, at: Timestamp) {
        self.run(
            at,
            Command::Receive(Arc::new(testing::intake(at))),
            &testing::agent(),
        );
    }

    /// Receive, triage, route (at `routed`) and record findings; then propose an apology.
    fn walk_to_agreement(&mut self, routed: Timestamp) -> Arc<Complaint> {
        let a = testing::agent();
        self.receive(routed - chrono::Duration::minutes(10));
        let triage = Command::Triage {
            category: path("logistics/loss"),
            tier: Some(tier("general")),
            validity: Validity::Valid,
        };
        self.run(routed - chrono::Duration::minutes(5), triage, &a);
        let route = Command::Route {
            responsibility: Some(responsibility("claims")),
        };
        self.run(routed, route, &a);
        let findings = Command::RecordFindings {
            findings: Findings {
                summary: "lost".into(),
                records: vec![],
            },
            root_cause: None,
        };
        self.run(routed + chrono::Duration::minutes(30), findings, &a);
        let propose = Command::Propose {
            remedy: remedy("apology"),
            description: "we are sorry".into(),
            amount: None,
        };
        self.run(routed + chrono::Duration::hours(1), propose, &a)
    }
}

/// A daily cut-off that resets on its own breach, and a clock that resets on its own warning
/// due before the clock even started: each new cycle would fall due at once. Ticks return,
/// and the reacting start does not happen.
#[test]
fn clocks_reacting_to_their_own_firings_never_loop() {
    let daily = policy_with(
        "[[clocks]]\nkey = \"daily\"\nstart_on = [\"received\"]\nstop_on = [\"closed\"]\n\
         reset_on = [\"clock_breached:daily\"]\ncalendar = \"office\"\n\
         targets = { general = { cutoff = { at = \"17:00:00\" } } }\n",
    );
    let mut desk = Desk::new(daily, sh(16, 10, 0));
    desk.receive(sh(16, 10, 0));
    desk.clock.set(sh(16, 17, 5));
    let tick = desk.e.tick().unwrap();
    assert_eq!(tick.fired.len(), 1, "the breach, once");
    assert_eq!(desk.starts("daily"), 1);

    let nag = policy_with(
        "[[clocks]]\nkey = \"nag\"\nstart_on = [\"received\"]\nstop_on = [\"closed\"]\n\
         reset_on = [\"clock_warned:nag\"]\nwarning = { before = \"2h\" }\n\
         targets = { general = { elapsed = \"1h\" } }\n",
    );
    let mut desk = Desk::new(nag, sh(16, 10, 0));
    desk.receive(sh(16, 10, 0));
    desk.clock.set(sh(16, 10, 5));
    desk.e.tick().unwrap();
    assert_eq!(desk.starts("nag"), 1);
}

/// A clock that resets on its own breach after a whole target does recur, once per breach.
#[test]
fn a_clock_resetting_on_its_own_breach_recurs_once_per_period() {
    let hourly = policy_with(
        "[[clocks]]\nkey = \"hourly\"\nstart_on = [\"received\"]\nstop_on = [\"closed\"]\n\
         reset_on = [\"clock_breached:hourly\"]\ntargets = { general = { elapsed = \"1h\" } }\n",
    );
    let mut desk = Desk::new(hourly, sh(16, 10, 0));
    desk.receive(sh(16, 10, 0));
    desk.clock.set(sh(16, 13, 30));
    desk.e.tick().unwrap();
    // Breaches at 11:00, 12:00 and 13:00 each start the next cycle.
    assert_eq!(desk.starts("hourly"), 4);
}

/// Proposing an apology both pauses the clock (the complainant decides) and makes a target
/// rule hold: the clock re-projects onto the rule's 24 h, then pauses.
#[test]
fn a_pause_and_a_new_target_in_one_command_both_happen() {
    let policy = policy_with(
        "[[clocks]]\nkey = \"resolve\"\nstart_on = [\"routed\"]\nstop_on = [\"feedback_given\"]\n\
         pause_while = [\"awaiting_agreement\"]\ntargets = { general = { elapsed = \"240h\" } }\n\
         target_rules = [{ when = { remedy = \"apology\" }, target = { elapsed = \"24h\" } }]\n",
    );
    let mut desk = Desk::new(policy, sh(16, 10, 0));
    let c = desk.walk_to_agreement(sh(16, 10, 0));
    assert_eq!(c.stage.kind(), StageKind::AwaitingAgreement);
    let st = c.clock("resolve").unwrap();
    assert!(st.is_paused());
    assert_eq!(st.budget, 24 * 3600);
    assert_eq!(st.remaining, 23 * 3600, "an hour used before the proposal");
}

/// `start_on = ["reopened"]` after `stop_on = ["satisfaction_recorded"]`: an unsatisfied
/// answer records the answer (stop) and then reopens (start): cycle 1 ends, cycle 2 runs.
#[test]
fn a_start_after_a_stop_in_one_command_starts_a_new_cycle() {
    let policy = policy_with(
        "[[clocks]]\nkey = \"answer\"\nstart_on = [\"proposal_accepted\", \"reopened\"]\n\
         stop_on = [\"satisfaction_recorded\"]\ntargets = { general = { elapsed = \"48h\" } }\n",
    );
    let mut desk = Desk::new(policy, sh(16, 10, 0));
    desk.walk_to_agreement(sh(16, 10, 0));
    let a = testing::agent();
    desk.run(
        sh(16, 12, 0),
        Command::AcceptProposal { agreement: None },
        &testing::customer(),
    );
    let done = Command::RecordExecution {
        action: "apologised".into(),
        reference: None,
        finished: true,
    };
    desk.run(sh(16, 13, 0), done, &a);
    let feedback = Command::GiveFeedback {
        text: "done".into(),
    };
    desk.run(sh(16, 14, 0), feedback, &a);
    let c = desk.run(
        sh(16, 15, 0),
        Command::ConfirmSatisfaction(happy(false)),
        &testing::customer(),
    );
    let st = c.clock("answer").unwrap();
    assert_eq!((st.cycle, st.is_running()), (2, true));
    assert!(desk.history().iter().any(|r| matches!(&r.event,
        Event::ClockStopped { clock, cycle: 1, .. } if clock.as_str() == "answer")));
}

/// Elapsed 100 h for general, 8 business hours for major. Routed Monday 17:00, paused
/// Tuesday 10:00–11:00, raised to major at 12:00: in business hours it used Monday 17–18 and
/// Tuesday 9–12 less the paused hour, 3 of 8; 5 are left, due Tuesday 17:00.
#[test]
fn re_projecting_onto_another_measure_counts_the_time_used_in_it() {
    let policy = policy_with(
        "[[clocks]]\nkey = \"resolve\"\nstart_on = [\"routed\"]\nstop_on = [\"feedback_given\"]\n\
         pause_while = [\"awaiting_agreement\"]\ncalendar = \"office\"\n\
         targets = { general = { elapsed = \"100h\" }, major = { business = \"8h\" } }\n",
    );
    let a = testing::agent();
    let mut desk = Desk::new(policy, sh(16, 10, 0));
    desk.receive(sh(16, 10, 0));
    let triage = Command::Triage {
        category: path("logistics/loss"),
        tier: Some(tier("general")),
        validity: Validity::Valid,
    };
    desk.run(sh(16, 10, 5), triage, &a);
    let route = Command::Route {
        responsibility: Some(responsibility("claims")),
    };
    desk.run(sh(16, 17, 0), route, &a);
    let findings = Command::RecordFindings {
        findings: Findings {
            summary: "lost".into(),
            records: vec![],
        },
        root_cause: None,
    };
    desk.run(sh(17, 9, 30), findings, &a);
    let propose = Command::Propose {
        remedy: remedy("apology"),
        description: "we are sorry".into(),
        amount: None,
    };
    desk.run(sh(17, 10, 0), propose, &a);
    let accept = Command::AcceptProposal { agreement: None };
    desk.run(sh(17, 11, 0), accept, &testing::customer());
    let raise = Command::ChangeTier {
        tier: tier("major"),
        reason: "the press called".into(),
    };
    let c = desk.run(sh(17, 12, 0), raise, &testing::manager());
    let st = c.clock("resolve").unwrap();
    assert_eq!(st.remaining, 5 * 3600);
    assert_eq!(st.schedule.deadline, Some(sh(17, 17, 0)));
}

/// A clock may have target rules only: it runs for the complaints a rule holds for.
#[test]
fn a_clock_with_only_target_rules_runs_where_a_rule_holds() {
    let policy = policy_with(
        "[[clocks]]\nkey = \"loss-desk\"\nstart_on = [\"routed\"]\nstop_on = [\"closed\"]\n\
         target_rules = [{ when = { category = \"logistics/loss\" }, target = { elapsed = \"20m\" } }]\n",
    );
    assert_eq!(policy.warnings(), vec![]);
    for (category, runs) in [("logistics/loss", true), ("logistics/delay", false)] {
        let mut desk = Desk::new(policy.clone(), sh(16, 10, 0));
        let a = testing::agent();
        desk.receive(sh(16, 10, 0));
        let triage = Command::Triage {
            category: path(category),
            tier: Some(tier("general")),
            validity: Validity::Valid,
        };
        desk.run(sh(16, 10, 5), triage, &a);
        let route = Command::Route {
            responsibility: Some(responsibility("claims")),
        };
        let c = desk.run(sh(16, 10, 10), route, &a);
        let due = c.clock("loss-desk").and_then(|s| s.schedule.deadline);
        assert_eq!(due, runs.then(|| sh(16, 10, 30)), "{category}");
    }
}
