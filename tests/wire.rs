//! The wire format: the committed JSON Schemas of commands, complaints, histories and error
//! bodies are the ones the code generates, real values match them, every command of
//! `docs/wire.md` parses, and every error has its stable code.
//! Regenerate the schemas with `PLAINT_WRITE_SCHEMA=1 cargo test --test wire`.

mod common;

use plaint::file::{FileError, FileStore, Options};
use plaint::wire::{ERROR_CODES, ErrorBody};
use plaint::{
    Actor, ActorId, Append, Command, CommandId, CommandKind, Complaint, ComplaintId, Engine,
    EngineError, ListQuery, MemoryStore, Recorded, Rejection, Store, StoreError, StoreFailure,
    Timestamp,
};
use plaint_core::blocking::Wait as _;
use plaint_core::testing;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

#[test]
fn committed_wire_schemas_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    for (name, generated) in plaint::wire::schemas() {
        let path = dir.join(name);
        if std::env::var_os("PLAINT_WRITE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "schema/{name} is stale: run `PLAINT_WRITE_SCHEMA=1 cargo test --test wire`"
        );
    }
}

#[path = "../examples/scenarios/express.rs"]
mod express;
#[path = "../examples/scenarios/hotel.rs"]
mod hotel;
#[path = "../examples/scenarios/supermarket.rs"]
mod supermarket;
#[path = "../examples/support/mod.rs"]
mod support;

/// The JSON plaint writes for a value.
macro_rules! json {
    ($value:expr) => {
        serde_json::to_value($value).unwrap()
    };
}

/// The shipped policy a scenario's complaint id belongs to.
fn policy_of(id: &plaint::ComplaintId) -> &'static str {
    match id.as_str().split('-').next() {
        Some("EXP") => "express",
        Some("HTL") => "hotel",
        _ => "supermarket",
    }
}

#[test]
fn every_complaint_and_history_of_the_scenarios_matches_its_schema() {
    let (complaint_schema, history_schema, view_schema) = (
        Schema::load("complaint.schema.json"),
        Schema::load("history.schema.json"),
        Schema::load("view.schema.json"),
    );
    let mut events = BTreeSet::new();
    let mut complaints = 0;
    type Run = fn(Arc<dyn plaint::DynStore>, bool) -> support::Res<support::Summary>;
    let runs: [Run; 3] = [express::run, hotel::run, supermarket::run];
    for run in runs {
        let store: Arc<dyn plaint::DynStore> = Arc::new(MemoryStore::new());
        run(Arc::clone(&store), true).unwrap();
        let page = store.list(&ListQuery::new().limit(1000)).wait().unwrap();
        assert!(page.next.is_none());
        for complaint in &page.items {
            complaints += 1;
            let value = json!(complaint.as_ref());
            complaint_schema.assert_valid(&value, &format!("complaint {}", complaint.id));
            let back: Complaint = serde_json::from_value(value).unwrap();
            assert_eq!(
                &back,
                complaint.as_ref(),
                "a complaint reads back as it was"
            );

            let history = store.history(&complaint.id).wait().unwrap();
            // As the complainant and as staff without contact access see it.
            let policy = plaint::Policy::from_toml_str(
                &std::fs::read_to_string(format!(
                    "{}/examples/policies/{}.toml",
                    env!("CARGO_MANIFEST_DIR"),
                    policy_of(&complaint.id)
                ))
                .unwrap(),
            )
            .unwrap();
            let owner = Actor::complainant(complaint.intake.complainant.id.clone());
            let staff = Actor::staff(ActorId::new("desk-9").unwrap(), vec![], None);
            for actor in [owner, staff] {
                let view = plaint::view::complaint(complaint, &history, &actor, &policy).unwrap();
                view_schema.assert_valid(&json!(&view), &format!("view of {}", complaint.id));
            }
            let value = json!(&history);
            history_schema.assert_valid(&value, &format!("history of {}", complaint.id));
            let back: Vec<Recorded> = serde_json::from_value(value).unwrap();
            assert_eq!(back, history, "a history reads back as it was");
            events.extend(history.iter().map(|r| r.event.kind()));
        }
    }
    assert_eq!(complaints, 20);
    // The scenarios reach most of what a history can hold, clock events included.
    assert!(
        events.len() >= 25,
        "only {} event kinds: {events:?}",
        events.len()
    );
}

