//! The legal transitions as data: a table `decide` consults, a petgraph graph, and Mermaid.

use super::{CommandKind as C, EventKind, StageKind as S};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::BTreeMap;

/// Transitions between different stages, or within a stage for a specific command:
/// `(from, command, possible targets)`. Policy decisions pick among the targets.
const FLOW: &[(S, C, &[S])] = &[
    (S::Received, C::Triage, &[S::Triaged, S::Invalid]),
    (S::Received, C::ResolveOnTheSpot, &[S::Closed]),
    (S::Triaged, C::Route, &[S::Investigating]),
    (S::Triaged, C::ResolveOnTheSpot, &[S::Closed]),
    (S::Invalid, C::Explain, &[S::Explained]),
    (S::Explained, C::AcceptExplanation, &[S::Closed]),
    (S::Explained, C::RejectExplanation, &[S::Received]),
    (S::Investigating, C::RecordFindings, &[S::Proposing]),
    (S::Investigating, C::Reassign, &[S::Investigating]),
    (S::Proposing, C::Reassign, &[S::Proposing]),
    (
        S::Proposing,
        C::Propose,
        &[S::AwaitingApproval, S::AwaitingAgreement, S::Executing],
    ),
    (
        S::AwaitingApproval,
        C::Approve,
        &[S::AwaitingAgreement, S::Executing],
    ),
    (S::AwaitingApproval, C::DeclineApproval, &[S::Proposing]),
    (S::AwaitingAgreement, C::AcceptProposal, &[S::Executing]),
    (S::AwaitingAgreement, C::RejectProposal, &[S::Proposing]),
    (
        S::Executing,
        C::RecordExecution,
        &[S::Executing, S::Executed],
    ),
    (S::Executed, C::GiveFeedback, &[S::AwaitingConfirmation]),
    (
        S::AwaitingConfirmation,
        C::ConfirmSatisfaction,
        &[S::Confirmed, S::Investigating],
    ),
    (
        S::Confirmed,
        C::FollowUp,
        &[S::FollowedUp, S::Investigating],
    ),
    (S::Confirmed, C::Close, &[S::Closed]),
    (S::FollowedUp, C::Close, &[S::Closed]),
    (S::Consultation, C::ConvertToComplaint, &[S::Received]),
];

/// Commands that apply in every stage but a consultation, closed ones included, and keep the
/// stage (a case's points are adjusted when departments are assessed, often after closing;
/// personal data is erased on request or when its retention ends, mostly after closing —
/// and in a consultation too: `targets` and `allows` say so).
const IN_ANY_STAGE: &[C] = &[C::AdjustPoints, C::ErasePersonalData, C::RedactText];

/// Commands of [`IN_ANY_STAGE`] that apply in a consultation too: it holds personal data and
/// staff text as well.
const IN_CONSULTATION_TOO: &[C] = &[C::ErasePersonalData, C::RedactText];

/// Commands that apply in every open stage and lead to the same target from each.
const FROM_ANY_OPEN: &[(C, S)] = &[(C::Withdraw, S::Withdrawn), (C::Merge, S::Merged)];

/// Commands that apply in every open stage and keep the stage.
const IN_ANY_OPEN: &[C] = &[
    C::Acknowledge,
    C::AddEvidence,
    C::ChangeTier,
    C::ReportProgress,
    C::AgreeDeadline,
    C::Tick,
    C::RecordAction,
];

/// The stages `command` may lead to from `from`; empty when the command is illegal there.
/// `Receive` and `Consult` are not in the table: they apply only to a complaint that does not
/// exist yet. The commands of "any open stage" (`IN_ANY_OPEN`, `FROM_ANY_OPEN`) apply where a complaint is being handled
/// ([`S::is_handling`]): not in terminal stages, nor in a consultation.
pub fn targets(from: S, command: C) -> Vec<S> {
    if IN_CONSULTATION_TOO.contains(&command) {
        return vec![from];
    }
    if IN_ANY_STAGE.contains(&command) {
        return if from == S::Consultation {
            Vec::new()
        } else {
            vec![from]
        };
    }
    if !from.is_handling() {
        return FLOW
            .iter()
            .filter(|(f, c, _)| *f == from && *c == command)
            .flat_map(|(_, _, to)| to.iter().copied())
            .collect();
    }
    if IN_ANY_OPEN.contains(&command) {
        return vec![from];
    }
    if let Some((_, to)) = FROM_ANY_OPEN.iter().find(|(c, _)| *c == command) {
        return vec![*to];
    }
    FLOW.iter()
        .filter(|(f, c, _)| *f == from && *c == command)
        .flat_map(|(_, _, to)| to.iter().copied())
        .collect()
}

