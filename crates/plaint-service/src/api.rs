//! The HTTP API: routes, the actor of each request, and errors as [`ErrorBody`] with a status.
//!
//! Every answer a person gets is a view for the request's actor ([`plaint::Engine::view`],
//! [`plaint::Engine::history_for`], [`plaint::Engine::list_for`]), but one: a complainant's
//! export ([`plaint::Engine::export_complainant`]), everything held about them, which the
//! engine gives only to the complainant themselves and to roles that may erase. Every error
//! is an [`ErrorBody`] whose status follows its code ([`status_of`]).
//!
//! A complainant's personal data (PIPL, GDPR): `POST /complainants/{id}/erase` with
//! `{"reason": "…"}` erases it in every complaint of theirs
//! ([`plaint::Engine::erase_complainant`]) and answers with a [`plaint::Erasure`] — the
//! complaints erased now and those erased before; a complainant the store holds nothing
//! about is answered `200` with both lists empty (there is nothing to erase), so the
//! answer to someone who may not erase (403) is the same whether or not they exist.
//! `GET /complainants/{id}/export` answers with the [`plaint::Export`] document.

use crate::{Identify, IdentifyError, ServiceEngine};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use plaint::report::{Chart, Period, Report};
use plaint::{
    Actor, ActorId, ActorKind, Channel, Command, CommandId, ComplaintId, EngineError, ErrorBody,
    ListQuery, NotificationKind, OutboxEntry, Recipient,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) engine: Arc<ServiceEngine>,
    pub(crate) identify: Arc<dyn Identify>,
    /// The dashboard's live updates, told of every command taken here.
    pub(crate) live: Arc<crate::dashboard::Live>,
}

/// The routes, over `app`.
pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/complaints", get(list))
        .route("/complaints/{id}", get(view))
        .route("/complaints/{id}/history", get(history))
        .route("/complaints/{id}/commands", post(command))
        .route("/complainants/{id}/erase", post(erase))
        .route("/complainants/{id}/export", get(export))
        .route("/dead-letters", get(dead_letters))
        .route("/dead-letters/{id}/retry", post(retry_dead_letter))
        .route("/reports/{month}", get(report))
        .route("/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .merge(crate::dashboard::router())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .with_state(app)
}

/// The HTTP status of an error code: `forbidden` 403; `not_found` 404; `illegal_transition`,
/// `conflict`, `already_exists`, `duplicate_command` and `nothing_due` 409 (the request
/// does not fit the complaint's state now); `invalid` and `command_id_reused` 422 (the
/// request itself is wrong: reusing an `Idempotency-Key` for another request is 422, as
/// the IETF Idempotency-Key draft has it); `store_locked`, `store_poisoned` and
/// `store_unavailable` 503 (try again later, or after a restart); every other code 500
/// (damaged or newer data, a policy version the service lacks, codes added later).
/// The service's own codes: `unauthenticated` 401, `bad_request` 400.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        "unauthenticated" => StatusCode::UNAUTHORIZED,
        "bad_request" => StatusCode::BAD_REQUEST,
        "forbidden" => StatusCode::FORBIDDEN,
        "not_found" => StatusCode::NOT_FOUND,
        "illegal_transition" | "conflict" | "already_exists" | "duplicate_command"
        | "nothing_due" => StatusCode::CONFLICT,
        "invalid" | "command_id_reused" => StatusCode::UNPROCESSABLE_ENTITY,
        "store_locked" | "store_poisoned" | "store_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error answer: a status and an [`ErrorBody`] (boxed: error paths are rare, and a
/// `Result` with it stays small).
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: Box<ErrorBody>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Box::new(ErrorBody::new(code, message)),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn staff_only(actor: &Actor) -> Result<(), Self> {
        match actor.kind {
            ActorKind::Staff { .. } => Ok(()),
            _ => Err(Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "only staff may use this",
            )),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let body = ErrorBody::from(&e);
        let status = status_of(&body.code);
        if status.is_server_error() {
            // The body says only the fixed sentence; the log keeps the backend's own words.
            tracing::error!(error = %e, code = %body.code, "request failed");
        }
        Self {
            status,
            body: Box::new(body),
        }
    }
}

