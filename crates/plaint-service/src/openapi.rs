//! The service's OpenAPI 3.1 document, assembled from plaint's wire schemas
//! ([`plaint::wire::schemas`]): nothing in it describes a payload by hand but the few the
//! service adds (a listing's total, a dead letter, a retry's answer, an erasure's answer) or
//! composes from them (a complainant's export: states and histories).
//!
//! Each wire schema's `$defs` move to `components/schemas`: a definition the schemas share
//! and describe alike appears once; one a request schema describes otherwise than the
//! answers do (a field with a default is optional in a request, always present in an
//! answer) appears again as `<Schema>.<Definition>` (`Command.Intake`). The
//! list query's properties become the query parameters of `GET /complaints`. The committed
//! copy is `schema/openapi.json`; the crate's `tests/openapi.rs` fails when it is stale.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The OpenAPI document, pretty-printed with a final newline (as committed in
/// `schema/openapi.json`).
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        serde_json::to_string_pretty(&build()).expect("a JSON value serializes") + "\n"
    })
}

/// The component name of each wire schema file.
fn root_name(file: &str) -> &'static str {
    match file {
        "command.schema.json" => "Command",
        "complaint.schema.json" => "Complaint",
        "history.schema.json" => "History",
        "error.schema.json" => "ErrorBody",
        "view.schema.json" => "ComplaintView",
        "view-page.schema.json" => "ViewPage",
        "list-query.schema.json" => "ListQuery",
        _ => "Unnamed",
    }
}

/// Rewrites every `#/$defs/X` reference in `v` by `names`.
fn rewrite_refs(v: &mut Value, names: &BTreeMap<String, String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == "$ref"
                    && let Value::String(r) = child
                    && let Some(def) = r.strip_prefix("#/$defs/")
                {
                    let name = names.get(def).map_or(def, String::as_str);
                    *r = format!("#/components/schemas/{name}");
                } else {
                    rewrite_refs(child, names);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite_refs(i, names)),
        _ => {}
    }
}

/// The `#/$defs/X` names `v` references.
fn referenced(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("$ref", Value::String(r)) => {
                        out.extend(r.strip_prefix("#/$defs/").map(str::to_owned));
                    }
                    _ => referenced(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| referenced(i, out)),
        _ => {}
    }
}

