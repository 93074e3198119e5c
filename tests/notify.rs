//! The outbox and the relay: failures are retried with back-off, given up on as dead letters,
//! retried by hand; nothing is lost and nothing is sent that was never committed.

mod common;

use common::*;
use plaint::MemoryStore;
use plaint_core::blocking::Engine;
use plaint_core::blocking::Wait as _;
use plaint_core::notify::Occasion;
use plaint_core::testing;
use plaint_core::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Fails its first `fail` deliveries, then delivers; counts deliveries per id, as a
/// deduplicating receiver would see them.
#[derive(Default)]
struct Flaky {
    fail: AtomicU32,
    seen: Mutex<BTreeMap<String, u32>>,
}

impl Notifier for Flaky {
    async fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        if self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
            .is_ok()
        {
            return Err(NotifyError::Failed("gateway timeout".into()));
        }
        *self
            .seen
            .lock()
            .unwrap()
            .entry(n.id.to_string())
            .or_default() += 1;
        Ok(())
    }
}

type FlakyEngine = Engine<Arc<MemoryStore>, Arc<Flaky>, Arc<ManualClock>>;

fn engine(fail: u32, attempts: u32) -> (FlakyEngine, Arc<Flaky>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(testing::t(1)));
    let flaky = Arc::new(Flaky::default());
    flaky.fail.store(fail, Ordering::SeqCst);
    let e = Engine::builder(Arc::new(MemoryStore::new()), testing::policy())
        .clock(Arc::clone(&clock))
        .notifier(Arc::clone(&flaky))
        .max_delivery_attempts(attempts)
        .build();
    (e, flaky, clock)
}

fn receive_and_ack(e: &FlakyEngine) {
    let id = testing::complaint_id();
    let intake = testing::intake(testing::t(0));
    e.execute(
        CommandId::new("c1").unwrap(),
        &id,
        Command::Receive(Arc::new(intake)),
        &testing::agent(),
    )
    .unwrap();
    e.execute(
        CommandId::new("c2").unwrap(),
        &id,
        Command::Acknowledge,
        &testing::agent(),
    )
    .unwrap();
}

#[test]
fn commands_never_wait_on_delivery() {
    let (e, flaky, _) = engine(0, 5);
    receive_and_ack(&e);
    assert!(
        flaky.seen.lock().unwrap().is_empty(),
        "nothing is delivered until the relay runs"
    );
    let r = e.relay().unwrap();
    assert_eq!((r.delivered, r.retrying, r.dead), (1, 0, 0));
    assert_eq!(
        e.relay().unwrap(),
        Relay::default(),
        "a second relay finds nothing"
    );
}

#[test]
fn a_notifier_that_fails_k_times_then_succeeds_delivers_once() {
    let (e, flaky, clock) = engine(3, 8);
    receive_and_ack(&e);
    let mut retried = 0;
    let mut waits = Vec::new();
    for _ in 0..10 {
        let r = e.relay().unwrap();
        retried += r.retrying;
        // Nothing is retried before its back-off has passed.
        clock.advance(chrono::Duration::seconds(10));
        if e.relay().unwrap() != Relay::default() {
            waits.push(10);
        }
        clock.advance(chrono::Duration::minutes(10));
    }
    assert_eq!(retried, 3);
    assert!(
        waits.is_empty(),
        "a retry came before its back-off: {waits:?}"
    );
    let seen = flaky.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        BTreeMap::from([("EXP-1/2/acknowledged/complainant/sms".to_owned(), 1)])
    );
    assert!(e.dead_letters().unwrap().is_empty());
}

#[test]
fn dead_letters_can_be_retried_by_hand() {
    let (e, flaky, clock) = engine(100, 2);
    receive_and_ack(&e);
    for _ in 0..5 {
        e.relay().unwrap();
        clock.advance(chrono::Duration::hours(1));
    }
    let dead = e.dead_letters().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 2);
    flaky.fail.store(0, Ordering::SeqCst); // the gateway is back
    assert!(e.retry_dead_letter(&dead[0].notification.id).unwrap());
    assert!(
        !e.retry_dead_letter(&dead[0].notification.id).unwrap(),
        "it is no longer dead"
    );
    assert_eq!(e.relay().unwrap().delivered, 1);
    assert!(e.dead_letters().unwrap().is_empty());
    assert_eq!(flaky.seen.lock().unwrap().len(), 1);
}

#[test]
fn fan_out_and_retry_compose() {
    let a = Arc::new(RecordingNotifier::new());
    let b = Arc::new(RecordingNotifier::new());
    let flaky = Arc::new(Flaky::default());
    flaky.fail.store(2, Ordering::SeqCst);
    let fan = FanOut(vec![Box::new(Arc::clone(&a)), Box::new(Arc::clone(&b))]);
    let n = Notification {
        id: NotificationId {
            complaint: testing::complaint_id(),
            version: 1,
            kind: NotificationKind::Acknowledged,
            recipient: Recipient::Complainant,
            channel: Channel::Sms,
        },
        complaint: testing::complaint_id(),
        recipient: Recipient::Complainant,
        kind: NotificationKind::Acknowledged,
        channel: Channel::Sms,
        text: None,
    };
    fan.deliver(&n).wait().unwrap();
    assert_eq!((a.delivered().len(), b.delivered().len()), (1, 1));
    let retry = Retry {
        inner: Arc::clone(&flaky),
        attempts: 3,
    };
    retry.deliver(&n).wait().unwrap();
    assert_eq!(
        flaky.seen.lock().unwrap().len(),
        1,
        "two failures absorbed by three tries"
    );
    assert!(!DiscardNotifier.is_enabled() && retry.is_enabled());
}

