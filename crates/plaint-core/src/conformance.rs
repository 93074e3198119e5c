//! The store conformance suite: one set of checks every `Store` implementation must pass.
//!
//! A backend's tests call [`run_all`] with a function that makes a fresh, empty store, or
//! [`run_all_on`] with the executor its futures need (a PostgreSQL store's runtime):
//!
//! ```ignore
//! #[test]
//! fn conformance() {
//!     plaint_core::conformance::run_all(MyStore::default);
//! }
//! ```
//!
//! The checks are written as plain sync code over [`Waited`], which waits for each of the
//! store's futures on the executor; the racing checks call the store from several threads
//! at once, so a store's futures are driven from many threads as a runtime would.

use crate::blocking::{CurrentThread, Executor};
use crate::complaint::Complaint;
use crate::id::{CommandId, ComplaintId, DepartmentKey, TierKey};
use crate::lifecycle::{Command, Recorded, StageKind, decide};
use crate::model::{CategoryPath, Party, Responsibility, Validity};
use crate::notify::{NotificationId, OutboxEntry, Settlement};
use crate::store::{
    Append, CommandRecord, FeedEntry, FeedPage, ListQuery, OutboxStats, Page, Position, Store,
    StoreError,
};
use crate::testing;
use std::sync::Arc;

/// Runs every check, each on a fresh store from `make`, waiting on the calling thread
/// ([`CurrentThread`]): for stores whose futures need no runtime.
///
/// # Panics
/// On the first check the store fails, naming it.
pub fn run_all<S: Store>(make: impl Fn() -> S) {
    run_all_on(&CurrentThread, make);
}

/// Runs every check, each on a fresh store from `make`, waiting for the store's futures on
/// `executor`.
///
/// # Panics
/// On the first check the store fails, naming it.
pub fn run_all_on<S: Store, E: Executor>(executor: &E, make: impl Fn() -> S) {
    let fresh = || Waited {
        store: make(),
        on: executor,
    };
    empty_store_knows_nothing(&fresh());
    append_then_read_back(&fresh());
    wrong_version_conflicts_and_changes_nothing(&fresh());
    duplicate_command_is_refused_and_changes_nothing(&fresh());
    malformed_append_is_refused(&fresh());
    list_filters_and_pages(&fresh());
    list_filters_for_work_queues(&fresh());
    concurrent_appends_lose_nothing(&fresh());
    due_index_follows_appends(&fresh());
    outbox_follows_appends(&fresh());
    feed_numbers_every_event_in_commit_order(&fresh());
    feed_has_no_gaps_while_appends_race(&fresh());
    changes_and_outbox_stats_follow_what_falls_due(&fresh());
    erasure_reaches_state_and_history(&fresh());
    redaction_reaches_state_and_history(&fresh());
}

/// A store whose every call is waited for on an executor, so the checks read as sync code.
pub struct Waited<'e, S, E> {
    store: S,
    on: &'e E,
}

impl<S: Store, E: Executor> Waited<'_, S, E> {
    fn append(&self, append: Append) -> Result<Arc<Complaint>, StoreError> {
        self.on.block_on(self.store.append(append))
    }
    fn load(&self, id: &ComplaintId) -> Result<Option<Arc<Complaint>>, StoreError> {
        self.on.block_on(self.store.load(id))
    }
    fn history(&self, id: &ComplaintId) -> Result<Vec<Recorded>, StoreError> {
        self.on.block_on(self.store.history(id))
    }
    fn command(&self, id: &CommandId) -> Result<Option<CommandRecord>, StoreError> {
        self.on.block_on(self.store.command(id))
    }
    fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        self.on.block_on(self.store.list(query))
    }
    fn count(&self, query: &ListQuery) -> Result<u64, StoreError> {
        self.on.block_on(self.store.count(query))
    }
    fn due(
        &self,
        upto: crate::Timestamp,
        limit: usize,
    ) -> Result<Vec<(crate::Timestamp, ComplaintId)>, StoreError> {
        self.on.block_on(self.store.due(upto, limit))
    }
    fn next_due(&self) -> Result<Option<crate::Timestamp>, StoreError> {
        self.on.block_on(self.store.next_due())
    }
    fn claim_outbox(
        &self,
        now: crate::Timestamp,
        lease: chrono::Duration,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.on.block_on(self.store.claim_outbox(now, lease, limit))
    }
    fn settle(&self, id: &NotificationId, outcome: Settlement) -> Result<(), StoreError> {
        self.on.block_on(self.store.settle(id, outcome))
    }
    fn dead_letters(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.on.block_on(self.store.dead_letters())
    }
    fn requeue(&self, id: &NotificationId, at: crate::Timestamp) -> Result<bool, StoreError> {
        self.on.block_on(self.store.requeue(id, at))
    }
    fn feed(&self, after: Position, limit: usize) -> Result<FeedPage, StoreError> {
        self.on.block_on(self.store.feed(after, limit))
    }
    fn outbox_stats(&self) -> Result<Option<OutboxStats>, StoreError> {
        self.on.block_on(self.store.outbox_stats())
    }
}

fn cmd(s: &str) -> CommandId {
    CommandId::new(s).expect("valid")
}

fn cid(s: &str) -> ComplaintId {
    ComplaintId::new(s).expect("valid")
}

/// Decides `command` on the stored state of `id` and builds the append for it.
fn next_append<S: Store, E: Executor>(
    store: &Waited<'_, S, E>,
    id: &ComplaintId,
    command_id: &str,
    command: Command,
) -> Append {
    next_append_with(
        &testing::policy(),
        store,
        id,
        command_id,
        command,
        testing::t(1),
    )
}

