//! SLA clocks through the engine on a manual clock: warnings, breaches and escalation rungs
//! fire exactly once in due order, pauses move deadlines, tier changes re-project, windows
//! flag early action, agreed deadlines win within their cap, after-hours rules apply.

mod common;

use chrono::Duration;
use common::*;
use plaint::MemoryStore;
use plaint_core::blocking::Engine;
use plaint_core::sla::ClockOutcome;
use plaint_core::testing;
use plaint_core::*;
use std::sync::Arc;

type SlaEngine = Engine<Arc<MemoryStore>, Arc<RecordingNotifier>, Arc<ManualClock>>;

struct Sim {
    e: SlaEngine,
    clock: Arc<ManualClock>,
    notes: Arc<RecordingNotifier>,
    n: u32,
}

/// Shanghai local time on 2026-11-`day` at `hh:mm`.
fn sh(day: u32, hh: u32, mm: u32) -> Timestamp {
    format!("2026-11-{day:02}T{hh:02}:{mm:02}:00+08:00")
        .parse::<chrono::DateTime<chrono::FixedOffset>>()
        .unwrap()
        .to_utc()
}

impl Sim {
    fn new(start: Timestamp) -> Self {
        let clock = Arc::new(ManualClock::new(start));
        let notes = Arc::new(RecordingNotifier::new());
        let e = Engine::builder(Arc::new(MemoryStore::new()), testing::sla_policy())
            .clock(Arc::clone(&clock))
            .notifier(Arc::clone(&notes))
            .build();
        Self {
            e,
            clock,
            notes,
            n: 0,
        }
    }

    fn at(&self, t: Timestamp) -> &Self {
        self.clock.set(t);
        self
    }

    fn run(&mut self, id: &str, command: Command, actor: &Actor) -> Arc<Complaint> {
        self.n += 1;
        let cmd = CommandId::new(format!("c{}", self.n)).unwrap();
        let c = self
            .e
            .execute(cmd, &ComplaintId::new(id).unwrap(), command, actor)
            .unwrap_or_else(|e| panic!("command {}: {e}", self.n));
        // A service's relay delivers in the background; here, right after each command.
        self.e.relay().unwrap();
        c
    }

    fn receive(&mut self, id: &str) -> Arc<Complaint> {
        let now = self.clock.now();
        self.run(
            id,
            Command::Receive(Arc::new(testing::intake(now))),
            &testing::agent(),
        )
    }

    /// Receive, triage (tier) and route: the resolution clock starts.
    fn routed(&mut self, id: &str, tier_key: &str) -> Arc<Complaint> {
        self.receive(id);
        self.run(
            id,
            Command::Triage {
                category: path("logistics/delay"),
                tier: Some(tier(tier_key)),
                validity: Validity::Valid,
            },
            &testing::agent(),
        );
        self.run(
            id,
            Command::Route {
                responsibility: Some(responsibility("hub")),
            },
            &testing::agent(),
        )
    }

    /// Receives `id` and walks it, as a major complaint, to a satisfied confirmation.
    fn confirmed_major(&mut self, id: &str) -> Arc<Complaint> {
        self.receive(id);
        let agent = testing::agent();
        let triage = Command::Triage {
            category: path("logistics"),
            tier: Some(tier("major")),
            validity: Validity::Valid,
        };
        self.run(id, triage, &agent);
        let route = Command::Route {
            responsibility: Some(responsibility("hub")),
        };
        self.run(id, route, &agent);
        let findings = Findings {
            summary: "x".into(),
            records: vec![],
        };
        self.run(
            id,
            Command::RecordFindings {
                findings,
                root_cause: None,
            },
            &agent,
        );
        let offer = Command::Propose {
            remedy: remedy("apology"),
            description: "sorry".into(),
            amount: None,
        };
        self.run(id, offer, &agent);
        self.run(id, Command::Approve { note: None }, &testing::manager());
        self.run(
            id,
            Command::AcceptProposal { agreement: None },
            &testing::customer(),
        );
        let done = Command::RecordExecution {
            action: "done".into(),
            reference: None,
            finished: true,
        };
        self.run(id, done, &agent);
        self.run(
            id,
            Command::GiveFeedback {
                text: "done".into(),
            },
            &agent,
        );
        self.run(
            id,
            Command::ConfirmSatisfaction(happy(true)),
            &testing::customer(),
        )
    }

