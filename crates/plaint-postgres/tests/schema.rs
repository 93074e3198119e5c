//! Migrations: one call sets up an empty database, a second changes nothing, a newer schema
//! is refused with a typed error, and a store refuses a database that was not migrated.

mod common;

use plaint_postgres::{Migrated, PgError, PgStore, SCHEMA_VERSION};

#[test]
fn one_call_migrates_an_empty_database_and_a_second_changes_nothing() {
    let Some(db) = common::Db::new() else { return };
    let config = db.fresh_config();
    db.rt.0.block_on(async {
        assert!(matches!(
            PgStore::connect(config.clone()).await,
            Err(PgError::NotMigrated {
                found: 0,
                expected: SCHEMA_VERSION
            })
        ));
        // Instances starting together all migrate; the advisory lock applies it once.
        let all = futures_join(&config).await;
        let mut froms: Vec<i32> = all.iter().map(|m| m.from).collect();
        froms.sort();
        assert_eq!(froms, [0, SCHEMA_VERSION, SCHEMA_VERSION]);
        assert_eq!(
            PgStore::migrate(&config).await.expect("migrates again"),
            Migrated {
                from: SCHEMA_VERSION,
                to: SCHEMA_VERSION
            }
        );
        PgStore::connect(config).await.expect("connects");
    });
}

async fn futures_join(config: &plaint_postgres::PgConfig) -> Vec<Migrated> {
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let c = config.clone();
            tokio::spawn(async move { PgStore::migrate(&c).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task").expect("migrates"));
    }
    out
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let Some(db) = common::Db::new() else { return };
    let config = db.fresh_config();
    let store = db.rt.0.block_on(async {
        PgStore::migrate(&config).await.expect("migrates");
        PgStore::connect(config.clone()).await.expect("connects")
    });
    let name = config.schema_name().expect("a test schema").to_owned();
    db.sql(&format!(
        "INSERT INTO {name}.plaint_schema (version) VALUES ({})",
        SCHEMA_VERSION + 1
    ));
    db.rt.0.block_on(async {
        let newer = SCHEMA_VERSION + 1;
        let refused = PgStore::migrate(&config).await;
        assert!(
            matches!(refused, Err(PgError::SchemaTooNew { found, supported: SCHEMA_VERSION }) if found == newer),
            "{refused:?}"
        );
        let refused = PgStore::connect(config.clone()).await.expect_err("refused");
        assert!(refused.to_string().contains("upgrade plaint-postgres"), "{refused}");
        let as_store: plaint_core::StoreError = refused.into();
        assert_eq!(as_store.code(), "store_unsupported_format");
    });
    drop(store);
}

#[test]
fn bad_settings_are_refused_with_a_config_error() {
    assert!(matches!(
        plaint_postgres::PgConfig::new("postgres://[::1"),
        Err(PgError::Config(_))
    ));
    let config = plaint_postgres::PgConfig::new("postgres://u@localhost/db").expect("parses");
    for bad in [
        "",
        "Public",
        "1abc",
        "a;drop table x",
        "a b",
        &"x".repeat(64),
    ] {
        assert!(
            matches!(config.clone().schema(bad), Err(PgError::Config(_))),
            "{bad:?}"
        );
    }
    assert!(config.schema("tenant_7").is_ok());
}