/// Two relays at once: every notification still arrives, each claimed by one relay.
#[test]
fn concurrent_relays_share_the_outbox() {
    let clock = Arc::new(ManualClock::new(testing::t(1)));
    let flaky = Arc::new(Flaky::default());
    let e = Arc::new(
        Engine::builder(Arc::new(MemoryStore::new()), testing::policy())
            .clock(Arc::clone(&clock))
            .notifier(Arc::clone(&flaky))
            .build(),
    );
    for i in 0..50 {
        let id = ComplaintId::new(format!("C{i}")).unwrap();
        let intake = testing::intake(testing::t(0));
        e.execute(
            CommandId::new(format!("r{i}")).unwrap(),
            &id,
            Command::Receive(Arc::new(intake)),
            &testing::agent(),
        )
        .unwrap();
        e.execute(
            CommandId::new(format!("a{i}")).unwrap(),
            &id,
            Command::Acknowledge,
            &testing::agent(),
        )
        .unwrap();
    }
    let (x, y) = std::thread::scope(|s| {
        let h1 = s.spawn(|| e.relay().unwrap());
        let h2 = s.spawn(|| e.relay().unwrap());
        (h1.join().unwrap(), h2.join().unwrap())
    });
    assert_eq!(x.delivered + y.delivered, 50);
    let seen = flaky.seen.lock().unwrap();
    assert_eq!(seen.len(), 50);
    assert!(
        seen.values().all(|n| *n == 1),
        "each was claimed by one relay"
    );
}

fn step() -> impl Strategy<Value = (u8, u8, bool)> {
    (0u8..10, 0u8..8, any::<bool>())
}

/// The command a random step gives (0–5), if it is a command; 6–7 relay, 8–9 move the clock.
fn step_command(what: u8) -> Option<Command> {
    Some(match what {
        0 | 1 => Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        2 => Command::Acknowledge,
        3 => Command::Triage {
            category: path("logistics"),
            tier: None,
            validity: Validity::Valid,
        },
        4 => Command::Route {
            responsibility: Some(responsibility("hub")),
        },
        5 => Command::Close, // mostly refused
        _ => return None,
    })
}

fn complaint_ids() -> Vec<ComplaintId> {
    (0..3)
        .map(|i| ComplaintId::new(format!("P{i}")).unwrap())
        .collect()
}

/// Lets the gateway work and the relay catch up, then checks the receiver saw exactly the
/// notifications of the committed events, and nothing is left dead.
fn catch_up_and_check<S: Store>(
    e: &Engine<S, Arc<Flaky>, Arc<ManualClock>>,
    flaky: &Flaky,
    clock: &ManualClock,
) -> Result<(), TestCaseError> {
    flaky.fail.store(0, Ordering::SeqCst);
    for _ in 0..60 {
        clock.advance(chrono::Duration::hours(1));
        e.relay().unwrap();
    }
    let mut expected = BTreeSet::new();
    for id in &complaint_ids() {
        let history = e.history(id).unwrap();
        for n in plaint_core::notify::notifications_for(id, None, &history, &testing::policy()) {
            expected.insert(n.id.to_string());
        }
    }
    let seen: BTreeSet<String> = flaky.seen.lock().unwrap().keys().cloned().collect();
    prop_assert_eq!(seen, expected);
    prop_assert!(e.dead_letters().unwrap().is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(100), ..ProptestConfig::default() })]

    /// Random commands (some refused), relays and gateway failures: once the gateway works
    /// and the relay has run, exactly the notifications of committed events have arrived.
    #[test]
    fn nothing_lost_nothing_invented(steps in proptest::collection::vec(step(), 1..60)) {
        let (e, flaky, clock) = engine(0, 50);
        let ids = complaint_ids();
        for (i, (what, n, fail)) in steps.into_iter().enumerate() {
            let id = &ids[n as usize % ids.len()];
            let cmd = CommandId::new(format!("s{i}")).unwrap();
            match step_command(what) {
                Some(c) => { let _ = e.execute(cmd, id, c, &testing::agent()); }
                None if what < 8 => {
                    flaky.fail.store(if fail { u32::from(n) } else { 0 }, Ordering::SeqCst);
                    e.relay().unwrap();
                }
                None => clock.advance(chrono::Duration::minutes(i64::from(n) * 7)),
            }
        }
        catch_up_and_check(&e, &flaky, &clock)?;
    }
}

/// Texts come from the policy's templates in its locale; the complainant's phone is masked
/// for departments and roles without contact access, shown to roles with it.
#[test]
fn templates_render_in_the_policy_locale_and_mask_contacts() {
    let policy = Policy::from_toml_str(include_str!("../examples/policies/express.toml")).unwrap();
    let clock = Arc::new(ManualClock::new("2026-11-16T01:00:00Z".parse().unwrap()));
    let notes = Arc::new(RecordingNotifier::new());
    let e = Engine::builder(MemoryStore::new(), policy)
        .clock(Arc::clone(&clock))
        .notifier(Arc::clone(&notes))
        .build();
    let agent = Actor::staff(
        ActorId::new("a").unwrap(),
        vec![RoleKey::new("agent").unwrap()],
        None,
    );
    let id = ComplaintId::new("EXP-9").unwrap();
    let mut intake = testing::intake(clock.now());
    intake.channel = "hotline".try_into().unwrap();
    let run = |n: &str, c: Command| {
        e.execute(CommandId::new(n).unwrap(), &id, c, &agent)
            .unwrap()
    };
    run("r", Command::Receive(Arc::new(intake)));
    run("a", Command::Acknowledge);
    let triage = Command::Triage {
        category: path("delay"),
        tier: None,
        validity: Validity::Valid,
    };
    run("t", triage);
    run(
        "o",
        Command::Route {
            responsibility: None,
        },
    );
    e.relay().unwrap();
    let texts: BTreeMap<String, String> = notes
        .delivered()
        .into_iter()
        .map(|n| (n.id.to_string(), n.text.unwrap_or_default().to_string()))
        .collect();
    let keys: Vec<&String> = texts.keys().collect();
    assert!(
        texts.contains_key("EXP-9/3/acknowledged/complainant/sms"),
        "{keys:?}"
    );
    let ack = &texts["EXP-9/3/acknowledged/complainant/sms"];
    assert!(ack.starts_with("您的投诉（编号 EXP-9）已受理"), "{ack}");
    assert!(
        texts.contains_key("EXP-9/6/assigned/department:hub/in_app"),
        "{keys:?}"
    );
    let assigned = &texts["EXP-9/6/assigned/department:hub/in_app"];
    assert!(
        assigned.contains("转运中心"),
        "the department's label in the locale: {assigned}"
    );
    assert!(
        assigned.contains("1******5678") && !assigned.contains("13812345678"),
        "{assigned}"
    );
    assert!(
        assigned.contains("2026-11-"),
        "a local deadline: {assigned}"
    );
    // Two days on nobody has investigated: the breach goes to the service manager (no
    // contact access: masked) and, through the ladder, to the general manager (access).
    clock.advance(chrono::Duration::hours(60));
    e.tick().unwrap();
    e.relay().unwrap();
    let breach: Vec<(String, String)> = notes
        .delivered()
        .into_iter()
        .filter(|n| n.kind == NotificationKind::ClockBreach)
        .map(|n| (n.id.to_string(), n.text.unwrap_or_default().to_string()))
        .collect();
    let to_manager = breach
        .iter()
        .find(|(id, _)| id.contains("role:service-manager/"))
        .unwrap();
    assert!(to_manager.1.contains("1******5678"), "{to_manager:?}");
    let escalation: Vec<String> = notes
        .delivered()
        .into_iter()
        .filter(|n| n.kind == NotificationKind::Escalation)
        .map(|n| n.id.to_string())
        .collect();
    assert!(
        escalation
            .iter()
            .any(|id| id.contains("role:general-manager/")),
        "{escalation:?}"
    );
}