/// The same, under `policy`, deciding at `now`.
fn next_append_with<S: Store, E: Executor>(
    policy: &crate::Policy,
    store: &Waited<'_, S, E>,
    id: &ComplaintId,
    command_id: &str,
    command: Command,
    now: crate::Timestamp,
) -> Append {
    next_append_by(
        policy,
        store,
        id,
        command_id,
        command,
        now,
        &testing::agent(),
    )
}

/// The same, by `actor`.
fn next_append_by<S: Store, E: Executor>(
    policy: &crate::Policy,
    store: &Waited<'_, S, E>,
    id: &ComplaintId,
    command_id: &str,
    command: Command,
    now: crate::Timestamp,
    actor: &crate::Actor,
) -> Append {
    let state = store.load(id).expect("load");
    let events = decide(state.as_deref(), policy, command, actor, now)
        .expect("the suite's commands are legal");
    let expected = state.as_ref().map_or(0, |c| c.version);
    let recorded = Recorded::numbered(events, expected, now, actor, &cmd(command_id));
    Append::new(id.clone(), cmd(command_id), expected, recorded)
}

fn receive<S: Store, E: Executor>(store: &Waited<'_, S, E>, id: &ComplaintId, command_id: &str) {
    let c = Command::Receive(Arc::new(testing::intake(testing::t(0))));
    store
        .append(next_append(store, id, command_id, c))
        .expect("receive appends");
}

fn triage<S: Store, E: Executor>(
    store: &Waited<'_, S, E>,
    id: &ComplaintId,
    command_id: &str,
    tier: &str,
) {
    let c = Command::Triage {
        category: CategoryPath::parse("logistics/delay").expect("valid"),
        tier: Some(TierKey::new(tier).expect("valid")),
        validity: Validity::Valid,
    };
    store
        .append(next_append(store, id, command_id, c))
        .expect("triage appends");
}

fn route<S: Store, E: Executor>(
    store: &Waited<'_, S, E>,
    id: &ComplaintId,
    command_id: &str,
    dept: &str,
) {
    let c = Command::Route {
        responsibility: Some(Responsibility {
            primary: DepartmentKey::new(dept).expect("valid"),
            collaborating: vec![],
            party: Party::Internal {
                unit: "outlet-1".into(),
            },
        }),
    };
    store
        .append(next_append(store, id, command_id, c))
        .expect("route appends");
}

/// A new store has no complaints, no history and no commands.
fn empty_store_knows_nothing<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    let id = cid("C-1");
    assert!(
        store.load(&id).expect("load").is_none(),
        "load of a missing complaint"
    );
    assert!(
        store.history(&id).expect("history").is_empty(),
        "history of a missing complaint"
    );
    assert!(
        store.command(&cmd("x")).expect("command").is_none(),
        "unknown command"
    );
    assert!(
        store
            .list(&ListQuery::new())
            .expect("list")
            .items
            .is_empty(),
        "empty list"
    );
}

/// What was appended reads back: state, history in order, and the command record; the
/// state `append` returns is the stored one; a state held by a reader is never changed.
fn append_then_read_back<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    let id = cid("C-1");
    receive(store, &id, "c1");
    let held = store.load(&id).expect("load").expect("exists");
    let held_before = (*held).clone();
    let c = Command::Triage {
        category: CategoryPath::parse("logistics/delay").expect("valid"),
        tier: Some(TierKey::new("major").expect("valid")),
        validity: Validity::Valid,
    };
    let returned = store
        .append(next_append(store, &id, "c2", c))
        .expect("triage appends");
    assert_eq!(
        *held, held_before,
        "a state a reader holds must not change under it"
    );
    let state = store.load(&id).expect("load").expect("exists");
    assert_eq!(returned, state, "append returns the stored state");
    assert_eq!(state.version, 2);
    assert_eq!(state.stage.kind(), StageKind::Triaged);
    let history = store.history(&id).expect("history");
    assert_eq!(
        history.iter().map(|r| r.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        Complaint::replay(id.clone(), &history).as_ref(),
        Some(&*state),
        "state must equal the fold of the history"
    );
    assert_eq!(
        store.command(&cmd("c2")).expect("command"),
        Some(CommandRecord {
            complaint: id,
            version: 2
        })
    );
}

/// An append at the wrong version is a `Conflict` naming the actual version, and writes nothing.
fn wrong_version_conflicts_and_changes_nothing<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    let id = cid("C-1");
    receive(store, &id, "c1");
    let stale = next_append(store, &id, "c2", Command::Acknowledge);
    triage(store, &id, "c3", "general");
    match store.append(stale) {
        Err(StoreError::Conflict { expected, actual }) => assert_eq!((expected, actual), (1, 2)),
        other => panic!("a stale append must conflict, got {other:?}"),
    }
    assert_eq!(
        store.history(&id).expect("history").len(),
        2,
        "nothing appended"
    );
    assert!(
        store.command(&cmd("c2")).expect("command").is_none(),
        "no command recorded"
    );
    // Receiving an existing complaint again (expected version 0) conflicts too.
    let again = Command::Receive(Arc::new(testing::intake(testing::t(0))));
    let mut append = next_append(store, &cid("C-2"), "c4", again);
    append.complaint = id.clone();
    assert!(matches!(
        store.append(append),
        Err(StoreError::Conflict {
            expected: 0,
            actual: 2
        })
    ));
}