    fn get(&self, id: &str) -> Arc<Complaint> {
        self.e.get(&ComplaintId::new(id).unwrap()).unwrap().unwrap()
    }

    fn tick(&self) -> Vec<Event> {
        let tick = self.e.tick().unwrap();
        assert!(tick.failed.is_empty(), "{:?}", tick.failed);
        self.e.relay().unwrap();
        tick.fired.into_iter().map(|r| r.event).collect()
    }
}

fn fired(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ClockWarned { clock, due, .. } => {
                Some(format!("warn {clock} {}", due.to_rfc3339()))
            }
            Event::ClockBreached { clock, due, .. } => {
                Some(format!("breach {clock} {}", due.to_rfc3339()))
            }
            Event::RungReached {
                clock, rung, due, ..
            } => Some(format!("rung{rung} {clock} {}", due.to_rfc3339())),
            _ => None,
        })
        .collect()
}

#[test]
fn an_elapsed_clock_warns_breaches_and_stops() {
    let mut s = Sim::new(sh(16, 10, 0));
    let c = s.receive("A");
    let ack = c.clock("acknowledge").unwrap();
    assert_eq!(ack.schedule.deadline, Some(sh(16, 11, 0)));
    assert_eq!(ack.schedule.warning, Some(sh(16, 10, 30)));
    assert_eq!(s.e.next_due().unwrap(), Some(sh(16, 10, 30)));
    assert!(
        s.at(sh(16, 10, 29)).tick().is_empty(),
        "nothing fires before it is due"
    );
    assert_eq!(
        fired(&s.at(sh(16, 10, 45)).tick()),
        ["warn acknowledge 2026-11-16T02:30:00+00:00"]
    );
    assert!(
        s.tick().is_empty(),
        "a second tick at the same instant fires nothing"
    );
    s.at(sh(16, 11, 5));
    let c = s.run("A", Command::Acknowledge, &testing::agent());
    assert_eq!(
        c.clock("acknowledge").unwrap().outcome,
        Some(ClockOutcome::Breached)
    );
    assert_eq!(
        s.e.next_due().unwrap(),
        None,
        "a stopped clock is no longer due"
    );
    assert!(s.at(sh(16, 12, 0)).tick().is_empty());
}

#[test]
fn after_downtime_everything_fires_once_in_due_order_with_its_original_due() {
    // Routed Monday 10:00: resolution (16 business hours) is due Wednesday 10:00, the
    // warning 2 business hours before (Tuesday 17:00).
    let mut s = Sim::new(sh(16, 10, 0));
    let c = s.routed("B", "general");
    let r = c.clock("resolution").unwrap();
    assert_eq!(r.schedule.deadline, Some(sh(18, 10, 0)));
    assert_eq!(r.schedule.warning, Some(sh(17, 17, 0)));
    assert_eq!(
        r.schedule.rungs,
        [sh(18, 15, 0), sh(19, 10, 0)],
        "4 h and 8 h business time after"
    );
    // Down until Friday noon: everything fires at once, in due order, each with its due.
    let events = s.at(sh(20, 12, 0)).tick();
    assert_eq!(
        fired(&events),
        [
            "warn acknowledge 2026-11-16T02:30:00+00:00",
            "breach acknowledge 2026-11-16T03:00:00+00:00",
            "warn resolution 2026-11-17T09:00:00+00:00",
            "breach resolution 2026-11-18T02:00:00+00:00",
            "rung1 resolution 2026-11-18T07:00:00+00:00",
            "rung2 resolution 2026-11-19T02:00:00+00:00",
        ]
    );
    // The second rung raises the tier, audited as a tier change, and the first entered the
    // complaint in the ledger.
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::TierChanged { to, .. } if to.as_str() == "major"))
    );
    let c = s.get("B");
    assert!(c.in_ledger);
    assert_eq!(c.tier, Some(tier("major")));
    assert!(s.tick().is_empty());
    let kinds: Vec<String> = s
        .notes
        .delivered()
        .iter()
        .map(|n| n.id.to_string())
        .collect();
    assert!(
        kinds
            .iter()
            .any(|k| k.ends_with("/escalation/role:general-manager/in_app")),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|k| k.ends_with("/clock_breach/role:service-manager/in_app")),
        "{kinds:?}"
    );
}

