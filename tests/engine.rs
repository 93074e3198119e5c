//! The engine over MemoryStore: idempotency, conflicts, concurrency, queries, pinning, notices.

mod common;

use common::*;
use plaint::MemoryStore;
use plaint_core::blocking::Engine;
use plaint_core::blocking::Wait as _;
use plaint_core::testing;
use plaint_core::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

type TestEngine = Engine<Arc<MemoryStore>, Arc<RecordingNotifier>, Arc<ManualClock>>;

fn engine() -> (TestEngine, Arc<MemoryStore>, Arc<RecordingNotifier>) {
    let store = Arc::new(MemoryStore::new());
    let notifier = Arc::new(RecordingNotifier::new());
    let e = Engine::builder(Arc::clone(&store), testing::policy())
        .clock(Arc::new(ManualClock::new(testing::t(1))))
        .notifier(Arc::clone(&notifier))
        .build();
    (e, store, notifier)
}

fn cmd(s: &str) -> CommandId {
    CommandId::new(s).unwrap()
}

fn receive(e: &TestEngine, id: &ComplaintId, command: &str) -> Arc<Complaint> {
    e.execute(
        cmd(command),
        id,
        Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        &testing::agent(),
    )
    .unwrap()
}

#[test]
fn engine_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TestEngine>();
    assert_send_sync::<Engine<MemoryStore>>();
}

#[test]
fn a_retried_command_returns_the_first_result_and_appends_nothing() {
    let (e, _, notifier) = engine();
    let id = testing::complaint_id();
    let first = receive(&e, &id, "c1");
    e.execute(cmd("c2"), &id, Command::Acknowledge, &testing::agent())
        .unwrap();
    // The same request again: the first result, untouched by what came later.
    let again = receive(&e, &id, "c1");
    assert_eq!(again, first);
    assert_eq!(again.version, 1);
    assert_eq!(e.history(&id).unwrap().len(), 2);
    let latest = e
        .execute(cmd("c2"), &id, Command::Acknowledge, &testing::agent())
        .unwrap();
    assert_eq!(latest.version, 2);
    e.relay().unwrap();
    assert_eq!(
        notifier.delivered().len(),
        1,
        "a retry notifies nobody again"
    );
}

#[test]
fn a_retry_that_would_still_be_legal_is_not_applied_twice() {
    let (e, _, _) = engine();
    let id = testing::complaint_id();
    receive(&e, &id, "c1");
    let photo = || {
        Command::AddEvidence(Evidence {
            kind: EvidenceKind::Photo,
            reference: "photo-1".into(),
            content_hash: None,
        })
    };
    let first = e
        .execute(cmd("c2"), &id, photo(), &testing::customer())
        .unwrap();
    let retry = e
        .execute(cmd("c2"), &id, photo(), &testing::customer())
        .unwrap();
    assert_eq!(retry, first);
    assert_eq!(e.get(&id).unwrap().unwrap().evidence.len(), 1);
}

#[test]
fn a_command_id_cannot_be_reused_for_another_complaint() {
    let (e, _, _) = engine();
    receive(&e, &testing::complaint_id(), "c1");
    let other = ComplaintId::new("EXP-2").unwrap();
    let err = e
        .execute(
            cmd("c1"),
            &other,
            Command::Receive(Arc::new(testing::intake(testing::t(0)))),
            &testing::agent(),
        )
        .unwrap_err();
    assert!(matches!(err, EngineError::CommandIdReused { .. }), "{err}");
    assert!(e.get(&other).unwrap().is_none());
}

#[test]
fn a_command_id_replay_answers_only_the_same_request() {
    let (e, store, _) = engine();
    let id = testing::complaint_id();
    let first = receive(&e, &id, "c1");
    let history = store.history(&id).wait().unwrap();
    // Whoever else guesses the id gets a refusal of their own request, never the complaint.
    let mut clerk = testing::agent();
    clerk.kind = ActorKind::Staff {
        roles: vec![RoleKey::new("clerk").unwrap()],
        department: None,
    };
    for actor in [testing::stranger(), Actor::system(), clerk] {
        let answer = e.execute(cmd("c1"), &id, Command::Withdraw { reason: None }, &actor);
        let err = answer.expect_err("a replay for another actor is refused");
        assert!(matches!(err, EngineError::Rejected(_)), "{actor:?}: {err}");
    }
    // The same actor with another command under the same id: a typed error, nothing applied.
    let err = e
        .execute(cmd("c1"), &id, Command::Acknowledge, &testing::agent())
        .unwrap_err();
    assert!(matches!(err, EngineError::CommandIdReused { .. }), "{err}");
    assert!(!err.to_string().contains(id.as_str()), "{err}");
    // Another actor id under the same kind and roles is another request too.
    let err = e
        .execute(
            cmd("c1"),
            &id,
            Command::Acknowledge,
            &testing::other_agent(),
        )
        .unwrap_err();
    assert!(matches!(err, EngineError::CommandIdReused { .. }), "{err}");
    assert_eq!(store.history(&id).wait().unwrap(), history);
    // The very same request is still answered.
    let again = receive(&e, &id, "c1");
    assert_eq!(again, first);
}

