//! The reference service over real HTTP: a complaint from receipt to close on a `FileStore`
//! in a temporary directory, with a manual clock, through a restart.
//!
//! Real time cannot be avoided here (a server task, a background task, sockets), so every
//! wait is bounded by [`LIMIT`] and none is a fixed sleep: a request waits for its answer,
//! and the wait for the runner to fire a deadline re-reads the history until the
//! breach is there (the runner works on its own task; the API is how a client sees its work).

mod common;

use common::{AGENT, FINANCE, Http, INVESTIGATOR, LI, LIMIT, MANAGER, Who};
use hyper::{Method, StatusCode};
use plaint::{Clock, ManualClock, Policy};
use plaint_service::{Running, Service, file_engine};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn policy() -> Policy {
    Policy::from_toml_str(include_str!("../../../examples/policies/express.toml")).unwrap()
}

async fn start(dir: &Path, clock: &Arc<ManualClock>) -> Running {
    let clock: Arc<dyn Clock> = Arc::clone(clock) as _;
    let engine = file_engine(dir, policy(), clock).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Service::new(engine).serve(listener).unwrap()
}

fn stage(view: &Value) -> &str {
    view["complaint"]["stage"]["stage"].as_str().unwrap()
}

fn breaches(history: &[Value], clock: &str) -> usize {
    history
        .iter()
        .filter(|r| {
            let text = r.to_string();
            text.contains("\"clock_breached\"") && text.contains(&format!("\"{clock}\""))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complaint_from_receipt_to_close_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new("2026-11-20T01:00:00Z".parse().unwrap()));
    let running = start(dir.path(), &clock).await;
    let http = Http::new(running.local_addr());

    assert_eq!(http.get("/healthz", Who::Nobody).await.1, json!("ok"));
    let (status, body) = http.get("/complaints/EXP-1", Who::Nobody).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthenticated");

    // Receipt.
    let receive = json!({
        "command": "receive",
        "complainant": { "id": "cust-42", "name": "Li Si",
            "contacts": [{ "kind": "phone", "value": "13900001111" }] },
        "channel": "hotline",
        "received_at": "2026-11-20T00:55:00Z",
        "subject": { "waybill": "YT9876543210" },
        "description": "Next-day delivery, four days late."
    });
    let view = http.ok("req-1", AGENT, receive.clone()).await;
    let view_after_receive = view.clone();
    assert_eq!(stage(&view), "received");
    assert_eq!(
        view["sight"]["contacts"], true,
        "an agent has contact access"
    );
    let phone = &view["complaint"]["intake"]["complainant"]["contacts"][0]["value"];
    assert_eq!(phone, "13900001111");

    // A retried request under the same key: the same answer, nothing appended twice.
    let recorded = http.history().await.len();
    let again = http.ok("req-1", AGENT, receive.clone()).await;
    assert_eq!(again, view);
    assert_eq!(http.history().await.len(), recorded);
    // The same key for another request is refused and changes nothing.
    let (status, body) = http
        .command("req-1", AGENT, json!({ "command": "acknowledge" }))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("command_id_reused"))
    );
    // A body that is no command, and an actor that cannot be believed, change nothing.
    let (status, body) = http
        .command("req-x", AGENT, json!({ "command": "teleport" }))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let (status, body) = http
        .command(
            "req-x",
            Who::Staff("agent wang", "agent"),
            json!({ "command": "acknowledge" }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    // No key at all is a bad request.
    let (status, body) = http
        .call(
            Method::POST,
            "/complaints/EXP-1/commands",
            AGENT,
            None,
            Some(json!({ "command": "acknowledge" })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    assert_eq!(http.history().await.len(), recorded);

    // Contacts are masked for staff without contact access; another complainant sees nothing.
    let (status, seen) = http.get("/complaints/EXP-1", INVESTIGATOR).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["sight"]["contacts"], false);
    let masked = seen["complaint"]["intake"]["complainant"]["contacts"][0]["value"]
        .as_str()
        .unwrap();
    assert!(masked != "13900001111" && masked.contains('*'), "{masked}");
    assert!(!seen.to_string().contains("13900001111"));
    let (status, body) = http
        .get("/complaints/EXP-1", Who::Customer("cust-99"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, body) = http
        .get("/complaints/EXP-1/history", Who::Customer("cust-99"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, own) = http.get("/complaints/EXP-1", LI).await;
    assert_eq!(
        (status, own["sight"]["contacts"].as_bool()),
        (StatusCode::OK, Some(true))
    );

    // The acknowledgement is due an hour after the report: two hours on, the runner fires
    // the breach while the service runs, with no request asking for it.
    clock.advance(plaint::chrono::Duration::hours(2));
    running.wake();
    tokio::time::timeout(LIMIT, async {
        while breaches(&http.history().await, "acknowledge") == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the runner fires the due breach");
    let (_, seen) = http.get("/complaints/EXP-1", AGENT).await;
    let clocks = seen["complaint"]["clocks"].as_array().unwrap();
    let ack = clocks.iter().find(|c| c["clock"] == "acknowledge").unwrap();
    assert_eq!(ack["breached"], true, "the view shows the breach: {ack}");
    let (_, list) = http.get("/complaints?breached=true", AGENT).await;
    assert_eq!(list["total"], 1, "{list}");

    // A refused command: 403 with its code and reason, and nothing changes.
    let before = http.history().await.len();
    let (status, body) = http
        .command("req-2", AGENT, json!({ "command": "close" }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "forbidden");
    assert_eq!(body["details"]["reason"], "no_role");
    assert_eq!(http.history().await.len(), before);

    http.ok("req-3", AGENT, json!({ "command": "acknowledge" }))
        .await;
    http.ok(
        "req-4",
        AGENT,
        json!({ "command": "triage", "category": "delay", "validity": { "is": "valid" } }),
    )
    .await;
    let view = http
        .ok(
            "req-5",
            AGENT,
            json!({ "command": "route", "responsibility": null }),
        )
        .await;
    let version = view["complaint"]["version"].clone();

    // A restart in the middle: everything acknowledged is there, and work goes on.
    running.shutdown().await.unwrap();
    let running = start(dir.path(), &clock).await;
    let http = Http::new(running.local_addr());
    let (status, view) = http.get("/complaints/EXP-1", AGENT).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["complaint"]["version"], version);
    // A retry gets the first answer, whatever came after it, and after the restart too.
    let (status, first) = http.command("req-1", AGENT, receive.clone()).await;
    assert_eq!((status, &first), (StatusCode::OK, &view_after_receive));
    // The retried request is answered the same after the restart too.
    assert_eq!(
        http.ok(
            "req-5",
            AGENT,
            json!({ "command": "route", "responsibility": null })
        )
        .await["complaint"]["version"],
        version
    );

    clock.advance(plaint::chrono::Duration::hours(1));
    http.ok(
        "req-6",
        INVESTIGATOR,
        json!({ "command": "record_findings",
        "findings": { "summary": "Mis-routed cage at the hub.", "records": [] },
        "root_cause": "delay/hub-backlog" }),
    )
    .await;
    http.ok(
        "req-7",
        INVESTIGATOR,
        json!({ "command": "propose", "remedy": "apology",
        "description": "Apologise and waive the fee" }),
    )
    .await;
    // An apology needs no approval: approving now does not fit the stage (409).
    let (status, body) = http
        .command("req-8", MANAGER, json!({ "command": "approve" }))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("illegal_transition"))
    );
    http.ok("req-9", LI, json!({ "command": "accept_proposal" }))
        .await;
    http.ok(
        "req-10",
        FINANCE,
        json!({ "command": "record_execution", "action": "Fee waived",
        "finished": true }),
    )
    .await;
    http.ok(
        "req-11",
        AGENT,
        json!({ "command": "give_feedback",
        "text": "Fee waived; the hub is corrected." }),
    )
    .await;
    http.ok(
        "req-12",
        LI,
        json!({ "command": "confirm_satisfaction", "satisfied": true, "score": 4 }),
    )
    .await;
    let closed = http
        .ok("req-13", MANAGER, json!({ "command": "close" }))
        .await;
    assert_eq!(stage(&closed), "closed");

    // The complainant sees their own history without staff's internal records.
    let (status, own) = http.get("/complaints/EXP-1/history", LI).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(breaches(own.as_array().unwrap(), "acknowledge"), 0);
    assert!(breaches(&http.history().await, "acknowledge") == 1);

    // Lists and counts, for staff and for the complainant.
    let (status, list) = http.get("/complaints?stage=closed&limit=10", AGENT).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        (
            list["total"].as_u64(),
            list["items"].as_array().map(Vec::len)
        ),
        (Some(1), Some(1))
    );
    let (_, list) = http.get("/complaints?breached=true", AGENT).await;
    assert_eq!(
        list["total"], 0,
        "closing stopped the breached clock: {list}"
    );
    let (_, list) = http.get("/complaints", Who::Customer("cust-99")).await;
    assert_eq!(list["total"], 0);
    let (status, body) = http.get("/complaints?limit=many", AGENT).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );

    // The month's report, for staff only.
    let (status, report) = http.get("/reports/2026-11", MANAGER).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(report.is_object());
    let (status, md) = http.get("/reports/2026-11?format=md", MANAGER).await;
    assert!(
        status == StatusCode::OK && md.as_str().is_some_and(|t| t.starts_with('#')),
        "{md}"
    );
    let (status, _) = http.get("/reports/2026-11", LI).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = http.get("/reports/2026-13", MANAGER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Nothing failed to deliver (the service's notifier discards); retrying an unknown one is 404.
    let (status, letters) = http.get("/dead-letters", MANAGER).await;
    assert_eq!((status, letters), (StatusCode::OK, json!([])));
    let (status, _) = http
        .call(
            Method::POST,
            "/dead-letters/EXP-1%2F1%2Facknowledged%2Fcomplainant%2Fsms/retry",
            MANAGER,
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The document it serves is the committed one.
    let (status, doc) = http.get("/openapi.json", Who::Nobody).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");

    running.shutdown().await.unwrap();
    // The store let go of its directory: it opens again.
    plaint::FileStore::open(dir.path(), plaint::file::Options::new()).unwrap();
}