#[test]
fn a_role_with_contact_access_sees_the_phone() {
    let policy = Policy::from_toml_str(include_str!("../examples/policies/express.toml")).unwrap();
    let c = {
        let mut intake = testing::intake(testing::t(0));
        intake.channel = "hotline".try_into().unwrap();
        let rec = Recorded {
            version: 1,
            at: testing::t(0),
            actor: ActorId::new("a").unwrap(),
            actor_kind: None,
            command: CommandId::new("r").unwrap(),
            event: Event::Received {
                intake: Arc::new(intake),
                policy_version: 1,
            },
        };
        Complaint::open(ComplaintId::new("EXP-9").unwrap(), &rec).unwrap()
    };
    let to = |recipient: Recipient| Notification {
        id: NotificationId {
            complaint: c.id.clone(),
            version: 1,
            kind: NotificationKind::ClockBreach,
            recipient: recipient.clone(),
            channel: Channel::InApp,
        },
        complaint: c.id.clone(),
        recipient,
        kind: NotificationKind::ClockBreach,
        channel: Channel::InApp,
        text: None,
    };
    let gm = to(Recipient::Role {
        role: RoleKey::new("general-manager").unwrap(),
    });
    let sm = to(Recipient::Role {
        role: RoleKey::new("service-manager").unwrap(),
    });
    let me = to(Recipient::Complainant);
    let t = "call {phone}";
    assert_eq!(
        plaint_core::notify::render(t, &gm, &Occasion::of(&c), &policy),
        "call 13812345678"
    );
    assert_eq!(
        plaint_core::notify::render(t, &sm, &Occasion::of(&c), &policy),
        "call 1******5678"
    );
    assert_eq!(
        plaint_core::notify::render(t, &me, &Occasion::of(&c), &policy),
        "call 13812345678"
    );
}

/// The policy's rules say who is told at which moment and by which channel; moments without
/// a rule tell nobody.
#[test]
fn policy_rules_choose_audiences_channels_and_texts() {
    let mut policy = testing::policy();
    policy.notifications = serde_json::from_value(serde_json::json!([
        { "on": "acknowledged", "to": ["complainant", "role:service-manager"], "channel": "email",
          "text": { "en": "Complaint {complaint} acknowledged, phone {phone}" } },
        { "on": "acknowledged", "to": ["complainant"], "text": { "en": "SMS {complaint}" } },
    ]))
    .unwrap();
    let notes = Arc::new(RecordingNotifier::new());
    let e = Engine::builder(MemoryStore::new(), policy)
        .clock(ManualClock::new(testing::t(1)))
        .notifier(Arc::clone(&notes))
        .build();
    let id = ComplaintId::new("N-1").unwrap();
    let run = |n: &str, c: Command| {
        e.execute(CommandId::new(n).unwrap(), &id, c, &testing::agent())
            .unwrap()
    };
    run(
        "r",
        Command::Receive(Arc::new(testing::intake(testing::t(0)))),
    );
    run("a", Command::Acknowledge);
    let triage = Command::Triage {
        category: path("logistics"),
        tier: None,
        validity: Validity::Valid,
    };
    run("t", triage);
    let route = Command::Route {
        responsibility: Some(responsibility("hub")),
    };
    run("o", route);
    e.relay().unwrap();
    let got: BTreeMap<String, String> = notes
        .delivered()
        .into_iter()
        .map(|n| (n.id.to_string(), n.text.unwrap_or_default().to_string()))
        .collect();
    let want = BTreeMap::from([
        (
            "N-1/2/acknowledged/complainant/email".to_owned(),
            "Complaint N-1 acknowledged, phone 13812345678".to_owned(),
        ),
        (
            "N-1/2/acknowledged/complainant/sms".to_owned(),
            "SMS N-1".to_owned(),
        ),
        (
            "N-1/2/acknowledged/role:service-manager/email".to_owned(),
            "Complaint N-1 acknowledged, phone 1******5678".to_owned(),
        ),
    ]);
    assert_eq!(got, want, "routing has no rule, so nobody hears of it");
}