/// A command id is recorded once: reusing it is `DuplicateCommand`, and writes nothing.
fn duplicate_command_is_refused_and_changes_nothing<S: Store, E: Executor>(
    store: &Waited<'_, S, E>,
) {
    let id = cid("C-1");
    receive(store, &id, "c1");
    let reuse = next_append(store, &id, "c1", Command::Acknowledge);
    assert!(matches!(
        store.append(reuse),
        Err(StoreError::DuplicateCommand(_))
    ));
    let other = cid("C-2");
    let reuse = next_append(
        store,
        &other,
        "c1",
        Command::Receive(Arc::new(testing::intake(testing::t(0)))),
    );
    assert!(matches!(
        store.append(reuse),
        Err(StoreError::DuplicateCommand(_))
    ));
    assert_eq!(store.history(&id).expect("history").len(), 1);
    assert!(store.load(&other).expect("load").is_none());
}

/// A self-inconsistent append is refused before anything is written.
fn malformed_append_is_refused<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    let id = cid("C-1");
    let mut append = next_append(
        store,
        &id,
        "c1",
        Command::Receive(Arc::new(testing::intake(testing::t(0)))),
    );
    append.events[0].version = 5;
    assert!(matches!(
        store.append(append),
        Err(StoreError::Malformed(_))
    ));
    assert!(store.load(&id).expect("load").is_none());
    assert!(store.command(&cmd("c1")).expect("command").is_none());
}

/// `list` filters by stage, tier and department, in id order, and pages without gaps.
fn list_filters_and_pages<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    for i in 0..25 {
        let id = cid(&format!("C-{i:03}"));
        receive(store, &id, &format!("r{i}"));
        if i % 2 == 0 {
            triage(
                store,
                &id,
                &format!("t{i}"),
                if i % 4 == 0 { "major" } else { "general" },
            );
        }
        if i % 4 == 0 {
            route(
                store,
                &id,
                &format!("o{i}"),
                if i % 8 == 0 { "hub" } else { "outlet" },
            );
        }
    }
    let ids = |q: &ListQuery| -> Vec<String> {
        let mut all = Vec::new();
        let mut q = q.clone();
        loop {
            let page = store.list(&q).expect("list");
            assert!(page.items.len() <= q.limit, "page larger than its limit");
            all.extend(page.items.iter().map(|c| c.id.to_string()));
            match page.next {
                Some(next) => q = q.after(next),
                None => return all,
            }
        }
    };
    let everything = ids(&ListQuery::new().limit(7));
    assert_eq!(
        everything.len(),
        25,
        "paging must visit every complaint once"
    );
    let mut sorted = everything.clone();
    sorted.sort();
    assert_eq!(everything, sorted, "list is in id order");
    assert_eq!(ids(&ListQuery::new().stage(StageKind::Received)).len(), 12);
    assert_eq!(ids(&ListQuery::new().stage(StageKind::Triaged)).len(), 6);
    assert_eq!(
        ids(&ListQuery::new().stage(StageKind::Investigating)).len(),
        7
    );
    assert_eq!(
        ids(&ListQuery::new().tier(TierKey::new("major").expect("valid"))).len(),
        7
    );
    let hub = ListQuery::new().department(DepartmentKey::new("hub").expect("valid"));
    assert_eq!(ids(&hub), ["C-000", "C-008", "C-016", "C-024"]);
    let major_outlet = ListQuery::new()
        .tier(TierKey::new("major").expect("valid"))
        .department(DepartmentKey::new("outlet").expect("valid"))
        .limit(1);
    assert_eq!(ids(&major_outlet), ["C-004", "C-012", "C-020"]);
}

