//! Which placeholders have a value at which moment, worked out when a policy loads from the
//! lifecycle graph and the policy's clocks, so a text using one without a value is a policy
//! problem rather than a gap in an SMS.
//!
//! A text is rendered from the complaint as the command that caused its moment left it. The
//! analysis walks every way a complaint can reach each moment (every edge of the transition
//! graph, with the events it produces) and keeps what holds on all of them: a department once
//! a complaint is routed, a proposal once one is made, and each clock's deadline while the
//! clock surely runs — started (for every tier: a clock without a target for a tier does not
//! run for it), not stopped, not paused in the stage the moment leads to. It is sound and
//! deliberately simple: what it accepts always has a value, except a clock that breached and
//! was then paused or re-projected, whose state keeps no deadline (that reads `-`).

use super::NotificationKind as K;
use super::template::Field;
use crate::lifecycle::graph::{TransitionGraph, clock_triggers_of};
use crate::lifecycle::{CommandKind as C, EventKind as E, StageKind as S};
use crate::policy::Policy;
use crate::sla::{ClockDef, Trigger};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, BTreeSet};

/// What surely holds in a stage, however the complaint got there: indexes are into the
/// policy's clocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Facts {
    department: bool,
    proposal: bool,
    /// Clocks with an open cycle.
    open: BTreeSet<usize>,
    /// Clocks that have had a cycle (a reset restarts a stopped one).
    started: BTreeSet<usize>,
}

impl Facts {
    /// What holds on both ways.
    fn meet(&self, other: &Facts) -> Facts {
        Facts {
            department: self.department && other.department,
            proposal: self.proposal && other.proposal,
            open: self.open.intersection(&other.open).copied().collect(),
            started: self.started.intersection(&other.started).copied().collect(),
        }
    }
}

/// The values a text has on one way of reaching a moment.
#[derive(Debug)]
struct Values<'p> {
    department: bool,
    proposal: bool,
    /// Clocks that run (with a deadline) right after the command.
    running: BTreeSet<&'p str>,
}

/// The moments a policy's complaints can reach, each with the values its texts have on
/// every way of reaching it.
#[derive(Debug)]
pub(crate) struct Availability<'p> {
    moments: BTreeMap<K, Vec<Values<'p>>>,
}

impl<'p> Availability<'p> {
    /// Works the moments out for `policy`.
    pub(crate) fn of(policy: &'p Policy) -> Self {
        let graph = TransitionGraph::new();
        let g = graph.graph();
        let step = Step { policy };
        // A must-analysis to a fixed point: what holds in each stage on every way into it.
        let mut at: BTreeMap<S, Facts> = BTreeMap::new();
        // A complaint begins received, or as a consultation.
        let entries = [(C::Receive, S::Received), (C::Consult, S::Consultation)];
        for (command, stage) in entries {
            let (first, _) = step.take(&Facts::default(), command, stage);
            at.insert(stage, first);
        }
        let mut work = S::ENTRY.to_vec();
        while let Some(stage) = work.pop() {
            let facts = at[&stage].clone();
            for e in g.edge_references().filter(|e| g[e.source()] == stage) {
                let to = g[e.target()];
                let (next, _) = step.take(&facts, *e.weight(), to);
                let merged = at
                    .get(&to)
                    .map_or_else(|| next.clone(), |old| old.meet(&next));
                if at.get(&to) != Some(&merged) {
                    at.insert(to, merged);
                    work.push(to);
                }
            }
        }
        let mut moments: BTreeMap<K, Vec<Values<'p>>> = BTreeMap::new();
        let mut record = |facts: &Facts, command: C, to: S| {
            let (after, kinds) = step.take(facts, command, to);
            for kind in kinds {
                moments.entry(kind).or_default().push(Values {
                    department: after.department,
                    proposal: after.proposal,
                    running: after
                        .open
                        .iter()
                        .map(|&i| &policy.clocks[i])
                        .filter(|d| !d.pause_while.contains(&to))
                        .map(|d| d.key.as_str())
                        .collect(),
                });
            }
        };
        for (command, stage) in entries {
            record(&Facts::default(), command, stage);
        }
        for e in g.edge_references() {
            if let Some(facts) = at.get(&g[e.source()]) {
                record(facts, *e.weight(), g[e.target()]);
            }
        }
        Self { moments }
    }

