//! The work-queue dashboard under `/ui`: server-rendered HTML with one small script, live
//! from the event feed.
//!
//! **Why server-rendered.** Every page is a view the engine already makes for the request's
//! actor ([`plaint::Engine::list_for`], [`plaint::Engine::view`],
//! [`plaint::Engine::history_for`]) and the commands on offer are
//! [`plaint::Engine::available_for`]'s answer; rendering them on the server keeps the one
//! place that decides what a person may see and do in Rust, works without a build
//! toolchain (no npm, no bundle to keep in step with a lock file), and leaves an adopter
//! two files to restyle: `dashboard.css` and the markup here. Forms are plain HTML posts,
//! so every command works by keyboard and without the script.
//!
//! **Live updates.** One task per service tails the store's feed ([`plaint::Store::feed`])
//! — woken by the store's change signal, by every command the service takes, and at
//! worst every [`POLL`] — and tells each open page which complaints changed over
//! Server-Sent Events (`/ui/events`). `dashboard.js` then re-fetches the changed part (the
//! queue's table, or a complaint's live part) and swaps it in; nothing reloads the page.
//! A complainant's stream names only their own complaints.
//!
//! **Who asks** is the service's [`crate::Identify`], as for the API. Browsers send no
//! custom headers, so the development identity also reads a cookie that `/ui/sign-in` sets
//! ([`crate::DevelopmentHeaders`]); a deployment's `Identify` reads its own session cookie,
//! and should keep it `SameSite=Strict` (the forms carry no CSRF token of their own).

mod form;
mod page;
mod text;

use crate::api::{Acting, App};
use crate::{IdentifyError, ServiceEngine, status_of};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use page::{Ctx, Filters, esc};
use plaint::report::{Chart, Period, Report};
use plaint::{
    Actor, ActorKind, Clock, CommandId, CommandKind, ComplaintId, ComplaintView, DepartmentKey,
    EngineError, ErrorBody, ListQuery, Position, StageKind, Store, TierKey,
};
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use text::Lang;
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;

/// The longest the feed goes unread while a page listens: for writers the store cannot
/// signal (another process on a store without a change signal).
pub(crate) const POLL: Duration = Duration::from_secs(2);

/// The cookie holding the chosen language.
const LANG_COOKIE: &str = "plaint-lang";

/// The dashboard's routes.
pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/ui", get(queue_page))
        .route("/ui/queue", get(queue_fragment))
        .route("/ui/complaints/{id}", get(complaint_page))
        .route("/ui/complaints/{id}/live", get(complaint_fragment))
        .route("/ui/complaints/{id}/commands", axum::routing::post(command))
        .route("/ui/ledger", get(ledger))
        .route("/ui/month", get(month_pick))
        .route("/ui/month/{month}", get(month))
        .route("/ui/sign-in", get(sign_in_page).post(sign_in))
        .route("/ui/lang", get(switch_lang))
        .route("/ui/events", get(events))
        .route("/ui/static/dashboard.css", get(css))
        .route("/ui/static/dashboard.js", get(js))
}