/// The filters a work queue needs — complainant, received range, due before, responsible
/// department (primary or collaborating), open breach — list and count alike; `count`
/// ignores paging.
fn list_filters_for_work_queues<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    let policy = testing::sla_policy();
    let at = testing::t;
    let step = |id: &str, n: &str, command: Command, now: crate::Timestamp| {
        let append = next_append_with(&policy, store, &cid(id), n, command, now);
        store.append(append).expect("the suite's commands append");
    };
    let receive = |id: &str, who: &str, hour: i64| {
        let mut intake = testing::intake(at(hour));
        intake.complainant.id = crate::ActorId::new(who).expect("valid");
        step(
            id,
            &format!("{id}-r"),
            Command::Receive(Arc::new(intake)),
            at(hour),
        );
    };
    let handle = |id: &str, primary: &str, collaborating: &[&str], hour: i64| {
        step(id, &format!("{id}-a"), Command::Acknowledge, at(hour));
        let triage = Command::Triage {
            category: CategoryPath::parse("logistics/delay").expect("valid"),
            tier: Some(TierKey::new("general").expect("valid")),
            validity: Validity::Valid,
        };
        step(id, &format!("{id}-t"), triage, at(hour));
        let route = Command::Route {
            responsibility: Some(Responsibility {
                primary: DepartmentKey::new(primary).expect("valid"),
                collaborating: collaborating
                    .iter()
                    .map(|d| DepartmentKey::new(*d).expect("valid"))
                    .collect(),
                party: Party::Internal {
                    unit: "hub-3".into(),
                },
            }),
        };
        step(id, &format!("{id}-o"), route, at(hour));
    };
    // W-0: cust-a, arrived at t(0), not acknowledged: its acknowledgement falls due by t(1).
    receive("W-0", "cust-a", 0);
    // W-1: cust-b, arrived at t(2), acknowledged: no clock runs.
    receive("W-1", "cust-b", 2);
    step("W-1", "W-1-a", Command::Acknowledge, at(2));
    // W-2: cust-a, arrived at t(4), never acknowledged, and the tick at t(10) breached it.
    receive("W-2", "cust-a", 4);
    let tick = next_append_by(
        &policy,
        store,
        &cid("W-2"),
        "W-2-tick",
        Command::Tick { upto: at(10) },
        at(10),
        &crate::Actor::system(),
    );
    store.append(tick).expect("the tick appends");
    // W-3: cust-b, arrived at t(0), routed to hub with outlet collaborating: resolving.
    receive("W-3", "cust-b", 0);
    handle("W-3", "hub", &["outlet"], 0);
    // W-4: cust-c, arrived at t(6), routed to outlet.
    receive("W-4", "cust-c", 6);
    handle("W-4", "outlet", &[], 6);

    let check = |q: ListQuery, want: &[&str]| {
        let mut all = Vec::new();
        let mut page_q = q.clone().limit(1);
        loop {
            let page = store.list(&page_q).expect("list");
            all.extend(page.items.iter().map(|c| c.id.to_string()));
            match page.next {
                Some(next) => page_q = page_q.after(next),
                None => break,
            }
        }
        assert_eq!(all, want, "list of {q:?}");
        assert_eq!(
            store.count(&q).expect("count"),
            want.len() as u64,
            "count of {q:?}"
        );
        // Paging does not change a count.
        let paged = q.clone().limit(1).after(cid("W-0"));
        assert_eq!(
            store.count(&paged).expect("count"),
            want.len() as u64,
            "count of {paged:?}"
        );
    };
    let who = |s: &str| crate::ActorId::new(s).expect("valid");
    let dept = |s: &str| DepartmentKey::new(s).expect("valid");
    check(ListQuery::new(), &["W-0", "W-1", "W-2", "W-3", "W-4"]);
    check(ListQuery::new().complainant(who("cust-a")), &["W-0", "W-2"]);
    check(ListQuery::new().complainant(who("cust-b")), &["W-1", "W-3"]);
    check(ListQuery::new().complainant(who("nobody")), &[]);
    check(
        ListQuery::new().received(at(0), at(4)),
        &["W-0", "W-1", "W-3"],
    );
    check(
        ListQuery::new().received(at(2), at(7)),
        &["W-1", "W-2", "W-4"],
    );
    check(ListQuery::new().received(at(4), at(4)), &[]);
    check(ListQuery::new().due_before(at(3)), &["W-0"]);
    check(ListQuery::new().due_before(at(6)), &["W-0", "W-2"]);
    check(ListQuery::new().due_before(at(0)), &[]);
    check(ListQuery::new().breached(true), &["W-2"]);
    check(
        ListQuery::new().breached(false),
        &["W-0", "W-1", "W-3", "W-4"],
    );
    check(
        ListQuery::new().responsible(dept("outlet")),
        &["W-3", "W-4"],
    );
    check(ListQuery::new().responsible(dept("hub")), &["W-3"]);
    check(ListQuery::new().department(dept("outlet")), &["W-4"]);
    check(
        ListQuery::new()
            .responsible(dept("outlet"))
            .stage(StageKind::Investigating)
            .received(at(5), at(7)),
        &["W-4"],
    );
    check(
        ListQuery::new()
            .complainant(who("cust-b"))
            .breached(false)
            .stage(StageKind::Received),
        &["W-1"],
    );
}

/// Appends from several threads, racing on one complaint and each on its own: every append
/// that succeeded is in the history exactly once, and versions have no gaps.
fn concurrent_appends_lose_nothing<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    let shared = cid("SHARED");
    receive(store, &shared, "shared-0");
    let won: u64 = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let shared = &shared;
                scope.spawn(move || {
                    let own = cid(&format!("OWN-{t}"));
                    receive(store, &own, &format!("own-{t}"));
                    let mut won = 0;
                    for i in 0..50 {
                        let a = next_append(
                            store,
                            shared,
                            &format!("s-{t}-{i}"),
                            evidence(&format!("{t}-{i}")),
                        );
                        match store.append(a) {
                            Ok(_) => won += 1,
                            Err(StoreError::Conflict { .. }) => {}
                            Err(e) => panic!("unexpected store error: {e}"),
                        }
                    }
                    won
                })
            })
            .collect();
        threads.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    let history = store.history(&shared).expect("history");
    assert_eq!(
        history.len() as u64,
        1 + won,
        "every successful append is kept"
    );
    for (i, r) in history.iter().enumerate() {
        assert_eq!(r.version, i as u64 + 1, "versions have no gaps");
    }
    let state = store.load(&shared).expect("load").expect("exists");
    assert_eq!(state.evidence.len() as u64, won);
    for t in 0..4 {
        assert!(
            store
                .load(&cid(&format!("OWN-{t}")))
                .expect("load")
                .is_some()
        );
    }
}