/// `components/schemas`: every wire schema and its definitions.
fn components() -> Map<String, Value> {
    let mut out = Map::new();
    // Each component as a definition's text would read with its references unrenamed.
    let mut plain: BTreeMap<String, Value> = BTreeMap::new();
    // What the service answers with first, so the types it also reads (in a command, a
    // query) are the ones that get a prefix where they differ.
    let mut schemas = plaint::wire::schemas();
    schemas.sort_by_key(|(file, _)| {
        (
            file.starts_with("command") || file.starts_with("list-query"),
            *file,
        )
    });
    for (file, text) in schemas {
        let root = root_name(file);
        let mut schema: Value = serde_json::from_str(&text).expect("a wire schema is JSON");
        let Value::Object(obj) = &mut schema else {
            continue;
        };
        obj.remove("$schema");
        obj.remove("title");
        let defs = match obj.remove("$defs") {
            Some(Value::Object(defs)) => defs,
            _ => Map::new(),
        };
        let same = BTreeMap::new();
        let unrenamed = |v: &Value| {
            let mut v = v.clone();
            rewrite_refs(&mut v, &same);
            v
        };
        // A definition is shared when an earlier schema has it alike and so has everything
        // it refers to; the others are this schema's own.
        let mut own: std::collections::BTreeSet<&String> = defs
            .iter()
            .filter(|(name, def)| {
                *name == root || plain.get(*name).is_some_and(|p| *p != unrenamed(def))
            })
            .map(|(name, _)| name)
            .collect();
        loop {
            let more: Vec<&String> = defs
                .iter()
                .filter(|(name, def)| {
                    let mut refs = Vec::new();
                    referenced(def, &mut refs);
                    !own.contains(name) && refs.iter().any(|r| own.contains(r))
                })
                .map(|(name, _)| name)
                .collect();
            if more.is_empty() {
                break;
            }
            own.extend(more);
        }
        let names: BTreeMap<String, String> = defs
            .keys()
            .map(|name| {
                let component = match own.contains(name) {
                    true => format!("{root}.{name}"),
                    false => name.clone(),
                };
                (name.clone(), component)
            })
            .collect();
        for (name, mut def) in defs.clone() {
            plain
                .entry(names[&name].clone())
                .or_insert_with(|| unrenamed(&def));
            rewrite_refs(&mut def, &names);
            out.insert(names[&name].clone(), def);
        }
        plain.insert(root.to_owned(), unrenamed(&schema));
        rewrite_refs(&mut schema, &names);
        out.insert(root.to_owned(), schema);
    }
    out.insert(
        "Listing".to_owned(),
        json!({
            "description": "A page of complaints as the actor sees them, and how many match in all.",
            "allOf": [
                { "$ref": "#/components/schemas/ViewPage" },
                { "type": "object", "required": ["total"],
                  "properties": { "total": { "type": "integer", "minimum": 0,
                    "description": "How many complaints match the filters, over all pages." } } }
            ]
        }),
    );
    out.insert(
        "DeadLetter".to_owned(),
        json!({
            "description": "A notification given up on, without its text (which may hold a contact).",
            "type": "object",
            "required": ["id", "complaint", "kind", "recipient", "channel", "attempts"],
            "properties": {
                "id": { "type": "string", "description":
                    "`<complaint>/<version>/<kind>/<recipient>/<channel>`; percent-encode it in a path." },
                "complaint": { "type": "string" },
                "kind": { "type": "string", "description": "What it says (`acknowledged`, `clock_breached`, …)." },
                "recipient": { "type": "object", "description":
                    "`{\"to\": \"complainant\"}`, a department, the approvers, the responsible department or a role." },
                "channel": { "enum": ["sms", "email", "callback", "in_app"] },
                "attempts": { "type": "integer", "minimum": 0 },
                "last_error": { "type": ["string", "null"] }
            }
        }),
    );
    out.insert(
        "Erasure".to_owned(),
        json!({
            "description": "What an erasure did (plaint::Erasure). Both lists are empty for a \
                complainant the store holds nothing about.",
            "type": "object",
            "required": ["erased", "already"],
            "properties": {
                "erased": { "type": "array", "items": { "type": "string" },
                    "description": "The complaints whose personal data was erased now." },
                "already": { "type": "array", "items": { "type": "string" },
                    "description": "The complaints of theirs erased before, left as they were." }
            }
        }),
    );
    out.insert(
        "Export".to_owned(),
        json!({
            "description": "Everything held about one complainant (plaint::Export), unmasked: \
                the copy PIPL art. 45 and GDPR art. 20 give them.",
            "type": "object",
            "required": ["complainant", "exported_at", "complaints"],
            "properties": {
                "complainant": { "$ref": "#/components/schemas/ActorId" },
                "exported_at": { "type": "string", "format": "date-time",
                    "description": "When it was made (the service's clock)." },
                "complaints": { "type": "array", "description": "Each of their complaints, in id order.",
                    "items": { "type": "object", "required": ["state", "history"],
                        "properties": {
                            "state": { "$ref": "#/components/schemas/Complaint" },
                            "history": { "$ref": "#/components/schemas/History" }
                        } } }
            }
        }),
    );
    out
}

fn error_responses(codes: &[u16]) -> Map<String, Value> {
    codes
        .iter()
        .map(|code| {
            let what = match code {
                400 => "`bad_request`: a malformed id, header, query or body.",
                401 => "`unauthenticated`: no actor could be told from the request.",
                403 => "`forbidden`: the actor may not do this.",
                404 => "`not_found`: no such complaint, or one this complainant does not own.",
                409 => {
                    "`illegal_transition`, `conflict`, `already_exists`, `duplicate_command`: \
                     the request does not fit the complaint's state now."
                }
                422 => {
                    "`invalid`: a field of the command is wrong; `command_id_reused`: the \
                     Idempotency-Key was used for another request."
                }
                503 => "`store_locked`, `store_poisoned`, `store_unavailable`: try again later.",
                _ => "`store_corrupt`, `store_malformed`, `store_unsupported_format`, `policy_version_unknown`.",
            };
            (
                code.to_string(),
                json!({ "description": what, "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/ErrorBody" } } } }),
            )
        })
        .collect()
}