impl From<IdentifyError> for ApiError {
    fn from(e: IdentifyError) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(*self.body)).into_response()
    }
}

type Answer<T> = Result<Json<T>, ApiError>;

/// The request's actor, from the service's [`Identify`].
pub(crate) struct Acting(pub(crate) Actor);

impl FromRequestParts<App> for Acting {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        Ok(Self(app.identify.actor(parts)?))
    }
}

/// A JSON body, its faults answered as `bad_request`.
struct Body<T>(T);

impl<T: serde::de::DeserializeOwned> FromRequest<App> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, app: &App) -> Result<Self, ApiError> {
        Json::<T>::from_request(req, app)
            .await
            .map(|Json(t)| Self(t))
            .map_err(|e: JsonRejection| ApiError::bad_request(e.body_text()))
    }
}

/// A query string, its faults answered as `bad_request`.
struct QueryOf<T>(T);

impl<T: serde::de::DeserializeOwned> FromRequestParts<App> for QueryOf<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, app)
            .await
            .map(|Query(t)| Self(t))
            .map_err(|e: QueryRejection| ApiError::bad_request(e.body_text()))
    }
}

fn complaint_id(id: &str) -> Result<ComplaintId, ApiError> {
    ComplaintId::new(id).map_err(|e| ApiError::bad_request(format!("complaint id: {e}")))
}

fn complainant_id(id: &str) -> Result<ActorId, ApiError> {
    ActorId::new(id).map_err(|e| ApiError::bad_request(format!("complainant id: {e}")))
}

/// What `POST /complainants/{id}/erase` reads.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EraseRequest {
    /// Why, for the audit trail (a deletion request and its ticket, …); must not be blank.
    reason: String,
}

async fn erase(
    State(app): State<App>,
    Acting(actor): Acting,
    Path(id): Path<String>,
    Body(request): Body<EraseRequest>,
) -> Answer<plaint::Erasure> {
    let id = complainant_id(&id)?;
    let erased = app
        .engine
        .erase_complainant(&id, &actor, &request.reason)
        .await;
    // Complaints erased before an error stay erased: the dashboard is told either way.
    app.live.poke();
    Ok(Json(erased?))
}

async fn export(
    State(app): State<App>,
    Acting(actor): Acting,
    Path(id): Path<String>,
) -> Answer<plaint::Export> {
    let id = complainant_id(&id)?;
    Ok(Json(app.engine.export_complainant(&id, &actor).await?))
}

async fn command(
    State(app): State<App>,
    Acting(actor): Acting,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    Body(command): Body<Command>,
) -> Answer<plaint::ComplaintView> {
    let id = complaint_id(&id)?;
    let key = headers
        .get("idempotency-key")
        .ok_or_else(|| ApiError::bad_request("the Idempotency-Key header is required"))?;
    let key = key
        .to_str()
        .ok()
        .and_then(|k| CommandId::new(k.trim()).ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "the Idempotency-Key header must be 1 to 128 letters, digits or -_.:/",
            )
        })?;
    let state = app.engine.execute(key, &id, command, &actor).await?;
    app.live.poke();
    // The complaint as the command left it, which a retry gets again.
    Ok(Json(app.engine.view_of(state, &actor).await?))
}

async fn view(
    State(app): State<App>,
    Acting(actor): Acting,
    Path(id): Path<String>,
) -> Answer<plaint::ComplaintView> {
    Ok(Json(app.engine.view(&complaint_id(&id)?, &actor).await?))
}

async fn history(
    State(app): State<App>,
    Acting(actor): Acting,
    Path(id): Path<String>,
) -> Answer<Vec<plaint::Recorded>> {
    Ok(Json(
        app.engine.history_for(&complaint_id(&id)?, &actor).await?,
    ))
}

/// A page of complaints and how many match in all.
#[derive(Debug, Serialize)]
struct Listing {
    #[serde(flatten)]
    page: plaint::ViewPage,
    total: u64,
}

async fn list(
    State(app): State<App>,
    Acting(actor): Acting,
    QueryOf(query): QueryOf<ListQuery>,
) -> Answer<Listing> {
    let page = app.engine.list_for(&query, &actor).await?;
    let total = app.engine.count_for(&query, &actor).await?;
    Ok(Json(Listing { page, total }))
}

