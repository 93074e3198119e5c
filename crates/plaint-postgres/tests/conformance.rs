//! The store conformance suite against a real PostgreSQL server, each check in its own schema.

mod common;

#[test]
fn conformance() {
    let Some(db) = common::Db::new() else { return };
    plaint_core::conformance::run_all_on(&db.rt, || db.fresh());
}
