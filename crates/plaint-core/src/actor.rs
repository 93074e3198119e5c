//! Who gives a command: a staff member with roles and a department, or a complainant.

use crate::id::{ActorId, DepartmentKey, RoleKey};
use serde::{Deserialize, Serialize};

/// The one who gives a command. Every command is checked against the actor's authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Actor {
    /// Who.
    pub id: ActorId,
    /// Staff or complainant.
    pub kind: ActorKind,
}

/// What kind of actor this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActorKind {
    /// A member of staff; the policy says what their roles may do.
    Staff {
        /// Their roles (`agent`, `service-manager`, …).
        roles: Vec<RoleKey>,
        /// Their department, if any.
        department: Option<DepartmentKey>,
    },
    /// The complainant, acting on their own complaint: they may accept or reject a proposal
    /// or an explanation, confirm satisfaction, add evidence, and withdraw.
    Complainant,
    /// The engine itself, firing due clocks. It may only tick.
    System,
}

impl Actor {
    /// A staff member.
    pub fn staff(id: ActorId, roles: Vec<RoleKey>, department: Option<DepartmentKey>) -> Self {
        Self {
            id,
            kind: ActorKind::Staff { roles, department },
        }
    }

    /// A complainant; `id` must equal the complaint's `complainant.id` for them to act on it.
    pub fn complainant(id: ActorId) -> Self {
        Self {
            id,
            kind: ActorKind::Complainant,
        }
    }

    /// The engine's own actor (`system`), which fires due clocks.
    pub fn system() -> Self {
        Self {
            id: ActorId::new("system").expect("a valid id"),
            kind: ActorKind::System,
        }
    }

    /// The actor's roles (none for a complainant or the system).
    pub fn roles(&self) -> &[RoleKey] {
        match &self.kind {
            ActorKind::Staff { roles, .. } => roles,
            ActorKind::Complainant | ActorKind::System => &[],
        }
    }
}
