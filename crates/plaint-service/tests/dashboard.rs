//! The dashboard in a real browser: Debian's Chromium, headless, driven over WebDriver by
//! `chromedriver` (fantoccini), against the service on a loopback port with a manual clock.
//!
//! The browser tests need `PLAINT_CHROMIUM` (the browser, e.g. `/usr/bin/chromium`) and
//! `PLAINT_CHROMEDRIVER` (e.g. `/usr/bin/chromedriver`) and print that they skipped without
//! them. Screenshots go to `target/screenshots/` (not committed). Every wait is bounded by
//! [`LIMIT`] and waits for something to appear in the page, never a fixed sleep. The tests
//! without a browser (forged and foreign requests over plain HTTP) always run.

mod common;

use common::{AGENT, Http, LIMIT};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper::{Method, StatusCode};
use plaint::{Clock, ManualClock, Policy};
use plaint_service::{Running, Service, file_engine};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

fn policy() -> Policy {
    Policy::from_toml_str(include_str!("../../../examples/policies/express.toml")).unwrap()
}

async fn start(dir: &Path, clock: &Arc<ManualClock>) -> Running {
    let clock: Arc<dyn Clock> = Arc::clone(clock) as _;
    let engine = file_engine(dir, policy(), clock).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Service::new(engine).serve(listener).unwrap()
}

fn receive(id: &str, customer: &str, name: &str) -> Value {
    json!({
        "command": "receive",
        "complainant": { "id": customer, "name": name,
            "contacts": [{ "kind": "phone", "value": "13900001111" }] },
        "channel": "hotline",
        "received_at": "2026-11-20T00:55:00Z",
        "subject": { "waybill": format!("YT-{id}") },
        "description": "Next-day delivery, four days late."
    })
}