/// The due-timer index follows every append: it lists complaints whose next clock item is
/// due by `upto`, earliest first, at most `limit`, and drops a complaint once nothing is due.
fn due_index_follows_appends<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    assert_eq!(
        store.next_due().expect("next_due"),
        None,
        "an empty store has nothing due"
    );
    let policy = testing::sla_policy();
    // Received at t(1), t(2), t(3): each acknowledgement clock warns 30 minutes later.
    for (i, hour) in [(0, 3), (1, 1), (2, 2)] {
        let id = cid(&format!("D-{i}"));
        let receive = Command::Receive(Arc::new(testing::intake(testing::t(0))));
        let append = next_append_with(
            &policy,
            store,
            &id,
            &format!("d{i}"),
            receive,
            testing::t(hour),
        );
        store.append(append).expect("receive appends");
    }
    let warn = |hour: i64| testing::t(hour) + chrono::Duration::minutes(30);
    let all = store.due(testing::t(10), 10).expect("due");
    assert_eq!(
        all,
        [
            (warn(1), cid("D-1")),
            (warn(2), cid("D-2")),
            (warn(3), cid("D-0"))
        ],
        "earliest first"
    );
    assert_eq!(
        store.due(testing::t(10), 2).expect("due").len(),
        2,
        "at most `limit`"
    );
    assert_eq!(
        store.due(warn(2), 10).expect("due").len(),
        2,
        "only what is due by `upto`"
    );
    assert_eq!(store.next_due().expect("next_due"), Some(warn(1)));
    // Acknowledging D-1 stops its clock: it leaves the index.
    let ack = next_append_with(
        &policy,
        store,
        &cid("D-1"),
        "d-ack",
        Command::Acknowledge,
        testing::t(1),
    );
    store.append(ack).expect("acknowledge appends");
    let ids: Vec<String> = store
        .due(testing::t(10), 10)
        .expect("due")
        .into_iter()
        .map(|(_, id)| id.to_string())
        .collect();
    assert_eq!(ids, ["D-2", "D-0"]);
    assert_eq!(store.next_due().expect("next_due"), Some(warn(2)));
}

/// The outbox is written with the events or not at all, claimed under a lease, and settled
/// as delivered, retried or dead; dead letters can be requeued.
fn outbox_follows_appends<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    let id = cid("O-1");
    let note = |version| acknowledged_sms(&id, version);
    let receive = Command::Receive(Arc::new(testing::intake(testing::t(0))));
    let append = next_append(store, &id, "o1", receive).with_outbox(vec![note(1)]);
    store.append(append).expect("appends");
    // A conflicting append writes no outbox entry.
    let stale = next_append(store, &cid("O-1"), "o2", Command::Acknowledge);
    let stale = Append::new(id.clone(), cmd("o2"), 0, stale.events).with_outbox(vec![note(2)]);
    assert!(store.append(stale).is_err());
    let lease = chrono::Duration::minutes(5);
    let now = testing::t(1);
    let claimed = store.claim_outbox(now, lease, 10).expect("claims");
    assert_eq!(claimed.len(), 1, "exactly the committed notification");
    assert_eq!(claimed[0].notification, note(1));
    assert!(
        store
            .claim_outbox(now, lease, 10)
            .expect("claims")
            .is_empty(),
        "leased"
    );
    let later = now + lease;
    assert_eq!(
        store.claim_outbox(later, lease, 10).expect("claims").len(),
        1,
        "lease ran out"
    );
    let retry_at = later + chrono::Duration::minutes(1);
    store
        .settle(
            &note(1).id,
            Settlement::Retry {
                next_attempt: retry_at,
                error: "timeout".into(),
            },
        )
        .expect("settles");
    assert!(
        store
            .claim_outbox(later, lease, 10)
            .expect("claims")
            .is_empty()
    );
    let again = store.claim_outbox(retry_at, lease, 10).expect("claims");
    assert_eq!((again.len(), again[0].attempts), (1, 1));
    store
        .settle(
            &note(1).id,
            Settlement::Dead {
                error: "gone".into(),
            },
        )
        .expect("settles");
    let dead = store.dead_letters().expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("gone"));
    assert!(
        store
            .claim_outbox(retry_at + lease * 10, lease, 10)
            .expect("claims")
            .is_empty()
    );
    assert!(store.requeue(&note(1).id, retry_at).expect("requeues"));
    assert!(store.dead_letters().expect("dead letters").is_empty());
    store
        .settle(&note(1).id, Settlement::Delivered)
        .expect("settles");
    assert!(
        store
            .claim_outbox(retry_at + lease * 10, lease, 10)
            .expect("claims")
            .is_empty()
    );
    // Settling what is gone does nothing.
    store
        .settle(&note(1).id, Settlement::Delivered)
        .expect("settles");
}

/// An "acknowledged" SMS to the complainant of `id`, as if caused by its event `version`.
fn acknowledged_sms(id: &ComplaintId, version: u64) -> crate::Notification {
    use crate::notify::{Channel, Notification, NotificationKind, Recipient};
    Notification {
        id: NotificationId {
            complaint: id.clone(),
            version,
            kind: NotificationKind::Acknowledged,
            recipient: Recipient::Complainant,
            channel: Channel::Sms,
        },
        complaint: id.clone(),
        recipient: Recipient::Complainant,
        kind: NotificationKind::Acknowledged,
        channel: Channel::Sms,
        text: None,
    }
}