#[test]
fn a_command_id_reused_on_another_complaint_does_not_name_it() {
    let (e, _, _) = engine();
    let id = testing::complaint_id();
    receive(&e, &id, "c1");
    let other = ComplaintId::new("EXP-2").unwrap();
    let err = e
        .execute(cmd("c1"), &other, Command::Acknowledge, &testing::agent())
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains(id.as_str()), "{err:?}");
}

#[test]
fn the_audit_trail_records_the_kind_and_roles_of_who_acted() {
    let (e, store, _) = engine();
    let id = testing::complaint_id();
    // A member of staff whose id happens to be the complainant's.
    let staff = Actor::staff(
        ActorId::new("cust-1").unwrap(),
        vec![RoleKey::new("agent").unwrap()],
        None,
    );
    e.execute(
        cmd("c1"),
        &id,
        Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        &staff,
    )
    .unwrap();
    e.execute(
        cmd("c2"),
        &id,
        Command::AddEvidence(Evidence {
            kind: EvidenceKind::Photo,
            reference: "photo-1".into(),
            content_hash: None,
        }),
        &testing::customer(),
    )
    .unwrap();
    let history = store.history(&id).wait().unwrap();
    assert_eq!(history[0].actor_kind.as_ref(), Some(&staff.kind));
    let last = history.last().unwrap();
    assert_eq!(last.actor, history[0].actor, "the same id ...");
    assert_eq!(
        last.actor_kind,
        Some(ActorKind::Complainant),
        "... but not the same person"
    );
}

#[test]
fn a_rejected_command_changes_nothing() {
    let (e, store, notifier) = engine();
    let id = testing::complaint_id();
    receive(&e, &id, "c1");
    let before = (
        store.load(&id).wait().unwrap(),
        store.history(&id).wait().unwrap(),
    );
    let err = e
        .execute(cmd("c2"), &id, Command::Close, &testing::agent())
        .unwrap_err();
    assert!(matches!(
        err,
        EngineError::Rejected(Rejection::IllegalTransition { .. })
    ));
    assert_eq!(
        (
            store.load(&id).wait().unwrap(),
            store.history(&id).wait().unwrap()
        ),
        before
    );
    assert!(
        store.command(&cmd("c2")).wait().unwrap().is_none(),
        "a rejection is not recorded"
    );
    assert!(notifier.delivered().is_empty());
    // Not recorded, so the same id can carry a legal command afterwards.
    e.execute(cmd("c2"), &id, Command::Acknowledge, &testing::agent())
        .unwrap();
}

#[test]
fn commands_on_a_missing_complaint_are_not_found() {
    let (e, _, _) = engine();
    let err = e
        .execute(
            cmd("c1"),
            &testing::complaint_id(),
            Command::Acknowledge,
            &testing::agent(),
        )
        .unwrap_err();
    assert!(matches!(err, EngineError::Rejected(Rejection::NotFound)));
}

/// Appends that let another writer slip in before the engine's first `n` appends.
struct Racing {
    races_left: std::sync::atomic::AtomicU32,
    racing: AtomicBool,
}

impl testing::Tap<MemoryStore> for Racing {
    async fn append(
        &self,
        inner: &MemoryStore,
        append: Append,
    ) -> Result<Arc<Complaint>, StoreError> {
        let left = self.races_left.load(Ordering::SeqCst);
        if left > 0 && !self.racing.swap(true, Ordering::SeqCst) {
            self.races_left.store(left - 1, Ordering::SeqCst);
            // Another clerk adds evidence first.
            let state = inner.load(&append.complaint).await?.expect("exists");
            let rival = CommandId::new(format!("rival-{left}")).unwrap();
            let evidence = Event::EvidenceAdded {
                evidence: Evidence {
                    kind: EvidenceKind::Receipt,
                    reference: format!("rival-{left}").into(),
                    content_hash: None,
                },
            };
            let events = Recorded::numbered(
                [evidence],
                state.version,
                testing::t(1),
                &testing::agent(),
                &rival,
            );
            let rival = Append::new(append.complaint.clone(), rival, state.version, events);
            inner.append(rival).await?;
            self.racing.store(false, Ordering::SeqCst);
        }
        inner.append(append).await
    }
}

