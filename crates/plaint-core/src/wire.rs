//! The wire format a service publishes: the JSON Schemas of its payloads and the error body.
//!
//! A service that embeds plaint takes [`Command`]s as JSON and answers with a [`Complaint`],
//! its history (a list of [`Recorded`]) or an [`ErrorBody`]. Their JSON is the serde form of
//! these types; the schemas below describe it and are committed in the repository's
//! `schema/` directory (`docs/wire.md` shows every command with an example).
//!
//! Every error has a stable machine-readable code ([`EngineError::code`]); the body says
//! only what the request's own actor may know: the message of a store failure never names
//! files or the backend's own words, and `command_id_reused` never says what the id was
//! first used for.

use crate::complaint::Complaint;
use crate::engine::EngineError;
use crate::id::{ActionKey, CommandId, ComplaintId, TierKey};
use crate::lifecycle::{Command, CommandKind, ForbiddenReason, Recorded, Rejection, StageKind};
use crate::money::Money;
use crate::store::{StoreError, StoreFailure};
use serde::{Deserialize, Serialize};

/// Every error code an [`ErrorBody`] may carry, in the order `docs/wire.md` lists them.
/// New codes may be added; a client should treat an unknown code like a generic failure.
pub const ERROR_CODES: &[&str] = &[
    "forbidden",
    "illegal_transition",
    "invalid",
    "conflict",
    "not_found",
    "nothing_due",
    "already_exists",
    "command_id_reused",
    "policy_version_unknown",
    "duplicate_command",
    "store_malformed",
    "store_locked",
    "store_poisoned",
    "store_corrupt",
    "store_unsupported_format",
    "store_unavailable",
];

/// The JSON body of an error answer: `{ "code": "forbidden", "message": "…", "details": {…} }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct ErrorBody {
    /// The stable machine-readable code (one of [`ERROR_CODES`]).
    pub code: String,
    /// A sentence for people; its wording may change, the code does not.
    pub message: String,
    /// What the code is about, where there is something to say (absent otherwise).
    #[serde(default, skip_serializing_if = "ErrorDetails::is_empty")]
    pub details: ErrorDetails,
}

/// The particulars of an [`ErrorBody`]; each code fills the fields that concern it and
/// leaves the rest out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct ErrorDetails {
    /// The command kind tried (`forbidden`, `illegal_transition`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandKind>,
    /// Why not, as a code (`forbidden`: `no_role`, `not_responsible`, `over_cap`, …; see
    /// [`ForbiddenReason::code`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The stage the complaint is in (`illegal_transition`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageKind>,
    /// The command's field that is wrong (`invalid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The version the command was decided on (`conflict`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
    /// The version found when appending (`conflict`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_version: Option<u64>,
    /// The complaint the request named (`already_exists`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaint: Option<ComplaintId>,
    /// The command id the request carried (`command_id_reused`, `duplicate_command`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<CommandId>,
    /// The complaint's tier (`forbidden` / `tier_not_approvable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<TierKey>,
    /// The action kind (`forbidden` / `action_not_for_role`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionKey>,
    /// The amount proposed (`forbidden` / `over_cap`, `over_approval_limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// The remedy's cap (`forbidden` / `over_cap`) or the actor's highest approval limit
    /// (`forbidden` / `over_approval_limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Money>,
}

impl ErrorBody {
    /// A body without details, for errors a service raises itself (a missing header, an
    /// unknown route): `code` should be a code of the service's own, not one of
    /// [`ERROR_CODES`] it does not mean.
    ///
    /// ```
    /// let body = plaint_core::ErrorBody::new("unauthenticated", "no actor in the request");
    /// assert_eq!(
    ///     serde_json::to_string(&body).unwrap(),
    ///     r#"{"code":"unauthenticated","message":"no actor in the request"}"#
    /// );
    /// ```
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            details: ErrorDetails::default(),
        }
    }
}