/// A store's change signal ([`Store::changes`]), if it has one, is raised by every change to
/// what falls due — an append that moves a next due instant, outbox entries written, a
/// retry, a requeued dead letter — so a runner waiting on it never sleeps past new work; and
/// its outbox stats ([`Store::outbox_stats`]), if it gives them, count the pending entries
/// and the dead letters and name the earliest next attempt.
fn changes_and_outbox_stats_follow_what_falls_due<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    let seen = || store.store.changes().map(|c| c.seen());
    let assert_raised = |before: Option<u64>, what: &str| {
        if let (Some(before), Some(after)) = (before, seen()) {
            assert!(after > before, "{what} raises the change signal");
        }
    };
    let assert_stats = |pending, dead, next_attempt, what: &str| {
        if let Some(stats) = store.outbox_stats().expect("outbox stats") {
            assert_eq!(
                stats,
                OutboxStats::new(pending, dead, next_attempt),
                "outbox stats {what}"
            );
        }
    };
    assert_stats(0, 0, None, "of an empty store");

    // Received under a policy with clocks: its acknowledgement clock makes it due.
    let id = cid("S-1");
    let receive = || Command::Receive(Arc::new(testing::intake(testing::t(0))));
    let before = seen();
    let append = next_append_with(
        &testing::sla_policy(),
        store,
        &id,
        "s1",
        receive(),
        testing::t(0),
    );
    store.append(append).expect("appends");
    assert_raised(before, "an append that makes a complaint due");

    // Received with a notification, under a policy without clocks.
    let other = cid("S-2");
    let before = seen();
    let append =
        next_append(store, &other, "s2", receive()).with_outbox(vec![acknowledged_sms(&other, 1)]);
    store.append(append).expect("appends");
    assert_raised(before, "an append that writes to the outbox");
    assert_stats(1, 0, Some(testing::t(1)), "after an append");

    let lease = chrono::Duration::minutes(5);
    let note = acknowledged_sms(&other, 1).id;
    assert_eq!(
        store
            .claim_outbox(testing::t(1), lease, 10)
            .expect("claims")
            .len(),
        1
    );
    assert_stats(1, 0, Some(testing::t(1) + lease), "after a claim");
    let retry_at = testing::t(2);
    let before = seen();
    let retry = Settlement::Retry {
        next_attempt: retry_at,
        error: "timeout".into(),
    };
    store.settle(&note, retry).expect("settles");
    assert_raised(before, "a retry");
    assert_stats(1, 0, Some(retry_at), "after a retry");

    assert_eq!(
        store
            .claim_outbox(retry_at, lease, 10)
            .expect("claims")
            .len(),
        1
    );
    let dead = Settlement::Dead {
        error: "gone".into(),
    };
    store.settle(&note, dead).expect("settles");
    assert_stats(0, 1, None, "after a dead letter");
    let before = seen();
    assert!(store.requeue(&note, testing::t(3)).expect("requeues"));
    assert_raised(before, "a requeue");
    assert_stats(1, 0, Some(testing::t(3)), "after a requeue");
}

fn evidence(n: &str) -> Command {
    Command::AddEvidence(crate::model::Evidence {
        kind: crate::model::EvidenceKind::Photo,
        reference: format!("photo-{n}").into(),
        content_hash: None,
    })
}

/// Reads the whole feed after `after`, `page` events at a time, checking each page is
/// consecutive and says where to resume.
fn read_feed<S: Store, E: Executor>(
    store: &Waited<'_, S, E>,
    after: Position,
    page: usize,
) -> Vec<FeedEntry> {
    let mut all = Vec::new();
    let mut next = after;
    loop {
        let got = store.feed(next, page).expect("feed");
        assert!(got.entries.len() <= page, "a page holds at most its limit");
        if got.entries.is_empty() {
            assert_eq!(got.next, next, "an empty page resumes where it was asked");
            return all;
        }
        for e in &got.entries {
            assert_eq!(
                e.position.get(),
                next.get() + 1,
                "positions follow each other"
            );
            next = e.position;
        }
        assert_eq!(got.next, next, "a page resumes after its last entry");
        all.extend(got.entries);
    }
}

/// The feed holds every event of every complaint once, numbered 1, 2, 3, … in the order the
/// appends committed, as `history` gives each; read in pages of any size it is the same as
/// read at once; past the end it is empty.
fn feed_numbers_every_event_in_commit_order<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    let empty = store.feed(Position::START, 10).expect("feed");
    assert_eq!(empty, FeedPage::default(), "an empty store's feed is empty");
    let (a, b) = (cid("FEED-A"), cid("FEED-B"));
    // What each append added, in commit order.
    let mut expected: Vec<(ComplaintId, Recorded)> = Vec::new();
    // The most events one append recorded: one with several must number them all.
    let mut widest = 0;
    let mut step = |id: &ComplaintId, append: Append| {
        let before = store.history(id).expect("history").len();
        store.append(append).expect("appends");
        let history = store.history(id).expect("history");
        assert!(history.len() > before);
        widest = widest.max(history.len() - before);
        expected.extend(history[before..].iter().map(|r| (id.clone(), r.clone())));
    };
    let receive_cmd = || Command::Receive(Arc::new(testing::intake(testing::t(0))));
    step(&a, next_append(store, &a, "fa-1", receive_cmd()));
    step(&b, next_append(store, &b, "fb-1", receive_cmd()));
    step(&a, next_append(store, &a, "fa-2", evidence("a2")));
    let triage = Command::Triage {
        category: CategoryPath::parse("logistics/delay").expect("valid"),
        tier: Some(TierKey::new("major").expect("valid")),
        validity: Validity::Valid,
    };
    step(&b, next_append(store, &b, "fb-2", triage));
    let route = Command::Route {
        responsibility: Some(Responsibility {
            primary: DepartmentKey::new("hub").expect("valid"),
            collaborating: vec![],
            party: Party::Internal {
                unit: "hub-3".into(),
            },
        }),
    };
    step(&b, next_append(store, &b, "fb-route", route));
    step(&a, next_append(store, &a, "fa-3", evidence("a3")));
    // One command's several events (a store knows no rules: two pieces of evidence decided
    // on the same state make one append).
    let state = store.load(&a).expect("load").expect("exists");
    let (policy, agent) = (testing::policy(), testing::agent());
    let mut events = Vec::new();
    for n in ["a4", "a5"] {
        events.extend(
            decide(Some(&state), &policy, evidence(n), &agent, testing::t(1)).expect("legal"),
        );
    }
    let recorded = Recorded::numbered(events, state.version, testing::t(1), &agent, &cmd("fa-4"));
    step(
        &a,
        Append::new(a.clone(), cmd("fa-4"), state.version, recorded),
    );
    // A refused append takes no position.
    let stale = next_append(store, &b, "fb-stale", evidence("stale"));
    step(&b, next_append(store, &b, "fb-3", evidence("b3")));
    assert!(store.append(stale).is_err());
    assert!(widest > 1, "the check needs an append of several events");

    let all = store
        .feed(Position::START, FeedPage::MAX_LIMIT)
        .expect("feed");
    let positions: Vec<u64> = all.entries.iter().map(|e| e.position.get()).collect();
    assert_eq!(
        positions,
        (1..=expected.len() as u64).collect::<Vec<_>>(),
        "every event has a position, 1, 2, 3, … with no gap"
    );
    let got: Vec<(ComplaintId, Recorded)> = all
        .entries
        .iter()
        .map(|e| (e.complaint.clone(), e.recorded.clone()))
        .collect();
    assert_eq!(got, expected, "the feed is the events in commit order");
    assert_eq!(all.next, Position(expected.len() as u64));
    for size in [1, 2, 3] {
        assert_eq!(
            read_feed(store, Position::START, size),
            all.entries,
            "read {size} at a time, the feed is the same"
        );
    }
    let from = Position(3);
    assert_eq!(
        read_feed(store, from, 2),
        all.entries[3..],
        "reading resumes after the position given"
    );
    let past = Position(expected.len() as u64 + 5);
    assert_eq!(store.feed(past, 10).expect("feed").entries, []);
    let none = store.feed(Position::START, 0).expect("feed");
    assert!(none.entries.is_empty() && none.next == Position::START);
}

