//! The committed JSON Schema of policies is the one the code generates.
//! Regenerate it with `PLAINT_WRITE_SCHEMA=1 cargo test --test schema`.

use std::path::Path;

#[test]
fn committed_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/policy.schema.json");
    let generated = plaint::Policy::json_schema();
    if std::env::var_os("PLAINT_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/policy.schema.json is stale: run `PLAINT_WRITE_SCHEMA=1 cargo test --test schema`"
    );
}

#[test]
fn the_schema_describes_every_section() {
    let schema: serde_json::Value = serde_json::from_str(&plaint::Policy::json_schema()).unwrap();
    let props = schema["properties"].as_object().unwrap();
    for key in [
        "id",
        "version",
        "tiers",
        "severity",
        "routing",
        "roles",
        "remedies",
        "calendars",
        "clocks",
        "scoring",
        "notifications",
        "reports",
    ] {
        assert!(props.contains_key(key), "{key} missing from the schema");
    }
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
}