impl ErrorDetails {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl From<&Rejection> for ErrorBody {
    fn from(r: &Rejection) -> Self {
        let mut details = ErrorDetails::default();
        match r {
            Rejection::Forbidden {
                command, reason, ..
            } => {
                details.command = Some(*command);
                details.reason = Some(reason.code().to_owned());
                match reason {
                    ForbiddenReason::TierNotApprovable { tier } => {
                        details.tier = Some(tier.clone())
                    }
                    ForbiddenReason::OverCap { cap, amount } => {
                        details.limit = Some(*cap);
                        details.amount = Some(*amount);
                    }
                    ForbiddenReason::OverApprovalLimit { limit, amount } => {
                        details.limit = Some(*limit);
                        details.amount = Some(*amount);
                    }
                    ForbiddenReason::ActionNotForRole { action } => {
                        details.action = Some(action.clone());
                    }
                    _ => {}
                }
            }
            Rejection::IllegalTransition { from, command } => {
                details.command = Some(*command);
                details.stage = Some(*from);
            }
            Rejection::Invalid { field, .. } => details.field = Some((*field).to_owned()),
            Rejection::Conflict { expected, actual } => {
                details.expected_version = Some(*expected);
                details.actual_version = Some(*actual);
            }
            Rejection::AlreadyExists(id) => details.complaint = Some(id.clone()),
            Rejection::NotFound | Rejection::NothingDue => {}
        }
        Self {
            code: r.code().to_owned(),
            message: r.to_string(),
            details,
        }
    }
}

impl From<&StoreError> for ErrorBody {
    /// The body of a store failure: its code and a fixed sentence, never the backend's own
    /// message (which may name files and paths).
    fn from(e: &StoreError) -> Self {
        let mut details = ErrorDetails::default();
        let message = match e {
            StoreError::Conflict { expected, actual } => {
                details.expected_version = Some(*expected);
                details.actual_version = Some(*actual);
                "the complaint changed concurrently"
            }
            StoreError::DuplicateCommand(id) => {
                details.command_id = Some(id.clone());
                "the command id was already recorded"
            }
            StoreError::Malformed(_) => "the store refused an inconsistent write",
            StoreError::Backend { kind, .. } => match kind {
                StoreFailure::Locked => "the store is in use by another process",
                StoreFailure::Poisoned => "the store refuses writes after an earlier failure",
                StoreFailure::Corrupt => "the store's data is damaged",
                StoreFailure::UnsupportedFormat => "the store's data is of a newer format",
                StoreFailure::Unavailable => "the store is unavailable",
            },
        };
        Self {
            code: e.code().to_owned(),
            message: message.to_owned(),
            details,
        }
    }
}

impl From<&EngineError> for ErrorBody {
    fn from(e: &EngineError) -> Self {
        match e {
            EngineError::Rejected(r) => r.into(),
            EngineError::Store(s) => s.into(),
            EngineError::UnknownPolicyVersion { .. } => Self {
                code: e.code().to_owned(),
                message: "the complaint follows a policy version this service does not hold"
                    .to_owned(),
                details: ErrorDetails::default(),
            },
            EngineError::CommandIdReused { command } => Self {
                code: e.code().to_owned(),
                message: e.to_string(),
                details: ErrorDetails {
                    command_id: Some(command.clone()),
                    ..ErrorDetails::default()
                },
            },
        }
    }
}

fn schema<T: schemars::JsonSchema + ?Sized>(serialize: bool) -> String {
    let settings = schemars::generate::SchemaSettings::draft2020_12();
    let settings = if serialize {
        settings.for_serialize()
    } else {
        settings.for_deserialize()
    };
    let schema = settings.into_generator().into_root_schema_for::<T>();
    serde_json::to_string_pretty(&schema).expect("a schema serializes") + "\n"
}

/// The JSON Schema of a [`Command`] as a service receives it (`schema/command.schema.json`).
pub fn command_schema() -> String {
    schema::<Command>(false)
}

/// The JSON Schema of a [`Complaint`] as a service returns it
/// (`schema/complaint.schema.json`).
pub fn complaint_schema() -> String {
    schema::<Complaint>(true)
}

/// The JSON Schema of a complaint's history, the list of its [`Recorded`] events in version
/// order (`schema/history.schema.json`).
pub fn history_schema() -> String {
    schema::<Vec<Recorded>>(true)
}

/// The JSON Schema of an [`ErrorBody`] (`schema/error.schema.json`).
pub fn error_schema() -> String {
    schema::<ErrorBody>(true)
}

/// The JSON Schema of a [`crate::ComplaintView`], a complaint as one actor may see it
/// (`schema/view.schema.json`): what a service returns to a person.
pub fn view_schema() -> String {
    schema::<crate::ComplaintView>(true)
}

/// The JSON Schema of a [`crate::ViewPage`], a listing as one actor may see it
/// (`schema/view-page.schema.json`).
pub fn view_page_schema() -> String {
    schema::<crate::ViewPage>(true)
}

/// The JSON Schema of a [`crate::ListQuery`] as a service receives it
/// (`schema/list-query.schema.json`).
pub fn list_query_schema() -> String {
    schema::<crate::ListQuery>(false)
}

/// Every wire schema with the name of its file under `schema/`.
pub fn schemas() -> [(&'static str, String); 7] {
    [
        ("command.schema.json", command_schema()),
        ("complaint.schema.json", complaint_schema()),
        ("history.schema.json", history_schema()),
        ("error.schema.json", error_schema()),
        ("view.schema.json", view_schema()),
        ("view-page.schema.json", view_page_schema()),
        ("list-query.schema.json", list_query_schema()),
    ]
}