/// The express policy's callback task: when the result is given, the customer gets an SMS and
/// an agent (who may see contacts) gets a task to phone them back, with the number.
#[test]
fn a_callback_task_goes_to_a_role_with_contact_access() {
    let policy = Policy::from_toml_str(include_str!("../examples/policies/express.toml")).unwrap();
    let rules: Vec<(String, Option<Channel>)> = policy
        .notifications
        .iter()
        .filter(|r| r.on == NotificationKind::ResultGiven)
        .map(|r| (String::from(r.to[0].clone()), r.channel))
        .collect();
    assert_eq!(
        rules,
        [
            ("complainant".to_owned(), None),
            ("role:agent".to_owned(), Some(Channel::Callback))
        ]
    );
    let n = plaint_core::notify::notifications_for(
        &ComplaintId::new("EXP-7").unwrap(),
        None,
        &[Recorded {
            version: 9,
            at: testing::t(0),
            actor: ActorId::new("a").unwrap(),
            actor_kind: None,
            command: CommandId::new("f").unwrap(),
            event: Event::FeedbackGiven {
                text: "refunded".into(),
            },
        }],
        &policy,
    );
    let ids: Vec<String> = n.iter().map(|n| n.id.to_string()).collect();
    assert_eq!(
        ids,
        [
            "EXP-7/9/result_given/complainant/sms",
            "EXP-7/9/result_given/role:agent/callback"
        ]
    );
    let mut intake = testing::intake(testing::t(0));
    intake.channel = "hotline".try_into().unwrap();
    let c = Complaint::open(
        ComplaintId::new("EXP-7").unwrap(),
        &Recorded {
            version: 1,
            at: testing::t(0),
            actor: ActorId::new("a").unwrap(),
            actor_kind: None,
            command: CommandId::new("r").unwrap(),
            event: Event::Received {
                intake: Arc::new(intake),
                policy_version: 1,
            },
        },
    )
    .unwrap();
    let text = policy.text_for(&n[1]).unwrap();
    assert_eq!(
        plaint_core::notify::render(text, &n[1], &Occasion::of(&c), &policy),
        "请致电客户回访投诉 EXP-7（电话 13812345678）。"
    );
}

/// A crash after the outbox is durable but before delivery is recorded: after the reopen the
/// relay delivers again, under the same id, and nothing committed is missing.
#[test]
fn a_crash_before_settling_redelivers_after_reopen() {
    use plaint::file::{FileStore, Options, SimFs, Tear};
    let dir = std::path::Path::new("/complaints");
    let open = |fs: &SimFs| {
        let options = Options::new().fs(Arc::new(fs.clone()));
        let store = FileStore::open(dir, options).unwrap().store;
        let notes = Arc::new(RecordingNotifier::new());
        let e = Engine::builder(store, testing::policy())
            .clock(ManualClock::new(testing::t(1)))
            .notifier(Arc::clone(&notes))
            .build();
        (e, notes)
    };
    let fs = SimFs::new();
    let (e, before) = open(&fs);
    let id = ComplaintId::new("R-1").unwrap();
    let receive = Command::Receive(Arc::new(testing::intake(testing::t(0))));
    e.execute(
        CommandId::new("r").unwrap(),
        &id,
        receive,
        &testing::agent(),
    )
    .unwrap();
    e.execute(
        CommandId::new("a").unwrap(),
        &id,
        Command::Acknowledge,
        &testing::agent(),
    )
    .unwrap();
    // The next sync is the relay's record of the delivery: the process dies there.
    fs.crash_at_sync(fs.syncs() + 1);
    assert!(e.relay().is_err(), "the settlement was never written");
    let delivered: Vec<String> = before
        .delivered()
        .iter()
        .map(|n| n.id.to_string())
        .collect();
    assert_eq!(delivered, ["R-1/2/acknowledged/complainant/sms"]);
    drop(e);

    let (e, after) = open(&fs.after_crash(Tear::Lose));
    e.relay().unwrap();
    let again: Vec<String> = after.delivered().iter().map(|n| n.id.to_string()).collect();
    assert_eq!(again, delivered, "delivered again under the same id");
    e.relay().unwrap();
    assert_eq!(after.delivered().len(), 1, "and settled this time");
}

type FileEngine = Engine<plaint::FileStore, Arc<Flaky>, Arc<ManualClock>>;

/// An engine over a FileStore on the simulated file system `fs` (reopened after a crash).
fn file_engine(
    fs: &plaint::file::SimFs,
    flaky: &Arc<Flaky>,
    clock: &Arc<ManualClock>,
) -> FileEngine {
    let options = plaint::file::Options::new().fs(Arc::new(fs.clone()));
    let store = plaint::FileStore::open("/complaints", options)
        .expect("a crashed store reopens")
        .store;
    Engine::builder(store, testing::policy())
        .clock(Arc::clone(clock))
        .notifier(Arc::clone(flaky))
        .max_delivery_attempts(50)
        .build()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), ..ProptestConfig::default() })]

    /// Random commands, relays, gateway failures, and process crashes at random syncs (with
    /// the unsynced bytes torn at random) followed by restarts: once the gateway works and
    /// the relay has run, the receiver has seen exactly the notifications of the committed
    /// events — nothing lost across a crash, nothing delivered that a crash took back.
    #[test]
    fn crashes_and_restarts_lose_nothing_and_invent_nothing(
        steps in proptest::collection::vec(step(), 1..50),
        crash_after in proptest::collection::vec(1u64..8, 1..6),
        keep in 0usize..300,
    ) {
        use plaint::file::{SimFs, Tear};
        let clock = Arc::new(ManualClock::new(testing::t(1)));
        let flaky = Arc::new(Flaky::default());
        let mut fs = SimFs::new();
        let mut e = file_engine(&fs, &flaky, &clock);
        let mut crashes = crash_after.into_iter();
        if let Some(k) = crashes.next() {
            fs.crash_at_sync(fs.syncs() + k);
        }
        let ids = complaint_ids();
        for (i, (what, n, fail)) in steps.into_iter().enumerate() {
            let id = &ids[n as usize % ids.len()];
            let cmd = CommandId::new(format!("s{i}")).unwrap();
            match step_command(what) {
                Some(c) => { let _ = e.execute(cmd, id, c, &testing::agent()); }
                None if what < 8 => {
                    flaky.fail.store(if fail { u32::from(n) } else { 0 }, Ordering::SeqCst);
                    let _ = e.relay();
                }
                None => clock.advance(chrono::Duration::minutes(i64::from(n) * 7)),
            }
            // The dead process lingers for a few steps (its relay may still claim and deliver
            // from memory) until a clock step restarts it.
            if fs.has_crashed() && what >= 8 {
                drop(e);
                fs = fs.after_crash(if fail { Tear::Keep(keep) } else { Tear::Zeros(keep) });
                e = file_engine(&fs, &flaky, &clock);
                if let Some(k) = crashes.next() {
                    fs.crash_at_sync(fs.syncs() + k);
                }
            }
        }
        // A last restart without crashes, then the gateway works and the relay catches up.
        if fs.has_crashed() || fs.syncs() > 0 {
            drop(e);
            fs = fs.after_crash(Tear::Lose);
            e = file_engine(&fs, &flaky, &clock);
        }
        catch_up_and_check(&e, &flaky, &clock)?;
    }
}