#[test]
fn a_pause_moves_the_deadline_by_the_paused_business_time() {
    let mut s = Sim::new(sh(16, 10, 0));
    s.routed("C", "general");
    s.run(
        "C",
        Command::RecordFindings {
            findings: Findings {
                summary: "late".into(),
                records: vec![],
            },
            root_cause: None,
        },
        &testing::agent(),
    );
    // Monday 11:00 a proposal goes to the complainant: the clock pauses.
    s.at(sh(16, 11, 0));
    let c = s.run(
        "C",
        Command::Propose {
            remedy: remedy("apology"),
            description: "sorry".into(),
            amount: None,
        },
        &testing::agent(),
    );
    let r = c.clock("resolution").unwrap();
    assert!(r.is_paused());
    assert_eq!(r.remaining, 15 * 3600);
    assert_eq!(
        s.e.next_due().unwrap(),
        Some(sh(16, 10, 30)),
        "only the acknowledgement is due"
    );
    // Tuesday 11:00 they answer: 8 business hours passed while paused.
    s.at(sh(17, 11, 0));
    let c = s.run(
        "C",
        Command::AcceptProposal { agreement: None },
        &testing::customer(),
    );
    let r = c.clock("resolution").unwrap();
    assert!(r.is_running());
    assert_eq!(r.paused_for(sh(17, 11, 0)), Duration::hours(24));
    assert_eq!(r.pauses.len(), 1);
    // 15 h left from Tuesday 11:00: Tue 11-12, 13-18 (6 h), Wed 9-12, 13-18 (8 h), Thu 9-10
    // → Thursday 10:00; without the pause it was Wednesday 10:00.
    assert_eq!(r.schedule.deadline, Some(sh(19, 10, 0)));
}

#[test]
fn a_tier_change_keeps_the_time_used_and_re_projects_the_rest() {
    let mut s = Sim::new(sh(16, 10, 0));
    s.routed("D", "general");
    // 3 business hours later (Mon 14:00: 10-12, 13-14) the tier goes up: 8 h budget, 3 used.
    s.at(sh(16, 14, 0));
    let c = s.run(
        "D",
        Command::ChangeTier {
            tier: tier("major"),
            reason: "media".into(),
        },
        &testing::manager(),
    );
    let r = c.clock("resolution").unwrap();
    assert_eq!((r.budget, r.remaining), (8 * 3600, 5 * 3600));
    assert_eq!(
        r.schedule.deadline,
        Some(sh(17, 10, 0)),
        "Mon 14-18 (4 h) + Tue 9-10"
    );
    let h = s.e.history(&ComplaintId::new("D").unwrap()).unwrap();
    let why = h.iter().find_map(|r| match &r.event {
        Event::ClockReprojected { reason, .. } => Some(reason.to_string()),
        _ => None,
    });
    assert_eq!(why.as_deref(), Some("tier is now major: media"));
}

