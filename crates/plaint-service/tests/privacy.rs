//! A complainant's personal data over real HTTP, on a `FileStore` with a manual clock:
//! `GET /complainants/{id}/export` gives them or a privacy officer everything held, and
//! `POST /complainants/{id}/erase` erases it for a privacy officer only; anyone else is
//! refused as the command endpoint refuses them, and nothing changes.
//!
//! Every wait is a request waiting for its answer, bounded by [`common::LIMIT`].

mod common;

use common::{AGENT, Http, LI, Who};
use hyper::{Method, StatusCode};
use plaint::{Clock, ManualClock, Policy};
use plaint_service::{Running, Service, file_engine};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

/// Staff whose role may erase (and so export).
const OFFICER: Who = Who::Staff("dpo-zhao", "privacy-officer");

/// The express policy with a privacy officer, the one role that may erase.
fn policy() -> Policy {
    let text = include_str!("../../../examples/policies/express.toml");
    let text =
        format!("{text}\n[[roles]]\nkey = \"privacy-officer\"\nmay = [\"erase_personal_data\"]\n");
    Policy::from_toml_str(&text).unwrap()
}

async fn start(dir: &Path, clock: &Arc<ManualClock>) -> Running {
    let clock: Arc<dyn Clock> = Arc::clone(clock) as _;
    let engine = file_engine(dir, policy(), clock).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Service::new(engine).serve(listener).unwrap()
}