/// While threads append to their own complaints and race on a shared one, a reader polling
/// the feed sees positions one after another with no gap and each complaint's events in
/// version order — never position n + 1 before n — and, once they stop, every event.
fn feed_has_no_gaps_while_appends_race<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    let shared = cid("FEED-SHARED");
    receive(store, &shared, "feed-shared-0");
    let done = std::sync::atomic::AtomicBool::new(false);
    let seen = std::thread::scope(|scope| {
        let reader = {
            let done = &done;
            scope.spawn(move || {
                let mut seen: Vec<FeedEntry> = Vec::new();
                let mut versions: std::collections::HashMap<ComplaintId, u64> = Default::default();
                let mut next = Position::START;
                loop {
                    // Read the flag first: a read that starts after the writers stopped and
                    // finds nothing new has seen everything.
                    let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                    let page = store.feed(next, 7).expect("feed");
                    for e in &page.entries {
                        assert_eq!(
                            e.position.get(),
                            next.get() + 1,
                            "a reader sees position n + 1 only after n"
                        );
                        let v = versions.entry(e.complaint.clone()).or_insert(0);
                        assert_eq!(e.recorded.version, *v + 1, "a complaint's events in order");
                        *v += 1;
                        next = e.position;
                    }
                    if page.entries.is_empty() && finished {
                        return seen;
                    }
                    seen.extend(page.entries);
                    std::thread::yield_now();
                }
            })
        };
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let shared = &shared;
                scope.spawn(move || {
                    let own = cid(&format!("FEED-OWN-{t}"));
                    receive(store, &own, &format!("feed-own-{t}"));
                    for i in 0..15 {
                        let a = next_append(
                            store,
                            &own,
                            &format!("fo-{t}-{i}"),
                            evidence(&format!("o{t}-{i}")),
                        );
                        store.append(a).expect("own complaint appends");
                        let a = next_append(
                            store,
                            shared,
                            &format!("fs-{t}-{i}"),
                            evidence(&format!("s{t}-{i}")),
                        );
                        match store.append(a) {
                            Ok(_) | Err(StoreError::Conflict { .. }) => {}
                            Err(e) => panic!("unexpected store error: {e}"),
                        }
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().expect("writer");
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        reader.join().expect("reader")
    });
    let mut ids = vec![shared];
    ids.extend((0..4).map(|t| cid(&format!("FEED-OWN-{t}"))));
    let mut total = 0;
    for id in &ids {
        let history = store.history(id).expect("history");
        total += history.len();
        let fed: Vec<Recorded> = seen
            .iter()
            .filter(|e| &e.complaint == id)
            .map(|e| e.recorded.clone())
            .collect();
        assert_eq!(fed, history, "the feed holds {id}'s every event");
    }
    assert_eq!(seen.len(), total, "and nothing else");
}

/// An append that erases a complaint's personal data leaves none in its state or its
/// history, keeps everything else (replay still gives the state), and leaves the
/// complainant's other complaints alone until they are erased too.
fn erasure_reaches_state_and_history<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    use crate::privacy::{ERASED, PersonalData, holds_personal};
    let (one, two) = (cid("C-1"), cid("C-2"));
    // Each with a notification not yet delivered, whose text quotes the complainant.
    for (id, command) in [(&one, "r1"), (&two, "r2")] {
        let mut note = acknowledged_sms(id, 1);
        note.text = Some("Dear Zhang San, we received your complaint.".into());
        let c = Command::Receive(Arc::new(testing::intake(testing::t(0))));
        let append = next_append(store, id, command, c).with_outbox(vec![note]);
        store.append(append).expect("receive appends");
    }
    triage(store, &one, "t1", "major");
    let before = store.load(&one).expect("load").expect("exists");
    assert!(
        holds_personal(&*before),
        "the sample intake holds personal data"
    );
    let erase = Command::ErasePersonalData {
        reason: "deletion request".into(),
    };
    let append = next_append_by(
        &testing::policy(),
        store,
        &one,
        "e1",
        erase,
        testing::t(2),
        &testing::privacy_officer(),
    );
    assert!(append.erases());
    let returned = store.append(append).expect("the erasure appends");
    let state = store.load(&one).expect("load").expect("exists");
    assert_eq!(returned, state, "the state returned is the state stored");
    assert_eq!(state.intake.complainant.name, ERASED);
    assert!(
        !holds_personal(&*state),
        "no personal field survives in the state"
    );
    assert_eq!(state.erased_at, Some(testing::t(2)));
    assert_eq!(state.tier, before.tier, "what is not personal stays");
    assert_eq!(state.intake.complainant.id, before.intake.complainant.id);
    let history = store.history(&one).expect("history");
    assert!(
        history.iter().all(|r| !holds_personal(r)),
        "no personal field survives in the history"
    );
    let last = history.last().expect("the erasure is recorded");
    assert_eq!(
        last.actor,
        testing::privacy_officer().id,
        "who erased is audited"
    );
    assert!(matches!(
        &last.event,
        crate::Event::PersonalDataErased { reason } if &**reason == "deletion request"
    ));
    assert_eq!(
        Complaint::replay(one.clone(), &history).as_ref(),
        Some(&*state),
        "the erased history replays to the erased state"
    );
    let lease = chrono::Duration::minutes(5);
    let texts: Vec<(ComplaintId, Option<crate::Text>)> = store
        .claim_outbox(testing::t(3), lease, 10)
        .expect("claims")
        .into_iter()
        .map(|e| (e.notification.complaint, e.notification.text))
        .collect();
    assert_eq!(texts.len(), 2, "both notifications are still to deliver");
    for (id, text) in texts {
        let erased = id == one;
        assert_eq!(
            text.as_deref() == Some(ERASED),
            erased,
            "the erased complaint's notification says nothing personal, the other's is whole"
        );
    }
    let other = store.load(&two).expect("load").expect("exists");
    assert!(holds_personal(&*other), "another complaint keeps its data");
    assert!(
        store
            .history(&two)
            .expect("history")
            .iter()
            .any(|r| !r.personal_values().iter().all(|v| v == ERASED)),
        "and its history"
    );
}

/// An append that redacts a staff text leaves it in neither the state nor the history,
/// audits the redaction, keeps every other field (replay still gives the state), and a
/// redaction naming a text the history does not have is refused and changes nothing.
fn redaction_reaches_state_and_history<S: Store, E: Executor>(store: &Waited<'_, S, E>) {
    use crate::privacy::REDACTED;
    const PHONE: &str = "13800138000";
    let id = cid("C-1");
    receive(store, &id, "r1");
    triage(store, &id, "t1", "major");
    route(store, &id, "o1", "hub");
    let findings = Command::RecordFindings {
        findings: crate::model::Findings {
            summary: format!("Mis-sorted at the hub; the customer is on {PHONE}").into(),
            records: vec!["waybill trace 7731".into()],
        },
        root_cause: None,
    };
    store
        .append(next_append(store, &id, "f1", findings))
        .expect("findings append");
    let before = store.load(&id).expect("load").expect("exists");
    let version = before.version;
    let holds_phone = |c: &Complaint, history: &[Recorded]| {
        serde_json::to_string(c).expect("json").contains(PHONE)
            || serde_json::to_string(history)
                .expect("json")
                .contains(PHONE)
    };
    assert!(holds_phone(&before, &store.history(&id).expect("history")));

    // A text the event does not have: refused, nothing changes.
    let wrong = Command::RedactText {
        version,
        field: "note".into(),
        reason: "quoted a phone number".into(),
    };
    let officer = testing::privacy_officer();
    let append = next_append_by(
        &testing::policy(),
        store,
        &id,
        "x0",
        wrong,
        testing::t(3),
        &officer,
    );
    assert!(matches!(
        store.append(append),
        Err(StoreError::Malformed(_))
    ));
    assert_eq!(store.load(&id).expect("load").as_deref(), Some(&*before));
    assert!(store.command(&cmd("x0")).expect("command").is_none());

    let redact = Command::RedactText {
        version,
        field: "summary".into(),
        reason: "quoted a phone number".into(),
    };
    let append = next_append_by(
        &testing::policy(),
        store,
        &id,
        "x1",
        redact,
        testing::t(3),
        &officer,
    );
    assert!(append.redacts());
    let returned = store.append(append).expect("the redaction appends");
    let state = store.load(&id).expect("load").expect("exists");
    assert_eq!(returned, state, "the state returned is the state stored");
    let history = store.history(&id).expect("history");
    assert!(
        !holds_phone(&state, &history),
        "the text is gone from state and history"
    );
    let findings = state.findings.as_ref().expect("findings stay");
    assert_eq!(&*findings.summary, REDACTED);
    assert_eq!(
        findings.records,
        vec![crate::Text::from("waybill trace 7731")]
    );
    assert_eq!(state.tier, before.tier, "what is not redacted stays");
    assert_eq!(state.version, version + 1);
    let last = history.last().expect("the redaction is recorded");
    assert_eq!(last.actor, officer.id, "who redacted is audited");
    assert!(matches!(
        &last.event,
        crate::Event::TextRedacted { version: v, field, reason }
            if *v == version && field == "summary" && &**reason == "quoted a phone number"
    ));
    assert_eq!(
        Complaint::replay(id.clone(), &history).as_ref(),
        Some(&*state),
        "the redacted history replays to the state"
    );
    let feed = store.feed(Position::START, 100).expect("feed").entries;
    assert_eq!(
        feed.len() as u64,
        state.version,
        "the feed still holds every event once"
    );
    let fed: Vec<&Recorded> = feed.iter().map(|e| &e.recorded).collect();
    assert!(
        !serde_json::to_string(&fed).expect("json").contains(PHONE),
        "nor does the feed give the text"
    );
}
