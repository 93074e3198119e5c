//! Views: what each actor may see of a complaint and its history (contacts masked unless
//! they may see them; nothing of another's complaint for a complainant; no internal records
//! for a complainant), listing for an actor, and the wire shapes of `ListQuery` and `Page`.

use plaint::MemoryStore;
use plaint_core::blocking::Engine;
use plaint_core::testing;
use plaint_core::*;
use std::sync::Arc;

type TestEngine = Engine<Arc<MemoryStore>, DiscardNotifier, Arc<ManualClock>>;

const PHONE: &str = "13812345678";
const EMAIL: &str = "zhang.san@example.com";

/// The sample policy with a `media` flag and two roles that may see contacts: `desk` everywhere, `hub-lead`
/// only on complaints its holder's department answers for.
fn policy() -> Policy {
    let text = [
        "flags = [{ key = \"media\" }]\n",
        include_str!("../crates/plaint-core/src/testing/policy.toml"),
        r#"
[[roles]]
key = "desk"
may = ["add_evidence", "report_progress"]
contact_access = true

[[actions]]
key = "desk-report"
roles = ["desk"]

[[roles]]
key = "hub-lead"
may = ["record_findings"]
contact_access = true
scope = "responsible"
"#,
    ]
    .concat();
    Policy::from_toml_str(&text).unwrap()
}

fn engine() -> TestEngine {
    Engine::builder(Arc::new(MemoryStore::new()), policy())
        .clock(Arc::new(ManualClock::new(testing::t(1))))
        .build()
}

fn staff(id: &str, role: &str, department: &str) -> Actor {
    Actor::staff(
        ActorId::new(id).unwrap(),
        vec![RoleKey::new(role).unwrap()],
        Some(DepartmentKey::new(department).unwrap()),
    )
}

fn cid(s: &str) -> ComplaintId {
    ComplaintId::new(s).unwrap()
}

fn run(e: &TestEngine, id: &ComplaintId, n: &str, command: Command, actor: &Actor) {
    e.execute(CommandId::new(n).unwrap(), id, command, actor)
        .unwrap();
}

fn photo(reference: &str) -> Command {
    Command::AddEvidence(Evidence {
        kind: EvidenceKind::Photo,
        reference: reference.into(),
        content_hash: None,
    })
}

/// A complaint of `cust-1` (flagged `media`): received, triaged `tier`, routed to hub,
/// investigated, with evidence from the complainant and from staff, progress reported to the
/// complainant and an internal action recorded.
fn handled(e: &TestEngine, id: &ComplaintId, tier: &str) {
    let agent = testing::agent();
    let mut intake = testing::intake(testing::t(0));
    intake.flags = [Flag::new("media").unwrap()].into();
    let p = id.as_str();
    run(
        e,
        id,
        &format!("{p}-r"),
        Command::Receive(Arc::new(intake)),
        &agent,
    );
    run(e, id, &format!("{p}-t"), triage(tier), &agent);
    run(
        e,
        id,
        &format!("{p}-o"),
        Command::Route {
            responsibility: Some(Responsibility {
                primary: DepartmentKey::new("hub").unwrap(),
                collaborating: vec![],
                party: Party::Internal {
                    unit: "courier-0042".into(),
                },
            }),
        },
        &agent,
    );
    run(
        e,
        id,
        &format!("{p}-f"),
        Command::RecordFindings {
            findings: Findings {
                summary: "Courier skipped the round.".into(),
                records: vec![],
            },
            root_cause: None,
        },
        &agent,
    );
    run(
        e,
        id,
        &format!("{p}-e1"),
        photo("by-customer"),
        &testing::customer(),
    );
    run(e, id, &format!("{p}-e2"), photo("cctv-by-staff"), &agent);
    let desk = staff("desk-1", "desk", "customer-service");
    run(
        e,
        id,
        &format!("{p}-p"),
        Command::ReportProgress {
            note: "We found the parcel.".into(),
        },
        &desk,
    );
    let internal = Command::RecordAction {
        action: ActionKey::new("desk-report").unwrap(),
        note: Some("Reported to the regional desk.".into()),
        document: None,
    };
    run(e, id, &format!("{p}-x"), internal, &desk);
}

fn triage(tier: &str) -> Command {
    Command::Triage {
        category: CategoryPath::parse("logistics/delay").unwrap(),
        tier: Some(TierKey::new(tier).unwrap()),
        validity: Validity::Valid,
    }
}

fn is_not_found(r: Result<impl std::fmt::Debug, EngineError>) -> bool {
    matches!(r, Err(EngineError::Rejected(Rejection::NotFound)))
}