fn json_response(description: &str, schema: Value, errors: &[u16]) -> Value {
    let mut responses = error_responses(errors);
    responses.insert(
        "200".to_owned(),
        json!({ "description": description, "content": { "application/json": { "schema": schema } } }),
    );
    Value::Object(responses)
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The actor headers and the complaint id, referenced by every operation that needs them.
fn parameters() -> Value {
    let header = |name: &str, required: bool, description: &str| {
        json!({ "name": name, "in": "header", "required": required,
                "schema": { "type": "string" }, "description": description })
    };
    json!({
        "ComplaintId": { "name": "id", "in": "path", "required": true,
            "schema": { "type": "string" }, "description": "The complaint's id." },
        "ComplainantId": { "name": "id", "in": "path", "required": true,
            "schema": { "type": "string" },
            "description": "The complainant's actor id (a complaint's `intake.complainant.id`)." },
        "IdempotencyKey": { "name": "Idempotency-Key", "in": "header", "required": true,
            "schema": { "type": "string", "minLength": 1, "maxLength": 128 },
            "description": "The command id: a retry of the same request under it gets the first answer \
                and changes nothing; another request under it is refused (422, `command_id_reused`)." },
        "ActorId": header("X-Actor-Id", true,
            "Development identity (see `plaint_service::DevelopmentHeaders`): the actor's id. \
             A deployment replaces these headers by its identity provider."),
        "ActorKind": header("X-Actor-Kind", false, "`staff` (default) or `complainant`."),
        "ActorRoles": header("X-Actor-Roles", false, "Staff's roles, comma-separated."),
        "ActorDepartment": header("X-Actor-Department", false, "Staff's department."),
    })
}

fn with_actor(mut params: Vec<Value>) -> Value {
    for p in ["ActorId", "ActorKind", "ActorRoles", "ActorDepartment"] {
        params.push(json!({ "$ref": format!("#/components/parameters/{p}") }));
    }
    Value::Array(params)
}

fn build() -> Value {
    let schemas = components();
    let id = json!({ "$ref": "#/components/parameters/ComplaintId" });
    let complainant = json!({ "$ref": "#/components/parameters/ComplainantId" });
    let list_params: Vec<Value> = schemas["ListQuery"]["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .map(|(name, schema)| {
                    json!({ "name": name, "in": "query", "required": false, "schema": schema,
                            "description": schema.get("description").cloned().unwrap_or(Value::Null) })
                })
                .collect()
        })
        .unwrap_or_default();
    let text = |t: &str| json!({ t: { "schema": { "type": "string" } } });
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "plaint reference service",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Customer complaints handled under a company's policy. Every answer is \
                the complaint as the request's actor may see it; every error is an ErrorBody with \
                a stable code (docs/wire.md)."
        },
        "paths": {
            "/complaints/{id}/commands": { "post": {
                "summary": "Give a command on a complaint (`receive` creates it).",
                "operationId": "command",
                "parameters": with_actor(vec![id.clone(),
                    json!({ "$ref": "#/components/parameters/IdempotencyKey" })]),
                "requestBody": { "required": true, "content": { "application/json": {
                    "schema": reference("Command") } } },
                "responses": json_response("The complaint after the command, as the actor sees it.",
                    reference("ComplaintView"), &[400, 401, 403, 404, 409, 422, 500, 503]),
            } },
            "/complaints/{id}": { "get": {
                "summary": "A complaint as the actor sees it.",
                "operationId": "view",
                "parameters": with_actor(vec![id.clone()]),
                "responses": json_response("The complaint.", reference("ComplaintView"),
                    &[400, 401, 404, 500, 503]),
            } },
            "/complaints/{id}/history": { "get": {
                "summary": "A complaint's history as the actor sees it.",
                "operationId": "history",
                "parameters": with_actor(vec![id]),
                "responses": json_response("The events in version order.", reference("History"),
                    &[400, 401, 404, 500, 503]),
            } },
            "/complaints": { "get": {
                "summary": "A page of complaints (a complainant lists only their own).",
                "operationId": "list",
                "parameters": with_actor(list_params),
                "responses": json_response("A page and the total.", reference("Listing"),
                    &[400, 401, 500, 503]),
            } },
            "/complainants/{id}/erase": { "post": {
                "summary": "Erase a complainant's personal data in every complaint of theirs \
                    (roles whose `may` lists `erase_personal_data`).",
                "description": "Each complaint gets an audited `erase_personal_data` command with \
                    the reason; complaints erased before are left as they are, so a retry changes \
                    nothing. A complainant the store holds nothing about is answered 200 with both \
                    lists empty.",
                "operationId": "eraseComplainant",
                "parameters": with_actor(vec![complainant.clone()]),
                "requestBody": { "required": true, "content": { "application/json": {
                    "schema": { "type": "object", "required": ["reason"],
                        "additionalProperties": false,
                        "properties": { "reason": { "type": "string", "minLength": 1,
                            "description": "Why, for the audit trail; must not be blank (422 `invalid`)." } } } } } },
                "responses": json_response("The complaints erased now and those erased before.",
                    reference("Erasure"), &[400, 401, 403, 409, 422, 500, 503]),
            } },
            "/complainants/{id}/export": { "get": {
                "summary": "Everything held about a complainant (the complainant themselves, or \
                    roles whose `may` lists `erase_personal_data`).",
                "operationId": "exportComplainant",
                "parameters": with_actor(vec![complainant]),
                "responses": json_response("The export: each complaint's state and whole history.",
                    reference("Export"), &[400, 401, 403, 500, 503]),
            } },
            "/dead-letters": { "get": {
                "summary": "Notifications given up on (staff only).",
                "operationId": "deadLetters",
                "parameters": with_actor(vec![]),
                "responses": json_response("The dead letters.",
                    json!({ "type": "array", "items": reference("DeadLetter") }),
                    &[401, 403, 500, 503]),
            } },
            "/dead-letters/{id}/retry": { "post": {
                "summary": "Put a dead letter back in the outbox, due now (staff only).",
                "operationId": "retryDeadLetter",
                "parameters": with_actor(vec![json!({ "name": "id", "in": "path", "required": true,
                    "schema": { "type": "string" }, "description": "The dead letter's id, percent-encoded." })]),
                "responses": json_response("Whether it was requeued.",
                    json!({ "type": "object", "required": ["requeued"],
                            "properties": { "requeued": { "type": "boolean" } } }),
                    &[401, 403, 404, 500, 503]),
            } },
            "/reports/{month}": { "get": {
                "summary": "The monthly complaint analysis (staff only).",
                "operationId": "report",
                "parameters": with_actor(vec![
                    json!({ "name": "month", "in": "path", "required": true,
                        "schema": { "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$" } }),
                    json!({ "name": "format", "in": "query", "required": false,
                        "schema": { "enum": ["json", "md", "csv", "svg"], "default": "json" } }),
                    json!({ "name": "chart", "in": "query", "required": false,
                        "description": "Which chart `format=svg` draws.",
                        "schema": { "enum": ["compliance", "trend", "categories"], "default": "compliance" } }),
                ]),
                "responses": {
                    "200": { "description": "The report (plaint::report::Report as JSON), or its rendering.",
                        "content": {
                            "application/json": { "schema": { "type": "object" } },
                            "text/markdown": { "schema": { "type": "string" } },
                            "text/csv": { "schema": { "type": "string" } },
                            "image/svg+xml": { "schema": { "type": "string" } }
                        } },
                    "400": error_responses(&[400])["400"],
                    "401": error_responses(&[401])["401"],
                    "403": error_responses(&[403])["403"],
                    "500": error_responses(&[500])["500"],
                    "503": error_responses(&[503])["503"],
                },
            } },
            "/openapi.json": { "get": {
                "summary": "This document.",
                "operationId": "openapi",
                "responses": { "200": { "description": "OpenAPI 3.1.",
                    "content": { "application/json": { "schema": { "type": "object" } } } } },
            } },
            "/healthz": { "get": {
                "summary": "Liveness: `ok` while the service answers.",
                "operationId": "healthz",
                "responses": { "200": { "description": "ok", "content": text("text/plain") } },
            } },
        },
        "components": { "schemas": schemas, "parameters": parameters() },
    })
}