/// Whether `command` is legal in stage `from` (as `targets` is non-empty, without allocating).
pub fn allows(from: S, command: C) -> bool {
    if IN_CONSULTATION_TOO.contains(&command) {
        return true;
    }
    if IN_ANY_STAGE.contains(&command) {
        return from != S::Consultation;
    }
    (from.is_handling()
        && (IN_ANY_OPEN.contains(&command) || FROM_ANY_OPEN.iter().any(|(c, _)| *c == command)))
        || FLOW.iter().any(|(f, c, _)| *f == from && *c == command)
}

/// The lifecycle as a petgraph graph: one node per [`S`], one edge per (from, command, to).
#[derive(Debug)]
pub struct TransitionGraph {
    graph: DiGraph<S, C>,
    nodes: BTreeMap<S, NodeIndex>,
}

impl TransitionGraph {
    /// Builds the graph from the transition table.
    pub fn new() -> Self {
        let mut graph = DiGraph::new();
        let nodes: BTreeMap<S, NodeIndex> =
            S::ALL.iter().map(|&s| (s, graph.add_node(s))).collect();
        for &from in &S::ALL {
            for (command, to) in all_commands()
                .into_iter()
                .flat_map(|c| targets(from, c).into_iter().map(move |t| (c, t)))
            {
                graph.add_edge(nodes[&from], nodes[&to], command);
            }
        }
        Self { graph, nodes }
    }

    /// The underlying graph.
    pub fn graph(&self) -> &DiGraph<S, C> {
        &self.graph
    }

    /// Whether `to` can be reached from `from` by some sequence of commands.
    pub fn reachable(&self, from: S, to: S) -> bool {
        petgraph::algo::has_path_connecting(&self.graph, self.nodes[&from], self.nodes[&to], None)
    }

    /// Whether the edge `(from, command, to)` is in the graph.
    pub fn has_edge(&self, from: S, command: C, to: S) -> bool {
        self.graph
            .edges_connecting(self.nodes[&from], self.nodes[&to])
            .any(|e| *e.weight() == command)
    }

    /// The lifecycle as a Mermaid state diagram. Commands that apply in every open stage are
    /// drawn once, from a pseudo-state "any stage in handling" (not terminal, not a
    /// consultation); `adjust_points` also loops on each terminal stage.
    pub fn to_mermaid(&self) -> String {
        self.mermaid_with(|_, _, _| Some(String::new()))
    }

