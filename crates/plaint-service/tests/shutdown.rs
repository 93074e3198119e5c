//! Graceful shutdown: a command in flight when shutdown is asked for finishes and is
//! answered; no new connection is accepted after.
//!
//! The command is held inside the store's append (a gate the test opens), so the order of
//! events is forced, not timed; every wait is bounded by [`common::LIMIT`].

mod common;

use common::{AGENT, Http, LIMIT};
use plaint::{Append, Complaint, ComplaintId, MemoryStore, Store, StoreError};
use plaint_core::testing::{Tap, Tapped};
use plaint_service::{Notifier, Service};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::{Notify, Semaphore};

/// Appends wait at a gate, saying when one arrives there.
struct Gate {
    arrived: Notify,
    gate: Semaphore,
}

impl Tap<MemoryStore> for Gate {
    async fn append(
        &self,
        inner: &MemoryStore,
        append: Append,
    ) -> Result<Arc<Complaint>, StoreError> {
        self.arrived.notify_one();
        let _pass = self.gate.acquire().await;
        inner.append(append).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_command_in_flight() {
    let store = Arc::new(Tapped::new(
        MemoryStore::new(),
        Gate {
            arrived: Notify::new(),
            gate: Semaphore::new(0),
        },
    ));
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
    tokio::time::timeout(LIMIT, store.tap.arrived.notified())
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

    store.tap.gate.add_permits(1);
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
