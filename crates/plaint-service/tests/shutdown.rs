//! Graceful shutdown: a command in flight when shutdown is asked for finishes and is
//! answered; no new connection is accepted after.
//!
//! The command is held inside the store's append (a gate the test opens), so the order of
//! events is forced, not timed; every wait is bounded by [`common::LIMIT`].

mod common;

use common::{AGENT, Http, LIMIT};
use plaint::{
    Append, CommandId, CommandRecord, Complaint, ComplaintId, FeedPage, ListQuery, MemoryStore,
    NotificationId, OutboxEntry, Page, Position, Recorded, Settlement, Store, StoreError,
    Timestamp,
};
use plaint_service::{Notifier, Service};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::{Notify, Semaphore};

/// A `MemoryStore` whose appends wait at a gate, saying when one arrives there.
struct Gated {
    inner: MemoryStore,
    arrived: Notify,
    gate: Semaphore,
}

impl Store for Gated {
    async fn append(&self, append: Append) -> Result<Arc<Complaint>, StoreError> {
        self.arrived.notify_one();
        let _pass = self.gate.acquire().await;
        self.inner.append(append).await
    }
    async fn load(&self, id: &ComplaintId) -> Result<Option<Arc<Complaint>>, StoreError> {
        self.inner.load(id).await
    }
    async fn history(&self, id: &ComplaintId) -> Result<Vec<Recorded>, StoreError> {
        self.inner.history(id).await
    }
    async fn command(&self, id: &CommandId) -> Result<Option<CommandRecord>, StoreError> {
        self.inner.command(id).await
    }
    async fn list(&self, q: &ListQuery) -> Result<Page, StoreError> {
        self.inner.list(q).await
    }
    async fn due(
        &self,
        upto: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, ComplaintId)>, StoreError> {
        self.inner.due(upto, limit).await
    }
    async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        self.inner.next_due().await
    }
    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease: plaint::chrono::Duration,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.inner.claim_outbox(now, lease, limit).await
    }
    async fn settle(&self, id: &NotificationId, outcome: Settlement) -> Result<(), StoreError> {
        self.inner.settle(id, outcome).await
    }
    async fn dead_letters(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.inner.dead_letters().await
    }
    async fn requeue(&self, id: &NotificationId, at: Timestamp) -> Result<bool, StoreError> {
        self.inner.requeue(id, at).await
    }
    async fn feed(&self, after: Position, limit: usize) -> Result<FeedPage, StoreError> {
        self.inner.feed(after, limit).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_command_in_flight() {
    let store = Arc::new(Gated {
        inner: MemoryStore::new(),
        arrived: Notify::new(),
        gate: Semaphore::new(0),
    });
    let policy =
        plaint::Policy::from_toml_str(include_str!("../../../examples/policies/express.toml"))
            .unwrap();
    let clock = plaint::ManualClock::new("2026-11-20T01:00:00Z".parse().unwrap());
    let engine = plaint::Engine::builder(Arc::clone(&store) as Arc<dyn plaint::DynStore>, policy)
        .notifier(Notifier(Arc::new(plaint::DiscardNotifier)))
        .clock(Arc::new(clock) as Arc<dyn plaint::Clock>)
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = Service::new(engine).serve(listener).unwrap();
    let addr = running.local_addr();

    let receive = json!({
        "command": "receive",
        "complainant": { "id": "cust-42", "name": "Li Si",
            "contacts": [{ "kind": "phone", "value": "13900001111" }] },
        "channel": "hotline",
        "received_at": "2026-11-20T00:55:00Z",
        "description": "Never arrived."
    });
    let in_flight =
        tokio::spawn(async move { Http::new(addr).command("req-1", AGENT, receive).await });
    tokio::time::timeout(LIMIT, store.arrived.notified())
        .await
        .expect("the command reaches the store");

    let shutdown = tokio::spawn(running.shutdown());
    // The server stops accepting at once, while the command still waits at the gate.
    tokio::time::timeout(LIMIT, async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the listener closes");
    assert!(
        !shutdown.is_finished(),
        "shutdown waits for the request in flight"
    );

    store.gate.add_permits(1);
    let (status, view) = tokio::time::timeout(LIMIT, in_flight)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, hyper::StatusCode::OK, "{view}");
    assert_eq!(view["complaint"]["stage"]["stage"], "received");
    tokio::time::timeout(LIMIT, shutdown)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let stored = store
        .inner
        .load(&ComplaintId::new("EXP-1").unwrap())
        .await
        .unwrap();
    assert!(stored.is_some(), "the acknowledged command is in the store");
}