fn phones(c: &Complaint) -> Vec<String> {
    c.intake
        .complainant
        .contacts
        .iter()
        .map(|c| c.expose().to_owned())
        .collect()
}

fn received_intake(history: &[Recorded]) -> &Intake {
    match &history[0].event {
        Event::Received { intake, .. } => intake,
        other => panic!("the history starts with {other:?}"),
    }
}

#[test]
fn a_stranger_complainant_gets_not_found_as_for_a_complaint_that_does_not_exist() {
    let e = engine();
    let id = cid("C-1");
    handled(&e, &id, "general");
    let stranger = testing::stranger();
    assert!(is_not_found(e.view(&id, &stranger)));
    assert!(is_not_found(e.history_for(&id, &stranger)));
    // Word for word the answer for a complaint that does not exist.
    let missing = cid("C-404");
    assert_eq!(
        e.view(&id, &stranger).unwrap_err().to_string(),
        e.view(&missing, &stranger).unwrap_err().to_string()
    );
    assert!(is_not_found(e.view(&missing, &testing::agent())));
    assert!(is_not_found(e.history_for(&missing, &testing::customer())));
    // Nor does a listing name it, even asked for its owner's complaints.
    let owner = ListQuery::new().complainant(ActorId::new("cust-1").unwrap());
    assert!(e.list_for(&owner, &stranger).unwrap().items.is_empty());
    assert!(
        e.list_for(&ListQuery::new(), &stranger)
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(e.count_for(&owner, &stranger).unwrap(), 0);
    // Its owner sees it.
    assert_eq!(e.view(&id, &testing::customer()).unwrap().complaint.id, id);
}

#[test]
fn a_role_without_contact_access_sees_masked_contacts_in_the_view_and_the_history() {
    let e = engine();
    let id = cid("C-1");
    handled(&e, &id, "general");
    let agent = testing::agent();
    let view = e.view(&id, &agent).unwrap();
    assert!(!view.sight.contacts && view.sight.internal);
    assert_eq!(phones(&view.complaint), ["1******5678", "z***@example.com"]);
    let history = e.history_for(&id, &agent).unwrap();
    let intake = received_intake(&history);
    let shown: Vec<&str> = intake
        .complainant
        .contacts
        .iter()
        .map(Contact::expose)
        .collect();
    assert_eq!(shown, ["1******5678", "z***@example.com"]);
    // Staff see every internal record, and every entry of the history.
    assert_eq!(history.len(), e.history(&id).unwrap().len());
    assert!(view.complaint.findings.is_some());
    assert_eq!(view.complaint.evidence.len(), 2);
    assert!(!intake.flags.is_empty());
    // The trusted queries still give the raw contacts.
    assert_eq!(phones(&e.get(&id).unwrap().unwrap()), [PHONE, EMAIL]);
}

#[test]
fn a_role_with_contact_access_sees_contacts_on_complaints_it_reaches() {
    let e = engine();
    let id = cid("C-1");
    handled(&e, &id, "general");
    let desk = staff("desk-1", "desk", "customer-service");
    assert_eq!(
        phones(&e.view(&id, &desk).unwrap().complaint),
        [PHONE, EMAIL]
    );
    let history = e.history_for(&id, &desk).unwrap();
    assert_eq!(
        received_intake(&history).complainant.contacts[0].expose(),
        PHONE
    );
    // A role scoped to its department's complaints: contacts only where it answers.
    let hub_lead = staff("lead-1", "hub-lead", "hub");
    assert_eq!(phones(&e.view(&id, &hub_lead).unwrap().complaint)[0], PHONE);
    let outlet_lead = staff("lead-2", "hub-lead", "outlet");
    let seen = e.view(&id, &outlet_lead).unwrap();
    assert!(!seen.sight.contacts);
    assert_eq!(phones(&seen.complaint)[0], "1******5678");
}

#[test]
fn the_complainant_sees_their_contacts_and_what_concerns_them_not_staffs_internal_records() {
    let e = engine();
    let id = cid("C-1");
    handled(&e, &id, "general");
    let me = testing::customer();
    let view = e.view(&id, &me).unwrap();
    assert!(view.sight.contacts && !view.sight.internal);
    let c = &view.complaint;
    assert_eq!(phones(c), [PHONE, EMAIL]);
    assert!(c.responsibility.is_none(), "routing is internal");
    assert!(c.findings.is_none(), "findings are internal");
    assert!(c.clocks.is_empty() && c.intake.flags.is_empty());
    assert!(c.actions.is_empty(), "recorded actions are internal");
    let evidence: Vec<&str> = c.evidence.iter().map(|e| &*e.reference).collect();
    assert_eq!(evidence, ["by-customer"], "staff's evidence is internal");

    let kinds: Vec<EventKind> = e
        .history_for(&id, &me)
        .unwrap()
        .iter()
        .map(|r| r.event.kind())
        .collect();
    assert_eq!(
        kinds,
        [
            EventKind::Received,
            EventKind::Triaged,
            EventKind::EvidenceAdded,
            EventKind::ProgressReported
        ]
    );
    let everything: Vec<EventKind> = e
        .history(&id)
        .unwrap()
        .iter()
        .map(|r| r.event.kind())
        .collect();
    for internal in [
        EventKind::Routed,
        EventKind::FindingsRecorded,
        EventKind::ActionRecorded,
    ] {
        assert!(everything.contains(&internal), "{internal:?}");
    }
    // Staff's roles and department are not shown on the entries they signed.
    for r in e.history_for(&id, &me).unwrap() {
        if let Some(ActorKind::Staff { roles, department }) = &r.actor_kind {
            assert!(roles.is_empty() && department.is_none(), "{r:?}");
        }
    }
}

#[test]
fn a_proposal_reaches_the_complainants_view_only_once_it_is_offered() {
    let e = engine();
    let id = cid("C-1");
    handled(&e, &id, "major");
    let propose = Command::Propose {
        remedy: RemedyKey::new("compensation").unwrap(),
        description: "30.00 for the delay".into(),
        amount: Some(Money::new(3000, Currency::new("CNY").unwrap())),
    };
    run(&e, &id, "propose", propose, &testing::agent());
    assert_eq!(
        e.get(&id).unwrap().unwrap().stage.kind(),
        StageKind::AwaitingApproval
    );
    let me = testing::customer();
    let proposed = |e: &TestEngine| {
        e.history_for(&id, &me)
            .unwrap()
            .iter()
            .filter(|r| r.event.kind() == EventKind::RemedyProposed)
            .count()
    };
    assert!(e.view(&id, &me).unwrap().complaint.proposals.is_empty());
    assert_eq!(proposed(&e), 0);
    assert_eq!(
        e.view(&id, &testing::agent())
            .unwrap()
            .complaint
            .proposals
            .len(),
        1
    );

    run(
        &e,
        &id,
        "approve",
        Command::Approve {
            note: Some("ok, internal remark".into()),
        },
        &testing::manager(),
    );
    let view = e.view(&id, &me).unwrap();
    assert_eq!(view.complaint.proposals.len(), 1, "offered once approved");
    assert!(
        view.complaint.proposals[0].approvals.is_empty(),
        "approvals are internal"
    );
    assert_eq!(proposed(&e), 1);
    assert!(
        !e.history_for(&id, &me)
            .unwrap()
            .iter()
            .any(|r| r.event.kind() == EventKind::ApprovalGranted)
    );
}

#[test]
fn serialized_views_hold_no_raw_phone_or_email() {
    let e = engine();
    let id = cid("C-1");
    handled(&e, &id, "general");
    let raw = serde_json::to_string(&e.get(&id).unwrap()).unwrap();
    assert!(
        raw.contains(PHONE) && raw.contains(EMAIL),
        "the trusted form is whole"
    );
    for actor in [testing::agent(), testing::manager(), Actor::system()] {
        let json = [
            serde_json::to_string(&e.view(&id, &actor).unwrap()).unwrap(),
            serde_json::to_string(&e.history_for(&id, &actor).unwrap()).unwrap(),
            serde_json::to_string(&e.list_for(&ListQuery::new(), &actor).unwrap()).unwrap(),
        ]
        .concat();
        assert!(!json.contains(PHONE), "{actor:?}: {json}");
        assert!(!json.contains("zhang.san"), "{actor:?}: {json}");
        assert!(json.contains("1******5678"), "{actor:?}");
    }
    let view = serde_json::to_value(e.view(&id, &testing::agent()).unwrap()).unwrap();
    assert_eq!(view["sight"]["contacts"], false);
    assert_eq!(view["complaint"]["id"], "C-1");
    assert_eq!(
        view["complaint"]["intake"]["complainant"]["contacts"][0],
        serde_json::json!({ "kind": "phone", "value": "1******5678" })
    );
}

#[test]
fn the_system_actor_sees_every_record_but_not_the_contacts() {
    let e = engine();
    let id = cid("C-1");
    handled(&e, &id, "general");
    let view = e.view(&id, &Actor::system()).unwrap();
    assert!(!view.sight.contacts && view.sight.internal);
    assert!(view.complaint.findings.is_some());
    assert_eq!(
        e.history_for(&id, &Actor::system()).unwrap().len(),
        e.history(&id).unwrap().len()
    );
}

#[test]
fn a_complainant_lists_and_counts_only_their_own_complaints() {
    let e = engine();
    for (id, who) in [("C-1", "cust-1"), ("C-2", "cust-2"), ("C-3", "cust-1")] {
        let mut intake = testing::intake(testing::t(0));
        intake.complainant.id = ActorId::new(who).unwrap();
        run(
            &e,
            &cid(id),
            id,
            Command::Receive(Arc::new(intake)),
            &testing::agent(),
        );
    }
    let ids = |page: ViewPage| -> Vec<String> {
        page.items
            .iter()
            .map(|v| v.complaint.id.to_string())
            .collect()
    };
    let me = testing::customer();
    assert_eq!(
        ids(e.list_for(&ListQuery::new(), &me).unwrap()),
        ["C-1", "C-3"]
    );
    assert_eq!(e.count_for(&ListQuery::new(), &me).unwrap(), 2);
    let paged = e.list_for(&ListQuery::new().limit(1), &me).unwrap();
    assert_eq!(paged.next, Some(cid("C-1")));
    assert_eq!(ids(paged), ["C-1"]);
    // Their own contacts, whole, in their own listing.
    let mine = e.list_for(&ListQuery::new(), &me).unwrap();
    assert_eq!(phones(&mine.items[0].complaint)[0], PHONE);
    // Staff list every complaint, contacts masked.
    let all = e.list_for(&ListQuery::new(), &testing::agent()).unwrap();
    assert_eq!(all.items.len(), 3);
    assert!(all.items.iter().all(|v| !v.sight.contacts));
    assert_eq!(e.count(&ListQuery::new()).unwrap(), 3);
    assert_eq!(
        e.count_for(&ListQuery::new(), &testing::agent()).unwrap(),
        3
    );
}

#[test]
fn a_list_query_reads_from_partial_json_and_a_page_serializes() {
    let q: ListQuery = serde_json::from_str(r#"{"complainant": "cust-1"}"#).unwrap();
    assert_eq!(
        q,
        ListQuery::new().complainant(ActorId::new("cust-1").unwrap())
    );
    let q: ListQuery = serde_json::from_str(
        r#"{"stage": "investigating", "responsible": "hub", "received_from": "2026-11-16T09:00:00Z",
            "received_before": "2026-11-17T09:00:00Z", "due_before": "2026-11-18T09:00:00Z",
            "breached": false, "limit": 0}"#,
    )
    .unwrap();
    let want = ListQuery::new()
        .stage(StageKind::Investigating)
        .responsible(DepartmentKey::new("hub").unwrap())
        .received(testing::t(0), testing::t(24))
        .due_before(testing::t(48))
        .breached(false)
        .limit(1);
    assert_eq!(q, want);
    let q: ListQuery = serde_json::from_str(r#"{"limit": 18446744073709551615}"#).unwrap();
    assert_eq!(q.limit, ListQuery::MAX_LIMIT);
    assert!(serde_json::from_str::<ListQuery>(r#"{"stage": "nowhere"}"#).is_err());
    // And back: what a client sends is what the service reads.
    let back: ListQuery = serde_json::from_value(serde_json::to_value(&want).unwrap()).unwrap();
    assert_eq!(back, want);

    let e = engine();
    handled(&e, &cid("C-1"), "general");
    let page = serde_json::to_value(e.list(&ListQuery::new()).unwrap()).unwrap();
    assert_eq!(page["items"][0]["id"], "C-1");
    assert_eq!(page["next"], serde_json::Value::Null);
}

#[test]
fn the_view_of_a_commands_result_is_the_complaint_as_that_command_left_it() {
    let e = engine();
    let id = cid("C-1");
    let agent = testing::agent();
    let receive = Command::Receive(Arc::new(testing::intake(testing::t(0))));
    let left = e
        .execute(CommandId::new("r-1").unwrap(), &id, receive, &agent)
        .unwrap();
    let (as_staff, as_owner) = (
        e.view(&id, &agent).unwrap(),
        e.view(&id, &testing::customer()).unwrap(),
    );
    run(&e, &id, "r-2", Command::Acknowledge, &agent);
    assert!(e.get(&id).unwrap().unwrap().version > left.version);
    // Later commands do not show: each actor sees the state the command left, as they did then.
    assert_eq!(e.view_of(Arc::clone(&left), &agent).unwrap(), as_staff);
    assert_eq!(
        e.view_of(Arc::clone(&left), &testing::customer()).unwrap(),
        as_owner
    );
    assert!(is_not_found(e.view_of(left, &testing::stranger())));
}