fn racing_engine(
    races: u32,
    attempts: u32,
) -> Engine<Arc<testing::Tapped<MemoryStore, Racing>>, DiscardNotifier, ManualClock> {
    let store = Arc::new(testing::Tapped::new(
        MemoryStore::new(),
        Racing {
            races_left: 0.into(),
            racing: AtomicBool::new(false),
        },
    ));
    let e = Engine::builder(Arc::clone(&store), testing::policy())
        .clock(ManualClock::new(testing::t(1)))
        .max_attempts(attempts)
        .build();
    e.execute(
        cmd("c1"),
        &testing::complaint_id(),
        Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        &testing::agent(),
    )
    .unwrap();
    store.tap.races_left.store(races, Ordering::SeqCst);
    e
}

#[test]
fn a_lost_race_is_decided_again_on_the_fresh_state() {
    let e = racing_engine(2, 3);
    let id = testing::complaint_id();
    let c = e
        .execute(cmd("c2"), &id, Command::Acknowledge, &testing::agent())
        .unwrap();
    assert_eq!(c.version, 4, "two rival appends, then ours");
    assert_eq!(c.evidence.len(), 2, "the rivals' updates are kept");
    assert!(c.acknowledged_at.is_some());
}

#[test]
fn retries_are_bounded_then_conflict() {
    let e = racing_engine(5, 2);
    let id = testing::complaint_id();
    let err = e
        .execute(cmd("c2"), &id, Command::Acknowledge, &testing::agent())
        .unwrap_err();
    match err {
        EngineError::Rejected(Rejection::Conflict { expected, actual }) => {
            assert_eq!((expected, actual), (2, 3));
        }
        other => panic!("expected a conflict, got {other}"),
    }
    assert!(e.get(&id).unwrap().unwrap().acknowledged_at.is_none());
}

#[test]
fn threads_racing_on_one_complaint_lose_nothing() {
    let store = Arc::new(MemoryStore::new());
    let e = Arc::new(
        Engine::builder(Arc::clone(&store), testing::policy())
            .clock(ManualClock::new(testing::t(1)))
            .max_attempts(1000)
            .build(),
    );
    let id = testing::complaint_id();
    e.execute(
        cmd("c0"),
        &id,
        Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        &testing::agent(),
    )
    .unwrap();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let e = Arc::clone(&e);
            let id = id.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    let ev = Evidence {
                        kind: EvidenceKind::Photo,
                        reference: format!("p-{t}-{i}").into(),
                        content_hash: None,
                    };
                    e.execute(
                        cmd(&format!("e-{t}-{i}")),
                        &id,
                        Command::AddEvidence(ev),
                        &testing::customer(),
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let c = e.get(&id).unwrap().unwrap();
    assert_eq!(c.evidence.len(), 400);
    assert_eq!(c.version, 401);
    let mut refs: Vec<Text> = c.evidence.iter().map(|e| e.reference.clone()).collect();
    refs.sort();
    refs.dedup();
    assert_eq!(
        refs.len(),
        400,
        "each acknowledged command is applied exactly once"
    );
}

#[test]
fn history_is_the_audit_trail() {
    let (e, _, _) = engine();
    let id = testing::complaint_id();
    receive(&e, &id, "c1");
    e.execute(
        cmd("c2"),
        &id,
        Command::Triage {
            category: path("logistics/delay"),
            tier: None,
            validity: Validity::Valid,
        },
        &testing::agent(),
    )
    .unwrap();
    e.execute(
        cmd("c3"),
        &id,
        Command::ChangeTier {
            tier: tier("major"),
            reason: "regulator asked".into(),
        },
        &testing::manager(),
    )
    .unwrap();
    let h = e.history(&id).unwrap();
    let who: Vec<(&str, &str, u64)> = h
        .iter()
        .map(|r| (r.actor.as_str(), r.command.as_str(), r.version))
        .collect();
    assert_eq!(
        who,
        [
            ("agent-1", "c1", 1),
            ("agent-1", "c2", 2),
            ("manager-1", "c3", 3)
        ]
    );
    assert_eq!(
        h[2].event.to_string(),
        "tier changed general → major (regulator asked)"
    );
    assert!(
        h.iter().all(|r| r.at == testing::t(1)),
        "time comes from the engine's clock"
    );
    assert_eq!(
        Complaint::replay(id.clone(), &h).unwrap(),
        *e.get(&id).unwrap().unwrap()
    );
}

#[test]
fn lists_filter_and_page() {
    let (e, _, _) = engine();
    for i in 0..5 {
        let id = ComplaintId::new(format!("EXP-{i}")).unwrap();
        receive(&e, &id, &format!("r{i}"));
        if i >= 2 {
            e.execute(
                cmd(&format!("t{i}")),
                &id,
                Command::Triage {
                    category: path("logistics"),
                    tier: Some(tier(if i == 4 { "major" } else { "general" })),
                    validity: Validity::Valid,
                },
                &testing::agent(),
            )
            .unwrap();
        }
    }
    let page = e
        .list(&ListQuery::new().stage(StageKind::Triaged).limit(2))
        .unwrap();
    let ids: Vec<&str> = page.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["EXP-2", "EXP-3"]);
    let rest = e
        .list(
            &ListQuery::new()
                .stage(StageKind::Triaged)
                .limit(2)
                .after(page.next.unwrap()),
        )
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next.is_none());
    assert_eq!(
        e.list(&ListQuery::new().tier(tier("major")))
            .unwrap()
            .items
            .len(),
        1
    );
}