/// Receives complaint `id` of `complainant` (`name`, `phone`).
async fn receive(http: &Http, id: &str, complainant: &str, name: &str, phone: &str) {
    let command = json!({
        "command": "receive",
        "complainant": { "id": complainant, "name": name,
            "contacts": [{ "kind": "phone", "value": phone }] },
        "channel": "hotline",
        "received_at": "2026-11-20T00:55:00Z",
        "subject": { "waybill": "YT9876543210" },
        "description": "Next-day delivery, four days late."
    });
    let path = format!("/complaints/{id}/commands");
    let key = format!("receive-{id}");
    let (status, body) = http
        .call(Method::POST, &path, AGENT, Some(&key), Some(command))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn erase(http: &Http, complainant: &str, who: Who<'_>, body: Value) -> (StatusCode, Value) {
    let path = format!("/complainants/{complainant}/erase");
    http.call(Method::POST, &path, who, None, Some(body)).await
}

async fn history(http: &Http, id: &str) -> Vec<Value> {
    let (status, body) = http
        .get(&format!("/complaints/{id}/history"), OFFICER)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

fn name(view: &Value) -> &str {
    view["complaint"]["intake"]["complainant"]["name"]
        .as_str()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_erase_a_complainant_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new("2026-11-20T01:00:00Z".parse().unwrap()));
    let running = start(dir.path(), &clock).await;
    let http = Http::new(running.local_addr());
    receive(&http, "EXP-1", "cust-42", "Li Si", "13900001111").await;
    receive(&http, "EXP-2", "cust-42", "Li Si", "13900001111").await;
    receive(&http, "EXP-3", "cust-7", "Wang Wu", "13700007777").await;

    // The export: their complaints, unmasked, as the document plaint::Export reads back.
    let (status, body) = http.get("/complainants/cust-42/export", OFFICER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let export: plaint::Export = serde_json::from_value(body.clone()).unwrap();
    let ids: Vec<&str> = export
        .complaints
        .iter()
        .map(|c| c.state.id.as_str())
        .collect();
    assert_eq!(ids, ["EXP-1", "EXP-2"]);
    assert_eq!(export.complainant.as_str(), "cust-42");
    assert_eq!(export.exported_at, clock.now());
    for c in &export.complaints {
        assert!(!c.history.is_empty(), "{}", c.state.id);
        assert_eq!(
            c.history.len(),
            history(&http, c.state.id.as_str()).await.len()
        );
    }
    assert!(body.to_string().contains("13900001111"));
    assert!(!body.to_string().contains("Wang Wu"));
    // The complainant takes their own copy; staff who may not erase, and another
    // complainant, are refused.
    let (status, own) = http.get("/complainants/cust-42/export", LI).await;
    assert_eq!((status, &own), (StatusCode::OK, &body));
    for who in [AGENT, Who::Customer("cust-7")] {
        let (status, refused) = http.get("/complainants/cust-42/export", who).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{refused}"
        );
    }

    // Refused erasures change nothing: an agent is refused as the command endpoint refuses
    // them, the complainant too; a blank or missing reason is the request's fault.
    let before = history(&http, "EXP-1").await.len();
    let (status, body) = erase(&http, "cust-42", AGENT, json!({ "reason": "asked" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "forbidden");
    assert_eq!(body["details"]["reason"], "no_role");
    let (status, by_command) = http
        .call(
            Method::POST,
            "/complaints/EXP-1/commands",
            AGENT,
            Some("erase-by-agent"),
            Some(json!({ "command": "erase_personal_data", "reason": "asked" })),
        )
        .await;
    assert_eq!((status, &by_command), (StatusCode::FORBIDDEN, &body));
    let (status, body) = erase(&http, "cust-42", LI, json!({ "reason": "forget me" })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    // Whether the complainant exists is no different to someone refused.
    let (status, body) = erase(&http, "cust-nobody", AGENT, json!({ "reason": "asked" })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, body) = erase(&http, "cust-42", OFFICER, json!({ "reason": "  " })).await;
    assert_eq!(
        (
            status,
            body["code"].as_str(),
            body["details"]["field"].as_str()
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("invalid"),
            Some("reason")
        ),
        "{body}"
    );
    let (status, body) = erase(&http, "cust-42", OFFICER, json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request")),
        "{body}"
    );
    let (status, body) = erase(&http, "cust%2042", OFFICER, json!({ "reason": "asked" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(history(&http, "EXP-1").await.len(), before);
    let (_, view) = http.get("/complaints/EXP-1", AGENT).await;
    assert_eq!(name(&view), "Li Si");

    // The officer erases: both complaints, with the reason in the audit trail.
    clock.advance(plaint::chrono::Duration::hours(1));
    let reason = "Deletion request of 2026-11-20 (ticket DR-88).";
    let (status, done) = erase(&http, "cust-42", OFFICER, json!({ "reason": reason })).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done, json!({ "erased": ["EXP-1", "EXP-2"], "already": [] }));
    for id in ["EXP-1", "EXP-2"] {
        let (status, view) = http.get(&format!("/complaints/{id}"), AGENT).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(name(&view), plaint::ERASED);
        assert!(!view.to_string().contains("13900001111"), "{view}");
        let history = history(&http, id).await;
        assert_eq!(history.len(), before + 1);
        let last = history.last().unwrap();
        assert_eq!(
            last["event"],
            json!({ "event": "personal_data_erased", "reason": reason })
        );
        assert_eq!(
            (last["actor"].as_str(), last["at"].as_str()),
            (Some("dpo-zhao"), Some("2026-11-20T02:00:00Z"))
        );
        assert!(!Value::Array(history).to_string().contains("13900001111"));
    }
    let (_, other) = http.get("/complaints/EXP-3", AGENT).await;
    assert_eq!(name(&other), "Wang Wu");

    // Again: nothing more to erase. A complainant held nowhere: nothing at all.
    let (status, again) = erase(&http, "cust-42", OFFICER, json!({ "reason": reason })).await;
    assert_eq!(
        (status, again),
        (
            StatusCode::OK,
            json!({ "erased": [], "already": ["EXP-1", "EXP-2"] })
        )
    );
    assert_eq!(history(&http, "EXP-1").await.len(), before + 1);
    let (status, none) = erase(&http, "cust-nobody", OFFICER, json!({ "reason": reason })).await;
    assert_eq!(
        (status, none),
        (StatusCode::OK, json!({ "erased": [], "already": [] }))
    );

    // The export now holds what is left: ids and events, no name or phone.
    let (status, body) = http.get("/complainants/cust-42/export", LI).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let export: plaint::Export = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(export.complaints.len(), 2);
    assert!(
        export
            .complaints
            .iter()
            .all(|c| c.state.intake.complainant.name == plaint::ERASED)
    );
    assert!(!body.to_string().contains("13900001111"));

    running.shutdown().await.unwrap();
}
