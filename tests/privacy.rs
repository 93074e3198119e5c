//! Personal data through the engine: export round-trips, erasure keeps reports, retention
//! erases exactly what has expired on a manual clock (consultations counted from their
//! answer), and old policies still load.

use plaint::MemoryStore;
use plaint::report::{Period, Report};
use plaint_core::blocking::{Engine, Wait as _};
use plaint_core::sla::Span;
use plaint_core::*;
use std::sync::Arc;

type Eng = Engine<MemoryStore, DiscardNotifier, Arc<ManualClock>>;

fn engine(policy: Policy) -> (Eng, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(testing::t(1)));
    let engine = Engine::builder(MemoryStore::new(), policy)
        .clock(Arc::clone(&clock))
        .build();
    (engine, clock)
}

fn cid(s: &str) -> ComplaintId {
    ComplaintId::new(s).unwrap()
}

fn receive(engine: &Eng, id: &str, complainant: &str) {
    let mut intake = testing::intake(testing::t(0));
    intake.complainant.id = ActorId::new(complainant).unwrap();
    engine
        .execute(
            CommandId::new(format!("r-{id}")).unwrap(),
            &cid(id),
            Command::Receive(Arc::new(intake)),
            &testing::agent(),
        )
        .unwrap();
}

fn withdraw(engine: &Eng, id: &str) {
    engine
        .execute(
            CommandId::new(format!("w-{id}")).unwrap(),
            &cid(id),
            Command::Withdraw {
                reason: Some("Found the parcel, call me on 13812345678".into()),
            },
            &testing::agent(),
        )
        .unwrap();
}

#[test]
fn an_export_holds_everything_about_one_complainant_and_round_trips() {
    let (engine, _) = engine(testing::policy());
    receive(&engine, "C-1", "cust-1");
    receive(&engine, "C-2", "cust-1");
    receive(&engine, "C-3", "cust-2");
    withdraw(&engine, "C-2");
    let cust = ActorId::new("cust-1").unwrap();
    let export = engine
        .export_complainant(&cust, &testing::privacy_officer())
        .unwrap();
    let ids: Vec<&str> = export
        .complaints
        .iter()
        .map(|c| c.state.id.as_str())
        .collect();
    assert_eq!(ids, ["C-1", "C-2"]);
    for c in &export.complaints {
        assert_eq!(c.history, engine.history(&c.state.id).unwrap());
        assert_eq!(c.state, *engine.get(&c.state.id).unwrap().unwrap());
    }
    let json = serde_json::to_string_pretty(&export).unwrap();
    assert!(json.contains("Zhang San") && json.contains("13812345678"));
    let back: Export = serde_json::from_str(&json).unwrap();
    assert_eq!(back, export);
    // The complainant may take their own copy; nobody else without the erasing role.
    assert!(
        engine
            .export_complainant(&cust, &testing::customer())
            .is_ok()
    );
    for who in [testing::stranger(), testing::agent()] {
        let err = engine.export_complainant(&cust, &who).unwrap_err();
        assert_eq!(err.code(), "forbidden");
    }
}