    /// The diagram with a say over each edge of the flow: `edge(from, command, to)` returns
    /// `None` to leave the edge out, or text to append to its label. Receipt is offered as
    /// `(received, receive, received)`, a consultation as `(consultation, consult,
    /// consultation)`.
    pub fn mermaid_with(&self, edge: impl Fn(S, C, S) -> Option<String>) -> String {
        let mut out = String::from("stateDiagram-v2\n");
        if let Some(extra) = edge(S::Received, C::Receive, S::Received) {
            out.push_str(&format!(
                "    [*] --> {} : receive{extra}\n",
                mermaid_id(S::Received)
            ));
        }
        let consults = edge(S::Consultation, C::Consult, S::Consultation);
        if let Some(extra) = &consults {
            out.push_str(&format!(
                "    [*] --> {} : consult{extra}\n",
                mermaid_id(S::Consultation)
            ));
        }
        for (from, command, tos) in FLOW {
            for to in *tos {
                if let Some(extra) = edge(*from, *command, *to) {
                    out.push_str(&format!(
                        "    {} --> {} : {command}{extra}\n",
                        mermaid_id(*from),
                        mermaid_id(*to)
                    ));
                }
            }
        }
        out.push_str("    state \"any stage in handling\" as open\n");
        for (command, to) in FROM_ANY_OPEN {
            out.push_str(&format!("    open --> {} : {command}\n", mermaid_id(*to)));
        }
        let keep: Vec<&str> = IN_ANY_OPEN
            .iter()
            .chain(IN_ANY_STAGE)
            .map(|c| c.name())
            .collect();
        out.push_str(&format!("    open --> open : {}\n", keep.join(", ")));
        let anywhere: Vec<&str> = IN_ANY_STAGE.iter().map(|c| c.name()).collect();
        for s in S::ALL.iter().filter(|s| s.is_terminal()) {
            out.push_str(&format!(
                "    {0} --> {0} : {1}\n    {0} --> [*]\n",
                mermaid_id(*s),
                anywhere.join(", ")
            ));
        }
        if consults.is_some() {
            out.push_str(&format!("    {} --> [*]\n", mermaid_id(S::Consultation)));
        }
        out
    }
}

/// The events a command produces when it takes the edge to `to` (before any clock events).
pub fn events_of(command: C, to: S) -> Vec<EventKind> {
    use EventKind as E;
    let reopened = to == S::Investigating;
    match command {
        C::Receive => vec![E::Received],
        C::Acknowledge => vec![E::Acknowledged],
        C::Triage => vec![E::Triaged],
        C::Explain => vec![E::Explained],
        C::AcceptExplanation => vec![E::ExplanationAccepted],
        C::RejectExplanation => vec![E::ExplanationRejected],
        C::Route => vec![E::Routed],
        C::Reassign => vec![E::Reassigned],
        C::RecordFindings => vec![E::FindingsRecorded],
        C::Propose => vec![E::RemedyProposed],
        C::Approve => vec![E::ApprovalGranted],
        C::DeclineApproval => vec![E::ApprovalDeclined],
        C::AcceptProposal => vec![E::ProposalAccepted],
        C::RejectProposal => vec![E::ProposalRejected],
        C::RecordExecution => vec![E::ExecutionRecorded],
        C::GiveFeedback => vec![E::FeedbackGiven],
        C::ConfirmSatisfaction if reopened => vec![E::SatisfactionRecorded, E::Reopened],
        C::ConfirmSatisfaction => vec![E::SatisfactionRecorded],
        C::FollowUp if reopened => vec![E::FollowedUp, E::Reopened],
        C::FollowUp => vec![E::FollowedUp],
        C::Close => vec![E::Closed],
        C::ResolveOnTheSpot => vec![E::ResolvedOnTheSpot, E::Closed],
        C::Withdraw => vec![E::Withdrawn],
        C::Merge => vec![E::Merged],
        C::ChangeTier => vec![E::TierChanged],
        C::AddEvidence => vec![E::EvidenceAdded],
        C::ReportProgress => vec![E::ProgressReported],
        C::AgreeDeadline => vec![E::DeadlineAgreed],
        C::Tick => vec![],
        C::RecordAction => vec![E::ActionRecorded],
        C::Consult => vec![E::Received, E::Consulted],
        C::ConvertToComplaint => vec![E::ConvertedToComplaint],
        C::AdjustPoints => vec![E::PointsAdjusted],
        C::ErasePersonalData => vec![E::PersonalDataErased],
        C::RedactText => vec![E::TextRedacted],
    }
}

/// The event kinds clock triggers see when `command` takes the edge to `to`: its events,
/// except that a consultation runs no clock (its `received` starts nothing) and a
/// conversion into a complaint reads as `received` (what starts on receipt starts then).
/// `decide` follows the same rule.
pub fn clock_triggers_of(command: C, to: S) -> Vec<EventKind> {
    match command {
        C::Consult => Vec::new(),
        C::ConvertToComplaint => vec![EventKind::ConvertedToComplaint, EventKind::Received],
        _ => events_of(command, to),
    }
}