    /// Whether `field` has a value at every occurrence of moment `kind` (a moment no
    /// complaint can reach has every value).
    pub(crate) fn has(&self, kind: K, field: &Field<'_>) -> bool {
        let all = |f: &dyn Fn(&Values<'p>) -> bool| {
            self.moments
                .get(&kind)
                .is_none_or(|ways| ways.iter().all(f))
        };
        match field {
            Field::Complaint | Field::Phone | Field::Email => true,
            Field::Department => all(&|v| v.department),
            Field::Proposal | Field::Amount => all(&|v| v.proposal),
            Field::Clock => is_clock_moment(kind),
            Field::Action => kind == K::ActionRecorded,
            // An escalation comes after the deadline was missed, and a re-projection since
            // (a rung that raised the tier) may have left the clock without one.
            // An at-once clock has no deadline.
            Field::Deadline => is_clock_moment(kind) && !matches!(kind, K::Escalation | K::AtOnce),
            Field::DeadlineOf(keys) => all(&|v| keys.iter().any(|k| v.running.contains(k))),
        }
    }
}

/// Whether some target of `def` is "at once" (it then may run without a deadline).
fn is_at_once(def: &ClockDef) -> bool {
    def.all_targets()
        .any(|(_, t, _)| matches!(t, crate::sla::Target::AtOnce))
}

/// Whether a moment is about one clock (its `{clock}` and `{deadline}`).
pub(crate) fn is_clock_moment(kind: K) -> bool {
    matches!(
        kind,
        K::ClockWarning | K::ClockBreach | K::Escalation | K::OnDuty | K::AtOnce
    )
}

/// One command taking a complaint to a stage, as the analysis sees it.
struct Step<'p> {
    policy: &'p Policy,
}