#[test]
fn urgent_after_hours_alerts_the_on_duty_role_and_others_wait_for_the_opening() {
    // Saturday 21st, 20:00: closed.
    let mut s = Sim::new(sh(21, 20, 0));
    let c = s.routed("E", "general");
    let r = c.clock("resolution").unwrap();
    assert_eq!(
        r.started_at,
        sh(23, 9, 0),
        "a general complaint's clock starts at the opening"
    );
    let mut s = Sim::new(sh(21, 20, 0));
    let c = s.routed("F", "major");
    assert_eq!(c.clock("resolution").unwrap().started_at, sh(21, 20, 0));
    let h = s.e.history(&ComplaintId::new("F").unwrap()).unwrap();
    assert!(h.iter().any(|r| matches!(&r.event, Event::OnDutyAlerted { role, .. } if role.as_str() == "general-manager")));
    let kinds: Vec<_> = s
        .notes
        .delivered()
        .iter()
        .map(|n| n.id.to_string())
        .collect();
    assert!(
        s.notes
            .delivered()
            .iter()
            .any(|n| n.kind == NotificationKind::OnDuty),
        "{kinds:?}"
    );
}

#[test]
fn a_follow_up_window_flags_early_calls_and_breaches_late_ones() {
    let start = sh(16, 10, 0);
    for (after_days, outcome) in [
        (2, ClockOutcome::Early),
        (6, ClockOutcome::Met),
        (8, ClockOutcome::Breached),
    ] {
        let mut s = Sim::new(start);
        let id = "G";
        let c = s.confirmed_major(id);
        let w = c.clock("follow-up").unwrap();
        assert_eq!(w.schedule.not_before, Some(start + Duration::days(5)));
        assert_eq!(w.schedule.deadline, Some(start + Duration::days(7)));
        s.at(start + Duration::days(after_days));
        s.tick();
        let c = s.run(id, Command::FollowUp(happy(true)), &testing::agent());
        assert_eq!(
            c.clock("follow-up").unwrap().outcome,
            Some(outcome),
            "day {after_days}"
        );
    }
}

#[test]
fn an_agreed_deadline_wins_but_never_passes_the_cap() {
    let mut s = Sim::new(sh(16, 10, 0));
    s.routed("H", "general");
    let agree = |at| Command::AgreeDeadline {
        clock: ClockKey::new("resolution").unwrap(),
        deadline: at,
    };
    let c = s.run("H", agree(sh(19, 17, 0)), &testing::manager());
    assert_eq!(
        c.clock("resolution").unwrap().schedule.deadline,
        Some(sh(19, 17, 0))
    );
    // The cap is 40 business hours from the clock's start (Monday 10:00): the next Monday
    // 10:00, however late the complainant agrees to.
    let c = s.run("H", agree(sh(30, 17, 0)), &testing::manager());
    assert_eq!(
        c.clock("resolution").unwrap().schedule.deadline,
        Some(sh(23, 10, 0))
    );
    let err =
        s.e.execute(
            CommandId::new("x1").unwrap(),
            &ComplaintId::new("H").unwrap(),
            agree(sh(15, 0, 0)),
            &testing::manager(),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        EngineError::Rejected(Rejection::Invalid {
            field: "deadline",
            ..
        })
    ));
    let err =
        s.e.execute(
            CommandId::new("x2").unwrap(),
            &ComplaintId::new("H").unwrap(),
            agree(sh(19, 0, 0)),
            &testing::agent(),
        )
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Rejected(Rejection::Forbidden { .. })),
        "{err}"
    );
}

#[test]
fn only_the_system_ticks() {
    let mut s = Sim::new(sh(16, 10, 0));
    s.receive("I");
    let err =
        s.e.execute(
            CommandId::new("t").unwrap(),
            &ComplaintId::new("I").unwrap(),
            Command::Tick { upto: sh(17, 0, 0) },
            &testing::general_manager(),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        EngineError::Rejected(Rejection::Forbidden {
            reason: ForbiddenReason::SystemOnly,
            ..
        })
    ));
}