#[test]
fn complaints_stay_pinned_to_their_policy_version() {
    let store = Arc::new(MemoryStore::new());
    let v1 = testing::policy();
    let old = Engine::builder(Arc::clone(&store), v1.clone())
        .clock(ManualClock::new(testing::t(1)))
        .build();
    let id = testing::complaint_id();
    old.execute(
        cmd("c1"),
        &id,
        Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        &testing::agent(),
    )
    .unwrap();
    // Version 2 drops the `hotline` channel: new complaints may not use it, old ones keep v1.
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.channels.retain(|c| c.key.as_str() != "hotline");
    v2.roles.iter_mut().for_each(|r| {
        r.may.remove(&CommandKind::Acknowledge);
    });
    let new = Engine::builder(Arc::clone(&store), v2.clone())
        .also_policy(v1)
        .clock(ManualClock::new(testing::t(1)))
        .build();
    assert_eq!(new.current_policy().version, 2);
    let acked = new
        .execute(cmd("c2"), &id, Command::Acknowledge, &testing::agent())
        .unwrap();
    assert_eq!(acked.policy_version, 1, "v1 still lets agents acknowledge");
    let err = new
        .execute(
            cmd("c3"),
            &ComplaintId::new("EXP-2").unwrap(),
            Command::Receive(Arc::new(testing::intake(testing::t(0)))),
            &testing::agent(),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        EngineError::Rejected(Rejection::Invalid {
            field: "channel",
            ..
        })
    ));
    // An engine that does not hold v1 refuses to guess.
    let v2_only = Engine::builder(Arc::clone(&store), v2).build();
    let err = v2_only
        .execute(
            cmd("c4"),
            &id,
            Command::Withdraw { reason: None },
            &testing::agent(),
        )
        .unwrap_err();
    assert!(
        matches!(err, EngineError::UnknownPolicyVersion { version: 1, .. }),
        "{err}"
    );
}

#[test]
fn merging_needs_an_open_target() {
    let (e, _, _) = engine();
    let a = testing::complaint_id();
    let b = ComplaintId::new("EXP-2").unwrap();
    receive(&e, &a, "c1");
    let err = e
        .execute(
            cmd("c2"),
            &a,
            Command::Merge { into: b.clone() },
            &testing::agent(),
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "rejected: into: no such complaint");
    receive(&e, &b, "c3");
    let merged = e
        .execute(
            cmd("c4"),
            &a,
            Command::Merge { into: b.clone() },
            &testing::agent(),
        )
        .unwrap();
    assert_eq!(merged.stage, Stage::Merged { into: b.clone() });
    // Nothing merges into a finished complaint.
    let c = ComplaintId::new("EXP-3").unwrap();
    receive(&e, &c, "c5");
    let err = e
        .execute(cmd("c6"), &c, Command::Merge { into: a }, &testing::agent())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "rejected: into: the target complaint is already finished"
    );
}

