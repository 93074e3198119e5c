//! Property tests over random command sequences: the state is the fold of the events, every
//! accepted command stays inside the transition graph, and a rejected command changes nothing.

mod common;

use common::*;
use plaint::MemoryStore;
use plaint_core::blocking::Engine;
use plaint_core::blocking::Wait as _;
use plaint_core::testing;
use plaint_core::*;
use proptest::prelude::*;
use std::sync::Arc;

fn actors() -> Vec<Actor> {
    vec![
        testing::agent(),
        testing::other_agent(),
        testing::manager(),
        testing::general_manager(),
        testing::customer(),
        testing::stranger(),
    ]
}

const KINDS: [CommandKind; 23] = [
    CommandKind::Receive,
    CommandKind::Acknowledge,
    CommandKind::Triage,
    CommandKind::Explain,
    CommandKind::AcceptExplanation,
    CommandKind::RejectExplanation,
    CommandKind::Route,
    CommandKind::RecordFindings,
    CommandKind::Propose,
    CommandKind::Approve,
    CommandKind::DeclineApproval,
    CommandKind::AcceptProposal,
    CommandKind::RejectProposal,
    CommandKind::RecordExecution,
    CommandKind::GiveFeedback,
    CommandKind::ConfirmSatisfaction,
    CommandKind::FollowUp,
    CommandKind::Close,
    CommandKind::ResolveOnTheSpot,
    CommandKind::Withdraw,
    CommandKind::Merge,
    CommandKind::ChangeTier,
    CommandKind::AddEvidence,
];

/// A command of each kind (by its index in `KINDS`), with parameters drawn from `n`
/// (some legal, some not).
fn command(kind: usize, n: u8) -> Command {
    let pick = |xs: &[&str]| xs[n as usize % xs.len()].to_owned();
    let amount = match n % 5 {
        0 => None,
        1 => Some(cny(0)),
        2 => Some(cny(2_000)),
        3 => Some(cny(80_000)),
        _ => Some(Money::new(100, Currency::new("EUR").unwrap())),
    };
    match kind % 23 {
        0 => Command::Receive(Arc::new(testing::intake(testing::t(0)))),
        1 => Command::Acknowledge,
        2 => Command::Triage {
            category: path(&pick(&["logistics/delay", "service", "logistics/nowhere"])),
            tier: [
                None,
                Some(tier("major")),
                Some(tier("general")),
                Some(tier("bogus")),
            ][n as usize % 4]
                .clone(),
            validity: if n.is_multiple_of(3) {
                Validity::Invalid {
                    reason: InvalidReason::Misunderstanding,
                }
            } else {
                Validity::Valid
            },
        },
        3 => Command::Explain {
            text: pick(&["terms say so", ""]).into(),
        },
        4 => Command::AcceptExplanation,
        5 => Command::RejectExplanation { reason: None },
        6 => Command::Route {
            responsibility: Some(responsibility(&pick(&["hub", "outlet", "warehouse"]))),
        },
        7 => Command::RecordFindings {
            findings: Findings {
                summary: pick(&["backlog", " "]).into(),
                records: vec![],
            },
            root_cause: [
                None,
                Some(path("logistics/delay/weather")),
                Some(path("service/attitude")),
            ][n as usize % 3]
                .clone(),
        },
        8 => Command::Propose {
            remedy: remedy(&pick(&["compensation", "apology", "spa-day"])),
            description: "offer".into(),
            amount,
        },
        9 => Command::Approve { note: None },
        10 => Command::DeclineApproval {
            reason: pick(&["too much", ""]).into(),
        },
        11 => Command::AcceptProposal { agreement: None },
        12 => Command::RejectProposal { reason: None },
        13 => Command::RecordExecution {
            action: "paid".into(),
            reference: None,
            finished: n.is_multiple_of(2),
        },
        14 => Command::GiveFeedback {
            text: "done".into(),
        },
        15 => Command::ConfirmSatisfaction(happy(!n.is_multiple_of(3))),
        16 => Command::FollowUp(happy(!n.is_multiple_of(3))),
        17 => Command::Close,
        18 => Command::ResolveOnTheSpot {
            remedy: remedy("apology"),
            description: "sorry".into(),
        },
        19 => Command::Withdraw { reason: None },
        20 => Command::Merge {
            into: ComplaintId::new(pick(&["EXP-1", "EXP-OTHER", "EXP-NONE"])).unwrap(),
        },
        21 => Command::ChangeTier {
            tier: tier(&pick(&["major", "general"])),
            reason: "escalated".into(),
        },
        _ => Command::AddEvidence(Evidence {
            kind: EvidenceKind::Photo,
            reference: format!("photo-{n}").into(),
            content_hash: None,
        }),
    }
}