#[test]
fn the_schemas_refuse_what_serde_refuses() {
    let commands = Schema::load("command.schema.json");
    let refused = [
        serde_json::json!({ "command": "triage", "tier": "major", "validity": { "is": "valid" } }),
        serde_json::json!({ "command": "approve_everything" }),
        serde_json::json!({ "command": "merge", "into": "has a space" }),
        serde_json::json!({ "command": "propose", "remedy": "refund", "description": "x",
            "amount": { "minor": 1.5, "currency": "CNY" } }),
        serde_json::json!({ "command": "confirm_satisfaction", "satisfied": true, "score": 300 }),
        serde_json::json!({ "command": "tick", "upto": "yesterday" }),
    ];
    for value in refused {
        assert!(
            serde_json::from_value::<Command>(value.clone()).is_err(),
            "serde takes {value}"
        );
        assert!(
            !commands.errors(&value).is_empty(),
            "the schema takes {value}"
        );
    }
    let complaints = Schema::load("complaint.schema.json");
    let mut value = json!(&testing::received());
    value["stage"] = serde_json::json!({ "stage": "lost" });
    assert!(serde_json::from_value::<Complaint>(value.clone()).is_err());
    assert!(!complaints.errors(&value).is_empty());
}

/// The commands of `docs/wire.md`, one per kind, each in the section of its kind.
fn documented_commands() -> Vec<(String, Value)> {
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/wire.md"))
        .unwrap();
    let section = page
        .split("\n## ")
        .find(|s| s.starts_with("Commands"))
        .expect("docs/wire.md has a Commands section");
    section
        .split("\n### ")
        .skip(1)
        .map(|kind| {
            let heading = kind.lines().next().unwrap().trim_matches('`').to_owned();
            let blocks: Vec<&str> = kind.split("```json\n").skip(1).collect();
            assert_eq!(blocks.len(), 1, "{heading}: one example");
            let example = blocks[0].split("\n```").next().unwrap();
            let value: Value = serde_json::from_str(example)
                .unwrap_or_else(|e| panic!("{heading}: not JSON: {e}"));
            (heading, value)
        })
        .collect()
}

#[test]
fn every_command_example_of_the_wire_page_parses_and_matches_the_schema() {
    let schema = Schema::load("command.schema.json");
    let mut kinds = BTreeSet::new();
    for (heading, value) in documented_commands() {
        let command: Command = serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("{heading}: not a command: {e}"));
        let kind = command.kind();
        assert_eq!(json!(&kind), Value::String(heading.clone()), "{heading}");
        schema.assert_valid(&value, &heading);
        // What plaint writes back is valid too, and reads as the same command.
        let written = json!(&command);
        schema.assert_valid(&written, &format!("{heading} as written"));
        assert_eq!(serde_json::from_value::<Command>(written).unwrap(), command);
        assert!(kinds.insert(kind), "{heading} is shown twice");
    }
    let missing: Vec<_> = CommandKind::ALL
        .iter()
        .filter(|k| !kinds.contains(k))
        .collect();
    assert!(missing.is_empty(), "docs/wire.md shows no {missing:?}");
}

#[test]
fn the_sample_intake_is_a_valid_receive() {
    let schema = Schema::load("command.schema.json");
    let command = Command::Receive(Arc::new(testing::intake(testing::t(0))));
    schema.assert_valid(&json!(&command), "receive");
}

// ---------------------------------------------------------------------------------------
// Error codes.

/// How a failing store makes its error.
type MakeError = fn() -> StoreError;

/// Appends that fail as the function says (the rest of the store is a `MemoryStore`).
struct Failing(MakeError);

impl testing::Tap<MemoryStore> for Failing {
    async fn append(&self, _: &MemoryStore, _: Append) -> Result<Arc<Complaint>, StoreError> {
        Err((self.0)())
    }
}

fn cmd(s: &str) -> CommandId {
    CommandId::new(s).unwrap()
}

fn receive() -> Command {
    Command::Receive(Arc::new(testing::intake(testing::t(0))))
}