/// A dead letter as the API shows it: everything but the text, which may hold a contact.
#[derive(Debug, Serialize)]
struct DeadLetter {
    id: String,
    complaint: ComplaintId,
    kind: NotificationKind,
    recipient: Recipient,
    channel: Channel,
    attempts: u32,
    last_error: Option<String>,
}

impl From<OutboxEntry> for DeadLetter {
    fn from(e: OutboxEntry) -> Self {
        let n = e.notification;
        Self {
            id: n.id.to_string(),
            complaint: n.complaint,
            kind: n.kind,
            recipient: n.recipient,
            channel: n.channel,
            attempts: e.attempts,
            last_error: e.last_error,
        }
    }
}

async fn dead_letters(State(app): State<App>, Acting(actor): Acting) -> Answer<Vec<DeadLetter>> {
    ApiError::staff_only(&actor)?;
    let letters = app.engine.dead_letters().await?;
    Ok(Json(letters.into_iter().map(DeadLetter::from).collect()))
}

/// What a retry did.
#[derive(Debug, Serialize)]
struct Requeued {
    requeued: bool,
}

async fn retry_dead_letter(
    State(app): State<App>,
    Acting(actor): Acting,
    Path(id): Path<String>,
) -> Answer<Requeued> {
    ApiError::staff_only(&actor)?;
    let letters = app.engine.dead_letters().await?;
    let Some(letter) = letters.iter().find(|e| e.notification.id.to_string() == id) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no dead letter has that id",
        ));
    };
    let requeued = app
        .engine
        .retry_dead_letter(&letter.notification.id)
        .await?;
    Ok(Json(Requeued { requeued }))
}

/// The report's rendering: `json` (default), `md`, `csv` or `svg` (with `chart`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReportFormat {
    format: Option<String>,
    chart: Option<String>,
}

async fn report(
    State(app): State<App>,
    Acting(actor): Acting,
    Path(month): Path<String>,
    QueryOf(format): QueryOf<ReportFormat>,
) -> Result<Response, ApiError> {
    ApiError::staff_only(&actor)?;
    let period = Period::parse_month(&month)
        .ok_or_else(|| ApiError::bad_request("the month must be written yyyy-mm"))?;
    let chart = match format.chart.as_deref() {
        None | Some("compliance") => Chart::Compliance,
        Some("trend") => Chart::Trend,
        Some("categories") => Chart::Categories,
        Some(_) => {
            return Err(ApiError::bad_request(
                "chart is one of compliance, trend, categories",
            ));
        }
    };
    let format = format.format.unwrap_or_else(|| "json".to_owned());
    if !matches!(format.as_str(), "json" | "md" | "csv" | "svg") {
        return Err(ApiError::bad_request("format is one of json, md, csv, svg"));
    }
    let engine = &app.engine;
    let report = Report::from_store(engine.store(), engine.current_policy(), period)
        .await
        .map_err(EngineError::from)?;
    let text = |content_type: &'static str, text: String| {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            text,
        )
            .into_response()
    };
    Ok(match format.as_str() {
        "md" => text("text/markdown; charset=utf-8", report.to_markdown()),
        "csv" => text("text/csv; charset=utf-8", report.to_csv()),
        "svg" => text("image/svg+xml", report.svg(chart)),
        _ => Json(report).into_response(),
    })
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        crate::openapi::document(),
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_code_has_its_status() {
        for code in plaint::wire::ERROR_CODES {
            let status = status_of(code);
            let expected = match *code {
                "forbidden" => 403,
                "not_found" => 404,
                "invalid" | "command_id_reused" => 422,
                "illegal_transition" | "conflict" | "already_exists" | "duplicate_command"
                | "nothing_due" => 409,
                "store_locked" | "store_poisoned" | "store_unavailable" => 503,
                "store_malformed"
                | "store_corrupt"
                | "store_unsupported_format"
                | "policy_version_unknown" => 500,
                other => panic!("a code the service does not know: {other}"),
            };
            assert_eq!(status.as_u16(), expected, "{code}");
        }
    }
}