#[test]
fn erasure_keeps_reports_and_timelines_say_erased() {
    let (engine, _) = engine(testing::policy());
    receive(&engine, "C-1", "cust-1");
    receive(&engine, "C-2", "cust-2");
    withdraw(&engine, "C-1");
    let month = Period::month(2026, 11).unwrap();
    let report = || {
        Report::from_store(engine.store(), engine.current_policy(), month)
            .wait()
            .unwrap()
    };
    let before = report();
    let cust = ActorId::new("cust-1").unwrap();
    let err = engine
        .erase_complainant(&cust, &testing::agent(), "asked")
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    // Who asks and why are checked first: a complainant held nowhere is answered alike,
    // and only someone who may erase learns there was nothing to erase.
    let nobody = ActorId::new("cust-none").unwrap();
    let err = engine
        .erase_complainant(&nobody, &testing::agent(), "asked")
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let err = engine
        .erase_complainant(&nobody, &testing::privacy_officer(), " ")
        .unwrap_err();
    assert_eq!(err.code(), "invalid");
    let done = engine
        .erase_complainant(&nobody, &testing::privacy_officer(), "asked")
        .unwrap();
    assert_eq!(done, Erasure::default());
    engine
        .erase_complainant(&cust, &testing::privacy_officer(), "deletion request")
        .unwrap();
    assert_eq!(report(), before, "the same figures after the erasure");
    let history = engine.history(&cid("C-1")).unwrap();
    let timeline: Vec<String> = history.iter().map(|r| r.event.to_string()).collect();
    assert!(timeline.iter().any(|l| l.contains(ERASED)), "{timeline:#?}");
    assert!(!format!("{timeline:?}").contains("13812345678"));
    let view = engine
        .view(&cid("C-1"), &testing::privacy_officer())
        .unwrap();
    assert_eq!(view.complaint.intake.complainant.name, ERASED);
    // Nothing personal is taken in afterwards, and a second erasure is refused.
    let again = engine.execute(
        CommandId::new("e2").unwrap(),
        &cid("C-1"),
        Command::ErasePersonalData {
            reason: "again".into(),
        },
        &testing::privacy_officer(),
    );
    assert_eq!(again.unwrap_err().code(), "invalid");
}

/// The sample policy, with agents answering consultations and converting them.
fn consulting_policy() -> Policy {
    let mut policy = testing::policy();
    for role in policy
        .roles
        .iter_mut()
        .filter(|r| r.key.as_str() == "agent")
    {
        role.may.insert(CommandKind::Consult);
        role.may.insert(CommandKind::ConvertToComplaint);
    }
    policy
}

/// Contact `id` of `complainant`, answered as a consultation at the engine's clock.
fn consult(engine: &Eng, id: &str, complainant: &str) {
    let mut intake = testing::intake(testing::t(0));
    intake.complainant.id = ActorId::new(complainant).unwrap();
    engine
        .execute(
            CommandId::new(format!("q-{id}")).unwrap(),
            &cid(id),
            Command::Consult {
                intake: Arc::new(intake),
                answer: "Parcels are held for seven days.".into(),
            },
            &testing::agent(),
        )
        .unwrap();
}

#[test]
fn a_consultation_is_erased_too() {
    let (engine, _) = engine(consulting_policy());
    consult(&engine, "Q-1", "cust-7");
    let cust = ActorId::new("cust-7").unwrap();
    let done = engine
        .erase_complainant(&cust, &testing::privacy_officer(), "deletion request")
        .unwrap();
    assert_eq!(done.erased, vec![cid("Q-1")]);
    let c = engine.get(&cid("Q-1")).unwrap().unwrap();
    assert_eq!(c.stage.kind(), StageKind::Consultation);
    assert_eq!(c.intake.complainant.name, ERASED);
}

