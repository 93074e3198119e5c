//! plaint-core: the deterministic core of plaint — complaint model, policy, typed lifecycle,
//! engine and ports.
//!
//! The decision core ([`decide`], [`Complaint::apply`], the policy) does no I/O and never reads
//! the clock: time comes in as `now`. The [`Engine`] is the one part that touches the ports
//! ([`Store`], [`Notifier`], [`Clock`]). Most users depend on the `plaint` facade instead.

#![forbid(unsafe_code)]

pub mod actor;
pub mod blocking;
pub mod calendar;
pub mod clock;
pub mod complainant;
pub mod complaint;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod engine;
pub mod erasure;
pub mod id;
pub mod lifecycle;
pub mod model;
pub mod money;
pub mod notify;
pub mod policy;
pub mod privacy;
pub mod sla;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod view;
pub mod wire;

/// The chrono that plaint's API speaks — [`Timestamp`] is `chrono::DateTime<chrono::Utc>`,
/// spans are `chrono::Duration`, calendars take `NaiveDate`, `NaiveTime` and `Weekday` —
/// re-exported whole, traits (`TimeZone`, `Datelike`) included, so an embedding builds
/// these values with the very version plaint was built against.
pub use chrono;
/// The chrono-tz of [`Policy::time_zone`] and [`Event::display_in`], re-exported whole.
pub use chrono_tz;

pub use actor::{Actor, ActorKind};
pub use calendar::{BusinessCalendar, CalendarDef, CalendarError};
pub use clock::{Clock, ManualClock, SystemClock};
pub use complainant::{Complainant, Contact};
pub use complaint::Complaint;
pub use engine::{Async, Engine, EngineBuilder, EngineError, Make, Relay, Tick};
pub use erasure::{Erasure, Export, ExportedComplaint, Retention};
pub use id::{
    ActionKey, ActorId, CalendarKey, CategoryKey, ChannelKey, ClockKey, CommandId, ComplaintId,
    DepartmentKey, IdError, RemedyKey, RoleKey, TierKey,
};
pub use lifecycle::{
    Available, Command, CommandKind, Event, EventKind, ForbiddenReason, Next, Recorded, Rejection,
    ReopenCause, Stage, StageKind, TransitionGraph, available, decide,
};
pub use model::*;
pub use money::{Currency, CurrencyError, Money};
pub use notify::{
    Audience, Channel, Delivery, DiscardNotifier, DynNotifier, FanOut, Notification,
    NotificationId, NotificationKind, Notifier, NotifyError, On, OutboxEntry, Recipient,
    RecordingNotifier, Retry, Settlement,
};
pub use policy::{
    ActionDef, Basis, Cap, Condition, Facts, FlagDef, NotificationRule, OverCap, Policy,
    PolicyError, Privacy, Problem, Reports, RouteRule, ScoreRule, Scoring, SeverityRule, StepRule,
    Steps,
};
pub use privacy::{ERASED, PersonalData, REDACTED, StaffText};
pub use store::{
    Append, Changes, CommandRecord, DynStore, FeedEntry, FeedPage, ListQuery, OutboxStats, Page,
    Position, Store, StoreError, StoreFailure,
};
pub use view::{ComplaintView, Sight, ViewPage};
pub use wire::{ErrorBody, ErrorDetails};
