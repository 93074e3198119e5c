//! The typed lifecycle: stages, commands, events, rejections, `decide` and the transition graph.

mod command;
mod decide;
mod event;
pub mod graph;
mod rejection;
mod stage;

pub use command::{Command, CommandKind};
pub use decide::{Available, available, decide};
pub use event::{Event, EventKind, Next, Recorded, ReopenCause};
pub use graph::TransitionGraph;
pub use rejection::{ForbiddenReason, Rejection};
pub use stage::{Stage, StageKind};