#[test]
fn retention_erases_exactly_the_expired_complaints() {
    let mut policy = testing::policy();
    policy.privacy.keep_personal_data_after_close = Some(Span::from_seconds(30 * 86_400));
    let (engine, clock) = engine(policy);
    receive(&engine, "C-1", "cust-1");
    receive(&engine, "C-2", "cust-2");
    receive(&engine, "C-3", "cust-3");
    withdraw(&engine, "C-1");
    clock.advance(chrono::Duration::days(10));
    withdraw(&engine, "C-2");
    let officer = testing::privacy_officer();
    let erased = |engine: &Eng| -> Vec<String> {
        ["C-1", "C-2", "C-3"]
            .into_iter()
            .filter(|c| engine.get(&cid(c)).unwrap().unwrap().erased_at.is_some())
            .map(String::from)
            .collect()
    };
    // 29 days after C-1 closed: nothing has expired.
    clock.advance(chrono::Duration::days(19));
    assert!(
        engine
            .enforce_retention(&officer)
            .unwrap()
            .erased
            .is_empty()
    );
    // 30 days after C-1 closed: C-1 only.
    clock.advance(chrono::Duration::days(1));
    let done = engine.enforce_retention(&officer).unwrap();
    assert_eq!(done.erased, vec![cid("C-1")]);
    assert_eq!(erased(&engine), ["C-1"]);
    // Run again: nothing more. Ten days on: C-2; C-3, still open, keeps its data.
    assert!(
        engine
            .enforce_retention(&officer)
            .unwrap()
            .erased
            .is_empty()
    );
    clock.advance(chrono::Duration::days(10));
    assert_eq!(
        engine.enforce_retention(&officer).unwrap().erased,
        vec![cid("C-2")]
    );
    clock.advance(chrono::Duration::days(1000));
    assert!(
        engine
            .enforce_retention(&officer)
            .unwrap()
            .erased
            .is_empty()
    );
    assert_eq!(erased(&engine), ["C-1", "C-2"]);
    let last = engine.history(&cid("C-1")).unwrap().pop().unwrap();
    assert_eq!(last.actor, officer.id);
    assert!(last.event.to_string().contains("retention"));
    // Someone without the role erases nothing and is told why.
    let mut policy = testing::policy();
    policy.privacy.keep_personal_data_after_close = Some(Span::from_seconds(0));
    let (engine, _) = self::engine(policy);
    receive(&engine, "C-9", "cust-9");
    withdraw(&engine, "C-9");
    let done = engine.enforce_retention(&testing::agent()).unwrap();
    assert!(done.erased.is_empty());
    assert_eq!(done.failed.len(), 1);
}

#[test]
fn retention_counts_a_consultation_from_its_answer_and_a_converted_one_as_a_complaint() {
    let mut policy = consulting_policy();
    policy.privacy.keep_personal_data_after_close = Some(Span::from_seconds(30 * 86_400));
    let (engine, clock) = engine(policy);
    consult(&engine, "Q-1", "cust-1");
    consult(&engine, "Q-3", "cust-3");
    clock.advance(chrono::Duration::days(20));
    consult(&engine, "Q-2", "cust-2");
    // Q-3's customer disputed the answer: it is a complaint now, still being handled.
    engine
        .execute(
            CommandId::new("convert-Q-3").unwrap(),
            &cid("Q-3"),
            Command::ConvertToComplaint {
                reason: "The parcel was returned after three days.".into(),
            },
            &testing::agent(),
        )
        .unwrap();
    let officer = testing::privacy_officer();
    // 29 days after Q-1 was answered: nothing has expired.
    clock.advance(chrono::Duration::days(9));
    assert!(
        engine
            .enforce_retention(&officer)
            .unwrap()
            .erased
            .is_empty()
    );
    // 30 days after Q-1 was answered: Q-1 only; Q-2 was answered ten days ago.
    clock.advance(chrono::Duration::days(1));
    let done = engine.enforce_retention(&officer).unwrap();
    assert_eq!(done.erased, vec![cid("Q-1")], "{:?}", done.failed);
    let q1 = engine.get(&cid("Q-1")).unwrap().unwrap();
    assert_eq!(q1.stage.kind(), StageKind::Consultation);
    assert_eq!(q1.intake.complainant.name, ERASED);
    let last = engine.history(&cid("Q-1")).unwrap().pop().unwrap();
    assert!(
        last.event.to_string().contains("after answering"),
        "{}",
        last.event
    );
    // Twenty days on, Q-2's time is up too; Q-3, a complaint being handled, keeps its data.
    clock.advance(chrono::Duration::days(20));
    assert_eq!(
        engine.enforce_retention(&officer).unwrap().erased,
        vec![cid("Q-2")]
    );
    let q3 = engine.get(&cid("Q-3")).unwrap().unwrap();
    assert_eq!((q3.erased_at, q3.stage.kind()), (None, StageKind::Received));
}

