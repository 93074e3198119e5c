//! Test helpers: a sample policy, sample actors and intake, and the given/when/then harness.
//!
//! ```
//! use plaint_core::testing::{self, Scenario};
//! use plaint_core::{Command, Event};
//! Scenario::new(testing::policy())
//!     .given([testing::received_event()])
//!     .when(&testing::agent(), Command::Acknowledge)
//!     .then([Event::Acknowledged]);
//! ```

use crate::actor::Actor;
use crate::complainant::{Complainant, Contact};
use crate::complaint::Complaint;
use crate::id::{ActorId, CommandId, ComplaintId, DepartmentKey, RoleKey};
use crate::lifecycle::{Command, Event, Recorded, Rejection, decide};
use crate::model::{Intake, Subject, Timestamp};
use crate::policy::Policy;
use std::sync::Arc;

mod tapped;
pub use tapped::{Tap, Tapped};

/// The sample policy (an express company's, small): see `testing/policy.toml`.
pub fn policy() -> Policy {
    Policy::from_toml_str(include_str!("testing/policy.toml")).expect("the sample policy parses")
}

/// The sample policy with its SLA clocks and office calendar (`testing/clocks.toml`).
pub fn sla_policy() -> Policy {
    let text = [
        include_str!("testing/policy.toml"),
        include_str!("testing/clocks.toml"),
    ]
    .concat();
    Policy::from_toml_str(&text).expect("the sample policy with clocks parses")
}

/// 2026-11-16 (a Monday) 09:00 UTC plus `hours`.
pub fn t(hours: i64) -> Timestamp {
    "2026-11-16T09:00:00Z".parse::<Timestamp>().expect("valid") + chrono::Duration::hours(hours)
}

/// `EXP-1`, the sample complaint's id.
pub fn complaint_id() -> ComplaintId {
    ComplaintId::new("EXP-1").expect("valid")
}

fn id(s: &str) -> ActorId {
    ActorId::new(s).expect("valid")
}

fn staff(who: &str, role: &str, dept: &str) -> Actor {
    Actor::staff(
        id(who),
        vec![RoleKey::new(role).expect("valid")],
        Some(DepartmentKey::new(dept).expect("valid")),
    )
}

/// A front-line agent (`agent-1`, role `agent`).
pub fn agent() -> Actor {
    staff("agent-1", "agent", "customer-service")
}

/// A second agent (`agent-2`), to approve what `agent-1` proposed when roles allow.
pub fn other_agent() -> Actor {
    staff("agent-2", "agent", "customer-service")
}

/// The service manager (`manager-1`): approves up to 500.00 CNY, changes tiers.
pub fn manager() -> Actor {
    staff("manager-1", "service-manager", "customer-service")
}

/// The general manager (`gm-1`): approves any amount.
pub fn general_manager() -> Actor {
    staff("gm-1", "general-manager", "management")
}

/// The privacy officer (`dpo-1`, role `privacy-officer`): erases personal data.
pub fn privacy_officer() -> Actor {
    staff("dpo-1", "privacy-officer", "management")
}

/// The complainant of the sample intake (`cust-1`).
pub fn customer() -> Actor {
    Actor::complainant(id("cust-1"))
}

/// Someone else's complainant actor (`cust-2`).
pub fn stranger() -> Actor {
    Actor::complainant(id("cust-2"))
}

/// A sample intake: a late parcel reported on the hotline at `received_at`.
pub fn intake(received_at: Timestamp) -> Intake {
    Intake {
        complainant: Complainant {
            id: id("cust-1"),
            name: "Zhang San".into(),
            contacts: vec![
                Contact::Phone("13812345678".into()),
                Contact::Email("zhang.san@example.com".into()),
            ],
        },
        channel: crate::ChannelKey::new("hotline").expect("valid"),
        received_at,
        subject: Subject {
            waybill: Some("SF1234567890".into()),
            ..Subject::default()
        },
        description: "The parcel is three days late.".into(),
        evidence: Vec::new(),
        requested_remedy: Some("compensation".into()),
        staff_involved: Vec::new(),
        flags: Default::default(),
        people_affected: None,
    }
}

/// The `Received` event of the sample intake under the sample policy.
pub fn received_event() -> Event {
    Event::Received {
        intake: Arc::new(intake(t(0))),
        policy_version: policy().version,
    }
}

/// The sample complaint, just received.
pub fn received() -> Complaint {
    Scenario::new(policy())
        .given([received_event()])
        .state()
        .expect("opened")
}

/// A given/when/then harness over [`decide`] (in the style of cqrs-es's `TestFramework`).
#[derive(Debug, Clone)]
pub struct Scenario {
    policy: Policy,
    history: Vec<Recorded>,
    now: Timestamp,
}

impl Scenario {
    /// No history yet, under `policy`, at `t(1)`.
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            history: Vec::new(),
            now: t(1),
        }
    }

    /// Past events, as given by [`agent`].
    pub fn given(self, events: impl IntoIterator<Item = Event>) -> Self {
        self.given_by(&agent(), events)
    }

    /// Past events, as given by `actor`.
    pub fn given_by(mut self, actor: &Actor, events: impl IntoIterator<Item = Event>) -> Self {
        for event in events {
            let version = self.history.len() as u64 + 1;
            let command = CommandId::new(format!("given-{version}")).expect("valid");
            self.history.extend(Recorded::numbered(
                [event],
                version - 1,
                self.now,
                actor,
                &command,
            ));
        }
        self
    }

    /// Decides at `now` from here on.
    pub fn at(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    /// The state the given events fold to.
    pub fn state(&self) -> Option<Complaint> {
        Complaint::replay(complaint_id(), &self.history)
    }

    /// Decides `command` as `actor` on the given history.
    pub fn when(self, actor: &Actor, command: Command) -> Outcome {
        let state = self.state();
        let result = decide(state.as_ref(), &self.policy, command, actor, self.now);
        Outcome { result }
    }
}

/// What a [`Scenario`]'s command produced.
#[derive(Debug)]
#[must_use = "an outcome asserts nothing until `then…` is called"]
pub struct Outcome {
    result: Result<Vec<Event>, Rejection>,
}

impl Outcome {
    /// Asserts the command produced exactly `expected`.
    ///
    /// # Panics
    /// When it was rejected or produced other events.
    pub fn then(self, expected: impl IntoIterator<Item = Event>) {
        let expected: Vec<Event> = expected.into_iter().collect();
        match self.result {
            Ok(events) => assert_eq!(events, expected),
            Err(r) => panic!("expected {expected:?}, got rejection: {r}"),
        }
    }

    /// Asserts the command was rejected with exactly `expected`.
    ///
    /// # Panics
    /// When it was accepted or rejected otherwise.
    pub fn then_reject(self, expected: Rejection) {
        match self.result {
            Ok(events) => panic!("expected rejection {expected}, got {events:?}"),
            Err(r) => assert_eq!(r, expected),
        }
    }

    /// The raw result, for assertions the helpers do not cover.
    pub fn result(self) -> Result<Vec<Event>, Rejection> {
        self.result
    }
}