/// Review item 13: a notifier that logs `{n:?}` writes no phone number, even when the text
/// holds one for a recipient with contact access.
#[test]
fn debug_output_of_a_notification_masks_its_text() {
    let n = Notification {
        id: NotificationId {
            complaint: testing::complaint_id(),
            version: 9,
            kind: NotificationKind::ResultGiven,
            recipient: Recipient::Complainant,
            channel: Channel::Callback,
        },
        complaint: testing::complaint_id(),
        recipient: Recipient::Complainant,
        kind: NotificationKind::ResultGiven,
        channel: Channel::Callback,
        text: Some("Call 13812345678 or zhang.san@example.com".into()),
    };
    let entry = OutboxEntry {
        notification: n.clone(),
        attempts: 0,
        next_attempt: testing::t(0),
        last_error: None,
    };
    let shown = format!("{n:?} {n:#?} {entry:?}");
    for secret in ["13812345678", "zhang.san", "5678"] {
        assert!(!shown.contains(secret), "{secret} leaked in {shown}");
    }
    assert!(shown.contains("EXP-1"), "the rest still shows: {shown}");
}

/// An engine over `policy` with `rules` as its notification rules (set directly, as an
/// embedding may), a manual clock at `t(0)` and a recording notifier.
type TextsEngine = Engine<MemoryStore, Arc<RecordingNotifier>, Arc<ManualClock>>;

fn texts_engine(
    mut policy: Policy,
    rules: serde_json::Value,
) -> (TextsEngine, Arc<RecordingNotifier>, Arc<ManualClock>) {
    policy.notifications = serde_json::from_value(rules).unwrap();
    let clock = Arc::new(ManualClock::new(testing::t(0)));
    let notes = Arc::new(RecordingNotifier::new());
    let e = Engine::builder(MemoryStore::new(), policy)
        .clock(Arc::clone(&clock))
        .notifier(Arc::clone(&notes))
        .build();
    (e, notes, clock)
}

/// Delivered texts by notification id.
fn texts_of(notes: &RecordingNotifier) -> BTreeMap<String, String> {
    notes
        .delivered()
        .into_iter()
        .map(|n| (n.id.to_string(), n.text.unwrap_or_default().to_string()))
        .collect()
}

fn propose(description: &str, amount: Option<Money>) -> Command {
    Command::Propose {
        remedy: remedy("compensation"),
        description: description.into(),
        amount,
    }
}

/// Brings `id` to `proposing` as `tier` (received, triaged, routed to the hub, investigated).
fn to_proposing<S: Store, N: Notifier, C: Clock>(
    e: &Engine<S, N, C>,
    id: &ComplaintId,
    tier: &str,
) {
    let steps = [
        Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        Command::Triage {
            category: path("logistics/delay"),
            tier: Some(self::tier(tier)),
            validity: Validity::Valid,
        },
        Command::Route {
            responsibility: Some(responsibility("hub")),
        },
        Command::RecordFindings {
            findings: Findings {
                summary: "Held at the hub.".into(),
                records: vec![],
            },
            root_cause: None,
        },
    ];
    for (i, c) in steps.into_iter().enumerate() {
        run_on(e, id, &format!("p{i}"), c, &testing::agent());
    }
}

/// Executes `c` on `id` as `who` under command id `n`; it must be accepted.
fn run_on<S: Store, N: Notifier, C: Clock>(
    e: &Engine<S, N, C>,
    id: &ComplaintId,
    n: &str,
    c: Command,
    who: &Actor,
) -> Arc<Complaint> {
    e.execute(CommandId::new(n).unwrap(), id, c, who).unwrap()
}

/// `t` as the texts show it: Shanghai local time to the minute.
fn shanghai(t: Timestamp) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Review item 11: placeholders are substituted in one pass, so staff free text that looks
/// like a placeholder stays as written.
#[test]
fn free_text_is_never_expanded_as_placeholders() {
    let (e, notes, _) = texts_engine(
        testing::policy(),
        serde_json::json!([{ "on": "proposal_offered", "to": ["complainant"],
                             "text": { "en": "We offer: {proposal}" } }]),
    );
    let id = testing::complaint_id();
    to_proposing(&e, &id, "general");
    let offer = propose("call {phone} or write to {email} ({complaint})", None);
    e.execute(CommandId::new("o").unwrap(), &id, offer, &testing::agent())
        .unwrap();
    e.relay().unwrap();
    let texts: Vec<String> = texts_of(&notes).into_values().collect();
    assert_eq!(
        texts,
        ["We offer: call {phone} or write to {email} ({complaint})"]
    );
}

/// Review item 9: an approver asked about the first offer reads the first offer, even when
/// the relay runs only after a second offer replaced it.
#[test]
fn a_late_relay_says_what_the_approver_was_asked() {
    let (e, notes, _) = texts_engine(
        testing::policy(),
        serde_json::json!([{ "on": "approval_requested", "to": ["approvers"],
                             "text": { "en": "Approve {proposal} for {amount}?" } }]),
    );
    let id = testing::complaint_id();
    to_proposing(&e, &id, "major");
    let run = |n: &str, c: Command, who: &Actor| run_on(&e, &id, n, c, who);
    run(
        "o1",
        propose("a first offer", Some(cny(10_000))),
        &testing::agent(),
    );
    let declined = Command::DeclineApproval {
        reason: "too little".into(),
    };
    run("d", declined, &testing::manager());
    run(
        "o2",
        propose("a second offer", Some(cny(20_000))),
        &testing::agent(),
    );
    e.relay().unwrap();
    let texts: Vec<String> = texts_of(&notes).into_values().collect();
    assert_eq!(
        texts,
        [
            "Approve a first offer for 100.00 CNY?",
            "Approve a second offer for 200.00 CNY?"
        ]
    );
}