/// The feed's listeners: what changed goes out on `tx`; `poke` wakes the tailing task after
/// a command; `closing` ends it and every open stream when the service stops.
pub(crate) struct Live {
    tx: broadcast::Sender<Arc<[ComplaintId]>>,
    /// True once the tailing task has read to the feed's end: a stream opens only then, so
    /// what happens after a page is told it is live reaches it.
    ready: watch::Sender<bool>,
    poke: Notify,
    closing: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Live {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            tx: broadcast::channel(64).0,
            ready: watch::Sender::new(false),
            poke: Notify::new(),
            closing: watch::Sender::new(false),
            task: Mutex::new(None),
        })
    }

    /// Says a command was taken: the tailing task reads the feed now.
    pub(crate) fn poke(&self) {
        self.poke.notify_one();
    }

    /// Listens, starting the tailing task on first use (inside a request, so on the
    /// server's runtime).
    fn subscribe(
        self: &Arc<Self>,
        engine: &Arc<ServiceEngine>,
    ) -> broadcast::Receiver<Arc<[ComplaintId]>> {
        let rx = self.tx.subscribe();
        let mut task = self.task.lock().unwrap_or_else(|p| p.into_inner());
        if task.is_none() && !*self.closing.borrow() {
            *task = Some(tokio::spawn(tail(Arc::clone(self), Arc::clone(engine))));
        }
        rx
    }

    /// Ends every stream and the tailing task, and waits for the task (it holds the
    /// engine, and so the store).
    pub(crate) async fn close(&self) {
        self.closing.send_replace(true);
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// Tails the feed from its end as it stands now, sending the ids of complaints that change.
async fn tail(live: Arc<Live>, engine: Arc<ServiceEngine>) {
    let mut closing = live.closing.subscribe();
    let mut at = Position::START;
    let mut first = true;
    loop {
        let seen = engine.store().changes().map(plaint::Changes::seen);
        let mut changed = BTreeSet::new();
        loop {
            match engine.feed(at, plaint::FeedPage::MAX_LIMIT).await {
                Ok(page) if page.entries.is_empty() => break,
                Ok(page) => {
                    at = page.next;
                    changed.extend(page.entries.into_iter().map(|e| e.complaint));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the feed for the dashboard");
                    break;
                }
            }
        }
        // What was there before the first listener is no news.
        if first {
            live.ready.send_replace(true);
        } else if !changed.is_empty() {
            let _ = live.tx.send(changed.into_iter().collect());
        }
        first = false;
        let store_changed = async {
            match (engine.store().changes(), seen) {
                (Some(c), Some(seen)) => {
                    c.changed(seen).await;
                }
                _ => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = closing.wait_for(|c| *c) => break,
            () = live.poke.notified() => {}
            () = store_changed => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// An answer that is a page: HTML with a status.
struct Page(StatusCode, String);

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        (self.0, Html(self.1)).into_response()
    }
}

/// A failure shown as a page (boxed: error paths are rare, and results stay small).
struct UiError(Box<Response>);

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<EngineError> for UiError {
    fn from(e: EngineError) -> Self {
        let body = ErrorBody::from(&e);
        let status = status_of(&body.code);
        if status.is_server_error() {
            tracing::error!(error = %e, code = %body.code, "dashboard request failed");
        }
        Self::plain(status, &body.code, &body.message)
    }
}

impl From<crate::api::ApiError> for UiError {
    fn from(e: crate::api::ApiError) -> Self {
        Self(Box::new(e.into_response()))
    }
}

impl UiError {
    fn plain(status: StatusCode, code: &str, message: &str) -> Self {
        Self(Box::new(
            Page(
                status,
                format!(
                    "<!doctype html><html><head><meta charset=\"utf-8\"><title>{status}</title>\
<link rel=\"stylesheet\" href=\"/ui/static/dashboard.css\"></head><body><main id=\"main\">\
{}<p><a href=\"/ui\">/ui</a></p></main></body></html>",
                    page::refusal(Lang::En, code, message)
                ),
            )
            .into_response(),
        ))
    }
}

/// The request's actor for a page: a request without one is sent to sign in.
struct Viewer(Actor);

impl axum::extract::FromRequestParts<App> for Viewer {
    type Rejection = Response;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &App,
    ) -> Result<Self, Response> {
        match app.identify.actor(parts) {
            Ok(actor) => Ok(Self(actor)),
            Err(IdentifyError::Missing(_)) => Err(Redirect::to("/ui/sign-in").into_response()),
            Err(e) => {
                Err(
                    UiError::plain(StatusCode::UNAUTHORIZED, "unauthenticated", &e.to_string())
                        .into_response(),
                )
            }
        }
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The page's language: the cookie the switch sets, else the policy's locale.
fn lang(app: &App, headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("zh") => Lang::Zh,
        Some("en") => Lang::En,
        _ => Lang::of(&app.engine.current_policy().locale),
    }
}

fn ctx<'a>(app: &'a App, actor: &'a Actor, lang: Lang) -> Ctx<'a> {
    Ctx {
        actor,
        lang,
        policy: app.engine.current_policy(),
        now: app.engine.clock().now(),
    }
}

fn staff_only(actor: &Actor) -> Result<(), UiError> {
    match actor.kind {
        ActorKind::Staff { .. } => Ok(()),
        _ => Err(UiError::plain(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only staff may use this",
        )),
    }
}

/// Every complaint `query` matches that `actor` may see, all pages.
async fn everything(
    app: &App,
    mut query: ListQuery,
    actor: &Actor,
) -> Result<Vec<ComplaintView>, EngineError> {
    query.limit = ListQuery::MAX_LIMIT;
    let mut out = Vec::new();
    loop {
        let page = app.engine.list_for(&query, actor).await?;
        out.extend(page.items);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(out),
        }
    }
}

/// The queue: the open complaints the filters match, nearest deadline first.
///
/// With no department chosen, staff with a department see theirs (as the primary or a
/// collaborating department) and, if a role of theirs may triage or route, the complaints
/// not routed yet (someone must pick them up); staff without a department see all.
async fn queue_items(app: &App, actor: &Actor, f: &Filters) -> Result<Vec<ComplaintView>, UiError> {
    let bad = |what: &str| UiError::plain(StatusCode::BAD_REQUEST, "bad_request", what);
    let mut q = ListQuery::new();
    if let Some(s) = f.stage.as_deref().filter(|s| !s.is_empty()) {
        let stage: StageKind =
            serde_json::from_value(serde_json::json!(s)).map_err(|_| bad("stage"))?;
        q = q.stage(stage);
    }
    if let Some(t) = f.tier.as_deref().filter(|s| !s.is_empty()) {
        q = q.tier(TierKey::new(t).map_err(|_| bad("tier"))?);
    }
    let mut mine = None;
    match f.department.as_deref() {
        Some("all") => {}
        Some(d) if !d.is_empty() => {
            q = q.responsible(DepartmentKey::new(d).map_err(|_| bad("department"))?);
        }
        _ => {
            if let ActorKind::Staff {
                department: Some(d),
                roles,
            } = &actor.kind
            {
                let policy = app.engine.current_policy();
                let picks_up = roles.iter().filter_map(|r| policy.role(r)).any(|r| {
                    r.may.contains(&CommandKind::Triage) || r.may.contains(&CommandKind::Route)
                });
                mine = Some((d.clone(), picks_up));
            }
        }
    }
    if f.breached.as_deref() == Some("true") {
        q = q.breached(true);
    }
    let mut items = everything(app, q, actor).await?;
    items.retain(|v| {
        let c = &v.complaint;
        !c.stage.is_terminal()
            && mine.as_ref().is_none_or(|(d, picks_up)| {
                c.responsibility
                    .as_ref()
                    .map_or(*picks_up, |r| r.involves(d))
            })
    });
    items.sort_by(|a, b| {
        let due = |v: &ComplaintView| v.complaint.next_due();
        (due(a).is_none(), due(a), &a.complaint.id).cmp(&(
            due(b).is_none(),
            due(b),
            &b.complaint.id,
        ))
    });
    Ok(items)
}

/// The queue's table for `actor`, filtered by `f`: the page's live part.
async fn queue_part(app: &App, actor: &Actor, lang: Lang, f: &Filters) -> Result<String, UiError> {
    let items = queue_items(app, actor, f).await?;
    Ok(page::queue_table(
        &ctx(app, actor, lang),
        &items,
        "open_count",
    ))
}

async fn queue_page(
    State(app): State<App>,
    Viewer(actor): Viewer,
    headers: HeaderMap,
    Query(f): Query<Filters>,
) -> Result<Page, UiError> {
    let lang = lang(&app, &headers);
    let ctx = ctx(&app, &actor, lang);
    let staff = matches!(actor.kind, ActorKind::Staff { .. });
    let mut main = String::new();
    if staff {
        main.push_str(&page::filters(&ctx, &f));
    }
    main.push_str(&queue_part(&app, &actor, lang, &f).await?);
    let title = lang.t(if staff { "queue" } else { "mine" });
    Ok(Page(
        StatusCode::OK,
        page::layout(&ctx, title, "/ui", &main),
    ))
}

async fn queue_fragment(
    State(app): State<App>,
    Acting(actor): Acting,
    headers: HeaderMap,
    Query(f): Query<Filters>,
) -> Result<Page, UiError> {
    let html = queue_part(&app, &actor, lang(&app, &headers), &f).await?;
    Ok(Page(StatusCode::OK, html))
}

fn complaint_id(id: &str) -> Result<ComplaintId, UiError> {
    ComplaintId::new(id)
        .map_err(|e| UiError::plain(StatusCode::BAD_REQUEST, "bad_request", &e.to_string()))
}

/// A complaint's live part for `actor`.
async fn live_part(
    app: &App,
    id: &ComplaintId,
    actor: &Actor,
    lang: Lang,
) -> Result<String, UiError> {
    let view = app.engine.view(id, actor).await?;
    let history = app.engine.history_for(id, actor).await?;
    let offer = app.engine.available_for(id, actor).await?;
    Ok(page::complaint_live(
        &ctx(app, actor, lang),
        &view,
        &history,
        &offer,
    ))
}

/// The complaint page, with `notice` (a refusal) above its live part.
async fn complaint_html(
    app: &App,
    id: &ComplaintId,
    actor: &Actor,
    lang: Lang,
    notice: &str,
) -> Result<String, UiError> {
    let live = live_part(app, id, actor, lang).await?;
    let ctx = ctx(app, actor, lang);
    let main = format!("{notice}{live}");
    Ok(page::layout(
        &ctx,
        id.as_str(),
        &format!("/ui/complaints/{}", id.as_str()),
        &main,
    ))
}

async fn complaint_page(
    State(app): State<App>,
    Viewer(actor): Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Page, UiError> {
    let id = complaint_id(&id)?;
    let html = complaint_html(&app, &id, &actor, lang(&app, &headers), "").await?;
    Ok(Page(StatusCode::OK, html))
}

async fn complaint_fragment(
    State(app): State<App>,
    Acting(actor): Acting,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Page, UiError> {
    let id = complaint_id(&id)?;
    let html = live_part(&app, &id, &actor, lang(&app, &headers)).await?;
    Ok(Page(StatusCode::OK, html))
}

/// A command from a form: the engine decides; a refusal is shown on the complaint's page
/// with the engine's code and reason (and the status the API would answer), an accepted
/// command goes back to the page.
async fn command(
    State(app): State<App>,
    Viewer(actor): Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let id = complaint_id(&id)?;
    let lang = lang(&app, &headers);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let refuse = |status: StatusCode, code: &str, message: &str| {
        let app = app.clone();
        let (id, actor) = (id.clone(), actor.clone());
        let notice = page::refusal(lang, code, message);
        async move {
            let html = complaint_html(&app, &id, &actor, lang, &notice).await?;
            Ok::<_, UiError>(Page(status, html).into_response())
        }
    };
    let kind: Option<CommandKind> =
        get("command").and_then(|c| serde_json::from_value(serde_json::json!(c)).ok());
    let key = get("key").and_then(|k| CommandId::new(k.trim()).ok());
    let (Some(kind), Some(key)) = (kind, key) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the form names no command or key",
        )
        .await;
    };
    let command = match form::command(kind, &fields, app.engine.current_policy(), lang) {
        Ok(c) => c,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, "bad_request", &why).await,
    };
    match app.engine.execute(key, &id, command, &actor).await {
        Ok(_) => {
            app.live.poke();
            Ok(Redirect::to(&format!("/ui/complaints/{}", id.as_str())).into_response())
        }
        Err(e) => {
            let body = ErrorBody::from(&e);
            let status = status_of(&body.code);
            if status.is_server_error() {
                return Err(e.into());
            }
            refuse(status, &body.code, &body.message).await
        }
    }
}

async fn ledger(
    State(app): State<App>,
    Viewer(actor): Viewer,
    headers: HeaderMap,
) -> Result<Page, UiError> {
    staff_only(&actor)?;
    let lang = lang(&app, &headers);
    let mut items = everything(&app, ListQuery::new(), &actor).await?;
    items.retain(|v| v.complaint.in_ledger);
    items.sort_by(|a, b| {
        b.complaint
            .intake
            .received_at
            .cmp(&a.complaint.intake.received_at)
    });
    let ctx = ctx(&app, &actor, lang);
    let main = page::queue_table(&ctx, &items, "in_ledger");
    Ok(Page(
        StatusCode::OK,
        page::layout(&ctx, lang.t("ledger"), "/ui/ledger", &main),
    ))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct MonthPick {
    m: Option<String>,
}

/// `/ui/month`: the month asked for (`?m=yyyy-mm`), else this one in the policy's zone.
async fn month_pick(State(app): State<App>, Query(pick): Query<MonthPick>) -> Redirect {
    let m = pick
        .m
        .filter(|m| Period::parse_month(m).is_some())
        .unwrap_or_else(|| {
            let now = app.engine.clock().now();
            now.with_timezone(&app.engine.current_policy().time_zone())
                .format("%Y-%m")
                .to_string()
        });
    Redirect::to(&format!("/ui/month/{m}"))
}

async fn month(
    State(app): State<App>,
    Viewer(actor): Viewer,
    headers: HeaderMap,
    Path(m): Path<String>,
) -> Result<Page, UiError> {
    staff_only(&actor)?;
    let lang = lang(&app, &headers);
    let period = Period::parse_month(&m).ok_or_else(|| {
        UiError::plain(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the month must be written yyyy-mm",
        )
    })?;
    let engine = &app.engine;
    let report = Report::from_store(engine.store(), engine.current_policy(), period)
        .await
        .map_err(EngineError::from)?;
    let ctx = ctx(&app, &actor, lang);
    let mut main = format!(
        "<form class=\"filters\" method=\"get\" action=\"/ui/month\"><label for=\"m\">{}</label>\
<input id=\"m\" name=\"m\" type=\"month\" value=\"{m}\" required><button type=\"submit\">{}</button></form><p class=\"months\">",
        lang.t("report_for"),
        lang.t("show"),
        m = esc(&m),
    );
    for (first, key) in [(period.previous().from, "previous"), (period.to, "next")] {
        let other = first.format("%Y-%m");
        let _ = write!(main, "<a href=\"/ui/month/{other}\">{}</a> ", lang.t(key));
    }
    let _ = write!(
        main,
        "</p><dl class=\"facts\"><dt>{}</dt><dd id=\"received\">{}</dd></dl>",
        lang.t("total"),
        report.received
    );
    for (chart, name) in [
        (Chart::Compliance, "compliance"),
        (Chart::Trend, "trend"),
        (Chart::Categories, "categories"),
    ] {
        let _ = write!(
            main,
            "<figure class=\"chart\" data-chart=\"{name}\">{}</figure>",
            report.svg(chart)
        );
    }
    let title = format!("{} {}", lang.t("month"), m);
    Ok(Page(
        StatusCode::OK,
        page::layout(&ctx, &title, "/ui/month", &main),
    ))
}

async fn sign_in_page(State(app): State<App>, headers: HeaderMap) -> Page {
    let lang = lang(&app, &headers);
    Page(StatusCode::OK, sign_in_html(&app, lang, ""))
}

fn sign_in_html(app: &App, lang: Lang, notice: &str) -> String {
    let policy = app.engine.current_policy();
    let mut departments = format!("<option value=\"\">{}</option>", lang.t("none"));
    for d in &policy.departments {
        let _ = write!(
            departments,
            "<option value=\"{k}\">{k}</option>",
            k = esc(d.key.as_str())
        );
    }
    format!(
        "<!doctype html><html lang=\"{tag}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
<link rel=\"stylesheet\" href=\"/ui/static/dashboard.css\"></head><body><main id=\"main\">\
<h1>{title}</h1>{notice}<form method=\"post\" action=\"/ui/sign-in\" class=\"command\"><fieldset><legend>{title}</legend>\
<label for=\"actor-id\">{id}</label><input id=\"actor-id\" name=\"id\" required autocomplete=\"username\">\
<label for=\"actor-kind\">{kind}</label><select id=\"actor-kind\" name=\"kind\"><option value=\"staff\">{staff}</option>\
<option value=\"complainant\">{customer}</option></select>\
<label for=\"actor-roles\">{roles}</label><input id=\"actor-roles\" name=\"roles\">\
<label for=\"actor-department\">{department}</label><select id=\"actor-department\" name=\"department\">{departments}</select>\
<button type=\"submit\">{title}</button></fieldset></form></main></body></html>",
        tag = lang.tag(),
        title = lang.t("sign_in"),
        id = lang.t("actor_id"),
        kind = lang.t("kind"),
        staff = lang.t("staff"),
        customer = lang.t("customer"),
        roles = lang.t("roles"),
        department = lang.t("department"),
    )
}

/// Signs in for development: the actor the form names, kept in the cookie
/// [`crate::DevelopmentHeaders`] reads. It trusts the form as the headers trust the client.
async fn sign_in(
    State(app): State<App>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.trim())
    };
    let roles: Vec<&str> = get("roles")
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    let value = crate::identify::dev_cookie(get("kind"), get("id"), &roles, get("department"));
    match value {
        Ok(value) => {
            let cookie = format!(
                "{}={value}; Path=/; SameSite=Strict; HttpOnly",
                crate::identify::DEV_COOKIE
            );
            let mut res = Redirect::to("/ui").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => {
            let lang = lang(&app, &headers);
            let notice = page::refusal(lang, "unauthenticated", &e.to_string());
            Page(
                StatusCode::UNPROCESSABLE_ENTITY,
                sign_in_html(&app, lang, &notice),
            )
            .into_response()
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Switch {
    to: String,
    back: String,
}

/// The language switch: keeps the choice in a cookie and goes back to the page (only ever
/// a page of the dashboard).
async fn switch_lang(Query(s): Query<Switch>) -> Response {
    let to = if s.to == "zh" { "zh" } else { "en" };
    let back = if s.back.starts_with("/ui") && !s.back.starts_with("//") {
        s.back.as_str()
    } else {
        "/ui"
    };
    let mut res = Redirect::to(back).into_response();
    let cookie = format!("{LANG_COOKIE}={to}; Path=/; SameSite=Strict");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// Server-Sent Events: `changed` with the ids of the complaints that changed (`*` when some
/// were missed), for the actor's eyes: a complainant hears only of their own.
async fn events(
    State(app): State<App>,
    Acting(actor): Acting,
) -> Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = app.live.subscribe(&app.engine);
    let mut closing = app.live.closing.subscribe();
    let mut ready = app.live.ready.subscribe();
    tokio::select! {
        _ = ready.wait_for(|r| *r) => {}
        _ = closing.wait_for(|c| *c) => {}
    }
    let state = (rx, closing, app, actor);
    let stream =
        futures_util::stream::unfold(state, |(mut rx, mut closing, app, actor)| async move {
            loop {
                let ids = tokio::select! {
                    _ = closing.wait_for(|c| *c) => return None,
                    got = rx.recv() => got,
                };
                let data = match ids {
                    Ok(ids) => {
                        let mut shown = Vec::new();
                        for id in ids.iter() {
                            let visible = match actor.kind {
                                ActorKind::Complainant => app.engine.view(id, &actor).await.is_ok(),
                                _ => true,
                            };
                            if visible {
                                shown.push(id.as_str());
                            }
                        }
                        if shown.is_empty() {
                            continue;
                        }
                        shown.join(" ")
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => "*".to_owned(),
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                let event = SseEvent::default().event("changed").data(data);
                return Some((Ok(event), (rx, closing, app, actor)));
            }
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("max-age=300"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", include_str!("dashboard.css"))
}

async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("dashboard.js"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; plaint-lang=zh; b=2"),
        );
        assert_eq!(cookie(&h, LANG_COOKIE), Some("zh"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