#[test]
fn reopening_resets_the_resolution_clock_to_a_new_cycle() {
    let mut s = Sim::new(sh(16, 10, 0));
    let id = "J";
    s.routed(id, "general");
    s.run(
        id,
        Command::RecordFindings {
            findings: Findings {
                summary: "x".into(),
                records: vec![],
            },
            root_cause: None,
        },
        &testing::agent(),
    );
    s.run(
        id,
        Command::Propose {
            remedy: remedy("apology"),
            description: "sorry".into(),
            amount: None,
        },
        &testing::agent(),
    );
    s.run(
        id,
        Command::AcceptProposal { agreement: None },
        &testing::customer(),
    );
    s.run(
        id,
        Command::RecordExecution {
            action: "done".into(),
            reference: None,
            finished: true,
        },
        &testing::agent(),
    );
    let c = s.run(
        id,
        Command::GiveFeedback {
            text: "done".into(),
        },
        &testing::agent(),
    );
    assert_eq!(
        c.clock("resolution").unwrap().outcome,
        Some(ClockOutcome::Met)
    );
    s.at(sh(17, 10, 0));
    let c = s.run(
        id,
        Command::ConfirmSatisfaction(happy(false)),
        &testing::customer(),
    );
    let r = c.clock("resolution").unwrap();
    assert_eq!((r.cycle, r.outcome, r.started_at), (2, None, sh(17, 10, 0)));
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Identity of a fireable item: (complaint, clock, cycle, what).
    type Item = (String, String, u32, String);

    fn item(id: &str, e: &Event) -> Option<(Item, Timestamp)> {
        let (clock, cycle, what, due) = match e {
            Event::ClockWarned { clock, cycle, due } => (clock, cycle, "warn".to_owned(), due),
            Event::ClockBreached {
                clock, cycle, due, ..
            } => (clock, cycle, "breach".to_owned(), due),
            Event::RungReached {
                clock,
                cycle,
                rung,
                due,
                ..
            } => (clock, cycle, format!("rung{rung}"), due),
            _ => return None,
        };
        Some(((id.to_owned(), clock.to_string(), *cycle, what), *due))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(200), ..ProptestConfig::default() })]

        // Property 6: every warning, breach and rung fires exactly once, never before its due
        // instant, whatever the tick schedule (duplicates, long gaps, two threads at once).
        #[test]
        fn every_item_fires_exactly_once_and_never_early(
            gaps in proptest::collection::vec((0i64..3000, any::<bool>()), 1..40),
            tiers in proptest::collection::vec(any::<bool>(), 1..4),
        ) {
            let mut s = Sim::new(sh(16, 10, 0));
            let ids: Vec<String> = (0..tiers.len()).map(|i| format!("P{i}")).collect();
            for (id, major) in ids.iter().zip(&tiers) {
                s.routed(id, if *major { "major" } else { "general" });
                s.clock.advance(Duration::minutes(17));
            }
            let e = Arc::new(s.e);
            let mut seen: BTreeMap<Item, Timestamp> = BTreeMap::new();
            let mut record = |events: Vec<Recorded>, now: Timestamp| -> Result<(), TestCaseError> {
                for r in events {
                    // Tick command ids are `tick:<complaint>:<version>`.
                    let id = r.command.as_str().split(':').nth(1).unwrap_or("");
                    if let Some((key, due)) = item(id, &r.event) {
                        prop_assert!(due <= now, "{key:?} fired at {now} before its due {due}");
                        prop_assert!(seen.insert(key.clone(), due).is_none(), "{key:?} fired twice");
                    }
                }
                Ok(())
            };
            for (gap, twice) in gaps {
                s.clock.advance(Duration::minutes(gap));
                let now = s.clock.now();
                if twice {
                    let (a, b) = std::thread::scope(|sc| {
                        let h1 = sc.spawn(|| e.tick().unwrap().fired);
                        let h2 = sc.spawn(|| e.tick().unwrap().fired);
                        (h1.join().unwrap(), h2.join().unwrap())
                    });
                    record(a, now)?;
                    record(b, now)?;
                } else {
                    record(e.tick().unwrap().fired, now)?;
                }
            }
            // Everything due by the end fired; nothing else is still due before now.
            let now = s.clock.now();
            prop_assert!(e.next_due().unwrap().is_none_or(|t| t > now));
            for id in &ids {
                let c = e.get(&ComplaintId::new(id.as_str()).unwrap()).unwrap().unwrap();
                for st in &c.clocks {
                    let fired = |what: &str| seen.contains_key(&(id.clone(), st.clock.to_string(), st.cycle, what.to_owned()));
                    prop_assert_eq!(st.warned, fired("warn"));
                    prop_assert_eq!(st.breached, fired("breach"));
                    for k in 1..=st.rungs_fired {
                        let rung = format!("rung{}", k);
                        prop_assert!(fired(&rung));
                    }
                }
            }
        }

        // Property 5: pausing never brings a breach earlier; paused time is the ledger's sum.
        #[test]
        fn pauses_never_bring_the_breach_earlier(
            pauses in proptest::collection::vec((1i64..2000, 1i64..4000), 1..4),
        ) {
            let mut s = Sim::new(sh(16, 10, 0));
            s.routed("Q", "general");
            let unpaused = s.get("Q").clock("resolution").unwrap().schedule.deadline.unwrap();
            s.run("Q", Command::RecordFindings { findings: Findings { summary: "x".into(), records: vec![] }, root_cause: None }, &testing::agent());
            let mut total = Duration::zero();
            for (run, pause) in pauses {
                s.clock.advance(Duration::minutes(run));
                s.run("Q", Command::Propose { remedy: remedy("apology"), description: "sorry".into(), amount: None }, &testing::agent());
                s.clock.advance(Duration::minutes(pause));
                total += Duration::minutes(pause);
                s.run("Q", Command::RejectProposal { reason: None }, &testing::customer());
            }
            let c = s.get("Q");
            let r = c.clock("resolution").unwrap();
            prop_assert_eq!(r.paused_for(s.clock.now()), total);
            let ledger: Duration = r.pauses.iter().map(|(a, b)| b.unwrap() - *a).fold(Duration::zero(), |x, y| x + y);
            prop_assert_eq!(ledger, total);
            if let Some(d) = r.schedule.deadline { prop_assert!(d >= unpaused); }
        }

        // Property 8: an agreed deadline wins over the default and never exceeds the cap.
        #[test]
        fn agreed_deadlines_win_within_the_cap(hours in 1i64..400) {
            let mut s = Sim::new(sh(16, 10, 0));
            s.routed("R", "general");
            let cap = sh(23, 10, 0);
            let agreed = sh(16, 10, 0) + Duration::hours(hours);
            let c = s.run("R", Command::AgreeDeadline { clock: ClockKey::new("resolution").unwrap(), deadline: agreed }, &testing::manager());
            let d = c.clock("resolution").unwrap().schedule.deadline.unwrap();
            prop_assert!(d <= cap);
            prop_assert_eq!(d, agreed.min(cap));
        }

        // Property 7: in a window, acting before not-before is flagged; not acting by
        // not-after breaches.
        #[test]
        fn windows_flag_early_and_late(minutes in 0i64..(10 * 24 * 60)) {
            let start = sh(16, 10, 0);
            let mut s = Sim::new(start);
            let id = "W";
            s.confirmed_major(id);
            s.at(start + Duration::minutes(minutes));
            let fired = s.tick();
            let breached = fired.iter().any(|e| matches!(e, Event::ClockBreached { clock, .. } if clock.as_str() == "follow-up"));
            let c = s.run(id, Command::FollowUp(happy(true)), &testing::agent());
            let outcome = c.clock("follow-up").unwrap().outcome.unwrap();
            let m = Duration::minutes(minutes);
            // A breach fires at its due instant: acting at that very instant comes after it.
            let expected = if m < Duration::days(5) { ClockOutcome::Early } else if m >= Duration::days(7) { ClockOutcome::Breached } else { ClockOutcome::Met };
            prop_assert_eq!(outcome, expected);
            prop_assert_eq!(breached, m >= Duration::days(7));
        }
    }
}