#[test]
fn a_failing_notifier_never_fails_a_command_and_its_failures_become_dead_letters() {
    struct Failing;
    impl Notifier for Failing {
        async fn deliver(&self, _: &Notification) -> Result<(), NotifyError> {
            Err(NotifyError::Failed("sms gateway down".into()))
        }
    }
    let clock = Arc::new(ManualClock::new(testing::t(1)));
    let e = Engine::builder(MemoryStore::new(), testing::policy())
        .clock(Arc::clone(&clock))
        .notifier(Failing)
        .max_delivery_attempts(3)
        .build();
    let id = testing::complaint_id();
    e.execute(
        cmd("c1"),
        &id,
        Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        &testing::agent(),
    )
    .unwrap();
    let c = e
        .execute(cmd("c2"), &id, Command::Acknowledge, &testing::agent())
        .unwrap();
    assert!(
        c.acknowledged_at.is_some(),
        "a failed notification never fails the command"
    );
    // Three attempts, backing off in between, then a dead letter.
    let mut attempts = 0;
    for _ in 0..10 {
        let r = e.relay().unwrap();
        attempts += r.retrying + r.dead;
        clock.advance(chrono::Duration::hours(2));
    }
    assert_eq!(attempts, 3);
    let dead = e.dead_letters().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].notification.id.to_string(),
        "EXP-1/2/acknowledged/complainant/sms"
    );
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(
        dead[0].last_error.as_deref(),
        Some("delivery failed: sms gateway down")
    );
}

#[test]
fn complainant_data_never_reaches_debug_output() {
    let (e, _, _) = engine();
    let c = receive(&e, &testing::complaint_id(), "c1");
    let shown = format!("{c:?} {:?}", e.history(&testing::complaint_id()).unwrap());
    assert!(
        !shown.contains("13812345678") && !shown.contains("zhang.san@"),
        "{shown}"
    );
}

/// A complainant's command on someone else's complaint answers exactly as on a complaint that
/// does not exist: nothing tells them it is there.
#[test]
fn a_stranger_complainant_learns_nothing_of_a_complaint_that_exists() {
    let (e, _, _) = engine();
    let existing = ComplaintId::new("C-1").unwrap();
    receive(&e, &existing, "r1");
    let missing = ComplaintId::new("C-2").unwrap();
    let accept = || Command::AcceptProposal { agreement: None };
    let there = e
        .execute(cmd("s1"), &existing, accept(), &testing::stranger())
        .unwrap_err();
    let absent = e
        .execute(cmd("s2"), &missing, accept(), &testing::stranger())
        .unwrap_err();
    assert_eq!(there.to_string(), absent.to_string());
    assert_eq!((there.code(), absent.code()), ("not_found", "not_found"));
    assert_eq!(e.history(&existing).unwrap().len(), 1, "nothing changed");
}

#[test]
fn a_delivery_abandoned_mid_flight_is_taken_again_once_its_lease_runs_out() {
    /// A notifier whose delivery never finishes: the relay holding its claim is dropped.
    struct Hanging;
    impl Notifier for Hanging {
        async fn deliver(&self, _: &Notification) -> Result<(), NotifyError> {
            std::future::pending().await
        }
    }
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(testing::t(1)));
    let lease = chrono::Duration::seconds(90);
    let dying = plaint::Engine::builder(Arc::clone(&store), testing::policy())
        .clock(Arc::clone(&clock))
        .notifier(Hanging)
        .delivery_lease(lease)
        .build();
    let recorder = Arc::new(RecordingNotifier::new());
    let live = Engine::builder(Arc::clone(&store), testing::policy())
        .clock(Arc::clone(&clock))
        .notifier(Arc::clone(&recorder))
        .delivery_lease(lease)
        .build();
    let id = testing::complaint_id();
    let receive = Command::Receive(Arc::new(testing::intake(testing::t(0))));
    live.execute(cmd("c1"), &id, receive, &testing::agent())
        .unwrap();
    // The complainant is told of the acknowledgement.
    live.execute(cmd("c2"), &id, Command::Acknowledge, &testing::agent())
        .unwrap();
    // The dying instance claims the notification and hangs in delivery; it is dropped there.
    let mut relay = Box::pin(dying.relay());
    let waker = std::task::Waker::noop();
    let polled = relay
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker));
    assert!(polled.is_pending(), "the delivery hangs");
    drop(relay);
    assert_eq!(
        live.relay().unwrap().delivered,
        0,
        "claimed, within its lease"
    );
    clock.advance(lease - chrono::Duration::seconds(1));
    assert_eq!(live.relay().unwrap().delivered, 0, "still within its lease");
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        live.relay().unwrap().delivered,
        1,
        "taken again at the lease's end"
    );
    assert_eq!(recorder.delivered().len(), 1);
}