/// One random step: `(selector, n, who, legal)`. With `legal`, the selector picks among the
/// commands the graph allows in the current stage and a plausible actor, so runs get deep into
/// the lifecycle; otherwise any command by any actor.
type Step = (usize, u8, usize, bool);

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = (
        0usize..1000,
        any::<u8>(),
        0usize..6,
        prop::bool::weighted(0.85),
    );
    proptest::collection::vec(step, 1..60)
}

/// Turns a step into (command, actor) given the complaint's current stage.
fn resolve(step: Step, stage: StageKind, actors: &[Actor]) -> (Command, Actor) {
    let (selector, n, who, legal) = step;
    if !legal {
        return (command(selector % 23, n), actors[who].clone());
    }
    // Mostly commands that move the complaint along; one step in ten may end or stall it.
    let moves_on = |k: CommandKind| {
        !matches!(
            k,
            CommandKind::Withdraw
                | CommandKind::Merge
                | CommandKind::ResolveOnTheSpot
                | CommandKind::Acknowledge
                | CommandKind::AddEvidence
                | CommandKind::ChangeTier
        )
    };
    let anything = selector % 10 == 0;
    let allowed: Vec<usize> = (0..23)
        .filter(|&i| plaint_core::lifecycle::graph::allows(stage, KINDS[i]))
        .filter(|&i| anything || moves_on(KINDS[i]))
        .collect();
    if allowed.is_empty() {
        return (command(selector % 23, n), actors[who].clone());
    }
    let i = allowed[selector / 10 % allowed.len()];
    let actor = if CommandKind::COMPLAINANT.contains(&KINDS[i]) && who % 2 == 0 {
        testing::customer()
    } else {
        [
            testing::agent(),
            testing::manager(),
            testing::general_manager(),
        ][who % 3]
            .clone()
    };
    (command(i, n), actor)
}

fn engine() -> (
    Engine<Arc<MemoryStore>, DiscardNotifier, ManualClock>,
    Arc<MemoryStore>,
) {
    let store = Arc::new(MemoryStore::new());
    let e = Engine::builder(Arc::clone(&store), testing::policy())
        .clock(ManualClock::new(testing::t(1)))
        .build();
    // The complaint under test, and a second, open one so merges have a legal target.
    for (cmd, id) in [("c-0", "EXP-1"), ("other", "EXP-OTHER")] {
        e.execute(
            CommandId::new(cmd).unwrap(),
            &ComplaintId::new(id).unwrap(),
            Command::Receive(Arc::new(testing::intake(testing::t(0)))),
            &testing::agent(),
        )
        .unwrap();
    }
    (e, store)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(300), ..ProptestConfig::default() })]

    #[test]
    fn random_commands_keep_every_invariant(steps in steps()) {
        let (e, store) = engine();
        let graph = TransitionGraph::new();
        let id = testing::complaint_id();
        let actors = actors();
        for (i, step) in steps.into_iter().enumerate() {
            let before = store.load(&id).wait().unwrap().unwrap();
            let history_before = store.history(&id).wait().unwrap();
            let (command, actor) = resolve(step, before.stage.kind(), &actors);
            let ck = command.kind();
            let cmd_id = CommandId::new(format!("c-{}", i + 1)).unwrap();
            match e.execute(cmd_id.clone(), &id, command, &actor) {
                Ok(after) => {
                    // The edge taken is in the graph.
                    let (from, to) = (before.stage.kind(), after.stage.kind());
                    prop_assert!(graph.has_edge(from, ck, to), "{from} --{ck}--> {to} is not in the graph");
                    // State is the fold of the events.
                    let history = store.history(&id).wait().unwrap();
                    let replayed = Complaint::replay(id.clone(), &history);
                    prop_assert_eq!(replayed.as_ref(), Some(&*after));
                    prop_assert_eq!(&*store.load(&id).wait().unwrap().unwrap(), &*after);
                    prop_assert!(history.len() > history_before.len());
                    prop_assert_eq!(&history[..history_before.len()], &history_before[..]);
                }
                Err(EngineError::Rejected(_)) => {
                    // A rejected command changes nothing, and is not recorded.
                    prop_assert_eq!(&store.load(&id).wait().unwrap().unwrap(), &before);
                    prop_assert_eq!(store.history(&id).wait().unwrap(), history_before);
                    prop_assert!(store.command(&cmd_id).wait().unwrap().is_none());
                }
                Err(other) => prop_assert!(false, "unexpected engine error: {other}"),
            }
        }
    }

    #[test]
    fn serialized_events_replay_to_the_same_state(steps in steps()) {
        let (e, store) = engine();
        let id = testing::complaint_id();
        let actors = actors();
        for (i, step) in steps.into_iter().enumerate() {
            let stage = store.load(&id).wait().unwrap().unwrap().stage.kind();
            let (command, actor) = resolve(step, stage, &actors);
            let _ = e.execute(CommandId::new(format!("c-{}", i + 1)).unwrap(), &id, command, &actor);
        }
        let history = store.history(&id).wait().unwrap();
        let json = serde_json::to_string(&history).unwrap();
        let back: Vec<Recorded> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &history);
        prop_assert_eq!(Complaint::replay(id.clone(), &back), store.load(&id).wait().unwrap().map(|c| (*c).clone()));
    }
}