#[test]
fn a_complaint_that_cannot_fire_never_holds_up_the_others() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(sh(16, 10, 0)));
    let v1 = testing::sla_policy();
    let old = Engine::builder(Arc::clone(&store), v1.clone())
        .clock(Arc::clone(&clock))
        .build();
    let receive = || Command::Receive(Arc::new(testing::intake(sh(16, 10, 0))));
    old.execute(
        CommandId::new("a").unwrap(),
        &ComplaintId::new("A").unwrap(),
        receive(),
        &testing::agent(),
    )
    .unwrap();
    // An engine that holds only version 2 cannot decide for A, which is pinned to version 1.
    let mut v2 = v1;
    v2.version = 2;
    let new = Engine::builder(Arc::clone(&store), v2)
        .clock(Arc::clone(&clock))
        .build();
    clock.advance(Duration::minutes(1));
    new.execute(
        CommandId::new("b").unwrap(),
        &ComplaintId::new("B").unwrap(),
        receive(),
        &testing::agent(),
    )
    .unwrap();
    clock.set(sh(16, 12, 0));
    let tick = new.tick().unwrap();
    let fired: Vec<(&str, EventKind)> = tick
        .fired
        .iter()
        .map(|r| (r.command.as_str(), r.event.kind()))
        .collect();
    assert_eq!(
        fired,
        [
            ("tick:B:2", EventKind::ClockWarned),
            ("tick:B:2", EventKind::ClockBreached)
        ],
        "B's warning and breach fire"
    );
    assert_eq!(tick.failed.len(), 1);
    assert_eq!(tick.failed[0].0.as_str(), "A");
    assert!(matches!(
        tick.failed[0].1,
        EngineError::UnknownPolicyVersion { version: 1, .. }
    ));
    // A stays due: the engine that holds its policy fires it.
    let tick = old.tick().unwrap();
    assert_eq!(tick.fired.len(), 2);
    assert!(tick.failed.is_empty());
}

