//! Roles scoped to their department: a department head approves only the plans of
//! complaints their department is responsible for (primary or collaborating).

mod common;

use common::*;
use plaint_core::testing::{self, Scenario};
use plaint_core::*;

fn policy() -> Policy {
    let text = format!(
        "{}\n[[roles]]\nkey = \"department-head\"\nmay = [\"approve\", \"decline_approval\"]\nscope = \"responsible\"\n",
        include_str!("../crates/plaint-core/src/testing/policy.toml")
    );
    Policy::from_toml_str(&text).unwrap()
}

fn head(department: Option<&str>) -> Actor {
    Actor::staff(
        ActorId::new("head-1").unwrap(),
        vec![RoleKey::new("department-head").unwrap()],
        department.map(|d| DepartmentKey::new(d).unwrap()),
    )
}

/// A complaint routed to `hub` (with `outlet` collaborating), awaiting approval.
fn awaiting_approval() -> Scenario {
    let mut events = events_to(StageKind::AwaitingApproval, "major");
    for e in &mut events {
        if let Event::Routed { responsibility } = e {
            responsibility.collaborating = vec![dept("outlet")];
        }
    }
    Scenario::new(policy()).given(events).at(testing::t(50))
}

fn approve() -> Command {
    Command::Approve { note: None }
}

#[test]
fn a_scoped_role_acts_on_its_own_department_s_complaints() {
    for department in ["hub", "outlet"] {
        let events = awaiting_approval()
            .when(&head(Some(department)), approve())
            .result()
            .unwrap_or_else(|e| panic!("{department}: {e}"));
        assert!(matches!(events[0], Event::ApprovalGranted { .. }));
    }
}

#[test]
fn a_scoped_role_is_refused_elsewhere_and_nothing_changes() {
    for who in [head(Some("claims")), head(None)] {
        let err = awaiting_approval()
            .when(&who, approve())
            .result()
            .unwrap_err();
        assert!(
            matches!(
                err,
                Rejection::Forbidden {
                    reason: ForbiddenReason::NotResponsible,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "head-1 may not approve: their department is not responsible for this complaint"
        );
    }
}

#[test]
fn a_role_without_a_scope_reaches_every_complaint() {
    let events = awaiting_approval()
        .when(&testing::manager(), approve())
        .result()
        .unwrap();
    assert!(matches!(events[0], Event::ApprovalGranted { .. }));
    // A role that does not grant the command at all is still "no role".
    let err = awaiting_approval()
        .when(&head(Some("hub")), Command::Close)
        .result()
        .unwrap_err();
    assert!(matches!(
        err,
        Rejection::Forbidden {
            reason: ForbiddenReason::NoRole,
            ..
        }
    ));
}