#[test]
fn policies_without_a_privacy_section_keep_data_until_erased_and_the_section_loads() {
    assert_eq!(testing::policy().privacy, Privacy::default());
    let text = include_str!("../crates/plaint-core/src/testing/policy.toml");
    let with = format!("{text}\n[privacy]\nkeep_personal_data_after_close = \"1095d\"\n");
    let policy = Policy::from_toml_str(&with).unwrap();
    assert_eq!(
        policy.privacy.keep_personal_data_after_close,
        Some(Span::from_seconds(1095 * 86_400))
    );
    let bad = format!("{text}\n[privacy]\nkeep_personal_data_after_close = \"3 years\"\n");
    assert!(Policy::from_toml_str(&bad).is_err());
}

#[test]
fn a_redaction_is_checked_against_the_history_audited_and_answered_once() {
    let (engine, _) = engine(testing::policy());
    receive(&engine, "C-1", "cust-1");
    let id = cid("C-1");
    let run = |cmd: &str, command: Command, actor: &Actor| {
        engine.execute(CommandId::new(cmd).unwrap(), &id, command, actor)
    };
    run(
        "t",
        Command::Triage {
            category: CategoryPath::parse("logistics/delay").unwrap(),
            tier: Some(TierKey::new("major").unwrap()),
            validity: Validity::Valid,
        },
        &testing::agent(),
    )
    .unwrap();
    run(
        "o",
        Command::Route {
            responsibility: Some(Responsibility {
                primary: DepartmentKey::new("hub").unwrap(),
                collaborating: vec![],
                party: Party::Internal {
                    unit: "outlet-1".into(),
                },
            }),
        },
        &testing::agent(),
    )
    .unwrap();
    let found = run(
        "f",
        Command::RecordFindings {
            findings: Findings {
                summary: "Mis-sorted; the customer is on 13812345678".into(),
                records: vec!["waybill trace 7731".into()],
            },
            root_cause: None,
        },
        &testing::agent(),
    )
    .unwrap();
    let redact = |version: u64, field: &str| Command::RedactText {
        version,
        field: field.into(),
        reason: "a phone number in staff text".into(),
    };
    let officer = testing::privacy_officer();
    // Only a role granted `redact_text`; then only a text the event has.
    let err = run("x1", redact(found.version, "summary"), &testing::agent()).unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let err = run("x2", redact(found.version + 1, "summary"), &officer).unwrap_err();
    assert_eq!(err.code(), "invalid");
    let err = run("x3", redact(found.version, "note"), &officer).unwrap_err();
    assert!(err.to_string().contains("has: summary, records.0"), "{err}");
    assert_eq!(engine.get(&id).unwrap().unwrap().version, found.version);

    let redacted = run("x4", redact(found.version, "summary"), &officer).unwrap();
    assert_eq!(&*redacted.findings.as_ref().unwrap().summary, REDACTED);
    let timeline: Vec<String> = engine
        .history(&id)
        .unwrap()
        .iter()
        .map(|r| r.event.to_string())
        .collect();
    assert!(!format!("{timeline:?}").contains("13812345678"));
    assert!(
        timeline.contains(&format!("findings: {REDACTED}")),
        "{timeline:#?}"
    );
    assert_eq!(
        timeline.last().unwrap(),
        &format!(
            "`summary` of event {} redacted (a phone number in staff text)",
            found.version
        )
    );
    // The same request again is answered with its result; a new one is refused.
    let again = run("x4", redact(found.version, "summary"), &officer).unwrap();
    assert_eq!(again, redacted);
    let err = run("x5", redact(found.version, "summary"), &officer).unwrap_err();
    assert!(err.to_string().contains("already redacted"), "{err}");
    // The other record of the findings is still there to redact.
    let last = run("x6", redact(found.version, "records.0"), &officer).unwrap();
    assert_eq!(
        last.findings.as_ref().unwrap().records,
        vec![Text::from(REDACTED)]
    );
}