#[test]
fn instants_outside_the_supported_range_are_invalid_and_nothing_panics() {
    use chrono::{DateTime, Utc};
    let mut s = Sim::new(sh(16, 10, 0));
    s.routed("R", "general");
    let invalid = |r: Result<Arc<Complaint>, EngineError>, name: &str| match r {
        Err(EngineError::Rejected(Rejection::Invalid { field, .. })) => assert_eq!(field, name),
        other => panic!("{name}: {other:?}"),
    };
    let far = [
        DateTime::<Utc>::MAX_UTC,
        EARLIEST - Duration::seconds(1),
        LATEST + Duration::seconds(1),
    ];
    for (n, at) in far.into_iter().enumerate() {
        for clock in ["acknowledge", "resolution"] {
            let agree = Command::AgreeDeadline {
                clock: ClockKey::new(clock).unwrap(),
                deadline: at,
            };
            let cmd = CommandId::new(format!("far-{clock}-{n}")).unwrap();
            let r = s.e.execute(
                cmd,
                &ComplaintId::new("R").unwrap(),
                agree,
                &testing::manager(),
            );
            invalid(r, "deadline");
        }
        let mut intake = testing::intake(at.min(sh(16, 10, 0)));
        if at > sh(16, 10, 0) {
            intake.subject.purchased_at = Some(at);
        }
        let field = if at > sh(16, 10, 0) {
            "subject.purchased_at"
        } else {
            "received_at"
        };
        let cmd = CommandId::new(format!("far-receive-{n}")).unwrap();
        let id = ComplaintId::new(format!("F{n}")).unwrap();
        let r = s.e.execute(
            cmd,
            &id,
            Command::Receive(Arc::new(intake)),
            &testing::agent(),
        );
        invalid(r, field);
    }
    // The last instant of the range is still a deadline one may agree.
    let agree = Command::AgreeDeadline {
        clock: ClockKey::new("acknowledge").unwrap(),
        deadline: LATEST,
    };
    s.receive("L");
    s.run("L", agree, &testing::manager());
}
