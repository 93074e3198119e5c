//! plaint: an embeddable workflow engine for customer-complaint handling.
//!
//! A service links plaint, hands it a [`Policy`] (its own procedure, as data), a [`Store`]
//! (`FileStore` in a directory by default, `MemoryStore` for tests) and a [`Notifier`], and sends it [`Command`]s; the engine keeps every complaint's
//! lifecycle and audit trail honest.
//!
//! [`Engine`] is `async` (an async service awaits it; the README shows one on tokio);
//! [`blocking::Engine`] is the same engine for sync code, each call waited for on the calling
//! thread, as below.
//!
//! ```
//! use plaint::{Actor, ActorId, Command, CommandId, ComplaintId, EngineError,
//!              ManualClock, MemoryStore, Policy, RoleKey, StageKind};
//! use plaint::blocking::Engine; // the async `plaint::Engine`, waited for on this thread
//! # let policy_text = include_str!("../examples/policies/express.toml");
//! let policy = Policy::from_toml_str(policy_text)?;
//! let clock = ManualClock::new("2026-11-20T01:00:00Z".parse()?);
//! let engine = Engine::builder(MemoryStore::new(), policy).clock(clock).build();
//!
//! let agent = Actor::staff(ActorId::new("agent-7")?, vec![RoleKey::new("agent")?], None);
//! let intake: plaint::Intake = serde_json::from_value(serde_json::json!({
//!     "complainant": { "id": "cust-42", "name": "Li Si",
//!                      "contacts": [{ "kind": "phone", "value": "13900001111" }] },
//!     "channel": "hotline",
//!     "received_at": "2026-11-20T00:55:00Z",
//!     "subject": { "waybill": "YT9876543210" },
//!     "description": "Parcel marked delivered but never arrived."
//! }))?;
//! let id = ComplaintId::new("EXP-2026-000001")?;
//! let receive = Command::Receive(std::sync::Arc::new(intake));
//! let view = engine.execute(CommandId::new("req-1")?, &id, receive.clone(), &agent)?;
//! assert_eq!(view.stage.kind(), StageKind::Received);
//!
//! // Retrying the same request under its command id appends nothing and returns the first
//! // result; the same id with another request is refused.
//! let again = engine.execute(CommandId::new("req-1")?, &id, receive, &agent)?;
//! assert_eq!(again.version, view.version);
//! let reused = engine.execute(CommandId::new("req-1")?, &id, Command::Acknowledge, &agent);
//! assert!(matches!(reused, Err(EngineError::CommandIdReused { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

pub use plaint_core::*;
#[cfg(feature = "memory")]
pub use plaint_memory::MemoryStore;
/// The durable store in a directory on local disk (feature `file`, default).
#[cfg(feature = "file")]
pub mod file {
    pub use plaint_file::*;
}
#[cfg(feature = "file")]
pub use plaint_file::FileStore;
/// The PostgreSQL store, shared by many engine instances (feature `postgres`).
#[cfg(feature = "postgres")]
pub mod postgres {
    pub use plaint_postgres::*;
}
#[cfg(feature = "postgres")]
pub use plaint_postgres::PgStore;
/// The monthly complaint analysis (feature `report`, default).
#[cfg(feature = "report")]
pub mod report {
    pub use plaint_report::*;
}

/// The background runner on tokio: ticks when deadlines fall due, relays the outbox
/// (feature `runner`).
#[cfg(feature = "runner")]
pub mod runner {
    pub use plaint_runner::*;
}

/// The README's examples, compiled and run as doc tests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