/// Every error a service can meet, made the way it meets it, with the code it must carry.
fn every_error() -> Vec<(&'static str, EngineError)> {
    let mut errors = Vec::new();
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::builder(Arc::clone(&store), testing::policy())
        .clock(plaint::ManualClock::new(testing::t(1)))
        .build();
    let id = testing::complaint_id();
    let agent = testing::agent();
    engine
        .execute(cmd("c1"), &id, receive(), &agent)
        .wait()
        .unwrap();
    let mut refused = |code, command_id: &str, on: &ComplaintId, command, actor: &Actor| {
        let e = engine
            .execute(cmd(command_id), on, command, actor)
            .wait()
            .unwrap_err();
        errors.push((code, e));
    };
    refused("forbidden", "c2", &id, Command::Close, &testing::customer());
    refused(
        "illegal_transition",
        "c3",
        &id,
        Command::Approve { note: None },
        &testing::manager(),
    );
    engine
        .execute(cmd("c4"), &id, Command::Acknowledge, &agent)
        .wait()
        .unwrap();
    refused("invalid", "c5", &id, Command::Acknowledge, &agent);
    let nowhere = ComplaintId::new("EXP-404").unwrap();
    refused("not_found", "c6", &nowhere, Command::Acknowledge, &agent);
    refused("already_exists", "c7", &id, receive(), &agent);
    let other = ComplaintId::new("EXP-2").unwrap();
    refused("command_id_reused", "c1", &other, receive(), &agent);

    let nothing_due = testing::Scenario::new(testing::policy())
        .given([testing::received_event()])
        .at(testing::t(1))
        .when(
            &Actor::system(),
            Command::Tick {
                upto: testing::t(1),
            },
        )
        .result()
        .unwrap_err();
    errors.push(("nothing_due", nothing_due.into()));

    // A complaint pinned to a policy version this engine does not hold.
    let mut newer = testing::policy();
    newer.version += 1;
    let pinned = ComplaintId::new("EXP-3").unwrap();
    Engine::builder(Arc::clone(&store), newer)
        .clock(plaint::ManualClock::new(testing::t(1)))
        .build()
        .execute(cmd("c8"), &pinned, receive(), &agent)
        .wait()
        .unwrap();
    errors.push((
        "policy_version_unknown",
        engine
            .execute(cmd("c9"), &pinned, Command::Acknowledge, &agent)
            .wait()
            .unwrap_err(),
    ));

    // Stores that fail: through an engine, as a service meets them.
    let failures: [(&str, MakeError); 4] = [
        ("conflict", || StoreError::Conflict {
            expected: 0,
            actual: 1,
        }),
        ("store_malformed", || {
            StoreError::Malformed("a version skipped".into())
        }),
        ("store_poisoned", || {
            FileError::Poisoned("disk full".into()).into()
        }),
        ("store_unavailable", || {
            StoreError::backend(
                StoreFailure::Unavailable,
                std::io::Error::other("connection refused by db.internal:5432"),
            )
        }),
    ];
    for (code, fail) in failures {
        let engine = Engine::builder(
            testing::Tapped::new(MemoryStore::new(), Failing(fail)),
            testing::policy(),
        )
        .build();
        let e = engine
            .execute(cmd("c1"), &id, receive(), &agent)
            .wait()
            .unwrap_err();
        errors.push((code, e));
    }
    errors.push((
        "duplicate_command",
        StoreError::DuplicateCommand(cmd("c1")).into(),
    ));

    // A FileStore's own failures, each as the store reports it.
    let dir = tempfile::tempdir().unwrap();
    let _held = FileStore::open(dir.path(), Options::new()).unwrap();
    let locked = FileStore::open(dir.path(), Options::new()).unwrap_err();
    assert!(matches!(locked, FileError::Locked { .. }), "{locked:?}");
    errors.push(("store_locked", StoreError::from(locked).into()));
    let file = dir.path().join("segment-000001.log");
    errors.push((
        "store_corrupt",
        StoreError::from(FileError::Corrupt {
            file: file.clone(),
            offset: 16,
            why: "bad checksum".into(),
        })
        .into(),
    ));
    errors.push((
        "store_unsupported_format",
        StoreError::from(FileError::UnsupportedFormat {
            file: file.clone(),
            found: 9,
            supported: 1,
        })
        .into(),
    ));
    errors.push((
        "store_unavailable",
        StoreError::from(FileError::Io {
            op: "open",
            path: file,
            source: std::io::Error::other("permission denied"),
        })
        .into(),
    ));
    errors
}