/// The happy-path walk the random test relies on exists: a scripted run reaches `closed`
/// through the same command generator, so the generator can reach deep stages.
#[test]
fn the_generator_can_walk_the_whole_lifecycle() {
    let (e, _) = engine();
    let id = testing::complaint_id();
    let script: &[(usize, u8, usize)] = &[
        (2, 1, 0),  // triage: n=1 → category service, tier major, valid
        (6, 0, 0),  // route hub
        (7, 0, 0),  // findings
        (8, 0, 0),  // propose compensation, no amount → approval (major)
        (9, 0, 3),  // gm approves
        (11, 0, 4), // customer accepts
        (13, 0, 0), // execution finished
        (14, 0, 0), // feedback
        (15, 1, 4), // satisfied
        (16, 1, 0), // follow-up satisfied
        (17, 0, 0), // close
    ];
    let actors = actors();
    let mut last = None;
    for (i, (kind, n, who)) in script.iter().enumerate() {
        let c = e
            .execute(
                CommandId::new(format!("s-{i}")).unwrap(),
                &id,
                command(*kind, *n),
                &actors[*who],
            )
            .unwrap_or_else(|err| panic!("step {i}: {err}"));
        last = Some(c);
    }
    assert_eq!(last.unwrap().stage.kind(), StageKind::Closed);
}

/// The random runs are worth something only if they visit the whole lifecycle: over a fixed
/// set of generated runs, every stage is reached.
#[test]
fn random_runs_reach_every_stage() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen = std::collections::BTreeSet::new();
    let actors = actors();
    for _ in 0..200 {
        let steps = steps().new_tree(&mut runner).unwrap().current();
        let (e, store) = engine();
        let id = testing::complaint_id();
        for (i, step) in steps.into_iter().enumerate() {
            let stage = store.load(&id).wait().unwrap().unwrap().stage.kind();
            seen.insert(stage);
            let (command, actor) = resolve(step, stage, &actors);
            let _ = e.execute(
                CommandId::new(format!("c-{}", i + 1)).unwrap(),
                &id,
                command,
                &actor,
            );
        }
        seen.insert(store.load(&id).wait().unwrap().unwrap().stage.kind());
    }
    // The runs begin with a receipt; a consultation is the other entry (tests/cases.rs).
    let missing: Vec<_> = StageKind::ALL
        .iter()
        .filter(|s| **s != StageKind::Consultation && !seen.contains(s))
        .collect();
    assert!(missing.is_empty(), "never reached: {missing:?}");
}
