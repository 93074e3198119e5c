//! The schema: versioned migrations embedded in the crate, applied in order by
//! [`crate::PgStore::migrate`] and recorded in `plaint_schema`.

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i32 = 1;

/// Every migration, in order: `(version, SQL)`. A migration is never edited once released;
/// a change is a new one appended here.
pub(crate) const MIGRATIONS: &[(i32, &str)] = &[(1, V1)];

/// The key of the advisory lock migrations take, so two instances starting at once do not
/// both apply one ("plaint" in ASCII).
pub(crate) const MIGRATION_LOCK: i64 = 0x706c_6169_6e74;

/// Records which migrations were applied.
pub(crate) const SCHEMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS plaint_schema (
    version    integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

const V1: &str = r#"
CREATE TABLE plaint_complaints (
    id         text COLLATE "C" PRIMARY KEY,
    version    bigint NOT NULL,
    state      jsonb  NOT NULL,
    stage      text   NOT NULL,
    tier       text,
    department text,
    next_due   bigint
);
CREATE INDEX plaint_complaints_due ON plaint_complaints (next_due, id) WHERE next_due IS NOT NULL;

CREATE TABLE plaint_events (
    complaint text COLLATE "C" NOT NULL,
    version   bigint NOT NULL,
    position  bigint NOT NULL UNIQUE,
    recorded  jsonb  NOT NULL,
    PRIMARY KEY (complaint, version)
);

CREATE TABLE plaint_commands (
    id        text COLLATE "C" PRIMARY KEY,
    complaint text COLLATE "C" NOT NULL,
    version   bigint NOT NULL
);

CREATE TABLE plaint_feed_head (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    position bigint  NOT NULL
);
INSERT INTO plaint_feed_head (only_row, position) VALUES (true, 0);

CREATE SEQUENCE plaint_dead_order;
CREATE TABLE plaint_outbox (
    id           text COLLATE "C" PRIMARY KEY,
    next_attempt bigint NOT NULL,
    attempts     bigint NOT NULL,
    last_error   text,
    dead         bigint,
    notification jsonb  NOT NULL
);
CREATE INDEX plaint_outbox_due ON plaint_outbox (next_attempt, id) WHERE dead IS NULL;
CREATE INDEX plaint_outbox_dead ON plaint_outbox (dead) WHERE dead IS NOT NULL;
"#;