/// Issue 17: staff free text reaches an approver (who may not see contacts) with the phone
/// numbers and email addresses it quotes masked.
#[test]
fn contacts_typed_into_free_text_are_masked_for_staff() {
    let (e, notes, _) = texts_engine(
        testing::policy(),
        serde_json::json!([{ "on": "approval_requested", "to": ["approvers"],
                             "text": { "en": "Approve {proposal}?" } }]),
    );
    let id = testing::complaint_id();
    to_proposing(&e, &id, "major");
    let offer = "a refund, agreed with Zhang on 13812345678 / zhang.san@example.com";
    run_on(
        &e,
        &id,
        "o1",
        propose(offer, Some(cny(10_000))),
        &testing::agent(),
    );
    e.relay().unwrap();
    let texts: Vec<String> = texts_of(&notes).into_values().collect();
    assert_eq!(
        texts,
        ["Approve a refund, agreed with Zhang on 1******5678 / z***@example.com?"]
    );
}

/// Fails its first `fail` deliveries; records every attempt's text.
#[derive(Default)]
struct Attempts {
    fail: AtomicU32,
    seen: Mutex<Vec<(String, String)>>,
}

impl Notifier for Attempts {
    async fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        let text = n.text.as_deref().unwrap_or_default().to_owned();
        self.seen.lock().unwrap().push((n.id.to_string(), text));
        match self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
        {
            Ok(_) => Err(NotifyError::Failed("gateway timeout".into())),
            Err(_) => Ok(()),
        }
    }
}

/// Review item 9: a notification reads the same on every delivery attempt, however the
/// complaint changed in between.
#[test]
fn a_notification_reads_the_same_on_every_delivery() {
    let mut policy = testing::policy();
    policy.notifications = serde_json::from_value(serde_json::json!([
        { "on": "proposal_offered", "to": ["complainant"], "text": { "en": "We offer {proposal}." } }
    ]))
    .unwrap();
    let clock = Arc::new(ManualClock::new(testing::t(0)));
    let gateway = Arc::new(Attempts::default());
    let e = Engine::builder(MemoryStore::new(), policy)
        .clock(Arc::clone(&clock))
        .notifier(Arc::clone(&gateway))
        .build();
    let id = testing::complaint_id();
    to_proposing(&e, &id, "general");
    let run = |n: &str, c: Command, who: &Actor| run_on(&e, &id, n, c, who);
    run(
        "o1",
        propose("a refund of the postage", None),
        &testing::agent(),
    );
    gateway.fail.store(1, Ordering::SeqCst);
    assert_eq!(e.relay().unwrap().retrying, 1);
    let rejected = Command::RejectProposal { reason: None };
    run("r", rejected, &testing::customer());
    run("o2", propose("a voucher", None), &testing::agent());
    clock.advance(chrono::Duration::hours(1));
    e.relay().unwrap();
    let seen = gateway.seen.lock().unwrap().clone();
    let first: Vec<&str> = seen
        .iter()
        .filter(|(id, _)| id == &seen[0].0)
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(
        first,
        [
            "We offer a refund of the postage.",
            "We offer a refund of the postage."
        ]
    );
}

/// Review item 10: `{deadline:<clock>}` is that clock's deadline as the moment left it, not
/// whatever the clock says when the relay runs.
#[test]
fn a_named_deadline_is_the_one_of_its_moment() {
    let (e, notes, clock) = texts_engine(
        testing::sla_policy(),
        serde_json::json!([{ "on": "assigned", "to": ["responsible"],
                             "text": { "en": "Act by {deadline:resolution}." } }]),
    );
    let id = testing::complaint_id();
    to_proposing(&e, &id, "general");
    let c = e.get(&id).unwrap().unwrap();
    let due = c.clock("resolution").unwrap().schedule.deadline.unwrap();
    let local = shanghai(due);
    clock.advance(chrono::Duration::hours(2));
    let agreed = Command::AgreeDeadline {
        clock: ClockKey::new("resolution").unwrap(),
        deadline: due + chrono::Duration::hours(20),
    };
    e.execute(
        CommandId::new("ag").unwrap(),
        &id,
        agreed,
        &testing::manager(),
    )
    .unwrap();
    e.relay().unwrap();
    let texts: Vec<String> = texts_of(&notes).into_values().collect();
    assert_eq!(texts, [format!("Act by {local}.")]);
}

/// Review item 9, old data: an outbox entry written by 0.1.0 carries no text (that code
/// rendered at relay time). The relay renders it as of its moment, from the history.
#[test]
fn an_old_outbox_entry_without_text_reads_as_of_its_moment() {
    let mut policy = testing::policy();
    policy.notifications = serde_json::from_value(serde_json::json!([
        { "on": "approval_requested", "to": ["approvers"],
          "text": { "en": "Approve {proposal} for {amount}?" } }
    ]))
    .unwrap();
    let store = Arc::new(MemoryStore::new());
    let notes = Arc::new(RecordingNotifier::new());
    let e = Engine::builder(Arc::clone(&store), policy.clone())
        .clock(ManualClock::new(testing::t(0)))
        .notifier(Arc::clone(&notes))
        .build();
    let id = testing::complaint_id();
    to_proposing(&e, &id, "major");
    // The first offer as 0.1.0 committed it: its notification without a text.
    let state = store.load(&id).wait().unwrap().unwrap();
    let command = CommandId::new("o1").unwrap();
    let offer = propose("a first offer", Some(cny(10_000)));
    let events = decide(
        Some(&state),
        &policy,
        offer,
        &testing::agent(),
        testing::t(0),
    )
    .unwrap();
    let recorded = Recorded::numbered(
        events,
        state.version,
        testing::t(0),
        &testing::agent(),
        &command,
    );
    let mut outbox = plaint_core::notify::notifications_for(&id, Some(&state), &recorded, &policy);
    assert_eq!(outbox.len(), 1);
    outbox[0].text = None;
    let append = Append::new(id.clone(), command, state.version, recorded).with_outbox(outbox);
    drop(state);
    store.append(append).wait().unwrap();
    let run = |n: &str, c: Command, who: &Actor| run_on(&e, &id, n, c, who);
    let declined = Command::DeclineApproval {
        reason: "too little".into(),
    };
    run("d", declined, &testing::manager());
    run(
        "o2",
        propose("a second offer", Some(cny(20_000))),
        &testing::agent(),
    );
    e.relay().unwrap();
    let texts: Vec<String> = texts_of(&notes).into_values().collect();
    assert_eq!(
        texts,
        [
            "Approve a first offer for 100.00 CNY?",
            "Approve a second offer for 200.00 CNY?"
        ]
    );
}

