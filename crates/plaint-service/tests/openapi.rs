//! The OpenAPI document: the committed `schema/openapi.json` is the one the code generates,
//! and it holds together (every reference resolves, every operation answers errors with the
//! error body). Regenerate it with `PLAINT_WRITE_SCHEMA=1 cargo test -p plaint-service --test openapi`.

use serde_json::Value;
use std::path::Path;

#[test]
fn committed_openapi_document_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/openapi.json");
    let generated = plaint_service::openapi_document();
    if std::env::var_os("PLAINT_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/openapi.json is stale: run `PLAINT_WRITE_SCHEMA=1 cargo test -p plaint-service --test openapi`"
    );
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| refs(i, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc: Value = serde_json::from_str(plaint_service::openapi_document()).unwrap();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(
        found.len() > 50,
        "the wire schemas are referenced: {}",
        found.len()
    );
    for r in found {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r} is not local"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
}

#[test]
fn the_wire_schemas_are_its_payloads() {
    let doc: Value = serde_json::from_str(plaint_service::openapi_document()).unwrap();
    let op = &doc["paths"]["/complaints/{id}/commands"]["post"];
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Command"
    );
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ComplaintView"
    );
    for status in ["403", "404", "409", "422"] {
        assert_eq!(
            op["responses"][status]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{status}"
        );
    }
    // The list query's fields are the listing's query parameters.
    let names: Vec<&str> = doc["paths"]["/complaints"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for field in [
        "stage",
        "complainant",
        "due_before",
        "breached",
        "after",
        "limit",
    ] {
        assert!(names.contains(&field), "{field} in {names:?}");
    }
}

#[test]
fn the_personal_data_routes_are_described() {
    let doc: Value = serde_json::from_str(plaint_service::openapi_document()).unwrap();
    let answer =
        |op: &Value| op["responses"]["200"]["content"]["application/json"]["schema"].clone();
    let erase = &doc["paths"]["/complainants/{id}/erase"]["post"];
    assert_eq!(answer(erase)["$ref"], "#/components/schemas/Erasure");
    assert_eq!(
        erase["requestBody"]["content"]["application/json"]["schema"]["required"],
        serde_json::json!(["reason"])
    );
    let export = &doc["paths"]["/complainants/{id}/export"]["get"];
    assert_eq!(answer(export)["$ref"], "#/components/schemas/Export");
    // The export is made of the complaint and history payloads the other routes answer with.
    let item = &doc["components"]["schemas"]["Export"]["properties"]["complaints"]["items"];
    assert_eq!(
        item["properties"]["state"]["$ref"],
        "#/components/schemas/Complaint"
    );
    assert_eq!(
        item["properties"]["history"]["$ref"],
        "#/components/schemas/History"
    );
    for op in [erase, export] {
        assert_eq!(
            op["responses"]["403"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
    }
}