impl Default for TransitionGraph {
    fn default() -> Self {
        Self::new()
    }
}

fn mermaid_id(s: S) -> &'static str {
    s.name()
}

/// Every command kind except `Receive` and `Consult`, which have no source stage.
fn all_commands() -> Vec<C> {
    let mut v: Vec<C> = FLOW.iter().map(|(_, c, _)| *c).collect();
    v.extend(FROM_ANY_OPEN.iter().map(|(c, _)| *c));
    v.extend_from_slice(IN_ANY_OPEN);
    v.extend_from_slice(IN_ANY_STAGE);
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_is_reachable_from_an_entry_stage() {
        let g = TransitionGraph::new();
        for s in S::ALL {
            assert!(
                S::ENTRY.iter().any(|&e| g.reachable(e, s)),
                "{s} unreachable"
            );
        }
        // A conversion is for good: no way leads back to a consultation.
        assert!(!g.reachable(S::Received, S::Consultation));
        assert!(g.reachable(S::Consultation, S::Received));
    }

    #[test]
    fn every_open_stage_can_reach_a_terminal_one_without_withdrawal() {
        // Withdrawal reaches a terminal stage from anywhere; the real flow must too.
        let mut g = TransitionGraph::new();
        g.graph
            .retain_edges(|gr, e| !matches!(gr[e], C::Withdraw | C::Merge));
        for s in S::ALL.iter().filter(|s| !s.is_terminal()) {
            assert!(g.reachable(*s, S::Closed), "{s} cannot reach closed");
        }
    }

    #[test]
    fn terminal_stages_have_no_exit_and_only_points_are_adjusted_and_data_erased_there() {
        let g = TransitionGraph::new();
        for s in S::ALL.iter().filter(|s| s.is_terminal()) {
            let out: Vec<(S, C)> = g
                .graph
                .edges_directed(g.nodes[s], petgraph::Direction::Outgoing)
                .map(|e| (g.graph[petgraph::visit::EdgeRef::target(&e)], *e.weight()))
                .collect();
            let mut out = out;
            out.sort_by_key(|(_, c)| c.name());
            let mut expected: Vec<(S, C)> = IN_ANY_STAGE.iter().map(|c| (*s, *c)).collect();
            expected.sort_by_key(|(_, c)| c.name());
            assert_eq!(out, expected, "{s}");
        }
    }

    #[test]
    fn a_consultation_only_converts_or_is_erased_or_redacted() {
        let g = TransitionGraph::new();
        let out: Vec<C> = g
            .graph
            .edges_directed(g.nodes[&S::Consultation], petgraph::Direction::Outgoing)
            .map(|e| *e.weight())
            .collect();
        assert_eq!(
            out,
            vec![C::RedactText, C::ErasePersonalData, C::ConvertToComplaint]
        );
        assert!(!allows(S::Consultation, C::Withdraw));
        assert!(!allows(S::Consultation, C::Tick));
        assert!(!allows(S::Consultation, C::AdjustPoints));
        assert!(allows(S::Closed, C::AdjustPoints));
        assert!(!allows(S::Closed, C::Acknowledge));
    }

    #[test]
    fn every_command_but_receive_has_an_edge() {
        let cmds = all_commands();
        assert!(!cmds.contains(&C::Receive));
        assert!(!cmds.contains(&C::Consult));
        assert_eq!(cmds.len(), C::ALL.len() - 2);
    }

    #[test]
    fn allows_agrees_with_targets() {
        for from in S::ALL {
            for c in all_commands().into_iter().chain([C::Receive, C::Consult]) {
                assert_eq!(allows(from, c), !targets(from, c).is_empty(), "{from} {c}");
            }
        }
    }

    #[test]
    fn mermaid_names_every_stage() {
        let m = TransitionGraph::new().to_mermaid();
        assert!(m.starts_with("stateDiagram-v2\n"));
        for s in S::ALL {
            assert!(m.contains(s.name()), "{s} missing from diagram");
        }
    }
}
