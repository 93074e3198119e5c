//! What can happen under a policy: the events its lifecycle, roles and steps allow, for the
//! loader's warnings about clocks that could never start or never stop.

use super::Policy;
use crate::lifecycle::graph::{TransitionGraph, clock_triggers_of};
use crate::lifecycle::{CommandKind, EventKind, StageKind};
use crate::sla::Trigger;
use petgraph::visit::EdgeRef;
use std::collections::BTreeSet;

/// The event kinds some complaint can produce under `policy` (clock firings included when a
/// clock can run), and the clocks that can start.
pub(super) struct Possible {
    events: BTreeSet<EventKind>,
    started: BTreeSet<usize>,
}

impl Possible {
    pub(super) fn of(policy: &Policy) -> Self {
        let events = lifecycle_events(policy);
        let mut me = Self {
            events,
            started: BTreeSet::new(),
        };
        // Clocks that start on other clocks' firings: to a fixed point.
        loop {
            let before = me.started.len();
            for (i, def) in policy.clocks.iter().enumerate() {
                if def.start_on.iter().any(|t| me.may(policy, t)) {
                    me.started.insert(i);
                }
            }
            if me.started.len() == before {
                break;
            }
            // A running clock fires, and a tick may raise a tier.
            me.events.extend([
                EventKind::ClockWarned,
                EventKind::ClockBreached,
                EventKind::RungReached,
                EventKind::TierChanged,
                EventKind::ClockStopped,
            ]);
        }
        me
    }

    /// Whether `trigger` can ever fire.
    pub(super) fn may(&self, policy: &Policy, trigger: &Trigger) -> bool {
        match trigger {
            Trigger::Clock { clock, .. } => policy
                .clocks
                .iter()
                .position(|c| &c.key == clock)
                .is_some_and(|i| self.started.contains(&i)),
            t => self.events.contains(&t.kind()),
        }
    }

    /// Whether clock `i` can start.
    pub(super) fn starts(&self, i: usize) -> bool {
        self.started.contains(&i)
    }
}

/// The events of every step a complaint can take: from the entry stages, along the edges
/// whose command someone may give and whose stage the policy's steps use.
fn lifecycle_events(policy: &Policy) -> BTreeSet<EventKind> {
    let given = |c: CommandKind| {
        CommandKind::COMPLAINANT.contains(&c)
            || policy.roles.iter().any(|r| r.may.contains(&c))
            || (c == CommandKind::RecordAction && !policy.actions.is_empty())
    };
    let skipped = |s: StageKind| {
        (s == StageKind::AwaitingApproval && !policy.steps.approval.is_used())
            || (s == StageKind::AwaitingAgreement && !policy.steps.negotiation.is_used())
    };
    let graph = TransitionGraph::new();
    let g = graph.graph();
    let mut events = BTreeSet::new();
    let mut seen: BTreeSet<StageKind> = BTreeSet::new();
    let mut work: Vec<StageKind> = Vec::new();
    if given(CommandKind::Receive) {
        events.insert(EventKind::Received);
        work.push(StageKind::Received);
    }
    if given(CommandKind::Consult) {
        work.push(StageKind::Consultation);
    }
    while let Some(stage) = work.pop() {
        if !seen.insert(stage) {
            continue;
        }
        for e in g.edge_references().filter(|e| g[e.source()] == stage) {
            let (command, to) = (*e.weight(), g[e.target()]);
            if !given(command) || skipped(to) {
                continue;
            }
            events.extend(clock_triggers_of(command, to));
            work.push(to);
        }
    }
    events
}