/// Receives complaint `id` over the JSON API.
async fn receive_over_api(http: &Http, id: &str, customer: &str, name: &str) {
    let (status, body) = http
        .call(
            Method::POST,
            &format!("/complaints/{id}/commands"),
            AGENT,
            Some(&format!("receive-{id}")),
            Some(receive(id, customer, name)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The development sign-in's cookie for a staff member or a complainant.
fn cookie(kind: &str, id: &str, roles: &str, department: &str) -> String {
    format!("plaint-dev-actor={kind}|{id}|{roles}|{department}")
}

/// A raw request with a cookie; the status and the body as text.
async fn raw(
    addr: std::net::SocketAddr,
    method: Method,
    path: &str,
    cookie: &str,
    form: Option<&str>,
) -> (StatusCode, String) {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("cookie", cookie);
    if form.is_some() {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    let body = Full::new(Bytes::from(form.unwrap_or("").to_owned()));
    let answer = async {
        let res = client.request(req.body(body).unwrap()).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    };
    tokio::time::timeout(LIMIT, answer)
        .await
        .expect("answered in time")
}

/// Without a browser: a command the page does not offer, posted anyway, is refused by the
/// engine with its reason and changes nothing; a complainant gets nothing of another's
/// complaint; the pages of staff are refused to a complainant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_foreign_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new("2026-11-20T01:00:00Z".parse().unwrap()));
    let running = start(dir.path(), &clock).await;
    let addr = running.local_addr();
    let http = Http::new(addr);
    receive_over_api(&http, "EXP-1", "cust-42", "Li Si").await;
    receive_over_api(&http, "EXP-2", "cust-77", "Zhao Liu").await;
    let agent = cookie("staff", "agent-wang", "agent", "customer-service");

    // The page offers acknowledge, and not close (the agent's role may not close).
    let (status, page) = raw(addr, Method::GET, "/ui/complaints/EXP-1", &agent, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("data-command=\"acknowledge\""), "{page}");
    assert!(!page.contains("data-command=\"close\""));
    // Forged: close anyway. The engine refuses (403, its code and reason on the page).
    let before = http.history().await.len();
    let (status, page) = raw(
        addr,
        Method::POST,
        "/ui/complaints/EXP-1/commands",
        &agent,
        Some("command=close&key=forged-1"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("role=\"alert\"") && page.contains("data-code=\"forbidden\""));
    assert_eq!(http.history().await.len(), before, "nothing changed");
    // An offered command through its form is taken, and answered with the page again.
    let (status, _) = raw(
        addr,
        Method::POST,
        "/ui/complaints/EXP-1/commands",
        &agent,
        Some("command=acknowledge&key=ui-ack-1"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        http.history().await.len(),
        before + 2,
        "acknowledged, clock stopped"
    );
    // A form that is no command is a bad request, and changes nothing.
    let (status, _) = raw(
        addr,
        Method::POST,
        "/ui/complaints/EXP-1/commands",
        &agent,
        Some("command=teleport&key=ui-x"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Staff's other pages: the ledger (nothing entered yet), the month (this one, by default).
    let (status, page) = raw(addr, Method::GET, "/ui/ledger", &agent, None).await;
    assert!(
        status == StatusCode::OK && !page.contains("data-id=\"EXP-1\""),
        "{page}"
    );
    let (status, _) = raw(addr, Method::GET, "/ui/month", &agent, None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = raw(addr, Method::GET, "/ui/month/2026-13", &agent, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Triaged and routed through the forms; left uninvestigated past its breach and the
    // first rung, it enters the escalation ledger, which the ledger page then lists.
    for (key, form) in [
        (
            "ui-triage",
            "command=triage&key=ui-triage&category=delay&tier=&validity=valid",
        ),
        ("ui-route", "command=route&key=ui-route&department=&unit="),
    ] {
        let (status, page) = raw(
            addr,
            Method::POST,
            "/ui/complaints/EXP-1/commands",
            &agent,
            Some(form),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{key}: {page}");
    }
    clock.advance(plaint::chrono::Duration::hours(60));
    running.wake();
    tokio::time::timeout(LIMIT, async {
        loop {
            let (_, page) = raw(addr, Method::GET, "/ui/ledger", &agent, None).await;
            if page.contains("data-id=\"EXP-1\"") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the runner enters EXP-1 in the ledger");

    // The queue's filters. EXP-1 is the hub's now; EXP-2 is not routed yet, so it is in the
    // default queue of whoever may pick it up (the agent), not in the hub investigator's.
    let rows = |page: &str| {
        ["EXP-1", "EXP-2"]
            .into_iter()
            .filter(|id| {
                page.contains(&format!("<tr data-id=\"{id}\""))
                    || page.contains(&format!("<tr class=\"breached\" data-id=\"{id}\""))
            })
            .collect::<Vec<_>>()
    };
    let investigator = cookie("staff", "claims-liu", "investigator", "hub");
    for (who, query, want) in [
        (&agent, "", &["EXP-2"][..]),
        (&agent, "?department=all", &["EXP-1", "EXP-2"]),
        (&agent, "?department=hub", &["EXP-1"]),
        (&agent, "?department=all&stage=investigating", &["EXP-1"]),
        (&agent, "?department=all&breached=true", &["EXP-1", "EXP-2"]),
        (&investigator, "", &["EXP-1"]),
    ] {
        let (status, page) = raw(addr, Method::GET, &format!("/ui{query}"), who, None).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(rows(&page), want, "{query}");
    }
    let (status, _) = raw(addr, Method::GET, "/ui?stage=nonsense", &agent, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The complainant: their own complaint only; no staff pages.
    let li = cookie("complainant", "cust-42", "", "");
    let (status, mine) = raw(addr, Method::GET, "/ui", &li, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(mine.contains("EXP-1") && !mine.contains("EXP-2"), "{mine}");
    // Nothing of staff's records: not the department (the hub), not the clocks.
    assert!(
        !mine.contains("转运中心") && !mine.contains("investigation") && !mine.contains("breached"),
        "{mine}"
    );
    let (status, _) = raw(addr, Method::GET, "/ui/complaints/EXP-2", &li, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = raw(
        addr,
        Method::POST,
        "/ui/complaints/EXP-2/commands",
        &li,
        Some("command=withdraw&key=ui-w"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for path in ["/ui/ledger", "/ui/month/2026-11"] {
        let (status, _) = raw(addr, Method::GET, path, &li, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    // Without anyone signed in, a page sends to the sign-in.
    let (status, _) = raw(addr, Method::GET, "/ui", "", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    running.shutdown().await.unwrap();
}

/// The browser and its driver, from the environment; `None` (and a printed reason) when
/// either is missing.
fn browser() -> Option<(String, String)> {
    let chromium = std::env::var("PLAINT_CHROMIUM")
        .ok()
        .filter(|p| !p.is_empty());
    let driver = std::env::var("PLAINT_CHROMEDRIVER")
        .ok()
        .filter(|p| !p.is_empty());
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            eprintln!(
                "skipped: set PLAINT_CHROMIUM and PLAINT_CHROMEDRIVER (e.g. /usr/bin/chromium and /usr/bin/chromedriver) to run the browser tests"
            );
            None
        }
    }
}

/// A running chromedriver, killed when dropped; and a fresh profile directory.
struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn spawn(path: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let path = profile.path().to_owned();
        Self {
            child,
            port,
            _profile: profile,
            profile: path,
        }
    }

    /// A session in headless Chromium, once the driver listens.
    async fn session(&self, chromium: &str) -> Client {
        let caps = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--no-first-run", "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", self.profile.display()),
                    "--window-size=1280,900",
                ]
            }
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let url = format!("http://127.0.0.1:{}", self.port);
        let connect = async {
            loop {
                let mut b =
                    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
                b.capabilities(caps.clone());
                match b.connect(&url).await {
                    Ok(c) => return c,
                    // The driver is not listening yet: wait for it (bounded by LIMIT).
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                }
            }
        };
        tokio::time::timeout(LIMIT, connect)
            .await
            .expect("chromedriver answers in time")
    }
}

/// Waits for `css` to match an element.
async fn wait_for(b: &Client, css: &str) -> fantoccini::elements::Element {
    b.wait()
        .at_most(LIMIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
}

/// Signs in through the development sign-in form.
async fn sign_in(b: &Client, base: &str, id: &str, kind: &str, roles: &str, department: &str) {
    b.goto(&format!("{base}/ui/sign-in")).await.unwrap();
    let form = wait_for(b, "form[action='/ui/sign-in']").await;
    form.find(Locator::Id("actor-id"))
        .await
        .unwrap()
        .send_keys(id)
        .await
        .unwrap();
    form.find(Locator::Css(&format!("#actor-kind option[value='{kind}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    form.find(Locator::Id("actor-roles"))
        .await
        .unwrap()
        .send_keys(roles)
        .await
        .unwrap();
    form.find(Locator::Css(&format!(
        "#actor-department option[value='{department}']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(b, "[data-live]").await;
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(b: &Client, name: &str) {
    let png = b.screenshot().await.unwrap();
    std::fs::write(screenshots().join(name), png).unwrap();
}

/// The page's text.
async fn text(b: &Client) -> String {
    b.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_in_chromium() {
    let Some((chromium, driver)) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new("2026-11-20T01:00:00Z".parse().unwrap()));
    let running = start(dir.path(), &clock).await;
    let base = format!("http://{}", running.local_addr());
    let http = Http::new(running.local_addr());
    receive_over_api(&http, "EXP-1", "cust-42", "Li Si").await;
    receive_over_api(&http, "EXP-2", "cust-77", "Zhao Liu").await;
    let driver = Driver::spawn(&driver);
    let b = driver.session(&chromium).await;

    // The hub's investigator: nothing of EXP-1 yet (it is not routed).
    sign_in(&b, &base, "claims-liu", "staff", "investigator", "hub").await;
    let queue = wait_for(&b, "#queue").await;
    assert!(!queue.text().await.unwrap().contains("EXP-1"));

    // The agent opens EXP-1: the policy's language (zh), its clocks, the commands on offer.
    sign_in(
        &b,
        &base,
        "agent-wang",
        "staff",
        "agent",
        "customer-service",
    )
    .await;
    b.goto(&format!("{base}/ui/complaints/EXP-1"))
        .await
        .unwrap();
    wait_for(&b, "#live[data-id='EXP-1']").await;
    let lang = b
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    assert_eq!(lang, json!("zh"), "the policy's locale");
    wait_for(&b, "form[data-command='acknowledge']").await;
    wait_for(&b, "form[data-command='triage']").await;
    assert!(
        b.find_all(Locator::Css("form[data-command='close']"))
            .await
            .unwrap()
            .is_empty(),
        "close is not offered to an agent"
    );
    // Every control has a label; the first Tab lands on the skip link, which is visible then.
    let unlabelled = b
        .execute(
            "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
               .filter(e => !e.labels || e.labels.length === 0).map(e => e.name)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(unlabelled, json!([]), "controls without a label");
    let body = b.find(Locator::Css("body")).await.unwrap();
    body.send_keys("\u{e004}").await.unwrap(); // Tab
    let focused = b
        .execute(
            "const a = document.activeElement; const r = a.getBoundingClientRect();
             return [a.className, r.left >= 0, getComputedStyle(a).outlineStyle]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        focused,
        json!(["skip", true, "solid"]),
        "skip link first, with a focus ring"
    );
    // A forged request for it, from the page: refused by the engine, with its reason.
    let forged = b
        .execute_async(
            "const done = arguments[0];
             fetch('/ui/complaints/EXP-1/commands', { method: 'POST',
               headers: { 'content-type': 'application/x-www-form-urlencoded' },
               body: 'command=close&key=forged-close' })
             .then(async r => done([r.status, await r.text()]));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(forged[0], json!(403), "{forged}");
    assert!(
        forged[1]
            .as_str()
            .unwrap()
            .contains("data-code=\"forbidden\"")
    );

    // A deadline fires while the page is open: the page shows the breach without a reload.
    b.wait()
        .at_most(LIMIT)
        .for_element(Locator::Css("body[data-stream='open']"))
        .await
        .expect("the page listens to the event feed");
    b.execute("window.plaintMarker = 'still the same page'", vec![])
        .await
        .unwrap();
    assert!(
        b.find_all(Locator::Css("#clocks tr.breached"))
            .await
            .unwrap()
            .is_empty(),
        "nothing breached yet"
    );
    clock.advance(plaint::chrono::Duration::hours(2));
    running.wake();
    wait_for(&b, "#clocks tr[data-clock='acknowledge'].breached").await;
    let marker = b
        .execute("return window.plaintMarker", vec![])
        .await
        .unwrap();
    assert_eq!(marker, json!("still the same page"), "no reload");
    screenshot(&b, "complaint-breached-zh.png").await;

    // Acknowledge, triage and route through the forms, by keyboard-reachable buttons.
    b.find(Locator::Css("form[data-command='acknowledge'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Each wait is for what only the next page has, never for what the last one had too.
    wait_for(&b, "li[data-event='acknowledged']").await;
    b.find(Locator::Css("#triage-category option[value='delay']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.find(Locator::Css("form[data-command='triage'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "li[data-event='triaged']").await;
    b.find(Locator::Css("form[data-command='route'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "li[data-event='routed']").await;
    let stage = b
        .find(Locator::Id("stage"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(stage, "调查中", "investigating, in Chinese");

    // The hub's queue now holds EXP-1 (routed to the hub by the policy's rules), not EXP-2.
    sign_in(&b, &base, "claims-liu", "staff", "investigator", "hub").await;
    let row = wait_for(&b, "#queue tr[data-id='EXP-1']").await;
    assert!(
        row.text().await.unwrap().contains("转运中心"),
        "the hub, in Chinese"
    );
    screenshot(&b, "queue-zh.png").await;
    assert!(
        b.find_all(Locator::Css("#queue tr[data-id='EXP-2']"))
            .await
            .unwrap()
            .is_empty()
    );
    // Commands from elsewhere (the JSON API) route EXP-2 to the hub while the queue is open:
    // its row appears without a reload.
    b.wait()
        .at_most(LIMIT)
        .for_element(Locator::Css("body[data-stream='open']"))
        .await
        .expect("the queue listens to the event feed");
    b.execute("window.plaintMarker = 'the same queue'", vec![])
        .await
        .unwrap();
    for (key, command) in [
        ("exp2-ack", json!({ "command": "acknowledge" })),
        (
            "exp2-triage",
            json!({ "command": "triage", "category": "delay", "validity": { "is": "valid" } }),
        ),
        (
            "exp2-route",
            json!({ "command": "route", "responsibility": null }),
        ),
    ] {
        let (status, body) = http
            .call(
                Method::POST,
                "/complaints/EXP-2/commands",
                AGENT,
                Some(key),
                Some(command),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    wait_for(&b, "#queue tr[data-id='EXP-2']").await;
    let marker = b
        .execute("return window.plaintMarker", vec![])
        .await
        .unwrap();
    assert_eq!(marker, json!("the same queue"), "no reload");
    // In English, by the switch.
    b.find(Locator::Css("a[href^='/ui/lang?to=en']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .at_most(LIMIT)
        .for_element(Locator::Css("html[lang='en'] #queue"))
        .await
        .unwrap();
    let queue_text = text(&b).await;
    assert!(
        queue_text.contains("Investigating") && queue_text.contains("Sorting hub"),
        "{queue_text}"
    );
    screenshot(&b, "queue-en.png").await;
    b.set_window_size(390, 844).await.unwrap();
    screenshot(&b, "queue-phone.png").await;
    b.goto(&format!("{base}/ui/complaints/EXP-1"))
        .await
        .unwrap();
    wait_for(&b, "form[data-command='record_findings']").await;
    screenshot(&b, "complaint-phone.png").await;
    b.set_window_size(1280, 900).await.unwrap();
    b.goto(&format!("{base}/ui/complaints/EXP-1"))
        .await
        .unwrap();
    wait_for(&b, "form[data-command='record_findings']").await;
    screenshot(&b, "complaint-en.png").await;

    // The complainant: their own complaint only, without staff's records.
    sign_in(&b, &base, "cust-42", "complainant", "", "").await;
    let page = text(&b).await;
    assert!(page.contains("EXP-1") && !page.contains("EXP-2"), "{page}");
    b.goto(&format!("{base}/ui/complaints/EXP-1"))
        .await
        .unwrap();
    wait_for(&b, "#live[data-id='EXP-1']").await;
    assert!(
        b.find_all(Locator::Css("#clocks"))
            .await
            .unwrap()
            .is_empty(),
        "no clocks"
    );
    for internal in ["routed", "clock_breached", "clock_started"] {
        let found = b
            .find_all(Locator::Css(&format!("li[data-event='{internal}']")))
            .await
            .unwrap();
        assert!(found.is_empty(), "{internal} is staff's");
    }
    let page = text(&b).await;
    assert!(
        !page.contains("Sorting hub") && !page.contains("claims-liu"),
        "{page}"
    );
    screenshot(&b, "complainant.png").await;
    b.goto(&format!("{base}/ui/complaints/EXP-2"))
        .await
        .unwrap();
    wait_for(&b, "#refusal[data-code='not_found']").await;

    // The month's charts render (three SVGs with a size), for staff.
    sign_in(
        &b,
        &base,
        "svc-mgr-chen",
        "staff",
        "service-manager",
        "customer-service",
    )
    .await;
    b.goto(&format!("{base}/ui/month/2026-11")).await.unwrap();
    wait_for(&b, "figure.chart[data-chart='categories'] svg").await;
    let sizes = b
        .execute(
            "return [...document.querySelectorAll('figure.chart svg')].map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; })",
            vec![],
        )
        .await
        .unwrap();
    let sizes = sizes.as_array().unwrap();
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    for s in sizes {
        assert!(
            s[0].as_f64().unwrap() > 100.0 && s[1].as_f64().unwrap() > 50.0,
            "{s}"
        );
    }
    let received = b
        .find(Locator::Id("received"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(received, "2");
    screenshot(&b, "month.png").await;

    b.close().await.unwrap();
    drop(driver);
    running.shutdown().await.unwrap();
}

/// The queue's weight with 1,000 open complaints, and its time to first render in
/// Chromium: figures to read, not to assert (run with `--ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it on purpose"]
async fn measure_the_queue_with_1000_open_complaints() {
    let Some((chromium, driver)) = browser() else {
        return;
    };
    let clock = Arc::new(ManualClock::new("2026-11-20T01:00:00Z".parse().unwrap()));
    let store: Arc<dyn plaint::DynStore> = Arc::new(plaint::MemoryStore::new());
    let engine = plaint::Engine::builder(store, policy())
        .notifier(plaint_service::Notifier(Arc::new(plaint::DiscardNotifier)))
        .clock(Arc::clone(&clock) as Arc<dyn Clock>)
        .build();
    let agent = plaint::Actor::staff(
        plaint::ActorId::new("agent-wang").unwrap(),
        vec![plaint::RoleKey::new("agent").unwrap()],
        None,
    );
    let categories = [
        "delay",
        "loss",
        "damage",
        "wrong-delivery",
        "courier-attitude",
    ];
    for n in 0..1000 {
        let id = plaint::ComplaintId::new(format!("EXP-{n:04}")).unwrap();
        let steps = [
            receive(&format!("{n}"), &format!("cust-{n}"), "Li Si"),
            json!({ "command": "acknowledge" }),
            json!({ "command": "triage", "category": categories[n % 5], "validity": { "is": "valid" } }),
            json!({ "command": "route", "responsibility": null }),
        ];
        for (k, step) in steps.into_iter().enumerate() {
            let command: plaint::Command = serde_json::from_value(step).unwrap();
            let key = plaint::CommandId::new(format!("seed-{n}-{k}")).unwrap();
            engine.execute(key, &id, command, &agent).await.unwrap();
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = Service::new(engine).serve(listener).unwrap();
    let addr = running.local_addr();
    let manager = cookie("staff", "svc-mgr-chen", "service-manager", "");
    let started = std::time::Instant::now();
    let (status, html) = raw(addr, Method::GET, "/ui", &manager, None).await;
    let served = started.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<tr data-id=").count(), 1000);
    let (_, css) = raw(
        addr,
        Method::GET,
        "/ui/static/dashboard.css",
        &manager,
        None,
    )
    .await;
    let (_, js) = raw(addr, Method::GET, "/ui/static/dashboard.js", &manager, None).await;
    eprintln!(
        "queue of 1000: HTML {} bytes, CSS {} bytes, JS {} bytes (uncompressed); served in {served:?} (debug build)",
        html.len(),
        css.len(),
        js.len()
    );

    let driver = Driver::spawn(&driver);
    let b = driver.session(&chromium).await;
    sign_in(
        &b,
        &format!("http://{addr}"),
        "svc-mgr-chen",
        "staff",
        "service-manager",
        "",
    )
    .await;
    b.goto(&format!("http://{addr}/ui")).await.unwrap();
    wait_for(&b, "#queue tr[data-id='EXP-0999']").await;
    let timing = b
        .execute(
            "const n = performance.getEntriesByType('navigation')[0];
             const p = performance.getEntriesByType('paint').map(e => [e.name, Math.round(e.startTime)]);
             const r = performance.getEntriesByType('resource').map(e => [e.name.replace(location.origin, ''), e.transferSize]);
             return { transfer: n.transferSize, body: n.encodedBodySize, response_end: Math.round(n.responseEnd),
                      dom_content_loaded: Math.round(n.domContentLoadedEventEnd), paint: p, resources: r };",
            vec![],
        )
        .await
        .unwrap();
    eprintln!("queue of 1000 in Chromium: {timing}");
    b.close().await.unwrap();
    drop(driver);
    running.shutdown().await.unwrap();
}
