//! What the service's HTTP tests share: a small client and the development identities.
#![allow(dead_code, unreachable_pub)]

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;

/// The longest any one step may take before the test fails instead of hanging.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Who a request acts for, as the development headers say it.
#[derive(Clone, Copy)]
pub enum Who<'a> {
    Staff(&'a str, &'a str),
    Customer(&'a str),
    Nobody,
}

pub const AGENT: Who = Who::Staff("agent-wang", "agent");
pub const INVESTIGATOR: Who = Who::Staff("claims-liu", "investigator");
pub const MANAGER: Who = Who::Staff("svc-mgr-chen", "service-manager");
pub const FINANCE: Who = Who::Staff("fin-sun", "finance");
pub const LI: Who = Who::Customer("cust-42");

pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    addr: SocketAddr,
}

impl Http {
    pub fn new(addr: SocketAddr) -> Self {
        let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        Self { client, addr }
    }

    /// One request; the status and the body (JSON, or a JSON string of a text body).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        who: Who<'_>,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        match who {
            Who::Staff(id, roles) => {
                req = req.header("x-actor-id", id).header("x-actor-roles", roles);
            }
            Who::Customer(id) => {
                req = req
                    .header("x-actor-id", id)
                    .header("x-actor-kind", "complainant");
            }
            Who::Nobody => {}
        }
        if let Some(key) = key {
            req = req.header("idempotency-key", key);
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Full::new(Bytes::from(b.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let answer = async {
            let res = self.client.request(req.body(body).unwrap()).await.unwrap();
            let status = res.status();
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            let value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
            (status, value)
        };
        tokio::time::timeout(LIMIT, answer)
            .await
            .expect("the service answers in time")
    }

    pub async fn get(&self, path: &str, who: Who<'_>) -> (StatusCode, Value) {
        self.call(Method::GET, path, who, None, None).await
    }

    /// A command that must be accepted; the complaint view it answers with.
    pub async fn ok(&self, key: &str, who: Who<'_>, command: Value) -> Value {
        let (status, body) = self.command(key, who, command).await;
        assert_eq!(status, StatusCode::OK, "{key}: {body}");
        body
    }

    pub async fn command(&self, key: &str, who: Who<'_>, command: Value) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/complaints/EXP-1/commands",
            who,
            Some(key),
            Some(command),
        )
        .await
    }

    pub async fn history(&self) -> Vec<Value> {
        let (status, body) = self.get("/complaints/EXP-1/history", AGENT).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array().unwrap().clone()
    }
}
