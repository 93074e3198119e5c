//! Consultations (a question answered at first contact is no complaint; a disputed one turns
//! into a complaint for good, keeping its first contact) and scoring by clock and by case
//! (`per_breach_of`, `adjust_points`), through the engine, the report and the loader.

mod common;

use common::*;
use plaint::MemoryStore;
use plaint::report::{Period, Report};
use plaint_core::blocking::Engine;
use plaint_core::blocking::Wait as _;
use plaint_core::testing;
use plaint_core::*;
use std::sync::Arc;

/// A small desk: agents answer and register, a lead converts consultations and adjusts points.
const POLICY: &str = r#"
format = 2
id = "cases"
version = 1
currency = "CNY"
default_tier = "general"
channels = [{ key = "hotline" }]
tiers = [{ key = "general" }, { key = "major" }]
departments = [{ key = "customer-service" }, { key = "outlet" }, { key = "hub" }]
remedies = [{ key = "apology" }]

[[categories]]
key = "logistics"
children = [{ key = "delay" }]

[[roles]]
key = "agent"
may = ["receive", "consult", "acknowledge", "triage", "route", "withdraw"]

[[roles]]
key = "lead"
may = ["convert_to_complaint", "adjust_points"]

[[clocks]]
key = "acknowledge"
start_on = ["received"]
stop_on = ["acknowledged"]
targets = { general = { elapsed = "1h" }, major = { elapsed = "1h" } }

[[clocks]]
key = "answer-call"
start_on = ["received"]
stop_on = ["acknowledged"]
count_from = "first_report"
targets = { general = { elapsed = "2h" }, major = { elapsed = "2h" } }

[[clocks]]
key = "investigate"
start_on = ["routed"]
stop_on = ["withdrawn"]
targets = { general = { elapsed = "1h" }, major = { elapsed = "1h" } }

[[clocks]]
key = "feedback"
start_on = ["routed"]
stop_on = ["withdrawn"]
targets = { general = { elapsed = "2h" }, major = { elapsed = "2h" } }

[scoring]
per_tier = { general = -1, major = -5 }
per_breach = -2
per_breach_of = { feedback = -3 }
primary_share = 60
"#;

type Desk = Engine<Arc<MemoryStore>, DiscardNotifier, Arc<ManualClock>>;

struct Sim {
    e: Desk,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    policy: Policy,
    n: u32,
}

fn staff(id: &str, role: &str) -> Actor {
    Actor::staff(
        ActorId::new(id).unwrap(),
        vec![RoleKey::new(role).unwrap()],
        Some(dept("customer-service")),
    )
}

fn agent() -> Actor {
    staff("agent-1", "agent")
}

fn lead() -> Actor {
    staff("lead-1", "lead")
}

fn cid(id: &str) -> ComplaintId {
    ComplaintId::new(id).unwrap()
}

impl Sim {
    fn new() -> Self {
        Self::with(POLICY)
    }