#[test]
fn every_error_has_its_stable_code_and_a_body_that_matches_the_schema() {
    let schema = Schema::load("error.schema.json");
    let mut seen = BTreeSet::new();
    for (code, error) in every_error() {
        assert_eq!(error.code(), code, "{error:?}");
        let body = ErrorBody::from(&error);
        assert_eq!(body.code, code);
        let value = json!(&body);
        schema.assert_valid(&value, code);
        assert_eq!(serde_json::from_value::<ErrorBody>(value).unwrap(), body);
        seen.insert(code);
    }
    let all: BTreeSet<&str> = ERROR_CODES.iter().copied().collect();
    assert_eq!(seen, all, "every documented code is produced, and no other");
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/wire.md"))
        .unwrap();
    for code in ERROR_CODES {
        assert!(
            page.contains(&format!("| `{code}` |")),
            "docs/wire.md lists no {code}"
        );
    }
}

#[test]
fn error_bodies_carry_their_details() {
    let errors = every_error();
    let body = |code: &str| {
        let (_, e) = errors.iter().find(|(c, _)| *c == code).unwrap();
        json!(&ErrorBody::from(e))
    };
    assert_eq!(
        body("forbidden")["details"],
        serde_json::json!({ "command": "close", "reason": "not_for_complainants" })
    );
    assert_eq!(
        body("illegal_transition")["details"],
        serde_json::json!({ "command": "approve", "stage": "received" })
    );
    assert_eq!(
        body("invalid")["details"],
        serde_json::json!({ "field": "acknowledged" })
    );
    assert_eq!(
        body("conflict")["details"],
        serde_json::json!({ "expected_version": 0, "actual_version": 1 })
    );
    assert_eq!(
        body("already_exists")["details"],
        serde_json::json!({ "complaint": "EXP-1" })
    );
    assert!(body("not_found").get("details").is_none());
}

#[test]
fn error_bodies_reveal_nothing_the_actor_may_not_see() {
    for (code, error) in every_error() {
        let text = json!(&ErrorBody::from(&error)).to_string();
        // Store failures: no paths, hosts or backend words.
        for secret in [
            "segment-000001",
            "/tmp",
            "db.internal",
            "disk full",
            "permission",
            "a version skipped",
        ] {
            assert!(!text.contains(secret), "{code} reveals {secret}: {text}");
        }
        if code == "command_id_reused" {
            // The id was first used on EXP-1; the request named EXP-2.
            assert!(!text.contains("EXP-1"), "{text}");
            assert!(text.contains("\"command_id\":\"c1\""), "{text}");
        }
    }
}

#[test]
fn rejections_and_forbidden_reasons_have_distinct_codes() {
    let cny = plaint::Currency::new("CNY").unwrap();
    let money = plaint::Money::new(100, cny);
    let reasons = [
        plaint::ForbiddenReason::NoRole,
        plaint::ForbiddenReason::NotResponsible,
        plaint::ForbiddenReason::NotForComplainants,
        plaint::ForbiddenReason::TierNotApprovable {
            tier: plaint::TierKey::new("major").unwrap(),
        },
        plaint::ForbiddenReason::OverCap {
            cap: money,
            amount: money,
        },
        plaint::ForbiddenReason::SystemOnly,
        plaint::ForbiddenReason::OwnProposal,
        plaint::ForbiddenReason::NotApprovable,
        plaint::ForbiddenReason::ActionNotForRole {
            action: plaint::ActionKey::new("callback").unwrap(),
        },
        plaint::ForbiddenReason::OverApprovalLimit {
            limit: money,
            amount: money,
        },
    ];
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/wire.md"))
        .unwrap();
    let mut codes = BTreeSet::new();
    for reason in reasons {
        assert!(codes.insert(reason.code()), "{} twice", reason.code());
        assert!(
            page.contains(&format!("`{}`", reason.code())),
            "docs/wire.md lists no {}",
            reason.code()
        );
        let body = ErrorBody::from(&Rejection::Forbidden {
            actor: plaint::ActorId::new("agent-1").unwrap(),
            command: CommandKind::Propose,
            reason,
        });
        Schema::load("error.schema.json").assert_valid(&json!(&body), "forbidden");
    }
}