/// Review item 10: at a clock moment, `{clock}` and `{deadline}` are the clock the moment is
/// about, not the clock with the nearest deadline.
#[test]
fn clock_texts_name_their_own_clock_and_deadline() {
    let (e, notes, clock) = texts_engine(
        testing::sla_policy(),
        serde_json::json!([{ "on": "clock_warning", "to": ["responsible"],
                             "text": { "en": "{clock} is due {deadline}" } }]),
    );
    let id = testing::complaint_id();
    to_proposing(&e, &id, "general");
    let c = e.get(&id).unwrap().unwrap();
    let local = |key: &str| shanghai(c.clock(key).unwrap().schedule.deadline.unwrap());
    let want: BTreeSet<String> = ["acknowledge", "resolution"]
        .iter()
        .map(|k| format!("{k} is due {}", local(k)))
        .collect();
    clock.set(testing::t(200));
    e.tick().unwrap();
    e.relay().unwrap();
    let got: BTreeSet<String> = texts_of(&notes).into_values().collect();
    assert_eq!(got, want);
}

/// The sample policy with clocks, plus `rules` (TOML `[[notifications]]` tables).
fn sla_policy_with(rules: &str) -> Result<Policy, PolicyError> {
    let text = [
        include_str!("../crates/plaint-core/src/testing/policy.toml"),
        include_str!("../crates/plaint-core/src/testing/clocks.toml"),
        rules,
    ]
    .concat();
    Policy::from_toml_str(&text)
}

/// For every moment, a text made of each placeholder the policy check accepts there
/// (`name=<{name}>`), so a missing value shows as `<->`.
fn rules_with_every_accepted_placeholder() -> String {
    use NotificationKind as K;
    let kinds = [
        K::Acknowledged,
        K::Assigned,
        K::ApprovalRequested,
        K::ProposalOffered,
        K::ResultGiven,
        K::Closed,
        K::ClockWarning,
        K::ClockBreach,
        K::Escalation,
        K::OnDuty,
    ];
    let candidates = [
        "complaint",
        "department",
        "deadline",
        "clock",
        "proposal",
        "amount",
        "phone",
        "email",
        "deadline:acknowledge",
        "deadline:resolution",
        "deadline:follow-up",
        "deadline:acknowledge|resolution",
    ];
    let rule = |kind: K, text: &str| {
        format!(
            "\n[[notifications]]\non = \"{}\"\nto = [\"complainant\"]\ntext = {{ en = \"{text}\" }}\n",
            kind.name()
        )
    };
    let mut rules = String::new();
    for kind in kinds {
        let accepted: Vec<String> = candidates
            .iter()
            .map(|c| format!("{c}=<{{{c}}}>"))
            .filter(|t| sla_policy_with(&rule(kind, t)).is_ok())
            .collect();
        rules += &rule(kind, &accepted.join(" "));
    }
    rules
}

/// A random command on the sample complaint, with an actor allowed to give it.
fn any_command(what: u8, n: u8) -> (Command, Actor) {
    let agent = testing::agent();
    let offer = |amount| propose("an offer", amount);
    match what {
        0 => (
            Command::Receive(Arc::new(testing::intake(testing::t(0)))),
            agent,
        ),
        1 => (Command::Acknowledge, agent),
        2 => (
            Command::Triage {
                category: path("logistics/delay"),
                tier: Some(tier(if n.is_multiple_of(2) {
                    "general"
                } else {
                    "major"
                })),
                validity: Validity::Valid,
            },
            agent,
        ),
        3 => (
            Command::Route {
                responsibility: Some(responsibility("hub")),
            },
            agent,
        ),
        4 => (
            Command::Reassign {
                responsibility: responsibility(if n.is_multiple_of(2) {
                    "outlet"
                } else {
                    "claims"
                }),
                reason: "wrong desk".into(),
            },
            agent,
        ),
        5 => (
            Command::RecordFindings {
                findings: Findings {
                    summary: "found".into(),
                    records: vec![],
                },
                root_cause: None,
            },
            agent,
        ),
        6 => (
            offer((n.is_multiple_of(2)).then(|| cny(i64::from(n) * 1000))),
            agent,
        ),
        7 => (Command::Approve { note: None }, testing::general_manager()),
        8 => (
            Command::DeclineApproval {
                reason: "no".into(),
            },
            testing::manager(),
        ),
        9 => (
            Command::AcceptProposal { agreement: None },
            testing::customer(),
        ),
        10 => (
            Command::RejectProposal { reason: None },
            testing::customer(),
        ),
        11 => (
            Command::RecordExecution {
                action: "done".into(),
                reference: None,
                finished: true,
            },
            agent,
        ),
        12 => (
            Command::GiveFeedback {
                text: "done".into(),
            },
            agent,
        ),
        13 => (
            Command::ConfirmSatisfaction(happy(!n.is_multiple_of(3))),
            testing::customer(),
        ),
        14 => (Command::FollowUp(happy(!n.is_multiple_of(3))), agent),
        15 => (Command::Close, agent),
        16 => (
            Command::ChangeTier {
                tier: tier(if n.is_multiple_of(2) {
                    "general"
                } else {
                    "major"
                }),
                reason: "reassessed".into(),
            },
            testing::manager(),
        ),
        17 => (
            Command::ResolveOnTheSpot {
                remedy: remedy("apology"),
                description: "sorry".into(),
            },
            agent,
        ),
        _ => (
            Command::ReportProgress {
                note: "working on it".into(),
            },
            agent,
        ),
    }
}