    fn with(text: &str) -> Self {
        let policy = Policy::from_toml_str(text).unwrap();
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(testing::t(0)));
        let e = Engine::builder(Arc::clone(&store), policy.clone())
            .clock(Arc::clone(&clock))
            .notifier(DiscardNotifier)
            .build();
        Self {
            e,
            store,
            clock,
            policy,
            n: 0,
        }
    }

    fn at(&self, hours_and_minutes: (i64, i64)) {
        let (h, m) = hours_and_minutes;
        self.clock.set(testing::t(h) + chrono::Duration::minutes(m));
    }

    fn try_run(
        &mut self,
        id: &str,
        command: Command,
        actor: &Actor,
    ) -> Result<Arc<Complaint>, EngineError> {
        self.n += 1;
        self.e.execute(
            CommandId::new(format!("c{}", self.n)).unwrap(),
            &cid(id),
            command,
            actor,
        )
    }

    fn run(&mut self, id: &str, command: Command, actor: &Actor) -> Arc<Complaint> {
        let n = self.n + 1;
        self.try_run(id, command, actor)
            .unwrap_or_else(|e| panic!("command {n}: {e}"))
    }

    fn rejection(&mut self, id: &str, command: Command, actor: &Actor) -> Rejection {
        match self.try_run(id, command, actor) {
            Err(EngineError::Rejected(r)) => r,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    /// A consultation whose first contact came in `minutes_before` the command.
    fn consult(&mut self, id: &str, minutes_before: i64) -> Arc<Complaint> {
        let now = self.clock.now();
        let intake = testing::intake(now - chrono::Duration::minutes(minutes_before));
        self.run(
            id,
            Command::Consult {
                intake: Arc::new(intake),
                answer: "Parcels to Tibet take five days; yours is on time.".into(),
            },
            &agent(),
        )
    }

    fn convert(&mut self, id: &str) -> Arc<Complaint> {
        self.run(
            id,
            Command::ConvertToComplaint {
                reason: "the customer says the tracking page promised three days".into(),
            },
            &lead(),
        )
    }

    fn receive(&mut self, id: &str) -> Arc<Complaint> {
        let now = self.clock.now();
        self.run(
            id,
            Command::Receive(Arc::new(testing::intake(now))),
            &agent(),
        )
    }

    /// Received, triaged general and routed to `primary` with `collaborating`.
    fn routed(&mut self, id: &str, primary: &str, collaborating: &[&str]) -> Arc<Complaint> {
        self.receive(id);
        self.run(
            id,
            Command::Triage {
                category: path("logistics/delay"),
                tier: Some(tier("general")),
                validity: Validity::Valid,
            },
            &agent(),
        );
        let mut r = responsibility(primary);
        r.collaborating = collaborating.iter().map(|d| dept(d)).collect();
        self.run(
            id,
            Command::Route {
                responsibility: Some(r),
            },
            &agent(),
        )
    }

    fn report(&self) -> Report {
        Report::from_store(&*self.store, &self.policy, Period::month(2026, 11).unwrap())
            .wait()
            .unwrap()
    }

    fn history(&self, id: &str) -> Vec<Recorded> {
        self.e.history(&cid(id)).unwrap()
    }
}

fn due(c: &Complaint, clock: &str) -> Option<Timestamp> {
    c.clock(clock).and_then(|s| s.schedule.deadline)
}

// ---- consultations ----

#[test]
fn a_consultation_is_recorded_with_its_answer_and_runs_no_clock() {
    let mut s = Sim::new();
    s.at((1, 0));
    let c = s.consult("k1", 2);
    assert_eq!(c.stage, Stage::Consultation);
    let answer = &c.consultation.as_ref().unwrap().answer;
    assert_eq!(answer.by.as_str(), "agent-1");
    assert!(answer.text.contains("five days"));
    // Clocks on `received` do not start for a consultation, and nothing is ever due.
    assert!(c.clocks.is_empty());
    assert_eq!(c.next_due(), None);
    let kinds: Vec<EventKind> = s.history("k1").iter().map(|r| r.event.kind()).collect();
    assert_eq!(kinds, [EventKind::Received, EventKind::Consulted]);
    // The audit trail says what happened.
    assert_eq!(
        s.history("k1")[1].event.to_string(),
        "answered as a consultation: Parcels to Tibet take five days; yours is on time."
    );
}

#[test]
fn a_consultation_takes_no_handling_command_until_converted() {
    let mut s = Sim::new();
    s.consult("k1", 0);
    for command in [
        Command::Acknowledge,
        Command::Withdraw { reason: None },
        Command::Triage {
            category: path("logistics/delay"),
            tier: None,
            validity: Validity::Valid,
        },
    ] {
        assert!(
            matches!(
                s.rejection("k1", command, &agent()),
                Rejection::IllegalTransition {
                    from: StageKind::Consultation,
                    ..
                }
            ),
            "a consultation is not handled"
        );
    }
    let adjust = Command::AdjustPoints {
        points: -1,
        reason: "x".into(),
    };
    assert!(matches!(
        s.rejection("k1", adjust, &lead()),
        Rejection::IllegalTransition { .. }
    ));
    // A consultation is registered once, like a complaint.
    let again = Command::Consult {
        intake: Arc::new(testing::intake(testing::t(0))),
        answer: "again".into(),
    };
    assert!(matches!(
        s.rejection("k1", again, &agent()),
        Rejection::AlreadyExists(_)
    ));
}

#[test]
fn converting_starts_receipt_clocks_now_and_first_report_clocks_from_the_first_contact() {
    let mut s = Sim::new();
    s.at((0, 0));
    // First contact 10 minutes before it was recorded as a consultation.
    s.consult("k1", 10);
    let first_contact = testing::t(0) - chrono::Duration::minutes(10);
    // Three hours later the customer calls back and disputes the answer.
    s.at((3, 0));
    let c = s.convert("k1");
    assert_eq!(c.stage, Stage::Received);
    assert_eq!(
        c.intake.received_at, first_contact,
        "keeps the first contact"
    );
    let converted = c.consultation.as_ref().unwrap().converted.as_ref().unwrap();
    assert_eq!(converted.by.as_str(), "lead-1");
    assert_eq!(converted.at, testing::t(3));
    // A clock on `received` counts from the conversion…
    assert_eq!(due(&c, "acknowledge"), Some(testing::t(4)));
    assert_eq!(c.clock("acknowledge").unwrap().started_at, testing::t(3));
    // …and one that counts from the first report, from the first contact: already late.
    assert_eq!(
        due(&c, "answer-call"),
        Some(first_contact + chrono::Duration::hours(2))
    );
    let fired = s.e.tick().unwrap();
    assert!(
        !fired.fired.is_empty(),
        "the late clock breaches at the next tick"
    );
    let breached: Vec<String> = s
        .history("k1")
        .iter()
        .filter_map(|r| match &r.event {
            Event::ClockBreached { clock, .. } => Some(clock.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(breached, ["answer-call"]);
}

#[test]
fn a_conversion_is_for_good() {
    let mut s = Sim::new();
    s.consult("k1", 0);
    s.convert("k1");
    assert!(matches!(
        s.rejection(
            "k1",
            Command::ConvertToComplaint {
                reason: "again".into()
            },
            &lead()
        ),
        Rejection::IllegalTransition {
            from: StageKind::Received,
            command: CommandKind::ConvertToComplaint,
        }
    ));
    // It is handled as any complaint now.
    let c = s.run("k1", Command::Acknowledge, &agent());
    assert!(c.acknowledged_at.is_some());
    let graph = TransitionGraph::new();
    assert!(!graph.reachable(StageKind::Received, StageKind::Consultation));
    assert!(graph.has_edge(
        StageKind::Consultation,
        CommandKind::ConvertToComplaint,
        StageKind::Received
    ));
}

#[test]
fn staff_with_the_command_consult_and_convert_and_the_complainant_does_neither() {
    let mut s = Sim::new();
    let consult = |answer: &str| Command::Consult {
        intake: Arc::new(testing::intake(testing::t(0))),
        answer: answer.into(),
    };
    assert!(matches!(
        s.rejection("k1", consult("an answer"), &lead()),
        Rejection::Forbidden {
            reason: ForbiddenReason::NoRole,
            ..
        }
    ));
    assert!(matches!(
        s.rejection("k1", consult("  "), &agent()),
        Rejection::Invalid {
            field: "answer",
            ..
        }
    ));
    s.consult("k1", 0);
    let convert = || Command::ConvertToComplaint {
        reason: "disputed".into(),
    };
    assert!(matches!(
        s.rejection("k1", convert(), &agent()),
        Rejection::Forbidden {
            reason: ForbiddenReason::NoRole,
            ..
        }
    ));
    assert!(matches!(
        s.rejection("k1", convert(), &testing::customer()),
        Rejection::Forbidden {
            reason: ForbiddenReason::NotForComplainants,
            ..
        }
    ));
    assert!(matches!(
        s.rejection(
            "k1",
            Command::ConvertToComplaint { reason: "".into() },
            &lead()
        ),
        Rejection::Invalid {
            field: "reason",
            ..
        }
    ));
}

#[test]
fn reports_count_consultations_apart_from_complaints() {
    let mut s = Sim::new();
    s.consult("k1", 0);
    s.consult("k2", 0);
    s.convert("k2");
    s.receive("k3");
    let r = s.report();
    assert_eq!(r.received, 2, "k2 (converted) and k3 are complaints");
    assert_eq!(r.consultations.answered, 1);
    assert_eq!(r.consultations.converted, 1);
    assert_eq!(r.stages.get("consultation"), None);
    assert_eq!(r.channels.get("hotline"), Some(&2));
    assert_eq!(r.repeats.complaints.len(), 1, "k3 repeats k2, not k1");
    assert!(r.to_markdown().contains(
        "Consultations answered at first contact (not complaints): 1. Complaints that began as a consultation: 1."
    ));
    assert!(r.to_csv().contains("consultations,,answered,1\r\n"));
}

#[test]
fn the_diagram_shows_consultations_only_where_a_role_may_consult() {
    let s = Sim::new();
    let d = s.policy.diagram();
    assert!(d.contains("[*] --> consultation : consult\n"), "{d}");
    assert!(
        d.contains(
            "consultation --> received : convert_to_complaint ⏱ acknowledge ⏱ answer-call\n"
        ),
        "{d}"
    );
    let without = POLICY.replace("\"consult\", ", "");
    let d = Policy::from_toml_str(&without).unwrap().diagram();
    assert!(!d.contains("consultation"), "{d}");
}

// ---- scoring by clock and by case ----

#[test]
fn a_breach_of_a_named_clock_costs_its_own_points() {
    let mut s = Sim::new();
    s.routed("p1", "outlet", &[]);
    s.run("p1", Command::Acknowledge, &agent());
    s.at((3, 0));
    s.e.tick().unwrap();
    let r = s.report();
    let outlet = r.scores.iter().find(|d| d.department == "outlet").unwrap();
    assert_eq!(outlet.breaches, 2);
    // general −1, investigate −2 (per_breach), feedback −3 (per_breach_of).
    assert_eq!(outlet.points, -6.0);
}

#[test]
fn an_adjustment_joins_the_case_points_before_they_are_split() {
    let mut s = Sim::new();
    s.routed("p1", "outlet", &["hub"]);
    s.run("p1", Command::Acknowledge, &agent());
    s.run("p1", Command::Withdraw { reason: None }, &agent());
    // After it is finished, the lead adjusts the case: the outlet was not at fault alone.
    s.at((5, 0));
    let c = s.run(
        "p1",
        Command::AdjustPoints {
            points: -4,
            reason: "the parcel was held at the outlet for a week".into(),
        },
        &lead(),
    );
    assert_eq!(c.stage, Stage::Withdrawn, "adjusting keeps the stage");
    assert!(TransitionGraph::new().has_edge(
        StageKind::Withdrawn,
        CommandKind::AdjustPoints,
        StageKind::Withdrawn
    ));
    assert_eq!(c.points_adjusted(), -4);
    let r = s.report();
    let points = |d: &str| r.scores.iter().find(|x| x.department == d).unwrap().points;
    // (general −1 + adjustment −4) split 60 / 40.
    assert_eq!(points("outlet"), -3.0);
    assert_eq!(points("hub"), -2.0);
    // The audit trail says who, how much and why.
    let last = s.history("p1").pop().unwrap();
    assert_eq!(last.who(), "lead-1 (staff: lead)");
    assert_eq!(
        last.event.to_string(),
        "points adjusted by -4 (the parcel was held at the outlet for a week)"
    );
    assert_eq!(last.at, testing::t(5));
}

#[test]
fn adjustments_need_the_role_a_reason_and_some_points() {
    let mut s = Sim::new();
    s.routed("p1", "outlet", &[]);
    let adjust = |points: i64, reason: &str| Command::AdjustPoints {
        points,
        reason: reason.into(),
    };
    assert!(matches!(
        s.rejection("p1", adjust(2, "goodwill"), &agent()),
        Rejection::Forbidden {
            reason: ForbiddenReason::NoRole,
            ..
        }
    ));
    assert!(matches!(
        s.rejection("p1", adjust(2, "goodwill"), &testing::customer()),
        Rejection::Forbidden { .. }
    ));
    assert!(matches!(
        s.rejection("p1", adjust(0, "nothing"), &lead()),
        Rejection::Invalid {
            field: "points",
            ..
        }
    ));
    assert!(matches!(
        s.rejection("p1", adjust(i64::MIN, "overflow"), &lead()),
        Rejection::Invalid {
            field: "points",
            ..
        }
    ));
    assert!(matches!(
        s.rejection("p1", adjust(2, " "), &lead()),
        Rejection::Invalid {
            field: "reason",
            ..
        }
    ));
    let c = s.run("p1", adjust(2, "goodwill"), &lead());
    let c2 = s.run("p1", adjust(1, "more goodwill"), &lead());
    assert_eq!(c.points_adjustments.len(), 1);
    assert_eq!(c2.points_adjusted(), 3);
}

#[test]
fn a_state_written_before_consultations_and_adjustments_still_reads() {
    let mut s = Sim::new();
    let c = s.receive("old");
    let mut json = serde_json::to_value(&*c).unwrap();
    let map = json.as_object_mut().unwrap();
    assert!(!map.contains_key("consultation") && !map.contains_key("points_adjustments"));
    map.remove("consultation");
    let back: Complaint = serde_json::from_value(json).unwrap();
    assert_eq!(back.consultation, None);
    assert!(back.points_adjustments.is_empty());
}

/// A complaint closed by 0.1.0 and moved into a run on disk takes an adjustment (the monthly
/// assessment comes after closing), and the report counts it.
#[test]
fn a_complaint_closed_by_0_1_0_takes_an_adjustment_from_a_file_store() {
    use plaint::file::{FileStore, Options};
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-0.1.0");
    for e in std::fs::read_dir(fixture).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    let text = include_str!("../examples/policies/express.toml");
    let policy = Policy::from_toml_str(text).unwrap();
    let id = cid("EXP-101");
    let points = |store: &dyn plaint::DynStore| {
        let r = Report::from_store(store, &policy, Period::month(2026, 11).unwrap())
            .wait()
            .unwrap();
        r.scores
            .iter()
            .find(|d| d.department == "claims")
            .unwrap()
            .points
    };
    let before = {
        let store = FileStore::open(dir.path(), Options::new()).unwrap().store;
        assert_eq!(
            store.load(&id).wait().unwrap().unwrap().stage.kind(),
            StageKind::Closed
        );
        let before = points(&store);
        let engine = Engine::builder(store, policy.clone())
            .clock(ManualClock::new("2026-12-01T00:00:00Z".parse().unwrap()))
            .build();
        let gm = staff("gm-zhao", "general-manager");
        let c = engine
            .execute(
                CommandId::new("assess-1").unwrap(),
                &id,
                Command::AdjustPoints {
                    points: 5,
                    reason: "the customer's own packing".into(),
                },
                &gm,
            )
            .unwrap();
        assert_eq!(c.stage.kind(), StageKind::Closed);
        before
    };
    let store = FileStore::open(dir.path(), Options::new()).unwrap().store;
    let c = store.load(&id).wait().unwrap().unwrap();
    assert_eq!(c.points_adjusted(), 5);
    assert_eq!(
        Complaint::replay(id.clone(), &store.history(&id).wait().unwrap()).as_ref(),
        Some(&*c)
    );
    // claims is the primary department of EXP-101 (70 %): +5 × 0.7.
    assert!(
        (points(&store) - before - 3.5).abs() < 1e-9,
        "{} → {}",
        before,
        points(&store)
    );
}