#[test]
fn chrono_and_chrono_tz_come_with_plaint() {
    // An embedding needs no chrono of its own to build what plaint's API takes.
    use plaint::chrono::TimeZone;
    let zone: plaint::chrono_tz::Tz = testing::sla_policy().time_zone();
    assert_eq!(zone, plaint::chrono_tz::Asia::Shanghai);
    let local = zone.with_ymd_and_hms(2026, 11, 16, 17, 0, 0).unwrap();
    let at: Timestamp = local.with_timezone(&plaint::chrono::Utc);
    assert_eq!(at, testing::t(0), "17:00 in Shanghai is 09:00 UTC");
    let _ = Engine::builder(MemoryStore::new(), testing::policy()).delivery_backoff(
        plaint::chrono::Duration::seconds(5),
        plaint::chrono::Duration::minutes(5),
    );
}

// ---------------------------------------------------------------------------------------
// A validator for the part of JSON Schema (2020-12) that schemars writes. A keyword it does
// not know fails the check, so a schema can never pass by being misread.

use serde_json::Value;

struct Schema {
    root: Value,
}

impl Schema {
    fn load(name: &str) -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schema")
            .join(name);
        let text = std::fs::read_to_string(path).unwrap();
        Self {
            root: serde_json::from_str(&text).unwrap(),
        }
    }

    /// Every way `value` breaks the schema, each with its JSON path.
    fn errors(&self, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(&self.root, value, "$", &mut errors);
        errors
    }

    fn assert_valid(&self, value: &Value, what: &str) {
        let errors = self.errors(value);
        assert!(errors.is_empty(), "{what} breaks its schema: {errors:#?}");
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => return errors.push(format!("{at}: nothing is allowed here")),
            Value::Object(o) => o,
            other => panic!("not a schema: {other}"),
        };
        for (keyword, arg) in schema {
            match keyword.as_str() {
                "$schema" | "$defs" | "title" | "description" | "default" | "examples"
                | "deprecated" => {}
                // Formats are checked where the value's own type says more: `date-time`
                // below, the integer formats by their ranges.
                "format" => check_format(arg.as_str().unwrap(), value, at, errors),
                "$ref" => {
                    let name = arg.as_str().unwrap().strip_prefix("#/$defs/").unwrap();
                    let def = &self.root["$defs"][name];
                    assert!(!def.is_null(), "dangling $ref {name}");
                    self.check(def, value, at, errors);
                }
                "type" => {
                    let types: Vec<&str> = match arg {
                        Value::String(s) => vec![s.as_str()],
                        Value::Array(a) => a.iter().map(|t| t.as_str().unwrap()).collect(),
                        other => panic!("type {other}"),
                    };
                    if !types.iter().any(|t| has_type(t, value)) {
                        errors.push(format!("{at}: {value} is not of type {types:?}"));
                    }
                }
                "const" => {
                    if value != arg {
                        errors.push(format!("{at}: {value} is not {arg}"));
                    }
                }
                "enum" => {
                    if !arg.as_array().unwrap().contains(value) {
                        errors.push(format!("{at}: {value} is not one of {arg}"));
                    }
                }
                "pattern" => {
                    if let Value::String(s) = value {
                        let re = regex::Regex::new(arg.as_str().unwrap()).unwrap();
                        if !re.is_match(s) {
                            errors.push(format!("{at}: {s:?} does not match {arg}"));
                        }
                    }
                }
                "minimum" | "maximum" => {
                    if let Some(n) = value.as_f64() {
                        let bound = arg.as_f64().unwrap();
                        if (keyword == "minimum" && n < bound)
                            || (keyword == "maximum" && n > bound)
                        {
                            errors.push(format!("{at}: {n} is out of {keyword} {bound}"));
                        }
                    }
                }
                "required" => {
                    if let Value::Object(o) = value {
                        for key in arg.as_array().unwrap() {
                            if !o.contains_key(key.as_str().unwrap()) {
                                errors.push(format!("{at}: {key} is required"));
                            }
                        }
                    }
                }
                "properties" => {
                    if let Value::Object(o) = value {
                        for (key, sub) in arg.as_object().unwrap() {
                            if let Some(v) = o.get(key) {
                                self.check(sub, v, &format!("{at}.{key}"), errors);
                            }
                        }
                    }
                }
                "patternProperties" => {
                    if let Value::Object(o) = value {
                        for (pattern, sub) in arg.as_object().unwrap() {
                            let re = regex::Regex::new(pattern).unwrap();
                            for (key, v) in o.iter().filter(|(k, _)| re.is_match(k)) {
                                self.check(sub, v, &format!("{at}.{key}"), errors);
                            }
                        }
                    }
                }
                "additionalProperties" => {
                    if let Value::Object(o) = value {
                        let known = |k: &str| {
                            schema.get("properties").is_some_and(|p| p.get(k).is_some())
                                || schema.get("patternProperties").is_some_and(|p| {
                                    p.as_object()
                                        .unwrap()
                                        .keys()
                                        .any(|pat| regex::Regex::new(pat).unwrap().is_match(k))
                                })
                        };
                        for (key, v) in o.iter().filter(|(k, _)| !known(k)) {
                            self.check(arg, v, &format!("{at}.{key}"), errors);
                        }
                    }
                }
                "items" => {
                    if let Value::Array(a) = value {
                        let skip = schema
                            .get("prefixItems")
                            .map_or(0, |p| p.as_array().unwrap().len());
                        for (i, v) in a.iter().enumerate().skip(skip) {
                            self.check(arg, v, &format!("{at}[{i}]"), errors);
                        }
                    }
                }
                "prefixItems" => {
                    if let Value::Array(a) = value {
                        for (i, (sub, v)) in arg.as_array().unwrap().iter().zip(a).enumerate() {
                            self.check(sub, v, &format!("{at}[{i}]"), errors);
                        }
                    }
                }
                "minItems" | "maxItems" => {
                    if let Value::Array(a) = value {
                        let n = arg.as_u64().unwrap() as usize;
                        if (keyword == "minItems" && a.len() < n)
                            || (keyword == "maxItems" && a.len() > n)
                        {
                            errors.push(format!("{at}: {} items break {keyword} {n}", a.len()));
                        }
                    }
                }
                "uniqueItems" => {
                    if let Value::Array(a) = value
                        && arg == &Value::Bool(true)
                        && a.iter().enumerate().any(|(i, x)| a[..i].contains(x))
                    {
                        errors.push(format!("{at}: items repeat"));
                    }
                }
                "anyOf" | "oneOf" => {
                    let matching = arg
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|sub| {
                            let mut e = Vec::new();
                            self.check(sub, value, at, &mut e);
                            e.is_empty()
                        })
                        .count();
                    if matching == 0 || (keyword == "oneOf" && matching > 1) {
                        errors.push(format!(
                            "{at}: {matching} branches of {keyword} match {value}"
                        ));
                    }
                }
                "allOf" => {
                    for sub in arg.as_array().unwrap() {
                        self.check(sub, value, at, errors);
                    }
                }
                "not" => {
                    let mut e = Vec::new();
                    self.check(arg, value, at, &mut e);
                    if e.is_empty() {
                        errors.push(format!("{at}: {value} matches what is excluded"));
                    }
                }
                other => panic!("the validator does not know the keyword {other:?}"),
            }
        }
    }
}

fn has_type(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        other => panic!("unknown type {other}"),
    }
}

fn check_format(format: &str, v: &Value, at: &str, errors: &mut Vec<String>) {
    let ok = match (format, v) {
        ("date-time", Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        ("uint8", Value::Number(n)) => n.as_u64().is_some_and(|n| n <= u64::from(u8::MAX)),
        ("uint32", Value::Number(n)) => n.as_u64().is_some_and(|n| n <= u64::from(u32::MAX)),
        ("uint64" | "uint", Value::Number(n)) => n.as_u64().is_some(),
        ("int64" | "int32", Value::Number(n)) => n.as_i64().is_some(),
        ("date-time" | "uint8" | "uint32" | "uint64" | "uint" | "int64" | "int32", _) => true,
        (other, _) => panic!("the validator does not know the format {other:?}"),
    };
    if !ok {
        errors.push(format!("{at}: {v} is not a {format}"));
    }
}