impl Step<'_> {
    /// What holds after `command` takes a complaint where `facts` hold to `to`, and the
    /// moments it may call for.
    fn take(&self, facts: &Facts, command: C, to: S) -> (Facts, Vec<K>) {
        // The events the command surely produces, and those it may: a tick fires whatever
        // fell due, maybe nothing.
        let (sure, may) = if command == C::Tick {
            let fired = vec![
                E::ClockWarned,
                E::ClockBreached,
                E::RungReached,
                E::TierChanged,
            ];
            (Vec::new(), fired)
        } else {
            let events = clock_triggers_of(command, to);
            (events.clone(), events)
        };
        let has = |events: &[E], list: &[E]| events.iter().any(|e| list.contains(e));
        // A trigger surely fires when every event of a kind matches it (not a named action or
        // clock, one of many), and may fire on any event of its kind.
        let fires = |events: &[E], list: &[Trigger]| {
            events
                .iter()
                .any(|e| list.iter().any(|t| t.matches_every(*e)))
        };
        let may_fire = |events: &[E], list: &[Trigger]| {
            events.iter().any(|e| list.iter().any(|t| t.kind() == *e))
        };
        let mut after = Facts {
            department: facts.department || has(&sure, &[E::Routed, E::Reassigned]),
            proposal: facts.proposal || has(&sure, &[E::RemedyProposed]),
            open: BTreeSet::new(),
            started: facts.started.clone(),
        };
        for (i, def) in self.policy.clocks.iter().enumerate() {
            if !to.is_handling() {
                continue; // every clock stops (a consultation runs none)
            }
            // Open before: it stays open unless it may stop (a reset restarts it instead).
            let keeps = fires(&sure, &def.reset_on) || !may_fire(&may, &def.stop_on);
            // Not open before: it opens if it surely starts (or restarts after a cycle).
            let restarts = fires(&sure, &def.reset_on) && facts.started.contains(&i);
            // A conditional start is never sure.
            let starts = self.always_has_target(def)
                && def.start_when.is_none()
                && (fires(&sure, &def.start_on) || restarts);
            if keeps && (facts.open.contains(&i) || starts) {
                // An at-once clock runs without a deadline to name.
                if !is_at_once(def) {
                    after.open.insert(i);
                }
                after.started.insert(i);
            }
        }
        let mut kinds = Vec::new();
        if has(&may, &[E::Acknowledged]) {
            kinds.push(K::Acknowledged);
        }
        if has(&may, &[E::Triaged]) {
            kinds.push(K::Triaged);
        }
        if has(&may, &[E::Routed, E::Reassigned]) {
            kinds.push(K::Assigned);
        }
        if has(&may, &[E::RemedyProposed, E::ApprovalGranted]) {
            match to {
                S::AwaitingApproval => kinds.push(K::ApprovalRequested),
                S::AwaitingAgreement => kinds.push(K::ProposalOffered),
                _ => {}
            }
        }
        if has(&may, &[E::FeedbackGiven]) {
            kinds.push(K::ResultGiven);
        }
        if has(&may, &[E::Closed]) {
            kinds.push(K::Closed);
        }
        if has(&may, &[E::ActionRecorded]) {
            kinds.push(K::ActionRecorded);
        }
        if command == C::Tick {
            kinds.extend([K::ClockWarning, K::ClockBreach, K::Escalation]);
        }
        let alerts = self.policy.clocks.iter().any(|d| {
            d.after_hours.is_some() && (may_fire(&may, &d.start_on) || may_fire(&may, &d.reset_on))
        });
        if alerts && to.is_handling() {
            kinds.push(K::OnDuty);
        }
        // An at-once clock alerts when it starts, or when a new tier puts it at once.
        let at_once = self.policy.clocks.iter().any(|d| {
            is_at_once(d)
                && (may_fire(&may, &d.start_on)
                    || may_fire(&may, &d.reset_on)
                    || has(&may, &[E::Triaged, E::TierChanged]))
        });
        if at_once && to.is_handling() {
            kinds.push(K::AtOnce);
        }
        (after, kinds)
    }

    /// Whether `def` has a target for every complaint: for every tier, or for every channel.
    fn always_has_target(&self, def: &ClockDef) -> bool {
        let tiers = self
            .policy
            .tiers
            .iter()
            .all(|t| def.targets.contains_key(&t.key));
        let channels = !self.policy.channels.is_empty()
            && self
                .policy
                .channels
                .iter()
                .all(|c| def.channel_targets.contains_key(&c.key));
        tiers || channels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadline(key: &str) -> Field<'_> {
        Field::DeadlineOf(vec![key])
    }

    #[test]
    fn the_sample_policy_s_clocks_run_where_they_should() {
        let text = [
            include_str!("../testing/policy.toml"),
            include_str!("../testing/clocks.toml"),
        ]
        .concat();
        let policy = Policy::from_toml_str(&text).expect("the sample policy loads");
        let a = Availability::of(&policy);
        // Routing starts the resolution clock; it runs through a reassignment.
        assert!(a.has(K::Assigned, &deadline("resolution")));
        // Acknowledging stops the acknowledgement clock.
        assert!(!a.has(K::Acknowledged, &deadline("acknowledge")));
        // The complainant decides while resolution is paused.
        assert!(!a.has(K::ProposalOffered, &deadline("resolution")));
        assert!(a.has(K::ApprovalRequested, &deadline("resolution")));
        // Feedback stops it.
        assert!(!a.has(K::ResultGiven, &deadline("resolution")));
        // The follow-up clock runs for major complaints only.
        assert!(!a.has(K::Closed, &deadline("follow-up")));
        assert!(a.has(K::ClockBreach, &Field::Deadline));
        assert!(!a.has(K::Escalation, &Field::Deadline));
        assert!(a.has(K::Escalation, &Field::Clock));
        assert!(!a.has(K::Closed, &Field::Deadline));
        assert!(a.has(K::ProposalOffered, &Field::Amount));
        assert!(!a.has(K::Assigned, &Field::Proposal));
        assert!(a.has(K::ResultGiven, &Field::Department));
        assert!(
            !a.has(K::Closed, &Field::Department),
            "resolved on the spot"
        );
        assert!(!a.has(K::ClockBreach, &Field::Department));
    }

    #[test]
    fn a_converted_consultation_runs_what_starts_on_receipt() {
        // A whole-case clock from receipt: it runs when a complaint is assigned, also when
        // the complaint began as a consultation (the conversion is its receipt)…
        let clock = r#"
[[clocks]]
key = "case"
start_on = ["received"]
stop_on = ["closed"]
targets = { general = { elapsed = "72h" }, major = { elapsed = "24h" } }
"#;
        let text = [include_str!("../testing/policy.toml"), clock].concat();
        let consults = text.replacen("\"receive\", ", "\"receive\", \"consult\", ", 1);
        let policy = Policy::from_toml_str(&consults).expect("the policy loads");
        assert!(policy.roles[0].may.contains(&C::Consult));
        let a = Availability::of(&policy);
        assert!(a.has(K::Assigned, &deadline("case")));
        // …but not a clock that starts on the consultation's own events: none runs there.
        let on_consulted = clock.replace("[\"received\"]", "[\"consulted\"]");
        let text = [include_str!("../testing/policy.toml"), &on_consulted].concat();
        let policy = Policy::from_toml_str(&text).expect("the policy loads");
        assert!(!Availability::of(&policy).has(K::Assigned, &deadline("case")));
    }
}