/// The `any_command` number of the command that moves a complaint in `stage` on.
fn natural_next(stage: StageKind, n: u8) -> u8 {
    use StageKind as S;
    match stage {
        S::Received => 2,
        S::Triaged => 3,
        S::Investigating => 5,
        S::Proposing => 6,
        S::AwaitingApproval => 7,
        S::AwaitingAgreement => 9,
        S::Executing => 11,
        S::Executed => 12,
        S::AwaitingConfirmation => 13,
        S::Confirmed if n.is_multiple_of(2) => 14,
        S::Confirmed | S::FollowedUp => 15,
        _ => 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), ..ProptestConfig::default() })]

    /// The load-time check of placeholders is sound: random command sequences (most refused)
    /// with time passing and ticks, on a policy whose every rule uses every placeholder the
    /// check accepts at its moment, never render a missing value — except the deadline of a
    /// clock that breached and was then paused or re-projected, which its state no longer
    /// keeps.
    #[test]
    fn every_placeholder_the_check_accepts_has_a_value(
        steps in proptest::collection::vec((0u8..30, 0u8..12, 0u8..4), 1..40),
    ) {
        static RULES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let rules = RULES.get_or_init(rules_with_every_accepted_placeholder);
        let policy = sla_policy_with(rules).unwrap();
        let clock = Arc::new(ManualClock::new(testing::t(0)));
        let notes = Arc::new(RecordingNotifier::new());
        let e = Engine::builder(MemoryStore::new(), policy)
            .clock(Arc::clone(&clock))
            .notifier(Arc::clone(&notes))
            .build();
        let id = testing::complaint_id();
        for (i, (what, n, wait)) in steps.into_iter().enumerate() {
            // A third of the steps take the natural next step, so complaints get far.
            let what = if what < 20 {
                what
            } else {
                e.get(&id).unwrap().map_or(0, |c| natural_next(c.stage.kind(), n))
            };
            let (command, actor) = any_command(what, n);
            let _ = e.execute(CommandId::new(format!("c{i}")).unwrap(), &id, command, &actor);
            clock.advance(chrono::Duration::minutes(i64::from(wait) * i64::from(n) * 20));
            e.tick().unwrap();
        }
        e.relay().unwrap();
        let breached = e
            .get(&id)
            .unwrap()
            .is_some_and(|c| c.clocks.iter().any(|k| k.breached));
        for n in notes.delivered() {
            let text = n.text.unwrap_or_default();
            prop_assert!(!text.is_empty(), "{}", n.id);
            let missing: Vec<&str> = text
                .split(' ')
                .filter(|t| t.ends_with("<->"))
                .collect();
            let only_breached_deadlines =
                breached && missing.iter().all(|t| t.starts_with("deadline:"));
            prop_assert!(
                missing.is_empty() || only_breached_deadlines,
                "{}: {}", n.id, text
            );
        }
    }
}

/// What the check accepts at each moment, on the sample policy: the analysis behind
/// `every_placeholder_the_check_accepts_has_a_value` is not vacuous.
#[test]
fn the_check_accepts_the_placeholders_each_moment_has() {
    let rules = rules_with_every_accepted_placeholder();
    for (moment, want) in [
        (
            "acknowledged",
            "complaint=<{complaint}> phone=<{phone}> email=<{email}>",
        ),
        (
            "assigned",
            "complaint=<{complaint}> department=<{department}> phone=<{phone}> email=<{email}> \
             deadline:resolution=<{deadline:resolution}> \
             deadline:acknowledge|resolution=<{deadline:acknowledge|resolution}>",
        ),
        (
            "proposal_offered",
            "complaint=<{complaint}> department=<{department}> proposal=<{proposal}> \
             amount=<{amount}> phone=<{phone}> email=<{email}>",
        ),
        (
            "clock_breach",
            "complaint=<{complaint}> deadline=<{deadline}> clock=<{clock}> phone=<{phone}> \
             email=<{email}>",
        ),
        (
            "escalation",
            "complaint=<{complaint}> clock=<{clock}> phone=<{phone}> email=<{email}>",
        ),
    ] {
        let line =
            format!("on = \"{moment}\"\nto = [\"complainant\"]\ntext = {{ en = \"{want}\" }}");
        assert!(rules.contains(&line), "{moment}: {rules}");
    }
}

/// Review item 9, persisted: a text written with its outbox entry survives a reopen of a
/// FileStore, from the log and from a snapshot, and still describes its moment after the
/// complaint moved on.
#[test]
fn a_text_survives_a_file_store_reopen() {
    use plaint::file::{FileStore, Options, SimFs, Tear};
    let mut policy = testing::policy();
    policy.notifications = serde_json::from_value(serde_json::json!([
        { "on": "approval_requested", "to": ["approvers"],
          "text": { "en": "Approve {proposal} for {amount}?" } }
    ]))
    .unwrap();
    for checkpoint in [false, true] {
        let fs = SimFs::new();
        let open = |fs: &SimFs| {
            let options = Options::new().fs(Arc::new(fs.clone()));
            let store = FileStore::open("/complaints", options).unwrap().store;
            let notes = Arc::new(RecordingNotifier::new());
            let e = Engine::builder(store, policy.clone())
                .clock(ManualClock::new(testing::t(0)))
                .notifier(Arc::clone(&notes))
                .build();
            (e, notes)
        };
        let (e, _) = open(&fs);
        let id = testing::complaint_id();
        to_proposing(&e, &id, "major");
        let first = propose("a first offer", Some(cny(10_000)));
        e.execute(CommandId::new("o1").unwrap(), &id, first, &testing::agent())
            .unwrap();
        if checkpoint {
            e.store().checkpoint().unwrap();
        }
        drop(e);
        let (e, notes) = open(&fs.after_crash(Tear::Lose));
        let declined = Command::DeclineApproval {
            reason: "too little".into(),
        };
        e.execute(
            CommandId::new("d").unwrap(),
            &id,
            declined,
            &testing::manager(),
        )
        .unwrap();
        let second = propose("a second offer", Some(cny(20_000)));
        e.execute(
            CommandId::new("o2").unwrap(),
            &id,
            second,
            &testing::agent(),
        )
        .unwrap();
        e.relay().unwrap();
        let texts: Vec<String> = texts_of(&notes).into_values().collect();
        assert_eq!(
            texts,
            [
                "Approve a first offer for 100.00 CNY?",
                "Approve a second offer for 200.00 CNY?"
            ],
            "checkpoint: {checkpoint}"
        );
    }
}
